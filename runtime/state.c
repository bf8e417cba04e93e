/* state.c — the durable state of an integration: one SQLite file (WAL, transactions) per
 * integration holding each flow's runs and delta time, and the error store (every record error
 * with its data, step, class, message, redacted request/response, run and trace key; open,
 * resolved or superseded). A file that is not a flowc state store is refused, never reset. */
#include "engine.h"
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATE_APP_ID 0x464c4f57      /* "FLOW" in PRAGMA application_id */
#define STATE_FORMAT 1

struct FlowState {
    sqlite3 *db;
    char *path;
    int want_tx;   /* a page is on: its first write begins the transaction */
    int in_tx;
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS flows (flow TEXT PRIMARY KEY, last_success_ms INTEGER, last_run_id TEXT,"
    "  last_run_ms INTEGER, last_status TEXT, once_marked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS runs (run_id TEXT NOT NULL, flow TEXT NOT NULL, started_ms INTEGER NOT NULL,"
    "  finished_ms INTEGER, status TEXT NOT NULL, exported INTEGER, ignored INTEGER, imported INTEGER, errors INTEGER,"
    "  PRIMARY KEY (run_id, flow));"
    "CREATE TABLE IF NOT EXISTS errors (id INTEGER PRIMARY KEY, flow TEXT NOT NULL, step TEXT NOT NULL,"
    "  class TEXT NOT NULL, message TEXT NOT NULL, record TEXT, context TEXT, http TEXT, run_id TEXT,"
    "  at_ms INTEGER NOT NULL, trace_key TEXT, status TEXT NOT NULL DEFAULT 'open', resolved_ms INTEGER,"
    "  resolved_by TEXT);"
    "CREATE INDEX IF NOT EXISTS errors_trace ON errors (flow, trace_key, status);"
    "CREATE INDEX IF NOT EXISTS errors_status ON errors (status, at_ms);";

static int fail_db(FlowState *st, FlowErr *err, const char *what) {
    flow_err_set(err, FLOW_ERR_CONNECTION, "state store %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
    return -1;
}

void flow_state_close(FlowState *st) {
    if (!st) return;
    if (st->in_tx) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

const char *flow_state_path(const FlowState *st) { return st ? st->path : ""; }

FlowState *flow_state_open(const char *dir, const char *integration, FlowErr *err) {
    if (!dir || !*dir) dir = ".flowstate";
    if (flow_mkdir_p(dir, err)) return NULL;
    FlowState *st = flow_xcalloc(1, sizeof *st);
    /* the file is named for the integration, with anything unusual in the name as _ */
    FlowSb b = { 0 };
    flow_sb_puts(&b, dir);
    flow_sb_puts(&b, "/");
    const char *name = integration && *integration ? integration : "flows";
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        flow_sb_put(&b, ok ? &c : "_", 1);
    }
    flow_sb_puts(&b, ".state.db");
    st->path = flow_sb_take(&b);
    struct stat sb;
    int existed = stat(st->path, &sb) == 0 && sb.st_size > 0;
    if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the state store %s: %s", st->path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        flow_state_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 10000);
    sqlite3_stmt *q = NULL;
    int app = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA application_id", -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
        flow_err_set(err, FLOW_ERR_VALUE, "%s is not a flowc state store (%s); move it away, it is not reset",
                     st->path, sqlite3_errmsg(st->db));
        sqlite3_finalize(q);
        flow_state_close(st);
        return NULL;
    }
    app = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (existed && app != STATE_APP_ID) {
        flow_err_set(err, FLOW_ERR_VALUE, "%s is an SQLite file of something else, not a flowc state store; move it away, it is not reset",
                     st->path);
        flow_state_close(st);
        return NULL;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA application_id=%d;", STATE_APP_ID);
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK || sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        fail_db(st, err, existed ? "the file is damaged or not a flowc state store (it is not reset)" : "cannot create the tables");
        flow_state_close(st);
        return NULL;
    }
    /* the format this runtime writes; a newer one is refused */
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'format'", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
        int fmt = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        if (fmt > STATE_FORMAT) {
            flow_err_set(err, FLOW_ERR_VALUE, "%s was written by a newer flowc (format %d; this one reads %d)", st->path, fmt, STATE_FORMAT);
            flow_state_close(st);
            return NULL;
        }
    } else {
        sqlite3_finalize(q);
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta VALUES ('format', '%d'), ('integration', ?)", STATE_FORMAT);
        if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) { fail_db(st, err, "meta"); flow_state_close(st); return NULL; }
        sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE) { fail_db(st, err, "meta"); flow_state_close(st); return NULL; }
    }
    return st;
}

/* ---- transactions: the engine writes a page's errors in one ---- */

/* a page's writes share one transaction, begun by the first of them (most pages write nothing) */
int flow_state_begin(FlowState *st, FlowErr *err) {
    (void)err;
    if (st) st->want_tx = 1;
    return 0;
}

int flow_state_commit(FlowState *st, FlowErr *err) {
    if (st) st->want_tx = 0;
    if (!st || !st->in_tx) return 0;
    st->in_tx = 0;
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int r = fail_db(st, err, "commit");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
    }
    return 0;
}

/* runs one statement with text/int64 arguments given as a format: 's' text (NULL = null), 'i' int64 */
static int exec_args(FlowState *st, const char *sql, const char *fmt, const void *const *args, FlowErr *err, sqlite3_int64 *changes) {
    sqlite3_stmt *q;
    if (st->want_tx && !st->in_tx) {
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail_db(st, err, "begin");
        st->in_tx = 1;
    }
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) return fail_db(st, err, "prepare");
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 's') {
            const char *s = args[i];
            if (s) sqlite3_bind_text(q, i + 1, s, -1, SQLITE_TRANSIENT);
            else sqlite3_bind_null(q, i + 1);
        } else sqlite3_bind_int64(q, i + 1, *(const int64_t *)args[i]);
    }
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail_db(st, err, "write");
    if (changes) *changes = sqlite3_changes64(st->db);
    return 0;
}

/* ---- runs and delta ---- */

int flow_state_last_success(FlowState *st, const char *flow, int64_t *ms, int *have, FlowErr *err) {
    *have = 0;
    *ms = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT last_success_ms FROM flows WHERE flow = ? AND last_success_ms IS NOT NULL", -1, &q, NULL) != SQLITE_OK)
        return fail_db(st, err, "read");
    sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) { *ms = sqlite3_column_int64(q, 0); *have = 1; }
    sqlite3_finalize(q);
    return 0;
}

int flow_state_run_begin(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, FlowErr *err) {
    const void *a[] = { run_id, flow, &started_ms };
    return exec_args(st, "INSERT OR REPLACE INTO runs (run_id, flow, started_ms, status) VALUES (?, ?, ?, 'running')", "ssi", a, err, NULL);
}

int flow_state_run_end(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, int64_t finished_ms,
                       const FlowRunStats *s, int advance, FlowErr *err) {
    long imported = 0;
    for (int i = 0; i < s->nimports; i++) imported += s->imported[i];
    int64_t ex = s->exported, ig = s->ignored, im = imported, er = s->errors;
    const char *status = s->failed ? "failed" : s->errors ? "errors" : "ok";
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail_db(st, err, "begin");
    const void *a[] = { &finished_ms, status, &ex, &ig, &im, &er, run_id, flow };
    int rc = exec_args(st, "UPDATE runs SET finished_ms = ?, status = ?, exported = ?, ignored = ?, imported = ?, errors = ? "
                           "WHERE run_id = ? AND flow = ?", "isiiiiss", a, err, NULL);
    if (!rc) {
        int64_t marked = s->marked;
        const void *b[] = { flow, run_id, &finished_ms, status, &marked };
        rc = exec_args(st, "INSERT INTO flows (flow, last_run_id, last_run_ms, last_status, once_marked) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (flow) DO UPDATE SET last_run_id = excluded.last_run_id, last_run_ms = excluded.last_run_ms, "
                           "last_status = excluded.last_status, once_marked = once_marked + excluded.once_marked", "ssisi", b, err, NULL);
    }
    if (!rc && advance) {
        const void *c[] = { &started_ms, flow };
        rc = exec_args(st, "UPDATE flows SET last_success_ms = ? WHERE flow = ?", "is", c, err, NULL);
    }
    if (rc) { sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL); return rc; }
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = fail_db(st, err, "commit");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

/* ---- the error store ---- */

long flow_state_error_add(FlowState *st, const FlowStateError *e, FlowErr *err) {
    const void *a[] = { e->flow, e->step, e->cls, e->message, e->record, e->context, e->http, e->run_id, &e->at_ms, e->trace_key };
    if (exec_args(st, "INSERT INTO errors (flow, step, class, message, record, context, http, run_id, at_ms, trace_key) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "ssssssssis", a, err, NULL)) return -1;
    long id = (long)sqlite3_last_insert_rowid(st->db);
    if (e->trace_key) {   /* an older open error of the same record is superseded by this one */
        char by[32];
        snprintf(by, sizeof by, "error %ld", id);
        int64_t lid = id;
        const void *b[] = { &e->at_ms, by, e->flow, e->trace_key, &lid };
        if (exec_args(st, "UPDATE errors SET status = 'superseded', resolved_ms = ?, resolved_by = ? "
                          "WHERE flow = ? AND trace_key = ? AND status = 'open' AND id <> ?", "isssi", b, err, NULL)) return -1;
    }
    return id;
}

long flow_state_open_errors(FlowState *st, const char *flow) {
    sqlite3_stmt *q;
    long n = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM errors WHERE status = 'open' AND (?1 IS NULL OR flow = ?1)", -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (flow) sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) n = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

int flow_state_resolve_key(FlowState *st, const char *flow, const char *trace_key, const char *by, int64_t at_ms, FlowErr *err) {
    const void *a[] = { &at_ms, by, flow, trace_key };
    return exec_args(st, "UPDATE errors SET status = 'resolved', resolved_ms = ?, resolved_by = ? "
                         "WHERE flow = ? AND trace_key = ? AND status = 'open'", "isss", a, err, NULL);
}

int flow_state_error_resolve(FlowState *st, long id, const char *by, int64_t at_ms, FlowErr *err) {
    int64_t lid = id;
    sqlite3_int64 n = 0;
    const void *a[] = { &at_ms, by, &lid };
    if (exec_args(st, "UPDATE errors SET status = 'resolved', resolved_ms = ?, resolved_by = ? WHERE id = ? AND status = 'open'",
                  "isi", a, err, &n)) return -1;
    return n ? 0 : 1;
}

static cJSON *json_col(sqlite3_stmt *q, int i) {
    const char *t = (const char *)sqlite3_column_text(q, i);
    if (!t) return cJSON_CreateNull();
    cJSON *j = flow_json_parse(t, (size_t)sqlite3_column_bytes(q, i), NULL);
    return j ? j : flow_json_raw_text(t, (size_t)sqlite3_column_bytes(q, i));
}

static void str_col(cJSON *o, const char *name, sqlite3_stmt *q, int i) {
    const char *t = (const char *)sqlite3_column_text(q, i);
    if (t) cJSON_AddStringToObject(o, name, t);
    else cJSON_AddNullToObject(o, name);
}

cJSON *flow_state_errors(FlowState *st, const char *flow, const char *cls, const long *ids, int nids, int open_only, FlowErr *err) {
    sqlite3_stmt *q;
    const char *sql = "SELECT id, flow, step, class, message, record, context, http, run_id, at_ms, trace_key, status, resolved_ms, resolved_by "
                      "FROM errors WHERE (?1 IS NULL OR flow = ?1) AND (?2 IS NULL OR class = ?2) AND (?3 = 0 OR status = 'open') "
                      "AND (?4 IS NULL OR id = ?4) ORDER BY id";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) { fail_db(st, err, "read"); return NULL; }
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < (nids ? nids : 1); k++) {
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        if (flow) sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
        if (cls) sqlite3_bind_text(q, 2, cls, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 3, open_only);
        if (nids) sqlite3_bind_int64(q, 4, ids[k]);
        while (sqlite3_step(q) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(q, 0));
            str_col(o, "flow", q, 1);
            str_col(o, "step", q, 2);
            str_col(o, "class", q, 3);
            str_col(o, "message", q, 4);
            cJSON_AddItemToObject(o, "record", json_col(q, 5));
            if (sqlite3_column_type(q, 6) != SQLITE_NULL) cJSON_AddItemToObject(o, "context", json_col(q, 6));
            if (sqlite3_column_type(q, 7) != SQLITE_NULL) cJSON_AddItemToObject(o, "http", json_col(q, 7));
            str_col(o, "run_id", q, 8);
            char iso[40];
            flow_format_iso8601(sqlite3_column_int64(q, 9), iso);
            cJSON_AddStringToObject(o, "at", iso);
            str_col(o, "trace_key", q, 10);
            str_col(o, "status", q, 11);
            if (sqlite3_column_type(q, 12) != SQLITE_NULL) {
                flow_format_iso8601(sqlite3_column_int64(q, 12), iso);
                cJSON_AddStringToObject(o, "resolved_at", iso);
                str_col(o, "resolved_by", q, 13);
            }
            cJSON_AddItemToArray(arr, o);
        }
    }
    sqlite3_finalize(q);
    return arr;
}

int flow_state_purge(FlowState *st, int64_t before_ms, FlowErr *err) {
    const void *a[] = { &before_ms };
    return exec_args(st, "DELETE FROM errors WHERE status <> 'open' AND coalesce(resolved_ms, at_ms) < ?", "i", a, err, NULL);
}

cJSON *flow_state_show(FlowState *st, const char *flow, FlowErr *err) {
    sqlite3_stmt *q;
    const char *sql = "SELECT f.flow, f.last_success_ms, f.last_run_id, f.last_run_ms, f.last_status, "
                      "(SELECT count(*) FROM errors e WHERE e.flow = f.flow AND e.status = 'open'), f.once_marked "
                      "FROM flows f WHERE (?1 IS NULL OR f.flow = ?1) ORDER BY f.flow";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) { fail_db(st, err, "read"); return NULL; }
    if (flow) sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
    cJSON *arr = cJSON_CreateArray();
    char iso[40];
    while (sqlite3_step(q) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        str_col(o, "flow", q, 0);
        if (sqlite3_column_type(q, 1) != SQLITE_NULL) {
            flow_format_iso8601(sqlite3_column_int64(q, 1), iso);
            cJSON_AddStringToObject(o, "delta_since", iso);
        } else cJSON_AddNullToObject(o, "delta_since");
        str_col(o, "last_run_id", q, 2);
        if (sqlite3_column_type(q, 3) != SQLITE_NULL) {
            flow_format_iso8601(sqlite3_column_int64(q, 3), iso);
            cJSON_AddStringToObject(o, "last_run_at", iso);
        }
        str_col(o, "last_status", q, 4);
        cJSON_AddNumberToObject(o, "open_errors", (double)sqlite3_column_int64(q, 5));
        cJSON_AddNumberToObject(o, "once_marked", (double)sqlite3_column_int64(q, 6));
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_finalize(q);
    return arr;
}

int flow_state_reset(FlowState *st, const char *flow, FlowErr *err) {
    const void *a[] = { flow };
    return exec_args(st, "UPDATE flows SET last_success_ms = NULL WHERE (?1 IS NULL OR flow = ?1)", "s", a, err, NULL);
}
