/* emit_c.c — typed IR -> C. Every expression becomes straight-line C over FlowVal (runtime/flow.h);
 * every filter, transform, branch condition, mapping and per-record setting becomes a pure function of
 * (cx, rec); each flow becomes a static table of steps the runtime engine walks. #line directives
 * point back at the .flow file, so a C compiler's message names the flow source. */
#include "emit_c.h"
#include "builtins.h"
#include "build.h"
#include "check.h"
#include "hooks.h"
#include "engine.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable text buffer ---- */

typedef struct Buf { char *p; size_t n, cap; } Buf;

static void bput(Buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2 + 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void bputs(Buf *b, const char *s) { bput(b, s, strlen(s)); }
static void bputc(Buf *b, char c) { bput(b, &c, 1); }
static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...) {
    char small[512];
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof small) { bput(b, small, (size_t)n); va_end(ap2); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) abort();
    vsnprintf(big, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    bput(b, big, (size_t)n);
    free(big);
}

/* A C string literal for arbitrary bytes: escapes everything unusual, and `?` (trigraphs). */
static void bstr(Buf *b, const char *s, size_t n) {
    bputs(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': bputs(b, "\\\""); break;
        case '\\': bputs(b, "\\\\"); break;
        case '\n': bputs(b, "\\n"); break;
        case '\t': bputs(b, "\\t"); break;
        case '\r': bputs(b, "\\r"); break;
        case '?': bputs(b, "\\?"); break;
        default:
            if (c < 0x20 || c >= 0x7f) bprintf(b, "\\%03o", c);
            else bput(b, (const char *)&c, 1);
        }
    }
    bputs(b, "\"");
}

/* Iterations of template sections in one rendering before it is stopped with an error (nested
 * sections over large lists multiply; flow_tpl_step). Defined in every emitted file. */
#define TPL_MAX_STEPS_DEF "#define TPL_MAX_STEPS 5000000\n\n"

/* ---- state ---- */

enum { TPL_TEXT, TPL_JSON, TPL_URL, TPL_HTML };

typedef struct VarName { const IrVar *var; int id; } VarName;

typedef struct E {
    Diags *d;
    const Source *src;
    const IrProgram *p;
    Buf out;             /* finished functions and tables */
    Buf *body;           /* the function being written */
    int tmp, fn, errors;
    VarName *vars; int nvars, capvars;
    int loop_idx[64]; int loop_it[64]; int nloops;   /* template #each index (and iterator, or -1) variables, innermost last */
    int in_map;          /* the function has `updating` */
    const IrFlow *flow;
    int flow_index;
    const EmitParam *params; int nparams;
    int tpl_esc;         /* how a template's {{values}} are escaped here: TPL_TEXT, TPL_JSON (a `body`),
                            TPL_URL (an http `path`: a `urlpath` setting or constructor argument), TPL_HTML
                            (flowc eval --escape html) */
    int test_names;      /* a test's given or expect: bare words are the names of what the run produced */
    int tpl_steps[64]; int ntpl;                     /* the iteration counter of each template being written, innermost last */
    int map_existing;    /* the map being written reads `existing` or `when creating/updating` */
    int *secret_param;   /* per param: it feeds a secret setting (emit_secret_params) */
    int mask;            /* inside a secret setting: string literals are stored masked */
    char map_path[256];  /* the map entry being written (`customer.name`, `lines[].sku`): its errors name it */
    /* typed variants (flow.h, typed records): a filter or map written a second time over
     * `const FlowTSlot *rec`, for the steps that see the record as its export declared it */
    const Type *typed_root;   /* the flow's export's declared record type while its steps see it, else NULL */
    int typed;                /* writing a typed variant now */
    int typed_fail;           /* ...and it met something only the generic variant can do */
    struct { const IrVar *var; const Type *type; } tvars[32]; int ntvars;   /* `each` variables over typed arrays */
} E;

#define ERR(sp, ...) do { diag_error(e->d, e->src, sp, __VA_ARGS__); e->errors++; } while (0)

static int line_of(E *e, Span sp) { int l, c; src_line_col(e->src, sp.start, &l, &c); return l; }

static void line_directive(E *e, Buf *b, Span sp) {
    bprintf(b, "#line %d ", line_of(e, sp));
    bstr(b, e->src->name, strlen(e->src->name));
    bputs(b, "\n");
}

static FlowKind kind_enum(const Type *t) {
    if (!t) return FLOW_JSON;
    switch (t->kind) {
    case TY_STRING: return FLOW_STRING;
    case TY_INT: return FLOW_INT;
    case TY_NUMBER: return FLOW_NUMBER;
    case TY_BOOL: return FLOW_BOOL;
    case TY_DATETIME: return FLOW_DATETIME;
    case TY_DURATION: return FLOW_DURATION;
    case TY_SIZE: return FLOW_INT;
    case TY_NULL: return FLOW_NULL;
    default: return FLOW_JSON;
    }
}
static const char *kind_of(const Type *t) {   /* its FlowKind as C */
    static const char *const names[] = {
#define X(k, str) "FLOW_" #k,
        FLOW_VAL_KINDS(X)
#undef X
    };
    return names[kind_enum(t)];
}

static int var_id(E *e, const IrVar *v) {
    for (int i = 0; i < e->nvars; i++) if (e->vars[i].var == v) return e->vars[i].id;
    if (e->nvars == e->capvars) {
        e->capvars = e->capvars ? e->capvars * 2 : 32;
        e->vars = realloc(e->vars, sizeof(VarName) * (size_t)e->capvars);
        if (!e->vars) abort();
    }
    e->vars[e->nvars] = (VarName){ v, e->tmp++ };
    return e->vars[e->nvars++].id;
}

/* The source text of a span, for messages the runtime prints ("record.total"). */
static void bsrc(E *e, Buf *b, Span sp) {
    size_t n = sp.end - sp.start;
    if (n > 80) n = 80;
    bstr(b, e->src->text + sp.start, n);
}

/* ---- secrets ----
 * A param that feeds a setting marked SECRET in connectors.def (auth, dsn) is a secret wherever it
 * appears: its table entry says so (describe masks it, the engine redacts it), and every setting that
 * mentions it (or env()) is secret too. Text baked into the program for a secret (the param's -P
 * value or default, string literals inside a secret setting) is stored masked: XORed with random
 * bytes drawn per build and stored beside it, so it does not show in `strings`; flow_unmask
 * (runtime) restores it. Masking hides, it does not encrypt: the binary is written 0700. */

/* ir_any_expr, by its short name here */
static int any_expr(const IrExpr *x, int (*fn)(const IrExpr *, void *), void *ud) { return ir_any_expr(x, fn, ud); }

/* Calls fn on every expression inside a `secret` argument of a constructor in x (hmac's secret,
 * token's value, basic's password: builtins.def types them `secret`); stops when fn returns 1. */
typedef struct { int (*fn)(const IrExpr *, void *); void *ud; } SecretArgs;
static int in_secret_arg(const IrExpr *x, void *ud) {
    const SecretArgs *sa = ud;
    if (x->kind != IR_CALL || !x->fn || !x->fn->ctor) return 0;
    for (int i = 0; i < x->fn->nparams && i < x->nkids; i++)
        if (x->kids[i] && strcmp(x->fn->params[i].type, "secret") == 0 && any_expr(x->kids[i], sa->fn, sa->ud)) return 1;
    return 0;
}
static int any_secret_arg(const IrExpr *x, int (*fn)(const IrExpr *, void *), void *ud) {
    SecretArgs sa = { fn, ud };
    return any_expr(x, in_secret_arg, &sa);
}
static int is_any(const IrExpr *x, void *ud) { (void)x; (void)ud; return 1; }

typedef struct { const IrProgram *p; int *secret; } ParamMarks;
static int mark_param(const IrExpr *x, void *ud) {
    ParamMarks *m = ud;
    if (x->kind == IR_PARAM)
        for (int i = 0; i < m->p->nparams; i++) if (m->p->params[i] == x->param) m->secret[i] = 1;
    return 0;
}

/* params[i] feeds a setting s: the whole setting when it is SECRET, else its secret arguments */
static void mark_setting_params(const IrSetting *s, ParamMarks *m) {
    if (chk_setting_secret(s->def)) any_expr(s->value, mark_param, m);
    else any_secret_arg(s->value, mark_param, m);
}

/* secret[i] = params[i] feeds a SECRET setting or a secret argument, of a connection, a flow or any
 * step (emit_c.h) */
void emit_secret_params(const IrProgram *p, int *secret) {
    ParamMarks m = { p, secret };
    for (int i = 0; i < p->nparams; i++) secret[i] = 0;
    for (int c = 0; c < p->nconns; c++)
        for (int i = 0; i < p->conns[c]->nsettings; i++) mark_setting_params(&p->conns[c]->settings[i], &m);
    for (int f = 0; f < p->nflows; f++) {
        const IrFlow *fl = p->flows[f];
        for (int i = 0; i < fl->nsettings; i++) mark_setting_params(&fl->settings[i], &m);
        for (int s = 0; s < fl->nall; s++)
            for (int i = 0; i < fl->all[s]->nsettings; i++) mark_setting_params(&fl->all[s]->settings[i], &m);
    }
}

static int is_env(const IrExpr *x, void *ud) { (void)ud; return x->kind == IR_ENV; }
static int is_secret_param(const IrExpr *x, void *ud) {
    const E *e = ud;
    if (x->kind != IR_PARAM) return 0;
    for (int i = 0; i < e->p->nparams; i++) if (e->p->params[i] == x->param) return e->secret_param[i];
    return 0;
}
static int is_str(const IrExpr *x, void *ud) { (void)ud; return x->kind == IR_STR && x->slen > 0; }

/* A setting is secret when the table says so, it mentions env() or a secret param, or it holds a
 * secret argument (a trigger's hmac secret). */
static int setting_secret(E *e, const IrSetting *s) {
    return chk_setting_secret(s->def) || any_expr(s->value, is_env, NULL) || any_expr(s->value, is_secret_param, e) ||
           any_secret_arg(s->value, is_any, NULL);
}

/* text a setting bakes into the program as a secret: a string literal in a SECRET setting or in a secret argument */
static int bakes_text(const IrSetting *s) {
    return chk_setting_secret(s->def) ? any_expr(s->value, is_str, NULL) : any_secret_arg(s->value, is_str, NULL);
}

/* A C string literal of 2n bytes: n random bytes, then text XOR those bytes. */
static void bmasked(Buf *b, const char *text, size_t n) {
    unsigned char *m = malloc(2 * n + 1);
    if (!m) abort();
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(m + got, n - got, 0);
        if (r > 0) got += (size_t)r;
        else if (r < 0 && errno != EINTR) {   /* no getrandom: a weaker pad still hides the text from `strings` */
            for (size_t i = got; i < n; i++) m[i] = (unsigned char)(rand() >> 3);
            got = n;
        }
    }
    for (size_t i = 0; i < n; i++) m[n + i] = (unsigned char)text[i] ^ m[i];
    bstr(b, (const char *)m, 2 * n);
    free(m);
}

int emit_bakes_secrets(const IrProgram *p, const EmitParam *params, int nparams) {
    int *secret = calloc((size_t)p->nparams + 1, sizeof *secret);
    if (!secret) abort();
    emit_secret_params(p, secret);
    int baked = 0;
    for (int i = 0; i < p->nparams && !baked; i++) {
        if (!secret[i]) continue;
        baked = p->params[i]->def != NULL;
        for (int k = 0; k < nparams && !baked; k++) baked = strcmp(params[k].name, p->params[i]->name) == 0;
    }
    /* an env block's value for a secret param is in the executable too (for --env NAME) */
    for (int i = 0; i < p->nenvs && !baked; i++)
        for (int k = 0; k < p->envs[i]->nsettings && !baked; k++)
            for (int j = 0; j < p->nparams && !baked; j++) baked = secret[j] && strcmp(p->params[j]->name, p->envs[i]->settings[k].name) == 0;
    for (int c = 0; c < p->nconns && !baked; c++)
        for (int i = 0; i < p->conns[c]->nsettings && !baked; i++) baked = bakes_text(&p->conns[c]->settings[i]);
    for (int f = 0; f < p->nflows && !baked; f++) {
        for (int i = 0; i < p->flows[f]->nsettings && !baked; i++) baked = bakes_text(&p->flows[f]->settings[i]);
        for (int s = 0; s < p->flows[f]->nall && !baked; s++)
            for (int i = 0; i < p->flows[f]->all[s]->nsettings && !baked; i++) baked = bakes_text(&p->flows[f]->all[s]->settings[i]);
    }
    free(secret);
    return baked;
}

/* ---- expressions: each returns the number of the temp that holds its value ---- */

static int gen(E *e, const IrExpr *x);
static int gen_each_array(E *e, const IrExpr *x);

/* ---- typed variants: reading a typed record's slots ---- */

/* the declared kinds a typed slot holds a value of (flow.h: FlowTSlot.v) */
static int typed_scalar(const Type *t) {
    switch (t ? t->kind : TY_ERROR) {
    case TY_STRING: case TY_INT: case TY_NUMBER: case TY_BOOL: case TY_DURATION: case TY_SIZE: case TY_DATETIME: return 1;
    default: return 0;
    }
}

/* When x reads a typed record's slot (record, an `each` variable over a typed array, or fields of
 * those through declared records): 1 with the slot as a C expression and its declared type. */
static int tslot(E *e, const IrExpr *x, char *out, size_t cap, const Type **ty) {
    if (!e->typed || !x) return 0;
    if (x->kind == IR_RECORD) { snprintf(out, cap, "rec"); *ty = e->typed_root; return 1; }
    if (x->kind == IR_VAR && x->var)
        for (int i = e->ntvars - 1; i >= 0; i--)
            if (e->tvars[i].var == x->var) { snprintf(out, cap, "s%d", var_id(e, x->var)); *ty = e->tvars[i].type; return 1; }
    if (x->kind == IR_FIELD && x->name) {
        char base[400];
        const Type *bt;
        if (!tslot(e, x->a, base, sizeof base, &bt) || !bt || bt->kind != TY_RECORD) return 0;
        for (int i = 0; i < bt->nfields; i++)
            if (strcmp(bt->fields[i].name, x->name) == 0) {
                if ((size_t)snprintf(out, cap, "flow_tfield(%s, %d)", base, i) >= cap) return 0;
                *ty = bt->fields[i].type;
                return 1;
            }
    }
    return 0;
}
static int gen_object(E *e, const IrMap *m);
static void gen_map_into(E *e, const IrMap *m, const char *obj);

static int newtmp(E *e) { return e->tmp++; }

#define B (e->body)

static int gen_template_parts(E *e, const IrExpr *t, int text);

/* Inside a `body` template, a value is JSON-escaped unless it is raw ({{{x}}}) or JSON text
 * already ({{jsonSerialize x}}, or {{toString x}} of something that is not a string). Inside an http
 * `path`, every value but a raw one is percent-encoded; for `flowc eval --escape html`, HTML-escaped. */
static const char *text_fn(E *e, const IrExpr *p, const IrExpr *v) {
    if (e->tpl_esc == TPL_TEXT || (p->kind == IR_TPL_VALUE && (p->op & 1))) return "flow_text_val";
    if (e->tpl_esc == TPL_URL) return "flow_text_val_url";
    if (e->tpl_esc == TPL_HTML) return "flow_text_val_html";
    if (v->kind == IR_CALL && v->fn && strcmp(v->fn->name, "to_json") == 0) return "flow_text_val";   /* JSON text already */
    if (v->kind == IR_CALL && v->fn && strcmp(v->fn->name, "to_string") == 0 && v->nkids > 0 && v->kids[0] &&
        v->kids[0]->type && v->kids[0]->type->kind != TY_STRING)
        return "flow_text_val";
    return "flow_text_val_json";
}

static void gen_tpl_part(E *e, const IrExpr *p, int text) {
    switch (p->kind) {
    case IR_STR:
        if (e->mask && p->slen) {
            int m = newtmp(e);
            bprintf(B, "FlowVal t%d = flow_unmask(cx, ", m);
            bmasked(B, p->str, p->slen);
            bprintf(B, ", %zu);\nflow_text_put(cx, &t%d, t%d.s.p, t%d.s.n);\n", p->slen, text, m, m);
            break;
        }
        bprintf(B, "flow_text_put(cx, &t%d, ", text);
        bstr(B, p->str, p->slen);
        bprintf(B, ", %zu);\n", p->slen);
        break;
    case IR_TPL_VALUE: {
        int v = gen(e, p->a);
        bprintf(B, "%s(cx, &t%d, t%d);\n", text_fn(e, p, p->a), text, v);
        break;
    }
    case IR_TPL_SECTION: {
        int subj = gen(e, p->a);
        const char *nm = p->name;
        if (strcmp(nm, "if") == 0 || strcmp(nm, "unless") == 0 || strcmp(nm, "inverted") == 0) {
            int neg = strcmp(nm, "if") != 0;
            bprintf(B, "if (%s%s(t%d)) {\n", neg ? "!" : "", strcmp(nm, "inverted") == 0 ? "flow_tpl_section_true" : "flow_tpl_true", subj);
            if (p->b) gen_template_parts(e, p->b, text);
            bputs(B, "}");
            if (p->c) { bputs(B, " else {\n"); gen_template_parts(e, p->c, text); bputs(B, "}"); }
            bputs(B, "\n");
            break;
        }
        /* each / with / section: bind `this` (and @index for lists) */
        int thisv = p->var ? var_id(e, p->var) : newtmp(e);
        int idx = newtmp(e);
        const char *ek = p->var && p->var->type ? kind_of(p->var->type) : "FLOW_JSON";
        int iterate = strcmp(nm, "each") == 0 || strcmp(nm, "section") == 0;
        if (iterate) {
            /* #each goes through an array's elements or an object's members (@key); a Mustache section
             * through an array (an object is one context, below) */
            if (strcmp(nm, "each") == 0)
                bprintf(B, "if (t%d.kind == FLOW_JSON && (cJSON_IsArray(t%d.j) || (t%d.j->type & 0xFF) == cJSON_Object) && t%d.j->child) {\n",
                        subj, subj, subj, subj);
            else bprintf(B, "if (t%d.kind == FLOW_JSON && cJSON_IsArray(t%d.j) && cJSON_GetArraySize(t%d.j) > 0) {\n", subj, subj, subj);
            bprintf(B, "int64_t t%d = 0;\nfor (const cJSON *it%d = t%d.j->child; it%d; it%d = it%d->next, t%d++) {\n",
                    idx, idx, subj, idx, idx, idx, idx);
            if (e->ntpl) {
                int sc = e->tpl_steps[e->ntpl < 64 ? e->ntpl - 1 : 63];
                bprintf(B, "if (++s%d > TPL_MAX_STEPS && !flow_tpl_step(cx, &s%d, TPL_MAX_STEPS)) break;\n", sc, sc);
            }
            bprintf(B, "FlowVal t%d = flow_val_from_json(cx, it%d, %s, \"item\");\n", thisv, idx, ek);
            if (e->nloops < 64) { e->loop_it[e->nloops] = idx; e->loop_idx[e->nloops++] = idx; }
            if (p->b) gen_template_parts(e, p->b, text);
            e->nloops--;
            bputs(B, "}\n}");
            if (strcmp(nm, "section") == 0) {
                bprintf(B, " else if (flow_tpl_section_true(t%d) && !(t%d.kind == FLOW_JSON && cJSON_IsArray(t%d.j))) {\n", subj, subj, subj);
                bprintf(B, "int64_t t%d = 0; (void)t%d;\nFlowVal t%d = t%d;\n", idx, idx, thisv, subj);
                if (e->nloops < 64) { e->loop_it[e->nloops] = -1; e->loop_idx[e->nloops++] = idx; }
                if (p->b) gen_template_parts(e, p->b, text);
                e->nloops--;
                bputs(B, "}");
            }
            if (p->c) { bputs(B, " else {\n"); gen_template_parts(e, p->c, text); bputs(B, "}"); }
            bputs(B, "\n");
        } else {   /* with: Handlebars renders it for 0 too */
            bprintf(B, "if (flow_tpl_with_true(t%d)) {\nint64_t t%d = 0; (void)t%d;\nFlowVal t%d = t%d;\n", subj, idx, idx, thisv, subj);
            if (e->nloops < 64) { e->loop_it[e->nloops] = -1; e->loop_idx[e->nloops++] = idx; }
            if (p->b) gen_template_parts(e, p->b, text);
            e->nloops--;
            bputs(B, "}");
            if (p->c) { bputs(B, " else {\n"); gen_template_parts(e, p->c, text); bputs(B, "}"); }
            bputs(B, "\n");
        }
        break;
    }
    default: {
        int v = gen(e, p);
        bprintf(B, "%s(cx, &t%d, t%d);\n", text_fn(e, p, p), text, v);
    }
    }
}

static int gen_template_parts(E *e, const IrExpr *t, int text) {
    for (int i = 0; i < t->nkids; i++) gen_tpl_part(e, t->kids[i], text);
    return text;
}

static const char *cmp_name(int op) {
    switch (op) {
    case OP_EQ: return "FLOW_CMP_EQ"; case OP_NE: return "FLOW_CMP_NE"; case OP_LT: return "FLOW_CMP_LT";
    case OP_LE: return "FLOW_CMP_LE"; case OP_GT: return "FLOW_CMP_GT"; default: return "FLOW_CMP_GE";
    }
}

static const char *arith_name(int op) {
    switch (op) {
    case OP_ADD: return "FLOW_OP_ADD"; case OP_SUB: return "FLOW_OP_SUB"; case OP_MUL: return "FLOW_OP_MUL";
    case OP_DIV: return "FLOW_OP_DIV"; default: return "FLOW_OP_MOD";
    }
}

static int gen_call(E *e, const IrExpr *x) {
    const Builtin *b = x->fn;
    int r = newtmp(e);
    if (strcmp(b->name, "has") == 0) {
        int a = gen(e, x->kids[0]);
        bprintf(B, "FlowVal t%d = flow_bool(!flow_is_null(t%d));\n", r, a);
        return r;
    }
    int variadic = b->nparams && b->params[b->nparams - 1].variadic;
    int args[32];
    int n = x->nkids < 32 ? x->nkids : 32;
    for (int i = 0; i < n; i++) {
        if (x->kids[i]) args[i] = gen(e, x->kids[i]);
        else { args[i] = newtmp(e); bprintf(B, "FlowVal t%d = flow_null();\n", args[i]); }
    }
    if (variadic) {
        int arr = newtmp(e);
        bprintf(B, "FlowVal t%d[%d] = {", arr, n ? n : 1);
        for (int i = 0; i < n; i++) bprintf(B, "%st%d", i ? ", " : " ", args[i]);
        bprintf(B, "%s};\n", n ? " " : " flow_null() ");
        bprintf(B, "FlowVal t%d = %s(cx, %d, t%d);\n", r, b->csym, n, arr);
        return r;
    }
    bprintf(B, "FlowVal t%d = %s(cx", r, b->csym);
    for (int i = 0; i < b->nparams; i++) bprintf(B, ", t%d", args[i]);
    bputs(B, ");\n");
    if (strcmp(b->result, "elem1?") == 0 && x->type && strcmp(kind_of(x->type), "FLOW_JSON") != 0) {
        /* first/last hand back the element as JSON: give it the kind the checker typed it with */
        int c = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_convert(cx, t%d, %s, \"%s\");\n", c, r, kind_of(x->type), b->name);
        return c;
    }
    return r;
}

/* A JSON description of a constructor value: {"ctor": "delta", "field": "created_at", "lag": 300000} */
static int gen_ctor(E *e, const IrExpr *x) {
    int r = newtmp(e);
    if (x->kind == IR_WORD) {
        bprintf(B, "FlowVal t%d = flow_string(", r);
        bstr(B, x->name, strlen(x->name));
        bprintf(B, ", %zu);\n", strlen(x->name));
        return r;
    }
    if (x->kind != IR_CALL || !x->fn || !x->fn->ctor) return gen(e, x);
    int o = newtmp(e);
    bprintf(B, "cJSON *o%d = cJSON_CreateObject();\ncJSON_AddStringToObject(o%d, \"ctor\", \"%s\");\n", o, o, x->fn->name);
    for (int i = 0; i < x->fn->nparams && i < x->nkids; i++) {
        if (!x->kids[i]) continue;
        const IrExpr *a = x->kids[i];
        int outer = e->tpl_esc, outer_mask = e->mask;
        e->tpl_esc = strcmp(x->fn->params[i].name, "body") == 0 ? TPL_JSON : strcmp(x->fn->params[i].type, "urlpath") == 0 ? TPL_URL : TPL_TEXT;
        if (strcmp(x->fn->params[i].type, "secret") == 0) e->mask = 1;   /* a literal secret is stored masked */
        int v = (a->kind == IR_WORD || (a->kind == IR_CALL && a->fn && a->fn->ctor)) ? gen_ctor(e, a) : gen(e, a);
        e->tpl_esc = outer;
        e->mask = outer_mask;
        bprintf(B, "flow_obj_put(o%d, \"%s\", t%d);\n", o, x->fn->params[i].name, v);
    }
    bprintf(B, "FlowVal t%d = flow_json(flow_scratch_keep(cx, o%d));\n", r, o);
    return r;
}

/* `if (flow_truth(cond))` (or its negation) followed by `then`: a condition as a C branch, with the
 * condition's source text for the run-time message about a non-bool. */
static void gen_if(E *e, const IrExpr *cond, int negate, const char *then) {
    int c = gen(e, cond);
    bprintf(B, "if (%sflow_truth(cx, t%d, ", negate ? "!" : "", c);
    bsrc(e, B, cond->span);
    bprintf(B, "))%s", then);
}

/* each x in xs: the loop over the JSON array xs, opened, with x (t<v>) bound to each element */
static void gen_each_loop(E *e, const IrExpr *x, int v) {
    int list = gen(e, x->a);
    int it = newtmp(e);
    const char *ek = x->var->type ? kind_of(x->var->type) : "FLOW_JSON";
    bprintf(B, "if (t%d.kind == FLOW_JSON && cJSON_IsArray(t%d.j))\n"
               "for (const cJSON *it%d = t%d.j->child; it%d; it%d = it%d->next) {\n"
               "FlowVal t%d = flow_val_from_json(cx, it%d, %s, ", list, list, it, list, it, it, it, v, it, ek);
    bstr(B, x->var->name, strlen(x->var->name));
    bputs(B, ");\n");
}

/* each x in xs [where c] { ... } | => v : builds `cJSON *o<N>` (an array the caller owns) and returns N */
static int gen_each_array(E *e, const IrExpr *x) {
    int arr = newtmp(e);
    bprintf(B, "cJSON *o%d = cJSON_CreateArray();\n{\n", arr);
    gen_each_loop(e, x, var_id(e, x->var));
    if (x->b) gen_if(e, x->b, 1, " continue;\n");
    if (x->map) {
        size_t len = strlen(e->map_path);
        if (len && len + 2 < sizeof e->map_path) strcat(e->map_path, "[]");
        int obj = gen_object(e, x->map);
        e->map_path[len] = 0;
        bprintf(B, "cJSON_AddItemToArray(o%d, o%d);\n", arr, obj);
    } else {
        int val = gen(e, x->c);
        bprintf(B, "cJSON_AddItemToArray(o%d, flow_val_to_json(t%d));\n", arr, val);
    }
    bputs(B, "}\n}\n");
    return arr;
}

static int gen(E *e, const IrExpr *x) {
    int r;
    if (!x) { r = newtmp(e); bprintf(B, "FlowVal t%d = flow_null();\n", r); return r; }
    switch (x->kind) {
    case IR_NULL: r = newtmp(e); bprintf(B, "FlowVal t%d = flow_null();\n", r); return r;
    case IR_BOOL: r = newtmp(e); bprintf(B, "FlowVal t%d = flow_bool(%d);\n", r, (int)!!x->ival); return r;
    case IR_INT: case IR_SIZE:
        r = newtmp(e);
        if (x->ival == INT64_MIN) bprintf(B, "FlowVal t%d = flow_int(INT64_MIN);\n", r);   /* no C literal is -2^63 */
        else bprintf(B, "FlowVal t%d = flow_int(INT64_C(%lld));\n", r, (long long)x->ival);
        return r;
    case IR_DURATION:
        r = newtmp(e); bprintf(B, "FlowVal t%d = flow_duration(INT64_C(%lld));\n", r, (long long)x->ival); return r;
    case IR_NUM: r = newtmp(e); bprintf(B, "FlowVal t%d = flow_number(%.17g);\n", r, x->num); return r;
    case IR_STR:
        r = newtmp(e);
        if (e->mask && x->slen) {
            bprintf(B, "FlowVal t%d = flow_unmask(cx, ", r);
            bmasked(B, x->str, x->slen);
            bprintf(B, ", %zu);\n", x->slen);
            return r;
        }
        bprintf(B, "FlowVal t%d = flow_string(", r);
        bstr(B, x->str, x->slen);
        bprintf(B, ", %zu);\n", x->slen);
        return r;
    case IR_WORD:
        r = newtmp(e);
        if (e->test_names) {   /* a test's expectation: what the run produced under that name */
            bprintf(B, "FlowVal t%d = flow_field(cx, flow_json(names), ", r);
            bstr(B, x->name, strlen(x->name));
            bputs(B, ", FLOW_JSON, ");
            bstr(B, x->name, strlen(x->name));
            bputs(B, ");\n");
            return r;
        }
        bprintf(B, "FlowVal t%d = flow_string(", r);
        bstr(B, x->name, strlen(x->name));
        bprintf(B, ", %zu);\n", strlen(x->name));
        return r;
    case IR_TEMPLATE: {
        int text = newtmp(e);
        bprintf(B, "FlowText t%d = { 0 };\nint64_t s%d = 0; (void)s%d;\n", text, text, text);
        if (e->ntpl < 64) e->tpl_steps[e->ntpl] = text;
        e->ntpl++;
        gen_template_parts(e, x, text);
        e->ntpl--;
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_text_done(&t%d);\n", r, text);
        return r;
    }
    case IR_RECORD:
        if (e->typed) e->typed_fail = 1;   /* the record as a whole: a cJSON tree */
        r = newtmp(e); bprintf(B, "FlowVal t%d = flow_json(rec);\n", r); return r;
    case IR_LOOKUP: if (e->typed) e->typed_fail = 1; r = newtmp(e); bprintf(B, "FlowVal t%d = flow_lookup_result(cx, %d);\n", r, x->step->id); return r;
    case IR_PARAM: {
        int idx = 0;
        for (int i = 0; i < e->p->nparams; i++) if (e->p->params[i] == x->param) idx = i;
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_param(cx, %d);\n", r, idx);
        return r;
    }
    case IR_ENV: {
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_fn_env(cx, flow_string(", r);
        bstr(B, x->name, strlen(x->name));
        bprintf(B, ", %zu));\n", strlen(x->name));
        return r;
    }
    case IR_CONTEXT: {
        static const char *const names[] = {
#define X(id, root, field) "FLOW_CTX_" #id,
            IR_CONTEXTS(X)
#undef X
        };
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_context(cx, %s);\n", r, names[x->op]);
        return r;
    }
    case IR_RESPONSE: if (e->typed) e->typed_fail = 1; r = newtmp(e); bprintf(B, "FlowVal t%d = flow_response(cx);\n", r); return r;
    case IR_EXISTING: if (e->typed) e->typed_fail = 1; e->map_existing = 1; r = newtmp(e); bprintf(B, "FlowVal t%d = flow_existing(cx);\n", r); return r;
    case IR_MAPCTX:
        if (e->typed) e->typed_fail = 1;
        r = newtmp(e);
        if (e->in_map) e->map_existing = 1;
        bprintf(B, "FlowVal t%d = flow_bool(%s);\n", r, !e->in_map ? "0" : x->op ? "updating" : "!updating");
        return r;
    case IR_VAR: {
        r = newtmp(e);
        const char *nm = x->var ? x->var->name : x->name;
        if (nm[0] == '@') {
            int idx = e->nloops ? e->loop_idx[e->nloops - 1] : -1;
            if (idx < 0) bprintf(B, "FlowVal t%d = flow_null();\n", r);
            else if (strcmp(nm, "@index") == 0) bprintf(B, "FlowVal t%d = flow_int(t%d);\n", r, idx);
            else if (strcmp(nm, "@first") == 0) bprintf(B, "FlowVal t%d = flow_bool(t%d == 0);\n", r, idx);
            else if (strcmp(nm, "@last") == 0 && e->loop_it[e->nloops - 1] >= 0)
                bprintf(B, "FlowVal t%d = flow_bool(it%d->next == NULL);\n", r, e->loop_it[e->nloops - 1]);
            else if (strcmp(nm, "@last") == 0) bprintf(B, "FlowVal t%d = flow_bool(1);\n", r);
            else if (strcmp(nm, "@key") == 0 && e->loop_it[e->nloops - 1] >= 0)
                bprintf(B, "FlowVal t%d = flow_tpl_key(it%d);\n", r, e->loop_it[e->nloops - 1]);
            else bprintf(B, "FlowVal t%d = flow_null();\n", r);   /* @key outside an iteration */
            return r;
        }
        if (e->typed) {   /* an `each` variable over a typed array: its element's value, when a scalar */
            char sl[400];
            const Type *ty;
            if (tslot(e, x, sl, sizeof sl, &ty) && !typed_scalar(ty)) e->typed_fail = 1;
        }
        bprintf(B, "FlowVal t%d = t%d;\n", r, var_id(e, x->var));
        return r;
    }
    case IR_TPL_NAME: {
        int *ctx = malloc(sizeof(int) * (size_t)(x->nkids ? x->nkids : 1));
        if (!ctx) abort();
        for (int i = 0; i < x->nkids; i++) ctx[i] = gen(e, x->kids[i]);
        int arr = newtmp(e);
        bprintf(B, "FlowVal t%d[%d] = {", arr, x->nkids ? x->nkids : 1);
        for (int i = 0; i < x->nkids; i++) bprintf(B, "%st%d", i ? ", " : " ", ctx[i]);
        bputs(B, x->nkids ? " };\n" : " flow_null() };\n");
        free(ctx);
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_tpl_lookup(cx, t%d, %d, ", r, arr, x->nkids);
        bstr(B, x->name, strlen(x->name));
        bputs(B, ");\n");
        return r;
    }
    case IR_FIELD: {
        char sl[400];
        const Type *ty;
        if (tslot(e, x, sl, sizeof sl, &ty)) {   /* a typed record's field: its slot, by position */
            if (!typed_scalar(ty) || kind_enum(ty) != kind_enum(x->type)) e->typed_fail = 1;
            r = newtmp(e);
            bprintf(B, "FlowVal t%d = %s->v;\n", r, sl);
            return r;
        }
        int base = gen(e, x->a);
        r = newtmp(e);
        if (e->test_names && strcmp(x->name, "count") == 0)   /* in a test, `deals.count` counts what `deals` wrote */
            bprintf(B, "FlowVal t%d = t%d.kind == FLOW_JSON && cJSON_IsArray(t%d.j) ? flow_int(cJSON_GetArraySize(t%d.j)) : flow_field(cx, t%d, ",
                    r, base, base, base, base);
        else bprintf(B, "FlowVal t%d = flow_field(cx, t%d, ", r, base);
        bstr(B, x->name, strlen(x->name));
        bprintf(B, ", %s, ", kind_of(x->type));
        bsrc(e, B, x->span);
        bputs(B, ");\n");
        return r;
    }
    case IR_INDEX: {
        if (x->a->kind == IR_TABLE) {
            int key = gen(e, x->b);
            int ti = 0;
            for (int i = 0; i < e->p->ntables; i++) if (e->p->tables[i] == x->a->table) ti = i;
            r = newtmp(e);
            bprintf(B, "FlowVal t%d = flow_table_get(cx, table%d, (int)(sizeof table%d / sizeof table%d[0]), t%d);\n",
                    r, ti, ti, ti, key);
            return r;
        }
        int base = gen(e, x->a);
        int idx = gen(e, x->b);
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_index(cx, t%d, t%d, %s, ", r, base, idx, kind_of(x->type));
        bsrc(e, B, x->span);
        bputs(B, ");\n");
        return r;
    }
    case IR_CALL:
        if (x->fn && x->fn->ctor) return gen_ctor(e, x);
        return gen_call(e, x);
    case IR_UNARY: {
        int a = gen(e, x->a);
        r = newtmp(e);
        if (x->op == OP_NOT && x->helper) {   /* {{not x}}: Handlebars truthiness */
            bprintf(B, "FlowVal t%d = flow_bool(!flow_tpl_true(t%d));\n", r, a);
        } else if (x->op == OP_NOT) {
            bprintf(B, "FlowVal t%d = flow_bool(!flow_truth(cx, t%d, ", r, a);
            bsrc(e, B, x->a->span);
            bputs(B, "));\n");
        } else bprintf(B, "FlowVal t%d = flow_op_neg(cx, t%d);\n", r, a);
        return r;
    }
    case IR_BINARY: {
        if ((x->op == OP_AND || x->op == OP_OR) && x->helper) {   /* {{and a b}}, {{or a b}}: truthiness, short-circuit */
            r = newtmp(e);
            int a = gen(e, x->a);
            bprintf(B, "FlowVal t%d;\nif (%sflow_tpl_true(t%d)) {\n", r, x->op == OP_AND ? "" : "!", a);
            int b = gen(e, x->b);
            bprintf(B, "t%d = flow_bool(flow_tpl_true(t%d));\n} else t%d = flow_bool(%d);\n", r, b, r, x->op == OP_OR);
            return r;
        }
        if (x->op == OP_AND || x->op == OP_OR) {
            r = newtmp(e);
            int a = gen(e, x->a);
            bprintf(B, "FlowVal t%d;\nif (%sflow_truth(cx, t%d, ", r, x->op == OP_AND ? "" : "!", a);
            bsrc(e, B, x->a->span);
            bputs(B, ")) {\n");
            int b = gen(e, x->b);
            bprintf(B, "t%d = flow_bool(flow_truth(cx, t%d, ", r, b);
            bsrc(e, B, x->b->span);
            bprintf(B, "));\n} else t%d = flow_bool(%d);\n", r, x->op == OP_OR);
            return r;
        }
        if (x->op == OP_COALESCE) {
            r = newtmp(e);
            int a = gen(e, x->a);
            bprintf(B, "FlowVal t%d = t%d;\nif (flow_is_null(t%d)) {\n", r, a, r);
            int b = gen(e, x->b);
            bprintf(B, "t%d = t%d;\n}\n", r, b);
            return r;
        }
        int a = gen(e, x->a), b = gen(e, x->b);
        r = newtmp(e);
        switch (x->op) {
        case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
            bprintf(B, "FlowVal t%d = flow_op_cmp(cx, %s, t%d, t%d);\n", r, cmp_name(x->op), a, b);
            break;
        case OP_IN: bprintf(B, "FlowVal t%d = flow_op_in(cx, t%d, t%d);\n", r, a, b); break;
        default: bprintf(B, "FlowVal t%d = flow_op_arith(cx, %s, t%d, t%d);\n", r, arith_name(x->op), a, b);
        }
        return r;
    }
    case IR_IF: {
        r = newtmp(e);
        bprintf(B, "FlowVal t%d;\n", r);
        gen_if(e, x->a, 0, " {\n");
        int a = gen(e, x->b);
        bprintf(B, "t%d = t%d;\n} else {\n", r, a);
        int b = gen(e, x->c);
        bprintf(B, "t%d = t%d;\n}\n", r, b);
        return r;
    }
    case IR_EACH: {
        int arr = gen_each_array(e, x);
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_json(flow_scratch_keep(cx, o%d));\n", r, arr);
        return r;
    }
    case IR_OBJECT: {
        int o = newtmp(e);
        bprintf(B, "cJSON *o%d = cJSON_CreateObject();\n", o);
        for (int i = 0; i < x->nkids; i++) {
            int v = gen(e, x->kids[i]);
            bprintf(B, "flow_obj_put(o%d, ", o);
            bstr(B, x->keys[i], strlen(x->keys[i]));
            bprintf(B, ", t%d);\n", v);
        }
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_json(flow_scratch_keep(cx, o%d));\n", r, o);
        return r;
    }
    case IR_ARRAY: {
        int o = newtmp(e);
        bprintf(B, "cJSON *o%d = cJSON_CreateArray();\n", o);
        for (int i = 0; i < x->nkids; i++) {
            int v = gen(e, x->kids[i]);
            bprintf(B, "cJSON_AddItemToArray(o%d, flow_val_to_json(t%d));\n", o, v);
        }
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_json(flow_scratch_keep(cx, o%d));\n", r, o);
        return r;
    }
    default:
        ERR(x->span, "internal error: this expression cannot be compiled yet (%s)", ir_expr_kind_names[x->kind]);
        r = newtmp(e);
        bprintf(B, "FlowVal t%d = flow_null();\n", r);
        return r;
    }
}

/* ---- map blocks: build the output object in place ---- */

/* A fresh `cJSON *o<N>` holding a map block's entries; returns N. */
static int gen_object(E *e, const IrMap *m) {
    int obj = newtmp(e);
    bprintf(B, "cJSON *o%d = cJSON_CreateObject();\n", obj);
    char name[32];
    snprintf(name, sizeof name, "o%d", obj);
    gen_map_into(e, m, name);
    return obj;
}

/* A map entry's value (its IR value, converted to its type override), named by e->map_path in a
 * conversion's error; returns its temporary. */
static int gen_entry_value(E *e, const IrMapEntry *en) {
    int v = gen(e, en->value);
    if (!en->override) return v;
    int cv = newtmp(e);
    bprintf(B, "FlowVal t%d = flow_convert(cx, t%d, %s, ", cv, v, kind_of(en->override));
    bstr(B, e->map_path, strlen(e->map_path));
    bputs(B, ");\n");
    return cv;
}

/* Each entry's error names it: `flow_fail_at(cx, "customer.name")` after it (the first failure of the
 * record gets the name of the entry it happened in). */
static void gen_map_into(E *e, const IrMap *m, const char *obj) {
    for (int i = 0; i < m->n; i++) {
        const IrMapEntry *en = &m->entries[i];
        size_t len = strlen(e->map_path);
        snprintf(e->map_path + len, sizeof e->map_path - len, "%s%s", len ? "." : "", en->name);
        const char *path = e->map_path;
        bputs(B, "{\n");
        if (en->when) gen_if(e, en->when, 0, " {\n");
        if (en->nested) {
            int sub = gen_object(e, en->nested);
            bprintf(B, "cJSON_AddItemToObject(%s, ", obj);
            bstr(B, en->name, strlen(en->name));
            bprintf(B, ", o%d);\n", sub);
        } else if (en->value->kind == IR_EACH && !en->override) {   /* the array goes straight into the output */
            int arr = gen_each_array(e, en->value);
            bprintf(B, "cJSON_AddItemToObject(%s, ", obj);
            bstr(B, en->name, strlen(en->name));
            bprintf(B, ", o%d);\n", arr);
        } else {
            int v = gen_entry_value(e, en);
            bprintf(B, "flow_obj_add(%s, ", obj);
            bstr(B, en->name, strlen(en->name));
            bprintf(B, ", t%d);\n", v);
        }
        if (en->when) bputs(B, "}\n");
        bputs(B, "if (FLOW_FAILED(cx)) flow_fail_at(cx, ");
        bstr(B, path, strlen(path));
        bputs(B, ");\n}\n");
        e->map_path[len] = 0;
    }
}

/* ---- typed maps: the output printed as it is built (flow_tp_*), into `FlowBuf *ob` ---- */

/* flow_tp_keyraw(ob, "\"key\":", n): the member name printed now by the runtime's own JSON printer */
static void bkey(E *e, const char *key) {
    cJSON *j = cJSON_CreateString(key);
    char *t = j ? flow_json_print(j) : NULL;
    if (!t) abort();
    size_t n = strlen(t);
    bputs(B, "flow_tp_keyraw(ob, ");
    Buf k = { 0 };
    bput(&k, t, n);
    bputc(&k, ':');
    bstr(B, k.p, k.n);
    bprintf(B, ", %zu);\n", k.n);
    free(k.p);
    cJSON_free(t);
    cJSON_Delete(j);
}

static void gen_map_print(E *e, const IrMap *m);

/* each x in xs [where c] { ... } | => v, printed as a JSON array */
static void gen_each_print(E *e, const IrExpr *x) {
    bputs(B, "flow_tp_open(ob, '[');\n{\n");
    int v = var_id(e, x->var);
    char sl[400];
    const Type *ty;
    if (tslot(e, x->a, sl, sizeof sl, &ty) && ty && ty->kind == TY_ARRAY && e->ntvars < 32
        && kind_enum(ty->elem) == kind_enum(x->var->type)) {   /* a typed array: its element slots */
        int arr = newtmp(e), idx = newtmp(e);
        bprintf(B, "const FlowTSlot *a%d = %s;\nfor (int i%d = 0; i%d < a%d->n; i%d++) {\n"
                   "const FlowTSlot *s%d = &a%d->kids[i%d];\nFlowVal t%d = s%d->v; (void)t%d;\n",
                arr, sl, idx, idx, arr, idx, v, arr, idx, v, v, v);
        e->tvars[e->ntvars].var = x->var;
        e->tvars[e->ntvars].type = ty->elem;
        e->ntvars++;
    } else gen_each_loop(e, x, v);
    int pushed = e->ntvars;
    if (x->b) gen_if(e, x->b, 1, " continue;\n");
    if (x->map) {
        size_t len = strlen(e->map_path);
        if (len && len + 2 < sizeof e->map_path) strcat(e->map_path, "[]");
        bputs(B, "flow_tp_elem(ob);\nflow_tp_open(ob, '{');\n");
        gen_map_print(e, x->map);
        bputs(B, "flow_tp_close(ob, '}');\n");
        e->map_path[len] = 0;
    } else {
        int val = gen(e, x->c);
        bprintf(B, "flow_tp_elem(ob);\nflow_tp_val(ob, t%d);\n", val);
    }
    bputs(B, "if (FLOW_FAILED(cx)) return -1;\n}\n}\nflow_tp_close(ob, ']');\n");
    if (pushed && e->tvars[pushed - 1].var == x->var) e->ntvars = pushed - 1;
}

/* A map block's entries, printed in order (gen_map_into's tree, as flow_json_print prints it); any
 * failure returns -1 at once: the record is then mapped the generic way, which names the entry. */
static void gen_map_print(E *e, const IrMap *m) {
    for (int i = 0; i < m->n; i++) {
        const IrMapEntry *en = &m->entries[i];
        size_t len = strlen(e->map_path);
        snprintf(e->map_path + len, sizeof e->map_path - len, "%s%s", len ? "." : "", en->name);
        bputs(B, "{\n");
        if (en->when) gen_if(e, en->when, 0, " {\n");
        if (en->nested) {
            bkey(e, en->name);
            bputs(B, "flow_tp_open(ob, '{');\n");
            gen_map_print(e, en->nested);
            bputs(B, "flow_tp_close(ob, '}');\n");
        } else if (en->value->kind == IR_EACH && !en->override) {
            bkey(e, en->name);
            gen_each_print(e, en->value);
        } else {
            int v = gen_entry_value(e, en);
            bputs(B, "if (FLOW_FAILED(cx)) return -1;\n");
            bkey(e, en->name);
            bprintf(B, "flow_tp_val(ob, t%d);\n", v);
        }
        if (en->when) bputs(B, "}\n");
        bputs(B, "if (FLOW_FAILED(cx)) return -1;\n}\n");
        e->map_path[len] = 0;
    }
}

/* ---- functions ---- */

static int begin_fn(E *e, Buf *body) {
    memset(body, 0, sizeof *body);
    e->body = body;
    return e->fn++;
}

static void end_fn(E *e, Buf *body, const char *head, Span sp) {
    line_directive(e, &e->out, sp);
    bput(&e->out, head, strlen(head));
    bputs(&e->out, " {\n");
    if (body->p) bput(&e->out, body->p, body->n);
    bputs(&e->out, "}\n\n");
    free(body->p);
    e->body = NULL;
}

static int mentions_record(const IrExpr *x) {
    if (!x) return 0;
    if (x->kind == IR_RECORD || x->kind == IR_LOOKUP || x->kind == IR_MAPCTX || x->kind == IR_RESPONSE || x->kind == IR_EXISTING) return 1;
    if (mentions_record(x->a) || mentions_record(x->b) || mentions_record(x->c)) return 1;
    for (int i = 0; i < x->nkids; i++) if (mentions_record(x->kids[i])) return 1;
    if (x->map) for (int i = 0; i < x->map->n; i++) {
        const IrMapEntry *en = &x->map->entries[i];
        if (mentions_record(en->value) || mentions_record(en->when)) return 1;
    }
    return 0;
}

/* Emits one function per setting and returns the name of the settings array. */
static char *gen_settings(E *e, const IrSetting *s, int n, const char *prefix) {
    char *names = calloc((size_t)(n ? n : 1), 48);
    int *per = calloc((size_t)(n ? n : 1), sizeof(int));
    if (!names || !per) abort();
    int *secret = calloc((size_t)(n ? n : 1), sizeof(int));
    if (!secret) abort();
    for (int i = 0; i < n; i++) {
        Buf body;
        int id = begin_fn(e, &body);
        per[i] = mentions_record(s[i].value);
        secret[i] = setting_secret(e, &s[i]);
        e->mask = secret[i];
        e->tpl_esc = strcmp(s[i].name, "body") == 0 ? TPL_JSON : strcmp(chk_setting_type(s[i].def), "urlpath") == 0 ? TPL_URL : TPL_TEXT;
        int v = (s[i].value->kind == IR_CALL && s[i].value->fn && s[i].value->fn->ctor) || s[i].value->kind == IR_WORD
              ? gen_ctor(e, s[i].value) : gen(e, s[i].value);
        e->tpl_esc = TPL_TEXT;
        e->mask = 0;
        bprintf(&body, "(void)cx;\nreturn t%d;\n", v);
        snprintf(names + i * 48, 48, "s%d", id);
        char head[128];
        snprintf(head, sizeof head, per[i] ? "static FlowVal s%d(FlowCtx *cx, cJSON *rec)" : "static FlowVal s%d(FlowCtx *cx)", id);
        end_fn(e, &body, head, s[i].span);
    }
    char *arr = malloc(64);
    if (!arr) abort();
    snprintf(arr, 64, "%s_settings%d", prefix, e->fn++);
    bprintf(&e->out, "static const FlowSettingDef %s[] = {\n", arr);
    for (int i = 0; i < n; i++) {
        bputs(&e->out, "    { ");
        bstr(&e->out, s[i].name, strlen(s[i].name));
        bprintf(&e->out, ", %s, %s, %d },\n", per[i] ? "NULL" : names + i * 48, per[i] ? names + i * 48 : "NULL", secret[i]);
    }
    if (!n) bputs(&e->out, "    { NULL, NULL, NULL, 0 },\n");
    bputs(&e->out, "};\n\n");
    free(names);
    free(per);
    free(secret);
    return arr;
}

/* Declared types for validating exported records. Returns the name of the FlowTypeDef. */
static void gen_type(E *e, const Type *t, char *name, size_t cap) {
    int id = e->fn++;
    char elem[80] = "NULL";
    char fields[64] = "NULL";
    int nf = 0;
    if (t->kind == TY_ARRAY && t->elem) {
        char en[64];
        gen_type(e, t->elem, en, sizeof en);
        snprintf(elem, sizeof elem, "&%s", en);
    }
    if (t->kind == TY_RECORD && t->nfields) {
        char (*fn)[64] = calloc((size_t)t->nfields, 64);
        if (!fn) abort();
        for (int i = 0; i < t->nfields; i++) gen_type(e, t->fields[i].type, fn[i], 64);
        snprintf(fields, sizeof fields, "ty%d_fields", id);
        bprintf(&e->out, "static const FlowFieldDef ty%d_fields[] = {\n", id);
        for (int i = 0; i < t->nfields; i++) {
            bputs(&e->out, "    { ");
            bstr(&e->out, t->fields[i].name, strlen(t->fields[i].name));
            const unsigned char *nm = (const unsigned char *)t->fields[i].name;
            size_t len = strlen(t->fields[i].name);
            bprintf(&e->out, ", &%s, %zu, FLOW_KEY8(", fn[i], len);
            for (size_t k = 0; k < 8; k++) bprintf(&e->out, "%s%u", k ? ", " : "", k < len ? nm[k] : 0u);
            bputs(&e->out, ") },\n");
        }
        bputs(&e->out, "};\n");
        nf = t->nfields;
        free(fn);
    }
    snprintf(name, cap, "ty%d", id);
    bprintf(&e->out, "static const FlowTypeDef ty%d = { %s, %d, %d, %d, %s, %d, %s };\n", id, kind_of(t), t->nullable,
            t->kind == TY_RECORD, t->kind == TY_ARRAY, fields, nf, elem);
}

/* The C function a hook names: c("file.c", "function") -> "function" (checked by the type checker). */
static const char *hook_fn(const IrHook *h) {
    const IrExpr *v = h->value;
    if (v && v->kind == IR_CALL && v->nkids >= 2 && v->kids[1] && v->kids[1]->kind == IR_STR) return v->kids[1]->str;
    return NULL;
}

/* hook functions of a list, by point: "fn" or "NULL" */
static void hook_names(const IrHook *h, int n, const char *names[HOOK_COUNT]) {
    for (int k = 0; k < HOOK_COUNT; k++) names[k] = "NULL";
    for (int i = 0; i < n; i++)
        if (h[i].point >= 0 && hook_fn(&h[i])) names[h[i].point] = hook_fn(&h[i]);
}

static int conn_index(E *e, const IrConn *c) {
    for (int i = 0; i < e->p->nconns; i++) if (e->p->conns[i] == c) return i;
    return -1;
}

static void gen_assign_stmts(E *e, const IrAssign *as, int n) {
    for (int i = 0; i < n; i++) {
        const char *path[AST_MAX_DEPTH];
        int np = 0;
        const IrExpr *t = as[i].target;
        while (t->kind == IR_FIELD && np < AST_MAX_DEPTH) { path[np++] = t->name; t = t->a; }
        bputs(B, "{\n");
        int v = as[i].remove ? -1 : gen(e, as[i].value);
        bputs(B, "static const char *const path[] = {");
        for (int k = np - 1; k >= 0; k--) { bputs(B, " "); bstr(B, path[k], strlen(path[k])); bput(B, k ? "," : "", k ? 1 : 0); }
        bputs(B, " };\n");
        if (as[i].remove) bprintf(B, "flow_remove_path(rec, path, %d);\n", np);
        else bprintf(B, "flow_set_path(cx, rec, path, %d, t%d);\n", np, v);
        bputs(B, "}\n");
    }
}

static char *gen_steps(E *e, IrStep *const *steps, int n);

/* A typed variant's function: typed_begin opens its body (the typed record's compilation on);
 * typed_end closes it, writing it with head when every expression compiled the typed way (1), or
 * dropping it (0) when one needs what the typed record cannot give (the generic variant serves). */
static int typed_begin(E *e, Buf *body) {
    e->typed = 1;
    e->typed_fail = 0;
    e->ntvars = 0;
    return begin_fn(e, body);
}

static int typed_end(E *e, Buf *body, const char *head, Span span) {
    e->typed = 0;
    e->ntvars = 0;
    if (e->typed_fail) {
        free(body->p);
        e->body = NULL;
        return 0;
    }
    end_fn(e, body, head, span);
    return 1;
}

/* The typed variant of a filter or an import's map (e->typed_root set): written, and its name put
 * in name, only when it needs nothing the typed record cannot give; else name stays "NULL". */
static void gen_typed_fn(E *e, const IrStep *st, char *name) {
    strcpy(name, "NULL");
    if (!e->typed_root) return;
    if (st->kind != STEP_FILTER && !(st->kind == STEP_IMPORT && st->map)) return;
    Buf body;
    int id = typed_begin(e, &body);
    char head[160];
    if (st->kind == STEP_FILTER) {
        int v = gen(e, st->cond);
        bprintf(&body, "int keep = flow_truth(cx, t%d, \"the filter\");\nreturn FLOW_FAILED(cx) ? -1 : keep;\n", v);
        snprintf(head, sizeof head, "static int tfn%d(FlowCtx *cx, const FlowTSlot *rec)", id);
        snprintf(name, 64, "tfn%d", id);
    } else {
        e->in_map = 1;
        e->map_path[0] = 0;
        bputs(&body, "flow_tp_open(ob, '{');\n");
        gen_map_print(e, st->map);
        bputs(&body, "flow_tp_close(ob, '}');\nreturn FLOW_FAILED(cx) || ob->oom ? -1 : 0;\n");
        e->in_map = 0;
        snprintf(head, sizeof head, "static int tmap%d(FlowCtx *cx, const FlowTSlot *rec, FlowBuf *ob)", id);
        snprintf(name, 64, "tmap%d", id);
    }
    if (!typed_end(e, &body, head, st->kind == STEP_FILTER ? st->span : st->map->span)) strcpy(name, "NULL");
}

/* The typed variant of an import's map that gives its entries as values (flow.h, FlowTOut) for
 * destinations that bind them (SQL): written when every entry is a scalar (no nested block, no
 * `each`) and the map needs nothing the typed record cannot give; its name and its entries' names
 * table go in name and names, else both stay "NULL". *ntv: the number of entries. */
static void gen_typed_vals(E *e, const IrStep *st, char *name, char *names, int *ntv) {
    strcpy(name, "NULL");
    strcpy(names, "NULL");
    *ntv = 0;
    if (!e->typed_root || st->kind != STEP_IMPORT || !st->map || !st->map->n) return;
    const IrMap *m = st->map;
    for (int i = 0; i < m->n; i++)
        if (m->entries[i].nested || (m->entries[i].value->kind == IR_EACH && !m->entries[i].override)) return;
    Buf body;
    int id = typed_begin(e, &body);
    e->in_map = 1;
    for (int i = 0; i < m->n; i++) {
        const IrMapEntry *en = &m->entries[i];
        snprintf(e->map_path, sizeof e->map_path, "%s", en->name);
        bputs(B, "{\n");
        if (en->when) gen_if(e, en->when, 0, " {\n");
        int v = gen_entry_value(e, en);
        bprintf(B, "if (FLOW_FAILED(cx)) return -1;\nflow_tv_put(ov, %d, t%d);\n", i, v);
        if (en->when) bputs(B, "}\n");
        bputs(B, "if (FLOW_FAILED(cx)) return -1;\n}\n");
    }
    bputs(B, "return FLOW_FAILED(cx) || ov->bad ? -1 : 0;\n");
    e->map_path[0] = 0;
    e->in_map = 0;
    char head[160];
    snprintf(head, sizeof head, "static int tvmap%d(FlowCtx *cx, const FlowTSlot *rec, FlowTOut *ov)", id);
    if (!typed_end(e, &body, head, st->map->span)) return;
    snprintf(name, 64, "tvmap%d", id);
    snprintf(names, 64, "tvnames%d", id);
    bprintf(&e->out, "static const char *const %s[] = {", names);
    for (int i = 0; i < m->n; i++) {
        bputs(&e->out, i ? ", " : " ");
        bstr(&e->out, m->entries[i].name, strlen(m->entries[i].name));
    }
    bputs(&e->out, " };\n\n");
    *ntv = m->n;
}

static void gen_step_fns(E *e, const IrStep *st, char *fnname, char *mapname, char *respname, char *settings, char *type) {
    strcpy(fnname, "NULL"); strcpy(mapname, "NULL"); strcpy(respname, "NULL"); strcpy(type, "NULL");
    char *sa = gen_settings(e, st->settings, st->nsettings, "st");
    strcpy(settings, sa);
    free(sa);
    if (st->declared) gen_type(e, st->declared, type, 64);
    Buf body;
    char head[160];
    switch (st->kind) {
    case STEP_FILTER: {
        int id = begin_fn(e, &body);
        int v = gen(e, st->cond);
        bprintf(&body, "int keep = flow_truth(cx, t%d, \"the filter\");\nreturn FLOW_FAILED(cx) ? -1 : keep;\n", v);
        snprintf(fnname, 64, "fn%d", id);
        snprintf(head, sizeof head, "static int fn%d(FlowCtx *cx, cJSON *rec)", id);
        end_fn(e, &body, head, st->span);
        break;
    }
    case STEP_TRANSFORM: {
        int id = begin_fn(e, &body);
        gen_assign_stmts(e, st->assigns, st->nassigns);
        bputs(&body, "return FLOW_FAILED(cx) ? -1 : 0;\n");
        snprintf(fnname, 64, "fn%d", id);
        snprintf(head, sizeof head, "static int fn%d(FlowCtx *cx, cJSON *rec)", id);
        end_fn(e, &body, head, st->span);
        break;
    }
    case STEP_IMPORT:
        if (st->map) {
            int id = begin_fn(e, &body);
            e->in_map = 1;
            bputs(&body, "cJSON *out = cJSON_CreateObject();\n");
            gen_map_into(e, st->map, "out");
            bputs(&body, "(void)updating;\nif (FLOW_FAILED(cx)) { cJSON_Delete(out); return NULL; }\nreturn out;\n");
            e->in_map = 0;
            snprintf(mapname, 64, "map%d", id);
            snprintf(head, sizeof head, "static cJSON *map%d(FlowCtx *cx, cJSON *rec, int updating)", id);
            end_fn(e, &body, head, st->map->span);
        }
        if (st->response) {
            int id = begin_fn(e, &body);
            gen_assign_stmts(e, st->response, st->nresponse);
            bputs(&body, "return FLOW_FAILED(cx) ? -1 : 0;\n");
            snprintf(respname, 64, "fn%d", id);
            snprintf(head, sizeof head, "static int fn%d(FlowCtx *cx, cJSON *rec)", id);
            end_fn(e, &body, head, st->span);
        }
        break;
    default: break;
    }
}

typedef struct StepNames { char fn[64], map[64], resp[64], settings[64], type[64], arms[64], tfn[64], tmap[64], tvmap[64], tvnames[64]; int map_existing, ntv; } StepNames;

static char *gen_steps(E *e, IrStep *const *steps, int n) {
    StepNames *nm = calloc((size_t)(n ? n : 1), sizeof(StepNames));
    if (!nm) abort();
    for (int i = 0; i < n; i++) {
        const IrStep *st = steps[i];
        e->map_existing = 0;
        gen_step_fns(e, st, nm[i].fn, nm[i].map, nm[i].resp, nm[i].settings, nm[i].type);
        nm[i].map_existing = e->map_existing;
        strcpy(nm[i].tfn, "NULL");
        strcpy(nm[i].tmap, "NULL");
        strcpy(nm[i].tvmap, "NULL");
        strcpy(nm[i].tvnames, "NULL");
        /* the typed record holds while the steps only read it: filters, and imports without a
         * response mapping; an import that looks up `existing` is mapped the generic way */
        if (st->kind == STEP_FILTER) gen_typed_fn(e, st, nm[i].tfn);
        else if (st->kind == STEP_IMPORT && !st->response && !nm[i].map_existing) {
            gen_typed_fn(e, st, nm[i].tmap);
            gen_typed_vals(e, st, nm[i].tvmap, nm[i].tvnames, &nm[i].ntv);
        } else if (st->kind != STEP_EXPORT || i > 0) e->typed_root = NULL;
        if (st->kind == STEP_IMPORT && st->response) e->typed_root = NULL;
        const Type *typed_root = e->typed_root;
        e->typed_root = NULL;   /* branch arms: the generic way */
        strcpy(nm[i].arms, "NULL");
        if (st->kind == STEP_BRANCH) {
            char **armsteps = calloc((size_t)(st->narms ? st->narms : 1), sizeof(char *));
            char (*conds)[64] = calloc((size_t)(st->narms ? st->narms : 1), 64);
            if (!armsteps || !conds) abort();
            for (int a = 0; a < st->narms; a++) {
                armsteps[a] = gen_steps(e, st->arms[a].steps, st->arms[a].nsteps);
                strcpy(conds[a], "NULL");
                if (st->arms[a].cond) {
                    Buf body;
                    int id = begin_fn(e, &body);
                    int v = gen(e, st->arms[a].cond);
                    bprintf(&body, "int yes = flow_truth(cx, t%d, \"the branch condition\");\nreturn FLOW_FAILED(cx) ? -1 : yes;\n", v);
                    snprintf(conds[a], 64, "fn%d", id);
                    char head[128];
                    snprintf(head, sizeof head, "static int fn%d(FlowCtx *cx, cJSON *rec)", id);
                    end_fn(e, &body, head, st->arms[a].span);
                }
            }
            snprintf(nm[i].arms, 64, "arms%d", e->fn++);
            bprintf(&e->out, "static const FlowArmDef %s[] = {\n", nm[i].arms);
            for (int a = 0; a < st->narms; a++) {
                bputs(&e->out, "    { ");
                bstr(&e->out, st->arms[a].name, strlen(st->arms[a].name));
                bprintf(&e->out, ", %s, %s, %d },\n", conds[a], armsteps[a], st->arms[a].nsteps);
                free(armsteps[a]);
            }
            if (!st->narms) bputs(&e->out, "    { NULL, NULL, NULL, 0 },\n");
            bputs(&e->out, "};\n\n");
            free(armsteps);
            free(conds);
        }
        e->typed_root = typed_root;
    }
    char *arr = malloc(64);
    if (!arr) abort();
    snprintf(arr, 64, "steps%d", e->fn++);
    bprintf(&e->out, "static const FlowStepDef %s[] = {\n", arr);
    static const char *const kinds[] = {
#define X(k, s) "FLOW_STEP_" #k,
        IR_STEP_KINDS(X)
#undef X
    };
    for (int i = 0; i < n; i++) {
        const IrStep *st = steps[i];
        bprintf(&e->out, "    { %s, %d, ", kinds[st->kind], st->id);
        if (st->name) bstr(&e->out, st->name, strlen(st->name)); else bputs(&e->out, "NULL");
        const char *hk[HOOK_COUNT];
        hook_names(st->hooks, st->nhooks, hk);
        bprintf(&e->out, ", %d, %s, %d, %s%s, %s, %d, %s, %d, %s, %s, %d, %s, %s, %s, %s, %d, %s, %s, %s, %s, %d },\n", st->conn ? conn_index(e, st->conn) : -1,
                nm[i].settings, st->nsettings, strcmp(nm[i].type, "NULL") ? "&" : "", nm[i].type, nm[i].fn, st->all_matching,
                nm[i].arms, st->narms, nm[i].map, nm[i].resp, line_of(e, st->span),
                hk[HOOK_pre_map], hk[HOOK_post_map], hk[HOOK_post_submit], hk[HOOK_post_response_map], nm[i].map_existing,
                nm[i].tfn, nm[i].tmap, nm[i].tvmap, nm[i].tvnames, nm[i].ntv);
    }
    if (!n) bputs(&e->out, "    { FLOW_STEP_FILTER, 0, NULL, -1, NULL, 0, NULL, NULL, 0, NULL, 0, NULL, NULL, 0 },\n");
    bputs(&e->out, "};\n\n");
    free(nm);
    return arr;
}

/* The literal text of a param's value: -P at build time, else its constant default. */
static const char *param_text(E *e, const IrParam *pr, char *buf, size_t cap) {
    for (int i = 0; i < e->nparams; i++) if (strcmp(e->params[i].name, pr->name) == 0) return e->params[i].value;
    const IrExpr *d = pr->def;
    if (!d) return NULL;
    switch (d->kind) {
    case IR_STR: return d->str;
    case IR_INT: snprintf(buf, cap, "%lld", (long long)d->ival); return buf;
    case IR_NUM: snprintf(buf, cap, "%.17g", d->num); return buf;
    case IR_BOOL: return d->ival ? "true" : "false";
    case IR_DURATION: snprintf(buf, cap, "%lld", (long long)d->ival); return buf;
    default:
        ERR(d->span, "the default of param `%s` must be a constant for now", pr->name);
        return NULL;
    }
}

/* Hook sources are compiled into the same translation unit: each file once, by its absolute path,
 * resolved relative to the .flow file by hook_resolve (a regular file inside the .flow file's tree). */
static void gen_hook_includes(E *e, const IrProgram *p) {
    char (*seen)[PATH_MAX] = calloc(64, PATH_MAX);
    if (!seen) abort();
    int nseen = 0;
    for (int f = 0; f < p->nflows; f++) {
        const IrFlow *fl = p->flows[f];
        for (int s = -1; s < fl->nall; s++) {
            const IrHook *hs = s < 0 ? fl->hooks : fl->all[s]->hooks;
            int nh = s < 0 ? fl->nhooks : fl->all[s]->nhooks;
            for (int i = 0; i < nh; i++) {
                const IrExpr *v = hs[i].value;
                if (!v || v->kind != IR_CALL || v->nkids < 2 || !v->kids[0] || v->kids[0]->kind != IR_STR) continue;
                char path[PATH_MAX], why[PATH_MAX + 512];
                if (hook_resolve(p->src->name, v->kids[0]->str, path, sizeof path, why, sizeof why) < 0) {
                    ERR(v->kids[0]->span, "%s", why);
                    continue;
                }
                int dup = 0;
                for (int k = 0; k < nseen; k++) dup |= strcmp(seen[k], path) == 0;
                if (dup || nseen == 64) continue;
                snprintf(seen[nseen++], PATH_MAX, "%s", path);
                bputs(&e->out, "#include ");
                bstr(&e->out, path, strlen(path));
                bputs(&e->out, "\n");
            }
        }
    }
    if (nseen) bputs(&e->out, "\n");
    free(seen);
}

static int cmp_keys(const void *a, const void *b) {
    const char *const *x = a, *const *y = b;
    return strcmp(x[0], y[0]);
}

int emit_c(FILE *out, Diags *diags, const IrProgram *p, const EmitParam *params, int nparams, int with_main) {
    E es, *e = &es;
    memset(e, 0, sizeof *e);
    e->d = diags; e->src = p->src; e->p = p; e->params = params; e->nparams = nparams;
    e->secret_param = calloc((size_t)p->nparams + 1, sizeof *e->secret_param);
    if (!e->secret_param) abort();
    emit_secret_params(p, e->secret_param);
    bprintf(&e->out, "/* Generated by flowc %s from ", FLOWC_VERSION);
    for (const char *c = p->src->name; *c; c++)   /* inside a comment: keep it printable, never end it */
        bputc(&e->out, (*c >= 0x20 && *c < 0x7f && *c != '*') ? *c : '_');
    bputs(&e->out, ". Do not edit. */\n#include \"flow.h\"\n#include <stdint.h>\n\n" TPL_MAX_STEPS_DEF);
    gen_hook_includes(e, p);
    /* static tables, sorted for binary search */
    for (int i = 0; i < p->ntables; i++) {
        const IrExpr *v = p->tables[i]->value;
        bprintf(&e->out, "static const FlowTableEntry table%d[] = {\n", i);
        const char **pairs = calloc((size_t)(v->nkids ? v->nkids : 1) * 2, sizeof(char *));
        if (!pairs) abort();
        for (int k = 0; k < v->nkids; k++) { pairs[2 * k] = v->keys[k]; pairs[2 * k + 1] = (const char *)v->kids[k]; }
        qsort(pairs, (size_t)v->nkids, 2 * sizeof(char *), cmp_keys);
        for (int k = 0; k < v->nkids; k++) {
            const IrExpr *x = (const IrExpr *)pairs[2 * k + 1];
            bputs(&e->out, "    { ");
            bstr(&e->out, pairs[2 * k], strlen(pairs[2 * k]));
            if (x->kind == IR_STR) { bputs(&e->out, ", "); bstr(&e->out, x->str, x->slen); bputs(&e->out, ", 0, FLOW_STRING },\n"); }
            else if (x->kind == IR_NUM || x->kind == IR_BOOL)
                bprintf(&e->out, ", NULL, %.17g, %s },\n", x->kind == IR_NUM ? x->num : (double)x->ival,
                        x->kind == IR_NUM ? "FLOW_NUMBER" : "FLOW_BOOL");
            else bprintf(&e->out, ", \"%lld\", %.17g, FLOW_INT },\n", (long long)x->ival, (double)x->ival);   /* exact digits */
        }
        if (!v->nkids) bputs(&e->out, "    { \"\", NULL, 0, FLOW_NULL },\n");
        bputs(&e->out, "};\n\n");
        free(pairs);
    }
    /* params */
    bputs(&e->out, "static const FlowParamDef params[] = {\n");
    for (int i = 0; i < p->nparams; i++) {
        char buf[64];
        const char *txt = param_text(e, p->params[i], buf, sizeof buf);
        for (int k = 0; k < e->nparams; k++)   /* a -P / --env value: read as the executable will read it */
            if (strcmp(e->params[k].name, p->params[i]->name) == 0) {
                const Type *t = p->params[i]->type;
                FlowParamDef pd = { p->params[i]->name, kind_enum(t), t ? t->nullable : 0, NULL, 0, NULL, 0 };
                FlowVal v;
                cJSON *own = NULL;
                char why[300];
                if (flow_param_parse(&pd, e->params[k].value, &v, &own, why, sizeof why))
                    ERR(p->params[i]->name_span, "param `%s`: its -P / --env value %s%s", p->params[i]->name,
                        e->secret_param[i] ? "is not valid for its type" : "is not valid: ",
                        e->secret_param[i] ? " (it is a secret: not shown)" : why);
                cJSON_Delete(own);
            }
        bputs(&e->out, "    { ");
        bstr(&e->out, p->params[i]->name, strlen(p->params[i]->name));
        bprintf(&e->out, ", %s, %d, ", kind_of(p->params[i]->type), p->params[i]->type ? p->params[i]->type->nullable : 0);
        if (e->secret_param[i]) {   /* the text masked, never the literal */
            bputs(&e->out, "NULL, 1, ");
            if (txt) { bmasked(&e->out, txt, strlen(txt)); bprintf(&e->out, ", %zu", strlen(txt)); }
            else bputs(&e->out, "NULL, 0");
        } else if (txt) {
            bstr(&e->out, txt, strlen(txt));
            bputs(&e->out, ", 0, NULL, 0");
        } else bputs(&e->out, "NULL, 0, NULL, 0");
        bputs(&e->out, " },\n");
    }
    if (!p->nparams) bputs(&e->out, "    { NULL, FLOW_NULL, 0, NULL, 0, NULL, 0 },\n");
    bputs(&e->out, "};\n\n");
    /* connections */
    char **conn_settings = calloc((size_t)(p->nconns ? p->nconns : 1), sizeof(char *));
    if (!conn_settings) abort();
    for (int i = 0; i < p->nconns; i++) conn_settings[i] = gen_settings(e, p->conns[i]->settings, p->conns[i]->nsettings, "conn");
    const char *const *kinds = flow_conn_kinds;
    bputs(&e->out, "static const FlowConnDef conns[] = {\n");
    for (int i = 0; i < p->nconns; i++) {
        bputs(&e->out, "    { ");
        bstr(&e->out, p->conns[i]->name, strlen(p->conns[i]->name));
        bprintf(&e->out, ", \"%s\", %s, %d },\n", p->conns[i]->kind >= 0 ? kinds[p->conns[i]->kind] : "?", conn_settings[i],
                p->conns[i]->nsettings);
        free(conn_settings[i]);
    }
    if (!p->nconns) bputs(&e->out, "    { NULL, NULL, NULL, 0 },\n");
    bputs(&e->out, "};\n\n");
    free(conn_settings);
    /* flows */
    char **flow_steps = calloc((size_t)(p->nflows ? p->nflows : 1), sizeof(char *));
    char **flow_sets = calloc((size_t)(p->nflows ? p->nflows : 1), sizeof(char *));
    if (!flow_steps || !flow_sets) abort();
    for (int i = 0; i < p->nflows; i++) {
        e->flow = p->flows[i];
        e->flow_index = i;
        flow_sets[i] = gen_settings(e, p->flows[i]->settings, p->flows[i]->nsettings, "flow");
        const IrFlow *fl = p->flows[i];
        const Type *dt = fl->nsteps && fl->steps[0]->kind == STEP_EXPORT ? fl->steps[0]->declared : NULL;
        e->typed_root = dt && dt->kind == TY_RECORD ? dt : NULL;
        flow_steps[i] = gen_steps(e, p->flows[i]->steps, p->flows[i]->nsteps);
        e->typed_root = NULL;
    }
    bputs(&e->out, "static const FlowFlowDef flows[] = {\n");
    for (int i = 0; i < p->nflows; i++) {
        bputs(&e->out, "    { ");
        bstr(&e->out, p->flows[i]->name, strlen(p->flows[i]->name));
        int nl = 0;
        for (int s = 0; s < p->flows[i]->nall; s++) nl += p->flows[i]->all[s]->kind == STEP_LOOKUP;
        const char *hk[HOOK_COUNT];
        hook_names(p->flows[i]->hooks, p->flows[i]->nhooks, hk);
        bprintf(&e->out, ", %s, %d, %s, %d, %d, %d, %s, %s, %s, %s, %s },\n", flow_steps[i], p->flows[i]->nsteps, flow_sets[i],
                p->flows[i]->nsettings, nl, p->flows[i]->nall, hk[HOOK_pre_save_page], hk[HOOK_pre_map], hk[HOOK_post_map],
                hk[HOOK_post_submit], hk[HOOK_post_response_map]);
        free(flow_steps[i]);
        free(flow_sets[i]);
    }
    if (!p->nflows) bputs(&e->out, "    { NULL, NULL, 0, NULL, 0, 0, 0 },\n");
    bputs(&e->out, "};\n\n");
    free(flow_steps);
    free(flow_sets);
    /* env blocks, for the executable's --env NAME: each value's text as a -P would give it */
    for (int i = 0; i < p->nenvs; i++) {
        const IrEnv *env = p->envs[i];
        bprintf(&e->out, "static const FlowEnvValue env_values%d[] = {\n", i);
        int n = 0;
        for (int k = 0; k < env->nsettings; k++) {
            int pi = -1;
            for (int j = 0; j < p->nparams; j++) if (strcmp(p->params[j]->name, env->settings[k].name) == 0) pi = j;
            if (pi < 0) continue;
            const IrExpr *v = env->settings[k].value;
            char buf[64];
            const char *text = v->kind == IR_STR ? v->str : v->kind == IR_BOOL ? (v->ival ? "true" : "false") : NULL;
            if (v->kind == IR_INT || v->kind == IR_DURATION) { snprintf(buf, sizeof buf, "%lld", (long long)v->ival); text = buf; }
            else if (v->kind == IR_NUM) { snprintf(buf, sizeof buf, "%.17g", v->num); text = buf; }
            bprintf(&e->out, "    { %d, ", pi);
            if (text && e->secret_param[pi]) {   /* masked, as a secret param's default is */
                bputs(&e->out, "NULL, ");
                bmasked(&e->out, text, strlen(text));
                bprintf(&e->out, ", %zu },\n", strlen(text));
            } else if (text) {
                bstr(&e->out, text, strlen(text));
                bputs(&e->out, ", NULL, 0 },\n");
            } else bputs(&e->out, "NULL, NULL, 0 },\n");
            n++;
        }
        if (!n) bputs(&e->out, "    { -1, NULL, NULL, 0 },\n");
        bputs(&e->out, "};\n");
        (void)n;
    }
    bputs(&e->out, "static const FlowEnvDef envs[] = {\n");
    for (int i = 0; i < p->nenvs; i++) {
        int n = 0;
        for (int k = 0; k < p->envs[i]->nsettings; k++)
            for (int j = 0; j < p->nparams; j++) n += strcmp(p->params[j]->name, p->envs[i]->settings[k].name) == 0;
        bputs(&e->out, "    { ");
        bstr(&e->out, p->envs[i]->name, strlen(p->envs[i]->name));
        bprintf(&e->out, ", env_values%d, %d },\n", i, n);
    }
    if (!p->nenvs) bputs(&e->out, "    { NULL, NULL, 0 },\n");
    bputs(&e->out, "};\n\n");
    bputs(&e->out, "const FlowProgram flow_program = { ");
    if (p->name) bstr(&e->out, p->name, strlen(p->name)); else bputs(&e->out, "\"flow\"");
    bputs(&e->out, ", ");
    if (p->version) bstr(&e->out, p->version, strlen(p->version)); else bputs(&e->out, "\"0.0.0\"");
    bputs(&e->out, ", ");
    bstr(&e->out, p->src->name, strlen(p->src->name));
    bprintf(&e->out, ", params, %d, conns, %d, flows, %d, envs, %d, ", p->nparams, p->nconns, p->nflows, p->nenvs);
    if (p->environment) bstr(&e->out, p->environment, strlen(p->environment)); else bputs(&e->out, "NULL");
    bputs(&e->out, " };\n");
    if (with_main)
        bputs(&e->out, "\nint main(int argc, char **argv) { return flow_main(&flow_program, argc, argv); }\n");
    if (e->out.p) fwrite(e->out.p, 1, e->out.n, out);
    free(e->out.p);
    free(e->vars);
    free(e->secret_param);
    return e->errors;
}

/* ---- flowc eval and flowc test: single expressions as functions ---- */

static void emit_header(E *e, const char *what) {
    bprintf(&e->out, "/* Generated by flowc %s for %s. Do not edit. */\n#include \"flow.h\"\n#include <stdint.h>\n\n", FLOWC_VERSION, what);
    bputs(&e->out, TPL_MAX_STEPS_DEF);
}

int emit_c_expr(FILE *out, Diags *diags, const Source *src, const IrExpr *x, const char *name, EmitEscape escape) {
    E es, *e = &es;
    IrProgram p;
    memset(e, 0, sizeof *e);
    memset(&p, 0, sizeof p);
    p.src = src;
    e->d = diags; e->src = src; e->p = &p;
    e->tpl_esc = escape == EMIT_ESC_JSON ? TPL_JSON : escape == EMIT_ESC_HTML ? TPL_HTML : TPL_TEXT;
    emit_header(e, "flowc eval");
    Buf body;
    begin_fn(e, &body);
    int v = gen(e, x);
    bprintf(&body, "(void)cx; (void)rec;\nreturn t%d;\n", v);
    char head[256];
    snprintf(head, sizeof head, "FlowVal %s(FlowCtx *cx, cJSON *rec)", name);
    end_fn(e, &body, head, x->span);
    if (e->out.p) fwrite(e->out.p, 1, e->out.n, out);
    free(e->out.p);
    free(e->vars);
    return e->errors;
}

/* One test function: FlowVal flow_test_T_WHAT(FlowCtx *cx, cJSON *names). */
static void test_fn(E *e, const IrExpr *x, int t, const char *what, int k) {
    Buf body;
    begin_fn(e, &body);
    bputs(&body, "cJSON *rec = NULL; (void)rec; (void)names;\n");
    int v = gen(e, x);
    bprintf(&body, "return t%d;\n", v);
    char head[160];
    snprintf(head, sizeof head, "FlowVal flow_test_%d_%s_%d(FlowCtx *cx, cJSON *names)", t, what, k);
    end_fn(e, &body, head, x->span);
}

int emit_c_tests(FILE *out, Diags *diags, const IrProgram *p) {
    E es, *e = &es;
    memset(e, 0, sizeof *e);
    e->d = diags; e->src = p->src; e->p = p;
    e->test_names = 1;
    bputs(&e->out, "\n/* flowc test: the givens and expectations of the test blocks */\n");
    for (int t = 0; t < p->ntests; t++) {
        const IrTest *ts = p->tests[t];
        for (int g = 0; g < ts->ngivens; g++) {
            const IrExpr *v = ts->givens[g].value;
            if (v && !(v->kind == IR_CALL && v->fn && v->fn->ctor)) test_fn(e, v, t, "given", g);
        }
        for (int x = 0; x < ts->nexpects; x++) {
            const IrExpr *v = ts->expects[x];
            test_fn(e, v, t, "expect", x);
            if (v->kind == IR_BINARY && v->a && v->b) {   /* its two sides, printed when it fails */
                test_fn(e, v->a, t, "actual", x);
                test_fn(e, v->b, t, "expected", x);
            }
        }
    }
    if (e->out.p) fwrite(e->out.p, 1, e->out.n, out);
    free(e->out.p);
    free(e->vars);
    return e->errors;
}
