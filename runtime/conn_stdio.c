/* conn_stdio.c — the stdio connector: exports read NDJSON records from standard input, imports
 * write NDJSON records to standard output (several pages in one write, by a writer thread:
 * writer.c), typed maps' text as it is. */
#include "engine.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int stdio_state;        /* a connection has no state: a non-NULL token */

static void *sc_open(const FlowSettings *s, unsigned uses, FlowErr *err) { return &stdio_state; }
static void sc_close(void *h) {}

static void *se_open(void *conn, const FlowSettings *s, FlowErr *err) { return flow_ndjson_open(STDIN_FILENO, "stdin", 0); }
static int se_next(void *h, FlowExportItem *it, FlowErr *err) { return flow_ndjson_next(h, it, err); }
static void se_close(void *h) { flow_ndjson_close(h); }

/* an import: its pages go to standard output through a writer (writer.c), several small pages in
 * one write(2), written while the engine works on the next pages (import_send, import_ready,
 * import_finish) */
static void *si_open(void *conn, const FlowSettings *s, FlowErr *err) { return flow_writer_new(STDOUT_FILENO); }
static void si_close(void *h) { flow_writer_free(h); }

static int si_send(void *h, FlowImportItem *items, int n, FlowErr *err) {
    FlowWriter *w = h;
    /* what stdout's buffer holds goes first */
    if (fflush(stdout) != 0) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write to standard output: %s", strerror(errno));
        return -1;
    }
    int bad = 0;
    for (int i = 0; i < n && !bad; i++) {
        if (!items[i].out) {
            bad = flow_writer_put(w, items[i].text, items[i].textn) || flow_writer_put(w, "\n", 1);
            continue;
        }
        char small[8192];   /* most records print into it; big ones into a heap buffer (the same printer) */
        size_t tn;
        char *t = flow_json_print_into(items[i].out, small, sizeof small, &tn);
        bad = !t || flow_writer_put(w, t, tn) || flow_writer_put(w, "\n", 1);
        if (t && t != small) cJSON_free(t);
    }
    if (bad) {   /* the run fails: nothing of the page is sent */
        flow_writer_page_drop(w);
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write to standard output: %s", strerror(ENOMEM));
        return -1;
    }
    flow_writer_page_end(w);
    return 0;
}

static int si_ready(void *h) { return flow_writer_ready(h); }

static int si_finish(void *h, FlowImportItem *items, int n, FlowErr *err) {
    (void)items;
    (void)n;
    int e = flow_writer_finish(h);
    if (e) {
        flow_err_set(err, FLOW_ERR_CONNECTION, "cannot write to standard output: %s", strerror(e));
        return -1;
    }
    return 0;
}

static int si_page(void *h, FlowImportItem *items, int n, FlowErr *err) {
    return si_send(h, items, n, err) < 0 ? -1 : si_finish(h, items, n, err);
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
    .import_open = si_open, .import_page = si_page, .import_send = si_send, .import_finish = si_finish,
    .import_ready = si_ready,
    .import_close = si_close,
};
