/* tokens.c — bearer tokens: made with 32 random bytes and stored only as their SHA-256, full access
 * or a scope of chosen integrations, flows, exports, imports and connections, an optional expiry,
 * revocation at once; the caller of a request (401 when unknown, revoked or expired, an expiry
 * audited once), the scope check, and the /v1/tokens routes. */
#define _GNU_SOURCE
#include "server.h"
#include "db.h"
#include "package.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char *const scope_keys[] = { "integrations", "flows", "exports", "imports", "connections" };
#define NSCOPE_KEYS (int)(sizeof scope_keys / sizeof scope_keys[0])

static int random_hex(char *out, size_t nbytes) {
    unsigned char b[64];
    if (nbytes > sizeof b) return -1;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * nbytes] = 0;
    return 0;
}

int64_t tokens_parse_duration(const char *s) {
    if (!s || !*s) return -1;
    if (strcmp(s, "never") == 0) return 0;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s || n <= 0 || n > 100000) return -1;
    int64_t unit = strcmp(end, "d") == 0 ? 86400000 : strcmp(end, "h") == 0 ? 3600000 : strcmp(end, "m") == 0 ? 60000
                 : strcmp(end, "s") == 0 ? 1000 : 0;
    return unit ? (int64_t)n * unit : -1;
}

int tokens_create(SrvStore *st, const char *name, const cJSON *scope, int64_t expires_ms, char id[40], char secret[80], char *why,
                  size_t cap) {
    char rid[32], rsec[72];
    if (random_hex(rid, 6) || random_hex(rsec, 32)) {
        snprintf(why, cap, "no random bytes from the system");
        return -1;
    }
    snprintf(id, 40, "tok_%s", rid);
    snprintf(secret, 80, "flw_%s", rsec);
    char hash[65];
    pkg_sha256_hex(secret, strlen(secret), hash);
    char *scope_text = scope ? flow_json_print(scope) : NULL;
    store_lock(st);
    FlowDbStmt *q = NULL;
    int rc = -1;
    if ((q = flow_db_prepare(store_db(st), "INSERT INTO tokens(id, name, hash, scope, created, expires) VALUES(?,?,?,?,?,?)")) != NULL) {
        int64_t now = flow_wall_ms();
        flow_db_bind_text(q, 1, id);
        flow_db_bind_text(q, 2, name);
        flow_db_bind_text(q, 3, hash);
        if (scope_text) flow_db_bind_text(q, 4, scope_text);
        else flow_db_bind_null(q, 4);
        flow_db_bind_int64(q, 5, now);
        if (expires_ms > 0) flow_db_bind_int64(q, 6, now + expires_ms);
        else flow_db_bind_null(q, 6);
        rc = flow_db_step(q) == FLOW_DB_DONE ? 0 : -1;
    }
    if (rc) snprintf(why, cap, "the store: %s", flow_db_error(store_db(st)));
    flow_db_finalize(q);
    store_unlock(st);
    cJSON_free(scope_text);
    return rc;
}

int tokens_check(Srv *s, const char *secret, const char *addr, SrvCaller *c, char *why, size_t cap) {
    SrvStore *st = srv_store(s);
    char hash[65];
    pkg_sha256_hex(secret, strlen(secret), hash);
    memset(c, 0, sizeof *c);
    store_lock(st);
    FlowDbStmt *q = NULL;
    int found = 0, expired_now = 0, step = -1;
    int64_t expires = 0, revoked = 0;
    char failed[200] = "";   /* the store could not be read: no answer about the token at all */
    if ((q = flow_db_prepare(store_db(st), "SELECT id, name, scope, expires, revoked, expiry_audited FROM tokens WHERE hash = ?")) != NULL) {
        flow_db_bind_text(q, 1, hash);
        if ((step = flow_db_step(q)) == FLOW_DB_ROW) {
            found = 1;
            snprintf(c->id, sizeof c->id, "%s", flow_db_column_text(q, 0));
            snprintf(c->name, sizeof c->name, "%s", flow_db_column_text(q, 1));
            const char *sc = flow_db_column_text(q, 2);
            c->full = sc == NULL;
            if (sc) c->scope = cJSON_Parse(sc);
            expires = flow_db_column_null(q, 3) ? 0 : flow_db_column_int64(q, 3);
            revoked = flow_db_column_null(q, 4) ? 0 : flow_db_column_int64(q, 4);
            expired_now = !revoked && expires && expires <= flow_wall_ms() && flow_db_column_int64(q, 5) == 0;
        }
    }
    if (step < 0) snprintf(failed, sizeof failed, "%s", flow_db_error(store_db(st)));
    flow_db_finalize(q);
    if (expired_now && store_begin(st) == 0) {   /* the first use after the expiry records it, once (in every server) */
        FlowDbStmt *u = flow_db_prepare(store_db(st), "UPDATE tokens SET expiry_audited = 1 WHERE id = ? AND expiry_audited = 0");
        int ok = u != NULL;
        if (u) {
            flow_db_bind_text(u, 1, c->id);
            ok = flow_db_step(u) == FLOW_DB_DONE;
            if (ok && flow_db_changes(u) == 1) {
                cJSON *d = cJSON_CreateObject();
                char iso[32];
                store_iso(expires, iso);
                cJSON_AddStringToObject(d, "expired", iso);
                ok = audit_append(st, 1, c, addr, "token.expired", SRV_K_TOKEN, c->id, d) == 0;
            }
        }
        flow_db_finalize(u);
        if (!ok || store_commit(st)) store_rollback(st);
    }
    store_unlock(st);
    if (step < 0) {
        snprintf(why, cap, "the workspace store could not be read to check the token: %s", failed[0] ? failed : "no answer");
        return 503;
    }
    if (!found) {
        snprintf(why, cap, "the token is not known (a wrong token, or one of another workspace)");
        return 401;
    }
    char iso[32];
    if (revoked) {
        store_iso(revoked, iso);
        snprintf(why, cap, "token %s was revoked at %s", c->id, iso);
    } else if (expires && expires <= flow_wall_ms()) {
        store_iso(expires, iso);
        snprintf(why, cap, "token %s expired at %s", c->id, iso);
    } else {
        if (!c->full && !c->scope) { snprintf(why, cap, "token %s has an unreadable scope in the store", c->id); return 401; }
        return 0;
    }
    cJSON_Delete(c->scope);
    c->scope = NULL;
    return 401;
}

static int listed(const cJSON *scope, const char *key, const char *id, size_t n) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(scope, key), *e;
    cJSON_ArrayForEach(e, a) if (cJSON_IsString(e) && strlen(e->valuestring) == n && strncmp(e->valuestring, id, n) == 0) return 1;
    return 0;
}

int srv_scope_allows(const SrvCaller *c, SrvKind kind, const char *id) {
    if (c->full) return 1;
    if (!c->scope || !id || kind <= SRV_K_NONE || kind > SRV_K_CONNECTION) return 0;
    size_t n = strlen(id);
    if (listed(c->scope, srv_kind_plural[kind], id, n)) return 1;
    const char *dot = strchr(id, '.');
    if (listed(c->scope, "integrations", id, dot ? (size_t)(dot - id) : n)) return 1;
    if ((kind == SRV_K_EXPORT || kind == SRV_K_IMPORT) && dot) {
        const char *dot2 = strchr(dot + 1, '.');
        if (dot2 && listed(c->scope, "flows", id, (size_t)(dot2 - id))) return 1;
    }
    return 0;
}

/* ---- routes ---- */

static cJSON *token_json(FlowDbStmt *q) {
    cJSON *o = cJSON_CreateObject();
    char iso[32];
    cJSON_AddStringToObject(o, "id", flow_db_column_text(q, 0));
    cJSON_AddStringToObject(o, "name", flow_db_column_text(q, 1));
    const char *sc = flow_db_column_text(q, 2);
    cJSON *scope = sc ? cJSON_Parse(sc) : NULL;
    if (scope) cJSON_AddItemToObject(o, "scope", scope);
    else cJSON_AddStringToObject(o, "scope", "full");
    store_iso(flow_db_column_int64(q, 3), iso);
    cJSON_AddStringToObject(o, "created", iso);
    int64_t exp = flow_db_column_null(q, 4) ? 0 : flow_db_column_int64(q, 4);
    int64_t rev = flow_db_column_null(q, 5) ? 0 : flow_db_column_int64(q, 5);
    if (exp) { store_iso(exp, iso); cJSON_AddStringToObject(o, "expires", iso); }
    else cJSON_AddNullToObject(o, "expires");
    if (rev) { store_iso(rev, iso); cJSON_AddStringToObject(o, "revoked", iso); }
    else cJSON_AddNullToObject(o, "revoked");
    cJSON_AddStringToObject(o, "status", rev ? "revoked" : exp && exp <= flow_wall_ms() ? "expired" : "active");
    return o;
}

void tok_list(Srv *s, const SrvReq *rq, SrvResp *out) {
    SrvStore *st = srv_store(s);
    cJSON *a = cJSON_CreateArray();
    store_lock(st);
    FlowDbStmt *q = NULL;
    if ((q = flow_db_prepare(store_db(st), "SELECT id, name, scope, created, expires, revoked FROM tokens ORDER BY id")) != NULL)
        while (flow_db_step(q) == FLOW_DB_ROW) cJSON_AddItemToArray(a, token_json(q));
    flow_db_finalize(q);
    store_unlock(st);
    srv_page(rq, out, a);
}

/* a scope from the body: "full" (NULL in *scope) or an object of the five lists of ids. 0, or -1 with a 400 */
static int parse_scope(const cJSON *j, SrvResp *out, cJSON **scope) {
    *scope = NULL;
    if (cJSON_IsString(j) && strcmp(j->valuestring, "full") == 0) return 0;
    if (!cJSON_IsObject(j)) {
        srv_error(out, 400, "invalid_field", "scope", "scope is \"full\" or an object of lists of ids: {\"integrations\": [...], \"flows\": [...], "
                  "\"exports\": [...], \"imports\": [...], \"connections\": [...]}");
        return -1;
    }
    cJSON *sc = cJSON_CreateObject();
    const cJSON *m;
    int total = 0;
    cJSON_ArrayForEach(m, j) {
        int k = 0;
        while (k < NSCOPE_KEYS && strcmp(m->string, scope_keys[k]) != 0) k++;
        char field[80];
        snprintf(field, sizeof field, "scope.%.60s", m->string);
        if (k == NSCOPE_KEYS) {
            srv_error(out, 400, "invalid_field", field, "a scope lists integrations, flows, exports, imports and connections, not `%.60s`",
                      m->string);
            cJSON_Delete(sc);
            return -1;
        }
        if (!cJSON_IsArray(m)) {
            srv_error(out, 400, "invalid_field", field, "%s is a list of ids", field);
            cJSON_Delete(sc);
            return -1;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, m) if (!cJSON_IsString(e) || !e->valuestring[0] || strlen(e->valuestring) > 200) {
            srv_error(out, 400, "invalid_field", field, "%s holds ids: non-empty strings of at most 200 bytes", field);
            cJSON_Delete(sc);
            return -1;
        }
        total += cJSON_GetArraySize(m);
        cJSON_AddItemToObject(sc, scope_keys[k], cJSON_Duplicate(m, 1));
    }
    if (!total) {
        srv_error(out, 400, "invalid_field", "scope", "a scope must name at least one resource (or be \"full\")");
        cJSON_Delete(sc);
        return -1;
    }
    *scope = sc;
    return 0;
}

void tok_create(Srv *s, const SrvReq *rq, SrvResp *out) {
    cJSON *b;
    if (srv_body_json(rq, out, 0, &b)) return;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name"), *scope = cJSON_GetObjectItemCaseSensitive(b, "scope"),
                *exp = cJSON_GetObjectItemCaseSensitive(b, "expires"), *m;
    cJSON_ArrayForEach(m, b) if (strcmp(m->string, "name") && strcmp(m->string, "scope") && strcmp(m->string, "expires")) {
        srv_error(out, 400, "invalid_field", m->string, "a token takes name, scope and expires, not `%.60s`", m->string);
        cJSON_Delete(b);
        return;
    }
    if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) > 100) {
        srv_error(out, 400, "invalid_field", "name", "name is required: a string of 1 to 100 bytes");
        cJSON_Delete(b);
        return;
    }
    if (!scope) {
        srv_error(out, 400, "invalid_field", "scope", "scope is required: \"full\" or {\"flows\": [...], ...}");
        cJSON_Delete(b);
        return;
    }
    int64_t ms = 0;
    if (exp && !cJSON_IsNull(exp)) {
        ms = cJSON_IsString(exp) ? tokens_parse_duration(exp->valuestring) : -1;
        if (ms < 0) {
            srv_error(out, 400, "invalid_field", "expires", "expires is a duration such as \"30d\", \"12h\", \"90m\", \"45s\", or \"never\"");
            cJSON_Delete(b);
            return;
        }
    }
    cJSON *sc;
    if (parse_scope(scope, out, &sc)) { cJSON_Delete(b); return; }
    char id[40], secret[80], why[300];
    if (tokens_create(srv_store(s), name->valuestring, sc, ms, id, secret, why, sizeof why)) {
        srv_error(out, 500, "store", NULL, "%s", why);
        cJSON_Delete(sc);
        cJSON_Delete(b);
        return;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", name->valuestring);
    if (sc) cJSON_AddItemToObject(d, "scope", cJSON_Duplicate(sc, 1));
    else cJSON_AddStringToObject(d, "scope", "full");
    if (ms) cJSON_AddStringToObject(d, "expires", exp->valuestring);
    audit_append(srv_store(s), 0, rq->caller, rq->addr, "token.create", SRV_K_TOKEN, id, d);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "token", secret);
    cJSON_AddStringToObject(o, "name", name->valuestring);
    if (sc) cJSON_AddItemToObject(o, "scope", sc);
    else cJSON_AddStringToObject(o, "scope", "full");
    if (ms) {
        char iso[32];
        store_iso(flow_wall_ms() + ms, iso);
        cJSON_AddStringToObject(o, "expires", iso);
    } else cJSON_AddNullToObject(o, "expires");
    memset(secret, 0, sizeof secret);
    cJSON_Delete(b);
    srv_json(out, 201, o);
}

void tok_revoke(Srv *s, const SrvReq *rq, SrvResp *out) {
    SrvStore *st = srv_store(s);
    const char *id = rq->params[0];
    store_lock(st);
    int found = 0, ok = store_begin(st) == 0;
    FlowDbStmt *q = ok ? flow_db_prepare(store_db(st), "SELECT revoked FROM tokens WHERE id = ?") : NULL;
    if (q) {
        flow_db_bind_text(q, 1, id);
        int r = flow_db_step(q);
        if (r == FLOW_DB_ROW) found = 1 + (!flow_db_column_null(q, 0));
        ok = r >= 0;
    } else ok = 0;
    flow_db_finalize(q);
    if (ok && found == 1) {   /* the revocation and its audit entry in one transaction */
        q = flow_db_prepare(store_db(st), "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL");
        if (q) {
            flow_db_bind_int64(q, 1, flow_wall_ms());
            flow_db_bind_text(q, 2, id);
        }
        ok = flow_db_run(q) == 0 && audit_append(st, 1, rq->caller, rq->addr, "token.revoke", SRV_K_TOKEN, id, cJSON_CreateObject()) == 0;
    }
    if (ok && store_commit(st)) ok = 0;
    if (!ok) {
        srv_error(out, 500, "store", NULL, "the store: %s", flow_db_error(store_db(st)));
        store_rollback(st);
        store_unlock(st);
        return;
    }
    store_unlock(st);
    if (!found) { srv_error(out, 404, "not_found", "id", "no token `%s`", id); return; }
    srv_no_content(out);
}
