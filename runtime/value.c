/* value.c — the run context (scratch memory per record, the current error, the run's clock) and the
 * conversions between FlowVal, cJSON and text. The ownership rule is in flow.h. */
#include "engine.h"
#include "template.h"
#include "flow_re.h"
#include <utf8proc.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const flow_error_class_names[FLOW_ERR_COUNT] = {
#define X(id, s) s,
    FLOW_ERROR_CLASSES(X)
#undef X
};

struct FlowCtx {
    FlowCtxHead h;             /* first: scratch (per record: its first block is kept across resets), failed */
    cJSON **kept; size_t nkept, capkept;
    int located;
    FlowErrorClass cls;
    char msg[512];
    int64_t now_ms;
    /* what generated code reads while a record is processed */
    FlowVal *params; int nparams;
    const cJSON **lookups; int nlookups;
    FlowVal contexts[FLOW_CTX_COUNT];
    const cJSON *response, *existing;
    char **secrets; int nsecrets;
    /* the patterns regex_match and regex_replace compiled last (flow_ctx_regex), reused round robin */
    struct { char *pat; size_t n; FlowRegex *re; } re_cache[FLOW_CTX_RE_CACHE];
    unsigned re_next;
};

FlowCtx *flow_ctx_new(void) {
    FlowCtx *cx = calloc(1, sizeof *cx);
    if (!cx) abort();
    cx->now_ms = flow_wall_ms();
    return cx;
}

double flow_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int64_t flow_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void flow_ctx_free(FlowCtx *cx) {
    if (!cx) return;
    flow_scratch_reset(cx);
    flow_arena_free(&cx->h.scratch);
    free(cx->kept);
    free(cx->params);
    free(cx->lookups);
    for (int i = 0; i < cx->nsecrets; i++) free(cx->secrets[i]);
    free(cx->secrets);
    for (int i = 0; i < FLOW_CTX_RE_CACHE; i++) { free(cx->re_cache[i].pat); flow_re_free(cx->re_cache[i].re); }
    free(cx);
}

FlowRegex *flow_ctx_regex(FlowCtx *cx, const char *pat, size_t n, char *why, size_t cap) {
    for (int i = 0; i < FLOW_CTX_RE_CACHE; i++)
        if (cx->re_cache[i].re && cx->re_cache[i].n == n && memcmp(cx->re_cache[i].pat, pat, n) == 0) return cx->re_cache[i].re;
    FlowRegex *re = flow_re_compile(pat, n, FLOW_RE_FLOW, why, cap);
    char *copy = re ? malloc(n + 1) : NULL;
    if (!copy) { flow_re_free(re); if (re && cap) snprintf(why, cap, "out of memory"); return NULL; }
    memcpy(copy, pat, n);
    unsigned k = cx->re_next++ % FLOW_CTX_RE_CACHE;
    free(cx->re_cache[k].pat);
    flow_re_free(cx->re_cache[k].re);
    cx->re_cache[k].pat = copy;
    cx->re_cache[k].n = n;
    cx->re_cache[k].re = re;
    return re;
}

void flow_ctx_add_secret(FlowCtx *cx, const char *s, size_t n) {
    if (!cx || !s || n < 4) return;   /* shorter values would redact ordinary text */
    for (int i = 0; i < cx->nsecrets; i++) if (strlen(cx->secrets[i]) == n && memcmp(cx->secrets[i], s, n) == 0) return;
    char **more = realloc(cx->secrets, sizeof(char *) * (size_t)(cx->nsecrets + 1));
    if (!more) abort();
    cx->secrets = more;
    char *copy = malloc(n + 1);
    if (!copy) abort();
    memcpy(copy, s, n);
    copy[n] = 0;
    cx->secrets[cx->nsecrets++] = copy;
}

const char *flow_ctx_secret(const FlowCtx *cx, int i) { return cx && i >= 0 && i < cx->nsecrets ? cx->secrets[i] : NULL; }

/* ---- the per-record context ---- */

static void *grow(void *p, int *n, int want, size_t elem) {
    if (want <= *n) return p;
    int cap = want < 16 ? 16 : want * 2;
    char *q = realloc(p, elem * (size_t)cap);
    if (!q) abort();
    memset(q + elem * (size_t)*n, 0, elem * (size_t)(cap - *n));
    *n = cap;
    return q;
}

void flow_ctx_set_param(FlowCtx *cx, int i, FlowVal v) {
    if (i < 0) return;
    cx->params = grow(cx->params, &cx->nparams, i + 1, sizeof(FlowVal));
    cx->params[i] = v;
}

FlowVal flow_param(FlowCtx *cx, int i) { return i >= 0 && i < cx->nparams ? cx->params[i] : flow_null(); }

void flow_ctx_set_lookup(FlowCtx *cx, int id, const cJSON *result) {
    if (id < 0) return;
    cx->lookups = grow(cx->lookups, &cx->nlookups, id + 1, sizeof(cJSON *));
    cx->lookups[id] = result;
}

FlowVal flow_lookup_result(FlowCtx *cx, int id) {
    return id >= 0 && id < cx->nlookups && cx->lookups[id] ? flow_json(cx->lookups[id]) : flow_null();
}

void flow_ctx_set_context(FlowCtx *cx, FlowContextId id, FlowVal v) { if ((unsigned)id < FLOW_CTX_COUNT) cx->contexts[id] = v; }
FlowVal flow_context(FlowCtx *cx, FlowContextId id) { return (unsigned)id < FLOW_CTX_COUNT ? cx->contexts[id] : flow_null(); }
void flow_ctx_set_response(FlowCtx *cx, const cJSON *r) { cx->response = r; }
void flow_ctx_set_existing(FlowCtx *cx, const cJSON *e) { cx->existing = e; }
FlowVal flow_response(FlowCtx *cx) { return flow_json(cx->response); }
FlowVal flow_existing(FlowCtx *cx) { return flow_json(cx->existing); }

void *flow_scratch_alloc(FlowCtx *cx, size_t n) { return memset(flow_arena_alloc(&cx->h.scratch, n), 0, n); }

void flow_scratch_reset(FlowCtx *cx) {
    flow_arena_reset(&cx->h.scratch);
    for (size_t i = 0; i < cx->nkept; i++) cJSON_Delete(cx->kept[i]);
    cx->nkept = 0;
}

const cJSON *flow_scratch_keep(FlowCtx *cx, cJSON *tree) {
    if (!tree) return NULL;
    if (cx->nkept == cx->capkept) {
        cx->capkept = cx->capkept ? cx->capkept * 2 : 16;
        cx->kept = realloc(cx->kept, sizeof(cJSON *) * cx->capkept);
        if (!cx->kept) abort();
    }
    cx->kept[cx->nkept++] = tree;
    return tree;
}

FlowVal flow_fail(FlowCtx *cx, FlowErrorClass cls, const char *fmt, ...) {
    if (!cx->h.failed) {
        cx->h.failed = 1;
        cx->located = 0;
        cx->cls = cls;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cx->msg, sizeof cx->msg, fmt, ap);
        va_end(ap);
    }
    return flow_null();
}

int flow_failed(const FlowCtx *cx) { return cx->h.failed; }

void flow_fail_at(FlowCtx *cx, const char *where) {
    if (!cx->h.failed || cx->located || !where || !*where) return;
    cx->located = 1;
    size_t n = strlen(where);
    if (strncmp(cx->msg, where, n) == 0 && cx->msg[n] == ':') return;
    char m[sizeof cx->msg];
    memcpy(m, cx->msg, sizeof m);
    size_t w = n < sizeof cx->msg - 3 ? n : sizeof cx->msg - 3;
    memcpy(cx->msg, where, w);
    memcpy(cx->msg + w, ": ", 2);
    size_t rest = strlen(m), room = sizeof cx->msg - w - 3;
    if (rest > room) rest = room;
    memcpy(cx->msg + w + 2, m, rest);
    cx->msg[w + 2 + rest] = 0;
}
FlowErrorClass flow_error_class(const FlowCtx *cx) { return cx->cls; }
const char *flow_error_message(const FlowCtx *cx) { return cx->h.failed ? cx->msg : ""; }
void flow_clear_error(FlowCtx *cx) { cx->h.failed = 0; cx->located = 0; cx->msg[0] = 0; }
void flow_ctx_set_now(FlowCtx *cx, int64_t ms) { cx->now_ms = ms; }
int64_t flow_ctx_now(const FlowCtx *cx) { return cx->now_ms; }

/* ---- dates: proleptic Gregorian, UTC, milliseconds ---- */

int64_t flow_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int flow_days_in_month(int64_t y, unsigned m) {
    static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m < 1 || m > 12 ? 0 : md[m - 1] + (m == 2 && leap);
}

void flow_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

static int digits(const char *s, size_t n, size_t at, int count, int *out) {
    if (at + (size_t)count > n) return 0;
    int v = 0;
    for (int i = 0; i < count; i++) {
        char c = s[at + (size_t)i];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 1;
}

int flow_parse_iso8601(const char *s, size_t n, int64_t *ms) {
    while (n && (s[n - 1] == ' ')) n--;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0;
    if (n && n <= 12) {    /* epoch seconds */
        size_t i = 0;
        int neg = s[0] == '-';
        if (neg) i++;
        int64_t v = 0;
        int ok = i < n;
        for (; i < n && ok; i++) { if (s[i] < '0' || s[i] > '9') ok = 0; else v = v * 10 + (s[i] - '0'); }
        if (ok) { *ms = (neg ? -v : v) * 1000; return 1; }
    }
    if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) || s[7] != '-' || !digits(s, n, 8, 2, &d))
        return 0;
    /* a day the month has (2024-02-30 is no date: it is refused, never read as March 1st) */
    if (d < 1 || d > flow_days_in_month(y, (unsigned)mo)) return 0;
    size_t i = 10;
    int64_t offset_min = 0;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!digits(s, n, i, 2, &h) || i + 2 >= n || s[i + 2] != ':' || !digits(s, n, i + 3, 2, &mi)) return 0;
        i += 5;
        if (i < n && s[i] == ':') {
            if (!digits(s, n, i + 1, 2, &sec)) return 0;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0, scale = 100;
                while (i < n && s[i] >= '0' && s[i] <= '9') { if (nd < 3) { frac_ms += (s[i] - '0') * scale; scale /= 10; } nd++; i++; }
                if (!nd) return 0;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return 0;
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) i++;
        else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int oh, om = 0;
            int sign = s[i] == '-' ? -1 : 1;
            if (!digits(s, n, i + 1, 2, &oh)) return 0;
            i += 3;
            if (i < n && s[i] == ':') i++;
            if (i < n) { if (!digits(s, n, i, 2, &om)) return 0; i += 2; }
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (i != n) return 0;
    int64_t days = flow_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi - offset_min) * 60000 + (int64_t)sec * 1000 + frac_ms;
    return 1;
}

void flow_format_iso8601(int64_t ms, char out[32]) {
    int64_t days = ms / 86400000, rem = ms % 86400000;
    if (rem < 0) { days--; rem += 86400000; }
    int64_t y;
    unsigned m, d;
    flow_civil_from_days(days, &y, &m, &d);
    if (y < -9999) y = -9999;
    if (y > 9999) y = 9999;
    snprintf(out, 32, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)y, m % 100, d % 100, (unsigned)(rem / 3600000) % 100,
             (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60), (unsigned)(rem % 1000));
}

/* ---- durations (flow.h) ---- */

static const struct { const char *unit; int64_t ms; } duration_units[] = {   /* largest first */
    { "w", 604800000 }, { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
};

int64_t flow_duration_unit(const char *u, size_t n) {
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++)
        if (strlen(duration_units[i].unit) == n && memcmp(duration_units[i].unit, u, n) == 0) return duration_units[i].ms;
    return 0;
}

const char *flow_duration_text(char buf[32], int64_t ms) {
    if (ms == 0) return strcpy(buf, "0s");
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++)
        if (ms % duration_units[i].ms == 0) {
            snprintf(buf, 32, "%lld%s", (long long)(ms / duration_units[i].ms), duration_units[i].unit);
            return buf;
        }
    return buf;   /* not reached: every ms is a whole number of ms */
}

/* ---- exact integers in cJSON trees (flow.h) ---- */

#define TWO53 9007199254740992.0
#define TWO63 9223372036854775808.0

/* i's decimal text into buf (at least 21 bytes); its length */
static size_t int_text(int64_t i, char *buf) {
    char tmp[24], *q = tmp + sizeof tmp;
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    do *--q = (char)('0' + u % 10); while (u /= 10);
    if (i < 0) *--q = '-';
    size_t n = (size_t)(tmp + sizeof tmp - q);
    memcpy(buf, q, n);
    buf[n] = 0;
    return n;
}

void flow_json_int_set(cJSON *j, int64_t i) {
    if (!j) return;
    double d = (double)i;
    j->type = (j->type & ~0xFF) | cJSON_Number;
    j->valuedouble = d;
    j->valueint = d >= 2147483647.0 ? 2147483647 : d <= -2147483648.0 ? (-2147483647 - 1) : (int)i;
    if (j->valuestring && !(j->type & cJSON_IsReference)) cJSON_free(j->valuestring);
    j->valuestring = NULL;
    if (d > -TWO53 && d < TWO53) return;    /* a double holds it exactly */
    if (d < TWO63 && (int64_t)d == i) return;
    char buf[24];
    size_t n = int_text(i, buf);
    j->valuestring = cJSON_malloc(n + 1);
    if (!j->valuestring) abort();
    memcpy(j->valuestring, buf, n + 1);
}

cJSON *flow_json_int(int64_t i) {
    cJSON *j = cJSON_CreateNumber((double)i);
    if (!j) abort();
    flow_json_int_set(j, i);
    return j;
}

/* JSON number text: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int number_syntax(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return 0;
    if (*p == '.') { p++; if (*p < '0' || *p > '9') return 0; while (*p >= '0' && *p <= '9') p++; }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (*p < '0' || *p > '9') return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    return !*p;
}

/* What a number's valuestring says (flow.h): NUM_NONE (none, or stale: it no longer reads as the
 * number's double, so a hook changed the number), NUM_INT (an int's digits, *i), NUM_TEXT (the text
 * as read, of a whole double that is not that int) */
enum { NUM_NONE, NUM_INT, NUM_TEXT };
static int num_text(const cJSON *j, int64_t *i) {
    if (!j || (j->type & 0xFF) != cJSON_Number || !j->valuestring || (j->type & cJSON_IsReference)) return NUM_NONE;
    const char *s = j->valuestring;
    if (flow_text_int((FlowStr){ s, strlen(s) }, i) == FLOW_TEXT_OK && s[0] != '+')
        return (double)*i == j->valuedouble ? NUM_INT : NUM_NONE;
    double d;
    return number_syntax(s) && flow_dec_parse(s, strlen(s), &d) && d == j->valuedouble ? NUM_TEXT : NUM_NONE;
}

int flow_json_big_int(const cJSON *j, int64_t *out) { return num_text(j, out) == NUM_INT; }

int flow_json_get_int(const cJSON *j, int64_t *out) {
    if (!j || (j->type & 0xFF) != cJSON_Number) return 0;
    if (j->valuestring) {
        int k = num_text(j, out);
        if (k == NUM_INT) return 1;
        if (k == NUM_TEXT) return 0;    /* whole as a double, but its text was no int64 */
    }
    return flow_double_int(j->valuedouble, out);
}

int flow_double_int(double d, int64_t *out) {
    if (!(d >= -TWO63 && d < TWO63) || d != floor(d)) return 0;
    *out = (int64_t)d;
    return 1;
}

int flow_json_scalar(const cJSON *j, FlowVal *out) {
    int64_t i;
    switch (j ? j->type & 0xFF : cJSON_NULL) {
    case cJSON_NULL: *out = flow_null(); return 0;
    case cJSON_True: *out = flow_bool(1); return 0;
    case cJSON_False: *out = flow_bool(0); return 0;
    case cJSON_Number: *out = flow_json_get_int(j, &i) ? flow_int(i) : flow_number(j->valuedouble); return 0;
    case cJSON_String: *out = flow_string(j->valuestring, strlen(j->valuestring)); return 0;
    default: return -1;
    }
}

void flow_json_num_text_set(cJSON *j, const char *text, size_t n) {
    if (j->valuestring && !(j->type & cJSON_IsReference)) cJSON_free(j->valuestring);
    j->valuestring = cJSON_malloc(n + 1);
    if (!j->valuestring) abort();
    memcpy(j->valuestring, text, n);
    j->valuestring[n] = 0;
}

const char *flow_json_num_text(const cJSON *j, char buf[32]) {
    int64_t i;
    int k = j && j->valuestring ? num_text(j, &i) : NUM_NONE;
    if (k == NUM_INT) int_text(i, buf);
    else if (k == NUM_TEXT) return j->valuestring;
    else flow_json_number(j ? j->valuedouble : 0, buf);
    return buf;
}

cJSON *flow_json_raw_text(const char *p, size_t n) {
    size_t at;
    char *t;
    if (flow_text_check(p, n, &at) == FLOW_TEXT_OK) {
        t = cJSON_malloc(n + 1);
        if (!t) abort();
        memcpy(t, p, n);
        t[n] = 0;
    } else {
        t = cJSON_malloc(n * 3 + 1);    /* each bad byte becomes the 3 bytes of U+FFFD */
        if (!t) abort();
        size_t o = 0;
        for (size_t i = 0; i < n;) {
            size_t k = p[i] ? flow_utf8_seq((const unsigned char *)p + i, n - i) : 0;
            if (k) { memcpy(t + o, p + i, k); o += k; i += k; }
            else { memcpy(t + o, "\xEF\xBF\xBD", 3); o += 3; i++; }
        }
        t[o] = 0;
    }
    cJSON *j = cJSON_CreateNull();
    if (!j) abort();
    j->type = cJSON_String;
    j->valuestring = t;
    return j;
}

cJSON *flow_json_to_text(cJSON *j) {
    char *t = flow_json_print(j);
    cJSON_Delete(j);
    if (!t) abort();
    cJSON *s = cJSON_CreateNull();
    if (!s) abort();
    s->type = cJSON_String;
    s->valuestring = t;
    return s;
}

/* -1, 0, 1 (2 unordered) for an int against a double, exactly */
static int cmp_int_double(int64_t i, double d) {
    if (isnan(d)) return 2;
    if (d >= TWO63) return -1;
    if (d < -TWO63) return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (i != ti) return i < ti ? -1 : 1;
    return d > t ? -1 : d < t ? 1 : 0;
}

static int numbers_equal(const cJSON *a, const cJSON *b) {
    int64_t x, y;
    int bx = flow_json_big_int(a, &x), by = flow_json_big_int(b, &y);
    if (bx && by) return x == y;
    if (bx) return cmp_int_double(x, b->valuedouble) == 0;
    if (by) return cmp_int_double(y, a->valuedouble) == 0;
    return a->valuedouble == b->valuedouble;
}

static int same_key(const cJSON *x, const cJSON *y) {
    return x->string && y->string ? strcmp(x->string, y->string) == 0 : x->string == y->string;
}

int flow_json_equal(const cJSON *a, const cJSON *b) {
    if (!a || !b) return a == b;
    int ta = a->type & 0xFF, tb = b->type & 0xFF;
    if (ta != tb) return 0;
    switch (ta) {
    case cJSON_False: case cJSON_True: case cJSON_NULL: return 1;
    case cJSON_Number: return numbers_equal(a, b);
    case cJSON_String: case cJSON_Raw:
        return a->valuestring && b->valuestring ? strcmp(a->valuestring, b->valuestring) == 0 : a->valuestring == b->valuestring;
    case cJSON_Array: {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next) if (!flow_json_equal(x, y)) return 0;
        return !x && !y;
    }
    case cJSON_Object: {
        /* members in the same order (the usual case): pairwise */
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!same_key(x, y) || !flow_json_equal(x, y)) break;
        if (!x && !y) return 1;
        /* otherwise by name, whatever the order; a repeated name's k-th member against the other's k-th */
        int na = 0, nb = 0;
        for (x = a->child; x; x = x->next) na++;
        for (y = b->child; y; y = y->next) nb++;
        if (na != nb) return 0;
        for (x = a->child; x; x = x->next) {
            int k = 0;
            for (const cJSON *p = a->child; p != x; p = p->next) k += same_key(p, x);
            for (y = b->child; y; y = y->next) if (same_key(x, y) && k-- == 0) break;
            if (!y || !flow_json_equal(x, y)) return 0;
        }
        return 1;
    }
    default: return 0;
    }
}

/* ---- conversions ---- */

/* The delta window's bounds as an SQL export binds them: while the engine evaluates the export's
 * settings, these instants are written as these texts (the delta field's layout, see engine.c). */
static _Thread_local int dt_n;
static _Thread_local int64_t dt_ms[2];
static _Thread_local const char *dt_text[2];

void flow_datetime_texts(int n, const int64_t *ms, const char *const *text) {
    dt_n = n < 0 ? 0 : n > 2 ? 2 : n;
    for (int i = 0; i < dt_n; i++) { dt_ms[i] = ms[i]; dt_text[i] = text[i]; }
}

const char *flow_datetime_text(int64_t ms, char buf[32]) {
    for (int i = 0; i < dt_n; i++)
        if (ms == dt_ms[i]) return dt_text[i];
    flow_format_iso8601(ms, buf);
    return buf;
}

int flow_datetime_of_seconds(double s, int64_t *ms) {
    if (!(fabs(s) < 9.0e12)) return 0;
    *ms = (int64_t)(s * 1000);
    return 1;
}

cJSON *flow_val_to_json(FlowVal v) {
    switch (v.kind) {
    case FLOW_NULL: return cJSON_CreateNull();
    case FLOW_BOOL: return cJSON_CreateBool(v.b);
    case FLOW_INT: return flow_json_int(v.i);
    case FLOW_NUMBER: return isfinite(v.n) ? cJSON_CreateNumber(v.n) : cJSON_CreateNull();
    case FLOW_DURATION: return flow_json_int(v.i);
    case FLOW_STRING: {
        /* every FlowStr is readable one byte past its end (flow.h): most are NUL-terminated there */
        if (v.s.p && v.s.p[v.s.n] == 0) return cJSON_CreateString(v.s.p);
        char *tmp = malloc(v.s.n + 1);
        if (!tmp) abort();
        if (v.s.n) memcpy(tmp, v.s.p, v.s.n);
        tmp[v.s.n] = 0;
        cJSON *j = cJSON_CreateString(tmp);
        free(tmp);
        return j;
    }
    case FLOW_DATETIME: {
        char buf[32];
        return cJSON_CreateString(flow_datetime_text(v.i, buf));
    }
    case FLOW_JSON: return cJSON_Duplicate(v.j, 1);
    }
    return cJSON_CreateNull();
}

const char *flow_json_desc(const cJSON *j) {
    if (!j || cJSON_IsNull(j)) return "null";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsBool(j)) return "a bool";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    return "an invalid JSON value";
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int flow_val_str(FlowVal v, FlowStr *out) {
    if (v.kind == FLOW_STRING) { *out = v.s.p ? v.s : (FlowStr){ "", 0 }; return 1; }
    if (v.kind == FLOW_JSON && v.j && cJSON_IsString(v.j)) {
        const char *p = v.j->valuestring ? v.j->valuestring : "";
        *out = (FlowStr){ p, strlen(p) };
        return 1;
    }
    return 0;
}

int flow_arg_str(FlowCtx *cx, FlowVal v, const char *fn, const char *param, FlowStr *out) {
    if (flow_val_str(v, out)) return 1;
    if (param) flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a string for %s, got %s", fn, param, flow_val_desc(v));
    else flow_fail(cx, FLOW_ERR_VALUE, "%s: expected a string, got %s", fn, flow_val_desc(v));
    return 0;
}

int flow_word_is(FlowStr t, const char *w) {
    size_t n = strlen(w);
    if (t.n != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t.p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return 0;
    }
    return 1;
}

int flow_word_in(const char *w, const char *choices) {
    if (!choices) return 1;
    size_t n = strlen(w);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, w, n) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

int flow_text_int(FlowStr t, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (t.n && (t.p[0] == '+' || t.p[0] == '-')) { neg = t.p[0] == '-'; i++; }
    if (i == t.n) return FLOW_TEXT_SYNTAX;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < t.n; i++) {
        if (!is_digit(t.p[i])) return FLOW_TEXT_SYNTAX;
        unsigned dg = (unsigned)(t.p[i] - '0');
        if (v > (lim - dg) / 10) return FLOW_TEXT_RANGE;
        v = v * 10 + dg;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return FLOW_TEXT_OK;
}

int flow_text_number(FlowCtx *cx, FlowStr t, double *out) {
    double d;
    if (!flow_dec_parse(t.p, t.n, &d)) return FLOW_TEXT_SYNTAX;
    if (!isfinite(d)) return FLOW_TEXT_RANGE;
    *out = d;
    return FLOW_TEXT_OK;
}

int flow_is_space(int32_t c) {
    if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85) return 1;
    if (c < 0x80) return 0;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

FlowStr flow_str_trim(FlowStr s) {
    utf8proc_int32_t c;
    while (s.n) {
        if ((unsigned char)s.p[0] < 0x80) {   /* the common case, without utf8proc */
            if (!flow_is_space((unsigned char)s.p[0])) break;
            s.p++, s.n--;
            continue;
        }
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s.p, (utf8proc_ssize_t)(s.n < 4 ? s.n : 4), &c);
        if (k <= 0 || !flow_is_space(c)) break;
        s.p += k, s.n -= (size_t)k;
    }
    while (s.n) {
        size_t b = s.n - 1;   /* the start of the last character: back over at most 3 continuation bytes */
        while (b > 0 && s.n - b < 4 && ((unsigned char)s.p[b] & 0xC0) == 0x80) b--;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s.p + b, (utf8proc_ssize_t)(s.n - b), &c);
        if (k != (utf8proc_ssize_t)(s.n - b) || !flow_is_space(c)) break;
        s.n = b;
    }
    return s;
}

const char *flow_num_text(char buf[40], double d) {
    if (isnan(d)) return "NaN";
    if (isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    flow_dec_format_g(buf, d, 1);
    return buf;
}

const char *flow_quote(char *out, size_t cap, const char *p, size_t n, size_t max) {
    if (cap < max * 4 + 8) max = cap > 8 ? (cap - 8) / 4 : 0;
    size_t len = n, o = 0;
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)p[len] & 0xC0) == 0x80) len--;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        size_t k = c >= 0x80 ? flow_utf8_seq((const unsigned char *)p + i, len - i) : 1;
        if (k > 1) { memcpy(out + o, p + i, k); o += k; i += k - 1; }
        else if (c < 0x20 || c >= 0x7F) o += (size_t)snprintf(out + o, 5, "\\x%02X", c);   /* not UTF-8 either */
        else {
            if (c == '"' || c == '\\') out[o++] = '\\';
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    if (len < n) { memcpy(out + o, "...", 3); o += 3; }
    out[o] = 0;
    return out;
}

const char *flow_kind_desc(FlowKind k) {
    switch (k) {
    case FLOW_NULL: return "null";
    case FLOW_BOOL: return "a bool";
    case FLOW_INT: return "an int";
    case FLOW_NUMBER: return "a number";
    case FLOW_STRING: return "a string";
    case FLOW_DATETIME: return "a datetime";
    case FLOW_DURATION: return "a duration";
    case FLOW_JSON: return "json";
    }
    return "an unknown kind";
}

const char *flow_val_desc(FlowVal v) {
    return v.kind == FLOW_JSON ? flow_json_desc(v.j) : flow_kind_desc(v.kind);
}

FlowVal flow_val_from_json(FlowCtx *cx, const cJSON *j, FlowKind want, const char *what) {
    if (!j || cJSON_IsNull(j)) return flow_null();
    switch (want) {
    case FLOW_JSON: return flow_json(j);
    case FLOW_STRING:
        if (cJSON_IsString(j)) return flow_string(j->valuestring, strlen(j->valuestring));
        break;
    case FLOW_BOOL:
        if (cJSON_IsBool(j)) return flow_bool(cJSON_IsTrue(j));
        break;
    case FLOW_INT:
        if (cJSON_IsNumber(j)) {
            int64_t i;
            char nb[40];
            if (flow_json_get_int(j, &i)) return flow_int(i);
            return flow_fail(cx, FLOW_ERR_VALUE, fabs(j->valuedouble) >= TWO63 ? "%s is out of the int range, got %.60s"
                             : "%s must be a whole number, got %.60s", what, flow_json_num_text(j, nb));
        }
        break;
    case FLOW_NUMBER:
        if (cJSON_IsNumber(j)) return flow_number(j->valuedouble);
        break;
    case FLOW_DATETIME: {
        int64_t ms;
        if (cJSON_IsString(j) && flow_parse_iso8601(j->valuestring, strlen(j->valuestring), &ms)) return flow_datetime(ms);
        if (cJSON_IsNumber(j) && flow_datetime_of_seconds(j->valuedouble, &ms)) return flow_datetime(ms);
        if (cJSON_IsString(j)) return flow_fail(cx, FLOW_ERR_VALUE, "%s must be an ISO-8601 date-time, got \"%.40s\"", what, j->valuestring);
        break;
    }
    case FLOW_DURATION:
        if (cJSON_IsNumber(j)) {
            int64_t i;
            char nb[40];
            if (flow_json_get_int(j, &i)) return flow_duration(i);
            return flow_fail(cx, FLOW_ERR_VALUE, "%s must be a whole number of milliseconds in the int range, got %.60s", what,
                             flow_json_num_text(j, nb));
        }
        break;
    case FLOW_NULL: return flow_null();
    }
    return flow_fail(cx, FLOW_ERR_VALUE, "%s must be %s, got %s", what,
                     want == FLOW_STRING ? "a string" : want == FLOW_BOOL ? "a bool" : want == FLOW_INT ? "an int"
                     : want == FLOW_NUMBER ? "a number" : want == FLOW_DATETIME ? "a date-time" : "a duration",
                     flow_json_desc(j));
}

static FlowStr copy_str(FlowCtx *cx, const char *s, size_t n) {
    char *p = flow_scratch_alloc(cx, n + 1);
    memcpy(p, s, n);
    return (FlowStr){ p, n };
}

/* numbers print as JavaScript's String(n) does (one definition, shared with templates) */
static size_t number_text(double d, char *buf, size_t cap) {
    (void)cap;
    return flow_tpl_format_number(d, buf);
}

FlowStr flow_val_text(FlowCtx *cx, FlowVal v) {
    char buf[64];
    switch (v.kind) {
    case FLOW_NULL: return (FlowStr){ "", 0 };
    case FLOW_BOOL: return v.b ? (FlowStr){ "true", 4 } : (FlowStr){ "false", 5 };
    case FLOW_INT: case FLOW_DURATION: return copy_str(cx, buf, int_text(v.i, buf));
    case FLOW_NUMBER: return copy_str(cx, buf, number_text(v.n, buf, sizeof buf));
    case FLOW_STRING: return v.s;
    case FLOW_DATETIME: flow_format_iso8601(v.i, buf); return copy_str(cx, buf, strlen(buf));
    case FLOW_JSON:
        if (cJSON_IsString(v.j)) return (FlowStr){ v.j->valuestring, strlen(v.j->valuestring) };
        if (cJSON_IsNumber(v.j)) {
            int64_t i;
            if (flow_json_big_int(v.j, &i)) return copy_str(cx, buf, int_text(i, buf));
            return copy_str(cx, buf, number_text(v.j->valuedouble, buf, sizeof buf));
        }
        if (cJSON_IsBool(v.j)) return cJSON_IsTrue(v.j) ? (FlowStr){ "true", 4 } : (FlowStr){ "false", 5 };
        {
            char *t = flow_json_print(v.j);
            if (!t) return (FlowStr){ "", 0 };
            FlowStr s = copy_str(cx, t, strlen(t));
            cJSON_free(t);
            return s;
        }
    }
    return (FlowStr){ "", 0 };
}

int flow_val_equal(FlowVal a, FlowVal b) {
    if (a.kind == FLOW_NULL || b.kind == FLOW_NULL) return a.kind == b.kind;
    if ((a.kind == FLOW_INT || a.kind == FLOW_NUMBER) && (b.kind == FLOW_INT || b.kind == FLOW_NUMBER)) {
        if (a.kind == FLOW_INT && b.kind == FLOW_INT) return a.i == b.i;
        if (a.kind == FLOW_INT) return cmp_int_double(a.i, b.n) == 0;
        if (b.kind == FLOW_INT) return cmp_int_double(b.i, a.n) == 0;
        return a.n == b.n;
    }
    if (a.kind == FLOW_JSON || b.kind == FLOW_JSON) {
        cJSON *x = a.kind == FLOW_JSON ? NULL : flow_val_to_json(a);
        cJSON *y = b.kind == FLOW_JSON ? NULL : flow_val_to_json(b);
        int eq = flow_json_equal(x ? x : a.j, y ? y : b.j);
        cJSON_Delete(x);
        cJSON_Delete(y);
        return eq;
    }
    if (a.kind != b.kind) return 0;
    switch (a.kind) {
    case FLOW_BOOL: return a.b == b.b;
    case FLOW_STRING: return a.s.n == b.s.n && memcmp(a.s.p, b.s.p, a.s.n) == 0;
    case FLOW_DATETIME: case FLOW_DURATION: return a.i == b.i;
    default: return 0;
    }
}

void flow_hook_error(FlowHookPage *page, int i, const char *fmt, ...) {
    if (!page || i < 0 || i >= page->n) return;
    page->verdict[i] = FLOW_HOOK_ERROR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(page->message[i], sizeof page->message[i], fmt, ap);
    va_end(ap);
}
