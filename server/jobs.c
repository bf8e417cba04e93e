/* jobs.c — the job table and the workers that run jobs (jobs.h). Each worker has its own store
 * connection; it claims the oldest queued job whose flow is not running already (BEGIN IMMEDIATE:
 * one claimant), builds or finds the revision's executable, and runs
 *   prog run FLOW --json --no-chain --state DIR/state [--since T] [--until T]        (kind run)
 *   prog errors retry ID...|--all --flow F [--step S] --json --state DIR/state        (kind retry)
 * as a child process in DIR/work/<integration>, with the integration's secrets in its environment,
 * FLOW_RUN_ID=job-<id> (so the run history and the errors name the job), stdout read as `--json`
 * lines and stderr kept in DIR/jobs/<id>.log (0600). The child gets SIGTERM if the server dies
 * (PR_SET_PDEATHSIG); a crash is a failed job, never a dead server. Cancel: SIGTERM, SIGKILL after
 * SRV_JOB_CANCEL_GRACE_MS. */
#define _GNU_SOURCE 1   /* pipe2, strsignal */
#include "jobs.h"
#include "build_cache.h"
#include "child.h"
#include "flow.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SRV_JOB_OUTPUT_MAX (1u << 20)   /* bytes of one --json line kept */

static const char *const job_statuses[] = {
#define X(s) #s,
    SRV_JOB_STATUSES(X)
#undef X
};

typedef struct Worker { SrvJobs *J; pthread_t th; sqlite3 *db; int started; } Worker;

struct SrvJobs {
    SrvJobsConfig cfg;
    char *dir, *db_path, *flowc, *server_id;
    sqlite3 *db;                 /* the API's connection (create, get, list, cancel), under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* a job was queued, or one ended, or stop */
    pthread_mutex_t cbmu;        /* on_end and its arg */
    void (*on_end)(void *arg, long id);
    void *on_end_arg;
    int stopping;
    Worker *w;
    int nw;
};

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sqlite3 *open_db(const char *path, char *why, size_t cap) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        snprintf(why, cap, "cannot open the store %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
    return db;
}

int srv_jobs_schema(sqlite3 *db, char *why, size_t cap) {
    return srv_schema(db,
                      "CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, integration TEXT NOT NULL, flow TEXT NOT NULL,"
                      "  kind TEXT NOT NULL, args TEXT NOT NULL, revision TEXT NOT NULL, status TEXT NOT NULL, since TEXT, until TEXT,"
                      "  created_ms INTEGER NOT NULL, started_ms INTEGER, finished_ms INTEGER, server TEXT, pid INTEGER, cancel_ms INTEGER,"
                      "  result TEXT, message TEXT, token_id TEXT, token_name TEXT, trigger TEXT);"
                      "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, id);"
                      "CREATE INDEX IF NOT EXISTS jobs_flow ON jobs (integration, flow, id);",
                      "jobs", why, cap);
}

/* ---- rows as JSON ---- */

#define JOB_COLS "id, integration, flow, kind, status, since, until, created_ms, started_ms, finished_ms, result, message, revision, token_id, server, trigger"

static void add_time(cJSON *o, const char *name, sqlite3_stmt *s, int col) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) { cJSON_AddNullToObject(o, name); return; }
    char iso[32];
    flow_format_iso8601(sqlite3_column_int64(s, col), iso);
    cJSON_AddStringToObject(o, name, iso);
}

static void add_text(cJSON *o, const char *name, sqlite3_stmt *s, int col) {
    const char *t = (const char *)sqlite3_column_text(s, col);
    if (t) cJSON_AddStringToObject(o, name, t); else cJSON_AddNullToObject(o, name);
}

static cJSON *row_json(sqlite3_stmt *s) {
    cJSON *o = cJSON_CreateObject();
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "id", id);
    add_text(o, "integration", s, 1);
    add_text(o, "flow", s, 2);
    add_text(o, "kind", s, 3);
    add_text(o, "status", s, 4);
    add_text(o, "since", s, 5);
    add_text(o, "until", s, 6);
    add_time(o, "created_at", s, 7);
    add_time(o, "started_at", s, 8);
    add_time(o, "finished_at", s, 9);
    if (sqlite3_column_type(s, 8) != SQLITE_NULL && sqlite3_column_type(s, 9) != SQLITE_NULL)
        cJSON_AddNumberToObject(o, "duration_ms", (double)(sqlite3_column_int64(s, 9) - sqlite3_column_int64(s, 8)));
    else cJSON_AddNullToObject(o, "duration_ms");
    const char *res = (const char *)sqlite3_column_text(s, 10);
    cJSON *r = res ? cJSON_Parse(res) : NULL;
    static const char *const counts[] = { "exported", "ignored", "errors" };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        cJSON *v = r ? cJSON_GetObjectItemCaseSensitive(r, counts[i]) : NULL;
        cJSON_AddNumberToObject(o, counts[i], cJSON_IsNumber(v) ? v->valuedouble : 0);
    }
    cJSON *im = r ? cJSON_DetachItemFromObjectCaseSensitive(r, "imported") : NULL;
    cJSON_AddItemToObject(o, "imported", im ? im : cJSON_CreateObject());
    cJSON *cl = r ? cJSON_DetachItemFromObjectCaseSensitive(r, "error_classes") : NULL;
    cJSON_AddItemToObject(o, "error_classes", cl ? cl : cJSON_CreateObject());
    cJSON *rid = r ? cJSON_DetachItemFromObjectCaseSensitive(r, "run_id") : NULL;
    cJSON_AddItemToObject(o, "run_id", rid ? rid : cJSON_CreateNull());
    cJSON_Delete(r);
    add_text(o, "message", s, 11);
    add_text(o, "revision", s, 12);
    add_text(o, "token_id", s, 13);
    add_text(o, "server", s, 14);
    add_text(o, "trigger", s, 15);
    return o;
}

static cJSON *get_locked(SrvJobs *J, long id, int *code, char *why, size_t cap) {
    sqlite3_stmt *s = NULL;
    cJSON *o = NULL;
    if (sqlite3_prepare_v2(J->db, "SELECT " JOB_COLS " FROM jobs WHERE id = ?1", -1, &s, NULL) != SQLITE_OK) {
        snprintf(why, cap, "the store: %s", sqlite3_errmsg(J->db));
        *code = 500;
        return NULL;
    }
    sqlite3_bind_int64(s, 1, id);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) o = row_json(s);
    else if (r == SQLITE_DONE) { *code = 404; snprintf(why, cap, "no job %ld", id); }
    else { *code = 500; snprintf(why, cap, "the store: %s", sqlite3_errmsg(J->db)); }
    sqlite3_finalize(s);
    return o;
}

cJSON *srv_job_get(SrvJobs *J, long id, int *code, char *why, size_t cap) {
    pthread_mutex_lock(&J->mu);
    cJSON *o = get_locked(J, id, code, why, cap);
    pthread_mutex_unlock(&J->mu);
    return o;
}

cJSON *srv_job_wait(SrvJobs *J, long id, long timeout_ms, int *code, char *why, size_t cap) {
    long long until = now_ms() + timeout_ms;
    pthread_mutex_lock(&J->mu);
    cJSON *o;
    for (;;) {
        o = get_locked(J, id, code, why, cap);
        const char *st = o ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")) : NULL;
        if (!o || !st || (strcmp(st, "queued") && strcmp(st, "running")) || now_ms() >= until || J->stopping) break;
        cJSON_Delete(o);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;   /* another server may end it: look again now and then */
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&J->cv, &J->mu, &ts);
    }
    pthread_mutex_unlock(&J->mu);
    return o;
}

static int status_known(const char *s) {
    for (size_t i = 0; i < sizeof job_statuses / sizeof job_statuses[0]; i++) if (strcmp(s, job_statuses[i]) == 0) return 1;
    return 0;
}

cJSON *srv_jobs_list(SrvJobs *J, const char *integration, const char *flow, const char *status, long long since_ms, long before_id,
                     int limit, int *code, char *why, size_t cap) {
    if (status && !status_known(status)) {
        *code = 400;
        snprintf(why, cap, "status: `%s` is not one of queued, running, completed, failed, canceled", status);
        return NULL;
    }
    pthread_mutex_lock(&J->mu);
    sqlite3_stmt *s = NULL;
    cJSON *arr = NULL;
    if (sqlite3_prepare_v2(J->db,
                           "SELECT " JOB_COLS " FROM jobs WHERE (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR flow = ?2)"
                           " AND (?3 IS NULL OR status = ?3) AND created_ms >= ?4 AND (?5 <= 0 OR id < ?5) ORDER BY id DESC LIMIT ?6",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, integration, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, flow, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, since_ms);
        sqlite3_bind_int64(s, 5, before_id);
        sqlite3_bind_int(s, 6, limit > 0 ? limit : 100);
        arr = cJSON_CreateArray();
        int r;
        while ((r = sqlite3_step(s)) == SQLITE_ROW) cJSON_AddItemToArray(arr, row_json(s));
        if (r != SQLITE_DONE) { cJSON_Delete(arr); arr = NULL; }
    }
    if (!arr) { *code = 500; snprintf(why, cap, "the store: %s", sqlite3_errmsg(J->db)); }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&J->mu);
    return arr;
}

/* ---- create and cancel ---- */

static int window_ok(const SrvJobReq *rq, int *code, char *why, size_t cap) {
    int64_t since = 0, until = 0;
    if (rq->since && !flow_parse_iso8601(rq->since, strlen(rq->since), &since)) {
        *code = 400; snprintf(why, cap, "since: `%.100s` is not an ISO-8601 date-time", rq->since); return 0;
    }
    if (rq->until && !flow_parse_iso8601(rq->until, strlen(rq->until), &until)) {
        *code = 400; snprintf(why, cap, "until: `%.100s` is not an ISO-8601 date-time", rq->until); return 0;
    }
    if (rq->since && since > (rq->until ? until : now_ms())) {
        *code = 400;
        snprintf(why, cap, "since: %.100s is later than %s: the window would be empty", rq->since, rq->until ? "until" : "now");
        return 0;
    }
    return 1;
}

cJSON *srv_job_create(SrvJobs *J, const SrvJobReq *rq, int *code, char *why, size_t cap) {
    int retry = strcmp(rq->kind, "retry") == 0;
    if (!retry && strcmp(rq->kind, "run") != 0) { *code = 500; snprintf(why, cap, "no job kind `%s`", rq->kind); return NULL; }
    if (!window_ok(rq, code, why, cap)) return NULL;
    if (retry && (rq->since || rq->until)) { *code = 400; snprintf(why, cap, "since: a retry takes no delta window"); return NULL; }
    char hash[SRV_HASH_LEN + 1];
    if (srv_build_put(J->dir, rq->source, rq->source_len, hash, why, cap)) { *code = 500; return NULL; }
    /* the child's arguments after the executable; --state is added when it runs */
    cJSON *args = cJSON_CreateArray();
    if (!retry) {
        cJSON_AddItemToArray(args, cJSON_CreateString("run"));
        cJSON_AddItemToArray(args, cJSON_CreateString("--no-chain"));
        if (rq->since) { cJSON_AddItemToArray(args, cJSON_CreateString("--since")); cJSON_AddItemToArray(args, cJSON_CreateString(rq->since)); }
        if (rq->until) { cJSON_AddItemToArray(args, cJSON_CreateString("--until")); cJSON_AddItemToArray(args, cJSON_CreateString(rq->until)); }
        cJSON_AddItemToArray(args, cJSON_CreateString("--"));
        cJSON_AddItemToArray(args, cJSON_CreateString(rq->flow));
    } else {
        cJSON_AddItemToArray(args, cJSON_CreateString("errors"));
        cJSON_AddItemToArray(args, cJSON_CreateString("retry"));
        for (int i = 0; i < rq->nids; i++) {
            char n[32];
            snprintf(n, sizeof n, "%ld", rq->ids[i]);
            cJSON_AddItemToArray(args, cJSON_CreateString(n));
        }
        if (!rq->nids) {
            cJSON_AddItemToArray(args, cJSON_CreateString("--all"));
            cJSON_AddItemToArray(args, cJSON_CreateString("--flow"));
            cJSON_AddItemToArray(args, cJSON_CreateString(rq->flow));
            if (rq->step) { cJSON_AddItemToArray(args, cJSON_CreateString("--step")); cJSON_AddItemToArray(args, cJSON_CreateString(rq->step)); }
        }
    }
    char *atext = cJSON_PrintUnformatted(args);
    cJSON_Delete(args);
    pthread_mutex_lock(&J->mu);
    sqlite3_stmt *s = NULL;
    cJSON *o = NULL;
    if (sqlite3_prepare_v2(J->db,
                           "INSERT INTO jobs (integration, flow, kind, args, revision, status, since, until, created_ms, token_id, token_name, trigger)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8, ?9, ?10, ?11)",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, rq->integration, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, rq->flow, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, rq->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, atext, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, rq->since, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, rq->until, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 8, now_ms());
        sqlite3_bind_text(s, 9, rq->token_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 10, rq->token_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 11, rq->trigger ? rq->trigger : retry ? "retry" : "api", -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_DONE) o = get_locked(J, (long)sqlite3_last_insert_rowid(J->db), code, why, cap);
    }
    if (!o && s) { *code = 500; snprintf(why, cap, "the store: %s", sqlite3_errmsg(J->db)); }
    sqlite3_finalize(s);
    pthread_cond_broadcast(&J->cv);
    pthread_mutex_unlock(&J->mu);
    cJSON_free(atext);
    return o;
}

cJSON *srv_job_cancel(SrvJobs *J, long id, int *code, char *why, size_t cap) {
    pthread_mutex_lock(&J->mu);
    cJSON *o = get_locked(J, id, code, why, cap);
    const char *st = o ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")) : NULL;
    if (o && st && strcmp(st, "queued") && strcmp(st, "running")) {
        *code = 409;
        snprintf(why, cap, "job %ld has ended (%s)", id, st);
        cJSON_Delete(o);
        o = NULL;
    } else if (o) {
        /* a queued job is canceled here; a running one is asked to stop: its worker (in this server or
         * another) sees cancel_ms, signals its process and records the end */
        long long now = now_ms();
        sqlite3_stmt *s = NULL;
        int ok = sqlite3_prepare_v2(J->db,
                                    "UPDATE jobs SET cancel_ms = COALESCE(cancel_ms, ?2),"
                                    " status = CASE status WHEN 'queued' THEN 'canceled' ELSE status END,"
                                    " finished_ms = CASE status WHEN 'queued' THEN ?2 ELSE finished_ms END,"
                                    " message = CASE status WHEN 'queued' THEN 'canceled before it ran' ELSE message END"
                                    " WHERE id = ?1 AND status IN ('queued', 'running')",
                                    -1, &s, NULL) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_int64(s, 1, id);
            sqlite3_bind_int64(s, 2, now);
            ok = sqlite3_step(s) == SQLITE_DONE;
        }
        if (!ok) { *code = 500; snprintf(why, cap, "the store: %s", sqlite3_errmsg(J->db)); }
        sqlite3_finalize(s);
        cJSON_Delete(o);
        o = ok ? get_locked(J, id, code, why, cap) : NULL;
        if (o) {   /* the cancel's own mark, for the caller: a running job says it is being canceled */
            cJSON_AddBoolToObject(o, "cancel_requested", 1);
        }
        pthread_cond_broadcast(&J->cv);
    }
    pthread_mutex_unlock(&J->mu);
    return o;
}

/* ---- the workers ---- */

typedef struct Claimed {
    long id;
    char *integration, *flow, *kind, *args, *revision;
} Claimed;

static void claimed_free(Claimed *c) {
    free(c->integration); free(c->flow); free(c->kind); free(c->args); free(c->revision);
    memset(c, 0, sizeof *c);
}

static char *col_dup(sqlite3_stmt *s, int col) {
    const char *t = (const char *)sqlite3_column_text(s, col);
    char *d = strdup(t ? t : "");
    if (!d) abort();
    return d;
}

/* 1 claimed, 0 nothing to claim, -1 a store error (logged) */
static int claim(Worker *w, Claimed *c) {
    SrvJobs *J = w->J;
    if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return -1;
    sqlite3_stmt *s = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT id, integration, flow, kind, args, revision FROM jobs j WHERE status = 'queued' AND NOT EXISTS"
                           " (SELECT 1 FROM jobs r WHERE r.status = 'running' AND r.integration = j.integration AND r.flow = j.flow)"
                           " ORDER BY id LIMIT 1",
                           -1, &s, NULL) == SQLITE_OK) {
        int r = sqlite3_step(s);
        if (r == SQLITE_DONE) rc = 0;
        else if (r == SQLITE_ROW) {
            c->id = (long)sqlite3_column_int64(s, 0);
            c->integration = col_dup(s, 1);
            c->flow = col_dup(s, 2);
            c->kind = col_dup(s, 3);
            c->args = col_dup(s, 4);
            c->revision = col_dup(s, 5);
            rc = 1;
        }
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc == 1) {
        if (sqlite3_prepare_v2(w->db, "UPDATE jobs SET status = 'running', started_ms = ?2, server = ?3 WHERE id = ?1 AND status = 'queued'",
                               -1, &s, NULL) != SQLITE_OK)
            rc = -1;
        else {
            sqlite3_bind_int64(s, 1, c->id);
            sqlite3_bind_int64(s, 2, now_ms());
            sqlite3_bind_text(s, 3, J->server_id, -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE || sqlite3_changes(w->db) != 1) rc = -1;
        }
        sqlite3_finalize(s);
    }
    if (rc >= 0 && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return rc;
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    if (rc == 1) claimed_free(c);
    return -1;
}

static long long cancel_asked(Worker *w, long id) {
    sqlite3_stmt *s = NULL;
    long long at = 0;
    if (sqlite3_prepare_v2(w->db, "SELECT cancel_ms FROM jobs WHERE id = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) at = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return at;
}

static void set_pid(Worker *w, long id, long pid) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(w->db, "UPDATE jobs SET pid = ?2 WHERE id = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, pid);
        sqlite3_step(s);
    }
    sqlite3_finalize(s);
}

static void finish(Worker *w, long id, const char *status, const cJSON *result, const char *message) {
    char *res = result ? cJSON_PrintUnformatted(result) : NULL;
    sqlite3_stmt *s = NULL;
    int tries = 0;
    for (;;) {   /* the end of a job is not lost to a busy store */
        if (sqlite3_prepare_v2(w->db, "UPDATE jobs SET status = ?2, finished_ms = ?3, result = ?4, message = ?5 WHERE id = ?1", -1, &s, NULL) ==
            SQLITE_OK) {
            sqlite3_bind_int64(s, 1, id);
            sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, now_ms());
            sqlite3_bind_text(s, 4, res, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 5, message, -1, SQLITE_STATIC);
            int r = sqlite3_step(s);
            sqlite3_finalize(s);
            if (r == SQLITE_DONE || ++tries >= 5) break;
        } else if (++tries >= 5) break;
        usleep(200000);
    }
    cJSON_free(res);
    SrvJobs *J = w->J;
    if (J->cfg.log) {
        char iso[32];
        flow_format_iso8601(now_ms(), iso);
        fprintf(J->cfg.log, "%s server: job %ld: %s%s%s\n", iso, id, status, message ? ": " : "", message ? message : "");
        fflush(J->cfg.log);
    }
    pthread_mutex_lock(&J->mu);
    pthread_cond_broadcast(&J->cv);
    pthread_mutex_unlock(&J->mu);
}

static int mkdirs(const char *dir, const char *sub, const char *sub2, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", dir, sub);
    if (mkdir(out, 0700) != 0 && errno != EEXIST) return -1;
    if (!sub2) return 0;
    snprintf(out, cap, "%s/%s/%s", dir, sub, sub2);
    return mkdir(out, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* adds one `--json` line of the executable to the job's result */
static void add_line(cJSON *res, const char *line, char *failed, size_t cap) {
    cJSON *j = cJSON_Parse(line);
    if (!cJSON_IsObject(j)) { cJSON_Delete(j); return; }
    static const char *const counts[] = { "exported", "ignored", "errors" };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, counts[i]), *have = cJSON_GetObjectItemCaseSensitive(res, counts[i]);
        if (cJSON_IsNumber(v)) cJSON_SetNumberValue(have, have->valuedouble + v->valuedouble);
    }
    cJSON *im = cJSON_GetObjectItemCaseSensitive(j, "imported"), *to = cJSON_GetObjectItemCaseSensitive(res, "imported");
    for (cJSON *x = im ? im->child : NULL; x; x = x->next) {
        if (!cJSON_IsNumber(x) || !x->string) continue;
        cJSON *h = cJSON_GetObjectItemCaseSensitive(to, x->string);
        if (h) cJSON_SetNumberValue(h, h->valuedouble + x->valuedouble);
        else cJSON_AddNumberToObject(to, x->string, x->valuedouble);
    }
    const char *f = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "failed"));
    if (f && !failed[0]) snprintf(failed, cap, "%s", f);
    cJSON_Delete(j);
}

/* the classes of the record errors the run kept (its run id is the job's) */
static void add_classes(SrvJobs *J, const char *integration, const char *run_id, cJSON *res) {
    cJSON *cl = cJSON_AddObjectToObject(res, "error_classes");
    char path[4300];
    snprintf(path, sizeof path, "%s/state/%s.state.db", J->dir, integration);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) { sqlite3_close(db); return; }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT class, count(*) FROM errors WHERE run_id = ?1 GROUP BY class ORDER BY class", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
        while (sqlite3_step(s) == SQLITE_ROW) cJSON_AddNumberToObject(cl, (const char *)sqlite3_column_text(s, 0), (double)sqlite3_column_int64(s, 1));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void run_job(Worker *w, Claimed *c) {
    SrvJobs *J = w->J;
    char why[1200] = "", exe[4400], dir[4400], logp[4400];
    int built = 0;
    cJSON *args = cJSON_Parse(c->args);
    if (!cJSON_IsArray(args)) { finish(w, c->id, "failed", NULL, "the job's arguments are damaged"); cJSON_Delete(args); return; }
    if (srv_build_get(J->dir, J->flowc, c->revision, exe, sizeof exe, &built, why, sizeof why)) {
        finish(w, c->id, "failed", NULL, why);
        cJSON_Delete(args);
        return;
    }
    if (cancel_asked(w, c->id)) { finish(w, c->id, "canceled", NULL, "canceled before its process started"); cJSON_Delete(args); return; }
    char state[4400];
    if (mkdirs(J->dir, "state", NULL, state, sizeof state) || mkdirs(J->dir, "work", c->integration, dir, sizeof dir)
        || mkdirs(J->dir, "jobs", NULL, logp, sizeof logp)) {
        snprintf(why, sizeof why, "cannot create %.1000s: %s", dir, strerror(errno));
        finish(w, c->id, "failed", NULL, why);
        cJSON_Delete(args);
        return;
    }
    snprintf(logp, sizeof logp, "%s/jobs/%ld.log", J->dir, c->id);
    /* argv: exe ARGS... (--state before a `--`), and the environment with the secrets */
    int na = cJSON_GetArraySize(args);
    char **argv = calloc((size_t)na + 6, sizeof *argv);
    if (!argv) abort();
    int k = 0;
    argv[k++] = exe;
    int put_state = 0;
    for (cJSON *a = args->child; a; a = a->next) {
        if (!put_state && strcmp(a->valuestring, "--") == 0) { argv[k++] = "--json"; argv[k++] = "--state"; argv[k++] = state; put_state = 1; }
        argv[k++] = a->valuestring;
    }
    if (!put_state) { argv[k++] = "--json"; argv[k++] = "--state"; argv[k++] = state; }
    argv[k] = NULL;
    char run_id[64];
    snprintf(run_id, sizeof run_id, "job-%ld", c->id);
    char **env = srv_secret_env(w->db, J->cfg.key, c->integration, environ, why, sizeof why);
    if (!env) {
        finish(w, c->id, "failed", NULL, why);
        free(argv);
        cJSON_Delete(args);
        return;
    }
    size_t ne = 0;
    while (env[ne]) ne++;
    char **env2 = realloc(env, (ne + 2) * sizeof *env);
    if (!env2) abort();
    env = env2;
    env[ne] = malloc(strlen(run_id) + 13);
    if (!env[ne]) abort();
    sprintf(env[ne], "FLOW_RUN_ID=%s", run_id);
    env[ne + 1] = NULL;
    int out[2] = { -1, -1 };
    int logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t pid = -1;
    if (logfd >= 0 && pipe2(out, O_CLOEXEC) == 0) pid = srv_spawn(exe, argv, env, dir, -1, out[1], logfd);
    srv_secret_env_free(env);
    free(argv);
    if (pid < 0) {
        snprintf(why, sizeof why, "cannot start the run: %s", strerror(errno));
        if (out[0] >= 0) { close(out[0]); close(out[1]); }
        if (logfd >= 0) close(logfd);
        finish(w, c->id, "failed", NULL, why);
        cJSON_Delete(args);
        return;
    }
    close(out[1]);
    close(logfd);
    set_pid(w, c->id, pid);
    /* its --json lines; every 200 ms a look at cancel and stop */
    cJSON *res = cJSON_CreateObject();
    cJSON_AddNumberToObject(res, "exported", 0);
    cJSON_AddNumberToObject(res, "ignored", 0);
    cJSON_AddNumberToObject(res, "errors", 0);
    cJSON_AddObjectToObject(res, "imported");
    cJSON_AddStringToObject(res, "run_id", run_id);
    char failed[1024] = "";
    size_t cap = 1 << 14, n = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    long long term_at = 0, stop_at = 0;
    int killed = 0, canceled = 0;
    for (;;) {
        struct pollfd pf = { out[0], POLLIN, 0 };
        int pr = poll(&pf, 1, 200);
        if (pr > 0) {
            char chunk[4096];
            ssize_t r = read(out[0], chunk, sizeof chunk);
            if (r == 0) break;
            if (r < 0 && errno != EINTR && errno != EAGAIN) break;
            if (r > 0 && n + (size_t)r < SRV_JOB_OUTPUT_MAX) {   /* a line longer than that is dropped */
                if (n + (size_t)r + 1 > cap) { while (n + (size_t)r + 1 > cap) cap *= 2; buf = realloc(buf, cap); if (!buf) abort(); }
                memcpy(buf + n, chunk, (size_t)r);
                n += (size_t)r;
            } else if (r > 0) n = 0;
            /* whole lines into the result as they come */
            char *nl;
            buf[n] = 0;
            while ((nl = memchr(buf, '\n', n))) {
                *nl = 0;
                add_line(res, buf, failed, sizeof failed);
                size_t used = (size_t)(nl - buf) + 1;
                memmove(buf, nl + 1, n - used);
                n -= used;
                buf[n] = 0;
            }
        }
        long long now = now_ms();
        int stopping;
        pthread_mutex_lock(&J->mu);
        stopping = J->stopping;
        pthread_mutex_unlock(&J->mu);
        if (!term_at && (stopping || cancel_asked(w, c->id))) {
            term_at = now;
            canceled = !stopping;
            if (stopping) stop_at = now;
            kill(pid, SIGTERM);
        } else if (term_at && !killed && now - term_at >= SRV_JOB_CANCEL_GRACE_MS) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        if (!stop_at && stopping && term_at) stop_at = now;
    }
    close(out[0]);
    if (n) { buf[n] = 0; add_line(res, buf, failed, sizeof failed); }
    free(buf);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    add_classes(J, c->integration, run_id, res);
    const char *st;
    char msg[1400];
    msg[0] = 0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (term_at && (sig == SIGKILL || sig == SIGTERM)) {
            st = canceled ? "canceled" : "failed";
            snprintf(msg, sizeof msg, "%s; its process was killed (%s)", canceled ? "canceled" : "the server stopped", strsignal(sig));
        } else {
            st = "failed";
            snprintf(msg, sizeof msg, "the run crashed: %s (signal %d); see its log, jobs/%ld.log", strsignal(sig), sig, c->id);
        }
    } else if (term_at && (code == 143 || code == 130)) {
        st = canceled ? "canceled" : "failed";
        snprintf(msg, sizeof msg, "%s: the run stopped at a safe point (interrupted)", canceled ? "canceled" : "the server stopped");
    } else if (code == 0 || code == 3) {
        st = "completed";
        if (code == 3) {
            cJSON *e = cJSON_GetObjectItemCaseSensitive(res, "errors");
            snprintf(msg, sizeof msg, "finished with %.0f record error%s", e ? e->valuedouble : 0, e && e->valuedouble == 1 ? "" : "s");
        }
    } else {
        st = "failed";
        if (failed[0]) snprintf(msg, sizeof msg, "%s", failed);
        else snprintf(msg, sizeof msg, "the run failed (exit %d); see its log, jobs/%ld.log", code, c->id);
    }
    finish(w, c->id, st, res, msg[0] ? msg : NULL);
    cJSON_Delete(res);
    cJSON_Delete(args);
}

static void *worker_main(void *arg) {
    Worker *w = arg;
    SrvJobs *J = w->J;
    for (;;) {
        pthread_mutex_lock(&J->mu);
        int stop = J->stopping;
        pthread_mutex_unlock(&J->mu);
        if (stop) break;
        Claimed c;
        memset(&c, 0, sizeof c);
        int r = claim(w, &c);
        if (r == 1) {
            run_job(w, &c);
            pthread_mutex_lock(&J->cbmu);
            if (J->on_end) J->on_end(J->on_end_arg, c.id);
            pthread_mutex_unlock(&J->cbmu);
            claimed_free(&c);
            continue;
        }
        /* nothing to do (or a busy store): wait for a job, or look again in a second (another server's) */
        pthread_mutex_lock(&J->mu);
        if (!J->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&J->cv, &J->mu, &ts);
        }
        pthread_mutex_unlock(&J->mu);
    }
    return NULL;
}

void srv_jobs_on_end(SrvJobs *J, void (*on_end)(void *arg, long id), void *arg) {
    pthread_mutex_lock(&J->cbmu);
    J->on_end = on_end;
    J->on_end_arg = arg;
    pthread_mutex_unlock(&J->cbmu);
}

SrvJobs *srv_jobs_start(const SrvJobsConfig *cfg, char *why, size_t cap) {
    SrvJobs *J = calloc(1, sizeof *J);
    if (!J) abort();
    J->cfg = *cfg;
    J->dir = strdup(cfg->dir);
    J->db_path = strdup(cfg->db_path);
    J->flowc = strdup(cfg->flowc);
    J->server_id = strdup(cfg->server_id ? cfg->server_id : "server");
    if (!J->dir || !J->db_path || !J->flowc || !J->server_id) abort();
    pthread_mutex_init(&J->mu, NULL);
    pthread_cond_init(&J->cv, NULL);
    pthread_mutex_init(&J->cbmu, NULL);
    J->db = open_db(J->db_path, why, cap);
    if (!J->db || srv_jobs_schema(J->db, why, cap) || srv_secrets_schema(J->db, why, cap)) { srv_jobs_stop(J); return NULL; }
    /* jobs an earlier server process left running on this store: their processes got SIGTERM when it died */
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(J->db,
                           "UPDATE jobs SET status = 'failed', finished_ms = ?1, message = 'the server running it stopped before it ended'"
                           " WHERE status = 'running' AND (server IS NULL OR server = ?2)",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, now_ms());
        sqlite3_bind_text(s, 2, J->server_id, -1, SQLITE_STATIC);
        sqlite3_step(s);
    }
    sqlite3_finalize(s);
    J->nw = cfg->workers > 0 ? cfg->workers : 1;
    J->w = calloc((size_t)J->nw, sizeof *J->w);
    if (!J->w) abort();
    for (int i = 0; i < J->nw; i++) {
        J->w[i].J = J;
        if (!(J->w[i].db = open_db(J->db_path, why, cap))) { srv_jobs_stop(J); return NULL; }
        if (pthread_create(&J->w[i].th, NULL, worker_main, &J->w[i]) != 0) {
            snprintf(why, cap, "cannot start a job worker: %s", strerror(errno));
            srv_jobs_stop(J);
            return NULL;
        }
        J->w[i].started = 1;
    }
    return J;
}

void srv_jobs_stop(SrvJobs *J) {
    if (!J) return;
    pthread_mutex_lock(&J->mu);
    J->stopping = 1;
    pthread_cond_broadcast(&J->cv);
    pthread_mutex_unlock(&J->mu);
    for (int i = 0; i < J->nw; i++) {
        if (J->w[i].started) pthread_join(J->w[i].th, NULL);
        sqlite3_close(J->w[i].db);
    }
    free(J->w);
    sqlite3_close(J->db);
    pthread_mutex_destroy(&J->mu);
    pthread_cond_destroy(&J->cv);
    pthread_mutex_destroy(&J->cbmu);
    free(J->dir);
    free(J->db_path);
    free(J->flowc);
    free(J->server_id);
    free(J);
}
