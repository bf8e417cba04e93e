/* libFuzzer target for `make fuzz`: the datetime text layouts of runtime/timelayout.c, which read
 * what a source's delta field holds and the pattern kept in the state store. Arbitrary bytes go to
 * flow_time_layout_of, flow_time_unit and flow_time_layout_parse, which must never crash or read out
 * of bounds; and every layout found must round-trip: its pattern parses back to the same layout, and
 * an instant written in it reads back (flow_parse_iso8601) as that instant cut to the layout's unit,
 * in a text of the same layout. A broken property aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_die(const FlowTimeLayout *a, const FlowTimeLayout *b) {
    if (a->known != b->known || a->date_only != b->date_only || (!a->date_only && (a->sep != b->sep || a->seconds != b->seconds ||
        a->min_digits != b->min_digits || a->max_digits != b->max_digits || strcmp(a->zone, b->zone) != 0 ||
        (a->max_digits && a->frac != b->frac))))
        abort();
}

static void check_layout(const FlowTimeLayout *l, int64_t ms) {
    char pat[64];
    if (flow_time_layout_text(l, pat, sizeof pat) != 0) abort();
    FlowTimeLayout back;
    if (!flow_time_layout_parse(pat, &back)) abort();
    same_or_die(l, &back);
    char text[64];
    flow_time_format(ms, l, text, sizeof text);
    FlowTimeLayout again;
    if (!flow_time_layout_of(text, strlen(text), &again) || !flow_time_layout_same(l, &again)) abort();
    int64_t got;
    if (!flow_parse_iso8601(text, strlen(text), &got)) abort();
    int64_t unit = flow_time_unit(text, strlen(text));
    if (got > ms || ms - got >= unit) abort();   /* the instant, cut to its unit */
    /* the window's bounds as bound: since' before since, until' not after until */
    int64_t a, b;
    char ta[48], tb[48];
    flow_time_bind_window(l, ms, ms + 3600000, &a, ta, &b, tb, sizeof ta);
    if (a >= ms || b > ms + 3600000) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    FlowTimeLayout l;
    uint64_t bits = 0;
    for (size_t i = 0; i < size && i < 8; i++) bits = bits * 256 + data[i];
    int64_t ms = (int64_t)(bits % (uint64_t)(253402300800000LL - 5 * 86400000LL)) + 86400000LL * 3;   /* 1970-01-04 .. 9999-12-29 */
    if (flow_time_layout_of(s, size, &l)) {
        int64_t parsed;
        if (flow_parse_iso8601(s, size, &parsed)) check_layout(&l, parsed);
        check_layout(&l, ms);
    }
    (void)flow_time_unit(s, size);
    if (flow_time_layout_parse(s, &l)) check_layout(&l, ms);
    free(s);
    return 0;
}
