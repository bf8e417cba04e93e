/* template.h — template rendering helpers shared by `flowc eval --template` and generated code: a growable text buffer, the escaping modes, Mustache/Handlebars truthiness, value-to-text and context-stack name resolution over cJSON values. */
#ifndef FLOW_TEMPLATE_H
#define FLOW_TEMPLATE_H
#include <stddef.h>

struct cJSON;

/* ---- growable byte buffer ----
 * Callers own the struct (usually on the stack); the bytes are malloc'd. Every put returns 0, or -1
 * once the buffer has failed (out of memory, or past its size limit): a failure is sticky, later
 * puts do nothing, so a caller may check once at the end with flow_buf_failed. */
typedef struct FlowBuf {
    char *data;          /* NUL-terminated once anything was put; NULL while empty */
    size_t len, cap;
    size_t max;          /* largest len accepted; 0 means no limit */
    int failed;          /* FLOW_BUF_OK, FLOW_BUF_NOMEM or FLOW_BUF_TOOBIG */
} FlowBuf;

enum { FLOW_BUF_OK = 0, FLOW_BUF_NOMEM = 1, FLOW_BUF_TOOBIG = 2 };

void flow_buf_init(FlowBuf *b, size_t max);
void flow_buf_free(FlowBuf *b);                  /* frees the bytes; the buffer is empty and usable again */
int  flow_buf_put(FlowBuf *b, const char *s, size_t n);
int  flow_buf_puts(FlowBuf *b, const char *s);
int  flow_buf_putc(FlowBuf *b, char c);
int  flow_buf_failed(const FlowBuf *b);         /* FLOW_BUF_OK (0) or the reason */
const char *flow_buf_cstr(const FlowBuf *b);    /* the bytes, NUL-terminated ("" when empty) */
/* Hands the bytes to the caller (malloc'd, NUL-terminated, never NULL unless out of memory) and
 * empties the buffer; *len (if not NULL) gets their length. */
char *flow_buf_take(FlowBuf *b, size_t *len);

/* ---- escaping ---- */
typedef enum {
    FLOW_ESC_NONE,       /* bytes as they are */
    FLOW_ESC_HTML,       /* & < > " ' as &amp; &lt; &gt; &quot; &#x27; */
    FLOW_ESC_JSON        /* as inside a JSON string literal (no quotes added): \" \\ \n \r \t \b \f, other controls \u00XX */
} FlowEscape;

/* "none" | "html" | "json" -> *mode; returns 0, or -1 for any other name. */
int flow_tpl_escape_mode(const char *name, FlowEscape *mode);
int flow_tpl_put_escaped(FlowBuf *b, FlowEscape mode, const char *s, size_t n);

/* ---- values as text ---- */
/* A number as JavaScript's String(n) writes it (Handlebars and the Mustache spec): 85 -> "85",
 * 1.210 -> "1.21", 1e21 -> "1e+21", 0.000001 -> "0.000001", -0 -> "0"; NaN / Infinity by name.
 * Writes at most 32 bytes including the NUL into out; returns the length. */
size_t flow_tpl_format_number(double d, char out[32]);
/* The text of a value: missing (NULL) and null -> "", strings as they are, numbers as above,
 * true / false, arrays and objects as compact JSON. Escaped with mode. */
int flow_tpl_put_value(FlowBuf *b, FlowEscape mode, const struct cJSON *v);
/* Compact JSON text of v (missing -> null; NaN and infinities -> null; numbers as above), then
 * escaped with mode: {{jsonSerialize x}}. */
int flow_tpl_put_json(FlowBuf *b, FlowEscape mode, const struct cJSON *v);

/* ---- truthiness ---- */
typedef enum {
    FLOW_TRUTH_SECTION,  /* Mustache {{#x}} / {{^x}}: falsey are missing, null, false and [] */
    FLOW_TRUTH_IF,       /* Handlebars #if / #unless: also "", 0 and NaN */
    FLOW_TRUTH_WITH      /* Handlebars #with: as #if, but 0 is truthy */
} FlowTruth;

int flow_tpl_truthy(const struct cJSON *v, FlowTruth rule);

/* ---- names ----
 * A context stack is an array of values, bottom (the root data) first, top (the innermost
 * section's value) last. Lookups return pointers into those values, or NULL when missing. */

/* One step down a value: an object's member named exactly name[0..len), or an array's element at
 * a decimal index (no sign, no leading zeros). NULL for anything else. */
const struct cJSON *flow_tpl_member(const struct cJSON *v, const char *name, size_t len);
/* Mustache name resolution. nparts == 0 is `.`: the top of the stack. Otherwise parts[0] is looked
 * up in each context from the top down, and the first context that has it as a key (even with a
 * null value) wins; the remaining parts are then resolved strictly, each in the previous result. */
const struct cJSON *flow_tpl_resolve(const struct cJSON *const *stack, size_t depth,
                                     const char *const *parts, size_t nparts);
/* The same for a dotted name as written in a tag: "." or "a.b.c" (split on every '.'). */
const struct cJSON *flow_tpl_resolve_dotted(const struct cJSON *const *stack, size_t depth, const char *name);

#endif
