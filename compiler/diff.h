/* diff.h — the semantic diff of two resource models: what was added, removed, changed or renamed,
 * by stable address, with the operational notes a reviewer needs; text and JSON printing. */
#ifndef FLOWC_DIFF_H
#define FLOWC_DIFF_H
#include "resource.h"
#include <stdio.h>

#define DIFF_ACTIONS(X) X(ADDED, "added") X(REMOVED, "removed") X(CHANGED, "changed") X(RENAMED, "renamed")
typedef enum {
#define X(k, s) DIFF_##k,
    DIFF_ACTIONS(X)
#undef X
} DiffAction;

#define DIFF_MAX_NOTES 8
typedef struct DiffChange {
    DiffAction action;
    char *address;             /* the new address (the old one for a removal) */
    char *before, *after;      /* source text (secrets masked), NULL when absent; a rename: the names */
    char *notes[DIFF_MAX_NOTES];
    int nnotes;
} DiffChange;

typedef struct DiffResult { DiffChange *items; int n, cap; } DiffResult;

/* Compares two models (either may be empty: no resources). Appends to out. */
void diff_models(const ResModel *old, const ResModel *new_, DiffResult *out);
/* The params' values in environments a and b of one model (a param's default where an environment
 * does not set it). Returns 0, or -1 when an environment is missing (its name in *missing). */
int  diff_envs(const ResModel *m, const char *a, const char *b, DiffResult *out, const char **missing);
void diff_print_text(const DiffResult *d, FILE *out);
void diff_print_json(const DiffResult *d, FILE *out);
void diff_free(DiffResult *d);

#endif
