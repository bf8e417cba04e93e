/* cli_diff.c — the `flowc diff` and `flowc merge` commands (part of the command line, beside main.c):
 * flags, loading and checking the files, printing, and the exit codes: diff 0 same (or different
 * without --exit-code), 1 different with --exit-code, 2 error; merge 0 merged, 1 conflicts, 2 error. */
#include "cli_diff.h"
#include "diff.h"
#include "frontend.h"
#include "merge.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

typedef struct Loaded {
    const char *path, *why;
    Source *src; FeResult r; int ran; Arena *ar; ResModel *m;
    Diags d; int rc;
} Loaded;

static int usage(const char *cmd, const char *msg, const char *arg) {
    fprintf(stderr, "flowc %s: ", cmd);
    fprintf(stderr, msg, arg);
    fputs("\nrun `flowc --help` for usage\n", stderr);
    return EXIT_USAGE;
}

static int blank(const Source *s) {
    for (size_t i = 0; i < s->len; i++)
        if (s->text[i] != ' ' && s->text[i] != '\t' && s->text[i] != '\n' && s->text[i] != '\r') return 0;
    return 1;
}

/* Loads and checks a file (its syntax, names and types; not the hook files it names, which belong to
 * a work tree: git hands diff and merge copies of the .flow file elsewhere); an empty one (a file git
 * adds or deletes) is an integration with nothing in it. Prints nothing: the diagnostics stay in l->d. Returns EXIT_OK, or EXIT_USAGE (unreadable, or
 * it does not check clean). */
static int load_quiet(const char *path, Loaded *l) {
    memset(l, 0, sizeof *l);
    diag_init(&l->d);
    l->path = path;
    l->src = src_load_file(path, &l->why);
    if (!l->src) return l->rc = EXIT_USAGE;
    l->ar = arena_new();
    if (blank(l->src)) { l->m = res_build(l->ar, l->src, NULL, NULL); return l->rc = EXIT_OK; }
    fe_run(&l->r, l->src, &l->d, FE_CHECK);
    l->ran = 1;
    if (l->d.errors) return l->rc = EXIT_USAGE;
    l->m = res_build(l->ar, l->src, l->r.ast, l->r.ir);
    return l->rc = EXIT_OK;
}

static void *load_thread(void *p) { Loaded *l = p; load_quiet(l->path, l); return NULL; }

/* Loads n files, each on its own thread (the front end keeps no global state: two 5 MB files check
 * in the time of one), then reports in order what did not load. Returns EXIT_OK or EXIT_USAGE. */
static int load_all(const char *cmd, const char *const *paths, int n, Loaded *l) {
    pthread_t th[3];
    int started[3] = { 0 };
    for (int i = 1; i < n; i++) {
        l[i].path = paths[i];
        started[i] = pthread_create(&th[i], NULL, load_thread, &l[i]) == 0;
        if (!started[i]) load_quiet(paths[i], &l[i]);
    }
    load_quiet(paths[0], &l[0]);
    for (int i = 1; i < n; i++) if (started[i]) pthread_join(th[i], NULL);
    int rc = EXIT_OK;
    for (int i = 0; i < n; i++) {
        if (l[i].rc == EXIT_OK) continue;
        rc = EXIT_USAGE;
        if (!l[i].src) { fprintf(stderr, "flowc %s: cannot read `%s`: %s\n", cmd, paths[i], l[i].why); continue; }
        diag_sort(&l[i].d);
        diag_print_text(&l[i].d, stderr, isatty(2) && !getenv("NO_COLOR"));
        fprintf(stderr, "flowc %s: `%s` does not check clean (%d error%s): fix it first\n", cmd, paths[i], l[i].d.errors,
                l[i].d.errors == 1 ? "" : "s");
    }
    return rc;
}

static void unload(Loaded *l) {
    diag_free(&l->d);
    if (l->ran) fe_result_free(&l->r);
    if (l->ar) arena_free(l->ar);
    if (l->src) src_free(l->src);
    memset(l, 0, sizeof *l);
}

/* diff OLD NEW [--format text|json] [--exit-code] | diff --env A --env B FILE
 * | (git's external diff driver) diff PATH OLD OLD-HEX OLD-MODE NEW NEW-HEX NEW-MODE */
int cli_diff(int argc, char **argv) {
    const char *files[8], *envs[2];
    int nfiles = 0, nenvs = 0, json = 0, exit_code = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--exit-code") == 0) exit_code = 1;
        else if (strcmp(a, "--format") == 0 || strncmp(a, "--format=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || (strcmp(v, "text") && strcmp(v, "json"))) return usage("diff", "--format takes text or json%s", "");
            json = strcmp(v, "json") == 0;
        } else if (strcmp(a, "--env") == 0) {
            if (i + 1 >= argc) return usage("diff", "--env needs a NAME%s", "");
            if (nenvs == 2) return usage("diff", "--env is given twice: --env A --env B FILE%s", "");
            envs[nenvs++] = argv[++i];
        } else if (a[0] == '-' && a[1] && strcmp(a, "--")) return usage("diff", "unknown option `%s`", a);
        else if (strcmp(a, "--") == 0) continue;
        else {
            if (nfiles == 8) return usage("diff", "too many files%s", "");
            files[nfiles++] = a;
        }
    }
    int git = nfiles == 7 && nenvs == 0;   /* git diff with diff.flow.command = "flowc diff" */
    if (nenvs == 1 || (nenvs == 2 && nfiles != 1)) return usage("diff", "two environments of one file: flowc diff --env A --env B FILE%s", "");
    if (!nenvs && !git && nfiles != 2) return usage("diff", "diff takes two files: flowc diff OLD NEW%s", "");
    DiffResult res = { 0 };
    int rc = EXIT_OK;
    if (nenvs) {
        Loaded l;
        rc = load_all("diff", files, 1, &l);
        const char *missing = NULL;
        if (rc == EXIT_OK && diff_envs(l.m, envs[0], envs[1], &res, &missing) < 0) {
            fprintf(stderr, "flowc diff: %s declares no environment `%s`\n", files[0], missing);
            rc = EXIT_USAGE;
        }
        unload(&l);
    } else {
        Loaded l[2];
        const char *both[2] = { git ? files[1] : files[0], git ? files[4] : files[1] };
        rc = load_all("diff", both, 2, l);
        if (rc == EXIT_OK) diff_models(l[0].m, l[1].m, &res);
        unload(&l[0]);
        unload(&l[1]);
    }
    if (rc == EXIT_OK) {
        if (git) printf("flowc diff %s\n", files[0]);
        if (json) diff_print_json(&res, stdout);
        else diff_print_text(&res, stdout);
        if (exit_code && res.n && !git) rc = EXIT_ERRORS;
    }
    diff_free(&res);
    return rc;
}

/* merge BASE OURS THEIRS [-o OUT] [-L OURS-LABEL [-L THEIRS-LABEL]] */
int cli_merge(int argc, char **argv) {
    const char *files[3], *out = NULL, *labels[2] = { NULL, NULL };
    int nfiles = 0, nlabels = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "-L") == 0) {
            if (i + 1 >= argc) return usage("merge", "%s needs a value", a);
            if (a[1] == 'o') out = argv[++i];
            else if (nlabels == 2) return usage("merge", "-L is given more than twice (ours, theirs)%s", "");
            else labels[nlabels++] = argv[++i];
        } else if (a[0] == '-' && a[1]) return usage("merge", "unknown option `%s`", a);
        else if (nfiles == 3) return usage("merge", "merge takes three files: BASE OURS THEIRS%s", "");
        else files[nfiles++] = a;
    }
    if (nfiles != 3) return usage("merge", "merge takes three files: flowc merge BASE OURS THEIRS [-o OUT]%s", "");
    Loaded l[3];
    int rc = load_all("merge", files, 3, l);
    if (rc != EXIT_OK) {
        for (int i = 0; i < 3; i++) unload(&l[i]);
        return rc;
    }
    MergeResult mr;
    merge_models(l[0].m, l[1].m, l[2].m, labels[0], labels[1], &mr);
    const char *name = out ? out : "<merged>";
    if (!mr.nconflicts && mr.len) {   /* the result must check clean, or it is a conflict too */
        Source *src = src_from_buffer(name, mr.text, mr.len);
        Diags d;
        diag_init(&d);
        FeResult r;
        fe_run(&r, src, &d, FE_CHECK);
        if (d.errors) {
            diag_sort(&d);
            diag_print_text(&d, stderr, isatty(2) && !getenv("NO_COLOR"));
            fprintf(stderr, "flowc merge: conflict: each side merges, but together they do not check (%d error%s above)\n",
                    d.errors, d.errors == 1 ? "" : "s");
            rc = EXIT_ERRORS;
        }
        fe_result_free(&r);
        diag_free(&d);
        src_free(src);
    }
    for (int i = 0; i < mr.nconflicts; i++)
        fprintf(stderr, "flowc merge: conflict: %s: %s\n", mr.conflicts[i].address, mr.conflicts[i].why);
    if (mr.nconflicts) {
        fprintf(stderr, "flowc merge: %d conflict%s, marked in %s\n", mr.nconflicts, mr.nconflicts == 1 ? "" : "s", out ? out : "the output");
        rc = EXIT_ERRORS;
    }
    for (int i = 0; i < 3; i++) unload(&l[i]);
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "flowc merge: cannot write `%s`\n", out);
        rc = EXIT_USAGE;
    } else {
        if (mr.len && fwrite(mr.text, 1, mr.len, f) != mr.len) rc = EXIT_USAGE;
        if (out && fclose(f) != 0) rc = EXIT_USAGE;
        if (rc == EXIT_USAGE) fprintf(stderr, "flowc merge: cannot write `%s`\n", name);
    }
    merge_free(&mr);
    return rc;
}
