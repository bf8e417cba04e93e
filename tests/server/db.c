/* tests/server/db.c — unit test of the store's statement API (server/db.h) on its real backends: a
 * SQLite file, and a PostgreSQL database when a DSN is given (the server-pg suite's). The same checks
 * on each: schema words, typed binds read back (NULL, text with quotes and `?`, int64, bytes with
 * NULs), `?N` reused, `?` inside a literal left alone, RETURNING, changes, transactions, the write
 * lock making a second connection's flow_db_begin wait (a named one: the same name waits, another does
 * not), a statement reset and run again, the state store's schema words ({id} {int} {rowid}: insertion
 * order as `ORDER BY rowid`), errors, the store's clock, flow_db_reusable (a statement out, a
 * transaction open); on PostgreSQL a session the server ended (pg_terminate_backend) made again before
 * the next statement, which runs, and a pinned one (flow_db_pin_session) not; and flow_db_redact.
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
    flow_db_redact(in, out, sizeof out);
    check(strcmp(out, want) == 0, "flow_db_redact(%s): %s, expected %s", in, out, want);
}

typedef struct Waiter { const char *spec, *name; int64_t began, waited; int rc; } Waiter;

/* a second connection's write transaction (named when name is set): how long its begin waited */
static void *second_writer(void *arg) {
    Waiter *w = arg;
    char why[600];
    FlowDb *db = flow_db_open(w->spec, 0, why, sizeof why);
    if (!db) { w->rc = -2; return NULL; }
    int64_t t0 = mono_ms();
    w->rc = w->name ? flow_db_begin_named(db, w->name) : flow_db_begin(db);
    w->waited = mono_ms() - t0;
    if (!w->rc) {
        FlowDbStmt *s = flow_db_prepare(db, "INSERT INTO t(name, n) VALUES('second', 2)");
        if (flow_db_run(s) || flow_db_commit(db)) w->rc = -3;
    }
    flow_db_close(db);
    return NULL;
}

static void backend(const char *spec, const char *label) {
    char why[1200], c[200];
    snprintf(c, sizeof c, "%s", label);
    cur_case = c;
    FlowDb *db = flow_db_open(spec, 1, why, sizeof why);
    check(db != NULL, "open: %s", why);
    if (!db) return;
    check(flow_db_kind(db) == (flow_db_is_postgres(spec) ? FLOW_DB_POSTGRES : FLOW_DB_SQLITE), "kind");
    flow_db_exec(db, "DROP TABLE IF EXISTS t");
    check(flow_db_schema(db, "CREATE TABLE IF NOT EXISTS t (id {autoid}, name TEXT, n BIGINT, b {blob})", "t", why, sizeof why) == 0, "schema: %s", why);
    check(flow_db_schema(db, "CREATE TABLE IF NOT EXISTS t (id {autoid}, name TEXT, n BIGINT, b {blob})", "t", why, sizeof why) == 0, "schema again: %s", why);

    /* binds read back, ids from RETURNING */
    static const unsigned char bytes[] = { 0, 1, 0, 255, '\\', 'x', 0 };
    const char *odd = "it's ? $1 \"q\" ?2 \\";
    FlowDbStmt *s = flow_db_prepare(db, "INSERT INTO t(name, n, b) VALUES(?, ?, ?) RETURNING id");
    check(s != NULL, "prepare insert: %s", flow_db_error(db));
    flow_db_bind_text(s, 1, odd);
    flow_db_bind_int64(s, 2, (int64_t)1 << 62);
    flow_db_bind_blob(s, 3, bytes, sizeof bytes);
    check(flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == 1, "the first id: %s", flow_db_error(db));
    flow_db_finalize(s);
    s = flow_db_prepare(db, "INSERT INTO t(name, n, b) VALUES(?1, ?2, ?3) RETURNING id");
    flow_db_bind_text(s, 1, NULL);
    flow_db_bind_null(s, 2);
    flow_db_bind_null(s, 3);
    check(flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == 2, "the second id: %s", flow_db_error(db));
    flow_db_finalize(s);
    s = flow_db_prepare(db, "SELECT id, name, n, b FROM t ORDER BY id");
    check(s && flow_db_step(s) == FLOW_DB_ROW, "select: %s", flow_db_error(db));
    if (s) {
        check(flow_db_column_text(s, 1) && strcmp(flow_db_column_text(s, 1), odd) == 0, "text: %s", flow_db_column_text(s, 1));
        check(flow_db_column_bytes(s, 1) == strlen(odd), "text bytes %zu", flow_db_column_bytes(s, 1));
        check(flow_db_column_int64(s, 2) == (int64_t)1 << 62, "int64: %lld", (long long)flow_db_column_int64(s, 2));
        check(flow_db_column_bytes(s, 3) == sizeof bytes && memcmp(flow_db_column_blob(s, 3), bytes, sizeof bytes) == 0, "blob: %zu bytes",
              flow_db_column_bytes(s, 3));
        check(!flow_db_column_null(s, 1) && !flow_db_column_null(s, 3), "not null");
        check(flow_db_step(s) == FLOW_DB_ROW && flow_db_column_null(s, 1) && flow_db_column_null(s, 2) && flow_db_column_null(s, 3) && flow_db_column_text(s, 1) == NULL
                  && flow_db_column_blob(s, 3) == NULL && flow_db_column_int64(s, 2) == 0,
              "nulls read as NULL");
        check(flow_db_step(s) == FLOW_DB_DONE, "two rows");
    }
    flow_db_finalize(s);

    /* ?N reused, NULL text in `?1 IS NULL OR col = ?1`, ? in a literal */
    for (int k = 0; k < 2; k++) {
        s = flow_db_prepare(db, "SELECT count(*) FROM t WHERE (?1 IS NULL OR name = ?1) AND '?' = '?'");
        flow_db_bind_text(s, 1, k ? odd : NULL);
        check(s && flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == (k ? 1 : 2), "?1 reused (%s): %lld %s", k ? "text" : "NULL",
              s ? (long long)flow_db_column_int64(s, 0) : -1LL, flow_db_error(db));
        flow_db_finalize(s);
    }
    s = flow_db_prepare(db, "SELECT 'a?b', 'it''s ?'");
    check(s && flow_db_step(s) == FLOW_DB_ROW && strcmp(flow_db_column_text(s, 0), "a?b") == 0 && strcmp(flow_db_column_text(s, 1), "it's ?") == 0,
          "a literal's ? is not a parameter: %s", flow_db_error(db));
    flow_db_finalize(s);

    /* changes; upsert */
    s = flow_db_prepare(db, "UPDATE t SET n = ? WHERE id > 0");
    flow_db_bind_int64(s, 1, 7);
    check(s && flow_db_step(s) == FLOW_DB_DONE && flow_db_changes(s) == 2, "changes: %ld", s ? flow_db_changes(s) : -1L);
    flow_db_finalize(s);
    flow_db_exec(db, "DROP TABLE IF EXISTS kv");
    check(flow_db_exec(db, "CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)") == 0, "kv: %s", flow_db_error(db));
    for (int i = 1; i <= 2; i++) {
        s = flow_db_prepare(db, "INSERT INTO kv(k, v) VALUES('a', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
        flow_db_bind_int64(s, 1, i);
        check(flow_db_run(s) == 0, "upsert %d: %s", i, flow_db_error(db));
    }
    s = flow_db_prepare(db, "SELECT v FROM kv WHERE k = 'a'");
    check(s && flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == 2, "upsert read back");
    flow_db_finalize(s);

    /* transactions */
    check(!flow_db_in_transaction(db) && flow_db_begin(db) == 0 && flow_db_in_transaction(db), "begin");
    flow_db_run(flow_db_prepare(db, "INSERT INTO t(name) VALUES('rolled back')"));
    flow_db_rollback(db);
    check(!flow_db_in_transaction(db), "after rollback");
    s = flow_db_prepare(db, "SELECT count(*) FROM t WHERE name = 'rolled back'");
    check(s && flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == 0, "a rolled back row is gone");
    flow_db_finalize(s);

    /* the write lock: a second connection's flow_db_begin waits until this transaction ends */
    check(flow_db_begin(db) == 0, "begin the first writer: %s", flow_db_error(db));
    Waiter w = { spec, NULL, 0, 0, -1 };
    pthread_t th;
    pthread_create(&th, NULL, second_writer, &w);
    usleep(400000);
    flow_db_run(flow_db_prepare(db, "INSERT INTO t(name, n) VALUES('first', 1)"));
    check(flow_db_commit(db) == 0, "commit the first writer: %s", flow_db_error(db));
    pthread_join(th, NULL);
    check(w.rc == 0 && w.waited >= 300, "the second writer waited %lld ms (rc %d)", (long long)w.waited, w.rc);
    s = flow_db_prepare(db, "SELECT name FROM t WHERE name IN ('first', 'second') ORDER BY id");
    check(s && flow_db_step(s) == FLOW_DB_ROW && strcmp(flow_db_column_text(s, 0), "first") == 0 && flow_db_step(s) == FLOW_DB_ROW
              && strcmp(flow_db_column_text(s, 0), "second") == 0,
          "the writers took turns");
    flow_db_finalize(s);

    /* a named write lock: on PostgreSQL the same name waits and another does not (SQLite: the file's lock,
     * so both wait) */
    for (int same = 1; same >= 0; same--) {
        check(flow_db_begin_named(db, "state one") == 0, "begin named: %s", flow_db_error(db));
        Waiter n = { spec, same ? "state one" : "state two", 0, 0, -1 };
        pthread_create(&th, NULL, second_writer, &n);
        usleep(400000);
        check(flow_db_commit(db) == 0, "commit named: %s", flow_db_error(db));
        pthread_join(th, NULL);
        int waits = same || !flow_db_is_postgres(spec);
        check(n.rc == 0 && (waits ? n.waited >= 300 : n.waited < 300), "a writer of %s name waited %lld ms (rc %d)", same ? "the same" : "another",
              (long long)n.waited, n.rc);
    }

    /* a statement reset and run again with new binds */
    s = flow_db_prepare(db, "SELECT count(*) FROM t WHERE name = ?");
    for (int k = 0; k < 3 && s; k++) {
        if (k) flow_db_reset(s);
        flow_db_bind_text(s, 1, k == 1 ? "first" : "nobody");
        check(flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == (k == 1), "reset, run %d: %s", k, flow_db_error(db));
    }
    flow_db_finalize(s);

    /* the state store's words: {id} {int}, and {rowid} whose order is insertion order on both */
    flow_db_exec(db, "DROP TABLE IF EXISTS w");
    check(flow_db_schema(db, "CREATE TABLE IF NOT EXISTS w ({rowid}k TEXT PRIMARY KEY, v {int} NOT NULL)", "w", why, sizeof why) == 0, "w: %s", why);
    static const char *const ks[] = { "c", "a", "b" };
    for (int i = 0; i < 3; i++) {
        s = flow_db_prepare(db, "INSERT INTO w (k, v) VALUES (?, ?)");
        flow_db_bind_text(s, 1, ks[i]);
        flow_db_bind_int64(s, 2, (int64_t)1 << 40);
        check(flow_db_run(s) == 0, "insert w: %s", flow_db_error(db));
    }
    s = flow_db_prepare(db, "SELECT k, v FROM w ORDER BY rowid");
    for (int i = 0; i < 3 && s; i++)
        check(flow_db_step(s) == FLOW_DB_ROW && strcmp(flow_db_column_text(s, 0), ks[i]) == 0 && flow_db_column_int64(s, 1) == (int64_t)1 << 40,
              "w in insertion order, %d: %s", i, flow_db_error(db));
    flow_db_finalize(s);
    flow_db_exec(db, "DROP TABLE IF EXISTS e");
    check(flow_db_schema(db, "CREATE TABLE IF NOT EXISTS e (id {id}, x TEXT)", "e", why, sizeof why) == 0, "e: %s", why);
    s = flow_db_prepare(db, "INSERT INTO e (x) VALUES ('x') RETURNING id");
    check(s && flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == 1, "{id}: the first is 1: %s", flow_db_error(db));
    flow_db_finalize(s);
    flow_db_exec(db, "DROP TABLE w; DROP TABLE e");

    /* errors name what went wrong; the connection goes on */
    s = flow_db_prepare(db, "SELECT nope FROM t");
    check(!s || flow_db_step(s) < 0, "a bad statement fails");
    check(strstr(flow_db_error(db), "nope") != NULL, "the error names the column: %s", flow_db_error(db));
    flow_db_finalize(s);
    s = flow_db_prepare(db, "SELECT 1");
    check(s && flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == 1, "the connection goes on after an error");
    flow_db_finalize(s);

    /* reusable by another user only with nothing of its last one's left */
    check(flow_db_reusable(db), "an idle connection is reusable");
    s = flow_db_prepare(db, "SELECT 1");
    check(!flow_db_reusable(db), "reusable with a statement out");
    flow_db_finalize(s);
    check(flow_db_begin(db) == 0 && !flow_db_reusable(db), "reusable in a transaction");
    flow_db_rollback(db);
    check(flow_db_reusable(db), "reusable again: %s", flow_db_error(db));

    /* PostgreSQL: a session the server ended is made again before the next statement (which runs,
     * instead of failing on the old one); a pinned one stays ended */
    if (flow_db_kind(db) == FLOW_DB_POSTGRES) {
        FlowDb *other = flow_db_open(spec, 0, why, sizeof why);
        check(other != NULL, "a second connection: %s", why);
        for (int pinned = 0; pinned < 2 && other; pinned++) {
            FlowDb *victim = flow_db_open(spec, 0, why, sizeof why);
            if (!victim) { check(0, "open: %s", why); break; }
            if (pinned) flow_db_pin_session(victim);
            char set[120], app[40];
            snprintf(app, sizeof app, "flowc-unit-victim-%d", pinned);
            snprintf(set, sizeof set, "SET application_name = '%s'", app);
            check(flow_db_session(victim, set) == 0, "application_name");
            s = flow_db_prepare(other, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE application_name = ?) x");
            if (s) flow_db_bind_text(s, 1, app);
            check(s && flow_db_step(s) == FLOW_DB_ROW && flow_db_column_int64(s, 0) == 1, "terminated: %s", flow_db_error(other));
            flow_db_finalize(s);
            for (int k = 0; k < 50 && flow_db_alive(victim); k++) usleep(20000);   /* (the goodbye arrives) */
            check(!flow_db_alive(victim) && !flow_db_reusable(victim), "pinned %d: the ended session is seen", pinned);
            s = flow_db_prepare(victim, "SELECT current_setting('application_name')");
            int r = s ? flow_db_step(s) : -1;
            if (!pinned)
                check(r == FLOW_DB_ROW && strcmp(flow_db_column_text(s, 0), app) == 0,
                      "made again with its session settings: %d %s", r, flow_db_error(victim));
            else
                check(r < 0 && !flow_db_alive(victim), "a pinned session is not made again: %d", r);
            flow_db_finalize(s);
            flow_db_close(victim);
        }
        flow_db_close(other);
    }

    /* the store's clock */
    int64_t now = flow_db_now_ms(db), here = (int64_t)time(NULL) * 1000;
    check(now > 0 && llabs((long long)(now - here)) < 300000, "the store's clock: %lld, here %lld", (long long)now, (long long)here);
    flow_db_exec(db, "DROP TABLE t; DROP TABLE kv");
    flow_db_close(db);
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
    flow_db_redact("host=h password=secret", small, sizeof small);
    check(strlen(small) == 7 && !strstr(small, "secret"), "cut short: %s", small);
    check(flow_db_is_postgres("postgresql://h/db") && flow_db_is_postgres("postgres://h") && flow_db_is_postgres("host=h dbname=d"), "DSNs");
    check(!flow_db_is_postgres("/tmp/x.db") && !flow_db_is_postgres("store.db") && !flow_db_is_postgres("a=b/c") && !flow_db_is_postgres(""), "paths");

    unlink(argv[1]);
    backend(argv[1], "sqlite");
    if (argc == 3) backend(argv[2], "postgres");
    printf("%d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
