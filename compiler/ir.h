/* ir.h — the IR: a resolved, desugared program. Names point at their declarations, templates are
 * expression trees, and the checker writes a type on every expression and the record type on every step. */
#ifndef FLOWC_IR_H
#define FLOWC_IR_H
#include "arena.h"
#include "ast.h"
#include "source.h"
#include "types.h"
#include <stdint.h>
#include <stdio.h>

typedef struct IrExpr IrExpr;
typedef struct IrStep IrStep;
typedef struct IrMap IrMap;
typedef struct IrFlow IrFlow;
typedef struct IrConn IrConn;
typedef struct IrParam IrParam;
typedef struct IrTable IrTable;
typedef struct IrVar IrVar;
typedef struct Builtin Builtin;

#define IR_EXPR_KINDS(X) \
    X(NULL, "null") X(BOOL, "bool") X(INT, "int") X(NUM, "number") X(STR, "string") \
    X(DURATION, "duration") X(SIZE, "size") \
    X(TEMPLATE, "template")     /* kids: parts (STR, TPL_VALUE, TPL_SECTION) */ \
    X(TPL_VALUE, "tpl-value")   /* a: value; op: 1 raw */ \
    X(TPL_SECTION, "tpl-section") /* name: if|unless|each|with|section|inverted; a: subject; var: this; b, c: TEMPLATE */ \
    X(TPL_NAME, "tpl-name")     /* name: a bare name in a template, looked up Mustache's way in kids: the contexts \
                                 * (section values innermost first, then the root); the first that has it wins */ \
    X(RECORD, "record")         /* the current record */ \
    X(LOOKUP, "lookup")         /* step: the lookup whose result this is */ \
    X(PARAM, "param")           /* param */ \
    X(ENV, "env")               /* name: variable (a secret) */ \
    X(CONTEXT, "context")       /* op: IrContext */ \
    X(RESPONSE, "response")     /* the HTTP response (stop conditions, response mapping) */ \
    X(EXISTING, "existing")     /* the existing record (upsert update) */ \
    X(MAPCTX, "map-context")    /* op: 0 creating, 1 updating */ \
    X(VAR, "var")               /* var: an each/template variable */ \
    X(TABLE, "table")           /* table (only as the object of an INDEX) */ \
    X(WORD, "word")             /* name: a bare word (POST, ndjson, a field in delta(field)) */ \
    X(FIELD, "field")           /* a.name */ \
    X(INDEX, "index")           /* a[b] (array element, or a static table entry when a is TABLE) */ \
    X(CALL, "call")             /* fn; kids: arguments in parameter order (NULL = omitted) */ \
    X(UNARY, "unary")           /* op: AstOp */ \
    X(BINARY, "binary")         /* op: AstOp; a, b */ \
    X(IF, "if")                 /* a ? b : c */ \
    X(EACH, "each")             /* var; a: list; b: where; c: value, or map: object body */ \
    X(OBJECT, "object")         /* keys[i]: kids[i] */ \
    X(ARRAY, "array")           /* kids */ \
    X(ERROR, "error")           /* already reported */

typedef enum {
#define X(k, s) IR_##k,
    IR_EXPR_KINDS(X)
#undef X
    IR_EXPR_KIND_COUNT
} IrExprKind;

/* Names readable in expressions besides record and lookups: X(id, root, field) */
#define IR_CONTEXTS(X) \
    X(DELTA_SINCE, "delta", "since") X(DELTA_UNTIL, "delta", "until") \
    X(PAGE_NUMBER, "page", "number") X(PAGE_SIZE, "page", "size") \
    X(RUN_ID, "run", "id") X(RUN_STARTED_AT, "run", "started_at") X(RUN_DATE, "run", "date") \
    X(FLOW_NAME, "flow", "name")

typedef enum {
#define X(id, root, field) CTX_##id,
    IR_CONTEXTS(X)
#undef X
    CTX_COUNT
} IrContext;

struct IrVar { const char *name; Span span; Type *type; int used; };

struct IrExpr {
    unsigned kind : 8;         /* IrExprKind */
    unsigned op : 8;           /* AstOp, IrContext, raw flag, map-context flag */
    unsigned helper : 1;       /* CALL/BINARY came from a template helper */
    Span span;
    Type *type;                /* set by the checker */
    const char *name;
    union {
        struct { const char *str; size_t slen; };
        int64_t ival;
        double num;
    };
    IrExpr *a, *b, *c;
    IrExpr **kids; int nkids;
    const char **keys;         /* OBJECT keys */
    union {
        IrStep *step;          /* LOOKUP */
        IrParam *param;        /* PARAM */
        IrTable *table;        /* TABLE */
        const Builtin *fn;     /* CALL */
    };
    IrVar *var;                /* VAR, EACH, TPL_SECTION(each/with) */
    IrMap *map;                /* EACH with an object body */
};

typedef struct IrMapEntry {
    const char *name; Span span, name_span;
    Type *override;            /* `name: T = ...` */
    Span override_span;
    IrExpr *value;             /* NULL for a nested object */
    IrMap *nested;
    IrExpr *when;
} IrMapEntry;

struct IrMap { Span span; IrMapEntry *entries; int n; };

typedef struct IrSetting {
    const char *name; Span name_span, span;
    IrExpr *value;
    int def;                   /* index into the connector settings table, -1 if unknown */
} IrSetting;

typedef struct IrAssign {
    Span span;
    int remove;
    IrExpr *target;            /* a path: record.a.b */
    IrExpr *value;             /* NULL for remove */
} IrAssign;

#define IR_HOOK_POINTS(X) X(pre_save_page) X(pre_map) X(post_map) X(post_submit) X(post_response_map)
typedef enum {
#define X(n) HOOK_##n,
    IR_HOOK_POINTS(X)
#undef X
    HOOK_COUNT
} IrHookPoint;

typedef struct IrHook { int point; Span span, name_span; IrExpr *value; } IrHook;

#define IR_STEP_KINDS(X) X(EXPORT, "export") X(LOOKUP, "lookup") X(TRANSFORM, "transform") \
    X(FILTER, "filter") X(BRANCH, "branch") X(IMPORT, "import")
typedef enum {
#define X(k, s) STEP_##k,
    IR_STEP_KINDS(X)
#undef X
} IrStepKind;

typedef struct IrArm { const char *name; Span span, name_span; IrExpr *cond; IrStep **steps; int nsteps; } IrArm;

struct IrStep {
    IrStepKind kind;
    Span span, name_span;
    const char *name;          /* export, lookup, import: its name */
    int id;                    /* unique within the flow, in source order */
    IrConn *conn;
    Span conn_span;
    Type *declared;            /* export / lookup `: T`; NULL = json */
    Span declared_span;
    IrSetting *settings; int nsettings;
    IrAssign *assigns; int nassigns;   /* transform */
    IrExpr *cond;                      /* filter */
    int all_matching;                  /* branch */
    IrArm *arms; int narms;
    IrMap *map;                        /* import */
    IrAssign *response; int nresponse; /* import response mapping */
    IrHook *hooks; int nhooks;         /* import hooks */
    Type *in, *out;                    /* record type entering / leaving (checker) */
    Type *result;                      /* lookup: the bound value's type (checker) */
    int used;
};

struct IrFlow {
    const char *name; Span span, name_span;
    IrSetting *settings; int nsettings;
    IrStep **steps; int nsteps;        /* top level, in order; steps[0] is the export when present */
    IrStep **all; int nall;            /* every step, nested ones included, in source order */
    IrHook *hooks; int nhooks;
};

struct IrConn { const char *name; Span span, name_span; int kind; Span kind_span; IrSetting *settings; int nsettings; int used; };
struct IrParam { const char *name; Span span, name_span; Type *type; IrExpr *def; int used; };
struct IrTable { const char *name; Span span, name_span; IrExpr *value; Type *elem; int used; };
typedef struct IrTypeDecl { const char *name; Span span, name_span; Type *type; } IrTypeDecl;
typedef struct IrEnv { const char *name; Span span, name_span; IrSetting *settings; int nsettings; } IrEnv;
typedef struct IrGiven {
    const char *name; Span span, name_span;
    IrStep *step;              /* the export or lookup it mocks; NULL for `given existing` */
    int existing;              /* `given existing = {...}`: the destination's record every upsert finds */
    IrExpr *value;
} IrGiven;
typedef struct IrTest {
    const char *title; Span span;
    IrFlow *flow; Span flow_span;
    IrGiven *givens; int ngivens;
    IrExpr **expects; int nexpects;
} IrTest;

typedef struct IrProgram {
    const Source *src;
    const char *name, *version;
    Span name_span;
    const char *environment;   /* the env block applied at build (--env NAME; describe names it), or NULL */
    IrParam **params; int nparams;
    IrEnv **envs; int nenvs;
    IrTable **tables; int ntables;
    IrTypeDecl **types; int ntypes;
    IrConn **conns; int nconns;
    IrFlow **flows; int nflows;
    IrTest **tests; int ntests;
} IrProgram;

extern const char *const ir_expr_kind_names[];
extern const char *const ir_step_kind_names[];
extern const char *const ir_hook_names[];
extern const char *const ir_context_roots[], *const ir_context_fields[];

IrExpr *ir_expr(Arena *a, IrExprKind k, Span sp);
/* The flow of that name, or NULL. */
IrFlow *ir_flow_named(const IrProgram *p, const char *name);
/* Prints the program; with types when the checker has run. Golden tests diff this. */
void ir_dump(FILE *out, const IrProgram *p);
/* Calls fn on every expression in x (maps of each-bodies included); stops when fn returns 1. */
int ir_any_expr(const IrExpr *x, int (*fn)(const IrExpr *, void *), void *ud);

#endif
