/* build.h — turns emitted C into a native executable by running the system C compiler against the runtime. */
#ifndef FLOWC_BUILD_H
#define FLOWC_BUILD_H
#include <stdio.h>

/* Where the runtime's header and library are: next to an installed flowc (PREFIX/lib/flowc,
 * PREFIX/include/flowc) or in the source tree (build/rel/libflowrt.a, runtime/). FLOWC_RUNTIME_DIR
 * (a directory holding both flow.h and libflowrt.a) overrides. 0 found, -1 not (message in err). */
int build_find_runtime(char *inc, size_t inclen, char *lib, size_t liblen, FILE *err);

/* Compiles c_text (len bytes) with $CC (default cc) -O2 into `out`, mode 0700 when private_out (the
 * program bakes in secrets). The C file and the half-linked executable live in a 0700 directory
 * beside `out` and are removed on every path, an interrupt included; keep_c keeps the C as OUT.c
 * (mode 0600) and says so. 0, or -1 after printing the compiler's complaint to err. */
int build_native(const char *c_text, size_t len, const char *out, int private_out, int keep_c, FILE *err);

#endif
