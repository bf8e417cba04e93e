/* tz.c — IANA time zones from the system's tzdata, by our own reader: TZif files (RFC 8536; the
 * version 2+ 64-bit data, and the POSIX TZ footer for instants after the last transition) under
 * $TZDIR or /usr/share/zoneinfo. A zone is a table of offset changes; nothing here uses TZ= or
 * localtime, so zones are plain values any thread may use. Leap-second ("right/") zones are refused.
 * Instants are Unix seconds (int64); offsets are seconds east of UTC; years 1 to 9999. */
#include "cron.h"
#include "flow.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_FILE_MAX (1 << 20)

/* A POSIX TZ rule date: Jn (kind 'J'), n (kind 'n') or Mm.w.d (kind 'M'), at `time` seconds of
 * local time (may be negative or over 24 h). */
typedef struct TzDate { char kind; int m, w, d, n; int32_t time; } TzDate;

struct FlowTz {
    char name[256];
    int64_t *at;       /* instants where the offset changes, ascending (no-op changes merged away) */
    int32_t *off;      /* the offset from at[i] on */
    int n;
    int32_t off0;      /* before at[0] */
    int footer;        /* the POSIX TZ footer governs instants after the table (or all, when n == 0) */
    int32_t std_off, dst_off;
    int has_dst;
    TzDate start, end; /* DST starts (in standard local time), ends (in DST local time) */
};

void flow_tz_seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- the POSIX TZ string of the footer ---- */

static int p_name(const char **s) {
    const char *p = *s;
    if (*p == '<') {
        p++;
        while (*p && *p != '>') {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
                return 0;
            p++;
        }
        if (*p != '>' || p - *s < 4) return 0;
        *s = p + 1;
        return 1;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) p++;
    if (p - *s < 3) return 0;
    *s = p;
    return 1;
}

static int p_num(const char **s, int lo, int hi, int *out) {
    const char *p = *s;
    int v = 0, nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 4) { v = v * 10 + (*p - '0'); p++; nd++; }
    if (!nd || v < lo || v > hi) return 0;
    *out = v;
    *s = p;
    return 1;
}

/* [+-]hh[:mm[:ss]] with hh up to maxh; seconds */
static int p_time(const char **s, int maxh, int32_t *out) {
    int sign = 1, h, m = 0, sec = 0;
    if (**s == '+' || **s == '-') { if (**s == '-') sign = -1; (*s)++; }
    if (!p_num(s, 0, maxh, &h)) return 0;
    if (**s == ':') { (*s)++; if (!p_num(s, 0, 59, &m)) return 0;
        if (**s == ':') { (*s)++; if (!p_num(s, 0, 59, &sec)) return 0; } }
    *out = sign * (h * 3600 + m * 60 + sec);
    return 1;
}

static int p_date(const char **s, TzDate *d) {
    memset(d, 0, sizeof *d);
    d->time = 7200;
    if (**s == 'J') { (*s)++; d->kind = 'J'; if (!p_num(s, 1, 365, &d->n)) return 0; }
    else if (**s == 'M') {
        (*s)++;
        d->kind = 'M';
        if (!p_num(s, 1, 12, &d->m) || *(*s)++ != '.' || !p_num(s, 1, 5, &d->w) || *(*s)++ != '.' || !p_num(s, 0, 6, &d->d)) return 0;
    } else { d->kind = 'n'; if (!p_num(s, 0, 365, &d->n)) return 0; }
    if (**s == '/') { (*s)++; if (!p_time(s, 167, &d->time)) return 0; }
    return 1;
}

static int parse_posix(FlowTz *z, const char *s) {
    int32_t o;
    if (!p_name(&s) || !p_time(&s, 24, &o)) return 0;
    z->std_off = -o;
    z->has_dst = 0;
    if (!*s) return 1;
    if (!p_name(&s)) return 0;
    z->has_dst = 1;
    z->dst_off = z->std_off + 3600;
    if (*s && *s != ',') { if (!p_time(&s, 24, &o)) return 0; z->dst_off = -o; }
    if (!*s) {   /* no rule: the US rule, as tzcode assumes */
        z->start = (TzDate){ 'M', 3, 2, 0, 0, 7200 };
        z->end = (TzDate){ 'M', 11, 1, 0, 0, 7200 };
        return 1;
    }
    if (*s++ != ',' || !p_date(&s, &z->start) || *s++ != ',' || !p_date(&s, &z->end)) return 0;
    return *s == 0;
}


/* The day (days since 1970-01-01) of a rule date in year y. */
static int64_t rule_day(const TzDate *d, int64_t y) {
    int64_t jan1 = flow_days_from_civil(y, 1, 1);
    if (d->kind == 'J') return jan1 + d->n - 1 + (flow_days_in_month(y, 2) == 29 && d->n >= 60);
    if (d->kind == 'n') return jan1 + d->n;
    int64_t first = flow_days_from_civil(y, (unsigned)d->m, 1);
    int wd0 = (int)(((first % 7) + 7 + 4) % 7);     /* 1970-01-01 was a Thursday (4) */
    int day = 1 + (d->d - wd0 + 7) % 7 + 7 * (d->w - 1);
    while (day > flow_days_in_month(y, (unsigned)d->m)) day -= 7;
    return first + day - 1;
}

/* The rule's two changes in year y: DST starts at *s, ends at *e (Unix seconds). */
static void rule_year(const FlowTz *z, int64_t y, int64_t *s, int64_t *e) {
    *s = rule_day(&z->start, y) * 86400 + z->start.time - z->std_off;
    *e = rule_day(&z->end, y) * 86400 + z->end.time - z->dst_off;
}

static int64_t year_of(int64_t t) {
    int64_t days = t / 86400 - (t % 86400 < 0), y;
    unsigned m, d;
    flow_civil_from_days(days, &y, &m, &d);
    return y;
}

/* The footer's offset at t: that of the latest of the rule's changes at or before t (of two at one
 * instant, the later year's wins: a rule such as J365/25 ending where the next year's DST starts). */
static int32_t rule_offset(const FlowTz *z, int64_t t) {
    if (!z->has_dst) return z->std_off;
    int64_t y = year_of(t), best = INT64_MIN, besty = INT64_MIN;
    int32_t off = z->std_off;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t c[2];
        rule_year(z, yy, &c[0], &c[1]);
        for (int k = 0; k < 2; k++)
            if (c[k] <= t && (c[k] > best || (c[k] == best && yy >= besty))) {
                best = c[k];
                besty = yy;
                off = k == 0 ? z->dst_off : z->std_off;
            }
    }
    return off;
}

int32_t flow_tz_offset(const FlowTz *tz, int64_t t) {
    if (tz->n == 0) return tz->footer ? rule_offset(tz, t) : tz->off0;
    if (t < tz->at[0]) return tz->off0;
    if (t >= tz->at[tz->n - 1]) return tz->footer ? rule_offset(tz, t) : tz->off[tz->n - 1];
    int lo = 0, hi = tz->n - 1;   /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t) lo = mid; else hi = mid;
    }
    return tz->off[lo];
}

#define YEAR_MAX_T 253402300799LL   /* 9999-12-31T23:59:59Z: no change is looked for past it */
#define YEAR_MIN_T (-62135596800LL) /* 0001-01-01T00:00:00Z */

int flow_tz_next_change(const FlowTz *tz, int64_t t, int64_t *at, int32_t *off_after) {
    if (tz->n && t < tz->at[tz->n - 1]) {
        int lo = 0, hi = tz->n - 1;
        if (t < tz->at[0]) hi = 0;
        else {
            while (hi - lo > 1) { int mid = lo + (hi - lo) / 2; if (tz->at[mid] <= t) lo = mid; else hi = mid; }
        }
        *at = tz->at[hi];
        *off_after = tz->off[hi];
        return 1;
    }
    if (!tz->footer || !tz->has_dst) return 0;
    /* the footer: the candidates of the years around t, in order, until the offset changes */
    int32_t cur = flow_tz_offset(tz, t);
    int64_t from = t;
    for (int64_t y = year_of(t) - 1; from < YEAR_MAX_T && y <= year_of(t) + 3; y++) {
        int64_t c[2];
        rule_year(tz, y, &c[0], &c[1]);
        if (c[0] > c[1]) { int64_t x = c[0]; c[0] = c[1]; c[1] = x; }
        for (int k = 0; k < 2; k++) {
            if (c[k] <= from) continue;
            int32_t o = flow_tz_offset(tz, c[k]);
            if (o != cur) { *at = c[k]; *off_after = o; return 1; }
        }
    }
    return 0;
}

int flow_tz_prev_change(const FlowTz *tz, int64_t t, int64_t *at, int32_t *off_before) {
    if (tz->footer && tz->has_dst && (tz->n == 0 || t >= tz->at[tz->n - 1])) {
        int64_t floor_t = tz->n ? tz->at[tz->n - 1] : INT64_MIN;
        for (int64_t y = year_of(t) + 1; y >= year_of(t) - 3; y--) {
            int64_t c[2];
            rule_year(tz, y, &c[0], &c[1]);
            if (c[0] < c[1]) { int64_t x = c[0]; c[0] = c[1]; c[1] = x; }
            for (int k = 0; k < 2; k++) {
                if (c[k] > t || c[k] <= floor_t) continue;
                int32_t before = flow_tz_offset(tz, c[k] - 1), after = flow_tz_offset(tz, c[k]);
                if (before != after) { *at = c[k]; *off_before = before; return 1; }
            }
        }
        /* none from the rule since the table ended: the table's last change, if it was a change */
    }
    if (tz->n == 0 || t < tz->at[0]) return 0;
    int lo = 0, hi = tz->n;   /* last at[i] <= t */
    while (hi - lo > 1) { int mid = lo + (hi - lo) / 2; if (tz->at[mid] <= t) lo = mid; else hi = mid; }
    *at = tz->at[lo];
    *off_before = lo ? tz->off[lo - 1] : tz->off0;
    return 1;
}

const char *flow_tz_name(const FlowTz *tz) { return tz->name; }

void flow_tz_format(const FlowTz *tz, int64_t ms, char out[48]) {
    int64_t s = ms / 1000 - (ms % 1000 < 0);
    int frac = (int)(ms - s * 1000);
    int32_t off = flow_tz_offset(tz, s);
    int64_t l = s + off;
    int64_t days = l / 86400 - (l % 86400 < 0), sod = l - days * 86400, y;
    unsigned m, d;
    flow_civil_from_days(days, &y, &m, &d);
    char o[16];
    int32_t ao = off < 0 ? -off : off;
    if (ao % 60) snprintf(o, sizeof o, "%c%02d:%02d:%02d", off < 0 ? '-' : '+', ao / 3600, ao / 60 % 60, ao % 60);
    else snprintf(o, sizeof o, "%c%02d:%02d", off < 0 ? '-' : '+', ao / 3600, ao / 60 % 60);
    char f[8] = "";
    if (frac) snprintf(f, sizeof f, ".%03d", frac);
    snprintf(out, 48, "%04lld-%02u-%02uT%02d:%02d:%02d%s%s", (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
             (int)(sod % 60), f, o);
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

void flow_tz_free(FlowTz *tz) {
    if (!tz) return;
    free(tz->at);
    free(tz->off);
    free(tz);
}

static FlowTz *tz_utc(void) {
    FlowTz *z = calloc(1, sizeof *z);
    if (!z) abort();
    snprintf(z->name, sizeof z->name, "UTC");
    return z;
}

FlowTz *flow_tz_parse(const char *name, const unsigned char *data, size_t n, char *err, size_t errlen) {
    const char *nm = name && *name ? name : "UTC";
#define BAD(why) do { flow_tz_seterr(err, errlen, "time zone \"%s\": %s", nm, why); flow_tz_free(z); return NULL; } while (0)
    FlowTz *z = tz_utc();
    snprintf(z->name, sizeof z->name, "%s", nm);
    if (n < 44 || memcmp(data, "TZif", 4) != 0) BAD("not a TZif file");
    int version = data[4];
    const unsigned char *p = data;
    size_t left = n;
    int pass64 = version >= '2';
    for (int pass = 0; pass < 2; pass++) {
        if (left < 44 || memcmp(p, "TZif", 4) != 0) BAD("not a TZif file");
        uint32_t isutcnt = be32(p + 20), isstdcnt = be32(p + 24), leapcnt = be32(p + 28), timecnt = be32(p + 32),
                 typecnt = be32(p + 36), charcnt = be32(p + 40);
        size_t tsz = pass == 0 ? 4 : 8;
        if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || charcnt > 100000 || leapcnt > 100000 ||
            (isutcnt && isutcnt != typecnt) || (isstdcnt && isstdcnt != typecnt))
            BAD("a TZif header with impossible counts");
        size_t need = 44 + timecnt * tsz + timecnt + typecnt * 6 + charcnt + leapcnt * (tsz + 4) + isstdcnt + isutcnt;
        if (need > left) BAD("a truncated TZif file");
        if (pass == 0 && pass64) { p += need; left -= need; continue; }
        if (leapcnt) BAD("has leap seconds (a right/ zone): use the zone without right/");
        const unsigned char *tt = p + 44, *ti = tt + timecnt * tsz, *ty = ti + timecnt;
        int32_t offs[256];
        for (uint32_t i = 0; i < typecnt; i++) {
            int32_t o = (int32_t)be32(ty + i * 6);
            if (o <= -25 * 3600 || o >= 26 * 3600) BAD("an offset beyond 25 hours");
            offs[i] = o;
        }
        z->at = malloc((timecnt ? timecnt : 1) * sizeof *z->at);
        z->off = malloc((timecnt ? timecnt : 1) * sizeof *z->off);
        if (!z->at || !z->off) abort();
        z->off0 = offs[0];
        int64_t prev = INT64_MIN;
        int32_t cur = z->off0;
        for (uint32_t i = 0; i < timecnt; i++) {
            int64_t t = tsz == 4 ? (int64_t)(int32_t)be32(tt + i * 4) : be64(tt + i * 8);
            if (ti[i] >= typecnt) BAD("a transition to a type that does not exist");
            if (t <= prev) BAD("transitions out of order");
            prev = t;
            if (offs[ti[i]] == cur) continue;       /* an abbreviation or isdst change only */
            if (t < YEAR_MIN_T || t > YEAR_MAX_T) {  /* beyond years 1..9999: out of our range */
                if (t < YEAR_MIN_T) { z->off0 = offs[ti[i]]; cur = z->off0; }
                continue;
            }
            cur = offs[ti[i]];
            z->at[z->n] = t;
            z->off[z->n++] = cur;
        }
        p += need;
        left -= need;
        if (version >= '2') {
            /* the footer: \n TZ string \n */
            if (left < 2 || p[0] != '\n') BAD("a TZif footer missing");
            const unsigned char *e = memchr(p + 1, '\n', left - 1);
            if (!e) BAD("a TZif footer not ended");
            size_t fl = (size_t)(e - p - 1);
            if (fl) {
                char buf[256];
                if (fl >= sizeof buf || memchr(p + 1, 0, fl)) BAD("a TZif footer too long");
                memcpy(buf, p + 1, fl);
                buf[fl] = 0;
                if (!parse_posix(z, buf)) BAD("a TZif footer that is not a POSIX TZ string");
                if (z->has_dst && z->std_off == z->dst_off) z->has_dst = 0;
                z->footer = 1;
            }
        }
        break;
    }
    /* a footer that only repeats the table's last offset changes nothing: keep the table alone */
    if (z->footer && !z->has_dst) {
        if (z->n == 0) z->off0 = z->std_off;
        z->footer = 0;
    }
    return z;
#undef BAD
}

/* A zone name is a relative path of letters, digits and `_+-.` parts, none starting with a dot. */
static int name_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 200 || s[0] == '/') return 0;
    int start = 1;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (c == '/') { if (start) return 0; start = 1; continue; }
        if (start && c == '.') return 0;
        start = 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.'))
            return 0;
    }
    return !start;
}

FlowTz *flow_tz_load(const char *name, char *err, size_t errlen) {
    if (!name || !*name || strcmp(name, "UTC") == 0) return tz_utc();
    if (!name_ok(name)) { flow_tz_seterr(err, errlen, "unknown time zone \"%.200s\": not an IANA zone name like \"Europe/Berlin\"", name); return NULL; }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = "/usr/share/zoneinfo";
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            flow_tz_seterr(err, errlen, "unknown time zone \"%s\"", name);
        else
            flow_tz_seterr(err, errlen, "time zone \"%s\": cannot read %s: %s", name, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        flow_tz_seterr(err, errlen, "unknown time zone \"%s\"", name);
        return NULL;
    }
    if (st.st_size > TZ_FILE_MAX) { close(fd); flow_tz_seterr(err, errlen, "time zone \"%s\": %s is too large for a TZif file", name, path); return NULL; }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) abort();
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    FlowTz *z = flow_tz_parse(name, buf, got, err, errlen);
    free(buf);
    return z;
}
