/* revisions.c — every accepted change of an integration is a revision (its whole source, who made it
 * and why), committed with its audit entry in one transaction; the revision routes: the list, one
 * revision reviewed as a semantic diff, snapshots, the diff of two revisions or of two integrations,
 * revert, and pull (a three-way merge by resource from a clone or its origin; 409 on a conflict). */
#define _GNU_SOURCE
#include "server.h"
#include "triggers.h"
#include "runs.h"      /* runs_state_forget */
#include "files.h"
#include "db.h"
#include "diff.h"
#include "merge.h"
#include "resource.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int commit(Srv *s, const SrvReq *rq, SrvChange *ch, long *rev, char *why, size_t cap) {
    SrvStore *st = srv_store(s);
    int status = 500;
    store_lock(st);
    FlowDb *db = store_db(st);
    if (store_begin(st)) {
        snprintf(why, cap, "the store is busy: %s", flow_db_error(db));
        store_unlock(st);
        cJSON_Delete(ch->detail);
        return 500;
    }
    FlowDbStmt *q = NULL;
    long head = 0, next = 1;
    int exists = 0;
    if ((q = flow_db_prepare(db, "SELECT head FROM integrations WHERE id = ?")) != NULL) {
        flow_db_bind_text(q, 1, ch->integration);
        if (flow_db_step(q) == FLOW_DB_ROW) { exists = 1; head = (long)flow_db_column_int64(q, 0); }
    }
    flow_db_finalize(q);
    q = NULL;
    int create = strcmp(ch->kind, "create") == 0 || strcmp(ch->kind, "clone") == 0;
    if (create && exists) {
        snprintf(why, cap, "integration `%s` exists: change it with PUT /v1/integrations/%s", ch->integration, ch->integration);
        status = 409;
        goto fail;
    }
    if (!create && !exists) {
        snprintf(why, cap, "no integration `%s`", ch->integration);
        status = 404;
        goto fail;
    }
    if (!create && ch->expect_head && head != ch->expect_head) {
        snprintf(why, cap, "integration `%s` changed while this request was made (revision %ld, now %ld): try again", ch->integration,
                 ch->expect_head, head);
        status = 409;
        goto fail;
    }
    /* numbers go on after a delete: a revision number is never reused */
    if ((q = flow_db_prepare(db, "SELECT MAX(rev) FROM revisions WHERE integration = ?")) != NULL) {
        flow_db_bind_text(q, 1, ch->integration);
        if (flow_db_step(q) == FLOW_DB_ROW && !flow_db_column_null(q, 0)) next = (long)flow_db_column_int64(q, 0) + 1;
    }
    flow_db_finalize(q);
    q = NULL;
    int64_t now = flow_wall_ms();
    int del = strcmp(ch->kind, "delete") == 0;
    if ((q = flow_db_prepare(db, "INSERT INTO revisions(integration, rev, kind, message, text, token, created) VALUES(?,?,?,?,?,?,?)")) != NULL) {
        flow_db_bind_text(q, 1, ch->integration);
        flow_db_bind_int64(q, 2, next);
        flow_db_bind_text(q, 3, ch->kind);
        if (ch->message) flow_db_bind_text(q, 4, ch->message);
        else flow_db_bind_null(q, 4);
        flow_db_bind_textn(q, 5, ch->text ? ch->text : "", ch->text ? ch->len : 0);
        flow_db_bind_text(q, 6, rq && rq->caller ? rq->caller->id : "");
        flow_db_bind_int64(q, 7, now);
    }
    if (flow_db_run(q)) goto store_fail;
    q = NULL;
    /* its files: those given, else those of the revision it comes from (the head before; a revert's
     * old revision; a clone's origin) */
    if (!del && srv_files_commit(db, ch->integration, next, ch->files, ch->files_from ? ch->files_from : ch->integration,
                                 ch->files_from ? ch->files_from_rev : head))
        goto store_fail;
    if (create) {
        if ((q = flow_db_prepare(db, "INSERT INTO integrations(id, head, origin, origin_rev, created) VALUES(?,?,?,?,?)")) != NULL) {
            flow_db_bind_text(q, 1, ch->integration);
            flow_db_bind_int64(q, 2, next);
            if (ch->origin) { flow_db_bind_text(q, 3, ch->origin); flow_db_bind_int64(q, 4, ch->origin_rev); }
            else { flow_db_bind_null(q, 3); flow_db_bind_null(q, 4); }
            flow_db_bind_int64(q, 5, now);
        }
    } else if (del) {
        if ((q = flow_db_prepare(db, "DELETE FROM integrations WHERE id = ?")) != NULL)
            flow_db_bind_text(q, 1, ch->integration);
    } else if ((q = flow_db_prepare(db, "UPDATE integrations SET head = ? WHERE id = ?")) != NULL) {
        flow_db_bind_int64(q, 1, next);
        flow_db_bind_text(q, 2, ch->integration);
    }
    if (flow_db_run(q)) goto store_fail;
    if (!ch->detail) ch->detail = cJSON_CreateObject();
    cJSON_AddItemToObject(ch->detail, "revision", flow_json_int(next));
    if (ch->message) cJSON_AddStringToObject(ch->detail, "message", ch->message);
    int a = audit_append(st, 1, rq ? rq->caller : NULL, rq ? rq->addr : "", ch->action, ch->rkind, ch->resource, ch->detail);
    ch->detail = NULL;
    if (a || store_commit(st)) goto store_fail;
    store_unlock(st);
    *rev = next;
    return 0;
store_fail:
    snprintf(why, cap, "the store: %s", flow_db_error(db));
    status = 500;
fail:
    store_rollback(st);
    store_unlock(st);
    cJSON_Delete(ch->detail);
    ch->detail = NULL;
    return status;
}

int rev_commit(Srv *s, const SrvReq *rq, SrvChange *ch, long *rev, SrvResp *out) {
    char why[600];
    int st = commit(s, rq, ch, rev, why, sizeof why);
    if (!st) {
        char fwhy[600];
        if (srv_files_sync(s, ch->integration, fwhy, sizeof fwhy)) fprintf(stderr, "flowc server: integration %s: %s\n", ch->integration, fwhy);
        triggers_changed(s, ch->integration);
        runs_state_forget(s, ch->integration);   /* (deleted, or made again: not read through a store kept from before) */
        return 0;
    }
    srv_error(out, st, st == 404 ? "not_found" : st == 409 ? "conflict" : "store", NULL, "%s", why);
    return -1;
}

/* ---- reading revisions ---- */

typedef struct RevRow { long rev; char kind[16]; char *message; char *text; size_t len; char token[40]; int64_t created; } RevRow;

static void row_free(RevRow *r) { free(r->message); free(r->text); memset(r, 0, sizeof *r); }

/* revision rev of integration id (0: its head); 0, or -1 when there is none */
static int rev_read(Srv *s, const char *id, long rev, RevRow *out) {
    SrvStore *st = srv_store(s);
    memset(out, 0, sizeof *out);
    int found = -1;
    store_lock(st);
    FlowDbStmt *q = NULL;
    const char *sql = rev > 0 ? "SELECT rev, kind, message, text, token, created FROM revisions WHERE integration = ? AND rev = ?"
                              : "SELECT r.rev, r.kind, r.message, r.text, r.token, r.created FROM revisions r JOIN integrations i ON i.id = r.integration"
                                " AND i.head = r.rev WHERE r.integration = ?";
    if ((q = flow_db_prepare(store_db(st), sql)) != NULL) {
        flow_db_bind_text(q, 1, id);
        if (rev > 0) flow_db_bind_int64(q, 2, rev);
        if (flow_db_step(q) == FLOW_DB_ROW) {
            found = 0;
            out->rev = (long)flow_db_column_int64(q, 0);
            snprintf(out->kind, sizeof out->kind, "%s", flow_db_column_text(q, 1));
            if (!flow_db_column_null(q, 2)) out->message = flow_xstrdup(flow_db_column_text(q, 2));
            out->len = (size_t)flow_db_column_bytes(q, 3);
            out->text = flow_xcalloc(1, out->len + 1);
            memcpy(out->text, flow_db_column_text(q, 3), out->len);
            snprintf(out->token, sizeof out->token, "%s", flow_db_column_text(q, 4) ? flow_db_column_text(q, 4) : "");
            out->created = flow_db_column_int64(q, 5);
        }
    }
    flow_db_finalize(q);
    store_unlock(st);
    return found;
}

/* the revision before rev (0 when none) */
static long rev_before(Srv *s, const char *id, long rev) {
    SrvStore *st = srv_store(s);
    long r = 0;
    store_lock(st);
    FlowDbStmt *q = NULL;
    if ((q = flow_db_prepare(store_db(st), "SELECT MAX(rev) FROM revisions WHERE integration = ? AND rev < ?")) != NULL) {
        flow_db_bind_text(q, 1, id);
        flow_db_bind_int64(q, 2, rev);
        if (flow_db_step(q) == FLOW_DB_ROW && !flow_db_column_null(q, 0)) r = (long)flow_db_column_int64(q, 0);
    }
    flow_db_finalize(q);
    store_unlock(st);
    return r;
}

/* a stored text as a checked document (a deleted integration's empty text: no model) */
static const ResModel *load(Srv *s, const char *integ, SrvDoc *d, const char *base, const RevRow *r) {
    memset(d, 0, sizeof *d);
    if (!r || !r->text || !r->len) return NULL;
    char name[4400];
    srv_files_name(s, integ, base, name, sizeof name);   /* beside the integration's files (its head's) */
    if (srv_doc_load(d, name, r->text, r->len)) return NULL;
    return d->m;
}

/* the changes from revision a to b (either may be NULL) */
static cJSON *changes(Srv *s, const char *integ, const RevRow *a, const RevRow *b) {
    SrvDoc da, db;
    const ResModel *ma = load(s, integ, &da, "from.flow", a), *mb = load(s, integ, &db, "to.flow", b);
    cJSON *c = srv_diff_json(ma, mb);
    srv_doc_free(&da);
    srv_doc_free(&db);
    return c;
}

static cJSON *row_json(const RevRow *r, const char *id) {
    cJSON *o = cJSON_CreateObject();
    char pid[24], iso[32];
    snprintf(pid, sizeof pid, "%012ld", r->rev);   /* padded: ids sort as revisions do */
    cJSON_AddStringToObject(o, "id", pid);
    cJSON_AddStringToObject(o, "integration", id);
    cJSON_AddNumberToObject(o, "revision", (double)r->rev);
    cJSON_AddStringToObject(o, "kind", r->kind);
    if (r->message) cJSON_AddStringToObject(o, "message", r->message);
    else cJSON_AddNullToObject(o, "message");
    if (r->token[0]) cJSON_AddStringToObject(o, "token", r->token);
    else cJSON_AddNullToObject(o, "token");
    store_iso(r->created, iso);
    cJSON_AddStringToObject(o, "created", iso);
    return o;
}

/* ---- routes ---- */

void rev_list(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    SrvStore *st = srv_store(s);
    cJSON *a = cJSON_CreateArray();
    store_lock(st);
    FlowDbStmt *q = NULL;
    if ((q = flow_db_prepare(store_db(st), "SELECT rev, kind, message, token, created FROM revisions WHERE integration = ? ORDER BY rev")) != NULL) {
        flow_db_bind_text(q, 1, id);
        while (flow_db_step(q) == FLOW_DB_ROW) {
            RevRow r;
            memset(&r, 0, sizeof r);
            r.rev = (long)flow_db_column_int64(q, 0);
            snprintf(r.kind, sizeof r.kind, "%s", flow_db_column_text(q, 1));
            r.message = !flow_db_column_null(q, 2) ? (char *)flow_db_column_text(q, 2) : NULL;
            snprintf(r.token, sizeof r.token, "%s", flow_db_column_text(q, 3) ? flow_db_column_text(q, 3) : "");
            r.created = flow_db_column_int64(q, 4);
            cJSON_AddItemToArray(a, row_json(&r, id));
        }
    }
    flow_db_finalize(q);
    store_unlock(st);
    if (!cJSON_GetArraySize(a)) {
        cJSON_Delete(a);
        srv_error(out, 404, "not_found", "id", "no integration `%s`", id);
        return;
    }
    srv_page(rq, out, a);
}

/* a revision number from text: > 0, or 0 */
static long rev_number(const char *t) {
    char *end;
    long n = t && *t ? strtol(t, &end, 10) : 0;
    return n > 0 && !*end ? n : 0;
}

void rev_get(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    long n = rev_number(rq->params[1]);
    RevRow r, p;
    if (!n || rev_read(s, id, n, &r)) {
        srv_error(out, 404, "not_found", "rev", "integration `%s` has no revision `%s`", id, rq->params[1]);
        return;
    }
    long pn = rev_before(s, id, n);
    int hp = pn && rev_read(s, id, pn, &p) == 0;
    cJSON *o = row_json(&r, id);
    if (hp) cJSON_AddNumberToObject(o, "previous", (double)pn);
    else cJSON_AddNullToObject(o, "previous");
    cJSON_AddItemToObject(o, "changes", changes(s, id, hp ? &p : NULL, &r));
    row_free(&r);
    if (hp) row_free(&p);
    srv_json(out, 200, o);
}

void rev_snapshot(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    RevRow h;
    if (rev_read(s, id, 0, &h)) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    cJSON *b;
    if (srv_body_json(rq, out, 0, &b)) { row_free(&h); return; }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(b, "message");
    if (!cJSON_IsString(m) || !m->valuestring[0] || strlen(m->valuestring) > 1000) {
        srv_error(out, 400, "invalid_field", "message", "message is required: a string of 1 to 1000 bytes");
        cJSON_Delete(b);
        row_free(&h);
        return;
    }
    SrvChange ch = { id, "snapshot", m->valuestring, h.text, h.len, NULL, 0, h.rev, "snapshot", SRV_K_INTEGRATION, id, NULL, NULL, NULL, 0 };
    long nrev;
    if (!rev_commit(s, rq, &ch, &nrev, out)) {
        RevRow r;
        if (rev_read(s, id, nrev, &r) == 0) { srv_json(out, 201, row_json(&r, id)); row_free(&r); }
        else srv_error(out, 500, "store", NULL, "the snapshot was not found after it was stored");
    }
    cJSON_Delete(b);
    row_free(&h);
}

void rev_diff(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    char from[64], to[64], other[256];
    int qf = srv_query(rq, "from", from, sizeof from), qt = srv_query(rq, "to", to, sizeof to), qo = srv_query(rq, "other", other, sizeof other);
    RevRow a, b;
    if (rev_read(s, id, 0, &b)) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    cJSON *o = cJSON_CreateObject();
    if (qo > 0) {
        if (qf || qt) {
            row_free(&b);
            cJSON_Delete(o);
            srv_error(out, 400, "invalid_parameter", "other", "other compares the heads: it takes no from or to");
            return;
        }
        if (rev_read(s, other, 0, &a)) {
            row_free(&b);
            cJSON_Delete(o);
            srv_error(out, 404, "not_found", "other", "no integration `%s`", other);
            return;
        }
        /* from the other integration to this one */
        cJSON_AddStringToObject(o, "from", other);
        cJSON_AddNumberToObject(o, "from_revision", (double)a.rev);
        cJSON_AddStringToObject(o, "to", id);
        cJSON_AddNumberToObject(o, "to_revision", (double)b.rev);
    } else {
        long head = b.rev, tn = qt > 0 ? rev_number(to) : head;
        if (qo < 0 || qf < 0 || qt < 0 || !tn || (qf > 0 && !rev_number(from))) {
            row_free(&b);
            cJSON_Delete(o);
            srv_error(out, 400, "invalid_parameter", qf && !rev_number(from) ? "from" : "to", "from and to take revision numbers");
            return;
        }
        row_free(&b);
        long fn = qf > 0 ? rev_number(from) : rev_before(s, id, tn);
        if (rev_read(s, id, tn, &b)) {
            cJSON_Delete(o);
            srv_error(out, 404, "not_found", "to", "integration `%s` has no revision %ld", id, tn);
            return;
        }
        if (fn && rev_read(s, id, fn, &a)) {
            row_free(&b);
            cJSON_Delete(o);
            srv_error(out, 404, "not_found", "from", "integration `%s` has no revision %ld", id, fn);
            return;
        }
        if (!fn) memset(&a, 0, sizeof a);
        cJSON_AddStringToObject(o, "from", id);
        if (fn) cJSON_AddNumberToObject(o, "from_revision", (double)fn);
        else cJSON_AddNullToObject(o, "from_revision");
        cJSON_AddStringToObject(o, "to", id);
        cJSON_AddNumberToObject(o, "to_revision", (double)tn);
    }
    cJSON_AddItemToObject(o, "changes", changes(s, id, a.text ? &a : NULL, &b));
    row_free(&a);
    row_free(&b);
    srv_json(out, 200, o);
}

/* answers with the integration's view (GET /v1/integrations/{id}) */
static void answer_view(Srv *s, const SrvReq *rq, SrvResp *out) {
    SrvReq r2 = *rq;
    api_integration_get(s, &r2, out);
}

void rev_revert(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    RevRow h, old;
    if (rev_read(s, id, 0, &h)) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    cJSON *b;
    if (srv_body_json(rq, out, 0, &b)) { row_free(&h); return; }
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(b, "revision");
    int64_t n = 0;
    if (!cJSON_IsNumber(rv) || !flow_json_get_int(rv, &n) || n <= 0) {
        srv_error(out, 400, "invalid_field", "revision", "revision is required: a revision number");
    } else if (rev_read(s, id, (long)n, &old)) {
        srv_error(out, 404, "not_found", "revision", "integration `%s` has no revision %lld", id, (long long)n);
    } else if (!old.len) {
        srv_error(out, 422, "invalid_field", "revision", "revision %lld is a deletion: there is nothing to revert to", (long long)n);
        row_free(&old);
    } else {
        cJSON *det = cJSON_CreateObject();
        cJSON_AddItemToObject(det, "to_revision", flow_json_int(n));
        cJSON_AddItemToObject(det, "changes", changes(s, id, &h, &old));
        SrvChange ch = { id, "revert", NULL, old.text, old.len, NULL, 0, h.rev, "revert", SRV_K_INTEGRATION, id, det, NULL, id, (long)n };   /* its files too */
        long nrev;
        if (!rev_commit(s, rq, &ch, &nrev, out)) answer_view(s, rq, out);
        row_free(&old);
    }
    cJSON_Delete(b);
    row_free(&h);
}

/* the origin and the origin's revision of integration id: 0, or -1 (none) */
static int origin_of(Srv *s, const char *id, char *origin, size_t cap, long *orev) {
    SrvStore *st = srv_store(s);
    int found = -1;
    store_lock(st);
    FlowDbStmt *q = NULL;
    if ((q = flow_db_prepare(store_db(st), "SELECT origin, origin_rev FROM integrations WHERE id = ? AND origin IS NOT NULL")) != NULL) {
        flow_db_bind_text(q, 1, id);
        if (flow_db_step(q) == FLOW_DB_ROW) {
            found = 0;
            snprintf(origin, cap, "%s", flow_db_column_text(q, 0));
            *orev = (long)flow_db_column_int64(q, 1);
        }
    }
    flow_db_finalize(q);
    store_unlock(st);
    return found;
}

/* the clone's first revision (its text as cloned) */
static long first_rev(Srv *s, const char *id) {
    SrvStore *st = srv_store(s);
    long r = 0;
    store_lock(st);
    FlowDbStmt *q = NULL;
    if ((q = flow_db_prepare(store_db(st), "SELECT MIN(rev) FROM revisions WHERE integration = ? AND kind = 'clone'")) != NULL) {
        flow_db_bind_text(q, 1, id);
        if (flow_db_step(q) == FLOW_DB_ROW && !flow_db_column_null(q, 0)) r = (long)flow_db_column_int64(q, 0);
    }
    flow_db_finalize(q);
    store_unlock(st);
    return r;
}

void rev_pull(Srv *s, const SrvReq *rq, SrvResp *out) {
    const char *id = rq->params[0];
    RevRow ours, theirs, base;
    memset(&base, 0, sizeof base);
    if (rev_read(s, id, 0, &ours)) { srv_error(out, 404, "not_found", "id", "no integration `%s`", id); return; }
    cJSON *b;
    if (srv_body_json(rq, out, 0, &b)) { row_free(&ours); return; }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(b, "from");
    char from[256] = "", o1[256] = "", o2[256] = "";   /* their origin, our origin */
    long r1 = 0, r2 = 0, bn = 0;
    if (cJSON_IsString(f)) snprintf(from, sizeof from, "%s", f->valuestring);
    if (!from[0] || strcmp(from, id) == 0) {
        srv_error(out, 400, "invalid_field", "from", "from is required: the id of this integration's clone or origin");
        goto done0;
    }
    if (rev_read(s, from, 0, &theirs)) {
        srv_error(out, 404, "not_found", "from", "no integration `%s`", from);
        goto done0;
    }
    /* the common revision, as the side pulled from had it: its text when the clone was made */
    if (origin_of(s, from, o1, sizeof o1, &r1) == 0 && strcmp(o1, id) == 0) bn = first_rev(s, from);
    else if (origin_of(s, id, o2, sizeof o2, &r2) == 0 && strcmp(o2, from) == 0) bn = r2;
    if (!bn || rev_read(s, from, bn, &base)) {   /* both ways, the base is the side pulled from, as it was at the clone */
        srv_error(out, 409, "conflict", "from", "`%s` is neither a clone of `%s` nor its origin: pulls work between an integration and its direct clone",
                  from, id);
        goto done1;
    }
    SrvDoc db, dour, dth;
    const ResModel *mb = load(s, from, &db, "base.flow", &base), *mo = load(s, id, &dour, "ours.flow", &ours),
                   *mt = load(s, from, &dth, "theirs.flow", &theirs);
    if (!mb || !mo || !mt) {
        srv_error(out, 500, "store", NULL, "a stored revision no longer checks");
    } else {
        MergeResult mr;
        merge_models(mb, mo, mt, id, from, &mr);
        if (mr.nconflicts) {
            cJSON *o = cJSON_CreateObject(), *errs = cJSON_AddArrayToObject(o, "errors"), *conf = cJSON_AddArrayToObject(o, "conflicts");
            for (int i = 0; i < mr.nconflicts; i++) {
                cJSON *e = cJSON_CreateObject();
                char msg[1200];
                snprintf(msg, sizeof msg, "%s: %s", mr.conflicts[i].address, mr.conflicts[i].why);
                cJSON_AddStringToObject(e, "code", "conflict");
                cJSON_AddStringToObject(e, "message", msg);
                cJSON_AddNullToObject(e, "field");
                cJSON_AddItemToArray(errs, e);
                cJSON *c = cJSON_CreateObject();
                cJSON_AddStringToObject(c, "address", mr.conflicts[i].address);
                cJSON_AddStringToObject(c, "why", mr.conflicts[i].why);
                cJSON_AddItemToArray(conf, c);
            }
            srv_json(out, 409, o);
        } else {
            SrvDoc dm;
            char mname[4400];
            srv_files_name(s, id, "merged.flow", mname, sizeof mname);   /* a pull keeps our files */
            if (srv_doc_load(&dm, mname, mr.text, mr.len)) {
                srv_doc_422(&dm, out);
                out->status = 409;
            } else if (mr.len == ours.len && memcmp(mr.text, ours.text, ours.len) == 0) {
                answer_view(s, rq, out);   /* nothing to pull */
            } else {
                cJSON *det = cJSON_CreateObject();
                cJSON_AddStringToObject(det, "from", from);
                cJSON_AddItemToObject(det, "from_revision", flow_json_int(theirs.rev));
                cJSON_AddItemToObject(det, "base_revision", flow_json_int(bn));
                cJSON_AddItemToObject(det, "changes", srv_diff_json(mo, dm.m));
                SrvChange ch = { id, "pull", NULL, mr.text, mr.len, NULL, 0, ours.rev, "pull", SRV_K_INTEGRATION, id, det, NULL, NULL, 0 };
                long nrev;
                if (!rev_commit(s, rq, &ch, &nrev, out)) answer_view(s, rq, out);
            }
            srv_doc_free(&dm);
        }
        merge_free(&mr);
    }
    srv_doc_free(&db);
    srv_doc_free(&dour);
    srv_doc_free(&dth);
done1:
    row_free(&theirs);
    row_free(&base);
done0:
    cJSON_Delete(b);
    row_free(&ours);
}
