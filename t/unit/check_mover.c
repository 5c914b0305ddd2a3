/*
 * check_mover.c -- the slab page mover (slab/mover.c, slab/slabs.c):
 * every "slabs reassign" outcome, rescue and eviction of the items in a
 * moved page (values, CAS, flags, expiry and LRU order unchanged), chunked
 * values (header rescued, continuation chunk's owner evicted), an item
 * held by a reader while its page moves, cache_memlimit shrinking, the
 * second page of a class that fills its first after memory ran out, and
 * readers and writers running while pages move.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slab/clock.h"
#include "slab/item.h"
#include "slab/store.h"
#include "slab/store_int.h"

static struct clock *clk;
static struct store *st;

static struct store *
mkstore(size_t mem, bool thread)
{
    struct store_config cfg;

    store_config_default(&cfg);
    cfg.mem_limit = mem;
    cfg.lru_bg = false;
    cfg.lru_maintainer = false;
    cfg.lru.segmented = false;
    cfg.slab_reassign = thread;
    cfg.slab_automove = 0;
    return store_create(&cfg, clk);
}

static void
setup(void)
{
    clk = clock_create();
    ck_assert_ptr_nonnull(clk);
    st = NULL;
}

static void
teardown(void)
{
    store_destroy(st);
    clock_destroy(clk);
}

static void
keyof(char *k, unsigned i)
{
    snprintf(k, 16, "k%07u", i);
}

/* Byte j of key i's value: differs per key and position. */
static char
vbyte(unsigned i, size_t j)
{
    return (char)((i * 131u + j * 7u + (j >> 8)) & 0xff);
}

static int
put(unsigned i, size_t len)
{
    char k[16];
    char *v = malloc(len);
    int rc;

    keyof(k, i);
    for (size_t j = 0; j < len; j++) {
        v[j] = vbyte(i, j);
    }
    rc = store_put(st, STORE_SET, k, strlen(k), i, 1000 + i, v, len, 0,
                   NULL);
    free(v);
    return rc;
}

/* Is key i's value whole and exact in it? */
static bool
exact(const struct item *it, unsigned i, size_t len)
{
    struct item_slice sl[8];
    size_t n = item_value(it, sl, 8), off = 0;

    if (item_nbytes(it) != len || item_flags(it) != i) {
        return false;
    }
    for (size_t s = 0; s < n && s < 8; s++) {
        for (size_t j = 0; j < sl[s].len; j++) {
            if (sl[s].ptr[j] != vbyte(i, off + j)) {
                return false;
            }
        }
        off += sl[s].len;
    }
    return off == len;
}

/* 1 if key i is stored exactly, 0 if missing; fails on a bad value. */
static int
check(unsigned i, size_t len, uint64_t *cas)
{
    char k[16];
    struct item *it;
    bool ok;

    keyof(k, i);
    it = store_get(st, k, strlen(k));
    if (it == NULL) {
        return 0;
    }
    ok = exact(it, i, len);
    if (cas != NULL) {
        *cas = item_cas(it);
    }
    store_release(st, it);
    ck_assert_msg(ok, "key %u corrupted", i);
    return 1;
}

static void
del(unsigned i)
{
    char k[16];

    keyof(k, i);
    ck_assert_int_eq(store_delete(st, k, strlen(k), 0), STORE_OK);
}

struct statv {
    const char *want;
    uint64_t v;
    bool found;
};

static void
stat_pick(void *ctx, const char *name, const char *value)
{
    struct statv *s = ctx;

    if (strcmp(name, s->want) == 0) {
        s->v = strtoull(value, NULL, 10);
        s->found = true;
    }
}

static uint64_t
stat(const char *name)
{
    struct statv s = {name, 0, false};

    store_stats(st, stat_pick, &s);
    ck_assert_msg(s.found, "no stat %s", name);
    return s.v;
}

static unsigned
clsof(size_t len)
{
    return slabs_clsid(st->slabs, item_ntotal(8, true, len));
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* Wait up to 10 s for slabs_moved to reach n. */
static void
wait_moved(uint64_t n)
{
    for (int t = 0; t < 1000 && stat("slabs_moved") < n; t++) {
        sleep_ms(10);
    }
    ck_assert_uint_eq(stat("slabs_moved"), n);
}

/* The keys of a class's COLD list, tail to head, into out. */
static size_t
lru_keys(unsigned id, unsigned *out, size_t max)
{
    struct lru *l = store_lru(st, id, LRU_COLD);
    size_t n = 0;

    pthread_mutex_lock(&l->lock);
    for (struct item *it = l->tail; it != NULL && n < max; it = it->prev) {
        if (!item_is_marker(it)) {
            char k[8];

            memcpy(k, it->data + 1, 7);
            k[7] = '\0';
            out[n++] = (unsigned)strtoul(k, NULL, 10);
        }
    }
    pthread_mutex_unlock(&l->lock);
    return n;
}

START_TEST(test_reassign_replies)
{
    unsigned id, largest, per, i;
    struct item *held;
    char k[16];

    st = mkstore((size_t)64 << 20, true);
    ck_assert_ptr_nonnull(st);
    largest = slabs_largest(st->slabs);
    id = clsof(100);
    per = (unsigned)slabs_perslab(st->slabs, id);

    ck_assert_int_eq(store_slabs_reassign(st, 1, 1), STORE_REASSIGN_SAME);
    ck_assert_int_eq(store_slabs_reassign(st, -1, -1), STORE_REASSIGN_SAME);
    ck_assert_int_eq(store_slabs_reassign(st, (int)largest + 1, 1),
                     STORE_REASSIGN_BADCLASS);
    ck_assert_int_eq(store_slabs_reassign(st, 1, (int)largest + 1),
                     STORE_REASSIGN_BADCLASS);
    ck_assert_int_eq(store_slabs_reassign(st, -2, 1),
                     STORE_REASSIGN_BADCLASS);
    /* -1 with no class to spare a page: no class picked */
    ck_assert_int_eq(store_slabs_reassign(st, -1, 2),
                     STORE_REASSIGN_BADCLASS);
    ck_assert_int_eq(store_slabs_reassign(st, (int)id, 2),
                     STORE_REASSIGN_NOSPARE);
    ck_assert_int_eq(store_slabs_reassign(st, 0, 2),
                     STORE_REASSIGN_NOSPARE);

    for (i = 0; i < per * 2 + 10; i++) {
        ck_assert_int_eq(put(i, 100), STORE_OK);
    }
    ck_assert_uint_eq(slabs_pages(st->slabs, id), 3);
    /* A reader holds the first item: the move cannot finish. */
    keyof(k, 0);
    held = store_get(st, k, strlen(k));
    ck_assert_ptr_nonnull(held);
    ck_assert_int_eq(store_slabs_reassign(st, (int)id, 0),
                     STORE_REASSIGN_OK);
    ck_assert_int_eq(store_slabs_reassign(st, (int)id, 2),
                     STORE_REASSIGN_RUNNING);
    sleep_ms(50);
    ck_assert_uint_eq(stat("slabs_moved"), 0);
    ck_assert_uint_eq(stat("slab_reassign_running"), 1);
    ck_assert(exact(held, 0, 100));
    store_release(st, held);
    wait_moved(1);
    ck_assert_uint_eq(stat("slab_global_page_pool"), 1);
    ck_assert_uint_eq(slabs_pages(st->slabs, id), 2);
    ck_assert_uint_gt(stat("slab_reassign_busy_items"), 0);

    /* As in memcached, the pool too must have two pages to spare one. */
    ck_assert_int_eq(store_slabs_reassign(st, 0, 2), STORE_REASSIGN_NOSPARE);
    /* -1 picks the class with a spare page. */
    ck_assert_int_eq(store_slabs_reassign(st, -1, 0), STORE_REASSIGN_OK);
    wait_moved(2);
    ck_assert_uint_eq(slabs_pages(st->slabs, id), 1);
    ck_assert_uint_eq(stat("slab_global_page_pool"), 2);
    /* A pool page goes to a class at once. */
    ck_assert_int_eq(store_slabs_reassign(st, 0, 3), STORE_REASSIGN_OK);
    ck_assert_uint_eq(stat("slab_global_page_pool"), 1);
    ck_assert_uint_eq(slabs_pages(st->slabs, 3), 1);
    for (i = 0; i < per * 2 + 10; i++) {
        check(i, 100, NULL);
    }
}
END_TEST

START_TEST(test_rescue_in_place)
{
    enum { MAXK = 40000 };
    static unsigned before[MAXK], after[MAXK];
    static uint64_t cas[MAXK];
    unsigned id, per, n, i, present = 0;
    size_t nb, na, j = 0;
    rel_time_t exp0;

    st = mkstore((size_t)64 << 20, false);
    ck_assert_ptr_nonnull(st);
    id = clsof(100);
    per = (unsigned)slabs_perslab(st->slabs, id);
    n = per * 3;
    ck_assert_uint_lt(n, MAXK);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(put(i, 100), STORE_OK);
        check(i, 100, &cas[i]);
    }
    {
        char k[16];
        struct item *it;

        keyof(k, 5);
        it = store_get(st, k, strlen(k));
        exp0 = item_get_exptime(it);
        store_release(st, it);
    }
    /* A quarter of page 3 free: room to rescue that many. */
    for (i = 2 * per; i < 2 * per + per / 4; i++) {
        del(i);
    }
    nb = lru_keys(id, before, MAXK);
    ck_assert(store_move_page(st, id, SLABS_POOL));
    ck_assert_uint_eq(stat("slabs_moved"), 1);
    ck_assert_uint_eq(stat("slab_reassign_rescues"), per / 4);
    ck_assert_uint_eq(stat("slab_reassign_evictions_nomem"), per - per / 4);
    ck_assert_uint_eq(slabs_pages(st->slabs, id), 2);
    ck_assert_uint_eq(slabs_pool_pages(st->slabs), 1);
    for (i = 0; i < per; i++) {
        uint64_t c = 0;

        if (check(i, 100, &c)) {
            present++;
            ck_assert_uint_eq(c, cas[i]);
        }
    }
    ck_assert_uint_eq(present, per / 4);
    for (i = per; i < 2 * per; i++) {
        uint64_t c = 0;

        ck_assert_int_eq(check(i, 100, &c), 1);
        ck_assert_uint_eq(c, cas[i]);
    }
    {
        char k[16];
        struct item *it;

        keyof(k, 5);
        it = store_get(st, k, strlen(k));
        if (it != NULL) {
            ck_assert_uint_eq(item_get_exptime(it), exp0);
            store_release(st, it);
        }
    }
    /* The LRU order of the survivors is the order they had. */
    na = lru_keys(id, after, MAXK);
    ck_assert_uint_eq(na, nb - (per - per / 4));
    for (size_t b = 0; b < nb && j < na; b++) {
        if (before[b] == after[j]) {
            j++;
        }
    }
    ck_assert_uint_eq(j, na);
}
END_TEST

START_TEST(test_chunked)
{
    const size_t big = 1000000, mid = 600000;
    unsigned L;

    st = mkstore((size_t)64 << 20, false);
    ck_assert_ptr_nonnull(st);
    L = slabs_largest(st->slabs);
    /* page 0: [header X, header A]; page 1: [chunk A, header Y];
     * page 2: [header Z, -] -- X, Y, Z keep their tails elsewhere. */
    ck_assert_int_eq(put(1, mid), STORE_OK);    /* X */
    ck_assert_int_eq(put(2, big), STORE_OK);    /* A */
    ck_assert_int_eq(put(3, mid), STORE_OK);    /* Y */
    ck_assert_int_eq(put(4, mid), STORE_OK);    /* Z */
    ck_assert_uint_eq(slabs_pages(st->slabs, L), 3);
    del(4);     /* one free largest chunk, in page 2 */
    ck_assert(store_move_page(st, L, SLABS_POOL));
    /* X's header rescued with its chain; A had no room left. */
    ck_assert_uint_eq(stat("slab_reassign_chunk_rescues"), 1);
    ck_assert_uint_eq(stat("slab_reassign_evictions_nomem"), 1);
    ck_assert_int_eq(check(1, mid, NULL), 1);
    ck_assert_int_eq(check(2, big, NULL), 0);
    ck_assert_int_eq(check(3, mid, NULL), 1);

    /* Now a page whose first chunk is a continuation chunk whose owner
     * sits in another page. */
    ck_assert_int_eq(put(5, big), STORE_OK);
    ck_assert_int_eq(put(6, big), STORE_OK);
    for (int round = 0; round < 2; round++) {
        ck_assert(store_move_page(st, L, SLABS_POOL));
    }
    ck_assert_uint_eq(stat("slabs_moved"), 3);
    /* Every survivor is whole (check fails on a torn value). */
    check(1, mid, NULL);
    check(3, mid, NULL);
    check(5, big, NULL);
    check(6, big, NULL);
}
END_TEST

struct mover_arg {
    unsigned id;
    bool done;
};

static void *
move_thread(void *p)
{
    struct mover_arg *a = p;

    ck_assert(store_move_page(st, a->id, SLABS_POOL));
    __atomic_store_n(&a->done, true, __ATOMIC_RELEASE);
    return NULL;
}

START_TEST(test_busy_item)
{
    struct mover_arg a;
    unsigned per, i;
    pthread_t t;
    struct item *held;
    char k[16];

    st = mkstore((size_t)64 << 20, false);
    ck_assert_ptr_nonnull(st);
    a.id = clsof(300);
    a.done = false;
    per = (unsigned)slabs_perslab(st->slabs, a.id);
    for (i = 0; i < per * 2; i++) {
        ck_assert_int_eq(put(i, 300), STORE_OK);
    }
    for (i = per; i < per + 100; i++) {
        del(i);     /* room to rescue 100 */
    }
    keyof(k, 3);
    held = store_get(st, k, strlen(k));
    ck_assert_ptr_nonnull(held);
    ck_assert_int_eq(pthread_create(&t, NULL, move_thread, &a), 0);
    /* Held long enough, it is deleted so that its chunk can come back
     * when we let go; until then the move waits and the value stays. */
    for (i = 0; i < 2000 && stat("slab_reassign_busy_deletes") == 0; i++) {
        sleep_ms(10);
        ck_assert(!__atomic_load_n(&a.done, __ATOMIC_ACQUIRE));
        ck_assert(exact(held, 3, 300));
    }
    sleep_ms(50);
    ck_assert(!__atomic_load_n(&a.done, __ATOMIC_ACQUIRE));
    ck_assert(exact(held, 3, 300));
    store_release(st, held);
    pthread_join(t, NULL);
    ck_assert(a.done);
    ck_assert_uint_gt(stat("slab_reassign_busy_items"), 0);
    ck_assert_uint_eq(stat("slab_reassign_busy_deletes"), 1);
    ck_assert_int_eq(check(3, 300, NULL), 0);
}
END_TEST

START_TEST(test_memlimit_shrink)
{
    unsigned i, n = 0, kept = 0;

    st = mkstore((size_t)16 << 20, true);
    ck_assert_ptr_nonnull(st);
    for (i = 0; slabs_malloced(st->slabs) < ((size_t)15 << 20); i++) {
        ck_assert_int_eq(put(i, 1000), STORE_OK);
        n++;
    }
    ck_assert_int_eq(store_set_mem_limit(st, (size_t)8 << 20),
                     STORE_NO_MEMORY);
    for (i = 0; i < 1000 && slabs_malloced(st->slabs) > ((size_t)8 << 20);
         i++) {
        sleep_ms(10);
    }
    ck_assert_uint_le(slabs_malloced(st->slabs), (size_t)8 << 20);
    ck_assert_uint_ge(stat("slabs_moved"), 7);
    for (i = 0; i < n; i++) {
        kept += (unsigned)check(i, 1000, NULL);
    }
    ck_assert_uint_gt(kept, 0);
    ck_assert_uint_lt(kept, n);
    /* New sets fit the smaller budget. */
    for (i = n; i < n + 5000; i++) {
        ck_assert_int_eq(put(i, 1000), STORE_OK);
    }
    ck_assert_uint_le(slabs_malloced(st->slabs), (size_t)8 << 20);
}
END_TEST

/* A class that fills its first page after the budget ran out gets a second
 * page once, from the class with the most pages; never with automove 0,
 * and not twice. */
static void
second_page(unsigned automove)
{
    unsigned big = clsof(2000), small = clsof(100);
    size_t per = slabs_perslab(st->slabs, small);
    unsigned i, n = 0;

    store_slabs_automove(st, automove);
    /* The small class's first page inside the budget (a first page past
     * it is paid back by the mover's shrinking, another move), then the
     * big class takes the rest and evicts. */
    ck_assert_int_eq(put(0, 100), STORE_OK);
    for (i = 1; slabs_pages(st->slabs, big) < 3; i++) {
        ck_assert_int_eq(put(i, 2000), STORE_OK);
    }
    n = i + 2 * (unsigned)slabs_perslab(st->slabs, big);
    for (; i < n; i++) {
        ck_assert_int_eq(put(i, 2000), STORE_OK);
    }
    ck_assert_uint_eq(slabs_pages(st->slabs, big), 3);
    ck_assert_uint_eq(slabs_malloced(st->slabs), (size_t)4 << 20);
    /* Now the small class fills its page and must evict. */
    for (n = i + (unsigned)per + 100; i < n; i++) {
        ck_assert_int_eq(put(i, 100), STORE_OK);
    }
    if (automove == 0) {
        sleep_ms(200);
        ck_assert_uint_eq(stat("slabs_moved"), 0);
        ck_assert_uint_eq(slabs_pages(st->slabs, small), 1);
        return;
    }
    wait_moved(1);
    ck_assert_uint_eq(slabs_pages(st->slabs, small), 2);
    ck_assert_uint_eq(slabs_pages(st->slabs, big), 2);
    /* Full again and evicting: no more pages that way. */
    for (n = i + 2 * (unsigned)per; i < n; i++) {
        ck_assert_int_eq(put(i, 100), STORE_OK);
    }
    sleep_ms(200);
    ck_assert_uint_eq(stat("slabs_moved"), 1);
    ck_assert_uint_eq(slabs_pages(st->slabs, small), 2);
}

START_TEST(test_second_page)
{
    st = mkstore((size_t)4 << 20, true);
    ck_assert_ptr_nonnull(st);
    second_page(1);
}
END_TEST

START_TEST(test_second_page_off)
{
    st = mkstore((size_t)4 << 20, true);
    ck_assert_ptr_nonnull(st);
    second_page(0);
}
END_TEST

/* ---- readers and writers while pages move ------------------------- */

struct hammer {
    unsigned seed;
    unsigned base;
    bool stop;
};

static size_t
hammer_len(unsigned i)
{
    return i % 2 ? 100 : 700;
}

static void *
hammer_thread(void *p)
{
    struct hammer *h = p;
    unsigned x = h->seed;

    while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
        unsigned i;

        x = x * 1103515245u + 12345u;
        i = h->base + (x >> 8) % 4000;
        switch ((x >> 4) % 8) {
        case 0:
            {
                char k[16];

                keyof(k, i);
                store_delete(st, k, strlen(k), 0);
            }
            break;
        case 1:
        case 2:
            put(i, hammer_len(i));
            break;
        default:
            check(i, hammer_len(i), NULL);
            break;
        }
    }
    return NULL;
}

START_TEST(test_concurrent_moves)
{
    struct hammer h[2] = {{7, 0, false}, {99, 4000, false}};
    pthread_t t[2];
    unsigned a, b, i, moves = 0;

    st = mkstore((size_t)8 << 20, false);
    ck_assert_ptr_nonnull(st);
    a = clsof(100);
    b = clsof(700);
    for (i = 0; i < 8000; i++) {
        put(i, hammer_len(i));
    }
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_thread, &h[i]),
                         0);
    }
    for (i = 0; i < 40; i++) {
        unsigned src = i % 2 ? a : b;

        moves += store_move_page(st, src, (int)(i % 2 ? b : a));
    }
    for (i = 0; i < 2; i++) {
        __atomic_store_n(&h[i].stop, true, __ATOMIC_RELAXED);
        pthread_join(t[i], NULL);
    }
    ck_assert_uint_gt(moves, 10);
    ck_assert_uint_eq(stat("slabs_moved"), moves);
    for (i = 0; i < 8000; i++) {
        check(i, hammer_len(i), NULL);
    }
}
END_TEST

struct names {
    char name[128][48];
    int n;
};

static void
name_keep(void *ctx, const char *name, const char *value)
{
    struct names *b = ctx;

    (void)value;
    if (b->n < 128) {
        snprintf(b->name[b->n++], 48, "%s", name);
    }
}

static int
name_at(const struct names *b, const char *name)
{
    for (int i = 0; i < b->n; i++) {
        if (strcmp(b->name[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

START_TEST(test_stats_order)
{
    /* memcached 1.6.18's names and order */
    static const char *const want[] = {
        "hash_is_expanding",
        "slab_reassign_rescues", "slab_reassign_chunk_rescues",
        "slab_reassign_evictions_nomem", "slab_reassign_inline_reclaim",
        "slab_reassign_busy_items", "slab_reassign_busy_deletes",
        "slab_reassign_running", "slabs_moved", "total_items",
        "slab_global_page_pool",
    };
    static struct names b;
    int prev = -1;

    st = mkstore((size_t)64 << 20, false);
    ck_assert_ptr_nonnull(st);
    b.n = 0;
    store_stats(st, name_keep, &b);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int at = name_at(&b, want[i]);

        ck_assert_msg(at > prev, "%s missing or out of order", want[i]);
        prev = at;
    }
    ck_assert_int_eq(name_at(&b, "slab_reassign_rescues"),
                     name_at(&b, "hash_is_expanding") + 1);
    ck_assert_int_eq(name_at(&b, "slab_global_page_pool"),
                     name_at(&b, "total_items") + 1);
    ck_assert_uint_eq(stat("slab_global_page_pool"), 0);
}
END_TEST

static Suite *
mover_suite(void)
{
    Suite *s = suite_create("mover");
    TCase *tc = tcase_create("mover");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reassign_replies);
    tcase_add_test(tc, test_rescue_in_place);
    tcase_add_test(tc, test_chunked);
    tcase_add_test(tc, test_busy_item);
    tcase_add_test(tc, test_memlimit_shrink);
    tcase_add_test(tc, test_second_page);
    tcase_add_test(tc, test_second_page_off);
    tcase_add_test(tc, test_concurrent_moves);
    tcase_add_test(tc, test_stats_order);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(mover_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
