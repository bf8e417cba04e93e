/* libFuzzer target for `make fuzz`: templates (Handlebars/Mustache) through the compile-time
 * template parser (compiler/template.c), then as `flowc eval --template` takes them: lowered with the
 * data as the root context, type-checked, and written as C by the emitter (not compiled: the JIT is
 * exercised by the test suites). Every stage must refuse bad input with diagnostics and never crash,
 * hang, leak or read out of bounds; a template the checker accepts must be emitted without error. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "check.h"
#include "diag.h"
#include "emit_c.h"
#include "lower.h"
#include "source.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Source *src = src_from_buffer("<template>", (const char *)data, size);
    Arena *ar = arena_new();
    Diags d;
    diag_init(&d);
    AstNode *t = tpl_parse_text(ar, &d, src, src->text, src->len, 0);
    IrExpr *ir = t && !d.errors ? lower_eval_template(ar, &d, src, t) : NULL;
    if (ir && !d.errors) chk_eval_expr(ar, &d, src, ir);
    if (ir && !d.errors) {
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            for (int esc = EMIT_ESC_NONE; esc <= EMIT_ESC_HTML; esc++)
                if (emit_c_expr(null, &d, src, ir, "flow_eval", (EmitEscape)esc) != 0) abort();   /* checked, so it must emit */
            fclose(null);
        }
    }
    FILE *null = fopen("/dev/null", "w");
    if (null) { diag_print_text(&d, null, 0); fclose(null); }
    diag_free(&d);
    arena_free(ar);
    src_free(src);
    return 0;
}
