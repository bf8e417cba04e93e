/* eval.c — what every `flowc eval` form shares: reading the JSON data from a file or stdin. */
#include "eval.h"
#include "flow.h"
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
    FlowJsonError je;
    cJSON *j = flow_json_parse(buf, len, &je);   /* the runtime's one reader: ints exact, strict text */
    if (!j)
        fprintf(err, "flowc: %s:%ld:%ld: invalid JSON data: %s\n", data_file && strcmp(data_file, "-") ? data_file : "<stdin>",
                je.line, je.col, je.msg);
    free(buf);
    return j;
}
