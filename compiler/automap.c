/* automap.c — the matcher behind `flowc automap` and the language server's auto-map code action: the
 * destination's fields (a SQLite or PostgreSQL table's columns read through the import's connection, a
 * declared record type, or a JSON sample) that the import does not map yet, each matched to a field of
 * the record type entering the import. Names are compared normalised (words split at `_`, `-`, `.`,
 * spaces and camelCase, lower case, plurals singular), through one synonym table, and along nested
 * paths (customer.email for customer_email); types are compared with a conversion by a real built-in
 * where one is needed. The suggestions are checked by inserting them into the file and running the
 * checker on it (one that does not check is dropped), and the confident ones become one text edit of
 * the file, formatted by fmt. */
#define _GNU_SOURCE 1   /* asprintf */
#include "automap.h"
#include "builtins.h"
#include "diag.h"
#include "engine.h"
#include "fmt.h"
#include "frontend.h"
#include "flow.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <postgresql/libpq-fe.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- small helpers ---- */

static char *xstrdup(const char *s) { char *o = strdup(s ? s : ""); if (!o) abort(); return o; }

static char *fmtstr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmtstr(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *o = NULL;
    if (vasprintf(&o, fmt, ap) < 0) abort();
    va_end(ap);
    return o;
}

static void *xrealloc(void *p, size_t n) { p = realloc(p, n ? n : 1); if (!p) abort(); return p; }
/* room for one more element in the growing array ptr of n used and cap allocated */
#define GROW(ptr, n, cap) do { if ((n) == (cap)) { (cap) = (cap) ? 2 * (cap) : 16; (ptr) = xrealloc((ptr), sizeof *(ptr) * (size_t)(cap)); } } while (0)

static int is_ident(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
    for (; *s; s++) if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
    return 1;
}

/* the words that may only follow a `.` or be quoted (docs/language.md, Lexical) */
static int is_op_word(const char *s) {
    static const char *const w[] = { "when", "if", "then", "else", "each", "in", "where", "and", "or", "not", "true", "false", "null" };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) if (strcmp(s, w[i]) == 0) return 1;
    return 0;
}

/* a map key as written: the name, or a string literal when it is not a plain name */
static char *key_text(const char *name) {
    if (is_ident(name) && !is_op_word(name)) return xstrdup(name);
    size_t n = strlen(name);
    char *o = malloc(6 * n + 3), *p = o;
    if (!o) abort();
    *p++ = '"';
    for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
        if (*s == '"' || *s == '\\') { *p++ = '\\'; *p++ = (char)*s; }
        else if (*s < 0x20) p += sprintf(p, "\\u%04x", *s);
        else *p++ = (char)*s;
    }
    *p++ = '"';
    *p = 0;
    return o;
}

/* ---- kinds of values on both sides ---- */

typedef enum { K_ANY, K_STRING, K_INT, K_NUMBER, K_BOOL, K_DATETIME, K_DATE, K_JSON, K_ARRAY, K_RECORD } Kind;

static Kind kind_of_type(const Type *t) {
    switch (t->kind) {
    case TY_STRING: return K_STRING;
    case TY_INT: return K_INT;
    case TY_NUMBER: return K_NUMBER;
    case TY_BOOL: return K_BOOL;
    case TY_DATETIME: return K_DATETIME;
    case TY_JSON: return K_JSON;
    case TY_ARRAY: return K_ARRAY;
    case TY_RECORD: return K_RECORD;
    default: return K_ANY;
    }
}

static int has_ci(const char *s, const char *sub) { return strcasestr(s, sub) != NULL; }

/* SQLite's declared column type (its affinity rules, with the names people write for dates and bools) */
static Kind kind_of_sqlite(const char *t) {
    if (!t || !*t) return K_ANY;
    if (has_ci(t, "BOOL")) return K_BOOL;
    if (has_ci(t, "DATETIME") || has_ci(t, "TIMESTAMP")) return K_DATETIME;
    if (strcasecmp(t, "DATE") == 0) return K_DATE;
    if (has_ci(t, "JSON")) return K_JSON;
    if (has_ci(t, "INT")) return K_INT;
    if (has_ci(t, "CHAR") || has_ci(t, "CLOB") || has_ci(t, "TEXT")) return K_STRING;
    if (has_ci(t, "BLOB")) return K_ANY;
    return K_NUMBER;   /* REAL, FLOAT, DOUBLE, NUMERIC, DECIMAL, ... */
}

/* PostgreSQL's information_schema data_type */
static Kind kind_of_pg(const char *t) {
    if (strcmp(t, "integer") == 0 || strcmp(t, "bigint") == 0 || strcmp(t, "smallint") == 0) return K_INT;
    if (strcmp(t, "numeric") == 0 || strcmp(t, "real") == 0 || strcmp(t, "double precision") == 0 || strcmp(t, "money") == 0) return K_NUMBER;
    if (strcmp(t, "boolean") == 0) return K_BOOL;
    if (strncmp(t, "timestamp", 9) == 0) return K_DATETIME;
    if (strcmp(t, "date") == 0) return K_DATE;
    if (strcmp(t, "json") == 0 || strcmp(t, "jsonb") == 0) return K_JSON;
    if (strcmp(t, "ARRAY") == 0) return K_ARRAY;
    return K_STRING;
}

/* ---- names: words, singular, synonyms ---- */

#define AM_WORDS 16
typedef struct { int n; char w[AM_WORDS][40]; } Words;

static void words_add(Words *ws, const char *s, size_t n) {
    if (n == 0 || ws->n == AM_WORDS) return;
    if (n > 39) n = 39;
    for (size_t i = 0; i < n; i++) ws->w[ws->n][i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    ws->w[ws->n][n] = 0;
    /* plurals: tags -> tag, categories -> category (not status, address, analysis) */
    char *w = ws->w[ws->n];
    size_t l = strlen(w);
    if (l > 4 && strcmp(w + l - 3, "ies") == 0) strcpy(w + l - 3, "y");
    else if (l > 3 && w[l - 1] == 's' && w[l - 2] != 's' && w[l - 2] != 'u' && w[l - 2] != 'i') w[l - 1] = 0;
    ws->n++;
}

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Appends the words of one name: split at anything but letters and digits, at a lower-to-upper change
 * (firstName), before the last capital of a run followed by a lower letter (HTTPServer), and between
 * letters and digits (address1). */
static void split_words(Words *ws, const char *s) {
    size_t i = 0, n = strlen(s);
    while (i < n) {
        while (i < n && !(is_lower(s[i]) || is_upper(s[i]) || is_digit(s[i]) || (unsigned char)s[i] >= 0x80)) i++;
        size_t st = i;
        while (i < n && (is_lower(s[i]) || is_upper(s[i]) || is_digit(s[i]) || (unsigned char)s[i] >= 0x80)) {
            if (i > st) {
                char p = s[i - 1], c = s[i];
                if ((is_lower(p) && is_upper(c)) || (is_digit(p) != is_digit(c)) ||
                    (is_upper(p) && is_upper(c) && i + 1 < n && is_lower(s[i + 1]) && i - st > 1))
                    break;
            }
            i++;
        }
        words_add(ws, s + st, i - st);
    }
}

/* The synonym table: a canonical concept and a phrase (its words in singular, separated by spaces)
 * that means it (`alone`: only when it is the whole segment: `last` alone is last_name, not in last_changed).
 * A name's words are matched greedily against the phrases, longest first, also written
 * together (`firstname`, `zipcode`). The canonical word of every group is one of its phrases. */
static const struct { const char *canon, *phrase; int alone; } synonyms[] = {
    /* words written short */
    { "transaction", "txn", 0 }, { "transaction", "tran", 0 }, { "amount", "amt", 0 }, { "number", "num", 0 }, { "reference", "ref", 0 },
    { "manager", "manager", 0 }, { "manager", "supervisor", 0 }, { "manager", "report to", 0 },
    { "email", "email", 0 }, { "email", "e mail", 0 }, { "email", "mail", 0 }, { "email", "email address", 0 },
    { "email", "e mail address", 0 }, { "email", "mail address", 0 }, { "email", "emailaddress", 0 },
    { "first_name", "first name", 0 }, { "first_name", "given name", 0 }, { "first_name", "fname", 0 },
    { "first_name", "forename", 0 }, { "first_name", "first", 1 },
    { "last_name", "last name", 0 }, { "last_name", "surname", 0 }, { "last_name", "family name", 0 },
    { "last_name", "lname", 0 }, { "last_name", "last", 1 },
    { "full_name", "full name", 0 }, { "full_name", "display name", 0 }, { "full_name", "contact name", 0 },
    { "zip", "zip", 0 }, { "zip", "zip code", 0 }, { "zip", "postal code", 0 }, { "zip", "postcode", 0 },
    { "zip", "post code", 0 }, { "zip", "postal", 0 },
    { "phone", "phone", 0 }, { "phone", "telephone", 0 }, { "phone", "tel", 0 }, { "phone", "mobile", 0 },
    { "phone", "phone number", 0 }, { "phone", "mobile phone", 0 }, { "phone", "cell", 0 }, { "phone", "cell phone", 0 },
    { "phone", "mobile number", 0 },
    { "company", "company", 0 }, { "company", "company name", 0 }, { "company", "organization", 0 },
    { "company", "organisation", 0 }, { "company", "org", 0 }, { "company", "business name", 0 }, { "company", "employer", 0 },
    { "street", "street", 0 }, { "street", "address line 1", 0 }, { "street", "address 1", 0 }, { "street", "line 1", 0 },
    { "street", "street address", 0 }, { "street", "street line 1", 0 }, { "street", "addr 1", 0 },
    { "street2", "address line 2", 0 }, { "street2", "address 2", 0 }, { "street2", "line 2", 0 }, { "street2", "street 2", 0 },
    { "city", "city", 0 }, { "city", "town", 0 }, { "city", "locality", 0 },
    { "state", "state", 0 }, { "state", "province", 0 }, { "state", "state code", 0 }, { "state", "province code", 0 },
    { "state", "region", 0 },
    { "country", "country", 0 }, { "country", "country code", 0 }, { "country", "nation", 0 },
    { "created_at", "created at", 0 }, { "created_at", "created", 0 }, { "created_at", "created date", 0 },
    { "created_at", "creation date", 0 }, { "created_at", "date created", 0 }, { "created_at", "created on", 0 },
    { "created_at", "create time", 0 }, { "created_at", "createdate", 0 }, { "created_at", "create date", 0 }, { "created_at", "inserted at", 0 }, { "created_at", "created time", 0 },
    { "updated_at", "updated at", 0 }, { "updated_at", "updated", 0 }, { "updated_at", "modified", 0 },
    { "updated_at", "last modified", 0 }, { "updated_at", "modified at", 0 }, { "updated_at", "date modified", 0 },
    { "updated_at", "updated on", 0 }, { "updated_at", "last modified date", 0 }, { "updated_at", "last updated", 0 },
    { "updated_at", "modified date", 0 }, { "updated_at", "last changed", 0 }, { "updated_at", "lastmodifieddate", 0 },
    { "currency", "currency", 0 }, { "currency", "currency code", 0 }, { "currency", "iso currency code", 0 },
    { "subject", "subject", 0 }, { "subject", "title", 0 }, { "subject", "summary", 0 }, { "subject", "headline", 0 },
    { "description", "description", 0 }, { "description", "desc", 0 }, { "description", "body", 0 },
    { "description", "detail", 0 }, { "description", "content", 0 },
    { "note", "note", 0 }, { "note", "memo", 0 }, { "note", "comment", 0 }, { "note", "remark", 0 },
    { "tag", "tag", 0 }, { "tag", "label", 0 }, { "tag", "keyword", 0 },
    { "quantity", "quantity", 0 }, { "quantity", "qty", 0 },
    { "sku", "sku", 0 }, { "sku", "product code", 0 }, { "sku", "item code", 0 }, { "sku", "part number", 0 },
    { "website", "website", 0 }, { "website", "web site", 0 }, { "website", "url", 0 }, { "website", "homepage", 0 },
    { "birthday", "birthday", 0 }, { "birthday", "birth date", 0 }, { "birthday", "date of birth", 0 }, { "birthday", "dob", 0 },
    { "job_title", "job title", 0 }, { "job_title", "position", 0 }, { "job_title", "role", 0 },
    { "assignee", "assignee", 0 }, { "assignee", "assigned to", 0 }, { "assignee", "owner", 0 }, { "assignee", "agent", 0 },
    { "reporter", "reporter", 0 }, { "reporter", "requester", 0 }, { "reporter", "submitter", 0 }, { "reporter", "created by", 0 },
    { "doc_number", "doc number", 0 }, { "doc_number", "document number", 0 }, { "doc_number", "invoice number", 0 },
    { "doc_number", "tran id", 0 }, { "doc_number", "transaction number", 0 }, { "doc_number", "invoice no", 0 },
    { "doc_number", "ref number", 0 },
    { "due_date", "due date", 0 }, { "due_date", "date due", 0 }, { "due_date", "due on", 0 }, { "due_date", "due", 0 },
    { "tax", "tax", 0 }, { "tax", "tax amount", 0 }, { "tax", "total tax", 0 }, { "tax", "vat", 0 },
    { "total", "total", 0 }, { "total", "total price", 0 }, { "total", "grand total", 0 }, { "total", "total amount", 0 },
    { "total", "amount total", 0 },
    { "marketing_opt_in", "accept marketing", 0 }, { "marketing_opt_in", "marketing opt in", 0 },
    { "marketing_opt_in", "email opt in", 0 }, { "marketing_opt_in", "opt in", 0 }, { "marketing_opt_in", "subscribed", 0 },
    { "marketing_opt_in", "marketing consent", 0 },
    { "lead_source", "lead source", 0 }, { "lead_source", "source", 0 }, { "lead_source", "origin", 0 },
    { "customer_id", "customer id", 0 }, { "customer_id", "client id", 0 }, { "customer_id", "customer ref", 0 },
};

/* the synonym phrase's words written together, for comparing with words written together */
static int phrase_eq(const char *phrase, const Words *ws, int at, int len) {
    const char *p = phrase;
    for (int k = 0; k < len; k++) {
        const char *w = ws->w[at + k];
        while (*w) {
            while (*p == ' ') p++;
            if (*p != *w) return 0;
            p++, w++;
        }
    }
    while (*p == ' ') p++;
    return *p == 0;
}

typedef struct {
    Words raw;           /* the words as written (singular) */
    Words tok;           /* after synonyms: canonical concepts and the other words */
    int segs[AM_WORDS];  /* tok[i] came from path segment segs[i] */
    int nsegs;
    char alias[120];     /* the first synonym applied: "zip ~ postal_code", for the reason */
} Name;

/* The name of a dotted path ("customer.email"), each segment split into words, synonyms applied within
 * a segment. */
static void name_of(Name *nm, const char *path) {
    memset(nm, 0, sizeof *nm);
    char seg[256];
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l > 255) l = 255;
        memcpy(seg, p, l);
        seg[l] = 0;
        Words ws = { 0 };
        split_words(&ws, seg);
        for (int i = 0; i < ws.n && nm->raw.n < AM_WORDS; i++) nm->raw.n++, strcpy(nm->raw.w[nm->raw.n - 1], ws.w[i]);
        for (int i = 0; i < ws.n;) {
            int took = 0;
            for (int len = ws.n - i < 4 ? ws.n - i : 4; len >= 1 && !took; len--) {
                for (size_t s = 0; s < sizeof synonyms / sizeof *synonyms; s++) {
                    if (!phrase_eq(synonyms[s].phrase, &ws, i, len)) continue;
                    if (synonyms[s].alone && len != ws.n) continue;
                    if (nm->tok.n < AM_WORDS) {
                        snprintf(nm->tok.w[nm->tok.n], sizeof nm->tok.w[0], "%s", synonyms[s].canon);
                        nm->segs[nm->tok.n++] = nm->nsegs;
                    }
                    char joined[200] = "";
                    for (int k = 0; k < len; k++) { if (k) strcat(joined, "_"); strncat(joined, ws.w[i + k], 39); }
                    if (!nm->alias[0] && strcmp(joined, synonyms[s].canon) != 0)
                        snprintf(nm->alias, sizeof nm->alias, "%.55s ~ %.55s", joined, synonyms[s].canon);
                    i += len;
                    took = 1;
                    break;
                }
            }
            if (!took && ws.n > 1 && (strcmp(ws.w[i], "at") == 0 || strcmp(ws.w[i], "on") == 0)) { i++; continue; }   /* due_at: due */
            if (!took) {
                if (nm->tok.n < AM_WORDS) { strcpy(nm->tok.w[nm->tok.n], ws.w[i]); nm->segs[nm->tok.n++] = nm->nsegs; }
                i++;
            }
        }
        nm->nsegs++;
        if (!dot) break;
        p = dot + 1;
    }
}

static void concat_words(const Words *ws, char *out, size_t cap) {
    out[0] = 0;
    for (int i = 0; i < ws->n; i++) strncat(out, ws->w[i], cap - strlen(out) - 1);
}

static int tok_eq(const Words *a, int ai, const Words *b, int bi) { return strcmp(a->w[ai], b->w[bi]) == 0; }

/* Is a (all of it) a subsequence of b, ending at b's last word? Returns the extra words of b, or -1. */
static int subseq_last(const Words *a, const Words *b) {
    if (a->n == 0 || b->n <= a->n || !tok_eq(a, a->n - 1, b, b->n - 1)) return -1;
    int j = 0;
    for (int i = 0; i < b->n && j < a->n; i++) if (tok_eq(a, j, b, i)) j++;
    return j == a->n ? b->n - a->n : -1;
}

/* words that name little alone: a match that rests on one of them is weaker */
static int generic_word(const char *w) {
    static const char *const g[] = { "id", "name", "type", "date", "number", "code", "status", "key", "value", "no", "reference", "time" };
    for (size_t i = 0; i < sizeof g / sizeof *g; i++) if (strcmp(w, g[i]) == 0) return 1;
    return 0;
}

/* The name score of destination dn against source sn (0 when they do not match), and why. */
static double name_score(const Name *dn, const char *dpath, const Name *sn, const char *spath, char *why, size_t cap) {
    char dc[640], sc[640];
    concat_words(&dn->raw, dc, sizeof dc);
    concat_words(&sn->raw, sc, sizeof sc);
    if (strcmp(dc, sc) == 0) {
        if (sn->nsegs > 1) { snprintf(why, cap, "the nested path %s", spath); return 0.95; }
        if (strcmp(dpath, spath) == 0) snprintf(why, cap, "same name");
        else snprintf(why, cap, "same name written differently (%s, %s)", spath, dpath);
        return 1.0;
    }
    int eq = dn->tok.n == sn->tok.n;
    for (int i = 0; eq && i < dn->tok.n; i++) eq = tok_eq(&dn->tok, i, &sn->tok, i);
    if (eq) {
        const char *al = sn->alias[0] ? sn->alias : dn->alias;
        char what[200];
        if (al[0]) snprintf(what, sizeof what, "synonyms (%s)", al);
        else snprintf(what, sizeof what, "the same words (%.90s, %.90s)", spath, dpath);   /* due_at and due */
        if (sn->nsegs > 1) { snprintf(why, cap, "the nested path %s, %s", spath, what); return 0.9; }
        snprintf(why, cap, "%s", what);
        return 0.92;
    }
    int extra = subseq_last(&dn->tok, &sn->tok);
    if (extra > 0) {   /* the source says more: customer.email for email, billing_address.zip for billing_zip */
        double s = 0.86 - 0.04 * (extra - 1);
        if (dn->tok.n == 1 && generic_word(dn->tok.w[0])) s *= 0.7;
        snprintf(why, cap, "%s: %s with more context", spath, dpath);
        return s;
    }
    extra = subseq_last(&sn->tok, &dn->tok);
    if (extra > 0) {   /* the destination says more: contact_email from email */
        double s = 0.78 - 0.05 * (extra - 1);
        if (sn->tok.n == 1 && generic_word(sn->tok.w[0])) s *= 0.65;
        snprintf(why, cap, "%s: %s with more context", dpath, spath);
        return s;
    }
    /* the same last word, a specific one: MailingCity and address.city, supervisorEmail and manager.email */
    if (dn->tok.n && sn->tok.n && tok_eq(&dn->tok, dn->tok.n - 1, &sn->tok, sn->tok.n - 1) && !generic_word(dn->tok.w[dn->tok.n - 1])) {
        snprintf(why, cap, "both end in `%s` (%s, %s)", dn->tok.w[dn->tok.n - 1], spath, dpath);
        return 0.64;
    }
    /* one name starts the other: amount and amount_cents */
    int lo = dn->tok.n < sn->tok.n ? dn->tok.n : sn->tok.n, same = lo > 0;
    for (int i = 0; same && i < lo; i++) same = tok_eq(&dn->tok, i, &sn->tok, i);
    if (same && dn->tok.n != sn->tok.n && !generic_word(dn->tok.w[0])) {
        snprintf(why, cap, "%s begins as %s does", dn->tok.n < sn->tok.n ? spath : dpath, dn->tok.n < sn->tok.n ? dpath : spath);
        return 0.6;
    }
    return 0;
}

/* ---- conversions: the source kind into the destination kind ---- */

typedef struct { double f; const char *fn; const char *fmt; } Conv;   /* fmt: "%s" the source expression */

static Conv conversion(Kind d, Kind s) {
    Conv direct = { 1.0, NULL, "%s" }, none = { 0, NULL, NULL };
    if (d == K_ANY || d == K_JSON) return s == K_RECORD || s == K_ARRAY ? (Conv){ 0.95, NULL, "%s" } : direct;
    if (s == K_JSON) return (Conv){ 0.9, NULL, "%s" };
    switch (d) {
    case K_STRING:
        if (s == K_STRING) return direct;
        if (s == K_INT || s == K_NUMBER) return (Conv){ 0.9, "to_string", "to_string(%s)" };
        if (s == K_BOOL) return (Conv){ 0.85, "to_string", "to_string(%s)" };
        if (s == K_DATETIME) return (Conv){ 0.95, NULL, "%s" };
        if (s == K_ARRAY) return (Conv){ 0.7, "to_json", "to_json(%s)" };
        return none;
    case K_INT:
        if (s == K_INT) return direct;
        if (s == K_NUMBER) return (Conv){ 0.85, "round", "round(%s)" };
        if (s == K_BOOL) return (Conv){ 0.9, NULL, "%s" };
        if (s == K_STRING) return (Conv){ 0.85, "to_int", "to_int(%s)" };
        return none;
    case K_NUMBER:
        if (s == K_INT || s == K_NUMBER) return direct;
        if (s == K_STRING) return (Conv){ 0.85, "to_number", "to_number(%s)" };
        return none;
    case K_BOOL:
        if (s == K_BOOL) return direct;
        if (s == K_STRING || s == K_INT) return (Conv){ 0.8, "to_bool", "to_bool(%s)" };
        return none;
    case K_DATETIME:
        if (s == K_DATETIME) return direct;
        if (s == K_STRING) return (Conv){ 0.85, "parse_date", "parse_date(%s)" };
        return none;
    case K_DATE:
        if (s == K_DATETIME) return (Conv){ 0.95, "format_date", "format_date(%s, \"YYYY-MM-DD\")" };
        if (s == K_STRING) return (Conv){ 0.9, NULL, "%s" };
        return none;
    case K_ARRAY:
        return s == K_ARRAY ? direct : none;
    default:
        return none;
    }
}

/* ---- the two sides ---- */

typedef struct {
    char *path;          /* customer.email */
    char *type;          /* as the schema says it */
    Kind kind;
    int generated;       /* the database fills it */
    int mapped;
    Name name, leaf;     /* of the whole path, and of its last segment */
    int nested;
} DField;

typedef struct {
    char *path, *expr;   /* customer.email, record.customer.email */
    Kind kind;
    int nullable;        /* the value may be null (so a conversion is guarded by has()) */
    int used;            /* by the map already, or by a suggestion made */
    Name name;
} SField;

typedef struct { DField *d; int nd, dcap; SField *s; int ns, scap; } Sides;

static DField *add_dest(Sides *sd, const char *path, const char *type, Kind k) {
    GROW(sd->d, sd->nd, sd->dcap);
    DField *f = &sd->d[sd->nd++];
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    f->type = xstrdup(type);
    f->kind = k;
    name_of(&f->name, path);
    const char *dot = strrchr(path, '.');
    f->nested = dot != NULL;
    name_of(&f->leaf, dot ? dot + 1 : path);
    return f;
}

static void add_source(Sides *sd, const char *path, const char *expr, Kind k, int nullable) {
    GROW(sd->s, sd->ns, sd->scap);
    SField *f = &sd->s[sd->ns++];
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    f->expr = xstrdup(expr);
    f->kind = k;
    f->nullable = nullable;
    name_of(&f->name, path);
}

static void sides_free(Sides *sd) {
    for (int i = 0; i < sd->nd; i++) { free(sd->d[i].path); free(sd->d[i].type); }
    for (int i = 0; i < sd->ns; i++) { free(sd->s[i].path); free(sd->s[i].expr); }
    free(sd->d);
    free(sd->s);
}

/* every field of the record type t under prefix (records are both a field and their fields) */
static void sources_of(Sides *sd, const Type *t, const char *path, const char *expr, int nullable, int depth) {
    if (!t || t->kind != TY_RECORD || depth > 6) return;
    for (int i = 0; i < t->nfields; i++) {
        const TypeField *f = &t->fields[i];
        if (!is_ident(f->name)) continue;   /* record.<name> cannot be written */
        char *p = path[0] ? fmtstr("%s.%s", path, f->name) : xstrdup(f->name);
        char *e = fmtstr("%s.%s", expr, f->name);
        int nl = nullable || f->type->nullable;
        add_source(sd, p, e, kind_of_type(f->type), nl);
        if (f->type->kind == TY_RECORD) sources_of(sd, f->type, p, e, nl, depth + 1);
        free(p);
        free(e);
    }
}

static const char *type_word(Kind k) {
    static const char *const w[] = { "any", "string", "int", "number", "bool", "datetime", "date", "json", "array", "record" };
    return w[k];
}

static void dests_of_type(Sides *sd, const Type *t, const char *path, int depth) {
    if (!t || t->kind != TY_RECORD || depth > 6) return;
    for (int i = 0; i < t->nfields; i++) {
        const TypeField *f = &t->fields[i];
        char *p = path[0] ? fmtstr("%s.%s", path, f->name) : xstrdup(f->name);
        if (f->type->kind == TY_RECORD) dests_of_type(sd, f->type, p, depth + 1);
        else {
            Arena *a = arena_new();
            add_dest(sd, p, ty_str(a, f->type), kind_of_type(f->type));
            arena_free(a);
        }
        free(p);
    }
}

/* a JSON sample value's kind: strings that read as ISO-8601 are dates or date-times */
static Kind kind_of_json(const cJSON *v) {
    if (cJSON_IsBool(v)) return K_BOOL;
    if (cJSON_IsNumber(v)) { char b[32]; const char *t = flow_json_num_text(v, b); return strpbrk(t, ".eE") ? K_NUMBER : K_INT; }
    if (cJSON_IsArray(v)) return K_ARRAY;
    if (cJSON_IsObject(v)) return K_RECORD;
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        size_t n = strlen(s);
        int64_t ms;
        int date_like = n >= 10 && is_digit(s[0]) && is_digit(s[3]) && s[4] == '-' && s[7] == '-';
        if (date_like && flow_parse_iso8601(s, n, &ms)) return n == 10 ? K_DATE : K_DATETIME;
        return K_STRING;
    }
    return K_ANY;   /* null: nothing to learn */
}

static void dests_of_json(Sides *sd, const cJSON *obj, const char *path, int depth) {
    if (depth > 6) return;
    for (const cJSON *m = obj->child; m; m = m->next) {
        char *p = path[0] ? fmtstr("%s.%s", path, m->string) : xstrdup(m->string);
        Kind k = kind_of_json(m);
        if (k == K_RECORD) dests_of_json(sd, m, p, depth + 1);
        else {
            int at = -1;
            for (int i = 0; i < sd->nd; i++) if (strcmp(sd->d[i].path, p) == 0) at = i;
            if (at < 0) add_dest(sd, p, type_word(k), k);
            else if (sd->d[at].kind == K_ANY && k != K_ANY) {   /* null in an earlier sample record */
                sd->d[at].kind = k;
                free(sd->d[at].type);
                sd->d[at].type = xstrdup(type_word(k));
            } else if (sd->d[at].kind == K_INT && k == K_NUMBER) {
                sd->d[at].kind = K_NUMBER;
                free(sd->d[at].type);
                sd->d[at].type = xstrdup("number");
            }
        }
        free(p);
    }
}

/* ---- reading the destination's schema ---- */

static const IrSetting *setting(const IrSetting *s, int n, const char *name) {
    for (int i = 0; i < n; i++) if (strcmp(s[i].name, name) == 0) return &s[i];
    return NULL;
}

/* a constant setting's string: a literal, a param's default, or an env() variable's value */
static const char *const_string(const IrExpr *e, const char **why) {
    if (!e) { *why = "it is not set"; return NULL; }
    if (e->kind == IR_STR) return e->str;
    if (e->kind == IR_PARAM && e->param && e->param->def && e->param->def->kind == IR_STR) return e->param->def->str;
    if (e->kind == IR_PARAM) { *why = "it is a param without a string default"; return NULL; }
    if (e->kind == IR_ENV && e->name) {
        const char *v = getenv(e->name);
        if (!v) { *why = "its env() variable is not set"; return NULL; }
        return v;
    }
    *why = "it is not a constant (a string, a param's default or env(\"NAME\"))";
    return NULL;
}

static int read_sqlite(Sides *sd, const char *path, const char *table, AmResult *r) {
    sqlite3 *db = NULL;
    struct stat st;
    if (stat(path, &st) != 0) { r->error = fmtstr("cannot read the SQLite database %s: %s", path, strerror(errno)); return -1; }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        r->error = fmtstr("cannot open the SQLite database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT name, type, pk, (SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0) FROM pragma_table_info(?1) ORDER BY cid", -1, &q, NULL);
    if (rc != SQLITE_OK) {
        r->error = fmtstr("cannot read the SQLite database %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    int n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0), *type = (const char *)sqlite3_column_text(q, 1);
        DField *f = add_dest(sd, name ? name : "", type && *type ? type : "(no type)", kind_of_sqlite(type));
        /* an INTEGER PRIMARY KEY alone is the rowid: SQLite fills it */
        if (sqlite3_column_int(q, 2) == 1 && sqlite3_column_int(q, 3) == 1 && type && strcasecmp(type, "INTEGER") == 0) f->generated = 1;
        n++;
    }
    if (rc != SQLITE_DONE) r->error = fmtstr("cannot read the SQLite database %s: %s", path, sqlite3_errmsg(db));
    else if (n == 0) r->error = fmtstr("the SQLite database %s has no table `%s`", path, table);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return r->error ? -1 : 0;
}

/* s with every occurrence of sec replaced by <redacted> (libpq's messages may quote the dsn) */
static char *redacted(const char *s, const char *sec) {
    char *o = xstrdup(s);
    if (!sec || strlen(sec) < 3) return o;
    char *p;
    while ((p = strstr(o, sec))) {
        char *n = fmtstr("%.*s<redacted>%s", (int)(p - o), o, p + strlen(sec));
        free(o);
        o = n;
    }
    return o;
}

static char *pg_password(const char *dsn) {
    PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
    char *pw = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val) pw = xstrdup(o->val);
    PQconninfoFree(opts);
    return pw;
}

static int read_postgres(Sides *sd, const char *conn, const char *dsn, const char *table, AmResult *r) {
    const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *vals[] = { dsn, "10", "flowc-automap", NULL };
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    char *pw = pg_password(dsn);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        char *m = redacted(pg ? PQerrorMessage(pg) : "out of memory", pw);
        for (char *q = m; *q; q++) if (*q == '\n' || *q == '\t') *q = ' ';   /* libpq's lines as one */
        size_t ml = strlen(m);
        while (ml && m[ml - 1] == ' ') m[--ml] = 0;
        for (char *q; (q = strstr(m, "  "));) memmove(q, q + 1, strlen(q));
        r->error = fmtstr("cannot connect to PostgreSQL (connection %s): %s", conn, m);
        free(m);
        free(pw);
        PQfinish(pg);
        return -1;
    }
    const char *dot = strchr(table, '.');
    char *schema = dot ? fmtstr("%.*s", (int)(dot - table), table) : NULL;
    const char *params[2] = { dot ? dot + 1 : table, schema };
    PGresult *res = PQexecParams(pg,
        "SELECT column_name, data_type, coalesce(column_default, ''), is_identity FROM information_schema.columns "
        "WHERE table_name = $1 AND table_schema = coalesce($2, current_schema()) ORDER BY ordinal_position",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char *m = redacted(PQerrorMessage(pg), pw);
        r->error = fmtstr("cannot read the columns of `%s` (connection %s): %s", table, conn, m);
        free(m);
    } else if (PQntuples(res) == 0) {
        r->error = fmtstr("PostgreSQL (connection %s) has no table `%s`", conn, table);
    } else {
        for (int i = 0; i < PQntuples(res); i++) {
            const char *type = PQgetvalue(res, i, 1);
            DField *f = add_dest(sd, PQgetvalue(res, i, 0), type, kind_of_pg(type));
            f->generated = strncmp(PQgetvalue(res, i, 2), "nextval(", 8) == 0 || strcmp(PQgetvalue(res, i, 3), "YES") == 0;
        }
    }
    PQclear(res);
    PQfinish(pg);
    free(schema);
    free(pw);
    return r->error ? -1 : 0;
}

/* the destination's fields from a sample's text (a JSON object, or an array of objects whose fields
 * are joined); name says where it came from in messages */
static int sample_fields(Sides *sd, const char *name, const char *text, size_t len, AmResult *r) {
    FlowJsonError je;
    cJSON *j = flow_json_parse(text, len, &je);
    if (!j) { r->error = fmtstr("the sample %s is not JSON: line %ld, column %ld: %s", name, je.line, je.col, je.msg); return -1; }
    int ok = 0;
    if (cJSON_IsObject(j)) { dests_of_json(sd, j, "", 0); ok = 1; }
    else if (cJSON_IsArray(j)) {
        for (const cJSON *e = j->child; e; e = e->next) if (cJSON_IsObject(e)) { dests_of_json(sd, e, "", 0); ok = 1; }
    }
    cJSON_Delete(j);
    if (!ok) { r->error = fmtstr("the sample %s holds no record: it must be a JSON object or an array of objects", name); return -1; }
    if (sd->nd == 0) { r->error = fmtstr("the sample %s has no fields", name); return -1; }
    return 0;
}

static int read_sample(Sides *sd, const char *path, AmResult *r) {
    FILE *f = fopen(path, "rb");
    if (!f) { r->error = fmtstr("cannot read the sample %s: %s", path, strerror(errno)); return -1; }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        r->error = fmtstr("cannot read the sample %s: %s", path, S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
        fclose(f);
        return -1;
    }
    if (st.st_size > 64 << 20) { r->error = fmtstr("the sample %s is over 64 MB", path); fclose(f); return -1; }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) abort();
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    int rc = bad ? (r->error = fmtstr("cannot read the sample %s: %s", path, strerror(errno)), -1) : sample_fields(sd, path, buf, got, r);
    free(buf);
    return rc;
}

static void lower_words(const char *s, char *out, size_t cap) {
    Name n;
    name_of(&n, s);
    concat_words(&n.raw, out, cap);
}

static const IrTypeDecl *find_type(const IrProgram *p, const char *name) {
    for (int i = 0; i < p->ntypes; i++) if (strcmp(p->types[i]->name, name) == 0) return p->types[i];
    return NULL;
}

/* The destination's fields into sd and a description into r->dest. */
static int read_dest(Sides *sd, const IrProgram *p, const IrStep *imp, const AmOptions *o, AmResult *r) {
    if (o->sample_text) {
        r->dest_kind = AM_DEST_SAMPLE;
        r->dest = fmtstr("the sample %s", o->sample ? o->sample : "text");
        return sample_fields(sd, o->sample ? o->sample : "text", o->sample_text, o->sample_len, r);
    }
    if (o->sample) {
        r->dest_kind = AM_DEST_SAMPLE;
        r->dest = fmtstr("the sample %s", o->sample);
        return read_sample(sd, o->sample, r);
    }
    const IrTypeDecl *td = NULL;
    if (o->type_name) {
        td = find_type(p, o->type_name);
        if (!td) {
            char *names = xstrdup("");
            for (int i = 0; i < p->ntypes; i++) { char *n = fmtstr("%s%s%s", names, i ? ", " : "", p->types[i]->name); free(names); names = n; }
            r->error = fmtstr("no type `%s` in %s%s%s", o->type_name, p->src->name, p->ntypes ? "; its types: " : " (it declares no type)", names);
            free(names);
            return -1;
        }
    }
    const char *kind = imp->conn && imp->conn->kind >= 0 ? flow_conn_kinds[imp->conn->kind] : "";
    int sql = !td && (strcmp(kind, "sqlite") == 0 || strcmp(kind, "postgres") == 0);
    if (sql) {
        const IrSetting *ts = setting(imp->settings, imp->nsettings, "table");
        const char *why = "";
        const char *table = const_string(ts ? ts->value : NULL, &why);
        if (!table) { r->error = fmtstr("import %s: its `table` cannot be read here: %s", imp->name, why); return -1; }
        if (strcmp(kind, "sqlite") == 0) {
            const IrSetting *ps = setting(imp->conn->settings, imp->conn->nsettings, "path");
            const char *path = const_string(ps ? ps->value : NULL, &why);
            if (!path) { r->error = fmtstr("connection %s: its `path` cannot be read here: %s", imp->conn->name, why); return -1; }
            char *full = path[0] == '/' || !o->dir ? xstrdup(path) : fmtstr("%s/%s", o->dir, path);
            r->dest_kind = AM_DEST_SQLITE;
            r->dest = fmtstr("sqlite table `%s` in %s", table, full);
            int rc = read_sqlite(sd, full, table, r);
            free(full);
            return rc;
        }
        const IrSetting *ds = setting(imp->conn->settings, imp->conn->nsettings, "dsn");
        const char *dsn = const_string(ds ? ds->value : NULL, &why);
        if (!dsn) { r->error = fmtstr("connection %s: its `dsn` cannot be read here: %s", imp->conn->name, why); return -1; }
        r->dest_kind = AM_DEST_POSTGRES;
        r->dest = fmtstr("postgres table `%s` (connection %s)", table, imp->conn->name);
        return read_postgres(sd, imp->conn->name, dsn, table, r);
    }
    if (!td) {   /* a declared type named after the import: contacts -> Contact */
        char want[256], have[256];
        lower_words(imp->name, want, sizeof want);
        for (int i = 0; i < p->ntypes && !td; i++) {
            lower_words(p->types[i]->name, have, sizeof have);
            if (strcmp(want, have) == 0) td = p->types[i];
        }
    }
    if (!td) {
        r->error = fmtstr("import %s writes to a %s connection, which has no schema to read: give the destination's fields "
                          "with --sample FILE.json or --type NAME (or declare a type named after the import)", imp->name, kind);
        return -1;
    }
    if (td->type->kind != TY_RECORD) { r->error = fmtstr("type %s is not a record type", td->name); return -1; }
    r->dest_kind = AM_DEST_TYPE;
    r->dest = fmtstr("type %s", td->name);
    dests_of_type(sd, td->type, "", 0);
    return 0;
}

/* ---- what the import maps already ---- */

static int mapped_path(const IrMap *m, const char *path) {
    if (!m) return 0;
    const char *dot = strchr(path, '.');
    size_t l = dot ? (size_t)(dot - path) : strlen(path);
    for (int i = 0; i < m->n; i++) {
        const IrMapEntry *e = &m->entries[i];
        if (strlen(e->name) != l || memcmp(e->name, path, l) != 0) continue;
        if (!dot || !e->nested) return 1;   /* the whole of a nested destination is mapped by one value */
        if (mapped_path(e->nested, dot + 1)) return 1;
    }
    return 0;
}

/* the path of a record.a.b chain, or NULL */
static char *record_path(const IrExpr *e) {
    if (e->kind == IR_RECORD) return xstrdup("");
    if (e->kind != IR_FIELD || !e->a) return NULL;
    char *p = record_path(e->a);
    if (!p) return NULL;
    char *o = p[0] ? fmtstr("%s.%s", p, e->name) : xstrdup(e->name);
    free(p);
    return o;
}

static int mark_used(const IrExpr *e, void *ud) {
    Sides *sd = ud;
    char *p = e->kind == IR_FIELD ? record_path(e) : NULL;
    if (p) for (int i = 0; i < sd->ns; i++) if (strcmp(sd->s[i].path, p) == 0) sd->s[i].used = 1;
    free(p);
    return 0;
}

static void mark_map_used(Sides *sd, const IrMap *m) {
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        if (m->entries[i].value) ir_any_expr(m->entries[i].value, mark_used, sd);
        mark_map_used(sd, m->entries[i].nested);
    }
}

/* ---- matching ---- */

typedef struct { int d, s; double score; char why[700]; Conv cv; } Cand;

static int cmp_cand(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    if (x->d != y->d) return x->d - y->d;
    return x->s - y->s;
}

static Cand score_pair(const DField *d, const SField *s) {
    Cand c = { 0 };
    char why[300];
    double ns = name_score(&d->name, d->path, &s->name, s->path, why, sizeof why);
    if (d->nested) {   /* a nested destination field also by its own name: merge_fields.FNAME for first_name */
        char w2[300];
        const char *leaf = strrchr(d->path, '.') + 1;
        double l = 0.95 * name_score(&d->leaf, leaf, &s->name, s->path, w2, sizeof w2);
        if (l > ns) { ns = l; snprintf(why, sizeof why, "%.200s (in %.*s)", w2, (int)(leaf - 1 - d->path) > 80 ? 80 : (int)(leaf - 1 - d->path), d->path); }
        if (d->leaf.tok.n == 1 && generic_word(d->leaf.tok.w[0])) {   /* priority.name, CustomerRef.value: the thing named */
            const char *pe = leaf - 1, *ps = pe;
            while (ps > d->path && ps[-1] != '.') ps--;
            char parent[256];
            snprintf(parent, sizeof parent, "%.*s", (int)(pe - ps), ps);
            Name pn;
            name_of(&pn, parent);
            l = 0.85 * name_score(&pn, parent, &s->name, s->path, w2, sizeof w2);
            if (l > ns) { ns = l; snprintf(why, sizeof why, "%.200s (%s names it)", w2, d->path); }
        }
    }
    if (ns <= 0) return c;
    Conv cv = conversion(d->kind, s->kind);
    if (cv.f <= 0) return c;
    c.score = ns * cv.f;
    c.cv = cv;
    if (cv.fn) snprintf(c.why, sizeof c.why, "%.300s; %s (%s into %.100s)", why, cv.fn, type_word(s->kind), d->type);
    else snprintf(c.why, sizeof c.why, "%s", why);
    return c;
}

static char *value_text(const SField *s, const Conv *cv) {
    char *v = fmtstr(cv->fmt, s->expr);
    if (cv->fn && s->nullable) {   /* a built-in needs a value: convert only when there is one */
        char *g = fmtstr("%s when has(%s)", v, s->expr);
        free(v);
        v = g;
    }
    return v;
}

/* ---- inserting suggestions into the text ---- */

typedef struct { size_t at; char *text; } Ins;

typedef struct { Ins *v; int n, cap; } Inserts;   /* the pieces of text to insert, each at its place */

/* the offset of the `}` that closes a nested entry (before its `when`) */
static size_t closing_brace(const char *text, const IrMapEntry *e) {
    size_t end = e->when ? e->when->span.start : e->span.end;
    while (end > e->span.start && text[end - 1] != '}') end--;
    return end ? end - 1 : 0;
}

typedef struct { const char *rel; int idx; } Sel;   /* a suggestion's target below the map at hand, and its index */

/* Writes the map lines of suggestions sel[0..n) (paths relative to map m; m NULL: a new map) to mf,
 * the piece inserted at map_close; the lines under a nested entry m already has go into a piece of
 * their own at that entry's `}`, added to ins. Records in line_at where each suggestion's line lands
 * inside its piece (offsets from the piece's start) and the piece's place. */
static void emit_group(FILE *mf, Sel *sel, int n, const char *text, const IrMap *m,
                       Inserts *ins, const AmSuggestion *items, size_t (*line_at)[3], size_t map_close) {
    for (int i = 0; i < n; i++) {
        if (sel[i].rel == NULL) continue;
        const char *dot = strchr(sel[i].rel, '.');
        if (!dot) {
            char *k = key_text(sel[i].rel);
            fflush(mf);
            long st = ftell(mf);
            fprintf(mf, "\n%s = %s", k, items[sel[i].idx].value);
            fflush(mf);
            line_at[sel[i].idx][0] = (size_t)st;
            line_at[sel[i].idx][1] = (size_t)ftell(mf);
            line_at[sel[i].idx][2] = map_close;
            free(k);
            sel[i].rel = NULL;
            continue;
        }
        /* a nested destination: the suggestions under the same first segment together */
        size_t l = (size_t)(dot - sel[i].rel);
        char *head = fmtstr("%.*s", (int)l, sel[i].rel);
        const IrMapEntry *ex = NULL;
        for (int k = 0; m && k < m->n; k++) if (strcmp(m->entries[k].name, head) == 0 && m->entries[k].nested) ex = &m->entries[k];
        Sel *sub = calloc((size_t)n, sizeof *sub);
        if (!sub) abort();
        int ns = 0;
        for (int j = i; j < n; j++) {
            if (sel[j].rel && strncmp(sel[j].rel, head, l) == 0 && sel[j].rel[l] == '.') {
                sub[ns++] = (Sel){ sel[j].rel + l + 1, sel[j].idx };
                sel[j].rel = NULL;
            }
        }
        if (ex) {   /* inside the nested entry the map has: a piece of its own, at its `}` */
            size_t at = closing_brace(text, ex);
            char *pb = NULL;
            size_t pl = 0;
            FILE *pf = open_memstream(&pb, &pl);
            if (!pf) abort();
            emit_group(pf, sub, ns, text, ex->nested, ins, items, line_at, at);
            fputc('\n', pf);
            fclose(pf);
            GROW(ins->v, ins->n, ins->cap);
            ins->v[ins->n++] = (Ins){ at, pb };
        } else {
            char *k = key_text(head);
            fprintf(mf, "\n%s {", k);
            emit_group(mf, sub, ns, text, NULL, ins, items, line_at, map_close);
            fprintf(mf, "\n}");
            free(k);
        }
        free(sub);
        free(head);
    }
}

/* The text with the chosen suggestions (use[i]) inserted (not formatted), and each one's byte range in
 * it (range[i]). */
static char *insert_text(const Source *src, const IrStep *imp, const AmSuggestion *items, int n, const int *use,
                         size_t (*range)[2], size_t *out_len) {
    Inserts ins = { 0 };
    size_t (*line_at)[3] = calloc((size_t)n + 1, sizeof *line_at);
    Sel *sel = calloc((size_t)n + 1, sizeof *sel);
    if (!line_at || !sel) abort();
    int ns = 0;
    for (int i = 0; i < n; i++) if (use[i]) sel[ns++] = (Sel){ items[i].target, i };
    char *pb = NULL;
    size_t pl = 0;
    FILE *pf = open_memstream(&pb, &pl);
    if (!pf) abort();
    size_t at;
    if (imp->map) {
        at = imp->map->span.end - 1;
        emit_group(pf, sel, ns, src->text, imp->map, &ins, items, line_at, at);
        fputc('\n', pf);
    } else {   /* no map yet: one, before the import's `}` */
        at = imp->span.end - 1;
        fputs("\nmap {", pf);
        emit_group(pf, sel, ns, src->text, NULL, &ins, items, line_at, at);
        fputs("\n}\n", pf);
    }
    fclose(pf);
    GROW(ins.v, ins.n, ins.cap);
    /* the pieces of nested entries were made first, but a line's offset is relative to its own piece:
     * find each suggestion's piece by the insertion point recorded with it */
    ins.v[ins.n++] = (Ins){ at, pb };
    /* apply in order of position (pieces at one point: in the order made) */
    for (int i = 1; i < ins.n; i++)
        for (int j = i; j > 0 && ins.v[j - 1].at > ins.v[j].at; j--) { Ins t = ins.v[j]; ins.v[j] = ins.v[j - 1]; ins.v[j - 1] = t; }
    size_t total = src->len;
    for (int i = 0; i < ins.n; i++) total += strlen(ins.v[i].text);
    char *out = malloc(total + 1);
    if (!out) abort();
    size_t o = 0, from = 0;
    size_t *piece_start = calloc((size_t)ins.n + 1, sizeof *piece_start);
    if (!piece_start) abort();
    for (int i = 0; i < ins.n; i++) {
        /* a `}` on a line of its own: the lines go in before that line, without a blank one */
        size_t pos = ins.v[i].at, skip = 0;
        while (pos > from && (src->text[pos - 1] == ' ' || src->text[pos - 1] == '\t')) pos--;
        if (pos > from && src->text[pos - 1] == '\n' && ins.v[i].text[0] == '\n') skip = 1;
        else pos = ins.v[i].at;
        memcpy(out + o, src->text + from, pos - from);
        o += pos - from;
        from = pos;
        piece_start[i] = o - skip;
        size_t l = strlen(ins.v[i].text) - skip;
        memcpy(out + o, ins.v[i].text + skip, l);
        o += l;
    }
    memcpy(out + o, src->text + from, src->len - from);
    o += src->len - from;
    out[o] = 0;
    for (int k = 0; k < n; k++) {
        if (!use[k]) continue;
        for (int i = 0; i < ins.n; i++) {
            if (ins.v[i].at != line_at[k][2]) continue;
            /* the piece at this point that holds the line: the last one made there whose length covers it */
            size_t ps = piece_start[i];
            if (line_at[k][1] <= strlen(ins.v[i].text)) { range[k][0] = ps + line_at[k][0]; range[k][1] = ps + line_at[k][1]; }
        }
    }
    for (int i = 0; i < ins.n; i++) free(ins.v[i].text);
    free(ins.v);
    free(piece_start);
    free(line_at);
    free(sel);
    *out_len = o;
    return out;
}

/* Checks text; marks bad[i] for each used suggestion with an error inside its range. Returns the
 * number of errors (all of them). */
static int check_text(const char *name, const char *text, size_t len, int n, const int *use, size_t (*range)[2], int *bad) {
    Source *s = src_from_buffer(name, text, len);
    Diags d;
    diag_init(&d);
    FeResult fr;
    fe_run(&fr, s, &d, FE_CHECK);
    for (int i = 0; i < d.n; i++) {
        if (d.items[i].sev != DIAG_ERROR) continue;
        for (int k = 0; k < n; k++)
            if (use[k] && d.items[i].span.start >= range[k][0] && d.items[i].span.start < range[k][1]) bad[k] = 1;
    }
    int errors = d.errors;
    fe_result_free(&fr);
    diag_free(&d);
    src_free(s);
    return errors;
}

/* ---- the whole ---- */

const IrStep *am_import(const IrFlow *f, const char *name) {
    for (int i = 0; i < f->nall; i++) if (f->all[i]->kind == STEP_IMPORT && strcmp(f->all[i]->name, name) == 0) return f->all[i];
    return NULL;
}

const IrStep *am_import_at(const IrProgram *p, size_t offset, const IrFlow **flow) {
    for (int i = 0; i < p->nflows; i++) {
        const IrFlow *f = p->flows[i];
        for (int k = 0; k < f->nall; k++) {
            const IrStep *st = f->all[k];
            if (st->kind == STEP_IMPORT && offset >= st->span.start && offset < st->span.end) {
                if (flow) *flow = f;
                return st;
            }
        }
    }
    return NULL;
}

void am_result_free(AmResult *r) {
    for (int i = 0; i < r->n; i++) {
        AmSuggestion *s = &r->items[i];
        free(s->target); free(s->value); free(s->source); free(s->dest_type); free(s->conversion); free(s->reason); free(s->runner_up);
    }
    for (int i = 0; i < r->nfields; i++) { free(r->fields[i].path); free(r->fields[i].type); free(r->fields[i].note); }
    free(r->items);
    free(r->fields);
    free(r->dest);
    free(r->edit.text);
    free(r->text);
    free(r->error);
    memset(r, 0, sizeof *r);
}

int am_suggest(const IrProgram *p, const IrFlow *f, const IrStep *imp, const AmOptions *o, AmResult *r) {
    memset(r, 0, sizeof *r);
    (void)f;
    Sides sd = { 0 };
    if (read_dest(&sd, p, imp, o, r) != 0) { sides_free(&sd); return -1; }
    const Type *in = imp->in;
    if (!in || in->kind != TY_RECORD) {
        r->error = fmtstr("import %s: the record entering it is %s, so its fields are not known: declare the export's type "
                          "(`export NAME: Type from ...`)", imp->name, in && in->kind == TY_JSON ? "json" : "not a record");
        sides_free(&sd);
        return -1;
    }
    sources_of(&sd, in, "", "record", 0, 0);
    mark_map_used(&sd, imp->map);
    for (int i = 0; i < sd.nd; i++) sd.d[i].mapped = mapped_path(imp->map, sd.d[i].path);

    /* every candidate pair */
    Cand *cs = NULL;
    int nc = 0, ccap = 0;
    for (int i = 0; i < sd.nd; i++) {
        if (sd.d[i].mapped || sd.d[i].generated) continue;
        for (int k = 0; k < sd.ns; k++) {
            Cand c = score_pair(&sd.d[i], &sd.s[k]);
            if (c.score < AM_FLOOR * 0.7) continue;   /* room for the penalties below to matter */
            c.d = i, c.s = k;
            GROW(cs, nc, ccap);
            cs[nc++] = c;
        }
    }
    if (nc) qsort(cs, (size_t)nc, sizeof *cs, cmp_cand);

    /* one source per destination field, best first; a source already used (by the map or a better
     * suggestion) counts less */
    int *pick = malloc(sizeof(int) * (size_t)(sd.nd + 1));
    double *pscore = malloc(sizeof(double) * (size_t)(sd.nd + 1));
    if (!pick || !pscore) abort();
    for (int i = 0; i < sd.nd; i++) pick[i] = -1, pscore[i] = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nc; i++) {
            Cand *c = &cs[i];
            if (pick[c->d] >= 0) continue;
            double s = c->score;
            if (sd.s[c->s].used) { if (pass == 0) continue; s *= 0.7; }
            if (s < AM_FLOOR) continue;
            /* a better use of this source by a field still open comes first */
            pick[c->d] = i;
            pscore[c->d] = s;
            sd.s[c->s].used = 1;
        }
    }

    r->fields = calloc((size_t)sd.nd + 1, sizeof *r->fields);
    r->items = calloc((size_t)sd.nd + 1, sizeof *r->items);
    if (!r->fields || !r->items) abort();
    r->nfields = sd.nd;
    for (int i = 0; i < sd.nd; i++) {
        AmDestField *df = &r->fields[i];
        df->path = xstrdup(sd.d[i].path);
        df->type = xstrdup(sd.d[i].type);
        df->mapped = sd.d[i].mapped;
        if (sd.d[i].mapped) continue;
        if (sd.d[i].generated) { df->note = xstrdup("the database fills it"); continue; }
        if (pick[i] < 0) { df->note = xstrdup("no source field matches"); continue; }
        const Cand *c = &cs[pick[i]];
        const SField *s = &sd.s[c->s];
        AmSuggestion *sg = &r->items[r->n++];
        df->suggested = 1;
        sg->target = xstrdup(sd.d[i].path);
        sg->source = xstrdup(s->path);
        sg->value = value_text(s, &c->cv);
        sg->dest_type = xstrdup(sd.d[i].type);
        sg->conversion = c->cv.fn ? xstrdup(c->cv.fn) : NULL;
        sg->confidence = pscore[i];
        char *reason = xstrdup(c->why);
        if (pscore[i] < c->score) { char *t = fmtstr("%s; record.%s is mapped to another field too", reason, s->path); free(reason); reason = t; }
        /* the runner-up: the next candidate for this field from another source */
        for (int k = 0; k < nc; k++) {
            if (cs[k].d != i || cs[k].s == c->s || k == pick[i]) continue;
            int taken = 0;   /* a source another field takes with a better score is no rival */
            for (int j = 0; j < sd.nd; j++) if (j != i && pick[j] >= 0 && cs[pick[j]].s == cs[k].s && pscore[j] >= cs[k].score) taken = 1;
            if (taken) continue;
            if (cs[k].score >= AM_FLOOR && cs[k].score > pscore[i] - 0.1) {
                sg->runner_up = xstrdup(sd.s[cs[k].s].path);
                sg->runner_up_confidence = cs[k].score;
                sg->confidence = (pscore[i] > cs[k].score ? pscore[i] : cs[k].score) - 0.2;
                char *t = fmtstr("%s; ambiguous: the runner-up is record.%s (%.2f)", reason, sg->runner_up, cs[k].score);
                free(reason);
                reason = t;
            }
            break;
        }
        if (sg->confidence < 0) sg->confidence = 0;
        sg->reason = reason;
    }
    free(pick);
    free(pscore);
    free(cs);
    sides_free(&sd);

    /* every suggestion must check in place: insert them all, drop those with an error on their line */
    int n = r->n;
    int *use = calloc((size_t)n + 1, sizeof *use), *bad = calloc((size_t)n + 1, sizeof *bad);
    size_t (*range)[2] = calloc((size_t)n + 1, sizeof *range);
    if (!use || !bad || !range) abort();
    for (int round = 0; round < 3 && n; round++) {
        int any = 0;
        for (int i = 0; i < n; i++) use[i] = !bad[i], any |= use[i];
        if (!any) break;
        size_t len;
        char *t = insert_text(p->src, imp, r->items, n, use, range, &len);
        int before = 0;
        for (int i = 0; i < n; i++) before += bad[i];
        check_text(p->src->name, t, len, n, use, range, bad);
        free(t);
        int after = 0;
        for (int i = 0; i < n; i++) after += bad[i];
        if (after == before) break;
    }
    int w = 0;
    for (int i = 0; i < n; i++) {
        if (bad[i]) {
            for (int k = 0; k < r->nfields; k++)
                if (strcmp(r->fields[k].path, r->items[i].target) == 0) {
                    r->fields[k].suggested = 0;
                    r->fields[k].note = fmtstr("record.%s matches but `%s` does not check there", r->items[i].source, r->items[i].value);
                }
            AmSuggestion *s = &r->items[i];
            free(s->target); free(s->value); free(s->source); free(s->dest_type); free(s->conversion); free(s->reason); free(s->runner_up);
            continue;
        }
        r->items[w++] = r->items[i];
    }
    r->n = n = w;
    for (int i = 0; i < n; i++) {
        r->items[i].confident = r->items[i].confidence >= AM_CONFIDENT - 1e-9;
        r->nconfident += r->items[i].confident;
    }

    /* the edit: the confident ones inserted, the file formatted, and the part that differs */
    if (r->nconfident) {
        for (int i = 0; i < n; i++) use[i] = r->items[i].confident;
        size_t len;
        char *t = insert_text(p->src, imp, r->items, n, use, range, &len);
        Source *s = src_from_buffer(p->src->name, t, len);
        Diags d;
        diag_init(&d);
        size_t flen = 0;
        char *ft = fmt_source(s, &d, &flen);
        diag_free(&d);
        src_free(s);
        free(t);
        if (ft) {
            size_t a = 0, ol = p->src->len;
            while (a < ol && a < flen && p->src->text[a] == ft[a]) a++;
            size_t b = 0;
            while (b < ol - a && b < flen - a && p->src->text[ol - 1 - b] == ft[flen - 1 - b]) b++;
            /* start and end the edit on line boundaries, so it reads as whole lines */
            while (a > 0 && p->src->text[a - 1] != '\n') a--;
            while (b > 0 && p->src->text[ol - b - 1] != '\n') b--;
            r->edit.offset = a;
            r->edit.length = ol - b - a;
            r->edit.text = fmtstr("%.*s", (int)(flen - b - a), ft + a);
            r->text = ft;
        }
    }
    free(use);
    free(bad);
    free(range);
    return 0;
}
