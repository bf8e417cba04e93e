/* revisions.c — every accepted change of an integration is a revision: snapshots, diffs, revert and pull. */
#include "server.h"

void rev_diff(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_get(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_list(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_pull(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_revert(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void rev_snapshot(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
