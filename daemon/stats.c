/*
 * stats.c -- the "stats" family of replies, gathered from the process, the
 * workers' own counters and the store.
 *
 * Workers' counters are read with relaxed loads while their owners keep
 * counting: a sum is a snapshot, not a transaction, as in memcached.
 */
#include "daemon/stats.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "daemon/detail.h"
#include "daemon/listener.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/tls.h"
#include "daemon/version.h"
#include "daemon/wait.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "slab/clock.h"
#include "slab/crawler.h"
#include "slab/store.h"

#ifndef STASHD_SANITIZE
#include <jemalloc/jemalloc.h>
#endif

void
stats_emit_u64(stats_emit_fn emit, void *ctx, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    emit(ctx, name, buf);
}

static void
stats_sum(struct server *srv, struct thread_stats *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (int i = 0; i < srv->nworkers; i++) {
        const struct thread_stats *ts = &srv->workers[i]->stats;

#define STATS_SUM(name) sum->name += __atomic_load_n(&ts->name, __ATOMIC_RELAXED);
        THREAD_STATS(STATS_SUM)
#undef STATS_SUM
    }
}

static void
stats_rusage(stats_emit_fn emit, void *ctx)
{
    struct rusage ru;
    char buf[40];

    getrusage(RUSAGE_SELF, &ru);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_utime.tv_sec,
             (long)ru.ru_utime.tv_usec);
    emit(ctx, "rusage_user", buf);
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)ru.ru_stime.tv_sec,
             (long)ru.ru_stime.tv_usec);
    emit(ctx, "rusage_system", buf);
}

#ifndef STASHD_SANITIZE
/* jemalloc's view of the process heap (slab pages, buffers, hash). */
static void
stats_jemalloc(stats_emit_fn emit, void *ctx)
{
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch), v, vsz = sizeof(v);

    mallctl("epoch", &epoch, &sz, &epoch, sz);
    if (mallctl("stats.allocated", &v, &vsz, NULL, 0) == 0) {
        stats_emit_u64(emit, ctx, "jemalloc_allocated", v);
    }
    if (mallctl("stats.active", &v, &vsz, NULL, 0) == 0) {
        stats_emit_u64(emit, ctx, "jemalloc_active", v);
    }
    if (mallctl("stats.resident", &v, &vsz, NULL, 0) == 0) {
        stats_emit_u64(emit, ctx, "jemalloc_resident", v);
    }
    if (mallctl("stats.mapped", &v, &vsz, NULL, 0) == 0) {
        stats_emit_u64(emit, ctx, "jemalloc_mapped", v);
    }
}
#endif

/*
 * The store's counters, held so that those memcached prints among the
 * command counters (STATS_COMMANDS' S entries, limit_maxbytes) can be put
 * in its places and the rest after.
 */
#define STATS_KEPT_MAX 64

struct stats_kept {
    char name[STATS_KEPT_MAX][40];
    char value[STATS_KEPT_MAX][40];
    bool done[STATS_KEPT_MAX];
    int n;
};

static void
stats_keep(void *ctx, const char *name, const char *value)
{
    struct stats_kept *k = ctx;

    if (k->n < STATS_KEPT_MAX) {
        snprintf(k->name[k->n], sizeof(k->name[0]), "%s", name);
        snprintf(k->value[k->n], sizeof(k->value[0]), "%s", value);
        k->done[k->n] = false;
        k->n++;
    }
}

/* Emit the kept stat called name, or (name NULL) all not yet emitted. */
static void
stats_kept_emit(struct stats_kept *k, const char *name, stats_emit_fn emit,
                void *ctx)
{
    for (int i = 0; i < k->n; i++) {
        if (!k->done[i] && (name == NULL || strcmp(k->name[i], name) == 0)) {
            emit(ctx, k->name[i], k->value[i]);
            k->done[i] = true;
        }
    }
}

void
stats_general(struct server *srv, stats_emit_fn emit, void *ctx)
{
    const struct settings *st = srv->settings;
    struct thread_stats sum;
    struct stats_kept kept = {.n = 0};
    time_t now = clock_unix(srv->clock, clock_now(srv->clock));

    stats_sum(srv, &sum);
    stats_emit_u64(emit, ctx, "pid", (uint64_t)getpid());
    stats_emit_u64(emit, ctx, "uptime", (uint64_t)(now - srv->started));
    stats_emit_u64(emit, ctx, "time", (uint64_t)now);
    emit(ctx, "version", STASHD_PROTOCOL_VERSION);
    emit(ctx, "stashd_version", STASHD_VERSION);
    emit(ctx, "libevent", event_get_version());
    stats_emit_u64(emit, ctx, "pointer_size", 8 * sizeof(void *));
    stats_rusage(emit, ctx);
    stats_emit_u64(emit, ctx, "max_connections", (uint64_t)st->maxconns);
    stats_emit_u64(emit, ctx, "curr_connections",
             __atomic_load_n(&srv->curr_conns, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "total_connections",
             __atomic_load_n(&srv->total_conns, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "rejected_connections",
             __atomic_load_n(&srv->rejected_conns, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "connection_structures",
             __atomic_load_n(&srv->conn_structs, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "read_buf_bytes",
             __atomic_load_n(&srv->rbuf_bytes, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "read_buf_oom",
             __atomic_load_n(&srv->read_buf_oom, __ATOMIC_RELAXED));
    store_stats(srv->store, stats_keep, &kept);
#define STATS_EMIT_THREAD(name) stats_emit_u64(emit, ctx, #name, sum.name);
#define STATS_EMIT_STORE(name) stats_kept_emit(&kept, #name, emit, ctx);
    STATS_COMMANDS(STATS_EMIT_THREAD, STATS_EMIT_STORE)
#undef STATS_EMIT_THREAD
#undef STATS_EMIT_STORE
    stats_kept_emit(&kept, "limit_maxbytes", emit, ctx);
    stats_emit_u64(emit, ctx, "accepting_conns",
                   !__atomic_load_n(&srv->listen_paused, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "listen_disabled_num",
             __atomic_load_n(&srv->listen_disabled, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "threads", (uint64_t)srv->nworkers);
    stats_emit_u64(emit, ctx, "conn_yields", sum.conn_yields);
    if (st->idle_timeout > 0) {
        /* as memcached: only where the limit is set */
        stats_emit_u64(emit, ctx, "idle_kicks", sum.idle_kicks);
    }
    if (srv->tls != NULL) {
        tls_stats(srv->tls, emit, ctx);
    }
    stats_kept_emit(&kept, NULL, emit, ctx);
    wait_stats(srv->wait, emit, ctx);
    watch_stats(srv->watch, emit, ctx);
#ifndef STASHD_SANITIZE
    stats_jemalloc(emit, ctx);
#endif
}

/* stats settings' lines with what changes at run time as it is now: the
 * LRU tunings (the "lru" command) and the lru_crawler knobs (the
 * "lru_crawler" command); settings stay read-only. */
struct stats_live {
    struct server *srv;
    stats_emit_fn emit;
    void *ctx;
    struct store_lru_tune t;
};

static void
stats_live_emit(void *arg, const char *name, const char *value)
{
    struct stats_live *x = arg;
    struct store *st = x->srv->store;
    char buf[32];

    if (strcmp(name, "lru_segmented") == 0 ||
        strcmp(name, "temp_lru") == 0) {
        bool on = name[0] == 'l' ? x->t.segmented : x->t.temp_lru;

        value = on ? "yes" : "no";
    } else if (strcmp(name, "hot_lru_pct") == 0 ||
               strcmp(name, "warm_lru_pct") == 0 ||
               strcmp(name, "temporary_ttl") == 0) {
        unsigned v = name[0] == 'h'   ? x->t.hot_pct
                     : name[0] == 'w' ? x->t.warm_pct
                                      : x->t.temp_ttl;

        snprintf(buf, sizeof(buf), "%u", v);
        value = buf;
    } else if (strcmp(name, "hot_max_factor") == 0 ||
               strcmp(name, "warm_max_factor") == 0) {
        snprintf(buf, sizeof(buf), "%.2f",
                 name[0] == 'h' ? x->t.hot_max_factor
                                : x->t.warm_max_factor);
        value = buf;
    } else if (strcmp(name, "lru_crawler") == 0) {
        value = crawler_enabled(st) ? "yes" : "no";
    } else if (strcmp(name, "detail_enabled") == 0) {
        value = detail_enabled(x->srv->detail) ? "yes" : "no";
    } else if (strcmp(name, "track_sizes") == 0) {
        value = store_sizes_enabled(st) ? "yes" : "no";
    } else if (strcmp(name, "lru_crawler_sleep") == 0) {
        stats_emit_u64(x->emit, x->ctx, name, crawler_get_sleep(st));
        return;
    } else if (strcmp(name, "lru_crawler_tocrawl") == 0) {
        stats_emit_u64(x->emit, x->ctx, name, crawler_get_tocrawl(st));
        return;
    }
    x->emit(x->ctx, name, value);
}

void
stats_settings(struct server *srv, stats_emit_fn emit, void *ctx)
{
    struct stats_live live = {srv, emit, ctx, {0}};

    store_lru_tune_get(srv->store, &live.t);
    settings_emit(srv->settings, stats_live_emit, &live);
    stats_emit_u64(emit, ctx, "item_overhead", store_item_overhead());
}

/* Listening sockets, then each worker's connections. */
static void
stats_listen_emit(void *arg, int fd, const char *name)
{
    void **pair = arg;
    stats_emit_fn emit = (stats_emit_fn)(uintptr_t)pair[0];
    char key[32];

    snprintf(key, sizeof(key), "%d:addr", fd);
    emit(pair[1], key, name);
    snprintf(key, sizeof(key), "%d:state", fd);
    emit(pair[1], key, "conn_listening");
    /* memcached: a listener's last command is the server's start */
    snprintf(key, sizeof(key), "%d:secs_since_last_cmd", fd);
    emit(pair[1], key, pair[2]);
}

void
stats_conns(struct server *srv, stats_emit_fn emit, void *ctx)
{
    uint32_t now = clock_now(srv->clock);
    char up[24];
    void *pair[3] = {(void *)(uintptr_t)emit, ctx, up};

    snprintf(up, sizeof(up), "%" PRIu64,
             (uint64_t)(clock_unix(srv->clock, now) - srv->started));

    listener_each(srv->listener, stats_listen_emit, pair);
    /* each connection's lines come from conn.c, through its worker */
    for (int i = 0; i < srv->nworkers; i++) {
        worker_stats_conns(srv->workers[i], now, emit, ctx);
    }
}

void
stats_reset(struct server *srv)
{
    for (int i = 0; i < srv->nworkers; i++) {
        struct thread_stats *ts = &srv->workers[i]->stats;

#define STATS_ZERO(name) __atomic_store_n(&ts->name, 0, __ATOMIC_RELAXED);
        THREAD_STATS(STATS_ZERO)
#undef STATS_ZERO
    }
    __atomic_store_n(&srv->total_conns, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&srv->rejected_conns, 0, __ATOMIC_RELAXED);
    store_stats_reset(srv->store);
    wait_stats_reset(srv->wait);
    detail_clear(srv->detail);
}
