/* Hooks for tests/e2e/pipelined-stdio: post_submit names the records of the page it is given (each
 * page's own, after its write) and rejects order 2. */
#include "flow.h"
#include <stdio.h>

int seen(FlowHookPage *page) {
    fprintf(stderr, "post_submit:");
    for (int i = 0; i < page->n; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(page->records[i], "id");
        fprintf(stderr, " %d", cJSON_IsNumber(id) ? (int)id->valuedouble : -1);
        if (cJSON_IsNumber(id) && id->valuedouble == 2) flow_hook_error(page, i, "not confirmed");
    }
    fprintf(stderr, "\n");
    return 0;
}
