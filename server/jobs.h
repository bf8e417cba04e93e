/* jobs.h — runs started through the API: the job table in the workspace store and the workers that
 * run each job as a child process of its revision's built executable (build_cache.h), with the
 * integration's secrets in its environment. A job is queued, claimed by exactly one worker (a
 * write transaction, which every server on a shared store takes in turn), runs under a lease its server
 * renews, and ends completed (the run finished, record errors or not), failed (the run
 * failed or its process crashed: the server goes on) or canceled. On a PostgreSQL store the runs'
 * state is there too (each integration's schema; the children get its DSN as FLOW_STATE_DB), so any
 * server runs any job. On a SQLite store the runs' state stores are each workspace directory's own
 * (DIR/state): a job that reads what the queuing server's holds — a webhook run (the requests its gate
 * queued there) or a retry (error ids of its error store) — is pinned to that directory's place and
 * claimed only by a server started on that DIR. */
#ifndef FLOWC_SERVER_JOBS_H
#define FLOWC_SERVER_JOBS_H
#include <stdio.h>
#include "db.h"
#include <cjson/cJSON.h>
#include "secrets.h"
#include "engine.h"   /* FlowState */

#define SRV_JOB_STATUSES(X) X(queued) X(running) X(completed) X(failed) X(canceled)
#define SRV_JOB_CANCEL_GRACE_MS 10000   /* a canceled run still going this long after SIGTERM is killed */
#define SRV_JOB_LEASE_MS 30000          /* a running job whose server has not renewed its lease this long is failed */

typedef struct SrvJobs SrvJobs;

typedef struct SrvJobsConfig {
    const char *dir;          /* the workspace: cache/, state/ (the runs' state stores), work/<integration>/ (their directory), jobs/ (logs) */
    const char *db_spec;      /* the store (a SQLite path or a PostgreSQL DSN: db.h); each worker has its own connection to it */
    const SrvKey *key;        /* decrypts the secrets */
    const char *flowc;        /* the flowc that builds revisions (an absolute path) */
    const char *server_id;    /* recorded with each job it claims */
    const char *place;        /* the workspace directory's own id (DIR/place): a job that reads this DIR's
                               * state store is claimed only by a server with this place; NULL on a
                               * PostgreSQL store (no job is pinned, and this server claims any) */
    int workers;              /* jobs run at once (>= 1) */
    FILE *log;                /* one line per job that ends; NULL: none */
    long long lease_ms;       /* 0: SRV_JOB_LEASE_MS */
} SrvJobsConfig;

/* What to run. kind "run": flow's run, with the delta window since/until (ISO 8601, or NULL); kind
 * "retry": the open errors `ids` (n of them; none: every open one of the flow, and of step when given)
 * run again from their failing steps. source: the integration's .flow text at this revision. */
typedef struct SrvJobReq {
    const char *integration, *flow, *kind, *step;
    const char *since, *until;
    const long *ids; int nids;
    const char *source; size_t source_len;
    const char *token_id, *token_name;   /* who asked (NULL: the server itself) */
    const char *trigger;                 /* what started it: api (NULL), schedule, after, catch_up, webhook */
} SrvJobReq;

int      srv_jobs_schema(FlowDb *db, char *why, size_t cap);
/* Starts the workers and the lease thread, which renews the leases of this server's running jobs and
 * fails the running jobs of servers whose lease ran out (they died; at start: the ones an earlier
 * process of this server left). NULL with why. */
SrvJobs *srv_jobs_start(const SrvJobsConfig *cfg, char *why, size_t cap);
/* No new claims; each running job's process gets SIGTERM (and SIGKILL after the grace) and its job
 * ends failed, "the server stopped"; the workers are joined. NULL is fine. */
void     srv_jobs_stop(SrvJobs *J);

/* Queues a job: its JSON (status queued), or NULL with *code 400 (a bad window: why names the field)
 * or 500 and why. */
cJSON   *srv_job_create(SrvJobs *J, const SrvJobReq *rq, int *code, char *why, size_t cap);
/* How many jobs of integration's flow are queued for this server's place (pinned to it; without a
 * place: queued at all). -1 on a store error. */
long     srv_jobs_queued_here(SrvJobs *J, const char *integration, const char *flow);
/* A job as JSON, or NULL (none: *code 404; else 500 with why). */
cJSON   *srv_job_get(SrvJobs *J, long id, int *code, char *why, size_t cap);
/* Jobs newest first: filters (NULL/0 for none) by integration, flow, status, created at or after
 * since_ms; before_id > 0: only ids below it (the next page); at most limit. NULL with why (a bad
 * status: *code 400). */
cJSON   *srv_jobs_list(SrvJobs *J, const char *integration, const char *flow, const char *status, long long since_ms, long before_id,
                       int limit, int *code, char *why, size_t cap);
/* Cancels a job: a queued one at once, a running one by SIGTERM to its process (its worker records it
 * canceled when it has ended). The job's JSON, or NULL with *code 404, 409 (it has ended) or 500. */
cJSON   *srv_job_cancel(SrvJobs *J, long id, int *code, char *why, size_t cap);
/* Calls on_end(arg, id) on a worker's thread each time a job this server ran has ended (its row
 * says how); NULL removes it, and once that returns no call is under way. on_end must not block. */
void     srv_jobs_on_end(SrvJobs *J, void (*on_end)(void *arg, long id), void *arg);
/* The runs' state store of integration (runtime/state.c) for one user until srv_state_done: on a
 * PostgreSQL store (db_spec a DSN) its schema in that database (made on first use), the one every
 * server's runs write; else the SQLite file DIR/state/<integration>.state.db, or NULL with *none set
 * when no run has made it yet. NULL with err. The server keeps the stores open between users
 * (runtime/state_pool.h): a request pays no new open, nor a new PostgreSQL session. */
FlowState *srv_state_open(SrvJobs *J, const char *integration, int read_only, int *none, FlowErr *err);
/* Gives back what srv_state_open gave (NULL is fine); ok: its user met no store error (else it is
 * closed, and the next user opens it afresh). */
void     srv_state_done(SrvJobs *J, FlowState *st, int ok);
/* integration was changed or deleted: its stores are opened afresh by their next users. */
void     srv_state_forget(SrvJobs *J, const char *integration);
/* state stores opened, and uses served by one kept open, since the server started (/metrics) */
void     srv_state_counts(SrvJobs *J, long *opened, long *reused);
/* Blocks until the job has ended or timeout_ms passed (tests, `flowc remote jobs wait`): its JSON as
 * srv_job_get. */
cJSON   *srv_job_wait(SrvJobs *J, long id, long timeout_ms, int *code, char *why, size_t cap);

#endif
