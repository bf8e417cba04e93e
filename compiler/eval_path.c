/* eval_path.c — `flowc eval --path`: an RFC 9535 query over JSON data, printed as a JSON array. */
#include "eval.h"
#include "flow.h"
#include "jsonpath.h"
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct {
    const cJSON **v;
    size_t n, cap;
    bool oom;
} Nodes;

static void collect(const cJSON *node, void *ud) {
    Nodes *ns = ud;
    if (ns->oom) return;
    if (ns->n == ns->cap) {
        size_t nc = ns->cap ? ns->cap * 2 : 16;
        const cJSON **nv = realloc(ns->v, nc * sizeof *nv);
        if (!nv) { ns->oom = true; return; }
        ns->v = nv;
        ns->cap = nc;
    }
    ns->v[ns->n++] = node;
}

int eval_path(const char *query, const char *data_file, FILE *out, FILE *err) {
    char msg[256];
    /* the query first: a bad one is reported without reading any data */
    FlowJsonPath *jp = flow_jsonpath_compile(query, msg, sizeof msg);
    if (!jp) {
        fprintf(err, "flowc: invalid JSONPath: %s\n", msg);
        return 1;
    }
    cJSON *data = NULL;
    if (eval_load_data(data_file, &data, err) != 0) {
        flow_jsonpath_free(jp);
        return 1;
    }
    if (!data) data = cJSON_CreateNull();   /* no data: the document is null */
    Nodes ns = {NULL, 0, 0, false};
    int rc = 0;
    if (flow_jsonpath_eval(jp, data, collect, &ns, msg, sizeof msg) != 0) {
        fprintf(err, "flowc: JSONPath: %s\n", msg);
        rc = 1;
    } else if (ns.oom) {
        fputs("flowc: JSONPath: out of memory\n", err);
        rc = 1;
    } else {
        /* one compact JSON array: each node printed by cJSON, so numbers round-trip */
        fputc('[', out);
        for (size_t i = 0; i < ns.n && rc == 0; i++) {
            char *text = flow_json_print(ns.v[i]);
            if (!text) { fputs("flowc: JSONPath: out of memory\n", err); rc = 1; break; }
            if (i) fputc(',', out);
            fputs(text, out);
            cJSON_free(text);
        }
        if (rc == 0) fputs("]\n", out);
    }
    free(ns.v);
    cJSON_Delete(data);
    flow_jsonpath_free(jp);
    return rc;
}
