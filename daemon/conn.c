/*
 * conn.c -- a client connection's life: read, parse, execute, write.
 *
 * One event per connection, registered for EV_READ while we can accept more
 * requests and for EV_WRITE only while the socket refuses our output (then
 * we stop reading: a client that does not read its replies gets no more
 * work done for it).  Per request-response round trip the common case costs
 * one read() and one sendmsg(): after answering we go back to the event loop
 * instead of trying a read that would only say EAGAIN, unless the last read
 * filled the buffer.
 *
 * The read buffer is borrowed from the worker's cache when bytes arrive and
 * returned when everything in it has been consumed, so idle connections hold
 * no read buffer.  It grows only to hold one request that the parser says is
 * larger (bounded by the parser, which rejects data blocks over -I), and goes
 * back to the resting size once that request is done.
 *
 * A storage value of REQ_STREAM_MIN bytes or more is never buffered whole:
 * the parser stops after the header (PARSE_VALUE), the executor allocates
 * the item, and the value is read straight into the item's chunks (readv
 * over its slices, never past the value's end); only what was already in
 * the read buffer is copied.  The trailing "\r\n" and what follows are
 * read into the buffer as usual; the item is linked once the trailer is
 * checked, and freed if the client leaves first.
 */
#include "daemon/conn.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/process.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/tls.h"
#include "daemon/wait.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "proto/proto.h"
#include "proto/request.h"
#include "proto/text.h"
#include "slab/clock.h"
#include "slab/store.h"

#define CONN_IOV_MAX 64         /* iovecs per sendmsg, per value readv */

/* Requests that are not streamed fit the resting read buffer. */
_Static_assert(REQ_STREAM_MIN + TEXT_LINE_MAX + 2 <= WORKER_RBUF_SIZE,
               "a buffered storage request must fit the resting rbuf");

/* A storage request whose value is being read into its item. */
struct conn_stream {
    struct request req;     /* the header, its pointers moved into hdr */
    struct item *it;        /* the staged item (process_store_begin) */
    uint64_t off;           /* value bytes written into it so far */
    char hdr[];             /* the header bytes as the client sent them */
};
/* Stop executing a connection's requests while this much output waits:
 * a client that pipelines huge multigets and reads slowly pins at most
 * about this much (plus one reply) instead of unbounded memory. */

static void conn_on_event(evutil_socket_t fd, short what, void *arg);

/*
 * readv and sendmsg without glibc's wrappers: those are cancellation points
 * that switch asynchronous cancellation on and off around the system call
 * (about 60 instructions per request on a get).  No thread of ours is ever
 * cancelled, so the raw system call does the same work.  Same contract as
 * readv(2) and sendmsg(2): -1 and errno on failure.
 */
static inline ssize_t
conn_sys_readv(int fd, const struct iovec *iov, int n)
{
    return (ssize_t)syscall(SYS_readv, fd, iov, n);
}

static inline ssize_t
conn_sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    return (ssize_t)syscall(SYS_sendmsg, fd, msg, flags);
}
static void conn_park_read(struct conn *c);
static bool conn_rbuf_account(struct conn *c, int64_t delta);
static void conn_run(struct conn *c, bool try_read);

const char *
conn_state_name(enum conn_state s)
{
    static const char *const names[] = {
        [CONN_NEW_CMD] = "conn_new_cmd",     [CONN_READ] = "conn_read",
        [CONN_PARSE_CMD] = "conn_parse_cmd", [CONN_NREAD] = "conn_nread",
        [CONN_SWALLOW] = "conn_swallow",     [CONN_MWRITE] = "conn_mwrite",
        [CONN_WAITING] = "conn_waiting",     [CONN_CLOSING] = "conn_closing",
    };

    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s]
                                                          : "conn_read";
}

void
conn_stats(const struct conn *c, uint32_t now,
           void (*emit)(void *ctx, const char *name, const char *value),
           void *ctx)
{
    char key[40], val[24];

    snprintf(key, sizeof(key), "%d:addr", c->fd);
    emit(ctx, key, c->addr);
    snprintf(key, sizeof(key), "%d:listen_addr", c->fd);
    emit(ctx, key, c->listen_addr);
    snprintf(key, sizeof(key), "%d:state", c->fd);
    emit(ctx, key,
         conn_state_name(__atomic_load_n(&c->state, __ATOMIC_RELAXED)));
    snprintf(key, sizeof(key), "%d:secs_since_last_cmd", c->fd);
    snprintf(val, sizeof(val), "%u",
             now - __atomic_load_n(&c->last_cmd, __ATOMIC_RELAXED));
    emit(ctx, key, val);
}

static void
conn_set_state(struct conn *c, enum conn_state s)
{
    __atomic_store_n(&c->state, (uint8_t)s, __ATOMIC_RELAXED);
}

static int
conn_set_events(struct conn *c, short flags)
{
    if (c->ev_flags == flags) {
        return 0;
    }
    event_del(&c->ev);
    event_assign(&c->ev, c->w->base, c->fd, flags | EV_PERSIST,
                 conn_on_event, c);
    if (event_add(&c->ev, NULL) != 0) {
        return -1;
    }
    c->ev_flags = flags;
    if (flags & EV_WRITE) {
        conn_set_state(c, c->px.closing ? CONN_CLOSING : CONN_MWRITE);
    }
    return 0;
}

/* "tcp:<ip>:<port>" of the peer, or the listener's name for unix sockets. */
static void
conn_peer_name(struct conn *c)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[48], port[8];

    if (c->is_unix || getpeername(c->fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(c->addr, sizeof(c->addr), "%s", c->listen_addr);
        return;
    }
    snprintf(c->addr, sizeof(c->addr), "tcp:%s:%s", host, port);
}

static void
conn_px_pin(void *owner, struct item *it)
{
    conn_pin(owner, it);
}

static int
conn_px_park(void *owner, struct request *req, const char *key, size_t nkey,
             uint32_t lease_ttl_left)
{
    struct conn *c = owner;

    return wait_park(&c->ws, req, key, nkey, lease_ttl_left);
}

static void
conn_ws_unpark(void *owner)
{
    conn_unpark(owner);
}

/* The executor's context: what it may touch of this connection. */
/* px->post: hand t to this connection's worker. */
static void
conn_px_post(void *owner, struct worker_task *t)
{
    struct conn *c = owner;

    worker_post(c->w, t, t);
}

/* px->resume: a dump's producer has bytes for this idle connection. */
static void
conn_px_resume(void *owner)
{
    struct conn *c = owner;

    if (!c->px.resume_idle) {
        return;
    }
    c->px.resume_idle = false;
    conn_unpark(c);
}

static void
conn_px_init(struct conn *c)
{
    c->px.srv = c->w->srv;
    c->px.store = c->w->srv->store;
    c->px.ts = &c->w->stats;
    c->px.out = &c->out;
    c->px.owner = c;
    c->px.pin = conn_px_pin;
    c->px.park = conn_px_park;
    c->px.authed = c->w->srv->auth == NULL;
    /* a detached connection cannot wait for a producer: dumps run inline */
    c->px.post = c->fd >= 0 ? conn_px_post : NULL;
    c->px.resume = conn_px_resume;
    /* and the server-side wait's (daemon/wait.h) */
    c->ws.wt = c->w->srv->wait;
    c->ws.w = c->w;
    c->ws.base = c->w->base;
    c->ws.unpark = conn_ws_unpark;
    c->ws.owner = c;
    c->ws.live = c->fd >= 0;
    c->px.fd = c->fd;
    c->px.hot = c->w->srv->hotkeys != NULL ? c->w->srv->hotkeys[c->w->id]
                                           : NULL;
}

struct conn *
conn_create(struct worker *w, int fd, bool is_unix, const char *listen_addr)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->w = w;
    c->is_unix = is_unix;
    c->last_cmd = clock_now(w->srv->clock);
    snprintf(c->listen_addr, sizeof(c->listen_addr), "%s", listen_addr);
    conn_peer_name(c);
    out_init(&c->out);
    conn_px_init(c);
    event_assign(&c->ev, w->base, fd, EV_READ | EV_PERSIST, conn_on_event, c);
    if (event_add(&c->ev, NULL) != 0) {
        close(fd);
        free(c);
        return NULL;
    }
    c->ev_flags = EV_READ;
    worker_conn_link(w, c);
    watch_conn(w->srv->watch, fd, is_unix, NULL);
    __atomic_add_fetch(&w->srv->curr_conns, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&w->srv->conn_structs, 1, __ATOMIC_RELAXED);
    return c;
}

int
conn_start_tls(struct conn *c, struct tls *t)
{
    c->tls = tls_sock_create(t, c->fd);
    /* the watch thread writes plain bytes: a TLS socket is not handed to
     * it (watch answers WATCHER_FAILED) */
    c->px.fd = -1;
    return c->tls != NULL ? 0 : -1;
}

bool
conn_tls_handshaking(const struct conn *c)
{
    return c->tls != NULL && !tls_sock_established(c->tls);
}

static void
conn_unpin_all(struct conn *c)
{
    struct store *s = c->w->srv->store;

    for (uint32_t i = 0; i < c->npins; i++) {
        store_release(s, c->pins[i]);
    }
    c->npins = 0;
}

/* Free the read buffer: cached if it has the resting size. */
static void
conn_rbuf_drop(struct conn *c)
{
    if (c->rbuf == NULL) {
        return;
    }
    conn_rbuf_account(c, -(int64_t)c->rsize);
    if (c->rsize == WORKER_RBUF_SIZE) {
        worker_rbuf_return(c->w, c->rbuf);
    } else {
        free(c->rbuf);
    }
    c->rbuf = NULL;
    c->rsize = c->rpos = c->rlen = 0;
}

void
conn_destroy(struct conn *c)
{
    struct server *srv = c->w->srv;

    if (c->ws.waiter != NULL) {
        wait_cancel(&c->ws);
    }
    if (c->fd >= 0) {
        /* a detached connection (conn_create_detached) has neither */
        event_del(&c->ev);
        tls_sock_destroy(c->tls);
        watch_conn(srv->watch, c->fd, c->is_unix, "normal");
        close(c->fd);
    }
    worker_conn_unlink(c->w, c);
    if (c->px.resume_job != NULL && c->px.resume_free != NULL) {
        c->px.resume_free(c->px.resume_job);
    }
    if (c->stream != NULL) {
        /* the client left mid-value: the item was never linked */
        store_item_abandon(srv->store, c->stream->it);
        free(c->stream);
        c->stream = NULL;
    }
    conn_unpin_all(c);
    free(c->pins);
    out_free(&c->out);
    conn_rbuf_drop(c);
    __atomic_sub_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&srv->conn_structs, 1, __ATOMIC_RELAXED);
    free(c);
}

void
conn_pin(struct conn *c, struct item *it)
{
    if (c->npins == c->cap_pins) {
        uint32_t cap = c->cap_pins ? c->cap_pins * 2 : 16;
        struct item **p = realloc(c->pins, cap * sizeof(*p));

        if (p == NULL) {
            /* cannot keep the item alive: drop the reply instead of
             * sending freed memory */
            c->out.oom = true;
            store_release(c->w->srv->store, it);
            return;
        }
        c->pins = p;
        c->cap_pins = cap;
    }
    c->pins[c->npins++] = it;
}

/*
 * Make room for more input.  The unparsed tail moves to the front; the
 * buffer grows when one request needs more than it holds.  -1 on OOM.
 */
/*
 * -o read_buf_mem_limit: count read buffer bytes held by connections.
 * Only when the limit is set, so the default costs no shared atomic per
 * request.  False if taking delta more bytes would pass the limit.
 */
static bool
conn_rbuf_account(struct conn *c, int64_t delta)
{
    struct server *srv = c->w->srv;
    uint64_t limit = srv->settings->read_buf_mem_limit;

    if (limit == 0) {
        return true;
    }
    if (delta > 0 &&
        __atomic_load_n(&srv->rbuf_bytes, __ATOMIC_RELAXED) + (uint64_t)delta >
            limit) {
        __atomic_add_fetch(&srv->read_buf_oom, 1, __ATOMIC_RELAXED);
        return false;
    }
    __atomic_add_fetch(&srv->rbuf_bytes, (uint64_t)delta, __ATOMIC_RELAXED);
    return true;
}

static int
conn_rbuf_make_room(struct conn *c)
{
    uint32_t have = c->rlen - c->rpos;
    uint32_t want;
    char *nb;

    if (c->rbuf == NULL) {
        if (!conn_rbuf_account(c, WORKER_RBUF_SIZE)) {
            return -1;
        }
        c->rbuf = worker_rbuf_borrow(c->w);
        if (c->rbuf == NULL) {
            conn_rbuf_account(c, -(int64_t)WORKER_RBUF_SIZE);
            return -1;
        }
        c->rsize = WORKER_RBUF_SIZE;
        c->rpos = c->rlen = 0;
        return 0;
    }
    if (c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
    }
    if (c->rpos > 0 && (c->rlen == c->rsize || c->rneed > c->rsize - c->rpos)) {
        memmove(c->rbuf, c->rbuf + c->rpos, have);
        c->rpos = 0;
        c->rlen = have;
    }
    if (c->rlen < c->rsize) {
        return 0;
    }
    /* size unknown (a multiget line still growing): double, so that a
     * line of n bytes costs O(log n) reallocs, not n / 64 KiB; sizes are
     * 32-bit, stop before they wrap */
    if (c->rneed <= c->rsize && c->rsize > UINT32_MAX / 2) {
        return -1;
    }
    want = c->rneed > c->rsize ? c->rneed : c->rsize * 2;
    if (!conn_rbuf_account(c, (int64_t)want - c->rsize)) {
        return -1;
    }
    if (c->rsize == WORKER_RBUF_SIZE) {
        nb = malloc(want);
        if (nb != NULL) {
            memcpy(nb, c->rbuf, c->rlen);
            worker_rbuf_return(c->w, c->rbuf);
        }
    } else {
        nb = realloc(c->rbuf, want);
    }
    if (nb == NULL) {
        conn_rbuf_account(c, (int64_t)c->rsize - want);
        return -1;
    }
    c->rbuf = nb;
    c->rsize = want;
    return 0;
}

/* One readv from the socket into iov, retried on EINTR and counted in
 * bytes_read.  Bytes read (> 0), 0: nothing to read now, -1: close (EOF
 * or error). */
static ssize_t
conn_sock_read(struct conn *c, struct iovec *iov, int n)
{
    for (;;) {
        ssize_t got;

        if (c->tls != NULL) {
            /* same contract, EINTR and EAGAIN already folded in */
            got = tls_sock_read(c->tls, iov, n);
            if (got <= 0) {
                return got;
            }
        } else {
            got = conn_sys_readv(c->fd, iov, n);
        }
        if (got > 0) {
            c->want_more = false;
            STAT_ADD(&c->w->stats, bytes_read, (uint64_t)got);
            return got;
        }
        if (got == 0) {
            return -1;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

/* Read once.  1: got bytes, 0: nothing to read now, -1: close. */
static int
conn_read(struct conn *c)
{
    struct iovec iov;
    ssize_t n;

    if (conn_rbuf_make_room(c) != 0) {
        /* as memcached: say why before closing */
        static const char oom[] =
            "SERVER_ERROR out of memory reading request\r\n";
        if (c->tls == NULL) {
            /* (not in the clear inside a TLS stream) */
            ssize_t n = write(c->fd, oom, sizeof(oom) - 1);

            (void)n;
        }
        log_warn("out of memory for a read buffer; closing connection");
        return -1;
    }
    iov.iov_base = c->rbuf + c->rlen;
    iov.iov_len = c->rsize - c->rlen;
    n = conn_sock_read(c, &iov, 1);
    if (n <= 0) {
        return (int)n;
    }
    c->read_full = (c->rlen + (uint32_t)n == c->rsize);
    c->rlen += (uint32_t)n;
    return 1;
}

/*
 * Send what out holds.  1: all sent (pins released), 0: the socket is full
 * (caller waits for EV_WRITE), -1: error (close).
 */
static int
conn_flush(struct conn *c)
{
    struct iovec iov[CONN_IOV_MAX];
    struct msghdr msg;
    ssize_t n;

    while (!out_empty(&c->out)) {
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)out_iov(&c->out, iov, CONN_IOV_MAX);
        if (c->tls != NULL) {
            n = tls_sock_write(c->tls, iov, (int)msg.msg_iovlen);
            if (n <= 0) {
                return (int)n;
            }
        } else {
            n = conn_sys_sendmsg(c->fd, &msg,
                        MSG_NOSIGNAL |
                            (c->px.out_more && !c->is_unix ? MSG_MORE : 0));
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return 0;
            }
            return -1;
        }
        STAT_ADD(&c->w->stats, bytes_written, (uint64_t)n);
        out_consume(&c->out, (size_t)n);
    }
    conn_unpin_all(c);
    return 1;
}

/* Choose the protocol from the first byte of the stream. */
static void
conn_negotiate(struct conn *c)
{
    const char *proto = c->w->srv->settings->protocol;
    bool binary = (unsigned char)c->rbuf[c->rpos] == 0x80;

    if (strcmp(proto, "ascii") == 0) {
        binary = false;
    } else if (strcmp(proto, "binary") == 0) {
        binary = true;
    }
    c->ops = binary ? &bin_proto : &text_proto;
}

/* -vv: print each request's first line, as memcached prints commands. */
static void
conn_log_request(const struct conn *c, const struct request *req)
{
    const char *p = c->rbuf + c->rpos;
    size_t n = req->consumed;
    const char *nl = memchr(p, '\n', n);

    if (req->proto == PROTO_BINARY) {
        log_info("<%d binary opcode 0x%02x", c->fd, req->bin_opcode);
        return;
    }
    if (nl != NULL) {
        n = (size_t)(nl - p);
    }
    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    log_info("<%d %.*s", c->fd, (int)(n > 200 ? 200 : n), p);
}

/*
 * Start the storage request req parsed at rpos (PARSE_VALUE): stage its
 * item, keep a copy of its header, consume the header.  If the store
 * refuses the item, answer now and swallow the value as memcached does.
 */
static void
conn_stream_begin(struct conn *c, struct request *req)
{
    struct conn_stream *st = malloc(sizeof(*st) + req->consumed);
    struct item *it = NULL;
    int rc = STORE_NO_MEMORY;

    if (st != NULL) {
        it = process_store_begin(&c->px, req, &rc);
    }
    if (it == NULL) {
        process_store(&c->px, req, NULL, rc);
        free(st);
        c->rpos += req->consumed;
        c->swallow = (uint64_t)req->vlen + req->vtrail;
        return;
    }
    memcpy(st->hdr, c->rbuf + c->rpos, req->consumed);
    req_move(&st->req, req, c->rbuf + c->rpos, req->consumed, st->hdr);
    st->it = it;
    st->off = 0;
    c->rpos += req->consumed;
    c->stream = st;
}

/* Value bytes of the streamed request still to come. */
static uint64_t
conn_stream_left(const struct conn *c)
{
    return c->stream->req.vlen - c->stream->off;
}

/*
 * Move buffered bytes into the streamed value; once it is whole and its
 * trailer is buffered, link the item and answer (a trailer other than
 * "\r\n" answers memcached's bad data chunk and drops the item).  True
 * when the request is done, false when it needs more bytes.
 */
static bool
conn_stream_step(struct conn *c)
{
    struct conn_stream *st = c->stream;
    struct iovec iov[CONN_IOV_MAX];
    bool ok;

    while (conn_stream_left(c) > 0 && c->rpos < c->rlen) {
        size_t n = store_item_wslices(st->it, st->off, iov, CONN_IOV_MAX);

        for (size_t i = 0; i < n && c->rpos < c->rlen; i++) {
            size_t k = c->rlen - c->rpos;

            if (k > iov[i].iov_len) {
                k = iov[i].iov_len;
            }
            memcpy(iov[i].iov_base, c->rbuf + c->rpos, k);
            c->rpos += (uint32_t)k;
            st->off += k;
        }
    }
    if (conn_stream_left(c) > 0 || c->rlen - c->rpos < st->req.vtrail) {
        return false;
    }
    ok = st->req.vtrail == 0 || memcmp(c->rbuf + c->rpos, "\r\n", 2) == 0;
    c->rpos += st->req.vtrail;
    c->stream = NULL;
    if (ok) {
        process_store(&c->px, &st->req, st->it, STORE_OK);
    } else {
        /* memcached reads exactly <bytes> + 2 and rejects them whole */
        store_item_abandon(c->w->srv->store, st->it);
        st->req.err = "CLIENT_ERROR bad data chunk";
        process_parse_error(&c->px, c->ops, &st->req);
    }
    free(st);
    return true;
}

/* A streamed value whose last byte is in and that has no trailer: ready
 * to link without reading more. */
static bool
conn_stream_ready(const struct conn *c)
{
    return c->stream != NULL && conn_stream_left(c) == 0 &&
           c->stream->req.vtrail == 0;
}

/* Read the streamed value straight into its item, never past its end.
 * 1: got bytes, 0: nothing to read now, -1: close. */
static int
conn_read_value(struct conn *c)
{
    struct conn_stream *st = c->stream;
    struct iovec iov[CONN_IOV_MAX];
    size_t n = store_item_wslices(st->it, st->off, iov, CONN_IOV_MAX);
    size_t want = 0;
    ssize_t got;

    for (size_t i = 0; i < n; i++) {
        want += iov[i].iov_len;
    }
    got = conn_sock_read(c, iov, (int)n);
    if (got <= 0) {
        return (int)got;
    }
    st->off += (uint64_t)got;
    c->read_full = (size_t)got == want;
    return 1;
}

enum conn_exec {
    EXEC_IDLE,      /* buffer consumed or holds an incomplete request */
    EXEC_YIELD,     /* the per-event request budget is used up */
    EXEC_FULL,      /* CONN_OUT_HIGH bytes of output wait: send first */
    EXEC_CLOSE,     /* the connection must close after flushing */
    EXEC_PARKED,    /* the request at rpos is parked (daemon/wait.h) */
    EXEC_PAUSED,    /* the request at rpos stopped midway (a dump, a long
                     * multiget): send, then resume on a later event */
};

/*
 * Execute an mg with w, armed for the server-side wait (daemon/wait.h).
 * True if it parked: it stays unconsumed at rpos and runs again when
 * resumed.  Otherwise its deadline is over with it.
 */
static bool
conn_process_wait(struct conn *c, struct request *req)
{
    wait_arm(&c->ws, req);
    process_request(&c->px, req);
    if (!c->ws.armed) {
        return false;
    }
    wait_disarm(&c->ws);
    if (c->ws.waiter != NULL) {
        return true;
    }
    c->ws.deadline = 0;
    c->ws.expired = false;
    return false;
}

/* Parse for a connection not yet authenticated: under -Y a text one may
 * send only the ascii auth request. */
static int
conn_parse_unauthed(struct conn *c, struct request *req)
{
    const char *p = c->rbuf + c->rpos;
    size_t n = c->rlen - c->rpos;

    if (c->ops == &text_proto) {
        return text_auth_parse(req, p, n);
    }
    return c->ops->parse(req, p, n);
}

/*
 * A get/gets line of CONN_GET_CUT bytes or more and no newline yet: answer
 * the keys of its head now and keep only "get <tail>" (text_parse_get_head),
 * so that however long the line, its read buffer stays at the resting
 * size.  (memcached 1.6.18 buffers the whole line first; the reply is the
 * same bytes unless a key past the first head is over 250 bytes: then the
 * heads already answered stay answered before the CLIENT_ERROR.)
 */
static enum conn_exec
conn_get_head(struct conn *c, long *budget)
{
    struct request req;
    char *line = c->rbuf + c->rpos;
    int rc = text_parse_get_head(&req, line, c->rlen - c->rpos);

    c->rscan = 0;
    if (rc == PARSE_AGAIN) {
        c->want_more = true;
        return EXEC_IDLE;
    }
    (*budget)--;
    if (rc == PARSE_ERROR) {
        process_parse_error(&c->px, c->ops, &req);
        c->rpos = c->rlen;
        c->skipline = true;
        return EXEC_IDLE;
    }
    if (log_get_level() >= LOG_INFO) {
        conn_log_request(c, &req);
    }
    __atomic_store_n(&c->last_cmd, clock_now(c->w->srv->clock),
                     __ATOMIC_RELAXED);
    if (process_request(&c->px, &req) == PROCESS_PAUSED) {
        /* the buffer stays as it is: the same head runs on from the
         * executor's key cursor */
        return EXEC_PAUSED;
    }
    c->rlen = c->rpos + req.consumed + req.keep + req.nkeep_trail;
    c->rpos += (uint32_t)text_get_continue(line, &req);
    c->want_more = true;
    return EXEC_IDLE;
}

/* Parse and execute buffered requests until the buffer needs more bytes,
 * the budget is used up, the connection must close or a request parks
 * (then it stays unconsumed at rpos, to run again when resumed). */
static enum conn_exec
conn_execute(struct conn *c, long *budget)
{
    struct request req;
    int rc;

    for (;;) {
        if (c->stream != NULL) {
            if (!conn_stream_step(c)) {
                c->want_more = true;
                return EXEC_IDLE;
            }
            (*budget)--;
            if (c->px.closing) {
                return EXEC_CLOSE;
            }
            continue;
        }
        if (c->rpos >= c->rlen) {
            break;
        }
        if (c->swallow > 0) {
            uint32_t n = c->rlen - c->rpos;

            if (n > c->swallow) {
                n = (uint32_t)c->swallow;
            }
            c->rpos += n;
            c->swallow -= n;
            continue;
        }
        if (c->skipline) {
            const char *nl =
                memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);

            c->skipline = nl == NULL;
            c->rpos = nl == NULL ? c->rlen : (uint32_t)(nl - c->rbuf) + 1;
            continue;
        }
        if (*budget == 0) {
            return EXEC_YIELD;
        }
        if (c->out.pending >= CONN_OUT_HIGH) {
            return EXEC_FULL;
        }
        if (c->ops == NULL) {
            conn_negotiate(c);
        }
        if (c->rscan > 0) {
            /* only the new bytes can hold the newline the line waits for */
            if (memchr(c->rbuf + c->rpos + c->rscan, '\n',
                       c->rlen - c->rpos - c->rscan) == NULL) {
                if (c->rlen - c->rpos >= CONN_GET_CUT && c->px.authed) {
                    return conn_get_head(c, budget);
                }
                c->rscan = c->rlen - c->rpos;
                c->want_more = true;
                return EXEC_IDLE;
            }
            c->rscan = 0;
        }
        if (c->px.authed) {
            rc = c->ops->parse(&req, c->rbuf + c->rpos, c->rlen - c->rpos);
        } else {
            rc = conn_parse_unauthed(c, &req);
            if (process_auth_refused(&c->px, &req, rc)) {
                return EXEC_CLOSE;
            }
        }
        switch (rc) {
        case PARSE_OK:
            (*budget)--;
            if (log_get_level() >= LOG_INFO) {
                conn_log_request(c, &req);
            }
            /* atomic: stats conns reads it from another worker */
            __atomic_store_n(&c->last_cmd, clock_now(c->w->srv->clock),
                             __ATOMIC_RELAXED);
            if (req.proto == PROTO_META && req.wait_ms != 0) {
                /* one test on the common path; mg w runs armed */
                if (conn_process_wait(c, &req)) {
                    return EXEC_PARKED;
                }
            } else if (process_request(&c->px, &req) == PROCESS_PAUSED) {
                /* stays at rpos; runs again once out has drained, or
                 * (idle) once its producer calls px.resume */
                return c->px.resume_idle ? EXEC_PARKED : EXEC_PAUSED;
            }
            c->rpos += req.consumed;
            if (c->px.closing) {
                return EXEC_CLOSE;
            }
            break;
        case PARSE_VALUE:
            if (log_get_level() >= LOG_INFO) {
                conn_log_request(c, &req);
            }
            __atomic_store_n(&c->last_cmd, clock_now(c->w->srv->clock),
                             __ATOMIC_RELAXED);
            conn_stream_begin(c, &req);
            break;
        case PARSE_AGAIN:
            if (req.need == 0 && c->ops == &text_proto && c->px.authed &&
                c->rlen - c->rpos >= CONN_GET_CUT) {
                return conn_get_head(c, budget);
            }
            c->want_more = true;
            c->rneed = req.need;
            /* a text line without newline past TEXT_LINE_MAX: the parser
             * said it may grow (get/gets), and more bytes without a newline
             * cannot change that; don't rescan it on every read */
            if (req.need == 0 && c->ops == &text_proto &&
                c->rlen - c->rpos > TEXT_LINE_MAX) {
                c->rscan = c->rlen - c->rpos;
            }
            return EXEC_IDLE;
        case PARSE_ERROR:
            (*budget)--;
            process_parse_error(&c->px, c->ops, &req);
            c->rpos += req.consumed;
            c->swallow = req.swallow;
            break;
        default: /* PARSE_CLOSE */
            if (req.err != NULL) {
                c->ops->error(&c->out, &req, req.err);
            }
            c->px.closing = true;
            return EXEC_CLOSE;
        }
        c->rneed = 0;
    }
    return EXEC_IDLE;
}

/* Between events: drop the read buffer if it holds nothing. */
static void
conn_rest(struct conn *c)
{
    /* what it waits for now, for stats conns */
    if (c->stream != NULL || (c->want_more && c->rneed > 0)) {
        /* a value (or the rest of a binary request) is due */
        conn_set_state(c, CONN_NREAD);
    } else if (c->swallow > 0 || c->skipline) {
        conn_set_state(c, CONN_SWALLOW);
    } else {
        conn_set_state(c, CONN_READ);
    }
    if (c->rbuf != NULL && c->rpos == c->rlen) {
        conn_rbuf_drop(c);
    } else if (c->rbuf != NULL && c->rsize > WORKER_RBUF_SIZE &&
               !c->want_more && c->rlen - c->rpos <= WORKER_RBUF_SIZE) {
        /* the large request is done: shrink back to the resting size */
        char *nb = worker_rbuf_borrow(c->w);

        if (nb != NULL) {
            uint32_t have = c->rlen - c->rpos;

            memcpy(nb, c->rbuf + c->rpos, have);
            conn_rbuf_account(c, (int64_t)WORKER_RBUF_SIZE - c->rsize);
            free(c->rbuf);
            c->rbuf = nb;
            c->rsize = WORKER_RBUF_SIZE;
            c->rpos = 0;
            c->rlen = have;
        }
    }
}

/*
 * Drive the connection: execute what is buffered, send, read more while
 * reading may find bytes.  try_read says whether the socket may have bytes
 * (an EV_READ event) before anything else is known.
 */
static void
conn_run(struct conn *c, bool try_read)
{
    long budget = c->w->srv->settings->reqs_per_event;
    enum conn_exec ex = EXEC_IDLE;
    int rc;

    if (c->ws.waiter != NULL || c->px.resume_idle) {
        conn_park_read(c);
        return;
    }
    conn_set_state(c, CONN_PARSE_CMD);
    for (;;) {
        if ((c->rpos < c->rlen && !c->want_more) || conn_stream_ready(c)) {
            ex = conn_execute(c, &budget);
        }
        if (c->out.oom) {
            log_warn("out of memory building a reply; closing connection");
            conn_destroy(c);
            return;
        }
        if (!out_empty(&c->out)) {
            rc = conn_flush(c);
            if (rc < 0) {
                conn_destroy(c);
                return;
            }
            if (rc == 0) {
                if (conn_set_events(c, EV_WRITE) != 0) {
                    conn_destroy(c);
                }
                return;
            }
        }
        if (ex == EXEC_CLOSE || c->px.closing) {
            conn_destroy(c);
            return;
        }
        if (ex == EXEC_PAUSED) {
            /* everything was sent: resume on the next writable event, not
             * now, so that the worker's other connections (polled between
             * events; event_active would starve them) have their turn
             * while a long dump is read by a fast client */
            if (conn_set_events(c, EV_WRITE) != 0) {
                conn_destroy(c);
            }
            return;
        }
        if (ex == EXEC_FULL) {
            /* everything was sent: go on with the buffered requests */
            ex = EXEC_IDLE;
            continue;
        }
        if (ex == EXEC_YIELD) {
            STAT_INC(&c->w->stats, conn_yields);
            event_active(&c->ev, EV_READ, 0);
            return;
        }
        if (ex == EXEC_PARKED) {
            /* replies before the parked request are out; EV_READ stays on
             * so a client that goes away is noticed (conn_park_read) */
            conn_set_state(c, CONN_WAITING);
            if (c->px.resume_idle && conn_set_events(c, EV_READ) != 0) {
                /* a dump waiting for its producer: a client that leaves
                 * is noticed by reading, as a parked one is */
                conn_destroy(c);
            }
            return;
        }
        if (!try_read && (c->tls == NULL || !tls_sock_pending(c->tls))) {
            /* (decrypted bytes inside OpenSSL never wake EV_READ) */
            break;
        }
        if (c->stream != NULL && c->rpos == c->rlen &&
            conn_stream_left(c) > 0) {
            rc = conn_read_value(c);
        } else {
            rc = conn_read(c);
        }
        if (rc < 0) {
            conn_destroy(c);
            return;
        }
        if (rc == 0) {
            if (c->tls != NULL && tls_sock_want_write(c->tls) &&
                conn_set_events(c, EV_WRITE) != 0) {
                /* a handshake message waits for room: the EV_WRITE
                 * event flushes nothing and reads again */
                conn_destroy(c);
                return;
            }
            break;
        }
        try_read = c->read_full;
    }
    conn_rest(c);
}

/*
 * A parked connection was readable: buffer what the client sent, execute
 * nothing.  The buffer does not grow while parked; once it is full we stop
 * reading until conn_unpark().  EOF or an error closes the connection,
 * which takes its waiter out of the registry.
 */
static void
conn_park_read(struct conn *c)
{
    for (;;) {
        int rc;

        if (c->rpos == 0 && c->rlen == c->rsize) {
            event_del(&c->ev);
            c->ev_flags = 0;
            return;
        }
        rc = conn_read(c);
        if (rc < 0) {
            conn_destroy(c);
            return;
        }
        if (rc == 0 || !c->read_full) {
            return;
        }
    }
}

void
conn_unpark(struct conn *c)
{
    if (c->ev_flags == 0 && conn_set_events(c, EV_READ) != 0) {
        conn_destroy(c);
        return;
    }
    conn_run(c, false);
}

static void
conn_on_event(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    if (c->ev_flags & EV_WRITE) {
        int rc = conn_flush(c);

        if (rc < 0) {
            conn_destroy(c);
            return;
        }
        if (rc == 0) {
            return;
        }
        if (c->px.closing) {
            conn_destroy(c);
            return;
        }
        if (conn_set_events(c, EV_READ) != 0) {
            conn_destroy(c);
            return;
        }
        conn_run(c, true);
        return;
    }
    conn_run(c, (what & EV_READ) != 0);
}

/*
 * ---- In-process feeding: for the fuzzer (t/fuzz) and tests only. ----
 *
 * A detached connection has no socket and no event.  conn_feed() stands in
 * for read(): the bytes land in the read buffer exactly as a read would put
 * them there (same buffer growth, same resting size) and go through the
 * same conn_execute() as a live connection, with no request budget.
 * conn_drain() stands in for a sendmsg() that sent everything.  UDP
 * (daemon/udp.c) answers each datagram this way; TCP and unix connections
 * never come here.
 */

struct conn *
conn_create_detached(struct worker *w, const char *name)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->fd = -1;
    c->w = w;
    c->is_unix = true;
    c->last_cmd = clock_now(w->srv->clock);
    snprintf(c->listen_addr, sizeof(c->listen_addr), "%s", name);
    snprintf(c->addr, sizeof(c->addr), "%s", name);
    out_init(&c->out);
    conn_px_init(c);
    worker_conn_link(w, c);
    __atomic_add_fetch(&w->srv->curr_conns, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&w->srv->conn_structs, 1, __ATOMIC_RELAXED);
    return c;
}

long
conn_feed(struct conn *c, const char *p, size_t n)
{
    long budget = -1;   /* counts down from -1: never reaches 0 */
    size_t taken = 0;
    enum conn_exec ex = EXEC_IDLE;

    /* first what is buffered, as conn_run does before reading */
    if (c->ws.waiter == NULL && c->rpos < c->rlen && !c->want_more) {
        ex = conn_execute(c, &budget);
    }
    while (taken < n && !c->px.closing && ex != EXEC_FULL &&
           ex != EXEC_PAUSED) {
        size_t room;

        if (c->ws.waiter != NULL && c->rbuf != NULL && c->rpos == 0 &&
            c->rlen == c->rsize) {
            break;  /* parked and full: conn_park_read stops reading */
        }
        if (conn_rbuf_make_room(c) != 0) {
            return -1;
        }
        room = c->rsize - c->rlen;
        if (room > n - taken) {
            room = n - taken;
        }
        memcpy(c->rbuf + c->rlen, p + taken, room);
        c->rlen += (uint32_t)room;
        c->want_more = false;
        taken += room;
        if (c->ws.waiter != NULL) {
            continue;   /* parked: buffer, execute nothing */
        }
        /* EXEC_FULL: CONN_OUT_HIGH bytes wait, stop reading until drained */
        ex = conn_execute(c, &budget);
        if (ex == EXEC_CLOSE) {
            break;
        }
    }
    if (c->px.closing || c->out.oom) {
        return -1;
    }
    if (c->ws.waiter == NULL) {
        conn_rest(c);
    }
    return (long)taken;
}

void
conn_drain(struct conn *c)
{
    out_consume(&c->out, c->out.pending);
    conn_unpin_all(c);
}
