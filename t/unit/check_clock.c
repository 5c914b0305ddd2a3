/*
 * check_clock.c -- the coarse clock: start value, expiry conversion
 * (never, relative, the 30-day boundary, absolute, past, negative), the
 * debug offset and the unix mapping.
 */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "slab/clock.h"

static struct clock *c;

static void
setup(void)
{
    c = clock_create();
    ck_assert_ptr_nonnull(c);
}

static void
teardown(void)
{
    clock_destroy(c);
}

START_TEST(test_start)
{
    time_t now = time(NULL);

    ck_assert_uint_eq(clock_now(c), 2);
    clock_tick(c);
    ck_assert_uint_ge(clock_now(c), 2);
    ck_assert_uint_le(clock_now(c), 3);
    ck_assert_int_le(labs((long)(clock_unix(c, clock_now(c)) - now)), 1);
}
END_TEST

START_TEST(test_exptime)
{
    rel_time_t now = clock_now(c);
    time_t unow = clock_unix(c, now);

    ck_assert_uint_eq(clock_exptime(c, 0), 0);
    ck_assert_uint_eq(clock_exptime(c, -1), 1);
    ck_assert_uint_eq(clock_exptime(c, INT64_MIN), 1);
    ck_assert_uint_eq(clock_exptime(c, 1), now + 1);
    ck_assert_uint_eq(clock_exptime(c, CLOCK_REL_MAX), now + CLOCK_REL_MAX);
    /* One more is an absolute unix time (1970 + 30 days): long past. */
    ck_assert_uint_eq(clock_exptime(c, CLOCK_REL_MAX + 1), 1);
    ck_assert_uint_eq(clock_exptime(c, (int64_t)unow - 10), 1);
    ck_assert_uint_eq(clock_exptime(c, (int64_t)unow), 1);
    ck_assert_uint_eq(clock_exptime(c, (int64_t)unow + 100), now + 100);
    ck_assert_uint_eq(clock_exptime(c, INT64_MAX), UINT32_MAX);
}
END_TEST

START_TEST(test_advance)
{
    rel_time_t before = clock_now(c);
    time_t ubefore = clock_unix(c, before);

    clock_advance(c, 1000);
    /* + 1 if a real second ended since before was read */
    ck_assert_uint_ge(clock_now(c), before + 1000);
    ck_assert_uint_le(clock_now(c), before + 1001);
    ck_assert_int_ge(clock_unix(c, clock_now(c)), ubefore + 1000);
    /* Ticks keep the offset. */
    clock_tick(c);
    ck_assert_uint_ge(clock_now(c), before + 1000);
    ck_assert_uint_le(clock_now(c), before + 1001);
    /* Absolute times follow the advanced clock. */
    ck_assert_uint_eq(clock_exptime(c, (int64_t)ubefore + 500), 1);
    ck_assert_uint_eq(clock_exptime(c, (int64_t)ubefore + 2000),
                      before + 2000);
}
END_TEST

START_TEST(test_freeze)
{
    struct timespec pause = {1, 100 * 1000 * 1000};
    rel_time_t before;

    clock_freeze(c);
    before = clock_now(c);
    nanosleep(&pause, NULL);
    clock_tick(c);
    ck_assert_uint_eq(clock_now(c), before);
    clock_advance(c, 9);
    ck_assert_uint_eq(clock_now(c), before + 9);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("clock");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_start);
    tcase_add_test(tc, test_exptime);
    tcase_add_test(tc, test_advance);
    tcase_add_test(tc, test_freeze);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
