/* server.h — the control plane's internal API (`flowc server`): the request and the answer a handler
 * sees, the handler signature, the route table (routes.def: the router, the scope check and the
 * OpenAPI document are all derived from it), the workspace store, the authenticated caller and the
 * scope check, the audit log and revisions. Every handler lives in a file of server/; the listener
 * (http.c) reads a request, finds its route, authenticates the caller, checks the scope, calls the
 * handler and sends what it filled in. */
#ifndef FLOWC_SERVER_H
#define FLOWC_SERVER_H
#include <cjson/cJSON.h>
#include "engine.h"   /* flow.h: the JSON reader and printer, flow_x* allocation */
#include "frontend.h"
#include <stddef.h>
#include <stdint.h>

#define SRV_MAX_BODY (5u * 1024 * 1024)   /* request bodies: 413 above */
#define SRV_MAX_PARAMS 4                  /* {captures} in one route */
#define SRV_PAGE_DEFAULT 100              /* list pages: ?limit= (1..1000), ?after=ID; Link rel="next" */
#define SRV_PAGE_MAX 1000

typedef struct Srv Srv;                   /* the server: its store, its workspace, its counters */
typedef struct SrvStore SrvStore;         /* store.c: the workspace's SQLite store */

/* ---- the resource kinds a scope names, and what a route does with its resource ---- */
#define SRV_KINDS(X) \
    X(NONE, "none", "") X(INTEGRATION, "integration", "integrations") X(FLOW, "flow", "flows") \
    X(EXPORT, "export", "exports") X(IMPORT, "import", "imports") X(CONNECTION, "connection", "connections") \
    X(JOB, "job", "jobs") X(TOKEN, "token", "tokens") X(AUDIT, "audit", "audit")
typedef enum {
#define X(k, s, plural) SRV_K_##k,
    SRV_KINDS(X)
#undef X
    SRV_K_COUNT
} SrvKind;
extern const char *const srv_kind_names[SRV_K_COUNT];    /* "flow" */
extern const char *const srv_kind_plural[SRV_K_COUNT];   /* "flows": the scope's keys, the paths */

/* PUBLIC: no token; READ and RUN: a full token, or a scoped one whose scope holds the route's resource
 * (the first {capture}; a route without one lists, and its handler filters by srv_scope_allows); WRITE
 * and ADMIN: a full token only. */
#define SRV_ACCESS(X) X(PUBLIC, "public") X(READ, "read") X(RUN, "run") X(WRITE, "write") X(ADMIN, "admin")
typedef enum {
#define X(k, s) SRV_A_##k,
    SRV_ACCESS(X)
#undef X
} SrvAccess;

/* ---- the caller ---- */
typedef struct SrvCaller {
    char id[40];               /* the token's id ("tok_..."); "" for a public route without a token */
    char name[128];
    int full;                  /* full access */
    cJSON *scope;              /* a scoped token's {"integrations":[...], "flows":[...], ...}; NULL when full */
} SrvCaller;

/* Whether the caller may reach the resource `id` of `kind`: a full token always; a scoped one when
 * the scope lists it, or lists its integration (the part of the id before the first '.'), or, for an
 * export or import, its flow (the first two parts). JOB: pass the job's flow id with SRV_K_FLOW. */
int srv_scope_allows(const SrvCaller *c, SrvKind kind, const char *id);

/* the request bodies a route takes (schemas.def) */
typedef enum {
#define SCHEMA(id, media, schema, media2, schema2) SRV_B_##id,
#include "schemas.def"
#undef SCHEMA
    SRV_B_COUNT
} SrvBody;

/* ---- a request and its answer ---- */
typedef struct SrvReq {
    const char *method;        /* "GET" ... (HEAD is served as GET without the body) */
    const char *path;          /* decoded path, "/v1/flows/shop-sync.orders" */
    const char *query;         /* raw query string without '?', or NULL */
    const char *body;          /* NUL-terminated (a body may hold NULs: nbody counts them) */
    size_t nbody;
    const char *content_type;  /* the Content-Type header, or NULL */
    const char *params[SRV_MAX_PARAMS];   /* the route's {captures}, percent-decoded, in order */
    int nparams;
    const char *addr;          /* the client's address */
    const SrvCaller *caller;
    int route;                 /* index in the route table */
    void *conn;                /* the connection, for srv_header */
} SrvReq;

typedef struct SrvResp {
    int status;
    char *body; size_t len;    /* malloc'd, taken by the listener */
    const char *content_type;  /* static text */
    char *link;                /* a Link header (malloc'd) or NULL */
    char *location;            /* a Location header (malloc'd) or NULL */
    char *header;              /* one more header, "Name: value" (malloc'd), or NULL */
} SrvResp;

typedef void SrvHandler(Srv *s, const SrvReq *rq, SrvResp *out);

/* ---- the route table ---- */
typedef struct SrvRoute {
    const char *method, *pattern;         /* "/v1/flows/{id}": a {name} matches one path segment */
    SrvHandler *handler;
    SrvKind kind;
    SrvAccess access;
    int ok;                               /* its success status (200, 201, 204) */
    SrvBody body;                         /* the body it takes */
    const char *summary;                  /* the OpenAPI summary */
} SrvRoute;
#define ROUTE(method, pattern, handler, kind, access, ok, body, summary) SrvHandler handler;
#include "routes.def"
#undef ROUTE
extern const SrvRoute srv_routes[];
extern const int srv_nroutes;

/* The route for method and path: its index (params filled), or -1 with *allowed set when the path
 * matches other methods only (405; allowed: "GET, PUT"), or -1 with allowed "" (404). */
int srv_route_find(const char *method, const char *path, const char *params[SRV_MAX_PARAMS], char *bufs, size_t bufcap,
                   int *nparams, char *allowed, size_t acap);

/* ---- answering (http.c) ---- */
/* obj (taken) as the JSON body */
void srv_json(SrvResp *out, int status, cJSON *obj);
/* {"errors":[{"code","message","field"}]}; field may be NULL */
void srv_error(SrvResp *out, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* adds one more error to an error answer already made */
void srv_error_add(SrvResp *out, const char *code, const char *field, const char *message);
void srv_text(SrvResp *out, int status, const char *content_type, char *text, size_t len);   /* text: malloc'd, taken */
void srv_no_content(SrvResp *out);                                                           /* 204 */
/* the body as a JSON object (or an array when want_array): 0, or -1 with a 400 already in out */
int  srv_body_json(const SrvReq *rq, SrvResp *out, int want_array, cJSON **json);
/* a query parameter, percent-decoded ('+' a space), into buf: 1 found, 0 absent, -1 malformed (too long) */
int  srv_query(const SrvReq *rq, const char *name, char *buf, size_t cap);
const char *srv_header(const SrvReq *rq, const char *name);
/* A page of a list: items (an array, taken, each with "id", sorted by id) cut after ?after= to ?limit=
 * items, with a Link rel="next" when more follow. 0, or -1 with a 400 in out (a bad limit). */
int  srv_page(const SrvReq *rq, SrvResp *out, cJSON *items);

/* ---- the server (http.c) ---- */
typedef struct SrvConfig {
    const char *dir;           /* the workspace */
    const char *listen;        /* ADDR:PORT (port 0: any free port) */
    const char *db;            /* the store's PostgreSQL DSN (--db), or NULL: DIR/store.db */
    long long lease_ms;        /* --lease: how long a running job outlives its silent server (0: the default) */
} SrvConfig;
/* Opens the workspace, starts the modules (modules.def) and the listener. NULL with why. */
Srv *srv_start(const SrvConfig *cfg, char *why, size_t cap);
const char *srv_address(const Srv *s);   /* "127.0.0.1:PORT" as bound */
long long srv_lease_ms(const Srv *s);    /* --lease, or 0 */
unsigned srv_connections(const Srv *s);  /* connections open now */
/* Stops the listener (the requests in progress finish), then the modules; frees everything. */
void srv_stop(Srv *s);

#define MODULE(name, start, stop) int start(Srv *s, char *why, size_t cap); void stop(Srv *s);
#include "modules.def"
#undef MODULE
typedef enum {
#define MODULE(name, start, stop) SRV_MOD_##name,
#include "modules.def"
#undef MODULE
    SRV_MOD_COUNT
} SrvModule;
/* a module's own pointer, kept by the server for it */
void **srv_module(Srv *s, SrvModule m);

/* the workspace's store (thread-safe: every call takes the store's lock) */
SrvStore *srv_store(Srv *s);
const char *srv_dir(Srv *s);              /* the workspace directory */
/* counters for /metrics, by route */
void srv_count(Srv *s, int route, int status, double seconds);

/* ---- the store (store.c) ---- */
/* Opens the workspace's store: DIR/store.db when dsn is NULL, else the PostgreSQL database dsn names
 * (DIR still holds secret.key, the build cache and the runs' files). create: makes the schema and
 * marks the store a workspace (refused when it is one); else it must be one. NULL with why (never a
 * password). */
SrvStore *store_open(const char *dir, const char *dsn, int create, char *why, size_t cap);
void store_close(SrvStore *st);
struct FlowDb *store_db(SrvStore *st);        /* this thread's connection (db.h): only between store_lock and store_unlock */
const char *store_spec(SrvStore *st);     /* what it was opened with (a path or a DSN): for more connections */
int  store_shared(SrvStore *st);          /* PostgreSQL: other servers may use it at once */
/* a connection of the store for this thread until the matching unlock (calls nest). SQLite: one
 * connection, so holders take turns; PostgreSQL: a pool, so holders run at once as other servers do
 * (anything that must not interleave is a write transaction: store_begin). A transaction left open
 * at the last unlock is rolled back. */
void store_lock(SrvStore *st);
void store_unlock(SrvStore *st);
/* flow_db_begin (the store's write lock) / COMMIT / ROLLBACK, under the lock */
int  store_begin(SrvStore *st);
int  store_commit(SrvStore *st);
void store_rollback(SrvStore *st);
/* an ISO-8601 UTC time (ms precision) of ms since the epoch */
void store_iso(int64_t ms, char out[32]);

/* ---- tokens (tokens.c) ---- */
/* A new token: its id and its secret (shown once) into id and secret; scope NULL for full; expires_ms
 * 0 for never. 0, or -1 with why. Caller holds no lock. */
int tokens_create(SrvStore *st, const char *name, const cJSON *scope, int64_t expires_ms, char id[40], char secret[80], char *why,
                  size_t cap);
/* The caller of a bearer secret: 0 (c filled, the caller frees c->scope with cJSON_Delete), 401 with
 * why when unknown, revoked or expired (an expiry seen the first time is audited), 503 with why when
 * the store could not be read (nothing is known of the token then: a refusal would be a lie). */
int tokens_check(Srv *s, const char *secret, const char *addr, SrvCaller *c, char *why, size_t cap);
/* parses "30d", "12h", "90m", "never": ms, 0 for never; -1 when malformed */
int64_t tokens_parse_duration(const char *s);

/* ---- audit (audit.c) ---- */
/* Appends an entry: who (c, may be NULL for the system), action ("create", "update", "delete",
 * "clone", "run", "token.create", "token.revoke", "token.expired", "scope.denied", ...), the resource,
 * detail (taken; a semantic diff, the run's parameters), from addr. Chained by SHA-256 to the entry
 * before. Takes the store's lock itself unless locked = 1 (inside a transaction). 0, or -1. */
int audit_append(SrvStore *st, int locked, const SrvCaller *c, const char *addr, const char *action, SrvKind kind,
                 const char *resource, cJSON *detail);
/* Recomputes the chain: 0 when intact, else the seq of the first entry that does not match (why says
 * what); -1 when the store cannot be read. */
long audit_verify(SrvStore *st, char *why, size_t cap);

/* ---- integrations (api.c) ---- */
/* The source text of an integration's head revision (malloc'd, *len) and its revision number, or
 * NULL when there is no such integration. */
char *srv_integration_text(Srv *s, const char *id, size_t *len, long *rev);

/* Whether flow id (INTEGRATION.FLOW) was disabled by PATCH {"disabled": true}: its schedule and
 * webhooks do not start runs while it is (state of the server, not of the source). */
int  srv_flow_disabled(Srv *s, const char *flow_id);

/* One .flow text, checked: its syntax tree, typed IR and resource model (compiler/resource.h). */
typedef struct SrvDoc {
    struct Source *src;
    struct Arena *ar;
    FeResult fe;
    Diags d;
    struct ResModel *m;        /* NULL unless it checked clean */
    int ran;
} SrvDoc;
/* Checks text (named name in diagnostics): 0 clean (d->m built), -1 with the diagnostics in d->d. */
int  srv_doc_load(SrvDoc *d, const char *name, const char *text, size_t len);
void srv_doc_free(SrvDoc *d);
/* 422 `invalid_flow` with each error diagnostic as {"code","message","field","file","line","column",
 * "end_line","end_column"} */
void srv_doc_422(const SrvDoc *d, SrvResp *out);
/* The semantic diff of two models (compiler/diff.c) as a JSON array of {"action","address","before",
 * "after","notes"}; either may be NULL (nothing). */
cJSON *srv_diff_json(const struct ResModel *a, const struct ResModel *b);

/* ---- revisions (revisions.c) ---- */
/* A change of an integration, committed as its next revision with its audit entry, in one transaction. */
typedef struct SrvChange {
    const char *integration;
    const char *kind;          /* create | update | clone | revert | pull | snapshot | delete */
    const char *message;       /* or NULL */
    const char *text; size_t len;   /* the new source (delete: NULL) */
    const char *origin; long origin_rev;   /* create by clone: what it was cloned from */
    long expect_head;          /* the head the change was made from: 409 when it moved; 0 for create */
    const char *action;        /* the audit action, the resource it names and its kind */
    SrvKind rkind;
    const char *resource;
    cJSON *detail;             /* taken */
    const struct SrvFiles *files;   /* a package's files beside the text (files.h); NULL: those of files_from's revision */
    const char *files_from; long files_from_rev;   /* NULL: the integration's head before the change */
} SrvChange;
/* 0 with *rev, or -1 with the error answer in out: 404 (no such integration), 409 (it exists, or its
 * head moved since expect_head), 500. */
int rev_commit(Srv *s, const SrvReq *rq, SrvChange *ch, long *rev, SrvResp *out);

/* ---- the command (cli.c) ---- */
/* flowc server init DIR | flowc server DIR [--listen ADDR:PORT] | flowc server DIR audit verify: an exit code */
int server_main(int argc, char **argv);

#endif
