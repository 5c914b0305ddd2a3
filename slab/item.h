/*
 * item.h -- what a holder of an item reference may read.
 *
 * The layout of struct item (header, key, value, chunk chain) is private to
 * slab/ and drawn in slab/item_layout.h; outside slab/ an item is read only
 * through these accessors, and only while a reference is held.  A referenced
 * item is immutable: a new value is always a new item.
 */
#ifndef STASHD_SLAB_ITEM_H
#define STASHD_SLAB_ITEM_H

#include <stddef.h>
#include <stdint.h>

struct item;

const char *item_key(const struct item *it);
size_t item_nkey(const struct item *it);

/* Value length in bytes (without any line terminator). */
size_t item_nbytes(const struct item *it);

uint32_t item_flags(const struct item *it);
uint64_t item_cas(const struct item *it);

/* Expiry as rel time (0 = never) and last access, see slab/clock.h. */
uint32_t item_exptime(const struct item *it);
uint32_t item_atime(const struct item *it);

/* A contiguous piece of an item's value. */
struct item_slice {
    const char *ptr;
    size_t len;
};

/*
 * Describe the value as slices: fills up to max slices and returns the total
 * number the value has (1 for ordinary items, more for chunked ones); call
 * again with a larger array if the return exceeds max.
 */
size_t item_value(const struct item *it, struct item_slice *sl, size_t max);

#endif
