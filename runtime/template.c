/* template.c — what generated templates call beyond ops.c: Mustache name lookup through the
 * section contexts, @key, #with truthiness, the iteration budget, HTML escaping, and numbers as
 * JavaScript writes them (the text of a number everywhere: templates, to_string, join). */
#include "flow.h"
#include "template.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values as text ---- */

/* The shortest decimal digits that read back as d (d finite and > 0): digits[] without trailing
 * zeros and the exponent n such that d = 0.DIGITS x 10^n (ECMAScript Number::toString's k and n). */
static int shortest_digits(double d, char digits[21], int *n) {
    uint64_t m;
    int p, k = flow_dec_shortest(d, &m, &p);
    flow_dec_digits(m, digits);
    *n = p + k;
    return k;
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
    char dg[21];
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

/* ---- sections and names ---- */

int flow_tpl_with_true(FlowVal v) {
    switch (v.kind) {
    case FLOW_INT: case FLOW_DURATION: return 1;                 /* 0 included */
    case FLOW_NUMBER: return !isnan(v.n);
    case FLOW_JSON:
        if (v.j && cJSON_IsNumber(v.j)) return !isnan(v.j->valuedouble);
        return flow_tpl_true(v);
    default: return flow_tpl_true(v);
    }
}

FlowVal flow_tpl_lookup(FlowCtx *cx, const FlowVal *ctx, int n, const char *name) {
    (void)cx;
    for (int i = 0; i < n && name; i++) {
        if (ctx[i].kind != FLOW_JSON || !ctx[i].j || !cJSON_IsObject(ctx[i].j)) continue;   /* no members */
        for (const cJSON *m = ctx[i].j->child; m; m = m->next)
            if (m->string && strcmp(m->string, name) == 0) return flow_json(m);
    }
    return flow_null();
}

FlowVal flow_tpl_key(const cJSON *member) {
    if (!member || !member->string) return flow_null();
    return flow_string(member->string, strlen(member->string));
}

int flow_tpl_step(FlowCtx *cx, int64_t *steps, int64_t limit) {
    if (*steps <= limit) return 1;
    if (*steps == limit + 1)
        flow_fail(cx, FLOW_ERR_VALUE, "template rendering stopped after %lld steps: sections nested over large lists?", (long long)limit);
    return 0;
}

/* ---- escaping ---- */

void flow_text_val_html(FlowCtx *cx, FlowText *t, FlowVal v) {
    if (flow_val_is_null(v)) return;
    FlowStr s = flow_val_text(cx, v);
    size_t run = 0;
    for (size_t i = 0; i < s.n; i++) {
        const char *r;
        switch (s.p[i]) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&#x27;"; break;
        default: continue;
        }
        flow_text_put(cx, t, s.p + run, i - run);
        flow_text_put(cx, t, r, strlen(r));
        run = i + 1;
    }
    flow_text_put(cx, t, s.p + run, s.n - run);
}
