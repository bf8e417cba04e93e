/* env.c — the env built-in: the value of an environment variable (a secret: no message ever shows it). */
#include "flow.h"
#include <stdlib.h>
#include <string.h>

static const char *kind_of(FlowVal v) {
    switch (v.kind) {
    case FLOW_NULL: return "null";
    case FLOW_BOOL: return "a bool";
    case FLOW_INT: return "an int";
    case FLOW_NUMBER: return "a number";
    case FLOW_STRING: return "a string";
    case FLOW_DATETIME: return "a datetime";
    case FLOW_DURATION: return "a duration";
    case FLOW_JSON:
        return !v.j || cJSON_IsNull(v.j) ? "null" : cJSON_IsString(v.j) ? "a string" : cJSON_IsNumber(v.j) ? "a number"
             : cJSON_IsBool(v.j) ? "a bool" : cJSON_IsArray(v.j) ? "an array" : cJSON_IsObject(v.j) ? "an object"
             : "an invalid JSON value";
    }
    return "an unknown value";
}

/* env(name): the variable's value, copied to scratch memory. An unset variable is a `missing` error;
 * a name that cannot be one (empty, longer than 255 bytes, holding '=' or a NUL byte) is a `value`
 * error. Messages name the variable, never its value. */
FlowVal flow_fn_env(FlowCtx *cx, FlowVal a) {
    const char *p;
    size_t n;
    if (a.kind == FLOW_STRING) { p = a.s.p ? a.s.p : ""; n = a.s.p ? a.s.n : 0; }
    else if (a.kind == FLOW_JSON && a.j && cJSON_IsString(a.j)) { p = a.j->valuestring ? a.j->valuestring : ""; n = strlen(p); }
    else return flow_fail(cx, FLOW_ERR_VALUE, "env: expected a string, got %s", kind_of(a));
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
    return flow_string(d, vn);
}
