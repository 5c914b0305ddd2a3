/*
 * clock.h -- the coarse clock every thread reads.
 *
 * Time is kept as seconds since the process started ("rel time"), updated
 * by clock_tick() from a once-a-second timer in daemon/.  Reads are a
 * relaxed atomic load: no time() call per request.  A debug offset lets
 * tests move time forward (debugtime) instead of sleeping.
 */
#ifndef STASHD_SLAB_CLOCK_H
#define STASHD_SLAB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Largest relative expiry; larger values are absolute unix times. */
#define CLOCK_REL_MAX 2592000

typedef uint32_t rel_time_t;

struct clock;

/* Create a clock starting now.  NULL on allocation failure. */
struct clock *clock_create(void);
void clock_destroy(struct clock *c);

/* Re-read the wall clock (call about once a second). */
void clock_tick(struct clock *c);

/* Seconds since start (never 0: start is taken as 2 so that 0 and 1 can
 * mean "never" and "already expired"). */
rel_time_t clock_now(const struct clock *c);

/* Unix time corresponding to rel time t. */
time_t clock_unix(const struct clock *c, rel_time_t t);

/* Convert a client expiry to rel time: 0 -> 0 (never), <= 30 days ->
 * now + secs, larger -> absolute, negative or past -> 1 (expired). */
rel_time_t clock_exptime(const struct clock *c, int64_t exptime);

/* Stop following real time: from now on only clock_advance moves the
 * clock (unit tests that step through expiry times). */
void clock_freeze(struct clock *c);

/* Move the clock forward by secs (debug builds' debugtime command). */
void clock_advance(struct clock *c, int64_t secs);

#endif
