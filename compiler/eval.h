/* eval.h — `flowc eval`: a JSONPath query, a template or an expression against JSON data, printed. */
#ifndef FLOWC_EVAL_H
#define FLOWC_EVAL_H
#include <stdio.h>

struct cJSON;

/* Every function returns the exit code of CLI.md: 0 done, 1 bad query/template/expression, bad data
 * or a failed evaluation. Errors go to err, results to out. */
int eval_path(const char *query, const char *data_file, FILE *out, FILE *err);
/* A template rendered as a flow's template setting is (eval.c), with the data as its root context;
 * escape: none, html or json (as a `body` template). */
int eval_template(const char *text, const char *data_file, const char *escape, FILE *out, FILE *err);
/* A Flow expression with `record` bound to the data (eval.c); prints the value as JSON. */
int eval_expr(const char *text, const char *data_file, FILE *out, FILE *err);

/* The data (eval.c): data_file, or standard input for NULL or "-". Without --data, a terminal or an
 * empty standard input is no data: *out NULL (the record is null). 0, or -1 after a message on err. */
int eval_load_data(const char *data_file, struct cJSON **out, FILE *err);

#endif
