/* step_errors.c — the errors routes over each integration's state store (the one the runs write:
 * DIR/state/<integration>.state.db, or on a PostgreSQL store the integration's schema there, which
 * every server's runs share: srv_state_open, kept open between requests): GET /v1/flows/{flow}/{step}/errors (open ones; filters class,
 * occurred_after, occurred_before; paged by id), GET .../resolved, PUT .../resolved {"errors": [ids]},
 * POST .../retry {"errors": [ids]} (none: every open one of the step) — a retry job, as a run is —,
 * GET /v1/exports/{id}/errors. */
#include "runs.h"
#include "ir.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *jstr(const cJSON *o, const char *k) { return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k)); }

/* the integration's state store (srv_state_open); NULL with *none when it has none yet (no run made
 * it), or a 500 */
static FlowState *state_of(Srv *s, const char *integ, int read_only, int *none, SrvResp *out) {
    FlowErr e;
    FlowState *st = srv_state_open(runs_jobs(s), integ, read_only, none, &e);
    if (!st && !*none) srv_error(out, 500, "internal", NULL, "%s", e.msg);
    return st;
}

/* an error entry as the API shows it: id as a string, occurred_at */
static cJSON *entry(cJSON *e) {
    cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    char buf[32];
    snprintf(buf, sizeof buf, "%.0f", cJSON_GetNumberValue(id));
    cJSON_ReplaceItemInObjectCaseSensitive(e, "id", cJSON_CreateString(buf));
    cJSON *at = cJSON_DetachItemFromObjectCaseSensitive(e, "at");
    if (at) cJSON_AddItemToObject(e, "occurred_at", at);
    return e;
}

static int class_ok(const char *c) {
    for (int i = 0; i < FLOW_ERR_COUNT; i++) if (flow_error_class_names[i] && strcmp(flow_error_class_names[i], c) == 0) return 1;
    return 0;
}

static void list(Srv *s, const SrvReq *rq, SrvResp *out, const RunsTarget *t, int resolved) {
    char cls[64] = "", after_t[80] = "", before_t[80] = "";
    int limit;
    long after;
    if (runs_page(rq, out, &limit, &after)) return;
    if (srv_query(rq, "class", cls, sizeof cls) < 0 || (cls[0] && !class_ok(cls))) {
        FlowSb b = { NULL, 0, 0 };
        for (int i = 0; i < FLOW_ERR_COUNT; i++) { if (i) flow_sb_puts(&b, ", "); flow_sb_puts(&b, flow_error_class_names[i]); }
        srv_error(out, 400, "invalid_parameter", "class", "class takes one of %s", b.p ? b.p : "");
        free(b.p);
        return;
    }
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    if (srv_query(rq, "occurred_after", after_t, sizeof after_t) < 0 || (after_t[0] && !flow_parse_iso8601(after_t, strlen(after_t), &lo))) {
        srv_error(out, 400, "invalid_parameter", "occurred_after", "occurred_after takes an ISO-8601 date-time");
        return;
    }
    if (srv_query(rq, "occurred_before", before_t, sizeof before_t) < 0 || (before_t[0] && !flow_parse_iso8601(before_t, strlen(before_t), &hi))) {
        srv_error(out, 400, "invalid_parameter", "occurred_before", "occurred_before takes an ISO-8601 date-time");
        return;
    }
    int none;
    FlowState *st = state_of(s, t->integ, 1, &none, out);
    if (!st && !none) return;
    FlowErr e;
    /* (one more than a page: runs_page_answer's sign of a next one) */
    FlowErrorQuery f = { .flow = t->flow, .cls = cls[0] ? cls : NULL, .step = t->step, .open_only = !resolved, .resolved_only = resolved,
                         .after_id = after, .at_lo = after_t[0] ? &lo : NULL, .at_hi = before_t[0] ? &hi : NULL, .limit = limit + 1L };
    cJSON *page = st ? flow_state_errors_where(st, &f, &e) : cJSON_CreateArray();
    srv_state_done(runs_jobs(s), st, page != NULL);
    if (!page) { srv_error(out, 500, "internal", NULL, "%s", e.msg); return; }
    for (cJSON *x = page->child; x; x = x->next) entry(x);
    runs_page_answer(rq, out, page, limit);
}

void errs_list(Srv *s, const SrvReq *rq, SrvResp *out) {
    RunsTarget t;
    if (runs_target(s, rq->params[0], -1, rq->params[1], &t, out)) return;
    list(s, rq, out, &t, 0);
    runs_target_free(&t);
}

void errs_resolved(Srv *s, const SrvReq *rq, SrvResp *out) {
    RunsTarget t;
    if (runs_target(s, rq->params[0], -1, rq->params[1], &t, out)) return;
    list(s, rq, out, &t, 1);
    runs_target_free(&t);
}

void errs_export(Srv *s, const SrvReq *rq, SrvResp *out) {
    RunsTarget t;
    if (runs_target(s, rq->params[0], STEP_EXPORT, NULL, &t, out)) return;
    list(s, rq, out, &t, 0);
    runs_target_free(&t);
}

/* {"errors": [ids]} (numbers or numeric strings): how many into ids (malloc'd), 0 for none or no
 * body when none_ok, or -1 with a 400 in out */
static int body_ids(const SrvReq *rq, SrvResp *out, int none_ok, long **ids) {
    *ids = NULL;
    if (!rq->nbody && none_ok) return 0;
    cJSON *b = NULL;
    if (srv_body_json(rq, out, 0, &b)) return -1;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(b, "errors");
    for (const cJSON *x = b->child; x; x = x->next)
        if (strcmp(x->string, "errors") != 0) {
            srv_error(out, 400, "invalid_field", x->string, "the body takes {\"errors\": [ids]}, not `%s`", x->string);
            cJSON_Delete(b);
            return -1;
        }
    if (!arr && none_ok) { cJSON_Delete(b); return 0; }
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || (!n && !none_ok) || n > 10000) {
        srv_error(out, 400, "invalid_field", "errors", "errors takes an array of 1 to 10000 error ids");
        cJSON_Delete(b);
        return -1;
    }
    *ids = calloc((size_t)n + 1, sizeof **ids);
    if (!*ids) abort();
    int k = 0;
    for (const cJSON *x = arr->child; x; x = x->next, k++) {
        char *end = NULL;
        double v = cJSON_IsNumber(x) ? x->valuedouble : cJSON_IsString(x) ? strtod(x->valuestring, &end) : -1;
        if (v < 1 || v != (double)(long)v || (end && *end)) {
            srv_error(out, 400, "invalid_field", "errors", "errors[%d] is not an error id", k);
            free(*ids);
            *ids = NULL;
            cJSON_Delete(b);
            return -1;
        }
        (*ids)[k] = (long)v;
    }
    cJSON_Delete(b);
    return n;
}

/* every id is an open error of the target's flow and step: 0, or 1 with a 400 naming the others, or
 * -1 with a 500 (the store failed) */
static int ids_open_here(FlowState *st, const RunsTarget *t, const long *ids, int n, SrvResp *out) {
    FlowErr e;
    cJSON *found = flow_state_errors(st, t->flow, NULL, t->step, ids, n, 1, &e);
    if (!found) { srv_error(out, 500, "internal", NULL, "%s", e.msg); return -1; }
    for (int i = 0; i < n; i++) {
        int hit = 0;
        for (const cJSON *x = found->child; x && !hit; x = x->next) hit = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "id")) == ids[i];
        if (!hit) {
            srv_error(out, 400, "invalid_field", "errors", "%ld is not an open error of %s step %s", ids[i], t->id, t->step);
            cJSON_Delete(found);
            return 1;
        }
    }
    cJSON_Delete(found);
    return 0;
}

static cJSON *ids_json(const long *ids, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", ids[i]);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    }
    return a;
}

void errs_resolve(Srv *s, const SrvReq *rq, SrvResp *out) {
    long *ids = NULL;
    int n = body_ids(rq, out, 0, &ids);
    if (n < 0) return;
    RunsTarget t;
    if (runs_target(s, rq->params[0], -1, rq->params[1], &t, out)) { free(ids); return; }
    int none, bad = 0;
    FlowState *st = state_of(s, t.integ, 0, &none, out);
    if (none) srv_error(out, 400, "invalid_field", "errors", "%ld is not an open error of %s step %s", ids[0], t.id, t.step);
    else if (st && !(bad = ids_open_here(st, &t, ids, n, out))) {
        char by[200];
        snprintf(by, sizeof by, "api %.40s (%.120s)", rq->caller->id, rq->caller->name);
        int64_t now = flow_wall_ms();
        FlowErr e;
        for (int i = 0; i < n && !bad; i++) bad = flow_state_error_resolve(st, ids[i], by, now, &e) < 0 ? -1 : 0;
        if (bad) srv_error(out, 500, "internal", NULL, "%s", e.msg);
        else {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "step", t.step);
            cJSON_AddItemToObject(d, "errors", ids_json(ids, n));
            audit_append(srv_store(s), 0, rq->caller, rq->addr, "errors.resolve", SRV_K_FLOW, t.id, d);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "resolved", ids_json(ids, n));
            srv_json(out, 200, o);
        }
    }
    srv_state_done(runs_jobs(s), st, bad >= 0);
    free(ids);
    runs_target_free(&t);
}

void errs_retry(Srv *s, const SrvReq *rq, SrvResp *out) {
    long *ids = NULL;
    int n = body_ids(rq, out, 1, &ids);
    if (n < 0) return;
    RunsTarget t;
    if (runs_target(s, rq->params[0], -1, rq->params[1], &t, out)) { free(ids); return; }
    int none = 0, ok = 1;
    if (n) {
        FlowState *st = state_of(s, t.integ, 1, &none, out);
        if (none) { srv_error(out, 400, "invalid_field", "errors", "%ld is not an open error of %s step %s", ids[0], t.id, t.step); ok = 0; }
        int r = st ? ids_open_here(st, &t, ids, n, out) : -1;
        if (!none) ok = r == 0;
        srv_state_done(runs_jobs(s), st, r >= 0);
    }
    if (ok) {
        SrvJobReq jr = { .integration = t.integ, .flow = t.flow, .kind = "retry", .step = t.step, .ids = ids, .nids = n, .source = t.text,
                         .source_len = t.len, .token_id = rq->caller->id, .token_name = rq->caller->name };
        int code = 500;
        char why[1200];
        cJSON *job = srv_job_create(runs_jobs(s), &jr, &code, why, sizeof why);
        if (!job) srv_error(out, code, "internal", NULL, "%s", why);
        else {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "job", jstr(job, "id"));
            cJSON_AddStringToObject(d, "step", t.step);
            if (n) cJSON_AddItemToObject(d, "errors", ids_json(ids, n));
            else cJSON_AddStringToObject(d, "errors", "all");
            audit_append(srv_store(s), 0, rq->caller, rq->addr, "retry", SRV_K_FLOW, t.id, d);
            srv_json(out, 201, job);
        }
    }
    free(ids);
    runs_target_free(&t);
}
