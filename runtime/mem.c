/* mem.c — the runtime's allocation helpers, which abort when memory runs out (no step can go on
 * without it, and a half-built record must never be written), a growing string for building
 * URLs, bodies and SQL, arenas (memory freed all at once: a record's scratch, a page's typed
 * records), and base64 (a basic credential). Used by the engine, the connectors and the
 * HTTP client. */
#include "engine.h"
#include <stdlib.h>
#include <string.h>

void *flow_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) abort();
    return p;
}

void *flow_xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) abort();
    return p;
}

/* ---- arenas ---- */

struct FlowArenaBlock { struct FlowArenaBlock *next; size_t size, used; };
#define ARENA_MIN ((size_t)64 * 1024)
#define ARENA_MAX ((size_t)64 * 1024 * 1024)
#define ARENA_HDR ((sizeof(struct FlowArenaBlock) + 15) & ~(size_t)15)

#define ARENA_DATA(b) ((char *)(b) + ARENA_HDR)

/* the newest block's use, from the cursor */
static void arena_note(FlowArena *a) {
    if (a->blocks) a->blocks->used = (size_t)(a->cur - ARENA_DATA(a->blocks));
}

static void arena_push(FlowArena *a, size_t size) {
    struct FlowArenaBlock *nb = malloc(ARENA_HDR + size);
    if (!nb) abort();
    nb->size = size;
    nb->used = 0;
    nb->next = a->blocks;
    a->blocks = nb;
    a->cur = ARENA_DATA(nb);
    a->end = a->cur + size;
}

void *flow_arena_grow(FlowArena *a, size_t n) {   /* n is rounded already */
    arena_note(a);
    arena_push(a, n > ARENA_MIN ? n : ARENA_MIN);
    void *p = a->cur;
    a->cur += n;
    return p;
}

void flow_arena_reset(FlowArena *a) {
    /* keep one block; if the last round needed several, the kept one grows to hold them all, so the
     * next round fits in a single block and malloc is not asked again */
    if (!a->blocks) return;
    arena_note(a);
    size_t total = 0;
    int n = 0;
    for (struct FlowArenaBlock *b = a->blocks; b; b = b->next) { total += b->used; n++; }
    if (n > 1) {
        flow_arena_free(a);
        size_t size = total + total / 2 > ARENA_MIN ? total + total / 2 : ARENA_MIN;
        if (size > ARENA_MAX) size = ARENA_MAX;
        arena_push(a, size);
    }
    a->blocks->used = 0;
    a->cur = ARENA_DATA(a->blocks);
    a->end = a->cur + a->blocks->size;
}

void flow_arena_free(FlowArena *a) {
    for (struct FlowArenaBlock *b = a->blocks, *nx; b; b = nx) { nx = b->next; free(b); }
    a->blocks = NULL;
    a->cur = a->end = NULL;
}

char *flow_xstrdup(const char *s) {
    char *p = strdup(s);
    if (!p) abort();
    return p;
}

void flow_sb_put(FlowSb *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = flow_xrealloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void flow_sb_puts(FlowSb *b, const char *s) { flow_sb_put(b, s, strlen(s)); }

char *flow_sb_take(FlowSb *b) {
    if (!b->p) flow_sb_put(b, "", 0);
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

char *flow_base64(const char *s, size_t n) {
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = flow_xcalloc(1, (n + 2) / 3 * 4 + 1), *w = o;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *w++ = tb[v >> 18 & 63];
        *w++ = tb[v >> 12 & 63];
        *w++ = i + 1 < n ? tb[v >> 6 & 63] : '=';
        *w++ = i + 2 < n ? tb[v & 63] : '=';
    }
    return o;
}
