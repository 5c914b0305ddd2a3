/*
 * check_base64.c -- the base64 codec of meta "b" keys: RFC 4648 vectors,
 * round trips over every byte value, and memcached's lenient decoding
 * (skipped bytes, stop at the padded group, rejected partial groups).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"

static void
check_encode(const char *in, const char *want)
{
    char buf[64];
    size_t n = base64_encode(in, strlen(in), buf);

    ck_assert_uint_eq(n, strlen(want));
    ck_assert_uint_eq(n, base64_encoded_len(strlen(in)));
    ck_assert_int_eq(memcmp(buf, want, n), 0);
}

/* Decode and compare; want == NULL means the input must be rejected. */
static void
check_decode(const char *in, const char *want)
{
    char buf[64];
    size_t n = base64_decode(in, strlen(in), buf, sizeof(buf));

    if (want == NULL) {
        ck_assert_msg(n == 0, "'%s' decoded to %zu bytes", in, n);
        return;
    }
    ck_assert_msg(n == strlen(want), "'%s' -> %zu bytes", in, n);
    ck_assert_int_eq(memcmp(buf, want, n), 0);
}

START_TEST(test_rfc4648_vectors)
{
    check_encode("", "");
    check_encode("f", "Zg==");
    check_encode("fo", "Zm8=");
    check_encode("foo", "Zm9v");
    check_encode("foob", "Zm9vYg==");
    check_encode("fooba", "Zm9vYmE=");
    check_encode("foobar", "Zm9vYmFy");
    check_decode("Zg==", "f");
    check_decode("Zm8=", "fo");
    check_decode("Zm9v", "foo");
    check_decode("Zm9vYg==", "foob");
    check_decode("Zm9vYmE=", "fooba");
    check_decode("Zm9vYmFy", "foobar");
}
END_TEST

START_TEST(test_round_trip_all_bytes)
{
    unsigned char src[256], dec[256];
    char enc[400];

    for (int i = 0; i < 256; i++) {
        src[i] = (unsigned char)(255 - i);
    }
    for (size_t n = 1; n <= sizeof(src); n++) {
        size_t e = base64_encode(src, n, enc);
        size_t d = base64_decode(enc, e, dec, sizeof(dec));

        ck_assert_uint_eq(e, base64_encoded_len(n));
        ck_assert_uint_eq(d, n);
        ck_assert_int_eq(memcmp(src, dec, n), 0);
    }
}
END_TEST

START_TEST(test_lenient_like_memcached)
{
    /* bytes outside the alphabet are skipped */
    check_decode("Zm9v!", "foo");
    check_decode("Z m\t9\nv", "foo");
    /* decoding stops after the first padded group */
    check_decode("Zm9vYg==Zm9v", "foob");
    /* the unused low bits of the last symbol are dropped */
    {
        unsigned char b[4] = {0xff};

        ck_assert_uint_eq(base64_decode("AB==", 4, b, sizeof(b)), 1);
        ck_assert_uint_eq(b[0], 0);
    }
}
END_TEST

/* Inputs whose answers were taken from memcached 1.6.18 live (mg ... b k
 * on an item stored with ms ... b): the same rule must give the same key. */
START_TEST(test_invalid_inputs_like_memcached)
{
    /* skipped bytes anywhere: "key:2" and "k!e.y-2" are "key2" */
    check_decode("key:2", "\x91\xec\xb6");
    check_decode("k!e.y-2", "\x91\xec\xb6");
    /* symbol counts that are no multiple of four */
    check_decode("key:2=", NULL);
    check_decode("key", NULL);
    /* '=' in the middle of a group is a pad worth zero bits */
    check_decode("YW=j", "a`");
    check_decode("=WJj", "\001b");
    /* the unused low bits are dropped: YR== is YQ==, YWJ= is YWI= */
    check_decode("YR==", "a");
    check_decode("YWJ=", "ab");
    /* a pad ends the key even if a whole group follows */
    check_decode("YQ==YWJj", "a");
}
END_TEST

START_TEST(test_rejects)
{
    check_decode("", NULL);
    check_decode("!!!!", NULL);
    check_decode("Zm9vYg", NULL);   /* partial group */
    check_decode("Zm9vYg=", NULL);
    check_decode("Zm9", NULL);
    check_decode("====", NULL);     /* four pads */
    check_decode("A===", NULL);     /* three pads */
}
END_TEST

START_TEST(test_output_bound)
{
    char buf[8];

    /* "foobar" needs 6 bytes */
    ck_assert_uint_eq(base64_decode("Zm9vYmFy", 8, buf, 5), 0);
    ck_assert_uint_eq(base64_decode("Zm9vYmFy", 8, buf, 6), 6);
    /* "foob" needs 4: the padded group must fit too */
    ck_assert_uint_eq(base64_decode("Zm9vYg==", 8, buf, 3), 0);
    ck_assert_uint_eq(base64_decode("Zm9vYg==", 8, buf, 4), 4);
}
END_TEST

static Suite *
base64_suite(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("codec");

    tcase_add_test(tc, test_rfc4648_vectors);
    tcase_add_test(tc, test_round_trip_all_bytes);
    tcase_add_test(tc, test_lenient_like_memcached);
    tcase_add_test(tc, test_invalid_inputs_like_memcached);
    tcase_add_test(tc, test_rejects);
    tcase_add_test(tc, test_output_bound);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(base64_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
