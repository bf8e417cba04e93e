/* libFuzzer target for `make fuzz`: the regex engine (runtime/regex.c) and the built-ins on it
 * (regex_match, regex_replace in stdlib/strings.c). The first byte picks the dialect (its low bit:
 * I-Regexp or the Flow dialect); the bytes up to the next newline are the pattern, the rest the
 * subject. A compiled pattern is run whole, as a search, and as every search of a replacement, and
 * the answers must agree: a search finds something exactly when a match anywhere does, a match's
 * offsets and its groups lie inside the subject in order, and a whole match spans it all. Nothing may
 * crash, hang (the engine is linear; a work budget bounds it), leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "flow_re.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT 2000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    FlowReDialect d = (data[0] & 1) ? FLOW_RE_FLOW : FLOW_RE_IREGEXP;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    const char *nl = memchr(p, '\n', n);
    size_t plen = nl ? (size_t)(nl - p) : n;
    const char *s = nl ? nl + 1 : "";
    size_t slen = nl ? n - plen - 1 : 0;
    char err[200];
    FlowRegex *re = flow_re_compile(p, plen, d, err, sizeof err);
    if (!re) {
        if (!err[0]) abort();
    } else {
        unsigned long long w = 0;
        int any = flow_re_match(re, s, slen, 0, &w, LIMIT);
        w = 0;
        int whole = flow_re_match(re, s, slen, 1, &w, LIMIT);
        long long m[2 * (FLOW_RE_MAX_GROUPS + 1)];
        w = 0;
        int found = flow_re_search(re, s, slen, 0, m, &w, LIMIT);
        if (any >= 0 && found >= 0 && any != found) abort();          /* search and match disagree */
        if (whole == 1 && any == 0) abort();                         /* a whole match is a match */
        if (found == 1) {
            if (m[0] < 0 || m[1] < m[0] || (size_t)m[1] > slen) abort();
            for (int g = 1; g <= FLOW_RE_MAX_GROUPS; g++) {
                if (m[2 * g] < 0) { if (m[2 * g + 1] != -1) abort(); continue; }   /* no end without a start */
                if (m[2 * g + 1] < m[2 * g] || (size_t)m[2 * g + 1] > slen) abort();
            }
        }
        /* every search a replacement makes, from each offset */
        size_t pos = 0;
        w = 0;
        for (int k = 0; k < 64 && pos <= slen; k++) {
            int r = flow_re_search(re, s, slen, pos, m, &w, LIMIT * 4);
            if (r != 1) break;
            if ((size_t)m[0] < pos || m[1] < m[0]) abort();
            pos = (size_t)m[1] > (size_t)m[0] ? (size_t)m[1] : (size_t)m[0] + 1;
        }
        flow_re_free(re);
    }
    if (d == FLOW_RE_FLOW) {   /* the built-ins, with their errors */
        FlowCtx *cx = flow_ctx_new();
        FlowVal subj = flow_string(s, slen), pat = flow_string(p, plen);
        flow_fn_regex_match(cx, subj, pat);
        flow_clear_error(cx);
        FlowVal out = flow_fn_regex_replace(cx, subj, pat, flow_string("<$1\\2$$>", 9));
        if (!flow_failed(cx) && out.kind != FLOW_STRING) abort();
        flow_ctx_free(cx);
    }
    return 0;
}
