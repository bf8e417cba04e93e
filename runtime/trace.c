/* trace.c — a preview's trace: what each step received and passed on (a lookup's results too),
 * the requests the step logged, and what a live preview's imports wrote; and a debug window's
 * lines: the requests of the steps on a connection being debugged, redacted, as NDJSON. */
#include "engine_int.h"
#include <string.h>

/* The step's logged requests move into its trace entry. */
static void trace_requests(cJSON *entry, const StepRt *s) {
    cJSON *log = entry ? eng_settings_take_log(s->s) : NULL;
    if (log) cJSON_AddItemToObject(entry, "requests", log);
}

/* A live preview: what a real import wrote (the records its destination took) goes where the mock
 * puts what it would write, so the preview shows it. */
void eng_preview_wrote(Run *R, const StepRt *s, const FlowImportItem *items, int n) {
    const FlowMocks *mk = R->ri->mocks;
    if (!mk || mk->mode != FLOW_MOCK_PREVIEW || !mk->live || !mk->captured) return;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(mk->captured, s->def->name);
    if (!arr) arr = cJSON_AddArrayToObject(mk->captured, s->def->name);
    for (int k = 0; k < n; k++)
        if (!items[k].failed) cJSON_AddItemToArray(arr, flow_import_sent(s->s, &items[k]));
}

/* copies of a list's records (lookup_id >= 0: of their results of that lookup), as an array */
/* copies of a list's records (lookup_id >= 0: their results of that lookup), as an array */
static cJSON *trace_records(const List *L, int lookup_id) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < L->n; i++) {
        if (lookup_id >= 0) {
            const cJSON *res = L->v[i]->lk ? L->v[i]->lk[lookup_id] : NULL;
            cJSON_AddItemToArray(a, res ? cJSON_Duplicate(res, 1) : cJSON_CreateNull());
        } else cJSON_AddItemToArray(a, cJSON_Duplicate(L->v[i]->rec, 1));
    }
    return a;
}

cJSON *eng_trace_begin(Run *R, const StepRt *s, const List *L) {
    cJSON *t = R->ri->mocks ? R->ri->mocks->trace : NULL;
    if (!t) return NULL;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "step", s->label);
    cJSON_AddStringToObject(e, "kind", eng_step_kind_names[s->def->kind]);
    if (R->arm) cJSON_AddStringToObject(e, "arm", R->arm);
    cJSON_AddItemToObject(e, "in", trace_records(L, -1));
    cJSON_AddItemToArray(t, e);
    return e;
}

void eng_trace_end(cJSON *e, const StepRt *s, const List *L) {
    if (!e) return;
    trace_requests(e, s);
    cJSON_AddItemToObject(e, "out", trace_records(L, -1));
    if (s->def->kind == FLOW_STEP_LOOKUP) cJSON_AddItemToObject(e, "results", trace_records(L, s->def->id));
}

/* A preview's entry for the export: the page it passed on, and its requests. */
void eng_trace_export(Run *R, const StepRt *ex, const List *page) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "step", ex->label);
    cJSON_AddStringToObject(e, "kind", "export");
    cJSON_AddItemToObject(e, "out", trace_records(page, -1));
    trace_requests(e, ex);
    cJSON_AddItemToArray(R->ri->mocks->trace, e);
}

void eng_debug_write(Run *R, const char *conn, const char *step, cJSON *exchange) {
    if (!R->ri->debug || R->debug_lines >= FLOW_DEBUG_MAX_LINES) { cJSON_Delete(exchange); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "connection", conn);
    cJSON_AddStringToObject(o, "flow", R->f->name);
    cJSON_AddStringToObject(o, "step", step);
    cJSON_AddStringToObject(o, "run_id", R->ri->run_id);
    cJSON_AddNumberToObject(o, "at", (double)flow_wall_ms());
    if (++R->debug_lines == FLOW_DEBUG_MAX_LINES) cJSON_AddBoolToObject(o, "last", 1);   /* the run records no more */
    cJSON_AddItemToObject(o, "exchange", exchange);
    eng_redact_tree(R, o->child);
    char *t = flow_json_print(o);
    if (t) { fputs(t, R->ri->debug); fputc('\n', R->ri->debug); fflush(R->ri->debug); }
    cJSON_free(t);
    cJSON_Delete(o);
}

void eng_debug_sql(const StepRt *s, long rows, long failed) {
    if (!s->conn || !eng_settings_debugging(s->s) || s->c != s->conn->c || !s->c->sql) return;
    cJSON *x = cJSON_CreateObject();
    const char *sql = flow_setting_str(s->s, NULL, "sql", NULL);
    if (sql) {
        cJSON_AddStringToObject(x, "sql", sql);
        const cJSON *args = flow_setting(s->s, NULL, "args");
        if (args) cJSON_AddItemToObject(x, "args", cJSON_Duplicate(args, 1));
    } else cJSON_AddStringToObject(x, "table", flow_setting_str(s->s, NULL, "table", ""));
    cJSON_AddNumberToObject(x, s->def->kind == FLOW_STEP_LOOKUP ? "lookups" : "rows", (double)rows);
    if (s->def->kind == FLOW_STEP_IMPORT) cJSON_AddNumberToObject(x, "failed", (double)failed);
    flow_settings_log(s->s, x);
}
