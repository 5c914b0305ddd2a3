/*
 * check_store.c -- the store operations against memcached's semantics:
 * every store mode and CAS path, arithmetic, TTL and flush with the debug
 * clock, references surviving delete/replace, chunked values, memory
 * limits (eviction, -M), stats names, and a multi-threaded hammer with
 * checksummed values.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "slab/clock.h"
#include "slab/item.h"
#include "slab/store.h"
#include "slab/store_int.h"

static struct clock *clk;
static struct store *st;

static struct store *
mkstore(size_t mem, bool evict, bool use_cas)
{
    struct store_config cfg;

    store_config_default(&cfg);
    cfg.mem_limit = mem;
    cfg.evict = evict;
    cfg.use_cas = use_cas;
    cfg.lru_bg = false;
    cfg.lru_maintainer = false;
    return store_create(&cfg, clk);
}

static void
setup(void)
{
    clk = clock_create();
    ck_assert_ptr_nonnull(clk);
    clock_freeze(clk);
    st = mkstore((size_t)64 << 20, true, true);
    ck_assert_ptr_nonnull(st);
}

static void
teardown(void)
{
    store_destroy(st);
    clock_destroy(clk);
}

static int
put(enum store_mode m, const char *k, const char *v, uint32_t flags,
    int64_t exp, uint64_t cas_in, uint64_t *cas_out)
{
    return store_put(st, m, k, strlen(k), flags, exp, v, strlen(v), cas_in,
                     cas_out);
}

/* The whole value of key as a malloc'ed string, or NULL if missing. */
static char *
getv(const char *k)
{
    struct item *it = store_get(st, k, strlen(k));
    struct item_slice sl[64];
    size_t n, i, off = 0;
    char *buf;

    if (it == NULL) {
        return NULL;
    }
    n = item_value(it, sl, 64);
    ck_assert_uint_le(n, 64);
    buf = malloc(item_nbytes(it) + 1);
    for (i = 0; i < n; i++) {
        memcpy(buf + off, sl[i].ptr, sl[i].len);
        off += sl[i].len;
    }
    ck_assert_uint_eq(off, item_nbytes(it));
    buf[off] = '\0';
    store_release(st, it);
    return buf;
}

static void
expect(const char *k, const char *want)
{
    char *v = getv(k);

    if (want == NULL) {
        ck_assert_msg(v == NULL, "%s should be missing, is '%s'", k, v);
        return;
    }
    ck_assert_msg(v != NULL, "%s missing", k);
    ck_assert_str_eq(v, want);
    free(v);
}

struct statbuf {
    char names[256][64];
    char values[256][32];
    int n;
};

static void
stat_emit(void *ctx, const char *name, const char *value)
{
    struct statbuf *b = ctx;

    ck_assert_int_lt(b->n, 256);
    snprintf(b->names[b->n], 64, "%s", name);
    snprintf(b->values[b->n], 32, "%s", value);
    b->n++;
}

static long long
stat_get(void (*fn)(struct store *, store_emit_fn, void *), const char *name)
{
    static struct statbuf b;
    int i;

    b.n = 0;
    fn(st, stat_emit, &b);
    for (i = 0; i < b.n; i++) {
        if (strcmp(b.names[i], name) == 0) {
            return atoll(b.values[i]);
        }
    }
    return -1;
}

START_TEST(test_set_get)
{
    struct item *it;
    uint64_t cas = 0;

    ck_assert_int_eq(put(STORE_SET, "foo", "bar", 7, 0, 0, &cas), STORE_OK);
    ck_assert_uint_ne(cas, 0);
    it = store_get(st, "foo", 3);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(item_nkey(it), 3);
    ck_assert_int_eq(memcmp(item_key(it), "foo", 3), 0);
    ck_assert_uint_eq(item_nbytes(it), 3);
    ck_assert_uint_eq(item_flags(it), 7);
    ck_assert_uint_eq(item_cas(it), cas);
    ck_assert_uint_eq(item_exptime(it), 0);
    store_release(st, it);
    ck_assert_ptr_null(store_get(st, "fo", 2));
    ck_assert_ptr_null(store_get(st, "fooo", 4));
    /* Empty value, max flags. */
    ck_assert_int_eq(put(STORE_SET, "e", "", UINT32_MAX, 0, 0, NULL),
                     STORE_OK);
    it = store_get(st, "e", 1);
    ck_assert_uint_eq(item_nbytes(it), 0);
    ck_assert_uint_eq(item_flags(it), UINT32_MAX);
    store_release(st, it);
    expect("e", "");
    {
        /* Keys longer than 250 bytes cannot be stored. */
        char k[251];

        memset(k, 'k', sizeof(k));
        ck_assert_int_eq(store_put(st, STORE_SET, k, 251, 0, 0, "v", 1, 0,
                                   NULL),
                         STORE_TOO_LARGE);
        ck_assert_int_eq(store_put(st, STORE_SET, k, 250, 0, 0, "v", 1, 0,
                                   NULL),
                         STORE_OK);
        it = store_get(st, k, 250);
        ck_assert_ptr_nonnull(it);
        ck_assert_uint_eq(item_nkey(it), 250);
        store_release(st, it);
        ck_assert_ptr_null(store_get(st, k, 251));
    }
}
END_TEST

START_TEST(test_modes)
{
    ck_assert_int_eq(put(STORE_ADD, "a", "1", 0, 0, 0, NULL), STORE_OK);
    ck_assert_int_eq(put(STORE_ADD, "a", "2", 0, 0, 0, NULL),
                     STORE_NOT_STORED);
    expect("a", "1");
    ck_assert_int_eq(put(STORE_REPLACE, "b", "1", 0, 0, 0, NULL),
                     STORE_NOT_STORED);
    expect("b", NULL);
    ck_assert_int_eq(put(STORE_REPLACE, "a", "3", 0, 0, 0, NULL), STORE_OK);
    expect("a", "3");
    ck_assert_int_eq(put(STORE_APPEND, "b", "x", 0, 0, 0, NULL),
                     STORE_NOT_STORED);
    ck_assert_int_eq(put(STORE_PREPEND, "b", "x", 0, 0, 0, NULL),
                     STORE_NOT_STORED);
    expect("b", NULL);
    ck_assert_int_eq(put(STORE_SET, "c", "mid", 42, 100, 0, NULL), STORE_OK);
    ck_assert_int_eq(put(STORE_APPEND, "c", "_end", 9, 0, 0, NULL),
                     STORE_OK);
    ck_assert_int_eq(put(STORE_PREPEND, "c", "start_", 9, 0, 0, NULL),
                     STORE_OK);
    expect("c", "start_mid_end");
    {
        /* append/prepend keep the original flags and expiry */
        struct item *it = store_get(st, "c", 1);

        ck_assert_uint_eq(item_flags(it), 42);
        ck_assert_uint_eq(item_exptime(it), clock_now(clk) + 100);
        store_release(st, it);
    }
}
END_TEST

START_TEST(test_cas)
{
    uint64_t c1 = 0, c2 = 0, c3 = 0;
    struct item *it;

    ck_assert_int_eq(put(STORE_CAS, "k", "v", 0, 0, 1, NULL),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(put(STORE_SET, "k", "v1", 0, 0, 0, &c1), STORE_OK);
    ck_assert_int_eq(put(STORE_CAS, "k", "v2", 0, 0, c1 + 1000, NULL),
                     STORE_EXISTS);
    expect("k", "v1");
    ck_assert_int_eq(put(STORE_CAS, "k", "v2", 0, 0, c1, &c2), STORE_OK);
    ck_assert_uint_ne(c1, c2);
    expect("k", "v2");
    ck_assert_int_eq(put(STORE_CAS, "k", "v3", 0, 0, c1, NULL), STORE_EXISTS);
    /* Binary-style: set/append with a CAS must match too. */
    ck_assert_int_eq(put(STORE_SET, "k", "v4", 0, 0, c1, NULL), STORE_EXISTS);
    ck_assert_int_eq(put(STORE_SET, "zz", "v4", 0, 0, 5, NULL),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(put(STORE_APPEND, "k", "!", 0, 0, c1, NULL),
                     STORE_EXISTS);
    ck_assert_int_eq(put(STORE_APPEND, "k", "!", 0, 0, c2, &c3), STORE_OK);
    expect("k", "v2!");
    /* Every mutation gets a new CAS, also a touch-free read keeps it. */
    it = store_get(st, "k", 1);
    ck_assert_uint_eq(item_cas(it), c3);
    store_release(st, it);
    ck_assert_uint_gt(c3, c2);
    ck_assert_int_eq(store_delete(st, "k", 1, c2), STORE_EXISTS);
    ck_assert_int_eq(store_delete(st, "k", 1, c3), STORE_OK);
    ck_assert_int_eq(store_delete(st, "k", 1, 0), STORE_NOT_FOUND);
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:cas_hits"), 1);
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:cas_badval"), 3);
}
END_TEST

START_TEST(test_nocas)
{
    struct store *s2 = mkstore((size_t)8 << 20, true, false);
    struct item *it;
    uint64_t c = 99;

    ck_assert_int_eq(store_put(s2, STORE_SET, "a", 1, 0, 0, "1", 1, 0, &c),
                     STORE_OK);
    ck_assert_uint_eq(c, 0);
    it = store_get(s2, "a", 1);
    ck_assert_uint_eq(item_cas(it), 0);
    store_release(s2, it);
    /* memcached -C: cas never matches an existing item. */
    ck_assert_int_eq(store_put(s2, STORE_CAS, "a", 1, 0, 0, "2", 1, 0, NULL),
                     STORE_EXISTS);
    ck_assert_int_eq(store_put(s2, STORE_CAS, "b", 1, 0, 0, "2", 1, 0, NULL),
                     STORE_NOT_FOUND);
    /* A CAS on a set (binary protocol) is ignored, as memcached -C does. */
    ck_assert_int_eq(store_put(s2, STORE_SET, "a", 1, 0, 0, "3", 1, 7, NULL),
                     STORE_OK);
    /* No CAS counter work per store: only flush_all moves it. */
    c = __atomic_load_n(&s2->cas_seq, __ATOMIC_RELAXED);
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(store_put(s2, STORE_SET, "x", 1, 0, 0, "1", 1, 0,
                                   NULL), STORE_OK);
    }
    ck_assert_uint_eq(__atomic_load_n(&s2->cas_seq, __ATOMIC_RELAXED), c);
    /* Flush still works without CAS, and spares what is stored after. */
    store_flush(s2, 0);
    ck_assert_ptr_null(store_get(s2, "a", 1));
    ck_assert_ptr_null(store_get(s2, "x", 1));
    ck_assert_int_eq(store_put(s2, STORE_SET, "y", 1, 0, 0, "1", 1, 0, NULL),
                     STORE_OK);
    it = store_get(s2, "y", 1);
    ck_assert_ptr_nonnull(it);
    store_release(s2, it);
    store_destroy(s2);
}
END_TEST

/* Fill a staged item through its writable slices with bytes of v. */
static void
stage_fill(struct item *it, const char *v, size_t n)
{
    struct iovec iov[8];
    size_t off = 0;

    while (off < n) {
        size_t k = store_item_wslices(it, off, iov, 8);

        ck_assert_uint_gt(k, 0);
        for (size_t i = 0; i < k; i++) {
            memcpy(iov[i].iov_base, v + off, iov[i].iov_len);
            off += iov[i].iov_len;
        }
    }
    ck_assert_uint_eq(off, n);
    ck_assert_uint_eq(store_item_wslices(it, n, iov, 8), 0);
}

/* The two-phase store: new -> fill -> commit/abandon, every mode. */
START_TEST(test_staged)
{
    size_t n = 900017;      /* chunked: over the 512 KiB largest chunk */
    char *v = malloc(n + 1), *got;
    struct item *it;
    uint64_t cas = 0, cas2 = 0;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        v[i] = (char)('a' + i % 23);
    }
    v[n] = '\0';
    it = store_item_new(st, STORE_SET, "big", 3, 5, 0, n, &rc);
    ck_assert_ptr_nonnull(it);
    stage_fill(it, v, n);
    /* nothing visible before commit */
    ck_assert_ptr_null(getv("big"));
    ck_assert_int_eq(store_item_commit(st, STORE_SET, it, 0, &cas), STORE_OK);
    got = getv("big");
    ck_assert(got != NULL && memcmp(got, v, n) == 0);
    free(got);
    /* add on an existing key: checked at commit, the item freed */
    it = store_item_new(st, STORE_ADD, "big", 3, 0, 0, 10, &rc);
    stage_fill(it, v, 10);
    ck_assert_int_eq(store_item_commit(st, STORE_ADD, it, 0, NULL),
                     STORE_NOT_STORED);
    /* cas: a stale token fails, the right one stores */
    it = store_item_new(st, STORE_CAS, "big", 3, 0, 0, 10, &rc);
    stage_fill(it, v, 10);
    ck_assert_int_eq(store_item_commit(st, STORE_CAS, it, cas + 1, NULL),
                     STORE_EXISTS);
    it = store_item_new(st, STORE_CAS, "big", 3, 0, 0, 10, &rc);
    stage_fill(it, v, 10);
    ck_assert_int_eq(store_item_commit(st, STORE_CAS, it, cas, &cas2),
                     STORE_OK);
    ck_assert_uint_gt(cas2, cas);
    /* append/prepend stage the added bytes */
    it = store_item_new(st, STORE_APPEND, "big", 3, 0, 0, 3, &rc);
    stage_fill(it, "XYZ", 3);
    ck_assert_int_eq(store_item_commit(st, STORE_APPEND, it, 0, NULL),
                     STORE_OK);
    it = store_item_new(st, STORE_PREPEND, "big", 3, 0, 0, 2, &rc);
    stage_fill(it, "<<", 2);
    ck_assert_int_eq(store_item_commit(st, STORE_PREPEND, it, 0, NULL),
                     STORE_OK);
    expect("big", "<<abcdefghijXYZ");
    it = store_item_new(st, STORE_APPEND, "none", 4, 0, 0, 3, &rc);
    ck_assert_int_eq(store_item_commit(st, STORE_APPEND, it, 0, NULL),
                     STORE_NOT_STORED);
    /* abandon: nothing linked, nothing leaked (the stats count it) */
    it = store_item_new(st, STORE_SET, "gone", 4, 0, 0, n, &rc);
    ck_assert_ptr_nonnull(it);
    store_item_abandon(st, it);
    ck_assert_ptr_null(getv("gone"));
    /* too large: refused at once, and a failed set drops the old value */
    ck_assert_ptr_null(store_item_new(st, STORE_SET, "big", 3, 0, 0,
                                      (size_t)64 << 20, &rc));
    ck_assert_int_eq(rc, STORE_TOO_LARGE);
    ck_assert_ptr_null(getv("big"));
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), 0);
    ck_assert_int_eq(stat_get(store_stats, "bytes"), 0);
    free(v);
}
END_TEST

static int
arith(const char *k, bool incr, uint64_t delta, uint64_t *out)
{
    struct store_arith a;
    int rc;

    memset(&a, 0, sizeof(a));
    a.incr = incr;
    a.delta = delta;
    rc = store_arith(st, k, strlen(k), &a);
    if (rc == STORE_OK && out != NULL) {
        *out = a.value;
    }
    return rc;
}

START_TEST(test_arith)
{
    uint64_t v = 0;

    ck_assert_int_eq(arith("n", true, 1, &v), STORE_NOT_FOUND);
    put(STORE_SET, "n", "10", 5, 0, 0, NULL);
    ck_assert_int_eq(arith("n", false, 1, &v), STORE_OK);
    ck_assert_uint_eq(v, 9);
    expect("n", "9 ");            /* memcached pads in place */
    ck_assert_int_eq(arith("n", true, 5, &v), STORE_OK);
    ck_assert_uint_eq(v, 14);
    expect("n", "14");
    ck_assert_int_eq(arith("n", false, 100, &v), STORE_OK);
    ck_assert_uint_eq(v, 0);      /* decr floors at 0 */
    expect("n", "0 ");
    {
        struct item *it = store_get(st, "n", 1);

        ck_assert_uint_eq(item_flags(it), 5);
        store_release(st, it);
    }
    put(STORE_SET, "w", "18446744073709551615", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("w", true, 2, &v), STORE_OK);
    ck_assert_uint_eq(v, 1);      /* incr wraps at 2^64 */
    expect("w", "1                   ");
    put(STORE_SET, "big", "18446744073709551616", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("big", true, 1, &v), STORE_NON_NUMERIC);
    put(STORE_SET, "z", "00000000000000000000007", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("z", true, 1, &v), STORE_OK);
    ck_assert_uint_eq(v, 8);
    put(STORE_SET, "x", "abc", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_NON_NUMERIC);
    put(STORE_SET, "x", "12abc", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_NON_NUMERIC);
    put(STORE_SET, "x", "", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_NON_NUMERIC);
    put(STORE_SET, "x", "  ", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_NON_NUMERIC);
    put(STORE_SET, "x", "-5", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_NON_NUMERIC);
    put(STORE_SET, "x", " 5 ", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_OK);
    expect("x", "6  ");
    put(STORE_SET, "x", "99", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_OK);
    expect("x", "100");
    put(STORE_SET, "x", "5 and some text that is long", 0, 0, 0, NULL);
    ck_assert_int_eq(arith("x", true, 1, &v), STORE_OK);
    expect("x", "6                           ");
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:incr_hits"), 6);
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:decr_hits"), 2);
}
END_TEST

START_TEST(test_arith_create_cas)
{
    struct store_arith a;
    uint64_t cas;

    memset(&a, 0, sizeof(a));
    a.incr = true;
    a.delta = 3;
    a.create = true;
    a.initial = 40;
    a.create_flags = 3;
    ck_assert_int_eq(store_arith(st, "c", 1, &a), STORE_OK);
    ck_assert(a.created);
    ck_assert_uint_eq(a.value, 40);
    expect("c", "40");
    cas = a.cas;
    a.cas_in = cas + 1;
    ck_assert_int_eq(store_arith(st, "c", 1, &a), STORE_EXISTS);
    a.cas_in = cas;
    ck_assert_int_eq(store_arith(st, "c", 1, &a), STORE_OK);
    ck_assert(!a.created);
    ck_assert_uint_eq(a.value, 43);
    ck_assert_uint_gt(a.cas, cas);
    expect("c", "43");
}
END_TEST

START_TEST(test_ttl)
{
    struct item *it;

    put(STORE_SET, "t1", "v", 0, 10, 0, NULL);
    put(STORE_SET, "tr", "v", 0, CLOCK_REL_MAX, 0, NULL);
    /* Above 30 days: an absolute unix time, here long past. */
    put(STORE_SET, "ta", "v", 0, CLOCK_REL_MAX + 1, 0, NULL);
    put(STORE_SET, "tn", "v", 0, -1, 0, NULL);
    put(STORE_SET, "tf", "v", 0, (int64_t)clock_unix(clk, clock_now(clk)) + 20,
        0, NULL);
    expect("ta", NULL);
    expect("tn", NULL);
    expect("t1", "v");
    expect("tf", "v");
    clock_advance(clk, 9);
    expect("t1", "v");
    clock_advance(clk, 1);
    expect("t1", NULL);
    clock_advance(clk, 9);
    expect("tf", "v");
    clock_advance(clk, 1);
    expect("tf", NULL);
    expect("tr", "v");
    clock_advance(clk, CLOCK_REL_MAX - 21);
    expect("tr", "v");
    clock_advance(clk, 1);
    expect("tr", NULL);
    ck_assert_int_eq(stat_get(store_stats, "get_expired"), 5);

    /* touch and gat move the expiry */
    put(STORE_SET, "t2", "v", 0, 5, 0, NULL);
    ck_assert_int_eq(store_touch(st, "t2", 2, 100), STORE_OK);
    ck_assert_int_eq(store_touch(st, "nope", 4, 100), STORE_NOT_FOUND);
    clock_advance(clk, 50);
    it = store_get_touch(st, "t2", 2, 0);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:touch_hits"), 2);
    ck_assert_uint_eq(item_exptime(it), 0);
    store_release(st, it);
    clock_advance(clk, 1000);
    expect("t2", "v");
    ck_assert_int_eq(store_touch(st, "t2", 2, -1), STORE_OK);
    expect("t2", NULL);
}
END_TEST

START_TEST(test_flush)
{
    put(STORE_SET, "a", "1", 0, 0, 0, NULL);
    put(STORE_SET, "b", "1", 0, 0, 0, NULL);
    store_flush(st, 0);
    expect("a", NULL);
    ck_assert_int_eq(stat_get(store_stats, "get_flushed"), 1);
    /* Stored after the flush, same second: survives. */
    put(STORE_SET, "c", "1", 0, 0, 0, NULL);
    expect("c", "1");
    ck_assert_int_eq(put(STORE_ADD, "b", "2", 0, 0, 0, NULL), STORE_OK);
    expect("b", "2");

    /* Delayed: everything up to the flush time goes, later sets stay. */
    clock_advance(clk, 100);
    store_flush(st, 10);
    put(STORE_SET, "d", "1", 0, 0, 0, NULL);
    expect("c", "1");
    expect("d", "1");
    clock_advance(clk, 5);
    put(STORE_SET, "e", "1", 0, 0, 0, NULL);
    expect("e", "1");
    clock_advance(clk, 5);
    expect("c", NULL);
    expect("d", NULL);
    expect("e", NULL);
    clock_advance(clk, 1);
    put(STORE_SET, "f", "1", 0, 0, 0, NULL);
    expect("f", "1");
    clock_advance(clk, 100);
    expect("f", "1");
}
END_TEST

START_TEST(test_refcount)
{
    struct item *a, *b;
    char big[3000];

    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put(STORE_SET, "r", "first", 0, 0, 0, NULL);
    a = store_get(st, "r", 1);
    put(STORE_SET, "r", "second", 0, 0, 0, NULL);
    b = store_get(st, "r", 1);
    ck_assert_int_eq(store_delete(st, "r", 1, 0), STORE_OK);
    /* Churn the class so a freed chunk would be reused. */
    for (int i = 0; i < 2000; i++) {
        char k[24];

        snprintf(k, sizeof(k), "churn%d", i);
        put(STORE_SET, k, "xxxxxxxx", 0, 0, 0, NULL);
    }
    ck_assert_uint_eq(item_nbytes(a), 5);
    ck_assert_int_eq(memcmp(item_key(a) + 1, "first", 5), 0);
    ck_assert_uint_eq(item_nbytes(b), 6);
    ck_assert_int_eq(memcmp(item_key(b) + 1, "second", 6), 0);
    store_release(st, a);
    store_release(st, b);
    expect("r", NULL);
    put(STORE_SET, "big", big, 0, 0, 0, NULL);
    a = store_get(st, "big", 3);
    store_flush(st, 0);
    expect("big", NULL);
    ck_assert_uint_eq(item_nbytes(a), sizeof(big) - 1);
    store_release(st, a);
}
END_TEST

static void
large_roundtrip(size_t n, uint32_t flags)
{
    char *v = malloc(n + 1);
    char *got;
    size_t i;

    for (i = 0; i < n; i++) {
        v[i] = (char)('a' + (i * 7 + n) % 26);
    }
    v[n] = '\0';
    ck_assert_int_eq(put(STORE_SET, "large", v, flags, 0, 0, NULL), STORE_OK);
    got = getv("large");
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(strlen(got), n);
    ck_assert_int_eq(memcmp(got, v, n), 0);
    free(got);
    free(v);
}

START_TEST(test_chunked)
{
    size_t max = store_config(st)->item_size_max;
    /* memcached's item size must fit: 48-byte header, key "large" + NUL,
     * value + CRLF, the CAS */
    size_t lim = max - 48 - 5 - 1 - 2 -
                 (store_config(st)->use_cas ? 8 : 0);
    struct item *it;
    struct item_slice sl[2];
    char *v;

    large_roundtrip(600000, 0);
    large_roundtrip(524288, 1);
    large_roundtrip(524288 - 48 - 5 - 16, 0);
    large_roundtrip(lim, 0);
    large_roundtrip(lim - 4, 2);
    v = malloc(lim + 2);
    memset(v, 'x', lim + 1);
    v[lim + 1] = '\0';
    ck_assert_int_eq(put(STORE_SET, "large", v, 0, 0, 0, NULL),
                     STORE_TOO_LARGE);
    /* A failed set drops the old value, as memcached does. */
    expect("large", NULL);
    v[lim - 3] = '\0';
    ck_assert_int_eq(put(STORE_SET, "large", v, 2, 0, 0, NULL),
                     STORE_TOO_LARGE);
    /* Append growing a chunked value, then prepend. */
    large_roundtrip(700000, 0);
    ck_assert_int_eq(put(STORE_APPEND, "large", "TAIL", 0, 0, 0, NULL),
                     STORE_OK);
    ck_assert_int_eq(put(STORE_PREPEND, "large", "HEAD", 0, 0, 0, NULL),
                     STORE_OK);
    it = store_get(st, "large", 5);
    ck_assert_uint_eq(item_nbytes(it), 700008);
    ck_assert_uint_ge(item_value(it, sl, 2), 2);
    ck_assert_int_eq(memcmp(sl[0].ptr, "HEAD", 4), 0);
    store_release(st, it);
    free(v);
    v = getv("large");
    ck_assert_int_eq(memcmp(v + 700004, "TAIL", 4), 0);
    free(v);
    {
        struct store_arith a = {.incr = true, .delta = 1};

        ck_assert_int_eq(store_arith(st, "large", 5, &a), STORE_NON_NUMERIC);
    }
}
END_TEST

/* Fill a 64 MiB store far past its size with 32-byte keys and 100-byte
 * values: the newest items stay, evictions are counted, and the count of
 * survivors gives items per MiB. */
START_TEST(test_evict_density)
{
    char key[33], val[101];
    long total = 600000, i, present = 0, newest_missing = 0;

    memset(val, 'v', 100);
    val[100] = '\0';
    for (i = 0; i < total; i++) {
        snprintf(key, sizeof(key), "key:%028ld", i);
        ck_assert_int_eq(put(STORE_SET, key, val, 0, 0, 0, NULL), STORE_OK);
    }
    for (i = 0; i < total; i++) {
        struct item *it;

        snprintf(key, sizeof(key), "key:%028ld", i);
        it = store_get(st, key, 32);
        if (it != NULL) {
            present++;
            store_release(st, it);
        } else if (i >= total - 1000) {
            newest_missing++;
        }
    }
    ck_assert_int_eq(newest_missing, 0);
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), present);
    ck_assert_int_eq(stat_get(store_stats, "evictions"), total - present);
    ck_assert_int_eq(stat_get(store_stats, "evicted_unfetched"),
                     total - present);
    ck_assert_int_eq(stat_get(store_stats_items, "items:4:evicted"),
                     total - present);
    fprintf(stderr, "items per MiB (32-byte key, 100-byte value, -m 64): "
            "%.1f (%ld items)\n", present / 64.0, present);
    ck_assert_int_ge(present / 64, 5400);
    ck_assert_int_le(stat_get(store_stats_slabs, "total_malloced"),
                     64L << 20);
}
END_TEST

START_TEST(test_no_evict)
{
    struct store *s2 = mkstore((size_t)2 << 20, false, true);
    char key[32], val[1000];
    int i, rc = STORE_OK, stored = 0;
    struct statbuf *b = calloc(1, sizeof(*b));

    memset(val, 'm', sizeof(val));
    for (i = 0; i < 10000 && rc == STORE_OK; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        rc = store_put(s2, STORE_SET, key, strlen(key), 0, 0, val,
                       sizeof(val), 0, NULL);
        if (rc == STORE_OK) {
            stored++;
        }
    }
    ck_assert_int_eq(rc, STORE_NO_MEMORY);
    ck_assert_int_gt(stored, 1000);
    /* Nothing evicted: the first item is still there. */
    {
        struct item *it = store_get(s2, "k0", 2);

        ck_assert_ptr_nonnull(it);
        store_release(s2, it);
    }
    /* Expired items are reclaimed even without eviction. */
    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ck_assert_int_eq(store_touch(s2, key, strlen(key), 1), STORE_OK);
    }
    clock_advance(clk, 2);
    ck_assert_int_eq(store_put(s2, STORE_SET, "new", 3, 0, 0, val,
                               sizeof(val), 0, NULL),
                     STORE_OK);
    store_stats(s2, stat_emit, b);
    for (i = 0; i < b->n; i++) {
        if (strcmp(b->names[i], "evictions") == 0) {
            ck_assert_str_eq(b->values[i], "0");
        }
        if (strcmp(b->names[i], "reclaimed") == 0) {
            ck_assert_str_eq(b->values[i], "1");
        }
    }
    free(b);
    store_destroy(s2);
}
END_TEST

START_TEST(test_mem_limit)
{
    struct store *s2 = mkstore((size_t)4 << 20, true, true);
    char key[32], val[1000];
    int i;

    memset(val, 'm', sizeof(val));
    ck_assert_int_eq(store_set_mem_limit(s2, (size_t)8 << 20), STORE_OK);
    ck_assert_uint_eq(store_config(s2)->mem_limit, (size_t)8 << 20);
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ck_assert_int_eq(store_put(s2, STORE_SET, key, strlen(key), 0, 0,
                                   val, sizeof(val), 0, NULL),
                         STORE_OK);
    }
    ck_assert_int_eq(store_set_mem_limit(s2, (size_t)2 << 20),
                     STORE_NO_MEMORY);
    ck_assert_int_eq(store_put(s2, STORE_SET, "x", 1, 0, 0, val, sizeof(val),
                               0, NULL),
                     STORE_OK);
    store_destroy(s2);
}
END_TEST

/* store_read's copy for the tests: remembers what it saw. */
struct copied {
    int calls;
    char val[64];
    size_t len;
    uint32_t flags;
};

static void
copy_into(void *ctx, const struct item *it)
{
    struct copied *cp = ctx;
    struct item_slice sl[4];
    size_t n = item_value(it, sl, 4);

    ck_assert_uint_eq(n, 1);
    ck_assert_uint_le(sl[0].len, sizeof(cp->val));
    memcpy(cp->val, sl[0].ptr, sl[0].len);
    cp->len = sl[0].len;
    cp->flags = item_flags(it);
    cp->calls++;
}

START_TEST(test_read_copy)
{
    struct copied cp = {0};
    struct store_read r = {.copy_max = 16, .copy = copy_into, .ctx = &cp};
    struct item *it = (struct item *)&cp;
    char big[40];

    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put(STORE_SET, "small", "0123456789abcdef", 7, 0, 0, NULL);
    put(STORE_SET, "large", big, 8, 0, 0, NULL);
    /* at the limit: copied under the lock, no reference, *itp NULL */
    ck_assert_int_eq(store_read(st, "small", 5, &r, &it), STORE_READ_COPIED);
    ck_assert_ptr_null(it);
    ck_assert_int_eq(cp.calls, 1);
    ck_assert_uint_eq(cp.len, 16);
    ck_assert_int_eq(memcmp(cp.val, "0123456789abcdef", 16), 0);
    ck_assert_uint_eq(cp.flags, 7);
    /* past it: referenced, copy not called */
    ck_assert_int_eq(store_read(st, "large", 5, &r, &it), STORE_READ_REF);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(cp.calls, 1);
    ck_assert_uint_eq(item_nbytes(it), sizeof(big) - 1);
    store_release(st, it);
    ck_assert_int_eq(store_read(st, "none", 4, &r, &it), STORE_READ_MISS);
    ck_assert_ptr_null(it);
    /* no copy function: always referenced */
    r.copy = NULL;
    ck_assert_int_eq(store_read(st, "small", 5, &r, &it), STORE_READ_REF);
    store_release(st, it);
    /* a touch read sets the TTL and counts a touch, not a get */
    r.touch = true;
    r.exptime = -1;
    ck_assert_int_eq(store_read(st, "small", 5, &r, &it), STORE_READ_REF);
    store_release(st, it);
    expect("small", NULL);
    /* copied, referenced, referenced without copy: three gets */
    ck_assert_int_eq(stat_get(store_stats, "get_hits"), 3);
    ck_assert_int_eq(stat_get(store_stats, "touch_hits"), 1);
}
END_TEST

/* The 16-bit count must not wrap: past ITEM_REF_MAX a lookup misses, is
 * counted, and the item stays linked and intact. */
START_TEST(test_ref_limit)
{
    static struct item *held[ITEM_REF_MAX];
    struct item *it;
    int n = 0;

    put(STORE_SET, "hot", "value", 3, 0, 0, NULL);
    for (;;) {
        it = store_get(st, "hot", 3);
        if (it == NULL) {
            break;
        }
        ck_assert_int_lt(n, ITEM_REF_MAX);
        held[n++] = it;
    }
    /* one reference is the link's */
    ck_assert_int_eq(n, ITEM_REF_MAX - 1);
    ck_assert_ptr_null(store_get(st, "hot", 3));
    ck_assert_ptr_null(store_get_touch(st, "hot", 3, 0));
    ck_assert_int_eq(stat_get(store_stats, "ref_limit_misses"), 3);
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), 1);
    /* a copy read takes no reference: still answered */
    {
        struct copied cp = {0};
        struct store_read r = {.copy_max = 64, .copy = copy_into,
                               .ctx = &cp};

        ck_assert_int_eq(store_read(st, "hot", 3, &r, &it),
                         STORE_READ_COPIED);
        ck_assert_int_eq(memcmp(cp.val, "value", 5), 0);
    }
    for (int i = 0; i < n; i++) {
        store_release(st, held[i]);
    }
    expect("hot", "value");
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), 1);
}
END_TEST

/* Every storage command counts once in cmd_set, stored or not. */
START_TEST(test_cmd_set_once)
{
    put(STORE_SET, "a", "1", 0, 0, 0, NULL);
    put(STORE_ADD, "a", "1", 0, 0, 0, NULL);            /* not stored */
    put(STORE_APPEND, "missing", "1", 0, 0, 0, NULL);   /* not stored */
    put(STORE_APPEND, "a", "2", 0, 0, 0, NULL);
    put(STORE_CAS, "a", "3", 0, 0, 99999, NULL);        /* exists */
    ck_assert_int_eq(stat_get(store_stats, "cmd_set"), 5);
    ck_assert_int_eq(stat_get(store_stats, "cas_badval"), 1);
    ck_assert_int_eq(stat_get(store_stats, "cas_hits"), 0);
    store_stats_reset(st);
    ck_assert_int_eq(stat_get(store_stats, "cmd_set"), 0);
}
END_TEST

static void
names_in_order(void (*fn)(struct store *, store_emit_fn, void *),
               const char *const *want)
{
    struct statbuf *b = calloc(1, sizeof(*b));
    int i = 0, w = 0;

    fn(st, stat_emit, b);
    for (i = 0; i < b->n && want[w] != NULL; i++) {
        if (strcmp(b->names[i], want[w]) == 0) {
            w++;
        }
    }
    ck_assert_msg(want[w] == NULL, "stat %s missing or out of order", want[w]);
    free(b);
}

START_TEST(test_stats)
{
    static const char *const gen[] = {
        "get_expired", "get_flushed", "limit_maxbytes", "hash_power_level",
        "hash_bytes", "hash_is_expanding", "bytes", "curr_items",
        "total_items", "expired_unfetched", "evicted_unfetched", "evictions",
        "reclaimed", NULL};
    static const char *const items[] = {
        "items:1:number", "items:1:age", "items:1:evicted",
        "items:1:evicted_nonzero", "items:1:evicted_time",
        "items:1:outofmemory", "items:1:reclaimed",
        "items:1:expired_unfetched", "items:1:evicted_unfetched", NULL};
    static const char *const slabs[] = {
        "1:chunk_size", "1:chunks_per_page", "1:total_pages",
        "1:total_chunks", "1:used_chunks", "1:free_chunks",
        "1:free_chunks_end", "1:get_hits", "1:cmd_set", "1:delete_hits",
        "1:incr_hits", "1:decr_hits", "1:cas_hits", "1:cas_badval",
        "1:touch_hits", "active_slabs", "total_malloced", NULL};
    char v100[101];

    memset(v100, 'x', 100);
    v100[100] = '\0';
    put(STORE_SET, "a", "10", 0, 0, 0, NULL);
    put(STORE_SET, "b", v100, 5, 0, 0, NULL);
    expect("a", "10");
    expect("a", "10");
    names_in_order(store_stats, gen);
    names_in_order(store_stats_items, items);
    names_in_order(store_stats_slabs, slabs);
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), 2);
    ck_assert_int_eq(stat_get(store_stats, "total_items"), 2);
    ck_assert_int_eq(stat_get(store_stats, "limit_maxbytes"), 64 << 20);
    ck_assert_int_eq(stat_get(store_stats, "hash_power_level"), 16);
    ck_assert_int_eq(stat_get(store_stats, "hash_bytes"), 524288);
    ck_assert_int_eq(stat_get(store_stats, "bytes"),
                     (long long)(2 * store_item_overhead() + 2 + 2 + 4 + 100));
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:get_hits"), 2);
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:chunk_size"), 88);
    ck_assert_int_eq(stat_get(store_stats_slabs, "4:chunk_size"), 184);
    ck_assert_int_eq(stat_get(store_stats_slabs, "4:cmd_set"), 1);
    ck_assert_int_eq(stat_get(store_stats_slabs, "4:used_chunks"), 1);
    ck_assert_int_eq(stat_get(store_stats_slabs, "active_slabs"), 2);
    ck_assert_int_eq(stat_get(store_stats_slabs, "total_malloced"), 2 << 20);
    ck_assert_int_eq(stat_get(store_stats_items, "items:2:number"), -1);
    store_stats_reset(st);
    ck_assert_int_eq(stat_get(store_stats_slabs, "1:get_hits"), 0);
    ck_assert_int_eq(stat_get(store_stats, "total_items"), 0);
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), 2);
}
END_TEST

START_TEST(test_crawler)
{
    char key[32];
    int i;

    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        put(STORE_SET, key, "v", 0, i % 2 ? 10 : 0, 0, NULL);
    }
    clock_advance(clk, 11);
    /* The background walker (not running here) does what store_crawl
     * does; check_lru runs the real thread. */
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), 5000);
    ck_assert_uint_eq(store_crawl(st, true), 2500);
    ck_assert_int_eq(stat_get(store_stats, "curr_items"), 2500);
    ck_assert_int_eq(stat_get(store_stats, "crawler_reclaimed"), 2500);
    ck_assert_int_eq(stat_get(store_stats, "expired_unfetched"), 2500);
    expect("c0", "v");
    expect("c1", NULL);
}
END_TEST

/* ---- concurrency ---------------------------------------------------- */

#define HAMMER_KEYS 16
#define HAMMER_THREADS 6
#define HAMMER_OPS 40000

/* Value: "<len>:<sum>:" header then payload; get verifies the checksum. */
static size_t
hammer_make(char *buf, unsigned seed)
{
    size_t n = 8 + seed % 700;
    unsigned sum = 0;
    size_t i, h;

    for (i = 0; i < n; i++) {
        buf[32 + i] = (char)('a' + (seed + i * 13) % 26);
        sum = sum * 31 + (unsigned char)buf[32 + i];
    }
    h = (size_t)snprintf(buf, 32, "%08zu:%010u:", n, sum);
    memmove(buf + h, buf + 32, n);
    return h + n;
}

static void
hammer_check(struct item *it)
{
    struct item_slice sl;
    unsigned sum = 0, want;
    size_t n, i;
    const char *p;

    ck_assert_uint_eq(item_value(it, &sl, 1), 1);
    p = sl.ptr;
    if (sl.len < 20 || p[8] != ':') {
        /* a counter value from incr */
        uint64_t v;

        ck_assert_int_eq(sscanf(p, "%lu", &v), 1);
        return;
    }
    ck_assert_int_eq(sscanf(p, "%08zu:%010u:", &n, &want), 2);
    ck_assert_uint_eq(n + 20, sl.len);
    for (i = 0; i < n; i++) {
        sum = sum * 31 + (unsigned char)p[20 + i];
    }
    ck_assert_uint_eq(sum, want);
}

static void *
hammer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    char buf[800];
    char key[16];
    int i;

    for (i = 0; i < HAMMER_OPS; i++) {
        unsigned r = seed = seed * 1103515245u + 12345u;
        unsigned op = (r >> 8) % 10;
        size_t nk = (size_t)snprintf(key, sizeof(key), "hk%u",
                                     (r >> 16) % HAMMER_KEYS);

        if (op < 5) {
            struct item *it = store_get(st, key, nk);

            if (it != NULL) {
                hammer_check(it);
                store_release(st, it);
            }
        } else if (op < 8) {
            size_t n = hammer_make(buf, r);

            store_put(st, op == 7 ? STORE_APPEND : STORE_SET, key, nk, 0,
                      0, buf, op == 7 ? 0 : n, 0, NULL);
        } else if (op == 8) {
            store_delete(st, key, nk, 0);
        } else {
            struct store_arith a = {.incr = true, .delta = 1,
                                    .create = true};
            int rc = store_arith(st, key, nk, &a);

            ck_assert(rc == STORE_OK || rc == STORE_NON_NUMERIC);
        }
    }
    return NULL;
}

START_TEST(test_concurrency)
{
    pthread_t th[HAMMER_THREADS];
    long i;

    for (i = 0; i < HAMMER_THREADS; i++) {
        pthread_create(&th[i], NULL, hammer, (void *)i);
    }
    for (i = 0; i < HAMMER_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    ck_assert_int_le(stat_get(store_stats, "curr_items"), HAMMER_KEYS);
}
END_TEST

/* Many threads incrementing one counter lose no update. */
static void *
incr_many(void *arg)
{
    int i;

    for (i = 0; i < 5000; i++) {
        struct store_arith a = {.incr = true, .delta = 1};

        ck_assert_int_eq(store_arith(st, "ctr", 3, &a), STORE_OK);
    }
    return NULL;
}

START_TEST(test_concurrent_incr)
{
    pthread_t th[4];
    int i;

    put(STORE_SET, "ctr", "0", 0, 0, 0, NULL);
    for (i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, incr_many, NULL);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    expect("ctr", "20000");
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("ops");
    TCase *tm = tcase_create("memory");
    TCase *tt = tcase_create("threads");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_set_get);
    tcase_add_test(tc, test_modes);
    tcase_add_test(tc, test_cas);
    tcase_add_test(tc, test_nocas);
    tcase_add_test(tc, test_staged);
    tcase_add_test(tc, test_arith);
    tcase_add_test(tc, test_arith_create_cas);
    tcase_add_test(tc, test_ttl);
    tcase_add_test(tc, test_flush);
    tcase_add_test(tc, test_refcount);
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_read_copy);
    tcase_add_test(tc, test_ref_limit);
    tcase_add_test(tc, test_cmd_set_once);
    tcase_add_test(tc, test_crawler);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(tm, setup, teardown);
    tcase_set_timeout(tm, 120);
    tcase_add_test(tm, test_chunked);
    tcase_add_test(tm, test_evict_density);
    tcase_add_test(tm, test_no_evict);
    tcase_add_test(tm, test_mem_limit);
    suite_add_tcase(s, tm);

    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_set_timeout(tt, 300);
    tcase_add_test(tt, test_concurrency);
    tcase_add_test(tt, test_concurrent_incr);
    suite_add_tcase(s, tt);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(store_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
