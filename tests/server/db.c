/* tests/server/db.c — unit test of the store's statement API (server/db.h) on its real backends: a
 * SQLite file, and a PostgreSQL database when a DSN is given (the server-pg suite's). The same checks
 * on each: schema words, typed binds read back (NULL, text with quotes and `?`, int64, bytes with
 * NULs), `?N` reused, `?` inside a literal left alone, RETURNING, changes, transactions, the write
 * lock making a second connection's db_begin wait, errors, the store's clock; and db_redact.
 * Usage: server_db SQLITE_FILE [PG_DSN]. Prints `N passed, N failed`; exit 1 on a failure. */
#define _DEFAULT_SOURCE 1
#include "../unit/check.h"
#include "db.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void redact(const char *in, const char *want) {
    char out[512];
    db_redact(in, out, sizeof out);
    check(strcmp(out, want) == 0, "db_redact(%s): %s, expected %s", in, out, want);
}

typedef struct Waiter { const char *spec; int64_t began, waited; int rc; } Waiter;

/* a second connection's write transaction: how long its db_begin waited */
static void *second_writer(void *arg) {
    Waiter *w = arg;
    char why[600];
    Db *db = db_open(w->spec, 0, why, sizeof why);
    if (!db) { w->rc = -2; return NULL; }
    int64_t t0 = mono_ms();
    w->rc = db_begin(db);
    w->waited = mono_ms() - t0;
    if (!w->rc) {
        DbStmt *s = db_prepare(db, "INSERT INTO t(name, n) VALUES('second', 2)");
        if (db_run(s) || db_commit(db)) w->rc = -3;
    }
    db_close(db);
    return NULL;
}

static void backend(const char *spec, const char *label) {
    char why[1200], c[200];
    snprintf(c, sizeof c, "%s", label);
    cur_case = c;
    Db *db = db_open(spec, 1, why, sizeof why);
    check(db != NULL, "open: %s", why);
    if (!db) return;
    check(db_kind(db) == (db_is_postgres(spec) ? DB_POSTGRES : DB_SQLITE), "kind");
    db_exec(db, "DROP TABLE IF EXISTS t");
    check(db_schema(db, "CREATE TABLE IF NOT EXISTS t (id {autoid}, name TEXT, n BIGINT, b {blob})", "t", why, sizeof why) == 0, "schema: %s", why);
    check(db_schema(db, "CREATE TABLE IF NOT EXISTS t (id {autoid}, name TEXT, n BIGINT, b {blob})", "t", why, sizeof why) == 0, "schema again: %s", why);

    /* binds read back, ids from RETURNING */
    static const unsigned char bytes[] = { 0, 1, 0, 255, '\\', 'x', 0 };
    const char *odd = "it's ? $1 \"q\" ?2 \\";
    DbStmt *s = db_prepare(db, "INSERT INTO t(name, n, b) VALUES(?, ?, ?) RETURNING id");
    check(s != NULL, "prepare insert: %s", db_error(db));
    db_bind_text(s, 1, odd);
    db_bind_int64(s, 2, (int64_t)1 << 62);
    db_bind_blob(s, 3, bytes, sizeof bytes);
    check(db_step(s) == DB_ROW && db_column_int64(s, 0) == 1, "the first id: %s", db_error(db));
    db_finalize(s);
    s = db_prepare(db, "INSERT INTO t(name, n, b) VALUES(?1, ?2, ?3) RETURNING id");
    db_bind_text(s, 1, NULL);
    db_bind_null(s, 2);
    db_bind_null(s, 3);
    check(db_step(s) == DB_ROW && db_column_int64(s, 0) == 2, "the second id: %s", db_error(db));
    db_finalize(s);
    s = db_prepare(db, "SELECT id, name, n, b FROM t ORDER BY id");
    check(s && db_step(s) == DB_ROW, "select: %s", db_error(db));
    if (s) {
        check(db_column_text(s, 1) && strcmp(db_column_text(s, 1), odd) == 0, "text: %s", db_column_text(s, 1));
        check(db_column_bytes(s, 1) == strlen(odd), "text bytes %zu", db_column_bytes(s, 1));
        check(db_column_int64(s, 2) == (int64_t)1 << 62, "int64: %lld", (long long)db_column_int64(s, 2));
        check(db_column_bytes(s, 3) == sizeof bytes && memcmp(db_column_blob(s, 3), bytes, sizeof bytes) == 0, "blob: %zu bytes",
              db_column_bytes(s, 3));
        check(!db_column_null(s, 1) && !db_column_null(s, 3), "not null");
        check(db_step(s) == DB_ROW && db_column_null(s, 1) && db_column_null(s, 2) && db_column_null(s, 3) && db_column_text(s, 1) == NULL
                  && db_column_blob(s, 3) == NULL && db_column_int64(s, 2) == 0,
              "nulls read as NULL");
        check(db_step(s) == DB_DONE, "two rows");
    }
    db_finalize(s);

    /* ?N reused, NULL text in `?1 IS NULL OR col = ?1`, ? in a literal */
    for (int k = 0; k < 2; k++) {
        s = db_prepare(db, "SELECT count(*) FROM t WHERE (?1 IS NULL OR name = ?1) AND '?' = '?'");
        db_bind_text(s, 1, k ? odd : NULL);
        check(s && db_step(s) == DB_ROW && db_column_int64(s, 0) == (k ? 1 : 2), "?1 reused (%s): %lld %s", k ? "text" : "NULL",
              s ? (long long)db_column_int64(s, 0) : -1LL, db_error(db));
        db_finalize(s);
    }
    s = db_prepare(db, "SELECT 'a?b', 'it''s ?'");
    check(s && db_step(s) == DB_ROW && strcmp(db_column_text(s, 0), "a?b") == 0 && strcmp(db_column_text(s, 1), "it's ?") == 0,
          "a literal's ? is not a parameter: %s", db_error(db));
    db_finalize(s);

    /* changes; upsert */
    s = db_prepare(db, "UPDATE t SET n = ? WHERE id > 0");
    db_bind_int64(s, 1, 7);
    check(s && db_step(s) == DB_DONE && db_changes(s) == 2, "changes: %ld", s ? db_changes(s) : -1L);
    db_finalize(s);
    db_exec(db, "DROP TABLE IF EXISTS kv");
    check(db_exec(db, "CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)") == 0, "kv: %s", db_error(db));
    for (int i = 1; i <= 2; i++) {
        s = db_prepare(db, "INSERT INTO kv(k, v) VALUES('a', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
        db_bind_int64(s, 1, i);
        check(db_run(s) == 0, "upsert %d: %s", i, db_error(db));
    }
    s = db_prepare(db, "SELECT v FROM kv WHERE k = 'a'");
    check(s && db_step(s) == DB_ROW && db_column_int64(s, 0) == 2, "upsert read back");
    db_finalize(s);

    /* transactions */
    check(!db_in_transaction(db) && db_begin(db) == 0 && db_in_transaction(db), "begin");
    db_run(db_prepare(db, "INSERT INTO t(name) VALUES('rolled back')"));
    db_rollback(db);
    check(!db_in_transaction(db), "after rollback");
    s = db_prepare(db, "SELECT count(*) FROM t WHERE name = 'rolled back'");
    check(s && db_step(s) == DB_ROW && db_column_int64(s, 0) == 0, "a rolled back row is gone");
    db_finalize(s);

    /* the write lock: a second connection's db_begin waits until this transaction ends */
    check(db_begin(db) == 0, "begin the first writer: %s", db_error(db));
    Waiter w = { spec, 0, 0, -1 };
    pthread_t th;
    pthread_create(&th, NULL, second_writer, &w);
    usleep(400000);
    db_run(db_prepare(db, "INSERT INTO t(name, n) VALUES('first', 1)"));
    check(db_commit(db) == 0, "commit the first writer: %s", db_error(db));
    pthread_join(th, NULL);
    check(w.rc == 0 && w.waited >= 300, "the second writer waited %lld ms (rc %d)", (long long)w.waited, w.rc);
    s = db_prepare(db, "SELECT name FROM t WHERE name IN ('first', 'second') ORDER BY id");
    check(s && db_step(s) == DB_ROW && strcmp(db_column_text(s, 0), "first") == 0 && db_step(s) == DB_ROW
              && strcmp(db_column_text(s, 0), "second") == 0,
          "the writers took turns");
    db_finalize(s);

    /* errors name what went wrong; the connection goes on */
    s = db_prepare(db, "SELECT nope FROM t");
    check(!s || db_step(s) < 0, "a bad statement fails");
    check(strstr(db_error(db), "nope") != NULL, "the error names the column: %s", db_error(db));
    db_finalize(s);
    s = db_prepare(db, "SELECT 1");
    check(s && db_step(s) == DB_ROW && db_column_int64(s, 0) == 1, "the connection goes on after an error");
    db_finalize(s);

    /* the store's clock */
    int64_t now = db_now_ms(db), here = (int64_t)time(NULL) * 1000;
    check(now > 0 && llabs((long long)(now - here)) < 300000, "the store's clock: %lld, here %lld", (long long)now, (long long)here);
    db_exec(db, "DROP TABLE t; DROP TABLE kv");
    db_close(db);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: server_db SQLITE_FILE [PG_DSN]\n"); return 2; }
    cur_case = "redact";
    redact("postgresql://u:pw@h:5432/db?sslmode=require", "postgresql://u:<redacted>@h:5432/db?sslmode=require");
    redact("postgres://u@h/db", "postgres://u@h/db");
    redact("postgresql://u:p@ss@h/db", "postgresql://u:<redacted>@h/db");
    redact("postgresql://h/db?user=u&password=pw&x=1", "postgresql://h/db?user=u&password=<redacted>&x=1");
    redact("host=h password=pw dbname=d", "host=h password=<redacted> dbname=d");
    redact("host=h password='p w\\' x' dbname=d", "host=h password=<redacted> dbname=d");
    redact("password = pw", "password = <redacted>");
    redact("/tmp/ws/store.db", "/tmp/ws/store.db");
    char small[8];
    db_redact("host=h password=secret", small, sizeof small);
    check(strlen(small) == 7 && !strstr(small, "secret"), "cut short: %s", small);
    check(db_is_postgres("postgresql://h/db") && db_is_postgres("postgres://h") && db_is_postgres("host=h dbname=d"), "DSNs");
    check(!db_is_postgres("/tmp/x.db") && !db_is_postgres("store.db") && !db_is_postgres("a=b/c") && !db_is_postgres(""), "paths");

    unlink(argv[1]);
    backend(argv[1], "sqlite");
    if (argc == 3) backend(argv[2], "postgres");
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
