/* jsonpath.c — RFC 9535 JSONPath: the query parser (with the well-typedness rules), the evaluator,
 * and the I-Regexp (RFC 9485) matcher behind match() and search(). */
#include "jsonpath.h"
#include "flow.h"
#include <math.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXACT_INT 9007199254740991LL   /* I-JSON: integers in [-(2^53)+1, (2^53)-1] */
#define RX_MAX_PROG   20000                /* instructions of one compiled I-Regexp */
#define RX_MAX_NEST   64                   /* nested groups in one I-Regexp */

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

/* Strict decoding: returns the length (1..4) of the sequence at s (n bytes available), 0 if invalid
 * (overlong forms, surrogates, beyond U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned char b = s[0];
    if (b < 0x80) { *cp = b; return 1; }
    size_t len;
    uint32_t c, min;
    if (b >= 0xC2 && b <= 0xDF) { len = 2; c = b & 0x1Fu; min = 0x80; }
    else if (b >= 0xE0 && b <= 0xEF) { len = 3; c = b & 0x0Fu; min = 0x800; }
    else if (b >= 0xF0 && b <= 0xF4) { len = 4; c = b & 0x07u; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* Lenient decoding for document strings: an invalid byte counts as one character U+FFFD. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    size_t k = utf8_decode(s, n, cp);
    if (k) return k;
    *cp = 0xFFFD;
    return 1;
}

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
 * Unicode general categories (for \p{..} in I-Regexp)
 * ================================================================================================ */

enum {
    UC_Cn, UC_Lu, UC_Ll, UC_Lt, UC_Lm, UC_Lo, UC_Mn, UC_Mc, UC_Me, UC_Nd, UC_Nl, UC_No, UC_Pc, UC_Pd,
    UC_Ps, UC_Pe, UC_Pi, UC_Pf, UC_Po, UC_Sm, UC_Sc, UC_Sk, UC_So, UC_Zs, UC_Zl, UC_Zp, UC_Cc, UC_Cf,
    UC_Cs, UC_Co
};

static unsigned uc_category(uint32_t cp);   /* the table is at the end of this file */

/* ================================================================================================
 * I-Regexp (RFC 9485): parsed to a tree, compiled to a program, run by a Pike VM over code points
 * (time linear in the subject's length times the program's; no backtracking). `^` and `$` outside
 * a class are read as anchors at the start and end of the subject, as the CTS expects.
 * ================================================================================================ */

typedef struct {
    uint32_t lo, hi;    /* a range of code points, when mask == 0 */
    uint32_t mask;      /* else a set of general categories (1u << UC_xx) */
    bool neg;           /* \P{..} */
} RxItem;

typedef struct {
    bool neg;
    size_t n;
    RxItem *items;
} RxClass;

enum { RN_CHAR, RN_ANY, RN_CLASS, RN_BOL, RN_EOL, RN_CAT, RN_ALT, RN_REP };

typedef struct RxNode RxNode;
struct RxNode {
    int kind;
    uint32_t c;          /* RN_CHAR */
    RxClass *cls;        /* RN_CLASS */
    RxNode **kids;       /* RN_CAT, RN_ALT; kids[0] for RN_REP */
    size_t nkids;
    long min, max;       /* RN_REP; max < 0: unbounded */
};

enum { RI_CHAR, RI_ANY, RI_CLASS, RI_BOL, RI_EOL, RI_SPLIT, RI_JMP, RI_MATCH };

typedef struct {
    int op;
    uint32_t c;
    const RxClass *cls;
    size_t x, y;         /* jump targets */
} RxInst;

typedef struct {
    RxInst *prog;
    size_t n;
} Regex;

typedef struct {
    const unsigned char *s;
    size_t pos, len;
    Arena *a;
    int depth;
    bool bad;
} RxParser;

static bool rx_peek(RxParser *r, uint32_t *cp, size_t *k) {
    if (r->pos >= r->len) return false;
    *k = utf8_decode(r->s + r->pos, r->len - r->pos, cp);
    if (!*k) { r->bad = true; return false; }
    return true;
}

static RxNode *rx_node(RxParser *r, int kind) {
    RxNode *n = arena_alloc(r->a, sizeof *n);
    if (!n) { r->bad = true; return NULL; }
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return n;
}

/* Appends kid to n's kids, an array in the arena that doubles (the old storage is abandoned). */
static bool rx_add_kid(Arena *a, RxNode *n, size_t *cap, RxNode *kid) {
    if (n->nkids == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        RxNode **nk = arena_alloc(a, nc * sizeof *nk);
        if (!nk) return false;
        if (n->nkids) memcpy(nk, n->kids, n->nkids * sizeof *nk);
        n->kids = nk;
        *cap = nc;
    }
    n->kids[n->nkids++] = kid;
    return true;
}

/* charProp = IsCategory: "L" [l m o t u] / "M" [c e n] / "N" [d l o] / "P" [c d e f i o s]
 *          / "Z" [l p s] / "S" [c k m o] / "C" [c f n o]; returns the category mask, 0 if unknown */
static uint32_t rx_category(const unsigned char *s, size_t n) {
    static const struct { const char *name; uint32_t mask; } cats[] = {
        {"L", (1u << UC_Lu) | (1u << UC_Ll) | (1u << UC_Lt) | (1u << UC_Lm) | (1u << UC_Lo)},
        {"Lu", 1u << UC_Lu}, {"Ll", 1u << UC_Ll}, {"Lt", 1u << UC_Lt}, {"Lm", 1u << UC_Lm}, {"Lo", 1u << UC_Lo},
        {"M", (1u << UC_Mn) | (1u << UC_Mc) | (1u << UC_Me)},
        {"Mn", 1u << UC_Mn}, {"Mc", 1u << UC_Mc}, {"Me", 1u << UC_Me},
        {"N", (1u << UC_Nd) | (1u << UC_Nl) | (1u << UC_No)},
        {"Nd", 1u << UC_Nd}, {"Nl", 1u << UC_Nl}, {"No", 1u << UC_No},
        {"P", (1u << UC_Pc) | (1u << UC_Pd) | (1u << UC_Ps) | (1u << UC_Pe) | (1u << UC_Pi) | (1u << UC_Pf) | (1u << UC_Po)},
        {"Pc", 1u << UC_Pc}, {"Pd", 1u << UC_Pd}, {"Ps", 1u << UC_Ps}, {"Pe", 1u << UC_Pe},
        {"Pi", 1u << UC_Pi}, {"Pf", 1u << UC_Pf}, {"Po", 1u << UC_Po},
        {"Z", (1u << UC_Zs) | (1u << UC_Zl) | (1u << UC_Zp)},
        {"Zs", 1u << UC_Zs}, {"Zl", 1u << UC_Zl}, {"Zp", 1u << UC_Zp},
        {"S", (1u << UC_Sm) | (1u << UC_Sc) | (1u << UC_Sk) | (1u << UC_So)},
        {"Sm", 1u << UC_Sm}, {"Sc", 1u << UC_Sc}, {"Sk", 1u << UC_Sk}, {"So", 1u << UC_So},
        {"C", (1u << UC_Cc) | (1u << UC_Cf) | (1u << UC_Cs) | (1u << UC_Co) | (1u << UC_Cn)},
        {"Cc", 1u << UC_Cc}, {"Cf", 1u << UC_Cf}, {"Cn", 1u << UC_Cn}, {"Co", 1u << UC_Co},
    };
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
        if (strlen(cats[i].name) == n && memcmp(cats[i].name, s, n) == 0) return cats[i].mask;
    return 0;
}

/* After a backslash: catEsc "\p{..}" / complEsc "\P{..}" into *item (returns 2), or SingleCharEsc
 * into *cp (returns 1); 0 when invalid. r->pos is past the escape on success. */
static int rx_escape(RxParser *r, uint32_t *cp, RxItem *item) {
    if (r->pos >= r->len) return 0;
    unsigned char e = r->s[r->pos];
    if (e == 'p' || e == 'P') {
        if (r->pos + 1 >= r->len || r->s[r->pos + 1] != '{') return 0;
        size_t start = r->pos + 2, end = start;
        while (end < r->len && r->s[end] != '}' && end - start < 3) end++;
        if (end >= r->len || r->s[end] != '}') return 0;
        uint32_t mask = rx_category(r->s + start, end - start);
        if (!mask) return 0;
        item->lo = item->hi = 0;
        item->mask = mask;
        item->neg = e == 'P';
        r->pos = end + 1;
        return 2;
    }
    switch (e) {
    case '(': case ')': case '*': case '+': case '-': case '.': case '?': case '[': case '\\':
    case ']': case '^': case '{': case '|': case '}':
        *cp = e; break;
    case 'n': *cp = '\n'; break;
    case 'r': *cp = '\r'; break;
    case 't': *cp = '\t'; break;
    default: return 0;
    }
    r->pos++;
    return 1;
}

/* CCchar = ( %x00-2C / %x2E-5A / %x5E-D7FF / %xE000-10FFFF ) / SingleCharEsc */
static bool rx_ccchar(RxParser *r, uint32_t *cp) {
    size_t k;
    if (!rx_peek(r, cp, &k)) return false;
    if (*cp == '\\') {
        r->pos++;
        RxItem dummy;
        return rx_escape(r, cp, &dummy) == 1;
    }
    if (*cp == '-' || *cp == '[' || *cp == ']') return false;
    r->pos += k;
    return true;
}

/* charClassExpr = "[" [ "^" ] ( "-" / CCE1 ) *CCE1 [ "-" ] "]"
 * CCE1 = ( CCchar [ "-" CCchar ] ) / charClassEsc */
static RxNode *rx_class(RxParser *r) {
    RxClass *cls = arena_alloc(r->a, sizeof *cls);
    RxNode *n = rx_node(r, RN_CLASS);
    if (!cls || !n) { r->bad = true; return NULL; }
    memset(cls, 0, sizeof *cls);
    n->cls = cls;
    size_t cap = 0;
    r->pos++;   /* '[' */
    if (r->pos < r->len && r->s[r->pos] == '^') { cls->neg = true; r->pos++; }
    bool first = true;
    for (;;) {
        if (r->pos >= r->len) { r->bad = true; return NULL; }
        unsigned char c = r->s[r->pos];
        RxItem it = {0, 0, 0, false};
        if (c == ']' && !first) { r->pos++; break; }
        if (c == '-') {
            /* a literal '-' first, or last before ']' */
            if (!first && !(r->pos + 1 < r->len && r->s[r->pos + 1] == ']')) { r->bad = true; return NULL; }
            r->pos++;
            it.lo = it.hi = '-';
        } else if (c == '\\' && r->pos + 1 < r->len && (r->s[r->pos + 1] == 'p' || r->s[r->pos + 1] == 'P')) {
            r->pos++;
            uint32_t dummy;
            if (rx_escape(r, &dummy, &it) != 2) { r->bad = true; return NULL; }
        } else {
            uint32_t lo, hi;
            if (!rx_ccchar(r, &lo)) { r->bad = true; return NULL; }
            hi = lo;
            if (r->pos + 1 < r->len && r->s[r->pos] == '-' && r->s[r->pos + 1] != ']') {
                r->pos++;
                if (!rx_ccchar(r, &hi) || hi < lo) { r->bad = true; return NULL; }
            }
            it.lo = lo;
            it.hi = hi;
        }
        first = false;
        if (cls->n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            RxItem *ni = arena_alloc(r->a, nc * sizeof *ni);
            if (!ni) { r->bad = true; return NULL; }
            if (cls->n) memcpy(ni, cls->items, cls->n * sizeof *ni);
            cls->items = ni;
            cap = nc;
        }
        cls->items[cls->n++] = it;
    }
    return n;
}

static RxNode *rx_alt(RxParser *r);

/* QuantExact = 1*DIGIT (capped: anything over RX_MAX_PROG cannot compile anyway) */
static bool rx_count(RxParser *r, long *v) {
    if (r->pos >= r->len || r->s[r->pos] < '0' || r->s[r->pos] > '9') return false;
    *v = 0;
    while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') {
        if (*v <= RX_MAX_PROG) *v = *v * 10 + (r->s[r->pos] - '0');
        r->pos++;
    }
    return true;
}

/* piece = atom [ quantifier ]
 * atom = NormalChar / charClass / ( "(" i-regexp ")" )
 * quantifier = "*" / "+" / "?" / "{" QuantExact [ "," [ QuantExact ] ] "}" */
static RxNode *rx_piece(RxParser *r) {
    uint32_t cp;
    size_t k;
    if (!rx_peek(r, &cp, &k)) { r->bad = true; return NULL; }
    RxNode *atom = NULL;
    switch (cp) {
    case '(':
        r->pos++;
        atom = rx_alt(r);
        if (r->bad) return NULL;
        if (r->pos >= r->len || r->s[r->pos] != ')') { r->bad = true; return NULL; }
        r->pos++;
        break;
    case '.': r->pos++; atom = rx_node(r, RN_ANY); break;
    case '^': r->pos++; atom = rx_node(r, RN_BOL); break;
    case '$': r->pos++; atom = rx_node(r, RN_EOL); break;
    case '[': atom = rx_class(r); break;
    case '\\': {
        r->pos++;
        RxItem it;
        int e = rx_escape(r, &cp, &it);
        if (e == 1) {
            atom = rx_node(r, RN_CHAR);
            if (atom) atom->c = cp;
        } else if (e == 2) {
            atom = rx_node(r, RN_CLASS);
            RxClass *cls = arena_alloc(r->a, sizeof *cls);
            RxItem *item = arena_alloc(r->a, sizeof *item);
            if (!atom || !cls || !item) { r->bad = true; return NULL; }
            *item = it;
            cls->neg = false;
            cls->n = 1;
            cls->items = item;
            atom->cls = cls;
        } else {
            r->bad = true;
            return NULL;
        }
        break;
    }
    case ')': case '*': case '+': case '?': case ']': case '{': case '|': case '}':
        r->bad = true;
        return NULL;
    default:
        r->pos += k;
        atom = rx_node(r, RN_CHAR);
        if (atom) atom->c = cp;
    }
    if (!atom || r->bad) { r->bad = true; return NULL; }
    if (r->pos >= r->len) return atom;
    long min, max;
    switch (r->s[r->pos]) {
    case '*': min = 0; max = -1; r->pos++; break;
    case '+': min = 1; max = -1; r->pos++; break;
    case '?': min = 0; max = 1; r->pos++; break;
    case '{':
        r->pos++;
        if (!rx_count(r, &min)) { r->bad = true; return NULL; }
        max = min;
        if (r->pos < r->len && r->s[r->pos] == ',') {
            r->pos++;
            max = -1;
            if (r->pos < r->len && r->s[r->pos] != '}' && (!rx_count(r, &max) || max < min)) {
                r->bad = true;
                return NULL;
            }
        }
        if (r->pos >= r->len || r->s[r->pos] != '}') { r->bad = true; return NULL; }
        r->pos++;
        break;
    default:
        return atom;
    }
    RxNode *rep = rx_node(r, RN_REP);
    RxNode **kid = arena_alloc(r->a, sizeof *kid);
    if (!rep || !kid) { r->bad = true; return NULL; }
    kid[0] = atom;
    rep->kids = kid;
    rep->nkids = 1;
    rep->min = min;
    rep->max = max;
    return rep;
}

/* branch = *piece */
static RxNode *rx_branch(RxParser *r) {
    RxNode *cat = rx_node(r, RN_CAT);
    if (!cat) return NULL;
    size_t cap = 0;
    while (!r->bad && r->pos < r->len && r->s[r->pos] != '|' && r->s[r->pos] != ')') {
        RxNode *p = rx_piece(r);
        if (!p || !rx_add_kid(r->a, cat, &cap, p)) { r->bad = true; return NULL; }
    }
    return cat;
}

/* i-regexp = branch *( "|" branch ) */
static RxNode *rx_alt(RxParser *r) {
    if (++r->depth > RX_MAX_NEST) { r->bad = true; return NULL; }
    RxNode *alt = rx_node(r, RN_ALT);
    size_t cap = 0;
    for (;;) {
        RxNode *b = rx_branch(r);
        if (!alt || !b || !rx_add_kid(r->a, alt, &cap, b)) { r->bad = true; return NULL; }
        if (r->pos < r->len && r->s[r->pos] == '|') { r->pos++; continue; }
        break;
    }
    r->depth--;
    return alt;
}

/* The number of instructions n compiles to, saturated just above RX_MAX_PROG. */
static size_t rx_size(const RxNode *n) {
    size_t s = 0, k;
    switch (n->kind) {
    case RN_CAT:
        for (size_t i = 0; i < n->nkids && s <= RX_MAX_PROG; i++) s += rx_size(n->kids[i]);
        return s;
    case RN_ALT:
        for (size_t i = 0; i < n->nkids && s <= RX_MAX_PROG; i++) s += rx_size(n->kids[i]) + (i ? 2 : 0);
        return s;
    case RN_REP: {
        k = rx_size(n->kids[0]);
        if (k > RX_MAX_PROG) return RX_MAX_PROG + 1;
        unsigned long long r = (unsigned long long)n->min * k;   /* counts are capped by rx_count */
        if (n->max < 0) r += k + 2;
        else r += (unsigned long long)(n->max - n->min) * (k + 1);
        return r > RX_MAX_PROG ? RX_MAX_PROG + 1 : (size_t)r;
    }
    default:
        return 1;
    }
}

static void rx_emit(Regex *re, const RxNode *n) {
    RxInst *p = re->prog;
    switch (n->kind) {
    case RN_CHAR: p[re->n].op = RI_CHAR; p[re->n++].c = n->c; return;
    case RN_ANY: p[re->n++].op = RI_ANY; return;
    case RN_BOL: p[re->n++].op = RI_BOL; return;
    case RN_EOL: p[re->n++].op = RI_EOL; return;
    case RN_CLASS: p[re->n].op = RI_CLASS; p[re->n++].cls = n->cls; return;
    case RN_CAT:
        for (size_t i = 0; i < n->nkids; i++) rx_emit(re, n->kids[i]);
        return;
    case RN_ALT: {
        /* split L1, L2; L1: a; jmp END; L2: split ...; last: z; END: (jmps chained, patched after) */
        size_t pending = SIZE_MAX;   /* the jmps to patch, linked through their x field */
        for (size_t i = 0; i < n->nkids; i++) {
            if (i + 1 < n->nkids) {
                size_t split = re->n++;
                p[split].op = RI_SPLIT;
                p[split].x = split + 1;
                rx_emit(re, n->kids[i]);
                size_t jmp = re->n++;
                p[jmp].op = RI_JMP;
                p[jmp].x = pending;
                pending = jmp;
                p[split].y = re->n;
            } else {
                rx_emit(re, n->kids[i]);
            }
        }
        while (pending != SIZE_MAX) { size_t next = p[pending].x; p[pending].x = re->n; pending = next; }
        return;
    }
    case RN_REP:
        for (long i = 0; i < n->min; i++) rx_emit(re, n->kids[0]);
        if (n->max < 0) {   /* L: split L+1, END; x; jmp L; END: */
            size_t split = re->n++;
            p[split].op = RI_SPLIT;
            p[split].x = split + 1;
            rx_emit(re, n->kids[0]);
            p[re->n].op = RI_JMP;
            p[re->n++].x = split;
            p[split].y = re->n;
        } else {            /* (max - min) times: split L+1, END; x   (the splits chained through y) */
            size_t pending = SIZE_MAX;
            for (long i = n->min; i < n->max; i++) {
                size_t split = re->n++;
                p[split].op = RI_SPLIT;
                p[split].x = split + 1;
                p[split].y = pending;
                pending = split;
                rx_emit(re, n->kids[0]);
            }
            while (pending != SIZE_MAX) { size_t next = p[pending].y; p[pending].y = re->n; pending = next; }
        }
        return;
    }
}

/* Compiles pattern (len bytes, UTF-8) into arena a; false if it is not a valid I-Regexp or too big. */
static bool rx_compile(const char *pattern, size_t len, Arena *a, Regex *out) {
    RxParser r = {(const unsigned char *)pattern, 0, len, a, 0, false};
    RxNode *root = rx_alt(&r);
    if (!root || r.bad || r.pos != len) return false;
    size_t size = rx_size(root);
    if (size > RX_MAX_PROG) return false;
    out->prog = arena_alloc(a, (size + 1) * sizeof *out->prog);
    if (!out->prog) return false;
    memset(out->prog, 0, (size + 1) * sizeof *out->prog);
    out->n = 0;
    rx_emit(out, root);
    out->prog[out->n++].op = RI_MATCH;
    return true;
}

static bool rx_class_has(const RxClass *cls, uint32_t c) {
    bool in = false;
    for (size_t i = 0; i < cls->n && !in; i++) {
        const RxItem *it = &cls->items[i];
        if (it->mask) in = (((it->mask >> uc_category(c)) & 1u) != 0) != it->neg;
        else in = c >= it->lo && c <= it->hi;
    }
    return in != cls->neg;
}

/* The Pike VM's state while it runs one subject. */
typedef struct {
    const Regex *re;
    size_t *mark, *stack;        /* mark[pc] == gen: pc already added at this position */
    size_t gen;
    size_t at, len;              /* the current offset in the subject, and its length */
    bool full;                   /* match(): the whole subject; search(): any substring */
    bool matched;
    unsigned long long visits;
} RxVm;

/* Adds the thread at pc0, and every thread its jumps and satisfied assertions reach, to list. */
static void rx_add(RxVm *vm, size_t *list, size_t *count, size_t pc0) {
    size_t sp = 0;
    vm->stack[sp++] = pc0;
    while (sp) {
        size_t pc = vm->stack[--sp];
        if (vm->mark[pc] == vm->gen) continue;
        vm->mark[pc] = vm->gen;
        vm->visits++;
        const RxInst *in = &vm->re->prog[pc];
        switch (in->op) {
        case RI_JMP: vm->stack[sp++] = in->x; break;
        case RI_SPLIT: vm->stack[sp++] = in->y; vm->stack[sp++] = in->x; break;
        case RI_BOL: if (vm->at == 0) vm->stack[sp++] = pc + 1; break;
        case RI_EOL: if (vm->at == vm->len) vm->stack[sp++] = pc + 1; break;
        case RI_MATCH: if (!vm->full || vm->at == vm->len) vm->matched = true; break;
        default: list[(*count)++] = pc;
        }
    }
}

/* Runs re over s (len bytes): the whole subject must match (full) or some substring (search).
 * Returns 1 or 0, or -1 when the work budget is spent or memory is short. */
static int rx_run(const Regex *re, const char *s, size_t len, bool full, unsigned long long *work,
                  unsigned long long limit) {
    size_t n = re->n;
    *work += n;
    if (*work > limit) return -1;
    /* each pc is marked once per position and pushes at most two: the stack needs 2n + 1 */
    size_t *buf = malloc(sizeof(size_t) * (5 * n + 2));
    if (!buf) return -1;
    size_t *clist = buf, *nlist = buf + n, cn = 0, nn = 0;
    RxVm vm = {re, buf + 2 * n, buf + 3 * n, 1, 0, len, full, false, 0};
    memset(vm.mark, 0, n * sizeof *vm.mark);
    const unsigned char *u = (const unsigned char *)s;
    rx_add(&vm, clist, &cn, 0);
    while (!vm.matched && vm.at < len && (cn || !full)) {
        uint32_t c;
        size_t k = utf8_next(u + vm.at, len - vm.at, &c);
        *work += vm.visits + 1;
        vm.visits = 0;
        if (*work > limit) { free(buf); return -1; }
        vm.gen++;
        vm.at += k;
        nn = 0;
        for (size_t i = 0; i < cn; i++) {
            const RxInst *in = &re->prog[clist[i]];
            bool ok = false;
            switch (in->op) {
            case RI_CHAR: ok = c == in->c; break;
            case RI_ANY: ok = c != '\n' && c != '\r'; break;
            case RI_CLASS: ok = rx_class_has(in->cls, c); break;
            default: break;
            }
            if (ok) rx_add(&vm, nlist, &nn, clist[i] + 1);
        }
        if (!full) rx_add(&vm, nlist, &nn, 0);
        size_t *t = clist;
        clist = nlist;
        nlist = t;
        cn = nn;
    }
    free(buf);
    return vm.matched;
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
    Regex re;
};

struct FlowJsonPath {
    Arena arena;
    Query q;
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
    if (utf8_decode((const unsigned char *)p->s + at, p->len - at, &cp)) {
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
        size_t k = utf8_decode((const unsigned char *)p->s + p->pos, p->len - p->pos, &cp);
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
    return utf8_decode((const unsigned char *)p->s + at, p->len - at, &cp);
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
    /* strtod with the locale's decimal point, as cJSON does, so literals equal parsed data */
    size_t n = p->pos - start;
    char *tmp = palloc(p, n + 1);
    if (!tmp) return NULL;
    memcpy(tmp, p->s + start, n);
    const struct lconv *lc = localeconv();
    char dp = lc && lc->decimal_point && lc->decimal_point[0] ? lc->decimal_point[0] : '.';
    for (size_t i = 0; i < n; i++) if (tmp[i] == '.') tmp[i] = dp;
    Expr *e = new_expr(p, E_LIT, start);
    if (!e) return NULL;
    e->lit.k = V_NUM;
    e->lit.num = strtod(tmp, NULL);
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
        else e->re_state = rx_compile(pat->str, pat->len, p->a, &e->re) ? 1 : -1;
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
    Parser p = {text ? text : "", 0, text ? strlen(text) : 0, &jp->arena, err, errlen, false, 0};
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
        r = rx_run(&e->re, s.str, s.len, full, &c->work, FLOW_JSONPATH_MAX_WORK);
    } else {
        if (!spend(c, pat.len)) return false;
        Arena tmp = {NULL};
        Regex re;
        if (!rx_compile(pat.str, pat.len, &tmp, &re)) { arena_free(&tmp); return false; }
        if (!spend(c, re.n)) { arena_free(&tmp); return false; }
        r = rx_run(&re, s.str, s.len, full, &c->work, FLOW_JSONPATH_MAX_WORK);
        arena_free(&tmp);
    }
    if (r < 0) {
        if (c->work > FLOW_JSONPATH_MAX_WORK) spend(c, 0);
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

/* ================================================================================================
 * The Unicode general category table
 * ================================================================================================ */

/* The runs of code points sharing one general category: (first code point << 5) | category, in
 * order; Unicode 14.0, generated with Python's unicodedata:
 *   for cp in range(0x110000): a new entry where unicodedata.category(chr(cp)) changes. */
static const uint32_t uc_runs[] = {
    0x1a, 0x417, 0x432, 0x494, 0x4b2, 0x50e, 0x52f, 0x552, 0x573, 0x592, 0x5ad, 0x5d2, 0x609, 0x752,
    0x793, 0x7f2, 0x821, 0xb6e, 0xb92, 0xbaf, 0xbd5, 0xbec, 0xc15, 0xc22, 0xf6e, 0xf93, 0xfaf,
    0xfd3, 0xffa, 0x1417, 0x1432, 0x1454, 0x14d6, 0x14f2, 0x1515, 0x1536, 0x1545, 0x1570, 0x1593,
    0x15bb, 0x15d6, 0x15f5, 0x1616, 0x1633, 0x164b, 0x1695, 0x16a2, 0x16d2, 0x1715, 0x172b, 0x1745,
    0x1771, 0x178b, 0x17f2, 0x1801, 0x1af3, 0x1b01, 0x1be2, 0x1ef3, 0x1f02, 0x2001, 0x2022, 0x2041,
    0x2062, 0x2081, 0x20a2, 0x20c1, 0x20e2, 0x2101, 0x2122, 0x2141, 0x2162, 0x2181, 0x21a2, 0x21c1,
    0x21e2, 0x2201, 0x2222, 0x2241, 0x2262, 0x2281, 0x22a2, 0x22c1, 0x22e2, 0x2301, 0x2322, 0x2341,
    0x2362, 0x2381, 0x23a2, 0x23c1, 0x23e2, 0x2401, 0x2422, 0x2441, 0x2462, 0x2481, 0x24a2, 0x24c1,
    0x24e2, 0x2501, 0x2522, 0x2541, 0x2562, 0x2581, 0x25a2, 0x25c1, 0x25e2, 0x2601, 0x2622, 0x2641,
    0x2662, 0x2681, 0x26a2, 0x26c1, 0x26e2, 0x2721, 0x2742, 0x2761, 0x2782, 0x27a1, 0x27c2, 0x27e1,
    0x2802, 0x2821, 0x2842, 0x2861, 0x2882, 0x28a1, 0x28c2, 0x28e1, 0x2902, 0x2941, 0x2962, 0x2981,
    0x29a2, 0x29c1, 0x29e2, 0x2a01, 0x2a22, 0x2a41, 0x2a62, 0x2a81, 0x2aa2, 0x2ac1, 0x2ae2, 0x2b01,
    0x2b22, 0x2b41, 0x2b62, 0x2b81, 0x2ba2, 0x2bc1, 0x2be2, 0x2c01, 0x2c22, 0x2c41, 0x2c62, 0x2c81,
    0x2ca2, 0x2cc1, 0x2ce2, 0x2d01, 0x2d22, 0x2d41, 0x2d62, 0x2d81, 0x2da2, 0x2dc1, 0x2de2, 0x2e01,
    0x2e22, 0x2e41, 0x2e62, 0x2e81, 0x2ea2, 0x2ec1, 0x2ee2, 0x2f01, 0x2f42, 0x2f61, 0x2f82, 0x2fa1,
    0x2fc2, 0x3021, 0x3062, 0x3081, 0x30a2, 0x30c1, 0x3102, 0x3121, 0x3182, 0x31c1, 0x3242, 0x3261,
    0x32a2, 0x32c1, 0x3322, 0x3381, 0x33c2, 0x33e1, 0x3422, 0x3441, 0x3462, 0x3481, 0x34a2, 0x34c1,
    0x3502, 0x3521, 0x3542, 0x3581, 0x35a2, 0x35c1, 0x3602, 0x3621, 0x3682, 0x36a1, 0x36c2, 0x36e1,
    0x3722, 0x3765, 0x3781, 0x37a2, 0x3805, 0x3881, 0x38a3, 0x38c2, 0x38e1, 0x3903, 0x3922, 0x3941,
    0x3963, 0x3982, 0x39a1, 0x39c2, 0x39e1, 0x3a02, 0x3a21, 0x3a42, 0x3a61, 0x3a82, 0x3aa1, 0x3ac2,
    0x3ae1, 0x3b02, 0x3b21, 0x3b42, 0x3b61, 0x3b82, 0x3bc1, 0x3be2, 0x3c01, 0x3c22, 0x3c41, 0x3c62,
    0x3c81, 0x3ca2, 0x3cc1, 0x3ce2, 0x3d01, 0x3d22, 0x3d41, 0x3d62, 0x3d81, 0x3da2, 0x3dc1, 0x3de2,
    0x3e21, 0x3e43, 0x3e62, 0x3e81, 0x3ea2, 0x3ec1, 0x3f22, 0x3f41, 0x3f62, 0x3f81, 0x3fa2, 0x3fc1,
    0x3fe2, 0x4001, 0x4022, 0x4041, 0x4062, 0x4081, 0x40a2, 0x40c1, 0x40e2, 0x4101, 0x4122, 0x4141,
    0x4162, 0x4181, 0x41a2, 0x41c1, 0x41e2, 0x4201, 0x4222, 0x4241, 0x4262, 0x4281, 0x42a2, 0x42c1,
    0x42e2, 0x4301, 0x4322, 0x4341, 0x4362, 0x4381, 0x43a2, 0x43c1, 0x43e2, 0x4401, 0x4422, 0x4441,
    0x4462, 0x4481, 0x44a2, 0x44c1, 0x44e2, 0x4501, 0x4522, 0x4541, 0x4562, 0x4581, 0x45a2, 0x45c1,
    0x45e2, 0x4601, 0x4622, 0x4641, 0x4662, 0x4741, 0x4782, 0x47a1, 0x47e2, 0x4821, 0x4842, 0x4861,
    0x48e2, 0x4901, 0x4922, 0x4941, 0x4962, 0x4981, 0x49a2, 0x49c1, 0x49e2, 0x5285, 0x52a2, 0x5604,
    0x5855, 0x58c4, 0x5a55, 0x5c04, 0x5cb5, 0x5d84, 0x5db5, 0x5dc4, 0x5df5, 0x6006, 0x6e01, 0x6e22,
    0x6e41, 0x6e62, 0x6e84, 0x6eb5, 0x6ec1, 0x6ee2, 0x6f00, 0x6f44, 0x6f62, 0x6fd2, 0x6fe1, 0x7000,
    0x7095, 0x70c1, 0x70f2, 0x7101, 0x7160, 0x7181, 0x71a0, 0x71c1, 0x7202, 0x7221, 0x7440, 0x7461,
    0x7582, 0x79e1, 0x7a02, 0x7a41, 0x7aa2, 0x7b01, 0x7b22, 0x7b41, 0x7b62, 0x7b81, 0x7ba2, 0x7bc1,
    0x7be2, 0x7c01, 0x7c22, 0x7c41, 0x7c62, 0x7c81, 0x7ca2, 0x7cc1, 0x7ce2, 0x7d01, 0x7d22, 0x7d41,
    0x7d62, 0x7d81, 0x7da2, 0x7dc1, 0x7de2, 0x7e81, 0x7ea2, 0x7ed3, 0x7ee1, 0x7f02, 0x7f21, 0x7f62,
    0x7fa1, 0x8602, 0x8c01, 0x8c22, 0x8c41, 0x8c62, 0x8c81, 0x8ca2, 0x8cc1, 0x8ce2, 0x8d01, 0x8d22,
    0x8d41, 0x8d62, 0x8d81, 0x8da2, 0x8dc1, 0x8de2, 0x8e01, 0x8e22, 0x8e41, 0x8e62, 0x8e81, 0x8ea2,
    0x8ec1, 0x8ee2, 0x8f01, 0x8f22, 0x8f41, 0x8f62, 0x8f81, 0x8fa2, 0x8fc1, 0x8fe2, 0x9001, 0x9022,
    0x9056, 0x9066, 0x9108, 0x9141, 0x9162, 0x9181, 0x91a2, 0x91c1, 0x91e2, 0x9201, 0x9222, 0x9241,
    0x9262, 0x9281, 0x92a2, 0x92c1, 0x92e2, 0x9301, 0x9322, 0x9341, 0x9362, 0x9381, 0x93a2, 0x93c1,
    0x93e2, 0x9401, 0x9422, 0x9441, 0x9462, 0x9481, 0x94a2, 0x94c1, 0x94e2, 0x9501, 0x9522, 0x9541,
    0x9562, 0x9581, 0x95a2, 0x95c1, 0x95e2, 0x9601, 0x9622, 0x9641, 0x9662, 0x9681, 0x96a2, 0x96c1,
    0x96e2, 0x9701, 0x9722, 0x9741, 0x9762, 0x9781, 0x97a2, 0x97c1, 0x97e2, 0x9801, 0x9842, 0x9861,
    0x9882, 0x98a1, 0x98c2, 0x98e1, 0x9902, 0x9921, 0x9942, 0x9961, 0x9982, 0x99a1, 0x99c2, 0x9a01,
    0x9a22, 0x9a41, 0x9a62, 0x9a81, 0x9aa2, 0x9ac1, 0x9ae2, 0x9b01, 0x9b22, 0x9b41, 0x9b62, 0x9b81,
    0x9ba2, 0x9bc1, 0x9be2, 0x9c01, 0x9c22, 0x9c41, 0x9c62, 0x9c81, 0x9ca2, 0x9cc1, 0x9ce2, 0x9d01,
    0x9d22, 0x9d41, 0x9d62, 0x9d81, 0x9da2, 0x9dc1, 0x9de2, 0x9e01, 0x9e22, 0x9e41, 0x9e62, 0x9e81,
    0x9ea2, 0x9ec1, 0x9ee2, 0x9f01, 0x9f22, 0x9f41, 0x9f62, 0x9f81, 0x9fa2, 0x9fc1, 0x9fe2, 0xa001,
    0xa022, 0xa041, 0xa062, 0xa081, 0xa0a2, 0xa0c1, 0xa0e2, 0xa101, 0xa122, 0xa141, 0xa162, 0xa181,
    0xa1a2, 0xa1c1, 0xa1e2, 0xa201, 0xa222, 0xa241, 0xa262, 0xa281, 0xa2a2, 0xa2c1, 0xa2e2, 0xa301,
    0xa322, 0xa341, 0xa362, 0xa381, 0xa3a2, 0xa3c1, 0xa3e2, 0xa401, 0xa422, 0xa441, 0xa462, 0xa481,
    0xa4a2, 0xa4c1, 0xa4e2, 0xa501, 0xa522, 0xa541, 0xa562, 0xa581, 0xa5a2, 0xa5c1, 0xa5e2, 0xa600,
    0xa621, 0xaae0, 0xab24, 0xab52, 0xac02, 0xb132, 0xb14d, 0xb160, 0xb1b6, 0xb1f4, 0xb200, 0xb226,
    0xb7cd, 0xb7e6, 0xb812, 0xb826, 0xb872, 0xb886, 0xb8d2, 0xb8e6, 0xb900, 0xba05, 0xbd60, 0xbde5,
    0xbe72, 0xbea0, 0xc01b, 0xc0d3, 0xc132, 0xc174, 0xc192, 0xc1d6, 0xc206, 0xc372, 0xc39b, 0xc3b2,
    0xc405, 0xc804, 0xc825, 0xc966, 0xcc09, 0xcd52, 0xcdc5, 0xce06, 0xce25, 0xda92, 0xdaa5, 0xdac6,
    0xdbbb, 0xdbd6, 0xdbe6, 0xdca4, 0xdce6, 0xdd36, 0xdd46, 0xddc5, 0xde09, 0xdf45, 0xdfb6, 0xdfe5,
    0xe012, 0xe1c0, 0xe1fb, 0xe205, 0xe226, 0xe245, 0xe606, 0xe960, 0xe9a5, 0xf4c6, 0xf625, 0xf640,
    0xf809, 0xf945, 0xfd66, 0xfe84, 0xfed6, 0xfef2, 0xff44, 0xff60, 0xffa6, 0xffd4, 0x10005,
    0x102c6, 0x10344, 0x10366, 0x10484, 0x104a6, 0x10504, 0x10526, 0x105c0, 0x10612, 0x107e0,
    0x10805, 0x10b26, 0x10b80, 0x10bd2, 0x10be0, 0x10c05, 0x10d60, 0x10e05, 0x11115, 0x11125,
    0x111e0, 0x1121b, 0x11240, 0x11306, 0x11405, 0x11924, 0x11946, 0x11c5b, 0x11c66, 0x12067,
    0x12085, 0x12746, 0x12767, 0x12786, 0x127a5, 0x127c7, 0x12826, 0x12927, 0x129a6, 0x129c7,
    0x12a05, 0x12a26, 0x12b05, 0x12c46, 0x12c92, 0x12cc9, 0x12e12, 0x12e24, 0x12e45, 0x13026,
    0x13047, 0x13080, 0x130a5, 0x131a0, 0x131e5, 0x13220, 0x13265, 0x13520, 0x13545, 0x13620,
    0x13645, 0x13660, 0x136c5, 0x13740, 0x13786, 0x137a5, 0x137c7, 0x13826, 0x138a0, 0x138e7,
    0x13920, 0x13967, 0x139a6, 0x139c5, 0x139e0, 0x13ae7, 0x13b00, 0x13b85, 0x13bc0, 0x13be5,
    0x13c46, 0x13c80, 0x13cc9, 0x13e05, 0x13e54, 0x13e8b, 0x13f56, 0x13f74, 0x13f85, 0x13fb2,
    0x13fc6, 0x13fe0, 0x14026, 0x14067, 0x14080, 0x140a5, 0x14160, 0x141e5, 0x14220, 0x14265,
    0x14520, 0x14545, 0x14620, 0x14645, 0x14680, 0x146a5, 0x146e0, 0x14705, 0x14740, 0x14786,
    0x147a0, 0x147c7, 0x14826, 0x14860, 0x148e6, 0x14920, 0x14966, 0x149c0, 0x14a26, 0x14a40,
    0x14b25, 0x14ba0, 0x14bc5, 0x14be0, 0x14cc9, 0x14e06, 0x14e45, 0x14ea6, 0x14ed2, 0x14ee0,
    0x15026, 0x15067, 0x15080, 0x150a5, 0x151c0, 0x151e5, 0x15240, 0x15265, 0x15520, 0x15545,
    0x15620, 0x15645, 0x15680, 0x156a5, 0x15740, 0x15786, 0x157a5, 0x157c7, 0x15826, 0x158c0,
    0x158e6, 0x15927, 0x15940, 0x15967, 0x159a6, 0x159c0, 0x15a05, 0x15a20, 0x15c05, 0x15c46,
    0x15c80, 0x15cc9, 0x15e12, 0x15e34, 0x15e40, 0x15f25, 0x15f46, 0x16000, 0x16026, 0x16047,
    0x16080, 0x160a5, 0x161a0, 0x161e5, 0x16220, 0x16265, 0x16520, 0x16545, 0x16620, 0x16645,
    0x16680, 0x166a5, 0x16740, 0x16786, 0x167a5, 0x167c7, 0x167e6, 0x16807, 0x16826, 0x168a0,
    0x168e7, 0x16920, 0x16967, 0x169a6, 0x169c0, 0x16aa6, 0x16ae7, 0x16b00, 0x16b85, 0x16bc0,
    0x16be5, 0x16c46, 0x16c80, 0x16cc9, 0x16e16, 0x16e25, 0x16e4b, 0x16f00, 0x17046, 0x17065,
    0x17080, 0x170a5, 0x17160, 0x171c5, 0x17220, 0x17245, 0x172c0, 0x17325, 0x17360, 0x17385,
    0x173a0, 0x173c5, 0x17400, 0x17465, 0x174a0, 0x17505, 0x17560, 0x175c5, 0x17740, 0x177c7,
    0x17806, 0x17827, 0x17860, 0x178c7, 0x17920, 0x17947, 0x179a6, 0x179c0, 0x17a05, 0x17a20,
    0x17ae7, 0x17b00, 0x17cc9, 0x17e0b, 0x17e76, 0x17f34, 0x17f56, 0x17f60, 0x18006, 0x18027,
    0x18086, 0x180a5, 0x181a0, 0x181c5, 0x18220, 0x18245, 0x18520, 0x18545, 0x18740, 0x18786,
    0x187a5, 0x187c6, 0x18827, 0x188a0, 0x188c6, 0x18920, 0x18946, 0x189c0, 0x18aa6, 0x18ae0,
    0x18b05, 0x18b60, 0x18ba5, 0x18bc0, 0x18c05, 0x18c46, 0x18c80, 0x18cc9, 0x18e00, 0x18ef2,
    0x18f0b, 0x18ff6, 0x19005, 0x19026, 0x19047, 0x19092, 0x190a5, 0x191a0, 0x191c5, 0x19220,
    0x19245, 0x19520, 0x19545, 0x19680, 0x196a5, 0x19740, 0x19786, 0x197a5, 0x197c7, 0x197e6,
    0x19807, 0x198a0, 0x198c6, 0x198e7, 0x19920, 0x19947, 0x19986, 0x199c0, 0x19aa7, 0x19ae0,
    0x19ba5, 0x19be0, 0x19c05, 0x19c46, 0x19c80, 0x19cc9, 0x19e00, 0x19e25, 0x19e60, 0x1a006,
    0x1a047, 0x1a085, 0x1a1a0, 0x1a1c5, 0x1a220, 0x1a245, 0x1a766, 0x1a7a5, 0x1a7c7, 0x1a826,
    0x1a8a0, 0x1a8c7, 0x1a920, 0x1a947, 0x1a9a6, 0x1a9c5, 0x1a9f6, 0x1aa00, 0x1aa85, 0x1aae7,
    0x1ab0b, 0x1abe5, 0x1ac46, 0x1ac80, 0x1acc9, 0x1ae0b, 0x1af36, 0x1af45, 0x1b000, 0x1b026,
    0x1b047, 0x1b080, 0x1b0a5, 0x1b2e0, 0x1b345, 0x1b640, 0x1b665, 0x1b780, 0x1b7a5, 0x1b7c0,
    0x1b805, 0x1b8e0, 0x1b946, 0x1b960, 0x1b9e7, 0x1ba46, 0x1baa0, 0x1bac6, 0x1bae0, 0x1bb07,
    0x1bc00, 0x1bcc9, 0x1be00, 0x1be47, 0x1be92, 0x1bea0, 0x1c025, 0x1c626, 0x1c645, 0x1c686,
    0x1c760, 0x1c7f4, 0x1c805, 0x1c8c4, 0x1c8e6, 0x1c9f2, 0x1ca09, 0x1cb52, 0x1cb80, 0x1d025,
    0x1d060, 0x1d085, 0x1d0a0, 0x1d0c5, 0x1d160, 0x1d185, 0x1d480, 0x1d4a5, 0x1d4c0, 0x1d4e5,
    0x1d626, 0x1d645, 0x1d686, 0x1d7a5, 0x1d7c0, 0x1d805, 0x1d8a0, 0x1d8c4, 0x1d8e0, 0x1d906,
    0x1d9c0, 0x1da09, 0x1db40, 0x1db85, 0x1dc00, 0x1e005, 0x1e036, 0x1e092, 0x1e276, 0x1e292,
    0x1e2b6, 0x1e306, 0x1e356, 0x1e409, 0x1e54b, 0x1e696, 0x1e6a6, 0x1e6d6, 0x1e6e6, 0x1e716,
    0x1e726, 0x1e74e, 0x1e76f, 0x1e78e, 0x1e7af, 0x1e7c7, 0x1e805, 0x1e900, 0x1e925, 0x1eda0,
    0x1ee26, 0x1efe7, 0x1f006, 0x1f0b2, 0x1f0c6, 0x1f105, 0x1f1a6, 0x1f300, 0x1f326, 0x1f7a0,
    0x1f7d6, 0x1f8c6, 0x1f8f6, 0x1f9a0, 0x1f9d6, 0x1fa12, 0x1fab6, 0x1fb32, 0x1fb60, 0x20005,
    0x20567, 0x205a6, 0x20627, 0x20646, 0x20707, 0x20726, 0x20767, 0x207a6, 0x207e5, 0x20809,
    0x20952, 0x20a05, 0x20ac7, 0x20b06, 0x20b45, 0x20bc6, 0x20c25, 0x20c47, 0x20ca5, 0x20ce7,
    0x20dc5, 0x20e26, 0x20ea5, 0x21046, 0x21067, 0x210a6, 0x210e7, 0x211a6, 0x211c5, 0x211e7,
    0x21209, 0x21347, 0x213a6, 0x213d6, 0x21401, 0x218c0, 0x218e1, 0x21900, 0x219a1, 0x219c0,
    0x21a02, 0x21f72, 0x21f84, 0x21fa2, 0x22005, 0x24920, 0x24945, 0x249c0, 0x24a05, 0x24ae0,
    0x24b05, 0x24b20, 0x24b45, 0x24bc0, 0x24c05, 0x25120, 0x25145, 0x251c0, 0x25205, 0x25620,
    0x25645, 0x256c0, 0x25705, 0x257e0, 0x25805, 0x25820, 0x25845, 0x258c0, 0x25905, 0x25ae0,
    0x25b05, 0x26220, 0x26245, 0x262c0, 0x26305, 0x26b60, 0x26ba6, 0x26c12, 0x26d2b, 0x26fa0,
    0x27005, 0x27216, 0x27340, 0x27401, 0x27ec0, 0x27f02, 0x27fc0, 0x2800d, 0x28025, 0x2cdb6,
    0x2cdd2, 0x2cde5, 0x2d017, 0x2d025, 0x2d36e, 0x2d38f, 0x2d3a0, 0x2d405, 0x2dd72, 0x2ddca,
    0x2de25, 0x2df20, 0x2e005, 0x2e246, 0x2e2a7, 0x2e2c0, 0x2e3e5, 0x2e646, 0x2e687, 0x2e6b2,
    0x2e6e0, 0x2e805, 0x2ea46, 0x2ea80, 0x2ec05, 0x2eda0, 0x2edc5, 0x2ee20, 0x2ee46, 0x2ee80,
    0x2f005, 0x2f686, 0x2f6c7, 0x2f6e6, 0x2f7c7, 0x2f8c6, 0x2f8e7, 0x2f926, 0x2fa92, 0x2fae4,
    0x2fb12, 0x2fb74, 0x2fb85, 0x2fba6, 0x2fbc0, 0x2fc09, 0x2fd40, 0x2fe0b, 0x2ff40, 0x30012,
    0x300cd, 0x300f2, 0x30166, 0x301db, 0x301e6, 0x30209, 0x30340, 0x30405, 0x30864, 0x30885,
    0x30f20, 0x31005, 0x310a6, 0x310e5, 0x31526, 0x31545, 0x31560, 0x31605, 0x31ec0, 0x32005,
    0x323e0, 0x32406, 0x32467, 0x324e6, 0x32527, 0x32580, 0x32607, 0x32646, 0x32667, 0x32726,
    0x32780, 0x32816, 0x32820, 0x32892, 0x328c9, 0x32a05, 0x32dc0, 0x32e05, 0x32ea0, 0x33005,
    0x33580, 0x33605, 0x33940, 0x33a09, 0x33b4b, 0x33b60, 0x33bd6, 0x34005, 0x342e6, 0x34327,
    0x34366, 0x34380, 0x343d2, 0x34405, 0x34aa7, 0x34ac6, 0x34ae7, 0x34b06, 0x34be0, 0x34c06,
    0x34c27, 0x34c46, 0x34c67, 0x34ca6, 0x34da7, 0x34e66, 0x34fa0, 0x34fe6, 0x35009, 0x35140,
    0x35209, 0x35340, 0x35412, 0x354e4, 0x35512, 0x355c0, 0x35606, 0x357c8, 0x357e6, 0x359e0,
    0x36006, 0x36087, 0x360a5, 0x36686, 0x366a7, 0x366c6, 0x36767, 0x36786, 0x367a7, 0x36846,
    0x36867, 0x368a5, 0x369a0, 0x36a09, 0x36b52, 0x36c36, 0x36d66, 0x36e96, 0x36fb2, 0x36fe0,
    0x37006, 0x37047, 0x37065, 0x37427, 0x37446, 0x374c7, 0x37506, 0x37547, 0x37566, 0x375c5,
    0x37609, 0x37745, 0x37cc6, 0x37ce7, 0x37d06, 0x37d47, 0x37da6, 0x37dc7, 0x37de6, 0x37e47,
    0x37e80, 0x37f92, 0x38005, 0x38487, 0x38586, 0x38687, 0x386c6, 0x38700, 0x38772, 0x38809,
    0x38940, 0x389a5, 0x38a09, 0x38b45, 0x38f04, 0x38fd2, 0x39002, 0x39120, 0x39201, 0x39760,
    0x397a1, 0x39812, 0x39900, 0x39a06, 0x39a72, 0x39a86, 0x39c27, 0x39c46, 0x39d25, 0x39da6,
    0x39dc5, 0x39e86, 0x39ea5, 0x39ee7, 0x39f06, 0x39f45, 0x39f60, 0x3a002, 0x3a584, 0x3ad62,
    0x3af04, 0x3af22, 0x3b364, 0x3b806, 0x3c001, 0x3c022, 0x3c041, 0x3c062, 0x3c081, 0x3c0a2,
    0x3c0c1, 0x3c0e2, 0x3c101, 0x3c122, 0x3c141, 0x3c162, 0x3c181, 0x3c1a2, 0x3c1c1, 0x3c1e2,
    0x3c201, 0x3c222, 0x3c241, 0x3c262, 0x3c281, 0x3c2a2, 0x3c2c1, 0x3c2e2, 0x3c301, 0x3c322,
    0x3c341, 0x3c362, 0x3c381, 0x3c3a2, 0x3c3c1, 0x3c3e2, 0x3c401, 0x3c422, 0x3c441, 0x3c462,
    0x3c481, 0x3c4a2, 0x3c4c1, 0x3c4e2, 0x3c501, 0x3c522, 0x3c541, 0x3c562, 0x3c581, 0x3c5a2,
    0x3c5c1, 0x3c5e2, 0x3c601, 0x3c622, 0x3c641, 0x3c662, 0x3c681, 0x3c6a2, 0x3c6c1, 0x3c6e2,
    0x3c701, 0x3c722, 0x3c741, 0x3c762, 0x3c781, 0x3c7a2, 0x3c7c1, 0x3c7e2, 0x3c801, 0x3c822,
    0x3c841, 0x3c862, 0x3c881, 0x3c8a2, 0x3c8c1, 0x3c8e2, 0x3c901, 0x3c922, 0x3c941, 0x3c962,
    0x3c981, 0x3c9a2, 0x3c9c1, 0x3c9e2, 0x3ca01, 0x3ca22, 0x3ca41, 0x3ca62, 0x3ca81, 0x3caa2,
    0x3cac1, 0x3cae2, 0x3cb01, 0x3cb22, 0x3cb41, 0x3cb62, 0x3cb81, 0x3cba2, 0x3cbc1, 0x3cbe2,
    0x3cc01, 0x3cc22, 0x3cc41, 0x3cc62, 0x3cc81, 0x3cca2, 0x3ccc1, 0x3cce2, 0x3cd01, 0x3cd22,
    0x3cd41, 0x3cd62, 0x3cd81, 0x3cda2, 0x3cdc1, 0x3cde2, 0x3ce01, 0x3ce22, 0x3ce41, 0x3ce62,
    0x3ce81, 0x3cea2, 0x3cec1, 0x3cee2, 0x3cf01, 0x3cf22, 0x3cf41, 0x3cf62, 0x3cf81, 0x3cfa2,
    0x3cfc1, 0x3cfe2, 0x3d001, 0x3d022, 0x3d041, 0x3d062, 0x3d081, 0x3d0a2, 0x3d0c1, 0x3d0e2,
    0x3d101, 0x3d122, 0x3d141, 0x3d162, 0x3d181, 0x3d1a2, 0x3d1c1, 0x3d1e2, 0x3d201, 0x3d222,
    0x3d241, 0x3d262, 0x3d281, 0x3d2a2, 0x3d3c1, 0x3d3e2, 0x3d401, 0x3d422, 0x3d441, 0x3d462,
    0x3d481, 0x3d4a2, 0x3d4c1, 0x3d4e2, 0x3d501, 0x3d522, 0x3d541, 0x3d562, 0x3d581, 0x3d5a2,
    0x3d5c1, 0x3d5e2, 0x3d601, 0x3d622, 0x3d641, 0x3d662, 0x3d681, 0x3d6a2, 0x3d6c1, 0x3d6e2,
    0x3d701, 0x3d722, 0x3d741, 0x3d762, 0x3d781, 0x3d7a2, 0x3d7c1, 0x3d7e2, 0x3d801, 0x3d822,
    0x3d841, 0x3d862, 0x3d881, 0x3d8a2, 0x3d8c1, 0x3d8e2, 0x3d901, 0x3d922, 0x3d941, 0x3d962,
    0x3d981, 0x3d9a2, 0x3d9c1, 0x3d9e2, 0x3da01, 0x3da22, 0x3da41, 0x3da62, 0x3da81, 0x3daa2,
    0x3dac1, 0x3dae2, 0x3db01, 0x3db22, 0x3db41, 0x3db62, 0x3db81, 0x3dba2, 0x3dbc1, 0x3dbe2,
    0x3dc01, 0x3dc22, 0x3dc41, 0x3dc62, 0x3dc81, 0x3dca2, 0x3dcc1, 0x3dce2, 0x3dd01, 0x3dd22,
    0x3dd41, 0x3dd62, 0x3dd81, 0x3dda2, 0x3ddc1, 0x3dde2, 0x3de01, 0x3de22, 0x3de41, 0x3de62,
    0x3de81, 0x3dea2, 0x3dec1, 0x3dee2, 0x3df01, 0x3df22, 0x3df41, 0x3df62, 0x3df81, 0x3dfa2,
    0x3dfc1, 0x3dfe2, 0x3e101, 0x3e202, 0x3e2c0, 0x3e301, 0x3e3c0, 0x3e402, 0x3e501, 0x3e602,
    0x3e701, 0x3e802, 0x3e8c0, 0x3e901, 0x3e9c0, 0x3ea02, 0x3eb00, 0x3eb21, 0x3eb40, 0x3eb61,
    0x3eb80, 0x3eba1, 0x3ebc0, 0x3ebe1, 0x3ec02, 0x3ed01, 0x3ee02, 0x3efc0, 0x3f002, 0x3f103,
    0x3f202, 0x3f303, 0x3f402, 0x3f503, 0x3f602, 0x3f6a0, 0x3f6c2, 0x3f701, 0x3f783, 0x3f7b5,
    0x3f7c2, 0x3f7f5, 0x3f842, 0x3f8a0, 0x3f8c2, 0x3f901, 0x3f983, 0x3f9b5, 0x3fa02, 0x3fa80,
    0x3fac2, 0x3fb01, 0x3fb80, 0x3fbb5, 0x3fc02, 0x3fd01, 0x3fdb5, 0x3fe00, 0x3fe42, 0x3fea0,
    0x3fec2, 0x3ff01, 0x3ff83, 0x3ffb5, 0x3ffe0, 0x40017, 0x4017b, 0x4020d, 0x402d2, 0x40310,
    0x40331, 0x4034e, 0x40370, 0x403b1, 0x403ce, 0x403f0, 0x40412, 0x40518, 0x40539, 0x4055b,
    0x405f7, 0x40612, 0x40730, 0x40751, 0x40772, 0x407ec, 0x40832, 0x40893, 0x408ae, 0x408cf,
    0x408f2, 0x40a53, 0x40a72, 0x40a8c, 0x40ab2, 0x40bf7, 0x40c1b, 0x40ca0, 0x40cdb, 0x40e0b,
    0x40e24, 0x40e40, 0x40e8b, 0x40f53, 0x40fae, 0x40fcf, 0x40fe4, 0x4100b, 0x41153, 0x411ae,
    0x411cf, 0x411e0, 0x41204, 0x413a0, 0x41414, 0x41820, 0x41a06, 0x41ba8, 0x41c26, 0x41c48,
    0x41ca6, 0x41e20, 0x42016, 0x42041, 0x42076, 0x420e1, 0x42116, 0x42142, 0x42161, 0x421c2,
    0x42201, 0x42262, 0x42296, 0x422a1, 0x422d6, 0x42313, 0x42321, 0x423d6, 0x42481, 0x424b6,
    0x424c1, 0x424f6, 0x42501, 0x42536, 0x42541, 0x425d6, 0x425e2, 0x42601, 0x42682, 0x426a5,
    0x42722, 0x42756, 0x42782, 0x427c1, 0x42813, 0x428a1, 0x428c2, 0x42956, 0x42973, 0x42996,
    0x429c2, 0x429f6, 0x42a0b, 0x42c0a, 0x43061, 0x43082, 0x430aa, 0x4312b, 0x43156, 0x43180,
    0x43213, 0x432b6, 0x43353, 0x43396, 0x43413, 0x43436, 0x43473, 0x43496, 0x434d3, 0x434f6,
    0x435d3, 0x435f6, 0x439d3, 0x43a16, 0x43a53, 0x43a76, 0x43a93, 0x43ab6, 0x43e93, 0x46016,
    0x4610e, 0x4612f, 0x4614e, 0x4616f, 0x46196, 0x46413, 0x46456, 0x4652e, 0x4654f, 0x46576,
    0x46f93, 0x46fb6, 0x47373, 0x47696, 0x47b93, 0x47c56, 0x484e0, 0x48816, 0x48960, 0x48c0b,
    0x49396, 0x49d4b, 0x4a016, 0x4b6f3, 0x4b716, 0x4b833, 0x4b856, 0x4bf13, 0x4c016, 0x4cdf3,
    0x4ce16, 0x4ed0e, 0x4ed2f, 0x4ed4e, 0x4ed6f, 0x4ed8e, 0x4edaf, 0x4edce, 0x4edef, 0x4ee0e,
    0x4ee2f, 0x4ee4e, 0x4ee6f, 0x4ee8e, 0x4eeaf, 0x4eecb, 0x4f296, 0x4f813, 0x4f8ae, 0x4f8cf,
    0x4f8f3, 0x4fcce, 0x4fcef, 0x4fd0e, 0x4fd2f, 0x4fd4e, 0x4fd6f, 0x4fd8e, 0x4fdaf, 0x4fdce,
    0x4fdef, 0x4fe13, 0x50016, 0x52013, 0x5306e, 0x5308f, 0x530ae, 0x530cf, 0x530ee, 0x5310f,
    0x5312e, 0x5314f, 0x5316e, 0x5318f, 0x531ae, 0x531cf, 0x531ee, 0x5320f, 0x5322e, 0x5324f,
    0x5326e, 0x5328f, 0x532ae, 0x532cf, 0x532ee, 0x5330f, 0x53333, 0x53b0e, 0x53b2f, 0x53b4e,
    0x53b6f, 0x53b93, 0x53f8e, 0x53faf, 0x53fd3, 0x56016, 0x56613, 0x568b6, 0x568f3, 0x569b6,
    0x56e80, 0x56ed6, 0x572c0, 0x572f6, 0x58001, 0x58602, 0x58c01, 0x58c22, 0x58c41, 0x58ca2,
    0x58ce1, 0x58d02, 0x58d21, 0x58d42, 0x58d61, 0x58d82, 0x58da1, 0x58e22, 0x58e41, 0x58e62,
    0x58ea1, 0x58ec2, 0x58f84, 0x58fc1, 0x59022, 0x59041, 0x59062, 0x59081, 0x590a2, 0x590c1,
    0x590e2, 0x59101, 0x59122, 0x59141, 0x59162, 0x59181, 0x591a2, 0x591c1, 0x591e2, 0x59201,
    0x59222, 0x59241, 0x59262, 0x59281, 0x592a2, 0x592c1, 0x592e2, 0x59301, 0x59322, 0x59341,
    0x59362, 0x59381, 0x593a2, 0x593c1, 0x593e2, 0x59401, 0x59422, 0x59441, 0x59462, 0x59481,
    0x594a2, 0x594c1, 0x594e2, 0x59501, 0x59522, 0x59541, 0x59562, 0x59581, 0x595a2, 0x595c1,
    0x595e2, 0x59601, 0x59622, 0x59641, 0x59662, 0x59681, 0x596a2, 0x596c1, 0x596e2, 0x59701,
    0x59722, 0x59741, 0x59762, 0x59781, 0x597a2, 0x597c1, 0x597e2, 0x59801, 0x59822, 0x59841,
    0x59862, 0x59881, 0x598a2, 0x598c1, 0x598e2, 0x59901, 0x59922, 0x59941, 0x59962, 0x59981,
    0x599a2, 0x599c1, 0x599e2, 0x59a01, 0x59a22, 0x59a41, 0x59a62, 0x59a81, 0x59aa2, 0x59ac1,
    0x59ae2, 0x59b01, 0x59b22, 0x59b41, 0x59b62, 0x59b81, 0x59ba2, 0x59bc1, 0x59be2, 0x59c01,
    0x59c22, 0x59c41, 0x59c62, 0x59cb6, 0x59d61, 0x59d82, 0x59da1, 0x59dc2, 0x59de6, 0x59e41,
    0x59e62, 0x59e80, 0x59f32, 0x59fab, 0x59fd2, 0x5a002, 0x5a4c0, 0x5a4e2, 0x5a500, 0x5a5a2,
    0x5a5c0, 0x5a605, 0x5ad00, 0x5ade4, 0x5ae12, 0x5ae20, 0x5afe6, 0x5b005, 0x5b2e0, 0x5b405,
    0x5b4e0, 0x5b505, 0x5b5e0, 0x5b605, 0x5b6e0, 0x5b705, 0x5b7e0, 0x5b805, 0x5b8e0, 0x5b905,
    0x5b9e0, 0x5ba05, 0x5bae0, 0x5bb05, 0x5bbe0, 0x5bc06, 0x5c012, 0x5c050, 0x5c071, 0x5c090,
    0x5c0b1, 0x5c0d2, 0x5c130, 0x5c151, 0x5c172, 0x5c190, 0x5c1b1, 0x5c1d2, 0x5c2ed, 0x5c312,
    0x5c34d, 0x5c372, 0x5c390, 0x5c3b1, 0x5c3d2, 0x5c410, 0x5c431, 0x5c44e, 0x5c46f, 0x5c48e,
    0x5c4af, 0x5c4ce, 0x5c4ef, 0x5c50e, 0x5c52f, 0x5c552, 0x5c5e4, 0x5c612, 0x5c74d, 0x5c792,
    0x5c80d, 0x5c832, 0x5c84e, 0x5c872, 0x5ca16, 0x5ca52, 0x5caae, 0x5cacf, 0x5caee, 0x5cb0f,
    0x5cb2e, 0x5cb4f, 0x5cb6e, 0x5cb8f, 0x5cbad, 0x5cbc0, 0x5d016, 0x5d340, 0x5d376, 0x5de80,
    0x5e016, 0x5fac0, 0x5fe16, 0x5ff80, 0x60017, 0x60032, 0x60096, 0x600a4, 0x600c5, 0x600ea,
    0x6010e, 0x6012f, 0x6014e, 0x6016f, 0x6018e, 0x601af, 0x601ce, 0x601ef, 0x6020e, 0x6022f,
    0x60256, 0x6028e, 0x602af, 0x602ce, 0x602ef, 0x6030e, 0x6032f, 0x6034e, 0x6036f, 0x6038d,
    0x603ae, 0x603cf, 0x60416, 0x6042a, 0x60546, 0x605c7, 0x6060d, 0x60624, 0x606d6, 0x6070a,
    0x60764, 0x60785, 0x607b2, 0x607d6, 0x60800, 0x60825, 0x612e0, 0x61326, 0x61375, 0x613a4,
    0x613e5, 0x6140d, 0x61425, 0x61f72, 0x61f84, 0x61fe5, 0x62000, 0x620a5, 0x62600, 0x62625,
    0x631e0, 0x63216, 0x6324b, 0x632d6, 0x63405, 0x63816, 0x63c80, 0x63e05, 0x64016, 0x643e0,
    0x6440b, 0x64556, 0x6490b, 0x64a16, 0x64a2b, 0x64c16, 0x6500b, 0x65156, 0x6562b, 0x65816,
    0x68005, 0x9b816, 0x9c005, 0x1402a4, 0x1402c5, 0x1491a0, 0x149216, 0x1498e0, 0x149a05, 0x149f04,
    0x149fd2, 0x14a005, 0x14c184, 0x14c1b2, 0x14c205, 0x14c409, 0x14c545, 0x14c580, 0x14c801,
    0x14c822, 0x14c841, 0x14c862, 0x14c881, 0x14c8a2, 0x14c8c1, 0x14c8e2, 0x14c901, 0x14c922,
    0x14c941, 0x14c962, 0x14c981, 0x14c9a2, 0x14c9c1, 0x14c9e2, 0x14ca01, 0x14ca22, 0x14ca41,
    0x14ca62, 0x14ca81, 0x14caa2, 0x14cac1, 0x14cae2, 0x14cb01, 0x14cb22, 0x14cb41, 0x14cb62,
    0x14cb81, 0x14cba2, 0x14cbc1, 0x14cbe2, 0x14cc01, 0x14cc22, 0x14cc41, 0x14cc62, 0x14cc81,
    0x14cca2, 0x14ccc1, 0x14cce2, 0x14cd01, 0x14cd22, 0x14cd41, 0x14cd62, 0x14cd81, 0x14cda2,
    0x14cdc5, 0x14cde6, 0x14ce08, 0x14ce72, 0x14ce86, 0x14cfd2, 0x14cfe4, 0x14d001, 0x14d022,
    0x14d041, 0x14d062, 0x14d081, 0x14d0a2, 0x14d0c1, 0x14d0e2, 0x14d101, 0x14d122, 0x14d141,
    0x14d162, 0x14d181, 0x14d1a2, 0x14d1c1, 0x14d1e2, 0x14d201, 0x14d222, 0x14d241, 0x14d262,
    0x14d281, 0x14d2a2, 0x14d2c1, 0x14d2e2, 0x14d301, 0x14d322, 0x14d341, 0x14d362, 0x14d384,
    0x14d3c6, 0x14d405, 0x14dcca, 0x14de06, 0x14de52, 0x14df00, 0x14e015, 0x14e2e4, 0x14e415,
    0x14e441, 0x14e462, 0x14e481, 0x14e4a2, 0x14e4c1, 0x14e4e2, 0x14e501, 0x14e522, 0x14e541,
    0x14e562, 0x14e581, 0x14e5a2, 0x14e5c1, 0x14e5e2, 0x14e641, 0x14e662, 0x14e681, 0x14e6a2,
    0x14e6c1, 0x14e6e2, 0x14e701, 0x14e722, 0x14e741, 0x14e762, 0x14e781, 0x14e7a2, 0x14e7c1,
    0x14e7e2, 0x14e801, 0x14e822, 0x14e841, 0x14e862, 0x14e881, 0x14e8a2, 0x14e8c1, 0x14e8e2,
    0x14e901, 0x14e922, 0x14e941, 0x14e962, 0x14e981, 0x14e9a2, 0x14e9c1, 0x14e9e2, 0x14ea01,
    0x14ea22, 0x14ea41, 0x14ea62, 0x14ea81, 0x14eaa2, 0x14eac1, 0x14eae2, 0x14eb01, 0x14eb22,
    0x14eb41, 0x14eb62, 0x14eb81, 0x14eba2, 0x14ebc1, 0x14ebe2, 0x14ec01, 0x14ec22, 0x14ec41,
    0x14ec62, 0x14ec81, 0x14eca2, 0x14ecc1, 0x14ece2, 0x14ed01, 0x14ed22, 0x14ed41, 0x14ed62,
    0x14ed81, 0x14eda2, 0x14edc1, 0x14ede2, 0x14ee04, 0x14ee22, 0x14ef21, 0x14ef42, 0x14ef61,
    0x14ef82, 0x14efa1, 0x14efe2, 0x14f001, 0x14f022, 0x14f041, 0x14f062, 0x14f081, 0x14f0a2,
    0x14f0c1, 0x14f0e2, 0x14f104, 0x14f135, 0x14f161, 0x14f182, 0x14f1a1, 0x14f1c2, 0x14f1e5,
    0x14f201, 0x14f222, 0x14f241, 0x14f262, 0x14f2c1, 0x14f2e2, 0x14f301, 0x14f322, 0x14f341,
    0x14f362, 0x14f381, 0x14f3a2, 0x14f3c1, 0x14f3e2, 0x14f401, 0x14f422, 0x14f441, 0x14f462,
    0x14f481, 0x14f4a2, 0x14f4c1, 0x14f4e2, 0x14f501, 0x14f522, 0x14f541, 0x14f5e2, 0x14f601,
    0x14f6a2, 0x14f6c1, 0x14f6e2, 0x14f701, 0x14f722, 0x14f741, 0x14f762, 0x14f781, 0x14f7a2,
    0x14f7c1, 0x14f7e2, 0x14f801, 0x14f822, 0x14f841, 0x14f862, 0x14f881, 0x14f902, 0x14f921,
    0x14f942, 0x14f960, 0x14fa01, 0x14fa22, 0x14fa40, 0x14fa62, 0x14fa80, 0x14faa2, 0x14fac1,
    0x14fae2, 0x14fb01, 0x14fb22, 0x14fb40, 0x14fe44, 0x14fea1, 0x14fec2, 0x14fee5, 0x14ff04,
    0x14ff42, 0x14ff65, 0x150046, 0x150065, 0x1500c6, 0x1500e5, 0x150166, 0x150185, 0x150467,
    0x1504a6, 0x1504e7, 0x150516, 0x150586, 0x1505a0, 0x15060b, 0x1506d6, 0x150714, 0x150736,
    0x150740, 0x150805, 0x150e92, 0x150f00, 0x151007, 0x151045, 0x151687, 0x151886, 0x1518c0,
    0x1519d2, 0x151a09, 0x151b40, 0x151c06, 0x151e45, 0x151f12, 0x151f65, 0x151f92, 0x151fa5,
    0x151fe6, 0x152009, 0x152145, 0x1524c6, 0x1525d2, 0x152605, 0x1528e6, 0x152a47, 0x152a80,
    0x152bf2, 0x152c05, 0x152fa0, 0x153006, 0x153067, 0x153085, 0x153666, 0x153687, 0x1536c6,
    0x153747, 0x153786, 0x1537c7, 0x153832, 0x1539c0, 0x1539e4, 0x153a09, 0x153b40, 0x153bd2,
    0x153c05, 0x153ca6, 0x153cc4, 0x153ce5, 0x153e09, 0x153f45, 0x153fe0, 0x154005, 0x154526,
    0x1545e7, 0x154626, 0x154667, 0x1546a6, 0x1546e0, 0x154805, 0x154866, 0x154885, 0x154986,
    0x1549a7, 0x1549c0, 0x154a09, 0x154b40, 0x154b92, 0x154c05, 0x154e04, 0x154e25, 0x154ef6,
    0x154f45, 0x154f67, 0x154f86, 0x154fa7, 0x154fc5, 0x155606, 0x155625, 0x155646, 0x1556a5,
    0x1556e6, 0x155725, 0x1557c6, 0x155805, 0x155826, 0x155845, 0x155860, 0x155b65, 0x155ba4,
    0x155bd2, 0x155c05, 0x155d67, 0x155d86, 0x155dc7, 0x155e12, 0x155e45, 0x155e64, 0x155ea7,
    0x155ec6, 0x155ee0, 0x156025, 0x1560e0, 0x156125, 0x1561e0, 0x156225, 0x1562e0, 0x156405,
    0x1564e0, 0x156505, 0x1565e0, 0x156602, 0x156b75, 0x156b84, 0x156c02, 0x156d24, 0x156d55,
    0x156d80, 0x156e02, 0x157805, 0x157c67, 0x157ca6, 0x157cc7, 0x157d06, 0x157d27, 0x157d72,
    0x157d87, 0x157da6, 0x157dc0, 0x157e09, 0x157f40, 0x158005, 0x1af480, 0x1af605, 0x1af8e0,
    0x1af965, 0x1aff80, 0x1b001c, 0x1c001d, 0x1f2005, 0x1f4dc0, 0x1f4e05, 0x1f5b40, 0x1f6002,
    0x1f60e0, 0x1f6262, 0x1f6300, 0x1f63a5, 0x1f63c6, 0x1f63e5, 0x1f6533, 0x1f6545, 0x1f66e0,
    0x1f6705, 0x1f67a0, 0x1f67c5, 0x1f67e0, 0x1f6805, 0x1f6840, 0x1f6865, 0x1f68a0, 0x1f68c5,
    0x1f7655, 0x1f7860, 0x1f7a65, 0x1fa7cf, 0x1fa7ee, 0x1fa816, 0x1faa05, 0x1fb200, 0x1fb245,
    0x1fb900, 0x1fb9f6, 0x1fba00, 0x1fbe05, 0x1fbf94, 0x1fbfb6, 0x1fc006, 0x1fc212, 0x1fc2ee,
    0x1fc30f, 0x1fc332, 0x1fc340, 0x1fc406, 0x1fc612, 0x1fc62d, 0x1fc66c, 0x1fc6ae, 0x1fc6cf,
    0x1fc6ee, 0x1fc70f, 0x1fc72e, 0x1fc74f, 0x1fc76e, 0x1fc78f, 0x1fc7ae, 0x1fc7cf, 0x1fc7ee,
    0x1fc80f, 0x1fc82e, 0x1fc84f, 0x1fc86e, 0x1fc88f, 0x1fc8b2, 0x1fc8ee, 0x1fc90f, 0x1fc932,
    0x1fc9ac, 0x1fca12, 0x1fca60, 0x1fca92, 0x1fcb0d, 0x1fcb2e, 0x1fcb4f, 0x1fcb6e, 0x1fcb8f,
    0x1fcbae, 0x1fcbcf, 0x1fcbf2, 0x1fcc53, 0x1fcc6d, 0x1fcc93, 0x1fcce0, 0x1fcd12, 0x1fcd34,
    0x1fcd52, 0x1fcd80, 0x1fce05, 0x1fcea0, 0x1fcec5, 0x1fdfa0, 0x1fdffb, 0x1fe000, 0x1fe032,
    0x1fe094, 0x1fe0b2, 0x1fe10e, 0x1fe12f, 0x1fe152, 0x1fe173, 0x1fe192, 0x1fe1ad, 0x1fe1d2,
    0x1fe209, 0x1fe352, 0x1fe393, 0x1fe3f2, 0x1fe421, 0x1fe76e, 0x1fe792, 0x1fe7af, 0x1fe7d5,
    0x1fe7ec, 0x1fe815, 0x1fe822, 0x1feb6e, 0x1feb93, 0x1febaf, 0x1febd3, 0x1febee, 0x1fec0f,
    0x1fec32, 0x1fec4e, 0x1fec6f, 0x1fec92, 0x1fecc5, 0x1fee04, 0x1fee25, 0x1ff3c4, 0x1ff405,
    0x1ff7e0, 0x1ff845, 0x1ff900, 0x1ff945, 0x1ffa00, 0x1ffa45, 0x1ffb00, 0x1ffb45, 0x1ffba0,
    0x1ffc14, 0x1ffc53, 0x1ffc75, 0x1ffc96, 0x1ffcb4, 0x1ffce0, 0x1ffd16, 0x1ffd33, 0x1ffdb6,
    0x1ffde0, 0x1fff3b, 0x1fff96, 0x1fffc0, 0x200005, 0x200180, 0x2001a5, 0x2004e0, 0x200505,
    0x200760, 0x200785, 0x2007c0, 0x2007e5, 0x2009c0, 0x200a05, 0x200bc0, 0x201005, 0x201f60,
    0x202012, 0x202060, 0x2020eb, 0x202680, 0x2026f6, 0x20280a, 0x202eab, 0x202f36, 0x20314b,
    0x203196, 0x2031e0, 0x203216, 0x2033a0, 0x203416, 0x203420, 0x203a16, 0x203fa6, 0x203fc0,
    0x205005, 0x2053a0, 0x205405, 0x205a20, 0x205c06, 0x205c2b, 0x205f80, 0x206005, 0x20640b,
    0x206480, 0x2065a5, 0x20682a, 0x206845, 0x20694a, 0x206960, 0x206a05, 0x206ec6, 0x206f60,
    0x207005, 0x2073c0, 0x2073f2, 0x207405, 0x207880, 0x207905, 0x207a12, 0x207a2a, 0x207ac0,
    0x208001, 0x208502, 0x208a05, 0x2093c0, 0x209409, 0x209540, 0x209601, 0x209a80, 0x209b02,
    0x209f80, 0x20a005, 0x20a500, 0x20a605, 0x20ac80, 0x20adf2, 0x20ae01, 0x20af60, 0x20af81,
    0x20b160, 0x20b181, 0x20b260, 0x20b281, 0x20b2c0, 0x20b2e2, 0x20b440, 0x20b462, 0x20b640,
    0x20b662, 0x20b740, 0x20b762, 0x20b7a0, 0x20c005, 0x20e6e0, 0x20e805, 0x20eac0, 0x20ec05,
    0x20ed00, 0x20f004, 0x20f0c0, 0x20f0e4, 0x20f620, 0x20f644, 0x20f760, 0x210005, 0x2100c0,
    0x210105, 0x210120, 0x210145, 0x2106c0, 0x2106e5, 0x210720, 0x210785, 0x2107a0, 0x2107e5,
    0x210ac0, 0x210af2, 0x210b0b, 0x210c05, 0x210ef6, 0x210f2b, 0x211005, 0x2113e0, 0x2114eb,
    0x211600, 0x211c05, 0x211e60, 0x211e85, 0x211ec0, 0x211f6b, 0x212005, 0x2122cb, 0x212380,
    0x2123f2, 0x212405, 0x212740, 0x2127f2, 0x212800, 0x213005, 0x213700, 0x21378b, 0x2137c5,
    0x21380b, 0x213a00, 0x213a4b, 0x214005, 0x214026, 0x214080, 0x2140a6, 0x2140e0, 0x214186,
    0x214205, 0x214280, 0x2142a5, 0x214300, 0x214325, 0x2146c0, 0x214706, 0x214760, 0x2147e6,
    0x21480b, 0x214920, 0x214a12, 0x214b20, 0x214c05, 0x214fab, 0x214ff2, 0x215005, 0x2153ab,
    0x215400, 0x215805, 0x215916, 0x215925, 0x215ca6, 0x215ce0, 0x215d6b, 0x215e12, 0x215ee0,
    0x216005, 0x2166c0, 0x216732, 0x216805, 0x216ac0, 0x216b0b, 0x216c05, 0x216e60, 0x216f0b,
    0x217005, 0x217240, 0x217332, 0x2173a0, 0x21752b, 0x217600, 0x218005, 0x218920, 0x219001,
    0x219660, 0x219802, 0x219e60, 0x219f4b, 0x21a005, 0x21a486, 0x21a500, 0x21a609, 0x21a740,
    0x21cc0b, 0x21cfe0, 0x21d005, 0x21d540, 0x21d566, 0x21d5ad, 0x21d5c0, 0x21d605, 0x21d640,
    0x21e005, 0x21e3ab, 0x21e4e5, 0x21e500, 0x21e605, 0x21e8c6, 0x21ea2b, 0x21eab2, 0x21eb40,
    0x21ee05, 0x21f046, 0x21f0d2, 0x21f140, 0x21f605, 0x21f8ab, 0x21f980, 0x21fc05, 0x21fee0,
    0x220007, 0x220026, 0x220047, 0x220065, 0x220706, 0x2208f2, 0x2209c0, 0x220a4b, 0x220cc9,
    0x220e06, 0x220e25, 0x220e66, 0x220ea5, 0x220ec0, 0x220fe6, 0x221047, 0x221065, 0x221607,
    0x221666, 0x2216e7, 0x221726, 0x221772, 0x2217bb, 0x2217d2, 0x221846, 0x221860, 0x2219bb,
    0x2219c0, 0x221a05, 0x221d20, 0x221e09, 0x221f40, 0x222006, 0x222065, 0x2224e6, 0x222587,
    0x2225a6, 0x2226a0, 0x2226c9, 0x222812, 0x222885, 0x2228a7, 0x2228e5, 0x222900, 0x222a05,
    0x222e66, 0x222e92, 0x222ec5, 0x222ee0, 0x223006, 0x223047, 0x223065, 0x223667, 0x2236c6,
    0x2237e7, 0x223825, 0x2238b2, 0x223926, 0x2239b2, 0x2239c7, 0x2239e6, 0x223a09, 0x223b45,
    0x223b72, 0x223b85, 0x223bb2, 0x223c00, 0x223c2b, 0x223ea0, 0x224005, 0x224240, 0x224265,
    0x224587, 0x2245e6, 0x224647, 0x224686, 0x2246a7, 0x2246c6, 0x224712, 0x2247c6, 0x2247e0,
    0x225005, 0x2250e0, 0x225105, 0x225120, 0x225145, 0x2251c0, 0x2251e5, 0x2253c0, 0x2253e5,
    0x225532, 0x225540, 0x225605, 0x225be6, 0x225c07, 0x225c66, 0x225d60, 0x225e09, 0x225f40,
    0x226006, 0x226047, 0x226080, 0x2260a5, 0x2261a0, 0x2261e5, 0x226220, 0x226265, 0x226520,
    0x226545, 0x226620, 0x226645, 0x226680, 0x2266a5, 0x226740, 0x226766, 0x2267a5, 0x2267c7,
    0x226806, 0x226827, 0x2268a0, 0x2268e7, 0x226920, 0x226967, 0x2269c0, 0x226a05, 0x226a20,
    0x226ae7, 0x226b00, 0x226ba5, 0x226c47, 0x226c80, 0x226cc6, 0x226da0, 0x226e06, 0x226ea0,
    0x228005, 0x2286a7, 0x228706, 0x228807, 0x228846, 0x2288a7, 0x2288c6, 0x2288e5, 0x228972,
    0x228a09, 0x228b52, 0x228b80, 0x228bb2, 0x228bc6, 0x228be5, 0x228c40, 0x229005, 0x229607,
    0x229666, 0x229727, 0x229746, 0x229767, 0x2297e6, 0x229827, 0x229846, 0x229885, 0x2298d2,
    0x2298e5, 0x229900, 0x229a09, 0x229b40, 0x22b005, 0x22b5e7, 0x22b646, 0x22b6c0, 0x22b707,
    0x22b786, 0x22b7c7, 0x22b7e6, 0x22b832, 0x22bb05, 0x22bb86, 0x22bbc0, 0x22c005, 0x22c607,
    0x22c666, 0x22c767, 0x22c7a6, 0x22c7c7, 0x22c7e6, 0x22c832, 0x22c885, 0x22c8a0, 0x22ca09,
    0x22cb40, 0x22cc12, 0x22cda0, 0x22d005, 0x22d566, 0x22d587, 0x22d5a6, 0x22d5c7, 0x22d606,
    0x22d6c7, 0x22d6e6, 0x22d705, 0x22d732, 0x22d740, 0x22d809, 0x22d940, 0x22e005, 0x22e360,
    0x22e3a6, 0x22e407, 0x22e446, 0x22e4c7, 0x22e4e6, 0x22e580, 0x22e609, 0x22e74b, 0x22e792,
    0x22e7f6, 0x22e805, 0x22e8e0, 0x230005, 0x230587, 0x2305e6, 0x230707, 0x230726, 0x230772,
    0x230780, 0x231401, 0x231802, 0x231c09, 0x231d4b, 0x231e60, 0x231fe5, 0x2320e0, 0x232125,
    0x232140, 0x232185, 0x232280, 0x2322a5, 0x2322e0, 0x232305, 0x232607, 0x2326c0, 0x2326e7,
    0x232720, 0x232766, 0x2327a7, 0x2327c6, 0x2327e5, 0x232807, 0x232825, 0x232847, 0x232866,
    0x232892, 0x2328e0, 0x232a09, 0x232b40, 0x233405, 0x233500, 0x233545, 0x233a27, 0x233a86,
    0x233b00, 0x233b46, 0x233b87, 0x233c06, 0x233c25, 0x233c52, 0x233c65, 0x233c87, 0x233ca0,
    0x234005, 0x234026, 0x234165, 0x234666, 0x234727, 0x234745, 0x234766, 0x2347f2, 0x2348e6,
    0x234900, 0x234a05, 0x234a26, 0x234ae7, 0x234b26, 0x234b85, 0x235146, 0x2352e7, 0x235306,
    0x235352, 0x2353a5, 0x2353d2, 0x235460, 0x235605, 0x235f20, 0x238005, 0x238120, 0x238145,
    0x2385e7, 0x238606, 0x2386e0, 0x238706, 0x2387c7, 0x2387e6, 0x238805, 0x238832, 0x2388c0,
    0x238a09, 0x238b4b, 0x238da0, 0x238e12, 0x238e45, 0x239200, 0x239246, 0x239500, 0x239527,
    0x239546, 0x239627, 0x239646, 0x239687, 0x2396a6, 0x2396e0, 0x23a005, 0x23a0e0, 0x23a105,
    0x23a140, 0x23a165, 0x23a626, 0x23a6e0, 0x23a746, 0x23a760, 0x23a786, 0x23a7c0, 0x23a7e6,
    0x23a8c5, 0x23a8e6, 0x23a900, 0x23aa09, 0x23ab40, 0x23ac05, 0x23acc0, 0x23ace5, 0x23ad20,
    0x23ad45, 0x23b147, 0x23b1e0, 0x23b206, 0x23b240, 0x23b267, 0x23b2a6, 0x23b2c7, 0x23b2e6,
    0x23b305, 0x23b320, 0x23b409, 0x23b540, 0x23dc05, 0x23de66, 0x23dea7, 0x23def2, 0x23df20,
    0x23f605, 0x23f620, 0x23f80b, 0x23fab6, 0x23fbb4, 0x23fc36, 0x23fe40, 0x23fff2, 0x240005,
    0x247340, 0x24800a, 0x248de0, 0x248e12, 0x248ea0, 0x249005, 0x24a880, 0x25f205, 0x25fe32,
    0x25fe60, 0x260005, 0x2685e0, 0x26861b, 0x268720, 0x288005, 0x28c8e0, 0x2d0005, 0x2d4720,
    0x2d4805, 0x2d4be0, 0x2d4c09, 0x2d4d40, 0x2d4dd2, 0x2d4e05, 0x2d57e0, 0x2d5809, 0x2d5940,
    0x2d5a05, 0x2d5dc0, 0x2d5e06, 0x2d5eb2, 0x2d5ec0, 0x2d6005, 0x2d6606, 0x2d66f2, 0x2d6796,
    0x2d6804, 0x2d6892, 0x2d68b6, 0x2d68c0, 0x2d6a09, 0x2d6b40, 0x2d6b6b, 0x2d6c40, 0x2d6c65,
    0x2d6f00, 0x2d6fa5, 0x2d7200, 0x2dc801, 0x2dcc02, 0x2dd00b, 0x2dd2f2, 0x2dd360, 0x2de005,
    0x2de960, 0x2de9e6, 0x2dea05, 0x2dea27, 0x2df100, 0x2df1e6, 0x2df264, 0x2df400, 0x2dfc04,
    0x2dfc52, 0x2dfc64, 0x2dfc86, 0x2dfca0, 0x2dfe07, 0x2dfe40, 0x2e0005, 0x30ff00, 0x310005,
    0x319ac0, 0x31a005, 0x31a120, 0x35fe04, 0x35fe80, 0x35fea4, 0x35ff80, 0x35ffa4, 0x35ffe0,
    0x360005, 0x362460, 0x362a05, 0x362a60, 0x362c85, 0x362d00, 0x362e05, 0x365f80, 0x378005,
    0x378d60, 0x378e05, 0x378fa0, 0x379005, 0x379120, 0x379205, 0x379340, 0x379396, 0x3793a6,
    0x3793f2, 0x37941b, 0x379480, 0x39e006, 0x39e5c0, 0x39e606, 0x39e8e0, 0x39ea16, 0x39f880,
    0x3a0016, 0x3a1ec0, 0x3a2016, 0x3a24e0, 0x3a2536, 0x3a2ca7, 0x3a2ce6, 0x3a2d56, 0x3a2da7,
    0x3a2e7b, 0x3a2f66, 0x3a3076, 0x3a30a6, 0x3a3196, 0x3a3546, 0x3a35d6, 0x3a3d60, 0x3a4016,
    0x3a4846, 0x3a48b6, 0x3a48c0, 0x3a5c0b, 0x3a5e80, 0x3a6016, 0x3a6ae0, 0x3a6c0b, 0x3a6f20,
    0x3a8001, 0x3a8342, 0x3a8681, 0x3a89c2, 0x3a8aa0, 0x3a8ac2, 0x3a8d01, 0x3a9042, 0x3a9381,
    0x3a93a0, 0x3a93c1, 0x3a9400, 0x3a9441, 0x3a9460, 0x3a94a1, 0x3a94e0, 0x3a9521, 0x3a95a0,
    0x3a95c1, 0x3a96c2, 0x3a9740, 0x3a9762, 0x3a9780, 0x3a97a2, 0x3a9880, 0x3a98a2, 0x3a9a01,
    0x3a9d42, 0x3aa081, 0x3aa0c0, 0x3aa0e1, 0x3aa160, 0x3aa1a1, 0x3aa2a0, 0x3aa2c1, 0x3aa3a0,
    0x3aa3c2, 0x3aa701, 0x3aa740, 0x3aa761, 0x3aa7e0, 0x3aa801, 0x3aa8a0, 0x3aa8c1, 0x3aa8e0,
    0x3aa941, 0x3aaa20, 0x3aaa42, 0x3aad81, 0x3ab0c2, 0x3ab401, 0x3ab742, 0x3aba81, 0x3abdc2,
    0x3ac101, 0x3ac442, 0x3ac781, 0x3acac2, 0x3ace01, 0x3ad142, 0x3ad4c0, 0x3ad501, 0x3ad833,
    0x3ad842, 0x3adb73, 0x3adb82, 0x3adc41, 0x3adf73, 0x3adf82, 0x3ae2b3, 0x3ae2c2, 0x3ae381,
    0x3ae6b3, 0x3ae6c2, 0x3ae9f3, 0x3aea02, 0x3aeac1, 0x3aedf3, 0x3aee02, 0x3af133, 0x3af142,
    0x3af201, 0x3af533, 0x3af542, 0x3af873, 0x3af882, 0x3af941, 0x3af962, 0x3af980, 0x3af9c9,
    0x3b0016, 0x3b4006, 0x3b46f6, 0x3b4766, 0x3b4db6, 0x3b4ea6, 0x3b4ed6, 0x3b5086, 0x3b50b6,
    0x3b50f2, 0x3b5180, 0x3b5366, 0x3b5400, 0x3b5426, 0x3b5600, 0x3be002, 0x3be145, 0x3be162,
    0x3be3e0, 0x3c0006, 0x3c00e0, 0x3c0106, 0x3c0320, 0x3c0366, 0x3c0440, 0x3c0466, 0x3c04a0,
    0x3c04c6, 0x3c0560, 0x3c2005, 0x3c25a0, 0x3c2606, 0x3c26e4, 0x3c27c0, 0x3c2809, 0x3c2940,
    0x3c29c5, 0x3c29f6, 0x3c2a00, 0x3c5205, 0x3c55c6, 0x3c55e0, 0x3c5805, 0x3c5d86, 0x3c5e09,
    0x3c5f40, 0x3c5ff4, 0x3c6000, 0x3cfc05, 0x3cfce0, 0x3cfd05, 0x3cfd80, 0x3cfda5, 0x3cfde0,
    0x3cfe05, 0x3cffe0, 0x3d0005, 0x3d18a0, 0x3d18eb, 0x3d1a06, 0x3d1ae0, 0x3d2001, 0x3d2442,
    0x3d2886, 0x3d2964, 0x3d2980, 0x3d2a09, 0x3d2b40, 0x3d2bd2, 0x3d2c00, 0x3d8e2b, 0x3d9596,
    0x3d95ab, 0x3d9614, 0x3d962b, 0x3d96a0, 0x3da02b, 0x3da5d6, 0x3da5eb, 0x3da7c0, 0x3dc005,
    0x3dc080, 0x3dc0a5, 0x3dc400, 0x3dc425, 0x3dc460, 0x3dc485, 0x3dc4a0, 0x3dc4e5, 0x3dc500,
    0x3dc525, 0x3dc660, 0x3dc685, 0x3dc700, 0x3dc725, 0x3dc740, 0x3dc765, 0x3dc780, 0x3dc845,
    0x3dc860, 0x3dc8e5, 0x3dc900, 0x3dc925, 0x3dc940, 0x3dc965, 0x3dc980, 0x3dc9a5, 0x3dca00,
    0x3dca25, 0x3dca60, 0x3dca85, 0x3dcaa0, 0x3dcae5, 0x3dcb00, 0x3dcb25, 0x3dcb40, 0x3dcb65,
    0x3dcb80, 0x3dcba5, 0x3dcbc0, 0x3dcbe5, 0x3dcc00, 0x3dcc25, 0x3dcc60, 0x3dcc85, 0x3dcca0,
    0x3dcce5, 0x3dcd60, 0x3dcd85, 0x3dce60, 0x3dce85, 0x3dcf00, 0x3dcf25, 0x3dcfa0, 0x3dcfc5,
    0x3dcfe0, 0x3dd005, 0x3dd140, 0x3dd165, 0x3dd380, 0x3dd425, 0x3dd480, 0x3dd4a5, 0x3dd540,
    0x3dd565, 0x3dd780, 0x3dde13, 0x3dde40, 0x3e0016, 0x3e0580, 0x3e0616, 0x3e1280, 0x3e1416,
    0x3e15e0, 0x3e1636, 0x3e1800, 0x3e1836, 0x3e1a00, 0x3e1a36, 0x3e1ec0, 0x3e200b, 0x3e21b6,
    0x3e35c0, 0x3e3cd6, 0x3e4060, 0x3e4216, 0x3e4780, 0x3e4816, 0x3e4920, 0x3e4a16, 0x3e4a40,
    0x3e4c16, 0x3e4cc0, 0x3e6016, 0x3e7f75, 0x3e8016, 0x3edb00, 0x3edbb6, 0x3edda0, 0x3ede16,
    0x3edfa0, 0x3ee016, 0x3eee80, 0x3ef016, 0x3efb20, 0x3efc16, 0x3efd80, 0x3efe16, 0x3efe20,
    0x3f0016, 0x3f0180, 0x3f0216, 0x3f0900, 0x3f0a16, 0x3f0b40, 0x3f0c16, 0x3f1100, 0x3f1216,
    0x3f15c0, 0x3f1616, 0x3f1640, 0x3f2016, 0x3f4a80, 0x3f4c16, 0x3f4dc0, 0x3f4e16, 0x3f4ea0,
    0x3f4f16, 0x3f4fa0, 0x3f5016, 0x3f50e0, 0x3f5216, 0x3f55a0, 0x3f5616, 0x3f5760, 0x3f5816,
    0x3f58c0, 0x3f5a16, 0x3f5b40, 0x3f5c16, 0x3f5d00, 0x3f5e16, 0x3f5ee0, 0x3f6016, 0x3f7260,
    0x3f7296, 0x3f7960, 0x3f7e09, 0x3f7f40, 0x400005, 0x54dc00, 0x54e005, 0x56e720, 0x56e805,
    0x5703c0, 0x570405, 0x59d440, 0x59d605, 0x5d7c20, 0x5f0005, 0x5f43c0, 0x600005, 0x626960,
    0x1c0003b, 0x1c00040, 0x1c0041b, 0x1c01000, 0x1c02006, 0x1c03e00, 0x1e0001d, 0x1ffffc0,
    0x200001d, 0x21fffc0,
};

static unsigned uc_category(uint32_t cp) {
    size_t lo = 0, hi = sizeof uc_runs / sizeof uc_runs[0];
    while (hi - lo > 1) {   /* the last run starting at or before cp */
        size_t mid = lo + (hi - lo) / 2;
        if ((uc_runs[mid] >> 5) <= cp) lo = mid; else hi = mid;
    }
    return uc_runs[lo] & 31u;
}
