/* listen.c — serve's HTTP listener (libmicrohttpd, a thread per connection): GET /healthz,
 * GET /metrics, POST /flows/F/run (loopback only, or a bearer token compared in constant time), and
 * every other path offered to the webhook triggers (webhook.h). A body is read into memory up to
 * FLOW_WEBHOOK_MAX_BODY: a longer one is answered 413, at once when its Content-Length says so (the
 * body is not read), else when it ends (what came beyond the limit is dropped as it arrives, never
 * kept). No handler waits for a run: an admin run is handed to the scheduler, which starts it. */
#define _GNU_SOURCE
#include "serve.h"
#include "dynlib.h"
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct FlowListener {
    struct MHD_Daemon *d;
    const FlowProgram *p;
    FlowWebhooks *w;
    FlowMetrics *m;
    FlowListenHooks h;
    char *token;               /* --admin-token, or NULL */
    size_t ntoken;
    char addr[160];
    int fd;                    /* the listening socket; MHD closes it on stop unless quiesced */
    int quiesced;
};

/* one request: the raw URI (MHD hands the handler a decoded path; the webhook side wants it as
 * sent) and the body read so far */

/* ---- answers ---- */

static enum MHD_Result answer(FlowListener *l, struct MHD_Connection *c, FlowRoute route, int webhook_flow, int status,
                              const char *type, char *body, size_t n, const char *hname, const char *hval) {
    struct MHD_Response *r = MHD_create_response_from_buffer(n, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) { free(body); return MHD_NO; }
    if (type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (hname) MHD_add_response_header(r, hname, hval);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    flow_metrics_request(l->m, route, webhook_flow, status);
    return ok;
}

/* a JSON answer: {"error": msg} (msg not NULL) or obj (taken); webhook_flow as for answer() */
static enum MHD_Result answer_json(FlowListener *l, struct MHD_Connection *c, FlowRoute route, int webhook_flow, int status, const char *msg,
                                   cJSON *obj, const char *hname, const char *hval) {
    if (!obj) {
        obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "error", msg ? msg : "");
    }
    char *t = flow_json_print(obj);
    cJSON_Delete(obj);
    size_t n = t ? strlen(t) : 0;
    char *body = malloc(n + 2);
    if (!body) abort();
    memcpy(body, t ? t : "", n);
    body[n++] = '\n';
    cJSON_free(t);
    return answer(l, c, route, webhook_flow, status, "application/json", body, n, hname, hval);
}

/* ---- who asks ---- */

void flow_listen_peer(void *conn, char *out, size_t cap, int *loopback) {
    struct MHD_Connection *c = conn;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    *loopback = 0;
    snprintf(out, cap, "?");
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)cap);
        *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)cap);
        const unsigned char *b = in6->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) || (memcmp(b, mapped, 12) == 0 && b[12] == 127);
    }
}

/* a == b in time that depends on their lengths only, never on where they differ */
static int same_secret(const char *a, size_t na, const char *b, size_t nb) {
    volatile unsigned char d = (unsigned char)(na != nb);
    size_t n = na > nb ? na : nb;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)((i < na ? (unsigned char)a[i] : 0) ^ (i < nb ? (unsigned char)b[i] : 0));
    return d == 0;
}

int flow_body_announced_over(const char *content_length, size_t max) {
    if (!content_length) return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(content_length, &end, 10);
    return !errno && end != content_length && n > max;
}

void flow_body_add(FlowBody *b, const char *data, size_t n, size_t max) {
    if (!b->too_large && b->n + n > max) {   /* over the limit: what came is dropped, and what comes */
        b->too_large = 1;
        free(b->p);
        b->p = NULL;
        b->n = b->cap = 0;
    }
    if (b->too_large) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        if (cap > max + 1) cap = max + 1;
        b->p = flow_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
}

static const char *header(void *ctx, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_HEADER_KIND, name);
}

/* ---- the query string of the admin endpoint ---- */

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

long flow_pct_decode(const char *s, size_t n, char *out, size_t cap, int plus_space) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '+' && plus_space) ch = ' ';
        else if (ch == '%') {
            if (i + 2 >= n) return -1;
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0) return -1;
            ch = (char)(a * 16 + b);
            i += 2;
        }
        if (!ch || k + 1 >= cap) return -1;
        out[k++] = ch;
    }
    out[k] = 0;
    return (long)k;
}

int flow_listen_query(const char *q, char *since, char *until, size_t cap, char *why, size_t wcap) {
    since[0] = until[0] = 0;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t kl = eq ? (size_t)(eq - q) : len;
        char *dst = kl == 5 && strncmp(q, "since", 5) == 0 ? since : kl == 5 && strncmp(q, "until", 5) == 0 ? until : NULL;
        if (len && !dst) {
            snprintf(why, wcap, "unknown query parameter `%.*s` (this endpoint takes since and until)", (int)(kl > 40 ? 40 : kl), q);
            return -1;
        }
        if (dst && (!eq || flow_pct_decode(eq + 1, len - kl - 1, dst, cap, 0) < 0 || !dst[0])) {
            snprintf(why, wcap, "%.*s needs an ISO-8601 date-time, percent-encoded (+ as %%2B)", (int)kl, q);
            return -1;
        }
        q = amp ? amp + 1 : q + len;
    }
    return 0;
}

static enum MHD_Result admin_run(FlowListener *l, struct MHD_Connection *c, const char *method, const char *flow, size_t nflow,
                                 const char *query) {
    int fi = -1;
    for (int i = 0; i < l->p->nflows && fi < 0; i++)
        if (strlen(l->p->flows[i].name) == nflow && strncmp(l->p->flows[i].name, flow, nflow) == 0) fi = i;
    if (fi < 0) return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 404, "no such flow", NULL, NULL, NULL);
    if (strcmp(method, "POST") != 0)
        return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 405, "use POST to start a run", NULL, MHD_HTTP_HEADER_ALLOW, "POST");
    char ip[INET6_ADDRSTRLEN + 8];
    int loopback;
    flow_listen_peer(c, ip, sizeof ip, &loopback);
    if (l->token) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *tok = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
        while (tok && *tok == ' ') tok++;
        if (!tok || !same_secret(tok, strlen(tok), l->token, l->ntoken))
            return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 401, "this endpoint needs `Authorization: Bearer <the --admin-token>`", NULL,
                               MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"flowc\"");
    } else if (!loopback) {
        return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 403,
                           "runs are started from loopback only; start serve with --admin-token to allow them from elsewhere", NULL, NULL,
                           NULL);
    }
    char since[128], until[128], why[300];
    if (flow_listen_query(query, since, until, sizeof since, why, sizeof why))
        return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 400, why, NULL, NULL, NULL);
    int64_t s = 0, u = 0;
    if (since[0] && !flow_parse_iso8601(since, strlen(since), &s)) {
        snprintf(why, sizeof why, "since `%s` is not an ISO-8601 date-time", since);
        return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 400, why, NULL, NULL, NULL);
    }
    if (until[0] && !flow_parse_iso8601(until, strlen(until), &u)) {
        snprintf(why, sizeof why, "until `%s` is not an ISO-8601 date-time", until);
        return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 400, why, NULL, NULL, NULL);
    }
    if (since[0] && s > (until[0] ? u : flow_wall_ms())) {
        snprintf(why, sizeof why, "since %s is later than %s: the window would be empty", since, until[0] ? "until" : "now");
        return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 400, why, NULL, NULL, NULL);
    }
    char run_id[64] = "", msg[300] = "";
    int st = l->h.admin_run(l->h.arg, fi, since[0] ? since : NULL, until[0] ? until : NULL, run_id, sizeof run_id, msg, sizeof msg);
    if (st != 202) return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, st, msg, NULL, NULL, NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "flow", l->p->flows[fi].name);
    cJSON_AddStringToObject(o, "run_id", run_id);
    cJSON_AddStringToObject(o, "status", "accepted");
    if (since[0]) cJSON_AddStringToObject(o, "since", since);
    if (until[0]) cJSON_AddStringToObject(o, "until", until);
    return answer_json(l, c, FLOW_ROUTE_ADMIN_RUN, -1, 202, NULL, o, NULL, NULL);
}

/* ---- the handler ---- */

void *flow_mhd_req_begin(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls; (void)c;
    FlowMhdReq *r = flow_xcalloc(1, sizeof *r);
    r->uri = flow_xstrdup(uri ? uri : "/");
    char *q = strchr(r->uri, '?');
    if (q) { *q = 0; r->query = q + 1; }
    return r;
}

void flow_mhd_req_end(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)c; (void)toe;
    FlowMhdReq *r = *con_cls;
    if (!r) return;
    free(r->uri);
    free(r->b.p);
    free(r);
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls) {
    (void)url; (void)version;
    FlowListener *l = cls;
    FlowMhdReq *r = *con_cls;
    if (!r) return MHD_NO;
    if (!r->started) {   /* the headers are in: a body announced over the limit is refused before it is read */
        r->started = 1;
        if (flow_body_announced_over(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH), FLOW_WEBHOOK_MAX_BODY)) {
            r->b.too_large = 1;
            int wf = flow_webhooks_route(l->w, r->uri);
            return answer_json(l, c, wf >= 0 ? FLOW_ROUTE_WEBHOOK : FLOW_ROUTE_OTHER, wf, 413, "the body is over 5 MB", NULL, NULL, NULL);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        flow_body_add(&r->b, upload, *upload_size, FLOW_WEBHOOK_MAX_BODY);
        *upload_size = 0;
        return MHD_YES;
    }
    const char *path = r->uri;
    int wf = flow_webhooks_route(l->w, path);
    if (r->b.too_large)
        return answer_json(l, c, wf >= 0 ? FLOW_ROUTE_WEBHOOK : FLOW_ROUTE_OTHER, wf, 413, "the body is over 5 MB", NULL, NULL, NULL);
    if (wf >= 0) {
        char ip[INET6_ADDRSTRLEN + 8];
        int loopback;
        flow_listen_peer(c, ip, sizeof ip, &loopback);
        FlowHttpReq rq = { method, path, r->query, header, c, r->b.p ? r->b.p : "", r->b.n, ip };
        FlowHttpResp resp = { 500, NULL, 0, NULL };
        int queued = flow_webhooks_handle(l->w, &rq, &resp);
        if (queued >= 0 && l->h.webhook_queued) l->h.webhook_queued(l->h.arg, queued);
        char *body = resp.body;
        if (body && !resp.body_len) { free(body); body = NULL; }
        return answer(l, c, FLOW_ROUTE_WEBHOOK, wf, resp.status, resp.content_type, body, resp.body_len,
                      resp.status == 405 ? MHD_HTTP_HEADER_ALLOW : NULL, "POST");
    }
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(path, "/healthz") == 0) {
        if (!get) return answer_json(l, c, FLOW_ROUTE_HEALTHZ, -1, 405, "use GET", NULL, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddNumberToObject(o, "flows", l->p->nflows);
        return answer_json(l, c, FLOW_ROUTE_HEALTHZ, -1, 200, NULL, o, NULL, NULL);
    }
    if (strcmp(path, "/metrics") == 0) {
        if (!get) return answer_json(l, c, FLOW_ROUTE_METRICS, -1, 405, "use GET", NULL, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        /* counted before it is rendered, so it counts itself as the answer it becomes */
        flow_metrics_request(l->m, FLOW_ROUTE_METRICS, -1, 200);
        char *t = flow_metrics_text(l->m, l->h.queue_depth, l->h.arg, flow_webhooks_count(l->w) ? flow_webhooks_commits(l->w) : -1);
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(t), t, MHD_RESPMEM_MUST_FREE);
        if (!resp) { free(t); return MHD_NO; }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        enum MHD_Result ok = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ok;
    }
    if (strncmp(path, "/flows/", 7) == 0) {
        const char *name = path + 7, *slash = strchr(name, '/');
        if (slash && slash > name && strcmp(slash, "/run") == 0) return admin_run(l, c, method, name, (size_t)(slash - name), r->query);
    }
    return answer_json(l, c, FLOW_ROUTE_OTHER, -1, 404, "not found", NULL, NULL, NULL);
}

/* ---- start and stop ---- */

static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len, FlowErr *err) {
    char host[256], port[16];
    const char *colon = strrchr(addr ? addr : "", ':');
    if (!addr || !colon || !colon[1] || strlen(colon + 1) >= sizeof port) {
        flow_err_set(err, FLOW_ERR_VALUE, "--listen takes ADDR:PORT (127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080), not `%s`", addr ? addr : "");
        return -1;
    }
    size_t hl = (size_t)(colon - addr);
    const char *h = addr;
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') { h++; hl -= 2; }
    if (hl >= sizeof host) { flow_err_set(err, FLOW_ERR_VALUE, "--listen: the address `%s` is too long", addr); return -1; }
    memcpy(host, h, hl);
    host[hl] = 0;
    snprintf(port, sizeof port, "%s", colon + 1);
    char *end;
    long pn = strtol(port, &end, 10);
    if (*end || pn < 0 || pn > 65535) { flow_err_set(err, FLOW_ERR_VALUE, "--listen: `%s` is not a port (0..65535)", port); return -1; }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(hl ? host : NULL, port, &hints, &res);
    if (rc || !res) {
        flow_err_set(err, FLOW_ERR_VALUE, "--listen: cannot resolve `%s`: %s", host, gai_strerror(rc));
        if (res) freeaddrinfo(res);
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int flow_listen_bind(const char *addr, int *fd_out, char *bound_addr, size_t cap, int *ipv6, FlowErr *err) {
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (parse_addr(addr, &ss, &sl, err)) return -1;
    /* bound here, so a port in use is a clear message (MHD would only say it failed) */
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 || bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
        listen(fd, 1024) != 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot listen on %s: %s", addr, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    char host[INET6_ADDRSTRLEN] = "?";
    snprintf(bound_addr, cap, "%s", addr);
    if (getsockname(fd, (struct sockaddr *)&bound, &bl) == 0) {
        if (bound.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, host, sizeof host);
            snprintf(bound_addr, cap, "%s:%d", host, ntohs(((struct sockaddr_in *)&bound)->sin_port));
        } else {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, host, sizeof host);
            snprintf(bound_addr, cap, "[%s]:%d", host, ntohs(((struct sockaddr_in6 *)&bound)->sin6_port));
        }
    }
    *ipv6 = ss.ss_family == AF_INET6;
    *fd_out = fd;
    return 0;
}

FlowListener *flow_listen_start(const FlowProgram *p, const char *addr, const char *admin_token, FlowWebhooks *w, FlowMetrics *m,
                                const FlowListenHooks *hooks, FlowErr *err) {
    int fd = -1, ipv6 = 0;
    char bound_addr[160];
    const char *lib = flow_dynlib_need(FLOW_LIB_MHD);
    if (lib) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "%s", lib);
        return NULL;
    }
    if (flow_listen_bind(addr, &fd, bound_addr, sizeof bound_addr, &ipv6, err)) return NULL;
    FlowListener *l = flow_xcalloc(1, sizeof *l);
    l->p = p;
    l->w = w;
    l->m = m;
    l->h = *hooks;
    l->fd = fd;
    if (admin_token && *admin_token) {
        l->token = flow_xstrdup(admin_token);
        l->ntoken = strlen(admin_token);
    }
    snprintf(l->addr, sizeof l->addr, "%s", bound_addr);
    /* a thread per connection: a webhook's answer waits for its event's commit to disk, and only its
     * own connection waits with it (in a pool, every connection of that thread would), while the
     * requests of the other connections join the next group commit (bench/webhook.sh: 2,634 against
     * 1,933 requests/s at full speed with 16 connections on 2 cores) */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC;
    if (ipv6) flags |= MHD_USE_IPv6;
    l->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_URI_LOG_CALLBACK, flow_mhd_req_begin, (void *)l,
                            MHD_OPTION_NOTIFY_COMPLETED, flow_mhd_req_end, (void *)l,
                            MHD_OPTION_END);
    if (!l->d) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot start the HTTP listener on %s", l->addr);
        close(fd);
        free(l->token);
        free(l);
        return NULL;
    }
    return l;
}

const char *flow_listen_address(const FlowListener *l) { return l ? l->addr : ""; }
int flow_listen_fd(const FlowListener *l) { return l ? l->fd : -1; }

void flow_listen_quiesce(FlowListener *l) {
    if (l && l->d && !l->quiesced && MHD_quiesce_daemon(l->d) != MHD_INVALID_SOCKET) l->quiesced = 1;
}

unsigned flow_listen_connections(const FlowListener *l) {
    if (!l || !l->d) return 0;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return di ? di->num_connections : 0;
}

void flow_listen_stop(FlowListener *l) {
    if (!l) return;
    if (l->d) MHD_stop_daemon(l->d);
    if (l->quiesced && l->fd >= 0) close(l->fd);   /* (else MHD closed it) */
    if (l->token) {
        memset(l->token, 0, l->ntoken);
        free(l->token);
    }
    free(l);
}
