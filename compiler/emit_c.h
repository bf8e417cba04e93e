/* emit_c.h — typed IR -> C against runtime/flow.h: per-record functions and the static program table. */
#ifndef FLOWC_EMIT_C_H
#define FLOWC_EMIT_C_H
#include "diag.h"
#include "ir.h"
#include <stdio.h>

typedef struct EmitParam { const char *name, *value; } EmitParam;   /* -P name=value at build time */

/* Writes the C text of a checked program. Returns 0, or the number of errors it reported (a
 * construct the back end cannot compile yet is an error at its span, never silently dropped). */
int emit_c(FILE *out, Diags *diags, const IrProgram *p, const EmitParam *params, int nparams, int with_main);

/* Whether the program emit_c writes for these -P values bakes in a secret: the value or default of
 * a param that feeds a secret setting, or a string literal inside a secret setting. Such text is
 * stored masked, and `flowc build` writes the executable mode 0700. */
int emit_bakes_secrets(const IrProgram *p, const EmitParam *params, int nparams);

#endif
