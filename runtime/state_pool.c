/* state_pool.c — open state stores kept for reuse (state_pool.h). One list of entries, each a store
 * of one integration, taken (one user) or idle, under one mutex; stores are opened, checked and
 * closed outside it (a PostgreSQL open or close is a round trip or more). A store is kept only when
 * state.c says it can be reused (no transaction, lock or statement of its user's left, its connection
 * standing, its SQLite file still the store's), so a database restart or a store removed by hand costs
 * one new open, never a failed request for it; a PostgreSQL session that broke while idle is seen
 * when it is taken (flow_db_alive reads the server's goodbye without a round trip). */
#define _DEFAULT_SOURCE
#include "state_pool.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Entry {
    FlowState *st;
    char *integ;
    int read_only;      /* opened read-only: given to read-only users only */
    int taken;
    int stale;          /* its integration was forgotten while it was taken: closed when given back */
    int64_t idle_since; /* ms (CLOCK_MONOTONIC) */
    struct Entry *next;
} Entry;

struct FlowStatePool {
    pthread_mutex_t mu;
    char *db, *dir;
    Entry *list;
    int nidle;
    unsigned long forgets;   /* flow_state_pool_forget calls: a store opened across one is not kept */
    long opened, reused;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FlowStatePool *flow_state_pool_new(const char *db, const char *dir) {
    FlowStatePool *p = flow_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->db = db && *db ? flow_xstrdup(db) : NULL;
    p->dir = dir ? flow_xstrdup(dir) : NULL;
    return p;
}

static void entry_free(Entry *e) {
    if (!e) return;
    flow_state_close(e->st);
    free(e->integ);
    free(e);
}

/* unlinks e (under mu) */
static void unlink_entry(FlowStatePool *p, Entry *e) {
    for (Entry **pp = &p->list; *pp; pp = &(*pp)->next)
        if (*pp == e) { *pp = e->next; break; }
    if (!e->taken) p->nidle--;
    e->next = NULL;
}

/* under mu: e unlinked onto *gone (closed by the caller, outside mu) */
static void retire(FlowStatePool *p, Entry *e, Entry **gone) {
    unlink_entry(p, e);
    e->next = *gone;
    *gone = e;
}

/* under mu: the idle entries past their time onto *out */
static void expire(FlowStatePool *p, int64_t now, Entry **out) {
    for (Entry *e = p->list, *next; e; e = next) {
        next = e->next;
        if (!e->taken && now - e->idle_since >= FLOW_STATE_POOL_IDLE_MS) retire(p, e, out);
    }
}

static void close_all(Entry *e) {
    for (Entry *next; e; e = next) { next = e->next; entry_free(e); }
}

void flow_state_pool_free(FlowStatePool *p) {
    if (!p) return;
    close_all(p->list);
    pthread_mutex_destroy(&p->mu);
    if (p->db) explicit_bzero(p->db, strlen(p->db));   /* a DSN may hold a password */
    free(p->db);
    free(p->dir);
    free(p);
}

FlowState *flow_state_pool_take(FlowStatePool *p, const char *integration, int read_only, FlowErr *err) {
    for (;;) {
        Entry *gone = NULL, *hit = NULL;
        pthread_mutex_lock(&p->mu);
        expire(p, now_ms(), &gone);
        for (Entry *e = p->list; e && !hit; e = e->next)
            if (!e->taken && strcmp(e->integ, integration) == 0 && (read_only || !e->read_only)) hit = e;
        if (hit) { hit->taken = 1; p->nidle--; }
        unsigned long forgets = p->forgets;
        pthread_mutex_unlock(&p->mu);
        close_all(gone);
        if (hit) {
            if (flow_state_reusable(hit->st)) {   /* (taken: ours alone) */
                pthread_mutex_lock(&p->mu);
                p->reused++;
                pthread_mutex_unlock(&p->mu);
                return hit->st;
            }
            pthread_mutex_lock(&p->mu);   /* broke while idle (a database restart), or its file was removed */
            unlink_entry(p, hit);
            pthread_mutex_unlock(&p->mu);
            entry_free(hit);
            continue;
        }
        FlowState *st = flow_state_open_at(p->db, p->dir, integration, read_only, err);
        if (!st) return NULL;
        Entry *e = flow_xcalloc(1, sizeof *e);
        e->st = st;
        e->integ = flow_xstrdup(integration);
        e->read_only = read_only;
        e->taken = 1;
        pthread_mutex_lock(&p->mu);
        e->stale = p->forgets != forgets;   /* opened while its integration may have been forgotten */
        e->next = p->list;
        p->list = e;
        p->opened++;
        pthread_mutex_unlock(&p->mu);
        return st;
    }
}

void flow_state_pool_give(FlowStatePool *p, FlowState *st, int ok) {
    if (!st) return;
    int keep = ok && flow_state_reusable(st);   /* (still ours: asked outside the lock) */
    Entry *gone = NULL, *e;
    pthread_mutex_lock(&p->mu);
    for (e = p->list; e && e->st != st; e = e->next) {}
    if (!e) {   /* not the pool's */
        pthread_mutex_unlock(&p->mu);
        flow_state_close(st);
        return;
    }
    int64_t now = now_ms();
    if (!keep || e->stale) retire(p, e, &gone);
    else {
        /* (at the front: the most recently used is found first, and the oldest idle make room) */
        unlink_entry(p, e);   /* (taken: the idle count as it was) */
        e->taken = 0;
        e->idle_since = now;
        e->next = p->list;
        p->list = e;
        p->nidle++;
        while (p->nidle > FLOW_STATE_POOL_IDLE_MAX) {
            Entry *old = NULL;
            for (Entry *x = p->list; x; x = x->next) if (!x->taken && (!old || x->idle_since <= old->idle_since)) old = x;
            retire(p, old, &gone);
        }
    }
    expire(p, now, &gone);
    pthread_mutex_unlock(&p->mu);
    close_all(gone);
}

void flow_state_pool_forget(FlowStatePool *p, const char *integration) {
    if (!p) return;
    Entry *gone = NULL;
    pthread_mutex_lock(&p->mu);
    p->forgets++;
    for (Entry *e = p->list, *next; e; e = next) {
        next = e->next;
        if (strcmp(e->integ, integration) != 0) continue;
        if (e->taken) e->stale = 1;
        else retire(p, e, &gone);
    }
    pthread_mutex_unlock(&p->mu);
    close_all(gone);
}

void flow_state_pool_sweep(FlowStatePool *p) {
    if (!p) return;
    Entry *gone = NULL;
    pthread_mutex_lock(&p->mu);
    expire(p, now_ms(), &gone);
    pthread_mutex_unlock(&p->mu);
    close_all(gone);
}

void flow_state_pool_counts(FlowStatePool *p, long *opened, long *reused) {
    pthread_mutex_lock(&p->mu);
    *opened = p->opened;
    *reused = p->reused;
    pthread_mutex_unlock(&p->mu);
}
