/* fmt_cmd.c — the `flowc fmt` command: formats files in place (a temporary file renamed over the
 * original, keeping its mode), or standard input to standard output; --check lists the files that
 * would change, --diff prints what would change as a unified diff (written here, as `diff -u`). */
#include "fmt.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FMT_OK = 0, FMT_CHANGED = 1, FMT_FAILED = 2 };

/* ---- unified diff (Myers' O(ND) algorithm over lines) ---- */

typedef struct { const char *s; size_t n; } Line;   /* n counts the newline, when there is one */
typedef struct { char op; int a, b; } Edit;          /* '=' '-' '+', with the line indices */

static Line *split_lines(const char *s, size_t len, int *count) {
    int n = 0, cap = 64;
    Line *l = malloc(sizeof *l * (size_t)cap);
    if (!l) abort();
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && s[j] != '\n') j++;
        if (j < len) j++;
        if (n == cap) { cap *= 2; l = realloc(l, sizeof *l * (size_t)cap); if (!l) abort(); }
        l[n++] = (Line){ s + i, j - i };
        i = j;
    }
    *count = n;
    return l;
}

static int line_eq(Line x, Line y) { return x.n == y.n && memcmp(x.s, y.s, x.n) == 0; }

#define DIFF_MAX_D 2000   /* beyond this many differences, the changed middle is one replacement */

/* The edits turning a[0..n) into b[0..m) (both already without common ends), appended to *e. */
static void myers(const Line *a, int n, const Line *b, int m, Edit **e, int *ne, int *cap) {
#define PUSH(o, x, y) do { if (*ne == *cap) { *cap *= 2; *e = realloc(*e, sizeof **e * (size_t)*cap); if (!*e) abort(); } \
                           (*e)[(*ne)++] = (Edit){ o, x, y }; } while (0)
    int max = n + m, found = -1;
    if (max > DIFF_MAX_D) max = DIFF_MAX_D;
    int off = max + 1;
    int *v = calloc((size_t)(2 * max + 3), sizeof *v);
    int **trace = calloc((size_t)max + 1, sizeof *trace);
    if (!v || !trace) abort();
    for (int d = 0; d <= max && found < 0; d++) {
        for (int k = -d; k <= d; k += 2) {
            int x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1] : v[off + k - 1] + 1;
            int y = x - k;
            while (x < n && y < m && line_eq(a[x], b[y])) { x++; y++; }
            v[off + k] = x;
            if (x >= n && y >= m) { found = d; break; }
        }
        trace[d] = malloc(sizeof(int) * (size_t)(2 * max + 3));
        if (!trace[d]) abort();
        memcpy(trace[d], v, sizeof(int) * (size_t)(2 * max + 3));
    }
    if (found < 0) {   /* too different: all of a out, all of b in */
        for (int i = 0; i < n; i++) PUSH('-', i, 0);
        for (int j = 0; j < m; j++) PUSH('+', n, j);
    } else {
        /* walk back from (n, m), collecting edits in reverse */
        int cnt = 0, ecap = 64;
        Edit *rev = malloc(sizeof *rev * (size_t)ecap);
        if (!rev) abort();
        int x = n, y = m;
        for (int d = found; d >= 0; d--) {
            int k = x - y;
            int *pv = d > 0 ? trace[d - 1] : NULL;
            int pk = 0, px = 0, py = 0;
            if (d > 0) {
                pk = (k == -d || (k != d && pv[off + k - 1] < pv[off + k + 1])) ? k + 1 : k - 1;
                px = pv[off + pk];
                py = px - pk;
            }
            while (x > px && y > py) {
                if (cnt == ecap) { ecap *= 2; rev = realloc(rev, sizeof *rev * (size_t)ecap); if (!rev) abort(); }
                x--; y--;
                rev[cnt++] = (Edit){ '=', x, y };
            }
            if (d == 0) break;
            if (cnt == ecap) { ecap *= 2; rev = realloc(rev, sizeof *rev * (size_t)ecap); if (!rev) abort(); }
            if (pk == k + 1) { y--; rev[cnt++] = (Edit){ '+', x, y }; }
            else { x--; rev[cnt++] = (Edit){ '-', x, y }; }
        }
        for (int i = cnt - 1; i >= 0; i--) PUSH(rev[i].op, rev[i].a, rev[i].b);
        free(rev);
    }
    for (int d = 0; d <= max; d++) free(trace[d]);
    free(trace);
    free(v);
#undef PUSH
}

static void put_line(FILE *out, char c, Line l) {
    fputc(c, out);
    fwrite(l.s, 1, l.n, out);
    if (l.n == 0 || l.s[l.n - 1] != '\n') fputs("\n\\ No newline at end of file\n", out);
}

void fmt_udiff(FILE *out, const char *name, const char *as, size_t alen, const char *bs, size_t blen) {
    if (alen == blen && memcmp(as, bs, alen) == 0) return;
    int n, m;
    Line *a = split_lines(as, alen, &n), *b = split_lines(bs, blen, &m);
    int pre = 0, suf = 0;
    while (pre < n && pre < m && line_eq(a[pre], b[pre])) pre++;
    while (suf < n - pre && suf < m - pre && line_eq(a[n - 1 - suf], b[m - 1 - suf])) suf++;
    int cap = 64, ne = 0;
    Edit *e = malloc(sizeof *e * (size_t)cap);
    if (!e) abort();
    for (int i = 0; i < pre; i++) {
        if (ne == cap) { cap *= 2; e = realloc(e, sizeof *e * (size_t)cap); if (!e) abort(); }
        e[ne++] = (Edit){ '=', i, i };
    }
    int mid0 = ne;
    myers(a + pre, n - pre - suf, b + pre, m - pre - suf, &e, &ne, &cap);
    for (int i = mid0; i < ne; i++) { e[i].a += pre; e[i].b += pre; }
    for (int i = 0; i < suf; i++) {
        if (ne == cap) { cap *= 2; e = realloc(e, sizeof *e * (size_t)cap); if (!e) abort(); }
        e[ne++] = (Edit){ '=', n - suf + i, m - suf + i };
    }
    fprintf(out, "--- a/%s\n+++ b/%s\n", name, name);
    const int ctx = 3;
    int i = 0;
    while (i < ne) {
        while (i < ne && e[i].op == '=') i++;
        if (i >= ne) break;
        int start = i - ctx < 0 ? 0 : i - ctx;
        /* extend over changes closer than 2*ctx equal lines */
        int end = i, last_change = i;
        while (end < ne) {
            if (e[end].op != '=') last_change = end;
            else if (end - last_change > 2 * ctx) break;
            end++;
        }
        int stop = last_change + ctx + 1 < ne ? last_change + ctx + 1 : ne;
        int la = 0, lb = 0, sa = -1, sb = -1;
        for (int k = start; k < stop; k++) {
            if (e[k].op != '+') { if (sa < 0) sa = e[k].a; la++; }
            if (e[k].op != '-') { if (sb < 0) sb = e[k].b; lb++; }
        }
        /* an empty range is named by the line before it, as diff -u does */
        sa = sa < 0 ? e[start].a : sa + 1;
        sb = sb < 0 ? e[start].b : sb + 1;
        fprintf(out, "@@ -%d", sa);
        if (la != 1) fprintf(out, ",%d", la);
        fprintf(out, " +%d", sb);
        if (lb != 1) fprintf(out, ",%d", lb);
        fputs(" @@\n", out);
        for (int k = start; k < stop; k++) {
            if (e[k].op == '=') put_line(out, ' ', a[e[k].a]);
            else if (e[k].op == '-') put_line(out, '-', a[e[k].a]);
            else put_line(out, '+', b[e[k].b]);
        }
        i = stop;
    }
    free(e);
    free(a);
    free(b);
}

/* ---- the command ---- */

static int fmt_usage(const char *fmt, const char *arg) {
    fputs("flowc: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: flowc fmt [--check] [--diff] FILE...|-\n", stderr);
    return FMT_FAILED;
}


int fmt_command(int argc, char **argv, int color) {
    int check = 0, diff = 0, nfiles = 0, rc = FMT_OK, dashdash = 0;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) abort();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && strcmp(a, "--check") == 0) check = 1;
        else if (!dashdash && strcmp(a, "--diff") == 0) diff = 1;
        else if (!dashdash && strcmp(a, "--") == 0) dashdash = 1;
        else if (!dashdash && a[0] == '-' && a[1]) { free(files); return fmt_usage("unknown option `%s` for fmt", a); }
        else files[nfiles++] = a;
    }
    if (nfiles == 0) { free(files); return fmt_usage("fmt needs FILE... (or `-` for standard input)%s", ""); }
    for (int i = 0; i < nfiles; i++) {
        const char *why;
        int is_stdin = strcmp(files[i], "-") == 0;
        Source *src = src_load_file(files[i], &why);
        if (!src) {
            fprintf(stderr, "flowc: cannot read `%s`: %s\n", files[i], why);
            rc = FMT_FAILED;
            continue;
        }
        Diags d;
        diag_init(&d);
        size_t len = 0;
        char *out = fmt_source(src, &d, &len);
        diag_sort(&d);
        diag_print_text(&d, stderr, color);
        if (!out) {
            fprintf(stderr, "flowc: `%s` is not formatted: it does not parse%s\n", src->name, is_stdin ? "" : "; the file is left as it is");
            rc = FMT_FAILED;
        } else {
            int changed = len != src->len || memcmp(out, src->text, len) != 0;
            if (diff) fmt_udiff(stdout, src->name, src->text, src->len, out, len);
            if (check && changed) {
                if (!diff) printf("%s\n", src->name);
                if (rc == FMT_OK) rc = FMT_CHANGED;
            }
            if (!check && !diff) {
                if (is_stdin) fwrite(out, 1, len, stdout);
                else if (changed && src_write_atomic(files[i], out, len, &why) != 0) {
                    fprintf(stderr, "flowc: cannot write `%s`: %s; the file is left as it is\n", files[i], why);
                    rc = FMT_FAILED;
                }
            }
        }
        free(out);
        diag_free(&d);
        src_free(src);
    }
    fflush(stdout);
    free(files);
    return rc;
}
