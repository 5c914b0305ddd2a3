/*
 * bigkeys.c -- the table of the largest stored items (daemon/bigkeys.h).
 *
 * The table is small (BIGKEYS_SLOTS), so a linear scan finds a key or the
 * smallest candidate; what keeps stores cheap is the floor: once the
 * table is full, only a value larger than its smallest candidate takes
 * the lock.  Lock order: the table's lock, then the store's item locks
 * (bigkeys_report peeks under it); nothing calls in the other direction.
 */
#include "daemon/bigkeys.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/hotkeys.h"
#include "slab/clock.h"
#include "slab/store.h"

#define BIGKEYS_KEY_MAX 250

struct bigkeys_entry {
    size_t nbytes;
    uint8_t nkey;
    char key[BIGKEYS_KEY_MAX];
};

struct bigkeys {
    pthread_mutex_t lock;   /* guards n and e */
    size_t floor;           /* relaxed atomic: with a full table, values
                             * of at most this many bytes are not kept */
    uint32_t n;
    struct bigkeys_entry e[BIGKEYS_SLOTS];
};

struct bigkeys *
bigkeys_create(void)
{
    struct bigkeys *b = calloc(1, sizeof(*b));

    if (b != NULL) {
        pthread_mutex_init(&b->lock, NULL);
    }
    return b;
}

void
bigkeys_destroy(struct bigkeys *b)
{
    if (b != NULL) {
        pthread_mutex_destroy(&b->lock);
        free(b);
    }
}

/* Recompute the floor: the smallest candidate when full, else 0. */
static void
bigkeys_refloor_locked(struct bigkeys *b)
{
    size_t f = 0;

    if (b->n == BIGKEYS_SLOTS) {
        f = SIZE_MAX;
        for (uint32_t i = 0; i < b->n; i++) {
            if (b->e[i].nbytes < f) {
                f = b->e[i].nbytes;
            }
        }
    }
    __atomic_store_n(&b->floor, f, __ATOMIC_RELAXED);
}

void
bigkeys_note(struct bigkeys *b, const char *key, size_t nkey, size_t nbytes)
{
    uint32_t i, slot;

    if (b == NULL || nkey == 0 || nkey > BIGKEYS_KEY_MAX ||
        nbytes <= __atomic_load_n(&b->floor, __ATOMIC_RELAXED)) {
        return;
    }
    pthread_mutex_lock(&b->lock);
    slot = b->n;
    for (i = 0; i < b->n; i++) {
        if (b->e[i].nkey == nkey && memcmp(b->e[i].key, key, nkey) == 0) {
            slot = i;
            break;
        }
    }
    if (slot == b->n && b->n == BIGKEYS_SLOTS) {
        /* full: the smallest candidate makes room, if smaller */
        slot = 0;
        for (i = 1; i < b->n; i++) {
            if (b->e[i].nbytes < b->e[slot].nbytes) {
                slot = i;
            }
        }
        if (b->e[slot].nbytes >= nbytes) {
            pthread_mutex_unlock(&b->lock);
            return;
        }
    } else if (slot == b->n) {
        b->n++;
    }
    b->e[slot].nbytes = nbytes;
    b->e[slot].nkey = (uint8_t)nkey;
    memcpy(b->e[slot].key, key, nkey);
    bigkeys_refloor_locked(b);
    pthread_mutex_unlock(&b->lock);
}

static int
bigkeys_by_size(const void *a, const void *b)
{
    const struct bigkeys_entry *x = a, *y = b;

    if (x->nbytes != y->nbytes) {
        return x->nbytes > y->nbytes ? -1 : 1;
    }
    if (x->nkey != y->nkey) {
        return x->nkey < y->nkey ? -1 : 1;
    }
    return memcmp(x->key, y->key, x->nkey);
}

void
bigkeys_report(struct bigkeys *b, struct store *st, const struct clock *clk,
               unsigned top, stats_emit_fn emit, void *ctx)
{
    struct bigkeys_entry *live;
    uint32_t n = 0, rank = 0;
    rel_time_t now = clock_now(clk);

    live = b != NULL ? malloc(sizeof(*live) * BIGKEYS_SLOTS) : NULL;
    if (live == NULL) {
        return;
    }
    pthread_mutex_lock(&b->lock);
    for (uint32_t i = 0; i < b->n; i++) {
        struct store_peek pk;

        if (!store_peek(st, b->e[i].key, b->e[i].nkey, &pk)) {
            continue;   /* gone: dropped below */
        }
        /* an append or a smaller set changed it: the store is right */
        b->e[i].nbytes = pk.nbytes;
        b->e[n] = b->e[i];
        live[n] = b->e[i];
        n++;
    }
    b->n = n;
    bigkeys_refloor_locked(b);
    pthread_mutex_unlock(&b->lock);

    qsort(live, n, sizeof(*live), bigkeys_by_size);
    for (uint32_t i = 0; i < n && rank < top; i++) {
        struct store_peek pk;
        char name[32], val[3 * BIGKEYS_KEY_MAX + 96];
        long ttl;
        int off;

        /* class and TTL as of now (it may have gone meanwhile) */
        if (!store_peek(st, live[i].key, live[i].nkey, &pk)) {
            continue;
        }
        ttl = pk.exptime == 0 ? -1
              : pk.exptime > now ? (long)(pk.exptime - now) : 0;
        snprintf(name, sizeof(name), "bigkey:%u", ++rank);
        off = snprintf(val, sizeof(val), "key=");
        hotkeys_escape(val + off, live[i].key, live[i].nkey);
        off += (int)strlen(val + off);
        snprintf(val + off, sizeof(val) - (size_t)off,
                 " size=%zu class=%u ttl=%ld", pk.nbytes, pk.clsid, ttl);
        emit(ctx, name, val);
    }
    free(live);
}
