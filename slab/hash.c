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

struct hash_shard {
    pthread_mutex_t lock;
    struct item **buckets;
    uint32_t count;
    uint32_t power;         /* atomic: read unlocked by the stats */
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

        s->buckets = calloc((size_t)1 << sp, sizeof(*s->buckets));
        if (s->buckets == NULL) {
            while (i-- > 0) {
                free(h->shard[i].buckets);
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
        free(h->shard[i].buckets);
        pthread_mutex_destroy(&h->shard[i].lock);
    }
    free(h);
}

static inline struct hash_shard *
hash_shard_of(struct hash *h, uint64_t hv)
{
    return &h->shard[hv & (HASH_SHARDS - 1)];
}

static inline struct item **
hash_bucket(struct hash_shard *s, uint64_t hv)
{
    return &s->buckets[(hv >> HASH_LOCK_POWER) &
                       (((uint64_t)1 << s->power) - 1)];
}

void
hash_lock(struct hash *h, uint64_t hv)
{
    lock_take(&hash_shard_of(h, hv)->lock, LOCK_ITEM);
}

void
hash_unlock(struct hash *h, uint64_t hv)
{
    pthread_mutex_unlock(&hash_shard_of(h, hv)->lock);
}

bool
hash_trylock(struct hash *h, uint64_t hv)
{
    return lock_try(&hash_shard_of(h, hv)->lock, LOCK_ITEM);
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

/* Double shard s (lock held).  On allocation failure the shard just stays
 * denser; lookups remain correct. */
static void
hash_grow_locked(struct hash *h, struct hash_shard *s)
{
    unsigned np = s->power + 1;
    struct item **nb;
    size_t i;

    if (np > HASH_SHARD_POWER_MAX) {
        return;
    }
    nb = calloc((size_t)1 << np, sizeof(*nb));
    if (nb == NULL) {
        return;
    }
    __atomic_add_fetch(&h->expanding, 1, __ATOMIC_RELAXED);
    for (i = 0; i < ((size_t)1 << s->power); i++) {
        struct item *it = s->buckets[i];

        while (it != NULL) {
            struct item *next = it->h_next;
            uint64_t hv = hash_key(it->data, item_nkey_raw(it));
            struct item **b = &nb[(hv >> HASH_LOCK_POWER) &
                                  (((uint64_t)1 << np) - 1)];

            it->h_next = *b;
            *b = it;
            it = next;
        }
    }
    free(s->buckets);
    s->buckets = nb;
    __atomic_store_n(&s->power, np, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->expansions, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&h->expanding, 1, __ATOMIC_RELAXED);
}

void
hash_insert_locked(struct hash *h, uint64_t hv, struct item *it)
{
    struct hash_shard *s = hash_shard_of(h, hv);
    struct item **b = hash_bucket(s, hv);

    it->h_next = *b;
    *b = it;
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
    new->h_next = old->h_next;
    *pp = new;
    old->h_next = NULL;
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
    *pp = it->h_next;
    it->h_next = NULL;
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
    mask = ((uint64_t)1 << s->power) - 1;
    for (i = 0; i < HASH_AHEAD_FAR && far_on; i++) {
        far_on = hash_walk_ahead(&far, mask);
        if (far_on) {
            __builtin_prefetch(&s->buckets[far & mask]);
        }
    }
    for (i = 0; i < HASH_AHEAD_NEAR && near_on; i++) {
        near_on = hash_walk_ahead(&near, mask);
    }
    do {
        struct item *it;

        if (far_on && (far_on = hash_walk_ahead(&far, mask))) {
            __builtin_prefetch(&s->buckets[far & mask]);
        }
        if (near_on && (near_on = hash_walk_ahead(&near, mask))) {
            struct item *next = s->buckets[near & mask];

            if (next != NULL) {
                /* the header and the key after it */
                __builtin_prefetch(next);
                __builtin_prefetch((char *)next + 64);
            }
        }
        for (it = s->buckets[v & mask]; it != NULL; it = it->h_next) {
            visit(ctx, it);
            seen++;
        }
        /* Increment the reversed bits: the bucket order in which a split
         * bucket's two halves are both still ahead or both behind. */
        v = hash_walk_next(v, mask);
        buckets++;
        /* empty buckets count too: a sparse shard is not one long hold */
    } while (v != 0 && seen < min_items && buckets < 4 * min_items + 16);
    pthread_mutex_unlock(&s->lock);
    *cursor = v;
    return v == 0;
}
