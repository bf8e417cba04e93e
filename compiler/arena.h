/* arena.h — one bump allocator per compilation; everything is freed at once. */
#ifndef FLOWC_ARENA_H
#define FLOWC_ARENA_H
#include <stddef.h>

typedef struct Arena Arena;

Arena *arena_new(void);
void   arena_free(Arena *a);
void  *arena_alloc(Arena *a, size_t n);               /* zeroed, 8-byte aligned */
char  *arena_strndup(Arena *a, const char *s, size_t n);
char  *arena_strdup(Arena *a, const char *s);
char  *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A growable array of pointers whose storage lives in an arena. */
typedef struct { void **items; int n, cap; } ArenaVec;
void arena_vec_push(Arena *a, ArenaVec *v, void *p);

#endif
