/* resource.h — an integration as a list of addressed resources: every declaration, setting, step,
 * map entry and type field with its stable address, its source span and canonical hashes taken from
 * the syntax tree (so reformatting and comments change nothing). diff.c, merge.c and the coming
 * control plane read this one model. */
#ifndef FLOWC_RESOURCE_H
#define FLOWC_RESOURCE_H
#include "arena.h"
#include "ast.h"
#include "source.h"
#include "types.h"
#include <stdint.h>
#include <stdio.h>

struct IrProgram;
struct IrSetting;

#define RES_KINDS(X) \
    X(INTEGRATION, "integration") X(PARAM, "param") X(ENV, "environment") X(TABLE, "table") \
    X(TYPE, "type") X(FIELD, "field") X(CONNECTION, "connection") X(FLOW, "flow") X(TEST, "test") \
    X(SETTING, "setting") X(HOOK, "hook") X(STEP, "step") X(ARM, "arm") X(MAP, "map") \
    X(ENTRY, "map entry") X(RESPONSE, "response")

typedef enum {
#define X(k, s) RES_##k,
    RES_KINDS(X)
#undef X
} ResKind;

extern const char *const res_kind_names[];

/* Two 64-bit hashes of a canonical text: equal texts give equal hashes; different ones collide with
 * negligible probability. */
typedef struct { uint64_t a, b; } ResHash;

typedef struct Resource {
    ResKind kind;
    const char *address;       /* "flow orders › import deals › map › amount" (unique in the file) */
    const char *label;         /* its own part of the address: "import deals", "amount" */
    const char *name;          /* its name ("deals", "amount"), NULL when unnamed (transform, filter, ...) */
    const AstNode *node;
    int parent;                /* index of the enclosing resource; -1 at top level */
    int *kids; int nkids;      /* enclosed resources, in source order */
    int step;                  /* a step of a flow or arm: its order among the steps matters */
    int secret;                /* a secret setting (connectors.def SECRET, env(), a secret param) */
    Span span;                 /* the item's source bytes */
    ResHash own;               /* the item without its enclosed resources, its name included */
    ResHash body;              /* the whole item (enclosed resources included) without its own name */
    ResHash canon;             /* the whole item */
    ResHash inner;             /* its enclosed resources only */
    const Type *type;          /* type field, param, typed map entry: its checked type (or NULL) */
} Resource;

/* a growable byte buffer, NUL-terminated (s is malloc'd; NULL until something is put) */
typedef struct { char *s; size_t n, cap; } ResBuf;
void res_buf_put(ResBuf *b, const char *p, size_t n);

/* a set of syntax-tree nodes (those that are resources) */
typedef struct { const AstNode **slot; size_t cap, n; } NodeSet;

typedef struct ResModel {
    const Source *src;
    const struct IrProgram *ir;
    Resource *items; int n;    /* in source order (pre-order: a resource before those it encloses) */
    int *top; int ntop;        /* the top-level resources */
    int *hash; int hcap;       /* address index */
    NodeSet nodes;             /* the nodes that are resources (left out of their parent's own form) */
} ResModel;

/* Builds the model of a checked file (ast: the FILE node; ir may be NULL). Everything lives in ar. */
ResModel *res_build(Arena *ar, const Source *src, const AstNode *file, const struct IrProgram *ir);
/* Whether a change of its name alone is a rename (flows, steps, connections, types, tables, environments,
 * arms, params); settings, fields, map entries and tests are what their name says. */
int res_renamable(const Resource *r);
/* The index of the resource with this address, or -1. */
int res_find(const ResModel *m, const char *address);
/* Whether the steps that item xi of x and item yi of y both hold (a flow's or an arm's) are in another
 * order. */
int res_reordered(const ResModel *x, int xi, const ResModel *y, int yi);
/* The indices of r's enclosed resources that are steps, in order (count in *n). */
int res_steps(const ResModel *m, const Resource *r, int *out, int cap);

/* The item's own text when only that changed: from its start to its first enclosed resource, without
 * the opening brace (`big when record.total > 1000`, `import deals into crm`); NULL when it encloses
 * none. malloc'd. */
char *res_header(const ResModel *m, const Resource *r);

/* The canonical form of the item without its enclosed resources, as text (the form its `own` hash
 * reads): `(setting schedule (call cron (string \"0 * * * *\")))`. malloc'd. */
char *res_canon_text(const ResModel *m, const Resource *r);

/* `flowc dump resources`: per resource, `ADDRESS<TAB>KIND[ secret]<TAB>L:C-L:C<TAB>CANONICAL OWN FORM`. */
void res_dump(FILE *out, const ResModel *m);

/* The canonical hash of any subtree (an expression, a type). */
ResHash res_hash(const AstNode *n);

/* The item's source text with secrets masked (string literals of a secret setting, the arguments of
 * basic/bearer/api_key/token/hmac, a URL's password) and continuation lines dedented by the first
 * line's column. malloc'd. */
char *res_text(const ResModel *m, const Resource *r);

/* Source lines: [start, end) grown to whole lines when the item stands alone on its lines (with the
 * comment lines directly above it); *whole tells which. */
Span res_line_span(const Source *src, Span sp, int *whole);

#endif
