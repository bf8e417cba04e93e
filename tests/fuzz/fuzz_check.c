/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): feeds arbitrary bytes to the front end
 * (scan, parse, lower, type-check) through fe_check_buffer, which must never crash, hang, leak or
 * read out of bounds, whatever the input. The buffer is not NUL-terminated. */
#include <stddef.h>
#include <stdint.h>

#include "frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)fe_check_buffer("fuzz.flow", (const char *)data, size);
    return 0;
}
