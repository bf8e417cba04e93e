/* http.c — the HTTP client under the http connector: a curl multi handle per connection runs a
 * set of requests with at most N in flight. A request that meets a connection error, a 5xx or a
 * 429 is tried again after an exponential backoff with equal jitter (half the delay fixed, half
 * random), or after the Retry-After the server asked for; other requests go on meanwhile. Starts
 * pass a token bucket of capacity one, so they are spaced at least 1/rps apart. */
#define _DEFAULT_SOURCE
#include "http.h"
#include "dynlib.h"
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum { ST_WAIT, ST_RUN, ST_DONE, ST_HOP };   /* ST_HOP: waiting to follow a redirect (not a new attempt) */
#define EXCERPT_MAX 1000

typedef struct Origin { char *scheme, *host; long port; } Origin;

struct FlowHttp {
    FlowHttpOpts o;
    char *secret_header;
    Origin *origins; int norigins;
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

/* ---- origins ---- */

/* The scheme (lower case), host (lower case) and port (the scheme's default when none is given) of
 * url, parsed by libcurl's own URL parser with the flags libcurl uses for a request's URL, so the
 * origin judged is the one libcurl connects to. 0, or -1 when url has no http(s) scheme or no host. */
static int origin_of(const char *url, Origin *o) {
    memset(o, 0, sizeof *o);
    if (flow_dynlib_need(FLOW_LIB_CURL)) return -1;
    CURLU *u = curl_url();
    if (!u) abort();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && *host) {
        for (char *p = scheme; *p; p++) *p = (char)tolower((unsigned char)*p);
        for (char *p = host; *p; p++) *p = (char)tolower((unsigned char)*p);
        if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) {
            o->scheme = flow_xstrdup(scheme);
            o->host = flow_xstrdup(host);
            o->port = strtol(port, NULL, 10);
            rc = 0;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static void origin_free(Origin *o) { free(o->scheme); free(o->host); }

int flow_http_trusted(const FlowHttp *h, const char *url) {
    Origin o;
    if (!url || origin_of(url, &o) < 0) return 0;
    int ok = 0;
    for (int i = 0; i < h->norigins && !ok; i++)
        ok = strcmp(h->origins[i].scheme, o.scheme) == 0 && strcmp(h->origins[i].host, o.host) == 0 && h->origins[i].port == o.port;
    origin_free(&o);
    return ok;
}

int flow_http_is_origin(const char *u) {
    const char *p = strncasecmp(u, "http://", 7) == 0 ? u + 7 : strncasecmp(u, "https://", 8) == 0 ? u + 8 : NULL;
    if (!p || !*p || *p == '/' || *p == ':') return 0;
    for (; *p && *p != '/'; p++)
        if (*p == '@' || *p == '?' || *p == '#' || *p == '\\' || (unsigned char)*p <= ' ') return 0;
    return !*p || strcmp(p, "/") == 0;
}

void flow_http_origin(const char *url, char *out, size_t cap) {
    Origin o;
    if (!url || origin_of(url, &o) < 0) { snprintf(out, cap, "%s", url ? url : ""); return; }
    snprintf(out, cap, "%s://%s:%ld", o.scheme, o.host, o.port);
    origin_free(&o);
}

FlowHttp *flow_http_new(const FlowHttpOpts *o, FlowErr *err) {
    pthread_once(&curl_once, curl_init);
    FlowHttp *h = calloc(1, sizeof *h);
    if (!h) abort();
    h->o = *o;
    h->o.origins = NULL;
    h->o.norigins = 0;
    h->secret_header = o->secret_header ? flow_xstrdup(o->secret_header) : NULL;
    h->o.secret_header = h->secret_header;
    h->origins = flow_xcalloc((size_t)o->norigins + 1, sizeof *h->origins);
    for (int i = 0; i < o->norigins; i++) {
        if (origin_of(o->origins[i], &h->origins[h->norigins]) < 0) {
            flow_err_set(err, FLOW_ERR_VALUE, "\"%s\" is not an http:// or https:// URL with a host", o->origins[i]);
            flow_http_free(h);
            return NULL;
        }
        h->norigins++;
    }
    h->multi = curl_multi_init();
    if (!h->multi) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot start the HTTP client (curl_multi_init failed)");
        flow_http_free(h);
        return NULL;
    }
    h->rng = (uint64_t)time(NULL) * 6364136223846793005ull ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)h;
    if (!h->rng) h->rng = 88172645463325252ull;
    return h;
}

void flow_http_set_retries(FlowHttp *h, int retries) { h->o.retries = retries; }

void flow_http_free(FlowHttp *h) {
    if (!h) return;
    for (int i = 0; i < h->npool; i++) curl_easy_cleanup(h->pool[i]);
    free(h->pool);
    if (h->multi) curl_multi_cleanup(h->multi);
    for (int i = 0; i < h->norigins; i++) origin_free(&h->origins[i]);
    free(h->origins);
    free(h->secret_header);
    free(h);
}

void flow_http_req_clear(FlowHttpCall *r) {
    free(r->method);
    free(r->url);
    free(r->body);
    curl_slist_free_all(r->headers);
    curl_slist_free_all(r->cred);
    curl_slist_free_all(r->sent);
    free(r->final_url);
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
    FlowHttpCall *r = ud;
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
    FlowHttpCall *r = ud;
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

static void start(FlowHttp *h, FlowHttpCall *r, int64_t t) {
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
    /* the one place credentials are attached: to this transfer's URL when its origin is trusted */
    const char *url = r->final_url ? r->final_url : r->url;
    int trusted = flow_http_trusted(h, url);
    curl_slist_free_all(r->sent);
    r->sent = NULL;
    for (const struct curl_slist *l = r->headers; l; l = l->next) r->sent = curl_slist_append(r->sent, l->data);
    if (trusted) for (const struct curl_slist *l = r->cred; l; l = l->next) r->sent = curl_slist_append(r->sent, l->data);
    r->withheld = !trusted && r->cred;
    curl_easy_setopt(e, CURLOPT_URL, url);
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
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);   /* redirects are followed in finish(), judged again */
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->sent);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "flowc/" FLOWC_VERSION);
    if (strcmp(r->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
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
    if (r->state != ST_HOP) r->attempts++;
    r->state = ST_RUN;
    r->started_at = t;
    if (!r->first_at) r->first_at = t;
    curl_multi_add_handle(h->multi, e);
}

/* Retry-After: seconds, or an HTTP-date; -1 when absent or unreadable */
static long retry_after_ms(const FlowHttpCall *r) {
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

static int retriable(const FlowHttpCall *r) {
    if (r->outcome == FLOW_HTTP_TOO_LARGE) return 0;
    if (r->outcome != FLOW_HTTP_OK) return 1;
    return r->status >= 500 || r->status == 429;
}

static void finish(FlowHttp *h, CURL *e, CURLcode rc, int64_t t) {
    FlowHttpCall *r = NULL;
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
    if (r->outcome == FLOW_HTTP_OK && strcmp(r->method, "GET") == 0 &&
        (status == 301 || status == 302 || status == 303 || status == 307 || status == 308)) {
        char *to = NULL;
        curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &to);   /* the Location, resolved against the URL */
        Origin o;
        if (to && origin_of(to, &o) == 0) {
            origin_free(&o);
            if (r->hops < FLOW_HTTP_REDIRECTS_MAX) {   /* the next hop, judged again in start() */
                char *next = flow_xstrdup(to);
                free(r->final_url);
                r->final_url = next;
                r->hops++;
                r->state = ST_HOP;
                r->ready_at = t;
                return;
            }
            snprintf(r->curl_msg, sizeof r->curl_msg, "more than %d redirects", FLOW_HTTP_REDIRECTS_MAX);
        } else if (to) {
            snprintf(r->curl_msg, sizeof r->curl_msg, "a redirect to a URL that is not http:// or https:// was not followed");
        }
        if (to) {   /* final: trying again would be redirected the same way */
            r->outcome = FLOW_HTTP_TRANSPORT;
            r->status = 0;
            r->state = ST_DONE;
            return;
        }
    }
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

void flow_http_run(FlowHttp *h, FlowHttpCall *reqs, int n, int concurrency) {
    if (concurrency < 1) concurrency = 1;
    int active = 0, done = 0, first = 0;
    for (int i = 0; i < n; i++) {
        reqs[i].state = ST_WAIT; reqs[i].ready_at = 0; reqs[i].attempts = 0; reqs[i].first_at = 0; reqs[i].hops = 0;
        free(reqs[i].final_url);
        reqs[i].final_url = NULL;
    }
    while (done < n) {
        int64_t t = now_ms(), wake = t + 200;
        while (first < n && reqs[first].state == ST_DONE) first++;
        /* one at a time keeps the order: a request waiting for its retry holds the ones after it */
        int upto = concurrency == 1 ? (first < n ? first + 1 : n) : n;
        for (int i = first; i < upto && active < concurrency; i++) {
            FlowHttpCall *r = &reqs[i];
            if (r->state != ST_WAIT && r->state != ST_HOP) continue;
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
            FlowHttpCall *r = NULL;
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

const char *flow_http_header(const FlowHttpCall *r, const char *lower_name) {
    const cJSON *v = r->resp_headers ? cJSON_GetObjectItemCaseSensitive(r->resp_headers, lower_name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *flow_http_escape(const char *s) {
    size_t n = strlen(s);
    char *o = flow_xcalloc(1, n * 3 + 1);
    flow_pct_encode(o, s, n);
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

/* why a request went without its credentials, for the exchange and the error message */
static void withheld_note(const FlowHttpCall *r, char *out, size_t cap) {
    char o[300];
    flow_http_origin(r->final_url ? r->final_url : r->url, o, sizeof o);
    snprintf(out, cap, "not sent: %s is not the origin of base_url or one of allowed_origins", o);
}

cJSON *flow_http_exchange(const FlowHttp *h, const FlowHttpCall *r) {
    cJSON *x = cJSON_CreateObject(), *rq = cJSON_AddObjectToObject(x, "request");
    cJSON_AddStringToObject(rq, "method", r->method ? r->method : "");
    cJSON_AddStringToObject(rq, "url", r->url ? r->url : "");
    if (r->final_url) cJSON_AddStringToObject(rq, "redirected_to", r->final_url);
    if (r->withheld) {
        char why[600];
        withheld_note(r, why, sizeof why);
        cJSON_AddStringToObject(rq, "credentials", why);
    }
    cJSON *hd = cJSON_AddObjectToObject(rq, "headers");
    for (const struct curl_slist *l = r->sent ? r->sent : r->headers; l; l = l->next) {
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
static void body_hint(const FlowHttpCall *r, char *out, size_t cap) {
    size_t n = r->resp_len < 200 ? r->resp_len : 200, w = 0;
    for (size_t i = 0; i < n && w + 1 < cap; i++) {
        char c = r->resp[i];
        out[w++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
    }
    while (w > 0 && ((unsigned char)out[w - 1] & 0x80) && r->resp_len > n) w--;   /* no cut UTF-8 at the end */
    out[w] = 0;
    if (r->resp_len > n && w + 4 < cap) strcat(out, "...");
}

void flow_http_error(const FlowHttp *h, const FlowHttpCall *r, FlowErr *e) {
    char after[1200] = "";
    size_t al = 0;
    if (r->attempts > 1) al += (size_t)snprintf(after, sizeof after, " after %d attempts", r->attempts);
    if (r->final_url && al < sizeof after) al += (size_t)snprintf(after + al, sizeof after - al, " (redirected to %.400s)", r->final_url);
    if (r->withheld && al < sizeof after) {
        char why[600];
        withheld_note(r, why, sizeof why);
        snprintf(after + al, sizeof after - al, " (credentials %s)", why);
    }
    if (r->outcome == FLOW_HTTP_TOO_LARGE) {
        flow_err_set(e, FLOW_ERR_TOO_LARGE, "the response from %s %s is over the 32 MB limit", r->method, r->url);
        return;
    }
    if (r->outcome == FLOW_HTTP_TIMEOUT) {
        flow_err_set(e, FLOW_ERR_CONNECTION, "no answer from %s %s within %ld ms%s", r->method, r->url, h->o.timeout_ms, after);
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
