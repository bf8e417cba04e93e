/* conns.c — the connections routes: GET /v1/connections, GET /v1/connections/{id} (kind, settings —
 * a setting that holds a secret or an env() value shown as <redacted> —, the env() names it takes and
 * which are set), PUT /v1/connections/{id}/secrets ({"NAME": "value"}: the env() values it takes,
 * kept encrypted by secrets.c, never returned), DELETE /v1/connections/{id}/secrets/{name}, POST
 * /v1/connections/{id}/test (the head revision's executable's `ping CONNECTION` in a child process,
 * with the secrets, killed at the test's time limit). The debug routes are conn_debug.c's. */
#include "runs.h"
#include "ir.h"
#include "builtins.h"
#include "package.h"   /* pkg_conn_bindings */
#include "secrets.h"
#include "conn_debug.h"
#include "triggers.h"
#include "files.h"
#include "db.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define CONN_TEST_TIMEOUT_S 10       /* a test still going after this (?timeout=S, 1..60) is stopped */
#define CONN_TEST_TIMEOUT_MAX_S 60

static void add_name(cJSON *names, const char *name) {
    for (const cJSON *x = names->child; x; x = x->next) if (strcmp(x->valuestring, name) == 0) return;
    cJSON_AddItemToArray(names, cJSON_CreateString(name));
}

static int trigger_env(const IrExpr *x, void *ud) {
    if (x->kind == IR_CALL && x->fn && strcmp(x->fn->name, "env") == 0 && x->nkids && x->kids[0] && x->kids[0]->kind == IR_STR)
        add_name(ud, x->kids[0]->str);
    else if (x->kind == IR_ENV && x->name) add_name(ud, x->name);
    return 0;
}

/* the env() names a connection takes, unique (a JSON array); the built-in `webhook` takes those of
 * the flows' triggers (their verification's secrets) */
static cJSON *conn_env_names(const RunsTarget *t) {
    const IrConn *c = t->conn;
    cJSON *b = pkg_conn_bindings(c), *names = cJSON_CreateArray();
    for (const cJSON *st = b ? b->child : NULL; st; st = st->next)
        for (const cJSON *e = cJSON_GetObjectItemCaseSensitive(st, "env") ? cJSON_GetObjectItemCaseSensitive(st, "env")->child : NULL; e; e = e->next)
            add_name(names, e->valuestring);
    cJSON_Delete(b);
    if (c->kind == flow_conn_kind("webhook"))
        for (int i = 0; i < t->fe.ir->nflows; i++)
            for (int k = 0; k < t->fe.ir->flows[i]->nsettings; k++)
                if (strcmp(t->fe.ir->flows[i]->settings[k].name, "trigger") == 0) ir_any_expr(t->fe.ir->flows[i]->settings[k].value, trigger_env, names);
    return names;
}

static int takes(const cJSON *names, const char *name) {
    for (const cJSON *x = names->child; x; x = x->next) if (strcmp(x->valuestring, name) == 0) return 1;
    return 0;
}

/* the secrets set for the names a connection takes: [{"name", "set", "updated_at"}] */
static cJSON *secret_state(Srv *s, const char *integ, const cJSON *names) {
    char why[600];
    SrvStore *st = srv_store(s);
    store_lock(st);
    cJSON *set = srv_secret_names(store_db(st), integ, why, sizeof why);
    store_unlock(st);
    cJSON *arr = cJSON_CreateArray();
    for (const cJSON *n = names->child; n; n = n->next) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", n->valuestring);
        const cJSON *hit = NULL;
        for (const cJSON *x = set ? set->child : NULL; x && !hit; x = x->next)
            if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "name")), n->valuestring) == 0) hit = x;
        cJSON_AddBoolToObject(o, "set", hit != NULL);
        if (hit) {
            char iso[32];
            flow_format_iso8601((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(hit, "updated_ms")), iso);
            cJSON_AddStringToObject(o, "updated_at", iso);
        }
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_Delete(set);
    return arr;
}

static int uses_env(const IrExpr *x, void *ud) { (void)ud; return x->kind == IR_ENV || (x->kind == IR_CALL && x->fn && strcmp(x->fn->name, "env") == 0); }

static cJSON *conn_view(Srv *s, const RunsTarget *t, int full) {
    const IrConn *c = t->conn;
    const char *kind = c->kind >= 0 ? flow_conn_kinds[c->kind] : "?";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "integration", t->integ);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "kind", kind);
    if (!full) return o;
    cJSON *set = cJSON_AddObjectToObject(o, "settings");
    for (int i = 0; i < c->nsettings; i++) {
        const IrSetting *st = &c->settings[i];
        const FlowSettingSpec *sp = flow_setting_spec(kind, FLOW_AT_CONN, st->name);
        int secret = (sp && sp->secret) || ir_any_expr(st->value, uses_env, NULL);
        if (secret) cJSON_AddStringToObject(set, st->name, "<redacted>");
        else {
            Span v = st->value ? st->value->span : st->span;
            char *text = strndup(t->text + v.start, v.end - v.start);
            cJSON_AddStringToObject(set, st->name, text ? text : "");
            free(text);
        }
    }
    cJSON *names = conn_env_names(t);
    cJSON_AddItemToObject(o, "secrets", secret_state(s, t->integ, names));
    cJSON_Delete(names);
    SrvStore *st = srv_store(s);
    store_lock(st);
    cJSON_AddItemToObject(o, "debug", srv_debug_window(store_db(st), t->id));
    store_unlock(st);
    return o;
}

void conn_get(Srv *s, const SrvReq *rq, SrvResp *out) {
    RunsTarget t;
    if (runs_target(s, rq->params[0], RUNS_CONNECTION, NULL, &t, out)) return;
    srv_json(out, 200, conn_view(s, &t, 1));
    runs_target_free(&t);
}

static int cmp_id(const void *a, const void *b) {
    return strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, "id")),
                  cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, "id")));
}

void conns_list(Srv *s, const SrvReq *rq, SrvResp *out) {
    SrvStore *st = srv_store(s);
    store_lock(st);
    FlowDbStmt *q = NULL;
    cJSON *ids = cJSON_CreateArray();
    if ((q = flow_db_prepare(store_db(st), "SELECT id FROM integrations ORDER BY id")) != NULL)
        while (flow_db_step(q) == FLOW_DB_ROW) cJSON_AddItemToArray(ids, cJSON_CreateString(flow_db_column_text(q, 0)));
    flow_db_finalize(q);
    store_unlock(st);
    cJSON *list = cJSON_CreateArray();
    for (const cJSON *i = ids->child; i; i = i->next) {
        size_t len;
        long rev;
        char *text = srv_integration_text(s, i->valuestring, &len, &rev);
        if (!text) continue;
        /* the connection names from the checked source (runs_target parses it per id) */
        char name[4400];
        srv_files_name(s, i->valuestring, "integration.flow", name, sizeof name);
        Source *src = src_from_buffer(name, text, len);
        Diags d;
        diag_init(&d);
        FeResult fe;
        fe_run(&fe, src, &d, FE_CHECK);
        for (int k = 0; fe.ir && k < fe.ir->nconns; k++) {
            char id[600];
            snprintf(id, sizeof id, "%s.%s", i->valuestring, fe.ir->conns[k]->name);
            if (!srv_scope_allows(rq->caller, SRV_K_CONNECTION, id)) continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", id);
            cJSON_AddStringToObject(o, "integration", i->valuestring);
            cJSON_AddStringToObject(o, "name", fe.ir->conns[k]->name);
            cJSON_AddStringToObject(o, "kind", fe.ir->conns[k]->kind >= 0 ? flow_conn_kinds[fe.ir->conns[k]->kind] : "?");
            cJSON_AddItemToArray(list, o);
        }
        diag_free(&d);
        fe_result_free(&fe);
        src_free(src);
        free(text);
    }
    cJSON_Delete(ids);
    /* sorted by id, as srv_page pages */
    int n = cJSON_GetArraySize(list);
    cJSON **v = calloc((size_t)n + 1, sizeof *v);
    if (!v) abort();
    for (int k = 0; k < n; k++) v[k] = cJSON_DetachItemFromArray(list, 0);
    qsort(v, (size_t)n, sizeof *v, cmp_id);
    for (int k = 0; k < n; k++) cJSON_AddItemToArray(list, v[k]);
    free(v);
    srv_page(rq, out, list);
}

void conn_secrets_put(Srv *s, const SrvReq *rq, SrvResp *out) {
    cJSON *body = NULL;
    if (srv_body_json(rq, out, 0, &body)) return;
    RunsTarget t;
    if (runs_target(s, rq->params[0], RUNS_CONNECTION, NULL, &t, out)) { cJSON_Delete(body); return; }
    cJSON *names = conn_env_names(&t);
    int bad = 0;
    for (const cJSON *x = body->child; x && !bad; x = x->next) {
        if (!takes(names, x->string)) {
            char *list = cJSON_PrintUnformatted(names);
            srv_error(out, 400, "invalid_field", x->string, "connection %s takes no env(\"%s\") (it takes %s)", t.id, x->string, list);
            cJSON_free(list);
            bad = 1;
        } else if (!cJSON_IsString(x) || !x->valuestring[0] || strlen(x->valuestring) > SRV_SECRET_MAX) {
            srv_error(out, 400, "invalid_field", x->string, "%s takes a non-empty string of at most %d bytes", x->string, SRV_SECRET_MAX);
            bad = 1;
        }
    }
    if (!bad && !body->child) { srv_error(out, 400, "invalid_body", NULL, "give the secrets as {\"NAME\": \"value\"}"); bad = 1; }
    if (!bad) {
        char why[1200];
        SrvStore *st = srv_store(s);
        long long now = flow_wall_ms();
        const SrvKey *key = runs_key(s);
        store_lock(st);
        for (const cJSON *x = body->child; x && !bad; x = x->next)
            if (srv_secret_put(store_db(st), key, t.integ, t.conn->name, x->string, x->valuestring, strlen(x->valuestring), now, why, sizeof why)) bad = 1;
        store_unlock(st);
        if (bad) srv_error(out, 500, "internal", NULL, "%s", why);
        else {
            cJSON *d = cJSON_CreateObject(), *set = cJSON_AddArrayToObject(d, "secrets");
            for (const cJSON *x = body->child; x; x = x->next) cJSON_AddItemToArray(set, cJSON_CreateString(x->string));   /* names, never values */
            audit_append(st, 0, rq->caller, rq->addr, "secrets.set", SRV_K_CONNECTION, t.id, d);
            triggers_changed(s, t.integ);   /* its gate evaluates env() with them */
            srv_json(out, 200, conn_view(s, &t, 1));
        }
    }
    /* the values leave memory as soon as they are stored */
    for (cJSON *x = body->child; x; x = x->next) if (cJSON_IsString(x)) memset(x->valuestring, 0, strlen(x->valuestring));
    cJSON_Delete(names);
    cJSON_Delete(body);
    runs_target_free(&t);
}

void conn_secret_delete(Srv *s, const SrvReq *rq, SrvResp *out) {
    RunsTarget t;
    if (runs_target(s, rq->params[0], RUNS_CONNECTION, NULL, &t, out)) return;
    cJSON *names = conn_env_names(&t);
    if (!takes(names, rq->params[1])) srv_error(out, 404, "not_found", NULL, "connection %s takes no env(\"%s\")", t.id, rq->params[1]);
    else {
        char why[600];
        SrvStore *st = srv_store(s);
        store_lock(st);
        int n = srv_secret_delete(store_db(st), t.integ, rq->params[1], why, sizeof why);
        store_unlock(st);
        if (n < 0) srv_error(out, 500, "internal", NULL, "%s", why);
        else if (n == 0) srv_error(out, 404, "not_found", NULL, "secret %s of %s is not set", rq->params[1], t.integ);
        else {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "secret", rq->params[1]);
            audit_append(st, 0, rq->caller, rq->addr, "secrets.delete", SRV_K_CONNECTION, t.id, d);
            triggers_changed(s, t.integ);
            srv_no_content(out);
        }
    }
    cJSON_Delete(names);
    runs_target_free(&t);
}

/* ---- POST /v1/connections/{id}/test ---- */

void conn_test(Srv *s, const SrvReq *rq, SrvResp *out) {
    char buf[32];
    long limit = CONN_TEST_TIMEOUT_S;
    int q = srv_query(rq, "timeout", buf, sizeof buf);
    if (q) {
        char *end;
        limit = q > 0 ? strtol(buf, &end, 10) : -1;
        if (q < 0 || end == buf || *end || limit < 1 || limit > CONN_TEST_TIMEOUT_MAX_S) {
            srv_error(out, 400, "invalid_parameter", "timeout", "timeout takes whole seconds from 1 to %d", CONN_TEST_TIMEOUT_MAX_S);
            return;
        }
    }
    if (rq->nbody) { srv_error(out, 400, "invalid_body", NULL, "POST /v1/connections/{id}/test takes no body (?timeout=S)"); return; }
    RunsTarget t;
    if (runs_target(s, rq->params[0], RUNS_CONNECTION, NULL, &t, out)) return;
    const char *kind = t.conn->kind >= 0 ? flow_conn_kinds[t.conn->kind] : "?";
    cJSON *res = NULL;
    char exe[4400];
    if (t.builtin) {   /* `webhook` used only by triggers: the program has no such connection to ping */
        res = cJSON_CreateObject();
        cJSON_AddStringToObject(res, "connection", t.conn->name);
        cJSON_AddStringToObject(res, "kind", kind);
        cJSON_AddBoolToObject(res, "ok", 1);
        cJSON_AddNumberToObject(res, "latency_ms", 0);
        cJSON_AddStringToObject(res, "note", "webhook requests are received and queued by this server: there is nothing to open");
    } else if (runs_exe(s, &t, exe, sizeof exe, out) == 0) {
        char **env = runs_env(s, t.integ, NULL, out);
        char *argv[] = { exe, "ping", (char *)t.conn->name, NULL };
        char errline[1100], why[1200];
        size_t n = 0;
        int status = 0, timed_out = 0;
        char *text = env ? runs_exec(s, t.integ, argv, env, limit * 1000, &n, errline, sizeof errline, &status, &timed_out, why, sizeof why)
                         : NULL;
        srv_secret_env_free(env);
        int code = text && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (env && !text) srv_error(out, 500, "internal", NULL, "%s", why);
        else if (timed_out) {
            res = cJSON_CreateObject();
            cJSON_AddStringToObject(res, "connection", t.conn->name);
            cJSON_AddStringToObject(res, "kind", kind);
            cJSON_AddBoolToObject(res, "ok", 0);
            cJSON_AddStringToObject(res, "class", "connection");
            char msg[300];
            snprintf(msg, sizeof msg, "connection %s: no answer within %ld s (the test's limit, ?timeout=S): the test was stopped", t.conn->name, limit);
            cJSON_AddStringToObject(res, "message", msg);
        } else if (text && (code == 0 || code == 1) && !(res = flow_json_parse(text, strcspn(text, "\n"), NULL)))
            srv_error(out, 502, "run_failed", NULL, "the connection test answered no result: %s", errline[0] ? errline : "no message");
        else if (text && !res) {
            if (WIFSIGNALED(status)) srv_error(out, 502, "crashed", NULL, "the connection test crashed (signal %d)", WTERMSIG(status));
            else srv_error(out, 502, "run_failed", NULL, "the connection test failed: %s", errline[0] ? errline : "no message");
        }
        free(text);
    }
    if (res) {
        cJSON_AddStringToObject(res, "id", t.id);
        cJSON_AddNumberToObject(res, "revision", (double)t.rev);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddBoolToObject(d, "ok", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "ok")));
        const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "class"));
        if (cls) cJSON_AddStringToObject(d, "class", cls);
        audit_append(srv_store(s), 0, rq->caller, rq->addr, "test", SRV_K_CONNECTION, t.id, d);
        srv_json(out, 200, res);
    }
    runs_target_free(&t);
}
