/* package.c — .flowpkg archives. `flowc package` checks an integration and writes its .flow file,
 * every hook source and every file("...") its tests read, with manifest.json, as a reproducible
 * gzip'd tar (libarchive: entries sorted by path, mtime 0, uid/gid 0, no owner names, mode 0644,
 * no gzip timestamp). pkg_read is the one reader of package bytes: regular files only, safe relative
 * paths, and a manifest that lists exactly the files there with their sizes and SHA-256. The
 * manifest's name and version are the integration's (`integration "NAME" version "X"`). */
#include "package.h"
#include "diag.h"
#include "builtins.h"
#include "emit_c.h"
#include "frontend.h"
#include "hooks.h"
#include "source.h"
#include "flow.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void pkg_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32) abort();
    for (unsigned i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* a name from outside as it may be printed: control characters as `?`, at most 200 bytes */
static const char *shown(const char *s, char buf[204]) {
    size_t n = 0;
    for (; *s && n < 200; s++) buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    snprintf(buf + n, 4, "%s", *s ? "..." : "");
    return buf;
}

int pkg_path_ok(const char *path, char *why, size_t cap) {
    size_t n = strlen(path);
    char sb[204];
    if (!n) { snprintf(why, cap, "an entry has an empty name"); return -1; }
    if (n >= PKG_MAX_PATH) { snprintf(why, cap, "an entry's name is longer than %d bytes", PKG_MAX_PATH - 1); return -1; }
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\') {
            snprintf(why, cap, "entry \"%s\" has a backslash or a control character in its name", shown(path, sb));
            return -1;
        }
    if (path[0] == '/') { snprintf(why, cap, "entry \"%s\" is an absolute path: it would land outside the directory", shown(path, sb)); return -1; }
    for (const char *c = path; c;) {
        const char *slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            snprintf(why, cap, "entry \"%s\" has a `..` component: it would land outside the directory", shown(path, sb));
            return -1;
        }
        if (len == 0 || c[0] == '.') {
            snprintf(why, cap, "entry \"%s\": a name component may not be empty or start with `.` (never .git, .flowpkg)", shown(path, sb));
            return -1;
        }
        c = slash ? slash + 1 : NULL;
    }
    return 0;
}

/* ---------- reading ---------- */

static int cmp_files(const void *a, const void *b) { return strcmp(((const PkgFile *)a)->path, ((const PkgFile *)b)->path); }

const PkgFile *pkg_find(const Pkg *p, const char *path) {
    PkgFile key = { (char *)path, NULL, 0, NULL };
    return p->nfiles ? bsearch(&key, p->files, (size_t)p->nfiles, sizeof key, cmp_files) : NULL;
}

void pkg_free(Pkg *p) {
    for (int i = 0; i < p->nfiles; i++) { free(p->files[i].path); free(p->files[i].data); }
    free(p->files);
    free(p->manifest_text);
    cJSON_Delete(p->manifest);
    memset(p, 0, sizeof *p);
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_hex64(const char *s) {
    if (!s || strlen(s) != 64) return 0;
    for (; *s; s++) if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

/* the manifest against the files: every listed file there, with its size and hash, nothing else */
static int verify_manifest(Pkg *p, char *why, size_t cap) {
    FlowJsonError je;
    p->manifest = flow_json_parse(p->manifest_text, p->manifest_len, &je);
    if (!p->manifest || !cJSON_IsObject(p->manifest)) { snprintf(why, cap, "manifest.json is not a JSON object"); return -1; }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(p->manifest, "format");
    if (!cJSON_IsNumber(fmt) || fmt->valuedouble != PKG_FORMAT) {
        snprintf(why, cap, "manifest.json: \"format\" is not %d (a package from another flowc?)", PKG_FORMAT);
        return -1;
    }
    p->name = jstr(p->manifest, "name");
    p->version = jstr(p->manifest, "version");
    p->flow_file = jstr(p->manifest, "flow_file");
    p->environment = jstr(p->manifest, "environment");
    if (!p->name || !p->version || !p->flow_file) { snprintf(why, cap, "manifest.json lacks \"name\", \"version\" or \"flow_file\""); return -1; }
    for (const char *q = p->name; *q; q++) if ((unsigned char)*q < 0x20 || *q == 0x7f) { snprintf(why, cap, "manifest.json: \"name\" holds a control character"); return -1; }
    for (const char *q = p->version; *q; q++) if ((unsigned char)*q < 0x20 || *q == 0x7f) { snprintf(why, cap, "manifest.json: \"version\" holds a control character"); return -1; }
    if (strchr(p->flow_file, '/') || pkg_path_ok(p->flow_file, why, cap) < 0) {
        snprintf(why, cap, "manifest.json: \"flow_file\" must be a plain file name");
        return -1;
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(p->manifest, "files");
    if (!cJSON_IsArray(files)) { snprintf(why, cap, "manifest.json lacks its \"files\" list"); return -1; }
    int listed = 0, flow_seen = 0;
    const cJSON *f;
    char sb[204];
    cJSON_ArrayForEach(f, files) {
        const char *path = jstr(f, "path"), *sha = jstr(f, "sha256"), *role = jstr(f, "role");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
        if (!path || !is_hex64(sha) || !role || !cJSON_IsNumber(size)) {
            snprintf(why, cap, "manifest.json: file %d needs \"path\", \"role\", \"size\" and a \"sha256\" of 64 hex digits", listed + 1);
            return -1;
        }
        PkgFile *pf = (PkgFile *)pkg_find(p, path);
        if (!pf) { snprintf(why, cap, "the manifest lists \"%s\", which the package does not hold", shown(path, sb)); return -1; }
        if (pf->role) { snprintf(why, cap, "the manifest lists \"%.200s\" twice", path); return -1; }
        if (strcmp(role, "flow") && strcmp(role, "hook") && strcmp(role, "data")) {
            snprintf(why, cap, "manifest.json: \"%s\" has a role that is not flow, hook or data", shown(path, sb));
            return -1;
        }
        if (size->valuedouble != (double)pf->len) {
            snprintf(why, cap, "\"%.200s\" holds %zu bytes but the manifest says %.0f: the package was altered", path, pf->len, size->valuedouble);
            return -1;
        }
        char hex[65];
        pkg_sha256_hex(pf->data, pf->len, hex);
        if (strcmp(hex, sha) != 0) {
            snprintf(why, cap, "\"%.200s\" does not match its SHA-256 in the manifest: the package was altered", path);
            return -1;
        }
        pf->role = strcmp(role, "flow") == 0 ? "flow" : strcmp(role, "hook") == 0 ? "hook" : "data";
        flow_seen |= strcmp(path, p->flow_file) == 0 && strcmp(role, "flow") == 0;
        listed++;
    }
    for (int i = 0; i < p->nfiles; i++)
        if (!p->files[i].role) { snprintf(why, cap, "\"%.200s\" is in the package but not in its manifest", p->files[i].path); return -1; }
    if (!flow_seen) { snprintf(why, cap, "the manifest's flow_file \"%s\" is not listed as the flow", shown(p->flow_file, sb)); return -1; }
    return 0;
}

int pkg_read(const void *data, size_t len, Pkg *p, char *why, size_t cap) {
    memset(p, 0, sizeof *p);
    struct archive *a = archive_read_new();
    if (!a) abort();
    archive_read_support_filter_gzip(a);   /* and uncompressed; nothing else is read */
    archive_read_support_format_tar(a);
    int rc = -1, fcap = 0;
    size_t total = 0;
    char sb[204];
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        snprintf(why, cap, "not a package (a gzip'd tar): %s", shown(archive_error_string(a) ? archive_error_string(a) : "unreadable", sb));
        goto out;
    }
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK) {
            snprintf(why, cap, "not a valid package: %s", shown(archive_error_string(a) ? archive_error_string(a) : "bad header", sb));
            goto out;
        }
        const char *path = archive_entry_pathname_utf8(e);
        if (!path) path = archive_entry_pathname(e);
        if (!path) { snprintf(why, cap, "an entry has no readable name"); goto out; }
        if (archive_entry_hardlink(e) || archive_entry_symlink(e) || archive_entry_filetype(e) != AE_IFREG) {
            const char *kind = archive_entry_symlink(e) ? "a symbolic link" : archive_entry_hardlink(e) ? "a hard link"
                             : archive_entry_filetype(e) == AE_IFDIR ? "a directory" : "a device, FIFO or other special file";
            snprintf(why, cap, "entry \"%s\" is %s: a package holds regular files only", shown(path, sb), kind);
            goto out;
        }
        char pbuf[PKG_MAX_PATH + 1];
        snprintf(pbuf, sizeof pbuf, "%s", path);
        if (pkg_path_ok(pbuf, why, cap) < 0) goto out;
        if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 || archive_entry_size(e) > (la_int64_t)PKG_MAX_FILE) {
            snprintf(why, cap, "entry \"%.200s\" is larger than %u MB", pbuf, PKG_MAX_FILE >> 20);
            goto out;
        }
        size_t size = (size_t)archive_entry_size(e);
        if (total + size > PKG_MAX_TOTAL) { snprintf(why, cap, "the package unpacks to more than %u MB", PKG_MAX_TOTAL >> 20); goto out; }
        total += size;
        int is_manifest = strcmp(pbuf, "manifest.json") == 0;
        if ((is_manifest && p->manifest_text) || p->nfiles >= PKG_MAX_ENTRIES) {
            snprintf(why, cap, is_manifest ? "the package holds two manifest.json" : "the package holds more than %d files", PKG_MAX_ENTRIES);
            goto out;
        }
        char *buf = malloc(size + 1);
        if (!buf) abort();
        size_t got = 0;
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf + got, size - got + (got == size));   /* one byte more: reads EOF */
            if (n < 0) {
                snprintf(why, cap, "entry \"%s\" cannot be read: %s", pbuf, shown(archive_error_string(a) ? archive_error_string(a) : "", sb));
                free(buf);
                goto out;
            }
            if (n == 0) break;
            got += (size_t)n;
            if (got > size) { snprintf(why, cap, "entry \"%.200s\" holds more than its header says", pbuf); free(buf); goto out; }
        }
        if (got != size) { snprintf(why, cap, "entry \"%.200s\" is truncated", pbuf); free(buf); goto out; }
        buf[size] = 0;
        if (is_manifest) { p->manifest_text = buf; p->manifest_len = size; continue; }
        if (p->nfiles == fcap) {
            fcap = fcap ? 2 * fcap : 16;
            p->files = realloc(p->files, sizeof *p->files * (size_t)fcap);
            if (!p->files) abort();
        }
        p->files[p->nfiles++] = (PkgFile){ strdup(pbuf), buf, size, NULL };
    }
    if (!p->manifest_text) { snprintf(why, cap, "the package has no manifest.json"); goto out; }
    if (p->nfiles) qsort(p->files, (size_t)p->nfiles, sizeof *p->files, cmp_files);
    for (int i = 1; i < p->nfiles; i++)
        if (strcmp(p->files[i - 1].path, p->files[i].path) == 0) { snprintf(why, cap, "the package holds \"%.200s\" twice", p->files[i].path); goto out; }
    rc = verify_manifest(p, why, cap);
out:
    archive_read_free(a);
    if (rc < 0) pkg_free(p);
    return rc;
}

/* ---------- the source text: defaults and comments ---------- */

static char *span_text(const Source *src, Span sp) { return strndup(src->text + sp.start, sp.end - sp.start); }

typedef struct Edit { uint32_t at, end; const char *text; int add; } Edit;
static int cmp_edit(const void *a, const void *b) {
    const Edit *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

char *pkg_set_defaults(const Source *src, const IrProgram *ir, const char *const *names, const char *const *texts, int n,
                       size_t *len) {
    Edit *ed = calloc((size_t)n + 1, sizeof *ed);
    if (!ed) abort();
    int ne = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < ir->nparams; k++) {
            const IrParam *pa = ir->params[k];
            if (strcmp(pa->name, names[i]) != 0) continue;
            int j = 0;
            while (j < ne && ed[j].at != (pa->def ? pa->def->span.start : pa->span.end)) j++;
            if (j == ne) ne++;   /* a later value for the same param replaces an earlier one */
            if (pa->def) ed[j] = (Edit){ pa->def->span.start, pa->def->span.end, texts[i], 0 };
            else ed[j] = (Edit){ pa->span.end, pa->span.end, texts[i], 1 };
        }
    qsort(ed, (size_t)ne, sizeof *ed, cmp_edit);
    char *out = NULL;
    size_t olen = 0;
    FILE *m = open_memstream(&out, &olen);
    if (!m) abort();
    uint32_t pos = 0;
    for (int i = 0; i < ne; i++) {
        fwrite(src->text + pos, 1, ed[i].at - pos, m);
        if (ed[i].add) fputs(" = ", m);
        fputs(ed[i].text, m);
        pos = ed[i].end;
    }
    fwrite(src->text + pos, 1, src->len - pos, m);
    fclose(m);
    free(ed);
    *len = olen;
    return out;
}

/* -?DIGITS[.DIGITS][e[+-]DIGITS] */
static int is_number(const char *s, int integer) {
    if (*s == '-') s++;
    size_t d = strspn(s, "0123456789");
    if (!d) return 0;
    s += d;
    if (integer) return !*s;
    if (*s == '.') { s++; d = strspn(s, "0123456789"); if (!d) return 0; s += d; }
    if (*s == 'e' || *s == 'E') { s++; if (*s == '+' || *s == '-') s++; d = strspn(s, "0123456789"); if (!d) return 0; s += d; }
    return !*s;
}

/* DIGITS UNIT: a duration's unit from the runtime's one table (flow_duration_unit), a size's from units */
static int has_unit(const char *s, const char *const *units) {
    size_t d = strspn(s, "0123456789");
    if (!d) return 0;
    if (!units) return flow_duration_unit(s + d, strlen(s + d)) != 0;
    for (int i = 0; units[i]; i++) if (strcmp(s + d, units[i]) == 0) return 1;
    return 0;
}

char *pkg_param_literal(const Type *t, const char *v, char *why, size_t cap) {
    static const char *const size[] = { "B", "KB", "MB", "GB", NULL };
    if (t->nullable && strcmp(v, "null") == 0) return strdup("null");
    size_t at;
    if (flow_text_check(v, strlen(v), &at) != FLOW_TEXT_OK) { snprintf(why, cap, "the value is not valid UTF-8 (byte %zu)", at + 1); return NULL; }
    switch (t->kind) {
    case TY_STRING: case TY_DATETIME: {
        if (strstr(v, "{{")) { snprintf(why, cap, "a param's value cannot hold `{{` (it would be a template)"); return NULL; }
        char *out = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&out, &n);
        if (!m) abort();
        fputc('"', m);
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
            if (*p == '"' || *p == '\\') fprintf(m, "\\%c", *p);
            else if (*p == '\n') fputs("\\n", m);
            else if (*p == '\t') fputs("\\t", m);
            else if (*p == '\r') fputs("\\r", m);
            else if (*p < 0x20 || *p == 0x7f) fprintf(m, "\\u%04x", *p);
            else fputc(*p, m);
        }
        fputc('"', m);
        fclose(m);
        return out;
    }
    case TY_INT: case TY_NUMBER:
        if (is_number(v, t->kind == TY_INT)) return strdup(v);
        snprintf(why, cap, "the value is not %s", t->kind == TY_INT ? "an int" : "a number");
        return NULL;
    case TY_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) return strdup(v);
        snprintf(why, cap, "the value is not true or false");
        return NULL;
    case TY_DURATION: case TY_SIZE:
        if (has_unit(v, t->kind == TY_DURATION ? NULL : size)) return strdup(v);
        snprintf(why, cap, "the value is not a %s (as in %s)", t->kind == TY_DURATION ? "duration" : "size", t->kind == TY_DURATION ? "15m" : "5MB");
        return NULL;
    default:
        snprintf(why, cap, "a param of this type cannot be given on the command line: set its default in the file");
        return NULL;
    }
}

void pkg_no_env(const char *where, const char *env, const IrProgram *ir) {
    fprintf(stderr, "flowc: no env `%s` in %s", env, where);
    for (int i = 0; i < ir->nenvs; i++) fprintf(stderr, "%s%s", i ? ", " : " (envs: ", ir->envs[i]->name);
    fprintf(stderr, "%s\n", ir->nenvs ? ")" : " (it has no env blocks)");
}

char *pkg_env_value(const Source *src, const IrProgram *ir, const char *env, const char *name) {
    for (int i = 0; i < ir->nenvs; i++) {
        if (strcmp(ir->envs[i]->name, env) != 0) continue;
        for (int k = 0; k < ir->envs[i]->nsettings; k++)
            if (strcmp(ir->envs[i]->settings[k].name, name) == 0 && ir->envs[i]->settings[k].value)
                return span_text(src, ir->envs[i]->settings[k].value->span);
    }
    return NULL;
}

/* The comment that documents a declaration: a `//` comment after it on its line, else the `//`
 * lines right above it (no blank line between), joined by spaces. NULL when none. */
static char *doc_comment(const Source *src, Span sp) {
    const char *t = src->text, *end = src->text + src->len;
    const char *p = t + sp.end;
    while (p < end && (*p == ' ' || *p == '\t' || *p == ',' || *p == ';')) p++;
    if (p + 1 < end && p[0] == '/' && p[1] == '/') {
        p += 2;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        const char *e = p;
        while (e < end && *e != '\n') e++;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
        return strndup(p, (size_t)(e - p));
    }
    /* the line above, and above it, while each is a // comment */
    const char *ls = t + sp.start;
    while (ls > t && ls[-1] != '\n') ls--;
    for (const char *q = ls; q < t + sp.start; q++) if (*q != ' ' && *q != '\t') return NULL;   /* not first on its line */
    char *out = NULL;
    const char *top = ls;
    while (top > t) {
        const char *pe = top - 1, *ps = pe;   /* pe: the newline ending the previous line */
        while (ps > t && ps[-1] != '\n') ps--;
        const char *q = ps;
        while (q < pe && (*q == ' ' || *q == '\t')) q++;
        if (!(q + 1 < pe && q[0] == '/' && q[1] == '/')) break;
        top = ps;
    }
    if (top == ls) return NULL;
    size_t n = 0;
    FILE *m = open_memstream(&out, &n);
    if (!m) abort();
    int first = 1;
    for (const char *q = top; q < ls;) {
        const char *e = memchr(q, '\n', (size_t)(ls - q));
        if (!e) e = ls;
        const char *c = strstr(q, "//") + 2;
        while (c < e && (*c == ' ' || *c == '\t')) c++;
        const char *ce = e;
        while (ce > c && (ce[-1] == ' ' || ce[-1] == '\t' || ce[-1] == '\r')) ce--;
        if (ce > c) { if (!first) fputc(' ', m); fwrite(c, 1, (size_t)(ce - c), m); first = 0; }
        q = e + 1;
    }
    fclose(m);
    return out;
}

/* ---------- the manifest ---------- */

static int add_env_name(const IrExpr *x, void *ud) {
    if (x->kind == IR_CALL && x->fn && strcmp(x->fn->name, "env") == 0 && x->nkids && x->kids[0] && x->kids[0]->kind == IR_STR) {
        cJSON *arr = ud, *it;
        cJSON_ArrayForEach(it, arr) if (strcmp(it->valuestring, x->kids[0]->str) == 0) return 0;
        cJSON_AddItemToArray(arr, cJSON_CreateString(x->kids[0]->str));
    } else if (x->kind == IR_ENV && x->name) {
        cJSON *arr = ud, *it;
        cJSON_ArrayForEach(it, arr) if (strcmp(it->valuestring, x->name) == 0) return 0;
        cJSON_AddItemToArray(arr, cJSON_CreateString(x->name));
    }
    return 0;
}

static void settings_env(const IrSetting *s, int n, cJSON *arr) { for (int i = 0; i < n; i++) ir_any_expr(s[i].value, add_env_name, arr); }
static void map_env(const IrMap *m, cJSON *arr) {
    for (int i = 0; m && i < m->n; i++) {
        ir_any_expr(m->entries[i].value, add_env_name, arr);
        ir_any_expr(m->entries[i].when, add_env_name, arr);
        map_env(m->entries[i].nested, arr);
    }
}

static int cmp_json_str(const void *a, const void *b) { return strcmp((*(cJSON *const *)a)->valuestring, (*(cJSON *const *)b)->valuestring); }
static cJSON *sorted_strings(cJSON *arr) {
    int n = cJSON_GetArraySize(arr);
    cJSON **v = calloc((size_t)n + 1, sizeof *v);
    if (!v) abort();
    for (int i = 0; i < n; i++) v[i] = cJSON_DetachItemFromArray(arr, 0);
    qsort(v, (size_t)n, sizeof *v, cmp_json_str);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, v[i]);
    free(v);
    return arr;
}

cJSON *pkg_env_names(const IrProgram *ir) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < ir->nparams; i++) ir_any_expr(ir->params[i]->def, add_env_name, arr);
    for (int i = 0; i < ir->nenvs; i++) settings_env(ir->envs[i]->settings, ir->envs[i]->nsettings, arr);
    for (int i = 0; i < ir->ntables; i++) ir_any_expr(ir->tables[i]->value, add_env_name, arr);
    for (int i = 0; i < ir->nconns; i++) settings_env(ir->conns[i]->settings, ir->conns[i]->nsettings, arr);
    for (int f = 0; f < ir->nflows; f++) {
        const IrFlow *fl = ir->flows[f];
        settings_env(fl->settings, fl->nsettings, arr);
        for (int s = 0; s < fl->nall; s++) {
            const IrStep *st = fl->all[s];
            settings_env(st->settings, st->nsettings, arr);
            for (int k = 0; k < st->nassigns; k++) ir_any_expr(st->assigns[k].value, add_env_name, arr);
            for (int k = 0; k < st->nresponse; k++) ir_any_expr(st->response[k].value, add_env_name, arr);
            for (int k = 0; k < st->narms; k++) ir_any_expr(st->arms[k].cond, add_env_name, arr);
            ir_any_expr(st->cond, add_env_name, arr);
            map_env(st->map, arr);
        }
    }
    return sorted_strings(arr);
}

static int add_param_name(const IrExpr *x, void *ud) {
    if (x->kind == IR_PARAM && x->param) {
        cJSON *arr = ud, *it;
        cJSON_ArrayForEach(it, arr) if (strcmp(it->valuestring, x->param->name) == 0) return 0;
        cJSON_AddItemToArray(arr, cJSON_CreateString(x->param->name));
    }
    return 0;
}

cJSON *pkg_conn_bindings(const IrConn *c) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < c->nsettings; i++) {
        cJSON *ps = cJSON_CreateArray(), *es = cJSON_CreateArray();
        ir_any_expr(c->settings[i].value, add_param_name, ps);
        ir_any_expr(c->settings[i].value, add_env_name, es);
        if (!cJSON_GetArraySize(ps) && !cJSON_GetArraySize(es)) { cJSON_Delete(ps); cJSON_Delete(es); continue; }
        cJSON *b = cJSON_AddObjectToObject(o, c->settings[i].name);
        cJSON_AddItemToObject(b, "params", sorted_strings(ps));
        cJSON_AddItemToObject(b, "env", sorted_strings(es));
    }
    return o;
}

/* A constant's JSON value (a duration or size as its source text); other expressions their text. */
static cJSON *value_json(const Source *src, const IrExpr *v) {
    switch (v->kind) {
    case IR_STR: return cJSON_CreateString(v->str);
    case IR_BOOL: return cJSON_CreateBool(v->ival != 0);
    case IR_NULL: return cJSON_CreateNull();
    case IR_INT: return flow_json_int(v->ival);
    case IR_NUM: return cJSON_CreateNumber(v->num);
    default: { char *t = span_text(src, v->span); cJSON *j = cJSON_CreateString(t); free(t); return j; }
    }
}

static const IrSetting *find_setting(const IrSetting *s, int n, const char *name) {
    for (int i = 0; i < n; i++) if (strcmp(s[i].name, name) == 0) return &s[i];
    return NULL;
}

static cJSON *build_manifest(const IrProgram *ir, const Source *src, const char *flow_file, const char *env, cJSON *files) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "format", PKG_FORMAT);
    cJSON_AddStringToObject(m, "name", ir->name);
    cJSON_AddStringToObject(m, "version", ir->version);
    cJSON_AddStringToObject(m, "flowc_version", FLOWC_VERSION);
    cJSON_AddStringToObject(m, "flow_file", flow_file);
    if (env) cJSON_AddStringToObject(m, "environment", env);
    else cJSON_AddNullToObject(m, "environment");
    cJSON_AddItemToObject(m, "files", files);
    int *secret = calloc((size_t)ir->nparams + 1, sizeof *secret);
    if (!secret) abort();
    emit_secret_params(ir, secret);
    cJSON *params = cJSON_AddArrayToObject(m, "params");
    for (int i = 0; i < ir->nparams; i++) {
        const IrParam *pa = ir->params[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", pa->name);
        Arena *ar = arena_new();
        cJSON_AddStringToObject(j, "type", pa->type ? ty_str(ar, pa->type) : "json");
        arena_free(ar);
        if (!pa->def) cJSON_AddNullToObject(j, "default");
        else if (secret[i]) cJSON_AddStringToObject(j, "default", "<redacted>");
        else cJSON_AddItemToObject(j, "default", value_json(src, pa->def));
        cJSON_AddBoolToObject(j, "required", !pa->def);
        cJSON_AddBoolToObject(j, "secret", secret[i] != 0);
        char *doc = doc_comment(src, pa->span);
        if (doc) cJSON_AddStringToObject(j, "doc", doc); else cJSON_AddNullToObject(j, "doc");
        free(doc);
        cJSON_AddItemToArray(params, j);
    }
    cJSON_AddItemToObject(m, "env", pkg_env_names(ir));
    cJSON *envs = cJSON_AddArrayToObject(m, "environments");
    for (int i = 0; i < ir->nenvs; i++) {
        cJSON *j = cJSON_CreateObject(), *vals = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", ir->envs[i]->name);
        for (int k = 0; k < ir->envs[i]->nsettings; k++) {
            const IrSetting *s = &ir->envs[i]->settings[k];
            int sec = 0;
            for (int q = 0; q < ir->nparams; q++) sec |= secret[q] && strcmp(ir->params[q]->name, s->name) == 0;
            if (sec) cJSON_AddStringToObject(vals, s->name, "<redacted>");
            else cJSON_AddItemToObject(vals, s->name, value_json(src, s->value));
        }
        cJSON_AddItemToObject(j, "values", vals);
        cJSON_AddItemToArray(envs, j);
    }
    free(secret);
    cJSON *conns = cJSON_AddArrayToObject(m, "connections");
    for (int i = 0; i < ir->nconns; i++) {
        const IrConn *c = ir->conns[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", c->name);
        char *kind = span_text(src, c->kind_span);
        cJSON_AddStringToObject(j, "kind", kind);
        free(kind);
        cJSON_AddItemToObject(j, "settings", pkg_conn_bindings(c));
        cJSON_AddItemToArray(conns, j);
    }
    cJSON *flows = cJSON_AddArrayToObject(m, "flows");
    for (int f = 0; f < ir->nflows; f++) {
        const IrFlow *fl = ir->flows[f];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", fl->name);
        const IrSetting *sc = find_setting(fl->settings, fl->nsettings, "schedule");
        if (sc) { char *t = span_text(src, sc->value->span); cJSON_AddStringToObject(j, "schedule", t); free(t); }
        else cJSON_AddNullToObject(j, "schedule");
        const IrSetting *tr = find_setting(fl->settings, fl->nsettings, "trigger");
        const IrExpr *tv = tr ? tr->value : NULL;
        if (tv && tv->kind == IR_CALL && tv->fn) {
            cJSON *t = cJSON_AddObjectToObject(j, "trigger");
            cJSON_AddStringToObject(t, "kind", tv->fn->name);
            if (tv->nkids && tv->kids[0] && tv->kids[0]->kind == IR_STR) cJSON_AddStringToObject(t, "path", tv->kids[0]->str);
            const IrExpr *ver = tv->nkids > 1 ? tv->kids[1] : NULL;
            if (ver && ver->kind == IR_CALL && ver->fn) cJSON_AddStringToObject(t, "verify", ver->fn->name);
        } else cJSON_AddNullToObject(j, "trigger");
        cJSON *steps = cJSON_AddArrayToObject(j, "steps");
        for (int s = 0; s < fl->nall; s++) {
            const IrStep *st = fl->all[s];
            if (!st->conn) continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kind", ir_step_kind_names[st->kind]);
            cJSON_AddStringToObject(o, "name", st->name ? st->name : "");
            cJSON_AddStringToObject(o, "connection", st->conn->name);
            cJSON_AddItemToArray(steps, o);
        }
        cJSON_AddItemToArray(flows, j);
    }
    return m;
}

/* ---------- writing ---------- */

typedef struct Entry { char *path; char *data; size_t len; const char *role; } Entry;
typedef struct Entries { Entry *v; int n, cap; const char *dir; int failed; Diags *d; const Source *src; } Entries;

static int cmp_entry(const void *a, const void *b) { return strcmp(((const Entry *)a)->path, ((const Entry *)b)->path); }

/* "a/./b/../c" -> "a/c"; NULL when absolute or climbing above the .flow file's directory */
static char *normalize(const char *rel) {
    if (rel[0] == '/') return NULL;
    char *out = malloc(strlen(rel) + 1);
    if (!out) abort();
    size_t n = 0;
    for (const char *c = rel; c && *c;) {
        const char *slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            if (!n) { free(out); return NULL; }
            while (n && out[n - 1] != '/') n--;
            if (n) n--;
        } else if (len && !(len == 1 && c[0] == '.')) {
            if (n) out[n++] = '/';
            memcpy(out + n, c, len);
            n += len;
        }
        c = slash ? slash + 1 : NULL;
    }
    out[n] = 0;
    return out;
}

static int read_all(const char *path, char **data, size_t *len, char *why, size_t cap) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { snprintf(why, cap, "cannot read it: %s", strerror(errno)); if (fd >= 0) close(fd); return -1; }
    if (!S_ISREG(st.st_mode)) { snprintf(why, cap, "it is not a regular file"); close(fd); return -1; }
    if ((uint64_t)st.st_size > PKG_MAX_FILE) { snprintf(why, cap, "it is larger than %u MB", PKG_MAX_FILE >> 20); close(fd); return -1; }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) abort();
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)st.st_size) { free(buf); snprintf(why, cap, "it changed while it was read"); return -1; }
    *data = buf;
    *len = got;
    return 0;
}

static void add_entry(Entries *es, const IrExpr *ref, const char *rel, const char *role) {
    char why[512];
    char *norm = normalize(rel);
    if (!norm || pkg_path_ok(norm, why, sizeof why) < 0) {
        diag_error(es->d, es->src, ref->span, "a package holds files under the .flow file's directory: \"%s\" %s", rel,
                   norm ? "has a component starting with `.`" : "is absolute or climbs out with `..`");
        free(norm);
        es->failed = 1;
        return;
    }
    for (int i = 0; i < es->n; i++) if (strcmp(es->v[i].path, norm) == 0) { free(norm); return; }
    char full[PATH_MAX * 2];
    snprintf(full, sizeof full, "%s/%s", es->dir, norm);
    char *data;
    size_t len;
    if (read_all(full, &data, &len, why, sizeof why) < 0) {
        diag_error(es->d, es->src, ref->span, "%s file \"%s\" cannot be packaged: %s", role, rel, why);
        free(norm);
        es->failed = 1;
        return;
    }
    if (es->n == es->cap) {
        es->cap = es->cap ? 2 * es->cap : 8;
        es->v = realloc(es->v, sizeof *es->v * (size_t)es->cap);
        if (!es->v) abort();
    }
    es->v[es->n++] = (Entry){ norm, data, len, role };
}

/* Every file a package of ir holds besides the .flow file, as written: its hooks' files, then its
 * tests' file("...") data, in source order (a file named twice comes twice). */
typedef void (*RefFn)(const IrExpr *ref, const char *role, void *ud);
typedef struct HookRef { RefFn fn; void *ud; } HookRef;
static void hook_ref(const IrExpr *file, void *ud) { const HookRef *h = ud; h->fn(file, "hook", h->ud); }
static void each_ref(const IrProgram *ir, RefFn fn, void *ud) {
    HookRef h = { fn, ud };
    hooks_each_file(ir, hook_ref, &h);
    for (int t = 0; t < ir->ntests; t++)
        for (int g = 0; g < ir->tests[t]->ngivens; g++) {
            const IrExpr *f = hooks_given_file(&ir->tests[t]->givens[g]);
            if (f) fn(f, "data", ud);
        }
}

static void add_ref(const IrExpr *ref, const char *role, void *ud) { add_entry(ud, ref, ref->str, role); }

/* a manifest's entry for one file */
static cJSON *file_json(const char *path, const char *role, const char *data, size_t len) {
    cJSON *o = cJSON_CreateObject();
    char hex[65];
    pkg_sha256_hex(data, len, hex);
    cJSON_AddStringToObject(o, "path", path);
    cJSON_AddStringToObject(o, "role", role);
    cJSON_AddNumberToObject(o, "size", (double)len);
    cJSON_AddStringToObject(o, "sha256", hex);
    return o;
}

typedef struct Expect { const Pkg *p; const char *paths[PKG_MAX_ENTRIES]; const char *roles[PKG_MAX_ENTRIES]; int n; char *why; size_t cap; int bad; } Expect;
static void expect_ref(const IrExpr *ref, const char *role, void *ud) {
    Expect *x = ud;
    char sb[204];
    if (x->bad) return;
    char *norm = normalize(ref->str);
    const PkgFile *pf = norm ? pkg_find(x->p, norm) : NULL;
    if (!pf) {
        snprintf(x->why, x->cap, "its .flow file names %s \"%s\", which the package does not hold", role, shown(ref->str, sb));
        x->bad = 1;
    } else {
        int seen = 0;
        for (int i = 0; i < x->n && !seen; i++) seen = strcmp(x->paths[i], pf->path) == 0;
        if (!seen && x->n < PKG_MAX_ENTRIES) { x->paths[x->n] = pf->path; x->roles[x->n++] = role; }
    }
    free(norm);
}

int pkg_check_manifest(const Pkg *p, char *why, size_t cap) {
    const PkgFile *flow = pkg_find(p, p->flow_file);
    Source *src = src_from_buffer(p->flow_file, flow->data, flow->len);
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    int rc = -1;
    char sb[204];
    Expect *x = calloc(1, sizeof *x);
    if (!x) abort();
    x->p = p; x->why = why; x->cap = cap;
    if (!r.ir || d.errors) {
        snprintf(why, cap, "its .flow file %s does not check (flowc check it after unpacking)", shown(p->flow_file, sb));
        goto out;
    }
    each_ref(r.ir, expect_ref, x);
    if (x->bad) goto out;
    cJSON *files = cJSON_CreateArray();
    for (int i = 0; i < p->nfiles && !x->bad; i++) {
        const char *role = strcmp(p->files[i].path, p->flow_file) == 0 ? "flow" : NULL;
        for (int k = 0; k < x->n && !role; k++) if (strcmp(x->paths[k], p->files[i].path) == 0) role = x->roles[k];
        if (!role) {
            snprintf(why, cap, "the package holds \"%s\", which its .flow file does not name", p->files[i].path);
            x->bad = 1;
        } else cJSON_AddItemToArray(files, file_json(p->files[i].path, role, p->files[i].data, p->files[i].len));
    }
    if (x->bad) { cJSON_Delete(files); goto out; }
    cJSON *m = build_manifest(r.ir, src, p->flow_file, p->environment, files);
    const char *fv = jstr(p->manifest, "flowc_version");   /* the flowc that packaged it may differ */
    cJSON_ReplaceItemInObjectCaseSensitive(m, "flowc_version", cJSON_CreateString(fv ? fv : ""));
    if (cJSON_Compare(m, p->manifest, 1)) rc = 0;
    else {
        const cJSON *it;
        const char *key = NULL;
        cJSON_ArrayForEach(it, m) if (!key && !cJSON_Compare(it, cJSON_GetObjectItemCaseSensitive(p->manifest, it->string), 1)) key = it->string;
        cJSON_ArrayForEach(it, p->manifest) if (!key && !cJSON_GetObjectItemCaseSensitive(m, it->string)) key = it->string;
        snprintf(why, cap, "manifest.json's \"%s\" does not match the package's files", key ? shown(key, sb) : "?");
    }
    cJSON_Delete(m);
out:
    free(x);
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
    return rc;
}

static int write_archive(const char *out, Entries *es, const char *manifest, char *why, size_t cap) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0) { snprintf(why, cap, "cannot write %s: %s", out, strerror(errno)); return -1; }
    fchmod(fd, 0644);
    struct archive *a = archive_write_new();
    if (!a) abort();
    int ok = archive_write_add_filter_gzip(a) == ARCHIVE_OK && archive_write_set_options(a, "gzip:!timestamp") == ARCHIVE_OK &&
             archive_write_set_format_pax_restricted(a) == ARCHIVE_OK && archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
             archive_write_open_fd(a, fd) == ARCHIVE_OK;
    /* manifest.json sorts among the files */
    Entry *all = calloc((size_t)es->n + 1, sizeof *all);
    if (!all) abort();
    memcpy(all, es->v, sizeof *all * (size_t)es->n);
    all[es->n] = (Entry){ "manifest.json", (char *)manifest, strlen(manifest), "manifest" };
    qsort(all, (size_t)es->n + 1, sizeof *all, cmp_entry);
    for (int i = 0; ok && i <= es->n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, all[i].path);
        archive_entry_set_size(e, (la_int64_t)all[i].len);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        ok = archive_write_header(a, e) == ARCHIVE_OK &&
             (all[i].len == 0 || archive_write_data(a, all[i].data, all[i].len) == (la_ssize_t)all[i].len);
        archive_entry_free(e);
    }
    free(all);
    if (!ok) snprintf(why, cap, "cannot write %s: %s", out, archive_error_string(a) ? archive_error_string(a) : strerror(errno));
    if (archive_write_close(a) != ARCHIVE_OK && ok) { ok = 0; snprintf(why, cap, "cannot write %s: %s", out, archive_error_string(a)); }
    archive_write_free(a);
    if (ok && fsync(fd) != 0) { ok = 0; snprintf(why, cap, "cannot write %s: %s", out, strerror(errno)); }
    close(fd);
    if (ok && rename(tmp, out) != 0) { ok = 0; snprintf(why, cap, "cannot write %s: %s", out, strerror(errno)); }
    if (!ok) unlink(tmp);
    return ok ? 0 : -1;
}

/* flowc package FILE [-o PKG] [--env NAME] */
static int cmd_package(const char *file, const char *out, const char *env) {
    const char *err;
    Source *src = src_load_file(file, &err);
    if (!src) { fprintf(stderr, "flowc: cannot read `%s`: %s\n", file, err); return 2; }
    if (strcmp(file, "-") == 0) { src_free(src); fprintf(stderr, "flowc: package needs a .flow file, not standard input\n"); return 2; }
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    if (!d.errors) { hooks_check(r.ir, src, &d); hooks_check_test_files(r.ir, src, &d); }   /* as flowc check */
    int rc = 0;
    char *text = NULL;
    size_t tlen = src->len;
    if (!d.errors && (!r.ir->name || !r.ir->version)) {
        diag_error(&d, src, r.ir->name_span, "a package is named and versioned by the integration: write `integration \"NAME\" version \"1.0.0\"`");
    }
    if (!d.errors && env) {   /* --env NAME: its values become the packaged params' defaults */
        const IrEnv *ev = NULL;
        for (int i = 0; i < r.ir->nenvs; i++) if (strcmp(r.ir->envs[i]->name, env) == 0) ev = r.ir->envs[i];
        if (!ev) { pkg_no_env(file, env, r.ir); rc = 2; }
        else {
            const char **names = calloc((size_t)ev->nsettings + 1, sizeof *names), **texts = calloc((size_t)ev->nsettings + 1, sizeof *texts);
            if (!names || !texts) abort();
            for (int i = 0; i < ev->nsettings; i++) { names[i] = ev->settings[i].name; texts[i] = span_text(src, ev->settings[i].value->span); }
            text = pkg_set_defaults(src, r.ir, names, texts, ev->nsettings, &tlen);
            for (int i = 0; i < ev->nsettings; i++) free((void *)texts[i]);
            free(names);
            free(texts);
        }
    }
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", strrchr(file, '/') ? (int)(strrchr(file, '/') - file) : 1, strrchr(file, '/') ? file : ".");
    if (!dir[0]) snprintf(dir, sizeof dir, "/");
    Entries es = { 0 };
    es.dir = dir; es.d = &d; es.src = src;
    char why[1024];
    if (!d.errors && rc == 0 && pkg_path_ok(base, why, sizeof why) < 0) { fprintf(stderr, "flowc: package: %s: the .flow file's name: %s\n", file, why); rc = 2; }
    if (!d.errors && rc == 0) {
        es.v = calloc(8, sizeof *es.v);
        es.cap = 8;
        if (!es.v) abort();
        char *ft = malloc(tlen + 1);
        if (!ft) abort();
        memcpy(ft, text ? text : src->text, tlen);
        es.v[es.n++] = (Entry){ strdup(base), ft, tlen, "flow" };
        each_ref(r.ir, add_ref, &es);
    }
    if (!d.errors && rc == 0 && !es.failed) {
        qsort(es.v, (size_t)es.n, sizeof *es.v, cmp_entry);
        cJSON *files = cJSON_CreateArray();
        for (int i = 0; i < es.n; i++) cJSON_AddItemToArray(files, file_json(es.v[i].path, es.v[i].role, es.v[i].data, es.v[i].len));
        /* the manifest describes the file as packaged: with --env, its new defaults */
        Source *psrc = text ? src_from_buffer(file, text, tlen) : NULL;
        Diags pd;
        diag_init(&pd);
        FeResult pr = { 0 };
        if (psrc) fe_run(&pr, psrc, &pd, FE_CHECK);
        if (psrc && (!pr.ir || pd.errors)) {   /* an env value that does not stand as a default */
            diag_sort(&pd);
            diag_print_text(&pd, stderr, 0);
            fprintf(stderr, "flowc: package: %s with env `%s` as its defaults does not check\n", file, env);
            rc = 1;
        }
        cJSON *m = rc ? NULL : build_manifest(psrc ? pr.ir : r.ir, psrc ? psrc : src, base, env, files);
        if (!m) cJSON_Delete(files);
        if (psrc) { diag_free(&pd); fe_result_free(&pr); src_free(psrc); }
        char *mt = m ? flow_json_print_pretty(m) : strdup("");
        size_t ml = strlen(mt);
        char *mt2 = malloc(ml + 2);
        if (!mt2) abort();
        memcpy(mt2, mt, ml);
        mt2[ml] = '\n';
        mt2[ml + 1] = 0;
        free(mt);
        cJSON_Delete(m);
        char def[600];
        if (!out) {   /* NAME-VERSION.flowpkg beside the current directory, made a safe file name */
            snprintf(def, sizeof def, "%s-%s.flowpkg", r.ir->name, r.ir->version);
            for (char *p = def; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) *p = '_';
            out = def;
        }
        if (rc) { /* said above */ }
        else if (write_archive(out, &es, mt2, why, sizeof why) < 0) { fprintf(stderr, "flowc: package: %s\n", why); rc = 1; }
        else fprintf(stderr, "flowc: packaged %s %s (%d file%s) into %s\n", r.ir->name, r.ir->version, es.n, es.n == 1 ? "" : "s", out);
        free(mt2);
    }
    diag_sort(&d);
    diag_print_text(&d, stderr, isatty(2) && !getenv("NO_COLOR"));
    if (rc == 0 && (d.errors || es.failed)) rc = 1;
    for (int i = 0; i < es.n; i++) { free(es.v[i].path); free(es.v[i].data); }
    free(es.v);
    free(text);
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
    return rc;
}

/* ---------- --list ---------- */

static void print_value(FILE *out, const cJSON *v) {
    char *s = flow_json_print(v);
    fputs(s ? s : "?", out);
    free(s);
}

static void print_names(FILE *out, const cJSON *arr) {
    const cJSON *it;
    int first = 1;
    cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it)) { fprintf(out, "%s%s", first ? "" : ", ", it->valuestring); first = 0; }
}

static void print_manifest_text(const Pkg *p, FILE *out);

void pkg_print_manifest(const Pkg *p, int json, FILE *out) {
    if (json) { fwrite(p->manifest_text, 1, p->manifest_len, out); return; }
    /* the manifest's strings come from outside: no control character reaches the terminal */
    char *text = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&text, &n);
    if (!m) abort();
    print_manifest_text(p, m);
    fclose(m);
    for (size_t i = 0; i < n; i++) if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f) text[i] = '?';
    fwrite(text, 1, n, out);
    free(text);
}

static void print_manifest_text(const Pkg *p, FILE *out) {
    const cJSON *m = p->manifest, *it;
    fprintf(out, "package %s %s (flowc %s)\n", p->name, p->version, jstr(m, "flowc_version") ? jstr(m, "flowc_version") : "?");
    if (p->environment) fprintf(out, "environment: %s (its values are the params' defaults)\n", p->environment);
    fprintf(out, "files:\n");
    for (int i = 0; i < p->nfiles; i++) {
        char hex[65];
        pkg_sha256_hex(p->files[i].data, p->files[i].len, hex);
        fprintf(out, "  %-4s %s  %zu bytes  sha256 %s\n", p->files[i].role, p->files[i].path, p->files[i].len, hex);
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
    if (cJSON_GetArraySize(params)) fprintf(out, "params:\n");
    cJSON_ArrayForEach(it, params) {
        const char *name = jstr(it, "name"), *type = jstr(it, "type"), *doc = jstr(it, "doc");
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(it, "default");
        fprintf(out, "  %s: %s", name ? name : "?", type ? type : "?");
        if (def && !cJSON_IsNull(def)) { fputs(" = ", out); print_value(out, def); }
        else fputs(" (required)", out);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "secret"))) fputs(" [secret]", out);
        if (doc) fprintf(out, "  // %s", doc);
        fputc('\n', out);
    }
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(m, "env");
    if (cJSON_GetArraySize(env)) { fputs("env variables: ", out); print_names(out, env); fputc('\n', out); }
    const cJSON *envs = cJSON_GetObjectItemCaseSensitive(m, "environments");
    if (cJSON_GetArraySize(envs)) fprintf(out, "environments:\n");
    cJSON_ArrayForEach(it, envs) {
        fprintf(out, "  %s:", jstr(it, "name") ? jstr(it, "name") : "?");
        const cJSON *v;
        int first = 1;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(it, "values")) {
            fprintf(out, "%s %s = ", first ? "" : ",", v->string ? v->string : "?");
            print_value(out, v);
            first = 0;
        }
        fputc('\n', out);
    }
    const cJSON *conns = cJSON_GetObjectItemCaseSensitive(m, "connections");
    if (cJSON_GetArraySize(conns)) fprintf(out, "connections:\n");
    cJSON_ArrayForEach(it, conns) {
        fprintf(out, "  %s (%s)", jstr(it, "name") ? jstr(it, "name") : "?", jstr(it, "kind") ? jstr(it, "kind") : "?");
        const cJSON *s;
        int first = 1;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(it, "settings")) {
            fprintf(out, "%s %s from", first ? ":" : ";", s->string ? s->string : "?");
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(s, "params"), *es = cJSON_GetObjectItemCaseSensitive(s, "env");
            if (cJSON_GetArraySize(ps)) { fputs(" param ", out); print_names(out, ps); }
            if (cJSON_GetArraySize(es)) { fputs(" env ", out); print_names(out, es); }
            first = 0;
        }
        if (first) fputs(": fixed settings only", out);
        fputc('\n', out);
    }
    const cJSON *flows = cJSON_GetObjectItemCaseSensitive(m, "flows");
    if (cJSON_GetArraySize(flows)) fprintf(out, "flows:\n");
    cJSON_ArrayForEach(it, flows) {
        fprintf(out, "  %s: schedule %s", jstr(it, "name") ? jstr(it, "name") : "?", jstr(it, "schedule") ? jstr(it, "schedule") : "none");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "trigger");
        if (cJSON_IsObject(t)) fprintf(out, ", trigger %s %s", jstr(t, "kind") ? jstr(t, "kind") : "?", jstr(t, "path") ? jstr(t, "path") : "");
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(it, "steps"))
            fprintf(out, "; %s %s %s %s", jstr(s, "kind") ? jstr(s, "kind") : "?", jstr(s, "name") ? jstr(s, "name") : "?",
                    jstr(s, "kind") && strcmp(jstr(s, "kind"), "import") == 0 ? "into" : "from", jstr(s, "connection") ? jstr(s, "connection") : "?");
        fputc('\n', out);
    }
}

static int cmd_list(const char *file, int json) {
    const char *err;
    Source *s = src_load_file(file, &err);
    if (!s) { fprintf(stderr, "flowc: cannot read `%s`: %s\n", file, err); return 2; }
    Pkg p;
    char why[1024];
    int rc = 0;
    if (pkg_read(s->text, s->len, &p, why, sizeof why) < 0) { fprintf(stderr, "flowc: %s: %s\n", file, why); rc = 1; }
    else if (pkg_check_manifest(&p, why, sizeof why) < 0) { fprintf(stderr, "flowc: %s: %s\n", file, why); rc = 1; pkg_free(&p); }
    else { pkg_print_manifest(&p, json, stdout); pkg_free(&p); }
    src_free(s);
    return rc;
}

int pkg_main(int argc, char **argv) {
    const char *file = NULL, *out = NULL, *env = NULL, *list = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--env") || !strcmp(a, "--environment") || !strcmp(a, "--list") || !strcmp(a, "--format")) {
            if (i + 1 >= argc) { fprintf(stderr, "flowc: package: %s needs a value\n", a); return 2; }
            const char *v = argv[++i];
            if (a[1] == 'o') out = v;
            else if (!strcmp(a, "--list")) list = v;
            else if (!strcmp(a, "--format")) {
                if (strcmp(v, "json") && strcmp(v, "text")) { fprintf(stderr, "flowc: package: --format takes text or json\n"); return 2; }
                json = !strcmp(v, "json");
            } else env = v;
        } else if (a[0] == '-' && a[1]) { fprintf(stderr, "flowc: package: unknown option `%s`\n", a); return 2; }
        else if (file) { fprintf(stderr, "flowc: package takes one FILE\n"); return 2; }
        else file = a;
    }
    if (list) {
        if (file || out || env) { fprintf(stderr, "flowc: package --list PKG takes only --format\n"); return 2; }
        return cmd_list(list, json);
    }
    if (!file) { fprintf(stderr, "flowc: usage: flowc package FILE.flow [-o NAME-VERSION.flowpkg] [--env NAME] | flowc package --list PKG [--format json]\n"); return 2; }
    if (json) { fprintf(stderr, "flowc: package: --format goes with --list\n"); return 2; }
    return cmd_package(file, out, env);
}
