/* writer.c — a page's bytes written to a file descriptor by a thread of their own (FlowWriter,
 * engine.h), so that an import's write(2)s — waiting on a pipe's reader or the page cache's
 * writeback — overlap the engine's work on the next page. The engine thread fills one buffer while
 * the writer thread writes the other; flow_writer_wait joins the thread and gives the write's
 * outcome (an errno), exactly what writing the bytes in the engine thread would have given. The
 * thread blocks every signal: an interruption stays the engine thread's (its reads see EINTR), and
 * SIGPIPE is ignored by the CLI, so a closed reader is EPIPE. */
#include "engine.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A page is POSTED by the engine, then WRITING by the writer thread (or taken back by the engine,
 * which writes it itself when the thread has not started on it by the time the engine needs the
 * outcome: on a machine whose cores are busy the thread costs no waiting), then DONE. Whoever
 * sleeps says so (sleeping, waiting) under mu, so the other wakes it only then. */
enum { W_IDLE, W_POSTED, W_WRITING, W_DONE };
#define FLOW_WRITER_THREAD_MIN (64 * 1024)

struct FlowWriter {
    FlowBuf fill, busy;   /* the page being made (engine thread), the page being written */
    int fd, err;
    atomic_int state;
    atomic_int sleeping, waiting, quit;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    pthread_t th;
};

FlowWriter *flow_writer_new(void) {
    FlowWriter *w = flow_xcalloc(1, sizeof(FlowWriter));
    atomic_init(&w->state, W_IDLE);
    atomic_init(&w->sleeping, 0);
    atomic_init(&w->waiting, 0);
    atomic_init(&w->quit, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->go, NULL);
    pthread_cond_init(&w->done, NULL);
    return w;
}

int flow_writer_put(FlowWriter *w, const char *p, size_t n) {
    if (w->fill.n + n > w->fill.cap) {
        size_t cap = w->fill.cap ? w->fill.cap : 64 * 1024;
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

int flow_write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return errno ? errno : EIO;
        if (k == 0) return EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* the writer thread: each page posted, until it is told to quit */
static void *writer_main(void *arg) {
    FlowWriter *w = arg;
    for (;;) {
        int posted = W_POSTED;
        if (atomic_compare_exchange_strong(&w->state, &posted, W_WRITING)) {
            w->err = flow_write_all(w->fd, w->busy.p, w->busy.n);
            atomic_store(&w->state, W_DONE);
            if (atomic_load(&w->waiting)) {
                pthread_mutex_lock(&w->mu);
                pthread_cond_signal(&w->done);
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

void flow_writer_send(FlowWriter *w, int fd) {
    flow_writer_wait(w);   /* one page at a time (the engine has waited already) */
    FlowBuf t = w->busy;
    w->busy = w->fill;
    w->fill = t;
    w->fill.n = 0;
    w->fd = fd;
    w->err = 0;
    if (!w->busy.n) return;
    /* a small page is written here and now: handing it over (a wake-up, a context switch) costs
     * more than the write it would overlap (measured: 4 KB pages of 20 records) */
    if (w->busy.n < FLOW_WRITER_THREAD_MIN) { w->err = flow_write_all(fd, w->busy.p, w->busy.n); return; }
    if (!w->started) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread starts with every signal blocked */
        w->started = pthread_create(&w->th, NULL, writer_main, w) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!w->started) { w->err = flow_write_all(fd, w->busy.p, w->busy.n); return; }   /* no thread: written here, now */
    }
    atomic_store(&w->state, W_POSTED);
    if (atomic_load(&w->sleeping)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->go);
        pthread_mutex_unlock(&w->mu);
    }
}

int flow_writer_wait(FlowWriter *w) {
    int posted = W_POSTED;
    if (atomic_compare_exchange_strong(&w->state, &posted, W_IDLE)) {
        w->err = flow_write_all(w->fd, w->busy.p, w->busy.n);   /* the thread has not begun it: written here */
    } else if (posted == W_WRITING) {
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->waiting, 1);
        while (atomic_load(&w->state) != W_DONE) pthread_cond_wait(&w->done, &w->mu);
        atomic_store(&w->waiting, 0);
        pthread_mutex_unlock(&w->mu);
    }
    atomic_store(&w->state, W_IDLE);
    int e = w->err;
    w->err = 0;
    w->busy.n = 0;
    return e;
}

void flow_writer_free(FlowWriter *w) {
    if (!w) return;
    flow_writer_wait(w);
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->quit, 1);
        pthread_cond_signal(&w->go);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->go);
    pthread_cond_destroy(&w->done);
    free(w->fill.p);
    free(w->busy.p);
    free(w);
}
