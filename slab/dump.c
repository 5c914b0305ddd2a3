/*
 * dump.c -- batched listing of live items (slab/dump.h).
 *
 * LRU order: the dump's cursor is a marker pseudo-item (class 0,
 * item_is_marker) linked into the list it walks, so it keeps its place
 * while the lock is released between batches and the list changes around
 * it; every list walker skips markers, and several dumps plus the expiry
 * crawl may have theirs in one list at once.  Each batch moves the marker
 * past at most DUMP_STEPS entries under the LRU lock and copies the live
 * ones out.  Reading an item's fields under its LRU lock alone is safe:
 * an item cannot be freed while linked, its key and size never change
 * while linked, and the fields that do change (CAS, times, flags) are read
 * atomically.
 *
 * Hash order: hash_walk's reverse-binary cursor per shard, one shard lock
 * per batch (the item lock of 1/HASH_SHARDS of the keys, for a few
 * buckets).
 *
 * Calls: store_int.h (lists, liveness, sizes), hash.h, clock.h.
 */
#include "slab/dump.h"

#include <stdlib.h>
#include <string.h>

#include "slab/lock.h"
#include "slab/store_int.h"

/* Records copied per lock hold: a hash shard's keys wait for it (and,
 * for a dump run on a worker, gets on that worker: daemon/admin_crawler.c). */
#define DUMP_BATCH 32

/* List entries (live, dead or markers) passed per LRU lock hold. */
#define DUMP_STEPS (4 * DUMP_BATCH)

struct dump {
    struct store *s;
    enum dump_order order;
    uint64_t classes;
    unsigned largest;       /* highest class id that existed at create */
    unsigned id;            /* LRU order: the list being walked */
    unsigned seg;
    struct item *marker;    /* linked in list (id, seg) when linked */
    bool linked;
    unsigned shard;         /* hash order */
    uint64_t cursor;
    bool done;
    bool with_dead;
    struct dump_rec *recs;
    unsigned nrecs;
    unsigned cap;
};

static void
dump_copy(const struct dump *d, const struct item *it, struct dump_rec *r)
{
    struct clock *clk = d->s->clk;
    rel_time_t exp = item_get_exptime(it);

    r->cas = (item_iflags(it) & ITEM_NOCAS)
                 ? 0
                 : __atomic_load_n(&it->cas, __ATOMIC_RELAXED);
    r->nbytes = (item_iflags(it) & ITEM_CHUNKED) ? item_desc_get(it).nbytes
                                                 : it->len >> 8;
    r->size = store_item_size(it);
    r->exptime = exp == 0 ? 0 : clock_unix(clk, exp);
    r->atime = clock_unix(clk, item_get_atime(it));
    r->clsid = (uint8_t)item_clsid(it);
    r->nkey = (uint8_t)item_nkey_raw(it);
    r->fetched = (item_iflags(it) & ITEM_FETCHED) != 0;
    memcpy(r->key, it->data, r->nkey);
}

/* Room for one more record; false (record dropped) only when a hash chain
 * longer than the spare room meets an allocation failure. */
static bool
dump_room(struct dump *d)
{
    struct dump_rec *n;

    if (d->nrecs < d->cap) {
        return true;
    }
    n = realloc(d->recs, (size_t)d->cap * 2 * sizeof(*n));
    if (n == NULL) {
        return false;
    }
    d->recs = n;
    d->cap *= 2;
    return true;
}

/* Step to the next class in the set (segments first); false at the end. */
static bool
dump_advance(struct dump *d)
{
    if (++d->seg < LRU_SEGS) {
        return true;
    }
    d->seg = 0;
    while (++d->id <= d->largest) {
        if (d->classes & ((uint64_t)1 << d->id)) {
            return true;
        }
    }
    return false;
}

/* Put the marker at the end of l the walk starts from (lock held); false
 * if the list is empty. */
static bool
dump_marker_enter_locked(struct dump *d, struct lru *l)
{
    struct item *m = d->marker;

    if (l->head == NULL) {
        return false;
    }
    if (d->order == DUMP_NEWEST_FIRST) {
        lru_link_locked(l, m);
    } else {
        m->prev = l->tail;
        m->next = NULL;
        l->tail->next = m;
        l->tail = m;
    }
    return true;
}

/* Move the marker past its neighbour it in walking direction. */
static void
dump_marker_pass_locked(struct dump *d, struct lru *l, struct item *it)
{
    struct item *m = d->marker;

    lru_unlink_locked(l, m);
    if (d->order == DUMP_OLDEST_FIRST) {
        lru_insert_above_locked(l, it, m);
        return;
    }
    /* below it, towards the tail */
    m->prev = it;
    m->next = it->next;
    if (it->next != NULL) {
        it->next->prev = m;
    } else {
        l->tail = m;
    }
    it->next = m;
}

/* One LRU batch: up to DUMP_BATCH records from list (id, seg). */
static void
dump_lru_batch(struct dump *d)
{
    struct store *s = d->s;
    struct lru *l = store_lru(s, d->id, d->seg);
    rel_time_t now = clock_now(s->clk);
    unsigned steps;

    lock_take(&l->lock, LOCK_LRU);
    if (!d->linked) {
        d->linked = dump_marker_enter_locked(d, l);
    }
    for (steps = 0; d->linked && d->nrecs < DUMP_BATCH && steps < DUMP_STEPS;
         steps++) {
        struct item *it = d->order == DUMP_OLDEST_FIRST ? d->marker->prev
                                                        : d->marker->next;

        if (it == NULL) {
            lru_unlink_locked(l, d->marker);
            d->linked = false;
            break;
        }
        dump_marker_pass_locked(d, l, it);
        if (item_is_marker(it) ||
            (!d->with_dead && store_item_dead(s, it, now) != STORE_LIVE)) {
            continue;
        }
        dump_copy(d, it, &d->recs[d->nrecs++]);
    }
    pthread_mutex_unlock(&l->lock);
    if (!d->linked && !dump_advance(d)) {
        d->done = true;
    }
}

/* hash_walk's visitor: copy a live item (its shard lock held). */
static void
dump_hash_visit(void *ctx, struct item *it)
{
    struct dump *d = ctx;

    if ((d->classes != 0 &&
         !(d->classes & ((uint64_t)1 << item_clsid(it)))) ||
        (!d->with_dead &&
         store_item_dead(d->s, it, clock_now(d->s->clk)) != STORE_LIVE) ||
        !dump_room(d)) {
        return;
    }
    dump_copy(d, it, &d->recs[d->nrecs++]);
}

struct dump *
dump_create(struct store *s, uint64_t classes, enum dump_order order,
            bool with_dead)
{
    struct dump *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        return NULL;
    }
    d->s = s;
    d->order = order;
    d->with_dead = with_dead;
    d->classes = classes & ~(uint64_t)1;
    d->largest = slabs_largest(s->slabs);
    d->cap = 2 * DUMP_BATCH;
    d->recs = malloc((size_t)d->cap * sizeof(*d->recs));
    /* zeroed: class 0, which makes it a marker */
    d->marker = calloc(1, sizeof(struct item));
    if (d->recs == NULL || d->marker == NULL) {
        dump_destroy(d);
        return NULL;
    }
    if (order != DUMP_HASH) {
        /* start just before the first list of the set */
        d->id = 0;
        d->seg = LRU_SEGS - 1;
        d->done = !dump_advance(d);
    }
    return d;
}

unsigned
dump_next(struct dump *d, const struct dump_rec **recs)
{
    d->nrecs = 0;
    while (d->nrecs == 0 && !d->done) {
        if (d->order != DUMP_HASH) {
            dump_lru_batch(d);
            continue;
        }
        /* small shards: fill the batch from several, one lock each */
        while (d->nrecs < DUMP_BATCH && !d->done) {
            if (hash_walk(d->s->hash, d->shard, &d->cursor,
                          DUMP_BATCH - d->nrecs, dump_hash_visit, d) &&
                ++d->shard == HASH_SHARDS) {
                d->done = true;
            }
        }
    }
    *recs = d->recs;
    return d->nrecs;
}

void
dump_destroy(struct dump *d)
{
    if (d == NULL) {
        return;
    }
    if (d->linked) {
        struct lru *l = store_lru(d->s, d->id, d->seg);

        lock_take(&l->lock, LOCK_LRU);
        lru_unlink_locked(l, d->marker);
        pthread_mutex_unlock(&l->lock);
    }
    free(d->marker);
    free(d->recs);
    free(d);
}
