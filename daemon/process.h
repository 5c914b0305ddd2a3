/*
 * process.h -- the executor: the one place that sees both a parsed request
 * (proto/) and the store (slab/), and maps one onto the other.
 */
#ifndef STASHD_DAEMON_PROCESS_H
#define STASHD_DAEMON_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/server.h"
#include "daemon/watch.h"
#include "proto/out.h"
#include "slab/store.h"

struct hotkeys;
struct item;
struct out;
struct proto_ops;
struct request;
struct result;
struct server;
struct thread_stats;
struct worker_task;

/* Where a binary connection is in a SASL exchange (-S). */
enum process_sasl_state {
    PROCESS_SASL_NONE = 0,  /* nothing started, or the last try failed */
    PROCESS_SASL_STEP,      /* AUTH PLAIN came empty: credentials in STEP */
    PROCESS_SASL_DONE,      /* authenticated by SASL */
};

/*
 * What the executor may touch while it runs one request: it knows nothing
 * of connections or workers.  The caller (conn.c) owns one per connection
 * and fills it once; the executor writes back only closing and the resume
 * state.
 */
struct process_ctx {
    struct server *srv;         /* settings (read-only), clock, wait */
    struct store *store;
    struct thread_stats *ts;    /* stats sink: the calling worker's own */
    struct out *out;            /* replies are appended here */
    void *owner;                /* the caller's object, for pin and park */
    /* pin: keep a reference to it until out has been sent (consumes the
     * caller's reference) */
    void (*pin)(void *owner, struct item *it);
    /* park: wait_park() for the owner's current request (daemon/wait.h);
     * 0 parked, non-zero answer as without w */
    int (*park)(void *owner, struct request *req, const char *key,
                size_t nkey, uint32_t lease_ttl_left);

    /* post: run t on the owner's thread soon; any thread may call it, and
     * the owner's worker drops t unrun if it is destroyed first.  NULL for
     * an owner that cannot wait (no socket): its dumps run inline. */
    void (*post)(void *owner, struct worker_task *t);
    /* resume: run the owner's idle paused request (resume_idle) again; the
     * owner's thread only */
    void (*resume)(void *owner);

    struct hotkeys *hot;        /* the calling worker's stats hotkeys
                                 * sketch (daemon/hotkeys.h), or NULL */
    int fd;                     /* the client socket (watch hands it over,
                                 * watch lines name it), -1 if none */

    bool closing;               /* close once out is flushed */
    bool out_more;              /* a paused request will add more: the
                                 * caller may send with MSG_MORE, so the
                                 * peer wakes per full segment, not per
                                 * pass (daemon/admin_crawler.c) */
    /* -Y / -S (daemon/process_auth.c): whether requests may run, and where
     * a SASL exchange is; the caller sets authed once, when the server
     * has no password table, and the executor writes both back */
    bool authed;
    uint8_t sasl_state;         /* enum process_sasl_state */
    /* A resumable request: one that stopped midway because its output
     * reached the high-water mark (a long multiget, a dump) stays
     * unconsumed and runs again once out has drained; the executor picks
     * up where it left from resume_pos / resume_job.  All zero when no
     * request is paused.  resume_free(resume_job) runs if the owner goes
     * away first. */
    bool resume_idle;           /* with PROCESS_PAUSED: nothing to send
                                 * until another thread has produced
                                 * more and called resume through post;
                                 * wait for that, not for the socket */
    uint64_t resume_pos;
    void *resume_job;
    void (*resume_free)(void *job);
};

/* Output bytes queued before a resumable request stops and lets its
 * caller send: the bound on what one connection holds for replies (plus
 * one reply). */
#define PROCESS_OUT_HIGH (1024 * 1024)

/* True when px has queued enough output that a resumable request should
 * stop here and resume after sending. */
static inline bool
process_out_full(const struct process_ctx *px)
{
    return px->out->pending >= PROCESS_OUT_HIGH;
}

/* What process_request did with a request. */
enum process_rc {
    PROCESS_DONE = 0,   /* answered in full: consume it */
    PROCESS_PAUSED,     /* stopped midway (process_out_full): leave it
                         * unconsumed, send, then run it again; the
                         * executor resumes from px->resume_pos/job */
};

/* Execute req and append its reply to px->out (items it references are
 * pinned through px->pin).  May set px->closing. */
enum process_rc process_request(struct process_ctx *px, struct request *req);

/* Execute a meta request (req->proto == PROTO_META: mg ms md ma mn me)
 * as process_request does; daemon/process_meta.c. */
void process_meta(struct process_ctx *px, struct request *req);

/* Answer a request the parser refused (PARSE_ERROR) with req->err through
 * ops (the connection's protocol), doing what memcached does besides
 * answering (a too-large set drops the key). */
void process_parse_error(struct process_ctx *px, const struct proto_ops *ops,
                         struct request *req);

/*
 * A value streamed into its item (PARSE_VALUE): process_store_begin()
 * allocates the item for req's header (NULL with *rc a store status: the
 * caller answers with process_store(px, req, NULL, rc) and swallows the
 * value); once the value is in, process_store() links the item under
 * req's mode and answers as for a buffered request.  A staged item not
 * committed goes back with store_item_abandon().
 */
struct item *process_store_begin(struct process_ctx *px,
                                 const struct request *req, int *rc);

/* Execute the storage request req with its value in staged (or answer
 * staged_rc, a store_item_new failure, when it is not STORE_OK); consumes
 * staged.  Any protocol. */
void process_store(struct process_ctx *px, struct request *req,
                   struct item *staged, int staged_rc);

/* process_store for meta ms (daemon/process_meta.c). */
void process_meta_store(struct process_ctx *px, struct request *req,
                        struct item *staged, int staged_rc);

/* -Y: check a REQ_AUTH request's credentials, count it, answer
 * "STORED" (px is then authenticated) or memcached's failure line;
 * daemon/process_auth.c. */
void process_auth(struct process_ctx *px, struct request *req);

/* Count an authentication attempt (auth_cmds, and auth_errors unless ok)
 * and (de)authenticate px accordingly. */
void process_auth_count(struct process_ctx *px, bool ok);

/* -S: execute a binary SASL request (REQ_SASL), which may authenticate
 * or de-authenticate px; daemon/process_auth.c. */
void process_sasl(struct process_ctx *px, struct request *req);

/* For a request parsed (status rc) on a connection not yet authenticated:
 * true if it is refused, as memcached does ("Auth failure.", then close;
 * px->closing is set); false for what may run first (-Y's text auth
 * request, binary VERSION and SASL). */
bool process_auth_refused(struct process_ctx *px, const struct request *req,
                          int rc);

/* The store's mode for a request's enum req_store_mode. */
enum store_mode process_store_mode(uint8_t req_mode);

/*
 * Values up to this many bytes are copied into the reply under the item
 * lock and take no reference; larger ones are sent zero-copy from the
 * pinned item.  At 1 KiB the copy (one memcpy into the output arena, which
 * sendmsg reads anyway) costs about what a reference costs: two atomic
 * operations on the item's line, a pin slot and an iovec of its own.  It
 * also bounds pins: each pin stands for over 1 KiB of queued output, so a
 * connection holds at most PROCESS_OUT_HIGH / 1 KiB of them (plus one reply).
 */
#define PROCESS_COPY_MAX 1024

/*
 * Reply a hit through ops: res (holding whatever the command adds: CAS,
 * TTL, ...) gets its key, flags and value slices, and it stays pinned
 * through px until the reply is sent.  Consumes the caller's reference
 * to it; if the slice table cannot be allocated the reply is
 * SERVER_ERROR out of memory instead.
 */
void process_reply_item(struct process_ctx *px, const struct proto_ops *ops,
                        const struct request *req, struct store *store,
                        struct item *it, struct result *res);

/* Reply a hit as process_reply_item does, but with the value copied into
 * px->out: its slices are read during the call only (the caller holds
 * the item lock, no reference: a store_copy_fn). */
void process_reply_copy(struct process_ctx *px, const struct proto_ops *ops,
                        const struct request *req, const struct item *it,
                        struct result *res);

/* The watch hooks' slow halves (daemon/process.c), run only when
 * someone watches the stream. */
void process_watch_fetch_slow(struct process_ctx *px, const char *key,
                              uint32_t nkey, bool found);
void process_watch_lookup_slow(struct process_ctx *px, const char *key,
                               uint32_t nkey);

/* watch fetchers: log a read of key (found: a hit) if anyone watches;
 * the class and size are looked up only then.  Inline: every read asks. */
static inline void
process_watch_fetch(struct process_ctx *px, const char *key, uint32_t nkey,
                    bool found)
{
    if (watch_wants(px->srv->watch, WATCH_FETCHERS)) {
        process_watch_fetch_slow(px, key, nkey, found);
    }
}

/* watch fetchers: log the lookup a write, touch or delete of key makes
 * first (memcached logs one), if anyone watches. */
static inline void
process_watch_lookup(struct process_ctx *px, const char *key, uint32_t nkey)
{
    if (watch_wants(px->srv->watch, WATCH_FETCHERS)) {
        process_watch_lookup_slow(px, key, nkey);
    }
}

/* watch deletions: true, with the key's class and size in *pk, if anyone
 * watches deletions and key is live (call before deleting it). */
static inline bool
process_watch_peek(struct process_ctx *px, const char *key, uint32_t nkey,
                   struct store_peek *pk)
{
    return watch_wants(px->srv->watch, WATCH_DELETIONS) &&
           store_peek(px->srv->store, key, nkey, pk);
}

/* The reply code for a store_put/lease_put status rc on req; counts
 * cas_misses and store_* (cmd_set and cas hits are the store's), and on
 * success wakes requests parked on the key (mg w).  Shared by every
 * protocol's store path. */
uint8_t process_stored(struct process_ctx *px, const struct request *req,
                       int rc);

/* The reply code for a store_arith/lease_arith status rc on req (incr or
 * decr); counts incr_misses / decr_misses (hits are the store's) and on
 * success wakes requests parked on the key.  Shared like process_stored. */
uint8_t process_arithed(struct process_ctx *px, const struct request *req,
                        int rc, bool created);

#endif
