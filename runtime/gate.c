/* gate.c — `OUT gate`: a built integration as `flowc server` uses it between runs. The server runs
 * every flow as a job of its own (a child `OUT run FLOW`), so it needs from the program only what
 * serve's scheduler and listener take from it: each flow's schedule (flow_flow_sched_json, evaluated
 * with the params and env() of this process) and its webhook trigger (webhook.c: verification, the
 * body's records and the durable queue in the state store, exactly as `serve` does it). The gate
 * writes one line of JSON on its standard output first:
 *   {"integration", "flows": [{"name", "sched": {"schedule", "catch_up"}, "catch_up_due", "webhook", "pending"}], "webhooks": N}
 * ("webhook": the trigger as `describe` shows it, secrets redacted, and for secret_url() "secret_url":
 * its path with the secret, as `describe --show-secrets` shows it; "pending": events queued and not
 * yet run; "catch_up_due": a catch_up flow whose fire came while nothing ran it), or {"error": why}.
 * Without webhook triggers it ends there. Otherwise it answers requests, one at a time, from its
 * standard input: a line {"method","path","query","addr","headers":{...},"body":N,"disabled":[flows]}
 * and N bytes of body, answered by a line {"status","content_type","flow","body":N} and N bytes;
 * "flow" names the flow that now has work queued (the server starts its job), else null. A request
 * for a disabled flow is refused (503) before anything is verified or queued. It ends at the end of
 * its input. */
#define _GNU_SOURCE
#include "serve.h"
#include "cron.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GATE_LINE_MAX ((size_t)1 << 20)   /* a request's line: its headers */

/* writes obj (taken) as one line, then n bytes of body: 0, or -1 when the server is gone */
static int put_line(FILE *out, cJSON *obj, const char *body, size_t n) {
    char *t = flow_json_print(obj);
    cJSON_Delete(obj);
    int rc = t && fputs(t, out) >= 0 && fputc('\n', out) != EOF && (!n || fwrite(body, 1, n, out) == n) && fflush(out) == 0 ? 0 : -1;
    cJSON_free(t);
    return rc;
}

/* whether catch_up flow fi missed a fire while nothing ran it (serve's rule at its start) */
static int catch_up_due(FlowState *st, const char *flow, const FlowFlowSched *sc) {
    if (sc->kind != FLOW_SCHED_TIMED || !sc->catch_up) return 0;
    int64_t a, b;
    int have = 0;
    FlowErr e;
    if (flow_state_last_ok_run(st, flow, &a, &b, &have, &e)) return 0;
    if (!have) return 1;
    int64_t next = flow_sched_next(sc->sched, a);
    return next >= 0 && next <= flow_wall_ms();
}

static cJSON *hello(const FlowProgram *p, FlowCtx *cx, FlowState *st, FlowWebhooks *wh, FlowErr *err) {
    cJSON *o = cJSON_CreateObject(), *flows = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "integration", p->name ? p->name : "");
    cJSON_AddItemToObject(o, "flows", flows);
    for (int fi = 0; fi < p->nflows; fi++) {
        FlowFlowSched sc;
        if (flow_flow_sched(p, cx, fi, &sc, err)) { cJSON_Delete(o); return NULL; }
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", p->flows[fi].name);
        cJSON *sj = flow_flow_sched_json(p, cx, fi, err);
        if (!sj) { flow_sched_free(sc.sched); cJSON_Delete(f); cJSON_Delete(o); return NULL; }
        cJSON_AddItemToObject(f, "sched", sj);
        cJSON_AddBoolToObject(f, "catch_up_due", catch_up_due(st, p->flows[fi].name, &sc));
        flow_sched_free(sc.sched);
        cJSON *w = flow_webhook_describe(p, cx, fi, st, 0);
        cJSON_AddItemToObject(f, "webhook", w ? w : cJSON_CreateNull());
        const char *vc = w ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(w, "verify"), "ctor")) : NULL;
        if (vc && strcmp(vc, "secret_url") == 0) {   /* the URL with its secret, which flowc made: shown to full tokens who ask */
            cJSON *full = flow_webhook_describe(p, cx, fi, st, 1);
            const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(full, "url"));
            if (u) cJSON_AddStringToObject(f, "secret_url", u);
            cJSON_Delete(full);
        }
        cJSON_AddNumberToObject(f, "pending", w ? (double)flow_webhooks_pending(wh, fi) : 0);
        cJSON_AddItemToArray(flows, f);
    }
    cJSON_AddNumberToObject(o, "webhooks", flow_webhooks_count(wh));
    return o;
}

static const char *header_of(void *ctx, const char *name) {
    for (const cJSON *h = ((const cJSON *)ctx)->child; h; h = h->next)
        if (h->string && cJSON_IsString(h) && strcasecmp(h->string, name) == 0) return h->valuestring;
    return NULL;
}

static int listed(const cJSON *arr, const char *name) {
    for (const cJSON *x = cJSON_IsArray(arr) ? arr->child : NULL; x; x = x->next)
        if (cJSON_IsString(x) && strcmp(x->valuestring, name) == 0) return 1;
    return 0;
}

/* one request from in, answered on out: 1 answered, 0 at the end of the input, -1 broken input */
static int serve_one(const FlowProgram *p, FlowWebhooks *wh, FILE *in, FILE *out, FlowErr *err) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, in);
    if (n <= 0) { free(line); return 0; }
    if ((size_t)n > GATE_LINE_MAX) { free(line); flow_err_set(err, FLOW_ERR_VALUE, "a request line over 1 MB"); return -1; }
    cJSON *rq = flow_json_parse(line, (size_t)n, NULL);
    free(line);
    const cJSON *bn = cJSON_GetObjectItemCaseSensitive(rq, "body");
    cJSON *hd = cJSON_GetObjectItemCaseSensitive(rq, "headers");
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "method"));
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "path"));
    int64_t blen = 0;
    if (!cJSON_IsObject(rq) || !method || !path || !cJSON_IsObject(hd) || !flow_json_get_int(bn, &blen) || blen < 0 ||
        (size_t)blen > FLOW_WEBHOOK_MAX_BODY) {
        cJSON_Delete(rq);
        flow_err_set(err, FLOW_ERR_VALUE, "a malformed request line");
        return -1;
    }
    char *body = flow_xcalloc(1, (size_t)blen + 1);
    if (blen && fread(body, 1, (size_t)blen, in) != (size_t)blen) {
        free(body);
        cJSON_Delete(rq);
        flow_err_set(err, FLOW_ERR_VALUE, "a request's body ended early");
        return -1;
    }
    FlowHttpResp resp = { 0, NULL, 0, NULL };
    const char *queued = NULL;
    int fi = flow_webhooks_route(wh, path);
    if (fi < 0) {
        resp.status = 404;
    } else if (listed(cJSON_GetObjectItemCaseSensitive(rq, "disabled"), p->flows[fi].name)) {
        cJSON *e = cJSON_CreateObject();
        char msg[400];
        snprintf(msg, sizeof msg, "flow %s is disabled: its webhook takes no requests until it is enabled", p->flows[fi].name);
        cJSON_AddStringToObject(e, "error", msg);
        char *t = flow_json_print(e);
        resp.body = flow_xstrdup(t ? t : "{}");
        resp.body_len = strlen(resp.body);
        cJSON_free(t);
        resp.content_type = "application/json";
        resp.status = 503;
        cJSON_Delete(e);
    } else {
        FlowHttpReq hr = { method, path, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "query")), header_of, hd, body, (size_t)blen,
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "addr")) };
        int q = flow_webhooks_handle(wh, &hr, &resp);
        if (q >= 0 && q < p->nflows) queued = p->flows[q].name;
    }
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "status", resp.status);
    if (resp.content_type) cJSON_AddStringToObject(a, "content_type", resp.content_type);
    else cJSON_AddNullToObject(a, "content_type");
    if (queued) cJSON_AddStringToObject(a, "flow", queued);
    else cJSON_AddNullToObject(a, "flow");
    cJSON_AddNumberToObject(a, "body", (double)resp.body_len);
    int rc = put_line(out, a, resp.body, resp.body_len);
    free(resp.body);
    free(body);
    cJSON_Delete(rq);
    if (rc) { flow_err_set(err, FLOW_ERR_VALUE, "the server is gone"); return -1; }
    return 1;
}

int flow_gate(const FlowProgram *p, FlowCtx *cx, const char *state_db, const char *state_dir, FILE *in, FILE *out, FlowErr *err) {
    FlowState *st = flow_state_open_at(state_db, state_dir, p->name, 0, err);
    FlowWebhooks *wh = st ? flow_webhooks_open(p, cx, st, err) : NULL;
    cJSON *h = wh ? hello(p, cx, st, wh, err) : NULL;
    int rc = -1;
    if (!h) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "error", err->msg);
        put_line(out, e, NULL, 0);
    } else if (put_line(out, h, NULL, 0) == 0) {
        rc = 0;
        if (flow_webhooks_count(wh) > 0) {
            int r;
            while ((r = serve_one(p, wh, in, out, err)) > 0) {}
            if (r < 0) rc = -1;
        }
    }
    flow_webhooks_close(wh);
    flow_state_close(st);
    return rc;
}
