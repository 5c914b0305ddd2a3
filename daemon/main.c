/*
 * main.c -- process setup and teardown; the only main() of the project.
 *
 * Order: flags, privileges and limits, daemonize, the clock and the store,
 * the workers, the listener, then the main loop (accepts, the clock tick,
 * signals) until SIGINT/SIGTERM or "shutdown".  exit() is used only here,
 * during setup.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "daemon/auth.h"
#include "daemon/detail.h"
#include "daemon/bigkeys.h"
#include "daemon/hotkeys.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/tls.h"
#include "daemon/wait.h"
#include "daemon/udp.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "proto/bin.h"
#include "proto/meta.h"
#include "proto/text.h"
#include "slab/clock.h"
#include "slab/crawler.h"
#include "slab/hash.h"
#include "slab/store.h"

/* fds kept back for listeners, logs and the like, as memcached does */
#define RESERVED_FDS 20

void
server_stop(struct server *srv)
{
    /* safe from any thread: libevent is set up for threads */
    event_base_loopbreak(srv->base);
}

static void
main_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;

    (void)what;
    log_info("signal %d: shutting down", (int)sig);
    server_stop(srv);
}

/* SIGHUP: reread the -Y / -S password file, as memcached rereads -Y's. */
static void
main_on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;

    (void)sig;
    (void)what;
    if (srv->auth != NULL) {
        auth_reload(srv->auth);
    }
}

static void
main_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;

    (void)fd;
    (void)what;
    clock_tick(srv->clock);
}

/* As memcached: root must name a user to run as. */
static void
main_drop_privileges(const struct settings *st)
{
    struct passwd *pw;

    if (getuid() != 0 && geteuid() != 0) {
        return;
    }
    if (st->user == NULL) {
        log_error("can't run as root without the -u switch");
        exit(EX_USAGE);
    }
    pw = getpwnam(st->user);
    if (pw == NULL) {
        log_error("can't find the user %s to switch to", st->user);
        exit(EX_NOUSER);
    }
    if (pw->pw_uid == 0) {
        return;
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        log_error("failed to assume identity of user %s: %s", st->user,
                  strerror(errno));
        exit(EX_OSERR);
    }
}

/* Raise the open-file limit to what -c needs, as far as allowed. */
static void
main_raise_nofile(const struct settings *st)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)st->maxconns + RESERVED_FDS;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        log_error("failed to getrlimit number of files");
        exit(EX_OSERR);
    }
    if (rl.rlim_cur >= want) {
        return;
    }
    if (rl.rlim_max < want) {
        rl.rlim_max = want;
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        /* not allowed to raise the hard limit: take what we can get */
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        log_error("WARNING: could only raise the open file limit to %llu; "
                  "-c %ld needs %llu", (unsigned long long)rl.rlim_cur,
                  st->maxconns, (unsigned long long)want);
    }
}

static void
main_daemonize(const struct settings *st)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0) {
        log_error("fork: %s", strerror(errno));
        exit(EX_OSERR);
    }
    if (pid > 0) {
        _exit(0);
    }
    if (setsid() < 0) {
        exit(EX_OSERR);
    }
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        if (st->verbose == 0) {
            dup2(fd, STDERR_FILENO);
        }
        if (fd > STDERR_FILENO) {
            close(fd);
        }
    }
    if (st->pidfile != NULL) {
        FILE *f = fopen(st->pidfile, "w");

        if (f == NULL) {
            log_error("Could not open the pid file %s for writing: %s",
                      st->pidfile, strerror(errno));
        } else {
            fprintf(f, "%ld\n", (long)getpid());
            fclose(f);
        }
    }
}

static struct store *
main_store(const struct settings *st, struct clock *clk, struct watch *wt)
{
    struct store_config cfg;
    struct store *s;

    store_config_default(&cfg);
    cfg.mem_limit = st->mem_limit;
    cfg.item_size_max = st->item_size_max;
    cfg.chunk_min = (size_t)st->chunk_size;
    cfg.factor = st->factor;
    cfg.evict = st->evict;
    cfg.use_cas = st->use_cas;
    if (st->hashpower > 0) {
        cfg.hash_power = (unsigned)st->hashpower;
    }
    cfg.lru_bg = st->lru_crawler;
    cfg.lru_maintainer = st->lru_maintainer;
    cfg.lru.segmented = st->lru_segmented;
    cfg.lru.hot_pct = (unsigned)st->hot_lru_pct;
    cfg.lru.warm_pct = (unsigned)st->warm_lru_pct;
    cfg.lru.hot_max_factor = st->hot_max_factor;
    cfg.lru.warm_max_factor = st->warm_max_factor;
    cfg.lru.temp_lru = st->temp_lru;
    cfg.lru.temp_ttl = (unsigned)st->temporary_ttl;
    cfg.slab_reassign = st->slab_reassign;
    cfg.slab_automove = (unsigned)st->slab_automove;
    cfg.automove_ratio = st->slab_automove_ratio;
    cfg.automove_window = (unsigned)st->slab_automove_window;
    cfg.track_sizes = st->track_sizes;
    cfg.on_evict = watch_evicted;
    cfg.evict_ctx = wt;
    /* a key's shard and bucket must not be predictable from outside */
    if (!hash_seed_random()) {
        log_warn("getrandom failed: the key hash keeps its fixed seed");
    }
    s = store_create(&cfg, clk);
    if (s != NULL) {
        crawler_set_sleep(s, (uint32_t)st->lru_crawler_sleep);
        crawler_set_tocrawl(s, (uint32_t)st->lru_crawler_tocrawl);
    }
    return s;
}

/* One line of the port file: transport (TCP/UDP), family, port. */
struct main_port_out {
    FILE *f;
    const char *transport;
};

static void
main_port_line(void *ctx, bool v6, unsigned port)
{
    struct main_port_out *o = ctx;

    fprintf(o->f, "%s INET%s: %u\n", o->transport, v6 ? "6" : "", port);
}

/*
 * MEMCACHED_PORT_FILENAME: write the bound ports in memcached's format
 * ("TCP INET: <port>", "UDP INET6: <port>", ..., TCP before UDP), into
 * "<path>.lck" first and renamed when complete, so that a test waiting
 * for the file (memcached's own, with -p -1) never reads half of it.
 * 0, or -1 (logged).
 */
static int
main_port_file(struct server *srv, const char *path)
{
    char tmp[4096];
    struct main_port_out o;
    FILE *f;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.lck", path) >= sizeof(tmp) ||
        (f = fopen(tmp, "w")) == NULL) {
        log_error("cannot write the port file %s", path);
        return -1;
    }
    o.f = f;
    o.transport = "TCP";
    listener_each_port(srv->listener, main_port_line, &o);
    o.transport = "UDP";
    udp_each_port(srv->udp, main_port_line, &o);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        log_error("cannot write the port file %s: %s", path,
                  strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct settings st;
    struct server srv;
    struct event *sigint_ev, *sigterm_ev, *tick_ev, *sighup_ev;
    struct timeval one = {1, 0};
    struct auth *auth = NULL;
    int rc;

    settings_default(&st);
    rc = settings_parse(&st, argc, argv);
    if (rc != 0) {
        return rc > 0 ? 0 : EX_USAGE;
    }
    log_set_level((int)st.verbose);
    signal(SIGPIPE, SIG_IGN);
    if (st.coredumps) {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

        if (setrlimit(RLIMIT_CORE, &rl) != 0) {
            getrlimit(RLIMIT_CORE, &rl);
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_CORE, &rl);
        }
    }
    main_raise_nofile(&st);
    main_drop_privileges(&st);
    if (st.auth_file != NULL || st.sasl) {
        /* as the -u user, who must read it again on SIGHUP; before -d, so
         * that a bad file stops the command the operator ran.
         * settings_parse made sure only one of them is set. */
        auth = auth_create(st.auth_file != NULL ? st.auth_file
                                                : st.sasl_pwdb);
        if (auth == NULL) {
            return EXIT_FAILURE; /* as memcached */
        }
    }
    if (st.daemonize) {
        main_daemonize(&st);
    }
    if (st.lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        log_error("warning: -k failed to lock down all paged memory: %s",
                  strerror(errno));
    }
    if (evthread_use_pthreads() != 0) {
        log_error("libevent has no pthreads support");
        return EX_SOFTWARE;
    }
    text_setup((uint32_t)st.item_size_max);
    bin_setup((uint32_t)st.item_size_max);
    meta_setup((uint32_t)st.item_size_max);
    bin_setup_sasl(st.sasl);

    memset(&srv, 0, sizeof(srv));
    srv.settings = &st;
    srv.auth = auth;
    srv.clock = clock_create();
    srv.watch = watch_create();
    srv.store = srv.clock && srv.watch ? main_store(&st, srv.clock, srv.watch)
                                       : NULL;
    srv.base = event_base_new();
    if (srv.store == NULL || srv.base == NULL) {
        log_error("failed to set up the store (-m %zu MiB, -I %zu)",
                  st.mem_limit >> 20, st.item_size_max);
        return EX_OSERR;
    }
    if (st.ssl_enabled) {
        /* before the workers and listeners that use it */
        srv.tls = tls_create(&st);
        if (srv.tls == NULL) {
            return EX_USAGE;    /* memcached's status for a bad cert */
        }
    }
    srv.started = clock_unix(srv.clock, clock_now(srv.clock)) - 2;
    srv.nworkers = (int)st.threads;
    srv.wait = wait_create(&srv);
    srv.detail = detail_create(st.prefix_delimiter);
    if (srv.wait == NULL || srv.detail == NULL) {
        return EX_OSERR;
    }
    detail_set_enabled(srv.detail, st.detail_enabled);
    srv.bigkeys = bigkeys_create();
    srv.hotkeys = calloc((size_t)srv.nworkers, sizeof(*srv.hotkeys));
    if (srv.wait == NULL || srv.bigkeys == NULL || srv.hotkeys == NULL) {
        return EX_OSERR;
    }
    for (int i = 0; i < srv.nworkers; i++) {
        srv.hotkeys[i] = hotkeys_create(srv.clock, (unsigned)i + 1,
                                        !st.no_hotkeys);
        if (srv.hotkeys[i] == NULL) {
            return EX_OSERR;
        }
    }
    srv.workers = calloc((size_t)srv.nworkers, sizeof(*srv.workers));
    if (srv.workers == NULL) {
        return EX_OSERR;
    }
    for (int i = 0; i < srv.nworkers; i++) {
        srv.workers[i] = worker_create(&srv, i);
        if (srv.workers[i] == NULL) {
            log_error("failed to start worker thread %d", i);
            return EX_OSERR;
        }
    }
    srv.listener = listener_create(&srv);
    if (srv.listener == NULL) {
        return EX_OSERR;
    }
    srv.udp = udp_create(&srv, &rc);
    if (rc != 0) {
        return EX_OSERR;
    }
    /* only now: worker bases take no locks, and udp_create added events
     * to them from this thread (accepted connections wait in the queues) */
    for (int i = 0; i < srv.nworkers; i++) {
        if (worker_start(srv.workers[i]) != 0) {
            log_error("failed to start worker thread %d", i);
            return EX_OSERR;
        }
    }
    if (getenv("MEMCACHED_PORT_FILENAME") != NULL &&
        main_port_file(&srv, getenv("MEMCACHED_PORT_FILENAME")) != 0) {
        return EX_OSERR;
    }
    sigint_ev = evsignal_new(srv.base, SIGINT, main_on_signal, &srv);
    sigterm_ev = evsignal_new(srv.base, SIGTERM, main_on_signal, &srv);
    sighup_ev = evsignal_new(srv.base, SIGHUP, main_on_hup, &srv);
    tick_ev = event_new(srv.base, -1, EV_PERSIST, main_on_tick, &srv);
    if (sigint_ev == NULL || sigterm_ev == NULL || tick_ev == NULL ||
        sighup_ev == NULL || event_add(sighup_ev, NULL) != 0 ||
        event_add(sigint_ev, NULL) != 0 || event_add(sigterm_ev, NULL) != 0 ||
        event_add(tick_ev, &one) != 0) {
        log_error("failed to set up the main event loop");
        return EX_OSERR;
    }

    event_base_dispatch(srv.base);

    /* workers first: a running worker reads the listener ("stats conns") */
    for (int i = 0; i < srv.nworkers; i++) {
        worker_stop(srv.workers[i]);
    }
    udp_destroy(srv.udp);
    listener_destroy(srv.listener);
    for (int i = 0; i < srv.nworkers; i++) {
        worker_destroy(srv.workers[i]);
    }
    free(srv.workers);
    wait_destroy(srv.wait);
    detail_destroy(srv.detail);
    tls_destroy(srv.tls);
    bigkeys_destroy(srv.bigkeys);
    for (int i = 0; i < srv.nworkers; i++) {
        hotkeys_destroy(srv.hotkeys[i]);
    }
    free(srv.hotkeys);
    event_free(tick_ev);
    event_free(sighup_ev);
    event_free(sigterm_ev);
    event_free(sigint_ev);
    event_base_free(srv.base);
    store_destroy(srv.store);
    watch_destroy(srv.watch);
    auth_destroy(srv.auth);
    clock_destroy(srv.clock);
    if (st.daemonize && st.pidfile != NULL) {
        unlink(st.pidfile);
    }
    libevent_global_shutdown();
    settings_teardown(&st);
    return 0;
}
