/* arena.c — bump allocation in large chunks; a compilation frees its arena in one call. */
#define _DEFAULT_SOURCE 1   /* MAP_ANONYMOUS, madvise */
#include "arena.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct Chunk { struct Chunk *next; size_t size, used; } Chunk;
struct Arena { Chunk *head; size_t next_size; };

#define CHUNK_MIN ((size_t)256 * 1024)
#define CHUNK_MAX ((size_t)64 * 1024 * 1024)
#define ALIGN 8
#define HDR ((sizeof(Chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))
#define HUGE_PAGE ((size_t)2 * 1024 * 1024)

Arena *arena_new(void) {
    Arena *a = calloc(1, sizeof *a);
    if (!a) abort();
    a->next_size = CHUNK_MIN;
    return a;
}

void arena_free(Arena *a) {
    if (!a) return;
    for (Chunk *c = a->head, *n; c; c = n) { n = c->next; munmap(c, c->size + HDR); }
    free(a);
}

/* Chunks come straight from mmap: already zeroed, and big ones backed by huge pages where the
 * kernel allows, so a 10 MB input does not pay a page fault per 4 KB of tree. */
static Chunk *chunk_new(size_t size) {
    size_t total = size + HDR;
    if (total >= HUGE_PAGE) total = (total + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { fputs("flowc: out of memory\n", stderr); abort(); }
#ifdef MADV_HUGEPAGE
    if (total >= HUGE_PAGE) madvise(p, total, MADV_HUGEPAGE);
#endif
    Chunk *c = p;
    c->size = total - HDR;
    c->used = 0;
    return c;
}

void *arena_alloc(Arena *a, size_t n) {
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    Chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        if (n > a->next_size / 4) {          /* a big block gets its own chunk behind the current one */
            c = chunk_new(n);
            c->used = n;
            if (a->head) { c->next = a->head->next; a->head->next = c; }
            else { c->next = NULL; a->head = c; }
            return (char *)c + HDR;
        }
        c = chunk_new(a->next_size);
        if (a->next_size < CHUNK_MAX) a->next_size *= 2;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c + HDR + c->used;
    c->used += n;
    return p;                                /* zero: fresh mmap memory is never reused */
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(Arena *a, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void arena_vec_push(Arena *a, ArenaVec *v, void *p) {
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 4;
        void **items = arena_alloc(a, sizeof(void *) * (size_t)cap);
        if (v->n) memcpy(items, v->items, sizeof(void *) * (size_t)v->n);
        v->items = items; v->cap = cap;
    }
    v->items[v->n++] = p;
}
