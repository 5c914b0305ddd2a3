/*
 * detail.c -- the per-prefix counters of "stats detail" (daemon/detail.h).
 *
 * One chained hash table under one mutex, as memcached keeps it: the
 * counters are only touched while an operator has asked for them, and
 * then a mutex per command is the price memcached charges too.  New
 * prefixes go to the head of their chain; the dump walks the buckets, so
 * its order is the table's, not the insertion order (memcached's order
 * differs again: clients must not rely on it).
 */
#include "daemon/detail.h"
#include "slab/lock.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct detail_prefix {
    struct detail_prefix *next;
    uint64_t get, hit, set, del;
    uint32_t len;
    char name[];                /* len bytes, not NUL-terminated */
};

struct detail *
detail_create(char delim)
{
    struct detail *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    d->delim = delim;
    return d;
}

/* Free every prefix; lock held (or the table unshared). */
static void
detail_clear_locked(struct detail *d)
{
    for (size_t i = 0; i < DETAIL_BUCKETS; i++) {
        struct detail_prefix *p = d->buckets[i];

        while (p != NULL) {
            struct detail_prefix *next = p->next;

            free(p);
            p = next;
        }
        d->buckets[i] = NULL;
    }
    d->nprefixes = 0;
    __atomic_store_n(&d->dropped, 0, __ATOMIC_RELAXED);
}

void
detail_destroy(struct detail *d)
{
    if (d == NULL) {
        return;
    }
    detail_clear_locked(d);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void
detail_set_enabled(struct detail *d, bool on)
{
    if (d != NULL) {
        __atomic_store_n(&d->enabled, on, __ATOMIC_RELAXED);
    }
}

/* FNV-1a: prefixes are short and the table is off the hot path. */
static uint32_t
detail_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    }
    return h;
}

/* The entry for prefix p (n bytes), created if there is room; NULL when
 * the table is full or out of memory.  Lock held. */
static struct detail_prefix *
detail_find_locked(struct detail *d, const char *p, size_t n)
{
    struct detail_prefix **head =
        &d->buckets[detail_hash(p, n) & (DETAIL_BUCKETS - 1)];
    struct detail_prefix *e;

    for (e = *head; e != NULL; e = e->next) {
        if (e->len == n && memcmp(e->name, p, n) == 0) {
            return e;
        }
    }
    if (d->nprefixes >= DETAIL_PREFIX_MAX) {
        return NULL;
    }
    e = calloc(1, sizeof(*e) + n);
    if (e == NULL) {
        return NULL;
    }
    memcpy(e->name, p, n);
    e->len = (uint32_t)n;
    e->next = *head;
    *head = e;
    d->nprefixes++;
    return e;
}

void
detail_record_on(struct detail *d, enum detail_op op, const char *key,
                 size_t nkey, bool hit)
{
    const char *end;
    struct detail_prefix *e;

    end = memchr(key, d->delim, nkey);
    if (end == NULL) {
        return;
    }
    /* a binary or base64 key's prefix may hold spaces or line ends, which
     * would break the dump's lines: such prefixes are not counted */
    for (const char *p = key; p < end; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            return;
        }
    }
    lock_take(&d->lock, LOCK_STATS);
    e = detail_find_locked(d, key, (size_t)(end - key));
    if (e == NULL) {
        __atomic_add_fetch(&d->dropped, 1, __ATOMIC_RELAXED);
    } else if (op == DETAIL_GET) {
        e->get++;
        e->hit += hit ? 1 : 0;
    } else if (op == DETAIL_SET) {
        e->set++;
    } else {
        e->del++;
    }
    pthread_mutex_unlock(&d->lock);
}

void
detail_dump(struct detail *d, void (*line)(void *ctx, const char *text),
            void *ctx)
{
    /* "PREFIX " + a 250-byte prefix + four labelled 20-digit counters */
    char buf[400];

    if (d == NULL) {
        return;
    }
    lock_take(&d->lock, LOCK_STATS);
    for (size_t i = 0; i < DETAIL_BUCKETS; i++) {
        for (struct detail_prefix *e = d->buckets[i]; e != NULL;
             e = e->next) {
            snprintf(buf, sizeof(buf),
                     "PREFIX %.*s get %" PRIu64 " hit %" PRIu64
                     " set %" PRIu64 " del %" PRIu64,
                     (int)e->len, e->name, e->get, e->hit, e->set, e->del);
            line(ctx, buf);
        }
    }
    pthread_mutex_unlock(&d->lock);
}

uint64_t
detail_dropped(const struct detail *d)
{
    return d == NULL ? 0 : __atomic_load_n(&d->dropped, __ATOMIC_RELAXED);
}

void
detail_clear(struct detail *d)
{
    if (d == NULL) {
        return;
    }
    lock_take(&d->lock, LOCK_STATS);
    detail_clear_locked(d);
    pthread_mutex_unlock(&d->lock);
}
