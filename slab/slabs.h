/*
 * slabs.h -- the slab allocator: size classes carved from fixed pages.
 *
 * Pages of page_size bytes come from malloc and are charged against a
 * byte budget; each page belongs to one class for life and is cut into
 * chunks of the class size.  Class 1 is 48 + chunk_min bytes, each next
 * class is the previous times factor rounded up to 8, and the last class
 * is page_size / 2, exactly like memcached's.  Each class has its own
 * mutex; slabs_* functions take it, nothing else is locked here.
 */
#ifndef STASHD_SLAB_SLABS_H
#define STASHD_SLAB_SLABS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLAB_CLASS_MAX 64   /* class ids are 1 .. SLAB_CLASS_MAX - 1 */

struct slabs;

/* Per-class numbers for "stats slabs". */
struct slabs_class_stats {
    size_t size;            /* chunk size */
    size_t perslab;         /* chunks per page */
    size_t pages;
    size_t total_chunks;
    size_t used_chunks;
    size_t free_chunks;     /* on the free list */
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
 * page fits the budget (the first page of a class is always granted). */
void *slabs_alloc(struct slabs *sl, unsigned id);

/* Return a chunk obtained from slabs_alloc(sl, id). */
void slabs_free(struct slabs *sl, unsigned id, void *p);

/* Change the budget; false if already above it (nothing is freed). */
bool slabs_set_limit(struct slabs *sl, size_t bytes);

size_t slabs_limit(const struct slabs *sl);

/* Bytes of pages malloc'ed so far. */
size_t slabs_malloced(const struct slabs *sl);

/* Times a page malloc failed. */
uint64_t slabs_malloc_fails(const struct slabs *sl);

/* Snapshot of one class (takes its lock). */
void slabs_class_stats(struct slabs *sl, unsigned id,
                       struct slabs_class_stats *st);

#endif
