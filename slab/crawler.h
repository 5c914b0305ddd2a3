/*
 * crawler.h -- the lru_crawler controls: the background expiry crawl
 * (slab/crawler.c) switched on and off, paced, limited and asked to walk
 * given classes now.  Listing items (metadump, cachedump) is slab/dump.h.
 */
#ifndef STASHD_SLAB_CRAWLER_H
#define STASHD_SLAB_CRAWLER_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* memcached's default lru_crawler sleep, microseconds. */
#define CRAWLER_SLEEP_DEFAULT 100

/* Largest lru_crawler sleep, microseconds (one second). */
#define CRAWLER_SLEEP_MAX 1000000

enum crawler_rc {
    CRAWLER_OK = 0,
    CRAWLER_BUSY = -1,      /* a requested crawl is still pending or
                             * running; enable: already running */
    CRAWLER_DISABLED = -2,  /* the crawler thread is not running (or
                             * could not be started) */
};

/* What a crawler job's step says. */
enum crawler_job_rc {
    CRAWLER_JOB_MORE = 0,   /* call again */
    CRAWLER_JOB_WAIT,       /* call again after crawler_job_wake */
    CRAWLER_JOB_DONE,       /* over: the job is forgotten */
};

/* One step of a crawler job, run on the crawler thread with no store lock
 * held; stop is true once, for a last call when the thread stops with the
 * job unfinished (the job must then let go of everything). */
typedef enum crawler_job_rc (*crawler_job_fn)(void *arg, bool stop);

/*
 * Run fn(arg, false) on the crawler thread until it says CRAWLER_JOB_DONE
 * (a dump's producer: the crawler thread formats it, not a worker).  One
 * job at a time, and not while a requested crawl runs: CRAWLER_OK,
 * CRAWLER_BUSY (arg untouched) or CRAWLER_DISABLED.
 */
int crawler_job_start(struct store *s, crawler_job_fn fn, void *arg);

/* Called by the running job's step just before it reports its end (the
 * step then returns CRAWLER_JOB_DONE): the slot is free from here, so a
 * client that has seen the job's end may start the next one at once. */
void crawler_job_end(struct store *s);

/* The running job's CRAWLER_JOB_WAIT is over: step it again (any thread). */
void crawler_job_wake(struct store *s);

/* lru_crawler crawl: walk the classes whose bit is set (bit id for class
 * id) as soon as possible.  CRAWLER_OK, CRAWLER_BUSY, CRAWLER_DISABLED. */
int crawler_request(struct store *s, uint64_t classes);

/* lru_crawler enable: start the thread.  CRAWLER_OK, CRAWLER_BUSY if it
 * runs already, CRAWLER_DISABLED if it cannot start. */
int crawler_enable(struct store *s);

/* lru_crawler disable: stop the thread (waits for its current batch). */
void crawler_disable(struct store *s);

/* Is the crawler thread running? */
bool crawler_enabled(const struct store *s);

/* lru_crawler sleep: microseconds to rest after every 1000 items checked
 * (0 never rests). */
void crawler_set_sleep(struct store *s, uint32_t usec);
uint32_t crawler_get_sleep(const struct store *s);

/* lru_crawler tocrawl: items checked per LRU per crawl, 0 all. */
void crawler_set_tocrawl(struct store *s, uint32_t items);
uint32_t crawler_get_tocrawl(const struct store *s);

#endif
