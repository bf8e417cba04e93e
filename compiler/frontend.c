/* frontend.c — the front-end pipeline: text -> AST (grammar/) -> IR (lower) -> typed IR (check). */
#include "frontend.h"
#include "check.h"
#include "hooks.h"
#include "ir.h"
#include "lower.h"
#include "parse.h"
#include <string.h>

void fe_run(FeResult *r, Source *src, Diags *diags, FeStage upto) {
    memset(r, 0, sizeof *r);
    r->arena = arena_new();
    r->src = src;
    int before = diags->errors;
    r->ast = parse_source(r->arena, diags, src);
    /* after a syntax error the tree has holes: checking it would report errors that are not there */
    if (upto == FE_PARSE || diag_full(diags) || diags->errors > before) return;
    r->ir = lower_program(r->arena, diags, src, r->ast);
    if (upto == FE_LOWER || diag_full(diags) || !r->ir) return;
    chk_program(r->arena, diags, r->ir);
}

void fe_check(FeResult *r, Source *src, Diags *diags) {
    fe_run(r, src, diags, FE_CHECK);
    hooks_check(r->ir, src, diags);              /* hook files: where they are, what they are, that they compile */
    hooks_check_test_files(r->ir, src, diags);   /* test blocks' data files: by the same rule */
    diag_sort(diags);
}

void fe_result_free(FeResult *r) {
    arena_free(r->arena);
    memset(r, 0, sizeof *r);
}

int fe_check_buffer(const char *name, const char *data, size_t len) {
    Source *src = src_from_buffer(name, data, len);
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    int errors = d.errors;
    fe_result_free(&r);
    diag_free(&d);
    src_free(src);
    return errors;
}
