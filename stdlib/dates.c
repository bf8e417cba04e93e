/* dates.c — the date built-ins: now, parse_date and format_date (moment.js-style format strings, always UTC), add and date_diff. */
#include "flow.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Datetimes are milliseconds since 1970-01-01T00:00:00Z (proleptic Gregorian calendar, UTC);
 * durations are milliseconds.
 *
 * Format tokens (as in moment.js; the longest token at each place wins, any other character is
 * literal text, and [text] is literal text too):
 *   YYYY 4-digit year   YY 2-digit year (parsing: 69-99 -> 19xx, 00-68 -> 20xx)
 *   MM 01-12   M 1-12   MMM Jan   MMMM January   (parsing: either name, any case)
 *   DD 01-31   D 1-31   ddd Mon   dddd Monday    (parsing: either name, any case; not checked)
 *   HH 00-23   H 0-23   hh 01-12  h 1-12   A AM/PM   a am/pm
 *   mm 00-59   m 0-59   ss 00-59  s 0-59   SSS milliseconds   SS hundredths   S tenths
 *   Z +00:00   ZZ +0000   (parsing: either form, or Z, shifts the time to UTC; formatting is UTC)
 * When parsing, a two-letter numeric token needs exactly two digits and a one-letter one takes one or
 * two; fields the format does not give default to 1970-01-01T00:00:00.000Z; the whole text must match. */

#define QUOTE_MAX 40            /* bytes of a text quoted in an error message */
#define DAY_MS 86400000LL

/* ---- arguments ---- */

/* "text" for a message (flow_quote, at most QUOTE_MAX bytes) */
#define quoted(out, p, n) flow_quote(out, QUOTE_MAX * 4 + 8, p, n, QUOTE_MAX)

/* A datetime; json (or text) holding an ISO-8601 string, or a json number of epoch seconds, also do. */
static int arg_datetime(FlowCtx *cx, FlowVal v, const char *fn, const char *param, int64_t *ms) {
    FlowStr t;
    char q[QUOTE_MAX * 4 + 8];
    if (v.kind == FLOW_DATETIME) { *ms = v.i; return 1; }
    if (flow_val_str(v, &t)) {
        if (flow_parse_iso8601(t.p, t.n, ms)) return 1;
        flow_fail(cx, FLOW_ERR_VALUE, "%s: %s is not an ISO-8601 date-time", fn, quoted(q, t.p, t.n));
        return 0;
    }
    if (v.kind == FLOW_JSON && v.j && cJSON_IsNumber(v.j) && fabs(v.j->valuedouble) < 9.2e15) {
        *ms = (int64_t)(v.j->valuedouble * 1000);
        return 1;
    }
    if (param) flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a datetime for %s, got %s", fn, param, flow_val_desc(v));
    else flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a datetime, got %s", fn, flow_val_desc(v));
    return 0;
}

/* A duration; a json number of milliseconds also does. */
static int arg_duration(FlowCtx *cx, FlowVal v, const char *fn, const char *param, int64_t *ms) {
    if (v.kind == FLOW_DURATION) { *ms = v.i; return 1; }
    if (v.kind == FLOW_JSON && v.j && cJSON_IsNumber(v.j) && fabs(v.j->valuedouble) < 9.2e18) {
        *ms = (int64_t)v.j->valuedouble;
        return 1;
    }
    flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a duration for %s, got %s", fn, param, flow_val_desc(v));
    return 0;
}

/* ---- the calendar ---- */


static const char *const month_names[12] = { "January", "February", "March", "April", "May", "June", "July",
                                              "August", "September", "October", "November", "December" };
static const char *const day_names[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

/* ---- format strings ---- */

typedef enum {
    T_LIT, T_YYYY, T_YY, T_MMMM, T_MMM, T_MM, T_M, T_DD, T_D, T_dddd, T_ddd, T_HH, T_H, T_hh, T_h,
    T_mm, T_m, T_ss, T_s, T_SSS, T_SS, T_S, T_ZZ, T_Z, T_A, T_a
} Tok;

/* longer tokens before their prefixes */
static const struct { const char *text; Tok tok; } tokens[] = {
    { "YYYY", T_YYYY }, { "YY", T_YY }, { "MMMM", T_MMMM }, { "MMM", T_MMM }, { "MM", T_MM }, { "M", T_M },
    { "DD", T_DD }, { "D", T_D }, { "dddd", T_dddd }, { "ddd", T_ddd }, { "HH", T_HH }, { "H", T_H },
    { "hh", T_hh }, { "h", T_h }, { "mm", T_mm }, { "m", T_m }, { "ss", T_ss }, { "s", T_s },
    { "SSS", T_SSS }, { "SS", T_SS }, { "S", T_S }, { "ZZ", T_ZZ }, { "Z", T_Z }, { "A", T_A }, { "a", T_a },
};

typedef struct { Tok tok; const char *text; size_t n; } Piece;   /* text: the literal, or the token */

/* The piece of format f[0..n) at i; returns where the next one starts. */
static size_t next_piece(const char *f, size_t n, size_t i, Piece *pc) {
    if (f[i] == '[') {
        const char *close = memchr(f + i + 1, ']', n - i - 1);
        if (close) {
            *pc = (Piece){ T_LIT, f + i + 1, (size_t)(close - (f + i + 1)) };
            return (size_t)(close - f) + 1;
        }
    }
    for (size_t k = 0; k < sizeof tokens / sizeof tokens[0]; k++) {
        size_t tl = strlen(tokens[k].text);
        if (tl <= n - i && memcmp(f + i, tokens[k].text, tl) == 0) {
            *pc = (Piece){ tokens[k].tok, tokens[k].text, tl };
            return i + tl;
        }
    }
    *pc = (Piece){ T_LIT, f + i, 1 };
    return i + 1;
}

/* ---- parsing ---- */

/* min..max digits at s[*i] into *out (advancing *i); 0, with *i unchanged, when fewer than min. */
static int read_digits(const char *s, size_t n, size_t *i, int min, int max, int *out) {
    int v = 0, k = 0;
    while (k < max && *i + (size_t)k < n && s[*i + (size_t)k] >= '0' && s[*i + (size_t)k] <= '9')
        v = v * 10 + (s[*i + (size_t)k++] - '0');
    if (k < min) return 0;
    *i += (size_t)k;
    *out = v;
    return 1;
}

static int same_letters(const char *a, const char *b, size_t n) {
    for (size_t k = 0; k < n; k++) {
        char x = a[k], y = b[k];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return 0;
    }
    return 1;
}

/* One of names, in full or as its first three letters, in any case; its index, or -1. */
static int read_name(const char *s, size_t n, size_t *i, const char *const *names, int count) {
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < count; k++) {
            size_t l = pass == 0 ? strlen(names[k]) : 3;
            if (l <= n - *i && same_letters(s + *i, names[k], l)) { *i += l; return k; }
        }
    return -1;
}

/* +HH:MM, +HHMM, -... or Z: minutes east of UTC. */
static int read_offset(const char *s, size_t n, size_t *i, int64_t *minutes) {
    size_t j = *i;
    int oh, om;
    if (j < n && (s[j] == 'Z' || s[j] == 'z')) { *i = j + 1; *minutes = 0; return 1; }
    if (j >= n || (s[j] != '+' && s[j] != '-')) return 0;
    int sign = s[j++] == '-' ? -1 : 1;
    if (!read_digits(s, n, &j, 2, 2, &oh)) return 0;
    if (j < n && s[j] == ':') j++;
    if (!read_digits(s, n, &j, 2, 2, &om) || oh > 23 || om > 59) return 0;
    *i = j;
    *minutes = sign * (oh * 60 + om);
    return 1;
}

static const char *expectation(Tok t) {
    switch (t) {
    case T_YYYY: return "4 digits";
    case T_YY: case T_MM: case T_DD: case T_HH: case T_hh: case T_mm: case T_ss: case T_SS: return "2 digits";
    case T_M: case T_D: case T_H: case T_h: case T_m: case T_s: return "1 or 2 digits";
    case T_SSS: return "3 digits";
    case T_S: return "1 digit";
    case T_MMMM: case T_MMM: return "a month name";
    case T_dddd: case T_ddd: return "a weekday name";
    case T_ZZ: case T_Z: return "a UTC offset such as +01:00";
    case T_A: case T_a: return "AM or PM";
    case T_LIT: break;
    }
    return "text";
}

/* Reads s[0..n) with format f[0..fn); on failure writes the reason into why and returns 0. */
static int parse_with(const char *s, size_t n, const char *f, size_t fn, int64_t *ms, char why[128]) {
    int64_t year = 1970, offset = 0;
    int month = 1, day = 1, hour = 0, minute = 0, second = 0, milli = 0, meridiem = 0, h12 = 0;
    size_t i = 0, j = 0;
    while (j < fn) {
        Piece pc;
        j = next_piece(f, fn, j, &pc);
        int v = 0, ok = 1;
        switch (pc.tok) {
        case T_LIT:
            if (pc.n > n - i || memcmp(s + i, pc.text, pc.n) != 0) {
                char q[QUOTE_MAX * 4 + 8];
                snprintf(why, 128, "expected %s at offset %zu", quoted(q, pc.text, pc.n), i);
                return 0;
            }
            i += pc.n;
            continue;
        case T_YYYY: ok = read_digits(s, n, &i, 4, 4, &v); year = v; break;
        case T_YY: ok = read_digits(s, n, &i, 2, 2, &v); year = v > 68 ? 1900 + v : 2000 + v; break;
        case T_MMMM: case T_MMM: v = read_name(s, n, &i, month_names, 12); ok = v >= 0; month = v + 1; break;
        case T_MM: ok = read_digits(s, n, &i, 2, 2, &month); break;
        case T_M: ok = read_digits(s, n, &i, 1, 2, &month); break;
        case T_DD: ok = read_digits(s, n, &i, 2, 2, &day); break;
        case T_D: ok = read_digits(s, n, &i, 1, 2, &day); break;
        case T_dddd: case T_ddd: ok = read_name(s, n, &i, day_names, 7) >= 0; break;
        case T_HH: ok = read_digits(s, n, &i, 2, 2, &hour); h12 = 0; break;
        case T_H: ok = read_digits(s, n, &i, 1, 2, &hour); h12 = 0; break;
        case T_hh: ok = read_digits(s, n, &i, 2, 2, &hour); h12 = 1; break;
        case T_h: ok = read_digits(s, n, &i, 1, 2, &hour); h12 = 1; break;
        case T_mm: ok = read_digits(s, n, &i, 2, 2, &minute); break;
        case T_m: ok = read_digits(s, n, &i, 1, 2, &minute); break;
        case T_ss: ok = read_digits(s, n, &i, 2, 2, &second); break;
        case T_s: ok = read_digits(s, n, &i, 1, 2, &second); break;
        case T_SSS: ok = read_digits(s, n, &i, 3, 3, &milli); break;
        case T_SS: ok = read_digits(s, n, &i, 2, 2, &v); milli = v * 10; break;
        case T_S: ok = read_digits(s, n, &i, 1, 1, &v); milli = v * 100; break;
        case T_ZZ: case T_Z: ok = read_offset(s, n, &i, &offset); break;
        case T_A: case T_a:
            if (n - i >= 2 && (same_letters(s + i, "am", 2) || same_letters(s + i, "pm", 2))) {
                meridiem = same_letters(s + i, "am", 2) ? 1 : 2;
                i += 2;
            } else {
                ok = 0;
            }
            break;
        }
        if (!ok) {
            snprintf(why, 128, "expected %s for %.*s at offset %zu", expectation(pc.tok), (int)pc.n, pc.text, i);
            return 0;
        }
    }
    if (i != n) { snprintf(why, 128, "unexpected text at offset %zu", i); return 0; }
    if (h12 && (hour < 1 || hour > 12)) { snprintf(why, 128, "hour %d is out of range for a 12-hour clock", hour); return 0; }
    if (meridiem == 2 && hour < 12) hour += 12;
    else if (meridiem == 1 && hour == 12) hour = 0;
    if (month < 1 || month > 12) { snprintf(why, 128, "month %d is out of range", month); return 0; }
    if (day < 1 || day > flow_days_in_month(year, (unsigned)month)) {
        snprintf(why, 128, "day %d is out of range for %04lld-%02d", day, (long long)year, month);
        return 0;
    }
    if (hour > 23) { snprintf(why, 128, "hour %d is out of range", hour); return 0; }
    if (minute > 59) { snprintf(why, 128, "minute %d is out of range", minute); return 0; }
    if (second > 59) { snprintf(why, 128, "second %d is out of range", second); return 0; }
    int64_t days = flow_days_from_civil(year, (unsigned)month, (unsigned)day);
    *ms = ((days * 24 + hour) * 60 + minute - offset) * 60000 + (int64_t)second * 1000 + milli;
    return 1;
}

FlowVal flow_fn_now(FlowCtx *cx) { return flow_datetime(flow_ctx_now(cx)); }

/* parse_date(s, format?): ISO-8601 without a format, else the format's tokens (see the top). */
FlowVal flow_fn_parse_date(FlowCtx *cx, FlowVal a, FlowVal b) {
    FlowStr s, f;
    int64_t ms;
    char q1[QUOTE_MAX * 4 + 8], q2[QUOTE_MAX * 4 + 8], why[128];
    if (!flow_arg_str(cx, a, "parse_date", NULL, &s)) return flow_null();
    if (flow_val_is_null(b)) {
        if (flow_parse_iso8601(s.p, s.n, &ms)) return flow_datetime(ms);
        return flow_fail(cx, FLOW_ERR_VALUE, "parse_date: %s is not an ISO-8601 date-time (give a format, e.g. \"DD/MM/YYYY\")",
                         quoted(q1, s.p, s.n));
    }
    if (!flow_arg_str(cx, b, "parse_date", "format", &f)) return flow_null();
    if (parse_with(s.p, s.n, f.p, f.n, &ms, why)) return flow_datetime(ms);
    return flow_fail(cx, FLOW_ERR_VALUE, "parse_date: %s does not match the format %s: %s", quoted(q1, s.p, s.n),
                     quoted(q2, f.p, f.n), why);
}

/* ---- formatting ---- */

/* format_date(d, format): the format's tokens filled in from d, in UTC. */
FlowVal flow_fn_format_date(FlowCtx *cx, FlowVal a, FlowVal b) {
    int64_t ms;
    FlowStr f;
    if (!arg_datetime(cx, a, "format_date", NULL, &ms) || !flow_arg_str(cx, b, "format_date", "format", &f)) return flow_null();
    int64_t days = ms / DAY_MS, rem = ms % DAY_MS;
    if (rem < 0) { days--; rem += DAY_MS; }
    int64_t y;
    unsigned mo, d;
    flow_civil_from_days(days, &y, &mo, &d);
    int wd = (int)(((days + 4) % 7 + 7) % 7);
    int hour = (int)(rem / 3600000), minute = (int)(rem / 60000 % 60), second = (int)(rem / 1000 % 60), milli = (int)(rem % 1000);
    int h12 = hour % 12 ? hour % 12 : 12;
    /* no token writes more than 6 bytes per format byte (Z -> +00:00) */
    size_t cap = f.n * 6 + 16;
    char *out = flow_scratch_alloc(cx, cap);
    size_t o = 0, j = 0;
    while (j < f.n) {
        Piece pc;
        j = next_piece(f.p, f.n, j, &pc);
        char *w = out + o;
        size_t room = cap - o;
        int k = 0;
        switch (pc.tok) {
        case T_LIT: memcpy(w, pc.text, pc.n); k = (int)pc.n; break;
        case T_YYYY: k = y < 0 ? snprintf(w, room, "-%04lld", (long long)-y) : snprintf(w, room, "%04lld", (long long)y); break;
        case T_YY: k = snprintf(w, room, "%02d", (int)(((y % 100) + 100) % 100)); break;
        case T_MMMM: k = snprintf(w, room, "%s", month_names[mo - 1]); break;
        case T_MMM: k = snprintf(w, room, "%.3s", month_names[mo - 1]); break;
        case T_MM: k = snprintf(w, room, "%02u", mo); break;
        case T_M: k = snprintf(w, room, "%u", mo); break;
        case T_DD: k = snprintf(w, room, "%02u", d); break;
        case T_D: k = snprintf(w, room, "%u", d); break;
        case T_dddd: k = snprintf(w, room, "%s", day_names[wd]); break;
        case T_ddd: k = snprintf(w, room, "%.3s", day_names[wd]); break;
        case T_HH: k = snprintf(w, room, "%02d", hour); break;
        case T_H: k = snprintf(w, room, "%d", hour); break;
        case T_hh: k = snprintf(w, room, "%02d", h12); break;
        case T_h: k = snprintf(w, room, "%d", h12); break;
        case T_mm: k = snprintf(w, room, "%02d", minute); break;
        case T_m: k = snprintf(w, room, "%d", minute); break;
        case T_ss: k = snprintf(w, room, "%02d", second); break;
        case T_s: k = snprintf(w, room, "%d", second); break;
        case T_SSS: k = snprintf(w, room, "%03d", milli); break;
        case T_SS: k = snprintf(w, room, "%02d", milli / 10); break;
        case T_S: k = snprintf(w, room, "%d", milli / 100); break;
        case T_ZZ: k = snprintf(w, room, "+0000"); break;
        case T_Z: k = snprintf(w, room, "+00:00"); break;
        case T_A: k = snprintf(w, room, "%s", hour < 12 ? "AM" : "PM"); break;
        case T_a: k = snprintf(w, room, "%s", hour < 12 ? "am" : "pm"); break;
        }
        o += k > 0 ? (size_t)k : 0;
    }
    return flow_string(out, o);
}

/* ---- arithmetic ---- */

FlowVal flow_fn_add(FlowCtx *cx, FlowVal a, FlowVal b) {
    int64_t d, by;
    if (!arg_datetime(cx, a, "add", "d", &d) || !arg_duration(cx, b, "add", "by", &by)) return flow_null();
    if ((by > 0 && d > INT64_MAX - by) || (by < 0 && d < INT64_MIN - by))
        return flow_fail(cx, FLOW_ERR_VALUE, "add: the result is out of the datetime range");
    return flow_datetime(d + by);
}

/* date_diff(a, b) = a - b */
FlowVal flow_fn_date_diff(FlowCtx *cx, FlowVal a, FlowVal b) {
    int64_t x, y;
    if (!arg_datetime(cx, a, "date_diff", "a", &x) || !arg_datetime(cx, b, "date_diff", "b", &y)) return flow_null();
    if ((y < 0 && x > INT64_MAX + y) || (y > 0 && x < INT64_MIN + y))
        return flow_fail(cx, FLOW_ERR_VALUE, "date_diff: the difference is out of the duration range");
    return flow_duration(x - y);
}
