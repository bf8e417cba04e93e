/* runs.h — what the routes that run things (runs.c) share with the errors and connections routes:
 * resolving a resource id to its integration's checked source, flow and step; the jobs module; a
 * child's environment with the integration's secrets; paging by numeric id. */
#ifndef FLOWC_SERVER_RUNS_H
#define FLOWC_SERVER_RUNS_H
#include "server.h"
#include "frontend.h"
#include "jobs.h"

typedef struct RunsTarget {
    char id[800], integ[256], flow[256], step[256];
    char *text; size_t len; long rev;          /* the integration's head revision */
    Source *src;
    FeResult fe;                               /* checked: fe.ir is the typed IR */
    const struct IrFlow *f;
    const struct IrStep *st;                   /* the step, for an export or import id */
    const struct IrConn *conn;                 /* the connection, for a connection id (its name in flow) */
    struct IrConn *builtin;                    /* `webhook` when only triggers use it (no `from webhook`): made here */
} RunsTarget;

#define RUNS_CONNECTION (-3)
/* id: integration.flow (want -1), integration.connection (want RUNS_CONNECTION) or
 * integration.flow.step of kind want (STEP_EXPORT, STEP_IMPORT);
 * step_label: a flow id's step, kept in t->step unchecked. 0, or -1 with 404 in out (an id of the wrong shape names nothing). */
int   runs_target(Srv *s, const char *id, int want, const char *step_label, RunsTarget *t, SrvResp *out);
void  runs_target_free(RunsTarget *t);
SrvJobs *runs_jobs(Srv *s);
/* integ was changed or deleted: the state stores the server keeps open of it are opened afresh
 * (srv_state_forget); nothing when the jobs module is not started */
void  runs_state_forget(Srv *s, const char *integ);
/* srv_state_counts: 0, or -1 when the jobs module is not started */
int   runs_state_counts(Srv *s, long *opened, long *reused);
const SrvKey *runs_key(Srv *s);   /* the workspace key (secrets.c) */
const char *runs_dir(Srv *s);     /* the workspace, an absolute path */
/* the integration's secrets (and extra "NAME=value" strings, NULL-terminated; may be NULL) over the
 * server's environment; free with srv_secret_env_free. NULL with a 500 in out. */
char **runs_env(Srv *s, const char *integ, const char *const *extra, SrvResp *out);
/* the target's revision built (once per content hash, build_cache.h): its executable's path in exe;
 * 0, or -1 with a 500 in out */
int   runs_exe(Srv *s, const RunsTarget *t, char *exe, size_t cap, SrvResp *out);
/* Runs argv[0] with env in the integration's directory (DIR/work/<integration>) until it ends, killed
 * (SIGKILL) after timeout_ms: its standard output (malloc'd, NUL-terminated, *outlen) and the last line
 * of its standard error; *status as waitpid's, *timed_out. NULL with why when it could not start. */
char *runs_exec(Srv *s, const char *integ, char *const argv[], char *const env[], long timeout_ms, size_t *outlen, char *errline,
                size_t ecap, int *status, int *timed_out, char *why, size_t cap);
/* ?limit= (1..SRV_PAGE_MAX) and ?after= (an id): 0, or -1 with a 400 in out */
int   runs_page(const SrvReq *rq, SrvResp *out, int *limit, long *after);
/* items (taken: at most limit + 1 read, in page order) as the answer, with a Link rel="next" when
 * the extra one is there */
void  runs_page_answer(const SrvReq *rq, SrvResp *out, cJSON *items, int limit);

#endif
