/* jit.c — the only libtcc user: compiles the emitted C in memory, registers the runtime's symbols
 * from one table (FLOW_ABI in flow.h, the built-ins of builtins.def, FLOW_CJSON_ABI), sets the
 * include and library paths explicitly, serialises compiles behind a mutex (libtcc is not
 * re-entrant), and keeps the TCCState alive while its code runs. */
#include "jit.h"
#include "build.h"
#include <libtcc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TCC_DIR "/usr/lib/x86_64-linux-gnu/tcc"

struct JitProgram { TCCState *s; const FlowProgram *prog; };

static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct { const char *name; const void *addr; } Sym;

#define X(fn) { #fn, (const void *)fn },
#define B(name, kind, params, result, csym, doc) B_##kind(csym)
#define B_FN(csym) { #csym, (const void *)csym },
#define B_CTOR(csym)
/* tcc emits a call to memmove or memcpy for every struct copy, and generated code copies FlowVals
 * (24 bytes) all the time: copies of up to four words are made here word by word, every word loaded
 * before any is stored (so an overlap is fine), the rest by libc. (Through libc's, the copies took a
 * fifth of a JIT run of bench/mapping's flow.) */
static void *jit_memmove(void *d, const void *s, size_t n) {
    uint64_t w[4];
    switch (n) {   /* (constant sizes: the compiler makes each memcpy a few moves) */
    case 8: memcpy(w, s, 8); memcpy(d, w, 8); return d;
    case 16: memcpy(w, s, 16); memcpy(d, w, 16); return d;
    case 24: memcpy(w, s, 24); memcpy(d, w, 24); return d;
    case 32: memcpy(w, s, 32); memcpy(d, w, 32); return d;
    default: return memmove(d, s, n);
    }
}

static const Sym symbols[] = {
    { "memcpy", (const void *)jit_memmove }, { "memmove", (const void *)jit_memmove },
    X(memset)
    FLOW_ABI(X)
    FLOW_CJSON_ABI(X)
    X(flow_hook_error)
#include "builtins.def"
};
#undef X
#undef B
#undef B_FN
#undef B_CTOR

typedef struct { const Source *src; Diags *d; int reported; } ErrSink;

/* tcc says "file.flow:LINE: error: ..." thanks to #line: report it at that line of the .flow file. */
static void on_error(void *opaque, const char *msg) {
    ErrSink *sink = opaque;
    if (sink->reported++ >= 5) return;
    const Source *src = sink->src;
    size_t nl = strlen(src->name);
    Span sp = { 0, 0 };
    if (strncmp(msg, src->name, nl) == 0 && msg[nl] == ':') {
        int line = atoi(msg + nl + 1);
        if (line >= 1 && line <= src->nlines) {
            size_t len;
            const char *text = src_line_text(src, line, &len);
            sp.start = (uint32_t)(text - src->text);
            sp.end = sp.start + (uint32_t)len;
        }
    }
    diag_error(sink->d, src, sp, "internal error: the C generated for this step does not compile in memory: %s", msg);
}

static void setup(TCCState *s, const char *inc) {
    tcc_set_lib_path(s, TCC_DIR);
    tcc_add_sysinclude_path(s, TCC_DIR "/include");
    tcc_add_sysinclude_path(s, "/usr/include/x86_64-linux-gnu");
    tcc_add_sysinclude_path(s, "/usr/include");
    tcc_add_include_path(s, inc);
    tcc_add_library_path(s, "/usr/lib/x86_64-linux-gnu");
    tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
    /* hooks are ordinary C: they may call libc and cJSON, which tcc resolves from these */
    tcc_add_library(s, "cjson");
    tcc_add_library(s, "m");
}

typedef struct { Diags *d; const Source *src; Span at; const char *path, *shown; int reported; } HookSink;

static void on_hook_error(void *opaque, const char *msg) {
    HookSink *k = opaque;
    if (k->reported++ >= 5) return;
    /* tcc says "In file included from <string>:2:\n/path/hook.c:5: error: ...": keep the last line,
     * naming the file as the .flow file does */
    const char *nl = strrchr(msg, '\n');
    const char *line = nl ? nl + 1 : msg;
    size_t pl = strlen(k->path);
    if (strncmp(line, k->path, pl) == 0 && line[pl] == ':')
        diag_error(k->d, k->src, k->at, "hook file \"%s\" does not compile: %s%s", k->shown, k->shown, line + pl);
    else
        diag_error(k->d, k->src, k->at, "hook file \"%s\" does not compile: %s", k->shown, line);
}

int jit_check_hook(const char *path, const char *shown, const char *const *fns, const Span *fn_spans, int nfns,
                   const Source *src, Span at, Diags *diags) {
    char inc[4200], lib[4200];
    if (build_find_runtime(inc, sizeof inc, lib, sizeof lib, stderr) < 0) return -1;
    pthread_mutex_lock(&jit_lock);
    HookSink sink = { diags, src, at, path, shown, 0 };
    int before = diags->errors;
    TCCState *s = tcc_new();
    int ok = 0;
    if (s) {
        tcc_set_error_func(s, &sink, on_hook_error);
        setup(s, inc);
        size_t n = strlen(path) + 64;
        char *text = malloc(n);
        if (!text) abort();
        snprintf(text, n, "#include \"flow.h\"\n#include \"%s\"\n", path);   /* hook_resolve refused quotes and backslashes */
        if (tcc_compile_string(s, text) == 0) {
            for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) tcc_add_symbol(s, symbols[i].name, symbols[i].addr);
            if (tcc_relocate(s, TCC_RELOCATE_AUTO) == 0) {
                ok = 1;
                for (int i = 0; i < nfns; i++)
                    if (!tcc_get_symbol(s, fns[i])) {
                        diag_error(diags, src, fn_spans[i], "hook file \"%s\" has no function `%s` (a hook is a function "
                                   "`int %s(FlowHookPage *page)`, not static)", shown, fns[i], fns[i]);
                        ok = 0;
                    }
            }
        }
        if (!ok && diags->errors == before) diag_error(diags, src, at, "hook file \"%s\" does not compile", shown);
        free(text);
        tcc_delete(s);
    }
    pthread_mutex_unlock(&jit_lock);
    return ok ? 0 : -1;
}

/* Compiles c_text; with need_program, its flow_program must be there. */
static JitProgram *compile(const char *c_text, const Source *src, Diags *diags, int need_program) {
    char inc[4200], lib[4200];
    if (build_find_runtime(inc, sizeof inc, lib, sizeof lib, stderr) < 0) {
        diag_error(diags, NULL, (Span){ 0, 0 }, "cannot find the runtime's header (flow.h) for the JIT");
        return NULL;
    }
    pthread_mutex_lock(&jit_lock);
    ErrSink sink = { src, diags, 0 };
    TCCState *s = tcc_new();
    JitProgram *j = NULL;
    if (!s) goto out;
    tcc_set_error_func(s, &sink, on_error);
    setup(s, inc);
    if (tcc_compile_string(s, c_text) < 0) goto fail;
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) tcc_add_symbol(s, symbols[i].name, symbols[i].addr);
    if (tcc_relocate(s, TCC_RELOCATE_AUTO) < 0) goto fail;
    const FlowProgram *prog = tcc_get_symbol(s, "flow_program");
    if (!prog && need_program) { diag_error(diags, src, (Span){ 0, 0 }, "internal error: the JIT found no flow_program"); goto fail; }
    j = calloc(1, sizeof *j);
    if (!j) abort();
    j->s = s;
    j->prog = prog;
    goto out;
fail:
    if (!sink.reported) diag_error(diags, src, (Span){ 0, 0 }, "internal error: the JIT could not compile the generated C");
    tcc_delete(s);
out:
    pthread_mutex_unlock(&jit_lock);
    return j;
}

JitProgram *jit_compile(const char *c_text, const Source *src, Diags *diags) { return compile(c_text, src, diags, 1); }
JitProgram *jit_compile_unit(const char *c_text, const Source *src, Diags *diags) { return compile(c_text, src, diags, 0); }

const FlowProgram *jit_program(const JitProgram *j) { return j ? j->prog : NULL; }

void *jit_symbol(const JitProgram *j, const char *name) { return j ? tcc_get_symbol(j->s, name) : NULL; }

void jit_free(JitProgram *j) {
    if (!j) return;
    tcc_delete(j->s);
    free(j);
}
