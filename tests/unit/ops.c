/* tests/unit/ops.c — unit tests of runtime/ops.c, the operators and record access of generated code:
 * every function of flow.h's "operators and record access" section, with mixed kinds, int overflow,
 * division by zero, json operands unwrapped at run time, UTF-8 and NUL bytes in text, and the class
 * and message of every failure. Prints `ops: N passed, N failed`; exits 1 when an assertion failed.
 * Built sanitized by `make build/tests/unit_ops`; run by the `ops` suite (tests/lib/83-ops.sh). */
#include "flow.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
static FlowCtx *cx;
static cJSON *doc;      /* the fixture record */
static char detail[1024];    /* what the value checks saw, printed under a failed assertion */

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
    size_t n = strlen(detail);
    if (n >= sizeof detail - 1) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail + n, sizeof detail - n, fmt, ap);
    va_end(ap);
}

static void check(int ok, int line, const char *what) {
    if (ok) passed++;
    else {
        failed++;
        printf("FAIL ops.c:%d: %s\n", line, what);
        if (detail[0]) printf("%s", detail);
    }
    detail[0] = 0;
}
#define CHECK(c) check(!!(c), __LINE__, #c)

/* an unexpected error is reported, then cleared so that it does not hide later ones */
static int no_error(void) {
    if (!flow_failed(cx)) return 1;
    note("  unexpected error: %s\n", flow_error_message(cx));
    flow_clear_error(cx);
    return 0;
}

static int v_null(FlowVal v) { return no_error() && v.kind == FLOW_NULL; }
static int v_bool(FlowVal v, int b) { return no_error() && v.kind == FLOW_BOOL && v.b == b; }
static int v_int(FlowVal v, int64_t i) { return no_error() && v.kind == FLOW_INT && v.i == i; }
static int v_num(FlowVal v, double d) { return no_error() && v.kind == FLOW_NUMBER && (v.n == d || fabs(v.n - d) < 1e-9); }
static int v_dt(FlowVal v, int64_t ms) { return no_error() && v.kind == FLOW_DATETIME && v.i == ms; }
static int v_dur(FlowVal v, int64_t ms) { return no_error() && v.kind == FLOW_DURATION && v.i == ms; }
static int v_strn(FlowVal v, const char *p, size_t n) {
    if (!no_error()) return 0;
    if (v.kind != FLOW_STRING || v.s.n != n || (n && memcmp(v.s.p, p, n) != 0)) {
        if (v.kind == FLOW_STRING) note("  got \"%.*s\"\n", (int)v.s.n, v.s.p);
        return 0;
    }
    return 1;
}
static int v_str(FlowVal v, const char *s) { return v_strn(v, s, strlen(s)); }
static int v_json(FlowVal v, const char *compact) {
    if (!no_error() || v.kind != FLOW_JSON) return 0;
    char *t = cJSON_PrintUnformatted(v.j);
    int ok = t && strcmp(t, compact) == 0;
    if (!ok) note("  got %s\n", t ? t : "(nothing)");
    cJSON_free(t);
    return ok;
}
/* a `value` error whose message holds sub; cleared afterwards */
static int is_err(const char *sub) {
    int ok = flow_failed(cx) && flow_error_class(cx) == FLOW_ERR_VALUE && strstr(flow_error_message(cx), sub);
    if (!ok) note("  expected a value error with \"%s\", got: %s\n", sub, flow_failed(cx) ? flow_error_message(cx) : "(no error)");
    flow_clear_error(cx);
    return ok;
}
static int v_err(FlowVal v, const char *sub) { return is_err(sub) && v.kind == FLOW_NULL; }
/* the exact message */
static int v_msg(FlowVal v, const char *msg) {
    int ok = flow_failed(cx) && flow_error_class(cx) == FLOW_ERR_VALUE && strcmp(flow_error_message(cx), msg) == 0 && v.kind == FLOW_NULL;
    if (!ok) note("  expected \"%s\", got: %s\n", msg, flow_failed(cx) ? flow_error_message(cx) : "(no error)");
    flow_clear_error(cx);
    return ok;
}
static int json_is(const cJSON *j, const char *compact) {
    char *t = cJSON_PrintUnformatted(j);
    int ok = t && strcmp(t, compact) == 0;
    if (!ok) note("  got %s\n", t ? t : "(nothing)");
    cJSON_free(t);
    return ok;
}

static FlowVal J(const char *name) { return flow_json(cJSON_GetObjectItemCaseSensitive(doc, name)); }
static FlowVal S(const char *s) { return flow_string(s, strlen(s)); }
static FlowVal dt(const char *iso) {
    int64_t ms = 0;
    if (!flow_parse_iso8601(iso, strlen(iso), &ms)) { printf("bad fixture date %s\n", iso); exit(2); }
    return flow_datetime(ms);
}

#define ADD(a, b) flow_op_arith(cx, FLOW_OP_ADD, a, b)
#define SUB(a, b) flow_op_arith(cx, FLOW_OP_SUB, a, b)
#define MUL(a, b) flow_op_arith(cx, FLOW_OP_MUL, a, b)
#define DIV(a, b) flow_op_arith(cx, FLOW_OP_DIV, a, b)
#define MOD(a, b) flow_op_arith(cx, FLOW_OP_MOD, a, b)
#define CMP(op, a, b) flow_op_cmp(cx, FLOW_CMP_##op, a, b)

static const char FIXTURE[] =
    "{\"n\":3,\"f\":2.5,\"s\":\"h\\u00e9llo\",\"e\":\"\",\"t\":true,\"fa\":false,\"nul\":null,"
    "\"arr\":[1,\"two\",3.5,null,{\"k\":1}],\"empty\":[],\"eobj\":{},\"obj\":{\"a\":{\"b\":7},\"s\":\"x\"},"
    "\"iso\":\"2024-01-02T03:04:05Z\",\"bad\":\"not a date\",\"big\":1e300,\"zero\":0,\"one\":1,\"num\":\"42\","
    "\"p53\":9007199254740992,\"min\":-9223372036854775808,\"p62\":4611686018427387904,\"p63\":9223372036854775808.0}";

static void test_arith(void) {
    /* ints stay ints */
    CHECK(v_int(ADD(flow_int(2), flow_int(3)), 5));
    CHECK(v_int(SUB(flow_int(2), flow_int(3)), -1));
    CHECK(v_int(MUL(flow_int(-4), flow_int(3)), -12));
    CHECK(v_num(DIV(flow_int(7), flow_int(2)), 3.5));
    CHECK(v_num(DIV(flow_int(6), flow_int(3)), 2.0));
    CHECK(v_int(MOD(flow_int(7), flow_int(3)), 1));
    CHECK(v_int(MOD(flow_int(-7), flow_int(3)), -1));
    CHECK(v_int(MOD(flow_int(INT64_MIN), flow_int(-1)), 0));
    CHECK(v_int(ADD(flow_int(INT64_MAX - 1), flow_int(1)), INT64_MAX));
    /* overflow */
    CHECK(v_msg(ADD(flow_int(INT64_MAX), flow_int(1)), "integer overflow in 9223372036854775807 + 1"));
    CHECK(v_err(SUB(flow_int(INT64_MIN), flow_int(1)), "integer overflow"));
    CHECK(v_err(MUL(flow_int(INT64_MAX / 2 + 1), flow_int(2)), "integer overflow"));
    CHECK(v_err(MUL(flow_int(INT64_MIN), flow_int(-1)), "integer overflow"));
    /* division by zero */
    CHECK(v_msg(DIV(flow_int(1), flow_int(0)), "division by zero (`/`)"));
    CHECK(v_msg(MOD(flow_int(5), flow_int(0)), "division by zero (`%`)"));
    CHECK(v_err(DIV(flow_number(1.5), flow_number(0.0)), "division by zero"));
    CHECK(v_err(DIV(flow_number(1.5), flow_number(-0.0)), "division by zero"));
    CHECK(v_err(MOD(flow_number(1.5), flow_int(0)), "division by zero"));
    CHECK(v_err(DIV(J("n"), J("zero")), "division by zero"));
    /* numbers */
    CHECK(v_num(ADD(flow_int(1), flow_number(0.5)), 1.5));
    CHECK(v_num(ADD(flow_number(0.5), flow_int(1)), 1.5));
    CHECK(v_num(MUL(flow_number(1.5), flow_number(2)), 3.0));
    CHECK(v_num(SUB(flow_number(1.0), flow_int(3)), -2.0));
    CHECK(v_num(MOD(flow_number(7.5), flow_int(2)), 1.5));
    CHECK(v_err(MUL(flow_number(1e308), flow_int(10)), "not a finite number"));
    CHECK(v_err(MUL(J("big"), J("big")), "not a finite number"));
    /* strings */
    CHECK(v_str(ADD(S("ab"), S("cd")), "abcd"));
    CHECK(v_str(ADD(S(""), S("")), ""));
    CHECK(v_str(ADD(S("h\xC3\xA9llo"), S(" w\xC3\xB6rld \xE2\x9C\x93")), "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93"));
    CHECK(v_strn(ADD(flow_string("a\0b", 3), flow_string("\0c", 2)), "a\0b\0c", 5));
    CHECK(v_str(ADD(flow_string(NULL, 0), S("x")), "x"));
    CHECK(v_msg(ADD(S("a"), flow_int(1)), "cannot use `+` on a string and an int"));
    CHECK(v_err(SUB(S("a"), S("b")), "cannot use `-` on a string and a string"));
    CHECK(v_err(MUL(S("a"), flow_int(2)), "cannot use `*` on a string and an int"));
    /* datetimes and durations */
    FlowVal d0 = dt("2024-01-02T03:04:05Z");
    CHECK(v_dt(ADD(d0, flow_duration(60000)), d0.i + 60000));
    CHECK(v_dt(ADD(flow_duration(1000), d0), d0.i + 1000));
    CHECK(v_dt(SUB(d0, flow_duration(86400000)), dt("2024-01-01T03:04:05Z").i));
    CHECK(v_dur(SUB(d0, dt("2024-01-01T03:04:05Z")), 86400000));
    CHECK(v_dur(ADD(flow_duration(5), flow_duration(7)), 12));
    CHECK(v_dur(SUB(flow_duration(5), flow_duration(7)), -2));
    CHECK(v_msg(ADD(d0, d0), "cannot use `+` on a datetime and a datetime"));
    CHECK(v_err(SUB(flow_duration(5), d0), "cannot use `-` on a duration and a datetime"));
    CHECK(v_err(ADD(d0, flow_int(5)), "cannot use `+` on a datetime and an int"));
    CHECK(v_err(MUL(flow_duration(5), flow_int(2)), "cannot use `*` on a duration and an int"));
    CHECK(v_err(ADD(flow_datetime(INT64_MAX), flow_duration(1)), "out of range"));
    CHECK(v_msg(ADD(flow_datetime(8640000000000000), flow_duration(1)), "the datetime is out of range after `+`"));
    CHECK(v_err(SUB(flow_datetime(-8640000000000000), flow_duration(1)), "the datetime is out of range after `-`"));
    CHECK(v_dt(SUB(flow_datetime(-8640000000000000), flow_duration(0)), -8640000000000000));
    CHECK(v_err(SUB(flow_datetime(INT64_MIN), flow_datetime(1)), "duration overflow"));
    CHECK(v_err(ADD(flow_duration(INT64_MAX), flow_duration(1)), "duration overflow"));
    /* json operands are unwrapped: a whole JSON number is an int, exact past 2^53 (issue 10, item 2) */
    CHECK(v_int(ADD(J("n"), flow_int(2)), 5));
    CHECK(v_num(MUL(J("n"), J("f")), 7.5));
    CHECK(v_int(MOD(J("n"), flow_int(2)), 1));
    CHECK(v_int(ADD(J("p53"), flow_int(1)), 9007199254740993));
    CHECK(v_int(ADD(J("min"), flow_int(1)), -9223372036854775807));
    CHECK(v_msg(MUL(J("p62"), flow_int(2)), "integer overflow in 4611686018427387904 * 2"));
    CHECK(v_num(ADD(J("p63"), flow_int(1)), 9223372036854775808.0));
    CHECK(v_str(ADD(J("s"), S("!")), "h\xC3\xA9llo!"));
    CHECK(v_str(ADD(S(">"), J("e")), ">"));
    CHECK(v_dur(SUB(J("iso"), dt("2024-01-02T03:04:00Z")), 5000));
    CHECK(v_dur(SUB(dt("2024-01-02T03:04:06Z"), J("iso")), 1000));
    CHECK(v_msg(ADD(J("arr"), flow_int(1)), "cannot use `+` on an array and an int"));
    CHECK(v_err(SUB(J("obj"), J("n")), "cannot use `-` on an object and a number"));
    CHECK(v_err(ADD(J("t"), flow_int(1)), "cannot use `+` on a bool and an int"));
    CHECK(v_err(ADD(J("nul"), flow_int(1)), "cannot use `+` on null and an int"));
    CHECK(v_err(DIV(flow_int(1), flow_null()), "cannot use `/` on an int and null"));
    CHECK(v_err(SUB(J("bad"), dt("2024-01-02T03:04:00Z")), "cannot use `-` on a string and a datetime"));
    CHECK(v_err(ADD(J("s"), J("n")), "cannot use `+` on a string and a number"));
    CHECK(v_err(flow_op_arith(cx, (FlowArith)42, flow_int(1), flow_int(1)), "unknown arithmetic operator"));
}

static void test_neg(void) {
    CHECK(v_int(flow_op_neg(cx, flow_int(5)), -5));
    CHECK(v_int(flow_op_neg(cx, flow_int(INT64_MAX)), -INT64_MAX));
    CHECK(v_num(flow_op_neg(cx, flow_number(2.5)), -2.5));
    CHECK(v_dur(flow_op_neg(cx, flow_duration(300000)), -300000));
    CHECK(v_int(flow_op_neg(cx, J("n")), -3));
    CHECK(v_msg(flow_op_neg(cx, J("min")), "integer overflow in -(-9223372036854775808)"));
    CHECK(v_msg(flow_op_neg(cx, flow_int(INT64_MIN)), "integer overflow in -(-9223372036854775808)"));
    CHECK(v_err(flow_op_neg(cx, flow_duration(INT64_MIN)), "duration overflow"));
    CHECK(v_msg(flow_op_neg(cx, S("x")), "cannot use unary `-` on a string"));
    CHECK(v_err(flow_op_neg(cx, flow_null()), "cannot use unary `-` on null"));
    CHECK(v_err(flow_op_neg(cx, J("obj")), "on an object"));
    CHECK(v_err(flow_op_neg(cx, dt("2024-01-01")), "on a datetime"));
}

static void test_cmp(void) {
    FlowVal d0 = dt("2024-01-02T03:04:05Z");
    /* equality */
    CHECK(v_bool(CMP(EQ, flow_int(1), flow_number(1.0)), 1));
    CHECK(v_bool(CMP(EQ, flow_int(9007199254740993), flow_number(9007199254740992.0)), 0));
    CHECK(v_bool(CMP(EQ, S("a"), S("a")), 1));
    CHECK(v_bool(CMP(NE, S("a"), S("b")), 1));
    CHECK(v_bool(CMP(EQ, flow_string("a\0b", 3), flow_string("a\0c", 3)), 0));
    CHECK(v_bool(CMP(EQ, flow_string("a\0b", 3), S("a")), 0));
    CHECK(v_bool(CMP(EQ, flow_null(), flow_null()), 1));
    CHECK(v_bool(CMP(EQ, flow_null(), flow_int(0)), 0));
    CHECK(v_bool(CMP(NE, flow_int(1), flow_null()), 1));
    CHECK(v_bool(CMP(EQ, J("nul"), flow_null()), 1));
    CHECK(v_bool(CMP(EQ, J("e"), flow_null()), 0));
    CHECK(v_bool(CMP(EQ, J("n"), flow_int(3)), 1));
    CHECK(v_bool(CMP(EQ, J("s"), S("h\xC3\xA9llo")), 1));
    CHECK(v_bool(CMP(EQ, J("t"), flow_bool(1)), 1));
    CHECK(v_bool(CMP(EQ, flow_bool(0), flow_bool(1)), 0));
    CHECK(v_bool(CMP(EQ, flow_int(1), S("1")), 0));
    CHECK(v_bool(CMP(EQ, flow_duration(5), flow_int(5)), 0));
    cJSON *copy = cJSON_Parse("{\"s\":\"x\",\"a\":{\"b\":7.0}}");
    CHECK(v_bool(CMP(EQ, J("obj"), flow_json(copy)), 1));
    CHECK(v_bool(CMP(NE, J("obj"), J("eobj")), 1));
    CHECK(v_bool(CMP(EQ, J("arr"), J("arr")), 1));
    CHECK(v_bool(CMP(EQ, J("empty"), J("eobj")), 0));
    cJSON_Delete(copy);
    CHECK(v_bool(CMP(EQ, d0, J("iso")), 1));
    CHECK(v_bool(CMP(EQ, dt("2024-01-02"), S("2024-01-02")), 1));
    CHECK(v_bool(CMP(EQ, d0, J("bad")), 0));
    CHECK(v_bool(CMP(NE, d0, J("bad")), 1));
    CHECK(v_bool(CMP(EQ, d0, flow_datetime(d0.i)), 1));
    CHECK(v_bool(CMP(EQ, flow_duration(3), J("n")), 1));    /* json numbers next to durations are ms */
    CHECK(v_bool(CMP(EQ, J("f"), flow_duration(2)), 0));
    /* ordering */
    CHECK(v_bool(CMP(LT, flow_int(1), flow_number(2.5)), 1));
    CHECK(v_bool(CMP(LT, flow_int(3), flow_int(2)), 0));
    CHECK(v_bool(CMP(LE, flow_number(2.5), flow_number(2.5)), 1));
    CHECK(v_bool(CMP(GT, flow_int(9007199254740993), flow_number(9007199254740992.0)), 1));
    CHECK(v_bool(CMP(GE, flow_number(-0.5), flow_int(0)), 0));
    CHECK(v_bool(CMP(LT, flow_int(INT64_MAX), flow_number(1e19)), 1));
    CHECK(v_bool(CMP(GT, flow_int(INT64_MIN), flow_number(-1e19)), 1));
    CHECK(v_bool(CMP(LT, S("abc"), S("abd")), 1));
    CHECK(v_bool(CMP(LT, S("ab"), S("abc")), 1));
    CHECK(v_bool(CMP(LT, S("Z"), S("a")), 1));
    CHECK(v_bool(CMP(GT, S("\xC3\xA9"), S("z")), 1));    /* bytes: é (0xC3...) after z */
    CHECK(v_bool(CMP(LT, S(""), flow_string("\0", 1)), 1));
    CHECK(v_bool(CMP(LT, dt("2024-01-01"), d0), 1));
    CHECK(v_bool(CMP(GE, flow_duration(7), flow_duration(7)), 1));
    CHECK(v_bool(CMP(GT, J("n"), flow_int(2)), 1));
    CHECK(v_bool(CMP(LE, J("f"), J("n")), 1));
    CHECK(v_bool(CMP(GT, J("iso"), dt("2024-01-01")), 1));
    CHECK(v_bool(CMP(GT, d0, S("2024-01-01")), 1));
    CHECK(v_bool(CMP(LT, d0, S("2024-01-02T03:04:05.001Z")), 1));
    CHECK(v_bool(CMP(LT, J("s"), S("i")), 1));
    CHECK(v_bool(CMP(GT, flow_duration(3000), J("n")), 1));
    CHECK(v_err(CMP(GT, flow_duration(3000), flow_int(3)), "cannot compare a duration with an int using `>`"));
    CHECK(v_err(CMP(GT, flow_duration(3000), J("f")), "cannot compare a duration with a number"));
    CHECK(v_err(CMP(LT, d0, J("bad")), "cannot compare a datetime with \"not a date\" using `<`: not an ISO-8601 date-time"));
    CHECK(v_msg(CMP(LT, flow_bool(0), flow_bool(1)), "cannot compare a bool with a bool using `<`"));
    CHECK(v_err(CMP(GE, flow_int(1), S("1")), "cannot compare an int with a string using `>=`"));
    CHECK(v_err(CMP(GT, flow_null(), flow_int(1)), "cannot compare null with an int"));
    CHECK(v_err(CMP(LE, J("arr"), flow_int(1)), "cannot compare an array with an int"));
    CHECK(v_err(CMP(LT, flow_duration(1), d0), "cannot compare a duration with a datetime"));
    CHECK(v_err(CMP(LT, J("obj"), J("obj")), "cannot compare an object with an object"));
    CHECK(v_bool(CMP(LT, flow_number(NAN), flow_int(1)), 0));
    CHECK(v_bool(CMP(GE, flow_number(NAN), flow_number(NAN)), 0));
    CHECK(v_err(flow_op_cmp(cx, (FlowCmp)-1, flow_int(1), flow_int(1)), "unknown comparison operator"));
}

static void test_in(void) {
    FlowVal arr = J("arr");
    CHECK(v_bool(flow_op_in(cx, flow_int(1), arr), 1));
    CHECK(v_bool(flow_op_in(cx, flow_number(1.0), arr), 1));
    CHECK(v_bool(flow_op_in(cx, S("two"), arr), 1));
    CHECK(v_bool(flow_op_in(cx, flow_number(3.5), arr), 1));
    CHECK(v_bool(flow_op_in(cx, flow_int(4), arr), 0));
    CHECK(v_bool(flow_op_in(cx, S("1"), arr), 0));
    CHECK(v_bool(flow_op_in(cx, flow_null(), arr), 1));
    CHECK(v_bool(flow_op_in(cx, flow_null(), J("empty")), 0));
    cJSON *k1 = cJSON_Parse("{\"k\":1}");
    CHECK(v_bool(flow_op_in(cx, flow_json(k1), arr), 1));
    cJSON_Delete(k1);
    CHECK(v_bool(flow_op_in(cx, J("n"), J("empty")), 0));
    CHECK(v_bool(flow_op_in(cx, S("ell"), S("hello")), 1));
    CHECK(v_bool(flow_op_in(cx, S("\xC3\xA9l"), J("s")), 1));
    CHECK(v_bool(flow_op_in(cx, S("z"), J("s")), 0));
    CHECK(v_bool(flow_op_in(cx, S(""), S("")), 1));
    CHECK(v_bool(flow_op_in(cx, S("abc"), S("ab")), 0));
    CHECK(v_bool(flow_op_in(cx, flow_string("\0b", 2), flow_string("a\0b", 3)), 1));
    CHECK(v_bool(flow_op_in(cx, S("aab"), S("aaab")), 1));
    CHECK(v_bool(flow_op_in(cx, J("e"), J("s")), 1));
    cJSON *dates = cJSON_Parse("[\"2024-01-02T03:04:05Z\"]");
    CHECK(v_bool(flow_op_in(cx, dt("2024-01-02T03:04:05.000Z"), flow_json(dates)), 1));
    cJSON_Delete(dates);
    CHECK(v_msg(flow_op_in(cx, flow_int(1), S("abc")), "`in` a string looks for a string, got an int"));
    CHECK(v_msg(flow_op_in(cx, flow_int(1), flow_int(5)), "`in` needs an array or a string on its right, got an int"));
    CHECK(v_err(flow_op_in(cx, flow_int(1), flow_null()), "got null"));
    CHECK(v_err(flow_op_in(cx, S("a"), J("obj")), "got an object"));
    CHECK(v_err(flow_op_in(cx, J("arr"), J("s")), "looks for a string, got an array"));
}

static void test_truth(void) {
    CHECK(flow_truth(cx, flow_bool(1), "filter") == 1 && no_error());
    CHECK(flow_truth(cx, flow_bool(0), "filter") == 0 && no_error());
    CHECK(flow_truth(cx, flow_null(), "filter") == 0 && no_error());
    CHECK(flow_truth(cx, J("t"), "filter") == 1 && no_error());
    CHECK(flow_truth(cx, J("fa"), "filter") == 0 && no_error());
    CHECK(flow_truth(cx, J("nul"), "filter") == 0 && no_error());
    CHECK(flow_truth(cx, flow_int(1), "the filter condition") == 0 && v_msg(flow_null(), "the filter condition must be a bool, got an int"));
    CHECK(flow_truth(cx, J("s"), "a `when` condition") == 0 && is_err("a `when` condition must be a bool, got a string"));
    CHECK(flow_truth(cx, J("arr"), "stop") == 0 && is_err("stop must be a bool, got an array"));
    CHECK(flow_truth(cx, J("one"), "stop") == 0 && is_err("must be a bool, got a number"));
    CHECK(flow_truth(cx, S(""), NULL) == 0 && is_err("must be a bool, got a string"));

    CHECK(!flow_tpl_true(flow_null()));
    CHECK(!flow_tpl_true(flow_bool(0)));
    CHECK(flow_tpl_true(flow_bool(1)));
    CHECK(!flow_tpl_true(flow_int(0)));
    CHECK(flow_tpl_true(flow_int(-1)));
    CHECK(!flow_tpl_true(flow_number(0.0)));
    CHECK(!flow_tpl_true(flow_number(-0.0)));
    CHECK(!flow_tpl_true(flow_number(NAN)));
    CHECK(flow_tpl_true(flow_number(0.1)));
    CHECK(!flow_tpl_true(S("")));
    CHECK(!flow_tpl_true(flow_string(NULL, 0)));
    CHECK(flow_tpl_true(S("0")));
    CHECK(flow_tpl_true(flow_string("\0", 1)));
    CHECK(!flow_tpl_true(J("empty")));
    CHECK(flow_tpl_true(J("arr")));
    CHECK(flow_tpl_true(J("eobj")));
    CHECK(!flow_tpl_true(J("zero")));
    CHECK(!flow_tpl_true(J("e")));
    CHECK(!flow_tpl_true(J("fa")));
    CHECK(flow_tpl_true(J("t")));
    CHECK(flow_tpl_true(J("s")));
    CHECK(flow_tpl_true(flow_datetime(0)));
    CHECK(!flow_tpl_true(flow_duration(0)));
    CHECK(no_error());
}

static void test_field(void) {
    FlowVal rec = flow_json(doc);
    CHECK(v_int(flow_field(cx, rec, "n", FLOW_INT, "record.n"), 3));
    CHECK(v_num(flow_field(cx, rec, "n", FLOW_NUMBER, "record.n"), 3.0));
    CHECK(v_str(flow_field(cx, rec, "s", FLOW_STRING, "record.s"), "h\xC3\xA9llo"));
    CHECK(v_str(flow_field(cx, rec, "e", FLOW_STRING, "record.e"), ""));
    CHECK(v_bool(flow_field(cx, rec, "t", FLOW_BOOL, "record.t"), 1));
    CHECK(v_dt(flow_field(cx, rec, "iso", FLOW_DATETIME, "record.iso"), dt("2024-01-02T03:04:05Z").i));
    CHECK(v_null(flow_field(cx, rec, "missing", FLOW_INT, "record.missing")));
    CHECK(v_null(flow_field(cx, rec, "nul", FLOW_STRING, "record.nul")));
    CHECK(v_json(flow_field(cx, rec, "obj", FLOW_JSON, "record.obj"), "{\"a\":{\"b\":7},\"s\":\"x\"}"));
    FlowVal a = flow_field(cx, flow_field(cx, rec, "obj", FLOW_JSON, "record.obj"), "a", FLOW_JSON, "record.obj.a");
    CHECK(v_int(flow_field(cx, a, "b", FLOW_INT, "record.obj.a.b"), 7));
    CHECK(v_json(flow_field(cx, rec, "n", FLOW_JSON, "record.n"), "3"));
    CHECK(v_null(flow_field(cx, flow_null(), "x", FLOW_INT, "customer.x")));
    CHECK(v_null(flow_field(cx, J("nul"), "x", FLOW_INT, "record.nul.x")));
    CHECK(v_err(flow_field(cx, rec, "f", FLOW_INT, "record.f"), "record.f must be a whole number"));
    CHECK(v_err(flow_field(cx, rec, "s", FLOW_INT, "record.s"), "record.s must be an int, got a string"));
    CHECK(v_err(flow_field(cx, rec, "bad", FLOW_DATETIME, "record.bad"), "record.bad must be an ISO-8601 date-time"));
    CHECK(v_msg(flow_field(cx, J("s"), "x", FLOW_INT, "record.s.x"), "record.s.x: cannot read field `x` of a string"));
    CHECK(v_err(flow_field(cx, J("arr"), "x", FLOW_INT, "record.arr.x"), "cannot read field `x` of an array"));
    CHECK(v_err(flow_field(cx, flow_int(4), "x", FLOW_INT, "p.x"), "cannot read field `x` of an int"));
    CHECK(v_err(flow_field(cx, rec, NULL, FLOW_INT, NULL), "no field name"));
}

static void test_index(void) {
    FlowVal arr = J("arr"), obj = J("obj");
    CHECK(v_int(flow_index(cx, arr, flow_int(0), FLOW_INT, "xs[0]"), 1));
    CHECK(v_str(flow_index(cx, arr, flow_int(1), FLOW_STRING, "xs[1]"), "two"));
    CHECK(v_json(flow_index(cx, arr, flow_int(-1), FLOW_JSON, "xs[-1]"), "{\"k\":1}"));
    CHECK(v_int(flow_index(cx, arr, flow_int(-5), FLOW_INT, "xs[-5]"), 1));
    CHECK(v_null(flow_index(cx, arr, flow_int(5), FLOW_INT, "xs[5]")));
    CHECK(v_null(flow_index(cx, arr, flow_int(-6), FLOW_INT, "xs[-6]")));
    CHECK(v_null(flow_index(cx, arr, flow_int(3), FLOW_INT, "xs[3]")));
    CHECK(v_null(flow_index(cx, arr, flow_int(INT64_MIN), FLOW_INT, "xs[i]")));
    CHECK(v_null(flow_index(cx, arr, flow_int(INT64_MAX), FLOW_INT, "xs[i]")));
    CHECK(v_null(flow_index(cx, J("empty"), flow_int(0), FLOW_INT, "e[0]")));
    CHECK(v_null(flow_index(cx, J("empty"), flow_int(-1), FLOW_INT, "e[-1]")));
    CHECK(v_int(flow_index(cx, arr, J("zero"), FLOW_INT, "xs[z]"), 1));
    CHECK(v_json(flow_index(cx, obj, S("a"), FLOW_JSON, "o[\"a\"]"), "{\"b\":7}"));
    CHECK(v_null(flow_index(cx, obj, J("bad"), FLOW_STRING, "o[k]")));
    CHECK(v_str(flow_index(cx, obj, S("s"), FLOW_STRING, "o[\"s\"]"), "x"));
    CHECK(v_null(flow_index(cx, obj, S("missing"), FLOW_INT, "o[\"missing\"]")));
    CHECK(v_null(flow_index(cx, obj, flow_string("s\0x", 3), FLOW_STRING, "o[k]")));
    CHECK(v_null(flow_index(cx, flow_null(), flow_int(0), FLOW_INT, "maybe[0]")));
    CHECK(v_err(flow_index(cx, arr, flow_number(1.5), FLOW_INT, "xs[i]"), "xs[i]: an array index must be an int, got 1.5"));
    CHECK(v_err(flow_index(cx, arr, S("x"), FLOW_INT, "xs[i]"), "an array index must be an int, got \"x\""));
    CHECK(v_err(flow_index(cx, arr, flow_null(), FLOW_INT, "xs[i]"), "an array index must be an int, got null"));
    CHECK(v_err(flow_index(cx, obj, flow_int(1), FLOW_INT, "o[1]"), "o[1]: an object is indexed by a string key, got an int"));
    CHECK(v_msg(flow_index(cx, J("s"), flow_int(0), FLOW_STRING, "s[0]"), "s[0]: cannot index a string (only arrays and objects)"));
    CHECK(v_err(flow_index(cx, arr, flow_int(1), FLOW_INT, "xs[1]"), "xs[1] must be an int, got a string"));
}

static void test_convert(void) {
    FlowVal d0 = dt("2024-01-02T03:04:05Z");
    /* to string */
    CHECK(v_str(flow_convert(cx, flow_int(42), FLOW_STRING, "id"), "42"));
    CHECK(v_str(flow_convert(cx, flow_number(2.5), FLOW_STRING, "id"), "2.5"));
    CHECK(v_str(flow_convert(cx, flow_bool(1), FLOW_STRING, "id"), "true"));
    CHECK(v_str(flow_convert(cx, d0, FLOW_STRING, "id"), "2024-01-02T03:04:05.000Z"));
    CHECK(v_str(flow_convert(cx, J("s"), FLOW_STRING, "id"), "h\xC3\xA9llo"));
    CHECK(v_str(flow_convert(cx, J("arr"), FLOW_STRING, "id"), "[1,\"two\",3.5,null,{\"k\":1}]"));
    CHECK(v_strn(flow_convert(cx, flow_string("a\0b", 3), FLOW_STRING, "id"), "a\0b", 3));
    /* to int */
    CHECK(v_int(flow_convert(cx, S("42"), FLOW_INT, "qty"), 42));
    CHECK(v_int(flow_convert(cx, S(" 42 \n"), FLOW_INT, "qty"), 42));
    CHECK(v_int(flow_convert(cx, S("-7"), FLOW_INT, "qty"), -7));
    CHECK(v_int(flow_convert(cx, S("+7"), FLOW_INT, "qty"), 7));
    CHECK(v_int(flow_convert(cx, S("1e3"), FLOW_INT, "qty"), 1000));
    CHECK(v_int(flow_convert(cx, S("3.0"), FLOW_INT, "qty"), 3));
    CHECK(v_int(flow_convert(cx, S("9223372036854775807"), FLOW_INT, "qty"), INT64_MAX));
    CHECK(v_int(flow_convert(cx, S("-9223372036854775808"), FLOW_INT, "qty"), INT64_MIN));
    CHECK(v_int(flow_convert(cx, flow_number(2.0), FLOW_INT, "qty"), 2));
    CHECK(v_int(flow_convert(cx, flow_bool(1), FLOW_INT, "qty"), 1));
    CHECK(v_int(flow_convert(cx, flow_bool(0), FLOW_INT, "qty"), 0));
    CHECK(v_int(flow_convert(cx, J("n"), FLOW_INT, "qty"), 3));
    CHECK(v_int(flow_convert(cx, J("num"), FLOW_INT, "qty"), 42));
    CHECK(v_int(flow_convert(cx, flow_int(-5), FLOW_INT, "qty"), -5));
    CHECK(v_int(flow_convert(cx, d0, FLOW_INT, "ts"), d0.i / 1000));
    CHECK(v_int(flow_convert(cx, flow_datetime(-1), FLOW_INT, "ts"), -1));
    CHECK(v_msg(flow_convert(cx, S("3.5"), FLOW_INT, "qty"), "qty: cannot convert \"3.5\" to an int: not a whole number"));
    CHECK(v_msg(flow_convert(cx, S("abc"), FLOW_INT, "qty"), "qty: cannot convert \"abc\" to an int: not a number"));
    CHECK(v_err(flow_convert(cx, S(""), FLOW_INT, "qty"), "qty: cannot convert \"\" to an int: not a number"));
    CHECK(v_err(flow_convert(cx, S("99999999999999999999"), FLOW_INT, "qty"), "out of the int range"));
    CHECK(v_err(flow_convert(cx, S("1e300"), FLOW_INT, "qty"), "out of the int range"));
    CHECK(v_err(flow_convert(cx, S("0x10"), FLOW_INT, "qty"), "not a number"));
    CHECK(v_err(flow_convert(cx, flow_number(2.5), FLOW_INT, "qty"), "qty: cannot convert 2.5 to an int: not a whole number"));
    CHECK(v_err(flow_convert(cx, J("big"), FLOW_INT, "qty"), "cannot convert 1e+300 to an int: out of the int range"));
    CHECK(v_msg(flow_convert(cx, J("arr"), FLOW_INT, "lines"), "lines: cannot convert an array to an int"));
    CHECK(v_err(flow_convert(cx, flow_string("1\0", 2), FLOW_INT, "qty"), "cannot convert \"1\\x00\" to an int"));
    /* to number */
    CHECK(v_num(flow_convert(cx, S("2.5"), FLOW_NUMBER, "price"), 2.5));
    CHECK(v_num(flow_convert(cx, S(" -1e-3 "), FLOW_NUMBER, "price"), -0.001));
    CHECK(v_num(flow_convert(cx, S(".5"), FLOW_NUMBER, "price"), 0.5));
    CHECK(v_num(flow_convert(cx, flow_int(7), FLOW_NUMBER, "price"), 7.0));
    CHECK(v_num(flow_convert(cx, J("f"), FLOW_NUMBER, "price"), 2.5));
    CHECK(v_num(flow_convert(cx, J("num"), FLOW_NUMBER, "price"), 42.0));
    CHECK(v_err(flow_convert(cx, S("1e999"), FLOW_NUMBER, "price"), "price: cannot convert \"1e999\" to a number: out of range"));
    CHECK(v_err(flow_convert(cx, S("nan"), FLOW_NUMBER, "price"), "not a number"));
    CHECK(v_err(flow_convert(cx, J("s"), FLOW_NUMBER, "price"), "price: cannot convert \"h\xC3\xA9llo\" to a number"));
    CHECK(v_err(flow_convert(cx, J("obj"), FLOW_NUMBER, "price"), "cannot convert an object to a number"));
    /* to bool */
    CHECK(v_bool(flow_convert(cx, flow_bool(1), FLOW_BOOL, "vip"), 1));
    CHECK(v_bool(flow_convert(cx, S("true"), FLOW_BOOL, "vip"), 1));
    CHECK(v_bool(flow_convert(cx, S("FALSE"), FLOW_BOOL, "vip"), 0));
    CHECK(v_bool(flow_convert(cx, S("1"), FLOW_BOOL, "vip"), 1));
    CHECK(v_bool(flow_convert(cx, S(" 0 "), FLOW_BOOL, "vip"), 0));
    CHECK(v_bool(flow_convert(cx, flow_int(1), FLOW_BOOL, "vip"), 1));
    CHECK(v_bool(flow_convert(cx, flow_number(0.0), FLOW_BOOL, "vip"), 0));
    CHECK(v_bool(flow_convert(cx, J("t"), FLOW_BOOL, "vip"), 1));
    CHECK(v_err(flow_convert(cx, S("maybe"), FLOW_BOOL, "vip"), "vip: cannot convert \"maybe\" to a bool"));
    CHECK(v_err(flow_convert(cx, flow_int(2), FLOW_BOOL, "vip"), "vip: cannot convert 2 to a bool: not 0 or 1"));
    CHECK(v_err(flow_convert(cx, d0, FLOW_BOOL, "vip"), "cannot convert the datetime 2024-01-02T03:04:05.000Z to a bool"));
    /* to datetime */
    CHECK(v_dt(flow_convert(cx, S("2024-01-02T03:04:05Z"), FLOW_DATETIME, "at"), d0.i));
    CHECK(v_dt(flow_convert(cx, S(" 2024-01-02T05:04:05+02:00 "), FLOW_DATETIME, "at"), d0.i));
    CHECK(v_dt(flow_convert(cx, J("iso"), FLOW_DATETIME, "at"), d0.i));
    CHECK(v_dt(flow_convert(cx, flow_int(1704164645), FLOW_DATETIME, "at"), d0.i));
    CHECK(v_dt(flow_convert(cx, flow_number(1.5), FLOW_DATETIME, "at"), 1500));
    CHECK(v_dt(flow_convert(cx, d0, FLOW_DATETIME, "at"), d0.i));
    CHECK(v_err(flow_convert(cx, S("nope"), FLOW_DATETIME, "at"), "at: cannot convert \"nope\" to a datetime: not an ISO-8601 date-time"));
    CHECK(v_err(flow_convert(cx, flow_bool(1), FLOW_DATETIME, "at"), "at: cannot convert true to a datetime"));
    CHECK(v_err(flow_convert(cx, flow_int(INT64_MAX), FLOW_DATETIME, "at"), "out of range"));
    CHECK(v_err(flow_convert(cx, J("big"), FLOW_DATETIME, "at"), "out of range"));
    CHECK(v_err(flow_convert(cx, flow_int(8640000000001), FLOW_DATETIME, "at"), "out of range"));
    CHECK(v_dt(flow_convert(cx, flow_number(-1.0005), FLOW_DATETIME, "at"), -1000));
    /* to duration, to json, null */
    CHECK(v_dur(flow_convert(cx, flow_int(5000), FLOW_DURATION, "lag"), 5000));
    CHECK(v_dur(flow_convert(cx, J("n"), FLOW_DURATION, "lag"), 3));
    CHECK(v_err(flow_convert(cx, S("5m"), FLOW_DURATION, "lag"), "lag: cannot convert \"5m\" to a duration"));
    FlowVal same = flow_convert(cx, J("arr"), FLOW_JSON, "x");
    CHECK(no_error() && same.kind == FLOW_JSON && same.j == J("arr").j);
    CHECK(v_int(flow_convert(cx, flow_int(3), FLOW_JSON, "x"), 3));
    CHECK(v_null(flow_convert(cx, flow_null(), FLOW_INT, "x")));
    CHECK(v_null(flow_convert(cx, J("nul"), FLOW_STRING, "x")));
    CHECK(v_err(flow_convert(cx, S("1"), (FlowKind)99, "x"), "unknown kind"));
    CHECK(v_err(flow_convert(cx, S("x"), FLOW_INT, NULL), "value: cannot convert"));
}

static void test_set_remove(void) {
    cJSON *rec = cJSON_Parse("{\"id\":1,\"s\":\"x\"}");
    const char *p_a[] = { "a" };
    const char *p_bcd[] = { "b", "c", "d" };
    const char *p_sx[] = { "s", "x" };
    const char *p_bc[] = { "b", "c" };
    flow_set_path(cx, rec, p_a, 1, flow_int(2));
    CHECK(no_error() && json_is(rec, "{\"id\":1,\"s\":\"x\",\"a\":2}"));
    flow_set_path(cx, rec, p_a, 1, S("h\xC3\xA9"));
    CHECK(no_error() && json_is(rec, "{\"id\":1,\"s\":\"x\",\"a\":\"h\xC3\xA9\"}"));
    flow_set_path(cx, rec, p_bcd, 3, flow_bool(1));
    CHECK(no_error() && json_is(rec, "{\"id\":1,\"s\":\"x\",\"a\":\"h\xC3\xA9\",\"b\":{\"c\":{\"d\":true}}}"));
    flow_set_path(cx, rec, p_sx, 2, flow_number(1.5));    /* "s" is a string: replaced by an object */
    CHECK(no_error() && json_is(rec, "{\"id\":1,\"s\":{\"x\":1.5},\"a\":\"h\xC3\xA9\",\"b\":{\"c\":{\"d\":true}}}"));
    flow_set_path(cx, rec, p_a, 1, flow_null());
    CHECK(no_error() && json_is(cJSON_GetObjectItem(rec, "a"), "null"));
    flow_set_path(cx, rec, p_a, 1, dt("2024-01-02T03:04:05Z"));
    CHECK(json_is(cJSON_GetObjectItem(rec, "a"), "\"2024-01-02T03:04:05.000Z\""));
    /* the value may point into what it replaces */
    flow_set_path(cx, rec, p_bc, 2, flow_json(cJSON_GetObjectItem(rec, "b")));
    CHECK(no_error() && json_is(cJSON_GetObjectItem(rec, "b"), "{\"c\":{\"c\":{\"d\":true}}}"));
    flow_set_path(cx, rec, p_a, 1, flow_json(rec));
    CHECK(json_is(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "a"), "id"), "1"));
    flow_set_path(cx, rec, p_a, 0, flow_int(9));    /* no path: nothing */
    CHECK(no_error() && cJSON_GetArraySize(rec) == 4);

    flow_remove_path(rec, p_a, 1);
    CHECK(json_is(rec, "{\"id\":1,\"s\":{\"x\":1.5},\"b\":{\"c\":{\"c\":{\"d\":true}}}}"));
    flow_remove_path(rec, p_sx, 2);
    CHECK(json_is(rec, "{\"id\":1,\"s\":{},\"b\":{\"c\":{\"c\":{\"d\":true}}}}"));
    flow_remove_path(rec, p_bcd, 3);    /* b.c.d is absent: nothing */
    flow_remove_path(rec, p_a, 1);      /* absent */
    const char *p_idx[] = { "id", "x" };
    flow_remove_path(rec, p_idx, 2);    /* through a non-object */
    CHECK(json_is(rec, "{\"id\":1,\"s\":{},\"b\":{\"c\":{\"c\":{\"d\":true}}}}"));
    cJSON_Delete(rec);

    cJSON *dup = cJSON_Parse("{\"d\":1,\"k\":0,\"d\":2}");
    const char *p_d[] = { "d" };
    flow_remove_path(dup, p_d, 1);
    CHECK(json_is(dup, "{\"k\":0}"));
    cJSON_Delete(dup);

    cJSON *arr = cJSON_Parse("[1]");
    flow_set_path(cx, arr, p_a, 1, flow_int(1));
    CHECK(is_err("the record is an array, not an object") && json_is(arr, "[1]"));
    flow_remove_path(arr, p_a, 1);
    CHECK(json_is(arr, "[1]"));
    cJSON_Delete(arr);
    flow_set_path(cx, NULL, p_a, 1, flow_int(1));
    flow_remove_path(NULL, p_a, 1);
    CHECK(no_error());
}

static void test_obj_put(void) {
    cJSON *o = cJSON_CreateObject();
    flow_obj_put(o, "id", flow_int(7));
    flow_obj_put(o, "name", S("Zo\xC3\xAB"));
    flow_obj_put(o, "note", flow_null());
    flow_obj_put(o, "at", dt("2024-01-02T03:04:05Z"));
    flow_obj_put(o, "lag", flow_duration(300000));
    flow_obj_put(o, "nested", J("obj"));
    CHECK(json_is(o, "{\"id\":7,\"name\":\"Zo\xC3\xAB\",\"note\":null,\"at\":\"2024-01-02T03:04:05.000Z\",\"lag\":300000,"
                     "\"nested\":{\"a\":{\"b\":7},\"s\":\"x\"}}"));
    flow_obj_put(o, "id", S("again"));    /* replaces, no duplicate key */
    CHECK(json_is(cJSON_GetObjectItem(o, "id"), "\"again\"") && cJSON_GetArraySize(o) == 6);
    CHECK(cJSON_GetObjectItem(o, "nested") != cJSON_GetObjectItem(doc, "obj"));    /* a copy */
    flow_obj_put(o, "self", flow_json(o));
    CHECK(cJSON_GetArraySize(o) == 7 && cJSON_GetArraySize(cJSON_GetObjectItem(o, "self")) == 6);
    flow_obj_put(NULL, "x", flow_int(1));
    flow_obj_put(o, NULL, flow_int(1));
    CHECK(cJSON_GetArraySize(o) == 7 && no_error());
    cJSON_Delete(o);
}

static void test_text(void) {
    FlowText t = { 0 };
    CHECK(v_strn(flow_text_done(&t), "", 0));
    flow_text_put(cx, &t, "abc", 3);
    flow_text_put(cx, &t, NULL, 0);
    flow_text_put(cx, &t, "ignored", 0);
    flow_text_val(cx, &t, flow_int(42));
    flow_text_val(cx, &t, flow_null());
    flow_text_val(cx, &t, J("nul"));
    flow_text_val(cx, &t, S("-\xC3\xA9-"));
    flow_text_val(cx, &t, flow_number(2.5));
    flow_text_val(cx, &t, flow_bool(0));
    flow_text_val(cx, &t, dt("2024-01-02T03:04:05Z"));
    CHECK(v_str(flow_text_done(&t), "abc42-\xC3\xA9-2.5false2024-01-02T03:04:05.000Z"));
    CHECK(t.p && t.p[t.n] == 0);
    flow_text_val(cx, &t, J("arr"));
    flow_text_val(cx, &t, J("s"));
    CHECK(v_str(flow_text_done(&t), "abc42-\xC3\xA9-2.5false2024-01-02T03:04:05.000Z[1,\"two\",3.5,null,{\"k\":1}]h\xC3\xA9llo"));

    FlowText big = { 0 };
    for (int i = 0; i < 5000; i++) flow_text_put(cx, &big, "xyz", 3);
    FlowVal b = flow_text_done(&big);
    int all = b.kind == FLOW_STRING && b.s.n == 15000;
    for (size_t i = 0; all && i < b.s.n; i++) all = b.s.p[i] == "xyz"[i % 3];
    CHECK(all && no_error());
    CHECK(big.cap >= big.n + 1 && big.p[big.n] == 0);

    FlowText z = { 0 };
    flow_text_put(cx, &z, "a\0b", 3);
    flow_text_val(cx, &z, flow_string("\0", 1));
    CHECK(v_strn(flow_text_done(&z), "a\0b\0", 4));

    FlowText self = { 0 };
    flow_text_put(cx, &self, "0123456789", 10);
    for (int i = 0; i < 4; i++) flow_text_put(cx, &self, self.p, self.n);    /* appending to itself */
    CHECK(self.n == 160 && memcmp(self.p + 150, "0123456789", 10) == 0 && no_error());
}

static void test_table(void) {
    static const FlowTableEntry t[] = {
        { "", "empty", 0, FLOW_STRING },
        { "1", "one", 0, FLOW_STRING },
        { "EU", "Europe", 0, FLOW_STRING },
        { "b", NULL, 2, FLOW_INT },
        { "c", NULL, 2.5, FLOW_NUMBER },
        { "d", NULL, 1, FLOW_BOOL },
        { "e", NULL, 0, FLOW_BOOL },
        { "true", "yes", 0, FLOW_STRING },
        { "\xC3\xA9t\xC3\xA9", "summer", 0, FLOW_STRING },
    };
    int n = (int)(sizeof t / sizeof t[0]);
    CHECK(v_str(flow_table_get(cx, t, n, S("EU")), "Europe"));
    CHECK(v_int(flow_table_get(cx, t, n, S("b")), 2));
    CHECK(v_num(flow_table_get(cx, t, n, S("c")), 2.5));
    CHECK(v_bool(flow_table_get(cx, t, n, S("d")), 1));
    CHECK(v_bool(flow_table_get(cx, t, n, S("e")), 0));
    CHECK(v_str(flow_table_get(cx, t, n, S("")), "empty"));
    CHECK(v_str(flow_table_get(cx, t, n, S("\xC3\xA9t\xC3\xA9")), "summer"));
    CHECK(v_str(flow_table_get(cx, t, n, flow_int(1)), "one"));
    CHECK(v_str(flow_table_get(cx, t, n, flow_bool(1)), "yes"));
    CHECK(v_null(flow_table_get(cx, t, n, J("num"))));    /* "42": absent */
    CHECK(v_str(flow_table_get(cx, t, n, J("e")), "empty"));    /* json text "" */
    CHECK(v_null(flow_table_get(cx, t, n, S("eu"))));
    CHECK(v_null(flow_table_get(cx, t, n, S("zz"))));
    CHECK(v_null(flow_table_get(cx, t, n, S("E"))));
    CHECK(v_null(flow_table_get(cx, t, n, S("EUR"))));
    CHECK(v_null(flow_table_get(cx, t, n, flow_string("EU\0", 3))));
    CHECK(v_null(flow_table_get(cx, t, n, flow_null())));
    CHECK(v_null(flow_table_get(cx, t, n, J("arr"))));
    CHECK(v_null(flow_table_get(cx, t, 0, S("EU"))));
    CHECK(v_null(flow_table_get(cx, NULL, 3, S("EU"))));

    FlowTableEntry many[300];
    char keys[300][16];
    for (int i = 0; i < 300; i++) {
        snprintf(keys[i], sizeof keys[i], "k%03d", i);
        many[i] = (FlowTableEntry){ keys[i], NULL, i, FLOW_INT };
    }
    int found = 1;
    char k[16];
    for (int i = 0; i < 300 && found; i++) {
        snprintf(k, sizeof k, "k%03d", i);
        FlowVal v = flow_table_get(cx, many, 300, S(k));
        found = v.kind == FLOW_INT && v.i == i;
    }
    CHECK(found && no_error());
    CHECK(v_null(flow_table_get(cx, many, 300, S("k300"))) && v_null(flow_table_get(cx, many, 300, S("k"))));
}

/* Every function on every pair of a mixed set of values (json arrays, objects, null, NULs, extremes):
 * nothing crashes (the sanitizers watch), and a failure is always a `value` error with a null result. */
static int total_ok;
static void total(FlowVal r) {
    if (flow_failed(cx)) {
        if (flow_error_class(cx) != FLOW_ERR_VALUE || r.kind != FLOW_NULL || !flow_error_message(cx)[0]) total_ok = 0;
        flow_clear_error(cx);
    }
}

static void test_total(void) {
    cJSON *deep = cJSON_Parse("{\"a\":[[],{},[null]],\"\":\"\",\"n\":-0.0}");
    FlowVal vals[] = {
        flow_null(), flow_bool(0), flow_bool(1), flow_int(0), flow_int(-1), flow_int(INT64_MAX), flow_int(INT64_MIN),
        flow_number(0.0), flow_number(-2.5), flow_number(1e308), flow_number(NAN), flow_number(INFINITY),
        S(""), S("2024-01-02"), flow_string("a\0b", 3), flow_string(NULL, 0), S("h\xC3\xA9llo"), S("-12"),
        flow_datetime(0), flow_datetime(8640000000000000), flow_datetime(-8640000000000000), flow_duration(0),
        flow_duration(INT64_MIN), flow_duration(INT64_MAX),
        J("n"), J("f"), J("s"), J("e"), J("t"), J("fa"), J("arr"), J("empty"), J("eobj"), J("obj"), J("iso"), J("big"),
        flow_json(deep), flow_json(cJSON_GetObjectItem(deep, "a")), flow_json(cJSON_GetObjectItem(deep, "n")),
    };
    int nv = (int)(sizeof vals / sizeof vals[0]);
    static const FlowTableEntry tab[] = { { "", "e", 0, FLOW_STRING }, { "-12", NULL, 1, FLOW_INT }, { "a", NULL, 0, FLOW_BOOL } };
    static const char *const path[] = { "x", "y" };
    total_ok = 1;
    cJSON *rec = cJSON_CreateObject();
    for (int i = 0; i < nv; i++) {
        FlowVal a = vals[i];
        total(flow_op_neg(cx, a));
        flow_truth(cx, a, "c");
        total(flow_null());
        (void)flow_tpl_true(a);
        for (int k = FLOW_NULL; k <= FLOW_JSON; k++) {
            total(flow_convert(cx, a, (FlowKind)k, "v"));
            total(flow_field(cx, a, "a", (FlowKind)k, "v.a"));
        }
        total(flow_table_get(cx, tab, 3, a));
        FlowText t = { 0 };
        flow_text_val(cx, &t, a);
        total(flow_text_done(&t));
        flow_obj_put(rec, "v", a);
        flow_set_path(cx, rec, path, 2, a);
        total(flow_null());
        for (int j = 0; j < nv; j++) {
            FlowVal b = vals[j];
            for (int op = FLOW_OP_ADD; op <= FLOW_OP_MOD; op++) total(flow_op_arith(cx, (FlowArith)op, a, b));
            for (int op = FLOW_CMP_EQ; op <= FLOW_CMP_GE; op++) total(flow_op_cmp(cx, (FlowCmp)op, a, b));
            total(flow_op_in(cx, a, b));
            total(flow_index(cx, a, b, FLOW_JSON, "v[i]"));
            total(flow_index(cx, a, b, FLOW_STRING, "v[i]"));
        }
        flow_scratch_reset(cx);
    }
    CHECK(total_ok);
    CHECK(cJSON_IsObject(rec) && cJSON_GetArraySize(rec) == 2);
    /* equality is symmetric, and == is the negation of != */
    int sym = 1;
    for (int i = 0; i < nv; i++)
        for (int j = 0; j < nv; j++) {
            FlowVal e1 = CMP(EQ, vals[i], vals[j]), e2 = CMP(EQ, vals[j], vals[i]), ne = CMP(NE, vals[i], vals[j]);
            if (e1.kind != FLOW_BOOL || e2.kind != FLOW_BOOL || ne.kind != FLOW_BOOL || e1.b != e2.b || e1.b == ne.b) sym = 0;
        }
    CHECK(sym && no_error());
    cJSON_Delete(rec);
    cJSON_Delete(deep);
}

int main(void) {
    cx = flow_ctx_new();
    doc = cJSON_Parse(FIXTURE);
    if (!doc) { puts("ops: bad fixture"); return 2; }
    test_arith();
    test_neg();
    test_cmp();
    test_in();
    test_truth();
    test_field();
    test_index();
    test_convert();
    test_set_remove();
    test_obj_put();
    test_text();
    test_table();
    test_total();
    /* the first error wins: a second failure keeps the first message */
    flow_op_arith(cx, FLOW_OP_DIV, flow_int(1), flow_int(0));
    flow_op_neg(cx, S("x"));
    CHECK(is_err("division by zero"));
    flow_scratch_reset(cx);
    cJSON_Delete(doc);
    flow_ctx_free(cx);
    printf("ops: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
