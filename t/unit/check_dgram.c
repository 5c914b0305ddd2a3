/*
 * check_dgram.c -- memcached's UDP frame header (proto/dgram.h): what is
 * answered, what is dropped, and how a reply is numbered and cut.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dgram.h"

START_TEST(test_round_trip)
{
    unsigned char b[DGRAM_HEADER_LEN + 5];
    struct dgram_header h;

    dgram_header_write(b, 0xBEEF, 3, 7);
    ck_assert_mem_eq(b, "\xbe\xef\x00\x03\x00\x07\x00\x00", 8);
    /* a request: total 1, seq and reserved whatever the client sent */
    dgram_header_write(b, 0x0102, 0x0304, 1);
    b[6] = 0x77;
    b[7] = 0x88;
    memcpy(b + DGRAM_HEADER_LEN, "get k", 5);
    ck_assert_int_eq(dgram_parse(b, sizeof(b), &h), DGRAM_OK);
    ck_assert_uint_eq(h.id, 0x0102);
    ck_assert_uint_eq(h.seq, 0x0304);
    ck_assert_uint_eq(h.total, 1);
    ck_assert_uint_eq(h.reserved, 0x7788);
}
END_TEST

START_TEST(test_drops)
{
    unsigned char b[DGRAM_HEADER_LEN + 1] = {0, 1, 0, 0, 0, 1, 0, 0, '\n'};
    struct dgram_header h;

    /* one byte of payload is enough; the header alone is not */
    ck_assert_int_eq(dgram_parse(b, 9, &h), DGRAM_OK);
    ck_assert_int_eq(dgram_parse(b, 8, &h), DGRAM_DROP);
    ck_assert_int_eq(dgram_parse(b, 7, &h), DGRAM_DROP);
    ck_assert_int_eq(dgram_parse(b, 0, &h), DGRAM_DROP);
    /* memcached never reassembles a request: total must be exactly 1 */
    b[5] = 0;
    ck_assert_int_eq(dgram_parse(b, 9, &h), DGRAM_DROP);
    b[5] = 2;
    ck_assert_int_eq(dgram_parse(b, 9, &h), DGRAM_DROP);
    b[4] = 1;
    b[5] = 1;   /* 257 */
    ck_assert_int_eq(dgram_parse(b, 9, &h), DGRAM_DROP);
}
END_TEST

START_TEST(test_count)
{
    ck_assert_int_eq(DGRAM_PAYLOAD_MAX, 1392);
    ck_assert_uint_eq(dgram_count(0), 0);
    ck_assert_uint_eq(dgram_count(1), 1);
    ck_assert_uint_eq(dgram_count(1392), 1);
    ck_assert_uint_eq(dgram_count(1393), 2);
    /* memcached's 5000-byte value: 5025 payload bytes in 4 datagrams */
    ck_assert_uint_eq(dgram_count(5025), 4);
    ck_assert_uint_eq(dgram_count(65536), 48);
}
END_TEST

static Suite *
dgram_suite(void)
{
    Suite *s = suite_create("dgram");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_drops);
    tcase_add_test(tc, test_count);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(dgram_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
