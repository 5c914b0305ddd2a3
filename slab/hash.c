/*
 * hash.c -- sharded, lock-striped chained hash table (slab/hash.h).
 *
 * Each shard packs its mutex, bucket array and counters into one cache
 * line.  Items do not store their hash: doubling a shard rehashes the keys
 * it holds, which is cheap because a shard holds about 1/4096 of the items.
 * Bucket arrays come from malloc (jemalloc in the daemon).
 *
 * Keys are hashed with xxHash's XXH3 under a per-process random seed, so a
 * client cannot choose keys that pile into one shard (one item lock) or
 * one bucket chain.
 */
#include "slab/hash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <xxhash.h>

#include "slab/item_layout.h"
#include "slab/lock.h"

#define HASH_SHARD_POWER_MAX 28

/* A shard's bucket array with its size, so that a lock-free reader that
 * loads the one pointer gets a matching mask. */
struct hash_tab {
    uint64_t mask;
    struct item *b[];       /* atomic: read by lock-free readers */
};

/*
 * seq is the shard's sequence count: odd while a thread holds the lock.
 * A lock-free reader that finds the same even count before and after a
 * chain walk saw the chain as no writer left it (hash_read_*).
 */
struct hash_shard {
    pthread_mutex_t lock;
    struct hash_tab *tab;   /* atomic: replaced when the shard doubles */
    uint32_t count;
    uint32_t power;         /* atomic: read unlocked by the stats */
    uint32_t seq;           /* atomic */
} __attribute__((aligned(64)));

struct hash {
    struct hash_shard shard[HASH_SHARDS];
    unsigned expanding;     /* atomic */
    uint64_t expansions;    /* atomic */
};

/* The seed of hash_key: written once at start-up, before any thread
 * hashes (hash_set_seed), read-only after. */
static uint64_t hash_seed;

uint64_t
hash_key(const char *key, size_t nkey)
{
    return XXH3_64bits_withSeed(key, nkey, hash_seed);
}

void
hash_set_seed(uint64_t seed)
{
    hash_seed = seed;
}

bool
hash_seed_random(void)
{
    uint64_t seed;

    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        return false;
    }
    hash_seed = seed;
    return true;
}

/* An empty bucket array of 2^power buckets, or NULL. */
static struct hash_tab *
hash_tab_new(unsigned power)
{
    struct hash_tab *t = calloc(1, sizeof(*t) + (sizeof(t->b[0]) << power));

    if (t != NULL) {
        t->mask = ((uint64_t)1 << power) - 1;
    }
    return t;
}

struct hash *
hash_create(unsigned power)
{
    struct hash *h;
    unsigned sp = power > HASH_LOCK_POWER ? power - HASH_LOCK_POWER : 0;
    unsigned i;

    if (sp > HASH_SHARD_POWER_MAX) {
        sp = HASH_SHARD_POWER_MAX;
    }
    if (posix_memalign((void **)&h, 64, sizeof(*h)) != 0) {
        return NULL;
    }
    memset(h, 0, sizeof(*h));
    for (i = 0; i < HASH_SHARDS; i++) {
        struct hash_shard *s = &h->shard[i];

        s->tab = hash_tab_new(sp);
        if (s->tab == NULL) {
            while (i-- > 0) {
                free(h->shard[i].tab);
                pthread_mutex_destroy(&h->shard[i].lock);
            }
            free(h);
            return NULL;
        }
        s->power = sp;
        pthread_mutex_init(&s->lock, NULL);
    }
    return h;
}

void
hash_destroy(struct hash *h)
{
    unsigned i;

    if (h == NULL) {
        return;
    }
    for (i = 0; i < HASH_SHARDS; i++) {
        free(h->shard[i].tab);
        pthread_mutex_destroy(&h->shard[i].lock);
    }
    free(h);
}

static inline struct hash_shard *
hash_shard_of(struct hash *h, uint64_t hv)
{
    return &h->shard[hv & (HASH_SHARDS - 1)];
}

/* The bucket of hv in t. */
static inline struct item **
hash_slot(struct hash_tab *t, uint64_t hv)
{
    return &t->b[(hv >> HASH_LOCK_POWER) & t->mask];
}

/* The bucket of hv in shard s (its lock held). */
static inline struct item **
hash_bucket(struct hash_shard *s, uint64_t hv)
{
    return hash_slot(s->tab, hv);
}

/* Publish p in a chain link that lock-free readers follow: release, so a
 * reader that loads p sees the item as it was written before linking. */
static inline void
hash_set_link(struct item **link, struct item *p)
{
    __atomic_store_n(link, p, __ATOMIC_RELEASE);
}

/* Lock taken: make the count odd before any change (hash_read_*).  No
 * fence: every change a reader can see is a release store (hash_set_link,
 * the table pointer), ordered after this one. */
static inline void
hash_seq_enter(struct hash_shard *s)
{
    __atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
}

/* About to unlock: even again, after every change. */
static inline void
hash_seq_leave(struct hash_shard *s)
{
    __atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

void
hash_lock(struct hash *h, uint64_t hv)
{
    struct hash_shard *s = hash_shard_of(h, hv);

    lock_take(&s->lock, LOCK_ITEM);
    hash_seq_enter(s);
}

void
hash_unlock(struct hash *h, uint64_t hv)
{
    struct hash_shard *s = hash_shard_of(h, hv);

    hash_seq_leave(s);
    pthread_mutex_unlock(&s->lock);
}

bool
hash_trylock(struct hash *h, uint64_t hv)
{
    struct hash_shard *s = hash_shard_of(h, hv);

    if (!lock_try(&s->lock, LOCK_ITEM)) {
        return false;
    }
    hash_seq_enter(s);
    return true;
}

struct item *
hash_find_locked(struct hash *h, uint64_t hv, const char *key, size_t nkey)
{
    struct item *it = *hash_bucket(hash_shard_of(h, hv), hv);

    while (it != NULL && !item_key_eq(it, key, nkey)) {
        it = it->h_next;
    }
    return it;
}

struct item *
hash_read_first(struct hash *h, uint64_t hv, uint32_t *seq)
{
    struct hash_shard *s = hash_shard_of(h, hv);
    struct hash_tab *t;

    *seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    t = __atomic_load_n(&s->tab, __ATOMIC_ACQUIRE);
    return __atomic_load_n(hash_slot(t, hv), __ATOMIC_ACQUIRE);
}

struct item *
hash_read_next(const struct item *it)
{
    return __atomic_load_n(&it->h_next, __ATOMIC_ACQUIRE);
}

bool
hash_read_unchanged(struct hash *h, uint64_t hv, uint32_t seq)
{
    /* the walk's loads were acquire loads: this one cannot pass them, and
     * a reader that saw a link written after seq went odd sees it odd */
    return (seq & 1) == 0 &&
           __atomic_load_n(&hash_shard_of(h, hv)->seq, __ATOMIC_ACQUIRE) ==
               seq;
}

/* Double shard s (lock held).  On allocation failure the shard just stays
 * denser; lookups remain correct.  Lock-free readers walking the old
 * chains meanwhile may be led astray (into a new chain) but never into
 * freed memory: the old array is freed after a grace period, and the
 * changed sequence count sends a reader that missed to the lock. */
static void
hash_grow_locked(struct hash *h, struct hash_shard *s)
{
    unsigned np = s->power + 1;
    struct hash_tab *ot = s->tab, *nt;
    size_t i;

    if (np > HASH_SHARD_POWER_MAX) {
        return;
    }
    nt = hash_tab_new(np);
    if (nt == NULL) {
        return;
    }
    __atomic_add_fetch(&h->expanding, 1, __ATOMIC_RELAXED);
    for (i = 0; i <= ot->mask; i++) {
        struct item *it = ot->b[i];

        while (it != NULL) {
            struct item *next = it->h_next;
            uint64_t hv = hash_key(it->data, item_nkey_raw(it));
            struct item **b = hash_slot(nt, hv);

            hash_set_link(&it->h_next, *b);
            *b = it;
            it = next;
        }
    }
    __atomic_store_n(&s->tab, nt, __ATOMIC_RELEASE);
    /* readers that loaded ot may still index it */
    lock_grace_wait();
    free(ot);
    __atomic_store_n(&s->power, np, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->expansions, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&h->expanding, 1, __ATOMIC_RELAXED);
}

void
hash_insert_locked(struct hash *h, uint64_t hv, struct item *it)
{
    struct hash_shard *s = hash_shard_of(h, hv);
    struct item **b = hash_bucket(s, hv);

    hash_set_link(&it->h_next, *b);
    hash_set_link(b, it);
    s->count++;
    if (s->count > ((uint64_t)3 << s->power) / 2) {
        hash_grow_locked(h, s);
    }
}

void
hash_replace_locked(struct hash *h, uint64_t hv, struct item *old,
                    struct item *new)
{
    struct item **pp = hash_bucket(hash_shard_of(h, hv), hv);

    while (*pp != NULL && *pp != old) {
        pp = &(*pp)->h_next;
    }
    if (*pp == NULL) {
        hash_insert_locked(h, hv, new);
        return;
    }
    hash_set_link(&new->h_next, old->h_next);
    hash_set_link(pp, new);
    /* old keeps its link: a reader standing on it still reaches the
     * rest of the chain */
}

bool
hash_remove_locked(struct hash *h, uint64_t hv, struct item *it)
{
    struct hash_shard *s = hash_shard_of(h, hv);
    struct item **pp = hash_bucket(s, hv);

    while (*pp != NULL && *pp != it) {
        pp = &(*pp)->h_next;
    }
    if (*pp == NULL) {
        return false;
    }
    /* it keeps its link: a reader standing on it still reaches the rest
     * of the chain */
    hash_set_link(pp, it->h_next);
    s->count--;
    return true;
}

unsigned
hash_power_level(const struct hash *h)
{
    uint64_t total = 0;
    unsigned p = 0;
    unsigned i;

    for (i = 0; i < HASH_SHARDS; i++) {
        total += (uint64_t)1 << __atomic_load_n(&h->shard[i].power,
                                                __ATOMIC_RELAXED);
    }
    while (((uint64_t)2 << p) <= total) {
        p++;
    }
    return p;
}

size_t
hash_bytes(const struct hash *h)
{
    size_t total = 0;
    unsigned i;

    for (i = 0; i < HASH_SHARDS; i++) {
        total += sizeof(struct item *) *
                 ((size_t)1 << __atomic_load_n(&h->shard[i].power,
                                               __ATOMIC_RELAXED));
    }
    return total;
}

unsigned
hash_is_expanding(const struct hash *h)
{
    return __atomic_load_n(&h->expanding, __ATOMIC_RELAXED) != 0;
}

uint64_t
hash_expansions(const struct hash *h)
{
    return __atomic_load_n(&h->expansions, __ATOMIC_RELAXED);
}

static uint64_t
hash_rev64(uint64_t v)
{
    v = ((v >> 1) & UINT64_C(0x5555555555555555)) |
        ((v & UINT64_C(0x5555555555555555)) << 1);
    v = ((v >> 2) & UINT64_C(0x3333333333333333)) |
        ((v & UINT64_C(0x3333333333333333)) << 2);
    v = ((v >> 4) & UINT64_C(0x0f0f0f0f0f0f0f0f)) |
        ((v & UINT64_C(0x0f0f0f0f0f0f0f0f)) << 4);
    return __builtin_bswap64(v);
}

/* The bucket after v in reverse-binary order; 0 when the walk wraps. */
static inline uint64_t
hash_walk_next(uint64_t v, uint64_t mask)
{
    v |= ~mask;
    return hash_rev64(hash_rev64(v) + 1);
}

/* Buckets whose slot (far) and first item (near) are fetched ahead of the
 * walk.  Reverse-binary order jumps across the bucket array and the items
 * lie anywhere in the slabs, so without this every bucket and every item
 * is a cache (and TLB) miss taken with the shard lock held: 45 % of a
 * metadump's CPU, and the keys of the shard wait for it. */
#define HASH_AHEAD_FAR 8
#define HASH_AHEAD_NEAR 4

/* Advance a look-ahead cursor; false once it has wrapped. */
static inline bool
hash_walk_ahead(uint64_t *la, uint64_t mask)
{
    *la = hash_walk_next(*la, mask);
    return *la != 0;
}

bool
hash_walk(struct hash *h, unsigned shard, uint64_t *cursor,
          unsigned min_items, hash_visit_fn visit, void *ctx)
{
    struct hash_shard *s = &h->shard[shard & (HASH_SHARDS - 1)];
    uint64_t v = *cursor;
    unsigned seen = 0;
    unsigned buckets = 0;
    uint64_t mask;
    uint64_t far = v, near = v;
    bool far_on = true, near_on = true;
    unsigned i;

    lock_take(&s->lock, LOCK_ITEM);
    hash_seq_enter(s);
    mask = s->tab->mask;
    for (i = 0; i < HASH_AHEAD_FAR && far_on; i++) {
        far_on = hash_walk_ahead(&far, mask);
        if (far_on) {
            __builtin_prefetch(&s->tab->b[far & mask]);
        }
    }
    for (i = 0; i < HASH_AHEAD_NEAR && near_on; i++) {
        near_on = hash_walk_ahead(&near, mask);
    }
    do {
        struct item *it;

        if (far_on && (far_on = hash_walk_ahead(&far, mask))) {
            __builtin_prefetch(&s->tab->b[far & mask]);
        }
        if (near_on && (near_on = hash_walk_ahead(&near, mask))) {
            struct item *next = s->tab->b[near & mask];

            if (next != NULL) {
                /* the header and the key after it */
                __builtin_prefetch(next);
                __builtin_prefetch((char *)next + 64);
            }
        }
        for (it = s->tab->b[v & mask]; it != NULL; it = it->h_next) {
            visit(ctx, it);
            seen++;
        }
        /* Increment the reversed bits: the bucket order in which a split
         * bucket's two halves are both still ahead or both behind. */
        v = hash_walk_next(v, mask);
        buckets++;
        /* empty buckets count too: a sparse shard is not one long hold */
    } while (v != 0 && seen < min_items && buckets < 4 * min_items + 16);
    hash_seq_leave(s);
    pthread_mutex_unlock(&s->lock);
    *cursor = v;
    return v == 0;
}
