/* webhook.h — what the HTTP listener (serve) calls for a webhook path: the webhook triggers of a
 * program (flows with trigger = webhook(...)), verification, body parsing, the durable queue and
 * redelivery detection (runtime/webhook.c). The listener owns the socket, reads the whole body (and
 * answers 413 itself beyond FLOW_WEBHOOK_MAX_BODY), counts requests by path and status for /metrics
 * and wakes a flow's worker when handle() queued work for it. Not included by generated code.
 * (The HTTP client's request is FlowHttpCall in http.h: the two never meet.) */
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
 * evaluated once (cx holds the params); secret_url secrets read or created in the state store. NULL
 * with err (a trigger that cannot be evaluated, two flows on one path, a store that cannot be
 * written). A program without webhook triggers gives an empty set that routes nothing. */
FlowWebhooks *flow_webhooks_open(const FlowProgram *p, FlowCtx *cx, FlowState *st, FlowErr *err);
void          flow_webhooks_close(FlowWebhooks *w);
/* -1 when the path is none of ours (the listener answers 404), else the flow's index. A secret_url
 * flow's path routes with any one segment after it (a wrong secret is answered 401 by handle()).
 * handle() answers 405 for a method other than POST. */
int           flow_webhooks_route(const FlowWebhooks *w, const char *path);
/* Verifies, parses, durably enqueues (committed, fsync'd, before it returns) and fills the answer.
 * Returns the index of the flow that now has work queued (serve wakes its worker), or -1 (nothing
 * queued: refused, a redelivery, a challenge). Thread-safe: one SQLite connection of its own;
 * requests that arrive while a transaction is written are committed together in the next one (one
 * fsync for the group), each answered once its group is on disk. Never logs or stores a refused
 * request's body, and never answers with a secret. */
int           flow_webhooks_handle(FlowWebhooks *w, const FlowHttpReq *rq, FlowHttpResp *resp);
/* How many events are queued and not yet processed for flow fi (serve's queue-depth gauge, and at
 * start: a flow with queued events runs at once, so events acknowledged before a kill -9 are
 * processed after the restart). -1 when the store cannot be read. */
long          flow_webhooks_pending(FlowWebhooks *w, int fi);
/* The number of webhook triggers (flows served on a path). */
int           flow_webhooks_count(const FlowWebhooks *w);
/* How many transactions (each one fsync) have queued requests so far: handle()'s queued requests
 * divided by this is the mean group size (for /metrics, if serve wants it, and the tests). */
long          flow_webhooks_commits(FlowWebhooks *w);

/* A webhook path as `serve` can serve it (the checker applies the same rule to constant paths):
 * starts with `/`; ASCII path characters (RFC 3986 pchar, %XX escapes); no query, fragment, empty
 * or dot segment; not /healthz, /metrics or /flows/... (serve's own). 0, or -1 with why. */
int flow_webhook_path_check(const char *path, char *why, size_t cap);

/* describe: flow fi's trigger as JSON: {"ctor":"webhook","path","method":"POST","verify":{...},
 * "status","challenge"?,"url"}, every secret argument "<redacted>"; "url" is the path a sender
 * posts to: for secret_url() the path with its secret when show_secrets and a state store are given
 * (the secret is created then if the store has none yet), else with "<redacted>" in its place.
 * NULL when the flow has no webhook trigger; a trigger that cannot be evaluated gives
 * "<error: ...>". A fresh tree. */
cJSON *flow_webhook_describe(const FlowProgram *p, FlowCtx *cx, int fi, FlowState *st, int show_secrets);

#endif
