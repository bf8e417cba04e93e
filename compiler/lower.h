/* lower.h — AST -> IR: name resolution (connections, types, params, tables, steps, lookups, arms)
 * and desugaring (templates, context names, helper calls). */
#ifndef FLOWC_LOWER_H
#define FLOWC_LOWER_H
#include "ast.h"
#include "diag.h"
#include "ir.h"

IrProgram *lower_program(Arena *ar, Diags *diags, const Source *src, const AstNode *file);

/* Lowers a lone expression for `flowc eval`: `record` and context names resolve; nothing else is declared. */
IrExpr *lower_eval_expr(Arena *ar, Diags *diags, const Source *src, const AstNode *expr);
/* Lowers a parsed template for `flowc eval --template`: the record is its root context, so a bare
 * name is a member of the data (looked up through the sections around it, as Mustache does). */
IrExpr *lower_eval_template(Arena *ar, Diags *diags, const Source *src, const AstNode *tpl);
/* The i-th template helper's name (and in *builtin the built-in it calls, NULL for an operator), or
 * NULL past the last: the language server's completion lists them. */
const char *lower_template_helper(int i, const char **builtin);

#endif
