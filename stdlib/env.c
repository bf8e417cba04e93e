/* env.c — the env built-in: the value of an environment variable (a secret: no message ever shows it). */
#include "flow.h"
#include <stdlib.h>
#include <string.h>

/* env(name): the variable's value, copied to scratch memory. An unset variable is a `missing` error;
 * a name that cannot be one (empty, longer than 255 bytes, holding '=' or a NUL byte) is a `value`
 * error. Messages name the variable, never its value. */
FlowVal flow_fn_env(FlowCtx *cx, FlowVal a) {
    const char *p;
    size_t n;
    if (a.kind == FLOW_STRING) { p = a.s.p ? a.s.p : ""; n = a.s.p ? a.s.n : 0; }
    else if (a.kind == FLOW_JSON && a.j && cJSON_IsString(a.j)) { p = a.j->valuestring ? a.j->valuestring : ""; n = strlen(p); }
    else return flow_fail(cx, FLOW_ERR_VALUE, "env: expected a string, got %s", flow_val_desc(a));
    if (n == 0 || n > 255 || memchr(p, '=', n) || memchr(p, 0, n))
        return flow_fail(cx, FLOW_ERR_VALUE, "env: \"%.*s\" is not a valid environment variable name", n > 64 ? 64 : (int)n, p);
    char name[256];
    memcpy(name, p, n);
    name[n] = 0;
    const char *v = getenv(name);
    if (!v) return flow_fail(cx, FLOW_ERR_MISSING, "environment variable %s is not set", name);
    size_t vn = strlen(v);
    char *d = flow_scratch_alloc(cx, vn + 1);
    memcpy(d, v, vn);
    flow_ctx_add_secret(cx, v, vn);   /* never to be printed: the engine redacts it */
    return flow_string(d, vn);
}
