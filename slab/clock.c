/*
 * clock.c -- the coarse shared clock (slab/clock.h).
 *
 * Rel time advances with CLOCK_MONOTONIC so that wall-clock jumps do not
 * expire or resurrect items; the wall clock is read once at creation to
 * convert absolute client expiry times.  The debug offset moves both
 * (rel time and the unix time it maps to), as memcached's debugtime does.
 * now and offset are atomics: one writer (the timer), many readers.
 */
#include "slab/clock.h"

#include <stdlib.h>

/* Rel time of the instant the clock was created. */
#define CLOCK_START 2

struct clock {
    rel_time_t now;         /* atomic */
    int64_t offset;         /* atomic, seconds added by clock_advance */
    time_t mono_start;      /* CLOCK_MONOTONIC seconds at creation */
    time_t mono_frozen;     /* atomic: 0, or the seconds it stopped at */
    time_t unix_base;       /* unix time of rel time 0 */
};

static time_t
clock_mono_secs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

struct clock *
clock_create(void)
{
    struct clock *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->mono_start = clock_mono_secs();
    c->unix_base = time(NULL) - CLOCK_START;
    c->now = CLOCK_START;
    return c;
}

void
clock_destroy(struct clock *c)
{
    free(c);
}

void
clock_tick(struct clock *c)
{
    int64_t off = __atomic_load_n(&c->offset, __ATOMIC_RELAXED);
    time_t frozen = __atomic_load_n(&c->mono_frozen, __ATOMIC_RELAXED);
    time_t mono = frozen != 0 ? frozen : clock_mono_secs();
    int64_t t = (int64_t)(mono - c->mono_start) + CLOCK_START + off;

    if (t < CLOCK_START) {
        t = CLOCK_START;
    }
    __atomic_store_n(&c->now, (rel_time_t)t, __ATOMIC_RELAXED);
}

rel_time_t
clock_now(const struct clock *c)
{
    return __atomic_load_n(&c->now, __ATOMIC_RELAXED);
}

time_t
clock_unix(const struct clock *c, rel_time_t t)
{
    return c->unix_base + (time_t)t;
}

rel_time_t
clock_exptime(const struct clock *c, int64_t exptime)
{
    rel_time_t now = clock_now(c);
    int64_t t;

    if (exptime == 0) {
        return 0;
    }
    if (exptime < 0) {
        return 1;
    }
    if (exptime <= CLOCK_REL_MAX) {
        return now + (rel_time_t)exptime;
    }
    t = exptime - (int64_t)c->unix_base;
    if (t <= (int64_t)now) {
        return 1;
    }
    if (t > (int64_t)UINT32_MAX) {
        return UINT32_MAX;
    }
    return (rel_time_t)t;
}

void
clock_freeze(struct clock *c)
{
    time_t mono = clock_mono_secs();

    /* 0 means "not frozen"; CLOCK_MONOTONIC is never 0 after boot */
    __atomic_store_n(&c->mono_frozen, mono != 0 ? mono : 1,
                     __ATOMIC_RELAXED);
    clock_tick(c);
}

void
clock_advance(struct clock *c, int64_t secs)
{
    __atomic_add_fetch(&c->offset, secs, __ATOMIC_RELAXED);
    clock_tick(c);
}
