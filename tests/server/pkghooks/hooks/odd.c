/* The hook of tests/server/pkghooks: records with an odd id are skipped. */
#include "flow.h"

int drop_odd(FlowHookPage *page) {
    for (int i = 0; i < page->n; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(page->records[i], "id");
        if (cJSON_IsNumber(id) && (long long)id->valuedouble % 2 != 0) page->verdict[i] = FLOW_HOOK_SKIP;
    }
    return 0;
}
