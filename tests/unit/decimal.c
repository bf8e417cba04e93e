/* tests/unit/decimal.c — runtime/decimal.c against glibc's correctly rounded strtod and printf:
 * shortest digits (they read back, and no fewer digits do), parsing (bit for bit equal to strtod,
 * including more than 19 digits, subnormals, halfway cases, overflow and underflow), and the %g layout
 * (equal to the printf loop it replaces), and the JSON reader's own number scan. Random doubles are drawn as bit patterns from a fixed seed;
 * DECIMAL_N sets how many (default 200000 per check; run with 10000000 by hand after a change). */
#include "flow.h"
#include "check.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void) {   /* xorshift64* */
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static double from_bits(uint64_t b) { double x; memcpy(&x, &b, sizeof x); return x; }
static uint64_t bits(double x) { uint64_t b; memcpy(&b, &x, sizeof b); return b; }

/* a random finite double: uniform bit patterns, plus short decimals, integers and subnormals */
static double draw(void) {
    uint64_t r = next();
    switch (r % 4) {
    case 0: { double x = from_bits(next()); return isfinite(x) ? x : 1.5; }
    case 1: return (double)(int64_t)(next() % 2000001 - 1000000) / 100.0;            /* prices */
    case 2: return from_bits(next() & ((1ULL << 52) - 1));                              /* subnormals */
    default: return (double)(next() % 100000) * pow(10, (int)(next() % 40) - 20);
    }
}

/* the fewest significant digits (1..17) whose %.*e text reads back as x */
static int fewest(double x) {
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
        if (strtod(buf, NULL) == x) return prec;
    }
    return 99;
}

static void test_shortest(long n) {
    cur_case = "shortest";
    for (long i = 0; i < n; i++) {
        double x = draw();
        if (x == 0) continue;
        uint64_t d;
        int p;
        int nd = flow_dec_shortest(x, &d, &p);
        char txt[64];
        snprintf(txt, sizeof txt, "%llue%d", (unsigned long long)d, p);
        double back = strtod(txt, NULL);
        check(back == fabs(x), "%.17g: %s reads back as %.17g", x, txt, back);
        check(flow_dec_to_double(d, p) == fabs(x), "%.17g: flow_dec_to_double(%s) differs", x, txt);
        check(nd == fewest(x), "%.17g: %d digits (%s), printf needs %d", x, nd, txt, fewest(x));
        check(d % 10 != 0, "%.17g: %s has a trailing zero", x, txt);
    }
    /* the edges */
    double edge[] = { 5e-324, 1e-323, 2.2250738585072014e-308, 2.2250738585072009e-308, 1.7976931348623157e308,
                      1.0, 0.1, 0.3, 2.0 / 3, 9007199254740993.0, 1e23, 5e-310, 123456789012345680.0,
                      4.35, 1.005, 0.07, 1e21, 1e-7, 9.5367431640625e-07, 8.98846567431158e307 };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        uint64_t d;
        int p;
        int nd = flow_dec_shortest(edge[i], &d, &p);
        check(flow_dec_to_double(d, p) == edge[i] && nd == fewest(edge[i]), "edge %.17g: %llue%d", edge[i], (unsigned long long)d, p);
    }
    /* every power of two (their lower neighbour is closer: the skewed case) */
    for (int e = -1074; e <= 1023; e++) {
        double x = ldexp(1.0, e);
        uint64_t d;
        int p;
        int nd = flow_dec_shortest(x, &d, &p);
        check(flow_dec_to_double(d, p) == x && nd <= fewest(x), "2^%d: %llue%d (%d digits, printf %d)", e, (unsigned long long)d, p, nd, fewest(x));
    }
}

/* parse text with flow_dec_parse and strtod: the same bits */
static void same_parse(const char *t) {
    double a, b = strtod(t, NULL);
    int ok = flow_dec_parse(t, strlen(t), &a);
    check(ok && bits(a) == bits(b), "parse \"%s\": %.17g (ok %d), strtod %.17g", t, a, ok, b);
}

static void test_parse(long n) {
    cur_case = "parse";
    char t[128];
    for (long i = 0; i < n; i++) {
        /* random digits (1..25 of them, with a point somewhere) and an exponent */
        int nd = 1 + (int)(next() % 25), o = 0, point = (int)(next() % (unsigned)(nd + 1));
        if (next() & 1) t[o++] = '-';
        for (int k = 0; k < nd; k++) {
            if (k == point && k) t[o++] = '.';
            t[o++] = (char)('0' + next() % 10);
        }
        if (next() % 3) o += snprintf(t + o, sizeof t - (size_t)o, "e%d", (int)(next() % 700) - 350);
        t[o] = 0;
        same_parse(t);
        /* the shortest text of a random double, and it with one more digit nudged (near halfway) */
        double x = draw();
        snprintf(t, sizeof t, "%.17g", x);
        same_parse(t);
        snprintf(t, sizeof t, "%.25e", x);
        same_parse(t);
    }
    const char *edge[] = { "0", "-0", "0.0", "1", "9007199254740993", "9007199254740992.5", "9007199254740993.0000000001",
                           "2.2250738585072011e-308", "2.2250738585072012e-308", "4.9406564584124654e-324",
                           "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400", "1e400", "1.7976931348623157e308",
                           "1.7976931348623158e308", "1.7976931348623159e308", "179769313486231580793728971405301e276",
                           "0.000000000000000000000000000000000000001", "123456789012345678901234567890",
                           "1.00000000000000011102230246251565404236316680908203125",
                           "1.00000000000000011102230246251565404236316680908203124",
                           "1.00000000000000011102230246251565404236316680908203126", "1E5", "1e+5", "+7", ".5", "5." };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) same_parse(edge[i]);
    /* not decimal text */
    const char *bad[] = { "", "-", "e5", "1e", "1e+", "1x", "0x10", "inf", "nan", ".", "1..2", " 1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double a;
        check(!flow_dec_parse(bad[i], strlen(bad[i]), &a), "parse \"%s\" was accepted", bad[i]);
    }
}

/* The JSON reader's numbers (flow_json_parse: its own scan, short decimals by one exact division,
 * the rest by flow_dec_parse) against strtod: the same double (zero's sign aside: a whole number is
 * read as the int it is). Mostly short decimals (prices, amounts), where the fast path is taken. */
static void test_read(long n) {
    cur_case = "read";
    char t[96];
    for (long i = 0; i < n; i++) {
        int ip = (int)(next() % 9), fp = (int)(next() % 12), o = 0;
        if (next() & 1) t[o++] = '-';
        if (!ip) t[o++] = '0';
        else {
            t[o++] = (char)('1' + next() % 9);
            for (int k = 1; k < ip; k++) t[o++] = (char)('0' + next() % 10);
        }
        if (fp) {
            t[o++] = '.';
            for (int k = 0; k < fp; k++) t[o++] = (char)('0' + (next() % 3 ? next() % 10 : 0));
        }
        if (next() % 4 == 0) o += snprintf(t + o, sizeof t - (size_t)o, "e%d", (int)(next() % 61) - 30);
        t[o] = 0;
        cJSON *j = flow_json_parse(t, (size_t)o, NULL);
        double want = strtod(t, NULL);
        check(j && cJSON_IsNumber(j) && (j->valuedouble == want) && (want == 0 || bits(j->valuedouble) == bits(want)),
              "read \"%s\": %.17g, strtod %.17g", t, j ? j->valuedouble : 0.0, want);
        cJSON_Delete(j);
    }
}

/* %g layout: equal to the printf loop that started at min_prec and took the first that read back */
static void same_g(double x, int min_prec) {
    char ours[32], theirs[40];
    flow_dec_format_g(ours, x, min_prec);
    for (int prec = min_prec; prec <= 17; prec++) {
        snprintf(theirs, sizeof theirs, "%.*g", prec, x);
        if (strtod(theirs, NULL) == x) break;
    }
    if (strcmp(ours, theirs) == 0) { check(1, "%s", ""); return; }
    /* printf's nearest at the shortest length may miss where a power of two's neighbourhood is
     * lopsided: then ours must be shorter and read back */
    check(strtod(ours, NULL) == x && strlen(ours) < strlen(theirs), "%%g %.17g (min %d): %s, printf %s", x, min_prec, ours, theirs);
}

static void test_format(long n) {
    cur_case = "format_g";
    for (long i = 0; i < n; i++) {
        double x = draw();
        same_g(x, 15);
        same_g(x, 1);
    }
    double edge[] = { 0.0, -0.0, 1e-5, 1e-4, 0.0001234, 123456789012345.6, 1e15, 1e16, 1e17, 1e20, 1e21, -1e100, 5e-324, 1.7976931348623157e308, 100, 0.5 };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) { same_g(edge[i], 15); same_g(edge[i], 1); }
}

int main(int argc, char **argv) {
    const char *env = getenv("DECIMAL_N");
    long n = env ? atol(env) : 200000;
    if (argc > 1) n = atol(argv[1]);
    test_shortest(n);
    test_parse(n);
    test_read(n);
    test_format(n);
    printf("decimal: %d passed, %d failed\n", npass, nfail);
    return nfail != 0;
}
