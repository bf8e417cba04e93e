/* probe.c — one connection proven to work outside a run (flow_conn_probe, engine.h): the executable's
 * `ping CONNECTION` and, through it, flowc server's POST /v1/connections/{id}/test. The connection's
 * settings are evaluated and checked as a run's are (params, env() values, the settings table), its
 * secrets joining the redaction list; then its connector's probe runs for what the program's steps
 * use it for, timed. Failures carry the class a run would record; every string of the answer is
 * redacted as a run's messages are. Nothing is created or written. */
#include "engine_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int flow_probe_path(const char *path, int is_dir, unsigned uses, cJSON *info, FlowErr *err) {
    int reads = (uses & (FLOW_USE_EXPORT | FLOW_USE_LOOKUP)) || !uses, writes = (uses & FLOW_USE_IMPORT) != 0;
    const char *need = reads && writes ? "read and write" : writes ? "write" : "read";
    cJSON_AddStringToObject(info, "path", path);
    cJSON_AddStringToObject(info, "access", need);
    struct stat st;
    if (stat(path, &st) == 0) {
        if (is_dir != (S_ISDIR(st.st_mode) != 0)) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "%s: %s", path, is_dir ? strerror(ENOTDIR) : strerror(EISDIR));
            return -1;
        }
        int mode = (reads ? R_OK : 0) | (writes ? W_OK : 0) | (is_dir ? X_OK : 0);
        if (access(path, mode) != 0) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "%s: %s (the connection needs %s access)", path, strerror(errno), need);
            return -1;
        }
        cJSON_AddBoolToObject(info, "exists", 1);
        return 0;
    }
    int e = errno;
    if (e != ENOENT || reads) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "%s: %s", path, strerror(e));
        return -1;
    }
    /* written to only: a run makes it; its nearest existing directory must take it */
    char *dir = flow_xstrdup(path);
    int rc = -1;
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash) { strcpy(dir, "."); }
        else if (slash == dir) slash[1] = 0;
        else *slash = 0;
        if (stat(dir, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) flow_err_set(err, FLOW_ERR_CONNECTION, "%s cannot be made: %s is not a directory", path, dir);
            else if (access(dir, W_OK | X_OK) != 0)
                flow_err_set(err, FLOW_ERR_CONNECTION, "%s cannot be made in %s: %s", path, dir, strerror(errno));
            else rc = 0;
            break;
        }
        if (errno != ENOENT || strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "%s: %s: %s", path, dir, strerror(errno));
            break;
        }
    }
    free(dir);
    if (rc == 0) {
        cJSON_AddBoolToObject(info, "exists", 0);
        cJSON_AddStringToObject(info, "note", "it does not exist yet; the first run that writes to it makes it");
    }
    return rc;
}

/* what the program's steps use connection ci for (FLOW_USE_*), through branches */
static unsigned uses_of(const FlowStepDef *steps, int n, int ci, int depth) {
    unsigned u = 0;
    for (int i = 0; i < n && depth < 64; i++) {
        const FlowStepDef *d = &steps[i];
        if (d->conn == ci) u |= flow_step_use(d->kind);
        if (d->kind == FLOW_STEP_BRANCH)
            for (int a = 0; a < d->narms; a++) u |= uses_of(d->arms[a].steps, d->arms[a].nsteps, ci, depth + 1);
    }
    return u;
}

int flow_conn_probe(const FlowProgram *p, FlowCtx *cx, const char *conn, cJSON **result) {
    *result = NULL;
    int ci = -1;
    for (int i = 0; i < p->nconns && ci < 0; i++) if (strcmp(p->conns[i].name, conn) == 0) ci = i;
    if (ci < 0) return -1;
    const FlowConnDef *d = &p->conns[ci];
    static const FlowFlowDef none = { .name = "(connection test)" };
    FlowRunStats st;
    memset(&st, 0, sizeof st);
    Run R0, *R = &R0;
    memset(R, 0, sizeof *R);
    R->p = p;
    R->cx = cx;
    flow_run_info_init(&R->rl, flow_wall_ms());
    R->ri = &R->rl;
    R->st = &st;
    R->f = &none;
    R->page_size = FLOW_PAGE_SIZE_DEFAULT;
    flow_ctx_set_now(cx, R->rl.started_ms);
    flow_run_set_contexts(cx, R->ri, NULL, 0, R->page_size);
    eng_collect_param_secrets(R);
    unsigned uses = 0;
    for (int i = 0; i < p->nflows; i++) uses |= uses_of(p->flows[i].steps, p->flows[i].nsteps, ci, 0);
    const FlowConnector *c = flow_connector(d->kind);
    cJSON *info = cJSON_CreateObject();
    char owner[160];
    snprintf(owner, sizeof owner, "connection %s", d->name);
    double t0 = flow_mono_ms();
    FlowSettings *s = eng_settings_new(R, owner, d->settings, d->nsettings, d->kind, FLOW_AT_CONN);
    const char *nolib = c ? flow_dynlib_need(c->lib) : NULL;
    if (s && !c) eng_run_fail(R, "%s: the %s connector is not available in this runtime", owner, d->kind);
    else if (s && !c->probe) cJSON_AddStringToObject(info, "note", "this kind of connection has nothing to open before a run");
    else if (s && nolib) eng_run_fail_cls(R, FLOW_ERR_CONNECTION, "%s: %s", owner, nolib);
    else if (s) {
        FlowErr e;
        if (c->probe(s, uses, info, &e)) eng_run_fail_cls(R, e.cls, "%s: %s", owner, e.msg);
    }
    double ms = flow_mono_ms() - t0;
    eng_settings_free(s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "connection", d->name);
    cJSON_AddStringToObject(o, "kind", d->kind);
    cJSON_AddBoolToObject(o, "ok", !R->failed);
    if (R->failed) {
        cJSON_AddStringToObject(o, "class", st.fail_class ? st.fail_class : "value");
        cJSON_AddStringToObject(o, "message", st.fail_msg);   /* redacted by eng_run_fail */
        /* what the probe learned before it failed (an HTTP status) */
        cJSON *status = cJSON_DetachItemFromObjectCaseSensitive(info, "status");
        if (status) cJSON_AddItemToObject(o, "status", status);
        cJSON_Delete(info);
    } else {
        cJSON_AddNumberToObject(o, "latency_ms", (double)(long long)(ms + 0.5));
        for (cJSON *x = info->child; x; x = info->child) cJSON_AddItemToObject(o, x->string, cJSON_DetachItemViaPointer(info, x));
        cJSON_Delete(info);
        eng_redact_tree(R, o->child);
    }
    for (int i = 0; i < R->nsecrets; i++) free(R->secrets[i]);
    free(R->secrets);
    flow_scratch_reset(cx);
    flow_clear_error(cx);
    *result = o;
    return R->failed ? 1 : 0;
}
