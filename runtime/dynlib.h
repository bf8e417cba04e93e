/* dynlib.h — the libraries a built flow loads when it first uses them (runtime/dynlib.c, the list in
 * dynlib.def). A module calls flow_dynlib_need at its entry (opening a connection, a state store in
 * PostgreSQL, a listener) so that a missing library is an error naming it, not an abort in a call. */
#ifndef FLOWC_RUNTIME_DYNLIB_H
#define FLOWC_RUNTIME_DYNLIB_H

typedef enum {
    FLOW_LIB_NONE,
#define LIB(id, soname, what) FLOW_LIB_##id,
#include "dynlib.def"
    FLOW_LIB_COUNT
} FlowLib;

/* Loads the library (once; thread-safe): NULL when it is there (or lib is FLOW_LIB_NONE), else why not (a sentence naming the
 * library, what it is for and the loader's reason; valid for the process's life). */
const char *flow_dynlib_need(FlowLib lib);

#endif
