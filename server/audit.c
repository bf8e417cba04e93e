/* audit.c — the audit log: every change, token creation, revocation and expiry, use outside a scope
 * and run started through the API, appended (never edited through the API) with who, from where,
 * what and the change itself; each entry chained to the one before by SHA-256 over its canonical
 * form, so that an edited, removed or inserted row in the store is found by `audit verify`. The
 * /v1/audit routes. */
#define _GNU_SOURCE
#include "server.h"
#include "db.h"
#include "package.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

static const char *col(FlowDbStmt *q, int i) {
    const char *s = flow_db_column_text(q, i);
    return s ? s : "";
}

/* the hash of an entry: SHA-256 of prev + "\n" + the JSON array of its fields */
static void entry_hash(int64_t seq, int64_t at, const char *token, const char *token_name, const char *addr, const char *action,
                       const char *kind, const char *resource, const char *detail, const char *prev, char out[65]) {
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, flow_json_int(seq));
    cJSON_AddItemToArray(a, flow_json_int(at));
    const char *f[] = { token, token_name, addr, action, kind, resource, detail };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) cJSON_AddItemToArray(a, cJSON_CreateString(f[i]));
    char *t = flow_json_print(a);
    cJSON_Delete(a);
    size_t pl = strlen(prev), tl = strlen(t);
    char *buf = flow_xcalloc(1, pl + tl + 2);
    memcpy(buf, prev, pl);
    buf[pl] = '\n';
    memcpy(buf + pl + 1, t, tl + 1);
    pkg_sha256_hex(buf, pl + 1 + tl, out);
    free(buf);
    cJSON_free(t);
}

int audit_append(SrvStore *st, int locked, const SrvCaller *c, const char *addr, const char *action, SrvKind kind, const char *resource,
                 cJSON *detail) {
    if (!detail) detail = cJSON_CreateObject();
    char *dt = flow_json_print(detail);
    cJSON_Delete(detail);
    if (!locked) store_lock(st);
    FlowDb *db = store_db(st);
    /* the append is a write transaction (its own, or the caller's): the store's write lock, taken by
     * every server on a shared store, makes appends take turns, so two never chain to one entry */
    int own_tx = !flow_db_in_transaction(db);
    int rc = -1;
    if (own_tx && store_begin(st)) goto out;
    int64_t seq = 1;
    char prev[65];
    snprintf(prev, sizeof prev, "%s", zero_hash);
    FlowDbStmt *q = flow_db_prepare(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    int r = q ? flow_db_step(q) : -1;
    if (r == FLOW_DB_ROW) {
        seq = flow_db_column_int64(q, 0) + 1;
        snprintf(prev, sizeof prev, "%s", col(q, 1));
    }
    flow_db_finalize(q);
    if (r < 0) goto fail;
    int64_t at = flow_wall_ms();
    const char *tid = c ? c->id : "", *tname = c ? (c->id[0] ? c->name : "system") : "system";
    const char *ks = srv_kind_names[kind];
    char h[65];
    entry_hash(seq, at, tid, tname, addr ? addr : "", action, ks, resource ? resource : "", dt, prev, h);
    q = flow_db_prepare(db, "INSERT INTO audit(seq, at, token, token_name, addr, action, kind, resource, detail, prev, hash)"
                       " VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    if (q) {
        flow_db_bind_int64(q, 1, seq);
        flow_db_bind_int64(q, 2, at);
        flow_db_bind_text(q, 3, tid);
        flow_db_bind_text(q, 4, tname);
        flow_db_bind_text(q, 5, addr ? addr : "");
        flow_db_bind_text(q, 6, action);
        flow_db_bind_text(q, 7, ks);
        flow_db_bind_text(q, 8, resource ? resource : "");
        flow_db_bind_text(q, 9, dt);
        flow_db_bind_text(q, 10, prev);
        flow_db_bind_text(q, 11, h);
    }
    if (flow_db_run(q) == 0) rc = 0;
fail:
    if (own_tx) {
        if (rc == 0 && store_commit(st)) rc = -1;
        if (rc) store_rollback(st);
    }
out:
    if (!locked) store_unlock(st);
    cJSON_free(dt);
    return rc;
}

long audit_verify(SrvStore *st, char *why, size_t cap) {
    store_lock(st);
    long bad = 0, n = 0;
    char prev[65];
    snprintf(prev, sizeof prev, "%s", zero_hash);
    int64_t want = 1;
    FlowDbStmt *q = flow_db_prepare(store_db(st), "SELECT seq, at, token, token_name, addr, action, kind, resource, detail, prev, hash FROM audit ORDER BY seq");
    int rc = q ? FLOW_DB_ROW : -1;
    while (!bad && rc == FLOW_DB_ROW && (rc = flow_db_step(q)) == FLOW_DB_ROW) {
        int64_t seq = flow_db_column_int64(q, 0);
        char h[65];
        if (seq != want) {
            snprintf(why, cap, "entry %lld is missing (the next is %lld): a row was removed", (long long)want, (long long)seq);
            bad = (long)want;
            break;
        }
        if (strcmp(col(q, 9), prev) != 0) {
            snprintf(why, cap, "entry %lld does not follow entry %lld: its link to the entry before was changed", (long long)seq, (long long)seq - 1);
            bad = (long)seq;
            break;
        }
        entry_hash(seq, flow_db_column_int64(q, 1), col(q, 2), col(q, 3), col(q, 4), col(q, 5), col(q, 6), col(q, 7), col(q, 8), prev, h);
        if (strcmp(h, col(q, 10)) != 0) {
            snprintf(why, cap, "entry %lld was changed: its fields no longer give its hash", (long long)seq);
            bad = (long)seq;
            break;
        }
        snprintf(prev, sizeof prev, "%s", h);
        want++;
        n++;
    }
    flow_db_finalize(q);
    if (!bad && rc < 0) {
        snprintf(why, cap, "cannot read the audit log: %s", flow_db_error(store_db(st)));
        store_unlock(st);
        return -1;
    }
    store_unlock(st);
    if (!bad) snprintf(why, cap, "%ld entries, the chain is intact", n);
    return bad;
}

/* ---- routes ---- */

static cJSON *entry_json(FlowDbStmt *q) {
    cJSON *o = cJSON_CreateObject();
    char id[24], iso[32];
    int64_t seq = flow_db_column_int64(q, 0);
    snprintf(id, sizeof id, "%012lld", (long long)seq);   /* padded: ids sort as the entries do */
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddItemToObject(o, "seq", flow_json_int(seq));
    store_iso(flow_db_column_int64(q, 1), iso);
    cJSON_AddStringToObject(o, "at", iso);
    cJSON *who = cJSON_AddObjectToObject(o, "who");
    if (col(q, 2)[0]) cJSON_AddStringToObject(who, "token", col(q, 2));
    else cJSON_AddNullToObject(who, "token");
    cJSON_AddStringToObject(who, "name", col(q, 3));
    cJSON_AddStringToObject(o, "address", col(q, 4));
    cJSON_AddStringToObject(o, "action", col(q, 5));
    cJSON_AddStringToObject(o, "kind", col(q, 6));
    cJSON_AddStringToObject(o, "resource", col(q, 7));
    cJSON *d = cJSON_Parse(col(q, 8));
    cJSON_AddItemToObject(o, "detail", d ? d : cJSON_CreateObject());
    cJSON_AddStringToObject(o, "hash", col(q, 10));
    return o;
}

/* ?from=&to= (ISO-8601) and, when resource is NULL, ?resource= (the id, or an integration or flow
 * whose resources are wanted too) */
static void audit_query(Srv *s, const SrvReq *rq, SrvResp *out, const char *resource) {
    char from[64], to[64], res[256];
    int64_t f = 0, t = INT64_MAX;
    int qf = srv_query(rq, "from", from, sizeof from), qt = srv_query(rq, "to", to, sizeof to);
    if (qf < 0 || (qf > 0 && !flow_parse_iso8601(from, strlen(from), &f))) {
        srv_error(out, 400, "invalid_parameter", "from", "from takes an ISO-8601 date-time (percent-encoded: + as %%2B)");
        return;
    }
    if (qt < 0 || (qt > 0 && !flow_parse_iso8601(to, strlen(to), &t))) {
        srv_error(out, 400, "invalid_parameter", "to", "to takes an ISO-8601 date-time (percent-encoded: + as %%2B)");
        return;
    }
    if (!resource) {
        int qr = srv_query(rq, "resource", res, sizeof res);
        if (qr < 0) { srv_error(out, 400, "invalid_parameter", "resource", "resource is not a percent-encoded id"); return; }
        if (qr > 0 && res[0]) resource = res;
    }
    SrvStore *st = srv_store(s);
    cJSON *a = cJSON_CreateArray();
    store_lock(st);
    FlowDbStmt *q = flow_db_prepare(store_db(st), "SELECT seq, at, token, token_name, addr, action, kind, resource, detail, prev, hash FROM audit"
                                         " WHERE at >= ?1 AND at <= ?2 AND (?3 IS NULL OR resource = ?3 OR substr(resource, 1, length(?3) + 1) = ?3 || '.')"
                                         " ORDER BY seq");
    if (q) {
        flow_db_bind_int64(q, 1, f);
        flow_db_bind_int64(q, 2, t);
        flow_db_bind_text(q, 3, resource);
        while (flow_db_step(q) == FLOW_DB_ROW) cJSON_AddItemToArray(a, entry_json(q));
    }
    flow_db_finalize(q);
    store_unlock(st);
    srv_page(rq, out, a);
}

void aud_list(Srv *s, const SrvReq *rq, SrvResp *out) { audit_query(s, rq, out, NULL); }
void aud_integration(Srv *s, const SrvReq *rq, SrvResp *out) { audit_query(s, rq, out, rq->params[0]); }
void aud_flow(Srv *s, const SrvReq *rq, SrvResp *out) { audit_query(s, rq, out, rq->params[0]); }
void aud_export(Srv *s, const SrvReq *rq, SrvResp *out) { audit_query(s, rq, out, rq->params[0]); }
void aud_import(Srv *s, const SrvReq *rq, SrvResp *out) { audit_query(s, rq, out, rq->params[0]); }
