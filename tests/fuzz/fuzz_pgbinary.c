/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): arbitrary text to runtime/pg_binary.c's
 * binary COPY values (the PostgreSQL import's binary COPY). The first byte picks the conversion:
 * - a numeric: what flow_pgbin_numeric accepts must read back (its base-10000 digits, weight and
 *   display scale decoded here) as the text's exact value at numeric_in's display scale, worked out
 *   on the text itself (the point moved by the exponent, zeros padded, leading zeros dropped);
 * - a timestamp (with or without time zone): what flow_pgbin_ts_micros accepts must be the date and
 *   time the text names (gmtime of its seconds gives the text's fields back; the fraction is its
 *   microseconds), less the offset for a timestamptz, and the runtime's ISO-8601 reader
 *   (flow_parse_iso8601) must read the same instant to the millisecond where it reads the text;
 * - an integer of 2, 4 or 8 bytes: the value strtoll reads, within the type's range.
 * The buffer is not NUL-terminated. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* the numeric text's exact value with `scale` digits after the point: [-]D+[.D{scale}] */
static void ref_numeric(const char *s, size_t n, long scale, FlowSb *out) {
    size_t i = 0;
    int neg = s[0] == '-';
    i += (size_t)neg;
    FlowSb d = { 0 };
    long point = 0, ex = 0;   /* digits before the point */
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) { flow_sb_put(&d, s + i, 1); point++; }
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) flow_sb_put(&d, s + i, 1);
    if (i < n && (s[i] == 'e' || s[i] == 'E')) ex = strtol(s + i + 1, NULL, 10);
    point += ex;
    /* digits: d, the point after `point` of them (may be < 0 or > the count) */
    FlowSb t = { 0 };
    for (long k = point; k < 0; k++) flow_sb_put(&t, "0", 1);
    flow_sb_put(&t, d.p ? d.p : "", d.n);
    if (point < 0) point = 0;
    while ((long)t.n < point + scale) flow_sb_put(&t, "0", 1);
    /* t's first `point` digits are the whole part (at least "0"), the next `scale` the fraction */
    size_t lead = 0;
    while ((long)lead < point - 1 && t.p[lead] == '0') lead++;
    int zero = 1;
    for (size_t k = 0; k < (size_t)(point + scale); k++) if (t.p[k] != '0') zero = 0;
    if (neg && !zero) flow_sb_put(out, "-", 1);
    if (point == 0) flow_sb_put(out, "0", 1);
    else flow_sb_put(out, t.p + lead, (size_t)point - lead);
    if (scale) {
        flow_sb_put(out, ".", 1);
        flow_sb_put(out, t.p + point, (size_t)scale);
    }
    free(d.p);
    free(t.p);
}

/* a binary numeric (after its length word) as text with its display scale */
static void dec_numeric(const unsigned char *p, FlowSb *out) {
    int nd = (int)be(p, 2), weight = (int16_t)be(p + 2, 2), sign = (int)be(p + 4, 2), dscale = (int)be(p + 6, 2);
    if (sign == 0x4000) flow_sb_put(out, "-", 1);
    char g[8];
    /* the whole part: groups 0..weight */
    if (weight < 0) flow_sb_put(out, "0", 1);
    for (int k = 0; k <= weight; k++) {
        int v = k < nd ? (int)be(p + 8 + 2 * k, 2) : 0;
        if (v > 9999) abort();
        snprintf(g, sizeof g, k ? "%04d" : "%d", v);
        flow_sb_puts(out, g);
    }
    if (dscale) {
        flow_sb_put(out, ".", 1);
        FlowSb f = { 0 };
        for (int k = weight + 1; (long)f.n < dscale; k++) {
            int v = k >= 0 && k < nd ? (int)be(p + 8 + 2 * k, 2) : 0;
            snprintf(g, sizeof g, "%04d", v);
            flow_sb_puts(&f, g);
        }
        flow_sb_put(out, f.p, (size_t)dscale);
        free(f.p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 3000) return 0;
    int mode = data[0] % 6;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *z = malloc(n + 1);
    if (!z) return 0;
    memcpy(z, s, n);
    z[n] = 0;
    FlowSb b = { 0 };
    if (mode == 0) {
        if (flow_pgbin_numeric(&b, s, n) == 0) {
            const unsigned char *p = (const unsigned char *)b.p;
            if ((int32_t)be(p, 4) != (int32_t)b.n - 4) abort();
            long dscale = (long)be(p + 10, 2);
            FlowSb got = { 0 }, want = { 0 };
            dec_numeric(p + 4, &got);
            ref_numeric(z, n, dscale, &want);   /* z: NUL-terminated for its strtol */
            if (got.n != want.n || memcmp(got.p, want.p, got.n) != 0) {
                fprintf(stderr, "numeric %s: got %.*s want %.*s\n", z, (int)got.n, got.p, (int)want.n, want.p);
                abort();
            }
            free(got.p);
            free(want.p);
        } else if (b.n) abort();   /* refused: nothing written */
    } else if (mode == 1 || mode == 2) {
        int tz = mode == 2;
        int64_t us;
        if (flow_pgbin_ts_micros(s, n, tz, &us) == 0) {
            /* the offset back, then the fields of the text again */
            int64_t off = 0;
            const char *o = n > 19 ? s + n - 6 : NULL;
            if (o && (o[0] == '+' || o[0] == '-') && o[3] == ':')
                off = ((o[1] - '0') * 36000 + (o[2] - '0') * 3600 + (o[4] - '0') * 600 + (o[5] - '0') * 60) * (o[0] == '-' ? -1 : 1);
            int64_t local = us + (tz ? off * 1000000 : 0);
            int64_t secs = local / 1000000 - (local % 1000000 < 0), frac = local - secs * 1000000;
            time_t t = (time_t)(secs + 946684800);
            struct tm tm;
            if (!gmtime_r(&t, &tm)) abort();
            char back[32];
            snprintf(back, sizeof back, "%04d-%02d-%02d%c%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, s[10],
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
            if (memcmp(back, s, 19) != 0) { fprintf(stderr, "timestamp %s: fields %s\n", z, back); abort(); }
            int64_t f = 0;
            size_t k = 20, fd = 0;
            if (n > 19 && s[19] == '.')
                for (; k < n && s[k] >= '0' && s[k] <= '9'; k++, fd++) f = f * 10 + (s[k] - '0');
            for (; fd < 6; fd++) f *= 10;
            if (f != frac) { fprintf(stderr, "timestamp %s: fraction %lld\n", z, (long long)frac); abort(); }
            int64_t ms;
            if (tz && (s[n - 1] == 'Z' || off || (o && o[0] == '-' && o[3] == ':') || (o && o[0] == '+' && o[3] == ':')) && flow_parse_iso8601(s, n, &ms)) {
                int64_t want = us / 1000 - (us % 1000 < 0) + 946684800000LL;
                if (ms != want) { fprintf(stderr, "timestamp %s: %lld ms, the runtime's reader %lld\n", z, (long long)want, (long long)ms); abort(); }
            }
        }
    } else {
        int bytes = mode == 3 ? 2 : mode == 4 ? 4 : 8;
        if (flow_pgbin_int(&b, s, n, bytes) == 0) {
            errno = 0;
            char *end;
            long long v = strtoll(z, &end, 10);
            if (errno || end != z + n || (int)be((const unsigned char *)b.p, 4) != bytes) abort();
            uint64_t got = be((const unsigned char *)b.p + 4, bytes);
            uint64_t want = (uint64_t)v & (bytes == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * bytes)) - 1);
            if (got != want) abort();
            if (bytes == 2 && (v < -32768 || v > 32767)) abort();
            if (bytes == 4 && (v < INT32_MIN || v > INT32_MAX)) abort();
        }
    }
    free(b.p);
    free(z);
    return 0;
}
