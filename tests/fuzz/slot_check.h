/* slot_check.h — shared by the typed-record fuzz targets (fuzz_typed.c, fuzz_rows.c): a typed slot's
 * scalar value against the generic way's value for the same field (flow_field on the tree): the same
 * kind, the same value bit for bit, the same printed text. Aborts on a difference. */
#ifndef SLOT_CHECK_H
#define SLOT_CHECK_H
#include <stdlib.h>
#include <string.h>
#include "flow.h"

static void slot_same_text(FlowVal a, FlowVal b) {
    FlowBuf x = { 0 }, y = { 0 };
    flow_tp_val(&x, a);
    flow_tp_val(&y, b);
    if (x.n != y.n || (x.n && memcmp(x.p, y.p, x.n) != 0)) abort();
    flow_buf_free(&x);
    flow_buf_free(&y);
}

/* the slot's v against the generic value j (a scalar, not null) read as kind k */
static void slot_check_scalar(FlowCtx *cx, const FlowTSlot *s, const cJSON *j, FlowKind k) {
    FlowVal g = flow_val_from_json(cx, j, k, "x");
    if (flow_failed(cx)) abort();   /* the typed way took a value the generic way refuses */
    if (g.kind != s->v.kind) abort();
    switch (g.kind) {
    case FLOW_STRING: if (g.s.n != s->v.s.n || memcmp(g.s.p, s->v.s.p, g.s.n) != 0) abort(); break;
    case FLOW_NUMBER: if (memcmp(&g.n, &s->v.n, sizeof g.n) != 0) abort(); break;
    case FLOW_INT: case FLOW_DURATION: if (g.i != s->v.i) abort(); break;
    case FLOW_BOOL: if (g.b != s->v.b) abort(); break;
    default: abort();
    }
    slot_same_text(g, s->v);
}
#endif
