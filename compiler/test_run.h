/* test_run.h — `flowc test`: runs the test blocks of a file in memory, with mocks for connections. */
#ifndef FLOWC_TEST_RUN_H
#define FLOWC_TEST_RUN_H
#include <stdio.h>

/* Runs every test of `file` (its C already emitted without main); adds to *passed / *failed.
 * Returns 0, 1 when the file does not compile, 2 when it cannot be read. */
int test_file(const char *file, const char *c_text, FILE *out, int *passed, int *failed);

#endif
