/* Hooks of tests/serve/slow: a nap of $NAP_MS per page (signals do not shorten it), then while the file
 * $NAP_UNTIL exists (at most a minute: a test holds a run for as long as it needs, whatever the load),
 * and a crash. */
#include "flow.h"
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int nap(FlowHookPage *page) {
    (void)page;
    const char *ms = getenv("NAP_MS");
    long n = ms ? atol(ms) : 0;
    struct timespec ts = { n / 1000, (n % 1000) * 1000000L };
    while (n > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {}   /* a signal does not cut it short */
    const char *until = getenv("NAP_UNTIL");
    for (int i = 0; until && *until && i < 6000 && access(until, F_OK) == 0; i++) {
        struct timespec t = { 0, 10000000L };
        nanosleep(&t, NULL);
    }
    return 0;
}

int crash(FlowHookPage *page) {
    if (page->n >= 0) abort();
    return 0;
}
