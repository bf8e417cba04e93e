/* serve.c — the scheduler of `OUT serve` and `flowc serve`: each flow's schedule from its
 * `schedule` setting (cron, every, after, manual), catch_up at start, webhook work the listener
 * queued, and runs asked for on POST /flows/F/run. The main thread sleeps until the next due time
 * (an absolute CLOCK_REALTIME timerfd: no polling) or until a signal, a child's end or the listener
 * wakes it (signalfd, eventfd). A flow runs once at a time: serve takes its run lock (the one `run`
 * takes) and forks a child that runs the flow under it; a start while it runs, here or in another
 * process, is recorded as skipped. The child keeps the lock even if serve dies (kill -9), and gets
 * SIGTERM then (PR_SET_PDEATHSIG), so it stops at its next safe point and records itself
 * interrupted. A child that dies without recording its end (a crash in a hook) is recorded crashed
 * by serve, which goes on. SIGTERM/SIGINT: no new runs, the listener stops accepting, the signal is
 * passed to the runs (they stop at their next safe point), serve ends when they have; after 25 s,
 * or at a second signal, they are killed. */
#define _GNU_SOURCE   /* close_range, signalfd, strsignal */
#include "serve.h"
#include "cron.h"
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_MS 25000          /* runs still going this long after SIGTERM are killed */
#define WEBHOOK_BACKOFF_MAX_MS 60000 /* a webhook flow whose run failed tries again after 1 s, 2 s, ... this */

/* ---- schedules from the program table ---- */

/* a flow setting evaluated (it uses constants and params only): a fresh tree, NULL when absent;
 * *failed with the message when the evaluation failed */
static cJSON *flow_setting_json(FlowCtx *cx, const FlowFlowDef *f, const char *name, char *why, size_t cap, int *failed) {
    *failed = 0;
    for (int i = 0; i < f->nsettings; i++) {
        const FlowSettingDef *d = &f->settings[i];
        if (!d->name || strcmp(d->name, name) != 0 || !d->konst) continue;
        FlowVal v = d->konst(cx);
        cJSON *j = NULL;
        if (flow_failed(cx)) {
            snprintf(why, cap, "%s", flow_error_message(cx));
            *failed = 1;
        } else j = flow_val_to_json(v);
        flow_scratch_reset(cx);
        flow_clear_error(cx);
        return j;
    }
    return NULL;
}

static const char *ctor_of(const cJSON *j) {
    return cJSON_IsString(j) ? j->valuestring : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ctor"));
}

static int flow_named(const FlowProgram *p, const char *name) {
    for (int i = 0; name && i < p->nflows; i++) if (strcmp(p->flows[i].name, name) == 0) return i;
    return -1;
}

/* 15m, 2h, 1d, 1w, 90s: an interval as the language writes it */
static void interval_text(int64_t ms, char *out, size_t cap) {
    static const struct { int64_t ms; const char *unit; } units[] = {
        { 604800000, "w" }, { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" } };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms > 0 && ms % units[i].ms == 0) { snprintf(out, cap, "%lld%s", (long long)(ms / units[i].ms), units[i].unit); return; }
    snprintf(out, cap, "%lldms", (long long)ms);
}

int flow_after_of(const FlowProgram *p, FlowCtx *cx, int fi) {
    char why[256];
    int failed;
    cJSON *j = flow_setting_json(cx, &p->flows[fi], "schedule", why, sizeof why, &failed);
    const char *c = ctor_of(j);
    int r = c && strcmp(c, "after") == 0 ? flow_named(p, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "flow"))) : -1;
    cJSON_Delete(j);
    return r == fi ? -1 : r;
}

cJSON *flow_flow_sched_json(const FlowProgram *p, FlowCtx *cx, int fi, FlowErr *err) {
    const FlowFlowDef *f = &p->flows[fi];
    char why[600];
    int failed;
    cJSON *cu = flow_setting_json(cx, f, "catch_up", why, sizeof why, &failed);
    if (failed) { flow_err_set(err, FLOW_ERR_VALUE, "flow %s: catch_up: %s", f->name, why); return NULL; }
    cJSON *j = flow_setting_json(cx, f, "schedule", why, sizeof why, &failed);
    if (failed) { cJSON_Delete(cu); flow_err_set(err, FLOW_ERR_VALUE, "flow %s: schedule: %s", f->name, why); return NULL; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "schedule", j ? j : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "catch_up", cu ? cu : cJSON_CreateNull());
    return o;
}

static int name_index(const char *const *names, int n, const char *name) {
    for (int i = 0; name && i < n; i++) if (strcmp(names[i], name) == 0) return i;
    return -1;
}

int flow_sched_from_json(const cJSON *sj, const char *const *names, int nflows, int fi, FlowFlowSched *out, FlowErr *err) {
    memset(out, 0, sizeof *out);
    out->after = -1;
    const char *fname = names[fi];
    out->catch_up = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sj, "catch_up"));
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(sj, "schedule");
    if (cJSON_IsNull(j)) j = NULL;
    const char *c = ctor_of(j);
    int rc = 0;
    if (!j || !c) {
        snprintf(out->desc, sizeof out->desc, "no schedule");
    } else if (strcmp(c, "manual") == 0) {
        out->kind = FLOW_SCHED_MANUAL;
        snprintf(out->desc, sizeof out->desc, "manual()");
    } else if (strcmp(c, "after") == 0) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "flow"));
        out->kind = FLOW_SCHED_AFTER;
        out->after = name_index(names, nflows, name);
        snprintf(out->desc, sizeof out->desc, "after(%s)", name ? name : "?");
        if (out->after < 0 || out->after == fi) {
            flow_err_set(err, FLOW_ERR_VALUE, "flow %s: schedule after(%s): no such other flow", fname, name ? name : "?");
            rc = -1;
        }
    } else if (strcmp(c, "cron") == 0 || strcmp(c, "every") == 0) {
        const char *tz = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "timezone"));
        char e[512] = "";
        out->kind = FLOW_SCHED_TIMED;
        if (c[0] == 'c') {
            const char *expr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "expr"));
            snprintf(out->desc, sizeof out->desc, "cron(\"%.120s\"%s%.80s%s)", expr ? expr : "", tz ? ", \"" : "", tz ? tz : "", tz ? "\"" : "");
            out->sched = expr ? flow_sched_cron(expr, tz, e, sizeof e) : NULL;
            if (!expr) snprintf(e, sizeof e, "no expression");
        } else {
            const cJSON *iv = cJSON_GetObjectItemCaseSensitive(j, "interval");
            const cJSON *bw = cJSON_GetObjectItemCaseSensitive(j, "between");
            const cJSON *days = cJSON_GetObjectItemCaseSensitive(j, "on_days");
            int64_t ms = 0;
            if (!cJSON_IsNumber(iv) || !flow_json_get_int(iv, &ms)) snprintf(e, sizeof e, "the interval is not a duration");
            const char *from = NULL, *to = NULL;
            if (cJSON_IsArray(bw)) {
                from = cJSON_GetStringValue(cJSON_GetArrayItem(bw, 0));
                to = cJSON_GetStringValue(cJSON_GetArrayItem(bw, 1));
                if (!from || !to || cJSON_GetArraySize(bw) != 2) snprintf(e, sizeof e, "between takes two clock times, as in [\"08:00\", \"18:00\"]");
            }
            unsigned mask = 0;
            char dl[64] = "";
            for (const cJSON *d = cJSON_IsArray(days) ? days->child : NULL; d; d = d->next) {
                int w = cJSON_IsString(d) ? flow_sched_weekday(d->valuestring) : -1;
                if (w < 0) { snprintf(e, sizeof e, "on_days takes weekdays (mon tue wed thu fri sat sun)"); break; }
                mask |= 1u << w;
                snprintf(dl + strlen(dl), sizeof dl - strlen(dl), "%s%s", dl[0] ? ", " : "", d->valuestring);
            }
            char it[32];
            interval_text(ms, it, sizeof it);
            int n = snprintf(out->desc, sizeof out->desc, "every(%s", it);
            if (from && to && n > 0 && (size_t)n < sizeof out->desc)
                n += snprintf(out->desc + n, sizeof out->desc - (size_t)n, ", between = [\"%.10s\", \"%.10s\"]", from, to);
            if (dl[0] && n > 0 && (size_t)n < sizeof out->desc) n += snprintf(out->desc + n, sizeof out->desc - (size_t)n, ", on_days = [%s]", dl);
            if (tz && n > 0 && (size_t)n < sizeof out->desc) n += snprintf(out->desc + n, sizeof out->desc - (size_t)n, ", timezone = \"%.80s\"", tz);
            if (n > 0 && (size_t)n < sizeof out->desc) snprintf(out->desc + n, sizeof out->desc - (size_t)n, ")");
            if (!e[0]) out->sched = flow_sched_every(ms, from, to, mask, tz, e, sizeof e);
        }
        if (!out->sched) {
            flow_err_set(err, FLOW_ERR_VALUE, "flow %s: schedule %s: %s", fname, out->desc, e[0] ? e : "not a schedule");
            rc = -1;
        }
    } else {
        flow_err_set(err, FLOW_ERR_VALUE, "flow %s: schedule: `%s` is not a schedule", fname, c);
        rc = -1;
    }
    if (!rc && out->catch_up && out->kind != FLOW_SCHED_TIMED) {
        flow_err_set(err, FLOW_ERR_VALUE, "flow %s: catch_up = true needs a cron() or every() schedule, not %s", fname, out->desc);
        rc = -1;
    }
    if (rc) { flow_sched_free(out->sched); out->sched = NULL; }
    return rc;
}

int flow_flow_sched(const FlowProgram *p, FlowCtx *cx, int fi, FlowFlowSched *out, FlowErr *err) {
    memset(out, 0, sizeof *out);
    out->after = -1;
    cJSON *sj = flow_flow_sched_json(p, cx, fi, err);
    if (!sj) return -1;
    const char **names = flow_xcalloc((size_t)p->nflows + 1, sizeof *names);
    for (int i = 0; i < p->nflows; i++) names[i] = p->flows[i].name;
    int rc = flow_sched_from_json(sj, names, p->nflows, fi, out, err);
    free(names);
    cJSON_Delete(sj);
    return rc;
}

/* ---- the scheduler's state ---- */

typedef struct Start {   /* a run the listener asked for: POST /flows/F/run */
    struct Start *next;
    int fi;
    char run_id[40];
    int since_set, until_set;
    int64_t since_ms, until_ms;
} Start;

typedef struct FlowRt {
    FlowFlowSched sc;
    int64_t next_ms;          /* TIMED: the next due time */
    char *webhook_path;       /* the declared path of a webhook trigger */
    int64_t retry_ms;         /* webhook: try again then (a failed run, a busy lock); 0: no */
    int64_t backoff_ms;
    /* the run going on */
    pid_t pid;
    FlowLock *lock;
    char run_id[40];
    const char *trigger;
    struct timespec t0;
    int again;                /* webhook events came while it ran */
} FlowRt;

typedef struct LaunchMsgList { struct LaunchMsgList *next; pid_t pid; int status; } LaunchMsgList;

typedef struct Serve {
    const FlowProgram *p;
    FlowCtx *cx;
    const FlowServeConfig *cfg;
    FILE *log;
    FlowState *st;
    FlowWebhooks *wh;
    FlowMetrics *m;
    FlowListener *l;
    FlowRt *f;
    int efd, sfd, tfd;
    int lsock;                /* the launcher's socket */
    pid_t lpid, self;
    LaunchMsgList *ended;     /* ENDED messages read while waiting for a LAUNCHED one */
    int launcher_gone;
    sigset_t sigs;
    int nrunning;
    int stop_sig;             /* the first SIGTERM/SIGINT */
    struct timespec stop_at;
    /* shared with the listener's threads */
    pthread_mutex_t mu;
    Start *starts, **starts_tail;
    char *wake;               /* wake[fi]: webhook work was queued */
    pid_t *pids;              /* pids[fi]: the child running it, 0 */
    int stopping;
} Serve;

static double mono_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void wake_up(Serve *S) {
    uint64_t one = 1;
    if (write(S->efd, &one, sizeof one) != (ssize_t)sizeof one) {}   /* the counter is already set */
}

/* a line of serve's log: the time, "serve: ", the text */
static void slog(Serve *S, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(Serve *S, const char *fmt, ...) {
    char now[32];
    flow_format_iso8601(flow_wall_ms(), now);
    va_list ap;
    va_start(ap, fmt);
    FlowSb b = { 0 };
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    flow_sb_puts(&b, now);
    flow_sb_puts(&b, " serve: ");
    flow_sb_puts(&b, buf);
    flow_sb_puts(&b, "\n");
    char *line = flow_sb_take(&b);
    fputs(line, S->log);   /* one write: lines of several processes do not mix */
    fflush(S->log);
    free(line);
}

/* ---- what the listener asks (its threads) ---- */

static int hook_admin_run(void *arg, int fi, const char *since, const char *until, char *run_id, size_t idcap, char *msg, size_t cap) {
    Serve *S = arg;
    Start *s = flow_xcalloc(1, sizeof *s);
    s->fi = fi;
    if (since) s->since_set = flow_parse_iso8601(since, strlen(since), &s->since_ms);
    if (until) s->until_set = flow_parse_iso8601(until, strlen(until), &s->until_ms);
    FlowRunInfo ri;
    flow_run_info_init(&ri, flow_wall_ms());
    snprintf(s->run_id, sizeof s->run_id, "%s", ri.run_id);
    int status = 202;
    pthread_mutex_lock(&S->mu);
    if (S->stopping) {
        status = 503;
        snprintf(msg, cap, "serve is stopping");
    } else if (S->pids[fi]) {
        status = 409;
        snprintf(msg, cap, "flow %s is already running (pid %ld)", S->p->flows[fi].name, (long)S->pids[fi]);
    } else {
        *S->starts_tail = s;
        S->starts_tail = &s->next;
        snprintf(run_id, idcap, "%s", s->run_id);
        s = NULL;
    }
    pthread_mutex_unlock(&S->mu);
    free(s);
    if (status == 202) wake_up(S);
    return status;
}

static void hook_webhook_queued(void *arg, int fi) {
    Serve *S = arg;
    if (fi < 0 || fi >= S->p->nflows) return;
    pthread_mutex_lock(&S->mu);
    int was = S->wake[fi];
    S->wake[fi] = 1;
    pthread_mutex_unlock(&S->mu);
    if (!was) wake_up(S);
}

static long hook_queue_depth(void *arg, int fi) {
    Serve *S = arg;
    return flow_webhooks_pending(S->wh, fi);
}

/* ---- the log: one line per run ---- */

static void log_run(Serve *S, int fi, const cJSON *row, FlowRunStatus s, double secs, const char *trigger) {
    char now[32];
    flow_format_iso8601(flow_wall_ms(), now);
    FlowSb b = { 0 };
    char buf[256];
    snprintf(buf, sizeof buf, "%s flow %s: %s", now, S->p->flows[fi].name, flow_run_status_names[s]);
    flow_sb_puts(&b, buf);
    if (s != FLOW_RUN_SKIPPED) {
        snprintf(buf, sizeof buf, " in %.3f s", secs);
        flow_sb_puts(&b, buf);
        const char *names[] = { "exported", "ignored", "imported", "errors" };
        for (int i = 0; i < 4; i++) {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(row, names[i]);
            snprintf(buf, sizeof buf, "%s %s %.0f", i ? "," : ":", names[i], cJSON_IsNumber(n) ? n->valuedouble : 0.0);
            flow_sb_puts(&b, buf);
        }
    }
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "message"));
    if (msg) {
        flow_sb_puts(&b, s == FLOW_RUN_SKIPPED ? ": " : "; ");
        flow_sb_puts(&b, msg);
    }
    const cJSON *drift = cJSON_GetObjectItemCaseSensitive(row, "drift_ms");
    snprintf(buf, sizeof buf, " (run %s, %s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "run_id")), trigger);
    flow_sb_puts(&b, buf);
    if (cJSON_IsNumber(drift) && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(row, "due_at"))) {
        snprintf(buf, sizeof buf, ", %.3f ms after its due time", drift->valuedouble);
        flow_sb_puts(&b, buf);
    }
    flow_sb_puts(&b, ")\n");
    char *line = flow_sb_take(&b);
    fputs(line, S->log);
    fflush(S->log);
    free(line);
}

/* a start that did not happen: a row with that status and why, counted, logged */
static void not_started(Serve *S, int fi, FlowRunStatus s, const char *run_id, int64_t now, const char *trigger, int64_t due,
                        int64_t drift_us, const char *why) {
    const char *flow = S->p->flows[fi].name;
    FlowErr e;
    if (flow_state_run_skipped(S->st, flow, run_id, now, flow_run_status_names[s], trigger, due, drift_us, why, &e))
        slog(S, "flow %s: %s", flow, e.msg);
    cJSON *row = flow_state_run_get(S->st, flow, run_id, &e);
    if (!row) {
        row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "run_id", run_id);
        cJSON_AddStringToObject(row, "message", why);
    }
    flow_metrics_run(S->m, fi, s, s == FLOW_RUN_SKIPPED ? -1 : 0, 0, 0, 0, 0);
    log_run(S, fi, row, s, 0, trigger);
    cJSON_Delete(row);
}

/* ---- the launcher ----
 * SQLite must not cross a fork with a connection open (the child would take the parent's locks for
 * its own), and a process with threads forks badly. So serve forks one helper first, before it opens
 * the state store or starts the listener: the launcher, single-threaded, forks each run's process on
 * serve's request (with the flow's run lock, passed as a descriptor) and tells serve each child's pid
 * and, when it ends, its wait status. It dies with serve (PR_SET_PDEATHSIG), and its runs then get
 * SIGTERM the same way. */

typedef struct LaunchReq {        /* serve -> launcher, with the lock's descriptor */
    int fi;
    char run_id[40];
    int64_t started_ms;
    int since_set, until_set;
    int64_t since_ms, until_ms;
} LaunchReq;
typedef struct LaunchMsg {        /* launcher -> serve */
    int kind;                     /* LAUNCHED (pid, or err: fork failed), ENDED (pid, status) */
    int err;
    pid_t pid;
    int status;
} LaunchMsg;
enum { LAUNCHED = 1, ENDED = 2 };

/* every descriptor but 0, 1, 2 and keep */
static void close_from(int keep) {
    int lo = 3;
    if (keep >= lo) {
        if (keep > lo && close_range((unsigned)lo, (unsigned)keep - 1, 0) != 0)
            for (int fd = lo; fd < keep; fd++) close(fd);
        lo = keep + 1;
    }
    if (close_range((unsigned)lo, ~0U, 0) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = lo; fd < (max > 0 && max < 65536 ? max : 65536); fd++) close((int)fd);
    }
}

/* the run's process: flow fi under the lock it was handed */
static void run_child(const Serve *S, const LaunchReq *rq, int lock_fd, pid_t launcher) __attribute__((noreturn));
static void run_child(const Serve *S, const LaunchReq *rq, int lock_fd, pid_t launcher) {
    setpgid(0, 0);   /* a Ctrl-C at the terminal reaches serve, which passes it on once */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = flow_stop_signal;
    sa.sa_flags = SA_RESTART;   /* the same signal again ends the run at once (but one sent twice at once) */
    flow_interrupt(0);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGCHLD, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);   /* serve (and the launcher) gone: stop at the next safe point */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    if (getppid() != launcher) flow_interrupt(SIGTERM);   /* it went before the line above */
    close_from(lock_fd);
    const char *flow = S->p->flows[rq->fi].name;
    FlowErr e;
    FlowState *st = flow_state_open(S->cfg->state_dir, S->p->name, 0, &e);
    if (!st) {
        fprintf(stderr, "%s: flow %s: %s\n", S->cfg->prog, flow, e.msg);
        _exit(1);
    }
    FlowRunInfo ri;
    flow_run_info_init(&ri, rq->started_ms);
    snprintf(ri.run_id, sizeof ri.run_id, "%s", rq->run_id);
    ri.state = st;
    ri.quiet_records = 1;   /* the error store has them; the log has a line per run */
    if (rq->since_set) { ri.since_ms = rq->since_ms; ri.since_set = 1; }
    if (rq->until_set) { ri.until_ms = rq->until_ms; ri.until_set = 1; }
    FlowRunStats stats;
    int r = flow_run_flow(S->p, S->cx, rq->fi, &ri, stderr, &stats);
    int code = stats.interrupted ? 128 + stats.interrupted : r < 0 ? 1 : stats.errors ? 3 : 0;
    flow_run_stats_free(&stats);
    flow_state_close(st);
    fflush(NULL);
    _exit(code);
}

static int send_msg(int sock, const LaunchMsg *m) {
    return send(sock, m, sizeof *m, MSG_NOSIGNAL) == (ssize_t)sizeof *m ? 0 : -1;
}

/* a launch request's message: the request, and room for one descriptor (the run lock's) */
static void launch_msg(struct msghdr *mh, struct iovec *iov, LaunchReq *rq, char *cbuf, size_t ncbuf) {
    memset(cbuf, 0, ncbuf);
    iov->iov_base = rq;
    iov->iov_len = sizeof *rq;
    memset(mh, 0, sizeof *mh);
    mh->msg_iov = iov;
    mh->msg_iovlen = 1;
    mh->msg_control = cbuf;
    mh->msg_controllen = ncbuf;
}

static void launcher(const Serve *S, int sock) __attribute__((noreturn));
static void launcher(const Serve *S, int sock) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != S->self) _exit(0);
    signal(SIGINT, SIG_IGN);    /* serve decides what a signal means, and tells the runs */
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    pid_t self = getpid();
    for (;;) {
        struct pollfd pf[2] = { { sock, POLLIN, 0 }, { sfd, POLLIN, 0 } };
        if (poll(pf, 2, -1) < 0 && errno != EINTR) break;
        if (pf[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {}
            int w;
            pid_t pid;
            while ((pid = waitpid(-1, &w, WNOHANG)) > 0) {
                LaunchMsg m = { ENDED, 0, pid, w };
                send_msg(sock, &m);
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            LaunchReq rq;
            char cbuf[CMSG_SPACE(sizeof(int))];
            struct iovec iov;
            struct msghdr mh;
            launch_msg(&mh, &iov, &rq, cbuf, sizeof cbuf);
            ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;   /* serve is done */
            if (n != (ssize_t)sizeof rq) continue;
            int lock_fd = -1;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&lock_fd, CMSG_DATA(c), sizeof lock_fd);
            pid_t pid = rq.fi >= 0 && rq.fi < S->p->nflows ? fork() : -1;
            if (pid == 0) run_child(S, &rq, lock_fd, self);
            LaunchMsg m = { LAUNCHED, pid < 0 ? (errno ? errno : EINVAL) : 0, pid, 0 };
            if (lock_fd >= 0) close(lock_fd);   /* the run keeps it, and the lock with it */
            send_msg(sock, &m);
        }
    }
    /* serve ended: what still runs (nothing, after a clean stop) is waited for */
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    _exit(0);
}

/* asks the launcher for flow fi's process: its pid, or -1 with errno */
static pid_t launch(Serve *S, const LaunchReq *rq, int lock_fd);

static int64_t sched_next(const FlowRt *r, int64_t after) {
    int64_t n = r->sc.sched ? flow_sched_next(r->sc.sched, after) : -1;
    return n;
}

static void stash_ended(Serve *S, pid_t pid, int status) {
    LaunchMsgList *m = flow_xcalloc(1, sizeof *m), **t = &S->ended;
    m->pid = pid;
    m->status = status;
    while (*t) t = &(*t)->next;
    *t = m;
}

/* one message from the launcher (blocking): 1, or 0 when it is gone */
static int read_msg(Serve *S, LaunchMsg *m) {
    for (;;) {
        ssize_t n = recv(S->lsock, m, sizeof *m, 0);
        if (n == (ssize_t)sizeof *m) return 1;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = { S->lsock, POLLIN, 0 };
            poll(&pf, 1, -1);
            continue;
        }
        S->launcher_gone = 1;
        return 0;
    }
}

static pid_t launch(Serve *S, const LaunchReq *rq, int lock_fd) {
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov;
    struct msghdr mh;
    launch_msg(&mh, &iov, (LaunchReq *)rq, cbuf, sizeof cbuf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &lock_fd, sizeof lock_fd);
    ssize_t n;
    while ((n = sendmsg(S->lsock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof *rq) { S->launcher_gone = 1; errno = EPIPE; return -1; }
    LaunchMsg m;
    while (read_msg(S, &m)) {
        if (m.kind == ENDED) { stash_ended(S, m.pid, m.status); continue; }
        if (m.pid < 0) errno = m.err;
        return m.pid;
    }
    errno = EPIPE;
    return -1;
}

/* starts flow fi now, for trigger (schedule, after, catch_up, webhook, admin); due: when it was due
 * (a schedule's fire), else -1 */
static void start(Serve *S, int fi, const char *trigger, int64_t due, const Start *admin) {
    FlowRt *r = &S->f[fi];
    const char *flow = S->p->flows[fi].name;
    if (S->stop_sig || S->launcher_gone) return;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t now = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
    int64_t drift_us = due >= 0 ? ((int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000) - due * 1000 : 0;
    if (due >= 0) flow_metrics_drift(S->m, (double)drift_us / 1e6);
    int webhook = strcmp(trigger, "webhook") == 0;
    FlowRunInfo ri;
    flow_run_info_init(&ri, now);
    if (admin) snprintf(ri.run_id, sizeof ri.run_id, "%s", admin->run_id);
    FlowErr e;
    char why[sizeof e.msg + 64];
    if (r->pid) {   /* still running: a webhook's events wait for the next run, anything else is skipped */
        if (webhook) { r->again = 1; return; }
        snprintf(why, sizeof why, "flow %s is already running (pid %ld)", flow, (long)r->pid);
        not_started(S, fi, FLOW_RUN_SKIPPED, ri.run_id, now, trigger, due, drift_us, why);
        return;
    }
    FlowLock *lk = NULL;
    long holder = 0;
    int lr = flow_state_lock(S->st, flow, &lk, &holder, &e);
    if (lr != 0) {
        if (lr > 0 && holder) snprintf(why, sizeof why, "flow %s is already running (pid %ld)", flow, holder);
        else if (lr > 0) snprintf(why, sizeof why, "flow %s is already running", flow);
        else snprintf(why, sizeof why, "%.1023s", e.msg);
        if (webhook && lr > 0) {   /* another process runs it: the events wait, and serve looks again in a second */
            r->retry_ms = now + 1000;
            return;
        }
        not_started(S, fi, lr > 0 ? FLOW_RUN_SKIPPED : FLOW_RUN_FAILED, ri.run_id, now, trigger, due, drift_us, why);
        return;
    }
    int n = flow_state_runs_abandoned(S->st, flow, now, &e);
    if (n > 0)
        slog(S, "flow %s: %d earlier run%s left running by a process that ended without recording it: marked crashed", flow, n,
             n == 1 ? " was" : "s were");
    if (flow_state_run_planned(S->st, flow, ri.run_id, now, trigger, due, drift_us, &e)) {
        flow_state_unlock(lk);
        not_started(S, fi, FLOW_RUN_FAILED, ri.run_id, now, trigger, due, drift_us, e.msg);
        return;
    }
    LaunchReq rq;
    memset(&rq, 0, sizeof rq);
    rq.fi = fi;
    snprintf(rq.run_id, sizeof rq.run_id, "%s", ri.run_id);
    rq.started_ms = now;
    if (admin) {
        rq.since_set = admin->since_set;
        rq.since_ms = admin->since_ms;
        rq.until_set = admin->until_set;
        rq.until_ms = admin->until_ms;
    }
    pid_t pid = launch(S, &rq, flow_state_lock_fd(lk));
    if (pid < 0) {
        snprintf(why, sizeof why, "cannot start the run's process: %s", strerror(errno));
        flow_state_run_abort(S->st, flow, ri.run_id, flow_wall_ms(), "failed", why, &e);
        flow_state_unlock(lk);
        cJSON *row = flow_state_run_get(S->st, flow, ri.run_id, &e);
        flow_metrics_run(S->m, fi, FLOW_RUN_FAILED, 0, 0, 0, 0, 0);
        if (row) log_run(S, fi, row, FLOW_RUN_FAILED, 0, trigger);
        cJSON_Delete(row);
        return;
    }
    r->pid = pid;
    r->lock = lk;
    r->trigger = trigger;
    snprintf(r->run_id, sizeof r->run_id, "%s", ri.run_id);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    S->nrunning++;
    pthread_mutex_lock(&S->mu);
    S->pids[fi] = pid;
    pthread_mutex_unlock(&S->mu);
    flow_state_lock_pid(lk, pid);   /* `flow F is already running (pid N)` names the run's process */
    if (flow_state_run_pid(S->st, flow, ri.run_id, pid, &e)) slog(S, "flow %s: %s", flow, e.msg);
    flow_metrics_running(S->m, fi, 1);
}

/* flow fi's child ended with wait status w (killed: serve killed it, and why) */
static void finish(Serve *S, int fi, int w, const char *killed) {
    FlowRt *r = &S->f[fi];
    const char *flow = S->p->flows[fi].name;
    double secs = mono_since(&r->t0);
    int64_t now = flow_wall_ms();
    FlowErr e;
    cJSON *row = flow_state_run_get(S->st, flow, r->run_id, &e);
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "status"));
    if (!status || strcmp(status, "running") == 0) {   /* it did not record its end: serve does */
        char why[300];
        if (killed) snprintf(why, sizeof why, "%s", killed);
        else if (WIFSIGNALED(w))
            snprintf(why, sizeof why, "the run's process was killed by signal %d (%s)", WTERMSIG(w), strsignal(WTERMSIG(w)));
        else snprintf(why, sizeof why, "the run's process exited with status %d before it recorded its end", WEXITSTATUS(w));
        if (flow_state_run_abort(S->st, flow, r->run_id, now, killed ? "interrupted" : "crashed", why, &e) < 0)
            slog(S, "flow %s: %s", flow, e.msg);
        cJSON_Delete(row);
        row = flow_state_run_get(S->st, flow, r->run_id, &e);
        if (!row) {
            row = cJSON_CreateObject();
            cJSON_AddStringToObject(row, "run_id", r->run_id);
            cJSON_AddStringToObject(row, "status", killed ? "interrupted" : "crashed");
            cJSON_AddStringToObject(row, "message", why);
        }
        status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "status"));
    }
    int s = flow_run_status_parse(status);
    if (s < 0) s = strcmp(status ? status : "", "errors") == 0 ? FLOW_RUN_RECORD_ERRORS : FLOW_RUN_CRASHED;
    long c[4];
    const char *names[] = { "exported", "imported", "ignored", "errors" };
    for (int i = 0; i < 4; i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(row, names[i]);
        c[i] = cJSON_IsNumber(n) ? (long)n->valuedouble : 0;
    }
    int ok = s == FLOW_RUN_OK || s == FLOW_RUN_RECORD_ERRORS;
    flow_metrics_run(S->m, fi, (FlowRunStatus)s, secs, c[0], c[1], c[2], c[3]);
    flow_metrics_running(S->m, fi, 0);
    if (ok) flow_metrics_last_success(S->m, fi, now);
    log_run(S, fi, row, (FlowRunStatus)s, secs, r->trigger ? r->trigger : "?");
    cJSON_Delete(row);
    flow_state_unlock(r->lock);
    r->lock = NULL;
    r->pid = 0;
    S->nrunning--;
    pthread_mutex_lock(&S->mu);
    S->pids[fi] = 0;
    pthread_mutex_unlock(&S->mu);
    if (S->stop_sig) return;
    /* what follows it: the flows chained after it, when it did not fail; its webhook's next events */
    if (ok)
        for (int g = 0; g < S->p->nflows; g++)
            if (S->f[g].sc.kind == FLOW_SCHED_AFTER && S->f[g].sc.after == fi) start(S, g, "after", -1, NULL);
    if (r->webhook_path) {
        if (ok) r->backoff_ms = 0;
        int more = r->again || flow_webhooks_pending(S->wh, fi) > 0;
        r->again = 0;
        if (more && ok) start(S, fi, "webhook", -1, NULL);
        else if (more) {   /* a failed run keeps its events: again after a pause that grows */
            r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : 1000;
            if (r->backoff_ms > WEBHOOK_BACKOFF_MAX_MS) r->backoff_ms = WEBHOOK_BACKOFF_MAX_MS;
            r->retry_ms = now + r->backoff_ms;
        }
    }
}

static void ended(Serve *S, pid_t pid, int status, const char *killed) {
    for (int fi = 0; fi < S->p->nflows; fi++)
        if (S->f[fi].pid == pid) { finish(S, fi, status, killed); return; }
}

/* the ENDED messages read meanwhile, then (block: until no run is left, else what is there) */
static void reap(Serve *S, int block, const char *killed) {
    for (;;) {
        while (S->ended) {
            LaunchMsgList *m = S->ended;
            S->ended = m->next;
            ended(S, m->pid, m->status, killed);
            free(m);
        }
        if (S->launcher_gone) return;
        if (block && !S->nrunning) return;
        if (!block) {
            struct pollfd pf = { S->lsock, POLLIN, 0 };
            if (poll(&pf, 1, 0) <= 0) return;
        }
        LaunchMsg m;
        if (!read_msg(S, &m)) return;
        if (m.kind == ENDED) stash_ended(S, m.pid, m.status);
    }
}

static void kill_runs(Serve *S, const char *why) {
    for (int fi = 0; fi < S->p->nflows; fi++)
        if (S->f[fi].pid) {
            kill(-S->f[fi].pid, SIGKILL);   /* its process group: what the run started too */
            kill(S->f[fi].pid, SIGKILL);
        }
    if (S->nrunning) reap(S, 1, why);
}

/* the launcher ended (it should not): the runs it had are crashed as far as serve can tell */
static void launcher_lost(Serve *S) {
    for (int fi = 0; fi < S->p->nflows; fi++)
        if (S->f[fi].pid) {
            kill(-S->f[fi].pid, SIGTERM);
            finish(S, fi, 0, "serve's run launcher ended unexpectedly: the run was told to stop");
        }
}

/* ---- the loop ---- */

static void arm_timer(Serve *S) {
    int64_t next = -1;
    for (int fi = 0; fi < S->p->nflows && !S->stop_sig; fi++) {
        const FlowRt *r = &S->f[fi];
        if (r->sc.kind == FLOW_SCHED_TIMED && r->next_ms >= 0 && (next < 0 || r->next_ms < next)) next = r->next_ms;
        if (r->retry_ms > 0 && (next < 0 || r->retry_ms < next)) next = r->retry_ms;
    }
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (next >= 0) {
        its.it_value.tv_sec = next / 1000;
        its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec) its.it_value.tv_nsec = 1;
    }
    timerfd_settime(S->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

static void fire_due(Serve *S, int clock_changed) {
    int64_t now = flow_wall_ms();
    for (int fi = 0; fi < S->p->nflows; fi++) {
        FlowRt *r = &S->f[fi];
        if (r->retry_ms > 0 && r->retry_ms <= now && !r->pid) {
            r->retry_ms = 0;
            if (flow_webhooks_pending(S->wh, fi) > 0) start(S, fi, "webhook", -1, NULL);
        }
        if (r->sc.kind != FLOW_SCHED_TIMED || r->next_ms < 0) continue;
        if (clock_changed && r->next_ms > now) {   /* the clock was set: the next fire from the new time */
            r->next_ms = sched_next(r, now);
        } else if (r->next_ms <= now) {
            int64_t due = r->next_ms;
            start(S, fi, "schedule", due, NULL);
            /* missed fires are not made up: the next one is after now */
            now = flow_wall_ms();
            r->next_ms = sched_next(r, now > due ? now : due);
        }
        flow_metrics_next_run(S->m, fi, r->next_ms);
    }
}

static void take_starts(Serve *S) {
    pthread_mutex_lock(&S->mu);
    Start *list = S->starts;
    S->starts = NULL;
    S->starts_tail = &S->starts;
    char *wake = flow_xcalloc((size_t)S->p->nflows + 1, 1);
    memcpy(wake, S->wake, (size_t)S->p->nflows);
    memset(S->wake, 0, (size_t)S->p->nflows);
    pthread_mutex_unlock(&S->mu);
    while (list) {
        Start *n = list->next;
        start(S, list->fi, "admin", -1, list);
        free(list);
        list = n;
    }
    for (int fi = 0; fi < S->p->nflows; fi++)
        if (wake[fi] && !S->f[fi].retry_ms) start(S, fi, "webhook", -1, NULL);
    free(wake);
}

static void begin_stop(Serve *S, int sig) {
    S->stop_sig = sig;
    clock_gettime(CLOCK_MONOTONIC, &S->stop_at);
    pthread_mutex_lock(&S->mu);
    S->stopping = 1;
    pthread_mutex_unlock(&S->mu);
    flow_listen_quiesce(S->l);
    slog(S, "%s: stopping: no new runs; %d run%s going on, each stops at its next safe point", sig == SIGINT ? "SIGINT" : "SIGTERM",
         S->nrunning, S->nrunning == 1 ? "" : "s");
    for (int fi = 0; fi < S->p->nflows; fi++)
        if (S->f[fi].pid) kill(S->f[fi].pid, sig);
}

static void print_start(Serve *S) {
    slog(S, "listening on http://%s (GET /healthz, GET /metrics, POST /flows/FLOW/run %s)", flow_listen_address(S->l),
         S->cfg->admin_token ? "with the admin token" : "from loopback");
    for (int fi = 0; fi < S->p->nflows; fi++) {
        const FlowRt *r = &S->f[fi];
        char when[200] = "";
        if (r->sc.kind == FLOW_SCHED_TIMED && r->next_ms >= 0) {
            char a[32], b[48];
            flow_format_iso8601(r->next_ms, a);
            flow_tz_format(flow_sched_tz(r->sc.sched), r->next_ms, b);
            snprintf(when, sizeof when, ", next %s (%s)%s", a, b, r->sc.catch_up ? ", catch_up" : "");
        } else if (r->sc.kind == FLOW_SCHED_MANUAL || r->sc.kind == FLOW_SCHED_NONE) {
            snprintf(when, sizeof when, ": runs when asked");
        }
        slog(S, "flow %s: %s%s%s%.200s", S->p->flows[fi].name, r->sc.desc, when, r->webhook_path ? "; webhook POST " : "",
             r->webhook_path ? r->webhook_path : "");
    }
}

int flow_serve(const FlowProgram *p, FlowCtx *cx, const FlowServeConfig *cfg, FlowErr *err) {
    Serve S0, *S = &S0;
    memset(S, 0, sizeof *S);
    S->p = p;
    S->cx = cx;
    S->cfg = cfg;
    S->log = cfg->log ? cfg->log : stderr;
    S->efd = S->sfd = S->tfd = S->lsock = -1;
    S->self = getpid();
    pthread_mutex_init(&S->mu, NULL);
    S->starts_tail = &S->starts;
    S->f = flow_xcalloc((size_t)p->nflows + 1, sizeof *S->f);
    S->wake = flow_xcalloc((size_t)p->nflows + 1, 1);
    S->pids = flow_xcalloc((size_t)p->nflows + 1, sizeof *S->pids);
    int rc = -1, masked = 0;
    sigset_t old;
    sigemptyset(&S->sigs);
    sigaddset(&S->sigs, SIGTERM);
    sigaddset(&S->sigs, SIGINT);
    sigaddset(&S->sigs, SIGCHLD);
    /* every schedule, as the params make it: one that is not a schedule refuses to start */
    for (int fi = 0; fi < p->nflows; fi++) {
        if (flow_flow_sched(p, cx, fi, &S->f[fi].sc, err)) goto out;
        S->f[fi].next_ms = -1;
        char why[300];
        int failed;
        cJSON *tr = flow_setting_json(cx, &p->flows[fi], "trigger", why, sizeof why, &failed);
        if (failed) { flow_err_set(err, FLOW_ERR_VALUE, "flow %s: trigger: %s", p->flows[fi].name, why); cJSON_Delete(tr); goto out; }
        const char *c = ctor_of(tr), *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tr, "path"));
        if (c && strcmp(c, "webhook") == 0) S->f[fi].webhook_path = flow_xstrdup(path ? path : "");
        cJSON_Delete(tr);
    }
    /* the launcher, before anything opens the state store or starts a thread */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        flow_err_set(err, FLOW_ERR_VALUE, "cannot set up the run launcher: %s", strerror(errno));
        goto out;
    }
    fflush(NULL);
    S->lpid = fork();
    if (S->lpid == 0) {
        close(sv[0]);
        launcher(S, sv[1]);
    }
    close(sv[1]);
    S->lsock = sv[0];
    if (S->lpid < 0) { flow_err_set(err, FLOW_ERR_VALUE, "cannot start the run launcher: %s", strerror(errno)); goto out; }
    if (!(S->st = flow_state_open(cfg->state_dir, p->name, 0, err))) goto out;
    if (!(S->wh = flow_webhooks_open(p, cx, S->st, err))) goto out;
    S->m = flow_metrics_new(p, (double)flow_wall_ms() / 1000.0);
    for (int fi = 0; fi < p->nflows; fi++) {
        int64_t a, b;
        int have = 0;
        FlowErr e;
        if (!flow_state_last_ok_run(S->st, p->flows[fi].name, &a, &b, &have, &e) && have) flow_metrics_last_success(S->m, fi, b);
        if (S->f[fi].webhook_path) flow_metrics_webhook_path(S->m, fi, S->f[fi].webhook_path);
    }
    /* signals arrive as data on the main thread: blocked everywhere (the listener's threads are made
     * after this and inherit the mask) */
    if (pthread_sigmask(SIG_BLOCK, &S->sigs, &old) != 0) { flow_err_set(err, FLOW_ERR_VALUE, "cannot block signals"); goto out; }
    masked = 1;
    S->sfd = signalfd(-1, &S->sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    S->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    S->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
    if (S->sfd < 0 || S->efd < 0 || S->tfd < 0) { flow_err_set(err, FLOW_ERR_VALUE, "cannot set up the scheduler: %s", strerror(errno)); goto out; }
    FlowListenHooks hooks = { hook_admin_run, hook_webhook_queued, hook_queue_depth, S };
    if (!(S->l = flow_listen_start(p, cfg->listen ? cfg->listen : "127.0.0.1:8080", cfg->admin_token, S->wh, S->m, &hooks, err))) goto out;
    int64_t now = flow_wall_ms();
    for (int fi = 0; fi < p->nflows; fi++) {
        FlowRt *r = &S->f[fi];
        if (r->sc.kind != FLOW_SCHED_TIMED) continue;
        r->next_ms = sched_next(r, now);
        flow_metrics_next_run(S->m, fi, r->next_ms);
    }
    print_start(S);
    /* at start: a catch_up flow whose fire came while serve was down runs once; a webhook flow with
     * queued events runs */
    for (int fi = 0; fi < p->nflows; fi++) {
        FlowRt *r = &S->f[fi];
        if (r->sc.kind == FLOW_SCHED_TIMED && r->sc.catch_up) {
            int64_t a, b;
            int have = 0;
            FlowErr e;
            if (flow_state_last_ok_run(S->st, p->flows[fi].name, &a, &b, &have, &e) == 0 &&
                (!have || (flow_sched_next(r->sc.sched, a) >= 0 && flow_sched_next(r->sc.sched, a) <= now)))
                start(S, fi, "catch_up", -1, NULL);
        }
        if (r->webhook_path && flow_webhooks_pending(S->wh, fi) > 0) start(S, fi, "webhook", -1, NULL);
    }
    rc = 0;
    for (;;) {
        reap(S, 0, NULL);   /* ends read while a run was being started */
        if (S->launcher_gone) {
            launcher_lost(S);
            flow_err_set(err, FLOW_ERR_VALUE, "the run launcher (pid %ld) ended unexpectedly", (long)S->lpid);
            rc = -1;
            break;
        }
        if (S->stop_sig && !S->nrunning) break;
        int timeout = -1;
        if (S->stop_sig) {
            double left = STOP_GRACE_MS / 1000.0 - mono_since(&S->stop_at);
            if (left <= 0) {
                kill_runs(S, "killed: it did not stop within 25 s of the signal to stop");
                break;
            }
            timeout = (int)(left * 1000) + 1;
        }
        arm_timer(S);
        struct pollfd pf[4] = { { S->sfd, POLLIN, 0 }, { S->efd, POLLIN, 0 }, { S->tfd, POLLIN, 0 }, { S->lsock, POLLIN, 0 } };
        int n = poll(pf, 4, timeout);
        if (n < 0 && errno != EINTR) { slog(S, "poll: %s", strerror(errno)); break; }
        if (n <= 0) continue;
        if (pf[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(S->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGCHLD) continue;   /* the launcher's; it says when it ends */
                if (!S->stop_sig) begin_stop(S, sig);
                else {
                    char why[160];
                    snprintf(why, sizeof why, "killed: a second %s came while it stopped", sig == SIGINT ? "SIGINT" : "SIGTERM");
                    slog(S, "a second %s: the runs still going are killed", sig == SIGINT ? "SIGINT" : "SIGTERM");
                    kill_runs(S, why);
                    rc = sig;
                    goto done;
                }
            }
        }
        if (pf[3].revents & (POLLIN | POLLHUP | POLLERR)) reap(S, 0, NULL);
        if (pf[1].revents & POLLIN) {
            uint64_t v;
            if (read(S->efd, &v, sizeof v) < 0) {}
            take_starts(S);
        }
        if (pf[2].revents & POLLIN) {
            uint64_t v;
            ssize_t k = read(S->tfd, &v, sizeof v);
            fire_due(S, k < 0 && errno == ECANCELED);
        }
    }
done:
    if (S->stop_sig) slog(S, "stopped");
out:
    if (S->l) flow_listen_stop(S->l);
    /* (the listener's threads are gone: nothing else uses the shared state) */
    while (S->starts) { Start *n = S->starts->next; free(S->starts); S->starts = n; }
    if (S->lsock >= 0) close(S->lsock);   /* the launcher ends when it reads the end */
    if (S->lpid > 0) while (waitpid(S->lpid, NULL, 0) < 0 && errno == EINTR) {}
    while (S->ended) { LaunchMsgList *m = S->ended->next; free(S->ended); S->ended = m; }
    if (S->sfd >= 0) close(S->sfd);
    if (S->efd >= 0) close(S->efd);
    if (S->tfd >= 0) close(S->tfd);
    /* after serving, the signals stay blocked: a late SIGTERM must not kill the process on its way
     * out (it ends after this); when serve could not start, they are as they were */
    if (masked && rc < 0) pthread_sigmask(SIG_SETMASK, &old, NULL);
    flow_webhooks_close(S->wh);
    flow_metrics_free(S->m);
    flow_state_close(S->st);
    for (int fi = 0; fi < p->nflows; fi++) {
        flow_sched_free(S->f[fi].sc.sched);
        free(S->f[fi].webhook_path);
        flow_state_unlock(S->f[fi].lock);
    }
    free(S->f);
    free(S->wake);
    free(S->pids);
    pthread_mutex_destroy(&S->mu);
    return rc;
}
