/* http.h — the HTTP client under the http connector (conn_http.c): libcurl multi running a set of
 * requests with at most N in flight, retries with exponential backoff and jitter, Retry-After on
 * 429, a token-bucket rate limit shared by everything on one connection, redirects followed by the
 * client itself, credentials sent only to the connection's trusted origins, and the exchange
 * (request and response) as JSON with credentials redacted, for error records and previews.
 * The client decides nothing about meaning: a 4xx comes back as a status; the connector judges. */
#ifndef FLOW_HTTP_H
#define FLOW_HTTP_H
#include "engine.h"
#include <curl/curl.h>

#define FLOW_HTTP_BODY_MAX ((size_t)32 * 1024 * 1024)   /* a response body may not exceed 32 MB */
#define FLOW_HTTP_RETRY_AFTER_MAX_MS 120000L              /* longest Retry-After honoured */
#define FLOW_HTTP_BACKOFF_MAX_MS 30000L
#define FLOW_HTTP_REDIRECTS_MAX 5                         /* a GET follows at most 5 redirects */

typedef struct FlowHttpOpts {
    long timeout_ms;        /* the whole request */
    long backoff_ms;        /* the first retry's delay; doubles per retry */
    int retries;            /* extra attempts on connection errors, 5xx and 429 */
    double rps;             /* requests started per second; 0 = unlimited */
    int verify_tls;
    const char *secret_header;   /* a header whose value is a credential (api_key), or NULL */
    /* The origins credentials may go to: base_url and the allowed_origins, as URLs whose scheme,
     * host and port count (the rest is ignored). A request to any other origin, or a redirect
     * there, is sent without its `cred` headers. */
    const char *const *origins; int norigins;
} FlowHttpOpts;

/* One connection's client: its options, rate limiter and reusable curl handles. */
typedef struct FlowHttp FlowHttp;
/* NULL with err when an origin is not an http(s) URL. */
FlowHttp *flow_http_new(const FlowHttpOpts *o, FlowErr *err);
void      flow_http_free(FlowHttp *h);
/* Changes the retries after the first attempt (a connection test makes one attempt). */
void      flow_http_set_retries(FlowHttp *h, int retries);

typedef enum { FLOW_HTTP_OK, FLOW_HTTP_TRANSPORT, FLOW_HTTP_TIMEOUT, FLOW_HTTP_TOO_LARGE } FlowHttpOutcome;

typedef struct FlowHttpCall {
    /* what to send (owned by the request; flow_http_req_clear frees them) */
    char *method;
    char *url;
    char *body;                  /* NULL: no body */
    struct curl_slist *headers;  /* "Name: value" lines sent wherever the request goes (Accept, Content-Type) */
    struct curl_slist *cred;     /* lines sent only to a trusted origin: auth and the flow's `headers` */
    /* what came back */
    FlowHttpOutcome outcome;     /* OK: a response arrived (any status) */
    long status;
    char *resp; size_t resp_len; /* the body, NUL-terminated */
    size_t resp_cap;
    cJSON *resp_headers;         /* lower-case name -> value (the last one of a name wins) */
    char curl_msg[256];          /* TRANSPORT / TIMEOUT: what curl said */
    char *final_url;             /* after redirects: the URL that answered (NULL: url) */
    int withheld;                /* the last transfer went to an untrusted origin without `cred` */
    int attempts;
    long ms;                     /* from the first start to the end, waits included */
    /* the client's bookkeeping */
    int state; int64_t ready_at, started_at, first_at; void *easy;
    int hops;                    /* redirects followed */
    struct curl_slist *sent;     /* the headers of the transfer under way */
} FlowHttpCall;

/* Runs n requests with at most `concurrency` in flight, retrying as configured; returns when every
 * request has its final outcome. Order of completion is free; each result stays in its request. */
void flow_http_run(FlowHttp *h, FlowHttpCall *reqs, int n, int concurrency);
void flow_http_req_clear(FlowHttpCall *r);

/* The request and response as JSON: method, url, headers (credentials "<redacted>"), a body
 * excerpt; status, headers, body excerpt; attempts and ms. A fresh tree. */
cJSON *flow_http_exchange(const FlowHttp *h, const FlowHttpCall *r);
/* A failed request's error: class and message ("HTTP 500 from GET URL after 4 attempts: ..."). */
void   flow_http_error(const FlowHttp *h, const FlowHttpCall *r, FlowErr *e);
/* A header's value from a response ("link", "content-type"), or NULL. */
const char *flow_http_header(const FlowHttpCall *r, const char *lower_name);
/* s percent-encoded for a URL path segment or query (a fresh string): every byte but the
 * unreserved A-Z a-z 0-9 - . _ ~ (flow_pct_encode). */
char  *flow_http_escape(const char *s);
/* Whether credentials may go to url: its scheme, host (ignoring case) and port (80 and 443 by
 * default) equal those of one of the client's origins. */
int    flow_http_trusted(const FlowHttp *h, const char *url);
/* u is an origin as allowed_origins lists them: http(s)://host[:port], at most a "/" after. */
int    flow_http_is_origin(const char *u);
/* "scheme://host:port" of url into out (the URL itself when it cannot be parsed). */
void   flow_http_origin(const char *url, char *out, size_t cap);

#endif
