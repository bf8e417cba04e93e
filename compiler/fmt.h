/* fmt.h — the canonical layout of a .flow file (flowc fmt): text in, formatted text out. */
#ifndef FLOWC_FMT_H
#define FLOWC_FMT_H
#include <stddef.h>
#include "diag.h"
#include "source.h"

/* Lines longer than this (trailing comments aside) have their inline `{ ... }` blocks broken. */
#define FMT_WIDTH 100

/* The formatted text of src (malloc'd, *len bytes, NUL-terminated), or NULL when src does not parse:
 * its syntax errors are then in diags. The result re-lexes to the same tokens and comments (the
 * optional `,`/`;` between block items aside); a result that would not is refused with an error. */
char *fmt_source(const Source *src, Diags *diags, size_t *len);

/* A unified diff (as `diff -u`, 3 lines of context) from a to b, headed `--- a/NAME` `+++ b/NAME`;
 * nothing when they are equal. */
void fmt_udiff(FILE *out, const char *name, const char *a, size_t alen, const char *b, size_t blen);

/* flowc fmt [--check] [--diff] [FILE...|-]: returns the exit code (0, 1 with --check when a file would
 * change, 2 on a file that does not parse or cannot be read or written). */
int fmt_command(int argc, char **argv, int color);

#endif
