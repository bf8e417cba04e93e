/* json_print.c — JSON text out of a cJSON tree, with numbers exact: cJSON prints with %.15g and
 * accepts the result when it is within an epsilon of the value, so an integer near 2^53 (a 16-digit
 * id) could come out changed. Here an int prints all its digits (those an exact int carries beyond
 * 2^53, flow.h), so does any other whole number in the int64 range, and any other number the
 * shortest form that reads back as the same double. Every JSON the runtime writes goes through it (records,
 * error data, previews, state), and its output is always valid JSON: text that is not valid UTF-8
 * (which the readers refuse, so only a hook could make it) has each bad byte written as U+FFFD. */
#include "flow.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Out { char *p; size_t n, cap; int oom; char *stack; } Out;

static int grow(Out *o, size_t need) {
    if (o->oom) return 0;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->n + need + 1) cap *= 2;
    char *p = cJSON_malloc(cap);
    if (!p) { o->oom = 1; return 0; }
    if (o->n) memcpy(p, o->p, o->n);
    if (o->p != o->stack) cJSON_free(o->p);
    o->p = p;
    o->cap = cap;
    return 1;
}

static inline void put(Out *o, const char *s, size_t n) {
    if (o->n + n + 1 > o->cap && !grow(o, n)) return;
    memcpy(o->p + o->n, s, n);
    o->n += n;
}
static inline void put1(Out *o, char c) {
    if (o->n + 2 > o->cap && !grow(o, 1)) return;
    o->p[o->n++] = c;
}
static void puts_(Out *o, const char *s) { put(o, s, strlen(s)); }

/* the number's text: "null" for NaN and infinities (JSON has none; the readers refuse them) */
void flow_json_number(double d, char buf[32]) {
    if (!isfinite(d)) { strcpy(buf, "null"); return; }
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        /* whole and in the int64 range: its digits, as the int it is (flow.h) */
        int64_t i = (int64_t)d;
        char tmp[24], *q = tmp + sizeof tmp;
        uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        do *--q = (char)('0' + u % 10); while (u /= 10);
        if (i < 0 || (i == 0 && signbit(d))) *--q = '-';
        size_t n = (size_t)(tmp + sizeof tmp - q);
        memcpy(buf, q, n);
        buf[n] = 0;
        return;
    }
    flow_dec_format_g(buf, d, 15);   /* %.15g, or more digits when 15 do not read back */
}

/* s[0..n), stopping early at a NUL (as a cJSON string made from it would end there) */
static void str_n(Out *o, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *run = p, *end = p + n;
    put1(o, '"');
    for (;;) {
        p = flow_json_plain_end(p, end);   /* printable ASCII other than '"' and '\\' */
        if (p >= end) break;
        unsigned c = *p;
        if (!c) break;
        put(o, (const char *)run, (size_t)(p - run));
        if (c >= 0x80) {
            size_t k = flow_utf8_seq(p, strnlen((const char *)p, (size_t)(end - p) < 4 ? (size_t)(end - p) : 4));
            if (k) put(o, (const char *)p, k);
            else { put(o, "\\ufffd", 6); k = 1; }
            p += k;
        } else {
            char u[8];
            const char *e;
            switch (c) {
            case '"': e = "\\\""; break;
            case '\\': e = "\\\\"; break;
            case '\b': e = "\\b"; break;
            case '\f': e = "\\f"; break;
            case '\n': e = "\\n"; break;
            case '\r': e = "\\r"; break;
            case '\t': e = "\\t"; break;
            default: snprintf(u, sizeof u, "\\u%04x", c); e = u;
            }
            puts_(o, e);
            p++;
        }
        run = p;
    }
    put(o, (const char *)run, (size_t)(p - run));
    put1(o, '"');
}

static void str(Out *o, const char *s) { str_n(o, s, strlen(s)); }

static void tabs(Out *o, int n) { while (n-- > 0) put1(o, '\t'); }

/* pretty: cJSON_Print's layout (objects one member per line, indented by tabs, `"key":\tvalue`;
 * arrays on one line, `, ` between elements), so what was printed before reads the same */
static void value(Out *o, const cJSON *j, int depth, int pretty) {
    char num[32];
    if (!j || depth > 10000) { puts_(o, "null"); return; }
    switch (j->type & 0xFF) {
    case cJSON_False: put(o, "false", 5); return;
    case cJSON_True: put(o, "true", 4); return;
    case cJSON_NULL: put(o, "null", 4); return;
    case cJSON_Number: puts_(o, flow_json_num_text(j, num)); return;
    case cJSON_Raw: puts_(o, j->valuestring ? j->valuestring : "null"); return;
    case cJSON_String: str(o, j->valuestring ? j->valuestring : ""); return;
    case cJSON_Array:
        put1(o, '[');
        for (const cJSON *c = j->child; c; c = c->next) {
            value(o, c, depth + 1, pretty);
            if (c->next) { if (pretty) put(o, ", ", 2); else put1(o, ','); }
        }
        put1(o, ']');
        return;
    case cJSON_Object:
        if (pretty) put(o, "{\n", 2); else put1(o, '{');
        for (const cJSON *c = j->child; c; c = c->next) {
            if (pretty) tabs(o, depth + 1);
            str(o, c->string ? c->string : "");
            if (pretty) put(o, ":\t", 2); else put1(o, ':');
            value(o, c, depth + 1, pretty);
            if (c->next) put1(o, ',');
            if (pretty) put1(o, '\n');
        }
        if (pretty) tabs(o, depth);
        put1(o, '}');
        return;
    default: puts_(o, "null");
    }
}

static char *print(Out *o, const cJSON *j, int pretty, size_t *len) {
    value(o, j, 0, pretty);
    if (!o->oom && o->n + 1 > o->cap) grow(o, 1);
    if (o->oom) {
        if (o->p != o->stack) cJSON_free(o->p);
        return NULL;
    }
    o->p[o->n] = 0;
    if (len) *len = o->n;
    return o->p;
}

char *flow_json_print(const cJSON *j) { Out o = { 0 }; return print(&o, j, 0, NULL); }
char *flow_json_print_pretty(const cJSON *j) { Out o = { 0 }; return print(&o, j, 1, NULL); }

char *flow_json_print_into(const cJSON *j, char *buf, size_t cap, size_t *len) {
    Out o = { buf, 0, cap, 0, buf };
    return print(&o, j, 0, len);
}

/* ---- typed maps' output (flow.h: FlowBuf) ----
 * The same Out underneath, so a typed map prints what the generic map's tree prints. */

static Out out_of(FlowBuf *b) { Out o = { b->p, b->n, b->cap, b->oom, NULL }; return o; }
static void out_back(FlowBuf *b, const Out *o) { b->p = o->p; b->n = o->n; b->cap = o->cap; b->oom = o->oom; }

void flow_buf_free(FlowBuf *b) {
    cJSON_free(b->p);
    memset(b, 0, sizeof *b);
}

void flow_tp_byte_grow(FlowBuf *b, char c) { Out o = out_of(b); put1(&o, c); out_back(b, &o); }

void flow_tp_elem(FlowBuf *b) {
    if (b->n && b->p[b->n - 1] != '[') { Out o = out_of(b); put1(&o, ','); out_back(b, &o); }
}

void flow_tp_key(FlowBuf *b, const char *key) {
    Out o = out_of(b);
    if (o.n && o.p[o.n - 1] != '{') put1(&o, ',');
    str(&o, key);
    put1(&o, ':');
    out_back(b, &o);
}

void flow_tp_keyraw_grow(FlowBuf *b, const char *text, size_t n) {
    Out o = out_of(b);
    if (o.n && o.p[o.n - 1] != '{') put1(&o, ',');
    put(&o, text, n);
    out_back(b, &o);
}

void flow_tp_val(FlowBuf *b, FlowVal v) {
    Out o = out_of(b);
    char num[32];
    switch (v.kind) {
    case FLOW_NULL: put(&o, "null", 4); break;
    case FLOW_BOOL: if (v.b) put(&o, "true", 4); else put(&o, "false", 5); break;
    case FLOW_INT: case FLOW_DURATION: {   /* flow_json_int's digits */
        char tmp[24], *q = tmp + sizeof tmp;
        uint64_t u = v.i < 0 ? (uint64_t)0 - (uint64_t)v.i : (uint64_t)v.i;
        do *--q = (char)('0' + u % 10); while (u /= 10);
        if (v.i < 0) *--q = '-';
        put(&o, q, (size_t)(tmp + sizeof tmp - q));
        break;
    }
    case FLOW_NUMBER: flow_json_number(v.n, num); puts_(&o, num); break;   /* "null" when not finite, as flow_val_to_json */
    case FLOW_STRING: str_n(&o, v.s.p ? v.s.p : "", v.s.p ? v.s.n : 0); break;
    case FLOW_JSON: value(&o, v.j, 0, 0); break;
    case FLOW_DATETIME: {   /* its text as flow_val_to_json gives it */
        char buf[32];
        const char *iso = flow_datetime_text(v.i, buf);
        str_n(&o, iso, strlen(iso));
        break;
    }
    default: {
        cJSON *j = flow_val_to_json(v);
        value(&o, j, 0, 0);
        cJSON_Delete(j);
    }
    }
    out_back(b, &o);
}
