/* libFuzzer target for `make fuzz`: auto-map (compiler/automap.c) with arbitrary bytes as the
 * destination's JSON sample, against a fixed checked program (a nested source type and an import
 * with a map, nested entries included). The sample is read by the runtime's JSON reader; its member
 * names (any text) are split into words, matched, inserted as map keys, checked and formatted. The
 * result must be refused cleanly or give suggestions whose edit, applied, checks clean. Nothing may
 * crash, hang, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "automap.h"
#include "frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char program[] =
    "integration \"f\" version \"1\"\n"
    "type O = { id: int, email: string?, total: string, at: datetime, customer: { first_name: string, zip: string? },"
    " tags: [string], paid: bool }\n"
    "connection src = file { dir = \"d\" }\n"
    "flow o {\n"
    "  export o: O from src { file = \"o.ndjson\" }\n"
    "  import x into src {\n"
    "    file = \"x.ndjson\"\n"
    "    map {\n"
    "      id = record.id\n"
    "      nested {\n"
    "        a = record.total\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Source *src = src_from_buffer("f.flow", program, sizeof program - 1);
    Diags d;
    diag_init(&d);
    FeResult fr;
    fe_run(&fr, src, &d, FE_CHECK);
    if (d.errors || !fr.ir) abort();
    const IrFlow *f = am_flow(fr.ir, "o");
    const IrStep *imp = f ? am_import(f, "x") : NULL;
    if (!imp) abort();
    AmOptions o = { 0 };
    o.sample_text = (const char *)data;
    o.sample_len = size;
    AmResult r;
    if (am_suggest(fr.ir, f, imp, &o, &r) == 0 && r.text) {
        /* the edit applied to the program is the formatted text, and it checks clean */
        size_t tl = strlen(r.text), el = strlen(r.edit.text);
        char *t = malloc(sizeof program + el);
        if (!t) abort();
        memcpy(t, program, r.edit.offset);
        memcpy(t + r.edit.offset, r.edit.text, el);
        size_t rest = sizeof program - 1 - r.edit.offset - r.edit.length;
        memcpy(t + r.edit.offset + el, program + r.edit.offset + r.edit.length, rest);
        if (r.edit.offset + el + rest != tl || memcmp(t, r.text, tl) != 0) abort();
        free(t);
        Source *ns = src_from_buffer("f.flow", r.text, tl);
        Diags nd;
        diag_init(&nd);
        FeResult nr;
        fe_run(&nr, ns, &nd, FE_CHECK);
        if (nd.errors) abort();
        fe_result_free(&nr);
        diag_free(&nd);
        src_free(ns);
    }
    am_result_free(&r);
    fe_result_free(&fr);
    diag_free(&d);
    src_free(src);
    return 0;
}
