/* tests/webhook/driver.c — hands one request to flow_webhooks_handle, as the listener does, for a
 * flow compiled from a .flow file: `flowc emit-c F.flow > F.c` and `cc -Dmain=flow_generated_main
 * F.c driver.c libflowrt.a ...` give a program whose flow_program is that flow's table. Prints the
 * answer (`status N`, `type T`, then the body) and the flow index queued for (`queued N`, -1 none).
 *
 *   driver [--state DIR] [--kill] [--pending] METHOD PATH[?QUERY] [-H 'Name: value']... [--body FILE]
 *
 * --kill: SIGKILL itself right after handle() returned (a crash just after the answer was sent);
 * --pending: print each webhook flow's queued events (`pending FLOW N`) instead of a request. */
#include "flow.h"
#include "engine.h"
#include "webhook.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const FlowProgram flow_program;

typedef struct Headers { const char *name[64]; const char *value[64]; int n; } Headers;

static const char *get_header(void *ctx, const char *name) {
    const Headers *h = ctx;
    for (int i = 0; i < h->n; i++) if (strcasecmp(h->name[i], name) == 0) return h->value[i];
    return NULL;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    FlowSb b = { 0 };
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) flow_sb_put(&b, buf, got);
    fclose(f);
    *n = b.n;
    return b.p ? b.p : flow_xstrdup("");
}

int main(int argc, char **argv) {
    const char *state = ".flowstate", *method = NULL, *target = NULL, *body_file = NULL;
    int kill_after = 0, pending = 0;
    Headers hs = { .n = 0 };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) state = argv[++i];
        else if (strcmp(argv[i], "--kill") == 0) kill_after = 1;
        else if (strcmp(argv[i], "--pending") == 0) pending = 1;
        else if (strcmp(argv[i], "--body") == 0 && i + 1 < argc) body_file = argv[++i];
        else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc && hs.n < 64) {
            char *h = argv[++i], *colon = strchr(h, ':');
            if (!colon) { fprintf(stderr, "driver: -H 'Name: value'\n"); return 2; }
            *colon = 0;
            hs.name[hs.n] = h;
            hs.value[hs.n++] = colon + 1;
        } else if (!method) method = argv[i];
        else if (!target) target = argv[i];
        else { fprintf(stderr, "driver: unexpected %s\n", argv[i]); return 2; }
    }
    if (!pending && (!method || !target)) { fprintf(stderr, "usage: driver [--state DIR] METHOD PATH[?QUERY] [-H 'N: v']... [--body FILE]\n"); return 2; }
    FlowErr err;
    FlowState *st = flow_state_open(state, flow_program.name, 0, &err);
    if (!st) { fprintf(stderr, "driver: %s\n", err.msg); return 1; }
    FlowCtx *cx = flow_ctx_new();
    /* params as serve sets them: their defaults (the test flows' params are strings) */
    char **defaults = flow_xcalloc((size_t)flow_program.nparams + 1, sizeof *defaults);
    for (int i = 0; i < flow_program.nparams; i++) {
        defaults[i] = flow_param_default(&flow_program.params[i]);
        flow_ctx_set_param(cx, i, defaults[i] && flow_program.params[i].kind == FLOW_STRING ? flow_string(defaults[i], strlen(defaults[i])) : flow_null());
    }
    FlowWebhooks *w = flow_webhooks_open(&flow_program, cx, st, &err);
    if (!w) { fprintf(stderr, "driver: %s\n", err.msg); return 1; }
    int rc = 0;
    if (pending) {
        for (int i = 0; i < flow_program.nflows; i++)
            if (flow_webhooks_route(w, "/") != i) printf("pending %s %ld\n", flow_program.flows[i].name, flow_webhooks_pending(w, i));
    } else {
        char *path = flow_xstrdup(target), *q = strchr(path, '?');
        if (q) *q++ = 0;
        size_t blen = 0;
        char *body = body_file ? slurp(body_file, &blen) : NULL;
        FlowHttpReq rq = { method, path, q, get_header, &hs, body, blen, "127.0.0.1" };
        FlowHttpResp resp = { 0 };
        int routed = flow_webhooks_route(w, path);
        int fi = flow_webhooks_handle(w, &rq, &resp);
        if (kill_after) raise(SIGKILL);
        printf("route %d\nqueued %d\nstatus %d\ntype %s\n", routed, fi, resp.status, resp.content_type ? resp.content_type : "-");
        if (resp.body) fwrite(resp.body, 1, resp.body_len, stdout);
        free(resp.body);
        free(body);
        free(path);
    }
    flow_webhooks_close(w);
    flow_ctx_free(cx);
    flow_state_close(st);
    for (int i = 0; i < flow_program.nparams; i++) free(defaults[i]);
    free(defaults);
    return rc;
}
