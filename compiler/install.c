/* install.c — flowc install PKG DIR: verifies the package (pkg_read), writes its files under DIR with
 * the given params as the .flow file's new defaults (-P, --environment; the rest byte for byte),
 * checks the result before anything is written in place, and says what is still needed. DIR/.flowpkg/
 * keeps the installed package (base.flowpkg, the base of updates) and installed.json (what was
 * written, with its SHA-256, and which params install set). Installing a package of the same name
 * again is an update: files not edited since install are replaced; a hook or data file edited
 * locally is kept when the new version did not change it; the .flow file edited locally is merged
 * by resource (base.flowpkg's, the local one, the new one: merge_edited); a conflict refuses the
 * update. Nothing is overwritten silently: a refusal writes nothing. Every file is
 * written through directory descriptors opened with O_NOFOLLOW, so a symlink under DIR is never
 * followed, and replaced by rename. */
#define _XOPEN_SOURCE 700   /* nftw */
#define _DEFAULT_SOURCE 1   /* mkdtemp */
#include "install.h"
#include "package.h"
#include "diag.h"
#include "frontend.h"
#include "hooks.h"
#include "merge.h"
#include "source.h"
#include "suggest.h"
#include "flow.h"
#include "engine.h"   /* flow_arg_take */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens the directory of rel under dirfd (made when missing), never following a symlink; *base is
 * rel's last component. -1 with errno. */
static int open_parent(int dirfd, const char *rel, const char **base) {
    int fd = dup(dirfd);
    const char *c = rel;
    for (const char *slash; fd >= 0 && (slash = strchr(c, '/'));) {
        char comp[NAME_MAX + 1];
        size_t n = (size_t)(slash - c);
        if (n > NAME_MAX) { close(fd); errno = ENAMETOOLONG; return -1; }
        memcpy(comp, c, n);
        comp[n] = 0;
        if (mkdirat(fd, comp, 0755) != 0 && errno != EEXIST) { close(fd); return -1; }
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
        c = slash + 1;
    }
    *base = c;
    return fd;
}

/* Writes rel under dirfd: a temporary file beside it, renamed over it. 0, or -1 with why. */
static int write_under(int dirfd, const char *rel, const char *data, size_t len, char *why, size_t cap) {
    const char *base;
    int pfd = open_parent(dirfd, rel, &base);
    if (pfd < 0) { snprintf(why, cap, "cannot make the directory of %s: %s (a symlink there is not followed)", rel, strerror(errno)); return -1; }
    char tmp[NAME_MAX + 32];
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        snprintf(tmp, sizeof tmp, ".flowpkg-tmp-%d-%d", (int)getpid(), i);
        fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    int ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) ok = 0; else off += (size_t)w;
    }
    if (ok && fsync(fd) != 0) ok = 0;
    if (fd >= 0) close(fd);
    if (ok && renameat(pfd, tmp, pfd, base) != 0) ok = 0;
    if (!ok) { snprintf(why, cap, "cannot write %s: %s", rel, strerror(errno)); if (fd >= 0) unlinkat(pfd, tmp, 0); }
    close(pfd);
    return ok ? 0 : -1;
}

/* The bytes of rel under dirfd, never through a symlink: 0; 1 when it does not exist; -1 otherwise. */
static int read_under(int dirfd, const char *rel, char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    if (dirfd < 0) return 1;   /* DIR is not there yet */
    const char *base;
    char *copy = strdup(rel);
    int pfd = -1, fd = -1, rc = -1;
    /* open_parent makes directories; reading must not: walk without making them */
    pfd = dup(dirfd);
    char *c = copy;
    for (char *slash; pfd >= 0 && (slash = strchr(c, '/'));) {
        *slash = 0;
        int next = openat(pfd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(pfd);
        pfd = next;
        c = slash + 1;
    }
    base = c;
    if (pfd < 0) { rc = errno == ENOENT ? 1 : -1; goto out; }
    fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { rc = errno == ENOENT ? 1 : -1; goto out; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > PKG_MAX_FILE) goto out;
    *data = malloc((size_t)st.st_size + 1);
    if (!*data) abort();
    while (*len < (size_t)st.st_size) {
        ssize_t r = read(fd, *data + *len, (size_t)st.st_size - *len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        *len += (size_t)r;
    }
    (*data)[*len] = 0;
    rc = 0;
out:
    if (fd >= 0) close(fd);
    if (pfd >= 0) close(pfd);
    free(copy);
    return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int mkdir_p(const char *dir) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') { *p = 0; if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1; *p = '/'; }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* A file as it will be after the install, and where its bytes come from. */
/* A file to write: data; and, when data holds the user's edits (a kept or merged file), pkg_data:
 * what the package itself gives for it, whose hash installed.json records, so that the next update
 * sees the edits as edits (and merges or keeps them) instead of replacing them. */
typedef struct Out {
    const char *path; const char *data; size_t len; int keep_local; char *owned;
    const char *pkg_data; size_t pkg_len; char *pkg_owned;
} Out;

typedef struct Ctx {
    const char *pkg_file, *dir, *env;
    const char *pnames[256], *pvals[256];
    int np;
    int dirfd;
    Pkg pkg, base;
    int update;
    cJSON *installed;                /* DIR/.flowpkg/installed.json, on an update */
    Out *outs; int nouts;
    const char *removed[PKG_MAX_ENTRIES]; int nremoved;
    char conflicts[8192]; size_t nconf;
    cJSON *params_set;               /* names of the params whose defaults install wrote */
    int merged;                      /* the .flow file was edited and merged with the new version */
} Ctx;

static void conflict(Ctx *c, const char *fmt, const char *a, const char *b) {
    if (c->nconf < sizeof c->conflicts - 1)
        c->nconf += (size_t)snprintf(c->conflicts + c->nconf, sizeof c->conflicts - c->nconf, fmt, a, b);
    if (c->nconf >= sizeof c->conflicts) c->nconf = sizeof c->conflicts - 1;
}

static const char *installed_sha(const Ctx *c, const char *path) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->installed, "files"), path);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

static void add_param_set(Ctx *c, const char *name) {
    const cJSON *it;
    cJSON_ArrayForEach(it, c->params_set) if (strcmp(it->valuestring, name) == 0) return;
    cJSON_AddItemToArray(c->params_set, cJSON_CreateString(name));
}

/* A .flow text (the package's, or on an update of an edited file the base's or the merged one) with
 * the defaults of (on an update) the params install set before, as `local` has them, then, when
 * `given`, the env block's values and the -P values. NULL after a message (rc in *rc). */
static char *flow_text_of(Ctx *c, const char *text, size_t tlen, const char *local, size_t local_len, int given,
                          size_t *len, int *rc) {
    char name[PATH_MAX];
    snprintf(name, sizeof name, "%s/%s", c->dir, c->pkg.flow_file);
    Source *src = src_from_buffer(name, text, tlen);
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    char *out = NULL;
    const char *names[1024], *texts[1024];
    char *owned[1024];
    int n = 0, no = 0;
    *rc = 0;
    if (d.errors) {
        diag_sort(&d);
        diag_print_text(&d, stderr, 0);
        fprintf(stderr, "flowc: install: %s: the .flow file does not check\n", c->pkg_file);
        *rc = 1;
        goto out;
    }
    Source *lsrc = NULL;
    FeResult lr = { 0 };
    if (local) {   /* an update of an unedited file: the values install wrote last time stay */
        lsrc = src_from_buffer(name, local, local_len);
        Diags ld;
        diag_init(&ld);
        fe_run(&lr, lsrc, &ld, FE_LOWER);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c->installed, "params")) {
            if (!cJSON_IsString(it) || !lr.ir || n >= 256) continue;
            for (int k = 0; k < lr.ir->nparams; k++)
                if (strcmp(lr.ir->params[k]->name, it->valuestring) == 0 && lr.ir->params[k]->def) {
                    int known = 0;
                    for (int q = 0; q < r.ir->nparams; q++) known |= strcmp(r.ir->params[q]->name, it->valuestring) == 0;
                    if (!known) { fprintf(stderr, "flowc: install: param %s is gone in %s %s: its value is dropped\n", it->valuestring, c->pkg.name, c->pkg.version); continue; }
                    const IrExpr *def = lr.ir->params[k]->def;
                    owned[no] = strndup(lsrc->text + def->span.start, def->span.end - def->span.start);
                    names[n] = it->valuestring; texts[n++] = owned[no++];
                    add_param_set(c, it->valuestring);
                }
        }
        diag_free(&ld);
    }
    if (given && c->env) {
        const IrEnv *ev = NULL;
        for (int i = 0; i < r.ir->nenvs; i++) if (strcmp(r.ir->envs[i]->name, c->env) == 0) ev = r.ir->envs[i];
        if (!ev) { pkg_no_env(c->pkg_file, c->env, r.ir); *rc = 2; goto out_local; }
        for (int i = 0; i < ev->nsettings && n < 1000; i++) {
            owned[no] = pkg_env_value(src, r.ir, c->env, ev->settings[i].name);
            if (!owned[no]) continue;
            names[n] = ev->settings[i].name; texts[n++] = owned[no++];
            add_param_set(c, ev->settings[i].name);
        }
    }
    for (int i = 0; given && i < c->np && n < 1000; i++) {
        const IrParam *pa = NULL;
        Suggest sg;
        sug_init(&sg, c->pnames[i]);
        for (int k = 0; k < r.ir->nparams; k++) { if (strcmp(r.ir->params[k]->name, c->pnames[i]) == 0) pa = r.ir->params[k]; sug_offer(&sg, r.ir->params[k]->name); }
        if (!pa) {
            fprintf(stderr, "flowc: install: -P %s=...: %s declares no param `%s`%s%s%s\n", c->pnames[i], c->pkg.flow_file, c->pnames[i],
                    sug_best(&sg) ? "; did you mean `" : "", sug_best(&sg) ? sug_best(&sg) : "", sug_best(&sg) ? "`?" : "");
            *rc = 2;
            continue;
        }
        char why[256];
        owned[no] = pa->type ? pkg_param_literal(pa->type, c->pvals[i], why, sizeof why) : NULL;
        if (!owned[no]) {   /* the value is not printed: it may be a secret */
            fprintf(stderr, "flowc: install: -P %s=...: %s\n", c->pnames[i], pa->type ? why : "its type is unknown");
            *rc = 2;
            continue;
        }
        names[n] = pa->name; texts[n++] = owned[no++];
        add_param_set(c, pa->name);
    }
    if (!*rc) out = pkg_set_defaults(src, r.ir, names, texts, n, len);
out_local:
    if (lsrc) { fe_result_free(&lr); src_free(lsrc); }
out:
    for (int i = 0; i < no; i++) free(owned[i]);
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
    return out;
}

/* The package's .flow text with the values (see flow_text_of) */
static char *flow_text(Ctx *c, const char *local, size_t local_len, size_t *len, int *rc) {
    const PkgFile *pf = pkg_find(&c->pkg, c->pkg.flow_file);
    return flow_text_of(c, pf->data, pf->len, local, local_len, 1, len, rc);
}

static Out *add_out(Ctx *c, const char *path) {
    c->outs = realloc(c->outs, sizeof *c->outs * (size_t)(c->nouts + 1));
    if (!c->outs) abort();
    Out *o = &c->outs[c->nouts++];
    memset(o, 0, sizeof *o);
    o->path = path;
    return o;
}

/* The .flow file on an update when it was edited since install: a three-way merge by resource
 * (compiler/merge.h) of base = the installed package's .flow, ours = the local file, theirs = the new
 * version's .flow, base and theirs with the values install set as the local file has them (so that
 * install's own edits are no edit); then the env block's and the -P values on the merged text, which
 * the staging check checks like any other. An item both sides changed differently, or a merge that
 * does not check, is a conflict: the update is refused and names it. 0, or -1 after a message. */
static int merge_edited(Ctx *c, const PkgFile *base, const char *local, size_t llen, Out *o, int *rc) {
    const PkgFile *pf = pkg_find(&c->pkg, c->pkg.flow_file);
    size_t blen = 0, tlen = 0;
    char *btext = base ? flow_text_of(c, base->data, base->len, local, llen, 0, &blen, rc) : NULL;
    if (!btext) {
        if (*rc) return -1;
        conflict(c, "  %s/%s: edited since it was installed, and the installed version is not in .flowpkg/base.flowpkg to merge with\n", c->dir, c->base.flow_file);
        return 0;
    }
    char *ttext = flow_text_of(c, pf->data, pf->len, local, llen, 0, &tlen, rc);
    if (!ttext) { free(btext); return -1; }
    char lname[PATH_MAX], bname[PATH_MAX], tname[PATH_MAX];
    snprintf(lname, sizeof lname, "%s/%s", c->dir, c->base.flow_file);
    snprintf(bname, sizeof bname, "%s %s: %s", c->base.name, c->base.version, c->base.flow_file);
    snprintf(tname, sizeof tname, "%s %s: %s", c->pkg.name, c->pkg.version, c->pkg.flow_file);
    const char *names[3] = { bname, lname, tname }, *texts[3] = { btext, local, ttext };
    size_t lens[3] = { blen, llen, tlen };
    MergeResult mr;
    int ret = 0;
    if (merge_texts(names, texts, lens, "yours", c->pkg.version, &mr) < 0) {
        conflict(c, "  %s/%s: edited since it was installed, and it does not check clean (above): fix it, then update\n", c->dir, c->base.flow_file);
        goto out;
    }
    for (int i = 0; i < mr.nconflicts; i++)
        conflict(c, "  %s: conflict: %s\n", mr.conflicts[i].address, mr.conflicts[i].why);
    if (mr.nconflicts)
        conflict(c, "  %s/%s: your edits and the new version change the same items (above): nothing was merged\n", c->dir, c->base.flow_file);
    else {
        o->owned = flow_text_of(c, mr.text, mr.len, NULL, 0, 1, &o->len, rc);
        o->data = o->owned;
        if (!o->owned) {
            if (*rc == 1) { *rc = 0; conflict(c, "  %s/%s: your edits and the new version merge, but together they do not check (above)\n", c->dir, c->base.flow_file); }
            else ret = -1;
        } else {   /* what a plain update would write: the hash the next update compares with */
            c->merged = 1;
            o->pkg_owned = flow_text_of(c, pf->data, pf->len, local, llen, 1, &o->pkg_len, rc);
            o->pkg_data = o->pkg_owned;
            if (!o->pkg_owned) ret = -1;
        }
    }
    merge_free(&mr);
out:
    free(btext);
    free(ttext);
    return ret;
}

/* The .flow file on an update. Unedited since install: the new version with the same values;
 * edited: merge_edited. */
static int update_flow(Ctx *c, Out *o, int *rc) {
    char *local;
    size_t llen;
    const char *name = c->base.flow_file;   /* the installed one (a new version may rename it) */
    int r = read_under(c->dirfd, name, &local, &llen);
    const char *sha = installed_sha(c, name);
    char hex[65] = "";
    if (r == 0) pkg_sha256_hex(local, llen, hex);
    int ret;
    if (r != 0) {
        conflict(c, "  %s/%s: removed since it was installed (or unreadable): put it back, or install into an empty directory\n", c->dir, name);
        ret = 0;
    } else if (!sha || strcmp(hex, sha) != 0) ret = merge_edited(c, pkg_find(&c->base, c->base.flow_file), local, llen, o, rc);
    else {
        o->owned = flow_text(c, local, llen, &o->len, rc);
        o->data = o->owned;
        ret = o->owned ? 0 : -1;
    }
    free(local);
    return ret;
}

static int plan(Ctx *c, int *rc) {
    for (int i = 0; i < c->pkg.nfiles; i++) {
        const PkgFile *pf = &c->pkg.files[i];
        Out *o = add_out(c, pf->path);
        int is_flow = strcmp(pf->path, c->pkg.flow_file) == 0;
        if (!c->update) {
            char *dummy;
            size_t dl;
            int r = read_under(c->dirfd, pf->path, &dummy, &dl);
            free(dummy);
            if (r != 1) { conflict(c, "  %s/%s: is there already and was not installed from a package: move it away\n", c->dir, pf->path); continue; }
            if (is_flow) { o->owned = flow_text(c, NULL, 0, &o->len, rc); o->data = o->owned; if (!o->owned) return -1; }
            else { o->data = pf->data; o->len = pf->len; }
            continue;
        }
        char *local;
        size_t llen;
        int r = read_under(c->dirfd, pf->path, &local, &llen);
        const char *sha = installed_sha(c, pf->path);
        if (r != 1 && !sha) {   /* not written by install: never overwritten */
            conflict(c, "  %s/%s: is there already and was not installed from a package: move it away\n", c->dir, pf->path);
            free(local);
            continue;
        }
        if (is_flow) { free(local); if (update_flow(c, o, rc) < 0) return -1; continue; }
        char hex[65] = "";
        if (r == 0) pkg_sha256_hex(local, llen, hex);
        const PkgFile *old = pkg_find(&c->base, pf->path);
        if (r == 1 && !sha) { o->data = pf->data; o->len = pf->len; }                       /* new in this version */
        else if (r == 0 && sha && strcmp(hex, sha) == 0) { o->data = pf->data; o->len = pf->len; }   /* unedited */
        else if (r == 0 && old && old->len == pf->len && memcmp(old->data, pf->data, pf->len) == 0) {   /* edited; the package did not change it */
            o->owned = local; local = NULL; o->data = o->owned; o->len = llen; o->keep_local = 1;
            o->pkg_data = pf->data; o->pkg_len = pf->len;
        } else conflict(c, r == 1 ? "  %s/%s: removed since it was installed, and the new version changes it\n"
                                  : "  %s/%s: edited since it was installed, and the new version changes it too\n", c->dir, pf->path);
        free(local);
    }
    if (c->update)   /* files the new version no longer has: removed when unedited */
        for (int i = 0; i < c->base.nfiles; i++) {
            const char *path = c->base.files[i].path;
            if (pkg_find(&c->pkg, path)) continue;
            char *local;
            size_t llen;
            char hex[65] = "";
            if (read_under(c->dirfd, path, &local, &llen) != 0) continue;
            pkg_sha256_hex(local, llen, hex);
            free(local);
            const char *sha = installed_sha(c, path);
            if (sha && strcmp(hex, sha) == 0) c->removed[c->nremoved++] = path;
            else fprintf(stderr, "flowc: install: %s/%s is not in %s %s but was edited since install: kept\n", c->dir, path, c->pkg.name, c->pkg.version);
        }
    return 0;
}

/* Every file of the plan written into a staging directory under DIR/.flowpkg and checked there. */
static int stage_and_check(Ctx *c, char *stage, size_t cap) {
    snprintf(stage, cap, "%s/.flowpkg/stage-XXXXXX", c->dir);
    if (!mkdtemp(stage)) { fprintf(stderr, "flowc: install: cannot make %s: %s\n", stage, strerror(errno)); stage[0] = 0; return 2; }
    int sfd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char why[1024];
    for (int i = 0; sfd >= 0 && i < c->nouts; i++)
        if (write_under(sfd, c->outs[i].path, c->outs[i].data, c->outs[i].len, why, sizeof why) < 0) {
            fprintf(stderr, "flowc: install: %s\n", why);
            close(sfd);
            return 2;
        }
    if (sfd >= 0) close(sfd);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", stage, c->pkg.flow_file);
    const char *err;
    Source *src = src_load_file(path, &err);
    if (!src) { fprintf(stderr, "flowc: install: cannot read %s: %s\n", path, err); return 2; }
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    if (!d.errors) { hooks_check(r.ir, src, &d); hooks_check_test_files(r.ir, src, &d); }   /* as flowc check */
    int rc = d.errors ? 1 : 0;
    if (rc) {
        diag_sort(&d);
        diag_print_text(&d, stderr, 0);
        fprintf(stderr, "flowc: install: %s %s with these values does not check (above, in the staging copy): nothing was installed\n",
                c->pkg.name, c->pkg.version);
    }
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
    return rc;
}

/* What an installed integration still needs before it runs, on stdout. */
static void still_needed(const Ctx *c) {
    const Out *o = NULL;
    for (int i = 0; i < c->nouts; i++) if (strcmp(c->outs[i].path, c->pkg.flow_file) == 0) o = &c->outs[i];
    if (!o) return;
    Source *src = src_from_buffer(c->pkg.flow_file, o->data, o->len);
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    if (r.ir && !d.errors) {
        int any = 0;
        cJSON *env = pkg_env_names(r.ir), *it;
        if (cJSON_GetArraySize(env)) {
            printf("env variables to set where it runs:\n");
            cJSON_ArrayForEach(it, env) printf("  %s%s\n", it->valuestring, getenv(it->valuestring) ? " (set here)" : " (not set here)");
            any = 1;
        }
        cJSON_Delete(env);
        int req = 0;
        for (int i = 0; i < r.ir->nparams; i++) req += !r.ir->params[i]->def;
        if (req) {
            printf("params without a value (install -P NAME=VALUE, or --param NAME=VALUE when it runs):\n");
            for (int i = 0; i < r.ir->nparams; i++) if (!r.ir->params[i]->def) printf("  %s\n", r.ir->params[i]->name);
            any = 1;
        }
        if (r.ir->nconns) { printf("connections to point at their systems:\n"); any = 1; }
        for (int i = 0; i < r.ir->nconns; i++) {
            const IrConn *cn = r.ir->conns[i];
            printf("  %s (%.*s):", cn->name, (int)(cn->kind_span.end - cn->kind_span.start), src->text + cn->kind_span.start);
            cJSON *b = pkg_conn_bindings(cn), *s;
            int first = 1;
            cJSON_ArrayForEach(s, b) {
                printf("%s %s from", first ? "" : ";", s->string);
                cJSON *x;
                cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "params")) printf(" param %s", x->valuestring);
                cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "env")) printf(" env %s", x->valuestring);
                first = 0;
            }
            printf("%s\n", first ? " its settings are written in the file" : "");
            cJSON_Delete(b);
        }
        if (!any) printf("nothing else is needed\n");
    }
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
}

/* One install into a directory at a time: an exclusive lock on DIR itself (flock on its descriptor,
 * released when the process ends), taken before anything there is read; a second install is refused
 * at once rather than interleaving its reads and writes with the first's. 0, or -1 after a message. */
static int lock_dir(Ctx *c) {
    if (flock(c->dirfd, LOCK_EX | LOCK_NB) == 0) return 0;
    if (errno == EWOULDBLOCK)
        fprintf(stderr, "flowc: install: another flowc install into %s is running: nothing was installed; run it again when it ends\n", c->dir);
    else fprintf(stderr, "flowc: install: cannot lock %s: %s: nothing was installed\n", c->dir, strerror(errno));
    return -1;
}

static int run_install(Ctx *c) {
    const char *err;
    Source *pk = src_load_file(c->pkg_file, &err);
    if (!pk) { fprintf(stderr, "flowc: cannot read `%s`: %s\n", c->pkg_file, err); return 2; }
    char why[1024];
    int rc = 0;
    if (pkg_read(pk->text, pk->len, &c->pkg, why, sizeof why) < 0 || pkg_check_manifest(&c->pkg, why, sizeof why) < 0) {
        fprintf(stderr, "flowc: install: %s: %s: nothing was installed\n", c->pkg_file, why);
        src_free(pk);
        return 1;
    }
    c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);   /* made when everything is ready */
    if (c->dirfd < 0 && errno != ENOENT) {
        fprintf(stderr, "flowc: install: cannot use directory %s: %s\n", c->dir, strerror(errno));
        src_free(pk);
        return 2;
    }
    if (c->dirfd >= 0 && lock_dir(c) != 0) { src_free(pk); return 1; }
    c->params_set = cJSON_CreateArray();
    char *inst;
    size_t ilen;
    if (read_under(c->dirfd, ".flowpkg/installed.json", &inst, &ilen) == 0) {   /* an update */
        FlowJsonError je;
        c->installed = flow_json_parse(inst, ilen, &je);
        free(inst);
        const char *name = c->installed ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->installed, "name")) : NULL;
        char *bdata = NULL;
        size_t blen = 0;
        if (!name) { fprintf(stderr, "flowc: install: %s/.flowpkg/installed.json is damaged: nothing was installed\n", c->dir); rc = 1; }
        else if (strcmp(name, c->pkg.name) != 0) {
            fprintf(stderr, "flowc: install: %s holds %s, not %s: install it into another directory\n", c->dir, name, c->pkg.name);
            rc = 1;
        } else if (read_under(c->dirfd, ".flowpkg/base.flowpkg", &bdata, &blen) != 0 || pkg_read(bdata, blen, &c->base, why, sizeof why) < 0) {
            fprintf(stderr, "flowc: install: %s/.flowpkg/base.flowpkg (the installed version) is missing or damaged: nothing was installed\n", c->dir);
            rc = 1;
        }
        free(bdata);
        c->update = 1;
    }
    if (!rc && plan(c, &rc) < 0 && !rc) rc = 1;
    if (!rc && c->nconf) {
        fprintf(stderr, "flowc: install: %s %s %s %s: nothing was written:\n%s", c->update ? "cannot update to" : "cannot install",
                c->pkg.name, c->pkg.version, c->update ? "over your edits" : "here", c->conflicts);
        rc = 1;
    }
    char stage[PATH_MAX] = "";
    if (!rc && c->dirfd < 0) {
        if (mkdir_p(c->dir) != 0 || (c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            fprintf(stderr, "flowc: install: cannot make directory %s: %s\n", c->dir, strerror(errno));
            rc = 2;
        } else if (lock_dir(c) != 0) rc = 1;
        else if (faccessat(c->dirfd, ".flowpkg/installed.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
            /* planned for a new directory, which another install filled meanwhile */
            fprintf(stderr, "flowc: install: another flowc install wrote %s meanwhile: nothing was written; run it again\n", c->dir);
            rc = 1;
        }
    }
    if (!rc && mkdirat(c->dirfd, ".flowpkg", 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "flowc: install: cannot make %s/.flowpkg: %s\n", c->dir, strerror(errno));
        rc = 2;
    }
    if (!rc) rc = stage_and_check(c, stage, sizeof stage);
    for (int i = 0; !rc && i < c->nouts; i++)
        if (write_under(c->dirfd, c->outs[i].path, c->outs[i].data, c->outs[i].len, why, sizeof why) < 0) { fprintf(stderr, "flowc: install: %s\n", why); rc = 2; }
    for (int i = 0; !rc && i < c->nremoved; i++) {
        const char *base;
        int pfd = open_parent(c->dirfd, c->removed[i], &base);
        if (pfd >= 0) { unlinkat(pfd, base, 0); close(pfd); }
    }
    if (!rc) {   /* the base of the next update, and what was written */
        cJSON *j = cJSON_CreateObject(), *files = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", c->pkg.name);
        cJSON_AddStringToObject(j, "version", c->pkg.version);
        cJSON_AddStringToObject(j, "flow_file", c->pkg.flow_file);
        if (c->env) cJSON_AddStringToObject(j, "environment", c->env); else cJSON_AddNullToObject(j, "environment");
        cJSON_AddItemReferenceToObject(j, "params", c->params_set);
        for (int i = 0; i < c->nouts; i++) {
            char hex[65];
            const Out *o = &c->outs[i];
            if (o->pkg_data) pkg_sha256_hex(o->pkg_data, o->pkg_len, hex);
            else pkg_sha256_hex(o->data, o->len, hex);
            cJSON_AddStringToObject(files, c->outs[i].path, hex);
        }
        cJSON_AddItemToObject(j, "files", files);
        char *t = flow_json_print_pretty(j);
        if (write_under(c->dirfd, ".flowpkg/base.flowpkg", pk->text, pk->len, why, sizeof why) < 0 ||
            write_under(c->dirfd, ".flowpkg/installed.json", t, strlen(t), why, sizeof why) < 0) {
            fprintf(stderr, "flowc: install: %s\n", why);
            rc = 2;
        }
        free(t);
        cJSON_Delete(j);
    }
    if (stage[0]) nftw(stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (!rc) {
        const char *old = c->update ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->installed, "version")) : NULL;
        if (c->update) printf("updated %s %s -> %s in %s (%s/%s)\n", c->pkg.name, old ? old : "?", c->pkg.version, c->dir, c->dir, c->pkg.flow_file);
        else printf("installed %s %s into %s (%s/%s)\n", c->pkg.name, c->pkg.version, c->dir, c->dir, c->pkg.flow_file);
        if (cJSON_GetArraySize(c->params_set)) {
            printf("params written as defaults:");
            const cJSON *it;
            cJSON_ArrayForEach(it, c->params_set) printf(" %s", it->valuestring);
            if (c->env) printf(" (environment %s)", c->env);
            printf("\n");
        }
        for (int i = 0; i < c->nouts; i++) if (c->outs[i].keep_local) printf("kept your edited %s (the new version does not change it)\n", c->outs[i].path);
        if (c->merged) printf("merged your edits of %s with the new version (flowc merge, by resource)\n", c->pkg.flow_file);
        for (int i = 0; i < c->nremoved; i++) printf("removed %s (not in the new version)\n", c->removed[i]);
        still_needed(c);
    }
    src_free(pk);
    return rc;
}

int install_main(int argc, char **argv) {
    Ctx c;
    memset(&c, 0, sizeof c);
    c.dirfd = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-P") || !strcmp(a, "--param") || !strcmp(a, "--env") || !strcmp(a, "--environment")) {
            if (i + 1 >= argc) { fprintf(stderr, "flowc: install: %s needs a value\n", a); return 2; }
            const char *v = argv[++i];
            if (a[1] == 'P' || !strcmp(a, "--param")) {
                const char *eq = strchr(v, '=');
                if (!eq || eq == v) { fprintf(stderr, "flowc: install: -P takes name=value\n"); return 2; }
                if (c.np == 256) { fprintf(stderr, "flowc: install: too many -P values (limit 256)\n"); return 2; }
                char *kv = flow_arg_take(argv[i]);   /* hidden from ps from now on: it may be a token */
                kv[eq - v] = 0;
                c.pnames[c.np] = kv;
                c.pvals[c.np++] = kv + (eq - v) + 1;
            } else c.env = v;
        } else if (a[0] == '-' && a[1]) { fprintf(stderr, "flowc: install: unknown option `%s`\n", a); return 2; }
        else if (!c.pkg_file) c.pkg_file = a;
        else if (!c.dir) c.dir = a;
        else { fprintf(stderr, "flowc: install takes PKG and DIR\n"); return 2; }
    }
    int rc;
    if (!c.pkg_file || !c.dir) {
        fprintf(stderr, "flowc: usage: flowc install PKG DIR [-P name=value]... [--environment NAME]\n");
        rc = 2;
    } else rc = run_install(&c);
    for (int i = 0; i < c.np; i++) free((void *)c.pnames[i]);
    for (int i = 0; i < c.nouts; i++) { free(c.outs[i].owned); free(c.outs[i].pkg_owned); }
    free(c.outs);
    if (c.dirfd >= 0) close(c.dirfd);
    pkg_free(&c.pkg);
    pkg_free(&c.base);
    cJSON_Delete(c.installed);
    cJSON_Delete(c.params_set);
    return rc;
}
