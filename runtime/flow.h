/* flow.h — the one header that generated code, hooks and the runtime share: the value ABI, the
 * per-record context, errors, and the built-in functions (stdlib/builtins.def).
 *
 * OWNERSHIP (the one rule): a FlowVal never owns anything. Strings and JSON it points to belong
 * either to the record being processed (cJSON trees the engine owns) or to the context's scratch
 * arena, which lives until the current record is finished (flow_scratch_reset). Functions that
 * build new text allocate it with flow_scratch_alloc; nobody frees a FlowVal. To keep a value past
 * the record, copy it out (flow_val_to_json makes a fresh cJSON tree owned by the caller). */
#ifndef FLOW_H
#define FLOW_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* ---- values ---- */

#define FLOW_VAL_KINDS(X) \
    X(NULL, "null") X(BOOL, "bool") X(INT, "int") X(NUMBER, "number") X(STRING, "string") \
    X(DATETIME, "datetime") X(DURATION, "duration") X(JSON, "json")

typedef enum {
#define X(k, s) FLOW_##k,
    FLOW_VAL_KINDS(X)
#undef X
} FlowKind;

typedef struct FlowStr { const char *p; size_t n; } FlowStr;   /* not NUL-terminated in general */

typedef struct FlowVal {
    FlowKind kind;
    union {
        int b;                 /* BOOL */
        int64_t i;             /* INT; DATETIME: ms since 1970-01-01T00:00:00Z; DURATION: ms */
        double n;              /* NUMBER */
        FlowStr s;             /* STRING */
        const cJSON *j;        /* JSON: any JSON value (objects and arrays included); never NULL */
    };
} FlowVal;

static inline FlowVal flow_null(void) { FlowVal v; v.kind = FLOW_NULL; v.i = 0; return v; }
static inline FlowVal flow_bool(int b) { FlowVal v; v.kind = FLOW_BOOL; v.b = !!b; return v; }
static inline FlowVal flow_int(int64_t i) { FlowVal v; v.kind = FLOW_INT; v.i = i; return v; }
static inline FlowVal flow_number(double n) { FlowVal v; v.kind = FLOW_NUMBER; v.n = n; return v; }
static inline FlowVal flow_string(const char *p, size_t n) { FlowVal v; v.kind = FLOW_STRING; v.s.p = p; v.s.n = n; return v; }
static inline FlowVal flow_datetime(int64_t ms) { FlowVal v; v.kind = FLOW_DATETIME; v.i = ms; return v; }
static inline FlowVal flow_duration(int64_t ms) { FlowVal v; v.kind = FLOW_DURATION; v.i = ms; return v; }
static inline FlowVal flow_json(const cJSON *j) { FlowVal v; if (!j || cJSON_IsNull(j)) return flow_null(); v.kind = FLOW_JSON; v.j = j; return v; }
static inline int flow_is_null(FlowVal v) { return v.kind == FLOW_NULL; }

/* ---- the context of one run: scratch memory per record, the current error ---- */

typedef struct FlowCtx FlowCtx;

/* Error classes of LANGUAGE.md §4; X(id, name) */
#define FLOW_ERROR_CLASSES(X) \
    X(PARSE, "parse") X(VALUE, "value") X(MISSING, "missing") X(DUPLICATE, "duplicate") \
    X(CONNECTION, "connection") X(INTERMITTENT, "intermittent") X(RATE_LIMIT, "rate_limit") \
    X(TOO_LARGE, "too_large")

typedef enum {
#define X(id, s) FLOW_ERR_##id,
    FLOW_ERROR_CLASSES(X)
#undef X
    FLOW_ERR_COUNT
} FlowErrorClass;

extern const char *const flow_error_class_names[FLOW_ERR_COUNT];

FlowCtx *flow_ctx_new(void);
void     flow_ctx_free(FlowCtx *cx);
/* Scratch memory, valid until flow_scratch_reset (the engine resets it after each record). Zeroed. */
void    *flow_scratch_alloc(FlowCtx *cx, size_t n);
void     flow_scratch_reset(FlowCtx *cx);
/* Hands a freshly built cJSON tree to the scratch arena: it is deleted at the next reset. Returns it. */
const cJSON *flow_scratch_keep(FlowCtx *cx, cJSON *tree);
/* Records an error for the current record (the first one wins) and returns null, so a built-in can
 * `return flow_fail(cx, FLOW_ERR_VALUE, "...")`. */
FlowVal  flow_fail(FlowCtx *cx, FlowErrorClass cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int      flow_failed(const FlowCtx *cx);
FlowErrorClass flow_error_class(const FlowCtx *cx);
const char *flow_error_message(const FlowCtx *cx);
void     flow_clear_error(FlowCtx *cx);
/* The time `now()` returns during this run (fixed per run so previews and tests are repeatable). */
void     flow_ctx_set_now(FlowCtx *cx, int64_t ms);
int64_t  flow_ctx_now(const FlowCtx *cx);

/* ---- conversions (runtime/value.c) ---- */

/* A FlowVal as a fresh cJSON tree owned by the caller (datetimes as ISO-8601 UTC strings). */
cJSON   *flow_val_to_json(FlowVal v);
/* A JSON value as the declared kind: FLOW_JSON keeps it dynamic. Wrong types fail with a `value` error. */
FlowVal  flow_val_from_json(FlowCtx *cx, const cJSON *j, FlowKind want, const char *what);
/* Text of a scalar for templates and to_string(): ints without decimals, numbers shortest round-trip,
 * datetimes ISO-8601, null empty; JSON objects/arrays serialized compactly. Allocated in scratch. */
FlowStr  flow_val_text(FlowCtx *cx, FlowVal v);
/* Parses ISO-8601 (date, date-time with optional fraction and offset) or epoch seconds text. */
int      flow_parse_iso8601(const char *s, size_t n, int64_t *ms);
/* Writes ISO-8601 UTC with milliseconds: 2024-01-02T03:04:05.678Z (24 chars + NUL). */
void     flow_format_iso8601(int64_t ms, char out[32]);
/* Deep equality with int/number promotion; strings by bytes. */
int      flow_val_equal(FlowVal a, FlowVal b);

/* ---- built-in functions: one per FN entry of stdlib/builtins.def ----
 * Arguments arrive already checked by the compiler for their declared types, but a json argument
 * may still hold anything: such functions check at run time and fail with a `value` error. Optional
 * parameters that were omitted arrive as null. Variadic ones take (n, args). */
#define FLOW_FN1(name) FlowVal name(FlowCtx *cx, FlowVal a);
#define FLOW_FN2(name) FlowVal name(FlowCtx *cx, FlowVal a, FlowVal b);
#define FLOW_FN3(name) FlowVal name(FlowCtx *cx, FlowVal a, FlowVal b, FlowVal c);
#define FLOW_FNV(name) FlowVal name(FlowCtx *cx, int n, const FlowVal *args);

FLOW_FN1(flow_fn_lower) FLOW_FN1(flow_fn_upper) FLOW_FN1(flow_fn_trim) FLOW_FN1(flow_fn_len)
FLOW_FN3(flow_fn_substr) FLOW_FN3(flow_fn_replace) FLOW_FN2(flow_fn_regex_match) FLOW_FN3(flow_fn_regex_replace)
FLOW_FN2(flow_fn_split) FLOW_FN2(flow_fn_join) FLOW_FN2(flow_fn_contains) FLOW_FN2(flow_fn_starts_with)
FLOW_FN2(flow_fn_ends_with) FLOW_FN3(flow_fn_pad_left)
FLOW_FN1(flow_fn_floor) FLOW_FN1(flow_fn_ceil) FLOW_FN2(flow_fn_round) FLOW_FN1(flow_fn_abs)
FLOW_FNV(flow_fn_min) FLOW_FNV(flow_fn_max) FLOW_FN1(flow_fn_to_number) FLOW_FN1(flow_fn_to_int)
FLOW_FN1(flow_fn_to_string) FLOW_FN1(flow_fn_to_bool)
FlowVal flow_fn_now(FlowCtx *cx);
FLOW_FN2(flow_fn_parse_date) FLOW_FN2(flow_fn_format_date) FLOW_FN2(flow_fn_add) FLOW_FN2(flow_fn_date_diff)
FLOW_FN1(flow_fn_count) FLOW_FN1(flow_fn_sum) FLOW_FN1(flow_fn_first) FLOW_FN1(flow_fn_last)
FLOW_FN1(flow_fn_keys) FLOW_FN1(flow_fn_values)
FLOW_FN1(flow_fn_has) FLOW_FNV(flow_fn_coalesce)
FLOW_FN1(flow_fn_env)

#endif
