/* jsonpath.c — RFC 9535 JSONPath: the query parser (with the well-typedness rules) and the evaluator.
 * match() and search() run the I-Regexp dialect of the one regex engine (regex.c). */
#include "jsonpath.h"
#include "flow.h"
#include "flow_re.h"
#include <math.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXACT_INT 9007199254740991LL   /* I-JSON: integers in [-(2^53)+1, (2^53)-1] */

/* ================================================================================================
 * Arena: every piece of a compiled query (and of a regex compiled at run time) lives in one.
 * ================================================================================================ */

typedef struct Chunk {
    struct Chunk *next;
    size_t used, cap;
    max_align_t data[];
} Chunk;

typedef struct { Chunk *head; } Arena;

static void *arena_alloc(Arena *a, size_t n) {
    const size_t al = _Alignof(max_align_t);
    if (n > SIZE_MAX / 2) return NULL;
    n = n ? (n + al - 1) / al * al : al;
    Chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        c = malloc(sizeof(Chunk) + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(Arena *a) {
    for (Chunk *c = a->head, *next; c; c = next) { next = c->next; free(c); }
    a->head = NULL;
}

/* ================================================================================================
 * UTF-8
 * ================================================================================================ */

static size_t utf8_encode(uint32_t c, char *out) {
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* ================================================================================================
 * The compiled query
 * ================================================================================================ */

typedef struct Expr Expr;

typedef enum { SEL_NAME, SEL_WILD, SEL_INDEX, SEL_SLICE, SEL_FILTER } SelKind;

typedef struct {
    SelKind kind;
    const char *name;            /* SEL_NAME: UTF-8, may hold NUL (from \u0000) */
    size_t len;
    int64_t index;               /* SEL_INDEX */
    int64_t start, end, step;    /* SEL_SLICE */
    bool has_start, has_end;
    Expr *filter;                /* SEL_FILTER */
} Sel;

typedef struct {
    bool descendant;
    Sel *sels;
    size_t nsels;
} Seg;

typedef struct {
    bool absolute;               /* $ rather than @ */
    bool singular;               /* only child segments of one name or index selector each */
    Seg *segs;
    size_t nsegs;
} Query;

/* A value in a filter: Nothing, a literal or computed scalar, or a document node. */
typedef enum { V_NOTHING, V_NUM, V_STR, V_TRUE, V_FALSE, V_NULL, V_NODE } VKind;

typedef struct {
    VKind k;
    double num;
    int exact; int64_t i;        /* V_NUM: num is the whole number i exactly (flow.h's exact ints) */
    const char *str;             /* V_STR */
    size_t len;
    const cJSON *node;           /* V_NODE: an array or object (or a cJSON raw value) */
} Val;

/* The declared types of RFC 9535 §2.4.1. */
typedef enum { T_VALUE, T_LOGICAL, T_NODES } FnType;
typedef enum { F_LENGTH, F_COUNT, F_MATCH, F_SEARCH, F_VALUE } FnId;

static const struct {
    const char *name;
    FnId id;
    FnType result;
    size_t nparams;
    FnType params[2];
} functions[] = {
    {"length", F_LENGTH, T_VALUE, 1, {T_VALUE, T_VALUE}},
    {"count", F_COUNT, T_VALUE, 1, {T_NODES, T_NODES}},
    {"match", F_MATCH, T_LOGICAL, 2, {T_VALUE, T_VALUE}},
    {"search", F_SEARCH, T_LOGICAL, 2, {T_VALUE, T_VALUE}},
    {"value", F_VALUE, T_VALUE, 1, {T_NODES, T_NODES}},
};

/* Primaries (E_LIT, E_QUERY, E_FUNC) are what a comparison or a function argument takes; logical
 * expressions (E_OR, E_AND, E_NOT, E_CMP, E_TEST) are what a filter takes. E_TEST is a primary
 * used as a test: a query's existence, or a function's LogicalType (or non-empty NodesType) result. */
typedef enum { E_LIT, E_QUERY, E_FUNC, E_OR, E_AND, E_NOT, E_CMP, E_TEST } ExprKind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } CmpOp;

struct Expr {
    ExprKind kind;
    size_t pos;                  /* byte offset of its start in the query text */
    Val lit;                     /* E_LIT */
    Query q;                     /* E_QUERY */
    size_t fn;                   /* E_FUNC: index into functions[] */
    CmpOp op;                    /* E_CMP */
    Expr **kids;                 /* E_FUNC arguments; E_OR/E_AND operands; E_NOT/E_TEST/E_CMP: 1 or 2 */
    size_t nkids;
    int re_state;                /* E_FUNC match/search with a literal pattern: 1 compiled, -1 invalid */
    FlowRegex *re;
};

/* The regexes compiled with a query (literal patterns), freed with it. */
typedef struct ReList { struct ReList *next; FlowRegex *re; } ReList;

struct FlowJsonPath {
    Arena arena;
    Query q;
    ReList *res;
};

/* ================================================================================================
 * Parser
 * ================================================================================================ */

typedef struct {
    const char *s;
    size_t pos, len;
    Arena *a;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
    ReList **res;                /* where compiled literal patterns are kept */
} Parser;

/* Records the first error, at byte offset at, as "message (at character N)". */
static void perr(Parser *p, size_t at, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = true;
    if (!p->err || !p->errlen) return;
    size_t chars = 1;
    for (size_t i = 0; i < at && i < p->len; i++)
        if (((unsigned char)p->s[i] & 0xC0) != 0x80) chars++;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < p->errlen)
        snprintf(p->err + n, p->errlen - (size_t)n, " (at character %zu)", chars);
}

/* A printable description of the character at byte offset at, for messages. */
static const char *describe(const Parser *p, size_t at, char *buf, size_t n) {
    if (at >= p->len) return "the end of the query";
    unsigned char c = (unsigned char)p->s[at];
    uint32_t cp;
    if (c == ' ') return "a space";
    if (c == '\t') return "a tab";
    if (c == '\n') return "a newline";
    if (c == '\r') return "a carriage return";
    if (c > 0x20 && c < 0x7F) { snprintf(buf, n, "'%c'", c); return buf; }
    if (flow_u8_decode((const unsigned char *)p->s + at, p->len - at, &cp)) {
        snprintf(buf, n, "U+%04X", (unsigned)cp);
        return buf;
    }
    if (c < 0x80) { snprintf(buf, n, "U+%04X", (unsigned)c); return buf; }
    return "invalid UTF-8";
}

static void unexpected(Parser *p, const char *wanted) {
    char buf[32];
    perr(p, p->pos, "expected %s, found %s", wanted, describe(p, p->pos, buf, sizeof buf));
}

static char peek(const Parser *p) { return p->pos < p->len ? p->s[p->pos] : 0; }
static char peek_at(const Parser *p, size_t k) { return p->pos + k < p->len ? p->s[p->pos + k] : 0; }

/* S = *B;  B = %x20 / %x09 / %x0A / %x0D */
static void skip_ws(Parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static void *palloc(Parser *p, size_t n) {
    void *v = arena_alloc(p->a, n);
    if (!v) perr(p, p->pos, "out of memory");
    else memset(v, 0, n);
    return v;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* int = "0" / (["-"] DIGIT1 *DIGIT), within the I-JSON range */
static bool parse_int(Parser *p, int64_t *out) {
    size_t start = p->pos;
    bool neg = false;
    if (peek(p) == '-') { neg = true; p->pos++; }
    if (!is_digit(peek(p))) { unexpected(p, "a digit"); return false; }
    if (peek(p) == '0') {
        if (neg) { perr(p, start, "-0 is not an integer here"); return false; }
        p->pos++;
        if (is_digit(peek(p))) { perr(p, start, "an integer has no leading zeros"); return false; }
        *out = 0;
        return true;
    }
    int64_t v = 0;
    bool big = false;
    while (is_digit(peek(p))) {
        if (!big) {
            v = v * 10 + (peek(p) - '0');
            if (v > MAX_EXACT_INT) big = true;
        }
        p->pos++;
    }
    if (big) {
        perr(p, start, "integer out of range (at most 2^53-1 in magnitude)");
        return false;
    }
    *out = neg ? -v : v;
    return true;
}

/* string-literal = %x22 *double-quoted %x22 / %x27 *single-quoted %x27, with the escapes of
 * RFC 9535 §2.3.1.1 (including surrogate pairs; lone surrogates are errors). */
static bool parse_string(Parser *p, const char **out, size_t *outlen) {
    char q = peek(p);
    size_t start = p->pos++;
    size_t end = p->pos;   /* the closing quote (or the end of the query), for the buffer's size */
    while (end < p->len && p->s[end] != q) end += p->s[end] == '\\' && end + 1 < p->len ? 2 : 1;
    char *buf = palloc(p, end - p->pos + 1);   /* escapes only shrink */
    if (!buf) return false;
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len) { perr(p, start, "unterminated string literal"); return false; }
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == (unsigned char)q) { p->pos++; break; }
        if (c < 0x20) { perr(p, p->pos, "control character U+%04X in a string literal (escape it)", c); return false; }
        if (c == '\\') {
            size_t esc = p->pos++;
            char e = peek(p);
            p->pos++;
            switch (e) {
            case 'b': buf[n++] = '\b'; break;
            case 'f': buf[n++] = '\f'; break;
            case 'n': buf[n++] = '\n'; break;
            case 'r': buf[n++] = '\r'; break;
            case 't': buf[n++] = '\t'; break;
            case '/': buf[n++] = '/'; break;
            case '\\': buf[n++] = '\\'; break;
            case '"': case '\'':
                if (e != q) { perr(p, esc, "invalid escape \\%c in a %s-quoted string", e, q == '"' ? "double" : "single"); return false; }
                buf[n++] = e;
                break;
            case 'u': {
                uint32_t cp = 0;
                for (int round = 0; round < 2; round++) {
                    uint32_t v = 0;
                    for (int i = 0; i < 4; i++) {
                        char h = peek(p);
                        int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                        if (d < 0) { perr(p, esc, "\\u needs four hexadecimal digits"); return false; }
                        v = v * 16 + (uint32_t)d;
                        p->pos++;
                    }
                    if (round == 0) {
                        if (v >= 0xDC00 && v <= 0xDFFF) { perr(p, esc, "lone low surrogate \\u%04X", (unsigned)v); return false; }
                        if (v < 0xD800 || v > 0xDBFF) { cp = v; break; }
                        cp = v;
                        if (peek(p) != '\\' || peek_at(p, 1) != 'u') { perr(p, esc, "high surrogate \\u%04X without a low surrogate", (unsigned)v); return false; }
                        esc = p->pos;
                        p->pos += 2;
                    } else {
                        if (v < 0xDC00 || v > 0xDFFF) { perr(p, esc, "expected a low surrogate, found \\u%04X", (unsigned)v); return false; }
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (v - 0xDC00);
                    }
                }
                n += utf8_encode(cp, buf + n);
                break;
            }
            default:
                perr(p, esc, "invalid escape in a string literal");
                return false;
            }
            continue;
        }
        uint32_t cp;
        size_t k = flow_u8_decode((const unsigned char *)p->s + p->pos, p->len - p->pos, &cp);
        if (!k) { perr(p, p->pos, "invalid UTF-8 in a string literal"); return false; }
        memcpy(buf + n, p->s + p->pos, k);
        n += k;
        p->pos += k;
    }
    buf[n] = 0;
    *out = buf;
    *outlen = n;
    return true;
}

/* member-name-shorthand = name-first *name-char
 * name-first = ALPHA / "_" / %x80-D7FF / %xE000-10FFFF;  name-char = name-first / DIGIT */
static size_t name_char_len(const Parser *p, size_t at, bool first) {
    if (at >= p->len) return 0;
    char c = p->s[at];
    if (is_alpha(c) || c == '_' || (!first && is_digit(c))) return 1;
    if ((unsigned char)c < 0x80) return 0;
    uint32_t cp;
    return flow_u8_decode((const unsigned char *)p->s + at, p->len - at, &cp);
}

static bool parse_shorthand(Parser *p, Sel *sel) {
    size_t start = p->pos;
    if (!name_char_len(p, p->pos, true)) {
        unexpected(p, "a member name or '*'");
        return false;
    }
    for (size_t k; (k = name_char_len(p, p->pos, p->pos == start)) > 0;) p->pos += k;
    char *name = palloc(p, p->pos - start + 1);
    if (!name) return false;
    memcpy(name, p->s + start, p->pos - start);
    sel->kind = SEL_NAME;
    sel->name = name;
    sel->len = p->pos - start;
    return true;
}

static Expr *parse_logical(Parser *p);
static bool check_logical(Parser *p, Expr **e);

/* selector = name-selector / wildcard-selector / slice-selector / index-selector / filter-selector
 * slice-selector = [start S] ":" S [end S] [":" [S step ]];  filter-selector = "?" S logical-expr */
static bool parse_selector(Parser *p, Sel *sel) {
    char c = peek(p);
    if (c == '\'' || c == '"') {
        sel->kind = SEL_NAME;
        return parse_string(p, &sel->name, &sel->len);
    }
    if (c == '*') { p->pos++; sel->kind = SEL_WILD; return true; }
    if (c == '?') {
        p->pos++;
        skip_ws(p);
        Expr *e = parse_logical(p);
        if (!e || !check_logical(p, &e)) return false;
        sel->kind = SEL_FILTER;
        sel->filter = e;
        return true;
    }
    if (c != '-' && c != ':' && !is_digit(c)) { unexpected(p, "a selector"); return false; }
    if (c != ':') {
        if (!parse_int(p, &sel->start)) return false;
        sel->has_start = true;
        skip_ws(p);
        if (peek(p) != ':') {
            sel->kind = SEL_INDEX;
            sel->index = sel->start;
            return true;
        }
    }
    sel->kind = SEL_SLICE;
    sel->step = 1;
    p->pos++;   /* ':' */
    skip_ws(p);
    c = peek(p);
    if (c == '-' || is_digit(c)) {
        if (!parse_int(p, &sel->end)) return false;
        sel->has_end = true;
        skip_ws(p);
    }
    if (peek(p) == ':') {
        p->pos++;
        skip_ws(p);
        c = peek(p);
        if ((c == '-' || is_digit(c)) && !parse_int(p, &sel->step)) return false;
    }
    return true;
}

/* bracketed-selection = "[" S selector *(S "," S selector) S "]" */
static bool parse_bracketed(Parser *p, Seg *seg) {
    p->pos++;   /* '[' */
    size_t cap = 0;
    for (;;) {
        skip_ws(p);
        if (seg->nsels == cap) {
            size_t nc = cap ? cap * 2 : 2;
            Sel *ns = palloc(p, nc * sizeof *ns);
            if (!ns) return false;
            if (seg->nsels) memcpy(ns, seg->sels, seg->nsels * sizeof *ns);
            seg->sels = ns;
            cap = nc;
        }
        Sel *sel = &seg->sels[seg->nsels];
        memset(sel, 0, sizeof *sel);
        if (!parse_selector(p, sel)) return false;
        seg->nsels++;
        skip_ws(p);
        if (peek(p) == ',') { p->pos++; continue; }
        if (peek(p) == ']') { p->pos++; return true; }
        unexpected(p, "',' or ']'");
        return false;
    }
}

/* segments = *(S segment)
 * segment = child-segment / descendant-segment
 * child-segment = bracketed-selection / ("." (wildcard-selector / member-name-shorthand))
 * descendant-segment = ".." (bracketed-selection / wildcard-selector / member-name-shorthand) */
static bool parse_segments(Parser *p, Query *q) {
    size_t cap = 0;
    q->singular = true;
    for (;;) {
        size_t save = p->pos;
        skip_ws(p);
        char c = peek(p);
        if (c != '.' && c != '[') { p->pos = save; return true; }
        if (q->nsegs == cap) {
            size_t nc = cap ? cap * 2 : 4;
            Seg *ns = palloc(p, nc * sizeof *ns);
            if (!ns) return false;
            if (q->nsegs) memcpy(ns, q->segs, q->nsegs * sizeof *ns);
            q->segs = ns;
            cap = nc;
        }
        Seg *seg = &q->segs[q->nsegs];
        memset(seg, 0, sizeof *seg);
        if (c == '.' && peek_at(p, 1) == '.') {
            seg->descendant = true;
            p->pos += 2;
            c = peek(p);
            if (c == '[') {
                if (!parse_bracketed(p, seg)) return false;
            } else {
                seg->sels = palloc(p, sizeof *seg->sels);
                if (!seg->sels) return false;
                seg->nsels = 1;
                if (c == '*') { p->pos++; seg->sels[0].kind = SEL_WILD; }
                else if (!parse_shorthand(p, &seg->sels[0])) return false;
            }
        } else if (c == '.') {
            p->pos++;
            seg->sels = palloc(p, sizeof *seg->sels);
            if (!seg->sels) return false;
            seg->nsels = 1;
            if (peek(p) == '*') { p->pos++; seg->sels[0].kind = SEL_WILD; }
            else if (!parse_shorthand(p, &seg->sels[0])) return false;
        } else {
            if (!parse_bracketed(p, seg)) return false;
        }
        q->nsegs++;
        if (seg->descendant || seg->nsels != 1 || (seg->sels[0].kind != SEL_NAME && seg->sels[0].kind != SEL_INDEX))
            q->singular = false;
    }
}

static Expr *new_expr(Parser *p, ExprKind kind, size_t pos) {
    Expr *e = palloc(p, sizeof *e);
    if (e) { e->kind = kind; e->pos = pos; }
    return e;
}

/* number = (int / "-0") [ frac ] [ exp ];  frac = "." 1*DIGIT;  exp = "e" [ "-" / "+" ] 1*DIGIT */
static Expr *parse_number(Parser *p) {
    size_t start = p->pos;
    if (peek(p) == '-') p->pos++;
    if (peek(p) == '0') {
        p->pos++;
        if (is_digit(peek(p))) { perr(p, start, "a number has no leading zeros"); return NULL; }
    } else if (is_digit(peek(p))) {
        while (is_digit(peek(p))) p->pos++;
    } else {
        unexpected(p, "a digit");
        return NULL;
    }
    if (peek(p) == '.') {
        p->pos++;
        if (!is_digit(peek(p))) { unexpected(p, "a digit after '.'"); return NULL; }
        while (is_digit(peek(p))) p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '-' || peek(p) == '+') p->pos++;
        if (!is_digit(peek(p))) { unexpected(p, "a digit in the exponent"); return NULL; }
        while (is_digit(peek(p))) p->pos++;
    }
    /* read as the JSON reader reads data (decimal.c), so literals equal parsed data */
    size_t n = p->pos - start;
    Expr *e = new_expr(p, E_LIT, start);
    if (!e) return NULL;
    e->lit.k = V_NUM;
    flow_dec_parse(p->s + start, n, &e->lit.num);
    cJSON *exact = flow_json_parse(p->s + start, n, NULL);   /* an int literal keeps its exact value */
    e->lit.exact = flow_json_get_int(exact, &e->lit.i);
    cJSON_Delete(exact);
    return e;
}

static Expr *parse_function(Parser *p, size_t start, size_t namelen);

/* The primaries: literal / filter-query (rel-query / jsonpath-query) / function-expr */
static Expr *parse_primary(Parser *p) {
    size_t start = p->pos;
    char c = peek(p);
    if (c == '@' || c == '$') {
        p->pos++;
        Expr *e = new_expr(p, E_QUERY, start);
        if (!e) return NULL;
        e->q.absolute = c == '$';
        return parse_segments(p, &e->q) ? e : NULL;
    }
    if (c == '\'' || c == '"') {
        Expr *e = new_expr(p, E_LIT, start);
        if (!e) return NULL;
        e->lit.k = V_STR;
        return parse_string(p, &e->lit.str, &e->lit.len) ? e : NULL;
    }
    if (c == '-' || is_digit(c)) return parse_number(p);
    if (c >= 'a' && c <= 'z') {
        /* function-name = LCALPHA *( LCALPHA / "_" / DIGIT ); else true, false, null */
        size_t end = p->pos;
        while (end < p->len && ((p->s[end] >= 'a' && p->s[end] <= 'z') || p->s[end] == '_' || is_digit(p->s[end]))) end++;
        size_t n = end - start;
        if (end < p->len && p->s[end] == '(') return parse_function(p, start, n);
        VKind k = V_NOTHING;
        if (n == 4 && memcmp(p->s + start, "true", 4) == 0) k = V_TRUE;
        else if (n == 5 && memcmp(p->s + start, "false", 5) == 0) k = V_FALSE;
        else if (n == 4 && memcmp(p->s + start, "null", 4) == 0) k = V_NULL;
        if (k == V_NOTHING) {
            perr(p, start, "unknown name `%.*s` (literals are true, false and null; a function call has '(' right after its name)",
                 (int)(n > 40 ? 40 : n), p->s + start);
            return NULL;
        }
        p->pos = end;
        Expr *e = new_expr(p, E_LIT, start);
        if (e) e->lit.k = k;
        return e;
    }
    unexpected(p, "a query, a literal or a function call");
    return NULL;
}

static FnType expr_type(const Expr *e) {
    if (e->kind == E_FUNC) return functions[e->fn].result;
    if (e->kind == E_QUERY) return T_NODES;
    if (e->kind == E_LIT) return T_VALUE;
    return T_LOGICAL;
}

/* A comparable (or a ValueType argument of function fn, when fn is not NULL): a literal, a singular
 * query, or a function of ValueType result. */
static bool check_value(Parser *p, const Expr *e, const char *fn) {
    switch (e->kind) {
    case E_LIT: return true;
    case E_QUERY:
        if (e->q.singular) return true;
        if (fn) perr(p, e->pos, "%s() takes a value: a query there must be singular (names and indexes only)", fn);
        else perr(p, e->pos, "a query compared must be singular (names and indexes only)");
        return false;
    case E_FUNC:
        if (functions[e->fn].result == T_VALUE) return true;
        if (fn) perr(p, e->pos, "%s() takes a value, not the result of %s()", fn, functions[e->fn].name);
        else perr(p, e->pos, "the result of %s() cannot be compared", functions[e->fn].name);
        return false;
    default:
        if (fn) perr(p, e->pos, "%s() takes a value, not a logical expression", fn);
        else perr(p, e->pos, "a logical expression cannot be compared");
        return false;
    }
}

/* Makes *e a logical expression: a query or a LogicalType/NodesType function becomes a test;
 * literals and ValueType functions must be compared. */
static bool check_logical(Parser *p, Expr **e) {
    Expr *x = *e;
    switch (x->kind) {
    case E_LIT:
        perr(p, x->pos, "a literal must be compared");
        return false;
    case E_FUNC:
        if (functions[x->fn].result == T_VALUE) {
            perr(p, x->pos, "the result of %s() must be compared", functions[x->fn].name);
            return false;
        }
        /* fall through */
    case E_QUERY: {
        Expr *t = new_expr(p, E_TEST, x->pos);
        Expr **kid = palloc(p, sizeof *kid);
        if (!t || !kid) return false;
        kid[0] = x;
        t->kids = kid;
        t->nkids = 1;
        *e = t;
        return true;
    }
    default:
        return true;
    }
}

/* function-expr = function-name "(" S [function-argument *(S "," S function-argument)] S ")"
 * function-argument = literal / filter-query / logical-expr / function-expr
 * Each argument is checked against the declared parameter type (RFC 9535 §2.4.3). */
static Expr *parse_function(Parser *p, size_t start, size_t namelen) {
    size_t fn = sizeof functions / sizeof functions[0];
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
        if (strlen(functions[i].name) == namelen && memcmp(functions[i].name, p->s + start, namelen) == 0) fn = i;
    if (fn == sizeof functions / sizeof functions[0]) {
        perr(p, start, "unknown function `%.*s` (functions: length, count, match, search, value)",
             (int)(namelen > 40 ? 40 : namelen), p->s + start);
        return NULL;
    }
    Expr *e = new_expr(p, E_FUNC, start);
    Expr **args = palloc(p, 2 * sizeof *args);
    if (!e || !args) return NULL;
    e->fn = fn;
    e->kids = args;
    p->pos += namelen + 1;
    skip_ws(p);
    size_t want = functions[fn].nparams;
    if (peek(p) != ')') {
        for (;;) {
            size_t at = p->pos;
            Expr *a = parse_logical(p);
            if (!a) return NULL;
            if (e->nkids == want) {
                perr(p, at, "%s() takes %zu argument%s", functions[fn].name, want, want == 1 ? "" : "s");
                return NULL;
            }
            /* the declared parameter type decides what the argument may be */
            switch (functions[fn].params[e->nkids]) {
            case T_VALUE:
                if (!check_value(p, a, functions[fn].name)) return NULL;
                break;
            case T_LOGICAL:
                if (!check_logical(p, &a)) return NULL;
                break;
            case T_NODES:
                if (expr_type(a) != T_NODES) {
                    perr(p, a->pos, "%s() takes a query (a node list)", functions[fn].name);
                    return NULL;
                }
                break;
            }
            e->kids[e->nkids++] = a;
            skip_ws(p);
            if (peek(p) == ',') { p->pos++; skip_ws(p); continue; }
            if (peek(p) == ')') break;
            unexpected(p, "',' or ')'");
            return NULL;
        }
    }
    if (e->nkids != want) {
        perr(p, start, "%s() takes %zu argument%s", functions[fn].name, want, want == 1 ? "" : "s");
        return NULL;
    }
    p->pos++;   /* ')' */
    /* a literal pattern is compiled once, now; an invalid one makes the function false */
    if ((functions[fn].id == F_MATCH || functions[fn].id == F_SEARCH) && e->kids[1]->kind == E_LIT) {
        const Val *pat = &e->kids[1]->lit;
        if (pat->k != V_STR) e->re_state = -1;
        else {
            ReList *keep = palloc(p, sizeof *keep);
            if (!keep) return NULL;
            e->re = flow_re_compile(pat->str, pat->len, FLOW_RE_IREGEXP, NULL, 0);
            e->re_state = e->re ? 1 : -1;
            keep->re = e->re;
            keep->next = *p->res;
            *p->res = keep;
        }
    }
    return e;
}

/* basic-expr = paren-expr / comparison-expr / test-expr
 * paren-expr = [logical-not-op S] "(" S logical-expr S ")"
 * test-expr = [logical-not-op S] (filter-query / function-expr)
 * comparison-expr = comparable S comparison-op S comparable
 * Returns a logical expression, or a bare primary that the caller checks. */
static Expr *parse_basic(Parser *p) {
    size_t start = p->pos;
    if (peek(p) == '!') {
        p->pos++;
        skip_ws(p);
        Expr *inner;
        if (peek(p) == '(') {
            inner = parse_basic(p);
        } else if (peek(p) == '@' || peek(p) == '$' || (peek(p) >= 'a' && peek(p) <= 'z')) {
            inner = parse_primary(p);
            if (inner && inner->kind == E_LIT) { perr(p, inner->pos, "a literal must be compared"); return NULL; }
            if (inner && !check_logical(p, &inner)) return NULL;
        } else {
            unexpected(p, "'(', a query or a function call after '!'");
            return NULL;
        }
        if (!inner) return NULL;
        Expr *e = new_expr(p, E_NOT, start);
        Expr **kid = palloc(p, sizeof *kid);
        if (!e || !kid) return NULL;
        kid[0] = inner;
        e->kids = kid;
        e->nkids = 1;
        return e;
    }
    if (peek(p) == '(') {
        p->pos++;
        skip_ws(p);
        Expr *e = parse_logical(p);
        if (!e || !check_logical(p, &e)) return NULL;
        skip_ws(p);
        if (peek(p) != ')') { unexpected(p, "')'"); return NULL; }
        p->pos++;
        return e;
    }
    Expr *lhs = parse_primary(p);
    if (!lhs) return NULL;
    size_t save = p->pos;
    skip_ws(p);
    CmpOp op;
    char c = peek(p), d = peek_at(p, 1);
    if (c == '=' && d == '=') op = OP_EQ;
    else if (c == '!' && d == '=') op = OP_NE;
    else if (c == '<' && d == '=') op = OP_LE;
    else if (c == '>' && d == '=') op = OP_GE;
    else if (c == '<') op = OP_LT;
    else if (c == '>') op = OP_GT;
    else { p->pos = save; return lhs; }
    size_t oppos = p->pos;
    p->pos += (op == OP_LT || op == OP_GT) ? 1 : 2;
    skip_ws(p);
    Expr *rhs = parse_primary(p);
    if (!rhs || !check_value(p, lhs, NULL) || !check_value(p, rhs, NULL)) return NULL;
    Expr *e = new_expr(p, E_CMP, oppos);
    Expr **kids = palloc(p, 2 * sizeof *kids);
    if (!e || !kids) return NULL;
    e->op = op;
    kids[0] = lhs;
    kids[1] = rhs;
    e->kids = kids;
    e->nkids = 2;
    return e;
}

/* Appends kid to e's kids, an array in the arena that doubles (the old storage is abandoned). */
static bool add_kid(Parser *p, Expr *e, size_t *cap, Expr *kid) {
    if (e->nkids == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        Expr **nk = palloc(p, nc * sizeof *nk);
        if (!nk) return false;
        if (e->nkids) memcpy(nk, e->kids, e->nkids * sizeof *nk);
        e->kids = nk;
        *cap = nc;
    }
    e->kids[e->nkids++] = kid;
    return true;
}

/* logical-and-expr = basic-expr *(S "&&" S basic-expr)   (kind E_AND)
 * logical-or-expr = logical-and-expr *(S "||" S logical-and-expr)   (kind E_OR) */
static Expr *parse_chain(Parser *p, ExprKind kind) {
    char op = kind == E_OR ? '|' : '&';
    Expr *first = kind == E_OR ? parse_chain(p, E_AND) : parse_basic(p);
    if (!first) return NULL;
    Expr *e = NULL;
    size_t cap = 0;
    for (;;) {
        size_t save = p->pos;
        skip_ws(p);
        if (peek(p) != op || peek_at(p, 1) != op) { p->pos = save; break; }
        p->pos += 2;
        skip_ws(p);
        if (!e) {
            if (!check_logical(p, &first)) return NULL;
            e = new_expr(p, kind, first->pos);
            if (!e || !add_kid(p, e, &cap, first)) return NULL;
        }
        Expr *next = kind == E_OR ? parse_chain(p, E_AND) : parse_basic(p);
        if (!next || !check_logical(p, &next)) return NULL;
        if (!add_kid(p, e, &cap, next)) return NULL;
    }
    return e ? e : first;
}

/* logical-expr = logical-or-expr; the one recursive entry point, so the nesting limit is here. */
static Expr *parse_logical(Parser *p) {
    if (++p->depth > FLOW_JSONPATH_MAX_NESTING) {
        perr(p, p->pos, "filters, parentheses and function calls nested deeper than %d", FLOW_JSONPATH_MAX_NESTING);
        return NULL;
    }
    Expr *e = parse_chain(p, E_OR);
    p->depth--;
    return e;
}

FlowJsonPath *flow_jsonpath_compile(const char *text, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    FlowJsonPath *jp = calloc(1, sizeof *jp);
    if (!jp) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    Parser p = {text ? text : "", 0, text ? strlen(text) : 0, &jp->arena, err, errlen, false, 0, &jp->res};
    /* jsonpath-query = root-identifier segments */
    if (peek(&p) != '$') {
        unexpected(&p, "'$' (a query starts with the root identifier)");
    } else {
        p.pos++;
        jp->q.absolute = true;
        if (parse_segments(&p, &jp->q) && p.pos != p.len) {
            if (peek(&p) == ' ' || peek(&p) == '\t' || peek(&p) == '\n' || peek(&p) == '\r') {
                size_t save = p.pos;
                skip_ws(&p);
                if (p.pos == p.len) { p.pos = save; perr(&p, save, "blank space at the end of the query"); }
                else unexpected(&p, "'.', '..' or '['");
            } else {
                unexpected(&p, "'.', '..' or '['");
            }
        }
    }
    if (p.failed) {
        flow_jsonpath_free(jp);
        return NULL;
    }
    return jp;
}

void flow_jsonpath_free(FlowJsonPath *jp) {
    if (!jp) return;
    for (ReList *r = jp->res; r; r = r->next) flow_re_free(r->re);
    arena_free(&jp->arena);
    free(jp);
}

/* ================================================================================================
 * Evaluation
 * ================================================================================================ */

typedef struct {
    const cJSON **v;
    size_t n, cap;
} NodeList;

#define LIST_POOL 32             /* node list buffers kept for reuse during one evaluation */

typedef struct {
    const cJSON *root;
    char *err;
    size_t errlen;
    bool failed;
    unsigned long long work;     /* nodes visited, members compared, regex steps */
    NodeList pool[LIST_POOL];    /* spare buffers: nested queries run once per candidate node */
    size_t npool;
} Ctx;

static void efail(Ctx *c, const char *fmt, ...) {
    if (c->failed) return;
    c->failed = true;
    if (!c->err || !c->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
}

static bool spend(Ctx *c, unsigned long long n) {
    c->work += n;
    if (c->work > FLOW_JSONPATH_MAX_WORK) {
        efail(c, "the query needs more than %u steps on this document", FLOW_JSONPATH_MAX_WORK);
        return false;
    }
    return !c->failed;
}

static bool nl_push(Ctx *c, NodeList *l, const cJSON *x) {
    if (c->failed) return false;
    if (l->n == l->cap) {
        if (l->cap >= FLOW_JSONPATH_MAX_NODES) {
            efail(c, "a node list would hold more than %u nodes", FLOW_JSONPATH_MAX_NODES);
            return false;
        }
        size_t nc = l->cap ? l->cap * 2 : 8;
        const cJSON **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) { efail(c, "out of memory"); return false; }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = x;
    return spend(c, 1);
}

/* An empty list, with a spare buffer when there is one. */
static NodeList nl_take(Ctx *c) {
    NodeList l = {NULL, 0, 0};
    if (c->npool) l = c->pool[--c->npool];
    l.n = 0;
    return l;
}

/* Gives a list's buffer back for reuse (small ones) or frees it. */
static void nl_give(Ctx *c, NodeList *l) {
    if (l->v && c->npool < LIST_POOL && l->cap <= 1024) c->pool[c->npool++] = *l;
    else free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int jtype(const cJSON *x) { return x->type & 0xFF; }
static bool is_container(const cJSON *x) { return jtype(x) == cJSON_Array || jtype(x) == cJSON_Object; }

static Val val_of(const cJSON *x) {
    Val v;
    memset(&v, 0, sizeof v);
    switch (jtype(x)) {
    case cJSON_Number: v.k = V_NUM; v.num = x->valuedouble; v.exact = flow_json_get_int(x, &v.i); break;
    case cJSON_String: v.k = V_STR; v.str = x->valuestring ? x->valuestring : ""; v.len = strlen(v.str); break;
    case cJSON_True: v.k = V_TRUE; break;
    case cJSON_False: v.k = V_FALSE; break;
    case cJSON_NULL: v.k = V_NULL; break;
    default: v.k = V_NODE; v.node = x; break;
    }
    return v;
}

/* Does member key equal the selector's name? (A name holding U+0000 matches no cJSON key.) */
static bool key_is(const cJSON *m, const char *name, size_t len) {
    if (!m->string || memchr(name, 0, len)) return false;
    return strncmp(m->string, name, len) == 0 && m->string[len] == 0;
}

/* Two numbers exactly (ints past 2^53 by their exact value): -1, 0, 1, or 2 when unordered (NaN). */
static int num_cmp(const Val *a, const Val *b) {
    if (a->exact && b->exact) return (a->i > b->i) - (a->i < b->i);
    if (a->exact || b->exact) {
        const Val *iv = a->exact ? a : b;
        double d = a->exact ? b->num : a->num;
        int r;
        if (isnan(d)) return 2;
        if (d >= 9223372036854775808.0) r = -1;
        else if (d < -9223372036854775808.0) r = 1;
        else {
            double t = trunc(d);
            int64_t ti = (int64_t)t;
            r = iv->i != ti ? (iv->i < ti ? -1 : 1) : d > t ? -1 : d < t ? 1 : 0;
        }
        return a->exact ? r : -r;
    }
    if (isnan(a->num) || isnan(b->num)) return 2;
    return (a->num > b->num) - (a->num < b->num);
}

/* Deep equality of two document values (RFC 9535 §2.3.5.2.2). */
static bool json_eq(Ctx *c, const cJSON *a, const cJSON *b, int depth) {
    if (depth > FLOW_JSONPATH_MAX_DEPTH) {
        efail(c, "values nested deeper than %d cannot be compared", FLOW_JSONPATH_MAX_DEPTH);
        return false;
    }
    if (!spend(c, 1) || jtype(a) != jtype(b)) return false;
    switch (jtype(a)) {
    case cJSON_Number: {
        Val x = val_of(a), y = val_of(b);
        return num_cmp(&x, &y) == 0;
    }
    case cJSON_String: case cJSON_Raw:
        return strcmp(a->valuestring ? a->valuestring : "", b->valuestring ? b->valuestring : "") == 0;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!json_eq(c, x, y, depth + 1)) return false;
        return !x && !y;
    }
    case cJSON_Object: {
        size_t na = 0, nb = 0;
        for (const cJSON *x = a->child; x; x = x->next) na++;
        for (const cJSON *y = b->child; y; y = y->next) nb++;
        if (na != nb || !spend(c, na)) return false;
        for (const cJSON *x = a->child; x; x = x->next) {
            if (!x->string) return false;
            const cJSON *y = b->child;
            for (; y; y = y->next) {
                if (!spend(c, 1)) return false;
                if (y->string && strcmp(x->string, y->string) == 0) break;
            }
            if (!y || !json_eq(c, x, y, depth + 1)) return false;
        }
        return true;
    }
    default:
        return true;   /* true, false, null */
    }
}

static bool val_eq(Ctx *c, const Val *a, const Val *b) {
    if (a->k == V_NOTHING || b->k == V_NOTHING) return a->k == b->k;
    if (a->k != b->k) return false;
    switch (a->k) {
    case V_NUM: return num_cmp(a, b) == 0;
    case V_STR: return a->len == b->len && (a->len == 0 || memcmp(a->str, b->str, a->len) == 0);
    case V_NODE: return json_eq(c, a->node, b->node, 0);
    default: return true;
    }
}

/* Numbers by value, strings by Unicode scalar values (UTF-8 byte order is code point order). */
static bool val_lt(const Val *a, const Val *b) {
    if (a->k == V_NUM && b->k == V_NUM) return num_cmp(a, b) == -1;
    if (a->k == V_STR && b->k == V_STR) {
        size_t n = a->len < b->len ? a->len : b->len;
        int r = n ? memcmp(a->str, b->str, n) : 0;
        return r < 0 || (r == 0 && a->len < b->len);
    }
    return false;
}

static bool compare(Ctx *c, CmpOp op, const Val *a, const Val *b) {
    switch (op) {
    case OP_EQ: return val_eq(c, a, b);
    case OP_NE: return !val_eq(c, a, b);
    case OP_LT: return val_lt(a, b);
    case OP_LE: return val_lt(a, b) || val_eq(c, a, b);
    case OP_GT: return val_lt(b, a);
    case OP_GE: return val_lt(b, a) || val_eq(c, a, b);
    }
    return false;
}

static void eval_query(Ctx *c, const Query *q, const cJSON *cur, NodeList *out);
static bool eval_logical(Ctx *c, const Expr *e, const cJSON *cur);

static void apply_slice(Ctx *c, const Sel *s, const cJSON *arr, NodeList *out) {
    int64_t len = 0;
    for (const cJSON *x = arr->child; x; x = x->next) len++;
    if (!spend(c, (unsigned long long)len)) return;
    int64_t step = s->step;
    if (step == 0) return;
    int64_t start = s->has_start ? s->start : step > 0 ? 0 : len - 1;
    int64_t end = s->has_end ? s->end : step > 0 ? len : -len - 1;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (step > 0) {
        int64_t lower = start < 0 ? 0 : start > len ? len : start;
        int64_t upper = end < 0 ? 0 : end > len ? len : end;
        int64_t i = 0;
        for (const cJSON *x = arr->child; x && i < upper; x = x->next, i++)
            if (i >= lower && (i - lower) % step == 0 && !nl_push(c, out, x)) return;
    } else {
        int64_t upper = start < -1 ? -1 : start > len - 1 ? len - 1 : start;
        int64_t lower = end < -1 ? -1 : end > len - 1 ? len - 1 : end;
        if (upper <= lower) return;
        const cJSON **items = malloc((size_t)len * sizeof *items);
        if (!items) { efail(c, "out of memory"); return; }
        int64_t i = 0;
        for (const cJSON *x = arr->child; x; x = x->next) items[i++] = x;
        for (i = upper; lower < i; i += step)
            if (!nl_push(c, out, items[i])) break;
        free(items);
    }
}

/* A name or index selector: at most one node. */
static const cJSON *select_one(Ctx *c, const Sel *s, const cJSON *node) {
    if (s->kind == SEL_NAME) {
        if (jtype(node) != cJSON_Object) return NULL;
        for (const cJSON *m = node->child; m; m = m->next) {
            if (!spend(c, 1)) return NULL;
            if (key_is(m, s->name, s->len)) return m;
        }
        return NULL;
    }
    if (jtype(node) != cJSON_Array) return NULL;
    int64_t i = s->index;
    if (i < 0) {
        int64_t len = 0;
        for (const cJSON *x = node->child; x; x = x->next) len++;
        if (!spend(c, (unsigned long long)len)) return NULL;
        i += len;
        if (i < 0) return NULL;
    }
    for (const cJSON *x = node->child; x; x = x->next, i--) {
        if (i == 0) return x;
        if (!spend(c, 1)) return NULL;
    }
    return NULL;
}

static void apply_sel(Ctx *c, const Sel *s, const cJSON *node, NodeList *out) {
    switch (s->kind) {
    case SEL_NAME: case SEL_INDEX: {
        const cJSON *x = select_one(c, s, node);
        if (x) nl_push(c, out, x);
        return;
    }
    case SEL_WILD:
        if (!is_container(node)) return;
        for (const cJSON *m = node->child; m; m = m->next)
            if (!nl_push(c, out, m)) return;
        return;
    case SEL_SLICE:
        if (jtype(node) == cJSON_Array) apply_slice(c, s, node, out);
        return;
    case SEL_FILTER:
        if (!is_container(node)) return;
        for (const cJSON *m = node->child; m; m = m->next) {
            if (!spend(c, 1)) return;
            bool keep = eval_logical(c, s->filter, m);
            if (c->failed || (keep && !nl_push(c, out, m))) return;
        }
        return;
    }
}

static void apply_sels(Ctx *c, const Seg *seg, const cJSON *node, NodeList *out) {
    for (size_t i = 0; i < seg->nsels && !c->failed; i++) apply_sel(c, &seg->sels[i], node, out);
}

/* A descendant segment: the selectors applied to node and to each of its descendants, in document
 * order with every node before its descendants. An explicit stack of sibling cursors: no recursion. */
static void apply_descendant(Ctx *c, const Seg *seg, const cJSON *node, NodeList *out) {
    apply_sels(c, seg, node, out);
    if (c->failed || !is_container(node) || !node->child) return;
    size_t sp = 0, cap = 64;
    const cJSON **stack = malloc(cap * sizeof *stack);
    if (!stack) { efail(c, "out of memory"); return; }
    stack[sp++] = node->child;
    while (sp && !c->failed) {
        const cJSON *x = stack[sp - 1];
        if (!x) { sp--; continue; }
        stack[sp - 1] = x->next;
        if (!spend(c, 1)) break;
        apply_sels(c, seg, x, out);
        if (is_container(x) && x->child) {
            if (sp == cap) {
                const cJSON **ns = realloc(stack, cap * 2 * sizeof *ns);
                if (!ns) { efail(c, "out of memory"); break; }
                stack = ns;
                cap *= 2;
            }
            stack[sp++] = x->child;
        }
    }
    free(stack);
}

static void eval_query(Ctx *c, const Query *q, const cJSON *cur, NodeList *out) {
    NodeList a = nl_take(c), b = nl_take(c);
    nl_push(c, &a, q->absolute ? c->root : cur);
    for (size_t i = 0; i < q->nsegs && a.n && !c->failed; i++) {
        const Seg *seg = &q->segs[i];
        b.n = 0;
        for (size_t j = 0; j < a.n && !c->failed; j++) {
            if (seg->descendant) apply_descendant(c, seg, a.v[j], &b);
            else apply_sels(c, seg, a.v[j], &b);
        }
        NodeList t = a; a = b; b = t;
    }
    nl_give(c, &b);
    *out = a;
}

/* A singular query: at most one node, found without building lists. */
static const cJSON *eval_singular(Ctx *c, const Query *q, const cJSON *cur) {
    const cJSON *x = q->absolute ? c->root : cur;
    for (size_t i = 0; i < q->nsegs && x; i++) {
        x = select_one(c, &q->segs[i].sels[0], x);
    }
    return c->failed ? NULL : x;
}

static Val nothing(void) {
    Val v;
    memset(&v, 0, sizeof v);
    v.k = V_NOTHING;
    return v;
}

static Val eval_value(Ctx *c, const Expr *e, const cJSON *cur);

/* match() and search(): the subject and the pattern must both be strings, the pattern an I-Regexp. */
static bool call_regex(Ctx *c, const Expr *e, const cJSON *cur) {
    Val s = eval_value(c, e->kids[0], cur);
    if (c->failed || e->re_state < 0 || s.k != V_STR) return false;
    Val pat = eval_value(c, e->kids[1], cur);
    if (c->failed || pat.k != V_STR) return false;
    bool full = functions[e->fn].id == F_MATCH;
    int r;
    if (e->re_state == 1) {
        r = flow_re_match(e->re, s.str, s.len, full, &c->work, FLOW_JSONPATH_MAX_WORK);
    } else {
        if (!spend(c, pat.len)) return false;
        FlowRegex *re = flow_re_compile(pat.str, pat.len, FLOW_RE_IREGEXP, NULL, 0);
        if (!re) return false;
        if (!spend(c, flow_re_size(re))) { flow_re_free(re); return false; }
        r = flow_re_match(re, s.str, s.len, full, &c->work, FLOW_JSONPATH_MAX_WORK);
        flow_re_free(re);
    }
    if (r < 0) {
        if (r == -1) spend(c, FLOW_JSONPATH_MAX_WORK);
        else efail(c, "out of memory");
        return false;
    }
    return r == 1;
}

static Val call_value(Ctx *c, const Expr *e, const cJSON *cur) {
    switch (functions[e->fn].id) {
    case F_LENGTH: {
        Val v = eval_value(c, e->kids[0], cur), r = nothing();
        if (v.k == V_STR) {
            size_t n = 0;
            for (size_t i = 0; i < v.len; i++)
                if (((unsigned char)v.str[i] & 0xC0) != 0x80) n++;
            r.k = V_NUM;
            r.num = (double)n;
        } else if (v.k == V_NODE && is_container(v.node)) {
            size_t n = 0;
            for (const cJSON *x = v.node->child; x; x = x->next) n++;
            r.k = V_NUM;
            r.num = (double)n;
        }
        return r;
    }
    case F_COUNT: case F_VALUE: {
        if (e->kids[0]->kind != E_QUERY) return nothing();   /* the only NodesType argument */
        NodeList l;
        eval_query(c, &e->kids[0]->q, cur, &l);
        Val r = nothing();
        if (!c->failed) {
            if (functions[e->fn].id == F_COUNT) { r.k = V_NUM; r.num = (double)l.n; }
            else if (l.n == 1) r = val_of(l.v[0]);
        }
        nl_give(c, &l);
        return r;
    }
    default:
        return nothing();
    }
}

static Val eval_value(Ctx *c, const Expr *e, const cJSON *cur) {
    if (!spend(c, 1)) return nothing();
    switch (e->kind) {
    case E_LIT:
        return e->lit;
    case E_QUERY: {
        const cJSON *x = eval_singular(c, &e->q, cur);
        return x ? val_of(x) : nothing();
    }
    case E_FUNC:
        return call_value(c, e, cur);
    default:
        return nothing();
    }
}

static bool eval_logical(Ctx *c, const Expr *e, const cJSON *cur) {
    if (!spend(c, 1)) return false;
    switch (e->kind) {
    case E_OR:
        for (size_t i = 0; i < e->nkids; i++)
            if (eval_logical(c, e->kids[i], cur)) return !c->failed;
        return false;
    case E_AND:
        for (size_t i = 0; i < e->nkids; i++)
            if (!eval_logical(c, e->kids[i], cur)) return false;
        return !c->failed;
    case E_NOT:
        return !eval_logical(c, e->kids[0], cur) && !c->failed;
    case E_CMP: {
        Val a = eval_value(c, e->kids[0], cur);
        Val b = eval_value(c, e->kids[1], cur);
        return !c->failed && compare(c, e->op, &a, &b) && !c->failed;
    }
    case E_TEST: {
        const Expr *x = e->kids[0];
        if (x->kind == E_QUERY) {
            if (x->q.singular) return eval_singular(c, &x->q, cur) != NULL;
            NodeList l;
            eval_query(c, &x->q, cur, &l);
            bool found = l.n > 0;
            nl_give(c, &l);
            return !c->failed && found;
        }
        if (x->kind == E_FUNC && functions[x->fn].result == T_LOGICAL) return call_regex(c, x, cur);
        return false;
    }
    default:
        return false;
    }
}

int flow_jsonpath_eval(const FlowJsonPath *jp, const cJSON *root,
                       void (*emit)(const cJSON *node, void *ud), void *ud,
                       char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    Ctx c;
    memset(&c, 0, sizeof c);
    c.root = root;
    c.err = err;
    c.errlen = errlen;
    if (!jp || !root) {
        efail(&c, "no query or no document");
        return -1;
    }
    NodeList out;
    eval_query(&c, &jp->q, root, &out);
    if (!c.failed)
        for (size_t i = 0; emit && i < out.n; i++) emit(out.v[i], ud);
    free(out.v);
    for (size_t i = 0; i < c.npool; i++) free(c.pool[i].v);
    return c.failed ? -1 : 0;
}
