/* conn_postgres.c — the PostgreSQL connector (libpq). Exports run `sql` with `$1..$n` `args` through
 * a server-side cursor (FETCH in batches, so memory stays flat) and hand out rows as JSON objects
 * (ints, floats and numeric as numbers, bool, json/jsonb parsed, timestamps as ISO-8601 UTC, the
 * rest as text), or, in a typed run, as typed rows (engine.h: the same values, without the object);
 * lookups run a prepared `sql` per record; imports write a page in one transaction (a typed map's
 * values made the generic map's object for it):
 * rows go in through the COPY protocol (binary where every column and value allows it, pg_binary.c;
 * else text; through one slot where the server's buffered COPY costs more) straight into `table`, or, for an upsert on a
 * key, into a temporary staging table followed by one INSERT ... SELECT ... ON CONFLICT (key) DO
 * UPDATE, or straight into `table` too while the pages' keys are new (multi-row INSERTs where COPY
 * cannot go: a view, a table whose columns are not known);
 * when that fails, the page is replayed row by row under savepoints so that only the bad records
 * become errors. A page's last COPY may be sent (import_send) and its results read when the engine
 * finishes the page (import_finish), the run reading and mapping the next page meanwhile; the pages
 * of an import that the engine keeps in flight share one COPY (a stream, "pipelined writes").
 * Connection losses reconnect and retry with a short backoff. The dsn is a secret: its password
 * is stripped from every message. */
#include "engine.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <postgresql/libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PG_ATTEMPTS 3                 /* tries of a connection, a lookup or a page on connection errors */
#define PG_BACKOFF_MS 200             /* the first wait; doubled each time */
#define PG_FETCH_ROWS 1000            /* rows per FETCH from an export's cursor... */
#define PG_FETCH_BYTES (4u << 20)     /* ...fewer when rows are large */
#define PG_CHUNK_ROWS 1000            /* rows per INSERT statement */
#define PG_MAX_PARAMS 65535           /* the protocol's limit of parameters per statement */
#define PG_DIRECT_WAIT 64             /* upserts: most pages staged after a conflict before COPY straight again */
#define PG_SINGLE_ROWS 600            /* a COPY that would buffer this many rows at once goes through one slot */

/* type oids (catalog/pg_type_d.h, which libpq-dev does not ship) */
enum {
    OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26, OID_JSON = 114,
    OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184, OID_NUMERIC = 1700,
    OID_JSONB = 3802, OID_TEXT = 25, OID_BPCHAR = 1042, OID_VARCHAR = 1043
};

/* ---- messages ---- */

typedef struct Pg {
    PGconn *pc;        /* the connection lookups and imports share (and an export, when alone) */
    char *dsn;
    char *password;    /* the dsn's password, never printed (NULL when it has none) */
    char *host;        /* its host and hostaddr: what libpq's own complaints may quote */
    char *hostaddr;
    unsigned uses;
    int export_on_pc;  /* an export holds pc's transaction */
    int generation;    /* counts reconnections of pc: prepared statements are gone after one */
    int nstmt;         /* names handed out to prepared statements */
} Pg;

/* s with every occurrence of the secret `sec` replaced by <redacted>, in place (buffer of cap;
 * what no longer fits is cut) */
static void strip_secret(char *s, size_t cap, const char *sec) {
    if (!sec || !sec[0]) return;
    static const char r[] = "<redacted>";
    size_t sl = strlen(sec), rl = sizeof r - 1;
    for (char *p = s; (p = strstr(p, sec)) != NULL; p += rl) {
        size_t at = (size_t)(p - s);
        if (at + rl + 1 > cap) { *p = 0; return; }
        size_t tail = strlen(p + sl);
        if (at + rl + tail + 1 > cap) tail = cap - 1 - at - rl;
        memmove(p + rl, p + sl, tail);
        p[rl + tail] = 0;
        memcpy(p, r, rl);
    }
}

/* A libpq message made fit for one line: whitespace runs (its newlines and tabs) become one space,
 * a trailing period goes, and neither the dsn nor its password survive. */
static void clean_msg(const Pg *p, const char *in, char *out, size_t cap) {
    size_t o = 0;
    int space = 0;
    for (const char *s = in ? in : ""; *s && o + 2 < cap; s++) {
        if (*s == '\n' || *s == '\t' || *s == '\r' || *s == ' ') { space = o > 0; continue; }
        if (space) out[o++] = ' ';
        space = 0;
        out[o++] = *s;
    }
    out[o] = 0;
    while (o > 0 && out[o - 1] == '.') out[--o] = 0;
    if (!o) snprintf(out, cap, "no message from libpq");
    if (p) {
        strip_secret(out, cap, p->dsn);
        strip_secret(out, cap, p->password);
    }
}

/* a sentence's length without its final period */
static int sentence_len(const char *s) {
    size_t n = strlen(s);
    return (int)(n && s[n - 1] == '.' ? n - 1 : n);
}

/* What a failed command says: its primary message, the detail and hint, and where in `sql` the
 * error is when the server says (pos_base: characters of ours before the user's sql). */
static void result_msg(const Pg *p, PGconn *pc, const PGresult *r, int pos_base, char *out, size_t cap) {
    const char *prim = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!prim) {
        clean_msg(p, r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(pc), out, cap);
        return;
    }
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    int bind_have;
    const char *req = strstr(prim, " requires ");
    char buf[1400];
    if (sscanf(prim, "bind message supplies %d parameters", &bind_have) == 1 && req) {
        int bind_want = atoi(req + 10);
        snprintf(buf, sizeof buf, "the sql has %d parameter%s but args has %d value%s", bind_want, bind_want == 1 ? "" : "s",
                 bind_have, bind_have == 1 ? "" : "s");
    } else {
        int n = snprintf(buf, sizeof buf, "%s", prim);
        if (pos && pos_base >= 0 && atoi(pos) > pos_base && n >= 0 && (size_t)n < sizeof buf)
            n += snprintf(buf + n, sizeof buf - (size_t)n, " at character %d of the sql", atoi(pos) - pos_base);
        /* the detail and the hint are sentences: in parentheses, without their final period */
        if (detail && n >= 0 && (size_t)n < sizeof buf)
            n += snprintf(buf + n, sizeof buf - (size_t)n, " (%.*s)", sentence_len(detail), detail);
        if (hint && n >= 0 && (size_t)n < sizeof buf)
            snprintf(buf + n, sizeof buf - (size_t)n, " (hint: %.*s)", sentence_len(hint), hint);
    }
    clean_msg(p, buf, out, cap);
}

/* How a failure is handled */
typedef enum {
    FAIL_RECORD,   /* about the data of one record (a bad value, a constraint): that record's error */
    FAIL_CONN,     /* the connection is gone (or the server is going away): reconnect and try again */
    FAIL_RETRY,    /* a serialization failure or a deadlock: try again */
    FAIL_RUN       /* anything else (bad sql, permissions, ...): the run stops */
} FailKind;

static FailKind fail_kind(PGconn *pc, const PGresult *r) {
    if (PQstatus(pc) != CONNECTION_OK) return FAIL_CONN;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!st) return FAIL_CONN;   /* libpq's own failure: no answer from the server */
    const char *prim = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (prim && strncmp(prim, "bind message supplies", 21) == 0) return FAIL_RUN;   /* 08P01, but about args */
    if (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0)
        return FAIL_CONN;
    if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) return FAIL_RETRY;
    if (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0 || strcmp(st, "42703") == 0 || strcmp(st, "42701") == 0 ||
        strcmp(st, "42804") == 0 || strcmp(st, "42846") == 0 || strcmp(st, "54000") == 0 || strcmp(st, "21000") == 0 ||
        strcmp(st, "2BP01") == 0)
        return FAIL_RECORD;
    return FAIL_RUN;
}

static int is_sqlstate(const PGresult *r, const char *code) {
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return st && strcmp(st, code) == 0;
}

static void sleep_ms(long ms) {
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) { }
}

/* ---- connections ---- */

static void quiet_notices(void *arg, const char *msg) { (void)arg; (void)msg; }

/* the session every query of the connector assumes: UTC, ISO dates, shortest exact floats */
static int session_setup(PGconn *pc) {
    PQsetNoticeProcessor(pc, quiet_notices, NULL);
    PGresult *r = PQexec(pc, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; "
                             "SET extra_float_digits = 1");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

/* whether a failed connection attempt is worth another: not when libpq rejected the dsn's values
 * itself, nor when the server answered and refused (authentication, an unknown database or role),
 * unless it is starting, stopping or full */
static int connect_retryable(const char *msg) {
    if (strncmp(msg, "invalid ", 8) == 0) return 0;
    if (!strstr(msg, "FATAL")) return 1;
    return strstr(msg, "starting up") || strstr(msg, "shutting down") || strstr(msg, "too many clients") ||
           strstr(msg, "recovery mode");
}

/* whether t is the n bytes at s */
static int same_text(const char *t, const char *s, size_t n) { return t && strlen(t) == n && strncmp(t, s, n) == 0; }

static int is_option_name(const char *s, size_t n) {
    PQconninfoOption *all = PQconndefaults();
    int yes = 0;
    for (PQconninfoOption *o = all; o && o->keyword && !yes; o++) yes = same_text(o->keyword, s, n);
    PQconninfoFree(all);
    return yes;
}

/* libpq's complaints about the dsn's values quote them, and a malformed dsn can put a password
 * where a value goes: in a message that is not the server's, a quoted text stays only when it is
 * an option's name or the host (when that holds no `=`); others become "..." */
static void connect_msg(const Pg *p, const char *in, char *out, size_t cap) {
    clean_msg(p, in, out, cap);
    if (strncmp(out, "connection to server", 20) == 0) return;
    char *t = flow_xstrdup(out);
    size_t o = 0;
    for (const char *q = t; *q && o + 1 < cap;) {
        const char *end = *q == '"' ? strchr(q + 1, '"') : NULL;
        if (!end) { out[o++] = *q++; continue; }
        size_t n = (size_t)(end - q - 1);
        int keep = is_option_name(q + 1, n) ||
                   (!memchr(q + 1, '=', n) && (same_text(p->host, q + 1, n) || same_text(p->hostaddr, q + 1, n)));
        const char *put = keep ? q : "\"...\"";
        size_t pn = keep ? n + 2 : 5;
        if (o + pn + 1 > cap) break;
        memcpy(out + o, put, pn);
        o += pn;
        q = end + 1;
    }
    out[o] = 0;
    free(t);
}

/* A new connection with the connector's session, tried PG_ATTEMPTS times; NULL with err */
static PGconn *pg_connect(Pg *p, FlowErr *err) {
    const char *keys[] = { "connect_timeout", "application_name", "dbname", "client_encoding", NULL };
    const char *vals[] = { "10", "flowc", p->dsn, "UTF8", NULL };
    char msg[900] = "";
    int attempt;
    for (attempt = 1; attempt <= PG_ATTEMPTS; attempt++) {
        if (attempt > 1) sleep_ms((long)PG_BACKOFF_MS << (attempt - 2));
        PGconn *pc = PQconnectdbParams(keys, vals, 1);
        if (pc && PQstatus(pc) == CONNECTION_OK) {
            if (session_setup(pc) == 0) return pc;
            clean_msg(p, PQerrorMessage(pc), msg, sizeof msg);
            PQfinish(pc);
            break;
        }
        connect_msg(p, pc ? PQerrorMessage(pc) : "out of memory", msg, sizeof msg);
        PQfinish(pc);
        if (!connect_retryable(msg)) break;
    }
    if (attempt > PG_ATTEMPTS) attempt = PG_ATTEMPTS;
    flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: cannot connect to PostgreSQL (%d attempt%s): %s", attempt,
                 attempt == 1 ? "" : "s", msg);
    return NULL;
}

/* pc again after a lost connection (PG_ATTEMPTS tries with backoff); 0, or -1 with err */
static int pg_reconnect(Pg *p, FlowErr *err) {
    char msg[900] = "";
    for (int attempt = 1; attempt <= PG_ATTEMPTS; attempt++) {
        sleep_ms((long)PG_BACKOFF_MS << (attempt - 1));
        PQreset(p->pc);
        if (PQstatus(p->pc) == CONNECTION_OK && session_setup(p->pc) == 0) {
            p->generation++;
            return 0;
        }
        connect_msg(p, PQerrorMessage(p->pc), msg, sizeof msg);
    }
    flow_err_set(err, FLOW_ERR_CONNECTION,
                 "connection error: lost the connection to PostgreSQL and could not reconnect (%d attempts): %s", PG_ATTEMPTS, msg);
    return -1;
}

static void pg_close(void *h) {
    Pg *p = h;
    PQfinish(p->pc);
    free(p->dsn);
    free(p->password);
    free(p->host);
    free(p->hostaddr);
    free(p);
}

/* pc closed and opened again at once (its state is unknown); when that fails, the next use
 * reconnects with backoff */
static void pg_reset_now(Pg *p) {
    PQreset(p->pc);
    if (PQstatus(p->pc) == CONNECTION_OK) session_setup(p->pc);
    p->generation++;
}

static void *pg_open(const FlowSettings *s, unsigned uses, FlowErr *err) {
    const char *dsn = flow_setting_str(s, NULL, "dsn", "");
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &perr);
    if (!opts) {
        /* libpq quotes pieces of the dsn in these messages: only an unknown option's name is kept */
        char name[80] = "";
        if (perr && sscanf(perr, "invalid connection option \"%79[^\"]\"", name) == 1) {
            if (!strstr(dsn, "password") && strlen(name) < 40)
                flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: the dsn has an unknown option \"%s\"", name);
            else   /* in a dsn with a password, the "option" may be a piece of it */
                flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: the dsn has an unknown option (its name is not "
                                                       "shown: the dsn holds a password)");
        } else
            flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: the dsn is not a PostgreSQL connection string "
                                                   "(key=value pairs, or a postgresql:// URI)");
        PQfreemem(perr);
        return NULL;
    }
    Pg *p = flow_xcalloc(1, sizeof *p);
    p->dsn = flow_xstrdup(dsn);
    p->uses = uses;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && o->val[0]) {
            if (strcmp(o->keyword, "password") == 0) p->password = flow_xstrdup(o->val);
            else if (strcmp(o->keyword, "host") == 0) p->host = flow_xstrdup(o->val);
            else if (strcmp(o->keyword, "hostaddr") == 0) p->hostaddr = flow_xstrdup(o->val);
        }
    PQconninfoFree(opts);
    p->pc = pg_connect(p, err);
    if (!p->pc) {
        pg_close(p);
        return NULL;
    }
    return p;
}

/* ---- values: JSON -> text parameters ---- */

/* A JSON value as a text parameter (NULL for null). The text is v's own string or, for the other
 * kinds, a fresh one the caller frees (*own). */
static const char *param_text(const cJSON *v, char **own) {
    *own = NULL;
    if (!v || cJSON_IsNull(v)) return NULL;
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsTrue(v)) return "true";
    if (cJSON_IsFalse(v)) return "false";
    if (cJSON_IsNumber(v)) {   /* ints with all their digits, other numbers shortest exact (flow_json_num_text) */
        char b[32];
        return *own = flow_xstrdup(flow_json_num_text(v, b));
    }
    char *t = flow_json_print(v);
    if (!t) abort();
    *own = flow_xstrdup(t);
    cJSON_free(t);
    return *own;
}

/* A set of text parameters */
typedef struct Params { int n, cap; const char **v; char **own; } Params;

static void params_grow(Params *ps) {
    if (ps->n < ps->cap) return;
    ps->cap = ps->cap ? ps->cap * 2 : 16;
    ps->v = flow_xrealloc(ps->v, sizeof *ps->v * (size_t)ps->cap);
    ps->own = flow_xrealloc(ps->own, sizeof *ps->own * (size_t)ps->cap);
}

static void params_add(Params *ps, const cJSON *v) {
    params_grow(ps);
    ps->v[ps->n] = param_text(v, &ps->own[ps->n]);
    ps->n++;
}

/* a text the parameters take (and free) */
static void params_take(Params *ps, char *text) {
    params_grow(ps);
    ps->v[ps->n] = ps->own[ps->n] = text;
    ps->n++;
}

static void params_clear(Params *ps) {
    for (int i = 0; i < ps->n; i++) free(ps->own[i]);
    ps->n = 0;
}

static void params_free(Params *ps) {
    params_clear(ps);
    free(ps->v);
    free(ps->own);
    memset(ps, 0, sizeof *ps);
}

static void args_params(Params *ps, const cJSON *args) {
    for (const cJSON *a = cJSON_IsArray(args) ? args->child : NULL; a; a = a->next) params_add(ps, a);
}

/* ---- values: rows -> JSON ---- */

typedef enum { K_TEXT, K_NUMBER, K_BOOL, K_JSON, K_TS, K_TSTZ } Kind;

static Kind oid_kind(Oid t) {
    switch (t) {
    case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID: case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC:
        return K_NUMBER;
    case OID_BOOL: return K_BOOL;
    case OID_JSON: case OID_JSONB: return K_JSON;
    case OID_TIMESTAMP: return K_TS;
    case OID_TIMESTAMPTZ: return K_TSTZ;
    default: return K_TEXT;
    }
}

static int digits(const char *s, int n) {
    for (int i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* A timestamp's text (ISO DateStyle: `2026-11-01 01:00:00[.ffffff][+00]`) as ISO-8601 UTC:
 * `2026-11-01T01:00:00[.ffffff]Z` (in out). A timestamp without time zone is taken as UTC; an offset
 * other than +00 is converted through the runtime's parser (to milliseconds). Anything else
 * (infinity, BC dates, years past 9999) is kept as PostgreSQL wrote it (s itself). */
static const char *ts_text(const char *s, int tz, char out[48]) {
    size_t n = strlen(s);
    if (n < 19 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) || s[10] != ' ' ||
        !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return s;
    size_t i = 19;
    if (s[i] == '.') { i++; while (s[i] >= '0' && s[i] <= '9') i++; }
    const char *off = s + i;
    if ((!*off || (tz && strcmp(off, "+00") == 0)) && i - 11 + 13 <= 48) {
        memcpy(out, s, 10);   /* YYYY-MM-DD */
        out[10] = 'T';
        memcpy(out + 11, s + 11, i - 11);   /* hh:mm:ss[.ffffff] */
        out[i] = 'Z';
        out[i + 1] = 0;
        return out;
    }
    if (tz && (off[0] == '+' || off[0] == '-')) {
        char iso[64];
        snprintf(iso, sizeof iso, "%.10sT%s", s, s + 11);
        int64_t ms;
        if (flow_parse_iso8601(iso, strlen(iso), &ms)) {
            flow_format_iso8601(ms, out);
            return out;
        }
    }
    return s;
}

/* number text of PostgreSQL's int and numeric output read without the JSON reader, where that
 * gives the reader's very value: -?[1-9][0-9]{0,17} (an int), or -?digits.digits with up to 19
 * digits that is no whole number (a double, ties to even as the reader rounds): 1 with *out (an int
 * or a number). 0 otherwise. */
static int number_val(const char *s, int len, FlowVal *out) {
    int i = s[0] == '-', nd = 0, dot = -1;
    if (i >= len || s[i] < '0' || s[i] > '9' || (s[i] == '0' && i + 1 < len && s[i + 1] != '.')) return 0;
    if (i && s[i] == '0') return 0;   /* -0 and -0.x: the reader's */
    int64_t v = 0;
    for (int k = i; k < len; k++) {
        if (s[k] == '.' && dot < 0 && k > i && k + 1 < len) { dot = k; continue; }
        if (s[k] < '0' || s[k] > '9' || ++nd > 18) return 0;
        v = v * 10 + (s[k] - '0');
    }
    if (dot < 0) { *out = flow_int(i ? -v : v); return 1; }
    /* up to 15 digits: the digits and the power of ten are exact doubles, so one division rounds
     * correctly (Clinger), as flow_dec_parse would */
    static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    double d;
    if (nd <= 15) {
        d = (double)v / p10[len - 1 - dot];
        if (i) d = -d;
    } else if (!flow_dec_parse(s, (size_t)len, &d)) return 0;
    if (d == floor(d)) return 0;
    *out = flow_number(d);
    return 1;
}

/* A column's text as JSON; NULL (with why) when flowc cannot hold it: a number that is not finite
 * (NaN, Infinity, a numeric past a double's range) or json text its reader refuses (U+0000, deeper
 * than it nests). Whole numbers keep their exact value over the whole int64 range (flow.h). */
static cJSON *value_json(const char *s, int len, Kind k, FlowErrorClass *cls, char *why, size_t cap) {
    switch (k) {
    case K_NUMBER: {
        /* int, float and numeric text is JSON number text, except for NaN and Infinity. The usual
         * texts are read here: an int of up to 18 digits, a fraction that is no whole number (as the
         * JSON reader reads them); the reader takes the rest. */
        FlowVal fast;
        if (number_val(s, len, &fast)) {
            cJSON *j = fast.kind == FLOW_INT ? flow_json_int(fast.i) : cJSON_CreateNumber(fast.n);
            if (!j) abort();
            return j;
        }
        FlowJsonError je;
        cJSON *j = flow_json_parse(s, (size_t)len, &je);
        if (cJSON_IsNumber(j)) return j;
        cJSON_Delete(j);
        *cls = FLOW_ERR_VALUE;
        snprintf(why, cap, "%.60s is not a finite number", s);
        return NULL;
    }
    case K_BOOL: return cJSON_CreateBool(s[0] == 't');
    case K_JSON: {
        FlowJsonError je;
        cJSON *j = flow_json_parse(s, (size_t)len, &je);
        if (j) return j;
        *cls = FLOW_ERR_PARSE;
        snprintf(why, cap, "its JSON cannot be read (line %ld, column %ld: %s)", je.line, je.col, je.msg);
        return NULL;
    }
    case K_TS: case K_TSTZ: {
        char out[48];
        return cJSON_CreateString(ts_text(s, k == K_TSTZ, out));
    }
    case K_TEXT: break;
    }
    return cJSON_CreateString(s);
}

/* A column's text (not NULL) as the value typed rows take (engine.h): the value the generic way's
 * object holds there (value_json), as flow_json_scalar reads it. out's text points into s or ts (a
 * timestamp's room). 0, or -1: the row goes the generic way, which holds it or says why not: json
 * (no scalar), a number the reader refuses or keeps as its text (a whole number past int64's range),
 * -0 (flow_json_scalar reads the int 0; the object holds -0). */
static int value_typed(const char *s, int len, Kind k, char ts[48], FlowVal *out) {
    switch (k) {
    case K_NUMBER: {
        if (number_val(s, len, out)) return 0;   /* as value_json's first reading */
        cJSON *j = flow_json_parse(s, (size_t)len, NULL);
        int64_t i;
        int ok = cJSON_IsNumber(j) && (!j->valuestring || flow_json_big_int(j, &i)) &&
                 !(j->valuedouble == 0 && signbit(j->valuedouble));
        if (ok) flow_json_scalar(j, out);
        cJSON_Delete(j);
        return ok ? 0 : -1;
    }
    case K_BOOL: *out = flow_bool(s[0] == 't'); return 0;
    case K_JSON: return -1;
    case K_TS: case K_TSTZ: {
        const char *t = ts_text(s, k == K_TSTZ, ts);
        *out = flow_string(t, t == s ? (size_t)len : strlen(t));
        return 0;
    }
    case K_TEXT: break;
    }
    *out = flow_string(s, (size_t)len);
    return 0;
}

/* the columns of a result, once per result: each one's kind, its name as a key rows take without a
 * copy (flow_sql_key; NULL when refused), and whether an earlier column has its name (the first of
 * equal names wins) */
typedef struct Cols { int n, cap; Kind *kind; char *dup; const char **key; } Cols;

static void cols_of(Cols *c, const PGresult *r) {
    int n = PQnfields(r);
    if (n > c->cap) {
        c->kind = flow_xrealloc(c->kind, sizeof *c->kind * (size_t)n);
        c->dup = flow_xrealloc(c->dup, (size_t)n);
        c->key = flow_xrealloc(c->key, sizeof *c->key * (size_t)n);
        c->cap = n;
    }
    c->n = n;
    for (int i = 0; i < n; i++) {
        c->kind[i] = oid_kind(PQftype(r, i));
        c->key[i] = PQfname(r, i) ? flow_sql_key(PQfname(r, i)) : NULL;
        c->dup[i] = 0;
        for (int k = 0; k < i && !c->dup[i]; k++) c->dup[i] = strcmp(PQfname(r, k), PQfname(r, i)) == 0;
    }
}

static void cols_free(Cols *c) {
    free(c->kind);
    free(c->dup);
    free(c->key);
    memset(c, 0, sizeof *c);
}

/* row `row` of r as an object; *bytes its size as sent. When a column holds a value flowc cannot
 * hold (value_json), e says which (e->msg is empty otherwise) and the row is returned as its JSON
 * text, the column as PostgreSQL wrote it: data to keep with the record error, not a record. */
static cJSON *row_object(const PGresult *r, const Cols *c, int row, size_t *bytes, FlowErr *e) {
    cJSON *o = cJSON_CreateObject();
    size_t b = 2;
    e->msg[0] = 0;
    for (int i = 0; i < c->n; i++) {
        const char *name = PQfname(r, i);
        if (!name || c->dup[i]) continue;
        int len = PQgetlength(r, row, i);
        b += strlen(name) + 4 + (size_t)len;
        cJSON *v = NULL;
        if (PQgetisnull(r, row, i)) v = cJSON_CreateNull();
        else {
            FlowErrorClass cls = FLOW_ERR_VALUE;
            char why[300];
            const char *t = PQgetvalue(r, row, i);
            v = value_json(t, len, c->kind[i], &cls, why, sizeof why);
            if (!v) {
                if (!e->msg[0]) flow_err_set(e, cls, "column %s: %s", name, why);
                v = cJSON_CreateString(t);
            }
        }
        if (c->key[i]) cJSON_AddItemToObjectCS(o, c->key[i], v);
        else cJSON_AddItemToObject(o, name, v);
    }
    if (bytes) *bytes = b;
    return e->msg[0] ? flow_json_to_text(o) : o;
}

/* ---- SQL text ---- */

/* an identifier in double quotes, "" inside */
/* a table name: `schema.table` (one dot) or `table`, each part quoted */
static void sb_table(FlowSb *b, const char *t) {
    const char *dot = strchr(t, '.');
    if (dot && dot > t && dot[1] && !strchr(dot + 1, '.')) {
        char *schema = flow_xcalloc(1, (size_t)(dot - t) + 1);
        memcpy(schema, t, (size_t)(dot - t));
        flow_sql_ident(b, schema);
        free(schema);
        flow_sb_put(b, ".", 1);
        flow_sql_ident(b, dot + 1);
    } else flow_sql_ident(b, t);
}

static void sb_int(FlowSb *b, long v) {
    char t[24];
    snprintf(t, sizeof t, "%ld", v);
    flow_sb_puts(b, t);
}

/* an array literal's element: NULL, or the text in double quotes with \ and " escaped */
static void sb_element(FlowSb *b, const char *t) {
    if (!t) { flow_sb_put(b, "NULL", 4); return; }
    flow_sb_put(b, "\"", 1);
    for (const char *p = t, *run = t;; p++) {
        if (*p == '"' || *p == '\\' || !*p) {
            flow_sb_put(b, run, (size_t)(p - run));
            if (!*p) break;
            flow_sb_put(b, "\\", 1);
            flow_sb_put(b, p, 1);
            run = p + 1;
        }
    }
    flow_sb_put(b, "\"", 1);
}

/* the user's sql without trailing blanks and semicolons (it is wrapped in DECLARE ... CURSOR) */
static char *trim_sql(const char *sql) {
    size_t n = strlen(sql);
    while (n > 0 && strchr("; \n\t\r", sql[n - 1])) n--;
    char *t = flow_xcalloc(1, n + 1);
    memcpy(t, sql, n);
    return t;
}

/* runs a command without parameters on pc; 1 when it succeeded */
static int exec_ok(PGconn *pc, const char *sql) {
    PGresult *r = PQexec(pc, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
}

/* ---- exports ---- */

typedef struct PgExport {
    Pg *p;
    PGconn *pc;        /* p->pc, or a connection of its own when lookups or imports share p->pc */
    PGresult *res;     /* the current batch */
    Cols cols;
    int row, nrows;
    int fetch;         /* rows per FETCH */
    int done;          /* the cursor gave its last row */
    int in_tx;
    int pending;       /* rows asked by the FETCH in flight, 0 when none is */
    long total;        /* rows handed out */
    char *sql;         /* the export's sql (once(): the table it reads) */
    PGconn *mark;      /* once(): a connection of its own, so each page's flags commit at once */
    /* typed rows (engine.h): the cursor's columns matched to the declared type once (or NULL) */
    int planned;
    const FlowRowPlan *plan;
    FlowVal *vals;     /* ...a row's values, one per column */
    char (*ts)[48];    /* ...room for each column's timestamp text */
    size_t names;      /* ...what the columns' names add to a row's size as row_object counts it */
} PgExport;

/* the result of the FETCH in flight (every result of it read) */
static PGresult *dx_result(PgExport *x) {
    PGresult *r = PQgetResult(x->pc), *more;
    while ((more = PQgetResult(x->pc)) != NULL) PQclear(more);
    x->pending = 0;
    return r;
}

static void dx_close(void *h) {
    PgExport *x = h;
    PQclear(x->res);
    if (x->pending) PQclear(dx_result(x));
    if (x->pc == x->p->pc) {
        if (x->in_tx && PQstatus(x->pc) == CONNECTION_OK) exec_ok(x->pc, "ROLLBACK");
        x->p->export_on_pc = 0;
    } else PQfinish(x->pc);
    if (x->mark) PQfinish(x->mark);
    cols_free(&x->cols);
    free(x->vals);
    free(x->ts);
    free(x->sql);
    free(x);
}

/* once(flag, key = "id"): UPDATE <the table> SET flag = true WHERE key = <each record's key>, a
 * page in one transaction on a connection of its own (the export's cursor holds its own) */
static int dx_mark(void *h, const cJSON *marks, FlowErr *err) {
    PgExport *x = h;
    const char *key;
    char *upd = flow_sql_once_update(x->sql, marks, "true", "$1", &key, err);
    if (!upd) return -1;
    int rc = -1;
    for (int attempt = 1; attempt <= PG_ATTEMPTS && rc; attempt++) {
        if (!x->mark || PQstatus(x->mark) != CONNECTION_OK) {
            if (x->mark) PQfinish(x->mark);
            x->mark = pg_connect(x->p, err);
            if (!x->mark) continue;
        }
        if (!exec_ok(x->mark, "BEGIN")) continue;
        int ok = 1;
        for (const cJSON *m = marks->child; m && ok; m = m->next) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "record"), key);
            if (!v || cJSON_IsNull(v)) continue;   /* no key: nothing to mark */
            char *own = NULL;
            const char *val = param_text(v, &own);
            PGresult *r = PQexecParams(x->mark, upd, 1, NULL, &val, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                char msg[1000];
                result_msg(x->p, x->mark, r, 0, msg, sizeof msg);
                flow_err_set(err, FLOW_ERR_VALUE, "once(): %s", msg);
                ok = 0;
            }
            PQclear(r);
            free(own);
        }
        if (ok && exec_ok(x->mark, "COMMIT")) rc = 0;
        else {
            if (PQstatus(x->mark) == CONNECTION_OK) exec_ok(x->mark, "ROLLBACK");
            if (PQstatus(x->mark) == CONNECTION_OK) break;   /* the statement failed, not the connection */
        }
    }
    free(upd);
    return rc;
}

#define DECLARE_PREFIX "DECLARE flow_export NO SCROLL CURSOR FOR "

static void *dx_open(void *conn, const FlowSettings *s, FlowErr *err) {
    Pg *p = conn;
    PgExport *x = flow_xcalloc(1, sizeof *x);
    x->p = p;
    x->fetch = PG_FETCH_ROWS;
    if ((p->uses & (FLOW_USE_LOOKUP | FLOW_USE_IMPORT)) || p->export_on_pc) {
        x->pc = pg_connect(p, err);
        if (!x->pc) { free(x); return NULL; }
    } else {
        x->pc = p->pc;
        p->export_on_pc = 1;
    }
    char *sql = trim_sql(flow_setting_str(s, NULL, "sql", ""));
    x->sql = flow_xstrdup(sql);
    FlowSb b = { 0 };
    flow_sb_puts(&b, DECLARE_PREFIX);
    flow_sb_puts(&b, sql);
    free(sql);
    Params ps = { 0 };
    args_params(&ps, flow_setting(s, NULL, "args"));
    int ok = 0;
    for (int attempt = 1; attempt <= PG_ATTEMPTS && !ok; attempt++) {
        PGresult *r = PQexec(x->pc, "BEGIN");
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            PQclear(r);
            x->in_tx = 1;
            r = PQexecParams(x->pc, b.p, ps.n, NULL, ps.v, NULL, NULL, 0);
            if (PQresultStatus(r) == PGRES_COMMAND_OK) { ok = 1; PQclear(r); break; }
        }
        char msg[1000];
        result_msg(p, x->pc, r, (int)strlen(DECLARE_PREFIX), msg, sizeof msg);
        FailKind k = fail_kind(x->pc, r);
        PQclear(r);
        if (x->in_tx && PQstatus(x->pc) == CONNECTION_OK) exec_ok(x->pc, "ROLLBACK");
        x->in_tx = 0;
        if (k != FAIL_CONN && k != FAIL_RETRY) {
            if (strncmp(msg, "the sql has ", 12) == 0) flow_err_set(err, FLOW_ERR_VALUE, "%s", msg);
            else flow_err_set(err, FLOW_ERR_VALUE, "the sql failed: %s", msg);
            break;
        }
        if (attempt == PG_ATTEMPTS) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: the sql could not run (%d attempts): %s", PG_ATTEMPTS,
                         msg);
            break;
        }
        sleep_ms((long)PG_BACKOFF_MS << (attempt - 1));
        if (k == FAIL_CONN) {
            PQreset(x->pc);
            if (PQstatus(x->pc) != CONNECTION_OK || session_setup(x->pc) != 0) continue;
            if (x->pc == p->pc) p->generation++;
        }
    }
    free(b.p);
    params_free(&ps);
    if (!ok) { dx_close(x); return NULL; }
    return x;
}

/* the next batch from the cursor; 0, or -1 with err. The FETCH after it is sent at once, so the
 * server reads it while the steps work on this one. */
static int dx_fetch(PgExport *x, FlowErr *err) {
    PQclear(x->res);
    x->res = NULL;
    x->row = x->nrows = 0;
    char q[64];
    int asked = x->fetch;
    snprintf(q, sizeof q, "FETCH %d FROM flow_export", x->fetch);
    PGresult *r;
    if (x->pending) { asked = x->pending; r = dx_result(x); }
    else r = PQexec(x->pc, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char msg[1000];
        result_msg(x->p, x->pc, r, -1, msg, sizeof msg);
        if (fail_kind(x->pc, r) == FAIL_CONN)
            flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: lost the connection to PostgreSQL after %ld rows: %s",
                         x->total, msg);
        else flow_err_set(err, FLOW_ERR_VALUE, "the sql failed after %ld rows: %s", x->total, msg);
        PQclear(r);
        return -1;
    }
    x->res = r;
    x->nrows = PQntuples(r);
    if (x->nrows < asked) x->done = 1;
    cols_of(&x->cols, r);
    /* rows of a few megabytes each are fetched a few at a time */
    size_t bytes = 0;
    for (int i = 0; i < x->nrows; i++)
        for (int c = 0; c < x->cols.n; c++) bytes += (size_t)PQgetlength(r, i, c);
    if (x->nrows && bytes > PG_FETCH_BYTES) {
        size_t per = bytes / (size_t)x->nrows + 1;
        x->fetch = (int)(PG_FETCH_BYTES / per);
        if (x->fetch < 1) x->fetch = 1;
    } else if (x->nrows && x->fetch < PG_FETCH_ROWS && bytes < PG_FETCH_BYTES / 4) {
        x->fetch = x->fetch * 2 > PG_FETCH_ROWS ? PG_FETCH_ROWS : x->fetch * 2;
    }
    if (!x->done) {
        snprintf(q, sizeof q, "FETCH %d FROM flow_export", x->fetch);
        if (PQsendQuery(x->pc, q)) x->pending = x->fetch;   /* else the next FETCH fails and says why */
    }
    return 0;
}

/* The cursor's columns matched to the export's declared type (typed rows, engine.h), at its first
 * rows: every FETCH from it has the same columns. */
static void dx_plan(PgExport *x, FlowRows *rows) {
    x->planned = 1;
    const char **names = flow_xcalloc((size_t)x->cols.n + 1, sizeof *names);
    x->names = 2;
    for (int i = 0; i < x->cols.n; i++) {
        names[i] = PQfname(x->res, i);
        if (!x->cols.dup[i]) x->names += strlen(names[i]) + 4;
    }
    x->plan = flow_rows_plan(rows, x->cols.n, names);
    free(names);
    if (!x->plan) return;
    x->vals = flow_xcalloc((size_t)x->cols.n + 1, sizeof *x->vals);
    x->ts = flow_xcalloc((size_t)x->cols.n + 1, sizeof *x->ts);
}

/* The current row offered to the engine as a typed record: 0 taken, -1 the generic way (a value
 * value_typed leaves to it, or a row that does not fit). Its size is row_object's. */
static int row_typed(PgExport *x, FlowRows *rows) {
    size_t bytes = x->names;
    for (int i = 0; i < x->cols.n; i++) {
        if (x->cols.dup[i]) continue;   /* no field of the object (the plan skips it) */
        int len = PQgetlength(x->res, x->row, i);
        bytes += (size_t)len;
        if (PQgetisnull(x->res, x->row, i)) x->vals[i] = flow_null();
        else if (value_typed(PQgetvalue(x->res, x->row, i), len, x->cols.kind[i], x->ts[i], &x->vals[i])) return -1;
    }
    return flow_rows_take(rows, x->plan, x->vals, bytes);
}

static int dx_next(void *h, FlowExportItem *it, FlowErr *err) {
    PgExport *x = h;
    if (x->row >= x->nrows) {
        if (x->done || (x->res && x->nrows == 0)) goto end;
        if (dx_fetch(x, err)) return FLOW_NEXT_FAIL;
        if (x->nrows == 0) goto end;
    }
    if (it->rows && !x->planned) dx_plan(x, it->rows);
    if (x->plan && it->rows && row_typed(x, it->rows) == 0) {
        x->row++;
        x->total++;
        return FLOW_NEXT_TYPED;
    }
    it->rec = row_object(x->res, &x->cols, x->row++, &it->bytes, &it->err);
    x->total++;
    return it->err.msg[0] ? FLOW_NEXT_ERROR : FLOW_NEXT_RECORD;
end:
    if (x->in_tx) {
        x->in_tx = 0;
        if (!exec_ok(x->pc, "COMMIT")) {
            char msg[1000];
            clean_msg(x->p, PQerrorMessage(x->pc), msg, sizeof msg);
            flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: cannot end the export's transaction: %s", msg);
            return FLOW_NEXT_FAIL;
        }
    }
    return FLOW_NEXT_END;
}

/* ---- lookups ---- */

typedef struct PgLookup {
    Pg *p;
    const FlowSettings *s;
    char name[32];     /* the prepared statement */
    char *sql;         /* its text */
    int generation;    /* p->generation when it was prepared */
    Cols cols;
    Params ps;
} PgLookup;

static void *dl_open(void *conn, const FlowSettings *s, FlowErr *err) {
    (void)err;
    Pg *p = conn;
    PgLookup *lk = flow_xcalloc(1, sizeof *lk);
    lk->p = p;
    lk->s = s;
    snprintf(lk->name, sizeof lk->name, "flow_lookup_%d", ++p->nstmt);
    return lk;
}

static void dl_close(void *h) {
    PgLookup *lk = h;
    free(lk->sql);
    cols_free(&lk->cols);
    params_free(&lk->ps);
    free(lk);
}

/* the statement prepared for `sql` on the current connection: 0, -1 the run fails, 2 the
 * connection failed (err says why) */
static int dl_prepare(PgLookup *lk, const char *sql, FlowErr *err) {
    Pg *p = lk->p;
    if (lk->sql && strcmp(sql, lk->sql) == 0 && lk->generation == p->generation) return 0;
    if (lk->sql && lk->generation == p->generation) {
        char q[64];
        snprintf(q, sizeof q, "DEALLOCATE %s", lk->name);
        exec_ok(p->pc, q);
    }
    free(lk->sql);
    lk->sql = NULL;
    PGresult *r = PQprepare(p->pc, lk->name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char msg[1000];
        result_msg(p, p->pc, r, 0, msg, sizeof msg);
        FailKind k = fail_kind(p->pc, r);
        PQclear(r);
        if (k == FAIL_CONN || k == FAIL_RETRY) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: %s", msg);
            return 2;
        }
        flow_err_set(err, FLOW_ERR_VALUE, "the sql failed: %s", msg);
        return -1;
    }
    PQclear(r);
    lk->sql = flow_xstrdup(sql);
    lk->generation = p->generation;
    return 0;
}

/* the outcome of one lookup's result: 0 rows set, 1 a record error, -1 the run fails, 2 try again
 * (the connection was lost, or a serialization failure); err says why for the last three */
static int dl_result(PgLookup *lk, PGresult *r, cJSON **rows, FlowErr *err) {
    Pg *p = lk->p;
    if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK) {
        cJSON *out = cJSON_CreateArray();
        cols_of(&lk->cols, r);
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            cJSON *o = row_object(r, &lk->cols, i, NULL, err);
            if (err->msg[0]) {   /* a value the lookup's record cannot take: a record error */
                cJSON_Delete(o);
                cJSON_Delete(out);
                return 1;
            }
            cJSON_AddItemToArray(out, o);
        }
        *rows = out;
        return 0;
    }
    char msg[1000];
    result_msg(p, p->pc, r, 0, msg, sizeof msg);
    FailKind k = fail_kind(p->pc, r);
    if (strncmp(msg, "the sql has ", 12) == 0) { flow_err_set(err, FLOW_ERR_VALUE, "%s", msg); return -1; }
    if (k == FAIL_RECORD) { flow_err_set(err, FLOW_ERR_VALUE, "the sql failed: %s", msg); return 1; }
    if (k == FAIL_RUN) { flow_err_set(err, FLOW_ERR_VALUE, "the sql failed: %s", msg); return -1; }
    flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: %s", msg);
    return 2;
}

/* err after the last try: the connection error and how many tries it had */
static void attempts_err(FlowErr *err) {
    char m[sizeof err->msg];
    snprintf(m, sizeof m, "%s", err->msg);
    flow_err_set(err, FLOW_ERR_CONNECTION, "%s (%d attempts)", m, PG_ATTEMPTS);
}

static int dl_lookup(void *h, const cJSON *rs, cJSON **rows, FlowErr *err) {
    PgLookup *lk = h;
    Pg *p = lk->p;
    const char *sql = flow_setting_str(lk->s, rs, "sql", "");
    for (int attempt = 1;; attempt++) {
        if (PQstatus(p->pc) != CONNECTION_OK && pg_reconnect(p, err)) return -1;
        int t = dl_prepare(lk, sql, err);
        if (t < 0) return -1;
        if (t == 0) {
            params_clear(&lk->ps);
            args_params(&lk->ps, flow_setting(lk->s, rs, "args"));
            PGresult *r = PQexecPrepared(p->pc, lk->name, lk->ps.n, lk->ps.v, NULL, NULL, 0);
            params_clear(&lk->ps);
            t = dl_result(lk, r, rows, err);
            PQclear(r);
            if (t < 2) return t;
        }
        if (attempt >= PG_ATTEMPTS) { attempts_err(err); return -1; }
        if (PQstatus(p->pc) == CONNECTION_OK) sleep_ms((long)PG_BACKOFF_MS << (attempt - 1));
    }
}

#define PG_PIPE_QUERIES 128          /* lookups sent before their results are read... */
#define PG_PIPE_BYTES (64u << 10)    /* ...and their parameters' bytes: far below a socket's buffers,
                                        so sending can never wait for the server to be read */

/* One batch of a page's lookups through libpq's pipeline mode: the queries of items[from..] are
 * sent at once, then their results read. Returns 0 (items resolved as far as it went: the ones
 * after a failed query come back aborted and stay unresolved), -1 the run fails, 2 the connection
 * failed (err says why). */
static int dl_batch(PgLookup *lk, FlowLookupItem *items, int from, int n, FlowErr *err) {
    Pg *p = lk->p;
    PGconn *pc = p->pc;
    if (!PQenterPipelineMode(pc)) {
        char msg[1000];
        clean_msg(p, PQerrorMessage(pc), msg, sizeof msg);
        flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: %s", msg);
        return 2;
    }
    int end = from;
    size_t bytes = 0;
    while (end < n && end - from < PG_PIPE_QUERIES && bytes < PG_PIPE_BYTES) {
        params_clear(&lk->ps);
        args_params(&lk->ps, flow_setting(lk->s, items[end].rs, "args"));
        for (int i = 0; i < lk->ps.n; i++) bytes += lk->ps.v[i] ? strlen(lk->ps.v[i]) : 0;
        if (!PQsendQueryPrepared(pc, lk->name, lk->ps.n, lk->ps.v, NULL, NULL, 0)) break;
        end++;
    }
    params_clear(&lk->ps);
    int out = 0;
    if (end == from || !PQpipelineSync(pc)) out = 2;
    /* one result per query (then a NULL), a PIPELINE_SYNC at the end */
    for (int q = from, got = 0; out != 2;) {
        PGresult *r = PQgetResult(pc);
        if (!r) {
            if (PQstatus(pc) != CONNECTION_OK || !got) { out = 2; break; }
            q++;
            got = 0;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) { PQclear(r); break; }
        if (!got && q < end && st != PGRES_PIPELINE_ABORTED && out == 0) {
            FlowLookupItem *it = &items[q];
            FlowErr e;
            flow_err_clear(&e);
            int t = dl_result(lk, r, &it->rows, &e);
            if (t == 1) flow_lookup_fail(it, e.cls, "%s", e.msg);
            else if (t < 0 || t == 2) {
                *err = e;
                out = t;   /* -1: the rest is read (aborted) up to the sync; 2: the connection is gone */
            }
        }
        got = 1;
        PQclear(r);
    }
    if (out == 2) {
        if (!err->msg[0]) {
            char msg[1000];
            clean_msg(p, PQerrorMessage(pc), msg, sizeof msg);
            flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: %s", msg);
        }
        if (PQstatus(pc) == CONNECTION_OK) pg_reset_now(p);   /* a pipeline left half read: start afresh */
        return 2;
    }
    if (!PQexitPipelineMode(pc)) {
        char msg[1000];
        clean_msg(p, PQerrorMessage(pc), msg, sizeof msg);
        flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: %s", msg);
        pg_reset_now(p);
        return 2;
    }
    return out;
}

/* A page's lookups: pipelined in batches when they share one sql (the usual case), one by one
 * otherwise. Record errors go to their items; 0, or -1 the run fails. */
static int dl_page(void *h, FlowLookupItem *items, int n, FlowErr *err) {
    PgLookup *lk = h;
    Pg *p = lk->p;
    const char *sql = flow_setting_str(lk->s, items[0].rs, "sql", "");
    int same = 1;
    for (int i = 1; i < n && same; i++) same = strcmp(flow_setting_str(lk->s, items[i].rs, "sql", ""), sql) == 0;
    if (!same || n == 1) {
        for (int i = 0; i < n; i++) {
            FlowErr e;
            flow_err_clear(&e);
            int t = dl_lookup(lk, items[i].rs, &items[i].rows, &e);
            if (t < 0) { *err = e; return -1; }
            if (t > 0) flow_lookup_fail(&items[i], e.cls, "%s", e.msg);
        }
        return 0;
    }
    int from = 0, attempt = 1;
    while (from < n) {
        memset(err, 0, sizeof *err);
        int t = PQstatus(p->pc) != CONNECTION_OK && pg_reconnect(p, err) ? -1 : dl_prepare(lk, sql, err);
        if (t < 0) return -1;
        if (t == 0) t = dl_batch(lk, items, from, n, err);
        if (t < 0) return -1;
        int before = from;
        while (from < n && (items[from].failed || items[from].rows)) from++;
        if (t == 0 && from > before) { attempt = 1; continue; }
        if (attempt >= PG_ATTEMPTS) {
            if (!err->msg[0]) flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: the lookups made no progress");
            attempts_err(err);
            return -1;
        }
        sleep_ms((long)PG_BACKOFF_MS << (attempt - 1));
        attempt++;
    }
    return 0;
}

/* ---- imports ---- */

/* How a column's values go in binary COPY (copy_binary): not at all (the page goes as text), or
 * as the type's binary form made from the value's text */
typedef enum { B_NONE, B_INT2, B_INT4, B_INT8, B_FLOAT8, B_BOOL, B_TEXT, B_NUMERIC, B_TS, B_TSTZ, B_JSON, B_JSONB } BinKind;

static BinKind oid_bin(Oid t) {
    switch (t) {
    case OID_INT2: return B_INT2;
    case OID_INT4: return B_INT4;
    case OID_INT8: return B_INT8;
    case OID_FLOAT8: return B_FLOAT8;
    case OID_BOOL: return B_BOOL;
    case OID_TEXT: case OID_BPCHAR: case OID_VARCHAR: return B_TEXT;
    case OID_NUMERIC: return B_NUMERIC;
    case OID_TIMESTAMP: return B_TS;
    case OID_TIMESTAMPTZ: return B_TSTZ;
    case OID_JSON: return B_JSON;
    case OID_JSONB: return B_JSONB;
    default: return B_NONE;   /* float4 too: a double's float is not always the decimal text's */
    }
}

/* a column of the destination table: its name, its type as SQL writes it, whether rows can reach
 * it through unnest() (not an array, not generated), how it takes binary COPY */
typedef struct TCol { char *name; char *type; int unnest, json, array; BinKind bin; } TCol;

/* A group's commands sent in one query string: each one's role, how many results have come, the
 * last one that did (owned), the COPY's rows to put when the server asks for them */
typedef struct CopyWait {
    int roles[5], nroles, k, staged;
    int novel;         /* the COPY was binary or went through one slot (copy_rows) */
    int bin;           /* ...binary */
    int broken;        /* a stream's rows could not be put: its end fails and says why */
    PGresult *last;
    FlowSb rows;
} CopyWait;

/* A page sent (di_send) and not yet finished (di_finish) */
typedef struct Sent {
    FlowImportItem *items;
    int n;
    int open;          /* its rows are in the work under way on the connection (PgImport.out) */
    int done, rc;      /* its outcome is known: written (rc 0), or the run fails (rc -1, err) */
    cJSON *vals;       /* its typed values as objects (vals_objects) until then; a stream's page lets
                          them go once its rows are put, and makes them again to be written again */
    FlowErr err;
} Sent;

/* what is under way on the connection for the pages sent (PgImport.out) */
enum { OUT_NONE, OUT_PAGE, OUT_STREAM, OUT_ENDED };

typedef struct PgImport {
    Pg *p;
    char *table;
    char *key;         /* upsert: the key column */
    int exists;        /* the table is known to exist */
    int known;         /* its columns were read */
    int copy;          /* ...and it takes COPY (a table, not a view; no rules, which COPY skips) */
    char stage[32];    /* upsert: the session's staging table for COPY (a temporary table)... */
    int stage_gen;     /* ...made on the connection of this generation + 1 (0: not made) */
    int staged;        /* rows were copied into it in the current transaction */
    int direct;        /* upsert: a page without conflicts may COPY straight into the table (direct_ok) */
    int direct_skip;   /* pages to go through the staging table before trying that again... */
    int direct_wait;   /* ...after the next conflict (doubles with each one, up to PG_DIRECT_WAIT) */
    char why[1000];    /* why a key did not fit its column (existing_chunk) */
    TCol *tcols; int ntcols;
    Params ps;
    Cols cols;
    /* pipelined writes ("pipelined writes" below): the pages sent and not finished, oldest first
     * (q[q_head..q_head + q_n)), and what is under way for them (out): nothing, the last COPY of
     * one page (OUT_PAGE, with the try it belongs to: s_careful...), or a stream taking the rows of
     * the pages not done yet (OUT_STREAM; OUT_ENDED once its COPY is ended) */
    Sent *q;
    int q_head, q_n, q_cap;
    int out;
    int sending;       /* di_send is trying the page: its last COPY may stop once its rows are out */
    int sent;          /* ...it did */
    CopyWait *cw;
    int s_careful, s_staged, s_attempt, s_direct;
    int st_way;        /* the stream's rows go straight into the table (1) or into the staging table (2)... */
    cJSON *st_first;   /* ...with the fields of its first row (a copy) */
    const TCol **st_tc;      /* ...each one's column */
    int st_ncols;
    long st_rows;      /* ...rows and bytes put so far */
    size_t st_bytes;
    long stream_rows;  /* the rows and pages the last stream took (how the next one is likely to go) */
    int st_pages, stream_pages;
    int broken;        /* a page's write failed the run: nothing more is written */
    int *all;          /* 0, 1, 2, ...: a whole page's rows as copy_rows takes them (all_rows) */
    int nall;
    int text_only;     /* FLOW_PG_COPY=text: COPY as before binary COPY and the one-slot COPY */
} PgImport;

static void tcols_free(PgImport *im) {
    for (int i = 0; i < im->ntcols; i++) { free(im->tcols[i].name); free(im->tcols[i].type); }
    free(im->tcols);
    im->tcols = NULL;
    im->ntcols = 0;
    im->known = 0;
    im->copy = 0;
    im->direct = 0;
}

/* the open stream's own state let go (its columns, its first row's fields) */
static void stream_forget(PgImport *im) {
    free(im->st_tc);
    im->st_tc = NULL;
    cJSON_Delete(im->st_first);
    im->st_first = NULL;
}

/* What is under way on the connection given up: a stream's COPY cancelled (why: the server's error),
 * every result read, the transaction rolled back; none of its rows stays */
static void stream_cancel(PgImport *im, const char *why) {
    PGconn *pc = im->p->pc;
    if (im->out != OUT_NONE && PQstatus(pc) == CONNECTION_OK) {
        if (im->out == OUT_STREAM) PQputCopyEnd(pc, why);
        for (PGresult *r; (r = PQgetResult(pc)) != NULL;) PQclear(r);
        if (PQtransactionStatus(pc) != PQTRANS_IDLE) exec_ok(pc, "ROLLBACK");
    }
    im->out = OUT_NONE;
    stream_forget(im);
}

static void di_close(void *h) {
    PgImport *im = h;
    /* (the engine finishes every page it sent before it closes the import, but for those it drops
     * after a failed write, whose outcomes are known by then) */
    stream_cancel(im, "the run ended before these rows were finished");
    for (int k = im->q_head; k < im->q_head + im->q_n; k++) free(im->q[k].vals);
    free(im->q);
    free(im->all);
    if (im->cw) {
        PQclear(im->cw->last);
        free(im->cw->rows.p);
        free(im->cw);
    }
    tcols_free(im);
    free(im->table);
    free(im->key);
    params_free(&im->ps);
    cols_free(&im->cols);
    free(im);
}

static void *di_open(void *conn, const FlowSettings *s, FlowErr *err) {
    char *table, *key;
    if (flow_sql_import_target(s, &table, &key, err)) return NULL;
    PgImport *im = flow_xcalloc(1, sizeof *im);
    im->p = conn;
    im->table = table;
    im->key = key;
    snprintf(im->stage, sizeof im->stage, "flow_stage_%d", ++im->p->nstmt);
    const char *how = getenv("FLOW_PG_COPY");
    im->text_only = how && strcmp(how, "text") == 0;
    return im;
}

/* An outcome of the page's work that stops it: how, and why in err */
enum { PAGE_OK = 0, PAGE_AGAIN = 1, PAGE_FAIL = -1 };
/* ...and page_once's others: 3 replay row by row, 4 through the staging table, 7 again in COPY text
 * (group_outcome), PAGE_SENT (di_send:
 * the last COPY's results are still to come), PAGE_NONE (pages_from: no try made yet) */
enum { PAGE_SENT = 5, PAGE_NONE = 6 };

/* the outcome for a failed command outside the records (BEGIN, COMMIT, a catalog query) */
static int page_failure(PgImport *im, PGresult *r, const char *what, FlowErr *err) {
    char msg[1000];
    result_msg(im->p, im->p->pc, r, -1, msg, sizeof msg);
    FailKind k = fail_kind(im->p->pc, r);
    if (k == FAIL_CONN || k == FAIL_RETRY) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: %s: %s", what, msg);
        return PAGE_AGAIN;
    }
    flow_err_set(err, FLOW_ERR_VALUE, "table %s: %s: %s", im->table, what, msg);
    return PAGE_FAIL;
}

/* whether the table exists (asked until it does); 1, 0, or a PAGE_ outcome < 0 / PAGE_AGAIN + 1 */
static int table_exists(PgImport *im, FlowErr *err) {
    if (im->exists) return 1;
    FlowSb b = { 0 };
    sb_table(&b, im->table);
    const char *v[1] = { b.p };
    PGresult *r = PQexecParams(im->p->pc, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, v, NULL, NULL, 0);
    free(b.p);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        int o = page_failure(im, r, "cannot look the table up", err);
        PQclear(r);
        return o == PAGE_AGAIN ? 2 : -1;
    }
    im->exists = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return im->exists;
}

/* An upsert's page whose keys are all new is a plain insert: COPY can write it straight into the
 * table, which the server does at less than half the cost of the staging table's COPY followed by
 * INSERT ... ON CONFLICT. A conflict makes that COPY fail (unique_violation), and the page goes the
 * staging way instead, so the table ends as ON CONFLICT leaves it. Only where the outcome cannot
 * tell the two ways apart: the key has the unique index ON CONFLICT (key) infers (immediate, whole,
 * on that one column), and the table has no triggers of its own (ON CONFLICT fires UPDATE's
 * statement triggers too; nor its partitions), no row-level security, and no sequence or identity
 * column (a COPY that failed would have taken numbers from it). Sets im->direct; PAGE_OK, or
 * PAGE_AGAIN with err. */
static int direct_ok(PgImport *im, FlowErr *err) {
    FlowSb b = { 0 };
    sb_table(&b, im->table);
    const char *v[2] = { b.p, im->key };
    PGresult *r = PQexecParams(im->p->pc,
        "SELECT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indimmediate AND i.indisvalid AND i.indnkeyatts = 1 "
        "AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = $2) "
        "AND NOT EXISTS (SELECT FROM pg_trigger WHERE (tgrelid = to_regclass($1) "
        "OR tgrelid IN (SELECT relid FROM pg_partition_tree(to_regclass($1)))) AND NOT tgisinternal) "
        "AND NOT (SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass($1)) "
        "AND NOT EXISTS (SELECT FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
        "AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%'))",
        2, NULL, v, NULL, NULL, 0);
    free(b.p);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        FailKind k = fail_kind(im->p->pc, r);
        int o = PAGE_OK;
        if (k == FAIL_CONN || k == FAIL_RETRY) {   /* else (a server without these catalogs): the staging way */
            o = page_failure(im, r, "cannot read the table's indexes", err);
            im->known = 0;   /* read again with the columns */
        }
        PQclear(r);
        return o;
    }
    im->direct = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return PAGE_OK;
}

/* reads the table's columns (once it exists); PAGE_OK, or PAGE_AGAIN / PAGE_FAIL with err */
static int load_columns(PgImport *im, FlowErr *err) {
    if (im->known || !im->exists) return PAGE_OK;
    FlowSb b = { 0 };
    sb_table(&b, im->table);
    const char *v[1] = { b.p };
    PGresult *r = PQexecParams(im->p->pc,
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory <> 'A' AND a.attgenerated = '', "
        "a.atttypid IN (114, 3802), t.typcategory = 'A', c.relkind IN ('r', 'p') AND NOT c.relhasrules, a.atttypid "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        1, NULL, v, NULL, NULL, 0);
    free(b.p);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int o = page_failure(im, r, "cannot read the table's columns", err);
        PQclear(r);
        return o;
    }
    tcols_free(im);
    im->ntcols = PQntuples(r);
    im->tcols = flow_xcalloc((size_t)im->ntcols + 1, sizeof *im->tcols);
    im->copy = im->ntcols > 0 && PQgetvalue(r, 0, 5)[0] == 't';
    /* binary timestamps are microseconds only where the server keeps them so (since 10, always) */
    const char *idt = PQparameterStatus(im->p->pc, "integer_datetimes");
    int int_ts = idt && strcmp(idt, "on") == 0;
    for (int i = 0; i < im->ntcols; i++) {
        im->tcols[i].name = flow_xstrdup(PQgetvalue(r, i, 0));
        im->tcols[i].type = flow_xstrdup(PQgetvalue(r, i, 1));
        im->tcols[i].unnest = PQgetvalue(r, i, 2)[0] == 't';
        im->tcols[i].json = PQgetvalue(r, i, 3)[0] == 't';
        im->tcols[i].array = PQgetvalue(r, i, 4)[0] == 't';
        im->tcols[i].bin = oid_bin((Oid)strtoul(PQgetvalue(r, i, 6), NULL, 10));
        if (!int_ts && (im->tcols[i].bin == B_TS || im->tcols[i].bin == B_TSTZ)) im->tcols[i].bin = B_NONE;
    }
    im->known = 1;
    PQclear(r);
    return im->key && im->copy ? direct_ok(im, err) : PAGE_OK;
}

static const TCol *tcol(const PgImport *im, const char *name) {
    for (int i = 0; i < im->ntcols; i++) if (strcmp(im->tcols[i].name, name) == 0) return &im->tcols[i];
    return NULL;
}

/* a JSON array as an array literal: {1,"a",NULL,{2,3}} */
static void sb_array(FlowSb *b, const cJSON *a) {
    flow_sb_put(b, "{", 1);
    for (const cJSON *e = a->child; e; e = e->next) {
        if (e != a->child) flow_sb_put(b, ",", 1);
        if (cJSON_IsArray(e)) { sb_array(b, e); continue; }
        char *own;
        const char *t = param_text(e, &own);
        sb_element(b, t);
        free(own);
    }
    flow_sb_put(b, "}", 1);
}

/* A field's value as the text its column reads (NULL for null; *own to free): a json or jsonb
 * column gets the value's JSON text (a string too), an array column an array literal from a JSON
 * array; otherwise as param_text. */
static const char *col_text(const TCol *t, const cJSON *v, char **own) {
    *own = NULL;
    if (t && t->json && v && !cJSON_IsNull(v)) {
        char *j = flow_json_print(v);
        if (!j) abort();
        *own = flow_xstrdup(j);
        cJSON_free(j);
        return *own;
    }
    if (t && t->array && cJSON_IsArray(v)) {
        FlowSb b = { 0 };
        sb_array(&b, v);
        return *own = flow_sb_take(&b);
    }
    return param_text(v, own);
}

static const char *column_type(const cJSON *v) {
    if (cJSON_IsNumber(v)) return " numeric";
    if (cJSON_IsBool(v)) return " boolean";
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) return " jsonb";
    return " text";
}

/* CREATE TABLE IF NOT EXISTS from a record's fields (the upsert key its primary key): PAGE_OK,
 * PAGE_AGAIN / PAGE_FAIL with err, or 2: the record cannot make a table (its error in rerr) */
static int create_table(PgImport *im, const cJSON *rec, FlowErr *rerr, FlowErr *err) {
    if (!rec->child) {
        flow_err_set(rerr, FLOW_ERR_VALUE, "cannot create table %s from a record without fields", im->table);
        return 2;
    }
    FlowSb b = { 0 };
    flow_sb_puts(&b, "CREATE TABLE IF NOT EXISTS ");
    sb_table(&b, im->table);
    flow_sb_puts(&b, " (");
    for (const cJSON *c = rec->child; c; c = c->next) {
        if (c != rec->child) flow_sb_puts(&b, ", ");
        flow_sql_ident(&b, c->string);
        flow_sb_puts(&b, column_type(c));
        if (im->key && strcmp(c->string, im->key) == 0) flow_sb_puts(&b, " PRIMARY KEY");
    }
    flow_sb_puts(&b, ")");
    PGresult *r = PQexec(im->p->pc, b.p);
    free(b.p);
    int o = PAGE_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        FailKind k = fail_kind(im->p->pc, r);
        if (k == FAIL_CONN || k == FAIL_RETRY || is_sqlstate(r, "42501") || is_sqlstate(r, "3F000"))
            o = page_failure(im, r, "cannot create the table", err);
        else {
            char msg[1000];
            result_msg(im->p, im->p->pc, r, -1, msg, sizeof msg);
            flow_err_set(rerr, FLOW_ERR_VALUE, "cannot create table %s from this record: %s", im->table, msg);
            o = 2;
        }
    } else im->exists = 1;
    PQclear(r);
    return o;
}

/* whether two outputs have the same fields in the same order */
static int same_fields(const cJSON *a, const cJSON *b) {
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)   /* (a typed map's rows share their names) */
        if (x->string != y->string && strcmp(x->string, y->string) != 0) return 0;
    return !x && !y;
}

/* ON CONFLICT ... for an upsert of rows with first's fields */
static void sb_conflict(FlowSb *b, const PgImport *im, const cJSON *first) {
    if (!im->key) return;
    flow_sb_puts(b, " ON CONFLICT (");
    flow_sql_ident(b, im->key);
    flow_sb_puts(b, ")");
    int any = 0;
    for (const cJSON *c = first->child; c; c = c->next) {
        if (strcmp(c->string, im->key) == 0) continue;
        flow_sb_puts(b, any ? ", " : " DO UPDATE SET ");
        flow_sql_ident(b, c->string);
        flow_sb_puts(b, " = EXCLUDED.");
        flow_sql_ident(b, c->string);
        any = 1;
    }
    if (!any) flow_sb_puts(b, " DO NOTHING");
}

/* INSERT of the rows items[idx[0..nrows)] (valid, with the same fields) as one statement: one
 * array parameter per column through unnest() when the table's columns allow (the server parses a
 * few parameters instead of rows x columns), else VALUES (...), (...). The PGresult. */
static PGresult *insert_rows(PgImport *im, FlowImportItem *items, const int *idx, int nrows) {
    const cJSON *first = items[idx[0]].out;
    FlowSb b = { 0 };
    flow_sb_puts(&b, "INSERT INTO ");
    sb_table(&b, im->table);
    params_clear(&im->ps);
    int ncols = cJSON_GetArraySize(first), unnest = nrows > 1 && im->known, ci = 0;
    const TCol **tc = flow_xcalloc((size_t)ncols + 1, sizeof *tc);   /* each field's column */
    for (const cJSON *c = first->child; c; c = c->next, ci++) {
        tc[ci] = im->known ? tcol(im, c->string) : NULL;
        if (!tc[ci] || !tc[ci]->unnest) unnest = 0;
    }
    if (!first->child) {
        flow_sb_puts(&b, " DEFAULT VALUES");
    } else {
        flow_sb_puts(&b, " (");
        for (const cJSON *c = first->child; c; c = c->next) {
            if (c != first->child) flow_sb_puts(&b, ", ");
            flow_sql_ident(&b, c->string);
        }
        flow_sb_puts(&b, ")");
        if (unnest) {
            FlowSb *arr = flow_xcalloc((size_t)ncols, sizeof *arr);
            for (int k = 0; k < nrows; k++) {
                ci = 0;
                for (const cJSON *c = items[idx[k]].out->child; c; c = c->next, ci++) {
                    char *own;
                    const char *t = col_text(tc[ci], c, &own);
                    flow_sb_put(&arr[ci], k ? "," : "{", 1);
                    sb_element(&arr[ci], t);
                    free(own);
                }
            }
            flow_sb_puts(&b, " SELECT * FROM unnest(");
            for (ci = 0; ci < ncols; ci++) {
                flow_sb_put(&arr[ci], "}", 1);
                params_take(&im->ps, flow_sb_take(&arr[ci]));
                flow_sb_puts(&b, ci ? ", $" : "$");
                sb_int(&b, ci + 1);
                flow_sb_puts(&b, "::");
                flow_sb_puts(&b, tc[ci]->type);
                flow_sb_puts(&b, "[]");
            }
            free(arr);
            flow_sb_puts(&b, ")");
        } else {
            flow_sb_puts(&b, " VALUES ");
            for (int k = 0; k < nrows; k++) {
                flow_sb_puts(&b, k ? ", (" : "(");
                ci = 0;
                for (const cJSON *c = items[idx[k]].out->child; c; c = c->next, ci++) {
                    char *own;
                    const char *t = col_text(tc[ci], c, &own);
                    params_grow(&im->ps);
                    im->ps.v[im->ps.n] = t;
                    im->ps.own[im->ps.n++] = own;
                    if (c != items[idx[k]].out->child) flow_sb_puts(&b, ", ");
                    flow_sb_puts(&b, "$");
                    sb_int(&b, im->ps.n);
                }
                flow_sb_puts(&b, ")");
            }
        }
        sb_conflict(&b, im, first);
    }
    free(tc);
    PGresult *r = PQexecParams(im->p->pc, b.p, im->ps.n, NULL, im->ps.v, NULL, NULL, 0);
    params_clear(&im->ps);
    free(b.p);
    return r;
}

/* a value in COPY's text format: \N for NULL, else the text with backslash, tab, newline and
 * carriage return escaped */
static void sb_copy_value(FlowSb *b, const char *t) {
    if (!t) { flow_sb_put(b, "\\N", 2); return; }
    size_t n = strlen(t);
    if (b->n + 2 * n + 1 > b->cap) {   /* room for every byte escaped: one pass, no checks inside */
        b->cap = (b->n + 2 * n + 1) * 2;
        b->p = flow_xrealloc(b->p, b->cap);
    }
    char *w = b->p + b->n;
    for (const char *q = t;;) {
        size_t run = strcspn(q, "\\\t\n\r");
        memcpy(w, q, run);
        w += run;
        q += run;
        if (!*q) break;
        *w++ = '\\';
        *w++ = *q == '\t' ? 't' : *q == '\n' ? 'n' : *q == '\r' ? 'r' : '\\';
        q++;
    }
    *w = 0;
    b->n = (size_t)(w - b->p);
}

/* a field's value as the text its column reads: col_text's, without copying it first where the
 * value holds it (NULL for null; *own to free) */
static const char *field_text(const TCol *t, const cJSON *v, char nb[32], char **own) {
    *own = NULL;
    if (!v || cJSON_IsNull(v)) return NULL;
    if (t && t->json) return col_text(t, v, own);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v)) return flow_json_num_text(v, nb);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "true" : "false";
    return col_text(t, v, own);
}

/* a field's value in COPY's text format */
static void sb_copy_field(FlowSb *b, const TCol *t, const cJSON *v) {
    char nb[32], *own;
    sb_copy_value(b, field_text(t, v, nb, &own));
    free(own);
}

/* A field's value in binary COPY, made from the text the text format sends (field_text), when the
 * column's binary form gives the server the very value its input function reads from that text
 * (pg_binary.c): 0, or -1 (nothing written: the page goes as text). */
static int sb_binary_field(FlowSb *b, const TCol *t, const cJSON *v) {
    /* an int column from a number that holds an integer exactly: the value, not its text read back */
    if ((t->bin == B_INT2 || t->bin == B_INT4 || t->bin == B_INT8) && cJSON_IsNumber(v) && !v->valuestring) {
        double d = v->valuedouble;
        if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(int64_t)d)
            return flow_pgbin_int_val(b, (int64_t)d, t->bin == B_INT2 ? 2 : t->bin == B_INT4 ? 4 : 8);
    }
    char nb[32], *own;
    const char *s = field_text(t, v, nb, &own);
    if (!s) { flow_pgbin_len(b, -1); return 0; }
    size_t n = strlen(s);
    int rc = 0;
    switch (t->bin) {
    case B_INT2: rc = flow_pgbin_int(b, s, n, 2); break;
    case B_INT4: rc = flow_pgbin_int(b, s, n, 4); break;
    case B_INT8: rc = flow_pgbin_int(b, s, n, 8); break;
    case B_NUMERIC: rc = flow_pgbin_numeric(b, s, n); break;
    case B_TS: case B_TSTZ: rc = flow_pgbin_timestamp(b, s, n, t->bin == B_TSTZ); break;
    case B_BOOL:   /* the texts a bool sends; boolin's other spellings go as text */
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0) { rc = -1; break; }
        flow_pgbin_bytes(b, -1, s[0] == 't' ? "\1" : "", 1);
        break;
    case B_FLOAT8: {   /* the number's own text read as float8in reads it (strtod, correctly rounded) */
        if (!cJSON_IsNumber(v)) { rc = -1; break; }
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (end != s + n || errno || !isfinite(d)) { rc = -1; break; }
        flow_pgbin_float8(b, d);
        break;
    }
    case B_TEXT: case B_JSON: case B_JSONB:   /* the text itself (jsonb: after its format's version, 1) */
        if (n > INT32_MAX - 1) { rc = -1; break; }
        flow_pgbin_bytes(b, t->bin == B_JSONB ? 1 : -1, s, n);
        break;
    default: rc = -1; break;
    }
    free(own);
    return rc;
}

/* binary COPY's header and trailer (copy_binary's parts) */
enum { BIN_HEAD = 1, BIN_TAIL = 2 };
#define PG_BIN_TAIL "\377\377"

/* The rows items[idx[0..nrows)] in binary COPY (appended to b; with its header and trailer as parts
 * says) when every field's column takes it and every value fits (sb_binary_field): 0, or -1 (b as
 * it was: the rows go as text). */
static int copy_binary(FlowSb *b, FlowImportItem *items, const int *idx, int nrows, const TCol **tc, int ncols, int parts) {
    size_t was = b->n;
    for (int ci = 0; ci < ncols; ci++) if (!tc[ci] || tc[ci]->bin == B_NONE) return -1;
    if (parts & BIN_HEAD) flow_sb_put(b, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);   /* signature, flags, header extension */
    for (int j = 0; j < nrows; j++) {
        char nc[2] = { (char)(ncols >> 8), (char)ncols };   /* (a row's 2 bytes: not worth a call less) */
        flow_sb_put(b, nc, 2);
        int ci = 0;
        for (const cJSON *c = items[idx[j]].out->child; c; c = c->next, ci++)
            if (sb_binary_field(b, tc[ci], c)) { b->n = was; return -1; }
    }
    if (parts & BIN_TAIL) flow_sb_put(b, PG_BIN_TAIL, 2);
    return 0;
}

/* The rows items[idx[0..nrows)] in COPY's text format, appended to b: tab between values, a
 * newline after each row */
static void copy_text(FlowSb *b, FlowImportItem *items, const int *idx, int nrows, const TCol **tc) {
    for (int j = 0; j < nrows; j++) {
        int ci = 0;
        for (const cJSON *c = items[idx[j]].out->child; c; c = c->next, ci++) {
            if (ci) flow_sb_put(b, "\t", 1);
            sb_copy_field(b, tc[ci], c);
        }
        flow_sb_put(b, "\n", 1);
    }
}

/* the session's staging table of an upsert, outside the page's transaction: a temporary table with
 * the destination's columns and types, emptied at each commit. 0, or -1 (COPY cannot be used: the
 * page goes in as multi-row INSERTs) */
static int stage_make(PgImport *im) {
    if (im->stage_gen == im->p->generation + 1) return 0;
    FlowSb b = { 0 };
    flow_sb_puts(&b, "CREATE TEMPORARY TABLE IF NOT EXISTS ");
    flow_sql_ident(&b, im->stage);
    flow_sb_puts(&b, " ON COMMIT DELETE ROWS AS SELECT * FROM ");
    sb_table(&b, im->table);
    flow_sb_puts(&b, " WITH NO DATA");
    int ok = exec_ok(im->p->pc, b.p);
    free(b.p);
    if (!ok) return -1;
    im->stage_gen = im->p->generation + 1;
    return 0;
}

/* What a page's COPY command does around the COPY (copy_rows' how), and which of its commands a
 * result is about (its *role) */
enum { CP_BEGIN = 1, CP_COMMIT = 2, CP_DIRECT = 4, CP_DEFER = 8, CP_STREAM = 16 };
enum { ROLE_BEGIN, ROLE_ROWS, ROLE_COMMIT, ROLE_DEFERRED };

/* copy_wait's ways: every result read; or, once the COPY's rows are out, return (the rest to be
 * read by a later call) with the COPY ended (CW_END) or still taking rows (CW_OPEN: a stream's) */
enum { CW_ALL = 0, CW_END = 1, CW_OPEN = 2 };

/* The results of cw's commands in order, from where it stands: each command's, the COPY's after
 * its rows; a failure ends them. The last result (a failure, or the last command's), with *role
 * saying whose; NULL when answers are missing (the connection's error says why). CW_END, CW_OPEN:
 * returns NULL with *role ROLE_DEFERRED once the rows are out. */
static PGresult *copy_wait(PgImport *im, CopyWait *cw, int how, int *role) {
    PGconn *pc = im->p->pc;
    PGresult *r;
    int failed = 0;
    while ((r = PQgetResult(pc)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COPY_IN) {
            PQclear(r);
            if (cw->staged) im->staged = 1;   /* whatever comes of it, a later group empties the table first */
            /* on a send failure, PQputCopyEnd fails too and the next result says why */
            int put = PQputCopyData(pc, cw->rows.p ? cw->rows.p : "", (int)cw->rows.n) == 1;
            cw->rows.n = 0;
            if (how == CW_OPEN) {
                if (!put) cw->broken = 1;
                *role = ROLE_DEFERRED;
                return NULL;
            }
            if (put) PQputCopyEnd(pc, NULL);
            if (how == CW_END) { *role = ROLE_DEFERRED; return NULL; }
            continue;
        }
        if (st != PGRES_COMMAND_OK) {   /* the server skipped the rest: read what is left */
            *role = cw->roles[cw->k < cw->nroles ? cw->k : cw->nroles - 1];
            PQclear(cw->last);
            cw->last = r;
            for (PGresult *more; (more = PQgetResult(pc)) != NULL;) PQclear(more);
            failed = 1;
            break;
        }
        *role = cw->roles[cw->k < cw->nroles ? cw->k : cw->nroles - 1];
        cw->k++;
        PQclear(cw->last);
        cw->last = r;
    }
    if (!failed && cw->k < cw->nroles) {   /* answers missing: the connection's error says why */
        *role = cw->roles[cw->k];
        PQclear(cw->last);
        cw->last = NULL;
    }
    r = cw->last;
    cw->last = NULL;
    free(cw->rows.p);
    cw->rows.p = NULL;
    cw->rows.n = 0;
    return r;
}

/* Whether a COPY of nrows rows (text_bytes of COPY text; 0: binary) should insert through one slot.
 * COPY buffers up to 1000 rows (or, in text, 64 KB of it) and makes a slot for each one it holds at
 * once; PostgreSQL 12 to 16 remember each slot's tuple descriptor in the resource owner by a probe
 * over all the equal entries, quadratic in the slots, which costs a page of 1000 rows more than the
 * per-row inserts of a COPY that uses one slot (measured: 20% of the server's work on a page of
 * 1000 rows; below ~500 rows the buffered way wins). A volatile WHERE clause makes COPY insert row by
 * row through one slot (COPY FROM's WHERE came in 12; 17 remembers resources in a hash). */
static int copy_one_slot(PGconn *pc, int nrows, size_t text_bytes) {
    int v = PQserverVersion(pc);
    if (v < 120000 || v >= 170000) return 0;
    long held = nrows < 1000 ? nrows : 1000;
    if (text_bytes) {
        long per = (long)(text_bytes / (size_t)nrows) + 1, fit = 65535 / per + 1;
        if (fit < held) held = fit;
    }
    return held >= PG_SINGLE_ROWS;
}

/* The rows items[idx[0..nrows)] (valid, with the same fields) through COPY ... FROM STDIN: straight
 * into the table for inserts (and upserts with CP_DIRECT); for upserts into the staging table,
 * then INSERT INTO the table SELECT from it ON CONFLICT. CP_BEGIN starts the page's transaction
 * first, CP_COMMIT commits it after. Every command goes in one query string, so the page costs two
 * round trips (the server's answer to the COPY, then the rows and every result), and the server
 * skips the rest after a failure. The PGresult of the first command that failed (*role says which),
 * or of the last (its status PGRES_COMMAND_OK: every row went in). */
static PGresult *copy_rows(PgImport *im, FlowImportItem *items, const int *idx, int nrows, int how, int *role) {
    PGconn *pc = im->p->pc;
    const cJSON *first = items[idx[0]].out;
    int ncols = cJSON_GetArraySize(first), ci = 0, staged = im->key && !(how & CP_DIRECT);
    const TCol **tc = flow_xcalloc((size_t)ncols + 1, sizeof *tc);   /* each field's column */
    FlowSb cols = { 0 };
    flow_sb_puts(&cols, "(");
    for (const cJSON *c = first->child; c; c = c->next, ci++) {
        tc[ci] = tcol(im, c->string);
        if (c != first->child) flow_sb_puts(&cols, ", ");
        flow_sql_ident(&cols, c->string);
    }
    flow_sb_puts(&cols, ")");
    /* the commands, and the role of each one's result */
    if (!im->cw) im->cw = flow_xcalloc(1, sizeof *im->cw);
    CopyWait *cw = im->cw;
    memset(cw, 0, sizeof *cw);
    cw->staged = staged;
    FlowSb b = { 0 };
    if (how & CP_BEGIN) { flow_sb_puts(&b, "BEGIN; "); cw->roles[cw->nroles++] = ROLE_BEGIN; }
    if (staged && im->staged) {   /* an earlier group of this page's rows is still there */
        flow_sb_puts(&b, "DELETE FROM ");
        flow_sql_ident(&b, im->stage);
        flow_sb_puts(&b, "; ");
        cw->roles[cw->nroles++] = ROLE_ROWS;
    }
    flow_sb_puts(&b, "COPY ");
    if (staged) flow_sql_ident(&b, im->stage);
    else sb_table(&b, im->table);
    flow_sb_puts(&b, " ");
    flow_sb_puts(&b, cols.p);
    flow_sb_puts(&b, " FROM STDIN");
    /* the rows: in binary COPY where every column and value allows (the server reads them at less
     * cost), else as COPY text. A stream's trailer comes at its end. */
    int stream = (how & CP_STREAM) != 0;
    int bin = !im->text_only && copy_binary(&cw->rows, items, idx, nrows, tc, ncols, stream ? BIN_HEAD : BIN_HEAD | BIN_TAIL) == 0;
    if (!bin) copy_text(&cw->rows, items, idx, nrows, tc);
    cw->bin = bin;
    if (bin) flow_sb_puts(&b, " (FORMAT binary)");
    /* a stream is expected to take as many rows as the last one did when that took several pages
     * (else this page may well be its only one: a last page, or imports that take turns) */
    int expect = stream && im->stream_pages > 1 && im->stream_rows > nrows ? (int)(im->stream_rows < 1000 ? im->stream_rows : 1000) : nrows;
    int slot = !im->text_only && copy_one_slot(pc, expect, bin ? 0 : (size_t)((double)cw->rows.n * expect / nrows));
    if (slot) flow_sb_puts(&b, " WHERE pg_catalog.random() >= 0");
    cw->novel = bin || slot;
    cw->roles[cw->nroles++] = ROLE_ROWS;
    if (staged) {
        flow_sb_puts(&b, "; INSERT INTO ");
        sb_table(&b, im->table);
        flow_sb_puts(&b, " ");
        flow_sb_puts(&b, cols.p);
        flow_sb_puts(&b, " SELECT ");
        flow_sb_puts(&b, cols.p + 1);
        b.n--;   /* without the column list's ")" */
        flow_sb_puts(&b, " FROM ");
        flow_sql_ident(&b, im->stage);
        sb_conflict(&b, im, first);
        cw->roles[cw->nroles++] = ROLE_ROWS;
    }
    if (how & CP_COMMIT) { flow_sb_puts(&b, "; COMMIT"); cw->roles[cw->nroles++] = ROLE_COMMIT; }
    *role = ROLE_ROWS;
    PGresult *r = NULL;
    if (PQsendQuery(pc, b.p))   /* r NULL: the connection's error says why */
        r = copy_wait(im, cw, stream ? CW_OPEN : (how & CP_DEFER) ? CW_END : CW_ALL, role);
    else {
        free(cw->rows.p);
        memset(&cw->rows, 0, sizeof cw->rows);
    }
    if (stream && *role == ROLE_DEFERRED) {   /* the stream's next pages are formatted by them */
        free(im->st_tc);
        im->st_tc = tc;
        im->st_ncols = ncols;
    } else free(tc);
    free(cols.p);
    free(b.p);
    return r;
}

/* A record error from a failed row (class duplicate for unique violations) */
static void row_error(PgImport *im, FlowImportItem *it, PGresult *r) {
    char msg[1000];
    result_msg(im->p, im->p->pc, r, -1, msg, sizeof msg);
    flow_import_fail(it, is_sqlstate(r, "23505") ? FLOW_ERR_DUPLICATE : FLOW_ERR_VALUE, "table %s: %s", im->table, msg);
}

/* the failure of a statement that writes rows: PAGE_AGAIN / PAGE_FAIL with err, or PAGE_OK when it
 * is about the records (FAIL_RECORD) */
static int rows_failure(PgImport *im, PGresult *r, FlowErr *err) {
    FailKind k = fail_kind(im->p->pc, r);
    if (k == FAIL_RECORD) return PAGE_OK;
    char msg[1000];
    result_msg(im->p, im->p->pc, r, -1, msg, sizeof msg);
    if (k == FAIL_CONN || k == FAIL_RETRY) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "connection error: while writing to table %s: %s", im->table, msg);
        return PAGE_AGAIN;
    }
    if (is_sqlstate(r, "42P10"))
        flow_err_set(err, FLOW_ERR_VALUE,
                     "table %s: the upsert key `%s` needs a unique index or primary key on that column (%s)", im->table,
                     im->key ? im->key : "", msg);
    else flow_err_set(err, FLOW_ERR_VALUE, "table %s: %s", im->table, msg);
    return PAGE_FAIL;
}

/* the outcome of a COMMIT that failed (FAIL_RECORD in the careful replay is a deferred constraint:
 * every row of the page shares the blame) */
static int commit_failure(PgImport *im, FlowImportItem *items, int n, int careful, PGresult *r, FlowErr *err) {
    FailKind k = fail_kind(im->p->pc, r);
    if (k == FAIL_RECORD && !careful) return 3;
    if (k != FAIL_RECORD) return page_failure(im, r, "cannot commit", err);
    for (int i = 0; i < n; i++) if (!items[i].failed) row_error(im, &items[i], r);
    return PAGE_OK;
}

/* The outcome of a group of rows from its last result r (consumed) and whose it is (role): PAGE_OK
 * (committed set when it was the COMMIT's), or what page_once returns for its failure */
static int group_outcome(PgImport *im, FlowImportItem *items, int n, int careful, int direct, int copy, const int *idx, PGresult *r,
                         int role, int *committed, FlowErr *err) {
    PGconn *pc = im->p->pc;
    int o = PAGE_OK;
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        *committed = role == ROLE_COMMIT;
        if (careful) {
            r = PQexec(pc, "RELEASE SAVEPOINT flow_row");
            if (PQresultStatus(r) != PGRES_COMMAND_OK) o = page_failure(im, r, "cannot release a savepoint", err);
            PQclear(r);
        }
        return o;
    }
    int kind = direct && role != ROLE_BEGIN && role != ROLE_COMMIT ? fail_kind(pc, r) : FAIL_CONN;
    FailKind why = fail_kind(pc, r);
    if (copy && role == ROLE_ROWS && im->cw && im->cw->novel && !im->text_only &&
        (why == FAIL_RUN || is_sqlstate(r, "22P03"))) {
        /* a server that refuses binary COPY or COPY's WHERE (or its binary values): this import
         * sends COPY text from now on, this page too */
        im->text_only = 1;
        o = 7;
    } else if (role == ROLE_BEGIN) o = page_failure(im, r, "cannot start a transaction", err);
    else if (role == ROLE_COMMIT) o = commit_failure(im, items, n, careful, r, err);
    else if (direct && kind != FAIL_CONN && kind != FAIL_RETRY) {
        /* a key was there already (or some other failure, which the staging way names): the
         * next pages go that way too for a while, longer after each conflict */
        if (is_sqlstate(r, "23505")) {
            im->direct_wait = im->direct_wait ? im->direct_wait * 2 : 1;
            if (im->direct_wait > PG_DIRECT_WAIT) im->direct_wait = PG_DIRECT_WAIT;
            im->direct_skip = im->direct_wait;
        }
        o = 4;
    } else {
        o = rows_failure(im, r, err);
        if (o == PAGE_FAIL && copy) {   /* COPY's own failure: the row-by-row replay says what it is */
            o = PAGE_OK;
            memset(err, 0, sizeof *err);
        }
        if (o == PAGE_OK) {
            if (!careful) o = 3;   /* some record of these failed: replay the page row by row */
            else {
                row_error(im, &items[idx[0]], r);
                PQclear(r);
                r = PQexec(pc, "ROLLBACK TO SAVEPOINT flow_row");
                if (PQresultStatus(r) != PGRES_COMMAND_OK) o = page_failure(im, r, "cannot roll back to a savepoint", err);
            }
        }
    }
    PQclear(r);
    return o;
}

/* A page's try after its groups: rolled back when it failed, else committed (unless its last
 * COPY's commands did). page_once's outcome. */
static int page_tail(PgImport *im, FlowImportItem *items, int n, int careful, int direct, int begun, int committed, int o,
                     FlowErr *err) {
    PGconn *pc = im->p->pc;
    PGresult *r;
    if (o != PAGE_OK) {
        if (begun && PQstatus(pc) == CONNECTION_OK) exec_ok(pc, "ROLLBACK");
        return o;
    }
    if (direct && im->direct_wait) im->direct_wait /= 2;
    if (committed || !begun) return PAGE_OK;
    r = PQexec(pc, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        o = commit_failure(im, items, n, careful, r, err);
        PQclear(r);
        if (PQstatus(pc) == CONNECTION_OK) exec_ok(pc, "ROLLBACK");
        return o;
    }
    PQclear(r);
    return PAGE_OK;
}

/* One try at a page. careful = 0: COPY (or multi-row statements); a record's failure anywhere makes
 * it return 3 (replay the page carefully); an upsert's COPY straight into the table that failed
 * returns 4 (do the page again through the staging table: staged = 1). careful = 1: each row under
 * a savepoint. */
static int page_once(PgImport *im, FlowImportItem *items, int n, int careful, int staged, FlowErr *err) {
    PGconn *pc = im->p->pc;
    /* the records that can be written at all, and the table */
    for (int i = 0; i < n; i++) {
        FlowImportItem *it = &items[i];
        flow_import_unfail(it);
        if (!cJSON_IsObject(it->out)) {
            flow_import_fail(it, FLOW_ERR_VALUE, "a row for table %s must be an object", im->table);
        } else if (im->key && !cJSON_GetObjectItemCaseSensitive(it->out, im->key)) {
            flow_import_fail(it, FLOW_ERR_VALUE, "the upsert key `%s` is missing from the row", im->key);
        }
    }
    int ex = table_exists(im, err);
    if (ex < 0) return PAGE_FAIL;
    if (ex == 2) return PAGE_AGAIN;
    for (int i = 0; i < n && !im->exists; i++) {
        if (items[i].failed) continue;
        FlowErr re;
        flow_err_clear(&re);
        int o = create_table(im, items[i].out, &re, err);
        if (o == 2) flow_import_fail(&items[i], re.cls, "%s", re.msg);
        else if (o != PAGE_OK) return o;
    }
    int lo = load_columns(im, err);
    if (lo != PAGE_OK) return lo;
    /* COPY for a table whose columns are known (an upsert's staging table is made first, outside
     * the transaction, unless the page goes straight in); multi-row INSERTs otherwise. The
     * transaction starts and ends with the COPY's commands. */
    int copy = !careful && im->known && im->copy, direct = 0;
    if (copy && im->key && im->direct && !staged) {
        if (im->direct_skip) im->direct_skip--;
        else direct = 1;
    }
    if (copy && im->key && !direct && stage_make(im)) copy = 0;
    im->staged = 0;
    PGresult *r;
    if (!copy) {
        r = PQexec(pc, "BEGIN");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            int o = page_failure(im, r, "cannot start a transaction", err);
            PQclear(r);
            return o;
        }
        PQclear(r);
    }
    int *idx = flow_xcalloc((size_t)n + 1, sizeof *idx);
    int o = PAGE_OK, begun = !copy, committed = 0;
    for (int i = 0; i < n && o == PAGE_OK;) {
        if (items[i].failed) { i++; continue; }
        int nr = 0;
        if (careful) idx[nr++] = i++;
        else {
            int ncols = cJSON_GetArraySize(items[i].out);
            int maxrows = copy ? n : ncols ? PG_MAX_PARAMS / ncols : 1;
            if (maxrows > PG_CHUNK_ROWS && !copy) maxrows = PG_CHUNK_ROWS;
            const cJSON *first = items[i].out;
            idx[nr++] = i++;
            for (; i < n && nr < maxrows; i++) {
                if (items[i].failed) continue;
                if (!same_fields(first, items[i].out)) break;
                idx[nr++] = i;
            }
        }
        if (careful) {
            r = PQexec(pc, "SAVEPOINT flow_row");
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                o = page_failure(im, r, "cannot set a savepoint", err);
                PQclear(r);
                break;
            }
            PQclear(r);
        }
        int role = ROLE_ROWS;
        if (copy) {
            int last = 1;   /* no group after this one: the COPY's commands commit */
            for (int j = i; j < n && last; j++) last = items[j].failed != 0;
            /* di_send: the last group's results are read by di_finish, while the run goes on */
            int defer = last && im->sending && !careful ? CP_DEFER : 0;
            r = copy_rows(im, items, idx, nr, (begun ? 0 : CP_BEGIN) | (last ? CP_COMMIT : 0) | (direct ? CP_DIRECT : 0) | defer,
                          &role);
            begun = 1;
            if (role == ROLE_DEFERRED) {
                im->sent = 1;
                im->s_direct = direct;
                free(idx);
                return PAGE_SENT;
            }
        } else r = insert_rows(im, items, idx, nr);
        o = group_outcome(im, items, n, careful, direct, copy, idx, r, role, &committed, err);
    }
    free(idx);
    return page_tail(im, items, n, careful, direct, begun, committed, o, err);
}

/* pages_from: the tries at a page from the outcome o of the one just made (PAGE_NONE: none yet)
 * until it is written or fails: careful after a record failed (3), through the staging table after
 * a straight COPY met a key (4), again after a connection error (PAGE_AGAIN, up to PG_ATTEMPTS
 * tries). 0 written, -1 failed (err), 1 sent (di_send: di_finish reads what the server says). */
static int pages_from(PgImport *im, FlowImportItem *items, int n, int careful, int staged, int attempt, int o, FlowErr *err) {
    Pg *p = im->p;
    for (;;) {
        if (o == PAGE_NONE) {
            if (PQstatus(p->pc) != CONNECTION_OK && pg_reconnect(p, err)) return -1;
            o = page_once(im, items, n, careful, staged, err);
        }
        if (o == PAGE_SENT) {
            im->s_careful = careful;
            im->s_staged = staged;
            im->s_attempt = attempt;
            return 1;
        }
        if (o == PAGE_OK) return 0;
        if (o == PAGE_FAIL) return -1;
        if (o == 3) { careful = 1; o = PAGE_NONE; continue; }
        if (o == 4) { staged = 1; o = PAGE_NONE; continue; }
        if (o == 7) { o = PAGE_NONE; continue; }
        /* PAGE_AGAIN: nothing of this page was committed */
        if (++attempt > PG_ATTEMPTS) { attempts_err(err); return -1; }
        if (PQstatus(p->pc) == CONNECTION_OK) sleep_ms((long)PG_BACKOFF_MS << (attempt - 2));
        o = PAGE_NONE;
    }
}

static int di_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    return pages_from(h, items, n, 0, 0, 1, PAGE_NONE, err) < 0 ? -1 : 0;
}

/* A typed map's values (FlowImportItem.tout; flow_tv_put makes them what flow_obj_add puts into the
 * generic map's object) as that object, for the page's write: the items whose output came as values
 * get it as out until vals_objects_free. The objects are read only: their nodes are one block of the
 * page (returned; NULL when no item has values), their names the step's names table, their strings
 * the values' own text in the page's arena; a number's digits (an int past 2^53) are its own. A node
 * holds what flow_val_to_json makes of the value. They live as long as the page's write does (every
 * replay of it included). */
static cJSON *vals_objects(FlowImportItem *items, int n) {
    size_t need = 0;
    for (int i = 0; i < n; i++) {
        const FlowImportItem *it = &items[i];
        if (!it->tout || it->out) continue;
        need++;
        for (int k = 0; k < it->nnames; k++) need += it->tout->has[k] != 0;
    }
    if (!need) return NULL;
    cJSON *blk = malloc(need * sizeof *blk), *at = blk;   /* each node zeroed as it is taken */
    if (!blk) abort();
    for (int i = 0; i < n; i++) {
        FlowImportItem *it = &items[i];
        if (!it->tout || it->out) continue;
        cJSON *o = at++, *last = NULL;
        *o = (cJSON){ .type = cJSON_Object };
        for (int k = 0; k < it->nnames; k++) {
            if (!it->tout->has[k]) continue;
            FlowVal v = it->tout->v[k];
            cJSON *j = at++;
            *j = (cJSON){ .string = (char *)(uintptr_t)it->names[k] };
            switch (v.kind) {   /* flow_tv_put puts only these */
            case FLOW_BOOL: j->type = v.b ? cJSON_True : cJSON_False; break;
            case FLOW_INT: flow_json_int_set(j, v.i); break;
            case FLOW_NUMBER:   /* finite (flow_tv_put): as cJSON_CreateNumber */
                j->type = cJSON_Number;
                j->valuedouble = v.n;
                j->valueint = v.n >= INT_MAX ? INT_MAX : v.n <= (double)INT_MIN ? INT_MIN : (int)v.n;
                break;
            case FLOW_STRING: j->type = cJSON_String | cJSON_IsReference; j->valuestring = (char *)(uintptr_t)v.s.p; break;
            default: j->type = cJSON_NULL; break;
            }
            j->type |= cJSON_StringIsConst;
            if (last) { last->next = j; j->prev = last; }
            else o->child = j;
            last = j;
        }
        if (o->child) o->child->prev = last;
        it->out = o;
    }
    return blk;
}

static void vals_objects_free(FlowImportItem *items, int n, cJSON *blk) {
    if (!blk) return;
    for (int i = 0; i < n; i++) {
        if (!items[i].tout || !items[i].out) continue;
        for (cJSON *j = items[i].out->child; j; j = j->next)
            if (cJSON_IsNumber(j) && j->valuestring) cJSON_free(j->valuestring);   /* flow_json_int_set's digits */
        items[i].out = NULL;
    }
    free(blk);
}

/* import_page: di_page, with the items whose output came as values given it as objects */
static int di_page_values(void *h, FlowImportItem *items, int n, FlowErr *err) {
    cJSON *vals = vals_objects(items, n);
    int rc = di_page(h, items, n, err);
    vals_objects_free(items, n, vals);
    return rc;
}

/* ---- pipelined writes ----
 * di_send takes a page and di_finish reports on it, in the order sent (engine.h). A page whose rows
 * all go one way (valid rows with the same fields, into a table known to take COPY: straight in, or
 * through the staging table) joins the stream: one COPY ... FROM STDIN, in one transaction, takes
 * the rows of page after page as they are sent, so the server works on them without a command, a
 * transaction and a round trip per page. The stream ends (its COPY ended, then the INSERT from the
 * staging table and the COMMIT that went with it) once it took PG_STREAM_ROWS rows, PG_STREAM_BYTES
 * or one page less than the engine keeps in flight (so that the engine's bound does not end it and
 * wait for the server at once), when a page cannot join it, when the server says something meanwhile (an error:
 * the server would throw the rest away), when the engine finishes one of its pages, or when the
 * connection is needed (an upsert's lookup). Its pages are done only after its COMMIT (di_ready says
 * how many are); when it failed, each of its pages is written again on its own as di_page writes it,
 * so that a bad row fails only its own record. Any other page goes as before: its last COPY sent,
 * its results read when the next page is sent or it is finished. After a page's write failed the
 * run, nothing more is written. */

#define PG_STREAM_ROWS 8192           /* a stream ends after this many rows... */
#define PG_STREAM_BYTES (8u << 20)    /* ...or bytes of COPY data */

/* a new entry at the end of the pages sent */
static Sent *sent_push(PgImport *im, FlowImportItem *items, int n) {
    if (im->q_head + im->q_n == im->q_cap) {
        if (im->q_head) {
            memmove(im->q, im->q + im->q_head, (size_t)im->q_n * sizeof *im->q);
            im->q_head = 0;
        } else {
            im->q_cap = im->q_cap ? im->q_cap * 2 : 8;
            im->q = flow_xrealloc(im->q, (size_t)im->q_cap * sizeof *im->q);
        }
    }
    Sent *e = &im->q[im->q_head + im->q_n++];
    memset(e, 0, sizeof *e);
    e->items = items;
    e->n = n;
    return e;
}

/* page e's typed values' objects let go (sent_vals makes them again) */
static void sent_vals_free(Sent *e) {
    vals_objects_free(e->items, e->n, e->vals);
    e->vals = NULL;
}

/* page e's outcome known: rc 0 written, -1 the run fails (e->err) */
static void sent_done(PgImport *im, Sent *e, int rc) {
    e->open = 0;
    e->done = 1;
    e->rc = rc < 0 ? -1 : 0;
    if (e->rc) im->broken = 1;
    sent_vals_free(e);
}

/* page e's typed values as objects (vals_objects) again, for its rows to be formatted (once more) */
static void sent_vals(Sent *e) {
    if (!e->vals) e->vals = vals_objects(e->items, e->n);
}

/* page e never written: an earlier page's write failed the run, and the engine drops e */
static void sent_dropped(PgImport *im, Sent *e) {
    flow_err_set(&e->err, FLOW_ERR_VALUE, "table %s: not written: the write of a page before it failed", im->table);
    sent_done(im, e, -1);
}

/* the oldest page whose rows are in the work under way (NULL: none) */
static Sent *first_open(PgImport *im) {
    for (int k = im->q_head; k < im->q_head + im->q_n; k++)
        if (im->q[k].open) return &im->q[k];
    return NULL;
}

/* the indexes of a whole page of n rows (0, 1, ..., n - 1), the import's own */
static const int *all_rows(PgImport *im, int n) {
    if (n > im->nall) {
        im->all = flow_xrealloc(im->all, (size_t)n * sizeof *im->all);
        for (int i = im->nall; i < n; i++) im->all[i] = i;
        im->nall = n;
    }
    return im->all;
}

/* The way page items[0..n) would take in a stream: 1 straight into the table, 2 through the
 * staging table; 0 when it cannot join one (a record that is no valid row, a row with other fields
 * than the first's, a table not known yet or that COPY cannot fill). */
static int stream_way(const PgImport *im, FlowImportItem *items, int n) {
    if (!n || !im->exists || !im->known || !im->copy) return 0;
    const cJSON *first = items[0].out;
    if (!cJSON_IsObject(first) || (im->key && !cJSON_GetObjectItemCaseSensitive(first, im->key))) return 0;
    for (int i = 1; i < n; i++)   /* the same fields as the first row's: the key too */
        if (!cJSON_IsObject(items[i].out) || !same_fields(first, items[i].out)) return 0;
    return !im->key || (im->direct && !im->direct_skip) ? 1 : 2;
}

/* a page that goes through the staging table counts down the pages to go that way (page_once) */
static void stream_count(PgImport *im, int way) {
    if (way == 2 && im->direct && im->direct_skip) im->direct_skip--;
}

/* whether the server said something since the stream's last rows (an error, or a notice) */
static int server_said(PgImport *im) {
    struct pollfd pf = { .fd = PQsocket(im->p->pc), .events = POLLIN };
    return pf.fd >= 0 && poll(&pf, 1, 0) > 0;
}

/* the stream's COPY ended (its trailer, then the end): its results are read by settle */
static void stream_end(PgImport *im) {
    PGconn *pc = im->p->pc;
    if (!im->cw->broken && im->cw->bin && PQputCopyData(pc, PG_BIN_TAIL, 2) != 1) im->cw->broken = 1;
    PQputCopyEnd(pc, NULL);   /* a failure: the results say why */
    im->out = OUT_ENDED;
    im->stream_rows = im->st_rows;
    im->stream_pages = im->st_pages;
    stream_forget(im);
}

/* a stream's page e, its rows put: its values' objects go until it is written again (if ever) */
static void stream_put(Sent *e) {
    e->open = 1;
    sent_vals_free(e);
}

/* Page e's rows put into the open stream, in its format: 0, or -1 when its values do not take that
 * format (nothing put) */
static int stream_add(PgImport *im, Sent *e) {
    CopyWait *cw = im->cw;
    sent_vals(e);
    const int *idx = all_rows(im, e->n);
    cw->rows.n = 0;
    if (cw->bin && copy_binary(&cw->rows, e->items, idx, e->n, im->st_tc, im->st_ncols, 0)) return -1;
    if (!cw->bin) copy_text(&cw->rows, e->items, idx, e->n, im->st_tc);
    stream_put(e);
    PGconn *pc = im->p->pc;
    /* a failure to put them: the stream's end fails, and says why */
    if (!cw->broken && (PQputCopyData(pc, cw->rows.p, (int)cw->rows.n) != 1 || PQflush(pc) != 0)) cw->broken = 1;
    im->st_rows += e->n;
    im->st_pages++;
    im->st_bytes += cw->rows.n;
    cw->rows.n = 0;
    return 0;
}

/* the stream ended when it is as long as it may be */
static void stream_end_if_full(PgImport *im) {
    if (im->st_rows >= PG_STREAM_ROWS || im->st_bytes >= PG_STREAM_BYTES || im->st_pages >= FLOW_PIPE_PAGES - 1) stream_end(im);
}

/* Page e into the open stream when it can go the stream's way (way; a page that could go straight
 * in may go through the staging table) with its fields, and its values take the stream's format: 1
 * joined, 0 not (the stream is as it was). */
static int stream_join(PgImport *im, Sent *e, int way) {
    if ((way != im->st_way && !(way == 1 && im->st_way == 2)) || !same_fields(im->st_first, e->items[0].out) || server_said(im) ||
        stream_add(im, e))
        return 0;
    stream_count(im, way);
    stream_end_if_full(im);
    return 1;
}

/* A stream opened with page e, which goes the given way (the connection free): the COPY's commands
 * sent and e's rows put (1), or the COPY did not start (0; *r and *role say why, as copy_rows). */
static int stream_open(PgImport *im, Sent *e, int way, PGresult **r, int *role) {
    im->staged = 0;
    sent_vals(e);
    *role = ROLE_ROWS;
    *r = copy_rows(im, e->items, all_rows(im, e->n), e->n, CP_BEGIN | CP_COMMIT | (way == 1 ? CP_DIRECT : 0) | CP_STREAM, role);
    if (*role != ROLE_DEFERRED) return 0;
    im->out = OUT_STREAM;
    im->st_way = way;
    cJSON_Delete(im->st_first);
    im->st_first = cJSON_Duplicate(e->items[0].out, 1);
    stream_put(e);
    im->st_rows = e->n;
    im->st_pages = 1;
    im->st_bytes = 0;
    return 1;
}

/* The pages of a stream that went straight into the table and failed (a key was there, most
 * likely), again as one stream through the staging table: 1 when it is under way, 0 when not (the
 * pages are then written one by one). */
static int restream(PgImport *im) {
    if (stage_make(im)) return 0;
    Sent *first = first_open(im);
    PGresult *r;
    int role, committed = 0;
    if (!stream_open(im, first, 2, &r, &role)) {   /* ended by its failure, which the pages meet again */
        FlowErr err;
        int o = group_outcome(im, first->items, first->n, 0, 0, 1, NULL, r, role, &committed, &err);
        page_tail(im, first->items, first->n, 0, 0, 1, committed, o, &err);
        return 0;
    }
    for (int k = first - im->q + 1; k < im->q_head + im->q_n; k++)
        if (im->q[k].open && stream_add(im, &im->q[k])) {   /* (the format took them before) */
            stream_cancel(im, "the rows do not take the format");
            return 0;
        }
    return 1;
}

/* The outcome of every page sent whose outcome is not known yet: their stream's or their page's
 * results read, and what a failure calls for done (each of a failed stream's pages written again on
 * its own, di_page's way; the page's next try). */
static void settle(PgImport *im) {
    int out = im->out;
    if (out == OUT_NONE) return;
    Sent *first = first_open(im);
    if (out == OUT_STREAM) stream_end(im);
    im->out = OUT_NONE;
    int role = ROLE_ROWS, committed = 0;
    PGresult *r = copy_wait(im, im->cw, CW_ALL, &role);
    if (!first) { PQclear(r); return; }   /* (none: cannot be, every page sent has an entry) */
    if (out == OUT_PAGE) {
        im->sent = 0;
        int o = group_outcome(im, first->items, first->n, 0, im->s_direct, 1, NULL, r, role, &committed, &first->err);
        o = page_tail(im, first->items, first->n, 0, im->s_direct, 1, committed, o, &first->err);
        sent_done(im, first, pages_from(im, first->items, first->n, im->s_careful, im->s_staged, im->s_attempt, o, &first->err));
        return;
    }
    int direct = im->st_way == 1 && im->key;
    FlowErr err = { 0 };
    int o = group_outcome(im, first->items, first->n, 0, direct, 1, NULL, r, role, &committed, &err);
    o = page_tail(im, first->items, first->n, 0, direct, 1, committed, o, &err);
    if (o == 4 && restream(im)) {   /* (through the staging table: that cannot fail with 4) */
        settle(im);
        return;
    }
    for (int k = im->q_head; k < im->q_head + im->q_n; k++) {
        Sent *e = &im->q[k];
        if (!e->open) continue;
        if (im->broken) {
            sent_dropped(im, e);
            continue;
        }
        int rc = 0;
        if (o == PAGE_FAIL) {
            e->err = err;
            rc = -1;
        } else if (o != PAGE_OK) {
            /* the stream failed: each page on its own, through the staging table after a straight COPY
             * failed, as its next try after a connection error */
            int again = o == PAGE_AGAIN && e == first;
            if (again) e->err = err;
            sent_vals(e);   /* (a stream's page let them go) */
            rc = pages_from(im, e->items, e->n, 0, o == 4, 1, again ? PAGE_AGAIN : PAGE_NONE, &e->err);
        } else if (direct && e != first && im->direct_wait) im->direct_wait /= 2;   /* as page_tail for each page */
        sent_done(im, e, rc);
    }
}

/* The stream started with page e (the connection free): 1 when e is taken care of (in the stream,
 * or written another way when the stream could not start), 0 when it could not start at all. */
static int stream_start(PgImport *im, Sent *e, int way) {
    if (way == 2 && stage_make(im)) return 0;
    stream_count(im, way);
    PGresult *r;
    int role, committed = 0;
    if (stream_open(im, e, way, &r, &role)) {
        stream_end_if_full(im);
        return 1;
    }
    /* the COPY did not start (r says why): what page_once does after such a failure */
    int direct = way == 1 && im->key;
    int o = group_outcome(im, e->items, e->n, 0, direct, 1, NULL, r, role, &committed, &e->err);
    o = page_tail(im, e->items, e->n, 0, direct, 1, committed, o, &e->err);
    sent_done(im, e, pages_from(im, e->items, e->n, 0, way == 2, 1, o, &e->err));
    return 1;
}

static int di_send(void *h, FlowImportItem *items, int n, FlowErr *err) {
    PgImport *im = h;
    (void)err;   /* a failure is the page's outcome, reported when it is finished */
    Sent *e = sent_push(im, items, n);
    e->vals = vals_objects(items, n);   /* as di_page_values: until its outcome is known */
    int way = im->broken ? 0 : stream_way(im, items, n);
    if (way && im->out == OUT_STREAM && stream_join(im, e, way)) return 0;
    settle(im);
    if (im->broken) {
        sent_dropped(im, e);
        return 0;
    }
    way = stream_way(im, items, n);
    if (way && stream_start(im, e, way)) return 0;
    im->sending = 1;
    int rc = pages_from(im, items, n, 0, 0, 1, PAGE_NONE, &e->err);
    im->sending = 0;
    if (rc == 1) {
        im->out = OUT_PAGE;
        e->open = 1;
    } else sent_done(im, e, rc);
    return 0;
}

static int di_finish(void *h, FlowImportItem *items, int n, FlowErr *err) {
    PgImport *im = h;
    Sent *e = im->q_n ? &im->q[im->q_head] : NULL;
    if (!e || e->items != items || e->n != n) {   /* (the engine finishes pages in the order sent) */
        flow_err_set(err, FLOW_ERR_VALUE, "table %s: a page was finished out of order", im->table);
        return -1;
    }
    if (!e->done) settle(im);
    int rc = e->rc;
    if (rc) *err = e->err;
    im->q_head++;
    im->q_n--;
    return rc;
}

/* how many of the pages sent, oldest first, are done (their outcomes known) */
static int di_ready(void *h) {
    PgImport *im = h;
    int k = 0;
    while (k < im->q_n && im->q[im->q_head + k].done) k++;
    return k;
}

/* ---- upserts: the existing rows of a page ---- */

/* a key's text as the table writes it (numbers in one form), for matching rows to records */
static char *key_text(const char *s, Kind k) {
    if (k == K_NUMBER) {   /* exact: two ids past 2^53 never share a text */
        cJSON *j = flow_json_parse(s, strlen(s), NULL);
        if (cJSON_IsNumber(j)) {
            char b[32];
            char *t = flow_xstrdup(flow_json_num_text(j, b));
            cJSON_Delete(j);
            return t;
        }
        cJSON_Delete(j);
    }
    return flow_xstrdup(s);
}

static unsigned hash_text(const char *s) {
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* SELECT * ... WHERE key IN (...) for items idx[0..nk); matches set items' existing. PAGE_OK or
 * PAGE_AGAIN / PAGE_FAIL with err, or 3: a key's value does not fit the column (ask one by one). */
static int existing_chunk(PgImport *im, FlowImportItem *items, const int *idx, int nk, FlowErr *err) {
    FlowSb b = { 0 };
    flow_sb_puts(&b, "SELECT * FROM ");
    sb_table(&b, im->table);
    flow_sb_puts(&b, " WHERE ");
    flow_sql_ident(&b, im->key);
    params_clear(&im->ps);
    for (int k = 0; k < nk; k++) params_add(&im->ps, cJSON_GetObjectItemCaseSensitive(items[idx[k]].out, im->key));
    const TCol *kc0 = im->known ? tcol(im, im->key) : NULL;
    char *arr = NULL;
    if (kc0 && kc0->unnest && nk > 1) {   /* one array parameter: = ANY($1::type[]) */
        FlowSb a = { 0 };
        for (int k = 0; k < nk; k++) {
            flow_sb_put(&a, k ? "," : "{", 1);
            sb_element(&a, im->ps.v[k]);
        }
        flow_sb_put(&a, "}", 1);
        arr = flow_sb_take(&a);
        flow_sb_puts(&b, " = ANY($1::");
        flow_sb_puts(&b, kc0->type);
        flow_sb_puts(&b, "[])");
    } else {
        flow_sb_puts(&b, " IN (");
        for (int k = 0; k < nk; k++) {
            flow_sb_puts(&b, k ? ", $" : "$");
            sb_int(&b, k + 1);
        }
        flow_sb_puts(&b, ")");
    }
    const char *one[1] = { arr };
    PGresult *r = arr ? PQexecParams(im->p->pc, b.p, 1, NULL, one, NULL, NULL, 0)
                      : PQexecParams(im->p->pc, b.p, im->ps.n, NULL, im->ps.v, NULL, NULL, 0);
    free(arr);
    free(b.p);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        params_clear(&im->ps);
        FailKind k = fail_kind(im->p->pc, r);
        int o = 3;
        if (k == FAIL_RECORD && !is_sqlstate(r, "42703")) result_msg(im->p, im->p->pc, r, -1, im->why, sizeof im->why);
        else o = page_failure(im, r, "cannot read the existing rows", err);
        PQclear(r);
        return o;
    }
    cols_of(&im->cols, r);
    int kc = -1;
    for (int c = 0; c < PQnfields(r) && kc < 0; c++) if (strcmp(PQfname(r, c), im->key) == 0) kc = c;
    int rows = PQntuples(r);
    if (kc >= 0 && rows) {
        /* the records' keys in a hash table, then each row finds its records */
        unsigned cap = 16;
        while (cap < (unsigned)nk * 2) cap *= 2;
        int *head = flow_xcalloc(cap, sizeof *head), *next = flow_xcalloc((size_t)nk, sizeof *next);
        char **kt = flow_xcalloc((size_t)nk, sizeof *kt);
        for (int k = 0; k < nk; k++) {
            kt[k] = im->ps.v[k] ? key_text(im->ps.v[k], im->cols.kind[kc]) : NULL;
            if (!kt[k]) continue;
            unsigned hh = hash_text(kt[k]) & (cap - 1);
            next[k] = head[hh];
            head[hh] = k + 1;
        }
        for (int row = 0; row < rows; row++) {
            if (PQgetisnull(r, row, kc)) continue;
            char *t = key_text(PQgetvalue(r, row, kc), im->cols.kind[kc]);
            for (int k = head[hash_text(t) & (cap - 1)]; k; k = next[k - 1]) {
                FlowImportItem *it = &items[idx[k - 1]];
                if (strcmp(kt[k - 1], t) == 0 && !it->existing && !it->failed) {
                    FlowErr re;
                    cJSON *o = row_object(r, &im->cols, row, NULL, &re);
                    if (!re.msg[0]) it->existing = o;
                    else {   /* the existing row holds a value flowc cannot read: the record cannot be mapped */
                        cJSON_Delete(o);
                        flow_import_fail(it, re.cls, "the existing row's %s", re.msg);
                    }
                }
            }
            free(t);
        }
        for (int k = 0; k < nk; k++) free(kt[k]);
        free(kt);
        free(head);
        free(next);
    }
    params_clear(&im->ps);
    PQclear(r);
    return PAGE_OK;
}

static int existing_once(PgImport *im, FlowImportItem *items, int n, FlowErr *err) {
    int ex = table_exists(im, err);
    if (ex < 0) return PAGE_FAIL;
    if (ex == 2) return PAGE_AGAIN;
    if (!ex) return PAGE_OK;
    int lo = load_columns(im, err);
    if (lo != PAGE_OK) return lo;
    int *idx = flow_xcalloc((size_t)n + 1, sizeof *idx);
    int nk = 0, o = PAGE_OK;
    for (int i = 0; i <= n && o == PAGE_OK; i++) {
        if (i < n) {
            const cJSON *key = cJSON_IsObject(items[i].out) ? cJSON_GetObjectItemCaseSensitive(items[i].out, im->key) : NULL;
            if (!key || cJSON_IsNull(key) || items[i].failed) continue;
            idx[nk++] = i;
        }
        if (nk && (i == n || nk == PG_CHUNK_ROWS)) {
            o = existing_chunk(im, items, idx, nk, err);
            if (o == 3) {   /* one at a time: the key that does not fit its column is that record's error */
                o = PAGE_OK;
                for (int k = 0; k < nk && o == PAGE_OK; k++) {
                    o = existing_chunk(im, items, idx + k, 1, err);
                    if (o == 3) {
                        FlowImportItem *it = &items[idx[k]];
                        flow_import_fail(it, FLOW_ERR_VALUE, "table %s: the upsert key `%s` does not fit its column: %s",
                                          im->table, im->key, im->why);
                        o = PAGE_OK;
                    }
                }
            }
            nk = 0;
        }
    }
    free(idx);
    return o;
}

static int di_existing_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    PgImport *im = h;
    if (!im->key) return 0;
    settle(im);   /* the pages sent before are in the table first, and the connection free */
    for (int attempt = 1;; attempt++) {
        if (PQstatus(im->p->pc) != CONNECTION_OK && pg_reconnect(im->p, err)) return -1;
        for (int i = 0; i < n; i++) {
            cJSON_Delete(items[i].existing);
            items[i].existing = NULL;
        }
        int o = existing_once(im, items, n, err);
        if (o == PAGE_OK) return 0;
        if (o == PAGE_FAIL) return -1;
        if (attempt >= PG_ATTEMPTS) { attempts_err(err); return -1; }
        if (PQstatus(im->p->pc) == CONNECTION_OK) sleep_ms((long)PG_BACKOFF_MS << (attempt - 1));
    }
}

/* the connection proven (probe.c): connected as a run connects, then SELECT 1 */
static int pg_probe(const FlowSettings *s, unsigned uses, cJSON *info, FlowErr *err) {
    (void)info;
    Pg *p = pg_open(s, uses, err);
    if (!p) return -1;
    PGresult *r = PQexec(p->pc, "SELECT 1");
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
    if (rc) {
        char msg[900];
        clean_msg(p, r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(p->pc), msg, sizeof msg);
        flow_err_set(err, FLOW_ERR_CONNECTION, "SELECT 1: %s", msg);
    }
    PQclear(r);
    pg_close(p);
    return rc;
}

const FlowConnector flow_conn_postgres = {
    .kind = "postgres",
    .sql = 1,
    .open = pg_open, .close = pg_close, .probe = pg_probe,
    .export_open = dx_open, .export_next = dx_next, .export_close = dx_close, .export_mark = dx_mark,
    .lookup_open = dl_open, .lookup = dl_lookup, .lookup_page = dl_page, .lookup_close = dl_close,
    .import_open = di_open, .import_existing_page = di_existing_page, .import_page = di_page_values,
    .import_send = di_send, .import_finish = di_finish, .import_ready = di_ready, .import_close = di_close,
    .import_vals = 1,
    .lib = FLOW_LIB_PQ,
};
