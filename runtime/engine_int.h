/* engine_int.h — private to the engine's files (engine.c, steps.c, settings.c, validate.c,
 * errors.c, trace.c, probe.c): the run's own types (Run, its connections and steps, the records on their
 * way) and the functions those files share, prefixed eng_. FlowSettings stays private to
 * settings.c. Nothing outside these files includes it: the public headers are flow.h (generated
 * code) and engine.h (connectors, the CLI, flowc). */
#ifndef FLOW_ENGINE_INT_H
#define FLOW_ENGINE_INT_H

#include "engine.h"
#include <stddef.h>
#include <stdio.h>

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
    int tail;                /* nothing runs after this step on a record's way (pipelined writes) */
    /* an import's per-page arrays, kept from page to page (grown, never shrunk; freed with the run) */
    struct FlowImportItem *items;
    struct Inst **owner;
    int cap;
} StepRt;

typedef struct Inst {        /* a record (or a copy of it after an all_matching branch) on its way */
    cJSON *rec;              /* NULL while only its typed form exists (eng_inst_rec makes it) */
    const FlowTSlot *trec;   /* typed: the record decoded into slots (the page arena), or NULL */
    const char *raw; size_t rawn;   /* typed: its JSON text as exported (the page arena) */
    const FlowRowPlan *plan; const FlowVal *cols;   /* typed: or its row's columns (rows.c; the page arena) */
    char *trace;             /* its trace key (owned), when the run keeps state */
    cJSON **lk;              /* lookup results by step id (owned; the array is allocated with the entry) */
    long seq;                /* its position in the page: arms merge back in this order */
    long ord;
    int imported;
    struct Inst *spare;      /* freed entries wait in Run.spare for the next record (no malloc per record) */
} Inst;

typedef struct List { Inst **v; int n, cap; } List;

/* the counters a page may have to give back (an interruption, a failed write of the page before) */
typedef struct Counts { long exported, ignored, errors, by_class[FLOW_ERR_COUNT]; } Counts;

/* Pipelined writes (steps.c): a page an import has sent (import_send) and not yet finished, its
 * records and arrays kept as they were; pages in flight are finished in the order sent. */
typedef struct Pending {
    StepRt *s;
    struct FlowImportItem *items;   /* the step's arrays, swapped with these when it sends */
    Inst **owner;
    int n, cap;
    int64_t page;                   /* the page it belongs to */
    int page_done;                  /* that page has ended but for it: its end (eng_page_done) waits too */
    FlowBuf buf;                    /* its typed maps' text (swapped with Run.tbuf when it sends) */
    FlowArena arena;                /* its page's arena, parked here when the page ended before it */
    size_t bytes;                   /* its page's size as exported */
    Counts was, fl;                 /* the counters as its page began, and Run.flushed then */
} Pending;

/* typed rows (engine.h; rows.c): what SQL exports offer their rows to */
struct FlowRows {
    const FlowTypeDef *type;       /* the export's declared record type */
    FlowArena *arena;              /* the page's: slots, the columns kept, their text */
    FlowRowPlan **plans; int nplans;   /* every statement's, freed with the run */
    /* the row flow_rows_take took last: its slots, columns and size (as sent, or as eng_json_size gives it) */
    const FlowTSlot *took; const FlowRowPlan *took_plan; const FlowVal *took_cols; size_t took_bytes;
};

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
    int lookups;                   /* the flow has lookup steps (else no record carries a result) */
    int debug_lines;               /* lines written for a debug window (eng_debug_write) */
    FlowArena arena;
    FlowBuf tbuf;                  /* typed maps' output for the import being written */
    FlowRows rows;                 /* typed rows from an SQL export */
    const FlowTSlot *took; const char *took_raw; size_t took_rawn;   /* the record take_typed decoded last */
    Inst *spare;                   /* freed record entries, reused (freed with the run) */
    /* pipelined writes (steps.c): whether the run may keep pages in flight; the pages in flight, a
     * ring oldest first, and the bytes their pages hold; one being finished (finishing); the counters
     * finishing pages added since the run began (flushed); the counters, number and size of the
     * page being read; whether finishing a page failed the run after a later page was read
     * (pipe_failed: the pages from drop on are dropped, drop_was and drop_fl their counters) */
    int pipe;
    Pending pq[FLOW_PIPE_PAGES];
    int pq_head, pq_n;
    size_t pq_bytes;
    int finishing;
    Counts flushed;
    Counts page_was, page_fl;
    size_t page_bytes;
    int pipe_failed;
    int64_t drop;
    Counts drop_was, drop_fl;
} Run;

/* ---- steps.c: the records on their way, calling generated code, hooks, the step loop ---- */

void eng_list_push(List *l, Inst *in);
Inst *eng_inst_new(Run *R, cJSON *rec, long seq);
void eng_inst_free(Run *R, Inst *in);   /* its entry is kept for the next record */
void eng_inst_spares_free(Run *R);
void eng_list_free(Run *R, List *l);
cJSON *eng_inst_rec(Run *R, Inst *in);
void eng_list_materialize(Run *R, List *L);
void eng_list_traces(Run *R, List *L);
size_t eng_json_size(const cJSON *j);
size_t eng_num_size(double d);   /* a number's share of eng_json_size */
void eng_ctx_enter(Run *R, const Inst *in);
void eng_ctx_leave(Run *R);
void eng_take_error(Run *R, FlowErr *e, const char *what);
int eng_hook_list(Run *R, const StepRt *s, FlowHookFn fn, const char *point, List *L, int written);
void eng_too_large(Run *R, const StepRt *s, List *L, size_t bytes, const char *where);
void eng_run_steps(Run *R, const FlowStepDef *steps, int n, List *L);
extern const char *const eng_step_kind_names[];
/* pipelined writes: which steps are last on a record's way (StepRt.tail); every page in flight
 * finished, in order (its records' outcomes, hooks, counts; then its page's end when that waits for
 * it); as the page being read ends: the pages in flight finished unless the newest is its own
 * (settle), then its end made to wait for that one, its arena parked there (park: 1), or not (0) */
void eng_mark_tails(Run *R, const FlowStepDef *steps, int n, int tail);
void eng_pipe_flush(Run *R);
void eng_pipe_settle(Run *R);
int eng_pipe_park(Run *R);
void eng_pipe_free(Run *R);
void eng_counts_take(const Run *R, Counts *c);

/* ---- engine.c: a page's end ---- */

/* the records that came through resolve their open errors (when the run keeps state) */
void eng_resolve_list(Run *R, const List *L);
/* the rest of a page's end: the export told, the page's state committed (a page begun since gets
 * its transaction); arena (NULL for a retry's page): the page's arena — R->arena, or where it was
 * parked while its write was in flight — reset, and the progress reported */
void eng_page_done(Run *R, int64_t page, FlowArena *arena);

/* ---- rows.c: typed rows (engine.h) ---- */

cJSON *eng_row_tree(const FlowRowPlan *p, const FlowVal *cols);   /* the row's object, as the generic way reads it */
void eng_rows_free(FlowRows *r);

/* ---- settings.c: a connection's or step's settings, evaluated and checked ---- */

FlowSettings *eng_settings_new(Run *R, const char *owner, const FlowSettingDef *defs, int n, const char *kind, FlowSettingPlace at);
void eng_settings_free(FlowSettings *s);
int eng_eval_rs(Run *R, const StepRt *s, const Inst *in, cJSON **rs, FlowErr *e);
int eng_settings_per_record(const FlowSettings *s);
cJSON *eng_settings_take_log(FlowSettings *s);
/* a debug window: when the run records the requests of connection `conn` (FlowRunInfo's debug_conns),
 * the step's requests logged are written (eng_debug_write) */
void eng_settings_debug(FlowSettings *s, const char *conn);
int eng_settings_debugging(const FlowSettings *s);

/* ---- validate.c: exported records and lookup results against their declared type ---- */

int eng_coerce_text(Run *R, cJSON *rec, const FlowTypeDef *t, FlowErr *e);
int eng_accept_values(cJSON *j, const FlowTypeDef *t, const char *root, FlowErr *e);

/* ---- errors.c: run failures, record errors, secrets and their redaction ---- */

int eng_run_fail_cls(Run *R, FlowErrorClass cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int eng_run_fail(Run *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eng_rec_error(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, const cJSON *data);
void eng_rec_error_in(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, Inst *in);
void eng_rec_error_in_http(Run *R, const StepRt *s, FlowErrorClass cls, const char *msg, Inst *in, const cJSON *http);
char *eng_trace_key(const cJSON *rec);
void eng_collect_secrets(Run *R, const cJSON *j);
void eng_collect_param_secrets(Run *R);
void eng_redact_tree(const Run *R, cJSON *j);

/* ---- trace.c: a preview's trace of what each step received and passed on ---- */

cJSON *eng_trace_begin(Run *R, const StepRt *s, const List *L);
void eng_trace_end(cJSON *e, const StepRt *s, const List *L);
void eng_trace_export(Run *R, const StepRt *ex, const List *page);
void eng_preview_wrote(Run *R, const StepRt *s, const FlowImportItem *items, int n);
/* A debug window's line (takes exchange): {"connection", "flow", "step", "run_id", "at", "exchange"}
 * with every secret redacted, on the run's debug stream; at most FLOW_DEBUG_MAX_LINES per run. */
#define FLOW_DEBUG_MAX_LINES 500
void eng_debug_write(Run *R, const char *conn, const char *step, cJSON *exchange);
/* ...and what a step asked of an SQL connection (sqlite, postgres) being debugged, one line per page:
 * an export's or lookup's `sql` and `args` with the rows it read (`lookups`: the records looked up),
 * an import's `table` with the rows written and failed */
void eng_debug_sql(const StepRt *s, long rows, long failed);

#endif
