/* strings.c — the string built-ins over UTF-8 text: lower upper trim len substr replace regex_match regex_replace split join
 * contains starts_with ends_with pad_left, and to_json. */
#include "flow.h"
#include "flow_re.h"
#include <utf8proc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* Text is UTF-8. len, substr and pad_left count code points; a byte that does not start a valid
 * UTF-8 sequence counts as one character on its own. lower and upper map case by the Unicode rules
 * (utf8proc) and return NFC; regexes run the one engine of runtime/regex.c, by code point; trim
 * removes Unicode whitespace (flow_str_trim); replace, split and the tests compare bytes. Results are copied into
 * scratch memory and NUL-terminated. */

#define MAX_RESULT ((size_t)16 << 20)   /* longest text replace, regex_replace and join build */
#define PAD_MAX ((int64_t)1 << 20)      /* widest pad_left, in characters */
#define QUOTE_MAX 48                    /* bytes of a text quoted in an error message */
#define REGEX_WORK 100000000ULL         /* steps of one regex_match or regex_replace (the engine is linear) */

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

/* ---- case, trim, length ---- */

/* Cased and case-ignorable characters (Unicode §3.13), for the final sigma: cased letters are Lu, Ll
 * and Lt (and the few others utf8proc calls upper or lower); case-ignorable are marks, format
 * controls, modifiers and the apostrophes, dots and colons that may sit inside a word. */
static int is_cased(utf8proc_int32_t c) {
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT || utf8proc_islower(c) || utf8proc_isupper(c);
}

static int is_case_ignorable(utf8proc_int32_t c) {
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK: return 1;
    default: break;
    }
    switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x5F4: case 0x2018: case 0x2019: case 0x2024:
    case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A: return 1;
    default: return 0;
    }
}

/* Σ at cps[i] is final (ς) when a cased letter comes before it and none after it, skipping
 * case-ignorable characters on both sides (SpecialCasing.txt's Final_Sigma). */
static int final_sigma(const utf8proc_int32_t *cps, size_t n, size_t i) {
    size_t j = i;
    while (j > 0 && is_case_ignorable(cps[j - 1])) j--;
    if (j == 0 || !is_cased(cps[j - 1])) return 0;
    j = i + 1;
    while (j < n && is_case_ignorable(cps[j])) j++;
    return j == n || !is_cased(cps[j]);
}

/* The full uppercase of c into out (at most 3 code points; returns how many): a letter whose case
 * folding is several characters (ß -> ss, ﬀ -> ff, ŉ -> ʼn, ᾳ -> αι) uppercases them one by one
 * (SS, FF, ʼN, ΑΙ: SpecialCasing.txt's unconditional mappings); any other character takes its simple
 * mapping. An uppercase letter stays as it is (İ, ẞ). */
static int upper_of(utf8proc_int32_t c, utf8proc_int32_t out[3]) {
    if (utf8proc_category(c) != UTF8PROC_CATEGORY_LU) {
        utf8proc_int32_t fold[8];
        int last = 0;
        utf8proc_ssize_t k = utf8proc_decompose_char(c, fold, 8, UTF8PROC_CASEFOLD, &last);
        if (k > 1 && k <= 3) {
            for (utf8proc_ssize_t i = 0; i < k; i++) out[i] = utf8proc_toupper(fold[i]);
            return (int)k;
        }
    }
    out[0] = utf8proc_toupper(c);
    return 1;
}

/* Puts each run of combining marks in canonical order (stable, by combining class) with a merge
 * sort: O(n log n) whatever the text. utf8proc's own reordering is an insertion sort, quadratic in a
 * run's length, so a hostile string of 100,000 alternating marks would take minutes; given text
 * already in order it does no more than check it. */
static void canonical_order(utf8proc_int32_t *cp, size_t n) {
    utf8proc_int32_t *tmp = NULL;
    for (size_t i = 0; i < n;) {
        if (utf8proc_get_property(cp[i])->combining_class == 0) { i++; continue; }
        size_t j = i;
        while (j < n && utf8proc_get_property(cp[j])->combining_class != 0) j++;
        if (j - i > 1) {
            if (!tmp && !(tmp = malloc(n * sizeof *tmp))) abort();
            for (size_t w = 1; w < j - i; w *= 2)   /* bottom-up merge sort of cp[i..j) */
                for (size_t lo = i; lo < j - w; lo += 2 * w) {
                    size_t mid = lo + w, hi = lo + 2 * w < j ? lo + 2 * w : j, a = lo, b = mid, o = 0;
                    while (a < mid && b < hi)
                        tmp[o++] = utf8proc_get_property(cp[b])->combining_class < utf8proc_get_property(cp[a])->combining_class ? cp[b++] : cp[a++];
                    while (a < mid) tmp[o++] = cp[a++];
                    while (b < hi) tmp[o++] = cp[b++];
                    memcpy(cp + lo, tmp, o * sizeof *cp);
                }
        }
        i = j;
    }
    free(tmp);
}

/* upper and lower: full Unicode case mapping (utf8proc's tables and the rules above; no locale, so
 * no Turkish or Lithuanian tailoring), returned in NFC. ASCII text takes a fast path. Text that is
 * not valid UTF-8 is a `value` error. */
static FlowVal change_case(FlowCtx *cx, FlowVal a, const char *fn, int up) {
    FlowStr s;
    if (!flow_arg_str(cx, a, fn, NULL, &s)) return flow_null();
    /* ASCII: mapped while copied, 8 bytes at a time, then byte by byte (a byte past ASCII sends the
     * text the full way): a byte b < 0x80 is in [lo, hi] when b + (0x80 - lo) has its top bit set and
     * b + (0x7F - hi) has not (no carry crosses bytes); those bytes get 0x20 flipped */
    char *d = flow_scratch_alloc(cx, s.n + 1);
    size_t i = 0;
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    const uint64_t lo = ones * (0x80 - (up ? 'a' : 'A')), hi = ones * (0x7F - (up ? 'z' : 'Z'));
    for (; i + 8 <= s.n; i += 8) {
        uint64_t x;
        memcpy(&x, s.p + i, 8);
        if (x & high) break;
        x ^= (((x + lo) & ~(x + hi)) & high) >> 2;
        memcpy(d + i, &x, 8);
    }
    if (up) for (; i < s.n; i++) {
        unsigned c = (unsigned char)s.p[i];
        if (c >= 0x80) break;
        d[i] = (char)(c - ((c - 'a' < 26u) << 5));
    } else for (; i < s.n; i++) {
        unsigned c = (unsigned char)s.p[i];
        if (c >= 0x80) break;
        d[i] = (char)(c + ((c - 'A' < 26u) << 5));
    }
    if (i == s.n) return flow_string(d, s.n);
    /* the code points (at most one per byte) */
    utf8proc_int32_t *cps = malloc(s.n * sizeof *cps);
    if (!cps) abort();
    size_t n = 0;
    for (size_t at = 0; at < s.n;) {
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s.p + at, (utf8proc_ssize_t)(s.n - at), &cps[n]);
        if (k <= 0) {
            free(cps);
            return flow_fail(cx, FLOW_ERR_VALUE, "%s: the text is not valid UTF-8 (at byte %zu)", fn, at);
        }
        at += (size_t)k;
        n++;
    }
    /* the mapped text, canonically decomposed (NFD) */
    size_t nd = 0, capd = n + 16;
    utf8proc_int32_t *dec = malloc(capd * sizeof *dec);
    if (!dec) abort();
    for (size_t k = 0; k < n; k++) {
        utf8proc_int32_t m[3];
        int nm = 1;
        if (up) nm = upper_of(cps[k], m);
        else if (cps[k] == 0x3A3) m[0] = final_sigma(cps, n, k) ? 0x3C2 : 0x3C3;   /* Σ -> ς or σ */
        else if (cps[k] == 0x130) { m[0] = 'i'; m[1] = 0x307; nm = 2; }          /* İ -> i̇ */
        else m[0] = utf8proc_tolower(cps[k]);
        for (int j = 0; j < nm; j++) {
            if (capd - nd < 8) { capd *= 2; dec = realloc(dec, capd * sizeof *dec); if (!dec) abort(); }
            int last = 0;
            utf8proc_ssize_t k2 = utf8proc_decompose_char(m[j], dec + nd, (utf8proc_ssize_t)(capd - nd), UTF8PROC_DECOMPOSE, &last);
            if (k2 > 0) nd += (size_t)k2;   /* a canonical decomposition is at most 4 code points */
        }
    }
    free(cps);
    canonical_order(dec, nd);
    Buf out = { 0 };
    for (size_t k = 0; k < nd && !out.over; k++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t len = utf8proc_encode_char(dec[k], enc);
        buf_put(&out, (const char *)enc, (size_t)len);
    }
    free(dec);
    if (out.over) return buf_result(cx, &out, fn);
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t len = utf8proc_map((const utf8proc_uint8_t *)(out.p ? out.p : ""), (utf8proc_ssize_t)out.n, &nfc,
                                        UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    free(out.p);
    if (len < 0) return flow_fail(cx, FLOW_ERR_VALUE, "%s: %s", fn, utf8proc_errmsg(len));
    FlowVal r = str_result(cx, (const char *)nfc, (size_t)len);
    free(nfc);
    return r;
}

FlowVal flow_fn_lower(FlowCtx *cx, FlowVal a) { return change_case(cx, a, "lower", 0); }
FlowVal flow_fn_upper(FlowCtx *cx, FlowVal a) { return change_case(cx, a, "upper", 1); }

/* Unicode whitespace off both ends (flow_str_trim: the template helper and conversions trim alike). */
FlowVal flow_fn_trim(FlowCtx *cx, FlowVal a) {
    FlowStr s;
    if (!flow_arg_str(cx, a, "trim", NULL, &s)) return flow_null();
    s = flow_str_trim(s);
    return str_result(cx, s.p, s.n);
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

/* A pattern of the Flow dialect compiled (runtime/regex.c), once per run (flow_ctx_regex: the run
 * context owns it); an invalid one is a `value` error that names it and says why. */
static FlowRegex *compile(FlowCtx *cx, const char *fn, FlowStr pat) {
    char q[QUOTE_MAX * 4 + 8], why[200];
    if (memchr(pat.p, 0, pat.n)) {
        flow_fail(cx, FLOW_ERR_VALUE, "%s: invalid pattern %s: it contains a NUL byte", fn, quoted(q, pat.p, pat.n));
        return NULL;
    }
    FlowRegex *re = flow_ctx_regex(cx, pat.p, pat.n, why, sizeof why);
    if (!re) flow_fail(cx, FLOW_ERR_VALUE, "%s: invalid pattern %s: %s", fn, quoted(q, pat.p, pat.n), why);
    return re;
}

/* A run that spent its budget (or found no memory) is a `value` error: the pattern is too costly for
 * this text. Returns the run's answer otherwise. */
static int ran(FlowCtx *cx, const char *fn, int r) {
    if (r == -1) flow_fail(cx, FLOW_ERR_VALUE, "%s: the pattern needs more than %llu steps on this text", fn, REGEX_WORK);
    else if (r < -1) flow_fail(cx, FLOW_ERR_VALUE, "%s: out of memory", fn);
    return r;
}

/* regex_match(s, pattern): true when the pattern matches anywhere in s (`^` and `$` anchor it at the
 * start and end of s). */
FlowVal flow_fn_regex_match(FlowCtx *cx, FlowVal a, FlowVal b) {
    FlowStr s, pat;
    if (!flow_arg_str(cx, a, "regex_match", NULL, &s) || !flow_arg_str(cx, b, "regex_match", "pattern", &pat)) return flow_null();
    FlowRegex *re = compile(cx, "regex_match", pat);
    if (!re) return flow_null();
    unsigned long long work = 0;
    int r = ran(cx, "regex_match", flow_re_match(re, s.p, s.n, 0, &work, REGEX_WORK));
    return r < 0 ? flow_null() : flow_bool(r);
}

/* regex_replace(s, pattern, with): every match, left to right, replaced by `with`, in which $1..$9 (or
 * \1..\9) stand for the groups (empty when a group took no part), $0 / $& (or \0) for the whole
 * match, $$ for `$` and \\ for `\`; any other `$` or backslash is kept. An empty match inserts `with`
 * and the search moves on by one character. */
FlowVal flow_fn_regex_replace(FlowCtx *cx, FlowVal a, FlowVal b, FlowVal c) {
    FlowStr s, pat, w;
    if (!flow_arg_str(cx, a, "regex_replace", NULL, &s) || !flow_arg_str(cx, b, "regex_replace", "pattern", &pat)
        || !flow_arg_str(cx, c, "regex_replace", "with", &w))
        return flow_null();
    FlowRegex *re = compile(cx, "regex_replace", pat);
    if (!re) return flow_null();
    int groups = flow_re_groups(re);
    for (size_t i = 0; i + 1 < w.n; i++) {
        if (w.p[i] != '\\' && w.p[i] != '$') continue;
        char lead = w.p[i++];
        if (lead == '$' && w.p[i] == '$') continue;
        if (w.p[i] >= '1' && w.p[i] <= '9' && w.p[i] - '0' > groups) {
            char q[QUOTE_MAX * 4 + 8];
            int g = w.p[i] - '0';
            return flow_fail(cx, FLOW_ERR_VALUE, "regex_replace: the replacement refers to group %d but the pattern %s has %d",
                             g, quoted(q, pat.p, pat.n), groups);
        }
    }
    Buf out = { 0 };
    size_t pos = 0;
    long long m[2 * (FLOW_RE_MAX_GROUPS + 1)];
    unsigned long long work = 0;
    int r = 0;
    while (!out.over && pos <= s.n && (r = ran(cx, "regex_replace", flow_re_search(re, s.p, s.n, pos, m, &work, REGEX_WORK))) == 1) {
        size_t so = (size_t)m[0], eo = (size_t)m[1];
        buf_put(&out, s.p + pos, so - pos);
        for (size_t i = 0; i < w.n; i++) {
            char ch = w.p[i], next = i + 1 < w.n ? w.p[i + 1] : 0;
            int g = -1;
            if ((ch == '\\' || ch == '$') && next >= '0' && next <= '9') g = next - '0';
            else if (ch == '$' && next == '&') g = 0;
            if (g >= 0) {
                i++;
                if (m[2 * g] >= 0 && m[2 * g + 1] >= m[2 * g]) buf_put(&out, s.p + m[2 * g], (size_t)(m[2 * g + 1] - m[2 * g]));
            } else if ((ch == '\\' || ch == '$') && next == ch) {
                buf_put(&out, &ch, 1);
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
    if (r < 0) { free(out.p); return flow_null(); }
    if (pos < s.n) buf_put(&out, s.p + pos, s.n - pos);
    return buf_result(cx, &out, "regex_replace");
}

/* ---- JSON text ---- */

/* to_json(x) (the template helper jsonSerialize): x as compact JSON text, as a flow writes it:
 * "Ada" with its quotes, 1547.92, true, null, [1,2], {"a":1}; a date-time as its ISO-8601 string. */
FlowVal flow_fn_to_json(FlowCtx *cx, FlowVal a) {
    cJSON *j = flow_val_to_json(a);
    char *t = j ? flow_json_print(j) : NULL;
    cJSON_Delete(j);
    FlowVal r = str_result(cx, t ? t : "null", t ? strlen(t) : 4);
    cJSON_free(t);
    return r;
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
