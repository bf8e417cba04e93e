/* jsonpath.h — RFC 9535 JSONPath: compile a query once, evaluate it against cJSON documents. */
#ifndef FLOW_JSONPATH_H
#define FLOW_JSONPATH_H
#include <stddef.h>
#include <cjson/cJSON.h>

/* A compiled query. Immutable after compilation: one query may be evaluated by several threads at
 * once. Nothing in this module keeps global mutable state. */
typedef struct FlowJsonPath FlowJsonPath;

/* Compiles a query; NULL and a message (with the 1-based character position) in err on a syntax
 * error. Ill-typed filters (RFC 9535 §2.4.3: a non-singular query compared, a function result of
 * the wrong type, an uncompared literal) are syntax errors too. Nesting of filters, parentheses
 * and function calls is limited (FLOW_JSONPATH_MAX_NESTING); deeper queries are refused. */
FlowJsonPath *flow_jsonpath_compile(const char *text, char *err, size_t errlen);

void flow_jsonpath_free(FlowJsonPath *p);

/* Calls emit for each node of the result, in RFC 9535 order; nodes point into root (not copies).
 * Returns 0, or -1 with a message in err on a run-time limit: a document nested deeper than
 * FLOW_JSONPATH_MAX_DEPTH where a filter compares values that deep, a node list longer
 * than FLOW_JSONPATH_MAX_NODES, more work than FLOW_JSONPATH_MAX_WORK steps, or no memory.
 * On -1, emit has not been called. */
int flow_jsonpath_eval(const FlowJsonPath *p, const cJSON *root,
                       void (*emit)(const cJSON *node, void *ud), void *ud,
                       char *err, size_t errlen);

#define FLOW_JSONPATH_MAX_NESTING 64           /* filters, parentheses, function calls in a query */
#define FLOW_JSONPATH_MAX_DEPTH   1024         /* document depth for deep equality */
#define FLOW_JSONPATH_MAX_NODES   (1u << 24)   /* nodes in one node list */
#define FLOW_JSONPATH_MAX_WORK    50000000u    /* steps (nodes visited, tests, regex steps) per evaluation */

#endif
