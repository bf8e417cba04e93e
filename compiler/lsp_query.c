/* lsp_query.c — the language server's lookups into a checked file: LSP positions (line and UTF-16
 * code units, as the protocol counts) to byte offsets and back — the one place that converts —, a
 * walk over every IR expression with its step, and "what is at this offset" over the IR and the AST. */
#include "lsp_query.h"
#include "builtins.h"
#include "flow.h"
#include "engine.h"
#include <string.h>

int lq_contains(Span sp, uint32_t off) { return sp.start <= off && off <= sp.end && sp.end > sp.start; }

/* The byte length of the (valid or not) UTF-8 sequence at p, and its UTF-16 length in *units. */
static size_t seq(const char *p, size_t n, int *units) {
    size_t k = flow_utf8_seq((const unsigned char *)p, n);
    if (k == 0) { *units = 1; return 1; }     /* a bad byte: one unit, as a client's U+FFFD */
    *units = k == 4 ? 2 : 1;
    return k;
}

uint32_t lq_offset(const Source *s, long line, long character) {
    if (line < 0) return 0;
    if (line >= s->nlines) return (uint32_t)s->len;
    size_t at = s->lines[line];
    size_t end = line + 1 < s->nlines ? s->lines[line + 1] - 1 : s->len;   /* at the \n */
    if (end > at && s->text[end - 1] == '\r' && end < s->len) end--;
    long u = 0;
    while (at < end && u < character) {
        int units;
        size_t k = seq(s->text + at, end - at, &units);
        if (u + units > character) break;      /* inside a surrogate pair: before it */
        u += units;
        at += k;
    }
    return (uint32_t)at;
}

void lq_position(const Source *s, uint32_t off, int *line, int *character) {
    if (off > s->len) off = (uint32_t)s->len;
    int l, col;
    src_line_col(s, off, &l, &col);
    size_t at = s->lines[l - 1];
    int u = 0;
    while (at < off) {
        int units;
        size_t k = seq(s->text + at, s->len - at, &units);
        if (at + k > off) break;
        u += units;
        at += k;
    }
    *line = l - 1;
    *character = u;
}

Span lq_field_name_span(const Source *s, const IrExpr *f) {
    size_t n = f->name ? strlen(f->name) : 0;
    Span sp = f->span;
    if (!n || sp.end > s->len || sp.end - sp.start < n) return (Span){ 0, 0 };
    if (memcmp(s->text + sp.end - n, f->name, n) != 0) return (Span){ 0, 0 };
    return (Span){ sp.end - (uint32_t)n, sp.end };
}

/* ---- the walk ---- */
typedef struct { LqExprFn fn; void *ud; const IrStep *step; } Walk;

static int visit(const IrExpr *x, void *ud) {
    Walk *w = ud;
    w->fn(x, w->step, w->ud);
    return 0;
}
static void expr(Walk *w, const IrExpr *x) { if (x) ir_any_expr(x, visit, w); }
static void map(Walk *w, const IrMap *m) {
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        expr(w, m->entries[i].value);
        expr(w, m->entries[i].when);
        map(w, m->entries[i].nested);
    }
}
static void settings(Walk *w, const IrSetting *s, int n) { for (int i = 0; i < n; i++) expr(w, s[i].value); }

void lq_each_expr(const IrProgram *p, LqExprFn fn, void *ud) {
    Walk w = { fn, ud, NULL };
    for (int i = 0; i < p->nparams; i++) expr(&w, p->params[i]->def);
    for (int i = 0; i < p->ntables; i++) expr(&w, p->tables[i]->value);
    for (int i = 0; i < p->nenvs; i++) settings(&w, p->envs[i]->settings, p->envs[i]->nsettings);
    for (int i = 0; i < p->nconns; i++) settings(&w, p->conns[i]->settings, p->conns[i]->nsettings);
    for (int i = 0; i < p->nflows; i++) {
        const IrFlow *f = p->flows[i];
        w.step = NULL;
        settings(&w, f->settings, f->nsettings);
        for (int k = 0; k < f->nhooks; k++) expr(&w, f->hooks[k].value);
        for (int k = 0; k < f->nall; k++) {
            const IrStep *st = f->all[k];
            w.step = st;
            settings(&w, st->settings, st->nsettings);
            for (int a = 0; a < st->nassigns; a++) { expr(&w, st->assigns[a].target); expr(&w, st->assigns[a].value); }
            expr(&w, st->cond);
            for (int a = 0; a < st->narms; a++) expr(&w, st->arms[a].cond);
            map(&w, st->map);
            for (int a = 0; a < st->nresponse; a++) { expr(&w, st->response[a].target); expr(&w, st->response[a].value); }
            for (int a = 0; a < st->nhooks; a++) expr(&w, st->hooks[a].value);
        }
    }
    w.step = NULL;
    for (int i = 0; i < p->ntests; i++) {
        const IrTest *t = p->tests[i];
        for (int k = 0; k < t->ngivens; k++) expr(&w, t->givens[k].value);
        for (int k = 0; k < t->nexpects; k++) expr(&w, t->expects[k]);
    }
}

/* ---- what is at an offset ---- */
typedef struct { uint32_t off; LqHit *h; } Find;

static uint32_t width(Span sp) { return sp.end - sp.start; }

static void find_expr(const IrExpr *x, const IrStep *step, void *ud) {
    Find *f = ud;
    if (!lq_contains(x->span, f->off)) return;
    if (!f->h->expr || width(x->span) <= width(f->h->expr->span)) f->h->expr = x;
    if (x->kind == IR_CALL && x->fn) {
        size_t n = strlen(x->fn->name);
        /* a call's text starts with its name (a template helper's with the helper's: no name span) */
        if (!x->helper && f->off >= x->span.start && f->off <= x->span.start + n) f->h->call = x;
        if (strcmp(x->fn->name, "after") == 0 && x->nkids > 0 && x->kids[0] && x->kids[0]->kind == IR_WORD &&
            lq_contains(x->kids[0]->span, f->off))
            f->h->after_word = x->kids[0];
    }
}

static void find_settings(Find *f, const IrSetting *s, int n, int place, int kind) {
    for (int i = 0; i < n; i++)
        if (lq_contains(s[i].name_span, f->off)) {
            f->h->setting = &s[i];
            f->h->setting_place = place;
            f->h->setting_kind = kind;
        }
}

static void find_map(Find *f, const IrMap *m) {
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        if (lq_contains(m->entries[i].name_span, f->off)) f->h->entry = &m->entries[i];
        find_map(f, m->entries[i].nested);
    }
}

void lq_find(const IrProgram *p, uint32_t off, LqHit *h) {
    memset(h, 0, sizeof *h);
    h->setting_place = -1;
    h->setting_kind = -1;
    Find f = { off, h };
    lq_each_expr(p, find_expr, &f);
    for (int i = 0; i < p->nconns; i++)
        find_settings(&f, p->conns[i]->settings, p->conns[i]->nsettings, FLOW_AT_CONN, p->conns[i]->kind);
    for (int i = 0; i < p->nenvs; i++) find_settings(&f, p->envs[i]->settings, p->envs[i]->nsettings, -1, -1);
    for (int i = 0; i < p->nflows; i++) {
        const IrFlow *fl = p->flows[i];
        if (!lq_contains(fl->span, off)) continue;
        h->flow = fl;
        find_settings(&f, fl->settings, fl->nsettings, -1, -1);
        for (int k = 0; k < fl->nall; k++) {
            const IrStep *st = fl->all[k];
            if (st->conn && lq_contains(st->conn_span, off)) h->conn_ref = st;
            if (!lq_contains(st->span, off)) continue;
            if (!h->step || width(st->span) <= width(h->step->span)) h->step = st;
            int place = st->kind == STEP_EXPORT ? FLOW_AT_EXPORT : st->kind == STEP_LOOKUP ? FLOW_AT_LOOKUP : FLOW_AT_IMPORT;
            find_settings(&f, st->settings, st->nsettings, place, st->conn ? st->conn->kind : -1);
            find_map(&f, st->map);
        }
    }
    for (int i = 0; i < p->ntests; i++) {
        const IrTest *t = p->tests[i];
        if (t->flow && lq_contains(t->flow_span, off)) h->test_flow = t;
        for (int k = 0; k < t->ngivens; k++)
            if (lq_contains(t->givens[k].name_span, off)) h->given = &t->givens[k];
    }
}

/* ---- the AST ---- */
static void ast_at(const AstNode *n, const AstNode *parent, uint32_t off, const AstNode **best, const AstNode **bparent) {
    if (!n) return;
    int in = lq_contains(n->span, off) || lq_contains(n->name_span, off);
    if (in && (!*best || width(n->span) <= width((*best)->span))) { *best = n; *bparent = parent; }
    /* children may lie outside a parent's span only in recovered trees: look anyway, it is cheap */
    if (!in && n->kind != AST_FILE) return;
    ast_at(n->a, n, off, best, bparent);
    ast_at(n->b, n, off, best, bparent);
    ast_at(n->c, n, off, best, bparent);
    for (int i = 0; i < n->kids.n; i++) ast_at(n->kids.items[i], n, off, best, bparent);
}

const AstNode *lq_ast_at(const AstNode *root, uint32_t off, const AstNode **parent) {
    const AstNode *best = NULL, *bp = NULL;
    ast_at(root, NULL, off, &best, &bp);
    if (parent) *parent = bp;
    return best;
}

void lq_ast_each(const AstNode *n, void (*fn)(const AstNode *, void *), void *ud) {
    if (!n) return;
    fn(n, ud);
    lq_ast_each(n->a, fn, ud);
    lq_ast_each(n->b, fn, ud);
    lq_ast_each(n->c, fn, ud);
    for (int i = 0; i < n->kids.n; i++) lq_ast_each(n->kids.items[i], fn, ud);
}
