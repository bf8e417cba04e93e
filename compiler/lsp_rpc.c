/* lsp_rpc.c — the language server's wire: messages framed by `Content-Length` headers read from any
 * byte source (stdin, or a fuzzer's buffer), parsed by the runtime's one strict JSON reader and
 * classified as JSON-RPC 2.0 requests, notifications or responses; and framed replies written out.
 * A bad header block is skipped and reading goes on; nothing here exits or prints but replies. */
#define _GNU_SOURCE   /* memmem */
#include "lsp_rpc.h"
#include "flow.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct RpcReader {
    RpcReadFn fn;
    void *ud;
    char *buf;            /* unread bytes are buf[pos, len) */
    size_t pos, len, cap;
    int eof;
};

RpcReader *rpc_reader_new(RpcReadFn fn, void *ud) {
    RpcReader *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->fn = fn;
    r->ud = ud;
    return r;
}

void rpc_reader_free(RpcReader *r) {
    if (!r) return;
    free(r->buf);
    free(r);
}

/* Makes at least `want` unread bytes available; 0 when input ended before. */
static int fill(RpcReader *r, size_t want) {
    while (r->len - r->pos < want) {
        if (r->eof) return 0;
        if (r->pos > 0) {                 /* keep unread bytes at the front */
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        size_t need = want > 65536 ? want : 65536;
        if (r->cap < need) {
            size_t nc = r->cap ? r->cap : 65536;
            while (nc < need) nc *= 2;
            r->buf = realloc(r->buf, nc);
            if (!r->buf) abort();
            r->cap = nc;
        }
        ssize_t n = r->fn(r->ud, r->buf + r->len, r->cap - r->len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { r->eof = 1; return 0; }
        r->len += (size_t)n;
    }
    return 1;
}

/* The end of the header block starting at pos (the index just past its blank line), or 0 when the
 * unread bytes hold no complete block yet. Lines end in \r\n (the spec) or a bare \n (tolerated). */
static size_t header_end(const RpcReader *r) {
    const char *p = r->buf + r->pos, *e = r->buf + r->len;
    for (const char *q = p; q < e; q++) {
        if (*q != '\n') continue;
        if (q + 1 < e && q[1] == '\n') return (size_t)(q + 2 - r->buf);
        if (q + 2 < e && q[1] == '\r' && q[2] == '\n') return (size_t)(q + 3 - r->buf);
    }
    return 0;
}

/* The index of the next "Content-Length" (any case) in the unread bytes, or 0 when there is none. */
static size_t find_clen(const RpcReader *r, size_t from) {
    for (size_t i = from; i + 14 <= r->len; i++)
        if ((r->buf[i] | 32) == 'c' && strncasecmp(r->buf + i, "Content-Length", 14) == 0) return i + 1;
    return 0;
}

RpcStatus rpc_read(RpcReader *r, char **body, size_t *len, const char **why) {
    *body = NULL;
    *len = 0;
    *why = NULL;
    for (;;) {
        /* white space between messages (a stray newline) is no header */
        while (fill(r, 1) && (r->buf[r->pos] == '\r' || r->buf[r->pos] == '\n')) r->pos++;
        if (r->len == r->pos && r->eof) return RPC_EOF;
        /* a message starts at its Content-Length header: other headers before it (Content-Type) are
         * skipped silently, anything else (the rest of a body longer than it said, a block without
         * Content-Length) is skipped and reported, so one bad frame never loses the ones after it */
        size_t at;
        while (!(at = find_clen(r, r->pos))) {
            if (r->len - r->pos > RPC_MAX_HEADER) {
                r->pos = r->len - 13;
                *why = "bytes that are not a message (no Content-Length header)";
                return RPC_BADFRAME;
            }
            if (!fill(r, r->len - r->pos + 1)) { r->pos = r->len; return RPC_EOF; }
        }
        at--;
        if (at > r->pos) {
            const char *sk = r->buf + r->pos;
            size_t n = at - r->pos;
            int report = sk[n - 1] != '\n' || memmem(sk, n, "\n\n", 2) || memmem(sk, n, "\n\r\n", 3);
            r->pos = at;
            if (report) { *why = "bytes that are not a message (a header block without Content-Length, or a body longer than its Content-Length)"; return RPC_BADFRAME; }
        }
        size_t end;
        size_t have = 0;
        while (!(end = header_end(r))) {
            have = r->len - r->pos;
            if (have > RPC_MAX_HEADER) {
                r->pos += 14;    /* past this Content-Length: the next one starts the next try */
                *why = "a header block longer than 8192 bytes";
                return RPC_BADFRAME;
            }
            if (!fill(r, have + 1)) { r->pos = r->len; return RPC_EOF; }
        }
        /* parse the header lines */
        long long clen = -1;
        int bad = 0;
        const char *p = r->buf + r->pos, *e = r->buf + end;
        while (p < e) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            const char *le = nl ? nl : e;
            const char *lend = le > p && le[-1] == '\r' ? le - 1 : le;
            if (lend > p) {
                const char *colon = memchr(p, ':', (size_t)(lend - p));
                if (!colon) bad = 1;
                else if ((size_t)(colon - p) == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
                    const char *v = colon + 1;
                    while (v < lend && (*v == ' ' || *v == '\t')) v++;
                    const char *ve = lend;
                    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
                    long long n = 0;
                    if (v == ve || clen >= 0) bad = 1;
                    for (const char *d = v; d < ve && !bad; d++) {
                        if (*d < '0' || *d > '9' || n > (long long)RPC_MAX_BODY) bad = 1;
                        else n = n * 10 + (*d - '0');
                    }
                    if (!bad && n > (long long)RPC_MAX_BODY) bad = 2;
                    if (!bad) clen = n;
                }
            }
            p = nl ? nl + 1 : e;
        }
        r->pos = end;
        if (bad == 2) { *why = "a Content-Length over the limit (160 MB)"; return RPC_BADFRAME; }
        if (bad) { *why = "a malformed header (each is `Name: value`; one Content-Length, in decimal digits)"; return RPC_BADFRAME; }
        if (clen < 0) { *why = "a header block without Content-Length"; return RPC_BADFRAME; }
        if (!fill(r, (size_t)clen)) { r->pos = r->len; return RPC_EOF; }
        char *b = malloc((size_t)clen + 1);
        if (!b) abort();
        memcpy(b, r->buf + r->pos, (size_t)clen);
        b[clen] = 0;
        r->pos += (size_t)clen;
        *body = b;
        *len = (size_t)clen;
        return RPC_MSG;
    }
}

static void invalid(RpcMsg *m, int code, const char *why) {
    m->kind = RPC_INVALID;
    m->error = code;
    snprintf(m->why, sizeof m->why, "%s", why);
}

void rpc_parse(RpcMsg *m, const char *body, size_t len) {
    memset(m, 0, sizeof *m);
    FlowJsonError err;
    m->root = flow_json_parse(body, len, &err);
    if (!m->root) {
        snprintf(m->why, sizeof m->why, "the message is not JSON: %s at line %ld, column %ld", err.msg, err.line, err.col);
        m->kind = RPC_INVALID;
        m->error = RPC_PARSE_ERROR;
        return;
    }
    if (!cJSON_IsObject(m->root)) { invalid(m, RPC_INVALID_REQUEST, "a message is a JSON object (batches are not used by LSP)"); return; }
    cJSON *ver = cJSON_GetObjectItemCaseSensitive(m->root, "jsonrpc");
    cJSON *id = cJSON_GetObjectItemCaseSensitive(m->root, "id");
    cJSON *method = cJSON_GetObjectItemCaseSensitive(m->root, "method");
    m->params = cJSON_GetObjectItemCaseSensitive(m->root, "params");
    /* an id we can answer: a string, an integer (or null, which we echo) */
    if (id && (cJSON_IsString(id) || cJSON_IsNumber(id) || cJSON_IsNull(id))) m->id = id;
    if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0) { invalid(m, RPC_INVALID_REQUEST, "`jsonrpc` must be \"2.0\""); return; }
    if (id && !m->id) { invalid(m, RPC_INVALID_REQUEST, "`id` must be a string or a number"); return; }
    if (!method) {
        if (id && (cJSON_GetObjectItemCaseSensitive(m->root, "result") || cJSON_GetObjectItemCaseSensitive(m->root, "error"))) {
            m->kind = RPC_RESPONSE;
            return;
        }
        invalid(m, RPC_INVALID_REQUEST, "a request needs a `method`");
        return;
    }
    if (!cJSON_IsString(method)) { invalid(m, RPC_INVALID_REQUEST, "`method` must be a string"); return; }
    if (m->params && !cJSON_IsObject(m->params) && !cJSON_IsArray(m->params)) {
        invalid(m, RPC_INVALID_REQUEST, "`params` must be an object or an array");
        return;
    }
    m->method = method->valuestring;
    m->kind = id ? RPC_REQUEST : RPC_NOTIFICATION;
}

void rpc_msg_free(RpcMsg *m) {
    cJSON_Delete(m->root);
    memset(m, 0, sizeof *m);
}

static void send(FILE *out, cJSON *msg) {
    char *text = flow_json_print(msg);
    if (!text) abort();
    fprintf(out, "Content-Length: %zu\r\n\r\n", strlen(text));
    fputs(text, out);
    fflush(out);
    cJSON_free(text);
    cJSON_Delete(msg);
}

static cJSON *envelope(const cJSON *id) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    return m;
}

void rpc_send_result(FILE *out, const cJSON *id, cJSON *result) {
    cJSON *m = envelope(id);
    cJSON_AddItemToObject(m, "result", result ? result : cJSON_CreateNull());
    send(out, m);
}

void rpc_send_error(FILE *out, const cJSON *id, int code, const char *message) {
    cJSON *m = envelope(id);
    cJSON *e = cJSON_AddObjectToObject(m, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    send(out, m);
}

void rpc_send_notification(FILE *out, const char *method, cJSON *params) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", method);
    cJSON_AddItemToObject(m, "params", params ? params : cJSON_CreateObject());
    send(out, m);
}
