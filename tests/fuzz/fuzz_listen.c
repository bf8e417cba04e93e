/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): serve's listener (runtime/listen.c), which
 * reads requests from anywhere. The first byte picks what the rest is:
 *   0..63    the query string of POST /flows/F/run (flow_listen_query), and the times in it
 *   64..255  raw bytes sent as an HTTP request to a real listener on 127.0.0.1 (libmicrohttpd and our
 *            handler: routing, the admin endpoint with and without a token, the body limit, metrics),
 *            started once; the answer is read until the listener closes, or 2 s pass. The listener
 *            must answer or close, never crash, leak or hang. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve.h"
#include "exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a program of two flows with no steps: nothing runs, the endpoints only answer */
static const FlowFlowDef flows[] = {
    { "orders", NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL },
    { "tick", NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, NULL },
};
static const FlowProgram prog = { "fuzz", "1", "fuzz.flow", NULL, 0, NULL, 0, flows, 2, NULL, 0, NULL };

static int admin_run(void *arg, int fi, const char *since, const char *until, char *run_id, size_t idcap, char *msg, size_t cap) {
    (void)arg; (void)since; (void)until;
    if (fi == 1) { snprintf(msg, cap, "flow tick is already running (pid 1)"); return 409; }
    snprintf(run_id, idcap, "20260101T000000Z-00000000");
    return 202;
}
static void queued(void *arg, int fi) { (void)arg; (void)fi; }
static long depth(void *arg, int fi) { (void)arg; (void)fi; return 3; }

static int port[2];
static FlowListener *lis[2];

static void start(void) {
    static FlowMetrics *m;
    static FlowWebhooks *w;
    if (port[0]) return;
    m = flow_metrics_new(&prog, 0);
    FlowErr e;
    w = flow_webhooks_open(&prog, NULL, NULL, &e);
    FlowListenHooks h = { admin_run, queued, depth, NULL };
    for (int k = 0; k < 2; k++) {   /* one without the admin token, one with */
        FlowListener *l = lis[k] = flow_listen_start(&prog, "127.0.0.1:0", k ? "fuzz-token" : NULL, w, m, &h, &e);
        if (!l) { fprintf(stderr, "fuzz_listen: %s\n", e.msg); abort(); }
        const char *a = strrchr(flow_listen_address(l), ':');
        port[k] = atoi(a + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    if (mode < 64) {
        char *q = malloc(size + 1);
        memcpy(q, data, size);
        q[size] = 0;
        char since[128], until[128], why[300];
        if (flow_listen_query(q, since, until, sizeof since, why, sizeof why) == 0) {
            int64_t ms;
            if (since[0]) (void)flow_parse_iso8601(since, strlen(since), &ms);
            if (until[0]) (void)flow_parse_iso8601(until, strlen(until), &ms);
        }
        free(q);
        return 0;
    }
    start();
    fuzz_exchange(port[mode & 1], data, size);
    /* the listener is done with the connection (its thread has ended) before the input is over, so
     * that a leak check between two inputs finds no handler half-way (at most 2 s) */
    for (int i = 0; i < 400 && flow_listen_connections(lis[mode & 1]); i++) usleep(5000);
    return 0;
}
