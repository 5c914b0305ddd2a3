/*
 * check_item.c -- the item header and accessors: 48-byte header, key and
 * value placement, client flags stored only when nonzero, CAS hidden
 * without CAS, and the slices of chunked values built by the store.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "slab/clock.h"
#include "slab/item.h"
#include "slab/item_layout.h"
#include "slab/store.h"

START_TEST(test_header)
{
    static char buf[512];
    static char longkey[250];
    struct item *it = (struct item *)buf;
    struct item_slice sl[2];

    ck_assert_uint_eq(sizeof(struct item), 48);
    ck_assert_uint_eq(store_item_overhead(), 48);

    item_init(it, 3, "key", 3, 0, 5, false, false);
    memcpy(item_data_start(it), "hello", 5);
    it->cas = 77;
    ck_assert_uint_eq(item_nkey(it), 3);
    ck_assert_int_eq(memcmp(item_key(it), "key", 3), 0);
    ck_assert_uint_eq(item_nbytes(it), 5);
    ck_assert_uint_eq(item_flags(it), 0);
    ck_assert_uint_eq(item_cas(it), 77);
    ck_assert_uint_eq(item_value(it, sl, 2), 1);
    ck_assert_ptr_eq(sl[0].ptr, it->data + 3);  /* no room for flags */
    ck_assert_uint_eq(sl[0].len, 5);
    ck_assert_uint_eq(item_ntotal(3, false, 5), 56);
    ck_assert(item_key_eq(it, "key", 3));
    ck_assert(!item_key_eq(it, "kez", 3));
    ck_assert(!item_key_eq(it, "ke", 2));

    item_init(it, 3, "key", 3, 0xdeadbeef, 5, false, true);
    memcpy(item_data_start(it), "hello", 5);
    it->cas = 77;
    ck_assert_uint_eq(item_flags(it), 0xdeadbeef);
    ck_assert_uint_eq(item_cas(it), 0);        /* store without CAS */
    ck_assert_uint_eq(item_value(it, sl, 2), 1);
    ck_assert_ptr_eq(sl[0].ptr, it->data + 7);
    ck_assert_int_eq(memcmp(sl[0].ptr, "hello", 5), 0);
    ck_assert_uint_eq(item_ntotal(3, true, 5), 60);
    /* A 250-byte key and the largest unchunked length fit the fields. */
    memset(longkey, 'k', sizeof(longkey));
    item_init(it, 3, longkey, 250, 0, ITEM_NBYTES_MAX, false, false);
    ck_assert_uint_eq(item_nkey(it), 250);
    ck_assert_uint_eq(item_nbytes(it), ITEM_NBYTES_MAX);
}
END_TEST

START_TEST(test_class_fit)
{
    /* 48 + 1 + 39 = 88 fits class 1 with flags 0 and not with flags. */
    struct clock *c = clock_create();
    struct store_config cfg;
    struct store *s;
    char v[39];
    struct item *it;

    store_config_default(&cfg);
    cfg.lru_bg = false;
    cfg.lru_maintainer = false;
    s = store_create(&cfg, c);
    memset(v, 'v', sizeof(v));
    ck_assert_int_eq(store_put(s, STORE_SET, "a", 1, 0, 0, v, 39, 0, NULL),
                     STORE_OK);
    ck_assert_int_eq(store_put(s, STORE_SET, "b", 1, 1, 0, v, 39, 0, NULL),
                     STORE_OK);
    it = store_get(s, "a", 1);
    ck_assert_uint_eq(item_clsid(it), 1);
    store_release(s, it);
    it = store_get(s, "b", 1);
    ck_assert_uint_eq(item_clsid(it), 2);
    ck_assert_uint_eq(item_flags(it), 1);
    store_release(s, it);
    store_destroy(s);
    clock_destroy(c);
}
END_TEST

START_TEST(test_chunked_slices)
{
    struct clock *c = clock_create();
    struct store_config cfg;
    struct store *s;
    size_t n = 1000000, i, off = 0, ns;
    char *v = malloc(n);
    struct item_slice sl[8];
    struct item *it;

    store_config_default(&cfg);
    cfg.lru_bg = false;
    cfg.lru_maintainer = false;
    s = store_create(&cfg, c);
    for (i = 0; i < n; i++) {
        v[i] = (char)(i * 31 + 7);
    }
    ck_assert_int_eq(store_put(s, STORE_SET, "big", 3, 9, 0, v, n, 0, NULL),
                     STORE_OK);
    it = store_get(s, "big", 3);
    ck_assert_uint_eq(item_nbytes(it), n);
    ck_assert_uint_eq(item_flags(it), 9);
    ck_assert_uint_eq(item_nkey(it), 3);
    ns = item_value(it, sl, 0);
    ck_assert_uint_ge(ns, 2);
    ck_assert_uint_le(ns, 8);
    ck_assert_uint_eq(item_value(it, sl, 8), ns);
    for (i = 0; i < ns; i++) {
        ck_assert_uint_gt(sl[i].len, 0);
        ck_assert_int_eq(memcmp(sl[i].ptr, v + off, sl[i].len), 0);
        off += sl[i].len;
    }
    ck_assert_uint_eq(off, n);
    store_release(s, it);
    free(v);
    store_destroy(s);
    clock_destroy(c);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("item");
    TCase *tc = tcase_create("item");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_header);
    tcase_add_test(tc, test_class_fit);
    tcase_add_test(tc, test_chunked_slices);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
