/* errors.c — the error path: a run's failure (the first one, with its class), record errors
 * (counted, one line each on the error stream, kept in the error store with their trace key and
 * lookup results for a retry, captured by a test; a page's import and lookup items' errors, set by
 * the connectors, their message allocated only when a record fails), and the run's secrets, kept
 * in every form the engine may print them in and redacted from everything it prints. */
#include "engine_int.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_DATA_MAX 4096      /* record data printed with an error line, in bytes */

void flow_err_set(FlowErr *e, FlowErrorClass cls, const char *fmt, ...) {
    e->cls = cls;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

/* ---- a page's items' record errors (engine.h): the message allocated when a record fails ---- */

static void item_err_vset(FlowItemErr *e, FlowErrorClass cls, const char *fmt, va_list ap) {
    char msg[sizeof ((FlowErr *)0)->msg];   /* what flow_err_set would keep, cut where it cuts */
    vsnprintf(msg, sizeof msg, fmt, ap);
    free(e->text);
    e->text = flow_xstrdup(msg);
    e->cls = cls;
}

void flow_import_fail(FlowImportItem *it, FlowErrorClass cls, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    item_err_vset(&it->err, cls, fmt, ap);
    va_end(ap);
    it->failed = 1;
}

void flow_lookup_fail(FlowLookupItem *it, FlowErrorClass cls, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    item_err_vset(&it->err, cls, fmt, ap);
    va_end(ap);
    it->failed = 1;
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
void eng_collect_secrets(Run *R, const cJSON *j) {
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
        eng_collect_secrets(R, c);
    }
}

/* The values of the params the compiler marked secret (they feed a secret setting). */
void eng_collect_param_secrets(Run *R) {
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
int eng_run_fail_cls(Run *R, FlowErrorClass cls, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = run_failv(R, cls, fmt, ap);
    va_end(ap);
    return r;
}

/* ...or, for a flow that cannot run as written (settings, setup), `value`. */
int eng_run_fail(Run *R, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = run_failv(R, FLOW_ERR_VALUE, fmt, ap);
    va_end(ap);
    return r;
}

/* A record's trace key, which finds its open errors again in later runs: its `id` when it has one,
 * otherwise a hash of the record as exported. Malloc'd. */
char *eng_trace_key(const cJSON *rec) {
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
    eng_pipe_flush(R);   /* the page in flight first: its errors come before this one, as without pipelining */
    if (R->pipe_failed) return;   /* its write failed the run: this page is as if never read (export_pages drops it) */
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
        char *key = in && in->trace ? NULL : eng_trace_key(data);
        FlowStateError se = { R->f->name, s->label, cname, m, rec, ctx, hx, R->ri->run_id, R->ri->started_ms,
                              in && in->trace ? in->trace : key };
        FlowErr e;
        if (flow_state_error_add(R->ri->state, &se, &e) < 0) eng_run_fail_cls(R, e.cls, "cannot keep a record error: %s", e.msg);
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

void eng_rec_error(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, const cJSON *data) {
    rec_error_core(R, s, cls, msg, data, NULL, NULL);
}
void eng_rec_error_in(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, Inst *in) {
    rec_error_core(R, s, cls, msg, eng_inst_rec(R, in), NULL, in);
}
void eng_rec_error_in_http(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, Inst *in, const cJSON *http) {
    rec_error_core(R, s, cls, msg, eng_inst_rec(R, in), http, in);
}

/* Every string in a tree, redacted in place (what a preview shows, what a test captured). */
void eng_redact_tree(const Run *R, cJSON *j) {
    for (; j; j = j->next) {
        if (cJSON_IsString(j) && j->valuestring) {
            char *r = redact(R, j->valuestring);
            if (strcmp(r, j->valuestring) != 0) cJSON_SetValuestring(j, r);
            free(r);
        }
        if (j->child) eng_redact_tree(R, j->child);
    }
}
