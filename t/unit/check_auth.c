/*
 * check_auth.c -- unit tests for daemon/auth.c (the -Y / -S password
 * table: loading, checking, PLAIN messages, reloading) and
 * proto/text_auth.c (the one request -Y lets through): every field of a
 * parsed auth request, memcached 1.6.18's error lines, incomplete input
 * at every split point.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/auth.h"
#include "proto/request.h"
#include "proto/text.h"

static char path[64];

/* Write contents to a fresh temporary file named in path. */
static void
write_file(const char *contents)
{
    FILE *f;

    if (path[0] == '\0') {
        int fd;

        snprintf(path, sizeof(path), "/tmp/check_auth.XXXXXX");
        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(contents, f);
    fclose(f);
}

static void
teardown(void)
{
    if (path[0] != '\0') {
        unlink(path);
        path[0] = '\0';
    }
}

static bool
check(struct auth *a, const char *user, const char *pass)
{
    return auth_check(a, user, strlen(user), pass, strlen(pass));
}

START_TEST(test_load_and_check)
{
    struct auth *a;

    write_file("alice:secret\nbob:pa:ss\r\n\ncarol:\n");
    a = auth_create(path);
    ck_assert_ptr_nonnull(a);
    ck_assert(check(a, "alice", "secret"));
    ck_assert(check(a, "bob", "pa:ss"));       /* first ':' splits */
    ck_assert(check(a, "carol", ""));          /* empty password */
    ck_assert(!check(a, "alice", "secre"));    /* a prefix */
    ck_assert(!check(a, "alice", "secrets"));  /* longer */
    ck_assert(!check(a, "alice", "Secret"));
    ck_assert(!check(a, "alic", "secret"));
    ck_assert(!check(a, "bob", "secret"));     /* another's password */
    ck_assert(!check(a, "bob", "pa:ss\r"));    /* CRLF is not kept */
    ck_assert(!check(a, "", ""));
    ck_assert(!check(a, "dave", "secret"));
    /* longer than any field: compared, refused, never over-read */
    {
        char big[600];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        ck_assert(!check(a, big, big));
        ck_assert(!check(a, "alice", big));
    }
    auth_destroy(a);
}
END_TEST

START_TEST(test_bad_files)
{
    ck_assert_ptr_null(auth_create("/nonexistent/stashd-auth"));
    write_file("alice\n");
    ck_assert_ptr_null(auth_create(path));
    write_file(":nouser\n");
    ck_assert_ptr_null(auth_create(path));
    {
        char line[400];

        memset(line, 'u', 300);
        memcpy(line + 300, ":p\n", 4);
        write_file(line);
        ck_assert_ptr_null(auth_create(path));
    }
}
END_TEST

START_TEST(test_reload)
{
    struct auth *a;

    write_file("alice:one\n");
    a = auth_create(path);
    ck_assert_ptr_nonnull(a);
    ck_assert(check(a, "alice", "one"));
    write_file("alice:two\nbob:three\n");
    ck_assert_int_eq(auth_reload(a), 0);
    ck_assert(!check(a, "alice", "one"));
    ck_assert(check(a, "alice", "two"));
    ck_assert(check(a, "bob", "three"));
    /* a broken file keeps the entries that work */
    write_file("garbage\n");
    ck_assert_int_eq(auth_reload(a), -1);
    ck_assert(check(a, "alice", "two"));
    auth_destroy(a);
}
END_TEST

static bool
plain(struct auth *a, const char *msg, size_t len)
{
    return auth_check_plain(a, msg, len);
}

START_TEST(test_plain)
{
    struct auth *a;

    write_file("alice:secret\n");
    a = auth_create(path);
    ck_assert_ptr_nonnull(a);
    ck_assert(plain(a, "\0alice\0secret", 13));
    ck_assert(plain(a, "alice\0alice\0secret", 18));   /* authzid = self */
    ck_assert(!plain(a, "bob\0alice\0secret", 16));    /* no proxying */
    ck_assert(!plain(a, "\0alice\0secre", 12));
    ck_assert(!plain(a, "\0alice\0secret\0", 14));
    ck_assert(!plain(a, "alicesecret", 11));
    ck_assert(!plain(a, "\0alicesecret", 12));
    ck_assert(!plain(a, "", 0));
    auth_destroy(a);
}
END_TEST

/* ---- proto/text_auth.c ----------------------------------------------- */

static struct request req;
static char *cur;   /* exact-size copy: ASan sees any over-read */

static int
parse(const char *s, size_t n)
{
    free(cur);
    cur = malloc(n > 0 ? n : 1);
    memcpy(cur, s, n);
    return text_auth_parse(&req, cur, n);
}

#define PARSE(lit) parse((lit), sizeof(lit) - 1)

START_TEST(test_parse_ok)
{
    static const char in[] = "set x 0 0 12\r\nalice secret\r\nget a\r\n";

    ck_assert_int_eq(PARSE(in), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_AUTH);
    ck_assert_int_eq(req.proto, PROTO_TEXT);
    ck_assert_uint_eq(req.consumed, 28);
    ck_assert_uint_eq(req.nkey, 5);
    ck_assert(memcmp(req.key, "alice", 5) == 0);
    ck_assert_uint_eq(req.vlen, 6);
    ck_assert(memcmp(req.value, "secret", 6) == 0);
    ck_assert_uint_eq(req.swallow, 0);

    /* key, flags, exptime are not looked at; noreply changes nothing;
     * a third token and doubled spaces are ignored */
    ck_assert_int_eq(PARSE("set  anything zz -1 16 noreply\r\n"
                           "alice  secret  x\r\n"),
                     PARSE_OK);
    ck_assert_uint_eq(req.nkey, 5);
    ck_assert_uint_eq(req.vlen, 6);
    ck_assert(memcmp(req.value, "secret", 6) == 0);
    ck_assert(!req.noreply);
    /* a bare "\n" ends the line too */
    ck_assert_int_eq(PARSE("set k 0 0 3\na b\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.consumed, 17);
}
END_TEST

START_TEST(test_parse_errors)
{
    static const char unauth[] = "CLIENT_ERROR unauthenticated";

    ck_assert_int_eq(PARSE("get foo\r\nset"), PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);
    ck_assert_uint_eq(req.consumed, 9);
    ck_assert_int_eq(PARSE("mg foo v\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);
    ck_assert_int_eq(PARSE("add x 0 0 12\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);
    ck_assert_int_eq(PARSE("set x 0 0\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);
    ck_assert_int_eq(PARSE("set x 0 0 -1\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);
    ck_assert_int_eq(PARSE("set x 0 0 1x\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);
    ck_assert_int_eq(PARSE("set x 0 0 99999999999999999999\r\n"),
                     PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);
    ck_assert_int_eq(PARSE("\x80\x0a"), PARSE_ERROR);
    ck_assert_str_eq(req.err, unauth);

    ck_assert_int_eq(PARSE("set x 0 0 12\r\nalice secretXX"), PARSE_ERROR);
    ck_assert_str_eq(req.err, "CLIENT_ERROR bad command line termination");
    ck_assert_uint_eq(req.consumed, 28);
    ck_assert_int_eq(PARSE("set x 0 0 5\r\nalice\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err,
                     "CLIENT_ERROR bad authentication token format");
    ck_assert_uint_eq(req.consumed, 20);
    /* memcached reads the data as a C string */
    ck_assert_int_eq(PARSE("set x 0 0 7\r\nalic\0 x\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err,
                     "CLIENT_ERROR bad authentication token format");
}
END_TEST

START_TEST(test_parse_long)
{
    char line[TEXT_LINE_MAX + 2];

    /* data too long to be credentials: a failure, swallowed unread */
    ck_assert_int_eq(PARSE("set x 0 0 4000000000\r\n"), PARSE_ERROR);
    ck_assert_int_eq(req.op, REQ_AUTH);
    ck_assert_str_eq(req.err, "CLIENT_ERROR authentication failure");
    ck_assert_uint_eq(req.consumed, 22);
    ck_assert_uint_eq(req.swallow, 4000000002ULL);
    /* 2^32 + 5 is 5 for memcached's 32-bit read */
    ck_assert_int_eq(PARSE("set x 0 0 4294967301\r\na b c\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 1);
    /* no newline within TEXT_LINE_MAX bytes: close, as memcached */
    memset(line, 'a', sizeof(line));
    ck_assert_int_eq(parse(line, sizeof(line)), PARSE_CLOSE);
    ck_assert_int_eq(parse(line, TEXT_LINE_MAX), PARSE_AGAIN);
}
END_TEST

START_TEST(test_parse_split)
{
    static const char in[] = "set x 0 0 12\r\nalice secret\r\n";
    size_t n = sizeof(in) - 1;

    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(parse(in, i), PARSE_AGAIN);
        if (i >= 14) {
            ck_assert_uint_eq(req.need, n);
        }
    }
    ck_assert_int_eq(parse(in, n), PARSE_OK);
}
END_TEST

static Suite *
auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tt = tcase_create("table");
    TCase *tp = tcase_create("text_auth");

    tcase_add_checked_fixture(tt, NULL, teardown);
    tcase_add_test(tt, test_load_and_check);
    tcase_add_test(tt, test_bad_files);
    tcase_add_test(tt, test_reload);
    tcase_add_test(tt, test_plain);
    suite_add_tcase(s, tt);
    tcase_add_test(tp, test_parse_ok);
    tcase_add_test(tp, test_parse_errors);
    tcase_add_test(tp, test_parse_long);
    tcase_add_test(tp, test_parse_split);
    suite_add_tcase(s, tp);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(auth_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
