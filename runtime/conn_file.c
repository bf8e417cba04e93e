/* conn_file.c — the file connector: exports read `file` (a path relative to the connection's
 * `dir`, or a glob) as NDJSON, a JSON array or CSV; imports write records grouped by their resolved
 * `file` name, each into a temporary file in the same directory that is renamed over the target at
 * the end of a successful run (and removed after a failed one). Also the NDJSON reader and writer
 * that the stdio connector shares. */
#include "engine.h"
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FMT_NDJSON, FMT_JSON, FMT_CSV };

static int format_of(const char *s) {
    return strcmp(s, "json") == 0 ? FMT_JSON : strcmp(s, "csv") == 0 ? FMT_CSV : FMT_NDJSON;
}

/* ---- NDJSON (shared with conn_stdio.c) ---- */

struct FlowNdjson {
    FILE *f;
    char *name;
    int close_file;
    char *line; size_t cap;
    long lineno;
};

FlowNdjson *flow_ndjson_open(FILE *f, const char *name, int close_file) {
    FlowNdjson *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->f = f;
    r->name = flow_xstrdup(name);
    r->close_file = close_file;
    return r;
}

void flow_ndjson_close(FlowNdjson *r) {
    if (!r) return;
    if (r->close_file && r->f) fclose(r->f);
    free(r->line);
    free(r->name);
    free(r);
}

static int only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

int flow_ndjson_next(FlowNdjson *r, FlowExportItem *it, FlowErr *err) {
    for (;;) {
        errno = 0;
        ssize_t got = getline(&r->line, &r->cap, r->f);
        if (got < 0) {
            if (ferror(r->f)) {
                flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s: %s", r->name, strerror(errno ? errno : EIO));
                return FLOW_NEXT_FAIL;
            }
            return FLOW_NEXT_END;
        }
        r->lineno++;
        size_t n = (size_t)got;
        char *s = r->line;
        if (r->lineno == 1 && n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF) {
            s += 3;
            n -= 3;
        }
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
        s[n] = 0;
        if (only_space(s, n)) continue;
        it->bytes = n;
        if (n > FLOW_PAGE_MAX_BYTES) {
            flow_err_set(&it->err, FLOW_ERR_TOO_LARGE, "line %ld of %s is %.1f MB, over the 5 MB page limit", r->lineno,
                         r->name, (double)n / (1024.0 * 1024.0));
            return FLOW_NEXT_ERROR;
        }
        FlowJsonError je;
        cJSON *j = flow_json_parse(s, n, &je);
        if (!j) {
            flow_err_set(&it->err, FLOW_ERR_PARSE, "line %ld of %s: malformed JSON at column %ld: %s", r->lineno, r->name, je.col, je.msg);
            it->rec = flow_json_raw_text(s, n);
            return FLOW_NEXT_ERROR;
        }
        if (!cJSON_IsObject(j)) {
            flow_err_set(&it->err, FLOW_ERR_PARSE, "line %ld of %s: a record must be a JSON object, got %s", r->lineno,
                         r->name, flow_json_desc(j));
            it->rec = j;
            return FLOW_NEXT_ERROR;
        }
        it->rec = j;
        return FLOW_NEXT_RECORD;
    }
}

int flow_ndjson_write(FILE *f, const cJSON *rec) {
    /* most records print into a stack buffer; only big ones need a heap buffer (the same exact printer) */
    char small[8192];
    size_t n;
    char *t = flow_json_print_into(rec, small, sizeof small, &n);
    if (!t) return -1;
    int bad = fwrite(t, 1, n, f) != n || putc('\n', f) == EOF;
    if (t != small) cJSON_free(t);
    return bad ? -1 : 0;
}

int flow_mkdir_p(const char *dir, FlowErr *err) {
    char *p = flow_xstrdup(dir);
    int rc = 0;
    for (char *q = p + 1;; q++) {
        int end = *q == 0;
        if (*q != '/' && !end) continue;
        *q = 0;
        struct stat st;
        if (p[0] && mkdir(p, 0777) != 0 && errno != EEXIST) rc = errno;
        else if (p[0] && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) rc = ENOTDIR;
        if (rc) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot create directory %s: %s", p, strerror(rc));
            break;
        }
        if (end) break;
        *q = '/';
    }
    free(p);
    return rc ? -1 : 0;
}

/* ---- CSV reading (RFC 4180: quoted fields, "" escapes, CRLF or LF, newlines inside quotes) ---- */

typedef struct Csv {
    FILE *f;
    long line;               /* the physical line being read, 1-based */
    char *buf; size_t len, cap;
    size_t *starts; int nf, capf;
    char **hdr; int nhdr;
} Csv;

static void csv_put(Csv *c, char ch) {
    if (c->len + 1 >= c->cap) { c->cap = c->cap ? c->cap * 2 : 256; c->buf = flow_xrealloc(c->buf, c->cap); }
    c->buf[c->len++] = ch;
}

static void csv_field(Csv *c) {
    if (c->nf == c->capf) { c->capf = c->capf ? c->capf * 2 : 16; c->starts = flow_xrealloc(c->starts, sizeof *c->starts * (size_t)c->capf); }
    c->starts[c->nf++] = c->len;
}

/* 1 a row (fields NUL-separated in buf), 0 the end, -1 an unterminated quote, -2 a read error */
static int csv_row(Csv *c, long *start) {
    for (;;) {
        c->len = 0;
        c->nf = 0;
        int ch = getc(c->f);
        if (ch == EOF) return ferror(c->f) ? -2 : 0;
        *start = c->line;
        int inq = 0, quoted = 0;
        csv_field(c);
        for (;;) {
            if (inq) {
                if (ch == EOF) return ferror(c->f) ? -2 : -1;
                if (ch == '"') {
                    int nx = getc(c->f);
                    if (nx == '"') csv_put(c, '"');
                    else { inq = 0; ch = nx; continue; }
                } else {
                    if (ch == '\n') c->line++;
                    csv_put(c, (char)ch);
                }
                ch = getc(c->f);
                continue;
            }
            if (ch == ',') { csv_put(c, 0); csv_field(c); ch = getc(c->f); continue; }
            if (ch == '\r') {
                int nx = getc(c->f);
                if (nx != '\n' && nx != EOF) ungetc(nx, c->f);
                ch = '\n';
            }
            if (ch == '\n' || ch == EOF) {
                csv_put(c, 0);
                if (ch == '\n') c->line++;
                break;
            }
            if (ch == '"' && c->len == c->starts[c->nf - 1]) { inq = 1; quoted = 1; ch = getc(c->f); continue; }
            csv_put(c, (char)ch);
            ch = getc(c->f);
        }
        if (ferror(c->f)) return -2;
        if (c->nf == 1 && c->len == 1 && !quoted) continue;    /* a blank line */
        return 1;
    }
}

static void csv_free(Csv *c) {
    if (!c) return;
    for (int i = 0; i < c->nhdr; i++) free(c->hdr[i]);
    free(c->hdr);
    free(c->buf);
    free(c->starts);
    free(c);
}

/* ---- the connection ---- */

typedef struct Out {           /* one file being written */
    struct Out *next;          /* in creation order */
    char *path, *tmp;
    FILE *f;
    int format;
    long count;
    char **cols; int ncols;    /* CSV header */
    unsigned long used;        /* for closing the least recently used when too many are open */
} Out;

#define MAX_OPEN_OUTS 64

typedef struct FileConn {
    char *dir;
    Out *outs, *last;
    int nopen;
    unsigned long tick;
} FileConn;

static char *join_path(const char *dir, const char *file) {
    if (file[0] == '/' || !dir[0] || strcmp(dir, ".") == 0) return flow_xstrdup(file);
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (!p) abort();
    snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
    return p;
}

static void *fc_open(const FlowSettings *s, unsigned uses, FlowErr *err) {
    FileConn *fc = calloc(1, sizeof *fc);
    if (!fc) abort();
    fc->dir = flow_xstrdup(flow_setting_str(s, NULL, "dir", "."));
    struct stat st;
    int bad = stat(fc->dir, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (bad == ENOENT && (uses & FLOW_USE_IMPORT) && !(uses & FLOW_USE_EXPORT)) {
        /* a connection that is only written to: its dir is made on first use */
        if (flow_mkdir_p(fc->dir, err)) {
            free(fc->dir);
            free(fc);
            return NULL;
        }
        bad = 0;
    }
    if (bad) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "dir %s: %s", fc->dir, strerror(bad));
        free(fc->dir);
        free(fc);
        return NULL;
    }
    return fc;
}

static void out_free(Out *o, int remove_tmp) {
    if (o->f) fclose(o->f);
    if (remove_tmp && o->tmp) unlink(o->tmp);
    for (int i = 0; i < o->ncols; i++) free(o->cols[i]);
    free(o->cols);
    free(o->path);
    free(o->tmp);
    free(o);
}

static int fc_finish(void *h, int ok, FlowErr *err) {
    FileConn *fc = h;
    int rc = 0;
    for (Out *o = fc->outs, *next; o; o = next) {
        next = o->next;
        if (ok && rc == 0) {
            if (!o->f && !(o->f = fopen(o->tmp, "a"))) {
                flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(errno));
                rc = -1;
            } else {
                int bad = o->format == FMT_JSON && fputs("\n]\n", o->f) == EOF;
                bad = bad || fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;
                bad = fclose(o->f) != 0 || bad;
                o->f = NULL;
                if (bad || rename(o->tmp, o->path) != 0) {
                    flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(errno));
                    rc = -1;
                } else {
                    free(o->tmp);
                    o->tmp = NULL;
                }
            }
        }
        out_free(o, 1);
    }
    fc->outs = fc->last = NULL;
    fc->nopen = 0;
    return rc;
}

static void fc_close(void *h) {
    FileConn *fc = h;
    for (Out *o = fc->outs, *next; o; o = next) { next = o->next; out_free(o, 1); }
    free(fc->dir);
    free(fc);
}

/* ---- exports ---- */

typedef struct FileExport {
    FileConn *fc;
    int format;
    char **paths; size_t npaths, next;
    char *cur;                 /* the file being read */
    FILE *f;
    FlowNdjson *nd;
    cJSON *arr; long elem;     /* JSON: the array, the next element's number */
    Csv *csv;
} FileExport;

static void fe_close_current(FileExport *x) {
    if (x->nd) { flow_ndjson_close(x->nd); x->f = NULL; }
    if (x->f) fclose(x->f);
    x->nd = NULL;
    x->f = NULL;
    cJSON_Delete(x->arr);
    x->arr = NULL;
    csv_free(x->csv);
    x->csv = NULL;
    free(x->cur);
    x->cur = NULL;
}

static void fe_close(void *h) {
    FileExport *x = h;
    if (!x) return;
    fe_close_current(x);
    for (size_t i = 0; i < x->npaths; i++) free(x->paths[i]);
    free(x->paths);
    free(x);
}

static int open_current(FileExport *x, FlowErr *err) {
    const char *path = x->paths[x->next++];
    x->cur = flow_xstrdup(path);
    x->f = fopen(path, "rb");
    if (!x->f) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (x->format == FMT_NDJSON) {
        x->nd = flow_ndjson_open(x->f, path, 1);
        return 0;
    }
    if (x->format == FMT_JSON) {
        size_t cap = 65536, n = 0, got;
        char *buf = malloc(cap);
        if (!buf) abort();
        while ((got = fread(buf + n, 1, cap - n - 1, x->f)) > 0) {
            n += got;
            if (n + 1 >= cap) { cap *= 2; buf = flow_xrealloc(buf, cap); }
        }
        if (ferror(x->f)) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s: %s", path, strerror(errno));
            free(buf);
            return -1;
        }
        buf[n] = 0;
        FlowJsonError je;
        x->arr = flow_json_parse(buf, n, &je);
        if (!x->arr) {
            flow_err_set(err, FLOW_ERR_PARSE, "%s: malformed JSON at line %ld, column %ld: %s", path, je.line, je.col, je.msg);
            free(buf);
            return -1;
        }
        free(buf);
        if (!cJSON_IsArray(x->arr)) {
            flow_err_set(err, FLOW_ERR_PARSE, "%s must hold a JSON array of records, not %s", path, flow_json_desc(x->arr));
            return -1;
        }
        x->elem = 0;
        return 0;
    }
    /* CSV: the header row */
    Csv *c = x->csv = calloc(1, sizeof *c);
    if (!c) abort();
    c->f = x->f;
    c->line = 1;
    int b0 = getc(c->f);
    if (b0 == 0xEF) {
        int b1 = getc(c->f), b2 = getc(c->f);
        if (b1 != 0xBB || b2 != 0xBF) { rewind(c->f); }
    } else if (b0 != EOF) ungetc(b0, c->f);
    long start;
    int r = csv_row(c, &start);
    if (r < 0) {
        flow_err_set(err, FLOW_ERR_PARSE, r == -1 ? "%s: unterminated quoted field in the header" : "cannot read %s", path);
        return -1;
    }
    if (r == 0) return 0;    /* an empty file: no records */
    c->nhdr = c->nf;
    c->hdr = calloc((size_t)c->nf, sizeof *c->hdr);
    if (!c->hdr) abort();
    for (int i = 0; i < c->nf; i++) {
        c->hdr[i] = flow_xstrdup(c->buf + c->starts[i]);
        for (int k = 0; k < i; k++)
            if (strcmp(c->hdr[k], c->hdr[i]) == 0) {
                flow_err_set(err, FLOW_ERR_PARSE, "%s: the header has column `%s` twice", path, c->hdr[i]);
                return -1;
            }
    }
    return 0;
}

static int next_in_current(FileExport *x, FlowExportItem *it, FlowErr *err) {
    if (x->nd) return flow_ndjson_next(x->nd, it, err);
    if (x->arr) {
        cJSON *e = x->arr->child;
        if (!e) return FLOW_NEXT_END;
        cJSON_DetachItemViaPointer(x->arr, e);
        x->elem++;
        if (!cJSON_IsObject(e)) {
            flow_err_set(&it->err, FLOW_ERR_PARSE, "element %ld of %s: a record must be a JSON object, got %s", x->elem,
                         x->cur, flow_json_desc(e));
            it->rec = e;
            return FLOW_NEXT_ERROR;
        }
        it->rec = e;
        return FLOW_NEXT_RECORD;
    }
    Csv *c = x->csv;
    if (!c || !c->hdr) return FLOW_NEXT_END;
    long start = 0;
    int r = csv_row(c, &start);
    if (r == 0) return FLOW_NEXT_END;
    if (r == -2) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s: %s", x->cur, strerror(errno ? errno : EIO));
        return FLOW_NEXT_FAIL;
    }
    if (r == -1) {
        flow_err_set(&it->err, FLOW_ERR_PARSE, "line %ld of %s: unterminated quoted field", start, x->cur);
        return FLOW_NEXT_ERROR;
    }
    size_t bytes = c->len;
    if (c->nf != c->nhdr) {
        flow_err_set(&it->err, FLOW_ERR_PARSE, "line %ld of %s: %d fields, but the header has %d", start, x->cur, c->nf, c->nhdr);
        it->rec = cJSON_CreateArray();
        for (int i = 0; i < c->nf; i++) cJSON_AddItemToArray(it->rec, cJSON_CreateString(c->buf + c->starts[i]));
        return FLOW_NEXT_ERROR;
    }
    it->rec = cJSON_CreateObject();
    int nul = -1;    /* a cell holding a NUL byte cannot be carried as text (the engine checks the rest) */
    for (int i = 0; i < c->nf; i++) {
        size_t n = (i + 1 < c->nf ? c->starts[i + 1] : c->len) - c->starts[i] - 1;
        int has_nul = strlen(c->buf + c->starts[i]) != n;
        if (has_nul && nul < 0) nul = i;
        cJSON_AddItemToObject(it->rec, c->hdr[i], has_nul ? flow_json_raw_text(c->buf + c->starts[i], n)
                                                         : cJSON_CreateString(c->buf + c->starts[i]));
    }
    it->bytes = bytes;
    if (nul >= 0) {   /* kept as its JSON text (the NUL as U+FFFD), not as a record */
        flow_err_set(&it->err, FLOW_ERR_VALUE, "line %ld of %s: column `%s` holds a NUL byte, which text cannot carry", start,
                     x->cur, c->hdr[nul]);
        it->rec = flow_json_to_text(it->rec);
        return FLOW_NEXT_ERROR;
    }
    return FLOW_NEXT_RECORD;
}

static int fe_next(void *h, FlowExportItem *it, FlowErr *err) {
    FileExport *x = h;
    for (;;) {
        if (!x->f && !x->nd) {
            if (x->next >= x->npaths) return FLOW_NEXT_END;
            if (open_current(x, err)) return FLOW_NEXT_FAIL;
        }
        int r = next_in_current(x, it, err);
        if (r == FLOW_NEXT_RECORD && x->format == FMT_CSV) it->text_values = 1;
        if (r != FLOW_NEXT_END) return r;
        fe_close_current(x);
    }
}

static void *fe_open(void *conn, const FlowSettings *s, FlowErr *err) {
    FileConn *fc = conn;
    FileExport *x = calloc(1, sizeof *x);
    if (!x) abort();
    x->fc = fc;
    x->format = format_of(flow_setting_str(s, NULL, "format", "ndjson"));
    char *path = join_path(fc->dir, flow_setting_str(s, NULL, "file", ""));
    if (strpbrk(path, "*?[")) {
        glob_t g;
        int r = glob(path, GLOB_ERR, NULL, &g);
        if (r != 0 || g.gl_pathc == 0) {
            flow_err_set(err, FLOW_ERR_CONNECTION, r == GLOB_NOMATCH || r == 0 ? "no file matches %s" : "cannot list files for %s", path);
            if (r == 0) globfree(&g);
            free(path);
            free(x);
            return NULL;
        }
        x->paths = calloc(g.gl_pathc, sizeof *x->paths);
        if (!x->paths) abort();
        for (size_t i = 0; i < g.gl_pathc; i++) x->paths[x->npaths++] = flow_xstrdup(g.gl_pathv[i]);
        globfree(&g);
        free(path);
    } else {
        /* a missing input fails the run before any record moves */
        if (access(path, R_OK) != 0) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s: %s", path, strerror(errno));
            free(path);
            free(x);
            return NULL;
        }
        x->paths = calloc(1, sizeof *x->paths);
        if (!x->paths) abort();
        x->paths[x->npaths++] = path;
    }
    return x;
}

/* ---- imports ---- */

typedef struct FileImport { FileConn *fc; const FlowSettings *s; } FileImport;

static void *fi_open(void *conn, const FlowSettings *s, FlowErr *err) {
    FileImport *im = calloc(1, sizeof *im);
    if (!im) abort();
    im->fc = conn;
    im->s = s;
    return im;
}

static void fi_close(void *h) { free(h); }

/* a resolved file name must stay inside the connection's dir */
static int name_ok(const char *name) {
    if (!name[0] || name[0] == '/' || name[strlen(name) - 1] == '/') return 0;
    for (const char *p = name; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 0;
        if (!slash) break;
        p = slash + 1;
    }
    return 1;
}

/* closes the least recently used output when too many are open; 0, or -1 with err */
static int make_room(FileConn *fc, FlowErr *err) {
    if (fc->nopen < MAX_OPEN_OUTS) return 0;
    Out *lru = NULL;
    for (Out *p = fc->outs; p; p = p->next)
        if (p->f && (!lru || p->used < lru->used)) lru = p;
    if (!lru) return 0;
    int bad = fclose(lru->f) != 0;
    lru->f = NULL;
    fc->nopen--;
    if (bad) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", lru->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int out_reopen(FileConn *fc, Out *o, FlowErr *err) {
    o->used = ++fc->tick;
    if (o->f) return 0;
    if (make_room(fc, err)) return -1;
    o->f = fopen(o->tmp, "a");
    if (!o->f) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(errno));
        return -1;
    }
    fc->nopen++;
    return 0;
}

static Out *out_get(FileConn *fc, const char *path, int format, FlowErr *err) {
    for (Out *o = fc->outs; o; o = o->next)
        if (strcmp(o->path, path) == 0) return out_reopen(fc, o, err) ? NULL : o;
    Out *o = calloc(1, sizeof *o);
    if (!o) abort();
    o->path = flow_xstrdup(path);
    o->format = format;
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    size_t tl = strlen(path) + 16;
    o->tmp = malloc(tl);
    if (!o->tmp) abort();
    snprintf(o->tmp, tl, "%.*s.%s.XXXXXX", (int)dl, path, path + dl);
    if (make_room(fc, err)) {
        out_free(o, 0);
        return NULL;
    }
    if (dl > 1) {   /* subdirectories a per-record name asks for */
        char *sub = malloc(dl);
        if (!sub) abort();
        memcpy(sub, path, dl - 1);
        sub[dl - 1] = 0;
        struct stat st;
        FlowErr e;
        int bad = stat(sub, &st) != 0 && flow_mkdir_p(sub, &e);
        free(sub);
        if (bad) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", path, e.msg);
            out_free(o, 0);
            return NULL;
        }
    }
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        out_free(o, 0);
        return NULL;
    }
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0) { /* the file stays 0600: not an error */ }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        out_free(o, 1);
        return NULL;
    }
    fc->nopen++;
    o->used = ++fc->tick;
    if (fc->last) fc->last->next = o;
    else fc->outs = o;
    fc->last = o;
    return o;
}

/* one CSV field, quoted when it holds a comma, a quote, a line break or edge spaces */
static int csv_put_text(FILE *f, const char *s) {
    int bad = 0;
    size_t n = strlen(s);
    if (strpbrk(s, ",\"\r\n") || (n && (s[0] == ' ' || s[n - 1] == ' '))) {
        bad |= putc('"', f) == EOF;
        for (const char *p = s; *p && !bad; p++) {
            if (*p == '"') bad |= putc('"', f) == EOF;
            bad |= putc(*p, f) == EOF;
        }
        bad |= putc('"', f) == EOF;
    } else if (n) bad |= fputs(s, f) == EOF;
    return bad ? -1 : 0;
}

static int csv_put_value(FILE *f, const cJSON *v) {
    char num[40];
    char *owned = NULL;
    const char *s;
    if (!v || cJSON_IsNull(v)) s = "";
    else if (cJSON_IsString(v)) s = v->valuestring;
    else if (cJSON_IsNumber(v)) s = flow_json_num_text(v, num);   /* as in JSON: ints with all their digits */
    else if (cJSON_IsBool(v)) s = cJSON_IsTrue(v) ? "true" : "false";
    else s = owned = flow_json_print(v);
    if (!s) return -1;
    int bad = csv_put_text(f, s);
    cJSON_free(owned);
    return bad;
}

static int fi_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    FileImport *im = h;
    FileConn *fc = im->fc;
    for (int i = 0; i < n; i++) {
        FlowImportItem *it = &items[i];
        const char *name = flow_setting_str(im->s, it->rs, "file", "");
        int format = format_of(flow_setting_str(im->s, it->rs, "format", "ndjson"));
        if (!name_ok(name)) {
            it->failed = 1;
            flow_err_set(&it->err, FLOW_ERR_VALUE, "file name \"%.200s\" must be a relative path inside the connection's dir", name);
            continue;
        }
        if (format == FMT_CSV && !cJSON_IsObject(it->out)) {
            it->failed = 1;
            flow_err_set(&it->err, FLOW_ERR_VALUE, "a CSV row must be an object, got %s", flow_json_desc(it->out));
            continue;
        }
        char *path = join_path(fc->dir, name);
        Out *o = out_get(fc, path, format, err);
        free(path);
        if (!o) return -1;
        if (o->format != format) {
            it->failed = 1;
            flow_err_set(&it->err, FLOW_ERR_VALUE, "%s is already written as %s", o->path,
                         o->format == FMT_JSON ? "json" : o->format == FMT_CSV ? "csv" : "ndjson");
            continue;
        }
        int bad = 0;
        if (format == FMT_NDJSON) bad = flow_ndjson_write(o->f, it->out);
        else if (format == FMT_JSON) {
            char *t = flow_json_print(it->out);
            bad = !t || fputs(o->count ? ",\n" : "[\n", o->f) == EOF || fputs(t, o->f) == EOF;
            cJSON_free(t);
        } else {
            if (!o->count) {
                for (const cJSON *c = it->out->child; c; c = c->next) o->ncols++;
                o->cols = calloc((size_t)o->ncols + 1, sizeof *o->cols);
                if (!o->cols) abort();
                int k = 0;
                for (const cJSON *c = it->out->child; c; c = c->next, k++) {
                    o->cols[k] = flow_xstrdup(c->string);
                    bad |= (k && putc(',', o->f) == EOF) || csv_put_text(o->f, c->string);
                }
                bad |= putc('\n', o->f) == EOF;
            }
            const cJSON *extra = NULL;
            for (const cJSON *c = it->out->child; c && !extra; c = c->next) {
                int found = 0;
                for (int k = 0; k < o->ncols && !found; k++) found = strcmp(o->cols[k], c->string) == 0;
                if (!found) extra = c;
            }
            if (extra) {
                it->failed = 1;
                flow_err_set(&it->err, FLOW_ERR_VALUE, "field `%s` is not a column of %s (its columns come from the first record)",
                             extra->string, o->path);
                continue;
            }
            for (int k = 0; k < o->ncols && !bad; k++) {
                if (k) bad |= putc(',', o->f) == EOF;
                bad |= csv_put_value(o->f, cJSON_GetObjectItemCaseSensitive(it->out, o->cols[k]));
            }
            bad |= putc('\n', o->f) == EOF;
        }
        if (bad) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(errno ? errno : EIO));
            return -1;
        }
        o->count++;
    }
    for (Out *o = fc->outs; o; o = o->next)
        if (o->f && fflush(o->f) != 0) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(errno));
            return -1;
        }
    return 0;
}

const FlowConnector flow_conn_file = {
    .kind = "file",
    .commits_at_finish = 1,
    .open = fc_open, .finish = fc_finish, .close = fc_close,
    .export_open = fe_open, .export_next = fe_next, .export_close = fe_close,
    .import_open = fi_open, .import_page = fi_page, .import_close = fi_close,
};
