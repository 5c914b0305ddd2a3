/*
 * store.h -- the cache: every operation the executor can ask of it.
 *
 * A struct store owns the slab allocator, the hash table, the per-class LRUs
 * and the CAS counter.  It knows nothing of sockets or protocol syntax.  All
 * functions are thread-safe; the locks they take, and their order, are
 * documented once in slab/store.c.
 *
 * Items handed out (store_get and friends) carry a reference: the caller owns
 * it and must give it back with store_release().  A referenced item stays
 * readable even if it is replaced, deleted, expired or evicted meanwhile.
 *
 * Expiry times passed in are as the client sent them (0 never, up to
 * 2592000 relative, larger absolute unix time, negative already expired);
 * the store converts them with its clock (slab/clock.h).
 */
#ifndef STASHD_SLAB_STORE_H
#define STASHD_SLAB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct item;
struct iovec;
struct store;
struct clock;

/* What the eviction hook learns of an item evicted to make room. */
struct store_evicted {
    const char *key;
    size_t nkey;
    size_t nbytes;          /* value length */
    unsigned clsid;
    bool fetched;           /* read since it was stored */
    long long ttl;          /* seconds it had left, -1 if it never expired */
    unsigned la;            /* seconds since its last access */
};

/* Called for each eviction with the item and LRU locks held: copy what
 * is needed and return; never call the store. */
typedef void (*store_evict_fn)(void *ctx, const struct store_evicted *e);

struct store_config {
    size_t mem_limit;       /* -m, bytes of item memory (slab pages) */
    size_t item_size_max;   /* -I, largest item (header + key + value) */
    size_t page_size;       /* slab page, 1 MiB */
    size_t chunk_min;       /* -n, smallest key+value+flags space (48) */
    double factor;          /* -f, class growth (1.25) */
    bool evict;             /* false with -M: fail with STORE_NO_MEMORY */
    bool use_cas;           /* false with -C */
    unsigned hash_power;    /* initial log2 of hash buckets (16) */
    bool lru_bg;            /* run the background expiry crawler thread */
    bool lru_maintainer;    /* run the LRU maintainer thread (segment
                             * moves, free chunks ahead of demand) */
    struct store_lru_tune {
        bool segmented;         /* HOT/WARM/COLD; false: one flat list */
        unsigned hot_pct;       /* HOT's share of a class's bytes */
        unsigned warm_pct;      /* WARM's share */
        double hot_max_factor;  /* HOT tail may be this times COLD's age */
        double warm_max_factor; /* WARM tail may be this times COLD's age */
        bool temp_lru;          /* short-TTL items go to TEMP */
        unsigned temp_ttl;      /* "short": TTL up to this many seconds */
    } lru;                  /* changed at run time with store_lru_tune */
    bool slab_reassign;     /* run the page mover thread (-o slab_reassign) */
    unsigned slab_automove; /* 0 off, 1 age-ratio heuristic, 2 aggressive */
    double automove_ratio;  /* youngest:oldest tail age to move a page */
    unsigned automove_window;   /* samples a free-memory trend must last */
    bool track_sizes;       /* -o track_sizes: "stats sizes" from the start */
    store_evict_fn on_evict;    /* NULL: no call (watch evictions) */
    void *evict_ctx;
};

/* Fill cfg with memcached's defaults. */
void store_config_default(struct store_config *cfg);

/* Status codes of the store, OK = 0. */
enum store_status {
    STORE_OK = 0,
    STORE_NOT_STORED = -1,  /* add on existing, replace/append on missing */
    STORE_EXISTS = -2,      /* CAS mismatch */
    STORE_NOT_FOUND = -3,   /* CAS/delete/touch/arith on a missing key */
    STORE_TOO_LARGE = -4,   /* item over -I */
    STORE_NO_MEMORY = -5,   /* no room and eviction off or impossible */
    STORE_NON_NUMERIC = -6, /* arith on a value that is not a number */
};

enum store_mode {
    STORE_SET = 0,
    STORE_ADD,
    STORE_REPLACE,
    STORE_APPEND,
    STORE_PREPEND,
    STORE_CAS,
};

/* Create a store; clock supplies the coarse time.  NULL on bad config or
 * allocation failure. */
struct store *store_create(const struct store_config *cfg, struct clock *clk);

/* Stop background work and free everything; no item may be referenced. */
void store_destroy(struct store *s);

/* Look a key up.  Returns a referenced live item or NULL (missing, expired,
 * flushed, reference limit).  Bumps the item in its LRU. */
struct item *store_get(struct store *s, const char *key, size_t nkey);

/* Look a key up and set its expiry (gat).  Referenced item or NULL. */
struct item *store_get_touch(struct store *s, const char *key, size_t nkey,
                             int64_t exptime);

/*
 * Runs under the item lock on a live item whose value fits the caller's
 * copy limit: copy out what the reply needs (key, flags, CAS, value via
 * slab/item.h).  It must not keep a pointer into the item, nor call the
 * store (the item lock is held).
 */
typedef void (*store_copy_fn)(void *ctx, const struct item *it);

/* What store_read does on a hit. */
struct store_read {
    bool touch;             /* set the expiry (gat, touch) */
    int64_t exptime;        /* with touch: as the client sent it */
    size_t copy_max;        /* values up to this many bytes go to copy */
    store_copy_fn copy;     /* NULL: always reference */
    void *ctx;
};

/* store_read's outcomes. */
enum store_read_rc {
    STORE_READ_MISS = 0,    /* missing, expired, flushed, or the item
                             * holds ITEM_REF_MAX references */
    STORE_READ_COPIED,      /* r->copy ran: nothing referenced */
    STORE_READ_REF,         /* *itp: a referenced item (store_release) */
};

/*
 * Look a key up (and set its expiry with r->touch), bump it in its LRU and
 * count the hit.  A value of at most r->copy_max bytes is handed to
 * r->copy under the item lock and takes no reference; a larger one comes
 * back referenced in *itp.
 */
enum store_read_rc store_read(struct store *s, const char *key, size_t nkey,
                              const struct store_read *r, struct item **itp);

/* What store_peek reports of a live item. */
struct store_peek {
    size_t nbytes;          /* value length */
    unsigned clsid;         /* slab class of its (head) chunk */
    uint32_t exptime;       /* rel time, 0 = never (slab/clock.h) */
};

/* Look a key up without bumping it in its LRU or counting a hit (the
 * operator's bigkeys view must not warm what it inspects): true and *out
 * filled if the key is live. */
bool store_peek(struct store *s, const char *key, size_t nkey,
                struct store_peek *out);

/* The class an item of this key length, flags and value length would
 * take (its head chunk's, for a chunked one); 0 if it is too large. */
unsigned store_class_of(const struct store *s, size_t nkey, uint32_t flags,
                        size_t nbytes);

/* Give back a reference from any store_* lookup. */
void store_release(struct store *s, struct item *it);

/*
 * Store a value.  STORE_CAS compares cas_in with the item's CAS.  For the
 * other modes a nonzero cas_in also has to match (binary protocol).  On
 * STORE_OK *cas_out (if not NULL) receives the new item's CAS.
 */
int store_put(struct store *s, enum store_mode mode, const char *key,
              size_t nkey, uint32_t flags, int64_t exptime, const void *val,
              size_t vlen, uint64_t cas_in, uint64_t *cas_out);

/*
 * Two-phase store, for values read straight off the socket into the item:
 * store_item_new() -> fill the value through store_item_wslices() ->
 * store_item_commit() or store_item_abandon().  The mode's checks (add,
 * replace, CAS) happen at commit.  append/prepend stage only the bytes to
 * add in the new item; commit builds the combined item from it and the old
 * value (the staged item is slab memory, briefly, not a second buffer).
 */

/* An unlinked item for key with room for vlen value bytes, flags and
 * expiry set, owned by the caller.  NULL with *status STORE_TOO_LARGE or
 * STORE_NO_MEMORY; a failed STORE_SET also drops the key's old value. */
struct item *store_item_new(struct store *s, enum store_mode mode,
                            const char *key, size_t nkey, uint32_t flags,
                            int64_t exptime, size_t vlen, int *status);

/* Up to max writable iovecs covering it's value from byte off to its end;
 * returns how many were filled.  Only for an item from store_item_new. */
size_t store_item_wslices(struct item *it, size_t off, struct iovec *iov,
                          size_t max);

/* Link it (fully written) under mode with store_put's semantics and
 * return codes; consumes the caller's item whatever the outcome. */
int store_item_commit(struct store *s, enum store_mode mode, struct item *it,
                      uint64_t cas_in, uint64_t *cas_out);

/* Free an item from store_item_new that will not be committed. */
void store_item_abandon(struct store *s, struct item *it);

/* Arguments and outcome of incr/decr. */
struct store_arith {
    bool incr;              /* false: decr (floors at 0); incr wraps */
    uint64_t delta;
    uint64_t cas_in;        /* nonzero: must match */
    bool create;            /* create with initial when missing */
    uint64_t initial;
    int64_t create_exptime;
    uint32_t create_flags;
    uint64_t value;         /* out: the new value */
    uint64_t cas;           /* out: the new CAS */
    bool created;           /* out: the key was created */
};

/* incr/decr: STORE_OK, STORE_NOT_FOUND, STORE_NON_NUMERIC, STORE_EXISTS,
 * STORE_NO_MEMORY. */
int store_arith(struct store *s, const char *key, size_t nkey,
                struct store_arith *a);

/* Delete; a nonzero cas_in must match.  STORE_OK, STORE_NOT_FOUND,
 * STORE_EXISTS. */
int store_delete(struct store *s, const char *key, size_t nkey,
                 uint64_t cas_in);

/* Set a new expiry.  STORE_OK or STORE_NOT_FOUND. */
int store_touch(struct store *s, const char *key, size_t nkey,
                int64_t exptime);

/* Invalidate every item stored up to now + delay seconds (flush_all). */
void store_flush(struct store *s, int64_t delay);

/* Change the memory budget (cache_memlimit).  Returns STORE_OK, or
 * STORE_NO_MEMORY if it is below what is already allocated: the page
 * mover then frees pages (evicting their items) in the background until
 * it fits, without blocking the caller. */
int store_set_mem_limit(struct store *s, size_t bytes);

/* Replies of store_slabs_reassign (memcached's "slabs reassign"). */
enum store_reassign {
    STORE_REASSIGN_OK = 0,
    STORE_REASSIGN_RUNNING,     /* a move is already under way */
    STORE_REASSIGN_BADCLASS,    /* src or dst is no class */
    STORE_REASSIGN_NOSPARE,     /* src has fewer than two pages */
    STORE_REASSIGN_SAME,        /* src == dst */
};

/*
 * Ask the page mover to move one page from class src to class dst (0: the
 * global page pool).  src -1 picks any class with a spare page.  Returns
 * at once; the page moves in the background (store_reassign enum).
 */
int store_slabs_reassign(struct store *s, int src, int dst);

/* Set the automove mode (0, 1, 2) at run time. */
void store_slabs_automove(struct store *s, unsigned mode);

/* The store's configuration, as created (mem_limit as currently set). */
const struct store_config *store_config(const struct store *s);

/*
 * Statistics.  Each emits name/value pairs through the callback, in
 * memcached's order and names: store_stats -> the store's part of "stats"
 * (the per-class command counters summed: cmd_set, get_hits, ...,
 * touch_hits; curr_items, total_items, evictions, bytes, limit_maxbytes,
 * hash_power_level, ..., ref_limit_misses), store_stats_items -> "stats items",
 * store_stats_slabs -> "stats slabs".
 */
typedef void (*store_emit_fn)(void *ctx, const char *name, const char *value);
void store_stats(struct store *s, store_emit_fn emit, void *ctx);
void store_stats_items(struct store *s, store_emit_fn emit, void *ctx);
void store_stats_slabs(struct store *s, store_emit_fn emit, void *ctx);

/* Reset the resettable counters (stats reset). */
void store_stats_reset(struct store *s);

/* "stats sizes": one "<bytes> <count>" stat per non-empty 32-byte bucket,
 * or sizes_status disabled (slab/sizes.h). */
void store_stats_sizes(struct store *s, store_emit_fn emit, void *ctx);

/* "stats sizes_enable|sizes_disable": false if the histogram could not be
 * allocated. */
bool store_sizes_set(struct store *s, bool on);

/* Is the size histogram on (stats settings track_sizes)? */
bool store_sizes_enabled(const struct store *s);

/* The LRU policy now in force. */
void store_lru_tune_get(struct store *s, struct store_lru_tune *t);

/* Change the LRU policy at run time (the "lru" command); the caller has
 * checked the values (pcts sum to at most 80, factors above 0). */
void store_lru_tune_set(struct store *s, const struct store_lru_tune *t);

/* Bytes of header each item carries (published per-item overhead). */
size_t store_item_overhead(void);

#endif
