/*
 * out.h -- response assembly: a list of segments over a private byte arena
 * (headers, small replies: copied) and external slices (values: referenced,
 * zero-copy).  Writers append; the connection drains it with writev/sendmsg.
 *
 * Referenced memory must stay valid until out_consume() has passed it; the
 * caller (daemon/conn) pins the items it references and releases them once
 * the out is empty.  Pure memory management, no I/O: this is proto/.
 */
#ifndef STASHD_PROTO_OUT_H
#define STASHD_PROTO_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct out_seg {
    const char *ptr;    /* NULL: bytes live in the arena at off */
    uint32_t off;
    uint32_t len;
};

struct out {
    struct out_seg *segs;
    uint32_t nsegs;
    uint32_t cap_segs;
    uint32_t head;      /* first segment not fully sent */
    uint32_t head_off;  /* bytes of segs[head] already sent */
    char *arena;
    size_t used;
    size_t cap;
    size_t pending;     /* bytes appended and not yet consumed */
    bool oom;           /* an append failed: the reply is incomplete */
};

/* Initialise an empty out; no allocation until the first append. */
void out_init(struct out *o);

/* Free everything. */
void out_free(struct out *o);

/* Append n bytes, copied into the arena.  Sets o->oom on failure. */
void out_bytes(struct out *o, const void *p, size_t n);

/* Append a NUL-terminated string, copied. */
void out_str(struct out *o, const char *s);

/* Reserve n bytes of arena for the caller to fill (at most n), then commit
 * the bytes actually written with out_commit(). NULL on allocation failure. */
char *out_reserve_grow(struct out *o, size_t n);
void out_commit(struct out *o, size_t n);

/* (inline: every reply reserves, and the arena nearly always has room) */
static inline char *
out_reserve(struct out *o, size_t n)
{
    if (o->cap - o->used >= n) {
        return o->arena + o->used;
    }
    return out_reserve_grow(o, n);
}

/* Append a reference to n bytes the caller keeps alive until sent. */
void out_ref(struct out *o, const void *p, size_t n);

/* Fill iov with up to max unsent segments; returns how many. */
int out_iov(const struct out *o, struct iovec *iov, int max);

/* Mark n bytes as sent. When everything is sent the out is reset (arena
 * reused, shrunk back if it grew past its resting size). */
void out_consume(struct out *o, size_t n);

/* True when nothing is waiting to be sent. */
static inline bool
out_empty(const struct out *o)
{
    return o->pending == 0;
}

#endif
