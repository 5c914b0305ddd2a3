/*
 * check_slabs.c -- class layout: memcached's (default -n/-f and another
 * pair) less 8 bytes but the last class; class lookup, allocation and
 * free, the page budget (first page of a class always granted) and limit
 * changes, the per-thread chunk caches.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "slab/slabs.h"

/* memcached 1.6.18 -vv, default -n 48 -f 1.25. */
static const size_t mc_default[] = {
    96, 120, 152, 192, 240, 304, 384, 480, 600, 752, 944, 1184, 1480,
    1856, 2320, 2904, 3632, 4544, 5680, 7104, 8880, 11104, 13880, 17352,
    21696, 27120, 33904, 42384, 52984, 66232, 82792, 103496, 129376,
    161720, 202152, 252696, 315872, 394840, 524288};

/* memcached 1.6.18 -vv -n 20 -f 2. */
static const size_t mc_n20_f2[] = {72, 144, 288, 576, 1152, 2304, 4608,
                                   9216, 18432, 36864, 73728, 147456,
                                   524288};

static void
check_layout(size_t chunk_min, double factor, const size_t *want, size_t n)
{
    struct slabs *sl = slabs_create(64 << 20, 1 << 20, chunk_min, factor);
    size_t i;

    ck_assert_ptr_nonnull(sl);
    ck_assert_uint_eq(slabs_largest(sl), n);
    /* memcached's chunk less the 11 bytes its item carries and ours does
     * not (CAS outside the header, key NUL, value CRLF), rounded up to 8;
     * the last class is page_size / 2 in both */
    for (i = 0; i + 1 < n; i++) {
        ck_assert_uint_eq(slabs_size(sl, (unsigned)i + 1), want[i] - 8);
    }
    ck_assert_uint_eq(slabs_size(sl, (unsigned)n), want[n - 1]);
    slabs_destroy(sl);
}

START_TEST(test_layout)
{
    check_layout(48, 1.25, mc_default,
                 sizeof(mc_default) / sizeof(mc_default[0]));
    check_layout(20, 2.0, mc_n20_f2,
                 sizeof(mc_n20_f2) / sizeof(mc_n20_f2[0]));
    ck_assert_ptr_null(slabs_create(64 << 20, 1 << 20, 48, 1.0));
    ck_assert_ptr_null(slabs_create(64 << 20, 1 << 20, 0, 1.25));
}
END_TEST

START_TEST(test_clsid)
{
    struct slabs *sl = slabs_create(64 << 20, 1 << 20, 48, 1.25);

    ck_assert_uint_eq(slabs_clsid(sl, 1), 1);
    ck_assert_uint_eq(slabs_clsid(sl, 88), 1);
    ck_assert_uint_eq(slabs_clsid(sl, 89), 2);
    ck_assert_uint_eq(slabs_clsid(sl, 180), 4);
    ck_assert_uint_eq(slabs_clsid(sl, 184), 4);
    ck_assert_uint_eq(slabs_clsid(sl, 185), 5);
    ck_assert_uint_eq(slabs_clsid(sl, 524288), 39);
    ck_assert_uint_eq(slabs_clsid(sl, 524289), 0);
    slabs_destroy(sl);
}
END_TEST

START_TEST(test_alloc_free)
{
    struct slabs *sl = slabs_create(64 << 20, 1 << 20, 48, 1.25);
    struct slabs_class_stats st;
    void *a, *b, *c;

    a = slabs_alloc(sl, 1);
    b = slabs_alloc(sl, 1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq((char *)b - (char *)a, 88);
    slabs_class_stats(sl, 1, &st);
    ck_assert_uint_eq(st.pages, 1);
    ck_assert_uint_eq(st.perslab, 11915);
    ck_assert_uint_eq(st.total_chunks, 11915);
    ck_assert_uint_eq(st.used_chunks, 2);
    /* the thread's cache took 16 chunks at once: 14 left there, free */
    ck_assert_uint_eq(st.free_chunks, 14);
    ck_assert_uint_eq(st.free_end, 11915 - 16);
    memset(a, 0xab, 88);
    slabs_free(sl, 1, a);
    slabs_class_stats(sl, 1, &st);
    ck_assert_uint_eq(st.used_chunks, 1);
    ck_assert_uint_eq(st.free_chunks, 15);
    c = slabs_alloc(sl, 1);
    ck_assert_ptr_eq(c, a);
    ck_assert_uint_eq(slabs_malloced(sl), 1 << 20);
    /* drained, the cached chunks are on the free list (same count) */
    slabs_drain_caches(sl);
    slabs_class_stats(sl, 1, &st);
    ck_assert_uint_eq(st.used_chunks, 2);
    ck_assert_uint_eq(st.free_chunks, 14);
    slabs_destroy(sl);
}
END_TEST

struct churn {
    struct slabs *sl;
    void *kept[40];
};

/* Allocate 40 chunks of class 1, free 30: the thread ends with chunks in
 * its cache, which its exit must give back. */
static void *
churn_main(void *arg)
{
    struct churn *c = arg;
    void *p[40];
    int i;

    for (i = 0; i < 40; i++) {
        p[i] = slabs_alloc(c->sl, 1);
        ck_assert_ptr_nonnull(p[i]);
        c->kept[i] = p[i];
    }
    for (i = 10; i < 40; i++) {
        slabs_free(c->sl, 1, p[i]);
    }
    return NULL;
}

/* Thread caches: a thread's exit gives its chunks back; a page move takes
 * the cached chunks of its page out of every cache; classes with few
 * chunks a page are not cached. */
START_TEST(test_thread_cache)
{
    struct slabs *sl = slabs_create(64 << 20, 1 << 20, 48, 1.25);
    struct slabs_class_stats st;
    struct churn c = {sl, {NULL}};
    pthread_t th;
    char *page;
    void *p, *q;
    size_t i, per;

    ck_assert_int_eq(pthread_create(&th, NULL, churn_main, &c), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    slabs_class_stats(sl, 1, &st);
    ck_assert_uint_eq(st.used_chunks, 10);
    /* all 30 freed (and 8 refilled but not used) are free again, on the
     * free list: this thread's first refill takes 16 of them */
    ck_assert_uint_eq(st.free_chunks, 38);
    p = slabs_alloc(sl, 1);
    slabs_class_stats(sl, 1, &st);
    ck_assert_uint_eq(st.used_chunks, 11);
    ck_assert_uint_eq(st.free_chunks, 37);
    slabs_free(sl, 1, p);

    /* fill a second page so that the first one can move, then hold the
     * first page's chunks in this thread's cache */
    per = slabs_perslab(sl, 1);
    for (i = 0; i < per - 10 + 1; i++) {
        ck_assert_ptr_nonnull(slabs_alloc(sl, 1));
    }
    ck_assert_uint_eq(slabs_pages(sl, 1), 2);
    slabs_free(sl, 1, c.kept[0]);
    page = slabs_move_begin(sl, 1);
    ck_assert_ptr_nonnull(page);
    ck_assert((char *)c.kept[0] >= page &&
              (char *)c.kept[0] < page + (1 << 20));
    /* taken out of the cache and cleared by the move's beginning */
    ck_assert_uint_eq(slabs_kind(c.kept[0]), SLAB_KIND_CLEARED);
    /* a chunk of the page freed while it moves never enters a cache */
    slabs_free(sl, 1, c.kept[1]);
    ck_assert_uint_eq(slabs_kind(c.kept[1]), SLAB_KIND_CLEARED);
    q = slabs_alloc(sl, 1);
    ck_assert_ptr_nonnull(q);
    ck_assert((char *)q < page || (char *)q >= page + (1 << 20));
    slabs_move_abandon(sl, 1);

    /* the largest class (2 chunks a page) goes straight to its list */
    p = slabs_alloc(sl, 39);
    slabs_class_stats(sl, 39, &st);
    ck_assert_uint_eq(st.free_end, 1);
    ck_assert_uint_eq(st.free_chunks, 0);
    slabs_destroy(sl);
}
END_TEST

START_TEST(test_budget)
{
    struct slabs *sl = slabs_create(2 << 20, 1 << 20, 48, 1.25);
    size_t i, n = 0;

    /* Class 39 has 2 chunks per page: the 2 MiB budget gives 4 chunks. */
    while (slabs_alloc(sl, 39) != NULL) {
        n++;
        ck_assert_uint_le(n, 100);
    }
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(slabs_malloced(sl), 2 << 20);
    /* Over budget, but the first page of each class is still granted. */
    for (i = 0; i < 11915; i++) {
        ck_assert_ptr_nonnull(slabs_alloc(sl, 1));
    }
    ck_assert_ptr_null(slabs_alloc(sl, 1));
    ck_assert_ptr_nonnull(slabs_alloc(sl, 4));
    ck_assert_uint_eq(slabs_malloced(sl), 4 << 20);
    /* Raising the limit makes room, lowering it below use is refused. */
    ck_assert(slabs_set_limit(sl, 5 << 20));
    ck_assert_ptr_nonnull(slabs_alloc(sl, 1));
    ck_assert_ptr_null(slabs_alloc(sl, 39));
    ck_assert(!slabs_set_limit(sl, 1 << 20));
    ck_assert_uint_eq(slabs_limit(sl), 1 << 20);
    ck_assert_uint_eq(slabs_malloc_fails(sl), 0);
    slabs_destroy(sl);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("slabs");
    TCase *tc = tcase_create("slabs");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_clsid);
    tcase_add_test(tc, test_alloc_free);
    tcase_add_test(tc, test_budget);
    tcase_add_test(tc, test_thread_cache);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
