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

#define THREAD_STATS(X)                                                      \
    X(cmd_get) X(cmd_set) X(cmd_flush) X(cmd_touch) X(cmd_meta)              \
    X(get_hits) X(get_misses)                                                \
    X(delete_misses) X(delete_hits) X(incr_misses) X(incr_hits)              \
    X(decr_misses) X(decr_hits) X(cas_misses) X(cas_hits) X(cas_badval)      \
    X(touch_hits) X(touch_misses) X(store_too_large) X(store_no_memory)      \
    X(auth_cmds) X(auth_errors) X(bytes_read) X(bytes_written)               \
    X(conn_yields)

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
