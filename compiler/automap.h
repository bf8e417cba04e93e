/* automap.h — mapping suggestions for an import (flowc automap, and the language server's code action
 * on an import's `map`): the destination's fields the import does not map yet, matched to the record
 * type entering it by normalised name, synonyms, nested paths and type (with a conversion where one is
 * needed). No printing, no exit: the CLI (automap_cmd.c) and the language server present the result. */
#ifndef FLOWC_AUTOMAP_H
#define FLOWC_AUTOMAP_H
#include "ir.h"
#include <stddef.h>

/* Suggestions at or above this confidence are "confident": `--write` and the code action insert them. */
#define AM_CONFIDENT 0.8
/* Below this, a candidate is not suggested at all. */
#define AM_FLOOR 0.5

/* Where the destination's fields come from. */
typedef enum { AM_DEST_SQLITE, AM_DEST_POSTGRES, AM_DEST_TYPE, AM_DEST_SAMPLE } AmDestKind;

typedef struct AmSuggestion {
    char *target;          /* the destination field: `email`, or a nested path `merge_fields.FNAME` */
    char *value;           /* the map entry's value: `record.customer.email`, `to_number(record.total) when has(record.total)` */
    char *source;          /* the source path: `customer.email` */
    char *dest_type;       /* the destination field's type as the schema says it (`TEXT`, `integer`, `string`) */
    char *conversion;      /* the built-in applied (`to_number`, `format_date`, ...) or NULL */
    double confidence;     /* 0..1 */
    char *reason;          /* why, naming the runner-up when the choice was close */
    char *runner_up;       /* the runner-up's source path, or NULL */
    double runner_up_confidence;
    int confident;         /* confidence >= AM_CONFIDENT */
} AmSuggestion;

typedef struct AmDestField {
    char *path;            /* `email`, `merge_fields.FNAME` */
    char *type;            /* as the schema says it */
    int mapped;            /* the import maps it already */
    int suggested;         /* a suggestion targets it */
    char *note;            /* why nothing is suggested (`no source field matches`) or NULL */
} AmDestField;

/* A text edit on the original source: replace [offset, offset + length) with text. */
typedef struct AmEdit { size_t offset, length; char *text; } AmEdit;

typedef struct AmOptions {
    const char *sample;    /* a JSON sample of the destination's records (an object or an array of objects), or NULL */
    const char *sample_text; size_t sample_len;   /* the same given as text (an editor's buffer); `sample` then names it */
    const char *type_name; /* a declared type naming the destination's fields, or NULL */
    const char *dir;       /* relative sqlite paths are read from here (NULL: the current directory) */
} AmOptions;

typedef struct AmResult {
    AmDestKind dest_kind;
    char *dest;            /* the destination as said to a user: `sqlite table "contacts" in out/crm.db` */
    AmDestField *fields; int nfields;
    AmSuggestion *items; int n;   /* in the destination's field order */
    int nconfident;
    AmEdit edit;           /* inserts the confident suggestions, the file then formatted as fmt does;
                            * edit.text NULL when there is nothing to insert */
    char *text;            /* the whole formatted file after the edit (NULL with edit.text) */
    char *error;           /* set when no suggestion could be made: why (the schema, the source) */
} AmResult;

/* The suggestions for import `imp` of flow `f` of the checked program p (its source is p->src). On a
 * failure returns -1 with r->error set; else 0. Free r with am_result_free either way. */
int am_suggest(const IrProgram *p, const IrFlow *f, const IrStep *imp, const AmOptions *o, AmResult *r);
void am_result_free(AmResult *r);

/* The import whose text holds offset (its map, its settings, its name), and its flow; NULL when none. */
const IrStep *am_import_at(const IrProgram *p, size_t offset, const IrFlow **flow);
/* The flow named `name` / import named `name` of flow f; NULL when there is none. */
const IrStep *am_import(const IrFlow *f, const char *name);

#endif
