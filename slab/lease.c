/*
 * lease.c -- meta command operations on the store (slab/lease.h).
 *
 * Every function here is one critical section under the key's item lock
 * (hash shard mutex), built from the locked helpers of store_int.h, and
 * follows the lock order written in store.c (item -> LRU -> slab class).
 * The lease bits ITEM_WON and ITEM_STALE are read and written only under
 * the item lock, so deciding a win and recording it is atomic with respect
 * to every other request on the key.
 *
 * md I changes the live item in place (stale bit, CAS), as memcached does:
 * the item keeps its value, LRU position and access time, and holders of a
 * reference see the new CAS through a relaxed 64-bit store.
 */
#include "slab/lease.h"

#include <string.h>

#include "slab/item.h"
#include "slab/store_int.h"

/* The TTL left as memcached's t prints it: -1 for never, else the
 * difference as an unsigned 32-bit number (a past expiry wraps). */
static int64_t
lease_ttl(rel_time_t exp, rel_time_t now)
{
    if (exp == 0) {
        return -1;
    }
    return (int64_t)(uint32_t)(exp - now);
}

/*
 * A client-chosen CAS (E) must not outlive flush_all, which invalidates
 * every CAS below the counter's next value: keep the counter at or above
 * every explicit CAS handed out.  Returns cas.
 */
static uint64_t
lease_claim_cas(struct store *s, uint64_t cas)
{
    uint64_t cur = __atomic_load_n(&s->cas_seq, __ATOMIC_RELAXED);

    while (cur < cas &&
           !__atomic_compare_exchange_n(&s->cas_seq, &cur, cas, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return cas;
}

/* Link it in place of old with the client's CAS, or the next one (0). */
static void
lease_link_locked(struct store *s, uint64_t hv, struct item *it,
                  struct item *old, uint64_t cas)
{
    store_link_cas_locked(s, hv, it, old,
                          cas != 0 ? lease_claim_cas(s, cas) : 0);
}

static void
lease_set_cas(struct item *it, uint64_t cas)
{
    __atomic_store_n(&it->cas, cas, __ATOMIC_RELAXED);
}

struct item *
lease_get(struct store *s, const char *key, size_t nkey, struct lease_get *g,
          int *status)
{
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    rel_time_t exp, atime;
    struct item *it;
    uint8_t iflags;
    bool win = false;
    bool copy = false;

    g->created = false;
    g->copied = false;
    g->win = false;
    g->lease_lost = false;
    g->stale = false;
    g->touched = false;
    g->ttl_left = -1;
    *status = STORE_OK;
    if (nkey == 0 || nkey > STORE_KEY_MAX) {
        *status = STORE_NOT_FOUND;
        return NULL;
    }
    hash_lock(s->hash, hv);
    it = store_find_locked(s, hv, key, nkey, now);
    if (it == NULL) {
        if (strchr(g->order, 'N') == NULL) {
            hash_unlock(s->hash, hv);
            *status = STORE_NOT_FOUND;
            return NULL;
        }
        /* The placeholder: empty, flags 0, no expiry until N's place in
         * the walk below sets it.  The allocation's reference becomes the
         * caller's. */
        it = store_item_alloc(s, key, nkey, 0, 0, status);
        if (it == NULL) {
            hash_unlock(s->hash, hv);
            return NULL;
        }
        lease_link_locked(s, hv, it, NULL, g->new_cas);
        g->created = true;
    } else if (g->copy != NULL && item_nbytes(it) <= g->copy_max) {
        copy = true;
    } else if (!store_ref_take(s, it)) {
        hash_unlock(s->hash, hv);
        *status = STORE_NOT_FOUND;
        return NULL;
    }

    iflags = item_iflags(it);
    atime = item_get_atime(it);
    g->fetched_before = (iflags & ITEM_FETCHED) != 0;
    g->idle_before = now > atime ? now - atime : 0;

    exp = item_get_exptime(it);
    for (const char *op = g->order; *op != '\0'; op++) {
        switch (*op) {
        case 'T':
            exp = clock_exptime(s->clk, g->touch_exptime);
            store_set_exptime_locked(s, it, exp);
            g->touched = true;
            break;
        case 'N':
            if (g->created) {
                exp = clock_exptime(s->clk, g->vivify_exptime);
                store_set_exptime_locked(s, it, exp);
                win = true;
            }
            break;
        case 'R':
            /* R is converted like any expiry (memcached does the same):
             * over 30 days it is an absolute unix time, so R10000000 is
             * in 1970 and never wins; 0 and negative never win either */
            if (!(iflags & ITEM_WON) && !g->created && exp != 0 &&
                exp < clock_exptime(s->clk, g->recache_exptime)) {
                win = true;
            }
            break;
        case 't':
            g->ttl_left = lease_ttl(exp, now);
            break;
        default:
            break;
        }
    }

    /* Z and W never go together: Z comes from the state on entry, and a
     * win is only granted when no token was out. */
    g->lease_lost = (iflags & ITEM_WON) != 0;
    g->stale = (iflags & ITEM_STALE) != 0;
    if (g->stale && !g->lease_lost) {
        win = true;
    }
    if (win && !g->no_win) {
        item_set_iflag(it, ITEM_WON);
        g->win = true;
    }
    if (!g->no_bump) {
        store_hit_locked(s, it, now);
    }
    g->cas = item_cas(it);
    g->ttl_now = exp == 0 ? -1 : (exp > now ? (int64_t)(exp - now) : 0);
    if (!g->defer_count) {
        store_ctr_add(s, item_clsid(it),
                      g->touched ? CTR_TOUCH_HITS : CTR_GET_HITS);
    }
    if (copy) {
        /* with the lock still held: the item stays valid unreferenced */
        g->copied = true;
        g->copy(g->ctx, it);
        it = NULL;
    }
    hash_unlock(s->hash, hv);
    return it;
}

void
lease_count(struct store *s, const struct item *it, bool touched)
{
    store_ctr_add(s, item_clsid(it), touched ? CTR_TOUCH_HITS : CTR_GET_HITS);
}

/* append/prepend with an explicit CAS; lock held, old live. */
static int
lease_concat_locked(struct store *s, uint64_t hv, struct item *old,
                    const char *key, size_t nkey, struct lease_put *p)
{
    size_t olen = item_nbytes(old);
    struct item *it;
    int status = STORE_OK;

    if (p->cas_in != 0 && item_cas(old) != p->cas_in) {
        return STORE_EXISTS;
    }
    it = store_item_alloc(s, key, nkey, item_flags(old), olen + p->vlen,
                          &status);
    if (it == NULL) {
        return STORE_NOT_STORED;    /* as store_concat */
    }
    store_value_copy(it, p->mode == STORE_APPEND ? 0 : p->vlen, old);
    if (p->staged != NULL) {
        store_value_copy(it, p->mode == STORE_APPEND ? olen : 0, p->staged);
    } else {
        store_value_write(it, p->mode == STORE_APPEND ? olen : 0, p->val,
                          p->vlen);
    }
    item_set_exptime(it, item_get_exptime(old));
    lease_link_locked(s, hv, it, old, p->new_cas);
    p->cas_out = item_cas(it);
    store_item_deref(s, it);
    return STORE_OK;
}

/* lease_put without counting; p->staged is set to NULL when it became the
 * new item; *clsid: the class to count cmd_set in (the new item's, else
 * the old one's, else 0). */
static int
lease_put_value(struct store *s, const char *key, size_t nkey,
                struct lease_put *p, unsigned *clsid)
{
    uint64_t hv;
    rel_time_t now;
    struct item *it = NULL, *old;
    int status = STORE_OK;

    p->cas_out = 0;
    if (nkey == 0 || nkey > STORE_KEY_MAX) {
        return STORE_TOO_LARGE;
    }
    hv = hash_key(key, nkey);
    now = clock_now(s->clk);
    if (p->mode == STORE_APPEND || p->mode == STORE_PREPEND) {
        if (store_mc_ntotal(s, nkey, p->flags != 0, p->vlen) >
            s->cfg.item_size_max) {
            /* as store_put: the block alone is over -I */
            return STORE_TOO_LARGE;
        }
        hash_lock(s->hash, hv);
        old = store_find_locked(s, hv, key, nkey, now);
        if (old != NULL) {
            *clsid = item_clsid(old);
        }
        status = old == NULL ? STORE_NOT_STORED
                             : lease_concat_locked(s, hv, old, key, nkey, p);
        hash_unlock(s->hash, hv);
        return status;
    }

    if (p->staged != NULL) {
        it = p->staged;
        p->staged = NULL;
        *clsid = item_clsid(it);
        goto link;
    }
    it = store_item_alloc(s, key, nkey, p->flags, p->vlen, &status);
    if (it == NULL) {
        if (p->mode == STORE_SET) {
            /* as store_put: a failed set leaves no old value behind */
            hash_lock(s->hash, hv);
            old = hash_find_locked(s->hash, hv, key, nkey);
            if (old != NULL) {
                store_unlink_locked(s, hv, old, false);
            }
            hash_unlock(s->hash, hv);
        }
        return status;
    }
    store_value_write(it, 0, p->val, p->vlen);
    item_set_exptime(it, clock_exptime(s->clk, p->exptime));
    *clsid = item_clsid(it);

link:
    hash_lock(s->hash, hv);
    old = store_find_locked(s, hv, key, nkey, now);
    if (p->mode == STORE_CAS) {
        if (old == NULL) {
            status = STORE_NOT_FOUND;
        } else if (s->cfg.use_cas && old->cas == p->cas_in) {
            store_ctr_add(s, item_clsid(old), CTR_CAS_HITS);
        } else if (s->cfg.use_cas && p->stale_ok && p->cas_in < old->cas) {
            /* A fill computed from older data: keep it, but as stale,
             * with the TTL and the lease of the item it replaces. */
            item_set_exptime(it, item_get_exptime(old));
            item_set_iflag(it, ITEM_STALE);
            if (item_iflags(old) & ITEM_WON) {
                item_set_iflag(it, ITEM_WON);
            }
            store_ctr_add(s, item_clsid(old), CTR_CAS_HITS);
        } else {
            store_ctr_add(s, item_clsid(old), CTR_CAS_BADVAL);
            status = STORE_EXISTS;
        }
    } else if (p->mode == STORE_ADD && old != NULL) {
        store_bump_locked(s, old, now);
        status = STORE_NOT_STORED;
    } else if (p->mode == STORE_REPLACE && old == NULL) {
        status = STORE_NOT_STORED;
    }
    if (status == STORE_OK) {
        lease_link_locked(s, hv, it, old, p->new_cas);
        p->cas_out = item_cas(it);
    }
    hash_unlock(s->hash, hv);
    store_item_deref(s, it);
    return status;
}

int
lease_put(struct store *s, const char *key, size_t nkey, struct lease_put *p)
{
    struct item *staged = p->staged;
    unsigned clsid = 0;
    int rc;

    if (staged != NULL) {
        p->vlen = item_nbytes(staged);
    }
    rc = lease_put_value(s, key, nkey, p, &clsid);
    /* every ms counts in cmd_set, stored or not, as store_put */
    store_ctr_add(s, clsid, CTR_CMD_SET);
    if (staged != NULL && p->staged != NULL) {
        /* not consumed as the new item: append/prepend or refused early */
        store_item_deref(s, staged);
    }
    return rc;
}

int
lease_delete(struct store *s, const char *key, size_t nkey,
             const struct lease_delete *d)
{
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    rel_time_t exp = d->touch ? clock_exptime(s->clk, d->exptime) : 0;
    struct item *it, *fresh = NULL;
    int status = STORE_OK;

    if (nkey == 0 || nkey > STORE_KEY_MAX) {
        return STORE_NOT_FOUND;
    }
    hash_lock(s->hash, hv);
    it = store_find_locked(s, hv, key, nkey, now);
    if (it == NULL) {
        hash_unlock(s->hash, hv);
        return STORE_NOT_FOUND;
    }
    if (d->cas_in != 0 && item_cas(it) != d->cas_in) {
        hash_unlock(s->hash, hv);
        return STORE_EXISTS;
    }
    if (d->remove_value) {
        /* An empty item in place of the old one, keeping its CAS. */
        fresh = store_item_alloc(s, key, nkey, d->flags, 0, &status);
        if (fresh == NULL) {
            hash_unlock(s->hash, hv);
            return status;
        }
        item_set_exptime(fresh, exp);
        /* (the old CAS is below the counter already) */
        lease_link_locked(s, hv, fresh, it,
                          d->new_cas != 0 ? d->new_cas : it->cas);
        it = fresh;
    }
    if (d->invalidate) {
        if (d->touch) {
            store_set_exptime_locked(s, it, exp);
        }
        item_set_iflag(it, ITEM_STALE);
        item_clear_iflag(it, ITEM_WON);
        lease_set_cas(it, d->new_cas != 0
                              ? lease_claim_cas(s, d->new_cas)
                              : __atomic_add_fetch(&s->cas_seq, 1,
                                                   __ATOMIC_RELAXED));
    } else {
        store_ctr_add(s, item_clsid(it), CTR_DELETE_HITS);
        if (!d->remove_value) {
            store_unlink_locked(s, hv, it, false);
        }
    }
    hash_unlock(s->hash, hv);
    if (fresh != NULL) {
        store_item_deref(s, fresh);
    }
    return STORE_OK;
}

/* Walk ma's TTL program over the resulting item; lock held. */
static void
lease_arith_ttl_locked(struct store *s, struct item *it,
                       struct lease_arith *la, rel_time_t now)
{
    rel_time_t exp = item_get_exptime(it);

    for (const char *op = la->order; *op != '\0'; op++) {
        switch (*op) {
        case 'T':
            exp = clock_exptime(s->clk, la->touch_exptime);
            store_set_exptime_locked(s, it, exp);
            break;
        case 'N':
            if (la->a.created) {
                exp = clock_exptime(s->clk, la->vivify_exptime);
                store_set_exptime_locked(s, it, exp);
            }
            break;
        case 't':
            la->ttl_left = lease_ttl(exp, now);
            break;
        default:
            break;
        }
    }
}

int
lease_arith(struct store *s, const char *key, size_t nkey,
            struct lease_arith *la)
{
    struct store_arith *a = &la->a;
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    struct item *old, *it;
    int status;

    a->created = false;
    la->ttl_left = -1;
    if (nkey == 0 || nkey > STORE_KEY_MAX) {
        return STORE_NOT_FOUND;
    }
    /* a created item starts with flags 0 and no TTL: N sets it below */
    a->create_flags = 0;
    a->create_exptime = 0;
    hash_lock(s->hash, hv);
    status = store_arith_locked(s, hv, key, nkey, now, a, &old, &it);
    if (status != STORE_OK) {
        hash_unlock(s->hash, hv);
        return status;
    }
    lease_link_locked(s, hv, it, old, la->new_cas);
    lease_arith_ttl_locked(s, it, la, now);
    a->cas = item_cas(it);
    hash_unlock(s->hash, hv);
    store_item_deref(s, it);
    return STORE_OK;
}

struct item *
lease_peek(struct store *s, const char *key, size_t nkey,
           struct lease_meta *m)
{
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    rel_time_t atime;
    struct item *it;
    uint8_t iflags;

    if (nkey == 0 || nkey > STORE_KEY_MAX) {
        return NULL;
    }
    hash_lock(s->hash, hv);
    it = store_find_locked(s, hv, key, nkey, now);
    if (it != NULL && !store_ref_take(s, it)) {
        it = NULL;
    }
    if (it != NULL) {
        iflags = item_iflags(it);
        atime = item_get_atime(it);
        m->ttl_left = lease_ttl(item_get_exptime(it), now);
        m->idle = now > atime ? now - atime : 0;
        m->cas = item_cas(it);
        m->fetched = (iflags & ITEM_FETCHED) != 0;
        m->slab_class = item_clsid(it);
        m->size = store_mc_ntotal(s, item_nkey_raw(it),
                                  (iflags & ITEM_CFLAGS) != 0,
                                  item_nbytes(it));
    }
    hash_unlock(s->hash, hv);
    return it;
}
