/* webhook.c — everything behind a webhook path (webhook.h): the webhook triggers of a program,
 * evaluated once; routing a path to its flow; verification of a request (hmac over the raw body
 * with OpenSSL's libcrypto, a token in a header or the query, basic credentials, a secret in the
 * URL), every comparison in constant time; the body as records (one JSON value, or NDJSON, through
 * the one JSON reader; `records` picks them out); subscription handshakes (`challenge`); and the
 * durable queue: a verified request's records are one event in the state store, committed (fsync'd)
 * before the request is answered, and a redelivery (X-GitHub-Delivery, X-Shopify-Webhook-Id,
 * Idempotency-Key seen within 24 h) is acknowledged without being queued again. Nothing here logs
 * a request: a refused one leaves no trace but its answer, no answer holds a secret, and the one
 * line written (stderr: serve's log) is for a verified request the store could not take. */
#define _DEFAULT_SOURCE   /* explicit_bzero, strncasecmp */
#include "webhook.h"
#include "jsonpath.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef enum { V_NONE, V_HMAC, V_TOKEN, V_BASIC, V_SECRET_URL } VerifyKind;

typedef struct Hook {
    int fi;
    const char *flow;
    char *path; size_t plen;
    VerifyKind vk;
    const EVP_MD *md; size_t mdlen;       /* hmac */
    char *header;                         /* hmac, token: the header to read */
    char *query;                          /* token: the query parameter to read instead */
    unsigned char *key; size_t nkey;      /* hmac: the secret */
    unsigned char want[SHA256_DIGEST_LENGTH];   /* token, basic ("user:password"), secret_url: SHA-256 of what must come */
    int base64;                           /* hmac: the signature's encoding */
    char *prefix;                         /* hmac: text before the signature ("sha256=") */
    int status;                           /* the answer to a request that was queued */
    FlowJsonPath *challenge; char *challenge_text;
    int takes_records;                    /* the export is `from webhook`: the body is records */
    FlowJsonPath *records; char *records_text;
} Hook;

/* a verified request waiting for its group's commit */
typedef struct Pending {
    FlowQueueItem item;
    size_t bytes;
    struct Pending *next;
    int done, rc;                         /* rc 0: written (item.id, or item.dup), -1: err */
    FlowErr err;
} Pending;

/* Group commit: requests that arrive while a transaction is being written wait for the next one,
 * which the first of them writes for all (one fsync however many there are); each is answered once
 * its group is on disk. */
#define GROUP_MAX 512                               /* requests in one transaction */
#define GROUP_MAX_BYTES ((size_t)32 * 1024 * 1024)   /* ...and their records' text */

struct FlowWebhooks {
    const FlowProgram *p;
    Hook *h; int n;
    FlowQueue *q;
    pthread_mutex_t mu;                   /* the list below and `busy` */
    pthread_cond_t cv;                    /* a group was written, or the connection was released */
    Pending *head, *tail;                 /* requests waiting for a group */
    int busy;                             /* a thread is using q (writing a group, or counting) */
    long commits;                         /* transactions that queued requests */
};

static const char *const delivery_headers[] = { "X-GitHub-Delivery", "X-Shopify-Webhook-Id", "Idempotency-Key" };

/* ---- the path a trigger is served on (the checker applies the same rule to constants) ---- */

int flow_webhook_path_check(const char *path, char *why, size_t cap) {
    size_t n = strlen(path);
    if (path[0] != '/') { snprintf(why, cap, "a webhook path starts with `/`, as in \"/hooks/orders\""); return -1; }
    if (n > 1024) { snprintf(why, cap, "a webhook path is at most 1024 bytes"); return -1; }
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0 || strcmp(path, "/flows") == 0 || strncmp(path, "/flows/", 7) == 0) {
        snprintf(why, cap, "%s is served by `serve` itself (/healthz, /metrics, /flows/...): give the webhook another path", path);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '/' && path[i + 1] == '/') { snprintf(why, cap, "a webhook path has no empty segment (`//`)"); return -1; }
        if (c == '/' && path[i + 1] == '.' && (path[i + 2] == '/' || !path[i + 2] || (path[i + 2] == '.' && (path[i + 3] == '/' || !path[i + 3])))) {
            snprintf(why, cap, "a webhook path has no `.` or `..` segment");
            return -1;
        }
        if (c == '%') {
            if (!strchr("0123456789abcdefABCDEF", path[i + 1]) || !path[i + 1] || !strchr("0123456789abcdefABCDEF", path[i + 2]) || !path[i + 2]) {
                snprintf(why, cap, "`%%` in a webhook path starts an escape of two hex digits (%%20)");
                return -1;
            }
            continue;
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:@/", c)) continue;
        if (c == '?' || c == '#') snprintf(why, cap, "a webhook path has no `%c`: it is matched without the query", c);
        else if (c <= ' ' || c >= 0x7f) snprintf(why, cap, "a webhook path is ASCII without spaces or control characters (escape others: %%XX)");
        else snprintf(why, cap, "`%c` cannot be in a webhook path (escape it: %%%02X)", c, c);
        return -1;
    }
    return 0;
}

/* ---- small helpers ---- */

static void sha256(const void *p, size_t n, unsigned char out[SHA256_DIGEST_LENGTH]) {
    unsigned int len = 0;
    EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

/* text equal to the value whose SHA-256 is `want`, in time that does not depend on where they differ */
static int same_secret(const char *p, size_t n, const unsigned char want[SHA256_DIGEST_LENGTH]) {
    unsigned char got[SHA256_DIGEST_LENGTH];
    sha256(p, n, got);
    return CRYPTO_memcmp(got, want, sizeof got) == 0;
}

static int hexval(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* hex digits (either case) into out: the byte count, or -1 when not hex or longer than cap */
static long unhex(const char *s, size_t n, unsigned char *out, size_t cap) {
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n; i += 2) {
        int a = hexval((unsigned char)s[i]), b = hexval((unsigned char)s[i + 1]);
        if (a < 0 || b < 0) return -1;
        out[i / 2] = (unsigned char)(a << 4 | b);
    }
    return (long)(n / 2);
}

/* base64 (RFC 4648, the standard or the URL alphabet; padding optional, but right when present) into
 * out: the byte count, or -1 when not base64 or longer than cap */
static long unbase64(const char *s, size_t n, unsigned char *out, size_t cap) {
    while (n && s[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+' || c == '-') v = 62;
        else if (c == '/' || c == '_') v = 63;
        else return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap) return -1;
            out[o++] = (unsigned char)(acc >> bits & 0xFF);
        }
    }
    if (acc & ((1u << bits) - 1)) return -1;   /* bits after the last byte must be 0: one encoding per value */
    return (long)o;
}

/* a header's value without the white space around it; NULL when absent */
static const char *header(const FlowHttpReq *rq, const char *name, size_t *n) {
    const char *v = rq->header ? rq->header(rq->header_ctx, name) : NULL;
    if (!v) return NULL;
    while (*v == ' ' || *v == '\t') v++;
    size_t len = strlen(v);
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
    *n = len;
    return v;
}

/* %XX and + decoded, into a fresh string (*n bytes; a NUL inside stays) */
static char *pct_decode(const char *s, size_t len, size_t *n) {
    char *o = flow_xcalloc(1, len + 1);
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval((unsigned char)s[i + 1]) >= 0 && hexval((unsigned char)s[i + 2]) >= 0) {
            o[w++] = (char)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
            i += 2;
        } else o[w++] = s[i] == '+' ? ' ' : s[i];
    }
    *n = w;
    return o;
}

/* the value of query parameter `name` (decoded, fresh, *n bytes): 1, 0 when absent, -1 when given twice */
static int query_param(const char *query, const char *name, char **value, size_t *n) {
    *value = NULL;
    int found = 0;
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        size_t kn;
        char *k = pct_decode(p, (size_t)((eq ? eq : end) - p), &kn);
        if (kn == strlen(name) && memcmp(k, name, kn) == 0) {
            if (found) { free(k); free(*value); *value = NULL; return -1; }
            found = 1;
            *value = eq ? pct_decode(eq + 1, (size_t)(end - eq - 1), n) : flow_xstrdup("");
            if (!eq) *n = 0;
        }
        free(k);
        p = amp ? amp + 1 : end;
    }
    return found;
}

static void answer(FlowHttpResp *resp, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answer(FlowHttpResp *resp, int status, const char *fmt, ...) {
    resp->status = status;
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = NULL;
    if (!fmt) return;
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *t = flow_json_print(o);
    cJSON_Delete(o);
    if (!t) return;
    size_t n = strlen(t);
    resp->body = malloc(n + 2);
    if (!resp->body) abort();
    memcpy(resp->body, t, n);
    resp->body[n] = '\n';
    resp->body[n + 1] = 0;
    resp->body_len = n + 1;
    resp->content_type = "application/json";
    cJSON_free(t);
}

/* ---- verification: 1 verified, 0 refused (with why) ---- */

static int verify(const Hook *h, const FlowHttpReq *rq, char *why, size_t cap) {
    size_t n = 0;
    const char *v;
    switch (h->vk) {
    case V_NONE:
        return 1;
    case V_HMAC: {
        if (!(v = header(rq, h->header, &n))) { snprintf(why, cap, "no %s header: the request is not signed", h->header); return 0; }
        size_t pl = h->prefix ? strlen(h->prefix) : 0;
        if (pl && (n < pl || strncmp(v, h->prefix, pl) != 0)) {
            snprintf(why, cap, "the %s header does not start with `%s`", h->header, h->prefix);
            return 0;
        }
        unsigned char got[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
        long gl = h->base64 ? unbase64(v + pl, n - pl, got, sizeof got) : unhex(v + pl, n - pl, got, sizeof got);
        unsigned int ml = 0;
        if (!HMAC(h->md, h->key, (int)h->nkey, (const unsigned char *)(rq->body ? rq->body : ""), rq->body_len, mac, &ml)) ml = 0;
        /* the length of a signature is no secret; its bytes are compared in constant time */
        int ok = gl == (long)h->mdlen && ml == h->mdlen && CRYPTO_memcmp(got, mac, h->mdlen) == 0;
        if (!ok) snprintf(why, cap, "the signature in %s does not match the body", h->header);
        OPENSSL_cleanse(mac, sizeof mac);
        return ok;
    }
    case V_TOKEN: {
        if (h->query) {
            char *val = NULL;
            int r = query_param(rq->query, h->query, &val, &n);
            int ok = r == 1 && same_secret(val, n, h->want);
            if (val) { OPENSSL_cleanse(val, n); free(val); }
            if (r == 0) snprintf(why, cap, "no `%s` in the query: the request carries no token", h->query);
            else if (r < 0) snprintf(why, cap, "`%s` is given twice in the query", h->query);
            else if (!ok) snprintf(why, cap, "the token in the query's `%s` is wrong", h->query);
            return ok;
        }
        if (!(v = header(rq, h->header, &n))) { snprintf(why, cap, "no %s header: the request carries no token", h->header); return 0; }
        if (same_secret(v, n, h->want)) return 1;
        snprintf(why, cap, "the token in %s is wrong", h->header);
        return 0;
    }
    case V_BASIC: {
        v = header(rq, "Authorization", &n);
        if (!v || n < 6 || strncasecmp(v, "Basic ", 6) != 0) {
            snprintf(why, cap, "no `Authorization: Basic ...` header: the request carries no credentials");
            return 0;
        }
        const char *b = v + 6;
        while (*b == ' ') b++;
        size_t bl = n - (size_t)(b - v);
        unsigned char *dec = flow_xcalloc(1, bl + 1);
        long dl = unbase64(b, bl, dec, bl);
        int ok = dl >= 0 && same_secret((const char *)dec, (size_t)dl, h->want);
        OPENSSL_cleanse(dec, bl + 1);
        free(dec);
        if (!ok) snprintf(why, cap, "wrong user or password");
        return ok;
    }
    case V_SECRET_URL: {
        const char *seg = rq->path && strlen(rq->path) > h->plen + 1 ? rq->path + h->plen + 1 : "";
        if (*seg && same_secret(seg, strlen(seg), h->want)) return 1;
        snprintf(why, cap, "the secret in the URL is missing or wrong");
        return 0;
    }
    }
    return 0;
}

/* ---- the body as records ---- */

typedef struct Texts { char **v; size_t *n; long count, cap; size_t bytes; } Texts;

static void texts_add(Texts *t, const cJSON *rec) {
    char *s = flow_json_print(rec);
    if (!s) abort();
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = flow_xrealloc(t->v, sizeof *t->v * (size_t)t->cap);
        t->n = flow_xrealloc(t->n, sizeof *t->n * (size_t)t->cap);
    }
    t->n[t->count] = strlen(s);
    t->bytes += t->n[t->count];
    t->v[t->count++] = s;
}

static void texts_free(Texts *t) {
    for (long i = 0; i < t->count; i++) cJSON_free(t->v[i]);
    free(t->v);
    free(t->n);
    memset(t, 0, sizeof *t);
}

typedef struct Nodes { const cJSON **v; int n, cap; } Nodes;
static void collect(const cJSON *node, void *ud) {
    Nodes *ns = ud;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = flow_xrealloc(ns->v, sizeof *ns->v * (size_t)ns->cap);
    }
    ns->v[ns->n++] = node;
}

/* the names of an object's first members, for a message */
static void keys_hint(const cJSON *doc, char *out, size_t cap) {
    if (!cJSON_IsObject(doc)) { snprintf(out, cap, "the body is %s", flow_json_desc(doc)); return; }
    size_t w = (size_t)snprintf(out, cap, "its keys: ");
    int k = 0;
    for (const cJSON *m = doc->child; m && w < cap; m = m->next, k++) {
        if (k == 12) { snprintf(out + w, cap - w, ", ..."); break; }
        char q[200];
        w += (size_t)snprintf(out + w, cap - w, "%s%s", k ? ", " : "", flow_quote(q, sizeof q, m->string, strlen(m->string), 40));
    }
    if (!k) snprintf(out, cap, "the body is an empty object");
}

/* one JSON value's records (where: "" for the body, "line N: " for an NDJSON line): 0, or -1 with why */
static int take(const Hook *h, const cJSON *doc, int ndjson, const char *where, Texts *t, char *why, size_t cap) {
    if (!h->records) {
        if (cJSON_IsArray(doc) && !ndjson) {
            for (const cJSON *e = doc->child; e; e = e->next) texts_add(t, e);
            return 0;
        }
        if (cJSON_IsObject(doc) || ndjson) { texts_add(t, doc); return 0; }
        snprintf(why, cap, "the body is %s: a webhook body is a record (a JSON object), an array of records or NDJSON (a record per line)",
                 flow_json_desc(doc));
        return -1;
    }
    Nodes ns = { 0 };
    char msg[300];
    if (flow_jsonpath_eval(h->records, doc, collect, &ns, msg, sizeof msg) < 0) {
        free(ns.v);
        snprintf(why, cap, "%srecords path %s: %s", where, h->records_text, msg);
        return -1;
    }
    int rc = 0;
    if (ns.n == 0) {
        char hint[400];
        keys_hint(doc, hint, sizeof hint);
        snprintf(why, cap, "%srecords path %s matches nothing in the body (%s)", where, h->records_text, hint);
        rc = -1;
    } else if (ns.n == 1 && cJSON_IsArray(ns.v[0])) {
        for (const cJSON *e = ns.v[0]->child; e; e = e->next) texts_add(t, e);
    } else if (ns.n == 1 && !cJSON_IsObject(ns.v[0]) && !cJSON_IsNull(ns.v[0])) {
        snprintf(why, cap, "%srecords path %s matches %s, not records", where, h->records_text, flow_json_desc(ns.v[0]));
        rc = -1;
    } else {
        for (int i = 0; i < ns.n; i++) if (!cJSON_IsNull(ns.v[i])) texts_add(t, ns.v[i]);
    }
    free(ns.v);
    return rc;
}

static int blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') return 0;
    return 1;
}

/* The body's records into t: one JSON value (doc, parsed already, or NULL with its error je), or
 * else NDJSON. 0, or -1 with why (a 400). */
static int body_records(const Hook *h, const FlowHttpReq *rq, const cJSON *doc, const FlowJsonError *je, Texts *t, char *why, size_t cap) {
    if (doc) return take(h, doc, 0, "", t, why, cap);
    if (blank(rq->body ? rq->body : "", rq->body_len)) {
        snprintf(why, cap, "the body is empty: a webhook body is a record (a JSON object), an array of records or NDJSON");
        return -1;
    }
    if (strcmp(je->msg, "unexpected text after the JSON value") != 0) {   /* not one value, and its first is broken: not JSON */
        snprintf(why, cap, "the body is not JSON: malformed JSON at line %ld, column %ld: %s", je->line, je->col, je->msg);
        return -1;
    }
    /* more than one value: NDJSON, one record per line; a bad line refuses the whole request */
    const char *p = rq->body, *end = rq->body + rq->body_len;
    long line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        line++;
        size_t ln = (size_t)(le - p);
        if (ln && p[ln - 1] == '\r') ln--;
        if (!blank(p, ln)) {
            FlowJsonError le_err;
            cJSON *j = flow_json_parse(p, ln, &le_err);
            if (!j) {
                snprintf(why, cap, "the body is neither JSON nor NDJSON: line %ld: malformed JSON at column %ld: %s", line, le_err.col, le_err.msg);
                return -1;
            }
            char where[48];
            snprintf(where, sizeof where, "line %ld: ", line);
            int r = take(h, j, 1, where, t, why, cap);
            cJSON_Delete(j);
            if (r) return -1;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* the delivery's key for redelivery detection: "<header>:<value>" (a long value by its SHA-256); NULL when none */
static char *delivery_key(const FlowHttpReq *rq) {
    for (size_t i = 0; i < sizeof delivery_headers / sizeof delivery_headers[0]; i++) {
        size_t n;
        const char *v = header(rq, delivery_headers[i], &n);
        if (!v || !n) continue;
        FlowSb b = { 0 };
        for (const char *c = delivery_headers[i]; *c; c++) {
            char lc = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
            flow_sb_put(&b, &lc, 1);
        }
        flow_sb_puts(&b, ":");
        size_t at;
        if (n <= 256 && flow_text_check(v, n, &at) == FLOW_TEXT_OK) flow_sb_put(&b, v, n);
        else {
            unsigned char d[SHA256_DIGEST_LENGTH];
            sha256(v, n, d);
            char hex[2 * SHA256_DIGEST_LENGTH + 8] = "sha256:";
            for (int k = 0; k < SHA256_DIGEST_LENGTH; k++) snprintf(hex + 7 + 2 * k, 3, "%02x", d[k]);
            flow_sb_puts(&b, hex);
        }
        return flow_sb_take(&b);
    }
    return NULL;
}

/* a handshake: the value the challenge path picks in an object body (one string or number), as text */
static char *challenge_of(const Hook *h, const cJSON *doc) {
    if (!h->challenge || !cJSON_IsObject(doc)) return NULL;
    Nodes ns = { 0 };
    char msg[200];
    char *out = NULL;
    if (flow_jsonpath_eval(h->challenge, doc, collect, &ns, msg, sizeof msg) == 0 && ns.n == 1) {
        if (cJSON_IsString(ns.v[0])) out = flow_xstrdup(ns.v[0]->valuestring);
        else if (cJSON_IsNumber(ns.v[0])) {
            char buf[32];
            out = flow_xstrdup(flow_json_num_text(ns.v[0], buf));
        }
    }
    free(ns.v);
    return out;
}

/* ---- the queue: group commit ---- */

/* the group first..(end of list) in one transaction, outside the mutex (the connection is ours:
 * `busy`); each request's outcome in its Pending, which its thread reads once `done` is set under
 * the mutex. A group that fails for a reason other than a busy store is written again one request
 * at a time, so that a request the store refuses does not take the others of its group down with
 * it. The number of transactions committed. */
static long write_group(FlowWebhooks *w, Pending *first, int n) {
    FlowQueueItem *items = flow_xcalloc((size_t)n, sizeof *items);
    Pending **ps = flow_xcalloc((size_t)n, sizeof *ps);
    int k = 0;
    for (Pending *p = first; p; p = p->next) { ps[k] = p; items[k++] = p->item; }
    long commits = 0;
    FlowErr err;
    memset(&err, 0, sizeof err);
    int rc = flow_queue_add_batch(w->q, items, n, flow_wall_ms(), &err);
    if (rc == 0 || n == 1 || err.cls == FLOW_ERR_INTERMITTENT) {
        commits += rc == 0;
        for (k = 0; k < n; k++) {
            ps[k]->item = items[k];
            ps[k]->rc = rc;
            if (rc) ps[k]->err = err;
        }
    } else {
        for (k = 0; k < n; k++) {
            ps[k]->rc = flow_queue_add_batch(w->q, &ps[k]->item, 1, flow_wall_ms(), &ps[k]->err);
            commits += ps[k]->rc == 0;
        }
    }
    free(ps);
    free(items);
    return commits;
}

/* p joins the requests waiting to be written; returns when its group is on disk (or failed). The
 * first waiter to find the connection free writes every request waiting then (up to a group's
 * limits) in one transaction; the others wait for it, and the requests that arrive meanwhile form
 * the next group. */
static void enqueue(FlowWebhooks *w, Pending *p) {
    pthread_mutex_lock(&w->mu);
    if (w->tail) w->tail->next = p;
    else w->head = p;
    w->tail = p;
    while (!p->done) {
        if (w->busy) { pthread_cond_wait(&w->cv, &w->mu); continue; }
        /* this thread writes the group at the head (its own request is in it, or in a later one) */
        w->busy = 1;
        Pending *first = w->head, *last = first;
        int n = 1;
        size_t bytes = first->bytes;
        while (last->next && n < GROUP_MAX && bytes + last->next->bytes <= GROUP_MAX_BYTES) {
            last = last->next;
            bytes += last->bytes;
            n++;
        }
        w->head = last->next;
        if (!w->head) w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->mu);
        long commits = write_group(w, first, n);
        pthread_mutex_lock(&w->mu);
        w->commits += commits;
        for (Pending *q = first, *next; q; q = next) {
            next = q->next;
            q->done = 1;   /* (q may be gone as soon as the mutex is released) */
        }
        w->busy = 0;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

/* ---- the routes ---- */

static const Hook *find(const FlowWebhooks *w, const char *path) {
    if (!w || !path) return NULL;
    for (int i = 0; i < w->n; i++) {
        const Hook *h = &w->h[i];
        if (strncmp(path, h->path, h->plen) != 0) continue;
        if (!path[h->plen]) return h;
        /* secret_url: the path and one segment more */
        if (h->vk == V_SECRET_URL && path[h->plen] == '/' && !strchr(path + h->plen + 1, '/')) return h;
    }
    return NULL;
}

int flow_webhooks_route(const FlowWebhooks *w, const char *path) {
    const Hook *h = find(w, path);
    return h ? h->fi : -1;
}

int flow_webhooks_count(const FlowWebhooks *w) { return w ? w->n : 0; }

long flow_webhooks_commits(FlowWebhooks *w) {
    if (!w) return 0;
    pthread_mutex_lock(&w->mu);
    long n = w->commits;
    pthread_mutex_unlock(&w->mu);
    return n;
}

int flow_webhooks_handle(FlowWebhooks *w, const FlowHttpReq *rq, FlowHttpResp *resp) {
    const Hook *h = find(w, rq->path);
    if (!h) { answer(resp, 404, "no webhook is served at this path"); return -1; }
    if (!rq->method || strcmp(rq->method, "POST") != 0) {
        answer(resp, 405, "a webhook takes POST requests only");
        return -1;
    }
    if (rq->body_len > FLOW_WEBHOOK_MAX_BODY) {
        answer(resp, 413, "the body is %.1f MB, over the 5 MB limit", (double)rq->body_len / (1024.0 * 1024.0));
        return -1;
    }
    char why[1200];
    if (!verify(h, rq, why, sizeof why)) { answer(resp, 401, "%s", why); return -1; }
    /* the body as one JSON value, when it is one: a handshake, or the records */
    FlowJsonError je;
    memset(&je, 0, sizeof je);
    cJSON *doc = NULL;
    if (h->takes_records || h->challenge) doc = flow_json_parse(rq->body ? rq->body : "", rq->body_len, &je);
    char *ch = challenge_of(h, doc);
    if (ch) {
        size_t n = strlen(ch);
        resp->status = 200;
        resp->body = ch;
        resp->body_len = n;
        resp->content_type = "text/plain; charset=utf-8";
        cJSON_Delete(doc);
        return -1;
    }
    Texts t = { 0 };
    if (h->takes_records && body_records(h, rq, doc, &je, &t, why, sizeof why)) {
        cJSON_Delete(doc);
        texts_free(&t);
        answer(resp, 400, "%s", why);
        return -1;
    }
    cJSON_Delete(doc);
    char *key = delivery_key(rq);
    Pending pe;
    memset(&pe, 0, sizeof pe);
    pe.item = (FlowQueueItem){ h->flow, key, (const char *const *)t.v, t.n, t.count, 0, 0 };
    pe.bytes = t.bytes;
    enqueue(w, &pe);
    int r = pe.rc < 0 ? -1 : pe.item.dup;
    FlowErr err = pe.err;
    free(key);
    texts_free(&t);
    if (r < 0) {   /* not queued: the sender must try again. Why goes to the operator (serve's log), not to the sender */
        int busy = err.cls == FLOW_ERR_INTERMITTENT;
        fprintf(stderr, "webhook %s (flow %s): a verified request was not queued (answered %d): %s\n", h->path, h->flow, busy ? 503 : 500,
                err.msg);
        answer(resp, busy ? 503 : 500, busy ? "the request could not be queued now (the state store is busy); try again"
                                            : "the request could not be queued (the state store cannot be written); try again");
        return -1;
    }
    answer(resp, h->status, NULL);
    return r == 0 ? h->fi : -1;
}

long flow_webhooks_pending(FlowWebhooks *w, int fi) {
    if (!w) return 0;
    for (int i = 0; i < w->n; i++) {
        if (w->h[i].fi != fi) continue;
        pthread_mutex_lock(&w->mu);
        while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
        w->busy = 1;
        pthread_mutex_unlock(&w->mu);
        long n = flow_queue_pending(w->q, w->h[i].flow);
        pthread_mutex_lock(&w->mu);
        w->busy = 0;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        return n;
    }
    return 0;
}

/* ---- opening: each trigger evaluated once ---- */

static void hook_free(Hook *h) {
    free(h->path);
    free(h->header);
    free(h->query);
    if (h->key) { OPENSSL_cleanse(h->key, h->nkey); free(h->key); }
    OPENSSL_cleanse(h->want, sizeof h->want);
    free(h->prefix);
    flow_jsonpath_free(h->challenge);
    free(h->challenge_text);
    flow_jsonpath_free(h->records);
    free(h->records_text);
}

void flow_webhooks_close(FlowWebhooks *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) hook_free(&w->h[i]);
    free(w->h);
    flow_queue_close(w->q);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

static const FlowSettingDef *setting_def(const FlowSettingDef *s, int n, const char *name) {
    for (int i = 0; i < n; i++) if (s[i].name && strcmp(s[i].name, name) == 0) return &s[i];
    return NULL;
}

/* a constant setting's value as a fresh tree; NULL with err (its evaluation failed, or it needs a record) */
static cJSON *eval_const(FlowCtx *cx, const FlowSettingDef *d, FlowErr *err) {
    if (!d->konst) { flow_err_set(err, FLOW_ERR_VALUE, "`%s` cannot depend on a record", d->name); return NULL; }
    FlowVal v = d->konst(cx);
    cJSON *j = flow_failed(cx) ? NULL : flow_val_to_json(v);
    if (!j) flow_err_set(err, flow_error_class(cx), "%s", flow_failed(cx) ? flow_error_message(cx) : "no value");
    flow_scratch_reset(cx);
    flow_clear_error(cx);
    return j;
}

static const char *ctor_of(const cJSON *j) {
    return cJSON_IsString(j) ? j->valuestring : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ctor"));
}

static const char *str_arg(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* flow fi's trigger, when it is a webhook: 1 with *trig (fresh), 0 when it has none, -1 with err */
static int trigger_of(const FlowProgram *p, FlowCtx *cx, int fi, cJSON **trig, FlowErr *err) {
    const FlowFlowDef *f = &p->flows[fi];
    const FlowSettingDef *d = setting_def(f->settings, f->nsettings, "trigger");
    *trig = NULL;
    if (!d) return 0;
    cJSON *j = eval_const(cx, d, err);
    if (!j) return -1;
    const char *c = ctor_of(j);
    if (!c || strcmp(c, "webhook") != 0) {
        flow_err_set(err, FLOW_ERR_VALUE, "the trigger is %s, not webhook(...)", c ? c : "no constructor");
        cJSON_Delete(j);
        return -1;
    }
    *trig = j;
    return 1;
}

/* A hook from its evaluated trigger: 0, or -1 with err */
static int hook_init(Hook *h, const FlowProgram *p, FlowCtx *cx, int fi, const cJSON *trig, FlowState *st, FlowErr *err) {
    const FlowFlowDef *f = &p->flows[fi];
    h->fi = fi;
    h->flow = f->name;
    char why[400];
    const char *path = str_arg(trig, "path");
    if (!path) { flow_err_set(err, FLOW_ERR_VALUE, "webhook(...) needs a path"); return -1; }
    if (flow_webhook_path_check(path, why, sizeof why)) { flow_err_set(err, FLOW_ERR_VALUE, "webhook path \"%.200s\": %s", path, why); return -1; }
    h->path = flow_xstrdup(path);
    h->plen = strlen(path);
    h->status = 204;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(trig, "status");
    if (status && !cJSON_IsNull(status)) {
        int64_t sv;
        if (!flow_json_get_int(status, &sv) || sv < 200 || sv > 299) {
            flow_err_set(err, FLOW_ERR_VALUE, "webhook status must be a success status, 200 to 299");
            return -1;
        }
        h->status = (int)sv;
    }
    const char *ch = str_arg(trig, "challenge");
    if (ch) {
        char msg[300];
        if (!(h->challenge = flow_jsonpath_compile(ch, msg, sizeof msg))) {
            flow_err_set(err, FLOW_ERR_VALUE, "webhook challenge \"%.200s\" is not a JSONPath query: %s", ch, msg);
            return -1;
        }
        h->challenge_text = flow_xstrdup(ch);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(trig, "verify");
    const char *vc = v && !cJSON_IsNull(v) ? ctor_of(v) : NULL;
    if (!vc) h->vk = V_NONE;
    else if (strcmp(vc, "hmac") == 0) {
        const char *alg = str_arg(v, "algorithm"), *hd = str_arg(v, "header"), *sec = str_arg(v, "secret"), *enc = str_arg(v, "encoding");
        const char *prefix = str_arg(v, "prefix");
        h->vk = V_HMAC;
        h->md = !alg ? NULL : strcmp(alg, "sha1") == 0 ? EVP_sha1() : strcmp(alg, "sha256") == 0 ? EVP_sha256()
              : strcmp(alg, "sha384") == 0 ? EVP_sha384() : strcmp(alg, "sha512") == 0 ? EVP_sha512() : NULL;
        if (!h->md) { flow_err_set(err, FLOW_ERR_VALUE, "hmac: the algorithm is sha1, sha256, sha384 or sha512"); return -1; }
        h->mdlen = (size_t)EVP_MD_get_size(h->md);
        if (!hd || !*hd) { flow_err_set(err, FLOW_ERR_VALUE, "hmac: the header is empty"); return -1; }
        if (!sec || !*sec) { flow_err_set(err, FLOW_ERR_VALUE, "hmac: the secret is empty"); return -1; }
        if (enc && strcmp(enc, "hex") != 0 && strcmp(enc, "base64") != 0) {
            flow_err_set(err, FLOW_ERR_VALUE, "hmac: the encoding is hex or base64");
            return -1;
        }
        h->header = flow_xstrdup(hd);
        h->nkey = strlen(sec);
        h->key = (unsigned char *)flow_xstrdup(sec);
        h->base64 = enc && strcmp(enc, "base64") == 0;
        if (prefix && *prefix) h->prefix = flow_xstrdup(prefix);
    } else if (strcmp(vc, "token") == 0) {
        const char *hd = str_arg(v, "header"), *q = str_arg(v, "query"), *val = str_arg(v, "value");
        h->vk = V_TOKEN;
        if (!hd == !q || (hd && !*hd) || (q && !*q)) {
            flow_err_set(err, FLOW_ERR_VALUE, "token(...) reads the token from a header or from the query: give `header` or `query`, not both");
            return -1;
        }
        if (!val || !*val) { flow_err_set(err, FLOW_ERR_VALUE, "token: the value is empty"); return -1; }
        if (hd) h->header = flow_xstrdup(hd);
        else h->query = flow_xstrdup(q);
        sha256(val, strlen(val), h->want);
    } else if (strcmp(vc, "basic") == 0) {
        const char *u = str_arg(v, "user"), *pw = str_arg(v, "password");
        if (!u || !pw || !*pw) { flow_err_set(err, FLOW_ERR_VALUE, "basic: the user and the password must be given, the password not empty"); return -1; }
        if (strchr(u, ':')) { flow_err_set(err, FLOW_ERR_VALUE, "basic: the user cannot hold `:`"); return -1; }
        h->vk = V_BASIC;
        size_t un = strlen(u), pn = strlen(pw);
        char *cred = flow_xcalloc(1, un + pn + 2);
        memcpy(cred, u, un);
        cred[un] = ':';
        memcpy(cred + un + 1, pw, pn);
        sha256(cred, un + 1 + pn, h->want);
        OPENSSL_cleanse(cred, un + pn + 2);
        free(cred);
    } else if (strcmp(vc, "secret_url") == 0) {
        h->vk = V_SECRET_URL;
        char secret[FLOW_WEBHOOK_SECRET_LEN + 1];
        if (!st) { flow_err_set(err, FLOW_ERR_VALUE, "secret_url() keeps its secret in the state store, and there is none"); return -1; }
        if (flow_state_webhook_secret(st, f->name, secret, err)) return -1;
        sha256(secret, strlen(secret), h->want);
        OPENSSL_cleanse(secret, sizeof secret);
    } else {
        flow_err_set(err, FLOW_ERR_VALUE, "verify = %s(...) is not a verification: hmac, token, basic or secret_url", vc);
        return -1;
    }
    /* the export: `from webhook` takes the body's records, picked by its `records` */
    const FlowStepDef *ex = f->nsteps ? &f->steps[0] : NULL;
    if (ex && ex->kind == FLOW_STEP_EXPORT && ex->conn >= 0 && ex->conn < p->nconns && strcmp(p->conns[ex->conn].kind, "webhook") == 0) {
        h->takes_records = 1;
        const FlowSettingDef *rd = setting_def(ex->settings, ex->nsettings, "records");
        if (rd) {
            cJSON *r = eval_const(cx, rd, err);
            if (!r) return -1;
            char msg[300];
            if (cJSON_IsString(r)) h->records = flow_jsonpath_compile(r->valuestring, msg, sizeof msg);
            if (!h->records) {
                flow_err_set(err, FLOW_ERR_VALUE, "export %s: records is not a JSONPath query%s%s", ex->name ? ex->name : "",
                             cJSON_IsString(r) ? ": " : "", cJSON_IsString(r) ? msg : "");
                cJSON_Delete(r);
                return -1;
            }
            h->records_text = flow_xstrdup(r->valuestring);
            cJSON_Delete(r);
        }
    }
    return 0;
}

FlowWebhooks *flow_webhooks_open(const FlowProgram *p, FlowCtx *cx, FlowState *st, FlowErr *err) {
    FlowWebhooks *w = flow_xcalloc(1, sizeof *w);
    w->p = p;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->h = flow_xcalloc((size_t)p->nflows + 1, sizeof *w->h);
    for (int fi = 0; fi < p->nflows; fi++) {
        cJSON *trig = NULL;
        FlowErr e;
        int r = trigger_of(p, cx, fi, &trig, &e);
        if (r == 0) continue;
        Hook *h = &w->h[w->n++];
        if (r < 0 || hook_init(h, p, cx, fi, trig, st, &e)) {
            cJSON_Delete(trig);
            flow_err_set(err, e.cls, "flow %s: trigger: %s", p->flows[fi].name, e.msg);
            flow_webhooks_close(w);
            return NULL;
        }
        cJSON_Delete(trig);
        /* one flow per path; a secret_url path routes one segment more */
        for (int k = 0; k < w->n - 1; k++) {
            const Hook *o = &w->h[k];
            int same = strcmp(o->path, h->path) == 0;
            const Hook *a = o->plen < h->plen ? o : h, *b = a == o ? h : o;
            int under = a->vk == V_SECRET_URL && b->plen > a->plen && strncmp(b->path, a->path, a->plen) == 0 && b->path[a->plen] == '/' &&
                        !strchr(b->path + a->plen + 1, '/');
            if (same || under) {
                flow_err_set(err, FLOW_ERR_VALUE, "flows %s and %s are both served at %s%s", o->flow, h->flow, b->path,
                             same ? "" : " (a secret_url() path takes one segment more)");
                flow_webhooks_close(w);
                return NULL;
            }
        }
    }
    if (w->n && !st) {
        flow_err_set(err, FLOW_ERR_VALUE, "webhook requests are queued in the state store, and there is none");
        flow_webhooks_close(w);
        return NULL;
    }
    if (w->n && !(w->q = flow_queue_open(st, err))) {
        flow_webhooks_close(w);
        return NULL;
    }
    return w;
}

/* ---- describe ---- */

static void redact_secret_args(cJSON *o) {
    const char *c = ctor_of(o);
    if (!c || !cJSON_IsObject(o)) return;
    for (cJSON *m = o->child; m; m = m->next) {
        if (!m->string) continue;
        if (flow_ctor_param_secret(c, m->string)) {
            cJSON *r = cJSON_CreateString("<redacted>");
            if (cJSON_IsString(m) && m->valuestring) OPENSSL_cleanse(m->valuestring, strlen(m->valuestring));
            cJSON_ReplaceItemInObjectCaseSensitive(o, m->string, r);   /* (copies the name before the old item goes) */
            m = r;
        } else if (cJSON_IsObject(m)) redact_secret_args(m);
    }
}

cJSON *flow_webhook_describe(const FlowProgram *p, FlowCtx *cx, int fi, FlowState *st, int show_secrets) {
    if (fi < 0 || fi >= p->nflows) return NULL;
    cJSON *trig = NULL;
    FlowErr e;
    int r = trigger_of(p, cx, fi, &trig, &e);
    if (r == 0) return NULL;
    if (r < 0) {
        char buf[1200];
        snprintf(buf, sizeof buf, "<error: %s>", e.msg);
        return cJSON_CreateString(buf);
    }
    redact_secret_args(trig);
    const char *path = str_arg(trig, "path");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(trig, "verify");
    const char *vc = v && !cJSON_IsNull(v) ? ctor_of(v) : NULL;
    char vname[32] = "";
    if (vc) snprintf(vname, sizeof vname, "%s", vc);
    if (cJSON_IsString(v)) {   /* a bare word (verify = secret_url): shown as the constructor it is */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ctor", vname);
        cJSON_ReplaceItemInObjectCaseSensitive(trig, "verify", o);
    }
    if (!cJSON_GetObjectItemCaseSensitive(trig, "status")) cJSON_AddItemToObject(trig, "status", flow_json_int(204));
    cJSON_AddStringToObject(trig, "method", "POST");
    FlowSb url = { 0 };
    flow_sb_puts(&url, path ? path : "");
    if (strcmp(vname, "secret_url") == 0) {
        char secret[FLOW_WEBHOOK_SECRET_LEN + 1] = "";
        FlowErr se;
        flow_sb_puts(&url, "/");
        if (show_secrets && st && flow_state_webhook_secret(st, p->flows[fi].name, secret, &se) == 0) flow_sb_puts(&url, secret);
        else if (show_secrets) {
            char buf[1200];
            snprintf(buf, sizeof buf, "<error: %s>", st ? se.msg : "no state store");
            flow_sb_puts(&url, buf);
        } else flow_sb_puts(&url, "<redacted>");
        OPENSSL_cleanse(secret, sizeof secret);
    }
    char *u = flow_sb_take(&url);
    cJSON_AddStringToObject(trig, "url", u);
    free(u);
    return trig;
}
