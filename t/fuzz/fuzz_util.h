/*
 * fuzz_util.h -- what the libFuzzer targets in t/fuzz share: invariant
 * checks over a parsed request, the split-input comparison, result
 * synthesis for the writers and a flattened view of a struct out.
 *
 * Header-only (static functions) so that each target is one translation
 * unit; scripts/fuzz builds them.  A broken invariant prints what broke and
 * aborts, which libFuzzer reports as a crash with the input saved.
 */
#ifndef STASHD_FUZZ_UTIL_H
#define STASHD_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/out.h"
#include "proto/request.h"

#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond,    \
                    __FILE__, __LINE__);                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* A deterministic stream of choices derived from the input, so that a
 * saved crash input replays the same splits. */
struct fuzz_rng {
    uint64_t s;
};

static inline void
fuzz_rng_seed(struct fuzz_rng *r, const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < size; i++) {
        h = (h ^ data[i]) * 0x100000001b3ull;
    }
    r->s = h | 1;
}

static inline uint64_t
fuzz_rng_next(struct fuzz_rng *r)
{
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

static inline size_t
fuzz_rng_below(struct fuzz_rng *r, size_t n)
{
    return n == 0 ? 0 : (size_t)(fuzz_rng_next(r) % n);
}

/* p[0..n) lies inside base[0..len). */
static inline bool
fuzz_inside(const void *p, size_t n, const void *base, size_t len)
{
    const char *c = p, *b = base;

    if (n == 0) {
        return true;
    }
    return c != NULL && c >= b && c <= b + len && n <= (size_t)(b + len - c);
}

/*
 * Invariants every parser must keep for one parse of buf[0..len):
 * a known status; AGAIN consumes nothing and asks for more than it has;
 * OK and ERROR make progress and stay inside the buffer; every pointer in
 * the request points into the bytes it consumed (or into keybuf for a
 * decoded key).
 */
static inline void
fuzz_check_request(const struct request *req, int rc, const char *buf,
                   size_t len)
{
    FUZZ_CHECK(rc == PARSE_OK || rc == PARSE_AGAIN || rc == PARSE_ERROR ||
               rc == PARSE_CLOSE || rc == PARSE_VALUE);
    if (rc == PARSE_VALUE) {
        /* a storage header whose large value is not all here: the
         * header is consumed, the value and its trailer are not */
        FUZZ_CHECK(req->op == REQ_STORE);
        FUZZ_CHECK(req->consumed > 0 && req->consumed <= len);
        FUZZ_CHECK(req->swallow == 0);
        FUZZ_CHECK(req->value == NULL);
        FUZZ_CHECK(req->vlen >= REQ_STREAM_MIN);
        FUZZ_CHECK(req->vtrail == (req->proto == PROTO_BINARY ? 0 : 2));
        FUZZ_CHECK((uint64_t)req->consumed + req->vlen + req->vtrail > len);
        FUZZ_CHECK(req->nkey > 0 && req->nkey <= REQ_KEY_MAX);
        FUZZ_CHECK(req->key_binary ? req->key == req->keybuf
                                   : fuzz_inside(req->key, req->nkey, buf,
                                                 req->consumed));
        return;
    }
    if (rc == PARSE_AGAIN) {
        FUZZ_CHECK(req->consumed == 0);
        FUZZ_CHECK(req->swallow == 0);
        FUZZ_CHECK(req->need == 0 || req->need > len);
        return;
    }
    if (rc == PARSE_CLOSE) {
        return;
    }
    FUZZ_CHECK(req->consumed <= len);
    FUZZ_CHECK(req->consumed > 0 || req->swallow > 0);
    if (rc == PARSE_ERROR) {
        FUZZ_CHECK(req->err != NULL);
        if (req->proto != PROTO_BINARY) {
            FUZZ_CHECK(memchr(req->err, '\n', strlen(req->err)) == NULL);
        }
        return;
    }
    FUZZ_CHECK(req->swallow == 0);
    FUZZ_CHECK(req->op != REQ_NONE);
    /* a key is at most 250 bytes; "stats <anything>" carries its
     * sub-command in key, any length (as in memcached) */
    FUZZ_CHECK(req->nkey <= REQ_KEY_MAX || req->op == REQ_STATS);
    if (req->nkey > 0) {
        if (req->key_binary) {
            FUZZ_CHECK(req->key == req->keybuf);
        } else {
            FUZZ_CHECK(fuzz_inside(req->key, req->nkey, buf, req->consumed));
        }
    }
    if (req->keys_len > 0) {
        FUZZ_CHECK(fuzz_inside(req->keys, req->keys_len, buf, req->consumed));
    }
    if (req->vlen > 0) {
        FUZZ_CHECK(fuzz_inside(req->value, req->vlen, buf, req->consumed));
        if (req->proto != PROTO_BINARY) {
            /* the data block is followed by its "\r\n" */
            FUZZ_CHECK(fuzz_inside(req->value, (size_t)req->vlen + 2, buf,
                                   req->consumed));
            FUZZ_CHECK(memcmp(req->value + req->vlen, "\r\n", 2) == 0);
        }
    }
    if (req->mtokens_len > 0) {
        FUZZ_CHECK(fuzz_inside(req->mtokens, req->mtokens_len, buf,
                               req->consumed));
    }
    if (req->opaque_len > 0) {
        FUZZ_CHECK(fuzz_inside(req->opaque, req->opaque_len, buf,
                               req->consumed));
        FUZZ_CHECK(req->opaque[0] == 'O');
    }
}

/* Offset of p in base, or -1 for NULL (to compare parses of two copies). */
static inline long
fuzz_off(const void *p, const void *base)
{
    return p == NULL ? -1 : (long)((const char *)p - (const char *)base);
}

/*
 * A parse of a prefix of the bytes must either wait for more (AGAIN), or
 * agree with the parse of the whole: same status, same progress (consumed
 * plus swallow), same fields.  closing_ok allows a prefix to close where
 * the whole does not: a text/meta line longer than the line limit that has
 * no newline yet (memcached decides on what it has read so far).
 */
static inline void
fuzz_check_prefix(const struct request *whole, int wrc, const char *wbuf,
                  const struct request *part, int prc, const char *pbuf,
                  size_t plen, bool closing_ok)
{
    uint64_t wprog, pprog;

    fuzz_check_request(part, prc, pbuf, plen);
    if (prc == PARSE_AGAIN) {
        if (wrc == PARSE_OK || wrc == PARSE_ERROR) {
            /* the hint never asks for more than the request uses */
            FUZZ_CHECK(part->need == 0 ||
                       part->need <= (uint64_t)whole->consumed +
                                         whole->swallow);
        }
        return;
    }
    if (prc == PARSE_CLOSE && wrc != PARSE_CLOSE) {
        FUZZ_CHECK(closing_ok && memchr(pbuf, '\n', plen) == NULL);
        return;
    }
    if (prc == PARSE_VALUE) {
        /* the header of what the whole parses as a complete store, a bad
         * data chunk or the same streamed value */
        FUZZ_CHECK(wrc == PARSE_VALUE || wrc == PARSE_OK ||
                   wrc == PARSE_ERROR);
        FUZZ_CHECK((uint64_t)part->consumed + part->vlen + part->vtrail ==
                   (wrc == PARSE_VALUE ? (uint64_t)whole->consumed +
                                             whole->vlen + whole->vtrail
                                       : (uint64_t)whole->consumed));
        FUZZ_CHECK(wrc == PARSE_ERROR || (whole->mode == part->mode &&
                                          whole->vlen == part->vlen &&
                                          whole->cas == part->cas &&
                                          whole->flags == part->flags));
        return;
    }
    FUZZ_CHECK(prc == wrc);
    if (prc == PARSE_CLOSE) {
        return;
    }
    wprog = (uint64_t)whole->consumed + whole->swallow;
    pprog = (uint64_t)part->consumed + part->swallow;
    FUZZ_CHECK(wprog == pprog);
    FUZZ_CHECK(whole->op == part->op);
    FUZZ_CHECK(whole->proto == part->proto);
    if (prc == PARSE_ERROR) {
        FUZZ_CHECK(strcmp(whole->err, part->err) == 0);
        FUZZ_CHECK(whole->noreply == part->noreply);
        return;
    }
    FUZZ_CHECK(whole->mode == part->mode);
    FUZZ_CHECK(whole->noreply == part->noreply);
    FUZZ_CHECK(whole->nkey == part->nkey);
    FUZZ_CHECK(whole->nkey == 0 ||
               memcmp(whole->key, part->key, whole->nkey) == 0);
    FUZZ_CHECK(whole->key_binary || part->key_binary ||
               fuzz_off(whole->key, wbuf) == fuzz_off(part->key, pbuf) ||
               whole->nkey == 0);
    FUZZ_CHECK(whole->keys_len == part->keys_len);
    FUZZ_CHECK(whole->vlen == part->vlen);
    FUZZ_CHECK(whole->vlen == 0 ||
               fuzz_off(whole->value, wbuf) == fuzz_off(part->value, pbuf));
    FUZZ_CHECK(whole->flags == part->flags);
    FUZZ_CHECK(whole->exptime == part->exptime);
    FUZZ_CHECK(whole->cas == part->cas);
    FUZZ_CHECK(whole->delta == part->delta);
    FUZZ_CHECK(whole->initial == part->initial);
    FUZZ_CHECK(whole->mflags == part->mflags);
    FUZZ_CHECK(whole->bin_opcode == part->bin_opcode);
    FUZZ_CHECK(whole->bin_opaque == part->bin_opaque);
}

/*
 * Parse buf[0..n) copied into a buffer of exactly n bytes (so ASan sees a
 * read past the end), for prefixes of a request: compare with the whole.
 */
typedef int (*fuzz_parse_fn)(struct request *, const char *, size_t);

static inline void
fuzz_prefixes(fuzz_parse_fn parse, const struct request *whole, int wrc,
              const char *buf, size_t len, struct fuzz_rng *rng,
              bool closing_ok)
{
    uint64_t upto = (uint64_t)whole->consumed;
    size_t cuts[24];
    size_t ncuts = 0;

    if (wrc == PARSE_AGAIN || wrc == PARSE_CLOSE) {
        upto = len;
    }
    if (upto > len) {
        upto = len;
    }
    if (upto <= 48) {
        for (size_t k = 0; k < upto && ncuts < 24; k++) {
            cuts[ncuts++] = k;
        }
    } else {
        const char *nl = memchr(buf, '\n', (size_t)upto);

        cuts[ncuts++] = 0;
        cuts[ncuts++] = (size_t)upto - 1;
        cuts[ncuts++] = (size_t)upto - 2;
        if (nl != NULL) {
            size_t l = (size_t)(nl - buf);

            cuts[ncuts++] = l;
            cuts[ncuts++] = l + 1 < upto ? l + 1 : l;
        }
        while (ncuts < 14) {
            cuts[ncuts++] = fuzz_rng_below(rng, (size_t)upto);
        }
    }
    for (size_t i = 0; i < ncuts; i++) {
        size_t k = cuts[i];
        char *copy = malloc(k ? k : 1);
        struct request part;
        int prc;

        FUZZ_CHECK(copy != NULL);
        memcpy(copy, buf, k);
        prc = parse(&part, copy, k);
        fuzz_check_prefix(whole, wrc, buf, &part, prc, copy, k, closing_ok);
        free(copy);
    }
}

/* The bytes an out holds, flattened; checks segment accounting. */
static inline char *
fuzz_out_flatten(const struct out *o, size_t *n)
{
    struct iovec iov[64];
    size_t total = 0, pos = 0;
    char *flat;
    struct out copy = *o;   /* walk with a private cursor */

    FUZZ_CHECK(!o->oom);
    flat = malloc(o->pending + 1);
    FUZZ_CHECK(flat != NULL);
    while (copy.head < copy.nsegs) {
        int k = out_iov(&copy, iov, 64);

        FUZZ_CHECK(k > 0);
        for (int i = 0; i < k; i++) {
            FUZZ_CHECK(total + iov[i].iov_len <= o->pending);
            memcpy(flat + pos, iov[i].iov_base, iov[i].iov_len);
            pos += iov[i].iov_len;
            total += iov[i].iov_len;
        }
        copy.head += (uint32_t)k;
        copy.head_off = 0;
    }
    FUZZ_CHECK(total == o->pending);
    *n = total;
    return flat;
}

/* Consume an out in rng-chosen steps, checking that iovecs track it. */
static inline void
fuzz_out_consume(struct out *o, struct fuzz_rng *rng)
{
    while (!out_empty(o)) {
        struct iovec iov[4];
        size_t step = 1 + fuzz_rng_below(rng, o->pending);
        int k = out_iov(o, iov, 4);
        size_t seen = 0;

        FUZZ_CHECK(k > 0);
        for (int i = 0; i < k; i++) {
            FUZZ_CHECK(iov[i].iov_len > 0);
            seen += iov[i].iov_len;
        }
        FUZZ_CHECK(seen <= o->pending);
        out_consume(o, step);
    }
    FUZZ_CHECK(o->pending == 0);
}

/* Up to three slices over value[0..n), split where the rng says. */
static inline uint32_t
fuzz_slices(struct res_slice *sl, const char *value, uint32_t n,
            struct fuzz_rng *rng)
{
    uint32_t a, b;

    if (n == 0) {
        sl[0].ptr = value;
        sl[0].len = 0;
        return 1;
    }
    a = (uint32_t)fuzz_rng_below(rng, n + 1);
    b = a + (uint32_t)fuzz_rng_below(rng, n - a + 1);
    sl[0].ptr = value;
    sl[0].len = a;
    sl[1].ptr = value + a;
    sl[1].len = b - a;
    sl[2].ptr = value + b;
    sl[2].len = n - b;
    return 3;
}

#endif
