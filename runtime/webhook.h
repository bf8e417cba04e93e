/* webhook.h — the webhook triggers of a program, as serve's listener (listen.c) calls them: routing
 * a path to its flow, verifying, parsing and durably queueing a request, and the queue's depth.
 * (The contract between serve and the webhook side of issue 11; serve calls only this.) */
#ifndef FLOW_WEBHOOK_H
#define FLOW_WEBHOOK_H
#include "engine.h"

/* A request as the listener hands it over: the whole body has been read (at most
 * FLOW_WEBHOOK_MAX_BODY bytes; the listener answers 413 itself beyond that). */
typedef struct FlowHttpReq {
    const char *method;                 /* "POST", ... */
    const char *path;                   /* without the query, not decoded */
    const char *query;                  /* the raw query string, or NULL */
    const char *(*header)(void *ctx, const char *name);   /* case-insensitive; NULL when absent */
    void *header_ctx;
    const char *body; size_t body_len;
    const char *remote_addr;            /* "127.0.0.1" */
} FlowHttpReq;
typedef struct FlowHttpResp {
    int status;                         /* 200, 204, 400, 401, 404, 405, 413, 500, 503 */
    char *body; size_t body_len;        /* malloc'd or NULL; the listener frees it */
    const char *content_type;           /* static string, or NULL */
} FlowHttpResp;
#define FLOW_WEBHOOK_MAX_BODY ((size_t)5 * 1024 * 1024)

typedef struct FlowWebhooks FlowWebhooks;
/* The webhook triggers of a program (flows with trigger = webhook(...)); their params and env()
 * evaluated once; secret_url secrets read or created in the state store. NULL with err. */
FlowWebhooks *flow_webhooks_open(const FlowProgram *p, FlowCtx *cx, FlowState *st, FlowErr *err);
void          flow_webhooks_close(FlowWebhooks *w);
/* Is this path one of ours: -1 when not, else the flow's index (handle() answers 405 for a wrong
 * method itself). */
int           flow_webhooks_route(const FlowWebhooks *w, const char *path);
/* Verifies, parses, durably enqueues (committed before it returns) and fills the answer. Returns
 * the index of the flow that now has work queued (serve wakes its worker), or -1 (nothing queued:
 * refused, a redelivery, a challenge). Thread-safe. Never logs the body. */
int           flow_webhooks_handle(FlowWebhooks *w, const FlowHttpReq *rq, FlowHttpResp *resp);
/* How many events are queued and not yet processed for flow fi (the queue-depth gauge; at start a
 * flow with queued events runs at once). */
long          flow_webhooks_pending(FlowWebhooks *w, int fi);

#endif
