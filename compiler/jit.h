/* jit.h — compiles emitted C in memory with libtcc and hands back the flow program it describes. */
#ifndef FLOWC_JIT_H
#define FLOWC_JIT_H
#include "diag.h"
#include "flow.h"

typedef struct JitProgram JitProgram;

/* Compiles c_text (emitted without main) in memory. On a tcc error, returns NULL and reports an
 * internal-error diagnostic at the .flow line the C came from (via #line), naming the flow and step. */
JitProgram *jit_compile(const char *c_text, const Source *src, Diags *diags);
/* The same for C that is not a flow program (flowc eval's one function): no flow_program needed. */
JitProgram *jit_compile_unit(const char *c_text, const Source *src, Diags *diags);
/* The program table; valid until jit_free (the TCCState stays alive while its code runs). */
const FlowProgram *jit_program(const JitProgram *j);
/* The address of a function or table the compiled C defines (not static), or NULL. */
void *jit_symbol(const JitProgram *j, const char *name);
void jit_free(JitProgram *j);
/* Compiles a hook's C file (path: resolved by hook_resolve; shown: as the .flow file names it) on its
 * own and checks it defines each of fns: compile errors are reported at `at` (the file's string in
 * the .flow file), a missing function at its span. 0 ok, -1 not. */
int jit_check_hook(const char *path, const char *shown, const char *const *fns, const Span *fn_spans, int nfns,
                   const Source *src, Span at, Diags *diags);

#endif
