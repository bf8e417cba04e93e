/* merge.h — three-way merge of an integration by resource: what one side changed and the other did
 * not is taken; an item both changed differently is a conflict, marked around that item only. */
#ifndef FLOWC_MERGE_H
#define FLOWC_MERGE_H
#include "resource.h"
#include <stddef.h>

typedef struct MergeConflict {
    char *address;
    char *why;                 /* "changed on both sides", "removed in ours, changed in theirs", ... */
} MergeConflict;

typedef struct MergeResult {
    char *text; size_t len;    /* ours, with theirs' changes spliced in (malloc'd); untouched items keep their bytes */
    MergeConflict *conflicts; int nconflicts;
} MergeResult;

/* Merges; the labels name the sides in conflict markers (NULL: "ours", "theirs"). */
void merge_models(const ResModel *base, const ResModel *ours, const ResModel *theirs,
                  const char *ours_label, const char *theirs_label, MergeResult *out);
void merge_free(MergeResult *r);
/* The same on three texts (install's update: the installed version, the local file, the new
 * version), each checked first; names[i] name them in diagnostics. 0 with *out filled (its result
 * not checked yet), or -1 when one of them does not check clean (its diagnostics printed on stderr). */
int merge_texts(const char *const names[3], const char *const texts[3], const size_t lens[3],
                const char *ours_label, const char *theirs_label, MergeResult *out);

#endif
