/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): arbitrary bytes to the typed decoder
 * (runtime/json_read.c, flow_json_decode_typed) for a record type with every kind of field (nested
 * and nullable records, arrays of records and of strings, json, datetime, duration, bool, int,
 * number). What it takes, the generic reader must take too, and every slot must hold what the
 * generic way reads for that field (flow_field on the parsed tree): the same kind, the same value
 * bit for bit, the same printed text. Text it refuses is the generic way's business. And the
 * 8-bytes-at-a-time scan for plain string bytes (flow_json_plain_end) agrees with the byte rule. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const FlowTypeDef t_str = { FLOW_STRING, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_str_opt = { FLOW_STRING, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_int = { FLOW_INT, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_num = { FLOW_NUMBER, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_bool = { FLOW_BOOL, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_dur = { FLOW_DURATION, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_dt = { FLOW_DATETIME, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_json = { FLOW_JSON, 0, 0, 0, NULL, 0, NULL };
static const FlowFieldDef line_fields[] = {
    { "sku", &t_str, 3, FLOW_KEY8('s', 'k', 'u', 0, 0, 0, 0, 0) },
    { "qty", &t_int, 3, FLOW_KEY8('q', 't', 'y', 0, 0, 0, 0, 0) },
    { "price", &t_num, 5, FLOW_KEY8('p', 'r', 'i', 'c', 'e', 0, 0, 0) },
};
static const FlowTypeDef t_line = { FLOW_JSON, 0, 1, 0, line_fields, 3, NULL };
static const FlowTypeDef t_lines = { FLOW_JSON, 0, 0, 1, NULL, 0, &t_line };
static const FlowTypeDef t_tags = { FLOW_JSON, 1, 0, 1, NULL, 0, &t_str };
static const FlowFieldDef owner_fields[] = {
    { "first", &t_str, 5, FLOW_KEY8('f', 'i', 'r', 's', 't', 0, 0, 0) },
    { "last", &t_str_opt, 4, FLOW_KEY8('l', 'a', 's', 't', 0, 0, 0, 0) },
    { "vip", &t_bool, 3, FLOW_KEY8('v', 'i', 'p', 0, 0, 0, 0, 0) },
};
static const FlowTypeDef t_owner = { FLOW_JSON, 1, 1, 0, owner_fields, 3, NULL };
static const FlowFieldDef rec_fields[] = {
    { "id", &t_int, 2, FLOW_KEY8('i', 'd', 0, 0, 0, 0, 0, 0) },
    { "name", &t_str, 4, FLOW_KEY8('n', 'a', 'm', 'e', 0, 0, 0, 0) },
    { "note", &t_str_opt, 4, FLOW_KEY8('n', 'o', 't', 'e', 0, 0, 0, 0) },
    { "score", &t_num, 5, FLOW_KEY8('s', 'c', 'o', 'r', 'e', 0, 0, 0) },
    { "on", &t_bool, 2, FLOW_KEY8('o', 'n', 0, 0, 0, 0, 0, 0) },
    { "seen", &t_dt, 4, FLOW_KEY8('s', 'e', 'e', 'n', 0, 0, 0, 0) },
    { "wait", &t_dur, 4, FLOW_KEY8('w', 'a', 'i', 't', 0, 0, 0, 0) },
    { "meta", &t_json, 4, FLOW_KEY8('m', 'e', 't', 'a', 0, 0, 0, 0) },
    { "owner", &t_owner, 5, FLOW_KEY8('o', 'w', 'n', 'e', 'r', 0, 0, 0) },
    { "lines", &t_lines, 5, FLOW_KEY8('l', 'i', 'n', 'e', 's', 0, 0, 0) },
    { "tags", &t_tags, 4, FLOW_KEY8('t', 'a', 'g', 's', 0, 0, 0, 0) },
    { "customer_ref", &t_str_opt, 12, FLOW_KEY8('c', 'u', 's', 't', 'o', 'm', 'e', 'r') },
};
static const FlowTypeDef t_rec = { FLOW_JSON, 0, 1, 0, rec_fields, 12, NULL };

static void same_text(FlowVal a, FlowVal b) {
    FlowBuf x = { 0 }, y = { 0 };
    flow_tp_val(&x, a);
    flow_tp_val(&y, b);
    if (x.n != y.n || (x.n && memcmp(x.p, y.p, x.n) != 0)) abort();
    flow_buf_free(&x);
    flow_buf_free(&y);
}

/* the slot against the generic value j (NULL: missing) of type t */
static void check(FlowCtx *cx, const FlowTSlot *s, const cJSON *j, const FlowTypeDef *t) {
    int absent = !j || cJSON_IsNull(j);
    if (absent) { if (!s->null) abort(); return; }
    if (s->null) abort();
    if (t->is_record) {
        if (!cJSON_IsObject(j) || s->n != t->nfields) abort();
        for (int i = 0; i < t->nfields; i++)
            check(cx, &s->kids[i], cJSON_GetObjectItemCaseSensitive(j, t->fields[i].name), t->fields[i].type);
        return;
    }
    if (t->is_array) {
        if (!cJSON_IsArray(j) || s->n != cJSON_GetArraySize(j)) abort();
        int i = 0;
        for (const cJSON *c = j->child; c; c = c->next, i++) check(cx, &s->kids[i], c, t->elem);
        return;
    }
    if (t->kind == FLOW_JSON || t->kind == FLOW_DATETIME) return;   /* checked, not kept */
    FlowVal g = flow_val_from_json(cx, j, t->kind, "x");
    if (flow_failed(cx)) abort();   /* the typed way took a value the generic way refuses */
    if (g.kind != s->v.kind) abort();
    switch (g.kind) {
    case FLOW_STRING: if (g.s.n != s->v.s.n || memcmp(g.s.p, s->v.s.p, g.s.n) != 0) abort(); break;
    case FLOW_NUMBER: if (memcmp(&g.n, &s->v.n, sizeof g.n) != 0) abort(); break;
    case FLOW_INT: case FLOW_DURATION: if (g.i != s->v.i) abort(); break;
    case FLOW_BOOL: if (g.b != s->v.b) abort(); break;
    default: abort();
    }
    same_text(g, s->v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    /* the scan for plain string bytes, eight at a time, against the byte-by-byte rule */
    const unsigned char *u = (const unsigned char *)text, *stop = flow_json_plain_end(u, u + size), *q = u;
    while (q < u + size && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\') q++;
    if (stop != q) abort();
    FlowArena a = { 0 };
    FlowTSlot root;
    if (flow_json_decode_typed(&t_rec, text, size, &a, &root) == 0) {
        cJSON *j = flow_json_parse(text, size, NULL);
        if (!cJSON_IsObject(j)) abort();
        FlowCtx *cx = flow_ctx_new();
        check(cx, &root, j, &t_rec);
        flow_ctx_free(cx);
        cJSON_Delete(j);
    }
    flow_arena_free(&a);
    free(text);
    return 0;
}
