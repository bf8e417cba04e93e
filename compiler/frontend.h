/* frontend.h — runs the front-end stages in order (parse, lower, check) for one file; no printing, no exit. */
#ifndef FLOWC_FRONTEND_H
#define FLOWC_FRONTEND_H
#include <stddef.h>
#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

struct IrProgram;

typedef enum { FE_PARSE, FE_LOWER, FE_CHECK } FeStage;

typedef struct FeResult {
    Arena *arena;
    Source *src;
    AstNode *ast;
    struct IrProgram *ir;      /* NULL if parsing failed */
} FeResult;

/* Runs the stages up to `upto`, appending to diags. Lowering and checking run only on a file without
 * syntax errors: every syntax error is reported, and no false errors follow from the holes they leave. */
void fe_run(FeResult *r, Source *src, Diags *diags, FeStage upto);
void fe_result_free(FeResult *r);
/* What `flowc check` does for one file: fe_run to FE_CHECK, then the hook files and the test blocks'
 * data files it names (hooks.c), with the diagnostics sorted by position. The language server runs the
 * same, so the two cannot give different diagnostics. */
void fe_check(FeResult *r, Source *src, Diags *diags);

/* Parse and check a buffer of any bytes; prints nothing, frees everything; returns the error count.
 * Used by the fuzzer. */
int fe_check_buffer(const char *name, const char *data, size_t len);

#endif
