/* tests/unit/values.c — unit tests of the runtime's values: the one JSON reader (runtime/json_read.c:
 * what it accepts and refuses, where it says the error is), exact ints in cJSON trees (flow.h: their
 * digits, reading them back, every writer printing them), the exact printer (json_print.c: numbers,
 * text that is not UTF-8), flow_text_check, flow_json_equal and the int conversions of value.c.
 * Prints `values: N passed, N failed`; exits 1 when an assertion failed. Built sanitized by
 * `make build/tests/unit_values`; run by the `values` suite (tests/lib/83-values.sh). */
#include "flow.h"
#include "jsonpath.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
static FlowCtx *cx;

static void check(int ok, int line, const char *what) {
    if (ok) passed++;
    else {
        failed++;
        printf("FAIL values.c:%d: %s\n", line, what);
    }
}
#define CHECK(c) check(!!(c), __LINE__, #c)

/* text parses, and prints back (compactly, exactly) as want */
static int reads_as(const char *text, size_t n, const char *want) {
    FlowJsonError e;
    cJSON *j = flow_json_parse(text, n, &e);
    if (!j) { printf("  %s: refused at %ld:%ld: %s\n", text, e.line, e.col, e.msg); return 0; }
    char *t = flow_json_print(j);
    int ok = t && strcmp(t, want) == 0;
    if (!ok) printf("  %s: printed %s, want %s\n", text, t ? t : "(null)", want);
    cJSON_free(t);
    cJSON_Delete(j);
    return ok;
}
#define READS(text, want) check(reads_as(text, sizeof text - 1, want), __LINE__, "reads " #text " as " #want)

/* text is refused with a message containing msg, at line:col */
static int refused(const char *text, size_t n, const char *msg, long line, long col) {
    FlowJsonError e;
    cJSON *j = flow_json_parse(text, n, &e);
    if (j) { cJSON_Delete(j); printf("  accepted\n"); return 0; }
    int ok = strstr(e.msg, msg) && e.line == line && e.col == col && e.offset <= n;
    if (!ok) printf("  refused at %ld:%ld (offset %zu): %s\n", e.line, e.col, e.offset, e.msg);
    return ok;
}
#define REFUSED(text, msg, line, col) check(refused(text, sizeof text - 1, msg, line, col), __LINE__, "refuses " #text)

static void test_reader(void) {
    READS("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}", "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}");
    READS(" \t\r\n[ 1 , 2 ]\n", "[1,2]");
    READS("\xEF\xBB\xBF{}", "{}");                                  /* a byte order mark */
    READS("\"\\u00e9\\ud83d\\ude00 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"", "\"\xC3\xA9\xF0\x9F\x98\x80 \\\" \\\\ / \\b\\f\\n\\r\\t\"");
    READS("\"h\xC3\xA9llo \xE6\x97\xA5\xF4\x8F\xBF\xBF\"", "\"h\xC3\xA9llo \xE6\x97\xA5\xF4\x8F\xBF\xBF\"");
    READS("\"\\u001f\"", "\"\\u001f\"");
    /* numbers: ints exact over the whole int64 range */
    READS("[5000000000000001,9007199254740993,9223372036854775807,-9223372036854775808]",
          "[5000000000000001,9007199254740993,9223372036854775807,-9223372036854775808]");
    READS("[9007199254740993.0,9.007199254740993e15,90071992547409930e-1,0.9223372036854775807e19]",
          "[9007199254740993,9007199254740993,9007199254740993,9223372036854775807]");
    /* whole doubles whose text is no int64 keep their text: no int, and printed as read */
    READS("[9223372036854775808,1e19,-9223372036854775809,9007199254740993.5,1e-400]",
          "[9223372036854775808,1e19,-9223372036854775809,9007199254740993.5,1e-400]");
    READS("[0.1,-0.25,1.5e300,-0,0,1E+2,12.3400]", "[0.1,-0.25,1.5e300,-0,0,100,12.34]");
    /* refusals, with where */
    REFUSED("{\"total\":1e400}", "number out of range: 1e400", 1, 10);
    REFUSED("[-1e400]", "number out of range", 1, 2);
    REFUSED("{\"s\":\"a\\u0000b\"}", "\\u0000", 1, 8);
    REFUSED("{\"s\":\"a\0b\"}", "control character U+0000", 1, 8);
    REFUSED("{\"s\":\"a\tb\"}", "control character U+0009", 1, 8);
    REFUSED("\n\n  \"\xFF\"", "invalid UTF-8 (byte 0xFF)", 3, 4);
    REFUSED("\"\xC0\x80\"", "invalid UTF-8", 1, 2);            /* an overlong NUL */
    REFUSED("\"\xED\xA0\x80\"", "invalid UTF-8", 1, 2);        /* a surrogate, encoded */
    REFUSED("\"\xF4\x90\x80\x80\"", "invalid UTF-8", 1, 2);    /* past U+10FFFF */
    REFUSED("\"\xE6\x97\"", "invalid UTF-8", 1, 2);            /* cut short */
    REFUSED("\"\\ud800\"", "unpaired surrogate", 1, 2);
    REFUSED("\"\\udc00\\ud800\"", "unpaired surrogate", 1, 2);
    REFUSED("\"\\ud800\\u0041\"", "unpaired surrogate", 1, 2);
    REFUSED("\"\\x41\"", "invalid escape", 1, 2);
    REFUSED("\"\\u12G4\"", "invalid \\u escape", 1, 2);
    REFUSED("{\"a\":01}", "leading zero", 1, 7);
    REFUSED("[1.]", "no digit after the point", 1, 4);
    REFUSED("[.5]", "unexpected `.`", 1, 2);
    REFUSED("[+1]", "unexpected `+`", 1, 2);
    REFUSED("[1e]", "no digit in the exponent", 1, 4);
    REFUSED("[1,]", "unexpected `]`", 1, 4);
    REFUSED("{\"a\":1,}", "expected a quoted member name", 1, 8);
    REFUSED("{\"a\" 1}", "expected `:`", 1, 6);
    REFUSED("{\"a\":1", "unexpected end of the text in an object", 1, 7);
    REFUSED("\"abc", "unterminated string", 1, 1);
    REFUSED("{} {}", "unexpected text after the JSON value", 1, 4);
    REFUSED("", "unexpected end of the text", 1, 1);
    REFUSED("nul", "unexpected `n`", 1, 1);
    REFUSED("[NaN]", "unexpected `N`", 1, 2);
    REFUSED("\"\xC3\xA9\" x", "unexpected text after", 1, 5);    /* columns count characters */
    /* nesting: FLOW_JSON_DEPTH levels, not one more */
    char deep[2 * FLOW_JSON_DEPTH + 4];
    for (int k = 0; k <= 1; k++) {
        size_t n = 0, levels = FLOW_JSON_DEPTH + (size_t)k;
        for (size_t i = 0; i < levels; i++) deep[n++] = '[';
        for (size_t i = 0; i < levels; i++) deep[n++] = ']';
        FlowJsonError e;
        cJSON *j = flow_json_parse(deep, n, &e);
        CHECK(k == 0 ? j != NULL : (j == NULL && strstr(e.msg, "nested deeper than")));
        cJSON_Delete(j);
    }
    /* the length is the text's: no NUL needed, none read past */
    CHECK(reads_as("[1,2]garbage", 5, "[1,2]"));
}

static void test_exact_ints(void) {
    cJSON *j = flow_json_parse("[9007199254740992,9007199254740993,-9007199254740993,12]", 56, NULL);
    CHECK(j);
    const cJSON *a = cJSON_GetArrayItem(j, 0), *b = cJSON_GetArrayItem(j, 1), *c = cJSON_GetArrayItem(j, 2), *d = cJSON_GetArrayItem(j, 3);
    int64_t i;
    CHECK(!a->valuestring && flow_json_get_int(a, &i) && i == INT64_C(9007199254740992) && !flow_json_big_int(a, &i));
    CHECK(b->valuestring && strcmp(b->valuestring, "9007199254740993") == 0 && flow_json_big_int(b, &i) && i == INT64_C(9007199254740993));
    CHECK(c->valuestring && flow_json_get_int(c, &i) && i == -INT64_C(9007199254740993));
    CHECK(!d->valuestring && !cJSON_IsString(b));
    CHECK(!flow_json_equal(a, b) && flow_json_equal(b, b));
    cJSON *dup = cJSON_Duplicate(j, 1);
    CHECK(flow_json_equal(j, dup) && flow_json_get_int(cJSON_GetArrayItem(dup, 1), &i) && i == INT64_C(9007199254740993));
    cJSON_Delete(dup);
    /* digits that disagree with the double (a hook changed the number) are not believed */
    cJSON *h = cJSON_GetArrayItem(j, 1);
    h->valuedouble = 5;
    CHECK(flow_json_get_int(h, &i) && i == 5 && !flow_json_big_int(h, &i));
    cJSON_Delete(j);

    cJSON *m = flow_json_int(INT64_MIN), *x = flow_json_int(INT64_MAX), *s = flow_json_int(-3);
    char buf[32];
    CHECK(strcmp(flow_json_num_text(m, buf), "-9223372036854775808") == 0);
    CHECK(strcmp(flow_json_num_text(x, buf), "9223372036854775807") == 0 && x->valuestring);
    CHECK(strcmp(flow_json_num_text(s, buf), "-3") == 0 && !s->valuestring);
    flow_json_int_set(x, 7);   /* made small again: the digits go */
    CHECK(!x->valuestring && x->valuedouble == 7);
    cJSON_Delete(m);
    cJSON_Delete(x);
    cJSON_Delete(s);

    /* doubles: whole ones in the int64 range are that int; the rest are not ints */
    cJSON *n = cJSON_CreateNumber(1e19), *f = cJSON_CreateNumber(2.5), *w = cJSON_CreateNumber(-9223372036854775808.0);
    CHECK(!flow_json_get_int(n, &i) && !flow_json_get_int(f, &i) && flow_json_get_int(w, &i) && i == INT64_MIN);
    CHECK(strcmp(flow_json_num_text(n, buf), "1e+19") == 0 && strcmp(flow_json_num_text(w, buf), "-9223372036854775808") == 0);
    cJSON_Delete(n);
    cJSON_Delete(f);
    cJSON_Delete(w);
}

static void test_conversions(void) {
    const char *text = "{\"big\":9223372036854775807,\"over\":9223372036854775808,\"half\":1.5,\"d\":9007199254740993,"
                       "\"low\":-9223372036854775809,\"frac\":9007199254740993.5}";
    cJSON *j = flow_json_parse(text, strlen(text), NULL);
    CHECK(j);
    FlowVal v = flow_val_from_json(cx, cJSON_GetObjectItem(j, "big"), FLOW_INT, "record.big");
    CHECK(!flow_failed(cx) && v.kind == FLOW_INT && v.i == INT64_MAX);
    v = flow_val_from_json(cx, cJSON_GetObjectItem(j, "over"), FLOW_INT, "record.over");
    CHECK(flow_failed(cx) && flow_error_class(cx) == FLOW_ERR_VALUE && strstr(flow_error_message(cx), "record.over is out of the int range"));
    flow_clear_error(cx);
    v = flow_val_from_json(cx, cJSON_GetObjectItem(j, "low"), FLOW_INT, "record.low");
    CHECK(flow_failed(cx) && strstr(flow_error_message(cx), "record.low is out of the int range"));
    flow_clear_error(cx);
    v = flow_val_from_json(cx, cJSON_GetObjectItem(j, "frac"), FLOW_INT, "record.frac");
    CHECK(flow_failed(cx) && strstr(flow_error_message(cx), "record.frac"));
    flow_clear_error(cx);
    v = flow_val_from_json(cx, cJSON_GetObjectItem(j, "half"), FLOW_INT, "record.half");
    CHECK(flow_failed(cx) && strstr(flow_error_message(cx), "record.half must be a whole number, got 1.5"));
    flow_clear_error(cx);
    /* back into JSON and text, exactly */
    cJSON *o = flow_val_to_json(flow_int(INT64_C(9007199254740993)));
    char *t = flow_json_print(o);
    CHECK(t && strcmp(t, "9007199254740993") == 0);
    cJSON_free(t);
    cJSON_Delete(o);
    FlowStr s = flow_val_text(cx, flow_json(cJSON_GetObjectItem(j, "d")));
    CHECK(s.n == 16 && memcmp(s.p, "9007199254740993", 16) == 0);
    /* equality: exact, never within an epsilon */
    CHECK(!flow_val_equal(flow_json(cJSON_GetObjectItem(j, "d")), flow_int(INT64_C(9007199254740992))));
    CHECK(flow_val_equal(flow_json(cJSON_GetObjectItem(j, "d")), flow_int(INT64_C(9007199254740993))));
    CHECK(!flow_val_equal(flow_int(INT64_C(9007199254740993)), flow_number(9007199254740992.0)));
    CHECK(flow_val_equal(flow_int(3), flow_number(3.0)));
    flow_scratch_reset(cx);
    cJSON_Delete(j);

    /* objects: by name whatever the order; repeated names pair up in order */
    cJSON *p = flow_json_parse("{\"a\":1,\"b\":2,\"b\":3}", 19, NULL), *q = flow_json_parse("{\"b\":2,\"a\":1,\"b\":3}", 19, NULL),
          *r = flow_json_parse("{\"b\":3,\"a\":1,\"b\":2}", 19, NULL), *u = flow_json_parse("{\"a\":1.0000000000000002}", 24, NULL),
          *w = flow_json_parse("{\"a\":1}", 7, NULL);
    CHECK(flow_json_equal(p, p) && flow_json_equal(p, q) && !flow_json_equal(p, r) && !flow_json_equal(u, w));
    cJSON_Delete(p);
    cJSON_Delete(q);
    cJSON_Delete(r);
    cJSON_Delete(u);
    cJSON_Delete(w);
}

static void test_printer_and_text(void) {
    /* text that is not UTF-8 (only a hook could put it in a tree) still prints as valid JSON */
    cJSON *s = cJSON_CreateString("a\xFF" "b\xC3\xA9\xED\xA0\x80z");
    char *t = flow_json_print(s);
    CHECK(t && strcmp(t, "\"a\\ufffdb\xC3\xA9\\ufffd\\ufffd\\ufffdz\"") == 0);
    cJSON *back = t ? flow_json_parse(t, strlen(t), NULL) : NULL;
    CHECK(back != NULL);
    cJSON_Delete(back);
    cJSON_free(t);
    cJSON_Delete(s);
    /* into a caller's buffer when it fits, else a fresh one */
    cJSON *r = flow_json_parse("{\"id\":9223372036854775807,\"x\":[0.1]}", 36, NULL);
    char small[16], big[128];
    size_t n;
    char *a = flow_json_print_into(r, big, sizeof big, &n), *b = flow_json_print_into(r, small, sizeof small, &n);
    CHECK(a == big && strcmp(a, "{\"id\":9223372036854775807,\"x\":[0.1]}") == 0);
    CHECK(b && b != small && n == 36 && strcmp(b, a) == 0);
    if (b != small) cJSON_free(b);
    cJSON_Delete(r);
    /* flow_text_check */
    size_t at = 99;
    CHECK(flow_text_check("plain ascii text, long enough for words", 39, &at) == FLOW_TEXT_OK);
    CHECK(flow_text_check("0123456789abc\0def", 17, &at) == FLOW_TEXT_NUL && at == 13);
    CHECK(flow_text_check("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15, &at) == FLOW_TEXT_OK);
    CHECK(flow_text_check("0123456789\xC3", 11, &at) == FLOW_TEXT_UTF8 && at == 10);
    CHECK(flow_text_check("\x80", 1, &at) == FLOW_TEXT_UTF8 && at == 0);
    /* kept raw text: whole, bad bytes as U+FFFD */
    cJSON *k = flow_json_raw_text("a\0b\xFF", 4);
    CHECK(cJSON_IsString(k) && strcmp(k->valuestring, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD") == 0);
    cJSON_Delete(k);
}

static void count_node(const cJSON *node, void *ud) { (void)node; ++*(int *)ud; }

/* how many nodes a JSONPath query selects from text */
static int selects(const char *query, const char *text) {
    char err[200];
    FlowJsonPath *q = flow_jsonpath_compile(query, err, sizeof err);
    cJSON *doc = flow_json_parse(text, strlen(text), NULL);
    int n = 0;
    if (!q || !doc || flow_jsonpath_eval(q, doc, count_node, &n, err, sizeof err) != 0) n = -1;
    flow_jsonpath_free(q);
    cJSON_Delete(doc);
    return n;
}

static void test_jsonpath(void) {
    /* filters compare ints exactly, past 2^53 too */
    const char *ids = "[{\"id\":9007199254740992},{\"id\":9007199254740993},{\"id\":9223372036854775807}]";
    CHECK(selects("$[?@.id == 9007199254740993]", ids) == 1);
    CHECK(selects("$[?@.id > 9007199254740992]", ids) == 2);
    CHECK(selects("$[?@.id < 9223372036854775807]", ids) == 2);
    CHECK(selects("$[?@.id == 9007199254740992.0]", ids) == 1);
    CHECK(selects("$[?@.id == 9007199254740993.5]", ids) == 0);
}

int main(void) {
    cx = flow_ctx_new();
    test_reader();
    test_exact_ints();
    test_conversions();
    test_printer_and_text();
    test_jsonpath();
    flow_ctx_free(cx);
    printf("values: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
