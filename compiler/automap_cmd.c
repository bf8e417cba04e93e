/* automap_cmd.c — the `flowc automap` command (beside main.c): flags, choosing the flow and the import,
 * printing the suggestions of automap.c (text, or JSON for tools), and `--write`: the confident ones
 * inserted, the file formatted, checked and replaced atomically. Decides its exit codes. */
#include "automap.h"
#include "automap_cmd.h"
#include "diag.h"
#include "flow.h"
#include "fmt.h"
#include "frontend.h"
#include "hooks.h"
#include "suggest.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = "usage: flowc automap FILE [--flow F] [--import I | --at LINE:COL] [--sample FILE.json] [--type T] [--write] [--json]\n";

static int bad_usage(const char *msg, const char *arg) {
    fprintf(stderr, "flowc: automap: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

/* "a, b, c" of the names */
static void list_names(FILE *out, const char **names, int n) {
    for (int i = 0; i < n; i++) fprintf(out, "%s%s", i ? ", " : "", names[i]);
}

static void print_text(const AmResult *r, const IrFlow *f, const IrStep *imp) {
    int mapped = 0;
    for (int i = 0; i < r->nfields; i++) mapped += r->fields[i].mapped;
    printf("flow %s \u203a import %s: %s: %d field%s, %d mapped, %d suggestion%s (%d confident)\n", f->name, imp->name, r->dest,
           r->nfields, r->nfields == 1 ? "" : "s", mapped, r->n, r->n == 1 ? "" : "s", r->nconfident);
    for (int i = 0; i < r->n; i++) {
        const AmSuggestion *s = &r->items[i];
        printf("  %c %.2f  %s = %s\n          %s\n", s->confident ? '*' : ' ', s->confidence, s->target, s->value, s->reason);
    }
    int first = 1;
    for (int i = 0; i < r->nfields; i++) {
        const AmDestField *df = &r->fields[i];
        if (df->mapped || df->suggested) continue;
        printf("%s%s (%s)", first ? "no suggestion: " : ", ", df->path, df->note ? df->note : "");
        first = 0;
    }
    if (!first) printf("\n");
    if (r->nconfident) printf("* confident (%.2f or more): --write inserts these\n", AM_CONFIDENT);
}

static const char *kind_word(AmDestKind k) {
    switch (k) {
    case AM_DEST_SQLITE: return "sqlite";
    case AM_DEST_POSTGRES: return "postgres";
    case AM_DEST_TYPE: return "type";
    case AM_DEST_SAMPLE: return "sample";
    }
    return "?";
}

static double two_places(double x) { return (double)(long long)(x * 100 + 0.5) / 100; }

static void print_json(const AmResult *r, const IrFlow *f, const IrStep *imp) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "flow", f->name);
    cJSON_AddStringToObject(o, "import", imp->name);
    cJSON *d = cJSON_AddObjectToObject(o, "destination");
    cJSON_AddStringToObject(d, "kind", kind_word(r->dest_kind));
    cJSON_AddStringToObject(d, "description", r->dest);
    cJSON_AddNumberToObject(o, "threshold", AM_CONFIDENT);
    cJSON *fs = cJSON_AddArrayToObject(o, "fields");
    for (int i = 0; i < r->nfields; i++) {
        const AmDestField *df = &r->fields[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", df->path);
        cJSON_AddStringToObject(x, "type", df->type);
        cJSON_AddBoolToObject(x, "mapped", df->mapped);
        cJSON_AddBoolToObject(x, "suggested", df->suggested);
        if (df->note) cJSON_AddStringToObject(x, "note", df->note); else cJSON_AddNullToObject(x, "note");
        cJSON_AddItemToArray(fs, x);
    }
    cJSON *ss = cJSON_AddArrayToObject(o, "suggestions");
    for (int i = 0; i < r->n; i++) {
        const AmSuggestion *s = &r->items[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "target", s->target);
        cJSON_AddStringToObject(x, "value", s->value);
        cJSON_AddStringToObject(x, "source", s->source);
        cJSON_AddStringToObject(x, "type", s->dest_type);
        if (s->conversion) cJSON_AddStringToObject(x, "conversion", s->conversion); else cJSON_AddNullToObject(x, "conversion");
        cJSON_AddNumberToObject(x, "confidence", two_places(s->confidence));
        cJSON_AddBoolToObject(x, "confident", s->confident);
        cJSON_AddStringToObject(x, "reason", s->reason);
        if (s->runner_up) {
            cJSON *ru = cJSON_AddObjectToObject(x, "runner_up");
            cJSON_AddStringToObject(ru, "source", s->runner_up);
            cJSON_AddNumberToObject(ru, "confidence", two_places(s->runner_up_confidence));
        } else cJSON_AddNullToObject(x, "runner_up");
        cJSON_AddItemToArray(ss, x);
    }
    if (r->edit.text) {
        cJSON *e = cJSON_AddObjectToObject(o, "edit");
        cJSON_AddNumberToObject(e, "offset", (double)r->edit.offset);
        cJSON_AddNumberToObject(e, "length", (double)r->edit.length);
        cJSON_AddStringToObject(e, "text", r->edit.text);
    } else cJSON_AddNullToObject(o, "edit");
    char *t = flow_json_print_pretty(o);
    if (!t) abort();
    printf("%s\n", t);
    cJSON_free(t);
    cJSON_Delete(o);
}

int automap_main(int argc, char **argv) {
    const char *file = NULL, *flow = NULL, *import = NULL, *at = NULL;
    AmOptions o = { 0 };
    int write = 0, json = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--flow") == 0 ? &flow : strcmp(a, "--import") == 0 ? &import
                          : strcmp(a, "--sample") == 0 ? &o.sample : strcmp(a, "--type") == 0 ? &o.type_name
                          : strcmp(a, "--at") == 0 ? &at : NULL;
        if (slot) {
            if (i + 1 >= argc) return bad_usage("%s needs a value", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--write") == 0) write = 1;
        else if (strcmp(a, "--json") == 0) json = 1;
        else if (a[0] == '-' && a[1]) return bad_usage("unknown option `%s`", a);
        else if (file) return bad_usage("one FILE only (`%s` is another)", a);
        else file = a;
    }
    if (!file) return bad_usage("FILE is missing%s", "");
    int at_line = 0, at_col = 0;
    if (at && (sscanf(at, "%d:%d", &at_line, &at_col) != 2 || at_line < 1 || at_col < 1)) return bad_usage("--at takes LINE:COL (1-based), not `%s`", at);
    if (at && (flow || import)) return bad_usage("--at chooses the flow and the import: give it alone%s", "");
    if (o.sample && o.type_name) return bad_usage("--sample and --type both name the destination's fields: give one%s", "");
    if (write && strcmp(file, "-") == 0) return bad_usage("--write needs a file, not standard input%s", "");
    const char *err;
    Source *src = src_load_file(file, &err);
    if (!src) { fprintf(stderr, "flowc: cannot read `%s`: %s\n", file, err); return 2; }
    Diags d;
    diag_init(&d);
    FeResult fr;
    fe_run(&fr, src, &d, FE_CHECK);
    int rc = 0;
    AmResult r = { 0 };
    const IrFlow *f = NULL;
    const IrStep *imp = NULL;
    const char **names = NULL;
    if (d.errors || !fr.ir) {
        diag_sort(&d);
        diag_print_text(&d, stderr, 0);
        fprintf(stderr, "flowc: automap: %s does not check: fix it first\n", file);
        rc = 1;
        goto out;
    }
    if (at) {   /* the import at a place in the file, as the language server's code action finds it */
        size_t off = src->len;
        if (at_line <= src->nlines) {
            size_t ls = src->lines[at_line - 1], le = at_line < src->nlines ? src->lines[at_line] : src->len;
            off = ls + (size_t)at_col - 1 < le ? ls + (size_t)at_col - 1 : src->len;
        }
        if (!(imp = am_import_at(fr.ir, off, &f))) {
            fprintf(stderr, "flowc: automap: %s:%s is not inside an import\n", file, at);
            rc = 2;
            goto out;
        }
        goto suggest;
    }
    names = calloc((size_t)fr.ir->nflows + 1, sizeof *names);
    if (!names) abort();
    for (int i = 0; i < fr.ir->nflows; i++) names[i] = fr.ir->flows[i]->name;
    if (!flow && fr.ir->nflows == 1) f = fr.ir->flows[0];
    else if (!flow) {
        fprintf(stderr, "flowc: automap: %s has %d flows: name one with --flow (", file, fr.ir->nflows);
        list_names(stderr, names, fr.ir->nflows);
        fprintf(stderr, ")\n");
        rc = 2;
        goto out;
    } else if (!(f = ir_flow_named(fr.ir, flow))) {
        Suggest sg;
        sug_init(&sg, flow);
        for (int i = 0; i < fr.ir->nflows; i++) sug_offer(&sg, names[i]);
        fprintf(stderr, "flowc: automap: %s has no flow `%s`", file, flow);
        if (sug_best(&sg)) fprintf(stderr, "; did you mean `%s`?", sug_best(&sg));
        fprintf(stderr, " (its flows: ");
        list_names(stderr, names, fr.ir->nflows);
        fprintf(stderr, ")\n");
        rc = 2;
        goto out;
    }
    free(names);
    names = calloc((size_t)f->nall + 1, sizeof *names);
    if (!names) abort();
    int nimp = 0;
    for (int i = 0; i < f->nall; i++) if (f->all[i]->kind == STEP_IMPORT) names[nimp++] = f->all[i]->name;
    if (!import && nimp == 1) imp = am_import(f, names[0]);
    else if (!import || !(imp = am_import(f, import))) {
        if (!import) fprintf(stderr, "flowc: automap: flow %s has %d imports: name one with --import", f->name, nimp);
        else {
            Suggest sg;
            sug_init(&sg, import);
            for (int i = 0; i < nimp; i++) sug_offer(&sg, names[i]);
            fprintf(stderr, "flowc: automap: flow %s has no import `%s`", f->name, import);
            if (sug_best(&sg)) fprintf(stderr, "; did you mean `%s`?", sug_best(&sg));
        }
        fprintf(stderr, " (its imports: ");
        if (nimp) list_names(stderr, names, nimp); else fprintf(stderr, "none");
        fprintf(stderr, ")\n");
        rc = 2;
        goto out;
    }
suggest:
    if (am_suggest(fr.ir, f, imp, &o, &r) != 0) {
        fprintf(stderr, "flowc: automap: flow %s \u203a import %s: %s\n", f->name, imp->name, r.error);
        rc = 1;
        goto out;
    }
    if (json) print_json(&r, f, imp); else print_text(&r, f, imp);
    fflush(stdout);
    if (write && !r.text) fprintf(stderr, "flowc: automap: no confident suggestion: %s is left as it is\n", file);
    if (write && r.text) {
        /* the result must check (hooks included, as flowc check) before it replaces the file */
        size_t len = strlen(r.text);
        Source *ns = src_from_buffer(file, r.text, len);
        Diags nd;
        diag_init(&nd);
        FeResult nr;
        fe_run(&nr, ns, &nd, FE_CHECK);
        if (!nd.errors) { hooks_check(nr.ir, ns, &nd); hooks_check_test_files(nr.ir, ns, &nd); }
        if (nd.errors) {
            diag_sort(&nd);
            diag_print_text(&nd, stderr, 0);
            fprintf(stderr, "flowc: automap: %s with the suggestions does not check: nothing was written\n", file);
            rc = 1;
        } else if (src_write_atomic(file, r.text, len, &err) != 0) {
            fprintf(stderr, "flowc: automap: cannot write `%s`: %s; the file is left as it is\n", file, err);
            rc = 2;
        } else {
            fprintf(stderr, "flowc: automap: wrote %d map line%s into import %s of %s\n", r.nconfident, r.nconfident == 1 ? "" : "s", imp->name, file);
        }
        diag_free(&nd);
        fe_result_free(&nr);
        src_free(ns);
    }
out:
    free(names);
    am_result_free(&r);
    diag_free(&d);
    fe_result_free(&fr);
    src_free(src);
    return rc;
}
