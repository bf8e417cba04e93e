/* regex.c — the one regular-expression engine (flow_re.h): a pattern is parsed to a tree, compiled to a
 * program and run by a Pike VM over code points, with capture positions and leftmost-first
 * (Perl / JavaScript) priorities. No backtracking: a run costs at most the subject's length times the
 * program's size, charged to the caller's work budget. General categories for \p{..} come from
 * utf8proc. JSONPath's match()/search() use the I-Regexp dialect; regex_match and regex_replace the
 * Flow dialect (I-Regexp plus the extensions listed in flow_re.h). */
#include "flow_re.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- memory: every piece of a compiled pattern lives in one chain of chunks ---- */

typedef struct Chunk {
    struct Chunk *next;
    size_t used, cap;
    max_align_t data[];
} Chunk;

static void *ch_alloc(Chunk **head, size_t n) {
    const size_t al = _Alignof(max_align_t);
    if (n > SIZE_MAX / 4) return NULL;
    n = n ? (n + al - 1) / al * al : al;
    Chunk *c = *head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        c = malloc(sizeof(Chunk) + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = *head;
        *head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static void ch_free(Chunk *c) {
    for (Chunk *next; c; c = next) { next = c->next; free(c); }
}

/* ---- UTF-8 ---- */

size_t flow_u8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
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

/* Lenient, for subjects: a byte that does not start a valid sequence is one character, U+FFFD. */
static size_t u8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    size_t k = flow_u8_decode(s, n, cp);
    if (k) return k;
    *cp = 0xFFFD;
    return 1;
}

/* ---- the pattern as a tree ---- */

enum { IT_RANGE, IT_CAT, IT_DIGIT, IT_WORD, IT_SPACE };

typedef struct {
    int kind;
    uint32_t lo, hi;     /* IT_RANGE */
    uint32_t mask;       /* IT_CAT: general categories (1u << UTF8PROC_CATEGORY_xx) */
    bool neg;            /* \P{..}, \D, \W, \S */
} Item;

typedef struct {
    bool neg;
    size_t n;
    Item *items;
} Class;

enum { N_CHAR, N_ANY, N_CLASS, N_BOL, N_EOL, N_WORDB, N_NWORDB, N_CAT, N_ALT, N_REP, N_GROUP };

typedef struct Node Node;
struct Node {
    int kind;
    uint32_t c;          /* N_CHAR */
    Class *cls;          /* N_CLASS */
    Node **kids;         /* N_CAT, N_ALT; kids[0] for N_REP and N_GROUP */
    size_t nkids;
    long min, max;       /* N_REP; max < 0: unbounded */
    bool lazy;           /* N_REP */
    int group;           /* N_GROUP: 1.. capturing, 0 not */
};

/* ---- the program ---- */

enum { I_CHAR, I_ANY, I_CLASS, I_BOL, I_EOL, I_WORDB, I_NWORDB, I_SPLIT, I_JMP, I_SAVE, I_MATCH };

typedef struct {
    int op;
    uint32_t c;          /* I_CHAR; the slot for I_SAVE */
    const Class *cls;
    size_t x, y;         /* I_SPLIT: x first (preferred), then y; I_JMP: x */
} Inst;

struct FlowRegex {
    Chunk *mem;
    Inst *prog;
    size_t n;
    int groups;
};

/* ---- parser ---- */

typedef struct {
    const unsigned char *s;
    size_t pos, len;
    Chunk **mem;
    FlowReDialect d;
    int depth, groups;
    bool bad;
    char *err;
    size_t errlen;
} P;

static void perr(P *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(P *p, size_t at, const char *fmt, ...) {
    if (p->bad) return;
    p->bad = true;
    if (!p->err || !p->errlen) return;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t ch = 1;   /* the 1-based character at byte offset `at` */
    for (size_t i = 0; i < at && i < p->len; i++) ch += (p->s[i] & 0xC0) != 0x80;
    snprintf(p->err, p->errlen, "%s (at character %zu)", msg, ch);
}

static void *palloc(P *p, size_t n) {
    void *x = ch_alloc(p->mem, n);
    if (!x) perr(p, p->pos, "out of memory");
    return x;
}

static Node *node(P *p, int kind) {
    Node *n = palloc(p, sizeof *n);
    if (n) n->kind = kind;
    return n;
}

static bool add_kid(P *p, Node *n, size_t *cap, Node *kid) {
    if (n->nkids == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        Node **nk = palloc(p, nc * sizeof *nk);
        if (!nk) return false;
        if (n->nkids) memcpy(nk, n->kids, n->nkids * sizeof *nk);
        n->kids = nk;
        *cap = nc;
    }
    n->kids[n->nkids++] = kid;
    return true;
}

static bool add_item(P *p, Class *cls, size_t *cap, Item it) {
    if (cls->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        Item *ni = palloc(p, nc * sizeof *ni);
        if (!ni) return false;
        if (cls->n) memcpy(ni, cls->items, cls->n * sizeof *ni);
        cls->items = ni;
        *cap = nc;
    }
    cls->items[cls->n++] = it;
    return true;
}

/* charProp = IsCategory: "L" [l m o t u] / "M" [c e n] / "N" [d l o] / "P" [c d e f i o s]
 *          / "Z" [l p s] / "S" [c k m o] / "C" [c f n o]; the category mask, 0 if unknown */
static uint32_t category_mask(const unsigned char *s, size_t n) {
#define C(x) (1u << UTF8PROC_CATEGORY_##x)
    static const struct { const char *name; uint32_t mask; } cats[] = {
        {"L", C(LU) | C(LL) | C(LT) | C(LM) | C(LO)}, {"Lu", C(LU)}, {"Ll", C(LL)}, {"Lt", C(LT)}, {"Lm", C(LM)}, {"Lo", C(LO)},
        {"M", C(MN) | C(MC) | C(ME)}, {"Mn", C(MN)}, {"Mc", C(MC)}, {"Me", C(ME)},
        {"N", C(ND) | C(NL) | C(NO)}, {"Nd", C(ND)}, {"Nl", C(NL)}, {"No", C(NO)},
        {"P", C(PC) | C(PD) | C(PS) | C(PE) | C(PI) | C(PF) | C(PO)}, {"Pc", C(PC)}, {"Pd", C(PD)}, {"Ps", C(PS)},
        {"Pe", C(PE)}, {"Pi", C(PI)}, {"Pf", C(PF)}, {"Po", C(PO)},
        {"Z", C(ZS) | C(ZL) | C(ZP)}, {"Zs", C(ZS)}, {"Zl", C(ZL)}, {"Zp", C(ZP)},
        {"S", C(SM) | C(SC) | C(SK) | C(SO)}, {"Sm", C(SM)}, {"Sc", C(SC)}, {"Sk", C(SK)}, {"So", C(SO)},
        {"C", C(CC) | C(CF) | C(CS) | C(CO) | C(CN)}, {"Cc", C(CC)}, {"Cf", C(CF)}, {"Cn", C(CN)}, {"Co", C(CO)},
    };
#undef C
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
        if (strlen(cats[i].name) == n && memcmp(cats[i].name, s, n) == 0) return cats[i].mask;
    return 0;
}

enum { ESC_BAD, ESC_CHAR, ESC_ITEM, ESC_WORDB, ESC_NWORDB };

/* After a backslash (p->pos at the escaped character): a single character into *cp, a class item
 * (\p{..} \P{..}; in the Flow dialect also \d \D \w \W \s \S) into *it, or (outside classes, Flow
 * dialect) \b / \B. p->pos is moved past the escape. */
static int escape(P *p, bool in_class, uint32_t *cp, Item *it) {
    size_t at = p->pos - 1;
    if (p->pos >= p->len) { perr(p, at, "a pattern cannot end with `\\`"); return ESC_BAD; }
    unsigned char e = p->s[p->pos];
    bool flow = p->d == FLOW_RE_FLOW;
    memset(it, 0, sizeof *it);
    if (e == 'p' || e == 'P') {
        if (p->pos + 1 >= p->len || p->s[p->pos + 1] != '{') { perr(p, at, "`\\%c` needs a category, as in \\%c{Lu}", e, e); return ESC_BAD; }
        size_t start = p->pos + 2, end = start;
        while (end < p->len && p->s[end] != '}' && end - start < 3) end++;
        uint32_t mask = end < p->len && p->s[end] == '}' ? category_mask(p->s + start, end - start) : 0;
        if (!mask) { perr(p, at, "unknown Unicode category in `\\%c{...}`", e); return ESC_BAD; }
        it->kind = IT_CAT;
        it->mask = mask;
        it->neg = e == 'P';
        p->pos = end + 1;
        return ESC_ITEM;
    }
    p->pos++;
    switch (e) {
    case '(': case ')': case '*': case '+': case '-': case '.': case '?': case '[': case '\\':
    case ']': case '^': case '{': case '|': case '}':
        *cp = e; return ESC_CHAR;
    case 'n': *cp = '\n'; return ESC_CHAR;
    case 'r': *cp = '\r'; return ESC_CHAR;
    case 't': *cp = '\t'; return ESC_CHAR;
    default: break;
    }
    if (flow) {
        switch (e) {
        case 'f': *cp = '\f'; return ESC_CHAR;
        case 'v': *cp = '\v'; return ESC_CHAR;
        case 'd': case 'D': it->kind = IT_DIGIT; it->neg = e == 'D'; return ESC_ITEM;
        case 'w': case 'W': it->kind = IT_WORD; it->neg = e == 'W'; return ESC_ITEM;
        case 's': case 'S': it->kind = IT_SPACE; it->neg = e == 'S'; return ESC_ITEM;
        case 'b': case 'B':
            if (in_class) break;
            return e == 'b' ? ESC_WORDB : ESC_NWORDB;
        default:
            if (e < 0x80 && e > 0x20 && !(e >= '0' && e <= '9') && !(e >= 'A' && e <= 'Z') && !(e >= 'a' && e <= 'z')) {
                *cp = e;   /* any other ASCII punctuation stands for itself */
                return ESC_CHAR;
            }
        }
        if (e >= '1' && e <= '9') { perr(p, at, "back-references (`\\%c`) are not supported", e); return ESC_BAD; }
    }
    if (e >= 0x20 && e < 0x7f) perr(p, at, "unknown escape `\\%c`", e);
    else perr(p, at, "unknown escape after `\\`");
    return ESC_BAD;
}

/* CCchar = ( %x00-2C / %x2E-5A / %x5E-D7FF / %xE000-10FFFF ) / SingleCharEsc: one character of a
 * class (a range end), or, with an escape, possibly an item. */
static int class_char(P *p, uint32_t *cp, Item *it) {
    size_t k = p->pos < p->len ? flow_u8_decode(p->s + p->pos, p->len - p->pos, cp) : 0;
    if (!k) { perr(p, p->pos, p->pos < p->len ? "invalid UTF-8" : "unterminated character class: `]` is missing"); return ESC_BAD; }
    if (*cp == '\\') { p->pos++; return escape(p, true, cp, it); }
    if (*cp == '[') { perr(p, p->pos, "`[` inside a character class must be escaped: `\\[`"); return ESC_BAD; }
    p->pos += k;
    return ESC_CHAR;
}

/* charClassExpr = "[" [ "^" ] ( "-" / CCE1 ) *CCE1 [ "-" ] "]";  CCE1 = ( CCchar [ "-" CCchar ] ) / charClassEsc */
static Node *char_class(P *p) {
    size_t open = p->pos;
    Class *cls = palloc(p, sizeof *cls);
    Node *n = node(p, N_CLASS);
    if (!cls || !n) return NULL;
    n->cls = cls;
    size_t cap = 0;
    p->pos++;   /* '[' */
    if (p->pos < p->len && p->s[p->pos] == '^') { cls->neg = true; p->pos++; }
    bool first = true;
    for (;;) {
        if (p->pos >= p->len) { perr(p, open, "unterminated character class: `]` is missing"); return NULL; }
        unsigned char c = p->s[p->pos];
        Item it;
        memset(&it, 0, sizeof it);
        if (c == ']' && !first) { p->pos++; break; }
        if (c == '-') {   /* a literal '-' first, or last before ']' */
            if (!first && !(p->pos + 1 < p->len && p->s[p->pos + 1] == ']')) {
                perr(p, p->pos, "`-` inside a character class must be first, last or escaped");
                return NULL;
            }
            p->pos++;
            it.kind = IT_RANGE;
            it.lo = it.hi = '-';
        } else {
            uint32_t lo, hi;
            size_t at = p->pos;
            int k = class_char(p, &lo, &it);
            if (k == ESC_BAD) return NULL;
            if (k == ESC_CHAR) {
                hi = lo;
                if (p->pos + 1 < p->len && p->s[p->pos] == '-' && p->s[p->pos + 1] != ']') {
                    p->pos++;
                    Item dummy;
                    k = class_char(p, &hi, &dummy);
                    if (k == ESC_BAD) return NULL;
                    if (k != ESC_CHAR) { perr(p, at, "a range in a character class needs a character at each end"); return NULL; }
                    if (hi < lo) { perr(p, at, "the range in a character class is backwards"); return NULL; }
                }
                it.kind = IT_RANGE;
                it.lo = lo;
                it.hi = hi;
            }
        }
        first = false;
        if (!add_item(p, cls, &cap, it)) return NULL;
    }
    return n;
}

static Node *alternation(P *p);

/* QuantExact = 1*DIGIT (saturated: anything over FLOW_RE_MAX_PROG cannot compile anyway) */
static bool count(P *p, long *v) {
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9') return false;
    *v = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        if (*v <= FLOW_RE_MAX_PROG) *v = *v * 10 + (p->s[p->pos] - '0');
        p->pos++;
    }
    return true;
}

/* piece = atom [ quantifier ];  atom = NormalChar / charClass / ( "(" i-regexp ")" ) */
static Node *piece(P *p) {
    uint32_t cp;
    size_t at = p->pos;
    size_t k = flow_u8_decode(p->s + p->pos, p->len - p->pos, &cp);
    if (!k) { perr(p, at, "invalid UTF-8"); return NULL; }
    Node *atom = NULL;
    switch (cp) {
    case '(': {
        p->pos++;
        int group = 0;
        if (p->pos < p->len && p->s[p->pos] == '?') {
            if (p->d != FLOW_RE_FLOW || p->pos + 1 >= p->len || p->s[p->pos + 1] != ':') {
                perr(p, at, "`(?` groups are not supported%s", p->d == FLOW_RE_FLOW ? " except `(?:...)`" : "");
                return NULL;
            }
            p->pos += 2;
        } else {
            group = ++p->groups;
        }
        Node *inner = alternation(p);
        if (!inner) return NULL;
        if (p->pos >= p->len || p->s[p->pos] != ')') { perr(p, at, "`(` is never closed"); return NULL; }
        p->pos++;
        atom = node(p, N_GROUP);
        Node **kid = palloc(p, sizeof *kid);
        if (!atom || !kid) return NULL;
        kid[0] = inner;
        atom->kids = kid;
        atom->nkids = 1;
        atom->group = group;
        break;
    }
    case '.': p->pos++; atom = node(p, N_ANY); break;
    case '^': p->pos++; atom = node(p, N_BOL); break;
    case '$': p->pos++; atom = node(p, N_EOL); break;
    case '[': atom = char_class(p); break;
    case '\\': {
        p->pos++;
        Item it;
        int e = escape(p, false, &cp, &it);
        if (e == ESC_CHAR) {
            if ((atom = node(p, N_CHAR))) atom->c = cp;
        } else if (e == ESC_ITEM) {
            atom = node(p, N_CLASS);
            Class *cls = palloc(p, sizeof *cls);
            Item *item = palloc(p, sizeof *item);
            if (!atom || !cls || !item) return NULL;
            *item = it;
            cls->n = 1;
            cls->items = item;
            atom->cls = cls;
        } else if (e == ESC_WORDB || e == ESC_NWORDB) {
            atom = node(p, e == ESC_WORDB ? N_WORDB : N_NWORDB);
        } else {
            return NULL;
        }
        break;
    }
    case ')': perr(p, at, "`)` without a matching `(`"); return NULL;
    case ']': perr(p, at, "`]` without a matching `[`: write `\\]`"); return NULL;
    case '*': case '+': case '?': case '{':
        perr(p, at, "`%c` has nothing to repeat", (char)cp);
        return NULL;
    case '}': perr(p, at, "`}` without a matching `{`: write `\\}`"); return NULL;
    default:
        p->pos += k;
        if ((atom = node(p, N_CHAR))) atom->c = cp;
    }
    if (!atom || p->bad) return NULL;
    if (p->pos >= p->len) return atom;
    long min, max;
    size_t qat = p->pos;
    switch (p->s[p->pos]) {
    case '*': min = 0; max = -1; p->pos++; break;
    case '+': min = 1; max = -1; p->pos++; break;
    case '?': min = 0; max = 1; p->pos++; break;
    case '{':
        p->pos++;
        if (!count(p, &min)) { perr(p, qat, "`{` must start a repetition count, as in {2} or {1,3}: write `\\{`"); return NULL; }
        max = min;
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            max = -1;
            if (p->pos < p->len && p->s[p->pos] != '}' && !count(p, &max)) { perr(p, qat, "invalid repetition count"); return NULL; }
            if (max >= 0 && max < min) { perr(p, qat, "the repetition count is backwards: {%ld,%ld}", min, max); return NULL; }
        }
        if (p->pos >= p->len || p->s[p->pos] != '}') { perr(p, qat, "the repetition count is not closed with `}`"); return NULL; }
        p->pos++;
        break;
    default:
        return atom;
    }
    if (atom->kind == N_BOL || atom->kind == N_EOL || atom->kind == N_WORDB || atom->kind == N_NWORDB) {
        perr(p, qat, "an anchor cannot be repeated");
        return NULL;
    }
    Node *rep = node(p, N_REP);
    Node **kid = palloc(p, sizeof *kid);
    if (!rep || !kid) return NULL;
    kid[0] = atom;
    rep->kids = kid;
    rep->nkids = 1;
    rep->min = min;
    rep->max = max;
    if (p->d == FLOW_RE_FLOW && p->pos < p->len && p->s[p->pos] == '?') { rep->lazy = true; p->pos++; }
    if (p->pos < p->len && (p->s[p->pos] == '*' || p->s[p->pos] == '+' || p->s[p->pos] == '?' || p->s[p->pos] == '{')) {
        perr(p, p->pos, "`%c` has nothing to repeat: the item before it is repeated already", p->s[p->pos]);
        return NULL;
    }
    return rep;
}

/* branch = *piece */
static Node *branch(P *p) {
    Node *cat = node(p, N_CAT);
    if (!cat) return NULL;
    size_t cap = 0;
    while (!p->bad && p->pos < p->len && p->s[p->pos] != '|' && p->s[p->pos] != ')') {
        Node *x = piece(p);
        if (!x || !add_kid(p, cat, &cap, x)) return NULL;
    }
    return p->bad ? NULL : cat;
}

/* i-regexp = branch *( "|" branch ) */
static Node *alternation(P *p) {
    if (++p->depth > FLOW_RE_MAX_NEST) { perr(p, p->pos, "groups are nested more than %d deep", FLOW_RE_MAX_NEST); return NULL; }
    Node *alt = node(p, N_ALT);
    if (!alt) return NULL;
    size_t cap = 0;
    for (;;) {
        Node *b = branch(p);
        if (!b || !add_kid(p, alt, &cap, b)) return NULL;
        if (p->pos < p->len && p->s[p->pos] == '|') { p->pos++; continue; }
        break;
    }
    p->depth--;
    return alt;
}

/* ---- compiler ---- */

/* The instructions n compiles to, saturated just above FLOW_RE_MAX_PROG. */
static size_t size_of(const Node *n) {
    size_t s = 0;
    switch (n->kind) {
    case N_CAT:
        for (size_t i = 0; i < n->nkids && s <= FLOW_RE_MAX_PROG; i++) s += size_of(n->kids[i]);
        return s;
    case N_ALT:
        for (size_t i = 0; i < n->nkids && s <= FLOW_RE_MAX_PROG; i++) s += size_of(n->kids[i]) + (i ? 2 : 0);
        return s;
    case N_GROUP:
        s = size_of(n->kids[0]);
        return s + (n->group >= 1 && n->group <= FLOW_RE_MAX_GROUPS ? 2 : 0);
    case N_REP: {
        size_t k = size_of(n->kids[0]);
        if (k > FLOW_RE_MAX_PROG) return FLOW_RE_MAX_PROG + 1;
        unsigned long long r = (unsigned long long)n->min * k;   /* counts are saturated by count() */
        if (n->max < 0) r += k + 2;
        else r += (unsigned long long)(n->max - n->min) * (k + 1);
        return r > FLOW_RE_MAX_PROG ? FLOW_RE_MAX_PROG + 1 : (size_t)r;
    }
    default:
        return 1;
    }
}

typedef struct { Inst *prog; size_t n; } Em;

static void emit(Em *em, const Node *n) {
    Inst *p = em->prog;
    switch (n->kind) {
    case N_CHAR: p[em->n].op = I_CHAR; p[em->n++].c = n->c; return;
    case N_ANY: p[em->n++].op = I_ANY; return;
    case N_BOL: p[em->n++].op = I_BOL; return;
    case N_EOL: p[em->n++].op = I_EOL; return;
    case N_WORDB: p[em->n++].op = I_WORDB; return;
    case N_NWORDB: p[em->n++].op = I_NWORDB; return;
    case N_CLASS: p[em->n].op = I_CLASS; p[em->n++].cls = n->cls; return;
    case N_CAT:
        for (size_t i = 0; i < n->nkids; i++) emit(em, n->kids[i]);
        return;
    case N_GROUP: {
        bool save = n->group >= 1 && n->group <= FLOW_RE_MAX_GROUPS;
        if (save) { p[em->n].op = I_SAVE; p[em->n++].c = (uint32_t)(2 * n->group); }
        emit(em, n->kids[0]);
        if (save) { p[em->n].op = I_SAVE; p[em->n++].c = (uint32_t)(2 * n->group + 1); }
        return;
    }
    case N_ALT: {
        /* split L1, L2; L1: a; jmp END; L2: split ...; last: z; END: (the jmps chained through x, patched) */
        size_t pending = SIZE_MAX;
        for (size_t i = 0; i < n->nkids; i++) {
            if (i + 1 < n->nkids) {
                size_t split = em->n++;
                p[split].op = I_SPLIT;
                p[split].x = split + 1;
                emit(em, n->kids[i]);
                size_t jmp = em->n++;
                p[jmp].op = I_JMP;
                p[jmp].x = pending;
                pending = jmp;
                p[split].y = em->n;
            } else {
                emit(em, n->kids[i]);
            }
        }
        while (pending != SIZE_MAX) { size_t next = p[pending].x; p[pending].x = em->n; pending = next; }
        return;
    }
    case N_REP:
        for (long i = 0; i < n->min; i++) emit(em, n->kids[0]);
        if (n->max < 0) {   /* L: split L+1, END; x; jmp L; END:   (lazy: split END, L+1) */
            size_t split = em->n++;
            p[split].op = I_SPLIT;
            emit(em, n->kids[0]);
            p[em->n].op = I_JMP;
            p[em->n++].x = split;
            if (n->lazy) { p[split].x = em->n; p[split].y = split + 1; }
            else { p[split].x = split + 1; p[split].y = em->n; }
        } else {            /* (max - min) times: split L+1, END; x   (the END ends chained, patched) */
            size_t pending = SIZE_MAX;
            for (long i = n->min; i < n->max; i++) {
                size_t split = em->n++;
                p[split].op = I_SPLIT;
                if (n->lazy) { p[split].y = split + 1; p[split].x = pending; }
                else { p[split].x = split + 1; p[split].y = pending; }
                pending = split;
                emit(em, n->kids[0]);
            }
            while (pending != SIZE_MAX) {
                size_t *end = n->lazy ? &p[pending].x : &p[pending].y;
                size_t next = *end;
                *end = em->n;
                pending = next;
            }
        }
        return;
    }
}

FlowRegex *flow_re_compile(const char *pattern, size_t len, FlowReDialect dialect, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    FlowRegex *re = calloc(1, sizeof *re);
    if (!re) { if (err && errlen) snprintf(err, errlen, "out of memory"); return NULL; }
    P p = { (const unsigned char *)pattern, 0, len, &re->mem, dialect, 0, 0, false, err, errlen };
    Node *root = alternation(&p);
    if (root && !p.bad && p.pos != len) perr(&p, p.pos, "`)` without a matching `(`");
    size_t size = root && !p.bad ? size_of(root) : 0;
    if (!p.bad && size + 3 > FLOW_RE_MAX_PROG) perr(&p, 0, "the pattern is too large (over %d instructions once repetitions are expanded)", FLOW_RE_MAX_PROG);
    if (!p.bad) {
        re->prog = ch_alloc(&re->mem, (size + 3) * sizeof *re->prog);
        if (!re->prog) perr(&p, 0, "out of memory");
    }
    if (p.bad) {
        ch_free(re->mem);
        free(re);
        return NULL;
    }
    Em em = { re->prog, 0 };
    em.prog[em.n].op = I_SAVE; em.prog[em.n++].c = 0;
    emit(&em, root);
    em.prog[em.n].op = I_SAVE; em.prog[em.n++].c = 1;
    em.prog[em.n++].op = I_MATCH;
    re->n = em.n;
    re->groups = p.groups;
    return re;
}

void flow_re_free(FlowRegex *re) {
    if (!re) return;
    ch_free(re->mem);
    free(re);
}

int flow_re_groups(const FlowRegex *re) { return re ? re->groups : 0; }
size_t flow_re_size(const FlowRegex *re) { return re ? re->n : 0; }

/* ---- the Pike VM ---- */

static bool is_word(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

static bool item_has(const Item *it, uint32_t c) {
    bool in;
    switch (it->kind) {
    case IT_RANGE: return c >= it->lo && c <= it->hi;
    case IT_CAT: in = ((it->mask >> utf8proc_category((utf8proc_int32_t)c)) & 1u) != 0; break;
    case IT_DIGIT: in = c >= '0' && c <= '9'; break;
    case IT_WORD: in = is_word(c); break;
    default: in = c == ' ' || (c >= '\t' && c <= '\r'); break;
    }
    return in != it->neg;
}

static bool class_has(const Class *cls, uint32_t c) {
    bool in = false;
    for (size_t i = 0; i < cls->n && !in; i++) in = item_has(&cls->items[i], c);
    return in != cls->neg;
}

typedef struct { size_t pc; int restore; long long val; } Ent;   /* restore >= 0: put val back in that slot */

typedef struct {
    const FlowRegex *re;
    const unsigned char *s;
    size_t len;
    size_t nslots;               /* 0 (a yes/no answer) or 2 * (FLOW_RE_MAX_GROUPS + 1) */
    size_t *mark, gen;           /* mark[pc] == gen: pc already added at this position */
    Ent *stack;
    long long *cur;              /* the capture slots of the thread being added */
    unsigned long long visits;
} Vm;

typedef struct { size_t *pc; long long *caps; size_t n; } List;

/* Adds the thread at pc0 (with the slots in vm->cur), and every thread its jumps, saves and satisfied
 * assertions reach, to l, in priority order, at subject offset at. */
static void add(Vm *vm, List *l, size_t pc0, size_t at) {
    size_t sp = 0;
    vm->stack[sp++] = (Ent){ pc0, -1, 0 };
    while (sp) {
        Ent e = vm->stack[--sp];
        if (e.restore >= 0) { vm->cur[e.restore] = e.val; continue; }
        size_t pc = e.pc;
        if (vm->mark[pc] == vm->gen) continue;
        vm->mark[pc] = vm->gen;
        vm->visits++;
        const Inst *in = &vm->re->prog[pc];
        switch (in->op) {
        case I_JMP: vm->stack[sp++] = (Ent){ in->x, -1, 0 }; break;
        case I_SPLIT:
            vm->stack[sp++] = (Ent){ in->y, -1, 0 };
            vm->stack[sp++] = (Ent){ in->x, -1, 0 };
            break;
        case I_SAVE:
            if (in->c < vm->nslots) {
                vm->stack[sp++] = (Ent){ 0, (int)in->c, vm->cur[in->c] };
                vm->cur[in->c] = (long long)at;
            }
            vm->stack[sp++] = (Ent){ pc + 1, -1, 0 };
            break;
        case I_BOL: if (at == 0) vm->stack[sp++] = (Ent){ pc + 1, -1, 0 }; break;
        case I_EOL: if (at == vm->len) vm->stack[sp++] = (Ent){ pc + 1, -1, 0 }; break;
        case I_WORDB: case I_NWORDB: {
            bool before = at > 0 && is_word(vm->s[at - 1]), after = at < vm->len && is_word(vm->s[at]);
            if ((before != after) == (in->op == I_WORDB)) vm->stack[sp++] = (Ent){ pc + 1, -1, 0 };
            break;
        }
        default:
            l->pc[l->n] = pc;
            if (vm->nslots) memcpy(l->caps + l->n * vm->nslots, vm->cur, vm->nslots * sizeof *vm->cur);
            l->n++;
        }
    }
}

/* One run from `from`: whole (anchored at both ends, one start) or search (a new start at every
 * position until something matched). With slots, m gets the preferred match's. */
static int run(const FlowRegex *re, const char *s, size_t len, size_t from, bool whole, size_t nslots, long long *m,
               unsigned long long *work, unsigned long long limit) {
    size_t n = re->n;
    *work += n;
    if (*work > limit) return -1;
    /* per pc: the two lists' pcs, its mark, and the stack (each pc pushes at most two entries) */
    size_t *buf = malloc(sizeof(size_t) * 3 * n);
    Ent *stack = malloc(sizeof(Ent) * (2 * n + 2));
    long long *caps = nslots ? malloc(sizeof(long long) * nslots * (2 * n + 1)) : NULL;
    if (!buf || !stack || (nslots && !caps)) { free(buf); free(stack); free(caps); return -2; }
    List a = { buf, caps, 0 }, b = { buf + n, caps ? caps + nslots * n : NULL, 0 };
    List *cl = &a, *nl = &b;
    Vm vm = { re, (const unsigned char *)s, len, nslots, buf + 2 * n, 1, stack, caps ? caps + 2 * nslots * n : NULL, 0 };
    memset(vm.mark, 0, n * sizeof *vm.mark);
    for (size_t i = 0; i < nslots; i++) vm.cur[i] = -1;
    bool matched = false;
    size_t at = from;
    add(&vm, cl, 0, at);
    for (;;) {
        uint32_t c = 0;
        size_t k = at < len ? u8_next(vm.s + at, len - at, &c) : 0;
        *work += vm.visits + 1;
        vm.visits = 0;
        if (*work > limit) { matched = false; break; }
        vm.gen++;
        nl->n = 0;
        bool stop = false;
        for (size_t i = 0; i < cl->n && !stop; i++) {
            const Inst *in = &re->prog[cl->pc[i]];
            const long long *tc = nslots ? cl->caps + i * nslots : NULL;
            bool ok = false;
            switch (in->op) {
            case I_MATCH:
                if (whole && at != len) break;
                matched = true;
                if (nslots) memcpy(m, tc, nslots * sizeof *m);
                stop = true;                 /* the threads after this one have lower priority */
                break;
            case I_CHAR: ok = k && c == in->c; break;
            case I_ANY: ok = k && c != '\n' && c != '\r'; break;
            case I_CLASS: ok = k && class_has(in->cls, c); break;
            default: break;
            }
            if (ok) {
                if (nslots) memcpy(vm.cur, tc, nslots * sizeof *vm.cur);
                add(&vm, nl, cl->pc[i] + 1, at + k);
            }
        }
        if (matched && !nslots) break;       /* a yes/no answer needs no more */
        if (!k) break;
        if (!matched && !whole) {            /* a new start one character on, last in priority */
            for (size_t i = 0; i < nslots; i++) vm.cur[i] = -1;
            add(&vm, nl, 0, at + k);
        }
        at += k;
        List *t = cl; cl = nl; nl = t;
        if (!cl->n && (matched || whole)) break;   /* a search with nothing yet goes on to the next start */
    }
    int r = *work > limit ? -1 : matched ? 1 : 0;
    free(buf);
    free(stack);
    free(caps);
    return r;
}

int flow_re_match(const FlowRegex *re, const char *s, size_t len, int whole, unsigned long long *work,
                  unsigned long long limit) {
    return run(re, s, len, 0, whole != 0, 0, NULL, work, limit);
}

int flow_re_search(const FlowRegex *re, const char *s, size_t len, size_t from, long long m[2 * (FLOW_RE_MAX_GROUPS + 1)],
                   unsigned long long *work, unsigned long long limit) {
    for (int i = 0; i < 2 * (FLOW_RE_MAX_GROUPS + 1); i++) m[i] = -1;
    if (from > len) return 0;
    return run(re, s, len, from, false, 2 * (FLOW_RE_MAX_GROUPS + 1), m, work, limit);
}
