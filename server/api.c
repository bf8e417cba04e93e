/* api.c — the integrations, flows, exports and imports routes: .flow text in (text/plain, or a
 * .flowpkg package), checked by the front end before anything is stored (422 with the diagnostics),
 * committed as a revision; JSON views out, derived from the typed IR and the resource model of the
 * head revision (checked once per revision and kept). A flow's id is INTEGRATION.FLOW, an export's
 * or import's INTEGRATION.FLOW.STEP. */
#define _GNU_SOURCE
#include "server.h"
#include "db.h"
#include "clone.h"
#include "diff.h"
#include "ir.h"
#include "package.h"
#include "files.h"
#include "hooks.h"   /* compiler/hooks.h: hooks_check */
#include "resource.h"
#include "types.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEP " \xe2\x80\xba "   /* the resource model's address separator (›) */
#define CACHE_N 32

/* ---- checking text ---- */

int srv_doc_load(SrvDoc *d, const char *name, const char *text, size_t len) {
    memset(d, 0, sizeof *d);
    diag_init(&d->d);
    d->src = src_from_buffer(name, text, len);
    d->ar = arena_new();
    fe_run(&d->fe, d->src, &d->d, FE_CHECK);
    d->ran = 1;
    /* as flowc check: hook files and test data files where the name says (beside the integration's
     * files, srv_files_name), each hook file compiled once */
    if (!d->d.errors && d->fe.ir) { hooks_check(d->fe.ir, d->src, &d->d); hooks_check_test_files(d->fe.ir, d->src, &d->d); }
    if (d->d.errors) return -1;
    d->m = res_build(d->ar, d->src, d->fe.ast, d->fe.ir);
    return 0;
}

void srv_doc_free(SrvDoc *d) {
    diag_free(&d->d);
    if (d->ran) fe_result_free(&d->fe);
    if (d->ar) arena_free(d->ar);
    if (d->src) src_free(d->src);
    memset(d, 0, sizeof *d);
}

void srv_doc_422(const SrvDoc *d, SrvResp *out) {
    diag_sort((Diags *)&d->d);
    cJSON *o = cJSON_CreateObject(), *errs = cJSON_AddArrayToObject(o, "errors");
    for (int i = 0; i < d->d.n; i++) {
        const Diag *g = &d->d.items[i];
        if (g->sev != DIAG_ERROR) continue;
        cJSON *e = cJSON_CreateObject();
        int l1, c1, l2, c2;
        src_line_col(g->src, g->span.start, &l1, &c1);
        src_line_col(g->src, g->span.end, &l2, &c2);
        cJSON_AddStringToObject(e, "code", "invalid_flow");
        cJSON_AddStringToObject(e, "message", g->msg);
        cJSON_AddNullToObject(e, "field");
        const char *slash = strrchr(g->src->name, '/');   /* checked beside its files: the name without the directory */
        cJSON_AddStringToObject(e, "file", slash ? slash + 1 : g->src->name);
        cJSON_AddNumberToObject(e, "line", l1);
        cJSON_AddNumberToObject(e, "column", c1);
        cJSON_AddNumberToObject(e, "end_line", l2);
        cJSON_AddNumberToObject(e, "end_column", c2);
        cJSON_AddItemToArray(errs, e);
    }
    if (!cJSON_GetArraySize(errs)) {
        cJSON_Delete(o);
        srv_error(out, 422, "invalid_flow", NULL, "the text does not check");
        return;
    }
    srv_json(out, 422, o);
}

cJSON *srv_diff_json(const ResModel *a, const ResModel *b) {
    Arena *ar = arena_new();
    Source *empty = src_from_buffer("<none>", "", 0);
    const ResModel *ea = a ? a : res_build(ar, empty, NULL, NULL), *eb = b ? b : res_build(ar, empty, NULL, NULL);
    DiffResult r = { 0 };
    diff_models(ea, eb, &r);
    static const char *const actions[] = {
#define X(k, s) s,
        DIFF_ACTIONS(X)
#undef X
    };
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < r.n; i++) {
        const DiffChange *c = &r.items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "action", actions[c->action]);
        cJSON_AddStringToObject(o, "address", c->address);
        if (c->before) cJSON_AddStringToObject(o, "before", c->before);
        else cJSON_AddNullToObject(o, "before");
        if (c->after) cJSON_AddStringToObject(o, "after", c->after);
        else cJSON_AddNullToObject(o, "after");
        cJSON *notes = cJSON_AddArrayToObject(o, "notes");
        for (int k = 0; k < c->nnotes; k++) cJSON_AddItemToArray(notes, cJSON_CreateString(c->notes[k]));
        cJSON_AddItemToArray(arr, o);
    }
    diff_free(&r);
    src_free(empty);
    arena_free(ar);
    return arr;
}

/* ---- the store ---- */

char *srv_integration_text(Srv *s, const char *id, size_t *len, long *rev) {
    SrvStore *st = srv_store(s);
    char *text = NULL;
    store_lock(st);
    FlowDbStmt *q = flow_db_prepare(store_db(st), "SELECT i.head, r.text FROM integrations i JOIN revisions r ON r.integration = i.id AND r.rev = i.head"
                                         " WHERE i.id = ?");
    if (q) {
        flow_db_bind_text(q, 1, id);
        if (flow_db_step(q) == FLOW_DB_ROW) {
            *rev = (long)flow_db_column_int64(q, 0);
            *len = flow_db_column_bytes(q, 1);
            text = flow_xcalloc(1, *len + 1);
            memcpy(text, flow_db_column_text(q, 1), *len);
        }
    }
    flow_db_finalize(q);
    store_unlock(st);
    return text;
}

/* the head revision of an integration and where it was cloned from: 0, or -1 when there is none */
static int head_of(Srv *s, const char *id, long *rev, char *origin, size_t ocap) {
    SrvStore *st = srv_store(s);
    int found = -1;
    store_lock(st);
    FlowDbStmt *q = flow_db_prepare(store_db(st), "SELECT head, origin FROM integrations WHERE id = ?");
    if (q) {
        flow_db_bind_text(q, 1, id);
        if (flow_db_step(q) == FLOW_DB_ROW) {
            found = 0;
            *rev = (long)flow_db_column_int64(q, 0);
            if (origin) snprintf(origin, ocap, "%s", flow_db_column_text(q, 1) ? flow_db_column_text(q, 1) : "");
        }
    }
    flow_db_finalize(q);
    store_unlock(st);
    return found;
}

/* the ids of every integration, in order (a JSON array of strings) */
static cJSON *integration_ids(Srv *s) {
    SrvStore *st = srv_store(s);
    cJSON *a = cJSON_CreateArray();
    store_lock(st);
    FlowDbStmt *q = flow_db_prepare(store_db(st), "SELECT id FROM integrations ORDER BY id");
    if (q)
        while (flow_db_step(q) == FLOW_DB_ROW) cJSON_AddItemToArray(a, cJSON_CreateString(flow_db_column_text(q, 0)));
    flow_db_finalize(q);
    store_unlock(st);
    return a;
}

/* ---- the checked heads, kept per integration (the api module's state) ---- */

typedef struct Cached { char *id; long rev; unsigned long used; SrvDoc doc; } Cached;
typedef struct Api {
    pthread_mutex_t lock;      /* the cache, and every use of a document in it */
    Cached c[CACHE_N];
    unsigned long tick;
} Api;

int api_start(Srv *s, char *why, size_t cap) {
    (void)why; (void)cap;
    Api *a = flow_xcalloc(1, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    *srv_module(s, SRV_MOD_api) = a;
    return 0;
}

void api_stop(Srv *s) {
    Api *a = *srv_module(s, SRV_MOD_api);
    if (!a) return;
    for (int i = 0; i < CACHE_N; i++)
        if (a->c[i].id) { free(a->c[i].id); srv_doc_free(&a->c[i].doc); }
    pthread_mutex_destroy(&a->lock);
    free(a);
    *srv_module(s, SRV_MOD_api) = NULL;
}

/* Checks text as the source file base (integration.flow, ID.flow) would be: beside files when there
 * are any (staged in a directory of their own for the check, removed after), beside the head's files
 * of integration integ when files is NULL and integ is set, else alone. 0 with *d loaded (free it;
 * srv_doc_load's answer in *bad), or -1 with the answer (500) in out and *d untouched. */
static int doc_load_beside(Srv *s, SrvDoc *d, int *bad, const char *base, const char *text, size_t len, const SrvFiles *files,
                           const char *integ, SrvResp *out) {
    char name[4400], stage[4000] = "", why[600];
    if (files && files->n && srv_files_stage(s, files, stage, sizeof stage, why, sizeof why)) {
        srv_error(out, 500, "internal", NULL, "%s", why);
        return -1;
    }
    if (stage[0]) snprintf(name, sizeof name, "%.3999s/%.299s", stage, base);
    else if (files || !integ) snprintf(name, sizeof name, "%s", base);   /* a package without files: nothing beside it */
    else srv_files_name(s, integ, base, name, sizeof name);
    *bad = srv_doc_load(d, name, text, len);
    if (stage[0]) srv_files_unstage(stage);
    return 0;
}

/* The checked head of integration id, with the api lock held (release with head_done), or NULL
 * (the lock not held) when there is no such integration. */
static const SrvDoc *head_get(Srv *s, const char *id, long *rev, char *origin, size_t ocap) {
    Api *a = *srv_module(s, SRV_MOD_api);
    if (head_of(s, id, rev, origin, ocap)) return NULL;
    pthread_mutex_lock(&a->lock);
    Cached *slot = NULL, *old = &a->c[0];
    for (int i = 0; i < CACHE_N; i++) {
        if (a->c[i].id && strcmp(a->c[i].id, id) == 0) { slot = &a->c[i]; break; }
        if (a->c[i].used < old->used) old = &a->c[i];
    }
    if (slot && slot->rev == *rev) {
        slot->used = ++a->tick;
        return &slot->doc;
    }
    size_t len;
    long trev;
    char *text = srv_integration_text(s, id, &len, &trev);
    if (!text) { pthread_mutex_unlock(&a->lock); return NULL; }
    *rev = trev;
    if (!slot) slot = old;
    if (slot->id) { free(slot->id); srv_doc_free(&slot->doc); }
    char base[300];
    int bad;   /* (a stored revision checked clean when it was stored) */
    snprintf(base, sizeof base, "%s.flow", id);
    doc_load_beside(s, &slot->doc, &bad, base, text, len, NULL, id, NULL);   /* beside its files */
    free(text);
    slot->id = flow_xstrdup(id);
    slot->rev = trev;
    slot->used = ++a->tick;
    return &slot->doc;
}

static void head_done(Srv *s) {
    Api *a = *srv_module(s, SRV_MOD_api);
    pthread_mutex_unlock(&a->lock);
}

/* ---- views ---- */

/* the source with secrets masked (secret settings' string literals, credentials' arguments) */
static char *masked_source(const SrvDoc *d) {
    Resource whole;
    memset(&whole, 0, sizeof whole);
    whole.kind = RES_INTEGRATION;
    whole.node = d->fe.ast;
    whole.parent = -1;
    whole.span.start = 0;
    whole.span.end = (uint32_t)d->src->len;
    return res_text(d->m, &whole);
}

static const Resource *res_at(const ResModel *m, const char *fmt, const char *a, const char *b) {
    char addr[1200];
    snprintf(addr, sizeof addr, fmt, a, b);
    int i = res_find(m, addr);
    return i < 0 ? NULL : &m->items[i];
}

/* a setting's value as source text (secrets masked): `name = value` without `name =` */
static char *setting_value(const ResModel *m, const Resource *r) {
    char *t = res_text(m, r);
    char *eq = strchr(t, '=');
    if (!eq) return t;
    eq++;
    while (*eq == ' ') eq++;
    memmove(t, eq, strlen(eq) + 1);
    return t;
}

/* {name: value text} of r's settings */
static cJSON *settings_json(const ResModel *m, const Resource *r) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; r && k < r->nkids; k++) {
        const Resource *c = &m->items[r->kids[k]];
        if (c->kind != RES_SETTING || !c->name) continue;
        char *v = setting_value(m, c);
        cJSON_AddStringToObject(o, c->name, v);
        free(v);
    }
    return o;
}

static void add_text(cJSON *o, const char *key, char *text) {   /* text taken */
    cJSON_AddStringToObject(o, key, text ? text : "");
    free(text);
}

static char *join_id(const char *a, const char *b, const char *c) {
    char buf[900];
    if (c) snprintf(buf, sizeof buf, "%s.%s.%s", a, b, c);
    else snprintf(buf, sizeof buf, "%s.%s", a, b);
    return flow_xstrdup(buf);
}

static void add_id(cJSON *arr, const char *a, const char *b, const char *c) {
    char *id = join_id(a, b, c);
    cJSON_AddItemToArray(arr, cJSON_CreateString(id));
    free(id);
}

static int is_io(const IrStep *st) { return st->kind == STEP_EXPORT || st->kind == STEP_IMPORT; }

static cJSON *integration_view(const SrvDoc *d, const char *id, long rev, const char *origin, int full) {
    const IrProgram *p = d->fe.ir;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", p->name ? p->name : id);
    if (p->version) cJSON_AddStringToObject(o, "version", p->version);
    else cJSON_AddNullToObject(o, "version");
    cJSON_AddNumberToObject(o, "revision", (double)rev);
    if (origin && *origin) cJSON_AddStringToObject(o, "cloned_from", origin);
    else cJSON_AddNullToObject(o, "cloned_from");
    cJSON *flows = cJSON_AddArrayToObject(o, "flows"), *conns = cJSON_AddArrayToObject(o, "connections");
    for (int i = 0; i < p->nflows; i++) add_id(flows, id, p->flows[i]->name, NULL);
    for (int i = 0; i < p->nconns; i++) add_id(conns, id, p->conns[i]->name, NULL);
    if (full) {
        cJSON *ex = cJSON_AddArrayToObject(o, "exports"), *im = cJSON_AddArrayToObject(o, "imports");
        for (int i = 0; i < p->nflows; i++)
            for (int k = 0; k < p->flows[i]->nall; k++) {
                const IrStep *st = p->flows[i]->all[k];
                if (st->kind == STEP_EXPORT && st->name) add_id(ex, id, p->flows[i]->name, st->name);
                if (st->kind == STEP_IMPORT && st->name) add_id(im, id, p->flows[i]->name, st->name);
            }
        cJSON *params = cJSON_AddArrayToObject(o, "params");
        Arena *ar = arena_new();
        for (int i = 0; i < p->nparams; i++) {
            cJSON *pa = cJSON_CreateObject();
            cJSON_AddStringToObject(pa, "name", p->params[i]->name);
            cJSON_AddStringToObject(pa, "type", p->params[i]->type ? ty_str(ar, p->params[i]->type) : "json");
            cJSON_AddItemToArray(params, pa);
        }
        arena_free(ar);
        add_text(o, "source", masked_source(d));
    }
    return o;
}

static cJSON *flow_view(Srv *s, const SrvDoc *d, const char *integ, const IrFlow *f, long rev, int full) {
    const ResModel *m = d->m;
    cJSON *o = cJSON_CreateObject();
    char *id = join_id(integ, f->name, NULL);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddBoolToObject(o, "disabled", srv_flow_disabled(s, id));
    free(id);
    cJSON_AddStringToObject(o, "integration", integ);
    cJSON_AddStringToObject(o, "name", f->name);
    const Resource *r = res_at(m, "flow %s%s", f->name, "");
    const Resource *sch = res_at(m, "flow %s" SEP "%s", f->name, "schedule");
    if (sch) add_text(o, "schedule", setting_value(m, sch));
    else cJSON_AddNullToObject(o, "schedule");
    if (!full) return o;
    cJSON_AddNumberToObject(o, "revision", (double)rev);
    cJSON_AddItemToObject(o, "settings", settings_json(m, r));
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    for (int k = 0; k < f->nall; k++) {
        const IrStep *st = f->all[k];
        cJSON *so = cJSON_CreateObject();
        cJSON_AddStringToObject(so, "kind", ir_step_kind_names[st->kind]);
        if (st->name) cJSON_AddStringToObject(so, "name", st->name);
        else cJSON_AddNullToObject(so, "name");
        if (st->name && is_io(st)) {
            char *sid = join_id(integ, f->name, st->name);
            cJSON_AddStringToObject(so, "id", sid);
            free(sid);
        }
        if (st->conn) cJSON_AddStringToObject(so, "connection", st->conn->name);
        cJSON_AddItemToArray(steps, so);
    }
    if (r) add_text(o, "source", res_text(m, r));
    return o;
}

static cJSON *step_view(const SrvDoc *d, const char *integ, const IrFlow *f, const IrStep *st, long rev, int full) {
    const ResModel *m = d->m;
    const char *kind = ir_step_kind_names[st->kind];
    cJSON *o = cJSON_CreateObject();
    char *id = join_id(integ, f->name, st->name);
    cJSON_AddStringToObject(o, "id", id);
    free(id);
    cJSON_AddStringToObject(o, "integration", integ);
    char *fid = join_id(integ, f->name, NULL);
    cJSON_AddStringToObject(o, "flow", fid);
    free(fid);
    cJSON_AddStringToObject(o, "name", st->name);
    if (st->conn) {
        char *cid = join_id(integ, st->conn->name, NULL);
        cJSON_AddStringToObject(o, "connection", cid);
        free(cid);
    } else cJSON_AddNullToObject(o, "connection");
    if (!full) return o;
    cJSON_AddNumberToObject(o, "revision", (double)rev);
    Arena *ar = arena_new();
    if (st->kind == STEP_EXPORT) {
        cJSON_AddStringToObject(o, "type", st->declared ? ty_str(ar, st->declared) : "json");
        if (st->out) cJSON_AddStringToObject(o, "record_type", ty_str_full(ar, st->out));
    } else if (st->in) cJSON_AddStringToObject(o, "record_type", ty_str_full(ar, st->in));
    arena_free(ar);
    char addr[600];
    snprintf(addr, sizeof addr, "%s %s", kind, st->name);
    const Resource *r = res_at(m, "flow %s" SEP "%s", f->name, addr);
    cJSON_AddItemToObject(o, "settings", settings_json(m, r));
    if (st->kind == STEP_IMPORT) {
        cJSON *map = cJSON_AddObjectToObject(o, "map");
        const Resource *mr = NULL;
        for (int k = 0; r && k < r->nkids; k++) if (m->items[r->kids[k]].kind == RES_MAP) mr = &m->items[r->kids[k]];
        for (int k = 0; mr && k < mr->nkids; k++) {
            const Resource *e = &m->items[mr->kids[k]];
            if (e->name) add_text(map, e->name, setting_value(m, e));
        }
    }
    if (r) add_text(o, "source", res_text(m, r));
    return o;
}

/* ---- finding a resource by id ---- */

/* splits "a.b" or "a.b.c" into parts (n parts expected); 0, or -1 */
static int split_id(const char *id, char parts[3][256], int n) {
    int k = 0;
    const char *p = id;
    while (k < n) {
        const char *dot = k < n - 1 ? strchr(p, '.') : NULL;
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if ((k < n - 1 && !dot) || !len || len >= 256) return -1;
        memcpy(parts[k], p, len);
        parts[k][len] = 0;
        k++;
        p = dot ? dot + 1 : p + len;
    }
    return strchr(parts[n - 1], '.') ? -1 : 0;
}

static const IrFlow *find_flow(const IrProgram *p, const char *name) {
    for (int i = 0; i < p->nflows; i++) if (strcmp(p->flows[i]->name, name) == 0) return p->flows[i];
    return NULL;
}

static const IrStep *find_step(const IrFlow *f, IrStepKind kind, const char *name) {
    for (int k = 0; f && k < f->nall; k++)
        if (f->all[k]->kind == kind && f->all[k]->name && strcmp(f->all[k]->name, name) == 0) return f->all[k];
    return NULL;
}

/* ---- bodies ---- */

static int is_name(const char *s) {
    if (!s || !*s || strlen(s) > 100) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) return 0;
    return 1;
}

static int ctype_is(const SrvReq *rq, const char *t) {
    size_t n = strlen(t);
    return rq->content_type && strncasecmp(rq->content_type, t, n) == 0 && (!rq->content_type[n] || rq->content_type[n] == ';');
}

/* the .flow text of a body: text/plain, or a verified package's .flow file and (into files, when it
 * is not NULL) the files beside it. 0 with *text (malloc'd), or -1 with the answer in out */
static int body_text(const SrvReq *rq, SrvResp *out, SrvFiles *files, char **text, size_t *len) {
    int package_ok = files != NULL;
    *text = NULL;
    if (!rq->content_type || ctype_is(rq, "text/plain") || ctype_is(rq, "text/x-flow")) {
        size_t at;
        if (flow_text_check(rq->body, rq->nbody, &at) != FLOW_TEXT_OK) {
            srv_error(out, 400, "invalid_text", NULL, "the body is not UTF-8 text without NUL bytes (byte %zu)", at);
            return -1;
        }
        *text = flow_xcalloc(1, rq->nbody + 1);
        memcpy(*text, rq->body, rq->nbody);
        *len = rq->nbody;
        return 0;
    }
    if (package_ok && (ctype_is(rq, "application/gzip") || ctype_is(rq, "application/x-gzip") || ctype_is(rq, "application/x-tar") ||
                       ctype_is(rq, "application/octet-stream"))) {
        Pkg pk;
        char why[600];
        if (pkg_read(rq->body, rq->nbody, &pk, why, sizeof why) || pkg_check_manifest(&pk, why, sizeof why)) {
            srv_error(out, 422, "invalid_package", NULL, "the package does not verify: %s", why);
            return -1;
        }
        const PkgFile *f = pkg_find(&pk, pk.flow_file);
        if (!f) {
            srv_error(out, 422, "invalid_package", NULL, "the package has no .flow file");
            pkg_free(&pk);
            return -1;
        }
        for (int i = 0; i < pk.nfiles; i++)   /* hooks and data files: kept with the revision */
            if (&pk.files[i] != f) srv_files_add(files, pk.files[i].path, pk.files[i].role, pk.files[i].data, pk.files[i].len);
        *text = flow_xcalloc(1, f->len + 1);
        memcpy(*text, f->data, f->len);
        *len = f->len;
        pkg_free(&pk);
        return 0;
    }
    srv_error(out, 415, "unsupported_media_type", NULL, "this route takes .flow text as text/plain%s, not %s",
              package_ok ? " or a .flowpkg package as application/gzip" : "", rq->content_type);
    return -1;
}

/* ---- integrations ---- */

/* answers with the view of integration id as it now is */
static void answer_integration(Srv *s, const char *id, int status, SrvResp *out) {
    long rev;
    char origin[256];
    const SrvDoc *d = head_get(s, id, &rev, origin, sizeof origin);
    if (!d) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    cJSON *v = integration_view(d, id, rev, origin, 1);
    head_done(s);
    SrvFiles f;
    if (srv_files_read(s, id, rev, &f) == 0) cJSON_AddItemToObject(v, "files", srv_files_json(&f));
    srv_files_free(&f);
    srv_json(out, status, v);
}

void api_integrations_create(Srv *s, const SrvReq *rq, SrvResp *out) {
    char *text;
    size_t len;
    SrvFiles files = { 0 };
    if (body_text(rq, out, &files, &text, &len)) { srv_files_free(&files); return; }
    SrvDoc d;
    int bad;
    if (doc_load_beside(s, &d, &bad, "integration.flow", text, len, &files, NULL, out)) {
        srv_files_free(&files);
        free(text);
        return;
    }
    if (bad) {
        srv_doc_422(&d, out);
    } else if (!d.fe.ir->name || !is_name(d.fe.ir->name)) {
        srv_error(out, 422, "invalid_flow", "integration", d.fe.ir->name ? "the integration's name `%s` cannot be an id: letters, digits, _ and -, "
                  "at most 100" : "the text needs `integration \"NAME\"`: NAME is the integration's id%s", d.fe.ir->name ? d.fe.ir->name : "");
    } else {
        const char *id = d.fe.ir->name;
        cJSON *det = cJSON_CreateObject();
        cJSON_AddItemToObject(det, "changes", srv_diff_json(NULL, d.m));
        if (files.n) cJSON_AddItemToObject(det, "files", srv_files_json(&files));
        SrvChange ch = { id, "create", NULL, text, len, NULL, 0, 0, "create", SRV_K_INTEGRATION, id, det, &files, NULL, 0 };
        long rev;
        if (!rev_commit(s, rq, &ch, &rev, out)) answer_integration(s, id, 201, out);
    }
    srv_doc_free(&d);
    srv_files_free(&files);
    free(text);
}

static int scope_filter(const SrvReq *rq, SrvKind k, const char *id) { return srv_scope_allows(rq->caller, k, id); }

void api_integrations_list(Srv *s, const SrvReq *rq, SrvResp *out) {
    cJSON *ids = integration_ids(s), *e, *arr = cJSON_CreateArray();
    cJSON_ArrayForEach(e, ids) {
        if (!scope_filter(rq, SRV_K_INTEGRATION, e->valuestring)) continue;
        long rev;
        char origin[256];
        const SrvDoc *d = head_get(s, e->valuestring, &rev, origin, sizeof origin);
        if (!d) continue;
        cJSON_AddItemToArray(arr, integration_view(d, e->valuestring, rev, origin, 0));
        head_done(s);
    }
    cJSON_Delete(ids);
    srv_page(rq, out, arr);
}

void api_integration_get(Srv *s, const SrvReq *rq, SrvResp *out) { answer_integration(s, rq->params[0], 200, out); }

/* Commits new text of integration id, made from its head revision rev, as a revision of that kind
 * with its audit entry (action on the resource; extra: more detail, taken). 0 when committed (or
 * when nothing changed: no revision), or -1 with the answer in out (422, 404, 409). */
static int commit_update_files(Srv *s, const SrvReq *rq, SrvResp *out, const char *id, long rev, const char *kind, const char *action,
                               SrvKind rkind, const char *resource, const char *text, size_t len, cJSON *extra, const SrvFiles *files) {
    SrvDoc d;
    char base[300];
    int bad;
    snprintf(base, sizeof base, "%s.flow", id);
    if (doc_load_beside(s, &d, &bad, base, text, len, files, id, out)) {
        cJSON_Delete(extra);
        return -1;
    }
    if (bad) {
        srv_doc_422(&d, out);
        srv_doc_free(&d);
        cJSON_Delete(extra);
        return -1;
    }
    if (!d.fe.ir->name || strcmp(d.fe.ir->name, id) != 0) {
        srv_error(out, 422, "invalid_flow", "integration", "the text must keep `integration \"%s\"` (a copy under another name is "
                  "POST /v1/integrations/%s/clone)", id, id);
        srv_doc_free(&d);
        cJSON_Delete(extra);
        return -1;
    }
    long r2;
    const SrvDoc *old = head_get(s, id, &r2, NULL, 0);
    if (!old || r2 != rev) {
        if (old) head_done(s);
        srv_error(out, old ? 409 : 404, old ? "conflict" : "not_found", NULL, old ? "integration `%s` changed while this request was made: try again"
                  : "no integration `%s`", id);
        srv_doc_free(&d);
        cJSON_Delete(extra);
        return -1;
    }
    cJSON *changes = srv_diff_json(old->m, d.m);
    head_done(s);
    srv_doc_free(&d);
    if (!cJSON_GetArraySize(changes) && strcmp(kind, "update") == 0 && !files) {   /* nothing changed: no revision */
        cJSON_Delete(changes);
        cJSON_Delete(extra);
        return 0;
    }
    cJSON *det = extra ? extra : cJSON_CreateObject();
    cJSON_AddItemToObject(det, "changes", changes);
    if (files) cJSON_AddItemToObject(det, "files", srv_files_json(files));
    SrvChange ch = { id, kind, NULL, text, len, NULL, 0, rev, action, rkind, resource, det, files, NULL, 0 };
    long nrev;
    return rev_commit(s, rq, &ch, &nrev, out);
}

static int commit_update(Srv *s, const SrvReq *rq, SrvResp *out, const char *id, long rev, const char *kind, const char *action,
                         SrvKind rkind, const char *resource, const char *text, size_t len, cJSON *extra) {
    return commit_update_files(s, rq, out, id, rev, kind, action, rkind, resource, text, len, extra, NULL);
}

void api_integration_put(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    char *text;
    size_t len;
    long rev;
    if (head_of(s, id, &rev, NULL, 0)) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    SrvFiles files = { 0 };
    if (body_text(rq, out, &files, &text, &len)) { srv_files_free(&files); return; }
    int package = rq->content_type && !ctype_is(rq, "text/plain") && !ctype_is(rq, "text/x-flow");   /* its files replace the revision's */
    if (!commit_update_files(s, rq, out, id, rev, "update", "update", SRV_K_INTEGRATION, id, text, len, NULL, package ? &files : NULL))
        answer_integration(s, id, 200, out);
    srv_files_free(&files);
    free(text);
}

void api_integration_delete(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    long rev;
    if (head_of(s, id, &rev, NULL, 0)) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    SrvChange ch = { id, "delete", NULL, NULL, 0, NULL, 0, rev, "delete", SRV_K_INTEGRATION, id, NULL, NULL, NULL, 0 };
    long nrev;
    if (!rev_commit(s, rq, &ch, &nrev, out)) srv_no_content(out);
}

/* text with [start, end) replaced by repl (malloc'd, *len) */
static char *splice(const char *text, size_t tlen, uint32_t start, uint32_t end, const char *repl, size_t rlen, size_t *len) {
    *len = tlen - (end - start) + rlen;
    char *t = flow_xcalloc(1, *len + 1);
    memcpy(t, text, start);
    memcpy(t + start, repl, rlen);
    memcpy(t + start + rlen, text + end, tlen - end);
    return t;
}

/* the new-name field of a clone's body: 0 with it in name, or -1 with a 400 */
static int clone_name(const SrvReq *rq, SrvResp *out, char *name, size_t cap) {
    cJSON *b;
    if (srv_body_json(rq, out, 0, &b)) return -1;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(b, "name");
    int ok = cJSON_IsString(n) && is_name(n->valuestring);
    if (ok) snprintf(name, cap, "%s", n->valuestring);
    else srv_error(out, 400, "invalid_field", "name", "name is required: letters, digits, _ and -, at most 100");
    cJSON_Delete(b);
    return ok ? 0 : -1;
}

void api_integration_clone(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    char name[128];
    long rev;
    if (head_of(s, id, &rev, NULL, 0)) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    if (clone_name(rq, out, name, sizeof name)) return;
    size_t len;
    char *text = srv_integration_text(s, id, &len, &rev);
    if (!text) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    /* the name's string literal in `integration "NAME" ...` */
    SrvDoc d;
    char oname[4400];
    srv_files_name(s, id, "integration.flow", oname, sizeof oname);
    srv_doc_load(&d, oname, text, len);
    const AstNode *decl = NULL;
    for (int i = 0; d.fe.ast && i < d.fe.ast->kids.n; i++)
        if (d.fe.ast->kids.items[i]->kind == AST_INTEGRATION) decl = d.fe.ast->kids.items[i];
    uint32_t q1 = decl ? decl->span.start : 0, q2;
    while (q1 < len && text[q1] != '"') q1++;
    for (q2 = q1 + 1; q2 < len && text[q2] != '"'; q2++) if (text[q2] == '\\') q2++;
    srv_doc_free(&d);
    if (!decl || q2 >= len) {
        srv_error(out, 500, "store", NULL, "integration `%s` has no `integration \"NAME\"` to rename", id);
        free(text);
        return;
    }
    char lit[140];
    int ln = snprintf(lit, sizeof lit, "\"%s\"", name);
    size_t nlen;
    char *ntext = splice(text, len, q1, q2 + 1, lit, (size_t)ln, &nlen);
    free(text);
    SrvDoc nd;
    srv_files_name(s, id, "clone.flow", oname, sizeof oname);
    if (srv_doc_load(&nd, oname, ntext, nlen)) {
        srv_doc_422(&nd, out);
    } else {
        cJSON *det = cJSON_CreateObject();
        cJSON_AddStringToObject(det, "from", id);
        cJSON_AddItemToObject(det, "from_revision", flow_json_int(rev));
        SrvChange ch = { name, "clone", NULL, ntext, nlen, id, rev, 0, "clone", SRV_K_INTEGRATION, name, det, NULL, id, rev };
        long nrev;
        if (!rev_commit(s, rq, &ch, &nrev, out)) answer_integration(s, name, 201, out);
    }
    srv_doc_free(&nd);
    free(ntext);
}

/* ---- flows, exports, imports: lists and views ---- */

static int cmp_id(const void *a, const void *b) {
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    return strcmp(cJSON_GetObjectItemCaseSensitive(x, "id")->valuestring, cJSON_GetObjectItemCaseSensitive(y, "id")->valuestring);
}

static cJSON *sorted(cJSON *arr) {
    int n = cJSON_GetArraySize(arr);
    if (n < 2) return arr;
    cJSON **v = flow_xcalloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) v[i] = cJSON_DetachItemFromArray(arr, 0);
    qsort(v, (size_t)n, sizeof *v, cmp_id);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, v[i]);
    free(v);
    return arr;
}

static void list_resources(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind) {
    cJSON *ids = integration_ids(s), *e, *arr = cJSON_CreateArray();
    cJSON_ArrayForEach(e, ids) {
        long rev;
        const SrvDoc *d = head_get(s, e->valuestring, &rev, NULL, 0);
        if (!d) continue;
        const IrProgram *p = d->fe.ir;
        for (int i = 0; i < p->nflows; i++) {
            const IrFlow *f = p->flows[i];
            if (kind == SRV_K_FLOW) {
                char *id = join_id(e->valuestring, f->name, NULL);
                if (scope_filter(rq, kind, id)) cJSON_AddItemToArray(arr, flow_view(s, d, e->valuestring, f, rev, 0));
                free(id);
                continue;
            }
            for (int k = 0; k < f->nall; k++) {
                const IrStep *st = f->all[k];
                if (!st->name || st->kind != (kind == SRV_K_EXPORT ? STEP_EXPORT : STEP_IMPORT)) continue;
                char *id = join_id(e->valuestring, f->name, st->name);
                if (scope_filter(rq, kind, id)) cJSON_AddItemToArray(arr, step_view(d, e->valuestring, f, st, rev, 0));
                free(id);
            }
        }
        head_done(s);
    }
    cJSON_Delete(ids);
    srv_page(rq, out, sorted(arr));
}

void api_flows_list(Srv *s, const SrvReq *rq, SrvResp *out) { list_resources(s, rq, out, SRV_K_FLOW); }
void api_exports_list(Srv *s, const SrvReq *rq, SrvResp *out) { list_resources(s, rq, out, SRV_K_EXPORT); }
void api_imports_list(Srv *s, const SrvReq *rq, SrvResp *out) { list_resources(s, rq, out, SRV_K_IMPORT); }

/* The head of the integration of a flow, export or import id, with the flow and step found (the api
 * lock held: head_done), or NULL with a 404 in out. */
static const SrvDoc *locate(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind, char parts[3][256], long *rev, const IrFlow **f,
                            const IrStep **st) {
    const char *id = rq->params[0];
    int n = kind == SRV_K_FLOW ? 2 : 3;
    if (split_id(id, parts, n)) {
        srv_error(out, 404, "not_found", "id", "no %s `%s`: a %s's id is %s", srv_kind_names[kind], id, srv_kind_names[kind],
                  n == 2 ? "INTEGRATION.FLOW" : "INTEGRATION.FLOW.STEP");
        return NULL;
    }
    const SrvDoc *d = head_get(s, parts[0], rev, NULL, 0);
    if (!d) { srv_error(out, 404, "not_found", "id", "no %s `%s`: no integration `%s`", srv_kind_names[kind], id, parts[0]); return NULL; }
    *f = find_flow(d->fe.ir, parts[1]);
    *st = *f && n == 3 ? find_step(*f, kind == SRV_K_EXPORT ? STEP_EXPORT : STEP_IMPORT, parts[2]) : NULL;
    if (!*f || (n == 3 && !*st)) {
        head_done(s);
        srv_error(out, 404, "not_found", "id", "no %s `%s` in integration `%s`", srv_kind_names[kind], id, parts[0]);
        return NULL;
    }
    return d;
}

static void get_resource(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind) {
    char parts[3][256];
    long rev;
    const IrFlow *f;
    const IrStep *st;
    const SrvDoc *d = locate(s, rq, out, kind, parts, &rev, &f, &st);
    if (!d) return;
    cJSON *v = kind == SRV_K_FLOW ? flow_view(s, d, parts[0], f, rev, 1) : step_view(d, parts[0], f, st, rev, 1);
    head_done(s);
    srv_json(out, 200, v);
}

void api_flow_get(Srv *s, const SrvReq *rq, SrvResp *out) { get_resource(s, rq, out, SRV_K_FLOW); }
void api_export_get(Srv *s, const SrvReq *rq, SrvResp *out) { get_resource(s, rq, out, SRV_K_EXPORT); }
void api_import_get(Srv *s, const SrvReq *rq, SrvResp *out) { get_resource(s, rq, out, SRV_K_IMPORT); }

/* ---- flows, exports, imports: changes by splicing their text ---- */

int srv_flow_disabled(Srv *s, const char *flow_id) {
    SrvStore *st = srv_store(s);
    int dis = 0;
    store_lock(st);
    FlowDbStmt *q = flow_db_prepare(store_db(st), "SELECT disabled FROM flow_state WHERE flow = ?");
    if (q) {
        flow_db_bind_text(q, 1, flow_id);
        if (flow_db_step(q) == FLOW_DB_ROW) dis = flow_db_column_int64(q, 0) != 0;
    }
    flow_db_finalize(q);
    store_unlock(st);
    return dis;
}

/* the resource of a flow or step in the model */
static const Resource *resource_of(const SrvDoc *d, const IrFlow *f, const IrStep *st) {
    if (!st) return res_at(d->m, "flow %s%s", f->name, "");
    char addr[300];
    snprintf(addr, sizeof addr, "%s %s", ir_step_kind_names[st->kind], st->name);
    return res_at(d->m, "flow %s" SEP "%s", f->name, addr);
}

/* What a change of one resource starts from: the integration's text and revision, the resource's
 * span and its line's indentation, and how many flows and steps of its flow there are. */
typedef struct Target {
    char parts[3][256];
    long rev;
    char *text; size_t len;
    Span span;                 /* the resource */
    Span lines; int whole;     /* its lines (res_line_span) */
    char indent[64];
    int nflows, nsteps;
    char *id;                  /* the resource's id */
} Target;

static void target_free(Target *t) { free(t->text); free(t->id); }

static int target_get(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind, Target *t) {
    memset(t, 0, sizeof *t);
    const IrFlow *f;
    const IrStep *st;
    const SrvDoc *d = locate(s, rq, out, kind, t->parts, &t->rev, &f, &st);
    if (!d) return -1;
    const Resource *r = resource_of(d, f, st);
    if (!r) {
        head_done(s);
        srv_error(out, 500, "store", NULL, "`%s` has no resource in the model", rq->params[0]);
        return -1;
    }
    t->len = d->src->len;
    t->text = flow_xcalloc(1, t->len + 1);
    memcpy(t->text, d->src->text, t->len);
    t->span = r->span;
    t->lines = res_line_span(d->src, r->span, &t->whole);
    uint32_t b = r->span.start;
    while (b > 0 && t->text[b - 1] != '\n') b--;
    size_t k = 0;
    while (b + k < r->span.start && (t->text[b + k] == ' ' || t->text[b + k] == '\t') && k + 1 < sizeof t->indent) {
        t->indent[k] = t->text[b + k];
        k++;
    }
    t->indent[k] = 0;
    t->nflows = d->fe.ir->nflows;
    t->nsteps = f->nall;
    t->id = flow_xstrdup(rq->params[0]);
    head_done(s);
    return 0;
}

/* text with every line after the first indented by indent, without trailing newlines (malloc'd) */
static char *reindent(const char *text, size_t len, const char *indent, size_t *out_len) {
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
    FlowSb b = { NULL, 0, 0 };
    size_t il = strlen(indent);
    for (size_t i = 0; i < len; i++) {
        flow_sb_put(&b, text + i, 1);
        if (text[i] == '\n' && i + 1 < len && text[i + 1] != '\n') flow_sb_put(&b, indent, il);
    }
    *out_len = b.n;
    return flow_sb_take(&b);
}

/* a changed text of integ checked beside its files */
static int load_change(Srv *s, SrvDoc *d, const char *integ, const char *text, size_t len) {
    int bad;
    doc_load_beside(s, d, &bad, "change.flow", text, len, NULL, integ, NULL);
    return bad;
}

/* After a change: the flow (and step) the id names must still be there, and no flow or step more or
 * fewer than allowed. 0, or -1 with a 422 in out. */

static int still_there(Srv *s, const char *text, size_t len, SrvKind kind, const Target *t, int dflows, int dsteps, SrvResp *out) {
    SrvDoc d;
    if (load_change(s, &d, t->parts[0], text, len)) {
        srv_doc_422(&d, out);
        srv_doc_free(&d);
        return -1;
    }
    const IrFlow *f = find_flow(d.fe.ir, t->parts[1]);
    const IrStep *st = f && kind != SRV_K_FLOW ? find_step(f, kind == SRV_K_EXPORT ? STEP_EXPORT : STEP_IMPORT, t->parts[2]) : NULL;
    int ok = 1;
    if (!f || (kind != SRV_K_FLOW && !st)) {
        srv_error(out, 422, "invalid_flow", "name", "the text must declare %s `%s` (a new name is a clone, then a delete)",
                  kind == SRV_K_FLOW ? "flow" : srv_kind_names[kind], kind == SRV_K_FLOW ? t->parts[1] : t->parts[2]);
        ok = 0;
    } else if (d.fe.ir->nflows != t->nflows + dflows || (kind != SRV_K_FLOW && f->nall != t->nsteps + dsteps)) {
        srv_error(out, 422, "invalid_flow", NULL, "the text must hold the one %s it replaces, no more", srv_kind_names[kind]);
        ok = 0;
    }
    srv_doc_free(&d);
    return ok ? 0 : -1;
}

static void answer_resource(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind, int status) {
    get_resource(s, rq, out, kind);
    if (out->status == 200) out->status = status;
}

static void put_resource(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind) {
    Target t;
    if (target_get(s, rq, out, kind, &t)) return;
    char *body;
    size_t blen;
    if (body_text(rq, out, NULL, &body, &blen)) { target_free(&t); return; }
    size_t rlen, nlen;
    char *re = reindent(body, blen, t.indent, &rlen);
    char *ntext = splice(t.text, t.len, t.span.start, t.span.end, re, rlen, &nlen);
    if (!still_there(s, ntext, nlen, kind, &t, 0, 0, out) &&
        !commit_update(s, rq, out, t.parts[0], t.rev, "update", "update", kind, t.id, ntext, nlen, NULL))
        answer_resource(s, rq, out, kind, 200);
    free(ntext);
    free(re);
    free(body);
    target_free(&t);
}

/* what removing a target takes out: its lines when it has them to itself, and a blank line on both
 * sides goes with it (a blank line before the end too); else its span */
static Span removal_span(const Target *t) {
    Span sp = t->whole ? t->lines : t->span;
    if (t->whole) {
        int before = sp.start >= 2 && t->text[sp.start - 1] == '\n' && t->text[sp.start - 2] == '\n';
        if (before && sp.end < t->len && t->text[sp.end] == '\n') sp.end++;
        else if (before && sp.end >= t->len) sp.start--;
    }
    return sp;
}

static void delete_resource(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind) {
    Target t;
    if (target_get(s, rq, out, kind, &t)) return;
    size_t nlen;
    Span sp = removal_span(&t);
    char *ntext = splice(t.text, t.len, sp.start, sp.end, "", 0, &nlen);
    SrvDoc d;
    if (load_change(s, &d, t.parts[0], ntext, nlen)) srv_doc_422(&d, out);
    else if (!commit_update(s, rq, out, t.parts[0], t.rev, "update", "delete", kind, t.id, ntext, nlen, NULL)) srv_no_content(out);
    srv_doc_free(&d);
    free(ntext);
    target_free(&t);
}

/* ---- connections: PUT and DELETE by their text, as flows are ---- */

static const IrConn *find_conn(const IrProgram *p, const char *name) {
    for (int i = 0; i < p->nconns; i++) if (strcmp(p->conns[i]->name, name) == 0) return p->conns[i];
    return NULL;
}

/* The connection id of the request names, as a Target (nsteps: the integration's connections), and
 * the steps that use it ("INTEGRATION.FLOW.STEP", in source order) into users. 0, or -1 with the
 * answer in out. */
static int conn_target(Srv *s, const SrvReq *rq, SrvResp *out, Target *t, cJSON *users) {
    memset(t, 0, sizeof *t);
    const char *id = rq->params[0];
    if (split_id(id, t->parts, 2)) {
        srv_error(out, 404, "not_found", "id", "no connection `%s`: a connection's id is INTEGRATION.CONNECTION", id);
        return -1;
    }
    const SrvDoc *d = head_get(s, t->parts[0], &t->rev, NULL, 0);
    if (!d) { srv_error(out, 404, "not_found", "id", "no connection `%s`: no integration `%s`", id, t->parts[0]); return -1; }
    const IrConn *c = find_conn(d->fe.ir, t->parts[1]);
    const Resource *r = c ? res_at(d->m, "connection %s%s", t->parts[1], "") : NULL;
    if (!c || !r) {
        head_done(s);
        if (c || strcmp(t->parts[1], "webhook") == 0)
            srv_error(out, 409, "conflict", "id", "`%s` is the built-in source of webhook-triggered flows: it has no text to replace or remove", id);
        else srv_error(out, 404, "not_found", "id", "no connection `%s` in integration `%s`", id, t->parts[0]);
        return -1;
    }
    for (int i = 0; i < d->fe.ir->nflows; i++)
        for (int k = 0; k < d->fe.ir->flows[i]->nall; k++)
            if (d->fe.ir->flows[i]->all[k]->conn == c) {
                char *u = join_id(t->parts[0], d->fe.ir->flows[i]->name, d->fe.ir->flows[i]->all[k]->name);
                cJSON_AddItemToArray(users, cJSON_CreateString(u));
                free(u);
            }
    t->len = d->src->len;
    t->text = flow_xcalloc(1, t->len + 1);
    memcpy(t->text, d->src->text, t->len);
    t->span = r->span;
    t->lines = res_line_span(d->src, r->span, &t->whole);
    t->nsteps = d->fe.ir->nconns;
    t->id = flow_xstrdup(id);
    head_done(s);
    return 0;
}

void api_connection_put(Srv *s, const SrvReq *rq, SrvResp *out) {
    Target t;
    cJSON *users = cJSON_CreateArray();
    if (conn_target(s, rq, out, &t, users)) { cJSON_Delete(users); return; }
    cJSON_Delete(users);
    char *body;
    size_t blen;
    if (body_text(rq, out, NULL, &body, &blen)) { target_free(&t); return; }
    size_t rlen, nlen;
    char *re = reindent(body, blen, "", &rlen);
    char *ntext = splice(t.text, t.len, t.span.start, t.span.end, re, rlen, &nlen);
    SrvDoc d;
    if (load_change(s, &d, t.parts[0], ntext, nlen)) srv_doc_422(&d, out);
    else if (!find_conn(d.fe.ir, t.parts[1]))
        srv_error(out, 422, "invalid_flow", "name", "the text must declare connection `%s` (a new name is a new connection, then a delete)", t.parts[1]);
    else if (d.fe.ir->nconns != t.nsteps) srv_error(out, 422, "invalid_flow", NULL, "the text must hold the one connection it replaces, no more");
    else if (!commit_update(s, rq, out, t.parts[0], t.rev, "update", "update", SRV_K_CONNECTION, t.id, ntext, nlen, NULL))
        conn_get(s, rq, out);
    srv_doc_free(&d);
    free(ntext);
    free(re);
    free(body);
    target_free(&t);
}

void api_connection_delete(Srv *s, const SrvReq *rq, SrvResp *out) {
    Target t;
    cJSON *users = cJSON_CreateArray();
    if (conn_target(s, rq, out, &t, users)) { cJSON_Delete(users); return; }
    if (cJSON_GetArraySize(users)) {   /* refused while steps use it: they are named */
        char *list = cJSON_PrintUnformatted(users);
        srv_error(out, 409, "conflict", NULL, "connection %s is used by %s: change or remove them first", t.id, list);
        cJSON_free(list);
        cJSON *o = cJSON_ParseWithLength(out->body, out->len);
        cJSON_AddItemToObject(o, "used_by", users);
        srv_json(out, 409, o);
        target_free(&t);
        return;
    }
    cJSON_Delete(users);
    size_t nlen;
    Span sp = removal_span(&t);
    char *ntext = splice(t.text, t.len, sp.start, sp.end, "", 0, &nlen);
    if (!commit_update(s, rq, out, t.parts[0], t.rev, "update", "delete", SRV_K_CONNECTION, t.id, ntext, nlen, NULL)) srv_no_content(out);
    free(ntext);
    target_free(&t);
}

typedef struct Edit { uint32_t start, end; char *text; } Edit;

static int edit_cmp(const void *a, const void *b) {
    const Edit *x = a, *y = b;
    return x->start < y->start ? 1 : x->start > y->start ? -1 : 0;   /* last first */
}

/* a PATCH value as Flow source text: a string is taken as it is; numbers and booleans as JSON writes them */
static char *value_text(const cJSON *v) {
    if (cJSON_IsString(v)) return flow_xstrdup(v->valuestring);
    if (cJSON_IsNumber(v) || cJSON_IsBool(v)) {
        char *p = flow_json_print(v), *o = flow_xstrdup(p);
        cJSON_free(p);
        return o;
    }
    return NULL;
}

static void patch_resource(Srv *s, const SrvReq *rq, SrvResp *out, SrvKind kind) {
    cJSON *b;
    if (srv_body_json(rq, out, 0, &b)) return;
    const cJSON *m, *settings = cJSON_GetObjectItemCaseSensitive(b, "settings"), *sched = cJSON_GetObjectItemCaseSensitive(b, "schedule"),
                *dis = cJSON_GetObjectItemCaseSensitive(b, "disabled");
    cJSON_ArrayForEach(m, b) {
        int ok = strcmp(m->string, "settings") == 0 || (kind == SRV_K_FLOW && (strcmp(m->string, "schedule") == 0 || strcmp(m->string, "disabled") == 0));
        if (!ok) {
            srv_error(out, 400, "invalid_field", m->string, "PATCH of %s takes %s, not `%.60s`", srv_kind_plural[kind],
                      kind == SRV_K_FLOW ? "disabled, schedule and settings" : "settings", m->string);
            cJSON_Delete(b);
            return;
        }
    }
    if ((settings && !cJSON_IsObject(settings)) || (dis && !cJSON_IsBool(dis)) || (sched && !cJSON_IsString(sched) && !cJSON_IsNull(sched))) {
        const char *fld = settings && !cJSON_IsObject(settings) ? "settings" : dis && !cJSON_IsBool(dis) ? "disabled" : "schedule";
        srv_error(out, 400, "invalid_field", fld, "%s", strcmp(fld, "settings") == 0 ? "settings is an object: name -> Flow source text (or null to remove)"
                  : strcmp(fld, "disabled") == 0 ? "disabled is true or false" : "schedule is Flow source text (cron(\"0 * * * *\"), every(15m), manual()) or null");
        cJSON_Delete(b);
        return;
    }
    Target t;
    if (target_get(s, rq, out, kind, &t)) { cJSON_Delete(b); return; }
    /* the settings to set: name -> text (NULL: remove) */
    int n = (settings ? cJSON_GetArraySize(settings) : 0) + (sched ? 1 : 0), ne = 0;
    Edit *ed = flow_xcalloc((size_t)n + 1, sizeof *ed);
    long rev2;
    const SrvDoc *d = head_get(s, t.parts[0], &rev2, NULL, 0);
    int bad = !d || rev2 != t.rev, locked = d != NULL;
    if (bad) {
        if (d) head_done(s);
        locked = 0;
        srv_error(out, 409, "conflict", NULL, "integration `%s` changed while this request was made: try again", t.parts[0]);
    }
    const Resource *r = NULL;
    if (!bad) {
        const IrFlow *f = find_flow(d->fe.ir, t.parts[1]);
        const IrStep *st = f && kind != SRV_K_FLOW ? find_step(f, kind == SRV_K_EXPORT ? STEP_EXPORT : STEP_IMPORT, t.parts[2]) : NULL;
        r = f ? resource_of(d, f, st) : NULL;
    }
    for (int pass = 0; !bad && r && pass < 2; pass++) {
        const cJSON *list = pass == 0 ? settings : NULL;
        const cJSON *e = pass == 0 ? (list ? list->child : NULL) : sched;
        for (; e; e = pass == 0 ? e->next : NULL) {
            const char *name = pass == 0 ? e->string : "schedule";
            if (pass == 0 && kind == SRV_K_FLOW && sched && strcmp(name, "schedule") == 0) {
                srv_error(out, 400, "invalid_field", "schedule", "schedule is given twice (as schedule and in settings)");
                bad = 1;
                break;
            }
            char *val = cJSON_IsNull(e) ? NULL : value_text(e);
            if (!cJSON_IsNull(e) && !val) {
                char fld[160];
                snprintf(fld, sizeof fld, "settings.%.100s", name);
                srv_error(out, 400, "invalid_field", fld, "%s is Flow source text (a JSON string), a number, true, false or null", fld);
                bad = 1;
                break;
            }
            const Resource *c = NULL;
            for (int k = 0; k < r->nkids && !c; k++) {
                const Resource *x = &d->m->items[r->kids[k]];
                if (x->kind == RES_SETTING && x->name && strcmp(x->name, name) == 0) c = x;
            }
            Edit *x = &ed[ne];
            if (c && val) {
                x->start = c->span.start, x->end = c->span.end;
                if (asprintf(&x->text, "%s = %s", name, val) < 0) abort();
            } else if (c) {   /* remove: its lines when it stands alone, else it and a comma beside it */
                int whole;
                Span ls = res_line_span(d->src, c->span, &whole);
                x->start = whole ? ls.start : c->span.start, x->end = whole ? ls.end : c->span.end;
                if (!whole) {
                    const char *tx = d->src->text;
                    uint32_t e2 = x->end;
                    while (e2 < d->src->len && tx[e2] == ' ') e2++;
                    if (e2 < d->src->len && tx[e2] == ',') {
                        e2++;
                        while (e2 < d->src->len && tx[e2] == ' ') e2++;
                        x->end = e2;
                    } else {
                        uint32_t s2 = x->start;
                        while (s2 > 0 && tx[s2 - 1] == ' ') s2--;
                        if (s2 > 0 && tx[s2 - 1] == ',') x->start = s2 - 1;
                    }
                }
                x->text = flow_xstrdup("");
            } else if (val) {   /* add, before its first enclosed item: inline when that is on the item's line */
                const Resource *first = r->nkids ? &d->m->items[r->kids[0]] : NULL;
                if (!first) {
                    srv_error(out, 422, "invalid_flow", name, "`%s` has nothing inside to add a setting before", t.id);
                    free(val);
                    bad = 1;
                    break;
                }
                const char *tx = d->src->text;
                uint32_t p = first->span.start, ls = p;
                while (ls > 0 && tx[ls - 1] != '\n') ls--;
                int inl = ls <= r->span.start;
                x->start = x->end = p;
                if (inl) { if (asprintf(&x->text, "%s = %s, ", name, val) < 0) abort(); }
                else if (asprintf(&x->text, "%s = %s\n%.*s", name, val, (int)(p - ls), tx + ls) < 0) abort();
            } else {
                free(val);
                continue;   /* removing what is not there: nothing */
            }
            free(val);
            ne++;
        }
    }
    if (locked) head_done(s);
    if (!bad && !r) { bad = 1; srv_error(out, 404, "not_found", "id", "no %s `%s`", srv_kind_names[kind], t.id); }
    if (!bad) {
        qsort(ed, (size_t)ne, sizeof *ed, edit_cmp);
        char *text = flow_xcalloc(1, t.len + 1);
        memcpy(text, t.text, t.len);
        size_t len = t.len;
        for (int i = 0; i < ne; i++) {
            size_t nl;
            char *nt = splice(text, len, ed[i].start, ed[i].end, ed[i].text, strlen(ed[i].text), &nl);
            free(text);
            text = nt;
            len = nl;
        }
        int rc = 0;
        if (ne) rc = still_there(s, text, len, kind, &t, 0, 0, out) || commit_update(s, rq, out, t.parts[0], t.rev, "update", "update", kind, t.id, text, len, NULL);
        if (!rc && dis) {
            SrvStore *st = srv_store(s);
            /* the change and its audit entry in one write transaction: a server beside this one sees both or neither */
            store_lock(st);
            if (store_begin(st) == 0) {
                int ok = 1;
                if (srv_flow_disabled(s, t.id) != cJSON_IsTrue(dis)) {
                    FlowDbStmt *q = flow_db_prepare(store_db(st), "INSERT INTO flow_state(flow, disabled) VALUES(?, ?)"
                                                         " ON CONFLICT(flow) DO UPDATE SET disabled = excluded.disabled");
                    if (q) {
                        flow_db_bind_text(q, 1, t.id);
                        flow_db_bind_int64(q, 2, cJSON_IsTrue(dis));
                    }
                    ok = flow_db_run(q) == 0;
                    if (ok) {
                        cJSON *det = cJSON_CreateObject();
                        cJSON_AddBoolToObject(det, "disabled", cJSON_IsTrue(dis));
                        ok = audit_append(st, 1, rq->caller, rq->addr, cJSON_IsTrue(dis) ? "disable" : "enable", SRV_K_FLOW, t.id, det) == 0;
                    }
                }
                if (!ok || store_commit(st)) store_rollback(st);
            }
            store_unlock(st);
        }
        if (!rc) answer_resource(s, rq, out, kind, 200);
        free(text);
    }
    for (int i = 0; i < ne; i++) free(ed[i].text);
    free(ed);
    target_free(&t);
    cJSON_Delete(b);
}

void api_flow_put(Srv *s, const SrvReq *rq, SrvResp *out) { put_resource(s, rq, out, SRV_K_FLOW); }
void api_export_put(Srv *s, const SrvReq *rq, SrvResp *out) { put_resource(s, rq, out, SRV_K_EXPORT); }
void api_import_put(Srv *s, const SrvReq *rq, SrvResp *out) { put_resource(s, rq, out, SRV_K_IMPORT); }
void api_flow_delete(Srv *s, const SrvReq *rq, SrvResp *out) { delete_resource(s, rq, out, SRV_K_FLOW); }
void api_export_delete(Srv *s, const SrvReq *rq, SrvResp *out) { delete_resource(s, rq, out, SRV_K_EXPORT); }
void api_import_delete(Srv *s, const SrvReq *rq, SrvResp *out) { delete_resource(s, rq, out, SRV_K_IMPORT); }
void api_flow_patch(Srv *s, const SrvReq *rq, SrvResp *out) { patch_resource(s, rq, out, SRV_K_FLOW); }
void api_export_patch(Srv *s, const SrvReq *rq, SrvResp *out) { patch_resource(s, rq, out, SRV_K_EXPORT); }
void api_import_patch(Srv *s, const SrvReq *rq, SrvResp *out) { patch_resource(s, rq, out, SRV_K_IMPORT); }

void api_flow_clone(Srv *s, const SrvReq *rq, SrvResp *out) {
    char name[128];
    char parts[3][256];
    long rev;
    const IrFlow *f;
    const IrStep *st;
    const SrvDoc *d = locate(s, rq, out, SRV_K_FLOW, parts, &rev, &f, &st);
    if (!d) return;
    head_done(s);
    if (clone_name(rq, out, name, sizeof name)) return;
    d = head_get(s, parts[0], &rev, NULL, 0);
    f = d ? find_flow(d->fe.ir, parts[1]) : NULL;
    if (!f) {
        if (d) head_done(s);
        srv_error(out, 404, "not_found", "id", "no flow `%s`", rq->params[0]);
        return;
    }
    if (find_flow(d->fe.ir, name) || !name[0] || (name[0] >= '0' && name[0] <= '9') || strchr(name, '-')) {
        head_done(s);
        srv_error(out, find_flow(d->fe.ir, name) ? 409 : 400, find_flow(d->fe.ir, name) ? "conflict" : "invalid_field", "name",
                  "`%s` %s", name, find_flow(d->fe.ir, name) ? "is a flow of this integration already" : "is not a flow name (letters, digits, _)");
        return;
    }
    char *notes = NULL;
    size_t nn = 0, len;
    FILE *nf = open_memstream(&notes, &nn);
    if (!nf) abort();
    char *text = clone_insert(d->src, f, name, nf, &len);
    fclose(nf);
    head_done(s);
    char *nid = join_id(parts[0], name, NULL);
    cJSON *det = cJSON_CreateObject();
    cJSON_AddStringToObject(det, "from", rq->params[0]);
    cJSON *na = cJSON_AddArrayToObject(det, "notes");
    for (char *p = notes, *e; p && *p; p = e ? e + 1 : p + strlen(p)) {
        e = strchr(p, '\n');
        if (e) *e = 0;
        if (*p) cJSON_AddItemToArray(na, cJSON_CreateString(strncmp(p, "flowc: clone: ", 14) == 0 ? p + 14 : p));
    }
    cJSON *notes_copy = cJSON_Duplicate(na, 1);
    if (!commit_update(s, rq, out, parts[0], rev, "update", "clone", SRV_K_FLOW, nid, text, len, det)) {
        SrvReq r2 = *rq;
        r2.params[0] = nid;
        get_resource(s, &r2, out, SRV_K_FLOW);
        if (out->status == 200) {
            cJSON *v = cJSON_ParseWithLength(out->body, out->len);
            if (v) { cJSON_AddItemToObject(v, "notes", notes_copy); notes_copy = NULL; srv_json(out, 201, v); }
        }
    }
    cJSON_Delete(notes_copy);
    free(nid);
    free(text);
    free(notes);
}
