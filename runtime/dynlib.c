/* dynlib.c — the libraries a built flow loads only when it first uses them (dynlib.def: libcurl,
 * libpq, libmicrohttpd, which bring some thirty libraries of their own: TLS, Kerberos, LDAP...).
 * A flow executable links none of them, so that it starts in about 2 ms of CPU instead of 7; each
 * push to `flowc server` and each scheduled run starts one. Every function of theirs the runtime
 * calls is defined here under its own name, with the header's prototype: its first call (or
 * flow_dynlib_need, which the modules call at their entry so that a missing library is an error
 * naming it) opens the library with dlopen and takes the real functions from it; later calls go
 * straight through. flowc links the libraries itself (its server and compiler call them too): the
 * same definitions then find them loaded already. */
#define CURL_DISABLE_TYPECHECK   /* curl.h's type-checking macros would rename the definitions below */
#include "dynlib.h"
#include <curl/curl.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <postgresql/libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the sonames, as the Makefile read them from the -dev packages' links (Debian 12's otherwise) */
#ifndef FLOW_SONAME_CURL
#define FLOW_SONAME_CURL "libcurl.so.4"
#endif
#ifndef FLOW_SONAME_PQ
#define FLOW_SONAME_PQ "libpq.so.5"
#endif
#ifndef FLOW_SONAME_MHD
#define FLOW_SONAME_MHD "libmicrohttpd.so.12"
#endif

/* the real functions, set by load() */
#define FN(lib, ret, name, params, args) static ret (*real_##name) params;
#define FNV(lib, name, params, args) static void (*real_##name) params;
#define VA(lib, name) static __typeof__(name) *real_##name;
#include "dynlib.def"

typedef struct Lib {
    const char *soname, *what;
    pthread_once_t once;
    atomic_int ready;   /* every real_ function of the library is set */
    char why[768];
} Lib;

static Lib libs[FLOW_LIB_COUNT] = {
#define LIB(id, soname, what) [FLOW_LIB_##id] = { soname, what, PTHREAD_ONCE_INIT, 0, "" },
#include "dynlib.def"
};

static void load(FlowLib i) {
    Lib *l = &libs[i];
    void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(l->why, sizeof l->why, "cannot load %s, %s: %s", l->soname, l->what, e ? e : "dlopen failed");
        return;
    }
    const char *missing = NULL;
    void *f;
#define TAKE(lib, name) \
    if (FLOW_LIB_##lib == i) { \
        if ((f = dlsym(h, #name)) != NULL) memcpy(&real_##name, &f, sizeof f); \
        else if (!missing) missing = #name; \
    }
#define FN(lib, ret, name, params, args) TAKE(lib, name)
#define FNV(lib, name, params, args) TAKE(lib, name)
#define VA(lib, name) TAKE(lib, name)
#include "dynlib.def"
#undef TAKE
    if (missing) {
        snprintf(l->why, sizeof l->why, "cannot use %s, %s: it has no %s (another version of the library?)", l->soname, l->what, missing);
        return;   /* (h stays open: unloading a library whose constructors ran is not worth the risk) */
    }
    atomic_store_explicit(&l->ready, 1, memory_order_release);
}

#define LIB(id, soname, what) static void load_##id(void) { load(FLOW_LIB_##id); }
#include "dynlib.def"

static void (*const loaders[FLOW_LIB_COUNT])(void) = {
#define LIB(id, soname, what) [FLOW_LIB_##id] = load_##id,
#include "dynlib.def"
};

const char *flow_dynlib_need(FlowLib i) {
    if (i <= FLOW_LIB_NONE || i >= FLOW_LIB_COUNT) return NULL;
    Lib *l = &libs[i];
    if (atomic_load_explicit(&l->ready, memory_order_acquire)) return NULL;
    pthread_once(&l->once, loaders[i]);
    return atomic_load_explicit(&l->ready, memory_order_acquire) ? NULL : l->why;
}

/* a call reached without flow_dynlib_need having been asked and the library missing: a defect of
 * the caller's module, stopped here with the reason rather than a jump to nowhere */
static void need(FlowLib i) {
    if (__builtin_expect(atomic_load_explicit(&libs[i].ready, memory_order_acquire), 1)) return;
    const char *why = flow_dynlib_need(i);
    if (!why) return;
    fprintf(stderr, "flowc runtime: %s\n", why);
    abort();
}

#define FN(lib, ret, name, params, args) ret name params { need(FLOW_LIB_##lib); return real_##name args; }
#define FNV(lib, name, params, args) void name params { need(FLOW_LIB_##lib); real_##name args; }
#include "dynlib.def"

/* ---- the variadic ones ---- */

/* curl reads the argument by the option's type range (curl.h: CURLOPTTYPE_*), as libcurl itself does */
CURLcode curl_easy_setopt(CURL *c, CURLoption o, ...) {
    need(FLOW_LIB_CURL);
    va_list ap;
    va_start(ap, o);
    CURLcode r;
    if (o < CURLOPTTYPE_OBJECTPOINT) r = real_curl_easy_setopt(c, o, va_arg(ap, long));
    else if (o < CURLOPTTYPE_FUNCTIONPOINT) r = real_curl_easy_setopt(c, o, va_arg(ap, void *));
    else if (o < CURLOPTTYPE_OFF_T) r = real_curl_easy_setopt(c, o, va_arg(ap, void (*)(void)));
    else if (o < CURLOPTTYPE_BLOB) r = real_curl_easy_setopt(c, o, va_arg(ap, curl_off_t));
    else r = real_curl_easy_setopt(c, o, va_arg(ap, void *));
    va_end(ap);
    return r;
}

/* (every CURLINFO takes a pointer to where the answer goes) */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...) {
    need(FLOW_LIB_CURL);
    va_list ap;
    va_start(ap, info);
    void *p = va_arg(ap, void *);
    va_end(ap);
    return real_curl_easy_getinfo(c, info, p);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls, ...) {
    need(FLOW_LIB_MHD);
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = real_MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

/* (the kinds the runtime asks for take no further argument) */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c, enum MHD_ConnectionInfoType t, ...) {
    need(FLOW_LIB_MHD);
    return real_MHD_get_connection_info(c, t);
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType t, ...) {
    need(FLOW_LIB_MHD);
    return real_MHD_get_daemon_info(d, t);
}
