/* builtins.c — loads stdlib/builtins.def into a table and parses each signature once. */
#include "builtins.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static Builtin table[] = {
#define FN 0
#define CTOR 1
#define B(name, kind, params, result, csym, doc) { #name, kind, params, result, #csym, doc, {{0}}, 0 },
#include "builtins.def"
#undef B
#undef FN
#undef CTOR
};
#define NB ((int)(sizeof table / sizeof table[0]))

/* storage for the parsed parameter strings: parsed once (pthread_once: the JIT may run compiles
 * from several threads), kept for the process */
static char pool[8192];
static size_t pool_used;
static pthread_once_t parsed = PTHREAD_ONCE_INIT;

static const char *keep(const char *s, size_t n) {
    if (pool_used + n + 1 > sizeof pool) abort();     /* the table is static: cannot happen */
    char *p = pool + pool_used;
    memcpy(p, s, n);
    p[n] = 0;
    pool_used += n + 1;
    return p;
}

static void parse_all(void) {
    for (int i = 0; i < NB; i++) {
        Builtin *b = &table[i];
        const char *s = b->params_text;
        while (*s) {
            while (*s == ' ' || *s == ',') s++;
            if (!*s) break;
            const char *colon = strchr(s, ':');
            const char *end = strchr(s, ',');
            /* a `word:a|b` or `ctor:k` type has a second colon: the parameter ends at the next comma */
            if (!end) end = s + strlen(s);
            BiParam *p = &b->params[b->nparams++];
            p->name = keep(s, (size_t)(colon - s));
            const char *t = colon + 1, *te = end;
            if (te - t >= 3 && memcmp(te - 3, "...", 3) == 0) { p->variadic = 1; te -= 3; }
            if (te > t && te[-1] == '?') { p->optional = 1; te--; }
            if (te > t && te[-1] == '!') { p->nullable_ok = 1; te--; }
            p->type = keep(t, (size_t)(te - t));
            s = end;
        }
    }
}

const Builtin *bi_lookup(const char *name) {
    pthread_once(&parsed, parse_all);
    for (int i = 0; i < NB; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

const Builtin *bi_at(int i) {
    pthread_once(&parsed, parse_all);
    return i >= 0 && i < NB ? &table[i] : NULL;
}

int bi_count(void) { return NB; }
