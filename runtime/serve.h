/* serve.h — the operations half's internal API, between the executable's CLI (cli.c), the
 * scheduler (serve.c), the HTTP listener (listen.c) and the metrics (metrics.c). */
#ifndef FLOW_SERVE_H
#define FLOW_SERVE_H
#include "engine.h"
#include "webhook.h"
#include <microhttpd.h>

/* ---- serve (serve.c) ---- */

typedef struct FlowServeConfig {
    const char *prog;          /* the executable's name, for messages */
    const char *listen;        /* ADDR:PORT (IPv4, [IPv6] or a host name); port 0: any free port */
    const char *admin_token;   /* NULL: POST /flows/F/run only from loopback; else a bearer token from anywhere */
    const char *state_dir;     /* NULL: ./.flowstate */
    FILE *log;                 /* the start lines, one line per run, shutdown (stderr) */
} FlowServeConfig;

/* Runs the program's schedules, after() chains, webhooks and the listener until SIGTERM or SIGINT.
 * cx has the params set. Returns 0 after a clean stop, the number of the signal that ended it at
 * once (a second SIGTERM/SIGINT), or -1 when it could not start (err says why: a schedule from a
 * param that is not one, the address in use, the state store). */
int flow_serve(const FlowProgram *p, FlowCtx *cx, const FlowServeConfig *cfg, FlowErr *err);

/* A flow's schedule from its `schedule` setting as the params make it: the kind, the FlowSched of
 * cron() and every() (the caller frees it), after()'s flow; 0, or -1 with err naming the flow. cx
 * has the params set. (serve, and `run`'s dependency order) */
typedef enum { FLOW_SCHED_NONE, FLOW_SCHED_TIMED, FLOW_SCHED_AFTER, FLOW_SCHED_MANUAL } FlowSchedKind;
typedef struct FlowFlowSched {
    FlowSchedKind kind;
    struct FlowSched *sched;   /* TIMED */
    int after;                 /* AFTER: the index of the flow it follows */
    int catch_up;              /* catch_up = true */
    char desc[300];            /* as written, for the start lines: cron("0 2 * * *", "Europe/Berlin"), every(15m), after(a) */
} FlowFlowSched;
int flow_flow_sched(const FlowProgram *p, FlowCtx *cx, int fi, FlowFlowSched *out, FlowErr *err);
/* The two halves of flow_flow_sched, for a scheduler outside the program (flowc server, through
 * the executable's `gate`): flow fi's `schedule` and `catch_up` settings evaluated, as
 * {"schedule": value|null, "catch_up": value|null} (a fresh tree; NULL with err); and a FlowFlowSched
 * from that JSON, names[0..nflows) being the program's flow names (after() names one of them). */
cJSON *flow_flow_sched_json(const FlowProgram *p, FlowCtx *cx, int fi, FlowErr *err);
int flow_sched_from_json(const cJSON *sj, const char *const *names, int nflows, int fi, FlowFlowSched *out, FlowErr *err);
/* the flow a flow's `schedule = after(...)` names, without evaluating anything else: -1 for none */
int flow_after_of(const FlowProgram *p, FlowCtx *cx, int fi);

/* ---- the gate (gate.c): `OUT gate`, what flowc server asks of a built integration ---- */

/* Writes the program's schedules and webhook triggers as one JSON line on out, then (when it has
 * webhook triggers) answers the webhook requests read from in until its end (the protocol is at the
 * top of gate.c). The state store is state_db's (a PostgreSQL DSN: flow_state_open_at) or else
 * state_dir's (NULL: ./.flowstate). 0 at the end of the input,
 * -1 with err (a trigger or schedule that cannot be evaluated: said on out too; broken input). */
int flow_gate(const FlowProgram *p, FlowCtx *cx, const char *state_db, const char *state_dir, FILE *in, FILE *out, FlowErr *err);

/* ---- metrics (metrics.c): thread-safe ---- */

/* the listener's routes, for the request counters: X(id, label) */
#define FLOW_ROUTES(X) X(HEALTHZ, "/healthz") X(METRICS, "/metrics") X(ADMIN_RUN, "/flows/run") X(WEBHOOK, "webhook") \
    X(OTHER, "other")
typedef enum {
#define X(id, s) FLOW_ROUTE_##id,
    FLOW_ROUTES(X)
#undef X
    FLOW_ROUTE_COUNT
} FlowRoute;

typedef struct FlowMetrics FlowMetrics;
FlowMetrics *flow_metrics_new(const FlowProgram *p, double started_unix);
void  flow_metrics_free(FlowMetrics *m);
/* the declared path of flow fi's webhook trigger (its requests' label) */
void  flow_metrics_webhook_path(FlowMetrics *m, int fi, const char *path);
/* a run ended (seconds < 0: it did not run, as a skipped start) with its counts */
void  flow_metrics_run(FlowMetrics *m, int fi, FlowRunStatus st, double seconds, long exported, long imported, long ignored, long errors);
void  flow_metrics_running(FlowMetrics *m, int fi, int running);
void  flow_metrics_last_success(FlowMetrics *m, int fi, int64_t ms);
void  flow_metrics_next_run(FlowMetrics *m, int fi, int64_t ms);   /* <= 0: none */
void  flow_metrics_drift(FlowMetrics *m, double seconds);
/* a request answered (webhook_flow: the flow of a webhook path, else -1) */
void  flow_metrics_request(FlowMetrics *m, FlowRoute route, int webhook_flow, int status);
/* the Prometheus text (malloc'd); queue_depth(arg, fi) gives a webhook flow's queue depth;
 * queue_commits: the webhook queue's transactions so far (flow_webhooks_commits), < 0 to leave it out */
char *flow_metrics_text(FlowMetrics *m, long (*queue_depth)(void *arg, int fi), void *arg, long queue_commits);

/* ---- the HTTP listener (listen.c, libmicrohttpd) ---- */

/* What the listener asks of serve; called from the listener's threads, so they must not block on
 * a run. admin_run: a run of flow fi was asked for (since/until NULL when not given, already
 * checked): 202 with *run_id set, or another status with msg (409 the flow is running). */
typedef struct FlowListenHooks {
    int  (*admin_run)(void *arg, int fi, const char *since, const char *until, char *run_id, size_t idcap, char *msg, size_t cap);
    void (*webhook_queued)(void *arg, int fi);
    long (*queue_depth)(void *arg, int fi);
    void *arg;
} FlowListenHooks;

typedef struct FlowListener FlowListener;
/* Binds addr (ADDR:PORT) and serves: GET /healthz, GET /metrics, POST /flows/F/run, the webhook
 * paths. NULL with err (a bad address, the port in use). */
FlowListener *flow_listen_start(const FlowProgram *p, const char *addr, const char *admin_token, FlowWebhooks *w, FlowMetrics *m,
                                const FlowListenHooks *hooks, FlowErr *err);
/* "127.0.0.1:8080", the port as bound */
const char   *flow_listen_address(const FlowListener *l);
/* stops accepting connections; those open go on */
void          flow_listen_quiesce(FlowListener *l);
/* connections still open */
unsigned      flow_listen_connections(const FlowListener *l);
void          flow_listen_stop(FlowListener *l);
/* the listening socket */
int           flow_listen_fd(const FlowListener *l);
/* Binds and listens on addr (ADDR:PORT, [IPv6]:PORT or a host name; port 0: any free port): 0 with
 * the socket in *fd, the address as bound ("127.0.0.1:8080") and whether it is IPv6; or -1 with err
 * (a bad address, the port in use). Shared with the control plane's listener (server/http.c). */
int           flow_listen_bind(const char *addr, int *fd, char *bound, size_t cap, int *ipv6, FlowErr *err);
/* Percent-decodes s[0..n) into out (cap bytes, NUL-terminated); '+' is a space when plus_space (a
 * query value as forms send it), else itself (serve's since/until: an offset). The length, or -1
 * when an escape is malformed, a NUL is decoded, or it does not fit. (serve's and the control
 * plane's listeners) */
long          flow_pct_decode(const char *s, size_t n, char *out, size_t cap, int plus_space);
/* A request body read as it arrives, up to max bytes: past it, what came is dropped and what comes
 * is dropped as it arrives (too_large set), never kept. p is NUL-terminated (malloc'd). */
typedef struct FlowBody { char *p; size_t n, cap; int too_large; } FlowBody;
void          flow_body_add(FlowBody *b, const char *data, size_t n, size_t max);
/* whether a Content-Length header (NULL: none) announces more than max bytes */
int           flow_body_announced_over(const char *content_length, size_t max);
/* One request's state while libmicrohttpd reads it (serve's and the control plane's listeners): the
 * URI split at '?', the body so far. flow_mhd_req_begin is the MHD_OPTION_URI_LOG_CALLBACK that makes
 * it, flow_mhd_req_end the MHD_OPTION_NOTIFY_COMPLETED callback that frees it (their mhd_connection is
 * a struct MHD_Connection *, their toe an enum MHD_RequestTerminationCode). */
typedef struct FlowMhdReq {
    char *uri;                 /* path?query as received, the '?' replaced by a NUL */
    const char *query;         /* into uri, or NULL */
    FlowBody b;
    int started;
} FlowMhdReq;
void         *flow_mhd_req_begin(void *cls, const char *uri, struct MHD_Connection *mhd_connection);
void          flow_mhd_req_end(void *cls, struct MHD_Connection *mhd_connection, void **con_cls, enum MHD_RequestTerminationCode toe);
/* A libmicrohttpd connection's peer address as text, and whether it is loopback. */
void          flow_listen_peer(void *mhd_connection, char *out, size_t cap, int *loopback);
/* POST /flows/F/run's query string: since and until (percent-decoded; '+' stays '+'), each "" when
 * absent; 0, or -1 with why (an unknown parameter, an empty or undecodable value) */
int           flow_listen_query(const char *q, char *since, char *until, size_t cap, char *why, size_t wcap);

#endif
