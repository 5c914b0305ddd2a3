/*
 * server.h -- the process: what every thread of the daemon shares.
 *
 * One struct server is built by main() and lives until exit.  Its settings
 * are read-only after setup; the store and clock are thread-safe objects;
 * the connection counters are atomics.  Nothing here is a global: workers
 * and the listener are handed a pointer.
 */
#ifndef STASHD_DAEMON_SERVER_H
#define STASHD_DAEMON_SERVER_H

#include <stdint.h>
#include <time.h>

struct auth;
struct bigkeys;
struct clock;
struct detail;
struct hotkeys;
struct event_base;
struct listener;
struct settings;
struct store;
struct tls;
struct udp;
struct wait;
struct watch;
struct worker;

struct server {
    const struct settings *settings;
    struct store *store;
    struct clock *clock;
    struct worker **workers;
    int nworkers;
    struct listener *listener;
    struct udp *udp;                /* -U sockets (daemon/udp.h), or NULL */
    struct wait *wait;              /* parked mg w requests (daemon/wait.h);
                                     * NULL where nothing parks (fuzzers) */
    struct event_base *base;        /* the listener's (main) event base */
    struct detail *detail;          /* stats detail (daemon/detail.h) */
    struct tls *tls;                /* -Z: the TLS context (daemon/tls.h),
                                     * else NULL */
    struct watch *watch;            /* log watchers (daemon/watch.h); NULL:
                                     * none (fuzzers) */
    struct bigkeys *bigkeys;        /* stats bigkeys (daemon/bigkeys.h);
                                     * NULL: nothing kept */
    struct hotkeys **hotkeys;       /* stats hotkeys: one sketch per worker
                                     * (daemon/hotkeys.h), or NULL */
    struct auth *auth;              /* -Y / -S password table, reloaded on
                                     * SIGHUP; NULL: no authentication */
    time_t started;

    /* connection counters, atomics: written by listener and workers */
    uint64_t curr_conns;
    uint64_t pending_conns;         /* accepted, not yet taken by a worker:
                                     * count against -c with curr_conns */
    uint64_t total_conns;
    uint64_t rejected_conns;
    uint64_t conn_structs;
    uint64_t listen_disabled;       /* accept back-offs (EMFILE, ...) */
    uint32_t listen_paused;         /* 1 while backed off: accepting_conns
                                     * reads 0 */
    uint64_t rbuf_bytes;            /* read buffers held, when limited */
    uint64_t read_buf_oom;          /* refused for read_buf_mem_limit */
};

/* Ask the whole server to stop (shutdown command, signals). */
void server_stop(struct server *srv);

#endif
