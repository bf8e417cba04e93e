/* revisions.c — every accepted change of an integration is a revision (its whole source, who made it
 * and why), committed with its audit entry in one transaction; the revision routes: the list, one
 * revision reviewed as a semantic diff, snapshots, the diff of two revisions or of two integrations,
 * revert, and pull (a three-way merge by resource from a clone or its origin; 409 on a conflict). */
#define _GNU_SOURCE
#include "server.h"
#include "diff.h"
#include "merge.h"
#include "resource.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int step_done(sqlite3_stmt *q) {
    int rc = q ? sqlite3_step(q) : SQLITE_ERROR;
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

int rev_commit(Srv *s, const SrvReq *rq, SrvChange *ch, long *rev, char *why, size_t cap) {
    SrvStore *st = srv_store(s);
    sqlite3 *db = store_db(st);
    int status = 500;
    store_lock(st);
    if (store_begin(st)) {
        snprintf(why, cap, "the store is busy: %s", sqlite3_errmsg(db));
        store_unlock(st);
        cJSON_Delete(ch->detail);
        return 500;
    }
    sqlite3_stmt *q = NULL;
    long head = 0, next = 1;
    int exists = 0;
    if (sqlite3_prepare_v2(db, "SELECT head FROM integrations WHERE id = ?", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, ch->integration, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) { exists = 1; head = (long)sqlite3_column_int64(q, 0); }
    }
    sqlite3_finalize(q);
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
    if (sqlite3_prepare_v2(db, "SELECT MAX(rev) FROM revisions WHERE integration = ?", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, ch->integration, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) next = (long)sqlite3_column_int64(q, 0) + 1;
    }
    sqlite3_finalize(q);
    q = NULL;
    int64_t now = store_now_ms();
    int del = strcmp(ch->kind, "delete") == 0;
    if (sqlite3_prepare_v2(db, "INSERT INTO revisions(integration, rev, kind, message, text, token, created) VALUES(?,?,?,?,?,?,?)", -1, &q,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, ch->integration, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, next);
        sqlite3_bind_text(q, 3, ch->kind, -1, SQLITE_STATIC);
        if (ch->message) sqlite3_bind_text(q, 4, ch->message, -1, SQLITE_STATIC);
        else sqlite3_bind_null(q, 4);
        sqlite3_bind_text(q, 5, ch->text ? ch->text : "", ch->text ? (int)ch->len : 0, SQLITE_STATIC);
        sqlite3_bind_text(q, 6, rq && rq->caller ? rq->caller->id : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 7, now);
    }
    if (step_done(q)) goto store_fail;
    q = NULL;
    if (create) {
        if (sqlite3_prepare_v2(db, "INSERT INTO integrations(id, head, origin, origin_rev, created) VALUES(?,?,?,?,?)", -1, &q, NULL) == SQLITE_OK) {
            sqlite3_bind_text(q, 1, ch->integration, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, next);
            if (ch->origin) { sqlite3_bind_text(q, 3, ch->origin, -1, SQLITE_STATIC); sqlite3_bind_int64(q, 4, ch->origin_rev); }
            else { sqlite3_bind_null(q, 3); sqlite3_bind_null(q, 4); }
            sqlite3_bind_int64(q, 5, now);
        }
    } else if (del) {
        if (sqlite3_prepare_v2(db, "DELETE FROM integrations WHERE id = ?", -1, &q, NULL) == SQLITE_OK)
            sqlite3_bind_text(q, 1, ch->integration, -1, SQLITE_STATIC);
    } else if (sqlite3_prepare_v2(db, "UPDATE integrations SET head = ? WHERE id = ?", -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, next);
        sqlite3_bind_text(q, 2, ch->integration, -1, SQLITE_STATIC);
    }
    if (step_done(q)) goto store_fail;
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
    snprintf(why, cap, "the store: %s", sqlite3_errmsg(db));
    status = 500;
fail:
    store_rollback(st);
    store_unlock(st);
    cJSON_Delete(ch->detail);
    ch->detail = NULL;
    return status;
}

void rev_diff(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_get(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_list(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_pull(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_revert(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_snapshot(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
