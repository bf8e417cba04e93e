/* conn_debug.c — connection debug windows (conn_debug.h): POST /v1/connections/{id}/debug
 * {"minutes": N} opens (or, with 0, closes) a window in the store; each job a worker starts while a
 * window of its integration is open is told to record those connections' requests (the executable's
 * FLOW_DEBUG_CONNECTIONS and FLOW_DEBUG_FILE: the runtime writes them redacted, trace.c), and when
 * the run has ended its lines go into the store (conn_debug), at most SRV_DEBUG_MAX_ENTRIES per
 * connection, each at most SRV_DEBUG_MAX_BYTES; GET /v1/connections/{id}/debug lists them oldest
 * first, paged, with the window's end in a Flow-Debug-Until header. In the store, so every server on
 * a shared one answers for the runs of all. Secrets never reach it: the runtime redacts every line
 * (sensitive headers, secret settings, env() values) before it leaves the run. */
#define _GNU_SOURCE 1
#include "conn_debug.h"
#include "runs.h"
#include "ir.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int srv_debug_schema(FlowDb *db, char *why, size_t cap) {
    return flow_db_schema(db,
                     "CREATE TABLE IF NOT EXISTS conn_debug_windows (conn TEXT PRIMARY KEY, integration TEXT NOT NULL, name TEXT NOT NULL,"
                     "  started_ms BIGINT NOT NULL, until_ms BIGINT NOT NULL, token_id TEXT);"
                     "CREATE TABLE IF NOT EXISTS conn_debug (id {autoid}, conn TEXT NOT NULL, job TEXT, run_id TEXT, flow TEXT, step TEXT,"
                     "  at_ms BIGINT NOT NULL, exchange TEXT NOT NULL);"
                     "CREATE INDEX IF NOT EXISTS conn_debug_conn ON conn_debug (conn, id);",
                     "conn_debug", why, cap);
}

/* the store's clock (servers on several machines compare one clock), the local one if it cannot be read */
static long long now_ms(FlowDb *db) {
    int64_t t = flow_db_now_ms(db);
    return t > 0 ? (long long)t : flow_wall_ms();
}

int srv_debug_begin(FlowDb *db, const char *integ, const char *dir, const char *job, char *conns, size_t ccap, char *path, size_t pcap) {
    conns[0] = 0;
    FlowDbStmt *q = flow_db_prepare(db, "SELECT name FROM conn_debug_windows WHERE integration = ? AND until_ms > ? ORDER BY name");
    if (!q) return 0;
    flow_db_bind_text(q, 1, integ);
    flow_db_bind_int64(q, 2, now_ms(db));
    size_t n = 0;
    while (flow_db_step(q) == FLOW_DB_ROW) {
        const char *name = flow_db_column_text(q, 0);
        size_t l = name ? strlen(name) : 0;
        if (!l || n + l + 2 > ccap) continue;
        if (n) conns[n++] = ',';
        memcpy(conns + n, name, l);
        n += l;
        conns[n] = 0;
    }
    flow_db_finalize(q);
    if (!n) return 0;
    snprintf(path, pcap, "%s/.debug-%s.ndjson", dir, job);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) { conns[0] = 0; return 0; }
    close(fd);
    return 1;
}

/* drops the oldest entries of a connection beyond SRV_DEBUG_MAX_ENTRIES */
static void trim(FlowDb *db, const char *conn) {
    FlowDbStmt *q = flow_db_prepare(db, "SELECT id FROM conn_debug WHERE conn = ? ORDER BY id DESC LIMIT 1 OFFSET ?");
    if (!q) return;
    flow_db_bind_text(q, 1, conn);
    flow_db_bind_int64(q, 2, SRV_DEBUG_MAX_ENTRIES - 1);
    int64_t keep_from = flow_db_step(q) == FLOW_DB_ROW ? flow_db_column_int64(q, 0) : 0;
    flow_db_finalize(q);
    if (!keep_from) return;
    q = flow_db_prepare(db, "DELETE FROM conn_debug WHERE conn = ? AND id < ?");
    if (!q) return;
    flow_db_bind_text(q, 1, conn);
    flow_db_bind_int64(q, 2, keep_from);
    flow_db_run(q);
}

void srv_debug_end(FlowDb *db, const char *integ, const char *job, const char *path, FILE *log) {
    FILE *f = fopen(path, "re");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long kept = 0, dropped = 0;
    char conn[600] = "", last[600] = "";
    if (flow_db_begin(db)) { fclose(f); unlink(path); return; }
    while ((n = getline(&line, &cap, f)) > 0) {
        cJSON *o = (size_t)n <= SRV_DEBUG_MAX_BYTES ? cJSON_ParseWithLength(line, (size_t)n) : NULL;
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "connection"));
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at"), *x = cJSON_GetObjectItemCaseSensitive(o, "exchange");
        if (!name || !cJSON_IsNumber(at) || !x) { dropped++; cJSON_Delete(o); continue; }
        snprintf(conn, sizeof conn, "%s.%s", integ, name);
        /* only what happened while its window was open (a window closed during the run stops it) */
        FlowDbStmt *q = flow_db_prepare(db, "SELECT 1 FROM conn_debug_windows WHERE conn = ? AND started_ms <= ? AND until_ms >= ?");
        int open_then = 0;
        if (q) {
            flow_db_bind_text(q, 1, conn);
            flow_db_bind_int64(q, 2, (int64_t)at->valuedouble);
            flow_db_bind_int64(q, 3, (int64_t)at->valuedouble);
            open_then = flow_db_step(q) == FLOW_DB_ROW;
            flow_db_finalize(q);
        }
        char *text = open_then ? cJSON_PrintUnformatted(x) : NULL;
        if (text && (q = flow_db_prepare(db, "INSERT INTO conn_debug (conn, job, run_id, flow, step, at_ms, exchange) VALUES (?, ?, ?, ?, ?, ?, ?)"))) {
            flow_db_bind_text(q, 1, conn);
            flow_db_bind_text(q, 2, job);
            flow_db_bind_text(q, 3, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "run_id")));
            flow_db_bind_text(q, 4, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "flow")));
            flow_db_bind_text(q, 5, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "step")));
            flow_db_bind_int64(q, 6, (int64_t)at->valuedouble);
            flow_db_bind_text(q, 7, text);
            if (flow_db_run(q) == 0) kept++;
            if (strcmp(last, conn) != 0) { if (last[0]) trim(db, last); snprintf(last, sizeof last, "%s", conn); }
        } else dropped++;
        cJSON_free(text);
        cJSON_Delete(o);
    }
    if (last[0]) trim(db, last);
    if (flow_db_commit(db)) flow_db_rollback(db);
    free(line);
    fclose(f);
    unlink(path);
    if (log && dropped) fprintf(log, "job %s: %ld debug line%s kept, %ld dropped (outside the window, or over %d bytes)\n", job, kept,
                                kept == 1 ? "" : "s", dropped, SRV_DEBUG_MAX_BYTES);
}

/* ---- the routes ---- */

cJSON *srv_debug_window(FlowDb *db, const char *conn) {
    cJSON *o = cJSON_CreateObject();
    FlowDbStmt *q = flow_db_prepare(db, "SELECT until_ms FROM conn_debug_windows WHERE conn = ?");
    long long until = 0;
    if (q) {
        flow_db_bind_text(q, 1, conn);
        if (flow_db_step(q) == FLOW_DB_ROW) until = (long long)flow_db_column_int64(q, 0);
        flow_db_finalize(q);
    }
    int open_now = until > now_ms(db);
    cJSON_AddBoolToObject(o, "debugging", open_now);
    if (open_now) {
        char iso[32];
        flow_format_iso8601(until, iso);
        cJSON_AddStringToObject(o, "until", iso);
    } else cJSON_AddNullToObject(o, "until");
    return o;
}

void conn_debug_set(Srv *s, const SrvReq *rq, SrvResp *out) {
    cJSON *body = NULL;
    if (srv_body_json(rq, out, 0, &body)) return;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "minutes");
    for (const cJSON *x = body->child; x; x = x->next)
        if (strcmp(x->string, "minutes") != 0) {
            srv_error(out, 400, "invalid_field", x->string, "POST /v1/connections/{id}/debug takes {\"minutes\": N}, not `%s`", x->string);
            cJSON_Delete(body);
            return;
        }
    if (!cJSON_IsNumber(m) || m->valuedouble != (double)(long)m->valuedouble || m->valuedouble < 0 || m->valuedouble > SRV_DEBUG_MAX_MINUTES) {
        srv_error(out, 400, "invalid_field", "minutes", "minutes takes a whole number from 0 (stop recording) to %d", SRV_DEBUG_MAX_MINUTES);
        cJSON_Delete(body);
        return;
    }
    long minutes = (long)m->valuedouble;
    cJSON_Delete(body);
    RunsTarget t;
    if (runs_target(s, rq->params[0], RUNS_CONNECTION, NULL, &t, out)) return;
    SrvStore *st = srv_store(s);
    store_lock(st);
    FlowDb *db = store_db(st);
    long long now = now_ms(db);
    FlowDbStmt *q = flow_db_prepare(db, minutes ? "INSERT INTO conn_debug_windows (conn, integration, name, started_ms, until_ms, token_id) VALUES (?, ?, ?, ?, ?, ?) "
                                         "ON CONFLICT (conn) DO UPDATE SET started_ms = CASE WHEN conn_debug_windows.until_ms > excluded.started_ms "
                                         "THEN conn_debug_windows.started_ms ELSE excluded.started_ms END, until_ms = excluded.until_ms, "
                                         "token_id = excluded.token_id"
                                       : "UPDATE conn_debug_windows SET until_ms = ? WHERE conn = ? AND until_ms > ?");
    if (q && minutes) {
        flow_db_bind_text(q, 1, t.id);
        flow_db_bind_text(q, 2, t.integ);
        flow_db_bind_text(q, 3, t.conn->name);
        flow_db_bind_int64(q, 4, now);
        flow_db_bind_int64(q, 5, now + minutes * 60000LL);
        flow_db_bind_text(q, 6, rq->caller->id[0] ? rq->caller->id : NULL);
    } else if (q) {
        flow_db_bind_int64(q, 1, now);
        flow_db_bind_text(q, 2, t.id);
        flow_db_bind_int64(q, 3, now);
    }
    int bad = flow_db_run(q);
    cJSON *w = bad ? NULL : srv_debug_window(db, t.id);
    char err[300];
    snprintf(err, sizeof err, "%s", bad ? flow_db_error(db) : "");
    store_unlock(st);
    if (bad) srv_error(out, 500, "internal", NULL, "the debug window of %s: %s", t.id, err);
    else {
        cJSON_AddStringToObject(w, "id", t.id);
        cJSON_AddNumberToObject(w, "minutes", (double)minutes);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "minutes", (double)minutes);
        audit_append(st, 0, rq->caller, rq->addr, minutes ? "debug.start" : "debug.stop", SRV_K_CONNECTION, t.id, d);
        srv_json(out, 200, w);
    }
    runs_target_free(&t);
}

void conn_debug_list(Srv *s, const SrvReq *rq, SrvResp *out) {
    int limit;
    long after;
    if (runs_page(rq, out, &limit, &after)) return;
    RunsTarget t;
    if (runs_target(s, rq->params[0], RUNS_CONNECTION, NULL, &t, out)) return;
    SrvStore *st = srv_store(s);
    store_lock(st);
    FlowDb *db = store_db(st);
    cJSON *items = cJSON_CreateArray();
    FlowDbStmt *q = flow_db_prepare(db, "SELECT id, job, run_id, flow, step, at_ms, exchange FROM conn_debug WHERE conn = ? AND id > ? ORDER BY id LIMIT ?");
    if (q) {
        flow_db_bind_text(q, 1, t.id);
        flow_db_bind_int64(q, 2, after);
        flow_db_bind_int64(q, 3, limit + 1);
        while (flow_db_step(q) == FLOW_DB_ROW) {
            cJSON *o = cJSON_CreateObject();
            char num[32], iso[32];
            snprintf(num, sizeof num, "%lld", (long long)flow_db_column_int64(q, 0));
            cJSON_AddStringToObject(o, "id", num);
            flow_format_iso8601(flow_db_column_int64(q, 5), iso);
            cJSON_AddStringToObject(o, "at", iso);
            static const char *const cols[] = { "job", "run_id", "flow", "step" };
            for (int k = 0; k < 4; k++) {
                const char *v = flow_db_column_text(q, k + 1);
                if (v) cJSON_AddStringToObject(o, cols[k], v);
                else cJSON_AddNullToObject(o, cols[k]);
            }
            const char *x = flow_db_column_text(q, 6);
            cJSON *ex = x ? cJSON_Parse(x) : NULL;
            for (cJSON *e = ex ? ex->child : NULL; e; e = ex->child) cJSON_AddItemToObject(o, e->string, cJSON_DetachItemViaPointer(ex, e));
            cJSON_Delete(ex);
            cJSON_AddItemToArray(items, o);
        }
    }
    char err[300] = "";
    if (!q) snprintf(err, sizeof err, "%s", flow_db_error(db));
    flow_db_finalize(q);
    cJSON *w = srv_debug_window(db, t.id);
    store_unlock(st);
    if (err[0]) { cJSON_Delete(items); srv_error(out, 500, "internal", NULL, "the debug entries of %s: %s", t.id, err); }
    else {
        const char *until = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "until"));
        size_t hl = strlen(until ? until : "none") + 32;
        out->header = malloc(hl);
        if (!out->header) abort();
        snprintf(out->header, hl, "Flow-Debug-Until: %s", until ? until : "none");
        runs_page_answer(rq, out, items, limit);
    }
    cJSON_Delete(w);
    runs_target_free(&t);
}
