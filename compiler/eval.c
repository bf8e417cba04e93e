/* eval.c — `flowc eval EXPR` and `flowc eval --template TEXT`: compiled exactly as a flow's step is.
 * The front end parses, lowers and type-checks the expression (or template) with `record` bound to
 * the data and typed json; the emitter writes it as one C function; the JIT compiles and calls it;
 * the value is printed as a flow writes JSON (a template's text as it is). So eval has no semantics
 * of its own: every operator, built-in, helper and number format is the flow's. What is eval's own
 * here is the command line's part: reading the data and printing. */
#include "eval.h"
#include "arena.h"
#include "check.h"
#include "diag.h"
#include "emit_c.h"
#include "flow.h"
#include "jit.h"
#include "lower.h"
#include "parse.h"
#include "source.h"
#include "template.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* All of f, or NULL after a message; *len gets its length. */
static char *read_all(FILE *f, const char *name, size_t *len, FILE *err) {
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    for (size_t k; (k = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += k;
        if (cap - n < 4096) { cap *= 2; buf = realloc(buf, cap); if (!buf) abort(); }
    }
    if (ferror(f)) { fprintf(err, "flowc: cannot read %s: %s\n", name, strerror(errno)); free(buf); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

int eval_load_data(const char *data_file, cJSON **out, FILE *err) {
    *out = NULL;
    int from_stdin = !data_file || strcmp(data_file, "-") == 0;
    if (!data_file && isatty(0)) return 0;   /* nothing to read: no record */
    FILE *f = stdin;
    if (!from_stdin) {
        f = fopen(data_file, "rb");
        if (!f) { fprintf(err, "flowc: cannot read `%s`: %s\n", data_file, strerror(errno)); return -1; }
    }
    size_t len = 0;
    char *buf = read_all(f, from_stdin ? "standard input" : data_file, &len, err);
    if (f != stdin) fclose(f);
    if (!buf) return -1;
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r')) i++;
    if (i == len && !data_file) { free(buf); return 0; }   /* empty standard input: no record */
    FlowJsonError je;
    cJSON *j = flow_json_parse(buf, len, &je);   /* the runtime's one reader: ints exact, strict text */
    if (!j)
        fprintf(err, "flowc: %s:%ld:%ld: invalid JSON data: %s\n", from_stdin ? "<stdin>" : data_file, je.line, je.col, je.msg);
    free(buf);
    *out = j;
    return j ? 0 : -1;
}

typedef FlowVal (*EvalFn)(FlowCtx *cx, cJSON *rec);

/* Emits, compiles and runs a checked expression; prints its value (as JSON with a newline, or a
 * template's text as it is). 0, or 1 after a message. */
static int run(const Source *src, const IrExpr *ir, EmitEscape esc, int text, const char *data_file, FILE *out, FILE *err) {
    Diags d;
    diag_init(&d);
    char *c = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&c, &n);
    if (!mem) abort();
    emit_c_expr(mem, &d, src, ir, "flow_eval", esc);
    fclose(mem);
    JitProgram *j = d.errors ? NULL : jit_compile_unit(c, src, &d);
    EvalFn fn = j ? (EvalFn)jit_symbol(j, "flow_eval") : NULL;
    if (j && !fn) diag_error(&d, src, (Span){ 0, 0 }, "internal error: the JIT found no flow_eval");
    int rc = 1;
    cJSON *data = NULL;
    if (!fn) {
        diag_sort(&d);
        diag_print_text(&d, err, 0);
    } else if (eval_load_data(data_file, &data, err) == 0) {
        FlowCtx *cx = flow_ctx_new();
        FlowVal r = fn(cx, data);
        if (flow_failed(cx)) {
            fprintf(err, "flowc: %s error: %s\n", flow_error_class_names[flow_error_class(cx)], flow_error_message(cx));
        } else if (text) {
            FlowStr s = flow_val_text(cx, r);
            if (s.n) fwrite(s.p, 1, s.n, out);
            rc = 0;
        } else {
            cJSON *v = flow_val_to_json(r);
            char *s = flow_json_print(v);
            fprintf(out, "%s\n", s ? s : "null");
            cJSON_free(s);
            cJSON_Delete(v);
            rc = 0;
        }
        flow_ctx_free(cx);
        if (rc == 0 && (fflush(out) != 0 || ferror(out))) { fputs("flowc: cannot write the result\n", err); rc = 1; }
    }
    cJSON_Delete(data);
    jit_free(j);
    free(c);
    diag_free(&d);
    return rc;
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
        rc = run(src, ir, EMIT_ESC_NONE, 0, data_file, out, err);
    }
    diag_free(&d);
    arena_free(ar);
    src_free(src);
    return rc;
}

int eval_template(const char *text, const char *data_file, const char *escape, FILE *out, FILE *err) {
    EmitEscape esc = EMIT_ESC_NONE;
    if (escape && strcmp(escape, "html") == 0) esc = EMIT_ESC_HTML;
    else if (escape && strcmp(escape, "json") == 0) esc = EMIT_ESC_JSON;
    else if (escape && strcmp(escape, "none") != 0) {
        fprintf(err, "flowc: --escape takes none, html or json, not `%s`\n", escape);
        return 1;
    }
    Source *src = src_from_buffer("<template>", text ? text : "", text ? strlen(text) : 0);
    Arena *ar = arena_new();
    Diags d;
    diag_init(&d);
    int rc = 1;
    AstNode *t = tpl_parse_text(ar, &d, src, src->text, src->len, 0);
    IrExpr *ir = t && !d.errors ? lower_eval_template(ar, &d, src, t) : NULL;
    if (ir && !d.errors) chk_eval_expr(ar, &d, src, ir);
    if (d.errors || !ir) {
        diag_sort(&d);
        diag_print_text(&d, err, 0);
    } else {
        rc = run(src, ir, esc, 1, data_file, out, err);
    }
    diag_free(&d);
    arena_free(ar);
    src_free(src);
    return rc;
}
