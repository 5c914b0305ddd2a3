/*
 * check_lease.c -- slab/lease.c: the single-flight state machine (vivify,
 * win, Z, stale, early recache, fills with and without I), TTL programs in
 * token order, md I/x/E, ma with T/N/t/E, me, and two races: many threads
 * vivifying one key get exactly one win, and md I racing a C fill never
 * lets a fill computed before the invalidation land as fresh data.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slab/clock.h"
#include "slab/item.h"
#include "slab/lease.h"
#include "slab/store.h"

static struct clock *clk;
static struct store *st;

static void
setup(void)
{
    struct store_config cfg;

    clk = clock_create();
    ck_assert_ptr_nonnull(clk);
    clock_freeze(clk);
    store_config_default(&cfg);
    cfg.lru_bg = false;
    cfg.lru_maintainer = false;
    st = store_create(&cfg, clk);
    ck_assert_ptr_nonnull(st);
}

static void
teardown(void)
{
    store_destroy(st);
    clock_destroy(clk);
}

/* mg with the given TTL program; returns the item (released here) state. */
struct got {
    bool hit, created, win, z, x, h;
    int64_t ttl;
    uint64_t cas;
    size_t vlen;
};

static struct got
mg(const char *key, const char *order, int64_t t, int64_t n, int64_t r)
{
    struct lease_get g;
    struct got out;
    struct item *it;
    int status;

    memset(&g, 0, sizeof(g));
    memset(&out, 0, sizeof(out));
    snprintf(g.order, sizeof(g.order), "%s", order);
    g.touch_exptime = t;
    g.vivify_exptime = n;
    g.recache_exptime = r;
    it = lease_get(st, key, strlen(key), &g, &status);
    if (it == NULL) {
        ck_assert_int_ne(status, STORE_OK);
        return out;
    }
    ck_assert_int_eq(status, STORE_OK);
    out.hit = true;
    out.created = g.created;
    out.win = g.win;
    out.z = g.lease_lost;
    out.x = g.stale;
    out.h = g.fetched_before;
    out.ttl = g.ttl_left;
    out.cas = g.cas;
    out.vlen = item_nbytes(it);
    ck_assert_uint_eq(out.cas, item_cas(it));
    store_release(st, it);
    return out;
}

static int
set(const char *key, const char *val, int64_t exp, uint64_t *cas)
{
    return store_put(st, STORE_SET, key, strlen(key), 0, exp, val,
                     strlen(val), 0, cas);
}

static int
fill(const char *key, const char *val, uint64_t cas_in, bool stale_ok,
     int64_t exp, uint64_t *cas_out)
{
    struct lease_put p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.mode = STORE_CAS;
    p.exptime = exp;
    p.val = val;
    p.vlen = strlen(val);
    p.cas_in = cas_in;
    p.stale_ok = stale_ok;
    rc = lease_put(st, key, strlen(key), &p);
    if (cas_out != NULL) {
        *cas_out = p.cas_out;
    }
    return rc;
}

static int
invalidate(const char *key, bool touch, int64_t exp)
{
    struct lease_delete d;

    memset(&d, 0, sizeof(d));
    d.invalidate = true;
    d.touch = touch;
    d.exptime = exp;
    return lease_delete(st, key, strlen(key), &d);
}

START_TEST(test_vivify_win_once)
{
    struct got a, b, c;

    a = mg("k", "N", 0, 30, 0);
    ck_assert(a.hit && a.created && a.win && !a.z && !a.x);
    ck_assert_uint_eq(a.vlen, 0);
    b = mg("k", "N", 0, 30, 0);
    ck_assert(b.hit && !b.created && !b.win && b.z);
    ck_assert_uint_eq(b.cas, a.cas);
    /* a plain mg sees Z too, and nothing is won */
    c = mg("k", "", 0, 0, 0);
    ck_assert(c.hit && !c.win && c.z);
    /* a miss without N stays a miss */
    ck_assert(!mg("other", "", 0, 0, 0).hit);
    ck_assert(!mg("other", "t", 0, 0, 0).hit);
}
END_TEST

START_TEST(test_fill_ends_lease)
{
    struct got a, b;
    uint64_t cas;

    a = mg("k", "N", 0, 30, 0);
    ck_assert(a.win);
    ck_assert_int_eq(fill("k", "v", a.cas + 1000, false, 60, NULL),
                     STORE_EXISTS);
    ck_assert_int_eq(fill("k", "val", a.cas, false, 60, &cas), STORE_OK);
    ck_assert_uint_ne(cas, a.cas);
    b = mg("k", "Nt", 0, 30, 0);
    ck_assert(b.hit && !b.win && !b.z && !b.x);
    ck_assert_uint_eq(b.vlen, 3);
    ck_assert_int_eq(b.ttl, 60);
}
END_TEST

START_TEST(test_invalidate_stale_rewin)
{
    struct got a, b, c;
    uint64_t cas0, cas;

    ck_assert_int_eq(set("k", "1", 100, &cas0), STORE_OK);
    ck_assert_int_eq(invalidate("k", false, 0), STORE_OK);
    a = mg("k", "t", 0, 0, 0);
    ck_assert(a.hit && a.x && a.win && !a.z);
    ck_assert_uint_gt(a.cas, cas0);
    ck_assert_int_eq(a.ttl, 100);
    b = mg("k", "N", 0, 30, 0);
    ck_assert(b.x && b.z && !b.win);
    /* the fill from before the invalidation is refused, */
    ck_assert_int_eq(fill("k", "2", cas0, false, 0, NULL), STORE_EXISTS);
    /* kept as stale with I: TTL and the lease stay */
    ck_assert_int_eq(fill("k", "2", cas0, true, 5, &cas), STORE_OK);
    c = mg("k", "t", 0, 0, 0);
    ck_assert(c.x && c.z && !c.win);
    ck_assert_int_eq(c.ttl, 100);
    ck_assert_uint_eq(c.cas, cas);
    /* a higher unknown CAS is refused even with I */
    ck_assert_int_eq(fill("k", "3", cas + 1000, true, 0, NULL),
                     STORE_EXISTS);
    /* md I T sets the TTL and clears the won mark */
    ck_assert_int_eq(invalidate("k", true, 7), STORE_OK);
    c = mg("k", "t", 0, 0, 0);
    ck_assert(c.x && c.win && !c.z);
    ck_assert_int_eq(c.ttl, 7);
    ck_assert_int_eq(invalidate("missing", false, 0), STORE_NOT_FOUND);
}
END_TEST

START_TEST(test_stale_fill_unwon)
{
    uint64_t cas0;
    struct got a;

    ck_assert_int_eq(set("k", "1", 0, &cas0), STORE_OK);
    ck_assert_int_eq(invalidate("k", false, 0), STORE_OK);
    ck_assert_int_eq(fill("k", "2", cas0, true, 0, NULL), STORE_OK);
    a = mg("k", "", 0, 0, 0);
    ck_assert(a.x && a.win && !a.z);
}
END_TEST

START_TEST(test_recache)
{
    struct got a;

    ck_assert_int_eq(set("k", "1", 100, NULL), STORE_OK);
    ck_assert(!mg("k", "R", 0, 0, 30).win);
    a = mg("k", "R", 0, 0, 200);
    ck_assert(a.win && !a.z);
    a = mg("k", "R", 0, 0, 200);
    ck_assert(!a.win && a.z && !a.x);
    /* a fresh item clears the mark */
    ck_assert_int_eq(set("k", "1", 100, NULL), STORE_OK);
    ck_assert(mg("k", "R", 0, 0, 200).win);
    /* R is an expiry: over 30 days an absolute time, here 1970 */
    ck_assert_int_eq(set("a", "1", 100, NULL), STORE_OK);
    ck_assert(!mg("a", "R", 0, 0, 10000000).win);
    ck_assert(!mg("a", "R", 0, 0, -1).win);
    ck_assert(mg("a", "R", 0, 0, (int64_t)time(NULL) + 200).win);
    /* never-expiring items never win early */
    ck_assert_int_eq(set("n", "1", 0, NULL), STORE_OK);
    ck_assert(!mg("n", "R", 0, 0, 200).win);
    /* as time passes the window opens */
    ck_assert_int_eq(set("w", "1", 40, NULL), STORE_OK);
    ck_assert(!mg("w", "R", 0, 0, 30).win);
    clock_advance(clk, 15);
    ck_assert(mg("w", "R", 0, 0, 30).win);
}
END_TEST

START_TEST(test_ttl_order)
{
    /* memcached applies T and N and reports t while walking the tokens */
    ck_assert_int_eq(mg("a", "TNt", 90, 30, 0).ttl, 30);
    ck_assert_int_eq(mg("b", "NTt", 90, 30, 0).ttl, 90);
    ck_assert_int_eq(mg("c", "tN", 0, 30, 0).ttl, -1);
    ck_assert_int_eq(mg("c", "t", 0, 0, 0).ttl, 30);
    ck_assert_int_eq(set("d", "1", 100, NULL), STORE_OK);
    ck_assert_int_eq(mg("d", "tT", 60, 0, 0).ttl, 100);
    ck_assert_int_eq(mg("d", "t", 0, 0, 0).ttl, 60);
    /* N on a hit changes nothing */
    ck_assert_int_eq(mg("d", "Nt", 0, 5, 0).ttl, 60);
}
END_TEST

START_TEST(test_fetched_and_nobump)
{
    struct lease_get g;
    struct item *it;
    int status;

    ck_assert_int_eq(set("k", "1", 0, NULL), STORE_OK);
    memset(&g, 0, sizeof(g));
    g.no_bump = true;
    it = lease_get(st, "k", 1, &g, &status);
    ck_assert_ptr_nonnull(it);
    ck_assert(!g.fetched_before);
    store_release(st, it);
    ck_assert(!mg("k", "", 0, 0, 0).h);
    ck_assert(mg("k", "", 0, 0, 0).h);
    /* a vivified item counts as fetched by its creator */
    ck_assert(!mg("v", "N", 0, 30, 0).h);
    ck_assert(mg("v", "", 0, 0, 0).h);
}
END_TEST

START_TEST(test_flush_and_delete_end_lease)
{
    struct got a;

    a = mg("k", "N", 0, 30, 0);
    ck_assert(a.win);
    store_flush(st, 0);
    ck_assert_int_eq(fill("k", "v", a.cas, false, 0, NULL), STORE_NOT_FOUND);
    ck_assert(!mg("k", "", 0, 0, 0).hit);
    a = mg("k", "N", 0, 30, 0);
    ck_assert(a.win && a.created);
    ck_assert_int_eq(store_delete(st, "k", 1, 0), STORE_OK);
    ck_assert_int_eq(fill("k", "v", a.cas, false, 0, NULL), STORE_NOT_FOUND);
}
END_TEST

START_TEST(test_dead_winner_expires)
{
    struct got a;

    ck_assert(mg("k", "N", 0, 2, 0).win);
    ck_assert(mg("k", "N", 0, 2, 0).z);
    clock_advance(clk, 3);
    a = mg("k", "N", 0, 2, 0);
    ck_assert(a.win && a.created && !a.z);
}
END_TEST

START_TEST(test_explicit_cas)
{
    uint64_t cas;
    struct lease_get g;
    struct lease_put p;
    struct lease_delete d;
    struct item *it;
    int status;

    memset(&g, 0, sizeof(g));
    strcpy(g.order, "N");
    g.vivify_exptime = 30;
    g.new_cas = 100;
    it = lease_get(st, "k", 1, &g, &status);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(g.cas, 100);
    store_release(st, it);

    memset(&p, 0, sizeof(p));
    p.mode = STORE_CAS;
    p.val = "ab";
    p.vlen = 2;
    p.cas_in = 100;
    p.new_cas = 5;
    ck_assert_int_eq(lease_put(st, "k", 1, &p), STORE_OK);
    ck_assert_uint_eq(p.cas_out, 5);
    p.mode = STORE_APPEND;
    p.cas_in = 5;
    p.new_cas = 6;
    ck_assert_int_eq(lease_put(st, "k", 1, &p), STORE_OK);
    ck_assert_uint_eq(p.cas_out, 6);
    ck_assert_uint_eq(mg("k", "", 0, 0, 0).vlen, 4);

    memset(&d, 0, sizeof(d));
    d.invalidate = true;
    d.new_cas = 9;
    ck_assert_int_eq(lease_delete(st, "k", 1, &d), STORE_OK);
    ck_assert_uint_eq(mg("k", "", 0, 0, 0).cas, 9);

    /* a CAS far above the counter: later CAS values pass it, and
     * flush_all still invalidates the item */
    memset(&p, 0, sizeof(p));
    p.mode = STORE_SET;
    p.val = "x";
    p.vlen = 1;
    p.new_cas = 1000000;
    ck_assert_int_eq(lease_put(st, "big", 3, &p), STORE_OK);
    ck_assert_uint_eq(p.cas_out, 1000000);
    memset(&d, 0, sizeof(d));
    d.invalidate = true;
    d.new_cas = 2000000;
    ck_assert_int_eq(lease_delete(st, "k", 1, &d), STORE_OK);
    ck_assert_int_eq(set("after", "1", 0, &cas), STORE_OK);
    ck_assert_uint_gt(cas, 2000000);
    store_flush(st, 0);
    ck_assert(!mg("big", "", 0, 0, 0).hit);
    ck_assert(!mg("k", "", 0, 0, 0).hit);
    ck_assert(!mg("after", "", 0, 0, 0).hit);
}
END_TEST

START_TEST(test_remove_value)
{
    struct lease_delete d;
    struct lease_meta m;
    uint64_t cas;
    struct item *it;
    struct got a;

    ck_assert_int_eq(set("k", "abc", 0, &cas), STORE_OK);
    memset(&d, 0, sizeof(d));
    d.remove_value = true;
    d.flags = 3;
    d.touch = true;
    d.exptime = 50;
    ck_assert_int_eq(lease_delete(st, "k", 1, &d), STORE_OK);
    it = lease_peek(st, "k", 1, &m);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(item_nbytes(it), 0);
    ck_assert_uint_eq(item_flags(it), 3);
    ck_assert_uint_eq(m.cas, cas);
    ck_assert_int_eq(m.ttl_left, 50);
    store_release(st, it);
    /* with I as well: empty, stale, unwon */
    d.invalidate = true;
    d.touch = false;
    ck_assert_int_eq(lease_delete(st, "k", 1, &d), STORE_OK);
    a = mg("k", "", 0, 0, 0);
    ck_assert(a.x && a.win && a.vlen == 0);
    d.cas_in = 1;
    ck_assert_int_eq(lease_delete(st, "k", 1, &d), STORE_EXISTS);
    /* plain (no I, no x) deletes */
    memset(&d, 0, sizeof(d));
    d.new_cas = 1;
    ck_assert_int_eq(lease_delete(st, "k", 1, &d), STORE_OK);
    ck_assert(!mg("k", "", 0, 0, 0).hit);
}
END_TEST

static int
ma(const char *key, const char *order, bool incr, uint64_t delta,
   bool create, uint64_t initial, int64_t t, int64_t n,
   struct lease_arith *la)
{
    memset(la, 0, sizeof(*la));
    snprintf(la->order, sizeof(la->order), "%s", order);
    la->a.incr = incr;
    la->a.delta = delta;
    la->a.create = create;
    la->a.initial = initial;
    la->touch_exptime = t;
    la->vivify_exptime = n;
    return lease_arith(st, key, strlen(key), la);
}

START_TEST(test_arith)
{
    struct lease_arith la;
    struct lease_meta m;
    struct item *it;

    ck_assert_int_eq(ma("c", "", true, 1, false, 0, 0, 0, &la),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(ma("c", "NTt", true, 1, true, 10, 90, 30, &la),
                     STORE_OK);
    ck_assert(la.a.created);
    ck_assert_uint_eq(la.a.value, 10);
    ck_assert_int_eq(la.ttl_left, 90);
    ck_assert_int_eq(ma("c", "Nt", true, 5, true, 10, 0, 30, &la),
                     STORE_OK);
    ck_assert(!la.a.created);
    ck_assert_uint_eq(la.a.value, 15);
    ck_assert_int_eq(la.ttl_left, 90);
    ck_assert_int_eq(ma("c", "", false, 100, false, 0, 0, 0, &la),
                     STORE_OK);
    ck_assert_uint_eq(la.a.value, 0);
    /* the shorter number keeps the old length, space padded */
    it = lease_peek(st, "c", 1, &m);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(item_nbytes(it), 2);
    store_release(st, it);
    ck_assert_int_eq(ma("t", "TNt", true, 1, true, 0, 90, 30, &la),
                     STORE_OK);
    ck_assert_int_eq(la.ttl_left, 30);
    ck_assert_int_eq(set("s", "abc", 0, NULL), STORE_OK);
    ck_assert_int_eq(ma("s", "", true, 1, false, 0, 0, 0, &la),
                     STORE_NON_NUMERIC);
    /* a placeholder is not a number either */
    ck_assert(mg("p", "N", 0, 30, 0).win);
    ck_assert_int_eq(ma("p", "", true, 1, true, 0, 0, 0, &la),
                     STORE_NON_NUMERIC);
    la.a.cas_in = 12345;
    memset(&la, 0, sizeof(la));
    la.a.incr = true;
    la.a.delta = 1;
    la.a.cas_in = 999999;
    ck_assert_int_eq(lease_arith(st, "c", 1, &la), STORE_EXISTS);
    memset(&la, 0, sizeof(la));
    la.a.incr = true;
    la.a.delta = 1;
    la.new_cas = 77;
    ck_assert_int_eq(lease_arith(st, "c", 1, &la), STORE_OK);
    ck_assert_uint_eq(la.a.cas, 77);
}
END_TEST

START_TEST(test_rate_limit_window)
{
    struct lease_arith la;
    int i;

    for (i = 1; i <= 5; i++) {
        ck_assert_int_eq(ma("rl", "N", true, 1, true, 1, 0, 10, &la),
                         STORE_OK);
        ck_assert_uint_eq(la.a.value, (uint64_t)i);
        ck_assert(la.a.created == (i == 1));
    }
    clock_advance(clk, 11);
    ck_assert_int_eq(ma("rl", "N", true, 1, true, 1, 0, 10, &la), STORE_OK);
    ck_assert(la.a.created);
    ck_assert_uint_eq(la.a.value, 1);
}
END_TEST

START_TEST(test_peek)
{
    struct lease_meta m;
    struct item *it;

    ck_assert_ptr_null(lease_peek(st, "foo", 3, &m));
    ck_assert_int_eq(set("foo", "1", 0, NULL), STORE_OK);
    it = lease_peek(st, "foo", 3, &m);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(m.ttl_left, -1);
    ck_assert(!m.fetched);
    /* memcached's size for key "foo", value "1", CAS on */
    ck_assert_uint_eq(m.size, 63);
    store_release(st, it);
    it = lease_peek(st, "foo", 3, &m);
    ck_assert(!m.fetched);
    store_release(st, it);
    mg("foo", "", 0, 0, 0);
    it = lease_peek(st, "foo", 3, &m);
    ck_assert(m.fetched);
    store_release(st, it);
}
END_TEST

/* ---- races ---------------------------------------------------------- */

#define RACE_THREADS 16
#define RACE_ROUNDS 200

static pthread_barrier_t race_barrier;
static unsigned race_wins[RACE_ROUNDS];
static unsigned race_z[RACE_ROUNDS];

static void *
race_vivify(void *arg)
{
    char key[32];
    int r;

    (void)arg;
    for (r = 0; r < RACE_ROUNDS; r++) {
        struct got g;

        snprintf(key, sizeof(key), "race%d", r);
        pthread_barrier_wait(&race_barrier);
        g = mg(key, "N", 0, 30, 0);
        ck_assert(g.hit);
        if (g.win) {
            __atomic_fetch_add(&race_wins[r], 1, __ATOMIC_RELAXED);
        }
        if (g.z) {
            __atomic_fetch_add(&race_z[r], 1, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

START_TEST(test_race_one_winner)
{
    pthread_t th[RACE_THREADS];
    int i;

    pthread_barrier_init(&race_barrier, NULL, RACE_THREADS);
    for (i = 0; i < RACE_THREADS; i++) {
        pthread_create(&th[i], NULL, race_vivify, NULL);
    }
    for (i = 0; i < RACE_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_barrier_destroy(&race_barrier);
    for (i = 0; i < RACE_ROUNDS; i++) {
        ck_assert_uint_eq(race_wins[i], 1);
        ck_assert_uint_eq(race_z[i], RACE_THREADS - 1);
    }
}
END_TEST

/* md I against a winner's fill computed before it: the fill either lands
 * before the invalidation (which then marks it stale) or gets EXISTS; the
 * key never ends up fresh with the old token's data. */
static uint64_t inv_token;

static void *
race_invalidate(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&race_barrier);
    ck_assert_int_eq(invalidate("k", false, 0), STORE_OK);
    return NULL;
}

START_TEST(test_race_invalidate_fill)
{
    int round, landed = 0, refused = 0;

    for (round = 0; round < 300; round++) {
        pthread_t th;
        struct got g;
        int rc;

        ck_assert_int_eq(store_delete(st, "k", 1, 0) == STORE_OK ||
                             round == 0,
                         1);
        g = mg("k", "N", 0, 30, 0);
        ck_assert(g.win);
        inv_token = g.cas;
        pthread_barrier_init(&race_barrier, NULL, 2);
        pthread_create(&th, NULL, race_invalidate, NULL);
        pthread_barrier_wait(&race_barrier);
        rc = fill("k", "computed", inv_token, false, 0, NULL);
        pthread_join(th, NULL);
        pthread_barrier_destroy(&race_barrier);
        g = mg("k", "", 0, 0, 0);
        ck_assert(g.hit);
        /* whichever came first, the final state is stale */
        ck_assert(g.x);
        if (rc == STORE_OK) {
            landed++;
            ck_assert_uint_eq(g.vlen, 8);
        } else {
            ck_assert_int_eq(rc, STORE_EXISTS);
            refused++;
            ck_assert_uint_eq(g.vlen, 0);
        }
    }
    ck_assert_int_eq(landed + refused, 300);
}
END_TEST

/* Eviction pressure: placeholders are ordinary items; once evicted the
 * token fills nothing and the next mg N vivifies a new lease. */
START_TEST(test_eviction)
{
    struct store_config cfg;
    struct store *small;
    struct store *saved = st;
    char key[32], val[1000];
    struct got a;
    int i, rc;

    store_config_default(&cfg);
    cfg.lru_bg = false;
    cfg.lru_maintainer = false;
    cfg.mem_limit = (size_t)2 << 20;
    small = store_create(&cfg, clk);
    ck_assert_ptr_nonnull(small);
    st = small;
    a = mg("lease", "N", 0, 300, 0);
    ck_assert(a.win);
    memset(val, 'x', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    for (i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "fill%d", i);
        ck_assert_int_eq(set(key, val, 0, NULL), STORE_OK);
    }
    rc = fill("lease", "v", a.cas, false, 0, NULL);
    if (rc == STORE_OK) {
        /* the placeholder survived (its class was not under pressure) */
        ck_assert(!mg("lease", "", 0, 0, 0).z);
    } else {
        ck_assert_int_eq(rc, STORE_NOT_FOUND);
        a = mg("lease", "N", 0, 300, 0);
        ck_assert(a.created && a.win);
    }
    /* leases keep working while everything else is evicted */
    for (i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "l%d", i);
        a = mg(key, "N", 0, 300, 0);
        ck_assert(a.created && a.win);
        snprintf(val, 20, "value%d", i);
        ck_assert_int_eq(fill(key, val, a.cas, false, 300, NULL), STORE_OK);
        snprintf(key, sizeof(key), "big%d", i);
        memset(val, 'y', sizeof(val) - 1);
        ck_assert_int_eq(set(key, val, 0, NULL), STORE_OK);
    }
    st = saved;
    store_destroy(small);
}
END_TEST

/* The store's "stats" value called name (-1 if absent). */
struct lstat {
    const char *name;
    long long v;
};

static void
lstat_emit(void *ctx, const char *name, const char *value)
{
    struct lstat *ls = ctx;

    if (strcmp(name, ls->name) == 0) {
        ls->v = atoll(value);
    }
}

static long long
lstat(const char *name)
{
    struct lstat ls = {name, -1};

    store_stats(st, lstat_emit, &ls);
    return ls.v;
}

struct lcopy {
    int calls;
    bool z;
    size_t vlen;
};

static void
lcopy_fn(void *ctx, const struct item *it)
{
    struct lcopy *lc = ctx;

    lc->calls++;
    lc->vlen = item_nbytes(it);
}

/* mg copies small values under the lock (no reference) and lets a caller
 * that may park count the hit itself, once. */
START_TEST(test_copy_and_deferred_count)
{
    struct lcopy lc = {0};
    struct lease_get g;
    struct item *it;
    int status;

    ck_assert_int_eq(store_put(st, STORE_SET, "k", 1, 0, 0, "abc", 3, 0,
                               NULL),
                     STORE_OK);
    memset(&g, 0, sizeof(g));
    g.copy = lcopy_fn;
    g.copy_max = 3;
    g.ctx = &lc;
    it = lease_get(st, "k", 1, &g, &status);
    ck_assert_ptr_null(it);
    ck_assert(g.copied);
    ck_assert_int_eq(status, STORE_OK);
    ck_assert_int_eq(lc.calls, 1);
    ck_assert_uint_eq(lc.vlen, 3);
    ck_assert_int_eq(lstat("get_hits"), 1);
    /* over copy_max: referenced as before */
    g.copy_max = 2;
    it = lease_get(st, "k", 1, &g, &status);
    ck_assert_ptr_nonnull(it);
    ck_assert(!g.copied);
    ck_assert_int_eq(lc.calls, 1);
    store_release(st, it);
    ck_assert_int_eq(lstat("get_hits"), 2);
    /* deferred: nothing counted until lease_count */
    memset(&g, 0, sizeof(g));
    g.defer_count = true;
    it = lease_get(st, "k", 1, &g, &status);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(lstat("get_hits"), 2);
    lease_count(st, it, false);
    store_release(st, it);
    ck_assert_int_eq(lstat("get_hits"), 3);
    /* a miss copies nothing */
    memset(&g, 0, sizeof(g));
    g.copy = lcopy_fn;
    g.copy_max = 100;
    g.ctx = &lc;
    ck_assert_ptr_null(lease_get(st, "none", 4, &g, &status));
    ck_assert(!g.copied);
    ck_assert_int_eq(status, STORE_NOT_FOUND);
    ck_assert_int_eq(lc.calls, 1);
}
END_TEST

static Suite *
lease_suite(void)
{
    Suite *s = suite_create("lease");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_vivify_win_once);
    tcase_add_test(tc, test_fill_ends_lease);
    tcase_add_test(tc, test_invalidate_stale_rewin);
    tcase_add_test(tc, test_stale_fill_unwon);
    tcase_add_test(tc, test_recache);
    tcase_add_test(tc, test_ttl_order);
    tcase_add_test(tc, test_fetched_and_nobump);
    tcase_add_test(tc, test_flush_and_delete_end_lease);
    tcase_add_test(tc, test_dead_winner_expires);
    tcase_add_test(tc, test_explicit_cas);
    tcase_add_test(tc, test_copy_and_deferred_count);
    tcase_add_test(tc, test_remove_value);
    tcase_add_test(tc, test_arith);
    tcase_add_test(tc, test_rate_limit_window);
    tcase_add_test(tc, test_peek);
    tcase_add_test(tc, test_race_one_winner);
    tcase_add_test(tc, test_race_invalidate_fill);
    tcase_add_test(tc, test_eviction);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(lease_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
