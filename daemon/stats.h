/*
 * stats.h -- per-thread command counters and the "stats" replies.
 *
 * THREAD_STATS is the one list of per-worker counters, in memcached's
 * names.  Each worker owns one struct thread_stats and is its only writer
 * (STAT_INC is a relaxed load+store, no lock, no locked instruction);
 * "stats" sums all workers' copies with relaxed loads.
 */
#ifndef STASHD_DAEMON_STATS_H
#define STASHD_DAEMON_STATS_H

#include <stdint.h>

struct server;

/*
 * The command counters of "stats", in memcached's order.  T: a worker's
 * own counter (struct thread_stats).  S: a per-class counter the store
 * keeps (hits and stores, which "stats slabs" reports per class too); it
 * is counted once, by the store, and only summed here.
 */
#define STATS_COMMANDS(T, S)                                                 \
    T(cmd_get) S(cmd_set) T(cmd_flush) T(cmd_touch) T(cmd_meta)              \
    S(get_hits) T(get_misses) S(get_expired) S(get_flushed)                  \
    T(delete_misses) S(delete_hits) T(incr_misses) S(incr_hits)              \
    T(decr_misses) S(decr_hits) T(cas_misses) S(cas_hits) S(cas_badval)      \
    S(touch_hits) T(touch_misses) T(store_too_large) T(store_no_memory)      \
    T(auth_cmds) T(auth_errors) T(bytes_read) T(bytes_written)

#define STATS_NONE(name)
#define THREAD_STATS(X) STATS_COMMANDS(X, STATS_NONE) X(conn_yields) X(idle_kicks)

struct thread_stats {
#define THREAD_STATS_FIELD(name) uint64_t name;
    THREAD_STATS(THREAD_STATS_FIELD)
#undef THREAD_STATS_FIELD
};

/* Add n to a counter of the calling worker's own thread_stats. */
#define STAT_ADD(ts, field, n)                                               \
    __atomic_store_n(&(ts)->field,                                           \
                     __atomic_load_n(&(ts)->field, __ATOMIC_RELAXED) + (n),  \
                     __ATOMIC_RELAXED)
#define STAT_INC(ts, field) STAT_ADD(ts, field, 1)

/* Callback receiving one statistic. */
typedef void (*stats_emit_fn)(void *ctx, const char *name, const char *value);

/* "stats": process, connection, command and store counters. */
void stats_general(struct server *srv, stats_emit_fn emit, void *ctx);

/* Emit one stat whose value is v in decimal. */
void stats_emit_u64(stats_emit_fn emit, void *ctx, const char *name,
                    uint64_t v);

/* "stats settings". */
void stats_settings(struct server *srv, stats_emit_fn emit, void *ctx);

/* "stats conns": one group of lines per open connection and listener. */
void stats_conns(struct server *srv, stats_emit_fn emit, void *ctx);

/* "stats reset": zero the resettable counters of every worker and the
 * store. */
void stats_reset(struct server *srv);

#endif
