/* graph.c — pictures of flows, as integrator.io's flow builder draws them: the entry (schedule or
 * webhook), the export (its connection and mode), lookups, transforms, filters, branches (each arm a
 * box beside the others, its condition on the edge into it), the merge after them, imports (their
 * destination), and after() chains between flows. Drawn from the checked IR, never from text.
 *
 * One walk of the IR (graph_write) builds every node's label as plain text and drives one of two small
 * emitters, DOT or Mermaid, which differ only in syntax and in how they escape a label; edges are
 * collected during the walk and written after the nodes (a node first named by an edge inside a
 * Mermaid subgraph would land in it). graph_svg runs Graphviz's `dot -Tsvg` as a child process. */
#define _GNU_SOURCE
#include "graph.h"
#include "builtins.h"
#include "engine.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---------- labels: plain UTF-8 text, lines separated by '\n' ---------- */

enum { EXPR_MAX = 60, NAME_MAX_CP = 40, ASSIGN_LINES = 6 };

/* The next code point of s[0..n) (n > 0): its length in *len, or -1 (one byte) when not valid UTF-8. */
static int32_t utf8_next(const unsigned char *s, size_t n, int *len) {
    *len = 1;
    if (s[0] < 0x80) return s[0];
    int k = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : 0;
    if (!k || (size_t)k > n) return -1;
    int32_t c = s[0] & (0x7F >> k);
    for (int i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return -1;
        c = c << 6 | (s[i] & 0x3F);
    }
    if ((k == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (k == 4 && (c < 0x10000 || c > 0x10FFFF))) return -1;
    *len = k;
    return c;
}

/* Appends s[0..n) as one line's text: white space runs (line breaks of an expression written over
 * several lines included) become one space, control characters and bytes that are not UTF-8 become
 * U+FFFD, and past `max` code points the rest is `…`. */
static void put_text(FILE *m, const char *s, size_t n, int max) {
    const unsigned char *u = (const unsigned char *)s;
    int cps = 0, space = 0;
    while (n && (*u == ' ' || *u == '\t' || *u == '\r' || *u == '\n')) { u++; n--; }
    while (n) {
        if (*u == ' ' || *u == '\t' || *u == '\r' || *u == '\n') { space = 1; u++; n--; continue; }
        if (cps + space >= max) { fputs("…", m); return; }
        if (space) { fputc(' ', m); cps++; space = 0; }
        int len;
        int32_t c = utf8_next(u, n, &len);
        if (c < 0 || c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) fputs("\xEF\xBF\xBD", m);
        else fwrite(u, 1, (size_t)len, m);
        cps++;
        u += len;
        n -= (size_t)len;
    }
}

static void put_str(FILE *m, const char *s, int max) { put_text(m, s, strlen(s), max); }

/* An expression or setting as written in the source. */
static void put_src(FILE *m, const IrProgram *p, Span sp, int max) {
    if (sp.end > p->src->len || sp.start > sp.end) return;
    put_text(m, p->src->text + sp.start, sp.end - sp.start, max);
}

static const IrSetting *setting(const IrSetting *s, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].name, name) == 0) return &s[i];
    return NULL;
}

/* A secret setting (connectors.def: auth, dsn) is never drawn, whatever it holds. */
static int secret_setting(const IrSetting *s) {
    return s->def >= 0 && s->def < flow_nsetting_specs && flow_setting_specs[s->def].secret;
}

/* `name = <source text>` of the first of `names` the step has, as a line. */
static void put_where(FILE *m, const IrProgram *p, const IrStep *s, const char *const *names) {
    for (; *names; names++) {
        const IrSetting *st = setting(s->settings, s->nsettings, *names);
        if (!st || secret_setting(st)) continue;
        fprintf(m, "\n%s = ", st->name);
        put_src(m, p, st->value->span, EXPR_MAX);
        return;
    }
}

static void put_conn(FILE *m, const char *word, const IrConn *c) {
    fprintf(m, "\n%s ", word);
    put_str(m, c->name, NAME_MAX_CP);
    if (c->kind >= 0 && flow_conn_kinds[c->kind] && strcmp(c->name, flow_conn_kinds[c->kind]) != 0)   /* not `webhook (webhook)` */
        fprintf(m, " (%s)", flow_conn_kinds[c->kind]);
}

static const char *const where_names[] = { "file", "table", "path", "sql", NULL };

/* `hooks pre_map, post_submit`: the points a flow or an import hooks (the functions are code, not drawn) */
static void put_hooks(FILE *m, const IrHook *h, int n) {
    for (int i = 0; i < n; i++)
        fprintf(m, "%s%s", i ? ", " : "\nhooks ", h[i].point >= 0 && h[i].point < HOOK_COUNT ? ir_hook_names[h[i].point] : "?");
}

static void step_label(FILE *m, const IrProgram *p, const IrStep *s) {
    fputs(ir_step_kind_names[s->kind], m);
    if (s->name && (s->kind == STEP_EXPORT || s->kind == STEP_LOOKUP || s->kind == STEP_IMPORT)) { fputc(' ', m); put_str(m, s->name, NAME_MAX_CP); }
    switch (s->kind) {
    case STEP_EXPORT: {
        if (s->conn) put_conn(m, "from", s->conn);
        put_where(m, p, s, where_names);
        const IrSetting *mode = setting(s->settings, s->nsettings, "mode");
        if (mode) { fputs("\nmode = ", m); put_src(m, p, mode->value->span, EXPR_MAX); }
        else if (!s->conn || s->conn->kind != flow_conn_kind("webhook")) fputs("\nmode = all()", m);   /* the default; a webhook has none */
        break;
    }
    case STEP_LOOKUP: {
        if (s->conn) put_conn(m, "from", s->conn);
        put_where(m, p, s, where_names + 2);
        const IrSetting *miss = setting(s->settings, s->nsettings, "on_missing");
        if (miss) { fputs("\non_missing = ", m); put_src(m, p, miss->value->span, EXPR_MAX); }
        break;
    }
    case STEP_TRANSFORM:
        for (int i = 0; i < s->nassigns && i < ASSIGN_LINES; i++) {
            const IrAssign *a = &s->assigns[i];
            fputc('\n', m);
            if (a->remove) fputs("remove ", m);
            put_src(m, p, a->target->span, NAME_MAX_CP);
            if (a->value) { fputs(" = ", m); put_src(m, p, a->value->span, EXPR_MAX); }
        }
        if (s->nassigns > ASSIGN_LINES) fprintf(m, "\n… %d more", s->nassigns - ASSIGN_LINES);
        break;
    case STEP_FILTER:
        fputc('\n', m);
        put_src(m, p, s->cond->span, EXPR_MAX);
        break;
    case STEP_BRANCH:
        fputs(s->all_matching ? " all_matching" : " first_match", m);
        break;
    case STEP_IMPORT: {
        if (s->conn) put_conn(m, "into", s->conn);
        put_where(m, p, s, where_names);
        static const char *const how[] = { "mode", "upsert", "method", NULL };
        put_where(m, p, s, how);
        if (s->map) fprintf(m, "\nmap: %d field%s", s->map->n, s->map->n == 1 ? "" : "s");
        put_hooks(m, s->hooks, s->nhooks);
        break;
    }
    }
}

/* The entry of a flow: its schedule as written (after() included), its webhook trigger. */
static void entry_label(FILE *m, const IrProgram *p, const IrFlow *f) {
    const IrSetting *sc = setting(f->settings, f->nsettings, "schedule");
    const IrSetting *tr = setting(f->settings, f->nsettings, "trigger");
    if (sc) { fputs("schedule ", m); put_src(m, p, sc->value->span, EXPR_MAX); }
    const IrExpr *t = tr ? tr->value : NULL;
    if (t && t->kind == IR_CALL && t->fn) {
        if (sc) fputc('\n', m);
        put_str(m, t->fn->name, NAME_MAX_CP);
        if (t->nkids && t->kids[0]) { fputc(' ', m); put_src(m, p, t->kids[0]->span, EXPR_MAX); }
        const IrExpr *v = t->nkids > 1 ? t->kids[1] : NULL;   /* the verification's kind, never its secrets */
        if (v && v->kind == IR_CALL && v->fn) { fputs("\nverify ", m); put_str(m, v->fn->name, NAME_MAX_CP); }
    }
    if (!sc && !t) fputs("manual()", m);
    const IrSetting *cu = setting(f->settings, f->nsettings, "catch_up");
    if (cu) { fputs("\ncatch_up = ", m); put_src(m, p, cu->value->span, EXPR_MAX); }
    put_hooks(m, f->hooks, f->nhooks);
}

/* ---------- emitters ---------- */

/* The kinds of node, one table for both formats, so the two pictures cannot drift:
 * X(kind, Mermaid class, fill, stroke, DOT shape and style, Mermaid shape open, close) */
#define GRAPH_NODE_KINDS(X) \
    X(ENTRY, "entry", "#fff3cd", "#b45309", "shape=oval, style=filled", "([", "])") \
    X(EXPORT, "export", "#dbeafe", "#1d4ed8", "shape=box, style=\"rounded,filled\"", "[/", "/]") \
    X(LOOKUP, "lookup", "#ede9fe", "#6d28d9", "shape=box, style=filled", "[[", "]]") \
    X(TRANSFORM, "transform", "#f3f4f6", "#4b5563", "shape=box, style=filled", "[", "]") \
    X(FILTER, "filter", "#fee2e2", "#b91c1c", "shape=box, style=\"filled,diagonals\"", "[\\", "/]") \
    X(BRANCH, "branch", "#fef9c3", "#a16207", "shape=diamond, style=filled", "{", "}") \
    X(MERGE, "merge", "#e5e7eb", "#4b5563", "shape=circle, style=filled, fontsize=9", "((", "))") \
    X(IMPORT, "import", "#dcfce7", "#15803d", "shape=box, style=\"rounded,filled\"", "[(", ")]") \
    X(EMPTY, "empty", NULL, NULL, "shape=plaintext", "[", "]")

typedef enum {
#define X(k, cls, fill, stroke, dot, open, close) N_##k,
    GRAPH_NODE_KINDS(X)
#undef X
    N_KINDS
} NodeKind;

static const struct NodeLook { const char *cls, *fill, *stroke, *dot, *open, *close; } node_look[N_KINDS] = {
#define X(k, cls, fill, stroke, dot, open, close) { cls, fill, stroke, dot, open, close },
    GRAPH_NODE_KINDS(X)
#undef X
};

typedef struct Edge {
    char from[48], to[48];
    char *label;                 /* NULL: none */
    int after;                   /* an after() edge between two flows' clusters */
    char ltail[48], lhead[48];   /* after: the clusters */
} Edge;

typedef struct Emitter {
    void (*begin)(FILE *, const char *title);
    void (*cluster_begin)(FILE *, int depth, const char *id, const char *label);
    void (*cluster_end)(FILE *, int depth);
    void (*node)(FILE *, int depth, const char *id, NodeKind k, const char *label);
    void (*edge)(FILE *, const Edge *e);
    void (*end)(FILE *);
} Emitter;

static void indent(FILE *o, int depth) { fprintf(o, "%*s", 2 * depth, ""); }

/* DOT: a label is a quoted string: `"` and `\` escaped, lines joined by `\n`; `&` as `&amp;` (Graphviz
 * reads HTML entities in every label, so `&lt;` written in a flow must not become `<`). */
static void dot_quote(FILE *o, const char *s) {
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"') fputs("\\\"", o);
        else if (*s == '\\') fputs("\\\\", o);
        else if (*s == '&') fputs("&amp;", o);
        else if (*s == '\n') fputs("\\n", o);
        else fputc(*s, o);
    }
    fputc('"', o);
}

static void dot_begin(FILE *o, const char *title) {
    fputs("digraph flowc {\n  graph [rankdir=TB, compound=true, newrank=true, fontname=\"Helvetica\", labelloc=t, label=", o);
    dot_quote(o, title);
    fputs("];\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n", o);
}
static void dot_cluster_begin(FILE *o, int depth, const char *id, const char *label) {
    indent(o, depth);
    fprintf(o, "subgraph %s {\n", id);
    indent(o, depth + 1);
    fputs("label=", o);
    dot_quote(o, label);
    fputs("; style=rounded; color=\"#9ca3af\";\n", o);
}
static void dot_cluster_end(FILE *o, int depth) { indent(o, depth); fputs("}\n", o); }
static void dot_node(FILE *o, int depth, const char *id, NodeKind k, const char *label) {
    indent(o, depth);
    const struct NodeLook *l = &node_look[k];
    fprintf(o, "%s [%s, ", id, l->dot);
    if (l->fill) fprintf(o, "fillcolor=\"%s\", color=\"%s\", ", l->fill, l->stroke);
    fputs("label=", o);
    dot_quote(o, label);
    fputs("];\n", o);
}
static void dot_edge(FILE *o, const Edge *e) {
    fprintf(o, "  %s -> %s", e->from, e->to);
    if (e->label || e->after) {
        fputs(" [", o);
        if (e->label) { fputs("label=", o); dot_quote(o, e->label); }
        if (e->after) fprintf(o, "%sstyle=dashed, ltail=%s, lhead=%s", e->label ? ", " : "", e->ltail, e->lhead);
        fputs("]", o);
    }
    fputs(";\n", o);
}
static void dot_end(FILE *o) { fputs("}\n", o); }

static const Emitter dot_emitter = { dot_begin, dot_cluster_begin, dot_cluster_end, dot_node, dot_edge, dot_end };

/* Mermaid: a label is a quoted string in which Mermaid decodes `#NN;` entities; every character that
 * means something to Mermaid or to the HTML it renders into is written as one: `"` (ends the string), `#`
 * `&` `<` `>` and the backslash (entities, HTML), `|` (edge labels), `%` `{` `}` (a `%%{...}%%` directive is found
 * anywhere in the text), `:` `;` (Mermaid rewrites `style...:...#...;` before parsing) and the backtick
 * (a markdown string); lines are joined by `<br>`. */
static void mmd_quote(FILE *o, const char *s) {
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '\n') fputs("<br>", o);
        else if (strchr("\"#&<>|{}:;%`\\", *s)) fprintf(o, "#%d;", (unsigned char)*s);
        else fputc(*s, o);
    }
    fputc('"', o);
}

/* The title is the label of one subgraph around everything (a front-matter title would be YAML, with
 * escaping rules of its own). */
static void mmd_begin(FILE *o, const char *title) {
    fputs("flowchart TB\n", o);
    for (int k = 0; k < N_KINDS; k++)
        fprintf(o, "  classDef %s fill:%s,stroke:%s\n", node_look[k].cls, node_look[k].fill ? node_look[k].fill : "none",
                node_look[k].stroke ? node_look[k].stroke : "none");
    fputs("  subgraph integration [", o);
    mmd_quote(o, title);
    fputs("]\n", o);
}
static void mmd_cluster_begin(FILE *o, int depth, const char *id, const char *label) {
    indent(o, depth);
    fprintf(o, "subgraph %s [", id);
    mmd_quote(o, label);
    fputs("]\n", o);
    indent(o, depth + 1);
    fputs("direction TB\n", o);
}
static void mmd_cluster_end(FILE *o, int depth) { indent(o, depth); fputs("end\n", o); }
static void mmd_node(FILE *o, int depth, const char *id, NodeKind k, const char *label) {
    indent(o, depth);
    fprintf(o, "%s%s", id, node_look[k].open);
    mmd_quote(o, label);
    fprintf(o, "%s:::%s\n", node_look[k].close, node_look[k].cls);
}
static void mmd_edge(FILE *o, const Edge *e) {
    if (e->after) fprintf(o, "  %s -.->", e->ltail);
    else fprintf(o, "  %s -->", e->from);
    if (e->label) { fputc('|', o); mmd_quote(o, e->label); fputc('|', o); }
    fprintf(o, " %s\n", e->after ? e->lhead : e->to);
}
static void mmd_end(FILE *o) { fputs("  end\n", o); }

static const Emitter mmd_emitter = { mmd_begin, mmd_cluster_begin, mmd_cluster_end, mmd_node, mmd_edge, mmd_end };

/* ---------- the walk ---------- */

/* The ends of the picture so far, each with the label its edge to the next node will carry. */
typedef struct Tail { char id[48]; char *label; } Tail;
typedef struct Tails { Tail *v; int n, cap; } Tails;

typedef struct G {
    FILE *out;
    const Emitter *em;
    const IrProgram *p;
    Edge *edges; int nedges, cap;
    int fi;                      /* the flow being drawn (its index in the program) */
    char last[48];               /* the last node drawn */
} G;

static void tails_push(Tails *t, const char *id, char *label) {
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 4;
        t->v = realloc(t->v, (size_t)t->cap * sizeof *t->v);
        if (!t->v) abort();
    }
    snprintf(t->v[t->n].id, sizeof t->v[t->n].id, "%s", id);
    t->v[t->n++].label = label;
}

static Edge *edge_add(G *g, const char *from, const char *to, char *label) {
    if (g->nedges == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->edges = realloc(g->edges, (size_t)g->cap * sizeof *g->edges);
        if (!g->edges) abort();
    }
    Edge *e = &g->edges[g->nedges++];
    memset(e, 0, sizeof *e);
    snprintf(e->from, sizeof e->from, "%s", from);
    snprintf(e->to, sizeof e->to, "%s", to);
    e->label = label;
    return e;
}

/* Every tail gets an edge to `id` (the edges take the labels); then `id` is the only tail. */
static void connect(G *g, Tails *t, const char *id) {
    for (int i = 0; i < t->n; i++) edge_add(g, t->v[i].id, id, t->v[i].label);
    t->n = 0;
    tails_push(t, id, NULL);
}

/* Text written to a memory stream, returned malloc'd. */
typedef struct Text { char *s; size_t n; FILE *m; } Text;
static FILE *text_open(Text *t) {
    t->m = open_memstream(&t->s, &t->n);
    if (!t->m) abort();
    return t->m;
}
static char *text_close(Text *t) { fclose(t->m); return t->s; }

static void node(G *g, int depth, const char *id, NodeKind k, const char *label) {
    g->em->node(g->out, depth, id, k, label);
    snprintf(g->last, sizeof g->last, "%s", id);
}

/* The edge label into an arm: its name and its condition. */
static char *arm_label(const G *g, const IrStep *b, const IrArm *a) {
    Text t;
    FILE *m = text_open(&t);
    put_str(m, a->name, NAME_MAX_CP);
    fputs(": ", m);
    if (a->cond) put_src(m, g->p, a->cond->span, EXPR_MAX);
    else fputs(b->all_matching ? "always" : "otherwise", m);
    return text_close(&t);
}

static void walk_steps(G *g, IrStep *const *steps, int n, Tails *t, int depth);

static void walk_branch(G *g, const IrStep *s, const char *id, int more, Tails *t, int depth) {
    Tails outs = { 0 };
    for (int a = 0; a < s->narms; a++) {
        const IrArm *arm = &s->arms[a];
        char cid[64];
        snprintf(cid, sizeof cid, "cluster_f%d_s%d_a%d", g->fi, s->id, a);
        Text lt;
        FILE *m = text_open(&lt);
        fputs("arm ", m);
        put_str(m, arm->name, NAME_MAX_CP);
        char *label = text_close(&lt);
        g->em->cluster_begin(g->out, depth, cid, label);
        free(label);
        Tails at = { 0 };
        tails_push(&at, id, arm_label(g, s, arm));
        if (arm->nsteps) walk_steps(g, arm->steps, arm->nsteps, &at, depth + 1);
        else {   /* an arm without steps: its records are dropped (ignored), they go no further */
            char eid[48];
            snprintf(eid, sizeof eid, "f%d_s%d_a%d", g->fi, s->id, a);
            node(g, depth + 1, eid, N_EMPTY, "no steps: ignored");
            connect(g, &at, eid);
            at.n = 0;
        }
        g->em->cluster_end(g->out, depth);
        for (int i = 0; i < at.n; i++) tails_push(&outs, at.v[i].id, at.v[i].label);
        free(at.v);
    }
    free(t->v);
    *t = outs;
    if (more) {   /* steps follow: the arms merge */
        char mid[48];
        snprintf(mid, sizeof mid, "f%d_m%d", g->fi, s->id);
        node(g, depth, mid, N_MERGE, "merge");
        connect(g, t, mid);
    }
}

static void walk_steps(G *g, IrStep *const *steps, int n, Tails *t, int depth) {
    static const NodeKind kinds[] = { [STEP_EXPORT] = N_EXPORT, [STEP_LOOKUP] = N_LOOKUP, [STEP_TRANSFORM] = N_TRANSFORM,
                                      [STEP_FILTER] = N_FILTER, [STEP_BRANCH] = N_BRANCH, [STEP_IMPORT] = N_IMPORT };
    for (int i = 0; i < n; i++) {
        const IrStep *s = steps[i];
        char id[48];
        snprintf(id, sizeof id, "f%d_s%d", g->fi, s->id);
        Text lt;
        step_label(text_open(&lt), g->p, s);
        char *label = text_close(&lt);
        node(g, depth, id, kinds[s->kind], label);
        free(label);
        connect(g, t, id);
        if (s->kind == STEP_BRANCH) walk_branch(g, s, id, i + 1 < n, t, depth);
    }
}

/* The flow after() names in its schedule, or NULL. */
static const char *after_of(const IrFlow *f) {
    const IrSetting *sc = setting(f->settings, f->nsettings, "schedule");
    const IrExpr *v = sc ? sc->value : NULL;
    if (v && v->kind == IR_CALL && v->fn && strcmp(v->fn->name, "after") == 0 && v->nkids && v->kids[0] &&
        v->kids[0]->kind == IR_WORD)
        return v->kids[0]->name;
    return NULL;
}

void graph_write(FILE *out, const IrProgram *p, const IrFlow *only, GraphFormat fmt) {
    G g = { .out = out, .em = fmt == GRAPH_MERMAID ? &mmd_emitter : &dot_emitter, .p = p };
    Text tt;
    FILE *m = text_open(&tt);
    if (p->name) {
        fputs("integration ", m);
        put_str(m, p->name, 2 * NAME_MAX_CP);
        if (p->version) { fputc(' ', m); put_str(m, p->version, NAME_MAX_CP); }
    } else put_str(m, p->src->name, 2 * NAME_MAX_CP);   /* no integration line: the file */
    if (only) { fputs(" — flow ", m); put_str(m, only->name, NAME_MAX_CP); }
    char *title = text_close(&tt);
    g.em->begin(out, title);
    free(title);
    char (*last)[48] = calloc((size_t)p->nflows + 1, sizeof *last);
    if (!last) abort();
    for (int f = 0; f < p->nflows; f++) {
        const IrFlow *fl = p->flows[f];
        if (only && fl != only) continue;
        g.fi = f;
        char cid[32], id[32];
        snprintf(cid, sizeof cid, "cluster_f%d", f);
        Text lt;
        m = text_open(&lt);
        fputs("flow ", m);
        put_str(m, fl->name, NAME_MAX_CP);
        char *label = text_close(&lt);
        g.em->cluster_begin(out, 1, cid, label);
        free(label);
        snprintf(id, sizeof id, "f%d_in", f);
        entry_label(text_open(&lt), p, fl);
        label = text_close(&lt);
        node(&g, 2, id, N_ENTRY, label);
        free(label);
        Tails t = { 0 };
        tails_push(&t, id, NULL);
        walk_steps(&g, fl->steps, fl->nsteps, &t, 2);
        free(t.v);   /* the flow's last steps: no edge leaves them (and none carries a label) */
        g.em->cluster_end(out, 1);
        snprintf(last[f], sizeof last[f], "%s", g.last);
    }
    /* after() chains: from the end of the flow named to the entry of the flow that follows it */
    for (int f = 0; f < p->nflows && !only; f++) {
        const char *a = after_of(p->flows[f]);
        for (int x = 0; a && x < p->nflows; x++) {
            if (strcmp(p->flows[x]->name, a) != 0) continue;
            char to[32];
            snprintf(to, sizeof to, "f%d_in", f);
            Edge *e = edge_add(&g, last[x], to, strdup("after"));
            e->after = 1;
            snprintf(e->ltail, sizeof e->ltail, "cluster_f%d", x);
            snprintf(e->lhead, sizeof e->lhead, "cluster_f%d", f);
        }
    }
    for (int i = 0; i < g.nedges; i++) {
        g.em->edge(out, &g.edges[i]);
        free(g.edges[i].label);
    }
    free(g.edges);
    free(last);
    g.em->end(out);
}

/* ---------- SVG through Graphviz ---------- */

int graph_svg(const char *dot, size_t len, long timeout_ms, char **svg, size_t *svglen, char *err, size_t errlen) {
    int in[2], outp[2], errp[2];
    *svg = NULL;
    *svglen = 0;
    if (pipe2(in, O_CLOEXEC) < 0) { snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno)); return -1; }
    if (pipe2(outp, O_CLOEXEC) < 0) {
        close(in[0]); close(in[1]);
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(in[0]); close(in[1]); close(outp[0]); close(outp[1]);
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    char *argv[] = { "dot", "-Tsvg", NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, "dot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]); close(outp[1]); close(errp[1]);
    if (rc != 0) {
        close(in[1]); close(outp[0]); close(errp[0]);
        if (rc == ENOENT)
            snprintf(err, errlen, "--format svg needs Graphviz's `dot`, which is not installed (Debian package graphviz: apt-get install graphviz)");
        else snprintf(err, errlen, "cannot run Graphviz's `dot`: %s", strerror(rc));
        return -1;
    }
    /* dot's input, output and complaints at once through poll, so neither side waits on a full pipe */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGPIPE, &ign, &old);
    char *o = NULL, *e = NULL;
    size_t on = 0, en = 0, sent = 0;
    FILE *om = open_memstream(&o, &on), *emm = open_memstream(&e, &en);
    if (!om || !emm) abort();
    int fin = in[1], fout = outp[0], ferr = errp[0], late = 0;
    double deadline = flow_mono_ms() + (double)timeout_ms;
    fcntl(fin, F_SETFL, fcntl(fin, F_GETFL) | O_NONBLOCK);   /* a blocking write of more than the pipe holds would
                                                              * wait for dot while dot waits on a full stderr */
    while (fout >= 0 || ferr >= 0) {
        struct pollfd pf[3];
        int np = 0, iin = -1, iout = -1, ierr = -1;
        if (fin >= 0) { iin = np; pf[np++] = (struct pollfd){ fin, POLLOUT, 0 }; }
        if (fout >= 0) { iout = np; pf[np++] = (struct pollfd){ fout, POLLIN, 0 }; }
        if (ferr >= 0) { ierr = np; pf[np++] = (struct pollfd){ ferr, POLLIN, 0 }; }
        double left = deadline - flow_mono_ms();
        if (left <= 0) { late = 1; kill(pid, SIGKILL); break; }   /* a layout that would not end: dot is stopped */
        int pr = poll(pf, (nfds_t)np, left >= INT_MAX ? INT_MAX : (int)left + 1);
        if (pr < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (pr == 0) continue;
        if (iin >= 0 && pf[iin].revents) {
            ssize_t w = pf[iin].revents & POLLOUT ? write(fin, dot + sent, len - sent) : -1;
            if (w > 0) sent += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == len) { close(fin); fin = -1; }
        }
        int fds[2] = { iout, ierr };
        for (int k = 0; k < 2; k++) {
            if (fds[k] < 0 || !pf[fds[k]].revents) continue;
            int *fd = k ? &ferr : &fout;
            char buf[65536];
            ssize_t r = read(*fd, buf, sizeof buf);
            if (r > 0) fwrite(buf, 1, (size_t)r, k ? emm : om);
            else if (r == 0 || errno != EINTR) { close(*fd); *fd = -1; }
        }
    }
    if (fin >= 0) close(fin);
    if (fout >= 0) close(fout);
    if (ferr >= 0) close(ferr);
    fclose(om);
    fclose(emm);
    sigaction(SIGPIPE, &old, NULL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (late) {
        snprintf(err, errlen, "Graphviz's `dot -Tsvg` did not finish within %ld s and was stopped (FLOWC_GRAPH_TIMEOUT sets the limit;"
                 " --format dot writes the DOT text without laying it out)", timeout_ms / 1000);
        free(o);
        free(e);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || on == 0) {
        while (en && (e[en - 1] == '\n' || e[en - 1] == '\r')) e[--en] = 0;
        snprintf(err, errlen, "Graphviz's `dot -Tsvg` failed (%s %d)%s%s", WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), en ? ": " : "", en ? e : "");
        free(o);
        free(e);
        return -1;
    }
    free(e);
    *svg = o;
    *svglen = on;
    return 0;
}
