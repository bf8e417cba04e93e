/* timelayout.c — the text layouts of datetimes in a source: what a value's text looks like
 * (SQLite's own `2026-12-05 22:03:55`, ISO 8601 `2026-12-05T22:03:55.123Z`, an offset, a bare date),
 * the unit a value names (a second for 22:03:55, a millisecond for .123, a day for a date), an
 * instant written in a layout (a delta window bound in the source's own text), and a layout as a
 * pattern (`YYYY-MM-DD HH:MM:SS`) for the state store and `state show`. */
#include "engine.h"
#include <stdio.h>
#include <string.h>

static int dig(const char *s, size_t n, size_t at, size_t k) {
    if (at + k > n) return 0;
    for (size_t i = 0; i < k; i++) if (s[at + i] < '0' || s[at + i] > '9') return 0;
    return 1;
}

/* a zone as written: Z, z, or +HH, +HHMM, +HH:MM (or -); its offset in minutes. 1 when it is one. */
static int zone_of(const char *s, size_t n, int *minutes) {
    *minutes = 0;
    if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) return 1;
    if (n < 3 || (s[0] != '+' && s[0] != '-') || !dig(s, n, 1, 2)) return 0;
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = 0;
    if (n == 3) {
    } else if (n == 5 && dig(s, n, 3, 2)) m = (s[3] - '0') * 10 + (s[4] - '0');
    else if (n == 6 && s[3] == ':' && dig(s, n, 4, 2)) m = (s[4] - '0') * 10 + (s[5] - '0');
    else return 0;
    if (h > 23 || m > 59) return 0;
    *minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 1;
}

int flow_time_layout_of(const char *s, size_t n, FlowTimeLayout *l) {
    memset(l, 0, sizeof *l);
    if (n < 10 || !dig(s, n, 0, 4) || s[4] != '-' || !dig(s, n, 5, 2) || s[7] != '-' || !dig(s, n, 8, 2)) return 0;
    l->known = 1;
    if (n == 10) { l->date_only = 1; return 1; }
    size_t i = 10;
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return 0;
    l->sep = s[i++];
    if (!dig(s, n, i, 2) || i + 2 >= n || s[i + 2] != ':' || !dig(s, n, i + 3, 2)) return 0;
    i += 5;
    if (i < n && s[i] == ':') {
        if (!dig(s, n, i + 1, 2)) return 0;
        l->seconds = 1;
        i += 3;
        if (i < n && (s[i] == '.' || s[i] == ',')) {
            l->frac = s[i++];
            size_t d = 0;
            while (i < n && s[i] >= '0' && s[i] <= '9') { d++; i++; }
            if (!d || d > 9) return 0;
            l->min_digits = l->max_digits = (unsigned char)d;
        }
    }
    int off;
    if (i < n) {
        if (n - i >= sizeof l->zone || !zone_of(s + i, n - i, &off)) return 0;
        memcpy(l->zone, s + i, n - i);
        l->zone[n - i] = 0;
    }
    return 1;
}

int flow_time_layout_same(const FlowTimeLayout *a, const FlowTimeLayout *b) {
    if (a->known != b->known || a->date_only != b->date_only) return 0;
    if (!a->known || a->date_only) return 1;
    /* a value without a fraction fits a layout whose fraction is optional, and the other way */
    char fa = a->max_digits ? a->frac : 0, fb = b->max_digits ? b->frac : 0;
    return a->sep == b->sep && a->seconds == b->seconds && (!fa || !fb || fa == fb) && strcmp(a->zone, b->zone) == 0;
}

void flow_time_layout_merge(FlowTimeLayout *acc, const FlowTimeLayout *v) {
    if (!acc->known) { *acc = *v; return; }
    if (v->max_digits && !acc->frac) acc->frac = v->frac;
    if (v->min_digits < acc->min_digits) acc->min_digits = v->min_digits;
    if (v->max_digits > acc->max_digits) acc->max_digits = v->max_digits;
}

/* the unit of a value written with this many fraction digits, in ms (at least 1) */
static int64_t unit_of(const FlowTimeLayout *l, int digits) {
    if (l->date_only) return 86400000;
    if (!l->seconds) return 60000;
    return digits <= 0 ? 1000 : digits == 1 ? 100 : digits == 2 ? 10 : 1;
}

int64_t flow_time_layout_unit(const FlowTimeLayout *l) { return unit_of(l, l->max_digits); }

int64_t flow_time_unit(const char *s, size_t n) {
    FlowTimeLayout l;
    if (flow_time_layout_of(s, n, &l)) return unit_of(&l, l.max_digits);
    int all = n > 0;
    for (size_t i = s[0] == '-' ? 1 : 0; i < n && all; i++) all = s[i] >= '0' && s[i] <= '9';
    return all ? 1000 : 1;   /* epoch seconds; anything else: a millisecond */
}

static int64_t floor_to(int64_t ms, int64_t unit) {
    int64_t r = ms % unit;
    return r < 0 ? ms - r - unit : ms - r;
}

void flow_time_format(int64_t ms, const FlowTimeLayout *l, char *out, size_t cap) {
    if (!l->known) {
        char iso[32];
        flow_format_iso8601(ms, iso);
        snprintf(out, cap, "%s", iso);
        return;
    }
    int off = 0;
    if (l->zone[0]) zone_of(l->zone, strlen(l->zone), &off);
    int64_t local = ms + (int64_t)off * 60000;
    int64_t days = floor_to(local, 86400000) / 86400000, rem = local - days * 86400000;
    int64_t y;
    unsigned m, d;
    flow_civil_from_days(days, &y, &m, &d);
    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    int k = snprintf(out, cap, "%04d-%02u-%02u", (int)y, m % 100, d % 100);
    if (l->date_only || k < 0 || (size_t)k >= cap) return;
    k += snprintf(out + k, cap - (size_t)k, "%c%02u:%02u", l->sep, (unsigned)(rem / 3600000), (unsigned)(rem / 60000 % 60));
    if ((size_t)k >= cap) return;
    if (l->seconds) k += snprintf(out + k, cap - (size_t)k, ":%02u", (unsigned)(rem / 1000 % 60));
    if (l->seconds && l->max_digits && (size_t)k < cap) {
        char frac[16];
        snprintf(frac, sizeof frac, "%03u000000", (unsigned)(rem % 1000));
        k += snprintf(out + k, cap - (size_t)k, "%c%.*s", l->frac ? l->frac : '.', (int)l->max_digits, frac);
    }
    if ((size_t)k < cap) snprintf(out + k, cap - (size_t)k, "%s", l->zone);
}

void flow_time_bind_window(const FlowTimeLayout *l, int64_t since, int64_t until, int64_t *a, char *ta, int64_t *b, char *tb, size_t cap) {
    if (!l->known) {   /* whatever the text layout, two days either side hold the window */
        *a = since - 2 * 86400000LL;
        *b = until + 2 * 86400000LL;
    } else {
        int64_t coarse = unit_of(l, l->min_digits), fine = unit_of(l, l->max_digits);
        *a = floor_to(since, coarse) - coarse;
        *b = floor_to(until, fine);
    }
    flow_time_format(*a, l, ta, cap);
    flow_time_format(*b, l, tb, cap);
}

int flow_time_layout_text(const FlowTimeLayout *l, char *out, size_t cap) {
    if (!l->known) return snprintf(out, cap, "%s", "") >= 0 ? 0 : -1;
    char f[32] = "";
    if (l->seconds && l->max_digits) {
        char c = l->frac ? l->frac : '.';
        char fs[12] = "fffffffff";
        if (l->min_digits == l->max_digits) snprintf(f, sizeof f, "%c%.*s", c, (int)l->max_digits, fs);
        else if (!l->min_digits) snprintf(f, sizeof f, "[%c%.*s]", c, (int)l->max_digits, fs);
        else snprintf(f, sizeof f, "%c%.*s[%.*s]", c, (int)l->min_digits, fs, (int)(l->max_digits - l->min_digits), fs);
    }
    int k = l->date_only ? snprintf(out, cap, "YYYY-MM-DD")
          : snprintf(out, cap, "YYYY-MM-DD%cHH:MM%s%s%s", l->sep, l->seconds ? ":SS" : "", f, l->zone);
    return k < 0 || (size_t)k >= cap ? -1 : 0;
}

/* n f's at *p (advanced past them) */
static int fs(const char **p) {
    int n = 0;
    while (**p == 'f') { n++; (*p)++; }
    return n;
}

int flow_time_layout_parse(const char *t, FlowTimeLayout *l) {
    memset(l, 0, sizeof *l);
    if (strncmp(t, "YYYY-MM-DD", 10) != 0) return 0;
    const char *p = t + 10;
    l->known = 1;
    if (!*p) { l->date_only = 1; return 1; }
    if (*p != 'T' && *p != 't' && *p != ' ') return 0;
    l->sep = *p++;
    if (strncmp(p, "HH:MM", 5) != 0) return 0;
    p += 5;
    if (strncmp(p, ":SS", 3) == 0) {
        l->seconds = 1;
        p += 3;
        int opt = *p == '[';
        if (opt) p++;
        if (*p == '.' || *p == ',') {
            l->frac = *p++;
            int a = fs(&p), b = 0;
            if (!a) return 0;
            if (opt) {
                if (*p++ != ']') return 0;
                b = a;
                a = 0;
            } else if (*p == '[') {
                p++;
                b = fs(&p);
                if (!b || *p++ != ']') return 0;
                b += a;
            } else b = a;
            if (b > 9) return 0;
            l->min_digits = (unsigned char)a;
            l->max_digits = (unsigned char)b;
        } else if (opt) return 0;
    }
    size_t zn = strlen(p);
    int off;
    if (zn) {
        if (zn >= sizeof l->zone || !zone_of(p, zn, &off)) return 0;
        memcpy(l->zone, p, zn + 1);
    }
    return 1;
}
