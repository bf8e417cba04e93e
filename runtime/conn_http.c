/* conn_http.c — the http connector: REST exports page by page (page_number, offset, cursor,
 * next_url, link_header; stop rules; loop detection), lookups one request per record run
 * concurrently with identical requests sent once, and imports (map or body template, batches,
 * upsert by an `exists` request, the response kept for the response mapping). Requests go through
 * http.c, which retries, rate-limits and keeps the exchange for errors and previews. */
#define _DEFAULT_SOURCE
#include "http.h"
#include "jsonpath.h"
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the connection ---- */

static int ok_status(long st) { return st >= 200 && st < 300; }

typedef struct HttpConn {
    FlowHttp *h;
    char *base;                 /* base_url without a trailing / */
    char *origin;               /* scheme://host[:port] of base_url */
    struct curl_slist *cred;    /* the connection's headers and auth: sent to trusted origins only */
    int concurrency;
} HttpConn;

/* A number setting, or its default when unset: the engine has held it to its RANGE in
 * connectors.def (the checker's bounds too), so there are no other limits here. */
static double num_setting(const FlowSettings *s, const char *name, double dflt) {
    const cJSON *j = flow_setting(s, NULL, name);
    return cJSON_IsNumber(j) ? j->valuedouble : dflt;
}

/* "Name: value" lines from an object of headers; -1 with err on a name or value that cannot be sent */
static int add_headers(struct curl_slist **l, const cJSON *obj, FlowErr *err) {
    if (!obj || cJSON_IsNull(obj)) return 0;
    if (!cJSON_IsObject(obj)) { flow_err_set(err, FLOW_ERR_VALUE, "headers must be an object of names to values"); return -1; }
    for (const cJSON *h = obj->child; h; h = h->next) {
        char num[64];
        const char *v = cJSON_IsString(h) ? h->valuestring : NULL;
        if (cJSON_IsNumber(h)) v = flow_json_num_text(h, num);
        if (cJSON_IsBool(h)) v = cJSON_IsTrue(h) ? "true" : "false";
        if (cJSON_IsNull(h)) continue;
        if (!v) { flow_err_set(err, FLOW_ERR_VALUE, "header %s must be a string", h->string); return -1; }
        if (!*h->string || strpbrk(h->string, ":\r\n \t") || strpbrk(v, "\r\n")) {
            flow_err_set(err, FLOW_ERR_VALUE, "header %s cannot be sent (a name with ':' or spaces, or a line break)", h->string);
            return -1;
        }
        size_t n = strlen(h->string) + strlen(v) + 3;
        char *line = flow_xcalloc(1, n);
        snprintf(line, n, "%s: %s", h->string, v);
        *l = curl_slist_append(*l, line);
        free(line);
    }
    return 0;
}

static const char *arg_str(const cJSON *o, const char *name) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static void conn_free(HttpConn *c) {
    if (!c) return;
    flow_http_free(c->h);
    free(c->base);
    free(c->origin);
    curl_slist_free_all(c->cred);
    free(c);
}

static void *h_open(const FlowSettings *s, unsigned uses, FlowErr *err) {
    (void)uses;
    HttpConn *c = flow_xcalloc(1, sizeof *c);
    const char *base = flow_setting_str(s, NULL, "base_url", "");
    if (strncasecmp(base, "http://", 7) != 0 && strncasecmp(base, "https://", 8) != 0) {
        flow_err_set(err, FLOW_ERR_VALUE, "base_url must start with http:// or https:// (it is \"%s\")", base);
        goto bad;
    }
    c->base = flow_xstrdup(base);
    for (size_t n = strlen(c->base); n > 0 && c->base[n - 1] == '/'; n--) c->base[n - 1] = 0;
    const char *hs = strstr(c->base, "://") + 3;
    const char *slash = strchr(hs, '/');
    c->origin = slash ? strndup(c->base, (size_t)(slash - c->base)) : flow_xstrdup(c->base);
    if (!c->origin) abort();
    if (add_headers(&c->cred, flow_setting(s, NULL, "headers"), err)) goto bad;
    FlowHttpOpts o = { 30000, 200, 3, 0, 1, NULL, NULL, 0 };
    /* the origins credentials may go to: base_url's and allowed_origins */
    const cJSON *ao = flow_setting(s, NULL, "allowed_origins");
    if (ao && !cJSON_IsNull(ao) && !cJSON_IsArray(ao)) {
        flow_err_set(err, FLOW_ERR_VALUE, "allowed_origins must be a list of origins, as in [\"https://files.example.com\"]");
        goto bad;
    }
    const char *origins[65];
    origins[o.norigins++] = c->base;
    for (const cJSON *a = ao ? ao->child : NULL; a; a = a->next) {
        if (!cJSON_IsString(a) || !flow_http_is_origin(a->valuestring)) {
            char *t = flow_json_print(a);
            flow_err_set(err, FLOW_ERR_VALUE, "allowed_origins: %s is not an origin (scheme://host[:port], as in \"https://files.example.com:8443\")",
                         t ? t : "?");
            cJSON_free(t);
            goto bad;
        }
        if (o.norigins == 65) { flow_err_set(err, FLOW_ERR_VALUE, "allowed_origins holds more than 64 origins"); goto bad; }
        origins[o.norigins++] = a->valuestring;
    }
    o.origins = origins;
    o.timeout_ms = (long)num_setting(s, "timeout", 30000);
    o.backoff_ms = (long)num_setting(s, "backoff", 200);
    o.retries = (int)num_setting(s, "retries", 3);
    o.rps = num_setting(s, "requests_per_second", 0);   /* 0: unset, no rate limit (the table refuses a 0) */
    c->concurrency = (int)num_setting(s, "concurrency", 1);
    const cJSON *tls = flow_setting(s, NULL, "verify_tls");
    if (tls && !cJSON_IsBool(tls)) { flow_err_set(err, FLOW_ERR_VALUE, "setting verify_tls must be true or false"); goto bad; }
    o.verify_tls = !tls || cJSON_IsTrue(tls);
    /* auth: a header on every request */
    const cJSON *auth = flow_setting(s, NULL, "auth");
    const char *kind = flow_setting_ctor(s, NULL, "auth", "none");
    char *line = NULL;
    if (strcmp(kind, "basic") == 0) {
        const char *u = arg_str(auth, "user"), *p = arg_str(auth, "password");
        size_t n = strlen(u ? u : "") + strlen(p ? p : "") + 2;
        char *up = flow_xcalloc(1, n);
        snprintf(up, n, "%s:%s", u ? u : "", p ? p : "");
        char *b = flow_base64(up, strlen(up));
        free(up);
        line = flow_xcalloc(1, strlen(b) + 32);
        sprintf(line, "Authorization: Basic %s", b);
        free(b);
    } else if (strcmp(kind, "bearer") == 0) {
        const char *t = arg_str(auth, "token");
        if (!t || !*t) { flow_err_set(err, FLOW_ERR_VALUE, "bearer(token): the token is empty"); goto bad; }
        line = flow_xcalloc(1, strlen(t) + 32);
        sprintf(line, "Authorization: Bearer %s", t);
    } else if (strcmp(kind, "api_key") == 0) {
        const char *hn = arg_str(auth, "header"), *hv = arg_str(auth, "value");
        if (!hn || !*hn || strpbrk(hn, ":\r\n \t") || !hv || strpbrk(hv, "\r\n")) {
            flow_err_set(err, FLOW_ERR_VALUE, "api_key(header, value) needs a header name and a value on one line");
            goto bad;
        }
        line = flow_xcalloc(1, strlen(hn) + strlen(hv) + 4);
        sprintf(line, "%s: %s", hn, hv);
        o.secret_header = hn;
    }
    if (line && strpbrk(line, "\r\n")) { free(line); flow_err_set(err, FLOW_ERR_VALUE, "the auth value holds a line break"); goto bad; }
    if (line) { c->cred = curl_slist_append(c->cred, line); free(line); }
    c->h = flow_http_new(&o, err);
    if (!c->h) goto bad;
    return c;
bad:
    conn_free(c);
    return NULL;
}

static int h_finish(void *conn, int ok, FlowErr *err) { (void)conn; (void)ok; (void)err; return 0; }
static void h_close(void *conn) { conn_free(conn); }

/* ---- building requests ---- */

static void put_param(FlowSb *b, int *first, const char *k, const char *v) {
    char *ek = flow_http_escape(k), *ev = flow_http_escape(v);
    flow_sb_puts(b, *first ? "" : "&");
    flow_sb_puts(b, ek);
    flow_sb_puts(b, "=");
    flow_sb_puts(b, ev);
    *first = 0;
    free(ek);
    free(ev);
}

static void put_value(FlowSb *b, int *first, const char *k, const cJSON *v) {
    char num[64];
    if (cJSON_IsNull(v) || !v) return;
    if (cJSON_IsArray(v)) { for (const cJSON *e = v->child; e; e = e->next) put_value(b, first, k, e); return; }
    if (cJSON_IsString(v)) { put_param(b, first, k, v->valuestring); return; }
    if (cJSON_IsBool(v)) { put_param(b, first, k, cJSON_IsTrue(v) ? "true" : "false"); return; }
    if (cJSON_IsNumber(v)) { put_param(b, first, k, flow_json_num_text(v, num)); return; }   /* ints exact */
    char *t = flow_json_print(v);
    put_param(b, first, k, t ? t : "");
    cJSON_free(t);
}

/* base_url + path (a full URL is taken as it is) + the query, with `pname`=`pval` added last (it
 * replaces a query member of the same name) */
static char *build_url(const HttpConn *c, const char *path, const cJSON *query, const char *pname, const char *pval) {
    FlowSb b = { 0 };
    if (strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0) flow_sb_puts(&b, path);
    else {
        flow_sb_puts(&b, c->base);
        if (*path && *path != '/' && *path != '?') flow_sb_puts(&b, "/");
        flow_sb_puts(&b, path);
    }
    int first = strchr(b.p, '?') == NULL;
    FlowSb q = { 0 };
    int qfirst = 1;
    for (const cJSON *m = cJSON_IsObject(query) ? query->child : NULL; m; m = m->next)
        if (!pname || strcmp(m->string, pname) != 0) put_value(&q, &qfirst, m->string, m);
    if (pname && pval) put_param(&q, &qfirst, pname, pval);
    if (q.n) {
        flow_sb_puts(&b, first ? "?" : "&");
        flow_sb_puts(&b, q.p);
    }
    free(q.p);
    return flow_sb_take(&b);
}

/* A request: Accept and, with a body, the content type go wherever it goes; auth, the connection's
 * headers and the step's are its credentials, which http.c sends only to trusted origins (every
 * request of the connector is made here). */
static int req_init(FlowHttpCall *r, const HttpConn *c, const char *method, char *url, char *body, const cJSON *step_headers, FlowErr *err) {
    memset(r, 0, sizeof *r);
    r->method = flow_xstrdup(method);
    r->url = url;
    r->body = body;
    r->headers = curl_slist_append(NULL, "Accept: application/json");
    if (body) r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
    for (const struct curl_slist *l = c->cred; l; l = l->next) r->cred = curl_slist_append(r->cred, l->data);
    return add_headers(&r->cred, step_headers, err);
}

static char *body_text(const cJSON *body) {
    if (!body || cJSON_IsNull(body)) return NULL;
    if (cJSON_IsString(body)) return flow_xstrdup(body->valuestring);
    char *t = flow_json_print(body);
    char *r = flow_xstrdup(t ? t : "null");
    cJSON_free(t);
    return r;
}


static int blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) if (!isspace((unsigned char)p[i])) return 0;
    return 1;
}

static void keys_hint(const cJSON *doc, char *out, size_t cap) {
    size_t w = 0;
    out[0] = 0;
    if (!cJSON_IsObject(doc)) {
        snprintf(out, cap, "the body is %s", cJSON_IsArray(doc) ? "an array" : "not an object");
        return;
    }
    w += (size_t)snprintf(out, cap, "top-level keys: ");
    int k = 0;
    for (const cJSON *m = doc->child; m && w < cap; m = m->next, k++) {
        if (k == 12) { w += (size_t)snprintf(out + w, cap - w, ", ..."); break; }
        w += (size_t)snprintf(out + w, cap - w, "%s%s", k ? ", " : "", m->string);
    }
    if (!k) snprintf(out, cap, "the body is an empty object");
}

/* ---- records out of a response ---- */

typedef struct Nodes { const cJSON **v; int n, cap; } Nodes;
static void collect(const cJSON *node, void *ud) {
    Nodes *ns = ud;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = realloc(ns->v, sizeof *ns->v * (size_t)ns->cap);
        if (!ns->v) abort();
    }
    ns->v[ns->n++] = node;
}

static FlowJsonPath *compile_records(const FlowSettings *s, const cJSON *rs, FlowErr *err, int *bad) {
    const char *text = flow_setting_str(s, rs, "records", NULL);
    *bad = 0;
    if (!text) return NULL;
    char msg[300];
    FlowJsonPath *p = flow_jsonpath_compile(text, msg, sizeof msg);
    if (!p) { flow_err_set(err, FLOW_ERR_VALUE, "records \"%s\" is not a JSONPath query: %s", text, msg); *bad = 1; }
    return p;
}

/* The records of a parsed response as a fresh array (copies), or NULL with err when the records path
 * matches nothing in a non-empty body or matches something that is not records. */
static cJSON *take_records(const cJSON *doc, const FlowJsonPath *path, const char *path_text, const FlowHttpCall *r, FlowErr *err) {
    if (!path) {
        if (cJSON_IsArray(doc)) return cJSON_Duplicate(doc, 1);
        cJSON *a = cJSON_CreateArray();
        if (!cJSON_IsNull(doc)) cJSON_AddItemToArray(a, cJSON_Duplicate(doc, 1));
        return a;
    }
    Nodes ns = { 0 };
    char msg[300];
    if (flow_jsonpath_eval(path, doc, collect, &ns, msg, sizeof msg) < 0) {
        free(ns.v);
        flow_err_set(err, FLOW_ERR_VALUE, "records path %s: %s", path_text, msg);
        return NULL;
    }
    if (ns.n == 0) {
        char hint[300];
        keys_hint(doc, hint, sizeof hint);
        free(ns.v);
        flow_err_set(err, FLOW_ERR_VALUE, "records path %s matched nothing in the response from %s %s (%s)", path_text,
                     r->method, r->url, hint);
        return NULL;
    }
    cJSON *a;
    if (ns.n == 1 && cJSON_IsArray(ns.v[0])) a = cJSON_Duplicate(ns.v[0], 1);
    else if (ns.n == 1 && !cJSON_IsObject(ns.v[0]) && !cJSON_IsNull(ns.v[0])) {
        const char *what = cJSON_IsString(ns.v[0]) ? "a string" : cJSON_IsNumber(ns.v[0]) ? "a number" : "a true/false value";
        free(ns.v);
        flow_err_set(err, FLOW_ERR_VALUE, "records path %s matched %s, not records, in the response from %s %s", path_text,
                     what, r->method, r->url);
        return NULL;
    } else {
        a = cJSON_CreateArray();
        for (int i = 0; i < ns.n; i++) if (!cJSON_IsNull(ns.v[i])) cJSON_AddItemToArray(a, cJSON_Duplicate(ns.v[i], 1));
    }
    free(ns.v);
    return a;
}

/* The parsed body of a 2xx response: 0 with *doc (NULL for an empty body), or -1 with err */
static int parse_body(const FlowHttpCall *r, cJSON **doc, FlowErr *err) {
    *doc = NULL;
    if (!r->resp || blank(r->resp, r->resp_len)) return 0;
    FlowJsonError je;
    *doc = flow_json_parse(r->resp, r->resp_len, &je);
    if (*doc) return 0;
    const char *ct = flow_http_header(r, "content-type");
    char hint[120];
    size_t n = r->resp_len < 80 ? r->resp_len : 80, w = 0;
    for (size_t i = 0; i < n;) {   /* line breaks and NULs as spaces, bytes that are not UTF-8 as '?' */
        unsigned char c = (unsigned char)r->resp[i];
        size_t k = c >= 0x80 ? flow_utf8_seq((const unsigned char *)r->resp + i, r->resp_len - i) : 1;
        if (k > 1 && i + k <= n) { memcpy(hint + w, r->resp + i, k); w += k; i += k; continue; }
        if (k > 1) break;    /* a character cut by the 80 bytes */
        hint[w++] = c == '\n' || c == '\r' || c == 0 ? ' ' : c >= 0x80 ? '?' : (char)c;
        i++;
    }
    hint[w] = 0;
    flow_err_set(err, FLOW_ERR_PARSE, "%s %s answered with a body that is not JSON (content-type %s, %zu bytes; line %ld, column %ld: "
                 "%s): %s%s", r->method, r->url, ct ? ct : "none", r->resp_len, je.line, je.col, je.msg, hint,
                 r->resp_len > n ? "..." : "");
    return -1;
}

static void log_req(const FlowSettings *s, const HttpConn *c, const FlowHttpCall *r, int records) {
    if (!flow_settings_tracing(s)) return;
    cJSON *x = flow_http_exchange(c->h, r);
    if (records >= 0) cJSON_AddNumberToObject(x, "records", records);
    flow_settings_log(s, x);
}

/* ---- exports ---- */

enum { PG_NONE, PG_NUMBER, PG_OFFSET, PG_CURSOR, PG_NEXT_URL, PG_LINK };

typedef struct HttpExport {
    HttpConn *c;
    const FlowSettings *s;
    FlowJsonPath *records, *next_path;
    const char *records_text;
    int pag;
    char *param;
    long start;
    int64_t pageno;
    long received;
    char *next;                 /* the cursor or next URL; NULL before the first page */
    char **seen; int nseen;     /* cursors and URLs fetched */
    char *prev_body; size_t prev_len;
    cJSON *recs;                /* the current page's records, handed out from the front */
    long recno;
    int done;
    FlowErr loop;               /* the next page would repeat one: fails once this page is handed out */
} HttpExport;

static void hx_close(void *h) {
    HttpExport *x = h;
    if (!x) return;
    flow_jsonpath_free(x->records);
    flow_jsonpath_free(x->next_path);
    free(x->param);
    free(x->next);
    for (int i = 0; i < x->nseen; i++) free(x->seen[i]);
    free(x->seen);
    free(x->prev_body);
    cJSON_Delete(x->recs);
    free(x);
}

static void *hx_open(void *conn, const FlowSettings *s, FlowErr *err) {
    HttpExport *x = flow_xcalloc(1, sizeof *x);
    x->c = conn;
    x->s = s;
    int bad;
    x->records = compile_records(s, NULL, err, &bad);
    if (bad) goto fail;
    x->records_text = flow_setting_str(s, NULL, "records", NULL);
    const char *pg = flow_setting_ctor(s, NULL, "paginate", "none");
    const cJSON *pj = flow_setting(s, NULL, "paginate");
    x->pag = strcmp(pg, "page_number") == 0 ? PG_NUMBER : strcmp(pg, "offset") == 0 ? PG_OFFSET
           : strcmp(pg, "cursor") == 0 ? PG_CURSOR : strcmp(pg, "next_url") == 0 ? PG_NEXT_URL
           : strcmp(pg, "link_header") == 0 ? PG_LINK : PG_NONE;
    const char *param = arg_str(pj, "param");
    x->param = flow_xstrdup(param ? param : x->pag == PG_NUMBER ? "page" : x->pag == PG_OFFSET ? "offset" : "cursor");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(pj, "start");
    x->start = cJSON_IsNumber(st) ? (long)st->valuedouble : 1;
    if (x->pag == PG_CURSOR || x->pag == PG_NEXT_URL) {
        const char *path = arg_str(pj, "path");
        char msg[300];
        if (!path || !(x->next_path = flow_jsonpath_compile(path, msg, sizeof msg))) {
            flow_err_set(err, FLOW_ERR_VALUE, "paginate %s: path \"%s\" is not a JSONPath query%s%s", pg, path ? path : "",
                         path ? ": " : "", path ? msg : "");
            goto fail;
        }
    }
    return x;
fail:
    hx_close(x);
    return NULL;
}

static int seen_before(HttpExport *x, const char *v) {
    for (int i = 0; i < x->nseen; i++) if (strcmp(x->seen[i], v) == 0) return 1;
    x->seen = realloc(x->seen, sizeof *x->seen * (size_t)(x->nseen + 1));
    if (!x->seen) abort();
    x->seen[x->nseen++] = flow_xstrdup(v);
    return 0;
}

/* a next URL as an absolute one: "/x" against the origin, "x" against base_url */
static char *absolute(const HttpConn *c, const char *u) {
    if (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0) return flow_xstrdup(u);
    const char *root = *u == '/' ? c->origin : c->base;
    size_t n = strlen(root) + strlen(u) + 2;
    char *r = flow_xcalloc(1, n);
    snprintf(r, n, "%s%s%s", root, *u == '/' ? "" : "/", u);
    return r;
}

static const char *ci_find(const char *h, const char *n) {
    size_t nl = strlen(n);
    for (; *h; h++) if (strncasecmp(h, n, nl) == 0) return h;
    return NULL;
}

/* the rel="next" URL of a Link header, or NULL */
static char *link_next(const char *v) {
    while (v && *v) {
        const char *lt = strchr(v, '<');
        if (!lt) return NULL;
        const char *gt = strchr(lt, '>');
        if (!gt) return NULL;
        const char *end = gt + 1;
        while (*end && *end != ',') {   /* the params up to the next link */
            if (*end == '"') { end = strchr(end + 1, '"'); if (!end) return NULL; }
            end++;
        }
        const char *rel = gt + 1;
        while ((rel = ci_find(rel, "rel")) && rel < end) {
            const char *p = rel + 3;
            while (*p == ' ') p++;
            if (*p == '=') {
                p++;
                while (*p == ' ') p++;
                int q = *p == '"';
                if (q) p++;
                for (;;) {   /* rel may hold several space-separated types */
                    while (*p == ' ') p++;
                    const char *w = p;
                    while (*p && *p != ' ' && *p != '"' && *p != ';' && *p != ',') p++;
                    if (p - w == 4 && strncasecmp(w, "next", 4) == 0) return strndup(lt + 1, (size_t)(gt - lt - 1));
                    if (!q || *p != ' ') break;
                }
            }
            rel += 3;
        }
        v = *end ? end + 1 : end;
    }
    return NULL;
}

static const cJSON *first_node(const FlowJsonPath *p, const cJSON *doc) {
    Nodes ns = { 0 };
    char msg[200];
    const cJSON *r = NULL;
    if (flow_jsonpath_eval(p, doc, collect, &ns, msg, sizeof msg) == 0 && ns.n) r = ns.v[0];
    free(ns.v);
    return r;
}

/* Fetches the next page into x->recs; 0 (x->done says whether more may follow), -1 with err */
static int hx_fetch(HttpExport *x, FlowErr *err) {
    const FlowSettings *s = x->s;
    HttpConn *c = x->c;
    x->pageno++;
    char *url = NULL;
    cJSON *path = NULL, *query = NULL, *body = NULL, *headers = NULL;
    int rc = -1;
    FlowHttpCall r;
    memset(&r, 0, sizeof r);
    if ((x->pag == PG_NEXT_URL || x->pag == PG_LINK) && x->next) url = absolute(c, x->next);
    else {
        path = flow_setting_eval(s, "path", x->pageno, NULL, err);
        if (!path) return -1;
        query = flow_setting_eval(s, "query", x->pageno, NULL, err);
        if (!query && err->msg[0]) goto out;
        char val[64];
        const char *pv = NULL;
        if (x->pag == PG_NUMBER) { snprintf(val, sizeof val, "%lld", (long long)(x->start + x->pageno - 1)); pv = val; }
        else if (x->pag == PG_OFFSET) { snprintf(val, sizeof val, "%ld", x->received); pv = val; }
        else if (x->pag == PG_CURSOR) pv = x->next;
        url = build_url(c, cJSON_IsString(path) ? path->valuestring : "", query, pv ? x->param : NULL, pv);
    }
    if ((x->pag == PG_NEXT_URL || x->pag == PG_LINK) && x->pageno == 1) seen_before(x, url);
    body = flow_setting_eval(s, "body", x->pageno, NULL, err);
    if (!body && err->msg[0]) { free(url); goto out; }
    headers = flow_setting_eval(s, "headers", x->pageno, NULL, err);
    if (!headers && err->msg[0]) { free(url); goto out; }
    const char *method = flow_setting_str(s, NULL, "method", body ? "POST" : "GET");
    if (req_init(&r, c, method, url, body_text(body), headers, err)) goto out;
    flow_http_run(c->h, &r, 1, 1);
    if (r.outcome != FLOW_HTTP_OK || !ok_status(r.status)) {
        log_req(s, c, &r, -1);
        if (r.outcome == FLOW_HTTP_OK && r.status == 404 && x->pageno > 1) { x->done = 1; rc = 0; goto out; }
        flow_http_error(c->h, &r, err);
        goto out;
    }
    cJSON *doc;
    if (parse_body(&r, &doc, err)) { log_req(s, c, &r, -1); goto out; }
    if (!doc) { log_req(s, c, &r, 0); x->done = 1; rc = 0; goto out; }   /* an empty body: the end */
    cJSON *recs = take_records(doc, x->records, x->records_text, &r, err);
    if (!recs) { log_req(s, c, &r, -1); cJSON_Delete(doc); goto out; }
    int nrec = cJSON_GetArraySize(recs);
    log_req(s, c, &r, nrec);
    cJSON_Delete(x->recs);
    x->recs = recs;
    x->received += nrec;
    rc = 0;
    if (nrec == 0) x->done = 1;   /* an empty page */
    if (!x->done) {
        cJSON *stop = flow_setting_eval(s, "stop", x->pageno, doc, err);
        if (!stop && err->msg[0]) { rc = -1; cJSON_Delete(doc); goto out; }
        if (stop && !cJSON_IsBool(stop) && !cJSON_IsNull(stop)) {
            flow_err_set(err, FLOW_ERR_VALUE, "stop must be true or false, it gave %s", cJSON_IsString(stop) ? "a string" : "a value that is not a bool");
            cJSON_Delete(stop);
            cJSON_Delete(doc);
            rc = -1;
            goto out;
        }
        if (cJSON_IsTrue(stop)) x->done = 1;
        cJSON_Delete(stop);
    }
    if (!x->done) {
        char *next = NULL;
        switch (x->pag) {
        case PG_NONE: x->done = 1; break;
        case PG_NUMBER:
        case PG_OFFSET:
            if (x->prev_body && x->prev_len == r.resp_len && memcmp(x->prev_body, r.resp, r.resp_len) == 0) {
                flow_err_set(err, FLOW_ERR_VALUE, "paging loops: page %lld of %s %s answered exactly as page %lld (does the API read `%s`?)",
                             (long long)x->pageno, r.method, r.url, (long long)x->pageno - 1, x->param);
                rc = -1;
            }
            free(x->prev_body);
            x->prev_body = malloc(r.resp_len + 1);
            if (!x->prev_body) abort();
            memcpy(x->prev_body, r.resp, r.resp_len);
            x->prev_len = r.resp_len;
            break;
        case PG_CURSOR:
        case PG_NEXT_URL: {
            const cJSON *v = first_node(x->next_path, doc);
            char num[64];
            if (cJSON_IsString(v) && *v->valuestring) next = flow_xstrdup(v->valuestring);
            else if (cJSON_IsNumber(v)) next = flow_xstrdup(flow_json_num_text(v, num));
            break;
        }
        case PG_LINK: next = link_next(flow_http_header(&r, "link")); break;
        }
        if ((x->pag == PG_CURSOR || x->pag == PG_NEXT_URL || x->pag == PG_LINK)) {
            if (!next) x->done = 1;
            else {
                char *key = x->pag == PG_CURSOR ? flow_xstrdup(next) : absolute(c, next);
                if (seen_before(x, key)) {   /* this page's records are new; the next page would not be */
                    flow_err_set(&x->loop, FLOW_ERR_VALUE, "paging loops: the %s \"%s\" after page %lld of %s %s was already used",
                                 x->pag == PG_CURSOR ? "cursor" : "next URL", key, (long long)x->pageno, r.method, r.url);
                    x->done = 1;
                }
                free(key);
                free(x->next);
                x->next = next;
                next = NULL;
            }
        }
        free(next);
    }
    cJSON_Delete(doc);
out:
    cJSON_Delete(path);
    cJSON_Delete(query);
    cJSON_Delete(body);
    cJSON_Delete(headers);
    flow_http_req_clear(&r);
    return rc;
}

static int hx_next(void *h, FlowExportItem *it, FlowErr *err) {
    HttpExport *x = h;
    while (!x->recs || !x->recs->child) {
        if (x->loop.msg[0]) { *err = x->loop; return FLOW_NEXT_FAIL; }
        if (x->done) return FLOW_NEXT_END;
        if (hx_fetch(x, err)) return FLOW_NEXT_FAIL;
    }
    cJSON *r = cJSON_DetachItemViaPointer(x->recs, x->recs->child);
    x->recno++;
    if (!cJSON_IsObject(r)) {
        flow_err_set(&it->err, FLOW_ERR_VALUE, "record %ld of page %lld is %s, not an object", x->recno, (long long)x->pageno,
                     cJSON_IsString(r) ? "a string" : cJSON_IsNumber(r) ? "a number" : cJSON_IsArray(r) ? "an array" : "not an object");
        it->rec = r;
        return FLOW_NEXT_ERROR;
    }
    it->rec = r;
    return FLOW_NEXT_RECORD;
}

/* once(flag, mark = patch("/orders/{{record.id}}", body = {...})): the mark request of every record
 * of the page, `concurrency` at a time; any that still fails after its retries fails the run (its
 * record would be exported again) */
static int hx_mark(void *h, const cJSON *marks, FlowErr *err) {
    HttpExport *x = h;
    int n = cJSON_GetArraySize(marks), nreq = 0;
    FlowHttpCall *reqs = flow_xcalloc((size_t)n + 1, sizeof *reqs);
    int rc = 0;
    for (const cJSON *m = marks->child; m && !rc; m = m->next) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "mode"), "mark");
        const char *ctor = arg_str(req, "ctor"), *path = arg_str(req, "path");
        if (!ctor || !path) {
            flow_err_set(err, FLOW_ERR_VALUE, "once() over http needs mark = patch(\"/path/{{record.id}}\", body = {...})");
            rc = -1;
            break;
        }
        char method[16];
        size_t k = 0;
        for (; ctor[k] && k < sizeof method - 1; k++) method[k] = (char)toupper((unsigned char)ctor[k]);
        method[k] = 0;
        char *url = build_url(x->c, path, cJSON_GetObjectItemCaseSensitive(req, "query"), NULL, NULL);
        if (req_init(&reqs[nreq], x->c, method, url, body_text(cJSON_GetObjectItemCaseSensitive(req, "body")), NULL, err)) rc = -1;
        nreq++;
    }
    if (!rc) {
        flow_http_run(x->c->h, reqs, nreq, x->c->concurrency);
        for (int i = 0; i < nreq; i++) {
            log_req(x->s, x->c, &reqs[i], -1);
            if (!rc && (reqs[i].outcome != FLOW_HTTP_OK || !ok_status(reqs[i].status))) {
                flow_http_error(x->c->h, &reqs[i], err);
                rc = -1;
            }
        }
    }
    for (int i = 0; i < nreq; i++) flow_http_req_clear(&reqs[i]);
    free(reqs);
    return rc;
}

/* ---- requests for many records at once: identical ones sent once ---- */

typedef struct Batch {
    FlowHttpCall *reqs; int n;
    int *of;                   /* item -> its request, or -1 (a record error already) */
    int *slots; int nslots;    /* hash table of requests (index + 1), for finding identical ones */
} Batch;

static void batch_init(Batch *b, int n) {
    memset(b, 0, sizeof *b);
    b->reqs = flow_xcalloc((size_t)n, sizeof *b->reqs);
    b->of = flow_xcalloc((size_t)n, sizeof *b->of);
    b->nslots = 16;
    while (b->nslots < 2 * n) b->nslots *= 2;
    b->slots = flow_xcalloc((size_t)b->nslots, sizeof *b->slots);
}

static void batch_free(Batch *b) {
    for (int i = 0; i < b->n; i++) flow_http_req_clear(&b->reqs[i]);
    free(b->reqs);
    free(b->of);
    free(b->slots);
}

static uint64_t fnv(uint64_t h, const char *s) {
    for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

/* adds a request unless an identical one (method, URL, body) is there; returns its index */
static int batch_add(Batch *b, FlowHttpCall *r) {
    uint64_t h = fnv(fnv(fnv(14695981039346656037ull, r->method), r->url), r->body ? r->body : "\x01");
    for (size_t k = (size_t)h & (size_t)(b->nslots - 1);; k = (k + 1) & (size_t)(b->nslots - 1)) {
        int i = b->slots[k] - 1;
        if (i < 0) {
            b->slots[k] = b->n + 1;
            b->reqs[b->n] = *r;
            return b->n++;
        }
        FlowHttpCall *o = &b->reqs[i];
        if (strcmp(o->method, r->method) == 0 && strcmp(o->url, r->url) == 0 &&
            ((!o->body && !r->body) || (o->body && r->body && strcmp(o->body, r->body) == 0))) {
            flow_http_req_clear(r);
            return i;
        }
    }
}

/* a 2xx response's rows (a fresh array), a 404 as none; -1 with err (and *http) otherwise */
static int rows_of(const HttpConn *c, const FlowHttpCall *r, const FlowJsonPath *path, const char *path_text, cJSON **rows,
                   FlowErr *err, cJSON **http) {
    *rows = NULL;
    if (r->outcome == FLOW_HTTP_OK && r->status == 404) { *rows = cJSON_CreateArray(); return 0; }
    if (r->outcome != FLOW_HTTP_OK || !ok_status(r->status)) {
        flow_http_error(c->h, r, err);
        *http = flow_http_exchange(c->h, r);
        return -1;
    }
    cJSON *doc;
    if (parse_body(r, &doc, err)) { *http = flow_http_exchange(c->h, r); return -1; }
    if (!doc) { *rows = cJSON_CreateArray(); return 0; }
    *rows = take_records(doc, path, path_text, r, err);
    cJSON_Delete(doc);
    if (!*rows) { *http = flow_http_exchange(c->h, r); return -1; }
    return 0;
}

/* ---- lookups ---- */

typedef struct HttpLookup { HttpConn *c; const FlowSettings *s; } HttpLookup;

static void *hl_open(void *conn, const FlowSettings *s, FlowErr *err) {
    int bad;
    FlowJsonPath *p = compile_records(s, NULL, err, &bad);   /* checked once when constant */
    flow_jsonpath_free(p);
    if (bad) return NULL;
    HttpLookup *l = flow_xcalloc(1, sizeof *l);
    l->c = conn;
    l->s = s;
    return l;
}

static void hl_close(void *h) { free(h); }

/* a lookup's or an exists check's request for one record; -1 with err */
static int record_req(const HttpConn *c, const FlowSettings *s, const cJSON *rs, FlowHttpCall *r, FlowErr *err) {
    const char *path = flow_setting_str(s, rs, "path", "");
    const cJSON *body = flow_setting(s, rs, "body");
    char *url = build_url(c, path, flow_setting(s, rs, "query"), NULL, NULL);
    const char *method = flow_setting_str(s, rs, "method", body && !cJSON_IsNull(body) ? "POST" : "GET");
    if (req_init(r, c, method, url, body_text(body), flow_setting(s, rs, "headers"), err)) { flow_http_req_clear(r); return -1; }
    return 0;
}

static int hl_page(void *h, FlowLookupItem *items, int n, FlowErr *err) {
    HttpLookup *l = h;
    (void)err;
    Batch b;
    batch_init(&b, n);
    for (int i = 0; i < n; i++) {
        FlowHttpCall r;
        FlowErr e;
        b.of[i] = -1;
        flow_err_clear(&e);
        if (record_req(l->c, l->s, items[i].rs, &r, &e)) { flow_lookup_fail(&items[i], e.cls, "%s", e.msg); continue; }
        b.of[i] = batch_add(&b, &r);
    }
    flow_http_run(l->c->h, b.reqs, b.n, l->c->concurrency);
    for (int k = 0; k < b.n; k++) log_req(l->s, l->c, &b.reqs[k], -1);
    for (int i = 0; i < n; i++) {
        if (b.of[i] < 0) continue;
        int bad;
        FlowErr e;
        flow_err_clear(&e);
        FlowJsonPath *p = compile_records(l->s, items[i].rs, &e, &bad);
        if (bad) { flow_lookup_fail(&items[i], e.cls, "%s", e.msg); continue; }
        if (rows_of(l->c, &b.reqs[b.of[i]], p, flow_setting_str(l->s, items[i].rs, "records", NULL), &items[i].rows, &e,
                    &items[i].http))
            flow_lookup_fail(&items[i], e.cls, "%s", e.msg);
        flow_jsonpath_free(p);
    }
    batch_free(&b);
    return 0;
}

/* ---- imports ---- */

typedef struct HttpImport { HttpConn *c; const FlowSettings *s; int conc, batch; } HttpImport;

static void *hi_open(void *conn, const FlowSettings *s, FlowErr *err) {
    HttpImport *im = flow_xcalloc(1, sizeof *im);
    im->c = conn;
    im->s = s;
    im->batch = (int)num_setting(s, "batch", 1);
    im->conc = (int)num_setting(s, "concurrency", im->c->concurrency);
    return im;
}

static void hi_close(void *h) { free(h); }

/* upsert = by(key, exists = get(path, query, records), method, id): per record, whether the
 * destination has it */
static int hi_existing(void *h, FlowImportItem *items, int n, FlowErr *err) {
    HttpImport *im = h;
    (void)err;
    Batch b;
    batch_init(&b, n);
    for (int i = 0; i < n; i++) {
        b.of[i] = -1;
        const cJSON *up = flow_setting(im->s, items[i].rs, "upsert");
        if (!cJSON_IsObject(up)) continue;
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(up, "exists");
        const char *key = arg_str(up, "key");
        const char *path = arg_str(ex, "path");
        if (!path) { flow_import_fail(&items[i], FLOW_ERR_VALUE, "upsert: exists needs get(path, ...)"); continue; }
        const cJSON *query = cJSON_GetObjectItemCaseSensitive(ex, "query");
        cJSON *q = NULL;
        if (!query || cJSON_IsNull(query)) {   /* no query: ?key=<the mapped value of key> */
            const cJSON *kv = key ? cJSON_GetObjectItemCaseSensitive(items[i].out, key) : NULL;
            if (!kv || cJSON_IsNull(kv)) {
                flow_import_fail(&items[i], FLOW_ERR_VALUE, "upsert: the mapped record has no `%s` to look for", key ? key : "key");
                continue;
            }
            q = cJSON_CreateObject();
            cJSON_AddItemToObject(q, key, cJSON_Duplicate(kv, 1));
            query = q;
        }
        FlowHttpCall r;
        FlowErr e;
        flow_err_clear(&e);
        char *url = build_url(im->c, path, query, NULL, NULL);
        cJSON_Delete(q);
        if (req_init(&r, im->c, "GET", url, NULL, flow_setting(im->s, items[i].rs, "headers"), &e)) {
            flow_http_req_clear(&r);
            flow_import_fail(&items[i], e.cls, "%s", e.msg);
            continue;
        }
        b.of[i] = batch_add(&b, &r);
    }
    flow_http_run(im->c->h, b.reqs, b.n, im->conc);
    for (int k = 0; k < b.n; k++) log_req(im->s, im->c, &b.reqs[k], -1);
    for (int i = 0; i < n; i++) {
        if (b.of[i] < 0) continue;
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(flow_setting(im->s, items[i].rs, "upsert"), "exists");
        const char *rtext = arg_str(ex, "records");
        char msg[300];
        FlowJsonPath *p = rtext ? flow_jsonpath_compile(rtext, msg, sizeof msg) : NULL;
        if (rtext && !p) {
            flow_import_fail(&items[i], FLOW_ERR_VALUE, "upsert: records \"%s\" is not a JSONPath query: %s", rtext, msg);
            continue;
        }
        cJSON *rows = NULL;
        FlowErr e;
        flow_err_clear(&e);
        if (rows_of(im->c, &b.reqs[b.of[i]], p, rtext, &rows, &e, &items[i].http)) flow_import_fail(&items[i], e.cls, "%s", e.msg);
        else {
            int nr = cJSON_GetArraySize(rows);
            if (nr > 1) {
                flow_import_fail(&items[i], FLOW_ERR_VALUE, "upsert: the exists request %s matched %d records, not one",
                                 b.reqs[b.of[i]].url, nr);
            } else if (nr == 1) items[i].existing = cJSON_DetachItemFromArray(rows, 0);
        }
        cJSON_Delete(rows);
        flow_jsonpath_free(p);
    }
    batch_free(&b);
    return 0;
}

/* the body for items[from..to): the rendered `body` template(s) or the mapped output(s); an array
 * when the request carries a batch */
static char *import_body(const HttpImport *im, FlowImportItem *items, int from, int to, int array) {
    FlowSb b = { 0 };
    if (array) flow_sb_puts(&b, "[");
    for (int i = from; i < to; i++) {
        if (i > from) flow_sb_puts(&b, ",");
        const char *tpl = flow_setting_str(im->s, items[i].rs, "body", NULL);
        if (tpl) flow_sb_puts(&b, tpl);
        else {
            char *t = flow_json_print(items[i].out);
            flow_sb_puts(&b, t ? t : "null");
            cJSON_free(t);
        }
    }
    if (array) flow_sb_puts(&b, "]");
    return flow_sb_take(&b);
}

static int hi_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    HttpImport *im = h;
    (void)err;
    FlowHttpCall *reqs = flow_xcalloc((size_t)n, sizeof *reqs);
    int *from = flow_xcalloc((size_t)n + 1, sizeof *from), *to = flow_xcalloc((size_t)n + 1, sizeof *to);
    int nreq = 0;
    for (int i = 0; i < n;) {
        FlowImportItem *it = &items[i];
        const char *path = flow_setting_str(im->s, it->rs, "path", "");
        const cJSON *query = flow_setting(im->s, it->rs, "query");
        const cJSON *headers = flow_setting(im->s, it->rs, "headers");
        char *url, *body;
        const char *method;
        int end = i + 1;
        if (it->existing) {   /* an update: by's method to path/<existing id> */
            const cJSON *up = flow_setting(im->s, it->rs, "upsert");
            const char *idf = arg_str(up, "id");
            const cJSON *idv = cJSON_GetObjectItemCaseSensitive(it->existing, idf ? idf : "id");
            char num[64];
            const char *ids = cJSON_IsString(idv) ? idv->valuestring : NULL;
            if (cJSON_IsNumber(idv)) ids = flow_json_num_text(idv, num);   /* exact */
            if (ids && (strcmp(ids, ".") == 0 || strcmp(ids, "..") == 0)) {   /* a dot segment would move up the path */
                flow_import_fail(it, FLOW_ERR_VALUE, "upsert: the existing record's `%s` is `%s`, which cannot address an update",
                                 idf ? idf : "id", ids);
                i++;
                continue;
            }
            if (!ids || !*ids) {
                flow_import_fail(it, FLOW_ERR_VALUE, "upsert: the existing record has no `%s` to address the update with",
                                 idf ? idf : "id");
                i++;
                continue;
            }
            char *eid = flow_http_escape(ids);
            size_t pl = strlen(path) + strlen(eid) + 2;
            char *p2 = flow_xcalloc(1, pl);
            snprintf(p2, pl, "%s%s%s", path, *path && path[strlen(path) - 1] == '/' ? "" : "/", eid);
            free(eid);
            url = build_url(im->c, p2, query, NULL, NULL);
            free(p2);
            method = arg_str(up, "method") ? arg_str(up, "method") : "PATCH";
            body = import_body(im, items, i, i + 1, 0);
        } else {   /* creates: up to `batch` records in a row that are not updates */
            while (end < n && end - i < im->batch && !items[end].existing) end++;
            url = build_url(im->c, path, query, NULL, NULL);
            method = flow_setting_str(im->s, it->rs, "method", "POST");
            body = import_body(im, items, i, end, im->batch > 1);
        }
        FlowErr e;
        flow_err_clear(&e);
        if (req_init(&reqs[nreq], im->c, method, url, body, headers, &e)) {
            for (int k = i; k < end; k++) flow_import_fail(&items[k], e.cls, "%s", e.msg);
            flow_http_req_clear(&reqs[nreq]);
            i = end;
            continue;
        }
        from[nreq] = i;
        to[nreq++] = end;
        i = end;
    }
    flow_http_run(im->c->h, reqs, nreq, im->conc);
    for (int q = 0; q < nreq; q++) {
        FlowHttpCall *r = &reqs[q];
        log_req(im->s, im->c, r, -1);
        if (r->outcome != FLOW_HTTP_OK || !ok_status(r->status)) {
            FlowErr e;
            flow_http_error(im->c->h, r, &e);
            for (int k = from[q]; k < to[q]; k++) {
                flow_import_fail(&items[k], e.cls, "%s", e.msg);
                items[k].http = flow_http_exchange(im->c->h, r);
            }
            continue;
        }
        cJSON *doc = NULL;
        if (r->resp && !blank(r->resp, r->resp_len)) {
            doc = flow_json_parse(r->resp, r->resp_len, NULL);
            /* not JSON: the response mapping sees the text (bytes that are not text as U+FFFD) */
            if (!doc) doc = flow_json_raw_text(r->resp, r->resp_len);
        }
        int nb = to[q] - from[q];
        int per_item = im->batch > 1 && !items[from[q]].existing && cJSON_IsArray(doc) && cJSON_GetArraySize(doc) == nb;
        const cJSON *el = per_item ? doc->child : NULL;
        for (int k = from[q]; k < to[q]; k++) {
            items[k].response = per_item ? cJSON_Duplicate(el, 1) : doc ? cJSON_Duplicate(doc, 1) : cJSON_CreateNull();
            if (el) el = el->next;
        }
        cJSON_Delete(doc);
    }
    for (int q = 0; q < nreq; q++) flow_http_req_clear(&reqs[q]);
    free(reqs);
    free(from);
    free(to);
    return 0;
}

/* the connection proven (probe.c): a GET of its `ping` path (base_url itself without one) with its
 * auth and headers, one attempt (no retries); a 2xx answer, after redirects, is ok */
static int h_probe(const FlowSettings *s, unsigned uses, cJSON *info, FlowErr *err) {
    (void)uses;
    HttpConn *c = h_open(s, FLOW_USE_EXPORT, err);
    if (!c) return -1;
    flow_http_set_retries(c->h, 0);
    FlowHttpCall r;
    int rc = -1;
    if (req_init(&r, c, "GET", build_url(c, flow_setting_str(s, NULL, "ping", ""), NULL, NULL, NULL), NULL, NULL, err) == 0) {
        flow_http_run(c->h, &r, 1, 1);
        cJSON_AddStringToObject(info, "url", r.url);
        if (r.outcome == FLOW_HTTP_OK) cJSON_AddNumberToObject(info, "status", (double)r.status);
        if (r.outcome == FLOW_HTTP_OK && ok_status(r.status)) rc = 0;
        else flow_http_error(c->h, &r, err);
        log_req(s, c, &r, -1);
    }
    flow_http_req_clear(&r);
    conn_free(c);
    return rc;
}

const FlowConnector flow_conn_http = {
    .kind = "http",
    .upsert_by_lookup = 1,
    .open = h_open, .finish = h_finish, .close = h_close, .probe = h_probe,
    .export_open = hx_open, .export_next = hx_next, .export_close = hx_close, .export_mark = hx_mark,
    .lookup_open = hl_open, .lookup_page = hl_page, .lookup_close = hl_close,
    .import_open = hi_open, .import_existing_page = hi_existing, .import_page = hi_page, .import_close = hi_close,
    .lib = FLOW_LIB_CURL,
};
