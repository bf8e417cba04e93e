/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): the input is an integration that is diffed
 * against tests/diff/base.flow and merged with it both ways (as THEIRS, then as OURS, against a fixed
 * edit of the base), the merged text checked again. The resource model, the diff, the splicing and
 * the printers must never crash, leak or read out of bounds; a clean merge must check clean or say so.
 * Inputs that do not check clean stop after the front end, as in `flowc diff`. Run from the repo root. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "frontend.h"
#include "merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct { Source *src; FeResult r; Arena *ar; ResModel *m; } L;

static int load(L *l, const char *name, const char *text, size_t n) {
    memset(l, 0, sizeof *l);
    l->src = src_from_buffer(name, text, n);
    Diags d;
    diag_init(&d);
    fe_run(&l->r, l->src, &d, FE_CHECK);
    int ok = !d.errors && l->r.ir;
    diag_free(&d);
    l->ar = arena_new();
    if (ok) l->m = res_build(l->ar, l->src, l->r.ast, l->r.ir);
    return ok;
}

static void unload(L *l) {
    fe_result_free(&l->r);
    arena_free(l->ar);
    src_free(l->src);
}

static char *base_text, *ours_text;
static size_t base_len, ours_len;
static FILE *sink;

static void init(void) {
    FILE *f = fopen("tests/diff/base.flow", "rb");
    if (!f) { fprintf(stderr, "fuzz_merge: run from the repository root (tests/diff/base.flow)\n"); abort(); }
    base_text = malloc(1 << 16);
    base_len = fread(base_text, 1, 1 << 16, f);
    fclose(f);
    /* ours: the base with one map entry changed */
    const char *from = "amount = record.total", *to = "amount = record.total * 100";
    char *at = strstr(base_text, from);
    if (!at) abort();
    ours_text = malloc(base_len + 64);
    size_t pre = (size_t)(at - base_text);
    memcpy(ours_text, base_text, pre);
    memcpy(ours_text + pre, to, strlen(to));
    memcpy(ours_text + pre + strlen(to), at + strlen(from), base_len - pre - strlen(from));
    ours_len = base_len - strlen(from) + strlen(to);
    sink = fopen("/dev/null", "w");
}

static void merge_check(const ResModel *b, const ResModel *o, const ResModel *t) {
    MergeResult mr;
    merge_models(b, o, t, NULL, NULL, &mr);
    if (!mr.nconflicts) (void)fe_check_buffer("merged.flow", mr.text ? mr.text : "", mr.len);
    merge_free(&mr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!base_text) init();
    L b, o, t;
    int ok = load(&t, "theirs.flow", (const char *)data, size);
    if (ok) {
        load(&b, "base.flow", base_text, base_len);
        load(&o, "ours.flow", ours_text, ours_len);
        DiffResult d = { 0 };
        diff_models(b.m, t.m, &d);
        diff_print_text(&d, sink);
        diff_print_json(&d, sink);
        diff_free(&d);
        merge_check(b.m, o.m, t.m);
        merge_check(b.m, t.m, o.m);
        merge_check(t.m, b.m, o.m);
        unload(&b);
        unload(&o);
    }
    unload(&t);
    return 0;
}
