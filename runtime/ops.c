/* ops.c — the operators and record access that generated code calls (flow.h, "operators and record
 * access used by generated code"): arithmetic, negation, comparisons and `in`; condition and template
 * truthiness; field and index reads; the conversions of a map entry's type override; writes into
 * records and into objects being built; text buffers; static tables.
 *
 * Every function is total. The compiler has checked the operand types, but a json value may hold
 * anything at run time: json operands are unwrapped (a JSON number is a number, a JSON string a
 * string, a JSON bool a bool), and what still does not fit, null included, fails the record with a
 * `value` error naming the operator and the kinds, and yields null. Results computed from json operands
 * have the kind they have at run time (an int, a number, a string...), never FLOW_JSON; a JSON number
 * is a number, or an int when it carries an exact int beyond 2^53 (flow.h). New text lives
 * in scratch memory (flow_scratch_alloc); nothing here owns a FlowVal (flow.h).
 *
 * Arithmetic follows docs/language.md: int op int is an int (overflow is an error) except `/`, which
 * always gives a number; `%` of numbers is fmod; division or remainder by zero and non-finite results
 * are errors; datetimes made here stay within +-8.64e15 ms. Comparisons are exact across int and
 * number; a string next to a datetime is read as ISO-8601, a json number next to a duration as ms. */
#include "flow.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX 48                         /* bytes of a text quoted in an error message */
#define QUOTE_BUF (QUOTE_MAX * 4 + 8)
#define DESC_BUF (QUOTE_BUF + 16)
#define INT_LO -9223372036854775808.0        /* the int64 range as doubles: [INT_LO, INT_HI) */
#define INT_HI 9223372036854775808.0
#define TEXT_MAX (SIZE_MAX / 4)              /* a text buffer longer than this is refused */
#define DT_MAX INT64_C(8640000000000000)     /* datetimes made here stay within +-275760 years (as in JavaScript) */

static const char *const arith_sym[] = { "+", "-", "*", "/", "%" };
static const char *const cmp_sym[] = { "==", "!=", "<", "<=", ">", ">=" };

/* ---- kinds, unwrapping, messages ---- */

/* The value as it is at run time: json numbers, strings and bools become numbers, strings and bools;
 * JSON null (and a FLOW_JSON without a tree) becomes null; arrays and objects stay FLOW_JSON. A string
 * without bytes gets a non-NULL pointer. */
static FlowVal unwrap(FlowVal v) {
    if (v.kind == FLOW_STRING) return v.s.p ? v : flow_string("", 0);
    if (v.kind != FLOW_JSON) return v;
    const cJSON *j = v.j;
    if (!j || cJSON_IsNull(j)) return flow_null();
    if (cJSON_IsNumber(j)) {
        int64_t i;
        if (j->valuestring && flow_json_big_int(j, &i)) return flow_int(i);    /* an exact int past 2^53 */
        /* a whole number in the int64 range is an int (the JSON reader keeps the text of a whole
         * number that is not that int), so `+ - *` on it are exact past 2^53 and overflow is an error */
        double d = j->valuedouble;
        if (!j->valuestring && d >= INT_LO && d < INT_HI && d == (double)(int64_t)d) return flow_int((int64_t)d);
        return flow_number(d);
    }
    if (cJSON_IsString(j)) {
        const char *s = j->valuestring ? j->valuestring : "";
        return flow_string(s, strlen(s));
    }
    if (cJSON_IsBool(j)) return flow_bool(cJSON_IsTrue(j));
    return v;
}

static int is_num(FlowVal v) { return v.kind == FLOW_INT || v.kind == FLOW_NUMBER; }
static double dbl(FlowVal v) { return v.kind == FLOW_INT ? (double)v.i : v.n; }
static int is_array(FlowVal v) { return v.kind == FLOW_JSON && v.j && cJSON_IsArray(v.j); }
static int is_object(FlowVal v) { return v.kind == FLOW_JSON && v.j && cJSON_IsObject(v.j); }

/* d as an int64 when it is whole and in range. */
static int whole(double d, int64_t *out) {
    if (!(d >= INT_LO && d < INT_HI) || (double)(int64_t)d != d) return 0;
    *out = (int64_t)d;
    return 1;
}

/* "text" for a message (flow_quote, at most QUOTE_MAX bytes) */
#define quoted(out, p, n) flow_quote(out, QUOTE_MAX * 4 + 8, p, n, QUOTE_MAX)

/* An unwrapped value for a message: its text for scalars, its kind for the rest. */
static const char *describe(char out[DESC_BUF], FlowVal v) {
    char nb[40];
    switch (v.kind) {
    case FLOW_BOOL: return v.b ? "true" : "false";
    case FLOW_INT: snprintf(out, DESC_BUF, "%lld", (long long)v.i); return out;
    case FLOW_NUMBER: snprintf(out, DESC_BUF, "%s", flow_num_text(nb, v.n)); return out;
    case FLOW_STRING: return quoted(out, v.s.p, v.s.n);
    case FLOW_DATETIME: flow_format_iso8601(v.i, nb); snprintf(out, DESC_BUF, "the datetime %s", nb); return out;
    case FLOW_DURATION: snprintf(out, DESC_BUF, "a duration of %lld ms", (long long)v.i); return out;
    default: return flow_val_desc(v);
    }
}

/* A NUL-terminated copy in scratch memory. */
static char *scratch_cstr(FlowCtx *cx, const char *p, size_t n) {
    char *z = flow_scratch_alloc(cx, n + 1);
    if (n) memcpy(z, p, n);
    return z;
}

/* ---- arithmetic ---- */

/* The kind of v for a message, x being v unwrapped: a JSON number is "a number" whether unwrap made it
 * an int or not (JSON has one kind of number). */
static const char *desc_of(FlowVal v, FlowVal x) {
    return v.kind == FLOW_JSON && v.j && cJSON_IsNumber(v.j) ? "a number" : flow_val_desc(x);
}

static FlowVal bad_operands(FlowCtx *cx, const char *sym, FlowVal a, FlowVal x, FlowVal b, FlowVal y) {
    return flow_fail(cx, FLOW_ERR_VALUE, "cannot use `%s` on %s and %s", sym, desc_of(a, x), desc_of(b, y));
}

static FlowVal div_zero(FlowCtx *cx, FlowArith op) {
    return flow_fail(cx, FLOW_ERR_VALUE, "division by zero (`%s`)", arith_sym[op]);
}

static FlowVal int_arith(FlowCtx *cx, FlowArith op, int64_t x, int64_t y) {
    int64_t r = 0;
    int over = 0;
    switch (op) {
    case FLOW_OP_ADD: over = __builtin_add_overflow(x, y, &r); break;
    case FLOW_OP_SUB: over = __builtin_sub_overflow(x, y, &r); break;
    case FLOW_OP_MUL: over = __builtin_mul_overflow(x, y, &r); break;
    case FLOW_OP_DIV:
        if (y == 0) return div_zero(cx, op);
        return flow_number((double)x / (double)y);
    case FLOW_OP_MOD:
        if (y == 0) return div_zero(cx, op);
        r = y == -1 ? 0 : x % y;    /* INT64_MIN % -1 is undefined in C; the answer is 0 */
        break;
    }
    if (over)
        return flow_fail(cx, FLOW_ERR_VALUE, "integer overflow in %lld %s %lld", (long long)x, arith_sym[op], (long long)y);
    return flow_int(r);
}

static FlowVal num_arith(FlowCtx *cx, FlowArith op, double x, double y) {
    double r = 0;
    switch (op) {
    case FLOW_OP_ADD: r = x + y; break;
    case FLOW_OP_SUB: r = x - y; break;
    case FLOW_OP_MUL: r = x * y; break;
    case FLOW_OP_DIV: if (y == 0) return div_zero(cx, op); r = x / y; break;
    case FLOW_OP_MOD: if (y == 0) return div_zero(cx, op); r = fmod(x, y); break;
    }
    if (!isfinite(r)) {
        char bx[40], by[40];
        return flow_fail(cx, FLOW_ERR_VALUE, "the result of %s %s %s is not a finite number", flow_num_text(bx, x), arith_sym[op],
                         flow_num_text(by, y));
    }
    return flow_number(r);
}

/* datetime/duration arithmetic; *handled is cleared when the kinds do not combine */
static FlowVal time_arith(FlowCtx *cx, FlowArith op, FlowVal a, FlowVal b, int *handled) {
    FlowKind ka = a.kind, kb = b.kind;
    int64_t r;
    *handled = 1;
    if (op == FLOW_OP_ADD && ((ka == FLOW_DATETIME && kb == FLOW_DURATION) || (ka == FLOW_DURATION && kb == FLOW_DATETIME))) {
        if (__builtin_add_overflow(a.i, b.i, &r) || r > DT_MAX || r < -DT_MAX)
            return flow_fail(cx, FLOW_ERR_VALUE, "the datetime is out of range after `+`");
        return flow_datetime(r);
    }
    if (op == FLOW_OP_SUB && ka == FLOW_DATETIME && kb == FLOW_DURATION) {
        if (__builtin_sub_overflow(a.i, b.i, &r) || r > DT_MAX || r < -DT_MAX)
            return flow_fail(cx, FLOW_ERR_VALUE, "the datetime is out of range after `-`");
        return flow_datetime(r);
    }
    if (op == FLOW_OP_SUB && ka == FLOW_DATETIME && kb == FLOW_DATETIME) {
        if (__builtin_sub_overflow(a.i, b.i, &r)) return flow_fail(cx, FLOW_ERR_VALUE, "duration overflow in `-`");
        return flow_duration(r);
    }
    if ((op == FLOW_OP_ADD || op == FLOW_OP_SUB) && ka == FLOW_DURATION && kb == FLOW_DURATION) {
        int over = op == FLOW_OP_ADD ? __builtin_add_overflow(a.i, b.i, &r) : __builtin_sub_overflow(a.i, b.i, &r);
        if (over) return flow_fail(cx, FLOW_ERR_VALUE, "duration overflow in `%s`", arith_sym[op]);
        return flow_duration(r);
    }
    *handled = 0;
    return flow_null();
}

/* A string next to a datetime (json text, or an ISO literal) read as ISO-8601: 1 when one was
 * converted, 0 when there is no such pair, -1 when the string does not read as a date-time. */
static int iso_pair(FlowVal *a, FlowVal *b) {
    FlowVal *s = a->kind == FLOW_STRING && b->kind == FLOW_DATETIME ? a
               : b->kind == FLOW_STRING && a->kind == FLOW_DATETIME ? b : NULL;
    if (!s) return 0;
    int64_t ms;
    FlowStr t = flow_str_trim(s->s);
    if (!flow_parse_iso8601(t.p, t.n, &ms)) return -1;
    *s = flow_datetime(ms);
    return 1;
}

/* A whole JSON number u (raw unwrapped) compared with a duration is milliseconds. */
static void json_ms_as_duration(FlowVal raw, FlowVal *u) {
    int64_t ms;
    if (raw.kind != FLOW_JSON) return;
    if (u->kind == FLOW_INT) *u = flow_duration(u->i);
    else if (u->kind == FLOW_NUMBER && whole(u->n, &ms)) *u = flow_duration(ms);
}

/* For comparisons, the unwrapped operands x, y of a, b: a string next to a datetime read as ISO-8601
 * (-1 when it does not read as one), and a JSON number next to a duration read as milliseconds, as
 * flow_val_to_json writes durations. */
static int comparable_pair(FlowVal a, FlowVal b, FlowVal *x, FlowVal *y) {
    *x = unwrap(a);
    *y = unwrap(b);
    if (x->kind == FLOW_DURATION) json_ms_as_duration(b, y);
    if (y->kind == FLOW_DURATION) json_ms_as_duration(a, x);
    return iso_pair(x, y);
}

FlowVal flow_op_arith_full(FlowCtx *cx, FlowArith op, FlowVal a, FlowVal b) {
    if ((unsigned)op > FLOW_OP_MOD) return flow_fail(cx, FLOW_ERR_VALUE, "unknown arithmetic operator %d", (int)op);
    FlowVal x = unwrap(a), y = unwrap(b);
    const char *sym = arith_sym[op];
    if (x.kind == FLOW_INT && y.kind == FLOW_INT) return int_arith(cx, op, x.i, y.i);
    if (is_num(x) && is_num(y)) return num_arith(cx, op, dbl(x), dbl(y));
    if (op == FLOW_OP_ADD && x.kind == FLOW_STRING && y.kind == FLOW_STRING) {
        if (x.s.n > TEXT_MAX || y.s.n > TEXT_MAX) return flow_fail(cx, FLOW_ERR_VALUE, "the text joined by `+` is too long");
        size_t n = x.s.n + y.s.n;
        char *p = flow_scratch_alloc(cx, n + 1);
        if (x.s.n) memcpy(p, x.s.p, x.s.n);
        if (y.s.n) memcpy(p + x.s.n, y.s.p, y.s.n);
        return flow_string(p, n);
    }
    if (op == FLOW_OP_SUB) {
        FlowVal x2 = x, y2 = y;
        if (iso_pair(&x2, &y2) == 1) { x = x2; y = y2; }
    }
    int handled;
    FlowVal r = time_arith(cx, op, x, y, &handled);
    if (handled) return r;
    return bad_operands(cx, sym, a, x, b, y);
}

FlowVal flow_op_neg(FlowCtx *cx, FlowVal a) {
    FlowVal x = unwrap(a);
    switch (x.kind) {
    case FLOW_INT:
        if (x.i == INT64_MIN) return flow_fail(cx, FLOW_ERR_VALUE, "integer overflow in -(%lld)", (long long)x.i);
        return flow_int(-x.i);
    case FLOW_NUMBER: return flow_number(-x.n);
    case FLOW_DURATION:
        if (x.i == INT64_MIN) return flow_fail(cx, FLOW_ERR_VALUE, "duration overflow in unary `-`");
        return flow_duration(-x.i);
    default:
        return flow_fail(cx, FLOW_ERR_VALUE, "cannot use unary `-` on %s", desc_of(a, x));
    }
}

/* ---- comparisons ---- */

/* -1, 0, 1; 2 when unordered (NaN). Exact across int and number. */
static int cmp_int_dbl(int64_t i, double d) {
    if (isnan(d)) return 2;
    if (d >= INT_HI) return -1;
    if (d < INT_LO) return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (i != ti) return i < ti ? -1 : 1;
    return d > t ? -1 : d < t ? 1 : 0;
}

static int cmp_num(FlowVal a, FlowVal b) {
    if (a.kind == FLOW_INT && b.kind == FLOW_INT) return (a.i > b.i) - (a.i < b.i);
    if (a.kind == FLOW_INT) return cmp_int_dbl(a.i, b.n);
    if (b.kind == FLOW_INT) { int c = cmp_int_dbl(b.i, a.n); return c == 2 ? 2 : -c; }
    if (isnan(a.n) || isnan(b.n)) return 2;
    return (a.n > b.n) - (a.n < b.n);
}

static int cmp_str(FlowStr a, FlowStr b) {
    size_t m = a.n < b.n ? a.n : b.n;
    int c = m ? memcmp(a.p, b.p, m) : 0;
    if (c) return c < 0 ? -1 : 1;
    return (a.n > b.n) - (a.n < b.n);
}

/* Equality of `==`, `!=` and `in`: flow_val_equal's (null equals only null, int/number promotion,
 * json deep equality, strings by bytes), exact across int and number, with comparable_pair's
 * readings of strings next to datetimes and of json numbers next to durations. */
static int values_equal(FlowVal a, FlowVal b) {
    FlowVal x, y;
    if (comparable_pair(a, b, &x, &y) < 0) return 0;
    if (x.kind == FLOW_NULL || y.kind == FLOW_NULL) return x.kind == y.kind;
    if (is_num(x) && is_num(y)) return cmp_num(x, y) == 0;
    if (x.kind != y.kind) return 0;
    switch (x.kind) {
    case FLOW_BOOL: return x.b == y.b;
    case FLOW_STRING: return cmp_str(x.s, y.s) == 0;
    case FLOW_DATETIME: case FLOW_DURATION: return x.i == y.i;
    case FLOW_JSON: return x.j && y.j && flow_json_equal(x.j, y.j);
    default: return 0;
    }
}

FlowVal flow_op_cmp_full(FlowCtx *cx, FlowCmp op, FlowVal a, FlowVal b) {
    if ((unsigned)op > FLOW_CMP_GE) return flow_fail(cx, FLOW_ERR_VALUE, "unknown comparison operator %d", (int)op);
    if (op == FLOW_CMP_EQ) return flow_bool(values_equal(a, b));
    if (op == FLOW_CMP_NE) return flow_bool(!values_equal(a, b));
    FlowVal x, y;
    const char *sym = cmp_sym[op];
    if (comparable_pair(a, b, &x, &y) < 0) {
        char d[DESC_BUF];
        return flow_fail(cx, FLOW_ERR_VALUE, "cannot compare a datetime with %s using `%s`: not an ISO-8601 date-time",
                         describe(d, x.kind == FLOW_STRING ? x : y), sym);
    }
    int c;
    if (is_num(x) && is_num(y)) c = cmp_num(x, y);
    else if (x.kind == FLOW_STRING && y.kind == FLOW_STRING) c = cmp_str(x.s, y.s);
    else if ((x.kind == FLOW_DATETIME || x.kind == FLOW_DURATION) && x.kind == y.kind) c = (x.i > y.i) - (x.i < y.i);
    else return flow_fail(cx, FLOW_ERR_VALUE, "cannot compare %s with %s using `%s`", desc_of(a, x), desc_of(b, y), sym);
    if (c == 2) return flow_bool(0);    /* NaN: unordered */
    switch (op) {
    case FLOW_CMP_LT: return flow_bool(c < 0);
    case FLOW_CMP_LE: return flow_bool(c <= 0);
    case FLOW_CMP_GT: return flow_bool(c > 0);
    default: return flow_bool(c >= 0);
    }
}

/* Whether needle occurs in hay (bytes; NULs allowed). */
static int has_substring(FlowStr hay, FlowStr needle) {
    if (!needle.n) return 1;
    if (needle.n > hay.n) return 0;
    const char *p = hay.p, *end = hay.p + (hay.n - needle.n) + 1;
    while (p < end) {
        const char *q = memchr(p, (unsigned char)needle.p[0], (size_t)(end - p));
        if (!q) return 0;
        if (memcmp(q, needle.p, needle.n) == 0) return 1;
        p = q + 1;
    }
    return 0;
}

FlowVal flow_op_in(FlowCtx *cx, FlowVal item, FlowVal list) {
    FlowVal l = unwrap(list);
    if (is_array(l)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, l.j)
            if (values_equal(item, flow_json(e))) return flow_bool(1);
        return flow_bool(0);
    }
    if (l.kind == FLOW_STRING) {
        FlowVal x = unwrap(item);
        if (x.kind != FLOW_STRING)
            return flow_fail(cx, FLOW_ERR_VALUE, "`in` a string looks for a string, got %s", desc_of(item, x));
        return flow_bool(has_substring(l.s, x.s));
    }
    return flow_fail(cx, FLOW_ERR_VALUE, "`in` needs an array or a string on its right, got %s", flow_val_desc(l));
}

/* ---- truthiness ---- */

int flow_truth(FlowCtx *cx, FlowVal v, const char *what) {
    if (v.kind == FLOW_BOOL) return v.b != 0;
    FlowVal x = unwrap(v);
    if (x.kind == FLOW_NULL) return 0;
    if (x.kind == FLOW_BOOL) return x.b != 0;
    flow_fail(cx, FLOW_ERR_VALUE, "%s must be a bool, got %s", what ? what : "the condition", desc_of(v, x));
    return 0;
}

int flow_tpl_true(FlowVal v) {
    FlowVal x = unwrap(v);
    switch (x.kind) {
    case FLOW_NULL: return 0;
    case FLOW_BOOL: return x.b != 0;
    case FLOW_INT: case FLOW_DURATION: return x.i != 0;
    case FLOW_NUMBER: return x.n != 0 && !isnan(x.n);
    case FLOW_STRING: return x.s.n != 0;
    case FLOW_DATETIME: return 1;
    case FLOW_JSON: return !(cJSON_IsArray(x.j) && !x.j->child);
    }
    return 0;
}

/* ---- reading records ---- */

FlowVal flow_field(FlowCtx *cx, FlowVal obj, const char *name, FlowKind want, const char *path) {
    const char *what = path ? path : name ? name : "a field";
    FlowVal o = unwrap(obj);
    if (o.kind == FLOW_NULL) return flow_null();    /* a path through a nullable value is nullable */
    if (!name) return flow_fail(cx, FLOW_ERR_VALUE, "%s: no field name", what);
    if (!is_object(o)) return flow_fail(cx, FLOW_ERR_VALUE, "%s: cannot read field `%s` of %s", what, name, flow_val_desc(o));
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(o.j, name);
    if (!item || cJSON_IsNull(item)) return flow_null();
    return flow_val_from_json(cx, item, want, what);
}

FlowVal flow_index(FlowCtx *cx, FlowVal v, FlowVal i, FlowKind want, const char *path) {
    const char *what = path ? path : "the indexed value";
    FlowVal c = unwrap(v), k = unwrap(i);
    if (c.kind == FLOW_NULL) return flow_null();
    const cJSON *item = NULL;
    if (is_array(c)) {
        int64_t ix;
        if (k.kind == FLOW_INT) ix = k.i;
        else if (k.kind != FLOW_NUMBER || !whole(k.n, &ix)) {
            char d[DESC_BUF];
            return flow_fail(cx, FLOW_ERR_VALUE, "%s: an array index must be an int, got %s", what, describe(d, k));
        }
        int64_t size = cJSON_GetArraySize(c.j);
        if (ix < 0) ix += size;
        if (ix < 0 || ix >= size) return flow_null();
        item = cJSON_GetArrayItem(c.j, (int)ix);
    } else if (is_object(c)) {
        if (k.kind != FLOW_STRING)
            return flow_fail(cx, FLOW_ERR_VALUE, "%s: an object is indexed by a string key, got %s", what, flow_val_desc(k));
        if (memchr(k.s.p, 0, k.s.n)) return flow_null();    /* no JSON key holds a NUL here */
        item = cJSON_GetObjectItemCaseSensitive(c.j, scratch_cstr(cx, k.s.p, k.s.n));
    } else {
        return flow_fail(cx, FLOW_ERR_VALUE, "%s: cannot index %s (only arrays and objects)", what, flow_val_desc(c));
    }
    if (!item || cJSON_IsNull(item)) return flow_null();
    return flow_val_from_json(cx, item, want, what);
}

/* ---- type overrides ---- */

static FlowVal cannot(FlowCtx *cx, const char *what, FlowVal x, FlowKind want, const char *why) {
    char d[DESC_BUF];
    return flow_fail(cx, FLOW_ERR_VALUE, "%s: cannot convert %s to %s%s%s", what, describe(d, x), flow_kind_desc(want),
                     why ? ": " : "", why ? why : "");
}

static FlowVal to_int(FlowCtx *cx, FlowVal x, const char *what) {
    int64_t i;
    double d;
    switch (x.kind) {
    case FLOW_INT: return x;
    case FLOW_BOOL: return flow_int(x.b != 0);
    case FLOW_DURATION: return flow_int(x.i);                        /* milliseconds */
    case FLOW_DATETIME: return flow_int(x.i >= 0 ? x.i / 1000 : -((-(x.i + 1)) / 1000) - 1);   /* epoch seconds */
    case FLOW_NUMBER:
        if (whole(x.n, &i)) return flow_int(i);
        return cannot(cx, what, x, FLOW_INT, x.n == floor(x.n) ? "out of the int range" : "not a whole number");
    case FLOW_STRING: {
        FlowStr t = flow_str_trim(x.s);
        int rc = flow_text_int(t, &i);
        if (rc == FLOW_TEXT_OK) return flow_int(i);
        if (rc == FLOW_TEXT_RANGE) return cannot(cx, what, x, FLOW_INT, "out of the int range");
        rc = flow_text_number(cx, t, &d);
        if (rc == FLOW_TEXT_SYNTAX) return cannot(cx, what, x, FLOW_INT, "not a number");
        if (rc == FLOW_TEXT_OK && whole(d, &i)) return flow_int(i);
        return cannot(cx, what, x, FLOW_INT, rc == FLOW_TEXT_RANGE || d == floor(d) ? "out of the int range" : "not a whole number");
    }
    default: return cannot(cx, what, x, FLOW_INT, NULL);
    }
}

static FlowVal to_number(FlowCtx *cx, FlowVal x, const char *what) {
    double d;
    switch (x.kind) {
    case FLOW_NUMBER: return x;
    case FLOW_INT: return flow_number((double)x.i);
    case FLOW_BOOL: return flow_number(x.b ? 1 : 0);
    case FLOW_DURATION: return flow_number((double)x.i);             /* milliseconds */
    case FLOW_DATETIME: return flow_number((double)x.i / 1000.0);    /* epoch seconds */
    case FLOW_STRING: {
        int rc = flow_text_number(cx, flow_str_trim(x.s), &d);
        if (rc == FLOW_TEXT_OK) return flow_number(d);
        return cannot(cx, what, x, FLOW_NUMBER, rc == FLOW_TEXT_RANGE ? "out of range" : "not a number");
    }
    default: return cannot(cx, what, x, FLOW_NUMBER, NULL);
    }
}

static FlowVal to_bool(FlowCtx *cx, FlowVal x, const char *what) {
    switch (x.kind) {
    case FLOW_BOOL: return x;
    case FLOW_INT:
        if (x.i == 0 || x.i == 1) return flow_bool(x.i == 1);
        return cannot(cx, what, x, FLOW_BOOL, "not 0 or 1");
    case FLOW_NUMBER:
        if (x.n == 0 || x.n == 1) return flow_bool(x.n == 1);
        return cannot(cx, what, x, FLOW_BOOL, "not 0 or 1");
    case FLOW_STRING: {
        FlowStr t = flow_str_trim(x.s);
        if (flow_word_is(t, "true") || flow_word_is(t, "yes") || flow_word_is(t, "1")) return flow_bool(1);
        if (flow_word_is(t, "false") || flow_word_is(t, "no") || flow_word_is(t, "0")) return flow_bool(0);
        return cannot(cx, what, x, FLOW_BOOL, "expected true/false, yes/no or 1/0");
    }
    default: return cannot(cx, what, x, FLOW_BOOL, NULL);
    }
}

/* ISO-8601 text or epoch seconds as a datetime */
static FlowVal to_datetime(FlowCtx *cx, FlowVal x, const char *what) {
    int64_t ms;
    switch (x.kind) {
    case FLOW_DATETIME: return x;
    case FLOW_INT:
        if (__builtin_mul_overflow(x.i, (int64_t)1000, &ms) || ms > DT_MAX || ms < -DT_MAX)
            return cannot(cx, what, x, FLOW_DATETIME, "out of range");
        return flow_datetime(ms);
    case FLOW_NUMBER: {
        double d = floor(x.n * 1000.0 + 0.5);    /* to the nearest millisecond */
        if (!(d >= -(double)DT_MAX && d <= (double)DT_MAX)) return cannot(cx, what, x, FLOW_DATETIME, "out of range");
        return flow_datetime((int64_t)d);
    }
    case FLOW_STRING: {
        FlowStr t = flow_str_trim(x.s);
        if (flow_parse_iso8601(t.p, t.n, &ms)) return flow_datetime(ms);
        return cannot(cx, what, x, FLOW_DATETIME, "not an ISO-8601 date-time");
    }
    default: return cannot(cx, what, x, FLOW_DATETIME, NULL);
    }
}

/* milliseconds as a duration */
static FlowVal to_duration(FlowCtx *cx, FlowVal x, const char *what) {
    int64_t i;
    switch (x.kind) {
    case FLOW_DURATION: return x;
    case FLOW_INT: return flow_duration(x.i);
    case FLOW_NUMBER:
        if (whole(x.n, &i)) return flow_duration(i);
        return cannot(cx, what, x, FLOW_DURATION, "not a whole number of milliseconds");
    default: return cannot(cx, what, x, FLOW_DURATION, NULL);
    }
}

FlowVal flow_convert(FlowCtx *cx, FlowVal v, FlowKind want, const char *what) {
    if (!what) what = "value";
    if (want == FLOW_JSON) return v;
    FlowVal x = unwrap(v);
    if (x.kind == FLOW_NULL || want == FLOW_NULL) return flow_null();
    switch (want) {
    case FLOW_STRING: {
        if (x.kind == FLOW_STRING) return x;
        FlowStr t = flow_val_text(cx, x);
        return flow_string(t.p ? t.p : "", t.p ? t.n : 0);
    }
    case FLOW_INT: return to_int(cx, x, what);
    case FLOW_NUMBER: return to_number(cx, x, what);
    case FLOW_BOOL: return to_bool(cx, x, what);
    case FLOW_DATETIME: return to_datetime(cx, x, what);
    case FLOW_DURATION: return to_duration(cx, x, what);
    default: return flow_fail(cx, FLOW_ERR_VALUE, "%s: cannot convert to an unknown kind %d", what, (int)want);
    }
}

/* ---- writing records and built objects ---- */

/* A copy of v as a fresh cJSON tree (a string without bytes may have no pointer). */
static cJSON *copy_json(FlowVal v) {
    if (v.kind == FLOW_STRING && !v.s.p) v = flow_string("", 0);
    return flow_val_to_json(v);
}

/* Puts item (owned) under key in obj, replacing the first member of that name. 0 when that failed
 * (out of memory): item is freed. */
static int put_member(cJSON *obj, const char *key, cJSON *item) {
    if (!item) return 0;
    int ok = cJSON_GetObjectItemCaseSensitive(obj, key) ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item)
                                                       : cJSON_AddItemToObject(obj, key, item);
    if (!ok) cJSON_Delete(item);
    return ok;
}

void flow_set_path(FlowCtx *cx, cJSON *rec, const char *const *path, int n, FlowVal v) {
    if (!rec || !path || n <= 0) return;
    if (!cJSON_IsObject(rec)) {
        if (cx) flow_fail(cx, FLOW_ERR_VALUE, "cannot set %s...: the record is %s, not an object", path[0] ? path[0] : "a field", flow_json_desc(rec));
        return;
    }
    for (int k = 0; k < n; k++) if (!path[k]) return;
    cJSON *copy = copy_json(v);    /* first: v may point into the part that is replaced */
    if (!copy) return;
    cJSON *cur = rec;
    for (int k = 0; k + 1 < n; k++) {
        cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, path[k]);
        if (!next || !cJSON_IsObject(next)) {
            next = cJSON_CreateObject();
            if (!put_member(cur, path[k], next)) { cJSON_Delete(copy); return; }
        }
        cur = next;
    }
    put_member(cur, path[n - 1], copy);
}

void flow_remove_path(cJSON *rec, const char *const *path, int n) {
    if (!rec || !path || n <= 0) return;
    cJSON *cur = rec;
    for (int k = 0; k + 1 < n && cur; k++) {
        if (!path[k] || !cJSON_IsObject(cur)) return;
        cur = cJSON_GetObjectItemCaseSensitive(cur, path[k]);
    }
    if (!cur || !cJSON_IsObject(cur) || !path[n - 1]) return;
    while (cJSON_GetObjectItemCaseSensitive(cur, path[n - 1]))    /* every duplicate of the key */
        cJSON_DeleteItemFromObjectCaseSensitive(cur, path[n - 1]);
}

void flow_obj_put(cJSON *obj, const char *key, FlowVal v) {
    if (!obj || !key || !cJSON_IsObject(obj)) return;
    put_member(obj, key, copy_json(v));
}

void flow_obj_add(cJSON *obj, const char *key, FlowVal v) {
    if (!obj || !key || !cJSON_IsObject(obj)) return;
    cJSON *item = copy_json(v);
    if (item && !cJSON_AddItemToObjectCS(obj, key, item)) cJSON_Delete(item);
}

void flow_tv_put(FlowTOut *o, int i, FlowVal v) {
    if (v.kind == FLOW_DATETIME || v.kind == FLOW_DURATION) {   /* as copy_json gives them: text, an int */
        if (v.kind == FLOW_DURATION) v = flow_int(v.i);
        else {
            cJSON *j = copy_json(v);
            char *t = flow_arena_alloc(o->a, strlen(j->valuestring) + 1);
            strcpy(t, j->valuestring);
            v = flow_string(t, strlen(t));
            cJSON_Delete(j);
            o->v[i] = v;
            o->has[i] = 1;
            return;
        }
    }
    int64_t whole;
    /* a number whose text in the generic map's object is not its value's (-0; a json number printed
     * as read, e.g. 9007199254740993.5): that object is made, so destinations that write text (COPY)
     * write the same either way */
    if (v.kind == FLOW_JSON && cJSON_IsNumber(v.j) &&
        ((v.j->valuestring && !flow_json_big_int(v.j, &whole)) || (v.j->valuedouble == 0 && signbit(v.j->valuedouble)))) {
        o->bad = 1;
        return;
    }
    if (v.kind == FLOW_NUMBER && v.n == 0 && signbit(v.n)) { o->bad = 1; return; }
    if (v.kind == FLOW_JSON) {   /* a copy of the tree's value: read as the tree reads it (a number's text counts) */
        if (flow_json_scalar(v.j, &v)) { o->bad = 1; return; }
    } else if (v.kind == FLOW_NUMBER && !isfinite(v.n)) v = flow_null();
    else if (v.kind == FLOW_NUMBER && flow_double_int(v.n, &whole)) v = flow_int(whole);   /* as the tree's number reads */
    if (v.kind == FLOW_STRING) {   /* out of the record's scratch into the page's arena, as copy_json keeps it */
        const char *p = v.s.p ? v.s.p : "", *z = memchr(p, 0, v.s.p ? v.s.n : 0);
        size_t n = z ? (size_t)(z - p) : v.s.p ? v.s.n : 0;
        char *t = flow_arena_alloc(o->a, n + 1);
        if (n) memcpy(t, p, n);
        t[n] = 0;
        v = flow_string(t, n);
    }
    o->v[i] = v;
    o->has[i] = 1;
}

/* ---- text buffers ---- */

void flow_text_put(FlowCtx *cx, FlowText *t, const char *s, size_t n) {
    if (!t || !s || !n) return;
    if (!t->p) t->n = t->cap = 0;
    if (n > TEXT_MAX || t->n > TEXT_MAX) {
        flow_fail(cx, FLOW_ERR_VALUE, "the text is too long");
        return;
    }
    size_t need = t->n + n + 1;    /* always NUL-terminated */
    if (need > t->cap) {
        size_t cap = t->cap >= 64 ? t->cap : 64;
        while (cap < need) cap *= 2;
        char *p = flow_scratch_alloc(cx, cap);    /* the old buffer stays valid until the reset */
        if (t->n) memcpy(p, t->p, t->n);
        t->p = p;
        t->cap = cap;
    }
    memmove(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = 0;
}

void flow_text_val(FlowCtx *cx, FlowText *t, FlowVal v) {
    if (flow_is_null(v) || (v.kind == FLOW_JSON && (!v.j || cJSON_IsNull(v.j)))) return;
    FlowStr s = flow_val_text(cx, v);
    flow_text_put(cx, t, s.p, s.n);
}

/* appends the value's text as it goes inside a JSON string literal: \" \\ \n \r \t \b \f, other
 * control bytes as \u00XX (a `body` template) */
void flow_text_val_json(FlowCtx *cx, FlowText *t, FlowVal v) {
    if (flow_is_null(v) || (v.kind == FLOW_JSON && (!v.j || cJSON_IsNull(v.j)))) return;
    FlowStr s = flow_val_text(cx, v);
    size_t run = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        char esc[8];
        const char *r = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                      : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        if (!r && c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); r = esc; }
        if (!r) continue;
        flow_text_put(cx, t, s.p + run, i - run);
        flow_text_put(cx, t, r, strlen(r));
        run = i + 1;
    }
    flow_text_put(cx, t, s.p + run, s.n - run);
}

FlowVal flow_unmask(FlowCtx *cx, const char *masked, size_t n) {
    char *t = flow_scratch_alloc(cx, n + 1);
    for (size_t i = 0; i < n; i++) t[i] = (char)(masked[n + i] ^ masked[i]);
    /* the engine redacts it as part of its secret setting's value (an api_key's header name, also
     * stored masked, is not itself secret) */
    return flow_string(t, n);
}

size_t flow_pct_encode(char *out, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    char *w = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~')
            *w++ = (char)c;
        else { *w++ = '%'; *w++ = hex[c >> 4]; *w++ = hex[c & 15]; }
    }
    *w = 0;
    return (size_t)(w - out);
}

/* appends the value's text percent-encoded (an http `path` template): nothing in it can end the
 * segment or start a query or fragment, and a value that is `.` or `..` (a dot segment, which
 * would move up the path) fails the record */
void flow_text_val_url(FlowCtx *cx, FlowText *t, FlowVal v) {
    if (flow_is_null(v) || (v.kind == FLOW_JSON && (!v.j || cJSON_IsNull(v.j)))) return;
    FlowStr s = flow_val_text(cx, v);
    if ((s.n == 1 && s.p[0] == '.') || (s.n == 2 && s.p[0] == '.' && s.p[1] == '.')) {
        flow_fail(cx, FLOW_ERR_VALUE, "path: the value `%.*s` is a dot segment, which would move the request up the path",
                  (int)s.n, s.p);
        return;
    }
    if (s.n > TEXT_MAX / 3) { flow_fail(cx, FLOW_ERR_VALUE, "the text is too long"); return; }
    char *e = flow_scratch_alloc(cx, s.n * 3 + 1);
    size_t n = flow_pct_encode(e, s.p, s.n);
    flow_text_put(cx, t, e, n);
}

FlowVal flow_text_done(FlowText *t) {
    if (!t || !t->p) return flow_string("", 0);
    return flow_string(t->p, t->n);
}

/* ---- static tables ---- */

/* The text (bytes, maybe with NULs) against a table key, in strcmp order. */
static int key_cmp(FlowStr text, const char *key) {
    for (size_t i = 0;; i++) {
        unsigned char k = (unsigned char)key[i];
        if (i == text.n) return k ? -1 : 0;
        if (!k) return 1;
        unsigned char c = (unsigned char)text.p[i];
        if (c != k) return c < k ? -1 : 1;
    }
}

static FlowVal entry_value(FlowCtx *cx, const FlowTableEntry *e) {
    const char *text = e->text ? e->text : "";
    switch (e->kind) {
    case FLOW_STRING: return flow_string(text, strlen(text));
    case FLOW_BOOL: return flow_bool(e->num != 0);
    case FLOW_NUMBER: return flow_number(e->num);
    case FLOW_INT: case FLOW_DURATION: case FLOW_DATETIME: {
        int64_t i;
        if (e->kind == FLOW_DATETIME && e->text && flow_parse_iso8601(text, strlen(text), &i)) return flow_datetime(i);
        if (e->kind == FLOW_INT && e->text && flow_text_int((FlowStr){ text, strlen(text) }, &i) == FLOW_TEXT_OK) return flow_int(i);
        if (!whole(e->num, &i)) return flow_number(e->num);
        return e->kind == FLOW_INT ? flow_int(i) : e->kind == FLOW_DURATION ? flow_duration(i) : flow_datetime(i);
    }
    case FLOW_JSON: {
        const cJSON *j = e->text ? flow_scratch_keep(cx, flow_json_parse(e->text, strlen(e->text), NULL)) : NULL;
        return j ? flow_json(j) : flow_null();
    }
    default: return flow_null();
    }
}

FlowVal flow_table_get(FlowCtx *cx, const FlowTableEntry *t, int n, FlowVal key) {
    if (!t || n <= 0) return flow_null();
    FlowVal k = unwrap(key);
    if (k.kind == FLOW_NULL || k.kind == FLOW_JSON) return flow_null();    /* arrays and objects name no entry */
    FlowStr text = k.kind == FLOW_STRING ? k.s : flow_val_text(cx, k);
    if (!text.p) text = (FlowStr){ "", 0 };
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = t[mid].key ? key_cmp(text, t[mid].key) : 1;
        if (c == 0) return entry_value(cx, &t[mid]);
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return flow_null();
}

int flow_tpl_section_true(FlowVal v) {
    if (v.kind == FLOW_NULL) return 0;
    if (v.kind == FLOW_BOOL) return v.b;
    if (v.kind == FLOW_JSON) {
        if (!v.j || cJSON_IsNull(v.j) || cJSON_IsFalse(v.j)) return 0;
        if (cJSON_IsArray(v.j)) return cJSON_GetArraySize(v.j) > 0;
    }
    return 1;
}
