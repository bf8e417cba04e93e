/* pg_binary.c — values in PostgreSQL's binary COPY format, made from the text the text format would
 * send for them (conn_postgres.c's imports): a numeric from a decimal number's text, a timestamp from
 * an ISO-8601 text, a whole number for int2/int4/int8. Each accepts only the texts whose value it
 * can give exactly as the server's input function would read them (the server then applies the
 * column's typmod to the value, as it does to the text's); anything else is refused, and the page
 * goes in the text format. Each writes the field whole: its length word, then its bytes. */
#include "engine.h"
#include <stdint.h>
#include <string.h>

/* n more bytes at the end of b, to be written (b stays NUL-terminated, as flow_sb_put leaves it) */
static unsigned char *room(FlowSb *b, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = flow_xrealloc(b->p, b->cap);
    }
    unsigned char *w = (unsigned char *)b->p + b->n;
    b->n += n;
    b->p[b->n] = 0;
    return w;
}

/* v's low n bytes at w, big-endian; the byte after them */
static unsigned char *put_be(unsigned char *w, uint64_t v, int n) {
    for (int i = 0; i < n; i++) w[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    return w + n;
}

void flow_pgbin_len(FlowSb *b, int32_t len) { put_be(room(b, 4), (uint32_t)len, 4); }

void flow_pgbin_bytes(FlowSb *b, int version, const char *s, size_t n) {
    unsigned char *w = put_be(room(b, 4 + (version >= 0) + n), (uint32_t)(n + (version >= 0)), 4);
    if (version >= 0) *w++ = (unsigned char)version;
    if (n) memcpy(w, s, n);
}

void flow_pgbin_float8(FlowSb *b, double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_be(put_be(room(b, 12), 8, 4), u, 8);
}

int flow_pgbin_int_val(FlowSb *b, int64_t v, int bytes) {
    if ((bytes == 2 && (v < INT16_MIN || v > INT16_MAX)) || (bytes == 4 && (v < INT32_MIN || v > INT32_MAX))) return -1;
    put_be(put_be(room(b, 4 + (size_t)bytes), (uint32_t)bytes, 4), (uint64_t)v, bytes);
    return 0;
}

int flow_pgbin_int(FlowSb *b, const char *s, size_t n, int bytes) {
    size_t i = n && s[0] == '-';
    if (i >= n || n - i > 19) return -1;
    uint64_t v = 0;
    for (size_t k = i; k < n; k++) {
        if (s[k] < '0' || s[k] > '9') return -1;
        v = v * 10 + (uint64_t)(s[k] - '0');
    }
    uint64_t lim = bytes == 2 ? 32767u : bytes == 4 ? 2147483647u : (uint64_t)INT64_MAX;
    if (v > lim + (i ? 1 : 0)) return -1;
    put_be(put_be(room(b, 4 + (size_t)bytes), (uint32_t)bytes, 4), i ? (uint64_t)0 - v : v, bytes);
    return 0;
}

/* A decimal number's text, -?D+(.D+)?([eE][+-]?D+)? with at most 1000 digits and an exponent within
 * ±1000, as a numeric: the same digits, and the display scale numeric_in gives it (the digits after
 * the point less the exponent, at least 0), so the server's typmod rounds it as it rounds the text. */
int flow_pgbin_numeric(FlowSb *b, const char *s, size_t n) {
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') { neg = 1; i++; }
    size_t int_at = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    size_t int_n = i - int_at, frac_at = i, frac_n = 0;
    if (!int_n) return -1;
    if (i < n && s[i] == '.') {
        frac_at = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        frac_n = i - frac_at;
        if (!frac_n) return -1;
    }
    long ex = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        size_t e_at = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - e_at < 6) ex = ex * 10 + (s[i++] - '0');
        if (i == e_at || i != n || ex > 1000) return -1;
        if (eneg) ex = -ex;
    }
    if (i != n || int_n + frac_n > 1000) return -1;
    long dscale = (long)frac_n - ex;
    if (dscale < 0) dscale = 0;
    /* the digits without leading and trailing zeros; the last one's place is 10^e10 */
    char d[1016];
    size_t nd = 0;
    for (size_t k = 0; k < int_n; k++) if (nd || s[int_at + k] != '0') d[nd++] = s[int_at + k];
    for (size_t k = 0; k < frac_n; k++) if (nd || s[frac_at + k] != '0') d[nd++] = s[frac_at + k];
    long e10 = ex - (long)frac_n;
    while (nd && d[nd - 1] == '0') { nd--; e10++; }
    if (!nd) {   /* zero: positive, whatever its sign */
        unsigned char *w = put_be(room(b, 12), 8, 4);
        memset(w, 0, 6);
        put_be(w + 6, (uint64_t)dscale, 2);
        return 0;
    }
    /* groups of four digits, the point on a group's edge: zeros after until e10 is a multiple of 4,
     * zeros before until the digits fill whole groups */
    int pad_after = (int)(((e10 % 4) + 4) % 4);
    e10 -= pad_after;
    size_t total = nd + (size_t)pad_after, pad_before = (4 - total % 4) % 4;
    total += pad_before;
    size_t ngroups = total / 4;
    long weight = (long)ngroups - 1 + e10 / 4;
    unsigned char *w = put_be(room(b, 12 + 2 * ngroups), 8 + 2 * ngroups, 4);
    w = put_be(w, ngroups, 2);
    w = put_be(w, (uint64_t)(int64_t)weight, 2);
    w = put_be(w, neg ? 0x4000 : 0, 2);
    w = put_be(w, (uint64_t)dscale, 2);
    for (size_t g = 0; g < ngroups; g++) {
        unsigned v = 0;
        for (size_t k = 0; k < 4; k++) {
            size_t at = g * 4 + k;   /* in the padded digits */
            int dig = at < pad_before || at - pad_before >= nd ? 0 : d[at - pad_before] - '0';
            v = v * 10 + (unsigned)dig;
        }
        w = put_be(w, v, 2);
    }
    return 0;
}

static int dig2(const char *s) {
    return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

int flow_pgbin_ts_micros(const char *s, size_t n, int tz, int64_t *out) {
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') return -1;
    int y1 = dig2(s), y2 = dig2(s + 2), mo = dig2(s + 5), d = dig2(s + 8), h = dig2(s + 11), mi = dig2(s + 14),
        se = dig2(s + 17);
    if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return -1;
    int y = y1 * 100 + y2;
    if (y < 1 || d > flow_days_in_month(y, (unsigned)mo)) return -1;
    size_t i = 19;
    int64_t us = 0;
    if (i < n && s[i] == '.') {
        size_t at = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == at || i - at > 6) return -1;
        for (size_t k = at; k < at + 6; k++) us = us * 10 + (k < i ? s[k] - '0' : 0);
    }
    int64_t off = 0;   /* seconds east of UTC */
    if (i < n && s[i] == 'Z') i++;
    else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (n - i != 6 || s[i + 3] != ':') return -1;
        int oh = dig2(s + i + 1), om = dig2(s + i + 4);
        if (oh < 0 || oh > 15 || om < 0 || om > 59) return -1;
        off = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    }
    if (i != n) return -1;
    int64_t secs = (flow_days_from_civil(y, (unsigned)mo, (unsigned)d) - 10957) * 86400 + h * 3600 + mi * 60 + se;   /* 10957: days to 2000-01-01 */
    if (tz) secs -= off;   /* a timestamp without time zone ignores the zone, as the server does */
    *out = secs * 1000000 + us;
    return 0;
}

int flow_pgbin_timestamp(FlowSb *b, const char *s, size_t n, int tz) {
    int64_t us;
    if (flow_pgbin_ts_micros(s, n, tz, &us)) return -1;
    put_be(put_be(room(b, 12), 8, 4), (uint64_t)us, 8);
    return 0;
}
