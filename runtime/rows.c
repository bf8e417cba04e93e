/* rows.c — typed rows: an SQL export's rows read straight into typed records (flow.h, engine.h).
 * A statement's columns are matched to the export's declared fields once (a plan); each row's
 * column values then fill the slots of its declared fields, in the page's arena, when the row is one
 * the generic way (the row's object, then validate.c's checks of values and type) takes unchanged
 * and reads the same: the same rules as the typed JSON decoder (json_read.c). The columns are kept
 * too, as the generic way would hold them, so the record's tree can be made on demand
 * (eng_row_tree); its size is the one the connector gives the generic way's record (its size as
 * sent), or else the one eng_json_size gives that tree. Connectors: SQLite, PostgreSQL. */
#include "engine_int.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { COL_UNDECLARED = -1, COL_SKIPPED = -2 };

struct FlowRowPlan {
    int n;                     /* columns */
    int *field;                /* each one's declared field, or COL_UNDECLARED, or COL_SKIPPED (no name, or an earlier column's) */
    char **name;               /* each one's name (owned; NULL when skipped) */
    const char **key;          /* ...interned (flow_sql_key), or NULL: the tree copies name */
    size_t *name_bytes;        /* ...its share of the record's size: "name": */
    int *absent; int nabsent;  /* declared fields no column fills (each may be missing) */
};

static void plan_free(FlowRowPlan *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) free(p->name[i]);
    free(p->name);
    free(p->key);
    free(p->field);
    free(p->name_bytes);
    free(p->absent);
    free(p);
}

const FlowRowPlan *flow_rows_plan(FlowRows *r, int n, const char *const *names) {
    const FlowTypeDef *t = r ? r->type : NULL;
    if (!t || !t->is_record || n < 0) return NULL;
    FlowRowPlan *p = flow_xcalloc(1, sizeof *p);
    p->n = n;
    p->field = flow_xcalloc((size_t)n + 1, sizeof *p->field);
    p->name = flow_xcalloc((size_t)n + 1, sizeof *p->name);
    p->key = flow_xcalloc((size_t)n + 1, sizeof *p->key);
    p->name_bytes = flow_xcalloc((size_t)n + 1, sizeof *p->name_bytes);
    p->absent = flow_xcalloc((size_t)t->nfields + 1, sizeof *p->absent);
    char *seen = flow_xcalloc((size_t)t->nfields + 1, 1);
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        const char *name = names[i];
        p->field[i] = COL_SKIPPED;
        if (!name) continue;
        int dup = 0;
        for (int k = 0; k < i && !dup; k++) dup = p->name[k] && strcmp(p->name[k], name) == 0;
        if (dup) continue;
        if (flow_text_check(name, strlen(name), NULL) != FLOW_TEXT_OK) { ok = 0; break; }   /* the generic way names it */
        p->name[i] = flow_xstrdup(name);
        p->key[i] = flow_sql_key(name);
        p->name_bytes[i] = strlen(name) + 3;
        p->field[i] = COL_UNDECLARED;
        for (int k = 0; k < t->nfields; k++)
            if (strcmp(t->fields[k].name, name) == 0) { p->field[i] = k; seen[k] = 1; break; }
    }
    for (int k = 0; k < t->nfields && ok; k++) {
        FlowTSlot dummy;
        if (seen[k]) continue;
        if (flow_tslot_absent(t->fields[k].type, 0, &dummy)) ok = 0;   /* missing: every row is the generic way's error */
        else p->absent[p->nabsent++] = k;
    }
    free(seen);
    if (!ok) { plan_free(p); return NULL; }
    r->plans = flow_xrealloc(r->plans, sizeof *r->plans * (size_t)(r->nplans + 1));
    r->plans[r->nplans++] = p;
    return p;
}

void eng_rows_free(FlowRows *r) {
    for (int i = 0; i < r->nplans; i++) plan_free(r->plans[i]);
    free(r->plans);
    r->plans = NULL;
    r->nplans = 0;
}

/* A declared field's slot from its column's value (not null), as validate.c takes it: fits(), with
 * SQL's 0 / 1 read as bools (coerce_bools; *v becomes the bool the tree holds then); a scalar's
 * value as flow_field gives it for the declared kind (flow_val_from_json). 0, or -1: a misfit. */
static int take_field(const FlowTypeDef *t, FlowVal *v, FlowTSlot *out) {
    *out = flow_tslot_null;
    out->null = 0;
    if (!t || (t->kind == FLOW_JSON && !t->is_record && !t->is_array)) return 0;   /* any value; typed code does not read it */
    if (t->is_record || t->is_array) return -1;
    switch (t->kind) {
    case FLOW_STRING: if (v->kind != FLOW_STRING) return -1; out->v = *v; return 0;
    case FLOW_INT: if (v->kind != FLOW_INT) return -1; out->v = *v; return 0;
    case FLOW_DURATION: if (v->kind != FLOW_INT) return -1; out->v = flow_duration(v->i); return 0;
    case FLOW_NUMBER:
        if (v->kind == FLOW_INT) out->v = flow_number((double)v->i);
        else if (v->kind == FLOW_NUMBER) out->v = *v;
        else return -1;
        return 0;
    case FLOW_BOOL:
        if (v->kind == FLOW_INT && (v->i == 0 || v->i == 1)) *v = flow_bool(v->i == 1);
        else if (v->kind == FLOW_NUMBER && (v->n == 0 || v->n == 1)) *v = flow_bool(v->n == 1);
        else if (v->kind != FLOW_BOOL) return -1;
        out->v = *v;
        return 0;
    case FLOW_DATETIME: {   /* the value flow_val_from_json reads from the generic row: ISO-8601 text, or epoch seconds */
        int64_t ms;
        if (v->kind == FLOW_INT || v->kind == FLOW_NUMBER) {
            if (!flow_datetime_of_seconds(v->kind == FLOW_INT ? (double)v->i : v->n, &ms)) return -1;
        } else if (v->kind != FLOW_STRING || !flow_parse_iso8601(v->s.p, v->s.n, &ms)) return -1;
        out->v = flow_datetime(ms);
        return 0;
    }
    default: return -1;   /* FLOW_NULL takes only null */
    }
}

static size_t val_size(FlowVal v) {
    switch (v.kind) {
    case FLOW_BOOL: return v.b ? 4 : 5;
    case FLOW_INT: return eng_num_size((double)v.i);
    case FLOW_NUMBER: return eng_num_size(v.n);
    case FLOW_STRING: return v.s.n + 2;
    default: return 4;
    }
}

int flow_rows_take(FlowRows *r, const FlowRowPlan *p, const FlowVal *cols, size_t sent) {
    const FlowTypeDef *t = r->type;
    int nf = t->nfields;
    size_t text = 0;
    for (int i = 0; i < p->n; i++) {   /* the values every record must hold (validate.c, check_values) */
        if (p->field[i] == COL_SKIPPED) continue;
        const FlowVal *v = &cols[i];
        switch (v->kind) {
        case FLOW_NULL: case FLOW_BOOL: case FLOW_INT: break;
        case FLOW_NUMBER: if (!isfinite(v->n)) return -1; break;
        case FLOW_STRING:
            if (v->s.n && flow_text_check(v->s.p, v->s.n, NULL) != FLOW_TEXT_OK) return -1;   /* a NUL byte, or not UTF-8 */
            text += v->s.n + 1;
            break;
        default: return -1;
        }
    }
    /* one piece of the page's arena: the root, its slots, the columns kept, their text */
    char *m = flow_arena_alloc(r->arena, sizeof(FlowTSlot) * (size_t)(nf + 1) + sizeof(FlowVal) * (size_t)p->n + text);
    FlowTSlot *root = (FlowTSlot *)m, *kids = root + 1;
    FlowVal *keep = (FlowVal *)(kids + nf);
    char *tp = (char *)(keep + p->n);
    size_t bytes = 2;
    int members = 0;
    for (int i = 0; i < p->n; i++) {
        int k = p->field[i];
        if (k == COL_SKIPPED) continue;
        FlowVal v = cols[i];
        if (v.kind == FLOW_STRING) {
            if (v.s.n) memcpy(tp, v.s.p, v.s.n);
            tp[v.s.n] = 0;
            v.s.p = tp;
            tp += v.s.n + 1;
        }
        if (k >= 0) {
            if (v.kind == FLOW_NULL ? flow_tslot_absent(t->fields[k].type, 1, &kids[k]) : take_field(t->fields[k].type, &v, &kids[k]))
                return -1;
        }
        keep[i] = v;
        if (!sent) bytes += p->name_bytes[i] + val_size(v);
        members++;
    }
    bytes += members ? (size_t)members - 1 : 0;   /* the commas */
    for (int j = 0; j < p->nabsent; j++) kids[p->absent[j]] = flow_tslot_null;
    root->v = flow_null();
    root->kids = nf ? kids : NULL;
    root->n = nf;
    root->null = 0;
    r->took = root;
    r->took_plan = p;
    r->took_cols = keep;
    r->took_bytes = sent ? sent : bytes;
    return 0;
}

cJSON *eng_row_tree(const FlowRowPlan *p, const FlowVal *cols) {
    cJSON *o = cJSON_CreateObject();
    if (!o) abort();
    for (int i = 0; i < p->n; i++) {
        if (p->field[i] == COL_SKIPPED) continue;
        cJSON *j = flow_val_to_json(cols[i]);   /* null, bool, int, finite number or text: a column's value */
        if (!j) abort();
        if (p->key[i]) cJSON_AddItemToObjectCS(o, p->key[i], j);
        else cJSON_AddItemToObject(o, p->name[i], j);
    }
    return o;
}
