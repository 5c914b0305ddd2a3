/*
 * lease.h -- the store side of memcached's meta commands: single-flight
 * leases (win tokens), stale-while-revalidate and the flags plain store_*
 * calls cannot express.
 *
 * Each operation is one read-decide-modify step under one item lock, so a
 * win token (W) is handed out at most once per item state however many
 * clients ask at the same instant.  The lease state lives in two bits of
 * the item (ITEM_WON, ITEM_STALE in slab/item_layout.h):
 *
 *   mg N on a miss        -> empty placeholder, WON; the caller gets W
 *   mg on a WON item      -> Z (someone else is refreshing)
 *   ms C<cas> (match)     -> a fresh item: no WON, no STALE (lease over)
 *   md I [T]              -> STALE, WON cleared, CAS bumped in place
 *   mg on STALE, !WON     -> X W (one caller), later readers X Z
 *   mg R<s>, TTL left < s -> W once to refresh early, others keep reading
 *   ms C<older cas> I     -> stale fill: STALE kept, WON copied, TTL kept
 *
 * The lease token is the item's CAS.  A winner that dies leaves the
 * placeholder (or stale item) to expire with its TTL; the next mg N then
 * vivifies again.  Semantics follow memcached 1.6.18; E (explicit CAS) and
 * md x follow later memcached releases.
 *
 * Expiry arguments are as the client sent them (see slab/store.h).  Items
 * returned carry a reference: give it back with store_release().  This
 * module is part of slab/ and includes nothing from proto/ or daemon/.
 */
#ifndef STASHD_SLAB_LEASE_H
#define STASHD_SLAB_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slab/store.h"

struct item;
struct store;

/* Longest TTL program (see lease_get.order): T N R t, once each. */
#define LEASE_ORDER_MAX 4

/*
 * mg.  `order` lists the TTL-related flags the client sent, in its order,
 * as a NUL-terminated string of 'T' (set TTL), 'N' (vivify on miss, and
 * set the TTL of the item so created), 'R' (recache test) and 't' (report
 * the TTL left): memcached applies and reports them while walking the
 * tokens, so `mg k t T60` reports the TTL before the touch.
 */
struct lease_get {
    /* in */
    char order[LEASE_ORDER_MAX + 1];
    int64_t touch_exptime;      /* T */
    int64_t vivify_exptime;     /* N */
    int64_t recache_exptime;    /* R: an expiry, converted as for T */
    uint64_t new_cas;           /* E: CAS of a vivified item, 0 = next */
    bool no_bump;               /* u: no LRU bump, no fetched mark */
    bool no_win;                /* grant no W (the caller answers an
                                 * error: memcached marks a token as sent
                                 * only in a reply that carries it) */
    bool defer_count;           /* the caller counts the hit itself with
                                 * lease_count() (an mg w that parks runs
                                 * again: only its answered run counts) */
    size_t copy_max;            /* an existing item's value up to this many
                                 * bytes goes to copy, unreferenced */
    store_copy_fn copy;         /* NULL: always reference; runs under the
                                 * item lock after the outs below are set */
    void *ctx;
    bool copied;                /* out: copy ran, NULL returned */
    /* out, valid when an item is returned */
    bool created;               /* vivified by this call */
    bool win;                   /* W: this caller holds the lease */
    bool lease_lost;            /* Z: a W was already handed out */
    bool stale;                 /* X */
    bool touched;               /* T was applied (count as a touch) */
    bool fetched_before;        /* h, as before this request */
    uint32_t idle_before;       /* l: seconds since the last access */
    int64_t ttl_left;           /* t: -1 never, else seconds (wraps as
                                 * memcached's unsigned print when past) */
    uint64_t cas;               /* the item's CAS, read under the lock */
    int64_t ttl_now;            /* TTL left after this call, -1 never
                                 * (whether or not t was asked) */
};

/*
 * Look key up, vivifying and granting the lease as described above.
 * Returns a referenced item, or NULL: with g->copied when copy took the
 * value, else with *status STORE_NOT_FOUND (miss without N, or the item
 * holds ITEM_REF_MAX references), STORE_NO_MEMORY or STORE_TOO_LARGE (N
 * could not allocate).
 */
struct item *lease_get(struct store *s, const char *key, size_t nkey,
                       struct lease_get *g, int *status);

/* Count the hit of a lease_get made with defer_count (it referenced). */
void lease_count(struct store *s, const struct item *it, bool touched);

/* ms with I (stale fill) or E (explicit CAS); other ms use store_put. */
struct lease_put {
    enum store_mode mode;
    uint32_t flags;
    int64_t exptime;
    const void *val;
    size_t vlen;
    uint64_t cas_in;            /* C (STORE_CAS, or checked on concat) */
    bool stale_ok;              /* I: a lower CAS stores a stale value */
    uint64_t new_cas;           /* E: 0 = next */
    uint64_t cas_out;           /* out: CAS of the stored item */
    struct item *staged;        /* the value already in an item from
                                 * store_item_new (flags, exptime set
                                 * there; val/vlen unused); consumed */
};

/* STORE_OK, STORE_NOT_STORED, STORE_EXISTS, STORE_NOT_FOUND,
 * STORE_TOO_LARGE, STORE_NO_MEMORY, as store_put. */
int lease_put(struct store *s, const char *key, size_t nkey,
              struct lease_put *p);

/* md with I, x or E; a plain md uses store_delete. */
struct lease_delete {
    uint64_t cas_in;            /* C: must match; 0 none */
    bool invalidate;            /* I: mark stale, clear WON, bump CAS */
    bool touch;                 /* T given */
    int64_t exptime;            /* T: TTL of the x tombstone / with I */
    bool remove_value;          /* x: replace with an empty item */
    uint32_t flags;             /* F: client flags of the x item */
    uint64_t new_cas;           /* E: CAS given by I or x, 0 = default */
};

/* STORE_OK (deleted, emptied or invalidated), STORE_NOT_FOUND,
 * STORE_EXISTS, STORE_NO_MEMORY / STORE_TOO_LARGE (x could not
 * allocate). */
int lease_delete(struct store *s, const char *key, size_t nkey,
                 const struct lease_delete *d);

/*
 * ma: store_arith plus the meta TTL program (order over 'T' 'N' 't', as
 * for lease_get; N's TTL applies to a created item) and E.  a.create and
 * a.initial come from N and J; a.create_exptime is unused (N's TTL is
 * vivify_exptime, applied where N stands in order).
 */
struct lease_arith {
    struct store_arith a;
    char order[LEASE_ORDER_MAX + 1];
    int64_t touch_exptime;      /* T */
    int64_t vivify_exptime;     /* N */
    uint64_t new_cas;           /* E: 0 = next */
    int64_t ttl_left;           /* out: t */
};

/* STORE_OK, STORE_NOT_FOUND, STORE_NON_NUMERIC, STORE_EXISTS,
 * STORE_NO_MEMORY, as store_arith. */
int lease_arith(struct store *s, const char *key, size_t nkey,
                struct lease_arith *la);

/* me: what memcached's meta debug prints. */
struct lease_meta {
    int64_t ttl_left;           /* -1 never */
    uint32_t idle;              /* seconds since last access */
    uint64_t cas;
    bool fetched;
    unsigned slab_class;
    size_t size;                /* memcached's item size for the same item */
};

/* Referenced live item, or NULL; changes nothing (no bump, no fetched
 * mark, no access time). */
struct item *lease_peek(struct store *s, const char *key, size_t nkey,
                        struct lease_meta *m);

#endif
