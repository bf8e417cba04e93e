/* lsp.c — `flowc lsp`: the language server. Open documents and their analysis (the front end `flowc
 * check` runs, fe_check, once per change), the LSP lifecycle (initialize, shutdown, exit), the method
 * table, and the answers: diagnostics, code actions (a list of providers), hover, definition, document
 * symbols, formatting (fmt.c) and rename. The wire is lsp_rpc.c, positions and "what is here" are
 * lsp_query.c, completion is lsp_complete.c. */
#include "lsp.h"
#include "builtins.h"
#include "engine.h"
#include "flow.h"
#include "fmt.h"
#include "frontend.h"
#include "ir.h"
#include "automap.h"
#include "lsp_complete.h"
#include "lsp_query.h"
#include "lsp_rpc.h"
#include "types.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- documents ---- */
typedef struct Doc {
    char *uri;
    char *path;               /* the file name diagnostics and hook files go by */
    char *text;
    size_t len;
    Source *src;              /* the analysis of text */
    Diags diags;
    FeResult fe;
    struct Doc *next;
} Doc;

typedef struct Server {
    FILE *out;
    Doc *docs;
    int initialized, shutdown, exited;
} Server;

static void doc_drop_analysis(Doc *d) {
    if (!d->src) return;
    fe_result_free(&d->fe);
    diag_free(&d->diags);
    src_free(d->src);
    d->src = NULL;
}

static void doc_analyse(Doc *d) {
    doc_drop_analysis(d);
    d->src = src_from_buffer(d->path, d->text, d->len);
    diag_init(&d->diags);
    fe_check(&d->fe, d->src, &d->diags);
}

static void doc_free(Doc *d) {
    doc_drop_analysis(d);
    free(d->uri);
    free(d->path);
    free(d->text);
    free(d);
}

static Doc *doc_find(Server *s, const char *uri) {
    for (Doc *d = s->docs; d; d = d->next)
        if (strcmp(d->uri, uri) == 0) return d;
    return NULL;
}

/* file:///a/b%20c.flow -> /a/b c.flow; another scheme keeps the URI as the name */
static char *uri_path(const char *uri) {
    if (strncmp(uri, "file://", 7) != 0) return strdup(uri);
    const char *p = uri + 7;
    if (*p != '/') { p = strchr(p, '/'); if (!p) return strdup(uri); }   /* file://host/path */
    char *out = malloc(strlen(p) + 1), *o = out;
    if (!out) abort();
    for (; *p; p++) {
        int h1, h2;
        if (*p == '%' && p[1] && p[2] &&
            (h1 = (p[1] >= '0' && p[1] <= '9') ? p[1] - '0' : (p[1] | 32) >= 'a' && (p[1] | 32) <= 'f' ? (p[1] | 32) - 'a' + 10 : -1) >= 0 &&
            (h2 = (p[2] >= '0' && p[2] <= '9') ? p[2] - '0' : (p[2] | 32) >= 'a' && (p[2] | 32) <= 'f' ? (p[2] | 32) - 'a' + 10 : -1) >= 0 &&
            (h1 || h2)) {
            *o++ = (char)(h1 * 16 + h2);
            p += 2;
        } else *o++ = *p;
    }
    *o = 0;
    return out;
}

/* ---- JSON helpers ---- */
static cJSON *jpos(const Source *src, uint32_t off) {
    int l, c;
    lq_position(src, off, &l, &c);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "line", l);
    cJSON_AddNumberToObject(p, "character", c);
    return p;
}

static cJSON *jrange(const Source *src, Span sp) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "start", jpos(src, sp.start));
    cJSON_AddItemToObject(r, "end", jpos(src, sp.end));
    return r;
}

static cJSON *jedit(const Source *src, Span sp, const char *text) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToObject(e, "range", jrange(src, sp));
    cJSON_AddStringToObject(e, "newText", text);
    return e;
}

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jint(const cJSON *o, const char *key, long *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 2147483647.0) return 0;
    *out = (long)v->valuedouble;
    return 1;
}

/* A request's failure: the error code and message handlers set. */
typedef struct Fail { int code; char msg[300]; } Fail;

static cJSON *fail(Fail *f, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    f->code = code;
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    return NULL;
}

/* The document of params.textDocument.uri: NULL when params are malformed (f set) or the document is
 * not open (f not set: the answer is null, as for a position where nothing is). */
static Doc *param_doc(Server *s, const cJSON *params, Fail *f) {
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(params, "textDocument");
    const char *uri = jstr(td, "uri");
    if (!uri) { fail(f, RPC_INVALID_PARAMS, "textDocument.uri is missing"); return NULL; }
    return doc_find(s, uri);
}

/* params.position as a byte offset of d; -1 (f set) when it is malformed */
static long param_offset(const Doc *d, const cJSON *params, const char *key, Fail *f) {
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(params, key);
    long line, ch;
    if (!jint(pos, "line", &line) || !jint(pos, "character", &ch)) {
        fail(f, RPC_INVALID_PARAMS, "%s needs a line and a character (numbers from 0)", key);
        return -1;
    }
    return lq_offset(d->src, line, ch);
}

/* The open document of params and the byte offset of params.position: NULL when there is no such
 * document, or (f set) when params are malformed. */
static Doc *doc_at(Server *s, const cJSON *params, Fail *f, long *off) {
    Doc *d = param_doc(s, params, f);
    if (!d) return NULL;
    *off = param_offset(d, params, "position", f);
    return *off < 0 ? NULL : d;
}

/* ---- diagnostics ---- */
static void publish(Server *s, Doc *d) {
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "uri", d->uri);
    cJSON *arr = cJSON_AddArrayToObject(params, "diagnostics");
    for (int i = 0; i < d->diags.n; i++) {
        const Diag *g = &d->diags.items[i];
        cJSON *j = cJSON_CreateObject();
        /* diagnostics of another file (a hook file's compile errors) are shown at the start */
        Span sp = g->src == d->src ? g->span : (Span){ 0, 0 };
        cJSON_AddItemToObject(j, "range", jrange(d->src, sp));
        cJSON_AddNumberToObject(j, "severity", g->sev == DIAG_ERROR ? 1 : 2);
        cJSON_AddStringToObject(j, "source", "flowc");
        if (g->src != d->src && g->src) {
            int l, c;
            src_line_col(g->src, g->span.start, &l, &c);
            char *m = malloc(strlen(g->msg) + strlen(g->src->name) + 32);
            if (!m) abort();
            sprintf(m, "%s:%d:%d: %s", g->src->name, l, c, g->msg);
            cJSON_AddStringToObject(j, "message", m);
            free(m);
        } else cJSON_AddStringToObject(j, "message", g->msg);
        cJSON_AddItemToArray(arr, j);
    }
    rpc_send_notification(s->out, "textDocument/publishDiagnostics", params);
}

/* ---- text built piece by piece (titles, hover) ---- */
typedef struct Buf { char *p; size_t n, cap; } Buf;

static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)n + 1 > b->cap) {
        b->cap = (b->n + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->n += (size_t)n;
}

/* ---- code actions: each provider adds its actions for [start, end] to out ---- */
/* invoked: the user asked (context.triggerKind 1, or none given), not the editor on its own as the
 * cursor moves (2) */
typedef void (*CodeActionProvider)(Doc *d, uint32_t start, uint32_t end, int invoked, cJSON *out);

static cJSON *diag_json(const Doc *d, const Diag *g) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "range", jrange(d->src, g->span));
    cJSON_AddNumberToObject(j, "severity", g->sev == DIAG_ERROR ? 1 : 2);
    cJSON_AddStringToObject(j, "source", "flowc");
    cJSON_AddStringToObject(j, "message", g->msg);
    return j;
}

/* The "did you mean" of every diagnostic touching the range, as a quick fix that applies it. */
static void ca_suggestions(Doc *d, uint32_t start, uint32_t end, int invoked, cJSON *out) {
    (void)invoked;
    for (int i = 0; i < d->diags.n; i++) {
        const Diag *g = &d->diags.items[i];
        if (!g->fix || g->src != d->src || g->span.end < start || g->span.start > end) continue;
        cJSON *a = cJSON_CreateObject();
        size_t n = g->fix_span.end - g->fix_span.start;
        char *title = malloc(n + strlen(g->fix) + 32);
        if (!title) abort();
        sprintf(title, "Change `%.*s` to `%s`", (int)n, d->src->text + g->fix_span.start, g->fix);
        cJSON_AddStringToObject(a, "title", title);
        free(title);
        cJSON_AddStringToObject(a, "kind", "quickfix");
        cJSON_AddBoolToObject(a, "isPreferred", 1);
        cJSON *diags = cJSON_AddArrayToObject(a, "diagnostics");
        cJSON_AddItemToArray(diags, diag_json(d, g));
        cJSON *changes = cJSON_AddObjectToObject(cJSON_AddObjectToObject(a, "edit"), "changes");
        cJSON *edits = cJSON_AddArrayToObject(changes, d->uri);
        cJSON_AddItemToArray(edits, jedit(d->src, g->fix_span, g->fix));
        cJSON_AddItemToArray(out, a);
    }
}

/* Auto-map (automap.h) on the import holding the range's start, in a file that checks clean: its
 * confident suggestions as one edit, as `flowc automap --write` would make it (relative SQLite paths
 * read beside the document). Nothing when there is nothing confident to add or no schema to read.
 * Only when asked: it reads the destination's schema and checks each suggestion in place, too much for
 * every cursor move, when editors ask on their own. */
static void ca_automap(Doc *d, uint32_t start, uint32_t end, int invoked, cJSON *out) {
    (void)end;
    if (!invoked || !d->fe.ir) return;
    for (int i = 0; i < d->diags.n; i++)
        if (d->diags.items[i].sev == DIAG_ERROR) return;
    const IrFlow *flow;
    const IrStep *imp = am_import_at(d->fe.ir, start, &flow);
    if (!imp) return;
    char *dir = strdup(d->path), *slash = dir ? strrchr(dir, '/') : NULL;
    if (!dir) abort();
    if (slash) *slash = 0;
    AmOptions o = { .dir = slash ? dir : NULL };
    AmResult r;
    if (am_suggest(d->fe.ir, flow, imp, &o, &r) == 0 && r.edit.text && r.nconfident > 0) {
        Buf title = { 0 };
        bprintf(&title, "Auto-map %d field%s of import %s:", r.nconfident, r.nconfident == 1 ? "" : "s", imp->name);
        for (int k = 0, shown = 0; k < r.n; k++)
            if (r.items[k].confident && shown++ < 6) bprintf(&title, "%s %s", shown > 1 ? "," : "", r.items[k].target);
        if (r.nconfident > 6) bprintf(&title, ", ...");
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "title", title.p);
        free(title.p);
        cJSON_AddStringToObject(a, "kind", "refactor.rewrite");
        cJSON *changes = cJSON_AddObjectToObject(cJSON_AddObjectToObject(a, "edit"), "changes");
        cJSON *edits = cJSON_AddArrayToObject(changes, d->uri);
        Span sp = { .start = (uint32_t)r.edit.offset, .end = (uint32_t)(r.edit.offset + r.edit.length) };
        cJSON_AddItemToArray(edits, jedit(d->src, sp, r.edit.text));
        cJSON_AddItemToArray(out, a);
    }
    am_result_free(&r);
    free(dir);
}

/* Providers in order. */
static const CodeActionProvider code_action_providers[] = {
    ca_suggestions,
    ca_automap,
};

static cJSON *h_code_action(Server *s, const cJSON *params, Fail *f) {
    Doc *d = param_doc(s, params, f);
    if (!d) return NULL;
    const cJSON *range = cJSON_GetObjectItemCaseSensitive(params, "range");
    long a = param_offset(d, range, "start", f), b = a < 0 ? -1 : param_offset(d, range, "end", f);
    if (a < 0 || b < 0) return NULL;
    const cJSON *trigger = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(params, "context"), "triggerKind");
    int invoked = !cJSON_IsNumber(trigger) || trigger->valuedouble != 2;
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof code_action_providers / sizeof code_action_providers[0]; i++)
        code_action_providers[i](d, (uint32_t)a, (uint32_t)(b < a ? a : b), invoked, out);
    return out;
}

/* ---- hover ---- */

/* source text of a span on one line, runs of white space as one space, at most 80 bytes */
static void btext(Buf *b, const Source *src, Span sp) {
    int space = 0;
    size_t k = 0;
    for (uint32_t i = sp.start; i < sp.end && i < src->len; i++) {
        char c = src->text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { space = 1; continue; }
        if (space && k) bprintf(b, " ");
        space = 0;
        if (++k > 80) { bprintf(b, "..."); return; }
        bprintf(b, "%c", c);
    }
}

static void builtin_doc(Buf *b, const Builtin *fn) {
    bprintf(b, "```flow\n%s(%s)", fn->name, fn->params_text);
    if (fn->ctor) bprintf(b, "   (%s constructor)", fn->result + 5);
    else bprintf(b, ": %s", fn->result);
    bprintf(b, "\n```\n%s", fn->doc ? fn->doc : "");
}

/* a connection kind's name; an unknown kind (already an error) is -1 */
static const char *kind_name(int k) {
    int n = 0;
    while (flow_conn_kinds[n]) n++;
    return k >= 0 && k < n ? flow_conn_kinds[k] : "?";
}

static const char *const place_names[] = { "connection", "export", "lookup", "import" };

/* A type for people: a named record spelled out one level (`{ id: int, items: [Item] }`), else as
 * the IR dump writes it. */
static const char *type_text(Arena *ar, const Type *t) {
    if (t && t->name && t->kind == TY_RECORD) {
        Type copy = *t;
        copy.name = NULL;
        return ty_str_full(ar, &copy);
    }
    return t ? ty_str_full(ar, t) : "?";
}

static void step_doc(Buf *b, Arena *ar, const IrStep *st) {
    bprintf(b, "**%s**", ir_step_kind_names[st->kind]);
    if (st->name) bprintf(b, " `%s`", st->name);
    if (st->conn) bprintf(b, " %s `%s`", st->kind == STEP_IMPORT ? "into" : "from", st->conn->name);
    if (st->in) bprintf(b, "\n\nrecord in:\n```flow\n%s\n```", type_text(ar, st->in));
    if (st->out) bprintf(b, "\n\nrecord out:\n```flow\n%s\n```", type_text(ar, st->out));
    if (st->result) bprintf(b, "\n\n`%s` is:\n```flow\n%s\n```", st->name, type_text(ar, st->result));
}

static cJSON *hover_result(const Doc *d, Buf *b, Span sp) {
    cJSON *r = cJSON_CreateObject();
    cJSON *c = cJSON_AddObjectToObject(r, "contents");
    cJSON_AddStringToObject(c, "kind", "markdown");
    cJSON_AddStringToObject(c, "value", b->p);
    cJSON_AddItemToObject(r, "range", jrange(d->src, sp));
    free(b->p);
    return r;
}

static cJSON *h_hover(Server *s, const cJSON *params, Fail *f) {
    long off;
    Doc *d = doc_at(s, params, f, &off);
    if (!d || !d->fe.ir) return NULL;
    const IrProgram *p = d->fe.ir;
    Arena *ar = d->fe.arena;
    LqHit h;
    lq_find(p, (uint32_t)off, &h);
    Buf b = { 0 };
    if (h.setting) {
        const IrSetting *st = h.setting;
        const char *kind = h.setting_kind >= 0 ? kind_name(h.setting_kind) : NULL;
        const FlowSettingSpec *spec = kind && h.setting_place >= 0 ? flow_setting_spec(kind, (FlowSettingPlace)h.setting_place, st->name) : NULL;
        bprintf(&b, "```flow\n%s", st->name);
        if (spec) bprintf(&b, ": %s", spec->ctype);
        bprintf(&b, "\n```\n");
        if (spec) bprintf(&b, "%s %s setting, %s%s%s\n\n", kind, place_names[h.setting_place], spec->required ? "required" : "optional",
                          spec->secret ? ", secret" : "", spec->step ? ", one value for the whole step" : "");
        const char *doc = kind ? lsp_setting_doc(kind, st->name) : NULL;
        if (doc) bprintf(&b, "%s", doc);
        else if (h.setting_place < 0 && !kind) bprintf(&b, "a flow or env setting");
        return hover_result(d, &b, st->name_span);
    }
    if (h.call) {
        builtin_doc(&b, h.call->fn);
        return hover_result(d, &b, (Span){ h.call->span.start, h.call->span.start + (uint32_t)strlen(h.call->fn->name) });
    }
    if (h.after_word) {
        bprintf(&b, "flow `%s`", h.after_word->name);
        return hover_result(d, &b, h.after_word->span);
    }
    if (h.entry) {
        const IrMapEntry *e = h.entry;
        bprintf(&b, "```flow\n%s: %s\n```\nmap entry (an output field)", e->name,
                e->override ? ty_str_full(ar, e->override) : e->value && e->value->type ? ty_str_full(ar, e->value->type) : "record");
        return hover_result(d, &b, e->name_span);
    }
    if (h.expr && h.expr->type) {
        const IrExpr *x = h.expr;
        bprintf(&b, "```flow\n");
        if (x->kind == IR_PARAM) bprintf(&b, "param %s", x->param->name);
        else if (x->kind == IR_LOOKUP) bprintf(&b, "lookup %s", x->step->name);
        else btext(&b, d->src, x->span);
        bprintf(&b, ": %s\n```", ty_str_full(ar, x->type));
        return hover_result(d, &b, x->span);
    }
    if (h.conn_ref) {
        const IrConn *c = h.conn_ref->conn;
        bprintf(&b, "connection `%s` = %s", c->name, kind_name(c->kind));
        return hover_result(d, &b, h.conn_ref->conn_span);
    }
    /* declarations by their names */
    for (int i = 0; i < p->ntypes; i++)
        if (lq_contains(p->types[i]->name_span, (uint32_t)off)) {
            bprintf(&b, "```flow\ntype %s = %s\n```", p->types[i]->name, type_text(ar, p->types[i]->type));
            return hover_result(d, &b, p->types[i]->name_span);
        }
    for (int i = 0; i < p->nparams; i++)
        if (lq_contains(p->params[i]->name_span, (uint32_t)off)) {
            bprintf(&b, "```flow\nparam %s: %s\n```", p->params[i]->name, ty_str_full(ar, p->params[i]->type));
            return hover_result(d, &b, p->params[i]->name_span);
        }
    for (int i = 0; i < p->nconns; i++)
        if (lq_contains(p->conns[i]->name_span, (uint32_t)off)) {
            bprintf(&b, "connection `%s` = %s", p->conns[i]->name, kind_name(p->conns[i]->kind));
            return hover_result(d, &b, p->conns[i]->name_span);
        }
    if (h.step) {
        step_doc(&b, ar, h.step);
        return hover_result(d, &b, h.step->name ? h.step->name_span : (Span){ h.step->span.start, h.step->span.start + (uint32_t)strlen(ir_step_kind_names[h.step->kind]) });
    }
    /* a type's name inside a type (`items: [Item]`) */
    const AstNode *n = lq_ast_at(d->fe.ast, (uint32_t)off, NULL);
    if (n && n->kind == AST_TY_NAME && n->name) {
        for (int i = 0; i < p->ntypes; i++)
            if (strcmp(p->types[i]->name, n->name) == 0) {
                bprintf(&b, "```flow\ntype %s = %s\n```", p->types[i]->name, type_text(ar, p->types[i]->type));
                return hover_result(d, &b, n->span);
            }
    }
    return NULL;
}

/* ---- definition ---- */

static int definition_span(const Doc *d, uint32_t off, Span *out) {
    const IrProgram *p = d->fe.ir;
    LqHit h;
    lq_find(p, off, &h);
    const AstNode *n = lq_ast_at(d->fe.ast, off, NULL);
    if (n && n->kind == AST_TY_NAME && n->name) {
        for (int i = 0; i < p->ntypes; i++)
            if (strcmp(p->types[i]->name, n->name) == 0) { *out = p->types[i]->name_span; return 1; }
    }
    if (h.after_word) {
        const IrFlow *fl = ir_flow_named(p, h.after_word->name);
        if (fl) { *out = fl->name_span; return 1; }
    }
    if (h.expr) {
        const IrExpr *x = h.expr;
        if (x->kind == IR_PARAM && x->param) { *out = x->param->name_span; return 1; }
        if (x->kind == IR_TABLE && x->table) { *out = x->table->name_span; return 1; }
        if (x->kind == IR_LOOKUP && x->step) { *out = x->step->name_span; return 1; }
        /* a field of a declared record type: the field in its type (a record made by the steps has none) */
        if (x->kind == IR_FIELD && x->a && x->a->type && x->a->type->kind == TY_RECORD) {
            const TypeField *tf = ty_field(x->a->type, x->name);
            if (tf && tf->span.end > tf->span.start && tf->span.end <= d->src->len) { *out = tf->span; return 1; }
        }
        if (x->kind == IR_INDEX && x->a && x->a->kind == IR_TABLE && x->a->table && lq_contains(x->a->span, off)) {
            *out = x->a->table->name_span;
            return 1;
        }
    }
    if (h.conn_ref) { *out = h.conn_ref->conn->name_span; return 1; }
    if (h.test_flow) { *out = h.test_flow->flow->name_span; return 1; }
    if (h.given && h.given->step) { *out = h.given->step->name_span; return 1; }
    return 0;
}

static cJSON *h_definition(Server *s, const cJSON *params, Fail *f) {
    long off;
    Doc *d = doc_at(s, params, f, &off);
    Span sp;
    if (!d || !d->fe.ir || !definition_span(d, (uint32_t)off, &sp)) return NULL;
    cJSON *loc = cJSON_CreateObject();
    cJSON_AddStringToObject(loc, "uri", d->uri);
    cJSON_AddItemToObject(loc, "range", jrange(d->src, sp));
    return loc;
}

/* ---- document symbols (from the syntax tree: they work in a file with syntax errors too) ---- */
enum { SK_MODULE = 2, SK_NAMESPACE = 3, SK_PACKAGE = 4, SK_CLASS = 5, SK_METHOD = 6, SK_PROPERTY = 7, SK_FIELD = 8,
       SK_FUNCTION = 12, SK_VARIABLE = 13, SK_CONSTANT = 14, SK_OBJECT = 19, SK_EVENT = 24, SK_STRUCT = 23 };

static cJSON *symbol(const Doc *d, const char *name, const char *detail, int kind, Span range, Span sel) {
    if (sel.end <= sel.start || sel.start < range.start || sel.end > range.end) sel = range;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name && *name ? name : "?");
    if (detail) cJSON_AddStringToObject(j, "detail", detail);
    cJSON_AddNumberToObject(j, "kind", kind);
    cJSON_AddItemToObject(j, "range", jrange(d->src, range));
    cJSON_AddItemToObject(j, "selectionRange", jrange(d->src, sel));
    return j;
}

static void step_symbols(const Doc *d, const AstNode *n, cJSON *out);

static void type_symbols(const Doc *d, const AstNode *t, cJSON *out) {
    while (t && (t->kind == AST_TY_OPTIONAL || t->kind == AST_TY_ARRAY)) t = t->a;
    if (!t || t->kind != AST_TY_RECORD) return;
    for (int i = 0; i < t->kids.n; i++) {
        const AstNode *fl = t->kids.items[i];
        if (fl->kind != AST_TY_FIELD) continue;
        cJSON *j = symbol(d, fl->name, NULL, SK_FIELD, fl->span, fl->name_span);
        cJSON *kids = cJSON_CreateArray();
        type_symbols(d, fl->a, kids);
        if (cJSON_GetArraySize(kids)) cJSON_AddItemToObject(j, "children", kids);
        else cJSON_Delete(kids);
        cJSON_AddItemToArray(out, j);
    }
}

static void step_symbols(const Doc *d, const AstNode *n, cJSON *out) {
    for (int i = 0; i < n->kids.n; i++) {
        const AstNode *k = n->kids.items[i];
        const char *kind = ast_kind_names[k->kind];
        switch (k->kind) {
        case AST_EXPORT: case AST_LOOKUP: case AST_IMPORT:
            cJSON_AddItemToArray(out, symbol(d, k->name, kind, SK_METHOD, k->span, k->name_span));
            break;
        case AST_TRANSFORM: case AST_FILTER:
            cJSON_AddItemToArray(out, symbol(d, kind, NULL, SK_METHOD, k->span, k->span));
            break;
        case AST_BRANCH: case AST_ARM: {
            cJSON *j = symbol(d, k->kind == AST_BRANCH ? "branch" : k->name, k->kind == AST_ARM ? "arm" : k->name, k->kind == AST_BRANCH ? SK_METHOD : SK_NAMESPACE,
                              k->span, k->kind == AST_ARM ? k->name_span : k->span);
            cJSON *kids = cJSON_AddArrayToObject(j, "children");
            step_symbols(d, k, kids);
            cJSON_AddItemToArray(out, j);
            break;
        }
        default: break;
        }
    }
}

static cJSON *h_document_symbol(Server *s, const cJSON *params, Fail *f) {
    Doc *d = param_doc(s, params, f);
    if (!d) return NULL;
    cJSON *out = cJSON_CreateArray();
    const AstNode *file = d->fe.ast;
    for (int i = 0; file && i < file->kids.n; i++) {
        const AstNode *k = file->kids.items[i];
        cJSON *j = NULL;
        switch (k->kind) {
        case AST_INTEGRATION: j = symbol(d, k->str ? k->str : "integration", "integration", SK_PACKAGE, k->span, k->span); break;
        case AST_PARAM: j = symbol(d, k->name, "param", SK_VARIABLE, k->span, k->name_span); break;
        case AST_ENV: j = symbol(d, k->name, "env", SK_NAMESPACE, k->span, k->name_span); break;
        case AST_TABLE: j = symbol(d, k->name, "table", SK_CONSTANT, k->span, k->name_span); break;
        case AST_TYPEDECL: {
            j = symbol(d, k->name, "type", SK_STRUCT, k->span, k->name_span);
            cJSON *kids = cJSON_CreateArray();
            type_symbols(d, k->a, kids);
            cJSON_AddItemToObject(j, "children", kids);
            break;
        }
        case AST_CONNECTION: j = symbol(d, k->name, k->str ? k->str : "connection", SK_OBJECT, k->span, k->name_span); break;
        case AST_FLOW: {
            j = symbol(d, k->name, "flow", SK_FUNCTION, k->span, k->name_span);
            cJSON *kids = cJSON_AddArrayToObject(j, "children");
            step_symbols(d, k, kids);
            break;
        }
        case AST_TEST: j = symbol(d, k->str ? k->str : "test", "test", SK_EVENT, k->span, k->span); break;
        default: break;
        }
        if (j) cJSON_AddItemToArray(out, j);
    }
    return out;
}

/* ---- formatting ---- */
static cJSON *h_formatting(Server *s, const cJSON *params, Fail *f) {
    Doc *d = param_doc(s, params, f);
    if (!d) return NULL;
    Diags dg;
    diag_init(&dg);
    size_t n;
    char *text = fmt_source(d->src, &dg, &n);
    diag_free(&dg);
    if (!text) return fail(f, RPC_REQUEST_FAILED, "the file does not parse, so it is not formatted (see its diagnostics)");
    cJSON *edits = cJSON_CreateArray();
    if (n != d->len || memcmp(text, d->text, n) != 0)
        cJSON_AddItemToArray(edits, jedit(d->src, (Span){ 0, (uint32_t)d->len }, text));
    free(text);
    return edits;
}

/* ---- rename: a flow, a step or a field, every occurrence in the file ---- */
typedef enum { RN_NONE, RN_FLOW, RN_STEP, RN_FIELD } RenameKind;
typedef struct Target {
    RenameKind kind;
    const char *name;
    const IrStep *step;
    Span at;                 /* the occurrence under the cursor */
} Target;

static Target rename_target(const Doc *d, uint32_t off) {
    const IrProgram *p = d->fe.ir;
    Target t = { RN_NONE, NULL, NULL, { 0, 0 } };
    LqHit h;
    lq_find(p, off, &h);
    for (int i = 0; i < p->nflows; i++) {
        const IrFlow *fl = p->flows[i];
        if (lq_contains(fl->name_span, off)) return (Target){ RN_FLOW, fl->name, NULL, fl->name_span };
        for (int k = 0; k < fl->nall; k++)
            if (fl->all[k]->name && lq_contains(fl->all[k]->name_span, off))
                return (Target){ RN_STEP, fl->all[k]->name, fl->all[k], fl->all[k]->name_span };
    }
    if (h.after_word && ir_flow_named(p, h.after_word->name)) return (Target){ RN_FLOW, h.after_word->name, NULL, h.after_word->span };
    if (h.test_flow) return (Target){ RN_FLOW, h.test_flow->flow->name, NULL, h.test_flow->flow_span };
    if (h.given && h.given->step) return (Target){ RN_STEP, h.given->step->name, h.given->step, h.given->name_span };
    if (h.expr && h.expr->kind == IR_LOOKUP && h.expr->step) return (Target){ RN_STEP, h.expr->step->name, h.expr->step, h.expr->span };
    if (h.expr && h.expr->kind == IR_FIELD) {
        Span ns = lq_field_name_span(d->src, h.expr);
        if (lq_contains(ns, off)) return (Target){ RN_FIELD, h.expr->name, NULL, ns };
    }
    const AstNode *n = lq_ast_at(d->fe.ast, off, NULL);
    if (n && n->kind == AST_TY_FIELD && n->name && lq_contains(n->name_span, off) && !n->name_quoted)
        return (Target){ RN_FIELD, n->name, NULL, n->name_span };
    return t;
}

typedef struct Edits { const Doc *d; const Target *t; Span *spans; int n, cap; } Edits;

static void add_span(Edits *e, Span sp) {
    if (sp.end <= sp.start) return;
    for (int i = 0; i < e->n; i++)
        if (e->spans[i].start == sp.start) return;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->spans = realloc(e->spans, sizeof(Span) * (size_t)e->cap);
        if (!e->spans) abort();
    }
    e->spans[e->n++] = sp;
}

static void rename_expr(const IrExpr *x, const IrStep *step, void *ud) {
    Edits *e = ud;
    const Target *t = e->t;
    if (t->kind == RN_FIELD && x->kind == IR_FIELD && x->name && strcmp(x->name, t->name) == 0)
        add_span(e, lq_field_name_span(e->d->src, x));
    else if (t->kind == RN_STEP && x->kind == IR_LOOKUP && x->step == t->step)
        add_span(e, x->span);
    else if (t->kind == RN_FLOW && x->kind == IR_CALL && x->fn && strcmp(x->fn->name, "after") == 0 && x->nkids > 0 && x->kids[0] &&
             x->kids[0]->kind == IR_WORD && strcmp(x->kids[0]->name, t->name) == 0)
        add_span(e, x->kids[0]->span);
}

static void rename_ast(const AstNode *n, void *ud) {
    Edits *e = ud;
    if (e->t->kind == RN_FIELD && n->kind == AST_TY_FIELD && n->name && !n->name_quoted && strcmp(n->name, e->t->name) == 0)
        add_span(e, n->name_span);
}

static int is_name(const char *s) {
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
    return 1;
}

static cJSON *h_prepare_rename(Server *s, const cJSON *params, Fail *f) {
    long off;
    Doc *d = doc_at(s, params, f, &off);
    if (!d || !d->fe.ir) return NULL;
    Target t = rename_target(d, (uint32_t)off);
    if (t.kind == RN_NONE) return NULL;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "range", jrange(d->src, t.at));
    cJSON_AddStringToObject(r, "placeholder", t.name);
    return r;
}

static cJSON *h_rename(Server *s, const cJSON *params, Fail *f) {
    long off;
    Doc *d = doc_at(s, params, f, &off);
    if (!d) return NULL;
    const char *nn = jstr(params, "newName");
    if (!is_name(nn)) return fail(f, RPC_INVALID_PARAMS, "`%s` is not a name (letters, digits and _, not starting with a digit)", nn ? nn : "");
    if (!d->fe.ir) return fail(f, RPC_REQUEST_FAILED, "the file has syntax errors: fix them before renaming");
    Target t = rename_target(d, (uint32_t)off);
    if (t.kind == RN_NONE) return fail(f, RPC_REQUEST_FAILED, "nothing to rename here: a flow, a step or a field can be renamed");
    const IrProgram *p = d->fe.ir;
    Edits e = { d, &t, NULL, 0, 0 };
    if (t.kind == RN_FLOW) {
        for (int i = 0; i < p->nflows; i++)
            if (strcmp(p->flows[i]->name, t.name) == 0) add_span(&e, p->flows[i]->name_span);
        for (int i = 0; i < p->ntests; i++)
            if (p->tests[i]->flow && strcmp(p->tests[i]->flow->name, t.name) == 0) add_span(&e, p->tests[i]->flow_span);
    } else if (t.kind == RN_STEP) {
        add_span(&e, t.step->name_span);
        for (int i = 0; i < p->ntests; i++)
            for (int k = 0; k < p->tests[i]->ngivens; k++)
                if (p->tests[i]->givens[k].step == t.step) add_span(&e, p->tests[i]->givens[k].name_span);
    } else lq_ast_each(d->fe.ast, rename_ast, &e);
    lq_each_expr(p, rename_expr, &e);
    cJSON *r = cJSON_CreateObject();
    cJSON *edits = cJSON_AddArrayToObject(cJSON_AddObjectToObject(r, "changes"), d->uri);
    for (int i = 0; i < e.n; i++) cJSON_AddItemToArray(edits, jedit(d->src, e.spans[i], nn));
    free(e.spans);
    return r;
}

/* ---- completion (lsp_complete.c) ---- */
static cJSON *h_completion(Server *s, const cJSON *params, Fail *f) {
    long off;
    Doc *d = doc_at(s, params, f, &off);
    if (!d) return NULL;
    return lspc_complete(d->src, d->fe.ir, (uint32_t)off);
}

/* ---- lifecycle and document sync ---- */
static cJSON *h_initialize(Server *s, const cJSON *params, Fail *f) {
    if (s->initialized) return fail(f, RPC_INVALID_REQUEST, "initialize was already received");
    s->initialized = 1;
    cJSON *r = cJSON_CreateObject();
    cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
    cJSON_AddStringToObject(caps, "positionEncoding", "utf-16");
    cJSON *sync = cJSON_AddObjectToObject(caps, "textDocumentSync");
    cJSON_AddBoolToObject(sync, "openClose", 1);
    cJSON_AddNumberToObject(sync, "change", 1);
    cJSON_AddBoolToObject(caps, "hoverProvider", 1);
    cJSON_AddBoolToObject(caps, "definitionProvider", 1);
    cJSON_AddBoolToObject(caps, "documentSymbolProvider", 1);
    cJSON_AddBoolToObject(caps, "documentFormattingProvider", 1);
    cJSON *ren = cJSON_AddObjectToObject(caps, "renameProvider");
    cJSON_AddBoolToObject(ren, "prepareProvider", 1);
    cJSON *ca = cJSON_AddObjectToObject(caps, "codeActionProvider");
    cJSON *kinds = cJSON_AddArrayToObject(ca, "codeActionKinds");
    cJSON_AddItemToArray(kinds, cJSON_CreateString("quickfix"));
    cJSON_AddItemToArray(kinds, cJSON_CreateString("refactor.rewrite"));
    cJSON *comp = cJSON_AddObjectToObject(caps, "completionProvider");
    cJSON *trig = cJSON_AddArrayToObject(comp, "triggerCharacters");
    cJSON_AddItemToArray(trig, cJSON_CreateString("."));
    cJSON_AddItemToArray(trig, cJSON_CreateString("{"));
    cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
    cJSON_AddStringToObject(info, "name", "flowc");
    cJSON_AddStringToObject(info, "version", FLOWC_VERSION);
    return r;
}

static cJSON *h_shutdown(Server *s, const cJSON *params, Fail *f) {
    s->shutdown = 1;
    return NULL;
}

static void n_did_open(Server *s, const cJSON *params) {
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(params, "textDocument");
    const char *uri = jstr(td, "uri"), *text = jstr(td, "text");
    if (!uri || !text) return;
    Doc *d = doc_find(s, uri);
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d) abort();
        d->uri = strdup(uri);
        d->path = uri_path(uri);
        if (!d->uri || !d->path) abort();
        d->next = s->docs;
        s->docs = d;
    }
    free(d->text);
    d->len = strlen(text);
    d->text = strdup(text);
    if (!d->text) abort();
    doc_analyse(d);
    publish(s, d);
}

static void n_did_change(Server *s, const cJSON *params) {
    const cJSON *td = cJSON_GetObjectItemCaseSensitive(params, "textDocument");
    const char *uri = jstr(td, "uri");
    Doc *d = uri ? doc_find(s, uri) : NULL;
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(params, "contentChanges");
    if (!d || !cJSON_IsArray(changes)) return;
    const cJSON *c;
    int changed = 0;
    cJSON_ArrayForEach(c, changes) {
        const char *text = jstr(c, "text");
        if (!text) continue;
        const cJSON *range = cJSON_GetObjectItemCaseSensitive(c, "range");
        size_t tl = strlen(text);
        if (!range) {                                 /* the whole text (what we ask for) */
            free(d->text);
            d->text = strdup(text);
            if (!d->text) abort();
            d->len = tl;
        } else {                                      /* a ranged edit (tolerated) */
            if (!d->src || changed) doc_analyse(d);   /* positions are in the text as it is now */
            Fail f;
            long a = param_offset(d, range, "start", &f), b = a < 0 ? -1 : param_offset(d, range, "end", &f);
            if (a < 0 || b < 0) continue;
            if (b < a) { long t = a; a = b; b = t; }
            char *nt = malloc(d->len - (size_t)(b - a) + tl + 1);
            if (!nt) abort();
            memcpy(nt, d->text, (size_t)a);
            memcpy(nt + a, text, tl);
            memcpy(nt + a + tl, d->text + b, d->len - (size_t)b);
            d->len = d->len - (size_t)(b - a) + tl;
            nt[d->len] = 0;
            free(d->text);
            d->text = nt;
        }
        changed = 1;
    }
    if (!changed) return;
    doc_analyse(d);
    publish(s, d);
}

static void n_did_close(Server *s, const cJSON *params) {
    const char *uri = jstr(cJSON_GetObjectItemCaseSensitive(params, "textDocument"), "uri");
    for (Doc **pp = &s->docs; uri && *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->uri, uri) == 0) {
            Doc *d = *pp;
            *pp = d->next;
            /* a closed file's diagnostics are cleared */
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "uri", d->uri);
            cJSON_AddArrayToObject(p, "diagnostics");
            rpc_send_notification(s->out, "textDocument/publishDiagnostics", p);
            doc_free(d);
            return;
        }
}

static void n_exit(Server *s, const cJSON *params) { s->exited = 1; }
static void n_ignore(Server *s, const cJSON *params) {}

typedef struct Method {
    const char *name;
    cJSON *(*request)(Server *s, const cJSON *params, Fail *f);   /* NULL: a notification */
    void (*notification)(Server *s, const cJSON *params);
} Method;

static const Method methods[] = {
    { "initialize", h_initialize, NULL },
    { "shutdown", h_shutdown, NULL },
    { "textDocument/hover", h_hover, NULL },
    { "textDocument/definition", h_definition, NULL },
    { "textDocument/completion", h_completion, NULL },
    { "textDocument/documentSymbol", h_document_symbol, NULL },
    { "textDocument/formatting", h_formatting, NULL },
    { "textDocument/codeAction", h_code_action, NULL },
    { "textDocument/rename", h_rename, NULL },
    { "textDocument/prepareRename", h_prepare_rename, NULL },
    { "initialized", NULL, n_ignore },
    { "exit", NULL, n_exit },
    { "textDocument/didOpen", NULL, n_did_open },
    { "textDocument/didChange", NULL, n_did_change },
    { "textDocument/didClose", NULL, n_did_close },
    { "textDocument/didSave", NULL, n_ignore },
    /* requests are answered in the order they come, each before the next is read: by the time a
     * cancellation arrives its request was answered, so there is nothing to cancel */
    { "$/cancelRequest", NULL, n_ignore },
};

static const Method *method(const char *name) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, name) == 0) return &methods[i];
    return NULL;
}

static void handle(Server *s, const char *body, size_t len) {
    RpcMsg m;
    rpc_parse(&m, body, len);
    if (m.kind == RPC_INVALID) {
        rpc_send_error(s->out, m.id, m.error, m.why);
    } else if (m.kind == RPC_REQUEST) {
        const Method *me = method(m.method);
        Fail f = { 0, "" };
        if (!s->initialized && strcmp(m.method, "initialize") != 0)
            rpc_send_error(s->out, m.id, RPC_SERVER_NOT_INITIALIZED, "the server is not initialized yet: send initialize first");
        else if (s->shutdown)
            rpc_send_error(s->out, m.id, RPC_INVALID_REQUEST, "the server is shut down: only exit is expected now");
        else if (!me || !me->request) {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown method `%.200s`", m.method);
            rpc_send_error(s->out, m.id, RPC_METHOD_NOT_FOUND, msg);
        } else {
            cJSON *params = m.params && cJSON_IsObject(m.params) ? m.params : NULL;
            cJSON *empty = params ? NULL : cJSON_CreateObject();
            cJSON *r = me->request(s, params ? params : empty, &f);
            cJSON_Delete(empty);
            if (f.code) { cJSON_Delete(r); rpc_send_error(s->out, m.id, f.code, f.msg); }
            else rpc_send_result(s->out, m.id, r);
        }
    } else if (m.kind == RPC_NOTIFICATION) {
        const Method *me = method(m.method);
        /* before initialize, notifications are dropped, but exit; unknown ones ($/...) are ignored */
        if (me && me->notification && (s->initialized || me->notification == n_exit)) {
            cJSON *empty = m.params && cJSON_IsObject(m.params) ? NULL : cJSON_CreateObject();
            me->notification(s, empty ? empty : m.params);
            cJSON_Delete(empty);
        }
    }
    /* responses (to requests we never send) are ignored */
    rpc_msg_free(&m);
}

static ssize_t read_fd(void *ud, char *buf, size_t cap) { return read(*(int *)ud, buf, cap); }

int lsp_serve(RpcReadFn fn, void *ud, FILE *out, FILE *log) {
    Server s = { 0 };
    s.out = out;
    RpcReader *r = rpc_reader_new(fn, ud);
    while (!s.exited) {
        char *body;
        size_t len;
        const char *why;
        RpcStatus st = rpc_read(r, &body, &len, &why);
        if (st == RPC_EOF) break;
        if (st == RPC_BADFRAME) {
            if (log) fprintf(log, "flowc lsp: skipped %s\n", why);
            continue;
        }
        handle(&s, body, len);
        free(body);
    }
    rpc_reader_free(r);
    while (s.docs) {
        Doc *d = s.docs;
        s.docs = d->next;
        doc_free(d);
    }
    return s.shutdown && s.exited ? 0 : 1;
}

int lsp_main(int argc, char **argv) {
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--stdio") != 0) {
            fprintf(stderr, "flowc: lsp takes no arguments but --stdio (it speaks LSP on stdin and stdout), not `%s`\n", argv[i]);
            return 2;
        }
    int fd = 0;
    return lsp_serve(read_fd, &fd, stdout, stderr);
}
