/* conn_mock.c — the connector `flowc test` puts in place of every connection (and `flowc preview`
 * in place of mocked steps and imports that do not write): the export and the lookups answer with
 * the given data; imports capture what they would write — an http import's rendered `body`, else
 * the mapped output — and an upsert finds `given existing`, when there is one, as the destination's
 * record. Its steps' settings are matched, checked and evaluated by the settings table of the
 * connection kind it stands in for (settings.c). */
#include "engine.h"
#include <stdlib.h>
#include <string.h>

typedef struct MockStep {
    const FlowMocks *m;
    const FlowSettings *s;
    const cJSON *data;       /* given[name]: the export's records, a lookup's rows */
    const cJSON *next;
    const cJSON *existing;   /* given["existing"]: the record an upsert finds at the destination */
    char name[128];
} MockStep;

/* "export orders" -> "orders" */
static const char *step_name(const FlowSettings *s) {
    const char *o = flow_settings_owner(s);
    const char *sp = strchr(o, ' ');
    return sp ? sp + 1 : o;
}

static void *m_open(const FlowSettings *s, unsigned uses, FlowErr *err) { (void)s; (void)uses; (void)err; return (void *)1; }
static int m_finish(void *conn, int ok, FlowErr *err) { (void)conn; (void)ok; (void)err; return 0; }
static void m_close(void *conn) { (void)conn; }

static MockStep *step_new(void *conn, const FlowSettings *s) {
    MockStep *x = calloc(1, sizeof *x);
    if (!x) abort();
    x->m = conn;
    x->s = s;
    snprintf(x->name, sizeof x->name, "%s", step_name(s));
    x->data = x->m && x->m->given ? cJSON_GetObjectItemCaseSensitive(x->m->given, x->name) : NULL;
    x->existing = x->m && x->m->given ? cJSON_GetObjectItemCaseSensitive(x->m->given, "existing") : NULL;
    return x;
}

static void *m_export_open(void *conn, const FlowSettings *s, FlowErr *err) {
    MockStep *x = step_new(conn, s);
    if (x->data && !cJSON_IsArray(x->data)) {
        flow_err_set(err, FLOW_ERR_VALUE, "the test gives export %s something that is not an array of records", x->name);
        free(x);
        return NULL;
    }
    x->next = x->data ? x->data->child : NULL;
    return x;
}

static int m_export_next(void *h, FlowExportItem *it, FlowErr *err) {
    (void)err;
    MockStep *x = h;
    if (!x->next) return FLOW_NEXT_END;
    const cJSON *r = x->next;
    x->next = r->next;
    it->rec = cJSON_Duplicate(r, 1);
    if (!cJSON_IsObject(r)) {
        flow_err_set(&it->err, FLOW_ERR_VALUE, "a given record is not an object");
        return FLOW_NEXT_ERROR;
    }
    return FLOW_NEXT_RECORD;
}

static void m_step_close(void *h) { free(h); }

static void *m_lookup_open(void *conn, const FlowSettings *s, FlowErr *err) { (void)err; return step_new(conn, s); }

static int m_lookup(void *h, const cJSON *rs, cJSON **rows, FlowErr *err) {
    (void)rs; (void)err;
    MockStep *x = h;
    if (!x->data || cJSON_IsNull(x->data)) *rows = cJSON_CreateArray();
    else if (cJSON_IsArray(x->data)) *rows = cJSON_Duplicate(x->data, 1);
    else { *rows = cJSON_CreateArray(); cJSON_AddItemToArray(*rows, cJSON_Duplicate(x->data, 1)); }
    return 0;
}

static void *m_import_open(void *conn, const FlowSettings *s, FlowErr *err) { (void)err; return step_new(conn, s); }

cJSON *flow_import_sent(const FlowSettings *s, const FlowImportItem *it) {
    const char *body = flow_setting_str(s, it->rs, "body", NULL);
    cJSON *b = body ? flow_json_parse(body, strlen(body), NULL) : NULL;   /* the one reader: ints exact */
    if (body && !b) b = cJSON_CreateString(body);
    return b ? b : cJSON_Duplicate(it->out, 1);
}

/* An upsert (http `upsert = by(...)`, sql `mode = upsert(...)`) finds the given existing record for
 * every record; other imports, and tests that give none, create. */
static int m_import_existing(void *h, const cJSON *rs, const cJSON *out, cJSON **existing, FlowErr *err) {
    (void)out; (void)err;
    MockStep *x = h;
    int upsert = flow_setting(x->s, rs, "upsert") != NULL || strcmp(flow_setting_ctor(x->s, rs, "mode", ""), "upsert") == 0;
    *existing = upsert && cJSON_IsObject(x->existing) ? cJSON_Duplicate(x->existing, 1) : NULL;
    return 0;
}

static int m_import_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    (void)err;
    MockStep *x = h;
    if (!x->m || !x->m->captured) return 0;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(x->m->captured, x->name);
    if (!arr) arr = cJSON_AddArrayToObject(x->m->captured, x->name);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, flow_import_sent(x->s, &items[i]));
    return 0;
}

const FlowConnector flow_conn_mock = {
    .kind = "mock",
    .open = m_open, .finish = m_finish, .close = m_close,
    .export_open = m_export_open, .export_next = m_export_next, .export_close = m_step_close,
    .lookup_open = m_lookup_open, .lookup = m_lookup, .lookup_close = m_step_close,
    .import_open = m_import_open, .import_existing = m_import_existing, .import_page = m_import_page,
    .import_close = m_step_close,
};
