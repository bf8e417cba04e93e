/* source.c — loads a file into memory and answers "which line and column is this byte?"; writes one
 * back atomically. */
#define _DEFAULT_SOURCE 1   /* realpath */
#include "source.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (64u * 1024 * 1024)   /* sources over 64 MB are refused, however they are read (spans are 32-bit) */

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
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) { *err = strerror(errno); return NULL; }
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {   /* a file's size is known before reading it; a pipe's is not */
        const char *why = S_ISDIR(st.st_mode) ? "it is a directory"
                        : S_ISREG(st.st_mode) && (uint64_t)st.st_size > MAX_FILE ? "file too large (over 64 MB)" : NULL;
        if (why) { if (!is_stdin) fclose(f); *err = why; return NULL; }
    }
    /* read at most MAX_FILE + 1 bytes, whatever the file claims: one byte more means too large */
    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    if (!text) abort();
    for (;;) {
        if (cap - len < 4096 && cap < (size_t)MAX_FILE + 4096) {
            cap = cap * 2 < (size_t)MAX_FILE + 4096 ? cap * 2 : (size_t)MAX_FILE + 4096;
            text = realloc(text, cap);
            if (!text) abort();
        }
        size_t want = cap - len - 2;
        if (len + want > (size_t)MAX_FILE + 1) want = (size_t)MAX_FILE + 1 - len;
        size_t n = want ? fread(text + len, 1, want, f) : 0;
        len += n;
        if (len > MAX_FILE) {
            free(text);
            if (!is_stdin) fclose(f);
            *err = "file too large (over 64 MB)";
            return NULL;
        }
        if (n == 0) break;
    }
    int bad = ferror(f);
    if (!is_stdin) fclose(f);
    if (bad) { free(text); *err = "read error (is it a directory?)"; return NULL; }
    text[len] = 0; text[len + 1] = 0;
    return build(is_stdin ? "<stdin>" : path, text, len);
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

int src_write_atomic(const char *path, const char *text, size_t len, const char **why) {
    char *real = realpath(path, NULL);   /* through a symbolic link, to the file itself */
    const char *target = real ? real : path;
    struct stat st;
    mode_t mode;
    if (stat(target, &st) == 0) mode = st.st_mode & 07777;   /* a file replaced keeps its mode */
    else if (errno == ENOENT) { mode_t m = umask(0); umask(m); mode = 0666 & ~m; }   /* a new one: as open(2) makes it */
    else { *why = strerror(errno); free(real); return -1; }
    size_t tl = strlen(target);
    char *tmp = malloc(tl + 32);
    if (!tmp) abort();
    const char *slash = strrchr(target, '/');
    size_t dir = slash ? (size_t)(slash - target) + 1 : 0;
    memcpy(tmp, target, dir);
    snprintf(tmp + dir, tl + 32 - dir, ".%s.tmp-XXXXXX", target + dir);
    int fd = mkstemp(tmp);
    int rc = -1;
    if (fd < 0) { *why = strerror(errno); goto out; }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0) { if (errno == EINTR) continue; break; }
        done += (size_t)w;
    }
    if (done < len || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        *why = strerror(errno);
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, target) != 0) { *why = strerror(errno); unlink(tmp); goto out; }
    rc = 0;
out:
    free(tmp);
    free(real);
    return rc;
}
