/* steps.c — the step loop: moves a page of records step by step through filters, transforms,
 * lookups, branches (whose arms merge again afterwards, in page order) and imports, with the
 * hooks at their points, calling the generated code with each record's lookup results in scope.
 * Every record ends imported, ignored or as a record error (errors.c); a page that grows past the
 * page limit becomes errors. The records on their way (Inst, List) are made and freed here. */
#include "engine_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

/* ---- the records on their way ---- */

void eng_list_push(List *l, Inst *in) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = realloc(l->v, sizeof *l->v * (size_t)l->cap);
        if (!l->v) abort();
    }
    l->v[l->n++] = in;
}

Inst *eng_inst_new(Run *R, cJSON *rec, long seq) {
    /* one allocation: the lookup slots follow the record's entry; a freed entry is taken first */
    size_t size = sizeof(Inst) + sizeof(cJSON *) * (size_t)R->nslots;
    Inst *in = R->spare;
    if (in) {
        R->spare = in->spare;
        memset(in, 0, size);
    } else in = flow_xcalloc(1, size);
    in->rec = rec;
    in->lk = (cJSON **)(in + 1);
    in->seq = seq;
    return in;
}

static Inst *inst_copy(Run *R, const Inst *src) {
    Inst *in = eng_inst_new(R, cJSON_Duplicate(src->rec, 1), src->seq);
    for (int i = 0; i < R->nslots; i++) in->lk[i] = src->lk[i] ? cJSON_Duplicate(src->lk[i], 1) : NULL;
    in->imported = src->imported;
    in->trace = src->trace ? flow_xstrdup(src->trace) : NULL;
    return in;
}

/* The record as a cJSON tree, made from its text when only its typed form exists yet (the steps
 * that have no typed variant, hooks, errors). Its trace key is the one of the record as exported. */
cJSON *eng_inst_rec(Run *R, Inst *in) {
    if (!in->rec && (in->raw || in->cols)) {
        in->rec = in->raw ? flow_json_parse(in->raw, in->rawn, NULL) : eng_row_tree(in->plan, in->cols);
        if (!in->rec) in->rec = cJSON_CreateObject();   /* cannot happen: the typed decoder read it */
        if (R->rl.state && !in->trace) in->trace = eng_trace_key(in->rec);
    }
    return in->rec;
}

void eng_list_materialize(Run *R, List *L) {
    for (int i = 0; i < L->n; i++) eng_inst_rec(R, L->v[i]);
}

/* A record's trace key is the one of the record as exported. It is worked out only when needed (an
 * error, or open errors to resolve: export_pages), and before anything may change the record: a
 * transform, a hook, a response mapping. */
void eng_list_traces(Run *R, List *L) {
    if (!R->rl.state) return;
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        if (in->trace) continue;
        eng_inst_rec(R, in);   /* a tree made now comes with its trace key */
        if (!in->trace && in->rec) in->trace = eng_trace_key(in->rec);
    }
}

void eng_inst_free(Run *R, Inst *in) {
    if (!in) return;
    cJSON_Delete(in->rec);
    for (int i = 0; i < R->nslots; i++) cJSON_Delete(in->lk[i]);
    free(in->trace);
    in->spare = R->spare;
    R->spare = in;
}

void eng_inst_spares_free(Run *R) {
    for (Inst *in = R->spare, *nx; in; in = nx) { nx = in->spare; free(in); }
    R->spare = NULL;
}

void eng_list_free(Run *R, List *l) {
    for (int i = 0; i < l->n; i++) eng_inst_free(R, l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- record sizes: the page limit ---- */

size_t eng_num_size(double v) {
    double d = fabs(v);
    if (d == floor(d) && d < 1e15) { size_t n = 1; while (d >= 10) { d /= 10; n++; } return n + (v < 0); }
    return 20;
}

size_t eng_json_size(const cJSON *j) {
    if (!j) return 4;
    if (cJSON_IsString(j)) return strlen(j->valuestring) + 2;
    if (cJSON_IsNumber(j)) return eng_num_size(j->valuedouble);
    if (cJSON_IsTrue(j) || cJSON_IsNull(j)) return 4;
    if (cJSON_IsFalse(j)) return 5;
    if (cJSON_IsRaw(j)) return j->valuestring ? strlen(j->valuestring) : 0;
    size_t n = 2;
    int obj = cJSON_IsObject(j);
    for (const cJSON *c = j->child; c; c = c->next) {
        n += eng_json_size(c) + (c->next ? 1 : 0);
        if (obj && c->string) n += strlen(c->string) + 3;
    }
    return n;
}

static size_t list_size(const List *l) {
    size_t n = 0;
    for (int i = 0; i < l->n; i++) n += eng_json_size(l->v[i]->rec);
    return n;
}

/* ---- calling generated code ---- */

void eng_ctx_enter(Run *R, const Inst *in) {
    if (!R->lookups) return;   /* no step of the flow reads a lookup's result */
    for (int i = 0; i < R->nslots; i++) flow_ctx_set_lookup(R->cx, i, in ? in->lk[i] : NULL);
}

void eng_ctx_leave(Run *R) {
    flow_scratch_reset(R->cx);
    flow_clear_error(R->cx);
    flow_ctx_set_response(R->cx, NULL);
    flow_ctx_set_existing(R->cx, NULL);
}

void eng_take_error(Run *R, FlowErr *e, const char *what) {
    if (flow_failed(R->cx)) flow_err_set(e, flow_error_class(R->cx), "%s", flow_error_message(R->cx));
    else flow_err_set(e, FLOW_ERR_VALUE, "%s failed", what);
}

/* fn on rec with in's lookups: 1 / 0, or -1 with e */
static int call_step(Run *R, FlowStepFn fn, const Inst *in, cJSON *rec, FlowErr *e, const char *what) {
    eng_ctx_enter(R, in);
    int r = fn(R->cx, rec);
    if (r < 0 || flow_failed(R->cx)) { eng_take_error(R, e, what); r = -1; }
    eng_ctx_leave(R);
    return r;
}

/* ---- hooks ---- */

/* Calls a hook on n records; the verdicts and messages come back in ver/msg and replaced records in
 * recs. Returns the page's abort flag. A hook that returns non-zero fails the run. */
static int hook_call(Run *R, const StepRt *s, FlowHookFn fn, const char *point, cJSON **recs, int n,
                     FlowHookVerdict *ver, char (*msg)[256]) {
    eng_pipe_flush(R);   /* a hook may look at the destination: the page in flight is written first */
    FlowHookPage pg = { R->f->name, s ? s->label : "", point, n, recs, ver, msg, 0 };
    for (int i = 0; i < n; i++) { ver[i] = FLOW_HOOK_KEEP; msg[i][0] = 0; }
    int rc = fn(&pg);
    if (rc) eng_run_fail(R, "hook %s of %s failed (it returned %d)", point, s ? s->label : R->f->name, rc);
    return pg.abort;
}

/* A hook over the records of a list: skipped ones are ignored, rejected ones become record errors,
 * replaced ones are taken over. After a write (post_response_map: `written` is the import's index,
 * else -1) a skipped record stays counted as imported and only leaves the page, and a rejected one
 * becomes an error that says it was written instead of an import. Returns the abort flag. */
int eng_hook_list(Run *R, const StepRt *s, FlowHookFn fn, const char *point, List *L, int written) {
    if (!fn || !L->n || R->failed) return 0;
    eng_list_materialize(R, L);
    eng_list_traces(R, L);
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
        if (ver[i] == FLOW_HOOK_SKIP) { if (written < 0) R->st->ignored++; eng_inst_free(R, in); continue; }
        if (ver[i] == FLOW_HOOK_ERROR) {
            char m[400];
            if (written >= 0) R->st->imported[written]--;
            snprintf(m, sizeof m, "%shook %s: %s", written >= 0 ? "written, but " : "", point, msg[i][0] ? msg[i] : "rejected the record");
            eng_rec_error_in(R, s, FLOW_ERR_VALUE, m, in);
            eng_inst_free(R, in);
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

/* ---- the steps ---- */

static void step_filter(Run *R, const StepRt *s, List *L) {
    int w = 0;
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        FlowErr e;
        int r = -1;
        if (in->trec && s->def->tfn) {   /* typed; a failure is decided (and named) the generic way */
            eng_ctx_enter(R, in);
            r = s->def->tfn(R->cx, in->trec);
            if (flow_failed(R->cx)) r = -1;
            eng_ctx_leave(R);
        }
        if (r < 0) r = s->def->fn ? call_step(R, s->def->fn, in, eng_inst_rec(R, in), &e, "filter") : 1;
        if (r < 0) { eng_rec_error_in(R, s, e.cls, e.msg, in); eng_inst_free(R, in); continue; }
        if (r == 0) { R->st->ignored++; eng_inst_free(R, in); continue; }
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
            eng_rec_error_in(R, s, e.cls, e.msg, in);
            cJSON_Delete(work);
            eng_inst_free(R, in);
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
            eng_rec_error_in(R, s, FLOW_ERR_MISSING, msg, in);
            eng_inst_free(R, in);
            return 0;
        }
        if (s->on_missing == 1) { R->st->ignored++; eng_inst_free(R, in); return 0; }
    } else {
        if (nrows > 1 && !s->on_many_first) {
            cJSON_Delete(rows);
            char msg[200];
            snprintf(msg, sizeof msg, "lookup %s matched %d rows", s->def->name, nrows);
            eng_rec_error_in(R, s, FLOW_ERR_VALUE, msg, in);
            eng_inst_free(R, in);
            return 0;
        }
        res = cJSON_DetachItemFromArray(rows, 0);
        cJSON_Delete(rows);
        if (eng_accept_values(res, s->def->type, s->def->name, &e)) {
            cJSON_Delete(res);
            eng_rec_error_in(R, s, e.cls, e.msg, in);
            eng_inst_free(R, in);
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
    eng_pipe_flush(R);   /* a lookup may read what the page in flight writes */
    eng_debug_sql(s, L->n, 0);
    if (s->c->lookup_page) {   /* the whole page at once: the connector runs the requests concurrently */
        FlowLookupItem *items = flow_xcalloc((size_t)L->n + 1, sizeof *items);
        Inst **owner = flow_xcalloc((size_t)L->n + 1, sizeof *owner);
        int n = 0;
        for (int i = 0; i < L->n; i++) {
            Inst *in = L->v[i];
            FlowErr e;
            cJSON *rs = NULL;
            if (eng_eval_rs(R, s, in, &rs, &e)) { eng_rec_error_in(R, s, e.cls, e.msg, in); eng_inst_free(R, in); continue; }
            items[n].rs = rs;
            owner[n++] = in;
        }
        FlowErr e;
        if (n && s->c->lookup_page(s->h, items, n, &e) < 0) eng_run_fail_cls(R, e.cls, "lookup %s: %s", s->def->name, e.msg);
        for (int k = 0; k < n; k++) {
            Inst *in = owner[k];
            FlowLookupItem *it = &items[k];
            cJSON_Delete((cJSON *)it->rs);
            if (R->failed) { cJSON_Delete(it->rows); cJSON_Delete(it->http); flow_item_err_free(&it->err); L->v[w++] = in; continue; }
            if (it->failed) {
                eng_rec_error_in_http(R, s, it->err.cls, flow_item_msg(&it->err), in, it->http);
                flow_item_err_free(&it->err);
                cJSON_Delete(it->rows);
                cJSON_Delete(it->http);
                eng_inst_free(R, in);
                continue;
            }
            cJSON_Delete(it->http);
            flow_item_err_free(&it->err);
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
        if (eng_eval_rs(R, s, in, &rs, &e)) { eng_rec_error_in(R, s, e.cls, e.msg, in); eng_inst_free(R, in); continue; }
        int r = s->c->lookup(s->h, rs, &rows, &e);
        cJSON_Delete(rs);
        if (r < 0) { cJSON_Delete(rows); eng_run_fail_cls(R, e.cls, "lookup %s: %s", s->def->name, e.msg); L->v[w++] = in; continue; }
        if (r > 0) { cJSON_Delete(rows); eng_rec_error_in(R, s, e.cls, e.msg, in); eng_inst_free(R, in); continue; }
        if (lookup_result(R, s, in, rows)) L->v[w++] = in;
    }
    L->n = w;
}

static int cmp_inst(const void *a, const void *b) {
    const Inst *x = *(Inst *const *)a, *y = *(Inst *const *)b;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* the list back in page order; most lists never left it (no branch, no failure reordering), and
 * checking costs less than qsort's buffer */
static void list_order(List *L) {
    for (int i = 1; i < L->n; i++)
        if (cmp_inst(&L->v[i - 1], &L->v[i]) > 0) { qsort(L->v, (size_t)L->n, sizeof *L->v, cmp_inst); return; }
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
            eng_rec_error_in(R, s, e.cls, msg, in);
            eng_inst_free(R, in);
            continue;
        }
        if (d->all_matching && !nhit) /* arms without a condition take the rest */
            for (int a = 0; a < na; a++) if (!d->arms[a].cond) { hit[a] = 1; nhit++; }
        if (!nhit) { R->st->ignored++; eng_inst_free(R, in); continue; }
        int last = -1;
        for (int a = 0; a < na; a++) if (hit[a]) last = a;
        for (int a = 0; a < na; a++) {
            if (!hit[a]) continue;
            eng_list_push(&sub[a], a == last ? in : inst_copy(R, in));
        }
    }
    L->n = 0;
    long ord = 0;
    for (int a = 0; a < na; a++) {
        if (!R->failed && sub[a].n) {
            const char *outer = R->arm;
            R->arm = d->arms[a].name;
            eng_run_steps(R, d->arms[a].steps, d->arms[a].nsteps, &sub[a]);
            R->arm = outer;
        }
        for (int k = 0; k < sub[a].n; k++) {
            sub[a].v[k]->ord = ord++;
            eng_list_push(L, sub[a].v[k]);
        }
        free(sub[a].v);
    }
    list_order(L);
    free(sub);
    free(hit);
}

/* The import's output for a record: the map's (updating: with `existing` in scope) or a copy of the
 * record. NULL with e when the record failed. */
static cJSON *map_record(Run *R, const StepRt *s, Inst *in, const cJSON *existing, int updating, FlowErr *e) {
    if (!s->def->map) return cJSON_Duplicate(eng_inst_rec(R, in), 1);
    eng_ctx_enter(R, in);
    flow_ctx_set_existing(R->cx, existing);
    cJSON *out = s->def->map(R->cx, eng_inst_rec(R, in), updating);
    if (!out || flow_failed(R->cx)) {
        eng_take_error(R, e, "map");
        cJSON_Delete(out);
        out = NULL;
    }
    flow_ctx_set_existing(R->cx, NULL);
    eng_ctx_leave(R);
    return out;
}

/* an empty item: what the connector may set cleared (nothing freed: it may be a copy of an item
 * kept at another index, which is freed there) */
static void import_item_clear(FlowImportItem *it) {
    it->out = it->rs = NULL;
    it->text = NULL;
    it->textn = 0;
    it->tout = NULL;
    it->names = NULL;
    it->nnames = 0;
    it->failed = 0;
    it->err.cls = 0;
    it->err.text = NULL;
    it->http = it->response = it->existing = NULL;
}

static void import_item_free(FlowImportItem *it) {
    cJSON_Delete((cJSON *)it->out);
    cJSON_Delete((cJSON *)it->rs);
    cJSON_Delete(it->response);
    cJSON_Delete(it->existing);
    cJSON_Delete(it->http);
    flow_item_err_free(&it->err);
    import_item_clear(it);
}

static void import_outcomes(Run *R, StepRt *s, List *L, int w, FlowImportItem *items, Inst **owner, int n, int wrote,
                            const FlowErr *we);
static int pipe_many(const Run *R, const StepRt *s);
static void pipe_room(Run *R, const StepRt *s);
static void pipe_finish_oldest(Run *R);

static void step_import(Run *R, const StepRt *s, List *L) {
    const FlowStepDef *d = s->def;
    const FlowConnector *c = s->c;
    const FlowFlowDef *fd = R->f;
    eng_hook_list(R, s, fd->pre_map, "pre_map", L, -1);
    eng_hook_list(R, s, d->pre_map, "pre_map", L, -1);
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
    /* typed records map straight to values (a destination that binds them) or text when nothing
     * after needs the output as a tree */
    int typed = !R->ri->mocks && !eng_settings_per_record(s->s) && !fd->post_map && !d->post_map && !fd->post_submit &&
                !d->post_submit && !((c->import_existing_page || c->import_existing) && (c->upsert_by_lookup || d->map_existing));
    int tvals = typed && d->tvmap && c->import_vals;
    typed = typed && !tvals && d->tmap && c->import_text;
    R->tbuf.n = 0;
    /* map every record as if creating */
    for (int i = 0; i < L->n; i++) {
        Inst *in = L->v[i];
        FlowErr e;
        cJSON *rs = NULL, *out = NULL;
        if (R->failed) { L->v[w++] = in; continue; }
        if (tvals && in->trec) {
            FlowTOut *o = flow_arena_alloc(&R->arena, sizeof *o + (sizeof *o->v + 1) * (size_t)d->ntv);
            o->v = (FlowVal *)(o + 1);
            o->has = memset(o->v + d->ntv, 0, (size_t)d->ntv);
            o->a = &R->arena;
            o->bad = 0;
            eng_ctx_enter(R, in);
            int ok = d->tvmap(R->cx, in->trec, o) == 0;   /* -1 when it failed or a value did not fit (o->bad) */
            eng_ctx_leave(R);
            if (ok) {
                items[n].tout = o;
                items[n].names = d->tvnames;
                items[n].nnames = d->ntv;
                owner[n++] = in;
                continue;
            }
            /* a failure is decided (and named) the generic way */
        }
        if (typed && in->trec) {
            size_t at = R->tbuf.n;
            eng_ctx_enter(R, in);
            int r = d->tmap(R->cx, in->trec, &R->tbuf);
            int ok = r == 0 && !flow_failed(R->cx) && !R->tbuf.oom;
            eng_ctx_leave(R);
            if (ok) {
                items[n].text = (const char *)(uintptr_t)at;   /* an offset until the buffer stops growing */
                items[n].textn = R->tbuf.n - at;
                owner[n++] = in;
                continue;
            }
            R->tbuf.n = at;   /* a failure is decided (and named) the generic way */
            R->tbuf.oom = 0;
        }
        eng_inst_rec(R, in);
        if (eng_eval_rs(R, s, in, &rs, &e) || !(out = map_record(R, s, in, NULL, 0, &e))) {
            cJSON_Delete(rs);
            eng_rec_error_in(R, s, e.cls, e.msg, in);
            eng_inst_free(R, in);
            continue;
        }
        items[n].out = out;
        items[n].rs = rs;
        owner[n++] = in;
    }
    for (int k = 0; k < n; k++)
        if (!items[k].out && !items[k].tout) items[k].text = R->tbuf.p + (uintptr_t)items[k].text;
    /* the pages in flight (the pages before's, or another import's) are written before this import
     * looks at its destination or writes to it (the mapping above is the work their write
     * overlapped); but those of this import, when its connector keeps several, stay in flight */
    pipe_room(R, s);
    /* upserts: which records exist already (a page at once, or one by one); those are mapped again
     * as updates, with `existing` in scope */
    /* an http upsert's exists request decides the request; a database upsert decides itself, and is
     * looked up first only when the map needs `existing` or `when creating/updating` */
    if (n && !R->failed && (c->import_existing_page || c->import_existing) && (c->upsert_by_lookup || d->map_existing)) {
        FlowErr e;
        if (c->import_existing_page) {
            if (c->import_existing_page(s->h, items, n, &e) < 0) eng_run_fail_cls(R, e.cls, "import %s: %s", d->name, e.msg);
        } else {
            for (int k = 0; k < n && !R->failed; k++) {
                flow_err_clear(&e);
                int r = c->import_existing(s->h, items[k].rs, items[k].out, &items[k].existing, &e);
                if (r < 0) eng_run_fail(R, "import %s: %s", d->name, e.msg);
                else if (r > 0) flow_import_fail(&items[k], e.cls, "%s", e.msg);
            }
        }
        int keep = 0;
        for (int k = 0; k < n; k++) {
            FlowImportItem *it = &items[k];
            if (!R->failed && it->failed) {
                eng_rec_error_in_http(R, s, it->err.cls, flow_item_msg(&it->err), owner[k], it->http);
                import_item_free(it);
                eng_inst_free(R, owner[k]);
                continue;
            }
            if (!R->failed && it->existing) {
                cJSON *out = map_record(R, s, owner[k], it->existing, 1, &e);
                if (!out) {
                    eng_rec_error_in(R, s, e.cls, e.msg, owner[k]);
                    import_item_free(it);
                    eng_inst_free(R, owner[k]);
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
                eng_rec_error_in(R, s, FLOW_ERR_VALUE, m, owner[k]);
            }
            import_item_free(&items[k]);
            eng_inst_free(R, owner[k]);
        }
        n = keep;
        free(outs);
        free(ver);
        free(msg);
    }
    int wrote = 0;
    FlowErr we;
    if (n && !R->failed) {
        /* pipelined: the page is sent and the flow goes on; the rest happens when it is finished */
        if (R->pipe && s->tail && !d->response && c->import_send && c->import_finish) {
            wrote = c->import_send(s->h, items, n, &we);
            if (wrote == 0) {
                Pending *p = &R->pq[(R->pq_head + R->pq_n++) % FLOW_PIPE_PAGES];
                p->s = sm;
                p->n = n;
                p->page = R->page;
                p->page_done = 0;
                p->bytes = R->page_bytes;
                p->was = R->page_was;
                p->fl = R->page_fl;
                R->pq_bytes += p->bytes;
                FlowImportItem *ti = p->items;
                Inst **to = p->owner;
                int tc = p->cap;
                p->items = sm->items, p->owner = sm->owner, p->cap = sm->cap;
                sm->items = ti, sm->owner = to, sm->cap = tc;
                FlowBuf tb = R->tbuf;   /* the items' text stays where it is */
                R->tbuf = p->buf;
                p->buf = tb;
                L->n = w;
                list_order(L);
                /* the pages whose bytes are out already end now, in order */
                if (pipe_many(R, s))
                    for (int k = c->import_ready(s->h); k > 0 && R->pq_n && !R->pipe_failed; k--) pipe_finish_oldest(R);
                return;
            }
            eng_pipe_flush(R);   /* the pages sent before it end first, as they would have before this one was read */
        } else wrote = c->import_page(s->h, items, n, &we);
    }
    import_outcomes(R, sm, L, w, items, owner, n, wrote, &we);
}

/* What follows an import's write of n records (items, owner): the run failed when the write did
 * (wrote -1, with e), else the preview's view, the debug line, post_submit, each record's outcome
 * (an error, or imported and back in L from w on), the response mapping and its hooks. */
static void import_outcomes(Run *R, StepRt *s, List *L, int w, FlowImportItem *items, Inst **owner, int n, int wrote,
                            const FlowErr *we) {
    const FlowStepDef *d = s->def;
    const FlowConnector *c = s->c;
    const FlowFlowDef *fd = R->f;
    if (n && !R->failed) {
        if (wrote < 0) eng_run_fail_cls(R, we->cls, "import %s: %s", d->name, we->msg);
        else if (c != &flow_conn_mock) eng_preview_wrote(R, s, items, n);
        if (eng_settings_debugging(s->s)) {
            long bad = 0;
            for (int k = 0; k < n; k++) bad += items[k].failed != 0;
            eng_debug_sql(s, R->failed ? 0 : n - bad, R->failed ? n : bad);
        }
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
            if (ver[k] == FLOW_HOOK_ERROR)
                flow_import_fail(it, FLOW_ERR_VALUE, "hook post_submit: %s", msg[k][0] ? msg[k] : "rejected the record");
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
                eng_rec_error_in_http(R, s, it->err.cls, flow_item_msg(&it->err), in, it->http);
                eng_inst_free(R, in);
                goto done;
            }
            if (d->response && it->response) {
                cJSON *work = cJSON_Duplicate(in->rec, 1);
                FlowErr e;
                eng_ctx_enter(R, in);
                flow_ctx_set_response(R->cx, it->response);
                int r = d->response(R->cx, work);
                if (r < 0 || flow_failed(R->cx)) {
                    eng_take_error(R, &e, "response mapping");
                    eng_ctx_leave(R);
                    /* it was written: the error says so, since a retry would write it again */
                    char msg[sizeof e.msg + 80];
                    snprintf(msg, sizeof msg, "written, but the response mapping failed: %s", e.msg);
                    eng_rec_error_in(R, s, e.cls, msg, in);
                    cJSON_Delete(work);
                    eng_inst_free(R, in);
                    goto done;
                }
                eng_ctx_leave(R);
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
        eng_hook_list(R, s, fd->post_response_map, "post_response_map", L, s->import_index);
        eng_hook_list(R, s, d->post_response_map, "post_response_map", L, s->import_index);
    }
    list_order(L);
}

/* ---- pipelined writes ----
 * An import whose connector splits its write (import_send, import_finish) and after which nothing
 * runs on a record's way (StepRt.tail, no response mapping) sends its page and lets the flow go on
 * with the next page: the page's write overlaps the reading and mapping of the next (R->pq). The
 * page is finished — its records' outcomes, post_submit, counts, preview, debug line, exactly what
 * follows import_page otherwise — at the first of: the next write of another import (after its
 * mapping), a lookup, a hook, a record error (so errors are kept and printed in the order they
 * would be without it: an error is printed only once every page before it has finished), the end
 * of a later page that did not reach the import, an interruption, and the end of the export. Its
 * page's end (the state's commit, the arena, the progress) waits for it (eng_page_done), and the
 * next page's state writes come after it.
 * A connector that takes a page's bytes at send and writes several pages at once (import_ready:
 * stdio, files, postgres) keeps several of an import's pages in flight, up to FLOW_PIPE_PAGES and
 * FLOW_PIPE_BYTES, when the import has no post_submit hook (which may look at the destination):
 * each is finished when the connector says its bytes are out, or at the points above, strictly in
 * the order sent. A page whose write failed the run is finished (its records counted exported,
 * not imported); the pages read after it are dropped as if never read (export_pages).
 * A run pipelines only where nothing else sees a page before it ends (engine.c, pipe_run). */

void eng_counts_take(const Run *R, Counts *c) {
    c->exported = R->st->exported;
    c->ignored = R->st->ignored;
    c->errors = R->st->errors;
    memcpy(c->by_class, R->st->by_class, sizeof c->by_class);
}

/* whether import s may keep several pages in flight */
static int pipe_many(const Run *R, const StepRt *s) {
    return s->c->import_ready && !R->f->post_submit && !s->def->post_submit;
}

/* the pages in flight after a page whose write failed the run: dropped, never finished (their
 * records freed, their parked arenas reset); the first page to drop (theirs, or the page being read
 * when it is later) with its counters, for export_pages */
static void pipe_drop_after(Run *R, int64_t failed_page) {
    if (R->pq_n) {
        const Pending *first = &R->pq[R->pq_head];
        R->drop = first->page;
        R->drop_was = first->was;
        R->drop_fl = first->fl;
    } else {
        R->drop = R->page;
        R->drop_was = R->page_was;
        R->drop_fl = R->page_fl;
    }
    if (R->pq_n || failed_page != R->page) R->pipe_failed = 1;
    for (; R->pq_n; R->pq_n--) {
        Pending *p = &R->pq[R->pq_head];
        R->pq_head = (R->pq_head + 1) % FLOW_PIPE_PAGES;
        for (int k = 0; k < p->n; k++) {
            import_item_free(&p->items[k]);
            eng_inst_free(R, p->owner[k]);
        }
        flow_arena_reset(&p->arena);
        p->s = NULL;
        p->n = 0;
    }
    R->pq_bytes = 0;
}

/* the oldest page in flight finished: what follows its write, then its page's end if that waited */
static void pipe_finish_oldest(Run *R) {
    Pending *p = &R->pq[R->pq_head];
    R->pq_head = (R->pq_head + 1) % FLOW_PIPE_PAGES;
    R->pq_n--;
    R->pq_bytes -= p->bytes;
    StepRt *s = p->s;
    p->s = NULL;
    Counts before, after;
    eng_counts_take(R, &before);
    /* as when it was sent: a failure of a page after it (not seen yet without pipelining) does not
     * change how this one ends, and this one's failure is the run's */
    int failed = R->failed;
    R->failed = 0;
    R->finishing++;   /* what finishing it calls (hooks, record errors) finishes no later page first */
    FlowErr e;
    int wrote = s->c->import_finish(s->h, p->items, p->n, &e);
    List done = { flow_xcalloc((size_t)p->n + 1, sizeof(Inst *)), 0, p->n + 1 };
    import_outcomes(R, s, &done, 0, p->items, p->owner, p->n, wrote, &e);
    eng_resolve_list(R, &done);   /* nothing runs after the import: the records end here */
    eng_list_free(R, &done);
    R->finishing--;
    p->n = 0;
    /* the pages read since are then as if never read (export_pages drops them); a write of the same
     * page after it (another arm's import) just finds the run failed, as it would have */
    if (R->failed && !failed) pipe_drop_after(R, p->page);
    R->failed |= failed;
    if (p->page_done) eng_page_done(R, p->page, &p->arena);
    eng_counts_take(R, &after);
    R->flushed.exported += after.exported - before.exported;
    R->flushed.ignored += after.ignored - before.ignored;
    R->flushed.errors += after.errors - before.errors;
    for (int i = 0; i < FLOW_ERR_COUNT; i++) R->flushed.by_class[i] += after.by_class[i] - before.by_class[i];
    /* its buffers (items, text, arena), idle now, go to the first slot without buffers that the next
     * pages sent take, so that as many slots' buffers are ever made as pages are in flight at once,
     * not all FLOW_PIPE_PAGES of them in turn (pages of 1000 to stdout grew to 170 MB; a connector
     * that finishes many pages at once left them spread over every slot). p is the last slot the
     * next pages take: the scan stops there. */
    for (int j = 0; j < FLOW_PIPE_PAGES; j++) {
        Pending *nx = &R->pq[(R->pq_head + R->pq_n + j) % FLOW_PIPE_PAGES];
        if (nx == p) break;
        if (nx->cap) continue;   /* has buffers of its own */
        Pending t = *nx;
        nx->items = p->items, nx->owner = p->owner, nx->cap = p->cap, nx->buf = p->buf, nx->arena = p->arena;
        p->items = t.items, p->owner = t.owner, p->cap = t.cap, p->buf = t.buf, p->arena = t.arena;
        break;
    }
}

/* before import s writes: pages in flight of another import, or of one that keeps a single page,
 * finished; of s's own, as many as keep them within the bounds with this page */
static void pipe_room(Run *R, const StepRt *s) {
    if (!R->pq_n) return;
    const Pending *last = &R->pq[(R->pq_head + R->pq_n - 1) % FLOW_PIPE_PAGES];
    if (last->s != s || !pipe_many(R, s)) { eng_pipe_flush(R); return; }
    while (R->pq_n && !R->finishing && !R->pipe_failed &&
           (R->pq_n >= FLOW_PIPE_PAGES || R->pq_bytes + R->page_bytes > FLOW_PIPE_BYTES))
        pipe_finish_oldest(R);
}

void eng_pipe_flush(Run *R) {
    if (R->finishing) return;   /* a page being finished: the pages after it finish after it */
    while (R->pq_n && !R->pipe_failed) pipe_finish_oldest(R);
}

void eng_pipe_settle(Run *R) {
    if (R->pq_n && R->pq[(R->pq_head + R->pq_n - 1) % FLOW_PIPE_PAGES].page != R->page) eng_pipe_flush(R);
}

int eng_pipe_park(Run *R) {
    if (!R->pq_n) return 0;
    Pending *last = &R->pq[(R->pq_head + R->pq_n - 1) % FLOW_PIPE_PAGES];
    last->page_done = 1;
    FlowArena a = R->arena;
    R->arena = last->arena;
    last->arena = a;
    return 1;
}

void eng_pipe_free(Run *R) {
    for (int i = 0; i < FLOW_PIPE_PAGES; i++) {
        Pending *p = &R->pq[i];
        free(p->items);
        free(p->owner);
        flow_buf_free(&p->buf);
        flow_arena_free(&p->arena);
    }
    memset(R->pq, 0, sizeof R->pq);
    R->pq_n = 0;
}

void eng_mark_tails(Run *R, const FlowStepDef *steps, int n, int tail) {
    for (int i = 0; i < n; i++) {
        int t = tail && i == n - 1;
        R->steps[steps[i].id].tail = t;
        if (steps[i].kind == FLOW_STEP_BRANCH)
            for (int a = 0; a < steps[i].narms; a++) eng_mark_tails(R, steps[i].arms[a].steps, steps[i].arms[a].nsteps, t);
    }
}

/* ---- the step loop ---- */

void eng_too_large(Run *R, const StepRt *s, List *L, size_t bytes, const char *where) {
    char msg[300];
    snprintf(msg, sizeof msg, "page %lld holds %.1f MB %s, over the 5 MB page limit", (long long)R->page,
             (double)bytes / (1024.0 * 1024.0), where);
    for (int i = 0; i < L->n; i++) {
        eng_rec_error_in(R, s, FLOW_ERR_TOO_LARGE, msg, L->v[i]);
        eng_inst_free(R, L->v[i]);
    }
    L->n = 0;
}

const char *const eng_step_kind_names[] = {
#define X(k, s) s,
    FLOW_STEP_KINDS(X)
#undef X
};

void eng_run_steps(Run *R, const FlowStepDef *steps, int n, List *L) {
    for (int i = 0; i < n && L->n && !R->failed; i++) {
        const FlowStepDef *d = &steps[i];
        StepRt *s = &R->steps[d->id];
        cJSON *tr = eng_trace_begin(R, s, L);
        long errors_before = R->st->errors;
        /* the records' order inside the page is by seq; ord only breaks ties after a branch */
        for (int k = 0; k < L->n; k++) L->v[k]->ord = k;
        if (d->kind == FLOW_STEP_TRANSFORM || (d->kind == FLOW_STEP_IMPORT && d->response)) eng_list_traces(R, L);
        /* typed records go on typed only into a filter or an import that has a typed variant */
        if (R->typed && !(d->kind == FLOW_STEP_FILTER && d->tfn) && !(d->kind == FLOW_STEP_IMPORT && (d->tmap || d->tvmap))) {
            eng_list_materialize(R, L);
            if (d->kind != FLOW_STEP_FILTER && d->kind != FLOW_STEP_LOOKUP && d->kind != FLOW_STEP_IMPORT)
                for (int k = 0; k < L->n; k++) L->v[k]->trec = NULL;   /* a transform may change it: the tree is the record now */
        }
        switch (d->kind) {
        case FLOW_STEP_FILTER: step_filter(R, s, L); break;
        case FLOW_STEP_TRANSFORM: step_transform(R, s, L); break;
        case FLOW_STEP_LOOKUP: step_lookup(R, s, L); break;
        case FLOW_STEP_BRANCH: step_branch(R, s, L); break;
        case FLOW_STEP_IMPORT: step_import(R, s, L); break;
        case FLOW_STEP_EXPORT: eng_run_fail(R, "step %s: an export can only be a flow's first step", s->label); break;
        }
        eng_trace_end(tr, s, L);
        if (tr) cJSON_AddNumberToObject(tr, "errors", (double)(R->st->errors - errors_before));
        if (R->failed || !L->n) break;
        /* only a transform, a lookup or a response mapping can make records bigger */
        if (d->kind != FLOW_STEP_TRANSFORM && d->kind != FLOW_STEP_LOOKUP && !(d->kind == FLOW_STEP_IMPORT && d->response)) continue;
        size_t bytes = list_size(L);
        if (bytes > FLOW_PAGE_MAX_BYTES) {
            char where[140];
            snprintf(where, sizeof where, "after step %s", s->label);
            eng_too_large(R, s, L, bytes, where);
        }
    }
}

void flow_step_label(const FlowStepDef *d, char *out, size_t cap) {
    if (d->name) snprintf(out, cap, "%s", d->name);
    else if (d->line > 0) snprintf(out, cap, "%s (line %d)", eng_step_kind_names[d->kind], d->line);
    else snprintf(out, cap, "%s", eng_step_kind_names[d->kind]);
}
