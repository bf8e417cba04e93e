/* writer.c — a destination's bytes written to a file descriptor by a thread of their own
 * (FlowWriter, engine.h), several pages at once, so that an import's write(2)s — waiting on a pipe's
 * reader or the page cache's writeback — are few and large and overlap the engine's work on the next
 * pages. The engine thread appends pages to one buffer while the writer thread writes the other; a
 * buffer goes to the thread once it holds FLOW_WRITER_BATCH bytes. Each page's end is kept as an
 * offset in the stream, so the engine learns which pages' bytes are out (flow_writer_ready) and each
 * page's outcome (flow_writer_finish): exactly what writing the bytes in the engine thread would have
 * given, down to a write that failed part of the way (the pages wholly before it are out). After a
 * failure nothing more is written. The thread blocks every signal: an interruption stays the engine
 * thread's (its reads see EINTR), and SIGPIPE is ignored by the CLI, so a closed reader is EPIPE. */
#include "engine.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A buffer is POSTED by the engine, then WRITING by the writer thread (or taken back by the engine,
 * which writes it itself when the thread has not started on it by the time the engine needs the
 * outcome: on a machine whose cores are busy the thread costs no waiting), then DONE. Whoever
 * sleeps says so (sleeping, waiting) under mu, so the other wakes it only then. */
enum { W_IDLE, W_POSTED, W_WRITING, W_DONE };
/* a smaller buffer is not worth a hand-over (a wake-up, a context switch: measured slower for 4 KB
 * pages); a larger one keeps more pages in flight (memory) for few fewer write(2)s */
#define FLOW_WRITER_BATCH (64 * 1024)

struct FlowWriter {
    FlowBuf fill, busy;     /* the pages being made (engine thread), the buffer being written */
    int fd;
    int err;                /* the busy buffer's write: its errno, and how many of its bytes went out */
    size_t done;
    uint64_t base;          /* the stream offset of fill's first byte */
    uint64_t out;           /* every byte before it is written */
    int fail;               /* the first write that failed: its errno (nothing is written after it) */
    uint64_t page_at;       /* the stream offset where the page being put began */
    uint64_t *ends;         /* the pages ended and not finished, oldest first: their end offsets */
    int head, n, cap;
    atomic_int state;
    atomic_int sleeping, waiting, quit;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t go, wake;
    pthread_t th;
};

FlowWriter *flow_writer_new(int fd) {
    FlowWriter *w = flow_xcalloc(1, sizeof(FlowWriter));
    w->fd = fd;
    atomic_init(&w->state, W_IDLE);
    atomic_init(&w->sleeping, 0);
    atomic_init(&w->waiting, 0);
    atomic_init(&w->quit, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->go, NULL);
    pthread_cond_init(&w->wake, NULL);
    return w;
}

int flow_writer_put(FlowWriter *w, const char *p, size_t n) {
    if (w->fill.n + n > w->fill.cap) {
        size_t cap = w->fill.cap ? w->fill.cap : 16 * 1024;
        while (cap < w->fill.n + n) cap *= 2;
        char *np = realloc(w->fill.p, cap);
        if (!np) { w->fill.oom = 1; return -1; }
        w->fill.p = np;
        w->fill.cap = cap;
    }
    memcpy(w->fill.p + w->fill.n, p, n);
    w->fill.n += n;
    return 0;
}

/* n bytes to fd, *done of them written (a short write goes on, EINTR is retried): 0, or the errno */
static int write_part(int fd, const char *p, size_t n, size_t *done) {
    *done = 0;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return errno ? errno : EIO;
        if (k == 0) return EIO;
        p += k;
        n -= (size_t)k;
        *done += (size_t)k;
    }
    return 0;
}

int flow_write_all(int fd, const char *p, size_t n) {
    size_t done;
    return write_part(fd, p, n, &done);
}

/* the writer thread: each buffer posted, until it is told to quit */
static void *writer_main(void *arg) {
    FlowWriter *w = arg;
    for (;;) {
        int posted = W_POSTED;
        if (atomic_compare_exchange_strong(&w->state, &posted, W_WRITING)) {
            w->err = write_part(w->fd, w->busy.p, w->busy.n, &w->done);
            atomic_store(&w->state, W_DONE);
            if (atomic_load(&w->waiting)) {
                pthread_mutex_lock(&w->mu);
                pthread_cond_signal(&w->wake);
                pthread_mutex_unlock(&w->mu);
            }
            continue;
        }
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->sleeping, 1);
        while (atomic_load(&w->state) != W_POSTED && !atomic_load(&w->quit)) pthread_cond_wait(&w->go, &w->mu);
        atomic_store(&w->sleeping, 0);
        pthread_mutex_unlock(&w->mu);
        if (atomic_load(&w->quit) && atomic_load(&w->state) != W_POSTED) break;
    }
    return NULL;
}

/* the busy buffer's outcome taken in (out moves on, a failure is kept); block 0: only when its write
 * is over already. 1 when no write is going on any more. */
static int collect(FlowWriter *w, int block) {
    int st = atomic_load(&w->state);
    if (st == W_IDLE) return 1;
    if (st != W_DONE && !block) return 0;
    int posted = W_POSTED;
    if (atomic_compare_exchange_strong(&w->state, &posted, W_IDLE)) {
        w->err = write_part(w->fd, w->busy.p, w->busy.n, &w->done);   /* the thread has not begun it: written here */
    } else if (posted == W_WRITING) {
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->waiting, 1);
        while (atomic_load(&w->state) != W_DONE) pthread_cond_wait(&w->wake, &w->mu);
        atomic_store(&w->waiting, 0);
        pthread_mutex_unlock(&w->mu);
    }
    atomic_store(&w->state, W_IDLE);
    w->out += w->done;
    if (w->err && !w->fail) w->fail = w->err;
    w->err = 0;
    w->done = 0;
    w->busy.n = 0;
    return 1;
}

/* the pages in fill go out: to the thread (wait 0), or written here and now (wait 1) */
static void hand_over(FlowWriter *w, int wait) {
    collect(w, 1);   /* one buffer at a time */
    if (w->fail || !w->fill.n) return;
    FlowBuf t = w->busy;
    w->busy = w->fill;
    w->fill = t;
    w->fill.n = 0;
    w->base += w->busy.n;
    if (!wait && !w->started) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread starts with every signal blocked */
        w->started = pthread_create(&w->th, NULL, writer_main, w) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    atomic_store(&w->state, W_POSTED);
    if (wait || !w->started) { collect(w, 1); return; }   /* (no thread: written here, now) */
    if (atomic_load(&w->sleeping)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->go);
        pthread_mutex_unlock(&w->mu);
    }
}

uint64_t flow_writer_mark(FlowWriter *w) {
    uint64_t end = w->base + w->fill.n;
    if (w->fill.n >= FLOW_WRITER_BATCH) hand_over(w, 0);
    return end;
}

void flow_writer_unput(FlowWriter *w, uint64_t mark) {
    if (mark >= w->base && mark - w->base <= w->fill.n) w->fill.n = (size_t)(mark - w->base);
    w->fill.oom = 0;
}

int flow_writer_out(FlowWriter *w, uint64_t end, int wait) {
    if (end <= w->out) return 0;
    if (!w->fail) {
        if (!wait) collect(w, 0);
        else if (end > w->base) hand_over(w, 1);   /* still in fill: written now, with what came before it */
        else collect(w, 1);
    }
    if (end <= w->out) return 0;
    return w->fail ? w->fail : wait ? EIO : EAGAIN;
}

int flow_writer_flush(FlowWriter *w) { return flow_writer_out(w, w->base + w->fill.n, 1); }

uint64_t flow_writer_written(const FlowWriter *w) { return w->out; }

/* ---- pages, oldest first (the stdio import's): their ends kept here ---- */

void flow_writer_page_end(FlowWriter *w) {
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 64;
        uint64_t *e = flow_xcalloc((size_t)cap, sizeof *e);
        for (int i = 0; i < w->n; i++) e[i] = w->ends[(w->head + i) % w->cap];
        free(w->ends);
        w->ends = e;
        w->cap = cap;
        w->head = 0;
    }
    w->ends[(w->head + w->n++) % w->cap] = flow_writer_mark(w);
    w->page_at = w->base + w->fill.n;
}

void flow_writer_page_drop(FlowWriter *w) { flow_writer_unput(w, w->page_at); }

int flow_writer_ready(FlowWriter *w) {
    int k = 0;
    while (k < w->n) {
        int r = flow_writer_out(w, w->ends[(w->head + k) % w->cap], 0);
        if (r == EAGAIN) break;
        k++;
        if (r) break;   /* the page the failed write cut ends too */
    }
    return k;
}

int flow_writer_finish(FlowWriter *w) {
    if (!w->n) return 0;
    uint64_t end = w->ends[w->head];
    w->head = (w->head + 1) % w->cap;
    w->n--;
    return flow_writer_out(w, end, 1);
}

void flow_writer_free(FlowWriter *w) {
    if (!w) return;
    collect(w, 1);   /* the write going on ends; pages not handed over are not written */
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->quit, 1);
        pthread_cond_signal(&w->go);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->go);
    pthread_cond_destroy(&w->wake);
    free(w->fill.p);
    free(w->busy.p);
    free(w->ends);
    free(w);
}
