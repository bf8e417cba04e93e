/* arena.c — bump allocation in large chunks; a compilation frees its arena in one call. */
#include "arena.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Chunk { struct Chunk *next; size_t size, used; } Chunk;
struct Arena { Chunk *head; };

#define CHUNK_MIN (256 * 1024)
#define ALIGN 16

Arena *arena_new(void) {
    Arena *a = calloc(1, sizeof *a);
    if (!a) abort();
    return a;
}

void arena_free(Arena *a) {
    if (!a) return;
    for (Chunk *c = a->head, *n; c; c = n) { n = c->next; free(c); }
    free(a);
}

void *arena_alloc(Arena *a, size_t n) {
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    Chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
        size_t hdr = (sizeof(Chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
        c = malloc(hdr + size);
        if (!c) { fputs("flowc: out of memory\n", stderr); abort(); }
        c->size = size; c->used = 0;
        if (n > CHUNK_MIN / 4 && a->head) {  /* big block: keep current chunk as the head */
            c->next = a->head->next; a->head->next = c;
            c->used = n;
            return memset((char *)c + hdr, 0, n);
        }
        c->next = a->head; a->head = c;
    }
    size_t hdr = (sizeof(Chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    void *p = (char *)c + hdr + c->used;
    c->used += n;
    return memset(p, 0, n);
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

void vec_push(Arena *a, PtrVec *v, void *p) {
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 4;
        void **items = arena_alloc(a, sizeof(void *) * (size_t)cap);
        if (v->n) memcpy(items, v->items, sizeof(void *) * (size_t)v->n);
        v->items = items; v->cap = cap;
    }
    v->items[v->n++] = p;
}
