/*
 * slabs.h -- the slab allocator: size classes carved from fixed pages.
 *
 * Pages of page_size bytes come from malloc and are charged against a
 * byte budget; each page belongs to one class for life and is cut into
 * chunks of the class size.  The classes are memcached's (48 + chunk_min,
 * each next the previous times factor rounded up to 8, the last page_size
 * / 2) less the 11 bytes a memcached item has and a stashd item has not,
 * rounded up to 8: 8 bytes smaller, the last class the same.  Each class
 * has its own mutex; slabs_* functions take it unless named _locked.
 *
 * Pages can change hands (the page mover, slab/mover.c): a class gives up
 * one page at a time.  While a page is being moved its chunks are
 * "cleared" one by one -- a free chunk is taken off the free list, a chunk
 * freed into it is not put back -- and once every chunk is cleared the
 * page is wiped and goes to another class, to the global page pool (from
 * which any class that grows takes first) or back to the allocator.
 *
 * Every chunk carries a kind byte at SLAB_KIND_OFFSET so that whoever walks
 * a page can tell what each chunk holds.  For an item that byte is its LRU
 * id (class in the low 6 bits, never 0); the values below have class 0:
 *
 *   SLAB_KIND_FREE     on the class free list (written under its lock)
 *   SLAB_KIND_NEW      handed out by slabs_alloc, not yet initialised,
 *                      or held in a thread's cache (slab/slabs.c)
 *   SLAB_KIND_CHUNK    a continuation chunk of a chunked value
 *   SLAB_KIND_CLEARED  in a page being moved, no longer in use
 */
#ifndef STASHD_SLAB_SLABS_H
#define STASHD_SLAB_SLABS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLAB_CLASS_MAX 64   /* class ids are 1 .. SLAB_CLASS_MAX - 1 */

/* Where the kind byte lives in every chunk (smaller than any chunk). */
#define SLAB_KIND_OFFSET 47
#define SLAB_KIND_FREE 0x40
#define SLAB_KIND_NEW 0x80
#define SLAB_KIND_CHUNK 0xc0
#define SLAB_KIND_CLEARED 0x00

/* Destination "class" of a moved page: the global pool, the allocator. */
#define SLABS_POOL 0
#define SLABS_RELEASE (-2)

struct slabs;

/* Per-class numbers for "stats slabs". */
struct slabs_class_stats {
    size_t size;            /* chunk size */
    size_t perslab;         /* chunks per page */
    size_t pages;
    size_t total_chunks;
    size_t used_chunks;
    size_t free_chunks;     /* on the free list or in thread caches */
    size_t cached;          /* of which in thread caches */
    size_t free_end;        /* chunks never carved from the newest page */
};

/* Build the classes.  NULL on bad parameters or allocation failure. */
struct slabs *slabs_create(size_t mem_limit, size_t page_size,
                           size_t chunk_min, double factor);

/* Free every page; callers must have stopped using all chunks. */
void slabs_destroy(struct slabs *sl);

/* Largest class id (also the class of page_size / 2 chunks). */
unsigned slabs_largest(const struct slabs *sl);

/* Smallest class whose chunks hold size bytes; 0 if none does. */
unsigned slabs_clsid(const struct slabs *sl, size_t size);

/* Chunk size of class id. */
size_t slabs_size(const struct slabs *sl, unsigned id);

/* A free chunk of class id, or NULL when the class has none and no new
 * page fits the budget (the first page of a class is always granted).
 * Cached classes take it from the calling thread's cache, refilled with
 * a batch under one class lock hold when empty. */
void *slabs_alloc(struct slabs *sl, unsigned id);

/* Return a chunk obtained from slabs_alloc(sl, id): into the calling
 * thread's cache when its class is cached (no lock), else (or when the
 * cache is full, half of it) to the class free list. */
void slabs_free(struct slabs *sl, unsigned id, void *p);

/* Return a chunk straight to the class free list under the class lock,
 * bypassing the thread cache: for continuation chunks, whose owner the
 * page mover reads under that lock. */
void slabs_free_direct(struct slabs *sl, unsigned id, void *p);

/* Give every chunk the calling thread holds in its cache for sl back to
 * the classes (one lock per class that holds some): for threads that
 * free but do not allocate (the LRU maintainer, the crawler). */
void slabs_flush_mine(struct slabs *sl);

/* Take every cached chunk of sl out of all threads' caches onto the free
 * lists (any thread; a lowered memory limit). */
void slabs_drain_caches(struct slabs *sl);

/* Change the budget; false if already above it (nothing is freed here:
 * the page mover gives pages back until it fits). */
bool slabs_set_limit(struct slabs *sl, size_t bytes);

size_t slabs_limit(const struct slabs *sl);

/* Bytes of pages malloc'ed so far. */
size_t slabs_malloced(const struct slabs *sl);

/* Times a page malloc failed. */
uint64_t slabs_malloc_fails(const struct slabs *sl);

/* Pages in the global page pool. */
size_t slabs_pool_pages(const struct slabs *sl);

/* Pages of class id (0: the pool). */
size_t slabs_pages(struct slabs *sl, unsigned id);

/* ---- the page mover's side (slab/mover.c) ---- */

/* The kind byte of chunk p (any thread; relaxed). */
uint8_t slabs_kind(const void *p);

/* Set the kind byte of chunk p (release: what was written before it is
 * visible to whoever reads the kind with slabs_kind under the lock). */
void slabs_set_kind(void *p, uint8_t kind);

/* Take or release the lock of class id. */
void slabs_lock(struct slabs *sl, unsigned id);
void slabs_unlock(struct slabs *sl, unsigned id);

/* A free-list chunk of class id, never a new page; NULL if none. */
void *slabs_alloc_free(struct slabs *sl, unsigned id);

/*
 * Start moving a page out of class id (at least two pages needed): its
 * free and uncarved chunks are cleared at once.  Returns the page, or NULL
 * if the class has fewer than two pages or a move is already under way.
 */
char *slabs_move_begin(struct slabs *sl, unsigned id);

/* Chunk size and count of the page being moved out of class id. */
size_t slabs_perslab(const struct slabs *sl, unsigned id);

/*
 * The kind of chunk p of the page being moved out of id; class lock held.
 * A free chunk is cleared on the way (SLAB_KIND_CLEARED is returned).
 */
uint8_t slabs_move_kind_locked(struct slabs *sl, unsigned id, void *p);

/*
 * Finish the move: every chunk of the page is cleared.  The page is
 * wiped and given to class dst (1..largest), the pool (SLABS_POOL) or
 * freed (SLABS_RELEASE, which also lowers the bytes malloc'ed).
 */
void slabs_move_end(struct slabs *sl, unsigned id, int dst);

/* Give up a move (shutdown): the page stays with its class, unused. */
void slabs_move_abandon(struct slabs *sl, unsigned id);

/* Give one pool page to class dst; false if the pool is empty. */
bool slabs_pool_give(struct slabs *sl, unsigned dst);

/* Free one pool page to the allocator; false if the pool is empty. */
bool slabs_pool_release(struct slabs *sl);

/* Snapshot of one class (takes its lock). */
void slabs_class_stats(struct slabs *sl, unsigned id,
                       struct slabs_class_stats *st);

#endif
