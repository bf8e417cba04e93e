/* state.c — the durable state of an integration: each flow's runs and delta time, the error store
 * (every record error with its data, step, class, message, redacted request/response, run and trace
 * key; open, resolved or superseded), the webhook queue (verified requests' records waiting for a
 * run, secret_url secrets) and one run of a flow at a time. By default one SQLite file (WAL,
 * transactions) per integration, DIR/<integration>.state.db; a file that is not a flowc state store
 * is refused, never reset. With a PostgreSQL DSN (flow_state_open_at: FLOW_STATE_DB, `flowc server
 * --db`) the same tables in a schema of the integration's own, made on first use, so that every
 * process and machine on that database shares the state. Every statement goes through db.h in the
 * SQL both read; what only one backend has (the file's application id, the read-only immutable open,
 * the queue's pragmas and busy handler; the schema; the run lock: flock or an advisory lock) is
 * chosen where the store is opened. */
#define _DEFAULT_SOURCE   /* explicit_bzero */
#include "engine.h"
#include "db.h"
#include "state_pool.h"   /* flow_state_reusable */
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
/* the tables' revision (meta key `tables`): a PostgreSQL store made by an older one is given what the
 * schema text added since (CREATE ... IF NOT EXISTS; a SQLite store runs the text at each writable open) */
#define STATE_TABLES "4"

struct FlowState {
    FlowDb *db;
    char *path;    /* as messages show it: the SQLite file, or the PostgreSQL DSN (password redacted) and the schema */
    char *stem;    /* SQLite: DIR/<integration>: the store is STEM.state.db, a flow's run lock STEM.<flow>.lock */
    char *spec;    /* PostgreSQL: the DSN (the run locks' and the queue's connections; never shown) */
    char *schema;  /* PostgreSQL: the integration's schema, as an SQL identifier (quoted) */
    char *txname;  /* the name of the store's write lock (flow_db_begin_named) */
    int pg;        /* the store is in PostgreSQL */
    int read_only; /* on a read-only file system: opened immutable, for reading */
    int want_tx;   /* a page is on: its first write begins the transaction */
    int in_tx;
    struct FlowLock *locks;   /* PostgreSQL: the run locks taken through it and still held */
    dev_t dev;     /* SQLite: the file opened (a store removed and made again is another file: flow_state_reusable) */
    ino_t ino;
};

/* a run lock (flow_state_lock): an flock'd file, or a PostgreSQL session holding an advisory lock,
 * which is also on its store's list (st->locks) while both are open: a commit first asks whether
 * each lock's session still stands (commit_tx) */
struct FlowLock { int fd; FlowDb *db; char *flow; FlowState *st; FlowLock *next; };

/* The tables, in the SQL both backends read: {int} {id} {autoid} {rowid} are flow_db_schema's words
 * (on SQLite this is exactly the text the store has always been made with; PostgreSQL makes rowid
 * explicit, where `ORDER BY rowid` keeps insertion order). */
static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS flows (flow TEXT PRIMARY KEY, last_success_ms {int}, last_run_id TEXT,"
    "  last_run_ms {int}, last_status TEXT, once_marked {int} NOT NULL DEFAULT 0, delta_layout TEXT);"
    "CREATE TABLE IF NOT EXISTS runs ({rowid}run_id TEXT NOT NULL, flow TEXT NOT NULL, started_ms {int} NOT NULL,"
    "  finished_ms {int}, status TEXT NOT NULL, exported {int}, ignored {int}, imported {int}, errors {int},"
    "  trigger TEXT, due_ms {int}, drift_us {int}, pid {int}, message TEXT,"
    "  PRIMARY KEY (run_id, flow));"
    "CREATE TABLE IF NOT EXISTS errors (id {id}, flow TEXT NOT NULL, step TEXT NOT NULL,"
    "  class TEXT NOT NULL, message TEXT NOT NULL, record TEXT, context TEXT, http TEXT, run_id TEXT,"
    "  at_ms {int} NOT NULL, trace_key TEXT, status TEXT NOT NULL DEFAULT 'open', resolved_ms {int},"
    "  resolved_by TEXT);"
    "CREATE TABLE IF NOT EXISTS error_edits ({rowid}error_id {int} NOT NULL, at_ms {int} NOT NULL, by TEXT NOT NULL, record TEXT);"
    "CREATE INDEX IF NOT EXISTS error_edits_error ON error_edits (error_id);"
    "CREATE INDEX IF NOT EXISTS errors_trace ON errors (flow, trace_key, status);"
    "CREATE INDEX IF NOT EXISTS errors_status ON errors (status, at_ms);"
    "CREATE INDEX IF NOT EXISTS errors_run ON errors (run_id);"
    /* a step's page of open (or resolved) errors in id order (GET .../errors): read in order, not all
     * sorted; without it PostgreSQL, before its first ANALYZE of a table just filled, sorted every open error */
    "CREATE INDEX IF NOT EXISTS errors_page ON errors (flow, step, status, id);"
    "CREATE INDEX IF NOT EXISTS runs_flow ON runs (flow, started_ms);"
    /* the webhook queue (see its section below) */
    "CREATE TABLE IF NOT EXISTS webhook_events (id {autoid}, flow TEXT NOT NULL,"
    "  received_ms {int} NOT NULL, delivery TEXT, records {int} NOT NULL, taken {int} NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'queued', run_id TEXT, done_ms {int});"
    "CREATE INDEX IF NOT EXISTS webhook_events_queue ON webhook_events (flow, status, id);"
    "CREATE INDEX IF NOT EXISTS webhook_events_delivery ON webhook_events (flow, delivery) WHERE delivery IS NOT NULL;"
    /* (a rowid table: a record of 1 KB fits in its b-tree page; WITHOUT ROWID would spill all but
     * ~1,000 bytes of it to an overflow page of its own, 4 KB a record) */
    "CREATE TABLE IF NOT EXISTS webhook_records (event_id {int} NOT NULL, seq {int} NOT NULL, record TEXT NOT NULL,"
    "  PRIMARY KEY (event_id, seq));"
    "CREATE TABLE IF NOT EXISTS webhook_secrets (flow TEXT PRIMARY KEY, secret TEXT NOT NULL, created_ms {int} NOT NULL);";

static sqlite3 *lite(FlowState *st);

static int fail_db(FlowState *st, FlowErr *err, const char *what) {
    flow_err_set(err, FLOW_ERR_CONNECTION, "state store %s: %s: %s", st->path, what, st->pg ? flow_db_error(st->db) : sqlite3_errmsg(lite(st)));
    return -1;
}

/* COMMIT the open transaction; one that fails is rolled back: 0, or -1 with err */
static int commit_tx(FlowState *st, FlowErr *err) {
    /* a run whose lock's session ended (the database restarted, the session was terminated) no
     * longer holds the lock, and another run of the flow may have taken it: it commits nothing more */
    for (const struct FlowLock *l = st->locks; l; l = l->next)
        if (!flow_db_alive(l->db)) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "state store %s: the run lock of flow %s was lost (its session with the "
                         "database ended): nothing more of the run is committed", st->path, l->flow);
            flow_db_rollback(st->db);
            return -1;
        }
    if (flow_db_commit(st->db) == 0) return 0;
    int r = fail_db(st, err, "commit");
    flow_db_rollback(st->db);
    return r;
}

/* a write transaction on the store: SQLite's file lock, or on PostgreSQL the integration's own */
static int begin_tx(FlowState *st) { return flow_db_begin_named(st->db, st->txname); }

void flow_state_close(FlowState *st) {
    if (!st) return;
    for (struct FlowLock *l = st->locks; l; l = l->next) l->st = NULL;   /* (they stay held until unlocked) */
    if (st->in_tx) flow_db_rollback(st->db);
    flow_db_close(st->db);
    free(st->path);
    free(st->stem);
    if (st->spec) explicit_bzero(st->spec, strlen(st->spec));
    free(st->spec);
    free(st->schema);
    free(st->txname);
    free(st);
}

const char *flow_state_path(const FlowState *st) { return st ? st->path : ""; }

int flow_state_reusable(FlowState *st) {
    if (!st || st->read_only || st->in_tx || st->want_tx || st->locks || !flow_db_reusable(st->db)) return 0;
    if (st->pg) return 1;
    struct stat sb;   /* the file it opened is still the store's (not removed, nor replaced by a new one) */
    return stat(st->path, &sb) == 0 && sb.st_dev == st->dev && sb.st_ino == st->ino;
}

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

/* a SQLite store's connection, for what only SQLite has (its file's application id, pragmas) */
static sqlite3 *lite(FlowState *st) { return flow_db_sqlite(st->db); }

static FlowState *refuse(FlowState *st, FlowErr *err, int app) {
    if (app < 0)
        flow_err_set(err, FLOW_ERR_VALUE, "%s is not a flowc state store (%s); move it away, it is not reset", st->path,
                     sqlite3_errmsg(lite(st)));
    else
        flow_err_set(err, FLOW_ERR_VALUE, "%s is an SQLite file of something else, not a flowc state store; move it away, it is not reset",
                     st->path);
    flow_state_close(st);
    return NULL;
}

/* the format this runtime writes; a newer one is refused. 0, or -1 with err */
static int check_format(FlowState *st, FlowErr *err) {
    FlowDbStmt *q = flow_db_prepare(st->db, "SELECT value FROM meta WHERE key = 'format'");
    int rc = 0;
    if (q && flow_db_step(q) == FLOW_DB_ROW) {
        const char *v = flow_db_column_text(q, 0);
        int fmt = v ? atoi(v) : 0;
        if (fmt > STATE_FORMAT) {
            flow_err_set(err, FLOW_ERR_VALUE, "%s was written by a newer flowc (format %d; this one reads %d)", st->path, fmt, STATE_FORMAT);
            rc = -1;
        }
    }
    flow_db_finalize(q);
    return rc;
}

/* the tables (made when missing) and the store's meta rows: 0, or -1 (flow_db_error) */
static int make_tables(FlowState *st, const char *name) {
    char why[256];
    FlowSb b = { 0 };
    if (st->pg) {   /* the integration's schema, made with its tables under the schema lock (flow_db_schema) */
        flow_sb_puts(&b, "CREATE SCHEMA IF NOT EXISTS ");
        flow_sb_puts(&b, st->schema);
        flow_sb_puts(&b, ";");
    }
    flow_sb_puts(&b, schema);
    char *sql = flow_sb_take(&b);
    int rc = flow_db_schema(st->db, sql, "state", why, sizeof why);
    free(sql);
    if (rc) return -1;
    char ins[256];
    snprintf(ins, sizeof ins, "INSERT INTO meta VALUES ('format', '%d'), ('integration', ?) ON CONFLICT (key) DO NOTHING", STATE_FORMAT);
    FlowDbStmt *q = flow_db_prepare(st->db, ins);
    if (q) flow_db_bind_text(q, 1, name);
    if (flow_db_run(q)) return -1;
    return flow_db_run(flow_db_prepare(st->db, "INSERT INTO meta VALUES ('tables', '" STATE_TABLES "') "
                                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
}

/* A new (empty) file becomes a state store, in one transaction: a second process opening it at the
 * same time waits, then finds it made. 0, or -1 with err. */
static int create_store(FlowState *st, const char *name, FlowErr *err) {
    /* WAL is set outside a transaction; setting it twice is harmless */
    if (flow_db_exec(st->db, "PRAGMA journal_mode=WAL")) return fail_db(st, err, "cannot create the tables");
    if (begin_tx(st)) return fail_db(st, err, "cannot create the tables");
    int app = app_id(lite(st)), n = objects(lite(st));
    if (app == STATE_APP_ID) return commit_tx(st, err);
    if (app != 0 || n != 0) {   /* someone else's, made meanwhile */
        flow_db_rollback(st->db);
        flow_err_set(err, FLOW_ERR_VALUE, "%s is an SQLite file of something else, not a flowc state store; move it away, it is not reset", st->path);
        return -1;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d;", STATE_APP_ID);
    if (flow_db_exec(st->db, sql) || make_tables(st, name) || flow_db_commit(st->db)) {
        fail_db(st, err, "cannot create the tables");
        flow_db_rollback(st->db);
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

/* The integration's schema on PostgreSQL: flowstate_<name> as a quoted identifier (a name too long
 * for PostgreSQL's 63 bytes keeps its first 36 and a hash of the whole). */
static char *pg_schema_name(const char *name) {
    char raw[80];
    if (strlen(name) <= 53) snprintf(raw, sizeof raw, "flowstate_%s", name);
    else snprintf(raw, sizeof raw, "flowstate_%.36s_%016llx", name, (unsigned long long)flow_db_lock_key(name));
    FlowSb b = { 0 };
    flow_sb_puts(&b, "\"");
    for (const char *p = raw; *p; p++) flow_sb_put(&b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    flow_sb_puts(&b, "\"");
    return flow_sb_take(&b);
}

/* The store in PostgreSQL (spec: a DSN): the integration's schema, made with its tables on first use. */
static FlowState *open_pg(FlowState *st, const char *spec, const char *name, FlowErr *err) {
    st->pg = 1;
    st->spec = flow_xstrdup(spec);
    st->schema = pg_schema_name(name);
    char shown[1024], why[1400];
    flow_db_redact(spec, shown, sizeof shown);
    FlowSb b = { 0 };
    flow_sb_puts(&b, shown);
    flow_sb_puts(&b, " (schema ");
    flow_sb_puts(&b, st->schema);
    flow_sb_puts(&b, ")");
    st->path = flow_sb_take(&b);
    st->txname = flow_xcalloc(1, strlen(st->schema) + 16);
    sprintf(st->txname, "flowc state %s", st->schema);
    if (!(st->db = flow_db_open(spec, 0, why, sizeof why))) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "the state store: %s", why);
        flow_state_close(st);
        return NULL;
    }
    char *set = flow_xcalloc(1, strlen(st->schema) + 32);
    sprintf(set, "SET search_path TO %s", st->schema);
    int rc = flow_db_session(st->db, set);
    free(set);
    /* made already by this revision of the tables (the usual case): no schema statements, no schema lock */
    FlowDbStmt *q = rc ? NULL : flow_db_prepare(st->db, "SELECT 1 FROM meta WHERE key = 'tables' AND value = '" STATE_TABLES "'");
    int made = q && flow_db_step(q) == FLOW_DB_ROW;
    flow_db_finalize(q);
    if (rc || (!made && make_tables(st, name))) {
        fail_db(st, err, "cannot create the tables");
        flow_state_close(st);
        return NULL;
    }
    if (check_format(st, err)) { flow_state_close(st); return NULL; }
    return st;
}

FlowState *flow_state_open(const char *dir, const char *integration, int read_only, FlowErr *err) {
    return flow_state_open_at(NULL, dir, integration, read_only, err);
}

/* the SQLite store's stem in dir: DIR/<integration>, anything unusual in the name as _ */
static void file_stem(FlowSb *b, const char *dir, const char *name) {
    flow_sb_puts(b, dir);
    flow_sb_puts(b, "/");
    put_file_safe(b, name);
}

int flow_state_file_exists(const char *dir, const char *integration) {
    FlowSb b = { 0 };
    file_stem(&b, dir && *dir ? dir : ".flowstate", integration && *integration ? integration : "flows");
    flow_sb_puts(&b, ".state.db");
    struct stat sb;
    int there = stat(b.p, &sb) == 0;
    free(b.p);
    return there;
}

FlowState *flow_state_open_at(const char *db, const char *dir, const char *integration, int read_only, FlowErr *err) {
    if (!dir || !*dir) dir = ".flowstate";
    FlowState *st = flow_xcalloc(1, sizeof *st);
    const char *name = integration && *integration ? integration : "flows";
    if (db && *db) {
        if (!flow_db_is_postgres(db)) {
            flow_err_set(err, FLOW_ERR_VALUE, "the state store's database is not a PostgreSQL DSN (postgresql://... or host=... dbname=...); "
                                              "a SQLite state store is a directory: --state (FLOW_STATE_DIR)");
            free(st);
            return NULL;
        }
        return open_pg(st, db, name, err);
    }
    FlowSb b = { 0 };
    file_stem(&b, dir, name);
    st->stem = flow_xstrdup(b.p);
    flow_sb_puts(&b, ".state.db");
    st->path = flow_sb_take(&b);
    st->txname = flow_xstrdup(st->path);
    struct stat sb;
    int exists = stat(st->path, &sb) == 0;
    sqlite3 *h = NULL;
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
        int orc = sqlite3_open_v2(uri, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
        free(uri);
        st->db = flow_db_adopt_sqlite(h);
        if (orc != SQLITE_OK) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the state store %s: %s", st->path, h ? sqlite3_errmsg(h) : "out of memory");
            flow_state_close(st);
            return NULL;
        }
        st->read_only = 1;
        int app = app_id(h);
        if (app != STATE_APP_ID) return refuse(st, err, app);
        if (check_format(st, err)) { flow_state_close(st); return NULL; }
        return st;
    }
    if (flow_mkdir_p(dir, err)) { flow_state_close(st); return NULL; }
    int orc = sqlite3_open_v2(st->path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    st->db = flow_db_adopt_sqlite(h);
    if (orc != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the state store %s: %s", st->path, h ? sqlite3_errmsg(h) : "out of memory");
        flow_state_close(st);
        return NULL;
    }
    if (stat(st->path, &sb) == 0) { st->dev = sb.st_dev; st->ino = sb.st_ino; }
    sqlite3_busy_timeout(h, 10000);
    if (sqlite3_db_readonly(h, "main") == 1 && !read_only) {   /* SQLite opened it read-only: not writable */
        flow_err_set(err, FLOW_ERR_CONNECTION, "the state store %s cannot be written (%s): a run records its state there", st->path,
                     access(st->path, W_OK) != 0 ? strerror(errno) : "read-only");
        flow_state_close(st);
        return NULL;
    }
    /* the application id and the objects are read in one read transaction: another process making
     * the store commits both at once, and two separate reads could see its id missing, then its tables */
    int app = -1, nobj = -1;
    if (sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
        app = app_id(h);
        nobj = objects(h);
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
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
    char why[256];
    if (!st->read_only && sqlite3_db_readonly(h, "main") != 1 &&
        (sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
         flow_db_schema(st->db, schema, "state", why, sizeof why))) {
        fail_db(st, err, "the file is damaged or not a flowc state store (it is not reset)");
        flow_state_close(st);
        return NULL;
    }
    if (check_format(st, err)) { flow_state_close(st); return NULL; }
    /* a store made before the delta field's layout was kept gets its column (a second process doing
     * the same at once fails harmlessly) */
    sqlite3_stmt *q = NULL;
    if (!st->read_only && sqlite3_prepare_v2(h, "SELECT delta_layout FROM flows LIMIT 0", -1, &q, NULL) != SQLITE_OK)
        sqlite3_exec(h, "ALTER TABLE flows ADD COLUMN delta_layout TEXT", NULL, NULL, NULL);
    sqlite3_finalize(q);
    q = NULL;
    /* ...and one made before the run history kept why and when each run started, its columns */
    if (!st->read_only && sqlite3_prepare_v2(h, "SELECT trigger FROM runs LIMIT 0", -1, &q, NULL) != SQLITE_OK)
        sqlite3_exec(h, "ALTER TABLE runs ADD COLUMN trigger TEXT; ALTER TABLE runs ADD COLUMN due_ms INTEGER; "
                        "ALTER TABLE runs ADD COLUMN drift_us INTEGER; ALTER TABLE runs ADD COLUMN pid INTEGER; "
                        "ALTER TABLE runs ADD COLUMN message TEXT", NULL, NULL, NULL);
    sqlite3_finalize(q);
    return st;
}

/* ---- one run of a flow at a time ----
 * SQLite: an flock on STEM.<flow>.lock, which holds the runner's pid. The kernel drops the lock when
 * its process ends, however it ends, so a killed run's lock is taken over by the next run. The file
 * stays (removing it would let two processes lock two different files of one name).
 * PostgreSQL: a session advisory lock keyed by the schema and the flow, held by a connection of the
 * lock's own in the run's process (the database drops it when that connection ends: the process
 * ended, however it ended); the holder's pid is that connection's application_name. */

#define LOCK_APP "flowc run pid "

/* the flow's advisory lock key on PostgreSQL */
static int64_t pg_lock_key(const FlowState *st, const char *flow) {
    FlowSb b = { 0 };
    flow_sb_puts(&b, "flowc run ");
    flow_sb_puts(&b, st->schema);
    flow_sb_puts(&b, " ");
    flow_sb_puts(&b, flow);
    char *name = flow_sb_take(&b);
    int64_t key = flow_db_lock_key(name);
    free(name);
    return key;
}

/* the pid (application_name LOCK_APP pid) of the session that holds key; 0 when unknown */
static long pg_lock_holder(FlowDb *db, int64_t key) {
    FlowDbStmt *q = flow_db_prepare(db, "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                                        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                                        "AND l.classid::bigint = ? AND l.objid::bigint = ? LIMIT 1");
    long pid = 0;
    if (q) {
        flow_db_bind_int64(q, 1, (int64_t)(((uint64_t)key >> 32) & 0xffffffffu));
        flow_db_bind_int64(q, 2, (int64_t)((uint64_t)key & 0xffffffffu));
        if (flow_db_step(q) == FLOW_DB_ROW) {
            const char *app = flow_db_column_text(q, 0);
            if (app && strncmp(app, LOCK_APP, strlen(LOCK_APP)) == 0) pid = strtol(app + strlen(LOCK_APP), NULL, 10);
        }
    }
    flow_db_finalize(q);
    return pid;
}

static void pg_lock_name(FlowDb *db, long pid) {
    char sql[96];
    snprintf(sql, sizeof sql, "SET application_name = '" LOCK_APP "%ld'", pid);
    if (flow_db_exec(db, sql)) {}   /* only a message would be wrong */
}

static int pg_lock(FlowState *st, const char *flow, FlowLock **out, long *holder, FlowErr *err) {
    char why[1400];
    FlowDb *db = flow_db_open(st->spec, 0, why, sizeof why);
    if (!db) { flow_err_set(err, FLOW_ERR_CONNECTION, "the run lock of flow %s: %s", flow, why); return -1; }
    int64_t key = pg_lock_key(st, flow);
    flow_db_pin_session(db);   /* (the lock is the session's: one made again holds nothing) */
    pg_lock_name(db, (long)getpid());
    FlowDbStmt *q = flow_db_prepare(db, "SELECT pg_try_advisory_lock(?)");
    if (q) flow_db_bind_int64(q, 1, key);
    int r = q ? flow_db_step(q) : -1;
    int got = r == FLOW_DB_ROW && flow_db_column_int64(q, 0) == 1;
    flow_db_finalize(q);
    if (r != FLOW_DB_ROW) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "state store %s: the run lock of flow %s: %s", st->path, flow, flow_db_error(db));
        flow_db_close(db);
        return -1;
    }
    if (!got) {
        *holder = pg_lock_holder(db, key);
        flow_db_close(db);
        return 1;
    }
    *out = flow_xcalloc(1, sizeof **out);
    (*out)->fd = -1;
    (*out)->db = db;
    (*out)->flow = flow_xstrdup(flow);
    (*out)->st = st;
    (*out)->next = st->locks;
    st->locks = *out;
    return 0;
}

int flow_state_lock(FlowState *st, const char *flow, FlowLock **out, long *holder, FlowErr *err) {
    *out = NULL;
    *holder = 0;
    if (st->pg) return pg_lock(st, flow, out, holder, err);
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
    if (l && l->db) { pg_lock_name(l->db, pid); return; }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", pid);
    if (l && (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, buf, (size_t)n, 0) != n)) {}   /* only a message would be wrong */
}

int flow_state_lock_fd(const FlowLock *l) { return l ? l->fd : -1; }

void flow_state_unlock(FlowLock *l) {
    if (!l) return;
    if (l->db) {   /* the lock ends with its session */
        for (struct FlowLock **p = l->st ? &l->st->locks : NULL; p && *p; p = &(*p)->next)
            if (*p == l) { *p = l->next; break; }
        flow_db_close(l->db);
        free(l->flow);
        free(l);
        return;
    }
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
    flow_db_rollback(st->db);
}

/* binds arguments given as a format: 's' text (NULL = null), 'i' int64 */
static void bind_args(FlowDbStmt *q, const char *fmt, const void *const *args) {
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 's') flow_db_bind_text(q, i + 1, args[i]);
        else flow_db_bind_int64(q, i + 1, *(const int64_t *)args[i]);
    }
}

/* a write's transaction: the one the store wants open for its writes (want_tx) begun if it is not yet; 0, or -1 */
static int write_tx(FlowState *st, FlowErr *err) {
    if (!st->want_tx || st->in_tx) return 0;
    if (begin_tx(st)) return fail_db(st, err, "begin");
    st->in_tx = 1;
    return 0;
}

/* runs one statement with arguments (bind_args); changes: the rows it changed, when not NULL */
static int exec_args(FlowState *st, const char *sql, const char *fmt, const void *const *args, FlowErr *err, int64_t *changes) {
    if (write_tx(st, err)) return -1;
    FlowDbStmt *q = flow_db_prepare(st->db, sql);
    if (!q) return fail_db(st, err, "prepare");
    bind_args(q, fmt, args);
    int rc;
    while ((rc = flow_db_step(q)) == FLOW_DB_ROW) {}
    if (rc == FLOW_DB_DONE && changes) *changes = flow_db_changes(q);
    if (rc != FLOW_DB_DONE) fail_db(st, err, "write");
    flow_db_finalize(q);
    return rc == FLOW_DB_DONE ? 0 : -1;
}

/* a reading statement with its arguments bound (bind_args), or NULL (flow_db_error) */
static FlowDbStmt *query(FlowState *st, const char *sql, const char *fmt, const void *const *args) {
    FlowDbStmt *q = flow_db_prepare(st->db, sql);
    if (q) bind_args(q, fmt, args);
    return q;
}

static int queue_run_done(FlowState *st, const char *flow, const char *run_id, int64_t now_ms, FlowErr *err);

/* ---- runs and delta ---- */

int flow_state_last_success(FlowState *st, const char *flow, int64_t *ms, int *have, FlowErr *err) {
    *have = 0;
    *ms = 0;
    const void *a[] = { flow };
    FlowDbStmt *q = query(st, "SELECT last_success_ms FROM flows WHERE flow = ? AND last_success_ms IS NOT NULL", "s", a);
    int r = q ? flow_db_step(q) : -1;
    if (r == FLOW_DB_ROW) { *ms = flow_db_column_int64(q, 0); *have = 1; }
    flow_db_finalize(q);
    return r < 0 ? fail_db(st, err, "read") : 0;
}

int flow_state_delta_layout(FlowState *st, const char *flow, char *out, size_t cap) {
    out[0] = 0;
    /* (a store read as it is may be older than the column: no layout) */
    const void *a[] = { flow };
    FlowDbStmt *q = query(st, "SELECT delta_layout FROM flows WHERE flow = ? AND delta_layout IS NOT NULL", "s", a);
    if (q && flow_db_step(q) == FLOW_DB_ROW) snprintf(out, cap, "%s", flow_db_column_text(q, 0));
    flow_db_finalize(q);
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
    if (begin_tx(st)) return fail_db(st, err, "begin");
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
                           "last_status = excluded.last_status, once_marked = flows.once_marked + excluded.once_marked", "ssisi", b, err, NULL);
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
    if (rc) { flow_db_rollback(st->db); return rc; }
    return commit_tx(st, err);
}

/* ---- the error store ---- */

long flow_state_error_add(FlowState *st, const FlowStateError *e, FlowErr *err) {
    const void *a[] = { e->flow, e->step, e->cls, e->message, e->record, e->context, e->http, e->run_id, &e->at_ms, e->trace_key };
    if (write_tx(st, err)) return -1;
    FlowDbStmt *q = flow_db_prepare_insert(st->db, "INSERT INTO errors (flow, step, class, message, record, context, http, run_id, at_ms, trace_key) "
                                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!q) return fail_db(st, err, "prepare");
    bind_args(q, "ssssssssis", a);
    int64_t lid = flow_db_insert(q);
    if (lid < 0) fail_db(st, err, "write");
    flow_db_finalize(q);
    if (lid < 0) return -1;
    long id = (long)lid;
    if (e->trace_key) {   /* an older open error of the same record is superseded by this one */
        char by[32];
        snprintf(by, sizeof by, "error %ld", id);
        const void *b[] = { &e->at_ms, by, e->flow, e->trace_key, &lid };
        if (exec_args(st, "UPDATE errors SET status = 'superseded', resolved_ms = ?, resolved_by = ? "
                          "WHERE flow = ? AND trace_key = ? AND status = 'open' AND id <> ?", "isssi", b, err, NULL)) return -1;
    }
    return id;
}

long flow_state_open_errors(FlowState *st, const char *flow) {
    const void *a[] = { flow };
    FlowDbStmt *q = query(st, "SELECT count(*) FROM errors WHERE status = 'open' AND (?1 IS NULL OR flow = ?1)", "s", a);
    if (!q) return -1;
    long n = 0;
    if (flow_db_step(q) == FLOW_DB_ROW) n = (long)flow_db_column_int64(q, 0);
    flow_db_finalize(q);
    return n;
}

int flow_state_resolve_key(FlowState *st, const char *flow, const char *trace_key, const char *by, int64_t at_ms, FlowErr *err) {
    const void *a[] = { &at_ms, by, flow, trace_key };
    return exec_args(st, "UPDATE errors SET status = 'resolved', resolved_ms = ?, resolved_by = ? "
                         "WHERE flow = ? AND trace_key = ? AND status = 'open'", "isss", a, err, NULL);
}

int flow_state_error_resolve(FlowState *st, long id, const char *by, int64_t at_ms, FlowErr *err) {
    int64_t lid = id, n = 0;
    const void *a[] = { &at_ms, by, &lid };
    if (exec_args(st, "UPDATE errors SET status = 'resolved', resolved_ms = ?, resolved_by = ? WHERE id = ? AND status = 'open'",
                  "isi", a, err, &n)) return -1;
    return n ? 0 : 1;
}

static cJSON *json_col(FlowDbStmt *q, int i) {
    const char *t = flow_db_column_text(q, i);
    if (!t) return cJSON_CreateNull();
    cJSON *j = flow_json_parse(t, flow_db_column_bytes(q, i), NULL);
    return j ? j : flow_json_raw_text(t, flow_db_column_bytes(q, i));
}

static void str_col(cJSON *o, const char *name, FlowDbStmt *q, int i) {
    const char *t = flow_db_column_text(q, i);
    if (t) cJSON_AddStringToObject(o, name, t);
    else cJSON_AddNullToObject(o, name);
}

/* an error's edits, oldest first: [{"at", "by", "record"}], or NULL (none, or a store from before
 * edits, read as it is) */
static cJSON *edit_history(FlowState *st, int64_t id) {
    const void *a[] = { &id };
    FlowDbStmt *q = query(st, "SELECT at_ms, by, record FROM error_edits WHERE error_id = ? ORDER BY rowid", "i", a);
    cJSON *h = NULL;
    while (q && flow_db_step(q) == FLOW_DB_ROW) {
        if (!h) h = cJSON_CreateArray();
        cJSON *o = cJSON_CreateObject();
        char iso[40];
        flow_format_iso8601(flow_db_column_int64(q, 0), iso);
        cJSON_AddStringToObject(o, "at", iso);
        str_col(o, "by", q, 1);
        cJSON_AddItemToObject(o, "record", json_col(q, 2));
        cJSON_AddItemToArray(h, o);
    }
    flow_db_finalize(q);
    return h;
}

cJSON *flow_state_errors(FlowState *st, const char *flow, const char *cls, const char *step, const long *ids, int nids, int open_only,
                         FlowErr *err) {
    FlowErrorQuery f = { .flow = flow, .cls = cls, .step = step, .ids = ids, .nids = nids, .open_only = open_only };
    return flow_state_errors_where(st, &f, err);
}

cJSON *flow_state_errors_where(FlowState *st, const FlowErrorQuery *f, FlowErr *err) {
    /* (an error's edit history is read only when it has one: a query per error was a round trip each
     * on PostgreSQL, 101 for a page of 100) */
    const char *sql = "SELECT id, flow, step, class, message, record, context, http, run_id, at_ms, trace_key, status, resolved_ms, resolved_by, "
                      "CASE WHEN EXISTS (SELECT 1 FROM error_edits WHERE error_id = errors.id) THEN 1 ELSE 0 END "
                      "FROM errors WHERE (?1 IS NULL OR flow = ?1) AND (?2 IS NULL OR class = ?2) AND (?3 = 0 OR status = 'open') "
                      "AND (CAST(?4 AS BIGINT) IS NULL OR id = ?4) AND (?5 IS NULL OR step = ?5) AND (?6 IS NULL OR run_id = ?6) "
                      "AND (?7 = 0 OR status = 'resolved') AND id > ?8 AND at_ms > ?9 AND at_ms < ?10 ORDER BY id LIMIT ?11";
    FlowDbStmt *q = flow_db_prepare(st->db, sql);
    if (!q) { fail_db(st, err, "read"); return NULL; }
    const char *flow = f->flow, *cls = f->cls, *step = f->step;
    const long *ids = f->ids;
    int nids = f->nids, open_only = f->open_only;
    int64_t lo = f->at_lo ? *f->at_lo : INT64_MIN, hi = f->at_hi ? *f->at_hi : INT64_MAX, limit = f->limit > 0 ? f->limit : INT64_MAX;
    cJSON *arr = cJSON_CreateArray();
    int rc = FLOW_DB_DONE;
    for (int k = 0; k < (nids ? nids : 1) && rc == FLOW_DB_DONE; k++) {
        flow_db_reset(q);
        flow_db_bind_text(q, 1, flow);
        flow_db_bind_text(q, 2, cls);
        flow_db_bind_int64(q, 3, open_only);
        if (nids) flow_db_bind_int64(q, 4, ids[k]);
        else flow_db_bind_null(q, 4);
        flow_db_bind_text(q, 5, step);
        flow_db_bind_text(q, 6, f->run_id);
        flow_db_bind_int64(q, 7, f->resolved_only);
        flow_db_bind_int64(q, 8, f->after_id);
        flow_db_bind_int64(q, 9, lo);
        flow_db_bind_int64(q, 10, hi);
        flow_db_bind_int64(q, 11, limit);
        while ((rc = flow_db_step(q)) == FLOW_DB_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "id", (double)flow_db_column_int64(q, 0));
            str_col(o, "flow", q, 1);
            str_col(o, "step", q, 2);
            str_col(o, "class", q, 3);
            str_col(o, "message", q, 4);
            cJSON_AddItemToObject(o, "record", json_col(q, 5));
            if (!flow_db_column_null(q, 6)) cJSON_AddItemToObject(o, "context", json_col(q, 6));
            if (!flow_db_column_null(q, 7)) cJSON_AddItemToObject(o, "http", json_col(q, 7));
            str_col(o, "run_id", q, 8);
            char iso[40];
            flow_format_iso8601(flow_db_column_int64(q, 9), iso);
            cJSON_AddStringToObject(o, "at", iso);
            str_col(o, "trace_key", q, 10);
            str_col(o, "status", q, 11);
            if (!flow_db_column_null(q, 12)) {
                flow_format_iso8601(flow_db_column_int64(q, 12), iso);
                cJSON_AddStringToObject(o, "resolved_at", iso);
                str_col(o, "resolved_by", q, 13);
            }
            cJSON *h = flow_db_column_int64(q, 14) ? edit_history(st, flow_db_column_int64(q, 0)) : NULL;
            if (h) cJSON_AddItemToObject(o, "history", h);
            cJSON_AddItemToArray(arr, o);
        }
    }
    flow_db_finalize(q);
    if (rc != FLOW_DB_DONE) { fail_db(st, err, "read"); cJSON_Delete(arr); return NULL; }
    return arr;
}

int flow_state_error_edit(FlowState *st, long id, const char *record, const char *by, int64_t at_ms, FlowErr *err) {
    if (begin_tx(st)) return fail_db(st, err, "begin");
    int64_t lid = id, n = 0;
    const void *a[] = { &lid, &at_ms, by, &lid };
    int rc = exec_args(st, "INSERT INTO error_edits (error_id, at_ms, by, record) SELECT ?, ?, ?, record FROM errors "
                           "WHERE id = ? AND status = 'open'", "iisi", a, err, &n);
    if (!rc && n) {
        const void *b[] = { record, &lid };
        rc = exec_args(st, "UPDATE errors SET record = ? WHERE id = ?", "si", b, err, NULL);
    }
    if (rc || !n) { flow_db_rollback(st->db); return rc ? -1 : 1; }
    return commit_tx(st, err);
}

int flow_state_knows(FlowState *st, int step, const char *flow, const char *name) {
    const char *sql = step ? "SELECT 1 FROM errors WHERE step = ?1 AND (?2 IS NULL OR flow = ?2) LIMIT 1"
                           : "SELECT 1 FROM errors WHERE flow = ?1 LIMIT 1";
    const void *a[] = { name, flow };
    FlowDbStmt *q = query(st, sql, step ? "ss" : "s", a);
    int found = q && flow_db_step(q) == FLOW_DB_ROW;
    flow_db_finalize(q);
    return found;
}

int flow_state_purge(FlowState *st, int64_t before_ms, FlowErr *err) {
    const void *a[] = { &before_ms };
    return exec_args(st, "DELETE FROM errors WHERE status <> 'open' AND coalesce(resolved_ms, at_ms) < ?", "i", a, err, NULL);
}

cJSON *flow_state_show(FlowState *st, const char *flow, FlowErr *err) {
    const char *sql = "SELECT f.flow, f.last_success_ms, f.last_run_id, f.last_run_ms, f.last_status, "
                      "(SELECT count(*) FROM errors e WHERE e.flow = f.flow AND e.status = 'open'), f.once_marked, f.delta_layout "
                      "FROM flows f WHERE (?1 IS NULL OR f.flow = ?1) ORDER BY f.flow";
    /* (a store read as it is may be older than the delta_layout column) */
    const char *old = "SELECT f.flow, f.last_success_ms, f.last_run_id, f.last_run_ms, f.last_status, "
                      "(SELECT count(*) FROM errors e WHERE e.flow = f.flow AND e.status = 'open'), f.once_marked, NULL "
                      "FROM flows f WHERE (?1 IS NULL OR f.flow = ?1) ORDER BY f.flow";
    const void *a[] = { flow };
    FlowDbStmt *q = query(st, sql, "s", a);
    if (!q) q = query(st, old, "s", a);
    if (!q) { fail_db(st, err, "read"); return NULL; }
    cJSON *arr = cJSON_CreateArray();
    char iso[40];
    int rc;
    while ((rc = flow_db_step(q)) == FLOW_DB_ROW) {
        cJSON *o = cJSON_CreateObject();
        str_col(o, "flow", q, 0);
        if (!flow_db_column_null(q, 1)) {
            flow_format_iso8601(flow_db_column_int64(q, 1), iso);
            cJSON_AddStringToObject(o, "delta_since", iso);
        } else cJSON_AddNullToObject(o, "delta_since");
        str_col(o, "last_run_id", q, 2);
        if (!flow_db_column_null(q, 3)) {
            flow_format_iso8601(flow_db_column_int64(q, 3), iso);
            cJSON_AddStringToObject(o, "last_run_at", iso);
        }
        str_col(o, "last_status", q, 4);
        cJSON_AddNumberToObject(o, "open_errors", (double)flow_db_column_int64(q, 5));
        cJSON_AddNumberToObject(o, "once_marked", (double)flow_db_column_int64(q, 6));
        str_col(o, "delta_layout", q, 7);
        cJSON_AddItemToArray(arr, o);
    }
    flow_db_finalize(q);
    if (rc != FLOW_DB_DONE) { fail_db(st, err, "read"); cJSON_Delete(arr); return NULL; }
    return arr;
}

int flow_state_reset(FlowState *st, const char *flow, FlowErr *err) {
    const void *a[] = { flow };
    return exec_args(st, "UPDATE flows SET last_success_ms = NULL WHERE (?1 IS NULL OR flow = ?1)", "s", a, err, NULL);
}

cJSON *flow_state_run_error_classes(FlowState *st, const char *run_id, FlowErr *err) {
    const void *a[] = { run_id };
    FlowDbStmt *q = query(st, "SELECT class, count(*) FROM errors WHERE run_id = ?1 GROUP BY class ORDER BY class", "s", a);
    if (!q) { fail_db(st, err, "read"); return NULL; }
    cJSON *o = cJSON_CreateObject();
    int rc;
    while ((rc = flow_db_step(q)) == FLOW_DB_ROW) cJSON_AddNumberToObject(o, flow_db_column_text(q, 0), (double)flow_db_column_int64(q, 1));
    flow_db_finalize(q);
    if (rc != FLOW_DB_DONE) { fail_db(st, err, "read"); cJSON_Delete(o); return NULL; }
    return o;
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

/* (a row of the run already there is replaced whole, as a new row would be) */
int flow_state_run_skipped(FlowState *st, const char *flow, const char *run_id, int64_t at_ms, const char *status, const char *trigger,
                           int64_t due_ms, int64_t drift_us, const char *message, FlowErr *err) {
    const void *a[] = { run_id, flow, &at_ms, &at_ms, status, trigger, &due_ms, &drift_us, message };
    return exec_args(st, "INSERT INTO runs (run_id, flow, started_ms, finished_ms, status, trigger, due_ms, drift_us, message) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, -1), CASE WHEN ?7 = -1 THEN NULL ELSE ?8 END, ?9) "
                         "ON CONFLICT (run_id, flow) DO UPDATE SET started_ms = excluded.started_ms, finished_ms = excluded.finished_ms, "
                         "status = excluded.status, exported = NULL, ignored = NULL, imported = NULL, errors = NULL, "
                         "trigger = excluded.trigger, due_ms = excluded.due_ms, drift_us = excluded.drift_us, pid = NULL, "
                         "message = excluded.message", "ssiissiis", a, err, NULL);
}

int flow_state_run_abort(FlowState *st, const char *flow, const char *run_id, int64_t finished_ms, const char *status, const char *message,
                         FlowErr *err) {
    int64_t n = 0;
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
    int64_t n = 0;
    const void *a[] = { &now_ms, flow };
    if (exec_args(st, "UPDATE runs SET finished_ms = ?, status = 'crashed', message = coalesce(message, "
                      "'its process ended without recording the end of the run (killed, or the machine stopped)') "
                      "WHERE flow = ? AND status = 'running'", "is", a, err, &n)) return -1;
    return (int)n;
}

/* one row of runs as JSON: the columns of RUN_COLS in that order */
#define RUN_COLS "run_id, flow, status, started_ms, finished_ms, exported, ignored, imported, errors, trigger, due_ms, drift_us, pid, message"
#define RUN_COLS_OLD "run_id, flow, status, started_ms, finished_ms, exported, ignored, imported, errors, NULL, NULL, NULL, NULL, NULL"
static cJSON *run_row(FlowDbStmt *q) {
    cJSON *o = cJSON_CreateObject();
    char iso[40];
    str_col(o, "run_id", q, 0);
    str_col(o, "flow", q, 1);
    str_col(o, "status", q, 2);
    int64_t start = flow_db_column_int64(q, 3);
    flow_format_iso8601(start, iso);
    cJSON_AddStringToObject(o, "started_at", iso);
    if (!flow_db_column_null(q, 4)) {
        int64_t end = flow_db_column_int64(q, 4);
        flow_format_iso8601(end, iso);
        cJSON_AddStringToObject(o, "finished_at", iso);
        cJSON_AddNumberToObject(o, "duration_ms", (double)(end - start));
    } else {
        cJSON_AddNullToObject(o, "finished_at");
        cJSON_AddNullToObject(o, "duration_ms");
    }
    static const char *const counts[] = { "exported", "ignored", "imported", "errors" };
    for (int i = 0; i < 4; i++)
        if (!flow_db_column_null(q, 5 + i)) cJSON_AddItemToObject(o, counts[i], flow_json_int(flow_db_column_int64(q, 5 + i)));
        else cJSON_AddNullToObject(o, counts[i]);
    str_col(o, "trigger", q, 9);
    if (!flow_db_column_null(q, 10)) {
        flow_format_iso8601(flow_db_column_int64(q, 10), iso);
        cJSON_AddStringToObject(o, "due_at", iso);
    } else cJSON_AddNullToObject(o, "due_at");
    if (!flow_db_column_null(q, 11)) cJSON_AddNumberToObject(o, "drift_ms", (double)flow_db_column_int64(q, 11) / 1000.0);
    else cJSON_AddNullToObject(o, "drift_ms");
    if (!flow_db_column_null(q, 12)) cJSON_AddItemToObject(o, "pid", flow_json_int(flow_db_column_int64(q, 12)));
    else cJSON_AddNullToObject(o, "pid");
    str_col(o, "message", q, 13);
    return o;
}

/* prepares sql (with %s for the columns) with the columns of this store: an older one read as it is
 * lacks the columns of the history */
static FlowDbStmt *prepare_runs(FlowState *st, const char *fmt) {
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, RUN_COLS);
    FlowDbStmt *q = flow_db_prepare(st->db, sql);
    if (q) return q;
    snprintf(sql, sizeof sql, fmt, RUN_COLS_OLD);
    return flow_db_prepare(st->db, sql);
}

cJSON *flow_state_run_get(FlowState *st, const char *flow, const char *run_id, FlowErr *err) {
    FlowDbStmt *q = prepare_runs(st, "SELECT %s FROM runs WHERE run_id = ? AND flow = ?");
    if (!q) { fail_db(st, err, "read"); return NULL; }
    flow_db_bind_text(q, 1, run_id);
    flow_db_bind_text(q, 2, flow);
    cJSON *o = NULL;
    int rc = flow_db_step(q);
    if (rc == FLOW_DB_ROW) o = run_row(q);
    else if (rc != FLOW_DB_DONE) fail_db(st, err, "read");
    else err->msg[0] = 0;
    flow_db_finalize(q);
    return o;
}

cJSON *flow_state_runs(FlowState *st, const char *flow, long limit, FlowErr *err) {
    FlowDbStmt *q = prepare_runs(st, "SELECT %s FROM runs WHERE (?1 IS NULL OR flow = ?1) ORDER BY started_ms DESC, rowid DESC LIMIT ?2");
    if (!q) { fail_db(st, err, "read"); return NULL; }
    flow_db_bind_text(q, 1, flow);
    flow_db_bind_int64(q, 2, limit > 0 ? limit : INT64_MAX);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = flow_db_step(q)) == FLOW_DB_ROW) cJSON_AddItemToArray(arr, run_row(q));
    if (rc != FLOW_DB_DONE) { fail_db(st, err, "read"); cJSON_Delete(arr); arr = NULL; }
    flow_db_finalize(q);
    return arr;
}

int flow_state_last_ok_run(FlowState *st, const char *flow, int64_t *started_ms, int64_t *finished_ms, int *have, FlowErr *err) {
    *have = 0;
    *started_ms = *finished_ms = 0;
    const void *a[] = { flow };
    FlowDbStmt *q = query(st, "SELECT started_ms, coalesce(finished_ms, started_ms) FROM runs WHERE flow = ? "
                              "AND status IN ('ok', 'record_errors', 'errors') ORDER BY started_ms DESC LIMIT 1", "s", a);
    if (!q) return fail_db(st, err, "read");
    if (flow_db_step(q) == FLOW_DB_ROW) {
        *started_ms = flow_db_column_int64(q, 0);
        *finished_ms = flow_db_column_int64(q, 1);
        *have = 1;
    }
    flow_db_finalize(q);
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
    FlowDb *db;
    char *path;      /* as messages show it (flow_state_path) */
    char *txname;    /* the store's write lock (flow_db_begin_named) */
    int pg;
    FlowDbStmt *dup, *event, *record, *pending;
    int64_t busy_since_us;    /* when the store was first found locked, for the busy handler */
};

static int queue_fail(FlowQueue *q, FlowErr *err, const char *what) {
    sqlite3 *h = flow_db_sqlite(q->db);
    int code = h ? sqlite3_errcode(h) : 0;
    flow_err_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? FLOW_ERR_INTERMITTENT : FLOW_ERR_CONNECTION,
                 "state store %s: %s: %s", q->path, what, h ? sqlite3_errmsg(h) : flow_db_error(q->db));
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
    flow_db_finalize(q->dup);
    flow_db_finalize(q->event);
    flow_db_finalize(q->record);
    flow_db_finalize(q->pending);
    flow_db_close(q->db);
    free(q->path);
    free(q->txname);
    free(q);
}

/* the queue's own connection: on SQLite with its busy handler and commits on disk; 0, or -1 with err */
static int queue_connect(FlowQueue *q, FlowState *st, FlowErr *err) {
    if (st->pg) {
        char why[1400];
        if (!(q->db = flow_db_open(st->spec, 0, why, sizeof why))) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "the webhook queue's state store: %s", why);
            return -1;
        }
        char *set = flow_xcalloc(1, strlen(st->schema) + 32);
        sprintf(set, "SET search_path TO %s", st->schema);
        int rc = flow_db_session(q->db, set);
        free(set);
        return rc ? queue_fail(q, err, "cannot open the webhook queue") : 0;
    }
    sqlite3 *h = NULL;
    int orc = sqlite3_open_v2(st->path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    q->db = flow_db_adopt_sqlite(h);
    if (orc != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open the state store %s: %s", st->path, h ? sqlite3_errmsg(h) : "out of memory");
        return -1;
    }
    /* a run's transaction (another process) holds the store for a moment: poll every 0.1..2 ms, not
     * SQLite's default steps of up to 100 ms, so a request waits about as long as the lock is held */
    sqlite3_busy_handler(h, queue_busy, q);
    /* no checkpoint in a request's commit (copying the WAL into the database and syncing it takes
     * tens of ms): the runs and serve's own connection, which write the same store, do them */
    if (sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;", NULL, NULL, NULL) != SQLITE_OK)
        return queue_fail(q, err, "cannot prepare the webhook queue");
    return 0;
}

FlowQueue *flow_queue_open(FlowState *st, FlowErr *err) {
    if (st->read_only) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "the state store %s is read-only: webhook requests are queued there", st->path);
        return NULL;
    }
    FlowQueue *q = flow_xcalloc(1, sizeof *q);
    q->path = flow_xstrdup(st->path);
    q->txname = flow_xstrdup(st->txname);
    q->pg = st->pg;
    if (queue_connect(q, st, err)) { flow_queue_close(q); return NULL; }
    if (!(q->dup = flow_db_prepare(q->db, "SELECT 1 FROM webhook_events WHERE flow = ? AND delivery = ? AND received_ms >= ? LIMIT 1")) ||
        !(q->event = flow_db_prepare_insert(q->db, "INSERT INTO webhook_events (flow, received_ms, delivery, records) VALUES (?, ?, ?, ?)")) ||
        !(q->record = flow_db_prepare(q->db, "INSERT INTO webhook_records (event_id, seq, record) VALUES (?, ?, ?)")) ||
        !(q->pending = flow_db_prepare(q->db, "SELECT count(*) FROM webhook_events WHERE flow = ? AND status = 'queued'"))) {
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
        flow_db_reset(q->dup);
        flow_db_bind_text(q->dup, 1, it->flow);
        flow_db_bind_text(q->dup, 2, it->delivery);
        flow_db_bind_int64(q->dup, 3, now_ms - QUEUE_KEEP_MS);
        int r = flow_db_step(q->dup);
        flow_db_reset(q->dup);
        if (r == FLOW_DB_ROW) { it->dup = 1; return 1; }
        if (r != FLOW_DB_DONE) return -1;
    }
    flow_db_reset(q->event);
    flow_db_bind_text(q->event, 1, it->flow);
    flow_db_bind_int64(q->event, 2, now_ms);
    flow_db_bind_text(q->event, 3, it->delivery);
    flow_db_bind_int64(q->event, 4, it->n);
    int64_t id = flow_db_insert(q->event);
    it->id = id > 0 ? id : 0;
    int rc = id > 0 ? 0 : -1;
    flow_db_reset(q->event);
    for (long i = 0; i < it->n && !rc; i++) {
        flow_db_reset(q->record);
        flow_db_bind_int64(q->record, 1, it->id);
        flow_db_bind_int64(q->record, 2, i);
        flow_db_bind_textn(q->record, 3, it->records[i], it->lens[i]);
        rc = flow_db_step(q->record) == FLOW_DB_DONE ? 0 : -1;
        flow_db_reset(q->record);
    }
    return rc;
}

int flow_queue_add_batch(FlowQueue *q, FlowQueueItem *items, int n, int64_t now_ms, FlowErr *err) {
    if (flow_db_begin_named(q->db, q->txname)) return queue_fail(q, err, "cannot queue the request");
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) rc = queue_one(q, &items[i], now_ms) < 0 ? -1 : 0;
    if (!rc && flow_db_commit(q->db) == 0) return 0;
    queue_fail(q, err, "cannot queue the request");
    flow_db_rollback(q->db);
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
    flow_db_reset(q->pending);
    flow_db_bind_text(q->pending, 1, flow);
    if (flow_db_step(q->pending) == FLOW_DB_ROW) n = (long)flow_db_column_int64(q->pending, 0);
    flow_db_reset(q->pending);
    return n;
}

int flow_state_queue_claim(FlowState *st, const char *flow, const char *run_id, FlowQueuedEvent **events, long *n, FlowErr *err) {
    *events = NULL;
    *n = 0;
    const void *a[] = { run_id, flow };
    if (exec_args(st, "UPDATE webhook_events SET run_id = ? WHERE flow = ? AND status = 'queued'", "ss", a, err, NULL)) return -1;
    const void *b[] = { flow, run_id };
    FlowDbStmt *q = query(st, "SELECT id, records, taken FROM webhook_events WHERE flow = ? AND run_id = ? AND status = 'queued' "
                              "ORDER BY id", "ss", b);
    if (!q) return fail_db(st, err, "read the webhook queue");
    long cap = 0;
    int r;
    while ((r = flow_db_step(q)) == FLOW_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *events = flow_xrealloc(*events, sizeof **events * (size_t)cap);
        }
        FlowQueuedEvent *e = &(*events)[(*n)++];
        e->id = flow_db_column_int64(q, 0);
        e->records = (long)flow_db_column_int64(q, 1);
        e->taken = (long)flow_db_column_int64(q, 2);
    }
    flow_db_finalize(q);
    if (r != FLOW_DB_DONE) { free(*events); *events = NULL; *n = 0; return fail_db(st, err, "read the webhook queue"); }
    return 0;
}

int flow_state_queue_records(FlowState *st, int64_t event, long from, int max, int (*each)(const char *text, size_t n, long seq, void *ud),
                             void *ud, FlowErr *err) {
    int64_t f = from, m = max;
    const void *a[] = { &event, &f, &m };
    FlowDbStmt *q = query(st, "SELECT seq, record FROM webhook_records WHERE event_id = ? AND seq >= ? ORDER BY seq LIMIT ?", "iii", a);
    if (!q) return fail_db(st, err, "read the webhook queue");
    int r, got = 0;
    /* the statement is finished before this returns: no read stays open across the run's writes */
    while ((r = flow_db_step(q)) == FLOW_DB_ROW) {
        const char *t = flow_db_column_text(q, 1);
        if (each(t ? t : "", flow_db_column_bytes(q, 1), (long)flow_db_column_int64(q, 0), ud)) { r = FLOW_DB_DONE; break; }
        got++;
    }
    if (r != FLOW_DB_DONE) fail_db(st, err, "read the webhook queue");
    flow_db_finalize(q);
    return r != FLOW_DB_DONE ? -1 : got;
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
        const void *a[] = { flow };
        FlowDbStmt *q = query(st, "SELECT secret FROM webhook_secrets WHERE flow = ?", "s", a);
        if (!q) {
            if (st->read_only) break;   /* a store from before webhooks, read as it is: no secret yet */
            return fail_db(st, err, "read the secret_url secret");
        }
        int got_row = flow_db_step(q);
        if (got_row == FLOW_DB_ROW) snprintf(out, FLOW_WEBHOOK_SECRET_LEN + 1, "%s", flow_db_column_text(q, 0));
        flow_db_finalize(q);
        if (got_row < 0) return fail_db(st, err, "read the secret_url secret");
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
        const void *b[] = { flow, hex, &now };
        int rc = exec_args(st, "INSERT INTO webhook_secrets (flow, secret, created_ms) VALUES (?, ?, ?) ON CONFLICT (flow) DO NOTHING", "ssi", b,
                           err, NULL);
        explicit_bzero(hex, sizeof hex);
        explicit_bzero(raw, sizeof raw);
        if (rc) return -1;
        /* the store now holds a secret: only its owner reads it (the WAL files take the file's mode) */
        static const char *const ext[] = { "", "-wal", "-shm" };
        for (size_t i = 0; !st->pg && i < sizeof ext / sizeof ext[0]; i++) {
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
