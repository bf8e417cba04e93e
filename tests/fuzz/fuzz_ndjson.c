/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): feeds arbitrary bytes to the NDJSON line
 * reader (runtime/conn_file.c: flow_ndjson_open, flow_ndjson_next) through a memory file, reading
 * every line until the end or a failure. It must never crash, hang, leak or read out of bounds; each
 * line is a record (an object) or a record error, and the reader always moves on. The first byte
 * (when there is more than one) caps each read() at 1..255 bytes (0: no cap), so that lines
 * crossing buffer refills are exercised. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t cap = 0;
    if (size > 1) { cap = data[0]; data++; size--; }
    int fd = memfd_create("fuzz.ndjson", MFD_CLOEXEC);
    if (fd < 0) abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) abort();
    flow_read_limit(cap);
    FlowErr err;
    FlowNdjson *c = flow_ndjson_open(fd, "fuzz.ndjson", 1);
    for (long n = 0;; n++) {
        if (n > (long)size + 1) abort();   /* every line consumes at least one byte */
        FlowExportItem it = { 0 };
        int r = flow_ndjson_next(c, &it, &err);
        if (r == FLOW_NEXT_RECORD && !cJSON_IsObject(it.rec)) abort();
        cJSON_Delete(it.rec);
        if (r == FLOW_NEXT_END || r == FLOW_NEXT_FAIL) break;
    }
    flow_ndjson_close(c);
    return 0;
}
