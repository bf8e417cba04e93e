/* flow_re.h — the one regular-expression engine of flowc: I-Regexp (RFC 9485) for JSONPath's match()
 * and search(), and the same engine with a few documented extensions for the Flow built-ins
 * regex_match and regex_replace. Patterns and subjects are UTF-8 and are matched by code point. A
 * compiled pattern runs as a Pike VM: time linear in the subject's length times the program's size,
 * never backtracking, and every run is charged to a caller-given work budget. */
#ifndef FLOW_RE_H
#define FLOW_RE_H
#include <stddef.h>
#include <stdint.h>

typedef struct FlowRegex FlowRegex;
typedef struct FlowCtx FlowCtx;

/* Strict UTF-8 decoding, the one decoder of the regex engine and of JSONPath's parser: the length
 * (1..4) of the sequence at s (n bytes available), 0 if it is invalid (overlong forms, surrogates,
 * beyond U+10FFFF, truncated). */
size_t flow_u8_decode(const unsigned char *s, size_t n, uint32_t *cp);

typedef enum {
    FLOW_RE_IREGEXP,     /* RFC 9485 exactly (plus `^` and `$` as anchors, as the JSONPath CTS expects) */
    FLOW_RE_FLOW         /* I-Regexp plus \d \D \w \W \s \S \b \B (ASCII), (?:...), lazy quantifiers
                          * (*? +? ?? {n,m}?), and any ASCII punctuation escaped (\/ \$ \" ...) */
} FlowReDialect;

#define FLOW_RE_MAX_GROUPS 9         /* capture groups whose positions are reported: $1..$9 */
#define FLOW_RE_MAX_PROG   20000     /* instructions of one compiled pattern */
#define FLOW_RE_MAX_NEST   64        /* nested groups */

/* Compiles pattern[0..len). NULL when it is not a valid pattern of the dialect or too big, with the
 * reason (and the 1-based character where it was found) in err. */
FlowRegex *flow_re_compile(const char *pattern, size_t len, FlowReDialect dialect, char *err, size_t errlen);
void flow_re_free(FlowRegex *re);
/* A Flow-dialect pattern compiled once per run: the run context keeps the last FLOW_CTX_RE_CACHE patterns
 * it compiled (value.c), so a pattern used on every record is not compiled for each. The result is
 * cx's (do not free it), valid until cx is freed or as many other patterns are compiled; NULL with the
 * reason in why, as flow_re_compile. */
#define FLOW_CTX_RE_CACHE 8
FlowRegex *flow_ctx_regex(FlowCtx *cx, const char *pattern, size_t len, char *why, size_t cap);
int flow_re_groups(const FlowRegex *re);       /* capturing groups in the pattern */
size_t flow_re_size(const FlowRegex *re);      /* instructions: the cost of one step */

/* Does re match s[0..len): all of it (whole) or some part (search)? 1 yes, 0 no, -1 when *work
 * would pass limit (the work is added to *work), -2 out of memory. */
int flow_re_match(const FlowRegex *re, const char *s, size_t len, int whole, unsigned long long *work,
                  unsigned long long limit);

/* The leftmost match starting at byte `from` or later, preferring (like Perl and JavaScript) the
 * alternative and repetition written first. m[0], m[1] get its byte offsets; m[2k], m[2k+1] those of
 * group k (1..FLOW_RE_MAX_GROUPS), or -1 when the group took no part. `^` matches only at 0 and `$`
 * only at len, whatever from is. Returns 1, 0, -1 or -2 as flow_re_match. */
int flow_re_search(const FlowRegex *re, const char *s, size_t len, size_t from, long long m[2 * (FLOW_RE_MAX_GROUPS + 1)],
                   unsigned long long *work, unsigned long long limit);

#endif
