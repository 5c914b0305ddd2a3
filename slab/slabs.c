/*
 * slabs.c -- size classes, pages and free lists (slab/slabs.h).
 *
 * A class hands out chunks from, in order: its free list (chunks given
 * back), the uncarved end of its newest page, a new page.  Pages are carved
 * lazily so a new page costs one malloc, not a loop over thousands of
 * chunks.  The budget (bytes of pages) is an atomic counter reserved with
 * compare-and-swap, so classes never take a global lock.  Page malloc
 * happens under the class mutex; it is rare (once per MiB of items).
 *
 * The free list is doubly linked so that the page mover can take the free
 * chunks of one page off it without walking it.  A class that grows takes
 * a page from the global pool before it asks malloc for one; the pool's
 * lock is a leaf, taken under a class lock or alone.
 *
 * Thread caches.  Each thread that allocates or frees keeps up to
 * SLABS_TC_CAP free chunks per class of its own (classes with at least
 * SLABS_TC_MIN_PERSLAB chunks a page), so that most allocations and frees
 * take no class lock: an empty cache is refilled with half a cache under
 * one lock hold, a full one gives half back under one.  A cached chunk
 * still belongs to its page and has kind SLAB_KIND_NEW, which the page
 * mover treats as "busy"; its slot is an atomic pointer that the owner
 * takes with an exchange and that anyone holding the class lock may take
 * the same way (the mover for a page it empties, a lowered memory limit
 * for all of them), so a chunk leaves a cache exactly once.  A chunk of a
 * page being moved never enters a cache (slabs->moving, read without the
 * lock; one that slips in just as the move begins is taken by the mover
 * on its next look), and one popped from a cache goes back to its class
 * instead of out.  "stats slabs" counts cached chunks as free.
 *
 * The caches live in a process-wide registry, never freed (a thread that
 * exits gives its chunks back and its cache to the next thread), each
 * bound to one slabs at a time by uid: a thread switching stores (tests)
 * gives its chunks back to the old one first, under the cache's bind
 * mutex, which slabs_destroy also takes to unbind the caches of a store
 * going away.
 */
#include "slab/lock.h"
#include "slab/slabs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLAB_ALIGN 8

/* Free chunks a thread keeps per class; refills and give-backs move
 * half of it under one class lock hold. */
#define SLABS_TC_CAP 32

/* Classes with fewer chunks per page are not cached: 32 chunks held idle
 * per thread stay under 1/16 of a page. */
#define SLABS_TC_MIN_PERSLAB 512

/*
 * Fixed bytes of a memcached 1.6 item that a stashd item does not have:
 * memcached's chunk holds a 48-byte header, an 8-byte CAS, the key's NUL
 * and the value's "\r\n"; stashd's 48-byte header includes the CAS and
 * stores neither terminator.  A class is memcached's chunk size less these
 * 11 bytes, rounded up to SLAB_ALIGN (so 8 less): a key and value land in
 * the class they would in memcached (within 3 bytes) and each item takes 8
 * bytes less.  With memcached's sizes the saving only showed for an item
 * within 11 bytes of a class boundary, and the rest shifted which values
 * share a class: a 50 B-4 KiB log-uniform fill sent fewer values to the
 * small classes, which therefore asked for their second page after memory
 * had run out (scripts/memfit, README).
 */
#define SLAB_MC_EXTRA 11

struct slab_free {
    struct slab_free *next;
    struct slab_free *prev;
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
    char *move_page;        /* page being moved out, or NULL */
} __attribute__((aligned(64)));

struct slabs {
    struct slab_class cls[SLAB_CLASS_MAX];
    /* Read on every cached allocation and free, written only when a
     * move begins and ends: apart from the class locks' lines. */
    char *moving[SLAB_CLASS_MAX];   /* atomic: move_page of each class */
    unsigned tc_batch[SLAB_CLASS_MAX];  /* refill size, 0: not cached */
    uint64_t uid;           /* binds thread caches (never 0) */
    unsigned largest;
    size_t page_size;
    size_t limit;           /* atomic */
    size_t malloced;        /* atomic */
    uint64_t malloc_fails;  /* atomic */
    pthread_mutex_t pool_lock;
    void **pool;            /* the global page pool, under pool_lock */
    size_t npool;           /* atomic for readers without the lock */
    size_t pool_cap;
};

/* One thread's cache of free chunks (see the top of this file). */
struct slabs_tcache {
    struct slabs_tcache *next;  /* the registry; set before publishing */
    pthread_mutex_t bind;       /* changes of sl/uid; before class locks */
    bool claimed;               /* atomic: a live thread owns it */
    uint64_t uid;               /* atomic: uid of the slabs bound, or 0 */
    struct slabs *sl;           /* the slabs bound, under bind */
    unsigned n[SLAB_CLASS_MAX]; /* owner only: slots at and above n[id]
                                 * are NULL */
    void *slot[SLAB_CLASS_MAX][SLABS_TC_CAP];  /* atomic */
} __attribute__((aligned(64)));

/* Mutable globals, by necessity: the thread caches belong to threads, not
 * to a store, and a thread-exit destructor needs one key. */
static struct slabs_tcache *slabs_tc_head;     /* atomic, push only */
static uint64_t slabs_uid_next;                 /* atomic */
static pthread_key_t slabs_tc_key;
static pthread_once_t slabs_tc_once = PTHREAD_ONCE_INIT;
static __thread struct slabs_tcache *slabs_tc_self;

static void slabs_tc_unbind_all(struct slabs *sl);

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

    /* memcached's progression (truncating multiply, 8-byte round up, stop
     * before reaching chunk_max / factor, then one chunk_max class), each
     * class SLAB_MC_EXTRA smaller. */
    size = (unsigned)(48 + chunk_min);
    for (i = 1; i < SLAB_CLASS_MAX - 1; i++) {
        size_t own;

        if ((double)size >= (double)chunk_max / factor) {
            break;
        }
        if (size % SLAB_ALIGN != 0) {
            size += SLAB_ALIGN - size % SLAB_ALIGN;
        }
        own = size - SLAB_MC_EXTRA;
        own += (SLAB_ALIGN - own % SLAB_ALIGN) % SLAB_ALIGN;
        sl->cls[i].size = own;
        sl->cls[i].perslab = page_size / own;
        size = (unsigned)(size * factor);
    }
    sl->largest = i;
    sl->cls[i].size = chunk_max;
    sl->cls[i].perslab = page_size / chunk_max;
    for (i = 1; i <= sl->largest; i++) {
        pthread_mutex_init(&sl->cls[i].lock, NULL);
        if (sl->cls[i].perslab >= SLABS_TC_MIN_PERSLAB) {
            sl->tc_batch[i] = SLABS_TC_CAP / 2;
        }
    }
    sl->uid = __atomic_add_fetch(&slabs_uid_next, 1, __ATOMIC_RELAXED);
    pthread_mutex_init(&sl->pool_lock, NULL);
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
    slabs_tc_unbind_all(sl);
    for (i = 1; i <= sl->largest; i++) {
        for (p = 0; p < sl->cls[i].npages; p++) {
            free(sl->cls[i].pages[p]);
        }
        free(sl->cls[i].pages);
        pthread_mutex_destroy(&sl->cls[i].lock);
    }
    for (p = 0; p < sl->npool; p++) {
        free(sl->pool[p]);
    }
    free(sl->pool);
    pthread_mutex_destroy(&sl->pool_lock);
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

/* Room for one more page in c's page array; its lock is held. */
static bool
slabs_page_room_locked(struct slab_class *c)
{
    if (c->npages == c->pages_cap) {
        size_t cap = c->pages_cap == 0 ? 16 : c->pages_cap * 2;
        void **np = realloc(c->pages, cap * sizeof(*np));

        if (np == NULL) {
            return false;
        }
        c->pages = np;
        c->pages_cap = cap;
    }
    return true;
}

/* A page from the global pool, or NULL. */
static char *
slabs_pool_take(struct slabs *sl)
{
    char *page = NULL;

    /* a full cache finds the pool empty on every allocation: no lock */
    if (__atomic_load_n(&sl->npool, __ATOMIC_RELAXED) == 0) {
        return NULL;
    }
    lock_take(&sl->pool_lock, LOCK_POOL);
    if (sl->npool > 0) {
        page = sl->pool[sl->npool - 1];
        __atomic_store_n(&sl->npool, sl->npool - 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&sl->pool_lock);
    return page;
}

/* Put page into the global pool (freed if the pool cannot grow). */
static void
slabs_pool_put(struct slabs *sl, char *page)
{
    lock_take(&sl->pool_lock, LOCK_POOL);
    if (sl->npool == sl->pool_cap) {
        size_t cap = sl->pool_cap == 0 ? 16 : sl->pool_cap * 2;
        void **np = realloc(sl->pool, cap * sizeof(*np));

        if (np == NULL) {
            pthread_mutex_unlock(&sl->pool_lock);
            free(page);
            __atomic_sub_fetch(&sl->malloced, sl->page_size,
                               __ATOMIC_RELAXED);
            return;
        }
        sl->pool = np;
        sl->pool_cap = cap;
    }
    sl->pool[sl->npool] = page;
    __atomic_store_n(&sl->npool, sl->npool + 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&sl->pool_lock);
}

/* Push chunk f onto c's free list; its lock is held. */
static void
slabs_push_free_locked(struct slab_class *c, struct slab_free *f)
{
    f->prev = NULL;
    f->next = c->free_list;
    if (c->free_list != NULL) {
        c->free_list->prev = f;
    }
    c->free_list = f;
    c->nfree++;
    slabs_set_kind(f, SLAB_KIND_FREE);
}

/* Take chunk f off c's free list; its lock is held. */
static void
slabs_unlink_free_locked(struct slab_class *c, struct slab_free *f)
{
    if (f->prev != NULL) {
        f->prev->next = f->next;
    } else {
        c->free_list = f->next;
    }
    if (f->next != NULL) {
        f->next->prev = f->prev;
    }
    c->nfree--;
}

/* Add page to class c (its lock held, room made): carved lazily when the
 * class has no uncarved end, else onto the free list at once. */
static void
slabs_add_page_locked(struct slab_class *c, char *page)
{
    size_t i;

    c->pages[c->npages++] = page;
    if (c->end_left == 0) {
        c->end_ptr = page;
        c->end_left = c->perslab;
        return;
    }
    for (i = 0; i < c->perslab; i++) {
        slabs_push_free_locked(c, (struct slab_free *)(page + i * c->size));
    }
}

/* Add a page to class c; its lock is held. */
static bool
slabs_grow_locked(struct slabs *sl, struct slab_class *c)
{
    char *page;

    if (!slabs_page_room_locked(c)) {
        return false;
    }
    page = slabs_pool_take(sl);
    if (page == NULL) {
        if (!slabs_reserve_page(sl, c->npages == 0)) {
            return false;
        }
        page = malloc(sl->page_size);
        if (page == NULL) {
            __atomic_sub_fetch(&sl->malloced, sl->page_size,
                               __ATOMIC_RELAXED);
            __atomic_add_fetch(&sl->malloc_fails, 1, __ATOMIC_RELAXED);
            return false;
        }
    }
    slabs_add_page_locked(c, page);
    return true;
}

/* A chunk of class id: the free list, then (if carve) the uncarved end
 * or a new page. */
static void *
slabs_take(struct slabs *sl, unsigned id, bool carve)
{
    struct slab_class *c = &sl->cls[id];
    void *p = NULL;

    lock_take(&c->lock, LOCK_SLABS);
    if (c->free_list != NULL) {
        p = c->free_list;
        slabs_unlink_free_locked(c, c->free_list);
    } else if (carve && (c->end_left > 0 || slabs_grow_locked(sl, c))) {
        p = c->end_ptr;
        c->end_ptr += c->size;
        c->end_left--;
    }
    if (p != NULL) {
        slabs_set_kind(p, SLAB_KIND_NEW);
    }
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void *slabs_tc_alloc(struct slabs *sl, unsigned id);

void *
slabs_alloc(struct slabs *sl, unsigned id)
{
    if (sl->tc_batch[id] != 0) {
        return slabs_tc_alloc(sl, id);
    }
    return slabs_take(sl, id, true);
}

void *
slabs_alloc_free(struct slabs *sl, unsigned id)
{
    return slabs_take(sl, id, false);
}

/* Is p in the page being moved out of c? */
static bool
slabs_in_move_locked(const struct slabs *sl, const struct slab_class *c,
                     const void *p)
{
    const char *q = p;

    return c->move_page != NULL && q >= c->move_page &&
           q < c->move_page + sl->page_size;
}

/* Give chunk p back to class c (its lock held): onto the free list, or
 * cleared when its page is being moved out. */
static void
slabs_put_locked(struct slabs *sl, struct slab_class *c, void *p)
{
    if (slabs_in_move_locked(sl, c, p)) {
        /* The mover is emptying this page: do not hand it out again. */
        slabs_set_kind(p, SLAB_KIND_CLEARED);
    } else {
        slabs_push_free_locked(c, p);
    }
}

void
slabs_free_direct(struct slabs *sl, unsigned id, void *p)
{
    struct slab_class *c = &sl->cls[id];

    lock_take(&c->lock, LOCK_SLABS);
    slabs_put_locked(sl, c, p);
    pthread_mutex_unlock(&c->lock);
}

/* ---- thread caches ------------------------------------------------ */

/* Is p in the page being moved out of id?  No lock: a move that begins
 * right after a "no" finds the chunk in a cache and takes it there. */
static bool
slabs_moving(const struct slabs *sl, unsigned id, const void *p)
{
    const char *page = __atomic_load_n(&sl->moving[id], __ATOMIC_ACQUIRE);
    const char *q = p;

    return page != NULL && q >= page && q < page + sl->page_size;
}

/* Give the top k cached chunks of class id back to it (one lock hold). */
static void
slabs_tc_flush(struct slabs *sl, struct slabs_tcache *tc, unsigned id,
               unsigned k)
{
    struct slab_class *c = &sl->cls[id];
    unsigned n = tc->n[id];

    if (n == 0) {
        return;
    }
    lock_take(&c->lock, LOCK_SLABS);
    while (n > 0 && k > 0) {
        void *p = __atomic_exchange_n(&tc->slot[id][--n], NULL,
                                      __ATOMIC_ACQUIRE);

        if (p != NULL) {
            slabs_put_locked(sl, c, p);
            k--;
        }
    }
    pthread_mutex_unlock(&c->lock);
    tc->n[id] = n;
}

/* Bound to nothing any more: give the chunks back to the slabs bound (if
 * it still is), or forget them (it was destroyed).  bind held. */
static void
slabs_tc_unbind_locked(struct slabs_tcache *tc)
{
    bool bound = __atomic_load_n(&tc->uid, __ATOMIC_RELAXED) != 0;
    unsigned id, j;

    for (id = 1; id < SLAB_CLASS_MAX; id++) {
        if (bound) {
            slabs_tc_flush(tc->sl, tc, id, SLABS_TC_CAP);
        }
        for (j = 0; j < SLABS_TC_CAP; j++) {
            __atomic_store_n(&tc->slot[id][j], NULL, __ATOMIC_RELAXED);
        }
        tc->n[id] = 0;
    }
    tc->sl = NULL;
    __atomic_store_n(&tc->uid, 0, __ATOMIC_RELEASE);
}

/* Thread exit: chunks back, cache free for the next thread. */
static void
slabs_tc_exit(void *arg)
{
    struct slabs_tcache *tc = arg;

    lock_take(&tc->bind, LOCK_SLABS);
    slabs_tc_unbind_locked(tc);
    pthread_mutex_unlock(&tc->bind);
    slabs_tc_self = NULL;
    __atomic_store_n(&tc->claimed, false, __ATOMIC_RELEASE);
}

static void
slabs_tc_key_init(void)
{
    if (pthread_key_create(&slabs_tc_key, slabs_tc_exit) != 0) {
        abort();
    }
}

/* A cache for the calling thread: a free one of the registry, or a new
 * one; NULL when out of memory. */
static struct slabs_tcache *
slabs_tc_claim(void)
{
    struct slabs_tcache *tc;

    pthread_once(&slabs_tc_once, slabs_tc_key_init);
    for (tc = __atomic_load_n(&slabs_tc_head, __ATOMIC_ACQUIRE); tc != NULL;
         tc = tc->next) {
        bool no = false;

        if (!__atomic_load_n(&tc->claimed, __ATOMIC_RELAXED) &&
            __atomic_compare_exchange_n(&tc->claimed, &no, true, false,
                                        __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            break;
        }
    }
    if (tc == NULL) {
        if (posix_memalign((void **)&tc, 64, sizeof(*tc)) != 0) {
            return NULL;
        }
        memset(tc, 0, sizeof(*tc));
        pthread_mutex_init(&tc->bind, NULL);
        tc->claimed = true;
        tc->next = __atomic_load_n(&slabs_tc_head, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&slabs_tc_head, &tc->next, tc,
                                            true, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED)) {
        }
    }
    if (pthread_setspecific(slabs_tc_key, tc) != 0) {
        __atomic_store_n(&tc->claimed, false, __ATOMIC_RELEASE);
        return NULL;
    }
    slabs_tc_self = tc;
    return tc;
}

/* The calling thread's cache, bound to sl; NULL when none can be had. */
static struct slabs_tcache *
slabs_tc_get(struct slabs *sl)
{
    struct slabs_tcache *tc = slabs_tc_self;

    if (__builtin_expect(tc != NULL, 1) &&
        __atomic_load_n(&tc->uid, __ATOMIC_RELAXED) == sl->uid) {
        return tc;
    }
    if (tc == NULL && (tc = slabs_tc_claim()) == NULL) {
        return NULL;
    }
    lock_take(&tc->bind, LOCK_SLABS);
    slabs_tc_unbind_locked(tc);
    tc->sl = sl;
    /* release: the cleared slots before the uid that makes the page
     * mover and stats of sl look at them */
    __atomic_store_n(&tc->uid, sl->uid, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&tc->bind);
    return tc;
}

/* The top chunk of tc's class id, or NULL when it holds none. */
static void *
slabs_tc_pop(struct slabs *sl, struct slabs_tcache *tc, unsigned id)
{
    unsigned n = tc->n[id];
    void *p = NULL;

    while (n > 0) {
        p = __atomic_exchange_n(&tc->slot[id][--n], NULL, __ATOMIC_ACQUIRE);
        if (p == NULL) {
            continue;       /* taken by the page mover */
        }
        if (!slabs_moving(sl, id, p)) {
            break;
        }
        /* it entered the cache just before its page's move began */
        slabs_free_direct(sl, id, p);
        p = NULL;
    }
    tc->n[id] = n;
    return p;
}

/* Fill tc's empty class id with up to tc_batch chunks under one lock
 * hold: free list, uncarved end, and a new page only if nothing else. */
static void
slabs_tc_refill(struct slabs *sl, struct slabs_tcache *tc, unsigned id)
{
    struct slab_class *c = &sl->cls[id];
    void *got[SLABS_TC_CAP];
    unsigned k = 0, j;

    lock_take(&c->lock, LOCK_SLABS);
    while (k < sl->tc_batch[id]) {
        void *p;

        if (c->free_list != NULL) {
            p = c->free_list;
            slabs_unlink_free_locked(c, c->free_list);
        } else if (c->end_left > 0 ||
                   (k == 0 && slabs_grow_locked(sl, c))) {
            p = c->end_ptr;
            c->end_ptr += c->size;
            c->end_left--;
        } else {
            break;
        }
        slabs_set_kind(p, SLAB_KIND_NEW);
        got[k++] = p;
    }
    /* popped from the top: in the order taken (carved chunks ascending).
     * Release, under the class lock: a move that begins after it sees
     * the chunks in their slots. */
    for (j = 0; j < k; j++) {
        __atomic_store_n(&tc->slot[id][j], got[k - 1 - j], __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&c->lock);
    tc->n[id] = k;
}

static void *
slabs_tc_alloc(struct slabs *sl, unsigned id)
{
    struct slabs_tcache *tc = slabs_tc_get(sl);
    void *p;

    if (tc == NULL) {
        return slabs_take(sl, id, true);
    }
    p = slabs_tc_pop(sl, tc, id);
    if (p == NULL) {
        slabs_tc_refill(sl, tc, id);
        p = slabs_tc_pop(sl, tc, id);
    }
    return p;
}

void
slabs_free(struct slabs *sl, unsigned id, void *p)
{
    struct slabs_tcache *tc;

    if (sl->tc_batch[id] == 0 || slabs_moving(sl, id, p) ||
        (tc = slabs_tc_get(sl)) == NULL) {
        slabs_free_direct(sl, id, p);
        return;
    }
    slabs_set_kind(p, SLAB_KIND_NEW);
    if (tc->n[id] == SLABS_TC_CAP) {
        slabs_tc_flush(sl, tc, id, SLABS_TC_CAP / 2);
    }
    __atomic_store_n(&tc->slot[id][tc->n[id]++], p, __ATOMIC_RELEASE);
}

void
slabs_flush_mine(struct slabs *sl)
{
    struct slabs_tcache *tc = slabs_tc_self;
    unsigned id;

    if (tc == NULL || __atomic_load_n(&tc->uid, __ATOMIC_RELAXED) != sl->uid) {
        return;
    }
    for (id = 1; id <= sl->largest; id++) {
        slabs_tc_flush(sl, tc, id, SLABS_TC_CAP);
    }
}

/*
 * The first thread cache bound to sl after tc (from the head when tc is
 * NULL), or NULL.  Acquire: pairs with the release in slabs_tc_get, so no
 * slot of an earlier binding is seen.
 */
static struct slabs_tcache *
slabs_tc_next_bound(const struct slabs *sl, struct slabs_tcache *tc)
{
    tc = tc == NULL ? __atomic_load_n(&slabs_tc_head, __ATOMIC_ACQUIRE)
                    : tc->next;
    while (tc != NULL &&
           __atomic_load_n(&tc->uid, __ATOMIC_ACQUIRE) != sl->uid) {
        tc = tc->next;
    }
    return tc;
}

/*
 * Take the chunks of class id in [lo, hi) out of every thread's cache;
 * class lock held.  Each goes onto the free list (to_free) or is cleared
 * (its page is being moved).  Returns how many were found.
 */
static size_t
slabs_tc_steal_locked(struct slabs *sl, unsigned id, uintptr_t lo,
                      uintptr_t hi, bool to_free)
{
    struct slab_class *c = &sl->cls[id];
    struct slabs_tcache *tc;
    size_t found = 0;
    unsigned j;

    for (tc = slabs_tc_next_bound(sl, NULL); tc != NULL;
         tc = slabs_tc_next_bound(sl, tc)) {
        for (j = 0; j < SLABS_TC_CAP; j++) {
            void *p = __atomic_load_n(&tc->slot[id][j], __ATOMIC_RELAXED);

            if (p == NULL || (uintptr_t)p < lo || (uintptr_t)p >= hi ||
                !__atomic_compare_exchange_n(&tc->slot[id][j], &p, NULL,
                                             false, __ATOMIC_ACQUIRE,
                                             __ATOMIC_RELAXED)) {
                continue;
            }
            found++;
            if (to_free) {
                slabs_put_locked(sl, c, p);
            } else {
                slabs_set_kind(p, SLAB_KIND_CLEARED);
            }
        }
    }
    return found;
}

/* Chunks of class id held in thread caches (class lock held; a snapshot
 * while their owners work). */
static size_t
slabs_tc_count(const struct slabs *sl, unsigned id)
{
    struct slabs_tcache *tc;
    size_t n = 0;
    unsigned j;

    for (tc = slabs_tc_next_bound(sl, NULL); tc != NULL;
         tc = slabs_tc_next_bound(sl, tc)) {
        for (j = 0; j < SLABS_TC_CAP; j++) {
            n += __atomic_load_n(&tc->slot[id][j], __ATOMIC_RELAXED) != NULL;
        }
    }
    return n;
}

/* Unbind every cache bound to sl (being destroyed); their owners forget
 * the chunks when they next bind. */
static void
slabs_tc_unbind_all(struct slabs *sl)
{
    struct slabs_tcache *tc;

    for (tc = __atomic_load_n(&slabs_tc_head, __ATOMIC_ACQUIRE); tc != NULL;
         tc = tc->next) {
        lock_take(&tc->bind, LOCK_SLABS);
        if (__atomic_load_n(&tc->uid, __ATOMIC_RELAXED) == sl->uid) {
            tc->sl = NULL;
            __atomic_store_n(&tc->uid, 0, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&tc->bind);
    }
}

void
slabs_drain_caches(struct slabs *sl)
{
    unsigned id;

    for (id = 1; id <= sl->largest; id++) {
        if (sl->tc_batch[id] == 0) {
            continue;
        }
        lock_take(&sl->cls[id].lock, LOCK_SLABS);
        slabs_tc_steal_locked(sl, id, 0, UINTPTR_MAX, true);
        pthread_mutex_unlock(&sl->cls[id].lock);
    }
}

uint8_t
slabs_kind(const void *p)
{
    return __atomic_load_n((const uint8_t *)p + SLAB_KIND_OFFSET,
                           __ATOMIC_ACQUIRE);
}

void
slabs_set_kind(void *p, uint8_t kind)
{
    __atomic_store_n((uint8_t *)p + SLAB_KIND_OFFSET, kind,
                     __ATOMIC_RELEASE);
}

void
slabs_lock(struct slabs *sl, unsigned id)
{
    lock_take(&sl->cls[id].lock, LOCK_SLABS);
}

void
slabs_unlock(struct slabs *sl, unsigned id)
{
    pthread_mutex_unlock(&sl->cls[id].lock);
}

size_t
slabs_perslab(const struct slabs *sl, unsigned id)
{
    return sl->cls[id].perslab;
}

char *
slabs_move_begin(struct slabs *sl, unsigned id)
{
    struct slab_class *c = &sl->cls[id];
    char *page = NULL;
    size_t i;

    lock_take(&c->lock, LOCK_SLABS);
    if (c->move_page != NULL || c->npages < 2) {
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    /* The oldest page: its items are the likeliest to be cold. */
    page = c->pages[0];
    c->move_page = page;
    __atomic_store_n(&sl->moving[id], page, __ATOMIC_RELEASE);
    /* Every cached chunk of the class out of the threads' caches: those
     * of this page cleared, the rest onto the free list, where the mover
     * finds chunks to rescue items into. */
    if (sl->tc_batch[id] != 0) {
        slabs_tc_steal_locked(sl, id, 0, UINTPTR_MAX, true);
    }
    if (c->end_left > 0 && c->end_ptr >= page &&
        c->end_ptr < page + sl->page_size) {
        for (i = 0; i < c->end_left; i++) {
            slabs_set_kind(c->end_ptr + i * c->size, SLAB_KIND_CLEARED);
        }
        c->end_left = 0;
    }
    for (i = 0; i < c->perslab; i++) {
        char *p = page + i * c->size;

        if (slabs_kind(p) == SLAB_KIND_FREE) {
            slabs_unlink_free_locked(c, (struct slab_free *)p);
            slabs_set_kind(p, SLAB_KIND_CLEARED);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return page;
}

uint8_t
slabs_move_kind_locked(struct slabs *sl, unsigned id, void *p)
{
    struct slab_class *c = &sl->cls[id];
    uint8_t k = slabs_kind(p);

    if (k == SLAB_KIND_FREE) {
        slabs_unlink_free_locked(c, p);
        slabs_set_kind(p, SLAB_KIND_CLEARED);
        k = SLAB_KIND_CLEARED;
    } else if (k == SLAB_KIND_NEW && sl->tc_batch[id] != 0 &&
               slabs_tc_steal_locked(sl, id, (uintptr_t)p,
                                     (uintptr_t)p + 1, false) != 0) {
        /* freed into a thread's cache as the move began */
        k = SLAB_KIND_CLEARED;
    }
    return k;
}

/* Take the page being moved out of class id off its page list. */
static char *
slabs_move_detach(struct slabs *sl, unsigned id)
{
    struct slab_class *c = &sl->cls[id];
    char *page;
    size_t i;

    lock_take(&c->lock, LOCK_SLABS);
    page = c->move_page;
    for (i = 0; i < c->npages; i++) {
        if (c->pages[i] == page) {
            memmove(&c->pages[i], &c->pages[i + 1],
                    (c->npages - i - 1) * sizeof(c->pages[0]));
            c->npages--;
            break;
        }
    }
    c->move_page = NULL;
    __atomic_store_n(&sl->moving[id], NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->lock);
    return page;
}

/* Hand a wiped page to class dst, the pool or the allocator. */
static void
slabs_page_to(struct slabs *sl, char *page, int dst)
{
    struct slab_class *c;

    if (dst == SLABS_RELEASE) {
        free(page);
        __atomic_sub_fetch(&sl->malloced, sl->page_size, __ATOMIC_RELAXED);
        return;
    }
    if (dst == SLABS_POOL) {
        slabs_pool_put(sl, page);
        return;
    }
    c = &sl->cls[dst];
    lock_take(&c->lock, LOCK_SLABS);
    if (!slabs_page_room_locked(c)) {
        pthread_mutex_unlock(&c->lock);
        slabs_pool_put(sl, page);
        return;
    }
    slabs_add_page_locked(c, page);
    pthread_mutex_unlock(&c->lock);
}

void
slabs_move_end(struct slabs *sl, unsigned id, int dst)
{
    char *page = slabs_move_detach(sl, id);

    if (page == NULL) {
        return;
    }
    memset(page, 0, sl->page_size);
    slabs_page_to(sl, page, dst);
}

void
slabs_move_abandon(struct slabs *sl, unsigned id)
{
    struct slab_class *c = &sl->cls[id];

    lock_take(&c->lock, LOCK_SLABS);
    c->move_page = NULL;
    __atomic_store_n(&sl->moving[id], NULL, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->lock);
}

bool
slabs_pool_give(struct slabs *sl, unsigned dst)
{
    char *page = slabs_pool_take(sl);

    if (page == NULL) {
        return false;
    }
    slabs_page_to(sl, page, (int)dst);
    return true;
}

bool
slabs_pool_release(struct slabs *sl)
{
    char *page = slabs_pool_take(sl);

    if (page == NULL) {
        return false;
    }
    slabs_page_to(sl, page, SLABS_RELEASE);
    return true;
}

size_t
slabs_pool_pages(const struct slabs *sl)
{
    return __atomic_load_n(&sl->npool, __ATOMIC_RELAXED);
}

size_t
slabs_pages(struct slabs *sl, unsigned id)
{
    size_t n;

    if (id == SLABS_POOL) {
        return slabs_pool_pages(sl);
    }
    lock_take(&sl->cls[id].lock, LOCK_SLABS);
    n = sl->cls[id].npages;
    pthread_mutex_unlock(&sl->cls[id].lock);
    return n;
}

bool
slabs_set_limit(struct slabs *sl, size_t bytes)
{
    size_t was = __atomic_exchange_n(&sl->limit, bytes, __ATOMIC_RELAXED);

    if (bytes < was) {
        /* the mover will empty pages: idle cached chunks would only make
         * it evict items instead */
        slabs_drain_caches(sl);
    }
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

    lock_take(&c->lock, LOCK_SLABS);
    st->size = c->size;
    st->perslab = c->perslab;
    st->pages = c->npages;
    st->total_chunks = c->npages * c->perslab;
    st->free_end = c->end_left;
    st->cached = sl->tc_batch[id] != 0 ? slabs_tc_count(sl, id) : 0;
    st->free_chunks = c->nfree + st->cached;
    st->used_chunks = st->total_chunks - st->free_chunks - c->end_left;
    pthread_mutex_unlock(&c->lock);
}
