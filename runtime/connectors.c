/* connectors.c — the settings table every connector's settings are matched against, built from
 * runtime/connectors.def (the table the checker reads too), and what a word or constructor setting
 * accepts: the words of its `word:a|b` type, or the constructors of builtins.def whose result is its
 * `ctor:K` type; and the one check of a number setting against its RANGE, which the checker makes on
 * constants and the engine on evaluated values. */
#include "engine.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { REQ = FLOW_SETF_REQ, OPT = FLOW_SETF_OPT, SECRET = FLOW_SETF_SECRET, STEP = FLOW_SETF_STEP };

const FlowSettingSpec flow_setting_specs[] = {
#define CONN(k)
#define RANGE(n, lo, hi)
#define SET(k, w, n, t, rt, f) { #k, FLOW_AT_##w, #n, FLOW_SETT_##rt, t, ((f) & REQ) != 0, ((f) & SECRET) != 0, ((f) & STEP) != 0 },
#include "connectors.def"
#undef CONN
#undef RANGE
#undef SET
};
const int flow_nsetting_specs = (int)(sizeof flow_setting_specs / sizeof flow_setting_specs[0]);

const char *const flow_conn_kinds[] = {
#define CONN(k) #k,
#define SET(...)
#define RANGE(...)
#include "connectors.def"
#undef CONN
#undef SET
#undef RANGE
    NULL
};

int flow_conn_kind(const char *name) {
    for (int k = 0; name && flow_conn_kinds[k]; k++) if (strcmp(flow_conn_kinds[k], name) == 0) return k;
    return -1;
}

static const struct { const char *name; double lo, hi; } ranges[] = {
#define CONN(k)
#define SET(k, w, n, t, rt, f)
#define RANGE(n, lo, hi) { #n, lo, hi },
#include "connectors.def"
#undef CONN
#undef RANGE
#undef SET
};

/* the constructors of builtins.def: name, parameters and result ("ctor:mode"); functions have kind FN */
static const struct { const char *name, *kind, *params, *result; } builtins[] = {
#define B(n, k, params, r, sym, doc) { #n, #k, params, r },
#include "builtins.def"
#undef B
};

const FlowSettingSpec *flow_setting_spec(const char *kind, FlowSettingPlace at, const char *name) {
    if (!kind || !name) return NULL;
    for (int i = 0; i < flow_nsetting_specs; i++) {
        const FlowSettingSpec *sp = &flow_setting_specs[i];
        if (sp->at == at && strcmp(sp->kind, kind) == 0 && strcmp(sp->name, name) == 0) return sp;
    }
    return NULL;
}

int flow_setting_range(const char *name, double *lo, double *hi) {
    for (size_t i = 0; name && i < sizeof ranges / sizeof ranges[0]; i++)
        if (strcmp(ranges[i].name, name) == 0) { *lo = ranges[i].lo; *hi = ranges[i].hi; return 1; }
    return 0;
}

/* A bound or value as the flow writes it: a duration in its largest whole unit (90s, 1h, 250ms, 0s), a
 * whole number by its digits, any other number by its shortest text. */
static const char *range_text(char buf[48], const char *ctype, double v) {
    if (ctype && strcmp(ctype, "duration") == 0 && v == floor(v) && fabs(v) < 1e15) return flow_duration_text(buf, (int64_t)v);
    if (v == floor(v) && fabs(v) < 1e15) { snprintf(buf, 48, "%.0f", v); return buf; }
    return flow_num_text(buf, v);
}

int flow_setting_check_range(const char *name, const char *ctype, double v, char *why, size_t cap) {
    double lo, hi;
    if (!flow_setting_range(name, &lo, &hi) || (v >= lo && v <= hi)) return 0;
    char a[48], b[48], c[48];
    snprintf(why, cap, "must be between %s and %s, got %s", range_text(a, ctype, lo), range_text(b, ctype, hi), range_text(c, ctype, v));
    return 1;
}

int flow_setting_accepts(const FlowSettingSpec *sp, const char *word) {
    if (!sp || !word) return 0;
    if (sp->type == FLOW_SETT_WORD && strncmp(sp->ctype, "word:", 5) == 0) return flow_word_in(word, sp->ctype + 5);
    if (sp->type == FLOW_SETT_CTOR && strncmp(sp->ctype, "ctor:", 5) == 0)
        for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
            if (strcmp(builtins[i].kind, "CTOR") == 0 && strcmp(builtins[i].result, sp->ctype) == 0 &&
                strcmp(builtins[i].name, word) == 0) return 1;
    return 0;
}

void flow_setting_choices(const FlowSettingSpec *sp, char *buf, size_t cap) {
    size_t n = 0;
    if (cap) buf[0] = 0;
    if (!sp || cap == 0) return;
    if (sp->type == FLOW_SETT_WORD && strncmp(sp->ctype, "word:", 5) == 0) {
        snprintf(buf, cap, "%s", sp->ctype + 5);
        for (char *p = buf; *p; p++) if (*p == '|') *p = ',';
        return;
    }
    for (size_t i = 0; sp->type == FLOW_SETT_CTOR && i < sizeof builtins / sizeof builtins[0] && n < cap; i++)
        if (strcmp(builtins[i].kind, "CTOR") == 0 && strcmp(builtins[i].result, sp->ctype) == 0)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", builtins[i].name);
}

int flow_ctor_param_secret(const char *ctor, const char *param) {
    if (!ctor || !param) return 0;
    size_t pn = strlen(param);
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(builtins[i].kind, "CTOR") != 0 || strcmp(builtins[i].name, ctor) != 0) continue;
        /* "a:string, secret:secret, ...": the parameter named `param`, typed secret (maybe optional) */
        for (const char *s = builtins[i].params; *s;) {
            while (*s == ' ' || *s == ',') s++;
            const char *end = strchr(s, ',');
            if (!end) end = s + strlen(s);
            if ((size_t)(end - s) >= pn + 7 && strncmp(s, param, pn) == 0 && strncmp(s + pn, ":secret", 7) == 0 &&
                (s + pn + 7 == end || s[pn + 7] == '?'))
                return 1;
            s = end;
        }
    }
    return 0;
}
