/* conn_postgres.c — the postgres connector (libpq): not written yet; a flow that uses it fails
 * with a clear message. */
#include "engine.h"

static void *pg_open(const FlowSettings *s, unsigned uses, FlowErr *err) {
    (void)s; (void)uses;
    flow_err_set(err, FLOW_ERR_CONNECTION, "the postgres connector is not available in this runtime yet");
    return NULL;
}

const FlowConnector flow_conn_postgres = { .kind = "postgres", .any_setting = 1, .open = pg_open };
