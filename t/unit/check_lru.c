/*
 * check_lru.c -- the LRU lists and what the store does with them:
 * link/unlink/bump/marker surgery; flat mode's eviction from the tail
 * (oldest first, expired first, a bumped item spared); the segmented LRU's
 * moves (HOT -> COLD by share, ACTIVE -> WARM), the ACTIVE second chance
 * at the COLD tail, the maintainer reclaiming expired items, freeing
 * chunks ahead of a writer (and inline evictions counted) and running on
 * its own, TEMP for short TTLs; the background crawler thread reclaiming
 * expired and flushed items, and eviction racing with readers, the
 * maintainer and the crawler.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slab/clock.h"
#include "slab/item.h"
#include "slab/item_layout.h"
#include "slab/lru.h"
#include "slab/maintainer.h"
#include "slab/store.h"
#include "slab/store_int.h"

/* List order from head to tail as a string of one-letter keys. */
static void
order(struct lru *l, char *out)
{
    struct item *it, *prev = NULL;

    for (it = l->head; it != NULL; prev = it, it = it->next) {
        ck_assert_ptr_eq(it->prev, prev);
        *out++ = it->data[0];
    }
    ck_assert_ptr_eq(l->tail, prev);
    *out = '\0';
}

START_TEST(test_list)
{
    struct lru l;
    struct item *it[4];
    char buf[8];
    int i;

    lru_init(&l);
    for (i = 0; i < 4; i++) {
        char k = (char)('a' + i);

        it[i] = calloc(1, sizeof(struct item) + 1);
        item_init(it[i], 1, &k, 1, 0, 0, false, false);
        lru_link_locked(&l, it[i]);
    }
    order(&l, buf);
    ck_assert_str_eq(buf, "dcba");
    lru_bump_locked(&l, it[0]);
    order(&l, buf);
    ck_assert_str_eq(buf, "adcb");
    lru_bump_locked(&l, it[0]);
    order(&l, buf);
    ck_assert_str_eq(buf, "adcb");
    lru_unlink_locked(&l, it[2]);
    order(&l, buf);
    ck_assert_str_eq(buf, "adb");
    lru_insert_above_locked(&l, it[0], it[2]);
    order(&l, buf);
    ck_assert_str_eq(buf, "cadb");
    lru_unlink_locked(&l, it[1]);
    lru_unlink_locked(&l, it[2]);
    lru_unlink_locked(&l, it[0]);
    lru_unlink_locked(&l, it[3]);
    order(&l, buf);
    ck_assert_str_eq(buf, "");
    ck_assert_ptr_null(l.head);
    lru_destroy(&l);
    for (i = 0; i < 4; i++) {
        free(it[i]);
    }
}
END_TEST

static struct clock *clk;
static struct store *st;

/* A store of mem bytes; bg runs the crawler and the maintainer threads,
 * flat selects the one-list LRU. */
static void
mk_mode(size_t mem, bool bg, bool flat)
{
    struct store_config cfg;

    clk = clock_create();
    ck_assert_ptr_nonnull(clk);
    clock_freeze(clk);
    store_config_default(&cfg);
    cfg.mem_limit = mem;
    cfg.lru_bg = bg;
    cfg.lru_maintainer = bg;
    cfg.lru.segmented = !flat;
    st = store_create(&cfg, clk);
    ck_assert_ptr_nonnull(st);
}

static void
mk(size_t mem, bool bg)
{
    mk_mode(mem, bg, false);
}

static void
rm(void)
{
    store_destroy(st);
    clock_destroy(clk);
}

static int
put(const char *k, size_t vlen, int64_t exp)
{
    static char v[4096];

    memset(v, 'x', vlen);
    return store_put(st, STORE_SET, k, strlen(k), 0, exp, v, vlen, 0, NULL);
}

static bool
has(const char *k)
{
    struct item *it = store_get(st, k, strlen(k));

    if (it != NULL) {
        store_release(st, it);
    }
    return it != NULL;
}

START_TEST(test_evict_order)
{
    char k[32];
    int i;

    /* Flat mode.  Class of 1000-byte values, 1 MiB budget: about 885 per
     * page. */
    mk_mode((size_t)1 << 20, false, true);
    put("hot", 1000, 0);
    put("exp", 1000, 5);
    for (i = 0; i < 500; i++) {
        snprintf(k, sizeof(k), "old%d", i);
        put(k, 1000, 0);
    }
    clock_advance(clk, 61);
    ck_assert(has("hot"));      /* idle > 60 s: moves to the head */
    /* 885 fit a page: 700 more evict about 317 from the tail. */
    for (i = 0; i < 700; i++) {
        snprintf(k, sizeof(k), "new%d", i);
        ck_assert_int_eq(put(k, 1000, 0), STORE_OK);
    }
    {
        struct lru *l = store_lru(st, slabs_clsid(st->slabs, 48 + 4 + 1000),
                                  LRU_COLD);

        ck_assert_uint_eq(l->reclaimed, 1);   /* "exp", expired at tail */
        ck_assert_uint_ge(l->evicted, 300);
        ck_assert_uint_eq(l->moves_within_lru, 1);
    }
    ck_assert(has("hot"));
    ck_assert(!has("exp"));
    ck_assert(!has("old0"));
    ck_assert(has("new699"));
    ck_assert(has("new0"));
    ck_assert(has("old499"));
    rm();
}
END_TEST

START_TEST(test_busy_tail)
{
    struct item *held;
    char k[32];
    int i;

    /* A referenced tail item is skipped, not freed under its reader. */
    mk((size_t)1 << 20, false);
    put("held", 1000, 0);
    held = store_get(st, "held", 4);
    for (i = 0; i < 2000; i++) {
        snprintf(k, sizeof(k), "n%d", i);
        ck_assert_int_eq(put(k, 1000, 0), STORE_OK);
    }
    ck_assert(has("held"));
    ck_assert_uint_eq(item_nbytes(held), 1000);
    store_release(st, held);
    rm();
}
END_TEST

static long long
curr_items(void)
{
    struct lru *l;
    long long n = 0;
    unsigned id;

    for (id = 1; id < SLAB_CLASS_MAX; id++) {
        for (unsigned seg = 0; seg < LRU_SEGS; seg++) {
            l = store_lru(st, id, seg);
            pthread_mutex_lock(&l->lock);
            n += (long long)l->number;
            pthread_mutex_unlock(&l->lock);
        }
    }
    return n;
}

static bool
wait_items(long long want)
{
    int i;

    for (i = 0; i < 200; i++) {
        if (curr_items() == want) {
            return true;
        }
        usleep(50000);
    }
    return false;
}

/* Counters of (class of a vlen-byte value, seg). */
static struct lru *
seg_of(size_t vlen, unsigned seg)
{
    return store_lru(st, slabs_clsid(st->slabs, 48 + 2 + vlen), seg);
}

/* The segment key k is in (-1 if missing); a lookup, so a hit. */
static int
seg_get(const char *k)
{
    struct item *it = store_get(st, k, strlen(k));
    int seg;

    if (it == NULL) {
        return -1;
    }
    seg = (int)item_seg(it);
    store_release(st, it);
    return seg;
}

START_TEST(test_segment_moves)
{
    char k[32];
    int i;

    mk((size_t)64 << 20, false);
    for (i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "k%02d", i);
        put(k, 100, 0);
    }
    /* New items enter HOT. */
    ck_assert_uint_eq(seg_of(100, LRU_HOT)->number, 100);
    ck_assert_uint_eq(seg_of(100, LRU_COLD)->number, 0);
    /* HOT keeps 20% of the class's bytes: the oldest 80 go to COLD. */
    ck_assert_uint_gt(maintainer_pass(st), 0);
    ck_assert_uint_eq(seg_of(100, LRU_HOT)->number, 20);
    ck_assert_uint_eq(seg_of(100, LRU_COLD)->number, 80);
    ck_assert_uint_eq(seg_of(100, LRU_HOT)->moves_to_cold, 80);
    ck_assert_int_eq(seg_get("k00"), LRU_COLD);   /* fetched */
    ck_assert_int_eq(seg_get("k00"), LRU_COLD);   /* now ACTIVE */
    ck_assert_int_eq(seg_get("k99"), LRU_HOT);
    ck_assert_int_eq(seg_get("k99"), LRU_HOT);
    /* ACTIVE at the COLD tail: up to WARM; an ACTIVE HOT item too, once
     * it reaches HOT's tail. */
    maintainer_pass(st);
    ck_assert_int_eq(seg_get("k00"), LRU_WARM);
    ck_assert_uint_eq(seg_of(100, LRU_COLD)->moves_to_warm, 1);
    ck_assert_uint_eq(seg_of(100, LRU_HOT)->number, 20);
    {
        struct item *it = store_get(st, "k00", 3);

        /* moving cleared the bit; this hit set it again */
        ck_assert(item_iflags(it) & ITEM_ACTIVE);
        store_release(st, it);
    }
    /* The hits were counted where the item was. */
    {
        struct store_lru_tune t;

        store_lru_tune_get(st, &t);
        ck_assert(t.segmented);
        t.segmented = false;
        store_lru_tune_set(st, &t);
    }
    /* Flat now: new items go to COLD, the maintainer drains HOT/WARM. */
    put("flat", 100, 0);
    ck_assert_int_eq(seg_get("flat"), LRU_COLD);
    maintainer_pass(st);
    ck_assert_uint_eq(seg_of(100, LRU_HOT)->number, 0);
    ck_assert_uint_eq(seg_of(100, LRU_WARM)->number, 0);
    ck_assert_uint_eq(seg_of(100, LRU_COLD)->number, 101);
    rm();
}
END_TEST

/* Inline evictions of the class of a vlen-byte value, all segments. */
static uint64_t
evicted_direct(size_t vlen)
{
    uint64_t n = 0;

    for (unsigned seg = 0; seg < LRU_SEGS; seg++) {
        struct lru *l = seg_of(vlen, seg);

        pthread_mutex_lock(&l->lock);
        n += l->evicted_direct;
        pthread_mutex_unlock(&l->lock);
    }
    return n;
}

START_TEST(test_free_ahead)
{
    unsigned id;
    struct slabs_class_stats cs;
    uint64_t direct, evicted;
    size_t ahead, total;
    char k[32];
    int i, n;

    mk((size_t)8 << 20, false);
    id = slabs_clsid(st->slabs, 48 + 7 + 100);
    /* Past capacity with no maintainer: every eviction is inline. */
    for (n = 0;; n++) {
        snprintf(k, sizeof(k), "f%06d", n);
        ck_assert_int_eq(put(k, 100, 0), STORE_OK);
        slabs_class_stats(st->slabs, id, &cs);
        if (cs.pages == 8 && cs.free_end == 0 && cs.free_chunks == 0 &&
            seg_of(100, LRU_COLD)->evicted + seg_of(100, LRU_HOT)->evicted >=
                1000) {
            break;
        }
    }
    total = cs.total_chunks;
    direct = evicted_direct(100);
    ck_assert_uint_ge(direct, 1000);
    /* A pass after that many stores: HOT back to its 20 % (as many moves
     * as stores, not a fixed 500), and chunks freed ahead, bounded by 1/64
     * of the class (a quarter page is more here). */
    maintainer_pass(st);
    ck_assert_uint_le(seg_of(100, LRU_HOT)->number, total / 5 + 1);
    ck_assert_uint_gt(seg_of(100, LRU_COLD)->number, total / 2);
    slabs_class_stats(st->slabs, id, &cs);
    ahead = cs.free_chunks + cs.free_end;
    ck_assert_uint_eq(ahead, total / 64);
    ck_assert_uint_lt(total / 64, cs.perslab / 4);
    /* Those stores take the free chunks: no inline eviction. */
    evicted = seg_of(100, LRU_COLD)->evicted;
    for (i = 0; i < (int)ahead; i++) {
        snprintf(k, sizeof(k), "g%06d", i);
        ck_assert_int_eq(put(k, 100, 0), STORE_OK);
    }
    ck_assert_uint_eq(evicted_direct(100), direct);
    ck_assert_uint_eq(seg_of(100, LRU_COLD)->evicted, evicted);
    /* The next one evicts inline again, and is counted so. */
    ck_assert_int_eq(put("h", 100, 0), STORE_OK);
    ck_assert_uint_eq(evicted_direct(100), direct + 1);
    /* A steady writer, a pass every 10 stores: once the chunks freed
     * ahead run down, each pass keeps two passes' worth (20) free, and no
     * store evicts inline. */
    maintainer_pass(st);
    direct = evicted_direct(100);
    for (n = 0; n < 200; n++) {
        for (i = 0; i < 10; i++) {
            snprintf(k, sizeof(k), "i%03d%03d", n, i);
            ck_assert_int_eq(put(k, 100, 0), STORE_OK);
        }
        /* the pass runs on the writer's thread here (the daemon gives it
         * its own): the writer's cached chunks back first, or the pass
         * would give them back with its own and overshoot */
        slabs_flush_mine(st->slabs);
        maintainer_pass(st);
        slabs_class_stats(st->slabs, id, &cs);
        ck_assert_uint_ge(cs.free_chunks + cs.free_end, 10);
    }
    ck_assert_uint_eq(cs.free_chunks + cs.free_end, 20);
    ck_assert_uint_eq(evicted_direct(100), direct);
    rm();
}
END_TEST

/* Write n cold 1000-byte items, reading "hot" between every 20 writes;
 * returns how many of those reads missed. */
static int
churn_hot(int n)
{
    char k[32];
    int i, misses = 0;

    put("hot", 1000, 0);
    for (i = 0; i < n; i++) {
        snprintf(k, sizeof(k), "cold%d", i);
        ck_assert_int_eq(put(k, 1000, 0), STORE_OK);
        if (i % 20 == 19) {
            if (!has("hot")) {
                misses++;
                put("hot", 1000, 0);
            }
        }
    }
    return misses;
}

START_TEST(test_second_chance)
{
    /* 1 MiB: about 885 of these fit; 5000 stream through. */
    mk((size_t)1 << 20, false);
    ck_assert_int_eq(churn_hot(5000), 0);
    ck_assert_uint_gt(seg_of(1000, LRU_COLD)->evicted, 3000);
    /* its hits lifted it out of HOT's tail (and COLD's, if it got there) */
    ck_assert_uint_gt(seg_of(1000, LRU_HOT)->moves_to_warm +
                          seg_of(1000, LRU_COLD)->moves_to_warm,
                      0);
    ck_assert_uint_eq(seg_of(1000, LRU_COLD)->evicted_active, 0);
    rm();
    /* The same with the maintainer running. */
    mk((size_t)1 << 20, true);
    ck_assert_int_eq(churn_hot(5000), 0);
    rm();
    /* Flat mode, no clock tick: hits do not move it, so it is evicted
     * again and again (what segmented mode fixes). */
    mk_mode((size_t)1 << 20, false, true);
    ck_assert_int_gt(churn_hot(5000), 1);
    rm();
}
END_TEST

START_TEST(test_all_active)
{
    char k[32];
    int i, j;
    uint64_t ev = 0, active = 0;

    /* Everything read twice (ACTIVE): second chances run out and the
     * store still evicts rather than fail. */
    mk((size_t)1 << 20, false);
    for (i = 0; i < 3000; i++) {
        snprintf(k, sizeof(k), "a%d", i);
        ck_assert_int_eq(put(k, 1000, 0), STORE_OK);
        for (j = 0; j < 2; j++) {
            has(k);
        }
    }
    for (i = 0; i < LRU_SEGS; i++) {
        ev += seg_of(1000, (unsigned)i)->evicted;
        active += seg_of(1000, (unsigned)i)->evicted_active;
    }
    ck_assert_uint_gt(ev, 2000);
    ck_assert_uint_gt(active, 0);
    ck_assert_uint_eq(seg_of(1000, LRU_COLD)->outofmemory, 0);
    rm();
}
END_TEST

START_TEST(test_maintainer_reclaim)
{
    char k[32];
    int i;

    mk((size_t)64 << 20, false);
    for (i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "e%d", i);
        put(k, 100, 5);
    }
    for (i = 0; i < 50; i++) {
        snprintf(k, sizeof(k), "p%d", i);
        put(k, 100, 0);
    }
    clock_advance(clk, 10);
    /* Nobody reads, no crawler: the maintainer frees them as it moves
     * items down (the expired ones are the oldest, at HOT's tail). */
    maintainer_pass(st);
    ck_assert_uint_eq(seg_of(100, LRU_HOT)->reclaimed, 50);
    ck_assert_uint_eq(curr_items(), 50);
    ck_assert(has("p0"));
    rm();
}
END_TEST

START_TEST(test_temp_lru)
{
    struct store_lru_tune t;
    char k[32];
    int i;

    mk((size_t)64 << 20, false);
    store_lru_tune_get(st, &t);
    t.temp_lru = true;
    t.temp_ttl = 61;
    store_lru_tune_set(st, &t);
    put("s0", 100, 61);
    put("l0", 100, 62);
    put("n0", 100, 0);
    ck_assert_int_eq(seg_get("s0"), LRU_TEMP);
    ck_assert_int_eq(seg_get("l0"), LRU_HOT);
    ck_assert_int_eq(seg_get("n0"), LRU_HOT);
    for (i = 0; i < 20; i++) {
        snprintf(k, sizeof(k), "t%d", i);   /* same class as s0 */
        put(k, 100, 30);
    }
    ck_assert_uint_eq(seg_of(100, LRU_TEMP)->number, 21);
    /* TEMP items never move; the maintainer reclaims them once expired. */
    maintainer_pass(st);
    ck_assert_uint_eq(seg_of(100, LRU_TEMP)->number, 21);
    clock_advance(clk, 31);
    maintainer_pass(st);
    ck_assert_uint_eq(seg_of(100, LRU_TEMP)->number, 1);
    ck_assert_uint_eq(seg_of(100, LRU_TEMP)->reclaimed, 20);
    rm();
}
END_TEST

START_TEST(test_maintainer_thread)
{
    char k[32];
    int i;

    /* The thread pushes HOT down to its share by itself. */
    mk((size_t)64 << 20, true);
    for (i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "m%d", i);
        put(k, 100, 0);
    }
    for (i = 0; i < 200; i++) {
        struct lru *l = seg_of(100, LRU_HOT);
        uint64_t n;

        pthread_mutex_lock(&l->lock);
        n = l->number;
        pthread_mutex_unlock(&l->lock);
        if (n <= 200) {
            break;
        }
        usleep(20000);
    }
    ck_assert_int_lt(i, 200);
    rm();
}
END_TEST

START_TEST(test_background)
{
    char k[32];
    int i;

    mk((size_t)64 << 20, true);
    for (i = 0; i < 3000; i++) {
        snprintf(k, sizeof(k), "b%d", i);
        put(k, 10 + i % 300, i % 3 == 0 ? 0 : 30);
    }
    clock_advance(clk, 31);
    /* Nobody reads: only the background thread can free them. */
    ck_assert(wait_items(1000));
    store_flush(st, 0);
    ck_assert(wait_items(0));
    rm();
}
END_TEST

/* Readers, writers and the crawler on a store that evicts constantly. */
static void *
churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg + 1;
    char k[32];
    int i;

    for (i = 0; i < 30000; i++) {
        unsigned r = seed = seed * 1103515245u + 12345u;
        size_t nk = (size_t)snprintf(k, sizeof(k), "c%u", (r >> 8) % 20000);
        struct item *it;

        if ((r >> 4) % 3 == 0) {
            static const char pat[] = "0123456789abcdef";
            char v[2000];
            size_t n = 100 + r % 1800, j;

            for (j = 0; j < n; j++) {
                v[j] = pat[(nk + j) % 16];
            }
            if (store_put(st, STORE_SET, k, nk, 0, (r >> 20) % 3, v, n, 0,
                          NULL) != STORE_OK) {
                ck_abort_msg("set %s failed", k);
            }
        } else if ((it = store_get(st, k, nk)) != NULL) {
            struct item_slice sl;
            size_t j, bad = 0;

            item_value(it, &sl, 1);
            for (j = 0; j < sl.len; j++) {
                bad += sl.ptr[j] != "0123456789abcdef"[(nk + j) % 16];
            }
            store_release(st, it);
            if (bad != 0) {
                ck_abort_msg("value of %s corrupted", k);
            }
        }
        if (i % 5000 == 0 && arg == 0) {
            clock_advance(clk, 1);
        }
    }
    return NULL;
}

START_TEST(test_churn)
{
    pthread_t th[4];
    long i;

    mk((size_t)2 << 20, true);
    for (i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, churn, (void *)i);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    {
        /* Within budget, plus at most the first page of each class. */
        size_t classes = 0;
        unsigned id;

        for (id = 1; id <= slabs_largest(st->slabs); id++) {
            struct slabs_class_stats cs;

            slabs_class_stats(st->slabs, id, &cs);
            classes += cs.pages > 0;
        }
        ck_assert_uint_le(slabs_malloced(st->slabs),
                          ((size_t)2 + classes) << 20);
        ck_assert_uint_gt(classes, 5);
    }
    {
        uint64_t ev = 0;
        unsigned id;

        for (id = 1; id < SLAB_CLASS_MAX; id++) {
            for (unsigned seg = 0; seg < LRU_SEGS; seg++) {
                ev += store_lru(st, id, seg)->evicted;
            }
        }
        ck_assert_uint_gt(ev, 1000);
    }
    rm();
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("lru");
    TCase *tc = tcase_create("lru");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_evict_order);
    tcase_add_test(tc, test_busy_tail);
    tcase_add_test(tc, test_segment_moves);
    tcase_add_test(tc, test_second_chance);
    tcase_add_test(tc, test_all_active);
    tcase_add_test(tc, test_maintainer_reclaim);
    tcase_add_test(tc, test_free_ahead);
    tcase_add_test(tc, test_temp_lru);
    tcase_add_test(tc, test_maintainer_thread);
    tcase_add_test(tc, test_background);
    tcase_add_test(tc, test_churn);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
