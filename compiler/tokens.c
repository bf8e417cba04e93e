/* tokens.c — `flowc dump tokens`: the lexer's tokens of a file (flowlex_tokens, comments included)
 * after a line `# NAME ERRORS` (its syntax errors), one per line as `START END CLASS`: byte offsets and a class an editor
 * grammar can be held to (tests/vscode/grammar.js compares the VS Code grammar's scopes with them
 * over every .flow file of the repository). */
#include "tokens.h"
#include "arena.h"
#include "parse.h"
#define YYSTYPE FLOWYYSTYPE   /* as grammar/lexer.l does: the parser header names them so */
#define YYLTYPE FLOWYYLTYPE
#include "parser.h"
#include <stdlib.h>

static const char *token_class(int kind) {
    switch (kind) {
    case FLOW_TOK_COMMENT: return "comment";
    case STRING: return "string";
    case INT: return "int";
    case NUMBER: return "number";
    case DURATION: return "duration";
    case SIZE: return "size";
    case IDENT: return "name";
    case KW_TRUE: case KW_FALSE: case KW_NULL: return "literal";
    case KW_AND: case KW_OR: case KW_NOT: case KW_WHEN: case KW_IF: case KW_THEN: case KW_ELSE:
    case KW_EACH: case KW_IN: case KW_WHERE: return "operator-word";
    default: return kind >= KW_INTEGRATION && kind < KW_NULL ? "keyword" : "symbol";
    }
}

void tokens_dump(FILE *out, const char *name, const Source *src, int errors) {
    Arena *ar = arena_new();
    Diags lexical;               /* the caller has them from its parse */
    diag_init(&lexical);
    FlowTok *t = NULL;
    size_t n = flowlex_tokens(ar, &lexical, src, &t);
    diag_free(&lexical);
    fprintf(out, "# %s %d\n", name, errors);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%u %u %s\n", (unsigned)t[i].span.start, (unsigned)t[i].span.end, token_class(t[i].kind));
    free(t);
    arena_free(ar);
}
