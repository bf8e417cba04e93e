/* Hooks of tests/serve/slow: a nap of $NAP_MS per page (signals do not shorten it), and a crash. */
#include "flow.h"
#include <errno.h>
#include <stdlib.h>
#include <time.h>

int nap(FlowHookPage *page) {
    (void)page;
    const char *ms = getenv("NAP_MS");
    long n = ms ? atol(ms) : 0;
    struct timespec ts = { n / 1000, (n % 1000) * 1000000L };
    while (n > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {}   /* a signal does not cut it short */
    return 0;
}

int crash(FlowHookPage *page) {
    if (page->n >= 0) abort();
    return 0;
}
