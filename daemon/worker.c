/*
 * worker.c -- worker threads: an event base each, fed new connections by
 * the listener through a queue and an eventfd.
 *
 * Locks: qlock guards the hand-off queue and the stop flag (listener and
 * worker); conns_lock guards the connection list links, written by the
 * worker and read by whichever worker runs "stats conns".  Neither is held
 * while calling into the store.
 */
#include "daemon/worker.h"

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/tls.h"
#include "slab/clock.h"
#include "slab/lock.h"

static void
worker_on_notify(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct worker_handoff batch[64];
    struct worker_task *tasks = NULL;
    size_t n;
    uint64_t v;
    bool stop;

    (void)what;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
        log_warn("worker %d: eventfd read failed: %s", w->id,
                 strerror(errno));
    }
    for (;;) {
        lock_take(&w->qlock, LOCK_WORKER);
        n = w->nqueue < 64 ? w->nqueue : 64;
        if (n > 0) {
            memcpy(batch, w->queue, n * sizeof(batch[0]));
            memmove(w->queue, w->queue + n,
                    (w->nqueue - n) * sizeof(batch[0]));
            w->nqueue -= n;
        }
        stop = w->stop;
        if (tasks == NULL) {
            tasks = w->tasks;
            w->tasks = NULL;
        }
        pthread_mutex_unlock(&w->qlock);
        for (size_t i = 0; i < n; i++) {
            struct conn *c = conn_create(w, batch[i].fd, batch[i].is_unix,
                                         batch[i].listen_addr);

            if (c != NULL && batch[i].tls &&
                conn_start_tls(c, w->srv->tls) != 0) {
                log_warn("cannot start TLS on a new connection");
                conn_destroy(c);
            }
            /* after conn_create counted it in curr_conns */
            __atomic_sub_fetch(&w->srv->pending_conns, 1, __ATOMIC_RELAXED);
        }
        if (n < 64) {
            break;
        }
    }
    while (tasks != NULL) {
        struct worker_task *t = tasks;

        tasks = t->next;    /* run() may free t */
        t->run(t);
    }
    if (stop) {
        event_base_loopbreak(w->base);
    }
}

/*
 * Four times a second: close connections idle past -o idle_timeout.  The
 * clock counts whole seconds, so "idle > timeout" first holds between
 * timeout and timeout + 1 s after the last request; checking every 250 ms
 * instead of every second closes within timeout + 1.25 s, not + 2 s.
 */
static void
worker_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    long timeout = w->srv->settings->idle_timeout;
    uint32_t now = clock_now(w->srv->clock);
    struct conn *c, *next;

    (void)fd;
    (void)what;
    for (c = w->conns; c != NULL; c = next) {
        next = c->next;
        /* a request parked in mg w waits on the server, not the client:
         * not idle (its deadline is the w flag's) */
        if (timeout > 0 && c->ws.waiter == NULL &&
            now - c->last_cmd > (uint32_t)timeout) {
            log_info("closing idle connection %d", c->fd);
            STAT_INC(&w->stats, idle_kicks);
            conn_destroy(c);
        } else if (conn_tls_handshaking(c) &&
                   now - c->last_cmd >
                       (uint32_t)tls_handshake_timeout(w->srv->tls)) {
            /* a handshake never costs the worker time, but a stalled one
             * would hold a connection slot (-c) for good */
            log_info("closing connection %d: TLS handshake timed out",
                     c->fd);
            conn_destroy(c);
        }
    }
}

void
worker_post(struct worker *w, struct worker_task *first,
            struct worker_task *last)
{
    lock_take(&w->qlock, LOCK_WORKER);
    last->next = w->tasks;
    w->tasks = first;
    pthread_mutex_unlock(&w->qlock);
    worker_wake(w);
}

void
worker_stats_conns(struct worker *w, uint32_t now, stats_emit_fn emit,
                   void *ctx)
{
    lock_take(&w->conns_lock, LOCK_WORKER);
    for (struct conn *c = w->conns; c != NULL; c = c->next) {
        conn_stats(c, now, emit, ctx);
    }
    pthread_mutex_unlock(&w->conns_lock);
}

/*
 * The worker's own event base, without libevent's locks: only the worker
 * thread touches it once the thread runs (other threads reach a worker
 * through its queue and eventfd), and main() adds the UDP readers before
 * worker_start().  That saves a lock and an unlock per event.
 */
static struct event_base *
worker_base_new(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;

    if (cfg == NULL) {
        return NULL;
    }
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

struct worker *
worker_create(struct server *srv, int id)
{
    struct worker *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        return NULL;
    }
    w->srv = srv;
    w->id = id;
    pthread_mutex_init(&w->qlock, NULL);
    pthread_mutex_init(&w->conns_lock, NULL);
    w->notify_fd = -1;
    w->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->base = worker_base_new();
    if (w->notify_fd < 0 || w->base == NULL) {
        goto fail;
    }
    w->notify_ev = event_new(w->base, w->notify_fd, EV_READ | EV_PERSIST,
                             worker_on_notify, w);
    if (w->notify_ev == NULL || event_add(w->notify_ev, NULL) != 0) {
        goto fail;
    }
    if (srv->settings->idle_timeout > 0 || srv->tls != NULL) {
        struct timeval quarter = {0, 250000};

        w->tick_ev = event_new(w->base, -1, EV_PERSIST, worker_on_tick, w);
        if (w->tick_ev == NULL || event_add(w->tick_ev, &quarter) != 0) {
            goto fail;
        }
    }
    return w;
fail:
    log_error("worker %d: setup failed: %s", id, strerror(errno));
    worker_destroy(w);
    return NULL;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    event_base_dispatch(w->base);
    return NULL;
}

int
worker_start(struct worker *w)
{
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        return -1;
    }
    w->started = true;
    return 0;
}

void
worker_wake(struct worker *w)
{
    uint64_t one = 1;

    if (write(w->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        log_warn("worker %d: eventfd write failed: %s", w->id,
                 strerror(errno));
    }
}

void
worker_stop(struct worker *w)
{
    if (w == NULL || !w->started) {
        return;
    }
    lock_take(&w->qlock, LOCK_WORKER);
    w->stop = true;
    pthread_mutex_unlock(&w->qlock);
    worker_wake(w);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void
worker_destroy(struct worker *w)
{
    if (w == NULL) {
        return;
    }
    worker_stop(w);
    while (w->conns != NULL) {
        conn_destroy(w->conns);
    }
    /* after its connections: no waiter of w is left in the registry, so
     * nothing posts to w any more */
    lock_take(&w->qlock, LOCK_WORKER);
    while (w->tasks != NULL) {
        struct worker_task *t = w->tasks;

        w->tasks = t->next;
        t->drop(t);
    }
    pthread_mutex_unlock(&w->qlock);
    for (size_t i = 0; i < w->nqueue; i++) {
        close(w->queue[i].fd);
        __atomic_sub_fetch(&w->srv->pending_conns, 1, __ATOMIC_RELAXED);
    }
    free(w->queue);
    for (int i = 0; i < w->nrbufs; i++) {
        free(w->rbufs[i]);
    }
    if (w->tick_ev != NULL) {
        event_free(w->tick_ev);
    }
    if (w->notify_ev != NULL) {
        event_free(w->notify_ev);
    }
    if (w->base != NULL) {
        event_base_free(w->base);
    }
    if (w->notify_fd >= 0) {
        close(w->notify_fd);
    }
    pthread_mutex_destroy(&w->qlock);
    pthread_mutex_destroy(&w->conns_lock);
    free(w);
}

int
worker_dispatch(struct worker *w, const struct worker_handoff *h)
{
    lock_take(&w->qlock, LOCK_WORKER);
    if (w->nqueue == w->cap_queue) {
        size_t cap = w->cap_queue ? w->cap_queue * 2 : 64;
        struct worker_handoff *q = realloc(w->queue, cap * sizeof(*q));

        if (q == NULL) {
            pthread_mutex_unlock(&w->qlock);
            return -1;
        }
        w->queue = q;
        w->cap_queue = cap;
    }
    w->queue[w->nqueue++] = *h;
    pthread_mutex_unlock(&w->qlock);
    worker_wake(w);
    return 0;
}

char *
worker_rbuf_borrow(struct worker *w)
{
    if (w->nrbufs > 0) {
        return w->rbufs[--w->nrbufs];
    }
    return malloc(WORKER_RBUF_SIZE);
}

void
worker_rbuf_return(struct worker *w, char *buf)
{
    if (w->nrbufs < WORKER_RBUF_CACHE) {
        w->rbufs[w->nrbufs++] = buf;
    } else {
        free(buf);
    }
}

void
worker_conn_link(struct worker *w, struct conn *c)
{
    lock_take(&w->conns_lock, LOCK_WORKER);
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns != NULL) {
        w->conns->prev = c;
    }
    w->conns = c;
    pthread_mutex_unlock(&w->conns_lock);
}

void
worker_conn_unlink(struct worker *w, struct conn *c)
{
    lock_take(&w->conns_lock, LOCK_WORKER);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    pthread_mutex_unlock(&w->conns_lock);
}
