/* lsp_complete.c — the language server's completion. The context comes from the text before the
 * cursor (what is being typed seldom parses): inside a string's `{{ }}` the template helpers; after
 * `NAME.` the fields of the record type there (the step's incoming type, from the checked program of
 * the text without that `.`), a lookup's result, `param.` names or context fields; at the start of an
 * item in a connection's or step's block that kind's settings with their types; after `setting =` a
 * word setting's words or a constructor setting's constructors; after `branch` its modes; elsewhere
 * the built-in functions. Names, types and doc text come from the one tables: stdlib/builtins.def,
 * runtime/connectors.def, lower.c's template helpers. */
#include "lsp_complete.h"
#include "builtins.h"
#include "engine.h"
#include "frontend.h"
#include "lower.h"
#include "lsp_query.h"
#include "types.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* DOC lines of runtime/connectors.def */
typedef struct { const char *kind, *name, *text; } SetDoc;
static const SetDoc set_docs[] = {
#define CONN(k)
#define SET(k, w, n, t, r, fl)
#define RANGE(n, lo, hi)
#define DOC(k, n, text) { #k, #n, text },
#include "connectors.def"
#undef CONN
#undef SET
#undef RANGE
#undef DOC
};

const char *lsp_setting_doc(const char *kind, const char *name) {
    const char *any = NULL;
    for (size_t i = 0; i < sizeof set_docs / sizeof set_docs[0]; i++) {
        if (strcmp(set_docs[i].name, name) != 0) continue;
        if (kind && strcmp(set_docs[i].kind, kind) == 0) return set_docs[i].text;
        if (strcmp(set_docs[i].kind, "any") == 0) any = set_docs[i].text;
    }
    return any;
}

/* LSP CompletionItemKind */
enum { CK_FUNCTION = 3, CK_FIELD = 5, CK_VARIABLE = 6, CK_PROPERTY = 10, CK_KEYWORD = 14, CK_ENUM_MEMBER = 20 };

typedef struct Ctx {
    const char *text;
    size_t len;
    uint32_t off, word;      /* the cursor; the start of the word being typed */
    const char *prefix;      /* text[word, off) */
    size_t plen;
    cJSON *items;
} Ctx;

static int ident(int c) { return isalnum(c) || c == '_'; }

static void item(Ctx *c, const char *label, int kind, const char *detail, const char *doc) {
    if (strncmp(label, c->prefix, c->plen) != 0) return;
    for (cJSON *it = c->items->child; it; it = it->next)     /* one item per label */
        if (strcmp(cJSON_GetObjectItemCaseSensitive(it, "label")->valuestring, label) == 0) return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "label", label);
    cJSON_AddNumberToObject(j, "kind", kind);
    if (detail) cJSON_AddStringToObject(j, "detail", detail);
    if (doc) cJSON_AddStringToObject(j, "documentation", doc);
    cJSON_AddItemToArray(c->items, j);
}

static void builtin_items(Ctx *c, int ctors, const char *result) {
    for (int i = 0; i < bi_count(); i++) {
        const Builtin *b = bi_at(i);
        if (b->ctor != ctors || (result && strcmp(b->result, result) != 0)) continue;
        char detail[300];
        snprintf(detail, sizeof detail, "%s(%s)%s%s", b->name, b->params_text, b->ctor ? "" : ": ", b->ctor ? "" : b->result);
        item(c, b->name, CK_FUNCTION, detail, b->doc);
    }
}

/* ---- a forward scan of the text up to the cursor: strings, comments, open braces ---- */
typedef struct Scan {
    int in_string, in_comment;
    uint32_t string_start;
    uint32_t *open; int nopen, cap;     /* positions of the `{` not closed yet */
} Scan;

static void scan(const char *t, uint32_t upto, Scan *s) {
    memset(s, 0, sizeof *s);
    for (uint32_t i = 0; i < upto; i++) {
        char ch = t[i];
        if (s->in_comment == 1) { if (ch == '\n') s->in_comment = 0; continue; }
        if (s->in_comment == 2) { if (ch == '*' && i + 1 < upto && t[i + 1] == '/') { s->in_comment = 0; i++; } continue; }
        if (s->in_string) {
            if (ch == '\\') i++;
            else if (ch == '"' || ch == '\n') s->in_string = 0;
            continue;
        }
        if (ch == '"') { s->in_string = 1; s->string_start = i; }
        else if (ch == '/' && i + 1 < upto && t[i + 1] == '/') s->in_comment = 1;
        else if (ch == '/' && i + 1 < upto && t[i + 1] == '*') { s->in_comment = 2; i++; }
        else if (ch == '{') {
            if (s->nopen == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 32;
                s->open = realloc(s->open, sizeof(uint32_t) * (size_t)s->cap);
                if (!s->open) abort();
            }
            s->open[s->nopen++] = i;
        } else if (ch == '}' && s->nopen) s->nopen--;
    }
}

/* the words of the header before the `{` at b: the text from the last `{`, `}`, `;` or line start */
#define MAXW 12
static int header_words(const char *t, uint32_t b, char words[MAXW][64]) {
    uint32_t a = b;
    while (a > 0 && t[a - 1] != '\n' && t[a - 1] != '{' && t[a - 1] != '}' && t[a - 1] != ';') a--;
    int n = 0;
    for (uint32_t i = a; i < b && n < MAXW;) {
        if (ident((unsigned char)t[i])) {
            uint32_t s = i;
            while (i < b && ident((unsigned char)t[i])) i++;
            snprintf(words[n++], 64, "%.*s", (int)(i - s), t + s);
        } else if (t[i] == '=' || t[i] == ':' ) { snprintf(words[n++], 64, "%c", t[i]); i++; }
        else i++;
    }
    return n;
}

/* the kind of connection NAME: `connection NAME = KIND` anywhere in the text */
static const char *conn_kind(const char *t, size_t len, const char *name, char out[64]) {
    if (strcmp(name, "webhook") == 0) return "webhook";
    size_t nl = strlen(name);
    for (const char *p = t; (p = strstr(p, "connection")) != NULL; p += 10) {
        if (p > t && ident((unsigned char)p[-1])) continue;
        const char *q = p + 10;
        while (*q == ' ' || *q == '\t') q++;
        if (strncmp(q, name, nl) != 0 || ident((unsigned char)q[nl])) continue;
        q += nl;
        while (*q == ' ' || *q == '\t') q++;
        if (*q++ != '=') continue;
        while (*q == ' ' || *q == '\t') q++;
        size_t k = 0;
        while (ident((unsigned char)q[k]) && k < 63) k++;
        snprintf(out, 64, "%.*s", (int)k, q);
        return out;
    }
    return NULL;
}

/* What block the `{` at b opens: a connection's or a step's settings (kind and place), or a flow. */
typedef enum { BLK_OTHER, BLK_SETTINGS, BLK_FLOW } BlockKind;
static BlockKind block_at(const Ctx *c, uint32_t b, const char **kind, FlowSettingPlace *place, char buf[64]) {
    char w[MAXW][64];
    int n = header_words(c->text, b, w);
    if (n >= 4 && strcmp(w[0], "connection") == 0 && strcmp(w[2], "=") == 0) {
        snprintf(buf, 64, "%s", w[3]);
        *kind = buf;
        *place = FLOW_AT_CONN;
        return BLK_SETTINGS;
    }
    if (n >= 2 && strcmp(w[0], "flow") == 0) return BLK_FLOW;
    for (int i = 0; i + 1 < n; i++) {
        int from = strcmp(w[i], "from") == 0, into = strcmp(w[i], "into") == 0;
        if (!from && !into) continue;
        *place = into ? FLOW_AT_IMPORT : strcmp(w[0], "lookup") == 0 ? FLOW_AT_LOOKUP : FLOW_AT_EXPORT;
        *kind = conn_kind(c->text, c->len, w[i + 1], buf);
        return *kind ? BLK_SETTINGS : BLK_OTHER;
    }
    return BLK_OTHER;
}

static void setting_items(Ctx *c, const char *kind, FlowSettingPlace place) {
    for (int i = 0; i < flow_nsetting_specs; i++) {
        const FlowSettingSpec *sp = &flow_setting_specs[i];
        if (sp->at != place || strcmp(sp->kind, kind) != 0) continue;
        char detail[200];
        snprintf(detail, sizeof detail, "%s%s%s", sp->ctype, sp->required ? ", required" : "", sp->secret ? ", secret" : "");
        item(c, sp->name, CK_PROPERTY, detail, lsp_setting_doc(kind, sp->name));
    }
}

/* The values a setting of type spec takes: its words, or the constructors of its ctor kind. */
static int value_items(Ctx *c, const char *spec) {
    if (!spec) return 0;
    if (strncmp(spec, "word:", 5) == 0) {
        char buf[200];
        snprintf(buf, sizeof buf, "%s", spec + 5);
        for (char *save = NULL, *w = strtok_r(buf, "|", &save); w; w = strtok_r(NULL, "|", &save))
            item(c, w, CK_ENUM_MEMBER, spec, NULL);
        return 1;
    }
    if (strncmp(spec, "ctor:", 5) == 0) { builtin_items(c, 1, spec); return 1; }
    if (strcmp(spec, "bool") == 0) { item(c, "true", CK_KEYWORD, "bool", NULL); item(c, "false", CK_KEYWORD, "bool", NULL); return 1; }
    return 0;
}

/* ---- members after `a.b.` ---- */
static const IrStep *step_at(const IrProgram *p, uint32_t off) {
    if (!p) return NULL;
    LqHit h;
    lq_find(p, off, &h);
    return h.step;
}

static void type_items(Ctx *c, Arena *ar, const Type *t) {
    if (!t || t->kind != TY_RECORD) return;
    for (int i = 0; i < t->nfields; i++) item(c, t->fields[i].name, CK_FIELD, ty_str(ar, t->fields[i].type), NULL);
}

/* the type of the each variable `name` whose each holds off (the innermost) */
typedef struct { const char *name; uint32_t off; const Type *t; uint32_t width; } EachVar;
static void each_var(const IrExpr *x, const IrStep *step, void *ud) {
    EachVar *e = ud;
    if (x->kind != IR_EACH || !x->var || !x->var->type || strcmp(x->var->name, e->name) != 0) return;
    if (!lq_contains(x->span, e->off) || (e->t && x->span.end - x->span.start >= e->width)) return;
    e->t = x->var->type;
    e->width = x->span.end - x->span.start;
}

static void member_items(Ctx *c, const IrProgram *ir, uint32_t dot) {
    /* the chain of names before the dot: a.b.c */
    const char *names[16];
    size_t lens[16];
    int n = 0;
    uint32_t i = dot;
    for (;;) {
        uint32_t e = i;
        while (i > 0 && ident((unsigned char)c->text[i - 1])) i--;
        if (i == e || n == 16) return;
        names[n] = c->text + i;
        lens[n++] = e - i;
        if (i == 0 || c->text[i - 1] != '.') break;
        i--;
    }
    /* names[n-1] is the root */
    char root[64];
    snprintf(root, sizeof root, "%.*s", (int)lens[n - 1], names[n - 1]);
    if (n == 1 && strcmp(root, "param") == 0) {
        for (int k = 0; ir && k < ir->nparams; k++) item(c, ir->params[k]->name, CK_VARIABLE, "param", NULL);
        return;
    }
    int ctx = 0;
    for (int k = 0; k < CTX_COUNT; k++)
        if (n == 1 && strcmp(root, ir_context_roots[k]) == 0) { item(c, ir_context_fields[k], CK_FIELD, root, NULL); ctx = 1; }
    if (ctx) return;
    /* the program of the text without the `.` and what follows it on the word */
    size_t plen = dot + (c->len - c->off);
    char *patched = malloc(plen + 1);
    if (!patched) abort();
    memcpy(patched, c->text, dot);
    memcpy(patched + dot, c->text + c->off, c->len - c->off);
    patched[plen] = 0;
    Source *src = src_from_buffer("<completion>", patched, plen);
    free(patched);
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    const IrStep *st = step_at(r.ir, dot > 0 ? dot - 1 : 0);
    Arena *ar = r.arena;
    if (!st && ir) st = step_at(ir, dot > 0 ? dot - 1 : 0);
    const Type *t = NULL;
    EachVar ev = { root, dot > 0 ? dot - 1 : 0, NULL, 0 };
    if (r.ir || ir) lq_each_expr(r.ir ? r.ir : ir, each_var, &ev);
    if (ev.t) t = ev.t;
    else if (st && strcmp(root, "record") == 0) t = st->in;
    else if (st) {
        /* a lookup of the step's flow: the lookups before it */
        const IrProgram *p = r.ir ? r.ir : ir;
        for (int f = 0; p && f < p->nflows && !t; f++)
            for (int k = 0; k < p->flows[f]->nall; k++) {
                const IrStep *l = p->flows[f]->all[k];
                if (l->kind == STEP_LOOKUP && l->name && strcmp(l->name, root) == 0 && lq_contains(p->flows[f]->span, dot)) {
                    t = l->result;
                    break;
                }
            }
    }
    for (int k = n - 2; k >= 0 && t; k--) {
        char f[64];
        snprintf(f, sizeof f, "%.*s", (int)lens[k], names[k]);
        const TypeField *tf = t->kind == TY_RECORD ? ty_field(t, f) : NULL;
        t = tf ? tf->type : NULL;
    }
    type_items(c, ar, t);
    fe_result_free(&r);
    diag_free(&d);
    src_free(src);
}

cJSON *lspc_complete(const Source *src, const IrProgram *ir, uint32_t off) {
    Ctx c = { src->text, src->len, off, off, NULL, 0, cJSON_CreateArray() };
    if (off > src->len) return c.items;
    while (c.word > 0 && ident((unsigned char)c.text[c.word - 1])) c.word--;
    c.prefix = c.text + c.word;
    c.plen = off - c.word;
    Scan s;
    scan(c.text, c.word, &s);
    int dot = c.word > 0 && c.text[c.word - 1] == '.';
    if (s.in_comment) goto done;
    if (s.in_string) {
        /* a template: the last `{{` of this string not closed by `}}` */
        const char *str = c.text + s.string_start;
        size_t n = c.word - s.string_start;
        const char *open = NULL;
        for (size_t i = 0; i + 1 < n; i++) {
            if (str[i] == '{' && str[i + 1] == '{') open = str + i;
            else if (str[i] == '}' && str[i + 1] == '}') open = NULL;
        }
        if (!open) goto done;
        if (dot) { member_items(&c, ir, c.word - 1); goto done; }
        const char *bi;
        for (int i = 0; lower_template_helper(i, &bi); i++) {
            const Builtin *b = bi ? bi_lookup(bi) : NULL;
            item(&c, lower_template_helper(i, NULL), CK_FUNCTION, bi ? bi : "an operator", b ? b->doc : NULL);
        }
        item(&c, "record", CK_VARIABLE, "the current record", NULL);
        goto done;
    }
    if (dot) { member_items(&c, ir, c.word - 1); goto done; }
    /* what precedes the word */
    uint32_t i = c.word;
    int newline = 0;
    while (i > 0 && (c.text[i - 1] == ' ' || c.text[i - 1] == '\t' || c.text[i - 1] == '\r' || c.text[i - 1] == '\n'))
        if (c.text[--i] == '\n') newline = 1;
    char before = i > 0 ? c.text[i - 1] : '\n';
    const char *kind = NULL;
    FlowSettingPlace place = FLOW_AT_CONN;
    char kbuf[64];
    BlockKind blk = s.nopen ? block_at(&c, s.open[s.nopen - 1], &kind, &place, kbuf) : BLK_OTHER;
    /* `branch |` */
    if (i >= 6 && strncmp(c.text + i - 6, "branch", 6) == 0 && (i == 6 || !ident((unsigned char)c.text[i - 7]))) {
        item(&c, "first_match", CK_ENUM_MEMBER, "branch mode: the first arm whose condition holds (the default)", NULL);
        item(&c, "all_matching", CK_ENUM_MEMBER, "branch mode: every arm whose condition holds", NULL);
        goto done;
    }
    /* `setting = |` */
    if (before == '=' && i >= 2 && !strchr("=!<>", c.text[i - 2])) {
        uint32_t e = i - 1;
        while (e > 0 && (c.text[e - 1] == ' ' || c.text[e - 1] == '\t')) e--;
        uint32_t b = e;
        while (b > 0 && ident((unsigned char)c.text[b - 1])) b--;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(e - b), c.text + b);
        const FlowSettingSpec *sp = blk == BLK_SETTINGS && kind ? flow_setting_spec(kind, place, name) : NULL;
        if (sp && value_items(&c, sp->ctype)) goto done;
        if (blk == BLK_FLOW && strcmp(name, "schedule") == 0) { builtin_items(&c, 1, "ctor:schedule"); goto done; }
        if (blk == BLK_FLOW && strcmp(name, "trigger") == 0) { builtin_items(&c, 1, "ctor:trigger"); goto done; }
        if (blk == BLK_FLOW && strcmp(name, "catch_up") == 0) { value_items(&c, "bool"); goto done; }
    }
    /* the start of an item in a block */
    if ((newline || before == '{' || before == ',' || before == ';') && blk == BLK_SETTINGS && kind) {
        setting_items(&c, kind, place);
        goto done;
    }
    if ((newline || before == '{') && blk == BLK_FLOW) {
        static const char *const words[] = { "export", "lookup", "transform", "filter", "branch", "import", "hook" };
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) item(&c, words[k], CK_KEYWORD, "step", NULL);
        item(&c, "schedule", CK_PROPERTY, "ctor:schedule", "When the flow runs: cron(...), every(...), after(flow) or manual().");
        item(&c, "trigger", CK_PROPERTY, "ctor:trigger", "webhook(path, verify = ...): runs the flow for requests to serve's listener.");
        item(&c, "catch_up", CK_PROPERTY, "bool", "Run once when serve starts if a fire was missed while it was down.");
        goto done;
    }
    /* an expression */
    builtin_items(&c, 0, NULL);
    item(&c, "record", CK_VARIABLE, "the current record", NULL);
    item(&c, "param", CK_VARIABLE, "the integration's params: param.NAME", NULL);
    for (int k = 0; k < CTX_COUNT; k++) item(&c, ir_context_roots[k], CK_VARIABLE, "run context", NULL);
done:
    free(s.open);
    return c.items;
}
