/*
 * settings.h -- the daemon's configuration: memcached 1.6's flags.
 *
 * SETTINGS_TABLE is the one list of settings: it declares the struct
 * fields, their defaults and how "stats settings" prints them (memcached's
 * names).  Adding a setting is one line here plus, if it has a flag, one
 * case in settings_parse().  A struct settings is filled once at startup
 * and read-only afterwards; it is passed by pointer, never global.
 */
#ifndef STASHD_DAEMON_SETTINGS_H
#define STASHD_DAEMON_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

struct stats_sink;

/* How a setting prints in "stats settings". */
enum setting_kind {
    SK_INT,     /* long, decimal */
    SK_SIZE,    /* size_t, decimal */
    SK_DOUBLE,  /* double, "%.2f" */
    SK_BOOL,    /* bool, yes/no */
    SK_ONOFF,   /* bool, on/off */
    SK_OCTAL,   /* long, "%o" */
    SK_STR,     /* const char *, NULL prints "NULL" */
    SK_CSTR,    /* const char *, NULL prints "(null)" (as memcached's
                 * printf of a NULL pointer does) */
    SK_STRNO,   /* const char *, NULL prints "no" */
};

/*       stats name          kind       C type         field            default */
/* The store's largest slab chunk (slab/ fixes it; -o slab_chunk_max can
 * only name it). */
#define SETTINGS_CHUNK_MAX (512 * 1024)

#define SETTINGS_TABLE(X)                                                    \
    X(maxbytes,             SK_SIZE,   size_t,        mem_limit,       (size_t)64 << 20) \
    X(maxconns,             SK_INT,    long,          maxconns,        1024) \
    X(tcpport,              SK_INT,    long,          port,            11211) \
    X(udpport,              SK_INT,    long,          udpport,         0)   \
    X(inter,                SK_STR,    const char *,  listen,          NULL) \
    X(verbosity,            SK_INT,    long,          verbose,         0)   \
    X(evictions,            SK_ONOFF,  bool,          evict,           true) \
    X(domain_socket,        SK_STR,    const char *,  unix_socket,     NULL) \
    X(umask,                SK_OCTAL,  long,          unix_mask,       0700) \
    X(shutdown_command,     SK_BOOL,   bool,          enable_shutdown, false) \
    X(growth_factor,        SK_DOUBLE, double,        factor,          1.16) \
    X(chunk_size,           SK_INT,    long,          chunk_size,      48)  \
    X(num_threads,          SK_INT,    long,          threads,         4)   \
    X(num_threads_per_udp,  SK_INT,    long,          threads_per_udp, 4)   \
    X(reqs_per_event,       SK_INT,    long,          reqs_per_event,  20)  \
    X(cas_enabled,          SK_BOOL,   bool,          use_cas,         true) \
    X(tcp_backlog,          SK_INT,    long,          backlog,         1024) \
    X(binding_protocol,     SK_STR,    const char *,  protocol,        "auto-negotiate") \
    X(auth_enabled_sasl,    SK_BOOL,   bool,          sasl,            false) \
    X(auth_enabled_ascii,   SK_STRNO,  const char *,  auth_file,       NULL) \
    X(item_size_max,        SK_SIZE,   size_t,        item_size_max,   1024 * 1024) \
    X(maxconns_fast,        SK_BOOL,   bool,          maxconns_fast,   true) \
    X(hashpower_init,       SK_INT,    long,          hashpower,       0)   \
    X(slab_reassign,        SK_BOOL,   bool,          slab_reassign,   true) \
    X(slab_automove,        SK_INT,    long,          slab_automove,   1)   \
    X(slab_automove_ratio,  SK_DOUBLE, double,        slab_automove_ratio, 0.8) \
    X(slab_automove_window, SK_INT,    long,          slab_automove_window, 30) \
    X(slab_chunk_max,       SK_SIZE,   size_t,        slab_chunk_max,        \
      SETTINGS_CHUNK_MAX)                                                  \
    X(lru_crawler,          SK_BOOL,   bool,          lru_crawler,     true) \
    X(lru_crawler_sleep,    SK_INT,    long,          lru_crawler_sleep, 100) \
    X(lru_crawler_tocrawl,  SK_INT,    long,          lru_crawler_tocrawl, 0) \
    X(flush_enabled,        SK_BOOL,   bool,          flush_enabled,   true) \
    X(dump_enabled,         SK_BOOL,   bool,          dump_enabled,    true) \
    X(lru_maintainer_thread, SK_BOOL,  bool,          lru_maintainer,  true) \
    X(lru_segmented,        SK_BOOL,   bool,          lru_segmented,   true) \
    X(hot_lru_pct,          SK_INT,    long,          hot_lru_pct,     20)  \
    X(warm_lru_pct,         SK_INT,    long,          warm_lru_pct,    40)  \
    X(hot_max_factor,       SK_DOUBLE, double,        hot_max_factor,  0.2) \
    X(warm_max_factor,      SK_DOUBLE, double,        warm_max_factor, 2.0) \
    X(temp_lru,             SK_BOOL,   bool,          temp_lru,        false) \
    X(temporary_ttl,        SK_INT,    long,          temporary_ttl,   61)  \
    X(idle_timeout,         SK_INT,    long,          idle_timeout,    0)   \
    X(read_buf_mem_limit,   SK_SIZE,   size_t,        read_buf_mem_limit, 0) \
    X(detail_enabled,       SK_BOOL,   bool,          detail_enabled,  false) \
    X(track_sizes,          SK_BOOL,   bool,          track_sizes,     false) \
    SETTINGS_TLS_TABLE(X)

/* TLS (-Z, -o ssl_*; daemon/settings_tls.c parses them, daemon/tls.c uses
 * them).  keyformat and verify_mode keep memcached's numbers. */
#define SETTINGS_TLS_TABLE(X)                                                \
    X(ssl_enabled,          SK_BOOL,   bool,          ssl_enabled,     false) \
    X(ssl_chain_cert,       SK_CSTR,   const char *,  ssl_chain_cert,  NULL) \
    X(ssl_key,              SK_CSTR,   const char *,  ssl_key,         NULL) \
    X(ssl_verify_mode,      SK_INT,    long,          ssl_verify_mode, 0)   \
    X(ssl_keyformat,        SK_INT,    long,          ssl_keyformat,   1)   \
    X(ssl_ciphers,          SK_STR,    const char *,  ssl_ciphers,     NULL) \
    X(ssl_ca_cert,          SK_STR,    const char *,  ssl_ca_cert,     NULL) \
    X(ssl_wbuf_size,        SK_INT,    long,          ssl_wbuf_size,   16384) \
    X(ssl_session_cache,    SK_BOOL,   bool,          ssl_session_cache, false) \
    X(ssl_kernel_tls,       SK_BOOL,   bool,          ssl_kernel_tls,  false) \
    X(ssl_min_version,      SK_STR,    const char *,  ssl_min_version, "tlsv1.2")

#define SETTINGS_OWNED_MAX 16

/*
 * The default -f is finer than memcached's 1.25 (57 classes instead of 39:
 * less rounding waste per item, README "Leaner items"), but every class may
 * take its first page beyond -m, so below SETTINGS_FINE_MEM the default is
 * memcached's: 57 first pages would more than double a small budget.
 */
#define SETTINGS_FACTOR_COARSE 1.25
#define SETTINGS_FINE_MEM ((size_t)64 << 20)

struct settings {
#define SETTINGS_FIELD(name, kind, type, field, def) type field;
    SETTINGS_TABLE(SETTINGS_FIELD)
#undef SETTINGS_FIELD
    /* process-level flags with no "stats settings" line */
    bool daemonize;
    bool lock_memory;
    bool coredumps;
    const char *user;
    const char *pidfile;
    bool listen_given;      /* -l was given (else 127.0.0.1) */
    bool protocol_given;    /* -B was given (-S, -Y pick one otherwise) */
    bool factor_given;      /* -f was given (else the default depends on
                             * -m, settings_check) */
    const char *sasl_pwdb;  /* -S: $MEMCACHED_SASL_PWDB, user:password
                             * lines (daemon/auth.h) */
    long wait_max;          /* -o wait_max: parked mg w requests in all,
                             * 0 = default (daemon/wait.h) */
    long wait_max_per_key;  /* -o wait_max_per_key: parked on one key */
    char prefix_delimiter;  /* -D: ends a key's prefix (stats detail) */
    long ssl_handshake_timeout; /* -o ssl_handshake_timeout: seconds a TLS
                             * client has to finish its handshake */
    char *owned[SETTINGS_OWNED_MAX]; /* strings parsing allocated (-o ssl_*
                             * file names, -l given twice) */
    int nowned;
    bool no_hotkeys;        /* -o no_hotkeys: stats hotkeys not sampled */
    bool watch_disabled;    /* -W: the watch command is refused */
};

/* Fill s with the defaults. */
void settings_default(struct settings *s);

/*
 * Parse argv into s (which holds the defaults).  Returns 0 to run, 1 when
 * the program should exit 0 (-h, -V, -i), -1 on a bad flag (a message has
 * been printed).
 */
int settings_parse(struct settings *s, int argc, char **argv);

/* Free what parsing allocated; s is not used afterwards. */
void settings_teardown(struct settings *s);

/* Record p (malloc'd, may be NULL) as owned by s, freed by
 * settings_teardown.  p, or NULL (p freed) when p is NULL or s owns too
 * many strings already. */
char *settings_own(struct settings *s, char *p);

/* -o ssl_*: true if opt is a TLS option, with *rc 0 (set in s) or -1
 * (bad value, logged).  daemon/settings_tls.c. */
bool settings_tls_option(struct settings *s, const char *opt,
                         const char *val, int *rc);

/* Emit every "stats settings" line through emit(ctx, name, value). */
void settings_emit(const struct settings *s,
                   void (*emit)(void *ctx, const char *name,
                                const char *value),
                   void *ctx);

#endif
