/*
 * watch.c -- the watch thread, the per-thread line buffers and the line
 * formats (daemon/watch.h).
 *
 * A logging thread finds its own buffer through a thread-local pointer
 * (created on its first line, linked into the watch's list, freed with
 * the watch): the hooks then need no thread context, which matters for
 * the eviction hook, called deep in slab/ by a worker or by the LRU
 * maintainer.  The line formats are memcached 1.6.18's, byte for byte
 * apart from ts and gid values (including its unpadded microseconds).
 *
 * Locks: w->lock (watchers, buffer list) before a buffer's lock; a
 * logging thread takes only its buffer's lock, and w->lock once, to link
 * a new buffer.  The eviction hook runs under item and LRU locks and
 * takes only its buffer's lock, a leaf.
 */
#include "daemon/watch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "slab/store.h"

#define WATCH_LINE_MAX 1024     /* a line: 250-byte key URI-encoded + fields */
#define WATCH_POLL_MS 10        /* the thread's pace while anyone watches */

/* One logging thread's queued lines: each is a stream index byte, then
 * the text up to and including its '\n'. */
struct watch_tbuf {
    pthread_mutex_t lock;
    size_t len;
    uint64_t written;       /* lines queued, since the thread last looked */
    uint64_t dropped;       /* lines lost to a full buffer, likewise */
    struct watch_tbuf *next;
    const struct watch *owner;
    char buf[WATCH_THREAD_BUF];
};

struct watcher {
    int fd;
    int handoff_fd;         /* the connection's own fd until it closes
                             * (-1 after): that close is no conn_close */
    unsigned mask;
    size_t off;             /* buf[off..len) not yet written */
    size_t len;
    uint64_t skipped;       /* lines lost since the last one it got */
    char buf[WATCH_WATCHER_BUF];
};

struct watch {
    struct watch_head head; /* first: watch_wants reads it inline */
    uint64_t gid;           /* atomic: the lines' global id */
    pthread_mutex_t lock;
    pthread_cond_t cond;    /* signalled when a watcher arrives */
    bool stop;
    pthread_t thread;
    bool started;
    struct watch_tbuf *tbufs;
    struct watcher *watchers[WATCH_MAX];
    unsigned nwatchers;     /* written under lock, read relaxed by stats */
    /* "stats" counters, relaxed atomics */
    uint64_t worker_dropped;
    uint64_t worker_written;
    uint64_t watcher_skipped;
    uint64_t watcher_sent;
    char scratch[WATCH_THREAD_BUF];
};

static const char *const watch_names[] = {
    "rawcmds", "evictions", "fetchers", "mutations", "sysevents",
    "connevents", "proxyreqs", "proxyevents", "proxyuser", "deletions",
};

/* The calling thread's buffer (see the file comment). */
static __thread struct watch_tbuf *watch_own;

unsigned
watch_stream_bit(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(watch_names) / sizeof(watch_names[0]);
         i++) {
        if (strlen(watch_names[i]) == n && memcmp(watch_names[i], name, n) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

/* The calling thread's buffer for w, made on first use; NULL on OOM. */
static struct watch_tbuf *
watch_tbuf(struct watch *w)
{
    struct watch_tbuf *b = watch_own;

    if (b != NULL && b->owner == w) {
        return b;
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return NULL;
    }
    pthread_mutex_init(&b->lock, NULL);
    b->owner = w;
    pthread_mutex_lock(&w->lock);
    b->next = w->tbufs;
    w->tbufs = b;
    pthread_mutex_unlock(&w->lock);
    watch_own = b;
    return b;
}

/* Format one line of stream (ts and gid first) into the calling thread's
 * buffer, or count it dropped. */
static void __attribute__((format(printf, 3, 4)))
watch_log(struct watch *w, unsigned stream, const char *fmt, ...)
{
    struct watch_tbuf *b = watch_tbuf(w);
    char line[WATCH_LINE_MAX];
    struct timeval tv;
    va_list ap;
    int n, m;

    if (b == NULL) {
        return;
    }
    gettimeofday(&tv, NULL);
    /* memcached prints the microseconds unpadded: ts=1700000000.4567 */
    n = snprintf(line + 1, sizeof(line) - 1, "ts=%lld.%d gid=%llu ",
                 (long long)tv.tv_sec, (int)tv.tv_usec,
                 (unsigned long long)__atomic_add_fetch(&w->gid, 1,
                                                        __ATOMIC_RELAXED));
    va_start(ap, fmt);
    m = vsnprintf(line + 1 + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)(n + m) + 2 > sizeof(line)) {
        return;
    }
    line[0] = (char)__builtin_ctz(stream);
    n += m + 1;
    line[n++] = '\n';
    pthread_mutex_lock(&b->lock);
    if (b->len + (size_t)n > sizeof(b->buf)) {
        b->dropped++;
    } else {
        memcpy(b->buf + b->len, line, (size_t)n);
        b->len += (size_t)n;
        b->written++;
    }
    pthread_mutex_unlock(&b->lock);
}

/* memcached's URI encoding of a key: unreserved bytes as they are. */
static void
watch_uriencode(char *out, const char *key, size_t nkey)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < nkey; i++) {
        unsigned char ch = (unsigned char)key[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
            ch == '_' || ch == '~') {
            *out++ = (char)ch;
        } else {
            *out++ = '%';
            *out++ = hex[ch >> 4];
            *out++ = hex[ch & 15];
        }
    }
    *out = '\0';
}

#define WATCH_KEYBUF (250 * 3 + 1)

void
watch_fetch(struct watch *w, const char *key, size_t nkey, bool found,
            unsigned clsid, size_t size, int cfd)
{
    char k[WATCH_KEYBUF];

    if (!watch_wants(w, WATCH_FETCHERS) || nkey > 250) {
        return;
    }
    watch_uriencode(k, key, nkey);
    watch_log(w, WATCH_FETCHERS,
              "type=item_get key=%s status=%s clsid=%u cfd=%d size=%zu", k,
              found ? "found" : "not_found", found ? clsid : 0, cfd,
              found ? size : 0);
}

void
watch_store(struct watch *w, const char *key, size_t nkey,
            const char *status, const char *cmd, uint32_t ttl,
            unsigned clsid, size_t size, int cfd)
{
    char k[WATCH_KEYBUF];

    if (!watch_wants(w, WATCH_MUTATIONS) || nkey > 250) {
        return;
    }
    watch_uriencode(k, key, nkey);
    watch_log(w, WATCH_MUTATIONS,
              "type=item_store key=%s status=%s cmd=%s ttl=%u clsid=%u "
              "cfd=%d size=%zu",
              k, status, cmd, ttl, clsid, cfd, size);
}

void
watch_delete(struct watch *w, const char *key, size_t nkey, const char *cmd,
             unsigned clsid, size_t size)
{
    char k[WATCH_KEYBUF];

    if (!watch_wants(w, WATCH_DELETIONS) || nkey > 250) {
        return;
    }
    watch_uriencode(k, key, nkey);
    watch_log(w, WATCH_DELETIONS, "type=deleted key=%s cmd=%s clsid=%u size=%zu",
              k, cmd, clsid, size);
}

/* Was fd just handed to a watcher (its connection now closing)? */
static bool
watch_handed_off(struct watch *w, int fd)
{
    bool yes = false;

    pthread_mutex_lock(&w->lock);
    for (unsigned i = 0; i < WATCH_MAX; i++) {
        if (w->watchers[i] != NULL && w->watchers[i]->handoff_fd == fd) {
            w->watchers[i]->handoff_fd = -1;
            yes = true;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return yes;
}

void
watch_conn(struct watch *w, int fd, bool is_unix, const char *reason)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char rip[64] = "unix";
    unsigned port = 0;

    if (!watch_wants(w, WATCH_CONNEVENTS)) {
        return;
    }
    if (reason != NULL && watch_handed_off(w, fd)) {
        return;     /* memcached logs no close for a socket it keeps */
    }
    if (!is_unix && getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const void *)&ss;

            inet_ntop(AF_INET, &a->sin_addr, rip, sizeof(rip));
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const void *)&ss;

            inet_ntop(AF_INET6, &a->sin6_addr, rip, sizeof(rip));
            port = ntohs(a->sin6_port);
        }
    }
    if (reason == NULL) {
        watch_log(w, WATCH_CONNEVENTS,
                  "type=conn_new rip=%s rport=%u transport=%s cfd=%d", rip,
                  port, is_unix ? "local" : "tcp", fd);
    } else {
        watch_log(w, WATCH_CONNEVENTS,
                  "type=conn_close rip=%s rport=%u transport=%s reason=%s "
                  "cfd=%d",
                  rip, port, is_unix ? "local" : "tcp", reason, fd);
    }
}

void
watch_evicted(void *ctx, const struct store_evicted *e)
{
    struct watch *w = ctx;
    char k[WATCH_KEYBUF];

    if (!watch_wants(w, WATCH_EVICTIONS) || e->nkey > 250) {
        return;
    }
    watch_uriencode(k, e->key, e->nkey);
    watch_log(w, WATCH_EVICTIONS,
              "type=eviction key=%s fetch=%s ttl=%lld la=%u clsid=%u size=%zu",
              k, e->fetched ? "yes" : "no", e->ttl, e->la, e->clsid,
              e->nbytes);
}

/* The union of the watchers' streams. */
static void
watch_remask_locked(struct watch *w)
{
    unsigned m = 0;

    for (unsigned i = 0; i < WATCH_MAX; i++) {
        if (w->watchers[i] != NULL) {
            m |= w->watchers[i]->mask;
        }
    }
    __atomic_store_n(&w->head.mask, m, __ATOMIC_RELAXED);
}

static void
watch_close_locked(struct watch *w, unsigned i)
{
    close(w->watchers[i]->fd);
    free(w->watchers[i]);
    w->watchers[i] = NULL;
    __atomic_store_n(&w->nwatchers, w->nwatchers - 1, __ATOMIC_RELAXED);
    watch_remask_locked(w);
}

enum watch_add_rc
watch_add(struct watch *w, int fd, unsigned mask)
{
    struct watcher *x;
    unsigned i;

    pthread_mutex_lock(&w->lock);
    if (w->nwatchers >= WATCH_MAX) {
        pthread_mutex_unlock(&w->lock);
        return WATCH_ADD_TOO_MANY;
    }
    x = malloc(sizeof(*x));
    if (x == NULL || (x->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        free(x);
        pthread_mutex_unlock(&w->lock);
        return WATCH_ADD_FAILED;
    }
    x->mask = mask;
    x->handoff_fd = fd;
    x->off = 0;
    x->skipped = 0;
    /* the watch thread answers, so OK cannot overtake or trail lines */
    memcpy(x->buf, "OK\r\n", 4);
    x->len = 4;
    for (i = 0; w->watchers[i] != NULL; i++) {
    }
    w->watchers[i] = x;
    __atomic_store_n(&w->nwatchers, w->nwatchers + 1, __ATOMIC_RELAXED);
    watch_remask_locked(w);
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return WATCH_ADD_OK;
}

/* Queue one line (text, n bytes with its '\n') of stream index s on
 * every watcher of it, or count it skipped there. */
static void
watch_fan_out_locked(struct watch *w, unsigned s, const char *text, size_t n)
{
    for (unsigned i = 0; i < WATCH_MAX; i++) {
        struct watcher *x = w->watchers[i];
        char note[40];
        int nn = 0;

        if (x == NULL || !(x->mask & (1u << s))) {
            continue;
        }
        if (x->off == x->len) {
            x->off = x->len = 0;
        } else if (x->off > 0 && x->len + n + sizeof(note) > sizeof(x->buf)) {
            memmove(x->buf, x->buf + x->off, x->len - x->off);
            x->len -= x->off;
            x->off = 0;
        }
        if (x->skipped > 0) {
            nn = snprintf(note, sizeof(note), "skipped=%llu\n",
                          (unsigned long long)x->skipped);
        }
        if (x->len + (size_t)nn + n > sizeof(x->buf)) {
            x->skipped++;
            __atomic_add_fetch(&w->watcher_skipped, 1, __ATOMIC_RELAXED);
            continue;
        }
        memcpy(x->buf + x->len, note, (size_t)nn);
        memcpy(x->buf + x->len + nn, text, n);
        x->len += (size_t)nn + n;
        x->skipped = 0;
        __atomic_add_fetch(&w->watcher_sent, 1, __ATOMIC_RELAXED);
    }
}

/* Take every thread's queued lines and hand them to the watchers. */
static void
watch_drain_locked(struct watch *w)
{
    for (struct watch_tbuf *b = w->tbufs; b != NULL; b = b->next) {
        size_t len, pos = 0;

        pthread_mutex_lock(&b->lock);
        len = b->len;
        memcpy(w->scratch, b->buf, len);
        b->len = 0;
        __atomic_add_fetch(&w->worker_written, b->written, __ATOMIC_RELAXED);
        __atomic_add_fetch(&w->worker_dropped, b->dropped, __ATOMIC_RELAXED);
        b->written = b->dropped = 0;
        pthread_mutex_unlock(&b->lock);
        while (pos < len) {
            unsigned s = (unsigned char)w->scratch[pos];
            const char *t = w->scratch + pos + 1;
            const char *nl = memchr(t, '\n', len - pos - 1);
            size_t n = (size_t)(nl - t) + 1;

            watch_fan_out_locked(w, s, t, n);
            pos += 1 + n;
        }
    }
}

/* Write what each watcher has queued (never blocking) and notice the
 * ones that left: a read of 0 or an error closes them. */
static void
watch_flush_locked(struct watch *w)
{
    for (unsigned i = 0; i < WATCH_MAX; i++) {
        struct watcher *x = w->watchers[i];
        char sink[256];
        ssize_t r;

        if (x == NULL) {
            continue;
        }
        /* a watcher's input is ignored, as in memcached; EOF ends it */
        r = recv(x->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR)) {
            watch_close_locked(w, i);
            continue;
        }
        if (x->off < x->len) {
            r = send(x->fd, x->buf + x->off, x->len - x->off,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
            if (r > 0) {
                x->off += (size_t)r;
            } else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR) {
                watch_close_locked(w, i);
            }
        }
    }
}

static void *
watch_thread(void *arg)
{
    struct watch *w = arg;

    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        if (w->nwatchers == 0) {
            /* lines logged meanwhile were for watchers now gone */
            watch_drain_locked(w);
            pthread_cond_wait(&w->cond, &w->lock);
            continue;
        }
        watch_drain_locked(w);
        watch_flush_locked(w);
        pthread_mutex_unlock(&w->lock);
        poll(NULL, 0, WATCH_POLL_MS);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct watch *
watch_create(void)
{
    struct watch *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
        watch_destroy(w);
        return NULL;
    }
    w->started = true;
    return w;
}

void
watch_destroy(struct watch *w)
{
    if (w == NULL) {
        return;
    }
    if (w->started) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    for (unsigned i = 0; i < WATCH_MAX; i++) {
        if (w->watchers[i] != NULL) {
            watch_close_locked(w, i);
        }
    }
    while (w->tbufs != NULL) {
        struct watch_tbuf *b = w->tbufs;

        w->tbufs = b->next;
        pthread_mutex_destroy(&b->lock);
        free(b);
    }
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void
watch_stats(struct watch *w, stats_emit_fn emit, void *ctx)
{
    uint64_t dropped = 0, written = 0;
    unsigned n = 0;

    if (w != NULL) {
        /* no lock: stats must not wait for the watch thread's pass */
        n = __atomic_load_n(&w->nwatchers, __ATOMIC_RELAXED);
        dropped = __atomic_load_n(&w->worker_dropped, __ATOMIC_RELAXED);
        written = __atomic_load_n(&w->worker_written, __ATOMIC_RELAXED);
    }
    stats_emit_u64(emit, ctx, "log_worker_dropped", dropped);
    stats_emit_u64(emit, ctx, "log_worker_written", written);
    stats_emit_u64(emit, ctx, "log_watcher_skipped",
                   w ? __atomic_load_n(&w->watcher_skipped, __ATOMIC_RELAXED)
                     : 0);
    stats_emit_u64(emit, ctx, "log_watcher_sent",
                   w ? __atomic_load_n(&w->watcher_sent, __ATOMIC_RELAXED) : 0);
    stats_emit_u64(emit, ctx, "log_watchers", n);
}
