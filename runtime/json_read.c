/* json_read.c — the one JSON reader for outside input (files, stdin, HTTP bodies, PostgreSQL json
 * columns, the state store, test data, eval data, -P values): RFC 8259 text into the cJSON trees
 * the runtime uses everywhere, and the UTF-8 check shared with every other source of text.
 *
 * It is strict where cJSON is lenient or lossy: a number that is not finite as a double (1e400) is
 * refused; an integer keeps its exact value over the whole int64 range (flow.h, "exact integers");
 * strings must be valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF, whether
 * raw or escaped), may not hold raw control characters, and may not hold U+0000 at all (`\u0000`):
 * the runtime's text is NUL-terminated, so such a string could only be cut short. Errors give the
 * byte offset, line and column of the offending byte. Nesting is limited to FLOW_JSON_DEPTH. */
#include "flow.h"
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct P {
    const unsigned char *start, *p, *end;
    int depth;
    const unsigned char *err_at;
    char *msg; size_t msgcap;
} P;

static void *xmalloc(size_t n) {
    void *p = cJSON_malloc(n);
    if (!p) abort();    /* as flow_x* do: a half-read record must never go on */
    return p;
}

static cJSON *node(int type) {
    cJSON *j = xmalloc(sizeof *j);
    memset(j, 0, sizeof *j);
    j->type = type;
    return j;
}

static int fail(P *s, const unsigned char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(P *s, const unsigned char *at, const char *fmt, ...) {
    if (s->err_at) return -1;
    s->err_at = at;
    if (s->msg && s->msgcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->msg, s->msgcap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- UTF-8 ---- */

size_t flow_utf8_seq(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (p[2] & 0xC0) != 0x80) return 0;
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi ? 3 : 0;
    }
    if (c > 0xF4 || n < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 4 : 0;
}

int flow_text_check(const char *text, size_t n, size_t *at) {
    const unsigned char *p = (const unsigned char *)text, *e = p + n;
    while (p < e) {
        /* eight ASCII bytes without a NUL at a time */
        while (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if ((w & 0x8080808080808080ull) || ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) break;
            p += 8;
        }
        if (p == e) break;
        if (*p == 0) { if (at) *at = (size_t)(p - (const unsigned char *)text); return FLOW_TEXT_NUL; }
        size_t k = flow_utf8_seq(p, (size_t)(e - p));
        if (!k) { if (at) *at = (size_t)(p - (const unsigned char *)text); return FLOW_TEXT_UTF8; }
        p += k;
    }
    return FLOW_TEXT_OK;
}

/* ---- strings ---- */

/* bytes that end a run of plain string bytes: '"', '\\', control characters, non-ASCII */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0x20..0x2F: '"' is 0x22 */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,    /* 0x50..0x5F: '\\' is 0x5C */
    R16(1), R16(1),
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0)
#undef R16
};

static int hex4(const unsigned char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The string starting after the opening quote at s->p: a fresh NUL-terminated copy (cJSON_malloc),
 * s->p after the closing quote; NULL on an error. */
static char *string(P *s) {
    const unsigned char *b = s->p, *p = b, *e = s->end;
    while (p < e && plain[*p]) p++;
    if (p < e && *p == '"') {    /* the common case: ASCII without escapes */
        size_t n = (size_t)(p - b);
        char *out = xmalloc(n + 1);
        memcpy(out, b, n);
        out[n] = 0;
        s->p = p + 1;
        return out;
    }
    /* the decoded text is never longer than the raw one: find the closing quote first */
    const unsigned char *q = p;
    while (q < e && *q != '"') q += *q == '\\' ? 2 : 1;
    if (q >= e) { fail(s, b - 1, "unterminated string"); return NULL; }
    unsigned char *out = xmalloc((size_t)(q - b) + 1), *o = out;
    size_t n0 = (size_t)(p - b);
    memcpy(o, b, n0);
    o += n0;
    while (p < q) {
        unsigned c = *p;
        if (plain[c]) { *o++ = (unsigned char)c; p++; continue; }
        if (c < 0x20) {
            fail(s, p, "control character U+%04X in a string (it must be escaped)", c);
            goto bad;
        }
        if (c >= 0x80) {
            size_t k = flow_utf8_seq(p, (size_t)(q - p));
            if (!k) { fail(s, p, "invalid UTF-8 (byte 0x%02X) in a string", c); goto bad; }
            memcpy(o, p, k);
            o += k;
            p += k;
            continue;
        }
        /* a backslash */
        const unsigned char *esc = p++;
        switch (*p) {
        case '"': *o++ = '"'; p++; continue;
        case '\\': *o++ = '\\'; p++; continue;
        case '/': *o++ = '/'; p++; continue;
        case 'b': *o++ = '\b'; p++; continue;
        case 'f': *o++ = '\f'; p++; continue;
        case 'n': *o++ = '\n'; p++; continue;
        case 'r': *o++ = '\r'; p++; continue;
        case 't': *o++ = '\t'; p++; continue;
        case 'u': break;
        default: fail(s, esc, "invalid escape in a string"); goto bad;
        }
        unsigned cp;
        if (q - p < 5 || !hex4(p + 1, &cp)) { fail(s, esc, "invalid \\u escape in a string"); goto bad; }
        p += 5;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (q - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                fail(s, esc, "unpaired surrogate \\u%04X in a string", cp);
                goto bad;
            }
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail(s, esc, "unpaired surrogate \\u%04X in a string", cp);
            goto bad;
        } else if (cp == 0) {
            fail(s, esc, "\\u0000 in a string: text cannot hold U+0000");
            goto bad;
        }
        o += put_utf8(o, cp);
    }
    *o = 0;
    s->p = q + 1;
    return (char *)out;
bad:
    cJSON_free(out);
    return NULL;
}

/* ---- numbers ---- */

static int is_digit(unsigned c) { return c - '0' < 10; }

/* An integer's exact value when the number text (sign, digits, fraction, exponent) denotes one in
 * the int64 range: 1 with *out. Only asked for whole numbers past 2^53, which are rare. */
static int exact_int(const unsigned char *b, const unsigned char *e, int64_t *out) {
    const unsigned char *p = b;
    int neg = *p == '-';
    if (neg) p++;
    char dg[32];
    int nd = 0, lead = 1;
    long exp = 0;
    for (; p < e && is_digit(*p); p++) {
        if (lead && *p == '0') continue;
        lead = 0;
        if (nd >= 30) return 0;
        dg[nd++] = (char)*p;
    }
    if (p < e && *p == '.')
        for (p++; p < e && is_digit(*p); p++) {
            if (lead && *p == '0') { exp--; continue; }
            lead = 0;
            if (nd >= 30) { if (*p != '0') return 0; continue; }   /* zeros past 30 digits do not change it */
            dg[nd++] = (char)*p;
            exp--;
        }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = *p == '-';
        if (*p == '+' || *p == '-') p++;
        long x = 0;
        for (; p < e && is_digit(*p); p++) if (x < 1000) x = x * 10 + (*p - '0');
        exp += eneg ? -x : x;
    }
    while (nd && dg[nd - 1] == '0') { nd--; exp++; }
    if (!nd) { *out = 0; return 1; }
    if (exp < 0 || nd + exp > 19) return 0;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (long i = 0; i < nd + exp; i++) {
        unsigned d = i < nd ? (unsigned)(dg[i] - '0') : 0;
        if (v > (lim - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 1;
}

static cJSON *number(P *s) {
    const unsigned char *b = s->p, *p = b, *e = s->end;
    int neg = 0;
    if (p < e && *p == '-') { neg = 1; p++; }
    if (p >= e || !is_digit(*p)) { fail(s, b, "invalid number"); return NULL; }
    uint64_t v = 0;
    const unsigned char *d0 = p;
    if (*p == '0') p++;
    else while (p < e && is_digit(*p)) { if (p - d0 < 19) v = v * 10 + (*p - '0'); p++; }
    int nd = (int)(p - d0), simple = 1;
    if (p < e && is_digit(*p)) { fail(s, p, "invalid number (a leading zero)"); return NULL; }
    if (p < e && *p == '.') {
        simple = 0;
        p++;
        if (p >= e || !is_digit(*p)) { fail(s, p, "invalid number (no digit after the point)"); return NULL; }
        while (p < e && is_digit(*p)) p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        simple = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || !is_digit(*p)) { fail(s, p, "invalid number (no digit in the exponent)"); return NULL; }
        while (p < e && is_digit(*p)) p++;
    }
    s->p = p;
    cJSON *j = node(cJSON_Number);
    double d;
    int64_t exact = 0;
    int want_exact = 0, want_text = 0;
    if (simple && nd <= 15) {                     /* exact as a double */
        d = (double)v;
        if (neg) d = -d;
    } else if (simple && nd <= 19 && v <= (uint64_t)INT64_MAX + neg) {
        exact = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
        d = (double)exact;
        want_exact = 1;
    } else {
        flow_dec_parse((const char *)b, (size_t)(p - b), &d);   /* the syntax is checked above */
        if (!isfinite(d)) {
            cJSON_free(j);
            fail(s, b, "number out of range: %.*s%s", (int)(p - b > 40 ? 40 : p - b), (const char *)b, p - b > 40 ? "..." : "");
            return NULL;
        }
        /* a whole double: the int it is when the text is exactly that int; otherwise (9007199254740993.5,
         * 1e-400, -9223372036854775809) the text is kept, so the number is no int and prints as read */
        if (d == floor(d)) {
            if (exact_int(b, p, &exact)) want_exact = 1;
            else want_text = 1;
        }
    }
    j->valuedouble = d;
    j->valueint = d >= 2147483647.0 ? 2147483647 : d <= -2147483648.0 ? (-2147483647 - 1) : (int)d;
    if (want_exact) flow_json_int_set(j, exact);
    else if (want_text) flow_json_num_text_set(j, (const char *)b, (size_t)(p - b));
    return j;
}

/* ---- values ---- */

static void skip_ws(P *s) {
    const unsigned char *p = s->p, *e = s->end;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    s->p = p;
}

static int literal(P *s, const char *word, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return 0;
    s->p += n;
    return 1;
}

static cJSON *value(P *s);

/* appends child to the list whose first element is *head (cJSON's layout: head->prev is the last) */
static void append(cJSON *parent, cJSON *child) {
    cJSON *head = parent->child;
    if (!head) { parent->child = child; child->prev = child; return; }
    head->prev->next = child;
    child->prev = head->prev;
    head->prev = child;
}

static cJSON *container(P *s, int object) {
    const unsigned char *open = s->p++;
    if (++s->depth > FLOW_JSON_DEPTH) { fail(s, open, "nested deeper than %d levels", FLOW_JSON_DEPTH); return NULL; }
    cJSON *c = node(object ? cJSON_Object : cJSON_Array);
    skip_ws(s);
    if (s->p < s->end && *s->p == (object ? '}' : ']')) { s->p++; s->depth--; return c; }
    for (;;) {
        char *key = NULL;
        if (object) {
            if (s->p >= s->end || *s->p != '"') { fail(s, s->p, s->p >= s->end ? "unexpected end of the text in an object" : "expected a quoted member name"); goto bad; }
            s->p++;
            if (!(key = string(s))) goto bad;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':') { cJSON_free(key); fail(s, s->p, "expected `:` after a member name"); goto bad; }
            s->p++;
            skip_ws(s);
        }
        cJSON *item = value(s);
        if (!item) { cJSON_free(key); goto bad; }
        item->string = key;
        append(c, item);
        skip_ws(s);
        if (s->p >= s->end) { fail(s, s->p, "unexpected end of the text in %s", object ? "an object" : "an array"); goto bad; }
        if (*s->p == ',') { s->p++; skip_ws(s); continue; }
        if (*s->p == (object ? '}' : ']')) { s->p++; break; }
        fail(s, s->p, "expected `,` or `%c`", object ? '}' : ']');
        goto bad;
    }
    s->depth--;
    return c;
bad:
    cJSON_Delete(c);
    return NULL;
}

static cJSON *value(P *s) {
    if (s->p >= s->end) { fail(s, s->p, "unexpected end of the text"); return NULL; }
    unsigned c = *s->p;
    switch (c) {
    case '{': return container(s, 1);
    case '[': return container(s, 0);
    case '"': {
        s->p++;
        char *t = string(s);
        if (!t) return NULL;
        cJSON *j = node(cJSON_String);
        j->valuestring = t;
        return j;
    }
    case 't': if (literal(s, "true", 4)) return node(cJSON_True); break;
    case 'f': if (literal(s, "false", 5)) return node(cJSON_False); break;
    case 'n': if (literal(s, "null", 4)) return node(cJSON_NULL); break;
    default:
        if (c == '-' || is_digit(c)) return number(s);
    }
    if (c >= 0x20 && c < 0x7F) fail(s, s->p, "unexpected `%c`", (int)c);
    else fail(s, s->p, "unexpected byte 0x%02X", c);
    return NULL;
}

cJSON *flow_json_parse(const char *text, size_t n, FlowJsonError *err) {
    char scratch[8];
    P s = { (const unsigned char *)text, (const unsigned char *)text, (const unsigned char *)text + n, 0, NULL,
            err ? err->msg : scratch, err ? sizeof err->msg : sizeof scratch };
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) s.p += 3;    /* a byte order mark */
    skip_ws(&s);
    cJSON *j = value(&s);
    if (j) {
        skip_ws(&s);
        if (s.p < s.end) {
            fail(&s, s.p, "unexpected text after the JSON value");
            cJSON_Delete(j);
            j = NULL;
        }
    }
    if (j) return j;
    if (err) {
        const unsigned char *at = s.err_at ? s.err_at : s.p;
        err->offset = (size_t)(at - s.start);
        err->line = 1;
        err->col = 1;
        for (const unsigned char *p = s.start; p < at; p++) {
            if (*p == '\n') { err->line++; err->col = 1; }
            else if ((*p & 0xC0) != 0x80) err->col++;    /* columns count characters */
        }
    }
    return NULL;
}
