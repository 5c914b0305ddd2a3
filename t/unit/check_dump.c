/*
 * check_dump.c -- the batched item listing (slab/dump.h) and the
 * lru_crawler controls (slab/crawler.h): every live item listed exactly
 * once in each order, dead items never, cursors of other dumps and of the
 * expiry crawl skipped, a hash walk that stays exact while shards double,
 * a dump stopped midway leaving no cursor behind, and dumps racing
 * set/get/delete threads.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slab/clock.h"
#include "slab/crawler.h"
#include "slab/dump.h"
#include "slab/store.h"
#include "slab/store_int.h"

static struct clock *clk;
static struct store *st;

static struct store *
mkstore(unsigned hash_power, bool bg)
{
    struct store_config cfg;

    store_config_default(&cfg);
    cfg.mem_limit = (size_t)64 << 20;
    cfg.lru_bg = bg;
    /* LRU order is asserted: no maintainer moving items meanwhile */
    cfg.lru_maintainer = false;
    cfg.slab_reassign = false;
    if (hash_power != 0) {
        cfg.hash_power = hash_power;
    }
    return store_create(&cfg, clk);
}

static void
setup(void)
{
    clk = clock_create();
    ck_assert_ptr_nonnull(clk);
    clock_freeze(clk);
    st = mkstore(0, false);
    ck_assert_ptr_nonnull(st);
}

static void
teardown(void)
{
    store_destroy(st);
    clock_destroy(clk);
}

/* Store key number i with a value whose size depends on i (several
 * classes), expiring after exp seconds (0 never). */
static void
put_num(int i, int64_t exp)
{
    char key[32];
    char val[600];
    size_t vlen = 10 + (size_t)(i % 5) * 120;

    snprintf(key, sizeof(key), "k%06d", i);
    memset(val, 'a' + i % 26, vlen);
    ck_assert_int_eq(store_put(st, STORE_SET, key, strlen(key), 0, exp, val,
                               vlen, 0, NULL),
                     STORE_OK);
}

/* The number of a record's key, or -1 if it is not one of put_num's. */
static int
rec_num(const struct dump_rec *r)
{
    char buf[32];
    int n;

    if (r->nkey != 7 || r->key[0] != 'k') {
        return -1;
    }
    memcpy(buf, r->key, 7);
    buf[7] = '\0';
    n = atoi(buf + 1);
    return n;
}

/* Run d to its end counting how often each key number 0..n-1 appears;
 * returns the records seen. */
static unsigned
drain(struct dump *d, unsigned *seen, int n)
{
    const struct dump_rec *r;
    unsigned k, total = 0;

    while ((k = dump_next(d, &r)) > 0) {
        for (unsigned i = 0; i < k; i++) {
            int num = rec_num(&r[i]);

            ck_assert_uint_ne(r[i].clsid, 0);
            if (num >= 0 && num < n) {
                seen[num]++;
            }
        }
        total += k;
    }
    return total;
}

static void
assert_once(const unsigned *seen, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_msg(seen[i] == 1, "key %d listed %u times", i, seen[i]);
    }
}

/* No class-0 entry left in any list. */
static void
assert_no_markers(void)
{
    for (unsigned id = 1; id < SLAB_CLASS_MAX; id++) {
        for (unsigned seg = 0; seg < LRU_SEGS; seg++) {
            struct lru *l = store_lru(st, id, seg);

            pthread_mutex_lock(&l->lock);
            for (struct item *it = l->head; it != NULL; it = it->next) {
                ck_assert(!item_is_marker(it));
            }
            pthread_mutex_unlock(&l->lock);
        }
    }
}

#define NKEYS 5000

START_TEST(test_lru_each_once)
{
    static unsigned seen[NKEYS];
    enum dump_order order = _i == 0 ? DUMP_OLDEST_FIRST : DUMP_NEWEST_FIRST;
    struct dump *d;

    for (int i = 0; i < NKEYS; i++) {
        put_num(i, 0);
    }
    memset(seen, 0, sizeof(seen));
    d = dump_create(st, ~(uint64_t)0, order, false);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(drain(d, seen, NKEYS), NKEYS);
    dump_destroy(d);
    assert_once(seen, NKEYS);
    assert_no_markers();
}
END_TEST

START_TEST(test_lru_order_and_classes)
{
    const struct dump_rec *r;
    struct dump *d;
    unsigned n;
    unsigned id;

    put_num(0, 0);
    put_num(5, 0);
    put_num(10, 0);
    d = dump_create(st, 0, DUMP_HASH, false);
    ck_assert_uint_eq(dump_next(d, &r), 3);
    id = r[0].clsid;
    dump_destroy(d);
    /* one class only; oldest first is the order they were stored in */
    d = dump_create(st, (uint64_t)1 << id, DUMP_OLDEST_FIRST, false);
    n = dump_next(d, &r);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(rec_num(&r[0]), 0);
    ck_assert_int_eq(rec_num(&r[1]), 5);
    ck_assert_int_eq(rec_num(&r[2]), 10);
    ck_assert_uint_eq(dump_next(d, &r), 0);
    dump_destroy(d);
    d = dump_create(st, (uint64_t)1 << id, DUMP_NEWEST_FIRST, false);
    ck_assert_uint_eq(dump_next(d, &r), 3);
    ck_assert_int_eq(rec_num(&r[0]), 10);
    dump_destroy(d);
    /* a class with nothing in it lists nothing */
    d = dump_create(st, (uint64_t)1 << (id + 1), DUMP_OLDEST_FIRST, false);
    ck_assert_uint_eq(dump_next(d, &r), 0);
    dump_destroy(d);
}
END_TEST

START_TEST(test_record_fields)
{
    const struct dump_rec *r;
    struct item *it;
    struct dump *d;
    uint64_t cas;
    time_t now = clock_unix(clk, clock_now(clk));

    ck_assert_int_eq(store_put(st, STORE_SET, "fld", 3, 7, 100, "hello", 5,
                               0, &cas),
                     STORE_OK);
    it = store_get(st, "fld", 3);
    store_release(st, it);
    d = dump_create(st, 0, DUMP_HASH, false);
    ck_assert_uint_eq(dump_next(d, &r), 1);
    ck_assert_uint_eq(r[0].nkey, 3);
    ck_assert(memcmp(r[0].key, "fld", 3) == 0);
    ck_assert_uint_eq(r[0].cas, cas);
    ck_assert_uint_eq(r[0].nbytes, 5);
    ck_assert(r[0].fetched);
    ck_assert_int_ge(r[0].exptime, now + 99);
    ck_assert_int_le(r[0].exptime, now + 101);
    ck_assert_int_ge(r[0].atime, now - 1);
    ck_assert_int_le(r[0].atime, now + 1);
    ck_assert_uint_gt(r[0].size, 5 + 3);
    ck_assert_uint_ne(r[0].clsid, 0);
    dump_destroy(d);
}
END_TEST

START_TEST(test_dead_not_listed)
{
    static unsigned seen[100];
    struct dump *d;

    for (int i = 0; i < 100; i++) {
        put_num(i, i < 50 ? 5 : 0);
    }
    clock_advance(clk, 6);
    memset(seen, 0, sizeof(seen));
    d = dump_create(st, ~(uint64_t)0, DUMP_OLDEST_FIRST, false);
    ck_assert_uint_eq(drain(d, seen, 100), 50);
    dump_destroy(d);
    for (int i = 0; i < 100; i++) {
        ck_assert_uint_eq(seen[i], i < 50 ? 0 : 1);
    }
    /* cachedump's way: still linked, so listed */
    d = dump_create(st, ~(uint64_t)0, DUMP_NEWEST_FIRST, true);
    ck_assert_uint_eq(drain(d, seen, 100), 100);
    dump_destroy(d);
    store_flush(st, 0);
    d = dump_create(st, 0, DUMP_HASH, false);
    ck_assert_uint_eq(drain(d, seen, 100), 0);
    dump_destroy(d);
}
END_TEST

/* Two dumps and the expiry crawl with cursors in the same lists at once. */
START_TEST(test_markers_skipped)
{
    static unsigned seen_a[NKEYS], seen_b[NKEYS];
    struct dump *a, *b;
    const struct dump_rec *r;
    unsigned k;
    bool a_done = false, b_done = false;

    for (int i = 0; i < NKEYS; i++) {
        put_num(i, 0);
    }
    /* items that the crawl will reclaim under the dumps' cursors */
    for (int i = NKEYS; i < NKEYS + 500; i++) {
        put_num(i, 3);
    }
    memset(seen_a, 0, sizeof(seen_a));
    memset(seen_b, 0, sizeof(seen_b));
    a = dump_create(st, ~(uint64_t)0, DUMP_OLDEST_FIRST, false);
    b = dump_create(st, ~(uint64_t)0, DUMP_OLDEST_FIRST, false);
    /* a goes ahead, b follows: b's walk passes over a's marker */
    k = dump_next(a, &r);
    ck_assert_uint_gt(k, 0);
    for (unsigned i = 0; i < k; i++) {
        ck_assert_int_lt(rec_num(&r[i]), NKEYS);
        seen_a[rec_num(&r[i])]++;
    }
    clock_advance(clk, 4);
    while (!a_done || !b_done) {
        if (!b_done) {
            k = dump_next(b, &r);
            b_done = k == 0;
            for (unsigned i = 0; i < k; i++) {
                ck_assert_int_ge(rec_num(&r[i]), 0);
                ck_assert_int_lt(rec_num(&r[i]), NKEYS);
                seen_b[rec_num(&r[i])]++;
            }
        }
        /* the crawl walks every list past both markers */
        store_crawl(st, true);
        if (!a_done) {
            k = dump_next(a, &r);
            a_done = k == 0;
            for (unsigned i = 0; i < k; i++) {
                ck_assert_int_lt(rec_num(&r[i]), NKEYS);
                seen_a[rec_num(&r[i])]++;
            }
        }
    }
    dump_destroy(a);
    dump_destroy(b);
    assert_once(seen_a, NKEYS);
    assert_once(seen_b, NKEYS);
    assert_no_markers();
}
END_TEST

START_TEST(test_destroy_midway)
{
    const struct dump_rec *r;
    struct dump *d;

    for (int i = 0; i < NKEYS; i++) {
        put_num(i, 0);
    }
    d = dump_create(st, ~(uint64_t)0, DUMP_OLDEST_FIRST, false);
    ck_assert_uint_gt(dump_next(d, &r), 0);
    ck_assert_uint_gt(dump_next(d, &r), 0);
    dump_destroy(d);
    assert_no_markers();
    /* the lists are intact: every key still there, eviction still works */
    for (int i = 0; i < NKEYS; i += 97) {
        char key[32];
        struct item *it;

        snprintf(key, sizeof(key), "k%06d", i);
        it = store_get(st, key, strlen(key));
        ck_assert_ptr_nonnull(it);
        store_release(st, it);
    }
}
END_TEST

/* The hash walk while shards double under it: the original keys come
 * exactly once, the new ones at most once. */
START_TEST(test_hash_growth)
{
    static unsigned seen[4 * NKEYS];
    const struct dump_rec *r;
    struct dump *d;
    unsigned k;
    int next = NKEYS;

    store_destroy(st);
    st = mkstore(12, false);    /* one bucket per shard: doubles early */
    ck_assert_ptr_nonnull(st);
    for (int i = 0; i < NKEYS; i++) {
        put_num(i, 0);
    }
    memset(seen, 0, sizeof(seen));
    d = dump_create(st, 0, DUMP_HASH, false);
    uint64_t grown = hash_expansions(st->hash);
    while ((k = dump_next(d, &r)) > 0) {
        for (unsigned i = 0; i < k; i++) {
            int num = rec_num(&r[i]);

            ck_assert_int_ge(num, 0);
            ck_assert_int_lt(num, 4 * NKEYS);
            seen[num]++;
        }
        for (int j = 0; j < 40 && next < 4 * NKEYS; j++) {
            put_num(next++, 0);
        }
    }
    dump_destroy(d);
    ck_assert_uint_gt(hash_expansions(st->hash), grown);
    assert_once(seen, NKEYS);
    for (int i = NKEYS; i < next; i++) {
        ck_assert_uint_le(seen[i], 1);
    }
}
END_TEST

/* ---- dumps racing writers ------------------------------------------- */

#define RACE_KEYS 3000
#define RACE_OPS 60000

static void *
race_writer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;

    for (int i = 0; i < RACE_OPS; i++) {
        int n = (int)(rand_r(&seed) % RACE_KEYS);
        char key[32];
        struct item *it;

        snprintf(key, sizeof(key), "k%06d", n);
        switch (rand_r(&seed) % 4) {
        case 0:
            store_delete(st, key, strlen(key), 0);
            break;
        case 1:
            it = store_get(st, key, strlen(key));
            if (it != NULL) {
                store_release(st, it);
            }
            break;
        default:
            put_num(n, rand_r(&seed) % 8 == 0 ? 1 : 0);
            break;
        }
    }
    return NULL;
}

START_TEST(test_concurrent_modifications)
{
    static unsigned seen[RACE_KEYS];
    pthread_t th[3];
    int rounds = 0;
    bool running = true;

    store_destroy(st);
    st = mkstore(12, true);     /* the background crawl runs too */
    ck_assert_ptr_nonnull(st);
    crawler_set_sleep(st, 0);
    for (int i = 0; i < RACE_KEYS; i++) {
        put_num(i, 0);
    }
    for (int t = 0; t < 3; t++) {
        pthread_create(&th[t], NULL, race_writer, (void *)(uintptr_t)(t + 1));
    }
    while (running) {
        static const enum dump_order orders[] = {
            DUMP_OLDEST_FIRST, DUMP_NEWEST_FIRST, DUMP_HASH};
        struct dump *d = dump_create(st, ~(uint64_t)0, orders[rounds % 3], false);

        ck_assert_ptr_nonnull(d);
        memset(seen, 0, sizeof(seen));
        drain(d, seen, RACE_KEYS);
        dump_destroy(d);
        if (orders[rounds % 3] == DUMP_HASH) {
            /* the hash walk never repeats a key */
            for (int i = 0; i < RACE_KEYS; i++) {
                ck_assert_uint_le(seen[i], 1);
            }
        }
        rounds++;
        if (rounds % 4 == 0) {
            crawler_request(st, ~(uint64_t)0);
        }
        running = rounds < 30;
    }
    for (int t = 0; t < 3; t++) {
        pthread_join(th[t], NULL);
    }
    assert_no_markers();
}
END_TEST

/* ---- lru_crawler controls ------------------------------------------- */

START_TEST(test_crawler_controls)
{
    struct timespec t0, t1;

    ck_assert(!crawler_enabled(st));
    ck_assert_int_eq(crawler_request(st, 2), CRAWLER_DISABLED);
    ck_assert_int_eq(crawler_enable(st), CRAWLER_OK);
    ck_assert(crawler_enabled(st));
    ck_assert_int_eq(crawler_enable(st), CRAWLER_BUSY);
    crawler_set_sleep(st, 1000000);
    ck_assert_uint_eq(crawler_get_sleep(st), 1000000);
    crawler_set_tocrawl(st, 7);
    ck_assert_uint_eq(crawler_get_tocrawl(st), 7);
    crawler_set_tocrawl(st, 0);
    /* a slow crawl (a one second rest every 1000 items) keeps a second
     * request BUSY until it is over */
    for (int i = 0; i < 2500; i++) {
        put_num(i * 5, 0);
    }
    ck_assert_int_eq(crawler_request(st, ~(uint64_t)0), CRAWLER_OK);
    ck_assert_int_eq(crawler_request(st, ~(uint64_t)0), CRAWLER_BUSY);
    /* disable does not wait out the crawl's one-second rest */
    usleep(100000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    crawler_disable(st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 +
                         (t1.tv_nsec - t0.tv_nsec) / 1000000,
                     500);
    crawler_set_sleep(st, 0);
    ck_assert(!crawler_enabled(st));
    ck_assert_int_eq(crawler_request(st, 2), CRAWLER_DISABLED);
    ck_assert_int_eq(crawler_enable(st), CRAWLER_OK);
    ck_assert_int_eq(crawler_request(st, 2), CRAWLER_OK);
}
END_TEST

/* A crawler job that counts its steps, waits at step 3 until woken, and
 * ends at step 6 (crawler_job_end, then DONE). */
struct step_job {
    unsigned steps;     /* atomic */
    unsigned stops;     /* atomic */
};

static enum crawler_job_rc
step_job_fn(void *arg, bool stop)
{
    struct step_job *j = arg;
    unsigned n;

    if (stop) {
        __atomic_add_fetch(&j->stops, 1, __ATOMIC_RELAXED);
        return CRAWLER_JOB_DONE;
    }
    n = __atomic_add_fetch(&j->steps, 1, __ATOMIC_RELAXED);
    if (n == 3) {
        return CRAWLER_JOB_WAIT;
    }
    if (n == 6) {
        crawler_job_end(st);
        return CRAWLER_JOB_DONE;
    }
    return CRAWLER_JOB_MORE;
}

/* Wait up to a second for *v to reach want. */
static bool
wait_for(const unsigned *v, unsigned want)
{
    for (int i = 0; i < 1000; i++) {
        if (__atomic_load_n(v, __ATOMIC_RELAXED) == want) {
            return true;
        }
        usleep(1000);
    }
    return false;
}

/* The job slot a dump's producer runs in: one job at a time (and not
 * beside a requested crawl), WAIT sleeps until woken, crawler_job_end
 * frees the slot, a stop calls the job once more with stop set. */
START_TEST(test_crawler_job)
{
    struct step_job a = {0}, b = {0};

    ck_assert_int_eq(crawler_job_start(st, step_job_fn, &a),
                     CRAWLER_DISABLED);
    ck_assert_int_eq(crawler_enable(st), CRAWLER_OK);
    ck_assert_int_eq(crawler_job_start(st, step_job_fn, &a), CRAWLER_OK);
    ck_assert(wait_for(&a.steps, 3));
    /* waiting: no more steps until woken, and the slot stays taken */
    usleep(50000);
    ck_assert_uint_eq(__atomic_load_n(&a.steps, __ATOMIC_RELAXED), 3);
    ck_assert_int_eq(crawler_job_start(st, step_job_fn, &b), CRAWLER_BUSY);
    ck_assert_int_eq(crawler_request(st, ~(uint64_t)0), CRAWLER_BUSY);
    crawler_job_wake(st);
    ck_assert(wait_for(&a.steps, 6));
    /* ended: the next job starts (retry: the end and the start race) */
    for (int i = 0; i < 1000; i++) {
        if (crawler_job_start(st, step_job_fn, &b) == CRAWLER_OK) {
            break;
        }
        ck_assert_int_lt(i, 999);
        usleep(1000);
    }
    ck_assert(wait_for(&b.steps, 3));
    /* disable mid-job: one last call with stop */
    crawler_disable(st);
    ck_assert_uint_eq(b.stops, 1);
    ck_assert_uint_eq(a.stops, 0);
}
END_TEST

/* tocrawl bounds the items checked per list per crawl. */
START_TEST(test_crawler_tocrawl)
{
    for (int i = 0; i < 1000; i++) {
        put_num(i * 5, 1);
    }
    clock_advance(clk, 2);
    crawler_set_tocrawl(st, 100);
    ck_assert_uint_eq(store_crawl(st, true), 100);
    crawler_set_tocrawl(st, 0);
    ck_assert_uint_eq(store_crawl(st, true), 900);
}
END_TEST

static Suite *
dump_suite(void)
{
    Suite *s = suite_create("dump");
    TCase *tc = tcase_create("dump");
    TCase *tr = tcase_create("race");
    TCase *tk = tcase_create("crawler");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_lru_each_once, 0, 2);
    tcase_add_test(tc, test_lru_order_and_classes);
    tcase_add_test(tc, test_record_fields);
    tcase_add_test(tc, test_dead_not_listed);
    tcase_add_test(tc, test_markers_skipped);
    tcase_add_test(tc, test_destroy_midway);
    tcase_add_test(tc, test_hash_growth);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_set_timeout(tr, 120);
    tcase_add_test(tr, test_concurrent_modifications);
    suite_add_tcase(s, tr);
    tcase_add_checked_fixture(tk, setup, teardown);
    tcase_set_timeout(tk, 30);
    tcase_add_test(tk, test_crawler_controls);
    tcase_add_test(tk, test_crawler_tocrawl);
    tcase_add_test(tk, test_crawler_job);
    suite_add_tcase(s, tk);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(dump_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
