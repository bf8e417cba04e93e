/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): arbitrary rows to typed rows (runtime/rows.c,
 * flow_rows_plan and flow_rows_take) for a record type with every scalar kind (nullable ones too, a
 * nullable nested record and json). The bytes make a row: columns with names from a small set
 * (repeats and missing declared fields included) and values of every kind an SQL connector gives
 * (null, bool, int64, any double, text with NUL bytes and bytes that are not UTF-8). What the typed
 * way takes, the generic way (the row's object as conn_sqlite.c builds it, then the engine's checks,
 * eng_accept_values) must take too; every slot must hold what flow_field gives on the accepted tree
 * (kind, value bit for bit, printed text); the tree made from the kept columns (eng_row_tree) must
 * print as the accepted one, and the size counted must be eng_json_size's. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "slot_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const FlowTypeDef t_str = { FLOW_STRING, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_str_opt = { FLOW_STRING, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_int = { FLOW_INT, 0, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_num = { FLOW_NUMBER, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_bool = { FLOW_BOOL, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_dur = { FLOW_DURATION, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_dt = { FLOW_DATETIME, 1, 0, 0, NULL, 0, NULL };
static const FlowTypeDef t_json = { FLOW_JSON, 0, 0, 0, NULL, 0, NULL };
static const FlowFieldDef owner_fields[] = { { "first", &t_str, 5 } };
static const FlowTypeDef t_owner = { FLOW_JSON, 1, 1, 0, owner_fields, 1, NULL };
static const FlowFieldDef rec_fields[] = {
    { "id", &t_int, 2 }, { "name", &t_str, 4 }, { "note", &t_str_opt, 4 }, { "score", &t_num, 5 }, { "on", &t_bool, 2 },
    { "seen", &t_dt, 4 }, { "wait", &t_dur, 4 }, { "meta", &t_json, 4 }, { "owner", &t_owner, 5 },
};
static const FlowTypeDef t_rec = { FLOW_JSON, 0, 1, 0, rec_fields, 9, NULL };
static const char *const names[] = { "id", "name", "note", "score", "on", "seen", "wait", "meta", "owner", "extra", "caf\xc3", NULL };

typedef struct In { const uint8_t *p; size_t n; } In;
static unsigned byte(In *in) { if (!in->n) return 0; in->n--; return *in->p++; }
static void take(In *in, void *out, size_t k) {
    memset(out, 0, k);
    size_t m = in->n < k ? in->n : k;
    memcpy(out, in->p, m);
    in->p += m;
    in->n -= m;
}

/* a slot against the accepted tree's member j (NULL: missing) of type t */
static void check(FlowCtx *cx, const FlowTSlot *s, const cJSON *j, const FlowTypeDef *t) {
    if (!j || cJSON_IsNull(j)) { if (!s->null) abort(); return; }
    if (s->null || t->is_record || t->is_array) abort();   /* a column's value is no record or array */
    if (t->kind == FLOW_JSON || t->kind == FLOW_DATETIME) return;   /* checked, not kept */
    slot_check_scalar(cx, s, j, t->kind);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    In in = { data, size };
    int n = (int)(byte(&in) % 12);
    const char *cn[12];
    FlowVal v[12];
    char text[12][40];
    for (int i = 0; i < n; i++) {
        cn[i] = names[byte(&in) % 12];
        unsigned k = byte(&in) % 6;
        if (k == 0) v[i] = flow_null();
        else if (k == 1) v[i] = flow_bool(byte(&in) & 1);
        else if (k == 2) { int64_t x; take(&in, &x, sizeof x); if (byte(&in) & 1) x %= 4; v[i] = flow_int(x); }
        else if (k == 3) { double d; take(&in, &d, sizeof d); if (byte(&in) & 1) d = (double)(int)(byte(&in) % 4); v[i] = flow_number(d); }
        else {
            size_t len = byte(&in) % 39;
            take(&in, text[i], len);
            text[i][len] = 0;
            v[i] = flow_string(text[i], len);
        }
    }
    FlowArena a = { 0 };
    FlowRows r = { 0 };
    r.type = &t_rec;
    r.arena = &a;
    const FlowRowPlan *p = flow_rows_plan(&r, n, cn);
    if (p && flow_rows_take(&r, p, v, 0) == 0) {
        /* the generic way: the row's object (of equal names the first; text as C text), checked */
        cJSON *o = cJSON_CreateObject();
        for (int i = 0; i < n; i++) {
            if (!cn[i] || cJSON_GetObjectItemCaseSensitive(o, cn[i])) continue;
            cJSON *j = v[i].kind == FLOW_NULL ? cJSON_CreateNull() : v[i].kind == FLOW_BOOL ? cJSON_CreateBool(v[i].b)
                     : v[i].kind == FLOW_INT ? flow_json_int(v[i].i) : v[i].kind == FLOW_NUMBER ? cJSON_CreateNumber(v[i].n)
                     : cJSON_CreateString(v[i].s.p);
            if (v[i].kind == FLOW_STRING && memchr(v[i].s.p, 0, v[i].s.n)) abort();   /* a NUL the typed way took */
            cJSON_AddItemToObject(o, cn[i], j);
        }
        FlowErr e;
        if (eng_accept_values(o, &t_rec, "record", &e) != 0) abort();   /* the typed way took what the generic way refuses */
        FlowCtx *cx = flow_ctx_new();
        for (int k = 0; k < t_rec.nfields; k++)
            check(cx, &r.took->kids[k], cJSON_GetObjectItemCaseSensitive(o, t_rec.fields[k].name), t_rec.fields[k].type);
        flow_ctx_free(cx);
        cJSON *t = eng_row_tree(r.took_plan, r.took_cols);
        char *x = flow_json_print(o), *y = flow_json_print(t);
        if (!x || !y || strcmp(x, y) != 0) abort();
        if (eng_json_size(o) != r.took_bytes) abort();
        cJSON_free(x);
        cJSON_free(y);
        cJSON_Delete(t);
        cJSON_Delete(o);
    }
    eng_rows_free(&r);
    flow_arena_free(&a);
    return 0;
}
