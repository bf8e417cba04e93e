/* check.h — type checking over the IR: expression types, null safety, the record type through the
 * steps, settings against the connector table, constructor arguments; warnings for unused things. */
#ifndef FLOWC_CHECK_H
#define FLOWC_CHECK_H
#include "diag.h"
#include "ir.h"

void chk_program(Arena *ar, Diags *diags, IrProgram *p);

/* Types a lone expression for `flowc eval`: record is json. Returns its type. */
Type *chk_eval_expr(Arena *ar, Diags *diags, const Source *src, IrExpr *e);

/* Whether entry `def` of the connector settings table (IrSetting.def, set by the checker) is a secret,
 * and its type ("urlpath", "template", ...; "" for -1). */
int chk_setting_secret(int def);
const char *chk_setting_type(int def);

#endif
