/* routes.c — the route table (routes.def) as data: matching a method and path to a route with its
 * {captures}, and the OpenAPI 3 document derived from the same table (GET /v1/openapi.json). */
#include "server.h"
#include "serve.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const SrvRoute srv_routes[] = {
#define ROUTE(method, pattern, handler, kind, access, ok, body, summary) { method, pattern, handler, kind, access, ok, body, summary },
#include "routes.def"
#undef ROUTE
};
const int srv_nroutes = (int)(sizeof srv_routes / sizeof srv_routes[0]);

const char *const srv_kind_names[SRV_K_COUNT] = {
#define X(k, s, plural) s,
    SRV_KINDS(X)
#undef X
};
const char *const srv_kind_plural[SRV_K_COUNT] = {
#define X(k, s, plural) plural,
    SRV_KINDS(X)
#undef X
};
static const char *const access_names[] = {
#define X(k, s) s,
    SRV_ACCESS(X)
#undef X
};

/* one path segment [s, s+n) percent-decoded into out ('+' is itself): its length, or -1 (malformed, a
 * NUL or '/' in it, too long) */
static long seg_decode(const char *s, size_t n, char *out, size_t cap) {
    long k = flow_pct_decode(s, n, out, cap, 0);
    return k < 0 || memchr(out, '/', (size_t)k) ? -1 : k;
}

/* does path match pattern? captures decoded into bufs (each SRV-sized slot of bufcap/SRV_MAX_PARAMS) */
static int match(const char *pat, const char *path, const char *params[], char *bufs, size_t bufcap, int *np) {
    size_t slot = bufcap / SRV_MAX_PARAMS;
    int n = 0;
    while (*pat && *path) {
        if (*pat != '/' || *path != '/') return 0;
        pat++, path++;
        const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
        size_t pl = pe ? (size_t)(pe - pat) : strlen(pat), sl = se ? (size_t)(se - path) : strlen(path);
        if (pl >= 5 && pat[0] == '{' && memcmp(pat + pl - 4, "...}", 4) == 0 && !pat[pl]) {   /* {name...}: the rest, raw, with its '/' */
            if (!sl || n >= SRV_MAX_PARAMS) return 0;
            params[n++] = path - 1;
            *np = n;
            return 1;
        } else if (pl >= 2 && pat[0] == '{') {
            if (!sl || n >= SRV_MAX_PARAMS) return 0;
            char *b = bufs + (size_t)n * slot;
            if (seg_decode(path, sl, b, slot) <= 0) return 0;
            params[n++] = b;
        } else if (pl != sl || memcmp(pat, path, pl) != 0) {
            return 0;
        }
        pat += pl, path += sl;
    }
    if (*pat || *path) return 0;
    *np = n;
    return 1;
}

int srv_route_find(const char *method, const char *path, const char *params[SRV_MAX_PARAMS], char *bufs, size_t bufcap,
                   int *nparams, char *allowed, size_t acap) {
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    allowed[0] = 0;
    size_t al = 0;
    for (int i = 0; i < srv_nroutes; i++) {
        int np = 0;
        if (!match(srv_routes[i].pattern, path, params, bufs, bufcap, &np)) continue;
        if (strcmp(srv_routes[i].method, m) == 0) {
            *nparams = np;
            allowed[0] = 0;
            return i;
        }
        int w = snprintf(allowed + al, acap - al, "%s%s", al ? ", " : "", srv_routes[i].method);
        if (w > 0 && al + (size_t)w < acap) al += (size_t)w;
    }
    *nparams = 0;
    return -1;
}

/* ---- the OpenAPI document ---- */

static cJSON *error_response(const char *what) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "description", what);
    cJSON *c = cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "content"), "application/json");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(c, "schema"), "$ref", "#/components/schemas/Errors");
    return r;
}

static cJSON *openapi(void) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "openapi", "3.0.3");
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "title", "flowc server");
    cJSON_AddStringToObject(info, "version", FLOWC_VERSION);
    cJSON *comp = cJSON_AddObjectToObject(doc, "components");
    cJSON *sch = cJSON_AddObjectToObject(comp, "schemas");
    cJSON *errs = cJSON_Parse("{\"type\":\"object\",\"required\":[\"errors\"],\"properties\":{\"errors\":{\"type\":\"array\",\"items\":"
                              "{\"type\":\"object\",\"required\":[\"code\",\"message\"],\"properties\":{\"code\":{\"type\":\"string\"},"
                              "\"message\":{\"type\":\"string\"},\"field\":{\"type\":\"string\",\"nullable\":true}}}}}}");
    cJSON_AddItemToObject(sch, "Errors", errs);
    /* the JSON request bodies, by name */
    static const struct { const char *id, *media, *schema, *media2, *schema2; } bodies[SRV_B_COUNT] = {
#define SCHEMA(id, media, schema, media2, schema2) { #id, media, schema, media2, schema2 },
#include "schemas.def"
#undef SCHEMA
    };
    for (int i = 0; i < SRV_B_COUNT; i++)
        if (bodies[i].media && strcmp(bodies[i].media, "application/json") == 0) cJSON_AddItemToObject(sch, bodies[i].id, cJSON_Parse(bodies[i].schema));
    cJSON *bearer = cJSON_AddObjectToObject(cJSON_AddObjectToObject(comp, "securitySchemes"), "bearer");
    cJSON_AddStringToObject(bearer, "type", "http");
    cJSON_AddStringToObject(bearer, "scheme", "bearer");
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    for (int i = 0; i < srv_nroutes; i++) {
        const SrvRoute *r = &srv_routes[i];
        cJSON *p = cJSON_GetObjectItemCaseSensitive(paths, r->pattern);
        if (!p) p = cJSON_AddObjectToObject(paths, r->pattern);
        char m[16];
        size_t k = 0;
        for (; r->method[k] && k + 1 < sizeof m; k++) m[k] = (char)(r->method[k] | 0x20);
        m[k] = 0;
        cJSON *op = cJSON_AddObjectToObject(p, m);
        cJSON_AddStringToObject(op, "summary", r->summary);
        cJSON_AddStringToObject(op, "x-flowc-access", access_names[r->access]);
        if (r->kind != SRV_K_NONE) cJSON_AddStringToObject(op, "x-flowc-resource", srv_kind_names[r->kind]);
        cJSON *tags = cJSON_AddArrayToObject(op, "tags");
        cJSON_AddItemToArray(tags, cJSON_CreateString(r->kind == SRV_K_NONE ? "server" : srv_kind_plural[r->kind]));
        if (r->access == SRV_A_PUBLIC) cJSON_AddArrayToObject(op, "security");
        else cJSON_AddItemToArray(cJSON_AddArrayToObject(op, "security"), cJSON_Parse("{\"bearer\":[]}"));
        /* the {captures} */
        cJSON *params = NULL;
        for (const char *s = strchr(r->pattern, '{'); s; s = strchr(s + 1, '{')) {
            const char *e = strchr(s, '}');
            if (!e) break;
            if (!params) params = cJSON_AddArrayToObject(op, "parameters");
            cJSON *pa = cJSON_CreateObject();
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(e - s - 1 - (e - s > 4 && memcmp(e - 3, "...", 3) == 0 ? 3 : 0)), s + 1);
            cJSON_AddStringToObject(pa, "name", name);
            cJSON_AddStringToObject(pa, "in", "path");
            cJSON_AddBoolToObject(pa, "required", 1);
            cJSON_AddStringToObject(cJSON_AddObjectToObject(pa, "schema"), "type", "string");
            cJSON_AddItemToArray(params, pa);
        }
        if (r->body != SRV_B_NONE) {   /* its body: a $ref for JSON ones, the schema itself for text and packages */
            cJSON *rb = cJSON_AddObjectToObject(op, "requestBody"), *content = cJSON_AddObjectToObject(rb, "content");
            cJSON_AddBoolToObject(rb, "required", r->body != SRV_B_RUN_WINDOW && r->body != SRV_B_ERROR_IDS);
            const char *media[2] = { bodies[r->body].media, bodies[r->body].media2 }, *schema[2] = { bodies[r->body].schema, bodies[r->body].schema2 };
            for (int mi = 0; mi < 2 && media[mi]; mi++) {
                cJSON *sc = cJSON_AddObjectToObject(cJSON_AddObjectToObject(content, media[mi]), "schema");
                if (strcmp(media[mi], "application/json") == 0) {
                    char ref[96];
                    snprintf(ref, sizeof ref, "#/components/schemas/%s", bodies[r->body].id);
                    cJSON_AddStringToObject(sc, "$ref", ref);
                } else {
                    cJSON *inl = cJSON_Parse(schema[mi]);
                    for (cJSON *x = inl ? inl->child : NULL; x; x = x->next) cJSON_AddItemToObject(sc, x->string, cJSON_Duplicate(x, 1));
                    cJSON_Delete(inl);
                }
            }
        }
        cJSON *resp = cJSON_AddObjectToObject(op, "responses");
        char ok[8];
        snprintf(ok, sizeof ok, r->ok ? "%d" : "2XX", r->ok);
        cJSON *okr = cJSON_AddObjectToObject(resp, ok);
        cJSON_AddStringToObject(okr, "description", r->ok == 204 ? "success, no content" : r->ok ? "success" : "success: the status the resource chooses");
        if (r->access != SRV_A_PUBLIC) {
            cJSON_AddItemToObject(resp, "401", error_response("no token, or one that is unknown, revoked or expired"));
            cJSON_AddItemToObject(resp, "403", error_response("the token's scope does not reach this resource or route"));
        }
        if (strchr(r->pattern, '{')) cJSON_AddItemToObject(resp, "404", error_response("no such resource"));
        if (r->access == SRV_A_WRITE) {
            cJSON_AddItemToObject(resp, "409", error_response("a conflict: the resource exists, changed meanwhile, or a merge conflicts"));
            cJSON_AddItemToObject(resp, "422", error_response("the .flow text does not check: its diagnostics (file, line, column, message)"));
        }
        if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "DELETE") != 0) {
            cJSON_AddItemToObject(resp, "400", error_response("a malformed body"));
            cJSON_AddItemToObject(resp, "413", error_response("a body over 5 MB"));
            cJSON_AddItemToObject(resp, "415", error_response("a body of another media type than the route takes"));
        }
    }
    return doc;
}

void api_openapi(Srv *s, const SrvReq *rq, SrvResp *out) {
    (void)s; (void)rq;
    srv_json(out, 200, openapi());
}
