/* fmt.c — the canonical printer of a .flow file (flowc fmt). It prints the file's own tokens, comments
 * included (the lexer keeps them as trivia: flowlex_tokens), and decides only the white space between
 * them, from the syntax tree: every item of a block (declaration, setting, step, map entry, field...)
 * starts a line of its own in a broken block, or follows `, ` in an inline `{ a, b }` one. The layout
 * is documented in docs/cli.md (flowc fmt). */
#include "fmt.h"
#include "ast.h"
#include "parse.h"
#define YYSTYPE FLOWYYSTYPE   /* as grammar/lexer.l does: the parser header names them so */
#define YYLTYPE FLOWYYLTYPE
#include "parser.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { T_ITEM = 1, T_SEP = 2 };

typedef struct {
    int open, close;       /* token indices of `{` and `}` */
    uint8_t always;        /* holds steps or arms: always one item per line */
    uint8_t multiline;     /* written over several lines: one item per line */
    uint8_t comment;       /* holds a comment: one item per line */
    uint8_t wrap;          /* too long on one line (found by a previous pass) */
    uint8_t items;         /* holds at least one item */
    uint8_t in_parens;     /* inside ( ) or [ ]: an argument, never wrapped for width */
} Block;

typedef struct {
    const Source *src;
    FlowTok *t;
    size_t n;
    uint8_t *flag;         /* T_ITEM: starts an item; T_SEP: an optional separator, not printed */
    int32_t *item_end;     /* for an item's first token: its last token */
    int32_t *block;        /* for `{` and `}`: the block, else -1 */
    uint32_t *nl;          /* newlines in the source between the previous token and this one */
    Block *blocks;
    int nblocks;
    /* output of one pass */
    char *out;
    size_t len, cap;
    size_t line_start;     /* offset of the current line */
    int line;              /* current line number, 0-based */
    size_t *marks;         /* offsets of trailing `//` comments (for alignment) */
    int nmarks, capmarks;
    int *bline;            /* per block: output line of its `{` when inline, else -1 */
} Fmt;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();
    return q;
}

static int tk(const Fmt *f, size_t i) { return f->t[i].kind; }
static const char *ttext(const Fmt *f, size_t i) { return f->src->text + f->t[i].span.start; }
static size_t tlen(const Fmt *f, size_t i) { return f->t[i].span.end - f->t[i].span.start; }

/* the token that starts at byte off (the first one at or after it) */
static size_t tok_at(const Fmt *f, uint32_t off) {
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->t[mid].span.start < off) lo = mid + 1; else hi = mid;
    }
    return lo;
}
/* the last token that ends at or before byte off */
static size_t tok_last(const Fmt *f, uint32_t off) {
    size_t i = tok_at(f, off);
    while (i > 0 && f->t[i - 1].kind == FLOW_TOK_COMMENT && f->t[i - 1].span.end > off) i--;
    return i ? i - 1 : 0;
}

/* The `{` that opens the list holding the token at index k: the nearest unmatched opener before it. */
static long opener_before(const Fmt *f, size_t k) {
    int depth = 0;
    for (size_t j = k; j-- > 0;) {
        int c = tk(f, j);
        if (c == '}' || c == ')' || c == ']') depth++;
        else if (c == '{' || c == '(' || c == '[') {
            if (depth == 0) return c == '{' ? (long)j : -1;
            depth--;
        }
    }
    return -1;
}

static void mark_items(Fmt *f, const AstNode *n) {
    if (!n) return;
    int always = n->kind == AST_FLOW || n->kind == AST_TEST || n->kind == AST_BRANCH || n->kind == AST_ARM;
    if (n->kids.n > 0 && n->kind != AST_CALL && n->kind != AST_ARRAY) {
        long open = -1;
        if (n->kind != AST_FILE) open = opener_before(f, tok_at(f, n->kids.items[0]->span.start));
        if (open >= 0 && f->block[open] >= 0) {
            Block *b = &f->blocks[f->block[open]];
            b->items = 1;
            b->always |= (uint8_t)always;
        }
        if (open >= 0 || n->kind == AST_FILE) {
            for (int i = 0; i < n->kids.n; i++) {
                const AstNode *k = n->kids.items[i];
                size_t s = tok_at(f, k->span.start), e = tok_last(f, k->span.end);
                if (s >= f->n || e < s) continue;
                f->flag[s] |= T_ITEM;
                f->item_end[s] = (int32_t)e;
            }
            /* what lies between items: optional separators (dropped) and comments */
            size_t from = open >= 0 ? (size_t)open + 1 : 0;
            size_t to = open >= 0 ? (size_t)f->blocks[f->block[open]].close : f->n;
            for (size_t i = from; i < to; i++) {
                if (f->flag[i] & T_ITEM) { i = (size_t)f->item_end[i]; continue; }
                if (tk(f, i) == ',' || tk(f, i) == ';') f->flag[i] |= T_SEP;
            }
        }
    }
    mark_items(f, n->a);
    mark_items(f, n->b);
    mark_items(f, n->c);
    for (int i = 0; i < n->kids.n; i++) mark_items(f, n->kids.items[i]);
}

/* Blocks, their partners, and the line structure of the source. */
static int analyse(Fmt *f, const AstNode *root) {
    size_t n = f->n;
    f->flag = calloc(n + 1, 1);
    f->item_end = xrealloc(NULL, (n + 1) * sizeof *f->item_end);
    f->block = xrealloc(NULL, (n + 1) * sizeof *f->block);
    f->nl = xrealloc(NULL, (n + 1) * sizeof *f->nl);
    if (!f->flag) abort();
    int32_t *stack = xrealloc(NULL, (n + 1) * sizeof *stack);
    int sp = 0, cap = 0, parens = 0;
    int32_t *pstack = xrealloc(NULL, (n + 1) * sizeof *pstack);   /* open ( and [: the enclosing brace depth */
    int psp = 0;
    uint32_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        f->block[i] = -1;
        f->item_end[i] = -1;
        uint32_t c = 0;
        for (uint32_t o = prev_end; o < f->t[i].span.start; o++) c += f->src->text[o] == '\n';
        f->nl[i] = c;
        prev_end = f->t[i].span.end;
        if (tk(f, i) == '{') {
            if (f->nblocks == cap) { cap = cap ? cap * 2 : 64; f->blocks = xrealloc(f->blocks, (size_t)cap * sizeof *f->blocks); }
            f->blocks[f->nblocks] = (Block){ (int)i, -1, 0, 0, 0, 0, 0, parens > 0 };
            f->block[i] = f->nblocks++;
            stack[sp++] = (int32_t)i;
        } else if (tk(f, i) == '}') {
            if (sp == 0) { free(stack); free(pstack); return -1; }
            int b = f->block[stack[--sp]];
            f->blocks[b].close = (int)i;
            f->block[i] = b;
        } else if (tk(f, i) == '(' || tk(f, i) == '[') {
            pstack[psp++] = sp;
            parens++;
        } else if ((tk(f, i) == ')' || tk(f, i) == ']') && psp > 0) {
            psp--;
            parens--;
        } else if (tk(f, i) == FLOW_TOK_COMMENT) {
            for (int k = 0; k < sp; k++) f->blocks[f->block[stack[k]]].comment = 1;
        }
    }
    free(stack);
    free(pstack);
    if (sp != 0) return -1;
    for (int b = 0; b < f->nblocks; b++) {
        Block *bl = &f->blocks[b];
        for (uint32_t o = f->t[bl->open].span.end; o < f->t[bl->close].span.start && !bl->multiline; o++)
            if (f->src->text[o] == '\n') bl->multiline = 1;
    }
    mark_items(f, root);
    /* a block without items holds nothing but separators and comments */
    for (int b = 0; b < f->nblocks; b++)
        if (!f->blocks[b].items)
            for (int i = f->blocks[b].open + 1; i < f->blocks[b].close; i++)
                if (tk(f, (size_t)i) == ',' || tk(f, (size_t)i) == ';') f->flag[i] |= T_SEP;
    return 0;
}

/* ---- output ---- */

static void put(Fmt *f, const char *s, size_t n) {
    if (f->len + n + 1 > f->cap) {
        f->cap = (f->len + n + 1) * 2;
        f->out = xrealloc(f->out, f->cap);
    }
    memcpy(f->out + f->len, s, n);
    f->len += n;
}
static void spaces(Fmt *f, int n) { while (n-- > 0) put(f, " ", 1); }
static void newline(Fmt *f, int blank, int indent) {
    while (f->len > f->line_start && f->out[f->len - 1] == ' ') f->len--;
    put(f, "\n", 1);
    f->line++;
    if (blank) { put(f, "\n", 1); f->line++; }
    f->line_start = f->len;
    spaces(f, indent);
}

/* a token after which `[` indexes and `-` subtracts */
static int ends_operand(int k, int after_dot) {
    if (after_dot) return 1;
    switch (k) {
    case IDENT: case STRING: case INT: case NUMBER: case DURATION: case SIZE:
    case KW_TRUE: case KW_FALSE: case KW_NULL: case KW_PARAM: case KW_ENV: case KW_FLOW: case KW_RESPONSE:
    case ')': case ']': case '}':
        return 1;
    default:
        return 0;
    }
}

/* one space between two tokens on a line, or none */
static int gap(int prev, int cur, int prev_operand, int prev_unary) {
    if (cur == ',' || cur == ';' || cur == ')' || cur == ']' || cur == '.' || cur == ':' || cur == '?') return 0;
    if (prev == '(' || prev == '[' || prev == '.' || prev_unary) return 0;
    if (cur == '(' && (prev == IDENT || prev == KW_PARAM || prev == KW_ENV || prev == KW_FLOW || prev == KW_RESPONSE)) return 0;
    if (cur == '[' && prev_operand) return 0;
    return 1;
}

/* a trailing `//` comment starts here: align_comments moves it into its run's column */
static void mark(Fmt *f) {
    if (f->nmarks == f->capmarks) {
        f->capmarks = f->capmarks ? f->capmarks * 2 : 64;
        f->marks = xrealloc(f->marks, (size_t)f->capmarks * sizeof *f->marks);
    }
    f->marks[f->nmarks++] = f->len;
}

/* comment b (on the line after comment a) hangs to the right of the code of a's line */
static int hangs(const Fmt *f, size_t a, size_t b) {
    const char *t = f->src->text;
    uint32_t sa = f->t[a].span.start, sb = f->t[b].span.start, la = sa, lb = sb;
    while (la > 0 && t[la - 1] != '\n') la--;
    while (lb > 0 && t[lb - 1] != '\n') lb--;
    uint32_t ind = la;
    while (ind < sa && (t[ind] == ' ' || t[ind] == '\t')) ind++;
    return sb - lb > ind - la;
}

typedef struct { int block; int indent; int item_end; int fresh; int broken; int nitems; } Level;

/* A line comment without its trailing blanks (and CR). */
static size_t comment_len(const Fmt *f, size_t i) {
    const char *s = ttext(f, i);
    size_t n = tlen(f, i);
    if (n >= 2 && s[1] == '/')
        while (n > 2 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    return n;
}

static void render(Fmt *f) {
    f->len = 0; f->line_start = 0; f->line = 0; f->nmarks = 0;
    put(f, "", 0);
    Level *lv = xrealloc(NULL, ((size_t)f->nblocks + 2) * sizeof *lv);
    int top = 0;
    lv[0] = (Level){ -1, 0, -1, 1, 1, 0 };
    int prev = 0, prev_operand = 0, prev_unary = 0, after_dot = 0, need_nl = 0, any = 0;
    int trailing_prev = 0;   /* the last token printed is a `//` comment ending a line of code (or continuing one) */
    for (size_t i = 0; i < f->n; i++) {
        if (f->flag[i] & T_SEP) continue;
        int k = tk(f, i);
        Level *L = &lv[top];
        int blank = f->nl[i] >= 2 && !L->fresh;
        if (k == FLOW_TOK_COMMENT) {
            int line_comment = ttext(f, i)[1] == '/', trailing = 0;
            if (!any) {
                /* the file starts with it */
            } else if (line_comment && f->nl[i] == 1 && trailing_prev && hangs(f, i - 1, i)) {
                /* a comment hanging under the one ending the previous line continues it, in its column */
                newline(f, 0, 2);
                mark(f);
            } else if (f->nl[i] > 0 || need_nl) {
                newline(f, blank, L->item_end < 0 ? L->indent : L->indent + 4);
            } else if (line_comment) {
                spaces(f, 2);
                trailing = 1;
                mark(f);
            } else {
                spaces(f, 1);
            }
            put(f, ttext(f, i), comment_len(f, i));
            need_nl = line_comment;
            trailing_prev = trailing || (trailing_prev && line_comment && f->nl[i] == 1 && hangs(f, i - 1, i));
            L->fresh = 0;
            any = 1;
            continue;   /* comments leave the spacing of the tokens around them as it was */
        }
        if (k == '}' && f->block[i] >= 0 && L->block == f->block[i]) {
            if (L->broken) newline(f, 0, L->indent - 2);
            else if (need_nl) newline(f, 0, L->indent);
            else if (L->nitems) spaces(f, 1);
            top--;
            L = &lv[top];
        } else if (f->flag[i] & T_ITEM) {
            if (L->broken) {
                if (any) newline(f, blank, L->indent);
            } else {
                if (need_nl) newline(f, 0, L->indent);
                else if (L->nitems) put(f, ", ", 2);
                else spaces(f, 1);
            }
            L->nitems++;
            L->item_end = f->item_end[i];
        } else if (need_nl) {
            newline(f, 0, L->item_end < 0 ? L->indent : L->indent + 4);
        } else if (any && f->len > f->line_start && gap(prev, k, prev_operand, prev_unary)) {
            spaces(f, 1);
        }
        L->fresh = 0;
        need_nl = 0;
        trailing_prev = 0;
        put(f, ttext(f, i), tlen(f, i));
        any = 1;
        if ((int32_t)i == L->item_end) L->item_end = -1;
        if (k == '{' && f->block[i] >= 0) {
            Block *b = &f->blocks[f->block[i]];
            int broken = b->comment || (b->items && (b->always || b->multiline || b->wrap));
            int line_indent = 0;
            while (f->line_start + (size_t)line_indent < f->len && f->out[f->line_start + (size_t)line_indent] == ' ') line_indent++;
            f->bline[f->block[i]] = broken || !b->items ? -1 : f->line;
            lv[++top] = (Level){ f->block[i], line_indent + 2, -1, 1, broken, 0 };
        }
        prev_unary = k == '-' && !prev_operand;
        prev_operand = ends_operand(k, after_dot);
        after_dot = k == '.';
        prev = k;
    }
    if (any) newline(f, 0, 0);
    f->out[f->len] = 0;
    free(lv);
}

/* display width of s[0..n): UTF-8 continuation bytes take no column */
static int width(const char *s, size_t n) {
    int w = 0;
    for (size_t i = 0; i < n; i++) w += ((unsigned char)s[i] & 0xC0) != 0x80;
    return w;
}

/* Marks the outermost inline block of each line that is too long; returns how many it marked. */
static int wrap_long_lines(Fmt *f) {
    int lines = f->line + 1;
    int *code_end = xrealloc(NULL, (size_t)lines * sizeof *code_end);   /* width without a trailing comment */
    int *best = xrealloc(NULL, (size_t)lines * sizeof *best);
    size_t off = 0;
    int m = 0;
    for (int l = 0; l < lines && off <= f->len; l++) {
        size_t e = off;
        while (e < f->len && f->out[e] != '\n') e++;
        size_t ce = e;
        while (m < f->nmarks && f->marks[m] < off) m++;
        if (m < f->nmarks && f->marks[m] <= e) { ce = f->marks[m]; while (ce > off && f->out[ce - 1] == ' ') ce--; }
        code_end[l] = width(f->out + off, ce - off);
        best[l] = -1;
        off = e + 1;
    }
    /* blocks open in order, so the first inline one found on a line is its outermost */
    for (int b = 0; b < f->nblocks; b++) {
        int l = f->bline[b];
        if (l >= 0 && l < lines && code_end[l] > FMT_WIDTH && best[l] < 0 && !f->blocks[b].in_parens) best[l] = b;
    }
    int marked = 0;
    for (int l = 0; l < lines; l++)
        if (best[l] >= 0) { f->blocks[best[l]].wrap = 1; marked++; }
    free(code_end);
    free(best);
    return marked;
}

/* the start of the line holding offset off */
static size_t line_of(const Fmt *f, size_t off) {
    while (off > 0 && f->out[off - 1] != '\n') off--;
    return off;
}

/* Trailing `//` comments on consecutive lines start in one column: two spaces after the longest code. */
static void align_comments(Fmt *f) {
    if (f->nmarks == 0) return;
    int *col = xrealloc(NULL, (size_t)f->nmarks * sizeof *col);
    size_t extra = 0;
    for (int i = 0; i < f->nmarks;) {
        /* a run: each mark on the line right after the previous mark's */
        int j = i, maxw = 0;
        for (; j < f->nmarks; j++) {
            size_t ls = line_of(f, f->marks[j]);
            if (j > i) {
                size_t e = f->marks[j - 1];
                while (e < f->len && f->out[e] != '\n') e++;
                if (e + 1 != ls) break;
            }
            int w = width(f->out + ls, f->marks[j] - 2 - ls);
            if (w > maxw) maxw = w;
        }
        for (int k = i; k < j; k++) {
            size_t ls = line_of(f, f->marks[k]);
            col[k] = maxw - width(f->out + ls, f->marks[k] - 2 - ls);   /* spaces to add */
            extra += (size_t)col[k];
        }
        i = j;
    }
    char *o = xrealloc(NULL, f->len + extra + 1);
    size_t olen = 0, from = 0;
    for (int k = 0; k < f->nmarks; k++) {
        memcpy(o + olen, f->out + from, f->marks[k] - from);
        olen += f->marks[k] - from;
        memset(o + olen, ' ', (size_t)col[k]);
        olen += (size_t)col[k];
        from = f->marks[k];
    }
    memcpy(o + olen, f->out + from, f->len - from);
    olen += f->len - from;
    o[olen] = 0;
    free(col);
    free(f->out);
    f->out = o;
    f->len = olen;
    f->cap = olen + 1;
}

/* The tokens of a text, separators and comment blanks aside, must be those of the original. */
static int same_tokens(const Fmt *f, const Source *out) {
    Arena *ar = arena_new();
    Diags d;
    diag_init(&d);
    FlowTok *t = NULL;
    size_t n = flowlex_tokens(ar, &d, out, &t);
    int ok = d.errors == 0;
    size_t j = 0;
    for (size_t i = 0; ok && i < f->n; i++) {
        if (f->flag[i] & T_SEP) continue;
        while (j < n && (t[j].kind == ',' || t[j].kind == ';') && !(tk(f, i) == t[j].kind)) j++;
        if (j >= n || t[j].kind != tk(f, i)) { ok = 0; break; }
        size_t a = tk(f, i) == FLOW_TOK_COMMENT ? comment_len(f, i) : tlen(f, i);
        size_t b = t[j].span.end - t[j].span.start;
        if (a != b || memcmp(ttext(f, i), out->text + t[j].span.start, a) != 0) ok = 0;
        j++;
    }
    while (ok && j < n && (t[j].kind == ',' || t[j].kind == ';')) j++;
    if (j != n) ok = 0;
    free(t);
    diag_free(&d);
    arena_free(ar);
    return ok;
}

char *fmt_source(const Source *src, Diags *diags, size_t *len) {
    Arena *ar = arena_new();
    int before = diags->errors;
    AstNode *root = parse_source(ar, diags, src);
    if (diags->errors > before) { arena_free(ar); return NULL; }
    Fmt f;
    memset(&f, 0, sizeof f);
    f.src = src;
    f.n = flowlex_tokens(ar, diags, src, &f.t);
    char *result = NULL;
    if (diags->errors == before && analyse(&f, root) == 0) {
        f.bline = xrealloc(NULL, ((size_t)f.nblocks + 1) * sizeof *f.bline);
        render(&f);
        for (int pass = 0; pass < 64 && wrap_long_lines(&f) > 0; pass++) render(&f);
        align_comments(&f);
        Source *out = src_from_buffer(src->name, f.out, f.len);
        Diags d2;
        diag_init(&d2);
        Arena *ar2 = arena_new();
        parse_source(ar2, &d2, out);
        int ok = d2.errors == 0 && same_tokens(&f, out);
        arena_free(ar2);
        diag_free(&d2);
        src_free(out);
        if (ok) { result = f.out; *len = f.len; f.out = NULL; }
        else diag_error(diags, src, (Span){ 0, 0 }, "flowc fmt cannot lay this file out without changing it (a bug in flowc fmt); the file is left as it is");
    } else if (diags->errors == before) {
        diag_error(diags, src, (Span){ 0, 0 }, "unbalanced braces");
    }
    free(f.out); free(f.marks); free(f.bline);
    free(f.t); free(f.flag); free(f.item_end); free(f.block); free(f.nl); free(f.blocks);
    arena_free(ar);
    return result;
}
