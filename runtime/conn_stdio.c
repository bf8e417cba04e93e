/* conn_stdio.c — the stdio connector: exports read NDJSON records from standard input, imports
 * write NDJSON records to standard output (flushed page by page), typed maps' text as it is. */
#include "engine.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int stdio_state;        /* a connection has no state: a non-NULL token */

static void *sc_open(const FlowSettings *s, unsigned uses, FlowErr *err) { return &stdio_state; }
static void sc_close(void *h) {}

static void *se_open(void *conn, const FlowSettings *s, FlowErr *err) { return flow_ndjson_open(STDIN_FILENO, "stdin", 0); }
static int se_next(void *h, FlowExportItem *it, FlowErr *err) { return flow_ndjson_next(h, it, err); }
static void se_close(void *h) { flow_ndjson_close(h); }

static void *si_open(void *conn, const FlowSettings *s, FlowErr *err) { return &stdio_state; }
static void si_close(void *h) {}

static int si_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    for (int i = 0; i < n; i++)
        if (items[i].out ? flow_ndjson_write(stdout, items[i].out)
                         : fwrite(items[i].text, 1, items[i].textn, stdout) != items[i].textn || putc('\n', stdout) == EOF) {
            flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write to standard output: %s", strerror(errno ? errno : EIO));
            return -1;
        }
    if (fflush(stdout) != 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write to standard output: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* a connection test (probe.c): nothing to open; what can be said */
static int sc_probe(const FlowSettings *s, unsigned uses, cJSON *info, FlowErr *err) {
    cJSON_AddStringToObject(info, "note", "stdio reads the run's standard input and writes its standard output: there is nothing to open "
                                          "before a run");
    return 0;
}

const FlowConnector flow_conn_stdio = {
    .kind = "stdio",
    .import_text = 1,
    .open = sc_open, .close = sc_close, .probe = sc_probe,
    .export_open = se_open, .export_next = se_next, .export_close = se_close,
    .import_open = si_open, .import_page = si_page, .import_close = si_close,
};
