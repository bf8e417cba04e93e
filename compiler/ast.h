/* ast.h — the syntax tree the parser builds: one generic node shape, kinds from an X-macro, spans on every node. */
#ifndef FLOWC_AST_H
#define FLOWC_AST_H
#include "arena.h"
#include "source.h"
#include <stdint.h>
#include <stdio.h>

/* X(kind, printed name). Field use per kind is documented beside each. */
#define AST_KINDS(X) \
    /* declarations */ \
    X(FILE, "file")               /* kids: declarations */ \
    X(INTEGRATION, "integration") /* str: name; b: version (STR) or NULL */ \
    X(PARAM, "param")             /* name; a: type; b: default or NULL */ \
    X(ENV, "env")                 /* name; kids: SETTINGs */ \
    X(TABLE, "table")             /* name; a: OBJECT literal */ \
    X(TYPEDECL, "type")           /* name; a: type */ \
    X(CONNECTION, "connection")   /* name; str: kind; kids: SETTINGs */ \
    X(FLOW, "flow")               /* name; kids: SETTINGs and steps */ \
    X(TEST, "test")               /* str: title; name: flow; kids: GIVEN / EXPECT */ \
    X(GIVEN, "given")             /* name; a: expr */ \
    X(EXPECT, "expect")           /* a: expr */ \
    X(SETTING, "setting")         /* name; a: expr */ \
    /* steps */ \
    X(EXPORT, "export")           /* name; a: type or NULL; str: connection; kids: body */ \
    X(LOOKUP, "lookup")           /* name; a: type or NULL; str: connection; kids: body */ \
    X(IMPORT, "import")           /* name; str: connection; kids: body (SETTING, MAP, RESPONSE) */ \
    X(TRANSFORM, "transform")     /* kids: ASSIGN / REMOVE */ \
    X(ASSIGN, "assign")           /* a: target path; b: value */ \
    X(REMOVE, "remove")           /* a: target path */ \
    X(FILTER, "filter")           /* a: condition */ \
    X(BRANCH, "branch")           /* name: mode or NULL; kids: ARMs */ \
    X(ARM, "arm")                 /* name; a: condition or NULL; kids: steps */ \
    X(HOOK, "hook")               /* name: hook point; a: expr */ \
    X(MAP, "map")                 /* kids: ENTRY / NESTED */ \
    X(RESPONSE, "response")       /* kids: ASSIGN */ \
    X(ENTRY, "entry")             /* name; a: type override or NULL; b: value; c: when or NULL */ \
    X(NESTED, "nested")           /* name; kids: entries; c: when or NULL */ \
    /* types */ \
    X(TY_NAME, "type-name")       /* name */ \
    X(TY_ARRAY, "type-array")     /* a: element */ \
    X(TY_RECORD, "type-record")   /* kids: TY_FIELD */ \
    X(TY_FIELD, "field")          /* name; a: type */ \
    X(TY_OPTIONAL, "type-optional") /* a: type */ \
    /* expressions */ \
    X(INT, "int")                 /* ival */ \
    X(NUM, "number")              /* num */ \
    X(STR, "string")              /* str, slen */ \
    X(BOOL, "bool")               /* ival */ \
    X(NULL, "null")               \
    X(DURATION, "duration")       /* ival: milliseconds */ \
    X(SIZE, "size")               /* ival: bytes */ \
    X(NAME, "name")               /* name */ \
    X(FIELD, "field-access")      /* a: object; name */ \
    X(INDEX, "index")             /* a: object; b: index */ \
    X(CALL, "call")               /* name: function; kids: args (exprs or NAMEDARG) */ \
    X(NAMEDARG, "named-arg")      /* name; a: value */ \
    X(UNARY, "unary")             /* op; a */ \
    X(BINARY, "binary")           /* op; a; b */ \
    X(IF, "if")                   /* a: cond; b: then; c: else */ \
    X(EACH, "each")               /* name: variable; a: list; b: where or NULL; c: value, or kids: entries */ \
    X(OBJECT, "object")           /* kids: OBJ_ENTRY */ \
    X(OBJ_ENTRY, "object-entry")  /* name; a: value */ \
    X(ARRAY, "array")             /* kids: elements */ \
    /* templates (template.c parses strings containing {{ into these) */ \
    X(TEMPLATE, "template")       /* kids: TPL_TEXT / TPL_VALUE / TPL_SECTION parts */ \
    X(TPL_TEXT, "tpl-text")       /* str, slen: literal text */ \
    X(TPL_VALUE, "tpl-value")     /* a: expr; op: 1 raw ({{{x}}} or {{& x}}), 0 escaped */ \
    X(TPL_SECTION, "tpl-section") /* name: if|unless|each|with|section|inverted; a: expr; b: TEMPLATE; c: else TEMPLATE or NULL */ \
    X(ERROR, "error")             /* a syntax error was recovered here */

typedef enum {
#define X(k, s) AST_##k,
    AST_KINDS(X)
#undef X
    AST_KIND_COUNT
} AstKind;

/* Operators of UNARY / BINARY nodes. */
#define AST_OPS(X) \
    X(OR, "or") X(AND, "and") X(NOT, "not") X(COALESCE, "??") \
    X(EQ, "==") X(NE, "!=") X(LT, "<") X(LE, "<=") X(GT, ">") X(GE, ">=") X(IN, "in") \
    X(ADD, "+") X(SUB, "-") X(MUL, "*") X(DIV, "/") X(MOD, "%") X(NEG, "-")

typedef enum {
#define X(k, s) OP_##k,
    AST_OPS(X)
#undef X
    OP_COUNT
} AstOp;

typedef struct AstNode AstNode;
typedef struct { AstNode **items; int n, cap; } AstList;

struct AstNode {
    unsigned kind : 8;         /* AstKind */
    unsigned op : 8;           /* AstOp (UNARY, BINARY); 1 = template helper (CALL) or raw (TPL_VALUE), or
                                  an INT of INT64_MIN written with its minus (-9223372036854775808) */
    unsigned name_quoted : 1;  /* the name was written as a "string" */
    unsigned depth : 15;       /* nesting depth of the subtree, to refuse pathological inputs */
    Span span;
    Span name_span;
    const char *name;          /* identifier-like payload */
    union {
        struct { const char *str; size_t slen; };   /* string payload (decoded) */
        int64_t ival;
        double num;
    };
    AstNode *a, *b, *c;
    AstList kids;
};

/* Deepest expression/type nesting accepted; deeper input gets one clean error. */
#define AST_MAX_DEPTH 256

extern const char *const ast_kind_names[AST_KIND_COUNT];
extern const char *const ast_op_names[OP_COUNT];

AstNode *ast_new(Arena *ar, AstKind k, Span sp);
AstNode *ast_node1(Arena *ar, AstKind k, Span sp, AstNode *a);
AstNode *ast_node2(Arena *ar, AstKind k, Span sp, AstNode *a, AstNode *b);
AstNode *ast_node3(Arena *ar, AstKind k, Span sp, AstNode *a, AstNode *b, AstNode *c);
AstNode *ast_named(Arena *ar, AstKind k, Span sp, const char *name, Span name_sp);
void     ast_push(Arena *ar, AstNode *list_owner, AstNode *kid);
void     ast_set_name(AstNode *n, const char *name, Span name_sp);
void     ast_dump(FILE *out, const Source *src, const AstNode *n);

#endif
