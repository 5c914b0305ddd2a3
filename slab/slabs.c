/*
 * slabs.c -- size classes, pages and free lists (slab/slabs.h).
 *
 * A class hands out chunks from, in order: its free list (chunks given
 * back), the uncarved end of its newest page, a new page.  Pages are carved
 * lazily so a new page costs one malloc, not a loop over thousands of
 * chunks.  The budget (bytes of pages) is an atomic counter reserved with
 * compare-and-swap, so classes never take a global lock.  Page malloc
 * happens under the class mutex; it is rare (once per MiB of items).
 */
#include "slab/slabs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLAB_ALIGN 8

struct slab_free {
    struct slab_free *next;
};

struct slab_class {
    pthread_mutex_t lock;
    size_t size;
    size_t perslab;
    struct slab_free *free_list;
    size_t nfree;
    char *end_ptr;          /* next uncarved chunk of the newest page */
    size_t end_left;        /* uncarved chunks left there */
    void **pages;
    size_t npages;
    size_t pages_cap;
} __attribute__((aligned(64)));

struct slabs {
    struct slab_class cls[SLAB_CLASS_MAX];
    unsigned largest;
    size_t page_size;
    size_t limit;           /* atomic */
    size_t malloced;        /* atomic */
    uint64_t malloc_fails;  /* atomic */
};

struct slabs *
slabs_create(size_t mem_limit, size_t page_size, size_t chunk_min,
             double factor)
{
    struct slabs *sl;
    size_t chunk_max = page_size / 2;
    unsigned size;
    unsigned i;

    if (page_size < 1024 || factor <= 1.0 || chunk_min == 0 ||
        48 + chunk_min > chunk_max) {
        return NULL;
    }
    if (posix_memalign((void **)&sl, 64, sizeof(*sl)) != 0) {
        return NULL;
    }
    memset(sl, 0, sizeof(*sl));
    sl->page_size = page_size;
    sl->limit = mem_limit;

    /* Same progression as memcached: truncating multiply, 8-byte round up,
     * stop before reaching chunk_max / factor, then one chunk_max class. */
    size = (unsigned)(48 + chunk_min);
    for (i = 1; i < SLAB_CLASS_MAX - 1; i++) {
        if ((double)size >= (double)chunk_max / factor) {
            break;
        }
        if (size % SLAB_ALIGN != 0) {
            size += SLAB_ALIGN - size % SLAB_ALIGN;
        }
        sl->cls[i].size = size;
        sl->cls[i].perslab = page_size / size;
        size = (unsigned)(size * factor);
    }
    sl->largest = i;
    sl->cls[i].size = chunk_max;
    sl->cls[i].perslab = page_size / chunk_max;
    for (i = 1; i <= sl->largest; i++) {
        pthread_mutex_init(&sl->cls[i].lock, NULL);
    }
    return sl;
}

void
slabs_destroy(struct slabs *sl)
{
    unsigned i;
    size_t p;

    if (sl == NULL) {
        return;
    }
    for (i = 1; i <= sl->largest; i++) {
        for (p = 0; p < sl->cls[i].npages; p++) {
            free(sl->cls[i].pages[p]);
        }
        free(sl->cls[i].pages);
        pthread_mutex_destroy(&sl->cls[i].lock);
    }
    free(sl);
}

unsigned
slabs_largest(const struct slabs *sl)
{
    return sl->largest;
}

unsigned
slabs_clsid(const struct slabs *sl, size_t size)
{
    unsigned lo = 1;
    unsigned hi = sl->largest;

    if (size > sl->cls[hi].size) {
        return 0;
    }
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (sl->cls[mid].size >= size) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

size_t
slabs_size(const struct slabs *sl, unsigned id)
{
    return sl->cls[id].size;
}

/* Reserve page_size bytes of budget; the first page of a class is free of
 * the budget check so that a tiny -m still stores every size. */
static bool
slabs_reserve_page(struct slabs *sl, bool first)
{
    size_t cur = __atomic_load_n(&sl->malloced, __ATOMIC_RELAXED);
    size_t limit = __atomic_load_n(&sl->limit, __ATOMIC_RELAXED);

    for (;;) {
        if (!first && limit != 0 && cur + sl->page_size > limit) {
            return false;
        }
        if (__atomic_compare_exchange_n(&sl->malloced, &cur,
                                        cur + sl->page_size, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            return true;
        }
    }
}

/* Add a page to class c; its lock is held. */
static bool
slabs_grow_locked(struct slabs *sl, struct slab_class *c)
{
    char *page;

    if (c->npages == c->pages_cap) {
        size_t cap = c->pages_cap == 0 ? 16 : c->pages_cap * 2;
        void **np = realloc(c->pages, cap * sizeof(*np));

        if (np == NULL) {
            return false;
        }
        c->pages = np;
        c->pages_cap = cap;
    }
    if (!slabs_reserve_page(sl, c->npages == 0)) {
        return false;
    }
    page = malloc(sl->page_size);
    if (page == NULL) {
        __atomic_sub_fetch(&sl->malloced, sl->page_size, __ATOMIC_RELAXED);
        __atomic_add_fetch(&sl->malloc_fails, 1, __ATOMIC_RELAXED);
        return false;
    }
    c->pages[c->npages++] = page;
    c->end_ptr = page;
    c->end_left = c->perslab;
    return true;
}

void *
slabs_alloc(struct slabs *sl, unsigned id)
{
    struct slab_class *c = &sl->cls[id];
    void *p = NULL;

    pthread_mutex_lock(&c->lock);
    if (c->free_list != NULL) {
        p = c->free_list;
        c->free_list = c->free_list->next;
        c->nfree--;
    } else if (c->end_left > 0 || slabs_grow_locked(sl, c)) {
        p = c->end_ptr;
        c->end_ptr += c->size;
        c->end_left--;
    }
    pthread_mutex_unlock(&c->lock);
    return p;
}

void
slabs_free(struct slabs *sl, unsigned id, void *p)
{
    struct slab_class *c = &sl->cls[id];
    struct slab_free *f = p;

    pthread_mutex_lock(&c->lock);
    f->next = c->free_list;
    c->free_list = f;
    c->nfree++;
    pthread_mutex_unlock(&c->lock);
}

bool
slabs_set_limit(struct slabs *sl, size_t bytes)
{
    __atomic_store_n(&sl->limit, bytes, __ATOMIC_RELAXED);
    return slabs_malloced(sl) <= bytes;
}

size_t
slabs_limit(const struct slabs *sl)
{
    return __atomic_load_n(&sl->limit, __ATOMIC_RELAXED);
}

size_t
slabs_malloced(const struct slabs *sl)
{
    return __atomic_load_n(&sl->malloced, __ATOMIC_RELAXED);
}

uint64_t
slabs_malloc_fails(const struct slabs *sl)
{
    return __atomic_load_n(&sl->malloc_fails, __ATOMIC_RELAXED);
}

void
slabs_class_stats(struct slabs *sl, unsigned id, struct slabs_class_stats *st)
{
    struct slab_class *c = &sl->cls[id];

    pthread_mutex_lock(&c->lock);
    st->size = c->size;
    st->perslab = c->perslab;
    st->pages = c->npages;
    st->total_chunks = c->npages * c->perslab;
    st->free_end = c->end_left;
    st->free_chunks = c->nfree;
    st->used_chunks = st->total_chunks - c->nfree - c->end_left;
    pthread_mutex_unlock(&c->lock);
}
