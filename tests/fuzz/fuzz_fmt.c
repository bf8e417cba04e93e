/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): flowc fmt on arbitrary bytes. Whatever
 * parses is formatted; the result must parse, be its own format (fmt(fmt(x)) == fmt(x)), and lower
 * and check to the same IR dump as the input (the same diagnostics count too). Input that does not
 * parse must be refused with a diagnostic. Any difference aborts, which libFuzzer reports. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "frontend.h"
#include "ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the IR dump of a text (empty when it does not lower), and its error count */
static char *ir_text(const char *text, size_t len, size_t *out_len, int *errors) {
    Source *src = src_from_buffer("fuzz.flow", text, len);
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) abort();
    if (r.ir) ir_dump(f, r.ir);
    fclose(f);
    *out_len = n;
    *errors = d.errors;
    fe_result_free(&r);
    diag_free(&d);
    src_free(src);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Source *src = src_from_buffer("fuzz.flow", (const char *)data, size);
    Diags d;
    diag_init(&d);
    size_t n1 = 0;
    char *once = fmt_source(src, &d, &n1);
    if (!once) {
        if (d.errors == 0) { fprintf(stderr, "fmt refused the input without an error\n"); abort(); }
    } else {
        Source *s1 = src_from_buffer("fuzz.flow", once, n1);
        Diags d1;
        diag_init(&d1);
        size_t n2 = 0;
        char *twice = fmt_source(s1, &d1, &n2);
        if (!twice) { fprintf(stderr, "fmt's output does not format:\n%s\n", once); abort(); }
        if (n2 != n1 || memcmp(once, twice, n1) != 0) {
            fprintf(stderr, "fmt is not idempotent:\n--- once\n%s\n--- twice\n%s\n", once, twice);
            abort();
        }
        size_t la, lb;
        int ea, eb;
        char *ia = ir_text((const char *)data, size, &la, &ea);
        char *ib = ir_text(once, n1, &lb, &eb);
        if (la != lb || memcmp(ia, ib, la) != 0 || ea != eb) {
            fprintf(stderr, "fmt changed the IR (%d errors before, %d after):\n--- before\n%s\n--- after\n%s\n", ea, eb, ia, ib);
            abort();
        }
        free(ia);
        free(ib);
        free(twice);
        diag_free(&d1);
        src_free(s1);
    }
    free(once);
    diag_free(&d);
    src_free(src);
    return 0;
}
