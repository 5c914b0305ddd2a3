/*
 * sizes.c -- the item size histogram (slab/sizes.h).
 *
 * One array of relaxed atomic counters, allocated the first time tracking
 * is turned on and kept until the store goes (a disabled histogram costs
 * its memory, not its updates): freeing it under concurrent updates would
 * need a lock on every link.  Bucket i counts items of size in
 * ((i-1)*32, i*32], printed as i*32, as memcached prints them.
 */
#include "slab/lock.h"
#include "slab/sizes.h"

#include <stdlib.h>

struct sizes *
sizes_create(size_t item_size_max, bool on)
{
    struct sizes *z = calloc(1, sizeof(*z));

    if (z == NULL) {
        return NULL;
    }
    pthread_mutex_init(&z->lock, NULL);
    z->nbuckets = item_size_max / SIZES_BUCKET + 1;
    if (on && !sizes_set_enabled(z, true)) {
        pthread_mutex_destroy(&z->lock);
        free(z);
        return NULL;
    }
    return z;
}

void
sizes_destroy(struct sizes *z)
{
    if (z != NULL) {
        free(z->hist);
        pthread_mutex_destroy(&z->lock);
        free(z);
    }
}

bool
sizes_set_enabled(struct sizes *z, bool on)
{
    bool ok = true;

    lock_take(&z->lock, LOCK_STATS);
    if (!on) {
        __atomic_store_n(&z->on, false, __ATOMIC_RELAXED);
    } else if (!__atomic_load_n(&z->on, __ATOMIC_RELAXED)) {
        if (z->hist == NULL) {
            z->hist = calloc(z->nbuckets, sizeof(*z->hist));
        } else {
            for (size_t i = 0; i < z->nbuckets; i++) {
                __atomic_store_n(&z->hist[i], 0, __ATOMIC_RELAXED);
            }
        }
        ok = z->hist != NULL;
        /* release: whoever sees on sees hist */
        __atomic_store_n(&z->on, ok, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&z->lock);
    return ok;
}

/* The bucket of ntotal, or nbuckets when it is past the last. */
static size_t
sizes_bucket(const struct sizes *z, size_t ntotal)
{
    size_t b = (ntotal + SIZES_BUCKET - 1) / SIZES_BUCKET;

    return b < z->nbuckets ? b : z->nbuckets;
}

void
sizes_add(struct sizes *z, size_t ntotal)
{
    size_t b;

    if (!sizes_enabled(z)) {
        return;
    }
    b = sizes_bucket(z, ntotal);
    if (b < z->nbuckets) {
        __atomic_fetch_add(&z->hist[b], 1, __ATOMIC_RELAXED);
    }
}

void
sizes_remove(struct sizes *z, size_t ntotal)
{
    uint64_t v;
    size_t b;

    if (!sizes_enabled(z)) {
        return;
    }
    b = sizes_bucket(z, ntotal);
    if (b >= z->nbuckets) {
        return;
    }
    /* an item linked before tracking began was never added */
    v = __atomic_load_n(&z->hist[b], __ATOMIC_RELAXED);
    while (v > 0 && !__atomic_compare_exchange_n(&z->hist[b], &v, v - 1,
                                                 true, __ATOMIC_RELAXED,
                                                 __ATOMIC_RELAXED)) {
    }
}

bool
sizes_each(struct sizes *z,
           void (*fn)(void *ctx, size_t bytes, uint64_t count), void *ctx)
{
    if (!sizes_enabled(z)) {
        return false;
    }
    for (size_t i = 0; i < z->nbuckets; i++) {
        uint64_t v = __atomic_load_n(&z->hist[i], __ATOMIC_RELAXED);

        if (v != 0) {
            fn(ctx, i * SIZES_BUCKET, v);
        }
    }
    return true;
}
