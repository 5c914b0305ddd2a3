/*
 * udp.c -- the UDP listener (-U) and how one datagram is answered.
 *
 * A UDP request has no connection to live on, so each datagram gets a
 * detached connection (conn_create_detached) for the time it takes to
 * answer it: its payload goes through conn_feed() -- the same read
 * buffer, parsers and executor as TCP, so every command answers over UDP
 * exactly as memcached 1.6.18 answers it there (get, gets, stores, meta,
 * stats, binary) -- and the reply gathered in its out is copied into one
 * scratch buffer and cut into datagrams.  The connection is destroyed
 * afterwards, which also ends what a datagram cannot finish: a request
 * cut off at the datagram's end, a value still streaming, a request
 * parked by "mg ... w" (no one would ever receive its answer).
 *
 * One reply is one message: all of it numbered 0..total-1 under the
 * request's id.  memcached 1.6.18 sends each key of a multi-get and each
 * request of a multi-request datagram as a message of its own (every one
 * "1 of 1", so a client cannot tell when the reply ends); stashd's
 * reassembled bytes are the same, in fewer datagrams, and a client knows
 * from total when it has them all.
 *
 * Sockets are read by every worker: each worker has an event on each
 * UDP socket in its own base, and whichever wakes first takes the
 * datagram (the others find EAGAIN).  A wake-up reads at most -R
 * datagrams before going back to the loop, so a flood on UDP cannot
 * starve the worker's TCP connections.
 */
#include "daemon/udp.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/worker.h"
#include "proto/dgram.h"
#include "proto/out.h"

/* A request that stops midway stops at CONN_OUT_HIGH bytes of output,
 * which udp_answer then refuses as too large for one UDP reply. */
_Static_assert(CONN_OUT_HIGH > UDP_REPLY_MAX,
               "a paused request's output must exceed the UDP reply cap");

#define UDP_SOCK_MAX 16
#define UDP_READ_MAX 65536      /* the largest datagram IPv4/6 can carry */

struct udp_reader {
    struct udp *u;
    struct worker *w;
    int sock;               /* index in u->socks */
    struct event *ev;
    char *rbuf;             /* UDP_READ_MAX: one received datagram */
    char *reply;            /* UDP_REPLY_MAX: the reply being cut */
};

struct udp_sock {
    int fd;
    bool v6;
    unsigned port;          /* bound: the kernel's pick for -U -1 */
    char name[64];          /* "udp:ADDR:PORT", the detached conns' name */
};

struct udp {
    struct server *srv;
    struct udp_sock socks[UDP_SOCK_MAX];
    int nsocks;
    struct udp_reader *readers;     /* nsocks x nworkers */
    int nreaders;
};

/* Where a reply goes: the source of the datagram being answered. */
struct udp_dest {
    struct worker *w;       /* counts bytes_written */
    int fd;
    struct sockaddr_storage addr;
    socklen_t len;
};

/* Copy c's whole reply into buf; its length, or -1 when it does not fit
 * in UDP_REPLY_MAX. */
static long
udp_gather(struct conn *c, char *buf)
{
    struct iovec iov[16];
    size_t len = 0;

    if (c->out.pending > UDP_REPLY_MAX) {
        return -1;
    }
    while (!out_empty(&c->out)) {
        int k = out_iov(&c->out, iov, 16);
        size_t got = 0;

        for (int i = 0; i < k; i++) {
            memcpy(buf + len + got, iov[i].iov_base, iov[i].iov_len);
            got += iov[i].iov_len;
        }
        out_consume(&c->out, got);
        len += got;
    }
    return (long)len;
}

/* Send buf[0..len) as one message of numbered datagrams. */
static int
udp_send_reply(uint16_t id, const char *buf, size_t len, udp_send_fn send,
               void *ctx)
{
    uint32_t total = dgram_count(len);
    unsigned char hdr[DGRAM_HEADER_LEN];
    struct iovec iov[2];

    for (uint32_t seq = 0; seq < total; seq++) {
        size_t off = (size_t)seq * DGRAM_PAYLOAD_MAX;
        size_t n = len - off < DGRAM_PAYLOAD_MAX ? len - off
                                                 : DGRAM_PAYLOAD_MAX;

        dgram_header_write(hdr, id, (uint16_t)seq, (uint16_t)total);
        iov[0].iov_base = hdr;
        iov[0].iov_len = sizeof(hdr);
        iov[1].iov_base = (char *)buf + off;
        iov[1].iov_len = n;
        send(ctx, iov, 2);
    }
    return (int)total;
}

int
udp_answer(struct worker *w, const char *name, char *buf, const char *p,
           size_t n, udp_send_fn send, void *ctx)
{
    struct dgram_header h;
    struct conn *c;
    long fed, len;
    bool closing;

    if (dgram_parse(p, n, &h) != DGRAM_OK) {
        return 0;
    }
    c = conn_create_detached(w, name);
    if (c == NULL) {
        return 0;
    }
    fed = conn_feed(c, p + DGRAM_HEADER_LEN, n - DGRAM_HEADER_LEN);
    closing = c->px.closing;
    /* fed short of the payload: the output reached CONN_OUT_HIGH, far
     * past what one UDP reply may carry */
    len = c->out.oom || (fed >= 0 && (size_t)fed < n - DGRAM_HEADER_LEN)
              ? -1
              : udp_gather(c, buf);
    conn_destroy(c);
    if (len < 0) {
        len = (long)strlen(UDP_TOO_LARGE);
        memcpy(buf, UDP_TOO_LARGE, (size_t)len);
    }
    if (len == 0 && closing) {
        /* memcached answers "quit" with a bare header: 0 datagrams of 0 */
        unsigned char hdr[DGRAM_HEADER_LEN];
        struct iovec iov = {hdr, sizeof(hdr)};

        dgram_header_write(hdr, h.id, 0, 0);
        send(ctx, &iov, 1);
        return 1;
    }
    return udp_send_reply(h.id, buf, (size_t)len, send, ctx);
}

static void
udp_sendto(void *ctx, const struct iovec *iov, int n)
{
    struct udp_dest *d = ctx;
    struct msghdr msg;
    ssize_t sent;

    memset(&msg, 0, sizeof(msg));
    msg.msg_name = &d->addr;
    msg.msg_namelen = d->len;
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)n;
    /* a full send buffer drops the datagram, as UDP would anyway */
    sent = sendmsg(d->fd, &msg, MSG_DONTWAIT);

    if (sent > 0) {
        STAT_ADD(&d->w->stats, bytes_written, (uint64_t)sent);
    }
}

static void
udp_on_read(evutil_socket_t fd, short what, void *arg)
{
    struct udp_reader *r = arg;
    long batch = r->u->srv->settings->reqs_per_event;

    (void)what;
    for (long i = 0; i < batch; i++) {
        struct udp_dest d;
        ssize_t n;

        d.w = r->w;
        d.fd = fd;
        d.len = sizeof(d.addr);
        n = recvfrom(fd, r->rbuf, UDP_READ_MAX, 0,
                     (struct sockaddr *)&d.addr, &d.len);
        if (n < 0) {
            return; /* EAGAIN: another worker took it, or none left */
        }
        STAT_ADD(&r->w->stats, bytes_read, (uint64_t)n);
        udp_answer(r->w, r->u->socks[r->sock].name, r->reply, r->rbuf,
                   (size_t)n, udp_sendto, &d);
    }
}

/* Bind one -l address (its explicit port wins over -U, as for TCP). */
static int
udp_bind_one(struct udp *u, char *spec, long port)
{
    struct addrinfo *ai, *p;
    char portbuf[16], hostbuf[48];
    char *host;
    int fd, one = 1, added = 0;

    if (strncmp(spec, "notls:", 6) == 0) {
        spec += 6;  /* a -Z plaintext listener: UDP has no TLS anyway */
    }
    if (listener_resolve(spec, port, SOCK_DGRAM, &host, portbuf,
                         sizeof(portbuf), &ai) != 0) {
        return -1;
    }
    for (p = ai; p != NULL && u->nsocks < UDP_SOCK_MAX; p = p->ai_next) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        struct udp_sock *us;

        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    p->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (p->ai_family == AF_INET6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (bind(fd, p->ai_addr, p->ai_addrlen) != 0 ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
            log_error("failed to bind UDP %s:%s: %s", host ? host : "*",
                      portbuf, strerror(errno));
            close(fd);
            freeaddrinfo(ai);
            return -1;
        }
        us = &u->socks[u->nsocks];
        us->fd = fd;
        /* the port actually bound: -U -1 asked for an ephemeral one */
        us->v6 = ss.ss_family == AF_INET6;
        us->port = ntohs(us->v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                : ((struct sockaddr_in *)&ss)->sin_port);
        if (getnameinfo((struct sockaddr *)&ss, sl, hostbuf, sizeof(hostbuf),
                        NULL, 0, NI_NUMERICHOST) != 0) {
            snprintf(hostbuf, sizeof(hostbuf), "?");
        }
        snprintf(us->name, sizeof(us->name), "udp:%s:%u", hostbuf, us->port);
        log_info("listening on %s", us->name);
        u->nsocks++;
        added++;
    }
    freeaddrinfo(ai);
    return added > 0 ? 0 : -1;
}

/* One reader per (socket, worker), watching on the worker's base. */
static int
udp_watch(struct udp *u)
{
    struct server *srv = u->srv;

    u->readers = calloc((size_t)(u->nsocks * srv->nworkers),
                        sizeof(*u->readers));
    if (u->readers == NULL) {
        return -1;
    }
    for (int s = 0; s < u->nsocks; s++) {
        for (int i = 0; i < srv->nworkers; i++) {
            struct udp_reader *r = &u->readers[u->nreaders];

            r->u = u;
            r->w = srv->workers[i];
            r->sock = s;
            r->rbuf = malloc(UDP_READ_MAX);
            r->reply = malloc(UDP_REPLY_MAX);
            u->nreaders++;
            if (r->rbuf == NULL || r->reply == NULL) {
                return -1;
            }
            r->ev = event_new(r->w->base, u->socks[s].fd, EV_READ | EV_PERSIST,
                              udp_on_read, r);
            if (r->ev == NULL || event_add(r->ev, NULL) != 0) {
                log_error("cannot watch %s", u->socks[s].name);
                return -1;
            }
        }
    }
    return 0;
}

struct udp *
udp_create(struct server *srv, int *failed)
{
    const struct settings *st = srv->settings;
    struct udp *u;
    char *copy, *save = NULL;
    int rc = 0;

    *failed = 0;
    if (st->udpport == 0 || st->unix_socket != NULL) {
        return NULL;
    }
    u = calloc(1, sizeof(*u));
    copy = strdup(st->listen);
    if (u == NULL || copy == NULL) {
        free(u);
        free(copy);
        *failed = 1;
        return NULL;
    }
    u->srv = srv;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        /* -U -1: an ephemeral port, as -p -1 */
        rc = udp_bind_one(u, tok, st->udpport < 0 ? 0 : st->udpport);
    }
    free(copy);
    if (rc != 0 || udp_watch(u) != 0) {
        udp_destroy(u);
        *failed = 1;
        return NULL;
    }
    return u;
}

void
udp_destroy(struct udp *u)
{
    if (u == NULL) {
        return;
    }
    for (int i = 0; i < u->nreaders; i++) {
        if (u->readers[i].ev != NULL) {
            event_free(u->readers[i].ev);
        }
        free(u->readers[i].rbuf);
        free(u->readers[i].reply);
    }
    free(u->readers);
    for (int s = 0; s < u->nsocks; s++) {
        close(u->socks[s].fd);
    }
    free(u);
}

void
udp_each_port(const struct udp *u,
              void (*fn)(void *ctx, bool v6, unsigned port), void *ctx)
{
    for (int s = 0; u != NULL && s < u->nsocks; s++) {
        fn(ctx, u->socks[s].v6, u->socks[s].port);
    }
}
