/* tests/unit/tz.c — the TZif reader (runtime/tz.c) against `zdump -v`, a real tool that reads the
 * same tzdata through glibc: every line zdump prints (the second before and the second of each
 * transition, from the tables and, after them, from the POSIX TZ footer) must have zdump's offset;
 * walking flow_tz_next_change over the range must find exactly the instants where zdump's offset
 * changes, and flow_tz_prev_change must find each one back with the offset before it.
 *
 *   zdump -v -c 1900,2200 ZONE | unit_tz ZONE
 *
 * Prints `tz ZONE: N lines, M changes, K failed` and the failures; exits 1 on any failure. */
#include "cron.h"
#include "flow.h"   /* flow_days_from_civil: the runtime's one calendar, which every date goes through */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: zdump -v ZONE | unit_tz ZONE\n"); return 2; }
    char err[512];
    FlowTz *tz = flow_tz_load(argv[1], err, sizeof err);
    if (!tz) { printf("FAIL %s: %s\n", argv[1], err); return 1; }
    static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char line[512];
    int nlines = 0, failed = 0, nchanges = 0;
    int64_t first = 0, last = 0, *changes = NULL;
    int32_t *before = NULL, *after = NULL, prev_off = 0;
    int have_prev = 0;
    while (fgets(line, sizeof line, stdin)) {
        const char *p = strstr(line, "  ");
        if (!p || strstr(line, "= NULL")) continue;
        char wd[4], mon[4];
        int d, h, mi, s;
        long long y, off;
        const char *g = strstr(line, "gmtoff=");
        if (sscanf(p, " %3s %3s %d %d:%d:%d %lld UT", wd, mon, &d, &h, &mi, &s, &y) != 7 || !g || sscanf(g, "gmtoff=%lld", &off) != 1) {
            printf("FAIL unreadable zdump line: %s", line);
            failed++;
            continue;
        }
        int m = 0;
        while (m < 12 && strcmp(mons[m], mon) != 0) m++;
        int64_t t = flow_days_from_civil(y, (unsigned)m + 1, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
        int32_t got = flow_tz_offset(tz, t);
        nlines++;
        if (got != off) { printf("FAIL %s at %lld: offset %d, zdump says %lld: %s", argv[1], (long long)t, got, off, line); failed++; }
        if (nlines == 1) first = t;
        last = t;
        if (have_prev && off != prev_off) {
            changes = realloc(changes, (size_t)(nchanges + 1) * sizeof *changes);
            before = realloc(before, (size_t)(nchanges + 1) * sizeof *before);
            after = realloc(after, (size_t)(nchanges + 1) * sizeof *after);
            if (!changes || !before || !after) abort();
            changes[nchanges] = t;
            before[nchanges] = prev_off;
            after[nchanges++] = (int32_t)off;
        }
        prev_off = (int32_t)off;
        have_prev = 1;
    }
    /* the walk over the range finds exactly zdump's changes */
    int64_t t = first, at;
    int32_t o;
    int k = 0;
    while (flow_tz_next_change(tz, t, &at, &o) && at <= last) {
        if (k >= nchanges || at != changes[k] || o != after[k]) {
            printf("FAIL %s: change %d found at %lld to %d, zdump has %lld to %d\n", argv[1], k, (long long)at, o,
                   k < nchanges ? (long long)changes[k] : -1LL, k < nchanges ? after[k] : 0);
            failed++;
            break;
        }
        int64_t pat;
        int32_t pob;
        if (!flow_tz_prev_change(tz, at, &pat, &pob) || pat != at || pob != before[k]) {
            printf("FAIL %s: prev_change(%lld) is %lld from %d, expected %lld from %d\n", argv[1], (long long)at, (long long)pat, pob,
                   (long long)at, before[k]);
            failed++;
        }
        if (!flow_tz_prev_change(tz, at + 3600, &pat, &pob) || pat != at) {
            printf("FAIL %s: prev_change an hour after %lld is %lld\n", argv[1], (long long)at, (long long)pat);
            failed++;
        }
        t = at;
        k++;
    }
    if (k != nchanges && !failed) { printf("FAIL %s: found %d changes, zdump has %d\n", argv[1], k, nchanges); failed++; }
    printf("tz %s: %d lines, %d changes, %d failed\n", argv[1], nlines, nchanges, failed);
    free(changes);
    free(before);
    free(after);
    flow_tz_free(tz);
    return failed ? 1 : 0;
}
