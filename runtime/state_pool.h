/* state_pool.h — open state stores (state.c) kept for reuse by a long-lived, threaded process
 * (`flowc server`: its request threads and its jobs' threads read and write the runs' state stores),
 * so that a request does not pay a new SQLite open, or a new PostgreSQL session (connect,
 * authentication, session setup, the store's check), before its first query. */
#ifndef FLOWC_RUNTIME_STATE_POOL_H
#define FLOWC_RUNTIME_STATE_POOL_H
#include "engine.h"   /* FlowState, FlowErr */

#define FLOW_STATE_POOL_IDLE_MAX 16        /* idle stores kept at most (the least recently used one makes room) */
#define FLOW_STATE_POOL_IDLE_MS 30000      /* an idle store is closed after this long unused */

typedef struct FlowStatePool FlowStatePool;

/* A pool over the stores of db (a PostgreSQL DSN: each integration's schema there) or, with db NULL
 * or "", the SQLite files in dir (flow_state_open_at's arguments); thread-safe. */
FlowStatePool *flow_state_pool_new(const char *db, const char *dir);
/* Closes every store it keeps (none may be taken). NULL is fine. */
void flow_state_pool_free(FlowStatePool *p);
/* The store of integration for one user at a time until flow_state_pool_give: an idle one of that
 * integration that can be reused (flow_state_reusable; one that cannot is closed), opened read-write
 * unless read_only (a read-only user may be given one opened read-write, never the other way), or
 * else a new one (flow_state_open_at). NULL with err. */
FlowState *flow_state_pool_take(FlowStatePool *p, const char *integration, int read_only, FlowErr *err);
/* Gives a taken store back: kept for the next user when ok (its user met no store error), it can be
 * reused and its integration was not forgotten meanwhile, else closed. NULL is fine. */
void flow_state_pool_give(FlowStatePool *p, FlowState *st, int ok);
/* Closes integration's idle stores, and its taken ones when they are given back (it was deleted or
 * changed: the next user opens it afresh). */
void flow_state_pool_forget(FlowStatePool *p, const char *integration);
/* Closes the stores idle longer than FLOW_STATE_POOL_IDLE_MS (take and give do it too; a timer calls
 * this while no request comes). */
void flow_state_pool_sweep(FlowStatePool *p);
/* What the pool did since it was made: stores opened, and takes served by a kept one. */
void flow_state_pool_counts(FlowStatePool *p, long *opened, long *reused);

/* (state.c) Whether st may be kept for another user: not an immutable read-only open, no transaction
 * or run lock of its user's left, its connection stands with no statement out (flow_db_reusable),
 * and a SQLite store's file is still the one it opened (not removed or made again). */
int flow_state_reusable(FlowState *st);

#endif
