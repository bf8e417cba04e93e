/* test_run.c — the in-memory runs with mocks: `flowc test` runs a file's `test` blocks (every
 * connection replaced by the mock connector: the export and lookups answer with the `given` data,
 * imports capture what they would write; then the `expect` lines are evaluated: the givens and
 * expectations are emitted as C functions beside the flow's, emit_c_tests), and `flowc
 * preview` runs the first page of a flow for real but with imports captured (unless --live) and
 * every step's input and output traced. The flows are compiled once by the JIT. */
#include "test_run.h"
#include "build.h"
#include "builtins.h"
#include "emit_c.h"
#include "hooks.h"
#include "engine.h"
#include "ir.h"
#include "jit.h"
#include "suggest.h"
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A mock's records from a file: a JSON array, or NDJSON (`full` is the path to open, `shown` the
 * name for messages). A test block's file has passed hooks_test_file; a preview's --mock FILE is the
 * command line's own choice (a FIFO from <(...) too). */
static cJSON *load_given_file(const char *full, const char *shown, char *why, size_t cap) {
    FILE *f = fopen(full, "rb");
    if (!f) { snprintf(why, cap, "cannot read %.400s", shown); return NULL; }
    size_t len = 0, bufcap = 65536;
    char *buf = malloc(bufcap);
    if (!buf) abort();
    for (size_t n; (n = fread(buf + len, 1, bufcap - len - 1, f)) > 0;) {
        len += n;
        if (bufcap - len < 4096) { bufcap *= 2; buf = realloc(buf, bufcap); if (!buf) abort(); }
    }
    fclose(f);
    buf[len] = 0;
    /* one JSON array, or NDJSON: one record per line (the runtime's one reader either way) */
    FlowJsonError je;
    cJSON *j = flow_json_parse(buf, len, &je);
    if (!j || !cJSON_IsArray(j)) {
        cJSON_Delete(j);
        j = cJSON_CreateArray();
        int line = 0;
        for (char *p = buf, *nl; p && p < buf + len; p = nl ? nl + 1 : NULL) {
            nl = memchr(p, '\n', (size_t)(buf + len - p));
            line++;
            size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
            if (!n || (n == 1 && p[0] == '\r')) continue;
            cJSON *r = flow_json_parse(p, n, &je);
            if (!r) {
                snprintf(why, cap, "%.300s:%d:%ld: %.150s", shown, line, je.col, je.msg);
                cJSON_Delete(j);
                free(buf);
                return NULL;
            }
            cJSON_AddItemToArray(j, r);
        }
    }
    free(buf);
    return j;
}

/* A param's value from its default text, as the executable reads --param. */
static FlowVal param_value(FlowCtx *cx, const FlowParamDef *pd) {
    if (!pd->deflt) return flow_null();
    const char *t = pd->deflt;
    switch (pd->kind) {
    case FLOW_INT: return flow_int(strtoll(t, NULL, 10));
    case FLOW_NUMBER: return flow_number(strtod(t, NULL));
    case FLOW_BOOL: return flow_bool(strcmp(t, "true") == 0);
    case FLOW_DURATION: return flow_duration(strtoll(t, NULL, 10));
    case FLOW_DATETIME: { int64_t ms = 0; flow_parse_iso8601(t, strlen(t), &ms); return flow_datetime(ms); }
    default: { (void)cx; return flow_string(t, strlen(t)); }
    }
}

/* Every param set from its default (unmasked when it is a secret), with `over` (--param) values
 * on top; the texts the values point into, to free with free_texts once the run is over. NULL with
 * a message (and *rc = 1) when a required param has no value. */
static char **set_params(FlowCtx *cx, const FlowProgram *prog, const PreviewOpts *over, int *rc) {
    char **texts = calloc((size_t)prog->nparams + 1, sizeof *texts);
    if (!texts) abort();
    for (int i = 0; i < prog->nparams; i++) {
        FlowParamDef pd = prog->params[i];
        pd.deflt = texts[i] = flow_param_default(&pd);
        for (int k = 0; over && k < over->nparams; k++) if (strcmp(over->params[k].name, pd.name) == 0) pd.deflt = over->params[k].value;
        if (!pd.deflt && !pd.nullable && rc) { fprintf(stderr, "flowc: param %s is required: --param %s=...\n", pd.name, pd.name); *rc = 1; }
        flow_ctx_set_param(cx, i, param_value(cx, &pd));
    }
    return texts;
}

static void free_texts(char **texts, int n) {
    for (int i = 0; texts && i < n; i++) free(texts[i]);
    free(texts);
}

static void print_json(FILE *out, const char *label, FlowVal v) {
    cJSON *j = flow_val_to_json(v);
    char *s = flow_json_print(j);
    fprintf(out, "      %s: %s\n", label, s ? s : "null");
    cJSON_free(s);
    cJSON_Delete(j);
}

typedef FlowVal (*TestFn)(FlowCtx *cx, cJSON *names);

/* A test's emitted given or expectation: flow_test_T_WHAT_K. */
static FlowVal call_test_fn(const JitProgram *j, int t, const char *what, int k, FlowCtx *cx, cJSON *names) {
    char name[96];
    snprintf(name, sizeof name, "flow_test_%d_%s_%d", t, what, k);
    TestFn fn = (TestFn)jit_symbol(j, name);
    if (!fn) return flow_fail(cx, FLOW_ERR_VALUE, "internal error: no %s in the compiled test", name);
    return fn(cx, names);
}

/* One test (number ti of the file): 1 passed, 0 failed. */
static int run_test(const JitProgram *j, int ti, const IrProgram *ir, const IrTest *t, const Source *src, FILE *out) {
    const FlowProgram *prog = jit_program(j);
    int line, col;
    src_line_col(src, t->span.start, &line, &col);
    int fi = -1;
    for (int i = 0; i < prog->nflows; i++) if (t->flow && strcmp(prog->flows[i].name, t->flow->name) == 0) fi = i;
    if (fi < 0) { fprintf(out, "FAIL %s:%d: test \"%s\": no flow to run\n", src->name, line, t->title); return 0; }
    FlowCtx *cx = flow_ctx_new();
    char **texts = set_params(cx, prog, NULL, NULL);
    cJSON *given = cJSON_CreateObject(), *captured = cJSON_CreateObject();
    int ok = 1;
    for (int g = 0; g < t->ngivens; g++) {
        const IrGiven *gv = &t->givens[g];
        cJSON *val = NULL;
        char why[512] = "";
        const IrExpr *file = hooks_given_file(gv);
        char path[PATH_MAX];
        if (file) {   /* the rule hook files follow: a regular file inside the .flow file's tree */
            if (hooks_test_file(src->name, file->str, path, sizeof path, why, sizeof why) == 0)
                val = load_given_file(path, file->str, why, sizeof why);
        } else {
            FlowVal v = call_test_fn(j, ti, "given", g, cx, NULL);
            val = flow_failed(cx) ? NULL : flow_val_to_json(v);
            if (!val) snprintf(why, sizeof why, "%s", flow_error_message(cx));
            flow_clear_error(cx);
        }
        if (!val) {
            int gl, gc;
            src_line_col(src, gv->span.start, &gl, &gc);
            fprintf(out, "FAIL %s:%d: test \"%s\": given %s: %s\n", src->name, gl, t->title, gv->name, why);
            ok = 0;
            continue;
        }
        cJSON_AddItemToObject(given, gv->name, val);
    }
    FlowMocks mocks = { given, captured, FLOW_MOCK_TEST, 0, NULL, 0 };
    FlowRunInfo ri;
    flow_run_info_init(&ri, (int64_t)time(NULL) * 1000);
    ri.mocks = &mocks;
    FlowRunStats st;
    FILE *errs = fopen("/dev/null", "w");
    int rc = ok ? flow_run_flow(prog, cx, fi, &ri, errs, &st) : -1;
    if (errs) fclose(errs);
    if (ok && rc < 0) {
        fprintf(out, "FAIL %s:%d: test \"%s\": the flow failed: %s\n", src->name, line, t->title, st.fail_msg);
        ok = 0;
    }
    if (ok) {
        /* what the names in `expect` stand for */
        cJSON *names = cJSON_Duplicate(captured, 1);
        for (int i = 0; i < st.nimports; i++)
            if (!cJSON_GetObjectItemCaseSensitive(names, st.import_names[i])) cJSON_AddArrayToObject(names, st.import_names[i]);
        if (!cJSON_GetObjectItemCaseSensitive(names, "errors")) cJSON_AddArrayToObject(names, "errors");
        cJSON *ign = cJSON_AddObjectToObject(names, "ignored");
        cJSON_AddNumberToObject(ign, "count", (double)st.ignored);
        cJSON *exp = cJSON_AddObjectToObject(names, "exported");
        cJSON_AddNumberToObject(exp, "count", (double)st.exported);
        for (int x = 0; x < t->nexpects; x++) {
            const IrExpr *e = t->expects[x];
            FlowVal v = call_test_fn(j, ti, "expect", x, cx, names);
            int pass = !flow_failed(cx) && v.kind == FLOW_BOOL && v.b;
            if (pass) continue;
            int el, ec;
            src_line_col(src, e->span.start, &el, &ec);
            if (ok) fprintf(out, "FAIL %s:%d: test \"%s\"\n", src->name, line, t->title);
            ok = 0;
            fprintf(out, "  %s:%d:%d: expect %.*s\n", src->name, el, ec, (int)(e->span.end - e->span.start), src->text + e->span.start);
            if (flow_failed(cx)) fprintf(out, "      %s error: %s\n", flow_error_class_names[flow_error_class(cx)], flow_error_message(cx));
            else if (e->kind == IR_BINARY && e->a && e->b) {
                flow_clear_error(cx);
                print_json(out, "actual  ", call_test_fn(j, ti, "actual", x, cx, names));
                print_json(out, "expected", call_test_fn(j, ti, "expected", x, cx, names));
            }
            flow_clear_error(cx);
        }
        if (!ok) {   /* the record errors of the run explain most failures */
            const cJSON *rec_errs = cJSON_GetObjectItemCaseSensitive(captured, "errors");
            int k = 0;
            for (const cJSON *er = rec_errs ? rec_errs->child : NULL; er && k < 3; er = er->next, k++) {
                const cJSON *stp = cJSON_GetObjectItemCaseSensitive(er, "step"), *cls = cJSON_GetObjectItemCaseSensitive(er, "class");
                const cJSON *msg = cJSON_GetObjectItemCaseSensitive(er, "message");
                fprintf(out, "      record error in step %s [%s]: %s\n", cJSON_IsString(stp) ? stp->valuestring : "?",
                        cJSON_IsString(cls) ? cls->valuestring : "?", cJSON_IsString(msg) ? msg->valuestring : "?");
            }
        }
        cJSON_Delete(names);
    }
    if (ok) fprintf(out, "PASS %s:%d: test \"%s\"\n", src->name, line, t->title);
    if (rc == 0) flow_run_stats_free(&st);
    cJSON_Delete(given);
    cJSON_Delete(captured);
    flow_ctx_free(cx);
    free_texts(texts, prog->nparams);
    (void)ir;
    return ok;
}

/* The C compiled in memory; its problems printed. */
static JitProgram *jit_for(const Source *src, const char *c_text) {
    Diags d;
    diag_init(&d);
    JitProgram *j = jit_compile(c_text, src, &d);
    diag_sort(&d);
    diag_print_text(&d, stderr, 0);
    diag_free(&d);
    return j;
}

int test_file(const Source *src, const IrProgram *ir, const char *c_text, FILE *out, int *passed, int *failed) {
    const char *file = src->name;
    /* the flow's C, then its tests' givens and expectations as functions of the same file */
    char *all = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&all, &n);
    if (!mem) abort();
    fputs(c_text, mem);
    Diags d;
    diag_init(&d);
    emit_c_tests(mem, &d, ir);
    fclose(mem);
    hooks_check_test_files(ir, src, &d);   /* every test data file, at its string, before any test runs */
    diag_sort(&d);
    diag_print_text(&d, stderr, 0);
    JitProgram *j = d.errors ? NULL : jit_for(src, all);
    diag_free(&d);
    free(all);
    int rc = 0;
    if (!j) rc = 1;
    else {
        if (!ir->ntests) fprintf(out, "%s: no test blocks\n", file);
        for (int i = 0; i < ir->ntests; i++) {
            if (run_test(j, i, ir, ir->tests[i], src, out)) (*passed)++;
            else (*failed)++;
        }
        jit_free(j);
    }
    return rc;
}

/* ---- preview ---- */

static void put_records(FILE *out, const char *label, const cJSON *arr, int color) {
    int n = cJSON_GetArraySize(arr);
    fprintf(out, "    %s%-8s%s %d record%s\n", color ? "\033[2m" : "", label, color ? "\033[0m" : "", n, n == 1 ? "" : "s");
    for (const cJSON *r = arr ? arr->child : NULL; r; r = r->next) {
        char *s = flow_json_print(r);
        fprintf(out, "      %s\n", s ? s : "null");
        cJSON_free(s);
    }
}

/* an HTTP step's requests, one line each: `GET URL -> 200 (12 ms, 10 records)` */
static void put_requests(FILE *out, const cJSON *reqs, int color) {
    int n = cJSON_GetArraySize(reqs);
    if (!n) return;
    fprintf(out, "    %srequests:%s %d\n", color ? "\033[2m" : "", color ? "\033[0m" : "", n);
    for (const cJSON *x = reqs->child; x; x = x->next) {
        const cJSON *rq = cJSON_GetObjectItemCaseSensitive(x, "request"), *rs = cJSON_GetObjectItemCaseSensitive(x, "response");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(rq, "method"), *u = cJSON_GetObjectItemCaseSensitive(rq, "url");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(rs, "status"), *er = cJSON_GetObjectItemCaseSensitive(x, "error");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(x, "ms"), *at = cJSON_GetObjectItemCaseSensitive(x, "attempts");
        const cJSON *nr = cJSON_GetObjectItemCaseSensitive(x, "records");
        fprintf(out, "      %s %s -> ", cJSON_IsString(m) ? m->valuestring : "?", cJSON_IsString(u) ? u->valuestring : "?");
        if (cJSON_IsNumber(st)) fprintf(out, "%d", st->valueint);
        else fprintf(out, "%s", cJSON_IsString(er) ? er->valuestring : "no answer");
        fprintf(out, " (%d ms", cJSON_IsNumber(ms) ? ms->valueint : 0);
        if (cJSON_IsNumber(at) && at->valueint > 1) fprintf(out, ", %d attempts", at->valueint);
        if (cJSON_IsNumber(nr)) fprintf(out, ", %d record%s", nr->valueint, nr->valueint == 1 ? "" : "s");
        fputs(")\n", out);
    }
}

/* --mock NAME: NAME is the flow's export, one of its lookups, or `existing` (the record upserts
 * find); 0, or -1 after saying why (with the closest step's name) */
static int mock_target(const IrProgram *ir, const char *flow, const char *step, const char *file) {
    if (strcmp(step, "existing") == 0) return 0;
    const IrFlow *fl = ir ? ir_flow_named(ir, flow) : NULL;
    Suggest sg;
    sug_init(&sg, step);
    for (int i = 0; fl && i < fl->nall; i++) {
        const IrStep *st = fl->all[i];
        if (!st->name) continue;
        if (strcmp(st->name, step) == 0) {
            if (st->kind == STEP_EXPORT || st->kind == STEP_LOOKUP) return 0;
            fprintf(stderr, "flowc: --mock %s: `%s` is an %s of flow %s; only the export and lookups are mocked (imports do "
                    "not write unless --live)\n", step, step, ir_step_kind_names[st->kind], flow);
            return -1;
        }
        if (st->kind == STEP_EXPORT || st->kind == STEP_LOOKUP) sug_offer(&sg, st->name);
    }
    if (sug_best(&sg))
        fprintf(stderr, "flowc: --mock %s: flow %s in %s has no export or lookup `%s`; did you mean `%s`?\n", step, flow, file, step,
                sug_best(&sg));
    else fprintf(stderr, "flowc: --mock %s: flow %s in %s has no export or lookup `%s`\n", step, flow, file, step);
    return -1;
}

int preview_file(const Source *src, const IrProgram *ir, const char *c_text, const PreviewOpts *o, FILE *out) {
    const char *file = src->name;
    JitProgram *j = jit_for(src, c_text);
    int rc = j ? 0 : 1;
    cJSON *given = cJSON_CreateObject(), *captured = cJSON_CreateObject(), *trace = cJSON_CreateArray();
    FlowCtx *cx = flow_ctx_new();
    const FlowProgram *prog = jit_program(j);
    int fi = prog && prog->nflows ? 0 : -1;
    if (prog && o->flow) {
        fi = -1;
        for (int i = 0; i < prog->nflows; i++) if (strcmp(prog->flows[i].name, o->flow) == 0) fi = i;
        if (fi < 0) { fprintf(stderr, "flowc: no flow `%s` in %s\n", o->flow, file); rc = 2; }
    }
    if (prog && fi < 0 && rc == 0) { fprintf(stderr, "flowc: %s has no flow\n", file); rc = 1; }
    for (int i = 0; rc == 0 && i < o->nmocks; i++) {   /* --mock STEP=FILE */
        const char *step = o->mocks[i].step;
        if (mock_target(ir, prog->flows[fi].name, step, file)) { rc = 2; break; }
        if (cJSON_GetObjectItemCaseSensitive(given, step)) { fprintf(stderr, "flowc: --mock %s is given twice\n", step); rc = 2; break; }
        char err[512] = "";
        cJSON *data = load_given_file(o->mocks[i].file, o->mocks[i].file, err, sizeof err);
        if (!data) { fprintf(stderr, "flowc: --mock %s: %s\n", step, err); rc = 2; break; }
        if (strcmp(step, "existing") == 0) {   /* one record: a JSON object, or a file holding one */
            cJSON *one = cJSON_IsArray(data) && cJSON_GetArraySize(data) == 1 ? cJSON_DetachItemFromArray(data, 0) : NULL;
            if (one) { cJSON_Delete(data); data = one; }
            if (!cJSON_IsObject(data)) {
                fprintf(stderr, "flowc: --mock existing: %s must hold one record (a JSON object)\n", o->mocks[i].file);
                cJSON_Delete(data);
                rc = 2;
                break;
            }
        }
        cJSON_AddItemToObject(given, step, data);
    }
    char **texts = rc == 0 ? set_params(cx, prog, o, &rc) : NULL;   /* defaults, then --param */
    if (rc == 0) {
        FlowMocks mocks = { given, captured, FLOW_MOCK_PREVIEW, o->live, trace, o->limit };
        FlowRunInfo ri;
        flow_run_info_init(&ri, (int64_t)time(NULL) * 1000);
        ri.mocks = &mocks;
        FlowRunStats st;
        FILE *errs = fopen("/dev/null", "w");
        int run = flow_run_flow(prog, cx, fi, &ri, errs, &st);
        if (errs) fclose(errs);
        cJSON *errors = cJSON_DetachItemFromObjectCaseSensitive(captured, "errors");
        if (!errors) errors = cJSON_CreateArray();
        if (o->json) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddStringToObject(doc, "flow", prog->flows[fi].name);
            cJSON_AddBoolToObject(doc, "live", o->live);
            if (prog->environment) cJSON_AddStringToObject(doc, "environment", prog->environment);   /* --env NAME */
            if (run < 0) cJSON_AddStringToObject(doc, "failed", st.fail_msg);
            cJSON_AddItemToObject(doc, "steps", trace);
            cJSON_AddItemToObject(doc, o->live ? "wrote" : "would_write", captured);
            cJSON_AddItemToObject(doc, "errors", errors);
            trace = captured = NULL;
            char *s = flow_json_print_pretty(doc);
            fprintf(out, "%s\n", s ? s : "{}");
            cJSON_free(s);
            cJSON_Delete(doc);
        } else {
            int color = o->color;
            fprintf(out, "%spreview of flow %s%s%s%s (first page, at most %d records%s)\n", color ? "\033[1m" : "",
                    prog->flows[fi].name, prog->environment ? " in environment " : "", prog->environment ? prog->environment : "",
                    color ? "\033[0m" : "", o->limit, o->live ? ", LIVE: imports write" : ", imports do not write");
            for (const cJSON *e = trace->child; e; e = e->next) {
                const cJSON *stp = cJSON_GetObjectItemCaseSensitive(e, "step"), *kind = cJSON_GetObjectItemCaseSensitive(e, "kind");
                const cJSON *arm = cJSON_GetObjectItemCaseSensitive(e, "arm");
                fprintf(out, "\n%s%s %s%s", color ? "\033[1;36m" : "", kind->valuestring, stp->valuestring, color ? "\033[0m" : "");
                if (arm) fprintf(out, "  (arm %s)", arm->valuestring);
                fputc('\n', out);
                put_requests(out, cJSON_GetObjectItemCaseSensitive(e, "requests"), color);
                const cJSON *in = cJSON_GetObjectItemCaseSensitive(e, "in"), *outs = cJSON_GetObjectItemCaseSensitive(e, "out");
                if (in) put_records(out, "in:", in, color);
                if (strcmp(kind->valuestring, "lookup") == 0) put_records(out, "results:", cJSON_GetObjectItemCaseSensitive(e, "results"), color);
                if (strcmp(kind->valuestring, "import") == 0)
                    put_records(out, o->live ? "wrote:" : "would write:", cJSON_GetObjectItemCaseSensitive(captured, stp->valuestring), color);
                else if (outs) put_records(out, strcmp(kind->valuestring, "filter") == 0 ? "kept:" : "out:", outs, color);
            }
            if (cJSON_GetArraySize(errors)) {
                fprintf(out, "\n%serrors%s\n", color ? "\033[1;31m" : "", color ? "\033[0m" : "");
                for (const cJSON *er = errors->child; er; er = er->next) {
                    char *s = flow_json_print(er);
                    fprintf(out, "      %s\n", s ? s : "");
                    cJSON_free(s);
                }
            }
            if (run < 0) fprintf(out, "\nthe run failed: %s\n", st.fail_msg);
            cJSON_Delete(errors);
        }
        if (run < 0) rc = 1;
        else flow_run_stats_free(&st);
    }
    cJSON_Delete(given);
    cJSON_Delete(captured);
    cJSON_Delete(trace);
    flow_ctx_free(cx);
    free_texts(texts, prog ? prog->nparams : 0);
    jit_free(j);
    return rc;
}
