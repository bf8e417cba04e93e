/* http.c — the HTTP client under the http connector: a curl multi handle per connection runs a
 * set of requests with at most N in flight. A request that meets a connection error, a 5xx or a
 * 429 is tried again after an exponential backoff with equal jitter (half the delay fixed, half
 * random), or after the Retry-After the server asked for; other requests go on meanwhile. Starts
 * pass a token bucket of capacity one, so they are spaced at least 1/rps apart. */
#define _DEFAULT_SOURCE
#include "http.h"
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ST_WAIT, ST_RUN, ST_DONE };
#define EXCERPT_MAX 1000

struct FlowHttp {
    FlowHttpOpts o;
    char *secret_header;
    CURLM *multi;
    CURL **pool; int npool, cappool;   /* idle easy handles (their connections stay in the multi's cache) */
    int64_t next_slot;                 /* the rate limiter: the earliest time the next request may start */
    uint64_t rng;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FlowHttp *flow_http_new(const FlowHttpOpts *o, FlowErr *err) {
    pthread_once(&curl_once, curl_init);
    FlowHttp *h = calloc(1, sizeof *h);
    if (!h) abort();
    h->o = *o;
    h->secret_header = o->secret_header ? flow_xstrdup(o->secret_header) : NULL;
    h->o.secret_header = h->secret_header;
    h->multi = curl_multi_init();
    if (!h->multi) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot start the HTTP client (curl_multi_init failed)");
        free(h->secret_header);
        free(h);
        return NULL;
    }
    h->rng = (uint64_t)time(NULL) * 6364136223846793005ull ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)h;
    if (!h->rng) h->rng = 88172645463325252ull;
    return h;
}

void flow_http_free(FlowHttp *h) {
    if (!h) return;
    for (int i = 0; i < h->npool; i++) curl_easy_cleanup(h->pool[i]);
    free(h->pool);
    curl_multi_cleanup(h->multi);
    free(h->secret_header);
    free(h);
}

void flow_http_req_clear(FlowHttpReq *r) {
    free(r->method);
    free(r->url);
    free(r->body);
    curl_slist_free_all(r->headers);
    free(r->resp);
    cJSON_Delete(r->resp_headers);
    memset(r, 0, sizeof *r);
}

static double rnd(FlowHttp *h) {   /* xorshift64*: jitter only */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return (double)((h->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* ---- one transfer ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    FlowHttpReq *r = ud;
    size_t len = size * n;
    if (r->resp_len + len > FLOW_HTTP_BODY_MAX) { r->outcome = FLOW_HTTP_TOO_LARGE; return 0; }
    if (r->resp_len + len + 1 > r->resp_cap) {   /* grows geometrically: bodies arrive in small chunks */
        size_t cap = r->resp_cap ? r->resp_cap : 16384;
        while (cap < r->resp_len + len + 1) cap *= 2;
        r->resp = flow_xrealloc(r->resp, cap);
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_len, p, len);
    r->resp_len += len;
    r->resp[r->resp_len] = 0;
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    FlowHttpReq *r = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {   /* a new response (after a redirect or 100) */
        cJSON_Delete(r->resp_headers);
        r->resp_headers = cJSON_CreateObject();
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon || !r->resp_headers) return len;
    size_t nl = (size_t)(colon - p);
    if (nl == 0 || nl > 200) return len;
    char name[201];
    for (size_t i = 0; i < nl; i++) name[i] = (char)tolower((unsigned char)p[i]);
    name[nl] = 0;
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    char *val = malloc((size_t)(end - v) + 1);
    if (!val) abort();
    memcpy(val, v, (size_t)(end - v));
    val[end - v] = 0;
    cJSON_DeleteItemFromObjectCaseSensitive(r->resp_headers, name);
    cJSON_AddStringToObject(r->resp_headers, name, val);
    free(val);
    return len;
}

static void start(FlowHttp *h, FlowHttpReq *r, int64_t t) {
    CURL *e = h->npool ? h->pool[--h->npool] : curl_easy_init();
    if (!e) abort();
    curl_easy_reset(e);
    free(r->resp);
    r->resp = NULL;
    r->resp_len = r->resp_cap = 0;
    cJSON_Delete(r->resp_headers);
    r->resp_headers = cJSON_CreateObject();
    r->outcome = FLOW_HTTP_OK;
    r->status = 0;
    r->curl_msg[0] = 0;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->o.timeout_ms < 10000 ? h->o.timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->o.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->o.verify_tls ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "flowc/" FLOWC_VERSION);
    if (strcmp(r->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    }
    if (r->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
    } else if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "DELETE") != 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    r->easy = e;
    r->state = ST_RUN;
    r->attempts++;
    r->started_at = t;
    if (!r->first_at) r->first_at = t;
    curl_multi_add_handle(h->multi, e);
}

/* Retry-After: seconds, or an HTTP-date; -1 when absent or unreadable */
static long retry_after_ms(const FlowHttpReq *r) {
    const char *v = flow_http_header(r, "retry-after");
    if (!v || !*v) return -1;
    char *end;
    long s = strtol(v, &end, 10);
    if (end != v && *end == 0) return s < 0 ? 0 : s > FLOW_HTTP_RETRY_AFTER_MAX_MS / 1000 ? FLOW_HTTP_RETRY_AFTER_MAX_MS : s * 1000;
    time_t at = curl_getdate(v, NULL);
    if (at < 0) return -1;
    double d = difftime(at, time(NULL)) * 1000.0;
    return d < 0 ? 0 : d > FLOW_HTTP_RETRY_AFTER_MAX_MS ? FLOW_HTTP_RETRY_AFTER_MAX_MS : (long)d;
}

static int retriable(const FlowHttpReq *r) {
    if (r->outcome == FLOW_HTTP_TOO_LARGE) return 0;
    if (r->outcome != FLOW_HTTP_OK) return 1;
    return r->status >= 500 || r->status == 429;
}

static void finish(FlowHttp *h, CURL *e, CURLcode rc, int64_t t) {
    FlowHttpReq *r = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
    curl_multi_remove_handle(h->multi, e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (h->npool == h->cappool) {
        h->cappool = h->cappool ? h->cappool * 2 : 8;
        h->pool = flow_xrealloc(h->pool, sizeof *h->pool * (size_t)h->cappool);
    }
    h->pool[h->npool++] = e;
    if (!r) return;
    r->easy = NULL;
    if (rc != CURLE_OK && r->outcome != FLOW_HTTP_TOO_LARGE) {
        r->outcome = rc == CURLE_OPERATION_TIMEDOUT ? FLOW_HTTP_TIMEOUT : FLOW_HTTP_TRANSPORT;
        snprintf(r->curl_msg, sizeof r->curl_msg, "%s", curl_easy_strerror(rc));
    }
    r->status = r->outcome == FLOW_HTTP_OK ? status : 0;
    r->ms = (long)(t - r->first_at);
    if (retriable(r) && r->attempts <= h->o.retries) {
        long wait = r->status == 429 ? retry_after_ms(r) : -1;
        if (wait < 0) {
            double d = (double)h->o.backoff_ms;
            for (int i = 1; i < r->attempts && d < FLOW_HTTP_BACKOFF_MAX_MS; i++) d *= 2;
            if (d > FLOW_HTTP_BACKOFF_MAX_MS) d = FLOW_HTTP_BACKOFF_MAX_MS;
            wait = (long)(d / 2 + rnd(h) * d / 2);
        }
        r->state = ST_WAIT;
        r->ready_at = t + wait;
        return;
    }
    r->state = ST_DONE;
}

void flow_http_run(FlowHttp *h, FlowHttpReq *reqs, int n, int concurrency) {
    if (concurrency < 1) concurrency = 1;
    int active = 0, done = 0, first = 0;
    for (int i = 0; i < n; i++) { reqs[i].state = ST_WAIT; reqs[i].ready_at = 0; reqs[i].attempts = 0; reqs[i].first_at = 0; }
    while (done < n) {
        int64_t t = now_ms(), wake = t + 200;
        while (first < n && reqs[first].state == ST_DONE) first++;
        /* one at a time keeps the order: a request waiting for its retry holds the ones after it */
        int upto = concurrency == 1 ? (first < n ? first + 1 : n) : n;
        for (int i = first; i < upto && active < concurrency; i++) {
            FlowHttpReq *r = &reqs[i];
            if (r->state != ST_WAIT) continue;
            if (r->ready_at > t) { if (r->ready_at < wake) wake = r->ready_at; continue; }
            if (h->o.rps > 0) {
                if (h->next_slot > t) { if (h->next_slot < wake) wake = h->next_slot; break; }
                h->next_slot = t + (int64_t)(1000.0 / h->o.rps + 0.999);
            }
            start(h, r, t);
            active++;
        }
        int running = 0, finished = 0;
        curl_multi_perform(h->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(h->multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            FlowHttpReq *r = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            finish(h, m->easy_handle, m->data.result, now_ms());
            active--;
            finished++;
            if (r && r->state == ST_DONE) done++;
        }
        if (finished) continue;   /* a slot is free: start the next request before waiting */
        long wait = (long)(wake - now_ms());
        if (wait < 0) wait = 0;
        if (wait > 200) wait = 200;
        curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
    }
}

/* ---- reading results ---- */

const char *flow_http_header(const FlowHttpReq *r, const char *lower_name) {
    const cJSON *v = r->resp_headers ? cJSON_GetObjectItemCaseSensitive(r->resp_headers, lower_name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *flow_http_escape(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *w = o;
    if (!o) abort();
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') *w++ = (char)*p;
        else { *w++ = '%'; *w++ = hex[*p >> 4]; *w++ = hex[*p & 15]; }
    }
    *w = 0;
    return o;
}

static int sensitive(const FlowHttp *h, const char *name, size_t n) {
    static const char *const names[] = { "authorization", "proxy-authorization", "cookie", "set-cookie" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0) return 1;
    return h->secret_header && strlen(h->secret_header) == n && strncasecmp(h->secret_header, name, n) == 0;
}

/* a body as text to keep: whole (NUL bytes and bytes that are not UTF-8 as U+FFFD, flow_json_raw_text) */
static cJSON *excerpt(const char *p, size_t n) {
    if (!p) return cJSON_CreateString("");
    if (n <= EXCERPT_MAX) return flow_json_raw_text(p, n);
    size_t cut = EXCERPT_MAX;
    while (cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80) cut--;   /* not inside a UTF-8 sequence */
    char *s = malloc(cut + 64);
    if (!s) abort();
    memcpy(s, p, cut);
    int tail = snprintf(s + cut, 64, "... (%zu bytes)", n);
    cJSON *j = flow_json_raw_text(s, cut + (size_t)tail);
    free(s);
    return j;
}

cJSON *flow_http_exchange(const FlowHttp *h, const FlowHttpReq *r) {
    cJSON *x = cJSON_CreateObject(), *rq = cJSON_AddObjectToObject(x, "request");
    cJSON_AddStringToObject(rq, "method", r->method ? r->method : "");
    cJSON_AddStringToObject(rq, "url", r->url ? r->url : "");
    cJSON *hd = cJSON_AddObjectToObject(rq, "headers");
    for (const struct curl_slist *l = r->headers; l; l = l->next) {
        const char *c = strchr(l->data, ':');
        if (!c) continue;
        char name[201];
        size_t nl = (size_t)(c - l->data) < 200 ? (size_t)(c - l->data) : 200;
        memcpy(name, l->data, nl);
        name[nl] = 0;
        const char *v = c + 1;
        while (*v == ' ') v++;
        cJSON_DeleteItemFromObjectCaseSensitive(hd, name);
        cJSON_AddStringToObject(hd, name, sensitive(h, name, nl) ? "<redacted>" : v);
    }
    if (r->body) cJSON_AddItemToObject(rq, "body", excerpt(r->body, strlen(r->body)));
    if (r->outcome == FLOW_HTTP_OK || r->outcome == FLOW_HTTP_TOO_LARGE) {
        cJSON *rs = cJSON_AddObjectToObject(x, "response");
        cJSON_AddNumberToObject(rs, "status", (double)r->status);
        cJSON *rh = cJSON_AddObjectToObject(rs, "headers");
        for (const cJSON *e = r->resp_headers ? r->resp_headers->child : NULL; e; e = e->next)
            cJSON_AddStringToObject(rh, e->string, sensitive(h, e->string, strlen(e->string)) ? "<redacted>" : e->valuestring);
        if (r->outcome == FLOW_HTTP_TOO_LARGE) cJSON_AddStringToObject(rs, "body", "(over the 32 MB limit)");
        else cJSON_AddItemToObject(rs, "body", excerpt(r->resp, r->resp_len));
    } else {
        cJSON_AddStringToObject(x, "error", r->curl_msg);
    }
    cJSON_AddNumberToObject(x, "attempts", r->attempts);
    cJSON_AddNumberToObject(x, "ms", (double)r->ms);
    return x;
}

/* a short, one-line excerpt of the body for messages */
static void body_hint(const FlowHttpReq *r, char *out, size_t cap) {
    size_t n = r->resp_len < 200 ? r->resp_len : 200, w = 0;
    for (size_t i = 0; i < n && w + 1 < cap; i++) {
        char c = r->resp[i];
        out[w++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
    }
    while (w > 0 && ((unsigned char)out[w - 1] & 0x80) && r->resp_len > n) w--;   /* no cut UTF-8 at the end */
    out[w] = 0;
    if (r->resp_len > n && w + 4 < cap) strcat(out, "...");
}

void flow_http_error(const FlowHttp *h, const FlowHttpReq *r, FlowErr *e) {
    char after[48] = "";
    if (r->attempts > 1) snprintf(after, sizeof after, " after %d attempts", r->attempts);
    if (r->outcome == FLOW_HTTP_TOO_LARGE) {
        flow_err_set(e, FLOW_ERR_TOO_LARGE, "the response from %s %s is over the 32 MB limit", r->method, r->url);
        return;
    }
    if (r->outcome == FLOW_HTTP_TIMEOUT) {
        flow_err_set(e, FLOW_ERR_CONNECTION, "no answer from %s %s within %ld ms%s", r->method, r->url, h->o.timeout_ms,
                     r->attempts > 1 ? after : "");
        return;
    }
    if (r->outcome == FLOW_HTTP_TRANSPORT) {
        flow_err_set(e, FLOW_ERR_CONNECTION, "cannot reach %s %s: %s%s", r->method, r->url, r->curl_msg, after);
        return;
    }
    char hint[240];
    body_hint(r, hint, sizeof hint);
    FlowErrorClass cls = r->status == 429 ? FLOW_ERR_RATE_LIMIT
                       : r->status >= 500 ? FLOW_ERR_INTERMITTENT
                       : r->status == 409 ? FLOW_ERR_DUPLICATE : FLOW_ERR_VALUE;
    flow_err_set(e, cls, "HTTP %ld from %s %s%s%s%s", r->status, r->method, r->url, after, *hint ? ": " : "", hint);
}
