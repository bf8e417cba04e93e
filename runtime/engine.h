/* engine.h — the runtime's internal API between the engine (engine.c and the files beside it that
 * share engine_int.h), the connectors (conn_*.c) and the executable's CLI (cli.c): evaluated
 * settings, the connector table of callbacks and the settings each one reads, record errors, and
 * one flow's run with its counters.
 * Generated code never includes this header; it sees only flow.h. */
#ifndef FLOW_ENGINE_H
#define FLOW_ENGINE_H
#include "flow.h"
#include "dynlib.h"
#include <stdio.h>
#include <stdlib.h>

#define FLOW_PAGE_MAX_BYTES ((size_t)5 * 1024 * 1024)   /* a page may not exceed 5 MB */
#define FLOW_PAGE_SIZE_DEFAULT 20
/* pipelined writes (steps.c): at most this many pages in flight, holding at most this many bytes as
 * exported (but one page always) */
#define FLOW_PIPE_PAGES 256
#define FLOW_PIPE_BYTES ((size_t)2 * 1024 * 1024)

/* ---- memory (mem.c): these abort when memory runs out; a growing NUL-terminated string ---- */

void *flow_xcalloc(size_t n, size_t size);
void *flow_xrealloc(void *p, size_t n);
char *flow_xstrdup(const char *s);
typedef struct FlowSb { char *p; size_t n, cap; } FlowSb;
void  flow_sb_put(FlowSb *b, const char *s, size_t n);
void  flow_sb_puts(FlowSb *b, const char *s);
char *flow_sb_take(FlowSb *b);   /* the string (owned by the caller; "" when nothing was put); b is emptied */
/* s[0..n) in base64 (RFC 4648, with padding), malloc'd: a basic credential, in one place for the
 * http connector that sends it and the engine that redacts it. */
char *flow_base64(const char *s, size_t n);

/* ---- record errors and run failures ---- */

typedef struct FlowErr { FlowErrorClass cls; char msg[1024]; } FlowErr;
void flow_err_set(FlowErr *e, FlowErrorClass cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* no error yet: the class and an empty message, without clearing the whole 1 KB */
static inline void flow_err_clear(FlowErr *e) { e->cls = 0; e->msg[0] = 0; }

/* ---- settings ----
 * Every connection kind's settings, per place, are in one table (runtime/connectors.def, which the
 * checker reads too; runtime/connectors.c): the engine rejects settings the table does not know for
 * the connection's kind, checks the evaluated values' types and the required ones, and hands the
 * connector a FlowSettings. The mock connector of tests and previews is checked by the table of the
 * kind it stands in for. Constant settings are evaluated once per run; per-record ones arrive per
 * record as a JSON object `rs` (name -> value) next to the record. */
typedef enum { FLOW_AT_CONN, FLOW_AT_EXPORT, FLOW_AT_LOOKUP, FLOW_AT_IMPORT } FlowSettingPlace;
typedef enum {
    FLOW_SETT_STRING,   /* a string */
    FLOW_SETT_INT,      /* a whole number (within its RANGE, if it has one) */
    FLOW_SETT_NUMBER,   /* a number (within its RANGE, if it has one) */
    FLOW_SETT_WORD,     /* one of the words of its `word:a|b` type; a JSON null reads as the word "null" */
    FLOW_SETT_CTOR,     /* a constructor {"ctor": NAME, ...} or its bare NAME, of its `ctor:K` type */
    FLOW_SETT_ARGS,     /* a JSON array */
    FLOW_SETT_BOOL,     /* true or false */
    FLOW_SETT_ANY,
    FLOW_SETT_EXPR      /* not evaluated up front: the connector evaluates it when it needs it, with
                           flow_setting_eval (an export's `stop`, over each response) */
} FlowSettingType;
/* The flags of a SET line in connectors.def (written there REQ, OPT, SECRET, STEP). */
enum { FLOW_SETF_REQ = 1, FLOW_SETF_OPT = 2, FLOW_SETF_SECRET = 4, FLOW_SETF_STEP = 8 };
typedef struct FlowSettingSpec {
    const char *kind;       /* the connection kind: "http", "file", ... */
    FlowSettingPlace at;
    const char *name;
    FlowSettingType type;
    const char *ctype;      /* the checker's type ("string", "word:GET|POST", "ctor:mode", ...) */
    int required, secret;
    int step;               /* one value for the whole step: it cannot depend on the record */
} FlowSettingSpec;
extern const FlowSettingSpec flow_setting_specs[];   /* every kind's, in connectors.def's order */
extern const int flow_nsetting_specs;
/* The connection kinds of connectors.def, in its order (a kind's index is its number in the IR),
 * NULL-terminated; flow_conn_kind: the index of a name, or -1. */
extern const char *const flow_conn_kinds[];
int flow_conn_kind(const char *name);
/* The entry for a setting of a kind at a place; NULL when the kind takes no such setting there. */
const FlowSettingSpec *flow_setting_spec(const char *kind, FlowSettingPlace at, const char *name);
/* Whether a WORD or CTOR setting accepts the word / the constructor's name. */
int  flow_setting_accepts(const FlowSettingSpec *sp, const char *word);
/* Whether argument `param` of constructor `ctor` is a secret (its type is `secret` in builtins.def:
 * hmac's secret, token's value, basic's password, ...). */
int  flow_ctor_param_secret(const char *ctor, const char *param);
/* What it accepts, for messages: "a,b,c" */
void flow_setting_choices(const FlowSettingSpec *sp, char *buf, size_t cap);
/* A number setting's bounds (RANGE in connectors.def, in its unit: ms for a duration): 1 with *lo,
 * *hi, or 0 when unbounded. */
int  flow_setting_range(const char *name, double *lo, double *hi);
/* 1 with why ("must be between 1ms and 1h, got 2h") when v is outside the RANGE of setting `name`;
 * ctype is the setting's checker type ("duration" says the bounds as durations). 0 when in range or
 * unbounded. The checker (constants) and the engine (evaluated values) both ask this. */
int  flow_setting_check_range(const char *name, const char *ctype, double v, char *why, size_t cap);

/* The file connector's one rule for `file` (export names and globs, import names): NULL with the
 * cleaned relative name in *clean (malloc'd), or why not ("is an absolute path: ..."), to be said as
 * `file "NAME" WHY`. The runtime applies it to every name, the checker to constant ones. */
const char *flow_file_name_rule(const char *name, char **clean);

typedef struct FlowSettings FlowSettings;
/* The value of a setting: this record's (from rs) when it is per record, else the constant one;
 * NULL when absent. */
const cJSON *flow_setting(const FlowSettings *s, const cJSON *rs, const char *name);
const char  *flow_setting_str(const FlowSettings *s, const cJSON *rs, const char *name, const char *dflt);
/* A constructor or word setting's name ("upsert" for {"ctor":"upsert",...} or "upsert"). */
const char  *flow_setting_ctor(const FlowSettings *s, const cJSON *rs, const char *name, const char *dflt);
/* "connection files" or "import deals": for messages */
const char  *flow_settings_owner(const FlowSettings *s);
/* Evaluates a setting again now, with page.number = page (when page > 0) and `response` (when not
 * NULL) in scope: for settings that depend on the page (an export's path and query), on a response
 * (`stop`) or that are FLOW_SETT_EXPR. A fresh tree; NULL when the setting is absent (err->msg
 * empty) or its evaluation failed (err says why). */
cJSON       *flow_setting_eval(const FlowSettings *s, const char *name, int64_t page, const cJSON *response, FlowErr *err);
/* The run these settings belong to: its flow's name, and its info (run id, the state store: NULL
 * in previews and tests). */
const char  *flow_settings_flow(const FlowSettings *s);
struct FlowRunInfo;
const struct FlowRunInfo *flow_settings_run(const FlowSettings *s);
/* Whether the run is an `errors retry` (a file import then adds to what its files hold). */
int          flow_settings_retrying(const FlowSettings *s);
/* Whether the step's requests are being traced (a preview), and a request to add to its trace
 * (the engine takes it; secrets are redacted before anyone sees it). */
int          flow_settings_tracing(const FlowSettings *s);
void         flow_settings_log(const FlowSettings *s, cJSON *exchange);

/* ---- connectors ---- */

enum { FLOW_USE_EXPORT = 1, FLOW_USE_LOOKUP = 2, FLOW_USE_IMPORT = 4 };
/* what a step of that kind uses its connection for (0: it has none) */
static inline unsigned flow_step_use(int kind) {
    return kind == FLOW_STEP_EXPORT ? FLOW_USE_EXPORT : kind == FLOW_STEP_LOOKUP ? FLOW_USE_LOOKUP : kind == FLOW_STEP_IMPORT ? FLOW_USE_IMPORT : 0;
}
/* export_next results */
enum { FLOW_NEXT_RECORD, FLOW_NEXT_ERROR, FLOW_NEXT_END, FLOW_NEXT_FAIL, FLOW_NEXT_TYPED };

typedef struct FlowExportItem {
    cJSON *rec;        /* RECORD: the record (an object; the engine takes it). ERROR: the data to keep
                          with the error (e.g. the raw line as a string), or NULL */
    size_t bytes;      /* the record's size in the source; 0 when unknown */
    int text_values;   /* every value arrived as text (CSV): the engine reads them as the declared types */
    FlowErr err;       /* ERROR: the record error */
    /* Set by the engine when it can take records typed (flow.h, typed records). A reader of JSON
     * text offers each record's text to typed() before parsing it; when that answers 0 the engine
     * has the record, and export_next answers FLOW_NEXT_TYPED (rec NULL, bytes set). Otherwise the
     * reader goes on as always. */
    int (*typed)(void *arg, const char *text, size_t n);
    void *typed_arg;
    /* Set by the engine too: a reader of rows offers each row to it (typed rows, below). */
    struct FlowRows *rows;
} FlowExportItem;

/* ---- PostgreSQL's binary COPY values (pg_binary.c) ----
 * Each writes a whole field (its length word, then its bytes) made from the text the text format
 * would send, when it can give exactly the value the server's input function reads from that text
 * (0); else it writes nothing (-1). */
void flow_pgbin_len(FlowSb *b, int32_t len);
/* n bytes as they are (text, json), after a format version byte when version >= 0 (jsonb: 1) */
void flow_pgbin_bytes(FlowSb *b, int version, const char *s, size_t n);
void flow_pgbin_float8(FlowSb *b, double d);
/* -?[0-9]{1,19} within the range of an integer of `bytes` (2, 4, 8) */
int  flow_pgbin_int(FlowSb *b, const char *s, size_t n, int bytes);
int  flow_pgbin_int_val(FlowSb *b, int64_t v, int bytes);   /* the value itself; -1 out of range */
/* -?D+(.D+)?([eE][+-]?D+)? (at most 1000 digits, exponent within ±1000) as a numeric, with the
 * display scale numeric_in gives it (the server applies the column's typmod to both alike) */
int  flow_pgbin_numeric(FlowSb *b, const char *s, size_t n);
/* YYYY-MM-DD[T ]hh:mm:ss[.f{1,6}][Z|±hh:mm] (years 1-9999, a real date, hours to 23, seconds to 59)
 * as microseconds since 2000-01-01 00:00 UTC: the offset applied for a timestamptz (tz), ignored
 * for a timestamp, as the server does (the session's zone is UTC) */
int  flow_pgbin_ts_micros(const char *s, size_t n, int tz, int64_t *us);
int  flow_pgbin_timestamp(FlowSb *b, const char *s, size_t n, int tz);

/* ---- typed rows (rows.c): an SQL export's rows straight into typed records (flow.h) ----
 * When the engine takes records typed, FlowExportItem.rows is set. A connector that reads rows of
 * typed columns matches its statement's column names to the export's declared fields once
 * (flow_rows_plan; NULL when its rows cannot be typed: a column name that is not UTF-8, a declared
 * field that may not be missing is no column), then offers each row's values to flow_rows_take as
 * the kinds the generic way's object holds: null, bool, int (exact over the whole int64 range),
 * number (a double) and string (p[0..n), copied; it need not be NUL-terminated). 0: the engine has
 * the record, and export_next answers FLOW_NEXT_TYPED. -1: the row is not one the generic way takes
 * unchanged and reads the same (a misfit of a declared field, text that is not UTF-8 or holds a
 * NUL, a number that is not finite, another kind), so the connector builds the row's object as
 * always, and the generic way reports it. Undeclared columns are kept for the record's tree (what
 * errors and steps without a typed variant see) but are no slots; of equal names the first counts.
 * sent: the row's size as the connector counts it for the generic way's record (FlowExportItem.bytes,
 * what the page's size limit adds up), or 0 when that is the size of its JSON text.
 * The plan lives as long as the run. */
typedef struct FlowRows FlowRows;
typedef struct FlowRowPlan FlowRowPlan;
const FlowRowPlan *flow_rows_plan(FlowRows *r, int n, const char *const *names);
int flow_rows_take(FlowRows *r, const FlowRowPlan *p, const FlowVal *cols, size_t sent);
/* A declared field that is missing (is_null 0) or null (1): a null slot in *out, 0 when the type
 * allows it (validate.c's rule), else -1. json_read.c's typed decoder and typed rows share it. */
int flow_tslot_absent(const FlowTypeDef *t, int is_null, FlowTSlot *out);

/* A page's item's record error: its class and message (NULL until the record fails). An item is
 * ~100 bytes, so that the pages the engine keeps in flight (FLOW_PIPE_PAGES, each with its items)
 * cost no more than their records; a FlowErr's 1 KB message is for the run's own errors. */
typedef struct FlowItemErr { FlowErrorClass cls; char *text; } FlowItemErr;

typedef struct FlowImportItem {
    const cJSON *out;  /* the object to write (the map's output); NULL when text holds it */
    const char *text;  /* a typed map's output as JSON text (connectors with import_text only) */
    size_t textn;
    /* a typed map's output as values (connectors with import_vals only; out and text NULL): tout->v[i]
     * is column names[i] when tout->has[i] (flow.h, FlowTOut), for i < nnames */
    const FlowTOut *tout;
    const char *const *names;
    int nnames;
    const cJSON *rs;   /* this record's per-record settings, or NULL */
    int failed;        /* set by the connector for a record that could not be written... */
    FlowItemErr err;   /* ...with its error: both set by flow_import_fail only (ownership: below) */
    cJSON *http;       /* ...and, optionally, the request and response behind it (engine frees) */
    cJSON *response;   /* optionally set by the connector: what the destination answered (engine frees) */
    cJSON *existing;   /* upsert: the destination's record (import_existing_page sets it; engine frees);
                          NULL creates */
} FlowImportItem;

/* One record's lookup, for connectors that look up a page at once */
typedef struct FlowLookupItem {
    const cJSON *rs;   /* the record's per-record settings, or NULL */
    int failed;        /* set by the connector: a record error in err (flow_lookup_fail) and http... */
    FlowItemErr err;
    cJSON *http;
    cJSON *rows;       /* ...or the rows found: a fresh JSON array (engine frees) */
} FlowLookupItem;

/* A record error on a page's item, set by the connector through these only, never by hand:
 * flow_import_fail / flow_lookup_fail set the item's failed and its error's class and message (the
 * message formatted as flow_err_set formats a FlowErr's, so it reads the same, cut at the same
 * 1023 bytes; a second failure of the item replaces the first), and flow_import_unfail takes them
 * back (a page's retry). The message is allocated then and only then, and belongs to the item: the
 * engine frees it where it frees the item (steps.c, import_item_free and the lookup's loop), so a
 * connector never frees it and never copies an item's err into another item. */
void flow_import_fail(FlowImportItem *it, FlowErrorClass cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void flow_lookup_fail(FlowLookupItem *it, FlowErrorClass cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void flow_item_err_free(FlowItemErr *e) {
    if (e->text) { free(e->text); e->text = NULL; }   /* (most items: nothing to free, no call) */
    e->cls = 0;
}
static inline void flow_import_unfail(FlowImportItem *it) { it->failed = 0; flow_item_err_free(&it->err); }
/* the message: "" for an item marked failed with none */
static inline const char *flow_item_msg(const FlowItemErr *e) { return e->text ? e->text : ""; }

typedef struct FlowConnector {
    const char *kind;
    int sql;                /* the steps run a statement (`sql`/`args`) or name a `table`: a debug window
                               records each page's statement and row counts (eng_debug_sql) */
    int upsert_by_lookup;   /* an upsert is decided by looking the record up (http's exists request),
                               so the lookup runs whatever the map needs */
    int import_text;        /* import_page also takes items whose output is JSON text (out NULL, text set) */
    int import_vals;        /* ...or values (out NULL, tout set): preferred over text */
    int commit_at_finish;   /* imports are durable only when finish commits them (files): a run whose
                               connection did not commit counts none of its imports' records, and a page
                               is not written for good when it ends (the others' pages are) */
    /* a connection: its state, or NULL with err (the run fails). uses: FLOW_USE_* of this flow */
    void *(*open)(const FlowSettings *s, unsigned uses, FlowErr *err);
    /* the end of a flow's run: ok=1 commits what was written (renames files), ok=0 discards. 0 / -1 */
    int   (*finish)(void *conn, int ok, FlowErr *err);
    void  (*close)(void *conn);
    /* exports: export_next returns FLOW_NEXT_* */
    void *(*export_open)(void *conn, const FlowSettings *s, FlowErr *err);
    int   (*export_next)(void *ex, FlowExportItem *it, FlowErr *err);
    void  (*export_close)(void *ex);
    /* once(flag, ...): after a page went through the flow, sets the flag in the source for its
     * records. marks: an array, one per record, of {"record": the record as exported, "mode": the
     * mode setting evaluated for it}. Optional (a connector without it refuses once()); 0 or -1 */
    int   (*export_mark)(void *ex, const cJSON *marks, FlowErr *err);
    /* optional: a page of its records went through the flow and every destination has committed it
     * (the engine calls it only then, inside the page's state transaction; never when an import of
     * the flow commits at finish). 0, or -1 (the run fails) */
    int   (*export_page_done)(void *ex, FlowErr *err);
    /* lookups: 0 with *rows a fresh JSON array (caller owns), 1 a record error in err, -1 the run fails */
    void *(*lookup_open)(void *conn, const FlowSettings *s, FlowErr *err);
    int   (*lookup)(void *lk, const cJSON *rs, cJSON **rows, FlowErr *err);
    /* optional, preferred over lookup: a page's lookups at once (concurrently); 0, or -1 the run fails */
    int   (*lookup_page)(void *lk, FlowLookupItem *items, int n, FlowErr *err);
    void  (*lookup_close)(void *lk);
    /* imports: import_page writes a page (per-record failures in items, flow_import_fail), 0, or -1
     * the run fails. import_existing (optional) finds the destination's record for an upsert: 0 with
     * *existing a fresh object or NULL, 1 a record error, -1 the run fails. */
    void *(*import_open)(void *conn, const FlowSettings *s, FlowErr *err);
    int   (*import_existing)(void *im, const cJSON *rs, const cJSON *out, cJSON **existing, FlowErr *err);
    /* optional, preferred over import_existing: a page's upsert lookups at once; sets each item's
     * existing (or its failure, flow_import_fail, and http). 0, or -1 the run fails */
    int   (*import_existing_page)(void *im, FlowImportItem *items, int n, FlowErr *err);
    int   (*import_page)(void *im, FlowImportItem *items, int n, FlowErr *err);
    /* optional, both or neither: import_page in two halves, so that a page's write overlaps the
     * engine's work on the next page. import_send starts writing the page (0, or -1 the run fails:
     * nothing was started); import_finish waits for it and reports as import_page does (per-record
     * failures in items, 0, or -1 the run fails). The engine keeps the items, and what they point
     * to, as they were until import_finish, and calls import_finish for every page sent before it
     * sends the next one (unless the connector has import_ready, below), before anything may read
     * what the page wrote (a lookup, an upsert's lookup, another import, a hook), and before the run
     * ends or fails (steps.c, "pipelined writes"). Where the engine does not pipeline, it calls the
     * two one after the other. */
    int   (*import_send)(void *im, FlowImportItem *items, int n, FlowErr *err);
    int   (*import_finish)(void *im, FlowImportItem *items, int n, FlowErr *err);
    /* optional, with the two above: the connector takes a page's bytes at import_send and writes
     * them later, several pages at once (stdio, files: writer.c; postgres: one COPY for them). The
     * engine may then keep several of the step's pages sent (up to FLOW_PIPE_PAGES, FLOW_PIPE_BYTES),
     * and finishes them strictly in the order sent: import_finish finishes the oldest page not
     * finished yet (writing it, with the pages before it, when its bytes are not out yet; postgres:
     * its stream ended and committed, and what a failure calls for done). import_ready answers how many of those
     * pages, oldest first, import_finish can finish now without waiting. Pages the engine drops after
     * a failed write are never finished; the connector writes nothing more after a failure. */
    int   (*import_ready)(void *im);
    void  (*import_close)(void *im);
    /* optional: proves the connection works outside a run (probe.c: `ping`, flowc server's POST
     * /v1/connections/{id}/test) and changes nothing (no file, directory or database is created):
     * the cheapest thing that shows a run could use it for `uses` (FLOW_USE_*). 0 with what it
     * learned added to info (an object), or -1 with err, of the class a run would record. */
    int   (*probe)(const FlowSettings *s, unsigned uses, cJSON *info, FlowErr *err);
    /* the library its calls go to (FlowLib, dynlib.h: loaded when first used), loaded before open and
     * probe so that a missing one fails the connection naming it; 0 (FLOW_LIB_NONE): none */
    int lib;
} FlowConnector;

/* A destination's bytes written by a thread of their own (writer.c), for imports that write to a
 * file descriptor (stdio, file), several pages at once. The engine thread appends bytes
 * (flow_writer_put: 0, or -1 when memory ran out) and marks where a page's bytes end
 * (flow_writer_mark: an offset in the stream written); once the bytes marked hold 64 KB they go to
 * the thread, which writes them while the engine works on the next pages (one buffer written at a
 * time). flow_writer_unput takes back what was put after a mark (not handed over yet).
 * flow_writer_out: whether every byte before a mark is written: 0 yes; the errno of the write that
 * failed (the bytes before it are out); or, wait 0, EAGAIN when not yet (wait 1 writes them now,
 * with what came before, and waits). After a failure nothing more is written. flush: everything
 * put written now (0, or the errno); written: how many bytes are (the stream's offset).
 * The pages of one import (stdio): page_end marks a page's end and keeps it, oldest first;
 * page_drop takes back what the page being put put; ready: how many of the pages kept can be
 * finished without waiting (their bytes are out, or the write that failed cut them); finish:
 * the oldest page's flow_writer_out, waited for. flow_writer_free waits for the write going on;
 * what was not handed over is not written. */
typedef struct FlowWriter FlowWriter;
FlowWriter *flow_writer_new(int fd);
int      flow_writer_put(FlowWriter *w, const char *p, size_t n);
uint64_t flow_writer_mark(FlowWriter *w);
void     flow_writer_unput(FlowWriter *w, uint64_t mark);
int      flow_writer_out(FlowWriter *w, uint64_t end, int wait);
int      flow_writer_flush(FlowWriter *w);
uint64_t flow_writer_written(const FlowWriter *w);
void     flow_writer_page_end(FlowWriter *w);
void     flow_writer_page_drop(FlowWriter *w);
int      flow_writer_ready(FlowWriter *w);
int      flow_writer_finish(FlowWriter *w);
void     flow_writer_free(FlowWriter *w);
/* Writes all n bytes to fd (a short write goes on, EINTR is retried): 0, or the errno of the failure. */
int flow_write_all(int fd, const char *p, size_t n);

/* What an import sends for a record, as previews and tests show it: its rendered `body` (parsed when
 * it is JSON) when the import has one, else the mapped output. A fresh tree. (conn_mock.c) */
cJSON *flow_import_sent(const FlowSettings *s, const FlowImportItem *it);

extern const FlowConnector flow_conn_file, flow_conn_stdio, flow_conn_sqlite, flow_conn_http, flow_conn_postgres, flow_conn_mock,
    flow_conn_webhook;
const FlowConnector *flow_connector(const char *kind);

/* Record readers (conn_file.c) over a file descriptor, read through a buffer of their own: a read
 * error (or memory running out) fails the read with FLOW_NEXT_FAIL, never looks like the end.
 * NDJSON, shared by the file and stdio connectors: one record per line; blank lines are skipped; a
 * malformed line is a `parse` error naming its line, a line over FLOW_PAGE_MAX_BYTES a `too_large`
 * error (it is counted, not kept in memory). `name` is used in messages. */
typedef struct FlowNdjson FlowNdjson;
FlowNdjson *flow_ndjson_open(int fd, const char *name, int close_fd);
int         flow_ndjson_next(FlowNdjson *r, FlowExportItem *it, FlowErr *err);
void        flow_ndjson_close(FlowNdjson *r);
/* CSV (RFC 4180) with a header row: each row an object of strings (text_values); a malformed row
 * is one `parse` error and reading resumes at the line after its first line (see conn_file.c).
 * flow_csv_open reads the header: NULL with err when it cannot be read or is malformed. */
typedef struct FlowCsv FlowCsv;
FlowCsv    *flow_csv_open(int fd, const char *name, int close_fd, FlowErr *err);
int         flow_csv_next(FlowCsv *c, FlowExportItem *it, FlowErr *err);
void        flow_csv_close(FlowCsv *c);
/* For the fuzz targets: at most n bytes per read() (0: no limit), so buffer refills are exercised. */
void        flow_read_limit(size_t n);

/* SQL text (sql.c) for the sqlite and postgres connectors: an identifier in double quotes; the table
 * an export reads (the name after its first FROM; malloc'd, or NULL); once()'s
 * `UPDATE table SET flag = TRUE_TEXT WHERE key = PARAM` for a page of marks (*key: the key field),
 * malloc'd, or NULL with err. */
void        flow_sql_ident(FlowSb *b, const char *s);
char       *flow_sql_from_table(const char *sql);
char       *flow_sql_once_update(const char *sql, const cJSON *marks, const char *true_text, const char *param,
                                 const char **key, FlowErr *err);
/* an SQL import's `table` and, for mode = upsert(key), its key (NULL for insert); both malloc'd.
 * 0, or -1 with err */
int         flow_sql_import_target(const FlowSettings *s, char **table, char **key, FlowErr *err);
/* A result column's name as a key that lives as long as the process (interned: one copy per distinct
 * name), for rows built with cJSON_AddItemToObjectCS: no copy of the name per row. NULL once a few
 * thousand names are held (a flow that names its columns per record): the caller copies then. */
const char *flow_sql_key(const char *name);

/* ---- the text layouts of datetimes (timelayout.c) ----
 * A delta field written as text is compared as text by the source: `updated_at > ?` with
 * `2026-12-05T22:03:50.559Z` misses `2026-12-05 22:03:55` (a space sorts before T). The engine learns
 * the field's layout from the records, keeps it with the delta time, and binds the window in it. */
typedef struct FlowTimeLayout {
    char known;                /* 0: nothing learned (or layouts mixed): bind loosely */
    char date_only;            /* YYYY-MM-DD */
    char sep;                  /* between date and time: 'T', 't' or ' ' */
    char seconds;              /* HH:MM:SS (else HH:MM) */
    char frac;                 /* '.' or ',' before a fraction (when max_digits) */
    unsigned char min_digits, max_digits;   /* fraction digits seen, 0..9 */
    char zone[8];              /* "" (read as UTC), "Z", "z", or an offset as written: "+01:00", "-0500", "+01" */
} FlowTimeLayout;
/* the layout of one value's text (1), or 0 when it is not a date or date-time text */
int     flow_time_layout_of(const char *s, size_t n, FlowTimeLayout *l);
/* the same layout as far as text order goes (fraction digits may differ) */
int     flow_time_layout_same(const FlowTimeLayout *a, const FlowTimeLayout *b);
void    flow_time_layout_merge(FlowTimeLayout *acc, const FlowTimeLayout *v);
/* the unit a value's text names, in ms: a day for a date, a second for HH:MM:SS, 1 ms for .123;
 * flow_time_layout_unit: the unit of the value a layout was read from (its finest) */
int64_t flow_time_unit(const char *s, size_t n);
int64_t flow_time_layout_unit(const FlowTimeLayout *l);
/* an instant in a layout (the layout's zone, its finest fraction); unknown: ISO 8601 UTC with ms */
void    flow_time_format(int64_t ms, const FlowTimeLayout *l, char *out, size_t cap);
/* The window (since, until] as an SQL export binds it, so that `field > ?` and `field <= ?` (or `<`)
 * compared as text in the layout return every record the window holds: since as the start of its
 * unit less one unit, until as the start of its (finest) unit; unknown layout: two days either
 * side, in ISO 8601. The engine drops what lies outside. */
void    flow_time_bind_window(const FlowTimeLayout *l, int64_t since, int64_t until, int64_t *a, char *ta, int64_t *b, char *tb,
                              size_t cap);
/* a layout as a pattern (`YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM:SS.fffZ`, `...SS[.ffffff]Z`) and back */
int     flow_time_layout_text(const FlowTimeLayout *l, char *out, size_t cap);
int     flow_time_layout_parse(const char *text, FlowTimeLayout *l);

/* While the engine evaluates an SQL export's settings in delta mode, flow_val_to_json writes the
 * window's two bound instants as these texts (value.c; per thread; n = 0 ends it). */
void    flow_datetime_texts(int n, const int64_t *ms, const char *const *text);

/* Creates a directory and its missing parents (mkdir -p); 0, or -1 with err. */
int         flow_mkdir_p(const char *dir, FlowErr *err);

/* ---- the state store (state.c): runs, delta times and the error store, one SQLite file per
 * integration (DIR/<integration>.state.db), or a PostgreSQL schema per integration ---- */

typedef struct FlowState FlowState;
/* NULL with err when the file cannot be created, is damaged, or is not a flowc state store (it is
 * never reset), or cannot be written unless read_only (the command only reads: a store on a
 * read-only file system is opened as it is). dir NULL: ./.flowstate */
FlowState  *flow_state_open(const char *dir, const char *integration, int read_only, FlowErr *err);
/* The same, where db says: NULL or "" the SQLite file in dir; a PostgreSQL DSN (flow_db_is_postgres)
 * the integration's schema flowstate_<integration> in that database, made on first use (dir is not
 * used). Messages show the DSN with its password redacted. */
FlowState  *flow_state_open_at(const char *db, const char *dir, const char *integration, int read_only, FlowErr *err);
/* Whether the SQLite store of integration in dir (NULL: ./.flowstate) is there (a run has kept state). */
int         flow_state_file_exists(const char *dir, const char *integration);
void        flow_state_close(FlowState *st);
const char *flow_state_path(const FlowState *st);
/* One run of a flow at a time per state directory (or PostgreSQL database), in every process: 0 with
 * *lock held (release it with flow_state_unlock), 1 when another process holds it (*holder: its pid,
 * 0 when unknown), -1 with err. A lock whose process ended, however it ended, is free. */
typedef struct FlowLock FlowLock;
int         flow_state_lock(FlowState *st, const char *flow, FlowLock **lock, long *holder, FlowErr *err);
void        flow_state_unlock(FlowLock *lock);
/* the pid the lock names (serve's child runs the flow under the lock serve took); the lock's file
 * descriptor (a child keeps it open, and the lock with it, even when serve is gone; -1 for a
 * PostgreSQL store's lock, which is its connection's and cannot be handed on) */
void        flow_state_lock_pid(FlowLock *lock, long pid);
int         flow_state_lock_fd(const FlowLock *lock);
int         flow_state_begin(FlowState *st, FlowErr *err);    /* a transaction for a page's writes */
int         flow_state_commit(FlowState *st, FlowErr *err);
void        flow_state_rollback(FlowState *st);                 /* drops the page's writes */
/* the start (ms) of the flow's last successful run; *have = 0 when it never succeeded */
int         flow_state_last_success(FlowState *st, const char *flow, int64_t *ms, int *have, FlowErr *err);
int         flow_state_run_begin(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, FlowErr *err);
/* the run's end; advance = 1 moves the flow's delta time to started_ms; layout (when not NULL) is
 * the delta field's layout to keep ("" forgets it) */
struct FlowRunStats;
int         flow_state_run_end(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, int64_t finished_ms,
                               const struct FlowRunStats *s, int advance, const char *layout, FlowErr *err);
/* the layout kept for the flow's delta field (a flow_time_layout_text pattern), "" when none */
int         flow_state_delta_layout(FlowState *st, const char *flow, char *out, size_t cap);
typedef struct FlowStateError {
    const char *flow, *step, *cls, *message;
    const char *record, *context, *http;    /* JSON texts (secrets redacted), or NULL */
    const char *run_id;
    int64_t at_ms;
    const char *trace_key;
} FlowStateError;
/* adds an error (an older open one with the same trace key is superseded); its id, or -1 */
long        flow_state_error_add(FlowState *st, const FlowStateError *e, FlowErr *err);
long        flow_state_open_errors(FlowState *st, const char *flow);      /* flow NULL: all */
int         flow_state_resolve_key(FlowState *st, const char *flow, const char *trace_key, const char *by, int64_t at_ms, FlowErr *err);
/* 0 resolved, 1 no such open error, -1 with err */
int         flow_state_error_resolve(FlowState *st, long id, const char *by, int64_t at_ms, FlowErr *err);
/* the errors as a JSON array (filters may be NULL; ids: only those); an edited error carries its
 * "history": the records it held before, oldest first */
cJSON      *flow_state_errors(FlowState *st, const char *flow, const char *cls, const char *step, const long *ids, int nids,
                              int open_only, FlowErr *err);
/* the same with every filter (zero fields: no filter), in id order, read by the store's query so that
 * a page costs what it holds (not the whole store) */
typedef struct FlowErrorQuery {
    const char *flow, *cls, *step, *run_id;
    const long *ids;            /* only these (nids of them) */
    int nids;
    int open_only;              /* status open */
    int resolved_only;          /* status resolved */
    long after_id;              /* ids above it */
    const int64_t *at_lo, *at_hi;   /* at_ms strictly between them (NULL: no bound) */
    long limit;                 /* at most this many (0: all); with ids: per id */
} FlowErrorQuery;
cJSON      *flow_state_errors_where(FlowState *st, const FlowErrorQuery *f, FlowErr *err);
/* replaces an open error's record (JSON text), keeping the old one in its history: 0, 1 no such
 * open error, -1 with err */
int         flow_state_error_edit(FlowState *st, long id, const char *record, const char *by, int64_t at_ms, FlowErr *err);
/* whether some kept error names this flow (step = 0) or this step (of flow, when not NULL) */
int         flow_state_knows(FlowState *st, int step, const char *flow, const char *name);
int         flow_state_purge(FlowState *st, int64_t before_ms, FlowErr *err);   /* resolved errors older than that */
cJSON      *flow_state_show(FlowState *st, const char *flow, FlowErr *err);
int         flow_state_reset(FlowState *st, const char *flow, FlowErr *err);
/* {"class": count} of the record errors a run kept, or NULL with err */
cJSON      *flow_state_run_error_classes(FlowState *st, const char *run_id, FlowErr *err);

/* The webhook queue (state.c, its own section): verified webhook requests as events holding their
 * records, until a run of the flow takes them. The listener writes through a FlowQueue, a
 * connection of its own whose commits are fsync'd (one user at a time: webhook.c holds a mutex). */
typedef struct FlowQueue FlowQueue;
FlowQueue  *flow_queue_open(FlowState *st, FlowErr *err);
void        flow_queue_close(FlowQueue *q);
/* One request's records (JSON texts) as one event, committed before it returns; delivery: its
 * redelivery key (NULL: none). 0 queued (*id), 1 the same delivery of this flow was received within
 * 24 h (nothing queued), -1 with err (class intermittent when the store stayed locked). */
int         flow_queue_add(FlowQueue *q, const char *flow, const char *delivery, int64_t now_ms, const char *const *records,
                           const size_t *lens, long n, int64_t *id, FlowErr *err);
/* A group of requests in one transaction (one fsync for all), each one event as flow_queue_add
 * queues it; an earlier one of the group counts for a redelivery. Each item's id, or dup when it
 * was a redelivery. 0, or -1 with err: none of them was queued. */
typedef struct FlowQueueItem {
    const char *flow, *delivery;
    const char *const *records; const size_t *lens; long n;
    int64_t id; int dup;                   /* out */
} FlowQueueItem;
int         flow_queue_add_batch(FlowQueue *q, FlowQueueItem *items, int n, int64_t now_ms, FlowErr *err);
long        flow_queue_pending(FlowQueue *q, const char *flow);   /* queued events; -1 when unreadable */
/* A run's side. claim: the flow's queued events become this run's, oldest first (records: how many
 * the event holds; taken: how many of them earlier runs took through pages every destination had
 * committed). records: up to max records of an event from seq `from` on, each handed to `each`
 * (which returns non-zero to stop); the number handed, or -1 with err. progress: the event's first
 * `taken` records are taken (a write of the page's transaction). The claimed events of a run that
 * ends well are done in flow_state_run_end's transaction. queue_done: the flow's queued events are
 * done now (a flow whose export is not `from webhook` takes its events when its run starts). */
typedef struct FlowQueuedEvent { int64_t id; long records, taken; } FlowQueuedEvent;
int         flow_state_queue_claim(FlowState *st, const char *flow, const char *run_id, FlowQueuedEvent **events, long *n, FlowErr *err);
int         flow_state_queue_records(FlowState *st, int64_t event, long from, int max,
                                     int (*each)(const char *text, size_t n, long seq, void *ud), void *ud, FlowErr *err);
int         flow_state_queue_progress(FlowState *st, int64_t event, long taken, FlowErr *err);
int         flow_state_queue_done(FlowState *st, const char *flow, const char *run_id, int64_t now_ms, FlowErr *err);
/* A secret_url() flow's secret: read from the store, or made there once (FLOW_WEBHOOK_SECRET_LEN
 * hex digits from getrandom; the store file becomes 0600). 0, or -1 with err. */
#define FLOW_WEBHOOK_SECRET_LEN 32
int         flow_state_webhook_secret(FlowState *st, const char *flow, char out[FLOW_WEBHOOK_SECRET_LEN + 1], FlowErr *err);

/* ---- runs ---- */

/* A step's name in messages and in the error store: its name, else its kind and line
 * ("transform (line 12)"). */
void flow_step_label(const FlowStepDef *d, char *out, size_t cap);

/* `flowc test`: every connection is the mock. The export and lookups take their data from `given`
 * (step name -> an array of records for the export, the rows for a lookup; a lookup not given finds
 * nothing; "existing" -> the record every upsert finds), imports write nothing and append what they
 * would send to `captured` (import name -> array; flow_import_sent), and record errors are
 * appended to captured["errors"] as {step, class, message, record}. */
typedef enum { FLOW_MOCK_TEST, FLOW_MOCK_PREVIEW } FlowMockMode;
typedef struct FlowMocks {
    const cJSON *given;
    cJSON *captured;
    FlowMockMode mode;   /* TEST: every connection is the mock. PREVIEW: real connections, but the
                            steps named in `given` and (unless live) every import use the mock */
    int live;            /* PREVIEW: imports really write */
    cJSON *trace;        /* PREVIEW: an array the engine fills, one entry per step run (see trace.c) */
    int limit;           /* PREVIEW: records of the first (and only) page, 1..100 */
} FlowMocks;

typedef struct FlowRunInfo {
    const FlowMocks *mocks;    /* NULL: real connections */
    int64_t started_ms;        /* run.started_at, delta.until (unless --until), now() */
    int64_t since_ms, until_ms;
    int since_set, until_set;  /* --since / --until: the window is given; the saved delta time does not move */
    int now_set;               /* --now: the clock is given (a testing aid); the saved delta time does not move */
    FlowState *state;          /* NULL: no state (tests, previews) */
    const cJSON *retry;        /* `errors retry`: the kept errors to run again (flow_state_errors entries) */
    char run_id[40];
    char run_date[16];         /* YYYY-MM-DD */
    int quiet_records;         /* record errors go to the error store only, not to `errs` (serve) */
    /* called after each page that went through the flow (the live progress line): the counters so
     * far and the pages done */
    void (*on_page)(void *arg, const struct FlowRunStats *st, long pages);
    void *on_page_arg;
    /* a connection debug window (flowc server's POST /v1/connections/{id}/debug): the requests of the
     * steps on the connections named in debug_conns (comma-separated), redacted, as NDJSON lines on
     * debug (trace.c); NULL: none */
    FILE *debug;
    const char *debug_conns;
} FlowRunInfo;
/* Proves the connection `conn` of the program works, outside a run (probe.c): its settings evaluated
 * as a run would (params and env() from cx), then its connector's probe for what the program's steps
 * use it for. *result: {"connection", "kind", "ok": true, "latency_ms", ...what the probe learned} or
 * {"connection", "kind", "ok": false, "class", "message"}, secrets redacted. 0 ok, 1 not ok, -1 no
 * such connection (*result NULL). */
int flow_conn_probe(const FlowProgram *p, FlowCtx *cx, const char *conn, cJSON **result);
/* For the probes of connections on files (file, sqlite): whether `path` (a directory when is_dir)
 * can be used as the run uses it (FLOW_USE_*), creating nothing: reading needs it to exist and be
 * readable; writing needs it writable or, when it does not exist yet, its nearest existing directory
 * writable (a run makes it). 0 with info's path, access, exists (and a note), or -1 with err. */
int flow_probe_path(const char *path, int is_dir, unsigned uses, cJSON *info, FlowErr *err);
/* Fills a run's identity from its start time (ms since the epoch). */
void flow_run_info_init(FlowRunInfo *ri, int64_t started_ms);
/* Sets the run-level contexts (run.*, delta.*, flow.name, page.*) of cx. */
void flow_run_set_contexts(FlowCtx *cx, const FlowRunInfo *ri, const char *flow, int64_t page, int64_t page_size);

typedef struct FlowRunStats {
    long marked;                  /* once(): records whose flag was set */
    const char *flow;
    long exported, ignored, errors;
    long by_class[FLOW_ERR_COUNT];
    int nimports;
    const char **import_names;    /* every import of the flow, in source order */
    long *imported;
    long not_written;             /* records imports had written that a failed run discarded (files) */
    int failed;                   /* the run failed (settings, input, output) */
    int refused;                  /* ...before it began, for what it was asked: --since/--until give an inverted window */
    int interrupted;              /* ...stopped by this signal (SIGTERM, SIGINT) at a safe point: the page being read
                                     was dropped, what the connections wrote discarded as for any failed run */
    const char *fail_class;       /* ...the class of the error behind it (connection, parse, value, ...) */
    char fail_msg[1200];
} FlowRunStats;

/* A run's status in the history (the state store's runs, `OUT runs`, serve's log and metrics):
 * X(id, name). running: not ended yet; skipped: not started, the flow was already running; crashed:
 * its process ended without recording its end (a crash in a hook or the runtime, kill -9). */
#define FLOW_RUN_STATUSES(X) X(RUNNING, "running") X(OK, "ok") X(RECORD_ERRORS, "record_errors") X(FAILED, "failed") \
    X(INTERRUPTED, "interrupted") X(SKIPPED, "skipped") X(CRASHED, "crashed")
typedef enum {
#define X(id, s) FLOW_RUN_##id,
    FLOW_RUN_STATUSES(X)
#undef X
    FLOW_RUN_STATUS_COUNT
} FlowRunStatus;
extern const char *const flow_run_status_names[FLOW_RUN_STATUS_COUNT];
FlowRunStatus flow_run_status_of(const FlowRunStats *s);   /* of a run that ended */
int           flow_run_status_parse(const char *name);      /* -1 for none */

/* ---- the run history (state.c) ----
 * serve writes a run's row before its process starts (why it runs: schedule, after, catch_up,
 * webhook, admin; when it was due, -1 for none; how late it started), then the run writes its
 * begin and end as any run does. */
int    flow_state_run_planned(FlowState *st, const char *flow, const char *run_id, int64_t started_ms, const char *trigger,
                              int64_t due_ms, int64_t drift_us, FlowErr *err);
int    flow_state_run_pid(FlowState *st, const char *flow, const char *run_id, long pid, FlowErr *err);
/* a start that did not happen (status skipped: the flow was already running; failed: its lock or
 * process could not be had): its row, with why */
int    flow_state_run_skipped(FlowState *st, const char *flow, const char *run_id, int64_t at_ms, const char *status,
                              const char *trigger, int64_t due_ms, int64_t drift_us, const char *message, FlowErr *err);
/* the run's process ended without recording its end: status crashed (or interrupted, or failed:
 * serve killed it, or could not start it), with why. 1 recorded, 0 the run had recorded its end,
 * -1 with err */
int    flow_state_run_abort(FlowState *st, const char *flow, const char *run_id, int64_t finished_ms, const char *status,
                            const char *message, FlowErr *err);
/* the flow's rows still `running` are marked crashed: called under the flow's lock, so no process
 * runs them. How many, or -1 with err */
int    flow_state_runs_abandoned(FlowState *st, const char *flow, int64_t now_ms, FlowErr *err);
/* one run as JSON ({run_id, flow, status, started_at, finished_at, duration_ms, exported, ignored,
 * imported, errors, trigger, due_at, drift_ms, pid, message}); NULL when there is none (err->msg
 * empty) or with err */
cJSON *flow_state_run_get(FlowState *st, const char *flow, const char *run_id, FlowErr *err);
/* the history, newest first, at most limit runs (<= 0: all); flow NULL: every flow's */
cJSON *flow_state_runs(FlowState *st, const char *flow, long limit, FlowErr *err);
/* every flow's runs that started before before_ms and ended (the history's retention) */
int    flow_state_runs_purge(FlowState *st, int64_t before_ms, FlowErr *err);
/* the start and end of the flow's last run that did not fail (ok or record_errors); *have 0: none */
int    flow_state_last_ok_run(FlowState *st, const char *flow, int64_t *started_ms, int64_t *finished_ms, int *have, FlowErr *err);

/* SIGTERM / SIGINT: the CLI's handler calls flow_interrupt(sig) (async-signal-safe); a run stops at
 * its next safe point (before a page's steps run, or between pages). flow_interrupt(0) clears it. */
void flow_interrupt(int sig);
int  flow_interrupted(void);
/* The handler of SIGTERM and SIGINT during runs (install it without SA_RESETHAND): the first of
 * each asks the run to stop at its next safe point (flow_interrupt); the same signal again ends the
 * process at once, but not within 250 ms of the first (one request delivered twice). */
void flow_stop_signal(int sig);

/* Runs flows[fi] of p: record errors go to `errs` (one line each, secrets redacted). Params must be
 * set in cx already. Returns 0 when the run finished (stats filled; errors may have occurred), -1 when
 * it failed (stats->fail_msg says why). Free stats with flow_run_stats_free. */
int  flow_run_flow(const FlowProgram *p, FlowCtx *cx, int fi, const FlowRunInfo *ri, FILE *errs, FlowRunStats *stats);
/* The stats of flows[fi] when it did not start (another process runs it): a failed run that counted
 * nothing, with its imports at 0, failing with cls and msg. Free with flow_run_stats_free. */
void flow_run_stats_failed(const FlowProgram *p, int fi, FlowRunStats *stats, FlowErrorClass cls, const char *msg);
void flow_run_stats_free(FlowRunStats *stats);

/* A setting's value for describe: constants evaluated (secrets "<redacted>", per-record ones
 * "<per record>"). A fresh tree. */
cJSON *flow_describe_setting(FlowCtx *cx, const FlowSettingDef *d);

/* ---- process setup and params (cli.c) ---- */

/* A param's value from its text (--param, a baked default; flowc build checks -P values by it too):
 * 0 with *v (and in *own a tree to free with it, for json), or -1 with why ("`abc` is not an int"). */
int flow_param_parse(const FlowParamDef *d, const char *text, FlowVal *v, cJSON **own, char *why, size_t cap);
/* A param's default (or -P) text, unmasked when it is a secret; malloc'd, NULL when it has none. */
char *flow_param_default(const FlowParamDef *d);
/* No core dump can hold a secret: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0 (which also keeps other
 * processes of the user from attaching or reading /proc/PID/mem). Called first by every command of a
 * built executable and by flowc before it reads -P values, env() or runs a flow. */
void flow_no_core_dumps(void);
/* A `name=value` command-line argument (--param, flowc's -P): a malloc'd copy, and the value hidden
 * from other processes: its bytes in argv are overwritten with '*', so `ps` and /proc/PID/cmdline
 * show `token=****` for as long as the build or run lasts. */
char *flow_arg_take(char *arg);

#endif
