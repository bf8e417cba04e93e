/* diag.c — collects diagnostics and renders them: `file:line:col: error: msg`, the line, a ^~~~ underline; or JSON. */
#include "diag.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(Diags *d) {
    memset(d, 0, sizeof *d);
    d->limit = DIAG_DEFAULT_LIMIT;
}

void diag_free(Diags *d) {
    for (int i = 0; i < d->n; i++) { free(d->items[i].msg); free(d->items[i].fix); }
    free(d->items);
    memset(d, 0, sizeof *d);
}

static void add(Diags *d, DiagSeverity sev, const Source *src, Span sp, const char *fmt, va_list ap) {
    if (d->overflowed) return;
    if (sev == DIAG_ERROR && d->errors >= d->limit) {
        d->overflowed = 1;
        sev = DIAG_ERROR;
        fmt = NULL;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->items = realloc(d->items, sizeof(Diag) * (size_t)d->cap);
        if (!d->items) abort();
    }
    char *msg;
    if (fmt) {
        va_list ap2;
        va_copy(ap2, ap);
        int len = vsnprintf(NULL, 0, fmt, ap);
        msg = malloc((size_t)len + 1);
        if (!msg) abort();
        vsnprintf(msg, (size_t)len + 1, fmt, ap2);
        va_end(ap2);
    } else {
        msg = strdup("too many errors; stopping here");
        if (!msg) abort();
    }
    if (src && sp.end > src->len) sp.end = (uint32_t)src->len;
    if (src && sp.start > sp.end) sp.start = sp.end;
    d->items[d->n++] = (Diag){ .sev = sev, .src = src, .span = sp, .msg = msg };
    if (sev == DIAG_ERROR) d->errors++; else d->warnings++;
}

void diag_error(Diags *d, const Source *src, Span sp, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt); add(d, DIAG_ERROR, src, sp, fmt, ap); va_end(ap);
}

void diag_warning(Diags *d, const Source *src, Span sp, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt); add(d, DIAG_WARNING, src, sp, fmt, ap); va_end(ap);
}

void diag_fix(Diags *d, Span sp, const char *wrong, const char *best) {
    if (d->n == 0 || d->overflowed || !wrong || !best || !*wrong) return;
    Diag *g = &d->items[d->n - 1];
    const Source *src = g->src;
    if (!src || sp.end > src->len || sp.start > sp.end || g->fix) return;
    size_t wl = strlen(wrong);
    for (uint32_t at = sp.end; at >= sp.start + wl && at >= wl; at--) {
        if (memcmp(src->text + at - wl, wrong, wl) == 0) {
            g->fix = strdup(best);
            if (!g->fix) abort();
            g->fix_span = (Span){ at - (uint32_t)wl, at };
            return;
        }
    }
}

void diag_move(Diags *dst, Diags *src) {
    for (int i = 0; i < src->n; i++) {
        if (dst->n == dst->cap) {
            dst->cap = dst->cap ? dst->cap * 2 : 16;
            dst->items = realloc(dst->items, sizeof(Diag) * (size_t)dst->cap);
            if (!dst->items) abort();
        }
        dst->items[dst->n++] = src->items[i];
    }
    dst->errors += src->errors;
    dst->warnings += src->warnings;
    free(src->items);
    int limit = src->limit;
    memset(src, 0, sizeof *src);
    src->limit = limit;
}

int diag_full(const Diags *d) { return d->overflowed; }

static int cmp(const void *pa, const void *pb) {
    const Diag *a = pa, *b = pb;
    if (a->src != b->src) {
        int c = strcmp(a->src ? a->src->name : "", b->src ? b->src->name : "");
        if (c) return c;
    }
    if (a->span.start != b->span.start) return a->span.start < b->span.start ? -1 : 1;
    return a < b ? -1 : a > b;   /* stable: keep report order */
}

void diag_sort(Diags *d) {
    /* the "too many errors" entry stays last */
    int n = d->overflowed ? d->n - 1 : d->n;
    if (n > 1) qsort(d->items, (size_t)n, sizeof(Diag), cmp);
}

/* One displayed byte of the echoed source line: control bytes become '?' so the terminal stays sane. */
static int shown(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f ? '?' : c; }

#define WINDOW 120   /* long lines are shown as a window around the span */

static void print_excerpt(FILE *out, const Diag *g, int color) {
    int line, col;
    src_line_col(g->src, g->span.start, &line, &col);
    size_t len;
    const char *text = src_line_text(g->src, line, &len);
    size_t from = 0, to = len, c0 = (size_t)col - 1;
    size_t span_len = g->span.end > g->span.start ? g->span.end - g->span.start : 1;
    if (c0 > len) c0 = len;
    if (c0 + span_len > len) span_len = len > c0 ? len - c0 : 1;
    if (len > 2 * WINDOW) {
        from = c0 > WINDOW ? c0 - WINDOW : 0;
        to = c0 + span_len + WINDOW < len ? c0 + span_len + WINDOW : len;
        if (span_len > WINDOW) { span_len = WINDOW; to = c0 + span_len; }
    }
    fputs(from ? "..." : "", out);
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)text[i];
        int k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        int ok = k > 1 && i + (size_t)k <= to;
        for (int j = 1; ok && j < k; j++) ok = ((unsigned char)text[i + (size_t)j] & 0xC0) == 0x80;
        if (ok) { fwrite(text + i, 1, (size_t)k, out); i += (size_t)k - 1; }
        else fputc(k == 1 ? shown(c) : '?', out);     /* invalid UTF-8 shows as ? (one column each) */
    }
    fputs(to < len ? "...\n" : "\n", out);
    if (from) fputs("   ", out);
    for (size_t i = from; i < c0; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c & 0xC0) == 0x80 && i > from && (unsigned char)text[i - 1] >= 0x80) continue;  /* continuation */
        fputc(c == '\t' ? '\t' : ' ', out);
    }
    if (color) fputs("\033[1;32m", out);
    fputc('^', out);
    for (size_t i = 1; i < span_len; i++) {
        unsigned char c = (unsigned char)text[c0 + i];
        if ((c & 0xC0) == 0x80) continue;
        fputc('~', out);
    }
    if (color) fputs("\033[0m", out);
    fputc('\n', out);
}

void diag_print_text(const Diags *d, FILE *out, int color) {
    for (int i = 0; i < d->n; i++) {
        const Diag *g = &d->items[i];
        const char *sev = g->sev == DIAG_ERROR ? "error" : "warning";
        const char *on = !color ? "" : g->sev == DIAG_ERROR ? "\033[1;31m" : "\033[1;35m";
        const char *off = color ? "\033[0m" : "";
        if (g->src) {
            int line, col;
            src_line_col(g->src, g->span.start, &line, &col);
            fprintf(out, "%s%s:%d:%d:%s %s%s:%s %s\n", color ? "\033[1m" : "", g->src->name, line, col,
                    off, on, sev, off, g->msg);
            print_excerpt(out, g, color);
        } else {
            fprintf(out, "flowc: %s%s:%s %s\n", on, sev, off, g->msg);
        }
    }
}

void diag_json_string(FILE *out, const char *s, size_t len) {
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (c < 0x20 || c == 0x7f) fprintf(out, "\\u%04x", c);
            else if (c >= 0x80) {
                /* pass valid UTF-8 through; replace anything else with U+FFFD */
                int n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
                int ok = n && i + (size_t)n <= len;
                for (int k = 1; ok && k < n; k++) ok = ((unsigned char)s[i + (size_t)k] & 0xC0) == 0x80;
                if (ok) { fwrite(s + i, 1, (size_t)n, out); i += (size_t)n - 1; }
                else fputs("\\ufffd", out);
            } else fputc(c, out);
        }
    }
    fputc('"', out);
}

void diag_print_json(const Diags *d, FILE *out) {
    fputs("[", out);
    for (int i = 0; i < d->n; i++) {
        const Diag *g = &d->items[i];
        fputs(i ? ",\n " : "\n ", out);
        fputs("{\"severity\":", out);
        fputs(g->sev == DIAG_ERROR ? "\"error\"" : "\"warning\"", out);
        if (g->src) {
            int line, col, eline, ecol;
            src_line_col(g->src, g->span.start, &line, &col);
            src_line_col(g->src, g->span.end, &eline, &ecol);
            fputs(",\"file\":", out);
            diag_json_string(out, g->src->name, strlen(g->src->name));
            fprintf(out, ",\"line\":%d,\"column\":%d,\"end_line\":%d,\"end_column\":%d,\"offset\":%u,\"length\":%u",
                    line, col, eline, ecol, g->span.start, g->span.end - g->span.start);
        }
        fputs(",\"message\":", out);
        diag_json_string(out, g->msg, strlen(g->msg));
        fputs("}", out);
    }
    fputs(d->n ? "\n]\n" : "]\n", out);
}
