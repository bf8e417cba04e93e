/* hooks.h — the C files hooks name, c("file.c", "function"): where they may be and what they must hold. */
#ifndef FLOWC_HOOKS_H
#define FLOWC_HOOKS_H
#include <stddef.h>
#include "diag.h"
#include "ir.h"

#define HOOK_MAX_BYTES (1024 * 1024)   /* a hook's C file may not be larger */

/* The absolute path (symlinks resolved) of a hook's C file named relative to the .flow file. 0 when it
 * is a regular file inside the .flow file's directory tree, of at most HOOK_MAX_BYTES, with a name
 * that can be #included; else -1 with why (a sentence naming the file as written, no absolute path).
 * Nothing is opened: a FIFO or a device is refused by its type, never read. */
int hook_resolve(const char *flow_file, const char *hook_file, char *out, size_t cap, char *why, size_t whycap);

/* Every hook of p: its file resolved (hook_resolve; errors at the file's string) and compiled on its
 * own by libtcc, which must find each function named from it (errors at the function's string). Run
 * by check, build, run, test and preview before anything else reads a hook file. */
void hooks_check(const IrProgram *p, const Source *src, Diags *d);

/* Calls fn with the file string of every c("file", "function") hook of p written as a literal, in
 * source order (a file named twice comes twice). */
void hooks_each_file(const IrProgram *p, void (*fn)(const IrExpr *file, void *ud), void *ud);

#endif
