/*
 * process_meta.c -- the executor for meta commands (req->proto ==
 * PROTO_META): mg ms md ma mn me.
 *
 * process_request() hands every meta request here.  Each command maps onto
 * one store call: the plain store_* functions where they say everything
 * (ms and md without I/x/E), the lease_* operations of slab/lease.h
 * otherwise (mg always: it decides W/X/Z under the item lock).  Replies go
 * through meta_proto; statistics are counted as memcached 1.6.18 counts
 * them (an mg hit with T is a touch, a miss is a get miss, md I is neither
 * a delete hit nor a miss, a creating ma counts nothing, cmd_meta is not
 * counted).
 *
 * The server-side wait (daemon/wait.h) hooks in here: pm_get parks an mg
 * with w where it would answer Z, and every successful ms, md (I and x
 * included) and ma wakes the requests parked on its key.
 */
#include "daemon/process.h"

#include <stdio.h>
#include <string.h>

#include "daemon/detail.h"
#include "daemon/hotkeys.h"
#include "daemon/server.h"
#include "daemon/stats.h"
#include "daemon/wait.h"
#include "daemon/watch.h"
#include "proto/proto.h"
#include "proto/request.h"
#include "slab/item.h"
#include "slab/lease.h"
#include "slab/store.h"

struct pm {
    struct process_ctx *px;
    struct request *req;
    struct store *store;
    struct thread_stats *ts;
    struct item *staged;    /* a streamed value's item (process_store) */
    int staged_rc;          /* its store_item_new failure, else STORE_OK */
};

static bool
pm_has(const struct request *req, char flag)
{
    return (req->mflags & META_BIT(flag)) != 0;
}

static void
pm_reply(struct pm *x, struct result *res)
{
    meta_proto.reply(x->px->out, x->req, res);
}

static void
pm_reply_code(struct pm *x, enum res_code code)
{
    struct result res;

    memset(&res, 0, sizeof(res));
    res.code = (uint8_t)code;
    pm_reply(x, &res);
}

/*
 * The flags among `letters` the request carries, in the order the client
 * sent them, into order (NUL-terminated, at most LEASE_ORDER_MAX).  Only
 * the first letter of each token counts; the parser has already refused
 * repeated letters.
 */
static void
pm_order(const struct request *req, const char *letters, char *order)
{
    const char *s = req->mtokens;
    /* no flags: mtokens is NULL, and NULL + 0 is undefined (UBSan) */
    const char *end = s != NULL ? s + req->mtokens_len : NULL;
    unsigned n = 0;
    bool start = true;

    if (s != NULL) {
        for (; s < end && n < LEASE_ORDER_MAX; s++) {
            if (*s == ' ') {
                start = true;
                continue;
            }
            if (start && strchr(letters, *s) != NULL) {
                order[n++] = *s;
            }
            start = false;
        }
    }
    order[n] = '\0';
}

/* An mg hit's result from what lease_get reported. */
static void
pm_hit_result(const struct request *req, const struct lease_get *g,
              struct result *res)
{
    memset(res, 0, sizeof(*res));
    res->cas = g->cas;
    res->ttl_left = g->ttl_left;
    res->last_access = g->idle_before;
    res->fetched = g->fetched_before;
    res->win = g->win;
    res->stale = g->stale;
    res->lease_lost = g->lease_lost;
    res->key_binary = req->key_binary;
}

/* An mg being answered by lease_get's copy. */
struct pm_hit {
    struct pm *x;
    const struct lease_get *g;
};

/* lease_get's copy (item lock held): the reply, value copied. */
static void
pm_copy_hit(void *ctx, const struct item *it)
{
    struct pm_hit *h = ctx;
    struct result res;

    pm_hit_result(h->x->req, h->g, &res);
    process_reply_copy(h->x->px, &meta_proto, h->x->req, it, &res);
}

/*
 * pm_order() of the flags before the O token, for a request whose opaque
 * memcached refuses while walking its flags in order: those after it are
 * never applied.
 */
static void
pm_order_before_opaque(const struct request *req, const char *letters,
                       char *order)
{
    char all[LEASE_ORDER_MAX + 2];
    char with_o[LEASE_ORDER_MAX + 2];
    char *o;

    snprintf(with_o, sizeof(with_o), "%sO", letters);
    pm_order(req, with_o, all);
    o = strchr(all, 'O');
    if (o == NULL) {
        pm_order(req, letters, order);
        return;
    }
    *o = '\0';
    memcpy(order, all, strlen(all) + 1);
}

/*
 * An mg whose opaque is too long is answered with an error, but memcached
 * finds the error only while walking the flags, after the lookup: it has
 * vivified (N anywhere), and applied the flags before O (T, N's TTL), not
 * the ones after; it hands out no token, and when a flag made it lock the
 * item (N R T h l) it skips the LRU bump it would have made on answering.
 */
static void
pm_refused_opaque(const struct request *req, struct lease_get *g)
{
    pm_order_before_opaque(req, "TNRt", g->order);
    if ((req->mflags & META_BIT('N')) && strchr(g->order, 'N') == NULL) {
        /* still vivify, first, with no TTL (N's place is past O) */
        memmove(g->order + 1, g->order, strlen(g->order) + 1);
        g->order[0] = 'N';
        g->vivify_exptime = 0;
    }
    g->no_win = true;
    if (req->mflags & (META_BIT('N') | META_BIT('R') | META_BIT('T') |
                       META_BIT('h') | META_BIT('l'))) {
        g->no_bump = true;
    }
}

static void
pm_get(struct pm *x)
{
    struct request *req = x->req;
    struct lease_get g;
    struct pm_hit h = {x, &g};
    struct result res;
    struct item *it;
    int status;
    bool wait = req->wait_ms != 0;

    memset(&g, 0, sizeof(g));
    pm_order(req, "TNRt", g.order);
    g.touch_exptime = req->meta_ttl;
    g.vivify_exptime = req->vivify_ttl;
    g.recache_exptime = req->recache_ttl;
    g.new_cas = pm_has(req, 'E') ? req->new_cas : 0;
    g.no_bump = pm_has(req, 'u');
    if (req->opaque_len > REQ_OPAQUE_MAX) {
        pm_refused_opaque(req, &g);
    }
    if (wait) {
        /* it may park and run again: count only the run that answers,
         * and keep the item to decide after the lookup */
        g.defer_count = true;
    } else {
        g.copy = pm_copy_hit;
        g.copy_max = PROCESS_COPY_MAX;
        g.ctx = &h;
    }
    it = lease_get(x->store, req->key, req->nkey, &g, &status);
    if (it != NULL && wait) {
        if (g.lease_lost) {
            /* stashd's w: rather than answer Z, park until the lease
             * holder stores, the lease ends or the deadline passes; the
             * request then runs again from the top (daemon/wait.h) */
            uint32_t ttl =
                g.ttl_now < 0 ? WAIT_TTL_NEVER : (uint32_t)g.ttl_now;

            if (x->px->park(x->px->owner, req, req->key, req->nkey,
                            ttl) == 0) {
                store_release(x->store, it);
                return;
            }
        }
        lease_count(x->store, it, g.touched);
    }
    /* stats detail: stashd counts meta commands too (memcached 1.6.18
     * counts text and binary ones only) */
    detail_record(x->px->srv->detail, DETAIL_GET, req->key, req->nkey,
                  it != NULL || g.copied);
    hotkeys_note(x->px->hot, req->key, req->nkey, false);
    process_watch_fetch(x->px, req->key, req->nkey, it != NULL || g.copied);
    if (it == NULL && !g.copied) {
        /* memcached counts a miss as a get miss, with or without T; a
         * vivify that could not allocate is a miss too */
        STAT_INC(x->ts, cmd_get);
        STAT_INC(x->ts, get_misses);
        pm_reply_code(x, RES_MISS);
        return;
    }
    /* hits are counted by the store (touch_hits / get_hits) */
    if (g.touched) {
        STAT_INC(x->ts, cmd_touch);
    } else {
        STAT_INC(x->ts, cmd_get);
    }
    if (it != NULL) {
        pm_hit_result(req, &g, &res);
        process_reply_item(x->px, &meta_proto, req, x->store, it, &res);
    }
}

static void
pm_set(struct pm *x)
{
    struct request *req = x->req;
    struct result res;
    int rc;

    process_watch_lookup(x->px, req->key, req->nkey);
    memset(&res, 0, sizeof(res));
    if (x->staged_rc != STORE_OK) {
        rc = x->staged_rc;
    } else if (pm_has(req, 'I') || pm_has(req, 'E')) {
        struct lease_put p;

        memset(&p, 0, sizeof(p));
        p.mode = process_store_mode(req->mode);
        p.flags = req->flags;
        p.exptime = req->exptime;
        p.val = req->value;
        p.vlen = req->vlen;
        /* C0 compares too, as in pm_delete (ms C0 without I or E
         * takes the store_put path, which already does), but only in
         * CAS mode: memcached checks an append/prepend's CAS only when
         * it is nonzero */
        p.cas_in = pm_has(req, 'C') && req->cas == 0 && req->mode == REQ_CAS
                       ? UINT64_MAX
                       : req->cas;
        p.stale_ok = pm_has(req, 'I');
        p.new_cas = pm_has(req, 'E') ? req->new_cas : 0;
        p.staged = x->staged;
        rc = lease_put(x->store, req->key, req->nkey, &p);
        res.cas = p.cas_out;
    } else if (x->staged != NULL) {
        rc = store_item_commit(x->store, process_store_mode(req->mode),
                               x->staged, req->cas, &res.cas);
    } else {
        rc = store_put(x->store, process_store_mode(req->mode), req->key,
                       req->nkey, req->flags, req->exptime, req->value,
                       req->vlen, req->cas, &res.cas);
    }
    if (rc == STORE_TOO_LARGE || rc == STORE_NO_MEMORY) {
        /* as memcached (and process_parse_error for a block refused
         * early): an ms whose value could not be allocated drops the old
         * value whatever its mode */
        store_delete(x->store, req->key, req->nkey, 0);
        wait_wake(x->px->srv, req->key, req->nkey);
    }
    detail_record(x->px->srv->detail, DETAIL_SET, req->key, req->nkey,
                  false);
    res.code = process_stored(x->px, req, rc);
    pm_reply(x, &res);
}

static void
pm_delete(struct pm *x)
{
    struct request *req = x->req;
    bool invalidate = pm_has(req, 'I');
    /* md C0 compares too (memcached: any C is a compare), and no live
     * item has CAS 0 with CAS enabled; the all-ones stand-in is never
     * handed out either */
    uint64_t cas = pm_has(req, 'C') && req->cas == 0 ? UINT64_MAX : req->cas;
    struct store_peek pk;
    bool watched = process_watch_peek(x->px, req->key, req->nkey, &pk);
    int rc;

    process_watch_lookup(x->px, req->key, req->nkey);
    if (invalidate || pm_has(req, 'x') || pm_has(req, 'E')) {
        struct lease_delete d;

        memset(&d, 0, sizeof(d));
        d.cas_in = cas;
        d.invalidate = invalidate;
        d.touch = pm_has(req, 'T');
        d.exptime = req->meta_ttl;
        d.remove_value = pm_has(req, 'x');
        d.flags = req->flags;
        d.new_cas = pm_has(req, 'E') ? req->new_cas : 0;
        rc = lease_delete(x->store, req->key, req->nkey, &d);
    } else {
        rc = store_delete(x->store, req->key, req->nkey, cas);
    }
    detail_record(x->px->srv->detail, DETAIL_DEL, req->key, req->nkey,
                  false);
    switch (rc) {
    case STORE_OK:
        /* delete_hits is the store's (md I counts none) */
        if (watched) {
            watch_delete(x->px->srv->watch, req->key, req->nkey, "md",
                         pk.clsid, pk.nbytes);
        }
        wait_wake(x->px->srv, req->key, req->nkey);
        pm_reply_code(x, RES_DELETED);
        break;
    case STORE_EXISTS:
        /* memcached counts a CAS mismatch as a delete miss */
        STAT_INC(x->ts, delete_misses);
        pm_reply_code(x, RES_EXISTS);
        break;
    case STORE_NOT_FOUND:
        STAT_INC(x->ts, delete_misses);
        pm_reply_code(x, RES_NOT_FOUND);
        break;
    default:
        pm_reply_code(x, RES_E_NOMEM);
        break;
    }
}

static void
pm_arith(struct pm *x)
{
    struct request *req = x->req;
    struct lease_arith la;
    struct result res;
    int rc;

    process_watch_lookup(x->px, req->key, req->nkey);
    memset(&la, 0, sizeof(la));
    la.a.incr = req->mode == REQ_INCR;
    la.a.delta = req->delta;
    la.a.cas_in = req->cas;
    la.a.create = req->create;
    la.a.initial = req->initial;
    if (req->opaque_len > REQ_OPAQUE_MAX) {
        /* memcached meets the over-long opaque in its last walk over the
         * flags, after the arithmetic: T and N after O never apply */
        pm_order_before_opaque(req, "TNt", la.order);
    } else {
        pm_order(req, "TNt", la.order);
    }
    la.touch_exptime = req->meta_ttl;
    la.vivify_exptime = req->vivify_ttl;
    la.new_cas = pm_has(req, 'E') ? req->new_cas : 0;
    rc = lease_arith(x->store, req->key, req->nkey, &la);
    memset(&res, 0, sizeof(res));
    res.code = process_arithed(x->px, req, rc, la.a.created);
    if (res.code == RES_NUMBER) {
        res.number = la.a.value;
        res.cas = la.a.cas;
        res.ttl_left = la.ttl_left;
        res.created = la.a.created;
    }
    pm_reply(x, &res);
}

static void
pm_debug(struct pm *x)
{
    struct request *req = x->req;
    struct lease_meta m;
    struct result res;
    struct item *it;

    memset(&res, 0, sizeof(res));
    it = lease_peek(x->store, req->key, req->nkey, &m);
    if (it == NULL) {
        pm_reply_code(x, RES_MISS);
        return;
    }
    /* the writer copies every byte it needs: no pin */
    store_release(x->store, it);
    res.code = RES_VALUE;
    res.key = req->key;
    res.nkey = req->nkey;
    res.key_binary = req->key_binary;
    res.ttl_left = m.ttl_left;
    res.last_access = m.idle;
    res.cas = m.cas;
    res.fetched = m.fetched;
    res.slab_class = m.slab_class;
    res.item_size = (uint32_t)m.size;
    pm_reply(x, &res);
}

/* Gather what executing the meta request req through px needs, once. */
static void
pm_init(struct pm *x, struct process_ctx *px, struct request *req,
        struct item *staged, int staged_rc)
{
    x->px = px;
    x->req = req;
    x->store = px->store;
    x->ts = px->ts;
    x->staged = staged;
    x->staged_rc = staged_rc;
}

void
process_meta_store(struct process_ctx *px, struct request *req,
                   struct item *staged, int staged_rc)
{
    struct pm x;

    pm_init(&x, px, req, staged, staged_rc);
    pm_set(&x);
}

void
process_meta(struct process_ctx *px, struct request *req)
{
    struct pm x;

    pm_init(&x, px, req, NULL, STORE_OK);
    /* cmd_meta stays 0: memcached 1.6.18 does not count ascii meta
     * commands there either */
    switch (req->op) {
    case REQ_GET:
        pm_get(&x);
        break;
    case REQ_STORE:
        pm_set(&x);
        break;
    case REQ_DELETE:
        pm_delete(&x);
        break;
    case REQ_ARITH:
        pm_arith(&x);
        break;
    case REQ_NOOP:
        pm_reply_code(&x, RES_NOOP);
        break;
    case REQ_META_DEBUG:
        pm_debug(&x);
        break;
    default:
        pm_reply_code(&x, RES_E_UNKNOWN);
        break;
    }
}
