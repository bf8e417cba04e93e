/* Hooks for tests/http/cases/hook-response-map: post_response_map after an http import. */
#include "flow.h"

/* record 1: sink_id x 100; record 2 leaves the page; record 3 is rejected; the rest pass. A record
 * without sink_id (the response mapping did not run) is an error too. */
int after_response(FlowHookPage *page) {
    for (int i = 0; i < page->n; i++) {
        cJSON *rec = page->records[i];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
        cJSON *sid = cJSON_GetObjectItemCaseSensitive(rec, "sink_id");
        if (!cJSON_IsNumber(sid)) { flow_hook_error(page, i, "no sink_id"); continue; }
        if (!cJSON_IsNumber(id)) continue;
        if (id->valueint == 1) cJSON_SetNumberValue(sid, sid->valuedouble * 100);
        if (id->valueint == 2) page->verdict[i] = FLOW_HOOK_SKIP;
        if (id->valueint == 3) flow_hook_error(page, i, "record %d is refused after the write", id->valueint);
    }
    return 0;
}
