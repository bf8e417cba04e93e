/* triggers.c — every integration's schedules and webhooks in `flowc server` (the triggers module). For each
 * integration the head revision's executable (build_cache.h) runs as a long-lived child, its `gate`
 * (runtime/gate.c): it evaluates the flows' schedules and webhook triggers with the integration's
 * params and secrets, and verifies and durably queues webhook requests exactly as `serve` does
 * (runtime/webhook.c) in the integration's state store. The server runs everything as jobs (jobs.c):
 *   - a schedule (cron, every) fires a job at each due time (flow_sched_next, serve's interpretation
 *     of the schedule, flow_sched_from_json); a fire missed while the server was down is not made up,
 *     except that a catch_up flow whose fire came meanwhile runs once when it is loaded;
 *   - a completed run of a flow starts the flows chained after() it;
 *   - a webhook request, POST /hooks/<integration>/<path>, goes to the gate; once it is queued (the
 *     answer is sent after the commit) a job runs the flow, whose run takes the queued requests as its
 *     records. Requests queued while it runs get one more job; a failed run keeps its requests, tried
 *     again after 1 s, 2 s, ... 60 s; a flow with requests queued when it is loaded runs at once;
 *   - a flow does not start while a job of it is queued or running (that fire is skipped and logged,
 *     as serve skips an overlapping fire), and a disabled flow (PATCH {"disabled": true}) never starts:
 *     its webhook answers 503 before anything is verified or queued.
 * After a restart: acknowledged webhook requests are processed at least once (they are on disk before
 * the answer; a run that dies leaves them queued); a schedule's fire at most once. A change of an
 * integration (triggers_changed) reloads it: the new revision is built and its gate started while the
 * old one goes on serving, then they are swapped. Changes made through other servers sharing the store
 * are found by the timer, which compares each integration's signature in the store (head revision,
 * creation, its secrets' count and last change) with the one loaded every HOOKS_POLL_MS: a new or
 * changed integration is loaded, a deleted one stopped, as on the server that took the change. GET /v1/integrations/{id}/hooks shows what is
 * served. */
#define _GNU_SOURCE 1
#include "triggers.h"
#include "runs.h"
#include "build_cache.h"
#include "child.h"
#include "serve.h"
#include "cron.h"
#include "db.h"
#include "files.h"
#include "builtins.h"
#include "diag.h"
#include "frontend.h"
#include "ir.h"
#include "source.h"
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOKS_BACKOFF_MAX_MS 60000   /* a webhook flow whose run failed runs again after 1 s, 2 s, ... this */
#define HOOKS_POLL_MS 1000           /* how often the store's integrations are compared with those loaded */

enum { H_LOADING, H_READY, H_FAILED };
static const char *const state_names[] = { "loading", "ready", "failed" };

typedef struct HFlow {
    char *name;
    FlowFlowSched sc;
    int64_t next_ms;          /* cron/every: the next due time; -1 */
    cJSON *webhook;           /* the trigger as describe shows it (secrets redacted), or NULL */
    char *secret_url;         /* a secret_url() trigger's path with its secret */
    int64_t retry_ms, backoff_ms;
} HFlow;

typedef struct HInteg {
    char *id;
    long rev;
    char *sig;                /* what the store said of it before it was loaded (integ_sigs); NULL */
    char *text; size_t len;   /* the revision's source: its jobs run it */
    int refs;                 /* (under Hooks.mu) requests using it; freed when 0 after it left the list */
    int gone;                 /* no longer in the list */
    int state;
    char *error;              /* H_FAILED: why */
    HFlow *f; int nf;
    pid_t gate;               /* serving webhooks; 0 */
    FILE *to, *from;
    pthread_mutex_t gmu;      /* one request at a time through the gate */
} HInteg;

typedef struct Hooks {
    Srv *s;
    char flowc[4096];
    pthread_mutex_t mu;
    pthread_cond_t lcv, tcv;  /* the loader's (dirty), the timer's (a change, a job ended, stop) */
    HInteg **v; int n;
    char **dirty; int ndirty;
    char *loading;            /* the integration the loader is loading now, or NULL */
    int64_t polled_ms;        /* the timer's last look at the store's integrations */
    int poll_failing;         /* that look failed (said once, until it works again) */
    long *ended; int nended, cended;
    int stopping;
    pthread_t loader, timer;
    int started;
} Hooks;

static Hooks *triggers_of(Srv *s) { return *srv_module(s, SRV_MOD_triggers); }

static void hlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hlog(const char *fmt, ...) {
    char iso[32], buf[1600];
    flow_format_iso8601(flow_wall_ms(), iso);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s server: %s\n", iso, buf);
    fflush(stderr);
}

/* ---- an integration's revision, loaded ---- */

static void integ_free(HInteg *I) {
    if (!I) return;
    if (I->to) fclose(I->to);   /* the gate reads the end of its input and ends */
    if (I->from) fclose(I->from);
    if (I->gate > 0) while (waitpid(I->gate, NULL, 0) < 0 && errno == EINTR) {}
    for (int i = 0; i < I->nf; i++) {
        free(I->f[i].name);
        flow_sched_free(I->f[i].sc.sched);
        cJSON_Delete(I->f[i].webhook);
        if (I->f[i].secret_url) { memset(I->f[i].secret_url, 0, strlen(I->f[i].secret_url)); free(I->f[i].secret_url); }
    }
    free(I->f);
    free(I->id);
    free(I->sig);
    free(I->text);
    free(I->error);
    pthread_mutex_destroy(&I->gmu);
    free(I);
}

/* under mu */
static HInteg *find(Hooks *H, const char *id, int *at) {
    for (int i = 0; i < H->n; i++)
        if (strcmp(H->v[i]->id, id) == 0) { if (at) *at = i; return H->v[i]; }
    return NULL;
}

/* under mu: out of the list; freed now or by its last user */
static void retire(Hooks *H, HInteg *I) {
    I->gone = 1;
    if (!I->refs) integ_free(I);
}

static HInteg *acquire(Hooks *H, const char *id) {
    pthread_mutex_lock(&H->mu);
    HInteg *I = find(H, id, NULL);
    if (I) I->refs++;
    pthread_mutex_unlock(&H->mu);
    return I;
}

static void release(Hooks *H, HInteg *I) {
    pthread_mutex_lock(&H->mu);
    if (--I->refs == 0 && I->gone) integ_free(I);
    pthread_mutex_unlock(&H->mu);
}

static int hflow_index(const HInteg *I, const char *name) {
    for (int i = 0; i < I->nf; i++) if (strcmp(I->f[i].name, name) == 0) return i;
    return -1;
}

/* ---- starting a flow's job ---- */

static int jobs_of(Srv *s, const char *integ, const char *flow, const char *status, long *id) {
    int code;
    char why[600];
    cJSON *l = srv_jobs_list(runs_jobs(s), integ, flow, status, 0, 0, 1, &code, why, sizeof why);
    int n = cJSON_GetArraySize(l);
    if (n && id) *id = atol(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l->child, "id")));
    cJSON_Delete(l);
    return n;
}

/* A schedule's fire at due is this server's to start: 1 when no other server on the store took it
 * (servers sharing a PostgreSQL store each keep the timers), 0 when one did, -1 on a store error
 * (then it is started: a fire is not lost to a busy store). */
static int fire_claim(Srv *s, const char *fid, int64_t due) {
    SrvStore *st = srv_store(s);
    store_lock(st);
    FlowDb *db = store_db(st);
    FlowDbStmt *q = flow_db_prepare(db, "INSERT INTO schedule_fires (flow, due_ms) VALUES (?1, ?2) ON CONFLICT (flow, due_ms) DO NOTHING");
    int rc = -1;
    if (q) {
        flow_db_bind_text(q, 1, fid);
        flow_db_bind_int64(q, 2, due);
        if (flow_db_step(q) == FLOW_DB_DONE) rc = flow_db_changes(q) == 1;
    }
    flow_db_finalize(q);
    if (rc == 1 && (q = flow_db_prepare(db, "DELETE FROM schedule_fires WHERE flow = ?1 AND due_ms < ?2"))) {   /* older claims are done with */
        flow_db_bind_text(q, 1, fid);
        flow_db_bind_int64(q, 2, due - 86400000);
        flow_db_run(q);
    }
    store_unlock(st);
    return rc;
}

/* Queues a job running flow fi of I for trigger (schedule, after, catch_up, webhook), unless the flow
 * is disabled, or a job of it is queued, or (but for webhook: requests queued while it runs need
 * one more run) running, or (a schedule's fire at due >= 0) another server took that fire. Under mu. */
static void fire(Hooks *H, HInteg *I, int fi, const char *trigger, int64_t due) {
    Srv *s = H->s;
    char fid[600];
    snprintf(fid, sizeof fid, "%s.%s", I->id, I->f[fi].name);
    if (due >= 0 && fire_claim(s, fid, due) == 0) return;
    if (srv_flow_disabled(s, fid)) {   /* (a schedule's fires are not logged: GET .../hooks says it is disabled) */
        if (strcmp(trigger, "schedule") != 0) hlog("flow %s: %s: not started: the flow is disabled", fid, trigger);
        return;
    }
    long other = 0;
    int webhook = strcmp(trigger, "webhook") == 0;
    /* (a webhook run takes the requests queued in the state store: on a SQLite store this server's
     * own, which only a job pinned to this server's place takes, jobs.h; on a PostgreSQL store the
     * shared one, which any server's job takes) */
    if (webhook ? srv_jobs_queued_here(runs_jobs(s), I->id, I->f[fi].name) > 0
                : (jobs_of(s, I->id, I->f[fi].name, "queued", &other) || jobs_of(s, I->id, I->f[fi].name, "running", &other))) {
        if (strcmp(trigger, "webhook") != 0) hlog("flow %s: %s: skipped: job %ld of the flow has not ended", fid, trigger, other);
        return;
    }
    SrvJobReq jr = { .integration = I->id, .flow = I->f[fi].name, .kind = "run", .source = I->text, .source_len = I->len, .trigger = trigger };
    int code = 500;
    char why[1200];
    cJSON *job = srv_job_create(runs_jobs(s), &jr, &code, why, sizeof why);
    if (!job) { hlog("flow %s: %s: the job could not be queued: %s", fid, trigger, why); return; }
    hlog("flow %s: job %s queued (%s, revision %ld)", fid, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "id")), trigger, I->rev);
    cJSON_Delete(job);
}

/* ---- the gate ---- */

/* writes a line and n bytes to the gate and reads its answer line and body: the answer (its body in
 * *body, malloc'd), or NULL when the gate is gone. With gmu held. */
static cJSON *gate_ask(HInteg *I, cJSON *line, const char *body, size_t n, char **rbody, size_t *rn) {
    *rbody = NULL;
    *rn = 0;
    char *t = flow_json_print(line);
    int ok = t && fputs(t, I->to) >= 0 && fputc('\n', I->to) != EOF && (!n || fwrite(body, 1, n, I->to) == n) && fflush(I->to) == 0;
    cJSON_free(t);
    if (!ok) return NULL;
    char *l = NULL;
    size_t cap = 0;
    ssize_t k = getline(&l, &cap, I->from);
    cJSON *a = k > 0 ? flow_json_parse(l, (size_t)k, NULL) : NULL;
    free(l);
    int64_t bn = 0;
    if (!cJSON_IsObject(a) || !flow_json_get_int(cJSON_GetObjectItemCaseSensitive(a, "body"), &bn) || bn < 0 || bn > (int64_t)SRV_MAX_BODY) {
        cJSON_Delete(a);
        return NULL;
    }
    char *b = malloc((size_t)bn + 1);
    if (!b) abort();
    if (bn && fread(b, 1, (size_t)bn, I->from) != (size_t)bn) { free(b); cJSON_Delete(a); return NULL; }
    b[bn] = 0;
    *rbody = b;
    *rn = (size_t)bn;
    return a;
}

/* Builds I's revision and starts its gate; reads what it says: 0 with I ready, or -1 with I->error. */
static int integ_load(Hooks *H, HInteg *I) {
    Srv *s = H->s;
    char hash[SRV_HASH_LEN + 1], why[1200], exe[4400], dir[4400], state[4400];
    int built = 0;
    if (srv_build_put(runs_dir(s), I->id, I->text, I->len, hash, why, sizeof why) ||
        srv_build_get(runs_dir(s), H->flowc, hash, exe, sizeof exe, &built, why, sizeof why)) {
        I->error = flow_xstrdup(why);
        return -1;
    }
    snprintf(state, sizeof state, "%s/state", runs_dir(s));
    snprintf(dir, sizeof dir, "%s/work", runs_dir(s));
    mkdir(state, 0700);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/work/%s", runs_dir(s), I->id);
    mkdir(dir, 0700);
    SrvResp r = { 0, NULL, 0, NULL, NULL, NULL, NULL };
    char **env = runs_env(s, I->id, NULL, &r);
    if (!env) {
        I->error = flow_xstrdup(r.body ? r.body : "the secrets cannot be read");
        free(r.body);
        return -1;
    }
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    pid_t pid = -1;
    if (pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0) {
        char *argv[] = { exe, "gate", "--state", state, NULL };
        pid = srv_spawn(exe, argv, env, dir, in[0], out[1], 2);
    }
    srv_secret_env_free(env);
    if (in[0] >= 0) close(in[0]);
    if (out[1] >= 0) close(out[1]);
    if (pid < 0) {
        snprintf(why, sizeof why, "cannot start the integration's gate: %s", strerror(errno));
        if (in[1] >= 0) close(in[1]);
        if (out[0] >= 0) close(out[0]);
        I->error = flow_xstrdup(why);
        return -1;
    }
    I->gate = pid;
    I->to = fdopen(in[1], "w");
    I->from = fdopen(out[0], "r");
    if (!I->to || !I->from) abort();
    char *l = NULL;
    size_t cap = 0;
    ssize_t k = getline(&l, &cap, I->from);
    cJSON *h = k > 0 ? flow_json_parse(l, (size_t)k, NULL) : NULL;
    free(l);
    const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "error"));
    cJSON *flows = cJSON_GetObjectItemCaseSensitive(h, "flows");
    if (!cJSON_IsArray(flows)) {
        snprintf(why, sizeof why, "%s", err ? err : "the integration's gate ended before it said what it serves (see the server's log)");
        cJSON_Delete(h);
        I->error = flow_xstrdup(why);
        return -1;
    }
    I->nf = cJSON_GetArraySize(flows);
    I->f = flow_xcalloc((size_t)I->nf + 1, sizeof *I->f);
    const char **names = flow_xcalloc((size_t)I->nf + 1, sizeof *names);
    int i = 0;
    for (const cJSON *f = flows->child; f; f = f->next, i++) {
        I->f[i].name = flow_xstrdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name")) ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name")) : "");
        names[i] = I->f[i].name;
        I->f[i].next_ms = -1;
    }
    int rc = 0;
    int64_t now = flow_wall_ms();
    i = 0;
    for (const cJSON *f = flows->child; f && !rc; f = f->next, i++) {
        FlowErr e;
        if (flow_sched_from_json(cJSON_GetObjectItemCaseSensitive(f, "sched"), names, I->nf, i, &I->f[i].sc, &e)) {
            I->error = flow_xstrdup(e.msg);
            rc = -1;
            break;
        }
        if (I->f[i].sc.kind == FLOW_SCHED_TIMED) I->f[i].next_ms = flow_sched_next(I->f[i].sc.sched, now);
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(f, "webhook");
        if (cJSON_IsObject(w)) I->f[i].webhook = cJSON_Duplicate(w, 1);
        const char *su = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "secret_url"));
        if (su) I->f[i].secret_url = flow_xstrdup(su);
    }
    free(names);
    if (!rc && !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(h, "webhooks"))) rc = -1;
    if (!rc && cJSON_GetObjectItemCaseSensitive(h, "webhooks")->valuedouble < 1) {   /* it has ended: nothing to serve */
        fclose(I->to);
        fclose(I->from);
        I->to = I->from = NULL;
        while (waitpid(I->gate, NULL, 0) < 0 && errno == EINTR) {}
        I->gate = 0;
    }
    if (!rc) {   /* what is due now: catch_up, requests queued before */
        i = 0;
        pthread_mutex_lock(&H->mu);
        for (const cJSON *f = flows->child; f; f = f->next, i++) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "catch_up_due"))) fire(H, I, i, "catch_up", -1);
            if (I->f[i].webhook && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "pending")) > 0) fire(H, I, i, "webhook", -1);
        }
        pthread_mutex_unlock(&H->mu);
    }
    cJSON_Delete(h);
    return rc;
}

/* Whether a text has anything to serve: a flow with a trigger, or with a schedule that is not
 * manual() (one from a param is looked at when it runs). Without, no build and no gate. */
static int serves_anything(Srv *s, const char *integ, const char *text, size_t len) {
    char name[4400];
    srv_files_name(s, integ, "integration.flow", name, sizeof name);
    Source *src = src_from_buffer(name, text, len);
    Diags d;
    diag_init(&d);
    FeResult fe;
    fe_run(&fe, src, &d, FE_CHECK);
    int any = !fe.ir || d.errors;   /* (stored texts check; if not, the gate says why) */
    for (int i = 0; fe.ir && !any && i < fe.ir->nflows; i++)
        for (int k = 0; k < fe.ir->flows[i]->nsettings && !any; k++) {
            const IrSetting *st = &fe.ir->flows[i]->settings[k];
            const IrExpr *v = st->value;
            if (strcmp(st->name, "trigger") == 0) any = 1;
            else if (strcmp(st->name, "schedule") == 0)
                any = !(v && v->kind == IR_CALL && v->fn && strcmp(v->fn->name, "manual") == 0);
        }
    diag_free(&d);
    fe_result_free(&fe);
    src_free(src);
    return any;
}

/* Every integration's signature in the store (only's, when only is set): what changes when a server
 * commits a revision, deletes and makes it again, or sets or deletes one of its secrets. n ids and
 * sigs (malloc'd, in *ids and *sigs), or -1 with why. */
static int integ_sigs(Srv *s, const char *only, char ***ids, char ***sigs, char *why, size_t wcap) {
    SrvStore *st = srv_store(s);
    int n = 0, cap = 0;
    *ids = *sigs = NULL;
    store_lock(st);
    FlowDbStmt *q = flow_db_prepare(store_db(st), only ?
        "SELECT i.id, i.head, i.created, (SELECT count(*) FROM secrets s WHERE s.integration = i.id),"
        " (SELECT coalesce(max(s.updated_ms), 0) FROM secrets s WHERE s.integration = i.id) FROM integrations i WHERE i.id = ?" :
        "SELECT i.id, i.head, i.created, (SELECT count(*) FROM secrets s WHERE s.integration = i.id),"
        " (SELECT coalesce(max(s.updated_ms), 0) FROM secrets s WHERE s.integration = i.id) FROM integrations i");
    if (q && only) flow_db_bind_text(q, 1, only);
    int r = q ? flow_db_step(q) : -1;
    for (; r == FLOW_DB_ROW; r = flow_db_step(q)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            *ids = flow_xrealloc(*ids, sizeof **ids * (size_t)cap);
            *sigs = flow_xrealloc(*sigs, sizeof **sigs * (size_t)cap);
        }
        char sig[128];
        snprintf(sig, sizeof sig, "%lld:%lld:%lld:%lld", (long long)flow_db_column_int64(q, 1), (long long)flow_db_column_int64(q, 2),
                 (long long)flow_db_column_int64(q, 3), (long long)flow_db_column_int64(q, 4));
        (*ids)[n] = flow_xstrdup(flow_db_column_text(q, 0));
        (*sigs)[n++] = flow_xstrdup(sig);
    }
    if (r < 0) snprintf(why, wcap, "%s", flow_db_error(store_db(st)));
    flow_db_finalize(q);
    store_unlock(st);
    if (r < 0) {
        for (int i = 0; i < n; i++) { free((*ids)[i]); free((*sigs)[i]); }
        free(*ids);
        free(*sigs);
        *ids = *sigs = NULL;
        return -1;
    }
    return n;
}

static void sigs_free(char **ids, char **sigs, int n) {
    for (int i = 0; i < n; i++) { free(ids[i]); free(sigs[i]); }
    free(ids);
    free(sigs);
}

/* (Re)loads integration id from its head revision (the loader's thread). */
static void load(Hooks *H, const char *id) {
    size_t len = 0;
    long rev = 0;
    char **ids, **sigs, why[600];   /* (read before the text: a change between them is seen again by the next poll) */
    int ns = integ_sigs(H->s, id, &ids, &sigs, why, sizeof why);
    char *sig = ns > 0 ? flow_xstrdup(sigs[0]) : NULL;
    if (ns > 0) sigs_free(ids, sigs, ns);
    char *text = srv_integration_text(H->s, id, &len, &rev);
    if (!text && srv_files_sync(H->s, id, why, sizeof why)) hlog("integration %s: %s", id, why);   /* deleted through another server: its files go */
    pthread_mutex_lock(&H->mu);
    int at = -1;
    HInteg *old = find(H, id, &at);
    if (!text) {   /* deleted: its schedules and webhooks stop now */
        if (old) {
            H->v[at] = H->v[--H->n];
            hlog("integration %s: deleted: its schedules and webhooks stopped", id);
            retire(H, old);
        }
        pthread_mutex_unlock(&H->mu);
        free(sig);
        return;
    }
    pthread_mutex_unlock(&H->mu);
    HInteg *I = flow_xcalloc(1, sizeof *I);
    I->id = flow_xstrdup(id);
    I->sig = sig;
    I->rev = rev;
    I->text = text;
    I->len = len;
    I->state = H_LOADING;
    pthread_mutex_init(&I->gmu, NULL);
    int rc = serves_anything(H->s, id, text, len) ? integ_load(H, I) : 0;
    I->state = rc ? H_FAILED : H_READY;
    pthread_mutex_lock(&H->mu);
    old = find(H, id, &at);
    if (old) H->v[at] = I;
    else {
        H->v = flow_xrealloc(H->v, sizeof *H->v * (size_t)(H->n + 1));
        H->v[H->n++] = I;
    }
    if (old) retire(H, old);
    int webhooks = 0, timed = 0;
    for (int i = 0; i < I->nf; i++) { webhooks += I->f[i].webhook != NULL; timed += I->f[i].sc.kind == FLOW_SCHED_TIMED; }
    if (rc) hlog("integration %s: revision %ld: its schedules and webhooks are not served: %s", id, rev, I->error);
    else hlog("integration %s: revision %ld: %d schedule%s, %d webhook%s", id, rev, timed, timed == 1 ? "" : "s", webhooks, webhooks == 1 ? "" : "s");
    pthread_cond_broadcast(&H->tcv);
    pthread_mutex_unlock(&H->mu);
}

static void *loader_main(void *arg) {
    Hooks *H = arg;
    pthread_mutex_lock(&H->mu);
    for (;;) {
        while (!H->ndirty && !H->stopping) pthread_cond_wait(&H->lcv, &H->mu);
        if (H->stopping) break;
        char *id = H->dirty[0];
        memmove(H->dirty, H->dirty + 1, sizeof *H->dirty * (size_t)--H->ndirty);
        H->loading = id;
        pthread_mutex_unlock(&H->mu);
        load(H, id);
        pthread_mutex_lock(&H->mu);
        H->loading = NULL;
        free(id);
    }
    pthread_mutex_unlock(&H->mu);
    return NULL;
}

/* under mu */
static void mark_dirty(Hooks *H, const char *id) {
    for (int i = 0; i < H->ndirty; i++) if (strcmp(H->dirty[i], id) == 0) return;
    H->dirty = flow_xrealloc(H->dirty, sizeof *H->dirty * (size_t)(H->ndirty + 1));
    H->dirty[H->ndirty++] = flow_xstrdup(id);
    pthread_cond_broadcast(&H->lcv);
}

void triggers_changed(Srv *s, const char *id) {
    Hooks *H = triggers_of(s);
    if (!H) return;
    char **ids, **sigs, why[600];   /* (whether it is still there: its signature, not its whole text) */
    int there = integ_sigs(s, id, &ids, &sigs, why, sizeof why);
    if (there > 0) sigs_free(ids, sigs, there);
    pthread_mutex_lock(&H->mu);
    int at;
    HInteg *I = there == 0 ? find(H, id, &at) : NULL;
    if (I) {   /* deleted: no request reaches it from now on (those under way end) */
        H->v[at] = H->v[--H->n];
        hlog("integration %s: deleted: its schedules and webhooks stopped", id);
        retire(H, I);
    } else if (there != 0) mark_dirty(H, id);   /* (a store error: the loader reads it again) */
    pthread_mutex_unlock(&H->mu);
}

/* ---- the timer: schedules, chains, retries, changes through other servers ---- */

/* under mu, which it leaves while it reads the store: each integration whose signature in the store
 * differs from the one loaded (or that is loaded and no longer in the store) goes to the loader,
 * unless it is there already */
static void poll_store(Hooks *H) {
    pthread_mutex_unlock(&H->mu);
    char **ids, **sigs, why[600];
    int n = integ_sigs(H->s, NULL, &ids, &sigs, why, sizeof why);
    pthread_mutex_lock(&H->mu);
    if (n < 0 && !H->poll_failing)
        hlog("the store's integrations cannot be read (changes through other servers are not seen until they can): %s", why);
    else if (n >= 0 && H->poll_failing) hlog("the store's integrations can be read again");
    H->poll_failing = n < 0;
    if (n < 0) return;
    for (int i = 0; i < n; i++) {
        HInteg *I = find(H, ids[i], NULL);
        if ((!I || !I->sig || strcmp(I->sig, sigs[i]) != 0) && !(H->loading && strcmp(H->loading, ids[i]) == 0)) mark_dirty(H, ids[i]);
    }
    for (int k = 0; k < H->n; k++) {
        int in = 0;
        for (int i = 0; i < n && !in; i++) in = strcmp(ids[i], H->v[k]->id) == 0;
        if (!in && !(H->loading && strcmp(H->loading, H->v[k]->id) == 0)) mark_dirty(H, H->v[k]->id);
    }
    sigs_free(ids, sigs, n);
}

static void on_job_end(void *arg, long id) {
    Hooks *H = arg;
    pthread_mutex_lock(&H->mu);
    if (H->nended == H->cended) {
        H->cended = H->cended ? H->cended * 2 : 16;
        H->ended = flow_xrealloc(H->ended, sizeof *H->ended * (size_t)H->cended);
    }
    H->ended[H->nended++] = id;
    pthread_cond_broadcast(&H->tcv);
    pthread_mutex_unlock(&H->mu);
}

/* under mu: what follows a job's end */
static void job_ended(Hooks *H, long id) {
    int code;
    char why[600];
    cJSON *job = srv_job_get(runs_jobs(H->s), id, &code, why, sizeof why);
    const char *integ = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "integration"));
    const char *flow = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "flow"));
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "status"));
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "kind"));
    HInteg *I = integ ? find(H, integ, NULL) : NULL;
    int fi = I && flow ? hflow_index(I, flow) : -1;
    if (fi >= 0 && I->state == H_READY && status && kind && strcmp(kind, "run") == 0) {
        int ok = strcmp(status, "completed") == 0;
        if (ok)   /* the flows chained after it */
            for (int g = 0; g < I->nf; g++)
                if (I->f[g].sc.kind == FLOW_SCHED_AFTER && I->f[g].sc.after == fi) fire(H, I, g, "after", -1);
        HFlow *f = &I->f[fi];
        if (f->webhook && ok) f->backoff_ms = 0;
        else if (f->webhook && strcmp(status, "failed") == 0) {   /* its requests stay queued: again after a pause that grows */
            f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : 1000;
            if (f->backoff_ms > HOOKS_BACKOFF_MAX_MS) f->backoff_ms = HOOKS_BACKOFF_MAX_MS;
            f->retry_ms = flow_wall_ms() + f->backoff_ms;
        }
    }
    cJSON_Delete(job);
}

static void *timer_main(void *arg) {
    Hooks *H = arg;
    pthread_mutex_lock(&H->mu);
    while (!H->stopping) {
        while (H->nended) {
            long id = H->ended[0];
            memmove(H->ended, H->ended + 1, sizeof *H->ended * (size_t)--H->nended);
            job_ended(H, id);
        }
        int64_t now = flow_wall_ms(), next = now + 60000;
        if (now - H->polled_ms >= HOOKS_POLL_MS) {
            poll_store(H);
            if (H->stopping) break;
            H->polled_ms = now = flow_wall_ms();
        }
        if (H->polled_ms + HOOKS_POLL_MS < next) next = H->polled_ms + HOOKS_POLL_MS;
        for (int k = 0; k < H->n; k++) {
            HInteg *I = H->v[k];
            if (I->state != H_READY) continue;
            for (int fi = 0; fi < I->nf; fi++) {
                HFlow *f = &I->f[fi];
                if (f->retry_ms > 0 && f->retry_ms <= now) { f->retry_ms = 0; fire(H, I, fi, "webhook", -1); }
                if (f->sc.kind == FLOW_SCHED_TIMED && f->next_ms >= 0 && f->next_ms <= now) {
                    int64_t due = f->next_ms;
                    fire(H, I, fi, "schedule", due);
                    /* missed fires are not made up: the next one is after now */
                    int64_t t = flow_wall_ms();
                    f->next_ms = flow_sched_next(f->sc.sched, t > due ? t : due);
                }
                if (f->retry_ms > 0 && f->retry_ms < next) next = f->retry_ms;
                if (f->sc.kind == FLOW_SCHED_TIMED && f->next_ms >= 0 && f->next_ms < next) next = f->next_ms;
            }
        }
        if (H->nended || H->stopping) continue;
        struct timespec ts = { (time_t)(next / 1000), (long)(next % 1000) * 1000000L };
        pthread_cond_timedwait(&H->tcv, &H->mu, &ts);
    }
    pthread_mutex_unlock(&H->mu);
    return NULL;
}

/* ---- the module ---- */

int triggers_start(Srv *s, char *why, size_t cap) {
    Hooks *H = flow_xcalloc(1, sizeof *H);
    H->s = s;
    ssize_t n = readlink("/proc/self/exe", H->flowc, sizeof H->flowc - 1);
    if (n <= 0) { snprintf(why, cap, "cannot find flowc itself: %s", strerror(errno)); free(H); return -1; }
    H->flowc[n] = 0;
    pthread_mutex_init(&H->mu, NULL);
    pthread_cond_init(&H->lcv, NULL);
    pthread_cond_init(&H->tcv, NULL);
    *srv_module(s, SRV_MOD_triggers) = H;
    /* every integration, loaded by the loader */
    SrvStore *st = srv_store(s);
    store_lock(st);
    if (flow_db_schema(store_db(st), "CREATE TABLE IF NOT EXISTS schedule_fires (flow TEXT NOT NULL, due_ms BIGINT NOT NULL, PRIMARY KEY (flow, due_ms))",
                  "schedule_fires", why, cap)) {
        store_unlock(st);
        triggers_stop(s);
        return -1;
    }
    FlowDbStmt *q = flow_db_prepare(store_db(st), "SELECT id FROM integrations ORDER BY id");
    pthread_mutex_lock(&H->mu);
    while (q && flow_db_step(q) == FLOW_DB_ROW) mark_dirty(H, flow_db_column_text(q, 0));
    pthread_mutex_unlock(&H->mu);
    flow_db_finalize(q);
    store_unlock(st);
    if (pthread_create(&H->loader, NULL, loader_main, H) != 0) {
        snprintf(why, cap, "cannot start the hooks' loader: %s", strerror(errno));
        triggers_stop(s);
        return -1;
    }
    if (pthread_create(&H->timer, NULL, timer_main, H) != 0) {
        snprintf(why, cap, "cannot start the scheduler: %s", strerror(errno));
        pthread_mutex_lock(&H->mu);
        H->stopping = 1;
        pthread_cond_broadcast(&H->lcv);
        pthread_mutex_unlock(&H->mu);
        pthread_join(H->loader, NULL);
        triggers_stop(s);
        return -1;
    }
    H->started = 1;
    srv_jobs_on_end(runs_jobs(s), on_job_end, H);
    return 0;
}

void triggers_stop(Srv *s) {
    Hooks *H = triggers_of(s);
    if (!H) return;
    if (H->started) {
        srv_jobs_on_end(runs_jobs(s), NULL, NULL);
        pthread_mutex_lock(&H->mu);
        H->stopping = 1;
        pthread_cond_broadcast(&H->lcv);
        pthread_cond_broadcast(&H->tcv);
        pthread_mutex_unlock(&H->mu);
        pthread_join(H->loader, NULL);
        pthread_join(H->timer, NULL);
    }
    for (int i = 0; i < H->n; i++) integ_free(H->v[i]);   /* (the listener has stopped: no request holds one) */
    for (int i = 0; i < H->ndirty; i++) free(H->dirty[i]);
    free(H->v);
    free(H->dirty);
    free(H->ended);
    pthread_mutex_destroy(&H->mu);
    pthread_cond_destroy(&H->lcv);
    pthread_cond_destroy(&H->tcv);
    free(H);
    *srv_module(s, SRV_MOD_triggers) = NULL;
}

/* ---- POST /hooks/{integration}/{path...}: a webhook request ---- */

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    cJSON *h = cls;
    if (key && value) {
        cJSON_DeleteItemFromObjectCaseSensitive(h, key);
        cJSON_AddStringToObject(h, key, value);
    }
    return MHD_YES;
}

void triggers_deliver(Srv *s, const SrvReq *rq, SrvResp *out) {
    Hooks *H = triggers_of(s);
    const char *integ = rq->params[0], *path = rq->params[1];
    HInteg *I = acquire(H, integ);
    if (!I) {
        srv_error(out, 404, "not_found", NULL, "no integration `%s` serves webhooks here", integ);
        return;
    }
    if (I->state != H_READY) {
        srv_error(out, 503, "unavailable", NULL, "integration `%s` does not serve webhooks now: %s", integ,
                  I->state == H_FAILED ? "its revision could not be loaded" : "it is loading");
        release(H, I);
        return;
    }
    if (!I->gate) {
        srv_error(out, 404, "not_found", NULL, "integration `%s` has no webhook", integ);
        release(H, I);
        return;
    }
    cJSON *line = cJSON_CreateObject(), *dis = cJSON_CreateArray();
    cJSON_AddStringToObject(line, "method", rq->method);
    cJSON_AddStringToObject(line, "path", path);
    if (rq->query) cJSON_AddStringToObject(line, "query", rq->query);
    cJSON_AddStringToObject(line, "addr", rq->addr ? rq->addr : "");
    cJSON *hd = cJSON_AddObjectToObject(line, "headers");
    MHD_get_connection_values((struct MHD_Connection *)rq->conn, MHD_HEADER_KIND, add_header, hd);
    cJSON_AddNumberToObject(line, "body", (double)rq->nbody);
    for (int i = 0; i < I->nf; i++) {
        char fid[600];
        snprintf(fid, sizeof fid, "%s.%s", I->id, I->f[i].name);
        if (I->f[i].webhook && srv_flow_disabled(s, fid)) cJSON_AddItemToArray(dis, cJSON_CreateString(I->f[i].name));
    }
    cJSON_AddItemToObject(line, "disabled", dis);
    char *body = NULL;
    size_t bn = 0;
    pthread_mutex_lock(&I->gmu);
    cJSON *a = I->to ? gate_ask(I, line, rq->body, rq->nbody, &body, &bn) : NULL;
    pthread_mutex_unlock(&I->gmu);
    cJSON_Delete(line);
    if (!a) {   /* the gate died: the request is not queued; the integration is loaded again */
        srv_error(out, 502, "gate_failed", NULL, "integration `%s`'s webhook gate ended; the request was not queued: send it again", integ);
        hlog("integration %s: its webhook gate ended unexpectedly: starting it again", integ);
        pthread_mutex_lock(&H->mu);
        mark_dirty(H, integ);
        pthread_mutex_unlock(&H->mu);
        free(body);
        release(H, I);
        return;
    }
    int status = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "status"));
    const char *ct = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "content_type"));
    const char *queued = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "flow"));
    if (status == 404 && !bn) {
        srv_error(out, 404, "not_found", NULL, "integration `%s` has no webhook at %s", integ, path);
        free(body);
    } else if (status == 405 && !bn) {
        srv_error(out, 405, "method_not_allowed", NULL, "a webhook takes POST");
        free(body);
    } else {
        srv_text(out, status, !ct ? NULL : strncmp(ct, "application/json", 16) == 0 ? "application/json" : "text/plain; charset=utf-8", bn ? body : NULL, bn);
        if (!bn) free(body);
    }
    int fi = queued ? hflow_index(I, queued) : -1;
    if (fi >= 0) {
        pthread_mutex_lock(&H->mu);
        fire(H, I, fi, "webhook", -1);
        pthread_mutex_unlock(&H->mu);
    }
    cJSON_Delete(a);
    release(H, I);
}

/* ---- GET /v1/integrations/{id}/hooks ---- */

void triggers_get(Srv *s, const SrvReq *rq, SrvResp *out) {
    Hooks *H = triggers_of(s);
    const char *id = rq->params[0];
    size_t len;
    long head = 0;
    char *text = srv_integration_text(s, id, &len, &head);
    if (!text) { srv_error(out, 404, "not_found", NULL, "no integration `%s`", id); return; }
    free(text);
    char show[16] = "";
    int sq = srv_query(rq, "show_secrets", show, sizeof show);
    int reveal = sq > 0 && strcmp(show, "true") == 0;
    if (sq < 0 || (sq > 0 && !reveal && strcmp(show, "false") != 0)) {
        srv_error(out, 400, "invalid_parameter", "show_secrets", "show_secrets takes true or false");
        return;
    }
    if (reveal && !rq->caller->full) {
        srv_error(out, 403, "forbidden", "show_secrets", "show_secrets=true needs a full-access token; token %s is scoped", rq->caller->id);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "head", (double)head);
    pthread_mutex_lock(&H->mu);
    HInteg *I = find(H, id, NULL);
    int dirty = 0;
    for (int i = 0; i < H->ndirty; i++) dirty |= strcmp(H->dirty[i], id) == 0;
    if (!I) {
        cJSON_AddNullToObject(o, "revision");
        cJSON_AddStringToObject(o, "status", "loading");
        cJSON_AddArrayToObject(o, "flows");
    } else {
        cJSON_AddNumberToObject(o, "revision", (double)I->rev);
        cJSON_AddStringToObject(o, "status", I->rev != head || dirty ? "loading" : state_names[I->state]);
        if (I->error) cJSON_AddStringToObject(o, "error", I->error);
        cJSON *fl = cJSON_AddArrayToObject(o, "flows");
        for (int i = 0; i < I->nf; i++) {
            const HFlow *f = &I->f[i];
            cJSON *x = cJSON_CreateObject();
            char fid[600], iso[32];
            snprintf(fid, sizeof fid, "%s.%s", id, f->name);
            cJSON_AddStringToObject(x, "id", fid);
            cJSON_AddStringToObject(x, "schedule", f->sc.desc);
            if (f->sc.kind == FLOW_SCHED_TIMED && f->next_ms >= 0) {
                flow_format_iso8601(f->next_ms, iso);
                cJSON_AddStringToObject(x, "next_run", iso);
            } else cJSON_AddNullToObject(x, "next_run");
            cJSON_AddBoolToObject(x, "disabled", srv_flow_disabled(s, fid));
            if (f->webhook) {
                cJSON *w = cJSON_Duplicate(f->webhook, 1);
                const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w, "url"));
                FlowSb b = { NULL, 0, 0 };
                flow_sb_puts(&b, "/hooks/");
                flow_sb_puts(&b, id);
                flow_sb_puts(&b, reveal && f->secret_url ? f->secret_url : u ? u : "");
                char *url = flow_sb_take(&b);
                cJSON_ReplaceItemInObjectCaseSensitive(w, "url", cJSON_CreateString(url));
                free(url);
                cJSON_AddItemToObject(x, "webhook", w);
            } else cJSON_AddNullToObject(x, "webhook");
            cJSON_AddItemToArray(fl, x);
        }
    }
    pthread_mutex_unlock(&H->mu);
    srv_json(out, 200, o);
}
