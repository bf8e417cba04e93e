/* clone.c — flowc clone FILE FLOW NEW_NAME [-o OUT]: the integration with a copy of flow FLOW, named
 * NEW_NAME, right after it; the original and every other byte unchanged. In the copy what must be
 * its own is renamed: its webhook path (the last segment when it is the flow's name, else NEW_NAME
 * appended as a segment), its once() flag (FLAG_NEW_NAME, so the source records it marks are its
 * own); its schedule is manual() (a clone runs only when asked); its delta time and run history
 * are keyed by its name in the state store, so they start fresh. The result is checked before it is
 * written (OUT, replaced atomically, or standard output). */
#define _GNU_SOURCE 1   /* asprintf */
#include "clone.h"
#include "builtins.h"
#include "diag.h"
#include "frontend.h"
#include "hooks.h"
#include "source.h"
#include "suggest.h"
#include "ir.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Edit { uint32_t at, end; char *text; } Edit;

static int cmp_edit(const void *a, const void *b) {
    const Edit *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

static int is_ident(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return 0;
    for (; *s; s++) if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
    return 1;
}

static const IrSetting *setting(const IrSetting *s, int n, const char *name) {
    for (int i = 0; i < n; i++) if (strcmp(s[i].name, name) == 0) return &s[i];
    return NULL;
}

/* a string as a Flow literal (the values cloned here are paths and names: no escapes but \" and \\) */
static char *quoted(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(2 * n + 3), *p = o;
    if (!o) abort();
    *p++ = '"';
    for (; *s; s++) { if (*s == '"' || *s == '\\') *p++ = '\\'; *p++ = *s; }
    *p++ = '"';
    *p = 0;
    return o;
}

static char *aprintf2(const char *fmt, const char *a, const char *b) {
    char *o = NULL;
    if (asprintf(&o, fmt, a, b) < 0) abort();
    return o;
}

/* The text of flow f with its edits, and notes of what changed on `notes` (when not NULL). */
static char *clone_text(const Source *src, const IrFlow *f, const char *nn, FILE *notes) {
    Edit ed[8];
    int ne = 0;
    ed[ne++] = (Edit){ f->name_span.start, f->name_span.end, strdup(nn) };
    const IrSetting *sc = setting(f->settings, f->nsettings, "schedule");
    if (sc && sc->value) {
        const IrExpr *v = sc->value;
        int manual = v->kind == IR_CALL && v->fn && strcmp(v->fn->name, "manual") == 0;
        if (!manual) {
            if (notes) fprintf(notes, "flowc: clone: %s: schedule manual() (%s has %.*s)\n", nn, f->name, (int)(v->span.end - v->span.start), src->text + v->span.start);
            ed[ne++] = (Edit){ v->span.start, v->span.end, strdup("manual()") };
        }
    }
    const IrSetting *tr = setting(f->settings, f->nsettings, "trigger");
    const IrExpr *tv = tr ? tr->value : NULL;
    if (tv && tv->kind == IR_CALL && tv->fn && strcmp(tv->fn->name, "webhook") == 0 && tv->nkids && tv->kids[0] && tv->kids[0]->kind == IR_STR) {
        const char *path = tv->kids[0]->str, *last = strrchr(path, '/');
        char *full = NULL;
        int r = last && strcmp(last + 1, f->name) == 0 ? asprintf(&full, "%.*s/%s", (int)(last - path), path, nn)
                                                       : asprintf(&full, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", nn);
        if (r < 0) abort();
        if (notes) fprintf(notes, "flowc: clone: %s: webhook path %s (%s has %s)\n", nn, full, f->name, path);
        ed[ne++] = (Edit){ tv->kids[0]->span.start, tv->kids[0]->span.end, quoted(full) };
        free(full);
    }
    const IrStep *ex = f->nsteps && f->steps[0]->kind == STEP_EXPORT ? f->steps[0] : NULL;
    const IrSetting *mode = ex ? setting(ex->settings, ex->nsettings, "mode") : NULL;
    const IrExpr *mv = mode ? mode->value : NULL;
    if (mv && mv->kind == IR_CALL && mv->fn && strcmp(mv->fn->name, "once") == 0 && mv->nkids && mv->kids[0] && mv->kids[0]->kind == IR_STR) {
        char *flag = aprintf2("%s_%s", mv->kids[0]->str, nn);
        if (notes) fprintf(notes, "flowc: clone: %s: once() flag \"%s\" (%s has \"%s\"): the source's records need that field%s\n", nn, flag, f->name,
                mv->kids[0]->str, mv->nkids > 2 && mv->kids[2] ? "; its mark request is copied as it is: make it set the new flag" : "");
        ed[ne++] = (Edit){ mv->kids[0]->span.start, mv->kids[0]->span.end, quoted(flag) };
        free(flag);
    }
    qsort(ed, (size_t)ne, sizeof *ed, cmp_edit);
    char *out = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&out, &n);
    if (!m) abort();
    uint32_t pos = f->span.start;
    for (int i = 0; i < ne; i++) {
        fwrite(src->text + pos, 1, ed[i].at - pos, m);
        fputs(ed[i].text, m);
        pos = ed[i].end;
        free(ed[i].text);
    }
    fwrite(src->text + pos, 1, f->span.end - pos, m);
    fclose(m);
    return out;
}

char *clone_insert(const Source *src, const IrFlow *f, const char *nn, FILE *notes, size_t *len) {
    char *ct = clone_text(src, f, nn, notes), *text = NULL;
    FILE *m = open_memstream(&text, len);
    if (!m) abort();
    fwrite(src->text, 1, f->span.end, m);
    fprintf(m, "\n\n%s", ct);
    fwrite(src->text + f->span.end, 1, src->len - f->span.end, m);
    fclose(m);
    free(ct);
    return text;
}


int clone_main(int argc, char **argv) {
    const char *pos[3] = { NULL, NULL, NULL }, *out = NULL;
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc) { fprintf(stderr, "flowc: clone: -o needs a file\n"); return 2; }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) { fprintf(stderr, "flowc: clone: unknown option `%s`\n", argv[i]); return 2; }
        else if (npos == 3) { fprintf(stderr, "flowc: clone takes FILE FLOW NEW_NAME\n"); return 2; }
        else pos[npos++] = argv[i];
    }
    if (npos != 3) { fprintf(stderr, "flowc: usage: flowc clone FILE.flow FLOW NEW_NAME [-o OUT]\n"); return 2; }
    const char *file = pos[0], *flow = pos[1], *nn = pos[2];
    if (!is_ident(nn)) { fprintf(stderr, "flowc: clone: `%s` is not a flow name (letters, digits, _)\n", nn); return 2; }
    const char *err;
    Source *src = src_load_file(file, &err);
    if (!src) { fprintf(stderr, "flowc: cannot read `%s`: %s\n", file, err); return 2; }
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    int rc = 0;
    char *text = NULL;
    size_t tlen = 0;
    if (d.errors) { diag_sort(&d); diag_print_text(&d, stderr, 0); rc = 1; }
    const IrFlow *f = NULL;
    Suggest sg;
    sug_init(&sg, flow);
    for (int i = 0; !rc && i < r.ir->nflows; i++) {
        if (strcmp(r.ir->flows[i]->name, flow) == 0) f = r.ir->flows[i];
        if (strcmp(r.ir->flows[i]->name, nn) == 0) { fprintf(stderr, "flowc: clone: %s already has a flow `%s`\n", file, nn); rc = 2; }
        sug_offer(&sg, r.ir->flows[i]->name);
    }
    if (!rc && !f) {
        fprintf(stderr, "flowc: clone: %s has no flow `%s`%s%s%s\n", file, flow, sug_best(&sg) ? "; did you mean `" : "",
                sug_best(&sg) ? sug_best(&sg) : "", sug_best(&sg) ? "`?" : "");
        rc = 2;
    }
    if (!rc) {
        text = clone_insert(src, f, nn, stderr, &tlen);
        /* the result must check, hooks included (named as FILE: its hooks are where FILE's are) */
        Source *ns = src_from_buffer(file, text, tlen);
        Diags nd;
        diag_init(&nd);
        FeResult nr;
        fe_run(&nr, ns, &nd, FE_CHECK);
        if (!nd.errors) { hooks_check(nr.ir, ns, &nd); hooks_check_test_files(nr.ir, ns, &nd); }   /* as flowc check */
        if (nd.errors) {
            diag_sort(&nd);
            diag_print_text(&nd, stderr, 0);
            fprintf(stderr, "flowc: clone: the integration with the clone does not check: nothing was written\n");
            rc = 1;
        }
        diag_free(&nd);
        fe_result_free(&nr);
        src_free(ns);
    }
    if (!rc && out) {
        const char *why;
        if (src_write_atomic(out, text, tlen, &why) < 0) { fprintf(stderr, "flowc: clone: cannot write %s: %s\n", out, why); rc = 2; }
        else fprintf(stderr, "flowc: clone: wrote %s with flow %s (a copy of %s)\n", out, nn, flow);
    } else if (!rc) fwrite(text, 1, tlen, stdout);
    free(text);
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
    return rc;
}
