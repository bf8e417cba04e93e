/* collections.c — the collection built-ins (count sum first last keys values) and the null helpers has and coalesce. */
#include "flow.h"
#include <math.h>
#include <string.h>

/* Arrays and objects are json values (cJSON trees). New arrays are built with cJSON and handed to the
 * scratch arena (flow_scratch_keep); elements returned by first and last point into the argument. */

/* The array a list argument holds; otherwise a `value` error naming fn. */
static const cJSON *arg_array(FlowCtx *cx, FlowVal v, const char *fn) {
    if (v.kind == FLOW_JSON && v.j && cJSON_IsArray(v.j)) return v.j;
    flow_fail(cx, FLOW_ERR_VALUE, "%s: expected an array, got %s", fn, flow_val_desc(v));
    return NULL;
}

static const cJSON *arg_object(FlowCtx *cx, FlowVal v, const char *fn) {
    if (v.kind == FLOW_JSON && v.j && cJSON_IsObject(v.j)) return v.j;
    flow_fail(cx, FLOW_ERR_VALUE, "%s: expected an object, got %s", fn, flow_val_desc(v));
    return NULL;
}

FlowVal flow_fn_count(FlowCtx *cx, FlowVal a) {
    const cJSON *arr = arg_array(cx, a, "count");
    if (!arr) return flow_null();
    int64_t n = 0;
    for (const cJSON *e = arr->child; e; e = e->next) n++;
    return flow_int(n);
}

/* sum(list): a number; every element must be a number (null included: it is an error, not 0). When
 * every element is a whole number the sum is exact (an int at run time, past 2^53 too) as long as it
 * stays in the int64 range; otherwise it is the sum of the doubles. */
FlowVal flow_fn_sum(FlowCtx *cx, FlowVal a) {
    const cJSON *arr = arg_array(cx, a, "sum");
    if (!arr) return flow_null();
    double total = 0;
    int64_t exact = 0;
    int ints = 1;
    long long k = 0;
    for (const cJSON *e = arr->child; e; e = e->next, k++) {
        if (!cJSON_IsNumber(e)) return flow_fail(cx, FLOW_ERR_VALUE, "sum: expected numbers, element %lld is %s", k, flow_json_desc(e));
        int64_t i;
        if (ints && (!flow_json_get_int(e, &i) || __builtin_add_overflow(exact, i, &exact))) ints = 0;
        total += e->valuedouble;
    }
    if (ints) return flow_int(exact);
    if (!isfinite(total)) return flow_fail(cx, FLOW_ERR_VALUE, "sum: the total is out of range");
    return flow_number(total);
}

/* first / last: the element (as json; a JSON null element is null), or null for an empty array. */
FlowVal flow_fn_first(FlowCtx *cx, FlowVal a) {
    const cJSON *arr = arg_array(cx, a, "first");
    return arr && arr->child ? flow_json(arr->child) : flow_null();
}

FlowVal flow_fn_last(FlowCtx *cx, FlowVal a) {
    const cJSON *arr = arg_array(cx, a, "last");
    if (!arr || !arr->child) return flow_null();
    const cJSON *e = arr->child;
    while (e->next) e = e->next;
    return flow_json(e);
}

/* keys(obj): the member names in the object's order (a repeated name appears each time). */
FlowVal flow_fn_keys(FlowCtx *cx, FlowVal a) {
    const cJSON *obj = arg_object(cx, a, "keys");
    if (!obj) return flow_null();
    cJSON *out = cJSON_CreateArray();
    if (!out) return flow_fail(cx, FLOW_ERR_VALUE, "keys: out of memory");
    flow_scratch_keep(cx, out);
    for (const cJSON *e = obj->child; e; e = e->next) {
        cJSON *k = cJSON_CreateString(e->string ? e->string : "");
        if (!k || !cJSON_AddItemToArray(out, k)) {
            cJSON_Delete(k);
            return flow_fail(cx, FLOW_ERR_VALUE, "keys: out of memory");
        }
    }
    return flow_json(out);
}

/* values(obj): copies of the member values in the object's order. */
FlowVal flow_fn_values(FlowCtx *cx, FlowVal a) {
    const cJSON *obj = arg_object(cx, a, "values");
    if (!obj) return flow_null();
    cJSON *out = cJSON_CreateArray();
    if (!out) return flow_fail(cx, FLOW_ERR_VALUE, "values: out of memory");
    flow_scratch_keep(cx, out);
    for (const cJSON *e = obj->child; e; e = e->next) {
        cJSON *v = cJSON_Duplicate(e, 1);
        if (!v) return flow_fail(cx, FLOW_ERR_VALUE, "values: out of memory");
        if (v->string && !(v->type & cJSON_StringIsConst)) cJSON_free(v->string);   /* array items have no name */
        v->string = NULL;
        v->type &= ~cJSON_StringIsConst;
        if (!cJSON_AddItemToArray(out, v)) {
            cJSON_Delete(v);
            return flow_fail(cx, FLOW_ERR_VALUE, "values: out of memory");
        }
    }
    return flow_json(out);
}

/* has(x): x is not null (json holding JSON null is null). */
FlowVal flow_fn_has(FlowCtx *cx, FlowVal a) { return flow_bool(!flow_val_is_null(a)); }

/* coalesce(a, b, ...): the first argument that is not null, or null. */
FlowVal flow_fn_coalesce(FlowCtx *cx, int n, const FlowVal *args) {
    for (int k = 0; args && k < n; k++)
        if (!flow_val_is_null(args[k])) return args[k];
    return flow_null();
}
