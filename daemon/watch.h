/*
 * watch.h -- memcached's "watch" log streams: connections that receive a
 * line per fetch, store, eviction, deletion or connection event.
 *
 * Threads that log (workers, the LRU maintainer that evicts) append
 * formatted lines to a bounded buffer of their own; one background thread
 * moves them into each interested watcher's bounded buffer and writes
 * them to its socket.  Nothing on a worker ever waits for a watcher: a
 * full thread buffer drops the line (log_worker_dropped), a full watcher
 * buffer skips it for that watcher (log_watcher_skipped), and the watcher
 * is told "skipped=N" before its next line, as memcached does.  At most
 * WATCH_MAX watchers exist, so what watchers can hold is bounded by
 * WATCH_MAX * WATCH_WATCHER_BUF plus WATCH_THREAD_BUF per logging thread.
 *
 * Every hook starts with one relaxed load of the watched-streams mask and
 * returns at once when nobody watches its stream.
 */
#ifndef STASHD_DAEMON_WATCH_H
#define STASHD_DAEMON_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/stats.h"

struct store_evicted;
struct watch;

#define WATCH_MAX 20                    /* memcached's watcher limit */
#define WATCH_THREAD_BUF (64 * 1024)    /* lines queued per logging thread */
#define WATCH_WATCHER_BUF (256 * 1024)  /* bytes queued per watcher */

/* The streams, by memcached 1.6.18's names; "deletions" is newer
 * memcached's (1.6.18 refuses it). */
enum watch_stream {
    WATCH_RAWCMDS = 1u << 0,
    WATCH_EVICTIONS = 1u << 1,
    WATCH_FETCHERS = 1u << 2,
    WATCH_MUTATIONS = 1u << 3,
    WATCH_SYSEVENTS = 1u << 4,
    WATCH_CONNEVENTS = 1u << 5,
    WATCH_PROXYREQS = 1u << 6,
    WATCH_PROXYEVENTS = 1u << 7,
    WATCH_PROXYUSER = 1u << 8,
    WATCH_DELETIONS = 1u << 9,
};

/* watch_add's outcomes. */
enum watch_add_rc {
    WATCH_ADD_OK = 0,
    WATCH_ADD_TOO_MANY = -1,    /* WATCH_MAX watchers already */
    WATCH_ADD_FAILED = -2,      /* out of memory or descriptors */
};

/* Start the watch thread; NULL on failure. */
struct watch *watch_create(void);

/* Stop the thread, close every watcher, free everything. */
void watch_destroy(struct watch *w);

/* The stream bit of a stream name (n bytes), 0 if memcached has none. */
unsigned watch_stream_bit(const char *name, size_t n);

/* Make the client socket fd a watcher of the streams in mask: it is
 * dup'ed (the caller closes its own fd once its output is sent) and
 * receives "OK\r\n" then the lines.  Any thread. */
enum watch_add_rc watch_add(struct watch *w, int fd, unsigned mask);

/* The head of struct watch: what the hooks' inline test reads. */
struct watch_head {
    unsigned mask;      /* relaxed atomic: union of the watchers' streams */
};

/* Is anybody watching stream?  One relaxed load, inline, because every
 * request asks; w may be NULL. */
static inline bool
watch_wants(const struct watch *w, unsigned stream)
{
    /* struct watch begins with its struct watch_head */
    return w != NULL &&
           (__atomic_load_n(&((const struct watch_head *)(const void *)w)->mask,
                            __ATOMIC_RELAXED) & stream) != 0;
}

/* item_get: a read of key; found with the value's class and size. */
void watch_fetch(struct watch *w, const char *key, size_t nkey, bool found,
                 unsigned clsid, size_t size, int cfd);

/* item_store: a storage command's outcome; status and cmd are
 * memcached's words (stored, not_stored, exists, not_found, too_large,
 * no_memory; set, add, replace, append, prepend, cas), ttl the seconds
 * it was given (0 = never). */
void watch_store(struct watch *w, const char *key, size_t nkey,
                 const char *status, const char *cmd, uint32_t ttl,
                 unsigned clsid, size_t size, int cfd);

/* deleted: key was removed by cmd ("delete", "md"). */
void watch_delete(struct watch *w, const char *key, size_t nkey,
                  const char *cmd, unsigned clsid, size_t size);

/* conn_new / conn_close of client socket fd (reason: memcached's word:
 * normal, error, idle_timeout, shutdown; NULL for conn_new). */
void watch_conn(struct watch *w, int fd, bool is_unix, const char *reason);

/* The store's eviction hook (struct store_config): ctx is the watch. */
void watch_evicted(void *ctx, const struct store_evicted *e);

/* The log_* lines of "stats". */
void watch_stats(struct watch *w, stats_emit_fn emit, void *ctx);

#endif
