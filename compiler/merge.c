/* merge.c — three-way merge over resource models. Ours is the text that is kept: theirs' changes are
 * spliced into it as edits on source spans (replace an item, insert an added one beside its
 * neighbour, delete a removed one), so every item neither side touched keeps its bytes. Where both
 * sides changed one item differently, that item alone is wrapped in conflict markers. */
#include "merge.h"
#include "frontend.h"
#include <stdlib.h>
#include <string.h>

typedef struct { uint32_t start, end; int seq; char *text; size_t len; } Edit;

typedef struct {
    const ResModel *b, *o, *t;
    char *vb, *vo, *vt;         /* visited flags per item */
    Edit *edits; int nedits, cap;
    MergeResult *out;
    const char *lo, *lt;
} M;

/* ---- text pieces ---- */

typedef ResBuf Str;
static void put(Str *s, const char *p, size_t n) { res_buf_put(s, p, n); }
static void puts_(Str *s, const char *p) { put(s, p, strlen(p)); }
static void put_line(Str *s, const char *p, size_t n) {   /* text that ends with a newline */
    put(s, p, n);
    if (!n || p[n - 1] != '\n') put(s, "\n", 1);
}

static int same(ResHash a, ResHash b) { return a.a == b.a && a.b == b.b; }

static void edit(M *m, uint32_t start, uint32_t end, Str *text) {
    if (m->nedits == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 32;
        m->edits = realloc(m->edits, sizeof *m->edits * (size_t)m->cap);
        if (!m->edits) abort();
    }
    m->edits[m->nedits] = (Edit){ start, end, m->nedits, text ? text->s : NULL, text ? text->n : 0 };
    m->nedits++;
}

static void conflict(M *m, const char *address, const char *why) {
    MergeResult *r = m->out;
    r->conflicts = realloc(r->conflicts, sizeof *r->conflicts * (size_t)(r->nconflicts + 1));
    if (!r->conflicts) abort();
    r->conflicts[r->nconflicts].address = strdup(address);
    r->conflicts[r->nconflicts].why = strdup(why);
    if (!r->conflicts[r->nconflicts].address || !r->conflicts[r->nconflicts].why) abort();
    r->nconflicts++;
}

/* an item's bytes: its whole lines (with the comments above it) when it stands alone on them */
static Span item_span(const ResModel *m, int i, int *whole) { return res_line_span(m->src, m->items[i].span, whole); }

static const char *text_at(const ResModel *m, Span sp) { return m->src->text + sp.start; }

/* the indentation of the line holding offset p */
static void indent_of(const Source *src, uint32_t p, Str *s) {
    uint32_t ls = p;
    while (ls > 0 && src->text[ls - 1] != '\n') ls--;
    uint32_t e = ls;
    while (e < src->len && (src->text[e] == ' ' || src->text[e] == '\t')) e++;
    put(s, src->text + ls, e - ls);
}

/* theirs' item as whole lines (its own indentation, when it stands alone in theirs) */
static void theirs_lines(M *m, int ti, const char *indent, Str *s) {
    int whole;
    Span sp = item_span(m->t, ti, &whole);
    if (whole) { put_line(s, text_at(m->t, sp), sp.end - sp.start); return; }
    const Resource *r = &m->t->items[ti];
    puts_(s, indent);
    put_line(s, text_at(m->t, r->span), r->span.end - r->span.start);
}

/* ---- edits ---- */

static void replace_with_theirs(M *m, int oi, int ti) {
    int wo, wt;
    Span so = item_span(m->o, oi, &wo), st = item_span(m->t, ti, &wt);
    Str s = { 0 };
    if (wo && wt) put(&s, text_at(m->t, st), st.end - st.start);
    else {
        so = m->o->items[oi].span;
        put(&s, text_at(m->t, m->t->items[ti].span), m->t->items[ti].span.end - m->t->items[ti].span.start);
    }
    if (!s.s) put(&s, "", 0);
    edit(m, so.start, so.end, &s);
}

static void delete_ours(M *m, int oi) {
    int whole;
    Span sp = item_span(m->o, oi, &whole);
    if (!whole) {   /* inline: the item, then the blanks and one separator after it */
        const char *t = m->o->src->text;
        sp = m->o->items[oi].span;
        while (sp.end < m->o->src->len && (t[sp.end] == ' ' || t[sp.end] == '\t')) sp.end++;
        if (sp.end < m->o->src->len && (t[sp.end] == ',' || t[sp.end] == ';')) sp.end++;
        while (sp.end < m->o->src->len && (t[sp.end] == ' ' || t[sp.end] == '\t')) sp.end++;
    } else {   /* between two blank lines: one of them goes too */
        const char *t = m->o->src->text;
        if (sp.start >= 2 && t[sp.start - 1] == '\n' && t[sp.start - 2] == '\n' && sp.end < m->o->src->len && t[sp.end] == '\n') sp.end++;
    }
    edit(m, sp.start, sp.end, NULL);
}

/* Inserts beside ours' item oi (after it, or before it): whole lines when it stands on its own
 * lines, else inline with a separator. */
static void insert_beside(M *m, int oi, int after, Str *block, const char *inline_text) {
    int whole;
    Span sp = item_span(m->o, oi, &whole), own = m->o->items[oi].span;
    Str s = { 0 };
    if (whole) {
        if (block) put(&s, block->s, block->n);
        else { indent_of(m->o->src, own.start, &s); put_line(&s, inline_text, strlen(inline_text)); }
        edit(m, after ? sp.end : sp.start, after ? sp.end : sp.start, &s);
    } else {
        if (after) puts_(&s, ", ");
        puts_(&s, inline_text);
        if (!after) puts_(&s, ", ");
        edit(m, after ? own.end : own.start, after ? own.end : own.start, &s);
    }
}

/* Where theirs' item ti goes in ours: after the nearest earlier sibling ours has, else before the
 * nearest later one, else before the closing brace of the parent (or at the end of the file).
 * Writes `block` (whole lines) or `inline_text` there. */
static void insert_at_place(M *m, int ti, Str *block, const char *inline_text) {
    const Resource *x = &m->t->items[ti];
    const int *sib = x->parent >= 0 ? m->t->items[x->parent].kids : m->t->top;
    int ns = x->parent >= 0 ? m->t->items[x->parent].nkids : m->t->ntop, at = 0;
    while (at < ns && sib[at] != ti) at++;
    const Source *src = m->o->src;
    for (int k = at - 1; k >= 0; k--) {
        int oi = res_find(m->o, m->t->items[sib[k]].address);
        if (oi >= 0) { insert_beside(m, oi, 1, block, inline_text); return; }
    }
    for (int k = at + 1; k < ns; k++) {
        int oi = res_find(m->o, m->t->items[sib[k]].address);
        if (oi >= 0) { insert_beside(m, oi, 0, block, inline_text); return; }
    }
    Str s = { 0 };
    int op = x->parent >= 0 ? res_find(m->o, m->t->items[x->parent].address) : -1;
    if (op < 0) {   /* top level, or a parent ours does not have: the end of the file */
        if (src->len && src->text[src->len - 1] != '\n') puts_(&s, "\n");
        if (block) put(&s, block->s, block->n);
        else put_line(&s, inline_text, strlen(inline_text));
        edit(m, (uint32_t)src->len, (uint32_t)src->len, &s);
        return;
    }
    Span ps = m->o->items[op].span;
    uint32_t q = ps.end;
    while (q > ps.start && src->text[q - 1] != '}') q--;
    if (q == ps.start) { free(s.s); conflict(m, x->address, "added in theirs where ours has no place for it"); return; }
    q--;   /* at the brace */
    uint32_t ls = q;
    while (ls > 0 && (src->text[ls - 1] == ' ' || src->text[ls - 1] == '\t')) ls--;
    if (ls == 0 || src->text[ls - 1] == '\n') {   /* the brace stands on its own line */
        if (block) put(&s, block->s, block->n);
        else {
            Str ind = { 0 };
            indent_of(src, q, &ind);
            if (ind.s) put(&s, ind.s, ind.n);
            puts_(&s, "  ");
            put_line(&s, inline_text, strlen(inline_text));
            free(ind.s);
        }
        edit(m, ls, ls, &s);
    } else {
        puts_(&s, " ");
        puts_(&s, inline_text);
        puts_(&s, " ");
        edit(m, q, q, &s);
    }
}

static char *item_text(const ResModel *m, int i) {
    const Resource *r = &m->items[i];
    char *s = malloc(r->span.end - r->span.start + 1);
    if (!s) abort();
    memcpy(s, m->src->text + r->span.start, r->span.end - r->span.start);
    s[r->span.end - r->span.start] = 0;
    return s;
}

static void insert_theirs(M *m, int ti) {
    int whole;
    item_span(m->t, ti, &whole);
    char *inl = item_text(m->t, ti);
    if (whole) {
        Str block = { 0 };
        Span sp = item_span(m->t, ti, &whole);
        const char *t = m->t->src->text;
        if (sp.start >= 2 && t[sp.start - 1] == '\n' && t[sp.start - 2] == '\n') put(&block, "\n", 1);   /* its blank line above */
        theirs_lines(m, ti, "", &block);
        insert_at_place(m, ti, &block, inl);
        free(block.s);
    } else insert_at_place(m, ti, NULL, inl);
    free(inl);
}

/* conflict markers around one item: ours' text (oi, or nothing) and theirs' (ti, or nothing) */
static void mark_conflict(M *m, int oi, int ti, const char *address, const char *why) {
    conflict(m, address, why);
    Str s = { 0 };
    int wo = 1, wt = 1;
    Span so = { 0, 0 }, st = { 0, 0 };
    if (oi >= 0) so = item_span(m->o, oi, &wo);
    if (ti >= 0) st = item_span(m->t, ti, &wt);
    if (oi >= 0 && !wo) { so = m->o->items[oi].span; puts_(&s, "\n"); }
    puts_(&s, "<<<<<<< "); puts_(&s, m->lo); puts_(&s, "\n");
    if (oi >= 0) {
        if (wo) put_line(&s, text_at(m->o, so), so.end - so.start);
        else put_line(&s, text_at(m->o, so), so.end - so.start);
    }
    puts_(&s, "=======\n");
    if (ti >= 0) {
        if (wt) put_line(&s, text_at(m->t, st), st.end - st.start);
        else {
            Span x = m->t->items[ti].span;
            put_line(&s, text_at(m->t, x), x.end - x.start);
        }
    }
    puts_(&s, ">>>>>>> "); puts_(&s, m->lt); puts_(&s, "\n");
    if (oi >= 0) edit(m, so.start, so.end, &s);
    else {   /* ours removed it: the markers go where theirs has it */
        insert_at_place(m, ti, &s, s.s);
        free(s.s);
    }
}

/* ---- the walk ---- */

static void merge_item(M *m, const char *address);

static void merge_kids(M *m, int bi, int oi, int ti) {
    const Resource *r[3] = { bi >= 0 ? &m->b->items[bi] : NULL, &m->o->items[oi], &m->t->items[ti] };
    const ResModel *mm[3] = { m->b, m->o, m->t };
    /* ours' order first, then theirs', then what only base had */
    for (int side = 1; side <= 3; side++) {
        int s = side % 3;   /* 1 ours, 2 theirs, 0 base */
        if (!r[s]) continue;
        for (int k = 0; k < r[s]->nkids; k++) merge_item(m, mm[s]->items[r[s]->kids[k]].address);
    }
}

static const char *parent_address(const ResModel *x, int i) {
    return x->items[i].parent >= 0 ? x->items[x->items[i].parent].address : "";
}

/* A named step keeps its address in another arm: theirs moving it is a change of its place. Its new
 * parent either comes from theirs whole (it is new, or ours left it alone: it brings the step) or is
 * merged item by item (then the step is inserted there). Returns 1 when it handled the item. */
static int moved(M *m, int bi, int oi, int ti, const char *address) {
    const char *pb = parent_address(m->b, bi), *po = parent_address(m->o, oi), *pt = parent_address(m->t, ti);
    if (!strcmp(pt, pb) || !strcmp(pt, po)) return 0;
    int op = res_find(m->o, pt), bp = res_find(m->b, pt);
    int whole = op < 0 || (bp >= 0 && same(m->o->items[op].canon, m->b->items[bp].canon));
    if (strcmp(po, pb)) mark_conflict(m, oi, ti, address, "moved to different places on both sides");
    else if (!same(m->o->items[oi].canon, m->b->items[bi].canon))
        mark_conflict(m, oi, whole ? -1 : ti, address, "changed in ours, moved in theirs");
    else {
        delete_ours(m, oi);
        if (!whole) insert_theirs(m, ti);
    }
    return 1;
}

static void merge_item(M *m, const char *address) {
    int bi = res_find(m->b, address), oi = res_find(m->o, address), ti = res_find(m->t, address);
    if ((bi >= 0 && m->vb[bi]) || (oi >= 0 && m->vo[oi]) || (ti >= 0 && m->vt[ti])) return;
    if (bi >= 0) m->vb[bi] = 1;
    if (oi >= 0) m->vo[oi] = 1;
    if (ti >= 0) m->vt[ti] = 1;
    const Resource *B = bi >= 0 ? &m->b->items[bi] : NULL, *O = oi >= 0 ? &m->o->items[oi] : NULL,
                   *T = ti >= 0 ? &m->t->items[ti] : NULL;
    if (B && O && T && moved(m, bi, oi, ti, address)) return;
    if (O && T && same(O->canon, T->canon)) return;
    if (!B) {
        if (!O && T) insert_theirs(m, ti);
        else if (O && T) mark_conflict(m, oi, ti, address, "added on both sides, differently");
        return;
    }
    if (!O && !T) return;
    if (!O) {
        if (!same(T->canon, B->canon)) mark_conflict(m, -1, ti, address, "removed in ours, changed in theirs");
        return;
    }
    if (!T) {
        if (same(O->canon, B->canon)) delete_ours(m, oi);
        else mark_conflict(m, oi, -1, address, "changed in ours, removed in theirs");
        return;
    }
    if (same(O->canon, B->canon)) { replace_with_theirs(m, oi, ti); return; }
    if (same(T->canon, B->canon)) return;
    /* both changed it: combine when theirs left the item's own part (and its steps' order) alone */
    int theirs_own = !same(T->own, B->own) && !same(T->own, O->own);
    int theirs_order = res_reordered(m->b, bi, m->t, ti) && res_reordered(m->o, oi, m->t, ti);
    if (theirs_own || theirs_order || (!O->nkids && !T->nkids)) {
        mark_conflict(m, oi, ti, address, "changed on both sides, differently");
        return;
    }
    merge_kids(m, bi, oi, ti);
}

static int editcmp(const void *x, const void *y) {
    const Edit *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    int ra = a->end > a->start, rb = b->end > b->start;   /* insertions before a replacement at the same place */
    if (ra != rb) return ra - rb;
    return a->seq - b->seq;
}

void merge_models(const ResModel *base, const ResModel *ours, const ResModel *theirs,
                  const char *ours_label, const char *theirs_label, MergeResult *out) {
    memset(out, 0, sizeof *out);
    M m = { base, ours, theirs, calloc((size_t)base->n + 1, 1), calloc((size_t)ours->n + 1, 1), calloc((size_t)theirs->n + 1, 1),
            NULL, 0, 0, out, ours_label ? ours_label : "ours", theirs_label ? theirs_label : "theirs" };
    if (!m.vb || !m.vo || !m.vt) abort();
    for (int k = 0; k < ours->ntop; k++) merge_item(&m, ours->items[ours->top[k]].address);
    for (int k = 0; k < theirs->ntop; k++) merge_item(&m, theirs->items[theirs->top[k]].address);
    for (int k = 0; k < base->ntop; k++) merge_item(&m, base->items[base->top[k]].address);
    if (m.nedits) qsort(m.edits, (size_t)m.nedits, sizeof *m.edits, editcmp);
    Str s = { 0 };
    const char *t = ours->src->text;
    uint32_t pos = 0;
    for (int i = 0; i < m.nedits; i++) {
        Edit *e = &m.edits[i];
        uint32_t start = e->start < pos ? pos : e->start, end = e->end < start ? start : e->end;
        put(&s, t + pos, start - pos);
        if (e->text) put(&s, e->text, e->len);
        pos = end;
        free(e->text);
    }
    put(&s, t + pos, ours->src->len - pos);
    out->text = s.s;
    out->len = s.n;
    free(m.edits);
    free(m.vb);
    free(m.vo);
    free(m.vt);
}

void merge_free(MergeResult *r) {
    free(r->text);
    for (int i = 0; i < r->nconflicts; i++) { free(r->conflicts[i].address); free(r->conflicts[i].why); }
    free(r->conflicts);
    memset(r, 0, sizeof *r);
}

int merge_texts(const char *const names[3], const char *const texts[3], const size_t lens[3],
                const char *ours_label, const char *theirs_label, MergeResult *out) {
    Diags dg, *d = &dg;
    diag_init(d);
    Source *src[3] = { 0 };
    FeResult r[3];
    Arena *ar = arena_new();
    ResModel *m[3];
    int bad = 0, ran = 0;
    memset(out, 0, sizeof *out);
    for (; ran < 3; ran++) {
        src[ran] = src_from_buffer(names[ran], texts[ran], lens[ran]);
        int before = d->errors;
        fe_run(&r[ran], src[ran], d, FE_CHECK);
        if (d->errors > before) bad = 1;
        else m[ran] = res_build(ar, src[ran], r[ran].ast, r[ran].ir);
    }
    if (!bad) merge_models(m[0], m[1], m[2], ours_label, theirs_label, out);
    else {
        diag_sort(d);
        diag_print_text(d, stderr, 0);
    }
    diag_free(d);
    for (int i = 0; i < ran; i++) fe_result_free(&r[i]);
    for (int i = 0; i < 3; i++) if (src[i]) src_free(src[i]);
    arena_free(ar);
    return bad ? -1 : 0;
}
