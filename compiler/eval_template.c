/* eval_template.c — `flowc eval --template`: renders a template with the JSON data's members as names. */
#include "eval.h"
#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"
#include "suggest.h"
#include "template.h"                /* compiler/template.h: the parser */
#include "../runtime/template.h"     /* the runtime's rendering helpers, as generated code uses them */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Work limits: a template is small, but sections nested over large lists multiply. */
#define EVAL_MAX_STEPS 50000000UL            /* parts rendered, iterations, values compared */
#define EVAL_MAX_OUTPUT ((size_t)256 << 20)  /* bytes of output */

/* ---- the helpers eval knows (the Handlebars names of LANGUAGE.md §6) ---- */

typedef enum {
    H_LOWER, H_UPPER, H_TRIM, H_TOSTRING, H_JSON, H_ADD, H_SUB, H_MUL, H_DIV, H_FLOOR, H_CEIL, H_ABS,
    H_DEFAULT, H_JOIN, H_EQ, H_AND, H_OR, H_NOT, H_COMPARE, H_LATER
} HelperId;

typedef struct { const char *name; HelperId id; int min, max; } HelperDef;

static const HelperDef helper_defs[] = {
    { "lowercase", H_LOWER, 1, 1 }, { "uppercase", H_UPPER, 1, 1 }, { "trim", H_TRIM, 1, 1 },
    { "toString", H_TOSTRING, 1, 1 }, { "jsonSerialize", H_JSON, 1, 1 },
    { "add", H_ADD, 2, 2 }, { "subtract", H_SUB, 2, 2 }, { "multiply", H_MUL, 2, 2 }, { "divide", H_DIV, 2, 2 },
    { "floor", H_FLOOR, 1, 1 }, { "ceil", H_CEIL, 1, 1 }, { "abs", H_ABS, 1, 1 },
    { "default", H_DEFAULT, 2, 2 }, { "join", H_JOIN, 1, 2 }, { "eq", H_EQ, 2, 2 },
    { "and", H_AND, 2, 2 }, { "or", H_OR, 2, 2 }, { "not", H_NOT, 1, 1 }, { "compare", H_COMPARE, 3, 3 },
    /* known to the compiler, not rendered by eval yet */
    { "dateFormat", H_LATER, 0, 0 }, { "replace", H_LATER, 0, 0 }, { "substring", H_LATER, 0, 0 },
    { "padLeft", H_LATER, 0, 0 }, { "split", H_LATER, 0, 0 }, { "round", H_LATER, 0, 0 },
    { "regexMatch", H_LATER, 0, 0 }, { "regexReplace", H_LATER, 0, 0 },
};

static const HelperDef *helper_def(const char *name) {
    for (size_t i = 0; i < sizeof helper_defs / sizeof helper_defs[0]; i++)
        if (strcmp(helper_defs[i].name, name) == 0) return &helper_defs[i];
    return NULL;
}

typedef enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_BAD } CmpOp;

static CmpOp compare_op(const char *s) {
    static const struct { const char *s; CmpOp op; } ops[] = {
        { "==", CMP_EQ }, { "===", CMP_EQ }, { "!=", CMP_NE }, { "!==", CMP_NE },
        { "<", CMP_LT }, { "<=", CMP_LE }, { ">", CMP_GT }, { ">=", CMP_GE } };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) if (strcmp(ops[i].s, s) == 0) return ops[i].op;
    return CMP_BAD;
}

static int is_loop_var(const char *n) {
    return strcmp(n, "@index") == 0 || strcmp(n, "@first") == 0 || strcmp(n, "@last") == 0 || strcmp(n, "@key") == 0;
}

/* ---- before rendering: what eval cannot render is an error whatever the data ---- */

typedef struct {
    Diags *diags;
    const Source *src;
} Pre;

static void pre_expr(Pre *p, const AstNode *e, int binds);

static void pre_tmpl(Pre *p, const AstNode *t, int binds) {
    if (!t) return;
    for (int i = 0; i < t->kids.n; i++) {
        const AstNode *k = t->kids.items[i];
        if (k->kind == AST_TPL_VALUE) pre_expr(p, k->a, binds);
        else if (k->kind == AST_TPL_SECTION) {
            pre_expr(p, k->a, binds);
            int inner = strcmp(k->name, "each") == 0 || strcmp(k->name, "with") == 0 || strcmp(k->name, "section") == 0;
            pre_tmpl(p, k->b, binds || inner);
            pre_tmpl(p, k->c, binds);
        }
    }
}

static void pre_call(Pre *p, const AstNode *e, int binds) {
    const HelperDef *h = helper_def(e->name);
    if (!h) {
        Suggest s;
        sug_init(&s, e->name);
        for (size_t i = 0; i < sizeof helper_defs / sizeof helper_defs[0]; i++) sug_offer(&s, helper_defs[i].name);
        if (sug_best(&s)) diag_error(p->diags, p->src, e->name_span, "unknown template helper `%s`; did you mean `%s`?", e->name, sug_best(&s));
        else diag_error(p->diags, p->src, e->name_span, "unknown template helper `%s`", e->name);
    } else if (h->id == H_LATER) {
        diag_error(p->diags, p->src, e->name_span, "template helper `%s` is not available in eval yet", e->name);
    } else if (e->kids.n < h->min || e->kids.n > h->max) {
        if (h->id == H_COMPARE)
            diag_error(p->diags, p->src, e->span, "`compare` takes a value, an operator string and a value: {{#compare a \"==\" b}}");
        else if (h->min == h->max)
            diag_error(p->diags, p->src, e->span, "template helper `%s` takes %d argument%s", e->name, h->min, h->min == 1 ? "" : "s");
        else
            diag_error(p->diags, p->src, e->span, "template helper `%s` takes %d or %d arguments", e->name, h->min, h->max);
    } else if (h->id == H_COMPARE) {
        const AstNode *op = e->kids.items[1];
        if (op->kind != AST_STR)
            diag_error(p->diags, p->src, op->span, "`compare` takes a value, an operator string and a value: {{#compare a \"==\" b}}");
        else if (compare_op(op->str) == CMP_BAD)
            diag_error(p->diags, p->src, op->span, "unknown comparison `%s` in `compare`", op->str);
    }
    for (int i = 0; i < e->kids.n; i++) {
        const AstNode *a = e->kids.items[i];
        if (a->kind == AST_NAMEDARG) {
            diag_error(p->diags, p->src, a->span, "eval does not take `name=value` arguments yet: pass `%s` by position", a->name);
            pre_expr(p, a->a, binds);
        } else {
            pre_expr(p, a, binds);
        }
    }
}

static void pre_expr(Pre *p, const AstNode *e, int binds) {
    if (!e) return;
    switch (e->kind) {
    case AST_NAME:
        if (e->name_quoted) break;
        if (e->name[0] == '.')
            diag_error(p->diags, p->src, e->span,
                       "parent paths (`../x`) are not supported in templates: name the value from its root, as in `record.x`");
        else if (e->name[0] == '@' && !is_loop_var(e->name))
            diag_error(p->diags, p->src, e->span, "unknown data variable `%s`: use @index, @first, @last or @key", e->name);
        else if (e->name[0] == '@' && !binds)
            diag_error(p->diags, p->src, e->span, "`%s` is only defined inside {{#each}}, {{#with}} or a section", e->name);
        break;
    case AST_FIELD: {
        const AstNode *root = e->a;
        while (root->kind == AST_FIELD) root = root->a;
        if (root->kind == AST_NAME && !root->name_quoted && root->name[0] == '.')   /* underline all of `../x.y` */
            diag_error(p->diags, p->src, e->span,
                       "parent paths (`../x`) are not supported in templates: name the value from its root, as in `record.x`");
        else
            pre_expr(p, root, binds);
        break;
    }
    case AST_CALL: pre_call(p, e, binds); break;
    default: break;
    }
}

/* ---- rendering ---- */

/* A value: borrowed from the data (own NULL), or made here (v == own, freed with val_drop).
 * v NULL is a missing value. */
typedef struct { const cJSON *v; cJSON *own; } Val;

static void val_drop(Val *x) {
    cJSON_Delete(x->own);
    x->v = NULL;
    x->own = NULL;
}

/* The data variables of a context: @index, @first, @last, @key. An iteration sets them; #with and
 * a section over a single value keep those of the context around them (as Handlebars does). */
typedef struct {
    size_t index, count;         /* count 0: no iteration around, the variables are missing */
    const char *key;             /* object member name, or NULL */
} Loop;

typedef struct {
    Diags *diags;
    const Source *src;
    FlowEscape mode;
    FlowBuf out;
    const cJSON **vals;          /* the context stack: the data at 0, the innermost section's value on top */
    Loop *loops;                 /* loops[i] belongs to vals[i] (unused at 0) */
    size_t depth, cap;
    unsigned long steps;
} R;

static int fail(R *r, Span sp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(R *r, Span sp, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(r->diags, r->src, sp, "%s", msg);
    return -1;
}

static int oom(R *r, Span sp) { return fail(r, sp, "out of memory while rendering the template"); }

static int over_budget(R *r, Span sp) {
    return fail(r, sp, "template rendering stopped after %lu steps: sections nested over large lists?", EVAL_MAX_STEPS);
}

static int step(R *r, Span sp) { return ++r->steps <= EVAL_MAX_STEPS ? 0 : over_budget(r, sp); }

static int push(R *r, const cJSON *v, size_t index, size_t count, const char *key) {
    if (r->depth == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        const cJSON **nv = realloc(r->vals, cap * sizeof *nv);
        if (!nv) return -1;
        r->vals = nv;
        Loop *nl = realloc(r->loops, cap * sizeof *nl);
        if (!nl) return -1;
        r->loops = nl;
        r->cap = cap;
    }
    r->vals[r->depth] = v;
    r->loops[r->depth] = (Loop){ index, count, key };
    r->depth++;
    return 0;
}

static const char *type_name(const cJSON *v) {
    if (!v || cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a bool";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "a value";
}

static int make(R *r, Span sp, cJSON *made, Val *out) {
    if (!made) return oom(r, sp);
    out->v = out->own = made;
    return 0;
}

static int too_big(R *r, Span sp) { return fail(r, sp, "template output is larger than %zu MiB", EVAL_MAX_OUTPUT >> 20); }

static int make_text(R *r, Span sp, FlowBuf *b, Val *out) {
    int failed = flow_buf_failed(b);
    if (failed) { flow_buf_free(b); return failed == FLOW_BUF_TOOBIG ? too_big(r, sp) : oom(r, sp); }
    cJSON *s = cJSON_CreateString(flow_buf_cstr(b));
    flow_buf_free(b);
    return make(r, sp, s, out);
}

/* Deep equality (missing equals null); objects regardless of member order. */
static int equal(R *r, const cJSON *a, const cJSON *b, int *eq) {
    if (++r->steps > EVAL_MAX_STEPS) return -1;
    int an = !a || cJSON_IsNull(a), bn = !b || cJSON_IsNull(b);
    if (an || bn) { *eq = an && bn; return 0; }
    if (cJSON_IsBool(a) || cJSON_IsBool(b)) { *eq = cJSON_IsBool(a) && cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b); return 0; }
    if (cJSON_IsNumber(a) || cJSON_IsNumber(b)) { *eq = cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble == b->valuedouble; return 0; }
    if (cJSON_IsString(a) || cJSON_IsString(b)) {
        *eq = cJSON_IsString(a) && cJSON_IsString(b) && strcmp(a->valuestring ? a->valuestring : "", b->valuestring ? b->valuestring : "") == 0;
        return 0;
    }
    *eq = 0;
    if (cJSON_IsArray(a) != cJSON_IsArray(b) || cJSON_IsObject(a) != cJSON_IsObject(b)) return 0;
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
    if (cJSON_IsArray(a)) {
        for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next) {
            if (equal(r, x, y, eq)) return -1;
            if (!*eq) return 0;
        }
        *eq = 1;
        return 0;
    }
    for (const cJSON *x = a->child; x; x = x->next) {
        const cJSON *y = x->string ? flow_tpl_member(b, x->string, strlen(x->string)) : NULL;
        if (!y) return 0;
        if (equal(r, x, y, eq)) return -1;
        if (!*eq) return 0;
    }
    *eq = 1;
    return 0;
}

static int eval(R *r, const AstNode *e, Val *out);

/* A path: a name (through the context stack), `this`, a loop variable, then `.field` steps. */
static int path_value(R *r, const AstNode *e, Val *out) {
    const AstNode *chain[AST_MAX_DEPTH + 1];
    int n = 0;
    const AstNode *root = e;
    while (root->kind == AST_FIELD && n < AST_MAX_DEPTH) { chain[n++] = root; root = root->a; }
    Val base = { NULL, NULL };
    if (root->kind != AST_NAME) {
        if (eval(r, root, &base)) return -1;
    } else if (!root->name_quoted && strcmp(root->name, "this") == 0) {
        base.v = r->vals[r->depth - 1];
    } else if (!root->name_quoted && root->name[0] == '@') {
        const Loop *l = &r->loops[r->depth - 1];
        if (l->count) {
            cJSON *made;
            if (strcmp(root->name, "@index") == 0) made = cJSON_CreateNumber((double)l->index);
            else if (strcmp(root->name, "@first") == 0) made = cJSON_CreateBool(l->index == 0);
            else if (strcmp(root->name, "@last") == 0) made = cJSON_CreateBool(l->index + 1 == l->count);
            else made = l->key ? cJSON_CreateString(l->key) : cJSON_CreateNull();
            if (make(r, root->span, made, &base)) return -1;
        }
    } else {
        const char *parts[1] = { root->name };
        base.v = flow_tpl_resolve(r->vals, r->depth, parts, 1);
    }
    const cJSON *v = base.v;
    for (int i = n - 1; i >= 0 && v; i--) v = flow_tpl_member(v, chain[i]->name, strlen(chain[i]->name));
    if (base.own && v != base.own) {
        /* a step into a value made here: keep just that part */
        cJSON *part = v ? cJSON_Duplicate(v, 1) : NULL;
        val_drop(&base);
        if (v && !part) return oom(r, e->span);
        out->v = out->own = part;
        return 0;
    }
    out->v = v;
    out->own = base.own;
    return 0;
}

/* The text of a value (no escaping) appended to b. */
static void put_text(FlowBuf *b, const cJSON *v) { flow_tpl_put_value(b, FLOW_ESC_NONE, v); }

static int num_arg(R *r, const AstNode *call, const Val *a, const Val *b, double *x, double *y) {
    if (cJSON_IsNumber(a->v) && (!b || cJSON_IsNumber(b->v))) {
        *x = a->v->valuedouble;
        if (b) *y = b->v->valuedouble;
        return 0;
    }
    if (b) return fail(r, call->span, "`%s` needs numbers, but got %s and %s", call->name, type_name(a->v), type_name(b->v));
    return fail(r, call->span, "`%s` needs a number, but got %s", call->name, type_name(a->v));
}

static int case_map(R *r, const AstNode *call, const cJSON *v, int upper, Val *out) {
    FlowBuf b;
    flow_buf_init(&b, EVAL_MAX_OUTPUT);
    put_text(&b, v);
    for (size_t i = 0; i < b.len; i++) {
        char c = b.data[i];
        if (upper && c >= 'a' && c <= 'z') b.data[i] = (char)(c - 'a' + 'A');
        if (!upper && c >= 'A' && c <= 'Z') b.data[i] = (char)(c - 'A' + 'a');
    }
    return make_text(r, call->span, &b, out);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int trim_text(R *r, const AstNode *call, const cJSON *v, Val *out) {
    FlowBuf b, t;
    flow_buf_init(&b, EVAL_MAX_OUTPUT);
    put_text(&b, v);
    const char *s = flow_buf_cstr(&b);
    size_t i = 0, j = b.len;
    while (i < j && is_space(s[i])) i++;
    while (j > i && is_space(s[j - 1])) j--;
    flow_buf_init(&t, 0);
    flow_buf_put(&t, s + i, j - i);
    if (flow_buf_failed(&b)) t.failed = flow_buf_failed(&b);
    flow_buf_free(&b);
    return make_text(r, call->span, &t, out);
}

static int join_list(R *r, const AstNode *call, const Val *list, const Val *sep, Val *out) {
    if (!list->v || cJSON_IsNull(list->v)) return make(r, call->span, cJSON_CreateString(""), out);
    if (!cJSON_IsArray(list->v)) return fail(r, call->span, "`join` needs a list, but got %s", type_name(list->v));
    FlowBuf s, b;
    flow_buf_init(&s, 0);
    if (sep) put_text(&s, sep->v);
    else flow_buf_putc(&s, ',');
    flow_buf_init(&b, EVAL_MAX_OUTPUT);
    for (const cJSON *c = list->v->child; c; c = c->next) {
        if (step(r, call->span)) { flow_buf_free(&s); flow_buf_free(&b); return -1; }
        if (c != list->v->child) flow_buf_put(&b, flow_buf_cstr(&s), s.len);
        put_text(&b, c);
    }
    if (flow_buf_failed(&s)) b.failed = flow_buf_failed(&s);
    flow_buf_free(&s);
    return make_text(r, call->span, &b, out);
}

static int compare(R *r, const AstNode *call, const Val *a, CmpOp op, const Val *b, Val *out) {
    int res;
    if (op == CMP_EQ || op == CMP_NE) {
        if (equal(r, a->v, b->v, &res)) return over_budget(r, call->span);
        if (op == CMP_NE) res = !res;
    } else {
        int c;
        if (cJSON_IsNumber(a->v) && cJSON_IsNumber(b->v))
            c = a->v->valuedouble < b->v->valuedouble ? -1 : a->v->valuedouble > b->v->valuedouble ? 1 : 0;
        else if (cJSON_IsString(a->v) && cJSON_IsString(b->v))
            c = strcmp(a->v->valuestring ? a->v->valuestring : "", b->v->valuestring ? b->v->valuestring : "");
        else
            return fail(r, call->span, "cannot compare %s with %s using `%s`", type_name(a->v), type_name(b->v),
                        call->kids.items[1]->str);
        if (cJSON_IsNumber(a->v) && (isnan(a->v->valuedouble) || isnan(b->v->valuedouble))) c = 2;   /* unordered */
        res = op == CMP_LT ? c == -1 : op == CMP_LE ? (c == -1 || c == 0) : op == CMP_GT ? c == 1 : (c == 1 || c == 0);
    }
    return make(r, call->span, cJSON_CreateBool(res), out);
}

static int helper(R *r, const AstNode *e, Val *out) {
    const HelperDef *h = helper_def(e->name);
    if (!h || h->id == H_LATER || e->kids.n < h->min || e->kids.n > h->max)   /* ruled out before rendering */
        return fail(r, e->span, "cannot render helper `%s`", e->name);
    /* and / or evaluate their second argument only when needed */
    if (h->id == H_AND || h->id == H_OR) {
        Val a = { NULL, NULL };
        if (eval(r, e->kids.items[0], &a)) return -1;
        int t = flow_tpl_truthy(a.v, FLOW_TRUTH_IF);
        val_drop(&a);
        if (t == (h->id == H_AND)) {
            if (eval(r, e->kids.items[1], &a)) return -1;
            t = flow_tpl_truthy(a.v, FLOW_TRUTH_IF);
            val_drop(&a);
        }
        return make(r, e->span, cJSON_CreateBool(t), out);
    }
    Val a[3] = { { NULL, NULL }, { NULL, NULL }, { NULL, NULL } };
    int n = e->kids.n, rc = 0;
    for (int i = 0; i < n && !rc; i++) rc = eval(r, e->kids.items[i], &a[i]);
    double x = 0, y = 0;
    switch (rc ? H_LATER : h->id) {
    case H_LOWER: rc = case_map(r, e, a[0].v, 0, out); break;
    case H_UPPER: rc = case_map(r, e, a[0].v, 1, out); break;
    case H_TRIM: rc = trim_text(r, e, a[0].v, out); break;
    case H_TOSTRING: {
        FlowBuf b;
        flow_buf_init(&b, EVAL_MAX_OUTPUT);
        put_text(&b, a[0].v);
        rc = make_text(r, e->span, &b, out);
        break;
    }
    case H_JSON: {
        FlowBuf b;
        flow_buf_init(&b, EVAL_MAX_OUTPUT);
        flow_tpl_put_json(&b, FLOW_ESC_NONE, a[0].v);
        rc = make_text(r, e->span, &b, out);
        break;
    }
    case H_ADD:
        if (cJSON_IsString(a[0].v) && cJSON_IsString(a[1].v)) {
            FlowBuf b;
            flow_buf_init(&b, EVAL_MAX_OUTPUT);
            put_text(&b, a[0].v);
            put_text(&b, a[1].v);
            rc = make_text(r, e->span, &b, out);
        } else if (cJSON_IsNumber(a[0].v) && cJSON_IsNumber(a[1].v)) {
            rc = make(r, e->span, cJSON_CreateNumber(a[0].v->valuedouble + a[1].v->valuedouble), out);
        } else {
            rc = fail(r, e->span, "cannot add %s and %s: `add` takes two numbers or two strings", type_name(a[0].v), type_name(a[1].v));
        }
        break;
    case H_SUB: case H_MUL: case H_DIV:
        if ((rc = num_arg(r, e, &a[0], &a[1], &x, &y))) break;
        if (h->id == H_DIV && y == 0) { rc = fail(r, e->span, "`%s` by zero", e->name); break; }
        rc = make(r, e->span, cJSON_CreateNumber(h->id == H_SUB ? x - y : h->id == H_MUL ? x * y : x / y), out);
        break;
    case H_FLOOR: case H_CEIL: case H_ABS:
        if ((rc = num_arg(r, e, &a[0], NULL, &x, NULL))) break;
        rc = make(r, e->span, cJSON_CreateNumber(h->id == H_FLOOR ? floor(x) : h->id == H_CEIL ? ceil(x) : fabs(x)), out);
        break;
    case H_DEFAULT: {
        int first = a[0].v && !cJSON_IsNull(a[0].v);
        *out = a[first ? 0 : 1];
        a[first ? 0 : 1] = (Val){ NULL, NULL };          /* handed over */
        break;
    }
    case H_JOIN: rc = join_list(r, e, &a[0], n > 1 ? &a[1] : NULL, out); break;
    case H_EQ: rc = compare(r, e, &a[0], CMP_EQ, &a[1], out); break;
    case H_NOT: rc = make(r, e->span, cJSON_CreateBool(!flow_tpl_truthy(a[0].v, FLOW_TRUTH_IF)), out); break;
    case H_COMPARE: rc = compare(r, e, &a[0], compare_op(e->kids.items[1]->str), &a[2], out); break;
    default: break;                                   /* an argument failed */
    }
    for (int i = 0; i < 3; i++) val_drop(&a[i]);
    return rc;
}

static int eval(R *r, const AstNode *e, Val *out) {
    out->v = out->own = NULL;
    switch (e->kind) {
    case AST_STR: return make(r, e->span, cJSON_CreateString(e->str ? e->str : ""), out);
    case AST_INT: return make(r, e->span, cJSON_CreateNumber((double)e->ival), out);
    case AST_NUM: return make(r, e->span, cJSON_CreateNumber(e->num), out);
    case AST_BOOL: return make(r, e->span, cJSON_CreateBool((int)e->ival), out);
    case AST_NULL: return make(r, e->span, cJSON_CreateNull(), out);
    case AST_NAME: case AST_FIELD: return path_value(r, e, out);
    case AST_CALL: return helper(r, e, out);
    default: return fail(r, e->span, "cannot render this template expression");
    }
}

static int render(R *r, const AstNode *t);

/* Renders body with v pushed (index of count, @key key; count 0: the data variables around). */
static int render_in(R *r, const AstNode *body, const cJSON *v, size_t index, size_t count, const char *key, Span sp) {
    if (step(r, sp)) return -1;
    Loop l = count ? (Loop){ index, count, key } : r->loops[r->depth - 1];
    if (push(r, v, l.index, l.count, l.key)) return oom(r, sp);
    int rc = render(r, body);
    r->depth--;
    return rc;
}

/* Each element (or member) of a non-empty array or object, pushed in turn. */
static int iterate(R *r, const AstNode *body, const cJSON *v, Span sp) {
    size_t count = (size_t)cJSON_GetArraySize(v), i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++)
        if (render_in(r, body, c, i, count, cJSON_IsObject(v) ? c->string : NULL, sp)) return -1;
    return 0;
}

static int section(R *r, const AstNode *s) {
    Val x;
    if (eval(r, s->a, &x)) return -1;
    const cJSON *v = x.v;
    int rc = 0;
    const AstNode *other = s->c;                         /* {{else}} / {{^}} part, or NULL */
    const char *k = s->name;
    if (strcmp(k, "if") == 0 || strcmp(k, "unless") == 0) {
        int t = flow_tpl_truthy(v, FLOW_TRUTH_IF) == (k[0] == 'i');
        rc = render(r, t ? s->b : other);
    } else if (strcmp(k, "inverted") == 0) {
        rc = render(r, flow_tpl_truthy(v, FLOW_TRUTH_SECTION) ? other : s->b);
    } else if (strcmp(k, "with") == 0) {
        if (flow_tpl_truthy(v, FLOW_TRUTH_WITH)) rc = render_in(r, s->b, v, 0, 0, NULL, s->span);
        else rc = render(r, other);
    } else if (strcmp(k, "each") == 0) {
        if ((cJSON_IsArray(v) || cJSON_IsObject(v)) && v->child) rc = iterate(r, s->b, v, s->span);
        else rc = render(r, other);
    } else {                                             /* section: Mustache */
        if (cJSON_IsArray(v)) rc = v->child ? iterate(r, s->b, v, s->span) : render(r, other);
        else if (flow_tpl_truthy(v, FLOW_TRUTH_SECTION)) rc = render_in(r, s->b, v, 0, 0, NULL, s->span);
        else rc = render(r, other);
    }
    val_drop(&x);
    return rc;
}

static int render(R *r, const AstNode *t) {
    if (!t) return 0;
    for (int i = 0; i < t->kids.n; i++) {
        const AstNode *p = t->kids.items[i];
        if (step(r, p->span)) return -1;
        switch (p->kind) {
        case AST_TPL_TEXT:
            flow_buf_put(&r->out, p->str, p->slen);
            break;
        case AST_TPL_VALUE: {
            Val x;
            if (eval(r, p->a, &x)) return -1;
            flow_tpl_put_value(&r->out, p->op ? FLOW_ESC_NONE : r->mode, x.v);
            val_drop(&x);
            break;
        }
        case AST_TPL_SECTION:
            if (section(r, p)) return -1;
            break;
        default:
            break;
        }
        if (flow_buf_failed(&r->out)) return flow_buf_failed(&r->out) == FLOW_BUF_TOOBIG ? too_big(r, p->span) : oom(r, p->span);
    }
    return 0;
}

/* Renders t against data and writes the text to out; 0, or 1 after an error (in d or on err). */
static int render_all(const AstNode *t, const cJSON *data, FlowEscape mode, Diags *d, const Source *src, FILE *out, FILE *err) {
    R r;
    memset(&r, 0, sizeof r);
    r.diags = d;
    r.src = src;
    r.mode = mode;
    flow_buf_init(&r.out, EVAL_MAX_OUTPUT);
    int rc = 1;
    if (push(&r, data, 0, 0, NULL)) {
        oom(&r, t->span);
    } else if (render(&r, t) == 0) {
        if (r.out.len) fwrite(r.out.data, 1, r.out.len, out);
        rc = fflush(out) == 0 && !ferror(out) ? 0 : 1;
        if (rc) fputs("flowc: cannot write the rendered template\n", err);
    }
    flow_buf_free(&r.out);
    free(r.vals);
    free(r.loops);
    return rc;
}

int eval_template(const char *text, const char *data_file, const char *escape, FILE *out, FILE *err) {
    FlowEscape mode = FLOW_ESC_NONE;
    if (escape && flow_tpl_escape_mode(escape, &mode)) {
        fprintf(err, "flowc: --escape takes none, html or json, not `%s`\n", escape);
        return 1;
    }
    Source *src = src_from_buffer("<template>", text ? text : "", text ? strlen(text) : 0);
    Arena *ar = arena_new();
    Diags d;
    diag_init(&d);
    AstNode *t = tpl_parse_text(ar, &d, src, src->text, src->len, 0);
    if (!d.errors) {
        Pre p = { &d, src };
        pre_tmpl(&p, t, 0);
    }
    int rc = 1;
    if (!d.errors) {
        cJSON *data = eval_load_data(data_file, err);
        if (data) rc = render_all(t, data, mode, &d, src, out, err);
        cJSON_Delete(data);
    }
    diag_sort(&d);
    diag_print_text(&d, err, 0);
    diag_free(&d);
    arena_free(ar);
    src_free(src);
    return rc;
}
