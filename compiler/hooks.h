/* hooks.h — the files a flow names beside itself: the C files hooks name, c("file.c", "function"), and
 * test blocks' data files, file("..."): where they may be and what they must hold. */
#ifndef FLOWC_HOOKS_H
#define FLOWC_HOOKS_H
#include <stddef.h>
#include "diag.h"
#include "ir.h"

#define HOOK_MAX_BYTES (1024 * 1024)   /* a hook's C file may not be larger */
#define TEST_FILE_MAX_BYTES (64ll * 1024 * 1024)   /* nor a test block's data file (as a .flow source) */

/* The one rule for a file a flow names beside itself: the absolute path (symlinks resolved) of `name`
 * relative to the .flow file. 0 when it is a regular file inside the .flow file's directory tree, of
 * at most max_bytes; else -1 with why, a sentence naming it as `what` ("hook file \"x.c\" is a FIFO,
 * not <noun>") as written, no absolute path unless written so. Nothing is opened: a FIFO or a device
 * is refused by its type, never read. */
int hooks_tree_file(const char *flow_file, const char *name, const char *what, const char *noun, long long max_bytes,
                    char *out, size_t cap, char *why, size_t whycap);

/* hooks_tree_file for a hook's C file (at most HOOK_MAX_BYTES), whose name and path can also be
 * #included. */
int hook_resolve(const char *flow_file, const char *hook_file, char *out, size_t cap, char *why, size_t whycap);

/* Every hook of p: its file resolved (hook_resolve; errors at the file's string) and compiled on its
 * own by libtcc, which must find each function named from it (errors at the function's string). Run
 * by check, build, run, test and preview before anything else reads a hook file. */
void hooks_check(const IrProgram *p, const Source *src, Diags *d);

/* A test block's given NAME = file("..."): its file string, or NULL when the given is something else. */
const IrExpr *hooks_given_file(const IrGiven *g);
/* hooks_tree_file for a test block's data file (at most TEST_FILE_MAX_BYTES). */
int hooks_test_file(const char *flow_file, const char *name, char *out, size_t cap, char *why, size_t whycap);
/* Every test block's data file by that rule (errors at its string). Run by check and test. */
void hooks_check_test_files(const IrProgram *p, const Source *src, Diags *d);

#endif
