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
#include "engine.h"
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
        if (*p - 1u < 0x7Fu) { p++; continue; }   /* ASCII, not NUL: the short tail */
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

/* The first byte from p on (before e) that is not plain: eight bytes at a time while they all are. */
static inline __attribute__((always_inline)) const unsigned char *plain_end(const unsigned char *p, const unsigned char *e) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    while (e - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t stop = (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) & high;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* each test's lowest flagged byte is exact (a borrow only runs upwards): the first one stops */
        if (stop) return p + (__builtin_ctzll(stop) >> 3);
#else
        if (stop) break;
#endif
        p += 8;
    }
    while (p < e && plain[*p]) p++;
    return p;
}

const unsigned char *flow_json_plain_end(const unsigned char *p, const unsigned char *e) { return plain_end(p, e); }

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

/* Checks the string text from b to its closing quote at q (b..p is already known plain) and writes
 * its decoded text to out when out is not NULL (room for q - b + 1 bytes: decoded text is never
 * longer than raw), NUL-terminated. The one decoding of JSON strings (the reader's, the typed
 * decoder's and its skipping). 0 with *len, or -1 (fail set). */
static int str_decode(P *s, const unsigned char *b, const unsigned char *p, const unsigned char *q, unsigned char *out, size_t *len) {
    unsigned char *o = out;
    size_t n0 = (size_t)(p - b);
    if (o) { memcpy(o, b, n0); o += n0; }
    size_t n = n0;
    while (p < q) {
        unsigned c = *p;
        if (plain[c]) { if (o) *o++ = (unsigned char)c; n++; p++; continue; }
        if (c < 0x20) return fail(s, p, "control character U+%04X in a string (it must be escaped)", c);
        if (c >= 0x80) {
            size_t k = flow_utf8_seq(p, (size_t)(q - p));
            if (!k) return fail(s, p, "invalid UTF-8 (byte 0x%02X) in a string", c);
            if (o) { memcpy(o, p, k); o += k; }
            n += k;
            p += k;
            continue;
        }
        /* a backslash */
        const unsigned char *esc = p++;
        unsigned char one;
        switch (*p) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': one = 0; break;
        default: return fail(s, esc, "invalid escape in a string");
        }
        if (one) { if (o) *o++ = one; n++; p++; continue; }
        unsigned cp;
        if (q - p < 5 || !hex4(p + 1, &cp)) return fail(s, esc, "invalid \\u escape in a string");
        p += 5;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (q - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                return fail(s, esc, "unpaired surrogate \\u%04X in a string", cp);
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail(s, esc, "unpaired surrogate \\u%04X in a string", cp);
        } else if (cp == 0) {
            return fail(s, esc, "\\u0000 in a string: text cannot hold U+0000");
        }
        unsigned char u[4];
        size_t k = put_utf8(o ? o : u, cp);
        if (o) o += k;
        n += k;
    }
    if (o) *o = 0;
    *len = n;
    return 0;
}

/* The closing quote of the string whose text starts at b (escaped quotes skipped), or NULL. */
static const unsigned char *str_end(const unsigned char *b, const unsigned char *e) {
    const unsigned char *q = b;
    while (q < e && *q != '"') q += *q == '\\' ? 2 : 1;
    return q < e ? q : NULL;
}

/* The string starting after the opening quote at s->p: a fresh NUL-terminated copy (cJSON_malloc),
 * s->p after the closing quote; NULL on an error. */
static char *string(P *s) {
    const unsigned char *b = s->p, *e = s->end, *p = flow_json_plain_end(b, e);
    if (p < e && *p == '"') {    /* the common case: ASCII without escapes */
        size_t n = (size_t)(p - b);
        char *out = xmalloc(n + 1);
        memcpy(out, b, n);
        out[n] = 0;
        s->p = p + 1;
        return out;
    }
    const unsigned char *q = str_end(p, e);
    if (!q) { fail(s, b - 1, "unterminated string"); return NULL; }
    unsigned char *out = xmalloc((size_t)(q - b) + 1);
    size_t n;
    if (str_decode(s, b, p, q, out, &n)) { cJSON_free(out); return NULL; }
    s->p = q + 1;
    return (char *)out;
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

/* A number's text at s->p, checked and read (the one reading of JSON numbers: the reader's and the
 * typed decoder's): its double; the exact int it is, when it is one past 2^53 or read from 16 to 19
 * digits (exact set); text kept when it is whole but no int64 (keep_text). s->p after it. 0, or -1. */
typedef struct Num { double d; int64_t exact; int want_exact, want_text, simple, nd, neg; uint64_t v; const unsigned char *b, *e; } Num;

static int num_scan(P *s, Num *m) {
    const unsigned char *b = s->p, *p = b, *e = s->end;
    int neg = 0;
    if (p < e && *p == '-') { neg = 1; p++; }
    if (p >= e || !is_digit(*p)) return fail(s, b, "invalid number");
    uint64_t v = 0;
    const unsigned char *d0 = p;
    if (*p == '0') p++;
    else {
        const unsigned char *stop = e - p > 19 ? p + 19 : e;   /* the first 19 digits make v */
        while (p < stop && is_digit(*p)) v = v * 10 + (*p++ - '0');
        while (p < e && is_digit(*p)) p++;
    }
    int nd = (int)(p - d0), simple = 1;
    if (p < e && is_digit(*p)) return fail(s, p, "invalid number (a leading zero)");
    /* the digits as one integer mant (while it has at most 19 significant digits) scaled by 10^e10 */
    uint64_t mant = v;
    int sig = v ? nd : 0, fast = nd <= 19;
    long e10 = 0;
    if (p < e && *p == '.') {
        simple = 0;
        p++;
        if (p >= e || !is_digit(*p)) return fail(s, p, "invalid number (no digit after the point)");
        for (; p < e && is_digit(*p); p++) {
            if (!fast) continue;
            if (mant || *p != '0') sig++;
            if (sig > 19) { fast = 0; continue; }
            mant = mant * 10 + (*p - '0');
            e10--;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        simple = 0;
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= e || !is_digit(*p)) return fail(s, p, "invalid number (no digit in the exponent)");
        long x = 0;
        for (; p < e && is_digit(*p); p++) if (x < 100000) x = x * 10 + (*p - '0');
        e10 += eneg ? -x : x;
    }
    s->p = p;
    m->b = b; m->e = p; m->v = v; m->nd = nd; m->neg = neg; m->simple = simple;
    m->exact = 0; m->want_exact = 0; m->want_text = 0;
    double d;
    if (simple && nd <= 15) {                     /* exact as a double */
        d = (double)v;
        if (neg) d = -d;
    } else if (simple && nd <= 19 && v <= (uint64_t)INT64_MAX + neg) {
        m->exact = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
        d = (double)m->exact;
        m->want_exact = 1;
    } else {
        /* mant and 10^|e10| exact as doubles: one division or multiplication rounds correctly (Clinger) */
        static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
        if (fast && sig <= 15 && e10 >= -22 && e10 <= 22) {
            d = e10 < 0 ? (double)mant / p10[-e10] : (double)mant * p10[e10];
            if (neg) d = -d;
        } else flow_dec_parse((const char *)b, (size_t)(p - b), &d);   /* the syntax is checked above */
        if (!isfinite(d))
            return fail(s, b, "number out of range: %.*s%s", (int)(p - b > 40 ? 40 : p - b), (const char *)b, p - b > 40 ? "..." : "");
        /* a whole double: the int it is when the text is exactly that int; otherwise (9007199254740993.5,
         * 1e-400, -9223372036854775809) the text is kept, so the number is no int and prints as read */
        /* whole? every double from 2^52 up is; below, the truncated int tells (no libm call) */
        if (fabs(d) >= 4503599627370496.0 || d == (double)(int64_t)d) {
            if (exact_int(b, p, &m->exact)) { m->want_exact = 1; d = (double)m->exact; }   /* -0.0 is the int 0 */
            else m->want_text = 1;
        }
    }
    m->d = d;
    return 0;
}

static cJSON *number(P *s) {
    Num m;
    if (num_scan(s, &m)) return NULL;
    cJSON *j = node(cJSON_Number);
    double d = m.d;
    j->valuedouble = d;
    j->valueint = d >= 2147483647.0 ? 2147483647 : d <= -2147483648.0 ? (-2147483647 - 1) : (int)d;
    if (m.want_exact) flow_json_int_set(j, m.exact);
    else if (m.want_text) flow_json_num_text_set(j, (const char *)m.b, (size_t)(m.e - m.b));
    return j;
}

/* ---- values ---- */

static inline void skip_ws(P *s) {
    const unsigned char *p = s->p, *e = s->end;
    if (p < e && *p > ' ') return;   /* the usual case: no white space at all */
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

/* The members of an object being read, to find an earlier one of the same name: of two members with
 * one name the last one's value is read, in the first one's place (as jq, JavaScript and PostgreSQL's
 * jsonb read them), so that no record holds a name twice. The list is scanned while it is short; past
 * NAMES_SCAN members the names go into a hash table (open addressing, at most half full). */
#define NAMES_SCAN 16
typedef struct Names { cJSON **tab; size_t cap, n; } Names;

static size_t name_hash(const char *k) {
    uint64_t h = 1469598103934665603u;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)k; *p; p++) h = (h ^ *p) * 1099511628211u;
    return (size_t)h;
}

/* the slot holding the member named k, or the empty one where it would go */
static cJSON **names_slot(Names *m, const char *k) {
    size_t i = name_hash(k) & (m->cap - 1);
    while (m->tab[i] && strcmp(m->tab[i]->string, k) != 0) i = (i + 1) & (m->cap - 1);
    return &m->tab[i];
}

static void names_grow(Names *m, cJSON *first) {
    free(m->tab);
    m->cap = m->cap ? m->cap * 2 : 64;
    m->tab = calloc(m->cap, sizeof *m->tab);
    if (!m->tab) abort();
    for (cJSON *x = first; x; x = x->next) *names_slot(m, x->string) = x;
}

/* item (named) into object c: replacing the member of that name, or appended */
static void member_put(cJSON *c, cJSON *item, Names *m) {
    cJSON **slot = NULL, *same = NULL;
    if (m->tab) same = *(slot = names_slot(m, item->string));
    else
        for (cJSON *x = c->child; x; x = x->next)
            if (x->string[0] == item->string[0] && strcmp(x->string, item->string) == 0) { same = x; break; }
    if (same) {
        cJSON_ReplaceItemViaPointer(c, same, item);
        if (slot) *slot = item;
        return;
    }
    append(c, item);
    m->n++;
    if (slot && 2 * m->n <= m->cap) *slot = item;
    else if (slot || m->n > NAMES_SCAN) names_grow(m, c->child);
}

static cJSON *container(P *s, int object) {
    const unsigned char *open = s->p++;
    if (++s->depth > FLOW_JSON_DEPTH) { fail(s, open, "nested deeper than %d levels", FLOW_JSON_DEPTH); return NULL; }
    cJSON *c = node(object ? cJSON_Object : cJSON_Array);
    Names names = { NULL, 0, 0 };
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
        if (object) member_put(c, item, &names);
        else append(c, item);
        skip_ws(s);
        if (s->p >= s->end) { fail(s, s->p, "unexpected end of the text in %s", object ? "an object" : "an array"); goto bad; }
        if (*s->p == ',') { s->p++; skip_ws(s); continue; }
        if (*s->p == (object ? '}' : ']')) { s->p++; break; }
        fail(s, s->p, "expected `,` or `%c`", object ? '}' : ']');
        goto bad;
    }
    s->depth--;
    free(names.tab);
    return c;
bad:
    free(names.tab);
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

/* ---- typed decoding: a record of a declared type straight into slots (flow.h, typed records) ----
 * The same grammar, strings and numbers as above, without a cJSON tree: the declared fields fill
 * slots, the rest is checked and skipped. It takes only what the generic path (the reader, then the
 * engine's checks of values and type) takes unchanged and reads the same way; anything else — a
 * value that does not fit the type, a duplicate or missing declared field, a bool given as 0/1, a
 * number that is no plain int where an int is declared, a syntax error — answers -1, and the
 * record goes the generic way, which reports it exactly as before. */

typedef struct TD { P s; FlowArena *a; } TD;

static int td_skip(TD *d);

static void td_ws(TD *d) { skip_ws(&d->s); }

/* a string's text at d->s.p (after the opening quote) as a FlowStr: a slice of the text when it
 * has no escapes, else decoded into the arena; -1 on an error */
static int td_string(TD *d, FlowStr *out) {
    P *s = &d->s;
    const unsigned char *b = s->p, *e = s->end, *p = plain_end(b, e);
    if (p < e && *p == '"') {
        if (out) { out->p = (const char *)b; out->n = (size_t)(p - b); }
        s->p = p + 1;
        return 0;
    }
    const unsigned char *q = str_end(p, e);
    if (!q) return -1;
    size_t n;
    unsigned char *o = out ? flow_arena_alloc(d->a, (size_t)(q - b) + 1) : NULL;
    if (str_decode(s, b, p, q, o, &n)) return -1;
    if (out) {
        if (memchr(o, 0, n)) return -1;   /* cannot happen (\u0000 is refused); kept as a guard */
        out->p = (const char *)o;
        out->n = n;
    }
    s->p = q + 1;
    return 0;
}

static int td_container_skip(TD *d, int object) {
    P *s = &d->s;
    s->p++;
    if (++s->depth > FLOW_JSON_DEPTH) return -1;
    td_ws(d);
    if (s->p < s->end && *s->p == (object ? '}' : ']')) { s->p++; s->depth--; return 0; }
    for (;;) {
        if (object) {
            if (s->p >= s->end || *s->p != '"') return -1;
            s->p++;
            if (td_string(d, NULL)) return -1;
            td_ws(d);
            if (s->p >= s->end || *s->p != ':') return -1;
            s->p++;
            td_ws(d);
        }
        if (td_skip(d)) return -1;
        td_ws(d);
        if (s->p >= s->end) return -1;
        if (*s->p == ',') { s->p++; td_ws(d); continue; }
        if (*s->p == (object ? '}' : ']')) { s->p++; break; }
        return -1;
    }
    s->depth--;
    return 0;
}

/* any value, checked as the reader checks it, nothing kept */
static int td_skip(TD *d) {
    P *s = &d->s;
    if (s->p >= s->end) return -1;
    unsigned c = *s->p;
    Num m;
    switch (c) {
    case '{': return td_container_skip(d, 1);
    case '[': return td_container_skip(d, 0);
    case '"': s->p++; return td_string(d, NULL);
    case 't': return literal(s, "true", 4) ? 0 : -1;
    case 'f': return literal(s, "false", 5) ? 0 : -1;
    case 'n': return literal(s, "null", 4) ? 0 : -1;
    default: return (c == '-' || is_digit(c)) ? num_scan(s, &m) : -1;
    }
}

static int td_value(TD *d, const FlowTypeDef *t, FlowTSlot *out);
static inline __attribute__((always_inline)) int td_scalar(TD *d, const FlowTypeDef *t, FlowTSlot *out);

/* a declared field that is missing, or null: fine when the type allows it (check_type's rules) */
int flow_tslot_absent(const FlowTypeDef *t, int is_null, FlowTSlot *out) {
    *out = flow_tslot_null;
    if (!t || t->nullable || (t->kind == FLOW_JSON && !t->is_record && !t->is_array)) return 0;
    return is_null && t->kind == FLOW_NULL && !t->is_record && !t->is_array ? 0 : -1;
}

/* the raw text at p (more than len bytes to e) starts with the field's name: its first 8 bytes
 * compared as one word when flowc gave them (key8), the rest as bytes */
static inline int key_is(const unsigned char *p, const unsigned char *e, const FlowFieldDef *fd, size_t len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (fd->key8 && e - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t m = len >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * len)) - 1;
        return !((x ^ fd->key8) & m) && (len <= 8 || memcmp(p + 8, fd->name + 8, len - 8) == 0);
    }
#else
    (void)e;
#endif
    return memcmp(p, fd->name, len) == 0;
}

static int td_record(TD *d, const FlowTypeDef *t, FlowTSlot *out) {
    P *s = &d->s;
    s->p++;
    if (++s->depth > FLOW_JSON_DEPTH) return -1;
    int nf = t->nfields;
    FlowTSlot *kids = nf ? flow_arena_alloc(d->a, sizeof *kids * (size_t)nf) : NULL;
    uint64_t seen_bits = 0;   /* the fields seen: bits for the first 64, bytes past them */
    unsigned char *seen_more = nf > 64 ? memset(flow_arena_alloc(d->a, (size_t)nf), 0, (size_t)nf) : NULL;
    td_ws(d);
    if (s->p < s->end && *s->p == '}') s->p++;
    else for (int next = 0;;) {
        if (s->p >= s->end || *s->p != '"') return -1;
        s->p++;
        /* the declared field of that name: most records list their fields in the declared order, so
         * the one after the last is tried first, on the raw text (a name needing no escapes) */
        int k = -1;
        if (next < nf) {
            const FlowFieldDef *fd = &t->fields[next];
            size_t len = fd->len ? fd->len : strlen(fd->name);
            if ((size_t)(s->end - s->p) > len && key_is(s->p, s->end, fd, len) && s->p[len] == '"') {
                k = next;
                s->p += len + 1;
            }
        }
        if (k < 0) {
            FlowStr key;
            if (td_string(d, &key)) return -1;
            for (int i = 0; i < nf; i++) {
                const FlowFieldDef *fd = &t->fields[i];
                size_t len = fd->len ? fd->len : strlen(fd->name);
                if (len == key.n && memcmp(fd->name, key.p, len) == 0) { k = i; break; }
            }
        }
        td_ws(d);
        if (s->p >= s->end || *s->p != ':') return -1;
        s->p++;
        td_ws(d);
        if (k < 0) { if (td_skip(d)) return -1; }
        else {
            if (k < 64 ? (seen_bits >> k & 1) : seen_more[k]) return -1;   /* a duplicate: the generic path reads the first */
            if (k < 64) seen_bits |= (uint64_t)1 << k;
            else seen_more[k] = 1;
            const FlowTypeDef *ft = t->fields[k].type;
            if (ft && !ft->is_record && !ft->is_array && ft->kind != FLOW_JSON && s->p < s->end && *s->p != 'n') {
                if (td_scalar(d, ft, &kids[k])) return -1;
            } else if (td_value(d, ft, &kids[k])) return -1;
            next = k + 1;
        }
        td_ws(d);
        if (s->p >= s->end) return -1;
        if (*s->p == ',') { s->p++; td_ws(d); continue; }
        if (*s->p == '}') { s->p++; break; }
        return -1;
    }
    s->depth--;
    for (int i = 0; i < nf; i++)
        if (!(i < 64 ? (seen_bits >> i & 1) : seen_more[i]) && flow_tslot_absent(t->fields[i].type, 0, &kids[i])) return -1;
    out->v = flow_null();
    out->kids = kids;
    out->n = nf;
    out->null = 0;
    return 0;
}

static int td_array(TD *d, const FlowTypeDef *t, FlowTSlot *out) {
    P *s = &d->s;
    s->p++;
    if (++s->depth > FLOW_JSON_DEPTH) return -1;
    int n = 0, cap = 8;
    FlowTSlot *kids = flow_arena_alloc(d->a, sizeof *kids * (size_t)cap);
    td_ws(d);
    if (s->p < s->end && *s->p == ']') s->p++;
    else for (;;) {
        if (n == cap) {   /* the old slots stay in the arena until the page ends */
            FlowTSlot *more = flow_arena_alloc(d->a, sizeof *kids * (size_t)cap * 2);
            memcpy(more, kids, sizeof *kids * (size_t)n);
            kids = more;
            cap *= 2;
        }
        if (td_value(d, t->elem, &kids[n])) return -1;
        n++;
        td_ws(d);
        if (s->p >= s->end) return -1;
        if (*s->p == ',') { s->p++; td_ws(d); continue; }
        if (*s->p == ']') { s->p++; break; }
        return -1;
    }
    s->depth--;
    out->v = flow_null();
    out->kids = kids;
    out->n = n;
    out->null = 0;
    return 0;
}

/* a declared scalar (not null: the caller saw no `null`) */
static inline __attribute__((always_inline)) int td_scalar(TD *d, const FlowTypeDef *t, FlowTSlot *out) {
    P *s = &d->s;
    unsigned c = *s->p;
    out->kids = NULL;
    out->n = 0;
    out->null = 0;
    Num m;
    switch (t->kind) {
    case FLOW_STRING:
        if (c != '"') return -1;
        s->p++;
        out->v.kind = FLOW_STRING;
        return td_string(d, &out->v.s);
    case FLOW_BOOL:
        if (literal(s, "true", 4)) { out->v = flow_bool(1); return 0; }
        if (literal(s, "false", 5)) { out->v = flow_bool(0); return 0; }
        return -1;
    case FLOW_INT: case FLOW_DURATION: case FLOW_NUMBER:
        if (c != '-' && !is_digit(c)) return -1;
        if (num_scan(s, &m)) return -1;
        if (t->kind == FLOW_NUMBER) { out->v = flow_number(m.d); return 0; }
        /* an int: plain digits only (1.0 and 1e3 are ints too, but the generic path reads them) */
        if (!m.simple || (m.neg && m.v == 0) || (!m.want_exact && m.nd > 15)) return -1;
        int64_t i = m.want_exact ? m.exact : (int64_t)m.d;
        out->v = t->kind == FLOW_INT ? flow_int(i) : flow_duration(i);
        return 0;
    case FLOW_DATETIME: {   /* checked as check_type checks it; its value is not kept (typed code does not read it) */
        int64_t ms;
        if (c == '"') {
            FlowStr str;
            s->p++;
            if (td_string(d, &str)) return -1;
            if (!flow_parse_iso8601(str.p, str.n, &ms)) return -1;
        } else if (c == '-' || is_digit(c)) {
            if (num_scan(s, &m)) return -1;
        } else return -1;
        *out = flow_tslot_null;
        out->null = 0;
        return 0;
    }
    default: return -1;   /* FLOW_NULL takes only null */
    }
}

static int td_value(TD *d, const FlowTypeDef *t, FlowTSlot *out) {
    P *s = &d->s;
    if (s->p >= s->end) return -1;
    unsigned c = *s->p;
    if (c == 'n') return literal(s, "null", 4) ? flow_tslot_absent(t, 1, out) : -1;
    if (!t || (t->kind == FLOW_JSON && !t->is_record && !t->is_array)) {   /* any JSON: checked, not kept */
        *out = flow_tslot_null;
        out->null = 0;
        return td_skip(d);
    }
    if (t->is_record) return c == '{' ? td_record(d, t, out) : -1;
    if (t->is_array) return c == '[' ? td_array(d, t, out) : -1;
    return td_scalar(d, t, out);
}

int flow_json_decode_typed(const FlowTypeDef *t, const char *text, size_t n, FlowArena *a, FlowTSlot *root) {
    if (!t || !t->is_record || !n) return -1;
    TD d = { { (const unsigned char *)text, (const unsigned char *)text, (const unsigned char *)text + n, 0, NULL, NULL, 0 }, a };
    td_ws(&d);
    if (d.s.p >= d.s.end || *d.s.p != '{') return -1;
    if (td_record(&d, t, root)) return -1;
    td_ws(&d);
    return d.s.p == d.s.end ? 0 : -1;
}
