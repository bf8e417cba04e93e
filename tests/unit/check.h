/* tests/unit/check.h — the checks of the unit test programs that name their case: check(ok, fmt,
 * ...) counts a pass or prints `FAIL [case] message` and counts a failure; set cur_case before a
 * case's checks and print npass / nfail at the end. Included by one .c file per program. */
#ifndef FLOW_UNIT_CHECK_H
#define FLOW_UNIT_CHECK_H
#include <stdarg.h>
#include <stdio.h>

static int npass, nfail;
static const char *cur_case = "";

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...) {
    if (ok) { npass++; return; }
    nfail++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL [%s] ", cur_case);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

#endif
