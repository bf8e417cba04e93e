/* build.h — turns emitted C into a native executable by running the system C compiler against the runtime. */
#ifndef FLOWC_BUILD_H
#define FLOWC_BUILD_H
#include <stdio.h>

/* Where the runtime's header and library are: next to an installed flowc (PREFIX/lib/flowc,
 * PREFIX/include/flowc) or in the source tree (build/rel/libflowrt.a, runtime/). FLOWC_RUNTIME_DIR
 * (a directory holding both flow.h and libflowrt.a) overrides. 0 found, -1 not (message in err). */
int build_find_runtime(char *inc, size_t inclen, char *lib, size_t liblen, FILE *err);

/* Compiles c_text (len bytes) with $CC (default cc) -O2 into `out`. 0, or -1 after printing the
 * compiler's complaint to err. */
int build_native(const char *c_text, size_t len, const char *out, FILE *err);

#endif
