/* runs.c — the routes that run things (the jobs module): POST /v1/flows/{id}/run (a job, 201),
 * GET /v1/jobs, GET /v1/jobs/{id}, POST /v1/jobs/{id}/cancel; POST /v1/exports/{id}/run (the first
 * page of the export, up to 100 records, through `flowc preview` in a child process); POST
 * /v1/imports/{id}/run (records pushed through the import: the revision's built executable's `push`
 * in a child process, per-record results from the errors it kept; recorded by an open connection
 * debug window as a job's run is). Every child gets the
 * integration's secrets in its environment and runs in DIR/work/<integration>; a crash in one is a
 * failed answer, never a dead server. Also the helpers the errors and connections routes share:
 * resolving an id to its integration, flow and step (runs.h). */
#define _GNU_SOURCE 1   /* pipe2, strsignal */
#include "runs.h"
#include "db.h"
#include "build_cache.h"
#include "child.h"
#include "conn_debug.h"
#include "files.h"
#include "diag.h"
#include "frontend.h"
#include "ir.h"
#include "source.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SYNC_TIMEOUT_MS 120000        /* a preview or a push still going after this is killed: 504 */
#define SYNC_OUTPUT_MAX (32u << 20)   /* bytes of a child's standard output kept */
#define PUSH_MAX_RECORDS 1000

typedef struct Runs { SrvJobs *J; SrvKey key; char flowc[4096], dir[4096]; } Runs;   /* dir: the workspace, absolute (children run elsewhere) */

static const char *jstr(const cJSON *o, const char *k) { return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k)); }

static Runs *runs_of(Srv *s) { return *srv_module(s, SRV_MOD_jobs); }

SrvJobs *runs_jobs(Srv *s) { return runs_of(s)->J; }
void runs_state_forget(Srv *s, const char *integ) { Runs *R = runs_of(s); if (R) srv_state_forget(R->J, integ); }
int runs_state_counts(Srv *s, long *opened, long *reused) {
    Runs *R = runs_of(s);
    if (!R) return -1;
    srv_state_counts(R->J, opened, reused);
    return 0;
}
const SrvKey *runs_key(Srv *s) { return &runs_of(s)->key; }
const char *runs_dir(Srv *s) { return runs_of(s)->dir; }

/* The workspace directory's place (jobs.h): 32 random hex digits in DIR/place, made by the first
 * server started on it (servers on one DIR share it, as they share its state stores). Only a SQLite
 * store's servers have one: servers on one SQLite store file but on several directories keep the runs'
 * state each in its own DIR/state. 0, or -1 with why. */
static int place_of(const char *dir, char out[64], char *why, size_t cap) {
    char path[4200];
    snprintf(path, sizeof path, "%s/place", dir);
    for (int attempt = 0; attempt < 50; attempt++) {
        FILE *f = fopen(path, "re");
        if (f) {
            int ok = fgets(out, 64, f) != NULL;
            fclose(f);
            out[strcspn(out, "\n")] = 0;
            if (ok && strlen(out) == 32 && strspn(out, "0123456789abcdef") == 32) return 0;
            if (ok && *out) { snprintf(why, cap, "%s is damaged (not 32 hex digits): remove it, and this directory gets a new one", path); return -1; }
            usleep(20000);   /* being written by another server starting on this DIR */
            continue;
        }
        if (errno != ENOENT) { snprintf(why, cap, "cannot read %s: %s", path, strerror(errno)); return -1; }
        unsigned char r[16];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) { snprintf(why, cap, "getrandom: %s", strerror(errno)); return -1; }
        for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) continue;   /* another server made it first */
        char line[40];
        int n = snprintf(line, sizeof line, "%s\n", out);
        if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd) != 0) { snprintf(why, cap, "cannot write %s: %s", path, strerror(errno)); return -1; }
        return 0;
    }
    snprintf(why, cap, "%s stays empty", path);
    return -1;
}

int jobs_mod_start(Srv *s, char *why, size_t cap) {
    Runs *R = calloc(1, sizeof *R);
    if (!R) abort();
    ssize_t n = readlink("/proc/self/exe", R->flowc, sizeof R->flowc - 1);
    if (n <= 0) { snprintf(why, cap, "cannot find flowc itself: %s", strerror(errno)); free(R); return -1; }
    R->flowc[n] = 0;
    if (!realpath(srv_dir(s), R->dir)) { snprintf(why, cap, "%s: %s", srv_dir(s), strerror(errno)); free(R); return -1; }
    if (srv_key_load(R->dir, &R->key, why, cap)) { free(R); return -1; }
    SrvStore *st = srv_store(s);
    store_lock(st);
    int bound = srv_key_bind(store_db(st), &R->key, why, cap);
    store_unlock(st);
    if (bound) { srv_key_wipe(&R->key); free(R); return -1; }
    /* this server's id on the store's jobs: host, pid and a random part (two machines may share a host
     * name and a pid) */
    char host[128] = "server", id[200];
    unsigned rnd = 0;
    gethostname(host, sizeof host - 1);
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) rnd = (unsigned)time(NULL);
    snprintf(id, sizeof id, "%.127s:%ld:%04x", host, (long)getpid(), rnd & 0xffff);
    /* (on a PostgreSQL store the runs' state is in the store too: no job is pinned to a directory) */
    char place[64];
    int pinned = !flow_db_is_postgres(store_spec(srv_store(s)));
    if (pinned && place_of(R->dir, place, why, cap)) { srv_key_wipe(&R->key); free(R); return -1; }
    SrvJobsConfig cfg = { R->dir, store_spec(srv_store(s)), &R->key, R->flowc, id, pinned ? place : NULL, 2, stderr, srv_lease_ms(s) };
    R->J = srv_jobs_start(&cfg, why, cap);
    if (!R->J) { srv_key_wipe(&R->key); free(R); return -1; }
    *srv_module(s, SRV_MOD_jobs) = R;
    return 0;
}

void jobs_mod_stop(Srv *s) {
    Runs *R = runs_of(s);
    if (!R) return;
    srv_jobs_stop(R->J);
    srv_key_wipe(&R->key);
    free(R);
    *srv_module(s, SRV_MOD_jobs) = NULL;
}

/* ---- ids: integration.flow[.step] ---- */

/* The integration's head source (srv_integration_text) parsed and checked, and the flow and step an
 * id names: 0, or -1 with 404 (or 400 for an id of the wrong shape) in out. want: the step kind
 * (STEP_EXPORT, STEP_IMPORT) for a three-part id, -1 for a flow id, -2 for a flow and any step label. */
int runs_target(Srv *s, const char *id, int want, const char *step_label, RunsTarget *t, SrvResp *out) {
    memset(t, 0, sizeof *t);
    const char *d1 = strchr(id, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    int parts = !d1 ? 1 : !d2 ? 2 : 3;
    if (parts != (want >= 0 ? 3 : 2) || (d2 && strchr(d2 + 1, '.')) || d1 == id || (d2 && d2 == d1 + 1) || id[strlen(id) - 1] == '.') {
        srv_error(out, 404, "not_found", NULL, "`%s` is not %s id (%s)", id,
                  want == STEP_EXPORT ? "an export" : want == STEP_IMPORT ? "an import" : want == RUNS_CONNECTION ? "a connection" : "a flow",
                  want >= 0 ? "integration.flow.step" : "integration.flow");
        return -1;
    }
    snprintf(t->integ, sizeof t->integ, "%.*s", (int)(d1 - id), id);
    snprintf(t->flow, sizeof t->flow, "%.*s", (int)(d2 ? d2 - d1 - 1 : (long)strlen(d1 + 1)), d1 + 1);
    if (d2) snprintf(t->step, sizeof t->step, "%s", d2 + 1);
    else if (step_label) snprintf(t->step, sizeof t->step, "%s", step_label);
    snprintf(t->id, sizeof t->id, "%s", id);
    t->text = srv_integration_text(s, t->integ, &t->len, &t->rev);
    if (!t->text) { srv_error(out, 404, "not_found", NULL, "no integration `%s`", t->integ); return -1; }
    char name[4400];
    srv_files_name(s, t->integ, "integration.flow", name, sizeof name);   /* beside its files */
    t->src = src_from_buffer(name, t->text, t->len);
    Diags d;
    diag_init(&d);
    fe_run(&t->fe, t->src, &d, FE_CHECK);
    int errors = d.errors;
    diag_free(&d);
    if (!t->fe.ir || errors) {   /* the store only holds integrations that check: this is not one any more */
        srv_error(out, 500, "internal", NULL, "integration `%s` (revision %ld) does not check", t->integ, t->rev);
        runs_target_free(t);
        return -1;
    }
    if (want == RUNS_CONNECTION) {   /* integration.connection: kept in t->flow */
        for (int i = 0; i < t->fe.ir->nconns && !t->conn; i++) if (strcmp(t->fe.ir->conns[i]->name, t->flow) == 0) t->conn = t->fe.ir->conns[i];
        /* `webhook`: the requests' source, whose secrets (its triggers' env() values) are set through it
         * also when no export reads `from webhook` */
        for (int i = 0; i < t->fe.ir->nflows && !t->conn && strcmp(t->flow, "webhook") == 0; i++)
            for (int k = 0; k < t->fe.ir->flows[i]->nsettings && !t->conn; k++)
                if (strcmp(t->fe.ir->flows[i]->settings[k].name, "trigger") == 0) {
                    t->builtin = calloc(1, sizeof *t->builtin);
                    if (!t->builtin) abort();
                    t->builtin->name = "webhook";
                    t->builtin->kind = flow_conn_kind("webhook");
                    t->conn = t->builtin;
                }
        if (t->conn) return 0;
        srv_error(out, 404, "not_found", NULL, "integration `%s` has no connection `%s`", t->integ, t->flow);
        runs_target_free(t);
        return -1;
    }
    for (int i = 0; i < t->fe.ir->nflows && !t->f; i++) if (strcmp(t->fe.ir->flows[i]->name, t->flow) == 0) t->f = t->fe.ir->flows[i];
    if (!t->f) {
        srv_error(out, 404, "not_found", NULL, "integration `%s` has no flow `%s`", t->integ, t->flow);
        runs_target_free(t);
        return -1;
    }
    if (want >= 0) {
        for (int i = 0; i < t->f->nall && !t->st; i++)
            if ((int)t->f->all[i]->kind == want && t->f->all[i]->name && strcmp(t->f->all[i]->name, t->step) == 0) t->st = t->f->all[i];
        if (!t->st) {
            srv_error(out, 404, "not_found", NULL, "flow `%s.%s` has no %s `%s`", t->integ, t->flow, want == STEP_EXPORT ? "export" : "import", t->step);
            runs_target_free(t);
            return -1;
        }
    }
    return 0;
}

void runs_target_free(RunsTarget *t) {
    free(t->builtin);
    fe_result_free(&t->fe);
    src_free(t->src);
    free(t->text);
    memset(t, 0, sizeof *t);
}

/* ---- paging by numeric id (jobs newest first, errors oldest first) ---- */

int runs_page(const SrvReq *rq, SrvResp *out, int *limit, long *after) {
    char buf[64];
    *limit = SRV_PAGE_DEFAULT;
    *after = 0;
    int q = srv_query(rq, "limit", buf, sizeof buf);
    char *end;
    if (q) {
        errno = 0;
        long v = q > 0 ? strtol(buf, &end, 10) : -1;
        if (q < 0 || errno || end == buf || *end || v < 1 || v > SRV_PAGE_MAX) {
            srv_error(out, 400, "invalid_parameter", "limit", "limit takes a whole number from 1 to %d", SRV_PAGE_MAX);
            return -1;
        }
        *limit = (int)v;
    }
    q = srv_query(rq, "after", buf, sizeof buf);
    if (q) {
        errno = 0;
        long v = q > 0 ? strtol(buf, &end, 10) : -1;
        if (q < 0 || errno || end == buf || *end || v < 1) {
            srv_error(out, 400, "invalid_parameter", "after", "after takes the id of the last item of the page before");
            return -1;
        }
        *after = v;
    }
    return 0;
}

void runs_page_answer(const SrvReq *rq, SrvResp *out, cJSON *items, int limit) {
    int n = cJSON_GetArraySize(items);
    if (n > limit) {   /* one more than a page was read: there is a next page */
        cJSON_DeleteItemFromArray(items, n - 1);
        const char *last = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, limit - 1), "id"));
        FlowSb l = { NULL, 0, 0 };
        flow_sb_puts(&l, "<");
        flow_sb_puts(&l, rq->path);
        flow_sb_puts(&l, "?");
        for (const char *qq = rq->query; qq && *qq;) {   /* the filters as received, then limit and after */
            const char *amp = strchr(qq, '&');
            size_t len = amp ? (size_t)(amp - qq) : strlen(qq);
            if (len && strncmp(qq, "after=", 6) != 0 && strncmp(qq, "limit=", 6) != 0 && !memchr(qq, '>', len)) {
                flow_sb_put(&l, qq, len);
                flow_sb_puts(&l, "&");
            }
            qq = amp ? amp + 1 : qq + len;
        }
        char tail[96];
        snprintf(tail, sizeof tail, "limit=%d&after=%s>; rel=\"next\"", limit, last ? last : "");
        flow_sb_puts(&l, tail);
        out->link = flow_sb_take(&l);
    }
    srv_json(out, 200, items);
}

/* ---- children that answer at once: previews and pushes ---- */

/* The integration's secrets and extra (NAME=value strings, NULL-terminated; may be NULL) over the
 * server's environment; NULL with a 500 in out. */
char **runs_env(Srv *s, const char *integ, const char *const *extra, SrvResp *out) {
    char why[1200];
    SrvStore *st = srv_store(s);
    store_lock(st);
    char **env = srv_secret_env(store_db(st), &runs_of(s)->key, integ, store_spec(st), environ, why, sizeof why);
    store_unlock(st);
    if (!env) { srv_error(out, 500, "secrets", NULL, "%s", why); return NULL; }
    size_t n = 0, k = 0;
    while (env[n]) n++;
    while (extra && extra[k]) k++;
    char **e2 = realloc(env, (n + k + 1) * sizeof *env);
    if (!e2) abort();
    env = e2;
    for (size_t i = 0; i < k; i++) if (!(env[n++] = strdup(extra[i]))) abort();
    env[n] = NULL;
    return env;
}

/* the integration's working directory, made when missing */
static int work_dir(Srv *s, const char *integ, char *out, size_t cap) {
    snprintf(out, cap, "%s/work", runs_of(s)->dir);
    if (mkdir(out, 0700) != 0 && errno != EEXIST) return -1;
    snprintf(out, cap, "%s/work/%s", runs_of(s)->dir, integ);
    return mkdir(out, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

char *runs_exec(Srv *s, const char *integ, char *const argv[], char *const env[], long timeout_ms, size_t *outlen, char *errline,
                size_t ecap, int *status, int *timed_out, char *why, size_t cap) {
    char dir[4300];
    *timed_out = 0;
    errline[0] = 0;
    if (work_dir(s, integ, dir, sizeof dir)) { snprintf(why, cap, "cannot create %.900s: %s", dir, strerror(errno)); return NULL; }
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) { snprintf(why, cap, "pipe: %s", strerror(errno)); return NULL; }
    if (pipe2(err, O_CLOEXEC) != 0) { close(out[0]); close(out[1]); snprintf(why, cap, "pipe: %s", strerror(errno)); return NULL; }
    pid_t pid = srv_spawn(argv[0], argv, env, dir, -1, out[1], err[1]);
    close(out[1]);
    close(err[1]);
    if (pid < 0) { close(out[0]); close(err[0]); snprintf(why, cap, "cannot start %s: %s", argv[0], strerror(errno)); return NULL; }
    FlowSb o = { NULL, 0, 0 };
    char etail[1024];
    size_t en = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int open_fds = 2, killed = 0;
    while (open_fds) {
        struct pollfd pf[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
        int pr = poll(pf, 2, 250);
        for (int i = 0; i < 2 && pr > 0; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[8192];
            ssize_t r = read(pf[i].fd, buf, sizeof buf);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                close(i ? err[0] : out[0]);
                if (i) err[0] = -1; else out[0] = -1;
                open_fds--;
                continue;
            }
            if (!i) { if (o.n + (size_t)r <= SYNC_OUTPUT_MAX) flow_sb_put(&o, buf, (size_t)r); }
            else for (ssize_t k = 0; k < r; k++) {   /* keep the last 1 KB of stderr */
                if (en == sizeof etail) { memmove(etail, etail + 512, 512); en = 512; }
                etail[en++] = buf[k];
            }
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (!killed && ms > timeout_ms) { kill(pid, SIGKILL); killed = 1; *timed_out = 1; }
        if (pf[0].fd < 0 && pf[1].fd < 0) break;
    }
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
    /* the last non-empty line of stderr */
    while (en && (etail[en - 1] == '\n' || etail[en - 1] == '\r')) en--;
    size_t start = en;
    while (start && etail[start - 1] != '\n') start--;
    snprintf(errline, ecap, "%.*s", (int)(en - start), etail + start);
    flow_sb_put(&o, "", 0);
    if (!o.p) { o.p = malloc(1); if (!o.p) abort(); o.p[0] = 0; }
    else o.p[o.n] = 0;
    *outlen = o.n;
    return o.p;
}

int runs_exe(Srv *s, const RunsTarget *t, char *exe, size_t cap, SrvResp *out) {
    char hash[SRV_HASH_LEN + 1], why[1200];
    int built = 0;
    if (srv_build_put(runs_of(s)->dir, t->integ, t->text, t->len, hash, why, sizeof why) ||
        srv_build_get(runs_of(s)->dir, runs_of(s)->flowc, hash, exe, cap, &built, why, sizeof why)) {
        srv_error(out, 500, "build_failed", NULL, "%s", why);
        return -1;
    }
    return 0;
}

/* a child that did not end well, as an answer: 504 timed out, 502 crashed or failed */
static void child_failed(SrvResp *out, const char *what, int status, int timed_out, const char *errline) {
    if (timed_out) srv_error(out, 504, "timeout", NULL, "%s took longer than %d s and was stopped", what, SYNC_TIMEOUT_MS / 1000);
    else if (WIFSIGNALED(status))
        srv_error(out, 502, "crashed", NULL, "%s crashed: %s (signal %d)", what, strsignal(WTERMSIG(status)), WTERMSIG(status));
    else srv_error(out, 502, "run_failed", NULL, "%s failed: %s", what, errline[0] ? errline : "no message");
}

static void new_run_id(const char *kind, char *out, size_t cap) {
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (unsigned)time(NULL) ^ (unsigned)getpid();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, cap, "%s-%lld-%08x", kind, (long long)ts.tv_sec, r);
}

/* ---- POST /v1/flows/{id}/run ---- */

void run_flow(Srv *s, const SrvReq *rq, SrvResp *out) {
    /* the window from the body ({"since", "until"}, optional) or the query */
    cJSON *body = NULL;
    if (rq->nbody && srv_body_json(rq, out, 0, &body)) return;
    char qs[128] = "", qu[128] = "";
    const char *since = body ? jstr(body, "since") : NULL, *until = body ? jstr(body, "until") : NULL;
    for (const cJSON *x = body ? body->child : NULL; x; x = x->next)
        if (strcmp(x->string, "since") && strcmp(x->string, "until")) {
            srv_error(out, 400, "invalid_field", x->string, "POST /v1/flows/{id}/run takes since and until, not `%s`", x->string);
            cJSON_Delete(body);
            return;
        } else if (!cJSON_IsString(x) && !cJSON_IsNull(x)) {
            srv_error(out, 400, "invalid_field", x->string, "%s takes an ISO-8601 date-time as a string", x->string);
            cJSON_Delete(body);
            return;
        }
    if (!since && srv_query(rq, "since", qs, sizeof qs) > 0) since = qs;
    if (!until && srv_query(rq, "until", qu, sizeof qu) > 0) until = qu;
    RunsTarget t;
    if (runs_target(s, rq->params[0], -1, NULL, &t, out)) { cJSON_Delete(body); return; }
    SrvJobReq jr = { .integration = t.integ, .flow = t.flow, .kind = "run", .since = since, .until = until, .source = t.text,
                     .source_len = t.len, .token_id = rq->caller->id, .token_name = rq->caller->name };
    int code = 500;
    char why[1200];
    cJSON *job = srv_job_create(runs_jobs(s), &jr, &code, why, sizeof why);
    if (!job) srv_error(out, code, code == 400 ? "invalid_field" : "internal", code == 400 ? (strncmp(why, "until", 5) ? "since" : "until") : NULL, "%s", why);
    else {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "job", jstr(job, "id"));
        cJSON_AddNumberToObject(d, "revision", (double)t.rev);
        if (since) cJSON_AddStringToObject(d, "since", since);
        if (until) cJSON_AddStringToObject(d, "until", until);
        audit_append(srv_store(s), 0, rq->caller, rq->addr, "run", SRV_K_FLOW, t.id, d);
        char loc[80];
        snprintf(loc, sizeof loc, "/v1/jobs/%s", jstr(job, "id"));
        out->location = strdup(loc);
        srv_json(out, 201, job);
    }
    runs_target_free(&t);
    cJSON_Delete(body);
}

/* ---- jobs ---- */

/* a scoped caller sees the jobs of the flows in its scope */
static int job_visible(const SrvReq *rq, const cJSON *job) {
    char fid[600];
    snprintf(fid, sizeof fid, "%s.%s", jstr(job, "integration"), jstr(job, "flow"));
    return srv_scope_allows(rq->caller, SRV_K_FLOW, fid);
}

static long job_id_param(const char *p, SrvResp *out) {
    char *end;
    errno = 0;
    long id = strtol(p, &end, 10);
    if (!*p || *end || errno || id < 1) { srv_error(out, 404, "not_found", NULL, "no job `%s`", p); return -1; }
    return id;
}

static void job_answer(const SrvReq *rq, SrvResp *out, cJSON *job, int code, const char *why, int status) {
    if (!job) { srv_error(out, code, code == 404 ? "not_found" : code == 409 ? "conflict" : "internal", NULL, "%s", why); return; }
    if (!job_visible(rq, job)) {   /* as if it were not there: a scoped token learns nothing of other flows */
        cJSON_Delete(job);
        srv_error(out, 404, "not_found", NULL, "no job `%s` in the scope of token %s", rq->params[0], rq->caller->id);
        return;
    }
    srv_json(out, status, job);
}

/* the job of the route's {id} when the caller may see it; else NULL with the answer made */
static cJSON *visible_job(Srv *s, const SrvReq *rq, SrvResp *out, long *id) {
    *id = job_id_param(rq->params[0], out);
    if (*id < 0) return NULL;
    int code = 500;
    char why[600];
    cJSON *job = srv_job_get(runs_jobs(s), *id, &code, why, sizeof why);
    if (job && job_visible(rq, job)) return job;
    job_answer(rq, out, job, code, why, 200);
    return NULL;
}

void job_get(Srv *s, const SrvReq *rq, SrvResp *out) {
    long id;
    cJSON *job = visible_job(s, rq, out, &id);
    if (job) srv_json(out, 200, job);
}

void job_cancel(Srv *s, const SrvReq *rq, SrvResp *out) {
    long id;
    cJSON *job = visible_job(s, rq, out, &id);
    if (!job) return;
    cJSON_Delete(job);
    int code = 500;
    char why[600];
    job = srv_job_cancel(runs_jobs(s), id, &code, why, sizeof why);
    if (job) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "job", rq->params[0]);
        char fid[600];
        snprintf(fid, sizeof fid, "%s.%s", jstr(job, "integration"), jstr(job, "flow"));
        audit_append(srv_store(s), 0, rq->caller, rq->addr, "cancel", SRV_K_FLOW, fid, d);
    }
    job_answer(rq, out, job, code, why, 200);
}

void jobs_list(Srv *s, const SrvReq *rq, SrvResp *out) {
    char flow[600] = "", status[64] = "", since[128] = "";
    int limit;
    long after;
    if (runs_page(rq, out, &limit, &after)) return;
    if (srv_query(rq, "flow", flow, sizeof flow) < 0 || srv_query(rq, "status", status, sizeof status) < 0 ||
        srv_query(rq, "since", since, sizeof since) < 0) {
        srv_error(out, 400, "invalid_parameter", NULL, "a filter is too long");
        return;
    }
    int64_t since_ms = 0;
    if (since[0] && !flow_parse_iso8601(since, strlen(since), &since_ms)) {
        srv_error(out, 400, "invalid_parameter", "since", "since: `%s` is not an ISO-8601 date-time", since);
        return;
    }
    char integ[300] = "", *fl = NULL;
    if (flow[0]) {   /* flow=integration.flow */
        char *dot = strchr(flow, '.');
        if (!dot || dot == flow || !dot[1] || strchr(dot + 1, '.')) {
            srv_error(out, 400, "invalid_parameter", "flow", "flow takes a flow id, integration.flow");
            return;
        }
        snprintf(integ, sizeof integ, "%.*s", (int)(dot - flow), flow);
        fl = dot + 1;
    }
    int code = 500;
    char why[600];
    /* read pages until one holds limit + 1 visible jobs (a scoped token's are filtered here) */
    cJSON *page = cJSON_CreateArray();
    long before = after;
    for (;;) {
        cJSON *l = srv_jobs_list(runs_jobs(s), integ[0] ? integ : NULL, fl, status[0] ? status : NULL, since_ms, before, limit + 1, &code, why,
                                 sizeof why);
        if (!l) {
            cJSON_Delete(page);
            srv_error(out, code, code == 400 ? "invalid_parameter" : "internal", code == 400 ? "status" : NULL, "%s", why);
            return;
        }
        int got = cJSON_GetArraySize(l);
        while (l->child && cJSON_GetArraySize(page) <= limit) {
            cJSON *j = cJSON_DetachItemViaPointer(l, l->child);
            before = atol(jstr(j, "id"));
            if (job_visible(rq, j)) cJSON_AddItemToArray(page, j);
            else cJSON_Delete(j);
        }
        cJSON_Delete(l);
        if (got < limit + 1 || cJSON_GetArraySize(page) > limit) break;
    }
    runs_page_answer(rq, out, page, limit);
}

/* ---- POST /v1/exports/{id}/run: the export's first page ---- */

void run_export(Srv *s, const SrvReq *rq, SrvResp *out) {
    char buf[32];
    long limit = 100;
    int q = srv_query(rq, "limit", buf, sizeof buf);
    if (q) {
        char *end;
        errno = 0;
        limit = q > 0 ? strtol(buf, &end, 10) : -1;
        if (q < 0 || errno || end == buf || *end || limit < 1 || limit > 100) {
            srv_error(out, 400, "invalid_parameter", "limit", "limit takes a whole number from 1 to 100");
            return;
        }
    }
    if (rq->nbody) { srv_error(out, 400, "invalid_body", NULL, "POST /v1/exports/{id}/run takes no body (?limit=N, at most 100)"); return; }
    RunsTarget t;
    if (runs_target(s, rq->params[0], STEP_EXPORT, NULL, &t, out)) return;
    char hash[SRV_HASH_LEN + 1], why[1200], src[4400], lim[24];
    if (srv_build_put(runs_of(s)->dir, t.integ, t.text, t.len, hash, why, sizeof why)) { srv_error(out, 500, "internal", NULL, "%s", why); runs_target_free(&t); return; }
    snprintf(src, sizeof src, "%s/cache/%s/integration.flow", runs_of(s)->dir, hash);
    snprintf(lim, sizeof lim, "%ld", limit);
    char **env = runs_env(s, t.integ, NULL, out);
    if (!env) { runs_target_free(&t); return; }
    char *argv[] = { runs_of(s)->flowc, "preview", src, "--flow", t.flow, "--limit", lim, "--format", "json", NULL };
    size_t n = 0;
    int status = 0, timed_out = 0;
    char errline[1100];
    char *text = runs_exec(s, t.integ, argv, env, SYNC_TIMEOUT_MS, &n, errline, sizeof errline, &status, &timed_out, why, sizeof why);
    srv_secret_env_free(env);
    cJSON *doc = text && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? flow_json_parse(text, n, NULL) : NULL;
    if (!text) srv_error(out, 500, "internal", NULL, "%s", why);
    else if (!doc) child_failed(out, "the export", status, timed_out, errline);
    else {
        cJSON *recs = NULL;
        for (cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "steps") ? cJSON_GetObjectItemCaseSensitive(doc, "steps")->child : NULL; st && !recs; st = st->next)
            if (jstr(st, "kind") && strcmp(jstr(st, "kind"), "export") == 0) recs = cJSON_DetachItemFromObjectCaseSensitive(st, "out");
        if (!recs) recs = cJSON_CreateArray();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "export", t.id);
        cJSON_AddNumberToObject(o, "revision", (double)t.rev);
        cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(recs));
        cJSON_AddItemToObject(o, "records", recs);
        srv_json(out, 200, o);
    }
    cJSON_Delete(doc);
    free(text);
    runs_target_free(&t);
}

/* ---- POST /v1/imports/{id}/run: records pushed through the import ---- */

void run_import(Srv *s, const SrvReq *rq, SrvResp *out) {
    cJSON *recs = NULL;
    if (srv_body_json(rq, out, 1, &recs)) return;
    int n = cJSON_GetArraySize(recs), i = 0;
    if (n < 1 || n > PUSH_MAX_RECORDS) {
        srv_error(out, 400, "invalid_body", NULL, "the body is an array of 1 to %d records, not %d", PUSH_MAX_RECORDS, n);
        cJSON_Delete(recs);
        return;
    }
    for (const cJSON *r = recs->child; r; r = r->next, i++)
        if (!cJSON_IsObject(r)) {
            char f[32];
            snprintf(f, sizeof f, "[%d]", i);
            srv_error(out, 400, "invalid_body", f, "item %d of the body is not a record (a JSON object)", i);
            cJSON_Delete(recs);
            return;
        }
    RunsTarget t;
    if (runs_target(s, rq->params[0], STEP_IMPORT, NULL, &t, out)) { cJSON_Delete(recs); return; }
    char why[1200], exe[4400], dir[4300], data[4500], state[4300], run_id[64], rid_env[96];
    if (runs_exe(s, &t, exe, sizeof exe, out)) {
        runs_target_free(&t);
        cJSON_Delete(recs);
        return;
    }
    new_run_id("push", run_id, sizeof run_id);
    snprintf(rid_env, sizeof rid_env, "FLOW_RUN_ID=%s", run_id);
    snprintf(state, sizeof state, "%s/state", runs_of(s)->dir);
    mkdir(state, 0700);
    /* the records go to the child in a file of the integration's directory (0600, removed after) */
    int fd = -1;
    if (work_dir(s, t.integ, dir, sizeof dir) == 0) {
        snprintf(data, sizeof data, "%s/.%s.json", dir, run_id);
        fd = open(data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    char *text = fd >= 0 ? flow_json_print(recs) : NULL;
    size_t tl = text ? strlen(text) : 0;
    if (fd < 0 || !text || write(fd, text, tl) != (ssize_t)tl) {
        srv_error(out, 500, "internal", NULL, "cannot write the records for the run: %s", strerror(errno));
        if (fd >= 0) { close(fd); unlink(data); }
        cJSON_free(text);
        runs_target_free(&t);
        cJSON_Delete(recs);
        return;
    }
    close(fd);
    cJSON_free(text);
    /* FLOW_RUN_ID, and the connections an open debug window records (conn_debug.c) */
    char dconns[2048], dpath[4600], dc_env[2100], df_env[4700];
    SrvStore *sto = srv_store(s);
    store_lock(sto);
    int debugging = srv_debug_begin(store_db(sto), t.integ, dir, run_id, dconns, sizeof dconns, dpath, sizeof dpath);
    store_unlock(sto);
    snprintf(dc_env, sizeof dc_env, "FLOW_DEBUG_CONNECTIONS=%s", dconns);
    snprintf(df_env, sizeof df_env, "FLOW_DEBUG_FILE=%s", dpath);
    const char *extra[] = { rid_env, dc_env, df_env, NULL };
    if (!debugging) extra[1] = NULL;   /* FLOW_RUN_ID alone */
    char **env = runs_env(s, t.integ, extra, out);
    char *res = NULL;
    size_t rl = 0;
    int status = 0, timed_out = 0;
    char errline[1100];
    if (env) {
        char *argv[] = { exe, "push", t.flow, t.step, "--data", data, "--json", "--state", state, NULL };
        res = runs_exec(s, t.integ, argv, env, SYNC_TIMEOUT_MS, &rl, errline, sizeof errline, &status, &timed_out, why, sizeof why);
        srv_secret_env_free(env);
        if (!res) srv_error(out, 500, "internal", NULL, "%s", why);
    }
    unlink(data);
    if (debugging) {
        store_lock(sto);
        srv_debug_end(store_db(sto), t.integ, run_id, dpath, stderr);
        store_unlock(sto);
    }
    int code = res && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (res && code != 0 && code != 3) {   /* the run's own words (its --json line's `failed`) over stderr's last line */
        cJSON *line = flow_json_parse(res, strcspn(res, "\n"), NULL);
        const char *f = line ? jstr(line, "failed") : NULL;
        if (f) snprintf(errline, sizeof errline, "%.1000s", f);
        cJSON_Delete(line);
        child_failed(out, "the import", status, timed_out, errline);
    }
    else if (res) {
        /* per record: ok, or the error the run kept for it (trace key RUNID:N) */
        cJSON *results = cJSON_CreateArray();
        for (int k = 0; k < n; k++) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "index", k);
            cJSON_AddStringToObject(r, "status", "ok");
            cJSON_AddItemToArray(results, r);
        }
        int nerr = 0;
        FlowErr fe;
        int none = 0;
        FlowState *fs = srv_state_open(runs_jobs(s), t.integ, 1, &none, &fe);
        FlowErrorQuery f = { .flow = t.flow, .step = t.step, .run_id = run_id, .open_only = 1 };
        cJSON *errs = fs ? flow_state_errors_where(fs, &f, &fe) : NULL;
        size_t kl = strlen(run_id);
        for (const cJSON *e = errs ? errs->child : NULL; e; e = e->next) {
            const char *key = jstr(e, "trace_key");
            if (!key || strncmp(key, run_id, kl) != 0 || key[kl] != ':') continue;
            int k = atoi(key + kl + 1) - 1;
            cJSON *r = cJSON_GetArrayItem(results, k);
            if (k < 0 || k >= n || !r) continue;
            cJSON_ReplaceItemInObjectCaseSensitive(r, "status", cJSON_CreateString("error"));
            cJSON_AddItemToObject(r, "error", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, "id"), 1));
            cJSON_AddStringToObject(r, "class", jstr(e, "class") ? jstr(e, "class") : "");
            cJSON_AddStringToObject(r, "message", jstr(e, "message") ? jstr(e, "message") : "");
            nerr++;
        }
        srv_state_done(runs_jobs(s), fs, errs != NULL);
        cJSON_Delete(errs);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "import", t.id);
        cJSON_AddNumberToObject(o, "revision", (double)t.rev);
        cJSON_AddStringToObject(o, "run_id", run_id);
        cJSON_AddNumberToObject(o, "records", n);
        cJSON_AddNumberToObject(o, "ok", n - nerr);
        cJSON_AddNumberToObject(o, "errors", nerr);
        cJSON_AddItemToObject(o, "results", results);
        srv_json(out, 200, o);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "run_id", run_id);
        cJSON_AddNumberToObject(d, "records", n);
        cJSON_AddNumberToObject(d, "errors", nerr);
        audit_append(srv_store(s), 0, rq->caller, rq->addr, "run", SRV_K_IMPORT, t.id, d);
    }
    free(res);
    runs_target_free(&t);
    cJSON_Delete(recs);
}
