/* ast.c — AST constructors (the parser builds nodes only through these) and the printable dump. */
#include "ast.h"
#include "diag.h"
#include <string.h>

const char *const ast_kind_names[AST_KIND_COUNT] = {
#define X(k, s) s,
    AST_KINDS(X)
#undef X
};

const char *const ast_op_names[OP_COUNT] = {
#define X(k, s) s,
    AST_OPS(X)
#undef X
};

static void deepen(AstNode *n, const AstNode *kid) {
    if (kid && kid->depth + 1 > n->depth) n->depth = kid->depth + 1;
}

AstNode *ast_new(Arena *ar, AstKind k, Span sp) {
    AstNode *n = arena_alloc(ar, sizeof *n);
    n->kind = k;
    n->span = sp;
    n->depth = 1;
    return n;
}

AstNode *ast_node1(Arena *ar, AstKind k, Span sp, AstNode *a) { return ast_node3(ar, k, sp, a, NULL, NULL); }
AstNode *ast_node2(Arena *ar, AstKind k, Span sp, AstNode *a, AstNode *b) { return ast_node3(ar, k, sp, a, b, NULL); }

AstNode *ast_node3(Arena *ar, AstKind k, Span sp, AstNode *a, AstNode *b, AstNode *c) {
    AstNode *n = ast_new(ar, k, sp);
    n->a = a; n->b = b; n->c = c;
    deepen(n, a); deepen(n, b); deepen(n, c);
    return n;
}

AstNode *ast_named(Arena *ar, AstKind k, Span sp, const char *name, Span name_sp) {
    AstNode *n = ast_new(ar, k, sp);
    n->name = name;
    n->name_span = name_sp;
    return n;
}

void ast_set_name(AstNode *n, const char *name, Span name_sp) {
    n->name = name;
    n->name_span = name_sp;
}

void ast_push(Arena *ar, AstNode *owner, AstNode *kid) {
    AstList *l = &owner->kids;
    if (!kid) return;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        AstNode **items = arena_alloc(ar, sizeof(AstNode *) * (size_t)cap);
        if (l->n) memcpy(items, l->items, sizeof(AstNode *) * (size_t)l->n);
        l->items = items; l->cap = cap;
    }
    l->items[l->n++] = kid;
    deepen(owner, kid);
}

/* ---- dump: one node per line, indented, with line:col of its span ---- */

static void dump(FILE *out, const Source *src, const AstNode *n, int indent, const char *role) {
    for (int i = 0; i < indent; i++) fputs("  ", out);
    if (role) fprintf(out, "%s: ", role);
    if (!n) { fputs("-\n", out); return; }
    int l, c;
    src_line_col(src, n->span.start, &l, &c);
    fprintf(out, "%s @%d:%d", ast_kind_names[n->kind], l, c);
    if (n->name) {
        fputc(' ', out);
        if (n->name_quoted) diag_json_string(out, n->name, strlen(n->name));
        else fputs(n->name, out);
    }
    switch (n->kind) {
    case AST_INT: case AST_DURATION: case AST_SIZE: fprintf(out, " %lld", (long long)n->ival); break;
    case AST_BOOL: fputs(n->ival ? " true" : " false", out); break;
    case AST_NUM: fprintf(out, " %.17g", n->num); break;
    case AST_UNARY: case AST_BINARY: fprintf(out, " %s", ast_op_names[n->op]); break;
    default: break;
    }
    switch (n->kind) {   /* kinds whose payload is the string member of the union */
    case AST_STR: case AST_INTEGRATION: case AST_TEST: case AST_CONNECTION: case AST_EXPORT: case AST_LOOKUP:
    case AST_IMPORT: case AST_TPL_TEXT:
        if (n->str) { fputc(' ', out); diag_json_string(out, n->str, n->slen); }
        break;
    default: break;
    }
    fputc('\n', out);
    if (n->a) dump(out, src, n->a, indent + 1, "a");
    if (n->b) dump(out, src, n->b, indent + 1, "b");
    if (n->c) dump(out, src, n->c, indent + 1, "c");
    for (int i = 0; i < n->kids.n; i++) dump(out, src, n->kids.items[i], indent + 1, NULL);
}

void ast_dump(FILE *out, const Source *src, const AstNode *n) { dump(out, src, n, 0, NULL); }
