/* pre_save_page for tests/adversarial/15-secrets-readable: each record gets `dumpable` (prctl) and
 * `core` (the RLIMIT_CORE soft limit) of the process running the flow. */
#include "flow.h"
#include <sys/prctl.h>
#include <sys/resource.h>

int report_dumpable(FlowHookPage *page) {
    struct rlimit rl;
    getrlimit(RLIMIT_CORE, &rl);
    int d = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    for (int i = 0; i < page->n; i++) {
        cJSON_AddNumberToObject(page->records[i], "dumpable", d);
        cJSON_AddNumberToObject(page->records[i], "core", (double)rl.rlim_cur);
    }
    return 0;
}
