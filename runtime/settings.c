/* settings.c — a connection's or step's settings: constants evaluated once per run, per-record
 * ones per record, each checked (and normalized) against the connector's settings table for its
 * kind and place; what connectors ask of them (flow_setting*, flow_setting_eval, the request log
 * of a preview), and how describe shows one. Secret settings' values join the run's secrets. */
#include "engine_int.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct FlowSettings {
    char owner[160];
    const FlowSettingDef *defs; int n;
    cJSON **konst;                      /* evaluated constants (NULL for per-record ones) */
    const FlowSettingSpec **specs;      /* the table entry each one matched */
    struct Run *R;                      /* the run, for evaluating settings again */
    cJSON *log;                         /* a preview: the requests of the step, until its trace takes them */
    const char *debug_conn;             /* a debug window is open on its connection (this name): its requests are written */
};

const char *flow_settings_owner(const FlowSettings *s) { return s->owner; }

const cJSON *flow_setting(const FlowSettings *s, const cJSON *rs, const char *name) {
    if (!s) return NULL;
    for (int i = 0; i < s->n; i++) {
        if (!s->defs[i].name || strcmp(s->defs[i].name, name) != 0) continue;
        if (s->defs[i].per_record) return rs ? cJSON_GetObjectItemCaseSensitive(rs, name) : NULL;
        return s->konst[i];
    }
    return NULL;
}

const char *flow_setting_str(const FlowSettings *s, const cJSON *rs, const char *name, const char *dflt) {
    const cJSON *j = flow_setting(s, rs, name);
    return cJSON_IsString(j) ? j->valuestring : dflt;
}

const char *flow_setting_ctor(const FlowSettings *s, const cJSON *rs, const char *name, const char *dflt) {
    const cJSON *j = flow_setting(s, rs, name);
    if (cJSON_IsString(j)) return j->valuestring;
    if (cJSON_IsNull(j)) return "null";   /* on_missing = null */
    if (cJSON_IsObject(j)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "ctor");
        if (cJSON_IsString(c)) return c->valuestring;
    }
    return dflt;
}

void eng_settings_free(FlowSettings *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) cJSON_Delete(s->konst[i]);
    cJSON_Delete(s->log);
    free(s->konst);
    free(s->specs);
    free(s);
}

/* Checks (and normalizes: null as the word "null") one evaluated value; 0, or -1 with why. */
static int check_value(const FlowSettingSpec *sp, cJSON **pj, char *why, size_t cap) {
    cJSON *j = *pj;
    char choices[200];
    switch (sp->type) {
    case FLOW_SETT_STRING:
        if (cJSON_IsString(j)) return 0;
        snprintf(why, cap, "must be a string");
        return -1;
    case FLOW_SETT_INT:
    case FLOW_SETT_NUMBER:
        if (!cJSON_IsNumber(j) || (sp->type == FLOW_SETT_INT && j->valuedouble != floor(j->valuedouble))) {
            snprintf(why, cap, sp->type == FLOW_SETT_INT ? "must be a whole number" : "must be a number");
            return -1;
        }
        return flow_setting_check_range(sp->name, sp->ctype, j->valuedouble, why, cap) ? -1 : 0;
    case FLOW_SETT_WORD:
        if (cJSON_IsNull(j) && flow_setting_accepts(sp, "null")) {
            cJSON_Delete(j);
            *pj = cJSON_CreateString("null");
            return 0;
        }
        if (cJSON_IsString(j) && flow_setting_accepts(sp, j->valuestring)) return 0;
        flow_setting_choices(sp, choices, sizeof choices);
        snprintf(why, cap, "must be one of %s", choices);
        return -1;
    case FLOW_SETT_CTOR: {
        const char *name = NULL;
        if (cJSON_IsString(j)) name = j->valuestring;
        else if (cJSON_IsObject(j)) {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "ctor");
            if (cJSON_IsString(c)) name = c->valuestring;
        }
        if (name && flow_setting_accepts(sp, name)) return 0;
        flow_setting_choices(sp, choices, sizeof choices);
        snprintf(why, cap, "must be one of %s", choices);
        return -1;
    }
    case FLOW_SETT_ARGS:
        if (cJSON_IsArray(j)) return 0;
        snprintf(why, cap, "must be an array");
        return -1;
    case FLOW_SETT_BOOL:
        if (cJSON_IsBool(j)) return 0;
        snprintf(why, cap, "must be true or false");
        return -1;
    case FLOW_SETT_ANY:
    case FLOW_SETT_EXPR:
        return 0;
    }
    return 0;
}

static const char *place_name(FlowSettingPlace at) {
    return at == FLOW_AT_CONN ? "connections" : at == FLOW_AT_EXPORT ? "exports" : at == FLOW_AT_LOOKUP ? "lookups" : "imports";
}

/* A FlowVal from a setting function as a fresh tree, checked against the spec. */
static cJSON *eval_setting(Run *R, const FlowSettingDef *d, const FlowSettingSpec *sp, const Inst *in, FlowErr *e) {
    eng_ctx_enter(R, in);
    FlowVal v = d->konst ? d->konst(R->cx) : d->per_record ? d->per_record(R->cx, in ? in->rec : NULL) : flow_null();
    if (flow_failed(R->cx)) {
        eng_take_error(R, e, d->name);
        eng_ctx_leave(R);
        return NULL;
    }
    cJSON *j = flow_val_to_json(v);
    eng_ctx_leave(R);
    char why[256];
    if (sp && check_value(sp, &j, why, sizeof why)) {
        flow_err_set(e, FLOW_ERR_VALUE, "setting %s %s", d->name, why);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* A FlowSettings for `owner` (a connection or a step) of a connection of `kind`, checked against the
 * settings table of that kind whichever connector answers (a test's or preview's mock is checked as
 * the kind it stands in for). kind NULL: no settings (a test's connections are not touched). */
FlowSettings *eng_settings_new(Run *R, const char *owner, const FlowSettingDef *defs, int n,
                                  const char *kind, FlowSettingPlace at) {
    FlowSettings *s = flow_xcalloc(1, sizeof *s);
    s->R = R;
    snprintf(s->owner, sizeof s->owner, "%s", owner);
    s->defs = defs;
    s->n = n;
    s->konst = flow_xcalloc((size_t)n, sizeof *s->konst);
    s->specs = flow_xcalloc((size_t)n, sizeof *s->specs);
    for (int i = 0; i < n; i++) {
        const FlowSettingDef *d = &defs[i];
        if (!d->name) continue;
        const FlowSettingSpec *sp = flow_setting_spec(kind, at, d->name);
        if (!sp) {
            char known[512] = "";
            size_t kl = 0;
            for (int k = 0; k < flow_nsetting_specs; k++) {
                const FlowSettingSpec *o = &flow_setting_specs[k];
                if (kind && o->at == at && strcmp(o->kind, kind) == 0 && kl < sizeof known)
                    kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", kl ? ", " : "", o->name);
            }
            eng_run_fail(R, "%s: %s %s take no setting `%s` (known: %s)", owner, kind ? kind : "these", place_name(at), d->name,
                     kl ? known : "none");
            goto bad;
        }
        s->specs[i] = sp;
        if (sp->type == FLOW_SETT_EXPR) continue;   /* the connector evaluates it when it needs it */
        if (d->per_record) {
            /* an export's mode may use the record: once(flag, mark = patch("/orders/{{record.id}}")) */
            if (at == FLOW_AT_CONN || sp->step || (at == FLOW_AT_EXPORT && strcmp(d->name, "mode") != 0)) {
                eng_run_fail(R, "%s: setting %s cannot depend on the record", owner, d->name);
                goto bad;
            }
            continue;
        }
        FlowErr e;
        s->konst[i] = eval_setting(R, d, sp, NULL, &e);
        if (!s->konst[i]) {
            eng_run_fail_cls(R, e.cls, "%s: %s", owner, e.msg);
            goto bad;
        }
        if (d->secret || sp->secret) eng_collect_secrets(R, s->konst[i]);
    }
    for (int k = 0; kind && k < flow_nsetting_specs; k++) {
        const FlowSettingSpec *sp = &flow_setting_specs[k];
        if (sp->at != at || !sp->required || strcmp(sp->kind, kind) != 0) continue;
        int have = 0;
        for (int i = 0; i < n && !have; i++) have = defs[i].name && strcmp(defs[i].name, sp->name) == 0;
        if (!have) {
            eng_run_fail(R, "%s: setting %s is required", owner, sp->name);
            goto bad;
        }
    }
    return s;
bad:
    eng_settings_free(s);
    return NULL;
}

cJSON *flow_setting_eval(const FlowSettings *s, const char *name, int64_t page, const cJSON *response, FlowErr *err) {
    err->msg[0] = 0;
    err->cls = FLOW_ERR_VALUE;
    if (!s) return NULL;
    for (int i = 0; i < s->n; i++) {
        const FlowSettingDef *d = &s->defs[i];
        if (!d->name || strcmp(d->name, name) != 0) continue;
        Run *R = s->R;
        if (page > 0) flow_run_set_contexts(R->cx, R->ri, R->f->name, page, R->page_size);
        flow_ctx_set_response(R->cx, response);
        FlowErr e;
        cJSON *j = eval_setting(R, d, s->specs[i] && s->specs[i]->type != FLOW_SETT_EXPR ? s->specs[i] : NULL, NULL, &e);
        flow_ctx_set_response(R->cx, NULL);
        if (page > 0) flow_run_set_contexts(R->cx, R->ri, R->f->name, R->page, R->page_size);
        if (!j) { flow_err_set(err, e.cls, "setting %s: %s", name, e.msg); return NULL; }
        if (d->secret || (s->specs[i] && s->specs[i]->secret)) eng_collect_secrets(R, j);
        return j;
    }
    return NULL;
}

const char *flow_settings_flow(const FlowSettings *s) { return s && s->R ? s->R->f->name : ""; }
const FlowRunInfo *flow_settings_run(const FlowSettings *s) { return s && s->R ? s->R->ri : NULL; }
int flow_settings_retrying(const FlowSettings *s) { return s && s->R->ri->retry != NULL; }

static int previewing(const FlowSettings *s) { return s && s->R->ri->mocks && s->R->ri->mocks->trace; }

int flow_settings_tracing(const FlowSettings *s) { return previewing(s) || (s && s->debug_conn); }

int eng_settings_debugging(const FlowSettings *s) { return s && s->debug_conn && !previewing(s); }

void eng_settings_debug(FlowSettings *s, const char *conn) {
    const char *l = s ? s->R->ri->debug_conns : NULL;
    if (!l || !s->R->ri->debug) return;
    size_t n = strlen(conn);
    for (const char *p = l; *p;) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == n && strncmp(p, conn, n) == 0) { s->debug_conn = conn; return; }
        p += k + (comma != NULL);
    }
}

void flow_settings_log(const FlowSettings *s, cJSON *exchange) {
    if (eng_settings_debugging(s)) { eng_debug_write(s->R, s->debug_conn, s->owner, exchange); return; }
    if (!previewing(s)) { cJSON_Delete(exchange); return; }
    FlowSettings *w = (FlowSettings *)s;
    if (!w->log) w->log = cJSON_CreateArray();
    cJSON_AddItemToArray(w->log, exchange);
}

/* The requests a preview logged for the step (owned by the caller), taken: NULL when none. */
cJSON *eng_settings_take_log(FlowSettings *s) {
    if (!s) return NULL;
    cJSON *log = s->log;
    s->log = NULL;
    return log;
}

/* per-record settings of a step for one record, as an object (NULL when it has none); -1 with e */
int eng_settings_per_record(const FlowSettings *s) {
    for (int i = 0; s && i < s->n; i++) if (s->defs[i].name && s->defs[i].per_record) return 1;
    return 0;
}

int eng_eval_rs(Run *R, const StepRt *s, const Inst *in, cJSON **rs, FlowErr *e) {
    *rs = NULL;
    if (!s->s) return 0;
    for (int i = 0; i < s->s->n; i++) {
        const FlowSettingDef *d = &s->s->defs[i];
        if (!d->name || !d->per_record) continue;
        cJSON *j = eval_setting(R, d, s->s->specs[i], in, e);
        if (!j) { cJSON_Delete(*rs); *rs = NULL; return -1; }
        if (!*rs) *rs = cJSON_CreateObject();
        cJSON_AddItemToObject(*rs, d->name, j);
    }
    return 0;
}

cJSON *flow_describe_setting(FlowCtx *cx, const FlowSettingDef *d) {
    if (d->secret) return cJSON_CreateString("<redacted>");
    if (d->per_record) return cJSON_CreateString("<per record>");
    if (!d->konst) return cJSON_CreateNull();
    FlowVal v = d->konst(cx);
    cJSON *j;
    if (flow_failed(cx)) {
        char buf[700];
        snprintf(buf, sizeof buf, "<error: %s>", flow_error_message(cx));
        j = cJSON_CreateString(buf);
    } else j = flow_val_to_json(v);
    flow_scratch_reset(cx);
    flow_clear_error(cx);
    return j;
}
