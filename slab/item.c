/*
 * item.c -- read-only accessors of an item (slab/item.h) and the one
 * initialiser the store uses to lay a new item out in a slab chunk.
 *
 * The layout is drawn in slab/item_layout.h.  Nothing here locks: a holder
 * of a reference reads an immutable item; the few mutable fields (times,
 * flag bits, refcount) are read with relaxed atomics.
 */
#include "slab/item.h"

#include <string.h>

#include "slab/item_layout.h"

const char *
item_key(const struct item *it)
{
    return it->data;
}

size_t
item_nkey(const struct item *it)
{
    return item_nkey_raw(it);
}

size_t
item_nbytes(const struct item *it)
{
    if (item_iflags(it) & ITEM_CHUNKED) {
        return (size_t)item_desc_get(it).nbytes;
    }
    return it->len >> 8;
}

uint32_t
item_flags(const struct item *it)
{
    uint32_t f = 0;

    if (item_iflags(it) & ITEM_CFLAGS) {
        memcpy(&f, it->data + item_nkey_raw(it), sizeof(f));
    }
    return f;
}

uint64_t
item_cas(const struct item *it)
{
    /* atomic: md I bumps a live item's CAS in place (slab/lease.c) */
    return (item_iflags(it) & ITEM_NOCAS)
               ? 0
               : __atomic_load_n(&it->cas, __ATOMIC_RELAXED);
}

uint32_t
item_exptime(const struct item *it)
{
    return item_get_exptime(it);
}

uint32_t
item_atime(const struct item *it)
{
    return item_get_atime(it);
}

size_t
item_head_len(const struct item *it)
{
    return it->len >> 8;
}

size_t
item_value(const struct item *it, struct item_slice *sl, size_t max)
{
    struct item_desc d;
    const struct chunk *c;
    const char *start = it->data + item_key_span(it);
    size_t n = 0;

    if (!(item_iflags(it) & ITEM_CHUNKED)) {
        if (max > 0) {
            sl[0].ptr = start;
            sl[0].len = it->len >> 8;
        }
        return 1;
    }
    d = item_desc_get(it);
    if (max > 0) {
        sl[0].ptr = start + sizeof(d);
        sl[0].len = it->len >> 8;
    }
    n = 1;
    for (c = d.first; c != NULL; c = c->next) {
        if (n < max) {
            sl[n].ptr = c->data;
            sl[n].len = c->len;
        }
        n++;
    }
    return n;
}

void
item_init(struct item *it, uint8_t clsid, const char *key, size_t nkey,
          uint32_t flags, size_t nbytes, bool chunked, bool nocas)
{
    uint8_t f = 0;

    it->next = NULL;
    it->prev = NULL;
    it->h_next = NULL;
    it->cas = 0;
    it->atime = 0;
    it->exptime = 0;
    it->len = (uint32_t)nkey | ((uint32_t)nbytes << 8);
    if (flags != 0) {
        f |= ITEM_CFLAGS;
    }
    if (chunked) {
        f |= ITEM_CHUNKED;
    }
    if (nocas) {
        f |= ITEM_NOCAS;
    }
    __atomic_store_n(&it->iflags, f, __ATOMIC_RELAXED);
    memcpy(it->data, key, nkey);
    if (flags != 0) {
        memcpy(it->data + nkey, &flags, sizeof(flags));
    }
    /* Last: the page mover reads the kind byte (slabs_kind, acquire)
     * without the item lock; an item it sees has header and key written. */
    __atomic_store_n(&it->lruid, clsid, __ATOMIC_RELEASE);
    /* And the count: a lock-free reader with a stale pointer to this chunk
     * may take a reference as soon as it is nonzero (item_ref_take_live). */
    __atomic_store_n(&it->refcount, 1, __ATOMIC_RELEASE);
}
