/* builtins.h — the built-in function table (stdlib/builtins.def) with its signatures parsed once. */
#ifndef FLOWC_BUILTINS_H
#define FLOWC_BUILTINS_H

#define BI_MAX_PARAMS 6

typedef struct BiParam {
    const char *name;
    const char *type;        /* "string", "word:GET|POST", "ctor:auth", "num", ... (no ? ! ...) */
    int optional, variadic, nullable_ok;
} BiParam;

struct Builtin {
    const char *name;
    int ctor;                /* 1: settings constructor */
    const char *params_text, *result, *csym;
    const char *doc;         /* one sentence for people (hover, completion) */
    BiParam params[BI_MAX_PARAMS];
    int nparams;
};
typedef struct Builtin Builtin;

const Builtin *bi_lookup(const char *name);
const Builtin *bi_at(int i);
int bi_count(void);

#endif
