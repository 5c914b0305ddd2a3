/*
 * stress.c -- a multi-threaded text-protocol load client that checks what
 * it reads.
 *
 *   stress -h HOST -p PORT [-s UNIXPATH] [-t THREADS] [-n OPS] [-k KEYS]
 *          [-T SECONDS] [-v MAXLEN]
 *
 * Each thread opens its own connection and runs OPS operations on a small
 * shared key set: set, get, multi-get, delete and incr.  Every stored value
 * is "<len>:<fnv64 hex>:<payload>", so every hit on any thread can be
 * checked for torn or mixed-up values.  Counters ("ctr<i>", created before
 * the threads start) are only incremented; at the end their sum must equal
 * the number of increments every thread saw succeed.  Bounded by OPS and by
 * a wall-clock limit; exits 0 when all checks pass, 1 otherwise.
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

struct opts {
    const char *host;
    const char *port;
    const char *path;
    int threads;
    long ops;
    int keys;
    double seconds;
    int maxlen;
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

static uint64_t
fnv64(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
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
fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    w->errors++;
    if (w->errors > 10) {
        return;
    }
    fprintf(stderr, "stress: thread %d: ", w->id);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
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
    free(c->buf);
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

/* Build "<len>:<fnv hex>:<payload>" of total length about len. */
static size_t
make_value(char *dst, uint64_t *seed, int maxlen)
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
    snprintf(dst, 64, "%zu:%016" PRIx64, plen, fnv64(payload, plen));
    dst[head - 1] = ':';
    return (size_t)head + plen;
}

static bool
check_value(const char *v, size_t n)
{
    char *end;
    unsigned long long plen;
    unsigned long long sum;
    const char *colon;

    plen = strtoull(v, &end, 10);
    if (end == v || *end != ':') {
        return false;
    }
    colon = end + 1;
    sum = strtoull(colon, &end, 16);
    if (end != colon + 16 || *end != ':') {
        return false;
    }
    end++;
    if ((size_t)(end - v) + plen != n) {
        return false;
    }
    return fnv64(end, plen) == sum;
}

/* Read VALUE lines up to END, checking each value.  -1 on protocol error. */
static int
read_values(struct worker *w, struct conn *c, int *hits)
{
    char line[512];

    *hits = 0;
    for (;;) {
        char key[300];
        unsigned flags;
        size_t n;

        if (conn_line(c, line, sizeof(line)) != 0) {
            fail(w, "get: connection lost or bad line");
            return -1;
        }
        if (strcmp(line, "END") == 0) {
            return 0;
        }
        if (sscanf(line, "VALUE %299s %u %zu", key, &flags, &n) != 3) {
            fail(w, "get: unexpected line '%s'", line);
            return -1;
        }
        if (conn_need(c, n + 2) != 0) {
            fail(w, "get: value of %zu bytes not received", n);
            return -1;
        }
        if (memcmp(c->buf + c->pos + n, "\r\n", 2) != 0) {
            fail(w, "get %s: value not followed by CRLF", key);
        } else if (!check_value(c->buf + c->pos, n)) {
            fail(w, "get %s: corrupt value (%zu bytes)", key, n);
        } else if (flags != (unsigned)strlen(key)) {
            fail(w, "get %s: flags %u, expected %zu", key, flags,
                 strlen(key));
        }
        c->pos += n + 2;
        (*hits)++;
    }
}

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->o;
    struct conn c;
    char *val = malloc((size_t)o->maxlen + 128);
    char *cmd = malloc((size_t)o->maxlen + 512);
    char line[512];

    if (val == NULL || cmd == NULL || conn_open(&c, o) != 0) {
        fail(w, "cannot connect: %s", strerror(errno));
        free(val);
        free(cmd);
        return NULL;
    }
    for (w->done = 0; w->done < o->ops; w->done++) {
        int key = (int)(rnd(&w->seed) % (uint64_t)o->keys);
        unsigned op = (unsigned)(rnd(&w->seed) % 100);
        char kname[32];
        int kn = snprintf(kname, sizeof(kname), "stress:%d", key);
        int hits;

        if ((w->done & 255) == 0 &&
            (atomic_load(&stop_all) || now_sec() > deadline)) {
            atomic_store(&stop_all, 1);
            break;
        }
        if (w->errors > 10) {
            break;
        }
        if (op < 35) {
            size_t vn = make_value(val, &w->seed, o->maxlen);
            int hn = snprintf(cmd, 512, "set %s %d 0 %zu\r\n", kname, kn, vn);

            memcpy(cmd + hn, val, vn);
            memcpy(cmd + hn + vn, "\r\n", 2);
            if (conn_send(&c, cmd, (size_t)hn + vn + 2) != 0 ||
                conn_line(&c, line, sizeof(line)) != 0) {
                fail(w, "set: connection lost");
                break;
            }
            if (strcmp(line, "STORED") != 0) {
                fail(w, "set %s: '%s'", kname, line);
            }
        } else if (op < 75) {
            int n = snprintf(cmd, 512, "get %s\r\n", kname);

            if (conn_send(&c, cmd, (size_t)n) != 0 ||
                read_values(w, &c, &hits) != 0) {
                break;
            }
            w->hits += hits;
            w->misses += 1 - hits;
        } else if (op < 85) {
            int n = snprintf(cmd, 512, "get stress:%d stress:%d stress:%d\r\n",
                             key, (key + 1) % o->keys, (key + 7) % o->keys);

            if (conn_send(&c, cmd, (size_t)n) != 0 ||
                read_values(w, &c, &hits) != 0) {
                break;
            }
            w->hits += hits;
        } else if (op < 90) {
            int n = snprintf(cmd, 512, "delete %s\r\n", kname);

            if (conn_send(&c, cmd, (size_t)n) != 0 ||
                conn_line(&c, line, sizeof(line)) != 0) {
                fail(w, "delete: connection lost");
                break;
            }
            if (strcmp(line, "DELETED") != 0 &&
                strcmp(line, "NOT_FOUND") != 0) {
                fail(w, "delete %s: '%s'", kname, line);
            }
        } else {
            int n = snprintf(cmd, 512, "incr ctr%d 1\r\n", key % NCOUNTERS);
            char *end;

            if (conn_send(&c, cmd, (size_t)n) != 0 ||
                conn_line(&c, line, sizeof(line)) != 0) {
                fail(w, "incr: connection lost");
                break;
            }
            errno = 0;
            strtoull(line, &end, 10);
            if (end == line || *end != '\0' || errno != 0) {
                fail(w, "incr ctr%d: '%s'", key % NCOUNTERS, line);
            } else {
                w->incrs++;
            }
        }
    }
    conn_close(&c);
    free(val);
    free(cmd);
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
            "[-n OPS] [-k KEYS] [-T SECONDS] [-v MAXLEN]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    struct opts o = { "127.0.0.1", "11211", NULL, 8, 20000, 64, 120, 4000 };
    struct worker *ws;
    long total = 0, hits = 0, errors = 0;
    uint64_t incrs = 0, sum = 0;
    char reply[512];
    double t0;
    int ch;

    while ((ch = getopt(argc, argv, "h:p:s:t:n:k:T:v:")) != -1) {
        switch (ch) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = optarg; break;
        case 's': o.path = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case 'n': o.ops = atol(optarg); break;
        case 'k': o.keys = atoi(optarg); break;
        case 'T': o.seconds = atof(optarg); break;
        case 'v': o.maxlen = atoi(optarg); break;
        default: usage();
        }
    }
    if (o.threads < 1 || o.ops < 1 || o.keys < 1 || o.maxlen < 1 ||
        o.maxlen > 500000) {
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
    ws = calloc((size_t)o.threads, sizeof(*ws));
    if (ws == NULL) {
        return 1;
    }
    t0 = now_sec();
    deadline = t0 + o.seconds;
    for (int i = 0; i < o.threads; i++) {
        ws[i].id = i;
        ws[i].o = &o;
        ws[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
        if (pthread_create(&ws[i].tid, NULL, worker_run, &ws[i]) != 0) {
            fprintf(stderr, "stress: pthread_create failed\n");
            return 1;
        }
    }
    for (int i = 0; i < o.threads; i++) {
        pthread_join(ws[i].tid, NULL);
        total += ws[i].done;
        hits += ws[i].hits;
        incrs += ws[i].incrs;
        errors += ws[i].errors;
    }
    free(ws);
    if (atomic_load(&stop_all)) {
        fprintf(stderr, "stress: time limit of %.0fs reached before %ld ops "
                "per thread\n", o.seconds, o.ops);
        errors++;
    }
    if (counters_sum(&o, &sum) != 0) {
        errors++;
    } else if (sum != incrs) {
        fprintf(stderr, "stress: counters sum to %" PRIu64 ", but %" PRIu64
                " increments succeeded\n", sum, incrs);
        errors++;
    }
    printf("stress: %d threads, %ld ops in %.2fs, %ld hits, %" PRIu64
           " incrs (counters %" PRIu64 "), %ld errors: %s\n", o.threads,
           total, now_sec() - t0, hits, incrs, sum, errors,
           errors ? "FAIL" : "PASS");
    return errors ? 1 : 0;
}
