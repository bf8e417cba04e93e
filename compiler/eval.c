/* eval.c — what every `flowc eval` form shares: reading the JSON data from a file or stdin. */
#include "eval.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cJSON *eval_load_data(const char *data_file, FILE *err) {
    FILE *f = stdin;
    const char *name = "standard input";
    if (data_file && strcmp(data_file, "-") != 0) {
        f = fopen(data_file, "rb");
        name = data_file;
        if (!f) { fprintf(err, "flowc: cannot read `%s`: %s\n", data_file, strerror(errno)); return NULL; }
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    for (size_t n; (n = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (cap - len < 4096) { cap *= 2; buf = realloc(buf, cap); if (!buf) abort(); }
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (bad) { free(buf); fprintf(err, "flowc: cannot read `%s`\n", name); return NULL; }
    buf[len] = 0;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 1);   /* the length includes the NUL */
    if (!j) {
        size_t off = end ? (size_t)(end - buf) : 0, line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) { if (buf[i] == '\n') { line++; col = 1; } else col++; }
        fprintf(err, "flowc: %s:%zu:%zu: invalid JSON data\n", data_file && strcmp(data_file, "-") ? data_file : "<stdin>", line, col);
    }
    free(buf);
    return j;
}
