/* state.c — the durable state of an integration: one SQLite file (WAL, transactions) per
 * integration holding each flow's runs and delta time, the error store (every record error
 * with its data, step, class, message, redacted request/response, run and trace key; open,
 * resolved or superseded), and the webhook queue (verified requests' records waiting for a run,
 * secret_url secrets). A file that is not a flowc state store is refused, never reset. */
#define _DEFAULT_SOURCE   /* explicit_bzero */
#include "engine.h"
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define STATE_APP_ID 0x464c4f57      /* "FLOW" in PRAGMA application_id */
#define STATE_FORMAT 1

struct FlowState {
    sqlite3 *db;
    char *path;
    char *stem;    /* DIR/<integration>: the store is STEM.state.db, a flow's run lock STEM.<flow>.lock */
    int read_only; /* on a read-only file system: opened immutable, for reading */
    int want_tx;   /* a page is on: its first write begins the transaction */
    int in_tx;
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS flows (flow TEXT PRIMARY KEY, last_success_ms INTEGER, last_run_id TEXT,"
    "  last_run_ms INTEGER, last_status TEXT, once_marked INTEGER NOT NULL DEFAULT 0, delta_layout TEXT);"
    "CREATE TABLE IF NOT EXISTS runs (run_id TEXT NOT NULL, flow TEXT NOT NULL, started_ms INTEGER NOT NULL,"
    "  finished_ms INTEGER, status TEXT NOT NULL, exported INTEGER, ignored INTEGER, imported INTEGER, errors INTEGER,"
    "  trigger TEXT, due_ms INTEGER, drift_us INTEGER, pid INTEGER, message TEXT,"
    "  PRIMARY KEY (run_id, flow));"
    "CREATE TABLE IF NOT EXISTS errors (id INTEGER PRIMARY KEY, flow TEXT NOT NULL, step TEXT NOT NULL,"
    "  class TEXT NOT NULL, message TEXT NOT NULL, record TEXT, context TEXT, http TEXT, run_id TEXT,"
    "  at_ms INTEGER NOT NULL, trace_key TEXT, status TEXT NOT NULL DEFAULT 'open', resolved_ms INTEGER,"
    "  resolved_by TEXT);"
    "CREATE TABLE IF NOT EXISTS error_edits (error_id INTEGER NOT NULL, at_ms INTEGER NOT NULL, by TEXT NOT NULL, record TEXT);"
    "CREATE INDEX IF NOT EXISTS errors_trace ON errors (flow, trace_key, status);"
    "CREATE INDEX IF NOT EXISTS errors_status ON errors (status, at_ms);"
    "CREATE INDEX IF NOT EXISTS runs_flow ON runs (flow, started_ms);"
    /* the webhook queue (see its section below) */
    "CREATE TABLE IF NOT EXISTS webhook_events (id INTEGER PRIMARY KEY AUTOINCREMENT, flow TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL, delivery TEXT, records INTEGER NOT NULL, taken INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'queued', run_id TEXT, done_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS webhook_events_queue ON webhook_events (flow, status, id);"
    "CREATE INDEX IF NOT EXISTS webhook_events_delivery ON webhook_events (flow, delivery) WHERE delivery IS NOT NULL;"
    /* (a rowid table: a record of 1 KB fits in its b-tree page; WITHOUT ROWID would spill all but
     * ~1,000 bytes of it to an overflow page of its own, 4 KB a record) */
    "CREATE TABLE IF NOT EXISTS webhook_records (event_id INTEGER NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,"
    "  PRIMARY KEY (event_id, seq));"
    "CREATE TABLE IF NOT EXISTS webhook_secrets (flow TEXT PRIMARY KEY, secret TEXT NOT NULL, created_ms INTEGER NOT NULL);";

static int fail_db(FlowState *st, FlowErr *err, const char *what) {
    flow_err_set(err, FLOW_ERR_CONNECTION, "state store %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
    return -1;
}

/* COMMIT the open transaction; one that fails is rolled back: 0, or -1 with err */
static int commit_tx(FlowState *st, FlowErr *err) {
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return 0;
    int r = fail_db(st, err, "commit");
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

void flow_state_close(FlowState *st) {
    if (!st) return;
    if (st->in_tx) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(st->db);
    free(st->path);
    free(st->stem);
    free(st);
}

const char *flow_state_path(const FlowState *st) { return st ? st->path : ""; }

/* the one integer a query gives, or -1 when it cannot be read (not a database, unreadable) */
static int query_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *q = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return n;
}
static int app_id(sqlite3 *db) { return query_int(db, "PRAGMA application_id"); }              /* the file's application_id */
static int objects(sqlite3 *db) { return query_int(db, "SELECT count(*) FROM sqlite_master"); }   /* tables, views, ... */

static FlowState *refuse(FlowState *st, FlowErr *err, int app) {
    if (app < 0)
        flow_err_set(err, FLOW_ERR_VALUE, "%s is not a flowc state store (%s); move it away, it is not reset", st->path,
                     sqlite3_errmsg(st->db));
    else
        flow_err_set(err, FLOW_ERR_VALUE, "%s is an SQLite file of something else, not a flowc state store; move it away, it is not reset",
                     st->path);
    flow_state_close(st);
    return NULL;
}

/* the format this runtime writes; a newer one is refused. 0, or -1 with err */
static int check_format(FlowState *st, FlowErr *err) {
    sqlite3_stmt *q = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'format'", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
        int fmt = sqlite3_column_int(q, 0);
        if (fmt > STATE_FORMAT) {
            flow_err_set(err, FLOW_ERR_VALUE, "%s was written by a newer flowc (format %d; this one reads %d)", st->path, fmt, STATE_FORMAT);
            rc = -1;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* A new (empty) file becomes a state store, in one transaction: a second process opening it at the
 * same time waits, then finds it made. 0, or -1 with err. */
static int create_store(FlowState *st, const char *name, FlowErr *err) {
    /* WAL is set outside a transaction; setting it twice is harmless */
    if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) return fail_db(st, err, "cannot create the tables");
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail_db(st, err, "cannot create the tables");
    int app = app_id(st->db), n = objects(st->db);
    if (app == STATE_APP_ID) return commit_tx(st, err);
    if (app != 0 || n != 0) {   /* someone else's, made meanwhile */
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        flow_err_set(err, FLOW_ERR_VALUE, "%s is an SQLite file of something else, not a flowc state store; move it away, it is not reset", st->path);
        return -1;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d;", STATE_APP_ID);
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK || sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK;
    if (!rc) {
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta VALUES ('format', '%d'), ('integration', ?)", STATE_FORMAT);
        rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK;
        if (!rc) {
            sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
            rc = sqlite3_step(q) != SQLITE_DONE;
        }
        sqlite3_finalize(q);
    }
    if (rc || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fail_db(st, err, "cannot create the tables");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* name as part of a file name: anything but letters, digits, `-`, `_` and `.` as `_` (the store's
 * file and the locks beside it; a `/` never gets through) */
static void put_file_safe(FlowSb *b, const char *name) {
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        flow_sb_put(b, ok ? &c : "_", 1);
    }
}

/* path as an SQLite URI file name for a read-only, immutable open (%, ? and # escaped) */
static char *ro_uri(const char *path) {
    FlowSb b = { 0 };
    flow_sb_puts(&b, "file:");
    for (const char *p = path; *p; p++) {
        char esc[4];
        if (*p == '%' || *p == '?' || *p == '#') { snprintf(esc, sizeof esc, "%%%02X", (unsigned char)*p); flow_sb_puts(&b, esc); }
        else flow_sb_put(&b, p, 1);
    }
    flow_sb_puts(&b, "?mode=ro&immutable=1");
    return flow_sb_take(&b);
}

FlowState *flow_state_open(const char *dir, const char *integration, int read_only, FlowErr *err) {
    if (!dir || !*dir) dir = ".flowstate";
    FlowState *st = flow_xcalloc(1, sizeof *st);
    /* the file is named for the integration, with anything unusual in the name as _ */
    FlowSb b = { 0 };
    flow_sb_puts(&b, dir);
    flow_sb_puts(&b, "/");
    const char *name = integration && *integration ? integration : "flows";
    put_file_safe(&b, name);
    st->stem = flow_xstrdup(b.p);
    flow_sb_puts(&b, ".state.db");
    st->path = flow_sb_take(&b);
    struct stat sb;
    int exists = stat(st->path, &sb) == 0;
    /* a store on a read-only file system can be read (state show, errors list), not run on */
    struct statvfs vf;
    if (statvfs(exists ? st->path : dir, &vf) == 0 && (vf.f_flag & ST_RDONLY)) {
        if (!read_only || !exists) {
            flow_err_set(err, FLOW_ERR_CONNECTION, exists ? "the state store %s is on a read-only file system: a run records its state "
                                                            "there; give --state (or FLOW_STATE_DIR) a writable directory"
                                                          : "there is no state store %s and its file system is read-only", st->path);
            flow_state_close(st);
            return NULL;
        }
        char *uri = ro_uri(st->path);
        int orc = sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
        free(uri);
        if (orc != SQLITE_OK) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the state store %s: %s", st->path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
            flow_state_close(st);
            return NULL;
        }
        st->read_only = 1;
        int app = app_id(st->db);
        if (app != STATE_APP_ID) return refuse(st, err, app);
        if (check_format(st, err)) { flow_state_close(st); return NULL; }
        return st;
    }
    if (flow_mkdir_p(dir, err)) { flow_state_close(st); return NULL; }
    if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the state store %s: %s", st->path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        flow_state_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 10000);
    if (sqlite3_db_readonly(st->db, "main") == 1 && !read_only) {   /* SQLite opened it read-only: not writable */
        flow_err_set(err, FLOW_ERR_CONNECTION, "the state store %s cannot be written (%s): a run records its state there", st->path,
                     access(st->path, W_OK) != 0 ? strerror(errno) : "read-only");
        flow_state_close(st);
        return NULL;
    }
    /* the application id and the objects are read in one read transaction: another process making
     * the store commits both at once, and two separate reads could see its id missing, then its tables */
    int app = -1, nobj = -1;
    if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
        app = app_id(st->db);
        nobj = objects(st->db);
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    }
    if (app < 0) return refuse(st, err, app);
    if (app == 0) {   /* new, or being made by another process right now, or someone else's */
        if (nobj != 0) return refuse(st, err, app);
        /* two processes making one store at once take turns (SQLite may answer "locked" at once,
         * without waiting, when both change the journal mode): the second finds it made */
        char *lk = flow_xcalloc(1, strlen(st->stem) + 16);
        sprintf(lk, "%s.create.lock", st->stem);
        int fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        free(lk);
        if (fd >= 0) while (flock(fd, LOCK_EX) != 0 && errno == EINTR) {}
        int bad = create_store(st, name, err);
        if (fd >= 0) close(fd);
        if (bad) { flow_state_close(st); return NULL; }
    } else if (app != STATE_APP_ID) return refuse(st, err, app);
    if (!st->read_only && sqlite3_db_readonly(st->db, "main") != 1 &&
        (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
         sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK)) {
        fail_db(st, err, "the file is damaged or not a flowc state store (it is not reset)");
        flow_state_close(st);
        return NULL;
    }
    if (check_format(st, err)) { flow_state_close(st); return NULL; }
    /* a store made before the delta field's layout was kept gets its column (a second process doing
     * the same at once fails harmlessly) */
    sqlite3_stmt *q = NULL;
    if (!st->read_only && sqlite3_prepare_v2(st->db, "SELECT delta_layout FROM flows LIMIT 0", -1, &q, NULL) != SQLITE_OK)
        sqlite3_exec(st->db, "ALTER TABLE flows ADD COLUMN delta_layout TEXT", NULL, NULL, NULL);
    sqlite3_finalize(q);
    q = NULL;
    /* ...and one made before the run history kept why and when each run started, its columns */
    if (!st->read_only && sqlite3_prepare_v2(st->db, "SELECT trigger FROM runs LIMIT 0", -1, &q, NULL) != SQLITE_OK)
        sqlite3_exec(st->db, "ALTER TABLE runs ADD COLUMN trigger TEXT; ALTER TABLE runs ADD COLUMN due_ms INTEGER; "
                             "ALTER TABLE runs ADD COLUMN drift_us INTEGER; ALTER TABLE runs ADD COLUMN pid INTEGER; "
                             "ALTER TABLE runs ADD COLUMN message TEXT", NULL, NULL, NULL);
    sqlite3_finalize(q);
    return st;
}

/* ---- one run of a flow at a time: an flock on STEM.<flow>.lock, which holds the runner's pid ----
 * The kernel drops the lock when its process ends, however it ends, so a killed run's lock is taken
 * over by the next run. The file stays (removing it would let two processes lock two different
 * files of one name). */

struct FlowLock { int fd; };

int flow_state_lock(FlowState *st, const char *flow, FlowLock **out, long *holder, FlowErr *err) {
    *out = NULL;
    *holder = 0;
    FlowSb b = { 0 };
    flow_sb_puts(&b, st->stem);
    flow_sb_puts(&b, ".");
    put_file_safe(&b, flow);
    flow_sb_puts(&b, ".lock");
    char *path = flow_sb_take(&b);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the run lock %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {}
    if (rc != 0) {
        int e = errno;
        if (e != EWOULDBLOCK) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot lock %s: %s", path, strerror(e));
            close(fd);
            free(path);
            return -1;
        }
        /* the holder writes its pid right after it took the lock: wait a moment for it */
        for (int i = 0; i < 200 && !*holder; i++) {
            char buf[32] = "";
            ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
            if (n > 0) { buf[n] = 0; *holder = strtol(buf, NULL, 10); }
            if (!*holder) nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
        }
        close(fd);
        free(path);
        return 1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write the run lock %s: %s", path, strerror(errno));
        close(fd);
        free(path);
        return -1;
    }
    free(path);
    *out = flow_xcalloc(1, sizeof **out);
    (*out)->fd = fd;
    return 0;
}

void flow_state_lock_pid(FlowLock *l, long pid) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", pid);
    if (l && (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, buf, (size_t)n, 0) != n)) {}   /* only a message would be wrong */
}

int flow_state_lock_fd(const FlowLock *l) { return l ? l->fd : -1; }

void flow_state_unlock(FlowLock *l) {
    if (!l) return;
    if (ftruncate(l->fd, 0) != 0) {}   /* the pid goes before the lock does; a stale pid is only a message */
    close(l->fd);
    free(l);
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
    return commit_tx(st, err);
}

void flow_state_rollback(FlowState *st) {
    if (!st) return;
    st->want_tx = 0;
    if (!st->in_tx) return;
    st->in_tx = 0;
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
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

static int queue_run_done(FlowState *st, const char *flow, const char *run_id, int64_t now_ms, FlowErr *err);

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

int flow_state_delta_layout(FlowState *st, const char *flow, char *out, size_t cap) {
    sqlite3_stmt *q;
    out[0] = 0;
    /* (a store read as it is may be older than the column: no layout) */
    if (sqlite3_prepare_v2(st->db, "SELECT delta_layout FROM flows WHERE flow = ? AND delta_layout IS NOT NULL", -1, &q, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return 0;
}

/* (the row may be there already: serve writes it before the run's process starts) */
int flow_state_run_begin(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, FlowErr *err) {
    const void *a[] = { run_id, flow, &started_ms };
    return exec_args(st, "INSERT INTO runs (run_id, flow, started_ms, status) VALUES (?, ?, ?, 'running') "
                         "ON CONFLICT (run_id, flow) DO UPDATE SET started_ms = excluded.started_ms, status = 'running'",
                     "ssi", a, err, NULL);
}

int flow_state_run_end(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, int64_t finished_ms,
                       const FlowRunStats *s, int advance, const char *layout, FlowErr *err) {
    long imported = 0;
    for (int i = 0; i < s->nimports; i++) imported += s->imported[i];
    int64_t ex = s->exported, ig = s->ignored, im = imported, er = s->errors;
    const char *status = flow_run_status_names[flow_run_status_of(s)];
    const char *msg = s->failed && s->fail_msg[0] ? s->fail_msg : NULL;
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail_db(st, err, "begin");
    /* (a run that failed before it began has no row yet: it gets one) */
    const void *a[] = { run_id, flow, &started_ms, &finished_ms, status, &ex, &ig, &im, &er, msg };
    int rc = exec_args(st, "INSERT INTO runs (run_id, flow, started_ms, finished_ms, status, exported, ignored, imported, errors, message) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, flow) DO UPDATE SET finished_ms = excluded.finished_ms, "
                           "status = excluded.status, exported = excluded.exported, ignored = excluded.ignored, "
                           "imported = excluded.imported, errors = excluded.errors, message = excluded.message",
                       "ssiisiiiis", a, err, NULL);
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
    if (!rc && layout) {
        const void *c[] = { *layout ? layout : NULL, flow };
        rc = exec_args(st, "UPDATE flows SET delta_layout = ? WHERE flow = ?", "ss", c, err, NULL);
    }
    /* the webhook events the run took are done with its success, in the same transaction */
    if (!rc && !s->failed && !s->interrupted) rc = queue_run_done(st, flow, run_id, finished_ms, err);
    if (rc) { sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL); return rc; }
    return commit_tx(st, err);
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

/* an error's edits, oldest first: [{"at", "by", "record"}], or NULL (none, or a store from before
 * edits, read as it is) */
static cJSON *edit_history(FlowState *st, sqlite3_int64 id) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT at_ms, by, record FROM error_edits WHERE error_id = ? ORDER BY rowid", -1, &q, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(q, 1, id);
    cJSON *h = NULL;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (!h) h = cJSON_CreateArray();
        cJSON *o = cJSON_CreateObject();
        char iso[40];
        flow_format_iso8601(sqlite3_column_int64(q, 0), iso);
        cJSON_AddStringToObject(o, "at", iso);
        str_col(o, "by", q, 1);
        cJSON_AddItemToObject(o, "record", json_col(q, 2));
        cJSON_AddItemToArray(h, o);
    }
    sqlite3_finalize(q);
    return h;
}

cJSON *flow_state_errors(FlowState *st, const char *flow, const char *cls, const char *step, const long *ids, int nids, int open_only,
                         FlowErr *err) {
    sqlite3_stmt *q;
    const char *sql = "SELECT id, flow, step, class, message, record, context, http, run_id, at_ms, trace_key, status, resolved_ms, resolved_by "
                      "FROM errors WHERE (?1 IS NULL OR flow = ?1) AND (?2 IS NULL OR class = ?2) AND (?3 = 0 OR status = 'open') "
                      "AND (?4 IS NULL OR id = ?4) AND (?5 IS NULL OR step = ?5) ORDER BY id";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) { fail_db(st, err, "read"); return NULL; }
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < (nids ? nids : 1); k++) {
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        if (flow) sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
        if (cls) sqlite3_bind_text(q, 2, cls, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 3, open_only);
        if (nids) sqlite3_bind_int64(q, 4, ids[k]);
        if (step) sqlite3_bind_text(q, 5, step, -1, SQLITE_TRANSIENT);
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
            cJSON *h = edit_history(st, sqlite3_column_int64(q, 0));
            if (h) cJSON_AddItemToObject(o, "history", h);
            cJSON_AddItemToArray(arr, o);
        }
    }
    sqlite3_finalize(q);
    return arr;
}

int flow_state_error_edit(FlowState *st, long id, const char *record, const char *by, int64_t at_ms, FlowErr *err) {
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail_db(st, err, "begin");
    int64_t lid = id;
    const void *a[] = { &lid, &at_ms, by, &lid };
    sqlite3_int64 n = 0;
    int rc = exec_args(st, "INSERT INTO error_edits (error_id, at_ms, by, record) SELECT ?, ?, ?, record FROM errors "
                           "WHERE id = ? AND status = 'open'", "iisi", a, err, &n);
    if (!rc && n) {
        const void *b[] = { record, &lid };
        rc = exec_args(st, "UPDATE errors SET record = ? WHERE id = ?", "si", b, err, NULL);
    }
    if (rc || !n) { sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL); return rc ? -1 : 1; }
    return commit_tx(st, err);
}

int flow_state_knows(FlowState *st, int step, const char *flow, const char *name) {
    sqlite3_stmt *q;
    const char *sql = step ? "SELECT 1 FROM errors WHERE step = ?1 AND (?2 IS NULL OR flow = ?2) LIMIT 1"
                           : "SELECT 1 FROM errors WHERE flow = ?1 LIMIT 1";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
    if (step && flow) sqlite3_bind_text(q, 2, flow, -1, SQLITE_TRANSIENT);
    int found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return found;
}

int flow_state_purge(FlowState *st, int64_t before_ms, FlowErr *err) {
    const void *a[] = { &before_ms };
    return exec_args(st, "DELETE FROM errors WHERE status <> 'open' AND coalesce(resolved_ms, at_ms) < ?", "i", a, err, NULL);
}

cJSON *flow_state_show(FlowState *st, const char *flow, FlowErr *err) {
    sqlite3_stmt *q;
    const char *sql = "SELECT f.flow, f.last_success_ms, f.last_run_id, f.last_run_ms, f.last_status, "
                      "(SELECT count(*) FROM errors e WHERE e.flow = f.flow AND e.status = 'open'), f.once_marked, f.delta_layout "
                      "FROM flows f WHERE (?1 IS NULL OR f.flow = ?1) ORDER BY f.flow";
    /* (a store read as it is may be older than the delta_layout column) */
    const char *old = "SELECT f.flow, f.last_success_ms, f.last_run_id, f.last_run_ms, f.last_status, "
                      "(SELECT count(*) FROM errors e WHERE e.flow = f.flow AND e.status = 'open'), f.once_marked, NULL "
                      "FROM flows f WHERE (?1 IS NULL OR f.flow = ?1) ORDER BY f.flow";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK && sqlite3_prepare_v2(st->db, old, -1, &q, NULL) != SQLITE_OK) {
        fail_db(st, err, "read");
        return NULL;
    }
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
        str_col(o, "delta_layout", q, 7);
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_finalize(q);
    return arr;
}

int flow_state_reset(FlowState *st, const char *flow, FlowErr *err) {
    const void *a[] = { flow };
    return exec_args(st, "UPDATE flows SET last_success_ms = NULL WHERE (?1 IS NULL OR flow = ?1)", "s", a, err, NULL);
}

/* ---- the run history: every run's start, end, status, counts, and for serve why it ran (its
 * trigger), when it was due and how late it started; skipped starts and crashed runs too ---- */

const char *const flow_run_status_names[FLOW_RUN_STATUS_COUNT] = {
#define X(id, s) s,
    FLOW_RUN_STATUSES(X)
#undef X
};

FlowRunStatus flow_run_status_of(const FlowRunStats *s) {
    return s->interrupted ? FLOW_RUN_INTERRUPTED : s->failed ? FLOW_RUN_FAILED : s->errors ? FLOW_RUN_RECORD_ERRORS : FLOW_RUN_OK;
}

int flow_run_status_parse(const char *name) {
    for (int i = 0; name && i < FLOW_RUN_STATUS_COUNT; i++)
        if (strcmp(flow_run_status_names[i], name) == 0) return i;
    return -1;
}

int flow_state_run_planned(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, const char *trigger,
                           int64_t due_ms, int64_t drift_us, FlowErr *err) {
    const void *a[] = { run_id, flow, &started_ms, trigger, &due_ms, &drift_us };
    return exec_args(st, "INSERT INTO runs (run_id, flow, started_ms, status, trigger, due_ms, drift_us) "
                         "VALUES (?1, ?2, ?3, 'running', ?4, nullif(?5, -1), CASE WHEN ?5 = -1 THEN NULL ELSE ?6 END) "
                         "ON CONFLICT (run_id, flow) DO UPDATE SET "
                         "trigger = excluded.trigger, due_ms = excluded.due_ms, drift_us = excluded.drift_us",
                     "ssisii", a, err, NULL);
}

int flow_state_run_pid(FlowState *st, const char *flow, const char *run_id, long pid, FlowErr *err) {
    int64_t p = pid;
    const void *a[] = { &p, run_id, flow };
    return exec_args(st, "UPDATE runs SET pid = ? WHERE run_id = ? AND flow = ?", "iss", a, err, NULL);
}

int flow_state_run_skipped(FlowState *st, const char *flow, const char *run_id, int64_t at_ms, const char *status, const char *trigger,
                           int64_t due_ms, int64_t drift_us, const char *message, FlowErr *err) {
    const void *a[] = { run_id, flow, &at_ms, &at_ms, status, trigger, &due_ms, &drift_us, message };
    return exec_args(st, "INSERT OR REPLACE INTO runs (run_id, flow, started_ms, finished_ms, status, trigger, due_ms, drift_us, message) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, -1), CASE WHEN ?7 = -1 THEN NULL ELSE ?8 END, ?9)", "ssiissiis", a, err, NULL);
}

int flow_state_run_abort(FlowState *st, const char *flow, const char *run_id, int64_t finished_ms, const char *status, const char *message,
                         FlowErr *err) {
    sqlite3_int64 n = 0;
    const void *a[] = { &finished_ms, status, message, run_id, flow };
    if (exec_args(st, "UPDATE runs SET finished_ms = ?, status = ?, message = ? WHERE run_id = ? AND flow = ? AND status = 'running'",
                  "issss", a, err, &n)) return -1;
    if (!n) return 0;
    /* the flow's last run is this one, and it did not succeed */
    const void *b[] = { flow, run_id, &finished_ms, status };
    if (exec_args(st, "INSERT INTO flows (flow, last_run_id, last_run_ms, last_status) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (flow) DO UPDATE SET last_run_id = excluded.last_run_id, last_run_ms = excluded.last_run_ms, "
                      "last_status = excluded.last_status", "ssis", b, err, NULL)) return -1;
    return 1;
}

int flow_state_runs_abandoned(FlowState *st, const char *flow, int64_t now_ms, FlowErr *err) {
    sqlite3_int64 n = 0;
    const void *a[] = { &now_ms, flow };
    if (exec_args(st, "UPDATE runs SET finished_ms = ?, status = 'crashed', message = coalesce(message, "
                      "'its process ended without recording the end of the run (killed, or the machine stopped)') "
                      "WHERE flow = ? AND status = 'running'", "is", a, err, &n)) return -1;
    return (int)n;
}

/* one row of runs as JSON: the columns of RUN_COLS in that order */
#define RUN_COLS "run_id, flow, status, started_ms, finished_ms, exported, ignored, imported, errors, trigger, due_ms, drift_us, pid, message"
#define RUN_COLS_OLD "run_id, flow, status, started_ms, finished_ms, exported, ignored, imported, errors, NULL, NULL, NULL, NULL, NULL"
static cJSON *run_row(sqlite3_stmt *q) {
    cJSON *o = cJSON_CreateObject();
    char iso[40];
    str_col(o, "run_id", q, 0);
    str_col(o, "flow", q, 1);
    str_col(o, "status", q, 2);
    int64_t start = sqlite3_column_int64(q, 3);
    flow_format_iso8601(start, iso);
    cJSON_AddStringToObject(o, "started_at", iso);
    if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
        int64_t end = sqlite3_column_int64(q, 4);
        flow_format_iso8601(end, iso);
        cJSON_AddStringToObject(o, "finished_at", iso);
        cJSON_AddNumberToObject(o, "duration_ms", (double)(end - start));
    } else {
        cJSON_AddNullToObject(o, "finished_at");
        cJSON_AddNullToObject(o, "duration_ms");
    }
    static const char *const counts[] = { "exported", "ignored", "imported", "errors" };
    for (int i = 0; i < 4; i++)
        if (sqlite3_column_type(q, 5 + i) != SQLITE_NULL) cJSON_AddItemToObject(o, counts[i], flow_json_int(sqlite3_column_int64(q, 5 + i)));
        else cJSON_AddNullToObject(o, counts[i]);
    str_col(o, "trigger", q, 9);
    if (sqlite3_column_type(q, 10) != SQLITE_NULL) {
        flow_format_iso8601(sqlite3_column_int64(q, 10), iso);
        cJSON_AddStringToObject(o, "due_at", iso);
    } else cJSON_AddNullToObject(o, "due_at");
    if (sqlite3_column_type(q, 11) != SQLITE_NULL) cJSON_AddNumberToObject(o, "drift_ms", (double)sqlite3_column_int64(q, 11) / 1000.0);
    else cJSON_AddNullToObject(o, "drift_ms");
    if (sqlite3_column_type(q, 12) != SQLITE_NULL) cJSON_AddItemToObject(o, "pid", flow_json_int(sqlite3_column_int64(q, 12)));
    else cJSON_AddNullToObject(o, "pid");
    str_col(o, "message", q, 13);
    return o;
}

/* prepares sql (with %s for the columns) with the columns of this store: an older one read as it is
 * lacks the columns of the history */
static int prepare_runs(FlowState *st, const char *fmt, sqlite3_stmt **q) {
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, RUN_COLS);
    if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) == SQLITE_OK) return 0;
    snprintf(sql, sizeof sql, fmt, RUN_COLS_OLD);
    return sqlite3_prepare_v2(st->db, sql, -1, q, NULL) == SQLITE_OK ? 0 : -1;
}

cJSON *flow_state_run_get(FlowState *st, const char *flow, const char *run_id, FlowErr *err) {
    sqlite3_stmt *q;
    if (prepare_runs(st, "SELECT %s FROM runs WHERE run_id = ? AND flow = ?", &q)) { fail_db(st, err, "read"); return NULL; }
    sqlite3_bind_text(q, 1, run_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, flow, -1, SQLITE_TRANSIENT);
    cJSON *o = NULL;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) o = run_row(q);
    else if (rc != SQLITE_DONE) fail_db(st, err, "read");
    else err->msg[0] = 0;
    sqlite3_finalize(q);
    return o;
}

cJSON *flow_state_runs(FlowState *st, const char *flow, long limit, FlowErr *err) {
    sqlite3_stmt *q;
    if (prepare_runs(st, "SELECT %s FROM runs WHERE (?1 IS NULL OR flow = ?1) ORDER BY started_ms DESC, rowid DESC LIMIT ?2", &q)) {
        fail_db(st, err, "read");
        return NULL;
    }
    if (flow) sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, limit > 0 ? limit : -1);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) cJSON_AddItemToArray(arr, run_row(q));
    if (rc != SQLITE_DONE) { fail_db(st, err, "read"); cJSON_Delete(arr); arr = NULL; }
    sqlite3_finalize(q);
    return arr;
}

int flow_state_last_ok_run(FlowState *st, const char *flow, int64_t *started_ms, int64_t *finished_ms, int *have, FlowErr *err) {
    *have = 0;
    *started_ms = *finished_ms = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT started_ms, coalesce(finished_ms, started_ms) FROM runs WHERE flow = ? "
                                   "AND status IN ('ok', 'record_errors', 'errors') ORDER BY started_ms DESC LIMIT 1", -1, &q, NULL) != SQLITE_OK)
        return fail_db(st, err, "read");
    sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) {
        *started_ms = sqlite3_column_int64(q, 0);
        *finished_ms = sqlite3_column_int64(q, 1);
        *have = 1;
    }
    sqlite3_finalize(q);
    return 0;
}

int flow_state_runs_purge(FlowState *st, int64_t before_ms, FlowErr *err) {
    const void *a[] = { &before_ms };
    return exec_args(st, "DELETE FROM runs WHERE started_ms < ? AND status <> 'running'", "i", a, err, NULL);
}

/* ---- the webhook queue ----
 * A verified webhook request is one event (webhook_events) holding its records in arrival order
 * (webhook_records, as JSON text), written by the listener through a connection of its own
 * (FlowQueue: synchronous=FULL, so the commit is on disk before the request is answered). Event
 * ids only grow (AUTOINCREMENT): id order is arrival order. Requests that arrive together share
 * one transaction (flow_queue_add_batch: webhook.c commits them as a group, one fsync for all). A
 * run of the flow claims the queued events (run_id), reads their records page by page, and records
 * after each page that every destination has committed how many records of an event it took
 * (`taken`, in the page's transaction): a run that dies resumes after them. When the run ends well
 * its claimed events are done in the transaction that ends it (flow_state_run_end), and their
 * records are deleted; a done event is kept 24 hours for redelivery detection (its `delivery` key),
 * then purged. Nothing of a request but its records and that key is stored: no header, query or
 * body. secret_url() secrets are kept in webhook_secrets, the only table holding a secret (the
 * file becomes 0600). */

#define QUEUE_KEEP_MS ((int64_t)24 * 3600 * 1000)   /* redeliveries are recognised for 24 h */

struct FlowQueue {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *dup, *event, *record, *pending;
    int64_t busy_since_us;    /* when the store was first found locked, for the busy handler */
};

static int queue_fail(FlowQueue *q, FlowErr *err, const char *what) {
    int code = sqlite3_errcode(q->db);
    flow_err_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? FLOW_ERR_INTERMITTENT : FLOW_ERR_CONNECTION,
                 "state store %s: %s: %s", q->path, what, sqlite3_errmsg(q->db));
    return -1;
}

/* the busy handler: 1 to try again, 0 to give up after 10 s */
static int queue_busy(void *arg, int count) {
    FlowQueue *q = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    if (count == 0) q->busy_since_us = us;
    if (us - q->busy_since_us > 10000000) return 0;
    long wait = count < 4 ? 100 : count < 8 ? 500 : 2000;
    nanosleep(&(struct timespec){ 0, wait * 1000 }, NULL);
    return 1;
}

void flow_queue_close(FlowQueue *q) {
    if (!q) return;
    sqlite3_finalize(q->dup);
    sqlite3_finalize(q->event);
    sqlite3_finalize(q->record);
    sqlite3_finalize(q->pending);
    sqlite3_close(q->db);
    free(q->path);
    free(q);
}

FlowQueue *flow_queue_open(FlowState *st, FlowErr *err) {
    if (st->read_only) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "the state store %s is read-only: webhook requests are queued there", st->path);
        return NULL;
    }
    FlowQueue *q = flow_xcalloc(1, sizeof *q);
    q->path = flow_xstrdup(st->path);
    if (sqlite3_open_v2(st->path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the state store %s: %s", st->path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
        flow_queue_close(q);
        return NULL;
    }
    /* a run's transaction (another process) holds the store for a moment: poll every 0.1..2 ms, not
     * SQLite's default steps of up to 100 ms, so a request waits about as long as the lock is held */
    sqlite3_busy_handler(q->db, queue_busy, q);
    /* no checkpoint in a request's commit (copying the WAL into the database and syncing it takes
     * tens of ms): the runs and serve's own connection, which write the same store, do them */
    /* no checkpoint in a request's commit (copying the WAL into the database and syncing it takes
     * tens of ms): the runs and serve's own connection, which write the same store, do them */
    if (sqlite3_exec(q->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "SELECT 1 FROM webhook_events WHERE flow = ? AND delivery = ? AND received_ms >= ? LIMIT 1", -1, &q->dup, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "INSERT INTO webhook_events (flow, received_ms, delivery, records) VALUES (?, ?, ?, ?)", -1, &q->event, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "INSERT INTO webhook_records (event_id, seq, record) VALUES (?, ?, ?)", -1, &q->record, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(q->db, "SELECT count(*) FROM webhook_events WHERE flow = ? AND status = 'queued'", -1, &q->pending, NULL) != SQLITE_OK) {
        queue_fail(q, err, "cannot prepare the webhook queue");
        flow_queue_close(q);
        return NULL;
    }
    return q;
}

/* one event of a batch, inside its transaction: 0 queued, 1 a redelivery, -1 a statement failed */
static int queue_one(FlowQueue *q, FlowQueueItem *it, int64_t now_ms) {
    it->id = 0;
    it->dup = 0;
    if (it->delivery) {   /* the same delivery within 24 h (an earlier event of this batch included): not queued again */
        sqlite3_reset(q->dup);
        sqlite3_bind_text(q->dup, 1, it->flow, -1, SQLITE_STATIC);
        sqlite3_bind_text(q->dup, 2, it->delivery, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q->dup, 3, now_ms - QUEUE_KEEP_MS);
        int r = sqlite3_step(q->dup);
        sqlite3_reset(q->dup);
        if (r == SQLITE_ROW) { it->dup = 1; return 1; }
        if (r != SQLITE_DONE) return -1;
    }
    sqlite3_reset(q->event);
    sqlite3_bind_text(q->event, 1, it->flow, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q->event, 2, now_ms);
    if (it->delivery) sqlite3_bind_text(q->event, 3, it->delivery, -1, SQLITE_STATIC);
    else sqlite3_bind_null(q->event, 3);
    sqlite3_bind_int64(q->event, 4, it->n);
    int rc = sqlite3_step(q->event) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(q->event);
    it->id = sqlite3_last_insert_rowid(q->db);
    for (long i = 0; i < it->n && !rc; i++) {
        sqlite3_reset(q->record);
        sqlite3_bind_int64(q->record, 1, it->id);
        sqlite3_bind_int64(q->record, 2, i);
        sqlite3_bind_text(q->record, 3, it->records[i], (int)it->lens[i], SQLITE_STATIC);
        rc = sqlite3_step(q->record) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(q->record);
    }
    return rc;
}

int flow_queue_add_batch(FlowQueue *q, FlowQueueItem *items, int n, int64_t now_ms, FlowErr *err) {
    if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return queue_fail(q, err, "cannot queue the request");
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) rc = queue_one(q, &items[i], now_ms) < 0 ? -1 : 0;
    if (!rc && sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return 0;
    queue_fail(q, err, "cannot queue the request");
    sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) items[i].id = 0, items[i].dup = 0;
    return -1;
}

int flow_queue_add(FlowQueue *q, const char *flow, const char *delivery, int64_t now_ms, const char *const *records, const size_t *lens,
                   long n, int64_t *id, FlowErr *err) {
    FlowQueueItem it = { flow, delivery, records, lens, n, 0, 0 };
    int r = flow_queue_add_batch(q, &it, 1, now_ms, err);
    *id = it.id;
    return r < 0 ? -1 : it.dup;
}

long flow_queue_pending(FlowQueue *q, const char *flow) {
    long n = -1;
    sqlite3_reset(q->pending);
    sqlite3_bind_text(q->pending, 1, flow, -1, SQLITE_STATIC);
    if (sqlite3_step(q->pending) == SQLITE_ROW) n = (long)sqlite3_column_int64(q->pending, 0);
    sqlite3_reset(q->pending);
    return n;
}

int flow_state_queue_claim(FlowState *st, const char *flow, const char *run_id, FlowQueuedEvent **events, long *n, FlowErr *err) {
    *events = NULL;
    *n = 0;
    const void *a[] = { run_id, flow };
    if (exec_args(st, "UPDATE webhook_events SET run_id = ? WHERE flow = ? AND status = 'queued'", "ss", a, err, NULL)) return -1;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT id, records, taken FROM webhook_events WHERE flow = ? AND run_id = ? AND status = 'queued' "
                                   "ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        return fail_db(st, err, "read the webhook queue");
    sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, run_id, -1, SQLITE_TRANSIENT);
    long cap = 0;
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *events = flow_xrealloc(*events, sizeof **events * (size_t)cap);
        }
        FlowQueuedEvent *e = &(*events)[(*n)++];
        e->id = sqlite3_column_int64(q, 0);
        e->records = (long)sqlite3_column_int64(q, 1);
        e->taken = (long)sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    if (r != SQLITE_DONE) { free(*events); *events = NULL; *n = 0; return fail_db(st, err, "read the webhook queue"); }
    return 0;
}

int flow_state_queue_records(FlowState *st, int64_t event, long from, int max, int (*each)(const char *text, size_t n, long seq, void *ud),
                             void *ud, FlowErr *err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT seq, record FROM webhook_records WHERE event_id = ? AND seq >= ? ORDER BY seq LIMIT ?", -1, &q,
                           NULL) != SQLITE_OK)
        return fail_db(st, err, "read the webhook queue");
    sqlite3_bind_int64(q, 1, event);
    sqlite3_bind_int64(q, 2, from);
    sqlite3_bind_int(q, 3, max);
    int r, got = 0;
    /* the statement is finished before this returns: no read stays open across the run's writes */
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 1);
        if (each(t ? t : "", (size_t)sqlite3_column_bytes(q, 1), (long)sqlite3_column_int64(q, 0), ud)) { r = SQLITE_DONE; break; }
        got++;
    }
    sqlite3_finalize(q);
    if (r != SQLITE_DONE) return fail_db(st, err, "read the webhook queue");
    return got;
}

int flow_state_queue_progress(FlowState *st, int64_t event, long taken, FlowErr *err) {
    int64_t t = taken;
    const void *a[] = { &t, &event, &t };
    return exec_args(st, "UPDATE webhook_events SET taken = ? WHERE id = ? AND status = 'queued' AND taken < ?", "iii", a, err, NULL);
}

int flow_state_queue_done(FlowState *st, const char *flow, const char *run_id, int64_t now_ms, FlowErr *err) {
    const void *a[] = { run_id, flow };
    if (exec_args(st, "UPDATE webhook_events SET run_id = ? WHERE flow = ? AND status = 'queued'", "ss", a, err, NULL)) return -1;
    return queue_run_done(st, flow, run_id, now_ms, err);
}

/* the run's claimed events are done; their records go; done events older than 24 h are purged */
static int queue_run_done(FlowState *st, const char *flow, const char *run_id, int64_t now_ms, FlowErr *err) {
    const void *a[] = { &now_ms, flow, run_id };
    if (exec_args(st, "UPDATE webhook_events SET status = 'done', done_ms = ?, taken = records WHERE flow = ? AND run_id = ? "
                      "AND status = 'queued'", "iss", a, err, NULL)) return -1;
    const void *b[] = { flow, run_id };
    if (exec_args(st, "DELETE FROM webhook_records WHERE event_id IN (SELECT id FROM webhook_events WHERE flow = ? AND run_id = ? "
                      "AND status = 'done')", "ss", b, err, NULL)) return -1;
    int64_t before = now_ms - QUEUE_KEEP_MS;
    const void *c[] = { &before };
    return exec_args(st, "DELETE FROM webhook_events WHERE status = 'done' AND received_ms < ?", "i", c, err, NULL);
}

int flow_state_webhook_secret(FlowState *st, const char *flow, char out[FLOW_WEBHOOK_SECRET_LEN + 1], FlowErr *err) {
    out[0] = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(st->db, "SELECT secret FROM webhook_secrets WHERE flow = ?", -1, &q, NULL) != SQLITE_OK) {
            if (st->read_only) break;   /* a store from before webhooks, read as it is: no secret yet */
            return fail_db(st, err, "read the secret_url secret");
        }
        sqlite3_bind_text(q, 1, flow, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) == SQLITE_ROW) snprintf(out, FLOW_WEBHOOK_SECRET_LEN + 1, "%s", (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        if (out[0] || attempt) break;
        if (st->read_only) break;
        /* none yet: 128 random bits as 32 hex digits, made once (two processes at once keep the first) */
        unsigned char raw[FLOW_WEBHOOK_SECRET_LEN / 2];
        size_t got = 0;
        while (got < sizeof raw) {
            ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
            if (r > 0) got += (size_t)r;
            else if (r < 0 && errno != EINTR) {
                flow_err_set(err, FLOW_ERR_CONNECTION, "cannot make a secret_url secret: getrandom: %s", strerror(errno));
                return -1;
            }
        }
        char hex[FLOW_WEBHOOK_SECRET_LEN + 1];
        for (size_t i = 0; i < sizeof raw; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
        int64_t now = flow_wall_ms();
        const void *a[] = { flow, hex, &now };
        int rc = exec_args(st, "INSERT OR IGNORE INTO webhook_secrets (flow, secret, created_ms) VALUES (?, ?, ?)", "ssi", a, err, NULL);
        explicit_bzero(hex, sizeof hex);
        explicit_bzero(raw, sizeof raw);
        if (rc) return -1;
        /* the store now holds a secret: only its owner reads it (the WAL files take the file's mode) */
        static const char *const ext[] = { "", "-wal", "-shm" };
        for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
            char p[4096];
            snprintf(p, sizeof p, "%s%s", st->path, ext[i]);
            if (chmod(p, 0600) != 0 && errno != ENOENT) {}
        }
    }
    if (!out[0]) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "the state store %s holds no secret_url secret for flow %s yet (it is read-only here)", st->path, flow);
        return -1;
    }
    return 0;
}
