/* template.h — parses template strings (Handlebars/Mustache text with {{...}} tags) into AST_TEMPLATE trees. */
#ifndef FLOWC_TEMPLATE_H
#define FLOWC_TEMPLATE_H
#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

/* Does this decoded string contain a template tag? (i.e. contains "{{") */
int tpl_is_template(const char *s, size_t len);
/* Parses the decoded text of a string literal into an AST_TEMPLATE node.
 * str_node is the AST_STR node (str/slen = decoded text; span = the source span of the literal INCLUDING its quotes).
 * Errors go to diags (at precise source spans when possible) and the function still returns a best-effort AST_TEMPLATE. */
AstNode *tpl_parse(Arena *ar, Diags *diags, const Source *src, const AstNode *str_node);
/* Same, for text that has no source location (e.g. `flowc eval --template TEXT`): spans are offsets into text; src may be NULL and then errors are reported with src NULL. */
AstNode *tpl_parse_text(Arena *ar, Diags *diags, const Source *src, const char *text, size_t len, uint32_t base_offset);

#endif
