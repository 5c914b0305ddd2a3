/*
 * worker.h -- a worker thread: one libevent base serving its connections.
 *
 * The listener hands accepted fds to workers round-robin through
 * worker_dispatch(): a mutex-protected queue plus an eventfd wake-up.  Each
 * worker owns its connections, its statistics and a small cache of read
 * buffers.
 */
#ifndef STASHD_DAEMON_WORKER_H
#define STASHD_DAEMON_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/stats.h"
#include "daemon/task.h"

struct conn;
struct event;
struct event_base;
struct server;

#define WORKER_RBUF_SIZE 65536  /* resting read buffer size */
#define WORKER_RBUF_CACHE 16    /* idle read buffers kept per worker */

/* struct worker_task: work posted to a worker's thread (daemon/task.h). */

struct worker_handoff {
    int fd;
    bool is_unix;
    bool tls;               /* a -Z listener's: speak TLS */
    char listen_addr[64];
};

struct worker {
    struct server *srv;
    int id;
    pthread_t thread;
    bool started;               /* thread is running */
    struct event_base *base;
    struct event *notify_ev;
    struct event *tick_ev;
    int notify_fd;              /* eventfd */

    pthread_mutex_t qlock;      /* guards queue, nqueue, stop, tasks */
    struct worker_handoff *queue;
    size_t nqueue;
    size_t cap_queue;
    bool stop;
    struct worker_task *tasks;  /* posted work (worker_post) */

    pthread_mutex_t conns_lock; /* guards the list links (stats conns) */
    struct conn *conns;

    char *rbufs[WORKER_RBUF_CACHE];
    int nrbufs;

    struct thread_stats stats;
};

/* Create worker id of srv (not started).  NULL on failure. */
struct worker *worker_create(struct server *srv, int id);

/* Start its thread.  0 or -1. */
int worker_start(struct worker *w);

/* Ask its thread to stop and join it (idempotent).  Stop every worker
 * before destroying any: a running worker reads the others (stats sums
 * their counters, a wake posts to their queues). */
void worker_stop(struct worker *w);

/* Stop it if still running; then free it with its connections. */
void worker_destroy(struct worker *w);

/* Hand an accepted fd to w (any thread).  0, or -1 if it could not be
 * queued (the caller closes the fd). */
int worker_dispatch(struct worker *w, const struct worker_handoff *h);

/* Ring w's eventfd (any thread): it then drains its hand-off queue and
 * runs its posted tasks. */
void worker_wake(struct worker *w);

/* Post the chain first..last (linked by next) to w's thread and ring it.
 * Any thread; w must outlive the post (its destroy drops what is left). */
void worker_post(struct worker *w, struct worker_task *first,
                 struct worker_task *last);

/* A resting-size read buffer from w's cache (or a new one); NULL on OOM. */
char *worker_rbuf_borrow(struct worker *w);

/* Give a resting-size read buffer back to w's cache. */
void worker_rbuf_return(struct worker *w, char *buf);

/* "stats conns" lines of each of w's connections (conn_stats), under
 * its conns lock; any thread.  now: the current rel time. */
void worker_stats_conns(struct worker *w, uint32_t now, stats_emit_fn emit,
                        void *ctx);

/* Link / unlink c in w's connection list. */
void worker_conn_link(struct worker *w, struct conn *c);
void worker_conn_unlink(struct worker *w, struct conn *c);

#endif
