/* conn_sqlite.c — the SQLite connector: exports run `sql` with `args` and hand out rows as objects
 * (INTEGER and REAL as numbers, TEXT as strings, NULL as null, BLOB as base64 text); lookups run
 * their `sql` with per-record `args`; imports insert into `table` (or upsert on a key: INSERT ...
 * ON CONFLICT(key) DO UPDATE) with prepared statements, one transaction per page, creating the
 * table from the first record when it does not exist. Statements are prepared once per run (an
 * import keeps one per column list), values are bound straight from the records without copies, and
 * an export reads its columns' names once: the per-row work is the rows' own. A typed run's rows go
 * straight into typed records (engine.h, typed rows) and a typed map's values are bound as they are
 * (FlowImportItem.tout), through the same binder as objects' values. */
#include "engine.h"
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_CACHED_STMTS 32

/* an identifier in double quotes, "" inside */
typedef struct Db { sqlite3 *db; char *path; } Db;

static void *db_open(const FlowSettings *s, unsigned uses, FlowErr *err) {
    const char *path = flow_setting_str(s, NULL, "path", "");
    int reads = (uses & (FLOW_USE_EXPORT | FLOW_USE_LOOKUP)) != 0;
    if (reads && strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if ((uses & FLOW_USE_IMPORT) && !reads && strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0) {
        /* a database that is only written to: its directory is made on first use */
        const char *slash = strrchr(path, '/');
        if (slash && slash > path) {
            char *dir = strndup(path, (size_t)(slash - path));
            if (!dir) abort();
            int bad = flow_mkdir_p(dir, err);
            free(dir);
            if (bad) return NULL;
        }
    }
    sqlite3 *db = NULL;
    /* a connection belongs to one run, on one thread: SQLite's per-call locking is not needed */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | ((uses & FLOW_USE_IMPORT) ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    Db *d = calloc(1, sizeof *d);
    if (!d) abort();
    d->db = db;
    d->path = flow_xstrdup(path);
    return d;
}

static void db_close(void *h) {
    Db *d = h;
    sqlite3_close_v2(d->db);
    free(d->path);
    free(d);
}

/* ---- values ---- */

static char *base64(const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out) abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return out;
}

/* TEXT with its NUL bytes as a JSON string literal's text ("a\u0000b"), for the data kept with the
 * record error that refuses it */
static cJSON *nul_text(const char *p, size_t n) {
    FlowSb b = { 0 };
    flow_sb_puts(&b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char u[8];
        if (c < 0x20 || c == '"' || c == '\\') { snprintf(u, sizeof u, "\\u%04x", c); flow_sb_puts(&b, u); }
        else flow_sb_put(&b, p + i, 1);
    }
    flow_sb_puts(&b, "\"");
    cJSON *r = cJSON_CreateRaw(b.p);
    free(b.p);
    return r;
}

/* A statement's result columns, read once (not per row): their names, each one's key (flow_sql_key:
 * rows take it without a copy; NULL when refused), and which ones an earlier column's name hides
 * (the first of equal names wins). */
typedef struct Cols { int n, cap; char **name; const char **key; char *dup; } Cols;

static void cols_free(Cols *c) {
    for (int i = 0; i < c->n; i++) free(c->name[i]);
    free(c->name);
    free(c->key);
    free(c->dup);
    memset(c, 0, sizeof *c);
}

/* c from st's columns: after a prepare, or a reset (SQLite may prepare a statement again when the
 * schema changed, and its columns with it) */
static void cols_load(Cols *c, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st), same = n == c->n;
    for (int i = 0; same && i < n; i++) {   /* the statement's columns as loaded already: nothing to do */
        const char *name = sqlite3_column_name(st, i);
        same = name && c->name[i] && strcmp(name, c->name[i]) == 0;
    }
    if (same) return;
    for (int i = 0; i < c->n; i++) free(c->name[i]);
    if (n > c->cap) {
        c->name = flow_xrealloc(c->name, sizeof *c->name * (size_t)n);
        c->key = flow_xrealloc(c->key, sizeof *c->key * (size_t)n);
        c->dup = flow_xrealloc(c->dup, (size_t)n);
        c->cap = n;
    }
    c->n = n;
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        c->name[i] = name ? flow_xstrdup(name) : NULL;
        c->key[i] = name ? flow_sql_key(name) : NULL;
        c->dup[i] = !name;
        for (int k = 0; k < i && !c->dup[i]; k++) c->dup[i] = c->name[k] && strcmp(c->name[k], name) == 0;
    }
}

/* The current row as an object (the columns c read from st): integers exact over the whole int64
 * range (flow.h). A TEXT holding a NUL byte cannot be carried (flowc's text ends at a NUL): e says
 * which column (e->msg is empty otherwise) and the row comes back as its JSON text, the data kept
 * with the record error. */
static cJSON *row_object(sqlite3_stmt *st, const Cols *c, FlowErr *e) {
    cJSON *o = cJSON_CreateObject();
    if (!o) abort();
    e->msg[0] = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->dup[i]) continue;
        const char *name = c->name[i];
        cJSON *v;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER: v = flow_json_int(sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: v = cJSON_CreateNumber(sqlite3_column_double(st, i)); break;   /* the engine refuses Inf */
        case SQLITE_TEXT: {
            const char *t = (const char *)sqlite3_column_text(st, i);
            size_t len = (size_t)sqlite3_column_bytes(st, i);
            if (t && memchr(t, 0, len)) {
                if (!e->msg[0])
                    flow_err_set(e, FLOW_ERR_VALUE, "column %s holds a NUL byte (at byte %zu of %zu), which text cannot carry",
                                 name, strlen(t), len);
                v = nul_text(t, len);
            } else v = cJSON_CreateString(t ? t : "");
            break;
        }
        case SQLITE_BLOB: {
            const unsigned char *b = sqlite3_column_blob(st, i);
            char *t = base64(b ? b : (const unsigned char *)"", (size_t)sqlite3_column_bytes(st, i));
            v = cJSON_CreateString(t);
            free(t);
            break;
        }
        default: v = cJSON_CreateNull(); break;
        }
        if (!v) abort();
        if (c->key[i]) cJSON_AddItemToObjectCS(o, c->key[i], v);
        else cJSON_AddItemToObject(o, name, v);
    }
    return e->msg[0] ? flow_json_to_text(o) : o;
}

/* A value as its column holds it: null, an int (bools 0 / 1), a double, text; an object or array
 * (FLOW_JSON) as its JSON text, which SQLite frees. A string is bound in place: it must outlive the
 * statement's next step (the caller binds, steps and resets while it holds it, and binds every
 * parameter again before the step after). The one binder of written rows, whether they come as
 * objects or as a typed map's values (flow_json_scalar's kinds, flow.h FlowTOut), so the two bind
 * the same. */
static int bind_val(sqlite3_stmt *st, int i, FlowVal v) {
    switch (v.kind) {
    case FLOW_BOOL: return sqlite3_bind_int(st, i, v.b);
    case FLOW_INT: return sqlite3_bind_int64(st, i, v.i);   /* exact over the whole int64 range */
    case FLOW_NUMBER: return sqlite3_bind_double(st, i, v.n);
    case FLOW_STRING: return sqlite3_bind_text(st, i, v.s.p, v.s.n < 0x7fffffff ? (int)v.s.n : -1, SQLITE_STATIC);
    case FLOW_JSON: {
        char *t = flow_json_print(v.j);
        if (!t) return sqlite3_bind_text(st, i, "null", -1, SQLITE_STATIC);
        return sqlite3_bind_text(st, i, t, -1, cJSON_free);
    }
    default: return sqlite3_bind_null(st, i);
    }
}

/* a JSON value as bind_val takes it: a scalar as flow_json_scalar reads it, else the tree */
static FlowVal json_val(const cJSON *v) {
    FlowVal x;
    if (flow_json_scalar(v, &x)) { x.kind = FLOW_JSON; x.j = v; }
    return x;
}

/* v bound as parameter i; copy = 1 copies a string (rows read after the call returns) */
static int bind_value(sqlite3_stmt *st, int i, const cJSON *v, int copy) {
    FlowVal x = json_val(v);
    if (copy && x.kind == FLOW_STRING) return sqlite3_bind_text(st, i, x.s.p, -1, SQLITE_TRANSIENT);
    return bind_val(st, i, x);
}

/* copy: as bind_value's */
static int bind_args(sqlite3_stmt *st, const cJSON *args, int copy, FlowErr *err) {
    int want = sqlite3_bind_parameter_count(st);
    int have = cJSON_IsArray(args) ? cJSON_GetArraySize(args) : 0;
    if (want != have) {
        flow_err_set(err, FLOW_ERR_VALUE, "the sql has %d parameter%s but args has %d value%s", want, want == 1 ? "" : "s",
                     have, have == 1 ? "" : "s");
        return -1;
    }
    int i = 1;
    for (const cJSON *a = have ? args->child : NULL; a; a = a->next, i++)
        if (bind_value(st, i, a, copy) != SQLITE_OK) {
            flow_err_set(err, FLOW_ERR_VALUE, "cannot bind argument %d: %s", i, sqlite3_errmsg(sqlite3_db_handle(st)));
            return -1;
        }
    return 0;
}

/* errors that are about the database rather than one record: the run stops */
static int fatal_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_CORRUPT:
    case SQLITE_NOTADB: case SQLITE_NOMEM: case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_PERM: case SQLITE_AUTH:
        return 1;
    }
    return 0;
}

/* ---- exports ---- */

typedef struct DbExport {
    Db *d;
    sqlite3_stmt *st, *mark;
    char *sql;
    Cols cols;
    long rows;
    const FlowRowPlan *plan;   /* typed rows (engine.h): the columns matched to the declared type, or NULL */
    FlowVal *vals;             /* ...a row's values, one per column */
} DbExport;

/* The current row offered to the engine as a typed record (engine.h, typed rows): 0 taken, -1 the
 * generic way (a BLOB, whose base64 text only the generic way makes, or a row that does not fit). */
static int row_typed(DbExport *x, FlowRows *rows) {
    for (int i = 0; i < x->cols.n; i++) {
        switch (sqlite3_column_type(x->st, i)) {
        case SQLITE_INTEGER: x->vals[i] = flow_int(sqlite3_column_int64(x->st, i)); break;
        case SQLITE_FLOAT: x->vals[i] = flow_number(sqlite3_column_double(x->st, i)); break;
        case SQLITE_TEXT: {
            const char *t = (const char *)sqlite3_column_text(x->st, i);
            x->vals[i] = flow_string(t ? t : "", t ? (size_t)sqlite3_column_bytes(x->st, i) : 0);
            break;
        }
        case SQLITE_NULL: x->vals[i] = flow_null(); break;
        default: return -1;
        }
    }
    return flow_rows_take(rows, x->plan, x->vals, 0);
}

static void *dx_open(void *conn, const FlowSettings *s, FlowErr *err) {
    Db *d = conn;
    sqlite3_stmt *st = NULL;
    const char *sql = flow_setting_str(s, NULL, "sql", "");
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_VALUE, "%s: %s", d->path, sqlite3_errmsg(d->db));
        return NULL;
    }
    if (!st) {
        flow_err_set(err, FLOW_ERR_VALUE, "%s: the sql holds no statement", d->path);
        return NULL;
    }
    if (bind_args(st, flow_setting(s, NULL, "args"), 1, err)) {   /* the rows are read after dx_open returns */
        sqlite3_finalize(st);
        return NULL;
    }
    DbExport *x = calloc(1, sizeof *x);
    if (!x) abort();
    x->d = d;
    x->st = st;
    x->sql = flow_xstrdup(sql);
    return x;
}

/* once(flag, key = "id"): UPDATE <the table> SET flag = 1 WHERE key = <the record's key>, a page in one savepoint */
static int dx_mark(void *h, const cJSON *marks, FlowErr *err) {
    DbExport *x = h;
    const char *key;
    char *upd = flow_sql_once_update(x->sql, marks, "1", "?", &key, err);
    if (!upd) return -1;
    if (!x->mark) {
        int rc = sqlite3_prepare_v2(x->d->db, upd, -1, &x->mark, NULL);
        if (rc != SQLITE_OK) { free(upd); flow_err_set(err, FLOW_ERR_VALUE, "once(): %s", sqlite3_errmsg(x->d->db)); return -1; }
    }
    free(upd);
    if (sqlite3_exec(x->d->db, "SAVEPOINT flow_once", NULL, NULL, NULL) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "once(): %s", sqlite3_errmsg(x->d->db));
        return -1;
    }
    for (const cJSON *m = marks->child; m; m = m->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "record"), key);
        if (!v || cJSON_IsNull(v)) continue;   /* no key: nothing to mark */
        sqlite3_reset(x->mark);
        bind_value(x->mark, 1, v, 0);
        if (sqlite3_step(x->mark) != SQLITE_DONE) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "once(): %s", sqlite3_errmsg(x->d->db));
            sqlite3_exec(x->d->db, "ROLLBACK TO flow_once; RELEASE flow_once", NULL, NULL, NULL);
            return -1;
        }
    }
    sqlite3_reset(x->mark);
    if (sqlite3_exec(x->d->db, "RELEASE flow_once", NULL, NULL, NULL) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "once(): %s", sqlite3_errmsg(x->d->db));
        return -1;
    }
    return 0;
}

static int dx_next(void *h, FlowExportItem *it, FlowErr *err) {
    DbExport *x = h;
    int rc = sqlite3_step(x->st);
    if (rc == SQLITE_ROW) {
        if (!x->rows++) {   /* the statement runs once: its columns are known now */
            cols_load(&x->cols, x->st);
            if (it->rows && (x->plan = flow_rows_plan(it->rows, x->cols.n, (const char *const *)x->cols.name)))
                x->vals = flow_xcalloc((size_t)x->cols.n + 1, sizeof *x->vals);
        }
        if (x->plan && it->rows && row_typed(x, it->rows) == 0) return FLOW_NEXT_TYPED;
        it->rec = row_object(x->st, &x->cols, &it->err);
        return it->err.msg[0] ? FLOW_NEXT_ERROR : FLOW_NEXT_RECORD;
    }
    if (rc == SQLITE_DONE) return FLOW_NEXT_END;
    flow_err_set(err, FLOW_ERR_CONNECTION, "%s: %s", x->d->path, sqlite3_errmsg(x->d->db));
    return FLOW_NEXT_FAIL;
}

static void dx_close(void *h) {
    DbExport *x = h;
    sqlite3_finalize(x->st);
    sqlite3_finalize(x->mark);
    cols_free(&x->cols);
    free(x->vals);
    free(x->sql);
    free(x);
}

/* ---- lookups ---- */

typedef struct DbLookup { Db *d; const FlowSettings *s; sqlite3_stmt *st; char *sql; Cols cols; } DbLookup;

static void *dl_open(void *conn, const FlowSettings *s, FlowErr *err) {
    DbLookup *lk = calloc(1, sizeof *lk);
    if (!lk) abort();
    lk->d = conn;
    lk->s = s;
    return lk;
}

static int dl_lookup(void *h, const cJSON *rs, cJSON **rows, FlowErr *err) {
    DbLookup *lk = h;
    const char *sql = flow_setting_str(lk->s, rs, "sql", "");
    if (!lk->st || strcmp(sql, lk->sql) != 0) {
        sqlite3_finalize(lk->st);
        lk->st = NULL;
        free(lk->sql);
        lk->sql = NULL;
        int rc = sqlite3_prepare_v2(lk->d->db, sql, -1, &lk->st, NULL);
        if (rc != SQLITE_OK || !lk->st) {
            flow_err_set(err, FLOW_ERR_VALUE, "%s: %s", lk->d->path, rc != SQLITE_OK ? sqlite3_errmsg(lk->d->db) : "the sql holds no statement");
            sqlite3_finalize(lk->st);
            lk->st = NULL;
            return -1;
        }
        lk->sql = flow_xstrdup(sql);
    }
    sqlite3_reset(lk->st);
    sqlite3_clear_bindings(lk->st);
    if (bind_args(lk->st, flow_setting(lk->s, rs, "args"), 0, err)) return -1;
    cJSON *out = cJSON_CreateArray();
    int rc, nrow = 0;
    while ((rc = sqlite3_step(lk->st)) == SQLITE_ROW) {
        if (!nrow++) cols_load(&lk->cols, lk->st);
        cJSON *o = row_object(lk->st, &lk->cols, err);
        if (err->msg[0]) {   /* a value the record cannot take: a record error */
            cJSON_Delete(o);
            cJSON_Delete(out);
            sqlite3_reset(lk->st);
            return 1;
        }
        cJSON_AddItemToArray(out, o);
    }
    if (rc != SQLITE_DONE) {
        flow_err_set(err, fatal_rc(rc) ? FLOW_ERR_CONNECTION : FLOW_ERR_VALUE, "%s: %s", lk->d->path, sqlite3_errmsg(lk->d->db));
        sqlite3_reset(lk->st);
        cJSON_Delete(out);
        return fatal_rc(rc) ? -1 : 1;
    }
    sqlite3_reset(lk->st);
    *rows = out;
    return 0;
}

static void dl_close(void *h) {
    DbLookup *lk = h;
    sqlite3_finalize(lk->st);
    cols_free(&lk->cols);
    free(lk->sql);
    free(lk);
}

/* ---- imports ---- */

/* One row to write: its columns' names and values (bind_val's kinds), from the map's object or a
 * typed map's values (FlowImportItem.tout): one shape, so the two are written the same. A typed
 * map's row with every entry present is its values as they are, its names the step's table
 * (stat: that table, which lives as long as the program). */
typedef struct Row {
    int n;
    const char *const *name;
    const FlowVal *v;
    const char *const *stat;
    const char **bname; FlowVal *bv; int cap;   /* the buffers name and v point to otherwise */
} Row;

static void row_put(Row *r, const char *name, FlowVal v) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->bname = flow_xrealloc(r->bname, sizeof *r->bname * (size_t)r->cap);
        r->bv = flow_xrealloc(r->bv, sizeof *r->bv * (size_t)r->cap);
    }
    r->bname[r->n] = name;
    r->bv[r->n++] = v;
    r->name = r->bname;
    r->v = r->bv;
}

/* the item's row in r; -1 when its output is no object */
static int row_of(Row *r, const FlowImportItem *it) {
    r->n = 0;
    r->stat = NULL;
    if (it->tout) {
        if (!memchr(it->tout->has, 0, (size_t)it->nnames)) {
            r->n = it->nnames;
            r->name = r->stat = it->names;
            r->v = it->tout->v;
            return 0;
        }
        for (int i = 0; i < it->nnames; i++)
            if (it->tout->has[i]) row_put(r, it->names[i], it->tout->v[i]);
        return 0;
    }
    if (!cJSON_IsObject(it->out)) return -1;
    for (const cJSON *c = it->out->child; c; c = c->next) row_put(r, c->string, json_val(c));
    return 0;
}

static int row_has(const Row *r, const char *name) {
    for (int i = 0; i < r->n; i++) if (strcmp(r->name[i], name) == 0) return 1;
    return 0;
}

/* an INSERT for one column list (the record's field names, in order), prepared once per run */
typedef struct Stmt {
    struct Stmt *next;
    char **cols; int ncols;
    sqlite3_stmt *st;
    int has_key;                /* the upsert key is among the columns */
    const char *const *stat;    /* a typed map's names table known to be these columns (Row.stat) */
} Stmt;

static void stmt_free(Stmt *s) {
    sqlite3_finalize(s->st);
    for (int i = 0; i < s->ncols; i++) free(s->cols[i]);
    free(s->cols);
    free(s);
}

/* whether the row's columns are s's, in order */
static int stmt_fits(Stmt *s, const Row *r) {
    if (r->n != s->ncols) return 0;
    if (r->stat && r->stat == s->stat) return 1;
    for (int i = 0; i < r->n; i++) if (strcmp(s->cols[i], r->name[i]) != 0) return 0;
    if (r->stat) s->stat = r->stat;
    return 1;
}

typedef struct DbImport {
    Db *d;
    char *table;
    char *key;                 /* upsert(key); NULL inserts */
    int exists;                /* the table is known to exist */
    Stmt *stmts; int nstmts;   /* INSERTs by column list */
    sqlite3_stmt *find;        /* upsert: the existing row by key */
    Cols cols;                 /* find's columns */
    Row row;                   /* the row being written */
} DbImport;

static void stmts_clear(DbImport *im) {
    for (Stmt *s = im->stmts, *n; s; s = n) { n = s->next; stmt_free(s); }
    im->stmts = NULL;
    im->nstmts = 0;
}

static void di_close(void *h) {
    DbImport *im = h;
    stmts_clear(im);
    sqlite3_finalize(im->find);
    cols_free(&im->cols);
    free(im->row.bname);
    free(im->row.bv);
    free(im->table);
    free(im->key);
    free(im);
}

static void *di_open(void *conn, const FlowSettings *s, FlowErr *err) {
    char *table, *key;
    if (flow_sql_import_target(s, &table, &key, err)) return NULL;
    DbImport *im = flow_xcalloc(1, sizeof *im);
    im->d = conn;
    im->table = table;
    im->key = key;
    return im;
}

static int table_exists(DbImport *im) {
    if (im->exists) return 1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(im->d->db, "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, im->table, -1, SQLITE_STATIC);
    im->exists = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return im->exists;
}

static const char *column_type(FlowVal v) {
    switch (v.kind) {
    case FLOW_INT: case FLOW_BOOL: return " INTEGER";
    case FLOW_NUMBER: return " REAL";
    case FLOW_NULL: return "";
    default: return " TEXT";
    }
}

/* CREATE TABLE from a row's columns; 0, or -1 with a record error */
static int create_table(DbImport *im, const Row *r, FlowErr *e) {
    if (!r->n) {
        flow_err_set(e, FLOW_ERR_VALUE, "cannot create table %s from a record without fields", im->table);
        return -1;
    }
    FlowSb b = { 0 };
    flow_sb_puts(&b, "CREATE TABLE IF NOT EXISTS ");
    flow_sql_ident(&b, im->table);
    flow_sb_puts(&b, " (");
    for (int i = 0; i < r->n; i++) {
        if (i) flow_sb_puts(&b, ", ");
        flow_sql_ident(&b, r->name[i]);
        flow_sb_puts(&b, column_type(r->v[i]));
    }
    if (im->key) {
        flow_sb_puts(&b, ", UNIQUE (");
        flow_sql_ident(&b, im->key);
        flow_sb_puts(&b, ")");
    }
    flow_sb_puts(&b, ")");
    char *msg = NULL;
    int rc = sqlite3_exec(im->d->db, b.p, NULL, NULL, &msg);
    free(b.p);
    if (rc != SQLITE_OK) {
        flow_err_set(e, FLOW_ERR_VALUE, "cannot create table %s: %s", im->table, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    im->exists = 1;
    return 0;
}

/* The cached INSERT for the row's column list (the last one used first: a flow's records mostly
 * share their fields), or NULL. */
static Stmt *cached_stmt(DbImport *im, const Row *r) {
    for (Stmt **at = &im->stmts; *at; at = &(*at)->next)
        if (stmt_fits(*at, r)) {
            Stmt *s = *at;
            *at = s->next;
            s->next = im->stmts;
            im->stmts = s;
            return s;
        }
    return NULL;
}

/* The INSERT for the row's column list, prepared now and cached. NULL with a record error. */
static Stmt *insert_stmt(DbImport *im, const Row *r, FlowErr *e) {
    if (im->nstmts >= MAX_CACHED_STMTS) stmts_clear(im);
    FlowSb b = { 0 };
    flow_sb_puts(&b, "INSERT INTO ");
    flow_sql_ident(&b, im->table);
    if (!r->n) flow_sb_puts(&b, " DEFAULT VALUES");
    else {
        flow_sb_puts(&b, " (");
        for (int i = 0; i < r->n; i++) {
            if (i) flow_sb_puts(&b, ", ");
            flow_sql_ident(&b, r->name[i]);
        }
        flow_sb_puts(&b, ") VALUES (");
        for (int i = 0; i < r->n; i++) flow_sb_puts(&b, i ? ", ?" : "?");
        flow_sb_puts(&b, ")");
        if (im->key) {
            flow_sb_puts(&b, " ON CONFLICT (");
            flow_sql_ident(&b, im->key);
            flow_sb_puts(&b, ")");
            int any = 0;
            for (int i = 0; i < r->n; i++) {
                if (strcmp(r->name[i], im->key) == 0) continue;
                flow_sb_puts(&b, any ? ", " : " DO UPDATE SET ");
                flow_sql_ident(&b, r->name[i]);
                flow_sb_puts(&b, " = excluded.");
                flow_sql_ident(&b, r->name[i]);
                any = 1;
            }
            if (!any) flow_sb_puts(&b, " DO NOTHING");
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(im->d->db, b.p, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        flow_err_set(e, FLOW_ERR_VALUE, "%s", sqlite3_errmsg(im->d->db));
        free(b.p);
        return NULL;
    }
    free(b.p);
    Stmt *s = flow_xcalloc(1, sizeof *s);
    s->ncols = r->n;
    s->cols = flow_xcalloc((size_t)s->ncols + 1, sizeof *s->cols);
    for (int i = 0; i < r->n; i++) s->cols[i] = flow_xstrdup(r->name[i]);
    s->st = st;
    s->has_key = im->key && row_has(r, im->key);
    s->stat = r->stat;
    s->next = im->stmts;
    im->stmts = s;
    im->nstmts++;
    return s;
}

static int di_existing(void *h, const cJSON *rs, const cJSON *out, cJSON **existing, FlowErr *err) {
    DbImport *im = h;
    *existing = NULL;
    if (!im->key || !cJSON_IsObject(out)) return 0;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(out, im->key);
    if (!key || !table_exists(im)) return 0;
    if (!im->find) {
        FlowSb b = { 0 };
        flow_sb_puts(&b, "SELECT * FROM ");
        flow_sql_ident(&b, im->table);
        flow_sb_puts(&b, " WHERE ");
        flow_sql_ident(&b, im->key);
        flow_sb_puts(&b, " = ? LIMIT 1");
        int rc = sqlite3_prepare_v2(im->d->db, b.p, -1, &im->find, NULL);
        free(b.p);
        if (rc != SQLITE_OK) {
            flow_err_set(err, FLOW_ERR_VALUE, "%s", sqlite3_errmsg(im->d->db));
            sqlite3_finalize(im->find);
            im->find = NULL;
            return 1;
        }
    }
    sqlite3_reset(im->find);
    bind_value(im->find, 1, key, 0);
    int rc = sqlite3_step(im->find);
    if (rc == SQLITE_ROW) {
        FlowErr re;
        cols_load(&im->cols, im->find);
        cJSON *o = row_object(im->find, &im->cols, &re);
        if (re.msg[0]) {   /* the existing row holds a value flowc cannot read: the record cannot be mapped */
            cJSON_Delete(o);
            flow_err_set(err, re.cls, "the existing row's %s", re.msg);
            sqlite3_reset(im->find);
            return 1;
        }
        *existing = o;
    } else if (rc != SQLITE_DONE) {
        flow_err_set(err, fatal_rc(rc) ? FLOW_ERR_CONNECTION : FLOW_ERR_VALUE, "%s", sqlite3_errmsg(im->d->db));
        sqlite3_reset(im->find);
        return fatal_rc(rc) ? -1 : 1;
    }
    sqlite3_reset(im->find);
    return 0;
}

static int di_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    DbImport *im = h;
    sqlite3 *db = im->d->db;
    char *msg = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "%s: cannot start a transaction: %s", im->d->path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        FlowImportItem *it = &items[i];
        Row *r = &im->row;
        if (row_of(r, it)) {
            flow_import_fail(it, FLOW_ERR_VALUE, "a row for table %s must be an object", im->table);
            continue;
        }
        Stmt *cs = cached_stmt(im, r);
        if (im->key && !(cs ? cs->has_key : row_has(r, im->key))) {
            flow_import_fail(it, FLOW_ERR_VALUE, "the upsert key `%s` is missing from the row", im->key);
            continue;
        }
        if (!cs) {
            FlowErr e;
            flow_err_clear(&e);
            if ((!table_exists(im) && create_table(im, r, &e)) || !(cs = insert_stmt(im, r, &e))) {
                flow_import_fail(it, e.cls, "%s", e.msg);
                continue;
            }
        }
        sqlite3_stmt *st = cs->st;
        for (int k = 0; k < r->n; k++) bind_val(st, k + 1, r->v[k]);   /* every parameter, each time */
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            int ext = sqlite3_extended_errcode(db);
            if (fatal_rc(rc)) {
                flow_err_set(err, FLOW_ERR_CONNECTION, "%s: %s", im->d->path, sqlite3_errmsg(db));
                sqlite3_reset(st);
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return -1;
            }
            flow_import_fail(it, ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY ? FLOW_ERR_DUPLICATE : FLOW_ERR_VALUE,
                              "table %s: %s", im->table, sqlite3_errmsg(db));
        }
        sqlite3_reset(st);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "%s: cannot commit: %s", im->d->path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* the connection proven (probe.c): the file reachable with the access its steps need, then opened
 * read-only (nothing is created) and `SELECT 1 FROM sqlite_master` (a file that is not a database
 * fails here) */
static int db_probe(const FlowSettings *s, unsigned uses, cJSON *info, FlowErr *err) {
    const char *path = flow_setting_str(s, NULL, "path", "");
    if (strcmp(path, ":memory:") == 0) { cJSON_AddStringToObject(info, "note", "an in-memory database: each run has its own"); return 0; }
    if (flow_probe_path(path, 0, uses, info, err)) return -1;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "exists"))) return 0;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) flow_err_set(err, FLOW_ERR_CONNECTION, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

const FlowConnector flow_conn_sqlite = {
    .kind = "sqlite",
    .sql = 1,
    .open = db_open, .close = db_close, .probe = db_probe,
    .export_open = dx_open, .export_next = dx_next, .export_close = dx_close, .export_mark = dx_mark,
    .lookup_open = dl_open, .lookup = dl_lookup, .lookup_close = dl_close,
    .import_open = di_open, .import_existing = di_existing, .import_page = di_page, .import_close = di_close,
    .import_vals = 1,
};
