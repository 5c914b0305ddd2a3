/*
 * loadgen -- a small closed-loop load generator for the memcached text
 * protocol, used by scripts/bench to compare stashd with memcached.
 *
 * Design: M threads, each with its own epoll set, own N/M non-blocking TCP
 * connections and no shared mutable state except the final counters, which
 * are summed after join.  Every connection keeps up to `depth` requests in
 * flight (default 1: one request, wait for its reply, send the next).  All
 * buffers are allocated before the measured window: requests are assembled
 * by memcpy from a pre-built key table and value, replies are parsed in
 * place by a streaming parser, so the hot path never calls malloc.
 *
 * Each reply is verified: a get's VALUE lines must name the requested keys
 * in request order (misses are skipped), carry flags 0 and exactly the
 * expected number of bytes, equal to the pattern every set writes; a set
 * must answer STORED.  Anything else counts as an error.
 *
 * --proto binary speaks memcached's binary protocol instead: a set is one
 * Set packet (extras: flags 0, exptime 0), a single-key get one Get packet,
 * a multiget B GetKQ packets and a Noop (the Noop's reply ends the request;
 * misses are silent).  The opaque field carries the key index, so every
 * reply is matched to its request; GetKQ replies must also echo the key.
 * A reply is an error unless its status is success (or key-not-found for a
 * get, a miss), and a hit's extras are flags 0 and its value the pattern,
 * byte for byte.  The `stats` sampling stays on the text protocol.
 *
 * The measured window: all connections are opened first; then the main
 * thread samples the server (its /proc/<pid>/stat CPU ticks, its
 * /proc/<pid>/schedstat run time and its `stats` counters), releases the
 * workers, and samples again once every worker has stopped issuing and has
 * drained its outstanding replies.  So server-side deltas cover exactly the
 * requests the generator counted (plus the one `stats` call itself).
 *
 * Modes:
 *   mix    random keys, --get-pct % single-key gets, the rest sets
 *   mget   random keys, gets of --batch keys each ("get k1 ... kB")
 *   load   set every key once, in order, keys split over the connections
 *   check  get every key once, --batch keys per get; counts survivors
 *
 * --tls (built with -DLG_TLS and -lssl -lcrypto, as scripts/bench does
 * when OpenSSL is there): every connection, the stats one included, does a
 * TLS handshake before the window (no certificate check: loopback bench);
 * the window then measures encrypted requests only.  Reads loop until
 * OpenSSL says WANT_READ (one SSL_read returns one record, so a short read
 * does not mean the socket is drained).
 *
 * Output: one line of key=value pairs on stdout (see lg_report()).
 * Exit status: 0 if the run completed (errors are reported, not fatal),
 * 1 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifdef LG_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#define LG_KEY_MIN   12     /* "key:%08d" */
#define LG_KEY_MAX   250
#define LG_BATCH_MAX 256
#define LG_RBUF      (64 * 1024)
#define LG_EVENTS    64
#define LG_STALL     30     /* seconds without any reply: give up */
#define LG_SPIN_CHECK 100000 /* empty polls between stall checks */

enum lg_mode {
    LG_MIX,
    LG_MGET,
    LG_LOAD,
    LG_CHECK
};

enum lg_kind {
    LG_REQ_GET,
    LG_REQ_SET
};

enum lg_pstate {
    LG_PS_LINE,     /* waiting for a reply line (binary: a reply header) */
    LG_PS_DATA,     /* inside a VALUE's data block (binary: value/body) */
    LG_PS_CRLF      /* after the data block, expecting "\r\n" */
};

enum lg_proto {
    LG_TEXT,
    LG_BINARY
};

/* Binary protocol: header size, magics and the opcodes used. */
#define LG_BIN_HDR      24
#define LG_BIN_REQ      0x80
#define LG_BIN_RES      0x81
#define LG_BIN_GET      0x00
#define LG_BIN_SET      0x01
#define LG_BIN_NOOP     0x0a
#define LG_BIN_GETKQ    0x0d
#define LG_BIN_ENOENT   0x0001

/* What the end of the current binary reply's body does. */
enum lg_bact {
    LG_BA_COMPLETE,     /* completes the head request */
    LG_BA_ITEM          /* one GetKQ hit inside a multiget */
};

struct lg_opts {
    const char  *host;
    const char  *port;
    int          conns;
    int          threads;
    int          depth;
    double       duration;      /* seconds; 0 = no time bound */
    uint64_t     count;         /* requests; 0 = no count bound */
    enum lg_mode mode;
    uint32_t     keys;
    int          keylen;
    int          vlen;
    int          get_pct;
    int          batch;
    pid_t        pid;           /* server pid to sample, 0 = none */
    int          stats;         /* sample the server's `stats` */
    int          spin;          /* poll with epoll_wait(0), never sleep */
    int          tls;           /* --tls: connections speak TLS */
    uint64_t     seed;
    enum lg_proto proto;
};

/* One request in flight: its kind and the key indexes it names. */
struct lg_req {
    uint8_t   kind;
    uint16_t  nkeys;
    uint32_t *keys;             /* points into the connection's key slab */
};

struct lg_counts {
    uint64_t requests;          /* completed requests (a multiget is one) */
    uint64_t gets;              /* completed get commands */
    uint64_t sets;              /* completed set commands */
    uint64_t hits;              /* keys returned by gets */
    uint64_t misses;            /* keys asked for and not returned */
    uint64_t errors;            /* bad or unexpected replies */
    uint64_t broken;            /* connections closed on a desync/IO error */
};

struct lg_conn {
    int            fd;
    int            broken;
    int            done;        /* issues no more requests */
    uint64_t       rng;
    /* key range for load/check, quota for count-bounded runs */
    uint32_t       next_key;
    uint32_t       end_key;
    uint64_t       quota;
    /* requests in flight, a ring of `depth` slots */
    struct lg_req *ring;
    uint32_t      *keyslab;     /* depth * batch key indexes */
    int            head;
    int            outstanding;
    /* reply parser */
    enum lg_pstate pstate;
    int            kcur;        /* next key of the head request to match */
    int            rhits;       /* hits so far in the head request */
    int            vbad;        /* current value differs from the pattern */
    uint32_t       dleft;
    uint32_t       doff;
    /* binary reply parser */
    uint8_t        bskip;       /* body is skipped, not compared */
    uint8_t        berr;        /* the reply's status is an error */
    uint8_t        bact;        /* enum lg_bact */
    char          *rbuf;
    size_t         rlen;
    /* output */
    char          *wbuf;
    size_t         wcap;
    size_t         wlen;
    size_t         wpos;
    int            want_out;    /* EPOLLOUT registered */
    void          *ssl;         /* SSL * with --tls, else NULL */
};

struct lg_thread {
    pthread_t         tid;
    int               id;
    int               nconns;
    struct lg_conn   *conns;
    int               epfd;
    struct lg_counts  c;
};

/* Read-only after setup. */
static struct lg_opts g_opt;
static char *g_keytab;          /* keys * keylen bytes, no separators */
static char *g_value;           /* the pattern every set stores */
static char  g_sethdr[64];      /* " 0 0 <vlen>\r\n" */
static size_t g_sethdr_len;
static pthread_barrier_t g_ready;
static pthread_barrier_t g_go;
static struct timespec g_deadline;
static int g_timed;

static void
lg_die(const char *msg)
{
    perror(msg);
    exit(1);
}

static double
lg_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: cheap, good enough to spread keys uniformly. */
static inline uint64_t
lg_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline const char *
lg_key(uint32_t idx)
{
    return g_keytab + (size_t)idx * g_opt.keylen;
}

/* Builds the key table ("key:%08d" padded with 'x') and the value pattern. */
static void
lg_tables_setup(void)
{
    size_t n = (size_t)g_opt.keys * g_opt.keylen;
    char tmp[32];

    g_keytab = malloc(n);
    g_value = malloc(g_opt.vlen + 1);
    if (g_keytab == NULL || g_value == NULL) {
        lg_die("malloc");
    }
    for (uint32_t i = 0; i < g_opt.keys; i++) {
        char *k = g_keytab + (size_t)i * g_opt.keylen;
        int l = snprintf(tmp, sizeof(tmp), "key:%08" PRIu32, i);

        memset(k, 'x', g_opt.keylen);
        memcpy(k, tmp, l);
    }
    for (int i = 0; i < g_opt.vlen; i++) {
        g_value[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36];
    }
    g_sethdr_len = snprintf(g_sethdr, sizeof(g_sethdr), " 0 0 %d\r\n",
                            g_opt.vlen);
}

static int
lg_connect(int nonblock)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, one = 1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(g_opt.host, g_opt.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "loadgen: %s:%s: %s\n", g_opt.host, g_opt.port,
                gai_strerror(rc));
        exit(1);
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "loadgen: cannot connect to %s:%s: %s\n",
                g_opt.host, g_opt.port, strerror(errno));
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (nonblock) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    return fd;
}

/* ---- TLS: read()/write() look-alikes over an SSL * ---------------------- */

#ifdef LG_TLS
static SSL_CTX *g_tls_ctx;

/* Handshake on a blocking fd (before the window); the SSL * or exit. */
static void *
lg_tls_open(int fd)
{
    SSL *ssl;

    if (g_tls_ctx == NULL) {
        g_tls_ctx = SSL_CTX_new(TLS_client_method());
        if (g_tls_ctx == NULL) {
            lg_die("SSL_CTX_new");
        }
        SSL_CTX_set_mode(g_tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    ssl = SSL_new(g_tls_ctx);
    if (ssl == NULL || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1) {
        ERR_print_errors_fp(stderr);
        fprintf(stderr, "loadgen: TLS handshake failed\n");
        exit(1);
    }
    return ssl;
}

/* errno EAGAIN for "try later", as a non-blocking socket says it. */
static ssize_t
lg_tls_result(SSL *ssl, int r, size_t done)
{
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        (void)done;
        errno = EIO;
        return -1;
    }
}
#endif

static ssize_t
lg_read(int fd, void *ssl, void *buf, size_t n)
{
#ifdef LG_TLS
    if (ssl != NULL) {
        size_t got = 0;
        int r = SSL_read_ex(ssl, buf, n, &got);

        return r > 0 ? (ssize_t)got : lg_tls_result(ssl, r, got);
    }
#endif
    return read(fd, buf, n);
}

static ssize_t
lg_write(int fd, void *ssl, const void *buf, size_t n)
{
#ifdef LG_TLS
    if (ssl != NULL) {
        size_t done = 0;
        int r = SSL_write_ex(ssl, buf, n, &done);

        return r > 0 ? (ssize_t)done : lg_tls_result(ssl, r, done);
    }
#endif
    return write(fd, buf, n);
}

/* A connection as --tls says: TLS handshake done, non-blocking if asked. */
static int
lg_open(int nonblock, void **ssl)
{
    int fd = lg_connect(0);

    *ssl = NULL;
#ifdef LG_TLS
    if (g_opt.tls) {
        *ssl = lg_tls_open(fd);
    }
#endif
    if (nonblock) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    return fd;
}

static void
lg_close(int fd, void *ssl)
{
#ifdef LG_TLS
    SSL_free(ssl);
#endif
    close(fd);
}

/* ---- server sampling ------------------------------------------------ */

struct lg_sample {
    double   wall;
    double   self_cpu;          /* this generator's user+sys seconds */
    int      have_cpu;
    uint64_t ticks;             /* utime + stime, clock ticks */
    uint64_t sched_ns;          /* /proc/<pid>/schedstat run time */
    int      have_stats;
    uint64_t cmd_get, cmd_set, get_hits, get_misses;
    uint64_t curr_items, evictions, total_items;
};

static void
lg_sample_cpu(struct lg_sample *s)
{
    char path[64], buf[1024];
    FILE *f;
    char *p;
    unsigned long long ut = 0, st = 0, run = 0;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)g_opt.pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return;
    }
    if (fgets(buf, sizeof(buf), f) == NULL) {
        fclose(f);
        return;
    }
    fclose(f);
    /* comm may hold spaces or parens: fields restart after the last ')' */
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                            "%*u %llu %llu", &ut, &st) != 2) {
        return;
    }
    s->ticks = ut + st;
    s->have_cpu = 1;
    /* schedstat is per thread: sum over the server's threads (ns). */
    snprintf(path, sizeof(path), "/proc/%d/task", (int)g_opt.pid);
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *de;

        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') {
                continue;
            }
            snprintf(buf, sizeof(buf), "/proc/%d/task/%s/schedstat",
                     (int)g_opt.pid, de->d_name);
            f = fopen(buf, "r");
            if (f != NULL) {
                if (fscanf(f, "%llu", &run) == 1) {
                    s->sched_ns += run;
                }
                fclose(f);
            }
        }
        closedir(d);
    }
}

static uint64_t
lg_stat_field(const char *buf, const char *name)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "STAT %s ", name);
    p = strstr(buf, pat);
    if (p == NULL) {
        return 0;
    }
    return strtoull(p + strlen(pat), NULL, 10);
}

static void
lg_sample_stats(struct lg_sample *s)
{
    static char buf[65536];
    size_t len = 0;
    void *ssl;
    int fd = lg_open(0, &ssl);

    if (lg_write(fd, ssl, "stats\r\n", 7) != 7) {
        lg_die("write stats");
    }
    for (;;) {
        ssize_t n = lg_read(fd, ssl, buf + len, sizeof(buf) - 1 - len);

        if (n <= 0) {
            break;
        }
        len += n;
        buf[len] = '\0';
        if (len >= 5 && memcmp(buf + len - 5, "END\r\n", 5) == 0) {
            break;
        }
        if (len == sizeof(buf) - 1) {
            break;
        }
    }
    lg_close(fd, ssl);
    buf[len] = '\0';
    s->cmd_get = lg_stat_field(buf, "cmd_get");
    s->cmd_set = lg_stat_field(buf, "cmd_set");
    s->get_hits = lg_stat_field(buf, "get_hits");
    s->get_misses = lg_stat_field(buf, "get_misses");
    s->curr_items = lg_stat_field(buf, "curr_items");
    s->evictions = lg_stat_field(buf, "evictions");
    s->total_items = lg_stat_field(buf, "total_items");
    s->have_stats = strstr(buf, "STAT cmd_get ") != NULL;
}

static void
lg_sample(struct lg_sample *s)
{
    struct rusage ru;

    memset(s, 0, sizeof(*s));
    if (g_opt.pid > 0) {
        lg_sample_cpu(s);
    }
    if (g_opt.stats) {
        lg_sample_stats(s);
    }
    s->wall = lg_now();
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        s->self_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    }
}

/* ---- requests --------------------------------------------------------- */

static int
lg_time_up(void)
{
    struct timespec ts;

    if (!g_timed) {
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec > g_deadline.tv_sec ||
           (ts.tv_sec == g_deadline.tv_sec &&
            ts.tv_nsec >= g_deadline.tv_nsec);
}

static inline void
lg_put(struct lg_conn *c, const void *p, size_t n)
{
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

static inline void
lg_be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static inline uint32_t
lg_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

/* Appends a binary request header (vbucket, datatype and cas 0). */
static inline void
lg_bhdr(struct lg_conn *c, uint8_t op, uint16_t klen, uint8_t elen,
        uint32_t blen, uint32_t opaque)
{
    unsigned char *h = (unsigned char *)c->wbuf + c->wlen;

    memset(h, 0, LG_BIN_HDR);
    h[0] = LG_BIN_REQ;
    h[1] = op;
    h[2] = klen >> 8;
    h[3] = klen & 0xff;
    h[4] = elen;
    lg_be32(h + 8, blen);
    lg_be32(h + 12, opaque);
    c->wlen += LG_BIN_HDR;
}

/* Binary form of request r: Set, Get, or GetKQ x nkeys + Noop. */
static void
lg_bput(struct lg_conn *c, const struct lg_req *r)
{
    uint16_t kl = g_opt.keylen;

    if (r->kind == LG_REQ_SET) {
        lg_bhdr(c, LG_BIN_SET, kl, 8, 8 + kl + g_opt.vlen, r->keys[0]);
        memset(c->wbuf + c->wlen, 0, 8);    /* flags 0, exptime 0 */
        c->wlen += 8;
        lg_put(c, lg_key(r->keys[0]), kl);
        lg_put(c, g_value, g_opt.vlen);
    } else if (g_opt.mode == LG_MIX) {
        lg_bhdr(c, LG_BIN_GET, kl, 0, kl, r->keys[0]);
        lg_put(c, lg_key(r->keys[0]), kl);
    } else {
        for (int i = 0; i < r->nkeys; i++) {
            lg_bhdr(c, LG_BIN_GETKQ, kl, 0, kl, r->keys[i]);
            lg_put(c, lg_key(r->keys[i]), kl);
        }
        lg_bhdr(c, LG_BIN_NOOP, 0, 0, 0, UINT32_MAX);
    }
}

/* Appends one request to the write buffer and the ring; 0 if none left. */
static int
lg_issue(struct lg_conn *c)
{
    int slot = (c->head + c->outstanding) % g_opt.depth;
    struct lg_req *r = &c->ring[slot];
    int nk = 1;

    r->keys = c->keyslab + (size_t)slot * g_opt.batch;
    switch (g_opt.mode) {
    case LG_MIX:
        r->kind = (int)(lg_rand(&c->rng) % 100) < g_opt.get_pct ?
                  LG_REQ_GET : LG_REQ_SET;
        r->keys[0] = lg_rand(&c->rng) % g_opt.keys;
        break;
    case LG_MGET:
        r->kind = LG_REQ_GET;
        nk = g_opt.batch;
        for (int i = 0; i < nk; i++) {
            r->keys[i] = lg_rand(&c->rng) % g_opt.keys;
        }
        break;
    case LG_LOAD:
        if (c->next_key >= c->end_key) {
            return 0;
        }
        r->kind = LG_REQ_SET;
        r->keys[0] = c->next_key++;
        break;
    case LG_CHECK:
        if (c->next_key >= c->end_key) {
            return 0;
        }
        r->kind = LG_REQ_GET;
        nk = 0;
        while (nk < g_opt.batch && c->next_key < c->end_key) {
            r->keys[nk++] = c->next_key++;
        }
        break;
    }
    r->nkeys = nk;
    if (g_opt.proto == LG_BINARY) {
        lg_bput(c, r);
    } else if (r->kind == LG_REQ_SET) {
        lg_put(c, "set ", 4);
        lg_put(c, lg_key(r->keys[0]), g_opt.keylen);
        lg_put(c, g_sethdr, g_sethdr_len);
        lg_put(c, g_value, g_opt.vlen);
        lg_put(c, "\r\n", 2);
    } else {
        lg_put(c, "get", 3);
        for (int i = 0; i < nk; i++) {
            c->wbuf[c->wlen++] = ' ';
            lg_put(c, lg_key(r->keys[i]), g_opt.keylen);
        }
        lg_put(c, "\r\n", 2);
    }
    c->outstanding++;
    return 1;
}

static void
lg_break(struct lg_thread *t, struct lg_conn *c)
{
    if (c->broken) {
        return;
    }
    c->broken = 1;
    c->done = 1;
    t->c.broken++;
    t->c.errors += c->outstanding > 0 ? c->outstanding : 1;
    c->outstanding = 0;
    epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    lg_close(c->fd, c->ssl);
    c->ssl = NULL;
}

/* Writes what is buffered; registers for EPOLLOUT if the socket is full. */
static void
lg_flush(struct lg_thread *t, struct lg_conn *c)
{
    while (c->wpos < c->wlen) {
        ssize_t n = lg_write(c->fd, c->ssl, c->wbuf + c->wpos,
                             c->wlen - c->wpos);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                break;
            }
            lg_break(t, c);
            return;
        }
        c->wpos += n;
    }
    if (c->wpos == c->wlen) {
        c->wpos = c->wlen = 0;
    }
    int want = c->wlen > 0;
    if (want != c->want_out) {
        struct epoll_event ev = {
            .events = EPOLLIN | (want ? EPOLLOUT : 0),
            .data.ptr = c
        };
        epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = want;
    }
}

/* Tops the connection up to `depth` requests in flight. */
static void
lg_refill(struct lg_thread *t, struct lg_conn *c)
{
    if (c->done || c->broken) {
        return;
    }
    /* Only append when the previous batch left the buffer: keeps wbuf
     * bounded by depth requests. */
    if (c->wlen > 0) {
        return;
    }
    while (c->outstanding < g_opt.depth) {
        if (c->quota == 0 || lg_time_up() || !lg_issue(c)) {
            c->done = 1;
            break;
        }
        c->quota--;
    }
    lg_flush(t, c);
}

static void
lg_complete(struct lg_thread *t, struct lg_conn *c, int error)
{
    struct lg_req *r = &c->ring[c->head];

    t->c.requests++;
    if (r->kind == LG_REQ_GET) {
        t->c.gets++;
        t->c.hits += c->rhits;
        t->c.misses += r->nkeys - c->rhits;
    } else {
        t->c.sets++;
    }
    if (error) {
        t->c.errors++;
    }
    c->head = (c->head + 1) % g_opt.depth;
    c->outstanding--;
    c->kcur = 0;
    c->rhits = 0;
}

static int
lg_prefix(const char *line, size_t len, const char *p)
{
    size_t n = strlen(p);

    return len >= n && memcmp(line, p, n) == 0;
}

/*
 * Handles "VALUE <key> <flags> <bytes>" for the head request: the key must
 * be one of its not yet matched keys, flags 0.  Returns -1 on a desync.
 */
static int
lg_value_line(struct lg_conn *c, char *line, size_t len)
{
    struct lg_req *r = &c->ring[c->head];
    char *key = line + 6, *sp, *end;
    size_t klen;
    unsigned long flags, bytes;

    line[len] = '\0';   /* the byte was '\r' or '\n': ours to clobber */
    sp = memchr(key, ' ', len - 6);
    if (sp == NULL) {
        return -1;
    }
    klen = sp - key;
    flags = strtoul(sp + 1, &end, 10);
    if (*end != ' ') {
        return -1;
    }
    bytes = strtoul(end + 1, &end, 10);
    if (*end != '\0' && *end != ' ') {
        return -1;
    }
    int found = -1;
    if (klen == (size_t)g_opt.keylen) {
        for (int i = c->kcur; i < r->nkeys; i++) {
            if (memcmp(key, lg_key(r->keys[i]), klen) == 0) {
                found = i;
                break;
            }
        }
    }
    if (found < 0) {
        return -1;
    }
    c->kcur = found + 1;
    c->rhits++;
    c->vbad = flags != 0 || bytes != (unsigned long)g_opt.vlen;
    c->dleft = bytes;
    c->doff = 0;
    c->pstate = LG_PS_DATA;
    return 0;
}

/* Handles one complete reply line; -1 on a desync. */
static int
lg_line(struct lg_thread *t, struct lg_conn *c, char *line, size_t len)
{
    if (c->outstanding == 0) {
        return -1;
    }
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    struct lg_req *r = &c->ring[c->head];

    if (lg_prefix(line, len, "SERVER_ERROR") ||
        lg_prefix(line, len, "CLIENT_ERROR") ||
        (len == 5 && memcmp(line, "ERROR", 5) == 0)) {
        lg_complete(t, c, 1);
        return 0;
    }
    if (r->kind == LG_REQ_SET) {
        lg_complete(t, c, !(len == 6 && memcmp(line, "STORED", 6) == 0));
        return 0;
    }
    if (len == 3 && memcmp(line, "END", 3) == 0) {
        lg_complete(t, c, 0);
        return 0;
    }
    if (lg_prefix(line, len, "VALUE ")) {
        return lg_value_line(c, line, len);
    }
    return -1;
}

/* Consumes as much of rbuf as forms whole protocol units. */
static int
lg_parse(struct lg_thread *t, struct lg_conn *c)
{
    size_t pos = 0;

    while (pos < c->rlen) {
        char *p = c->rbuf + pos;
        size_t avail = c->rlen - pos;

        if (c->pstate == LG_PS_DATA) {
            size_t n = avail < c->dleft ? avail : c->dleft;

            if (!c->vbad && memcmp(p, g_value + c->doff, n) != 0) {
                c->vbad = 1;
            }
            c->doff += n;
            c->dleft -= n;
            pos += n;
            if (c->dleft == 0) {
                c->pstate = LG_PS_CRLF;
            }
            continue;
        }
        if (c->pstate == LG_PS_CRLF) {
            if (avail < 2) {
                break;
            }
            if (p[0] != '\r' || p[1] != '\n') {
                return -1;
            }
            pos += 2;
            c->pstate = LG_PS_LINE;
            if (c->vbad) {
                t->c.errors++;
                c->vbad = 0;
            }
            continue;
        }
        char *nl = memchr(p, '\n', avail);
        if (nl == NULL) {
            if (avail > 1024) {
                return -1;  /* no reply line is this long */
            }
            break;
        }
        if (lg_line(t, c, p, nl - p) < 0) {
            return -1;
        }
        pos += nl - p + 1;
    }
    if (pos < c->rlen) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
    }
    c->rlen -= pos;
    return 0;
}

/*
 * Binary: checks a reply header (with its extras and key, all in p) against
 * the head request and sets up how its body is consumed.  -1 on a desync:
 * a reply that belongs to no outstanding request.
 */
static int
lg_bhead(struct lg_thread *t, struct lg_conn *c, const unsigned char *p,
         uint8_t elen, uint16_t klen, uint32_t vlen)
{
    struct lg_req *r = &c->ring[c->head];
    uint8_t op = p[1];
    uint16_t status = (uint16_t)(p[6] << 8 | p[7]);
    uint32_t opaque = lg_get32(p + 12);
    const unsigned char *ext = p + LG_BIN_HDR, *key = ext + elen;
    int hit_ok;

    (void)t;
    c->bskip = 1;
    c->berr = 0;
    c->vbad = 0;
    c->bact = LG_BA_COMPLETE;
    /* A hit: flags 0 in 4 bytes of extras and the value's length. */
    hit_ok = elen == 4 && memcmp(ext, "\0\0\0\0", 4) == 0 &&
             vlen == (uint32_t)g_opt.vlen;
    if (r->kind == LG_REQ_SET) {
        if (op != LG_BIN_SET || opaque != r->keys[0]) {
            return -1;
        }
        c->berr = status != 0;
        return 0;
    }
    if (g_opt.mode == LG_MIX) {
        if (op != LG_BIN_GET || opaque != r->keys[0]) {
            return -1;
        }
        if (status == 0) {
            c->rhits = 1;
            c->bskip = 0;
            c->vbad = !hit_ok || klen != 0;
        } else if (status != LG_BIN_ENOENT) {
            c->berr = 1;
        }
        return 0;
    }
    if (op == LG_BIN_NOOP) {
        c->berr = status != 0;
        return 0;
    }
    if (op != LG_BIN_GETKQ) {
        return -1;
    }
    c->bact = LG_BA_ITEM;
    if (status != 0) {
        c->berr = 1;    /* a quiet get answers only hits and errors */
        return 0;
    }
    int found = -1;
    if (klen == (uint16_t)g_opt.keylen) {
        for (int i = c->kcur; i < r->nkeys; i++) {
            if (opaque == r->keys[i] &&
                memcmp(key, lg_key(r->keys[i]), klen) == 0) {
                found = i;
                break;
            }
        }
    }
    if (found < 0) {
        return -1;
    }
    c->kcur = found + 1;
    c->rhits++;
    c->bskip = 0;
    c->vbad = !hit_ok;
    return 0;
}

/* Binary: the current reply's body has been consumed. */
static void
lg_bdone(struct lg_thread *t, struct lg_conn *c)
{
    int bad = c->berr || c->vbad;

    c->berr = 0;
    c->vbad = 0;
    c->pstate = LG_PS_LINE;
    if (c->bact == LG_BA_COMPLETE) {
        lg_complete(t, c, bad);
    } else if (bad) {
        t->c.errors++;
    }
}

/* Binary counterpart of lg_parse(). */
static int
lg_bparse(struct lg_thread *t, struct lg_conn *c)
{
    size_t pos = 0;

    while (pos < c->rlen) {
        unsigned char *p = (unsigned char *)c->rbuf + pos;
        size_t avail = c->rlen - pos;

        if (c->pstate == LG_PS_DATA) {
            size_t n = avail < c->dleft ? avail : c->dleft;

            if (!c->bskip && !c->vbad &&
                memcmp(p, g_value + c->doff, n) != 0) {
                c->vbad = 1;
            }
            c->doff += n;
            c->dleft -= n;
            pos += n;
            if (c->dleft == 0) {
                lg_bdone(t, c);
            }
            continue;
        }
        if (avail < LG_BIN_HDR) {
            break;
        }
        uint16_t klen = (uint16_t)(p[2] << 8 | p[3]);
        uint8_t elen = p[4];
        uint32_t blen = lg_get32(p + 8);

        if (p[0] != LG_BIN_RES || c->outstanding == 0 ||
            (uint32_t)elen + klen > blen || klen > LG_KEY_MAX) {
            return -1;
        }
        if (avail < (size_t)LG_BIN_HDR + elen + klen) {
            break;
        }
        if (lg_bhead(t, c, p, elen, klen, blen - elen - klen) < 0) {
            return -1;
        }
        pos += LG_BIN_HDR + elen + klen;
        c->dleft = blen - elen - klen;
        c->doff = 0;
        if (c->dleft == 0) {
            lg_bdone(t, c);
        } else {
            c->pstate = LG_PS_DATA;
        }
    }
    if (pos < c->rlen) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
    }
    c->rlen -= pos;
    return 0;
}

static void
lg_readable(struct lg_thread *t, struct lg_conn *c)
{
    for (;;) {
        size_t room = LG_RBUF - c->rlen;
        ssize_t n = lg_read(c->fd, c->ssl, c->rbuf + c->rlen, room);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n <= 0) {
            if (c->outstanding > 0 || !c->done) {
                lg_break(t, c);
            }
            return;
        }
        c->rlen += n;
        if ((g_opt.proto == LG_BINARY ? lg_bparse(t, c) :
             lg_parse(t, c)) < 0) {
            fprintf(stderr, "loadgen: protocol desync, closing connection\n");
            lg_break(t, c);
            return;
        }
        /* A short read means the socket is drained; skip the EAGAIN
         * round trip that a second read() would cost.  (Not under TLS:
         * one SSL_read returns one record.) */
        if ((size_t)n < room && c->ssl == NULL) {
            return;
        }
    }
}

static void *
lg_thread_main(void *arg)
{
    struct lg_thread *t = arg;
    struct epoll_event evs[LG_EVENTS];
    double last = 0;
    unsigned spins = 0;
    int live;

    t->epfd = epoll_create1(0);
    if (t->epfd < 0) {
        lg_die("epoll_create1");
    }
    for (int i = 0; i < t->nconns; i++) {
        struct lg_conn *c = &t->conns[i];
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

        c->fd = lg_open(1, &c->ssl);
        if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
            lg_die("epoll_ctl");
        }
    }
    pthread_barrier_wait(&g_ready);
    pthread_barrier_wait(&g_go);

    for (int i = 0; i < t->nconns; i++) {
        lg_refill(t, &t->conns[i]);
    }
    for (;;) {
        live = 0;
        for (int i = 0; i < t->nconns; i++) {
            struct lg_conn *c = &t->conns[i];

            if (!c->broken && (!c->done || c->outstanding > 0)) {
                live++;
            }
        }
        if (live == 0) {
            break;
        }
        int n = epoll_wait(t->epfd, evs, LG_EVENTS,
                           g_opt.spin ? 0 : 1000);
        if (n < 0 && errno != EINTR) {
            lg_die("epoll_wait");
        }
        if (n == 0 && g_opt.spin) {
            /* Poll instead of sleeping: the generator's core is ours, and
             * a sleep/wake per reply costs more than the reply itself.
             * Yield so a second generator on this core is not starved. */
            sched_yield();
            if (++spins < LG_SPIN_CHECK) {
                continue;
            }
            spins = 0;
        }
        if (n <= 0) {
            /* A server that stops answering must not hang the bench. */
            if (last == 0) {
                last = lg_now();
            } else if (lg_now() - last > LG_STALL) {
                fprintf(stderr, "loadgen: no reply for %d s, giving up\n",
                        LG_STALL);
                for (int i = 0; i < t->nconns; i++) {
                    struct lg_conn *c = &t->conns[i];

                    if (!c->done || c->outstanding > 0) {
                        lg_break(t, c);
                    }
                }
            }
            continue;
        }
        last = 0;
        for (int i = 0; i < n; i++) {
            struct lg_conn *c = evs[i].data.ptr;

            if (c->broken) {
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                lg_flush(t, c);
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                lg_readable(t, c);
            }
            if (!c->broken) {
                lg_refill(t, c);
            }
        }
    }
    for (int i = 0; i < t->nconns; i++) {
        if (!t->conns[i].broken) {
            lg_close(t->conns[i].fd, t->conns[i].ssl);
        }
    }
    close(t->epfd);
    return NULL;
}

/* ---- setup and report ------------------------------------------------- */

static void
lg_usage(void)
{
    fprintf(stderr,
        "usage: loadgen [options]\n"
        "  -s, --host HOST       server address (127.0.0.1)\n"
        "  -p, --port PORT       server port (11211)\n"
        "  -c, --conns N         connections (16)\n"
        "  -T, --threads N       threads, connections spread over them (1)\n"
        "  -d, --depth N         requests in flight per connection (1)\n"
        "  -D, --duration SEC    stop issuing after SEC seconds (10; 0=none)\n"
        "  -n, --count N         stop after N requests in all (0=none)\n"
        "  -m, --mode MODE       mix | mget | load | check (mix)\n"
        "  -k, --keys N          key space: key indexes 0..N-1 (100000)\n"
        "  -K, --key-len N       key length: \"key:%%08d\", 'x'-padded (12)\n"
        "  -v, --value-len N     value bytes (100)\n"
        "  -g, --get-pct P       mix: percent of gets (90)\n"
        "  -b, --batch N         mget/check: keys per get (16)\n"
        "  -P, --pid PID         sample /proc/PID CPU over the window\n"
        "  -S, --stats           sample the server's stats over the window\n"
        "  -y, --spin            busy-poll instead of sleeping in epoll_wait\n"
        "  -r, --seed N          random seed (1)\n"
        "  -B, --proto PROTO     text | binary (text)\n"
        "      --tls             speak TLS (if built with -DLG_TLS)\n");
    exit(1);
}

static void
lg_parse_opts(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "host", 1, NULL, 's' }, { "port", 1, NULL, 'p' },
        { "conns", 1, NULL, 'c' }, { "threads", 1, NULL, 'T' },
        { "depth", 1, NULL, 'd' }, { "duration", 1, NULL, 'D' },
        { "count", 1, NULL, 'n' }, { "mode", 1, NULL, 'm' },
        { "keys", 1, NULL, 'k' }, { "key-len", 1, NULL, 'K' },
        { "value-len", 1, NULL, 'v' }, { "get-pct", 1, NULL, 'g' },
        { "batch", 1, NULL, 'b' }, { "pid", 1, NULL, 'P' },
        { "stats", 0, NULL, 'S' }, { "spin", 0, NULL, 'y' },
        { "seed", 1, NULL, 'r' }, { "help", 0, NULL, 'h' },
        { "proto", 1, NULL, 'B' }, { "tls", 0, NULL, 1 },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    g_opt.host = "127.0.0.1";
    g_opt.port = "11211";
    g_opt.conns = 16;
    g_opt.threads = 1;
    g_opt.depth = 1;
    g_opt.duration = 10;
    g_opt.mode = LG_MIX;
    g_opt.keys = 100000;
    g_opt.keylen = LG_KEY_MIN;
    g_opt.vlen = 100;
    g_opt.get_pct = 90;
    g_opt.batch = 16;
    g_opt.seed = 1;
    while ((ch = getopt_long(argc, argv, "s:p:c:T:d:D:n:m:k:K:v:g:b:P:Syr:B:h",
                             lopts, NULL)) != -1) {
        switch (ch) {
        case 's': g_opt.host = optarg; break;
        case 'p': g_opt.port = optarg; break;
        case 'c': g_opt.conns = atoi(optarg); break;
        case 'T': g_opt.threads = atoi(optarg); break;
        case 'd': g_opt.depth = atoi(optarg); break;
        case 'D': g_opt.duration = atof(optarg); break;
        case 'n': g_opt.count = strtoull(optarg, NULL, 10); break;
        case 'k': g_opt.keys = strtoul(optarg, NULL, 10); break;
        case 'K': g_opt.keylen = atoi(optarg); break;
        case 'v': g_opt.vlen = atoi(optarg); break;
        case 'g': g_opt.get_pct = atoi(optarg); break;
        case 'b': g_opt.batch = atoi(optarg); break;
        case 'P': g_opt.pid = atoi(optarg); break;
        case 'S': g_opt.stats = 1; break;
        case 1:
#ifndef LG_TLS
            fprintf(stderr, "loadgen: built without TLS (-DLG_TLS)\n");
            exit(1);
#endif
            g_opt.tls = 1;
            break;
        case 'y': g_opt.spin = 1; break;
        case 'r': g_opt.seed = strtoull(optarg, NULL, 10); break;
        case 'B':
            if (strcmp(optarg, "text") == 0) {
                g_opt.proto = LG_TEXT;
            } else if (strcmp(optarg, "binary") == 0) {
                g_opt.proto = LG_BINARY;
            } else {
                lg_usage();
            }
            break;
        case 'm':
            if (strcmp(optarg, "mix") == 0) {
                g_opt.mode = LG_MIX;
            } else if (strcmp(optarg, "mget") == 0) {
                g_opt.mode = LG_MGET;
            } else if (strcmp(optarg, "load") == 0) {
                g_opt.mode = LG_LOAD;
            } else if (strcmp(optarg, "check") == 0) {
                g_opt.mode = LG_CHECK;
            } else {
                lg_usage();
            }
            break;
        default:
            lg_usage();
        }
    }
    if (optind != argc || g_opt.conns < 1 || g_opt.threads < 1 ||
        g_opt.depth < 1 || g_opt.depth > 4096 || g_opt.keys < 1 ||
        g_opt.keylen < LG_KEY_MIN || g_opt.keylen > LG_KEY_MAX ||
        g_opt.vlen < 0 || g_opt.get_pct < 0 || g_opt.get_pct > 100 ||
        g_opt.batch < 1 || g_opt.batch > LG_BATCH_MAX ||
        g_opt.duration < 0 || g_opt.keys > 100000000) {
        lg_usage();
    }
    if (g_opt.mode == LG_MIX || g_opt.mode == LG_LOAD) {
        g_opt.batch = 1;
    }
    if (g_opt.threads > g_opt.conns) {
        g_opt.threads = g_opt.conns;
    }
}

/* Splits keys (load/check) or the request count over all connections. */
static void
lg_conn_setup(struct lg_conn *c, int global_idx)
{
    uint64_t n = g_opt.conns;
    size_t req_max;

    memset(c, 0, sizeof(*c));
    c->rng = g_opt.seed * 0x9E3779B97F4A7C15ULL + global_idx + 1;
    c->next_key = (uint32_t)((uint64_t)g_opt.keys * global_idx / n);
    c->end_key = (uint32_t)((uint64_t)g_opt.keys * (global_idx + 1) / n);
    if (g_opt.count > 0) {
        c->quota = g_opt.count / n + ((uint64_t)global_idx <
                                      g_opt.count % n ? 1 : 0);
    } else {
        c->quota = UINT64_MAX;
    }
    c->ring = calloc(g_opt.depth, sizeof(*c->ring));
    c->keyslab = calloc((size_t)g_opt.depth * g_opt.batch, sizeof(uint32_t));
    c->rbuf = malloc(LG_RBUF);
    req_max = 4 + (size_t)g_opt.keylen + g_sethdr_len + g_opt.vlen + 2;
    if (req_max < 5 + (size_t)g_opt.batch * (g_opt.keylen + 1)) {
        req_max = 5 + (size_t)g_opt.batch * (g_opt.keylen + 1);
    }
    /* binary: Set with 8 bytes of extras, or batch GetKQ and a Noop */
    if (req_max < LG_BIN_HDR + 8 + (size_t)g_opt.keylen + g_opt.vlen) {
        req_max = LG_BIN_HDR + 8 + (size_t)g_opt.keylen + g_opt.vlen;
    }
    if (req_max < (size_t)g_opt.batch * (LG_BIN_HDR + g_opt.keylen) +
                  LG_BIN_HDR) {
        req_max = (size_t)g_opt.batch * (LG_BIN_HDR + g_opt.keylen) +
                  LG_BIN_HDR;
    }
    c->wcap = req_max * g_opt.depth;
    c->wbuf = malloc(c->wcap);
    if (c->ring == NULL || c->keyslab == NULL || c->rbuf == NULL ||
        c->wbuf == NULL) {
        lg_die("malloc");
    }
}

static void
lg_conn_destroy(struct lg_conn *c)
{
    free(c->ring);
    free(c->keyslab);
    free(c->rbuf);
    free(c->wbuf);
}

static const char *
lg_mode_name(void)
{
    static const char *names[] = { "mix", "mget", "load", "check" };

    return names[g_opt.mode];
}

static void
lg_report(const struct lg_counts *tot, const struct lg_sample *a,
          const struct lg_sample *b, double elapsed)
{
    printf("loadgen mode=%s conns=%d threads=%d depth=%d keys=%" PRIu32
           " key_len=%d value_len=%d get_pct=%d batch=%d"
           " requests=%" PRIu64 " gets=%" PRIu64 " sets=%" PRIu64
           " hits=%" PRIu64 " misses=%" PRIu64 " errors=%" PRIu64
           " broken=%" PRIu64 " elapsed=%.6f ops_per_s=%.1f proto=%s",
           lg_mode_name(), g_opt.conns, g_opt.threads, g_opt.depth,
           g_opt.keys, g_opt.keylen, g_opt.vlen,
           g_opt.mode == LG_MIX ? g_opt.get_pct :
           (g_opt.mode == LG_LOAD ? 0 : 100), g_opt.batch,
           tot->requests, tot->gets, tot->sets, tot->hits, tot->misses,
           tot->errors, tot->broken, elapsed,
           elapsed > 0 ? tot->requests / elapsed : 0.0,
           g_opt.proto == LG_BINARY ? "binary" : "text");
    printf(" gen_cpu_us=%.0f", (b->self_cpu - a->self_cpu) * 1e6);
    if (a->have_cpu && b->have_cpu) {
        long hz = sysconf(_SC_CLK_TCK);

        printf(" srv_window=%.6f srv_cpu_us=%.0f srv_sched_us=%.0f",
               b->wall - a->wall,
               (double)(b->ticks - a->ticks) * 1e6 / hz,
               (double)(b->sched_ns - a->sched_ns) / 1e3);
    }
    if (a->have_stats && b->have_stats) {
        printf(" srv_cmd_get=%" PRIu64 " srv_cmd_set=%" PRIu64
               " srv_get_hits=%" PRIu64 " srv_get_misses=%" PRIu64
               " srv_curr_items=%" PRIu64 " srv_evictions=%" PRIu64
               " srv_total_items=%" PRIu64,
               b->cmd_get - a->cmd_get, b->cmd_set - a->cmd_set,
               b->get_hits - a->get_hits, b->get_misses - a->get_misses,
               b->curr_items, b->evictions - a->evictions,
               b->total_items - a->total_items);
    }
    printf("\n");
}

int
main(int argc, char **argv)
{
    struct lg_thread *threads;
    struct lg_sample before, after;
    struct lg_counts tot;
    double t0, t1;
    int gi = 0;

    lg_parse_opts(argc, argv);
    lg_tables_setup();

    threads = calloc(g_opt.threads, sizeof(*threads));
    if (threads == NULL) {
        lg_die("calloc");
    }
    if (pthread_barrier_init(&g_ready, NULL, g_opt.threads + 1) != 0 ||
        pthread_barrier_init(&g_go, NULL, g_opt.threads + 1) != 0) {
        lg_die("pthread_barrier_init");
    }
    for (int i = 0; i < g_opt.threads; i++) {
        struct lg_thread *t = &threads[i];

        t->id = i;
        t->nconns = g_opt.conns / g_opt.threads +
                    (i < g_opt.conns % g_opt.threads ? 1 : 0);
        t->conns = calloc(t->nconns, sizeof(*t->conns));
        if (t->conns == NULL) {
            lg_die("calloc");
        }
        for (int j = 0; j < t->nconns; j++) {
            lg_conn_setup(&t->conns[j], gi++);
        }
    }
    for (int i = 0; i < g_opt.threads; i++) {
        if (pthread_create(&threads[i].tid, NULL, lg_thread_main,
                           &threads[i]) != 0) {
            lg_die("pthread_create");
        }
    }
    pthread_barrier_wait(&g_ready);
    lg_sample(&before);
    t0 = lg_now();
    if (g_opt.duration > 0) {
        double end = t0 + g_opt.duration;

        g_deadline.tv_sec = (time_t)end;
        g_deadline.tv_nsec = (long)((end - (time_t)end) * 1e9);
        g_timed = 1;
    }
    pthread_barrier_wait(&g_go);

    memset(&tot, 0, sizeof(tot));
    for (int i = 0; i < g_opt.threads; i++) {
        struct lg_counts *c = &threads[i].c;

        pthread_join(threads[i].tid, NULL);
        tot.requests += c->requests;
        tot.gets += c->gets;
        tot.sets += c->sets;
        tot.hits += c->hits;
        tot.misses += c->misses;
        tot.errors += c->errors;
        tot.broken += c->broken;
    }
    t1 = lg_now();
    lg_sample(&after);
    lg_report(&tot, &before, &after, t1 - t0);
    fflush(stdout);
    for (int i = 0; i < g_opt.threads; i++) {
        for (int j = 0; j < threads[i].nconns; j++) {
            lg_conn_destroy(&threads[i].conns[j]);
        }
        free(threads[i].conns);
    }
    free(threads);
    free(g_keytab);
    free(g_value);
    return 0;
}
