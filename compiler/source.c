/* source.c — loads a file into memory and answers "which line and column is this byte?". */
#include "source.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (64u * 1024 * 1024)   /* spans are 32-bit; refuse absurd inputs cleanly */

static Source *build(const char *name, char *text, size_t len) {
    Source *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->name = strdup(name);
    s->text = text;
    s->len = len;
    int cap = 64;
    s->lines = malloc(sizeof(uint32_t) * (size_t)cap);
    if (!s->lines || !s->name) abort();
    s->lines[s->nlines++] = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            if (s->nlines == cap) {
                cap *= 2;
                s->lines = realloc(s->lines, sizeof(uint32_t) * (size_t)cap);
                if (!s->lines) abort();
            }
            s->lines[s->nlines++] = (uint32_t)(i + 1);
        }
    }
    return s;
}

Source *src_from_buffer(const char *name, const char *data, size_t len) {
    if (len > MAX_FILE) len = MAX_FILE;
    char *text = malloc(len + 2);
    if (!text) abort();
    if (len) memcpy(text, data, len);
    text[len] = 0; text[len + 1] = 0;   /* flex wants two terminating NULs */
    return build(name, text, len);
}

Source *src_load_file(const char *path, const char **err) {
    FILE *f = fopen(path, "rb");
    if (!f) { *err = strerror(errno); return NULL; }
    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    if (!text) abort();
    for (;;) {
        if (cap - len < 4096) {
            if (cap > MAX_FILE) { free(text); fclose(f); *err = "file too large (over 64 MB)"; return NULL; }
            cap *= 2;
            text = realloc(text, cap);
            if (!text) abort();
        }
        size_t n = fread(text + len, 1, cap - len - 2, f);
        len += n;
        if (n == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(text); *err = "read error (is it a directory?)"; return NULL; }
    text[len] = 0; text[len + 1] = 0;
    return build(path, text, len);
}

void src_free(Source *s) {
    if (!s) return;
    free((void *)s->name);
    free(s->text);
    free(s->lines);
    free(s);
}

void src_line_col(const Source *s, uint32_t off, int *line, int *col) {
    int lo = 0, hi = s->nlines - 1;
    while (lo < hi) {                 /* last line start <= off */
        int mid = (lo + hi + 1) / 2;
        if (s->lines[mid] <= off) lo = mid; else hi = mid - 1;
    }
    *line = lo + 1;
    *col = (int)(off - s->lines[lo]) + 1;
}

const char *src_line_text(const Source *s, int line, size_t *len) {
    if (line < 1 || line > s->nlines) { *len = 0; return ""; }
    uint32_t start = s->lines[line - 1];
    uint32_t end = line < s->nlines ? s->lines[line] - 1 : (uint32_t)s->len;
    if (end > start && s->text[end - 1] == '\r') end--;
    *len = end - start;
    return s->text + start;
}
