/* engine.c — runs one flow of a program table: opens its connections and steps with their settings
 * (constants evaluated once per run, per-record ones per record, both checked against the
 * connector's settings table), pulls pages of records from the export, validates them against the
 * declared type, and moves each page step by step through filters, transforms, lookups, branches
 * (whose arms merge again afterwards) and imports. Every record ends imported, ignored or as an
 * error with a class, a message and the record's data as it entered the failing step; errors are
 * written one line each, secrets redacted, and counted. */
#include "engine.h"
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ERROR_DATA_MAX 4096      /* record data printed with an error line, in bytes */

void flow_err_set(FlowErr *e, FlowErrorClass cls, const char *fmt, ...) {
    e->cls = cls;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

const FlowConnector *flow_connector(const char *kind) {
    static const FlowConnector *const all[] = { &flow_conn_file, &flow_conn_stdio, &flow_conn_sqlite, &flow_conn_http, &flow_conn_postgres,
                                                &flow_conn_webhook };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->kind, kind) == 0) return all[i];
    return NULL;
}

/* ---- settings ---- */

struct Run;
struct FlowSettings {
    char owner[160];
    const FlowSettingDef *defs; int n;
    cJSON **konst;                      /* evaluated constants (NULL for per-record ones) */
    const FlowSettingSpec **specs;      /* the table entry each one matched */
    struct Run *R;                      /* the run, for evaluating settings again */
    cJSON *log;                         /* a preview: the requests of the step, until its trace takes them */
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

static int settings_per_record(const FlowSettings *s) {
    for (int i = 0; s && i < s->n; i++) if (s->defs[i].name && s->defs[i].per_record) return 1;
    return 0;
}

static void settings_free(FlowSettings *s) {
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

/* ---- one flow's run ---- */

typedef struct ConnRt {
    const FlowConnDef *def;
    const FlowConnector *c;
    FlowSettings *s;
    void *state;
    unsigned uses;
    int committed;           /* its finish committed what the run wrote */
} ConnRt;

typedef struct StepRt {
    const FlowStepDef *def;
    ConnRt *conn;
    const FlowConnector *c;  /* the connector this step uses: its connection's, or the mock (test, preview) */
    FlowSettings *s;
    void *h;                 /* export / lookup / import handle */
    int import_index;
    int on_missing;          /* 0 fail, 1 skip, 2 null */
    int on_many_first;
    char label[96];
    /* an import's per-page arrays, kept from page to page (grown, never shrunk; freed with the run) */
    struct FlowImportItem *items;
    struct Inst **owner;
    int cap;
} StepRt;

typedef struct Inst {        /* a record (or a copy of it after an all_matching branch) on its way */
    cJSON *rec;              /* NULL while only its typed form exists (inst_rec makes it) */
    const FlowTSlot *trec;   /* typed: the record decoded into slots (the page arena), or NULL */
    const char *raw; size_t rawn;   /* typed: its JSON text as exported (the page arena) */
    char *trace;             /* its trace key (owned), when the run keeps state */
    cJSON **lk;              /* lookup results by step id (owned) */
    long seq;                /* its position in the page: arms merge back in this order */
    long ord;
    int imported;
} Inst;

typedef struct List { Inst **v; int n, cap; } List;

typedef struct Run {
    const FlowProgram *p;
    const FlowFlowDef *f;
    FlowCtx *cx;
    const FlowRunInfo *ri;
    FILE *errs;
    FlowRunStats *st;
    ConnRt *conns;
    StepRt *steps; int nsteps;     /* by step id */
    int nslots;
    char **secrets; int nsecrets, capsecrets;
    int nctx_secrets;              /* env() values of the context already among `secrets` */
    int failed;
    int64_t page;
    long page_size, limit;
    const char *arm;               /* preview trace: the branch arm whose steps run now */
    FlowRunInfo rl;                /* this run's info (ri points here): the delta window is set per flow */
    char *delta_field;             /* delta(field): records outside the window are dropped */
    char *once_flag;               /* once(flag): records whose flag is true are not exported; the rest
                                      get it set, page by page */
    const FlowSettingDef *mode_def;   /* the export's mode setting (evaluated per record for once) */
    long open_errors;              /* open errors of the flow when the run began (auto-resolve needs any) */
    FlowTimeLayout bound;          /* delta(field): the field's layout kept with the delta time, which an SQL
                                      export's window was bound in (unknown: two days either side) */
    FlowTimeLayout seen;           /* ...the layout the records show this run */
    int layout_mixed;              /* ...they show two */
    int sql_bound;                 /* the export's settings saw the window as the source compares it */
    int pages_final;               /* no import of the flow commits at finish: a page is written for good when it ends */
    /* typed records (flow.h): taken straight from the export's text when the flow's steps have typed
     * variants and nothing needs the generic tree first; they live in the page arena */
    int typed;
    FlowArena arena;
    FlowBuf tbuf;                  /* typed maps' output for the import being written */
    const FlowTSlot *took; const char *took_raw; size_t took_rawn;   /* the record take_typed decoded last */
} Run;

static void list_push(List *l, Inst *in) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = realloc(l->v, sizeof *l->v * (size_t)l->cap);
        if (!l->v) abort();
    }
    l->v[l->n++] = in;
}

static Inst *inst_new(Run *R, cJSON *rec, long seq) {
    Inst *in = flow_xcalloc(1, sizeof *in);
    in->rec = rec;
    in->lk = flow_xcalloc((size_t)R->nslots, sizeof *in->lk);
    in->seq = seq;
    return in;
}

static Inst *inst_copy(Run *R, const Inst *src) {
    Inst *in = inst_new(R, cJSON_Duplicate(src->rec, 1), src->seq);
    for (int i = 0; i < R->nslots; i++) in->lk[i] = src->lk[i] ? cJSON_Duplicate(src->lk[i], 1) : NULL;
    in->imported = src->imported;
    in->trace = src->trace ? flow_xstrdup(src->trace) : NULL;
    return in;
}

static void inst_free(Run *R, Inst *in) {
    if (!in) return;
    cJSON_Delete(in->rec);
    for (int i = 0; i < R->nslots; i++) cJSON_Delete(in->lk[i]);
    free(in->lk);
    free(in->trace);
    free(in);
}

static void list_free(Run *R, List *l) {
    for (int i = 0; i < l->n; i++) inst_free(R, l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static char *trace_key_of(const cJSON *rec);

/* The record as a cJSON tree, made from its text when only its typed form exists yet (the steps
 * that have no typed variant, hooks, errors). Its trace key is the one of the record as exported. */
static cJSON *inst_rec(Run *R, Inst *in) {
    if (!in->rec && in->raw) {
        in->rec = flow_json_parse(in->raw, in->rawn, NULL);
        if (!in->rec) in->rec = cJSON_CreateObject();   /* cannot happen: the typed decoder read it */
        if (R->rl.state && !in->trace) in->trace = trace_key_of(in->rec);
    }
    return in->rec;
}

static void list_materialize(Run *R, List *L) {
    for (int i = 0; i < L->n; i++) inst_rec(R, L->v[i]);
}

/* ---- secrets: texts never printed ----
 * Every secret (the values of secret settings, secret params, env() values, masked literals) is
 * kept in every form it can take in what the engine prints: as it is, percent-encoded (upper- and
 * lower-case hex), JSON-escaped once and twice (a secret inside a response body inside an exchange
 * inside an error line), and for basic(user, password) the base64 of user:password that an
 * Authorization header (or a server echoing it) carries. redact() replaces them all, longest first,
 * so a secret that contains another never leaves a piece behind. */

static void add_secret_text(Run *R, const char *s) {
    if (!s || strlen(s) < 4) return;   /* shorter texts would redact ordinary words */
    for (int i = 0; i < R->nsecrets; i++) if (strcmp(R->secrets[i], s) == 0) return;
    if (R->nsecrets == R->capsecrets) {
        R->capsecrets = R->capsecrets ? R->capsecrets * 2 : 8;
        R->secrets = realloc(R->secrets, sizeof *R->secrets * (size_t)R->capsecrets);
        if (!R->secrets) abort();
    }
    size_t n = strlen(s);
    int at = R->nsecrets;   /* kept longest first */
    while (at > 0 && strlen(R->secrets[at - 1]) < n) { R->secrets[at] = R->secrets[at - 1]; at--; }
    R->secrets[at] = flow_xstrdup(s);
    R->nsecrets++;
}

/* s as it appears inside a JSON string literal (flow_json_print's escaping), malloc'd */
static char *json_escaped(const char *s) {
    cJSON *j = cJSON_CreateString(s);
    char *t = j ? flow_json_print(j) : NULL;
    cJSON_Delete(j);
    if (!t) return flow_xstrdup(s);
    size_t n = strlen(t);
    char *r = n >= 2 ? strndup(t + 1, n - 2) : flow_xstrdup("");
    cJSON_free(t);
    if (!r) abort();
    return r;
}

/* A secret in every encoding the engine may print it in. */
static void add_secret(Run *R, const char *s) {
    if (!s || strlen(s) < 4) return;
    add_secret_text(R, s);
    size_t n = strlen(s);
    char *u = flow_xcalloc(1, n * 3 + 1);
    flow_pct_encode(u, s, n);
    add_secret_text(R, u);
    for (char *p = u; *p; p++) if (*p == '%') { p[1] = (char)tolower((unsigned char)p[1]); p[2] = (char)tolower((unsigned char)p[2]); }
    add_secret_text(R, u);
    free(u);
    char *j1 = json_escaped(s), *j2 = json_escaped(j1);
    add_secret_text(R, j1);
    add_secret_text(R, j2);
    free(j1);
    free(j2);
}

/* The secrets in a secret setting's value: its strings (a constructor's name and api_key's header
 * name are not secret), and for basic(user, password) the credential as base64. */
static void collect_secrets(Run *R, const cJSON *j) {
    if (!j) return;
    if (cJSON_IsString(j)) { add_secret(R, j->valuestring); return; }
    const cJSON *ctor = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "ctor") : NULL;
    if (cJSON_IsString(ctor) && strcmp(ctor->valuestring, "basic") == 0) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "user"), *pw = cJSON_GetObjectItemCaseSensitive(j, "password");
        if (cJSON_IsString(pw) && *pw->valuestring) {
            const char *us = cJSON_IsString(u) ? u->valuestring : "";
            size_t n = strlen(us) + strlen(pw->valuestring) + 2;
            char *up = flow_xcalloc(1, n);
            snprintf(up, n, "%s:%s", us, pw->valuestring);
            char *b = flow_base64(up, strlen(up));
            add_secret(R, b);
            free(b);
            free(up);
        }
    }
    for (const cJSON *c = j->child; c; c = c->next) {
        if (c->string && (strcmp(c->string, "ctor") == 0 || strcmp(c->string, "header") == 0)) continue;
        collect_secrets(R, c);
    }
}

/* The values of the params the compiler marked secret (they feed a secret setting). */
static void collect_param_secrets(Run *R) {
    for (int i = 0; i < R->p->nparams; i++) {
        if (!R->p->params[i].secret) continue;
        FlowVal v = flow_param(R->cx, i);
        if (flow_is_null(v)) continue;
        FlowStr t = flow_val_text(R->cx, v);
        char *c = strndup(t.p, t.n);
        if (!c) abort();
        add_secret(R, c);
        free(c);
    }
}

/* A copy of s with every secret replaced by <redacted> (malloc'd). */
static char *redact(const Run *R, const char *s) {
    char *out = flow_xstrdup(s);
    /* env() values and masked literals read so far join the secrets, in all their forms */
    Run *W = (Run *)R;
    for (const char *e; (e = flow_ctx_secret(R->cx, W->nctx_secrets)); W->nctx_secrets++) add_secret(W, e);
    for (int i = 0; i < R->nsecrets; i++) {
        const char *sec = R->secrets[i];
        size_t sl = strlen(sec);
        if (!strstr(out, sec)) continue;
        size_t cap = strlen(out) * 2 + 64, n = 0;
        char *buf = flow_xcalloc(1, cap);
        for (const char *p = out; *p;) {
            const char *hit = strstr(p, sec);
            size_t chunk = hit ? (size_t)(hit - p) : strlen(p);
            size_t need = n + chunk + 16;
            if (need >= cap) { cap = need * 2; buf = realloc(buf, cap); if (!buf) abort(); }
            memcpy(buf + n, p, chunk);
            n += chunk;
            if (!hit) break;
            memcpy(buf + n, "<redacted>", 10);
            n += 10;
            p = hit + sl;
        }
        buf[n] = 0;
        free(out);
        out = buf;
    }
    return out;
}

static int run_failv(Run *R, FlowErrorClass cls, const char *fmt, va_list ap) {
    if (R->failed) return -1;
    R->failed = 1;
    R->st->fail_class = (unsigned)cls < FLOW_ERR_COUNT ? flow_error_class_names[cls] : "value";
    char buf[sizeof R->st->fail_msg];
    vsnprintf(buf, sizeof buf, fmt, ap);
    char *r = redact(R, buf);
    snprintf(R->st->fail_msg, sizeof R->st->fail_msg, "%s", r);
    free(r);
    return -1;
}

/* The run fails (the first failure is the one reported): with the class of the error behind it... */
static int run_fail_cls(Run *R, FlowErrorClass cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run_fail_cls(Run *R, FlowErrorClass cls, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = run_failv(R, cls, fmt, ap);
    va_end(ap);
    return r;
}

/* ...or, for a flow that cannot run as written (settings, setup), `value`. */
static int run_fail(Run *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run_fail(Run *R, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = run_failv(R, FLOW_ERR_VALUE, fmt, ap);
    va_end(ap);
    return r;
}

/* A record's trace key, which finds its open errors again in later runs: its `id` when it has one,
 * otherwise a hash of the record as exported. Malloc'd. */
static char *trace_key_of(const cJSON *rec) {
    const cJSON *id = cJSON_IsObject(rec) ? cJSON_GetObjectItemCaseSensitive(rec, "id") : NULL;
    char buf[160];
    char num[32];
    if (cJSON_IsString(id) && *id->valuestring && strlen(id->valuestring) < 120) snprintf(buf, sizeof buf, "id:%s", id->valuestring);
    else if (cJSON_IsNumber(id)) snprintf(buf, sizeof buf, "id:%s", flow_json_num_text(id, num));   /* exact, as printed */
    else {
        char *t = rec ? flow_json_print(rec) : NULL;
        uint64_t h = 14695981039346656037ull;
        for (const char *p = t ? t : "null"; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        cJSON_free(t);
        snprintf(buf, sizeof buf, "h:%016llx", (unsigned long long)h);
    }
    return flow_xstrdup(buf);
}

/* a JSON text with every secret redacted (malloc'd), or NULL */
static char *redacted_json(const Run *R, const cJSON *j) {
    if (!j) return NULL;
    char *t = flow_json_print(j);
    if (!t) return NULL;
    char *r = redact(R, t);
    cJSON_free(t);
    return r;
}

/* the lookup results an Inst carries, for a retry (NULL when none) */
static cJSON *inst_context(const Run *R, const Inst *in) {
    cJSON *lk = NULL;
    for (int i = 0; in && i < R->nslots; i++) {
        if (!in->lk[i]) continue;
        if (!lk) lk = cJSON_CreateObject();
        char k[16];
        snprintf(k, sizeof k, "%d", i);
        cJSON_AddItemToObject(lk, k, cJSON_Duplicate(in->lk[i], 1));
    }
    if (!lk) return NULL;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToObject(c, "lookups", lk);
    return c;
}

/* A record error: counted, one line on the error stream, and kept in the error store. `data` is
 * the record as it entered the step (or what the source held); NULL prints null. `http`, when not
 * NULL, is the request and response behind the error (printed after the record, secrets redacted).
 * `in` (when the record is on its way) gives its trace key and lookup results. */
static void rec_error_core(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, const cJSON *data, const cJSON *http,
                           const Inst *in) {
    R->st->errors++;
    if ((unsigned)cls < FLOW_ERR_COUNT) R->st->by_class[cls]++;
    const char *cname = (unsigned)cls < FLOW_ERR_COUNT ? flow_error_class_names[cls] : "value";
    if (R->ri->mocks && R->ri->mocks->captured) {
        cJSON *errs = cJSON_GetObjectItemCaseSensitive(R->ri->mocks->captured, "errors");
        if (!errs) errs = cJSON_AddArrayToObject(R->ri->mocks->captured, "errors");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "step", s->label);
        cJSON_AddStringToObject(e, "class", cname);
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddItemToObject(e, "record", data ? cJSON_Duplicate(data, 1) : cJSON_CreateNull());
        if (http) cJSON_AddItemToObject(e, "http", cJSON_Duplicate(http, 1));
        cJSON_AddItemToArray(errs, e);
    }
    if (R->ri->state && !R->failed) {   /* kept with its data for a retry; a store that cannot keep it fails the run */
        char *rec = redacted_json(R, data), *hx = redacted_json(R, http), *m = redact(R, msg);
        cJSON *cj = inst_context(R, in);
        char *ctx = redacted_json(R, cj);
        cJSON_Delete(cj);
        char *key = in && in->trace ? NULL : trace_key_of(data);
        FlowStateError se = { R->f->name, s->label, cname, m, rec, ctx, hx, R->ri->run_id, R->ri->started_ms,
                              in && in->trace ? in->trace : key };
        FlowErr e;
        if (flow_state_error_add(R->ri->state, &se, &e) < 0) run_fail_cls(R, e.cls, "cannot keep a record error: %s", e.msg);
        free(rec);
        free(hx);
        free(m);
        free(ctx);
        free(key);
    }
    if (!R->errs || R->rl.quiet_records) return;
    char *hx = http ? flow_json_print(http) : NULL;
    char *d = data ? flow_json_print(data) : NULL;
    const char *dt = d ? d : "null";
    size_t dl = strlen(dt);
    char tail[64] = "";
    if (dl > ERROR_DATA_MAX) {
        snprintf(tail, sizeof tail, "... (%zu bytes)", dl);
        dl = ERROR_DATA_MAX;
    }
    size_t cap = strlen(msg) + dl + strlen(R->f->name) + strlen(s->label) + (hx ? strlen(hx) : 0) + 128;
    char *line = flow_xcalloc(1, cap);
    snprintf(line, cap, "error: flow %s step %s [%s] %s; record: %.*s%s%s%s\n", R->f->name, s->label, cname, msg, (int)dl, dt,
             tail, hx ? "; http: " : "", hx ? hx : "");
    char *r = redact(R, line);
    fputs(r, R->errs);
    free(r);
    free(line);
    cJSON_free(d);
    cJSON_free(hx);
}

static void rec_error(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, const cJSON *data) {
    rec_error_core(R, s, cls, msg, data, NULL, NULL);
}
static void rec_error_in(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, Inst *in) {
    rec_error_core(R, s, cls, msg, inst_rec(R, in), NULL, in);
}
static void rec_error_in_http(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, Inst *in, const cJSON *http) {
    rec_error_core(R, s, cls, msg, inst_rec(R, in), http, in);
}

/* ---- record sizes and declared types ---- */

static size_t json_size(const cJSON *j) {
    if (!j) return 4;
    if (cJSON_IsString(j)) return strlen(j->valuestring) + 2;
    if (cJSON_IsNumber(j)) {
        double d = fabs(j->valuedouble);
        if (d == floor(d) && d < 1e15) { size_t n = 1; while (d >= 10) { d /= 10; n++; } return n + (j->valuedouble < 0); }
        return 20;
    }
    if (cJSON_IsTrue(j) || cJSON_IsNull(j)) return 4;
    if (cJSON_IsFalse(j)) return 5;
    if (cJSON_IsRaw(j)) return j->valuestring ? strlen(j->valuestring) : 0;
    size_t n = 2;
    int obj = cJSON_IsObject(j);
    for (const cJSON *c = j->child; c; c = c->next) {
        n += json_size(c) + (c->next ? 1 : 0);
        if (obj && c->string) n += strlen(c->string) + 3;
    }
    return n;
}

static size_t list_size(const List *l) {
    size_t n = 0;
    for (int i = 0; i < l->n; i++) n += json_size(l->v[i]->rec);
    return n;
}

static const char *type_desc(const FlowTypeDef *t) {
    if (t->is_record) return "an object";
    if (t->is_array) return "an array";
    switch (t->kind) {
    case FLOW_STRING: return "a string";
    case FLOW_INT: return "an int";
    case FLOW_NUMBER: return "a number";
    case FLOW_BOOL: return "a bool";
    case FLOW_DATETIME: return "an ISO-8601 date-time";
    case FLOW_DURATION: return "a duration";
    case FLOW_NULL: return "null";
    case FLOW_JSON: return "JSON";
    }
    return "JSON";
}

/* Appends a and b (b may be NULL) to the path, cut at cap; cheaper than snprintf on this hot path. */
static size_t path_put(char *path, size_t len, size_t cap, const char *a, const char *b) {
    size_t n = len < cap ? len : cap - 1;
    for (const char *s = a; *s && n + 1 < cap; s++) path[n++] = *s;
    for (const char *s = b; s && *s && n + 1 < cap; s++) path[n++] = *s;
    path[n] = 0;
    return n;
}

static int check_type(const cJSON *j, const FlowTypeDef *t, char *path, size_t len, size_t cap, FlowErr *e) {
    path[len < cap ? len : cap - 1] = 0;
    if (!t) return 0;
    if (!j) {
        if (t->nullable || (t->kind == FLOW_JSON && !t->is_record && !t->is_array)) return 0;
        flow_err_set(e, FLOW_ERR_VALUE, "%s is missing", path);
        return -1;
    }
    if (cJSON_IsNull(j)) {
        if (t->nullable || (t->kind == FLOW_JSON && !t->is_record && !t->is_array) || t->kind == FLOW_NULL) return 0;
        flow_err_set(e, FLOW_ERR_VALUE, "%s must be %s, got null", path, type_desc(t));
        return -1;
    }
    if (t->is_record) {
        if (!cJSON_IsObject(j)) goto wrong;
        for (int i = 0; i < t->nfields; i++) {
            const FlowFieldDef *fd = &t->fields[i];
            size_t n = path_put(path, len, cap, ".", fd->name);
            if (check_type(cJSON_GetObjectItemCaseSensitive(j, fd->name), fd->type, path, n, cap, e)) return -1;
            path[len < cap ? len : cap - 1] = 0;
        }
        return 0;
    }
    if (t->is_array) {
        if (!cJSON_IsArray(j)) goto wrong;
        int i = 0;
        for (const cJSON *c = j->child; c; c = c->next, i++) {
            char num[24], *q = num + sizeof num - 1;
            *q = 0;
            *--q = ']';
            unsigned u = (unsigned)i;
            do *--q = (char)('0' + u % 10); while ((u /= 10) && q > num + 1);
            size_t n = path_put(path, len, cap, "[", q);
            if (check_type(c, t->elem, path, n, cap, e)) return -1;
            path[len < cap ? len : cap - 1] = 0;
        }
        return 0;
    }
    switch (t->kind) {
    case FLOW_STRING: if (!cJSON_IsString(j)) goto wrong; return 0;
    case FLOW_BOOL: if (!cJSON_IsBool(j)) goto wrong; return 0;
    case FLOW_NUMBER: case FLOW_DURATION: if (!cJSON_IsNumber(j)) goto wrong; return 0;
    case FLOW_INT: {
        int64_t i;
        char nb[40];
        if (!cJSON_IsNumber(j)) goto wrong;
        if (flow_json_get_int(j, &i)) return 0;
        flow_err_set(e, FLOW_ERR_VALUE, fabs(j->valuedouble) >= 9223372036854775808.0 ? "%s is out of the int range, got %.60s"
                     : "%s must be a whole number, got %.60s", path, flow_json_num_text(j, nb));
        return -1;
    }
    case FLOW_DATETIME: {
        int64_t ms;
        if (cJSON_IsNumber(j) && isfinite(j->valuedouble)) return 0;
        if (cJSON_IsString(j) && flow_parse_iso8601(j->valuestring, strlen(j->valuestring), &ms)) return 0;
        if (cJSON_IsString(j)) {
            flow_err_set(e, FLOW_ERR_VALUE, "%s must be an ISO-8601 date-time, got \"%.40s\"", path, j->valuestring);
            return -1;
        }
        goto wrong;
    }
    case FLOW_NULL: goto wrong;
    case FLOW_JSON: return 0;
    }
    return 0;
wrong:
    flow_err_set(e, FLOW_ERR_VALUE, "%s must be %s, got %s", path, type_desc(t), flow_json_desc(j));
    return -1;
}

static int validate(const cJSON *j, const FlowTypeDef *t, const char *root, FlowErr *e);

/* A scalar item changed in place into another kind (so an object member keeps its name and place:
 * replacing the item instead loses the name, which is how `vip` once became ""). */
static void set_kind(cJSON *v, int type) {
    if (v->valuestring && !(v->type & cJSON_IsReference)) cJSON_free(v->valuestring);
    v->valuestring = NULL;
    v->type = (v->type & ~0xFF) | type;
    v->valueint = type == cJSON_True;
    v->valuedouble = type == cJSON_True;
}

/* CSV cells are text: read those of declared number, int and bool fields as such, ints exactly (a
 * cell that does not read stays text, and validation names it); an empty cell of a nullable field is
 * null. In place. A number cell too large for a double (1e400) stays text too, and is the record's
 * `value` error as a non-finite number is from any source: -1 with e (the first such cell), else 0. */
static int coerce_text(Run *R, cJSON *rec, const FlowTypeDef *t, FlowErr *e) {
    int bad = 0;
    if (!t || !t->is_record || !cJSON_IsObject(rec)) return 0;
    for (int i = 0; i < t->nfields; i++) {
        const FlowTypeDef *ft = t->fields[i].type;
        cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, t->fields[i].name);
        if (!v || !cJSON_IsString(v) || !ft) continue;
        FlowStr c = { v->valuestring, strlen(v->valuestring) };
        while (c.n && c.p[0] == ' ') { c.p++; c.n--; }
        while (c.n && c.p[c.n - 1] == ' ') c.n--;
        double d;
        if (!v->valuestring[0] && ft->nullable) set_kind(v, cJSON_NULL);
        else if (ft->kind == FLOW_INT || ft->kind == FLOW_NUMBER) {
            /* JSON number text reads as the JSON reader reads it (ints exact, past int64 kept as
             * text); other decimal forms (+1, .5, 1.) as their double */
            cJSON *n = c.n ? flow_json_parse(c.p, c.n, NULL) : NULL;
            if (cJSON_IsNumber(n)) {
                char *text = n->valuestring;
                set_kind(v, cJSON_Number);
                v->valuedouble = n->valuedouble;
                v->valueint = n->valueint;
                v->valuestring = text;    /* an exact int's digits or the text as read, moved over */
                n->valuestring = NULL;
            } else if (!n) {
                int rc = flow_text_number(R->cx, c, &d);
                if (rc == FLOW_TEXT_OK) {
                    set_kind(v, cJSON_Number);
                    v->valuedouble = d;
                } else if (rc == FLOW_TEXT_RANGE && !bad) {
                    flow_err_set(e, FLOW_ERR_VALUE, "record.%s is %.*s%s, which is not a finite number", t->fields[i].name,
                                 (int)(c.n > 40 ? 40 : c.n), c.p, c.n > 40 ? "..." : "");
                    bad = 1;
                }
            }
            cJSON_Delete(n);
        } else if (ft->kind == FLOW_BOOL) {
            const char *s = v->valuestring;
            if (!strcasecmp(s, "true") || !strcmp(s, "1")) set_kind(v, cJSON_True);
            else if (!strcasecmp(s, "false") || !strcmp(s, "0")) set_kind(v, cJSON_False);
        }
    }
    return bad ? -1 : 0;
}

static int type_has_bool(const FlowTypeDef *t) {
    if (!t) return 0;
    if (t->is_record) {
        for (int i = 0; i < t->nfields; i++) if (type_has_bool(t->fields[i].type)) return 1;
        return 0;
    }
    if (t->is_array) return type_has_bool(t->elem);
    return t->kind == FLOW_BOOL;
}

/* Declared bool fields, at any depth (nested records, arrays of records), that arrive as 0 / 1 (SQL
 * has no booleans) are read as false / true, in place. */
static void coerce_bools(cJSON *j, const FlowTypeDef *t) {
    if (!j || !t) return;
    if (t->is_record) {
        if (!cJSON_IsObject(j)) return;
        for (int i = 0; i < t->nfields; i++)
            if (t->fields[i].type && type_has_bool(t->fields[i].type))
                coerce_bools(cJSON_GetObjectItemCaseSensitive(j, t->fields[i].name), t->fields[i].type);
        return;
    }
    if (t->is_array) {
        if (!cJSON_IsArray(j) || !type_has_bool(t->elem)) return;
        for (cJSON *c = j->child; c; c = c->next) coerce_bools(c, t->elem);
        return;
    }
    if (t->kind == FLOW_BOOL && cJSON_IsNumber(j) && (j->valuedouble == 0 || j->valuedouble == 1))
        set_kind(j, j->valuedouble == 1 ? cJSON_True : cJSON_False);
}

/* The engine's one check of the values every exported record and lookup result holds, whatever
 * their source, before any step: text must be valid UTF-8 (member names too; a NUL cannot be in a
 * cJSON string, so the sources that can meet one refuse it themselves) and numbers finite. A value
 * that fails is a `value` error naming the field. 0, or -1 with e. */
static int check_values(const cJSON *j, char *path, size_t len, size_t cap, FlowErr *e) {
    path[len < cap ? len : cap - 1] = 0;
    size_t at;
    char q[64];
    switch (j->type & 0xFF) {
    case cJSON_String:
        if (j->valuestring && flow_text_check(j->valuestring, strlen(j->valuestring), &at) != FLOW_TEXT_OK) {
            flow_err_set(e, FLOW_ERR_VALUE, "%s is not valid UTF-8 text (byte 0x%02X at offset %zu): %s", path,
                         (unsigned char)j->valuestring[at], at, flow_quote(q, sizeof q, j->valuestring, strlen(j->valuestring), 12));
            return -1;
        }
        return 0;
    case cJSON_Number:
        if (!isfinite(j->valuedouble)) {
            char nb[40];
            flow_err_set(e, FLOW_ERR_VALUE, "%s is %s, which is not a finite number", path, flow_num_text(nb, j->valuedouble));
            return -1;
        }
        return 0;
    case cJSON_Array: {
        int i = 0;
        for (const cJSON *c = j->child; c; c = c->next, i++) {
            char num[24];
            snprintf(num, sizeof num, "[%d]", i);
            size_t n = path_put(path, len, cap, num, NULL);
            if (check_values(c, path, n, cap, e)) return -1;
        }
        path[len < cap ? len : cap - 1] = 0;
        return 0;
    }
    case cJSON_Object:
        for (const cJSON *c = j->child; c; c = c->next) {
            const char *k = c->string ? c->string : "";
            if (flow_text_check(k, strlen(k), &at) != FLOW_TEXT_OK) {
                flow_err_set(e, FLOW_ERR_VALUE, "%s has a member name that is not valid UTF-8 text (byte 0x%02X at offset %zu): %s",
                             path, (unsigned char)k[at], at, flow_quote(q, sizeof q, k, strlen(k), 12));
                return -1;
            }
            size_t n = path_put(path, len, cap, ".", k);
            if (check_values(c, path, n, cap, e)) return -1;
        }
        path[len < cap ? len : cap - 1] = 0;
        return 0;
    default: return 0;
    }
}

/* The fast pass of check_values: 1 when every value is fine. */
static int values_ok(const cJSON *j) {
    for (; j; j = j->next) {
        int t = j->type & 0xFF;
        if (t == cJSON_String) { if (j->valuestring && flow_text_check(j->valuestring, strlen(j->valuestring), NULL)) return 0; }
        else if (t == cJSON_Number) { if (!isfinite(j->valuedouble)) return 0; }
        else if (t == cJSON_Object || t == cJSON_Array) {
            if (t == cJSON_Object)
                for (const cJSON *c = j->child; c; c = c->next)
                    if (c->string && flow_text_check(c->string, strlen(c->string), NULL)) return 0;
            if (j->child && !values_ok(j->child)) return 0;
        }
    }
    return 1;
}

/* A record (or lookup result) as the steps may see it: values checked, bools read from 0 / 1, and
 * the declared type validated. 0; -1 with e (a value that does not fit the type); -2 with e (a value
 * flowc cannot hold: such a record is kept with its error as its JSON text, not as a record, so that
 * a retry cannot write what printing it had to change). */
static int accept_values(cJSON *j, const FlowTypeDef *t, const char *root, FlowErr *e) {
    if (j && !values_ok(j)) {
        char path[256];
        snprintf(path, sizeof path, "%s", root);
        if (check_values(j, path, strlen(path), sizeof path, e)) return -2;
    }
    coerce_bools(j, t);
    return t ? validate(j, t, root, e) : 0;
}

/* The fast pass: does the value fit the type? No paths, no messages (check_type explains a misfit). */
static int fits(const cJSON *j, const FlowTypeDef *t) {
    if (!t) return 1;
    if (!j || (j->type & 0xFF) == cJSON_NULL)
        return t->nullable || (t->kind == FLOW_JSON && !t->is_record && !t->is_array);
    if (t->is_record) {
        if (!cJSON_IsObject(j)) return 0;
        for (int i = 0; i < t->nfields; i++)
            if (!fits(cJSON_GetObjectItemCaseSensitive(j, t->fields[i].name), t->fields[i].type)) return 0;
        return 1;
    }
    if (t->is_array) {
        if (!cJSON_IsArray(j)) return 0;
        for (const cJSON *c = j->child; c; c = c->next) if (!fits(c, t->elem)) return 0;
        return 1;
    }
    switch (t->kind) {
    case FLOW_STRING: return cJSON_IsString(j);
    case FLOW_BOOL: return cJSON_IsBool(j);
    case FLOW_NUMBER: case FLOW_DURATION: return cJSON_IsNumber(j);
    case FLOW_INT: { int64_t i; return flow_json_get_int(j, &i); }
    case FLOW_DATETIME: {
        int64_t ms;
        return (cJSON_IsNumber(j) && isfinite(j->valuedouble)) ||
               (cJSON_IsString(j) && flow_parse_iso8601(j->valuestring, strlen(j->valuestring), &ms));
    }
    case FLOW_JSON: return 1;
    default: return 0;
    }
}

static int validate(const cJSON *j, const FlowTypeDef *t, const char *root, FlowErr *e) {
    if (fits(j, t)) return 0;
    char path[256];
    snprintf(path, sizeof path, "%s", root);
    return check_type(j, t, path, strlen(path), sizeof path, e);
}

/* ---- calling generated code ---- */

static void ctx_enter(Run *R, const Inst *in) {
    for (int i = 0; i < R->nslots; i++) flow_ctx_set_lookup(R->cx, i, in ? in->lk[i] : NULL);
}

static void ctx_leave(Run *R) {
    flow_scratch_reset(R->cx);
    flow_clear_error(R->cx);
    flow_ctx_set_response(R->cx, NULL);
    flow_ctx_set_existing(R->cx, NULL);
}

static void take_error(Run *R, FlowErr *e, const char *what) {
    if (flow_failed(R->cx)) flow_err_set(e, flow_error_class(R->cx), "%s", flow_error_message(R->cx));
    else flow_err_set(e, FLOW_ERR_VALUE, "%s failed", what);
}

/* fn on rec with in's lookups: 1 / 0, or -1 with e */
static int call_step(Run *R, FlowStepFn fn, const Inst *in, cJSON *rec, FlowErr *e, const char *what) {
    ctx_enter(R, in);
    int r = fn(R->cx, rec);
    if (r < 0 || flow_failed(R->cx)) { take_error(R, e, what); r = -1; }
    ctx_leave(R);
    return r;
}

/* A FlowVal from a setting function as a fresh tree, checked against the spec. */
static cJSON *eval_setting(Run *R, const FlowSettingDef *d, const FlowSettingSpec *sp, const Inst *in, FlowErr *e) {
    ctx_enter(R, in);
    FlowVal v = d->konst ? d->konst(R->cx) : d->per_record ? d->per_record(R->cx, in ? in->rec : NULL) : flow_null();
    if (flow_failed(R->cx)) {
        take_error(R, e, d->name);
        ctx_leave(R);
        return NULL;
    }
    cJSON *j = flow_val_to_json(v);
    ctx_leave(R);
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
static FlowSettings *settings_new(Run *R, const char *owner, const FlowSettingDef *defs, int n,
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
            run_fail(R, "%s: %s %s take no setting `%s` (known: %s)", owner, kind ? kind : "these", place_name(at), d->name,
                     kl ? known : "none");
            goto bad;
        }
        s->specs[i] = sp;
        if (sp->type == FLOW_SETT_EXPR) continue;   /* the connector evaluates it when it needs it */
        if (d->per_record) {
            /* an export's mode may use the record: once(flag, mark = patch("/orders/{{record.id}}")) */
            if (at == FLOW_AT_CONN || sp->step || (at == FLOW_AT_EXPORT && strcmp(d->name, "mode") != 0)) {
                run_fail(R, "%s: setting %s cannot depend on the record", owner, d->name);
                goto bad;
            }
            continue;
        }
        FlowErr e;
        s->konst[i] = eval_setting(R, d, sp, NULL, &e);
        if (!s->konst[i]) {
            run_fail_cls(R, e.cls, "%s: %s", owner, e.msg);
            goto bad;
        }
        if (d->secret || sp->secret) collect_secrets(R, s->konst[i]);
    }
    for (int k = 0; kind && k < flow_nsetting_specs; k++) {
        const FlowSettingSpec *sp = &flow_setting_specs[k];
        if (sp->at != at || !sp->required || strcmp(sp->kind, kind) != 0) continue;
        int have = 0;
        for (int i = 0; i < n && !have; i++) have = defs[i].name && strcmp(defs[i].name, sp->name) == 0;
        if (!have) {
            run_fail(R, "%s: setting %s is required", owner, sp->name);
            goto bad;
        }
    }
    return s;
bad:
    settings_free(s);
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
        if (d->secret || (s->specs[i] && s->specs[i]->secret)) collect_secrets(R, j);
        return j;
    }
    return NULL;
}

const char *flow_settings_flow(const FlowSettings *s) { return s && s->R ? s->R->f->name : ""; }
const FlowRunInfo *flow_settings_run(const FlowSettings *s) { return s && s->R ? s->R->ri : NULL; }
int flow_settings_retrying(const FlowSettings *s) { return s && s->R->ri->retry != NULL; }

int flow_settings_tracing(const FlowSettings *s) { return s && s->R->ri->mocks && s->R->ri->mocks->trace; }

void flow_settings_log(const FlowSettings *s, cJSON *exchange) {
    if (!flow_settings_tracing(s)) { cJSON_Delete(exchange); return; }
    FlowSettings *w = (FlowSettings *)s;
    if (!w->log) w->log = cJSON_CreateArray();
    cJSON_AddItemToArray(w->log, exchange);
}

/* The step's logged requests move into its trace entry. */
static void trace_requests(cJSON *entry, const StepRt *s) {
    if (!entry || !s->s || !s->s->log) return;
    cJSON_AddItemToObject(entry, "requests", s->s->log);
    s->s->log = NULL;
}

/* per-record settings of a step for one record, as an object (NULL when it has none); -1 with e */
static int eval_rs(Run *R, const StepRt *s, const Inst *in, cJSON **rs, FlowErr *e) {
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

/* ---- the steps ---- */

static void run_steps(Run *R, const FlowStepDef *steps, int n, List *L);

/* ---- hooks ---- */

/* Calls a hook on n records; the verdicts and messages come back in ver/msg and replaced records in
 * recs. Returns the page's abort flag. A hook that returns non-zero fails the run. */
static int hook_call(Run *R, const StepRt *s, FlowHookFn fn, const char *point, cJSON **recs, int n,
                     FlowHookVerdict *ver, char (*msg)[256]) {
    FlowHookPage pg = { R->f->name, s ? s->label : "", point, n, recs, ver, msg, 0 };
    for (int i = 0; i < n; i++) { ver[i] = FLOW_HOOK_KEEP; msg[i][0] = 0; }
    int rc = fn(&pg);
    if (rc) run_fail(R, "hook %s of %s failed (it returned %d)", point, s ? s->label : R->f->name, rc);
    return pg.abort;
}

/* A hook over the records of a list: skipped ones are ignored, rejected ones become record errors,
 * replaced ones are taken over. After a write (post_response_map: `written` is the import's index,
 * else -1) a skipped record stays counted as imported and only leaves the page, and a rejected one
 * becomes an error that says it was written instead of an import. Returns the abort flag. */
static int hook_list(Run *R, const StepRt *s, FlowHookFn fn, const char *point, List *L, int written) {
    if (!fn || !L->n || R->failed) return 0;
    list_materialize(R, L);
    int n = L->n;
    cJSON **recs = flow_xcalloc((size_t)n, sizeof *recs);
    FlowHookVerdict *ver = flow_xcalloc((size_t)n, sizeof *ver);
    char (*msg)[256] = flow_xcalloc((size_t)n, sizeof *msg);
    for (int i = 0; i < n; i++) recs[i] = L->v[i]->rec;
    int abort_export = hook_call(R, s, fn, point, recs, n, ver, msg);
    int w = 0;
    for (int i = 0; i < n; i++) {
        Inst *in = L->v[i];
        if (recs[i] && recs[i] != in->rec) in->rec = recs[i];   /* replaced (the hook freed the old one) */
        if (ver[i] == FLOW_HOOK_SKIP) { if (written < 0) R->st->ignored++; inst_free(R, in); continue; }
        if (ver[i] == FLOW_HOOK_ERROR) {
            char m[400];
            if (written >= 0) R->st->imported[written]--;
            snprintf(m, sizeof m, "%shook %s: %s", written >= 0 ? "written, but " : "", point, msg[i][0] ? msg[i] : "rejected the record");
            rec_error_in(R, s, FLOW_ERR_VALUE, m, in);
            inst_free(R, in);
            continue;
        }
        L->v[w++] = in;
    }
    L->n = w;
    free(recs);
    free(ver);
    free(msg);
    return abort_export;
}

static void step_filter(Run *R, const StepRt *s, List *L) {
    int w = 0;
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        FlowErr e;
        int r = -1;
        if (in->trec && s->def->tfn) {   /* typed; a failure is decided (and named) the generic way */
            ctx_enter(R, in);
            r = s->def->tfn(R->cx, in->trec);
            if (flow_failed(R->cx)) r = -1;
            ctx_leave(R);
        }
        if (r < 0) r = s->def->fn ? call_step(R, s->def->fn, in, inst_rec(R, in), &e, "filter") : 1;
        if (r < 0) { rec_error_in(R, s, e.cls, e.msg, in); inst_free(R, in); continue; }
        if (r == 0) { R->st->ignored++; inst_free(R, in); continue; }
        L->v[w++] = in;
    }
    L->n = w;
}

static void step_transform(Run *R, const StepRt *s, List *L) {
    int w = 0;
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        if (!s->def->fn) { L->v[w++] = in; continue; }
        cJSON *work = cJSON_Duplicate(in->rec, 1);
        FlowErr e;
        if (call_step(R, s->def->fn, in, work, &e, "transform") < 0) {
            rec_error_in(R, s, e.cls, e.msg, in);
            cJSON_Delete(work);
            inst_free(R, in);
            continue;
        }
        cJSON_Delete(in->rec);
        in->rec = work;
        L->v[w++] = in;
    }
    L->n = w;
}

/* One record's lookup result (rows: owned, taken): 1 the record goes on, 0 it was dropped (error,
 * skip; the Inst is freed). */
static int lookup_result(Run *R, const StepRt *s, Inst *in, cJSON *rows) {
    int id = s->def->id;
    int nrows = cJSON_IsArray(rows) ? cJSON_GetArraySize(rows) : 0;
    cJSON *res = NULL;
    FlowErr e;
    if (nrows == 0) {
        cJSON_Delete(rows);
        if (s->on_missing == 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "lookup %s matched no rows", s->def->name);
            rec_error_in(R, s, FLOW_ERR_MISSING, msg, in);
            inst_free(R, in);
            return 0;
        }
        if (s->on_missing == 1) { R->st->ignored++; inst_free(R, in); return 0; }
    } else {
        if (nrows > 1 && !s->on_many_first) {
            cJSON_Delete(rows);
            char msg[200];
            snprintf(msg, sizeof msg, "lookup %s matched %d rows", s->def->name, nrows);
            rec_error_in(R, s, FLOW_ERR_VALUE, msg, in);
            inst_free(R, in);
            return 0;
        }
        res = cJSON_DetachItemFromArray(rows, 0);
        cJSON_Delete(rows);
        if (accept_values(res, s->def->type, s->def->name, &e)) {
            cJSON_Delete(res);
            rec_error_in(R, s, e.cls, e.msg, in);
            inst_free(R, in);
            return 0;
        }
    }
    if (id >= 0 && id < R->nslots) {
        cJSON_Delete(in->lk[id]);
        in->lk[id] = res;
    } else cJSON_Delete(res);
    return 1;
}

static void step_lookup(Run *R, const StepRt *s, List *L) {
    int w = 0;
    if (s->c->lookup_page) {   /* the whole page at once: the connector runs the requests concurrently */
        FlowLookupItem *items = flow_xcalloc((size_t)L->n + 1, sizeof *items);
        Inst **owner = flow_xcalloc((size_t)L->n + 1, sizeof *owner);
        int n = 0;
        for (int i = 0; i < L->n; i++) {
            Inst *in = L->v[i];
            FlowErr e;
            cJSON *rs = NULL;
            if (eval_rs(R, s, in, &rs, &e)) { rec_error_in(R, s, e.cls, e.msg, in); inst_free(R, in); continue; }
            items[n].rs = rs;
            owner[n++] = in;
        }
        FlowErr e;
        if (n && s->c->lookup_page(s->h, items, n, &e) < 0) run_fail_cls(R, e.cls, "lookup %s: %s", s->def->name, e.msg);
        for (int k = 0; k < n; k++) {
            Inst *in = owner[k];
            FlowLookupItem *it = &items[k];
            cJSON_Delete((cJSON *)it->rs);
            if (R->failed) { cJSON_Delete(it->rows); cJSON_Delete(it->http); L->v[w++] = in; continue; }
            if (it->failed) {
                rec_error_in_http(R, s, it->err.cls, it->err.msg, in, it->http);
                cJSON_Delete(it->rows);
                cJSON_Delete(it->http);
                inst_free(R, in);
                continue;
            }
            cJSON_Delete(it->http);
            if (lookup_result(R, s, in, it->rows)) L->v[w++] = in;
        }
        free(items);
        free(owner);
        L->n = w;
        return;
    }
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        if (R->failed) { L->v[w++] = in; continue; }
        FlowErr e;
        cJSON *rs = NULL, *rows = NULL;
        if (eval_rs(R, s, in, &rs, &e)) { rec_error_in(R, s, e.cls, e.msg, in); inst_free(R, in); continue; }
        int r = s->c->lookup(s->h, rs, &rows, &e);
        cJSON_Delete(rs);
        if (r < 0) { cJSON_Delete(rows); run_fail_cls(R, e.cls, "lookup %s: %s", s->def->name, e.msg); L->v[w++] = in; continue; }
        if (r > 0) { cJSON_Delete(rows); rec_error_in(R, s, e.cls, e.msg, in); inst_free(R, in); continue; }
        if (lookup_result(R, s, in, rows)) L->v[w++] = in;
    }
    L->n = w;
}

static int cmp_inst(const void *a, const void *b) {
    const Inst *x = *(Inst *const *)a, *y = *(Inst *const *)b;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static void step_branch(Run *R, const StepRt *s, List *L) {
    const FlowStepDef *d = s->def;
    int na = d->narms;
    List *sub = flow_xcalloc((size_t)na, sizeof *sub);
    int *hit = flow_xcalloc((size_t)na, sizeof *hit);
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        int nhit = 0, failed = 0;
        FlowErr e;
        for (int a = 0; a < na; a++) hit[a] = 0;
        /* arms with a condition, in order (first_match stops at the first one that holds) */
        for (int a = 0; a < na && !failed; a++) {
            const FlowArmDef *arm = &d->arms[a];
            if (!arm->cond) {
                if (!d->all_matching && !nhit) { hit[a] = 1; nhit++; break; }
                continue;
            }
            int r = call_step(R, arm->cond, in, in->rec, &e, "branch condition");
            if (r < 0) { failed = 1; break; }
            if (r > 0) { hit[a] = 1; nhit++; if (!d->all_matching) break; }
        }
        if (failed) {
            char msg[sizeof e.msg];
            snprintf(msg, sizeof msg, "%s", e.msg);
            rec_error_in(R, s, e.cls, msg, in);
            inst_free(R, in);
            continue;
        }
        if (d->all_matching && !nhit) /* arms without a condition take the rest */
            for (int a = 0; a < na; a++) if (!d->arms[a].cond) { hit[a] = 1; nhit++; }
        if (!nhit) { R->st->ignored++; inst_free(R, in); continue; }
        int last = -1;
        for (int a = 0; a < na; a++) if (hit[a]) last = a;
        for (int a = 0; a < na; a++) {
            if (!hit[a]) continue;
            list_push(&sub[a], a == last ? in : inst_copy(R, in));
        }
    }
    L->n = 0;
    long ord = 0;
    for (int a = 0; a < na; a++) {
        if (!R->failed && sub[a].n) {
            const char *outer = R->arm;
            R->arm = d->arms[a].name;
            run_steps(R, d->arms[a].steps, d->arms[a].nsteps, &sub[a]);
            R->arm = outer;
        }
        for (int k = 0; k < sub[a].n; k++) {
            sub[a].v[k]->ord = ord++;
            list_push(L, sub[a].v[k]);
        }
        free(sub[a].v);
    }
    if (L->n > 1) qsort(L->v, (size_t)L->n, sizeof *L->v, cmp_inst);
    free(sub);
    free(hit);
}

/* The import's output for a record: the map's (updating: with `existing` in scope) or a copy of the
 * record. NULL with e when the record failed. */
static cJSON *map_record(Run *R, const StepRt *s, Inst *in, const cJSON *existing, int updating, FlowErr *e) {
    if (!s->def->map) return cJSON_Duplicate(inst_rec(R, in), 1);
    ctx_enter(R, in);
    flow_ctx_set_existing(R->cx, existing);
    cJSON *out = s->def->map(R->cx, inst_rec(R, in), updating);
    if (!out || flow_failed(R->cx)) {
        take_error(R, e, "map");
        cJSON_Delete(out);
        out = NULL;
    }
    flow_ctx_set_existing(R->cx, NULL);
    ctx_leave(R);
    return out;
}

/* an empty item: what the connector may set cleared (the 1 KB message only by its first byte) */
static void import_item_clear(FlowImportItem *it) {
    it->out = it->rs = NULL;
    it->text = NULL;
    it->textn = 0;
    it->failed = 0;
    it->err.cls = 0;
    it->err.msg[0] = 0;
    it->http = it->response = it->existing = NULL;
}

static void import_item_free(FlowImportItem *it) {
    cJSON_Delete((cJSON *)it->out);
    cJSON_Delete((cJSON *)it->rs);
    cJSON_Delete(it->response);
    cJSON_Delete(it->existing);
    cJSON_Delete(it->http);
    import_item_clear(it);
}

/* A live preview: what a real import wrote (the records its destination took) goes where the mock
 * puts what it would write, so the preview shows it. */
static void preview_wrote(Run *R, const StepRt *s, const FlowImportItem *items, int n) {
    const FlowMocks *mk = R->ri->mocks;
    if (!mk || mk->mode != FLOW_MOCK_PREVIEW || !mk->live || !mk->captured) return;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(mk->captured, s->def->name);
    if (!arr) arr = cJSON_AddArrayToObject(mk->captured, s->def->name);
    for (int k = 0; k < n; k++)
        if (!items[k].failed) cJSON_AddItemToArray(arr, flow_import_sent(s->s, &items[k]));
}

static void step_import(Run *R, const StepRt *s, List *L) {
    const FlowStepDef *d = s->def;
    const FlowConnector *c = s->c;
    const FlowFlowDef *fd = R->f;
    hook_list(R, s, fd->pre_map, "pre_map", L, -1);
    hook_list(R, s, d->pre_map, "pre_map", L, -1);
    StepRt *sm = &R->steps[d->id];   /* this step's kept arrays */
    if (sm->cap < L->n + 1) {
        free(sm->items);
        free(sm->owner);
        sm->cap = L->n + 1;
        sm->items = flow_xcalloc((size_t)sm->cap, sizeof *sm->items);
        sm->owner = flow_xcalloc((size_t)sm->cap, sizeof *sm->owner);
    }
    FlowImportItem *items = sm->items;
    Inst **owner = sm->owner;
    for (int i = 0; i <= L->n; i++) import_item_clear(&items[i]);   /* a page before may have left copies */
    int n = 0, w = 0;
    /* typed records map straight to text when nothing after needs the output as a tree */
    int typed = d->tmap && c->import_text && !R->ri->mocks && !settings_per_record(s->s) && !fd->post_map && !d->post_map && !fd->post_submit &&
                !d->post_submit && !((c->import_existing_page || c->import_existing) && (c->upsert_by_lookup || d->map_existing));
    R->tbuf.n = 0;
    /* map every record as if creating */
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        FlowErr e;
        cJSON *rs = NULL, *out = NULL;
        if (R->failed) { L->v[w++] = in; continue; }
        if (typed && in->trec) {
            size_t at = R->tbuf.n;
            ctx_enter(R, in);
            int r = d->tmap(R->cx, in->trec, &R->tbuf);
            int ok = r == 0 && !flow_failed(R->cx) && !R->tbuf.oom;
            ctx_leave(R);
            if (ok) {
                items[n].text = (const char *)(uintptr_t)at;   /* an offset until the buffer stops growing */
                items[n].textn = R->tbuf.n - at;
                owner[n++] = in;
                continue;
            }
            R->tbuf.n = at;
            R->tbuf.oom = 0;
        }
        inst_rec(R, in);
        if (eval_rs(R, s, in, &rs, &e) || !(out = map_record(R, s, in, NULL, 0, &e))) {
            cJSON_Delete(rs);
            rec_error_in(R, s, e.cls, e.msg, in);
            inst_free(R, in);
            continue;
        }
        items[n].out = out;
        items[n].rs = rs;
        owner[n++] = in;
    }
    for (int k = 0; k < n; k++)
        if (!items[k].out) items[k].text = R->tbuf.p + (uintptr_t)items[k].text;
    /* upserts: which records exist already (a page at once, or one by one); those are mapped again
     * as updates, with `existing` in scope */
    /* an http upsert's exists request decides the request; a database upsert decides itself, and is
     * looked up first only when the map needs `existing` or `when creating/updating` */
    if (n && !R->failed && (c->import_existing_page || c->import_existing) && (c->upsert_by_lookup || d->map_existing)) {
        FlowErr e;
        if (c->import_existing_page) {
            if (c->import_existing_page(s->h, items, n, &e) < 0) run_fail_cls(R, e.cls, "import %s: %s", d->name, e.msg);
        } else {
            for (int k = 0; k < n && !R->failed; k++) {
                int r = c->import_existing(s->h, items[k].rs, items[k].out, &items[k].existing, &items[k].err);
                if (r < 0) run_fail(R, "import %s: %s", d->name, items[k].err.msg);
                else if (r > 0) items[k].failed = 1;
            }
        }
        int keep = 0;
        for (int k = 0; k < n; k++) {
            FlowImportItem *it = &items[k];
            if (!R->failed && it->failed) {
                rec_error_in_http(R, s, it->err.cls, it->err.msg, owner[k], it->http);
                import_item_free(it);
                inst_free(R, owner[k]);
                continue;
            }
            if (!R->failed && it->existing) {
                cJSON *out = map_record(R, s, owner[k], it->existing, 1, &e);
                if (!out) {
                    rec_error_in(R, s, e.cls, e.msg, owner[k]);
                    import_item_free(it);
                    inst_free(R, owner[k]);
                    continue;
                }
                cJSON_Delete((cJSON *)it->out);
                it->out = out;
            }
            cJSON_Delete(it->http);
            it->http = NULL;
            items[keep] = *it;
            owner[keep++] = owner[k];
        }
        n = keep;
    }
    /* post_map: the mapped outputs, before they are written */
    FlowHookFn post_maps[2] = { fd->post_map, d->post_map };
    for (int h = 0; h < 2 && n && !R->failed; h++) {
        if (!post_maps[h]) continue;
        cJSON **outs = flow_xcalloc((size_t)n, sizeof *outs);
        FlowHookVerdict *ver = flow_xcalloc((size_t)n, sizeof *ver);
        char (*msg)[256] = flow_xcalloc((size_t)n, sizeof *msg);
        for (int k = 0; k < n; k++) outs[k] = (cJSON *)items[k].out;
        hook_call(R, s, post_maps[h], "post_map", outs, n, ver, msg);
        int keep = 0;
        for (int k = 0; k < n; k++) {
            if (outs[k]) items[k].out = outs[k];
            if (ver[k] == FLOW_HOOK_KEEP) { items[keep] = items[k]; owner[keep++] = owner[k]; continue; }
            if (ver[k] == FLOW_HOOK_SKIP) R->st->ignored++;
            else {
                char m[400];
                snprintf(m, sizeof m, "hook post_map: %s", msg[k][0] ? msg[k] : "rejected the record");
                rec_error_in(R, s, FLOW_ERR_VALUE, m, owner[k]);
            }
            import_item_free(&items[k]);
            inst_free(R, owner[k]);
        }
        n = keep;
        free(outs);
        free(ver);
        free(msg);
    }
    if (n && !R->failed) {
        FlowErr e;
        if (c->import_page(s->h, items, n, &e) < 0) run_fail_cls(R, e.cls, "import %s: %s", d->name, e.msg);
        else if (c != &flow_conn_mock) preview_wrote(R, s, items, n);
    }
    /* post_submit: what was written; an error verdict makes the record an error */
    FlowHookFn post_submits[2] = { fd->post_submit, d->post_submit };
    for (int h = 0; h < 2 && n && !R->failed; h++) {
        if (!post_submits[h]) continue;
        cJSON **outs = flow_xcalloc((size_t)n, sizeof *outs);
        FlowHookVerdict *ver = flow_xcalloc((size_t)n, sizeof *ver);
        char (*msg)[256] = flow_xcalloc((size_t)n, sizeof *msg);
        int *idx = flow_xcalloc((size_t)n, sizeof *idx);
        int m = 0;
        for (int k = 0; k < n; k++) if (!items[k].failed) { idx[m] = k; outs[m++] = (cJSON *)items[k].out; }
        if (m) hook_call(R, s, post_submits[h], "post_submit", outs, m, ver, msg);
        for (int k = 0; k < m; k++) {
            FlowImportItem *it = &items[idx[k]];
            if (outs[k] && outs[k] != it->out) { cJSON_Delete((cJSON *)it->out); it->out = outs[k]; }
            if (ver[k] == FLOW_HOOK_ERROR) {
                it->failed = 1;
                flow_err_set(&it->err, FLOW_ERR_VALUE, "hook post_submit: %s", msg[k][0] ? msg[k] : "rejected the record");
            }
        }
        free(outs);
        free(ver);
        free(msg);
        free(idx);
    }
    for (int k = 0; k < n; k++) {
        Inst *in = owner[k];
        FlowImportItem *it = &items[k];
        if (!R->failed) {
            if (it->failed) {
                rec_error_in_http(R, s, it->err.cls, it->err.msg, in, it->http);
                inst_free(R, in);
                goto done;
            }
            if (d->response && it->response) {
                cJSON *work = cJSON_Duplicate(in->rec, 1);
                FlowErr e;
                ctx_enter(R, in);
                flow_ctx_set_response(R->cx, it->response);
                int r = d->response(R->cx, work);
                if (r < 0 || flow_failed(R->cx)) {
                    take_error(R, &e, "response mapping");
                    ctx_leave(R);
                    /* it was written: the error says so, since a retry would write it again */
                    char msg[sizeof e.msg + 80];
                    snprintf(msg, sizeof msg, "written, but the response mapping failed: %s", e.msg);
                    rec_error_in(R, s, e.cls, msg, in);
                    cJSON_Delete(work);
                    inst_free(R, in);
                    goto done;
                }
                ctx_leave(R);
                cJSON_Delete(in->rec);
                in->rec = work;
            }
            R->st->imported[s->import_index]++;
            in->imported = 1;
        }
        L->v[w++] = in;
    done:
        import_item_free(it);
    }
    /* keep the page order: failed ones were dropped above, the rest go back in their order */
    L->n = w;
    if (d->response) {
        hook_list(R, s, fd->post_response_map, "post_response_map", L, s->import_index);
        hook_list(R, s, d->post_response_map, "post_response_map", L, s->import_index);
    }
    if (L->n > 1) qsort(L->v, (size_t)L->n, sizeof *L->v, cmp_inst);
}

static void too_large(Run *R, const StepRt *s, List *L, size_t bytes, const char *where) {
    char msg[300];
    snprintf(msg, sizeof msg, "page %lld holds %.1f MB %s, over the 5 MB page limit", (long long)R->page,
             (double)bytes / (1024.0 * 1024.0), where);
    for (int i = 0; i < L->n; i++) {
        rec_error_in(R, s, FLOW_ERR_TOO_LARGE, msg, L->v[i]);
        inst_free(R, L->v[i]);
    }
    L->n = 0;
}

static const char *const step_kind_names[] = {
#define X(k, s) s,
    FLOW_STEP_KINDS(X)
#undef X
};

/* ---- the preview trace: what each step received and passed on ---- */

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

static cJSON *trace_begin(Run *R, const StepRt *s, const List *L) {
    cJSON *t = R->ri->mocks ? R->ri->mocks->trace : NULL;
    if (!t) return NULL;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "step", s->label);
    cJSON_AddStringToObject(e, "kind", step_kind_names[s->def->kind]);
    if (R->arm) cJSON_AddStringToObject(e, "arm", R->arm);
    cJSON_AddItemToObject(e, "in", trace_records(L, -1));
    cJSON_AddItemToArray(t, e);
    return e;
}

static void trace_end(cJSON *e, const StepRt *s, const List *L) {
    if (!e) return;
    trace_requests(e, s);
    cJSON_AddItemToObject(e, "out", trace_records(L, -1));
    if (s->def->kind == FLOW_STEP_LOOKUP) cJSON_AddItemToObject(e, "results", trace_records(L, s->def->id));
}

static void run_steps(Run *R, const FlowStepDef *steps, int n, List *L) {
    for (int i = 0; i < n && L->n && !R->failed; i++) {
        const FlowStepDef *d = &steps[i];
        StepRt *s = &R->steps[d->id];
        cJSON *tr = trace_begin(R, s, L);
        long errors_before = R->st->errors;
        /* the records' order inside the page is by seq; ord only breaks ties after a branch */
        for (int k = 0; k < L->n; k++) L->v[k]->ord = k;
        /* typed records go on typed only into a filter or an import that has a typed variant */
        if (R->typed && !(d->kind == FLOW_STEP_FILTER && d->tfn) && !(d->kind == FLOW_STEP_IMPORT && d->tmap)) {
            list_materialize(R, L);
            if (d->kind != FLOW_STEP_FILTER && d->kind != FLOW_STEP_LOOKUP && d->kind != FLOW_STEP_IMPORT)
                for (int k = 0; k < L->n; k++) L->v[k]->trec = NULL;   /* a transform may change it: the tree is the record now */
        }
        switch (d->kind) {
        case FLOW_STEP_FILTER: step_filter(R, s, L); break;
        case FLOW_STEP_TRANSFORM: step_transform(R, s, L); break;
        case FLOW_STEP_LOOKUP: step_lookup(R, s, L); break;
        case FLOW_STEP_BRANCH: step_branch(R, s, L); break;
        case FLOW_STEP_IMPORT: step_import(R, s, L); break;
        case FLOW_STEP_EXPORT: run_fail(R, "step %s: an export can only be a flow's first step", s->label); break;
        }
        trace_end(tr, s, L);
        if (tr) cJSON_AddNumberToObject(tr, "errors", (double)(R->st->errors - errors_before));
        if (R->failed || !L->n) break;
        /* only a transform, a lookup or a response mapping can make records bigger */
        if (d->kind != FLOW_STEP_TRANSFORM && d->kind != FLOW_STEP_LOOKUP && !(d->kind == FLOW_STEP_IMPORT && d->response)) continue;
        size_t bytes = list_size(L);
        if (bytes > FLOW_PAGE_MAX_BYTES) {
            char where[140];
            snprintf(where, sizeof where, "after step %s", s->label);
            too_large(R, s, L, bytes, where);
        }
    }
}

/* ---- setting up: steps, connections ---- */

static int walk_steps(Run *R, const FlowStepDef *steps, int n, int depth, int (*fn)(Run *, const FlowStepDef *)) {
    if (depth > 64) return run_fail(R, "branches are nested too deeply");
    for (int i = 0; i < n; i++) {
        if (fn(R, &steps[i])) return -1;
        if (steps[i].kind == FLOW_STEP_BRANCH)
            for (int a = 0; a < steps[i].narms; a++)
                if (walk_steps(R, steps[i].arms[a].steps, steps[i].arms[a].nsteps, depth + 1, fn)) return -1;
    }
    return 0;
}

static int max_id(Run *R, const FlowStepDef *d) {
    if (d->id < 0) return run_fail(R, "step %s has no id", d->name ? d->name : "?");
    if (d->id >= R->nsteps) R->nsteps = d->id + 1;
    return 0;
}

static int count_import(Run *R, const FlowStepDef *d) {
    if (d->kind == FLOW_STEP_IMPORT) R->st->nimports++;
    return 0;
}

void flow_step_label(const FlowStepDef *d, char *out, size_t cap) {
    if (d->name) snprintf(out, cap, "%s", d->name);
    else if (d->line > 0) snprintf(out, cap, "%s (line %d)", step_kind_names[d->kind], d->line);
    else snprintf(out, cap, "%s", step_kind_names[d->kind]);
}

static int setup_step(Run *R, const FlowStepDef *d) {
    StepRt *s = &R->steps[d->id];
    if (s->def) return run_fail(R, "steps %s and %s have the same id %d", s->label, d->name ? d->name : "?", d->id);
    s->def = d;
    s->import_index = -1;
    flow_step_label(d, s->label, sizeof s->label);
    if (d->kind == FLOW_STEP_IMPORT) {
        s->import_index = R->st->nimports;
        R->st->import_names[R->st->nimports++] = d->name ? d->name : s->label;
    }
    if (d->kind == FLOW_STEP_EXPORT || d->kind == FLOW_STEP_LOOKUP || d->kind == FLOW_STEP_IMPORT) {
        if (d->conn < 0 || d->conn >= R->p->nconns) return run_fail(R, "step %s has no connection", s->label);
        s->conn = &R->conns[d->conn];
        s->conn->uses |= d->kind == FLOW_STEP_EXPORT ? FLOW_USE_EXPORT : d->kind == FLOW_STEP_LOOKUP ? FLOW_USE_LOOKUP : FLOW_USE_IMPORT;
    }
    return 0;
}

/* an export whose source takes `args` (the SQL ones: it compares them itself), not the mock */
static int sql_args(const StepRt *s) {
    const FlowSettingSpec *sp = flow_setting_spec(s->conn->def->kind, FLOW_AT_EXPORT, "args");
    return s->c != &flow_conn_mock && sp && sp->type == FLOW_SETT_ARGS;
}

/* delta(field, lag, start): the window is (last successful run's start - lag, this run's start],
 * unless --since / --until give it; the first run starts at `start` or the epoch. The export's
 * settings are evaluated again, since they may use delta.since. */
static int delta_window(Run *R, StepRt *s, const char *owner) {
    const cJSON *m = flow_setting(s->s, NULL, "mode");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "field"), *lag = cJSON_GetObjectItemCaseSensitive(m, "lag");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(m, "start");
    int64_t lag_ms = cJSON_IsNumber(lag) ? (int64_t)lag->valuedouble : 0, start_ms = 0;
    if (cJSON_IsString(start) && !flow_parse_iso8601(start->valuestring, strlen(start->valuestring), &start_ms))
        return run_fail(R, "%s: delta(start) \"%s\" is not an ISO-8601 date-time", owner, start->valuestring);
    if (cJSON_IsNumber(start)) start_ms = (int64_t)start->valuedouble;
    if (cJSON_IsString(f) && *f->valuestring) R->delta_field = flow_xstrdup(f->valuestring);
    if (!R->rl.since_set) {
        int64_t last = 0;
        int have = 0;
        FlowErr e;
        if (R->rl.state && flow_state_last_success(R->rl.state, R->f->name, &last, &have, &e)) return run_fail_cls(R, e.cls, "%s", e.msg);
        R->rl.since_ms = have ? last - lag_ms : start_ms;
        if (!R->rl.until_set && R->rl.since_ms > R->rl.started_ms) {   /* an inverted window would export nothing, silently */
            char a[32], b[32];
            flow_format_iso8601(have ? last : start_ms, a);
            flow_format_iso8601(R->rl.started_ms, b);
            if (have)
                return run_fail(R, "the saved delta time %s is later than this run's start %s: nothing would be exported (a run "
                                   "saved a time in the future, or the clock went back); `state reset %s` exports everything again, "
                                   "--since T from T", a, b, R->f->name);
            return run_fail(R, "%s: delta(start) %s is later than this run's start %s: there is nothing to export yet", owner, a, b);
        }
    }
    if (!R->rl.until_set) R->rl.until_ms = R->rl.started_ms;
    if (R->rl.since_ms > R->rl.until_ms) {   /* --until before the saved time (the CLI refuses the other inversions) */
        char a[32], b[32];
        flow_format_iso8601(R->rl.since_ms, a);
        flow_format_iso8601(R->rl.until_ms, b);
        R->st->refused = 1;
        return run_fail(R, "the delta window is empty: its start %s (%s) is later than --until %s", a,
                        R->rl.since_set ? "--since" : "the saved delta time", b);
    }
    if (R->rl.state && R->delta_field) {   /* the field's layout, kept with the delta time */
        char lt[64];
        flow_state_delta_layout(R->rl.state, R->f->name, lt, sizeof lt);
        flow_time_layout_parse(lt, &R->bound);
    }
    settings_free(s->s);
    if (R->delta_field && sql_args(s)) {
        /* An SQL source compares the field as the text it holds: its settings see the window's bounds
         * in the field's layout, widened to whole units (the records outside are dropped below) */
        FlowRunInfo w = R->rl;
        char ta[48], tb[48];
        flow_time_bind_window(&R->bound, R->rl.since_ms, R->rl.until_ms, &w.since_ms, ta, &w.until_ms, tb, sizeof ta);
        flow_run_set_contexts(R->cx, &w, R->f->name, 0, R->page_size);
        const int64_t ms[2] = { w.since_ms, w.until_ms };
        const char *const tx[2] = { ta, tb };
        flow_datetime_texts(2, ms, tx);
        s->s = settings_new(R, owner, s->def->settings, s->def->nsettings, s->conn->def->kind, FLOW_AT_EXPORT);
        flow_datetime_texts(0, NULL, NULL);
        R->sql_bound = 1;
    } else {
        flow_run_set_contexts(R->cx, &R->rl, R->f->name, 0, R->page_size);
        s->s = settings_new(R, owner, s->def->settings, s->def->nsettings, s->conn->def->kind, FLOW_AT_EXPORT);
    }
    flow_run_set_contexts(R->cx, &R->rl, R->f->name, 0, R->page_size);
    return s->s ? 0 : -1;
}

static const FlowSettingDef *mode_def(const FlowStepDef *d) {
    for (int i = 0; i < d->nsettings; i++) if (d->settings[i].name && strcmp(d->settings[i].name, "mode") == 0) return &d->settings[i];
    return NULL;
}

static int mode_per_record(const FlowStepDef *d) {
    const FlowSettingDef *m = mode_def(d);
    return m && m->per_record;
}

/* once(flag, key, mark): the flag's name; the connector must be able to set it */
static int once_setup(Run *R, StepRt *s, const char *owner) {
    R->mode_def = mode_def(s->def);
    if (R->rl.mocks && R->rl.mocks->mode == FLOW_MOCK_PREVIEW) { R->mode_def = NULL; return 0; }   /* a preview sets no flag */
    if (!s->c->export_mark && !(R->rl.mocks && R->rl.mocks->mode == FLOW_MOCK_TEST))
        return run_fail(R, "%s: %s exports cannot set a once() flag", owner, s->conn->c->kind);
    FlowErr e;
    cJSON *m = R->mode_def->per_record ? NULL : flow_setting_eval(s->s, "mode", 0, NULL, &e);
    if (!m && R->mode_def->konst) return run_fail_cls(R, e.cls, "%s: %s", owner, e.msg);
    if (!m) {   /* per record: the flag's name does not depend on the record; read it from any record */
        ctx_enter(R, NULL);
        cJSON *empty = cJSON_CreateObject();
        FlowVal v = R->mode_def->per_record(R->cx, empty);
        m = flow_failed(R->cx) ? NULL : flow_val_to_json(v);
        flow_clear_error(R->cx);
        ctx_leave(R);
        cJSON_Delete(empty);
    }
    const char *flag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "flag"));
    if (!flag || !*flag) { cJSON_Delete(m); return run_fail(R, "%s: once() needs a flag", owner); }
    R->once_flag = flow_xstrdup(flag);
    cJSON_Delete(m);
    if (R->rl.mocks) R->mode_def = NULL;   /* a test sets no flag */
    return 0;
}

/* delta(field): whether a record's field lies in the window (a record without it is kept). A value
 * names a unit — 22:03:55 the second from 22:03:55 to 22:03:56, .123 a millisecond, a date its
 * day — and the record belongs to the window that holds the unit's end: a record written during
 * the second a run started in (after it read the source, perhaps) comes with the next run, and
 * consecutive windows share no record. */
static int in_window(const Run *R, const cJSON *rec, const FlowTimeLayout *l) {
    /* read as every datetime field is: ISO-8601 or epoch seconds */
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(rec, R->delta_field);
    FlowVal t = flow_val_from_json(R->cx, f, FLOW_DATETIME, R->delta_field);
    if (flow_failed(R->cx)) { flow_clear_error(R->cx); return 1; }
    if (t.kind != FLOW_DATETIME) return 1;
    int64_t unit = l ? flow_time_layout_unit(l) : cJSON_IsString(f) ? flow_time_unit(f->valuestring, strlen(f->valuestring))
                 : cJSON_IsNumber(f) && f->valuedouble == floor(f->valuedouble) ? 1000 : 1;
    int64_t end = t.i + unit;
    return end > R->rl.since_ms && end <= R->rl.until_ms;
}

/* delta(field): the layout of the record's field (into *l: 1, or 0 when it has none) joins what
 * this run has seen; two layouts are warned about once per run (the source cannot order them as text) */
static int learn_layout(Run *R, const StepRt *ex, const cJSON *rec, FlowTimeLayout *l) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, R->delta_field);
    if (!cJSON_IsString(v) || !flow_time_layout_of(v->valuestring, strlen(v->valuestring), l)) return 0;
    if (!R->seen.known || flow_time_layout_same(&R->seen, l)) { flow_time_layout_merge(&R->seen, l); return 1; }
    if (R->layout_mixed) return 1;
    R->layout_mixed = 1;
    if (!R->errs) return 1;
    char a[64], b[64];
    flow_time_layout_text(&R->seen, a, sizeof a);
    flow_time_layout_text(l, b, sizeof b);
    fprintf(R->errs, "warning: flow %s export %s: the delta field %s mixes layouts on page %lld (%s and %s, e.g. `%.40s`): a "
                     "source comparing it as text cannot order them; the next run asks for whole days around its window\n",
            R->f->name, ex->label, R->delta_field, (long long)R->page, a, b, v->valuestring);
    return 1;
}

static int open_step(Run *R, const FlowStepDef *d) {
    StepRt *s = &R->steps[d->id];
    if (!s->conn) return 0;
    const FlowConnector *c = s->conn->c;
    char owner[160];
    snprintf(owner, sizeof owner, "%s %s", step_kind_names[d->kind], s->label);
    /* which connector answers: a test mocks every step; a preview mocks the steps it was given data
     * for and every import unless it runs live */
    const FlowMocks *mk = R->ri->mocks;
    int mocked = mk && (mk->mode == FLOW_MOCK_TEST ||
                        (d->kind == FLOW_STEP_IMPORT ? !mk->live
                         : mk->given && cJSON_GetObjectItemCaseSensitive(mk->given, s->label) != NULL));
    s->c = mocked ? &flow_conn_mock : c;
    void *cstate = mocked ? (void *)mk : s->conn->state;
    FlowSettingPlace at = d->kind == FLOW_STEP_EXPORT ? FLOW_AT_EXPORT : d->kind == FLOW_STEP_LOOKUP ? FLOW_AT_LOOKUP : FLOW_AT_IMPORT;
    s->s = settings_new(R, owner, d->settings, d->nsettings, s->conn->def->kind, at);
    if (!s->s) return -1;
    FlowErr e;
    if (d->kind == FLOW_STEP_LOOKUP) {
        const char *m = flow_setting_ctor(s->s, NULL, "on_missing", "fail");
        s->on_missing = strcmp(m, "skip") == 0 ? 1 : strcmp(m, "null") == 0 ? 2 : 0;
        s->on_many_first = strcmp(flow_setting_ctor(s->s, NULL, "on_many", "fail"), "first") == 0;
        s->h = s->c->lookup_open(cstate, s->s, &e);
    } else if (d->kind == FLOW_STEP_IMPORT) {
        s->h = s->c->import_open(cstate, s->s, &e);
    } else {
        const cJSON *ps = flow_setting(s->s, NULL, "page_size");   /* checked against its RANGE */
        if (ps) R->page_size = (long)ps->valuedouble;
        const char *mode = flow_setting_ctor(s->s, NULL, "mode", "all");
        if (strcmp(mode, "limit") == 0) {
            const cJSON *m = flow_setting(s->s, NULL, "mode"), *nv = NULL;
            for (const cJSON *k = cJSON_IsObject(m) ? m->child : NULL; k && !nv; k = k->next)
                if (cJSON_IsNumber(k)) nv = k;
            if (!nv || nv->valuedouble < 1 || nv->valuedouble > 100 || nv->valuedouble != floor(nv->valuedouble))
                return run_fail(R, "%s: limit(n) needs 1 <= n <= 100", owner);
            R->limit = (long)nv->valuedouble;
        } else if (strcmp(mode, "once") == 0 || mode_per_record(d)) {
            if (once_setup(R, s, owner)) return -1;
        } else if (strcmp(mode, "delta") == 0 && delta_window(R, s, owner)) {
            return -1;
        }
        if (R->rl.retry) return 0;   /* errors retry: the kept records take the export's place */
        s->h = s->c->export_open(cstate, s->s, &e);
    }
    if (!s->h) return run_fail_cls(R, e.cls, "%s: %s", owner, e.msg);
    return 0;
}

static void close_step(Run *R, StepRt *s) {
    if (s->h && s->conn) {
        const FlowConnector *c = s->c ? s->c : s->conn->c;
        if (s->def->kind == FLOW_STEP_EXPORT) c->export_close(s->h);
        else if (s->def->kind == FLOW_STEP_LOOKUP) c->lookup_close(s->h);
        else if (s->def->kind == FLOW_STEP_IMPORT) c->import_close(s->h);
    }
    s->h = NULL;
    settings_free(s->s);
    s->s = NULL;
}

static int open_conn(Run *R, ConnRt *c) {
    const FlowConnDef *d = c->def;
    int all_mock = R->ri->mocks && R->ri->mocks->mode == FLOW_MOCK_TEST;
    c->c = all_mock ? &flow_conn_mock : flow_connector(d->kind);
    if (!c->c) return run_fail(R, "connection %s: the %s connector is not available in this runtime yet", d->name, d->kind);
    const char *cant = (c->uses & FLOW_USE_EXPORT) && !c->c->export_open ? "exports"
                     : (c->uses & FLOW_USE_LOOKUP) && !c->c->lookup_open ? "lookups"
                     : (c->uses & FLOW_USE_IMPORT) && !c->c->import_open ? "imports" : NULL;
    if (cant) return run_fail(R, "connection %s: %s connections cannot be used for %s", d->name, d->kind, cant);
    char owner[160];
    snprintf(owner, sizeof owner, "connection %s", d->name);
    /* a test does not touch the connection: its settings (secrets, paths) are not even evaluated */
    c->s = all_mock ? settings_new(R, owner, NULL, 0, NULL, FLOW_AT_CONN)
                    : settings_new(R, owner, d->settings, d->nsettings, d->kind, FLOW_AT_CONN);
    if (!c->s) return -1;
    FlowErr e;
    /* a preview that does not write never opens a connection used only by imports (no file, no
     * database is created): its settings were checked above, its steps use the mock */
    const FlowMocks *mk = R->ri->mocks;
    if (mk && mk->mode == FLOW_MOCK_PREVIEW && !mk->live && !(c->uses & (FLOW_USE_EXPORT | FLOW_USE_LOOKUP))) {
        c->c = &flow_conn_mock;
        c->state = (void *)mk;
        return 0;
    }
    c->state = c->c->open(c->s, c->uses, &e);
    if (c->state && all_mock) c->state = (void *)R->ri->mocks;
    if (!c->state) return run_fail_cls(R, e.cls, "connection %s: %s", d->name, e.msg);
    return 0;
}

/* ---- runs ---- */

void flow_run_info_init(FlowRunInfo *ri, int64_t started_ms) {
    memset(ri, 0, sizeof *ri);
    ri->started_ms = started_ms;
    ri->since_ms = 0;
    ri->until_ms = started_ms;
    char iso[32];
    flow_format_iso8601(started_ms, iso);
    snprintf(ri->run_date, sizeof ri->run_date, "%.10s", iso);
    unsigned r = 0;
    FILE *u = fopen("/dev/urandom", "rb");
    if (!u || fread(&r, sizeof r, 1, u) != 1) r = (unsigned)getpid() * 2654435761u ^ (unsigned)started_ms;
    if (u) fclose(u);
    snprintf(ri->run_id, sizeof ri->run_id, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%08x", iso, iso + 5, iso + 8, iso + 11, iso + 14,
             iso + 17, r);
}

void flow_run_set_contexts(FlowCtx *cx, const FlowRunInfo *ri, const char *flow, int64_t page, int64_t page_size) {
    flow_ctx_set_context(cx, FLOW_CTX_DELTA_SINCE, flow_datetime(ri->since_ms));
    flow_ctx_set_context(cx, FLOW_CTX_DELTA_UNTIL, flow_datetime(ri->until_ms));
    flow_ctx_set_context(cx, FLOW_CTX_PAGE_NUMBER, flow_int(page));
    flow_ctx_set_context(cx, FLOW_CTX_PAGE_SIZE, flow_int(page_size));
    flow_ctx_set_context(cx, FLOW_CTX_RUN_ID, flow_string(ri->run_id, strlen(ri->run_id)));
    flow_ctx_set_context(cx, FLOW_CTX_RUN_STARTED_AT, flow_datetime(ri->started_ms));
    flow_ctx_set_context(cx, FLOW_CTX_RUN_DATE, flow_string(ri->run_date, strlen(ri->run_date)));
    flow_ctx_set_context(cx, FLOW_CTX_FLOW_NAME, flow ? flow_string(flow, strlen(flow)) : flow_null());
}

static int name_import(Run *R, const FlowStepDef *d) {
    if (d->kind == FLOW_STEP_IMPORT) R->st->import_names[R->st->nimports++] = d->name ? d->name : step_kind_names[d->kind];
    return 0;
}

void flow_run_stats_failed(const FlowProgram *p, int fi, FlowRunStats *st, FlowErrorClass cls, const char *msg) {
    memset(st, 0, sizeof *st);
    Run R0;
    memset(&R0, 0, sizeof R0);
    R0.p = p;
    R0.st = st;
    st->failed = 1;
    st->fail_class = flow_error_class_names[cls];
    snprintf(st->fail_msg, sizeof st->fail_msg, "%s", msg);
    if (fi < 0 || fi >= p->nflows) return;
    const FlowFlowDef *f = &p->flows[fi];
    st->flow = f->name;
    walk_steps(&R0, f->steps, f->nsteps, 0, count_import);
    st->import_names = flow_xcalloc((size_t)st->nimports + 1, sizeof *st->import_names);
    st->imported = flow_xcalloc((size_t)st->nimports + 1, sizeof *st->imported);
    st->nimports = 0;
    walk_steps(&R0, f->steps, f->nsteps, 0, name_import);
    st->failed = 1;   /* walk_steps may have said why the steps cannot run: the message given stays */
    snprintf(st->fail_msg, sizeof st->fail_msg, "%s", msg);
}

void flow_run_stats_free(FlowRunStats *st) {
    free(st->import_names);
    free(st->imported);
    st->import_names = NULL;
    st->imported = NULL;
}

/* A page's error-store writes go in one transaction; the records that came through resolve their
 * open errors (by trace key). */
static void page_begin(Run *R) {
    FlowErr e;
    if (R->rl.state && !R->failed && flow_state_begin(R->rl.state, &e)) run_fail_cls(R, e.cls, "%s", e.msg);
}

static void page_end(Run *R, const List *page) {
    FlowErr e;
    if (!R->rl.state) return;
    if (!R->failed && R->open_errors > 0 && !R->rl.retry)   /* a retry resolves its entries by id at the end */
        for (int i = 0; i < page->n && !R->failed; i++) {
            if (!page->v[i]->trace) continue;
            char by[96];
            snprintf(by, sizeof by, "run %s", R->rl.run_id);
            if (flow_state_resolve_key(R->rl.state, R->f->name, page->v[i]->trace, by, R->rl.started_ms, &e)) run_fail_cls(R, e.cls, "%s", e.msg);
        }
    /* the export hears that the page is written for good (the webhook queue records how far it got),
     * in the transaction that keeps the page's errors */
    const StepRt *ex = &R->steps[R->f->steps[0].id];
    if (!R->failed && R->pages_final && ex->h && ex->c && ex->c->export_page_done && ex->c->export_page_done(ex->h, &e))
        run_fail_cls(R, e.cls, "export %s: %s", ex->label, e.msg);
    if (flow_state_commit(R->rl.state, &e)) run_fail_cls(R, e.cls, "%s", e.msg);
}

/* ---- interruption ---- */

static volatile sig_atomic_t interrupt_sig;
void flow_interrupt(int sig) { interrupt_sig = sig; }
int flow_interrupted(void) { return interrupt_sig; }

/* the run stops here when a signal came: 1 (R failed as interrupted), else 0 */
static int stop_here(Run *R) {
    int sig = interrupt_sig;
    if (!sig || R->failed) return R->failed;
    run_fail(R, "interrupted by %s", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
    R->st->interrupted = sig;
    return 1;
}

/* runs the steps of a list from step `id` on: when it is inside a branch arm, the rest of that arm,
 * then the steps after the branch. 1 when the step was found. */
static int run_from(Run *R, const FlowStepDef *steps, int n, int id, List *L) {
    for (int i = 0; i < n; i++) {
        if (steps[i].id == id) { run_steps(R, steps + i, n - i, L); return 1; }
        if (steps[i].kind != FLOW_STEP_BRANCH) continue;
        for (int a = 0; a < steps[i].narms; a++)
            if (run_from(R, steps[i].arms[a].steps, steps[i].arms[a].nsteps, id, L)) {
                if (L->n && !R->failed) run_steps(R, steps + i + 1, n - i - 1, L);
                return 1;
            }
    }
    return 0;
}

/* `errors retry`: every kept error of this flow runs again from its failing step, with the record
 * and lookup results as they were; one page per step. An entry whose step no longer exists stays
 * open. */
static void retry_pages(Run *R) {
    const FlowFlowDef *f = R->f;
    int n = cJSON_GetArraySize(R->rl.retry);
    int *done = flow_xcalloc((size_t)n + 1, sizeof *done);
    long seq = 0;
    for (int i = 0; i < n && !R->failed; i++) {
        const cJSON *e = cJSON_GetArrayItem(R->rl.retry, i);
        const char *step = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "step"));
        const char *flow = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "flow"));
        if (done[i] || !step || !flow || strcmp(flow, f->name) != 0) continue;
        if (stop_here(R)) break;
        StepRt *target = NULL;
        for (int k = 0; k < R->nsteps && !target; k++) if (R->steps[k].def && strcmp(R->steps[k].label, step) == 0) target = &R->steps[k];
        if (!target) continue;
        List page = { 0 };
        R->page++;
        flow_run_set_contexts(R->cx, &R->rl, f->name, R->page, R->page_size);
        page_begin(R);
        for (int j = i; j < n; j++) {   /* every entry of this step */
            const cJSON *x = cJSON_GetArrayItem(R->rl.retry, j);
            const char *sj = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "step"));
            const char *fj = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "flow"));
            if (done[j] || !sj || !fj || strcmp(sj, step) != 0 || strcmp(fj, f->name) != 0) continue;
            done[j] = 1;
            R->st->exported++;
            const cJSON *rec = cJSON_GetObjectItemCaseSensitive(x, "record");
            const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "trace_key"));
            Inst *in = inst_new(R, cJSON_Duplicate(rec, 1), seq++);
            in->trace = flow_xstrdup(key ? key : "");
            const cJSON *lk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "context"), "lookups");
            for (const cJSON *l = lk ? lk->child : NULL; l; l = l->next) {
                int slot = atoi(l->string);
                if (slot >= 0 && slot < R->nslots) in->lk[slot] = cJSON_Duplicate(l, 1);
            }
            FlowErr ve;
            if (target->def->kind == FLOW_STEP_EXPORT && (!cJSON_IsObject(in->rec) ||
                accept_values(in->rec, target->def->type, "record", &ve))) {
                if (!cJSON_IsObject(in->rec)) flow_err_set(&ve, FLOW_ERR_PARSE, "the kept data is not a record");
                rec_error_in(R, target, ve.cls, ve.msg, in);
                inst_free(R, in);
                continue;
            }
            list_push(&page, in);
        }
        if (target->def->kind == FLOW_STEP_EXPORT) run_steps(R, f->steps + 1, f->nsteps - 1, &page);
        else run_from(R, f->steps, f->nsteps, target->def->id, &page);
        if (!R->failed)
            for (int k = 0; k < page.n; k++)
                if (!page.v[k]->imported) R->st->ignored++;
        page_end(R, &page);
        list_free(R, &page);
        flow_scratch_reset(R->cx);
    }
    free(done);
}

/* a once() flag is set when it is true, a number other than 0 (SQL booleans) or "true" */
static int flag_set(const cJSON *v) {
    return cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0) || (cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0);
}

/* once(): what setting the flag of an exported record needs: the record and the mode evaluated for it */
static int add_mark(Run *R, cJSON **marks, const cJSON *rec) {
    cJSON *m;
    if (R->mode_def->per_record) {
        ctx_enter(R, NULL);
        FlowVal v = R->mode_def->per_record(R->cx, (cJSON *)rec);
        m = flow_failed(R->cx) ? NULL : flow_val_to_json(v);
        if (!m) { FlowErr e; take_error(R, &e, "mode"); ctx_leave(R); return run_fail_cls(R, e.cls, "once(): %s", e.msg); }
        ctx_leave(R);
    } else m = flow_val_to_json(R->mode_def->konst(R->cx));
    if (!*marks) *marks = cJSON_CreateArray();
    cJSON *x = cJSON_CreateObject();
    cJSON_AddItemToObject(x, "record", cJSON_Duplicate(rec, 1));
    cJSON_AddItemToObject(x, "mode", m);
    cJSON_AddItemToArray(*marks, x);
    return 0;
}

/* FlowExportItem.typed: a record's JSON text decoded into slots of the export's declared type, in
 * the page arena (the text copied there too: the slots' strings point into it). 0 when taken. */
static int take_typed(void *arg, const char *text, size_t n) {
    Run *R = arg;
    char *copy = flow_arena_alloc(&R->arena, n + 1);
    memcpy(copy, text, n);
    copy[n] = 0;
    FlowTSlot *root = flow_arena_alloc(&R->arena, sizeof *root);
    if (flow_json_decode_typed(R->f->steps[0].type, copy, n, &R->arena, root)) return -1;
    R->took = root;
    R->took_raw = copy;
    R->took_rawn = n;
    return 0;
}

/* Whether the run takes records typed: the export declares a record type, some step has a typed
 * variant, and nothing before the steps needs the tree (once(), delta(), a pre_save_page hook, a
 * preview or test, a retry). FLOW_TYPED=off turns it off (to compare the two ways). */
static int typed_run(const Run *R) {
    const FlowFlowDef *f = R->f;
    const char *env = getenv("FLOW_TYPED");
    if (env && strcmp(env, "off") == 0) return 0;
    if (!f->steps[0].type || !f->steps[0].type->is_record || R->ri->mocks || R->rl.retry || R->once_flag || R->mode_def ||
        R->delta_field || f->pre_save_page)
        return 0;
    for (int i = 1; i < f->nsteps; i++) if (f->steps[i].tfn || f->steps[i].tmap) return 1;
    return 0;
}

static void export_pages(Run *R, StepRt *ex) {
    const FlowFlowDef *f = R->f;
    const FlowConnector *c = ex->c;
    long seq = 0;
    int end = 0;
    char export_fail[sizeof ((FlowErr *)0)->msg] = "";
    FlowErrorClass export_cls = FLOW_ERR_VALUE;
    if (R->ri->mocks && R->ri->mocks->mode == FLOW_MOCK_PREVIEW && R->ri->mocks->limit > 0 && R->page_size > R->ri->mocks->limit)
        R->page_size = R->ri->mocks->limit;
    while (!end && !R->failed && !stop_here(R)) {
        List page = { 0 };
        long pulled = 0;
        size_t bytes = 0;
        /* the counters as the page began: a page dropped by an interruption is not counted */
        long was_exported = R->st->exported, was_ignored = R->st->ignored, was_errors = R->st->errors;
        long was_by_class[FLOW_ERR_COUNT];
        memcpy(was_by_class, R->st->by_class, sizeof was_by_class);
        R->page++;
        flow_run_set_contexts(R->cx, R->ri, f->name, R->page, R->page_size);
        page_begin(R);
        cJSON *marks = NULL;
        while (pulled < R->page_size) {
            if (R->limit && R->st->exported >= R->limit) { end = 1; break; }
            if (interrupt_sig && !R->failed && stop_here(R)) {   /* no step has seen this page: it is dropped whole */
                R->st->exported = was_exported;
                R->st->ignored = was_ignored;
                R->st->errors = was_errors;
                memcpy(R->st->by_class, was_by_class, sizeof was_by_class);
                flow_state_rollback(R->rl.state);
                R->page--;
                break;
            }
            FlowExportItem it;
            memset(&it, 0, sizeof it);
            if (R->typed) { it.typed = take_typed; it.typed_arg = R; }
            FlowErr e;
            int r = c->export_next(ex->h, &it, &e);
            if (r == FLOW_NEXT_END) { end = 1; cJSON_Delete(it.rec); break; }
            if (r == FLOW_NEXT_FAIL && interrupt_sig && !R->failed) { cJSON_Delete(it.rec); continue; }   /* a read a signal stopped */
            if (r == FLOW_NEXT_FAIL) {   /* the records already pulled still go through the steps */
                cJSON_Delete(it.rec);
                snprintf(export_fail, sizeof export_fail, "%s", e.msg);
                export_cls = e.cls;
                end = 1;
                break;
            }
            pulled++;
            R->st->exported++;
            if (r == FLOW_NEXT_TYPED) {   /* decoded and checked against the type already (take_typed) */
                bytes += it.bytes;
                Inst *in = inst_new(R, NULL, seq++);
                in->trec = R->took;
                in->raw = R->took_raw;
                in->rawn = R->took_rawn;
                /* its trace key only when open errors may be resolved by it; else when it errs */
                if (R->rl.state && R->open_errors > 0) inst_rec(R, in);
                list_push(&page, in);
                continue;
            }
            if (r == FLOW_NEXT_ERROR) {
                rec_error(R, ex, it.err.cls, it.err.msg, it.rec);
                cJSON_Delete(it.rec);
                continue;
            }
            if (R->once_flag && flag_set(cJSON_GetObjectItemCaseSensitive(it.rec, R->once_flag))) {
                R->st->exported--;   /* exported once already: not part of this run */
                cJSON_Delete(it.rec);
                continue;
            }
            /* once(): the record gets its flag after this page, whatever becomes of it (an error keeps it) */
            if (R->mode_def && add_mark(R, &marks, it.rec)) { cJSON_Delete(it.rec); break; }
            FlowErr te;
            int bad_text = it.text_values && coerce_text(R, it.rec, ex->def->type, &te);
            FlowTimeLayout lay;
            int has_lay = R->delta_field && learn_layout(R, ex, it.rec, &lay);
            /* outside the delta window: ignored before its values and type are checked, or a record
             * that fails them would be raised again by every run whose query returns it */
            if (R->delta_field && !in_window(R, it.rec, has_lay ? &lay : NULL)) {
                R->st->ignored++;
                cJSON_Delete(it.rec);
                continue;
            }
            int av = bad_text ? -1 : accept_values(it.rec, ex->def->type, "record", &e);
            if (bad_text) e = te;
            if (av) {
                cJSON *kept = av == -2 ? flow_json_to_text(cJSON_Duplicate(it.rec, 1)) : NULL;
                rec_error(R, ex, e.cls, e.msg, kept ? kept : it.rec);
                cJSON_Delete(kept);
                cJSON_Delete(it.rec);
                continue;
            }
            bytes += it.bytes ? it.bytes : json_size(it.rec);
            Inst *in = inst_new(R, it.rec, seq++);
            if (R->rl.state) in->trace = trace_key_of(in->rec);
            list_push(&page, in);
        }
        if (R->failed) { list_free(R, &page); cJSON_Delete(marks); break; }
        if (!pulled) { list_free(R, &page); cJSON_Delete(marks); R->page--; break; }
        if (bytes > FLOW_PAGE_MAX_BYTES) too_large(R, ex, &page, bytes, "as exported");
        else {
            if (hook_list(R, ex, f->pre_save_page, "pre_save_page", &page, -1)) end = 1;   /* abort: no more pages */
            if (R->ri->mocks && R->ri->mocks->trace) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "step", ex->label);
                cJSON_AddStringToObject(e, "kind", "export");
                cJSON_AddItemToObject(e, "out", trace_records(&page, -1));
                trace_requests(e, ex);
                cJSON_AddItemToArray(R->ri->mocks->trace, e);
                end = 1;   /* a preview looks at the first page only */
            }
            run_steps(R, f->steps + 1, f->nsteps - 1, &page);
        }
        if (!R->failed)
            for (int i = 0; i < page.n; i++)
                if (!page.v[i]->imported) R->st->ignored++;   /* reached the end without an import */
        if (marks && !R->failed && cJSON_GetArraySize(marks)) {   /* once(): the page's records get their flag */
            FlowErr e;
            if (c->export_mark(ex->h, marks, &e)) run_fail_cls(R, e.cls, "export %s: setting the once() flag: %s", ex->label, e.msg);
            else R->st->marked += cJSON_GetArraySize(marks);
        }
        cJSON_Delete(marks);
        marks = NULL;
        page_end(R, &page);
        list_free(R, &page);
        flow_arena_reset(&R->arena);   /* the page's typed records */
        flow_scratch_reset(R->cx);
        if (R->rl.on_page && !R->failed) R->rl.on_page(R->rl.on_page_arg, R->st, (long)R->page);
    }
    FlowErr e;
    if (R->rl.state && flow_state_commit(R->rl.state, &e)) run_fail_cls(R, e.cls, "%s", e.msg);
    if (export_fail[0]) run_fail_cls(R, export_cls, "export %s: %s", ex->label, export_fail);
}

/* Every string in a tree, redacted in place (what a preview shows, what a test captured). */
static void redact_tree(const Run *R, cJSON *j) {
    for (; j; j = j->next) {
        if (cJSON_IsString(j) && j->valuestring) {
            char *r = redact(R, j->valuestring);
            if (strcmp(r, j->valuestring) != 0) cJSON_SetValuestring(j, r);
            free(r);
        }
        if (j->child) redact_tree(R, j->child);
    }
}

int flow_run_flow(const FlowProgram *p, FlowCtx *cx, int fi, const FlowRunInfo *ri, FILE *errs, FlowRunStats *st) {
    memset(st, 0, sizeof *st);
    Run R0, *R = &R0;
    memset(R, 0, sizeof *R);
    R->p = p;
    R->cx = cx;
    R->rl = *ri;
    if (ri->mocks) R->rl.state = NULL;   /* a test or a preview moves no state */
    R->ri = ri = &R->rl;
    R->errs = errs;
    R->st = st;
    R->page_size = FLOW_PAGE_SIZE_DEFAULT;
    if (fi < 0 || fi >= p->nflows) { snprintf(st->fail_msg, sizeof st->fail_msg, "no flow %d", fi); st->failed = 1; return -1; }
    const FlowFlowDef *f = R->f = &p->flows[fi];
    st->flow = f->name;
    flow_ctx_set_now(cx, ri->started_ms);
    flow_run_set_contexts(cx, ri, f->name, 0, R->page_size);
    collect_param_secrets(R);
    R->conns = flow_xcalloc((size_t)p->nconns, sizeof *R->conns);
    for (int i = 0; i < p->nconns; i++) R->conns[i].def = &p->conns[i];

    /* steps by id, imports in source order */
    walk_steps(R, f->steps, f->nsteps, 0, count_import);
    st->import_names = flow_xcalloc((size_t)st->nimports, sizeof *st->import_names);
    st->imported = flow_xcalloc((size_t)st->nimports, sizeof *st->imported);
    st->nimports = 0;
    if (!R->failed) walk_steps(R, f->steps, f->nsteps, 0, max_id);
    R->nslots = R->nsteps > f->nslots ? R->nsteps : f->nslots;
    R->steps = flow_xcalloc((size_t)R->nsteps, sizeof *R->steps);
    if (!R->failed && (f->nsteps < 1 || f->steps[0].kind != FLOW_STEP_EXPORT))
        run_fail(R, "flow %s does not start with an export", f->name);
    if (!R->failed) walk_steps(R, f->steps, f->nsteps, 0, setup_step);
    for (int i = 0; i < p->nconns && !R->failed; i++)
        if (R->conns[i].uses) open_conn(R, &R->conns[i]);
    FlowErr se;
    if (!R->failed && R->rl.state) {
        if (flow_state_run_begin(R->rl.state, f->name, R->rl.run_id, R->rl.started_ms, &se)) run_fail_cls(R, se.cls, "%s", se.msg);
        R->open_errors = flow_state_open_errors(R->rl.state, f->name);
        /* a webhook-triggered flow whose export is not `from webhook` takes its queued events (they
         * hold no records for it) as its run starts */
        const FlowStepDef *ex = &f->steps[0];
        int triggered = 0;
        for (int i = 0; i < f->nsettings; i++) triggered |= f->settings[i].name && strcmp(f->settings[i].name, "trigger") == 0;
        if (!R->failed && triggered && !R->rl.retry && ex->conn >= 0 && ex->conn < p->nconns && strcmp(p->conns[ex->conn].kind, "webhook") != 0 &&
            flow_state_queue_done(R->rl.state, f->name, R->rl.run_id, R->rl.started_ms, &se))
            run_fail_cls(R, se.cls, "%s", se.msg);
    }
    if (!R->failed) walk_steps(R, f->steps, f->nsteps, 0, open_step);
    /* pages are written for good as they end, unless an import keeps its writes until the run ends well */
    R->pages_final = 1;
    for (int i = 0; i < R->nsteps; i++)
        if (R->steps[i].def && R->steps[i].def->kind == FLOW_STEP_IMPORT && (!R->steps[i].c || R->steps[i].c->commit_at_finish))
            R->pages_final = 0;
    R->typed = typed_run(R);
    if (!R->failed && R->rl.retry) retry_pages(R);
    else if (!R->failed) export_pages(R, &R->steps[f->steps[0].id]);
    flow_arena_free(&R->arena);
    flow_buf_free(&R->tbuf);

    /* the end: commit (or discard) what the connections wrote */
    for (int i = 0; i < R->nsteps; i++) close_step(R, &R->steps[i]);
    for (int i = 0; i < p->nconns; i++) {
        ConnRt *c = &R->conns[i];
        if (!c->state) continue;
        FlowErr e;
        c->committed = !R->failed;
        if (c->c->finish && c->c->finish(c->state, !R->failed, &e) < 0) {
            c->committed = 0;
            run_fail_cls(R, e.cls, "connection %s: %s", c->def->name, e.msg);
        }
    }
    /* what an import wrote through a connection that did not commit it (a failed run's files) was
     * not written: the summary counts it as such, not as imported */
    for (int i = 0; i < R->nsteps; i++) {
        const StepRt *s = &R->steps[i];
        if (s->def && s->import_index >= 0 && s->conn && s->c && s->c == s->conn->c && s->c->commit_at_finish && !s->conn->committed) {
            st->not_written += st->imported[s->import_index];
            st->imported[s->import_index] = 0;
        }
    }
    for (int i = 0; i < p->nconns; i++) {
        ConnRt *c = &R->conns[i];
        if (c->state) c->c->close(c->state);
        settings_free(c->s);
    }
    free(R->conns);
    for (int i = 0; i < R->nsteps; i++) { free(R->steps[i].items); free(R->steps[i].owner); }
    free(R->steps);
    /* the state: the run's end; the delta time moves only after a whole run that was not given a
     * window; retried entries that came through (or were ignored) are resolved */
    if (R->rl.state) {
        char by[96];
        snprintf(by, sizeof by, "retry %.39s", R->rl.run_id);
        for (const cJSON *e = R->rl.retry ? R->rl.retry->child : NULL; e && !R->failed; e = e->next) {
            const char *fl = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "flow"));
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
            if (fl && strcmp(fl, f->name) == 0 && cJSON_IsNumber(id) &&
                flow_state_error_resolve(R->rl.state, (long)id->valuedouble, by, R->rl.started_ms, &se) < 0)
                run_fail_cls(R, se.cls, "%s", se.msg);
        }
        /* limit(n) keeps no state; a run given its window or its clock moves no saved time */
        int advance = !R->failed && !R->rl.since_set && !R->rl.until_set && !R->rl.now_set && !R->rl.retry && !R->limit;
        /* the delta field's layout goes with the time: unknown when the records mixed two. When the
         * records show another layout than the one the window was bound in, the source may have left
         * records out: the time stays, and the next run reads this window again in the new layout */
        char lt[64] = "";
        const char *layout = NULL;
        if (advance && R->delta_field && (R->seen.known || R->layout_mixed)) {
            if (!R->layout_mixed) flow_time_layout_text(&R->seen, lt, sizeof lt);
            layout = lt;
            /* (fewer fraction digits than the window was bound with sort before it, unless a Z follows:
             * `22:03:50` < `22:03:50.558`, but `22:03:50Z` > `22:03:50.558Z`) */
            int coarser = R->seen.min_digits < R->bound.min_digits && strcmp(R->bound.zone, "Z") != 0 && strcmp(R->bound.zone, "z") != 0;
            if (R->sql_bound && R->bound.known && (R->layout_mixed || !flow_time_layout_same(&R->bound, &R->seen) || coarser)) {
                char was[64];
                flow_time_layout_text(&R->bound, was, sizeof was);
                if (R->errs)
                    fprintf(R->errs, "warning: flow %s: the delta field %s is written as %s now, not %s as before: the query may have "
                                     "left records out, so the delta time stays and the next run reads this window again\n",
                            f->name, R->delta_field, R->layout_mixed ? "two layouts" : lt, was);
                advance = 0;
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        st->failed = R->failed;
        if (flow_state_run_end(R->rl.state, f->name, R->rl.run_id, R->rl.started_ms, now, st, advance, layout, &se))
            run_fail_cls(R, se.cls, "%s", se.msg);
        const char *days = getenv("FLOW_ERROR_RETENTION_DAYS");
        double d = days && *days ? atof(days) : 30;
        if (d > 0 && flow_state_purge(R->rl.state, R->rl.started_ms - (int64_t)(d * 86400000.0), &se)) run_fail_cls(R, se.cls, "%s", se.msg);
        /* the run history: a schedule every second would keep 86,400 rows a day */
        days = getenv("FLOW_RUN_RETENTION_DAYS");
        d = days && *days ? atof(days) : 90;
        if (d > 0 && flow_state_runs_purge(R->rl.state, R->rl.started_ms - (int64_t)(d * 86400000.0), &se)) run_fail_cls(R, se.cls, "%s", se.msg);
    }
    free(R->delta_field);
    free(R->once_flag);
    if (ri->mocks) {   /* a preview's or a test's view of the run never shows a secret */
        if (ri->mocks->captured) redact_tree(R, ri->mocks->captured->child);
        if (ri->mocks->trace) redact_tree(R, ri->mocks->trace->child);
    }
    for (int i = 0; i < R->nsecrets; i++) free(R->secrets[i]);
    free(R->secrets);
    flow_scratch_reset(cx);
    flow_clear_error(cx);
    for (int i = 0; i < R->nslots; i++) flow_ctx_set_lookup(cx, i, NULL);
    st->failed = R->failed;
    return R->failed ? -1 : 0;
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
