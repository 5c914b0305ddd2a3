/*
 * admin_crawler.c -- lru_crawler and stats cachedump (daemon/admin_crawler.h).
 *
 *   lru_crawler enable | disable
 *   lru_crawler crawl <all|ID[,ID...]>
 *   lru_crawler metadump <all|hash|ID[,ID...]>
 *   lru_crawler mgdump <all|hash|ID[,ID...]>
 *   lru_crawler sleep <usec 0..1000000>
 *   lru_crawler tocrawl <n>
 *   stats cachedump <ID> <limit>
 *
 * Replies and argument rules are memcached 1.6.18's, byte for byte (mgdump,
 * which 1.6.18 lacks, follows the later memcached releases).  Numbers are
 * read as memcached's safe_strtoul reads them: strtoul, sign refused, the
 * value cut to 32 bits.  metadump and mgdump are formatted on the crawler
 * thread, as memcached's are, one at a time (BUSY otherwise); the worker
 * only sends (admin_bgdump below).  stats cachedump, bounded by its
 * limit, and dumps on connections without a socket run on the worker:
 * each pass formats batches from slab/dump.h until the output is full,
 * then pauses (the request stays unconsumed) and resumes from its job
 * once the socket drains.  A client that closes mid-dump frees the job,
 * and a dump may follow other pipelined commands.
 *
 * Calls: slab/dump.h, slab/crawler.h (crawler_job_*), px->post (the
 * wake-up, a daemon/task.h node), proto/out.h, proto/base64.h.
 */
#include "daemon/admin_crawler.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/task.h"
#include "proto/base64.h"
#include "proto/out.h"
#include "proto/request.h"
#include "proto/text.h"
#include "slab/crawler.h"
#include "slab/dump.h"
#include "slab/slabs.h"

/* How a dump's records are printed. */
enum admin_dump_fmt {
    ADMIN_METADUMP,
    ADMIN_MGDUMP,
    ADMIN_CACHEDUMP,
};

/* A dump in progress: px->resume_job while the request is paused. */
struct admin_dump_job {
    struct dump *d;
    enum admin_dump_fmt fmt;
    uint64_t limit;         /* cachedump: lines at most, 0 all */
    uint64_t listed;
};

/* Output bytes after which a pass of a dump lets the worker serve its
 * other connections: in practice one batch of slab/dump.c (32 items, some
 * 30 us).  Larger passes made gets on the dump's worker wait longer
 * (scripts/dumplat -t 1: p50 450 us at 32 KiB, 130 us at 8 KiB, 110 us at
 * 2 KiB); the sends of small passes are corked (out_more), so they cost a
 * syscall each but no wake-up of the reader. */
#define ADMIN_DUMP_PASS (2 * 1024)

/* The longest line of any listing: a metadump line of a 250-byte key,
 * every byte %-encoded, and numbers of 20 digits. */
#define ADMIN_LINE_MAX (3 * 250 + 160)

/* Every class id a dump or crawl may name. */
#define ADMIN_ALL_CLASSES (~(uint64_t)1)

/* A token read as memcached's safe_strtoul reads it. */
static bool
admin_crawler_u32(const char *tok, size_t len, uint32_t *out)
{
    char buf[64];
    char *end;
    unsigned long v;

    if (len == 0 || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, tok, len);
    buf[len] = '\0';
    errno = 0;
    v = strtoul(buf, &end, 10);
    if (errno == ERANGE || end == buf) {
        return false;
    }
    if (!isspace((unsigned char)*end) && *end != '\0') {
        return false;
    }
    if ((long)v < 0 && memchr(buf, '-', (size_t)(end - buf)) != NULL) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/*
 * The class set of a crawl/dump argument: "all", or ids separated by commas
 * (empty pieces skipped).  0 mask with *hash set for "hash"; false for a
 * bad id (BADCLASS).
 */
static bool
admin_crawler_classes(const char *tok, size_t len, uint64_t *mask,
                      bool *hash)
{
    size_t i = 0;

    *mask = 0;
    *hash = false;
    if (len == 3 && memcmp(tok, "all", 3) == 0) {
        *mask = ADMIN_ALL_CLASSES;
        return true;
    }
    if (len == 4 && memcmp(tok, "hash", 4) == 0) {
        *hash = true;
        return true;
    }
    while (i < len) {
        size_t j = i;
        uint32_t id;

        while (j < len && tok[j] != ',') {
            j++;
        }
        if (j > i) {
            if (!admin_crawler_u32(tok + i, j - i, &id) || id < 1 ||
                id >= SLAB_CLASS_MAX) {
                return false;
            }
            *mask |= (uint64_t)1 << id;
        }
        i = j + 1;
    }
    return true;
}

static void
admin_dump_free(void *job)
{
    struct admin_dump_job *j = job;

    dump_destroy(j->d);
    free(j);
}

/* Percent-encode key as memcached's metadump does: all but unreserved URI
 * characters (RFC 3986) become %XX.  dst holds 3 * n bytes. */
static size_t
admin_uriencode(const char *key, size_t n, char *dst)
{
    static const char hex[] = "0123456789ABCDEF";
    char *p = dst;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)key[i];

        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~') {
            *p++ = (char)ch;
        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    return (size_t)(p - dst);
}

/* Would a text command refuse this key (space, control byte)?  Such keys
 * are printed in base64 with the meta "b" flag. */
static bool
admin_key_binary(const char *key, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)key[i];

        if (ch <= ' ' || ch == 0x7f) {
            return true;
        }
    }
    return false;
}

/* Copy the literal lit to p + n; returns the new length. */
static size_t
admin_put(char *p, size_t n, const char *lit)
{
    size_t len = strlen(lit);

    memcpy(p + n, lit, len);
    return n + len;
}

/* Write one record's line in the job's format to p (ADMIN_LINE_MAX bytes
 * of room); returns its length. */
static size_t
admin_dump_line(char *p, enum admin_dump_fmt fmt, const struct dump_rec *r)
{
    size_t n = 0;

    switch (fmt) {
    case ADMIN_METADUMP:
        /* key=K exp=E la=A cas=C fetch=yes|no cls=N size=S, without
         * printf: its format parsing was a third of a dump's CPU, time in
         * which a get on the dump's worker waits */
        n = admin_put(p, 0, "key=");
        n += admin_uriencode(r->key, r->nkey, p + n);
        n = admin_put(p, n, " exp=");
        if (r->exptime == 0) {
            n = admin_put(p, n, "-1");
        } else {
            n += text_u64(p + n, (uint64_t)r->exptime);
        }
        n = admin_put(p, n, " la=");
        n += text_u64(p + n, (uint64_t)r->atime);
        n = admin_put(p, n, " cas=");
        n += text_u64(p + n, r->cas);
        n = admin_put(p, n, r->fetched ? " fetch=yes cls=" : " fetch=no cls=");
        n += text_u64(p + n, r->clsid);
        n = admin_put(p, n, " size=");
        n += text_u64(p + n, r->size);
        p[n++] = '\n';
        break;
    case ADMIN_MGDUMP:
        memcpy(p, "mg ", 3);
        n = 3;
        if (admin_key_binary(r->key, r->nkey)) {
            n += base64_encode(r->key, r->nkey, p + n);
            memcpy(p + n, " b\r\n", 4);
            n += 4;
        } else {
            memcpy(p + n, r->key, r->nkey);
            n += r->nkey;
            memcpy(p + n, "\r\n", 2);
            n += 2;
        }
        break;
    case ADMIN_CACHEDUMP:
        memcpy(p, "ITEM ", 5);
        memcpy(p + 5, r->key, r->nkey);
        n = 5 + r->nkey;
        n = admin_put(p, n, " [");
        n += text_u64(p + n, r->nbytes);
        n = admin_put(p, n, " b; ");
        n += text_u64(p + n, (uint64_t)r->exptime);
        n = admin_put(p, n, " s]\r\n");
        break;
    }
    return n;
}

/* px's dump has let go of its job: the request is answered in full. */
static enum process_rc
admin_dump_over(struct process_ctx *px)
{
    px->resume_job = NULL;
    px->resume_free = NULL;
    px->resume_pos = 0;
    return PROCESS_DONE;
}

/* Run (or resume) px's dump until it ends or the output is full. */
static enum process_rc
admin_dump_run(struct process_ctx *px)
{
    static const char *const end[] = {"END\r\n", "EN\r\n", "END\r\n"};
    struct admin_dump_job *j = px->resume_job;
    size_t start = px->out->pending;
    bool over = false;

    /* a pass stops at ADMIN_DUMP_PASS bytes so that the worker's other
     * clients wait little (daemon/conn.c resumes it on a later event) */
    while (!over && !process_out_full(px) &&
           px->out->pending - start < ADMIN_DUMP_PASS) {
        const struct dump_rec *r;
        unsigned n = dump_next(j->d, &r);

        over = n == 0;
        for (unsigned i = 0; i < n; i++) {
            if (j->limit != 0 && j->listed == j->limit) {
                over = true;
                break;
            }
            char *p = out_reserve(px->out, ADMIN_LINE_MAX);

            if (p != NULL) {
                out_commit(px->out, admin_dump_line(p, j->fmt, &r[i]));
            }
            j->listed++;
        }
    }
    /* the lines of a pass, ~3 KiB, sent corked: each send that reaches the
     * reader wakes it, and on a shared CPU the woken reader preempts the
     * worker and the gets it serves (scripts/dumplat -t 1) */
    px->out_more = !over;
    if (!over) {
        return PROCESS_PAUSED;
    }
    out_str(px->out, end[j->fmt]);
    admin_dump_free(j);
    return admin_dump_over(px);
}

/* Start a dump job on px and run its first pass. */
static enum process_rc
admin_dump_start(struct process_ctx *px, struct request *req,
                 uint64_t classes, enum dump_order order,
                 enum admin_dump_fmt fmt, uint64_t limit)
{
    struct admin_dump_job *j = calloc(1, sizeof(*j));

    if (j != NULL) {
        /* memcached's cachedump lists what is linked, dead or not */
        j->d = dump_create(px->store, classes, order,
                           fmt == ADMIN_CACHEDUMP);
    }
    if (j == NULL || j->d == NULL) {
        free(j);
        admin_reply(px, req, "SERVER_ERROR out of memory");
        return PROCESS_DONE;
    }
    j->fmt = fmt;
    j->limit = limit;
    px->resume_job = j;
    px->resume_free = admin_dump_free;
    return admin_dump_run(px);
}

/*
 * A metadump or mgdump formatted on the crawler thread (slab/crawler.h's
 * job), as memcached formats its dumps there: the worker that owns the
 * connection only moves ready bytes into its output when the socket has
 * drained, so gets on that worker never queue behind the formatting.
 *
 * The producer (crawler thread) formats one batch of slab/dump.c into its
 * own scratch with no lock held, then appends it to buf under lock, and
 * waits (CRAWLER_JOB_WAIT) while buf holds more than ADMIN_BGDUMP_BUF.
 * The consumer (the owner's worker) takes all of buf into its output and
 * kicks a waiting producer; finding buf empty, it goes idle
 * (px->resume_idle) and the producer's next append posts it a wake-up.
 * Memory per dumping connection is thus bounded: buf and the output each
 * hold at most ADMIN_BGDUMP_BUF (or one batch if larger), the scratch one
 * batch: 32 lines of at most ADMIN_LINE_MAX bytes, more only for a long
 * hash chain.  Some 160 KiB, and one dump runs at a time.  A client that stops reading stops the producer; one that
 * leaves makes it quit at its next step.
 *
 * Lifetime: refs counts the owner, the producer and a posted wake-up;
 * the last one frees.  The wake-up is posted under lock, so the owner's
 * worker (which destroys its connections before dropping its posted
 * tasks) never receives a post for a connection already gone.  Lock
 * order: job lock, then the worker's queue lock (worker_post) or bg_lock
 * (crawler_job_wake is called with no job lock held).
 */
struct admin_bgdump {
    pthread_mutex_t lock;
    unsigned refs;              /* atomic */
    struct worker_task task;    /* the owner's wake-up */
    struct store *store;
    void (*post)(void *owner, struct worker_task *t);
    void (*resume)(void *owner);
    /* under lock */
    void *owner;                /* NULL once the connection let go */
    char *buf;
    size_t len;
    size_t cap;
    bool done;                  /* the producer finished: buf is the rest */
    bool aborted;               /* ... because the crawler thread stopped */
    bool owner_waits;           /* the consumer found buf empty */
    bool producer_waits;        /* the producer found buf full */
    bool posted;                /* the wake-up is queued */
    /* the producer's own */
    struct dump *d;
    enum admin_dump_fmt fmt;
    char *scratch;
    size_t slen;
    size_t scap;
    bool over;                  /* dump_next said 0 */
};

/* Bytes buf may hold before the producer waits: 4 batches of 32 typical
 * metadump lines; the consumer takes them in one pass. */
#define ADMIN_BGDUMP_BUF (64 * 1024)

static void
admin_bgdump_unref(struct admin_bgdump *j)
{
    if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    dump_destroy(j->d);
    pthread_mutex_destroy(&j->lock);
    free(j->scratch);
    free(j->buf);
    free(j);
}

/* Wake a waiting owner (lock held). */
static void
admin_bgdump_wake_locked(struct admin_bgdump *j)
{
    if (!j->owner_waits || j->posted || j->owner == NULL) {
        return;
    }
    j->owner_waits = false;
    j->posted = true;
    __atomic_add_fetch(&j->refs, 1, __ATOMIC_RELAXED);
    j->post(j->owner, &j->task);
}

/* The wake-up, on the owner's worker. */
static void
admin_bgdump_task_run(struct worker_task *t)
{
    struct admin_bgdump *j =
        (struct admin_bgdump *)((char *)t - offsetof(struct admin_bgdump,
                                                     task));
    void *owner;

    pthread_mutex_lock(&j->lock);
    j->posted = false;
    owner = j->owner;
    pthread_mutex_unlock(&j->lock);
    if (owner != NULL) {
        j->resume(owner);
    }
    admin_bgdump_unref(j);
}

/* The wake-up dropped unrun (its worker is being destroyed). */
static void
admin_bgdump_task_drop(struct worker_task *t)
{
    admin_bgdump_unref(
        (struct admin_bgdump *)((char *)t - offsetof(struct admin_bgdump,
                                                     task)));
}

/* Format the dump's next batch into the scratch (no lock held). */
static void
admin_bgdump_format(struct admin_bgdump *j)
{
    const struct dump_rec *r;
    unsigned n = dump_next(j->d, &r);
    size_t need = (size_t)n * ADMIN_LINE_MAX;

    if (n == 0) {
        j->over = true;
        return;
    }
    if (need > j->scap) {
        char *p = realloc(j->scratch, need);

        if (p == NULL) {
            /* drop this batch rather than the dump: as the worker-run
             * dump does when its output cannot grow */
            return;
        }
        j->scratch = p;
        j->scap = need;
    }
    for (unsigned i = 0; i < n; i++) {
        j->slen += admin_dump_line(j->scratch + j->slen, j->fmt, &r[i]);
    }
}

/* Move the scratch into buf if it fits (lock held); false if it does not
 * (or buf cannot grow). */
static bool
admin_bgdump_append_locked(struct admin_bgdump *j)
{
    if (j->len > 0 && j->len + j->slen > ADMIN_BGDUMP_BUF) {
        return false;
    }
    if (j->len + j->slen > j->cap) {
        char *p = realloc(j->buf, j->len + j->slen);

        if (p == NULL) {
            return false;
        }
        j->buf = p;
        j->cap = j->len + j->slen;
    }
    memcpy(j->buf + j->len, j->scratch, j->slen);
    j->len += j->slen;
    j->slen = 0;
    return true;
}

/* The producer: one step of the crawler job. */
static enum crawler_job_rc
admin_bgdump_step(void *arg, bool stop)
{
    struct admin_bgdump *j = arg;

    if (j->over && !stop) {
        /* free the crawler for the next dump before the client can see
         * this one's END */
        crawler_job_end(j->store);
    }
    pthread_mutex_lock(&j->lock);
    if (j->owner == NULL) {
        /* the client left mid-dump */
        pthread_mutex_unlock(&j->lock);
        if (!j->over && !stop) {
            crawler_job_end(j->store);
        }
        admin_bgdump_unref(j);
        return CRAWLER_JOB_DONE;
    }
    if (j->slen > 0 && !stop && !admin_bgdump_append_locked(j)) {
        /* the client reads slower than we format: wait for it */
        j->producer_waits = true;
        pthread_mutex_unlock(&j->lock);
        return CRAWLER_JOB_WAIT;
    }
    if (j->over || stop) {
        j->done = true;
        j->aborted = stop && !j->over;
    }
    if (j->len > 0 || j->done) {
        admin_bgdump_wake_locked(j);
    }
    pthread_mutex_unlock(&j->lock);
    if (j->done) {
        admin_bgdump_unref(j);
        return CRAWLER_JOB_DONE;
    }
    admin_bgdump_format(j);
    return CRAWLER_JOB_MORE;
}

/* px->resume_free of a crawler-thread dump: the owner lets go. */
static void
admin_bgdump_release(void *job)
{
    struct admin_bgdump *j = job;
    struct store *st = j->store;
    bool kick;

    pthread_mutex_lock(&j->lock);
    j->owner = NULL;
    kick = j->producer_waits;
    j->producer_waits = false;
    pthread_mutex_unlock(&j->lock);
    admin_bgdump_unref(j);
    if (kick) {
        /* a waiting producer quits at its next step */
        crawler_job_wake(st);
    }
}

/* The consumer: send what the producer has formatted, END when it is
 * over; idle (px->resume_idle) while it has nothing. */
static enum process_rc
admin_bgdump_run(struct process_ctx *px)
{
    static const char *const end[] = {"END\r\n", "EN\r\n", "END\r\n"};
    struct admin_bgdump *j = px->resume_job;
    bool kick = false;
    bool finished;
    bool aborted;
    size_t n;

    pthread_mutex_lock(&j->lock);
    n = j->len;
    if (n > 0) {
        out_bytes(px->out, j->buf, n);
        j->len = 0;
        kick = j->producer_waits;
        j->producer_waits = false;
    }
    finished = j->done;
    aborted = j->aborted;
    j->owner_waits = n == 0 && !finished;
    pthread_mutex_unlock(&j->lock);
    if (kick) {
        crawler_job_wake(px->store);
    }
    px->out_more = false;
    px->resume_idle = n == 0 && !finished;
    if (!finished) {
        return PROCESS_PAUSED;
    }
    if (aborted) {
        /* lru_crawler disable mid-dump: an END would claim a full list */
        px->closing = true;
    } else {
        out_str(px->out, end[j->fmt]);
    }
    admin_bgdump_release(j);
    return admin_dump_over(px);
}

/* Start a metadump or mgdump on the crawler thread. */
static enum process_rc
admin_bgdump_start(struct process_ctx *px, struct request *req,
                   uint64_t classes, enum admin_dump_fmt fmt)
{
    struct admin_bgdump *j = calloc(1, sizeof(*j));
    int rc;

    if (j != NULL) {
        j->d = dump_create(px->store, classes, DUMP_HASH, false);
        j->buf = malloc(ADMIN_BGDUMP_BUF);
    }
    if (j == NULL || j->d == NULL || j->buf == NULL) {
        if (j != NULL) {
            dump_destroy(j->d);
            free(j->buf);
        }
        free(j);
        admin_reply(px, req, "SERVER_ERROR out of memory");
        return PROCESS_DONE;
    }
    pthread_mutex_init(&j->lock, NULL);
    j->cap = ADMIN_BGDUMP_BUF;
    j->refs = 2;                /* the owner and the producer */
    j->task.run = admin_bgdump_task_run;
    j->task.drop = admin_bgdump_task_drop;
    j->store = px->store;
    j->post = px->post;
    j->resume = px->resume;
    j->owner = px->owner;
    j->fmt = fmt;
    rc = crawler_job_start(px->store, admin_bgdump_step, j);
    if (rc != CRAWLER_OK) {
        j->refs = 1;
        admin_bgdump_unref(j);
        /* memcached runs one crawler job at a time */
        admin_reply(px, req, rc == CRAWLER_BUSY
                                 ? "BUSY currently processing crawler request"
                                 : "CLIENT_ERROR lru crawler disabled");
        return PROCESS_DONE;
    }
    px->resume_job = j;
    px->resume_free = admin_bgdump_release;
    return admin_bgdump_run(px);
}

/* lru_crawler crawl ARG. */
static void
admin_crawler_crawl(struct process_ctx *px, struct request *req,
                    const struct admin_args *a)
{
    static const char *const replies[] = {
        [-CRAWLER_OK] = "OK",
        [-CRAWLER_BUSY] = "BUSY currently processing crawler request",
        [-CRAWLER_DISABLED] = "CLIENT_ERROR lru crawler disabled",
    };
    struct store *st = px->store;
    uint64_t mask;
    bool hash;

    if (!crawler_enabled(st)) {
        admin_reply(px, req, "CLIENT_ERROR lru crawler disabled");
    } else if (!admin_crawler_classes(a->tok[1], a->len[1], &mask, &hash)) {
        admin_reply(px, req, "BADCLASS invalid class id");
    } else if (hash) {
        /* memcached walks the hash table only to list it */
        admin_reply(px, req, "ERROR an unknown error happened");
    } else if (mask == 0) {
        admin_reply(px, req, "NOTSTARTED no items to crawl");
    } else {
        admin_reply(px, req, replies[-crawler_request(st, mask)]);
    }
}

/* lru_crawler metadump|mgdump ARG. */
static enum process_rc
admin_crawler_dump(struct process_ctx *px, struct request *req,
                   const struct admin_args *a, enum admin_dump_fmt fmt)
{
    uint64_t mask;
    bool hash;

    if (!crawler_enabled(px->store)) {
        admin_reply(px, req, "CLIENT_ERROR lru crawler disabled");
        return PROCESS_DONE;
    }
    if (!px->srv->settings->dump_enabled) {
        admin_reply(px, req, fmt == ADMIN_METADUMP
                                ? "ERROR metadump not allowed"
                                : "ERROR key dump not allowed");
        return PROCESS_DONE;
    }
    if (!admin_crawler_classes(a->tok[1], a->len[1], &mask, &hash)) {
        admin_reply(px, req, "BADCLASS invalid class id");
        return PROCESS_DONE;
    }
    if (!hash && mask == 0) {
        admin_reply(px, req, "NOTSTARTED no items to crawl");
        return PROCESS_DONE;
    }
    /* the hash walk lists every item once even while the maintainer
     * moves items between segments under a walk of the LRUs (which listed
     * half of 200,000 busy items twice); a class list filters it */
    if (px->post != NULL) {
        return admin_bgdump_start(px, req, hash ? 0 : mask, fmt);
    }
    /* no socket to wait on (daemon/udp.c, the fuzzers): inline */
    return admin_dump_start(px, req, hash ? 0 : mask, DUMP_HASH, fmt, 0);
}

enum process_rc
admin_crawler(struct process_ctx *px, struct request *req,
              const struct admin_args *a)
{
    struct store *st = px->store;
    uint32_t v;

    if (px->resume_job != NULL) {
        return px->resume_free == admin_bgdump_release ? admin_bgdump_run(px)
                                                       : admin_dump_run(px);
    }
    if (a->n == 2 && admin_arg_is(a, 0, "crawl")) {
        admin_crawler_crawl(px, req, a);
    } else if (a->n == 2 && admin_arg_is(a, 0, "metadump")) {
        return admin_crawler_dump(px, req, a, ADMIN_METADUMP);
    } else if (a->n == 2 && admin_arg_is(a, 0, "mgdump")) {
        return admin_crawler_dump(px, req, a, ADMIN_MGDUMP);
    } else if (a->n == 2 && admin_arg_is(a, 0, "tocrawl")) {
        if (!admin_crawler_u32(a->tok[1], a->len[1], &v)) {
            admin_reply(px, req, "CLIENT_ERROR bad command line format");
        } else {
            crawler_set_tocrawl(st, v);
            admin_reply(px, req, "OK");
        }
    } else if (a->n == 2 && admin_arg_is(a, 0, "sleep")) {
        if (!admin_crawler_u32(a->tok[1], a->len[1], &v)) {
            admin_reply(px, req, "CLIENT_ERROR bad command line format");
        } else if (v > CRAWLER_SLEEP_MAX) {
            admin_reply(px, req,
                        "CLIENT_ERROR sleep must be one second or less");
        } else {
            crawler_set_sleep(st, v);
            admin_reply(px, req, "OK");
        }
    } else if (a->n == 1 && admin_arg_is(a, 0, "enable")) {
        admin_reply(px, req, crawler_enable(st) == CRAWLER_OK
                                ? "OK"
                                : "ERROR failed to start lru crawler thread");
    } else if (a->n == 1 && admin_arg_is(a, 0, "disable")) {
        crawler_disable(st);
        admin_reply(px, req, "OK");
    } else {
        admin_reply(px, req, "ERROR");
    }
    return PROCESS_DONE;
}

enum process_rc
admin_cachedump(struct process_ctx *px, struct request *req)
{
    const char *p = req->keys;
    const char *end = req->keys + req->keys_len;
    const char *tok[2];
    size_t len[2];
    unsigned n = 0;
    uint32_t id, limit;

    if (px->resume_job != NULL) {
        return admin_dump_run(px);
    }
    if (!px->srv->settings->dump_enabled) {
        admin_reply(px, req, "CLIENT_ERROR stats cachedump not allowed");
        return PROCESS_DONE;
    }
    while (n < 2 && p < end) {
        while (p < end && *p == ' ') {
            p++;
        }
        if (p == end) {
            break;
        }
        tok[n] = p;
        while (p < end && *p != ' ') {
            p++;
        }
        len[n] = (size_t)(p - tok[n]);
        n++;
    }
    if (n < 2) {
        admin_reply(px, req, "CLIENT_ERROR bad command line");
        return PROCESS_DONE;
    }
    if (!admin_crawler_u32(tok[0], len[0], &id) ||
        !admin_crawler_u32(tok[1], len[1], &limit)) {
        admin_reply(px, req, "CLIENT_ERROR bad command line format");
        return PROCESS_DONE;
    }
    if (id >= SLAB_CLASS_MAX) {
        admin_reply(px, req, "CLIENT_ERROR Illegal slab id");
        return PROCESS_DONE;
    }
    return admin_dump_start(px, req, (uint64_t)1 << id, DUMP_NEWEST_FIRST,
                            ADMIN_CACHEDUMP, limit);
}
