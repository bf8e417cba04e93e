/* eval_expr.c — `flowc eval EXPR`: parses and type-checks one expression with `record` bound to the
 * JSON data, then evaluates the typed IR by calling the very runtime functions generated code calls
 * (runtime/ops.c, stdlib/), so eval and a built flow agree on every operator and built-in. */
#include "builtins.h"
#include "check.h"
#include "eval.h"
#include "flow.h"
#include "lower.h"
#include "parse.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The FN built-ins by arity, from the same table the checker reads. */
typedef FlowVal (*Fn0)(FlowCtx *);
typedef FlowVal (*Fn1)(FlowCtx *, FlowVal);
typedef FlowVal (*Fn2)(FlowCtx *, FlowVal, FlowVal);
typedef FlowVal (*Fn3)(FlowCtx *, FlowVal, FlowVal, FlowVal);
typedef FlowVal (*FnV)(FlowCtx *, int, const FlowVal *);
typedef struct { const char *name; void (*fn)(void); } FnEntry;

#define B(name, kind, params, result, csym) B_##kind(name, csym)
#define B_FN(name, csym) { #name, (void (*)(void))csym },
#define B_CTOR(name, csym)
static const FnEntry fns[] = {
#include "builtins.def"
};
#undef B
#undef B_FN
#undef B_CTOR

typedef struct Ev {
    FlowCtx *cx;
    const cJSON *data;
    const cJSON *names;        /* flowc test: what step names and errors/ignored/exported stand for */
    struct { const IrVar *var; FlowVal val; } vars[64];
    int nvars;
} Ev;

static FlowVal ev(Ev *v, const IrExpr *x);

static FlowKind kind_of(const Type *t) {
    if (!t) return FLOW_JSON;
    switch (t->kind) {
    case TY_STRING: return FLOW_STRING;
    case TY_INT: case TY_SIZE: return FLOW_INT;
    case TY_NUMBER: return FLOW_NUMBER;
    case TY_BOOL: return FLOW_BOOL;
    case TY_DATETIME: return FLOW_DATETIME;
    case TY_DURATION: return FLOW_DURATION;
    default: return FLOW_JSON;
    }
}

static char *path_text(const IrExpr *x, char *buf, size_t cap) {
    if (x->kind == IR_FIELD) {
        path_text(x->a, buf, cap);
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, ".%s", x->name);
    } else snprintf(buf, cap, "%s", x->kind == IR_RECORD ? "record" : x->kind == IR_VAR ? x->var->name : "value");
    return buf;
}

static FlowVal call(Ev *v, const IrExpr *x) {
    const Builtin *b = x->fn;
    if (strcmp(b->name, "has") == 0) return flow_bool(!flow_is_null(ev(v, x->kids[0])));
    FlowVal args[16];
    int n = x->nkids < 16 ? x->nkids : 16;
    for (int i = 0; i < n; i++) args[i] = x->kids[i] ? ev(v, x->kids[i]) : flow_null();
    void (*fn)(void) = NULL;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) if (strcmp(fns[i].name, b->name) == 0) fn = fns[i].fn;
    if (!fn) return flow_fail(v->cx, FLOW_ERR_VALUE, "`%s` is not available in eval", b->name);
    FlowVal r;
    if (b->nparams && b->params[b->nparams - 1].variadic) r = ((FnV)fn)(v->cx, n, args);
    else if (b->nparams == 0) r = ((Fn0)fn)(v->cx);
    else if (b->nparams == 1) r = ((Fn1)fn)(v->cx, args[0]);
    else if (b->nparams == 2) r = ((Fn2)fn)(v->cx, args[0], args[1]);
    else r = ((Fn3)fn)(v->cx, args[0], args[1], args[2]);
    if (strcmp(b->result, "elem1?") == 0 && kind_of(x->type) != FLOW_JSON) r = flow_convert(v->cx, r, kind_of(x->type), b->name);
    return r;
}

static FlowVal ev_template(Ev *v, const IrExpr *t, FlowText *out);

static void tpl_part(Ev *v, const IrExpr *p, FlowText *out) {
    if (p->kind == IR_STR) { flow_text_put(v->cx, out, p->str, p->slen); return; }
    if (p->kind == IR_TPL_VALUE) { flow_text_val(v->cx, out, ev(v, p->a)); return; }
    if (p->kind != IR_TPL_SECTION) { flow_text_val(v->cx, out, ev(v, p)); return; }
    FlowVal s = ev(v, p->a);
    int neg = strcmp(p->name, "unless") == 0 || strcmp(p->name, "inverted") == 0;
    if (strcmp(p->name, "if") == 0 || neg) {
        if (flow_tpl_true(s) != neg) { if (p->b) ev_template(v, p->b, out); }
        else if (p->c) ev_template(v, p->c, out);
        return;
    }
    int list = s.kind == FLOW_JSON && cJSON_IsArray(s.j);
    if (!flow_tpl_true(s) || (list && !cJSON_GetArraySize(s.j))) { if (p->c) ev_template(v, p->c, out); return; }
    if (v->nvars >= 64) { flow_fail(v->cx, FLOW_ERR_VALUE, "template sections nested too deeply"); return; }
    int slot = v->nvars++;
    v->vars[slot].var = p->var;
    if (list && strcmp(p->name, "with") != 0) {
        for (const cJSON *it = s.j->child; it; it = it->next) {
            v->vars[slot].val = flow_json(it);
            if (p->b) ev_template(v, p->b, out);
        }
    } else {
        v->vars[slot].val = s;
        if (p->b) ev_template(v, p->b, out);
    }
    v->nvars--;
}

static FlowVal ev_template(Ev *v, const IrExpr *t, FlowText *out) {
    for (int i = 0; i < t->nkids; i++) tpl_part(v, t->kids[i], out);
    return flow_null();
}

static FlowVal ev(Ev *v, const IrExpr *x) {
    char path[256];
    if (!x) return flow_null();
    switch (x->kind) {
    case IR_NULL: return flow_null();
    case IR_BOOL: return flow_bool((int)x->ival);
    case IR_INT: case IR_SIZE: return flow_int(x->ival);
    case IR_NUM: return flow_number(x->num);
    case IR_DURATION: return flow_duration(x->ival);
    case IR_STR: return flow_string(x->str, x->slen);
    case IR_TEMPLATE: {
        FlowText t = { 0 };
        ev_template(v, x, &t);
        return flow_text_done(&t);
    }
    case IR_RECORD: return flow_json(v->data);
    case IR_ENV: return flow_fn_env(v->cx, flow_string(x->name, strlen(x->name)));
    case IR_CONTEXT: return flow_context(v->cx, (FlowContextId)x->op);
    case IR_VAR:
        for (int i = v->nvars - 1; i >= 0; i--) if (v->vars[i].var == x->var) return v->vars[i].val;
        return flow_null();
    case IR_WORD:
        if (v->names) return flow_json(cJSON_GetObjectItemCaseSensitive(v->names, x->name));
        return flow_null();
    case IR_FIELD: {
        FlowVal base = ev(v, x->a);
        /* in a test, `deals.count` counts what the import `deals` wrote */
        if (v->names && strcmp(x->name, "count") == 0 && base.kind == FLOW_JSON && cJSON_IsArray(base.j))
            return flow_int(cJSON_GetArraySize(base.j));
        return flow_field(v->cx, base, x->name, kind_of(x->type), path_text(x, path, sizeof path));
    }
    case IR_INDEX: return flow_index(v->cx, ev(v, x->a), ev(v, x->b), kind_of(x->type), path_text(x->a, path, sizeof path));
    case IR_CALL: return call(v, x);
    case IR_UNARY:
        if (x->op == OP_NOT) return flow_bool(!flow_truth(v->cx, ev(v, x->a), "the operand of `not`"));
        return flow_op_neg(v->cx, ev(v, x->a));
    case IR_BINARY: {
        if (x->op == OP_AND) return flow_bool(flow_truth(v->cx, ev(v, x->a), "`and`") && flow_truth(v->cx, ev(v, x->b), "`and`"));
        if (x->op == OP_OR) return flow_bool(flow_truth(v->cx, ev(v, x->a), "`or`") || flow_truth(v->cx, ev(v, x->b), "`or`"));
        if (x->op == OP_COALESCE) { FlowVal a = ev(v, x->a); return flow_is_null(a) ? ev(v, x->b) : a; }
        FlowVal a = ev(v, x->a), b = ev(v, x->b);
        switch (x->op) {
        case OP_EQ: return flow_op_cmp(v->cx, FLOW_CMP_EQ, a, b);
        case OP_NE: return flow_op_cmp(v->cx, FLOW_CMP_NE, a, b);
        case OP_LT: return flow_op_cmp(v->cx, FLOW_CMP_LT, a, b);
        case OP_LE: return flow_op_cmp(v->cx, FLOW_CMP_LE, a, b);
        case OP_GT: return flow_op_cmp(v->cx, FLOW_CMP_GT, a, b);
        case OP_GE: return flow_op_cmp(v->cx, FLOW_CMP_GE, a, b);
        case OP_IN: return flow_op_in(v->cx, a, b);
        case OP_ADD: return flow_op_arith(v->cx, FLOW_OP_ADD, a, b);
        case OP_SUB: return flow_op_arith(v->cx, FLOW_OP_SUB, a, b);
        case OP_MUL: return flow_op_arith(v->cx, FLOW_OP_MUL, a, b);
        case OP_DIV: return flow_op_arith(v->cx, FLOW_OP_DIV, a, b);
        default: return flow_op_arith(v->cx, FLOW_OP_MOD, a, b);
        }
    }
    case IR_IF: return flow_truth(v->cx, ev(v, x->a), "the condition of `if`") ? ev(v, x->b) : ev(v, x->c);
    case IR_EACH: {
        FlowVal list = ev(v, x->a);
        cJSON *arr = cJSON_CreateArray();
        if (list.kind == FLOW_JSON && cJSON_IsArray(list.j) && v->nvars < 64) {
            int slot = v->nvars++;
            v->vars[slot].var = x->var;
            for (const cJSON *it = list.j->child; it; it = it->next) {
                v->vars[slot].val = flow_val_from_json(v->cx, it, kind_of(x->var->type), x->var->name);
                if (x->b && !flow_truth(v->cx, ev(v, x->b), "the `where` condition")) continue;
                if (x->map) {
                    cJSON *o = cJSON_CreateObject();
                    for (int i = 0; i < x->map->n; i++) {
                        const IrMapEntry *en = &x->map->entries[i];
                        if (en->when && !flow_truth(v->cx, ev(v, en->when), "`when`")) continue;
                        if (en->nested) { flow_fail(v->cx, FLOW_ERR_VALUE, "nested objects inside `each` are not available in eval"); continue; }
                        FlowVal val = ev(v, en->value);
                        if (en->override) val = flow_convert(v->cx, val, kind_of(en->override), en->name);
                        flow_obj_put(o, en->name, val);
                    }
                    cJSON_AddItemToArray(arr, o);
                } else cJSON_AddItemToArray(arr, flow_val_to_json(ev(v, x->c)));
            }
            v->nvars--;
        }
        return flow_json(flow_scratch_keep(v->cx, arr));
    }
    case IR_OBJECT: {
        cJSON *o = cJSON_CreateObject();
        for (int i = 0; i < x->nkids; i++) flow_obj_put(o, x->keys[i], ev(v, x->kids[i]));
        return flow_json(flow_scratch_keep(v->cx, o));
    }
    case IR_ARRAY: {
        cJSON *a = cJSON_CreateArray();
        for (int i = 0; i < x->nkids; i++) cJSON_AddItemToArray(a, flow_val_to_json(ev(v, x->kids[i])));
        return flow_json(flow_scratch_keep(v->cx, a));
    }
    default:
        return flow_fail(v->cx, FLOW_ERR_VALUE, "this expression cannot be evaluated by `flowc eval`");
    }
}

FlowVal eval_ir(FlowCtx *cx, const IrExpr *x, const cJSON *record, const cJSON *names) {
    Ev v;
    memset(&v, 0, sizeof v);
    v.cx = cx;
    v.data = record;
    v.names = names;
    return ev(&v, x);
}

int eval_expr(const char *text, const char *data_file, FILE *out, FILE *err) {
    Source *src = src_from_buffer("<expression>", text, strlen(text));
    Arena *ar = arena_new();
    Diags d;
    diag_init(&d);
    int rc = 1;
    AstNode *ast = parse_expression(ar, &d, src);
    IrExpr *ir = ast && !d.errors ? lower_eval_expr(ar, &d, src, ast) : NULL;
    if (ir && !d.errors) chk_eval_expr(ar, &d, src, ir);
    if (d.errors || !ir) {
        diag_sort(&d);
        diag_print_text(&d, err, 0);
    } else {
        cJSON *data = eval_load_data(data_file, err);
        if (data) {
            FlowCtx *cx = flow_ctx_new();
            Ev v;
            memset(&v, 0, sizeof v);
            v.cx = cx;
            v.data = data;
            FlowVal r = ev(&v, ir);
            if (flow_failed(cx)) {
                fprintf(err, "flowc: %s error: %s\n", flow_error_class_names[flow_error_class(cx)], flow_error_message(cx));
            } else {
                cJSON *j = flow_val_to_json(r);
                char *s = flow_json_print(j);
                fprintf(out, "%s\n", s ? s : "null");
                cJSON_free(s);
                cJSON_Delete(j);
                rc = 0;
            }
            flow_ctx_free(cx);
            cJSON_Delete(data);
        }
    }
    diag_free(&d);
    arena_free(ar);
    src_free(src);
    return rc;
}
