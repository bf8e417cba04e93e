/* lower.c — AST -> IR. Resolves every name to its declaration (types, connections, params, tables,
 * flows, steps, lookups in scope, each-variables), turns templates into expression trees, maps
 * context names (delta.since, page.size, ...) and template helpers onto IR nodes, and rejects
 * duplicates. Types are resolved here; everything about expression types is left to check.c. */
#include "lower.h"
#include "builtins.h"
#include "suggest.h"
#include "template.h"
#include "engine.h"   /* flow_conn_kinds: runtime/connectors.def's kinds */
#include <stddef.h>
#include <string.h>

/* ---- a string-keyed hash map in the arena (declaration tables can hold thousands of names) ---- */

typedef struct { const char **keys; void **vals; int cap, n; } Map;

static uint32_t hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void *map_get(const Map *m, const char *k) {
    if (!m->cap) return NULL;
    for (uint32_t i = hash(k) & (uint32_t)(m->cap - 1);; i = (i + 1) & (uint32_t)(m->cap - 1)) {
        if (!m->keys[i]) return NULL;
        if (strcmp(m->keys[i], k) == 0) return m->vals[i];
    }
}

static void map_put(Arena *a, Map *m, const char *k, void *v) {
    if ((m->n + 1) * 2 > m->cap) {
        Map old = *m;
        m->cap = m->cap ? m->cap * 2 : 16;
        m->keys = arena_alloc(a, sizeof(char *) * (size_t)m->cap);
        m->vals = arena_alloc(a, sizeof(void *) * (size_t)m->cap);
        m->n = 0;
        for (int i = 0; i < old.cap; i++) if (old.keys[i]) map_put(a, m, old.keys[i], old.vals[i]);
    }
    uint32_t i = hash(k) & (uint32_t)(m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k) != 0) i = (i + 1) & (uint32_t)(m->cap - 1);
    if (!m->keys[i]) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
}

static void map_suggest(const Map *m, Suggest *s) {
    for (int i = 0; i < m->cap; i++) if (m->keys[i]) sug_offer(s, m->keys[i]);
}

/* ---- lowering state ---- */

typedef struct Scope { struct Scope *up; IrVar *var; } Scope;   /* each / template variables */

typedef struct TypeSlot { const AstNode *decl; IrTypeDecl *ir; int state; } TypeSlot;  /* 0 new, 1 resolving, 2 done */

typedef struct L {
    Arena *ar;
    Diags *d;
    const Source *src;
    IrProgram *p;
    Map types, conns, params, tables, flows, envs;
    /* per flow */
    IrFlow *flow;
    Map steps;                 /* step names of the current flow */
    ArenaVec visible;            /* lookups visible at this point (IrStep *) */
    ArenaVec all;                /* every step of the flow in source order */
    int in_env;                /* lowering an env block: param refs are not "uses" */
    int tpl_each;              /* inside a template #each/#with: bare names are fields of `this` */
    int tpl_root;              /* `flowc eval --template`: the record is the template's root context */
} L;

#define ERR(sp, ...) diag_error(l->d, l->src, sp, __VA_ARGS__)
#define FIX(sp, wrong, best) diag_fix(l->d, sp, wrong, best)   /* the suggestion as a quick fix (lsp) */
#define WARN(sp, ...) diag_warning(l->d, l->src, sp, __VA_ARGS__)
#define NEWARR(T, n) ((T *)arena_alloc(l->ar, sizeof(T) * (size_t)((n) ? (n) : 1)))

static int line_of(L *l, Span sp) { int line, col; src_line_col(l->src, sp.start, &line, &col); return line; }

static void dup_error(L *l, const char *what, const char *name, Span sp, Span first) {
    ERR(sp, "duplicate %s `%s` (first declared on line %d)", what, name, line_of(l, first));
}

static void unknown(L *l, Span sp, const char *what, const char *name, const Map *m, const char *const *extra) {
    Suggest s;
    sug_init(&s, name);
    if (m) map_suggest(m, &s);
    for (int i = 0; extra && extra[i]; i++) sug_offer(&s, extra[i]);
    const char *best = sug_best(&s);
    if (best) {
        ERR(sp, "unknown %s `%s`; did you mean `%s`?", what, name, best);
        FIX(sp, name, best);
    }
    else ERR(sp, "unknown %s `%s`", what, name);
}

/* ---- types: resolved lazily so declarations may come in any order ---- */

static Type *lower_type(L *l, const AstNode *t);

static const struct { const char *name; Type *t; } scalars[] = {
    { "string", &ty_string }, { "int", &ty_int }, { "number", &ty_number }, { "bool", &ty_bool },
    { "datetime", &ty_datetime }, { "json", &ty_json }, { "duration", &ty_duration }, { "size", &ty_size },
};

static Type *named_type(L *l, const char *name, Span sp) {
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (strcmp(scalars[i].name, name) == 0) return scalars[i].t;
    TypeSlot *slot = map_get(&l->types, name);
    if (!slot) {
        static const char *const builtin_names[] = { "string", "int", "number", "bool", "datetime", "json", NULL };
        unknown(l, sp, "type", name, &l->types, builtin_names);
        return &ty_error;
    }
    if (slot->state == 1) {
        ERR(sp, "type `%s` refers to itself; recursive types are not supported", name);
        return &ty_error;
    }
    if (slot->state == 0) {
        slot->state = 1;
        Type *t = lower_type(l, slot->decl->a);
        if (t->kind == TY_RECORD || t->kind == TY_ARRAY) {
            Type *n = arena_alloc(l->ar, sizeof *n);
            *n = *t;
            n->name = slot->decl->name;
            t = n;
        }
        slot->ir->type = t;
        slot->state = 2;
    }
    return slot->ir->type;
}

static Type *lower_type(L *l, const AstNode *t) {
    if (!t) return &ty_error;
    switch (t->kind) {
    case AST_TY_NAME: return named_type(l, t->name, t->span);
    case AST_TY_ARRAY: return ty_array(l->ar, lower_type(l, t->a));
    case AST_TY_OPTIONAL: {
        Type *in = lower_type(l, t->a);
        if (in->nullable && in->kind != TY_ERROR) WARN(t->span, "type is already nullable; one `?` is enough");
        return ty_nullable(l->ar, in);
    }
    case AST_TY_RECORD: {
        Type *r = ty_new(l->ar, TY_RECORD);
        r->fields = NEWARR(TypeField, t->kids.n);
        for (int i = 0; i < t->kids.n; i++) {
            const AstNode *f = t->kids.items[i];
            const TypeField *prev = ty_field(r, f->name);
            if (prev) { dup_error(l, "field", f->name, f->name_span, prev->span); continue; }
            r->fields[r->nfields++] = (TypeField){ f->name, lower_type(l, f->a), f->name_span };
        }
        return r;
    }
    default: return &ty_error;
    }
}

/* ---- expressions ---- */

static IrExpr *lower_expr(L *l, const AstNode *e, Scope *sc);
static IrMap *lower_map(L *l, const AstNode *m, Scope *sc);

static IrExpr *mk(L *l, IrExprKind k, Span sp) { return ir_expr(l->ar, k, sp); }

static IrVar *find_var(Scope *sc, const char *name) {
    for (; sc; sc = sc->up) if (sc->var && strcmp(sc->var->name, name) == 0) return sc->var;
    return NULL;
}

static IrStep *find_lookup(L *l, const char *name) {
    for (int i = l->visible.n - 1; i >= 0; i--) {
        IrStep *s = l->visible.items[i];
        if (strcmp(s->name, name) == 0) return s;
    }
    return NULL;
}

static const char *const context_roots_list[] = { "delta", "page", "run", "flow", "param", NULL };
static int is_context_root(const char *n) {
    for (int i = 0; context_roots_list[i]; i++) if (strcmp(context_roots_list[i], n) == 0) return 1;
    return 0;
}

/* Mustache: a bare name inside a section is looked up in the section values around it, innermost
 * first, and for `flowc eval --template` in the record last (the root context). The checker turns
 * it into a plain field when the innermost value's type declares the name. */
static IrExpr *tpl_name(L *l, const AstNode *e, Scope *sc) {
    IrExpr *x = mk(l, IR_TPL_NAME, e->span);
    x->name = e->name;
    int n = 1;
    for (Scope *s = sc; s; s = s->up) n += s->var && strcmp(s->var->name, "this") == 0;
    x->kids = NEWARR(IrExpr *, n);
    for (Scope *s = sc; s; s = s->up) {
        if (!s->var || strcmp(s->var->name, "this") != 0) continue;
        IrExpr *t = mk(l, IR_VAR, e->span);
        t->var = s->var;
        t->name = "this";
        s->var->used = 1;
        x->kids[x->nkids++] = t;
    }
    if (l->tpl_root) x->kids[x->nkids++] = mk(l, IR_RECORD, e->span);
    return x;
}

/* A bare name: a variable, the record, a lookup in scope, a table, a map-context flag, or a word
 * (left for the checker: `POST`, `ndjson` and field names in settings are words). */
static IrExpr *lower_name(L *l, const AstNode *e, Scope *sc) {
    const char *n = e->name;
    if (n[0] == '.') {
        ERR(e->span, "parent paths (`../x`) are not supported in templates: name the value from its root, as in `record.x`");
        return mk(l, IR_ERROR, e->span);
    }
    IrVar *v = find_var(sc, n);
    if (v) { IrExpr *x = mk(l, IR_VAR, e->span); x->var = v; x->name = n; v->used = 1; return x; }
    if (l->tpl_root && strcmp(n, "this") == 0) return mk(l, IR_RECORD, e->span);   /* `{{.}}` outside sections */
    if (n[0] != '@' && strcmp(n, "record") != 0
        && (l->tpl_root || (l->tpl_each && find_var(sc, "this") && !find_lookup(l, n)
                            && strcmp(n, "lastExportDateTime") != 0 && strcmp(n, "currentExportDateTime") != 0)))
        return tpl_name(l, e, sc);
    if (strcmp(n, "record") == 0) return mk(l, IR_RECORD, e->span);
    if (strcmp(n, "response") == 0) return mk(l, IR_RESPONSE, e->span);
    if (strcmp(n, "existing") == 0) return mk(l, IR_EXISTING, e->span);
    if (strcmp(n, "lastExportDateTime") == 0 || strcmp(n, "currentExportDateTime") == 0) {
        IrExpr *x = mk(l, IR_CONTEXT, e->span);
        x->op = n[0] == 'l' ? CTX_DELTA_SINCE : CTX_DELTA_UNTIL;
        return x;
    }
    IrStep *lk = find_lookup(l, n);
    if (lk) { IrExpr *x = mk(l, IR_LOOKUP, e->span); x->step = lk; x->name = n; lk->used = 1; return x; }
    IrTable *t = map_get(&l->tables, n);
    if (t) { IrExpr *x = mk(l, IR_TABLE, e->span); x->table = t; x->name = n; t->used = 1; return x; }
    if (strcmp(n, "creating") == 0 || strcmp(n, "updating") == 0) {
        IrExpr *x = mk(l, IR_MAPCTX, e->span);
        x->op = n[0] == 'u';
        x->name = n;
        return x;
    }
    IrExpr *w = mk(l, IR_WORD, e->span);
    w->name = n;
    return w;
}

/* root.field for the context roots: delta.since, page.size, run.id, flow.name, param.x */
static IrExpr *lower_context(L *l, const AstNode *e) {
    const char *root = e->a->name, *f = e->name;
    if (strcmp(root, "param") == 0) {
        IrParam *p = map_get(&l->params, f);
        if (!p) { unknown(l, e->name_span, "param", f, &l->params, NULL); return mk(l, IR_ERROR, e->span); }
        if (!l->in_env) p->used = 1;
        IrExpr *x = mk(l, IR_PARAM, e->span);
        x->param = p; x->name = f;
        return x;
    }
    Suggest s;
    sug_init(&s, f);
#define X(id, r, fld) \
    if (strcmp(root, r) == 0) { \
        if (strcmp(f, fld) == 0) { IrExpr *x = mk(l, IR_CONTEXT, e->span); x->op = CTX_##id; return x; } \
        sug_offer(&s, fld); \
    }
    IR_CONTEXTS(X)
#undef X
    if (sug_best(&s)) {
        ERR(e->name_span, "`%s` has no field `%s`; did you mean `%s`?", root, f, sug_best(&s));
        FIX(e->name_span, f, sug_best(&s));
    }
    else ERR(e->name_span, "`%s` has no field `%s`", root, f);
    return mk(l, IR_ERROR, e->span);
}

/* Template helpers (Handlebars names) onto language built-ins or operators. */
typedef struct { const char *helper, *builtin; int op; int swap; } Helper;
static const Helper helpers[] = {
    { "lowercase", "lower", -1, 0 }, { "uppercase", "upper", -1, 0 }, { "trim", "trim", -1, 0 },
    { "dateFormat", "format_date", -1, 1 }, { "join", "join", -1, 0 }, { "replace", "replace", -1, 0 },
    { "substring", "substr", -1, 0 }, { "padLeft", "pad_left", -1, 0 }, { "split", "split", -1, 0 },
    { "floor", "floor", -1, 0 }, { "ceil", "ceil", -1, 0 }, { "round", "round", -1, 0 }, { "abs", "abs", -1, 0 },
    { "regexMatch", "regex_match", -1, 0 }, { "regexReplace", "regex_replace", -1, 0 },
    { "jsonSerialize", "to_json", -1, 0 }, { "toString", "to_string", -1, 0 },
    { "default", NULL, OP_COALESCE, 0 }, { "add", NULL, OP_ADD, 0 }, { "subtract", NULL, OP_SUB, 0 },
    { "multiply", NULL, OP_MUL, 0 }, { "divide", NULL, OP_DIV, 0 }, { "eq", NULL, OP_EQ, 0 },
    { "and", NULL, OP_AND, 0 }, { "or", NULL, OP_OR, 0 }, { "not", NULL, OP_NOT, 0 },
    { "compare", NULL, -2, 0 },
};

static IrExpr *lower_call_args(L *l, const AstNode *e, const Builtin *b, Scope *sc, IrExpr *first_swapped);

const char *lower_template_helper(int i, const char **builtin) {
    if (i < 0 || (size_t)i >= sizeof helpers / sizeof helpers[0]) return NULL;
    if (builtin) *builtin = helpers[i].builtin;
    return helpers[i].helper;
}

static IrExpr *lower_helper(L *l, const AstNode *e, Scope *sc) {
    const Helper *h = NULL;
    Suggest s;
    sug_init(&s, e->name);
    for (size_t i = 0; i < sizeof helpers / sizeof helpers[0]; i++) {
        if (strcmp(helpers[i].helper, e->name) == 0) h = &helpers[i];
        sug_offer(&s, helpers[i].helper);
    }
    if (!h) {
        if (sug_best(&s)) {
            ERR(e->name_span, "unknown template helper `%s`; did you mean `%s`?", e->name, sug_best(&s));
            FIX(e->name_span, e->name, sug_best(&s));
        }
        else ERR(e->name_span, "unknown template helper `%s`", e->name);
        return mk(l, IR_ERROR, e->span);
    }
    int n = e->kids.n;
    if (h->op == -2) {   /* compare a "op" b */
        if (n != 3 || e->kids.items[1]->kind != AST_STR) {
            ERR(e->span, "`compare` takes a value, an operator string and a value: {{#compare a \"==\" b}}");
            return mk(l, IR_ERROR, e->span);
        }
        static const struct { const char *s; int op; } ops[] = {
            { "==", OP_EQ }, { "===", OP_EQ }, { "!=", OP_NE }, { "!==", OP_NE }, { "<", OP_LT },
            { "<=", OP_LE }, { ">", OP_GT }, { ">=", OP_GE } };
        const char *o = e->kids.items[1]->str;
        IrExpr *x = mk(l, IR_BINARY, e->span);
        int op = -1;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) if (strcmp(ops[i].s, o) == 0) op = ops[i].op;
        x->op = (unsigned)(op < 0 ? 0 : op);
        if (op < 0) { ERR(e->kids.items[1]->span, "unknown comparison `%s` in `compare`", o); return mk(l, IR_ERROR, e->span); }
        x->a = lower_expr(l, e->kids.items[0], sc);
        x->b = lower_expr(l, e->kids.items[2], sc);
        return x;
    }
    if (h->op >= 0) {
        int want = h->op == OP_NOT ? 1 : 2;
        if (n != want) {
            ERR(e->span, "template helper `%s` takes %d argument%s", e->name, want, want == 1 ? "" : "s");
            return mk(l, IR_ERROR, e->span);
        }
        IrExpr *x = mk(l, want == 1 ? IR_UNARY : IR_BINARY, e->span);
        x->op = h->op;
        x->a = lower_expr(l, e->kids.items[0], sc);
        if (want == 2) x->b = lower_expr(l, e->kids.items[1], sc);
        x->helper = 1;
        return x;
    }
    const Builtin *b = bi_lookup(h->builtin);
    IrExpr *swapped = NULL;
    if (h->swap) {   /* dateFormat "FMT" date -> format_date(date, "FMT") */
        if (n < 2) { ERR(e->span, "`%s` takes a format and a date: {{%s \"YYYY-MM-DD\" record.created_at}}", e->name, e->name);
                     return mk(l, IR_ERROR, e->span); }
        swapped = lower_expr(l, e->kids.items[0], sc);
    }
    IrExpr *x = lower_call_args(l, e, b, sc, swapped);
    x->helper = 1;
    return x;
}

/* Places positional and named arguments into parameter slots. Words stay words where the
 * parameter wants a word, a field name or a flow name. */
static IrExpr *lower_call_args(L *l, const AstNode *e, const Builtin *b, Scope *sc, IrExpr *swapped) {
    IrExpr *x = mk(l, IR_CALL, e->span);
    x->fn = b;
    x->name = b->name;
    int variadic = b->nparams && b->params[b->nparams - 1].variadic;
    int cap = e->kids.n > b->nparams ? e->kids.n : b->nparams;
    x->kids = NEWARR(IrExpr *, cap + 1);
    x->nkids = b->nparams;
    int pos = 0, named_seen = 0;
    int start = 0;
    if (swapped) {   /* helper with (format, date): date first */
        x->kids[1] = swapped;
        start = 1;
        if (e->kids.n > 1) x->kids[0] = lower_expr(l, e->kids.items[1], sc);
        pos = 2;
        start = 2;
    }
    for (int i = start; i < e->kids.n; i++) {
        const AstNode *a = e->kids.items[i];
        int slot;
        const AstNode *val = a;
        if (a->kind == AST_NAMEDARG) {
            named_seen = 1;
            slot = -1;
            Suggest s;
            sug_init(&s, a->name);
            for (int k = 0; k < b->nparams; k++) {
                if (strcmp(b->params[k].name, a->name) == 0) slot = k;
                sug_offer(&s, b->params[k].name);
            }
            if (slot < 0) {
                if (sug_best(&s)) {
                    ERR(a->name_span, "`%s` has no parameter `%s`; did you mean `%s`?", b->name, a->name, sug_best(&s));
                    FIX(a->name_span, a->name, sug_best(&s));
                }
                else if (b->nparams) ERR(a->name_span, "`%s` has no parameter `%s`", b->name, a->name);
                else ERR(a->name_span, "`%s` takes no arguments", b->name);
                continue;
            }
            if (x->kids[slot]) { ERR(a->name_span, "argument `%s` given twice", a->name); continue; }
            val = a->a;
        } else {
            if (named_seen) { ERR(a->span, "positional argument after a named one"); continue; }
            if (pos >= b->nparams && !variadic) {
                if (b->nparams == 0) ERR(a->span, "`%s` takes no arguments", b->name);
                else ERR(a->span, "too many arguments to `%s`: it takes %d (%s)", b->name, b->nparams, b->params_text);
                break;
            }
            slot = pos++;
            if (slot >= b->nparams) { slot = x->nkids++; }
        }
        const char *ptype = b->params[slot < b->nparams ? slot : b->nparams - 1].type;
        int wordy = strncmp(ptype, "word:", 5) == 0 || strcmp(ptype, "field") == 0 || strcmp(ptype, "flow") == 0;
        if (wordy && val->kind == AST_NAME) {
            IrExpr *w = mk(l, IR_WORD, val->span);
            w->name = val->name;
            x->kids[slot] = w;
        } else {
            x->kids[slot] = lower_expr(l, val, sc);
        }
    }
    for (int k = 0; k < b->nparams; k++) {
        if (!x->kids[k] && !b->params[k].optional && !b->params[k].variadic) {
            ERR(e->span, "`%s` needs its argument `%s` (%s(%s))", b->name, b->params[k].name, b->name, b->params_text);
            return mk(l, IR_ERROR, e->span);
        }
    }
    return x;
}

static IrExpr *lower_call(L *l, const AstNode *e, Scope *sc) {
    if (e->op == 1) return lower_helper(l, e, sc);
    const Builtin *b = bi_lookup(e->name);
    if (!b) {
        Suggest s;
        sug_init(&s, e->name);
        for (int i = 0; i < bi_count(); i++) sug_offer(&s, bi_at(i)->name);
        if (sug_best(&s)) {
            ERR(e->name_span, "unknown function `%s`; did you mean `%s`?", e->name, sug_best(&s));
            FIX(e->name_span, e->name, sug_best(&s));
        }
        else ERR(e->name_span, "unknown function `%s`", e->name);
        for (int i = 0; i < e->kids.n; i++) {   /* still resolve names inside, for their own errors */
            const AstNode *a = e->kids.items[i];
            lower_expr(l, a->kind == AST_NAMEDARG ? a->a : a, sc);
        }
        return mk(l, IR_ERROR, e->span);
    }
    if (strcmp(b->name, "env") == 0) {
        if (e->kids.n != 1 || e->kids.items[0]->kind != AST_STR || tpl_is_template(e->kids.items[0]->str, e->kids.items[0]->slen)) {
            ERR(e->span, "`env` takes one constant string: env(\"NAME\")");
            return mk(l, IR_ERROR, e->span);
        }
        IrExpr *x = mk(l, IR_ENV, e->span);
        x->name = e->kids.items[0]->str;
        return x;
    }
    return lower_call_args(l, e, b, sc, NULL);
}

static IrExpr *lower_template(L *l, const AstNode *t, Scope *sc);

static IrExpr *lower_tpl_part(L *l, const AstNode *p, Scope *sc) {
    switch (p->kind) {
    case AST_TPL_TEXT: {
        IrExpr *x = mk(l, IR_STR, p->span);
        x->str = p->str; x->slen = p->slen;
        return x;
    }
    case AST_TPL_VALUE: {
        IrExpr *x = mk(l, IR_TPL_VALUE, p->span);
        x->a = lower_expr(l, p->a, sc);
        x->op = p->op;
        return x;
    }
    case AST_TPL_SECTION: {
        IrExpr *x = mk(l, IR_TPL_SECTION, p->span);
        x->name = p->name;
        x->a = lower_expr(l, p->a, sc);
        Scope inner = { sc, NULL };
        int binds = strcmp(p->name, "each") == 0 || strcmp(p->name, "with") == 0 || strcmp(p->name, "section") == 0;
        int saved = l->tpl_each;
        if (binds) {
            x->var = arena_alloc(l->ar, sizeof(IrVar));
            x->var->name = "this";
            x->var->span = p->span;
            inner.var = x->var;
            l->tpl_each = 1;
        }
        /* @index, @first, @last, @key inside the section */
        static const char *const loop_vars[] = { "@index", "@first", "@last", "@key" };
        Scope loops[4];
        Scope *top = &inner;
        for (int k = 0; binds && k < 4; k++) {
            IrVar *v = arena_alloc(l->ar, sizeof(IrVar));
            v->name = loop_vars[k];
            v->type = k == 0 ? &ty_int : k == 3 ? &ty_string : &ty_bool;
            loops[k] = (Scope){ top, v };
            top = &loops[k];
        }
        Scope *idx = top;
        x->b = lower_template(l, p->b, binds ? idx : sc);
        l->tpl_each = saved;
        if (p->c) x->c = lower_template(l, p->c, sc);
        return x;
    }
    default: return mk(l, IR_ERROR, p->span);
    }
}

static IrExpr *lower_template(L *l, const AstNode *t, Scope *sc) {
    IrExpr *x = mk(l, IR_TEMPLATE, t ? t->span : (Span){ 0, 0 });
    if (!t) return x;
    x->kids = NEWARR(IrExpr *, t->kids.n);
    for (int i = 0; i < t->kids.n; i++) x->kids[x->nkids++] = lower_tpl_part(l, t->kids.items[i], sc);
    return x;
}

static IrExpr *lower_expr(L *l, const AstNode *e, Scope *sc) {
    if (!e) return mk(l, IR_ERROR, (Span){ 0, 0 });
    IrExpr *x;
    switch (e->kind) {
    case AST_NULL: return mk(l, IR_NULL, e->span);
    case AST_BOOL: x = mk(l, IR_BOOL, e->span); x->ival = e->ival; return x;
    case AST_INT:
        if (e->ival == INT64_MIN && !e->op)   /* 9223372036854775808 not after unary minus (grammar/lexer.l) */
            ERR(e->span, "integer literal too large (limit 9223372036854775807)");
        x = mk(l, IR_INT, e->span); x->ival = e->ival; return x;
    case AST_NUM: x = mk(l, IR_NUM, e->span); x->num = e->num; return x;
    case AST_DURATION: x = mk(l, IR_DURATION, e->span); x->ival = e->ival; return x;
    case AST_SIZE: x = mk(l, IR_SIZE, e->span); x->ival = e->ival; return x;
    case AST_STR:
        if (tpl_is_template(e->str, e->slen)) {
            AstNode *t = tpl_parse(l->ar, l->d, l->src, e);
            return lower_template(l, t, sc);
        }
        x = mk(l, IR_STR, e->span); x->str = e->str; x->slen = e->slen;
        return x;
    case AST_NAME:
        if (is_context_root(e->name) && !find_var(sc, e->name) && !l->tpl_root) {
            if (strcmp(e->name, "flow") == 0 || strcmp(e->name, "run") == 0 || strcmp(e->name, "delta") == 0 ||
                strcmp(e->name, "page") == 0 || strcmp(e->name, "param") == 0) {
                ERR(e->span, "`%s` is not a value by itself; use one of its fields, such as %s (or quote it for the text: \"%s\")", e->name,
                    strcmp(e->name, "delta") == 0 ? "`delta.since`" : strcmp(e->name, "page") == 0 ? "`page.size`"
                    : strcmp(e->name, "run") == 0 ? "`run.id`" : strcmp(e->name, "flow") == 0 ? "`flow.name`" : "`param.NAME`", e->name);
                return mk(l, IR_ERROR, e->span);
            }
        }
        return lower_name(l, e, sc);
    case AST_FIELD:
        if (e->a->kind == AST_NAME && is_context_root(e->a->name) && !find_var(sc, e->a->name) && !l->tpl_root)
            return lower_context(l, e);
        x = mk(l, IR_FIELD, e->span);
        x->a = lower_expr(l, e->a, sc);
        x->name = e->name;
        return x;
    case AST_INDEX:
        x = mk(l, IR_INDEX, e->span);
        x->a = lower_expr(l, e->a, sc);
        x->b = lower_expr(l, e->b, sc);
        return x;
    case AST_CALL: return lower_call(l, e, sc);
    case AST_UNARY:
        x = mk(l, IR_UNARY, e->span);
        x->op = e->op;
        x->a = lower_expr(l, e->a, sc);
        if (e->op == OP_NEG && (x->a->kind == IR_INT || x->a->kind == IR_DURATION || x->a->kind == IR_SIZE)) {
            x->a->span = e->span;          /* -5, -5s: a negative literal, so range checks see it */
            if (x->a->ival == INT64_MIN) {  /* - -9223372036854775808 */
                ERR(e->span, "integer overflow: -(-9223372036854775808) is out of the int range");
                return x->a;
            }
            x->a->ival = -x->a->ival;
            return x->a;
        }
        if (e->op == OP_NEG && x->a->kind == IR_NUM) { x->a->span = e->span; x->a->num = -x->a->num; return x->a; }
        return x;
    case AST_BINARY:
        x = mk(l, IR_BINARY, e->span);
        x->op = e->op;
        x->a = lower_expr(l, e->a, sc);
        x->b = lower_expr(l, e->b, sc);
        return x;
    case AST_IF:
        x = mk(l, IR_IF, e->span);
        x->a = lower_expr(l, e->a, sc);
        x->b = lower_expr(l, e->b, sc);
        x->c = lower_expr(l, e->c, sc);
        return x;
    case AST_EACH: {
        x = mk(l, IR_EACH, e->span);
        x->a = lower_expr(l, e->a, sc);
        x->var = arena_alloc(l->ar, sizeof(IrVar));
        x->var->name = e->name;
        x->var->span = e->name_span;
        x->name = e->name;
        Scope inner = { sc, x->var };
        if (e->b) x->b = lower_expr(l, e->b, &inner);
        if (e->c) x->c = lower_expr(l, e->c, &inner);
        else x->map = lower_map(l, e, &inner);
        return x;
    }
    case AST_OBJECT: {
        x = mk(l, IR_OBJECT, e->span);
        x->kids = NEWARR(IrExpr *, e->kids.n);
        x->keys = NEWARR(const char *, e->kids.n);
        for (int i = 0; i < e->kids.n; i++) {
            const AstNode *en = e->kids.items[i];
            int dup = -1;
            for (int k = 0; k < x->nkids; k++) if (strcmp(x->keys[k], en->name) == 0) dup = k;
            if (dup >= 0) { ERR(en->name_span, "duplicate key `%s` in object", en->name); continue; }
            x->keys[x->nkids] = en->name;
            x->kids[x->nkids++] = lower_expr(l, en->a, sc);
        }
        return x;
    }
    case AST_ARRAY:
        x = mk(l, IR_ARRAY, e->span);
        x->kids = NEWARR(IrExpr *, e->kids.n);
        for (int i = 0; i < e->kids.n; i++) x->kids[x->nkids++] = lower_expr(l, e->kids.items[i], sc);
        return x;
    case AST_NAMEDARG:
        ERR(e->span, "named argument outside a call");
        return mk(l, IR_ERROR, e->span);
    default:
        return mk(l, IR_ERROR, e->span);
    }
}

/* ---- map blocks ---- */

static IrMap *lower_map(L *l, const AstNode *m, Scope *sc) {
    IrMap *map = arena_alloc(l->ar, sizeof *map);
    map->span = m->span;
    map->entries = NEWARR(IrMapEntry, m->kids.n);
    for (int i = 0; i < m->kids.n; i++) {
        const AstNode *en = m->kids.items[i];
        if (en->kind != AST_ENTRY && en->kind != AST_NESTED) continue;
        int dup = -1;
        for (int k = 0; k < map->n; k++) if (strcmp(map->entries[k].name, en->name) == 0) dup = k;
        if (dup >= 0) { dup_error(l, "map entry", en->name, en->name_span, map->entries[dup].name_span); continue; }
        if (!en->name[0]) { ERR(en->name_span, "a map entry needs a name; \"\" is empty"); continue; }
        IrMapEntry *out = &map->entries[map->n++];
        out->name = en->name;
        out->span = en->span;
        out->name_span = en->name_span;
        if (en->kind == AST_NESTED) out->nested = lower_map(l, en, sc);
        else out->value = lower_expr(l, en->b, sc);
        if (en->a) { out->override = lower_type(l, en->a); out->override_span = en->a->span; }
        if (en->c) out->when = lower_expr(l, en->c, sc);
    }
    return map;
}

/* ---- settings ---- */

static IrSetting *lower_settings(L *l, const AstNode *owner, int *n, int first, const char *what) {
    IrSetting *s = NEWARR(IrSetting, owner->kids.n);
    *n = 0;
    for (int i = first; i < owner->kids.n; i++) {
        const AstNode *k = owner->kids.items[i];
        if (k->kind != AST_SETTING) continue;
        int dup = -1;
        for (int j = 0; j < *n; j++) if (strcmp(s[j].name, k->name) == 0) dup = j;
        if (dup >= 0) { ERR(k->name_span, "%s `%s` is set twice (first on line %d)", what, k->name, line_of(l, s[dup].name_span));
                        continue; }
        s[*n] = (IrSetting){ k->name, k->name_span, k->span, lower_expr(l, k->a, NULL), -1 };
        (*n)++;
    }
    return s;
}

/* ---- steps ---- */

static const char *const reserved_step_names[] = {
    "record", "response", "existing", "param", "delta", "page", "run", "flow", "creating", "updating", NULL };

static void declare_step(L *l, IrStep *st) {
    for (int i = 0; reserved_step_names[i]; i++)
        if (strcmp(st->name, reserved_step_names[i]) == 0) {
            ERR(st->name_span, "`%s` is a reserved name; call this %s something else", st->name, ir_step_kind_names[st->kind]);
            return;
        }
    IrStep *prev = map_get(&l->steps, st->name);
    if (prev) { dup_error(l, "step name", st->name, st->name_span, prev->name_span); return; }
    map_put(l->ar, &l->steps, st->name, st);
}


/* `from webhook` (LANGUAGE.md §4): the built-in source of webhook-triggered flows is never declared;
 * its first use adds one connection `webhook` of kind webhook, without settings, to the program */
static IrConn *builtin_webhook(L *l, const AstNode *step) {
    IrConn *x = arena_alloc(l->ar, sizeof *x);
    x->name = "webhook";
    x->span = x->name_span = x->kind_span = step->c ? step->c->span : step->span;
    x->kind = flow_conn_kind("webhook");
    map_put(l->ar, &l->conns, x->name, x);
    l->p->conns[l->p->nconns++] = x;
    return x;
}

static IrConn *use_conn(L *l, const AstNode *step) {
    IrConn *c = map_get(&l->conns, step->str);
    if (!c && strcmp(step->str, "webhook") == 0) c = builtin_webhook(l, step);
    if (!c) { unknown(l, step->c ? step->c->span : step->span, "connection", step->str, &l->conns, NULL); return NULL; }
    c->used = 1;
    return c;
}

static IrHook lower_hook(L *l, const AstNode *h, int flow_level) {
    IrHook out = { -1, h->span, h->name_span, NULL };
    Suggest s;
    sug_init(&s, h->name);
    for (int i = 0; i < HOOK_COUNT; i++) {
        if (strcmp(ir_hook_names[i], h->name) == 0) out.point = i;
        sug_offer(&s, ir_hook_names[i]);
    }
    if (out.point < 0) {
        if (sug_best(&s)) {
            ERR(h->name_span, "unknown hook point `%s`; did you mean `%s`?", h->name, sug_best(&s));
            FIX(h->name_span, h->name, sug_best(&s));
        }
        else ERR(h->name_span, "unknown hook point `%s`: use pre_save_page, pre_map, post_map, post_submit or post_response_map", h->name);
    } else if (!flow_level && out.point == HOOK_pre_save_page) {
        ERR(h->name_span, "`pre_save_page` runs on the export's pages: declare it at the flow level, not inside an import");
        out.point = -1;
    }
    out.value = lower_expr(l, h->a, NULL);
    return out;
}

static IrStep **lower_steps(L *l, const AstNode *const *items, int n, int *out_n, IrFlow *flow, int top);

static IrStep *new_step(L *l, IrStepKind k, const AstNode *a) {
    IrStep *st = arena_alloc(l->ar, sizeof *st);
    st->kind = k;
    st->span = a->span;
    st->name = a->name;
    st->name_span = a->name_span;
    st->id = l->all.n;
    arena_vec_push(l->ar, &l->all, st);
    return st;
}

static void lower_assigns(L *l, const AstNode *block, IrAssign **out, int *n) {
    *out = NEWARR(IrAssign, block->kids.n);
    *n = 0;
    for (int i = 0; i < block->kids.n; i++) {
        const AstNode *a = block->kids.items[i];
        if (a->kind != AST_ASSIGN && a->kind != AST_REMOVE) continue;
        IrAssign *as = &(*out)[(*n)++];
        as->span = a->span;
        as->remove = a->kind == AST_REMOVE;
        as->target = lower_expr(l, a->a, NULL);
        if (a->b) as->value = lower_expr(l, a->b, NULL);
    }
}

static IrStep *lower_step(L *l, const AstNode *a, IrFlow *flow) {
    IrStep *st = NULL;
    switch (a->kind) {
    case AST_EXPORT:
    case AST_LOOKUP:
        st = new_step(l, a->kind == AST_EXPORT ? STEP_EXPORT : STEP_LOOKUP, a);
        declare_step(l, st);
        st->conn = use_conn(l, a);
        st->conn_span = a->c ? a->c->span : a->span;
        if (a->a) { st->declared = lower_type(l, a->a); st->declared_span = a->a->span; }
        st->settings = lower_settings(l, a, &st->nsettings, 0, "setting");
        if (st->kind == STEP_LOOKUP) arena_vec_push(l->ar, &l->visible, st);   /* bound from the next step on */
        return st;
    case AST_IMPORT: {
        st = new_step(l, STEP_IMPORT, a);
        declare_step(l, st);
        st->conn = use_conn(l, a);
        st->conn_span = a->c ? a->c->span : a->span;
        st->settings = lower_settings(l, a, &st->nsettings, 0, "setting");
        st->hooks = NEWARR(IrHook, a->kids.n);
        for (int i = 0; i < a->kids.n; i++) {
            const AstNode *k = a->kids.items[i];
            if (k->kind == AST_MAP) {
                if (st->map) { ERR(k->span, "an import has one `map` block (first on line %d)", line_of(l, st->map->span)); continue; }
                st->map = lower_map(l, k, NULL);
            } else if (k->kind == AST_RESPONSE) {
                if (st->response) { ERR(k->span, "an import has one `response` block"); continue; }
                lower_assigns(l, k, &st->response, &st->nresponse);
                if (!st->response) st->response = NEWARR(IrAssign, 1);
            } else if (k->kind == AST_HOOK) {
                st->hooks[st->nhooks++] = lower_hook(l, k, 0);
            }
        }
        return st;
    }
    case AST_TRANSFORM:
        st = new_step(l, STEP_TRANSFORM, a);
        lower_assigns(l, a, &st->assigns, &st->nassigns);
        return st;
    case AST_FILTER:
        st = new_step(l, STEP_FILTER, a);
        st->cond = lower_expr(l, a->a, NULL);
        return st;
    case AST_BRANCH: {
        st = new_step(l, STEP_BRANCH, a);
        if (a->name) {
            if (strcmp(a->name, "all_matching") == 0) st->all_matching = 1;
            else if (strcmp(a->name, "first_match") != 0) {
                Suggest s;
                sug_init(&s, a->name);
                sug_offer(&s, "first_match");
                sug_offer(&s, "all_matching");
                if (sug_best(&s)) {
                    ERR(a->name_span, "unknown branch mode `%s`; did you mean `%s`?", a->name, sug_best(&s));
                    FIX(a->name_span, a->name, sug_best(&s));
                }
                else ERR(a->name_span, "unknown branch mode `%s`: use first_match or all_matching", a->name);
            }
        }
        st->arms = NEWARR(IrArm, a->kids.n);
        int base_visible = l->visible.n;
        for (int i = 0; i < a->kids.n; i++) {
            const AstNode *arm = a->kids.items[i];
            if (arm->kind != AST_ARM) continue;
            for (int k = 0; k < st->narms; k++)
                if (strcmp(st->arms[k].name, arm->name) == 0) {
                    dup_error(l, "branch arm", arm->name, arm->name_span, st->arms[k].name_span);
                    break;
                }
            IrArm *out = &st->arms[st->narms++];
            out->name = arm->name;
            out->span = arm->span;
            out->name_span = arm->name_span;
            if (arm->a) out->cond = lower_expr(l, arm->a, NULL);
            out->steps = lower_steps(l, (const AstNode *const *)arm->kids.items, arm->kids.n, &out->nsteps, flow, 0);
            l->visible.n = base_visible;    /* an arm's lookups end with the arm */
        }
        return st;
    }
    default:
        return NULL;
    }
}

static IrStep **lower_steps(L *l, const AstNode *const *items, int n, int *out_n, IrFlow *flow, int top) {
    IrStep **steps = NEWARR(IrStep *, n);
    *out_n = 0;
    for (int i = 0; i < n; i++) {
        const AstNode *a = items[i];
        if (a->kind == AST_HOOK) {
            if (top) flow->hooks[flow->nhooks++] = lower_hook(l, a, 1);
            else ERR(a->span, "hooks belong to the flow or to an import, not to a branch arm");
            continue;
        }
        if (a->kind == AST_SETTING) continue;
        IrStep *st = lower_step(l, a, flow);
        if (!st) continue;
        if (st->kind == STEP_EXPORT && !(top && *out_n == 0))
            ERR(st->span, top ? "the export must be the first step of a flow" : "an export cannot be inside a branch arm");
        steps[(*out_n)++] = st;
    }
    return steps;
}

static IrFlow *lower_flow(L *l, const AstNode *f, IrFlow *fl) {
    l->flow = fl;
    memset(&l->steps, 0, sizeof l->steps);
    memset(&l->visible, 0, sizeof l->visible);
    memset(&l->all, 0, sizeof l->all);
    fl->settings = lower_settings(l, f, &fl->nsettings, 0, "flow setting");
    fl->hooks = NEWARR(IrHook, f->kids.n);
    fl->steps = lower_steps(l, (const AstNode *const *)f->kids.items, f->kids.n, &fl->nsteps, fl, 1);
    fl->all = (IrStep **)l->all.items;
    fl->nall = l->all.n;
    int has_export = 0;
    for (int i = 0; i < fl->nall; i++) has_export |= fl->all[i]->kind == STEP_EXPORT;
    if (!has_export)
        ERR(f->name_span, "flow `%s` has no export: its first step must be `export NAME from CONNECTION { ... }`", f->name);
    return fl;
}

/* ---- tests ---- */

static IrTest *lower_test(L *l, const AstNode *t) {
    IrTest *out = arena_alloc(l->ar, sizeof *out);
    out->title = t->str;
    out->span = t->span;
    out->flow_span = t->name_span;
    out->flow = map_get(&l->flows, t->name);
    if (!out->flow) unknown(l, t->name_span, "flow", t->name, &l->flows, NULL);
    out->givens = NEWARR(IrGiven, t->kids.n);
    out->expects = NEWARR(IrExpr *, t->kids.n);
    /* in a test, step names stand for what the step produced: imports' records, a lookup's mock */
    memset(&l->steps, 0, sizeof l->steps);
    memset(&l->visible, 0, sizeof l->visible);
    if (out->flow)
        for (int i = 0; i < out->flow->nall; i++)
            if (out->flow->all[i]->name) map_put(l->ar, &l->steps, out->flow->all[i]->name, out->flow->all[i]);
    for (int i = 0; i < t->kids.n; i++) {
        const AstNode *k = t->kids.items[i];
        if (k->kind == AST_GIVEN) {
            IrGiven *g = &out->givens[out->ngivens++];
            g->name = k->name; g->span = k->span; g->name_span = k->name_span;
            for (int j = 0; j < out->ngivens - 1; j++)
                if (strcmp(out->givens[j].name, k->name) == 0) {
                    ERR(k->name_span, "`%s` is given twice in this test", k->name);
                    break;
                }
            g->existing = strcmp(k->name, "existing") == 0;   /* the upserts' existing record, not a step */
            g->step = out->flow && !g->existing ? map_get(&l->steps, k->name) : NULL;
            if (out->flow && !g->step && !g->existing) unknown(l, k->name_span, "export or lookup", k->name, &l->steps, NULL);
            else if (g->step && g->step->kind != STEP_EXPORT && g->step->kind != STEP_LOOKUP)
                ERR(k->name_span, "`given` mocks an export or a lookup; `%s` is an %s", k->name, ir_step_kind_names[g->step->kind]);
            g->value = lower_expr(l, k->a, NULL);
        } else if (k->kind == AST_EXPECT) {
            out->expects[out->nexpects++] = lower_expr(l, k->a, NULL);
        }
    }
    return out;
}

/* ---- the program ---- */

/* Every declaration struct begins with `const char *name; Span span, name_span;`, so a duplicate's
 * first declaration can be named whatever its kind. */
_Static_assert(offsetof(IrParam, name_span) == offsetof(IrConn, name_span) &&
               offsetof(IrParam, name_span) == offsetof(IrFlow, name_span) &&
               offsetof(IrParam, name_span) == offsetof(IrTable, name_span) &&
               offsetof(IrParam, name_span) == offsetof(IrEnv, name_span), "declaration headers differ");

static void declare(L *l, Map *m, const char *what, const char *name, Span sp, void *v) {
    void *prev = map_get(m, name);
    if (prev) {
        dup_error(l, what, name, sp, *(const Span *)((const char *)prev + offsetof(IrParam, name_span)));
        return;
    }
    map_put(l->ar, m, name, v);
}

IrProgram *lower_program(Arena *ar, Diags *diags, const Source *src, const AstNode *file) {
    L ls, *l = &ls;
    memset(l, 0, sizeof *l);
    l->ar = ar; l->d = diags; l->src = src;
    IrProgram *p = l->p = arena_alloc(ar, sizeof *p);
    p->src = src;
    int n = file->kids.n;
    p->params = NEWARR(IrParam *, n); p->envs = NEWARR(IrEnv *, n); p->tables = NEWARR(IrTable *, n);
    p->types = NEWARR(IrTypeDecl *, n); p->conns = NEWARR(IrConn *, n); p->flows = NEWARR(IrFlow *, n);
    p->tests = NEWARR(IrTest *, n);
    TypeSlot *slots = NEWARR(TypeSlot, n);
    int nslots = 0;

    /* pass 1: declare every name, so references may come before declarations */
    for (int i = 0; i < n; i++) {
        const AstNode *d = file->kids.items[i];
        switch (d->kind) {
        case AST_INTEGRATION:
            if (p->name) { ERR(d->span, "a file has one `integration` declaration"); break; }
            p->name = d->str;
            p->name_span = d->span;
            p->version = d->b ? d->b->str : NULL;
            break;
        case AST_PARAM: {
            IrParam *x = arena_alloc(ar, sizeof *x);
            x->name = d->name; x->span = d->span; x->name_span = d->name_span;
            declare(l, &l->params, "param", d->name, d->name_span, x);
            p->params[p->nparams++] = x;
            break;
        }
        case AST_TABLE: {
            IrTable *x = arena_alloc(ar, sizeof *x);
            x->name = d->name; x->span = d->span; x->name_span = d->name_span;
            declare(l, &l->tables, "table", d->name, d->name_span, x);
            p->tables[p->ntables++] = x;
            break;
        }
        case AST_TYPEDECL: {
            IrTypeDecl *x = arena_alloc(ar, sizeof *x);
            x->name = d->name; x->span = d->span; x->name_span = d->name_span;
            for (size_t k = 0; k < sizeof scalars / sizeof scalars[0]; k++)
                if (strcmp(scalars[k].name, d->name) == 0) ERR(d->name_span, "`%s` is a built-in type and cannot be redefined", d->name);
            TypeSlot *s = &slots[nslots++];
            s->decl = d; s->ir = x;
            if (map_get(&l->types, d->name)) {
                TypeSlot *prev = map_get(&l->types, d->name);
                dup_error(l, "type", d->name, d->name_span, prev->ir->name_span);
                s->state = 2; x->type = &ty_error;
            } else map_put(ar, &l->types, d->name, s);
            p->types[p->ntypes++] = x;
            break;
        }
        case AST_CONNECTION: {
            IrConn *x = arena_alloc(ar, sizeof *x);
            x->name = d->name; x->span = d->span; x->name_span = d->name_span;
            if (strcmp(d->name, "webhook") == 0)
                ERR(d->name_span, "`webhook` is the built-in source of webhook-triggered flows (`from webhook`): name this connection "
                    "something else");
            else declare(l, &l->conns, "connection", d->name, d->name_span, x);
            p->conns[p->nconns++] = x;
            break;
        }
        case AST_FLOW: {
            IrFlow *x = arena_alloc(ar, sizeof *x);
            x->name = d->name; x->span = d->span; x->name_span = d->name_span;
            declare(l, &l->flows, "flow", d->name, d->name_span, x);
            p->flows[p->nflows++] = x;
            break;
        }
        case AST_ENV: {
            IrEnv *x = arena_alloc(ar, sizeof *x);
            x->name = d->name; x->span = d->span; x->name_span = d->name_span;
            declare(l, &l->envs, "env", d->name, d->name_span, x);
            p->envs[p->nenvs++] = x;
            break;
        }
        default: break;
        }
    }
    /* pass 2: types, then everything that refers to them */
    for (int i = 0; i < nslots; i++) named_type(l, slots[i].decl->name, slots[i].decl->name_span);
    int ip = 0, it = 0, ic = 0, ie = 0, iflow = 0;
    for (int i = 0; i < n; i++) {
        const AstNode *d = file->kids.items[i];
        switch (d->kind) {
        case AST_PARAM: {
            IrParam *x = p->params[ip++];
            x->type = lower_type(l, d->a);
            if (d->b) x->def = lower_expr(l, d->b, NULL);
            break;
        }
        case AST_TABLE: p->tables[it++]->value = lower_expr(l, d->a, NULL); break;
        case AST_CONNECTION: {
            IrConn *x = p->conns[ic++];
            x->kind_span = d->c ? d->c->span : d->span;
            x->kind = flow_conn_kind(d->str);
            if (x->kind < 0) unknown(l, x->kind_span, "connection kind", d->str, NULL, flow_conn_kinds);
            else if (x->kind == flow_conn_kind("webhook")) {
                ERR(x->kind_span, "a webhook is not declared as a connection: a flow with `trigger = webhook(...)` reads its requests "
                    "with `export NAME from webhook { ... }`");
                x->kind = -1;
            }
            x->settings = lower_settings(l, d, &x->nsettings, 0, "setting");
            break;
        }
        case AST_ENV: {
            IrEnv *x = p->envs[ie++];
            l->in_env = 1;
            x->settings = lower_settings(l, d, &x->nsettings, 0, "param");
            l->in_env = 0;
            for (int k = 0; k < x->nsettings; k++)
                if (!map_get(&l->params, x->settings[k].name))
                    unknown(l, x->settings[k].name_span, "param", x->settings[k].name, &l->params, NULL);
            break;
        }
        case AST_FLOW: lower_flow(l, d, p->flows[iflow++]); break;
        default: break;
        }
    }
    for (int i = 0; i < n; i++) {
        const AstNode *d = file->kids.items[i];
        if (d->kind != AST_TEST) continue;
        for (int k = 0; k < p->ntests; k++)
            if (strcmp(p->tests[k]->title, d->str) == 0) {
                ERR(d->span, "duplicate test \"%s\" (first on line %d)", d->str, line_of(l, p->tests[k]->span));
                break;
            }
        p->tests[p->ntests++] = lower_test(l, d);
    }
    return p;
}

IrExpr *lower_eval_expr(Arena *ar, Diags *diags, const Source *src, const AstNode *expr) {
    L ls, *l = &ls;
    memset(l, 0, sizeof *l);
    l->ar = ar; l->d = diags; l->src = src;
    return lower_expr(l, expr, NULL);
}

IrExpr *lower_eval_template(Arena *ar, Diags *diags, const Source *src, const AstNode *tpl) {
    L ls, *l = &ls;
    memset(l, 0, sizeof *l);
    l->ar = ar; l->d = diags; l->src = src;
    l->tpl_root = 1;
    return lower_template(l, tpl, NULL);
}
