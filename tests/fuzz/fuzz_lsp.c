/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): arbitrary bytes as the language server's
 * input (compiler/lsp.c through lsp_serve): the Content-Length framing and the JSON-RPC reader of
 * compiler/lsp_rpc.c, then whatever the messages ask of the server (documents opened and changed,
 * hovers, completions, renames ... at any position). The bytes arrive in reads of sizes taken from
 * the input's first byte, so messages split at every place. Replies go to /dev/null; every frame the
 * reader returns must be inside the input. Nothing may crash, leak, hang or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "lsp.h"
#include "lsp_rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct { const uint8_t *p; size_t n, at, chunk; } Mem;

static ssize_t mem_read(void *ud, char *buf, size_t cap) {
    Mem *m = ud;
    size_t k = m->n - m->at;
    if (k > cap) k = cap;
    if (k > m->chunk) k = m->chunk;
    memcpy(buf, m->p + m->at, k);
    m->at += k;
    return (ssize_t)k;
}

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!devnull) devnull = fopen("/dev/null", "w");
    if (!devnull) abort();
    size_t chunk = (size_t)(data[0] % 64) + 1;
    if (data[0] >= 192) chunk = 65536;
    /* the reader alone: each body it returns is a span of the input's bytes */
    Mem m = { data + 1, size - 1, 0, chunk };
    RpcReader *r = rpc_reader_new(mem_read, &m);
    for (;;) {
        char *body;
        size_t len;
        const char *why;
        RpcStatus st = rpc_read(r, &body, &len, &why);
        if (st == RPC_EOF) break;
        if (st == RPC_MSG) {
            if (len > size || body[len] != 0) abort();
            RpcMsg msg;
            rpc_parse(&msg, body, len);
            if (msg.kind == RPC_REQUEST && (!msg.method || !msg.id)) abort();
            rpc_msg_free(&msg);
            free(body);
        } else if (!why) abort();
    }
    rpc_reader_free(r);
    /* the whole server */
    Mem m2 = { data + 1, size - 1, 0, chunk };
    int rc = lsp_serve(mem_read, &m2, devnull, NULL);
    if (rc != 0 && rc != 1) abort();
    return 0;
}
