/* numbers.c — the number built-ins (floor ceil round abs min max to_number to_int) and the conversions to_string and to_bool. */
#include "flow.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers are int (int64) or number (double). Text is read in the C locale's syntax: an optional sign,
 * digits with an optional fraction, an optional exponent; ASCII whitespace around it is ignored, and
 * nothing else (no hex, inf, nan or thousands separators) is accepted. */

#define QUOTE_MAX 48   /* bytes of a text quoted in an error message */
#define INT_LO -9223372036854775808.0   /* the int64 range as doubles: [INT_LO, INT_HI) */
#define INT_HI 9223372036854775808.0

/* ---- arguments ---- */

/* A numeric argument: an int (*is_int set, *i), a number or a json number (*d). */
typedef struct { int is_int; int64_t i; double d; } Num;

static int num_of(FlowVal v, Num *out) {
    if (v.kind == FLOW_INT) { *out = (Num){ 1, v.i, (double)v.i }; return 1; }
    if (v.kind == FLOW_NUMBER) { *out = (Num){ 0, 0, v.n }; return 1; }
    if (v.kind == FLOW_JSON && v.j && cJSON_IsNumber(v.j)) {
        int64_t i;
        if (v.j->valuestring && flow_json_big_int(v.j, &i)) *out = (Num){ 1, i, v.j->valuedouble };   /* an exact int */
        else *out = (Num){ 0, 0, v.j->valuedouble };
        return 1;
    }
    return 0;
}

/* num_of, or a `value` error naming fn and param. */
static int arg_num(FlowCtx *cx, FlowVal v, const char *fn, const char *param, Num *out) {
    if (num_of(v, out)) return 1;
    if (param) flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a number for %s, got %s", fn, param, flow_val_desc(v));
    else flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a number, got %s", fn, flow_val_desc(v));
    return 0;
}

/* d converted to int64 when it is whole and in range. */
static int whole(double d, int64_t *out) {
    if (!(d >= INT_LO && d < INT_HI) || (double)(int64_t)d != d) return 0;
    *out = (int64_t)d;
    return 1;
}

/* "text" for a message (flow_quote, at most QUOTE_MAX bytes) */
#define quoted(out, p, n) flow_quote(out, QUOTE_MAX * 4 + 8, p, n, QUOTE_MAX)

/* The text of a string or of json holding a string, trimmed as `trim` trims (flow_str_trim). */
static int text_of(FlowVal v, FlowStr *out) {
    FlowStr t;
    if (!flow_val_str(v, &t)) return 0;
    *out = flow_str_trim(t);
    return 1;
}


/* ---- rounding ---- */

static FlowVal to_int_result(FlowCtx *cx, const char *fn, double r) {
    int64_t i;
    char buf[40];
    if (whole(r, &i)) return flow_int(i);
    return flow_fail(cx, FLOW_ERR_VALUE, "%s: %s is out of the int range", fn, flow_num_text(buf, r));
}

FlowVal flow_fn_floor(FlowCtx *cx, FlowVal a) {
    Num x;
    if (!arg_num(cx, a, "floor", NULL, &x)) return flow_null();
    return x.is_int ? flow_int(x.i) : to_int_result(cx, "floor", floor(x.d));
}

FlowVal flow_fn_ceil(FlowCtx *cx, FlowVal a) {
    Num x;
    if (!arg_num(cx, a, "ceil", NULL, &x)) return flow_null();
    return x.is_int ? flow_int(x.i) : to_int_result(cx, "ceil", ceil(x.d));
}

/* x rounded to `digits` decimals (negative: to tens, hundreds...), half away from zero, working on the
 * shortest decimal text that reads back as x: 1.005 rounds to 1.01 as it is written, although the
 * double closest to 1.005 is 1.00499999999999989... */
static double round_digits(double x, int64_t digits) {
    if (!isfinite(x) || x == 0 || digits > 400) return x;
    if (digits < -400) return 0.0;
    /* the common case: x has no more than `digits` decimals already (x * 10^digits is a whole number
     * exactly), and the nearest double to that decimal is the answer */
    static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    if (digits >= 0 && digits <= 15) {
        double s = x * pow10[digits];
        if (fabs(s) < 9e15 && s == nearbyint(s)) return s / pow10[digits];
    }
    /* the shortest digits of x: m x 10^p, its first digit at 10^(p + nd - 1) */
    uint64_t m;
    int p, nd = flow_dec_shortest(x, &m, &p);
    int64_t keep = (int64_t)p + nd + digits;   /* significant digits that stay */
    if (keep >= nd) return x;
    if (keep < 0) return 0.0;
    int drop = nd - (int)keep;                  /* 1..17 */
    uint64_t q = m / flow_dec_pow10[drop], r = m % flow_dec_pow10[drop];
    q += r >= 5 * flow_dec_pow10[drop - 1];     /* half away from zero: the sign is put back below */
    if (!q) return 0.0;
    double y = flow_dec_to_double(q, p + drop);
    return x < 0 ? -y : y;
}

/* round(x): an int, half away from zero. round(x, digits): a number with that many decimals. */
FlowVal flow_fn_round(FlowCtx *cx, FlowVal a, FlowVal b) {
    Num x, dg;
    if (!arg_num(cx, a, "round", NULL, &x)) return flow_null();
    if (flow_val_is_null(b)) return x.is_int ? flow_int(x.i) : to_int_result(cx, "round", round(x.d));
    if (!arg_num(cx, b, "round", "digits", &dg)) return flow_null();
    int64_t digits;
    char buf[40];
    if (!dg.is_int && !whole(dg.d, &digits))
        return flow_fail(cx, FLOW_ERR_VALUE, "round: expected a whole number for digits, got %s", flow_num_text(buf, dg.d));
    if (dg.is_int) digits = dg.i;
    double r = round_digits(x.d, digits);
    if (isinf(r) && !isinf(x.d)) return flow_fail(cx, FLOW_ERR_VALUE, "round: %s rounded to %lld digits is out of range", flow_num_text(buf, x.d), (long long)digits);
    return flow_number(r);
}

/* abs keeps the kind: an int stays an int (the one int without a positive counterpart is an error). */
FlowVal flow_fn_abs(FlowCtx *cx, FlowVal a) {
    Num x;
    if (!arg_num(cx, a, "abs", NULL, &x)) return flow_null();
    if (!x.is_int) return flow_number(fabs(x.d));
    if (x.i == INT64_MIN) return flow_fail(cx, FLOW_ERR_VALUE, "abs: the absolute value of %lld is out of the int range", (long long)x.i);
    return flow_int(x.i < 0 ? -x.i : x.i);
}

/* min / max: an int when every argument is an int, otherwise a number. NaN wins. */
static FlowVal min_max(FlowCtx *cx, int n, const FlowVal *args, const char *fn, int want_max) {
    if (n <= 0 || !args) return flow_fail(cx, FLOW_ERR_VALUE, "%s: expected at least one number", fn);
    Num best = { 0, 0, 0 };
    int all_int = 1;
    for (int k = 0; k < n; k++) {
        Num x;
        if (!arg_num(cx, args[k], fn, NULL, &x)) return flow_null();
        all_int &= x.is_int;
        if (k == 0) { best = x; continue; }
        if (isnan(best.d)) continue;
        int better;
        if (isnan(x.d)) better = 1;
        else if (x.is_int && best.is_int) better = want_max ? x.i > best.i : x.i < best.i;
        else better = want_max ? x.d > best.d : x.d < best.d;
        if (better) best = x;
    }
    return all_int ? flow_int(best.i) : flow_number(best.d);
}

FlowVal flow_fn_min(FlowCtx *cx, int n, const FlowVal *args) { return min_max(cx, n, args, "min", 0); }
FlowVal flow_fn_max(FlowCtx *cx, int n, const FlowVal *args) { return min_max(cx, n, args, "max", 1); }

/* ---- conversions ---- */

/* to_number: ints and numbers as they are, text parsed whole. Bools, dates and durations are errors. */
FlowVal flow_fn_to_number(FlowCtx *cx, FlowVal a) {
    Num x;
    FlowStr t;
    char q[QUOTE_MAX * 4 + 8];
    if (num_of(a, &x)) return flow_number(x.d);
    if (!text_of(a, &t)) return flow_fail(cx, FLOW_ERR_VALUE, "to_number: expected a number or a string, got %s", flow_val_desc(a));
    double d = 0;
    switch (flow_text_number(cx, t, &d)) {
    case FLOW_TEXT_OK: return flow_number(d);
    case FLOW_TEXT_RANGE: return flow_fail(cx, FLOW_ERR_VALUE, "to_number: %s is out of range", quoted(q, t.p, t.n));
    default: return flow_fail(cx, FLOW_ERR_VALUE, "to_number: %s is not a number", quoted(q, t.p, t.n));
    }
}

/* to_int: ints as they are; numbers and text only when they hold a whole number in the int range
 * (no rounding: 3.5 is an error). Digit strings are read exactly, so 9007199254740993 stays exact. */
FlowVal flow_fn_to_int(FlowCtx *cx, FlowVal a) {
    Num x;
    FlowStr t;
    int64_t i;
    char q[QUOTE_MAX * 4 + 8], buf[40];
    if (num_of(a, &x)) {
        if (x.is_int) return flow_int(x.i);
        if (whole(x.d, &i)) return flow_int(i);
        if (isfinite(x.d) && x.d == floor(x.d))
            return flow_fail(cx, FLOW_ERR_VALUE, "to_int: %s is out of the int range", flow_num_text(buf, x.d));
        return flow_fail(cx, FLOW_ERR_VALUE, "to_int: %s is not a whole number", flow_num_text(buf, x.d));
    }
    if (!text_of(a, &t)) return flow_fail(cx, FLOW_ERR_VALUE, "to_int: expected a number or a string, got %s", flow_val_desc(a));
    int rc = flow_text_int(t, &i);
    if (rc == FLOW_TEXT_OK) return flow_int(i);
    if (rc == FLOW_TEXT_RANGE) return flow_fail(cx, FLOW_ERR_VALUE, "to_int: %s is out of the int range", quoted(q, t.p, t.n));
    double d = 0;
    rc = flow_text_number(cx, t, &d);
    if (rc == FLOW_TEXT_SYNTAX) return flow_fail(cx, FLOW_ERR_VALUE, "to_int: %s is not a number", quoted(q, t.p, t.n));
    if (rc == FLOW_TEXT_OK && whole(d, &i)) return flow_int(i);
    if (rc == FLOW_TEXT_RANGE || d == floor(d)) return flow_fail(cx, FLOW_ERR_VALUE, "to_int: %s is out of the int range", quoted(q, t.p, t.n));
    return flow_fail(cx, FLOW_ERR_VALUE, "to_int: %s is not a whole number", quoted(q, t.p, t.n));
}

/* to_string: the text templates use (flow_val_text); null is the empty string. Copied to scratch. */
FlowVal flow_fn_to_string(FlowCtx *cx, FlowVal a) {
    FlowStr t = flow_val_text(cx, flow_val_is_null(a) ? flow_null() : a);
    char *d = flow_scratch_alloc(cx, t.n + 1);
    if (t.n) memcpy(d, t.p, t.n);
    return flow_string(d, t.n);
}

/* to_bool: bools; the words true/false, yes/no, 1/0 (any case, whitespace around ignored); 0 and 1. */
FlowVal flow_fn_to_bool(FlowCtx *cx, FlowVal a) {
    FlowStr t;
    char q[QUOTE_MAX * 4 + 8], buf[40];
    if (a.kind == FLOW_BOOL) return flow_bool(a.b);
    if (a.kind == FLOW_JSON && a.j && cJSON_IsBool(a.j)) return flow_bool(cJSON_IsTrue(a.j));
    Num x;
    if (num_of(a, &x)) {
        if (x.is_int ? x.i == 0 || x.i == 1 : x.d == 0 || x.d == 1) return flow_bool(x.is_int ? x.i == 1 : x.d == 1);
        if (x.is_int) return flow_fail(cx, FLOW_ERR_VALUE, "to_bool: %lld is not 0 or 1", (long long)x.i);
        return flow_fail(cx, FLOW_ERR_VALUE, "to_bool: %s is not 0 or 1", flow_num_text(buf, x.d));
    }
    if (!text_of(a, &t))
        return flow_fail(cx, FLOW_ERR_VALUE, "to_bool: expected a bool, a string or a number, got %s", flow_val_desc(a));
    if (flow_word_is(t, "true") || flow_word_is(t, "yes") || flow_word_is(t, "1")) return flow_bool(1);
    if (flow_word_is(t, "false") || flow_word_is(t, "no") || flow_word_is(t, "0")) return flow_bool(0);
    return flow_fail(cx, FLOW_ERR_VALUE, "to_bool: %s is not a bool (expected true/false, yes/no or 1/0)", quoted(q, t.p, t.n));
}
