/* decimal.c — numbers to and from decimal text, exactly: the shortest digits that read back as a double
 * (flow_dec_shortest), the double nearest to a decimal d x 10^p (flow_dec_to_double), decimal text's
 * nearest double (flow_dec_parse), and the %g layout of a double (flow_dec_format_g). Every printer and
 * reader of numbers in the runtime goes through these, so they agree, and none loops over
 * snprintf("%.*g") + strtod.
 *
 * The method is "unrounded scaling" (Russ Cox, "Floating-Point Printing and Parsing Can Be Simple and
 * Fast", 2026): x * 2^e * 10^p is computed from the top 64 bits of x times a 128-bit 10^p (the table
 * build/gen/pow10.h, made exactly by scripts/gen_pow10.c), keeping two fraction bits and a sticky bit,
 * which is enough to floor, ceil or round it correctly. tests/unit/decimal.c checks the results against
 * glibc's correctly rounded strtod and printf over millions of values. */
#define _GNU_SOURCE
#include "flow.h"
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pow10.h"

/* an unrounded number: the value times 4 (two fraction bits: the half and the quarter), with the
 * lowest bit set when anything below them was not zero (sticky) */
typedef uint64_t Unrounded;

static uint64_t u_floor(Unrounded u) { return u >> 2; }
static uint64_t u_ceil(Unrounded u) { return (u + 3) >> 2; }
static uint64_t u_round(Unrounded u) { return (u + 1 + ((u >> 2) & 1)) >> 2; }   /* half to even */

/* floor(x log10 2) and floor(x log2 10), exact over the exponents of doubles */
static int log10_pow2(int x) { return (x * 78913) >> 18; }
static int log2_pow10(int x) { return (x * 108853) >> 15; }
/* floor(log10(3/4 * 2^e)): the decimal exponent for a power of two, whose lower neighbour is closer */
static int log10_pow2_skewed(int e) { return (e * 631305 - 261663) >> 21; }

const uint64_t flow_dec_pow10[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL,
};

/* x * 2^e * 10^p, unrounded, for x with its top bit set; s = -(e + floor(p log2 10) + 3) must be in
 * [0, 63] and p in the table's range (the callers see to both) */
static Unrounded u_scale(uint64_t x, int p, int s) {
    const uint64_t *pm = flow_pow10_tab[p - FLOW_POW10_MIN];   /* pm[0] * 2^64 - pm[1] */
    unsigned __int128 full = (unsigned __int128)x * pm[0];
    uint64_t hi = (uint64_t)(full >> 64), mid = (uint64_t)full, sticky = 1;
    if ((hi & ((1ULL << s) - 1)) == 0) {
        /* the bits shifted out are zero: the low word decides whether anything is left below them */
        uint64_t mid2 = (uint64_t)(((unsigned __int128)x * pm[1]) >> 64);
        sticky = mid - mid2 > 1;
        hi -= mid < mid2;
    }
    return (hi >> s) | sticky;
}

/* a finite double's magnitude as m * 2^e with m's top bit set (subnormals normalised); 0 for zero */
static uint64_t unpack(double x, int *e) {
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    uint64_t m = (b & ((1ULL << 52) - 1)) << 11;
    int be = (int)((b >> 52) & 0x7FF);
    if (be == 0) {
        if (!m) { *e = 0; return 0; }
        int z = __builtin_clzll(m);
        *e = -1085 - z;
        return m << z;
    }
    *e = be - 1086;
    return m | (1ULL << 63);
}

/* d / 10^k, p + k for the k trailing zeros of d (d > 0) */
static uint64_t trim_zeros(uint64_t d, int *p) {
    while (d % 10 == 0) { d /= 10; (*p)++; }
    return d;
}

int flow_dec_count(uint64_t d) {
    int n = 1;
    while (n < 20 && d >= flow_dec_pow10[n]) n++;
    return n;
}

int flow_dec_shortest(double x, uint64_t *d, int *p) {
    int e;
    uint64_t m = unpack(fabs(x), &e);
    if (!m || !isfinite(x)) { *d = 0; *p = 0; return 1; }
    /* the double's neighbourhood that reads back as it: m +- half an ulp (an ulp is 2^z in m; a power of
     * two has a lower neighbour only a quarter ulp away), endpoints included when m is even */
    int z = 11, q;
    uint64_t lo;
    if (m == 1ULL << 63 && e > -1085) {
        q = -log10_pow2_skewed(e + z);
        lo = m - (1ULL << (z - 2));
    } else {
        if (e < -1085) z = 11 + (-1085 - e);   /* a subnormal: fewer bits, a wider ulp */
        q = -log10_pow2(e + z);
        lo = m - (1ULL << (z - 1));
    }
    uint64_t hi = m + (1ULL << (z - 1));
    int odd = (int)((m >> z) & 1);
    int s = -(e + log2_pow10(q) + 3);
    /* scaled by 10^q, the neighbourhood is between one and ten units wide */
    uint64_t dmin = u_ceil(u_scale(lo, q, s) + (uint64_t)odd);
    uint64_t dmax = u_floor(u_scale(hi, q, s) - (uint64_t)odd);
    uint64_t r = dmax / 10;
    if (r * 10 >= dmin) {            /* one digit fewer fits: it is the only candidate */
        *p = -(q - 1);
        *d = trim_zeros(r, p);
    } else {                          /* the nearest of the candidates */
        r = dmin < dmax ? u_round(u_scale(m, q, s)) : dmin;
        *p = -q;
        *d = trim_zeros(r, p);
    }
    return flow_dec_count(*d);
}

double flow_dec_to_double(uint64_t d, int p) {
    if (d == 0) return 0.0;
    int nd = flow_dec_count(d);
    if (p + nd - 1 > 308) return INFINITY;   /* at least 1e309 */
    if (p + nd < -324) return 0.0;           /* below 1e-324: under half the smallest subnormal */
    int b = 64 - __builtin_clzll(d);
    int lp = log2_pow10(p);
    int e = 53 - b - lp;                     /* the result is m * 2^-e with m of 53 bits */
    if (e > 1074) e = 1074;                  /* a subnormal */
    int s = -(e - (64 - b) + lp + 3);
    if (s < 0 || s > 63) return 0.0;
    Unrounded u = u_scale(d << (64 - b), p, s);
    if (u >= (1ULL << 55) - 2) {             /* it rounds to 2^53: one bit fewer */
        u = (u >> 1) | (u & 1);
        e--;
    }
    uint64_t m = u_round(u);
    if (-e > 971) return INFINITY;           /* m * 2^-e >= 2^1024 */
    if (m & (1ULL << 52)) m = (m & ~(1ULL << 52)) | ((uint64_t)(1075 - e) << 52);
    double x;
    memcpy(&x, &m, sizeof x);
    return x;
}

/* strtod in the C locale, whatever the process's locale is (a hook may have set one) */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static double strtod_c(const char *s, size_t n) {
    char small[64], *z = n < sizeof small ? small : malloc(n + 1);
    if (!z) return NAN;
    memcpy(z, s, n);
    z[n] = 0;
    pthread_once(&c_locale_once, c_locale_init);
    double x = c_locale ? strtod_l(z, NULL, c_locale) : strtod(z, NULL);
    if (z != small) free(z);
    return x;
}

int flow_dec_parse(const char *s, size_t n, double *out) {
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    uint64_t d = 0;
    int nd = 0, dropped = 0, scale = 0, digits = 0;   /* significant digits kept, dropped; the point's shift */
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (nd < 19) { if (d || s[i] != '0') { d = d * 10 + (uint64_t)(s[i] - '0'); nd += d != 0; } }
        else { scale++; dropped |= s[i] != '0'; }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (nd < 19) { d = d * 10 + (uint64_t)(s[i] - '0'); nd += d != 0; scale--; }
            else dropped |= s[i] != '0';
        }
    }
    if (!digits) return 0;
    long ex = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (ex < 100000) ex = ex * 10 + (s[i] - '0');
        if (eneg) ex = -ex;
    }
    if (i != n) return 0;
    double x;
    if (!d) x = 0.0;
    else if (ex + scale > 100000 || ex + scale < -100000) x = ex + scale > 0 ? INFINITY : 0.0;
    else {
        int p = (int)(ex + scale);
        x = flow_dec_to_double(d, p);
        /* digits beyond the 19th: the value is between d and d + 1 (in units of 10^p); when both read as
         * the same double, that is the answer; otherwise (rare) the C library's correctly rounded strtod */
        if (dropped && flow_dec_to_double(d + 1, p) != x) x = fabs(strtod_c(s, n));
    }
    *out = neg ? -x : x;
    return 1;
}

size_t flow_dec_digits(uint64_t d, char out[21]) {
    char tmp[20], *q = tmp + sizeof tmp;
    do *--q = (char)('0' + d % 10); while (d /= 10);
    size_t n = (size_t)(tmp + sizeof tmp - q);
    memcpy(out, q, n);
    out[n] = 0;
    return n;
}

size_t flow_dec_format_g(char out[32], double x, int min_prec) {
    size_t o = 0;
    if (signbit(x)) out[o++] = '-';
    if (x == 0) { out[o++] = '0'; out[o] = 0; return o; }
    uint64_t d;
    int p;
    char dg[21];
    int nd = flow_dec_shortest(x, &d, &p);
    flow_dec_digits(d, dg);
    int X = p + nd - 1, P = nd > min_prec ? nd : min_prec;   /* the exponent of the first digit; %.Pg */
    if (X < -4 || X >= P) {                  /* d.ddde+XX */
        out[o++] = dg[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, dg + 1, (size_t)(nd - 1));
            o += (size_t)(nd - 1);
        }
        out[o++] = 'e';
        out[o++] = X < 0 ? '-' : '+';
        int ax = X < 0 ? -X : X;
        if (ax >= 100) out[o++] = (char)('0' + ax / 100);
        out[o++] = (char)('0' + ax / 10 % 10);
        out[o++] = (char)('0' + ax % 10);
    } else if (X < 0) {                      /* 0.000ddd */
        out[o++] = '0';
        out[o++] = '.';
        for (int k = -1; k > X; k--) out[o++] = '0';
        memcpy(out + o, dg, (size_t)nd);
        o += (size_t)nd;
    } else if (nd <= X + 1) {                /* ddd000 */
        memcpy(out + o, dg, (size_t)nd);
        o += (size_t)nd;
        for (int k = nd; k <= X; k++) out[o++] = '0';
    } else {                                 /* ddd.ddd */
        memcpy(out + o, dg, (size_t)(X + 1));
        o += (size_t)(X + 1);
        out[o++] = '.';
        memcpy(out + o, dg + X + 1, (size_t)(nd - X - 1));
        o += (size_t)(nd - X - 1);
    }
    out[o] = 0;
    return o;
}
