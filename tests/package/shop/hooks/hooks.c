/* Hooks for tests/e2e/hooks: one of every kind a file import can use. */
#include "flow.h"
#include <string.h>

/* pre_save_page: test accounts are skipped, record 13 is rejected */
int drop_test_orders(FlowHookPage *page) {
    for (int i = 0; i < page->n; i++) {
        const cJSON *email = cJSON_GetObjectItemCaseSensitive(page->records[i], "email");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(page->records[i], "id");
        if (cJSON_IsString(email) && strstr(email->valuestring, "@test.com")) page->verdict[i] = FLOW_HOOK_SKIP;
        if (cJSON_IsNumber(id) && id->valuedouble == 13) flow_hook_error(page, i, "order %d is blocked", 13);
    }
    return 0;
}

/* pre_map: records can be changed before the mapping sees them */
int tag_source(FlowHookPage *page) {
    for (int i = 0; i < page->n; i++) cJSON_AddStringToObject(page->records[i], "source", "hooked");
    return 0;
}

/* post_map: outputs can be changed or skipped before they are written */
int stamp_output(FlowHookPage *page) {
    for (int i = 0; i < page->n; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(page->records[i], "id");
        if (cJSON_IsNumber(id) && id->valuedouble == 2) { page->verdict[i] = FLOW_HOOK_SKIP; continue; }
        cJSON_AddTrueToObject(page->records[i], "stamped");
    }
    return 0;
}

/* post_submit: a record the destination took can still be reported as an error */
int confirm(FlowHookPage *page) {
    for (int i = 0; i < page->n; i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(page->records[i], "id");
        if (cJSON_IsNumber(id) && id->valuedouble == 5) flow_hook_error(page, i, "not confirmed");
    }
    return 0;
}

/* pre_save_page: stops the export after the first page */
int first_page_only(FlowHookPage *page) {
    page->abort = 1;
    return 0;
}
