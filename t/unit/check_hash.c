/*
 * check_hash.c -- the hash function's spread, and the sharded table:
 * insert/find/replace/remove, growth under many inserts with every key
 * still found, and stats of its size.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slab/hash.h"
#include "slab/item_layout.h"

static struct item *
mkitem(const char *key)
{
    size_t n = strlen(key);
    struct item *it = malloc(sizeof(*it) + n);

    item_init(it, 1, key, n, 0, 0, false, false);
    return it;
}

START_TEST(test_hash_spread)
{
    /* Sequential keys over 1024 buckets: every bucket near the mean. */
    enum { NB = 1024, NK = 1024 * 64 };
    static unsigned count[NB];
    char key[32];
    unsigned i, lo = NK, hi = 0;

    memset(count, 0, sizeof(count));
    for (i = 0; i < NK; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        count[(hash_key(key, strlen(key)) >> 20) % NB]++;
    }
    for (i = 0; i < NB; i++) {
        lo = count[i] < lo ? count[i] : lo;
        hi = count[i] > hi ? count[i] : hi;
    }
    ck_assert_uint_gt(lo, 64 / 2);
    ck_assert_uint_lt(hi, 64 * 2);
    /* Length and every byte matter. */
    ck_assert_uint_ne(hash_key("a", 1), hash_key("a\0", 2));
    ck_assert_uint_ne(hash_key("abcdefghijklmnopq", 17),
                      hash_key("abcdefghijklmnopr", 17));
    ck_assert_uint_ne(hash_key("", 0), hash_key("\0", 1));
    ck_assert_uint_eq(hash_key("same", 4), hash_key("same", 4));
}
END_TEST

/* The seed decides where a key lands: the same keys fall into other
 * shards (item locks) under another seed, so keys chosen to collide under
 * one seed do not collide under the daemon's random one. */
START_TEST(test_seed)
{
    enum { NK = 256 };
    char key[32];
    unsigned i, same = 0;
    uint64_t a[NK];

    hash_set_seed(1);
    for (i = 0; i < NK; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        a[i] = hash_key(key, strlen(key));
    }
    ck_assert_uint_eq(hash_key("key:0", 5), a[0]);   /* deterministic */
    hash_set_seed(2);
    for (i = 0; i < NK; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        if ((hash_key(key, strlen(key)) & (HASH_SHARDS - 1)) ==
            (a[i] & (HASH_SHARDS - 1))) {
            same++;
        }
    }
    /* by chance about NK / HASH_SHARDS = 0.06 keys keep their shard */
    ck_assert_uint_lt(same, 4);
    /* the daemon's random seed is another one again */
    ck_assert(hash_seed_random());
    ck_assert_uint_ne(hash_key("key:0", 5), a[0]);
    hash_set_seed(0);
}
END_TEST

START_TEST(test_basic)
{
    struct hash *h = hash_create(16);
    struct item *a = mkitem("alpha"), *b = mkitem("alpha"), *c = mkitem("c");
    uint64_t ha = hash_key("alpha", 5), hc = hash_key("c", 1);

    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(hash_power_level(h), 16);
    ck_assert_uint_eq(hash_bytes(h), 524288);
    hash_lock(h, ha);
    ck_assert_ptr_null(hash_find_locked(h, ha, "alpha", 5));
    hash_insert_locked(h, ha, a);
    ck_assert_ptr_eq(hash_find_locked(h, ha, "alpha", 5), a);
    ck_assert_ptr_null(hash_find_locked(h, ha, "alph", 4));
    hash_replace_locked(h, ha, a, b);
    ck_assert_ptr_eq(hash_find_locked(h, ha, "alpha", 5), b);
    ck_assert(!hash_remove_locked(h, ha, a));
    ck_assert(hash_remove_locked(h, ha, b));
    ck_assert_ptr_null(hash_find_locked(h, ha, "alpha", 5));
    hash_unlock(h, ha);
    /* The item lock is a real mutex: held means trylock fails. */
    hash_lock(h, hc);
    hash_insert_locked(h, hc, c);
    ck_assert(!hash_trylock(h, hc));
    hash_unlock(h, hc);
    ck_assert(hash_trylock(h, hc));
    ck_assert(hash_remove_locked(h, hc, c));
    hash_unlock(h, hc);
    hash_destroy(h);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(test_growth)
{
    enum { N = 300000 };
    struct hash *h = hash_create(12);
    struct item **its = malloc(N * sizeof(*its));
    char key[32];
    unsigned i;

    ck_assert_uint_eq(hash_power_level(h), 12);
    for (i = 0; i < N; i++) {
        uint64_t hv;

        snprintf(key, sizeof(key), "grow:%u", i);
        its[i] = mkitem(key);
        hv = hash_key(key, strlen(key));
        hash_lock(h, hv);
        hash_insert_locked(h, hv, its[i]);
        hash_unlock(h, hv);
        /* Lookups stay right while shards double. */
        if (i % 997 == 0) {
            unsigned j = i / 2;

            snprintf(key, sizeof(key), "grow:%u", j);
            hv = hash_key(key, strlen(key));
            hash_lock(h, hv);
            ck_assert_ptr_eq(hash_find_locked(h, hv, key, strlen(key)),
                             its[j]);
            hash_unlock(h, hv);
        }
    }
    /* Under 1.5 items per bucket: at least N / 1.5 buckets. */
    ck_assert_uint_ge(hash_power_level(h), 17);
    ck_assert_uint_ge(hash_bytes(h), (N / 3) * 2 * sizeof(void *));
    ck_assert_uint_gt(hash_expansions(h), 0);
    ck_assert_uint_eq(hash_is_expanding(h), 0);
    for (i = 0; i < N; i++) {
        uint64_t hv;

        snprintf(key, sizeof(key), "grow:%u", i);
        hv = hash_key(key, strlen(key));
        hash_lock(h, hv);
        ck_assert_ptr_eq(hash_find_locked(h, hv, key, strlen(key)), its[i]);
        if (i % 2 == 0) {
            ck_assert(hash_remove_locked(h, hv, its[i]));
        }
        hash_unlock(h, hv);
    }
    for (i = 0; i < N; i++) {
        uint64_t hv;

        snprintf(key, sizeof(key), "grow:%u", i);
        hv = hash_key(key, strlen(key));
        hash_lock(h, hv);
        if (i % 2 == 0) {
            ck_assert_ptr_null(hash_find_locked(h, hv, key, strlen(key)));
        } else {
            ck_assert_ptr_eq(hash_find_locked(h, hv, key, strlen(key)),
                             its[i]);
        }
        hash_unlock(h, hv);
    }
    hash_destroy(h);
    for (i = 0; i < N; i++) {
        free(its[i]);
    }
    free(its);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("hash");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hash_spread);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_seed);
    tcase_add_test(tc, test_growth);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
