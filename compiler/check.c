/* check.c — the type checker. Walks the IR, writes a type on every expression and the record type
 * entering and leaving every step, and reports at the offending span: unknown fields (with a
 * suggestion), unhandled nullables (with the fix), non-bool conditions, bad operands, settings the
 * connector table does not know or that have the wrong type, and bad constructor arguments. */
#include "check.h"
#include "flow.h"
#include "engine.h"
#include "flow_re.h"
#include "jsonpath.h"
#include "http.h"
#include "builtins.h"
#include "suggest.h"
#include "cron.h"
#include "webhook.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the connector settings table (runtime/connectors.def, which the runtime reads too) ---- */

enum { W_CONN, W_EXPORT, W_LOOKUP, W_IMPORT };
enum { REQ = FLOW_SETF_REQ, OPT = FLOW_SETF_OPT, SECRET = FLOW_SETF_SECRET, STEP = FLOW_SETF_STEP };
static const char *const where_names[] = { "connection", "export", "lookup", "import" };

typedef struct { int kind; int where; const char *name, *type; int flags; } SetDef;
enum {
#define CONN(k) CK_##k,
#define SET(...)
#define RANGE(...)
#include "connectors.def"
#undef CONN
#undef SET
#undef RANGE
    CK_COUNT
};
static const SetDef set_defs[] = {
#define CONN(k)
#define SET(k, w, n, t, rt, f) { CK_##k, W_##w, #n, t, f },
#define RANGE(...)
#include "connectors.def"
#undef CONN
#undef SET
#undef RANGE
};
#define NSETDEFS ((int)(sizeof set_defs / sizeof set_defs[0]))
int chk_setting_secret(int def) { return def >= 0 && def < NSETDEFS && (set_defs[def].flags & SECRET); }
const char *chk_setting_type(int def) { return def >= 0 && def < NSETDEFS ? set_defs[def].type : ""; }

/* Flow-level settings: FLOW_SETTINGS(name, type) */
#define FLOW_SETTINGS(X) X(schedule, "ctor:schedule") X(trigger, "ctor:trigger") X(catch_up, "bool")
static const struct { const char *name, *type; } flow_sets[] = {
#define X(n, t) { #n, t },
    FLOW_SETTINGS(X)
#undef X
};

/* ---- state ---- */

typedef struct Fact { const char *key; const struct Fact *next; } Fact;

typedef struct Env {
    Type *record;              /* NULL: `record` is not available here */
    const char *no_record;     /* why, for the message */
    Type *response;            /* NULL: not available */
    int existing, mapctx, in_map, in_cond, in_template, allow_ctor_words;
    const Fact *facts;         /* paths known not to be null here */
    IrFlow *test_flow;         /* checking a test's expectations */
} Env;

typedef struct C {
    Arena *ar;
    Diags *d;
    const Source *src;
    IrProgram *p;
    IrFlow *flow;
    IrStep *export;
    IrExpr *args_array;   /* an `args` setting's array literal: its elements may differ (SQL parameters) */
} C;

#define ERR(sp, ...) diag_error(c->d, c->src, sp, __VA_ARGS__)
#define FIX(sp, wrong, best) diag_fix(c->d, sp, wrong, best)   /* the suggestion as a quick fix (lsp) */
#define WARN(sp, ...) diag_warning(c->d, c->src, sp, __VA_ARGS__)

static Type *ty(C *c, IrExpr *e, const Env *env);
static Type *check_map(C *c, IrMap *m, const Env *env);
static void check_value(C *c, IrExpr *e, const char *spec, const Env *env, const char *what);
static void check_iso(C *c, const IrExpr *e);

static const char *src_text(C *c, Span sp) {
    size_t n = sp.end - sp.start;
    if (n > 60) n = 60;
    return arena_strndup(c->ar, c->src->text + sp.start, n);
}

/* The text to show for an expression: its source, unless it came from inside a template string. */
static const char *expr_text(C *c, const IrExpr *e) {
    const char *t = src_text(c, e->span);
    if (t[0] == '"' && e->kind != IR_STR && e->kind != IR_TEMPLATE) return "this value";
    return t;
}

static const char *tstr(C *c, const Type *t) { return ty_str(c->ar, t); }

/* ---- null facts: which paths a condition proves non-null ---- */

static const char *path_key(C *c, const IrExpr *e) {
    if (!e) return NULL;
    switch (e->kind) {
    case IR_RECORD: return "record";
    case IR_LOOKUP: return arena_printf(c->ar, "@%s", e->step->name);
    case IR_VAR: return arena_printf(c->ar, "$%p", (void *)e->var);
    case IR_PARAM: return arena_printf(c->ar, "param.%s", e->param->name);
    case IR_RESPONSE: return "response";
    case IR_TABLE: return arena_printf(c->ar, "table.%s", e->table->name);
    case IR_CALL: {   /* a pure built-in of paths: first(record.tags) */
        if (!e->fn || e->fn->ctor || strcmp(e->fn->name, "now") == 0) return NULL;
        const char *k = arena_printf(c->ar, "%s(", e->fn->name);
        for (int i = 0; i < e->nkids; i++) {
            const char *ak = e->kids[i] ? path_key(c, e->kids[i]) : "-";
            if (!ak) {
                if (e->kids[i]->kind == IR_STR) ak = arena_printf(c->ar, "\"%s\"", e->kids[i]->str);
                else if (e->kids[i]->kind == IR_INT) ak = arena_printf(c->ar, "%lld", (long long)e->kids[i]->ival);
                else return NULL;
            }
            k = arena_printf(c->ar, "%s%s%s", k, i ? "," : "", ak);
        }
        return arena_printf(c->ar, "%s)", k);
    }
    case IR_FIELD: {
        const char *k = path_key(c, e->a);
        return k ? arena_printf(c->ar, "%s.%s", k, e->name) : NULL;
    }
    case IR_INDEX: {
        const char *k = path_key(c, e->a);
        if (!k || !e->b) return NULL;
        if (e->b->kind == IR_INT) return arena_printf(c->ar, "%s[%lld]", k, (long long)e->b->ival);
        if (e->b->kind == IR_STR) return arena_printf(c->ar, "%s[\"%s\"]", k, e->b->str);
        const char *kb = path_key(c, e->b);
        return kb ? arena_printf(c->ar, "%s[%s]", k, kb) : NULL;
    }
    default: return NULL;
    }
}

static int known_non_null(const Fact *f, const char *key) {
    for (; f && key; f = f->next) if (strcmp(f->key, key) == 0) return 1;
    return 0;
}

static const Fact *add_fact(C *c, const Fact *to, const char *key) {
    if (!key) return to;
    Fact *f = arena_alloc(c->ar, sizeof *f);
    f->key = key; f->next = to;
    return f;
}

static const Fact *facts_when(C *c, const IrExpr *e, int truth, const Fact *base);

static int is_null_lit(const IrExpr *e) { return e && e->kind == IR_NULL; }

static const Fact *facts_when(C *c, const IrExpr *e, int truth, const Fact *base) {
    if (!e) return base;
    if (e->kind == IR_CALL && e->fn && strcmp(e->fn->name, "has") == 0 && truth)
        return add_fact(c, base, path_key(c, e->kids[0]));
    if (e->kind == IR_UNARY && e->op == OP_NOT) return facts_when(c, e->a, !truth, base);
    if (e->kind == IR_BINARY) {
        if ((e->op == OP_NE && truth) || (e->op == OP_EQ && !truth)) {
            if (is_null_lit(e->b)) return add_fact(c, base, path_key(c, e->a));
            if (is_null_lit(e->a)) return add_fact(c, base, path_key(c, e->b));
        }
        if (e->op == OP_AND && truth) return facts_when(c, e->b, 1, facts_when(c, e->a, 1, base));
        if (e->op == OP_OR && !truth) return facts_when(c, e->b, 0, facts_when(c, e->a, 0, base));
    }
    return base;
}

static Env with_facts(const Env *env, const Fact *f) { Env e = *env; e.facts = f; return e; }

/* ---- value requirements ---- */

static const char *default_for(const Type *t) {
    switch (t->kind) {
    case TY_STRING: return "\"\"";
    case TY_INT: case TY_NUMBER: return "0";
    case TY_BOOL: return "false";
    case TY_DATETIME: return "now()";
    case TY_ARRAY: return "[]";
    default: return "<default>";
    }
}

/* A use that needs a value: a nullable here is an error that says how to handle it. */
static Type *need_value(C *c, IrExpr *e, const Env *env) {
    Type *t = e->type;
    if (t->kind == TY_NULL) { ERR(e->span, "`null` cannot be used here: a value is needed"); return &ty_error; }
    if (!t->nullable || t->kind == TY_ERROR) return t;
    const char *x = expr_text(c, e);
    if (env->in_template)
        ERR(e->span, "%s may be null: use `{{default %s %s}}` or put it inside `{{#if %s}}...{{/if}}`", x, x, default_for(t), x);
    else if (env->in_map)
        ERR(e->span, "%s may be null: use `%s ?? %s` or guard with `when has(%s)`", x, x, default_for(t), x);
    else if (env->in_cond)
        ERR(e->span, "%s may be null: use `%s ?? %s` or guard with `has(%s) and ...`", x, x, default_for(t), x);
    else
        ERR(e->span, "%s may be null: use `%s ?? %s` or guard with `if has(%s) then ... else ...`", x, x, default_for(t), x);
    return ty_strip(c->ar, t);
}

static void need_bool(C *c, IrExpr *e, const Env *outer, const char *where) {
    Env cenv = *outer;
    cenv.in_cond = !outer->in_map;
    const Env *env = &cenv;
    Type *t = ty(c, e, env);
    if (t->kind == TY_ERROR) return;
    if (t->kind == TY_BOOL || t->kind == TY_JSON) { need_value(c, e, env); return; }
    const char *hint = t->kind == TY_STRING ? ": compare it, as in `x != \"\"`"
                     : ty_is_numeric(t) ? ": compare it, as in `x > 0`"
                     : t->nullable ? ": test it with `has(x)`" : "";
    ERR(e->span, "%s must be a bool, but %s is %s (no truthiness)%s", where, expr_text(c, e), tstr(c, t), hint);
}

/* ---- expressions ---- */

static Type *set(IrExpr *e, Type *t) { e->type = t; return t; }

static Type *narrowed(C *c, IrExpr *e, Type *t, const Env *env) {
    if (t->nullable && t->kind != TY_NULL && known_non_null(env->facts, path_key(c, e))) return ty_strip(c->ar, t);
    return t;
}

static Type *field_type(C *c, IrExpr *e, const Env *env) {
    Type *bt = ty(c, e->a, env);
    if (bt->kind == TY_ERROR) return &ty_error;
    if (bt->kind == TY_JSON) return bt->nullable ? ty_nullable(c->ar, &ty_json) : &ty_json;
    if (bt->kind == TY_RECORD) {
        const TypeField *f = ty_field(bt, e->name);
        if (!f) {
            Suggest s;
            sug_init(&s, e->name);
            for (int i = 0; i < bt->nfields; i++) sug_offer(&s, bt->fields[i].name);
            const char *on = e->a->kind == IR_VAR && strcmp(e->a->var->name, "this") == 0 ? "this" : expr_text(c, e->a);
            const char *tn = bt->name ? arena_printf(c->ar, " (type %s)", bt->name) : "";
            Span sp = e->span;
            if (sp.end - sp.start > strlen(e->name)) sp.start = sp.end - (uint32_t)strlen(e->name);
            if (expr_text(c, e)[0] == 't' && strcmp(expr_text(c, e), "this value") == 0) sp = e->span;
            if (sug_best(&s)) {
                ERR(sp, "%s%s has no field `%s`; did you mean `%s`?", on, tn, e->name, sug_best(&s));
                FIX(sp, e->name, sug_best(&s));
            }
            else if (bt->nfields == 0) ERR(sp, "%s%s has no fields, so `%s` cannot be read", on, tn, e->name);
            else if (e->a->kind == IR_RECORD && c->export && ty_field(c->export->declared, e->name))
                ERR(sp, "record has no field `%s` here: an earlier `remove record.%s` took it out", e->name, e->name);
            else ERR(sp, "%s%s has no field `%s` (records are open, but only declared fields can be read)", on, tn, e->name);
            return &ty_error;
        }
        return bt->nullable ? ty_nullable(c->ar, f->type) : f->type;
    }
    if (bt->kind == TY_ARRAY)
        ERR(e->span, "%s is an array (%s): take an element (`%s[0].%s`) or map it with `each`", expr_text(c, e->a),
            tstr(c, bt), expr_text(c, e->a), e->name);
    else {
        Span sp = e->span;
        if (sp.end - sp.start > strlen(e->name)) sp.start = sp.end - (uint32_t)strlen(e->name);
        ERR(sp, "%s is %s; it has no field `%s`", expr_text(c, e->a), tstr(c, bt), e->name);
    }
    return &ty_error;
}

/* A bare template name (IR_TPL_NAME, Mustache): only the contexts that may have it are kept, in
 * order: json values, and the first record type that declares it (it always has it, so the search
 * ends there); a typed value without it is looked past. When that leaves the innermost context's
 * declared field, or nothing at all, it is a plain field of the innermost context (whose check
 * reports an unknown name as before); otherwise the runtime looks it up and it is json. */
static Type *tpl_name_type(C *c, IrExpr *e, const Env *env) {
    int keep = 0;
    IrExpr *first = e->nkids ? e->kids[0] : NULL;
    for (int i = 0; i < e->nkids; i++) {
        Type *t = ty(c, e->kids[i], env);
        if (t->kind == TY_ERROR) return &ty_error;
        if (ty_is_dynamic(t)) { e->kids[keep++] = e->kids[i]; continue; }
        if (t->kind == TY_RECORD && ty_field(t, e->name)) { e->kids[keep++] = e->kids[i]; break; }
    }
    if (!first) return &ty_error;
    if (keep == 0 || (keep == 1 && e->kids[0] == first && !ty_is_dynamic(first->type))) {
        e->kind = IR_FIELD;
        e->a = first;
        e->nkids = 0;
        return narrowed(c, e, field_type(c, e, env), env);
    }
    e->nkids = keep;
    return &ty_json;
}

static Type *index_type(C *c, IrExpr *e, const Env *env) {
    if (e->a->kind == IR_TABLE) {
        e->a->type = &ty_json;
        Type *kt = ty(c, e->b, env);
        if (kt->kind != TY_ERROR) need_value(c, e->b, env);
        if (!ty_assignable(ty_strip(c->ar, kt), &ty_string) && kt->kind != TY_ERROR)
            ERR(e->b->span, "a table key must be a string, but %s is %s", expr_text(c, e->b), tstr(c, kt));
        IrTable *t = e->a->table;
        return ty_nullable(c->ar, t->elem ? t->elem : &ty_json);
    }
    Type *bt = ty(c, e->a, env);
    Type *it = ty(c, e->b, env);
    if (bt->kind == TY_ERROR || it->kind == TY_ERROR) return &ty_error;
    if (bt->kind == TY_JSON) { need_value(c, e->b, env); return bt->nullable ? ty_nullable(c->ar, &ty_json) : &ty_json; }
    if (bt->kind == TY_ARRAY) {
        if (!ty_is_dynamic(it) && it->kind != TY_INT) {
            ERR(e->b->span, "an array index must be an int, but %s is %s", expr_text(c, e->b), tstr(c, it));
            return &ty_error;
        }
        need_value(c, e->b, env);
        return ty_nullable(c->ar, bt->elem);    /* out of range reads null */
    }
    if (bt->kind == TY_RECORD && e->b->kind == IR_STR) {
        const TypeField *f = ty_field(bt, e->b->str);
        if (f) return bt->nullable ? ty_nullable(c->ar, f->type) : f->type;
        ERR(e->b->span, "%s has no field \"%s\"", expr_text(c, e->a), e->b->str);
        return &ty_error;
    }
    ERR(e->span, "%s is %s and cannot be indexed", expr_text(c, e->a), tstr(c, bt));
    return &ty_error;
}

static Type *parse_result(C *c, const char *r, IrExpr *e) {
    if (strcmp(r, "string") == 0) return &ty_string;
    if (strcmp(r, "int") == 0) return &ty_int;
    if (strcmp(r, "number") == 0) return &ty_number;
    if (strcmp(r, "bool") == 0) return &ty_bool;
    if (strcmp(r, "datetime") == 0) return &ty_datetime;
    if (strcmp(r, "duration") == 0) return &ty_duration;
    if (strcmp(r, "[string]") == 0) return ty_array(c->ar, &ty_string);
    if (strcmp(r, "[json]") == 0) return ty_array(c->ar, &ty_json);
    if (strncmp(r, "ctor:", 5) == 0) return ty_ctor(c->ar, r + 5);
    IrExpr *a0 = e->nkids ? e->kids[0] : NULL;
    Type *t0 = a0 && a0->type ? a0->type : &ty_error;
    if (strcmp(r, "=1") == 0) return ty_strip(c->ar, t0);
    if (strcmp(r, "elem1?") == 0) return t0->kind == TY_ARRAY ? ty_nullable(c->ar, t0->elem) : &ty_json;
    if (strcmp(r, "num*") == 0) {
        for (int i = 0; i < e->nkids; i++)
            if (e->kids[i] && e->kids[i]->type && e->kids[i]->type->kind != TY_INT) return &ty_number;
        return &ty_int;
    }
    if (strcmp(r, "join*") == 0) {
        Type *j = NULL;
        for (int i = 0; i < e->nkids; i++) {
            if (!e->kids[i] || !e->kids[i]->type) continue;
            Type *t = e->kids[i]->type;
            Type *nj = j ? ty_join(c->ar, ty_strip(c->ar, j), ty_strip(c->ar, t)) : ty_strip(c->ar, t);
            if (!nj) { ERR(e->kids[i]->span, "`%s` arguments must have one type: %s does not go with %s", e->fn->name,
                           tstr(c, t), tstr(c, j)); return &ty_error; }
            j = nj;
        }
        if (!j) return &ty_json;
        IrExpr *last = e->kids[e->nkids - 1];
        return last && last->type && last->type->nullable ? ty_nullable(c->ar, j) : j;
    }
    return &ty_json;
}

/* How each constructor kind is named in messages: X(kind, description) */
#define CTOR_KINDS(X) \
    X(auth, "an auth: none(), basic(user, password), bearer(token) or api_key(header, value)") \
    X(schedule, "a schedule: cron(\"...\"), every(15m), after(flow) or manual()") \
    X(trigger, "a trigger: webhook(\"/path\", verify = ...)") \
    X(verify, "a verification: hmac(...), token(header, value), token(query = \"name\", value = ...), basic(user, password) or secret_url()") \
    X(paginate, "a pagination: page_number(...), offset(...), cursor(...), next_url(...) or link_header()") \
    X(mode, "an export mode: all(), delta(field, lag), once(flag, ...) or limit(n)") \
    X(request, "a request: get(...), post(...), put(...) or patch(...)") \
    X(upsert, "an upsert: by(\"key\", exists = get(...))") \
    X(dbmode, "an SQL import mode: insert or upsert(key = \"id\")") \
    X(hook, "a hook: c(\"file.c\", \"function\")") \
    X(data, "test data: file(\"path\") or an inline array")

static const char *ctor_desc(const char *k) {
#define X(kind, d) if (strcmp(k, #kind) == 0) return d;
    CTOR_KINDS(X)
#undef X
    return k;
}

/* "an auth", "a mode": the short name with its article */
static const char *ctor_short(C *c, const char *k) {
    const char *d = ctor_desc(k);
    const char *colon = strchr(d, ':');
    return colon ? arena_strndup(c->ar, d, (size_t)(colon - d)) : d;
}

/* A time zone name the system's tzdata does not have: the runtime's reason, and the closest zone
 * name of $TZDIR/tzdata.zi (its `Z name` and `L target name` lines), when one is close. */
static void zone_error(C *c, IrExpr *e, const char *why) {
    const char *dir = getenv("TZDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tzdata.zi", dir && *dir ? dir : "/usr/share/zoneinfo");
    Suggest s;
    sug_init(&s, e->str);
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if ((line[0] != 'Z' && line[0] != 'L') || line[1] != ' ') continue;
        char *save = NULL, *w = strtok_r(line + 2, " \t\n", &save);
        if (w && line[0] == 'L') w = strtok_r(NULL, " \t\n", &save);
        if (w) sug_offer(&s, arena_strndup(c->ar, w, strlen(w)));
    }
    if (f) fclose(f);
    if (sug_best(&s)) {
        ERR(e->span, "%s; did you mean \"%s\"?", why, sug_best(&s));
        FIX(e->span, e->str, sug_best(&s));
    }
    else ERR(e->span, "%s", why);
}

static const Builtin *ctor_named(const char *name) {
    const Builtin *b = bi_lookup(name);
    return b && b->ctor ? b : NULL;
}

static void word_error(C *c, IrExpr *e, const char *set, const char *what) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", set);
    Suggest s;
    sug_init(&s, e->kind == IR_WORD ? e->name : "");
    char *list = arena_alloc(c->ar, strlen(set) * 2 + 16);
    int n = 0;
    for (char *tok = strtok(buf, "|"); tok; tok = strtok(NULL, "|")) {
        sug_offer(&s, tok);
        n++;
    }
    snprintf(buf, sizeof buf, "%s", set);
    int i = 0;
    for (char *tok = strtok(buf, "|"); tok; tok = strtok(NULL, "|"), i++) {
        strcat(list, i == 0 ? "" : i == n - 1 ? " or " : ", ");
        strcat(list, tok);
    }
    if (e->kind == IR_WORD && sug_best(&s)) {
        ERR(e->span, "`%s` is not a valid %s; did you mean `%s`? (expected %s)", e->name, what, sug_best(&s), list);
        FIX(e->span, e->name, sug_best(&s));
    }
    else if (e->kind == IR_WORD)
        ERR(e->span, "`%s` is not a valid %s: expected %s", e->name, what, list);
    else if (e->kind == IR_STR)
        ERR(e->span, "\"%s\" is not a valid %s: expected %s", e->str, what, list);
    else
        ERR(e->span, "%s must be one of %s, written as a bare word", what, list);
}

/* every(interval, between, on_days, timezone): what is constant is checked by the runtime's own
 * constructor (runtime/cron.c), so the checker and serve cannot disagree: the interval alone, then
 * with the window (it must hold a multiple of the interval from midnight). */
static void check_every(C *c, IrExpr *e) {
    IrExpr *iv = e->nkids > 0 ? e->kids[0] : NULL, *bw = e->nkids > 1 ? e->kids[1] : NULL;
    if (!iv || iv->kind != IR_DURATION) return;
    char why[256];
    FlowSched *s = flow_sched_every(iv->ival, NULL, NULL, 0, NULL, why, sizeof why);
    if (!s) { ERR(iv->span, "%s", why); return; }
    flow_sched_free(s);
    if (!bw || bw->kind != IR_ARRAY || bw->nkids != 2 || !bw->kids[0] || !bw->kids[1] ||
        bw->kids[0]->kind != IR_STR || bw->kids[1]->kind != IR_STR)
        return;
    for (int i = 0; i < 2; i++) {   /* a clock time that is not one is reported on its own (the `clocks` check) */
        s = flow_sched_every(60000, bw->kids[i]->str, bw->kids[i]->str, 0, NULL, why, sizeof why);
        if (!s) return;
        flow_sched_free(s);
    }
    s = flow_sched_every(iv->ival, bw->kids[0]->str, bw->kids[1]->str, 0, NULL, why, sizeof why);
    if (!s) ERR(bw->span, "%s", why);
    flow_sched_free(s);
}

/* A constant HTTP header name: a token (RFC 9110: letters, digits and !#$%&'*+-.^_`|~) */
static void check_header_name(C *c, const IrExpr *h) {
    if (!h || h->kind != IR_STR) return;
    if (!h->slen) { ERR(h->span, "the header name is empty"); return; }
    for (size_t i = 0; i < h->slen; i++) {
        unsigned char ch = (unsigned char)h->str[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch)) continue;
        ERR(h->span, "\"%s\" is not an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~, no spaces or `:`)", h->str);
        return;
    }
}

/* webhook(path, verify, status, challenge) and its verifications: what the runtime would refuse when
 * serve starts (runtime/webhook.c applies the same rules to values from params) */
static void check_webhook(C *c, IrExpr *e) {
    const char *fn = e->fn->name;
    IrExpr **a = e->kids;
    if (strcmp(fn, "webhook") == 0) {
        char why[300];
        if (a[0] && a[0]->kind == IR_STR && flow_webhook_path_check(a[0]->str, why, sizeof why)) ERR(a[0]->span, "%s", why);
        if (e->nkids > 2 && a[2] && a[2]->kind == IR_INT && (a[2]->ival < 200 || a[2]->ival > 299))
            ERR(a[2]->span, "a webhook answers a queued request with a success status, 200 to 299 (default 204); got %lld", (long long)a[2]->ival);
        if (e->nkids > 1 && !a[1])
            WARN(e->span, "webhook without `verify`: anyone who can reach the listener can start this flow (verify = hmac(...), token(...), "
                 "basic(...) or secret_url())");
        return;
    }
    if (strcmp(fn, "hmac") == 0) {
        check_header_name(c, a[1]);
        if (a[2] && a[2]->kind == IR_STR && a[2]->slen == 0) ERR(a[2]->span, "the hmac secret is empty");
    } else if (strcmp(fn, "token") == 0) {
        if (!a[0] == !a[2]) ERR(e->span, "token(...) reads the token from a header or from the query: give `header` (token(\"X-Token\", "
                                "env(\"TOKEN\"))) or `query` (token(query = \"token\", value = env(\"TOKEN\"))); %s",
                                a[0] ? "both are given" : "neither is given");
        check_header_name(c, a[0]);
        if (a[2] && a[2]->kind == IR_STR && a[2]->slen == 0) ERR(a[2]->span, "the query parameter's name is empty");
        if (a[1] && a[1]->kind == IR_STR && a[1]->slen == 0) ERR(a[1]->span, "the token is empty");
    } else if (strcmp(fn, "basic") == 0) {
        if (a[0] && a[0]->kind == IR_STR && strchr(a[0]->str, ':')) ERR(a[0]->span, "a basic user cannot hold `:`");
        if (a[1] && a[1]->kind == IR_STR && a[1]->slen == 0) ERR(a[1]->span, "the password is empty");
    }
}

/* A constructor value of kind `k` (auth, paginate, mode, ...): a call or a bare zero-argument name. */
static void check_ctor(C *c, IrExpr *e, const char *k, const Env *env, const char *what) {
    if (e->kind == IR_ERROR) return;
    if (e->kind == IR_WORD) {
        const Builtin *b = ctor_named(e->name);
        if (b && strcmp(b->result + 5, k) == 0 && b->nparams == 0) { e->type = ty_ctor(c->ar, k); return; }
    }
    if (e->kind == IR_CALL && e->fn->ctor) {
        int verify_by_basic = strcmp(k, "verify") == 0 && strcmp(e->fn->name, "basic") == 0;
        if (strcmp(e->fn->result + 5, k) != 0 && !verify_by_basic) {
            ERR(e->span, "`%s(...)` makes %s, but %s needs %s", e->fn->name, ctor_short(c, e->fn->result + 5), what, ctor_desc(k));
            return;
        }
        Env inner = *env;
        /* requests run per record: the record is available inside them */
        if (strcmp(k, "request") == 0 && !inner.record && c->export) {
            inner.record = c->export->declared ? c->export->declared : &ty_json;
        }
        for (int i = 0; i < e->fn->nparams && i < e->nkids; i++)
            if (e->kids[i]) check_value(c, e->kids[i], e->fn->params[i].type, &inner,
                                        arena_printf(c->ar, "argument `%s` of `%s`", e->fn->params[i].name, e->fn->name));
        e->type = ty_ctor(c->ar, k);
        /* constructor-specific rules */
        if (strcmp(e->fn->name, "limit") == 0 && e->kids[0]) {
            IrExpr *n = e->kids[0];
            if (n->kind != IR_INT && n->type && (n->type->kind == TY_INT || ty_is_dynamic(n->type)))
                ERR(n->span, "limit(n) takes a constant number of records");
            else if (n->ival < 1 || n->ival > 100) ERR(n->span, "limit(n) must be between 1 and 100, got %lld", (long long)n->ival);
        }
        if (strcmp(e->fn->name, "delta") == 0 && e->kids[1] && e->kids[1]->kind == IR_DURATION && e->kids[1]->ival < 0)
            ERR(e->kids[1]->span, "the lag of delta() cannot be negative");
        if (strcmp(e->fn->name, "webhook") == 0 || strcmp(k, "verify") == 0) check_webhook(c, e);
        if (strcmp(e->fn->name, "every") == 0) check_every(c, e);
        return;
    }
    if (strcmp(k, "data") == 0 && (e->kind == IR_ARRAY || e->kind == IR_OBJECT)) { ty(c, e, env); return; }
    Type *t = ty(c, e, env);
    if (t->kind == TY_ERROR) return;
    ERR(e->span, "%s must be %s", what, ctor_desc(k));
}

/* Checks a value against a parameter or setting type spec (see builtins.def / connectors.def). */
static void check_value(C *c, IrExpr *e, const char *spec, const Env *env, const char *what) {
    int nullable_ok = 0;
    if (strncmp(spec, "word:", 5) == 0) {
        const char *set = spec + 5;
        if (e->kind == IR_WORD && flow_word_in(e->name, set)) { e->type = &ty_string; return; }
        if (e->kind == IR_NULL && flow_word_in("null", set)) { e->type = &ty_null; return; }
        if (e->kind == IR_STR && flow_word_in(e->str, set)) { e->type = &ty_string; return; }
        if (e->kind == IR_ERROR) return;
        word_error(c, e, set, what);
        return;
    }
    if (strncmp(spec, "ctor:", 5) == 0) { check_ctor(c, e, spec + 5, env, what); return; }
    if (strcmp(spec, "weekdays") == 0) {   /* on_days = [mon, fri]: bare weekday names */
        if (e->kind == IR_ERROR) return;
        if (e->kind != IR_ARRAY || e->nkids == 0) { ERR(e->span, "%s must be a list of weekdays, as in [mon, fri]", what); return; }
        unsigned seen = 0;
        for (int i = 0; i < e->nkids; i++) {
            IrExpr *k = e->kids[i];
            if (!k) continue;
            int w = k->kind == IR_WORD ? flow_sched_weekday(k->name) : -1;
            k->type = &ty_string;
            if (w < 0) {
                Suggest sg;
                sug_init(&sg, k->kind == IR_WORD ? k->name : "");
                static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
                for (int d = 0; d < 7; d++) sug_offer(&sg, days[d]);
                if (k->kind == IR_WORD && sug_best(&sg)) {
                    ERR(k->span, "`%s` is not a weekday; did you mean `%s`? (mon tue wed thu fri sat sun)", k->name, sug_best(&sg));
                    FIX(k->span, k->name, sug_best(&sg));
                }
                else ERR(k->span, "%s takes weekdays written as bare words: mon tue wed thu fri sat sun", what);
            } else if (seen >> w & 1) ERR(k->span, "`%s` is listed twice", k->name);
            else seen |= 1u << w;
        }
        e->type = ty_array(c->ar, &ty_string);
        return;
    }
    if (strcmp(spec, "clocks") == 0) {     /* between = ["08:00", "18:00"] */
        if (e->kind == IR_ARRAY && e->nkids != 2) { ERR(e->span, "%s takes two clock times, as in [\"08:00\", \"18:00\"]", what); return; }
        check_value(c, e, "list", env, what);
        for (int i = 0; e->kind == IR_ARRAY && i < e->nkids; i++) {
            IrExpr *k = e->kids[i];
            if (!k || k->kind != IR_STR) continue;
            char why[256];
            FlowSched *sc = flow_sched_every(60000, k->str, k->str, 0, NULL, why, sizeof why);
            if (!sc) ERR(k->span, "%s", why);
            flow_sched_free(sc);
        }
        return;
    }
    if (strcmp(spec, "cron") == 0 || strcmp(spec, "zone") == 0) {
        check_value(c, e, "string", env, what);
        if (e->kind != IR_STR) return;    /* from a param: the run checks it */
        char why[512];
        if (spec[0] == 'c') {
            if (flow_cron_check(e->str, why, sizeof why)) ERR(e->span, "%s", why);
        } else {
            FlowTz *z = flow_tz_load(e->str, why, sizeof why);
            if (!z) zone_error(c, e, why);
            flow_tz_free(z);
        }
        return;
    }
    if (strcmp(spec, "field") == 0) {
        if (e->kind != IR_WORD) { ERR(e->span, "%s must name a field of the exported record, as in delta(updated_at)", what); return; }
        e->type = &ty_string;
        Type *rt = c->export && c->export->declared ? c->export->declared : NULL;
        if (!rt || rt->kind != TY_RECORD) return;    /* json: checked at run time */
        const TypeField *f = ty_field(rt, e->name);
        if (!f) {
            Suggest s;
            sug_init(&s, e->name);
            for (int i = 0; i < rt->nfields; i++) sug_offer(&s, rt->fields[i].name);
            if (sug_best(&s)) {
                ERR(e->span, "%s has no field `%s`; did you mean `%s`?", tstr(c, rt), e->name, sug_best(&s));
                FIX(e->span, e->name, sug_best(&s));
            }
            else ERR(e->span, "%s has no field `%s`", tstr(c, rt), e->name);
            return;
        }
        if (ty_strip(c->ar, f->type)->kind != TY_DATETIME && f->type->kind != TY_JSON)
            ERR(e->span, "the field of delta(...) must be a datetime, but `%s` is %s", e->name, tstr(c, f->type));
        return;
    }
    if (strcmp(spec, "flow") == 0) {
        if (e->kind != IR_WORD) { ERR(e->span, "%s must name a flow", what); return; }
        e->type = &ty_string;
        IrFlow *found = ir_flow_named(c->p, e->name);
        if (!found) {
            Suggest s;   /* a near name only for an unknown one (every flow's after() would make this quadratic) */
            sug_init(&s, e->name);
            for (int i = 0; i < c->p->nflows; i++) sug_offer(&s, c->p->flows[i]->name);
            if (sug_best(&s)) {
                ERR(e->span, "unknown flow `%s`; did you mean `%s`?", e->name, sug_best(&s));
                FIX(e->span, e->name, sug_best(&s));
            }
            else ERR(e->span, "unknown flow `%s`", e->name);
        } else if (found == c->flow) ERR(e->span, "a flow cannot run after itself");
        return;
    }
    size_t sl = strlen(spec);
    char base[32];
    snprintf(base, sizeof base, "%s", spec);
    if (sl && base[sl - 1] == '!') { nullable_ok = 1; base[sl - 1] = 0; }
    if (strcmp(base, "args") == 0 && e->kind == IR_ARRAY) c->args_array = e;
    Type *t = ty(c, e, env);
    c->args_array = NULL;
    if (t->kind == TY_ERROR) return;
    if (t->kind == TY_CTOR) {
        ERR(e->span, "`%s(...)` is a settings constructor; it cannot be used as %s", e->fn ? e->fn->name : "?", what);
        return;
    }
    if (!nullable_ok && strcmp(base, "any") != 0 && strcmp(base, "cond") != 0) t = need_value(c, e, env);
    if (strcmp(base, "any") == 0) { if (!nullable_ok) need_value(c, e, env); return; }
    if (ty_is_dynamic(t)) return;
    const char *want = NULL;
    if (strcmp(base, "num") == 0) { if (!ty_is_numeric(t)) want = "a number"; }
    else if (strcmp(base, "list") == 0) { if (t->kind != TY_ARRAY) want = "an array"; }
    else if (strcmp(base, "seq") == 0) { if (t->kind != TY_ARRAY && t->kind != TY_STRING) want = "a string or an array"; }
    else if (strcmp(base, "object") == 0) { if (t->kind != TY_RECORD) want = "an object, as in { key: value }"; }
    else if (strcmp(base, "args") == 0) { if (t->kind != TY_ARRAY) want = "an array of values, as in [record.id]"; }
    else if (strcmp(base, "template") == 0 || strcmp(base, "urlpath") == 0) { if (t->kind != TY_STRING) want = "a string"; }
    else if (strcmp(base, "jsonpath") == 0) {
        if (t->kind != TY_STRING) want = "a JSONPath string";
        else if (e->kind == IR_STR && (e->slen == 0 || e->str[0] != '$'))
            ERR(e->span, "%s must be a JSONPath starting with `$`, as in \"$.data\"", what);
        else if (e->kind == IR_STR) {   /* the runtime's own RFC 9535 parser decides */
            char why[256];
            FlowJsonPath *jp = flow_jsonpath_compile(e->str, why, sizeof why);
            if (!jp) ERR(e->span, "%s is not a valid JSONPath: %s", what, why);
            flow_jsonpath_free(jp);
        }
    } else if (strcmp(base, "cond") == 0) {
        if (t->kind != TY_BOOL) want = "a bool condition";
        else need_value(c, e, env);
    } else {
        Type *w = strcmp(base, "string") == 0 || strcmp(base, "sql") == 0 || strcmp(base, "secret") == 0 ? &ty_string : strcmp(base, "int") == 0 ? &ty_int
                : strcmp(base, "number") == 0 ? &ty_number : strcmp(base, "bool") == 0 ? &ty_bool
                : strcmp(base, "datetime") == 0 ? &ty_datetime : strcmp(base, "duration") == 0 ? &ty_duration
                : strcmp(base, "size") == 0 ? &ty_size : &ty_json;
        if (w == &ty_datetime && t->kind == TY_STRING) { check_iso(c, e); return; }   /* ISO-8601 text is read as a datetime */
        if (!ty_assignable(ty_strip(c->ar, t), w)) want = arena_printf(c->ar, "%s", ty_str(c->ar, w));
    }
    if (want) ERR(e->span, "%s must be %s, but %s is %s", what, want, expr_text(c, e), tstr(c, t));
}

static int comparable(const Type *a, const Type *b);

/* A constant pattern of regex_match / regex_replace is compiled now (by the engine that runs it,
 * runtime/regex.c): an invalid one, or a replacement naming a group the pattern does not have, is an
 * error here rather than on every record. */
static void check_pattern(C *c, const IrExpr *e) {
    const IrExpr *pat = e->kids[1];
    if (pat->kind != IR_STR) return;
    char why[200];
    FlowRegex *re = flow_re_compile(pat->str, pat->slen, FLOW_RE_FLOW, why, sizeof why);
    if (!re) { ERR(pat->span, "invalid pattern for `%s`: %s", e->fn->name, why); return; }
    const IrExpr *with = e->nkids > 2 ? e->kids[2] : NULL;
    if (with && with->kind == IR_STR) {
        for (size_t i = 0; i + 1 < with->slen; i++) {
            char lead = with->str[i];
            if (lead != '$' && lead != '\\') continue;
            char next = with->str[++i];
            if (next == lead) continue;
            if (next >= '1' && next <= '9' && next - '0' > flow_re_groups(re)) {
                ERR(with->span, "the replacement refers to group %c%c, but the pattern has %d group%s", lead, next,
                    flow_re_groups(re), flow_re_groups(re) == 1 ? "" : "s");
                break;
            }
        }
    }
    flow_re_free(re);
}

static Type *call_type(C *c, IrExpr *e, const Env *env) {
    const Builtin *b = e->fn;
    if (b->ctor) {
        ERR(e->span, "`%s(...)` is a settings constructor (%s); it can only be the value of a setting", b->name, b->result + 5);
        for (int i = 0; i < e->nkids; i++) if (e->kids[i] && e->kids[i]->kind != IR_WORD) ty(c, e->kids[i], env);
        return &ty_error;
    }
    for (int i = 0; i < e->nkids; i++) {
        if (!e->kids[i]) continue;
        const BiParam *p = &b->params[i < b->nparams ? i : b->nparams - 1];
        char spec[40];
        snprintf(spec, sizeof spec, "%s%s", p->type, p->nullable_ok ? "!" : "");
        check_value(c, e->kids[i], spec, env, arena_printf(c->ar, "argument `%s` of `%s`", p->name, b->name));
    }
    if (strcmp(b->name, "contains") == 0 && e->kids[0] && e->kids[0]->type && e->kids[0]->type->kind == TY_STRING &&
        e->kids[1] && e->kids[1]->type && !ty_is_dynamic(e->kids[1]->type) && e->kids[1]->type->kind != TY_STRING)
        ERR(e->kids[1]->span, "contains(text, part) looks for a string, but %s is %s", expr_text(c, e->kids[1]), tstr(c, e->kids[1]->type));
    if ((strcmp(b->name, "regex_match") == 0 || strcmp(b->name, "regex_replace") == 0) && e->nkids > 1 && e->kids[1])
        check_pattern(c, e);
    if (strcmp(b->name, "round") == 0 && !e->kids[1]) return &ty_int;
    {   /* element types of list functions, as `in` checks them */
        Type *lt = e->nkids && e->kids[0] && e->kids[0]->type ? e->kids[0]->type : NULL;
        Type *el = lt && lt->kind == TY_ARRAY ? lt->elem : NULL;
        if (el && !ty_is_dynamic(el)) {
            Type *se = ty_strip(c->ar, el);
            if (strcmp(b->name, "sum") == 0 && !ty_is_numeric(se))
                ERR(e->kids[0]->span, "sum(list) adds numbers, but %s holds %s", expr_text(c, e->kids[0]), tstr(c, el));
            if (strcmp(b->name, "join") == 0 && (se->kind == TY_RECORD || se->kind == TY_ARRAY))
                ERR(e->kids[0]->span, "join(list) joins text, but %s holds %s", expr_text(c, e->kids[0]), tstr(c, el));
            if (strcmp(b->name, "contains") == 0 && e->kids[1] && e->kids[1]->type && !ty_is_dynamic(e->kids[1]->type) &&
                !ty_join(c->ar, se, ty_strip(c->ar, e->kids[1]->type)) && !comparable(se, ty_strip(c->ar, e->kids[1]->type)))
                ERR(e->kids[1]->span, "contains(list, item) looks for %s in %s: the types do not match",
                    tstr(c, e->kids[1]->type), tstr(c, lt));
        }
    }
    return parse_result(c, b->result, e);
}

static int comparable(const Type *a, const Type *b) {
    if (ty_is_dynamic(a) || ty_is_dynamic(b)) return 1;
    if (ty_is_numeric(a) && ty_is_numeric(b)) return 1;
    return a->kind == b->kind && (a->kind == TY_STRING || a->kind == TY_DATETIME || a->kind == TY_DURATION || a->kind == TY_SIZE);
}

/* A string literal that reads as an ISO-8601 date: YYYY-MM-DD, optionally with a time. */
static int iso_literal(const IrExpr *e) {
    if (e->kind != IR_STR || e->slen < 10) return 0;
    const char *s = e->str;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return 0;
    return e->slen == 10 || s[10] == 'T' || s[10] == ' ';
}

/* A constant string used as a datetime must read as one (the run-time reader decides). */
static void check_iso(C *c, const IrExpr *e) {
    int64_t ms;
    if (e->kind == IR_STR && !flow_parse_iso8601(e->str, e->slen, &ms))
        ERR(e->span, "\"%s\" is not an ISO-8601 date-time (as in \"2024-01-31\" or \"2024-01-31T12:00:00Z\")", e->str);
}

static Type *binary_type(C *c, IrExpr *e, const Env *env) {
    int op = e->op;
    if ((op == OP_AND || op == OP_OR) && e->helper) {   /* {{and a b}}: Handlebars truthiness, as {{#if}} */
        ty(c, e->a, env);
        Env rhs = with_facts(env, facts_when(c, e->a, op == OP_AND, env->facts));
        ty(c, e->b, &rhs);
        return &ty_bool;
    }
    if (op == OP_AND || op == OP_OR) {
        const char *w = op == OP_AND ? "the operands of `and`" : "the operands of `or`";
        need_bool(c, e->a, env, w);
        Env rhs = with_facts(env, facts_when(c, e->a, op == OP_AND, env->facts));
        need_bool(c, e->b, &rhs, w);
        return &ty_bool;
    }
    Type *a = ty(c, e->a, env);
    if (op == OP_COALESCE) {
        Type *b = ty(c, e->b, env);
        if (a->kind == TY_ERROR || b->kind == TY_ERROR) return &ty_error;
        Type *j = ty_join(c->ar, ty_strip(c->ar, a), b);
        if (!j) { ERR(e->span, "both sides of `??` must have one type: %s ?? %s", tstr(c, a), tstr(c, b)); return &ty_error; }
        return j;
    }
    Type *b = ty(c, e->b, env);
    if (a->kind == TY_ERROR || b->kind == TY_ERROR) return &ty_error;
    const char *opname = ast_op_names[op];
    /* a datetime compares with an ISO-8601 literal: record.created_at > "2024-01-01" */
    if ((ty_strip(c->ar, a)->kind == TY_DATETIME && iso_literal(e->b)) || (ty_strip(c->ar, b)->kind == TY_DATETIME && iso_literal(e->a))) {
        check_iso(c, iso_literal(e->b) ? e->b : e->a);
        if (op != OP_EQ && op != OP_NE) need_value(c, ty_strip(c->ar, a)->kind == TY_DATETIME ? e->a : e->b, env);
        return &ty_bool;
    }
    if (op == OP_EQ || op == OP_NE) {
        if (a->kind == TY_NULL || b->kind == TY_NULL) return &ty_bool;
        if (!comparable(ty_strip(c->ar, a), ty_strip(c->ar, b)) && !ty_join(c->ar, a, b))
            ERR(e->span, "cannot compare %s with %s using `%s`", tstr(c, a), tstr(c, b), opname);
        return &ty_bool;
    }
    if (op == OP_IN) {
        need_value(c, e->a, env);
        Type *bt = need_value(c, e->b, env);
        if (ty_is_dynamic(bt)) return &ty_bool;
        if (bt->kind == TY_ARRAY) {
            if (!comparable(ty_strip(c->ar, a), ty_strip(c->ar, bt->elem)))
                ERR(e->span, "`in` looks for %s in %s: the types do not match", tstr(c, a), tstr(c, bt));
        } else if (bt->kind == TY_STRING) {
            if (!ty_is_dynamic(a) && a->kind != TY_STRING) ERR(e->a->span, "`in` a string looks for a string, but %s is %s", expr_text(c, e->a), tstr(c, a));
        } else ERR(e->b->span, "`in` needs an array or a string on its right, but %s is %s", expr_text(c, e->b), tstr(c, bt));
        return &ty_bool;
    }
    a = need_value(c, e->a, env);
    b = need_value(c, e->b, env);
    if (a->kind == TY_ERROR || b->kind == TY_ERROR) return &ty_error;
    int dyn = ty_is_dynamic(a) || ty_is_dynamic(b);
    switch (op) {
    case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        if (!comparable(a, b)) ERR(e->span, "cannot compare %s with %s using `%s`", tstr(c, a), tstr(c, b), opname);
        return &ty_bool;
    case OP_ADD:
        if (dyn) return &ty_json;
        if (ty_is_numeric(a) && ty_is_numeric(b)) return a->kind == TY_INT && b->kind == TY_INT ? &ty_int : &ty_number;
        if (a->kind == TY_STRING && b->kind == TY_STRING) return &ty_string;
        if (a->kind == TY_DATETIME && b->kind == TY_DURATION) return &ty_datetime;
        if (a->kind == TY_DURATION && b->kind == TY_DURATION) return &ty_duration;
        if (a->kind == TY_STRING || b->kind == TY_STRING)
            ERR(e->span, "cannot add %s and %s: `+` joins two strings; convert with to_string(...)", tstr(c, a), tstr(c, b));
        else ERR(e->span, "cannot add %s and %s", tstr(c, a), tstr(c, b));
        return &ty_error;
    case OP_SUB:
        if (dyn) return &ty_json;
        if (a->kind == TY_DATETIME && b->kind == TY_DURATION) return &ty_datetime;
        if (a->kind == TY_DATETIME && b->kind == TY_DATETIME) return &ty_duration;
        /* fallthrough */
    case OP_MUL: case OP_DIV: case OP_MOD:
        if (dyn) return &ty_json;
        if (ty_is_numeric(a) && ty_is_numeric(b))
            return op == OP_DIV || a->kind == TY_NUMBER || b->kind == TY_NUMBER ? &ty_number : &ty_int;
        ERR(e->span, "`%s` needs numbers, but got %s and %s", opname, tstr(c, a), tstr(c, b));
        return &ty_error;
    default:
        return &ty_error;
    }
}

static Type *template_type(C *c, IrExpr *e, const Env *env);

static Type *tpl_part(C *c, IrExpr *p, const Env *env) {
    switch (p->kind) {
    case IR_STR: return set(p, &ty_string);
    case IR_TPL_VALUE: {
        Type *t = ty(c, p->a, env);
        if (t->kind == TY_RECORD || t->kind == TY_ARRAY)
            ERR(p->a->span, "%s is %s and cannot be written into text; use {{jsonSerialize %s}} or pick a field",
                expr_text(c, p->a), tstr(c, t), expr_text(c, p->a));
        return set(p, &ty_string);
    }
    case IR_TPL_SECTION: {
        Type *t = ty(c, p->a, env);
        Env inner = *env;
        if (strcmp(p->name, "if") == 0 || strcmp(p->name, "unless") == 0)
            inner.facts = facts_when(c, p->a, strcmp(p->name, "if") == 0, env->facts);
        if (strcmp(p->name, "if") == 0 || strcmp(p->name, "with") == 0 || strcmp(p->name, "section") == 0)
            inner.facts = add_fact(c, inner.facts, path_key(c, p->a));   /* a truthy value is present */
        if (p->var) {
            Type *bound = t;
            if (strcmp(p->name, "each") == 0) {
                if (t->kind == TY_ARRAY) bound = t->elem;
                else if (!ty_is_dynamic(t)) {
                    ERR(p->a->span, "{{#each}} needs an array, but %s is %s", expr_text(c, p->a), tstr(c, t));
                    bound = &ty_error;
                } else bound = &ty_json;
            } else if (strcmp(p->name, "section") == 0 && t->kind == TY_ARRAY) bound = t->elem;
            p->var->type = ty_strip(c->ar, bound);
        }
        if (p->b) template_type(c, p->b, &inner);
        if (p->c) template_type(c, p->c, env);
        return set(p, &ty_string);
    }
    default: return ty(c, p, env);
    }
}

static Type *template_type(C *c, IrExpr *e, const Env *outer) {
    Env tenv = *outer;
    tenv.in_template = 1;
    tenv.in_map = 0;
    const Env *env = &tenv;
    for (int i = 0; i < e->nkids; i++) tpl_part(c, e->kids[i], env);
    return set(e, &ty_string);
}

static Type *each_type(C *c, IrExpr *e, const Env *env) {
    Type *lt = ty(c, e->a, env);
    Type *elem = &ty_error;
    if (lt->kind != TY_ERROR) {
        lt = need_value(c, e->a, env);
        if (lt->kind == TY_ARRAY) elem = lt->elem;
        else if (ty_is_dynamic(lt)) elem = &ty_json;
        else ERR(e->a->span, "`each` needs an array, but %s is %s", expr_text(c, e->a), tstr(c, lt));
    }
    e->var->type = elem;
    Env inner = *env;
    if (e->b) {
        need_bool(c, e->b, env, "the `where` condition");
        inner.facts = facts_when(c, e->b, 1, env->facts);
    }
    Type *body = e->map ? check_map(c, e->map, &inner) : ty(c, e->c, &inner);
    return ty_array(c->ar, body->kind == TY_ERROR ? &ty_json : body);
}

static Type *word_type(C *c, IrExpr *e, const Env *env) {
    if (env->test_flow) {
        static const char *const test_names[] = { "errors", "ignored", "exported", NULL };
        for (int i = 0; test_names[i]; i++) if (strcmp(test_names[i], e->name) == 0) return &ty_json;
        for (int i = 0; i < env->test_flow->nall; i++)
            if (env->test_flow->all[i]->name && strcmp(env->test_flow->all[i]->name, e->name) == 0) return &ty_json;
    }
    Suggest s;
    sug_init(&s, e->name);
    if (env->record) sug_offer(&s, "record");
    if (e->name[0] == '@') { sug_offer(&s, "@index"); sug_offer(&s, "@first"); sug_offer(&s, "@last"); }
    if (c->flow) for (int i = 0; i < c->flow->nall; i++) if (c->flow->all[i]->kind == STEP_LOOKUP) sug_offer(&s, c->flow->all[i]->name);
    for (int i = 0; i < c->p->ntables; i++) sug_offer(&s, c->p->tables[i]->name);
    if (env->test_flow) {
        sug_offer(&s, "errors");
        for (int i = 0; i < env->test_flow->nall; i++) sug_offer(&s, env->test_flow->all[i]->name);
    }
    if (c->flow)
        for (int i = 0; i < c->flow->nall; i++) {
            IrStep *st = c->flow->all[i];
            if (st->kind == STEP_LOOKUP && strcmp(st->name, e->name) == 0) {
                int line, col;
                src_line_col(c->src, st->span.start, &line, &col);
                if (st->span.start > e->span.start)
                    ERR(e->span, "lookup `%s` is not available here: it runs later, on line %d; move it before this step", e->name, line);
                else
                    ERR(e->span, "lookup `%s` is not available here: it belongs to a branch arm (line %d) and ends with it", e->name, line);
                return &ty_error;
            }
        }
    const Builtin *b = bi_lookup(e->name);
    if (b && b->ctor) ERR(e->span, "`%s` is a settings constructor and is not a value here", e->name);
    else if (b) ERR(e->span, "`%s` is a function: call it, as in %s(...)", e->name, e->name);
    else if (sug_best(&s)) {
        ERR(e->span, "unknown name `%s`; did you mean `%s`?", e->name, sug_best(&s));
        FIX(e->span, e->name, sug_best(&s));
    }
    else if (c->flow && !env->record) ERR(e->span, "unknown name `%s`", e->name);
    else ERR(e->span, "unknown name `%s`: values come from `record`, a lookup, `param.NAME` or `env(\"NAME\")`", e->name);
    return &ty_error;
}

static Type *ty(C *c, IrExpr *e, const Env *env) {
    if (!e) return &ty_error;
    switch (e->kind) {
    case IR_NULL: return set(e, &ty_null);
    case IR_BOOL: return set(e, &ty_bool);
    case IR_INT: return set(e, &ty_int);
    case IR_NUM: return set(e, &ty_number);
    case IR_STR: return set(e, &ty_string);
    case IR_DURATION: return set(e, &ty_duration);
    case IR_SIZE: return set(e, &ty_size);
    case IR_TEMPLATE: return template_type(c, e, env);
    case IR_TPL_VALUE: case IR_TPL_SECTION: return tpl_part(c, e, env);
    case IR_RECORD:
        if (!env->record) {
            ERR(e->span, "`record` is not available here%s", env->no_record ? env->no_record : "");
            return set(e, &ty_error);
        }
        return set(e, env->record);
    case IR_LOOKUP:
        if (!env->record) { ERR(e->span, "lookup `%s` is not available here%s", e->name, env->no_record ? env->no_record : "");
                            return set(e, &ty_error); }
        return set(e, narrowed(c, e, e->step->result ? e->step->result : &ty_json, env));
    case IR_PARAM: return set(e, narrowed(c, e, e->param->type ? e->param->type : &ty_error, env));
    case IR_ENV: return set(e, &ty_string);
    case IR_CONTEXT: {
        static Type *const ctx_types[CTX_COUNT] = {
            [CTX_DELTA_SINCE] = &ty_datetime, [CTX_DELTA_UNTIL] = &ty_datetime, [CTX_PAGE_NUMBER] = &ty_int,
            [CTX_PAGE_SIZE] = &ty_int, [CTX_RUN_ID] = &ty_string, [CTX_RUN_STARTED_AT] = &ty_datetime,
            [CTX_RUN_DATE] = &ty_string, [CTX_FLOW_NAME] = &ty_string };
        return set(e, ctx_types[e->op]);
    }
    case IR_RESPONSE:
        if (!env->response) { ERR(e->span, "`response` is only available in `stop` and in an import's `response { }` block");
                              return set(e, &ty_error); }
        return set(e, narrowed(c, e, env->response, env));
    case IR_EXISTING:
        if (!env->existing) { ERR(e->span, "`existing` is only available in the map of an import with `upsert`"); return set(e, &ty_error); }
        return set(e, &ty_json);
    case IR_MAPCTX:
        if (!env->mapctx) { ERR(e->span, "`%s` is only meaningful in an import's map (`when %s`)", e->name, e->name);
                            return set(e, &ty_error); }
        return set(e, &ty_bool);
    case IR_VAR: return set(e, narrowed(c, e, e->var->type ? e->var->type : &ty_json, env));
    case IR_TABLE:
        ERR(e->span, "table `%s` is used by key: `%s[record.key]`", e->name, e->name);
        return set(e, &ty_error);
    case IR_WORD: return set(e, word_type(c, e, env));
    case IR_FIELD: return set(e, narrowed(c, e, field_type(c, e, env), env));
    case IR_TPL_NAME: return set(e, tpl_name_type(c, e, env));
    case IR_INDEX: return set(e, narrowed(c, e, index_type(c, e, env), env));
    case IR_CALL: return set(e, narrowed(c, e, call_type(c, e, env), env));
    case IR_UNARY:
        if (e->op == OP_NOT && e->helper) { ty(c, e->a, env); return set(e, &ty_bool); }   /* {{not x}}: truthiness */
        if (e->op == OP_NOT) { need_bool(c, e->a, env, "the operand of `not`"); return set(e, &ty_bool); }
        else {
            Type *t = ty(c, e->a, env);
            if (t->kind == TY_ERROR) return set(e, t);
            t = need_value(c, e->a, env);
            if (!ty_is_numeric(t) && !ty_is_dynamic(t) && t->kind != TY_DURATION) {
                ERR(e->span, "unary `-` needs a number, but %s is %s", expr_text(c, e->a), tstr(c, t));
                return set(e, &ty_error);
            }
            return set(e, ty_strip(c->ar, t));
        }
    case IR_BINARY: return set(e, binary_type(c, e, env));
    case IR_IF: {
        need_bool(c, e->a, env, "the condition of `if`");
        Env th = with_facts(env, facts_when(c, e->a, 1, env->facts));
        Env el = with_facts(env, facts_when(c, e->a, 0, env->facts));
        Type *a = ty(c, e->b, &th), *b = ty(c, e->c, &el);
        Type *j = ty_join(c->ar, a, b);
        if (!j) { ERR(e->span, "the branches of `if` have different types: %s and %s", tstr(c, a), tstr(c, b)); return set(e, &ty_error); }
        return set(e, j);
    }
    case IR_EACH: return set(e, each_type(c, e, env));
    case IR_OBJECT: {
        Type *r = ty_new(c->ar, TY_RECORD);
        r->fields = arena_alloc(c->ar, sizeof(TypeField) * (size_t)(e->nkids + 1));
        for (int i = 0; i < e->nkids; i++) r->fields[r->nfields++] = (TypeField){ e->keys[i], ty(c, e->kids[i], env), e->kids[i]->span };
        return set(e, r);
    }
    case IR_ARRAY: {
        Type *el = NULL;
        for (int i = 0; i < e->nkids; i++) {
            Type *t = ty(c, e->kids[i], env);
            if (t->kind == TY_ERROR) continue;
            Type *j = el ? ty_join(c->ar, el, t) : t;
            if (!j && e == c->args_array) j = &ty_json;   /* SQL parameters: each its own type */
            if (!j) { ERR(e->kids[i]->span, "array elements must have one type: %s does not go with %s", tstr(c, t), tstr(c, el));
                      return set(e, &ty_error); }
            el = j;
        }
        return set(e, ty_array(c->ar, el ? el : &ty_json));
    }
    case IR_ERROR: default: return set(e, &ty_error);
    }
}

/* ---- map blocks: the output shape of an import or an `each { }` ---- */

static int convertible(const Type *from, const Type *to) {
    if (ty_is_dynamic(from) || ty_is_dynamic(to)) return 1;
    int scalar_from = from->kind == TY_STRING || ty_is_numeric(from) || from->kind == TY_BOOL || from->kind == TY_DATETIME || from->kind == TY_NULL;
    int scalar_to = to->kind == TY_STRING || ty_is_numeric(to) || to->kind == TY_BOOL || to->kind == TY_DATETIME;
    if (scalar_from && scalar_to) return 1;
    return ty_assignable(from, to);
}

static Type *check_map(C *c, IrMap *m, const Env *env) {
    Type *r = ty_new(c->ar, TY_RECORD);
    r->fields = arena_alloc(c->ar, sizeof(TypeField) * (size_t)(m->n + 1));
    Env menv = *env;
    menv.in_map = 1;
    for (int i = 0; i < m->n; i++) {
        IrMapEntry *en = &m->entries[i];
        Env venv = menv;
        if (en->when) {
            need_bool(c, en->when, &menv, "a `when` condition");
            venv.facts = facts_when(c, en->when, 1, menv.facts);
        }
        Type *t;
        if (en->nested) t = check_map(c, en->nested, &venv);
        else t = ty(c, en->value, &venv);
        if (en->override && t->kind != TY_ERROR) {
            if (t->kind == TY_CTOR) ERR(en->value->span, "a settings constructor cannot be mapped");
            else if (!convertible(ty_strip(c->ar, t), ty_strip(c->ar, en->override)))
                ERR(en->override_span, "cannot convert %s to %s in `%s`", tstr(c, t), tstr(c, en->override), en->name);
            t = t->nullable ? ty_nullable(c->ar, en->override) : en->override;
        }
        if (t->kind == TY_NULL) t = ty_nullable(c->ar, &ty_json);
        if (en->when) t = ty_nullable(c->ar, t);
        r->fields[r->nfields++] = (TypeField){ en->name, t, en->name_span };
    }
    return r;
}

/* ---- settings against the connector table ---- */

static const SetDef *find_setdef(int kind, int where, const char *name) {
    for (int i = 0; i < NSETDEFS; i++)
        if (set_defs[i].kind == kind && set_defs[i].where == where && strcmp(set_defs[i].name, name) == 0) return &set_defs[i];
    return NULL;
}

static const IrSetting *setting(const IrSetting *s, int n, const char *name) {
    for (int i = 0; i < n; i++) if (strcmp(s[i].name, name) == 0) return &s[i];
    return NULL;
}

/* The first interpolation or section of a template anywhere in e (text-only parts do not count). */
static const IrExpr *template_tag(const IrExpr *e) {
    if (!e) return NULL;
    if (e->kind == IR_TEMPLATE)
        for (int i = 0; i < e->nkids; i++)
            if (e->kids[i] && e->kids[i]->kind != IR_STR) return e->kids[i];
    const IrExpr *t = template_tag(e->a);
    if (!t) t = template_tag(e->b);
    if (!t) t = template_tag(e->c);
    for (int i = 0; !t && e->kind != IR_TEMPLATE && i < e->nkids; i++) t = template_tag(e->kids[i]);
    return t;
}

static void check_settings(C *c, IrSetting *s, int n, int kind, int where, const Env *env, Span owner, const char *owner_name) {
    if (kind < 0) return;   /* unknown connection or kind: reported already; its settings mean nothing yet */
    for (int i = 0; i < n; i++) {
        const SetDef *d = find_setdef(kind, where, s[i].name);
        if (!d) {
            Suggest sg;
            sug_init(&sg, s[i].name);
            int any = 0;
            for (int k = 0; k < NSETDEFS; k++)
                if (set_defs[k].kind == kind && set_defs[k].where == where) { sug_offer(&sg, set_defs[k].name); any = 1; }
            if (kind == CK_webhook && where == W_EXPORT && strcmp(s[i].name, "mode") == 0)
                ERR(s[i].name_span, "a webhook export has no `mode`: every queued record is exported once, in arrival order");
            else if (sug_best(&sg)) {
                ERR(s[i].name_span, "unknown setting `%s` for %s %s; did you mean `%s`?", s[i].name, flow_conn_kinds[kind],
                    where_names[where], sug_best(&sg));
                FIX(s[i].name_span, s[i].name, sug_best(&sg));
            }
            else if (!any)
                ERR(s[i].name_span, "%s %ss take no settings, but `%s` is set", flow_conn_kinds[kind], where_names[where], s[i].name);
            else
                ERR(s[i].name_span, "unknown setting `%s` for %s %s", s[i].name, flow_conn_kinds[kind], where_names[where]);
            continue;   /* its value means nothing without the setting */
        }
        s[i].def = (int)(d - set_defs);
        Env venv = *env;
        if (strcmp(d->type, "cond") == 0) {   /* stop = <expr over the response> */
            venv.response = &ty_json;
            venv.record = NULL;
            venv.no_record = ": `stop` looks at the response, not at records";
        }
        if (d->flags & STEP) {                /* one value for the step: batch = record.n would mean nothing */
            venv.record = NULL;
            venv.no_record = arena_printf(c->ar, ": `%s` is one value for the whole step, not evaluated per record", d->name);
        }
        if (strcmp(d->type, "sql") == 0) {    /* SQL text: values are bound through `args`, never spliced */
            const IrExpr *tag = template_tag(s[i].value);
            if (tag) {
                ERR(tag->span, "`%s` cannot hold a template: a value spliced into SQL text can change the query (SQL injection); "
                    "write a placeholder (`?` in sqlite, `$1` in postgres) and pass the value in `args = [%s]`", s[i].name,
                    tag->kind == IR_TPL_VALUE && tag->a ? expr_text(c, tag->a) : "...");
                continue;
            }
            venv.record = NULL;
            venv.no_record = ": SQL text cannot hold record values; write a placeholder (`?` in sqlite, `$1` in postgres) "
                             "and pass the value in `args = [...]`";
        }
        check_value(c, s[i].value, d->type, &venv, arena_printf(c->ar, "`%s`", s[i].name));
        IrExpr *v = s[i].value;
        if (kind == CK_file && strcmp(s[i].name, "file") == 0 && v->kind == IR_STR) {   /* a constant name: the runtime's rule */
            char *clean = NULL;
            const char *bad = flow_file_name_rule(v->str, &clean);
            free(clean);
            if (bad) ERR(v->span, "file \"%s\" %s", v->str, bad);
        }
        char why[160];   /* RANGE lines of connectors.def, by the runtime's own check */
        if ((v->kind == IR_INT || v->kind == IR_DURATION || v->kind == IR_NUM) &&
            flow_setting_check_range(s[i].name, d->type, v->kind == IR_NUM ? v->num : (double)v->ival, why, sizeof why))
            ERR(v->span, "`%s` %s", s[i].name, why);
        if (strcmp(s[i].name, "allowed_origins") == 0 && v->kind == IR_ARRAY)   /* the runtime's own rule */
            for (int k = 0; k < v->nkids; k++)
                if (v->kids[k] && v->kids[k]->kind == IR_STR && !flow_http_is_origin(v->kids[k]->str))
                    ERR(v->kids[k]->span, "`allowed_origins` lists origins (scheme://host[:port], as in \"https://files.example.com\"), "
                        "not \"%s\"", v->kids[k]->str);
    }
    for (int k = 0; k < NSETDEFS; k++) {
        const SetDef *d = &set_defs[k];
        int misspelt = 0;   /* `pth = ...` already got "did you mean `path`?" */
        for (int i = 0; d->kind == kind && d->where == where && i < n; i++) {
            if (s[i].def >= 0) continue;
            Suggest sg;
            sug_init(&sg, s[i].name);
            sug_offer(&sg, d->name);
            if (sug_best(&sg)) misspelt = 1;
        }
        if (d->kind == kind && d->where == where && (d->flags & REQ) && !setting(s, n, d->name) && !misspelt)
            ERR(owner, "%s %s%s%s needs `%s`", flow_conn_kinds[kind], where_names[where], owner_name ? " " : "",
                owner_name ? arena_printf(c->ar, "`%s`", owner_name) : "", d->name);
    }
}

/* ---- steps: the record type evolves from one to the next ---- */

static Type *check_steps(C *c, IrStep **steps, int n, Type *rec);

/* Sets (or removes, when v is NULL) the field at `path` of record type t. */
static Type *set_path(C *c, Type *t, IrExpr *target, Type *v, int remove) {
    if (target->kind == IR_RECORD) return v ? v : t;
    if (target->kind != IR_FIELD) return t;
    /* collect the parent chain */
    Type *parent_t = NULL;
    IrExpr *parent = target->a;
    if (parent->kind == IR_RECORD) parent_t = t;
    else {
        /* find the parent's current type by walking from the root */
        IrExpr *chain[AST_MAX_DEPTH + 1];
        int n = 0;
        for (IrExpr *x = parent; x->kind == IR_FIELD && n < AST_MAX_DEPTH; x = x->a) chain[n++] = x;
        parent_t = t;
        for (int i = n - 1; i >= 0 && parent_t; i--) {
            if (ty_is_dynamic(parent_t)) return t;
            const TypeField *f = ty_field(parent_t, chain[i]->name);
            if (!f) {
                if (remove) { ERR(chain[i]->span, "cannot remove: `%s` has no field `%s`", expr_text(c, chain[i]->a), chain[i]->name); return t; }
                parent_t = NULL;    /* creates a nested record below */
                break;
            }
            if (f->type->nullable && !ty_is_dynamic(f->type)) {
                ERR(chain[i]->span, "%s may be null, so a field cannot be set inside it; set the whole of it instead", expr_text(c, chain[i]));
                return t;
            }
            if (f->type->kind != TY_RECORD && !ty_is_dynamic(f->type)) {
                ERR(chain[i]->span, "%s is %s, not a record", expr_text(c, chain[i]), tstr(c, f->type));
                return t;
            }
            parent_t = f->type;
        }
        if (!parent_t) parent_t = ty_new(c->ar, TY_RECORD);
    }
    if (ty_is_dynamic(parent_t)) return t;
    Type *np;
    if (remove) {
        if (!ty_field(parent_t, target->name)) {
            Suggest s;
            sug_init(&s, target->name);
            for (int i = 0; i < parent_t->nfields; i++) sug_offer(&s, parent_t->fields[i].name);
            if (sug_best(&s)) {
                ERR(target->span, "cannot remove `%s`: no such field; did you mean `%s`?", target->name, sug_best(&s));
                FIX(target->span, target->name, sug_best(&s));
            }
            else ERR(target->span, "cannot remove `%s`: no such field", target->name);
            return t;
        }
        np = ty_without_field(c->ar, parent_t, target->name);
    } else {
        np = ty_with_field(c->ar, parent_t, target->name, v, target->span);
    }
    np->name = NULL;   /* no longer the declared type */
    if (parent->kind == IR_RECORD) return np;
    return set_path(c, t, parent, np, 0);
}

static int is_record_path(const IrExpr *e) {
    while (e->kind == IR_FIELD) e = e->a;
    return e->kind == IR_RECORD;
}

static Type *apply_assigns(C *c, IrAssign *as, int n, Type *rec, const Env *base, const char *what) {
    for (int i = 0; i < n; i++) {
        IrExpr *tg = as[i].target;
        Env env = *base;
        env.record = rec;
        Type *v = NULL;
        if (!as[i].remove) {
            v = ty(c, as[i].value, &env);
            if (v->kind == TY_CTOR) { ERR(as[i].value->span, "a settings constructor is not a value"); v = &ty_error; }
            if (v->kind == TY_NULL) {   /* record.x = null: x keeps its type, now nullable */
                const Type *cur = NULL;
                if (tg->kind == IR_FIELD && tg->a->kind == IR_RECORD) { const TypeField *f = ty_field(rec, tg->name); cur = f ? f->type : NULL; }
                v = cur ? ty_nullable(c->ar, (Type *)cur) : &ty_null;
            }
        }
        if (!is_record_path(tg) || tg->kind == IR_RECORD) {
            ERR(tg->span, "%s can only %s fields of the record, as in `%s`", what,
                as[i].remove ? "remove" : "set", as[i].remove ? "remove record.total" : "record.total = 0");
            continue;
        }
        if (ty_is_dynamic(rec)) continue;
        rec = set_path(c, rec, tg, v ? v : &ty_error, as[i].remove);
    }
    return rec;
}

/* After `filter has(record.x)` the record's x is known to be present. */
static Type *narrow_record(C *c, Type *rec, const Fact *f) {
    for (; f; f = f->next) {
        if (strncmp(f->key, "record.", 7) != 0 || strchr(f->key + 7, '.') || strchr(f->key + 7, '[')) continue;
        const TypeField *fd = ty_field(rec, f->key + 7);
        if (fd && fd->type->nullable) {
            const char *nm = rec->name;
            rec = ty_with_field(c->ar, rec, fd->name, ty_strip(c->ar, fd->type), fd->span);
            rec->name = nm;
        }
    }
    return rec;
}

/* The record type after a branch: fields every arm has keep their (joined) type; the others are nullable. */
static Type *merge(C *c, Type *a, Type *b, const IrStep *branch, const IrArm *arm) {
    if (!a) return b;
    if (a == b) return a;
    if (ty_is_dynamic(a) || ty_is_dynamic(b) || a->kind != TY_RECORD || b->kind != TY_RECORD) return &ty_json;
    Type *r = ty_record_copy(c->ar, a, b->nfields);
    r->name = a->name && b->name && strcmp(a->name, b->name) == 0 ? a->name : NULL;
    for (int i = 0; i < r->nfields; i++) {
        const TypeField *fb = ty_field(b, r->fields[i].name);
        Type *j = fb ? ty_join(c->ar, r->fields[i].type, fb->type) : NULL;
        if (fb && !j) {
            ERR(arm->name_span, "after the branch, `record.%s` would be %s from earlier arms but %s from arm `%s`; "
                "give it one type in every arm", r->fields[i].name, tstr(c, r->fields[i].type), tstr(c, fb->type), arm->name);
            j = &ty_error;
        }
        r->fields[i].type = j ? j : ty_nullable(c->ar, r->fields[i].type);
    }
    (void)branch;
    for (int i = 0; i < b->nfields; i++)
        if (!ty_field(a, b->fields[i].name))
            r->fields[r->nfields++] = (TypeField){ b->fields[i].name, ty_nullable(c->ar, b->fields[i].type), b->fields[i].span };
    return r;
}

static void check_hooks(C *c, IrHook *h, int n) {
    for (int i = 0; i < n; i++)
        for (int k = 0; k < i; k++)
            if (h[i].point >= 0 && h[i].point == h[k].point) {
                int line, col;
                src_line_col(c->src, h[k].span.start, &line, &col);
                ERR(h[i].name_span, "hook `%s` is given twice (first on line %d)", ir_hook_names[h[i].point], line);
            }
    Env env = { 0 };
    env.no_record = ": hooks are C functions, named with c(\"file.c\", \"function\")";
    for (int i = 0; i < n; i++) check_value(c, h[i].value, "ctor:hook", &env, arena_printf(c->ar, "hook `%s`", h[i].point >= 0 ? ir_hook_names[h[i].point] : "?"));
}

static void check_import(C *c, IrStep *st, Type *rec) {
    Env env = { 0 };
    env.record = rec;
    int kind = st->conn ? st->conn->kind : -1;
    if (kind == CK_webhook) {
        ERR(st->conn_span, "`webhook` is a source of records: an import cannot write into it");
        kind = -1;
    }
    check_settings(c, st->settings, st->nsettings, kind, W_IMPORT, &env, st->name_span, st->name);
    const IrSetting *up = setting(st->settings, st->nsettings, "upsert");
    const IrSetting *mode = setting(st->settings, st->nsettings, "mode");
    int upserting = up || (mode && mode->value->kind == IR_CALL && mode->value->fn && strcmp(mode->value->fn->name, "upsert") == 0);
    if (st->map) {
        Env menv = env;
        menv.mapctx = 1;
        menv.existing = upserting;
        Type *out = check_map(c, st->map, &menv);
        /* the upsert key must be one of the mapped fields */
        const IrSetting *keyset = up ? up : mode;
        if (upserting && keyset && keyset->value->kind == IR_CALL && keyset->value->nkids && keyset->value->kids[0] &&
            keyset->value->kids[0]->kind == IR_STR) {
            IrExpr *k = keyset->value->kids[0];
            if (!ty_field(out, k->str)) {
                Suggest s;
                sug_init(&s, k->str);
                for (int i = 0; i < out->nfields; i++) sug_offer(&s, out->fields[i].name);
                if (sug_best(&s)) {
                    ERR(k->span, "the upsert key \"%s\" is not a mapped field; did you mean \"%s\"?", k->str, sug_best(&s));
                    FIX(k->span, k->str, sug_best(&s));
                }
                else ERR(k->span, "the upsert key \"%s\" is not a mapped field", k->str);
            }
        }
    }
    if (st->map && setting(st->settings, st->nsettings, "body"))
        ERR(setting(st->settings, st->nsettings, "body")->name_span, "an import has either a `map` or a `body` template, not both");
    check_hooks(c, st->hooks, st->nhooks);
    st->out = rec;
    if (st->response && kind >= 0 && kind != CK_http) {
        ERR(st->name_span, "only http imports have a response to map; `%s` writes to a %s connection", st->name, flow_conn_kinds[kind]);
        return;
    }
    if (st->response) {
        Env renv = { 0 };
        renv.response = &ty_json;
        st->out = apply_assigns(c, st->response, st->nresponse, rec, &renv, "a response mapping");
    }
}

static Type *check_step(C *c, IrStep *st, Type *rec) {
    st->in = rec;
    Env env = { 0 };
    env.record = rec;
    switch (st->kind) {
    case STEP_EXPORT: {
        Env xenv = { 0 };
        xenv.no_record = ": export settings are evaluated before any record is read";
        if (st->conn && st->conn->kind == CK_webhook) {   /* `from webhook`: the records of the flow's own webhook requests */
            const IrSetting *tr = c->flow ? setting(c->flow->settings, c->flow->nsettings, "trigger") : NULL;
            if (!tr || tr->value->kind != IR_CALL || !tr->value->fn || strcmp(tr->value->fn->name, "webhook") != 0)
                ERR(st->conn_span, "`from webhook` exports the records of the flow's webhook requests, but flow `%s` has no "
                    "`trigger = webhook(\"/path\", verify = ...)`", c->flow ? c->flow->name : "?");
        }
        check_settings(c, st->settings, st->nsettings, st->conn ? st->conn->kind : -1, W_EXPORT, &xenv, st->name_span, st->name);
        st->out = st->declared ? st->declared : &ty_json;
        return st->out;
    }
    case STEP_LOOKUP: {
        int lk = st->conn ? st->conn->kind : -1;
        if (lk == CK_webhook) {
            ERR(st->conn_span, "`webhook` is a source of records: only an export reads it (`export NAME from webhook`)");
            lk = -1;
        }
        if (lk == CK_file || lk == CK_stdio) {
            ERR(st->conn_span, "a lookup asks a connection per record: use an http, sqlite or postgres connection; `%s` is a %s connection",
                st->conn->name, flow_conn_kinds[lk]);
            lk = -1;
        }
        check_settings(c, st->settings, st->nsettings, lk, W_LOOKUP, &env, st->name_span, st->name);
        Type *res = st->declared ? st->declared : &ty_json;
        const IrSetting *om = setting(st->settings, st->nsettings, "on_missing");
        if (om && om->value->kind == IR_NULL) res = ty_nullable(c->ar, res);
        st->result = res;
        st->out = rec;
        return rec;
    }
    case STEP_TRANSFORM:
        st->out = apply_assigns(c, st->assigns, st->nassigns, rec, &env, "a transform");
        return st->out;
    case STEP_FILTER:
        need_bool(c, st->cond, &env, "a filter condition");
        st->out = ty_is_dynamic(rec) ? rec : narrow_record(c, rec, facts_when(c, st->cond, 1, NULL));
        return st->out;
    case STEP_BRANCH: {
        Type *out = NULL;
        for (int i = 0; i < st->narms; i++) {
            IrArm *arm = &st->arms[i];
            Type *arm_in = rec;
            if (arm->cond) {
                need_bool(c, arm->cond, &env, "a branch condition");
                if (!ty_is_dynamic(rec)) arm_in = narrow_record(c, rec, facts_when(c, arm->cond, 1, NULL));
            } else if (i != st->narms - 1) {
                ERR(arm->name_span, "branch arm `%s` has no `when`, so it takes every record; it must be the last arm", arm->name);
            }
            if (arm->nsteps == 0)
                WARN(arm->name_span, "branch arm `%s` has no steps: records routed to it are dropped (counted as ignored)", arm->name);
            Type *arm_out = check_steps(c, arm->steps, arm->nsteps, arm_in);
            if (arm->nsteps) out = merge(c, out, arm_out, st, arm);   /* an empty arm's records are dropped */
        }
        st->out = out ? out : rec;
        return st->out;
    }
    case STEP_IMPORT:
        check_import(c, st, rec);
        return st->out;
    }
    return rec;
}

static Type *check_steps(C *c, IrStep **steps, int n, Type *rec) {
    for (int i = 0; i < n; i++) rec = check_step(c, steps[i], rec);
    return rec;
}

static void check_flow(C *c, IrFlow *f) {
    c->flow = f;
    c->export = f->nsteps && f->steps[0]->kind == STEP_EXPORT ? f->steps[0] : NULL;
    Env env = { 0 };
    env.no_record = ": flow settings are not evaluated per record";
    for (int i = 0; i < f->nsettings; i++) {
        IrSetting *s = &f->settings[i];
        const char *type = NULL;
        Suggest sg;
        sug_init(&sg, s->name);
        for (size_t k = 0; k < sizeof flow_sets / sizeof flow_sets[0]; k++) {
            if (strcmp(flow_sets[k].name, s->name) == 0) type = flow_sets[k].type;
            sug_offer(&sg, flow_sets[k].name);
        }
        if (!type) {
            if (sug_best(&sg)) {
                ERR(s->name_span, "unknown flow setting `%s`; did you mean `%s`?", s->name, sug_best(&sg));
                FIX(s->name_span, s->name, sug_best(&sg));
            }
            else ERR(s->name_span, "unknown flow setting `%s`: a flow takes `schedule`, `trigger` and `catch_up`, and steps", s->name);
            continue;
        }
        check_value(c, s->value, type, &env, arena_printf(c->ar, "`%s`", s->name));
    }
    /* catch_up makes up a fire missed while serve was down: only a schedule with fire times has them */
    const IrSetting *cu = setting(f->settings, f->nsettings, "catch_up");
    if (cu && cu->value->kind == IR_BOOL && cu->value->ival) {
        const IrSetting *sc = setting(f->settings, f->nsettings, "schedule");
        const IrExpr *v = sc ? sc->value : NULL;
        const char *fn = v && v->kind == IR_CALL && v->fn ? v->fn->name : v && v->kind == IR_WORD ? v->name : NULL;
        if (!sc || (fn && strcmp(fn, "cron") != 0 && strcmp(fn, "every") != 0))
            ERR(cu->value->span, "catch_up = true needs a cron(...) or every(...) schedule (it runs a fire missed while serve was down), "
                "but flow `%s` has %s", f->name, sc ? arena_printf(c->ar, "`%s(...)`", fn ? fn : "?") : "no schedule");
    }
    check_hooks(c, f->hooks, f->nhooks);
    check_steps(c, f->steps, f->nsteps, &ty_json);
    for (int i = 0; i < f->nall; i++) {
        IrStep *st = f->all[i];
        if (st->kind == STEP_IMPORT && st->conn && st->conn->kind == CK_http && !st->map &&
            !setting(st->settings, st->nsettings, "body") && strcmp(flow_conn_kinds[st->conn->kind], "http") == 0) {
            /* sending the record as it is: allowed, nothing to check */
        }
    }
    c->flow = NULL;
    c->export = NULL;
}

static void check_test(C *c, IrTest *t) {
    Env env = { 0 };
    env.no_record = ": a test's expectations look at what the steps produced, by step name";
    for (int i = 0; i < t->ngivens; i++) {
        IrGiven *g = &t->givens[i];
        IrExpr *v = g->value;
        if (g->existing) {   /* given existing = { ... }: what every upsert of the flow finds at the destination */
            Type *et = ty(c, v, &env);
            if (et->kind != TY_ERROR && et->kind != TY_RECORD && !ty_is_dynamic(et))
                ERR(v->span, "`given existing` is the destination's record an upsert finds, an object as in { id: 1 }; this is %s",
                    tstr(c, et));
            int upserts = 0;
            for (int k = 0; t->flow && k < t->flow->nall && !upserts; k++) {
                const IrStep *st = t->flow->all[k];
                const IrSetting *m = st->kind == STEP_IMPORT ? setting(st->settings, st->nsettings, "mode") : NULL;
                upserts = st->kind == STEP_IMPORT && (setting(st->settings, st->nsettings, "upsert") ||
                          (m && m->value->kind == IR_CALL && m->value->fn && strcmp(m->value->fn->name, "upsert") == 0));
            }
            if (t->flow && !upserts)
                ERR(g->name_span, "`given existing` is the record an upsert finds at the destination, but flow `%s` has no "
                    "import with `upsert = by(...)` or `mode = upsert(...)`", t->flow->name);
            continue;
        }
        if (v->kind == IR_CALL && v->fn && v->fn->ctor) { check_value(c, v, "ctor:data", &env, "a given value"); continue; }
        if (v->kind == IR_ARRAY && g->step && g->step->kind == STEP_EXPORT) {
            /* each mock record on its own against the declared type (they need not share one shape) */
            const Type *rt = g->step->declared;
            for (int k = 0; k < v->nkids; k++) {
                Type *et = ty(c, v->kids[k], &env);
                if (et->kind == TY_ERROR) continue;
                if (et->kind != TY_RECORD && !ty_is_dynamic(et)) {
                    ERR(v->kids[k]->span, "a mock record is an object, as in { id: 1 }; this is %s", tstr(c, et));
                    continue;
                }
                if (!rt || rt->kind != TY_RECORD || et->kind != TY_RECORD) continue;
                for (int f = 0; f < et->nfields; f++) {
                    const TypeField *df = ty_field(rt, et->fields[f].name);
                    Type *mt = et->fields[f].type;
                    Type *dt = df ? ty_strip(c->ar, df->type) : NULL;
                    if (!df || ty_assignable(mt, df->type)) continue;
                    if (dt->kind == TY_DATETIME && (mt->kind == TY_STRING || ty_is_numeric(mt))) {
                        if (mt->kind == TY_STRING) check_iso(c, v->kids[k]->kids[f]);
                        continue;   /* read as ISO-8601 text or epoch seconds */
                    }
                    ERR(et->fields[f].span, "mock field `%s` is %s, but %s declares it %s", et->fields[f].name,
                        tstr(c, mt), tstr(c, rt), tstr(c, df->type));
                }
            }
            v->type = ty_array(c->ar, &ty_json);
            continue;
        }
        Type *vt = ty(c, v, &env);
        if (vt->kind == TY_ERROR || !g->step) continue;
        if (g->step->kind == STEP_EXPORT && vt->kind != TY_ARRAY && !ty_is_dynamic(vt))
            ERR(v->span, "an export is mocked with an array of records or file(\"...\"), but this is %s", tstr(c, vt));
    }
    if (!t->flow) return;   /* reported: unknown flow */
    Env xenv = env;
    xenv.test_flow = t->flow;
    for (int i = 0; i < t->nexpects; i++) need_bool(c, t->expects[i], &xenv, "an expectation");
}

/* flow f's webhook(...) call, or NULL */
static const IrExpr *webhook_of(const IrFlow *f) {
    const IrSetting *tr = setting(f->settings, f->nsettings, "trigger");
    const IrExpr *w = tr ? tr->value : NULL;
    return w && w->kind == IR_CALL && w->fn && strcmp(w->fn->name, "webhook") == 0 ? w : NULL;
}

static int secret_url_of(const IrExpr *w) {
    const IrExpr *v = w->nkids > 1 ? w->kids[1] : NULL;
    return v && ((v->kind == IR_CALL && v->fn && strcmp(v->fn->name, "secret_url") == 0) ||
                 (v->kind == IR_WORD && strcmp(v->name, "secret_url") == 0));
}

/* One flow per webhook path (constant ones; serve refuses to start on two from params). A
 * secret_url() flow's path takes one segment more (its secret), which no other path may hold. */
static void check_webhook_paths(C *c) {
    for (int i = 0; i < c->p->nflows; i++) {
        const IrExpr *w = webhook_of(c->p->flows[i]);
        const IrExpr *pa = w ? w->kids[0] : NULL;
        if (!pa || pa->kind != IR_STR) continue;
        for (int k = 0; k < i; k++) {
            const IrExpr *o = webhook_of(c->p->flows[k]);
            const IrExpr *po = o ? o->kids[0] : NULL;
            if (!po || po->kind != IR_STR) continue;
            int same = strcmp(pa->str, po->str) == 0;
            const IrExpr *shorter = strlen(pa->str) < strlen(po->str) ? pa : po, *longer = shorter == pa ? po : pa;
            const IrExpr *sw = shorter == pa ? w : o;
            size_t sl = strlen(shorter->str);
            int under = !same && secret_url_of(sw) && strncmp(longer->str, shorter->str, sl) == 0 && longer->str[sl] == '/' &&
                        !strchr(longer->str + sl + 1, '/');
            int line = 0, col = 0;
            src_line_col(c->src, po->span.start, &line, &col);
            if (same)
                ERR(pa->span, "flow `%s` is already served at \"%s\" (line %d): each webhook path belongs to one flow",
                    c->p->flows[k]->name, pa->str, line);
            else if (under)
                ERR(pa->span, "\"%s\" is where flow `%s`'s secret_url() takes its secret (\"%s/<secret>\"): give this webhook another path",
                    longer->str, (shorter == pa ? c->p->flows[i] : c->p->flows[k])->name, shorter->str);
        }
    }
}

void chk_program(Arena *ar, Diags *diags, IrProgram *p) {
    C cs = { ar, diags, p->src, p, NULL, NULL, NULL }, *c = &cs;
    Env konst = { 0 };
    konst.no_record = ": only constants, params and env(...) can be used outside flows";
    for (int i = 0; i < p->nparams; i++) {
        IrParam *x = p->params[i];
        if (!x->def) continue;
        Type *t = ty(c, x->def, &konst);
        if (x->def->kind == IR_PARAM) ERR(x->def->span, "a param's default cannot refer to another param");
        else if (ty_strip(ar, x->type)->kind == TY_DATETIME && t->kind == TY_STRING) check_iso(c, x->def);
        else if (t->kind != TY_ERROR && !ty_assignable(t, x->type))
            ERR(x->def->span, "the default of param `%s` must be %s, but it is %s", x->name, tstr(c, x->type), tstr(c, t));
    }
    for (int i = 0; i < p->nenvs; i++)
        for (int k = 0; k < p->envs[i]->nsettings; k++) {
            IrSetting *s = &p->envs[i]->settings[k];
            Type *t = ty(c, s->value, &konst);
            IrParam *target = NULL;
            for (int j = 0; j < p->nparams; j++) if (strcmp(p->params[j]->name, s->name) == 0) target = p->params[j];
            if (target && target->type && ty_strip(ar, target->type)->kind == TY_DATETIME && t->kind == TY_STRING)
                check_iso(c, s->value);
            else if (target && target->type && t->kind != TY_ERROR && !ty_assignable(t, target->type))
                ERR(s->value->span, "param `%s` is %s, but env `%s` sets it to %s", s->name, tstr(c, target->type),
                    p->envs[i]->name, tstr(c, t));
        }
    for (int i = 0; i < p->ntables; i++) {
        IrTable *t = p->tables[i];
        IrExpr *v = t->value;
        if (v->kind != IR_OBJECT) { ERR(v->span, "a table is an object of constant entries: { \"key\": \"value\", ... }"); ty(c, v, &konst); continue; }
        Type *el = NULL;
        for (int k = 0; k < v->nkids; k++) {
            IrExprKind vk = v->kids[k]->kind;
            Type *et = ty(c, v->kids[k], &konst);
            if (vk != IR_STR && vk != IR_INT && vk != IR_NUM && vk != IR_BOOL) {
                ERR(v->kids[k]->span, "table entries must be constants");
                continue;
            }
            Type *j = el ? ty_join(ar, el, et) : et;
            if (!j) { ERR(v->kids[k]->span, "table entries must have one type: %s does not go with %s", tstr(c, et), tstr(c, el)); continue; }
            el = j;
        }
        v->type = &ty_json;
        t->elem = el ? el : &ty_string;
    }
    for (int i = 0; i < p->nconns; i++) {
        IrConn *x = p->conns[i];
        check_settings(c, x->settings, x->nsettings, x->kind, W_CONN, &konst, x->name_span, x->name);
    }
    for (int i = 0; i < p->nflows; i++) check_flow(c, p->flows[i]);
    check_webhook_paths(c);
    /* after(...) chains must start somewhere: a cycle of flows waiting for each other never runs.
     * Each flow waits for at most one other, so the flows on a cycle are found in one walk (linear in
     * the flows, however long the chains); each of them is reported, in the order of the file. */
    if (p->nflows) {
        int n = p->nflows, *next = calloc((size_t)n, sizeof *next), *state = calloc((size_t)n, sizeof *state);
        int *path = calloc((size_t)n, sizeof *path);
        IrExpr **word = calloc((size_t)n, sizeof *word);
        if (!next || !state || !path || !word) abort();
        for (int i = 0; i < n; i++) {
            IrFlow *f = p->flows[i];
            const IrSetting *s = setting(f->settings, f->nsettings, "schedule");
            IrExpr *v = s ? s->value : NULL;
            next[i] = -1;
            if (!v || v->kind != IR_CALL || !v->fn || strcmp(v->fn->name, "after") != 0 || !v->kids[0] || v->kids[0]->kind != IR_WORD) continue;
            IrFlow *to = ir_flow_named(p, v->kids[0]->name);
            for (int k = 0; to && k < n; k++) if (p->flows[k] == to) { next[i] = k; break; }
            word[i] = v->kids[0];
        }
        /* state: 0 not seen, 1 on the walk now, 2 done, 3 on a cycle of two or more flows */
        for (int i = 0; i < n; i++) {
            int len = 0, at = i;
            while (at >= 0 && state[at] == 0) { state[at] = 1; path[len++] = at; at = next[at]; }
            if (at >= 0 && state[at] == 1) {   /* the walk closed a cycle: the path from `at` on */
                int from = 0;
                while (path[from] != at) from++;
                if (len - from > 1) for (int k = from; k < len; k++) state[path[k]] = 3;
            }
            for (int k = 0; k < len; k++) if (state[path[k]] == 1) state[path[k]] = 2;
        }
        for (int i = 0; i < n; i++)
            if (state[i] == 3)
                ERR(word[i]->span, "flow `%s` runs after `%s`, which (through `after`) waits for `%s`: this cycle never starts",
                    p->flows[i]->name, word[i]->name, p->flows[i]->name);
        free(next); free(state); free(path); free(word);
    }
    for (int i = 0; i < p->ntests; i++) check_test(c, p->tests[i]);
    /* warnings: declared and never used (not worth reading while there are errors) */
    if (diags->errors) return;
    for (int i = 0; i < p->nconns; i++)
        if (!p->conns[i]->used) WARN(p->conns[i]->name_span, "connection `%s` is never used", p->conns[i]->name);
    for (int i = 0; i < p->nparams; i++)
        if (!p->params[i]->used) WARN(p->params[i]->name_span, "param `%s` is never used", p->params[i]->name);
    for (int i = 0; i < p->ntables; i++)
        if (!p->tables[i]->used) WARN(p->tables[i]->name_span, "table `%s` is never used", p->tables[i]->name);
}

Type *chk_eval_expr(Arena *ar, Diags *diags, const Source *src, IrExpr *e) {
    IrProgram p = { 0 };
    p.src = src;
    C cs = { ar, diags, src, &p, NULL, NULL, NULL }, *c = &cs;
    Env env = { 0 };
    env.record = &ty_json;
    return ty(c, e, &env);
}
