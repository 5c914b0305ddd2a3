/*
 * item_layout.h -- the private layout of an item, for slab/ only.
 *
 * An ordinary item is one slab chunk:
 *
 *   0        8        16       24       32     36      40        44  46 47 48
 *   +--------+--------+--------+--------+------+-------+---------+---+--+--+
 *   | next   | prev   | h_next | cas    |atime |exptime| len     |ref|fl|cl|
 *   +--------+--------+--------+--------+------+-------+---------+---+--+--+
 *   | key (nkey bytes) | [client flags, 4 bytes] | value (nbytes) ...      |
 *   +------------------------------------------------------------------------+
 *
 *   next/prev  LRU links (next points towards the tail, i.e. older items);
 *              while the chunk is free, next links the class free list.
 *   h_next     hash chain.
 *   len        nkey in the low 8 bits, value length in the upper 24 bits
 *              (chunked items keep their length in the chunk descriptor).
 *   ref        reference count: 1 for being linked, 1 per holder.
 *   fl         ITEM_* flag bits, read and written atomically.
 *   cl         LRU id: slab class id in the low 6 bits (immutable), LRU
 *              segment (enum lru_seg, slab/lru.h) in the top 2; the
 *              segment changes only under the item lock, while the item
 *              is in no list or under the target list's lock
 *              (slab/evict.c), so a holder of the item lock reads a
 *              stable value.  Class 0 marks a crawler's cursor, not an
 *              item.
 *
 * Client flags are stored only when nonzero (ITEM_CFLAGS), so the common
 * flags-0 item pays nothing for them.  No "\r\n" and no NUL are stored.
 *
 * A value that does not fit the largest class is chunked: the header item
 * lives in the largest class and carries a descriptor and the first part of
 * the value; the rest follows in a singly linked chain of chunks:
 *
 *   header item (largest class)                 chunk              chunk
 *   +--------+-----+-------+-----------+------+   +------+------+   +----+
 *   | header | key | [cfl] | desc      | val0 |-->| hdr  | val1 |-->|... |
 *   +--------+-----+-------+-----------+------+   +------+------+   +----+
 *                          desc = { total nbytes, first chunk }
 *
 * Chunks are not in any LRU or hash; they are freed with their item (chunks
 * first, then the header, so a chunk's head is valid while the chunk is in
 * use).  The last chunk comes from the smallest class that fits what is
 * left.
 */
#ifndef STASHD_SLAB_ITEM_LAYOUT_H
#define STASHD_SLAB_ITEM_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slab/clock.h"
#include "slab/slabs.h"

struct item {
    struct item *next;
    struct item *prev;
    struct item *h_next;
    uint64_t cas;
    rel_time_t atime;       /* relaxed atomic: last access (rate-limited) */
    rel_time_t exptime;     /* relaxed atomic: 0 never */
    uint32_t len;           /* nkey | nbytes << 8 */
    uint16_t refcount;      /* atomic */
    uint8_t iflags;         /* atomic, ITEM_* */
    uint8_t lruid;          /* atomic: class | segment << 6 */
    char data[];
};

_Static_assert(sizeof(struct item) == 48, "item header must stay 48 bytes");

/* ITEM_* bits of iflags. */
#define ITEM_LINKED 0x01    /* in the hash and its LRU */
#define ITEM_FETCHED 0x02   /* read at least once since stored */
#define ITEM_CHUNKED 0x04   /* value lives in a chunk chain */
#define ITEM_CFLAGS 0x08    /* 4 bytes of client flags follow the key */
#define ITEM_NOCAS 0x10     /* store runs without CAS (-C): report 0 */
#define ITEM_ACTIVE 0x20    /* hit since it last moved between segments:
                             * a second chance at the LRU tail */
/* Lease state of the meta protocol (slab/lease.c), written under the item
 * lock only: */
#define ITEM_WON 0x40       /* a W (win token) was handed out for this item */
#define ITEM_STALE 0x80     /* invalidated by md I or filled stale (ms I) */

#define ITEM_NBYTES_MAX ((UINT32_C(1) << 24) - 1)

/*
 * A continuation chunk of a chunked value.  Its header is as long as an
 * item's so that the kind byte (slab/slabs.h SLAB_KIND_OFFSET) sits where
 * an item keeps its LRU id: the page mover tells items, chunks and free
 * chunks apart by that one byte, and finds a chunk's owner through head.
 * 32 extra bytes per chunk of a value over 512 KiB cost nothing worth
 * counting.
 *
 *   0      8      16    20  21                      47     48
 *   +------+------+-----+---+-----------------------+------+------------+
 *   | next | head | len |cl | (unused)              | kind | data ...   |
 *   +------+------+-----+---+-----------------------+------+------------+
 */
struct chunk {
    struct chunk *next;
    struct item *head;      /* the header item owning the chain */
    uint32_t len;           /* value bytes in this chunk */
    uint8_t clsid;
    uint8_t pad[26];
    uint8_t kind;           /* SLAB_KIND_CHUNK once head is set */
    char data[];
};

_Static_assert(sizeof(struct chunk) == 48, "chunk header is 48 bytes");
_Static_assert(offsetof(struct chunk, kind) == SLAB_KIND_OFFSET,
               "chunk kind byte where slabs expects it");
_Static_assert(offsetof(struct item, lruid) == SLAB_KIND_OFFSET,
               "item LRU id doubles as the kind byte");

/* Descriptor after key and client flags of a chunked item. */
struct item_desc {
    uint64_t nbytes;        /* whole value */
    struct chunk *first;
};

#define ITEM_CLSID_MASK 0x3f
#define ITEM_SEG_SHIFT 6

/* The slab class of an item (0 for a crawler cursor). */
static inline unsigned
item_clsid(const struct item *it)
{
    return __atomic_load_n(&it->lruid, __ATOMIC_RELAXED) & ITEM_CLSID_MASK;
}

/* The LRU segment it is linked in (enum lru_seg). */
static inline unsigned
item_seg(const struct item *it)
{
    return __atomic_load_n(&it->lruid, __ATOMIC_RELAXED) >> ITEM_SEG_SHIFT;
}

/* Record a move to segment seg; item lock held, the item out of its old
 * list (slab/evict.c). */
static inline void
item_set_seg(struct item *it, unsigned seg)
{
    __atomic_store_n(&it->lruid,
                     (uint8_t)(item_clsid(it) | seg << ITEM_SEG_SHIFT),
                     __ATOMIC_RELAXED);
}

/* Is it a crawler's cursor in an LRU list rather than an item? */
static inline bool
item_is_marker(const struct item *it)
{
    return item_clsid(it) == 0;
}

static inline uint8_t
item_iflags(const struct item *it)
{
    return __atomic_load_n(&it->iflags, __ATOMIC_RELAXED);
}

static inline void
item_set_iflag(struct item *it, uint8_t f)
{
    __atomic_fetch_or(&it->iflags, f, __ATOMIC_RELAXED);
}

static inline void
item_clear_iflag(struct item *it, uint8_t f)
{
    __atomic_fetch_and(&it->iflags, (uint8_t)~f, __ATOMIC_RELAXED);
}

static inline size_t
item_nkey_raw(const struct item *it)
{
    return it->len & 0xff;
}

/* Bytes between the header and the start of the value (or descriptor). */
static inline size_t
item_key_span(const struct item *it)
{
    return item_nkey_raw(it) + ((item_iflags(it) & ITEM_CFLAGS) ? 4 : 0);
}

/* Start of the value in an ordinary item, of the descriptor in a chunked. */
static inline char *
item_data_start(struct item *it)
{
    return it->data + item_key_span(it);
}

/*
 * References a lookup may hold on one item at most, below the 16-bit
 * count's wrap with room for the link's reference and the allocation's.
 * Pins per connection are bounded by its output bound (daemon/conn.h), but
 * many connections reading one hot large value are not: past this limit a
 * lookup is answered as a miss (store_ref_take) instead of wrapping the
 * count and freeing a linked item.
 */
#define ITEM_REF_MAX 60000

static inline uint16_t
item_ref_incr(struct item *it)
{
    return __atomic_add_fetch(&it->refcount, 1, __ATOMIC_RELAXED);
}

/*
 * A holder's reference, unless the item already has ITEM_REF_MAX: false
 * then, nothing taken.  The item lock is held: every reference is taken
 * under it, so no other taker can pass the test between the load and the
 * add (releases only lower the count).
 */
static inline bool
item_ref_take(struct item *it)
{
    if (__atomic_load_n(&it->refcount, __ATOMIC_RELAXED) >= ITEM_REF_MAX) {
        return false;
    }
    item_ref_incr(it);
    return true;
}

/*
 * A reference on an item reached without its lock (slab/store.c's
 * lock-free hit, the page mover): taken only while the count is nonzero,
 * i.e. the chunk is not free or on its way to being freed, and below
 * ITEM_REF_MAX.  Once taken the chunk cannot be freed or reused, but the
 * item may be unlinked: check ITEM_LINKED (item_linked_acquire) before
 * trusting anything else.  Acquire: pairs with the release of the count
 * written when the chunk became an item (item_init, the mover's copy).
 */
static inline bool
item_ref_take_live(struct item *it)
{
    uint16_t r = __atomic_load_n(&it->refcount, __ATOMIC_RELAXED);

    do {
        if (r == 0 || r >= ITEM_REF_MAX) {
            return false;
        }
    } while (!__atomic_compare_exchange_n(&it->refcount, &r,
                                          (uint16_t)(r + 1), true,
                                          __ATOMIC_ACQUIRE,
                                          __ATOMIC_RELAXED));
    return true;
}

/* Is it linked?  Acquire: pairs with item_set_linked, so a reader holding
 * a reference sees key, flags and value as written before the link. */
static inline bool
item_linked_acquire(const struct item *it)
{
    return __atomic_load_n(&it->iflags, __ATOMIC_ACQUIRE) & ITEM_LINKED;
}

/* Mark it linked, after its key, flags and value are written. */
static inline void
item_set_linked(struct item *it)
{
    __atomic_fetch_or(&it->iflags, ITEM_LINKED, __ATOMIC_RELEASE);
}

/* Returns the new count; acquire-release so the freeing thread sees all
 * writes made while other holders used the item. */
static inline uint16_t
item_ref_decr(struct item *it)
{
    return __atomic_sub_fetch(&it->refcount, 1, __ATOMIC_ACQ_REL);
}

static inline uint16_t
item_refs(const struct item *it)
{
    return __atomic_load_n(&it->refcount, __ATOMIC_RELAXED);
}

static inline rel_time_t
item_get_atime(const struct item *it)
{
    return __atomic_load_n(&it->atime, __ATOMIC_RELAXED);
}

static inline void
item_set_atime(struct item *it, rel_time_t t)
{
    __atomic_store_n(&it->atime, t, __ATOMIC_RELAXED);
}

static inline rel_time_t
item_get_exptime(const struct item *it)
{
    return __atomic_load_n(&it->exptime, __ATOMIC_RELAXED);
}

static inline void
item_set_exptime(struct item *it, rel_time_t t)
{
    __atomic_store_n(&it->exptime, t, __ATOMIC_RELAXED);
}

/* Does the stored key equal key/nkey? */
static inline bool
item_key_eq(const struct item *it, const char *key, size_t nkey)
{
    return item_nkey_raw(it) == nkey && memcmp(it->data, key, nkey) == 0;
}

/* Total chunk bytes an ordinary item with these sizes needs. */
static inline size_t
item_ntotal(size_t nkey, bool cflags, size_t nbytes)
{
    return sizeof(struct item) + nkey + (cflags ? 4 : 0) + nbytes;
}

/* Read the descriptor of a chunked item. */
static inline struct item_desc
item_desc_get(const struct item *it)
{
    struct item_desc d;
    memcpy(&d, it->data + item_key_span(it), sizeof(d));
    return d;
}

/*
 * Initialise a freshly allocated chunk as an item: header, key, client
 * flags.  The caller fills the value (or the descriptor) afterwards.
 * The item starts with refcount 1, owned by the caller.
 */
void item_init(struct item *it, uint8_t clsid, const char *key, size_t nkey,
               uint32_t flags, size_t nbytes, bool chunked, bool nocas);

/* Number of value bytes stored in a chunked item's header chunk. */
size_t item_head_len(const struct item *it);

#endif
