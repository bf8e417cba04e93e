/* ir.c — IR node construction and the printable dump (`flowc dump ir`), which golden tests diff.
 * Expressions print in source-like syntax with resolution made visible: lookups as @name, each
 * variables as $name, bare words as #word, secrets as env("X"); types follow `:` once checked. */
#include "ir.h"
#include "builtins.h"
#include "diag.h"
#include <string.h>

const char *const ir_expr_kind_names[] = {
#define X(k, s) s,
    IR_EXPR_KINDS(X)
#undef X
};
const char *const ir_step_kind_names[] = {
#define X(k, s) s,
    IR_STEP_KINDS(X)
#undef X
};
const char *const ir_hook_names[] = {
#define X(n) #n,
    IR_HOOK_POINTS(X)
#undef X
};
const char *const ir_context_roots[] = {
#define X(id, root, field) root,
    IR_CONTEXTS(X)
#undef X
};
const char *const ir_context_fields[] = {
#define X(id, root, field) field,
    IR_CONTEXTS(X)
#undef X
};

IrExpr *ir_expr(Arena *a, IrExprKind k, Span sp) {
    IrExpr *e = arena_alloc(a, sizeof *e);
    e->kind = k;
    e->span = sp;
    return e;
}

typedef struct { FILE *out; const IrProgram *p; Arena *ar; } D;

static void expr(D *d, const IrExpr *e);
static void type(D *d, const Type *t);
static void map_block(D *d, const IrMap *m, int ind);

static void str(D *d, const char *s, size_t n) { diag_json_string(d->out, s, n); }
static void type(D *d, const Type *t) { if (t) fprintf(d->out, "%s", ty_str_full(d->ar, t)); }
static void indent(D *d, int n) { for (int i = 0; i < n; i++) fputs("  ", d->out); }

static void tpl(D *d, const IrExpr *e) {
    fputs("template(", d->out);
    for (int i = 0; i < e->nkids; i++) {
        if (i) fputs(", ", d->out);
        const IrExpr *p = e->kids[i];
        if (p->kind == IR_STR) str(d, p->str, p->slen);
        else if (p->kind == IR_TPL_VALUE) { fputs(p->op ? "raw " : "", d->out); expr(d, p->a); }
        else if (p->kind == IR_TPL_SECTION) {
            fprintf(d->out, "#%s ", p->name);
            expr(d, p->a);
            fputs(" { ", d->out);
            if (p->b) tpl(d, p->b);
            if (p->c) { fputs(" } else { ", d->out); tpl(d, p->c); }
            fputs(" }", d->out);
        } else expr(d, p);
    }
    fputs(")", d->out);
}

/* map entries on one line: { name: T = value when cond, nested { ... } } */
static void inline_map(D *d, const IrMap *m) {
    fputs("{", d->out);
    for (int i = 0; i < m->n; i++) {
        const IrMapEntry *en = &m->entries[i];
        fprintf(d->out, "%s%s", i ? ", " : " ", en->name);
        if (en->override) { fputs(": ", d->out); type(d, en->override); }
        if (en->nested) { fputs(" ", d->out); inline_map(d, en->nested); }
        else { fputs(" = ", d->out); expr(d, en->value); }
        if (en->when) { fputs(" when ", d->out); expr(d, en->when); }
    }
    fputs(m->n ? " }" : "}", d->out);
}

static void expr(D *d, const IrExpr *e) {
    FILE *o = d->out;
    if (!e) { fputs("-", o); return; }
    switch (e->kind) {
    case IR_NULL: fputs("null", o); break;
    case IR_BOOL: fputs(e->ival ? "true" : "false", o); break;
    case IR_INT: fprintf(o, "%lld", (long long)e->ival); break;
    case IR_NUM: fprintf(o, "%.17g", e->num); break;
    case IR_STR: str(d, e->str, e->slen); break;
    case IR_DURATION: fprintf(o, "%lldms", (long long)e->ival); break;
    case IR_SIZE: fprintf(o, "%lldB", (long long)e->ival); break;
    case IR_TEMPLATE: tpl(d, e); break;
    case IR_TPL_VALUE: case IR_TPL_SECTION: fputs("<template part>", o); break;
    case IR_RECORD: fputs("record", o); break;
    case IR_LOOKUP: fprintf(o, "@%s", e->name); break;
    case IR_PARAM: fprintf(o, "param.%s", e->name); break;
    case IR_ENV: fputs("env(", o); str(d, e->name, strlen(e->name)); fputs(")", o); break;
    case IR_CONTEXT: fprintf(o, "%s.%s", ir_context_roots[e->op], ir_context_fields[e->op]); break;
    case IR_RESPONSE: fputs("response", o); break;
    case IR_EXISTING: fputs("existing", o); break;
    case IR_MAPCTX: fputs(e->op ? "updating" : "creating", o); break;
    case IR_VAR: fprintf(o, "$%s", e->var ? e->var->name : e->name); break;
    case IR_TABLE: fprintf(o, "table.%s", e->name); break;
    case IR_WORD: fprintf(o, "#%s", e->name); break;
    case IR_FIELD: expr(d, e->a); fprintf(o, ".%s", e->name); break;
    case IR_TPL_NAME:
        fprintf(o, "%s@[", e->name);
        for (int i = 0; i < e->nkids; i++) { if (i) fputs(", ", o); expr(d, e->kids[i]); }
        fputs("]", o);
        break;
    case IR_INDEX: expr(d, e->a); fputs("[", o); expr(d, e->b); fputs("]", o); break;
    case IR_CALL: {
        fprintf(o, "%s(", e->name);
        int first = 1;
        for (int i = 0; i < e->nkids; i++) {
            if (!e->kids[i]) continue;
            if (!first) fputs(", ", o);
            first = 0;
            if (e->fn && i < e->fn->nparams && e->fn->nparams > 1) fprintf(o, "%s=", e->fn->params[i].name);
            expr(d, e->kids[i]);
        }
        fputs(")", o);
        break;
    }
    case IR_UNARY:
        fputs(e->op == OP_NOT ? "(not " : "(-", o);
        expr(d, e->a);
        fputs(")", o);
        break;
    case IR_BINARY:
        fputs("(", o); expr(d, e->a); fprintf(o, " %s ", ast_op_names[e->op]); expr(d, e->b); fputs(")", o);
        break;
    case IR_IF:
        fputs("(if ", o); expr(d, e->a); fputs(" then ", o); expr(d, e->b); fputs(" else ", o); expr(d, e->c); fputs(")", o);
        break;
    case IR_EACH:
        fprintf(o, "(each $%s in ", e->var->name);
        expr(d, e->a);
        if (e->b) { fputs(" where ", o); expr(d, e->b); }
        if (e->c) { fputs(" => ", o); expr(d, e->c); }
        else if (e->map) {
            fputs(" ", o);
            inline_map(d, e->map);
        }
        fputs(")", o);
        break;
    case IR_OBJECT:
        fputs("{", o);
        for (int i = 0; i < e->nkids; i++) {
            fputs(i ? ", " : " ", o);
            str(d, e->keys[i], strlen(e->keys[i]));
            fputs(": ", o);
            expr(d, e->kids[i]);
        }
        fputs(e->nkids ? " }" : "}", o);
        break;
    case IR_ARRAY:
        fputs("[", o);
        for (int i = 0; i < e->nkids; i++) { if (i) fputs(", ", o); expr(d, e->kids[i]); }
        fputs("]", o);
        break;
    case IR_ERROR: fputs("<error>", o); break;
    default: fputs("?", o); break;
    }
}

/* an expression followed by its type, when the checker has run */
static void typed(D *d, const IrExpr *e) {
    expr(d, e);
    if (e && e->type) { fputs(" : ", d->out); type(d, e->type); }
    fputc('\n', d->out);
}

static void settings(D *d, const IrSetting *s, int n, int ind) {
    for (int i = 0; i < n; i++) {
        indent(d, ind);
        fprintf(d->out, "%s = ", s[i].name);
        typed(d, s[i].value);
    }
}

static void map_block(D *d, const IrMap *m, int ind) {
    for (int i = 0; i < m->n; i++) {
        const IrMapEntry *en = &m->entries[i];
        indent(d, ind);
        fprintf(d->out, "%s", en->name);
        if (en->override) { fputs(": ", d->out); type(d, en->override); }
        if (en->nested) {
            fputs(" {", d->out);
            if (en->when) { fputs(" when ", d->out); expr(d, en->when); }
            fputc('\n', d->out);
            map_block(d, en->nested, ind + 1);
            indent(d, ind);
            fputs("}\n", d->out);
            continue;
        }
        fputs(" = ", d->out);
        expr(d, en->value);
        if (en->when) { fputs(" when ", d->out); expr(d, en->when); }
        if (en->value && en->value->type) { fputs(" : ", d->out); type(d, en->value->type); }
        fputc('\n', d->out);
    }
}

static void assigns(D *d, const IrAssign *a, int n, int ind) {
    for (int i = 0; i < n; i++) {
        indent(d, ind);
        if (a[i].remove) { fputs("remove ", d->out); expr(d, a[i].target); fputc('\n', d->out); continue; }
        expr(d, a[i].target);
        fputs(" = ", d->out);
        typed(d, a[i].value);
    }
}

static void hooks(D *d, const IrHook *h, int n, int ind) {
    for (int i = 0; i < n; i++) {
        indent(d, ind);
        fprintf(d->out, "hook %s = ", h[i].point >= 0 ? ir_hook_names[h[i].point] : "?");
        expr(d, h[i].value);
        fputc('\n', d->out);
    }
}

static void steps(D *d, IrStep *const *s, int n, int ind);

static void step(D *d, const IrStep *st, int ind) {
    FILE *o = d->out;
    indent(d, ind);
    fprintf(o, "step %d %s", st->id, ir_step_kind_names[st->kind]);
    if (st->name && st->kind != STEP_BRANCH) fprintf(o, " %s", st->name);
    if (st->conn) fprintf(o, " %s %s", st->kind == STEP_IMPORT ? "into" : "from", st->conn->name);
    if (st->declared) { fputs(" : ", o); type(d, st->declared); }
    if (st->kind == STEP_BRANCH) fputs(st->all_matching ? " all_matching" : " first_match", o);
    fputc('\n', o);
    if (st->in && st->kind != STEP_EXPORT) { indent(d, ind + 1); fputs("in: ", o); type(d, st->in); fputc('\n', o); }
    settings(d, st->settings, st->nsettings, ind + 1);
    if (st->kind == STEP_LOOKUP && st->result) { indent(d, ind + 1); fprintf(o, "binds @%s : ", st->name); type(d, st->result); fputc('\n', o); }
    assigns(d, st->assigns, st->nassigns, ind + 1);
    if (st->cond) { indent(d, ind + 1); fputs("if ", o); typed(d, st->cond); }
    for (int i = 0; i < st->narms; i++) {
        indent(d, ind + 1);
        fprintf(o, "arm %s", st->arms[i].name);
        if (st->arms[i].cond) { fputs(" when ", o); typed(d, st->arms[i].cond); }
        else fputs(" (rest)\n", o);
        steps(d, st->arms[i].steps, st->arms[i].nsteps, ind + 2);
    }
    if (st->map) { indent(d, ind + 1); fputs("map\n", o); map_block(d, st->map, ind + 2); }
    if (st->response) { indent(d, ind + 1); fputs("response\n", o); assigns(d, st->response, st->nresponse, ind + 2); }
    hooks(d, st->hooks, st->nhooks, ind + 1);
    if (st->out) { indent(d, ind + 1); fputs("out: ", o); type(d, st->out); fputc('\n', o); }
}

static void steps(D *d, IrStep *const *s, int n, int ind) { for (int i = 0; i < n; i++) step(d, s[i], ind); }

/* A record type in full, one field per line, for type declarations. */
static void full_type(D *d, const Type *t, int ind) {
    if (t->kind != TY_RECORD) { type(d, t); return; }
    fputs("{\n", d->out);
    for (int i = 0; i < t->nfields; i++) {
        indent(d, ind + 1);
        fprintf(d->out, "%s: ", t->fields[i].name);
        const Type *ft = t->fields[i].type;
        if (ft->kind == TY_RECORD && !ft->name) full_type(d, ft, ind + 1);
        else type(d, ft);
        fputc('\n', d->out);
    }
    indent(d, ind);
    fputs("}", d->out);
    if (t->nullable) fputs("?", d->out);
}

IrFlow *ir_flow_named(const IrProgram *p, const char *name) {
    for (int i = 0; i < p->nflows; i++)
        if (strcmp(p->flows[i]->name, name) == 0) return p->flows[i];
    return NULL;
}

void ir_dump(FILE *out, const IrProgram *p) {
    D d = { out, p, arena_new() };
    if (p->name) {
        fputs("integration ", out);
        str(&d, p->name, strlen(p->name));
        if (p->version) { fputs(" version ", out); str(&d, p->version, strlen(p->version)); }
        fputc('\n', out);
    }
    for (int i = 0; i < p->nparams; i++) {
        fprintf(out, "param %s: ", p->params[i]->name);
        type(&d, p->params[i]->type);
        if (p->params[i]->def) { fputs(" = ", out); expr(&d, p->params[i]->def); }
        fputc('\n', out);
    }
    for (int i = 0; i < p->nenvs; i++) {
        fprintf(out, "env %s\n", p->envs[i]->name);
        settings(&d, p->envs[i]->settings, p->envs[i]->nsettings, 1);
    }
    for (int i = 0; i < p->ntables; i++) {
        fprintf(out, "table %s: ", p->tables[i]->name);
        expr(&d, p->tables[i]->value);
        if (p->tables[i]->elem) { fputs(" : [key] -> ", out); type(&d, ty_nullable(d.ar, p->tables[i]->elem)); }
        fputc('\n', out);
    }
    for (int i = 0; i < p->ntypes; i++) {
        fprintf(out, "type %s = ", p->types[i]->name);
        if (p->types[i]->type) full_type(&d, p->types[i]->type, 0);
        fputc('\n', out);
    }
    for (int i = 0; i < p->nconns; i++) {
        const IrConn *c = p->conns[i];
        fprintf(out, "connection %s\n", c->name);
        settings(&d, c->settings, c->nsettings, 1);
    }
    for (int i = 0; i < p->nflows; i++) {
        const IrFlow *f = p->flows[i];
        fprintf(out, "flow %s\n", f->name);
        settings(&d, f->settings, f->nsettings, 1);
        hooks(&d, f->hooks, f->nhooks, 1);
        steps(&d, f->steps, f->nsteps, 1);
    }
    for (int i = 0; i < p->ntests; i++) {
        const IrTest *t = p->tests[i];
        fputs("test ", out);
        str(&d, t->title, strlen(t->title));
        fprintf(out, " for %s\n", t->flow ? t->flow->name : "?");
        for (int k = 0; k < t->ngivens; k++) {
            fprintf(out, "  given %s = ", t->givens[k].name);
            typed(&d, t->givens[k].value);
        }
        for (int k = 0; k < t->nexpects; k++) { fputs("  expect ", out); typed(&d, t->expects[k]); }
    }
    arena_free(d.ar);
}

static int any_map(const IrMap *m, int (*fn)(const IrExpr *, void *), void *ud) {
    for (int i = 0; m && i < m->n; i++) {
        const IrMapEntry *en = &m->entries[i];
        if (ir_any_expr(en->value, fn, ud) || ir_any_expr(en->when, fn, ud) || any_map(en->nested, fn, ud)) return 1;
    }
    return 0;
}

int ir_any_expr(const IrExpr *x, int (*fn)(const IrExpr *, void *), void *ud) {
    if (!x) return 0;
    if (fn(x, ud)) return 1;
    if (ir_any_expr(x->a, fn, ud) || ir_any_expr(x->b, fn, ud) || ir_any_expr(x->c, fn, ud)) return 1;
    for (int i = 0; i < x->nkids; i++) if (ir_any_expr(x->kids[i], fn, ud)) return 1;
    return any_map(x->map, fn, ud);
}
