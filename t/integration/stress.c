/*
 * stress.c -- a multi-threaded text-protocol load client that checks what
 * it reads.
 *
 *   stress -h HOST -p PORT [-s UNIXPATH] [-t THREADS] [-n OPS] [-k KEYS]
 *          [-T SECONDS] [-v MAXLEN] [-a] [-K COLDKEYS] [-f FLUSHEVERY]
 *          [-r RECONNECT] [-C CHURNTHREADS]
 *
 * Each thread opens its own connection and runs OPS operations on a small
 * shared key set.  Every stored value is a run of self-checking records
 * "<len>:<fnv64 hex>:<payload>" (a set writes one, append/prepend add one),
 * the checksum taken over the key and then the payload, so every hit on
 * any thread can be checked for torn or mixed-up values and for a value
 * that was written for another key.
 *
 * Default mix: set, get, multi-get, delete and incr.  Counters ("ctr<i>",
 * created before the threads start) are only incremented; at the end their
 * sum must equal the number of increments every thread saw succeed.
 *
 * -a adds the rest of the storage API: gets+cas, append, prepend, touch,
 * gat, add, stats, and flush_all (thread 0, every -f ops, default 20000;
 * 0: never), with per-thread checks that need no coordination: a private
 * key "own:<thread>" whose every hit must be exactly what that thread last
 * stored (set, append, cas included) and which only that thread can bring
 * back once it is known absent, and a private counter whose every incr
 * must answer the last value plus one (a miss means flush_all or eviction;
 * the key is re-added).  flush_all and evictions reset the shared
 * counters, so -a drops their sum check.  -K N sends a fifth of the sets to N cold keys so that a small -m
 * evicts.  "SERVER_ERROR out of memory storing object" is counted (oom),
 * not an error: a tiny -m may leave a slab class without memory.
 *
 * -n 0 runs until -T seconds pass (a soak); otherwise reaching -T before
 * OPS is an error.  -r N reconnects every N ops; -C N adds N threads that
 * only open a connection, get a key, check it and close, as fast as they
 * can.  Exits 0 when every check passes, 1 otherwise; the last line is
 * "stress: ... ops=N errors=N corrupt=N oom=N ...: PASS|FAIL".
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NCOUNTERS 8
#define RBUF_SIZE (1 << 20)
#define SMALL_REC 48        /* largest append/prepend payload */
#define OOM_REPLY "SERVER_ERROR out of memory storing object"

struct opts {
    const char *host;
    const char *port;
    const char *path;
    int threads;
    long ops;           /* per thread; 0: run until the time limit */
    int keys;
    double seconds;
    int maxlen;
    bool all;           /* -a: the whole op mix */
    int cold;           /* -K: cold keys */
    long flush_every;   /* -f: thread 0 flushes every N ops (with -a) */
    long reconnect;     /* -r: reconnect every N ops */
    int churners;       /* -C: connect/get/close threads */
};

struct conn {
    int fd;
    char *buf;      /* read buffer */
    size_t len;     /* bytes in buf */
    size_t pos;     /* bytes consumed */
};

struct worker {
    pthread_t tid;
    int id;
    const struct opts *o;
    uint64_t seed;
    long done;
    long hits;
    long misses;
    uint64_t incrs;
    long errors;
    long corrupt;
    long oom;
    long flushes;
    long reconnects;
    /* -a: what "own:<id>" must hold; own_state 0 unknown, 1 absent,
     * 2 present with own[0..own_len), 3 absent or own[0..own_len)
     * unchanged (an append refused: the key was missing, or the joined
     * value could not be allocated and the old one stays, as memcached) */
    int own_state;
    const char *own_why;    /* the reply that made it absent */
    char *own;
    size_t own_len;
    /* -a: the private counter's last value, -1 unknown */
    int64_t pctr;
};

static atomic_int stop_all;
static double deadline;

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* FNV-1a of p, continuing from h (the offset basis to start). */
static uint64_t
fnv64_from(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t
fnv64(const char *p, size_t n)
{
    return fnv64_from(1469598103934665603ULL, p, n);
}

/* A record's checksum: over its key, then its payload, so that a value
 * served for the wrong key fails the check as surely as a torn one. */
static uint64_t
rec_sum(const char *key, const char *payload, size_t n)
{
    return fnv64_from(fnv64(key, strlen(key)), payload, n);
}

static uint64_t
rnd(uint64_t *s)
{
    /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void
vreport(struct worker *w, long count, const char *fmt, va_list ap)
{
    if (count > 10) {
        return;
    }
    fprintf(stderr, "stress: thread %d: ", w->id);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void
fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    w->errors++;
    va_start(ap, fmt);
    vreport(w, w->errors + w->corrupt, fmt, ap);
    va_end(ap);
}

/* A value that is not what was stored: counted apart from other errors. */
static void
corrupt(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    w->corrupt++;
    va_start(ap, fmt);
    vreport(w, w->errors + w->corrupt, fmt, ap);
    va_end(ap);
}

static int
conn_open(struct conn *c, const struct opts *o)
{
    struct timeval tv = { 10, 0 };
    int one = 1;

    c->buf = malloc(RBUF_SIZE);
    c->len = 0;
    c->pos = 0;
    c->fd = -1;
    if (c->buf == NULL) {
        return -1;
    }
    if (o->path != NULL) {
        struct sockaddr_un sa;

        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o->path);
        c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (c->fd < 0 ||
            connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            return -1;
        }
    } else {
        struct addrinfo hints, *ai;

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(o->host, o->port, &hints, &ai) != 0) {
            return -1;
        }
        c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            freeaddrinfo(ai);
            return -1;
        }
        freeaddrinfo(ai);
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return 0;
}

static void
conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
}

static int
conn_send(struct conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Make at least n unread bytes available; -1 on EOF/error/time-out. */
static int
conn_need(struct conn *c, size_t n)
{
    if (c->pos > 0 && c->len - c->pos < n) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    while (c->len - c->pos < n) {
        ssize_t k;

        if (c->len == RBUF_SIZE) {
            return -1;
        }
        k = recv(c->fd, c->buf + c->len, RBUF_SIZE - c->len, 0);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return -1;
        }
        c->len += (size_t)k;
    }
    return 0;
}

/* Next line without "\r\n" into out (NUL-terminated); -1 on error. */
static int
conn_line(struct conn *c, char *out, size_t cap)
{
    for (;;) {
        char *s = c->buf + c->pos;
        size_t have = c->len - c->pos;
        char *nl = memchr(s, '\n', have);

        if (nl != NULL) {
            size_t n = (size_t)(nl - s);

            if (n == 0 || s[n - 1] != '\r' || n - 1 >= cap) {
                return -1;
            }
            memcpy(out, s, n - 1);
            out[n - 1] = '\0';
            c->pos += n + 1;
            return 0;
        }
        if (conn_need(c, have + 1) != 0) {
            return -1;
        }
    }
}

/* Send a request and read its one-line reply; -1 if the connection broke. */
static int
roundtrip(struct worker *w, struct conn *c, const char *req, size_t n,
          char *line, size_t cap, const char *what)
{
    if (conn_send(c, req, n) != 0 || conn_line(c, line, cap) != 0) {
        fail(w, "%s: connection lost", what);
        return -1;
    }
    return 0;
}

/* Build one record "<len>:<fnv hex>:<payload>" for key, payload
 * 1..maxlen bytes. */
static size_t
make_value(char *dst, uint64_t *seed, int maxlen, const char *key)
{
    size_t plen = 1 + rnd(seed) % (uint64_t)maxlen;
    char *payload;
    int head;

    head = snprintf(dst, 64, "%zu:%016" PRIx64 ":", plen, (uint64_t)0);
    payload = dst + head;
    for (size_t i = 0; i < plen; i++) {
        payload[i] = (char)('a' + rnd(seed) % 26);
    }
    /* rewrite the header with the real checksum (same width) */
    snprintf(dst, 64, "%zu:%016" PRIx64, plen, rec_sum(key, payload, plen));
    dst[head - 1] = ':';
    return (size_t)head + plen;
}

/* True if v is one or more whole, intact records, all written for key. */
static bool
check_value(const char *v, size_t n, const char *key)
{
    const char *p = v;
    const char *endv = v + n;

    if (n == 0) {
        return false;
    }
    while (p < endv) {
        unsigned long long plen = 0, sum = 0;
        const char *q = p;

        while (q < endv && *q >= '0' && *q <= '9') {
            plen = plen * 10 + (unsigned)(*q++ - '0');
            if (plen > RBUF_SIZE) {
                return false;
            }
        }
        if (q == p || q >= endv || *q != ':' || endv - q < 18) {
            return false;
        }
        q++;
        for (int i = 0; i < 16; i++, q++) {
            int d;

            if (*q >= '0' && *q <= '9') {
                d = *q - '0';
            } else if (*q >= 'a' && *q <= 'f') {
                d = *q - 'a' + 10;
            } else {
                return false;
            }
            sum = sum * 16 + (unsigned)d;
        }
        if (*q != ':' || (unsigned long long)(endv - q - 1) < plen) {
            return false;
        }
        q++;
        if (rec_sum(key, q, plen) != sum) {
            return false;
        }
        p = q + plen;
    }
    return true;
}

/* A hit on "own:<id>": it must be exactly what this thread stored. */
static void
check_own(struct worker *w, const char *key, const char *v, size_t n)
{
    char own[32];

    snprintf(own, sizeof(own), "own:%d", w->id);
    if (strcmp(key, own) != 0) {
        return;
    }
    if (w->own_state == 1) {
        corrupt(w, "%s: hit (%zu bytes) but it was deleted or absent (%s)",
                key, n, w->own_why);
    } else if ((w->own_state == 2 || w->own_state == 3) &&
               (n != w->own_len || memcmp(v, w->own, n) != 0)) {
        corrupt(w, "%s: %zu bytes, not the %zu bytes last stored", key, n,
                w->own_len);
    }
}

/*
 * Read VALUE lines up to END, checking each value; with cas, also the CAS
 * unique of the (last) hit.  -1 on protocol error.
 */
static int
read_values(struct worker *w, struct conn *c, int *hits, uint64_t *cas)
{
    char line[512];

    *hits = 0;
    for (;;) {
        char key[300];
        unsigned flags;
        unsigned long long unique = 0;
        size_t n;
        int got;

        if (conn_line(c, line, sizeof(line)) != 0) {
            fail(w, "get: connection lost or bad line");
            return -1;
        }
        if (strcmp(line, "END") == 0) {
            return 0;
        }
        got = sscanf(line, "VALUE %299s %u %zu %llu", key, &flags, &n,
                     &unique);
        if (got < 3 || (cas != NULL && got != 4)) {
            fail(w, "get: unexpected line '%s'", line);
            return -1;
        }
        if (conn_need(c, n + 2) != 0) {
            fail(w, "get: value of %zu bytes not received", n);
            return -1;
        }
        if (memcmp(c->buf + c->pos + n, "\r\n", 2) != 0) {
            corrupt(w, "get %s: value not followed by CRLF", key);
        } else if (!check_value(c->buf + c->pos, n, key)) {
            corrupt(w, "get %s: corrupt value (%zu bytes)", key, n);
        } else if (flags != (unsigned)strlen(key)) {
            corrupt(w, "get %s: flags %u, expected %zu", key, flags,
                    strlen(key));
        } else {
            check_own(w, key, c->buf + c->pos, n);
        }
        if (cas != NULL) {
            *cas = unique;
        }
        c->pos += n + 2;
        (*hits)++;
    }
}

/*
 * The index of line among the '|'-separated replies allowed, or -1 (an
 * error, except OOM_REPLY which only counts as oom).
 */
static int
expect(struct worker *w, const char *what, const char *line,
       const char *allowed)
{
    size_t n = strlen(line);
    const char *p = allowed;
    int i = 0;

    while (*p != '\0') {
        const char *bar = strchr(p, '|');
        size_t k = bar ? (size_t)(bar - p) : strlen(p);

        if (k == n && memcmp(p, line, n) == 0) {
            return i;
        }
        p += k + (bar ? 1 : 0);
        i++;
    }
    if (strcmp(line, OOM_REPLY) == 0) {
        w->oom++;
        return -1;
    }
    fail(w, "%s: unexpected reply '%s'", what, line);
    return -1;
}

/* "<verb> <key> <flags> 0 <len>[ <cas>]\r\n<value>\r\n" into cmd. */
static size_t
store_cmd(char *cmd, const char *verb, const char *key, const char *val,
          size_t vn, uint64_t cas)
{
    int hn;

    if (cas != 0) {
        hn = snprintf(cmd, 512, "%s %s %zu 0 %zu %" PRIu64 "\r\n", verb, key,
                      strlen(key), vn, cas);
    } else {
        hn = snprintf(cmd, 512, "%s %s %zu 0 %zu\r\n", verb, key, strlen(key),
                      vn);
    }
    memcpy(cmd + hn, val, vn);
    memcpy(cmd + hn + vn, "\r\n", 2);
    return (size_t)hn + vn + 2;
}

/* The private key: remember what this thread stored in it. */
static void
own_remember(struct worker *w, int state, const char *v, size_t n,
             bool append)
{
    if (state != 2) {
        w->own_state = state;
        w->own_len = 0;
        return;
    }
    if (append) {
        memcpy(w->own + w->own_len, v, n);
        w->own_len += n;
    } else {
        memcpy(w->own, v, n);
        w->own_len = n;
    }
    w->own_state = 2;
}

/*
 * One operation of the -a mix on key kname (own is true for "own:<id>").
 * Returns -1 when the connection broke.
 */
static int
op_all(struct worker *w, struct conn *c, const char *kname, bool own,
       char *val, char *cmd)
{
    const struct opts *o = w->o;
    unsigned op = (unsigned)(rnd(&w->seed) % 1000);
    char line[512];
    size_t vn, n;
    uint64_t cas;
    int hits, r;

    if (!own && w->id == 0 && o->flush_every > 0 &&
        w->done % o->flush_every == o->flush_every - 1) {
        if (roundtrip(w, c, "flush_all\r\n", 11, line, sizeof(line),
                      "flush_all") != 0) {
            return -1;
        }
        if (expect(w, "flush_all", line, "OK") == 0) {
            w->flushes++;
            /* whatever this thread stored before is gone now */
            w->own_why = "flush_all";
            own_remember(w, 1, NULL, 0, false);
        }
        return 0;
    }
    if (op < 5 && !own) {                           /* stats */
        static const char *const sub[] = {
            "stats\r\n", "stats conns\r\n", "stats items\r\n",
            "stats slabs\r\n", "stats settings\r\n",
        };
        const char *req = sub[rnd(&w->seed) % 5];

        if (conn_send(c, req, strlen(req)) != 0) {
            fail(w, "stats: connection lost");
            return -1;
        }
        do {
            if (conn_line(c, line, sizeof(line)) != 0) {
                fail(w, "stats: connection lost");
                return -1;
            }
            if (strncmp(line, "STAT ", 5) != 0 && strcmp(line, "END") != 0) {
                fail(w, "stats: unexpected line '%s'", line);
                break;
            }
        } while (strcmp(line, "END") != 0);
        return 0;
    }
    if (op < 250) {                                 /* set */
        if (own && w->own_len > (size_t)o->maxlen * 4) {
            own_remember(w, 0, NULL, 0, false);
        }
        vn = make_value(val, &w->seed, o->maxlen, kname);
        n = store_cmd(cmd, "set", kname, val, vn, 0);
        if (own) {
            w->own_state = 0;   /* unknown until the reply says */
        }
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "set") != 0) {
            return -1;
        }
        if (expect(w, "set", line, "STORED") == 0 && own) {
            own_remember(w, 2, val, vn, false);
        }
    } else if (op < 500) {                          /* get */
        n = (size_t)snprintf(cmd, 512, "get %s\r\n", kname);
        if (conn_send(c, cmd, n) != 0 ||
            read_values(w, c, &hits, NULL) != 0) {
            return -1;
        }
        w->hits += hits;
        w->misses += 1 - hits;
        if (own && hits == 0 && w->own_state >= 2) {
            /* flush_all by another thread or an eviction */
            w->own_why = "get miss";
            own_remember(w, 1, NULL, 0, false);
        }
    } else if (op < 600) {                          /* gets + cas */
        n = (size_t)snprintf(cmd, 512, "gets %s\r\n", kname);
        cas = 0;
        if (conn_send(c, cmd, n) != 0 ||
            read_values(w, c, &hits, &cas) != 0) {
            return -1;
        }
        if (hits == 0) {
            if (own) {
                w->own_why = "gets miss";
                own_remember(w, 1, NULL, 0, false);
            }
            return 0;
        }
        if (cas == 0) {
            fail(w, "gets %s: CAS unique 0", kname);
            return 0;
        }
        vn = make_value(val, &w->seed, o->maxlen, kname);
        n = store_cmd(cmd, "cas", kname, val, vn, cas);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "cas") != 0) {
            return -1;
        }
        r = expect(w, "cas", line, "STORED|EXISTS|NOT_FOUND");
        if (own) {
            if (r == 0) {
                own_remember(w, 2, val, vn, false);
            } else if (r == 1) {
                corrupt(w, "cas %s: EXISTS, but only this thread writes it",
                        kname);
                own_remember(w, 0, NULL, 0, false);
            } else {
                w->own_why = "cas NOT_FOUND";
                own_remember(w, r == 2 ? 1 : 0, NULL, 0, false);
            }
        }
    } else if (op < 680) {                          /* append/prepend */
        bool app = op < 650;

        vn = make_value(val, &w->seed, SMALL_REC, kname);
        n = store_cmd(cmd, app ? "append" : "prepend", kname, val, vn, 0);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "append") != 0) {
            return -1;
        }
        r = expect(w, "append", line, "STORED|NOT_STORED");
        if (own) {
            /* a present key may vanish any time (another thread's
             * flush_all, an eviction); an absent one can only come back
             * through this thread */
            if (r == 0 && w->own_state == 1) {
                corrupt(w, "append %s: STORED on an absent key", kname);
                own_remember(w, 0, NULL, 0, false);
            } else if (r == 0 && app && w->own_state >= 2 &&
                       w->own_len + vn <= (size_t)o->maxlen * 4 + SMALL_REC) {
                own_remember(w, 2, val, vn, true);
            } else if (r == 1 && w->own_state >= 2) {
                /* out of memory for the joined value, or gone */
                w->own_state = 3;
            } else if (r != 1 || w->own_state != 1) {
                own_remember(w, 0, NULL, 0, false);
            }
        }
    } else if (op < 730) {                          /* touch */
        n = (size_t)snprintf(cmd, 512, "touch %s %d\r\n", kname,
                             (int)(rnd(&w->seed) % 2) * 3600);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "touch") != 0) {
            return -1;
        }
        r = expect(w, "touch", line, "TOUCHED|NOT_FOUND");
        if (own && r == 0 && w->own_state == 1) {
            corrupt(w, "touch %s: TOUCHED an absent key", kname);
            own_remember(w, 0, NULL, 0, false);
        } else if (own && r == 1) {
            w->own_why = "touch NOT_FOUND";
            own_remember(w, 1, NULL, 0, false);
        }
    } else if (op < 770) {                          /* gat */
        n = (size_t)snprintf(cmd, 512, "gat 0 %s stress:%d\r\n", kname,
                             (int)(rnd(&w->seed) % (uint64_t)o->keys));
        if (conn_send(c, cmd, n) != 0 ||
            read_values(w, c, &hits, NULL) != 0) {
            return -1;
        }
        w->hits += hits;
    } else if (op < 800) {                          /* add */
        vn = make_value(val, &w->seed, o->maxlen, kname);
        n = store_cmd(cmd, "add", kname, val, vn, 0);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "add") != 0) {
            return -1;
        }
        r = expect(w, "add", line, "STORED|NOT_STORED");
        if (own) {
            if (r == 1 && w->own_state == 1) {
                corrupt(w, "add %s: NOT_STORED on an absent key", kname);
                own_remember(w, 0, NULL, 0, false);
            }
            if (r == 0) {
                own_remember(w, 2, val, vn, false);
            } else if (r < 0) {
                own_remember(w, 0, NULL, 0, false);
            }
        }
    } else if (op < 850) {                          /* delete */
        n = (size_t)snprintf(cmd, 512, "delete %s\r\n", kname);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "delete") != 0) {
            return -1;
        }
        r = expect(w, "delete", line, "DELETED|NOT_FOUND");
        if (own && r == 0 && w->own_state == 1) {
            corrupt(w, "delete %s: DELETED an absent key", kname);
        }
        if (own) {
            w->own_why = "delete";
            own_remember(w, r >= 0 ? 1 : 0, NULL, 0, false);
        }
    } else if (op < 930) {                          /* private counter */
        char pk[32];

        snprintf(pk, sizeof(pk), "pctr:%d", w->id);
        n = (size_t)snprintf(cmd, 512, "incr %s 1\r\n", pk);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "incr") != 0) {
            return -1;
        }
        if (strcmp(line, "NOT_FOUND") == 0) {
            n = store_cmd(cmd, "add", pk, "0", 1, 0);
            if (roundtrip(w, c, cmd, n, line, sizeof(line), "add") != 0) {
                return -1;
            }
            w->pctr = expect(w, "add counter", line, "STORED") == 0 ? 0 : -1;
        } else {
            char *end;
            unsigned long long v;

            errno = 0;
            v = strtoull(line, &end, 10);
            if (end == line || *end != '\0' || errno != 0) {
                fail(w, "incr %s: '%s'", pk, line);
                w->pctr = -1;
            } else {
                if (w->pctr >= 0 && v != (unsigned long long)w->pctr + 1) {
                    corrupt(w, "incr %s: %llu after %" PRId64, pk, v,
                            w->pctr);
                }
                w->pctr = (int64_t)v;
                w->incrs++;
            }
        }
    } else {                                        /* shared counters */
        int k = (int)(rnd(&w->seed) % NCOUNTERS);

        n = (size_t)snprintf(cmd, 512, "incr ctr%d 1\r\n", k);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "incr") != 0) {
            return -1;
        }
        if (strcmp(line, "NOT_FOUND") == 0) {
            n = (size_t)snprintf(cmd, 512, "add ctr%d 0 0 1\r\n0\r\n", k);
            if (roundtrip(w, c, cmd, n, line, sizeof(line), "add") != 0) {
                return -1;
            }
            expect(w, "add counter", line, "STORED|NOT_STORED");
        } else if (strspn(line, "0123456789") != strlen(line)) {
            fail(w, "incr ctr%d: '%s'", k, line);
        }
    }
    return 0;
}

/* One operation of the default mix.  -1 when the connection broke. */
static int
op_basic(struct worker *w, struct conn *c, int key, const char *kname,
         char *val, char *cmd)
{
    const struct opts *o = w->o;
    unsigned op = (unsigned)(rnd(&w->seed) % 100);
    char line[512];
    size_t n, vn;
    int hits;

    if (op < 35) {
        vn = make_value(val, &w->seed, o->maxlen, kname);
        n = store_cmd(cmd, "set", kname, val, vn, 0);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "set") != 0) {
            return -1;
        }
        expect(w, "set", line, "STORED");
    } else if (op < 75) {
        n = (size_t)snprintf(cmd, 512, "get %s\r\n", kname);
        if (conn_send(c, cmd, n) != 0 ||
            read_values(w, c, &hits, NULL) != 0) {
            return -1;
        }
        w->hits += hits;
        w->misses += 1 - hits;
    } else if (op < 85) {
        n = (size_t)snprintf(cmd, 512, "get stress:%d stress:%d stress:%d\r\n",
                             key, (key + 1) % o->keys, (key + 7) % o->keys);
        if (conn_send(c, cmd, n) != 0 ||
            read_values(w, c, &hits, NULL) != 0) {
            return -1;
        }
        w->hits += hits;
    } else if (op < 90) {
        n = (size_t)snprintf(cmd, 512, "delete %s\r\n", kname);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "delete") != 0) {
            return -1;
        }
        expect(w, "delete", line, "DELETED|NOT_FOUND");
    } else {
        char *end;

        n = (size_t)snprintf(cmd, 512, "incr ctr%d 1\r\n", key % NCOUNTERS);
        if (roundtrip(w, c, cmd, n, line, sizeof(line), "incr") != 0) {
            return -1;
        }
        errno = 0;
        strtoull(line, &end, 10);
        if (end == line || *end != '\0' || errno != 0) {
            fail(w, "incr ctr%d: '%s'", key % NCOUNTERS, line);
        } else {
            w->incrs++;
        }
    }
    return 0;
}

static bool
time_up(const struct opts *o, long done)
{
    if ((done & 255) != 0) {
        return false;
    }
    if (atomic_load(&stop_all) || now_sec() > deadline) {
        if (o->ops > 0) {
            atomic_store(&stop_all, 1);
        }
        return true;
    }
    return false;
}

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->o;
    struct conn c = { -1, NULL, 0, 0 };
    char *val = malloc((size_t)o->maxlen + 128);
    char *cmd = malloc((size_t)o->maxlen + 512);

    w->own = malloc((size_t)o->maxlen * 4 + 2 * SMALL_REC + 256);
    w->pctr = -1;
    if (val == NULL || cmd == NULL || w->own == NULL ||
        conn_open(&c, o) != 0) {
        fail(w, "cannot connect: %s", strerror(errno));
        goto out;
    }
    for (w->done = 0; o->ops == 0 || w->done < o->ops; w->done++) {
        int key = (int)(rnd(&w->seed) % (uint64_t)o->keys);
        char kname[32];
        bool own = false;
        int rc;

        if (time_up(o, w->done) || w->errors + w->corrupt > 10) {
            break;
        }
        if (o->reconnect > 0 && w->done > 0 &&
            w->done % o->reconnect == 0) {
            conn_close(&c);
            w->reconnects++;
            if (conn_open(&c, o) != 0) {
                fail(w, "cannot reconnect: %s", strerror(errno));
                break;
            }
        }
        snprintf(kname, sizeof(kname), "stress:%d", key);
        if (o->all) {
            unsigned pick = (unsigned)(rnd(&w->seed) % 100);

            if (pick < 10) {
                snprintf(kname, sizeof(kname), "own:%d", w->id);
                own = true;
            } else if (pick < 30 && o->cold > 0) {
                snprintf(kname, sizeof(kname), "cold:%d",
                         (int)(rnd(&w->seed) % (uint64_t)o->cold));
            }
            rc = op_all(w, &c, kname, own, val, cmd);
        } else {
            rc = op_basic(w, &c, key, kname, val, cmd);
        }
        if (rc != 0) {
            break;
        }
    }
out:
    conn_close(&c);
    free(val);
    free(cmd);
    free(w->own);
    return NULL;
}

/* -C: connect, get one key, check it, close; until time is up. */
static void *
churn_run(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->o;
    char cmd[64];

    for (w->done = 0; !time_up(o, w->done) && w->errors + w->corrupt <= 10;
         w->done++) {
        struct conn c;
        int hits;
        size_t n = (size_t)snprintf(
            cmd, sizeof(cmd), "get stress:%d\r\n",
            (int)(rnd(&w->seed) % (uint64_t)o->keys));

        if (conn_open(&c, o) != 0) {
            fail(w, "churn: cannot connect: %s", strerror(errno));
            conn_close(&c);
            break;
        }
        if (conn_send(&c, cmd, n) != 0 ||
            read_values(w, &c, &hits, NULL) != 0) {
            fail(w, "churn: get failed");
        } else {
            w->hits += hits;
        }
        conn_close(&c);
        w->reconnects++;
        if (o->ops > 0 && w->done >= o->ops) {
            break;
        }
    }
    return NULL;
}

/* One request/reply on a fresh connection, for setup and the final sum. */
static int
simple(const struct opts *o, const char *req, char *reply, size_t cap)
{
    struct conn c;
    int rc = -1;

    if (conn_open(&c, o) == 0 && conn_send(&c, req, strlen(req)) == 0 &&
        conn_line(&c, reply, cap) == 0) {
        rc = 0;
    }
    conn_close(&c);
    return rc;
}

static int
counters_sum(const struct opts *o, uint64_t *sum)
{
    struct conn c;
    char line[512];

    *sum = 0;
    if (conn_open(&c, o) != 0) {
        conn_close(&c);
        return -1;
    }
    for (int i = 0; i < NCOUNTERS; i++) {
        char req[64];
        int n = snprintf(req, sizeof(req), "get ctr%d\r\n", i);
        size_t vn;

        if (conn_send(&c, req, (size_t)n) != 0 ||
            conn_line(&c, line, sizeof(line)) != 0 ||
            sscanf(line, "VALUE ctr%*d %*u %zu", &vn) != 1 ||
            conn_line(&c, line, sizeof(line)) != 0) {
            fprintf(stderr, "stress: counter ctr%d missing ('%s')\n", i, line);
            conn_close(&c);
            return -1;
        }
        *sum += strtoull(line, NULL, 10);
        if (conn_line(&c, line, sizeof(line)) != 0 ||
            strcmp(line, "END") != 0) {
            conn_close(&c);
            return -1;
        }
    }
    conn_close(&c);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: stress -h HOST -p PORT | -s PATH [-t THREADS] "
            "[-n OPS] [-k KEYS] [-T SECONDS] [-v MAXLEN] [-a] [-K COLD] "
            "[-f FLUSHEVERY] [-r RECONNECT] [-C CHURNERS]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    struct opts o = { "127.0.0.1", "11211", NULL, 8, 20000, 64, 120, 4000,
                      false, 0, 20000, 0, 0 };
    struct worker *ws;
    long total = 0, hits = 0, errors = 0, corrupted = 0, oom = 0;
    long flushes = 0, conns = 0, churn_ops = 0;
    uint64_t incrs = 0, sum = 0;
    char reply[512];
    double t0;
    int ch, nw;

    while ((ch = getopt(argc, argv, "h:p:s:t:n:k:T:v:aK:f:r:C:")) != -1) {
        switch (ch) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = optarg; break;
        case 's': o.path = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case 'n': o.ops = atol(optarg); break;
        case 'k': o.keys = atoi(optarg); break;
        case 'T': o.seconds = atof(optarg); break;
        case 'v': o.maxlen = atoi(optarg); break;
        case 'a': o.all = true; break;
        case 'K': o.cold = atoi(optarg); break;
        case 'f': o.flush_every = atol(optarg); break;
        case 'r': o.reconnect = atol(optarg); break;
        case 'C': o.churners = atoi(optarg); break;
        default: usage();
        }
    }
    if (o.threads < 1 || o.ops < 0 || o.keys < 1 || o.maxlen < 1 ||
        o.maxlen > 500000 || o.cold < 0 || o.flush_every < 0 ||
        o.reconnect < 0 || o.churners < 0 || o.seconds <= 0) {
        usage();
    }
    for (int i = 0; i < NCOUNTERS; i++) {
        char req[64];

        snprintf(req, sizeof(req), "set ctr%d 0 0 1\r\n0\r\n", i);
        if (simple(&o, req, reply, sizeof(reply)) != 0 ||
            strcmp(reply, "STORED") != 0) {
            fprintf(stderr, "stress: cannot create counters\n");
            return 1;
        }
    }
    nw = o.threads + o.churners;
    ws = calloc((size_t)nw, sizeof(*ws));
    if (ws == NULL) {
        return 1;
    }
    t0 = now_sec();
    deadline = t0 + o.seconds;
    for (int i = 0; i < nw; i++) {
        ws[i].id = i;
        ws[i].o = &o;
        ws[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
        if (pthread_create(&ws[i].tid, NULL,
                           i < o.threads ? worker_run : churn_run,
                           &ws[i]) != 0) {
            fprintf(stderr, "stress: pthread_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < nw; i++) {
        pthread_join(ws[i].tid, NULL);
        if (i < o.threads) {
            total += ws[i].done;
        } else {
            churn_ops += ws[i].done;
        }
        hits += ws[i].hits;
        incrs += ws[i].incrs;
        errors += ws[i].errors;
        corrupted += ws[i].corrupt;
        oom += ws[i].oom;
        flushes += ws[i].flushes;
        conns += ws[i].reconnects;
    }
    free(ws);
    if (atomic_load(&stop_all)) {
        fprintf(stderr, "stress: time limit of %.0fs reached before %ld ops "
                "per thread\n", o.seconds, o.ops);
        errors++;
    }
    if (o.all) {
        /* flush_all and evictions reset the shared counters: only the
         * private counters' exact sequence was checked */
    } else if (counters_sum(&o, &sum) != 0) {
        errors++;
    } else if (sum != incrs) {
        fprintf(stderr, "stress: counters sum to %" PRIu64 ", but %" PRIu64
                " increments succeeded\n", sum, incrs);
        errors++;
    }
    if (o.all) {
        printf("stress: %d threads%s, %ld ops + %ld churn connections in "
               "%.2fs, %ld hits, %ld flush_all, %ld reconnects: ops=%ld "
               "errors=%ld corrupt=%ld oom=%ld: %s\n", o.threads,
               o.churners ? " + churn" : "", total, churn_ops,
               now_sec() - t0, hits, flushes, conns, total + churn_ops,
               errors, corrupted, oom,
               errors || corrupted ? "FAIL" : "PASS");
    } else {
        printf("stress: %d threads, %ld ops in %.2fs, %ld hits, %" PRIu64
               " incrs (counters %" PRIu64 "), ops=%ld errors=%ld corrupt=%ld "
               "oom=%ld: %s\n", o.threads, total, now_sec() - t0, hits, incrs,
               sum, total + churn_ops, errors, corrupted, oom,
               errors || corrupted ? "FAIL" : "PASS");
    }
    return errors || corrupted ? 1 : 0;
}
