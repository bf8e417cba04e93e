/* libFuzzer target for `make fuzz`: RFC 9535 JSONPath (runtime/jsonpath.c) on arbitrary input. The
 * bytes up to the first newline are the query, the rest the JSON document. The query is compiled
 * (it must be refused cleanly or compiled); when it compiles and the rest is JSON, it is evaluated
 * and every node it returns must be a node of the document. Nothing may crash, hang, leak or read
 * out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct { const cJSON *root; size_t n; } Seen;

/* Is node inside the tree at r? (each node is checked: a node list points into the document) */
static int inside(const cJSON *r, const cJSON *node, int depth) {
    if (r == node) return 1;
    if (depth > 2000) return 0;
    for (const cJSON *c = r->child; c; c = c->next)
        if (inside(c, node, depth + 1)) return 1;
    return 0;
}

static void emit(const cJSON *node, void *ud) {
    Seen *s = ud;
    if (!node || (s->n < 64 && !inside(s->root, node, 0))) abort();   /* a node not from the document */
    s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *nl = memchr(data, '\n', size);
    size_t qlen = nl ? (size_t)(nl - (const char *)data) : size;
    char *query = malloc(qlen + 1);
    if (!query) return 0;
    memcpy(query, data, qlen);
    query[qlen] = 0;
    char err[256];
    FlowJsonPath *jp = flow_jsonpath_compile(query, err, sizeof err);
    if (!jp && !err[0]) abort();   /* a refused query always says why */
    if (jp && nl) {
        cJSON *doc = cJSON_ParseWithLength(nl + 1, size - qlen - 1);
        if (doc) {
            Seen s = { doc, 0 };
            if (flow_jsonpath_eval(jp, doc, emit, &s, err, sizeof err) != 0 && !err[0]) abort();
            cJSON_Delete(doc);
        }
    }
    flow_jsonpath_free(jp);
    free(query);
    return 0;
}
