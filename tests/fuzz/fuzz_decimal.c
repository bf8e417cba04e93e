/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): arbitrary bytes to runtime/decimal.c's reader of
 * decimal text (flow_dec_parse: JSON numbers, to_number, JSONPath literals). What it accepts must be
 * the double glibc's strtod reads from the same text, bit for bit; that double's shortest digits must
 * read back as it, and its %g text too. The buffer is not NUL-terminated. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    double x;
    if (!flow_dec_parse((const char *)data, size, &x)) return 0;
    char *z = malloc(size + 1);
    if (!z) return 0;
    memcpy(z, data, size);
    z[size] = 0;
    double y = strtod(z, NULL);
    free(z);
    if (memcmp(&x, &y, sizeof x) != 0) abort();
    if (isfinite(x) && x != 0) {
        uint64_t d;
        int p;
        flow_dec_shortest(x, &d, &p);
        if (flow_dec_to_double(d, p) != fabs(x)) abort();
        char g[32];
        size_t n = flow_dec_format_g(g, x, 1);
        double back;
        if (!flow_dec_parse(g, n, &back) || back != x) abort();
    }
    return 0;
}
