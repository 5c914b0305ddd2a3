/*
 * process.c -- the executor: requests in, store calls, results out.
 *
 * This is the only file that sees both proto/ (struct request, the writers)
 * and slab/ (the store).  One function per operation, shared by every
 * protocol: the parser has already reduced text, meta and binary commands
 * to the same request, and the writer of req->proto turns the result into
 * that protocol's bytes.  Statistics are counted here, on the worker's own
 * counters.
 */
#include "daemon/process.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon/admin.h"
#include "daemon/admin_crawler.h"
#include "daemon/detail.h"
#include "daemon/bigkeys.h"
#include "daemon/hotkeys.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/stats.h"
#include "daemon/version.h"
#include "daemon/wait.h"
#include "daemon/watch.h"
#include "proto/bin.h"
#include "proto/proto.h"
#include "proto/request.h"
#include "proto/text.h"
#include "slab/clock.h"
#include "slab/item.h"
#include "slab/lock.h"
#include "slab/store.h"

#define PROCESS_SLICES 8    /* value slices on the stack; more are malloc'd */

/* Everything one request needs, gathered once. */
struct exec {
    struct process_ctx *px;
    struct request *req;
    const struct proto_ops *ops;
    struct store *store;
    struct thread_stats *ts;
    struct item *staged;    /* a streamed value's item (process_store) */
    int staged_rc;          /* its store_item_new failure, else STORE_OK */
};

static void
exec_reply(struct exec *x, struct result *res)
{
    x->ops->reply(x->px->out, x->req, res);
}

static void
exec_reply_code(struct exec *x, enum res_code code)
{
    struct result res;

    memset(&res, 0, sizeof(res));
    res.code = (uint8_t)code;
    exec_reply(x, &res);
}

static void
exec_reply_msg(struct exec *x, const char *msg)
{
    struct result res;

    memset(&res, 0, sizeof(res));
    res.code = RES_E_MSG;
    res.msg = msg;
    exec_reply(x, &res);
}

/* res's key, flags and value from it (n slices of all, rsl to fill). */
static void
process_fill_value(const struct item *it, const struct item_slice *all,
                   struct res_slice *rsl, size_t n, struct result *res)
{
    for (size_t i = 0; i < n; i++) {
        rsl[i].ptr = all[i].ptr;
        rsl[i].len = (uint32_t)all[i].len;
    }
    res->code = RES_VALUE;
    res->key = item_key(it);
    res->nkey = (uint32_t)item_nkey(it);
    res->flags = item_flags(it);
    res->slices = rsl;
    res->nslices = (uint32_t)n;
    res->vlen = (uint32_t)item_nbytes(it);
}

void
process_reply_item(struct process_ctx *px, const struct proto_ops *ops,
                   const struct request *req, struct store *store,
                   struct item *it, struct result *res)
{
    struct item_slice isl[PROCESS_SLICES];
    struct res_slice rsl_stack[PROCESS_SLICES];
    struct item_slice *all = isl;
    struct res_slice *rsl = rsl_stack;
    size_t n = item_value(it, isl, PROCESS_SLICES);

    if (n > PROCESS_SLICES) {
        all = malloc(n * sizeof(*all));
        rsl = malloc(n * sizeof(*rsl));
        if (all == NULL || rsl == NULL) {
            struct result oom;

            free(all != isl ? all : NULL);
            free(rsl != rsl_stack ? rsl : NULL);
            store_release(store, it);
            memset(&oom, 0, sizeof(oom));
            oom.code = RES_E_NOMEM;
            ops->reply(px->out, req, &oom);
            return;
        }
        item_value(it, all, n);
    }
    process_fill_value(it, all, rsl, n, res);
    ops->reply(px->out, req, res);
    px->pin(px->owner, it);
    if (all != isl) {
        free(all);
        free(rsl);
    }
}

void
process_reply_copy(struct process_ctx *px, const struct proto_ops *ops,
                   const struct request *req, const struct item *it,
                   struct result *res)
{
    struct item_slice isl[PROCESS_SLICES];
    struct res_slice rsl[PROCESS_SLICES];
    size_t n = item_value(it, isl, PROCESS_SLICES);

    if (n > PROCESS_SLICES) {
        /* values up to PROCESS_COPY_MAX are never chunked; no allocation
         * under the store's lock for a case that cannot happen */
        memset(res, 0, sizeof(*res));
        res->code = RES_E_NOMEM;
        ops->reply(px->out, req, res);
        return;
    }
    process_fill_value(it, isl, rsl, n, res);
    res->copy_value = true;
    ops->reply(px->out, req, res);
}

/* A hit for get/gets/gat/gats and the binary gets: key, flags, CAS and
 * the value. */
static void
exec_reply_item(struct exec *x, struct item *it)
{
    struct result res;

    memset(&res, 0, sizeof(res));
    /* the store keeps no binary mark: a key that came in base64 (meta b)
     * goes back in base64, never raw bytes that could hold "\r\n" */
    res.key_binary = x->req->key_binary;
    res.cas = item_cas(it);
    process_reply_item(x->px, x->ops, x->req, x->store, it, &res);
}

/* store_read's copy: the same reply as exec_reply_item, with the value
 * copied under the item lock instead of pinned. */
static void
exec_copy_item(void *ctx, const struct item *it)
{
    struct exec *x = ctx;
    struct result res;

    memset(&res, 0, sizeof(res));
    res.key_binary = x->req->key_binary;
    res.cas = item_cas(it);
    process_reply_copy(x->px, x->ops, x->req, it, &res);
}

static void
exec_get_one(struct exec *x, const char *key, uint32_t nkey)
{
    struct request *req = x->req;
    struct store_read r;
    struct item *it;
    enum store_read_rc rc;

    r.touch = req->touch;
    r.exptime = req->exptime;
    r.copy_max = PROCESS_COPY_MAX;
    r.copy = exec_copy_item;
    r.ctx = x;
    rc = store_read(x->store, key, nkey, &r, &it);
    detail_record(x->px->srv->detail, DETAIL_GET, key, nkey,
                  rc != STORE_READ_MISS);
    hotkeys_note(x->px->hot, key, nkey, false);
    process_watch_fetch(x->px, key, nkey, rc != STORE_READ_MISS);
    /* as memcached 1.6.18: gat/gats count as touches only, get/gets as
     * gets; the hits are counted by the store */
    if (req->touch) {
        STAT_INC(x->ts, cmd_touch);
        if (rc == STORE_READ_MISS) {
            STAT_INC(x->ts, touch_misses);
        }
    } else {
        STAT_INC(x->ts, cmd_get);
        if (rc == STORE_READ_MISS) {
            STAT_INC(x->ts, get_misses);
        }
    }
    if (rc == STORE_READ_MISS) {
        exec_reply_code(x, RES_MISS);
    } else if (rc == STORE_READ_REF) {
        exec_reply_item(x, it);
    }
}

/*
 * One key after another; a text multiget stops after the key that fills
 * the connection's output (conn_out_full) and resumes at the next one once
 * it has been sent: what one request holds is bounded by CONN_OUT_HIGH
 * plus one reply, whatever number of keys it names.  Each key runs (and
 * counts) exactly once; END goes out after the last.
 */
static enum process_rc
exec_get(struct exec *x)
{
    struct request *req = x->req;
    struct process_ctx *px = x->px;

    if (req->keys != NULL && px->resume_pos == 0 && req->keys_len != 0 &&
        req->key == req->keys && req->nkey == req->keys_len) {
        /* one key (the parser's first is all of keys): no key walk */
        exec_get_one(x, req->key, req->nkey);
        if (process_out_full(px)) {
            px->resume_pos = req->keys_len;
            return PROCESS_PAUSED;
        }
    } else if (req->keys != NULL) {
        const char *key;
        uint32_t nkey;
        uint32_t pos = (uint32_t)px->resume_pos;

        while (req_next_key(req, &pos, &key, &nkey)) {
            exec_get_one(x, key, nkey);
            if (process_out_full(px)) {
                px->resume_pos = pos;
                return PROCESS_PAUSED;
            }
        }
        px->resume_pos = 0;
    } else {
        exec_get_one(x, req->key, req->nkey);
    }
    if (!req->more) {
        /* (the head of a long line: its END comes with its last key) */
        x->ops->end(px->out, req);
    }
    return PROCESS_DONE;
}

static const enum store_mode exec_store_modes[] = {
    [REQ_SET] = STORE_SET,         [REQ_ADD] = STORE_ADD,
    [REQ_REPLACE] = STORE_REPLACE, [REQ_APPEND] = STORE_APPEND,
    [REQ_PREPEND] = STORE_PREPEND, [REQ_CAS] = STORE_CAS,
};

enum store_mode
process_store_mode(uint8_t req_mode)
{
    return exec_store_modes[req_mode];
}

void
process_watch_fetch_slow(struct process_ctx *px, const char *key,
                         uint32_t nkey, bool found)
{
    struct server *srv = px->srv;
    struct store_peek pk = {0, 0, 0};

    if (found) {
        store_peek(srv->store, key, nkey, &pk);
    }
    watch_fetch(srv->watch, key, nkey, found, pk.clsid, pk.nbytes, px->fd);
}

void
process_watch_lookup_slow(struct process_ctx *px, const char *key,
                          uint32_t nkey)
{
    struct server *srv = px->srv;
    struct store_peek pk = {0, 0, 0};
    bool found;

    found = store_peek(srv->store, key, nkey, &pk);
    watch_fetch(srv->watch, key, nkey, found, pk.clsid, pk.nbytes, px->fd);
}


/* mutations: one item_store line for a storage request's outcome rc. */
static void
process_watch_store(struct process_ctx *px, const struct request *req, int rc)
{
    static const char *const cmds[] = {
        [REQ_SET] = "set",       [REQ_ADD] = "add",
        [REQ_REPLACE] = "replace", [REQ_APPEND] = "append",
        [REQ_PREPEND] = "prepend", [REQ_CAS] = "cas",
    };
    struct server *srv = px->srv;
    struct store_peek pk;
    const char *status;
    uint32_t ttl = 0;

    if (!watch_wants(srv->watch, WATCH_MUTATIONS)) {
        return;
    }
    status = rc == STORE_OK            ? "stored"
             : rc == STORE_NOT_STORED  ? "not_stored"
             : rc == STORE_EXISTS      ? "exists"
             : rc == STORE_NOT_FOUND   ? "not_found"
             : rc == STORE_TOO_LARGE   ? "too_large"
                                       : "no_memory";
    /* memcached prints the class and size of the item the request built:
     * the stored one (an append's whole value) when it went in */
    if (rc != STORE_OK || !store_peek(srv->store, req->key, req->nkey, &pk)) {
        pk.clsid = store_class_of(srv->store, req->nkey, req->flags,
                                  req->vlen);
        pk.nbytes = req->vlen;
    }
    if (req->exptime != 0) {
        /* seconds left as memcached computes them: a past time wraps */
        ttl = clock_exptime(srv->clock, req->exptime) -
              clock_now(srv->clock);
    }
    watch_store(srv->watch, req->key, req->nkey, status,
                req->mode <= REQ_CAS ? cmds[req->mode] : "na", ttl,
                pk.clsid, pk.nbytes, px->fd);
}

uint8_t
process_stored(struct process_ctx *px, const struct request *req, int rc)
{
    struct thread_stats *ts = px->ts;
    uint8_t code;

    process_watch_store(px, req, rc);
    /* cmd_set, cas_hits and cas_badval are the store's (per class) */
    switch (rc) {
    case STORE_OK:
        code = RES_STORED;
        hotkeys_note(px->hot, req->key, req->nkey, true);
        bigkeys_note(px->srv->bigkeys, req->key, req->nkey, req->vlen);
        /* requests parked on a lease for this key (mg w) take the value */
        wait_wake(px->srv, req->key, req->nkey);
        break;
    case STORE_NOT_STORED:
        code = RES_NOT_STORED;
        break;
    case STORE_EXISTS:
        code = RES_EXISTS;
        break;
    case STORE_NOT_FOUND:
        code = RES_NOT_FOUND;
        break;
    case STORE_TOO_LARGE:
        STAT_INC(ts, store_too_large);
        code = RES_E_TOO_LARGE;
        break;
    default:
        STAT_INC(ts, store_no_memory);
        code = RES_E_NOMEM;
        break;
    }
    if (req->mode == REQ_CAS && rc == STORE_NOT_FOUND) {
        STAT_INC(ts, cas_misses);
    }
    return code;
}

uint8_t
process_arithed(struct process_ctx *px, const struct request *req,
                int rc, bool created)
{
    struct thread_stats *ts = px->ts;
    bool incr = req->mode == REQ_INCR;

    switch (rc) {
    case STORE_OK:
        /* hits are the store's (per class); a counter created from its
         * initial value is neither a hit nor a miss, as in memcached */
        (void)created;
        wait_wake(px->srv, req->key, req->nkey);
        return RES_NUMBER;
    case STORE_NOT_FOUND:
        if (incr) {
            STAT_INC(ts, incr_misses);
        } else {
            STAT_INC(ts, decr_misses);
        }
        return RES_NOT_FOUND;
    case STORE_NON_NUMERIC:
        return RES_E_NON_NUMERIC;
    case STORE_EXISTS:
        return RES_EXISTS;
    default:
        /* memcached counts store_no_memory for storage commands only */
        return RES_E_NOMEM;
    }
}

static void
exec_store(struct exec *x)
{
    struct request *req = x->req;
    struct result res;
    uint64_t cas = 0;
    int rc;

    process_watch_lookup(x->px, req->key, req->nkey);
    if (req->proto == PROTO_BINARY && req->mode == REQ_CAS &&
        !x->px->srv->settings->use_cas) {
        /* memcached -C: a binary Set/Add/Replace ignores its CAS */
        req->mode = bin_store_mode(req->bin_opcode);
        req->cas = 0;
    }

    if (x->staged_rc != STORE_OK) {
        rc = x->staged_rc;
    } else if (x->staged != NULL) {
        rc = store_item_commit(x->store, exec_store_modes[req->mode],
                               x->staged, req->cas, &cas);
    } else {
        rc = store_put(x->store, exec_store_modes[req->mode], req->key,
                       req->nkey, req->flags, req->exptime, req->value,
                       req->vlen, req->cas, &cas);
    }
    detail_record(x->px->srv->detail, DETAIL_SET, req->key, req->nkey,
                  false);
    memset(&res, 0, sizeof(res));
    res.cas = cas;
    res.code = process_stored(x->px, req, rc);
    exec_reply(x, &res);
}

static void
exec_arith(struct exec *x)
{
    struct request *req = x->req;
    struct store_arith a;
    struct result res;
    int rc;

    process_watch_lookup(x->px, req->key, req->nkey);
    memset(&a, 0, sizeof(a));
    a.incr = req->mode == REQ_INCR;
    a.delta = req->delta;
    a.cas_in = req->cas;
    a.create = req->create;
    a.initial = req->initial;
    a.create_exptime = req->exptime;
    a.create_flags = req->flags;
    rc = store_arith(x->store, req->key, req->nkey, &a);
    memset(&res, 0, sizeof(res));
    res.code = process_arithed(x->px, req, rc, a.created);
    if (res.code == RES_NUMBER) {
        res.number = a.value;
        res.cas = a.cas;
    }
    exec_reply(x, &res);
}

static void
exec_delete(struct exec *x)
{
    struct request *req = x->req;
    struct store_peek pk;
    bool watched = process_watch_peek(x->px, req->key, req->nkey, &pk);
    int rc;

    process_watch_lookup(x->px, req->key, req->nkey);
    rc = store_delete(x->store, req->key, req->nkey, req->cas);

    detail_record(x->px->srv->detail, DETAIL_DEL, req->key, req->nkey,
                  false);
    if (rc == STORE_OK) {
        if (watched) {
            watch_delete(x->px->srv->watch, req->key, req->nkey, "delete",
                         pk.clsid, pk.nbytes);
        }
        wait_wake(x->px->srv, req->key, req->nkey);
        exec_reply_code(x, RES_DELETED);
    } else if (rc == STORE_EXISTS) {
        exec_reply_code(x, RES_EXISTS);
    } else {
        STAT_INC(x->ts, delete_misses);
        exec_reply_code(x, RES_NOT_FOUND);
    }
}

/* Touch answers with the item's flags and CAS (the binary protocol
 * returns them), so it is a get-and-touch whose value is not sent. */
static void
exec_touch(struct exec *x)
{
    struct request *req = x->req;
    struct item *it;
    struct result res;

    STAT_INC(x->ts, cmd_touch);
    process_watch_lookup(x->px, req->key, req->nkey);
    it = store_get_touch(x->store, req->key, req->nkey, req->exptime);
    if (it == NULL) {
        STAT_INC(x->ts, touch_misses);
        exec_reply_code(x, RES_NOT_FOUND);
        return;
    }
    memset(&res, 0, sizeof(res));
    res.code = RES_TOUCHED;
    res.flags = item_flags(it);
    res.cas = item_cas(it);
    store_release(x->store, it);
    exec_reply(x, &res);
}

static void
exec_flush(struct exec *x)
{
    struct server *srv = x->px->srv;

    if (!srv->settings->flush_enabled) {
        exec_reply_msg(x, "CLIENT_ERROR flush_all not allowed");
        return;
    }
    STAT_INC(x->ts, cmd_flush);
    store_flush(x->store, x->req->exptime);
    wait_wake_all(srv);
    exec_reply_code(x, RES_OK);
}

static void
exec_memlimit(struct exec *x)
{
    uint64_t mib = x->req->number;

    if (mib < 8) {
        exec_reply_msg(x, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less "
                          "than 8m");
        return;
    }
    if (mib > (SIZE_MAX >> 20)) {
        exec_reply_msg(x, "CLIENT_ERROR bad command line format");
        return;
    }
    store_set_mem_limit(x->store, (size_t)mib << 20);
    exec_reply_code(x, RES_OK);
}

/* Adapts stats emitters to the request's writer. */
static void
exec_stat_emit(void *ctx, const char *name, const char *value)
{
    struct exec *x = ctx;

    x->ops->stat(x->px->out, x->req, name, value);
}

static bool
exec_is(const struct request *req, const char *word)
{
    size_t n = strlen(word);

    return req->nkey == n && memcmp(req->key, word, n) == 0;
}

/* The first argument token after the stats sub-command (text only). */
static bool
exec_arg_is(const struct request *req, const char *word)
{
    size_t n = strlen(word);
    const char *p = req->keys;

    if (req->keys_len < n || memcmp(p, word, n) != 0) {
        return false;
    }
    return req->keys_len == n || p[n] == ' ';
}

/* Adapts detail_dump's lines to the connection's output. */
static void
exec_detail_line(void *ctx, const char *text)
{
    struct exec *x = ctx;

    out_str(x->px->out, text);
    out_bytes(x->px->out, "\r\n", 2);
}

/* "stats detail on|off|dump", memcached's replies. */
static void
exec_stats_detail(struct exec *x)
{
    struct detail *d = x->px->srv->detail;
    struct request *req = x->req;

    if (exec_arg_is(req, "on") || exec_arg_is(req, "off")) {
        detail_set_enabled(d, exec_arg_is(req, "on"));
        exec_reply_code(x, RES_OK);
    } else if (exec_arg_is(req, "dump")) {
        detail_dump(d, exec_detail_line, x);
        x->ops->end(x->px->out, req);
    } else {
        exec_reply_msg(x, "CLIENT_ERROR usage: stats detail on|off|dump");
    }
}

/* A growing string for the binary "detail dump" value. */
struct exec_text {
    char *p;
    size_t len;
    size_t cap;
    bool oom;
};

static void
exec_text_add(void *ctx, const char *text)
{
    struct exec_text *t = ctx;
    size_t n = strlen(text);

    if (t->oom) {
        return;
    }
    if (t->len + n + 8 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 4096) + n;
        char *np = realloc(t->p, cap);

        if (np == NULL) {
            t->oom = true;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, text, n);
    memcpy(t->p + t->len + n, "\r\n", 3);
    t->len += n + 2;
}

/*
 * Binary "detail ...", as memcached answers it: "detail" alone, " on" and
 * " off" (matched as prefixes) answer an empty stats list; " dump" answers
 * one stat "detailed" holding the text dump, END included; anything else
 * is Not found.
 */
static void
exec_stats_detail_bin(struct exec *x)
{
    struct detail *d = x->px->srv->detail;
    const char *sub = x->req->key + 6;
    size_t n = x->req->nkey - 6;

    if (n >= 5 && memcmp(sub, " dump", 5) == 0) {
        struct exec_text t = {NULL, 0, 0, false};

        detail_dump(d, exec_text_add, &t);
        exec_text_add(&t, "END");
        if (t.oom) {
            free(t.p);
            exec_reply_code(x, RES_E_NOMEM);
            return;
        }
        exec_stat_emit(x, "detailed", t.p);
        free(t.p);
    } else if (n >= 3 && memcmp(sub, " on", 3) == 0) {
        detail_set_enabled(d, true);
    } else if (n >= 4 && memcmp(sub, " off", 4) == 0) {
        detail_set_enabled(d, false);
    } else if (n != 0) {
        exec_reply_code(x, RES_NOT_FOUND);
        return;
    }
    x->ops->end(x->px->out, x->req);
}

/* "stats sizes_enable|sizes_disable": one status line, and (as memcached
 * does over text) no END. */
static void
exec_stats_sizes_set(struct exec *x, bool on)
{
    bool ok = store_sizes_set(x->store, on);

    exec_stat_emit(x, "sizes_status", ok && on ? "enabled" : "disabled");
    if (x->req->proto != PROTO_TEXT) {
        x->ops->end(x->px->out, x->req);
    }
}

/* stats hotkeys|bigkeys [N]: false when N is bad (answered already). */
static bool
exec_keyview(struct exec *x)
{
    struct request *req = x->req;
    struct server *srv = x->px->srv;
    unsigned top = exec_is(req, "hotkeys") ? HOTKEYS_DEFAULT
                                           : BIGKEYS_DEFAULT;
    unsigned max = exec_is(req, "hotkeys") ? HOTKEYS_SLOTS : BIGKEYS_SLOTS;

    if (req->keys_len > 0) {
        top = 0;
        for (uint32_t i = 0; i < req->keys_len; i++) {
            unsigned d = (unsigned)(req->keys[i] - '0');

            if (d > 9 || top > max) {
                exec_reply_msg(x, "CLIENT_ERROR bad command line format");
                return false;
            }
            top = top * 10 + d;
        }
        top = top > max ? max : top;
    }
    if (exec_is(req, "hotkeys")) {
        hotkeys_report(srv->hotkeys, srv->hotkeys != NULL ? srv->nworkers : 0,
                       top, exec_stat_emit, x);
    } else {
        bigkeys_report(srv->bigkeys, x->store, srv->clock, top,
                       exec_stat_emit, x);
    }
    return true;
}

static void
exec_stats(struct exec *x)
{
    struct request *req = x->req;
    struct server *srv = x->px->srv;

    if (req->nkey == 0) {
        stats_general(srv, exec_stat_emit, x);
    } else if (exec_is(req, "items")) {
        store_stats_items(x->store, exec_stat_emit, x);
    } else if (exec_is(req, "slabs")) {
        store_stats_slabs(x->store, exec_stat_emit, x);
    } else if (exec_is(req, "settings")) {
        stats_settings(srv, exec_stat_emit, x);
    } else if (exec_is(req, "conns")) {
        stats_conns(srv, exec_stat_emit, x);
    } else if (exec_is(req, "hotkeys") || exec_is(req, "bigkeys")) {
        if (!exec_keyview(x)) {
            return;
        }
    } else if (exec_is(req, "sizes")) {
        store_stats_sizes(x->store, exec_stat_emit, x);
    } else if (exec_is(req, "locks")) {
        lock_stats(exec_stat_emit, x);
    } else if (exec_is(req, "sizes_enable") ||
               exec_is(req, "sizes_disable")) {
        exec_stats_sizes_set(x, req->key[6] == 'e');
        return;
    } else if (exec_is(req, "detail") && req->proto == PROTO_TEXT) {
        exec_stats_detail(x);
        return;
    } else if (req->proto == PROTO_BINARY && req->nkey >= 6 &&
               memcmp(req->key, "detail", 6) == 0) {
        exec_stats_detail_bin(x);
        return;
    } else if (exec_is(req, "reset")) {
        stats_reset(srv);
        exec_reply_msg(x, "RESET");
        return;
    } else {
        exec_reply_code(x, RES_E_UNKNOWN);
        return;
    }
    x->ops->end(x->px->out, req);
}

static void
exec_shutdown(struct exec *x)
{
    struct server *srv = x->px->srv;

    if (!srv->settings->enable_shutdown) {
        exec_reply_msg(x, "ERROR: shutdown not enabled");
        return;
    }
    if (x->req->number == TEXT_SHUTDOWN_INVALID) {
        exec_reply_msg(x, "CLIENT_ERROR invalid shutdown mode");
        return;
    }
    log_info("shutdown requested by a client");
    x->px->closing = true;
    server_stop(srv);
}

static void
exec_debugtime(struct exec *x)
{
#ifdef STASHD_DEBUG
    /* only moving forward is supported: the clock cannot pause */
    if (x->req->number == TEXT_DEBUGTIME_ADD) {
        clock_advance(x->px->srv->clock, x->req->exptime);
        exec_reply_code(x, RES_OK);
        return;
    }
    exec_reply_code(x, RES_E_UNKNOWN);
#else
    exec_reply_code(x, RES_E_UNKNOWN);
#endif
}

/* A binary SET/SETQ, with or without a CAS: memcached drops the old value
 * of any binary SET it cannot allocate (a text cas keeps it). */
static bool
process_bin_set(const struct request *req)
{
    return req->proto == PROTO_BINARY &&
           (req->bin_opcode == BIN_OP_SET || req->bin_opcode == BIN_OP_SETQ);
}

/* False if the store refuses req's item for its size (the probe item is
 * freed at once; a refused set has dropped the key's old value). */
static bool
process_chunk_fits(struct process_ctx *px, const struct request *req)
{
    int rc = STORE_OK;
    struct item *it = process_store_begin(px, req, &rc);

    if (it != NULL) {
        store_item_abandon(px->store, it);
        return true;
    }
    return rc != STORE_TOO_LARGE;
}

/* store_read's copy for lookups whose reply is dropped. */
static void
process_copy_none(void *ctx, const struct item *it)
{
    (void)ctx;
    (void)it;
}

/* The keys of a get refused for a later over-long key: looked up (gat:
 * touched) and counted as memcached does before it meets that key; their
 * replies are dropped with the rest of its answer. */
static void
process_keys_then_error(struct process_ctx *px, const struct request *req)
{
    struct store_read r = {req->touch, req->exptime, SIZE_MAX,
                           process_copy_none, NULL};
    const char *key;
    uint32_t nkey;
    uint32_t pos = 0;

    while (req_next_key(req, &pos, &key, &nkey)) {
        struct item *it;
        enum store_read_rc rc = store_read(px->store, key, nkey, &r, &it);

        if (rc == STORE_READ_REF) {
            store_release(px->store, it);
        }
        if (req->touch) {
            STAT_INC(px->ts, cmd_touch);
            STAT_ADD(px->ts, touch_misses, rc == STORE_READ_MISS);
        } else {
            STAT_INC(px->ts, cmd_get);
            STAT_ADD(px->ts, get_misses, rc == STORE_READ_MISS);
        }
    }
}

void
process_parse_error(struct process_ctx *px, const struct proto_ops *ops,
                    struct request *req)
{
    static const char too_large[] = "SERVER_ERROR object too large";
    bool refused;

    if (req->keys_then_error) {
        process_keys_then_error(px, req);
    }
    if (req->bad_chunk && !process_chunk_fits(px, req)) {
        /* memcached allocates the item before it reads the block, so an
         * item it cannot hold is refused whatever the block's trailer */
        req->err = "SERVER_ERROR object too large for cache";
    }
    refused = req->proto == PROTO_BINARY
                  ? req->bin_status == BIN_ST_E2BIG
                  : req->err != NULL &&
                        strncmp(req->err, too_large,
                                sizeof(too_large) - 1) == 0;

    if (req->op == REQ_AUTH) {
        /* -Y data too long to be credentials: a failed attempt */
        process_auth_count(px, false);
    }
    if (req->op == REQ_STORE && req->err != NULL &&
        strncmp(req->err, too_large, sizeof(too_large) - 1) == 0) {
        /* memcached counts a value refused for its size */
        STAT_INC(px->ts, store_too_large);
    }
    /* as memcached: a set refused for its size must not leave the old
     * value readable (the parser keeps op/mode/key for this); meta ms
     * drops it whatever its mode */
    if (req->op == REQ_STORE &&
        (req->mode == REQ_SET || req->proto == PROTO_META ||
         process_bin_set(req)) &&
        req->nkey > 0 && req->key != NULL && refused) {
        store_delete(px->store, req->key, req->nkey, 0);
        wait_wake(px->srv, req->key, req->nkey);
    }
    ops->error(px->out, req, req->err);
}

struct item *
process_store_begin(struct process_ctx *px, const struct request *req,
                    int *rc)
{
    /* the mode only decides whether a refusal drops the old value */
    return store_item_new(px->store,
                          process_bin_set(req) ? STORE_SET
                                               : exec_store_modes[req->mode],
                          req->key, req->nkey, req->flags, req->exptime,
                          req->vlen, rc);
}

/* Gather what executing req through px needs, once. */
static void
exec_init(struct exec *x, struct process_ctx *px, struct request *req,
          struct item *staged, int staged_rc)
{
    x->px = px;
    x->req = req;
    x->ops = proto_for(req);
    x->store = px->store;
    x->ts = px->ts;
    x->staged = staged;
    x->staged_rc = staged_rc;
}

void
process_store(struct process_ctx *px, struct request *req,
              struct item *staged, int staged_rc)
{
    struct exec x;

    if (req->proto == PROTO_META) {
        process_meta_store(px, req, staged, staged_rc);
        return;
    }
    exec_init(&x, px, req, staged, staged_rc);
    exec_store(&x);
}

enum process_rc
process_request(struct process_ctx *px, struct request *req)
{
    struct exec x;
    struct result res;

    if (req->proto == PROTO_META) {
        process_meta(px, req);
        return PROCESS_DONE;
    }
    exec_init(&x, px, req, NULL, STORE_OK);
    switch (req->op) {
    case REQ_GET:
        return exec_get(&x);
    case REQ_STORE:
        exec_store(&x);
        break;
    case REQ_ARITH:
        exec_arith(&x);
        break;
    case REQ_DELETE:
        exec_delete(&x);
        break;
    case REQ_TOUCH:
        exec_touch(&x);
        break;
    case REQ_FLUSH:
        exec_flush(&x);
        break;
    case REQ_VERSION:
        memset(&res, 0, sizeof(res));
        res.code = RES_VERSION;
        res.msg = STASHD_PROTOCOL_VERSION;
        exec_reply(&x, &res);
        break;
    case REQ_VERBOSITY:
        log_set_level((int)(req->number > 3 ? 3 : req->number));
        exec_reply_code(&x, RES_OK);
        break;
    case REQ_QUIT:
        exec_reply_code(&x, RES_OK);
        px->closing = true;
        break;
    case REQ_SHUTDOWN:
        exec_shutdown(&x);
        break;
    case REQ_MEMLIMIT:
        exec_memlimit(&x);
        break;
    case REQ_STATS:
        if (req->proto == PROTO_TEXT && exec_is(req, "cachedump")) {
            /* streamed: may pause like a dump */
            return admin_cachedump(px, req);
        }
        exec_stats(&x);
        break;
    case REQ_NOOP:
        exec_reply_code(&x, RES_NOOP);
        break;
    case REQ_DEBUGTIME:
        exec_debugtime(&x);
        break;
    case REQ_ADMIN:
        return admin_process(px, req);
    case REQ_AUTH:
        process_auth(px, req);
        break;
    case REQ_SASL:
        process_sasl(px, req);
        break;
    default:
        exec_reply_code(&x, RES_E_UNKNOWN);
        break;
    }
    return PROCESS_DONE;
}
