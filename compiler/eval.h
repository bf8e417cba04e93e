/* eval.h — `flowc eval`: a JSONPath query, a template or an expression against JSON data, printed. */
#ifndef FLOWC_EVAL_H
#define FLOWC_EVAL_H
#include <stdio.h>

/* Every function returns the exit code of CLI.md: 0 done, 1 bad query/template/expression or bad data.
 * data_file NULL or "-" reads standard input. Errors go to err, results to out. */
int eval_path(const char *query, const char *data_file, FILE *out, FILE *err);
int eval_template(const char *text, const char *data_file, const char *escape, FILE *out, FILE *err);
/* A Flow expression with `record` bound to the data; prints the value as JSON. */
int eval_expr(const char *text, const char *data_file, FILE *out, FILE *err);

/* Evaluates a checked IR expression (eval_expr.c): `record` is record; bare names (test
 * expectations) are looked up in names, where `xs.count` of an array is its length. */
struct IrExpr;
struct FlowCtx;
#include "flow.h"
FlowVal eval_ir(FlowCtx *cx, const struct IrExpr *x, const cJSON *record, const cJSON *names);

/* Reads and parses the JSON data (eval.c). Returns NULL after printing a message to err.
 * The result is a cJSON tree the caller frees with cJSON_Delete. */
struct cJSON *eval_load_data(const char *data_file, FILE *err);

#endif
