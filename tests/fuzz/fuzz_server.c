#define _DEFAULT_SOURCE
/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): `flowc server`'s request path, which reads
 * requests from anywhere. The first byte picks what the rest is:
 *   0..63    a path for the router (srv_route_find: routes.def's patterns, {captures} percent-decoded)
 *            and a query string for srv_query (every parameter the routes read)
 *   64..255  raw bytes sent as an HTTP request to a real server on 127.0.0.1 over a workspace made
 *            in a temporary directory, started once: the listener, the body cap, the token check (a
 *            full token `flw_fuzz` and a scoped one `flw_scoped` are in its store, so the handlers
 *            behind them are reached: integrations from text, views, PATCH, revisions, audit), every
 *            answer. The server must answer or close, never crash, leak or hang. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "package.h"
#include "server.h"
#include "db.h"
#include "exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Srv *srv;
static int port;

static void add_token(SrvStore *st, const char *id, const char *secret, const char *scope) {
    char hash[65];
    pkg_sha256_hex(secret, strlen(secret), hash);
    store_lock(st);
    FlowDbStmt *q = flow_db_prepare(store_db(st), "INSERT INTO tokens(id, name, hash, scope, created) VALUES(?, 'fuzz', ?, ?, 0)");
    if (!q) abort();
    flow_db_bind_text(q, 1, id);
    flow_db_bind_text(q, 2, hash);
    flow_db_bind_text(q, 3, scope);
    if (flow_db_run(q)) abort();
    store_unlock(st);
}

static void start(void) {
    if (srv) return;
    char dir[] = "/tmp/fuzz_server.XXXXXX", why[600];
    if (!mkdtemp(dir)) abort();
    SrvStore *st = store_open(dir, NULL, 1, why, sizeof why);
    if (!st) { fprintf(stderr, "fuzz_server: %s\n", why); abort(); }
    add_token(st, "tok_fuzz", "flw_fuzz", NULL);
    add_token(st, "tok_scoped", "flw_scoped", "{\"integrations\":[\"shop\"]}");
    store_close(st);
    char key[700];   /* the secrets' key, as `server init` makes it (the jobs module needs it) */
    snprintf(key, sizeof key, "%s/secret.key", dir);
    int kf = open(key, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (kf < 0 || write(kf, "0123456789abcdef0123456789abcdef", 32) != 32) abort();
    close(kf);
    SrvConfig cfg = { dir, "127.0.0.1:0", NULL, 0 };
    srv = srv_start(&cfg, why, sizeof why);
    if (!srv) { fprintf(stderr, "fuzz_server: %s\n", why); abort(); }
    port = atoi(strrchr(srv_address(srv), ':') + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    if (mode < 64) {
        char *t = malloc(size + 1);
        memcpy(t, data, size);
        t[size] = 0;
        const char *params[SRV_MAX_PARAMS];
        char bufs[SRV_MAX_PARAMS * 256], allowed[128], val[256];
        int np = 0;
        static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" };
        (void)srv_route_find(methods[mode % 6], t, params, bufs, sizeof bufs, &np, allowed, sizeof allowed);
        SrvReq rq;
        memset(&rq, 0, sizeof rq);
        rq.query = t;
        static const char *const names[] = { "limit", "after", "from", "to", "resource", "other", "flow", "status", "since" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) (void)srv_query(&rq, names[i], val, sizeof val);
        free(t);
        return 0;
    }
    start();
    fuzz_exchange(port, data, size);
    /* the server is done with the connection before the input is over (at most 2 s), so that a leak
     * check between two inputs finds no handler half-way */
    for (int i = 0; i < 400 && srv_connections(srv); i++) usleep(5000);
    return 0;
}
