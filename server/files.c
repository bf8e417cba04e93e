/* files.c — the files a package brings beside its .flow file (files.h): the store's revision_files
 * (every revision of an integration holds its files; a change of the text alone keeps the files of
 * the revision before, a revert those of the revision it goes back to, a clone its origin's), the
 * head's written out under DIR/files/INTEGRATION/ (the integration's text is checked there, so its
 * hooks and test data resolve as they do beside a .flow file, and built from there), and the files
 * module that makes the table and writes every head's files when the server starts. Servers sharing a
 * store each keep their own DIR/files: DIR/files/.INTEGRATION.revision says whose files are there
 * (the integration's creation and revision), and srv_files_ensure writes the head's from the store
 * when it is not the head (another server committed a revision, or deleted the integration). */
#define _GNU_SOURCE 1
#include "files.h"
#include "db.h"
#include "package.h"   /* pkg_sha256_hex, pkg_path_ok */
#include "runs.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void srv_files_free(SrvFiles *f) {
    for (int i = 0; i < f->n; i++) { free(f->v[i].path); free(f->v[i].role); free(f->v[i].data); }
    free(f->v);
    memset(f, 0, sizeof *f);
}

void srv_files_add(SrvFiles *f, const char *path, const char *role, const char *data, size_t len) {
    f->v = flow_xrealloc(f->v, sizeof *f->v * (size_t)(f->n + 1));
    SrvFile *x = &f->v[f->n++];
    x->path = flow_xstrdup(path);
    x->role = flow_xstrdup(role ? role : "data");
    x->data = flow_xcalloc(1, len + 1);
    memcpy(x->data, data, len);
    x->len = len;
}

cJSON *srv_files_json(const SrvFiles *f) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < f->n; i++) {
        cJSON *o = cJSON_CreateObject();
        char h[65];
        pkg_sha256_hex(f->v[i].data, f->v[i].len, h);
        cJSON_AddStringToObject(o, "path", f->v[i].path);
        cJSON_AddStringToObject(o, "role", f->v[i].role);
        cJSON_AddNumberToObject(o, "size", (double)f->v[i].len);
        cJSON_AddStringToObject(o, "sha256", h);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

int srv_files_commit(FlowDb *db, const char *integ, long rev, const SrvFiles *files, const char *from_integ, long from_rev) {
    if (files) {
        for (int i = 0; i < files->n; i++) {
            FlowDbStmt *q = flow_db_prepare(db, "INSERT INTO revision_files (integration, rev, path, role, data) VALUES (?1, ?2, ?3, ?4, ?5)");
            if (q) {
                flow_db_bind_text(q, 1, integ);
                flow_db_bind_int64(q, 2, rev);
                flow_db_bind_text(q, 3, files->v[i].path);
                flow_db_bind_text(q, 4, files->v[i].role);
                flow_db_bind_blob(q, 5, files->v[i].data, files->v[i].len);
            }
            if (flow_db_run(q)) return -1;
        }
        return 0;
    }
    if (from_rev <= 0) return 0;
    FlowDbStmt *q = flow_db_prepare(db, "INSERT INTO revision_files (integration, rev, path, role, data)"
                               " SELECT ?1, ?2, path, role, data FROM revision_files WHERE integration = ?3 AND rev = ?4");
    if (q) {
        flow_db_bind_text(q, 1, integ);
        flow_db_bind_int64(q, 2, rev);
        flow_db_bind_text(q, 3, from_integ);
        flow_db_bind_int64(q, 4, from_rev);
    }
    return flow_db_run(q);
}

static int read_files(FlowDb *db, const char *integ, long rev, SrvFiles *out) {
    memset(out, 0, sizeof *out);
    FlowDbStmt *q = flow_db_prepare(db, "SELECT path, role, data FROM revision_files WHERE integration = ?1 AND rev = ?2 ORDER BY path");
    int rc = q ? 0 : -1;
    if (q) {
        flow_db_bind_text(q, 1, integ);
        flow_db_bind_int64(q, 2, rev);
        int r;
        while ((r = flow_db_step(q)) == FLOW_DB_ROW)
            srv_files_add(out, flow_db_column_text(q, 0), flow_db_column_text(q, 1), flow_db_column_blob(q, 2) ? flow_db_column_blob(q, 2) : "", flow_db_column_bytes(q, 2));
        if (r < 0) rc = -1;
    }
    flow_db_finalize(q);
    return rc;
}

int srv_files_read(Srv *s, const char *integ, long rev, SrvFiles *out) {
    SrvStore *st = srv_store(s);
    store_lock(st);
    int rc = read_files(store_db(st), integ, rev, out);
    store_unlock(st);
    return rc;
}


/* ---- directories ---- */

static void rm_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[4300];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) rm_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int srv_files_write(const char *dir, const SrvFiles *f, char *why, size_t cap) {
    for (int i = 0; i < f->n; i++) {
        char p[4300];
        if (pkg_path_ok(f->v[i].path, why, cap)) return -1;
        snprintf(p, sizeof p, "%s/%s", dir, f->v[i].path);
        for (char *c = p + strlen(dir) + 1; (c = strchr(c, '/')); c++) {
            *c = 0;
            if (mkdir(p, 0700) != 0 && errno != EEXIST) { snprintf(why, cap, "cannot create %s: %s", p, strerror(errno)); return -1; }
            *c = '/';
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        int e = fd < 0 ? errno : flow_write_all(fd, f->v[i].data, f->v[i].len);
        if (fd >= 0 && close(fd) != 0 && !e) e = errno;
        if (e) { snprintf(why, cap, "cannot write %s: %s", p, strerror(e)); return -1; }
    }
    return 0;
}

static int stage_in(const char *wsdir, const SrvFiles *f, char *out, size_t cap, char *why, size_t wcap) {
    char base[4200];
    snprintf(base, sizeof base, "%s/files", wsdir);
    mkdir(base, 0700);
    snprintf(out, cap, "%s/files/.stage-XXXXXX", wsdir);
    if (!mkdtemp(out)) { snprintf(why, wcap, "cannot create %s: %s", out, strerror(errno)); return -1; }
    if (srv_files_write(out, f, why, wcap)) { srv_files_unstage(out); return -1; }
    return 0;
}

int srv_files_stage(Srv *s, const SrvFiles *f, char *out, size_t cap, char *why, size_t wcap) {
    return stage_in(srv_dir(s), f, out, cap, why, wcap);
}

void srv_files_unstage(const char *dir) { rm_tree(dir); }

/* ---- this server's copy of the head's files ---- */

static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;   /* one writer of DIR/files/ at a time */

/* the head's mark, "CREATED:REV", of integ in the store: 1, 0 when there is no such integration, -1 */
static int head_mark(FlowDb *db, const char *integ, long *rev, int64_t *created) {
    FlowDbStmt *q = flow_db_prepare(db, "SELECT head, created FROM integrations WHERE id = ?1");
    if (q) flow_db_bind_text(q, 1, integ);
    int r = q ? flow_db_step(q) : -1;
    if (r == FLOW_DB_ROW) { *rev = (long)flow_db_column_int64(q, 0); *created = flow_db_column_int64(q, 1); }
    flow_db_finalize(q);
    return r == FLOW_DB_ROW ? 1 : r == FLOW_DB_DONE ? 0 : -1;
}

static void mark_path(const char *wsdir, const char *integ, char *out, size_t cap) { snprintf(out, cap, "%s/files/.%s.revision", wsdir, integ); }

/* what the mark file says is in DIR/files/INTEGRATION: 1 with created and rev, 0 (no mark) */
static int read_mark(const char *wsdir, const char *integ, long *rev, int64_t *created) {
    char p[4400], buf[64] = "";
    mark_path(wsdir, integ, p, sizeof p);
    FILE *f = fopen(p, "re");
    if (!f) return 0;
    long long c = 0;
    int ok = fgets(buf, sizeof buf, f) && sscanf(buf, "%lld:%ld", &c, rev) == 2;
    fclose(f);
    *created = c;
    return ok;
}

int srv_files_ensure(const char *wsdir, SrvStore *st, FlowDb *db, const char *integ, char *why, size_t cap) {
    long rev = 0, mrev = 0;
    int64_t created = 0, mcreated = 0;
    if (st) { store_lock(st); db = store_db(st); }
    int have = head_mark(db, integ, &rev, &created);
    int marked = read_mark(wsdir, integ, &mrev, &mcreated);
    SrvFiles f = { 0 };
    int rc = 0;
    if (have < 0) { snprintf(why, cap, "the store: integration %s cannot be read: %s", integ, flow_db_error(db)); rc = -1; }
    else if (have && marked && mrev == rev && mcreated == created) have = 2;   /* they are there */
    else if (have && read_files(db, integ, rev, &f)) { snprintf(why, cap, "the store: the files of %s cannot be read: %s", integ, flow_db_error(db)); rc = -1; }
    if (st) store_unlock(st);
    if (rc || have == 2 || (!have && !marked)) { srv_files_free(&f); return rc; }
    char dir[4300], tmp[4400], mark[4400];
    snprintf(dir, sizeof dir, "%s/files/%s", wsdir, integ);
    mark_path(wsdir, integ, mark, sizeof mark);
    pthread_mutex_lock(&files_mu);
    /* another thread may have written a newer head's meanwhile: that stays */
    if (have && read_mark(wsdir, integ, &mrev, &mcreated) && mcreated == created && mrev >= rev) have = 2;
    if (!have) { rm_tree(dir); unlink(mark); }   /* deleted */
    else if (have != 2) {
        char base[4300];
        snprintf(base, sizeof base, "%s/files", wsdir);
        if (mkdir(base, 0700) != 0 && errno != EEXIST) { snprintf(why, cap, "cannot create %s: %s", base, strerror(errno)); rc = -1; }
        unlink(mark);   /* (no mark while the files change: a failure leaves them to be written again) */
        if (!rc && !f.n) rm_tree(dir);
        else if (!rc && stage_in(wsdir, &f, tmp, sizeof tmp, why, cap)) rc = -1;
        else if (!rc) {   /* the new set in place at once */
            char old[4400];
            snprintf(old, sizeof old, "%s.old-%ld", dir, (long)getpid());
            rm_tree(old);
            int had = rename(dir, old) == 0;
            if (rename(tmp, dir) != 0) { snprintf(why, cap, "cannot write %s: %s", dir, strerror(errno)); srv_files_unstage(tmp); rc = -1; }
            if (had) rm_tree(old);
        }
        FILE *m = rc ? NULL : fopen(mark, "we");
        if (!rc && (!m || fprintf(m, "%lld:%ld\n", (long long)created, rev) < 0 || fclose(m) != 0)) {
            snprintf(why, cap, "cannot write %s: %s", mark, strerror(errno));
            rc = -1;
        }
    }
    pthread_mutex_unlock(&files_mu);
    srv_files_free(&f);
    return rc;
}

int srv_files_sync(Srv *s, const char *integ, char *why, size_t cap) { return srv_files_ensure(srv_dir(s), srv_store(s), NULL, integ, why, cap); }

void srv_files_name(Srv *s, const char *integ, const char *base, char *out, size_t cap) {
    char why[1200];   /* the head's files there first (another server may have changed or deleted them) */
    if (srv_files_sync(s, integ, why, sizeof why)) fprintf(stderr, "flowc server: integration %s: %s\n", integ, why);
    snprintf(out, cap, "%s/files/%s/%s", srv_dir(s), integ, base);
}

static void list_dir(const char *root, const char *rel, SrvFiles *out) {
    char p[4300];
    snprintf(p, sizeof p, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(p);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char r[4300], full[8700];
        snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, r);
        struct stat sb;
        if (lstat(full, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) { list_dir(root, r, out); continue; }
        if (!S_ISREG(sb.st_mode)) continue;
        FILE *fp = fopen(full, "rb");
        if (!fp) continue;
        char *data = flow_xcalloc(1, (size_t)sb.st_size + 1);
        size_t n = fread(data, 1, (size_t)sb.st_size, fp);
        fclose(fp);
        srv_files_add(out, r, "file", data, n);
        free(data);
    }
    closedir(d);
}

static int by_path(const void *a, const void *b) { return strcmp(((const SrvFile *)a)->path, ((const SrvFile *)b)->path); }

int srv_files_dir_list(const char *wsdir, const char *integ, SrvFiles *out) {
    memset(out, 0, sizeof *out);
    if (!integ) return 0;
    char root[4300];
    snprintf(root, sizeof root, "%s/files/%s", wsdir, integ);
    list_dir(root, "", out);
    if (out->n > 1) qsort(out->v, (size_t)out->n, sizeof *out->v, by_path);
    return 0;
}

/* ---- the module ---- */

int files_start(Srv *s, char *why, size_t cap) {
    SrvStore *st = srv_store(s);
    store_lock(st);
    int rc = flow_db_schema(store_db(st),
                       "CREATE TABLE IF NOT EXISTS revision_files (integration TEXT NOT NULL, rev BIGINT NOT NULL, path TEXT NOT NULL,"
                       " role TEXT NOT NULL, data {blob} NOT NULL, PRIMARY KEY (integration, rev, path))",
                       "revision_files", why, cap);
    cJSON *ids = cJSON_CreateArray();
    FlowDbStmt *q = rc ? NULL : flow_db_prepare(store_db(st), "SELECT DISTINCT f.integration FROM revision_files f JOIN integrations i ON i.id = f.integration");
    while (q && flow_db_step(q) == FLOW_DB_ROW) cJSON_AddItemToArray(ids, cJSON_CreateString(flow_db_column_text(q, 0)));
    flow_db_finalize(q);
    store_unlock(st);
    for (const cJSON *i = ids->child; i && !rc; i = i->next) rc = srv_files_sync(s, i->valuestring, why, cap);
    cJSON_Delete(ids);
    return rc;
}

void files_stop(Srv *s) { (void)s; }
