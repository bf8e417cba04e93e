/* store.c — the workspace's store: DIR/store.db (SQLite, WAL) by default, or a PostgreSQL database
 * (`--db postgresql://...`) that several servers share; its schema (the workspace's mark, tokens,
 * integrations, their revisions, the audit log, the flows' state) and its connections, since the
 * listener answers on a thread per connection: store_lock gives the calling thread a connection of its
 * own until the matching store_unlock (nested calls share it). SQLite keeps one connection, so its
 * users take turns as before; PostgreSQL a pool of up to STORE_PG_CONNS, opened as they are needed, so
 * requests do not wait for each other's round trips. Every statement goes through db.h, in the SQL both
 * backends read. */
#define _GNU_SOURCE
#include "server.h"
#include "db.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define STORE_PG_CONNS 8

struct SrvStore {
    FlowDb *db;                    /* the first connection (in the pool too) */
    char *spec;                /* what flow_db_open took: DIR/store.db or the DSN */
    pthread_mutex_t mu;        /* the pool */
    pthread_cond_t cv;         /* a connection came back */
    FlowDb *idle[STORE_PG_CONNS];
    int nidle, nopen, max;
};

/* the connections this thread holds, by store (a thread holds at most a few stores' at once) */
#define HELD_MAX 4
static _Thread_local struct { SrvStore *st; FlowDb *db; int depth; } held[HELD_MAX];

static int held_at(SrvStore *st) {
    for (int i = 0; i < HELD_MAX; i++) if (held[i].st == st) return i;
    return -1;
}

static const char schema[] =
    /* meta: key `workspace` marks the store as one (its creation time) */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    /* tokens: only the SHA-256 of the secret; scope NULL for full access; expires/revoked: ms or NULL */
    "CREATE TABLE IF NOT EXISTS tokens(id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scope TEXT,"
    " created BIGINT NOT NULL, expires BIGINT, revoked BIGINT, expiry_audited INTEGER NOT NULL DEFAULT 0);"
    /* integrations: the head revision; a clone names its origin and the origin's revision it was made from */
    "CREATE TABLE IF NOT EXISTS integrations(id TEXT PRIMARY KEY, head BIGINT NOT NULL, origin TEXT, origin_rev BIGINT,"
    " created BIGINT NOT NULL);"
    /* every accepted change: the whole source text; kind create|update|snapshot|revert|pull|clone|delete */
    "CREATE TABLE IF NOT EXISTS revisions(integration TEXT NOT NULL, rev BIGINT NOT NULL, kind TEXT NOT NULL, message TEXT,"
    " text TEXT NOT NULL, token TEXT, created BIGINT NOT NULL, PRIMARY KEY(integration, rev));"
    /* the audit log: append-only, each entry chained to the one before by SHA-256 (audit.c) */
    "CREATE TABLE IF NOT EXISTS audit(seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, token TEXT, token_name TEXT, addr TEXT,"
    " action TEXT NOT NULL, kind TEXT NOT NULL, resource TEXT NOT NULL, detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS audit_resource ON audit(resource);"
    /* a flow's operational state that is not its source: disabled (PATCH {"disabled": true}) */
    "CREATE TABLE IF NOT EXISTS flow_state(flow TEXT PRIMARY KEY, disabled INTEGER NOT NULL);";

/* whether the store is marked a workspace: 1, 0 (no mark, or no tables yet), or -1 (a store error, in why) */
static int is_workspace(FlowDb *db, char *why, size_t cap) {
    FlowDbStmt *q = flow_db_prepare(db, "SELECT value FROM meta WHERE key = 'workspace'");
    int r = q ? flow_db_step(q) : -1;
    flow_db_finalize(q);
    if (r < 0 && (strstr(flow_db_error(db), "42P01") || strstr(flow_db_error(db), "no such table"))) return 0;   /* no meta table */
    if (r < 0) snprintf(why, cap, "the store: %s", flow_db_error(db));
    return r < 0 ? -1 : r == FLOW_DB_ROW;
}

SrvStore *store_open(const char *dir, const char *dsn, int create, char *why, size_t cap) {
    char path[4096], shown[4200];
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(why, cap, "%s is not a directory%s", dir, create ? "" : " (make a workspace with `flowc server init DIR`)");
        return NULL;
    }
    if (dsn && !flow_db_is_postgres(dsn)) {
        flow_db_redact(dsn, shown, sizeof shown);
        snprintf(why, cap, "--db takes a PostgreSQL DSN (postgresql://USER@HOST/DB or `host=... dbname=...`), not `%.200s`", shown);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/store.db", dir);
    if (!dsn && !create && stat(path, &sb) != 0) {
        snprintf(why, cap, "%s is not a workspace: no store.db (make one with `flowc server init DIR`, or name its PostgreSQL store with --db)",
                 dir);
        return NULL;
    }
    FlowDb *db = flow_db_open(dsn ? dsn : path, create, why, cap);
    if (!db) return NULL;
    if (dsn) flow_db_redact(dsn, shown, sizeof shown);
    else snprintf(shown, sizeof shown, "%s", path);
    /* a PostgreSQL database serves only when `init` made it a workspace (a SQLite one: its file is the mark) */
    int ws = dsn && !create ? is_workspace(db, why, cap) : 1;
    if (ws <= 0) {
        if (ws == 0) snprintf(why, cap, "%s is not a workspace's store (make one with `flowc server init DIR --db DSN`)", shown);
        flow_db_close(db);
        return NULL;
    }
    if (flow_db_schema(db, schema, "workspace", why, cap)) { flow_db_close(db); return NULL; }
    if (create) {
        ws = is_workspace(db, why, cap);
        if (ws != 0) {
            if (ws > 0) snprintf(why, cap, "%s already holds a workspace", shown);
            flow_db_close(db);
            return NULL;
        }
        char now[32];
        snprintf(now, sizeof now, "%lld", (long long)flow_wall_ms());
        FlowDbStmt *q = flow_db_prepare(db, "INSERT INTO meta(key, value) VALUES('workspace', ?)");
        if (q) flow_db_bind_text(q, 1, now);
        if (flow_db_run(q)) {
            snprintf(why, cap, "the store: %s", flow_db_error(db));
            flow_db_close(db);
            return NULL;
        }
    }
    if (!dsn) chmod(path, 0600);
    SrvStore *st = flow_xcalloc(1, sizeof *st);
    st->db = db;
    st->spec = flow_xstrdup(dsn ? dsn : path);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->idle[st->nidle++] = db;
    st->nopen = 1;
    st->max = dsn ? STORE_PG_CONNS : 1;
    return st;
}

void store_close(SrvStore *st) {
    if (!st) return;
    for (int i = 0; i < st->nidle; i++) flow_db_close(st->idle[i]);   /* every one is idle: no request runs */
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    if (st->spec) {   /* a DSN may hold a password */
        memset(st->spec, 0, strlen(st->spec));
        free(st->spec);
    }
    free(st);
}

void store_lock(SrvStore *st) {
    int h = held_at(st);
    if (h >= 0) { held[h].depth++; return; }
    h = held_at(NULL);
    if (h < 0) abort();   /* more stores at once than any caller holds */
    pthread_mutex_lock(&st->mu);
    FlowDb *db = NULL;
    while (!db) {
        if (st->nidle) db = st->idle[--st->nidle];
        else if (st->nopen < st->max) {
            st->nopen++;   /* counted while it opens, outside the pool's lock */
            pthread_mutex_unlock(&st->mu);
            char why[600];
            db = flow_db_open(st->spec, 0, why, sizeof why);
            pthread_mutex_lock(&st->mu);
            if (!db) st->max = --st->nopen;   /* the database takes no more: make do with those open */
        } else pthread_cond_wait(&st->cv, &st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    held[h].st = st;
    held[h].db = db;
    held[h].depth = 1;
}

void store_unlock(SrvStore *st) {
    int h = held_at(st);
    if (h < 0 || --held[h].depth > 0) return;
    FlowDb *db = held[h].db;
    if (flow_db_in_transaction(db)) flow_db_rollback(db);   /* a transaction never outlives its lock */
    held[h].st = NULL;
    held[h].db = NULL;
    pthread_mutex_lock(&st->mu);
    st->idle[st->nidle++] = db;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

FlowDb *store_db(SrvStore *st) {
    int h = held_at(st);
    if (h >= 0) return held[h].db;
    fprintf(stderr, "flowc server: internal error: the store used without store_lock\n");
    abort();
}

const char *store_spec(SrvStore *st) { return st->spec; }
int store_shared(SrvStore *st) { return flow_db_kind(st->db) == FLOW_DB_POSTGRES; }

int store_begin(SrvStore *st) { return flow_db_begin(store_db(st)); }
int store_commit(SrvStore *st) { return flow_db_commit(store_db(st)); }
void store_rollback(SrvStore *st) { flow_db_rollback(store_db(st)); }

void store_iso(int64_t ms, char out[32]) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[80];
    snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", b);
}
