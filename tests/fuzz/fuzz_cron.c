/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): the schedule parsers of runtime/cron.c and
 * runtime/tz.c, which must never crash, hang, leak or read out of bounds, whatever the input.
 * The first byte picks what the rest is:
 *   0..159   a cron expression: flow_cron_check, then flow_sched_cron in UTC and in zones with odd
 *            changes (loaded from the system's tzdata), and a few next fire times from an instant the
 *            next 8 bytes give; each time must be strictly after the one before
 *   160..207 an every() preset: interval, window and weekdays from the bytes, then next fire times
 *   208..255 a TZif file: flow_tz_parse, then offsets and a walk over its changes */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ZONES[] = { NULL, "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
                                     "Asia/Kathmandu", "Pacific/Apia", "Europe/Dublin" };

static int64_t rd64(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < n; i++) v = v << 8 | p[i];
    return (int64_t)(v % 600000000000000ULL) - 200000000000000LL;   /* about years -4300 to 21000 */
}

static void walk(FlowSched *s, int64_t after) {
    for (int i = 0; i < 4; i++) {
        int64_t t = flow_sched_next(s, after);
        if (t < 0) break;
        if (t <= after) abort();   /* the contract: strictly after */
        after = t;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    char err[512];
    if (mode < 160) {
        if (size < 8) return 0;
        int64_t after = rd64(data, 8);
        char *expr = malloc(size - 8 + 1);
        memcpy(expr, data + 8, size - 8);
        expr[size - 8] = 0;
        flow_cron_check(expr, err, sizeof err);
        FlowSched *s = flow_sched_cron(expr, ZONES[mode % 8], err, sizeof err);
        if (s) { walk(s, after); flow_sched_free(s); }
        free(expr);
    } else if (mode < 208) {
        if (size < 16) return 0;
        int64_t after = rd64(data, 8);
        int64_t iv = (int64_t)(data[8] | data[9] << 8 | data[10] << 16) * (data[11] % 4 == 0 ? 1000 : data[11] % 4 == 1 ? 60000 : data[11] % 4 == 2 ? 3600000 : 86400000);
        char a[8], b[8];
        memcpy(a, data + 12, 2); a[2] = ':'; a[3] = '0'; a[4] = '0'; a[5] = 0;
        memcpy(b, data + 14, 2); b[2] = ':'; b[3] = '3'; b[4] = '0'; b[5] = 0;
        int window = size > 16 && data[16] & 1;
        unsigned days = size > 17 ? data[17] & 0x7F : 0;
        FlowSched *s = flow_sched_every(iv, window ? a : NULL, window ? b : NULL, days, ZONES[mode % 8], err, sizeof err);
        if (s) { walk(s, after); flow_sched_free(s); }
    } else {
        FlowTz *z = flow_tz_parse("fuzz", data, size, err, sizeof err);
        if (!z) return 0;
        int64_t t = -5000000000LL, at;
        int32_t o;
        for (int i = 0; i < 64 && flow_tz_next_change(z, t, &at, &o); i++) {
            if (at <= t) abort();
            (void)flow_tz_offset(z, at);
            (void)flow_tz_prev_change(z, at, &t, &o);
            t = at;
        }
        char buf[48];
        flow_tz_format(z, 1700000000123LL, buf);
        FlowSched *s = NULL;
        (void)s;
        flow_tz_free(z);
    }
    return 0;
}
