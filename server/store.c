/* store.c — the workspace's store: DIR/store.db (SQLite, WAL), its schema (tokens, integrations,
 * their revisions, the audit log) and one lock around its use, since the listener answers on a thread
 * per connection. The SQL is kept to what SQLite and PostgreSQL both read (no AUTOINCREMENT, no
 * INSERT OR REPLACE), so a PostgreSQL backend can take the same statements. */
#define _GNU_SOURCE
#include "server.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct SrvStore {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char schema[] =
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

SrvStore *store_open(const char *dir, int create, char *why, size_t cap) {
    char path[4096];
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(why, cap, "%s is not a directory%s", dir, create ? "" : " (make a workspace with `flowc server init DIR`)");
        return NULL;
    }
    snprintf(path, sizeof path, "%s/store.db", dir);
    if (!create && stat(path, &sb) != 0) {
        snprintf(why, cap, "%s is not a workspace: no store.db (make one with `flowc server init DIR`)", dir);
        return NULL;
    }
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(why, cap, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    char *err = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(db, schema, NULL, NULL, &err) != SQLITE_OK) {
        snprintf(why, cap, "%s: %s", path, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_close(db);
        return NULL;
    }
    chmod(path, 0600);
    SrvStore *st = flow_xcalloc(1, sizeof *st);
    st->db = db;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&st->lock, &a);
    pthread_mutexattr_destroy(&a);
    return st;
}

void store_close(SrvStore *st) {
    if (!st) return;
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

struct sqlite3 *store_db(SrvStore *st) { return st->db; }
void store_lock(SrvStore *st) { pthread_mutex_lock(&st->lock); }
void store_unlock(SrvStore *st) { pthread_mutex_unlock(&st->lock); }

int store_begin(SrvStore *st) { return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1; }
int store_commit(SrvStore *st) { return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1; }
void store_rollback(SrvStore *st) { sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL); }

int64_t store_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void store_iso(int64_t ms, char out[32]) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[80];
    snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (int)(ms % 1000));
    snprintf(out, 32, "%.31s", b);
}
