/*
 * lru.c -- doubly linked per-class LRU lists (slab/lru.h).
 *
 * Plain list surgery; the item's next pointer leads towards the tail.
 * Counters of linked items are kept by the callers that know the item's
 * size and expiry (slab/store.c), the list only keeps the links.
 */
#include "slab/lru.h"

#include <string.h>

#include "slab/item_layout.h"

void
lru_init(struct lru *l)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->lock, NULL);
}

void
lru_destroy(struct lru *l)
{
    pthread_mutex_destroy(&l->lock);
}

void
lru_link_locked(struct lru *l, struct item *it)
{
    it->prev = NULL;
    it->next = l->head;
    if (l->head != NULL) {
        l->head->prev = it;
    }
    l->head = it;
    if (l->tail == NULL) {
        l->tail = it;
    }
}

void
lru_unlink_locked(struct lru *l, struct item *it)
{
    if (it->prev != NULL) {
        it->prev->next = it->next;
    } else {
        l->head = it->next;
    }
    if (it->next != NULL) {
        it->next->prev = it->prev;
    } else {
        l->tail = it->prev;
    }
    it->next = NULL;
    it->prev = NULL;
}

void
lru_bump_locked(struct lru *l, struct item *it)
{
    if (l->head == it) {
        return;
    }
    lru_unlink_locked(l, it);
    lru_link_locked(l, it);
}

void
lru_insert_above_locked(struct lru *l, struct item *it, struct item *marker)
{
    marker->next = it;
    marker->prev = it->prev;
    if (it->prev != NULL) {
        it->prev->next = marker;
    } else {
        l->head = marker;
    }
    it->prev = marker;
}

void
lru_reset_locked(struct lru *l)
{
    l->total_items = 0;
    l->evicted = 0;
    l->evicted_nonzero = 0;
    l->evicted_time = 0;
    l->outofmemory = 0;
    l->reclaimed = 0;
    l->expired_unfetched = 0;
    l->evicted_unfetched = 0;
    l->evicted_active = 0;
    l->crawler_reclaimed = 0;
    l->crawler_items_checked = 0;
    l->lrutail_reflocked = 0;
    l->moves_to_cold = 0;
    l->moves_to_warm = 0;
    l->moves_within_lru = 0;
    l->direct_reclaims = 0;
    l->evicted_direct = 0;
}

void
lru_sum_locked(struct lru *sum, const struct lru *src)
{
    sum->number += src->number;
    sum->number_ttl += src->number_ttl;
    sum->mem_requested += src->mem_requested;
    sum->total_items += src->total_items;
    sum->evicted += src->evicted;
    sum->evicted_nonzero += src->evicted_nonzero;
    if (src->evicted_time > sum->evicted_time) {
        sum->evicted_time = src->evicted_time;
    }
    sum->outofmemory += src->outofmemory;
    sum->reclaimed += src->reclaimed;
    sum->expired_unfetched += src->expired_unfetched;
    sum->evicted_unfetched += src->evicted_unfetched;
    sum->evicted_active += src->evicted_active;
    sum->crawler_reclaimed += src->crawler_reclaimed;
    sum->crawler_items_checked += src->crawler_items_checked;
    sum->lrutail_reflocked += src->lrutail_reflocked;
    sum->moves_to_cold += src->moves_to_cold;
    sum->moves_to_warm += src->moves_to_warm;
    sum->moves_within_lru += src->moves_within_lru;
    sum->direct_reclaims += src->direct_reclaims;
    sum->evicted_direct += src->evicted_direct;
}
