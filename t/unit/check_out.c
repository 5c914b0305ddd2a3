/*
 * check_out.c -- unit tests for proto/out.c, the response assembler:
 * arena appends and merging, zero-copy references, iovec building with a
 * partially sent head, consume/reset/shrink, and the oom flag.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/out.h"

/* Let the oom tests see realloc() fail under ASan instead of aborting. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* Everything unsent, flattened through out_iov(). */
static char *
flatten(const struct out *o, size_t *len, int max_iov)
{
    struct iovec iov[64];
    int n = out_iov(o, iov, max_iov);
    size_t total = 0;
    char *s;
    int i;

    for (i = 0; i < n; i++) {
        total += iov[i].iov_len;
    }
    s = malloc(total + 1);
    ck_assert_ptr_nonnull(s);
    total = 0;
    for (i = 0; i < n; i++) {
        memcpy(s + total, iov[i].iov_base, iov[i].iov_len);
        total += iov[i].iov_len;
    }
    s[total] = '\0';
    *len = total;
    return s;
}

static void
check_content(const struct out *o, const char *want)
{
    size_t len;
    char *s = flatten(o, &len, 64);

    ck_assert_uint_eq(len, strlen(want));
    ck_assert_uint_eq(o->pending, strlen(want));
    ck_assert_str_eq(s, want);
    free(s);
}

START_TEST(test_init_empty)
{
    struct out o;
    struct iovec iov[4];

    out_init(&o);
    ck_assert(out_empty(&o));
    ck_assert_ptr_null(o.arena);
    ck_assert_ptr_null(o.segs);
    ck_assert_int_eq(out_iov(&o, iov, 4), 0);
    out_bytes(&o, "", 0);
    out_ref(&o, "x", 0);
    ck_assert(out_empty(&o));
    ck_assert_uint_eq(o.nsegs, 0);
    out_free(&o);
}
END_TEST

START_TEST(test_appends_merge)
{
    struct out o;

    out_init(&o);
    out_bytes(&o, "STORED\r\n", 8);
    out_str(&o, "STORED\r\n");
    out_bytes(&o, "END\r\n", 5);
    ck_assert_uint_eq(o.nsegs, 1);
    ck_assert_uint_eq(o.segs[0].len, 21);
    ck_assert_ptr_null(o.segs[0].ptr);
    ck_assert(!out_empty(&o));
    check_content(&o, "STORED\r\nSTORED\r\nEND\r\n");
    out_free(&o);
}
END_TEST

START_TEST(test_reserve_commit)
{
    struct out o;
    char *w;

    out_init(&o);
    out_str(&o, "a");
    w = out_reserve(&o, 100);
    ck_assert_ptr_nonnull(w);
    memcpy(w, "bcd", 3);
    out_commit(&o, 3);
    ck_assert_uint_eq(o.nsegs, 1);
    check_content(&o, "abcd");
    /* committing nothing adds nothing */
    w = out_reserve(&o, 10);
    ck_assert_ptr_nonnull(w);
    out_commit(&o, 0);
    ck_assert_uint_eq(o.nsegs, 1);
    check_content(&o, "abcd");
    ck_assert(!o.oom);
    out_free(&o);
}
END_TEST

START_TEST(test_refs)
{
    struct out o;
    static const char value[] = "0123456789abcdef";
    static const char other[] = "XYZ";

    out_init(&o);
    out_str(&o, "VALUE k 0 16\r\n");
    out_ref(&o, value, 16);
    out_str(&o, "\r\n");
    out_ref(&o, other, 3);
    ck_assert_uint_eq(o.nsegs, 4);
    ck_assert_ptr_eq(o.segs[1].ptr, value);
    ck_assert_ptr_eq(o.segs[3].ptr, other);
    check_content(&o, "VALUE k 0 16\r\n0123456789abcdef\r\nXYZ");

    /* the iovec points at the caller's bytes: zero copy */
    {
        struct iovec iov[8];

        ck_assert_int_eq(out_iov(&o, iov, 8), 4);
        ck_assert_ptr_eq(iov[1].iov_base, value);
        ck_assert_uint_eq(iov[1].iov_len, 16);
        ck_assert_int_eq(out_iov(&o, iov, 2), 2);
    }
    out_free(&o);
}
END_TEST

START_TEST(test_ref_adjacent_merge)
{
    struct out o;
    static const char buf[] = "abcdefgh";

    out_init(&o);
    out_ref(&o, buf, 3);
    out_ref(&o, buf + 3, 5);
    ck_assert_uint_eq(o.nsegs, 1);
    ck_assert_uint_eq(o.segs[0].len, 8);
    /* not adjacent: a new segment */
    out_ref(&o, buf, 2);
    ck_assert_uint_eq(o.nsegs, 2);
    check_content(&o, "abcdefghab");
    out_free(&o);
}
END_TEST

START_TEST(test_arena_after_ref_new_segment)
{
    struct out o;
    static const char v[] = "vv";

    out_init(&o);
    out_str(&o, "a");
    out_ref(&o, v, 2);
    out_str(&o, "b");
    out_str(&o, "c");
    ck_assert_uint_eq(o.nsegs, 3);
    ck_assert_uint_eq(o.segs[2].off, 1);
    ck_assert_uint_eq(o.segs[2].len, 2);
    check_content(&o, "avvbc");
    out_free(&o);
}
END_TEST

START_TEST(test_partial_consume)
{
    struct out o;
    static const char v[] = "0123456789";
    struct iovec iov[8];
    size_t len;
    char *s;

    out_init(&o);
    out_str(&o, "HEAD\r\n");            /* 6 */
    out_ref(&o, v, 10);                 /* 10 */
    out_str(&o, "\r\nEND\r\n");         /* 7 */
    ck_assert_uint_eq(o.pending, 23);

    out_consume(&o, 4);
    ck_assert_uint_eq(o.head, 0);
    ck_assert_uint_eq(o.head_off, 4);
    ck_assert_int_eq(out_iov(&o, iov, 8), 3);
    ck_assert_uint_eq(iov[0].iov_len, 2);
    check_content(&o, "\r\n0123456789\r\nEND\r\n");

    out_consume(&o, 5);                 /* 2 of HEAD, 3 of the value */
    ck_assert_uint_eq(o.head, 1);
    ck_assert_uint_eq(o.head_off, 3);
    ck_assert_int_eq(out_iov(&o, iov, 8), 2);
    ck_assert_ptr_eq(iov[0].iov_base, v + 3);
    check_content(&o, "3456789\r\nEND\r\n");

    out_consume(&o, 7);                 /* exactly the rest of the value */
    ck_assert_uint_eq(o.head, 2);
    ck_assert_uint_eq(o.head_off, 0);
    check_content(&o, "\r\nEND\r\n");

    /* appending while partially sent: merges into the unsent arena tail */
    out_str(&o, "X");
    check_content(&o, "\r\nEND\r\nX");

    /* max limits the iovecs */
    s = flatten(&o, &len, 1);
    ck_assert_str_eq(s, "\r\nEND\r\nX");
    free(s);

    out_consume(&o, 8);
    ck_assert(out_empty(&o));
    ck_assert_uint_eq(o.nsegs, 0);
    ck_assert_uint_eq(o.used, 0);
    ck_assert_int_eq(out_iov(&o, iov, 8), 0);
    out_free(&o);
}
END_TEST

START_TEST(test_reset_and_reuse)
{
    struct out o;
    char *first;

    out_init(&o);
    out_str(&o, "OK\r\n");
    first = o.arena;
    out_consume(&o, 4);
    ck_assert(out_empty(&o));
    out_str(&o, "END\r\n");
    /* the small arena is kept and reused from offset 0 */
    ck_assert_ptr_eq(o.arena, first);
    ck_assert_uint_eq(o.segs[0].off, 0);
    check_content(&o, "END\r\n");
    out_free(&o);
}
END_TEST

START_TEST(test_growth_keeps_segments_and_shrinks)
{
    struct out o;
    static const char v[] = "<ref>";
    char chunk[1000];
    char *want;
    size_t wlen = 0, len;
    char *got;
    int i;

    out_init(&o);
    want = malloc(2 * 1024 * 1024);
    ck_assert_ptr_nonnull(want);
    for (i = 0; i < 1500; i++) {
        memset(chunk, 'a' + i % 26, sizeof(chunk));
        out_bytes(&o, chunk, sizeof(chunk));
        memcpy(want + wlen, chunk, sizeof(chunk));
        wlen += sizeof(chunk);
        out_ref(&o, v, 5);
        memcpy(want + wlen, v, 5);
        wlen += 5;
    }
    ck_assert(!o.oom);
    ck_assert_uint_ge(o.cap, 1500 * 1000);
    ck_assert_uint_eq(o.pending, wlen);

    /* drain it in odd-sized pieces, checking each unsent tail */
    {
        size_t sent = 0;

        while (sent < wlen) {
            size_t step = 4099;
            struct iovec iov[64];
            int n = out_iov(&o, iov, 64);
            size_t avail = 0;
            int k;

            for (k = 0; k < n; k++) {
                avail += iov[k].iov_len;
            }
            ck_assert_mem_eq(iov[0].iov_base, want + sent, iov[0].iov_len);
            if (step > avail) {
                step = avail;
            }
            if (sent + step > wlen) {
                step = wlen - sent;
            }
            out_consume(&o, step);
            sent += step;
            ck_assert_uint_eq(o.pending, wlen - sent);
        }
    }
    ck_assert(out_empty(&o));
    ck_assert_uint_le(o.cap, 16384);
    ck_assert_uint_le(o.cap_segs, 256);

    /* still usable after shrinking */
    out_str(&o, "END\r\n");
    got = flatten(&o, &len, 64);
    ck_assert_str_eq(got, "END\r\n");
    free(got);
    free(want);
    out_free(&o);
}
END_TEST

START_TEST(test_oom_flag)
{
    struct out o;

    out_init(&o);
    out_str(&o, "OK\r\n");
    ck_assert(!o.oom);
    ck_assert_ptr_null(out_reserve(&o, SIZE_MAX - 2));
    ck_assert(o.oom);
    /* what was queued before stays intact */
    check_content(&o, "OK\r\n");
    out_free(&o);

    out_init(&o);
    ck_assert_ptr_null(out_reserve(&o, (size_t)1 << 62));
    ck_assert(o.oom);
    out_free(&o);
    ck_assert(!o.oom);

    /* committing more than reserved is refused, not a heap overflow */
    out_init(&o);
    ck_assert_ptr_nonnull(out_reserve(&o, 4));
    out_commit(&o, o.cap + 1);
    ck_assert(o.oom);
    ck_assert(out_empty(&o));
    out_free(&o);
}
END_TEST

static Suite *
out_suite(void)
{
    Suite *s = suite_create("out");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_init_empty);
    tcase_add_test(tc, test_appends_merge);
    tcase_add_test(tc, test_reserve_commit);
    tcase_add_test(tc, test_refs);
    tcase_add_test(tc, test_ref_adjacent_merge);
    tcase_add_test(tc, test_arena_after_ref_new_segment);
    tcase_add_test(tc, test_partial_consume);
    tcase_add_test(tc, test_reset_and_reuse);
    tcase_add_test(tc, test_growth_keeps_segments_and_shrinks);
    tcase_add_test(tc, test_oom_flag);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(out_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
