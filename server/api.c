/* api.c — the integrations, flows, exports and imports routes: .flow text in, JSON views of the typed IR out. */
#include "server.h"

void api_export_delete(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_export_get(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_export_patch(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_export_put(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_exports_list(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_flow_clone(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_flow_delete(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_flow_get(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_flow_patch(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_flow_put(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_flows_list(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_import_delete(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_import_get(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_import_patch(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_import_put(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_imports_list(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_integration_clone(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_integration_delete(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_integration_get(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_integration_put(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_integrations_create(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
void api_integrations_list(Srv *s, const SrvReq *rq, SrvResp *out) { (void)s; srv_error(out, 501, "not_implemented", NULL, "%s %s is not implemented yet", rq->method, srv_routes[rq->route].pattern); }
