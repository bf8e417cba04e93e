/* parse.h — the interface between the generated scanner/parser and the rest of the compiler. */
#ifndef FLOWC_PARSE_H
#define FLOWC_PARSE_H
#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

/* State shared by the scanner and the parser for one file. Only grammar/ and parse.c touch it. */
typedef struct ParseCtx {
    Arena *ar;
    Diags *diags;
    const Source *src;
    void *scanner;          /* yyscan_t */
    void *buf;              /* YY_BUFFER_STATE */
    uint32_t off;           /* byte offset of the next token */
    uint32_t comment_start;
    int depth;              /* open brackets */
    int tok_depth;          /* open brackets before the current token */
    int quiet, err_depth, min_depth;  /* after a syntax error: quiet until its enclosing block closes */
    int stopped;            /* input ended early on purpose (nesting limit) */
    uint32_t bad_end;       /* end of the last run of bad bytes */
    int bad_diag;
    AstNode *root;
    const char **names;     /* interned identifiers: open addressing, power-of-two size */
    uint32_t nnames, cap_names;
    int start_token;        /* returned before the first real token (parse_expression) */
    int keep_comments;      /* the scanner returns comments as FLOW_TOK_COMMENT (flowlex_tokens) */
} ParseCtx;

/* Parses a whole file into an AST (AST_FILE). Never NULL; syntax errors go to diags. */
AstNode *parse_source(Arena *ar, Diags *diags, const Source *src);
/* Parses the whole text as one expression (flowc eval). NULL after a syntax error. */
AstNode *parse_expression(Arena *ar, Diags *diags, const Source *src);

/* A token as flowlex_tokens gives it: the parser's token number, or FLOW_TOK_COMMENT, and its bytes. */
#define FLOW_TOK_COMMENT 10000
typedef struct { int kind; Span span; } FlowTok;

/* grammar/lexer.l */
size_t flowlex_tokens(Arena *ar, Diags *diags, const Source *src, FlowTok **out);
void flowlex_begin(ParseCtx *c);
void flowlex_end(ParseCtx *c);
int  flowlex_byte_at(ParseCtx *c, uint32_t off);

#endif
