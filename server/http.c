/* http.c — the control plane's listener (libmicrohttpd, a thread per connection, bound through the
 * runtime's flow_listen_bind): reads a request (bodies capped at SRV_MAX_BODY: 413), finds its route
 * in the route table (404, 405 with Allow), authenticates the bearer token (401), checks its access
 * and scope (403, audited), calls the handler and sends its answer; the answering helpers handlers
 * use (the error shape, JSON bodies, queries, Link paging); the request counters of /metrics. */
#define _GNU_SOURCE
#include "server.h"
#include "serve.h"
#include "runs.h"   /* runs_state_counts */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NCLASSES 5   /* status classes 1xx..5xx */

struct Srv {
    char *dir;
    SrvStore *st;
    struct MHD_Daemon *d;
    int fd;
    char addr[160];
    void *mods[SRV_MOD_COUNT + 1];
    int nstarted;                      /* modules started */
    pthread_mutex_t mlock;             /* the counters */
    unsigned long *count;              /* [(nroutes + 1) * NCLASSES]: the last row for no route */
    double *seconds;                   /* [nroutes + 1] */
    double started;
    long long lease_ms;                /* --lease (0: the default) */
};


SrvStore *srv_store(Srv *s) { return s->st; }
const char *srv_dir(Srv *s) { return s->dir; }
const char *srv_address(const Srv *s) { return s->addr; }
long long srv_lease_ms(const Srv *s) { return s->lease_ms; }

unsigned srv_connections(const Srv *s) {
    const union MHD_DaemonInfo *di = s && s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;
    return di ? di->num_connections : 0;
}
void **srv_module(Srv *s, SrvModule m) { return &s->mods[m]; }

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void srv_count(Srv *s, int route, int status, double seconds) {
    int row = route >= 0 && route < srv_nroutes ? route : srv_nroutes;
    int cls = status >= 100 && status < 600 ? status / 100 - 1 : 4;
    pthread_mutex_lock(&s->mlock);
    s->count[row * NCLASSES + cls]++;
    s->seconds[row] += seconds;
    pthread_mutex_unlock(&s->mlock);
}

/* ---- answering ---- */

static void resp_reset(SrvResp *out) {
    free(out->body);
    out->body = NULL;
    out->len = 0;
}

void srv_text(SrvResp *out, int status, const char *content_type, char *text, size_t len) {
    resp_reset(out);
    out->status = status;
    out->content_type = content_type;
    out->body = text;
    out->len = len;
}

void srv_json(SrvResp *out, int status, cJSON *obj) {
    char *t = flow_json_print(obj);
    cJSON_Delete(obj);
    size_t n = t ? strlen(t) : 0;
    char *b = malloc(n + 2);
    if (!b) abort();
    memcpy(b, t ? t : "", n);
    b[n++] = '\n';
    b[n] = 0;
    cJSON_free(t);
    srv_text(out, status, "application/json", b, n);
}

static cJSON *error_item(const char *code, const char *field, const char *message) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    if (field) cJSON_AddStringToObject(e, "field", field);
    else cJSON_AddNullToObject(e, "field");
    return e;
}

void srv_error(SrvResp *out, int status, const char *code, const char *field, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "errors"), error_item(code, field, msg));
    srv_json(out, status, o);
}

void srv_error_add(SrvResp *out, const char *code, const char *field, const char *message) {
    cJSON *o = out->body ? cJSON_ParseWithLength(out->body, out->len) : NULL;
    cJSON *errs = o ? cJSON_GetObjectItemCaseSensitive(o, "errors") : NULL;
    if (!errs) {
        cJSON_Delete(o);
        srv_error(out, out->status ? out->status : 500, code, field, "%s", message);
        return;
    }
    cJSON_AddItemToArray(errs, error_item(code, field, message));
    srv_json(out, out->status, o);
}

void srv_no_content(SrvResp *out) {
    resp_reset(out);
    out->status = 204;
    out->content_type = NULL;
}

int srv_body_json(const SrvReq *rq, SrvResp *out, int want_array, cJSON **json) {
    *json = NULL;
    if (rq->content_type && strncasecmp(rq->content_type, "application/json", 16) != 0) {
        srv_error(out, 415, "unsupported_media_type", NULL, "this route takes application/json, not %s", rq->content_type);
        return -1;
    }
    if (!rq->nbody) {
        srv_error(out, 400, "invalid_json", NULL, "the body is empty: this route takes a JSON %s", want_array ? "array" : "object");
        return -1;
    }
    FlowJsonError e;
    cJSON *j = flow_json_parse(rq->body, rq->nbody, &e);
    if (!j) {
        srv_error(out, 400, "invalid_json", NULL, "the body is not JSON: line %ld, column %ld: %s", e.line, e.col, e.msg);
        return -1;
    }
    if (want_array ? !cJSON_IsArray(j) : !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        srv_error(out, 400, "invalid_json", NULL, "the body must be a JSON %s", want_array ? "array" : "object");
        return -1;
    }
    *json = j;
    return 0;
}

int srv_query(const SrvReq *rq, const char *name, char *buf, size_t cap) {
    size_t nl = strlen(name);
    for (const char *q = rq->query; q && *q;) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t kl = eq ? (size_t)(eq - q) : len;
        if (kl == nl && memcmp(q, name, nl) == 0) {
            if (!eq) { buf[0] = 0; return 1; }
            return flow_pct_decode(eq + 1, len - kl - 1, buf, cap, 1) < 0 ? -1 : 1;
        }
        q = amp ? amp + 1 : q + len;
    }
    return 0;
}

const char *srv_header(const SrvReq *rq, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)rq->conn, MHD_HEADER_KIND, name);
}

/* s percent-encoded for a query value (unreserved characters as they are) */
static void buf_enc(FlowSb *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' ||
            *c == '~')
            flow_sb_put(b, (const char *)c, 1);
        else {
            char e[3] = { '%', hex[*c >> 4], hex[*c & 15] };
            flow_sb_put(b, e, 3);
        }
    }
}

int srv_page(const SrvReq *rq, SrvResp *out, cJSON *items) {
    char buf[256], after[256] = "";
    long limit = SRV_PAGE_DEFAULT;
    int q = srv_query(rq, "limit", buf, sizeof buf);
    if (q) {
        char *end;
        errno = 0;
        limit = q > 0 ? strtol(buf, &end, 10) : -1;
        if (q < 0 || errno || end == buf || *end || limit < 1 || limit > SRV_PAGE_MAX) {
            cJSON_Delete(items);
            srv_error(out, 400, "invalid_parameter", "limit", "limit takes a whole number from 1 to %d", SRV_PAGE_MAX);
            return -1;
        }
    }
    if (srv_query(rq, "after", after, sizeof after) < 0) {
        cJSON_Delete(items);
        srv_error(out, 400, "invalid_parameter", "after", "after is not a percent-encoded id");
        return -1;
    }
    cJSON *page = cJSON_CreateArray();
    const char *last = NULL;
    int more = 0;
    long n = 0;
    cJSON *it = items ? items->child : NULL;
    while (it) {
        cJSON *next = it->next;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        const char *ids = cJSON_IsString(id) ? id->valuestring : "";
        if (!after[0] || strcmp(ids, after) > 0) {
            if (n == limit) { more = 1; break; }
            cJSON_AddItemToArray(page, cJSON_DetachItemViaPointer(items, it));
            last = ids;
            n++;
        }
        it = next;
    }
    if (more && last) {   /* the path and the other parameters as received (filters), then limit and after */
        FlowSb l = { NULL, 0, 0 };
        flow_sb_put(&l, "<", 1);
        flow_sb_put(&l, rq->path, strlen(rq->path));
        flow_sb_put(&l, "?", 1);
        for (const char *qq = rq->query; qq && *qq;) {
            const char *amp = strchr(qq, '&');
            size_t len = amp ? (size_t)(amp - qq) : strlen(qq);
            if (len && strncmp(qq, "after=", 6) != 0 && strncmp(qq, "limit=", 6) != 0 && !memchr(qq, '>', len)) {
                flow_sb_put(&l, qq, len);
                flow_sb_put(&l, "&", 1);
            }
            qq = amp ? amp + 1 : qq + len;
        }
        char lim[48];
        int w = snprintf(lim, sizeof lim, "limit=%ld&after=", limit);
        flow_sb_put(&l, lim, (size_t)w);
        buf_enc(&l, last);
        flow_sb_put(&l, ">; rel=\"next\"", 13);
        free(out->link);
        out->link = flow_sb_take(&l);
    }
    cJSON_Delete(items);
    srv_json(out, 200, page);
    return 0;
}

/* ---- one request ---- */


static enum MHD_Result send_resp(Srv *s, struct MHD_Connection *c, int route, SrvResp *out, double t0, const char *allow,
                                 int auth_challenge) {
    if (!out->status) { out->status = 500; }
    struct MHD_Response *r = MHD_create_response_from_buffer(out->len, out->body ? out->body : (char *)"",
                                                             out->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    out->body = NULL;
    if (!r) { free(out->link); free(out->location); free(out->header); return MHD_NO; }
    if (out->content_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
    if (out->link) MHD_add_response_header(r, "Link", out->link);
    if (out->location) MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, out->location);
    if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    char *colon = out->header ? strchr(out->header, ':') : NULL;
    if (colon) {
        *colon = 0;
        MHD_add_response_header(r, out->header, colon + 1 + strspn(colon + 1, " "));
    }
    free(out->header);
    if (auth_challenge) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"flowc\"");
    free(out->link);
    free(out->location);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)out->status, r);
    MHD_destroy_response(r);
    srv_count(s, route, out->status, mono() - t0);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls) {
    (void)version; (void)url;
    Srv *s = cls;
    FlowMhdReq *r = *con_cls;
    if (!r) return MHD_NO;
    SrvResp out = { 0, NULL, 0, NULL, NULL, NULL, NULL };
    if (!r->started) {   /* the headers are in: a body announced over the cap is refused before it is read */
        r->started = 1;
        if (flow_body_announced_over(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH), SRV_MAX_BODY)) {
            r->b.too_large = 1;
            srv_error(&out, 413, "too_large", NULL, "the body is over 5 MB");
            return send_resp(s, c, -1, &out, mono(), NULL, 0);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        flow_body_add(&r->b, upload, *upload_size, SRV_MAX_BODY);
        *upload_size = 0;
        return MHD_YES;
    }
    double t0 = mono();
    if (r->b.too_large) {
        srv_error(&out, 413, "too_large", NULL, "the body is over 5 MB");
        return send_resp(s, c, -1, &out, t0, NULL, 0);
    }
    const char *params[SRV_MAX_PARAMS] = { 0 };
    char bufs[SRV_MAX_PARAMS * 256], allowed[128];
    int np = 0;
    const char *path = r->uri;
    int ri = srv_route_find(method, path, params, bufs, sizeof bufs, &np, allowed, sizeof allowed);
    if (ri < 0) {
        if (allowed[0]) {
            srv_error(&out, 405, "method_not_allowed", NULL, "%s is not allowed on %s (use %s)", method, path, allowed);
            return send_resp(s, c, -1, &out, t0, allowed, 0);
        }
        srv_error(&out, 404, "not_found", NULL, "no route %s %s", method, path);
        return send_resp(s, c, -1, &out, t0, NULL, 0);
    }
    const SrvRoute *rt = &srv_routes[ri];
    char ip[80];
    int loopback;
    flow_listen_peer(c, ip, sizeof ip, &loopback);
    SrvCaller caller;
    memset(&caller, 0, sizeof caller);
    if (rt->access != SRV_A_PUBLIC) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *tok = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
        while (tok && *tok == ' ') tok++;
        char why[300];
        if (!tok || !*tok) {
            srv_error(&out, 401, "unauthorized", NULL, "this route needs `Authorization: Bearer <token>`");
            return send_resp(s, c, ri, &out, t0, NULL, 1);
        }
        int refused = tokens_check(s, tok, ip, &caller, why, sizeof why);
        if (refused) {   /* 401, or 503 when the store could not say */
            srv_error(&out, refused, refused == 401 ? "unauthorized" : "store", NULL, "%s", why);
            return send_resp(s, c, ri, &out, t0, NULL, 1);
        }
        int ok = caller.full;
        if (!ok && (rt->access == SRV_A_READ || rt->access == SRV_A_RUN))
            ok = np == 0 || rt->kind == SRV_K_JOB || srv_scope_allows(&caller, rt->kind, params[0]);   /* a job: its flow's scope, checked by its handler */
        if (!ok) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "method", method);
            cJSON_AddStringToObject(d, "path", path);
            audit_append(s->st, 0, &caller, ip, "scope.denied", rt->kind, np ? params[0] : "", d);
            if (rt->access == SRV_A_WRITE || rt->access == SRV_A_ADMIN)
                srv_error(&out, 403, "forbidden", NULL, "%s %s needs a full-access token; token %s is scoped", rt->method, rt->pattern,
                          caller.id);
            else
                srv_error(&out, 403, "forbidden", NULL, "the %s `%s` is outside the scope of token %s", srv_kind_names[rt->kind], params[0],
                          caller.id);
            cJSON_Delete(caller.scope);
            return send_resp(s, c, ri, &out, t0, NULL, 0);
        }
    }
    SrvReq rq = { method, path, r->query, r->b.p ? r->b.p : "", r->b.n,
                  MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE), { 0 }, np, ip, &caller, ri, c };
    for (int i = 0; i < np; i++) rq.params[i] = params[i];
    rt->handler(s, &rq, &out);
    cJSON_Delete(caller.scope);
    return send_resp(s, c, ri, &out, t0, NULL, 0);
}

/* ---- start and stop ---- */

static const struct { int (*start)(Srv *, char *, size_t); void (*stop)(Srv *); } modules[SRV_MOD_COUNT + 1] = {
#define MODULE(name, start, stop) { start, stop },
#include "modules.def"
#undef MODULE
    { NULL, NULL }
};

Srv *srv_start(const SrvConfig *cfg, char *why, size_t cap) {
    Srv *s = flow_xcalloc(1, sizeof *s);
    s->dir = flow_xstrdup(cfg->dir);
    s->fd = -1;
    pthread_mutex_init(&s->mlock, NULL);
    s->count = flow_xcalloc((size_t)(srv_nroutes + 1) * NCLASSES, sizeof *s->count);
    s->seconds = flow_xcalloc((size_t)(srv_nroutes + 1), sizeof *s->seconds);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    s->started = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    s->lease_ms = cfg->lease_ms;
    s->st = store_open(cfg->dir, cfg->db, 0, why, cap);
    if (!s->st) { srv_stop(s); return NULL; }
    for (int i = 0; i < SRV_MOD_COUNT; i++) {
        if (modules[i].start(s, why, cap)) { srv_stop(s); return NULL; }
        s->nstarted = i + 1;
    }
    FlowErr err = { 0, "" };
    int ipv6 = 0;
    if (flow_listen_bind(cfg->listen ? cfg->listen : "127.0.0.1:8080", &s->fd, s->addr, sizeof s->addr, &ipv6, &err)) {
        snprintf(why, cap, "%s", err.msg);
        srv_stop(s);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC;
    if (ipv6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_URI_LOG_CALLBACK, flow_mhd_req_begin, (void *)s,
                            MHD_OPTION_NOTIFY_COMPLETED, flow_mhd_req_end, (void *)s,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(why, cap, "cannot start the HTTP listener on %s", s->addr);
        srv_stop(s);
        return NULL;
    }
    return s;
}

void srv_stop(Srv *s) {
    if (!s) return;
    if (s->d) MHD_stop_daemon(s->d);      /* closes the listening socket */
    else if (s->fd >= 0) close(s->fd);
    for (int i = s->nstarted - 1; i >= 0; i--) modules[i].stop(s);
    store_close(s->st);
    pthread_mutex_destroy(&s->mlock);
    free(s->count);
    free(s->seconds);
    free(s->dir);
    free(s);
}

/* ---- the server's own routes ---- */

void api_healthz(Srv *s, const SrvReq *rq, SrvResp *out) {
    (void)rq;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    (void)s;
    srv_json(out, 200, o);
}

void api_metrics(Srv *s, const SrvReq *rq, SrvResp *out) {
    (void)rq;
    FlowSb b = { NULL, 0, 0 };
    char line[512];
    int w = snprintf(line, sizeof line,
                     "# HELP flowc_server_requests_total Requests answered, by route and status class.\n"
                     "# TYPE flowc_server_requests_total counter\n");
    flow_sb_put(&b, line, (size_t)w);
    pthread_mutex_lock(&s->mlock);
    for (int i = 0; i <= srv_nroutes; i++)
        for (int k = 0; k < NCLASSES; k++) {
            unsigned long n = s->count[i * NCLASSES + k];
            if (!n) continue;
            w = snprintf(line, sizeof line, "flowc_server_requests_total{method=\"%s\",route=\"%s\",code=\"%dxx\"} %lu\n",
                         i < srv_nroutes ? srv_routes[i].method : "", i < srv_nroutes ? srv_routes[i].pattern : "none", k + 1, n);
            flow_sb_put(&b, line, (size_t)w);
        }
    w = snprintf(line, sizeof line,
                 "# HELP flowc_server_request_seconds_total Time spent answering, by route.\n"
                 "# TYPE flowc_server_request_seconds_total counter\n");
    flow_sb_put(&b, line, (size_t)w);
    for (int i = 0; i <= srv_nroutes; i++) {
        if (s->seconds[i] <= 0) continue;
        w = snprintf(line, sizeof line, "flowc_server_request_seconds_total{method=\"%s\",route=\"%s\"} %.6f\n",
                     i < srv_nroutes ? srv_routes[i].method : "", i < srv_nroutes ? srv_routes[i].pattern : "none", s->seconds[i]);
        flow_sb_put(&b, line, (size_t)w);
    }
    pthread_mutex_unlock(&s->mlock);
    w = snprintf(line, sizeof line,
                 "# HELP flowc_server_start_time_seconds When the server started (Unix time).\n"
                 "# TYPE flowc_server_start_time_seconds gauge\nflowc_server_start_time_seconds %.3f\n", s->started);
    flow_sb_put(&b, line, (size_t)w);
    long opened, reused;
    if (runs_state_counts(s, &opened, &reused) == 0) {
        w = snprintf(line, sizeof line,
                     "# HELP flowc_server_state_store_opens_total The runs' state stores opened (runtime/state_pool.c).\n"
                     "# TYPE flowc_server_state_store_opens_total counter\nflowc_server_state_store_opens_total %ld\n"
                     "# HELP flowc_server_state_store_reuses_total Uses of a state store served by one kept open.\n"
                     "# TYPE flowc_server_state_store_reuses_total counter\nflowc_server_state_store_reuses_total %ld\n", opened, reused);
        flow_sb_put(&b, line, (size_t)w);
    }
    size_t bn = b.n;
    srv_text(out, 200, "text/plain; version=0.0.4; charset=utf-8", flow_sb_take(&b), bn);
}
