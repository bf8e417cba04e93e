/* metrics.c — serve's counters, gauges and histograms, and their Prometheus text form (exposition
 * format 0.0.4). The scheduler counts runs (a child's counts are read from its row in the state
 * store after it ends), the listener's threads count requests, /metrics renders: one mutex. Label
 * values are flow names and the webhook paths the program declares (never a request's own path,
 * which may carry a secret_url secret), so the series are bounded. */
#define _DEFAULT_SOURCE
#include "serve.h"
#include <stddef.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the HTTP statuses the listener answers, each its own series; anything else counts as "other" */
#define STATUSES(X) X(200) X(201) X(202) X(204) X(400) X(401) X(403) X(404) X(405) X(409) X(413) X(429) X(500) X(503)
static const int statuses[] = {
#define X(n) n,
    STATUSES(X)
#undef X
};
#define NSTATUS ((int)(sizeof statuses / sizeof statuses[0]) + 1)   /* + other */

static int status_slot(int code) {
    for (int i = 0; i < NSTATUS - 1; i++) if (statuses[i] == code) return i;
    return NSTATUS - 1;
}

static const char *const route_names[FLOW_ROUTE_COUNT] = {
#define X(id, s) s,
    FLOW_ROUTES(X)
#undef X
};

/* run durations (s) and scheduler drift (s): upper bounds of the histogram buckets (+Inf implied) */
static const double run_buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600 };
#define NRUNB ((int)(sizeof run_buckets / sizeof run_buckets[0]))
static const double drift_buckets[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1 };
#define NDRIFTB ((int)(sizeof drift_buckets / sizeof drift_buckets[0]))

typedef struct Hist { long counts[16]; long n; double sum; } Hist;   /* counts[i]: observations <= bound i */

static void observe(Hist *h, const double *bounds, int nb, double v) {
    for (int i = 0; i < nb; i++) if (v <= bounds[i]) h->counts[i]++;
    h->n++;
    h->sum += v;
}

typedef struct FlowM {
    const char *name;
    const char *webhook_path;         /* the declared path, when the flow has a webhook trigger */
    long runs[FLOW_RUN_STATUS_COUNT];
    long exported, imported, ignored, errors;
    Hist duration;
    int running;
    double last_success;              /* Unix seconds; 0: never */
    double next_run;                  /* Unix seconds; 0: none scheduled */
    long webhook[NSTATUS];
} FlowM;

struct FlowMetrics {
    pthread_mutex_t mu;
    int nflows;
    FlowM *f;
    long http[FLOW_ROUTE_COUNT][NSTATUS];
    Hist drift;
    double started;                   /* Unix seconds */
};

FlowMetrics *flow_metrics_new(const FlowProgram *p, double started) {
    FlowMetrics *m = flow_xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->nflows = p->nflows;
    m->f = flow_xcalloc((size_t)p->nflows + 1, sizeof *m->f);
    for (int i = 0; i < p->nflows; i++) m->f[i].name = p->flows[i].name;
    m->started = started;
    return m;
}

void flow_metrics_free(FlowMetrics *m) {
    if (!m) return;
    for (int i = 0; i < m->nflows; i++) free((char *)m->f[i].webhook_path);
    free(m->f);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void flow_metrics_webhook_path(FlowMetrics *m, int fi, const char *path) {
    if (fi < 0 || fi >= m->nflows) return;
    pthread_mutex_lock(&m->mu);
    free((char *)m->f[fi].webhook_path);
    m->f[fi].webhook_path = path ? flow_xstrdup(path) : NULL;
    pthread_mutex_unlock(&m->mu);
}

void flow_metrics_run(FlowMetrics *m, int fi, FlowRunStatus st, double seconds, long exported, long imported, long ignored, long errors) {
    if (fi < 0 || fi >= m->nflows || (unsigned)st >= FLOW_RUN_STATUS_COUNT) return;
    pthread_mutex_lock(&m->mu);
    FlowM *f = &m->f[fi];
    f->runs[st]++;
    f->exported += exported;
    f->imported += imported;
    f->ignored += ignored;
    f->errors += errors;
    if (seconds >= 0) observe(&f->duration, run_buckets, NRUNB, seconds);
    pthread_mutex_unlock(&m->mu);
}

void flow_metrics_running(FlowMetrics *m, int fi, int running) {
    if (fi < 0 || fi >= m->nflows) return;
    pthread_mutex_lock(&m->mu);
    m->f[fi].running = running;
    pthread_mutex_unlock(&m->mu);
}

void flow_metrics_last_success(FlowMetrics *m, int fi, int64_t ms) {
    if (fi < 0 || fi >= m->nflows) return;
    pthread_mutex_lock(&m->mu);
    m->f[fi].last_success = (double)ms / 1000.0;
    pthread_mutex_unlock(&m->mu);
}

void flow_metrics_next_run(FlowMetrics *m, int fi, int64_t ms) {
    if (fi < 0 || fi >= m->nflows) return;
    pthread_mutex_lock(&m->mu);
    m->f[fi].next_run = ms > 0 ? (double)ms / 1000.0 : 0;
    pthread_mutex_unlock(&m->mu);
}

void flow_metrics_drift(FlowMetrics *m, double seconds) {
    pthread_mutex_lock(&m->mu);
    observe(&m->drift, drift_buckets, NDRIFTB, seconds < 0 ? 0 : seconds);
    pthread_mutex_unlock(&m->mu);
}

void flow_metrics_request(FlowMetrics *m, FlowRoute route, int webhook_flow, int status) {
    if ((unsigned)route >= FLOW_ROUTE_COUNT) return;
    int s = status_slot(status);
    pthread_mutex_lock(&m->mu);
    m->http[route][s]++;
    if (webhook_flow >= 0 && webhook_flow < m->nflows) m->f[webhook_flow].webhook[s]++;
    pthread_mutex_unlock(&m->mu);
}

/* ---- the text form ---- */

/* a label value: \ " and newline escaped */
static void label(FlowSb *b, const char *v) {
    flow_sb_put(b, "\"", 1);
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\') flow_sb_puts(b, "\\\\");
        else if (*p == '"') flow_sb_puts(b, "\\\"");
        else if (*p == '\n') flow_sb_puts(b, "\\n");
        else flow_sb_put(b, p, 1);
    }
    flow_sb_put(b, "\"", 1);
}

static void num(FlowSb *b, double v) {
    char buf[64];
    if (isinf(v)) snprintf(buf, sizeof buf, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, sizeof buf, "%.0f", v);
    else snprintf(buf, sizeof buf, "%.17g", v);
    flow_sb_puts(b, buf);
}

static void family(FlowSb *b, const char *name, const char *type, const char *help) {
    flow_sb_puts(b, "# HELP ");
    flow_sb_puts(b, name);
    flow_sb_puts(b, " ");
    flow_sb_puts(b, help);
    flow_sb_puts(b, "\n# TYPE ");
    flow_sb_puts(b, name);
    flow_sb_puts(b, " ");
    flow_sb_puts(b, type);
    flow_sb_puts(b, "\n");
}

/* name{flow="F"[,k="v"]} value */
static void sample(FlowSb *b, const char *name, const char *flow, const char *k, const char *v, double value) {
    flow_sb_puts(b, name);
    if (flow || k) {
        flow_sb_puts(b, "{");
        if (flow) { flow_sb_puts(b, "flow="); label(b, flow); }
        if (k) {
            if (flow) flow_sb_puts(b, ",");
            flow_sb_puts(b, k);
            flow_sb_puts(b, "=");
            label(b, v);
        }
        flow_sb_puts(b, "}");
    }
    flow_sb_puts(b, " ");
    num(b, value);
    flow_sb_puts(b, "\n");
}

static void hist(FlowSb *b, const char *name, const char *flow, const Hist *h, const double *bounds, int nb) {
    char n[128], le[64];
    snprintf(n, sizeof n, "%s_bucket", name);
    for (int i = 0; i < nb; i++) {
        snprintf(le, sizeof le, "%g", bounds[i]);
        sample(b, n, flow, "le", le, (double)h->counts[i]);
    }
    sample(b, n, flow, "le", "+Inf", (double)h->n);
    snprintf(n, sizeof n, "%s_sum", name);
    sample(b, n, flow, NULL, NULL, h->sum);
    snprintf(n, sizeof n, "%s_count", name);
    sample(b, n, flow, NULL, NULL, (double)h->n);
}

char *flow_metrics_text(FlowMetrics *m, long (*queue_depth)(void *arg, int fi), void *arg, long queue_commits) {
    /* the queue depths are read outside the lock (they come from the state store) */
    long *depth = flow_xcalloc((size_t)m->nflows + 1, sizeof *depth);
    for (int i = 0; i < m->nflows; i++) depth[i] = queue_depth && m->f[i].webhook_path ? queue_depth(arg, i) : -1;
    FlowSb b = { 0 };
    pthread_mutex_lock(&m->mu);
    family(&b, "flowc_flows", "gauge", "Flows in the program.");
    sample(&b, "flowc_flows", NULL, NULL, NULL, m->nflows);
    family(&b, "flowc_start_time_seconds", "gauge", "When serve started (Unix time).");
    sample(&b, "flowc_start_time_seconds", NULL, NULL, NULL, m->started);
    family(&b, "flowc_runs_total", "counter", "Runs by flow and status (skipped: the flow was already running).");
    for (int i = 0; i < m->nflows; i++)
        for (int s = FLOW_RUN_OK; s < FLOW_RUN_STATUS_COUNT; s++)
            sample(&b, "flowc_runs_total", m->f[i].name, "status", flow_run_status_names[s], (double)m->f[i].runs[s]);
    static const struct { const char *name, *help; size_t off; } recs[] = {
        { "flowc_records_exported_total", "Records exported by flow.", offsetof(FlowM, exported) },
        { "flowc_records_imported_total", "Records imported by flow (every import of the flow added up).", offsetof(FlowM, imported) },
        { "flowc_records_ignored_total", "Records ignored by flow (filters, branches, lookups that skip, outside the delta window).",
          offsetof(FlowM, ignored) },
        { "flowc_record_errors_total", "Record errors by flow (kept in the error store).", offsetof(FlowM, errors) },
    };
    for (size_t k = 0; k < sizeof recs / sizeof recs[0]; k++) {
        family(&b, recs[k].name, "counter", recs[k].help);
        for (int i = 0; i < m->nflows; i++)
            sample(&b, recs[k].name, m->f[i].name, NULL, NULL, (double)*(const long *)((const char *)&m->f[i] + recs[k].off));
    }
    family(&b, "flowc_run_duration_seconds", "histogram", "How long runs took (skipped starts not counted).");
    for (int i = 0; i < m->nflows; i++) hist(&b, "flowc_run_duration_seconds", m->f[i].name, &m->f[i].duration, run_buckets, NRUNB);
    family(&b, "flowc_flow_running", "gauge", "1 while a run of the flow is going on.");
    for (int i = 0; i < m->nflows; i++) sample(&b, "flowc_flow_running", m->f[i].name, NULL, NULL, m->f[i].running);
    family(&b, "flowc_flow_last_success_timestamp_seconds", "gauge",
           "When the flow's last run that did not fail ended (Unix time; 0: never).");
    for (int i = 0; i < m->nflows; i++)
        sample(&b, "flowc_flow_last_success_timestamp_seconds", m->f[i].name, NULL, NULL, m->f[i].last_success);
    family(&b, "flowc_flow_next_run_timestamp_seconds", "gauge", "When the flow's schedule fires next (Unix time; 0: not scheduled).");
    for (int i = 0; i < m->nflows; i++) sample(&b, "flowc_flow_next_run_timestamp_seconds", m->f[i].name, NULL, NULL, m->f[i].next_run);
    family(&b, "flowc_scheduler_drift_seconds", "histogram", "How late a scheduled run started: its start minus its due time.");
    hist(&b, "flowc_scheduler_drift_seconds", NULL, &m->drift, drift_buckets, NDRIFTB);
    family(&b, "flowc_webhook_queue_depth", "gauge", "Webhook events received and not yet processed, by flow.");
    for (int i = 0; i < m->nflows; i++)
        if (depth[i] >= 0) sample(&b, "flowc_webhook_queue_depth", m->f[i].name, NULL, NULL, (double)depth[i]);
    if (queue_commits >= 0) {
        family(&b, "flowc_webhook_queue_commits_total", "counter",
               "Transactions (each one fsync) that queued webhook requests: several requests at once share one.");
        sample(&b, "flowc_webhook_queue_commits_total", NULL, NULL, NULL, (double)queue_commits);
    }
    family(&b, "flowc_webhook_requests_total", "counter", "Requests to webhook paths, by flow, declared path and status.");
    for (int i = 0; i < m->nflows; i++) {
        if (!m->f[i].webhook_path) continue;
        for (int s = 0; s < NSTATUS; s++) {
            if (!m->f[i].webhook[s]) continue;
            char code[16];
            snprintf(code, sizeof code, "%d", s < NSTATUS - 1 ? statuses[s] : 0);
            flow_sb_puts(&b, "flowc_webhook_requests_total{flow=");
            label(&b, m->f[i].name);
            flow_sb_puts(&b, ",path=");
            label(&b, m->f[i].webhook_path);
            flow_sb_puts(&b, ",status=");
            label(&b, s < NSTATUS - 1 ? code : "other");
            flow_sb_puts(&b, "} ");
            num(&b, (double)m->f[i].webhook[s]);
            flow_sb_puts(&b, "\n");
        }
    }
    family(&b, "flowc_http_requests_total", "counter", "Requests to the listener, by route and status.");
    for (int r = 0; r < FLOW_ROUTE_COUNT; r++)
        for (int s = 0; s < NSTATUS; s++) {
            if (!m->http[r][s]) continue;
            char code[16];
            snprintf(code, sizeof code, "%d", s < NSTATUS - 1 ? statuses[s] : 0);
            flow_sb_puts(&b, "flowc_http_requests_total{route=");
            label(&b, route_names[r]);
            flow_sb_puts(&b, ",status=");
            label(&b, s < NSTATUS - 1 ? code : "other");
            flow_sb_puts(&b, "} ");
            num(&b, (double)m->http[r][s]);
            flow_sb_puts(&b, "\n");
        }
    pthread_mutex_unlock(&m->mu);
    free(depth);
    return flow_sb_take(&b);
}
