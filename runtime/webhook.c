/* webhook.c — a stand-in until the webhook triggers land: routes no path, queues nothing. */
#include "webhook.h"
#include <stdlib.h>

struct FlowWebhooks { int unused; };

FlowWebhooks *flow_webhooks_open(const FlowProgram *p, FlowCtx *cx, FlowState *st, FlowErr *err) {
    (void)p; (void)cx; (void)st; (void)err;
    return flow_xcalloc(1, sizeof(FlowWebhooks));
}
void flow_webhooks_close(FlowWebhooks *w) { free(w); }
int flow_webhooks_route(const FlowWebhooks *w, const char *path) { (void)w; (void)path; return -1; }
int flow_webhooks_handle(FlowWebhooks *w, const FlowHttpReq *rq, FlowHttpResp *resp) {
    (void)w; (void)rq;
    resp->status = 404;
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = NULL;
    return -1;
}
long flow_webhooks_pending(FlowWebhooks *w, int fi) { (void)w; (void)fi; return 0; }
