/* tests/webhook/driver.c — hands one request to flow_webhooks_handle, as the listener does, for a
 * flow compiled from a .flow file: `flowc emit-c F.flow > F.c` and `cc -Dmain=flow_generated_main
 * F.c driver.c libflowrt.a ...` give a program whose flow_program is that flow's table. Prints the
 * answer (`status N`, `type T`, then the body) and the flow index queued for (`queued N`, -1 none).
 *
 *   driver [--state DIR] [--kill] [--pending] METHOD PATH[?QUERY] [-H 'Name: value']... [--body FILE]
 *   driver [--state DIR] --load THREADS N [--sign HEADER PREFIX] [--acked FILE] METHOD PATH -H ... --body FILE
 *
 * --kill: SIGKILL itself right after handle() returned (a crash just after the answer was sent);
 * --pending: print each webhook flow's queued events (`pending FLOW N`) instead of a request;
 * --load: THREADS threads call handle() at once, as the listener's threads do, N requests each; the
 * body file's `@ID@` becomes the request's number (1 .. THREADS*N, each once), --sign signs each
 * body with HMAC-SHA256 (secret: $DRIVER_HMAC_SECRET) into HEADER as PREFIX<hex>; --acked appends
 * each answered-and-queued request's number to FILE (one write, right after handle() returned: a
 * kill -9 can lose that line, never a queued event). Prints `load T x N: R requests/s, p50 A ms,
 * p99 B ms, queued Q, refused F`; exit 1 when a request was not answered 2xx. */
#include "flow.h"
#include "engine.h"
#include "webhook.h"
#include <fcntl.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

extern const FlowProgram flow_program;

typedef struct Headers { const char *name[64]; const char *value[64]; int n; } Headers;

static const char *get_header(void *ctx, const char *name) {
    const Headers *h = ctx;
    for (int i = 0; i < h->n; i++) if (strcasecmp(h->name[i], name) == 0) return h->value[i];
    return NULL;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    FlowSb b = { 0 };
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) flow_sb_put(&b, buf, got);
    fclose(f);
    *n = b.n;
    return b.p ? b.p : flow_xstrdup("");
}

/* ---- --load: many threads at once ---- */

typedef struct Load {
    FlowWebhooks *w;
    const char *method, *path, *query;
    const Headers *hs;
    const char *body; size_t blen;          /* with @ID@ */
    const char *sign_header, *sign_prefix, *secret;
    int acked_fd;
    long n;
} Load;
typedef struct Worker {
    const Load *ld;
    long first;                             /* its requests are first .. first+n-1 */
    double *lat_ms;
    long queued, refused;
    pthread_t th;
} Worker;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void *load_worker(void *arg) {
    Worker *wk = arg;
    const Load *ld = wk->ld;
    const char *at = NULL;
    for (size_t k = 0; !at && k + 4 <= ld->blen; k++) if (memcmp(ld->body + k, "@ID@", 4) == 0) at = ld->body + k;
    size_t pre = at ? (size_t)(at - ld->body) : ld->blen, post = at ? ld->blen - pre - 4 : 0;
    char *body = flow_xcalloc(1, ld->blen + 32), sig[256];
    Headers hs = *ld->hs;
    int si = -1;
    if (ld->sign_header && hs.n < 64) { si = hs.n++; hs.name[si] = ld->sign_header; hs.value[si] = sig; }
    for (long i = 0; i < ld->n; i++) {
        long id = wk->first + i;
        memcpy(body, ld->body, pre);
        size_t blen = pre;
        if (at) {
            blen += (size_t)snprintf(body + pre, 32, "%ld", id);
            memcpy(body + blen, at + 4, post);
            blen += post;
        }
        if (si >= 0) {
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned ml = 0;
            HMAC(EVP_sha256(), ld->secret, (int)strlen(ld->secret), (const unsigned char *)body, blen, mac, &ml);
            int k = snprintf(sig, sizeof sig, "%s", ld->sign_prefix);
            for (unsigned j = 0; j < ml && k + 3 < (int)sizeof sig; j++) k += snprintf(sig + k, 3, "%02x", mac[j]);
        }
        FlowHttpReq rq = { ld->method, ld->path, ld->query, get_header, &hs, body, blen, "127.0.0.1" };
        FlowHttpResp resp = { 0 };
        double t0 = now_ms();
        int fi = flow_webhooks_handle(ld->w, &rq, &resp);
        wk->lat_ms[i] = now_ms() - t0;
        if (resp.status < 200 || resp.status > 299) {
            if (wk->refused++ < 3) fprintf(stderr, "driver: request %ld answered %d: %.*s\n", id, resp.status, (int)resp.body_len, resp.body ? resp.body : "");
        } else if (fi >= 0) {
            wk->queued++;
            if (ld->acked_fd >= 0) {
                char line[32];
                int k = snprintf(line, sizeof line, "%ld\n", id);
                if (write(ld->acked_fd, line, (size_t)k) != k) perror("driver: --acked");
            }
        }
        free(resp.body);
    }
    free(body);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int load(const Load *ld, int threads) {
    Worker *wk = flow_xcalloc((size_t)threads, sizeof *wk);
    double t0 = now_ms();
    for (int t = 0; t < threads; t++) {
        wk[t].ld = ld;
        wk[t].first = (long)t * ld->n + 1;
        wk[t].lat_ms = flow_xcalloc((size_t)ld->n, sizeof(double));
        if (pthread_create(&wk[t].th, NULL, load_worker, &wk[t]) != 0) { fprintf(stderr, "driver: pthread_create\n"); return 2; }
    }
    long total = (long)threads * ld->n, queued = 0, refused = 0;
    double *all = flow_xcalloc((size_t)total, sizeof(double));
    for (int t = 0; t < threads; t++) {
        pthread_join(wk[t].th, NULL);
        memcpy(all + (long)t * ld->n, wk[t].lat_ms, (size_t)ld->n * sizeof(double));
        queued += wk[t].queued;
        refused += wk[t].refused;
        free(wk[t].lat_ms);
    }
    double secs = (now_ms() - t0) / 1e3;
    qsort(all, (size_t)total, sizeof(double), cmp_double);
    printf("load %d x %ld: %.0f requests/s, p50 %.2f ms, p99 %.2f ms, queued %ld, refused %ld\n", threads, ld->n, (double)total / secs,
           all[total / 2], all[(long)((double)total * 0.99) < total ? (long)((double)total * 0.99) : total - 1], queued, refused);
    free(all);
    free(wk);
    return refused ? 1 : 0;
}

int main(int argc, char **argv) {
    const char *state = ".flowstate", *method = NULL, *target = NULL, *body_file = NULL;
    const char *sign_header = NULL, *sign_prefix = "", *acked = NULL;
    int kill_after = 0, pending = 0, threads = 0;
    long per_thread = 0;
    Headers hs = { .n = 0 };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) state = argv[++i];
        else if (strcmp(argv[i], "--kill") == 0) kill_after = 1;
        else if (strcmp(argv[i], "--pending") == 0) pending = 1;
        else if (strcmp(argv[i], "--body") == 0 && i + 1 < argc) body_file = argv[++i];
        else if (strcmp(argv[i], "--load") == 0 && i + 2 < argc) { threads = atoi(argv[++i]); per_thread = atol(argv[++i]); }
        else if (strcmp(argv[i], "--sign") == 0 && i + 2 < argc) { sign_header = argv[++i]; sign_prefix = argv[++i]; }
        else if (strcmp(argv[i], "--acked") == 0 && i + 1 < argc) acked = argv[++i];
        else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc && hs.n < 64) {
            char *h = argv[++i], *colon = strchr(h, ':');
            if (!colon) { fprintf(stderr, "driver: -H 'Name: value'\n"); return 2; }
            *colon = 0;
            hs.name[hs.n] = h;
            hs.value[hs.n++] = colon + 1;
        } else if (!method) method = argv[i];
        else if (!target) target = argv[i];
        else { fprintf(stderr, "driver: unexpected %s\n", argv[i]); return 2; }
    }
    if (!pending && (!method || !target)) { fprintf(stderr, "usage: driver [--state DIR] METHOD PATH[?QUERY] [-H 'N: v']... [--body FILE]\n"); return 2; }
    FlowErr err;
    FlowState *st = flow_state_open(state, flow_program.name, 0, &err);
    if (!st) { fprintf(stderr, "driver: %s\n", err.msg); return 1; }
    FlowCtx *cx = flow_ctx_new();
    /* params as serve sets them: their defaults (the test flows' params are strings) */
    char **defaults = flow_xcalloc((size_t)flow_program.nparams + 1, sizeof *defaults);
    for (int i = 0; i < flow_program.nparams; i++) {
        defaults[i] = flow_param_default(&flow_program.params[i]);
        flow_ctx_set_param(cx, i, defaults[i] && flow_program.params[i].kind == FLOW_STRING ? flow_string(defaults[i], strlen(defaults[i])) : flow_null());
    }
    FlowWebhooks *w = flow_webhooks_open(&flow_program, cx, st, &err);
    if (!w) { fprintf(stderr, "driver: %s\n", err.msg); return 1; }
    int rc = 0;
    if (pending) {
        for (int i = 0; i < flow_program.nflows; i++)
            if (flow_webhooks_route(w, "/") != i) printf("pending %s %ld\n", flow_program.flows[i].name, flow_webhooks_pending(w, i));
    } else if (threads > 0) {
        const char *secret = getenv("DRIVER_HMAC_SECRET");
        if (threads > 1024 || per_thread <= 0 || !body_file || (sign_header && !secret)) {
            fprintf(stderr, "driver: --load THREADS(1..1024) N(>0) needs --body, and --sign needs DRIVER_HMAC_SECRET\n");
            rc = 2;
        } else {
            char *path = flow_xstrdup(target), *q = strchr(path, '?');
            if (q) *q++ = 0;
            size_t blen = 0;
            char *body = slurp(body_file, &blen);
            int fd = acked ? open(acked, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
            if (acked && fd < 0) { perror(acked); rc = 2; }
            else {
                Load ld = { w, method, path, q, &hs, body, blen, sign_header, sign_prefix, secret, fd, per_thread };
                rc = load(&ld, threads);
            }
            if (fd >= 0) close(fd);
            free(body);
            free(path);
        }
    } else {
        char *path = flow_xstrdup(target), *q = strchr(path, '?');
        if (q) *q++ = 0;
        size_t blen = 0;
        char *body = body_file ? slurp(body_file, &blen) : NULL;
        FlowHttpReq rq = { method, path, q, get_header, &hs, body, blen, "127.0.0.1" };
        FlowHttpResp resp = { 0 };
        int routed = flow_webhooks_route(w, path);
        int fi = flow_webhooks_handle(w, &rq, &resp);
        if (kill_after) raise(SIGKILL);
        printf("route %d\nqueued %d\nstatus %d\ntype %s\n", routed, fi, resp.status, resp.content_type ? resp.content_type : "-");
        if (resp.body) fwrite(resp.body, 1, resp.body_len, stdout);
        free(resp.body);
        free(body);
        free(path);
    }
    flow_webhooks_close(w);
    flow_ctx_free(cx);
    flow_state_close(st);
    for (int i = 0; i < flow_program.nparams; i++) free(defaults[i]);
    free(defaults);
    return rc;
}
