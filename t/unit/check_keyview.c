/*
 * check_keyview.c -- the operator's key views: the hotkeys sketch
 * (ranking, read/write split, merging of several workers' sketches, the
 * disabled sketch, key escaping) and the bigkeys table (the largest live
 * items in order, a deleted or shrunk one dropped or resized at report
 * time, the floor that keeps small stores off the lock).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/bigkeys.h"
#include "daemon/hotkeys.h"
#include "slab/clock.h"
#include "slab/store.h"

#define ROWS_MAX 256

/* Report lines, "name value". */
struct rows {
    int n;
    char line[ROWS_MAX][600];
};

static void
rows_emit(void *ctx, const char *name, const char *value)
{
    struct rows *r = ctx;

    ck_assert_int_lt(r->n, ROWS_MAX);
    snprintf(r->line[r->n++], sizeof(r->line[0]), "%s %s", name, value);
}

static struct clock *clk;

static int
starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
setup(void)
{
    clk = clock_create();
    ck_assert_ptr_nonnull(clk);
}

static void
teardown(void)
{
    clock_destroy(clk);
}

/* The key of report line i ("hotkey:N key=K ..."), into buf. */
static const char *
row_key(const struct rows *r, int i, char *buf, size_t size)
{
    const char *k = strstr(r->line[i], "key=");
    size_t n;

    ck_assert_ptr_nonnull(k);
    k += 4;
    n = strcspn(k, " ");
    ck_assert_uint_lt(n, size);
    memcpy(buf, k, n);
    buf[n] = '\0';
    return buf;
}

START_TEST(test_hot_rank)
{
    struct hotkeys *h = hotkeys_create(clk, 1, true);
    struct rows r = {0};
    char key[32], buf[64];
    double reads, writes;

    ck_assert_ptr_nonnull(h);
    /* "a" read 20000 times, "b" written 10000 times, 3000 keys once */
    for (int i = 0; i < 20000; i++) {
        hotkeys_note(h, "a", 1, false);
        if (i % 2 == 0) {
            hotkeys_note(h, "b", 1, true);
        }
        if (i < 3000) {
            snprintf(key, sizeof(key), "cold%d", i);
            hotkeys_note(h, key, strlen(key), false);
        }
    }
    hotkeys_report(&h, 1, 2, rows_emit, &r);
    ck_assert_int_eq(r.n, 2);
    ck_assert_str_eq(row_key(&r, 0, buf, sizeof(buf)), "a");
    ck_assert_str_eq(row_key(&r, 1, buf, sizeof(buf)), "b");
    ck_assert(starts(r.line[0], "hotkey:1 "));
    ck_assert_int_eq(sscanf(strstr(r.line[0], "reads/s="),
                            "reads/s=%lf writes/s=%lf", &reads, &writes), 2);
    ck_assert(reads > 0 && writes == 0);
    ck_assert_int_eq(sscanf(strstr(r.line[1], "reads/s="),
                            "reads/s=%lf writes/s=%lf", &reads, &writes), 2);
    ck_assert(reads == 0 && writes > 0);
    hotkeys_destroy(h);
}
END_TEST

START_TEST(test_hot_merge)
{
    struct hotkeys *hs[2] = {hotkeys_create(clk, 1, true),
                             hotkeys_create(clk, 2, true)};
    struct rows r = {0};
    char buf[64];

    /* "x" is hottest only once both workers' counts are added */
    for (int i = 0; i < 6000; i++) {
        hotkeys_note(hs[0], "x", 1, false);
        hotkeys_note(hs[1], "x", 1, false);
        hotkeys_note(hs[0], "y", 1, false);
        hotkeys_note(hs[0], "y", 1, false);
        hotkeys_note(hs[0], "y", 1, false);
    }
    hotkeys_report(hs, 2, 10, rows_emit, &r);
    ck_assert_int_eq(r.n, 2);   /* x once, not once per worker */
    ck_assert_str_eq(row_key(&r, 0, buf, sizeof(buf)), "y");
    ck_assert_str_eq(row_key(&r, 1, buf, sizeof(buf)), "x");
    hotkeys_destroy(hs[0]);
    hotkeys_destroy(hs[1]);
}
END_TEST

START_TEST(test_hot_disabled)
{
    struct hotkeys *h = hotkeys_create(clk, 1, false);
    struct rows r = {0};

    for (int i = 0; i < 1000; i++) {
        hotkeys_note(h, "a", 1, false);
    }
    hotkeys_note(NULL, "a", 1, false);
    hotkeys_report(&h, 1, 20, rows_emit, &r);
    ck_assert_int_eq(r.n, 0);
    hotkeys_destroy(h);
}
END_TEST

START_TEST(test_escape)
{
    char buf[64];

    hotkeys_escape(buf, "a b%\x01~", 6);
    ck_assert_str_eq(buf, "a%20b%25%01~");
}
END_TEST

static struct store *
new_store(void)
{
    struct store_config cfg;

    store_config_default(&cfg);
    cfg.mem_limit = (size_t)64 << 20;
    cfg.lru_bg = false;
    cfg.lru_maintainer = false;
    cfg.slab_reassign = false;
    return store_create(&cfg, clk);
}

static void
put(struct store *st, struct bigkeys *b, const char *key, size_t n)
{
    char *v = malloc(n);
    uint64_t cas;

    ck_assert_ptr_nonnull(v);
    memset(v, 'v', n);
    ck_assert_int_eq(store_put(st, STORE_SET, key, strlen(key), 0, 0, v, n,
                               0, &cas),
                     STORE_OK);
    bigkeys_note(b, key, strlen(key), n);
    free(v);
}

START_TEST(test_big_order)
{
    struct store *st = new_store();
    struct bigkeys *b = bigkeys_create();
    struct rows r = {0};
    char key[32];
    int cls;

    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_nonnull(b);
    /* 200 keys of 1..200 KiB-ish sizes, in a scrambled order */
    for (int i = 0; i < 200; i++) {
        int k = (i * 73) % 200;

        snprintf(key, sizeof(key), "k%03d", k);
        put(st, b, key, (size_t)(k + 1) * 500);
    }
    bigkeys_report(b, st, clk, 3, rows_emit, &r);
    ck_assert_int_eq(r.n, 3);
    ck_assert(starts(r.line[0], "bigkey:1 key=k199 size=100000 class="));
    ck_assert(starts(r.line[1], "bigkey:2 key=k198 size=99500 "));
    ck_assert(starts(r.line[2], "bigkey:3 key=k197 size=99000 "));
    ck_assert_int_eq(sscanf(strstr(r.line[0], "class="), "class=%d", &cls),
                     1);
    ck_assert_uint_eq((unsigned)cls,
                      store_class_of(st, 4, 0, 100000));
    ck_assert(strstr(r.line[0], " ttl=-1") != NULL);

    /* delete the largest, shrink the second: the report follows */
    ck_assert_int_eq(store_delete(st, "k199", 4, 0), STORE_OK);
    put(st, b, "k198", 10);
    r.n = 0;
    bigkeys_report(b, st, clk, 2, rows_emit, &r);
    ck_assert_int_eq(r.n, 2);
    ck_assert(starts(r.line[0], "bigkey:1 key=k197 size=99000 "));
    ck_assert(starts(r.line[1], "bigkey:2 key=k196 size=98500 "));
    bigkeys_destroy(b);
    store_destroy(st);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("keyview");
    TCase *tc = tcase_create("keyview");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hot_rank);
    tcase_add_test(tc, test_hot_merge);
    tcase_add_test(tc, test_hot_disabled);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_big_order);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
