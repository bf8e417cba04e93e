/* main.c — the flowc command line: parses flags, runs the stages in order, prints diagnostics and
 * decides exit codes (0 clean, 1 errors in the input, 2 usage or unreadable file). Nothing below
 * this file exits the process. */
#include "ast.h"
#include "diag.h"
#include "eval.h"
#include "build.h"
#include "emit_c.h"
#include "jit.h"
#include "test_run.h"
#include "frontend.h"
#include "fmt.h"
#include "lsp.h"
#include "hooks.h"
#include "ir.h"
#include "suggest.h"
#include "engine.h"
#include "cron.h"
#include "package.h"
#include "install.h"
#include "automap_cmd.h"
#include "clone.h"
#include "cli_diff.h"
#include "graph.h"
#include "resource.h"
#include "token_dump.h"
#include "server.h"
#include "remote.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: flowc <command> [options] FILE...\n"
    "\n"
    "commands:\n"
    "  check FILE...          parse and type-check; diagnostics on stderr\n"
    "  dump ast|ir|resources FILE   dump tokens FILE...\n"
    "                         print the syntax tree, the typed IR, the addressed resources diff reads,\n"
    "                         or the lexer's tokens (byte offsets and a class, for editor grammars)\n"
    "  emit-c FILE            the generated C on stdout\n"
    "  build FILE [-o OUT] [-P name=value]... [--env NAME] [--keep-c]\n"
    "                         a native executable (default name: the integration's name)\n"
    "  test [--env NAME] FILE...\n"
    "                         runs the test blocks in memory; ends with `N passed, N failed`\n"
    "  preview FILE [--flow NAME] [-P name=value]... [--env NAME] [--limit N] [--mock STEP=FILE]... [--live] [--format text|json]\n"
    "                         the first page through every step; imports do not write unless --live\n"
    "                         (--param is -P; --mock names the export, a lookup, or `existing`)\n"
    "  run FILE [--flow NAME] [-P name=value]... [--env NAME] [run options]\n"
    "                         compiles in memory (libtcc) and runs, as the executable's `run` would;\n"
    "                         run options: [--param k=v]... [--json] [--since T] [--until T] [--now T] [--state DIR]\n"
    "                         (--now T: as if the clock read T, a testing aid: the saved delta time stays)\n"
    "                         (run options also: [--env NAME] [--no-chain] [--quiet])\n"
    "  serve FILE [-P name=value]... [--env NAME] [--listen ADDR:PORT] [--param k=v]... [--state DIR] [--admin-token T]\n"
    "                         compiles in memory and serves: schedules, after() chains, webhooks, /healthz, /metrics\n"
    "  errors FILE list|retry|resolve|edit ...   state FILE show|reset [FLOW]   runs FILE [--flow F] [--json] [--limit N]\n"
    "  describe FILE [--param k=v]... [--show-secrets] [--state DIR]\n"
    "                         the executable's error store, state, run history and describe commands, on FILE's state\n"
    "  cron EXPR [--from T] [--tz ZONE] [-n N]\n"
    "  cron --every INTERVAL [--between HH:MM-HH:MM] [--on-days mon,fri] [--from T] [--tz ZONE] [-n N]\n"
    "                         the next N fire times after T (default now, N 10): UTC, then the time in ZONE\n"
    "  package FILE [-o PKG] [--env NAME]   package --list PKG [--format text|json]\n"
    "                         a reproducible .flowpkg (the .flow file, its hooks and test data, manifest.json)\n"
    "  install PKG DIR [-P name=value]... [--environment NAME]\n"
    "                         verifies PKG and writes it into DIR with those values as defaults (or updates it)\n"
    "  clone FILE FLOW NEW_NAME [-o OUT]\n"
    "                         a copy of FLOW under a new name: its own webhook path and once flag, manual()\n"
    "  remote URL [--token T] integrations|flows|jobs|errors|tokens|audit ACTION [ARGS...]\n"
    "                         flowc server's API from the command line (the token also from $FLOWC_TOKEN)\n"
    "  automap FILE [--flow F] [--import I] [--sample FILE.json] [--type T] [--write] [--json]\n"
    "                         suggests map lines for the destination's fields the import does not map yet;\n"
    "                         --write inserts the confident ones (the file stays formatted)\n"
    "  (--env NAME is also --environment NAME: the env block's values, -P on top)\n"
    "  graph FILE [--flow NAME] [--format dot|mermaid|svg] [-o OUT]\n"
    "                         a picture of the flows (all of them, after() chains between them), or of one\n"
    "  fmt [--check] [--diff] FILE...|-\n"
    "                         rewrites files in the canonical layout (`-`: stdin to stdout); --check lists\n"
    "                         the files that would change (exit 1), --diff prints the changes\n"
    "  lsp                    the language server: LSP (JSON-RPC) on stdin and stdout, for editors\n"
    "  diff OLD NEW [--format text|json] [--exit-code]   diff --env A --env B FILE\n"
    "                         what changed, by resource (flow, step, map entry, type field, ...)\n"
    "  merge BASE OURS THEIRS [-o OUT] [-L OURS-LABEL -L THEIRS-LABEL]\n"
    "                         three-way merge by resource; conflicts marked around the item\n"
    "  eval [--data FILE] EXPR\n"
    "                         evaluates a Flow expression with `record` bound to the JSON data\n"
    "  eval --path JSONPATH [--data FILE]\n"
    "                         RFC 9535 query; prints the node list as a JSON array\n"
    "  eval --template TEXT [--data FILE] [--escape none|html|json]\n"
    "                         renders a template with the JSON object's members as names\n"
    "\n"
    "options:\n"
    "  --format text|json     diagnostics as text (default) or as a JSON array on stdout\n"
    "  --color auto|always|never\n"
    "                         colour in text diagnostics (default: auto, on a terminal)\n"
    "  -h, --help             this help\n"
    "  --version              the version\n"
    "\n"
    "exit status: 0 clean (warnings allowed), 1 errors in the input, 2 usage error or unreadable file\n";

typedef struct Opts {
    int json;
    int color;
    const char *files[256];
    int nfiles;
    const char *stage;
} Opts;

static int usage_error(const char *fmt, const char *arg) {
    fputs("flowc: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nrun `flowc --help` for usage\n", stderr);
    return EXIT_USAGE;
}

/* Common options after the command name. Returns -1 when fine, else an exit code. */
static int parse_opts(int argc, char **argv, int start, Opts *o) {
    const char *color = "auto";
    for (int i = start; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--format") == 0 || strncmp(a, "--format=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) return usage_error("%s needs a value: text or json", "--format");
            if (strcmp(v, "json") == 0) o->json = 1;
            else if (strcmp(v, "text") == 0) o->json = 0;
            else return usage_error("unknown format `%s`: use text or json", v);
        } else if (strcmp(a, "--color") == 0 || strncmp(a, "--color=", 8) == 0) {
            const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || (strcmp(v, "auto") && strcmp(v, "always") && strcmp(v, "never")))
                return usage_error("--color takes auto, always or never%s", "");
            color = v;
        } else if (strcmp(a, "--no-color") == 0) {
            color = "never";
        } else if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (o->nfiles == 256) return usage_error("too many files (limit %s)", "256");
                o->files[o->nfiles++] = argv[i];
            }
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option `%s`", a);
        } else {
            if (o->nfiles == 256) return usage_error("too many files (limit %s)", "256");
            o->files[o->nfiles++] = a;
        }
    }
    o->color = strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(2) && !getenv("NO_COLOR"));
    return -1;
}

static void print_diags(Diags *d, const Opts *o) {
    diag_sort(d);
    if (!o->json) diag_print_text(d, stderr, o->color);
}

/* check FILE...: all files' diagnostics; in JSON mode one array for all of them. */
static int cmd_check(const Opts *o) {
    if (o->nfiles == 0) return usage_error("check needs at least one FILE%s", "");
    int unreadable = 0, errors = 0;
    Diags all;
    diag_init(&all);
    Source *srcs[256];
    FeResult results[256];
    int n = 0;
    for (int i = 0; i < o->nfiles; i++) {
        const char *why;
        Source *src = src_load_file(o->files[i], &why);
        if (!src) {
            fprintf(stderr, "flowc: cannot read `%s`: %s\n", o->files[i], why);
            unreadable = 1;
            continue;
        }
        Diags d;
        diag_init(&d);
        fe_check(&results[n], src, &d);   /* parse, lower, check; hook and test data files */
        srcs[n++] = src;
        errors += d.errors;
        print_diags(&d, o);
        diag_move(&all, &d);   /* kept for the JSON array */
    }
    if (o->json) diag_print_json(&all, stdout);
    diag_free(&all);
    for (int i = 0; i < n; i++) { fe_result_free(&results[i]); src_free(srcs[i]); }
    return unreadable ? EXIT_USAGE : errors ? EXIT_ERRORS : EXIT_OK;
}

/* dump tokens FILE...: the lexer only, file after file (one process for the hundreds of files the
 * editor grammar's test compares) */
static int cmd_dump_tokens(const Opts *o) {
    if (o->nfiles == 0) return usage_error("dump tokens needs at least one FILE%s", "");
    int rc = EXIT_OK;
    for (int i = 0; i < o->nfiles; i++) {
        const char *why;
        Source *src = src_load_file(o->files[i], &why);
        if (!src) {
            fprintf(stderr, "flowc: cannot read `%s`: %s\n", o->files[i], why);
            rc = EXIT_USAGE;
            continue;
        }
        Diags d;
        diag_init(&d);
        FeResult r;
        fe_run(&r, src, &d, FE_PARSE);   /* the syntax errors, lexical or not, which the header counts */
        tokens_dump(stdout, o->files[i], src, d.errors);
        fflush(stdout);
        print_diags(&d, o);
        if (d.errors && rc == EXIT_OK) rc = EXIT_ERRORS;
        diag_free(&d);
        fe_result_free(&r);
        src_free(src);
    }
    return rc;
}

static int cmd_dump(const Opts *o) {
    if (!o->stage || (strcmp(o->stage, "ast") && strcmp(o->stage, "ir") && strcmp(o->stage, "resources") && strcmp(o->stage, "tokens")))
        return usage_error("dump needs a stage: `flowc dump ast FILE`, `flowc dump ir FILE`, `flowc dump resources FILE` or `flowc dump tokens FILE`%s", "");
    if (strcmp(o->stage, "tokens") == 0) return cmd_dump_tokens(o);
    if (o->nfiles != 1) return usage_error("dump takes exactly one FILE%s", "");
    const char *why;
    Source *src = src_load_file(o->files[0], &why);
    if (!src) {
        fprintf(stderr, "flowc: cannot read `%s`: %s\n", o->files[0], why);
        return EXIT_USAGE;
    }
    Diags d;
    diag_init(&d);
    FeResult r;
    int ir = strcmp(o->stage, "ir") == 0, res = strcmp(o->stage, "resources") == 0;
    fe_run(&r, src, &d, ir || res ? FE_CHECK : FE_PARSE);
    if (ir && r.ir) ir_dump(stdout, r.ir);
    else if (res && r.ir && !d.errors) res_dump(stdout, res_build(r.arena, src, r.ast, r.ir));   /* the model diff and merge read */
    else if (!ir && !res) ast_dump(stdout, src, r.ast);
    fflush(stdout);      /* the dump first, then the diagnostics: never interleaved */
    print_diags(&d, o);
    if (o->json) diag_print_json(&d, stderr);
    int rc = d.errors ? EXIT_ERRORS : EXIT_OK;
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
    return rc;
}

/* Front end + emitter for one file; on success *c holds the C text (malloc'd). Returns an exit code. */
/* A file through the front end and the emitter: its source, its IR and its C, kept together so the
 * commands that go on (build, run, test, preview) do not parse it again. */
typedef struct Compiled { Source *src; FeResult r; char *c; size_t n; int secret; /* bakes in a secret */ } Compiled;

static void compiled_free(Compiled *k) {
    free(k->c);
    if (k->src) { fe_result_free(&k->r); src_free(k->src); }
    memset(k, 0, sizeof *k);
}

/* -P / --param names the file does not declare: each is refused (with the closest declared name);
 * the value is never printed (it may be a secret). EXIT_USAGE, or EXIT_OK when all are declared. */
static int unknown_params(const IrProgram *ir, const char *file, const char *opt, const char *const *names, int n) {
    int rc = EXIT_OK;
    for (int i = 0; ir && i < n; i++) {
        Suggest sg;
        sug_init(&sg, names[i]);
        int found = 0;
        for (int k = 0; k < ir->nparams && !found; k++) {
            found = strcmp(ir->params[k]->name, names[i]) == 0;
            sug_offer(&sg, ir->params[k]->name);
        }
        if (found) continue;
        if (sug_best(&sg)) fprintf(stderr, "flowc: %s %s=...: %s declares no param `%s`; did you mean `%s`?\n", opt, names[i], file, names[i], sug_best(&sg));
        else if (ir->nparams) fprintf(stderr, "flowc: %s %s=...: %s declares no param `%s`\n", opt, names[i], file, names[i]);
        else fprintf(stderr, "flowc: %s %s=...: %s declares no params\n", opt, names[i], file);
        rc = EXIT_USAGE;
    }
    return rc;
}

static int emit_file(const char *file, const EmitParam *params, int nparams, const char *env_name, int with_main,
                     Compiled *k) {
    memset(k, 0, sizeof *k);
    const char *why;
    Source *src = src_load_file(file, &why);
    if (!src) { fprintf(stderr, "flowc: cannot read `%s`: %s\n", file, why); return EXIT_USAGE; }
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    char **c = &k->c;
    size_t *clen = &k->n;
    int rc = EXIT_OK;
    EmitParam all[512];
    char bufs[256][32];   /* the text of an env block's numeric values, alive until the emitter ran */
    int nall = 0;
    if (!d.errors && env_name) {   /* --env NAME: that env block's values, then -P on top */
        IrEnv *env = NULL;
        for (int i = 0; i < r.ir->nenvs; i++) if (strcmp(r.ir->envs[i]->name, env_name) == 0) env = r.ir->envs[i];
        if (!env) { pkg_no_env(file, env_name, r.ir); rc = EXIT_USAGE; }
        else r.ir->environment = env->name;   /* the program names it (describe) */
        if (env) for (int i = 0; i < env->nsettings && nall < 256; i++) {
            IrExpr *v = env->settings[i].value;
            const char *text = NULL;
            if (v->kind == IR_STR) text = v->str;
            else if (v->kind == IR_BOOL) text = v->ival ? "true" : "false";
            else if (v->kind == IR_INT || v->kind == IR_DURATION) { snprintf(bufs[nall], 32, "%lld", (long long)v->ival); text = bufs[nall]; }
            else if (v->kind == IR_NUM) { snprintf(bufs[nall], 32, "%.17g", v->num); text = bufs[nall]; }
            if (text) all[nall++] = (EmitParam){ env->settings[i].name, text };
            else fprintf(stderr, "flowc: env `%s`: `%s` must be a constant to be applied at build time\n", env_name, env->settings[i].name);
        }
    }
    if (!d.errors && rc == EXIT_OK && nparams) {   /* -P NAME=...: NAME must be declared */
        const char *names[256];
        for (int i = 0; i < nparams && i < 256; i++) names[i] = params[i].name;
        rc = unknown_params(r.ir, file, "-P", names, nparams < 256 ? nparams : 256);
    }
    for (int i = 0; i < nparams && nall < 512; i++) all[nall++] = params[i];
    if (!d.errors && rc == EXIT_OK) hooks_check(r.ir, src, &d);   /* each hook file is checked before anything reads it */
    if (!d.errors && rc == EXIT_OK) {
        FILE *mem = open_memstream(c, clen);
        if (!mem) abort();
        emit_c(mem, &d, r.ir, all, nall, with_main);
        fclose(mem);
        k->secret = emit_bakes_secrets(r.ir, all, nall);
        if (d.errors) { free(*c); *c = NULL; }
    }
    diag_sort(&d);
    diag_print_text(&d, stderr, isatty(2) && !getenv("NO_COLOR"));
    if (d.errors && rc == EXIT_OK) rc = EXIT_ERRORS;
    diag_free(&d);
    if (rc == EXIT_OK) { k->src = src; k->r = r; return rc; }
    free(k->c);
    k->c = NULL;
    fe_result_free(&r);
    src_free(src);
    return rc;
}

static int cmd_emit(int argc, char **argv) {
    if (argc != 3) return usage_error("emit-c takes one FILE%s", "");
    Compiled k;
    int rc = emit_file(argv[2], NULL, 0, NULL, 1, &k);
    if (k.c) fwrite(k.c, 1, k.n, stdout);
    compiled_free(&k);
    return rc;
}

/* A checked -P name=value: name and value in one malloc'd string (free the name), and the value
 * hidden from `ps` for as long as flowc runs (flow_arg_take): it may be a token. */
static EmitParam take_param(char *arg) {
    char *kv = flow_arg_take(arg), *eq = strchr(kv, '=');
    *eq = 0;
    return (EmitParam){ kv, eq + 1 };
}

/* build FILE [-o OUT] [-P name=value]... [--env NAME] [--keep-c] */
static int cmd_build(int argc, char **argv) {
    const char *file = NULL, *out = NULL, *env_name = NULL;
    EmitParam params[256];
    int np = 0, keep_c = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--keep-c") == 0) { keep_c = 1; continue; }
        if (strcmp(a, "-o") == 0 || strcmp(a, "-P") == 0 || strcmp(a, "--env") == 0 || strcmp(a, "--environment") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (a[1] == 'o') out = v;
            else if (a[1] == '-') env_name = v;
            else {
                const char *eq = strchr(v, '=');
                if (!eq || eq == v) return usage_error("-P takes name=value, not `%s`", v);
                if (np == 256) return usage_error("too many -P values (limit %s)", "256");
                params[np++] = take_param(argv[i]);
            }
        } else if (a[0] == '-' && a[1]) return usage_error("build: unknown option `%s`", a);
        else if (file) return usage_error("build takes one FILE%s", "");
        else file = a;
    }
    int rc;
    if (!file) rc = usage_error("build needs a FILE%s", "");
    else {
        Compiled k;
        rc = emit_file(file, params, np, env_name, 1, &k);
        if (rc == EXIT_OK) {
            const char *integration = k.r.ir->name;
            char def[256];
            if (!out) {   /* the integration's name, made a safe file name */
                snprintf(def, sizeof def, "%s", integration && *integration ? integration : "flow");
                for (char *p = def; *p; p++) if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) *p = '_';
                out = def;
            }
            if (build_native(k.c, k.n, out, k.secret, keep_c, stderr) < 0) rc = EXIT_ERRORS;
        }
        compiled_free(&k);
    }
    for (int i = 0; i < np; i++) free((void *)params[i].name);
    return rc;
}

/* run FILE [--flow NAME]... [-P name=value]... [--env NAME] [run options]: compiled in memory and run
 * exactly as the built executable's `run` (same options, summary and exit codes). `errors FILE ...`,
 * `state FILE ...`, `runs FILE ...` and `serve FILE ...` are the executable's commands the same way
 * (serve forks a process per run: the compiled code is in the memory each child starts with). */
static int cmd_run(int argc, char **argv) {
    if (argc < 3 || (argv[2][0] == '-' && argv[2][1])) {   /* "-": the flow on standard input */
        char what[200];   /* run, errors, state, runs, serve, describe: each names itself */
        snprintf(what, sizeof what, "%s needs a FILE: flowc %s FILE [options], the built executable's `%s` options", argv[1], argv[1], argv[1]);
        return usage_error("%s", what);
    }
    const char *file = argv[2], *env_name = NULL;
    EmitParam params[256];
    int np = 0;
    char **rargv = calloc((size_t)argc + 2, sizeof(char *));
    if (!rargv) abort();
    int rargc = 0;
    rargv[rargc++] = "flowc";
    rargv[rargc++] = argv[1];
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--flow") == 0 && i + 1 < argc && strcmp(argv[1], "run") == 0) rargv[rargc++] = argv[++i];
        else if (strcmp(argv[i], "-P") == 0 && i + 1 < argc) {
            const char *v = argv[++i], *eq = strchr(v, '=');
            if (!eq || eq == v || np == 256) { free(rargv); return usage_error("-P takes name=value, not `%s`", v); }
            params[np++] = take_param(argv[i]);
        } else if ((strcmp(argv[i], "--env") == 0 || strcmp(argv[i], "--environment") == 0) && i + 1 < argc) env_name = argv[++i];
        else rargv[rargc++] = argv[i];
    }
    Compiled k;
    int rc = emit_file(file, params, np, env_name, 0, &k);
    if (rc == EXIT_OK) {
        Diags d;
        diag_init(&d);
        JitProgram *j = jit_compile(k.c, k.src, &d);
        diag_print_text(&d, stderr, 0);
        if (!j) rc = EXIT_ERRORS;
        else {
            fflush(stdout);
            rc = flow_main(jit_program(j), rargc, rargv);
            jit_free(j);
        }
        diag_free(&d);
    }
    compiled_free(&k);
    free(rargv);
    for (int i = 0; i < np; i++) free((void *)params[i].name);
    return rc;
}

/* preview FILE [--flow NAME] [-P|--param k=v]... [--limit N] [--mock STEP=FILE]... [--live] [--format text|json] */
static int cmd_preview(int argc, char **argv) {
    if (argc < 3 || (argv[2][0] == '-' && argv[2][1])) return usage_error("preview needs a FILE%s", "");
    PreviewOpts o;
    memset(&o, 0, sizeof o);
    const char *env_name = NULL;
    o.limit = 20;
    o.color = isatty(1) && !getenv("NO_COLOR");
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--live") == 0) { o.live = 1; continue; }
        if (!v) return usage_error("preview: %s needs a value (or is unknown)", a);
        i++;
        if (strcmp(a, "--flow") == 0) o.flow = v;
        else if (strcmp(a, "--env") == 0 || strcmp(a, "--environment") == 0) env_name = v;
        else if (strcmp(a, "--limit") == 0) {
            o.limit = atoi(v);
            if (o.limit < 1 || o.limit > 100) return usage_error("--limit takes 1 to 100 records, not `%s`", v);
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "json") && strcmp(v, "text")) return usage_error("unknown format `%s`: use text or json", v);
            o.json = strcmp(v, "json") == 0;
        } else if (strcmp(a, "--mock") == 0 || strcmp(a, "--param") == 0 || strcmp(a, "-P") == 0) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) return usage_error("%s takes NAME=VALUE", a);
            int mock = strcmp(a, "--mock") == 0;
            if ((mock ? o.nmocks : o.nparams) == 64) return usage_error("too many %s values (limit 64)", a);
            if (mock) { o.mocks[o.nmocks].step = strndup(v, (size_t)(eq - v)); o.mocks[o.nmocks++].file = eq + 1; }
            else {
                EmitParam pv = take_param(argv[i]);
                o.params[o.nparams].name = pv.name;
                o.params[o.nparams++].value = pv.value;
            }
        } else return usage_error("preview: unknown option `%s`", a);
    }
    Compiled k;
    int rc = emit_file(argv[2], NULL, 0, env_name, 0, &k);
    if (rc == EXIT_OK) {   /* -P / --param NAME=...: NAME must be declared */
        const char *names[64];
        for (int i = 0; i < o.nparams; i++) names[i] = o.params[i].name;
        rc = unknown_params(k.r.ir, argv[2], "-P", names, o.nparams);
    }
    if (rc == EXIT_OK) rc = preview_file(k.src, k.r.ir, k.c, &o, stdout);
    compiled_free(&k);
    for (int i = 0; i < o.nmocks; i++) free((void *)o.mocks[i].step);
    for (int i = 0; i < o.nparams; i++) free((void *)o.params[i].name);
    return rc;
}

/* test FILE...: every test block, in memory; the last line is `N passed, N failed` */
static int cmd_test(int argc, char **argv) {
    const char *env_name = NULL;
    int nfiles = 0;
    for (int i = 2; i < argc; i++) {   /* --env NAME: every file's tests run with that env block's values */
        if (strcmp(argv[i], "--env") == 0 || strcmp(argv[i], "--environment") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a NAME", argv[i]);
            env_name = argv[++i];
        } else nfiles++;
    }
    if (nfiles == 0) return usage_error("test needs at least one FILE%s", "");
    int passed = 0, failed = 0, worst = EXIT_OK;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--env") == 0 || strcmp(argv[i], "--environment") == 0) { i++; continue; }
        Compiled k;
        int rc = emit_file(argv[i], NULL, 0, env_name, 0, &k);
        if (rc == EXIT_OK) rc = test_file(k.src, k.r.ir, k.c, stdout, &passed, &failed);
        compiled_free(&k);
        if (rc > worst) worst = rc;
    }
    printf("%d passed, %d failed\n", passed, failed);
    if (worst == EXIT_USAGE) return EXIT_USAGE;
    return failed || worst ? EXIT_ERRORS : EXIT_OK;
}

/* eval --path Q | --template T [--escape M] [--data FILE] */
static int cmd_eval(int argc, char **argv) {
    const char *path = NULL, *tpl = NULL, *data = NULL, *escape = "none", *expr = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0 || a[1] == 0) {
            if (expr) return usage_error("eval takes one expression; quote it: flowc eval '%s ...'", expr);
            expr = a;
            continue;
        }
        const char **slot = strcmp(a, "--path") == 0 ? &path : strcmp(a, "--template") == 0 ? &tpl
                          : strcmp(a, "--data") == 0 ? &data : strcmp(a, "--escape") == 0 ? &escape : NULL;
        if (!slot) return usage_error("eval: unknown argument `%s`", a);
        if (i + 1 >= argc) return usage_error("eval: %s needs a value", a);
        *slot = argv[++i];
    }
    if (!!path + !!tpl + !!expr != 1)
        return usage_error("eval needs exactly one of EXPR, --path JSONPATH or --template TEXT%s", "");
    if (strcmp(escape, "none") && strcmp(escape, "html") && strcmp(escape, "json"))
        return usage_error("--escape takes none, html or json, not `%s`", escape);
    if (path) return eval_path(path, data, stdout, stderr);
    if (expr) return eval_expr(expr, data, stdout, stderr);
    return eval_template(tpl, data, escape, stdout, stderr);
}

/* ---- flowc cron ---- */

/* "15m", "1h", "1w", "90s", "1500ms" -> ms; 0 when it is not one */
static int64_t cli_duration(const char *s) {
    int64_t v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') { if (v > 1000000000) return 0; v = v * 10 + (*p++ - '0'); }
    if (p == s) return 0;
    return v * flow_duration_unit(p, strlen(p));
}

/* --from T: ISO 8601 or Unix seconds; a date or time without Z or an offset is a local time in the
 * zone (one the clocks skip reads as if they had not moved; one that happens twice, its first pass) */
static int cli_from(const char *s, const FlowTz *tz, int64_t *ms) {
    size_t n = strlen(s);
    if (!flow_parse_iso8601(s, n, ms)) return 0;
    int zoned = 1;
    if (n >= 10 && s[4] == '-') {
        zoned = 0;
        for (size_t i = 10; i < n; i++) if (s[i] == 'Z' || s[i] == 'z' || s[i] == '+' || s[i] == '-') zoned = 1;
    }
    if (zoned) return 1;
    int64_t w = *ms / 1000 - (*ms % 1000 < 0), frac = *ms - w * 1000, guess = w - flow_tz_offset(tz, w);
    int32_t ob = flow_tz_offset(tz, guess - 86400), oa = flow_tz_offset(tz, guess + 86400);
    int64_t c1 = w - ob, c2 = w - oa, t;
    int v1 = flow_tz_offset(tz, c1) == ob, v2 = flow_tz_offset(tz, c2) == oa;
    if (v1 && v2) t = c1 < c2 ? c1 : c2;
    else if (v1) t = c1;
    else if (v2) t = c2;
    else t = w - ob;
    *ms = t * 1000 + frac;
    return 1;
}

static void cron_print(const FlowSched *s, int64_t after, long n) {
    for (long i = 0; i < n; i++) {
        int64_t t = flow_sched_next(s, after);
        if (t < 0) break;
        char utc[32], local[48];
        flow_format_iso8601(t, utc);
        flow_tz_format(flow_sched_tz(s), t, local);
        printf("%s\t%s\n", utc, local);
        after = t;
    }
}

/* --batch: lines `EXPR<TAB>ZONE<TAB>FROM_MS<TAB>N` on stdin; per line the N fire times as Unix ms
 * separated by spaces, or `error: MESSAGE` (the oracle tests compare thousands of cases at once) */
static int cron_batch(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = EXIT_OK;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        char *f[4] = { line, NULL, NULL, NULL };
        for (int i = 1; i < 4; i++) {
            char *tab = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
            if (tab) { *tab = 0; f[i] = tab + 1; }
        }
        if (!f[3]) { printf("error: a batch line is EXPR<TAB>ZONE<TAB>FROM_MS<TAB>N\n"); rc = EXIT_ERRORS; continue; }
        char err[512];
        FlowSched *s = flow_sched_cron(f[0], f[1], err, sizeof err);
        if (!s) { printf("error: %s\n", err); continue; }
        int64_t after = strtoll(f[2], NULL, 10);
        long n = strtol(f[3], NULL, 10);
        for (long i = 0; i < n && i < 1000; i++) {
            int64_t t = flow_sched_next(s, after);
            if (t < 0) break;
            printf("%s%lld", i ? " " : "", (long long)t);
            after = t;
        }
        putchar('\n');
        flow_sched_free(s);
    }
    free(line);
    fflush(stdout);
    return rc;
}

/* cron EXPR | --every INTERVAL [--between A-B] [--on-days d,d], [--from T] [--tz ZONE] [-n N] */
static int cmd_cron(int argc, char **argv) {
    const char *expr = NULL, *from = NULL, *zone = NULL, *count = NULL, *every = NULL, *between = NULL, *days = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--batch") == 0) {
            if (argc != 3) return usage_error("cron --batch takes no other argument%s", "");
            return cron_batch();
        }
        if (a[0] != '-' || a[1] == 0 || (a[1] >= '0' && a[1] <= '9')) {
            if (expr) return usage_error("cron takes one expression; quote it: flowc cron '%s ...'", expr);
            expr = a;
            continue;
        }
        const char **slot = strcmp(a, "--from") == 0 ? &from : strcmp(a, "--tz") == 0 ? &zone
                          : strcmp(a, "-n") == 0 ? &count : strcmp(a, "--every") == 0 ? &every
                          : strcmp(a, "--between") == 0 ? &between : strcmp(a, "--on-days") == 0 ? &days : NULL;
        if (!slot) return usage_error("cron: unknown option `%s`", a);
        if (i + 1 >= argc) return usage_error("cron: %s needs a value", a);
        *slot = argv[++i];
    }
    if (!!expr + !!every != 1) return usage_error("cron needs an expression, as in flowc cron '*/15 * * * *', or --every 15m%s", "");
    if ((between || days) && !every) return usage_error("cron: --between and --on-days narrow --every%s", "");
    long n = 10;
    if (count) {
        char *end;
        n = strtol(count, &end, 10);
        if (*end || end == count || n < 1 || n > 100000) return usage_error("cron: -n takes 1 to 100000, not `%s`", count);
    }
    char err[512];
    FlowSched *s;
    if (every) {
        int64_t ms = cli_duration(every);
        if (!ms) return usage_error("cron: --every takes an interval such as 15m, 2h, 1d or 1w, not `%s`", every);
        char a[16] = "", b[16] = "";
        if (between) {
            const char *dash = strchr(between, '-');
            if (!dash || (size_t)(dash - between) >= sizeof a || strlen(dash + 1) >= sizeof b)
                return usage_error("cron: --between takes HH:MM-HH:MM, not `%s`", between);
            memcpy(a, between, (size_t)(dash - between));
            a[dash - between] = 0;
            snprintf(b, sizeof b, "%s", dash + 1);
        }
        unsigned mask = 0;
        if (days) {
            char buf[128];
            snprintf(buf, sizeof buf, "%s", days);
            char *save = NULL;
            for (char *d = strtok_r(buf, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
                int w = flow_sched_weekday(d);
                if (w < 0) return usage_error("cron: --on-days takes weekdays like mon,fri, not `%s`", d);
                mask |= 1u << w;
            }
        }
        s = flow_sched_every(ms, between ? a : NULL, between ? b : NULL, mask, zone, err, sizeof err);
    } else {
        s = flow_sched_cron(expr, zone, err, sizeof err);
    }
    if (!s) {
        fprintf(stderr, "flowc: cron: %s\n", err);
        return EXIT_ERRORS;
    }
    int64_t after;
    if (from) {
        if (!cli_from(from, flow_sched_tz(s), &after)) {
            flow_sched_free(s);
            return usage_error("cron: --from takes an ISO 8601 time (2026-03-29T01:00:00Z) or Unix seconds, not `%s`", from);
        }
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        after = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    cron_print(s, after, n);
    flow_sched_free(s);
    return EXIT_OK;
}

/* graph FILE [--flow NAME] [--format dot|mermaid|svg] [-o OUT]: the picture of a file that checks as
 * `check` would (its diagnostics and exit 1 otherwise); SVG through Graphviz's dot. */
static int cmd_graph(int argc, char **argv) {
    const char *file = NULL, *flow = NULL, *format = "dot", *out = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--flow") == 0 || strcmp(a, "--format") == 0 || strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) return usage_error("graph: %s needs a value", a);
            const char *v = argv[++i];
            if (a[1] == 'o') out = v;
            else if (a[3] == 'l') flow = v;
            else format = v;
        } else if (a[0] == '-' && a[1]) return usage_error("graph: unknown option `%s`", a);
        else if (file) return usage_error("graph takes one FILE%s", "");
        else file = a;
    }
    if (!file) return usage_error("graph needs a FILE%s", "");
    int svg = strcmp(format, "svg") == 0;
    if (!svg && strcmp(format, "dot") && strcmp(format, "mermaid"))
        return usage_error("graph: unknown format `%s`: use dot, mermaid or svg", format);
    const char *why;
    Source *src = src_load_file(file, &why);
    if (!src) {
        fprintf(stderr, "flowc: cannot read `%s`: %s\n", file, why);
        return EXIT_USAGE;
    }
    Diags d;
    diag_init(&d);
    FeResult r;
    fe_run(&r, src, &d, FE_CHECK);
    hooks_check(r.ir, src, &d);
    hooks_check_test_files(r.ir, src, &d);
    diag_sort(&d);
    diag_print_text(&d, stderr, isatty(2) && !getenv("NO_COLOR"));
    int rc = d.errors ? EXIT_ERRORS : EXIT_OK;
    const IrFlow *only = NULL;
    if (rc == EXIT_OK && flow) {
        only = ir_flow_named(r.ir, flow);
        if (!only) {   /* the flows there are, and the closest name */
            Suggest sg;
            sug_init(&sg, flow);
            fprintf(stderr, "flowc: graph: %s has no flow `%s`", file, flow);
            for (int i = 0; i < r.ir->nflows; i++) sug_offer(&sg, r.ir->flows[i]->name);
            if (sug_best(&sg)) fprintf(stderr, "; did you mean `%s`?", sug_best(&sg));
            fputs(r.ir->nflows ? "\nflows:" : "\nit has no flows", stderr);
            for (int i = 0; i < r.ir->nflows; i++) fprintf(stderr, " %s", r.ir->flows[i]->name);
            fputc('\n', stderr);
            rc = EXIT_USAGE;
        }
    }
    char *text = NULL;
    size_t len = 0;
    if (rc == EXIT_OK) {
        FILE *m = open_memstream(&text, &len);
        if (!m) abort();
        graph_write(m, r.ir, only, strcmp(format, "mermaid") == 0 ? GRAPH_MERMAID : GRAPH_DOT);
        fclose(m);
        if (svg) {
            char *s, err[1024];
            size_t sl;
            /* dot's time limit: FLOWC_GRAPH_TIMEOUT seconds (default 60) */
            const char *lim = getenv("FLOWC_GRAPH_TIMEOUT");
            char *end = NULL;
            long secs = lim && *lim ? strtol(lim, &end, 10) : 60;
            if (lim && *lim && (*end || secs < 1 || secs > 86400)) {
                fprintf(stderr, "flowc: graph: FLOWC_GRAPH_TIMEOUT must be a whole number of seconds from 1 to 86400, not `%s`\n", lim);
                rc = EXIT_USAGE;
            } else if (graph_svg(text, len, secs * 1000, &s, &sl, err, sizeof err) < 0) {
                fprintf(stderr, "flowc: graph: %s\n", err);
                rc = EXIT_ERRORS;
            } else { free(text); text = s; len = sl; }
        }
    }
    if (rc == EXIT_OK) {
        why = NULL;
        if (out ? src_write_atomic(out, text, len, &why) != 0
                : (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) && (why = strerror(errno))) {
            fprintf(stderr, "flowc: graph: cannot write %s: %s\n", out ? out : "standard output", why);
            rc = EXIT_USAGE;
        }
    }
    free(text);
    diag_free(&d);
    fe_result_free(&r);
    src_free(src);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) { fputs(usage_text, stderr); return EXIT_USAGE; }
    const char *cmd = argv[1];
    /* -P values, env() values and the secrets in a flow's settings pass through this process: no
     * core dump may hold them */
    flow_no_core_dumps();
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("flowc %s\n", FLOWC_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "lsp") == 0) return lsp_main(argc, argv);             /* lsp.c */
    if (strcmp(cmd, "fmt") == 0) return fmt_command(argc, argv, isatty(2) && !getenv("NO_COLOR"));
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc, argv);
    if (strcmp(cmd, "cron") == 0) return cmd_cron(argc, argv);
    if (strcmp(cmd, "diff") == 0) return cli_diff(argc, argv);
    if (strcmp(cmd, "merge") == 0) return cli_merge(argc, argv);
    if (strcmp(cmd, "emit-c") == 0) return cmd_emit(argc, argv);
    if (strcmp(cmd, "build") == 0) return cmd_build(argc, argv);
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "errors") == 0 || strcmp(cmd, "state") == 0 || strcmp(cmd, "serve") == 0 ||
        strcmp(cmd, "runs") == 0 || strcmp(cmd, "describe") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "test") == 0) return cmd_test(argc, argv);
    if (strcmp(cmd, "preview") == 0) return cmd_preview(argc, argv);
    if (strcmp(cmd, "package") == 0) return pkg_main(argc, argv);          /* package.c */
    if (strcmp(cmd, "install") == 0) return install_main(argc, argv);      /* install.c */
    if (strcmp(cmd, "clone") == 0) return clone_main(argc, argv);          /* clone.c */
    if (strcmp(cmd, "server") == 0) return server_main(argc, argv);        /* server/cli.c */
    if (strcmp(cmd, "remote") == 0) return remote_main(argc, argv);        /* server/remote.c */
    if (strcmp(cmd, "automap") == 0) return automap_main(argc, argv);      /* automap_cmd.c */
    if (strcmp(cmd, "graph") == 0) return cmd_graph(argc, argv);
    Opts o;
    memset(&o, 0, sizeof o);
    int start = 2;
    if (strcmp(cmd, "dump") == 0) {
        if (argc < 3) return usage_error("dump needs a stage: `flowc dump ast FILE`, `flowc dump ir FILE`, `flowc dump resources FILE` or `flowc dump tokens FILE`%s", "");
        o.stage = argv[2];
        start = 3;
    }
    int rc = parse_opts(argc, argv, start, &o);
    if (rc >= 0) return rc;
    if (strcmp(cmd, "check") == 0) return cmd_check(&o);
    if (strcmp(cmd, "dump") == 0) return cmd_dump(&o);
    return usage_error("unknown command `%s`", cmd);
}
