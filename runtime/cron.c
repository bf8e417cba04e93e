/* cron.c — schedules as data and their next fire times: cron expressions (5 fields, or 6 with
 * seconds first; names, ranges, steps, lists, L, 5L, 1#3, ?, @-names) as the npm package
 * cron-parser 5 reads them, every(...) presets aligned to local midnight, and one next-fire
 * function for both, in an IANA zone (tz.c). The checker, `flowc cron` and serve all use it.
 *
 * Daylight saving (docs/language.md, Schedules): a schedule is a set of local wall times. A wall
 * time that happens once fires then. A schedule that fires in every hour of the day (hour `*`,
 * every(15m)) follows the clock as it is: a skipped time is not made up, a repeated one fires in
 * both passes. Any other schedule runs a skipped time once, at the same minute and second in the
 * first hour after the jump that has it (02:30 on a 02:00->03:00 night runs at 03:30), or, when the
 * clocks moved by less than an hour (Lord Howe's 30 minutes), as much later as they moved (02:15
 * runs at 02:45); and a repeated time once, in the first pass; a search that starts inside the
 * second pass (serve started then) fires the wall times still ahead in it, as cron-parser does. */
#include "cron.h"
#include "flow.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_MAX 253402300799LL      /* 9999-12-31T23:59:59Z */
#define T_MIN (-62135596800LL)    /* 0001-01-01T00:00:00Z */

typedef struct CronSpec {
    uint64_t sec, min;        /* bits 0..59 */
    uint32_t hour;            /* bits 0..23 */
    uint32_t dom;             /* bits 1..31 */
    uint16_t mon;             /* bits 1..12 */
    uint8_t dow;              /* bits 0..6, Sunday 0 */
    uint8_t dow_last;         /* `5L`: the last Friday of the month; bits 0..6 */
    int dom_last;             /* `L`: the last day of the month */
    int nth;                  /* `1#3`: the 3rd Monday (0: none) */
    int dom_star, dow_star;   /* the field is exactly `*` or `?` */
} CronSpec;

enum { SCHED_CRON, SCHED_EVERY };

struct FlowSched {
    int kind;
    FlowTz *tz;
    CronSpec c;
    int64_t every;            /* seconds */
    int32_t from, to;         /* seconds of the day, both included; from > to: over midnight */
    unsigned days;            /* weekday mask, bit 0 Sunday */
    int every_hour;           /* fires in every hour of the day: both passes of a repeated hour */
};

static int64_t fdiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static int weekday(int64_t days) { return (int)((days % 7 + 7 + 4) % 7); }   /* 1970-01-01: Thursday */

/* ---- parsing ---- */

typedef struct Field { const char *name; int lo, hi; } Field;
static const Field F_SEC = { "second", 0, 59 }, F_MIN = { "minute", 0, 59 }, F_HOUR = { "hour", 0, 23 },
                   F_DOM = { "day of month", 1, 31 }, F_MON = { "month", 1, 12 }, F_DOW = { "day of week", 0, 7 };
static const char *const MONTHS[12] = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const DAYS[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }

/* What a field parsed into: numbers with their counts (for duplicates), and the L forms. */
typedef struct Vals {
    int count[64];     /* numeric values (0..59; a day of week's 7 stays 7 when a range reached it) */
    int lcount[9];     /* day of week `0L`..`7L` (0..7), day of month `L` (8) */
} Vals;

#define FAIL(...) do { flow_tz_seterr(err, errlen, __VA_ARGS__); return 0; } while (0)

/* Replaces month and weekday names by their numbers (names stand alone: SUN6, JANFEB and MON/FRI
 * are refused; only the L of `FRIL` may follow one). */
static int replace_names(const Field *f, const char *raw, char *out, size_t cap, char *err, size_t errlen) {
    size_t n = strlen(raw), o = 0;
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && is_alpha(raw[i]) && is_alpha(raw[i + 1]) && is_alpha(raw[i + 2])) {
            char w[4] = { (char)lower(raw[i]), (char)lower(raw[i + 1]), (char)lower(raw[i + 2]), 0 };
            int v = -1;
            if (f == &F_MON) { for (int k = 0; k < 12; k++) if (strcmp(w, MONTHS[k]) == 0) v = k + 1; }
            else for (int k = 0; k < 7; k++) if (strcmp(w, DAYS[k]) == 0) v = k;
            if (v < 0)
                FAIL("cron %s \"%s\": unknown name `%.3s` (%s)", f->name, raw, raw + i,
                     f == &F_MON ? "JAN to DEC" : "SUN to SAT");
            int before = i > 0 && (is_alnum(raw[i - 1]) || raw[i - 1] == '/');
            int after = i + 3 < n && is_alnum(raw[i + 3]) && !(raw[i + 3] == 'L' && !(i + 4 < n && is_alnum(raw[i + 4])));
            if (before || after)
                FAIL("cron %s \"%s\": the name `%.3s` must stand alone (a name cannot be a step, and `%s` needs a separator)",
                     f->name, raw, raw + i, raw);
            o += (size_t)snprintf(out + o, cap - o, "%d", v);
            i += 3;
        } else {
            if (o + 1 < cap) out[o++] = raw[i];
            i++;
        }
        if (o + 4 >= cap) FAIL("cron %s: too long", f->name);
    }
    out[o] = 0;
    return 1;
}

/* digits only, no overflow: 1 with *v */
static int number(const char *s, size_t n, long *v) {
    if (n == 0 || n > 9) return 0;
    long x = 0;
    for (size_t i = 0; i < n; i++) { if (!is_digit(s[i])) return 0; x = x * 10 + (s[i] - '0'); }
    *v = x;
    return 1;
}

/* One field's text (names replaced, `#n` removed) into vals. raw is the field as written. */
static int check_dups(const Field *f, const char *raw, const Vals *v, char *err, size_t errlen) {
    for (int i = 0; i < 64; i++)
        if (v->count[i] > 1) FAIL("cron %s \"%s\": %d is listed twice", f->name, raw, i);
    for (int i = 0; i < 9; i++)
        if (v->lcount[i] > 1) FAIL("cron %s \"%s\": %s%s is listed twice", f->name, raw, i < 8 ? (char[2]){ (char)('0' + i), 0 } : "", "L");
    return 1;
}

static int parse_field(const Field *f, const char *raw, const char *text, Vals *v, char *err, size_t errlen) {
    memset(v, 0, sizeof *v);
    if (!*text) FAIL("cron %s: empty", f->name);
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (is_digit(c) || c == ',' || c == '-' || c == '/' || c == '*' || c == '?') continue;
        if (c == 'L' && (f == &F_DOM || f == &F_DOW)) continue;
        if (c == 'H') FAIL("cron %s \"%s\": `H` (a hashed, random value) is not supported; write the value", f->name, raw);
        if (c == 'L') FAIL("cron %s \"%s\": `L` is only for the day of month (`L`, the last day) and the day of week (`5L`, the last Friday)", f->name, raw);
        if (c == '#') FAIL("cron %s \"%s\": `#` is only for the day of week, as in `1#3` (the third Monday)", f->name, raw);
        if (c == 'W') FAIL("cron %s \"%s\": `W` (nearest weekday) is not supported", f->name, raw);
        FAIL("cron %s \"%s\": unexpected `%c`", f->name, raw, c);
    }
    const char *p = text;
    while (1) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0) FAIL("cron %s \"%s\": an empty list item", f->name, raw);
        char item[64];
        if (n >= sizeof item) FAIL("cron %s \"%s\": a list item too long", f->name, raw);
        memcpy(item, p, n);
        item[n] = 0;
        /* a wildcard stands for the whole range, alone or with a step */
        char buf[80];
        if ((item[0] == '*' || item[0] == '?') && (item[1] == 0 || item[1] == '/'))
            snprintf(buf, sizeof buf, "%d-%d%s", f->lo, f->hi, item + 1);
        else snprintf(buf, sizeof buf, "%s", item);
        if (strchr(buf, '*') || strchr(buf, '?'))
            FAIL("cron %s \"%s\": `*` and `?` stand alone or before a step, as in `*/15`", f->name, raw);
        char *slash = strchr(buf, '/');
        long step = 1;
        int stepped = 0;
        if (slash) {
            *slash = 0;
            const char *st = slash + 1;
            if (strchr(st, '/')) FAIL("cron %s \"%s\": more than one `/` in `%s`", f->name, raw, item);
            if (!number(st, strlen(st), &step) || step < 1)
                FAIL("cron %s \"%s\": the step in `%s` must be a whole number of at least 1", f->name, raw, item);
            stepped = 1;
        }
        char *dash = strchr(buf, '-');
        if (!dash && stepped) {    /* `5/15`: from 5 to the end */
            size_t bl = strlen(buf);
            snprintf(buf + bl, sizeof buf - bl, "-%d", f->hi);
            dash = strchr(buf, '-');
        }
        if (dash) {
            *dash = 0;
            const char *a = buf, *b = dash + 1;
            long lo, hi;
            if (strchr(b, '-')) FAIL("cron %s \"%s\": `%s` is not a range", f->name, raw, item);
            if (!number(a, strlen(a), &lo) || !number(b, strlen(b), &hi)) {
                if (strchr(a, 'L') || strchr(b, 'L')) FAIL("cron %s \"%s\": `L` cannot be part of a range or step (`%s`)", f->name, raw, item);
                FAIL("cron %s \"%s\": `%s` is not a range of numbers", f->name, raw, item);
            }
            if (lo < f->lo || hi > f->hi) FAIL("cron %s \"%s\": the range `%ld-%ld` goes outside %d-%d", f->name, raw, lo, hi, f->lo, f->hi);
            if (lo > hi) FAIL("cron %s \"%s\": the range `%ld-%ld` runs backwards", f->name, raw, lo, hi);
            /* a weekday range that reaches 7 (Sunday) takes Sunday as 0 */
            if (f == &F_DOW && hi % 7 == 0 && (hi - lo) % step == 0) v->count[0]++;
            for (long x = lo; x <= hi; x += step) if (!(f == &F_DOW && x == 0 && hi % 7 == 0 && (hi - lo) % step == 0)) v->count[x]++;
        } else if (strchr(buf, 'L')) {
            if (f == &F_DOM) {
                if (strcmp(buf, "L") != 0) FAIL("cron %s \"%s\": `%s`: the last day of the month is `L` alone", f->name, raw, item);
                v->lcount[8]++;
            } else {
                if (strcmp(buf, "L") == 0) FAIL("cron %s \"%s\": `L` needs a weekday before it, as in `5L` (the last Friday)", f->name, raw);
                if (!(strlen(buf) == 2 && buf[0] >= '0' && buf[0] <= '7' && buf[1] == 'L'))
                    FAIL("cron %s \"%s\": `%s`: the last weekday of the month is a weekday 0-7 and `L`, as in `5L`", f->name, raw, item);
                v->lcount[buf[0] - '0']++;
            }
        } else {
            long x;
            if (!number(buf, strlen(buf), &x)) FAIL("cron %s \"%s\": `%s` is not a number", f->name, raw, item);
            if (x < f->lo || x > f->hi) FAIL("cron %s \"%s\": %ld is out of range %d-%d", f->name, raw, x, f->lo, f->hi);
            v->count[f == &F_DOW ? x % 7 : x]++;
        }
        if (!e) break;
        p = e + 1;
    }
    /* the day of month is checked once the month is known (a day the month lacks is dropped first) */
    return f == &F_DOM ? 1 : check_dups(f, raw, v, err, errlen);
}

static uint64_t bits(const Vals *v, int lo, int hi) {
    uint64_t b = 0;
    for (int i = lo; i <= hi; i++) if (v->count[i]) b |= 1ULL << i;
    return b;
}

static const struct { const char *name, *expr; } AT_NAMES[] = {
    { "@yearly", "0 0 0 1 1 *" }, { "@annually", "0 0 0 1 1 *" }, { "@monthly", "0 0 0 1 * *" },
    { "@weekly", "0 0 0 * * 0" }, { "@daily", "0 0 0 * * *" }, { "@hourly", "0 0 * * * *" },
    { "@minutely", "0 * * * * *" }, { "@secondly", "* * * * * *" }, { "@weekdays", "0 0 0 * * 1-5" },
    { "@weekends", "0 0 0 * * 0,6" },
};

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int cron_parse(const char *expr, CronSpec *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    if (!expr) FAIL("cron: no expression");
    size_t len = strlen(expr);
    if (len > 1024) FAIL("cron: the expression is longer than 1024 characters");
    while (len && is_space(expr[len - 1])) len--;
    while (len && is_space(*expr)) { expr++; len--; }
    char text[1100];
    memcpy(text, expr, len);
    text[len] = 0;
    if (text[0] == '@') {
        const char *found = NULL;
        for (size_t i = 0; i < sizeof AT_NAMES / sizeof AT_NAMES[0]; i++) {
            const char *a = AT_NAMES[i].name, *b = text;
            while (*a && lower(*b) == *a) { a++; b++; }
            if (!*a && !*b) found = AT_NAMES[i].expr;
        }
        if (!found)
            FAIL("cron: unknown `%.40s`: the names are @yearly, @annually, @monthly, @weekly, @daily, @hourly, @minutely, "
                 "@secondly, @weekdays and @weekends", text);
        snprintf(text, sizeof text, "%s", found);
        len = strlen(text);
    }
    char *fields[8];
    int nf = 0;
    for (char *p = text; *p;) {
        while (*p && is_space(*p)) *p++ = 0;
        if (!*p) break;
        if (nf == 8) { nf++; break; }
        fields[nf++] = p;
        while (*p && !is_space(*p)) p++;
    }
    if (nf == 0) FAIL("cron: the expression is empty");
    if (nf < 5 || nf > 6)
        FAIL("cron: %s%d field%s; an expression has 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)",
             nf > 8 ? "more than " : "", nf > 8 ? 8 : nf, nf == 1 ? "" : "s");
    const char *raw[6];
    raw[0] = nf == 6 ? fields[0] : "0";
    for (int i = 0; i < 5; i++) raw[i + 1] = fields[nf - 5 + i];
    const Field *order[6] = { &F_SEC, &F_MIN, &F_HOUR, &F_DOM, &F_MON, &F_DOW };
    Vals v[6];
    for (int i = 0; i < 6; i++) {
        const Field *f = order[i];
        char named[160], body[160];
        if (strlen(raw[i]) >= 100) FAIL("cron %s: too long", f->name);
        snprintf(body, sizeof body, "%s", raw[i]);
        if (f == &F_DOW) {
            char *hash = strchr(body, '#');
            if (hash) {
                *hash = 0;
                const char *nth = hash + 1;
                long k;
                if (strpbrk(body, ",-/L"))
                    FAIL("cron day of week \"%s\": `#` takes one weekday, not a list, range, step or `L`", raw[i]);
                if (strchr(nth, '#') || !number(nth, strlen(nth), &k) || k < 1 || k > 5)
                    FAIL("cron day of week \"%s\": the occurrence after `#` is 1 to 5, as in `1#3` (the third Monday)", raw[i]);
                c->nth = (int)k;
            }
        }
        if (f == &F_MON || f == &F_DOW) {
            if (!replace_names(f, raw[i], named, sizeof named, err, errlen)) return 0;
            if (f == &F_DOW && c->nth) { char *h = strchr(named, '#'); if (h) *h = 0; }
        } else {
            for (const char *p = raw[i]; *p; p++)
                if (is_alpha(*p) && *p != 'L' && *p != 'H' && *p != 'W')
                    FAIL("cron %s \"%s\": names are only for the month (JAN) and the day of week (MON)", f->name, raw[i]);
            snprintf(named, sizeof named, "%s", body);
        }
        if (!parse_field(f, raw[i], named, &v[i], err, errlen)) return 0;
    }
    /* with one month, the days it does not have are dropped (when some remain) before duplicates
     * are looked for, as cron-parser does: `1-31/15,26/5` in November lists 31 twice, but it has no 31st */
    if (__builtin_popcount((unsigned)bits(&v[4], 1, 12)) == 1) {
        static const int longest[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int m = __builtin_ctz((unsigned)bits(&v[4], 1, 12)), keep = 0;
        for (int d = 1; d <= longest[m]; d++) keep += v[3].count[d] > 0;
        if (keep || v[3].lcount[8]) for (int d = longest[m] + 1; d <= 31; d++) v[3].count[d] = 0;
    }
    if (!check_dups(&F_DOM, raw[3], &v[3], err, errlen)) return 0;
    c->sec = bits(&v[0], 0, 59);
    c->min = bits(&v[1], 0, 59);
    c->hour = (uint32_t)bits(&v[2], 0, 23);
    c->dom = (uint32_t)bits(&v[3], 1, 31);
    c->dom_last = v[3].lcount[8] > 0;
    c->mon = (uint16_t)bits(&v[4], 1, 12);
    c->dow = (uint8_t)(bits(&v[5], 0, 6) | (v[5].count[7] ? 1 : 0));
    for (int i = 0; i < 8; i++) if (v[5].lcount[i]) c->dow_last |= (uint8_t)(1u << (i % 7));
    c->dom_star = strcmp(raw[3], "*") == 0 || strcmp(raw[3], "?") == 0;
    c->dow_star = strcmp(raw[5], "*") == 0 || strcmp(raw[5], "?") == 0;
    /* a day of month that no month of the expression has never fires (unless the day of week may) */
    if (!strchr(raw[3], 'L') && c->dow_star) {
        static const int longest[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int lo = 0, most = 0;
        for (int d = 1; d <= 31 && !lo; d++) if (c->dom >> d & 1) lo = d;
        for (int m = 1; m <= 12; m++) if (c->mon >> m & 1 && longest[m] > most) most = longest[m];
        if (lo > most) FAIL("cron day of month \"%s\": day %d never occurs in %s", raw[3], lo,
                            __builtin_popcount(c->mon) == 1 ? "that month" : "those months");
    }
    return 1;
}

const char *flow_cron_check(const char *expr, char *err, size_t errlen) {
    CronSpec c;
    return cron_parse(expr, &c, err, errlen) ? NULL : err;
}

/* ---- wall times: naive local seconds since 1970-01-01T00:00 ---- */

static int day_match(const CronSpec *c, int64_t y, int m, int d, int64_t days) {
    int wd = weekday(days), last = flow_days_in_month(y, (unsigned)m);
    int dom_m = (c->dom >> d & 1) || (c->dom_last && d == last);
    int dow_m = ((c->dow >> wd & 1) && (c->nth == 0 || (d + 6) / 7 == c->nth)) || ((c->dow_last >> wd & 1) && d > last - 7);
    if (!c->dom_star && !c->dow_star) return dom_m || dow_m;
    if (c->dow_star) return dom_m;
    return dow_m;
}

static int next_bit(uint64_t set, int from, int hi) {
    for (int i = from; i <= hi; i++) if (set >> i & 1) return i;
    return -1;
}

/* The first wall time >= w that the cron fields match; INT64_MAX when none before the year 10000. */
static int64_t cron_next_wall(const CronSpec *c, int64_t w) {
    int64_t days = fdiv(w, 86400), y;
    int sod = (int)(w - days * 86400);
    unsigned um, ud;
    flow_civil_from_days(days, &y, &um, &ud);
    int m = (int)um, d = (int)ud, h = sod / 3600, mi = sod / 60 % 60, s = sod % 60;
    for (int guard = 0; guard < 200000; guard++) {
        if (y > 9999) return INT64_MAX;
        if (!(c->mon >> m & 1)) {
            int nm = next_bit(c->mon, m + 1, 12);
            if (nm < 0) { y++; nm = next_bit(c->mon, 1, 12); }
            m = nm; d = 1; h = mi = s = 0;
            continue;
        }
        int64_t dn = flow_days_from_civil(y, (unsigned)m, (unsigned)d);
        if (!day_match(c, y, m, d, dn)) {
            if (++d > flow_days_in_month(y, (unsigned)m)) { d = 1; if (++m > 12) { m = 1; y++; } }
            h = mi = s = 0;
            continue;
        }
        if (!(c->hour >> h & 1)) {
            int nh = next_bit(c->hour, h + 1, 23);
            if (nh < 0) { if (++d > flow_days_in_month(y, (unsigned)m)) { d = 1; if (++m > 12) { m = 1; y++; } } h = mi = s = 0; continue; }
            h = nh; mi = s = 0;
        }
        if (!(c->min >> mi & 1)) {
            int nmi = next_bit(c->min, mi + 1, 59);
            if (nmi < 0) {
                mi = s = 0;
                if (++h > 23) { h = 0; if (++d > flow_days_in_month(y, (unsigned)m)) { d = 1; if (++m > 12) { m = 1; y++; } } }
                continue;
            }
            mi = nmi; s = 0;
        }
        if (!(c->sec >> s & 1)) {
            int ns = next_bit(c->sec, s + 1, 59);
            if (ns < 0) {
                s = 0;
                if (++mi > 59) { mi = 0; if (++h > 23) { h = 0; if (++d > flow_days_in_month(y, (unsigned)m)) { d = 1; if (++m > 12) { m = 1; y++; } } } }
                continue;
            }
            s = ns;
        }
        return dn * 86400 + h * 3600 + mi * 60 + s;
    }
    return INT64_MAX;
}

/* every(...): the first wall time >= w that is a multiple of the interval from local midnight (or,
 * for whole days, a day counted from 1970-01-01; whole weeks from Monday 1970-01-05), inside the
 * window and on one of the days. */
static int in_window(const FlowSched *s, int64_t x) {
    return s->from <= s->to ? (x >= s->from && x <= s->to) : (x >= s->from || x <= s->to);
}

static int64_t every_next_wall(const FlowSched *s, int64_t w) {
    int64_t days = fdiv(w, 86400);
    int64_t x = w - days * 86400;
    if (s->every >= 86400) {
        int64_t n = s->every / 86400;
        if (x > 0) days++;
        if (n % 7 == 0) {   /* every k-th week (from Monday 1970-01-05), on its days (Monday by default) */
            int64_t k = n / 7, wk = fdiv(days - 4, 7);
            wk = fdiv(wk + k - 1, k) * k;
            for (int i = 0; i < 3; i++, wk += k)
                for (int o = 0; o < 7; o++) {
                    int64_t d = 4 + wk * 7 + o;
                    if (d >= days && s->days >> weekday(d) & 1) return d > 2932896 ? INT64_MAX : d * 86400;
                }
            return INT64_MAX;
        }
        int64_t d = fdiv(days + n - 1, n) * n;   /* every n-th day from 1970-01-01, on its days */
        for (int i = 0; i < 8; i++, d += n)
            if (s->days >> weekday(d) & 1) return d > 2932896 ? INT64_MAX : d * 86400;
        return INT64_MAX;
    }
    for (int guard = 0; guard < 16; guard++, days++, x = 0) {
        if (days > 2932896) return INT64_MAX;    /* 9999-12-31 */
        if (!(s->days >> weekday(days) & 1)) continue;
        int64_t e = s->every;
        for (int pass = 0; pass < 2; pass++) {
            int64_t k = (x + e - 1) / e * e;
            if (k >= 86400) break;
            if (in_window(s, k)) return days * 86400 + k;
            /* before the window: go to its start; after it: tomorrow */
            if (s->from <= s->to ? k < s->from : (k > s->to && k < s->from)) { x = s->from; continue; }
            break;
        }
    }
    return INT64_MAX;
}

static int64_t next_wall(const FlowSched *s, int64_t w) {
    return s->kind == SCHED_CRON ? cron_next_wall(&s->c, w) : every_next_wall(s, w);
}

/* ---- instants ---- */

int64_t flow_sched_next(const FlowSched *s, int64_t after_ms) {
    int64_t t0 = fdiv(after_ms, 1000) + 1;
    if (t0 > T_MAX) return -1;
    if (t0 < T_MIN) t0 = T_MIN;
    int64_t ti, tn, lo = t0;
    int32_t ob, o = flow_tz_offset(s->tz, t0), on;
    if (!flow_tz_prev_change(s->tz, t0, &ti, &ob)) { ti = INT64_MIN; ob = o; }
    int inside = ti == INT64_MIN || t0 > ti;   /* the search starts after this segment's change */
    for (int guard = 0; guard < 100000; guard++) {
        int more = flow_tz_next_change(s->tz, lo, &tn, &on);
        int64_t end = more ? tn : T_MAX + 1, best = INT64_MAX;
        /* wall times of this segment: [lo + o, end + o) */
        int64_t wlo = lo + o;
        if (!s->every_hour && !inside && ob > o && wlo < ti + ob) wlo = ti + ob;   /* the second pass */
        int64_t w = next_wall(s, wlo);
        if (w != INT64_MAX && w < end + o) best = w - o;
        /* the wall times the change skipped: at the same minute and second in the first hour after
         * the jump that has them, or as much later as the clocks moved when that is under an hour;
         * a schedule that fires every hour does not make them up (its next fire follows) */
        if (ob < o && !s->every_hour) {
            int64_t glo = ti + ob, ghi = ti + o, gap = o - ob;   /* skipped: [glo, ghi) */
            for (int64_t k = 1; k <= (gap + 3599) / 3600; k++) {
                int64_t shift = k * 3600 < gap ? k * 3600 : gap;
                int64_t a = ghi - k * 3600 > glo ? ghi - k * 3600 : glo, b = ghi - (k - 1) * 3600;
                if (a < lo + o - shift) a = lo + o - shift;
                if (a >= b) continue;
                int64_t g = next_wall(s, a);
                if (g < b && g + shift - o < best) best = g + shift - o;
            }
        }
        if (best != INT64_MAX) return best <= T_MAX ? best * 1000 : -1;
        if (!more) return -1;
        ti = tn; ob = o; o = on; lo = tn; inside = 0;
    }
    return -1;
}

/* ---- constructors ---- */

static FlowSched *sched_new(int kind, const char *tz, char *err, size_t errlen) {
    FlowTz *z = flow_tz_load(tz, err, errlen);
    if (!z) return NULL;
    FlowSched *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->kind = kind;
    s->tz = z;
    return s;
}

FlowSched *flow_sched_cron(const char *expr, const char *tz, char *err, size_t errlen) {
    CronSpec c;
    if (!cron_parse(expr, &c, err, errlen)) return NULL;
    FlowSched *s = sched_new(SCHED_CRON, tz, err, errlen);
    if (!s) return NULL;
    s->c = c;
    s->every_hour = c.hour == 0xFFFFFF;
    return s;
}

int flow_sched_weekday(const char *name) {
    if (!name || strlen(name) != 3) return -1;
    char w[4] = { (char)lower(name[0]), (char)lower(name[1]), (char)lower(name[2]), 0 };
    for (int k = 0; k < 7; k++) if (strcmp(w, DAYS[k]) == 0) return k;
    return -1;
}

/* "HH:MM" or "HH:MM:SS" -> seconds of the day; -1 when it is not one */
static int32_t clock_time(const char *t) {
    int h, m, sec = 0;
    size_t n = strlen(t);
    if ((n != 5 && n != 8) || !is_digit(t[0]) || !is_digit(t[1]) || t[2] != ':' || !is_digit(t[3]) || !is_digit(t[4])) return -1;
    h = (t[0] - '0') * 10 + t[1] - '0';
    m = (t[3] - '0') * 10 + t[4] - '0';
    if (n == 8) {
        if (t[5] != ':' || !is_digit(t[6]) || !is_digit(t[7])) return -1;
        sec = (t[6] - '0') * 10 + t[7] - '0';
    }
    if (h > 23 || m > 59 || sec > 59) return -1;
    return h * 3600 + m * 60 + sec;
}

/* 7h, 15m, 90s, 2d, 1w: an interval as the language writes it */
static const char *interval_text(int64_t sec, char buf[32]) { return flow_duration_text(buf, sec * 1000); }

FlowSched *flow_sched_every(int64_t interval_ms, const char *from, const char *to, unsigned days, const char *tz,
                            char *err, size_t errlen) {
    if (interval_ms < 1000 || interval_ms % 1000) { flow_tz_seterr(err, errlen, "every(...) takes whole seconds, at least 1s"); return NULL; }
    int64_t e = interval_ms / 1000;
    if (e > 86400 && e % 86400) {
        flow_tz_seterr(err, errlen, "every(...): an interval of a day or more is whole days, as in every(1d), every(2d) or every(1w)");
        return NULL;
    }
    if (e > 86400LL * 7 * 520) { flow_tz_seterr(err, errlen, "every(...): an interval over 520 weeks never comes round"); return NULL; }
    int32_t f = 0, t = 86399;
    if (from || to) {
        if (!from || !to) { flow_tz_seterr(err, errlen, "between takes two clock times, as in [\"08:00\", \"18:00\"]"); return NULL; }
        if (e >= 86400) { flow_tz_seterr(err, errlen, "between narrows an interval under a day; every(1d) runs at midnight (use cron(\"0 2 * * *\") for another time)"); return NULL; }
        f = clock_time(from);
        t = clock_time(to);
        if (f < 0 || t < 0) {
            flow_tz_seterr(err, errlen, "between: \"%.40s\" is not a clock time \"HH:MM\" (00:00 to 23:59)", f < 0 ? from : to);
            return NULL;
        }
    }
    if (days & ~0x7Fu) { flow_tz_seterr(err, errlen, "on_days: not a set of weekdays"); return NULL; }
    if (!days) days = e >= 86400 && (e / 86400) % 7 == 0 ? 1u << 1 : 0x7F;   /* weeks: Mondays */
    FlowSched *s = sched_new(SCHED_EVERY, tz, err, errlen);
    if (!s) return NULL;
    s->every = e;
    s->from = f;
    s->to = t;
    s->days = days;
    if (e < 86400) {
        uint32_t hours = 0;
        for (int64_t x = 0; x < 86400; x += e) if (in_window(s, x)) hours |= 1u << (x / 3600);
        if (!hours) {
            char it[32];
            flow_tz_seterr(err, errlen, "every(%s) never fires between %s and %s: no multiple of %s from midnight falls in it",
                   interval_text(e, it), from, to, it);
            flow_sched_free(s);
            return NULL;
        }
        s->every_hour = hours == 0xFFFFFF;
    }
    return s;
}

const FlowTz *flow_sched_tz(const FlowSched *s) { return s->tz; }

void flow_sched_free(FlowSched *s) {
    if (!s) return;
    flow_tz_free(s->tz);
    free(s);
}
