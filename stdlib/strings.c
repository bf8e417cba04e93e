/* strings.c — the string built-ins over UTF-8 text: lower upper trim len substr replace regex_match regex_replace split join
 * contains starts_with ends_with pad_left. */
#include "flow.h"
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text is UTF-8. len, substr and pad_left count code points; a byte that does not start a valid
 * UTF-8 sequence counts as one character on its own. Everything else works on bytes: lower and upper
 * change the ASCII letters A-Z / a-z only and leave every other byte (so all non-ASCII text) as it is;
 * trim removes ASCII whitespace; regexes are POSIX extended regexes over bytes (`.` matches one byte).
 * Results are copied into scratch memory and NUL-terminated. */

#define MAX_RESULT ((size_t)16 << 20)   /* longest text replace, regex_replace and join build */
#define PAD_MAX ((int64_t)1 << 20)      /* widest pad_left, in characters */
#define QUOTE_MAX 48                    /* bytes of a text quoted in an error message */

/* ---- arguments ---- */

/* A whole number: an int, or a number / json number without a fraction inside the int64 range. */
static int arg_int(FlowCtx *cx, FlowVal v, const char *fn, const char *param, int64_t *out) {
    double d;
    if (v.kind == FLOW_INT) { *out = v.i; return 1; }
    if (v.kind == FLOW_NUMBER) d = v.n;
    else if (v.kind == FLOW_JSON && v.j && cJSON_IsNumber(v.j)) {
        if (flow_json_get_int(v.j, out)) return 1;    /* exact, past 2^53 too */
        d = v.j->valuedouble;
    } else {
        flow_fail(cx, FLOW_ERR_VALUE, "%s: expected an int for %s, got %s", fn, param, flow_val_desc(v));
        return 0;
    }
    if (d == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0 && (double)(int64_t)d == d) {
        *out = (int64_t)d;
        return 1;
    }
    flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a whole number for %s, got %.17g", fn, param, d);
    return 0;
}

/* "text" for a message (flow_quote, at most QUOTE_MAX bytes) */
#define quoted(out, p, n) flow_quote(out, QUOTE_MAX * 4 + 8, p, n, QUOTE_MAX)

/* A copy of p[0..n) in scratch memory, NUL-terminated, as a string value. */
static FlowVal str_result(FlowCtx *cx, const char *p, size_t n) {
    char *d = flow_scratch_alloc(cx, n + 1);
    if (n) memcpy(d, p, n);
    return flow_string(d, n);
}

/* ---- UTF-8 ---- */

/* Bytes of the character starting at s[i] (i < n): a whole valid UTF-8 sequence (no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 1 for a byte that does not start one. */
static size_t u8_len(const char *p, size_t n, size_t i) {
    const unsigned char *s = (const unsigned char *)p;
    unsigned c = s[i], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; else if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; else if (c == 0xF4) hi = 0x8F; }
    else return 1;
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return 1;
    for (size_t k = 2; k < len; k++)
        if ((s[i + k] & 0xC0) != 0x80) return 1;
    return len;
}

static size_t u8_count(const char *p, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i += u8_len(p, n, i)) count++;
    return count;
}

/* Byte offset of character number k (n when the text has k characters or fewer). */
static size_t u8_offset(const char *p, size_t n, size_t k) {
    size_t i = 0;
    for (; k > 0 && i < n; k--) i += u8_len(p, n, i);
    return i;
}

/* ---- a growable byte buffer (malloc'd; the caller frees p) with the MAX_RESULT cap ---- */

typedef struct { char *p; size_t n, cap; int over; } Buf;

static void buf_put(Buf *b, const char *s, size_t n) {
    if (b->over || n == 0) return;
    if (n > MAX_RESULT - b->n) { b->over = 1; return; }
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* The buffer as a string value (freeing it), or a `value` error when it outgrew MAX_RESULT. */
static FlowVal buf_result(FlowCtx *cx, Buf *b, const char *fn) {
    FlowVal r = b->over ? flow_fail(cx, FLOW_ERR_VALUE, "%s: the result would be longer than %zu MB", fn, MAX_RESULT >> 20)
                        : str_result(cx, b->p ? b->p : "", b->n);
    free(b->p);
    return r;
}

/* First occurrence of nd in h at or after from; returns 1 and sets *at. nn must be > 0. */
static int find(const char *h, size_t hn, const char *nd, size_t nn, size_t from, size_t *at) {
    while (from < hn && hn - from >= nn) {
        const char *c = memchr(h + from, nd[0], hn - from - nn + 1);
        if (!c) return 0;
        size_t i = (size_t)(c - h);
        if (memcmp(h + i, nd, nn) == 0) { *at = i; return 1; }
        from = i + 1;
    }
    return 0;
}

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* ---- case, trim, length ---- */

/* ASCII letters only: bytes outside A-Z / a-z, including every byte of a multi-byte character, stay. */
static FlowVal change_case(FlowCtx *cx, FlowVal a, const char *fn, int up) {
    FlowStr s;
    if (!flow_arg_str(cx, a, fn, NULL, &s)) return flow_null();
    FlowVal r = str_result(cx, s.p, s.n);
    char *d = (char *)r.s.p;
    for (size_t i = 0; i < s.n; i++) {
        if (up && d[i] >= 'a' && d[i] <= 'z') d[i] = (char)(d[i] - 'a' + 'A');
        else if (!up && d[i] >= 'A' && d[i] <= 'Z') d[i] = (char)(d[i] - 'A' + 'a');
    }
    return r;
}

FlowVal flow_fn_lower(FlowCtx *cx, FlowVal a) { return change_case(cx, a, "lower", 0); }
FlowVal flow_fn_upper(FlowCtx *cx, FlowVal a) { return change_case(cx, a, "upper", 1); }

/* ASCII whitespace (space, \t \n \v \f \r) off both ends. */
FlowVal flow_fn_trim(FlowCtx *cx, FlowVal a) {
    FlowStr s;
    if (!flow_arg_str(cx, a, "trim", NULL, &s)) return flow_null();
    size_t b = 0, e = s.n;
    while (b < e && is_space((unsigned char)s.p[b])) b++;
    while (e > b && is_space((unsigned char)s.p[e - 1])) e--;
    return str_result(cx, s.p + b, e - b);
}

/* Characters of a string, elements of an array, members of an object. */
FlowVal flow_fn_len(FlowCtx *cx, FlowVal a) {
    if (a.kind == FLOW_JSON && a.j && (cJSON_IsArray(a.j) || cJSON_IsObject(a.j))) {
        int64_t n = 0;
        for (const cJSON *c = a.j->child; c; c = c->next) n++;
        return flow_int(n);
    }
    FlowStr s;
    if (flow_val_str(a, &s)) return flow_int((int64_t)u8_count(s.p, s.n));
    return flow_fail(cx, FLOW_ERR_VALUE, "len: expected a string, an array or an object, got %s", flow_val_desc(a));
}

/* substr(s, start, length?): characters from start (0-based; negative counts from the end), at most
 * length of them (all the rest when omitted; none when negative). Out-of-range values are clamped. */
FlowVal flow_fn_substr(FlowCtx *cx, FlowVal a, FlowVal b, FlowVal c) {
    FlowStr s;
    int64_t start, length = INT64_MAX;
    if (!flow_arg_str(cx, a, "substr", NULL, &s) || !arg_int(cx, b, "substr", "start", &start)) return flow_null();
    if (!flow_val_is_null(c) && !arg_int(cx, c, "substr", "length", &length)) return flow_null();
    size_t total = u8_count(s.p, s.n), from;
    if (start < 0) {
        uint64_t back = (uint64_t)(-(start + 1)) + 1;
        from = back >= total ? 0 : total - (size_t)back;
    } else {
        from = (uint64_t)start >= total ? total : (size_t)start;
    }
    size_t count = length <= 0 ? 0 : (uint64_t)length >= total - from ? total - from : (size_t)length;
    size_t bo = u8_offset(s.p, s.n, from);
    size_t bn = u8_offset(s.p + bo, s.n - bo, count);
    return str_result(cx, s.p + bo, bn);
}

/* ---- search and replace ---- */

/* Every occurrence of find, left to right, without overlaps. An empty find changes nothing. */
FlowVal flow_fn_replace(FlowCtx *cx, FlowVal a, FlowVal b, FlowVal c) {
    FlowStr s, f, w;
    if (!flow_arg_str(cx, a, "replace", NULL, &s) || !flow_arg_str(cx, b, "replace", "find", &f) || !flow_arg_str(cx, c, "replace", "with", &w))
        return flow_null();
    if (f.n == 0) return str_result(cx, s.p, s.n);
    Buf out = { 0 };
    size_t pos = 0, at;
    while (!out.over && find(s.p, s.n, f.p, f.n, pos, &at)) {
        buf_put(&out, s.p + pos, at - pos);
        buf_put(&out, w.p, w.n);
        pos = at + f.n;
    }
    buf_put(&out, s.p + pos, s.n - pos);
    return buf_result(cx, &out, "replace");
}

/* Compiles a POSIX extended regex; an invalid pattern is a `value` error that names it. */
static int compile(FlowCtx *cx, const char *fn, FlowStr pat, regex_t *re) {
    char q[QUOTE_MAX * 4 + 8];
    if (memchr(pat.p, 0, pat.n)) {
        flow_fail(cx, FLOW_ERR_VALUE, "%s: invalid pattern %s: it contains a NUL byte", fn, quoted(q, pat.p, pat.n));
        return 0;
    }
    char *z = flow_scratch_alloc(cx, pat.n + 1);
    memcpy(z, pat.p, pat.n);
    int rc = regcomp(re, z, REG_EXTENDED);
    if (rc != 0) {
        char why[128];
        regerror(rc, re, why, sizeof why);
        flow_fail(cx, FLOW_ERR_VALUE, "%s: invalid pattern %s: %s", fn, quoted(q, pat.p, pat.n), why);
        return 0;
    }
    return 1;
}

/* The subject of a regex as a NUL-terminated scratch copy; over INT_MAX bytes is a `value` error. */
static const char *subject(FlowCtx *cx, const char *fn, FlowStr s) {
    if (s.n > (size_t)INT_MAX) {
        flow_fail(cx, FLOW_ERR_VALUE, "%s: the text is too long", fn);
        return NULL;
    }
    char *z = flow_scratch_alloc(cx, s.n + 1);
    if (s.n) memcpy(z, s.p, s.n);
    return z;
}

/* Searches s[from..n); on a match fills m[0..9] with offsets from the start of s and returns 1.
 * With REG_STARTEND (glibc, the BSDs) NUL bytes inside the text are searched too; without it the
 * search stops at the first NUL. */
static int search(const regex_t *re, const char *s, size_t n, size_t from, regmatch_t m[10]) {
#ifdef REG_STARTEND
    m[0].rm_so = (regoff_t)from;
    m[0].rm_eo = (regoff_t)n;
    return regexec(re, s, 10, m, REG_STARTEND | (from ? REG_NOTBOL : 0)) == 0;
#else
    (void)n;
    if (regexec(re, s + from, 10, m, from ? REG_NOTBOL : 0) != 0) return 0;
    for (int i = 0; i < 10; i++)
        if (m[i].rm_so >= 0) { m[i].rm_so += (regoff_t)from; m[i].rm_eo += (regoff_t)from; }
    return 1;
#endif
}

/* regex_match(s, pattern): true when the pattern matches anywhere in s. */
FlowVal flow_fn_regex_match(FlowCtx *cx, FlowVal a, FlowVal b) {
    FlowStr s, pat;
    regex_t re;
    regmatch_t m[10];
    if (!flow_arg_str(cx, a, "regex_match", NULL, &s) || !flow_arg_str(cx, b, "regex_match", "pattern", &pat)) return flow_null();
    const char *z = subject(cx, "regex_match", s);
    if (!z || !compile(cx, "regex_match", pat, &re)) return flow_null();
    int found = search(&re, z, s.n, 0, m);
    regfree(&re);
    return flow_bool(found);
}

/* regex_replace(s, pattern, with): every match replaced by `with`, in which \1..\9 stand for the
 * groups (empty when a group took no part), \0 for the whole match and \\ for one backslash; any other
 * backslash is kept. An empty match inserts `with` and the search moves on by one character. */
FlowVal flow_fn_regex_replace(FlowCtx *cx, FlowVal a, FlowVal b, FlowVal c) {
    FlowStr s, pat, w;
    regex_t re;
    regmatch_t m[10];
    if (!flow_arg_str(cx, a, "regex_replace", NULL, &s) || !flow_arg_str(cx, b, "regex_replace", "pattern", &pat)
        || !flow_arg_str(cx, c, "regex_replace", "with", &w))
        return flow_null();
    const char *z = subject(cx, "regex_replace", s);
    if (!z || !compile(cx, "regex_replace", pat, &re)) return flow_null();
    for (size_t i = 0; i + 1 < w.n; i++) {
        if (w.p[i] != '\\') continue;
        i++;
        if (w.p[i] >= '1' && w.p[i] <= '9' && (size_t)(w.p[i] - '0') > re.re_nsub) {
            char q[QUOTE_MAX * 4 + 8];
            size_t groups = re.re_nsub;
            regfree(&re);
            return flow_fail(cx, FLOW_ERR_VALUE, "regex_replace: the replacement refers to group %d but the pattern %s has %zu",
                             w.p[i] - '0', quoted(q, pat.p, pat.n), groups);
        }
    }
    Buf out = { 0 };
    size_t pos = 0;
    while (!out.over && pos <= s.n && search(&re, z, s.n, pos, m)) {
        size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
        buf_put(&out, s.p + pos, so - pos);
        for (size_t i = 0; i < w.n; i++) {
            char ch = w.p[i];
            if (ch == '\\' && i + 1 < w.n && w.p[i + 1] >= '0' && w.p[i + 1] <= '9') {
                const regmatch_t *g = &m[w.p[++i] - '0'];
                if (g->rm_so >= 0 && g->rm_eo >= g->rm_so) buf_put(&out, s.p + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
            } else if (ch == '\\' && i + 1 < w.n && w.p[i + 1] == '\\') {
                buf_put(&out, "\\", 1);
                i++;
            } else {
                buf_put(&out, &w.p[i], 1);
            }
        }
        if (eo > so) {
            pos = eo;
        } else if (so < s.n) {
            size_t step = u8_len(s.p, s.n, so);
            buf_put(&out, s.p + so, step);
            pos = so + step;
        } else {
            pos = s.n + 1;
        }
    }
    if (pos < s.n) buf_put(&out, s.p + pos, s.n - pos);
    regfree(&re);
    return buf_result(cx, &out, "regex_replace");
}

/* ---- split and join ---- */

/* A JSON array of the pieces between the separators; an empty separator splits into characters.
 * (JSON strings end at a NUL byte, so a piece holding one is cut there.) */
FlowVal flow_fn_split(FlowCtx *cx, FlowVal a, FlowVal b) {
    FlowStr s, sep;
    if (!flow_arg_str(cx, a, "split", NULL, &s) || !flow_arg_str(cx, b, "split", "sep", &sep)) return flow_null();
    cJSON *arr = cJSON_CreateArray();
    char *tmp = malloc(s.n + 1);
    if (!arr || !tmp) abort();
    size_t pos = 0;
    for (;;) {
        size_t at, next;
        if (sep.n == 0) {
            if (pos >= s.n) break;
            at = pos + u8_len(s.p, s.n, pos);
            next = at;
        } else if (find(s.p, s.n, sep.p, sep.n, pos, &at)) {
            next = at + sep.n;
        } else {
            at = s.n;
            next = SIZE_MAX;
        }
        memcpy(tmp, s.p + pos, at - pos);
        tmp[at - pos] = 0;
        cJSON *item = cJSON_CreateString(tmp);
        if (!item || !cJSON_AddItemToArray(arr, item)) abort();
        if (next == SIZE_MAX) break;
        pos = next;
    }
    free(tmp);
    return flow_json(flow_scratch_keep(cx, arr));
}

/* join(list, sep?): the text of every element (as to_string writes it; null as nothing, arrays and
 * objects as compact JSON) with sep between them (default ","). */
FlowVal flow_fn_join(FlowCtx *cx, FlowVal a, FlowVal b) {
    FlowStr sep = { ",", 1 };
    if (!(a.kind == FLOW_JSON && a.j && cJSON_IsArray(a.j)))
        return flow_fail(cx, FLOW_ERR_VALUE, "join: expected an array, got %s", flow_val_desc(a));
    if (!flow_val_is_null(b) && !flow_arg_str(cx, b, "join", "sep", &sep)) return flow_null();
    Buf out = { 0 };
    for (const cJSON *e = a.j->child; e && !out.over; e = e->next) {
        if (e != a.j->child) buf_put(&out, sep.p, sep.n);
        FlowStr t = flow_val_text(cx, flow_json(e));
        buf_put(&out, t.p, t.n);
    }
    return buf_result(cx, &out, "join");
}

/* ---- tests ---- */

/* contains(x, item): a substring of a string (the empty string is in every string), or an element of
 * an array equal to item (flow_val_equal: ints and numbers compare by value). */
FlowVal flow_fn_contains(FlowCtx *cx, FlowVal a, FlowVal b) {
    if (a.kind == FLOW_JSON && a.j && cJSON_IsArray(a.j)) {
        FlowStr t;
        FlowVal item = flow_val_is_null(b) ? flow_null() : flow_val_str(b, &t) && b.kind == FLOW_STRING ? flow_string(t.p, t.n) : b;
        for (const cJSON *e = a.j->child; e; e = e->next)
            if (flow_val_equal(flow_json(e), item)) return flow_bool(1);
        return flow_bool(0);
    }
    FlowStr s, item;
    size_t at;
    if (flow_val_str(a, &s)) {
        if (!flow_val_str(b, &item))
            return flow_fail(cx, FLOW_ERR_VALUE, "contains: expected a string to look for in a string, got %s", flow_val_desc(b));
        return flow_bool(item.n == 0 || find(s.p, s.n, item.p, item.n, 0, &at));
    }
    return flow_fail(cx, FLOW_ERR_VALUE, "contains: expected a string or an array, got %s", flow_val_desc(a));
}

FlowVal flow_fn_starts_with(FlowCtx *cx, FlowVal a, FlowVal b) {
    FlowStr s, p;
    if (!flow_arg_str(cx, a, "starts_with", NULL, &s) || !flow_arg_str(cx, b, "starts_with", "prefix", &p)) return flow_null();
    return flow_bool(p.n <= s.n && memcmp(s.p, p.p, p.n) == 0);
}

FlowVal flow_fn_ends_with(FlowCtx *cx, FlowVal a, FlowVal b) {
    FlowStr s, p;
    if (!flow_arg_str(cx, a, "ends_with", NULL, &s) || !flow_arg_str(cx, b, "ends_with", "suffix", &p)) return flow_null();
    return flow_bool(p.n <= s.n && memcmp(s.p + (s.n - p.n), p.p, p.n) == 0);
}

/* pad_left(s, width, fill?): s preceded by enough characters of fill (default " ", repeated and cut
 * as needed) to make it width characters long; s as it is when it is that long already. */
FlowVal flow_fn_pad_left(FlowCtx *cx, FlowVal a, FlowVal b, FlowVal c) {
    FlowStr s, fill = { " ", 1 };
    int64_t width;
    if (!flow_arg_str(cx, a, "pad_left", NULL, &s) || !arg_int(cx, b, "pad_left", "width", &width)) return flow_null();
    if (!flow_val_is_null(c) && !flow_arg_str(cx, c, "pad_left", "fill", &fill)) return flow_null();
    if (width > PAD_MAX)
        return flow_fail(cx, FLOW_ERR_VALUE, "pad_left: width %lld is over the limit of %lld", (long long)width, (long long)PAD_MAX);
    size_t have = u8_count(s.p, s.n);
    if (width <= 0 || (size_t)width <= have) return str_result(cx, s.p, s.n);
    if (fill.n == 0) return flow_fail(cx, FLOW_ERR_VALUE, "pad_left: the fill is empty");
    size_t need = (size_t)width - have, bytes = 0;
    for (size_t k = 0, i = 0; k < need; k++) {   /* the size first: at most 4 bytes per character */
        size_t l = u8_len(fill.p, fill.n, i);
        bytes += l;
        i = i + l < fill.n ? i + l : 0;
    }
    char *d = flow_scratch_alloc(cx, bytes + s.n + 1);
    size_t o = 0;
    for (size_t k = 0, i = 0; k < need; k++) {
        size_t l = u8_len(fill.p, fill.n, i);
        memcpy(d + o, fill.p + i, l);
        o += l;
        i = i + l < fill.n ? i + l : 0;
    }
    if (s.n) memcpy(d + o, s.p, s.n);
    return flow_string(d, o + s.n);
}
