/* tokens.h — `flowc dump tokens` (tokens.c). */
#ifndef FLOWC_TOKENS_H
#define FLOWC_TOKENS_H
#include "diag.h"
#include "source.h"
#include <stdio.h>

/* A line `# NAME ERRORS` (ERRORS: the file's syntax errors, as the caller counted them), then every
 * token of src, comments included, as `START END CLASS` lines (byte offsets; CLASS one of comment
 * string int number duration size name keyword operator-word literal symbol). */
void tokens_dump(FILE *out, const char *name, const Source *src, int errors);

#endif
