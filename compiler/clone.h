/* clone.h — flowc clone: a flow copied under a new name within its integration. */
#ifndef FLOWC_CLONE_H
#define FLOWC_CLONE_H

#include <stdio.h>
#include "ir.h"
#include "source.h"

/* The integration's text (src, checked, its flow f) with the copy of f named nn right after it, as
 * `flowc clone` makes it (malloc'd, *len); what the copy changed (schedule, webhook path, once flag)
 * as `flowc: clone: ...` lines on notes when not NULL. nn is not checked here. */
char *clone_insert(const Source *src, const IrFlow *f, const char *nn, FILE *notes, size_t *len);

/* flowc clone FILE FLOW NEW_NAME [-o OUT]: an exit code (0, 1 the result does not check, 2 usage). */
int clone_main(int argc, char **argv);

#endif
