/* build_cache.h — each integration revision compiled once to a native executable, cached by content
 * hash under the workspace: DIR/cache/<hash>/integration.flow (the source), .../prog (the executable),
 * .../build.log (what the compiler said). The hash covers the source text, flowc's own executable
 * (size and time) and the build's environment (FLOWC_RUNTIME_LIB, FLOWC_CFLAGS, CC), so another
 * flowc never reuses a stale build. */
#ifndef FLOWC_SERVER_BUILD_CACHE_H
#define FLOWC_SERVER_BUILD_CACHE_H
#include <stddef.h>

#define SRV_HASH_LEN 64

/* Keeps a revision's source under its hash (written once, atomically), with the files its integration
 * has beside it in DIR/files/INTEGRATION/ (files.h; integ NULL: none), which the hash covers too: 0
 * with hash set, or -1 with why. */
int srv_build_put(const char *dir, const char *integ, const char *text, size_t len, char hash[SRV_HASH_LEN + 1], char *why, size_t cap);
/* The executable of the revision with that hash, built now (by `flowc build` in a child process,
 * under an flock on DIR/cache/<hash>/lock, so two builders of one revision build it once) when it is
 * not there yet. flowc: the flowc executable to build with. *built: 1 when this call built it.
 * 0 with exe set, or -1 with why (a build that fails: the compiler's last lines). */
int srv_build_get(const char *dir, const char *flowc, const char *hash, char *exe, size_t excap, int *built, char *why, size_t cap);

#endif
