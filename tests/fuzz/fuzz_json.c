/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): feeds arbitrary bytes to the runtime's one
 * JSON reader (runtime/json_read.c, flow_json_parse), which must never crash, hang, leak or read out
 * of bounds. What it accepts must hold up: every string is valid UTF-8 without NUL, every number is
 * finite, no object holds a name twice, and the exact printer's text reads back to an equal tree that prints the same text again
 * (ints keep their exact value). A refusal must point inside the input. The buffer is not
 * NUL-terminated. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_values(const cJSON *j) {
    for (; j; j = j->next) {
        if (j->string && flow_text_check(j->string, strlen(j->string), NULL) != FLOW_TEXT_OK) abort();
        if (cJSON_IsString(j) && flow_text_check(j->valuestring, strlen(j->valuestring), NULL) != FLOW_TEXT_OK) abort();
        if (cJSON_IsNumber(j)) {
            if (!isfinite(j->valuedouble)) abort();
            int64_t i;
            char b[32];
            /* text on a number is believed: an exact int's digits, or the text as read */
            if (j->valuestring && !flow_json_big_int(j, &i) && flow_json_num_text(j, b) != j->valuestring) abort();
        }
        if (cJSON_IsObject(j))   /* no object holds a name twice (the last one's value stands) */
            for (const cJSON *a = j->child; a; a = a->next)
                for (const cJSON *b = a->next; b; b = b->next)
                    if (strcmp(a->string, b->string) == 0) abort();
        if (j->child) check_values(j->child);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FlowJsonError e;
    cJSON *j = flow_json_parse((const char *)data, size, &e);
    if (!j) {
        if (e.offset > size || e.line < 1 || e.col < 1 || !e.msg[0]) abort();
        return 0;
    }
    check_values(j);
    char *t1 = flow_json_print(j);
    if (!t1) abort();
    cJSON *k = flow_json_parse(t1, strlen(t1), &e);
    if (!k || !flow_json_equal(j, k)) abort();
    char *t2 = flow_json_print(k);
    if (!t2 || strcmp(t1, t2) != 0) abort();
    cJSON *d = cJSON_Duplicate(j, 1);
    if (!flow_json_equal(j, d)) abort();
    cJSON_free(t1);
    cJSON_free(t2);
    cJSON_Delete(d);
    cJSON_Delete(k);
    cJSON_Delete(j);
    return 0;
}
