/*
 * maintainer.h -- the LRU maintainer thread (slab/maintainer.c): moves
 * items between HOT, WARM and COLD, rescues ACTIVE items, reclaims the
 * expired items it passes, and frees a few chunks ahead of demand in
 * classes whose allocations had to evict inline.
 */
#ifndef STASHD_SLAB_MAINTAINER_H
#define STASHD_SLAB_MAINTAINER_H

#include <stdint.h>

struct store;

/* Start the thread (0, or -ENOMEM). */
int maintainer_start(struct store *s);

/* Stop and join it; a no-op when it is not running. */
void maintainer_stop(struct store *s);

/* One pass over every class; returns the items moved or freed.  The
 * thread calls it on its own schedule; tests call it directly. */
uint64_t maintainer_pass(struct store *s);

/* A store had to evict inline: end the maintainer's sleep now if it is
 * sleeping (at most one wake-up per sleep).  Any thread, no lock held. */
void maintainer_kick(struct store *s);

#endif
