/* template.c — template rendering helpers shared by `flowc eval --template` and generated code: a growable text buffer, the escaping modes, Mustache/Handlebars truthiness, value-to-text and context-stack name resolution over cJSON values. */
#include "template.h"
#include "flow.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable byte buffer ---- */

void flow_buf_init(FlowBuf *b, size_t max) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->failed = FLOW_BUF_OK;
}

void flow_buf_free(FlowBuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = FLOW_BUF_OK;
}

/* Room for n more bytes and the NUL. */
static int reserve(FlowBuf *b, size_t n) {
    if (b->failed) return -1;
    if (n > SIZE_MAX / 2 - b->len || (b->max && b->len + n > b->max)) {
        b->failed = FLOW_BUF_TOOBIG;
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = FLOW_BUF_NOMEM;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int flow_buf_put(FlowBuf *b, const char *s, size_t n) {
    if (reserve(b, n)) return -1;
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int flow_buf_puts(FlowBuf *b, const char *s) { return flow_buf_put(b, s, strlen(s)); }

int flow_buf_putc(FlowBuf *b, char c) { return flow_buf_put(b, &c, 1); }

int flow_buf_failed(const FlowBuf *b) { return b->failed; }

const char *flow_buf_cstr(const FlowBuf *b) { return b->data ? b->data : ""; }

char *flow_buf_take(FlowBuf *b, size_t *len) {
    char *p = b->data;
    size_t n = b->len;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = FLOW_BUF_OK;
    if (len) *len = p ? n : 0;
    return p;
}

/* ---- escaping ---- */

int flow_tpl_escape_mode(const char *name, FlowEscape *mode) {
    if (!name) return -1;
    if (strcmp(name, "none") == 0) *mode = FLOW_ESC_NONE;
    else if (strcmp(name, "html") == 0) *mode = FLOW_ESC_HTML;
    else if (strcmp(name, "json") == 0) *mode = FLOW_ESC_JSON;
    else return -1;
    return 0;
}

/* The replacement of byte c in mode, or NULL when it stays as it is; small[] holds \u00XX forms. */
static const char *escape_of(FlowEscape mode, unsigned char c, char small[8]) {
    if (mode == FLOW_ESC_HTML) {
        switch (c) {
        case '&': return "&amp;";
        case '<': return "&lt;";
        case '>': return "&gt;";
        case '"': return "&quot;";
        case '\'': return "&#x27;";
        default: return NULL;
        }
    }
    if (mode == FLOW_ESC_JSON) {
        switch (c) {
        case '"': return "\\\"";
        case '\\': return "\\\\";
        case '\n': return "\\n";
        case '\r': return "\\r";
        case '\t': return "\\t";
        case '\b': return "\\b";
        case '\f': return "\\f";
        default:
            if (c >= 0x20) return NULL;
            snprintf(small, 8, "\\u%04x", c);
            return small;
        }
    }
    return NULL;
}

int flow_tpl_put_escaped(FlowBuf *b, FlowEscape mode, const char *s, size_t n) {
    if (mode == FLOW_ESC_NONE) return flow_buf_put(b, s, n);
    size_t run = 0;                      /* start of the bytes not written yet */
    char small[8];
    for (size_t i = 0; i < n; i++) {
        const char *r = escape_of(mode, (unsigned char)s[i], small);
        if (!r) continue;
        if (flow_buf_put(b, s + run, i - run) || flow_buf_puts(b, r)) return -1;
        run = i + 1;
    }
    return flow_buf_put(b, s + run, n - run);
}

/* ---- values as text ---- */

/* The shortest decimal digits that read back as d (d finite and > 0): digits[] without trailing
 * zeros and the exponent n such that d = 0.DIGITS x 10^n (ECMAScript Number::toString's k and n). */
static int shortest_digits(double d, char digits[20], int *n) {
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (prec < 17 && strtod(tmp, NULL) != d) continue;
        /* tmp is D.DDDDe[+-]XX */
        int k = 0;
        const char *p = tmp;
        for (; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9' && k < 19) digits[k++] = *p;
        int e = *p == 'e' ? atoi(p + 1) : 0;
        while (k > 1 && digits[k - 1] == '0') k--;
        digits[k] = 0;
        *n = e + 1;
        return k;
    }
    digits[0] = '0'; digits[1] = 0; *n = 1;     /* not reached */
    return 1;
}

size_t flow_tpl_format_number(double d, char out[32]) {
    if (isnan(d)) { memcpy(out, "NaN", 4); return 3; }
    if (isinf(d)) {
        const char *s = d < 0 ? "-Infinity" : "Infinity";
        size_t l = strlen(s);
        memcpy(out, s, l + 1);
        return l;
    }
    if (d == 0) { memcpy(out, "0", 2); return 1; }
    size_t o = 0;
    if (d < 0) { out[o++] = '-'; d = -d; }
    char dg[20];
    int n, k = shortest_digits(d, dg, &n);
    /* at most 1 + 21 digits + '.' or 1 + 6 + 17 + 2 or 1 + 17 + 5 bytes: always below 32 */
    if (k <= n && n <= 21) {                       /* 123000 */
        memcpy(out + o, dg, (size_t)k); o += (size_t)k;
        for (int i = k; i < n; i++) out[o++] = '0';
    } else if (0 < n && n <= 21) {                 /* 12.3 */
        memcpy(out + o, dg, (size_t)n); o += (size_t)n;
        out[o++] = '.';
        memcpy(out + o, dg + n, (size_t)(k - n)); o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {                 /* 0.000123 */
        out[o++] = '0'; out[o++] = '.';
        for (int i = 0; i < -n; i++) out[o++] = '0';
        memcpy(out + o, dg, (size_t)k); o += (size_t)k;
    } else {                                       /* 1.23e+25, 1e-7 */
        out[o++] = dg[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, dg + 1, (size_t)(k - 1)); o += (size_t)(k - 1);
        }
        o += (size_t)snprintf(out + o, 32 - o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    out[o] = 0;
    return o;
}

/* Compact JSON text of v, with numbers as flow_tpl_format_number writes them (NaN and the
 * infinities, which JSON cannot hold, as null). cJSON's parser caps nesting, so the recursion is
 * bounded for parsed data. */
static int put_json_string(FlowBuf *b, const char *s) {
    if (flow_buf_putc(b, '"') || flow_tpl_put_escaped(b, FLOW_ESC_JSON, s, strlen(s))) return -1;
    return flow_buf_putc(b, '"');
}

/* a number's text in a template: an exact int's digits (flow.h), else as JavaScript's String(n) */
static size_t tpl_number(const cJSON *v, char num[32]) {
    int64_t i;
    if (v->valuestring && flow_json_big_int(v, &i)) return strlen(flow_json_num_text(v, num));   /* the digits, in num */
    return flow_tpl_format_number(v->valuedouble, num);
}

static int put_json(FlowBuf *b, const cJSON *v) {
    char num[32];
    if (!v || cJSON_IsNull(v)) return flow_buf_puts(b, "null");
    if (cJSON_IsFalse(v)) return flow_buf_puts(b, "false");
    if (cJSON_IsTrue(v)) return flow_buf_puts(b, "true");
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble)) return flow_buf_puts(b, "null");
        size_t l = tpl_number(v, num);
        return flow_buf_put(b, num, l);
    }
    if (cJSON_IsString(v)) return put_json_string(b, v->valuestring ? v->valuestring : "");
    if (cJSON_IsRaw(v)) return flow_buf_puts(b, v->valuestring ? v->valuestring : "null");
    int obj = cJSON_IsObject(v);
    if (!obj && !cJSON_IsArray(v)) return flow_buf_puts(b, "null");
    if (flow_buf_putc(b, obj ? '{' : '[')) return -1;
    for (const cJSON *c = v->child; c; c = c->next) {
        if (c != v->child && flow_buf_putc(b, ',')) return -1;
        if (obj && (put_json_string(b, c->string ? c->string : "") || flow_buf_putc(b, ':'))) return -1;
        if (put_json(b, c)) return -1;
    }
    return flow_buf_putc(b, obj ? '}' : ']');
}

int flow_tpl_put_json(FlowBuf *b, FlowEscape mode, const cJSON *v) {
    if (mode == FLOW_ESC_NONE) return put_json(b, v);
    FlowBuf tmp;                         /* the JSON text first, then escaped as any other text */
    flow_buf_init(&tmp, b->max);
    put_json(&tmp, v);
    int rc = flow_buf_failed(&tmp) ? -1 : flow_tpl_put_escaped(b, mode, flow_buf_cstr(&tmp), tmp.len);
    if (flow_buf_failed(&tmp) && !b->failed) b->failed = flow_buf_failed(&tmp);
    flow_buf_free(&tmp);
    return rc;
}

int flow_tpl_put_value(FlowBuf *b, FlowEscape mode, const cJSON *v) {
    char num[32];
    if (!v || cJSON_IsNull(v) || cJSON_IsInvalid(v)) return b->failed ? -1 : 0;
    if (cJSON_IsString(v) || cJSON_IsRaw(v)) {
        const char *s = v->valuestring ? v->valuestring : "";
        return flow_tpl_put_escaped(b, mode, s, strlen(s));
    }
    if (cJSON_IsNumber(v)) {
        size_t l = tpl_number(v, num);
        return flow_buf_put(b, num, l);            /* digits, signs, '.', 'e', letters: nothing to escape */
    }
    if (cJSON_IsTrue(v)) return flow_buf_puts(b, "true");
    if (cJSON_IsFalse(v)) return flow_buf_puts(b, "false");
    return flow_tpl_put_json(b, mode, v);          /* arrays and objects */
}

/* ---- truthiness ---- */

int flow_tpl_truthy(const cJSON *v, FlowTruth rule) {
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v) || cJSON_IsInvalid(v)) return 0;
    if (cJSON_IsArray(v)) return v->child != NULL;
    if (rule == FLOW_TRUTH_SECTION) return 1;
    if (cJSON_IsString(v)) return v->valuestring && v->valuestring[0];
    if (cJSON_IsNumber(v)) {
        if (isnan(v->valuedouble)) return 0;
        return rule == FLOW_TRUTH_WITH || v->valuedouble != 0;
    }
    return 1;
}

/* ---- names ---- */

const cJSON *flow_tpl_member(const cJSON *v, const char *name, size_t len) {
    if (!v || !name) return NULL;
    if (cJSON_IsObject(v)) {
        for (const cJSON *c = v->child; c; c = c->next)
            if (c->string && strncmp(c->string, name, len) == 0 && c->string[len] == 0) return c;
        return NULL;
    }
    if (cJSON_IsArray(v)) {
        if (len == 0 || len > 9 || (len > 1 && name[0] == '0')) return NULL;
        size_t idx = 0;
        for (size_t i = 0; i < len; i++) {
            if (name[i] < '0' || name[i] > '9') return NULL;
            idx = idx * 10 + (size_t)(name[i] - '0');
        }
        const cJSON *c = v->child;
        for (; c && idx; idx--) c = c->next;
        return c;
    }
    return NULL;
}

/* parts[0] through the stack, from the top down. */
static const cJSON *resolve_first(const cJSON *const *stack, size_t depth, const char *name, size_t len) {
    for (size_t i = depth; i > 0; i--) {
        const cJSON *r = flow_tpl_member(stack[i - 1], name, len);
        if (r) return r;
    }
    return NULL;
}

const cJSON *flow_tpl_resolve(const cJSON *const *stack, size_t depth, const char *const *parts, size_t nparts) {
    if (!stack || depth == 0) return NULL;
    if (nparts == 0) return stack[depth - 1];
    const cJSON *v = resolve_first(stack, depth, parts[0], strlen(parts[0]));
    for (size_t i = 1; v && i < nparts; i++) v = flow_tpl_member(v, parts[i], strlen(parts[i]));
    return v;
}

const cJSON *flow_tpl_resolve_dotted(const cJSON *const *stack, size_t depth, const char *name) {
    if (!stack || depth == 0 || !name) return NULL;
    if (strcmp(name, ".") == 0) return stack[depth - 1];
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    const cJSON *v = resolve_first(stack, depth, name, len);
    while (v && dot) {
        name = dot + 1;
        dot = strchr(name, '.');
        len = dot ? (size_t)(dot - name) : strlen(name);
        v = flow_tpl_member(v, name, len);
    }
    return v;
}
