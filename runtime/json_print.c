/* json_print.c — JSON text out of a cJSON tree, with numbers exact: cJSON prints with %.15g and
 * accepts the result when it is within an epsilon of the value, so an integer near 2^53 (a 16-digit
 * id) could come out changed. Here a whole number prints all its digits and any other number the
 * shortest form that reads back as the same double. Every JSON the runtime writes goes through it. */
#include "flow.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Out { char *p; size_t n, cap; int oom; } Out;

static void put(Out *o, const char *s, size_t n) {
    if (o->oom) return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->n + n + 1) cap *= 2;
        char *p = cJSON_malloc(cap);
        if (!p) { o->oom = 1; return; }
        if (o->n) memcpy(p, o->p, o->n);
        cJSON_free(o->p);
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = 0;
}
static void puts_(Out *o, const char *s) { put(o, s, strlen(s)); }

/* the number's text: "null" for NaN and infinities (JSON has none) */
void flow_json_number(double d, char buf[32]) {
    if (!isfinite(d)) { strcpy(buf, "null"); return; }
    if (d == floor(d) && fabs(d) < 1e17) { snprintf(buf, 32, "%.0f", d); return; }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

static void str(Out *o, const char *s) {
    puts_(o, "\"");
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *e = NULL;
        char u[8];
        switch (*p) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (*p < 0x20) { snprintf(u, sizeof u, "\\u%04x", *p); e = u; }
        }
        if (!e) continue;
        put(o, run, (size_t)((const char *)p - run));
        puts_(o, e);
        run = (const char *)p + 1;
    }
    puts_(o, run);
    puts_(o, "\"");
}

static void tabs(Out *o, int n) { while (n-- > 0) puts_(o, "\t"); }

/* pretty: cJSON_Print's layout (objects one member per line, indented by tabs, `"key":\tvalue`;
 * arrays on one line, `, ` between elements), so what was printed before reads the same */
static void value(Out *o, const cJSON *j, int depth, int pretty) {
    char num[32];
    if (!j || depth > 10000) { puts_(o, "null"); return; }
    switch (j->type & 0xFF) {
    case cJSON_False: puts_(o, "false"); return;
    case cJSON_True: puts_(o, "true"); return;
    case cJSON_NULL: puts_(o, "null"); return;
    case cJSON_Number: flow_json_number(j->valuedouble, num); puts_(o, num); return;
    case cJSON_Raw: puts_(o, j->valuestring ? j->valuestring : "null"); return;
    case cJSON_String: str(o, j->valuestring ? j->valuestring : ""); return;
    case cJSON_Array:
        puts_(o, "[");
        for (const cJSON *c = j->child; c; c = c->next) {
            value(o, c, depth + 1, pretty);
            if (c->next) puts_(o, pretty ? ", " : ",");
        }
        puts_(o, "]");
        return;
    case cJSON_Object:
        puts_(o, pretty ? "{\n" : "{");
        for (const cJSON *c = j->child; c; c = c->next) {
            if (pretty) tabs(o, depth + 1);
            str(o, c->string ? c->string : "");
            puts_(o, pretty ? ":\t" : ":");
            value(o, c, depth + 1, pretty);
            if (c->next) puts_(o, ",");
            if (pretty) puts_(o, "\n");
        }
        if (pretty) tabs(o, depth);
        puts_(o, "}");
        return;
    default: puts_(o, "null");
    }
}

static char *print(const cJSON *j, int pretty) {
    Out o = { 0 };
    value(&o, j, 0, pretty);
    if (o.oom) { cJSON_free(o.p); return NULL; }
    return o.p;
}

char *flow_json_print(const cJSON *j) { return print(j, 0); }
char *flow_json_print_pretty(const cJSON *j) { return print(j, 1); }
