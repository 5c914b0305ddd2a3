/*
 * listener.c -- listening sockets and the accept loop, on the main thread.
 *
 * The listener only accepts: each new fd goes to the next worker in turn.
 * At the connection limit (-c) it behaves as memcached with maxconns_fast:
 * the new client gets "ERROR Too many open connections" and is closed, and
 * rejected_connections counts it.  The main event base also runs the
 * once-a-second clock tick.
 *
 * Out of descriptors (EMFILE, ENFILE) or kernel memory, accept() fails
 * at once while the backlog stays readable: the listen events are turned
 * off (listen_disabled_num counts it, accepting_conns reads 0) and turned
 * back on by a timer LISTENER_RETRY_MS later, so a full fd table costs a
 * few wake-ups a second instead of a spinning core.
 */
#include "daemon/listener.h"

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/worker.h"

#define LISTENER_MAX 16
#define LISTENER_RETRY_MS 50    /* back-off after accept ran out of fds */

struct listener_sock {
    int fd;
    bool is_unix;
    bool tls;               /* -Z and not "notls:" */
    struct event *ev;
    struct listener *l;
    char name[64];
};

struct listener {
    struct server *srv;
    struct listener_sock socks[LISTENER_MAX];
    int nsocks;
    unsigned next_worker;
    struct event *retry;    /* re-enables accepting after a back-off */
    bool paused;            /* listen events off (accept back-off) */
};

static const char too_many[] = "ERROR Too many open connections\r\n";

/* Turn every listen event on or off. */
static void
listener_enable(struct listener *l, bool on)
{
    for (int i = 0; i < l->nsocks; i++) {
        if (on) {
            event_add(l->socks[i].ev, NULL);
        } else {
            event_del(l->socks[i].ev);
        }
    }
    l->paused = !on;
    __atomic_store_n(&l->srv->listen_paused, on ? 0u : 1u, __ATOMIC_RELAXED);
}

static void
listener_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    listener_enable(arg, true);
}

/* accept() failed for want of descriptors or memory: stop listening for a
 * moment instead of being woken again at once by the same backlog. */
static void
listener_back_off(struct listener *l)
{
    struct timeval tv = {0, LISTENER_RETRY_MS * 1000};

    if (l->paused) {
        return;
    }
    __atomic_add_fetch(&l->srv->listen_disabled, 1, __ATOMIC_RELAXED);
    if (l->retry == NULL) {
        l->retry = evtimer_new(l->srv->base, listener_on_retry, l);
    }
    if (l->retry == NULL || evtimer_add(l->retry, &tv) != 0) {
        return;     /* cannot time the retry: keep listening */
    }
    listener_enable(l, false);
}

static void
listener_on_accept(evutil_socket_t fd, short what, void *arg)
{
    struct listener_sock *ls = arg;
    struct listener *l = ls->l;
    struct server *srv = l->srv;
    struct worker_handoff h;
    int cfd;

    (void)what;
    for (;;) {
        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                log_warn("accept: %s; not accepting for %d ms",
                         strerror(errno), LISTENER_RETRY_MS);
                listener_back_off(l);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_warn("accept: %s", strerror(errno));
            }
            return;
        }
        /* a burst is accepted before any worker creates its conns, so
         * the ones still queued count too */
        if (__atomic_load_n(&srv->curr_conns, __ATOMIC_RELAXED) +
                __atomic_load_n(&srv->pending_conns, __ATOMIC_RELAXED) >=
            (uint64_t)srv->settings->maxconns) {
            ssize_t n;

            /* counted before the client can see the error, so a stats
             * it sends next already includes it */
            __atomic_add_fetch(&srv->rejected_conns, 1, __ATOMIC_RELAXED);
            n = write(cfd, too_many, sizeof(too_many) - 1);
            (void)n;
            close(cfd);
            continue;
        }
        if (!ls->is_unix) {
            int one = 1;

            setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        h.fd = cfd;
        h.is_unix = ls->is_unix;
        h.tls = ls->tls;
        memcpy(h.listen_addr, ls->name, sizeof(h.listen_addr));
        /* counted now so the limit holds before the worker gets to it */
        __atomic_add_fetch(&srv->total_conns, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&srv->pending_conns, 1, __ATOMIC_RELAXED);
        if (worker_dispatch(srv->workers[l->next_worker], &h) != 0) {
            __atomic_sub_fetch(&srv->pending_conns, 1, __ATOMIC_RELAXED);
            close(cfd);
        }
        l->next_worker = (l->next_worker + 1) % (unsigned)srv->nworkers;
    }
}

static int
listener_add(struct listener *l, int fd, bool is_unix, const char *name)
{
    struct listener_sock *ls;

    if (l->nsocks == LISTENER_MAX) {
        log_error("too many listening sockets");
        close(fd);
        return -1;
    }
    ls = &l->socks[l->nsocks];
    ls->fd = fd;
    ls->is_unix = is_unix;
    ls->l = l;
    snprintf(ls->name, sizeof(ls->name), "%s", name);
    ls->ev = event_new(l->srv->base, fd, EV_READ | EV_PERSIST,
                       listener_on_accept, ls);
    if (ls->ev == NULL || event_add(ls->ev, NULL) != 0) {
        log_error("cannot watch listening socket %s", name);
        close(fd);
        return -1;
    }
    l->nsocks++;
    return 0;
}

static int
listener_unix(struct listener *l, const char *path, long mask)
{
    struct sockaddr_un sun;
    char name[64];
    mode_t old;
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        log_error("unix socket path too long: %s", path);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error("socket(): %s", strerror(errno));
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    /* a stale socket file from an earlier run would make bind fail */
    {
        struct stat st;

        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            unlink(path);
        }
    }
    old = umask((mode_t)(~mask & 0777));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        umask(old);
        log_error("bind(%s): %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    umask(old);
    if (listen(fd, (int)l->srv->settings->backlog) != 0) {
        log_error("listen(%s): %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(name, sizeof(name), "unix:%s", path);
    return listener_add(l, fd, true, name);
}

int
listener_split(char *spec, long defport, char **host, char *port, size_t n)
{
    char *colon;

    if (*spec == '[') {
        char *end = strchr(spec, ']');

        if (end == NULL) {
            return -1;
        }
        *end = '\0';
        *host = spec + 1;
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        *host = spec;
        colon = strchr(spec, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL) {
            colon = NULL; /* a bare IPv6 address */
        }
    }
    if (colon != NULL) {
        *colon = '\0';
        snprintf(port, n, "%s", colon + 1);
    } else {
        /* -p -1: a port the kernel picks (memcached's tests use it with
         * MEMCACHED_PORT_FILENAME) */
        snprintf(port, n, "%u", defport < 0 ? 0u : (unsigned)defport & 0xffffu);
    }
    return 0;
}

/* The port fd is bound to (the kernel's pick for port 0); *v6 says
 * whether it is an IPv6 socket.  0 if unknown. */
static unsigned
listener_bound_port(int fd, bool *v6)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        return 0;
    }
    if (v6 != NULL) {
        *v6 = ss.ss_family == AF_INET6;
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    if (ss.ss_family == AF_INET) {
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return 0;
}

int
listener_resolve(char *spec, long defport, int socktype, char **host,
                 char *port, size_t n, struct addrinfo **ai)
{
    struct addrinfo hints;
    int rc;

    if (listener_split(spec, defport, host, port, n) != 0) {
        log_error("bad listen address: %s", spec);
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    if (strcmp(*host, "*") == 0 || **host == '\0') {
        *host = NULL;
    }
    rc = getaddrinfo(*host, port, &hints, ai);
    if (rc != 0) {
        log_error("getaddrinfo(%s): %s", spec, gai_strerror(rc));
        return -1;
    }
    return 0;
}

static int
listener_tcp_one(struct listener *l, char *spec)
{
    struct addrinfo *ai, *p;
    char portbuf[16], name[128], hostbuf[48];
    char *host;
    int fd, one = 1, added = 0;
    /* with -Z every TCP listener speaks TLS but those marked notls: */
    bool tls = l->srv->tls != NULL;

    if (strncmp(spec, "notls:", 6) == 0) {
        if (!tls) {
            /* memcached's refusal: the operator meant TLS elsewhere */
            log_error("'notls' option is valid only when SSL is enabled");
            return -1;
        }
        spec += 6;
        tls = false;
    }
    if (listener_resolve(spec, l->srv->settings->port, SOCK_STREAM, &host,
                         portbuf, sizeof(portbuf), &ai) != 0) {
        return -1;
    }
    for (p = ai; p != NULL; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    p->ai_protocol);
        if (fd < 0) {
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (p->ai_family == AF_INET6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (bind(fd, p->ai_addr, p->ai_addrlen) != 0 ||
            listen(fd, (int)l->srv->settings->backlog) != 0) {
            log_error("failed to listen on TCP %s:%s: %s",
                      host ? host : "*", portbuf, strerror(errno));
            close(fd);
            freeaddrinfo(ai);
            return -1;
        }
        getnameinfo(p->ai_addr, p->ai_addrlen, hostbuf, sizeof(hostbuf),
                    NULL, 0, NI_NUMERICHOST);
        snprintf(name, sizeof(name), "tcp:%s:%u", hostbuf,
                 listener_bound_port(fd, NULL));
        if (listener_add(l, fd, false, name) != 0) {
            freeaddrinfo(ai);
            return -1;
        }
        l->socks[l->nsocks - 1].tls = tls;
        added++;
    }
    freeaddrinfo(ai);
    return added > 0 ? 0 : -1;
}

struct listener *
listener_create(struct server *srv)
{
    const struct settings *st = srv->settings;
    struct listener *l = calloc(1, sizeof(*l));
    int rc = 0;

    if (l == NULL) {
        return NULL;
    }
    l->srv = srv;
    if (st->unix_socket != NULL) {
        /* as memcached: a unix socket disables TCP */
        rc = listener_unix(l, st->unix_socket, st->unix_mask);
    } else if (st->port != 0) {
        /* (as memcached: -p 0 turns TCP off) */
        char *copy = strdup(st->listen);
        char *save = NULL;

        if (copy == NULL) {
            rc = -1;
        }
        for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL;
             tok != NULL && rc == 0; tok = strtok_r(NULL, ",", &save)) {
            rc = listener_tcp_one(l, tok);
        }
        free(copy);
    }
    if (rc != 0) {
        listener_destroy(l);
        return NULL;
    }
    return l;
}

void
listener_destroy(struct listener *l)
{
    if (l == NULL) {
        return;
    }
    if (l->retry != NULL) {
        event_free(l->retry);
    }
    for (int i = 0; i < l->nsocks; i++) {
        event_free(l->socks[i].ev);
        close(l->socks[i].fd);
        if (l->socks[i].is_unix && l->srv->settings->unix_socket != NULL) {
            unlink(l->srv->settings->unix_socket);
        }
    }
    free(l);
}

void
listener_each_port(const struct listener *l,
                   void (*fn)(void *ctx, bool v6, unsigned port), void *ctx)
{
    for (int i = 0; l != NULL && i < l->nsocks; i++) {
        bool v6 = false;
        unsigned port;

        if (l->socks[i].is_unix) {
            continue;
        }
        port = listener_bound_port(l->socks[i].fd, &v6);
        fn(ctx, v6, port);
    }
}

void
listener_each(const struct listener *l,
              void (*fn)(void *ctx, int fd, const char *name), void *ctx)
{
    /* in-process servers (the connection fuzzer) have no listener */
    for (int i = 0; l != NULL && i < l->nsocks; i++) {
        fn(ctx, l->socks[i].fd, l->socks[i].name);
    }
}
