/* hooks.c — the files a flow names beside itself: the C files hooks name, c("file.c", "function"),
 * and the data files of test blocks, given x = file("fixtures/x.ndjson"). Both follow one rule
 * (hooks_tree_file): resolved relative to the .flow file and accepted only as a regular file inside
 * that file's directory tree (symlinks resolved), under a size limit; a file is typed before it is
 * opened, so a FIFO or a device is never read. A hook's path must also be #includable; hooks_check
 * then compiles each hook file once with libtcc (jit_check_hook) and requires every function named
 * from it, and hooks_check_test_files says at its string which test data file breaks the rule. */
#define _DEFAULT_SOURCE 1   /* realpath */
#include "hooks.h"
#include "builtins.h"
#include "jit.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* a character that cannot stand in `#include "..."` (no escapes there) */
static int bad_path_char(const char *s) {
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
         : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a regular file";
}

int hooks_tree_file(const char *flow_file, const char *name, const char *what, const char *noun, long long max_bytes,
                    char *out, size_t cap, char *why, size_t whycap) {
    out[0] = 0;
    why[0] = 0;
    if (!*name) { snprintf(why, whycap, "a %s name cannot be empty", what); return -1; }
    /* the .flow file's directory, as written (for messages) and resolved (the tree the file must be in) */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", flow_file);
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir ? 1 : 0] = 0;
    else snprintf(dir, sizeof dir, ".");
    char *base = realpath(dir, NULL);
    if (!base) { snprintf(why, whycap, "%s \"%s\": the directory of the .flow file cannot be resolved: %s", what, name, strerror(errno)); return -1; }
    char joined[2 * PATH_MAX + 2];
    if (name[0] == '/') snprintf(joined, sizeof joined, "%s", name);
    else snprintf(joined, sizeof joined, "%s/%s", dir, name);
    char *real = realpath(joined, NULL);
    int rc = -1;
    if (!real) {
        if (errno == ENOENT || errno == ENOTDIR) snprintf(why, whycap, "%s \"%s\" not found (looked for %s)", what, name, joined);
        else snprintf(why, whycap, "%s \"%s\" cannot be read: %s", what, name, strerror(errno));
        goto out;
    }
    size_t bl = strlen(base);
    int inside = strcmp(base, "/") == 0 || (strncmp(real, base, bl) == 0 && real[bl] == '/');
    if (!inside) {
        snprintf(why, whycap, "%s \"%s\" is outside the directory of %s: %ss must be inside the .flow file's "
                 "directory tree (symlinks are followed)", what, name, flow_file, what);
        goto out;
    }
    struct stat st;
    if (stat(real, &st) != 0) { snprintf(why, whycap, "%s \"%s\" cannot be read: %s", what, name, strerror(errno)); goto out; }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whycap, "%s \"%s\" is %s, not %s", what, name, file_kind(st.st_mode), noun);
        goto out;
    }
    if (st.st_size > max_bytes) {
        snprintf(why, whycap, "%s \"%s\" is too large (%lld bytes; at most %lld)", what, name, (long long)st.st_size, max_bytes);
        goto out;
    }
    if (access(real, R_OK) != 0) { snprintf(why, whycap, "%s \"%s\" cannot be read: %s", what, name, strerror(errno)); goto out; }
    if (strlen(real) >= cap) { snprintf(why, whycap, "%s \"%s\": its path is too long", what, name); goto out; }
    snprintf(out, cap, "%s", real);
    rc = 0;
out:
    free(real);
    free(base);
    return rc;
}

int hook_resolve(const char *flow_file, const char *hook_file, char *out, size_t cap, char *why, size_t whycap) {
    if (bad_path_char(hook_file)) {
        out[0] = 0;
        snprintf(why, whycap, "hook file \"%s\": a hook file's name cannot hold a quote, a backslash or a control character",
                 hook_file);
        return -1;
    }
    if (hooks_tree_file(flow_file, hook_file, "hook file", "a C file", HOOK_MAX_BYTES, out, cap, why, whycap) < 0) return -1;
    if (bad_path_char(out)) {
        out[0] = 0;
        snprintf(why, whycap, "hook file \"%s\": its path holds a quote, a backslash or a control character, which cannot be #included",
                 hook_file);
        return -1;
    }
    return 0;
}

/* every c("file", "function") hook of the program with literal arguments, by file */
typedef struct HookFile {
    const IrExpr *file;          /* the first hook naming it: its file string */
    char path[PATH_MAX];
    const char *fns[64];
    Span spans[64];
    int nfns;
} HookFile;

static void collect(const IrHook *hs, int n, HookFile **files, int *nfiles, int *cap, const IrProgram *p, Diags *d) {
    for (int i = 0; i < n; i++) {
        const IrExpr *v = hs[i].value;
        if (!v || v->kind != IR_CALL || v->nkids < 2 || !v->kids[0] || !v->kids[1]) continue;
        const IrExpr *f = v->kids[0], *fn = v->kids[1];
        if (f->kind != IR_STR || fn->kind != IR_STR) {
            diag_error(d, p->src, f->kind != IR_STR ? f->span : fn->span,
                       "a hook's file and function are written as strings, as in c(\"hooks/orders.c\", \"drop_test_orders\")");
            continue;
        }
        char path[PATH_MAX], why[PATH_MAX + 512];
        if (hook_resolve(p->src->name, f->str, path, sizeof path, why, sizeof why) < 0) {
            diag_error(d, p->src, f->span, "%s", why);
            continue;
        }
        HookFile *hf = NULL;
        for (int k = 0; k < *nfiles && !hf; k++) if (strcmp((*files)[k].path, path) == 0) hf = &(*files)[k];
        if (!hf) {
            if (*nfiles == *cap) {
                *cap = *cap ? *cap * 2 : 8;
                *files = realloc(*files, sizeof **files * (size_t)*cap);
                if (!*files) abort();
            }
            hf = &(*files)[(*nfiles)++];
            memset(hf, 0, sizeof *hf);
            hf->file = f;
            snprintf(hf->path, sizeof hf->path, "%s", path);
        }
        int dup = 0;
        for (int k = 0; k < hf->nfns; k++) dup |= strcmp(hf->fns[k], fn->str) == 0;
        if (!dup && hf->nfns < 64) { hf->fns[hf->nfns] = fn->str; hf->spans[hf->nfns++] = fn->span; }
    }
}

void hooks_check(const IrProgram *p, const Source *src, Diags *d) {
    if (!p) return;
    HookFile *files = NULL;
    int nfiles = 0, cap = 0;
    for (int f = 0; f < p->nflows; f++) {
        const IrFlow *fl = p->flows[f];
        collect(fl->hooks, fl->nhooks, &files, &nfiles, &cap, p, d);
        for (int s = 0; s < fl->nall; s++) collect(fl->all[s]->hooks, fl->all[s]->nhooks, &files, &nfiles, &cap, p, d);
    }
    for (int i = 0; i < nfiles; i++)
        jit_check_hook(files[i].path, files[i].file->str, files[i].fns, files[i].spans, files[i].nfns, src, files[i].file->span, d);
    free(files);
}

void hooks_check_test_files(const IrProgram *p, const Source *src, Diags *d) {
    for (int t = 0; p && t < p->ntests; t++)
        for (int g = 0; g < p->tests[t]->ngivens; g++) {
            const IrExpr *f = hooks_given_file(&p->tests[t]->givens[g]);
            char path[PATH_MAX], why[PATH_MAX + 512];
            if (f && hooks_test_file(src->name, f->str, path, sizeof path, why, sizeof why) < 0) diag_error(d, src, f->span, "%s", why);
        }
}

const IrExpr *hooks_given_file(const IrGiven *g) {
    const IrExpr *v = g ? g->value : NULL;
    if (!v || v->kind != IR_CALL || !v->fn || strcmp(v->fn->name, "file") != 0 || v->nkids < 1 || !v->kids[0]) return NULL;
    return v->kids[0]->kind == IR_STR ? v->kids[0] : NULL;
}

int hooks_test_file(const char *flow_file, const char *name, char *out, size_t cap, char *why, size_t whycap) {
    return hooks_tree_file(flow_file, name, "test data file", "a data file", TEST_FILE_MAX_BYTES, out, cap, why, whycap);
}
