/* cli.c — the built executable's command line (CLI.md): `run [FLOW...]` with params, a summary
 * per flow on stderr and, with --json, one line per flow on stdout; `errors list|retry|resolve` and
 * `state show|reset` over the state store; `describe` (the program as JSON, secrets redacted; with
 * --show-secrets the secret_url() webhooks' full URLs); `serve` (serve.c), `gate` (gate.c: flowc server's) and `runs` (the run
 * history); `ping CONNECTION` (probe.c: the connection proven outside a run); `--version`. A run
 * records a debug window's requests when flowc server asks (FLOW_DEBUG_CONNECTIONS, FLOW_DEBUG_FILE). `run` runs flows in dependency order (after() chains) with a live progress
 * line on a terminal. Decides the exit codes: 0 every record imported or ignored, 3 the run finished
 * with record errors, 1 the run failed, 2 usage, 130/143 interrupted. Sets the process up so secrets
 * cannot leave it in a core dump. */
#define _DEFAULT_SOURCE   /* mkstemps */
#include "engine.h"
#include "serve.h"
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FLOWC_VERSION
#define FLOWC_VERSION "0.1.0"
#endif

static const char *const kind_names[] = {
#define X(k, s) s,
    FLOW_VAL_KINDS(X)
#undef X
};

static const char *const step_kinds[] = {
#define X(k, s) s,
    FLOW_STEP_KINDS(X)
#undef X
};

static void usage(FILE *f, const char *prog) {
    fprintf(f,
            "usage: %s run [FLOW...] [--param k=v]... [--env NAME] [--json] [--since T] [--until T] [--now T] [--state DIR]\n"
            "              [--no-chain] [--quiet]\n"
            "       %s serve [--listen ADDR:PORT] [--param k=v]... [--env NAME] [--state DIR] [--admin-token T]\n"
            "       %s runs [--flow F] [--json] [--limit N] [--state DIR]\n"
            "       %s errors list [--json] [--flow F] [--class C] [--step S] [--all] [--state DIR]\n"
            "       %s errors retry ID...|--all [--flow F] [--class C] [--step S] [--param k=v]... [--json] [--state DIR]\n"
            "       %s errors retry ID --data FILE [--param k=v]... [--json] [--state DIR]\n"
            "       %s errors resolve ID...|--all [--flow F] [--class C] [--step S] [--state DIR]\n"
            "       %s errors edit ID [--state DIR]   (the record in $VISUAL or $EDITOR)\n"
            "       %s state show [FLOW] [--json] [--state DIR]\n"
            "       %s state reset [FLOW] [--state DIR]\n"
            "       %s describe [--param k=v]... [--show-secrets] [--state DIR]\n"
            "       %s push FLOW IMPORT --data FILE|- [--param k=v]... [--env NAME] [--json] [--state DIR]\n"
            "       %s gate [--param k=v]... [--env NAME] [--state DIR]   (flowc server's: schedules and webhooks on stdin/stdout)\n"
            "       %s ping CONNECTION [--param k=v]... [--env NAME]   (the connection proven outside a run; one JSON line)\n"
            "       %s --version\n",
            prog, prog, prog, prog, prog, prog, prog, prog, prog, prog, prog, prog, prog, prog, prog);
}

typedef struct Opts {
    const char **flows; int nflows;
    const char **params; int nparams;     /* "k=v" */
    int json, all, quiet, no_chain, show_secrets;
    const char *state, *since, *until, *now, *flow, *cls, *step, *data;
    const char *listen, *admin_token, *limit, *env;
    int given[32];                        /* which options were given (the valued ones by index, then flags) */
} Opts;

/* 0, or 2 after a usage message */
static int parse_opts(const char *prog, const char *cmd, int argc, char **argv, Opts *o, int takes_flows) {
    o->flows = calloc((size_t)argc + 1, sizeof *o->flows);
    o->params = calloc((size_t)argc + 1, sizeof *o->params);
    if (!o->flows || !o->params) abort();
    int dashdash = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || !a[1]) {
            if (!takes_flows) {
                fprintf(stderr, "%s %s: unexpected argument `%s`\n", prog, cmd, a);
                usage(stderr, prog);
                return 2;
            }
            o->flows[o->nflows++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) { dashdash = 1; continue; }
        if (strcmp(a, "--json") == 0) { o->json = 1; continue; }
        if (strcmp(a, "--all") == 0) { o->all = 1; continue; }
        if (strcmp(a, "--quiet") == 0) { o->quiet = 1; continue; }
        if (strcmp(a, "--no-chain") == 0) { o->no_chain = 1; continue; }
        if (strcmp(a, "--show-secrets") == 0 && strcmp(cmd, "describe") == 0) { o->show_secrets = 1; continue; }
        static const char *const valued[] = { "--param", "--state", "--since", "--until", "--now", "--flow", "--class", "--step", "--data",
                                              "--listen", "--admin-token", "--limit", "--env", "--environment" };
        const char *val = NULL;
        int which = -1;
        for (int k = 0; k < (int)(sizeof valued / sizeof valued[0]) && which < 0; k++) {
            size_t n = strlen(valued[k]);
            if (strcmp(a, valued[k]) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "%s %s: %s needs a value\n", prog, cmd, a);
                    usage(stderr, prog);
                    return 2;
                }
                which = k;
                val = argv[++i];
            } else if (strncmp(a, valued[k], n) == 0 && a[n] == '=') {
                which = k;
                val = a + n + 1;
            }
        }
        if (which >= 0) o->given[which] = 1;
        switch (which) {
        case 0: o->params[o->nparams++] = flow_arg_take((char *)val); break;
        case 1: o->state = val; break;
        case 2: o->since = val; break;
        case 3: o->until = val; break;
        case 4: o->now = val; break;
        case 5: o->flow = val; break;
        case 6: o->cls = val; break;
        case 7: o->step = val; break;
        case 8: o->data = val; break;
        case 9: o->listen = val; break;
        case 10: o->admin_token = val; break;
        case 11: o->limit = val; break;
        case 12: case 13: o->env = val; break;
        default:
            fprintf(stderr, "%s %s: unknown option `%s`\n", prog, cmd, a);
            usage(stderr, prog);
            return 2;
        }
    }
    return 0;
}

static void opts_free(Opts *o) {
    for (int i = 0; i < o->nparams; i++) free((void *)o->params[i]);
    free(o->flows);
    free(o->params);
}

/* ---- params ---- */

static int parse_duration(const char *s, int64_t *ms) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v)) return 0;
    double unit = *end ? (double)flow_duration_unit(end, strlen(end)) : 1;   /* a bare number is ms */
    if (unit <= 0 || fabs(v * unit) >= 9.2e18) return 0;
    *ms = (int64_t)llround(v * unit);
    return 1;
}

/* A param's text as its kind; 0, or -1 with why. JSON values are kept in *own. */
int flow_param_parse(const FlowParamDef *d, const char *text, FlowVal *v, cJSON **own, char *why, size_t cap) {
    char *end;
    *own = NULL;
    if (d->nullable && d->kind != FLOW_STRING && strcmp(text, "null") == 0) { *v = flow_null(); return 0; }
    switch (d->kind) {
    case FLOW_STRING: *v = flow_string(text, strlen(text)); return 0;
    case FLOW_INT: {
        errno = 0;
        long long x = strtoll(text, &end, 10);
        if (!*text || *end || errno) break;
        *v = flow_int(x);
        return 0;
    }
    case FLOW_NUMBER: {
        errno = 0;
        double x = strtod(text, &end);
        if (!*text || *end || errno || !isfinite(x)) break;
        *v = flow_number(x);
        return 0;
    }
    case FLOW_BOOL:
        if (strcmp(text, "true") == 0) { *v = flow_bool(1); return 0; }
        if (strcmp(text, "false") == 0) { *v = flow_bool(0); return 0; }
        break;
    case FLOW_DATETIME: {
        int64_t ms;
        if (!flow_parse_iso8601(text, strlen(text), &ms)) break;
        *v = flow_datetime(ms);
        return 0;
    }
    case FLOW_DURATION: {
        int64_t ms;
        if (!parse_duration(text, &ms)) break;
        *v = flow_duration(ms);
        return 0;
    }
    case FLOW_JSON: {
        cJSON *j = flow_json_parse(text, strlen(text), NULL);
        if (!j) break;
        *own = j;
        *v = flow_json(j);
        return 0;
    }
    case FLOW_NULL: *v = flow_null(); return 0;
    }
    snprintf(why, cap, "`%s` is not %s", text,
             d->kind == FLOW_INT ? "an int" : d->kind == FLOW_NUMBER ? "a number" : d->kind == FLOW_BOOL ? "true or false"
             : d->kind == FLOW_DATETIME ? "an ISO-8601 date-time" : d->kind == FLOW_DURATION ? "a duration (250ms, 30s, 15m, 2h, 7d)"
             : "valid JSON");
    return -1;
}

char *flow_param_default(const FlowParamDef *d) {
    if (d->masked) {
        char *t = malloc(d->nmasked + 1);
        if (!t) abort();
        for (size_t i = 0; i < d->nmasked; i++) t[i] = (char)(d->masked[d->nmasked + i] ^ d->masked[i]);
        t[d->nmasked] = 0;
        return t;
    }
    return d->deflt ? flow_xstrdup(d->deflt) : NULL;
}

char *flow_arg_take(char *arg) {
    char *copy = flow_xstrdup(arg);
    char *eq = strchr(arg, '=');
    if (eq) memset(eq + 1, '*', strlen(eq + 1));
    return copy;
}

void flow_no_core_dumps(void) {
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Sets every param in cx: --param values, then defaults. strict: a missing required param is an
 * error (run); otherwise it is null (describe). 0, or 1 after a message. */
static int set_params(const FlowProgram *p, FlowCtx *cx, const Opts *o, int strict, const char *prog, cJSON **owned) {
    const FlowEnvDef *env = NULL;
    if (o->env) {   /* --env NAME: that env block's values, under --param's */
        for (int i = 0; i < p->nenvs && !env; i++) if (strcmp(p->envs[i].name, o->env) == 0) env = &p->envs[i];
        if (!env) {
            fprintf(stderr, "%s: no env `%s`", prog, o->env);
            for (int i = 0; i < p->nenvs; i++) fprintf(stderr, "%s%s", i ? ", " : " (envs: ", p->envs[i].name);
            fprintf(stderr, "%s\n", p->nenvs ? ")" : " (this program has no env blocks)");
            return 1;
        }
        for (int k = 0; k < env->nvalues; k++)
            if (env->values[k].param >= 0 && !env->values[k].text && !env->values[k].masked) {
                fprintf(stderr, "%s: env %s: param %s is not a constant there: `flowc build --env %s` applies it when it builds\n", prog,
                        env->name, p->params[env->values[k].param].name, env->name);
                return 1;
            }
    }
    for (int k = 0; k < o->nparams; k++) {
        const char *eq = strchr(o->params[k], '=');
        size_t nl = eq ? (size_t)(eq - o->params[k]) : 0;
        int found = -1;
        for (int i = 0; eq && i < p->nparams && found < 0; i++)
            if (strlen(p->params[i].name) == nl && strncmp(p->params[i].name, o->params[k], nl) == 0) found = i;
        if (!eq || !nl) {
            fprintf(stderr, "%s: --param needs name=value, got `%s`\n", prog, o->params[k]);
            return 1;
        }
        if (found < 0) {
            fprintf(stderr, "%s: unknown param `%.*s`", prog, (int)nl, o->params[k]);
            for (int i = 0; i < p->nparams; i++) fprintf(stderr, "%s%s", i ? ", " : " (params: ", p->params[i].name);
            fprintf(stderr, "%s\n", p->nparams ? ")" : " (this program has no params)");
            return 1;
        }
    }
    for (int i = 0; i < p->nparams; i++) {
        const FlowParamDef *d = &p->params[i];
        const char *text = NULL;
        for (int k = 0; k < o->nparams; k++) {
            size_t nl = strlen(d->name);
            if (strncmp(o->params[k], d->name, nl) == 0 && o->params[k][nl] == '=') text = o->params[k] + nl + 1;
        }
        int from_default = !text, from_env = 0;
        char *dflt = NULL;
        for (int k = 0; !text && env && k < env->nvalues; k++) {
            const FlowEnvValue *ev = &env->values[k];
            if (ev->param != i) continue;
            from_env = 1;
            if (ev->masked) {
                FlowParamDef m = { d->name, d->kind, d->nullable, NULL, 1, ev->masked, ev->nmasked };
                text = dflt = flow_param_default(&m);
            } else text = ev->text;
        }
        if (!text) text = dflt = flow_param_default(d);
        FlowVal v = flow_null();
        if (text) {
            char why[300];
            int bad = flow_param_parse(d, text, &v, &owned[i], why, sizeof why);
            if (!bad && v.kind == FLOW_STRING && dflt && text == dflt) {   /* the value outlives dflt: keep it in the context */
                cJSON *keep = cJSON_CreateString(text);
                if (!keep) abort();
                owned[i] = keep;
                v = flow_string(keep->valuestring, strlen(keep->valuestring));
            }
            if (bad) {
                fprintf(stderr, "%s: param %s%s%s%s: %s\n", prog, d->name, from_env ? " (from env " : from_default ? " (its default)" : "",
                        from_env ? env->name : "", from_env ? ")" : "",
                        d->secret ? "the value is not valid for its type (it is a secret: not shown)" : why);
                free(dflt);
                return 1;
            }
            free(dflt);
        } else if (!d->nullable && strict) {
            fprintf(stderr, "%s: param %s is required (pass --param %s=...)\n", prog, d->name, d->name);
            return 1;
        }
        flow_ctx_set_param(cx, i, v);
    }
    return 0;
}

static int parse_time_opt(const char *prog, const char *opt, const char *text, int64_t *ms) {
    if (!text) return 0;
    if (!flow_parse_iso8601(text, strlen(text), ms)) {
        fprintf(stderr, "%s: %s `%s` is not an ISO-8601 date-time\n", prog, opt, text);
        return 1;
    }
    return 0;
}

/* stdout written out: 0, or 1 after saying why it could not be */
static int flush_stdout(const char *prog) {
    if (fflush(stdout) == 0) return 0;
    fprintf(stderr, "%s: cannot write to standard output: %s\n", prog, strerror(errno));
    return 1;
}

/* ---- the state store ---- */

/* read_only: the command only reads the store (state show, errors list). The store is the SQLite file
 * in --state (FLOW_STATE_DIR, ./.flowstate), or the PostgreSQL database FLOW_STATE_DB names (flowc
 * server passes its store's DSN so; never on the command line, which `ps` shows to everyone). */
static FlowState *open_state(const FlowProgram *p, const char *prog, const Opts *o, int read_only) {
    const char *dir = o->state ? o->state : getenv("FLOW_STATE_DIR");
    FlowErr e;
    FlowState *st = flow_state_open_at(getenv("FLOW_STATE_DB"), dir && *dir ? dir : ".flowstate", p->name, read_only, &e);
    if (!st) fprintf(stderr, "%s: %s\n", prog, e.msg);
    return st;
}

/* A flow's run lock: 0 with *lk held; else, after saying why on stderr and, when why is given, in
 * why (class intermittent for a flow that is running: it can start once that run ends), 2 when
 * another process runs the flow, 1 when the lock file cannot be had. */
static int lock_flow(FlowState *st, const char *prog, const char *flow, FlowLock **lk, FlowErr *why) {
    long holder = 0;
    FlowErr e;
    int r = flow_state_lock(st, flow, lk, &holder, &e);
    if (r > 0 && holder) flow_err_set(&e, FLOW_ERR_INTERMITTENT, "flow %s is already running (pid %ld)", flow, holder);
    else if (r > 0) flow_err_set(&e, FLOW_ERR_INTERMITTENT, "flow %s is already running", flow);
    if (r) fprintf(stderr, "%s: %s\n", prog, e.msg);
    if (r && why) *why = e;
    return r > 0 ? 2 : r < 0 ? 1 : 0;
}

/* ---- run ---- */

static void print_summary(const FlowRunStats *st) {
    fprintf(stderr, "flow %s: %sexported %ld, ignored %ld", st->flow, st->interrupted ? "interrupted; " : st->failed ? "failed; " : "",
            st->exported, st->ignored);
    if (st->nimports) {
        fputs(", imported", stderr);
        for (int i = 0; i < st->nimports; i++) fprintf(stderr, " %s=%ld", st->import_names[i], st->imported[i]);
    }
    if (st->not_written) fprintf(stderr, ", not written %ld", st->not_written);
    fprintf(stderr, ", errors %ld", st->errors);
    if (st->errors) {
        int any = 0;
        for (int c = 0; c < FLOW_ERR_COUNT; c++)
            if (st->by_class[c]) fprintf(stderr, "%s%s=%ld", any++ ? " " : " (", flow_error_class_names[c], st->by_class[c]);
        fputc(')', stderr);
    }
    fputc('\n', stderr);
}

static void print_json(const FlowRunStats *st) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "flow", st->flow);
    cJSON_AddNumberToObject(o, "exported", (double)st->exported);
    cJSON_AddNumberToObject(o, "ignored", (double)st->ignored);
    cJSON_AddNumberToObject(o, "errors", (double)st->errors);
    cJSON *im = cJSON_AddObjectToObject(o, "imported");
    for (int i = 0; i < st->nimports; i++) cJSON_AddNumberToObject(im, st->import_names[i], (double)st->imported[i]);
    if (st->not_written) cJSON_AddNumberToObject(o, "not_written", (double)st->not_written);
    if (st->failed) cJSON_AddStringToObject(o, "failed", st->fail_msg);
    if (st->failed && st->fail_class && !st->interrupted) cJSON_AddStringToObject(o, "class", st->fail_class);
    if (st->interrupted) cJSON_AddStringToObject(o, "interrupted", st->interrupted == SIGINT ? "SIGINT" : "SIGTERM");
    char *t = flow_json_print(o);
    if (t) printf("%s\n", t);
    cJSON_free(t);
    cJSON_Delete(o);
}

/* SIGTERM and SIGINT stop a run at its next safe point; the same signal again ends the process at
 * once (flow_stop_signal, engine.c). */
typedef struct Handlers { struct sigaction term, intr; } Handlers;

static void catch_signals(Handlers *old) {
    flow_interrupt(0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = flow_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old->term);
    sigaction(SIGINT, &sa, &old->intr);
}

static void release_signals(const Handlers *old) {
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGINT, &old->intr, NULL);
}

/* The flows a run runs, in order: the given ones (in their order; every flow in source order when
 * none is named) and, with chain, every flow chained after them by after() (transitively), each
 * placed right after the flow it runs after, its siblings in source order. pred[k]: the position in
 * order of the flow that order[k] runs after, when that one is in this run too, else -1. Each flow
 * runs once. Returns how many. cx has the params. */
static int run_order(const FlowProgram *p, FlowCtx *cx, const int *named, int nnamed, int chain, int *order, int *pred) {
    int nf = p->nflows;
    int *after = flow_xcalloc((size_t)nf + 1, sizeof *after), *in = flow_xcalloc((size_t)nf + 1, sizeof *in);
    int *anc = flow_xcalloc((size_t)nf + 1, sizeof *anc), *pos = flow_xcalloc((size_t)nf + 1, sizeof *pos);
    for (int i = 0; i < nf; i++) { after[i] = flow_after_of(p, cx, i); pos[i] = -1; }
    for (int k = 0; k < nnamed; k++) in[named[k]] = 1;
    for (int changed = chain; changed;) {   /* what is chained after the set joins it */
        changed = 0;
        for (int i = 0; i < nf; i++)
            if (!in[i] && after[i] >= 0 && in[after[i]]) in[i] = changed = 1;
    }
    /* each flow's nearest ancestor (through after()) in the set, -1 for none; chains are acyclic
     * (the checker), and the walk is bounded anyway */
    for (int i = 0; i < nf; i++) {
        anc[i] = -1;
        int a = after[i];
        for (int steps = 0; a >= 0 && steps < nf && anc[i] < 0; steps++) {
            if (in[a] && a != i) anc[i] = a;
            a = after[a];
        }
    }
    int n = 0;
    /* a depth-first walk from each root (a flow of the set without an ancestor in it) */
    int *stack = flow_xcalloc((size_t)nf + 1, sizeof *stack);
    for (int k = 0; k < nnamed; k++) {
        int root = named[k];
        if (anc[root] >= 0 || pos[root] >= 0) continue;
        int sp = 0;
        stack[sp++] = root;
        while (sp) {
            int x = stack[--sp];
            if (pos[x] >= 0) continue;
            pos[x] = n;
            pred[n] = anc[x] >= 0 ? pos[anc[x]] : -1;
            order[n++] = x;
            for (int g = nf - 1; g >= 0; g--)   /* pushed backwards: popped in source order */
                if (in[g] && anc[g] == x && pos[g] < 0 && sp < nf) stack[sp++] = g;
        }
    }
    free(stack);
    free(after);
    free(in);
    free(anc);
    free(pos);
    return n;
}

/* the live progress line of `run` on a terminal: redrawn after a page, at most 10 times a second */
typedef struct Progress { const char *flow; struct timespec t0, last; int drawn; } Progress;

static void progress_line(void *arg, const FlowRunStats *st, long pages) {
    Progress *pg = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double since_last = (double)(now.tv_sec - pg->last.tv_sec) + (double)(now.tv_nsec - pg->last.tv_nsec) / 1e9;
    if (pg->drawn && since_last < 0.1) return;
    double secs = (double)(now.tv_sec - pg->t0.tv_sec) + (double)(now.tv_nsec - pg->t0.tv_nsec) / 1e9;
    fprintf(stderr, "\r\033[Kflow %s: %ld records, %ld page%s, %.0f records/s, %ld error%s", pg->flow, st->exported, pages,
            pages == 1 ? "" : "s", secs > 0 ? (double)st->exported / secs : 0.0, st->errors, st->errors == 1 ? "" : "s");
    fflush(stderr);
    pg->last = now;
    pg->drawn = 1;
}

/* FLOW_RUN_ID: the run id a caller chose (flowc server names a job's runs job-N, so its history and
 * errors name the job); 1 to 39 of [A-Za-z0-9._-], else NULL and the run makes its own */
static const char *env_run_id(void) {
    const char *id = getenv("FLOW_RUN_ID");
    size_t n = id ? strlen(id) : 0;
    if (!n || n >= sizeof ((FlowRunInfo *)0)->run_id) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9') || strchr("._-", id[i]))) return NULL;
    return id;
}

/* A debug window (flowc server's POST /v1/connections/{id}/debug): FLOW_DEBUG_CONNECTIONS names the
 * connections (comma-separated) whose requests the run appends, redacted, to FLOW_DEBUG_FILE as NDJSON
 * (trace.c). A file that cannot be opened is said, and the run goes on without. */
static FILE *debug_stream(const char *prog, FlowRunInfo *ri) {
    const char *c = getenv("FLOW_DEBUG_CONNECTIONS"), *f = getenv("FLOW_DEBUG_FILE");
    if (!c || !*c || !f || !*f) return NULL;
    FILE *d = fopen(f, "ae");
    if (!d) {
        fprintf(stderr, "%s: warning: cannot record the debug window's requests in %s: %s\n", prog, f, strerror(errno));
        return NULL;
    }
    ri->debug = d;
    ri->debug_conns = c;
    return d;
}

/* retry: the kept errors to run again (`errors retry`), or the records pushed into a step (`push`:
 * push set; such a run takes no run lock — it moves no delta time or once() flag — so pushes and a
 * run of the flow go on side by side) */
static int cmd_run_with(const FlowProgram *p, const char *prog, const Opts *o, const cJSON *retry, int push) {
    int *which = calloc((size_t)(o->nflows ? o->nflows : p->nflows) + 1, sizeof *which);
    if (!which) abort();
    int n = 0;
    if (!o->nflows) for (int i = 0; i < p->nflows; i++) which[n++] = i;
    for (int k = 0; k < o->nflows; k++) {
        int found = -1;
        for (int i = 0; i < p->nflows && found < 0; i++) if (strcmp(p->flows[i].name, o->flows[k]) == 0) found = i;
        if (found < 0) {
            fprintf(stderr, "%s: unknown flow `%s`", prog, o->flows[k]);
            for (int i = 0; i < p->nflows; i++) fprintf(stderr, "%s%s", i ? ", " : " (flows: ", p->flows[i].name);
            fprintf(stderr, "%s\n", p->nflows ? ")" : "");
            free(which);
            return 1;
        }
        which[n++] = found;
    }
    int64_t start = flow_wall_ms(), since = 0, until = 0;
    if (parse_time_opt(prog, "--now", o->now, &start) || parse_time_opt(prog, "--since", o->since, &since)
        || parse_time_opt(prog, "--until", o->until, &until)) {
        free(which);
        return 1;
    }
    /* an inverted window would export nothing, and say nothing about it */
    if (o->since && since > (o->until ? until : start)) {
        char a[32];
        flow_format_iso8601(start, a);
        if (o->until) fprintf(stderr, "%s: --since %s is later than --until %s: the window would be empty\n", prog, o->since, o->until);
        else fprintf(stderr, "%s: --since %s is later than the run's start %s: the window would be empty\n", prog, o->since, a);
        free(which);
        return 2;
    }
    FlowCtx *cx = flow_ctx_new();
    cJSON **owned = calloc((size_t)p->nparams + 1, sizeof *owned);
    if (!owned) abort();
    int rc = 0;
    FlowState *state = NULL;
    int *pred = NULL, *outcome = NULL;
    if (set_params(p, cx, o, 1, prog, owned)) rc = 1;
    else if (!(state = open_state(p, prog, o, 0))) rc = 1;
    else {
        /* the order: each flow after the one it runs after(), and what is chained after the flows
         * named (not for a retry, nor with --no-chain) */
        int *order = flow_xcalloc((size_t)p->nflows + 1, sizeof *order);
        pred = flow_xcalloc((size_t)p->nflows + 1, sizeof *pred);
        outcome = flow_xcalloc((size_t)p->nflows + 1, sizeof *outcome);
        n = run_order(p, cx, which, n, !retry && !o->no_chain, order, pred);
        free(which);
        which = order;
        FlowRunInfo ri;
        flow_run_info_init(&ri, start);
        const char *rid = env_run_id();
        if (rid) memcpy(ri.run_id, rid, strlen(rid) + 1);
        ri.state = state;
        ri.retry = retry;
        if (o->since) { ri.since_ms = since; ri.since_set = 1; }
        if (o->until) { ri.until_ms = until; ri.until_set = 1; }
        /* --now is a testing aid: the run moves no saved time, unless a test suite asks for runs at
         * fixed times that do (FLOW_TEST_CLOCK=1) */
        const char *tc = getenv("FLOW_TEST_CLOCK");
        if (o->now && !(tc && strcmp(tc, "1") == 0)) ri.now_set = 1;
        FILE *debug = debug_stream(prog, &ri);
        Handlers old;
        catch_signals(&old);
        for (int k = 0; k < n; k++) {
            if (flow_interrupted()) {   /* between flows: the rest do not start */
                int sig = flow_interrupted();
                fprintf(stderr, "%s: interrupted by %s: flow %s and the ones after it did not run\n", prog,
                        sig == SIGINT ? "SIGINT" : "SIGTERM", p->flows[which[k]].name);
                rc = 128 + sig;
                break;
            }
            if (pred[k] >= 0 && outcome[pred[k]] != 1) {   /* after(A): only when A ran and did not fail */
                fprintf(stderr, "%s: flow %s did not run: it runs after %s, which %s\n", prog, p->flows[which[k]].name,
                        p->flows[which[pred[k]]].name, outcome[pred[k]] == 2 ? "did not run" : "failed");
                outcome[k] = 2;
                if (!rc) rc = 1;
                continue;
            }
            outcome[k] = 3;   /* failed, until it did not */
            FlowLock *lk = NULL;
            FlowRunStats st;
            FlowErr why;
            int lr = push ? 0 : lock_flow(state, prog, p->flows[which[k]].name, &lk, &why);
            if (lr) {   /* a failed run, in --json too; another process runs it: the history counts the start as skipped */
                FlowErr se;
                if (lr == 2) flow_state_run_skipped(state, p->flows[which[k]].name, ri.run_id, flow_wall_ms(), "skipped", retry ? "retry" : "run",
                                                    -1, 0, why.msg, &se);
                if (o->json) {
                    flow_run_stats_failed(p, which[k], &st, why.cls, why.msg);
                    print_json(&st);
                    flow_run_stats_free(&st);
                }
                if (rc != 2) rc = 1;
                continue;
            }
            FlowErr ae;
            int gone = push ? 0 : flow_state_runs_abandoned(state, p->flows[which[k]].name, flow_wall_ms(), &ae);
            if (gone > 0)
                fprintf(stderr, "%s: flow %s: %d earlier run%s left running by a process that ended without recording it: marked crashed\n",
                        prog, p->flows[which[k]].name, gone, gone == 1 ? " was" : "s were");
            /* the history says why it ran (the engine writes the rest) */
            if (flow_state_run_planned(state, p->flows[which[k]].name, ri.run_id, ri.started_ms, push ? "push" : retry ? "retry" : "run", -1, 0, &ae)) {
                fprintf(stderr, "%s: %s\n", prog, ae.msg);
                flow_state_unlock(lk);
                rc = 1;
                continue;
            }
            Progress pg = { p->flows[which[k]].name, { 0, 0 }, { 0, 0 }, 0 };
            clock_gettime(CLOCK_MONOTONIC, &pg.t0);
            ri.on_page = !o->quiet && isatty(STDERR_FILENO) ? progress_line : NULL;
            ri.on_page_arg = &pg;
            int r = flow_run_flow(p, cx, which[k], &ri, stderr, &st);
            if (pg.drawn) fputs("\r\033[K", stderr);   /* the summary takes the progress line's place */
            flow_state_unlock(lk);
            if (r == 0) outcome[k] = 1;
            if (st.interrupted) {   /* 130 for SIGINT, 143 for SIGTERM, as a shell reports them */
                fprintf(stderr, "error: flow %s: interrupted by %s: the page being read was dropped and what the connections "
                                "wrote in this run discarded as for any failed run; the delta time did not move\n",
                        p->flows[which[k]].name, st.interrupted == SIGINT ? "SIGINT" : "SIGTERM");
                print_summary(&st);
                if (o->json) print_json(&st);
                rc = 128 + st.interrupted;
                flow_run_stats_free(&st);
                for (int j = k + 1; j < n; j++) fprintf(stderr, "%s: flow %s did not run\n", prog, p->flows[which[j]].name);
                break;
            }
            if (r < 0) fprintf(stderr, "error: flow %s: %s\n", p->flows[which[k]].name, st.fail_msg);
            print_summary(&st);
            if (o->json) print_json(&st);
            if (r < 0 && st.refused) rc = 2;
            else if (r < 0 && rc != 2) rc = 1;
            else if (st.errors && rc == 0) rc = 3;
            flow_run_stats_free(&st);
        }
        release_signals(&old);
        if (debug) fclose(debug);
        if (flush_stdout(prog) && rc < 128) rc = 1;
    }
    for (int i = 0; i < p->nparams; i++) cJSON_Delete(owned[i]);
    free(owned);
    flow_ctx_free(cx);
    free(which);
    free(pred);
    free(outcome);
    flow_state_close(state);
    return rc;
}

/* ---- errors and state ---- */

static int parse_ids(const char *prog, const Opts *o, int from, long **ids) {
    int n = 0;
    *ids = calloc((size_t)o->nflows + 1, sizeof **ids);
    if (!*ids) abort();
    for (int i = from; i < o->nflows; i++) {
        char *end;
        long v = strtol(o->flows[i], &end, 10);
        if (!*o->flows[i] || *end || v <= 0) {
            fprintf(stderr, "%s: `%s` is not an error id\n", prog, o->flows[i]);
            free(*ids);
            *ids = NULL;
            return -1;
        }
        (*ids)[n++] = v;
    }
    return n;
}

/* a JSON array of the state store (errors, state, runs --json) on stdout, one line */
static void print_json_array(const cJSON *a) {
    char *t = flow_json_print(a);
    printf("%s\n", t ? t : "[]");
    cJSON_free(t);
}

static void print_error_line(const cJSON *e) {
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(e, "record");
    char *r = flow_json_print(rec);
    printf("%d  %s  %s  [%s]  %s  (%s, %s%s%s)\n  record: %.300s%s\n", (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "id")),
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "flow")), cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "step")),
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "class")), cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message")),
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "at")), cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "status")),
           cJSON_GetObjectItemCaseSensitive(e, "resolved_by") ? " by " : "",
           cJSON_GetObjectItemCaseSensitive(e, "resolved_by") ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "resolved_by")) : "",
           r ? r : "null", r && strlen(r) > 300 ? "..." : "");
    cJSON_free(r);
}

/* ---- the error store's filters: a value that names nothing is a usage error, not "0 errors" ---- */

/* the labels of the steps that can keep errors (exports, lookups, imports, unnamed transforms and
 * filters), branch arms included, each once, into names; *found when want is among them */
static void step_names(const FlowStepDef *steps, int n, cJSON *names, const char *want, int *found, int depth) {
    for (int i = 0; i < n && depth < 64; i++) {
        char label[96];
        flow_step_label(&steps[i], label, sizeof label);
        if (steps[i].kind != FLOW_STEP_BRANCH) {
            if (want && strcmp(label, want) == 0) *found = 1;
            int seen = 0;
            for (const cJSON *x = names->child; x && !seen; x = x->next) seen = strcmp(x->valuestring, label) == 0;
            if (!seen) cJSON_AddItemToArray(names, cJSON_CreateString(label));
        }
        for (int a = 0; a < steps[i].narms; a++) step_names(steps[i].arms[a].steps, steps[i].arms[a].nsteps, names, want, found, depth + 1);
    }
}

/* --flow, --class, --step name a flow, a class, a step (of the program, or of kept errors): 0, or 2
 * after saying what they could be */
static int check_filters(const FlowProgram *p, const char *prog, const Opts *o, FlowState *st) {
    if (o->cls) {
        int ok = 0;
        for (int c = 0; c < FLOW_ERR_COUNT; c++) ok |= strcmp(o->cls, flow_error_class_names[c]) == 0;
        if (!ok) {
            fprintf(stderr, "%s errors: unknown class `%s` (classes:", prog, o->cls);
            for (int c = 0; c < FLOW_ERR_COUNT; c++) fprintf(stderr, "%s %s", c ? "," : "", flow_error_class_names[c]);
            fprintf(stderr, ")\n");
            return 2;
        }
    }
    int fi = -1;
    if (o->flow) {
        for (int i = 0; i < p->nflows && fi < 0; i++) if (strcmp(p->flows[i].name, o->flow) == 0) fi = i;
        if (fi < 0 && !flow_state_knows(st, 0, NULL, o->flow)) {
            fprintf(stderr, "%s errors: unknown flow `%s` (flows:", prog, o->flow);
            for (int i = 0; i < p->nflows; i++) fprintf(stderr, "%s %s", i ? "," : "", p->flows[i].name);
            fprintf(stderr, ")\n");
            return 2;
        }
    }
    if (o->step) {
        cJSON *names = cJSON_CreateArray();
        int found = 0;
        for (int i = 0; i < p->nflows; i++)
            if (fi < 0 ? !o->flow : i == fi) step_names(p->flows[i].steps, p->flows[i].nsteps, names, o->step, &found, 0);
        int rc = 0;
        if (!found && !flow_state_knows(st, 1, o->flow, o->step)) {
            fprintf(stderr, "%s errors: unknown step `%s`", prog, o->step);
            if (o->flow) fprintf(stderr, " in flow %s", o->flow);
            for (const cJSON *x = names->child; x; x = x->next) fprintf(stderr, "%s%s", x == names->child ? " (steps: " : ", ", x->valuestring);
            fprintf(stderr, "%s\n", names->child ? ")" : "");
            rc = 2;
        }
        cJSON_Delete(names);
        if (rc) return rc;
    }
    return 0;
}

/* A JSON record (an object) from text, through the one JSON reader: the tree, or NULL after saying
 * why (what: where it came from) */
static cJSON *record_text(const char *prog, const char *text, size_t n, const char *what, long id, const char *kept) {
    FlowJsonError je;
    cJSON *j = flow_json_parse(text, n, &je);
    char tail[600] = "";
    if (kept) snprintf(tail, sizeof tail, "; the edit is in %s", kept);
    if (!j) {
        fprintf(stderr, "%s: %s is not valid JSON (line %ld, column %ld: %s); error %ld keeps its record%s\n", prog, what, je.line,
                je.col, je.msg, id, tail);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        fprintf(stderr, "%s: %s must be a JSON object (a record), not %s; error %ld keeps its record%s\n", prog, what,
                flow_json_desc(j), id, tail);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* a file's whole text (malloc'd, *n bytes), or NULL with errno */
static char *slurp(const char *path, size_t max, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    FlowSb b = { 0 };
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.n <= max) flow_sb_put(&b, buf, n);
    int bad = ferror(f) || b.n > max;
    fclose(f);
    if (bad) { free(b.p); errno = b.n > max ? EFBIG : EIO; return NULL; }
    *len = b.n;
    return flow_sb_take(&b);
}

/* stores rec as error id's record, its old one kept in its history: 0, or 1 after a message */
static int store_record(const char *prog, FlowState *st, long id, const cJSON *rec, const char *by) {
    char *t = flow_json_print(rec);
    FlowErr e;
    int r = flow_state_error_edit(st, id, t ? t : "null", by, flow_wall_ms(), &e);
    cJSON_free(t);
    if (r < 0) fprintf(stderr, "%s: %s\n", prog, e.msg);
    else if (r > 0) fprintf(stderr, "%s: no open error %ld\n", prog, id);
    return r ? 1 : 0;
}

/* errors edit ID: the record in $VISUAL / $EDITOR (vi), as git does: `sh -c '$EDITOR "$@"' FILE`.
 * The text that comes back must be a JSON object; the old record stays in the error's history. */
static int edit_error(const char *prog, FlowState *st, long id) {
    FlowErr e;
    cJSON *list = flow_state_errors(st, NULL, NULL, NULL, &id, 1, 1, &e);
    if (!list) { fprintf(stderr, "%s: %s\n", prog, e.msg); return 1; }
    if (!list->child) { fprintf(stderr, "%s: no open error %ld\n", prog, id); cJSON_Delete(list); return 1; }
    char *text = flow_json_print_pretty(cJSON_GetObjectItemCaseSensitive(list->child, "record"));
    cJSON_Delete(list);
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/flowc-error-%ld-XXXXXX.json", tmp && *tmp ? tmp : "/tmp", id);
    int fd = mkstemps(path, 5);   /* mode 0600 */
    if (fd < 0) { fprintf(stderr, "%s: cannot make a file to edit in: %s: %s\n", prog, path, strerror(errno)); cJSON_free(text); return 1; }
    size_t len = strlen(text ? text : "null");
    int bad = write(fd, text ? text : "null", len) != (ssize_t)len || write(fd, "\n", 1) != 1;
    bad |= close(fd) != 0;
    if (bad) { fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno)); unlink(path); cJSON_free(text); return 1; }
    const char *ed = getenv("VISUAL");
    if (!ed || !*ed) ed = getenv("EDITOR");
    if (!ed || !*ed) ed = "vi";
    char *cmd = flow_xcalloc(1, strlen(ed) + 16);
    sprintf(cmd, "%s \"$@\"", ed);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, ed, path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    free(cmd);
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: the editor `%s` failed (%s %d); error %ld keeps its record\n", prog, ed,
                pid < 0 ? "fork" : WIFEXITED(status) ? "exit" : "signal", pid < 0 ? errno : WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), id);
        unlink(path);
        cJSON_free(text);
        return 1;
    }
    size_t el = 0;
    char *edited = slurp(path, FLOW_PAGE_MAX_BYTES, &el);
    if (!edited) { fprintf(stderr, "%s: cannot read %s: %s\n", prog, path, strerror(errno)); cJSON_free(text); return 1; }
    int rc = 0;
    if (el == len + 1 && strncmp(edited, text ? text : "null", len) == 0) {
        fprintf(stderr, "error %ld: the record was not changed\n", id);
        unlink(path);
    } else {
        cJSON *rec = record_text(prog, edited, el, "the edited record", id, path);
        if (!rec) rc = 1;   /* the edit stays where it is, for another go */
        else {
            rc = store_record(prog, st, id, rec, "errors edit");
            if (!rc) fprintf(stderr, "error %ld: record replaced (the old one is kept in its history); `errors retry %ld` runs it again\n", id, id);
            unlink(path);
        }
        cJSON_Delete(rec);
    }
    free(edited);
    cJSON_free(text);
    return rc;
}

static int cmd_errors(const FlowProgram *p, const char *prog, const Opts *o) {
    const char *sub = o->nflows ? o->flows[0] : "list";
    int list = strcmp(sub, "list") == 0, retry = strcmp(sub, "retry") == 0, resolve = strcmp(sub, "resolve") == 0;
    int edit = strcmp(sub, "edit") == 0;
    if (!list && !retry && !resolve && !edit) {
        fprintf(stderr, "%s errors: unknown subcommand `%s` (list, retry, resolve, edit)\n", prog, sub);
        return 2;
    }
    long *ids = NULL;
    int nids = parse_ids(prog, o, 1, &ids);
    if (nids < 0) return 2;
    const char *why = NULL;
    int filters = o->flow || o->cls || o->step;
    if (list && nids) why = "errors list: takes no ids (use --flow, --class, --step)";
    else if ((retry || resolve) && !nids && !o->all) why = retry ? "errors retry: give error ids or --all" : "errors resolve: give error ids or --all";
    else if ((retry || resolve) && nids && (o->all || filters)) why = "give error ids, or --all narrowed by --flow, --class, --step; not both";
    else if (edit && (nids != 1 || o->all || filters)) why = "errors edit: give one error id";
    else if (o->data && (!retry || nids != 1)) why = "--data FILE goes with `errors retry ID` (one id)";
    if (why) { fprintf(stderr, "%s %s\n", prog, why); free(ids); return 2; }
    FlowState *st = open_state(p, prog, o, list);
    if (!st) { free(ids); return 1; }
    FlowErr e;
    int rc = check_filters(p, prog, o, st);
    if (rc) {
    } else if (list) {
        cJSON *l = flow_state_errors(st, o->flow, o->cls, o->step, NULL, 0, !o->all, &e);
        if (!l) { fprintf(stderr, "%s: %s\n", prog, e.msg); rc = 1; }
        else if (o->json) print_json_array(l);
        else {
            for (const cJSON *x = l->child; x; x = x->next) print_error_line(x);
            fprintf(stderr, "%d %serror%s\n", cJSON_GetArraySize(l), o->all ? "" : "open ", cJSON_GetArraySize(l) == 1 ? "" : "s");
        }
        cJSON_Delete(l);
    } else if (edit) {
        rc = edit_error(prog, st, ids[0]);
    } else if (resolve) {
        long *which = ids;
        int n = nids;
        cJSON *l = NULL;
        if (o->all) {   /* every open error the filters select */
            l = flow_state_errors(st, o->flow, o->cls, o->step, NULL, 0, 1, &e);
            if (!l) { fprintf(stderr, "%s: %s\n", prog, e.msg); rc = 1; }
            n = l ? cJSON_GetArraySize(l) : 0;
            which = flow_xcalloc((size_t)n + 1, sizeof *which);
            int k = 0;
            for (const cJSON *x = l ? l->child : NULL; x; x = x->next)
                which[k++] = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "id"));
            if (l && !n) fprintf(stderr, "no open errors to resolve\n");
        }
        for (int i = 0; i < n && !rc; i++) {
            int r = flow_state_error_resolve(st, which[i], "errors resolve", flow_wall_ms(), &e);
            if (r < 0) { fprintf(stderr, "%s: %s\n", prog, e.msg); rc = 1; break; }
            if (r > 0) { fprintf(stderr, "%s: no open error %ld\n", prog, which[i]); rc = 1; }
            else fprintf(stderr, "resolved %ld\n", which[i]);
        }
        if (which != ids) free(which);
        cJSON_Delete(l);
    } else {   /* retry: the kept errors run again, flow by flow, from their failing steps */
        if (o->data) {   /* with this record instead of the kept one, which goes to the history */
            size_t tl = 0;
            char *text = slurp(o->data, FLOW_PAGE_MAX_BYTES, &tl);
            cJSON *rec = NULL;
            char what[600];
            snprintf(what, sizeof what, "--data %s", o->data);
            if (!text) { fprintf(stderr, "%s: cannot read %s: %s\n", prog, o->data, strerror(errno)); rc = 1; }
            else if (!(rec = record_text(prog, text, tl, what, ids[0], NULL))) rc = 1;
            else rc = store_record(prog, st, ids[0], rec, "errors retry --data");
            cJSON_Delete(rec);
            free(text);
        }
        cJSON *l = rc ? NULL : flow_state_errors(st, o->flow, o->cls, o->step, nids ? ids : NULL, nids, 1, &e);
        if (!l && !rc) { fprintf(stderr, "%s: %s\n", prog, e.msg); rc = 1; }
        else if (l && nids && cJSON_GetArraySize(l) < nids) {
            fprintf(stderr, "%s: %d of the %d ids are not open errors\n", prog, nids - cJSON_GetArraySize(l), nids);
            rc = 1;
        }
        if (l && !rc) {
            if (!cJSON_GetArraySize(l)) fprintf(stderr, "no open errors to retry\n");
            Opts ro = *o;
            ro.nflows = 0;
            const char **fl = calloc((size_t)p->nflows + 1, sizeof *fl);
            if (!fl) abort();
            for (int i = 0; i < p->nflows; i++) {
                int any = 0;
                for (const cJSON *x = l->child; x && !any; x = x->next)
                    any = strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "flow")), p->flows[i].name) == 0;
                if (any) fl[ro.nflows++] = p->flows[i].name;
            }
            ro.flows = fl;
            flow_state_close(st);
            st = NULL;
            if (ro.nflows) rc = cmd_run_with(p, prog, &ro, l, 0);
            free(fl);
        }
        cJSON_Delete(l);
    }
    flow_state_close(st);
    free(ids);
    return rc;
}

/* A flow's export mode: all, delta, once or limit (a mode that needs the record is once's); NULL
 * for a flow the program does not have. cx has the params. *field: delta(field)'s field, or "". */
static const char *export_mode(const FlowProgram *p, FlowCtx *cx, const char *flow, char *field, size_t cap) {
    field[0] = 0;
    static const char *const modes[] = { "all", "delta", "once", "limit" };
    for (int fi = 0; fi < p->nflows; fi++) {
        const FlowFlowDef *f = &p->flows[fi];
        if (strcmp(f->name, flow) != 0) continue;
        const FlowStepDef *d = f->nsteps ? &f->steps[0] : NULL;
        for (int i = 0; d && i < d->nsettings; i++) {
            if (!d->settings[i].name || strcmp(d->settings[i].name, "mode") != 0) continue;
            if (d->settings[i].per_record) return "once";
            cJSON *m = flow_describe_setting(cx, &d->settings[i]);
            const char *c = cJSON_IsString(m) ? m->valuestring : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "ctor"));
            const char *r = modes[0];
            for (size_t k = 0; c && k < sizeof modes / sizeof modes[0]; k++) if (strcmp(c, modes[k]) == 0) r = modes[k];
            const char *fd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "field"));
            if (fd) snprintf(field, cap, "%s", fd);
            cJSON_Delete(m);
            return r;
        }
        return modes[0];
    }
    return NULL;
}

static int cmd_state(const FlowProgram *p, const char *prog, const Opts *o) {
    const char *sub = o->nflows ? o->flows[0] : "show";
    const char *flow = o->nflows > 1 ? o->flows[1] : NULL;
    if ((strcmp(sub, "show") && strcmp(sub, "reset")) || o->nflows > 2) {
        fprintf(stderr, "%s state: use `state show [FLOW]` or `state reset [FLOW]`\n", prog);
        return 2;
    }
    if (flow) {
        int found = 0;
        for (int i = 0; i < p->nflows; i++) found |= strcmp(p->flows[i].name, flow) == 0;
        if (!found) { fprintf(stderr, "%s: unknown flow `%s`\n", prog, flow); return 1; }
    }
    FlowState *st = open_state(p, prog, o, strcmp(sub, "show") == 0);
    if (!st) return 1;
    FlowErr e;
    int rc = 0;
    if (strcmp(sub, "reset") == 0) {   /* not under a running flow's feet: its end would save its own time */
        FlowLock **lks = flow_xcalloc((size_t)p->nflows + 1, sizeof *lks);
        for (int i = 0; i < p->nflows && !rc; i++)
            if (!flow || strcmp(p->flows[i].name, flow) == 0) rc = lock_flow(st, prog, p->flows[i].name, &lks[i], NULL) ? 1 : 0;
        if (!rc && flow_state_reset(st, flow, &e)) { fprintf(stderr, "%s: %s\n", prog, e.msg); rc = 1; }
        else if (!rc) fprintf(stderr, "reset the delta time of %s\n", flow ? flow : "every flow");
        for (int i = 0; i < p->nflows; i++) flow_state_unlock(lks[i]);
        free(lks);
    } else {
        cJSON *s = flow_state_show(st, flow, &e);
        /* each flow's mode, for what its state means: only a delta flow has a delta window */
        FlowCtx *cx = flow_ctx_new();
        cJSON **owned = flow_xcalloc((size_t)p->nparams + 1, sizeof *owned);
        if (s && set_params(p, cx, o, 0, prog, owned) == 0) {
            FlowRunInfo ri;
            flow_run_info_init(&ri, flow_wall_ms());
            flow_ctx_set_now(cx, ri.started_ms);
            flow_run_set_contexts(cx, &ri, NULL, 0, FLOW_PAGE_SIZE_DEFAULT);
            for (cJSON *x = s->child; x; x = x->next) {
                char field[128];
                const char *m = export_mode(p, cx, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "flow")), field, sizeof field);
                cJSON_AddItemToObject(x, "mode", m ? cJSON_CreateString(m) : cJSON_CreateNull());
                if (field[0]) cJSON_AddStringToObject(x, "delta_field", field);
            }
        }
        for (int i = 0; i < p->nparams; i++) cJSON_Delete(owned[i]);
        free(owned);
        flow_ctx_free(cx);
        if (!s) { fprintf(stderr, "%s: %s\n", prog, e.msg); rc = 1; }
        else if (o->json) print_json_array(s);
        else {
            printf("state store %s\n", flow_state_path(st));
            for (const cJSON *x = s->child; x; x = x->next) {
                const cJSON *ds = cJSON_GetObjectItemCaseSensitive(x, "delta_since");
                const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "mode"));
                printf("%s: ", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "flow")));
                const char *lay = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "delta_layout"));
                const char *fd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "delta_field"));
                if (mode && strcmp(mode, "delta") == 0) {
                    printf("delta from %s", cJSON_IsString(ds) ? ds->valuestring : "the beginning (never succeeded)");
                    if (lay && fd) printf(" (%s written as %s)", fd, lay);
                    printf("; ");
                }
                else if (mode && strcmp(mode, "once") == 0)
                    printf("once() flags set: %d; ", (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "once_marked")));
                double nerr = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "open_errors"));
                printf("last run %s (%s); %d open error%s\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "last_run_id")),
                       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "last_status")), (int)nerr, nerr == 1 ? "" : "s");
            }
        }
        cJSON_Delete(s);
    }
    flow_state_close(st);
    return rc;
}

static int cmd_run(const FlowProgram *p, const char *prog, const Opts *o) { return cmd_run_with(p, prog, o, NULL, 0); }

static int only_options(const char *prog, const char *cmd, const Opts *o, const char *allowed);

/* the import named `name` among steps (branch arms included) */
static const FlowStepDef *find_import(const FlowStepDef *steps, int n, const char *name, int depth) {
    for (int i = 0; i < n && depth < 64; i++) {
        if (steps[i].kind == FLOW_STEP_IMPORT && steps[i].name && strcmp(steps[i].name, name) == 0) return &steps[i];
        for (int a = 0; a < steps[i].narms; a++) {
            const FlowStepDef *d = find_import(steps[i].arms[a].steps, steps[i].arms[a].nsteps, name, depth + 1);
            if (d) return d;
        }
    }
    return NULL;
}

/* push FLOW IMPORT --data FILE|-: the records of FILE (a JSON array of objects) enter FLOW at its
 * import IMPORT, as records reaching it in a run do (its mapping, then the steps after it); one page.
 * A record that fails is kept in the error store with the trace key RUNID:N (N from 1, its place in
 * the array). Exit codes as run's. */
static int cmd_push(const FlowProgram *p, const char *prog, const Opts *o) {
    if (only_options(prog, "push", o, "--data --param --env --environment --json --state --quiet")) return 2;
    if (o->nflows != 2 || !o->data) {
        fprintf(stderr, "%s push: give FLOW IMPORT --data FILE (a JSON array of records; - for standard input)\n", prog);
        return 2;
    }
    int fi = -1;
    for (int i = 0; i < p->nflows && fi < 0; i++) if (strcmp(p->flows[i].name, o->flows[0]) == 0) fi = i;
    if (fi < 0) { fprintf(stderr, "%s push: unknown flow `%s`\n", prog, o->flows[0]); return 2; }
    if (!find_import(p->flows[fi].steps, p->flows[fi].nsteps, o->flows[1], 0)) {
        fprintf(stderr, "%s push: flow %s has no import `%s`\n", prog, o->flows[0], o->flows[1]);
        return 2;
    }
    size_t len = 0;
    char *text = NULL;
    if (strcmp(o->data, "-") == 0) {
        FlowSb b = { 0 };
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0 && b.n <= FLOW_PAGE_MAX_BYTES) flow_sb_put(&b, buf, n);
        if (b.n > FLOW_PAGE_MAX_BYTES) { free(b.p); errno = EFBIG; }
        else { len = b.n; text = flow_sb_take(&b); }
    } else text = slurp(o->data, FLOW_PAGE_MAX_BYTES, &len);
    if (!text) { fprintf(stderr, "%s push: cannot read %s: %s\n", prog, o->data, strerror(errno)); return 1; }
    FlowJsonError je;
    cJSON *recs = flow_json_parse(text, len, &je);
    free(text);
    if (!cJSON_IsArray(recs)) {
        char where[240];
        if (recs) snprintf(where, sizeof where, "not a JSON array of records");
        else snprintf(where, sizeof where, "%ld:%ld: invalid JSON: %s", je.line, je.col, je.msg);
        fprintf(stderr, "%s push: %s: %s\n", prog, o->data, where);
        cJSON_Delete(recs);
        return 1;
    }
    const char *rid = env_run_id();   /* the same id the run takes */
    char run_key[48];
    snprintf(run_key, sizeof run_key, "%s", rid ? rid : "push");
    cJSON *list = cJSON_CreateArray();
    int i = 0, rc = 0;
    for (cJSON *r = recs->child; r; r = r->next, i++) {
        if (!cJSON_IsObject(r)) {
            fprintf(stderr, "%s push: %s: item %d is not a record (a JSON object)\n", prog, o->data, i + 1);
            rc = 1;
            break;
        }
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "flow", p->flows[fi].name);
        cJSON_AddStringToObject(e, "step", o->flows[1]);
        cJSON_AddItemToObject(e, "record", cJSON_Duplicate(r, 1));
        char key[80];
        snprintf(key, sizeof key, "%s:%d", run_key, i + 1);
        cJSON_AddStringToObject(e, "trace_key", key);
        cJSON_AddItemToArray(list, e);
    }
    cJSON_Delete(recs);
    if (!rc) {
        Opts ro = *o;
        const char *fl[1] = { p->flows[fi].name };
        ro.flows = fl;
        ro.nflows = 1;
        rc = cmd_run_with(p, prog, &ro, list, 1);
    }
    cJSON_Delete(list);
    return rc;
}

/* ---- serve and the run history ---- */

/* a command's options must be among `allowed` (valued ones by their index in parse_opts, flags by
 * name): 0, or 2 after saying which does not belong */
static int only_options(const char *prog, const char *cmd, const Opts *o, const char *allowed) {
    static const char *const names[] = { "--param", "--state", "--since", "--until", "--now", "--flow", "--class", "--step", "--data",
                                         "--listen", "--admin-token", "--limit", "--env", "--environment" };
    const char *bad = NULL;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]) && !bad; i++)
        if (o->given[i] && !strstr(allowed, names[i])) bad = names[i];
    if (!bad && o->json && !strstr(allowed, "--json")) bad = "--json";
    if (!bad && o->all && !strstr(allowed, "--all")) bad = "--all";
    if (!bad && o->quiet && !strstr(allowed, "--quiet")) bad = "--quiet";
    if (!bad && o->no_chain && !strstr(allowed, "--no-chain")) bad = "--no-chain";
    if (!bad) return 0;
    fprintf(stderr, "%s %s: %s does not go with %s (it takes %s)\n", prog, cmd, bad, cmd, allowed);
    return 2;
}

static int cmd_serve(const FlowProgram *p, const char *prog, const Opts *o) {
    if (only_options(prog, "serve", o, "--listen --param --env --environment --state --admin-token")) return 2;
    if (o->nflows) {
        fprintf(stderr, "%s serve: serves every flow of the program; it takes no flow names\n", prog);
        return 2;
    }
    const char *env_token = getenv("FLOW_ADMIN_TOKEN");
    if (o->admin_token && !*o->admin_token) {
        fprintf(stderr, "%s serve: --admin-token is empty\n", prog);
        return 2;
    }
    /* the token is kept here and wiped from the command line, which `ps` shows to everyone */
    char *token = o->admin_token ? flow_xstrdup(o->admin_token) : env_token && *env_token ? flow_xstrdup(env_token) : NULL;
    if (o->admin_token) memset((char *)o->admin_token, 'x', strlen(o->admin_token));
    FlowCtx *cx = flow_ctx_new();
    cJSON **owned = flow_xcalloc((size_t)p->nparams + 1, sizeof *owned);
    int rc = set_params(p, cx, o, 1, prog, owned);
    const char *sdb = getenv("FLOW_STATE_DB");
    if (!rc && sdb && *sdb) {   /* serve hands each run the flock it took, which a PostgreSQL lock cannot be */
        fprintf(stderr, "%s serve: keeps its runs' state in the SQLite store of --state (FLOW_STATE_DIR); unset FLOW_STATE_DB\n", prog);
        rc = 2;
    }
    if (!rc) {
        const char *dir = o->state ? o->state : getenv("FLOW_STATE_DIR");
        FlowServeConfig cfg = { prog, o->listen ? o->listen : "127.0.0.1:8080", token, dir && *dir ? dir : ".flowstate", stderr };
        FlowErr e;
        int r = flow_serve(p, cx, &cfg, &e);
        if (r < 0) { fprintf(stderr, "%s serve: %s\n", prog, e.msg); rc = 1; }
        else rc = r > 0 ? 128 + r : 0;   /* a second signal ended it at once */
    }
    for (int i = 0; i < p->nparams; i++) cJSON_Delete(owned[i]);
    free(owned);
    flow_ctx_free(cx);
    if (token) memset(token, 0, strlen(token));
    free(token);
    return rc;
}

/* `gate`: the schedules and webhooks of the program for flowc server (gate.c) */
static int cmd_gate(const FlowProgram *p, const char *prog, const Opts *o) {
    if (only_options(prog, "gate", o, "--param --env --environment --state")) return 2;
    if (o->nflows) { fprintf(stderr, "%s gate: takes no flow names\n", prog); return 2; }
    FlowCtx *cx = flow_ctx_new();
    cJSON **owned = flow_xcalloc((size_t)p->nparams + 1, sizeof *owned);
    int rc = set_params(p, cx, o, 1, prog, owned);
    if (!rc) {
        const char *dir = o->state ? o->state : getenv("FLOW_STATE_DIR");
        FlowErr e;
        if (flow_gate(p, cx, getenv("FLOW_STATE_DB"), dir && *dir ? dir : ".flowstate", stdin, stdout, &e)) { fprintf(stderr, "%s gate: %s\n", prog, e.msg); rc = 1; }
    }
    for (int i = 0; i < p->nparams; i++) cJSON_Delete(owned[i]);
    free(owned);
    flow_ctx_free(cx);
    return rc;
}

/* ends a usage message with the program's connections: " (connections: a, b)" and a newline */
static void conns_hint(const FlowProgram *p) {
    for (int i = 0; i < p->nconns; i++) fprintf(stderr, "%s%s", i ? ", " : " (connections: ", p->conns[i].name);
    fprintf(stderr, "%s\n", p->nconns ? ")" : "");
}

/* `ping CONNECTION`: the connection proven outside a run (probe.c), one JSON line on stdout; 0 ok, 1
 * not (the line says why, with the class a run would record), 2 usage */
static int cmd_ping(const FlowProgram *p, const char *prog, const Opts *o) {
    if (only_options(prog, "ping", o, "--param --env --environment")) return 2;
    if (o->nflows != 1) {
        fprintf(stderr, "%s ping: give one connection's name", prog);
        conns_hint(p);
        return 2;
    }
    FlowCtx *cx = flow_ctx_new();
    cJSON **owned = flow_xcalloc((size_t)p->nparams + 1, sizeof *owned);
    int rc = set_params(p, cx, o, 1, prog, owned);
    if (!rc) {
        cJSON *res = NULL;
        int r = flow_conn_probe(p, cx, o->flows[0], &res);
        if (r < 0) {
            fprintf(stderr, "%s ping: no connection `%s`", prog, o->flows[0]);
            conns_hint(p);
            rc = 2;
        } else {
            char *t = flow_json_print(res);
            printf("%s\n", t ? t : "null");
            cJSON_free(t);
            rc = r ? 1 : 0;
            if (flush_stdout(prog)) rc = 1;
        }
        cJSON_Delete(res);
    }
    for (int i = 0; i < p->nparams; i++) cJSON_Delete(owned[i]);
    free(owned);
    flow_ctx_free(cx);
    return rc;
}

static int cmd_runs(const FlowProgram *p, const char *prog, const Opts *o) {
    if (only_options(prog, "runs", o, "--flow --json --limit --state")) return 2;
    if (o->nflows) { fprintf(stderr, "%s runs: give the flow with --flow F\n", prog); return 2; }
    long limit = 20;
    if (o->limit) {
        char *end;
        errno = 0;
        limit = strtol(o->limit, &end, 10);
        if (!*o->limit || *end || errno || limit < 0) {
            fprintf(stderr, "%s runs: --limit takes a number of runs (0: all), not `%s`\n", prog, o->limit);
            return 2;
        }
    }
    FlowState *st = open_state(p, prog, o, 1);
    if (!st) return 1;
    int rc = 0;
    if (o->flow) {
        int found = 0;
        for (int i = 0; i < p->nflows; i++) found |= strcmp(p->flows[i].name, o->flow) == 0;
        if (!found) {
            FlowErr e;
            cJSON *any = flow_state_runs(st, o->flow, 1, &e);   /* a flow of an older version of the program */
            found = any && any->child;
            cJSON_Delete(any);
        }
        if (!found) {
            fprintf(stderr, "%s runs: unknown flow `%s` (flows:", prog, o->flow);
            for (int i = 0; i < p->nflows; i++) fprintf(stderr, "%s %s", i ? "," : "", p->flows[i].name);
            fprintf(stderr, ")\n");
            flow_state_close(st);
            return 2;
        }
    }
    FlowErr e;
    cJSON *l = flow_state_runs(st, o->flow, limit, &e);
    if (!l) { fprintf(stderr, "%s: %s\n", prog, e.msg); rc = 1; }
    else if (o->json) print_json_array(l);
    else {
        for (const cJSON *x = l->child; x; x = x->next) {
            const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "status"));
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(x, "duration_ms");
            char dur[32] = "-";
            if (cJSON_IsNumber(d) && status && strcmp(status, "skipped") != 0) snprintf(dur, sizeof dur, "%.3f s", d->valuedouble / 1000.0);
            const char *trig = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "trigger"));
            printf("%s  %s  %s  %s  %s  %s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "run_id")),
                   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "flow")), status ? status : "?",
                   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "started_at")), dur, trig ? trig : "-");
            if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "exported")))
                printf("  exported %.0f, ignored %.0f, imported %.0f, errors %.0f",
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "exported")),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "ignored")),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "imported")),
                       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "errors")));
            const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "message"));
            if (msg) printf("  %s", msg);
            putchar('\n');
        }
        if (!l->child) fprintf(stderr, "no runs%s%s\n", o->flow ? " of flow " : "", o->flow ? o->flow : "");
    }
    cJSON_Delete(l);
    flow_state_close(st);
    if (flush_stdout(prog)) rc = 1;
    return rc;
}

/* ---- describe ---- */

static cJSON *describe_settings(FlowCtx *cx, const FlowSettingDef *s, int n) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < n; i++)
        if (s[i].name) cJSON_AddItemToObject(o, s[i].name, flow_describe_setting(cx, &s[i]));
    return o;
}

static cJSON *describe_steps(const FlowProgram *p, FlowCtx *cx, const FlowStepDef *steps, int n, int depth) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n && depth < 64; i++) {
        const FlowStepDef *d = &steps[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "kind", (unsigned)d->kind < sizeof step_kinds / sizeof step_kinds[0] ? step_kinds[d->kind] : "?");
        if (d->name) cJSON_AddStringToObject(s, "name", d->name);
        if (d->conn >= 0 && d->conn < p->nconns) cJSON_AddStringToObject(s, "connection", p->conns[d->conn].name);
        if (d->line > 0) cJSON_AddNumberToObject(s, "line", d->line);
        if (d->nsettings) cJSON_AddItemToObject(s, "settings", describe_settings(cx, d->settings, d->nsettings));
        if (d->kind == FLOW_STEP_BRANCH) {
            cJSON_AddStringToObject(s, "match", d->all_matching ? "all_matching" : "first_match");
            cJSON *arms = cJSON_AddArrayToObject(s, "arms");
            for (int a = 0; a < d->narms; a++) {
                cJSON *arm = cJSON_CreateObject();
                if (d->arms[a].name) cJSON_AddStringToObject(arm, "name", d->arms[a].name);
                cJSON_AddBoolToObject(arm, "when", d->arms[a].cond != NULL);
                cJSON_AddItemToObject(arm, "steps", describe_steps(p, cx, d->arms[a].steps, d->arms[a].nsteps, depth + 1));
                cJSON_AddItemToArray(arms, arm);
            }
        }
        cJSON_AddItemToArray(arr, s);
    }
    return arr;
}

/* A flow's page size: its export's constant page_size, else the default (as a run uses them). */
static int64_t describe_page_size(FlowCtx *cx, const FlowFlowDef *f) {
    const FlowStepDef *ex = f->nsteps && f->steps[0].kind == FLOW_STEP_EXPORT ? &f->steps[0] : NULL;
    for (int i = 0; ex && i < ex->nsettings; i++) {
        const FlowSettingDef *d = &ex->settings[i];
        if (!d->name || strcmp(d->name, "page_size") != 0 || !d->konst) continue;
        FlowVal v = d->konst(cx);
        int64_t n = !flow_failed(cx) && v.kind == FLOW_INT ? v.i : 0;
        flow_scratch_reset(cx);
        flow_clear_error(cx);
        if (n >= 1) return n;
    }
    return FLOW_PAGE_SIZE_DEFAULT;
}

static int cmd_describe(const FlowProgram *p, const char *prog, const Opts *o) {
    FlowCtx *cx = flow_ctx_new();
    cJSON **owned = calloc((size_t)p->nparams + 1, sizeof *owned);
    if (!owned) abort();
    int64_t start = flow_wall_ms();
    int rc = parse_time_opt(prog, "--now", o->now, &start) || set_params(p, cx, o, 0, prog, owned);
    FlowState *state = NULL;
    int state_tried = 0;
    if (!rc) {
        FlowRunInfo ri;
        flow_run_info_init(&ri, start);
        flow_ctx_set_now(cx, start);
        flow_run_set_contexts(cx, &ri, NULL, 0, FLOW_PAGE_SIZE_DEFAULT);
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "integration", p->name ? p->name : "");
        if (p->version) cJSON_AddStringToObject(root, "version", p->version);
        if (p->source) cJSON_AddStringToObject(root, "source", p->source);
        if (p->environment) cJSON_AddStringToObject(root, "environment", p->environment);   /* built with --env */
        else cJSON_AddNullToObject(root, "environment");
        cJSON *params = cJSON_AddArrayToObject(root, "params");
        for (int i = 0; i < p->nparams; i++) {
            const FlowParamDef *d = &p->params[i];
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "name", d->name);
            char kind[40];
            snprintf(kind, sizeof kind, "%s%s", (unsigned)d->kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[d->kind] : "?",
                     d->nullable ? "?" : "");
            cJSON_AddStringToObject(j, "kind", kind);
            if (d->secret) cJSON_AddStringToObject(j, "value", "<redacted>");   /* it feeds a secret setting */
            else cJSON_AddItemToObject(j, "value", flow_val_to_json(flow_param(cx, i)));
            cJSON_AddItemToArray(params, j);
        }
        cJSON *conns = cJSON_AddArrayToObject(root, "connections");
        for (int i = 0; i < p->nconns; i++) {
            const FlowConnDef *d = &p->conns[i];
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "name", d->name);
            cJSON_AddStringToObject(j, "kind", d->kind);
            cJSON_AddItemToObject(j, "settings", describe_settings(cx, d->settings, d->nsettings));
            cJSON_AddItemToArray(conns, j);
        }
        cJSON *flows = cJSON_AddArrayToObject(root, "flows");
        for (int i = 0; i < p->nflows; i++) {
            const FlowFlowDef *f = &p->flows[i];
            /* settings are shown as the first page uses them: page.number 1, page.size the export's */
            int64_t page_size = describe_page_size(cx, f);
            flow_run_set_contexts(cx, &ri, f->name, 1, page_size);
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "name", f->name);
            cJSON_AddNumberToObject(j, "page_size", (double)page_size);
            if (f->nsettings) cJSON_AddItemToObject(j, "settings", describe_settings(cx, f->settings, f->nsettings));
            /* a webhook trigger: its path, verification (secrets redacted) and the URL to post to; a
             * secret_url()'s secret only with --show-secrets (made now when the store has none yet) */
            if (o->show_secrets && !state && !state_tried) {
                state_tried = 1;
                for (int k = 0; k < p->nflows && !state; k++)
                    for (int m = 0; m < p->flows[k].nsettings && !state; m++)
                        if (p->flows[k].settings[m].name && strcmp(p->flows[k].settings[m].name, "trigger") == 0 &&
                            !(state = open_state(p, prog, o, 0)))
                            rc = 1;
            }
            cJSON *trig = flow_webhook_describe(p, cx, i, state, o->show_secrets);
            if (trig) cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "settings"), "trigger", trig);
            cJSON_AddItemToObject(j, "steps", describe_steps(p, cx, f->steps, f->nsteps, 0));
            cJSON_AddItemToArray(flows, j);
        }
        char *t = rc ? NULL : flow_json_print(root);
        if (t) printf("%s\n", t);
        cJSON_free(t);
        cJSON_Delete(root);
        if (flush_stdout(prog)) rc = 1;
    }
    flow_state_close(state);
    for (int i = 0; i < p->nparams; i++) cJSON_Delete(owned[i]);
    free(owned);
    flow_ctx_free(cx);
    return rc ? 1 : 0;
}

int flow_main(const FlowProgram *p, int argc, char **argv) {
    const char *prog = argc > 0 && argv[0] ? strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0] : p->name;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);   /* a write past RLIMIT_FSIZE fails with EFBIG, and the run with it, cleanly */
    flow_no_core_dumps();   /* tokens, passwords and env() values are in memory from here on */
    if (argc < 2) {
        usage(stderr, prog);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("%s%s%s (flowc %s)\n", p->name ? p->name : prog, p->version ? " " : "", p->version ? p->version : "", FLOWC_VERSION);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout, prog);
        return 0;
    }
    int is_run = strcmp(cmd, "run") == 0, is_describe = strcmp(cmd, "describe") == 0;
    int is_errors = strcmp(cmd, "errors") == 0, is_state = strcmp(cmd, "state") == 0;
    int is_serve = strcmp(cmd, "serve") == 0, is_runs = strcmp(cmd, "runs") == 0, is_push = strcmp(cmd, "push") == 0;
    int is_gate = strcmp(cmd, "gate") == 0, is_ping = strcmp(cmd, "ping") == 0;
    if (!is_run && !is_describe && !is_errors && !is_state && !is_serve && !is_runs && !is_push && !is_gate && !is_ping) {
        static const char *const later[] = { "preview" };
        for (size_t i = 0; i < sizeof later / sizeof later[0]; i++)
            if (strcmp(cmd, later[i]) == 0) {
                fprintf(stderr, "%s: `%s` is not available in this build yet\n", prog, cmd);
                return 2;
            }
        fprintf(stderr, "%s: unknown command `%s`\n", prog, cmd);
        usage(stderr, prog);
        return 2;
    }
    Opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_opts(prog, cmd, argc - 2, argv + 2, &o, !is_describe);
    if (rc == 0) rc = is_run ? cmd_run(p, prog, &o) : is_errors ? cmd_errors(p, prog, &o) : is_state ? cmd_state(p, prog, &o)
                    : is_serve ? cmd_serve(p, prog, &o) : is_runs ? cmd_runs(p, prog, &o) : is_push ? cmd_push(p, prog, &o)
                    : is_gate ? cmd_gate(p, prog, &o) : is_ping ? cmd_ping(p, prog, &o)
                    : cmd_describe(p, prog, &o);
    opts_free(&o);
    return rc;
}
