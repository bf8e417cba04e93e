/* conn_webhook.c — the `from webhook` source (LANGUAGE.md §4): a run of the flow takes the records
 * of its queued webhook requests (the state store's webhook queue, state.c; written by webhook.c)
 * in arrival order, page by page. It claims the queued events when the export opens (events that
 * arrive later wait for the next run), reads their records in slices (no read stays open across the
 * run's writes), and after each page that every destination has committed records in the page's
 * transaction how far each event was taken, so a run that dies resumes after the last such page.
 * The engine marks the claimed events done in the transaction that ends a run that went well
 * (flow_state_run_end). There is no connection to declare: the program's table holds one
 * connection named `webhook` of this kind, with no settings. */
#include "engine.h"
#include <stdlib.h>
#include <string.h>

#define SLICE 256   /* records read from the store at a time */

typedef struct Slot { char *text; size_t n; long seq; } Slot;

typedef struct Wx {
    FlowState *st;
    FlowQueuedEvent *ev; long nev;
    long cur;            /* the event being read */
    long next_seq;       /* ...the next of its records to read from the store */
    Slot *buf; int nbuf, at;   /* records read and not yet handed out */
    long hand_ev, hand_taken;  /* what was handed out: events before hand_ev whole, hand_taken records of hand_ev */
    long prog_ev;        /* events before this one have had their progress recorded */
} Wx;

static int dummy_conn;

static void *w_open(const FlowSettings *s, unsigned uses, FlowErr *err) {
    (void)s;
    if (uses & (FLOW_USE_LOOKUP | FLOW_USE_IMPORT)) {   /* the checker refuses it; a hand-written table may not */
        flow_err_set(err, FLOW_ERR_VALUE, "webhook is a source: it cannot be used for lookups or imports");
        return NULL;
    }
    return &dummy_conn;
}

static void w_close(void *conn) { (void)conn; }

static void buf_clear(Wx *x) {
    for (int i = x->at; i < x->nbuf; i++) free(x->buf[i].text);
    x->nbuf = x->at = 0;
}

static void wx_close(void *h) {
    Wx *x = h;
    if (!x) return;
    buf_clear(x);
    free(x->buf);
    free(x->ev);
    free(x);
}

static void *wx_open(void *conn, const FlowSettings *s, FlowErr *err) {
    (void)conn;
    const FlowRunInfo *ri = flow_settings_run(s);
    if (!ri || !ri->state) {
        const char *owner = flow_settings_owner(s), *step = strncmp(owner, "export ", 7) == 0 ? owner + 7 : owner;
        flow_err_set(err, FLOW_ERR_VALUE, "`from webhook` takes the records of queued webhook requests from the state store; a preview "
                                          "has none: give the export records with --mock %s=FILE", step);
        return NULL;
    }
    Wx *x = flow_xcalloc(1, sizeof *x);
    x->st = ri->state;
    x->buf = flow_xcalloc(SLICE, sizeof *x->buf);
    if (flow_state_queue_claim(x->st, flow_settings_flow(s), ri->run_id, &x->ev, &x->nev, err)) { wx_close(x); return NULL; }
    if (x->nev) { x->next_seq = x->ev[0].taken; x->hand_taken = x->ev[0].taken; }
    return x;
}

static int keep_slot(const char *text, size_t n, long seq, void *ud) {
    Wx *x = ud;
    Slot *sl = &x->buf[x->nbuf++];
    sl->text = malloc(n + 1);
    if (!sl->text) abort();
    memcpy(sl->text, text, n);
    sl->text[n] = 0;
    sl->n = n;
    sl->seq = seq;
    return x->nbuf == SLICE;
}

static int wx_next(void *h, FlowExportItem *it, FlowErr *err) {
    Wx *x = h;
    while (x->at == x->nbuf) {   /* refill from the current event, or go on to the next one */
        x->nbuf = x->at = 0;
        if (x->cur >= x->nev) return FLOW_NEXT_END;
        int got = x->next_seq < x->ev[x->cur].records
                ? flow_state_queue_records(x->st, x->ev[x->cur].id, x->next_seq, SLICE, keep_slot, x, err) : 0;
        if (got < 0) return FLOW_NEXT_FAIL;
        if (got == 0) {
            x->cur++;
            if (x->cur < x->nev) x->next_seq = x->ev[x->cur].taken;
            continue;
        }
        x->next_seq = x->buf[x->nbuf - 1].seq + 1;
    }
    Slot *sl = &x->buf[x->at++];
    /* handed out: every event before cur whole, and this one up to the record */
    x->hand_ev = x->cur;
    x->hand_taken = sl->seq + 1;
    FlowJsonError je;
    cJSON *j = flow_json_parse(sl->text, sl->n, &je);
    int r = FLOW_NEXT_ERROR;
    it->bytes = sl->n;
    if (!j) {   /* the listener stored it after reading it: only a damaged store gets here */
        flow_err_set(&it->err, FLOW_ERR_PARSE, "webhook request %lld, record %ld: malformed JSON in the queue at column %ld: %s",
                     (long long)x->ev[x->cur].id, sl->seq + 1, je.col, je.msg);
        it->rec = flow_json_raw_text(sl->text, sl->n);
    } else if (!cJSON_IsObject(j)) {
        flow_err_set(&it->err, FLOW_ERR_PARSE, "webhook request %lld, record %ld: a record must be a JSON object, got %s",
                     (long long)x->ev[x->cur].id, sl->seq + 1, flow_json_desc(j));
        it->rec = j;
    } else {
        it->rec = j;
        r = FLOW_NEXT_RECORD;
    }
    free(sl->text);
    sl->text = NULL;
    return r;
}

/* a page is written for good: the events it took records from remember how far (the page's transaction) */
static int wx_page_done(void *h, FlowErr *err) {
    Wx *x = h;
    for (long e = x->prog_ev; e < x->nev && e <= x->hand_ev; e++) {
        long taken = e < x->hand_ev ? x->ev[e].records : x->hand_taken;
        if (taken > x->ev[e].taken && flow_state_queue_progress(x->st, x->ev[e].id, taken, err)) return -1;
        x->ev[e].taken = taken;
    }
    x->prog_ev = x->hand_ev;
    return 0;
}

/* a connection test (probe.c): nothing to open; what can be said */
static int w_probe(const FlowSettings *s, unsigned uses, cJSON *info, FlowErr *err) {
    (void)s; (void)uses; (void)err;
    cJSON_AddStringToObject(info, "note", "webhook requests are received and queued by the server (flowc serve, flowc server): there is "
                                          "nothing to open before a run");
    return 0;
}

const FlowConnector flow_conn_webhook = {
    .kind = "webhook",
    .open = w_open, .close = w_close, .probe = w_probe,
    .export_open = wx_open, .export_next = wx_next, .export_close = wx_close, .export_page_done = wx_page_done,
};
