/* lsp_query.h — what the language server asks of a checked file (lsp_query.c): LSP positions (UTF-16
 * code units) to byte offsets and back, in one place, and byte offset -> the AST and IR at it. */
#ifndef FLOWC_LSP_QUERY_H
#define FLOWC_LSP_QUERY_H
#include <stdint.h>
#include "ast.h"
#include "ir.h"
#include "source.h"

/* The byte offset of an LSP position (0-based line, UTF-16 code units into it). A character past the
 * line's end is its end; a line past the last is the end of the text. */
uint32_t lq_offset(const Source *s, long line, long character);
/* The LSP position of a byte offset (clamped to the text). */
void lq_position(const Source *s, uint32_t off, int *line, int *character);

/* Every expression of a program, subexpressions included, with the step it is in (NULL outside
 * steps); transform targets included. */
typedef void (*LqExprFn)(const IrExpr *x, const IrStep *step, void *ud);
void lq_each_expr(const IrProgram *p, LqExprFn fn, void *ud);

/* What is at a byte offset of a checked program: the innermost of each kind of thing there. */
typedef struct LqHit {
    const IrExpr *expr;            /* innermost expression */
    const IrExpr *call;            /* innermost call whose function name holds the offset */
    const IrExpr *after_word;      /* the flow name in after(...) */
    const IrStep *step;            /* innermost step */
    const IrStep *conn_ref;        /* a step whose connection name holds the offset */
    const IrFlow *flow;
    const IrSetting *setting;      /* a setting whose name holds the offset */
    int setting_place;             /* 0 connection, 1 export, 2 lookup, 3 import, -1 flow or env */
    int setting_kind;              /* the connection kind (index into flow_conn_kinds), -1 if none */
    const IrMapEntry *entry;       /* a map entry whose name holds the offset */
    const IrTest *test_flow;       /* a test whose flow name holds the offset */
    const IrGiven *given;          /* a given whose name holds the offset */
} LqHit;
void lq_find(const IrProgram *p, uint32_t off, LqHit *h);

/* The innermost AST node holding off (NULL: none); *parent its parent (may be NULL). */
const AstNode *lq_ast_at(const AstNode *root, uint32_t off, const AstNode **parent);
/* Calls fn on every AST node (template parts included). */
void lq_ast_each(const AstNode *n, void (*fn)(const AstNode *n, void *ud), void *ud);

/* The span of a field access's name (the end of `a.name`), or {0,0} when its text does not end with it. */
Span lq_field_name_span(const Source *s, const IrExpr *field);
int lq_contains(Span sp, uint32_t off);

#endif
