/* source.h — a loaded source file: its name, its bytes and a line table; spans map to line:col here. */
#ifndef FLOWC_SOURCE_H
#define FLOWC_SOURCE_H
#include <stddef.h>
#include <stdint.h>

/* A byte range [start, end) in one source file. Every token, AST node and IR node carries one. */
typedef struct { uint32_t start, end; } Span;

typedef struct Source {
    const char *name;
    char *text;          /* owned; NUL-terminated copy (the file may itself contain NULs) */
    size_t len;
    uint32_t *lines;     /* byte offset of each line start */
    int nlines;
} Source;

/* Reads a file ("-": standard input, named <stdin>); returns NULL and sets *err (static text) when
 * it cannot be read, is a directory, or holds more than 64 MB (never more is read). */
Source *src_load_file(const char *path, const char **err);
Source *src_from_buffer(const char *name, const char *data, size_t len);
void    src_free(Source *s);
/* 1-based line and 1-based byte column of an offset. */
void    src_line_col(const Source *s, uint32_t off, int *line, int *col);
/* The text of a 1-based line, without its newline. */
const char *src_line_text(const Source *s, int line, size_t *len);

/* Writes text to path atomically (fmt, automap --write, clone -o, graph -o): a temporary file beside
 * it, synced, renamed over it (through a symbolic link, its target); a file replaced keeps its mode, a
 * new one gets 0666 less the umask. 0, or -1 with *why (static text). */
int src_write_atomic(const char *path, const char *text, size_t len, const char **why);

#endif
