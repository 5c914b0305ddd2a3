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
 * value cut to 32 bits.  A dump runs on the worker, not on a crawler
 * thread: each pass formats batches from slab/dump.h until the output is
 * full, then pauses (the request stays unconsumed) and resumes from its job
 * once the socket drains; a client that closes mid-dump frees the job.
 * Unlike memcached, dumps may run concurrently, and a dump may follow
 * other pipelined commands.
 *
 * Calls: slab/dump.h, slab/crawler.h, proto/out.h, proto/base64.h.
 */
#include "daemon/admin_crawler.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/server.h"
#include "daemon/settings.h"
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

/* Append one record's line in the job's format. */
static void
admin_dump_line(struct out *o, enum admin_dump_fmt fmt,
                const struct dump_rec *r)
{
    char *p = out_reserve(o, 3 * sizeof(r->key) + 160);
    size_t n = 0;

    if (p == NULL) {
        return;
    }
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
    out_commit(o, n);
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
            admin_dump_line(px->out, j->fmt, &r[i]);
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
    px->resume_job = NULL;
    px->resume_free = NULL;
    px->resume_pos = 0;
    return PROCESS_DONE;
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
    return admin_dump_start(px, req, hash ? 0 : mask, DUMP_HASH, fmt, 0);
}

enum process_rc
admin_crawler(struct process_ctx *px, struct request *req,
              const struct admin_args *a)
{
    struct store *st = px->store;
    uint32_t v;

    if (px->resume_job != NULL) {
        return admin_dump_run(px);
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
