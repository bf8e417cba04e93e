/* diag.h — diagnostics as data: stages append to a list and keep going; the CLI prints and decides exit codes. */
#ifndef FLOWC_DIAG_H
#define FLOWC_DIAG_H
#include "source.h"
#include <stdio.h>

typedef enum { DIAG_ERROR, DIAG_WARNING } DiagSeverity;

typedef struct Diag {
    DiagSeverity sev;
    const Source *src;
    Span span;
    char *msg;            /* owned */
    char *fix;            /* owned, or NULL: the text a "did you mean" suggests in place of fix_span */
    Span fix_span;
} Diag;

typedef struct Diags {
    Diag *items;
    int n, cap;
    int errors, warnings;
    int limit;            /* stop recording after this many errors */
    int overflowed;       /* 1 once the limit was hit */
} Diags;

#define DIAG_DEFAULT_LIMIT 1000

void diag_init(Diags *d);
void diag_free(Diags *d);
void diag_error(Diags *d, const Source *src, Span sp, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_warning(Diags *d, const Source *src, Span sp, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Attaches a suggested fix to the diagnostic just added: `best` in place of the last occurrence of
 * `wrong` inside sp (nothing when sp's text does not hold it). The language server offers it as a
 * quick fix; the text and JSON forms do not show it (the message says it already). */
void diag_fix(Diags *d, Span sp, const char *wrong, const char *best);
/* True once so many errors were reported that later stages should not run. */
int  diag_full(const Diags *d);
/* Sorts by file then position (stable), so output follows the source. */
void diag_sort(Diags *d);
/* Appends every diagnostic of src to dst and empties src. */
void diag_move(Diags *dst, Diags *src);
void diag_print_text(const Diags *d, FILE *out, int color);
void diag_print_json(const Diags *d, FILE *out);
/* Writes s as a JSON string literal (quotes included). */
void diag_json_string(FILE *out, const char *s, size_t len);

#endif
