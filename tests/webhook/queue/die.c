/* die_on_page: a crash on purpose — SIGKILL before the import writes page $WEBHOOK_KILL_AT_PAGE of the
 * run (counted from 1), as kill -9 would; otherwise it keeps every record. */
#include "flow.h"
#include <signal.h>
#include <stdlib.h>

static int pages;

int die_on_page(FlowHookPage *page) {
    const char *at = getenv("WEBHOOK_KILL_AT_PAGE");
    pages++;
    if (at && atoi(at) == pages) raise(SIGKILL);
    (void)page;
    return 0;
}
