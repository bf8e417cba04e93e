/* emit_c.h — typed IR -> C against runtime/flow.h: per-record functions and the static program table. */
#ifndef FLOWC_EMIT_C_H
#define FLOWC_EMIT_C_H
#include "diag.h"
#include "ir.h"
#include <stdio.h>

typedef struct EmitParam { const char *name, *value; } EmitParam;   /* -P name=value at build time */

/* Writes the C text of a checked program. Returns 0, or the number of errors it reported (a
 * construct the back end cannot compile yet is an error at its span, never silently dropped). */
int emit_c(FILE *out, Diags *diags, const IrProgram *p, const EmitParam *params, int nparams, int with_main);

/* How {{values}} of a template are escaped when the expression is one (flowc eval --escape). */
typedef enum { EMIT_ESC_NONE, EMIT_ESC_JSON, EMIT_ESC_HTML } EmitEscape;

/* One checked expression (flowc eval: `record` is json) as a whole translation unit defining
 * `FlowVal NAME(FlowCtx *cx, cJSON *rec)`, through the same code a flow's steps are written with. */
int emit_c_expr(FILE *out, Diags *diags, const Source *src, const IrExpr *x, const char *name, EmitEscape escape);

/* The test blocks' inline givens and expectations, to append to emit_c's output of the same program:
 * `FlowVal flow_test_T_given_G(FlowCtx *cx, cJSON *names)` and `flow_test_T_expect_X` (with
 * `flow_test_T_actual_X` / `flow_test_T_expected_X`, the two sides of a comparison), in which a bare
 * name is a member of `names` and `xs.count` of an array is its length. */
int emit_c_tests(FILE *out, Diags *diags, const IrProgram *p);

/* secret[i] = p->params[i] feeds a SECRET setting (of a connection, a flow or any step): a secret
 * wherever it appears (its value, its default). secret has p->nparams entries. */
void emit_secret_params(const IrProgram *p, int *secret);
/* Whether the program emit_c writes for these -P values bakes in a secret: the value or default of
 * a param that feeds a secret setting, or a string literal inside a secret setting. Such text is
 * stored masked, and `flowc build` writes the executable mode 0700. */
int emit_bakes_secrets(const IrProgram *p, const EmitParam *params, int nparams);

#endif
