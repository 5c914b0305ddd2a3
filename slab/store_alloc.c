/*
 * store_alloc.c -- building items in slab memory: choosing the class,
 * laying out chunked values, copying values in, and freeing.
 *
 * Allocation that finds a class full asks slab/evict.c to reclaim or
 * evict at that class's LRU tails and tries again.  No lock is held here
 * except inside slabs_* and evict_for_alloc (see slab/store.c for the
 * order); callers may hold one item lock.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "slab/evict.h"
#include "slab/item.h"
#include "slab/lock.h"
#include "slab/maintainer.h"
#include "slab/store.h"
#include "slab/store_int.h"

/* Tries of "free something, then allocate" before giving up. */
#define STORE_ALLOC_TRIES 10

size_t
store_item_size(const struct item *it)
{
    size_t n = sizeof(struct item) + item_key_span(it);
    struct item_desc d;
    const struct chunk *c;

    if (!(item_iflags(it) & ITEM_CHUNKED)) {
        return n + (it->len >> 8);
    }
    d = item_desc_get(it);
    n += sizeof(d) + d.nbytes;
    for (c = d.first; c != NULL; c = c->next) {
        n += sizeof(struct chunk);
    }
    return n;
}

void
store_item_free(struct store *s, struct item *it)
{
    if (item_iflags(it) & ITEM_CHUNKED) {
        struct chunk *c = item_desc_get(it).first;

        while (c != NULL) {
            struct chunk *next = c->next;

            /* direct: the mover reads a chunk's head under its class
             * lock, so the chunk must not leave without it */
            slabs_free_direct(s->slabs, c->clsid, c);
            c = next;
        }
    }
    slabs_free(s->slabs, item_clsid(it), it);
}

void
store_item_deref(struct store *s, struct item *it)
{
    if (item_ref_decr(it) == 0) {
        store_item_free(s, it);
    }
}

/* A chunk of class id, reclaiming or evicting from its LRU if needed. */
static void *
store_chunk_alloc(struct store *s, unsigned id)
{
    bool evict = s->cfg.evict;
    int tries;
    void *p;

    for (tries = 0; tries < STORE_ALLOC_TRIES; tries++) {
        p = slabs_alloc(s->slabs, id);
        if (p != NULL) {
            return p;
        }
        if (evict && tries == 0) {
            store_mover_topup(s, id);
            maintainer_kick(s);
        }
        if (!evict_for_alloc(s, id, evict)) {
            break;
        }
    }
    lock_take(&store_lru(s, id, LRU_COLD)->lock, LOCK_LRU);
    store_lru(s, id, LRU_COLD)->outofmemory++;
    pthread_mutex_unlock(&store_lru(s, id, LRU_COLD)->lock);
    return NULL;
}

unsigned
store_class_of(const struct store *s, size_t nkey, uint32_t flags,
               size_t nbytes)
{
    size_t ntotal = item_ntotal(nkey, flags != 0, nbytes);
    unsigned id;

    if (ntotal > s->cfg.item_size_max) {
        return 0;
    }
    id = slabs_clsid(s->slabs, ntotal);
    return id != 0 && nbytes <= ITEM_NBYTES_MAX ? id
                                                : slabs_largest(s->slabs);
}

/*
 * A new unlinked item with room for nbytes of value, refcount 1 (the
 * caller's).  *status gets STORE_TOO_LARGE or STORE_NO_MEMORY on NULL.
 */
struct item *
store_item_alloc(struct store *s, const char *key, size_t nkey,
                 uint32_t flags, size_t nbytes, int *status)
{
    size_t ntotal = item_ntotal(nkey, flags != 0, nbytes);
    unsigned largest = slabs_largest(s->slabs);
    size_t csize = slabs_size(s->slabs, largest);
    struct item_desc d = {nbytes, NULL};
    struct chunk **tailp = &d.first;
    struct item *it;
    unsigned id;
    size_t head, rest;

    if (ntotal > s->cfg.item_size_max ||
        store_mc_ntotal(s, nkey, flags != 0, nbytes) > s->cfg.item_size_max) {
        *status = STORE_TOO_LARGE;
        return NULL;
    }
    id = slabs_clsid(s->slabs, ntotal);
    if (id != 0 && nbytes <= ITEM_NBYTES_MAX) {
        it = store_chunk_alloc(s, id);
        if (it == NULL) {
            *status = STORE_NO_MEMORY;
            return NULL;
        }
        item_init(it, (uint8_t)id, key, nkey, flags, nbytes, false,
                  !s->cfg.use_cas);
        return it;
    }

    /* Chunked: the header item fills a largest-class chunk. */
    head = csize - (ntotal - nbytes) - sizeof(d);
    it = store_chunk_alloc(s, largest);
    if (it == NULL) {
        *status = STORE_NO_MEMORY;
        return NULL;
    }
    item_init(it, (uint8_t)largest, key, nkey, flags, head, true,
              !s->cfg.use_cas);
    rest = nbytes - head;
    while (rest > 0) {
        unsigned cid = largest;
        struct chunk *c;

        if (rest + sizeof(struct chunk) <= csize) {
            cid = slabs_clsid(s->slabs, rest + sizeof(struct chunk));
        }
        c = store_chunk_alloc(s, cid);
        if (c == NULL && cid != largest) {
            cid = largest;
            c = store_chunk_alloc(s, cid);
        }
        if (c == NULL) {
            memcpy(item_data_start(it), &d, sizeof(d));
            store_item_free(s, it);
            *status = STORE_NO_MEMORY;
            return NULL;
        }
        c->next = NULL;
        c->head = it;
        c->clsid = (uint8_t)cid;
        slabs_set_kind(c, SLAB_KIND_CHUNK);
        c->len = (uint32_t)(slabs_size(s->slabs, cid) - sizeof(*c));
        if (c->len > rest) {
            c->len = (uint32_t)rest;
        }
        rest -= c->len;
        *tailp = c;
        tailp = &c->next;
    }
    memcpy(item_data_start(it), &d, sizeof(d));
    return it;
}

/* Copy len bytes into the value of a new item at offset off. */
void
store_value_write(struct item *it, size_t off, const void *src, size_t len)
{
    const char *from = src;
    struct item_slice one;
    struct item_desc d;
    struct chunk *c;
    char *start;
    size_t n;

    if (!(item_iflags(it) & ITEM_CHUNKED)) {
        memcpy(item_data_start(it) + off, from, len);
        return;
    }
    d = item_desc_get(it);
    start = item_data_start(it) + sizeof(d);
    one.len = item_head_len(it);
    if (off < one.len) {
        n = one.len - off < len ? one.len - off : len;
        memcpy(start + off, from, n);
        from += n;
        len -= n;
        off = 0;
    } else {
        off -= one.len;
    }
    for (c = d.first; c != NULL && len > 0; c = c->next) {
        if (off >= c->len) {
            off -= c->len;
            continue;
        }
        n = c->len - off < len ? c->len - off : len;
        memcpy(c->data + off, from, n);
        from += n;
        len -= n;
        off = 0;
    }
}

/* Copy the whole value of src into dst at offset off. */
void
store_value_copy(struct item *dst, size_t off, const struct item *src)
{
    struct item_slice sl[8];
    size_t n = item_value(src, sl, 8);
    size_t i;

    if (n <= 8) {
        for (i = 0; i < n; i++) {
            store_value_write(dst, off, sl[i].ptr, sl[i].len);
            off += sl[i].len;
        }
        return;
    }
    {
        struct item_slice *big = malloc(n * sizeof(*big));
        size_t j;

        if (big == NULL) {
            /* Walk the chain directly: no allocation needed. */
            struct item_desc d = item_desc_get(src);
            const struct chunk *c;

            store_value_write(dst, off, sl[0].ptr, sl[0].len);
            off += sl[0].len;
            for (c = d.first; c != NULL; c = c->next) {
                store_value_write(dst, off, c->data, c->len);
                off += c->len;
            }
            return;
        }
        item_value(src, big, n);
        for (j = 0; j < n; j++) {
            store_value_write(dst, off, big[j].ptr, big[j].len);
            off += big[j].len;
        }
        free(big);
    }
}


size_t
store_item_wslices(struct item *it, size_t off, struct iovec *iov,
                   size_t max)
{
    struct item_desc d;
    struct chunk *c;
    size_t n = 0, head;

    if (!(item_iflags(it) & ITEM_CHUNKED)) {
        size_t len = item_nbytes(it);

        if (off >= len || max == 0) {
            return 0;
        }
        iov[0].iov_base = item_data_start(it) + off;
        iov[0].iov_len = len - off;
        return 1;
    }
    d = item_desc_get(it);
    head = item_head_len(it);
    if (off < head) {
        if (max == 0) {
            return 0;
        }
        iov[n].iov_base = item_data_start(it) + sizeof(d) + off;
        iov[n].iov_len = head - off;
        n++;
        off = 0;
    } else {
        off -= head;
    }
    for (c = d.first; c != NULL && n < max; c = c->next) {
        if (off >= c->len) {
            off -= c->len;
            continue;
        }
        iov[n].iov_base = c->data + off;
        iov[n].iov_len = c->len - off;
        n++;
        off = 0;
    }
    return n;
}
