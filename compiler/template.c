/* template.c — parses Handlebars/Mustache template strings into AST_TEMPLATE trees: lex tags, apply the standalone-line and `~` rules, build sections. */
#include "template.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Deepest expression inside one tag (subexpressions and path segments), and deepest section
 * nesting; together they keep every template tree within AST_MAX_DEPTH. */
#define TPL_MAX_EXPR 48
#define TPL_MAX_NESTING ((AST_MAX_DEPTH - TPL_MAX_EXPR - 4) / 2)
/* Longest piece of template text quoted in a message. */
#define TPL_QUOTE_MAX 60

typedef enum { IT_TEXT, IT_VALUE, IT_OPEN, IT_INVERTED, IT_CLOSE, IT_ELSE, IT_COMMENT, IT_SKIP } ItemKind;

/* One piece of the template in order: a run of text, or a tag. */
typedef struct {
    ItemKind k;
    size_t s, e;                 /* TEXT: its bytes (shrunk by the standalone and `~` rules); tags: the whole tag */
    size_t cs, ce;               /* tags: the content, without braces, sigil or `~` */
    unsigned char strip_l, strip_r; /* `{{~` and `~}}` */
    unsigned char raw;           /* VALUE: {{{x}}} or {{& x}} */
    unsigned char caret;         /* ELSE: written `{{^}}` */
} Item;

typedef struct {
    Arena *ar;
    Diags *diags;
    const Source *src;
    const char *t;               /* the decoded text */
    size_t n;
    int direct;                  /* offsets map to the source one to one */
    uint64_t base;               /* source offset of t[0] when direct */
    Span whole;                  /* used for every node when neither direct nor mapped */
    uint32_t *map;               /* when the literal had escapes: source offset of each decoded byte (n + 1) */
    Item *items;
    size_t nitems, cap;
    /* searches to the end that failed once fail again from any later offset: remember where, so
     * that thousands of unclosed tags cost linear time, not quadratic */
    size_t no_cc_from;           /* no `}}` at or after this offset */
    size_t no_long_close_from;   /* no `--}}` / `--~}}` at or after this offset */
    size_t no_quote_from[2];     /* no closing `"` / `'` for a quote at or after this offset */
} Tpl;

/* ---- small helpers ---- */

static Span sp(const Tpl *P, size_t i, size_t j) {
    if (P->map) {
        Span m = { P->map[i < P->n ? i : P->n], P->map[j < P->n ? j : P->n] };
        if (m.end < m.start) m.end = m.start;
        return m;
    }
    if (!P->direct) return P->whole;
    uint64_t s = P->base + i, e = P->base + j;
    Span r;
    r.start = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
    r.end = e > UINT32_MAX ? UINT32_MAX : (uint32_t)e;
    if (r.end < r.start) r.end = r.start;
    return r;
}

static int at(const Tpl *P, size_t i, char c) { return i < P->n && P->t[i] == c; }
static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Handlebars identifier characters: anything but whitespace, controls and its punctuation. */
static int is_id_char(char ch) {
    unsigned char c = (unsigned char)ch;
    if (c >= 0x80) return 1;
    if (c <= 0x20 || c == 0x7f) return 0;
    return strchr("!\"#%&'()*+,./;<=>@[\\]^`{|}~", c) == NULL;
}

static size_t skip_ws(const Tpl *P, size_t i, size_t end) {
    while (i < end && is_ws(P->t[i])) i++;
    return i;
}

static size_t trim_end(const Tpl *P, size_t s, size_t e) {
    while (e > s && is_ws(P->t[e - 1])) e--;
    return e;
}

static int eq_word(const Tpl *P, size_t s, size_t e, const char *w) {
    size_t n = strlen(w);
    return e - s == n && memcmp(P->t + s, w, n) == 0;
}

/* Length of a quoted piece of text, capped for messages. */
static int qlen(size_t n) { return n > TPL_QUOTE_MAX ? TPL_QUOTE_MAX : (int)n; }
static const char *ellipsis(size_t n) { return n > TPL_QUOTE_MAX ? "..." : ""; }

/* First "ab" at or after from, or P->n. */
static size_t find2(const Tpl *P, size_t from, char a, char b) {
    while (from + 1 < P->n) {
        const char *q = memchr(P->t + from, a, P->n - from - 1);
        if (!q) return P->n;
        size_t i = (size_t)(q - P->t);
        if (P->t[i + 1] == b) return i;
        from = i + 1;
    }
    return P->n;
}

/* First `}}` at or after from, or P->n. */
static size_t find_cc(Tpl *P, size_t from) {
    if (from >= P->no_cc_from) return P->n;
    size_t r = find2(P, from, '}', '}');
    if (r >= P->n) P->no_cc_from = from;
    return r;
}

/* The matching quote of the string opening at i (a backslash escapes the quote), or P->n.
 * A failed search from i also fails from any later quote: the scans run in step from there. */
static size_t find_quote_end(Tpl *P, size_t i) {
    char q = P->t[i];
    size_t *fail = &P->no_quote_from[q == '\''];
    if (i >= *fail) return P->n;
    for (size_t j = i + 1; j < P->n; j++) {
        if (P->t[j] == '\\' && j + 1 < P->n && P->t[j + 1] == q) { j++; continue; }
        if (P->t[j] == q) return j;
    }
    *fail = i;
    return P->n;
}

static Item *push_item(Tpl *P, ItemKind k, size_t s, size_t e) {
    if (P->nitems == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 32;
        Item *v = arena_alloc(P->ar, cap * sizeof *v);
        if (P->nitems) memcpy(v, P->items, P->nitems * sizeof *v);
        P->items = v;
        P->cap = cap;
    }
    Item *it = &P->items[P->nitems++];
    memset(it, 0, sizeof *it);
    it->k = k; it->s = s; it->e = e;
    return it;
}

static void add_text(Tpl *P, size_t s, size_t e) {
    if (s < e) push_item(P, IT_TEXT, s, e);
}

/* ---- phase 1: split the text into text runs and tags ---- */

/* Scans a comment tag; p is just after `{{!` (or `{{~!`). Returns the end of the tag. */
static size_t scan_comment(Tpl *P, size_t q, size_t p, Item *it) {
    if (at(P, p, '-') && at(P, p + 1, '-') && p + 2 < P->no_long_close_from) {   /* {{!-- ... --}} may contain }} */
        for (size_t r = find2(P, p + 2, '-', '-'); r < P->n; r = find2(P, r + 1, '-', '-')) {
            if (at(P, r + 2, '}') && at(P, r + 3, '}')) { it->ce = r; return r + 4; }
            if (at(P, r + 2, '~') && at(P, r + 3, '}') && at(P, r + 4, '}')) { it->ce = r; it->strip_r = 1; return r + 5; }
        }
        P->no_long_close_from = p + 2;
        /* no `--}}`: like Handlebars, fall back to a short comment ending at the first }} */
    }
    size_t r = find_cc(P, p);
    if (r >= P->n) {
        int long_form = at(P, p, '-') && at(P, p + 1, '-');
        diag_error(P->diags, P->src, sp(P, q, p), long_form ? "unclosed comment `{{!--`: add `--}}`"
                                                            : "unclosed comment `{{!`: add `}}`");
        it->ce = P->n;
        return P->n;
    }
    if (r > p && P->t[r - 1] == '~') { it->strip_r = 1; it->ce = r - 1; }
    else it->ce = r;
    return r + 2;
}

/* Scans the tag whose `{{` is at q, adds its item, and returns the offset just after it. */
static size_t scan_tag(Tpl *P, size_t q) {
    size_t p = q + 2;
    if (at(P, p, '{') && at(P, p + 1, '{')) {            /* {{{{raw}}}} blocks */
        size_t r = find_cc(P, p + 2);
        size_t end = p + 2;
        if (r < P->n && at(P, r + 2, '}') && at(P, r + 3, '}')) end = r + 4;
        diag_error(P->diags, P->src, sp(P, q, q + 4), "raw blocks `{{{{...}}}}` are not supported");
        push_item(P, IT_SKIP, q, end);
        return end;
    }
    Item tmp;
    memset(&tmp, 0, sizeof tmp);
    if (at(P, p, '~')) { tmp.strip_l = 1; p++; }
    int triple = 0;
    ItemKind k = IT_VALUE;
    const char *unsupported = NULL;
    if (at(P, p, '{')) { triple = 1; tmp.raw = 1; p++; }
    else if (at(P, p, '!')) {
        tmp.cs = p + 1;
        size_t end = scan_comment(P, q, p + 1, &tmp);
        Item *it = push_item(P, IT_COMMENT, q, end);
        it->cs = tmp.cs; it->ce = tmp.ce; it->strip_l = tmp.strip_l; it->strip_r = tmp.strip_r;
        return end;
    } else if (p < P->n) {
        switch (P->t[p]) {
        case '&': tmp.raw = 1; p++; break;
        case '#':
            if (at(P, p + 1, '>')) unsupported = "partial blocks `{{#> name}}` are not supported";
            else if (at(P, p + 1, '*')) unsupported = "decorators `{{#* ...}}` are not supported";
            k = IT_OPEN; p++; break;
        case '/': k = IT_CLOSE; p++; break;
        case '^': k = IT_INVERTED; p++; break;
        case '>': unsupported = "partials `{{> name}}` are not supported"; p++; break;
        case '=': unsupported = "set-delimiter tags are not supported"; p++; break;
        case '*': unsupported = "decorators `{{* ...}}` are not supported"; p++; break;
        default: break;
        }
    }
    /* find the closing braces, skipping quoted strings; a `{{` first means the tag was never closed */
    size_t i = p, ce = P->n, end = P->n;
    int closed = 0;
    while (i < P->n) {
        char c = P->t[i];
        if ((c == '"' || c == '\'') && !unsupported) {
            size_t j = find_quote_end(P, i);
            i = j < P->n ? j + 1 : i + 1;
            continue;
        }
        if (c == '{' && at(P, i + 1, '{')) { ce = end = i; break; }
        if (c == '}') {
            if (triple) {
                if (at(P, i + 1, '}') && at(P, i + 2, '}')) { ce = i; end = i + 3; closed = 1; break; }
                if (at(P, i + 1, '~') && at(P, i + 2, '}') && at(P, i + 3, '}')) {
                    tmp.strip_r = 1; ce = i; end = i + 4; closed = 1; break;
                }
                if (at(P, i + 1, '}')) {
                    diag_error(P->diags, P->src, sp(P, i, i + 2), "`{{{` must be closed by `}}}`: add `}`");
                    ce = i; end = i + 2; closed = 1; break;
                }
            } else if (at(P, i + 1, '}')) {
                ce = i; end = i + 2; closed = 1;
                if (i > p && P->t[i - 1] == '~') { tmp.strip_r = 1; ce = i - 1; }
                break;
            }
        }
        i++;
    }
    if (!closed) {
        diag_error(P->diags, P->src, sp(P, q, triple ? q + 3 : q + 2),
                   triple ? "unclosed template tag: add `}}}`" : "unclosed template tag: add `}}`");
        if (end <= q) end = q + 2;        /* cannot happen (p > q), kept for safety */
    }
    if (unsupported) {
        diag_error(P->diags, P->src, sp(P, q, end), "%s", unsupported);
        push_item(P, IT_SKIP, q, end);
        return end;
    }
    size_t cs = p;
    if (k == IT_VALUE && !triple && !tmp.raw) {          /* {{else}} / {{else if x}} */
        size_t w = skip_ws(P, cs, ce), we = w;
        while (we < ce && is_id_char(P->t[we])) we++;
        if (eq_word(P, w, we, "else")) { k = IT_ELSE; cs = we; }
    } else if (k == IT_INVERTED && skip_ws(P, cs, ce) == ce) {   /* {{^}} */
        k = IT_ELSE; tmp.caret = 1;
    }
    Item *it = push_item(P, k, q, end);
    it->cs = cs; it->ce = ce;
    it->strip_l = tmp.strip_l; it->strip_r = tmp.strip_r; it->raw = tmp.raw; it->caret = tmp.caret;
    return end;
}

static void lex(Tpl *P) {
    size_t ts = 0, s = 0;
    for (;;) {
        size_t q = find2(P, s, '{', '{');
        if (q >= P->n) { add_text(P, ts, P->n); break; }
        if (q > ts && P->t[q - 1] == '\\') {
            if (q - 1 > ts && P->t[q - 2] == '\\') {
                add_text(P, ts, q - 1);                  /* \\{{x}}: a backslash, then a real tag */
            } else {
                add_text(P, ts, q - 1);                  /* \{{x}}: literal text up to the next {{ */
                ts = q; s = q + 2;
                continue;
            }
        } else {
            add_text(P, ts, q);
        }
        ts = s = scan_tag(P, q);
    }
}

/* ---- phase 2: standalone lines and `~` whitespace control ---- */

static int standalone_kind(ItemKind k) {
    return k == IT_OPEN || k == IT_INVERTED || k == IT_CLOSE || k == IT_ELSE || k == IT_COMMENT;
}

/* Mustache: a block, else or comment tag alone on its line removes the whole line. */
static void apply_standalone(Tpl *P) {
    for (size_t k = 0; k < P->nitems; k++) {
        Item *it = &P->items[k];
        if (!standalone_kind(it->k)) continue;
        Item *prev = k > 0 ? &P->items[k - 1] : NULL;
        Item *next = k + 1 < P->nitems ? &P->items[k + 1] : NULL;
        size_t cut_left = 0;
        if (prev) {
            if (prev->k != IT_TEXT) continue;
            size_t j = prev->e;
            while (j > prev->s && (P->t[j - 1] == ' ' || P->t[j - 1] == '\t')) j--;
            if (j > prev->s) {
                if (P->t[j - 1] != '\n') continue;
            } else if (!(prev->s == 0 || P->t[prev->s - 1] == '\n')) {
                continue;
            }
            cut_left = j;
        }
        size_t cut_right = 0;
        if (next) {
            if (next->k != IT_TEXT) continue;
            size_t j = next->s;
            while (j < next->e && (P->t[j] == ' ' || P->t[j] == '\t')) j++;
            if (j < next->e && P->t[j] == '\n') cut_right = j + 1;
            else if (j + 1 < next->e && P->t[j] == '\r' && P->t[j + 1] == '\n') cut_right = j + 2;
            else if (j == next->e && k + 2 == P->nitems) cut_right = j;   /* last line, no newline */
            else continue;
        }
        if (prev) prev->e = cut_left;
        if (next) next->s = cut_right;
    }
}

/* Handlebars `{{~` and `~}}`: drop all whitespace in the adjacent text. */
static void apply_strip(Tpl *P) {
    for (size_t k = 0; k < P->nitems; k++) {
        Item *it = &P->items[k];
        if (it->k == IT_TEXT) continue;
        if (it->strip_l) {
            for (size_t j = k; j > 0 && P->items[j - 1].k == IT_TEXT; j--) {
                Item *t = &P->items[j - 1];
                t->e = trim_end(P, t->s, t->e);
                if (t->e > t->s) break;
            }
        }
        if (it->strip_r) {
            for (size_t j = k + 1; j < P->nitems && P->items[j].k == IT_TEXT; j++) {
                Item *t = &P->items[j];
                while (t->s < t->e && is_ws(P->t[t->s])) t->s++;
                if (t->e > t->s) break;
            }
        }
    }
}

/* ---- expressions inside a tag ---- */

typedef struct {
    Tpl *P;
    size_t i, end;
    int depth;                   /* open subexpressions */
    int bailed;                  /* gave up on a too-deep tag: no more errors for it */
} Ex;

static int ex_more(Ex *x) {
    x->i = skip_ws(x->P, x->i, x->end);
    return x->i < x->end;
}

static AstNode *err_node(Tpl *P, size_t s, size_t e) { return ast_new(P->ar, AST_ERROR, sp(P, s, e)); }

static void unexpected(Tpl *P, size_t i) {
    unsigned char c = (unsigned char)P->t[i];
    if (c > 0x20 && c < 0x7f) diag_error(P->diags, P->src, sp(P, i, i + 1), "unexpected `%c` in template tag", c);
    else diag_error(P->diags, P->src, sp(P, i, i + 1), "unexpected byte 0x%02x in template tag", c);
}

static AstNode *ex_atom(Ex *x);

/* A name a helper call may start with: a plain identifier. */
static int is_helper_name(const AstNode *n) {
    return n && n->kind == AST_NAME && !n->name_quoted && n->name[0] != '@' && n->name[0] != '.'
        && strcmp(n->name, "this") != 0;
}

static AstNode *ex_string(Ex *x) {
    Tpl *P = x->P;
    size_t s = x->i;
    char q = P->t[s];
    char *buf = arena_alloc(P->ar, x->end - s + 1);
    size_t o = 0, j = s + 1;
    while (j < x->end && P->t[j] != q) {
        if (P->t[j] == '\\' && j + 1 < x->end && P->t[j + 1] == q) { buf[o++] = q; j += 2; continue; }
        buf[o++] = P->t[j++];
    }
    if (j >= x->end) {
        diag_error(P->diags, P->src, sp(P, s, x->end), "unterminated string in template tag: add the closing `%c`", q);
        x->i = x->end;
    } else {
        x->i = j + 1;
    }
    buf[o] = 0;
    AstNode *n = ast_new(P->ar, AST_STR, sp(P, s, x->i));
    n->str = buf;
    n->slen = o;
    return n;
}

/* A number literal, or NULL (nothing consumed) when the digits run on into a name such as `1st`. */
static AstNode *ex_number(Ex *x) {
    Tpl *P = x->P;
    size_t s = x->i, j = s;
    if (P->t[j] == '-') j++;
    while (j < x->end && is_digit(P->t[j])) j++;
    int frac = 0;
    if (j + 1 < x->end && P->t[j] == '.' && is_digit(P->t[j + 1])) {
        frac = 1;
        j++;
        while (j < x->end && is_digit(P->t[j])) j++;
    }
    if (j < x->end && !is_ws(P->t[j]) && P->t[j] != ')') return NULL;
    x->i = j;
    char *txt = arena_strndup(P->ar, P->t + s, j - s);
    if (frac) {
        AstNode *n = ast_new(P->ar, AST_NUM, sp(P, s, j));
        n->num = strtod(txt, NULL);
        return n;
    }
    AstNode *n = ast_new(P->ar, AST_INT, sp(P, s, j));
    int neg = txt[0] == '-';
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (const char *c = txt + neg; *c; c++) {
        unsigned d = (unsigned)(*c - '0');
        if (v > (lim - d) / 10) {
            diag_error(P->diags, P->src, sp(P, s, j), "integer `%.*s%s` is too large", qlen(j - s), txt, ellipsis(j - s));
            v = 0;
            break;
        }
        v = v * 10 + d;
    }
    n->ival = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    n->op = n->ival == INT64_MIN;   /* written with its minus (see AST_INT in lower.c) */
    return n;
}

/* A `[literal]` segment starting at i (the `[`); sets *name and returns the offset after it. */
static size_t ex_bracket(Ex *x, size_t i, const char **name, Span *nsp) {
    Tpl *P = x->P;
    const char *close = memchr(P->t + i + 1, ']', x->end - i - 1);
    size_t e = close ? (size_t)(close - P->t) : x->end;
    if (!close) diag_error(P->diags, P->src, sp(P, i, i + 1), "unclosed `[` in template path: add `]`");
    else if (e == i + 1) diag_error(P->diags, P->src, sp(P, i, e + 1), "empty `[]` in template path: put a field name inside");
    *name = arena_strndup(P->ar, P->t + i + 1, e - i - 1);
    *nsp = sp(P, i + 1, e);
    return close ? e + 1 : e;
}

static AstNode *named(Tpl *P, AstKind k, size_t s, size_t e, const char *name, Span nsp, int quoted) {
    AstNode *n = ast_named(P->ar, k, sp(P, s, e), name, nsp);
    n->name_quoted = quoted;
    return n;
}

/* A path: `a.b.c`, `this.x`, `.`, `../x`, `@index`, `a.[odd key]`, `a.0`; also true/false/null. */
static AstNode *ex_path(Ex *x) {
    Tpl *P = x->P;
    const char *t = P->t;
    size_t s = x->i, i = s;
    AstNode *node;
    int plain_word = 0;
    if (t[i] == '@') {
        size_t j = i + 1;
        while (j < x->end && is_id_char(t[j])) j++;
        if (j == i + 1) {
            diag_error(P->diags, P->src, sp(P, i, i + 1), "expected a name after `@`, as in `@index`");
            x->i = i + 1;
            return err_node(P, i, i + 1);
        }
        node = named(P, AST_NAME, i, j, arena_strndup(P->ar, t + i, j - i), sp(P, i, j), 0);
        i = j;
    } else if (t[i] == '.') {
        if (i + 1 < x->end && t[i + 1] == '.') {         /* ../ parent context, as a name "..", "../.." */
            for (;;) {
                i += 2;
                if (i + 2 < x->end && t[i] == '/' && t[i + 1] == '.' && t[i + 2] == '.') { i++; continue; }
                break;
            }
            node = named(P, AST_NAME, s, i, arena_strndup(P->ar, t + s, i - s), sp(P, s, i), 0);
        } else {
            i++;
            node = named(P, AST_NAME, s, i, "this", sp(P, s, i), 0);
            if (i < x->end && (is_id_char(t[i]) || t[i] == '[')) {
                diag_error(P->diags, P->src, sp(P, s, i + 1), "unexpected `.` before a name: write `this.name`, or just `name`");
                i--;                                     /* read the rest as `this.name` */
            }
        }
    } else if (t[i] == '[') {
        const char *nm; Span nsp;
        size_t j = ex_bracket(x, i, &nm, &nsp);
        node = named(P, AST_NAME, i, j, nm, nsp, 1);
        i = j;
    } else {
        size_t j = i;
        while (j < x->end && is_id_char(t[j])) j++;
        node = named(P, AST_NAME, i, j, arena_strndup(P->ar, t + i, j - i), sp(P, i, j), 0);
        plain_word = 1;
        i = j;
    }
    int segs = 0, too_long = 0;
    while (i < x->end && (t[i] == '.' || t[i] == '/')) {
        size_t sep = i++;
        const char *nm;
        Span nsp;
        int quoted = 0;
        if (i < x->end && t[i] == '[') {
            i = ex_bracket(x, i, &nm, &nsp);
            quoted = 1;
        } else if (i < x->end && is_id_char(t[i])) {
            size_t j = i;
            while (j < x->end && is_id_char(t[j])) j++;
            nm = arena_strndup(P->ar, t + i, j - i);
            nsp = sp(P, i, j);
            i = j;
        } else {
            diag_error(P->diags, P->src, sp(P, sep, sep + 1), "expected a field name after `%c` in template path", t[sep]);
            while (i < x->end && (is_id_char(t[i]) || t[i] == '.' || t[i] == '/' || t[i] == '[' || t[i] == ']')) i++;
            break;
        }
        if (++segs >= TPL_MAX_EXPR) {
            if (!too_long) diag_error(P->diags, P->src, sp(P, s, i), "template path is too long (more than %d fields)", TPL_MAX_EXPR - 1);
            too_long = 1;
            continue;
        }
        AstNode *f = ast_node1(P->ar, AST_FIELD, sp(P, s, i), node);
        ast_set_name(f, nm, nsp);
        f->name_quoted = quoted;
        node = f;
    }
    x->i = i;
    if (plain_word && segs == 0) {
        AstNode *lit = NULL;
        if (strcmp(node->name, "true") == 0 || strcmp(node->name, "false") == 0) {
            lit = ast_new(P->ar, AST_BOOL, node->span);
            lit->ival = node->name[0] == 't';
        } else if (strcmp(node->name, "null") == 0 || strcmp(node->name, "undefined") == 0) {
            lit = ast_new(P->ar, AST_NULL, node->span);
        }
        if (lit) return lit;
    }
    return node;
}

/* Does `as |` (Handlebars block parameters) start at i? */
static int at_block_params(const Ex *x) {
    const Tpl *P = x->P;
    size_t i = x->i;
    if (i + 2 > x->end || P->t[i] != 'a' || P->t[i + 1] != 's') return 0;
    size_t j = skip_ws(P, i + 2, x->end);
    return j > i + 2 && j < x->end && P->t[j] == '|';
}

/* Arguments of a helper call up to the end of the tag (or the `)` of a subexpression, not consumed).
 * Returns the offset just after the last argument (x->i when there is none). */
static size_t ex_args(Ex *x, AstNode *call, int in_paren) {
    Tpl *P = x->P;
    const char *t = P->t;
    size_t last = x->i;
    while (ex_more(x)) {
        size_t i = x->i;
        if (t[i] == ')') {
            if (in_paren) return last;
            diag_error(P->diags, P->src, sp(P, i, i + 1), "unexpected `)` in template tag");
            x->i++;
            continue;
        }
        if (at_block_params(x)) {
            diag_error(P->diags, P->src, sp(P, i, x->end),
                       "block parameters `as |name|` are not supported: use `this` and `@index` inside the block");
            x->i = x->end;
            return last;
        }
        if (is_id_char(t[i])) {                          /* key=value */
            size_t j = i;
            while (j < x->end && is_id_char(t[j])) j++;
            size_t k = skip_ws(P, j, x->end);
            if (k < x->end && t[k] == '=') {
                x->i = k + 1;
                AstNode *val;
                if (!ex_more(x) || t[x->i] == ')') {
                    diag_error(P->diags, P->src, sp(P, i, k + 1), "missing value after `%.*s=`", qlen(j - i), t + i);
                    val = err_node(P, k, k + 1);
                } else {
                    val = ex_atom(x);
                }
                AstNode *na = ast_node1(P->ar, AST_NAMEDARG, sp(P, i, x->i), val);
                ast_set_name(na, arena_strndup(P->ar, t + i, j - i), sp(P, i, j));
                ast_push(P->ar, call, na);
                last = x->i;
                continue;
            }
        }
        ast_push(P->ar, call, ex_atom(x));
        last = x->i;
    }
    return last;
}

static AstNode *ex_subexpr(Ex *x) {
    Tpl *P = x->P;
    size_t open = x->i++;
    if (x->depth >= TPL_MAX_EXPR) {
        diag_error(P->diags, P->src, sp(P, open, open + 1), "template expression nested too deeply (more than %d levels)", TPL_MAX_EXPR);
        x->i = x->end;
        x->bailed = 1;
        return err_node(P, open, x->end);
    }
    if (!ex_more(x)) {
        diag_error(P->diags, P->src, sp(P, open, open + 1), "unclosed `(` in template tag: add `)`");
        return err_node(P, open, x->end);
    }
    if (P->t[x->i] == ')') {
        diag_error(P->diags, P->src, sp(P, open, x->i + 1), "empty `()` in template tag: write a helper call such as `(lowercase x)`");
        x->i++;
        return err_node(P, open, x->i);
    }
    x->depth++;
    size_t hs = x->i;
    AstNode *head = ex_atom(x);
    AstNode *call = ast_new(P->ar, AST_CALL, sp(P, open, x->i));
    call->op = 1;
    if (is_helper_name(head)) {
        ast_set_name(call, head->name, head->span);
    } else {
        if (head->kind != AST_ERROR)
            diag_error(P->diags, P->src, head->span, "`%.*s%s` is not a helper name: a subexpression starts with a helper, as in `(lowercase x)`",
                       qlen(x->i - hs), P->t + hs, ellipsis(x->i - hs));
        ast_set_name(call, "?", head->span);
    }
    ex_args(x, call, 1);
    x->depth--;
    if (x->i < x->end && P->t[x->i] == ')') x->i++;
    else if (!x->bailed) diag_error(P->diags, P->src, sp(P, open, open + 1), "unclosed `(` in template tag: add `)`");
    call->span = sp(P, open, x->i);
    return call;
}

/* One argument: a path, a literal or a (subexpression). Always consumes at least one byte. */
static AstNode *ex_atom(Ex *x) {
    Tpl *P = x->P;
    size_t i = x->i;
    char c = P->t[i];
    if (c == '(') return ex_subexpr(x);
    if (c == '"' || c == '\'') return ex_string(x);
    if (is_digit(c) || (c == '-' && i + 1 < x->end && is_digit(P->t[i + 1]))) {
        AstNode *num = ex_number(x);
        if (num) return num;
    }
    if (c == '@' || c == '.' || c == '[' || is_id_char(c)) return ex_path(x);
    unexpected(P, i);
    x->i = i + 1;
    return err_node(P, i, i + 1);
}

static AstNode *limit_depth(Tpl *P, AstNode *e) {
    if (e && e->depth > TPL_MAX_EXPR) {
        diag_error(P->diags, P->src, e->span, "template expression nested too deeply (more than %d levels)", TPL_MAX_EXPR);
        return ast_new(P->ar, AST_ERROR, e->span);
    }
    return e;
}

/* The expression of a tag: one path or literal, or `helper arg ... key=value ...`. NULL when empty. */
static AstNode *ex_tag(Ex *x) {
    Tpl *P = x->P;
    if (!ex_more(x)) return NULL;
    size_t s = x->i;
    AstNode *head = ex_atom(x);
    size_t he = x->i;
    if (!ex_more(x)) return limit_depth(P, head);
    AstNode *call = ast_new(P->ar, AST_CALL, sp(P, s, x->end));
    call->op = 1;
    size_t last = ex_args(x, call, 0);
    if (call->kids.n == 0) return limit_depth(P, head);   /* only stray `)`s followed: already reported */
    if (is_helper_name(head)) {
        ast_set_name(call, head->name, head->span);
    } else {
        if (head->kind != AST_ERROR)
            diag_error(P->diags, P->src, head->span,
                       "`%.*s%s` is not a helper name: a helper call starts with a plain name, as in `{{lowercase x}}`",
                       qlen(he - s), P->t + s, ellipsis(he - s));
        ast_set_name(call, "?", head->span);
    }
    call->span = sp(P, s, last);
    return limit_depth(P, call);
}

/* ---- phase 3: build the tree ---- */

typedef struct {
    const char *name;            /* if | unless | each | with | section | inverted */
    Span name_span;
    AstNode *a, *b, *c, *cur;    /* cur: b, or c after {{else}} */
    size_t open_s, body_s;       /* open tag start; start of the current part */
    size_t key_s, key_e;         /* what the closing tag must say (offsets into the text) */
    char sigil;                  /* '#' or '^', for messages */
    int chained;                 /* an {{else if}} link: closed by the closing tag of the frame below */
} Frame;

typedef struct {
    Frame *v;
    int n, cap;
    AstNode *root;
    int ignored;                 /* sections opened past the nesting limit, skipped */
    int too_deep_reported;
} Builder;

static AstNode *cur_tmpl(Builder *B) { return B->n ? B->v[B->n - 1].cur : B->root; }

static Frame *push_frame(Tpl *P, Builder *B) {
    if (B->n == B->cap) {
        int cap = B->cap ? B->cap * 2 : 16;
        Frame *v = arena_alloc(P->ar, sizeof *v * (size_t)cap);
        if (B->n) memcpy(v, B->v, sizeof *v * (size_t)B->n);
        B->v = v;
        B->cap = cap;
    }
    Frame *f = &B->v[B->n++];
    memset(f, 0, sizeof *f);
    return f;
}

/* Closes the top frame: its section (complete now, so its depth is right) joins the enclosing part. */
static void finalize_top(Tpl *P, Builder *B, size_t part_end, size_t sec_end) {
    Frame *f = &B->v[B->n - 1];
    f->cur->span = sp(P, f->body_s, part_end);
    if (f->chained) sec_end = part_end;          /* the closing tag belongs to the first section of the chain */
    AstNode *sec = ast_node3(P->ar, AST_TPL_SECTION, sp(P, f->open_s, sec_end), f->a, f->b, f->c);
    ast_set_name(sec, f->name, f->name_span);
    B->n--;
    ast_push(P->ar, cur_tmpl(B), sec);
}

static void flush_text(Tpl *P, Builder *B, size_t from, size_t to) {
    size_t total = 0, s0 = 0, e0 = 0;
    int any = 0;
    for (size_t k = from; k < to; k++) {
        const Item *it = &P->items[k];
        if (it->k != IT_TEXT || it->e <= it->s) continue;
        total += it->e - it->s;
        if (!any) s0 = it->s;
        e0 = it->e;
        any = 1;
    }
    if (!any) return;
    char *buf = arena_alloc(P->ar, total + 1);
    size_t o = 0;
    for (size_t k = from; k < to; k++) {
        const Item *it = &P->items[k];
        if (it->k != IT_TEXT || it->e <= it->s) continue;
        memcpy(buf + o, P->t + it->s, it->e - it->s);
        o += it->e - it->s;
    }
    buf[o] = 0;
    AstNode *n = ast_new(P->ar, AST_TPL_TEXT, sp(P, s0, e0));
    n->str = buf;
    n->slen = total;
    ast_push(P->ar, cur_tmpl(B), n);
}

typedef enum { BH_NONE, BH_ONE, BH_CALL } BlockHelper;

static BlockHelper block_helper(const Tpl *P, size_t s, size_t e) {
    static const char *const one[] = { "if", "unless", "each", "with" };
    static const char *const call[] = { "compare", "and", "or", "eq" };
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) if (eq_word(P, s, e, one[i])) return BH_ONE;
    for (size_t i = 0; i < sizeof call / sizeof call[0]; i++) if (eq_word(P, s, e, call[i])) return BH_CALL;
    return BH_NONE;
}

static const char *helper_section_name(const Tpl *P, size_t s, size_t e) {
    if (eq_word(P, s, e, "unless")) return "unless";
    if (eq_word(P, s, e, "each")) return "each";
    if (eq_word(P, s, e, "with")) return "with";
    return "if";                 /* if, and compare / and / or / eq as conditions */
}

/* Fills f->name, a and name_span for block helper word [ws, we) whose arguments run to ce. */
static void open_helper(Tpl *P, Frame *f, BlockHelper bh, size_t ws, size_t we, size_t ce, size_t tag_s, size_t tag_e) {
    Ex x = { P, we, ce, 0, 0 };
    AstNode *args = ast_new(P->ar, AST_CALL, sp(P, ws, ce));
    args->op = 1;
    ast_set_name(args, arena_strndup(P->ar, P->t + ws, we - ws), sp(P, ws, we));
    size_t last = ex_args(&x, args, 0);
    f->name = helper_section_name(P, ws, we);
    f->name_span = sp(P, ws, we);
    int wl = (int)(we - ws);
    const char *w = P->t + ws;
    if (bh == BH_CALL) {
        if (args->kids.n == 0)
            diag_error(P->diags, P->src, sp(P, tag_s, tag_e), "`{{#%.*s}}` needs arguments, as in `{{#%.*s a b}}`", wl, w, wl, w);
        args->span = sp(P, ws, last > we ? last : we);
        f->a = limit_depth(P, args);
        return;
    }
    int npos = 0;
    AstNode *first = NULL, *second = NULL;
    for (int i = 0; i < args->kids.n; i++) {
        AstNode *k = args->kids.items[i];
        if (k->kind == AST_NAMEDARG) {
            diag_error(P->diags, P->src, k->span, "`{{#%.*s}}` takes no `name=value` arguments", wl, w);
            continue;
        }
        if (npos == 0) first = k;
        else if (npos == 1) second = k;
        npos++;
    }
    if (!first) {
        const char *what = f->name[0] == 'e' ? "a list, as in `{{#each record.items}}`"
                         : f->name[0] == 'w' ? "a value, as in `{{#with record.customer}}`"
                         : f->name[0] == 'u' ? "a condition, as in `{{#unless record.paid}}`"
                                              : "a condition, as in `{{#if record.paid}}`";
        diag_error(P->diags, P->src, sp(P, tag_s, tag_e), "`{{#%.*s}}` needs %s", wl, w, what);
        f->a = err_node(P, tag_s, tag_e);
        return;
    }
    if (second)
        diag_error(P->diags, P->src, second->span,
                   "`{{#%.*s}}` takes one argument: to test a helper, use a subexpression, as in `{{#%.*s (eq a b)}}`", wl, w, wl, w);
    f->a = limit_depth(P, first);
}

/* A Mustache section `{{#path}}` or inverted section `{{^path}}`. */
static void open_section(Tpl *P, Frame *f, int inverted, size_t cs, size_t ce) {
    Ex x = { P, cs, ce, 0, 0 };
    AstNode *e = ex_tag(&x);
    size_t ks = skip_ws(P, cs, ce), ke = trim_end(P, ks, ce);
    f->name = inverted ? "inverted" : "section";
    f->name_span = sp(P, ks, ke);
    if (e && e->kind == AST_CALL && ks < ke && P->t[ks] != '(') {
        size_t we = ks;
        while (we < ke && is_id_char(P->t[we])) we++;
        if (inverted)
            diag_error(P->diags, P->src, sp(P, ks, ke), "`{{^%.*s}}` takes a single name: an inverted section cannot call a helper",
                       qlen(we - ks), P->t + ks);
        else
            diag_error(P->diags, P->src, sp(P, ks, we),
                       "`{{#%.*s}}` is not a block helper: use #if, #unless, #each, #with, #compare, #and, #or or #eq",
                       qlen(we - ks), P->t + ks);
        if (we > ks) f->key_e = we;          /* its closing tag most likely names just the helper */
    }
    f->a = e;
}

static void report_nesting(Tpl *P, Builder *B, const Item *it) {
    if (!B->too_deep_reported)
        diag_error(P->diags, P->src, sp(P, it->s, it->e), "template sections nested too deeply (more than %d levels)", TPL_MAX_NESTING);
    B->too_deep_reported = 1;
}

static void on_open(Tpl *P, Builder *B, const Item *it) {
    if (B->ignored || B->n >= TPL_MAX_NESTING) {
        report_nesting(P, B, it);
        B->ignored++;
        return;
    }
    size_t ws = skip_ws(P, it->cs, it->ce), we = ws;
    if (ws >= it->ce) {
        diag_error(P->diags, P->src, sp(P, it->s, it->e), "empty section tag `{{#}}`: add a name, as in `{{#if x}}`");
        return;
    }
    while (we < it->ce && is_id_char(P->t[we])) we++;
    Frame *f = push_frame(P, B);
    f->open_s = it->s;
    f->body_s = it->e;
    f->sigil = it->k == IT_OPEN ? '#' : '^';
    BlockHelper bh = it->k == IT_OPEN && (we == it->ce || is_ws(P->t[we])) ? block_helper(P, ws, we) : BH_NONE;
    if (bh != BH_NONE) {
        f->key_s = ws; f->key_e = we;
        open_helper(P, f, bh, ws, we, it->ce, it->s, it->e);
    } else {
        f->key_s = ws; f->key_e = trim_end(P, ws, it->ce);
        open_section(P, f, it->k == IT_INVERTED, it->cs, it->ce);
    }
    if (!f->a) f->a = err_node(P, it->s, it->e);
    f->b = ast_new(P->ar, AST_TEMPLATE, sp(P, it->e, it->e));
    f->cur = f->b;
}

static int root_of(const Builder *B, int i) {
    while (i > 0 && B->v[i].chained) i--;
    return i;
}

static void on_else(Tpl *P, Builder *B, const Item *it) {
    const char *tag = it->caret ? "{{^}}" : "{{else}}";
    if (B->ignored) return;
    if (!B->n) {
        diag_error(P->diags, P->src, sp(P, it->s, it->e), "`%s` outside a section", tag);
        return;
    }
    Frame *f = &B->v[B->n - 1];
    const Frame *r = &B->v[root_of(B, B->n - 1)];
    int kl = (int)(r->key_e - r->key_s);
    if (f->c) {
        diag_error(P->diags, P->src, sp(P, it->s, it->e), "second `%s` in `{{%c%.*s%s}}`: a section has at most one",
                   tag, r->sigil, qlen((size_t)kl), P->t + r->key_s, ellipsis((size_t)kl));
        return;
    }
    /* {{else if x}} and friends: the else part holds one more section, closed by the same closing tag */
    size_t ws = skip_ws(P, it->cs, it->ce), we = ws;
    while (we < it->ce && is_id_char(P->t[we])) we++;
    BlockHelper bh = BH_NONE;
    if (!it->caret && ws < it->ce) {
        bh = (we == it->ce || is_ws(P->t[we])) ? block_helper(P, ws, we) : BH_NONE;
        if (bh == BH_NONE) {
            size_t e = trim_end(P, ws, it->ce);
            diag_error(P->diags, P->src, sp(P, ws, e), "`{{else %.*s%s}}`: expected `{{else}}` or a block helper, as in `{{else if x}}`",
                       qlen(e - ws), P->t + ws, ellipsis(e - ws));
        } else if (B->n >= TPL_MAX_NESTING) {
            report_nesting(P, B, it);    /* too long a chain: the rest stays in the current part */
            return;
        }
    }
    f->cur->span = sp(P, f->body_s, it->s);
    f->c = ast_new(P->ar, AST_TEMPLATE, sp(P, it->e, it->e));
    f->cur = f->c;
    f->body_s = bh == BH_NONE ? it->e : it->s;   /* an {{else if}} part holds the section that starts at the tag */
    if (bh == BH_NONE) return;
    size_t key_s = r->key_s, key_e = r->key_e;
    char sigil = r->sigil;
    Frame *g = push_frame(P, B);                 /* may move the stack: f and r are stale from here */
    g->open_s = it->s;
    g->body_s = it->e;
    g->sigil = sigil;
    g->key_s = key_s; g->key_e = key_e;
    g->chained = 1;
    open_helper(P, g, bh, ws, we, it->ce, it->s, it->e);
    if (!g->a) g->a = err_node(P, it->s, it->e);
    g->b = ast_new(P->ar, AST_TEMPLATE, sp(P, it->e, it->e));
    g->cur = g->b;
}

static void on_close(Tpl *P, Builder *B, const Item *it) {
    if (B->ignored) { B->ignored--; return; }
    size_t ks = skip_ws(P, it->cs, it->ce), ke = trim_end(P, ks, it->ce);
    int kl = (int)(ke - ks);
    if (ks >= ke) {
        diag_error(P->diags, P->src, sp(P, it->s, it->e), "empty closing tag `{{/}}`: name the section it closes, as in `{{/if}}`");
        return;
    }
    if (!B->n) {
        diag_error(P->diags, P->src, sp(P, it->s, it->e), "`{{/%.*s%s}}` without an opening section",
                   qlen((size_t)kl), P->t + ks, ellipsis((size_t)kl));
        return;
    }
    int r = root_of(B, B->n - 1);
    const Frame *f = &B->v[r];
    int target = r;
    if (!(f->key_e - f->key_s == (size_t)kl && memcmp(P->t + f->key_s, P->t + ks, (size_t)kl) == 0)) {
        int fl = (int)(f->key_e - f->key_s);
        diag_error(P->diags, P->src, sp(P, it->s, it->e), "`{{/%.*s%s}}` closes `{{%c%.*s%s}}`",
                   qlen((size_t)kl), P->t + ks, ellipsis((size_t)kl), f->sigil, qlen((size_t)fl), P->t + f->key_s, ellipsis((size_t)fl));
        for (int i = r - 1; i >= 0; i--) {       /* an outer section it does match: close the ones in between */
            const Frame *g = &B->v[i];
            if (!g->chained && g->key_e - g->key_s == (size_t)kl && memcmp(P->t + g->key_s, P->t + ks, (size_t)kl) == 0) {
                target = i;
                break;
            }
        }
    }
    while (B->n > target + 1) finalize_top(P, B, it->s, it->s);   /* left open: they end where the tag starts */
    finalize_top(P, B, it->s, it->e);
}

static AstNode *build(Tpl *P, Span whole) {
    Builder B;
    memset(&B, 0, sizeof B);
    B.root = ast_new(P->ar, AST_TEMPLATE, whole);
    size_t pend = 0;
    int pending = 0;
    for (size_t k = 0; k < P->nitems; k++) {
        const Item *it = &P->items[k];
        if (it->k == IT_TEXT) {
            if (!pending) { pend = k; pending = 1; }
            continue;
        }
        if (it->k == IT_COMMENT || it->k == IT_SKIP) continue;
        if (pending) { flush_text(P, &B, pend, k); pending = 0; }
        switch (it->k) {
        case IT_VALUE: {
            Ex x = { P, it->cs, it->ce, 0, 0 };
            AstNode *e = ex_tag(&x);
            if (!e) {
                diag_error(P->diags, P->src, sp(P, it->s, it->e), "empty template tag `%.*s%s`: put a name inside, as in `{{record.id}}`",
                           qlen(it->e - it->s), P->t + it->s, ellipsis(it->e - it->s));
                break;
            }
            AstNode *v = ast_node1(P->ar, AST_TPL_VALUE, sp(P, it->s, it->e), e);
            v->op = it->raw ? 1 : 0;
            ast_push(P->ar, cur_tmpl(&B), v);
            break;
        }
        case IT_OPEN: case IT_INVERTED: on_open(P, &B, it); break;
        case IT_ELSE: on_else(P, &B, it); break;
        case IT_CLOSE: on_close(P, &B, it); break;
        default: break;
        }
    }
    if (pending) flush_text(P, &B, pend, P->nitems);
    while (B.n) {
        const Frame *f = &B.v[B.n - 1];
        if (!f->chained) {
            int kl = (int)(f->key_e - f->key_s);
            size_t we = f->key_s;
            while (we < f->key_e && is_id_char(P->t[we])) we++;
            int cl = f->sigil == '#' && block_helper(P, f->key_s, we) != BH_NONE ? (int)(we - f->key_s) : kl;
            diag_error(P->diags, P->src, sp(P, f->open_s, f->open_s + 2), "unclosed `{{%c%.*s%s}}` section: add `{{/%.*s%s}}`",
                       f->sigil, qlen((size_t)kl), P->t + f->key_s, ellipsis((size_t)kl),
                       qlen((size_t)cl), P->t + f->key_s, ellipsis((size_t)cl));
        }
        finalize_top(P, &B, P->n, P->n);
    }
    return B.root;
}

/* ---- API ---- */

int tpl_is_template(const char *s, size_t len) {
    if (!s || len < 2) return 0;
    for (const char *p = s, *end = s + len - 1; p < end; p++) {
        p = memchr(p, '{', (size_t)(end - p));
        if (!p) return 0;
        if (p[1] == '{') return 1;
    }
    return 0;
}

static AstNode *run(Tpl *P, Span whole) {
    lex(P);
    apply_standalone(P);
    apply_strip(P);
    return build(P, whole);
}

/* Maps each byte of the decoded text back to the source, undoing the lexer's escapes (\" \\ \/ \n
 * \t \r \uXXXX, surrogate pairs). NULL when the raw text does not decode to exactly n bytes. */
static uint32_t *escape_map(Arena *ar, const char *raw, size_t rn, uint32_t base, size_t n) {
    uint32_t *m = arena_alloc(ar, sizeof(uint32_t) * (n + 1));
    size_t o = 0;
    for (size_t i = 0; i < rn;) {
        uint32_t at_src = base + (uint32_t)i;
        size_t out = 1, used = 1;
        if (raw[i] == '\\' && i + 1 < rn) {
            used = 2;
            if (raw[i + 1] == 'u' && i + 6 <= rn) {
                unsigned cp = (unsigned)strtoul((char[5]){ raw[i + 2], raw[i + 3], raw[i + 4], raw[i + 5], 0 }, NULL, 16);
                used = 6;
                if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= rn && raw[i + 6] == '\\' && raw[i + 7] == 'u') { used = 12; cp = 0x10000; }
                out = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            }
        }
        for (size_t k = 0; k < out; k++) {
            if (o >= n) return NULL;
            m[o++] = at_src;
        }
        i += used;
    }
    if (o != n) return NULL;
    m[n] = base + (uint32_t)rn;
    return m;
}

AstNode *tpl_parse(Arena *ar, Diags *diags, const Source *src, const AstNode *str_node) {
    Span whole = str_node ? str_node->span : (Span){ 0, 0 };
    if (!str_node || !str_node->str) return ast_new(ar, AST_TEMPLATE, whole);
    Tpl P;
    memset(&P, 0, sizeof P);
    P.ar = ar; P.diags = diags; P.src = src;
    P.t = str_node->str; P.n = str_node->slen;
    P.whole = whole;
    P.no_cc_from = P.no_long_close_from = P.no_quote_from[0] = P.no_quote_from[1] = SIZE_MAX;
    P.base = (uint64_t)whole.start + 1;
    P.direct = src && whole.end >= whole.start + 2 && (size_t)(whole.end - whole.start - 2) == P.n
            && whole.end <= src->len && memcmp(src->text + whole.start + 1, P.t, P.n) == 0;
    if (!P.direct && src && whole.end >= whole.start + 2 && whole.end <= src->len)
        P.map = escape_map(ar, src->text + whole.start + 1, whole.end - whole.start - 2, whole.start + 1, P.n);
    return run(&P, whole);
}

AstNode *tpl_parse_text(Arena *ar, Diags *diags, const Source *src, const char *text, size_t len, uint32_t base_offset) {
    uint64_t e = (uint64_t)base_offset + len;
    Span whole = { base_offset, e > UINT32_MAX ? UINT32_MAX : (uint32_t)e };
    if (!text) return ast_new(ar, AST_TEMPLATE, whole);
    Tpl P;
    memset(&P, 0, sizeof P);
    P.ar = ar; P.diags = diags; P.src = src;
    P.t = text; P.n = len;
    P.whole = whole;
    P.no_cc_from = P.no_long_close_from = P.no_quote_from[0] = P.no_quote_from[1] = SIZE_MAX;
    P.base = base_offset;
    P.direct = 1;
    return run(&P, whole);
}
