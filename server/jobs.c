/* jobs.c — the job table and the workers that run jobs (jobs.h). Each worker has its own store
 * connection; it claims the oldest queued job whose flow is not running already (BEGIN IMMEDIATE:
 * one claimant), builds or finds the revision's executable, and runs
 *   prog run FLOW --json --no-chain --state DIR/state [--since T] [--until T]        (kind run)
 *   prog errors retry ID...|--all --flow F [--step S] --json --state DIR/state        (kind retry)
 * as a child process in DIR/work/<integration>, with the integration's secrets in its environment,
 * FLOW_RUN_ID=job-<id> (so the run history and the errors name the job) and, while a connection debug
 * window of the integration is open, the connections to record (conn_debug.c), stdout read as `--json`
 * lines and stderr kept in DIR/jobs/<id>.log (0600). The child gets SIGTERM if the server dies
 * (PR_SET_PDEATHSIG); a crash is a failed job, never a dead server. Cancel: SIGTERM, SIGKILL after
 * SRV_JOB_CANCEL_GRACE_MS. */
#define _GNU_SOURCE 1   /* pipe2, strsignal */
#include "jobs.h"
#include "build_cache.h"
#include "files.h"
#include "child.h"
#include "conn_debug.h"
#include "flow.h"
#include "state_pool.h"
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

typedef struct Worker { SrvJobs *J; pthread_t th; FlowDb *db; int started; } Worker;

struct SrvJobs {
    SrvJobsConfig cfg;
    char *dir, *db_spec, *flowc, *server_id, *place;
    FlowDb *db;                      /* the API's connection (create, get, list, cancel), under mu */
    FlowDb *lease_db;                /* the lease thread's */
    pthread_t lease_th;
    int lease_started;
    int64_t lease_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* a job was queued, or one ended, or stop */
    pthread_mutex_t cbmu;        /* on_end and its arg */
    void (*on_end)(void *arg, long id);
    void *on_end_arg;
    int stopping;
    Worker *w;
    int nw;
    FlowStatePool *pool;         /* the runs' state stores the API and the workers read (srv_state_open) */
};

static FlowDb *open_db(const char *spec, char *why, size_t cap) { return flow_db_open(spec, 1, why, cap); }

int srv_jobs_schema(FlowDb *db, char *why, size_t cap) {
    if (flow_db_schema(db,
                  "CREATE TABLE IF NOT EXISTS jobs (id {autoid}, integration TEXT NOT NULL, flow TEXT NOT NULL,"
                  "  kind TEXT NOT NULL, args TEXT NOT NULL, revision TEXT NOT NULL, status TEXT NOT NULL, since TEXT, until TEXT,"
                  "  created_ms BIGINT NOT NULL, started_ms BIGINT, finished_ms BIGINT, server TEXT, pid BIGINT, cancel_ms BIGINT,"
                  "  result TEXT, message TEXT, token_id TEXT, token_name TEXT, source TEXT, heartbeat_ms BIGINT, trigger TEXT, place TEXT);"
                  "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, id);"
                  "CREATE INDEX IF NOT EXISTS jobs_flow ON jobs (integration, flow, id);",
                  "jobs", why, cap))
        return -1;
    /* columns a store made by an older server lacks: added (each probed by a query that needs them) */
    static const struct { const char *probe, *add; } added[] = {
        /* before jobs kept their source and lease */
        { "SELECT source, heartbeat_ms FROM jobs WHERE id = 0", "ALTER TABLE jobs ADD COLUMN source TEXT; ALTER TABLE jobs ADD COLUMN heartbeat_ms BIGINT" },
        /* before jobs kept what started them */
        { "SELECT trigger FROM jobs WHERE id = 0", "ALTER TABLE jobs ADD COLUMN trigger TEXT" },
        /* before jobs that read a server's state store were pinned to its directory */
        { "SELECT place FROM jobs WHERE id = 0", "ALTER TABLE jobs ADD COLUMN place TEXT" },
    };
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        FlowDbStmt *q = flow_db_prepare(db, added[i].probe);
        int have = q && flow_db_step(q) >= 0;
        flow_db_finalize(q);
        if (!have && flow_db_exec(db, added[i].add)) {
            snprintf(why, cap, "the store's jobs table: %s", flow_db_error(db));
            return -1;
        }
    }
    return 0;
}

/* ---- rows as JSON ---- */

#define JOB_COLS "id, integration, flow, kind, status, since, until, created_ms, started_ms, finished_ms, result, message, revision, token_id, server, trigger"

static void add_time(cJSON *o, const char *name, FlowDbStmt *s, int col) {
    if (flow_db_column_null(s, col)) { cJSON_AddNullToObject(o, name); return; }
    char iso[32];
    flow_format_iso8601(flow_db_column_int64(s, col), iso);
    cJSON_AddStringToObject(o, name, iso);
}

static void add_text(cJSON *o, const char *name, FlowDbStmt *s, int col) {
    const char *t = flow_db_column_text(s, col);
    if (t) cJSON_AddStringToObject(o, name, t); else cJSON_AddNullToObject(o, name);
}

static cJSON *row_json(FlowDbStmt *s) {
    cJSON *o = cJSON_CreateObject();
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)flow_db_column_int64(s, 0));
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
    if (!flow_db_column_null(s, 8) && !flow_db_column_null(s, 9))
        cJSON_AddNumberToObject(o, "duration_ms", (double)(flow_db_column_int64(s, 9) - flow_db_column_int64(s, 8)));
    else cJSON_AddNullToObject(o, "duration_ms");
    const char *res = flow_db_column_text(s, 10);
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
    FlowDbStmt *s = NULL;
    cJSON *o = NULL;
    if ((s = flow_db_prepare(J->db, "SELECT " JOB_COLS " FROM jobs WHERE id = ?1")) == NULL) {
        snprintf(why, cap, "the store: %s", flow_db_error(J->db));
        *code = 500;
        return NULL;
    }
    flow_db_bind_int64(s, 1, id);
    int r = flow_db_step(s);
    if (r == FLOW_DB_ROW) o = row_json(s);
    else if (r == FLOW_DB_DONE) { *code = 404; snprintf(why, cap, "no job %ld", id); }
    else { *code = 500; snprintf(why, cap, "the store: %s", flow_db_error(J->db)); }
    flow_db_finalize(s);
    return o;
}

long srv_jobs_queued_here(SrvJobs *J, const char *integration, const char *flow) {
    pthread_mutex_lock(&J->mu);
    FlowDbStmt *s = flow_db_prepare(J->db, "SELECT count(*) FROM jobs WHERE status = 'queued' AND integration = ?1 AND flow = ?2 AND (?3 IS NULL OR place = ?3)");
    long n = -1;
    if (s) {
        flow_db_bind_text(s, 1, integration);
        flow_db_bind_text(s, 2, flow);
        flow_db_bind_text(s, 3, J->place);
        if (flow_db_step(s) == FLOW_DB_ROW) n = (long)flow_db_column_int64(s, 0);
    }
    flow_db_finalize(s);
    pthread_mutex_unlock(&J->mu);
    return n;
}

cJSON *srv_job_get(SrvJobs *J, long id, int *code, char *why, size_t cap) {
    pthread_mutex_lock(&J->mu);
    cJSON *o = get_locked(J, id, code, why, cap);
    pthread_mutex_unlock(&J->mu);
    return o;
}

cJSON *srv_job_wait(SrvJobs *J, long id, long timeout_ms, int *code, char *why, size_t cap) {
    long long until = flow_wall_ms() + timeout_ms;
    pthread_mutex_lock(&J->mu);
    cJSON *o;
    for (;;) {
        o = get_locked(J, id, code, why, cap);
        const char *st = o ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")) : NULL;
        if (!o || !st || (strcmp(st, "queued") && strcmp(st, "running")) || flow_wall_ms() >= until || J->stopping) break;
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
    FlowDbStmt *s = NULL;
    cJSON *arr = NULL;
    if ((s = flow_db_prepare(J->db,
                           "SELECT " JOB_COLS " FROM jobs WHERE (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR flow = ?2)"
                           " AND (?3 IS NULL OR status = ?3) AND created_ms >= ?4 AND (?5 <= 0 OR id < ?5) ORDER BY id DESC LIMIT ?6")) != NULL) {
        flow_db_bind_text(s, 1, integration);
        flow_db_bind_text(s, 2, flow);
        flow_db_bind_text(s, 3, status);
        flow_db_bind_int64(s, 4, since_ms);
        flow_db_bind_int64(s, 5, before_id);
        flow_db_bind_int64(s, 6, limit > 0 ? limit : 100);
        arr = cJSON_CreateArray();
        int r;
        while ((r = flow_db_step(s)) == FLOW_DB_ROW) cJSON_AddItemToArray(arr, row_json(s));
        if (r != FLOW_DB_DONE) { cJSON_Delete(arr); arr = NULL; }
    }
    if (!arr) { *code = 500; snprintf(why, cap, "the store: %s", flow_db_error(J->db)); }
    flow_db_finalize(s);
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
    if (rq->since && since > (rq->until ? until : flow_wall_ms())) {
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
    if (srv_build_put(J->dir, rq->integration, rq->source, rq->source_len, hash, why, cap)) { *code = 500; return NULL; }
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
    FlowDbStmt *s = NULL;
    cJSON *o = NULL;
    long id = 0;
    /* the source goes with the job: a server on another machine builds it from there */
    if ((s = flow_db_prepare_insert(J->db,
                        "INSERT INTO jobs (integration, flow, kind, args, revision, status, since, until, created_ms, token_id, token_name, source, trigger,"
                        " place) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")) != NULL) {
        flow_db_bind_text(s, 1, rq->integration);
        flow_db_bind_text(s, 2, rq->flow);
        flow_db_bind_text(s, 3, rq->kind);
        flow_db_bind_text(s, 4, atext);
        flow_db_bind_text(s, 5, hash);
        flow_db_bind_text(s, 6, rq->since);
        flow_db_bind_text(s, 7, rq->until);
        flow_db_bind_int64(s, 8, flow_wall_ms());
        flow_db_bind_text(s, 9, rq->token_id);
        flow_db_bind_text(s, 10, rq->token_name);
        flow_db_bind_textn(s, 11, rq->source, rq->source_len);
        flow_db_bind_text(s, 12, rq->trigger ? rq->trigger : retry ? "retry" : "api");
        flow_db_bind_text(s, 13, retry || (rq->trigger && strcmp(rq->trigger, "webhook") == 0) ? J->place : NULL);   /* (jobs.h) */
        int64_t nid = flow_db_insert(s);
        if (nid > 0) id = (long)nid;
    }
    flow_db_finalize(s);
    if (id > 0) o = get_locked(J, id, code, why, cap);
    else { *code = 500; snprintf(why, cap, "the store: %s", flow_db_error(J->db)); }
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
        long long now = flow_wall_ms();
        FlowDbStmt *s = NULL;
        int ok = (s = flow_db_prepare(J->db,
                                    "UPDATE jobs SET cancel_ms = COALESCE(cancel_ms, ?2),"
                                    " status = CASE status WHEN 'queued' THEN 'canceled' ELSE status END,"
                                    " finished_ms = CASE status WHEN 'queued' THEN ?2 ELSE finished_ms END,"
                                    " message = CASE status WHEN 'queued' THEN 'canceled before it ran' ELSE message END"
                                    " WHERE id = ?1 AND status IN ('queued', 'running')")) != NULL;
        if (ok) {
            flow_db_bind_int64(s, 1, id);
            flow_db_bind_int64(s, 2, now);
            ok = flow_db_step(s) == FLOW_DB_DONE;
        }
        if (!ok) { *code = 500; snprintf(why, cap, "the store: %s", flow_db_error(J->db)); }
        flow_db_finalize(s);
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
    char *integration, *flow, *kind, *args, *revision, *source;
    size_t source_len;
} Claimed;

static void claimed_free(Claimed *c) {
    free(c->integration); free(c->flow); free(c->kind); free(c->args); free(c->revision); free(c->source);
    memset(c, 0, sizeof *c);
}

static char *col_dup(FlowDbStmt *s, int col) {
    const char *t = flow_db_column_text(s, col);
    char *d = strdup(t ? t : "");
    if (!d) abort();
    return d;
}

/* 1 claimed, 0 nothing to claim, -1 a store error. The claim is one write transaction, and the
 * store's write lock (flow_db_begin: every server on a shared store takes it) makes claimants take turns:
 * the oldest queued job whose flow runs nowhere is taken by exactly one worker of one server, and the
 * UPDATE's `status = 'queued'` guard answers for it besides. Its lease starts now (the store's clock). */
static int claim(Worker *w, Claimed *c) {
    SrvJobs *J = w->J;
    if (flow_db_begin(w->db)) return -1;
    int64_t now = flow_db_now_ms(w->db);
    FlowDbStmt *s = NULL;
    int rc = now < 0 ? -1 : 0;
    if (rc == 0 && (s = flow_db_prepare(w->db,
                                   "SELECT id, integration, flow, kind, args, revision, source FROM jobs j WHERE status = 'queued'"
                                   " AND (place IS NULL OR ?1 IS NULL OR place = ?1) AND NOT EXISTS"
                                   " (SELECT 1 FROM jobs r WHERE r.status = 'running' AND r.integration = j.integration AND r.flow = j.flow)"
                                   " ORDER BY id LIMIT 1")) != NULL) {
        flow_db_bind_text(s, 1, J->place);
        int r = flow_db_step(s);
        if (r < 0) rc = -1;
        else if (r == FLOW_DB_ROW) {
            c->id = (long)flow_db_column_int64(s, 0);
            c->integration = col_dup(s, 1);
            c->flow = col_dup(s, 2);
            c->kind = col_dup(s, 3);
            c->args = col_dup(s, 4);
            c->revision = col_dup(s, 5);
            c->source_len = flow_db_column_bytes(s, 6);
            c->source = malloc(c->source_len + 1);
            if (!c->source) abort();
            if (c->source_len) memcpy(c->source, flow_db_column_text(s, 6), c->source_len);
            c->source[c->source_len] = 0;
            rc = 1;
        }
    } else rc = -1;
    flow_db_finalize(s);
    s = NULL;
    if (rc == 1) {
        if ((s = flow_db_prepare(w->db, "UPDATE jobs SET status = 'running', started_ms = ?2, server = ?3, heartbeat_ms = ?4"
                                   " WHERE id = ?1 AND status = 'queued'")) == NULL)
            rc = -1;
        else {
            flow_db_bind_int64(s, 1, c->id);
            flow_db_bind_int64(s, 2, flow_wall_ms());
            flow_db_bind_text(s, 3, J->server_id);
            flow_db_bind_int64(s, 4, now);
            if (flow_db_step(s) != FLOW_DB_DONE || flow_db_changes(s) != 1) rc = -1;
        }
        flow_db_finalize(s);
    }
    if (rc >= 0 && flow_db_commit(w->db) == 0) return rc;
    flow_db_rollback(w->db);
    claimed_free(c);   /* what a claim that failed after its SELECT had read */
    return -1;
}

static long long cancel_asked(Worker *w, long id) {
    FlowDbStmt *s = NULL;
    long long at = 0;
    if ((s = flow_db_prepare(w->db, "SELECT cancel_ms FROM jobs WHERE id = ?1")) != NULL) {
        flow_db_bind_int64(s, 1, id);
        if (flow_db_step(s) == FLOW_DB_ROW && !flow_db_column_null(s, 0)) at = flow_db_column_int64(s, 0);
    }
    flow_db_finalize(s);
    return at;
}

static void set_pid(Worker *w, long id, long pid) {
    FlowDbStmt *s = NULL;
    if ((s = flow_db_prepare(w->db, "UPDATE jobs SET pid = ?2 WHERE id = ?1")) != NULL) {
        flow_db_bind_int64(s, 1, id);
        flow_db_bind_int64(s, 2, pid);
        flow_db_step(s);
    }
    flow_db_finalize(s);
}

static void finish(Worker *w, long id, const char *status, const cJSON *result, const char *message) {
    char *res = result ? cJSON_PrintUnformatted(result) : NULL;
    FlowDbStmt *s = NULL;
    int tries = 0;
    for (;;) {   /* the end of a job is not lost to a busy store */
        if ((s = flow_db_prepare(w->db, "UPDATE jobs SET status = ?2, finished_ms = ?3, result = ?4, message = ?5 WHERE id = ?1")) != NULL) {
            flow_db_bind_int64(s, 1, id);
            flow_db_bind_text(s, 2, status);
            flow_db_bind_int64(s, 3, flow_wall_ms());
            flow_db_bind_text(s, 4, res);
            flow_db_bind_text(s, 5, message);
            int r = flow_db_step(s);
            flow_db_finalize(s);
            if (r == FLOW_DB_DONE || ++tries >= 5) break;
        } else if (++tries >= 5) break;
        usleep(200000);
    }
    cJSON_free(res);
    SrvJobs *J = w->J;
    if (J->cfg.log) {
        char iso[32];
        flow_format_iso8601(flow_wall_ms(), iso);
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
    int none = 0;
    FlowErr e;
    FlowState *st = srv_state_open(J, integration, 1, &none, &e);
    cJSON *cl = st ? flow_state_run_error_classes(st, run_id, &e) : NULL;   /* (none: the run kept nothing) */
    srv_state_done(J, st, cl != NULL);
    cJSON_AddItemToObject(res, "error_classes", cl ? cl : cJSON_CreateObject());
}

FlowState *srv_state_open(SrvJobs *J, const char *integration, int read_only, int *none, FlowErr *err) {
    char sdir[4200];
    snprintf(sdir, sizeof sdir, "%s/state", J->dir);
    *none = !flow_db_is_postgres(J->db_spec) && !flow_state_file_exists(sdir, integration);
    if (*none) {
        flow_err_set(err, FLOW_ERR_VALUE, "no run of %s has kept state yet", integration);
        return NULL;
    }
    return flow_state_pool_take(J->pool, integration, read_only, err);
}

void srv_state_done(SrvJobs *J, FlowState *st, int ok) { flow_state_pool_give(J->pool, st, ok); }

void srv_state_forget(SrvJobs *J, const char *integration) { if (J) flow_state_pool_forget(J->pool, integration); }

void srv_state_counts(SrvJobs *J, long *opened, long *reused) { flow_state_pool_counts(J->pool, opened, reused); }

static void run_job(Worker *w, Claimed *c) {
    SrvJobs *J = w->J;
    char why[1200] = "", exe[4400], dir[4400], logp[4400];
    int built = 0;
    cJSON *args = cJSON_Parse(c->args);
    if (!cJSON_IsArray(args)) { finish(w, c->id, "failed", NULL, "the job's arguments are damaged"); cJSON_Delete(args); return; }
    /* the job's source into this server's build cache (the job may have been queued on another
     * machine, whose flowc and cache are its own): the executable under this server's hash */
    char hash[SRV_HASH_LEN + 1];
    snprintf(hash, sizeof hash, "%s", c->revision);
    /* the integration's files as the store has them (another server may have changed them); if they
     * cannot be, it is built with those there, which a missing hook file's build error names */
    if (srv_files_ensure(J->dir, NULL, w->db, c->integration, why, sizeof why) && J->cfg.log) {
        char iso[32];
        flow_format_iso8601(flow_wall_ms(), iso);
        fprintf(J->cfg.log, "%s server: job %ld: the files of %s are not brought up to date: %s\n", iso, c->id, c->integration, why);
        fflush(J->cfg.log);
    }
    if ((c->source_len && srv_build_put(J->dir, c->integration, c->source, c->source_len, hash, why, sizeof why))
        || srv_build_get(J->dir, J->flowc, hash, exe, sizeof exe, &built, why, sizeof why)) {
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
    char **env = srv_secret_env(w->db, J->cfg.key, c->integration, J->db_spec, environ, why, sizeof why);
    if (!env) {
        finish(w, c->id, "failed", NULL, why);
        free(argv);
        cJSON_Delete(args);
        return;
    }
    /* FLOW_RUN_ID, and the connections an open debug window records (conn_debug.c) */
    char dconns[2048], dpath[4600];
    int debugging = srv_debug_begin(w->db, c->integration, dir, run_id, dconns, sizeof dconns, dpath, sizeof dpath);
    size_t ne = 0;
    while (env[ne]) ne++;
    char **env2 = realloc(env, (ne + 4) * sizeof *env);
    if (!env2) abort();
    env = env2;
    if (asprintf(&env[ne++], "FLOW_RUN_ID=%s", run_id) < 0) abort();
    if (debugging && (asprintf(&env[ne++], "FLOW_DEBUG_CONNECTIONS=%s", dconns) < 0 || asprintf(&env[ne++], "FLOW_DEBUG_FILE=%s", dpath) < 0))
        abort();
    env[ne] = NULL;
    int out[2] = { -1, -1 };
    int logfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t pid = -1;
    if (logfd >= 0 && pipe2(out, O_CLOEXEC) == 0) pid = srv_spawn(exe, argv, env, dir, -1, out[1], logfd);
    srv_secret_env_free(env);
    free(argv);
    if (pid < 0) {
        snprintf(why, sizeof why, "cannot start the run: %s", strerror(errno));
        if (debugging) unlink(dpath);
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
        long long now = flow_wall_ms();
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
    if (debugging) srv_debug_end(w->db, c->integration, run_id, dpath, J->cfg.log);
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
            snprintf(msg, sizeof msg, "the run crashed: %s (signal %d); see its log, jobs/%ld.log on server %s", strsignal(sig), sig, c->id,
                     J->server_id);
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
        else snprintf(msg, sizeof msg, "the run failed (exit %d); see its log, jobs/%ld.log on server %s", code, c->id, J->server_id);
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

/* ---- leases: a running job is its server's while the server renews it ---- */

/* Renews this server's running jobs' leases, then fails the running jobs of other servers whose
 * lease ran out (their server died, or lost the store, for lease_ms): the store's clock throughout. */
static void lease_tick(SrvJobs *J) {
    FlowDb *db = J->lease_db;
    int64_t now = flow_db_now_ms(db);
    if (now < 0) return;
    FlowDbStmt *s = flow_db_prepare(db, "UPDATE jobs SET heartbeat_ms = ?1 WHERE status = 'running' AND server = ?2");
    if (s) {
        flow_db_bind_int64(s, 1, now);
        flow_db_bind_text(s, 2, J->server_id);
    }
    flow_db_run(s);
    s = flow_db_prepare(db, "UPDATE jobs SET status = 'failed', finished_ms = ?3,"
                       " message = 'the server running it (' || COALESCE(server, 'unknown') || ') stopped before it ended: its lease ran out'"
                       " WHERE status = 'running' AND COALESCE(heartbeat_ms, 0) < ?1 AND (server IS NULL OR server <> ?2)"
                       " RETURNING id, server");
    if (!s) return;
    flow_db_bind_int64(s, 1, now - J->lease_ms);
    flow_db_bind_text(s, 2, J->server_id);
    flow_db_bind_int64(s, 3, flow_wall_ms());
    int n = 0;
    while (flow_db_step(s) == FLOW_DB_ROW) {
        n++;
        if (J->cfg.log) {
            char iso[32];
            flow_format_iso8601(flow_wall_ms(), iso);
            fprintf(J->cfg.log, "%s server: job %lld: failed: its server %s stopped renewing its lease\n", iso, (long long)flow_db_column_int64(s, 0),
                    flow_db_column_text(s, 1) ? flow_db_column_text(s, 1) : "(unknown)");
            fflush(J->cfg.log);
        }
    }
    flow_db_finalize(s);
    if (n) {   /* their flows may run again: wake the workers */
        pthread_mutex_lock(&J->mu);
        pthread_cond_broadcast(&J->cv);
        pthread_mutex_unlock(&J->mu);
    }
}

static void *lease_main(void *arg) {
    SrvJobs *J = arg;
    int64_t beat = J->lease_ms / 10;
    if (beat < 100) beat = 100;
    if (beat > 3000) beat = 3000;
    pthread_mutex_lock(&J->mu);
    while (!J->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += beat / 1000;
        ts.tv_nsec += (beat % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&J->cv, &J->mu, &ts);
        if (J->stopping) break;
        pthread_mutex_unlock(&J->mu);
        lease_tick(J);
        flow_state_pool_sweep(J->pool);   /* (idle state stores closed in time while no request comes) */
        pthread_mutex_lock(&J->mu);
    }
    pthread_mutex_unlock(&J->mu);
    return NULL;
}

SrvJobs *srv_jobs_start(const SrvJobsConfig *cfg, char *why, size_t cap) {
    SrvJobs *J = calloc(1, sizeof *J);
    if (!J) abort();
    J->cfg = *cfg;
    J->dir = strdup(cfg->dir);
    J->db_spec = strdup(cfg->db_spec);
    J->flowc = strdup(cfg->flowc);
    J->server_id = strdup(cfg->server_id ? cfg->server_id : "server");
    J->place = cfg->place ? strdup(cfg->place) : NULL;
    if (!J->dir || !J->db_spec || !J->flowc || !J->server_id || (cfg->place && !J->place)) abort();
    J->lease_ms = cfg->lease_ms > 0 ? cfg->lease_ms : SRV_JOB_LEASE_MS;
    pthread_mutex_init(&J->mu, NULL);
    pthread_cond_init(&J->cv, NULL);
    pthread_mutex_init(&J->cbmu, NULL);
    char sdir[4200];
    snprintf(sdir, sizeof sdir, "%s/state", J->dir);
    J->pool = flow_state_pool_new(flow_db_is_postgres(J->db_spec) ? J->db_spec : NULL, sdir);
    J->db = open_db(J->db_spec, why, cap);
    if (!J->db || srv_jobs_schema(J->db, why, cap) || srv_secrets_schema(J->db, why, cap) || srv_debug_schema(J->db, why, cap)) { srv_jobs_stop(J); return NULL; }
    /* jobs left running by servers that are gone (their processes got SIGTERM when they died): failed
     * now when their lease has run out, else by the lease thread when it does */
    if (!(J->lease_db = open_db(J->db_spec, why, cap))) { srv_jobs_stop(J); return NULL; }
    lease_tick(J);
    if (pthread_create(&J->lease_th, NULL, lease_main, J) != 0) {
        snprintf(why, cap, "cannot start the jobs' lease thread: %s", strerror(errno));
        srv_jobs_stop(J);
        return NULL;
    }
    J->lease_started = 1;
    J->nw = cfg->workers > 0 ? cfg->workers : 1;
    J->w = calloc((size_t)J->nw, sizeof *J->w);
    if (!J->w) abort();
    for (int i = 0; i < J->nw; i++) {
        J->w[i].J = J;
        if (!(J->w[i].db = open_db(J->db_spec, why, cap))) { srv_jobs_stop(J); return NULL; }
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
        flow_db_close(J->w[i].db);
    }
    if (J->lease_started) pthread_join(J->lease_th, NULL);
    flow_db_close(J->lease_db);
    free(J->w);
    flow_db_close(J->db);
    flow_state_pool_free(J->pool);
    pthread_mutex_destroy(&J->mu);
    pthread_cond_destroy(&J->cv);
    pthread_mutex_destroy(&J->cbmu);
    free(J->dir);
    if (J->db_spec) memset(J->db_spec, 0, strlen(J->db_spec));   /* a DSN may hold a password */
    free(J->db_spec);
    free(J->flowc);
    free(J->server_id);
    free(J->place);
    free(J);
}
