/*
 * out.c -- response assembly: segments over a private arena plus external
 * references.
 *
 *   segs:  [arena 0..37) [ref value A] [arena 37..44) [ref value B] ...
 *            ^head, head_off bytes of it already sent
 *   arena: | VALUE k 0 5\r\n | \r\nVALUE ... |          unused          |
 *          0                                used                    cap
 *
 * Arena segments hold offsets, never pointers, so growing the arena with
 * realloc() never invalidates a queued segment.  An arena append that
 * directly follows another arena segment extends it, so a burst of small
 * replies ("STORED\r\n" x 100) becomes one iovec.  When everything has been
 * sent the out resets and an arena that grew for a big reply is shrunk
 * back to its resting size, so an idle connection holds little memory.
 *
 * Allocation failures set o->oom (sticky until out_free) and drop the bytes;
 * the connection is expected to close rather than send a torn reply.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/out.h"

#define OUT_ARENA_MIN 1024       /* first arena allocation */
#define OUT_ARENA_REST 16384     /* arena kept across replies */
#define OUT_SEGS_MIN 16
#define OUT_SEGS_REST 256        /* segment slots kept across replies */

void
out_init(struct out *o)
{
    memset(o, 0, sizeof(*o));
}

void
out_free(struct out *o)
{
    free(o->segs);
    free(o->arena);
    out_init(o);
}

/* Make room for n more arena bytes; false (and oom) on failure. */
static bool
out_arena_grow(struct out *o, size_t n)
{
    size_t want, cap;
    char *a;

    if (o->cap - o->used >= n) {
        return true;
    }
    want = o->used + n;
    if (want < o->used) {
        o->oom = true;
        return false;
    }
    cap = o->cap != 0 ? o->cap : OUT_ARENA_MIN;
    while (cap < want) {
        if (cap > SIZE_MAX / 2) {
            cap = want;
            break;
        }
        cap *= 2;
    }
    a = realloc(o->arena, cap);
    if (a == NULL) {
        o->oom = true;
        return false;
    }
    o->arena = a;
    o->cap = cap;
    return true;
}

/* A free segment slot at the end; NULL (and oom) on failure. */
static struct out_seg *
out_seg_new(struct out *o)
{
    if (o->nsegs == o->cap_segs) {
        uint32_t cap = o->cap_segs != 0 ? o->cap_segs * 2 : OUT_SEGS_MIN;
        struct out_seg *s;

        if (cap < o->cap_segs) {
            o->oom = true;
            return NULL;
        }
        s = realloc(o->segs, (size_t)cap * sizeof(*s));
        if (s == NULL) {
            o->oom = true;
            return NULL;
        }
        o->segs = s;
        o->cap_segs = cap;
    }
    return &o->segs[o->nsegs++];
}

/* Account for n bytes just written at arena + used. */
static void
out_arena_add(struct out *o, size_t n)
{
    struct out_seg *last;

    if (n == 0) {
        return;
    }
    if (n > UINT32_MAX) {
        o->oom = true;
        return;
    }
    last = o->nsegs != 0 ? &o->segs[o->nsegs - 1] : NULL;
    if (last != NULL && last->ptr == NULL &&
        (size_t)last->off + last->len == o->used &&
        (uint64_t)last->len + n <= UINT32_MAX) {
        last->len += (uint32_t)n;
    } else {
        struct out_seg *s;

        if (o->used > UINT32_MAX) {
            o->oom = true;
            return;
        }
        s = out_seg_new(o);
        if (s == NULL) {
            return;
        }
        s->ptr = NULL;
        s->off = (uint32_t)o->used;
        s->len = (uint32_t)n;
    }
    o->used += n;
    o->pending += n;
}

void
out_bytes(struct out *o, const void *p, size_t n)
{
    if (n == 0 || !out_arena_grow(o, n)) {
        return;
    }
    memcpy(o->arena + o->used, p, n);
    out_arena_add(o, n);
}

void
out_str(struct out *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

char *
out_reserve_grow(struct out *o, size_t n)
{
    if (!out_arena_grow(o, n)) {
        return NULL;
    }
    return o->arena + o->used;
}

void
out_commit(struct out *o, size_t n)
{
    if (o->cap - o->used < n) {
        /* committing more than was reserved is a caller bug */
        o->oom = true;
        return;
    }
    out_arena_add(o, n);
}

void
out_ref(struct out *o, const void *p, size_t n)
{
    struct out_seg *last, *s;

    if (n == 0) {
        return;
    }
    if (n > UINT32_MAX) {
        o->oom = true;
        return;
    }
    /* adjacent slices of one buffer (e.g. item chunks laid out back to
     * back) travel as one iovec */
    last = o->nsegs != 0 ? &o->segs[o->nsegs - 1] : NULL;
    if (last != NULL && last->ptr != NULL && last->ptr + last->len == p &&
        (uint64_t)last->len + n <= UINT32_MAX) {
        last->len += (uint32_t)n;
        o->pending += n;
        return;
    }
    s = out_seg_new(o);
    if (s == NULL) {
        return;
    }
    s->ptr = p;
    s->off = 0;
    s->len = (uint32_t)n;
    o->pending += n;
}

int
out_iov(const struct out *o, struct iovec *iov, int max)
{
    uint32_t i = o->head;
    uint32_t skip = o->head_off;
    int n = 0;

    while (i < o->nsegs && n < max) {
        const struct out_seg *s = &o->segs[i];
        const char *base = s->ptr != NULL ? s->ptr : o->arena + s->off;

        iov[n].iov_base = (void *)(base + skip);
        iov[n].iov_len = s->len - skip;
        n++;
        skip = 0;
        i++;
    }
    return n;
}

/* Everything was sent: start over, giving back what a big reply grew. */
static void
out_reset(struct out *o)
{
    o->nsegs = 0;
    o->head = 0;
    o->head_off = 0;
    o->used = 0;
    o->pending = 0;
    if (o->cap > OUT_ARENA_REST) {
        char *a = realloc(o->arena, OUT_ARENA_REST);

        if (a != NULL) {
            o->arena = a;
            o->cap = OUT_ARENA_REST;
        }
    }
    if (o->cap_segs > OUT_SEGS_REST) {
        struct out_seg *s = realloc(o->segs, OUT_SEGS_REST * sizeof(*s));

        if (s != NULL) {
            o->segs = s;
            o->cap_segs = OUT_SEGS_REST;
        }
    }
}

void
out_consume(struct out *o, size_t n)
{
    if (n >= o->pending) {
        out_reset(o);
        return;
    }
    o->pending -= n;
    while (n > 0 && o->head < o->nsegs) {
        uint32_t left = o->segs[o->head].len - o->head_off;

        if (n < left) {
            o->head_off += (uint32_t)n;
            return;
        }
        n -= left;
        o->head++;
        o->head_off = 0;
    }
}
