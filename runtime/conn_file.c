/* conn_file.c — the file connector: exports read `file` (a path relative to the connection's
 * `dir`, or a glob) as NDJSON, a JSON array or CSV; imports write records grouped by their resolved
 * `file` name, each into a temporary file in the same directory that is renamed over the target at
 * the end of a successful run (and removed after a failed one); `write = append` (the default) first
 * copies what the target held; each open target's bytes go through a writer (writer.c), several
 * pages at once. Also the readers every record source shares: NDJSON lines (the stdio connector's
 * too) and CSV rows, both through one buffered reader that tells a read error from the end. */
#include "engine.h"
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FMT_NDJSON, FMT_JSON, FMT_CSV };

static int format_of(const char *s) {
    return strcmp(s, "json") == 0 ? FMT_JSON : strcmp(s, "csv") == 0 ? FMT_CSV : FMT_NDJSON;
}

static const char *format_name(int f) { return f == FMT_JSON ? "json" : f == FMT_CSV ? "csv" : "ndjson"; }

/* ---- reading: a descriptor through our own buffer ----
 * read() into a buffer that keeps only what the record being read needs (bounded by the page limit
 * for lines and rows), so that a huge line costs no memory, a read error or a failed allocation is
 * an error (never taken for the end of the input), and a CSV row can be read again from its start. */

typedef struct In {
    int fd, close_fd;
    char *buf;
    size_t cap;
    size_t mark;    /* buf[mark..end) is kept when more is read (the record being read) */
    size_t pos;     /* buf[pos..end) is not consumed yet */
    size_t end;
    int eof;        /* read() said the end */
    int err;        /* the errno of a failed read or allocation */
} In;

static size_t read_limit;   /* at most this many bytes per read() (0: as many as fit); for the fuzz targets */
void flow_read_limit(size_t n) { read_limit = n; }

#define IN_CHUNK ((size_t)65536)

static void in_init(In *in, int fd, int close_fd) {
    memset(in, 0, sizeof *in);
    in->fd = fd;
    in->close_fd = close_fd;
}

static void in_free(In *in) {
    if (in->close_fd && in->fd >= 0) close(in->fd);
    in->fd = -1;
    free(in->buf);
    in->buf = NULL;
}

/* Reads more after end; bytes before mark are let go. 1 read some, 0 the end, -1 an error (in->err).
 * There is always a spare byte after end (for a terminating NUL). */
static int in_fill(In *in) {
    if (in->err) return -1;
    if (in->eof) return 0;
    if (in->mark > 0) {
        memmove(in->buf, in->buf + in->mark, in->end - in->mark);
        in->pos -= in->mark;
        in->end -= in->mark;
        in->mark = 0;
    }
    if (in->cap - in->end < IN_CHUNK / 4 + 1) {
        size_t ncap = in->cap ? in->cap * 2 : IN_CHUNK;
        char *nb = realloc(in->buf, ncap);
        if (!nb) { in->err = ENOMEM; return -1; }
        in->buf = nb;
        in->cap = ncap;
    }
    size_t want = in->cap - in->end - 1;
    if (read_limit && want > read_limit) want = read_limit;
    for (;;) {
        /* wait for data with poll(), which a signal always interrupts (read() is restarted): a run
         * told to stop (SIGTERM, SIGINT) while its input is a quiet pipe stops, as a read error */
        if (flow_interrupted()) { in->err = EINTR; return -1; }
        struct pollfd p = { .fd = in->fd, .events = POLLIN };
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR) continue;
            in->err = errno;
            return -1;
        }
        ssize_t r = read(in->fd, in->buf + in->end, want);
        if (r > 0) { in->end += (size_t)r; return 1; }
        if (r == 0) { in->eof = 1; return 0; }
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        in->err = errno ? errno : EIO;
        return -1;
    }
}

/* the whole input (a JSON array file): *n bytes, NUL-terminated; -1 on a read error (in->err) */
static char *in_all(In *in, size_t *n) {
    in->mark = 0;
    int r;
    while ((r = in_fill(in)) > 0) {}
    if (r < 0) return NULL;
    in->buf[in->end] = 0;
    *n = in->end;
    return in->buf;
}

/* skips a UTF-8 byte order mark at the start; -1 on a read error */
static int in_skip_bom(In *in) {
    while (in->end - in->pos < 3 && !in->eof) if (in_fill(in) < 0) return -1;
    if (in->end - in->pos >= 3 && memcmp(in->buf + in->pos, "\xEF\xBB\xBF", 3) == 0) in->pos += 3;
    return 0;
}

static int only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

/* ---- NDJSON (shared with conn_stdio.c) ---- */

struct FlowNdjson {
    In in;
    char *name;
    long lineno;
};

FlowNdjson *flow_ndjson_open(int fd, const char *name, int close_fd) {
    FlowNdjson *r = flow_xcalloc(1, sizeof *r);
    in_init(&r->in, fd, close_fd);
    r->name = flow_xstrdup(name);
    return r;
}

void flow_ndjson_close(FlowNdjson *r) {
    if (!r) return;
    in_free(&r->in);
    free(r->name);
    free(r);
}

/* A parsed JSON value as the next record (it takes j): an object is one; anything else is a `parse`
 * error at "line|element N of FILE", kept as read. NDJSON lines and JSON array elements alike. */
static int take_record(FlowExportItem *it, cJSON *j, const char *unit, long n, const char *file) {
    it->rec = j;
    if (cJSON_IsObject(j)) return FLOW_NEXT_RECORD;
    flow_err_set(&it->err, FLOW_ERR_PARSE, "%s %ld of %s: a record must be a JSON object, got %s", unit, n, file, flow_json_desc(j));
    return FLOW_NEXT_ERROR;
}

int flow_ndjson_next(FlowNdjson *r, FlowExportItem *it, FlowErr *err) {
    In *in = &r->in;
    for (;;) {
        /* the next line: up to a newline or the end; one over the page limit is counted, not kept */
        in->mark = in->pos;
        size_t seen = 0, dropped = 0;
        char *nl = NULL;
        for (;;) {
            if (in->end > in->pos + seen && (nl = memchr(in->buf + in->pos + seen, '\n', in->end - in->pos - seen))) break;
            seen = in->end - in->pos;
            if (seen > FLOW_PAGE_MAX_BYTES) {
                dropped += seen;
                in->pos = in->mark = in->end;
                seen = 0;
            }
            int f = in_fill(in);
            if (f < 0) {
                flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s after line %ld: %s", r->name, r->lineno, strerror(in->err));
                return FLOW_NEXT_FAIL;
            }
            if (f == 0) break;
        }
        size_t n = nl ? (size_t)(nl - (in->buf + in->pos)) : in->end - in->pos;
        if (!nl && !n && !dropped) return FLOW_NEXT_END;
        char *s = in->buf + in->pos;
        in->pos += n + (nl ? 1 : 0);
        r->lineno++;
        if (dropped || n > FLOW_PAGE_MAX_BYTES) {
            it->bytes = dropped + n;
            flow_err_set(&it->err, FLOW_ERR_TOO_LARGE, "line %ld of %s is %.1f MB, over the 5 MB page limit", r->lineno,
                         r->name, (double)it->bytes / (1024.0 * 1024.0));
            return FLOW_NEXT_ERROR;
        }
        if (r->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
        s[n] = 0;
        if (only_space(s, n)) continue;
        it->bytes = n;
        if (it->typed && it->typed(it->typed_arg, s, n) == 0) return FLOW_NEXT_TYPED;
        FlowJsonError je;
        cJSON *j = flow_json_parse(s, n, &je);
        if (!j) {
            flow_err_set(&it->err, FLOW_ERR_PARSE, "line %ld of %s: malformed JSON at column %ld: %s", r->lineno, r->name, je.col, je.msg);
            it->rec = flow_json_raw_text(s, n);
            return FLOW_NEXT_ERROR;
        }
        return take_record(it, j, "line", r->lineno, r->name);
    }
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
    errno = rc;
    return rc ? -1 : 0;
}

/* ---- CSV reading ----
 * RFC 4180: fields separated by commas, rows by LF, CRLF or CR; a field that starts with a quote is
 * quoted (`""` is a quote, and it may hold commas and line breaks); a quote anywhere else, or text
 * after a quoted field's closing quote, is malformed. (A NUL byte in a cell is that record's `value`
 * error: text cannot carry it; invalid UTF-8 is left to the engine's check of every text.) A malformed row is one record error and the
 * reader goes back to the row's start and resumes at the line after its first line, so one stray
 * quote costs one row, not the rest of the file. A row over the page limit is a `too_large` error;
 * when such a row is also malformed past its first line, there is no telling where the next row
 * starts, and the read fails. */

enum { CS_START, CS_UNQ, CS_QUO, CS_QQ };   /* at a field's start, in an unquoted field, in a quoted one, after a quote in it */
enum { ROW_OK, ROW_END, ROW_BAD, ROW_BIG, ROW_FAIL };

struct FlowCsv {
    In in;
    char *name;
    long line;                 /* the physical line at in.pos, 1-based */
    int last_cr;               /* the byte before in.pos was a CR (a LF right after it ends no other line) */
    char *out; size_t len, cap;    /* the row's fields, each NUL-terminated */
    size_t *starts; int nf, capf;
    char **hdr; int nhdr;
    /* the last row */
    long row_line;             /* its first line */
    size_t row_bytes;
    char why[200];             /* ROW_BAD: what is wrong */
    cJSON *bad_text;           /* ROW_BAD: its first line (owned until taken) */
};

static void csv_put(FlowCsv *c, char ch) {
    if (c->len + 1 >= c->cap) { c->cap = c->cap ? c->cap * 2 : 256; c->out = flow_xrealloc(c->out, c->cap); }
    c->out[c->len++] = ch;
}

static void csv_field(FlowCsv *c) {
    if (c->nf == c->capf) { c->capf = c->capf ? c->capf * 2 : 16; c->starts = flow_xrealloc(c->starts, sizeof *c->starts * (size_t)c->capf); }
    c->starts[c->nf++] = c->len;
}

static int csv_read_fail(FlowCsv *c, FlowErr *err) {
    flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s at line %ld: %s", c->name, c->line, strerror(c->in.err));
    return ROW_FAIL;
}

/* consumes the rest of the current line and its line break; its text becomes bad_text */
static int csv_skip_line(FlowCsv *c, FlowErr *err) {
    In *in = &c->in;
    FlowSb b = { 0 };
    for (;;) {
        if (in->pos == in->end) {
            in->mark = in->pos;
            int f = in_fill(in);
            if (f < 0) { free(b.p); return csv_read_fail(c, err); }
            if (f == 0) break;
        }
        char ch = in->buf[in->pos++];
        if (ch == '\n' || ch == '\r') {
            c->line++;
            c->last_cr = ch == '\r';
            break;
        }
        if (b.n < 65536) flow_sb_put(&b, &ch, 1);
    }
    cJSON_Delete(c->bad_text);
    c->bad_text = flow_json_raw_text(b.p ? b.p : "", b.n);
    free(b.p);
    return ROW_BAD;
}

/* a row over the page limit whose quoted field spans lines: its start is gone, so there is no going
 * back, and a missing quote may have taken any number of rows for its text */
static int csv_lost(FlowCsv *c, FlowErr *err) {
    flow_err_set(err, FLOW_ERR_PARSE,
                 "line %ld of %s: a quoted field runs over the 5 MB page limit across several lines: a quote may be missing, "
                 "so there is no telling where the next row starts", c->row_line, c->name);
    return ROW_FAIL;
}

/* The next row: ROW_OK (its fields in out/starts), ROW_END, ROW_BAD (why; the reader is past it),
 * ROW_BIG (over the page limit; past it) or ROW_FAIL (err: a read error, or no way to resume). */
static int csv_row(FlowCsv *c, FlowErr *err) {
    In *in = &c->in;
again:
    c->len = 0;
    c->nf = 0;
    c->why[0] = 0;
    in->mark = in->pos;
    if (in->pos == in->end) {
        int f = in_fill(in);
        if (f < 0) return csv_read_fail(c, err);
        if (f == 0) return ROW_END;
    }
    if (c->last_cr && in->buf[in->pos] == '\n') {   /* the LF of a CRLF */
        in->pos++;
        c->last_cr = 0;
        goto again;
    }
    in->mark = in->pos;        /* the row's start, kept while the row is not too big */
    c->row_line = c->line;
    int state = CS_START, quoted = 0, big = 0, spans = 0;   /* spans: a quoted line break so far */
    size_t raw = 0;
    csv_field(c);
    for (;;) {
        if (in->pos == in->end) {
            if (big) in->mark = in->pos;
            int f = in_fill(in);
            if (f < 0) return csv_read_fail(c, err);
            if (f > 0) continue;
            if (state == CS_QUO) {   /* the end of the input inside a quoted field */
                snprintf(c->why, sizeof c->why, "the quoted field %d is never closed", c->nf);
                goto malformed;
            }
            if (!big) csv_put(c, 0);
            break;
        }
        char ch = in->buf[in->pos];
        switch (state) {
        case CS_START:
            if (ch == '"') { state = CS_QUO; quoted = 1; break; }
            state = CS_UNQ;
            /* fall through */
        case CS_UNQ:
            if (ch == ',') {
                if (!big) { csv_put(c, 0); csv_field(c); }
                state = CS_START;
            } else if (ch == '\n' || ch == '\r') {
                goto line_end;
            } else if (ch == '"') {
                snprintf(c->why, sizeof c->why, "a quote inside the unquoted field %d", c->nf);
                goto malformed;
            } else if (!big) csv_put(c, ch);
            break;
        case CS_QUO:
            if (ch == '"') { state = CS_QQ; break; }
            if (ch == '\r' || (ch == '\n' && !c->last_cr)) { c->line++; spans = 1; }
            if (!big) csv_put(c, ch);
            break;
        case CS_QQ:
            if (ch == '"') { if (!big) csv_put(c, '"'); state = CS_QUO; }
            else if (ch == ',') { if (!big) { csv_put(c, 0); csv_field(c); } state = CS_START; }
            else if (ch == '\n' || ch == '\r') goto line_end;
            else {
                snprintf(c->why, sizeof c->why, "text after the closing quote of field %d", c->nf);
                goto malformed;
            }
            break;
        }
        in->pos++;
        c->last_cr = ch == '\r';
        if (++raw > FLOW_PAGE_MAX_BYTES && !big) big = 1;
        if (big) in->mark = in->pos;
        continue;
    line_end:
        in->pos++;
        raw++;
        c->line++;
        c->last_cr = ch == '\r';
        if (!big) csv_put(c, 0);
        break;
    }
    c->row_bytes = raw;
    if (big && spans) return csv_lost(c, err);
    if (big) return ROW_BIG;
    if (c->nf == 1 && c->len == 1 && !quoted) goto again;   /* a blank line */
    return ROW_OK;

malformed:
    if (big) {
        /* its start is gone: only a row still on its first line can be skipped */
        if (spans) return csv_lost(c, err);
    } else {
        in->pos = in->mark;    /* back to the row's start: what follows its first line is read again */
        c->line = c->row_line;
    }
    c->last_cr = 0;
    return csv_skip_line(c, err);
}

void flow_csv_close(FlowCsv *c) {
    if (!c) return;
    in_free(&c->in);
    for (int i = 0; i < c->nhdr; i++) free(c->hdr[i]);
    free(c->hdr);
    free(c->out);
    free(c->starts);
    free(c->name);
    cJSON_Delete(c->bad_text);
    free(c);
}

FlowCsv *flow_csv_open(int fd, const char *name, int close_fd, FlowErr *err) {
    FlowCsv *c = flow_xcalloc(1, sizeof *c);
    in_init(&c->in, fd, close_fd);
    c->name = flow_xstrdup(name);
    c->line = 1;
    if (in_skip_bom(&c->in)) {
        csv_read_fail(c, err);
        flow_csv_close(c);
        return NULL;
    }
    int r = csv_row(c, err);
    if (r == ROW_END) return c;    /* an empty file: no records */
    if (r == ROW_BAD || r == ROW_BIG) {
        if (r == ROW_BIG) snprintf(c->why, sizeof c->why, "is over the 5 MB page limit");
        flow_err_set(err, FLOW_ERR_PARSE, "%s: the header (line %ld): %s", name, c->row_line, c->why);
    }
    if (r != ROW_OK) {
        flow_csv_close(c);
        return NULL;
    }
    c->hdr = flow_xcalloc((size_t)c->nf, sizeof *c->hdr);
    for (int i = 0; i < c->nf; i++) {
        c->hdr[c->nhdr++] = flow_xstrdup(c->out + c->starts[i]);
        for (int k = 0; k < i; k++)
            if (strcmp(c->hdr[k], c->hdr[i]) == 0) {
                flow_err_set(err, FLOW_ERR_PARSE, "%s: the header has column `%s` twice", name, c->hdr[i]);
                flow_csv_close(c);
                return NULL;
            }
    }
    return c;
}

int flow_csv_columns(const FlowCsv *c, const char *const **cols) {
    *cols = (const char *const *)c->hdr;
    return c->nhdr;
}

/* a row's cells as an array of texts (kept with its error when it does not match the header) */
static cJSON *csv_fields_array(const FlowCsv *c) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < c->nf && i < 1000; i++) {
        size_t n = (i + 1 < c->nf ? c->starts[i + 1] : c->len) - c->starts[i] - 1;
        cJSON_AddItemToArray(a, flow_json_raw_text(c->out + c->starts[i], n));
    }
    return a;
}

int flow_csv_next(FlowCsv *c, FlowExportItem *it, FlowErr *err) {
    if (!c->nhdr) return FLOW_NEXT_END;
    int r = csv_row(c, err);
    switch (r) {
    case ROW_END: return FLOW_NEXT_END;
    case ROW_FAIL: return FLOW_NEXT_FAIL;
    case ROW_BIG:
        it->bytes = c->row_bytes;
        flow_err_set(&it->err, FLOW_ERR_TOO_LARGE, "line %ld of %s: the row is %.1f MB, over the 5 MB page limit", c->row_line,
                     c->name, (double)c->row_bytes / (1024.0 * 1024.0));
        return FLOW_NEXT_ERROR;
    case ROW_BAD:
        flow_err_set(&it->err, FLOW_ERR_PARSE, "line %ld of %s: %s", c->row_line, c->name, c->why);
        it->rec = c->bad_text;
        c->bad_text = NULL;
        return FLOW_NEXT_ERROR;
    }
    if (c->nf != c->nhdr) {
        flow_err_set(&it->err, FLOW_ERR_PARSE, "line %ld of %s: %d fields, but the header has %d", c->row_line, c->name, c->nf, c->nhdr);
        it->rec = csv_fields_array(c);
        return FLOW_NEXT_ERROR;
    }
    it->rec = cJSON_CreateObject();
    it->bytes = c->row_bytes;
    int nul = -1;    /* a cell holding a NUL byte cannot be carried as text (the engine checks the rest) */
    for (int i = 0; i < c->nf; i++) {
        size_t n = (i + 1 < c->nf ? c->starts[i + 1] : c->len) - c->starts[i] - 1;
        int has_nul = strlen(c->out + c->starts[i]) != n;
        if (has_nul && nul < 0) nul = i;
        cJSON_AddItemToObject(it->rec, c->hdr[i], has_nul ? flow_json_raw_text(c->out + c->starts[i], n)
                                                         : cJSON_CreateString(c->out + c->starts[i]));
    }
    if (nul >= 0) {   /* kept as its JSON text (the NUL as U+FFFD), not as a record */
        flow_err_set(&it->err, FLOW_ERR_VALUE, "line %ld of %s: column `%s` holds a NUL byte, which text cannot carry", c->row_line,
                     c->name, c->hdr[nul]);
        it->rec = flow_json_to_text(it->rec);
        return FLOW_NEXT_ERROR;
    }
    it->text_values = 1;
    return FLOW_NEXT_RECORD;
}

/* ---- file names ----
 * The one rule for `file`, on exports (a name or a glob) and imports (a name, constant or per
 * record): a path relative to the connection's dir, its parts separated by `/`; `.` and empty parts
 * are dropped. Refused: an absolute path, a `..` part, a name that ends in `/` or `/.` (a directory),
 * and one that is nothing but the dir itself. NULL with the cleaned name in *clean (malloc'd), or
 * why not. The checker holds a constant `file` to it too (compiler/check.c). */
const char *flow_file_name_rule(const char *name, char **clean) {
    *clean = NULL;
    if (!name[0]) return "is empty";
    if (name[0] == '/') return "is an absolute path: it must be relative to the connection's dir";
    FlowSb b = { 0 };
    const char *last = name;
    for (const char *p = name;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            free(b.p);
            return "has a `..` part: it may not leave the connection's dir";
        }
        if (len && !(len == 1 && p[0] == '.')) {
            if (b.n) flow_sb_put(&b, "/", 1);
            flow_sb_put(&b, p, len);
        }
        last = p;
        if (!slash) break;
        p = slash + 1;
    }
    if (!b.n) return "names the connection's dir itself, not a file";
    if (!last[0] || strcmp(last, ".") == 0) {
        free(b.p);
        return "ends with `/`: it names a directory, not a file";
    }
    *clean = flow_sb_take(&b);
    return NULL;
}

/* ---- the connection ---- */

typedef struct Out Out;

typedef struct FileConn {
    char *dir;
    Out *outs, *last;
    int nopen;
    unsigned long tick;
    unsigned long sends;       /* the imports' sends so far */
} FileConn;

static char *join_path(const char *dir, const char *file) {
    if (!dir[0] || strcmp(dir, ".") == 0) return flow_xstrdup(file);
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = flow_xcalloc(1, n);
    snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
    return p;
}

static void *fc_open(const FlowSettings *s, unsigned uses, FlowErr *err) {
    FileConn *fc = flow_xcalloc(1, sizeof *fc);
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

/* ---- exports ---- */

typedef struct FileExport {
    FileConn *fc;
    int format;
    char **paths; size_t npaths, next;
    char *cur;                 /* the file being read, or NULL */
    FlowNdjson *nd;
    FlowCsv *csv;
    cJSON *arr; long elem;     /* JSON: the array, the next element's number */
} FileExport;

static void fe_close_current(FileExport *x) {
    flow_ndjson_close(x->nd);
    x->nd = NULL;
    flow_csv_close(x->csv);
    x->csv = NULL;
    cJSON_Delete(x->arr);
    x->arr = NULL;
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        fd = -1;
        errno = EISDIR;
    }
    if (fd < 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (x->format == FMT_NDJSON) {
        x->nd = flow_ndjson_open(fd, path, 1);
        return 0;
    }
    if (x->format == FMT_CSV) {
        x->csv = flow_csv_open(fd, path, 1, err);
        return x->csv ? 0 : -1;
    }
    In in;
    in_init(&in, fd, 1);
    size_t n = 0;
    char *buf = in_all(&in, &n);
    if (!buf) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s: %s", path, strerror(in.err));
        in_free(&in);
        return -1;
    }
    FlowJsonError je;
    x->arr = flow_json_parse(buf, n, &je);
    if (!x->arr) {
        flow_err_set(err, FLOW_ERR_PARSE, "%s: malformed JSON at line %ld, column %ld: %s", path, je.line, je.col, je.msg);
        in_free(&in);
        return -1;
    }
    in_free(&in);
    if (!cJSON_IsArray(x->arr)) {
        flow_err_set(err, FLOW_ERR_PARSE, "%s must hold a JSON array of records, not %s", path, flow_json_desc(x->arr));
        return -1;
    }
    x->elem = 0;
    return 0;
}

static int next_in_current(FileExport *x, FlowExportItem *it, FlowErr *err) {
    if (x->nd) return flow_ndjson_next(x->nd, it, err);
    if (x->csv) return flow_csv_next(x->csv, it, err);
    if (!x->arr) return FLOW_NEXT_END;
    cJSON *e = x->arr->child;
    if (!e) return FLOW_NEXT_END;
    cJSON_DetachItemViaPointer(x->arr, e);
    x->elem++;
    return take_record(it, e, "element", x->elem, x->cur);
}

static int fe_next(void *h, FlowExportItem *it, FlowErr *err) {
    FileExport *x = h;
    for (;;) {
        if (!x->cur) {
            if (x->next >= x->npaths) return FLOW_NEXT_END;
            if (open_current(x, err)) return FLOW_NEXT_FAIL;
        }
        int r = next_in_current(x, it, err);
        if (r != FLOW_NEXT_END) return r;
        fe_close_current(x);
    }
}

static void *fe_open(void *conn, const FlowSettings *s, FlowErr *err) {
    FileConn *fc = conn;
    const char *file = flow_setting_str(s, NULL, "file", "");
    char *clean;
    const char *why = flow_file_name_rule(file, &clean);
    if (why) {
        flow_err_set(err, FLOW_ERR_VALUE, "file \"%.200s\" %s", file, why);
        return NULL;
    }
    FileExport *x = flow_xcalloc(1, sizeof *x);
    x->fc = fc;
    x->format = format_of(flow_setting_str(s, NULL, "format", "ndjson"));
    char *path = join_path(fc->dir, clean);
    free(clean);
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
        x->paths = flow_xcalloc(g.gl_pathc, sizeof *x->paths);
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
        x->paths = flow_xcalloc(1, sizeof *x->paths);
        x->paths[x->npaths++] = path;
    }
    return x;
}

/* ---- imports ----
 * Each target the run writes is an Out: a temporary file beside it (`.NAME.XXXXXX`) that becomes the
 * target at the end of a successful run. write = replace starts it empty; write = append (the
 * default) and every `errors retry` start it with a copy of what the target holds (a JSON array
 * gains elements; a CSV target keeps its header, which must be the one this run writes), and the
 * rename happens only if the target did not change meanwhile. So a target holds what it held before
 * or that and all of the run's records: never a part of them. A target that cannot be written (a
 * directory of that name, a file it cannot be appended to) fails each record sent to it, or the run
 * when the file name is a constant. */

struct Out {
    Out *next;                 /* in creation order */
    char *path, *tmp;
    int fd;                    /* the temporary file, open (-1: closed while too many were open)... */
    FlowWriter *w;             /* ...and its writer (writer.c) while it is open */
    uint64_t wbase;            /* the bytes its writers closed before wrote (its offsets go on from there) */
    int werr;                  /* a write that failed as a writer was closed (errno): nothing after wbase is written */
    unsigned long touched;     /* the send that last put bytes into it (FileConn.sends) */
    int format;
    char *bad;                 /* why the target cannot be written: every record for it fails with this */
    long count;
    int elems;                 /* JSON: the array holds elements (copied or written) */
    char **cols; int ncols;    /* CSV: the columns */
    int append, existed;
    struct stat was;           /* append: the target as it was when copied */
    unsigned long used;        /* for closing the least recently used when too many are open */
};

#define MAX_OPEN_OUTS 64

/* A page sent (import_send) and not finished: where its bytes end in each target it wrote to. */
typedef struct FilePage {
    struct { Out *o; uint64_t end; } *v;
    int n, cap;
} FilePage;

typedef struct FileImport {
    FileConn *fc;
    const FlowSettings *s;
    int const_file;            /* `file` is a constant: a target that cannot be written fails the run */
    int retry;                 /* `errors retry`: records are added to what the targets hold */
    FilePage *pages;           /* the pages sent and not finished, a ring, oldest first */
    int head, npages, cap;
    FlowSb line;               /* a CSV row's bytes, made before they are put */
} FileImport;

static void out_free(Out *o, int remove_tmp) {
    flow_writer_free(o->w);
    if (o->fd >= 0) close(o->fd);
    if (remove_tmp && o->tmp) unlink(o->tmp);
    for (int i = 0; i < o->ncols; i++) free(o->cols[i]);
    free(o->cols);
    free(o->path);
    free(o->tmp);
    free(o->bad);
    free(o);
}

static void fc_close(void *h) {
    FileConn *fc = h;
    for (Out *o = fc->outs, *next; o; o = next) { next = o->next; out_free(o, 1); }
    free(fc->dir);
    free(fc);
}

static void out_link(FileConn *fc, Out *o) {
    if (fc->last) fc->last->next = o;
    else fc->outs = o;
    fc->last = o;
}

/* the target cannot be written: its temporary file goes, and every record for it gets this error */
static void out_bad(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_bad(Out *o, const char *fmt, ...) {
    char msg[sizeof ((FlowErr *)0)->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    free(o->bad);
    o->bad = flow_xstrdup(msg);
}

/* an Out's temporary file closed (its bytes written first; a write that fails is kept in werr and
 * reported for the pages whose bytes it held); 0, or -1 with errno when close fails */
static int out_shut(FileConn *fc, Out *o) {
    int e = flow_writer_flush(o->w);
    if (e && !o->werr) o->werr = e;
    o->wbase += flow_writer_written(o->w);   /* (all it was given, unless a write failed) */
    flow_writer_free(o->w);
    o->w = NULL;
    int bad = close(o->fd) != 0;
    o->fd = -1;
    fc->nopen--;
    return bad ? -1 : 0;
}

/* closes the least recently used output when too many are open; 0, or -1 with err */
static int make_room(FileConn *fc, FlowErr *err) {
    if (fc->nopen < MAX_OPEN_OUTS) return 0;
    Out *lru = NULL;
    for (Out *p = fc->outs; p; p = p->next)
        if (p->fd >= 0 && (!lru || p->used < lru->used)) lru = p;
    if (!lru) return 0;
    if (out_shut(fc, lru)) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", lru->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int out_reopen(FileConn *fc, Out *o, FlowErr *err) {
    o->used = ++fc->tick;
    if (o->fd >= 0) return 0;
    if (make_room(fc, err)) return -1;
    o->fd = open(o->tmp, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (o->fd < 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(errno));
        return -1;
    }
    o->w = flow_writer_new(o->fd);
    fc->nopen++;
    return 0;
}

/* where the bytes put into o so far end (the page's mark); after a failed write, past what got out */
static uint64_t out_mark(Out *o) { return o->werr ? o->wbase + 1 : o->wbase + (o->w ? flow_writer_mark(o->w) : 0); }

/* whether o's bytes before `end` are written: 0, the errno of the write that failed, or (wait 0)
 * EAGAIN when not yet */
static int out_written(Out *o, uint64_t end, int wait) {
    if (end <= o->wbase) return 0;
    if (o->werr) return o->werr;
    if (!o->w) return EIO;   /* cannot happen: a writer closed took every byte put (wbase) */
    return flow_writer_out(o->w, end - o->wbase, wait);
}

/* whether a text would start a spreadsheet formula: `=`, `+`, `-`, `@`, a tab or a CR first, and it
 * is not a plain number (-5, +3.25, -1e3 stay as they are) */
static int formula_like(const char *s) {
    if (!s[0] || !strchr("=+-@\t\r", s[0])) return 0;
    const char *p = s + (s[0] == '+' || s[0] == '-');
    int digits = 0;
    while (*p >= '0' && *p <= '9') { p++; digits++; }
    if (*p == '.') for (p++; *p >= '0' && *p <= '9'; p++) digits++;
    if (!digits) return 1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 1;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p != 0;
}

/* one CSV field, quoted when it holds a comma, a quote, a line break or edge spaces; unless formulas
 * are allowed, a text that would start a formula gets a leading `'` (OWASP's advice) */
static void csv_put_text(FlowSb *b, const char *s, int formulas) {
    size_t n = strlen(s);
    int tick = !formulas && formula_like(s);
    if (strpbrk(s, ",\"\r\n") || (n && (s[0] == ' ' || s[n - 1] == ' '))) {
        flow_sb_put(b, "\"", 1);
        if (tick) flow_sb_put(b, "'", 1);
        for (const char *p = s, *q; *p; p = q) {
            q = strchr(p, '"');
            if (!q) { flow_sb_puts(b, p); break; }
            flow_sb_put(b, p, (size_t)(q - p) + 1);
            flow_sb_put(b, "\"", 1);   /* a quote doubled */
            q++;
        }
        flow_sb_put(b, "\"", 1);
    } else {
        if (tick) flow_sb_put(b, "'", 1);
        flow_sb_put(b, s, n);
    }
}

static int csv_put_value(FlowSb *b, const cJSON *v, int formulas) {
    char num[40];
    char *owned = NULL;
    const char *s;
    if (!v || cJSON_IsNull(v)) s = "";
    else if (cJSON_IsString(v)) s = v->valuestring;
    else if (cJSON_IsNumber(v)) { s = flow_json_num_text(v, num); formulas = 1; }   /* as in JSON: ints with all their digits */
    else if (cJSON_IsBool(v)) s = cJSON_IsTrue(v) ? "true" : "false";
    else s = owned = flow_json_print(v);
    if (!s) return -1;
    csv_put_text(b, s, formulas);
    cJSON_free(owned);
    return 0;
}

/* ---- appending: what the target holds, checked and copied ---- */

/* reads the target in chunks, calling fn on each; 0, or -1 with errno */
static int read_chunks(int fd, off_t size, int (*fn)(void *st, const char *p, size_t n, off_t at), void *st) {
    char buf[65536];
    for (off_t at = 0; at < size;) {
        size_t want = size - at < (off_t)sizeof buf ? (size_t)(size - at) : sizeof buf;
        ssize_t r = pread(fd, buf, want, at);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) { errno = EIO; return -1; }   /* shorter than it was a moment ago */
        if (fn && fn(st, buf, (size_t)r, at)) return 1;
        at += r;
    }
    return 0;
}

typedef struct JsonScan {
    int phase;                 /* 0 before the array, 1 in it, 2 after it, 3 not an array */
    int depth, in_str, esc;
    off_t open, last;          /* the array's `[`, its last byte before the closing `]` */
} JsonScan;

static int json_scan(void *sv, const char *p, size_t n, off_t at) {
    JsonScan *s = sv;
    for (size_t i = 0; i < n && s->phase != 3; i++) {
        unsigned char c = (unsigned char)p[i];
        off_t off = at + (off_t)i;
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (s->phase == 0) {
            if (off < 3 && (c == 0xEF || c == 0xBB || c == 0xBF)) continue;   /* a byte order mark */
            if (space) continue;
            if (c != '[') { s->phase = 3; break; }
            s->phase = 1;
            s->depth = 1;
            s->open = s->last = off;
            continue;
        }
        if (s->phase == 2) {
            if (!space) s->phase = 3;
            continue;
        }
        if (s->in_str) {
            if (s->esc) s->esc = 0;
            else if (c == '\\') s->esc = 1;
            else if (c == '"') { s->in_str = 0; s->last = off; }
            continue;
        }
        if (space) continue;
        if (c == '"') s->in_str = 1;
        else if (c == '[' || c == '{') s->depth++;
        else if (c == ']' || c == '}') {
            if (--s->depth == 0) {
                s->phase = c == ']' ? 2 : 3;
                continue;
            }
        }
        s->last = off;
    }
    return s->phase == 3;
}

static int quote_scan(void *sv, const char *p, size_t n, off_t at) {
    (void)at;
    long *q = sv;
    for (const char *e = p + n; (p = memchr(p, '"', (size_t)(e - p))); p++) (*q)++;
    return 0;
}

/* writes all of buf to fd (flow_write_all); 0, or -1 with errno */
static int write_all(int fd, const char *p, size_t n) {
    int e = flow_write_all(fd, p, n);
    if (e) errno = e;
    return e ? -1 : 0;
}

static int write_chunk(void *to, const char *p, size_t n, off_t at) { (void)at; return write_all(*(int *)to, p, n); }

/* the first len bytes of from onto to (read_chunks); nonzero with errno on failure */
static int copy_prefix(int from, int to, off_t len) { return read_chunks(from, len, write_chunk, &to); }

/* The columns this run writes to a CSV target: the first record's fields. */
static char **record_columns(const cJSON *rec, int *n) {
    *n = 0;
    for (const cJSON *c = rec->child; c; c = c->next) (*n)++;
    char **cols = flow_xcalloc((size_t)*n + 1, sizeof *cols);
    int k = 0;
    for (const cJSON *c = rec->child; c; c = c->next) cols[k++] = flow_xstrdup(c->string);
    return cols;
}

static void columns_text(FlowSb *b, char *const *cols, int n) {
    for (int i = 0; i < n && b->n < 400; i++) {
        if (i) flow_sb_puts(b, ",");
        flow_sb_puts(b, cols[i]);
    }
    if (b->n >= 400) flow_sb_puts(b, ",...");
}

/* append: starts the temporary file (fd) with what the target holds. 0; 1 the target cannot be
 * appended to (o->bad); -1 the run fails (err) */
static int start_from_target(Out *o, int fd, const cJSON *first, FlowErr *err) {
    int src = open(o->path, O_RDONLY | O_CLOEXEC);
    if (src < 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s to append to it: %s", o->path, strerror(errno));
        return -1;
    }
    off_t size = o->was.st_size, len = size;
    int rc = 0, need_nl = 0;
    char lastc = 0;
    if (pread(src, &lastc, 1, size - 1) != 1) rc = -1;
    else need_nl = lastc != '\n' && lastc != '\r';
    if (!rc && o->format == FMT_JSON) {
        JsonScan s = { 0 };
        int r = read_chunks(src, size, json_scan, &s);
        if (r < 0) rc = -1;
        else if (r > 0 || s.phase != 2) {
            out_bad(o, "cannot append to %s: it does not hold a JSON array (write = replace overwrites it)", o->path);
            rc = 1;
        } else {
            len = s.last + 1;
            o->elems = s.last != s.open;
            need_nl = 0;
        }
    } else if (!rc && o->format == FMT_CSV) {
        long quotes = 0;
        if (read_chunks(src, size, quote_scan, &quotes)) rc = -1;
        else if (quotes % 2) {
            out_bad(o, "cannot append to %s: it ends inside a quoted field", o->path);
            rc = 1;
        } else {
            FlowErr he;
            int hfd = open(o->path, O_RDONLY | O_CLOEXEC);
            FlowCsv *h = hfd < 0 ? NULL : flow_csv_open(hfd, o->path, 1, &he);
            if (hfd < 0) rc = -1;
            else if (!h) {
                out_bad(o, "cannot append to %s: %s", o->path, he.msg);
                rc = 1;
            } else {
                int nc;
                char **mine = record_columns(first, &nc);
                int same = nc == h->nhdr;
                for (int i = 0; same && i < nc; i++) same = strcmp(mine[i], h->hdr[i]) == 0;
                if (!same) {
                    FlowSb a = { 0 }, b = { 0 };
                    columns_text(&a, h->hdr, h->nhdr);
                    columns_text(&b, mine, nc);
                    out_bad(o, "cannot append to %s: its header is `%s`, but this run writes `%s` (write = replace overwrites it)",
                            o->path, a.p ? a.p : "", b.p ? b.p : "");
                    free(a.p);
                    free(b.p);
                    rc = 1;
                }
                for (int i = 0; i < nc; i++) free(mine[i]);
                free(mine);
                if (!rc) {
                    o->cols = h->hdr;
                    o->ncols = h->nhdr;
                    h->hdr = NULL;
                    h->nhdr = 0;
                }
                flow_csv_close(h);
            }
        }
    }
    if (!rc && (copy_prefix(src, fd, len) || (need_nl && write_all(fd, "\n", 1)))) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(errno));
        rc = -1;
    } else if (rc < 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot read %s to append to it: %s", o->path, strerror(errno ? errno : EIO));
    }
    close(src);
    return rc;
}

/* A new Out for a target (linked into fc's list, bad or not); NULL when the run fails (err). */
static Out *out_new(FileConn *fc, const char *path, int format, int append, const cJSON *first, int formulas, FlowErr *err) {
    Out *o = flow_xcalloc(1, sizeof *o);
    o->fd = -1;
    o->path = flow_xstrdup(path);
    o->format = format;
    o->append = append;
    out_link(fc, o);
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            out_bad(o, "cannot write %s: it is %s", path, S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
            return o;
        }
        o->existed = 1;
        o->was = st;
    } else if (errno == ENOTDIR || errno == ENAMETOOLONG || errno == ELOOP) {
        out_bad(o, "cannot write %s: %s", path, strerror(errno));
        return o;
    } else if (errno != ENOENT) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    if (dl > 1 && !o->existed) {   /* subdirectories a per-record name asks for */
        char *sub = flow_xcalloc(1, dl);
        memcpy(sub, path, dl - 1);
        FlowErr e;
        int bad = stat(sub, &st) != 0 && flow_mkdir_p(sub, &e) ? errno : 0;
        free(sub);
        if (bad == ENOTDIR || bad == EEXIST || bad == ENAMETOOLONG) {
            out_bad(o, "cannot write %s: %s", path, e.msg);
            return o;
        }
        if (bad) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", path, e.msg);
            return NULL;
        }
    }
    size_t tl = strlen(path) + 16;
    o->tmp = flow_xcalloc(1, tl);
    snprintf(o->tmp, tl, "%.*s.%s.XXXXXX", (int)dl, path, path + dl);
    if (make_room(fc, err)) return NULL;
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        if (e == ENAMETOOLONG) { out_bad(o, "cannot write %s: %s", path, strerror(e)); return o; }
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", path, strerror(e));
        return NULL;
    }
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0) { /* the file stays 0600: not an error */ }
    if (append && o->existed && o->was.st_size > 0) {
        int r = start_from_target(o, fd, first, err);
        if (r) {
            close(fd);
            if (r < 0) return NULL;
            return o;   /* bad: out_bad removed the temporary file */
        }
    } else o->append = 0;   /* nothing to keep: the target is written as new */
    o->fd = fd;
    o->w = flow_writer_new(fd);
    fc->nopen++;
    o->used = ++fc->tick;
    /* its start, written with the first page's records */
    FlowSb h = { 0 };
    if (format == FMT_JSON && !o->append) flow_sb_put(&h, "[", 1);
    if (format == FMT_CSV && !o->append) {   /* the header: the first record's fields */
        o->cols = record_columns(first, &o->ncols);
        for (int k = 0; k < o->ncols; k++) {
            if (k) flow_sb_put(&h, ",", 1);
            csv_put_text(&h, o->cols[k], formulas);
        }
        flow_sb_put(&h, "\n", 1);
    }
    int bad = h.n && flow_writer_put(o->w, h.p, h.n);
    free(h.p);
    if (bad) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", path, strerror(ENOMEM));
        return NULL;
    }
    return o;
}

static void *fi_open(void *conn, const FlowSettings *s, FlowErr *err) {
    FileConn *fc = conn;
    const cJSON *file = flow_setting(s, NULL, "file");
    if (file) {   /* a constant name: checked once, before any record */
        char *clean;
        const char *why = flow_file_name_rule(cJSON_GetStringValue(file), &clean);
        if (why) {
            flow_err_set(err, FLOW_ERR_VALUE, "file \"%.200s\" %s", cJSON_GetStringValue(file), why);
            return NULL;
        }
        char *path = join_path(fc->dir, clean);
        free(clean);
        struct stat st;
        int dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        if (dir) flow_err_set(err, FLOW_ERR_VALUE, "cannot write %s: it is a directory", path);
        free(path);
        if (dir) return NULL;
    }
    FileImport *im = flow_xcalloc(1, sizeof *im);
    im->fc = fc;
    im->s = s;
    im->const_file = file != NULL;
    im->retry = flow_settings_retrying(s);
    return im;
}

static void fi_close(void *h) {
    FileImport *im = h;
    for (int i = 0; i < im->cap; i++) free(im->pages[i].v);
    free(im->pages);
    free(im->line.p);
    free(im);
}

/* a page's records put into their targets' writers; where its bytes end in each kept (FilePage) */
static int fi_put(FileImport *im, FilePage *pg, FlowImportItem *items, int n, FlowErr *err) {
    FileConn *fc = im->fc;
    FlowSb *line = &im->line;
    for (int i = 0; i < n; i++) {
        FlowImportItem *it = &items[i];
        const char *name = flow_setting_str(im->s, it->rs, "file", "");
        int format = format_of(flow_setting_str(im->s, it->rs, "format", "ndjson"));
        int append = im->retry || strcmp(flow_setting_str(im->s, it->rs, "write", "append"), "append") == 0;
        int formulas = cJSON_IsTrue(flow_setting(im->s, it->rs, "csv_formulas"));
        char *clean;
        const char *why = flow_file_name_rule(name, &clean);
        if (why) {
            flow_import_fail(it, FLOW_ERR_VALUE, "file \"%.200s\" %s", name, why);
            continue;
        }
        if (!it->out && format == FMT_CSV) {   /* a typed map's text: CSV needs its members (the engine frees it) */
            it->out = flow_json_parse(it->text, it->textn, NULL);
            if (!it->out) it->out = cJSON_CreateNull();
        }
        if (format == FMT_CSV && !cJSON_IsObject(it->out)) {
            free(clean);
            flow_import_fail(it, FLOW_ERR_VALUE, "a CSV row must be an object, got %s", flow_json_desc(it->out));
            continue;
        }
        char *path = join_path(fc->dir, clean);
        free(clean);
        Out *o = NULL;
        for (Out *p = fc->outs; p && !o; p = p->next)
            if (strcmp(p->path, path) == 0) o = p;
        if (!o && !(o = out_new(fc, path, format, append, it->out, formulas, err))) {
            free(path);
            return -1;
        }
        free(path);
        if (o->bad) {
            if (im->const_file) { flow_err_set(err, FLOW_ERR_VALUE, "%s", o->bad); return -1; }
            flow_import_fail(it, FLOW_ERR_VALUE, "%s", o->bad);
            continue;
        }
        if (o->format != format) {
            flow_import_fail(it, FLOW_ERR_VALUE, "%s is already written as %s", o->path, format_name(o->format));
            continue;
        }
        if (out_reopen(fc, o, err)) return -1;
        int bad = 0;
        if (format == FMT_CSV) {
            const cJSON *extra = NULL;
            for (const cJSON *c = it->out->child; c && !extra; c = c->next) {
                int found = 0;
                for (int k = 0; k < o->ncols && !found; k++) found = strcmp(o->cols[k], c->string) == 0;
                if (!found) extra = c;
            }
            if (extra) {
                flow_import_fail(it, FLOW_ERR_VALUE, "field `%s` is not a column of %s (its columns come from the first record)",
                                  extra->string, o->path);
                continue;
            }
            line->n = 0;
            for (int k = 0; k < o->ncols && !bad; k++) {
                if (k) flow_sb_put(line, ",", 1);
                bad |= csv_put_value(line, cJSON_GetObjectItemCaseSensitive(it->out, o->cols[k]), formulas);
            }
            flow_sb_put(line, "\n", 1);
            bad = bad || (!o->werr && flow_writer_put(o->w, line->p, line->n));
        } else if (!o->werr) {   /* (after a failed write nothing more is written to it) */
            if (format == FMT_JSON) bad = o->elems ? flow_writer_put(o->w, ",\n", 2) : flow_writer_put(o->w, "\n", 1);
            o->elems = format == FMT_JSON;
            if (!it->out) bad = bad || flow_writer_put(o->w, it->text, it->textn);
            else {
                /* most records print into a stack buffer; only big ones need a heap buffer (the same printer) */
                char small[8192];
                size_t tn;
                char *t = flow_json_print_into(it->out, small, sizeof small, &tn);
                bad = bad || !t || flow_writer_put(o->w, t, tn);
                if (t && t != small) cJSON_free(t);
            }
            if (format == FMT_NDJSON) bad = bad || flow_writer_put(o->w, "\n", 1);
        }
        if (bad) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(ENOMEM));
            return -1;
        }
        o->count++;
        if (o->touched != fc->sends) {   /* the page's first record for it */
            o->touched = fc->sends;
            if (pg->n == pg->cap) {
                pg->cap = pg->cap ? pg->cap * 2 : 4;
                pg->v = flow_xrealloc(pg->v, sizeof *pg->v * (size_t)pg->cap);
            }
            pg->v[pg->n].o = o;
            pg->v[pg->n++].end = 0;
        }
    }
    for (int k = 0; k < pg->n; k++) pg->v[k].end = out_mark(pg->v[k].o);
    return 0;
}

/* The import's pages, several in flight (import_send, import_ready, import_finish): a page's bytes
 * are put into each target's writer, which writes them 64 KB at a time by a thread of its own; the
 * page is finished, in order, once its bytes are out of every writer it used. A write that fails
 * fails the page whose bytes it cut ("cannot write PATH: ..."), as when each page is written alone. */
static int fi_send(void *h, FlowImportItem *items, int n, FlowErr *err) {
    FileImport *im = h;
    if (im->npages == im->cap) {
        int cap = im->cap ? im->cap * 2 : 16;
        FilePage *np = flow_xcalloc((size_t)cap, sizeof *np);
        for (int i = 0; i < im->npages; i++) np[i] = im->pages[(im->head + i) % im->cap];
        for (int i = im->npages; i < im->cap; i++) np[i] = im->pages[(im->head + i) % im->cap];   /* their arrays, empty */
        free(im->pages);
        im->pages = np;
        im->cap = cap;
        im->head = 0;
    }
    FilePage *pg = &im->pages[(im->head + im->npages) % im->cap];
    pg->n = 0;
    im->fc->sends++;
    if (fi_put(im, pg, items, n, err)) return -1;   /* the run fails: the page is not kept */
    im->npages++;
    return 0;
}

/* whether a page's bytes are out: 0, EAGAIN not yet (wait 0), or -1 with err */
static int page_out(FilePage *pg, int wait, FlowErr *err) {
    for (int k = 0; k < pg->n; k++) {
        int r = out_written(pg->v[k].o, pg->v[k].end, wait);
        if (r == EAGAIN) return r;
        if (r) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", pg->v[k].o->path, strerror(r));
            return -1;
        }
    }
    return 0;
}

static int fi_ready(void *h) {
    FileImport *im = h;
    FlowErr e;
    int k = 0;
    while (k < im->npages) {
        int r = page_out(&im->pages[(im->head + k) % im->cap], 0, &e);
        if (r == EAGAIN) break;
        k++;
        if (r) break;   /* the page the failed write cut ends too */
    }
    return k;
}

static int fi_finish(void *h, FlowImportItem *items, int n, FlowErr *err) {
    FileImport *im = h;
    if (!im->npages) return 0;
    FilePage *pg = &im->pages[im->head];
    im->head = (im->head + 1) % im->cap;
    im->npages--;
    return page_out(pg, 1, err) ? -1 : 0;
}

static int fi_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    return fi_send(h, items, n, err) < 0 ? -1 : fi_finish(h, items, n, err);
}

/* ---- the end of a run ---- */

/* an Out's temporary file complete and on disk, and (append) its target as it was; 0, or -1 with err */
static int out_complete(FileConn *fc, Out *o, FlowErr *err) {
    if (out_reopen(fc, o, err)) return -1;
    errno = 0;
    const char *end = o->elems ? "\n]\n" : "]\n";
    int e = o->format == FMT_JSON && flow_writer_put(o->w, end, strlen(end)) ? ENOMEM : 0;
    if (!e) e = flow_writer_flush(o->w);
    if (!e && !o->werr && fsync(o->fd) != 0) e = errno;
    if (!e) e = o->werr;
    int fd = o->fd;
    o->fd = -1;
    flow_writer_free(o->w);
    o->w = NULL;
    if (close(fd) != 0 && !e) e = errno;
    fc->nopen--;
    if (e) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s", o->path, strerror(e ? e : EIO));
        return -1;
    }
    if (o->append) {
        struct stat st;
        int same = stat(o->path, &st) == 0 && st.st_dev == o->was.st_dev && st.st_ino == o->was.st_ino &&
                   st.st_size == o->was.st_size && st.st_mtim.tv_sec == o->was.st_mtim.tv_sec &&
                   st.st_mtim.tv_nsec == o->was.st_mtim.tv_nsec;
        if (!same) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "%s changed while this run was appending to it: it was left as it was", o->path);
            return -1;
        }
    }
    return 0;
}

/* a directory synced, so that a rename in it survives a crash; 0, or -1 with err */
static int sync_dir(const char *dir, FlowErr *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot sync directory %s: %s", dir, strerror(errno));
        rc = -1;
    }
    if (fd >= 0) close(fd);
    return rc;
}

static int fc_finish(void *h, int ok, FlowErr *err) {
    FileConn *fc = h;
    int rc = 0, done = 0;
    /* every temporary file complete, and every target as it was, before the first rename */
    for (Out *o = fc->outs; ok && o && !rc; o = o->next)
        if (!o->bad) rc = out_complete(fc, o, err);
    for (Out *o = fc->outs; ok && o && !rc; o = o->next) {
        if (o->bad) continue;
        if (rename(o->tmp, o->path) != 0) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write %s: %s%s", o->path, strerror(errno),
                         done ? " (files written before it stay written)" : "");
            rc = -1;
            break;
        }
        free(o->tmp);
        o->tmp = NULL;
        done++;
    }
    /* the renames on disk: each directory once */
    char **dirs = NULL;
    int ndirs = 0;
    for (Out *o = fc->outs; ok && o && !rc; o = o->next) {
        if (o->bad || o->tmp) continue;
        const char *slash = strrchr(o->path, '/');
        char *d = slash ? flow_xcalloc(1, (size_t)(slash - o->path) + 2) : flow_xstrdup(".");
        if (slash) memcpy(d, o->path, slash == o->path ? 1 : (size_t)(slash - o->path));
        int seen = 0;
        for (int k = 0; k < ndirs && !seen; k++) seen = strcmp(dirs[k], d) == 0;
        if (seen) { free(d); continue; }
        dirs = flow_xrealloc(dirs, sizeof *dirs * (size_t)(ndirs + 1));
        dirs[ndirs++] = d;
        rc = sync_dir(d, err);
    }
    for (int k = 0; k < ndirs; k++) free(dirs[k]);
    free(dirs);
    for (Out *o = fc->outs, *next; o; o = next) {
        next = o->next;
        out_free(o, 1);
    }
    fc->outs = fc->last = NULL;
    fc->nopen = 0;
    return rc;
}

/* the connection proven (probe.c): dir reachable with the access its steps need */
static int fc_probe(const FlowSettings *s, unsigned uses, cJSON *info, FlowErr *err) {
    return flow_probe_path(flow_setting_str(s, NULL, "dir", "."), 1, uses, info, err);
}

const FlowConnector flow_conn_file = {
    .kind = "file",
    .import_text = 1,
    .commit_at_finish = 1,
    .open = fc_open, .finish = fc_finish, .close = fc_close, .probe = fc_probe,
    .export_open = fe_open, .export_next = fe_next, .export_close = fe_close,
    .import_open = fi_open, .import_page = fi_page, .import_send = fi_send, .import_finish = fi_finish,
    .import_ready = fi_ready, .import_close = fi_close,
};
