/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): flowc graph on arbitrary bytes. Whatever
 * checks clean is drawn in DOT and in Mermaid; both must be valid UTF-8 with no control character but
 * line ends, and on every line each quoted string must close (DOT: `\"` inside; Mermaid: no `"` at
 * all inside a label), so no name, string or condition can break out of its label. Any violation
 * aborts, which libFuzzer reports. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "graph.h"
#include "ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bad(const char *why, const char *text) {
    fprintf(stderr, "flowc graph: %s in:\n%s\n", why, text);
    abort();
}

/* valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no control bytes but \n */
static void check_text(const char *text, size_t n) {
    const unsigned char *u = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7F) bad("a control character", text);
            i++;
            continue;
        }
        int k = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
        if (!k || i + (size_t)k > n) bad("a byte that is not UTF-8", text);
        unsigned cp = c & (0x7Fu >> k);
        for (int j = 1; j < k; j++) {
            if ((u[i + j] & 0xC0) != 0x80) bad("a byte that is not UTF-8", text);
            cp = cp << 6 | (u[i + j] & 0x3F);
        }
        if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            bad("an invalid code point", text);
        i += (size_t)k;
    }
}

/* every line's quoted strings close on it; DOT strings may hold `\"` and `\\` */
static void check_quotes(const char *text, int dot) {
    int in = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            if (in) bad("a label left open at the end of a line", text);
            continue;
        }
        if (in && dot && *p == '\\') {
            if (p[1] != '"' && p[1] != '\\' && p[1] != 'n') bad("a backslash escape DOT would read", text);
            p++;
            continue;
        }
        if (*p == '"') in = !in;
    }
    if (in) bad("a label left open at the end", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Source *src = src_from_buffer("fuzz.flow", (const char *)data, size);
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    if (r.ir && d.errors == 0) {
        for (int f = 0; f < 2; f++) {
            char *buf = NULL;
            size_t n = 0;
            FILE *m = open_memstream(&buf, &n);
            if (!m) abort();
            graph_write(m, r.ir, NULL, f ? GRAPH_MERMAID : GRAPH_DOT);
            fclose(m);
            if (strlen(buf) != n) bad("a NUL byte", buf);
            check_text(buf, n);
            check_quotes(buf, !f);
            free(buf);
        }
    }
    fe_result_free(&r);
    diag_free(&d);
    src_free(src);
    return 0;
}
