/* flow.h — the one header that generated code, hooks and the runtime share: the value ABI, the
 * per-record context, errors, and the built-in functions (stdlib/builtins.def).
 *
 * OWNERSHIP (the one rule): a FlowVal never owns anything. Strings and JSON it points to belong
 * either to the record being processed (cJSON trees the engine owns) or to the context's scratch
 * arena, which lives until the current record is finished (flow_scratch_reset). Functions that
 * build new text allocate it with flow_scratch_alloc; nobody frees a FlowVal. To keep a value past
 * the record, copy it out (flow_val_to_json makes a fresh cJSON tree owned by the caller).
 * Numbers in those trees follow EXACT NUMBERS below (an int past 2^53 carries its digits); outside
 * JSON is read only by flow_json_parse (THE JSON READER below). */
#ifndef FLOW_H
#define FLOW_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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

/* Not NUL-terminated in general, but always readable one byte past the end (p[n]): a string is a
 * literal, a cJSON valuestring, a piece of one, or scratch text, and all of those keep that byte. */
typedef struct FlowStr { const char *p; size_t n; } FlowStr;

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
static inline FlowVal flow_json(const cJSON *j) { FlowVal v; if (!j || (j->type & 0xFF) == cJSON_NULL) return flow_null(); v.kind = FLOW_JSON; v.j = j; return v; }
static inline int flow_is_null(FlowVal v) { return v.kind == FLOW_NULL; }

/* ---- arenas (mem.c): memory handed out in blocks and freed all at once ----
 * alloc rounds up to 16 bytes and does not zero; reset keeps one block (grown to what the last
 * round used), free gives everything back. A zeroed FlowArena is empty and ready. */
typedef struct FlowArena { struct FlowArenaBlock *blocks; char *cur, *end; /* the newest block's room */ } FlowArena;
void *flow_arena_grow(FlowArena *a, size_t n);   /* a new block: flow_arena_alloc's slow path */
/* n bytes aligned to 16 (n == 0 counts as 1), valid until the arena is reset or freed */
static inline void *flow_arena_alloc(FlowArena *a, size_t n) {
    n = n ? (n + 15) & ~(size_t)15 : 16;
    if ((size_t)(a->end - a->cur) >= n) {
        void *p = a->cur;
        a->cur += n;
        return p;
    }
    return flow_arena_grow(a, n);
}
void  flow_arena_reset(FlowArena *a);
void  flow_arena_free(FlowArena *a);

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
/* The first members of every FlowCtx (value.c), which generated code reads inline: FLOW_FAILED is
 * flow_failed without a call. */
typedef struct FlowCtxHead { FlowArena scratch; int failed; } FlowCtxHead;
#define FLOW_FAILED(cx) (((const FlowCtxHead *)(const void *)(cx))->failed)
/* Names where the current error happened (a map entry: "customer.name"), once: the message becomes
 * "customer.name: ..." unless it already starts so. */
void     flow_fail_at(FlowCtx *cx, const char *where);
FlowErrorClass flow_error_class(const FlowCtx *cx);
const char *flow_error_message(const FlowCtx *cx);
void     flow_clear_error(FlowCtx *cx);
/* The time `now()` returns during this run (fixed per run so previews and tests are repeatable). */
void     flow_ctx_set_now(FlowCtx *cx, int64_t ms);
/* Secrets seen during the run (env() values): whatever the engine prints or hands out is redacted
 * against them. flow_ctx_secret(cx, i) is NULL past the last one. */
void     flow_ctx_add_secret(FlowCtx *cx, const char *s, size_t n);
const char *flow_ctx_secret(const FlowCtx *cx, int i);
int64_t  flow_ctx_now(const FlowCtx *cx);
/* The wall clock: ms since 1970-01-01T00:00:00Z (CLOCK_REALTIME), for every part that stamps times. */
int64_t  flow_wall_ms(void);
/* A monotonic clock in milliseconds (fractions kept), for measuring and time limits. */
double   flow_mono_ms(void);

/* ---- conversions (runtime/value.c) ---- */

/* EXACT NUMBERS in cJSON trees (the one representation, used by every reader and writer): a cJSON
 * number holds a double, exact for whole numbers up to +-2^53 only. So a number may also carry its
 * exact decimal text in `valuestring`, where the double alone would misstate it:
 *  - an int64 that no double holds exactly (past +-2^53) carries its digits ("-"? digits, no leading
 *    zeros); valuedouble is the nearest double (what code that reads only doubles sees);
 *  - a number the JSON reader met whose double is whole but whose text is not exactly that int64
 *    (9007199254740993.5, 1e-400, -9223372036854775809, 1e30) carries the text as read: it is no int.
 * Text that no longer reads as the number's double (a hook changed valuedouble) is ignored. Without
 * text, a whole double in [-2^63, 2^63) is that int; nothing outside the int64 range is an int.
 * cJSON_Delete frees and cJSON_Duplicate copies valuestring, so ownership is as for any tree; a
 * number's valuestring is never a string value (test cJSON_IsString, never valuestring). Make ints
 * with flow_json_int, read them with flow_json_get_int; flow_json_print, flow_val_text, templates,
 * CSV, SQL binds and HTTP queries write the digits (flow_json_num_text). */
cJSON   *flow_json_int(int64_t i);
void     flow_json_int_set(cJSON *num, int64_t i);        /* makes a number (re)hold i exactly */
void     flow_json_num_text_set(cJSON *num, const char *text, size_t n);   /* the reader's text */
/* 1 with *out when j is a number holding a whole value in the int64 range (exactly), else 0. */
int      flow_json_get_int(const cJSON *j, int64_t *out);
/* 1 with *out when d is whole and in the int64 range: what flow_json_get_int takes of a number
 * without text. */
int      flow_double_int(double d, int64_t *out);
/* A scalar JSON value (NULL too) as a FlowVal: null, bool, int (when flow_json_get_int takes it), else
 * number, string (pointing into j): 0. -1 for objects and arrays. The kinds typed rows and a typed
 * map's values hold (FlowTOut), so a destination binds the two the same. */
int      flow_json_scalar(const cJSON *j, FlowVal *out);
/* 1 when j is a number carrying an int's digits (an int beyond +-2^53) with *out, else 0. */
int      flow_json_big_int(const cJSON *j, int64_t *out);
/* A number's exact JSON text: the int's digits or flow_json_number's text in buf, or the number's
 * own text as read. Returns buf or that text. */
const char *flow_json_num_text(const cJSON *j, char buf[32]);
/* Deep equality of JSON values: numbers exactly (ints by value, never within an epsilon), strings by
 * bytes, object members by name whatever their order (a repeated name's k-th member against the
 * other's k-th). */
int      flow_json_equal(const cJSON *a, const cJSON *b);

/* THE JSON READER for all outside input (runtime/json_read.c): the whole text (n bytes, not
 * necessarily NUL-terminated; an optional byte order mark and white space around) as one JSON value,
 * or NULL with err (when not NULL) saying why and where. Strict RFC 8259: numbers must be finite as
 * doubles (1e400 is refused) and ints keep their exact value; strings must be valid UTF-8 without
 * raw control characters or U+0000 (`\u0000` included: the runtime's text is NUL-terminated);
 * nesting deeper than FLOW_JSON_DEPTH is refused. */
#define FLOW_JSON_DEPTH 1000
typedef struct FlowJsonError {
    size_t offset;            /* bytes from the start of the text to the offending byte */
    long line, col;           /* 1-based; col counts characters */
    char msg[160];
} FlowJsonError;
cJSON   *flow_json_parse(const char *text, size_t n, FlowJsonError *err);
/* The first byte of p..e that a JSON string cannot hold as it is ('"', '\\', a control
 * character, or any non-ASCII byte), or e: the scan both the reader and the printer use. */
const unsigned char *flow_json_plain_end(const unsigned char *p, const unsigned char *e);
/* Checks text from any source: FLOW_TEXT_OK, FLOW_TEXT_NUL (a NUL byte) or FLOW_TEXT_UTF8 (not valid
 * UTF-8), with the byte offset of the first bad byte in *at. */
int      flow_text_check(const char *p, size_t n, size_t *at);
/* The length of the valid UTF-8 sequence at p (n >= 1 bytes there), 0 when it is not one (RFC 3629:
 * no overlong forms, surrogates or code points past U+10FFFF). */
size_t   flow_utf8_seq(const unsigned char *p, size_t n);

/* Outside text that failed to read, as a string to keep with its record error: whole (NUL bytes and
 * bytes that are not UTF-8 become U+FFFD, so it prints as valid JSON; the error says what was there). */
cJSON   *flow_json_raw_text(const char *p, size_t n);
/* A record that cannot go on as a record (a value in it flowc cannot hold), as its JSON text: the
 * data kept with its error, which a retry does not take for a record. Takes j. */
cJSON   *flow_json_to_text(cJSON *j);

/* A FlowVal as a fresh cJSON tree owned by the caller (datetimes as ISO-8601 UTC strings). */
cJSON   *flow_val_to_json(FlowVal v);
/* JSON text of a tree with exact numbers (whole numbers with all their digits); free with
 * cJSON_free. NULL when out of memory. flow_json_number: one number's text. */
char    *flow_json_print(const cJSON *j);
char    *flow_json_print_pretty(const cJSON *j);   /* the same, laid out as cJSON_Print does */
/* The same into buf (cap bytes) when it fits, else into a fresh buffer (cJSON_free it when the
 * result is not buf); the text's length in *len. NULL when out of memory. */
char    *flow_json_print_into(const cJSON *j, char *buf, size_t cap, size_t *len);
void     flow_json_number(double d, char buf[32]);
/* A JSON value as the declared kind: FLOW_JSON keeps it dynamic. Wrong types fail with a `value` error. */
FlowVal  flow_val_from_json(FlowCtx *cx, const cJSON *j, FlowKind want, const char *what);
/* Text of a scalar for templates and to_string(): ints without decimals, numbers shortest round-trip,
 * datetimes ISO-8601, null empty; JSON objects/arrays serialized compactly. Allocated in scratch. */
FlowStr  flow_val_text(FlowCtx *cx, FlowVal v);
/* Parses ISO-8601 (date, date-time with optional fraction and offset) or epoch seconds text. */
int      flow_parse_iso8601(const char *s, size_t n, int64_t *ms);
/* Writes ISO-8601 UTC with milliseconds: 2024-01-02T03:04:05.678Z (24 chars + NUL). */
void     flow_format_iso8601(int64_t ms, char out[32]);
/* epoch seconds (a number given for a datetime) as ms: 0 when out of range (|s| >= 9e12) */
int      flow_datetime_of_seconds(double s, int64_t *ms);
/* a datetime's text as flow_val_to_json writes it: flow_format_iso8601's (in buf), or a delta
 * bound's text in its layout (no length limit) */
const char *flow_datetime_text(int64_t ms, char buf[32]);
/* How a value is named in messages: "a string", "an int", "an object", "null", ... */
const char *flow_json_desc(const cJSON *j);
const char *flow_val_desc(FlowVal v);
const char *flow_kind_desc(FlowKind k);   /* "an int", ...; json: "json" */
/* Text quoted for a message into out (cap >= max * 4 + 8): at most max bytes (cut at a character
 * boundary, then "..."), control bytes and bytes that are not UTF-8 as \xHH, quotes and backslashes
 * escaped. Returns out. */
const char *flow_quote(char *out, size_t cap, const char *p, size_t n, size_t max);
/* null, or json holding JSON null */
static inline int flow_val_is_null(FlowVal v) { return v.kind == FLOW_NULL || (v.kind == FLOW_JSON && (!v.j || (v.j->type & 0xFF) == cJSON_NULL)); }
/* The text of a string, or of json holding a string (0 for anything else). */
int flow_val_str(FlowVal v, FlowStr *out);
/* flow_val_str, or a `value` error "FN: expected a string [for PARAM], got ..." (built-ins' arguments). */
int flow_arg_str(FlowCtx *cx, FlowVal v, const char *fn, const char *param, FlowStr *out);
/* t equals the lower-case word w, ignoring ASCII case. */
int flow_word_is(FlowStr t, const char *w);
/* w is one of the words of "a|b|c" (NULL choices: any word). */
int flow_word_in(const char *w, const char *choices);
/* Text as numbers, exactly (already trimmed): FLOW_TEXT_OK, or why not (SYNTAX, RANGE); NUL and UTF8
 * are flow_text_check's answers. */
enum { FLOW_TEXT_OK, FLOW_TEXT_SYNTAX, FLOW_TEXT_RANGE, FLOW_TEXT_NUL, FLOW_TEXT_UTF8 };
int flow_text_int(FlowStr t, int64_t *out);                 /* [+-]?digits, no overflow */
int flow_text_number(FlowCtx *cx, FlowStr t, double *out);  /* decimal [e exponent], finite */
/* The proleptic Gregorian calendar: days since 1970-01-01 <-> year, month 1..12, day 1..31. */
int64_t flow_days_from_civil(int64_t y, unsigned m, unsigned d);
void    flow_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
int     flow_days_in_month(int64_t y, unsigned m);   /* 28..31; 0 for a month outside 1..12 */
/* Unicode White_Space: the separators (Zs, Zl, Zp, by utf8proc) and the controls \t..\r and U+0085.
 * flow_str_trim takes it off both ends of UTF-8 text (an invalid byte is not whitespace): the one
 * trim of `trim`, the `trim` template helper and the conversions of text to numbers, bools and dates. */
int     flow_is_space(int32_t c);
FlowStr flow_str_trim(FlowStr s);
/* Durations as the language writes them (100ms 90s 15m 2h 1d 1w): the one table of units, for the
 * lexer, -P/--param values, flowc cron's --every and messages. flow_duration_unit: milliseconds in
 * the unit u[0..n) (case-sensitive), 0 when it is none; flow_duration_text: ms in its largest whole
 * unit (90s, 1h, 250ms, 0s; a negative value keeps its sign). Returns buf. */
int64_t     flow_duration_unit(const char *u, size_t n);
const char *flow_duration_text(char buf[32], int64_t ms);
/* Numbers to and from decimal text, exactly (decimal.c). flow_dec_shortest: |x| (finite, not zero) as
 * d x 10^p with the fewest digits that read back as x, d without trailing zeros (zero: d 0); returns
 * d's digit count. flow_dec_to_double: the double nearest to d x 10^p (d < 2^64), ties to even,
 * infinity past the largest. flow_dec_parse: the n bytes [+-]digits[.digits][(e|E)[+-]digits] (also .5
 * and 5.) to their nearest double; 0 for other text. flow_dec_format_g: x as printf's %.Pg with P the
 * larger of min_prec and x's shortest digit count (so the text reads back as x). flow_dec_digits: d's
 * digits; flow_dec_count: how many. */
int      flow_dec_shortest(double x, uint64_t *d, int *p);
double   flow_dec_to_double(uint64_t d, int p);
int      flow_dec_parse(const char *s, size_t n, double *out);
size_t   flow_dec_format_g(char out[32], double x, int min_prec);
size_t   flow_dec_digits(uint64_t d, char out[21]);
int      flow_dec_count(uint64_t d);
extern const uint64_t flow_dec_pow10[20];   /* 10^0 .. 10^19 */
/* The shortest text that reads back as d (NaN, Infinity as such), for messages. Returns buf. */
const char *flow_num_text(char buf[40], double d);
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
FLOW_FN1(flow_fn_to_string) FLOW_FN1(flow_fn_to_json) FLOW_FN1(flow_fn_to_bool)
FlowVal flow_fn_now(FlowCtx *cx);
FLOW_FN2(flow_fn_parse_date) FLOW_FN2(flow_fn_format_date) FLOW_FN2(flow_fn_add) FLOW_FN2(flow_fn_date_diff)
FLOW_FN1(flow_fn_count) FLOW_FN1(flow_fn_sum) FLOW_FN1(flow_fn_first) FLOW_FN1(flow_fn_last)
FLOW_FN1(flow_fn_keys) FLOW_FN1(flow_fn_values)
FLOW_FN1(flow_fn_has) FLOW_FNV(flow_fn_coalesce)
FLOW_FN1(flow_fn_env)

/* ---- operators and record access used by generated code (runtime/ops.c) ----
 * All are total: a null or wrongly-typed operand (possible only through json) fails the record with a
 * `value` error and yields null. */
typedef enum { FLOW_OP_ADD, FLOW_OP_SUB, FLOW_OP_MUL, FLOW_OP_DIV, FLOW_OP_MOD } FlowArith;
typedef enum { FLOW_CMP_EQ, FLOW_CMP_NE, FLOW_CMP_LT, FLOW_CMP_LE, FLOW_CMP_GT, FLOW_CMP_GE } FlowCmp;

/* flow_op_arith and flow_op_cmp: every case is ops.c's (the _full functions); the commonest ones — `+ - *`
 * of two ints that do not overflow or of numbers with a finite result, comparisons of two ints, of two
 * numbers and `==`/`!=` of two strings — are answered inline first, by the same rules (the C compiler
 * then sees the kinds the typed code knows). tcc (the JIT) calls the full functions. */
FlowVal flow_op_arith_full(FlowCtx *cx, FlowArith op, FlowVal a, FlowVal b);
FlowVal flow_op_neg(FlowCtx *cx, FlowVal a);
FlowVal flow_op_cmp_full(FlowCtx *cx, FlowCmp op, FlowVal a, FlowVal b);
static inline FlowVal flow_op_arith(FlowCtx *cx, FlowArith op, FlowVal a, FlowVal b) {
#if defined(__GNUC__) && !defined(__TINYC__)
    if (op <= FLOW_OP_MUL) {
        if (a.kind == FLOW_INT && b.kind == FLOW_INT) {
            int64_t r;
            int over = op == FLOW_OP_ADD ? __builtin_add_overflow(a.i, b.i, &r)
                     : op == FLOW_OP_SUB ? __builtin_sub_overflow(a.i, b.i, &r) : __builtin_mul_overflow(a.i, b.i, &r);
            if (!over) return flow_int(r);
        } else if ((a.kind == FLOW_NUMBER || a.kind == FLOW_INT) && (b.kind == FLOW_NUMBER || b.kind == FLOW_INT)) {
            double x = a.kind == FLOW_INT ? (double)a.i : a.n, y = b.kind == FLOW_INT ? (double)b.i : b.n;
            double r = op == FLOW_OP_ADD ? x + y : op == FLOW_OP_SUB ? x - y : x * y;
            if (__builtin_isfinite(r)) return flow_number(r);
        }
    }
#endif
    return flow_op_arith_full(cx, op, a, b);
}
static inline FlowVal flow_op_cmp(FlowCtx *cx, FlowCmp op, FlowVal a, FlowVal b) {
#if defined(__GNUC__) && !defined(__TINYC__)
    int c = 2;
    if (a.kind == FLOW_INT && b.kind == FLOW_INT) c = (a.i > b.i) - (a.i < b.i);
    else if (a.kind == FLOW_NUMBER && b.kind == FLOW_NUMBER && !__builtin_isnan(a.n) && !__builtin_isnan(b.n))
        c = (a.n > b.n) - (a.n < b.n);
    else if (a.kind == FLOW_STRING && b.kind == FLOW_STRING && a.s.p && b.s.p && (op == FLOW_CMP_EQ || op == FLOW_CMP_NE))
        c = a.s.n != b.s.n || (a.s.n && __builtin_memcmp(a.s.p, b.s.p, a.s.n) != 0);   /* equal or not */
    if (c != 2) switch (op) {
        case FLOW_CMP_EQ: return flow_bool(c == 0);
        case FLOW_CMP_NE: return flow_bool(c != 0);
        case FLOW_CMP_LT: return flow_bool(c < 0);
        case FLOW_CMP_LE: return flow_bool(c <= 0);
        case FLOW_CMP_GT: return flow_bool(c > 0);
        case FLOW_CMP_GE: return flow_bool(c >= 0);
        }
#endif
    return flow_op_cmp_full(cx, op, a, b);
}
FlowVal flow_op_in(FlowCtx *cx, FlowVal item, FlowVal list);
/* A condition's value: bool true; null, false -> 0. Json holding a non-bool fails (no truthiness). */
int     flow_truth(FlowCtx *cx, FlowVal v, const char *what);
/* Handlebars truthiness for template sections: null, false, 0, "", [] are false. */
int     flow_tpl_true(FlowVal v);
/* Mustache truthiness for {{#name}} / {{^name}}: only null, false and [] are false (0 and "" are true). */
int     flow_tpl_section_true(FlowVal v);
/* Handlebars {{#with}}: as flow_tpl_true, but 0 is true (runtime/template.c, as the three below). */
int     flow_tpl_with_true(FlowVal v);
/* A bare template name, Mustache's way: the first of ctx[0..n) (innermost section first, then the
 * sections around it, then the root) that is an object with that member gives it (null when its
 * value is null); none: null. */
FlowVal flow_tpl_lookup(FlowCtx *cx, const FlowVal *ctx, int n, const char *name);
/* @key of a {{#each}} over an object: the member's name. */
FlowVal flow_tpl_key(const cJSON *member);
/* Generated code counts the iterations of a template's sections in *steps and calls this once the
 * count passes limit: a `value` error (once) and 0, so the loops stop; sections nested over large
 * lists would otherwise run for hours. */
int     flow_tpl_step(FlowCtx *cx, int64_t *steps, int64_t limit);

/* v.field, converted to the declared kind (FLOW_JSON keeps it dynamic); absent -> null. */
FlowVal flow_field(FlowCtx *cx, FlowVal obj, const char *name, FlowKind want, const char *path);
/* v[i] (arrays; negative counts from the end; out of range -> null) or v["key"] (objects). */
FlowVal flow_index(FlowCtx *cx, FlowVal v, FlowVal i, FlowKind want, const char *path);
/* Converts to a declared kind, as a map entry's type override does (text is parsed, numbers cast). */
FlowVal flow_convert(FlowCtx *cx, FlowVal v, FlowKind want, const char *what);
/* Sets or removes record.a.b...; missing intermediate objects are created. */
void    flow_set_path(FlowCtx *cx, cJSON *rec, const char *const *path, int n, FlowVal v);
void    flow_remove_path(cJSON *rec, const char *const *path, int n);
/* Adds v under key to an object being built (a map's output). v is copied. */
void    flow_obj_put(cJSON *obj, const char *key, FlowVal v);
/* The same for generated maps, whose keys are distinct string literals: the key is not copied (it
 * must outlive obj) and no existing member is looked for. */
void    flow_obj_add(cJSON *obj, const char *key, FlowVal v);
/* A string literal stored masked (a secret baked into the program): masked[n..2n) XOR masked[0..n),
 * as a string in scratch memory. */
FlowVal flow_unmask(FlowCtx *cx, const char *masked, size_t n);
/* Text buffers in scratch memory, for templates and string concatenation. */
typedef struct FlowText { char *p; size_t n, cap; } FlowText;
void    flow_text_put(FlowCtx *cx, FlowText *t, const char *s, size_t n);
void    flow_text_val(FlowCtx *cx, FlowText *t, FlowVal v);          /* appends the value's text */
void    flow_text_val_json(FlowCtx *cx, FlowText *t, FlowVal v);     /* ...JSON-escaped (body templates) */
void    flow_text_val_html(FlowCtx *cx, FlowText *t, FlowVal v);     /* ...HTML-escaped (& < > " ') */
void    flow_text_val_url(FlowCtx *cx, FlowText *t, FlowVal v);      /* ...percent-encoded (http path templates) */
/* s[0..n) percent-encoded into out (room for 3n + 1): every byte but the unreserved A-Z a-z 0-9
 * - . _ ~ (RFC 3986) as %XX. The one encoder of URLs: path templates, queries, redaction. Returns
 * the length written (NUL-terminated). */
size_t  flow_pct_encode(char *out, const char *s, size_t n);
FlowVal flow_text_done(FlowText *t);
/* Static tables: sorted keys, looked up by binary search. */
typedef struct FlowTableEntry { const char *key; const char *text; double num; int kind; } FlowTableEntry;
FlowVal flow_table_get(FlowCtx *cx, const FlowTableEntry *t, int n, FlowVal key);

/* ---- the program: generated code describes each flow as static tables; the engine runs them ----
 * Settings are values: constants, params and env() are FlowConstFn (evaluated once per run, no
 * record); those that use the record are FlowRecFn (evaluated per record). A constructor setting
 * (mode = delta(...), paginate = ..., auth = ..., upsert = ..., a SQL import mode) arrives as a JSON
 * object {"ctor": "delta", "field": "created_at", "lag": 300000, ...} (durations in ms); a bare word
 * (method = POST) as a string. A setting marked secret never appears in describe, logs or errors. */
typedef FlowVal (*FlowConstFn)(FlowCtx *cx);
typedef FlowVal (*FlowRecFn)(FlowCtx *cx, cJSON *rec);
/* filter and arm conditions: 1 keep / 0 drop; transforms and response mappings: 0. -1: the record
 * failed (the error is in cx). */
typedef int     (*FlowStepFn)(FlowCtx *cx, cJSON *rec);
/* an import's map: a fresh object owned by the caller; NULL when the record failed (error in cx) */
typedef cJSON  *(*FlowMapFn)(FlowCtx *cx, cJSON *rec, int updating);

#define FLOW_STEP_KINDS(X) X(EXPORT, "export") X(LOOKUP, "lookup") X(TRANSFORM, "transform") \
    X(FILTER, "filter") X(BRANCH, "branch") X(IMPORT, "import")
typedef enum {
#define X(k, s) FLOW_STEP_##k,
    FLOW_STEP_KINDS(X)
#undef X
} FlowStepKind;

typedef struct FlowSettingDef {
    const char *name;
    FlowConstFn konst;          /* exactly one of konst / per_record is set */
    FlowRecFn per_record;
    int secret;
} FlowSettingDef;

/* Declared record types, for validating exported records: a field's kind, nullability and, for
 * records and arrays, the nested type. */
typedef struct FlowTypeDef FlowTypeDef;
/* key8: the name's first 8 bytes (zero-padded) as FLOW_KEY8 packs them, for matching a member name
 * a word at a time (0: not given, the name is compared as bytes) */
typedef struct FlowFieldDef { const char *name; const FlowTypeDef *type; size_t len; /* strlen(name) */ uint64_t key8; } FlowFieldDef;
#define FLOW_KEY8(a, b, c, d, e, f, g, h) \
    ((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 | (uint64_t)(d) << 24 | (uint64_t)(e) << 32 | \
     (uint64_t)(f) << 40 | (uint64_t)(g) << 48 | (uint64_t)(h) << 56)
struct FlowTypeDef {
    FlowKind kind;              /* FLOW_JSON for records and arrays too */
    int nullable;
    int is_record, is_array;
    const FlowFieldDef *fields; int nfields;   /* records */
    const FlowTypeDef *elem;                   /* arrays */
};

/* ---- typed records: a record of its export's declared type, read without a cJSON tree ----
 * json_read.c decodes a record's JSON text straight into slots (flow_json_decode_typed); the code
 * flowc generates for the steps that only read such a record (filters, import maps) reads its
 * fields by position, and its maps print their output directly (flow_tp_*). One slot per declared
 * field, in the type's order; a nested record's or array's slot holds its fields or elements in
 * kids[0..n); a scalar's v is the value flow_field gives for its declared kind. A null or missing
 * value is a slot with null set, no kids and a null v. Strings point into the page's copy of the
 * record's text (followed by their quote, so p[n] is readable) or into the page arena; a page's
 * typed records live until the page ends. Generated code never sees a record the decoder did
 * not take: those go the generic way (cJSON), as do steps the typed code cannot serve. */
typedef struct FlowTSlot { FlowVal v; const struct FlowTSlot *kids; int n; int null; } FlowTSlot;
static const FlowTSlot flow_tslot_null = { { FLOW_NULL, { 0 } }, NULL, 0, 1 };
static inline const FlowTSlot *flow_tfield(const FlowTSlot *s, int i) { return s->kids && i < s->n ? &s->kids[i] : &flow_tslot_null; }
/* 0 with *root, or -1: the text is not a record that fits t exactly as the generic path reads it.
 * The slots point into text, which must outlive them (and be readable one byte past n). */
int flow_json_decode_typed(const FlowTypeDef *t, const char *text, size_t n, FlowArena *a, FlowTSlot *root);

/* Output text built by a typed map: JSON printed as flow_json_print prints the cJSON tree the
 * generic map builds (the same printer underneath), so the two are byte for byte the same. */
typedef struct FlowBuf { char *p; size_t n, cap; int oom; } FlowBuf;
void flow_buf_free(FlowBuf *b);
void flow_tp_byte_grow(FlowBuf *b, char c);
static inline void flow_tp_open(FlowBuf *b, char c) {   /* '{' or '[' */
    if (b->n + 2 > b->cap) flow_tp_byte_grow(b, c);
    else b->p[b->n++] = c;
}
static inline void flow_tp_close(FlowBuf *b, char c) { flow_tp_open(b, c); }   /* '}' or ']' */
void flow_tp_key(FlowBuf *b, const char *key);  /* `,` unless first, then "key": */
void flow_tp_keyraw_grow(FlowBuf *b, const char *text, size_t n);
/* ...with "key": printed already (flowc does): the common case inline, growing out of line */
static inline void flow_tp_keyraw(FlowBuf *b, const char *text, size_t n) {
    if (b->n + n + 2 > b->cap) { flow_tp_keyraw_grow(b, text, n); return; }
    if (b->n && b->p[b->n - 1] != '{') b->p[b->n++] = ',';
    memcpy(b->p + b->n, text, n);
    b->n += n;
}
void flow_tp_elem(FlowBuf *b);                  /* `,` unless first */
void flow_tp_val(FlowBuf *b, FlowVal v);        /* the value, as flow_obj_add + flow_json_print give it */
typedef int (*FlowTStepFn)(FlowCtx *cx, const FlowTSlot *rec);               /* typed filter: as FlowStepFn */
typedef int (*FlowTMapFn)(FlowCtx *cx, const FlowTSlot *rec, FlowBuf *out);  /* 0, or -1: map it the generic way */

/* A typed map's output as values, for destinations that bind values rather than write text (SQL):
 * one value per top-level entry of the map, in the map's order (FlowStepDef.tvnames). flow_tv_put
 * sets entry i to what flow_obj_add would put into the generic map's object, so a destination that
 * binds either the same way binds the same: a string copied into o->a (scratch text does not outlive
 * the record), a date-time as its ISO-8601 text, a duration as its int, a number that is not finite
 * as null, a whole number in the int64 range as that int (what flow_json_get_int reads in the tree),
 * a json scalar as the value it holds. v[i] is null, bool, int, number or string only. An entry whose `when` did not hold is not
 * set (has[i] stays 0: the column is not written). A json value is not put: bad is set, and the
 * record is mapped the generic way; so is a number whose text in that object is not its value's
 * (-0, a json number kept as written), for destinations that write the object's text (COPY). */
typedef struct FlowTOut { FlowVal *v; unsigned char *has; FlowArena *a; int bad; } FlowTOut;
void flow_tv_put(FlowTOut *o, int i, FlowVal v);
typedef int (*FlowTVMapFn)(FlowCtx *cx, const FlowTSlot *rec, FlowTOut *out);  /* 0, or -1: map it the generic way */

/* ---- hooks: C functions a flow names with c("file.c", "function") ----
 * A hook gets a page and decides, for each record, keep (the default), skip (the record is ignored
 * and counted) or error (a record error with the hook's message); it may change the records in
 * place or replace records[i] (cJSON_Delete the old one). pre_save_page runs on each exported page
 * before any step and may set abort to stop the export after that page. pre_map sees the records
 * entering an import, post_map and post_submit its mapped outputs (before and after they are
 * written), post_response_map the records after the response mapping. Return 0; anything else fails
 * the run. */
typedef enum { FLOW_HOOK_KEEP, FLOW_HOOK_SKIP, FLOW_HOOK_ERROR } FlowHookVerdict;
typedef struct FlowHookPage {
    const char *flow, *step, *point;
    int n;
    cJSON **records;
    FlowHookVerdict *verdict;
    char (*message)[256];
    int abort;
} FlowHookPage;
typedef int (*FlowHookFn)(FlowHookPage *page);
/* Marks record i as an error with a message (printf-style). */
void flow_hook_error(FlowHookPage *page, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct FlowStepDef FlowStepDef;
typedef struct FlowArmDef {
    const char *name;
    FlowStepFn cond;            /* NULL: takes every record left */
    const FlowStepDef *steps; int nsteps;
} FlowArmDef;

struct FlowStepDef {
    FlowStepKind kind;
    int id;                     /* unique in the flow; lookups' results are found by it */
    const char *name;           /* export, lookup, import */
    int conn;                   /* index into FlowProgram.conns, or -1 */
    const FlowSettingDef *settings; int nsettings;
    const FlowTypeDef *type;    /* export / lookup declared type; NULL = json */
    FlowStepFn fn;              /* filter condition, transform body */
    int all_matching;           /* branch */
    const FlowArmDef *arms; int narms;
    FlowMapFn map;              /* import; NULL = write the record as it is */
    FlowStepFn response;        /* import response mapping; NULL = none */
    int line;                   /* where it is in the .flow file */
    FlowHookFn pre_map, post_map, post_submit, post_response_map;   /* import hooks */
    int map_existing;           /* the map reads `existing` or `when creating/updating`: a database
                                   upsert looks each record up before mapping it */
    FlowTStepFn tfn;            /* filter: the same condition over a typed record, or NULL */
    FlowTMapFn tmap;            /* import: the same map over a typed record, printing, or NULL */
    FlowTVMapFn tvmap;          /* import: the same map over a typed record, as values (its entries are
                                   all scalars: no nested block, no `each`), or NULL */
    const char *const *tvnames; /* ...the entries' names, in the map's order */
    int ntv;
};

typedef struct FlowConnDef { const char *name; const char *kind; const FlowSettingDef *settings; int nsettings; } FlowConnDef;
typedef struct FlowFlowDef {
    const char *name;
    const FlowStepDef *steps; int nsteps;      /* steps[0] is the export */
    const FlowSettingDef *settings; int nsettings;
    int nlookups;               /* lookup result slots: ids of lookups are < nslots */
    int nslots;
    FlowHookFn pre_save_page;   /* flow-level hooks; the import hooks here apply to every import */
    FlowHookFn pre_map, post_map, post_submit, post_response_map;
} FlowFlowDef;
/* A param: its default (or -P) text in deflt, unless it is a secret (it feeds a secret setting such as
 * auth): then deflt is NULL and the text is masked[n..2n) XOR masked[0..n) (flow_param_default reads
 * it), so the executable never holds it in plain text. */
typedef struct FlowParamDef {
    const char *name; FlowKind kind; int nullable; const char *deflt;
    int secret; const char *masked; size_t nmasked;
} FlowParamDef;

/* An env block (`env sandbox { shop_url = "..." }`): `--env NAME` of the executable sets its params
 * before --param does. A value is the text of a constant (a secret param's masked as above); text
 * and masked both NULL: not a constant (`flowc build --env NAME` applies it). */
typedef struct FlowEnvValue { int param; const char *text; const char *masked; size_t nmasked; } FlowEnvValue;
typedef struct FlowEnvDef { const char *name; const FlowEnvValue *values; int nvalues; } FlowEnvDef;

typedef struct FlowProgram {
    const char *name, *version, *source;       /* integration name, version, .flow file name */
    const FlowParamDef *params; int nparams;
    const FlowConnDef *conns; int nconns;
    const FlowFlowDef *flows; int nflows;
    const FlowEnvDef *envs; int nenvs;
    const char *environment;                   /* the env block built in (flowc build --env NAME), or NULL */
} FlowProgram;

/* What generated code reads from the engine while a record is processed. */
#define FLOW_CONTEXTS(X) X(DELTA_SINCE) X(DELTA_UNTIL) X(PAGE_NUMBER) X(PAGE_SIZE) X(RUN_ID) \
    X(RUN_STARTED_AT) X(RUN_DATE) X(FLOW_NAME)
typedef enum {
#define X(id) FLOW_CTX_##id,
    FLOW_CONTEXTS(X)
#undef X
    FLOW_CTX_COUNT
} FlowContextId;

FlowVal flow_param(FlowCtx *cx, int index);
FlowVal flow_lookup_result(FlowCtx *cx, int step_id);
FlowVal flow_context(FlowCtx *cx, FlowContextId id);
FlowVal flow_response(FlowCtx *cx);
FlowVal flow_existing(FlowCtx *cx);

/* The engine's side of the same context (runtime/engine.c and steps.c set them). */
void flow_ctx_set_param(FlowCtx *cx, int index, FlowVal v);
void flow_ctx_set_lookup(FlowCtx *cx, int step_id, const cJSON *result);   /* NULL: null */
void flow_ctx_set_context(FlowCtx *cx, FlowContextId id, FlowVal v);
void flow_ctx_set_response(FlowCtx *cx, const cJSON *response);
void flow_ctx_set_existing(FlowCtx *cx, const cJSON *existing);

/* The built executable's command line (CLI.md): run, describe, --version. Returns the exit code. */
int flow_main(const FlowProgram *p, int argc, char **argv);

/* Every runtime function generated code may call besides the built-ins (stdlib/builtins.def) and
 * cJSON: the JIT registers exactly these (compiler/jit.c). Keep it in step with the declarations. */
#define FLOW_ABI(X) \
    X(flow_scratch_alloc) X(flow_scratch_keep) X(flow_fail) X(flow_failed) X(flow_fail_at) X(flow_ctx_now) \
    X(flow_val_to_json) X(flow_val_from_json) X(flow_val_text) X(flow_val_equal) \
    X(flow_parse_iso8601) X(flow_format_iso8601) \
    X(flow_op_arith_full) X(flow_op_neg) X(flow_op_cmp_full) X(flow_op_in) X(flow_truth) X(flow_tpl_true) \
    X(flow_tpl_section_true) X(flow_field) X(flow_index) X(flow_convert) X(flow_set_path) \
    X(flow_remove_path) X(flow_obj_put) X(flow_obj_add) X(flow_text_put) X(flow_text_val) X(flow_text_val_json) X(flow_text_val_url) \
    X(flow_text_val_html) X(flow_tpl_with_true) X(flow_tpl_lookup) X(flow_tpl_key) X(flow_tpl_step) \
    X(flow_text_done) X(flow_table_get) X(flow_param) X(flow_lookup_result) X(flow_context) \
    X(flow_response) X(flow_existing) X(flow_ctx_add_secret) X(flow_unmask) \
    X(flow_tp_byte_grow) X(flow_tp_key) X(flow_tp_keyraw_grow) X(flow_tp_elem) X(flow_tp_val) X(flow_tv_put)
/* The cJSON functions generated code calls. */
#define FLOW_CJSON_ABI(X) \
    X(cJSON_CreateObject) X(cJSON_CreateArray) X(cJSON_AddItemToArray) X(cJSON_AddItemToObject) \
    X(cJSON_AddStringToObject) X(cJSON_Delete) X(cJSON_IsArray) X(cJSON_IsNull) X(cJSON_GetArraySize)

#endif
