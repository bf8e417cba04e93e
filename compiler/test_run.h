/* test_run.h — `flowc test`: runs the test blocks of a file in memory, with mocks for connections. */
#ifndef FLOWC_TEST_RUN_H
#define FLOWC_TEST_RUN_H
#include <stdio.h>

#include "ir.h"

/* Runs every test of a checked file (its C emitted without main); adds to *passed / *failed.
 * Returns 0, or 1 when the C does not compile in memory. */
int test_file(const Source *src, const IrProgram *ir, const char *c_text, FILE *out, int *passed, int *failed);

typedef struct PreviewOpts {
    const char *flow;                          /* NULL: the first flow */
    struct { const char *step, *file; } mocks[64]; int nmocks;
    struct { const char *name, *value; } params[64]; int nparams;
    int limit, live, json, color;
} PreviewOpts;

/* Runs the first page of a flow (at most o->limit records) with imports captured unless live,
 * and prints every step's input and output (text or JSON). 0, 1 errors or a failed run, 2 usage. */
int preview_file(const Source *src, const IrProgram *ir, const char *c_text, const PreviewOpts *o, FILE *out);

#endif
