/*
 * store_stats.c -- the store's part of "stats", "stats items" and
 * "stats slabs", with memcached's names and order.
 *
 * Counters that change with the LRU lists are read under each LRU lock;
 * hit counters are summed over their per-thread shards (relaxed atomics),
 * so a snapshot is consistent per class, not across classes -- the same
 * guarantee memcached gives.  Only counters the store really maintains are
 * emitted; the daemon interleaves its own (connections, commands).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "slab/lock.h"
#include "slab/store_int.h"

static void
stats_u64(store_emit_fn emit, void *ctx, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    emit(ctx, name, buf);
}

/* "<prefix><id>:<name>" = v */
static void
stats_class_u64(store_emit_fn emit, void *ctx, const char *prefix,
                unsigned id, const char *name, uint64_t v)
{
    char key[64];

    snprintf(key, sizeof(key), "%s%u:%s", prefix, id, name);
    stats_u64(emit, ctx, key, v);
}

/* Sum one hit counter of one class over the shards. */
static uint64_t
stats_ctr(const struct store *s, unsigned id, enum store_ctr c)
{
    uint64_t sum = 0;
    unsigned i;

    for (i = 0; i < STORE_CTR_SHARDS; i++) {
        sum += __atomic_load_n(&s->ctr[i].c[id][c], __ATOMIC_RELAXED);
    }
    return sum;
}

static uint64_t
stats_ctr_all(const struct store *s, enum store_ctr c)
{
    uint64_t sum = 0;
    unsigned id;

    /* class 0 holds what has no class (a set refused before allocating) */
    for (id = 0; id < SLAB_CLASS_MAX; id++) {
        sum += stats_ctr(s, id, c);
    }
    return sum;
}

void
store_stats(struct store *s, store_emit_fn emit, void *ctx)
{
    struct lru t;
    unsigned id;

    memset(&t, 0, sizeof(t));
    for (id = 1; id <= slabs_largest(s->slabs); id++) {
        for (unsigned seg = 0; seg < LRU_SEGS; seg++) {
            struct lru *l = store_lru(s, id, seg);

            lock_take(&l->lock, LOCK_LRU);
            lru_sum_locked(&t, l);
            pthread_mutex_unlock(&l->lock);
        }
    }
    /* the command counters memcached sums over its classes are counted
     * only here; the daemon places them among its own */
    stats_u64(emit, ctx, "cmd_set", stats_ctr_all(s, CTR_CMD_SET));
    stats_u64(emit, ctx, "get_hits", stats_ctr_all(s, CTR_GET_HITS));
    stats_u64(emit, ctx, "delete_hits", stats_ctr_all(s, CTR_DELETE_HITS));
    stats_u64(emit, ctx, "incr_hits", stats_ctr_all(s, CTR_INCR_HITS));
    stats_u64(emit, ctx, "decr_hits", stats_ctr_all(s, CTR_DECR_HITS));
    stats_u64(emit, ctx, "cas_hits", stats_ctr_all(s, CTR_CAS_HITS));
    stats_u64(emit, ctx, "cas_badval", stats_ctr_all(s, CTR_CAS_BADVAL));
    stats_u64(emit, ctx, "touch_hits", stats_ctr_all(s, CTR_TOUCH_HITS));
    stats_u64(emit, ctx, "get_expired", stats_ctr_all(s, CTR_GET_EXPIRED));
    stats_u64(emit, ctx, "get_flushed", stats_ctr_all(s, CTR_GET_FLUSHED));
    stats_u64(emit, ctx, "limit_maxbytes", slabs_limit(s->slabs));
    stats_u64(emit, ctx, "hash_power_level", hash_power_level(s->hash));
    stats_u64(emit, ctx, "hash_bytes", hash_bytes(s->hash));
    stats_u64(emit, ctx, "hash_is_expanding", hash_is_expanding(s->hash));
    store_mover_stats(s, emit, ctx);
    stats_u64(emit, ctx, "lru_crawler_running",
              __atomic_load_n(&s->crawler_running, __ATOMIC_RELAXED));
    stats_u64(emit, ctx, "lru_crawler_starts",
              __atomic_load_n(&s->crawler_starts, __ATOMIC_RELAXED));
    stats_u64(emit, ctx, "malloc_fails", slabs_malloc_fails(s->slabs));
    stats_u64(emit, ctx, "bytes", t.mem_requested);
    {
        /* unlinked first: whatever is linked and unlinked meanwhile, the
         * difference cannot go below zero */
        uint64_t unlinked = stats_ctr_all(s, CTR_UNLINKED);

        stats_u64(emit, ctx, "curr_items",
                  stats_ctr_all(s, CTR_LINKED) - unlinked);
    }
    stats_u64(emit, ctx, "total_items", t.total_items);
    stats_u64(emit, ctx, "slab_global_page_pool",
              slabs_pool_pages(s->slabs));
    stats_u64(emit, ctx, "expired_unfetched", t.expired_unfetched);
    stats_u64(emit, ctx, "evicted_unfetched", t.evicted_unfetched);
    stats_u64(emit, ctx, "evictions", t.evicted);
    stats_u64(emit, ctx, "reclaimed", t.reclaimed);
    stats_u64(emit, ctx, "crawler_reclaimed", t.crawler_reclaimed);
    stats_u64(emit, ctx, "crawler_items_checked", t.crawler_items_checked);
    stats_u64(emit, ctx, "lrutail_reflocked", t.lrutail_reflocked);
    stats_u64(emit, ctx, "moves_within_lru", t.moves_within_lru);
    stats_u64(emit, ctx, "direct_reclaims", t.direct_reclaims);
    stats_u64(emit, ctx, "evictions_direct", t.evicted_direct);
    stats_u64(emit, ctx, "ref_limit_misses", stats_ctr_all(s, CTR_REF_LIMIT));
}

/* Idle seconds of the tail-most item of l (its lock held), 0 if none. */
static uint64_t
stats_tail_age_locked(const struct lru *l, rel_time_t now)
{
    const struct item *it;

    for (it = l->tail; it != NULL; it = it->prev) {
        if (!item_is_marker(it)) {
            return now - item_get_atime(it);
        }
    }
    return 0;
}

void
store_stats_items(struct store *s, store_emit_fn emit, void *ctx)
{
    rel_time_t now = clock_now(s->clk);
    struct store_lru_tune t;
    unsigned id;

    store_lru_tune_get(s, &t);
    for (id = 1; id <= slabs_largest(s->slabs); id++) {
        struct lru c;
        uint64_t number[LRU_SEGS], age[LRU_SEGS];

        memset(&c, 0, sizeof(c));
        for (unsigned seg = 0; seg < LRU_SEGS; seg++) {
            struct lru *l = store_lru(s, id, seg);

            lock_take(&l->lock, LOCK_LRU);
            lru_sum_locked(&c, l);
            number[seg] = l->number;
            age[seg] = stats_tail_age_locked(l, now);
            pthread_mutex_unlock(&l->lock);
        }
        if (c.number == 0) {
            continue;
        }
#define STATS_ITEM(name, v) stats_class_u64(emit, ctx, "items:", id, name, v)
        STATS_ITEM("number", c.number);
        /* memcached prints the segments when the maintainer runs (even in
         * flat mode), TEMP only with temp_lru */
        if (s->cfg.lru_maintainer) {
            STATS_ITEM("number_hot", number[LRU_HOT]);
            STATS_ITEM("number_warm", number[LRU_WARM]);
            STATS_ITEM("number_cold", number[LRU_COLD]);
            if (t.temp_lru) {
                STATS_ITEM("number_temp", number[LRU_TEMP]);
            }
            STATS_ITEM("age_hot", age[LRU_HOT]);
            STATS_ITEM("age_warm", age[LRU_WARM]);
        }
        STATS_ITEM("age", age[LRU_COLD]);
        STATS_ITEM("mem_requested", c.mem_requested);
        STATS_ITEM("evicted", c.evicted);
        STATS_ITEM("evicted_nonzero", c.evicted_nonzero);
        STATS_ITEM("evicted_time", c.evicted_time);
        STATS_ITEM("outofmemory", c.outofmemory);
        STATS_ITEM("reclaimed", c.reclaimed);
        STATS_ITEM("expired_unfetched", c.expired_unfetched);
        STATS_ITEM("evicted_unfetched", c.evicted_unfetched);
        STATS_ITEM("evicted_active", c.evicted_active);
        STATS_ITEM("crawler_reclaimed", c.crawler_reclaimed);
        STATS_ITEM("crawler_items_checked", c.crawler_items_checked);
        STATS_ITEM("lrutail_reflocked", c.lrutail_reflocked);
        STATS_ITEM("moves_to_cold", c.moves_to_cold);
        STATS_ITEM("moves_to_warm", c.moves_to_warm);
        STATS_ITEM("moves_within_lru", c.moves_within_lru);
        STATS_ITEM("direct_reclaims", c.direct_reclaims);
        STATS_ITEM("hits_to_hot", stats_ctr(s, id, CTR_HITS_HOT));
        STATS_ITEM("hits_to_warm", stats_ctr(s, id, CTR_HITS_WARM));
        STATS_ITEM("hits_to_cold", stats_ctr(s, id, CTR_HITS_COLD));
        STATS_ITEM("hits_to_temp", stats_ctr(s, id, CTR_HITS_TEMP));
        /* stashd only: of "evicted", how many a SET had to do itself */
        STATS_ITEM("evicted_direct", c.evicted_direct);
#undef STATS_ITEM
    }
}

void
store_stats_slabs(struct store *s, store_emit_fn emit, void *ctx)
{
    unsigned active = 0;
    unsigned id;

    for (id = 1; id <= slabs_largest(s->slabs); id++) {
        struct slabs_class_stats st;

        slabs_class_stats(s->slabs, id, &st);
        if (st.pages == 0) {
            continue;
        }
        active++;
#define STATS_SLAB(name, v) stats_class_u64(emit, ctx, "", id, name, v)
        STATS_SLAB("chunk_size", st.size);
        STATS_SLAB("chunks_per_page", st.perslab);
        STATS_SLAB("total_pages", st.pages);
        STATS_SLAB("total_chunks", st.total_chunks);
        STATS_SLAB("used_chunks", st.used_chunks);
        /* memcached 1.6 carves a whole page at once: its free_chunks
         * count our uncarved end too, and free_chunks_end stays 0 */
        STATS_SLAB("free_chunks", st.free_chunks + st.free_end);
        STATS_SLAB("free_chunks_end", 0);
        STATS_SLAB("get_hits", stats_ctr(s, id, CTR_GET_HITS));
        STATS_SLAB("cmd_set", stats_ctr(s, id, CTR_CMD_SET));
        STATS_SLAB("delete_hits", stats_ctr(s, id, CTR_DELETE_HITS));
        STATS_SLAB("incr_hits", stats_ctr(s, id, CTR_INCR_HITS));
        STATS_SLAB("decr_hits", stats_ctr(s, id, CTR_DECR_HITS));
        STATS_SLAB("cas_hits", stats_ctr(s, id, CTR_CAS_HITS));
        STATS_SLAB("cas_badval", stats_ctr(s, id, CTR_CAS_BADVAL));
        STATS_SLAB("touch_hits", stats_ctr(s, id, CTR_TOUCH_HITS));
#undef STATS_SLAB
    }
    stats_u64(emit, ctx, "active_slabs", active);
    stats_u64(emit, ctx, "total_malloced", slabs_malloced(s->slabs));
}

void
store_stats_reset(struct store *s)
{
    unsigned i, id, c;

    for (i = 0; i < STORE_CTR_SHARDS; i++) {
        for (id = 0; id < SLAB_CLASS_MAX; id++) {
            for (c = 0; c < CTR_COUNT; c++) {
                if (c != CTR_LINKED && c != CTR_UNLINKED) {
                    __atomic_store_n(&s->ctr[i].c[id][c], 0,
                                     __ATOMIC_RELAXED);
                }
            }
        }
    }
    store_mover_stats_reset(s);
    for (id = 1; id < SLAB_CLASS_MAX; id++) {
        for (unsigned seg = 0; seg < LRU_SEGS; seg++) {
            struct lru *l = store_lru(s, id, seg);

            lock_take(&l->lock, LOCK_LRU);
            lru_reset_locked(l);
            pthread_mutex_unlock(&l->lock);
        }
    }
}

/* ---- stats sizes ---------------------------------------------------- */

struct store_sizes_emit {
    store_emit_fn emit;
    void *ctx;
};

static void
store_sizes_line(void *arg, size_t bytes, uint64_t count)
{
    struct store_sizes_emit *x = arg;
    char name[24], value[24];

    snprintf(name, sizeof(name), "%zu", bytes);
    snprintf(value, sizeof(value), "%" PRIu64, count);
    x->emit(x->ctx, name, value);
}

void
store_stats_sizes(struct store *s, store_emit_fn emit, void *ctx)
{
    struct store_sizes_emit x = {emit, ctx};

    if (!sizes_each(s->sizes, store_sizes_line, &x)) {
        emit(ctx, "sizes_status", "disabled");
    }
}

bool
store_sizes_set(struct store *s, bool on)
{
    return sizes_set_enabled(s->sizes, on);
}

bool
store_sizes_enabled(const struct store *s)
{
    return sizes_enabled(s->sizes);
}
