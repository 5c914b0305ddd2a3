/*
 * detail.h -- "stats detail": get/hit/set/del counts per key prefix.
 *
 * A key's prefix is what precedes the first delimiter (-D, default ':');
 * a key without the delimiter has no prefix and is not counted, as in
 * memcached; nor is a prefix holding a space or control character (only
 * binary and base64 keys can), which would break the dump's lines.  Counting is off until "stats detail on" (memcached's
 * default); while off the executor pays one relaxed load per command.
 *
 * The table is bounded: at most DETAIL_PREFIX_MAX prefixes (each up to a
 * key's 250 bytes).  Once full, a key whose prefix is not in the table is
 * not counted, and detail_dropped() says how many such records were lost;
 * the prefixes already in the table keep counting.  "stats reset" empties
 * the table.
 */
#ifndef STASHD_DAEMON_DETAIL_H
#define STASHD_DAEMON_DETAIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* The most prefixes the table holds (memcached has no cap). */
#define DETAIL_PREFIX_MAX 4096

/*
 * The table.  Defined here only so that the off check below inlines (the
 * executor makes it on every command); everything else is detail.c's,
 * reached through the functions.
 */
struct detail_prefix;
#define DETAIL_BUCKETS 1024     /* a power of two */
struct detail {
    bool enabled;               /* atomic: read without the lock */
    char delim;
    pthread_mutex_t lock;       /* guards everything below */
    uint32_t nprefixes;
    uint64_t dropped;           /* atomic: read without the lock */
    struct detail_prefix *buckets[DETAIL_BUCKETS];
};

/* What a record counts. */
enum detail_op {
    DETAIL_GET = 0, /* a key read (get/gets/gat/mg, binary get) */
    DETAIL_SET,     /* a storage command, whatever its outcome */
    DETAIL_DEL,     /* a delete, whatever its outcome */
};

/* A table counting prefixes ended by delim; off at first.  NULL on OOM. */
struct detail *detail_create(char delim);

/* Free the table. */
void detail_destroy(struct detail *d);

/* Turn counting on or off (any thread); the counts stay. */
void detail_set_enabled(struct detail *d, bool on);

/* Is counting on? */
static inline bool
detail_enabled(const struct detail *d)
{
    return d != NULL && __atomic_load_n(&d->enabled, __ATOMIC_RELAXED);
}

/* detail_record's slow path, counting on: d not NULL. */
void detail_record_on(struct detail *d, enum detail_op op, const char *key,
                      size_t nkey, bool hit);

/*
 * Count op on key's prefix (hit: a get that found the key).  Returns at
 * once while counting is off; takes the table's mutex otherwise.  Any
 * thread.  Every detail_ function accepts d == NULL (a server built
 * without the table, as the fuzzers build one) and does nothing.
 */
static inline void
detail_record(struct detail *d, enum detail_op op, const char *key,
              size_t nkey, bool hit)
{
    if (detail_enabled(d)) {
        detail_record_on(d, op, key, nkey, hit);
    }
}

/* Emit one "PREFIX <p> get N hit N set N del N" line per prefix through
 * line(ctx, text) (text without "\r\n"). */
void detail_dump(struct detail *d, void (*line)(void *ctx, const char *text),
                 void *ctx);

/* Records lost because the table was full. */
uint64_t detail_dropped(const struct detail *d);

/* Forget every prefix ("stats reset"). */
void detail_clear(struct detail *d);

#endif
