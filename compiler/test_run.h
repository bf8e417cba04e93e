/* test_run.h — `flowc test`: runs the test blocks of a file in memory, with mocks for connections. */
#ifndef FLOWC_TEST_RUN_H
#define FLOWC_TEST_RUN_H
#include <stdio.h>

/* Runs every test of `file` (its C already emitted without main); adds to *passed / *failed.
 * Returns 0, 1 when the file does not compile, 2 when it cannot be read. */
int test_file(const char *file, const char *c_text, FILE *out, int *passed, int *failed);

typedef struct PreviewOpts {
    const char *flow;                          /* NULL: the first flow */
    struct { const char *step, *file; } mocks[64]; int nmocks;
    struct { const char *name, *value; } params[64]; int nparams;
    int limit, live, json, color;
} PreviewOpts;

/* Runs the first page of a flow (at most o->limit records) with imports captured unless live,
 * and prints every step's input and output (text or JSON). 0, 1 errors or a failed run, 2 usage. */
int preview_file(const char *file, const char *c_text, const PreviewOpts *o, FILE *out);

#endif
