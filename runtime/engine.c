/* engine.c — runs one flow of a program table: opens its connections and steps with their settings
 * (a test's and a preview's mocks, limit, once() flags, the delta window), pulls pages of records
 * from the export (or a retry's kept errors), checks each record as it comes, hands each page to the
 * step loop (steps.c), and ends the run: connections committed or discarded, the counts, the run in
 * the state store. Its helpers share engine_int.h: steps.c (the step loop), settings.c, validate.c
 * (records against their declared type), errors.c (failures, record errors, redaction), trace.c
 * (a preview's trace). */
#include "engine_int.h"
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const FlowConnector *flow_connector(const char *kind) {
    static const FlowConnector *const all[] = { &flow_conn_file, &flow_conn_stdio, &flow_conn_sqlite, &flow_conn_http, &flow_conn_postgres,
                                                &flow_conn_webhook };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->kind, kind) == 0) return all[i];
    return NULL;
}

/* ---- setting up: steps, connections ---- */

static int walk_steps(Run *R, const FlowStepDef *steps, int n, int depth, int (*fn)(Run *, const FlowStepDef *)) {
    if (depth > 64) return eng_run_fail(R, "branches are nested too deeply");
    for (int i = 0; i < n; i++) {
        if (fn(R, &steps[i])) return -1;
        if (steps[i].kind == FLOW_STEP_BRANCH)
            for (int a = 0; a < steps[i].narms; a++)
                if (walk_steps(R, steps[i].arms[a].steps, steps[i].arms[a].nsteps, depth + 1, fn)) return -1;
    }
    return 0;
}

static int max_id(Run *R, const FlowStepDef *d) {
    if (d->id < 0) return eng_run_fail(R, "step %s has no id", d->name ? d->name : "?");
    if (d->id >= R->nsteps) R->nsteps = d->id + 1;
    return 0;
}

static int count_import(Run *R, const FlowStepDef *d) {
    if (d->kind == FLOW_STEP_IMPORT) R->st->nimports++;
    return 0;
}

static int setup_step(Run *R, const FlowStepDef *d) {
    StepRt *s = &R->steps[d->id];
    if (s->def) return eng_run_fail(R, "steps %s and %s have the same id %d", s->label, d->name ? d->name : "?", d->id);
    s->def = d;
    s->import_index = -1;
    flow_step_label(d, s->label, sizeof s->label);
    if (d->kind == FLOW_STEP_IMPORT) {
        s->import_index = R->st->nimports;
        R->st->import_names[R->st->nimports++] = d->name ? d->name : s->label;
    }
    if (flow_step_use(d->kind)) {
        if (d->conn < 0 || d->conn >= R->p->nconns) return eng_run_fail(R, "step %s has no connection", s->label);
        s->conn = &R->conns[d->conn];
        s->conn->uses |= flow_step_use(d->kind);
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
        return eng_run_fail(R, "%s: delta(start) \"%s\" is not an ISO-8601 date-time", owner, start->valuestring);
    if (cJSON_IsNumber(start)) start_ms = (int64_t)start->valuedouble;
    if (cJSON_IsString(f) && *f->valuestring) R->delta_field = flow_xstrdup(f->valuestring);
    if (!R->rl.since_set) {
        int64_t last = 0;
        int have = 0;
        FlowErr e;
        if (R->rl.state && flow_state_last_success(R->rl.state, R->f->name, &last, &have, &e)) return eng_run_fail_cls(R, e.cls, "%s", e.msg);
        R->rl.since_ms = have ? last - lag_ms : start_ms;
        if (!R->rl.until_set && R->rl.since_ms > R->rl.started_ms) {   /* an inverted window would export nothing, silently */
            char a[32], b[32];
            flow_format_iso8601(have ? last : start_ms, a);
            flow_format_iso8601(R->rl.started_ms, b);
            if (have)
                return eng_run_fail(R, "the saved delta time %s is later than this run's start %s: nothing would be exported (a run "
                                   "saved a time in the future, or the clock went back); `state reset %s` exports everything again, "
                                   "--since T from T", a, b, R->f->name);
            return eng_run_fail(R, "%s: delta(start) %s is later than this run's start %s: there is nothing to export yet", owner, a, b);
        }
    }
    if (!R->rl.until_set) R->rl.until_ms = R->rl.started_ms;
    if (R->rl.since_ms > R->rl.until_ms) {   /* --until before the saved time (the CLI refuses the other inversions) */
        char a[32], b[32];
        flow_format_iso8601(R->rl.since_ms, a);
        flow_format_iso8601(R->rl.until_ms, b);
        R->st->refused = 1;
        return eng_run_fail(R, "the delta window is empty: its start %s (%s) is later than --until %s", a,
                        R->rl.since_set ? "--since" : "the saved delta time", b);
    }
    if (R->rl.state && R->delta_field) {   /* the field's layout, kept with the delta time */
        char lt[64];
        flow_state_delta_layout(R->rl.state, R->f->name, lt, sizeof lt);
        flow_time_layout_parse(lt, &R->bound);
    }
    eng_settings_free(s->s);
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
        s->s = eng_settings_new(R, owner, s->def->settings, s->def->nsettings, s->conn->def->kind, FLOW_AT_EXPORT);
        flow_datetime_texts(0, NULL, NULL);
        R->sql_bound = 1;
    } else {
        flow_run_set_contexts(R->cx, &R->rl, R->f->name, 0, R->page_size);
        s->s = eng_settings_new(R, owner, s->def->settings, s->def->nsettings, s->conn->def->kind, FLOW_AT_EXPORT);
    }
    flow_run_set_contexts(R->cx, &R->rl, R->f->name, 0, R->page_size);
    if (s->s) eng_settings_debug(s->s, s->conn->def->name);
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
        return eng_run_fail(R, "%s: %s exports cannot set a once() flag", owner, s->conn->c->kind);
    FlowErr e;
    cJSON *m = R->mode_def->per_record ? NULL : flow_setting_eval(s->s, "mode", 0, NULL, &e);
    if (!m && R->mode_def->konst) return eng_run_fail_cls(R, e.cls, "%s: %s", owner, e.msg);
    if (!m) {   /* per record: the flag's name does not depend on the record; read it from any record */
        eng_ctx_enter(R, NULL);
        cJSON *empty = cJSON_CreateObject();
        FlowVal v = R->mode_def->per_record(R->cx, empty);
        m = flow_failed(R->cx) ? NULL : flow_val_to_json(v);
        flow_clear_error(R->cx);
        eng_ctx_leave(R);
        cJSON_Delete(empty);
    }
    const char *flag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "flag"));
    if (!flag || !*flag) { cJSON_Delete(m); return eng_run_fail(R, "%s: once() needs a flag", owner); }
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
    snprintf(owner, sizeof owner, "%s %s", eng_step_kind_names[d->kind], s->label);
    /* which connector answers: a test mocks every step; a preview mocks the steps it was given data
     * for and every import unless it runs live */
    const FlowMocks *mk = R->ri->mocks;
    int mocked = mk && (mk->mode == FLOW_MOCK_TEST ||
                        (d->kind == FLOW_STEP_IMPORT ? !mk->live
                         : mk->given && cJSON_GetObjectItemCaseSensitive(mk->given, s->label) != NULL));
    s->c = mocked ? &flow_conn_mock : c;
    void *cstate = mocked ? (void *)mk : s->conn->state;
    FlowSettingPlace at = d->kind == FLOW_STEP_EXPORT ? FLOW_AT_EXPORT : d->kind == FLOW_STEP_LOOKUP ? FLOW_AT_LOOKUP : FLOW_AT_IMPORT;
    s->s = eng_settings_new(R, owner, d->settings, d->nsettings, s->conn->def->kind, at);
    if (!s->s) return -1;
    if (!mocked) eng_settings_debug(s->s, s->conn->def->name);
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
                return eng_run_fail(R, "%s: limit(n) needs 1 <= n <= 100", owner);
            R->limit = (long)nv->valuedouble;
        } else if (strcmp(mode, "once") == 0 || mode_per_record(d)) {
            if (once_setup(R, s, owner)) return -1;
        } else if (strcmp(mode, "delta") == 0 && delta_window(R, s, owner)) {
            return -1;
        }
        if (R->rl.retry) return 0;   /* errors retry: the kept records take the export's place */
        s->h = s->c->export_open(cstate, s->s, &e);
    }
    if (!s->h) return eng_run_fail_cls(R, e.cls, "%s: %s", owner, e.msg);
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
    eng_settings_free(s->s);
    s->s = NULL;
}

static int open_conn(Run *R, ConnRt *c) {
    const FlowConnDef *d = c->def;
    int all_mock = R->ri->mocks && R->ri->mocks->mode == FLOW_MOCK_TEST;
    c->c = all_mock ? &flow_conn_mock : flow_connector(d->kind);
    if (!c->c) return eng_run_fail(R, "connection %s: the %s connector is not available in this runtime yet", d->name, d->kind);
    const char *cant = (c->uses & FLOW_USE_EXPORT) && !c->c->export_open ? "exports"
                     : (c->uses & FLOW_USE_LOOKUP) && !c->c->lookup_open ? "lookups"
                     : (c->uses & FLOW_USE_IMPORT) && !c->c->import_open ? "imports" : NULL;
    if (cant) return eng_run_fail(R, "connection %s: %s connections cannot be used for %s", d->name, d->kind, cant);
    char owner[160];
    snprintf(owner, sizeof owner, "connection %s", d->name);
    /* a test does not touch the connection: its settings (secrets, paths) are not even evaluated */
    c->s = all_mock ? eng_settings_new(R, owner, NULL, 0, NULL, FLOW_AT_CONN)
                    : eng_settings_new(R, owner, d->settings, d->nsettings, d->kind, FLOW_AT_CONN);
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
    const char *why = flow_dynlib_need(c->c->lib);
    if (why) return eng_run_fail_cls(R, FLOW_ERR_CONNECTION, "connection %s: %s", d->name, why);
    c->state = c->c->open(c->s, c->uses, &e);
    if (c->state && all_mock) c->state = (void *)R->ri->mocks;
    if (!c->state) return eng_run_fail_cls(R, e.cls, "connection %s: %s", d->name, e.msg);
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
    if (d->kind == FLOW_STEP_IMPORT) R->st->import_names[R->st->nimports++] = d->name ? d->name : eng_step_kind_names[d->kind];
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
    if (R->rl.state && !R->failed && flow_state_begin(R->rl.state, &e)) eng_run_fail_cls(R, e.cls, "%s", e.msg);
}

void eng_resolve_list(Run *R, const List *L) {
    FlowErr e;
    if (!R->rl.state || R->failed || R->open_errors <= 0 || R->rl.retry) return;   /* a retry resolves its entries by id at the end */
    for (int i = 0; i < L->n && !R->failed; i++) {
        if (!L->v[i]->trace) continue;
        char by[96];
        snprintf(by, sizeof by, "run %s", R->rl.run_id);
        if (flow_state_resolve_key(R->rl.state, R->f->name, L->v[i]->trace, by, R->rl.started_ms, &e)) eng_run_fail_cls(R, e.cls, "%s", e.msg);
    }
}

void eng_page_done(Run *R, int64_t page, FlowArena *arena) {
    FlowErr e;
    if (R->rl.state) {
        /* the export hears that the page is written for good (the webhook queue records how far it
         * got), in the transaction that keeps the page's errors */
        const StepRt *ex = &R->steps[R->f->steps[0].id];
        if (!R->failed && R->pages_final && ex->h && ex->c && ex->c->export_page_done && ex->c->export_page_done(ex->h, &e))
            eng_run_fail_cls(R, e.cls, "export %s: %s", ex->label, e.msg);
        if (flow_state_commit(R->rl.state, &e)) eng_run_fail_cls(R, e.cls, "%s", e.msg);
        if (page != R->page) page_begin(R);   /* the page begun since keeps its writes together too */
    }
    if (!arena) return;
    flow_arena_reset(arena);
    if (R->rl.on_page && !R->failed) R->rl.on_page(R->rl.on_page_arg, R->st, (long)page);
}

/* ---- interruption ---- */

static volatile sig_atomic_t interrupt_sig;
static struct timespec first_term, first_int;   /* when each signal first came (0: not yet) */

void flow_interrupt(int sig) {
    if (!sig) first_term = first_int = (struct timespec){ 0, 0 };
    interrupt_sig = sig;
}
int flow_interrupted(void) { return interrupt_sig; }

/* Only async-signal-safe calls here (clock_gettime, signal, raise). The same signal within 250 ms of
 * its first coming is that request delivered twice: GNU timeout signals its child and then the
 * child's process group, a supervisor may signal the process and then its group. */
void flow_stop_signal(int sig) {
    struct timespec *first = sig == SIGINT ? &first_int : &first_term, now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!first->tv_sec && !first->tv_nsec) {
        *first = now;
        interrupt_sig = sig;
        return;
    }
    long long ms = (long long)(now.tv_sec - first->tv_sec) * 1000 + (now.tv_nsec - first->tv_nsec) / 1000000;
    if (ms < 250) return;
    signal(sig, SIG_DFL);   /* again: the process ends at once, by the signal */
    raise(sig);
}

/* the run stops here when a signal came: 1 (R failed as interrupted), else 0 */
static int stop_here(Run *R) {
    int sig = interrupt_sig;
    if (!sig || R->failed) return R->failed;
    eng_pipe_flush(R);   /* the pages in flight end as they would have before the signal */
    if (R->failed) return 1;
    eng_run_fail(R, "interrupted by %s", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
    R->st->interrupted = sig;
    return 1;
}

/* runs the steps of a list from step `id` on: when it is inside a branch arm, the rest of that arm,
 * then the steps after the branch. 1 when the step was found. */
static int run_from(Run *R, const FlowStepDef *steps, int n, int id, List *L) {
    for (int i = 0; i < n; i++) {
        if (steps[i].id == id) { eng_run_steps(R, steps + i, n - i, L); return 1; }
        if (steps[i].kind != FLOW_STEP_BRANCH) continue;
        for (int a = 0; a < steps[i].narms; a++)
            if (run_from(R, steps[i].arms[a].steps, steps[i].arms[a].nsteps, id, L)) {
                if (L->n && !R->failed) eng_run_steps(R, steps + i + 1, n - i - 1, L);
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
            Inst *in = eng_inst_new(R, cJSON_Duplicate(rec, 1), seq++);
            in->trace = flow_xstrdup(key ? key : "");
            const cJSON *lk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "context"), "lookups");
            for (const cJSON *l = lk ? lk->child : NULL; l; l = l->next) {
                int slot = atoi(l->string);
                if (slot >= 0 && slot < R->nslots) in->lk[slot] = cJSON_Duplicate(l, 1);
            }
            FlowErr ve;
            if (target->def->kind == FLOW_STEP_EXPORT && (!cJSON_IsObject(in->rec) ||
                eng_accept_values(in->rec, target->def->type, "record", &ve))) {
                if (!cJSON_IsObject(in->rec)) flow_err_set(&ve, FLOW_ERR_PARSE, "the kept data is not a record");
                eng_rec_error_in(R, target, ve.cls, ve.msg, in);
                eng_inst_free(R, in);
                continue;
            }
            eng_list_push(&page, in);
        }
        if (target->def->kind == FLOW_STEP_EXPORT) eng_run_steps(R, f->steps + 1, f->nsteps - 1, &page);
        else run_from(R, f->steps, f->nsteps, target->def->id, &page);
        if (!R->failed)
            for (int k = 0; k < page.n; k++)
                if (!page.v[k]->imported) R->st->ignored++;
        eng_resolve_list(R, &page);
        eng_page_done(R, R->page, NULL);
        eng_list_free(R, &page);
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
        eng_ctx_enter(R, NULL);
        FlowVal v = R->mode_def->per_record(R->cx, (cJSON *)rec);
        m = flow_failed(R->cx) ? NULL : flow_val_to_json(v);
        if (!m) { FlowErr e; eng_take_error(R, &e, "mode"); eng_ctx_leave(R); return eng_run_fail_cls(R, e.cls, "once(): %s", e.msg); }
        eng_ctx_leave(R);
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
    for (int i = 1; i < f->nsteps; i++) if (f->steps[i].tfn || f->steps[i].tmap || f->steps[i].tvmap) return 1;
    return 0;
}

/* a page dropped whole (an interruption while it was read), or the pages from R->drop on (a page
 * in flight before them failed the run: pipe_failed): their counts given back, their state writes
 * rolled back, as if never read (what finishing pages in flight added meanwhile stays: R->flushed) */
static void drop_page(Run *R) {
    const Counts *was = R->pipe_failed ? &R->drop_was : &R->page_was, *fl = R->pipe_failed ? &R->drop_fl : &R->page_fl;
    R->st->exported = was->exported + R->flushed.exported - fl->exported;
    R->st->ignored = was->ignored + R->flushed.ignored - fl->ignored;
    R->st->errors = was->errors + R->flushed.errors - fl->errors;
    for (int i = 0; i < FLOW_ERR_COUNT; i++) R->st->by_class[i] = was->by_class[i] + R->flushed.by_class[i] - fl->by_class[i];
    flow_state_rollback(R->rl.state);
    R->page = R->pipe_failed ? R->drop - 1 : R->page - 1;
    R->pipe_failed = 0;
}

/* Whether the run may keep a page's write in flight while the next page is read and mapped
 * (steps.c, pipelined writes): not where something outside the steps sees a page as it ends — a
 * test's or preview's capture, a retry's pages, once() flags set after each page, the webhook
 * queue told how far the pages got, a debug window's lines in the order things happened. */
static int pipe_run(const Run *R) {
    const char *env = getenv("FLOW_PIPELINE");   /* off: every write finished at once (to compare) */
    if (env && strcmp(env, "off") == 0) return 0;
    if (R->ri->mocks || R->rl.retry || R->once_flag || R->mode_def) return 0;
    for (int i = 0; i < R->nsteps; i++) {
        const StepRt *s = &R->steps[i];
        if (!s->def) continue;
        if (s->s && eng_settings_debugging(s->s)) return 0;
        if (s->def->kind == FLOW_STEP_EXPORT && s->c && s->c->export_page_done) return 0;
    }
    return 1;
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
        /* the counters as the page began: a page dropped by an interruption is not counted (what
         * finishing pages in flight added meanwhile is: R->flushed) */
        eng_counts_take(R, &R->page_was);
        R->page_fl = R->flushed;
        R->page_bytes = 0;
        R->page++;
        flow_run_set_contexts(R->cx, R->ri, f->name, R->page, R->page_size);
        page_begin(R);
        cJSON *marks = NULL;
        while (pulled < R->page_size) {
            if (R->limit && R->st->exported >= R->limit) { end = 1; break; }
            if (interrupt_sig && !R->failed && stop_here(R)) {   /* no step has seen this page: it is dropped whole */
                drop_page(R);
                break;
            }
            FlowExportItem it;
            memset(&it, 0, sizeof it);
            if (R->typed) { it.typed = take_typed; it.typed_arg = R; it.rows = &R->rows; R->rows.took = NULL; }
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
            if (r == FLOW_NEXT_TYPED) {   /* decoded and checked against the type already (take_typed, flow_rows_take) */
                Inst *in = eng_inst_new(R, NULL, seq++);
                if (R->rows.took) {   /* a row */
                    bytes += R->rows.took_bytes;
                    in->trec = R->rows.took;
                    in->plan = R->rows.took_plan;
                    in->cols = R->rows.took_cols;
                } else {
                    bytes += it.bytes;
                    in->trec = R->took;
                    in->raw = R->took_raw;
                    in->rawn = R->took_rawn;
                }
                /* its trace key only when open errors may be resolved by it; else when it errs */
                if (R->rl.state && R->open_errors > 0) eng_inst_rec(R, in);
                eng_list_push(&page, in);
                continue;
            }
            if (r == FLOW_NEXT_ERROR) {
                eng_rec_error(R, ex, it.err.cls, it.err.msg, it.rec);
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
            int bad_text = it.text_values && eng_coerce_text(R, it.rec, ex->def->type, &te);
            FlowTimeLayout lay;
            int has_lay = R->delta_field && learn_layout(R, ex, it.rec, &lay);
            /* outside the delta window: ignored before its values and type are checked, or a record
             * that fails them would be raised again by every run whose query returns it */
            if (R->delta_field && !in_window(R, it.rec, has_lay ? &lay : NULL)) {
                R->st->ignored++;
                cJSON_Delete(it.rec);
                continue;
            }
            int av = bad_text ? -1 : eng_accept_values(it.rec, ex->def->type, "record", &e);
            if (bad_text) e = te;
            if (av) {
                cJSON *kept = av == -2 ? flow_json_to_text(cJSON_Duplicate(it.rec, 1)) : NULL;
                eng_rec_error(R, ex, e.cls, e.msg, kept ? kept : it.rec);
                cJSON_Delete(kept);
                cJSON_Delete(it.rec);
                continue;
            }
            bytes += it.bytes ? it.bytes : eng_json_size(it.rec);
            Inst *in = eng_inst_new(R, it.rec, seq++);
            /* its trace key now only when open errors may be resolved by it (page_end); else when it errs
             * or before a step may change it (eng_list_traces) */
            if (R->rl.state && R->open_errors > 0) in->trace = eng_trace_key(in->rec);
            eng_list_push(&page, in);
        }
        if (pulled) eng_debug_sql(ex, pulled, 0);
        if (R->pipe_failed) drop_page(R);   /* a page before's write failed the run: this one was never read */
        if (R->failed) { eng_list_free(R, &page); cJSON_Delete(marks); break; }
        if (!pulled) { eng_list_free(R, &page); cJSON_Delete(marks); R->page--; break; }
        R->page_bytes = bytes;
        if (bytes > FLOW_PAGE_MAX_BYTES) eng_too_large(R, ex, &page, bytes, "as exported");
        else {
            if (eng_hook_list(R, ex, f->pre_save_page, "pre_save_page", &page, -1)) end = 1;   /* abort: no more pages */
            if (R->ri->mocks && R->ri->mocks->trace) {
                eng_trace_export(R, ex, &page);
                end = 1;   /* a preview looks at the first page only */
            }
            eng_run_steps(R, f->steps + 1, f->nsteps - 1, &page);
        }
        /* pages in flight from before this page (whose records all stopped short of its import)
         * end before this one */
        eng_pipe_settle(R);
        if (R->pipe_failed) { drop_page(R); eng_list_free(R, &page); cJSON_Delete(marks); break; }
        if (!R->failed)
            for (int i = 0; i < page.n; i++)
                if (!page.v[i]->imported) R->st->ignored++;   /* reached the end without an import */
        if (marks && !R->failed && cJSON_GetArraySize(marks)) {   /* once(): the page's records get their flag */
            FlowErr e;
            if (c->export_mark(ex->h, marks, &e)) eng_run_fail_cls(R, e.cls, "export %s: setting the once() flag: %s", ex->label, e.msg);
            else R->st->marked += cJSON_GetArraySize(marks);
        }
        cJSON_Delete(marks);
        marks = NULL;
        eng_resolve_list(R, &page);
        eng_list_free(R, &page);
        /* its end, its arena (the page's typed records) reset; or, while its import is still
         * writing, the page's end waits for it, its arena parked */
        if (!eng_pipe_park(R)) eng_page_done(R, R->page, &R->arena);
        flow_scratch_reset(R->cx);
    }
    eng_pipe_flush(R);   /* the last pages in flight, before the run's state is committed */
    if (R->pipe_failed) drop_page(R);   /* ...and when one of them failed the run, the pages after it */
    FlowErr e;
    if (R->rl.state && flow_state_commit(R->rl.state, &e)) eng_run_fail_cls(R, e.cls, "%s", e.msg);
    if (export_fail[0]) eng_run_fail_cls(R, export_cls, "export %s: %s", ex->label, export_fail);
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
    eng_collect_param_secrets(R);
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
        eng_run_fail(R, "flow %s does not start with an export", f->name);
    if (!R->failed) walk_steps(R, f->steps, f->nsteps, 0, setup_step);
    for (int i = 0; i < p->nconns && !R->failed; i++)
        if (R->conns[i].uses) open_conn(R, &R->conns[i]);
    FlowErr se;
    if (!R->failed && R->rl.state) {
        if (flow_state_run_begin(R->rl.state, f->name, R->rl.run_id, R->rl.started_ms, &se)) eng_run_fail_cls(R, se.cls, "%s", se.msg);
        R->open_errors = flow_state_open_errors(R->rl.state, f->name);
        /* a webhook-triggered flow whose export is not `from webhook` takes its queued events (they
         * hold no records for it) as its run starts */
        const FlowStepDef *ex = &f->steps[0];
        int triggered = 0;
        for (int i = 0; i < f->nsettings; i++) triggered |= f->settings[i].name && strcmp(f->settings[i].name, "trigger") == 0;
        if (!R->failed && triggered && !R->rl.retry && ex->conn >= 0 && ex->conn < p->nconns && strcmp(p->conns[ex->conn].kind, "webhook") != 0 &&
            flow_state_queue_done(R->rl.state, f->name, R->rl.run_id, R->rl.started_ms, &se))
            eng_run_fail_cls(R, se.cls, "%s", se.msg);
    }
    if (!R->failed) walk_steps(R, f->steps, f->nsteps, 0, open_step);
    /* pages are written for good as they end, unless an import keeps its writes until the run ends well */
    R->pages_final = 1;
    for (int i = 0; i < R->nsteps; i++)
        if (R->steps[i].def && R->steps[i].def->kind == FLOW_STEP_IMPORT && (!R->steps[i].c || R->steps[i].c->commit_at_finish))
            R->pages_final = 0;
    R->typed = typed_run(R);
    R->pipe = !R->failed && pipe_run(R);
    if (R->pipe) eng_mark_tails(R, f->steps, f->nsteps, 1);   /* (the steps' ids are known good only then) */
    R->rows.type = f->steps[0].type;
    R->rows.arena = &R->arena;
    for (int i = 0; i < R->nsteps; i++) R->lookups |= R->steps[i].def && R->steps[i].def->kind == FLOW_STEP_LOOKUP;
    if (!R->failed && R->rl.retry) retry_pages(R);
    else if (!R->failed) export_pages(R, &R->steps[f->steps[0].id]);
    eng_pipe_free(R);
    flow_arena_free(&R->arena);
    flow_buf_free(&R->tbuf);
    eng_rows_free(&R->rows);

    /* the end: commit (or discard) what the connections wrote */
    for (int i = 0; i < R->nsteps; i++) close_step(R, &R->steps[i]);
    for (int i = 0; i < p->nconns; i++) {
        ConnRt *c = &R->conns[i];
        if (!c->state) continue;
        FlowErr e;
        c->committed = !R->failed;
        if (c->c->finish && c->c->finish(c->state, !R->failed, &e) < 0) {
            c->committed = 0;
            eng_run_fail_cls(R, e.cls, "connection %s: %s", c->def->name, e.msg);
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
        eng_settings_free(c->s);
    }
    free(R->conns);
    for (int i = 0; i < R->nsteps; i++) { free(R->steps[i].items); free(R->steps[i].owner); }
    free(R->steps);
    eng_inst_spares_free(R);
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
                eng_run_fail_cls(R, se.cls, "%s", se.msg);
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
        int64_t now = flow_wall_ms();
        st->failed = R->failed;
        if (flow_state_run_end(R->rl.state, f->name, R->rl.run_id, R->rl.started_ms, now, st, advance, layout, &se))
            eng_run_fail_cls(R, se.cls, "%s", se.msg);
        const char *days = getenv("FLOW_ERROR_RETENTION_DAYS");
        double d = days && *days ? atof(days) : 30;
        if (d > 0 && flow_state_purge(R->rl.state, R->rl.started_ms - (int64_t)(d * 86400000.0), &se)) eng_run_fail_cls(R, se.cls, "%s", se.msg);
        /* the run history: a schedule every second would keep 86,400 rows a day */
        days = getenv("FLOW_RUN_RETENTION_DAYS");
        d = days && *days ? atof(days) : 90;
        if (d > 0 && flow_state_runs_purge(R->rl.state, R->rl.started_ms - (int64_t)(d * 86400000.0), &se)) eng_run_fail_cls(R, se.cls, "%s", se.msg);
    }
    free(R->delta_field);
    free(R->once_flag);
    if (ri->mocks) {   /* a preview's or a test's view of the run never shows a secret */
        if (ri->mocks->captured) eng_redact_tree(R, ri->mocks->captured->child);
        if (ri->mocks->trace) eng_redact_tree(R, ri->mocks->trace->child);
    }
    for (int i = 0; i < R->nsecrets; i++) free(R->secrets[i]);
    free(R->secrets);
    flow_scratch_reset(cx);
    flow_clear_error(cx);
    for (int i = 0; i < R->nslots; i++) flow_ctx_set_lookup(cx, i, NULL);
    st->failed = R->failed;
    return R->failed ? -1 : 0;
}
