/*
 * settings.c -- command line parsing with memcached 1.6's flags and rules.
 *
 * Differences from memcached, on purpose: stashd listens on 127.0.0.1
 * unless -l is given.  Every flag and -o option stashd does not implement
 * (-L, -N, extstore, memory files, memcached's other tuning
 * knobs) is an error, because silently running without it would surprise
 * the operator; only options memcached 1.6.18 itself ignores are accepted
 * (settings_noop).
 */
#include "daemon/settings.h"

#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/version.h"

#define ITEM_SIZE_MIN 1024
#define ITEM_SIZE_LIMIT ((size_t)1024 * 1024 * 1024)

static const char settings_help[] =
    "stashd " STASHD_VERSION " -- a memcached-compatible in-memory cache\n"
    "-p, --port=<num>          TCP port to listen on (default: 11211)\n"
    "-U, --udp-port=<num>      UDP port to listen on, -1 for an ephemeral "
    "one (default: 0, off)\n"
    "-s, --unix-socket=<file>  UNIX socket to listen on (disables network)\n"
    "-a, --unix-mask=<mask>    access mask for UNIX socket, in octal "
    "(default: 700)\n"
    "-A, --enable-shutdown     enable ascii \"shutdown\" command\n"
    "-l, --listen=<addr>       interface(s) to listen on, comma separated, "
    "addr[:port]\n"
    "                          (default: 127.0.0.1)\n"
    "-d, --daemon              run as a daemon\n"
    "-r, --enable-coredumps    maximize core file limit\n"
    "-u, --user=<user>         assume identity of <username> (only when run "
    "as root)\n"
    "-m, --memory-limit=<num>  item memory in megabytes (default: 64)\n"
    "-M, --disable-evictions   return error on memory exhausted instead of "
    "evicting\n"
    "-c, --conn-limit=<num>    max simultaneous connections (default: 1024)\n"
    "-k, --lock-memory         lock down all paged memory\n"
    "-v, --verbose             verbose (print errors/warnings)\n"
    "-vv                       very verbose (also print client commands)\n"
    "-vvv                      extremely verbose (internal state)\n"
    "-h, --help                print this help and exit\n"
    "-i, --license             print the license and exit\n"
    "-V, --version             print version and exit\n"
    "-P, --pidfile=<file>      save PID in <file>, only used with -d option\n"
    "-f, --slab-growth-factor=<num> chunk size growth factor "
    "(default: 1.16, 1.25 below -m 64)\n"
    "-n, --slab-min-size=<bytes> min space used for key+value+flags "
    "(default: 48)\n"
    "-L, --enable-largepages   not implemented: stashd refuses to start "
    "with it\n"
    "-D <char>                 prefix delimiter of stats detail (default :);\n"
    "                          turns per-prefix stats on\n"
    "-t, --threads=<num>       number of worker threads (default: 4)\n"
    "-R, --max-reqs-per-event  requests per connection per event before "
    "yielding\n"
    "                          (default: 20)\n"
    "-C, --disable-cas         disable use of CAS\n"
    "-b, --listen-backlog=<num> the backlog queue limit (default: 1024)\n"
    "-B, --protocol=<name>     ascii, binary, or auto (default: auto)\n"
    "-I, --max-item-size=<num> max item size, k/m suffix "
    "(default: 1m, min: 1k, max: 1024m)\n"
    "-F, --disable-flush-all   disable flush_all command\n"
    "-X, --disable-dumping     disable stats cachedump and metadump\n"
    "-W, --disable-watch       refuse the watch command\n"
    "-Z, --enable-ssl          TLS on every TCP listener but those given as\n"
    "                          -l notls:<addr>:<port>\n"
    "-S, --enable-sasl         binary protocol only, SASL PLAIN checked "
    "against the\n"
    "                          user:password file in $MEMCACHED_SASL_PWDB\n"
    "-Y, --auth-file=<file>    ascii protocol only; clients authenticate "
    "with\n"
    "                          \"set <any> 0 0 <n>\\r\\n<user> <password>"
    "\\r\\n\";\n"
    "                          <file> holds user:password lines, reread on "
    "SIGHUP\n"
    "-N, --napi_ids=<num>      not implemented: stashd refuses to start "
    "with it\n"
    "-e <file>                 memory files are not supported:\n"
    "                          stashd refuses to start with them\n"
    "-o, --extended            comma separated list of extended options:\n"
    "   - maxconns_fast        close new connections at the limit at once "
    "(default)\n"
    "   - no_maxconns_fast     not implemented: refused\n"
    "   - hashpower=<num>      initial log2 of hash table buckets\n"
    "   - idle_timeout=<secs>  close connections idle this long (default: 0, "
    "off)\n"
    "   - read_buf_mem_limit=<MiB> cap on connection buffer memory "
    "(default: 0, none)\n"
    "   - no_lru_crawler       no background reclaim of expired items\n"
    "   - lru_crawler          background reclaim of expired items "
    "(default)\n"
    "   - lru_crawler_sleep=<usec> rest after every 1000 items crawled "
    "(default: 100)\n"
    "   - lru_crawler_tocrawl=<num> items checked per LRU per crawl "
    "(default: 0, all)\n"
    "   - slab_chunk_max=<KiB> largest slab chunk: only 512 (the default)\n"
    "                          (or at least -I when -I is smaller)\n"
    "   - no_lru_maintainer    no LRU maintainer thread; also turns off the\n"
    "                          segmented LRU (one flat LRU per class)\n"
    "   - lru_segmented, no_lru_segmented  HOT/WARM/COLD segments "
    "(default) or flat\n"
    "   - hot_lru_pct=<num>    pct of a class's memory for HOT (default: 20)\n"
    "   - warm_lru_pct=<num>   pct of a class's memory for WARM "
    "(default: 40)\n"
    "   - hot_max_factor=<num> items idle > COLD's tail age * this leave HOT "
    "(default: 0.20)\n"
    "   - warm_max_factor=<num> items idle > COLD's tail age * this leave "
    "WARM (default: 2.00)\n"
    "   - temporary_ttl=<secs> TTLs up to this get the TEMP LRU, never "
    "evicted\n"
    "                          (turns temp_lru on; default: 61)\n"
    "   - temp_lru             TEMP LRU on with the default temporary_ttl\n"
    "   - wait_max=<num>       mg w: requests parked at once (default: "
    "100000)\n"
    "   - wait_max_per_key=<num> mg w: requests parked on one key "
    "(default: 10000)\n"
    "   - no_hotkeys           do not sample keys for stats hotkeys\n"
    "   - slab_reassign        move slab pages between classes (default)\n"
    "   - no_slab_reassign     pages stay with their class for life\n"
    "   - slab_automove=<0|1|2> 0 off, 1 age ratio (default), 2 aggressive\n"
    "   - slab_automove_ratio=<f> youngest:oldest tail age that moves a page "
    "(0.8)\n"
    "   - slab_automove_window=<n> samples a free-memory trend must last "
    "(30)\n"
    "   - track_sizes: stats sizes on from the start\n"
    "   - ssl_chain_cert=<file> server certificate chain (PEM)\n"
    "   - ssl_key=<file>       server private key\n"
    "   - ssl_keyformat=<1|2>  key file format: 1 PEM (default), 2 DER\n"
    "   - ssl_verify_mode=<0..3> client certificates: 0 not asked "
    "(default),\n"
    "                          1 asked, 2 required, 3 asked once\n"
    "   - ssl_ca_cert=<file>   CA certificates client certificates are "
    "checked against\n"
    "   - ssl_ciphers=<list>   OpenSSL cipher list (TLS 1.2 and older)\n"
    "   - ssl_min_version=<v>  tlsv1.2 (default) or tlsv1.3\n"
    "   - ssl_session_cache    server-side session cache (resumption)\n"
    "   - ssl_wbuf_size=<KiB>  TLS record size for replies (default: 16)\n"
    "   - ssl_handshake_timeout=<s> close clients that have not finished "
    "the\n"
    "                          TLS handshake after s seconds (default: 10)\n"
    "   modern, inline_ascii_resp and resp_obj_mem_limit are accepted "
    "(memcached\n"
    "   ignores them too); memcached's other tuning options "
    "(tail_repair_time,\n"
    "   hash_algorithm, *_logbuf_size, no_hashexpand, ...) are not\n"
    "   implemented and refused.\n";

static const char settings_license[] =
    "stashd is distributed under the BSD 3-Clause license; see COPYING.\n"
    "It uses libevent (3-clause BSD) and jemalloc (2-clause BSD).\n";

void
settings_default(struct settings *s)
{
    memset(s, 0, sizeof(*s));
#define SETTINGS_DEFAULT(name, kind, type, field, def) s->field = def;
    SETTINGS_TABLE(SETTINGS_DEFAULT)
#undef SETTINGS_DEFAULT
    s->prefix_delimiter = ':';
}

/* Parse an unsigned decimal that must fill the whole string. */
static bool
parse_ulong(const char *str, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (str == NULL || !isdigit((unsigned char)*str)) {
        return false;
    }
    errno = 0;
    v = strtoul(str, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Parse a size with an optional k/m/g suffix (binary units). */
static bool
parse_size(const char *str, size_t *out)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    if (str == NULL || !isdigit((unsigned char)*str)) {
        return false;
    }
    errno = 0;
    v = strtoull(str, &end, 10);
    if (errno != 0) {
        return false;
    }
    switch (tolower((unsigned char)*end)) {
    case '\0':
        break;
    case 'k':
        shift = 10;
        end++;
        break;
    case 'm':
        shift = 20;
        end++;
        break;
    case 'g':
        shift = 30;
        end++;
        break;
    default:
        return false;
    }
    if (*end != '\0' || v > (SIZE_MAX >> shift)) {
        return false;
    }
    *out = (size_t)v << shift;
    return true;
}

/* The -o options memcached 1.6.18 itself does nothing with (modern: its
 * defaults are already modern; the inline_ascii_resp pair went with 1.6's
 * response objects; resp_obj_mem_limit: it prints a deprecation): accepted
 * as memcached accepts them.  Every other option stashd does not
 * implement is refused: running without what it asks for would surprise
 * the operator. */
static const char *const settings_noop[] = {
    "modern", "inline_ascii_resp", "no_inline_ascii_resp",
    "resp_obj_mem_limit", NULL,
};

/* Parse a factor (> 0) as memcached's strtod does. */
static bool
parse_factor(const char *str, double *out)
{
    char *end;
    double v;

    if (str == NULL || *str == '\0') {
        return false;
    }
    v = strtod(str, &end);
    if (*end != '\0' || !(v > 0)) {
        return false;
    }
    *out = v;
    return true;
}

/* The segmented LRU's -o options, with memcached's messages; true if opt
 * was one of them (*rc then 0 or -1). */
static bool
settings_lru_option(struct settings *s, const char *opt, const char *val,
                    int *rc)
{
    unsigned long n;

    *rc = 0;
    if (strcmp(opt, "lru_maintainer") == 0) {
        s->lru_maintainer = true;
    } else if (strcmp(opt, "no_lru_maintainer") == 0) {
        s->lru_maintainer = false;
    } else if (strcmp(opt, "lru_segmented") == 0) {
        s->lru_segmented = true;
    } else if (strcmp(opt, "no_lru_segmented") == 0) {
        s->lru_segmented = false;
    } else if (strcmp(opt, "temp_lru") == 0) {
        s->temp_lru = true;
    } else if (strcmp(opt, "hot_lru_pct") == 0 ||
               strcmp(opt, "warm_lru_pct") == 0) {
        if (!parse_ulong(val, 100, &n) || n <= 1 || n >= 80) {
            log_error("%s must be > 1 and < 80", opt);
            *rc = -1;
        } else if (opt[0] == 'h') {
            s->hot_lru_pct = (long)n;
        } else {
            s->warm_lru_pct = (long)n;
        }
    } else if (strcmp(opt, "hot_max_factor") == 0 ||
               strcmp(opt, "warm_max_factor") == 0) {
        double f;

        if (!parse_factor(val, &f)) {
            log_error("%s must be > 0", opt);
            *rc = -1;
        } else if (opt[0] == 'h') {
            s->hot_max_factor = f;
        } else {
            s->warm_max_factor = f;
        }
    } else if (strcmp(opt, "temporary_ttl") == 0) {
        if (!parse_ulong(val, UINT32_MAX, &n)) {
            log_error("Invalid temporary_ttl: %s", val ? val : "");
            *rc = -1;
        } else {
            s->temp_lru = true;
            s->temporary_ttl = (long)n;
        }
    } else {
        return false;
    }
    return true;
}

/* memcached's -o options that stashd does not implement, for a message
 * that says so rather than "Illegal suboption". */
static const char *const settings_unimplemented[] = {
    "tail_repair_time", "hash_algorithm", "watcher_logbuf_size",
    "worker_logbuf_size", "no_hashexpand", "no_modern",
    "sock_cookie_id", "slab_automove_freeratio", "no_maxconns_fast",
    NULL,
};

static int
settings_refuse_option(const char *opt)
{
    for (int i = 0; settings_unimplemented[i] != NULL; i++) {
        if (strcmp(opt, settings_unimplemented[i]) == 0) {
            log_error("stashd does not implement -o %s: remove it (stashd "
                      "refuses to run without what a flag asks for)", opt);
            return -1;
        }
    }
    log_error("Illegal suboption \"%s\"", opt);
    return -1;
}

static int
settings_extended_one(struct settings *s, char *opt)
{
    char *val = strchr(opt, '=');
    unsigned long n;
    size_t sz;
    int rc;

    if (val != NULL) {
        *val++ = '\0';
    }
    if (strcmp(opt, "track_sizes") == 0) {
        s->track_sizes = true;
        return 0;
    }
    if (strcmp(opt, "maxconns_fast") == 0) {
        s->maxconns_fast = true;
        return 0;
    }
    if (strcmp(opt, "hashpower") == 0) {
        if (!parse_ulong(val, 32, &n) || n < 12) {
            log_error("Initial hashtable multiplier of %s is too low or "
                      "too high (12..32)", val ? val : "");
            return -1;
        }
        s->hashpower = (long)n;
        return 0;
    }
    if (strcmp(opt, "idle_timeout") == 0) {
        if (!parse_ulong(val, 86400 * 365, &n)) {
            log_error("Invalid idle_timeout: %s", val ? val : "");
            return -1;
        }
        s->idle_timeout = (long)n;
        return 0;
    }
    if (strcmp(opt, "read_buf_mem_limit") == 0) {
        if (!parse_ulong(val, 1UL << 20, &n)) {
            log_error("Invalid read_buf_mem_limit: %s", val ? val : "");
            return -1;
        }
        s->read_buf_mem_limit = (size_t)n << 20;
        return 0;
    }
    if (strcmp(opt, "wait_max") == 0 ||
        strcmp(opt, "wait_max_per_key") == 0) {
        if (!parse_ulong(val, UINT32_MAX, &n) || n == 0) {
            log_error("Invalid %s: %s", opt, val ? val : "");
            return -1;
        }
        if (strcmp(opt, "wait_max") == 0) {
            s->wait_max = (long)n;
        } else {
            s->wait_max_per_key = (long)n;
        }
        return 0;
    }
    if (strcmp(opt, "no_hotkeys") == 0) {
        s->no_hotkeys = true;
        return 0;
    }
    if (strcmp(opt, "slab_reassign") == 0 ||
        strcmp(opt, "no_slab_reassign") == 0) {
        s->slab_reassign = opt[0] == 's';
        return 0;
    }
    if (strcmp(opt, "slab_automove") == 0) {
        if (val == NULL) {
            n = 1;
        } else if (!parse_ulong(val, 2, &n)) {
            log_error("slab_automove must be between 0 and 2");
            return -1;
        }
        s->slab_automove = (long)n;
        return 0;
    }
    if (strcmp(opt, "slab_automove_window") == 0) {
        if (!parse_ulong(val, 1024, &n) || n == 0) {
            log_error("slab_automove_window must be between 1 and 1024");
            return -1;
        }
        s->slab_automove_window = (long)n;
        return 0;
    }
    if (strcmp(opt, "slab_automove_ratio") == 0) {
        char *end = NULL;
        double r = val != NULL ? strtod(val, &end) : 0;

        if (val == NULL || *end != '\0' || !(r > 0 && r <= 1)) {
            log_error("slab_automove_ratio must be above 0 and at most 1");
            return -1;
        }
        s->slab_automove_ratio = r;
        return 0;
    }
    if (strcmp(opt, "no_lru_crawler") == 0 ||
        strcmp(opt, "lru_crawler") == 0) {
        s->lru_crawler = opt[0] == 'l';
        return 0;
    }
    if (strcmp(opt, "lru_crawler_sleep") == 0) {
        if (val == NULL) {
            log_error("Missing lru_crawler_sleep value");
            return -1;
        }
        /* memcached reads it with atoi: leading digits, else 0 */
        n = strtoul(val, NULL, 10);
        if (val[0] == '-' || n > 1000000) {
            log_error("LRU crawler sleep must be between 0 and 1 second");
            return -1;
        }
        s->lru_crawler_sleep = (long)n;
        return 0;
    }
    if (strcmp(opt, "lru_crawler_tocrawl") == 0) {
        if (val == NULL) {
            log_error("Missing lru_crawler_tocrawl value");
            return -1;
        }
        if (!parse_ulong(val, ULONG_MAX, &n)) {
            log_error("lru_crawler_tocrawl takes a numeric 32bit value");
            return -1;
        }
        /* memcached keeps the low 32 bits */
        s->lru_crawler_tocrawl = (long)(uint32_t)n;
        return 0;
    }
    if (settings_lru_option(s, opt, val, &rc)) {
        return rc;
    }
    if (strcmp(opt, "slab_chunk_max") == 0) {
        if (!parse_size(val, &sz) || sz == 0) {
            log_error("Invalid slab_chunk_max: %s", val ? val : "");
            return -1;
        }
        if (sz > SIZE_MAX / 1024) {
            log_error("Invalid slab_chunk_max: %s", val);
            return -1;
        }
        /* memcached takes kilobytes here; whether stashd can honour the
         * value depends on -I, so settings_check decides */
        s->slab_chunk_max = sz * 1024;
        return 0;
    }
    if (settings_tls_option(s, opt, val, &rc)) {
        return rc;
    }
    if (strncmp(opt, "ext_", 4) == 0) {
        log_error("stashd does not support %s (no extstore)", opt);
        return -1;
    }
    for (int i = 0; settings_noop[i] != NULL; i++) {
        if (strcmp(opt, settings_noop[i]) == 0) {
            return 0;
        }
    }
    return settings_refuse_option(opt);
}

static int
settings_extended(struct settings *s, const char *arg)
{
    char *copy = strdup(arg);
    char *save = NULL;
    int rc = 0;

    if (copy == NULL) {
        return -1;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        rc = settings_extended_one(s, tok);
    }
    free(copy);
    return rc;
}

static const struct option settings_long[] = {
    {"port", required_argument, NULL, 'p'},
    {"udp-port", required_argument, NULL, 'U'},
    {"unix-socket", required_argument, NULL, 's'},
    {"unix-mask", required_argument, NULL, 'a'},
    {"enable-shutdown", no_argument, NULL, 'A'},
    {"listen", required_argument, NULL, 'l'},
    {"daemon", no_argument, NULL, 'd'},
    {"enable-coredumps", no_argument, NULL, 'r'},
    {"user", required_argument, NULL, 'u'},
    {"memory-limit", required_argument, NULL, 'm'},
    {"disable-evictions", no_argument, NULL, 'M'},
    {"conn-limit", required_argument, NULL, 'c'},
    {"lock-memory", no_argument, NULL, 'k'},
    {"verbose", optional_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"license", no_argument, NULL, 'i'},
    {"version", no_argument, NULL, 'V'},
    {"pidfile", required_argument, NULL, 'P'},
    {"slab-growth-factor", required_argument, NULL, 'f'},
    {"slab-min-size", required_argument, NULL, 'n'},
    {"enable-largepages", no_argument, NULL, 'L'},
    {"threads", required_argument, NULL, 't'},
    {"max-reqs-per-event", required_argument, NULL, 'R'},
    {"disable-cas", no_argument, NULL, 'C'},
    {"listen-backlog", required_argument, NULL, 'b'},
    {"protocol", required_argument, NULL, 'B'},
    {"max-item-size", required_argument, NULL, 'I'},
    {"enable-sasl", no_argument, NULL, 'S'},
    {"disable-flush-all", no_argument, NULL, 'F'},
    {"disable-dumping", no_argument, NULL, 'X'},
    {"disable-watch", no_argument, NULL, 'W'},
    {"auth-file", required_argument, NULL, 'Y'},
    {"memory-file", required_argument, NULL, 'e'},
    {"enable-ssl", no_argument, NULL, 'Z'},
    {"extended", required_argument, NULL, 'o'},
    {"napi_ids", required_argument, NULL, 'N'},
    {NULL, 0, NULL, 0},
};

/*
 * -S and -Y, as memcached 1.6.18: SASL is binary only and -Y ascii only,
 * so each picks the protocol unless -B names the other (then, or with
 * both, memcached's error).  stashd checks PLAIN itself against the
 * user:password file memcached's own SASL reads from MEMCACHED_SASL_PWDB;
 * it has no Cyrus SASL, so -S without that variable is refused rather
 * than letting every client fail.
 */
static int
settings_check_auth(struct settings *s)
{
    if (s->sasl) {
        if (s->auth_file != NULL ||
            (s->protocol_given && strcmp(s->protocol, "binary") != 0)) {
            log_error("ERROR: You cannot allow the ASCII protocol while "
                      "using SASL.");
            return -1;
        }
        if (s->udpport != 0) {
            log_error("ERROR: Cannot enable UDP while using binary SASL "
                      "authentication.");
            return -1;
        }
        s->protocol = "binary";
        s->sasl_pwdb = getenv("MEMCACHED_SASL_PWDB");
        if (s->sasl_pwdb == NULL || s->sasl_pwdb[0] == '\0') {
            log_error("-S needs MEMCACHED_SASL_PWDB set to a file of "
                      "user:password lines: stashd checks SASL PLAIN "
                      "itself and has no Cyrus SASL database");
            return -1;
        }
    }
    if (s->auth_file != NULL) {
        if (s->udpport != 0) {
            /* a datagram has no connection to authenticate */
            log_error("Cannot use UDP with ascii authentication enabled "
                      "(-U 0 to disable)");
            return -1;
        }
        if (s->protocol_given && strcmp(s->protocol, "ascii") != 0) {
            log_error("ERROR: You cannot allow the BINARY protocol while "
                      "using ascii authentication tokens.");
            return -1;
        }
        s->protocol = "ascii";
    }
    return 0;
}

/* Checks that involve several flags, after all are parsed. */
static int
settings_check(struct settings *s)
{
    if (s->item_size_max < ITEM_SIZE_MIN) {
        log_error("Item max size cannot be less than 1024 bytes.");
        return -1;
    }
    if (s->item_size_max > ITEM_SIZE_LIMIT) {
        log_error("Cannot set item size limit higher than 1 gigabyte.");
        return -1;
    }
    if (s->item_size_max > s->mem_limit / 2) {
        log_error("Cannot set item size limit higher than 1/2 of memory "
                  "max.");
        return -1;
    }
    {
        /* memcached clamps the chunk size to the item size; stashd's
         * largest chunk is fixed (slab/), so only a value that comes to the
         * same chunk size after that clamp can be honoured */
        size_t fixed = s->item_size_max < SETTINGS_CHUNK_MAX
                           ? s->item_size_max : SETTINGS_CHUNK_MAX;
        size_t want = s->slab_chunk_max < s->item_size_max
                          ? s->slab_chunk_max : s->item_size_max;

        if (want != fixed) {
            log_error("stashd does not implement -o slab_chunk_max other "
                      "than 512 (KiB), or at least -I when -I is smaller");
            return -1;
        }
        s->slab_chunk_max = fixed;
    }
    if (!s->factor_given && s->mem_limit < SETTINGS_FINE_MEM) {
        s->factor = SETTINGS_FACTOR_COARSE;
    }
    if (s->hot_lru_pct + s->warm_lru_pct > 80) {
        log_error("hot_lru_pct + warm_lru_pct cannot be more than 80%% "
                  "combined");
        return -1;
    }
    if (!s->lru_maintainer) {
        if (s->temp_lru) {
            log_error("temporary_ttl requires lru_maintainer to be enabled");
            return -1;
        }
        /* without the thread nothing would move items down the segments */
        s->lru_segmented = false;
    }
    if (s->threads > 64) {
        log_error("WARNING: Setting a high number of worker threads is not "
                  "recommended.\n Set this value to the number of cores in"
                  " your machine or less.");
    }
    if (!s->listen_given) {
        s->listen = "127.0.0.1";
    }
    /* every worker reads every UDP socket (daemon/udp.c) */
    s->threads_per_udp = s->threads;
    return settings_check_auth(s);
}

int
settings_parse(struct settings *s, int argc, char **argv)
{
    static const char shortopts[] =
        "p:U:s:a:Al:dru:m:Mc:kvhiVP:f:n:LD:t:R:Cb:B:I:SFXWY:e:Zo:N:";
    unsigned long n;
    size_t sz;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, settings_long, NULL)) !=
           -1) {
        switch (c) {
        case 'p':
            /* -1: a port the kernel picks (see MEMCACHED_PORT_FILENAME) */
            if (strcmp(optarg, "-1") == 0) {
                s->port = -1;
                break;
            }
            if (!parse_ulong(optarg, 65535, &n)) {
                log_error("Invalid port: %s", optarg);
                return -1;
            }
            s->port = (long)n;
            break;
        case 'U':
            /* -1: an ephemeral port (daemon/udp.c), as memcached */
            if (strcmp(optarg, "-1") == 0) {
                s->udpport = -1;
                break;
            }
            if (!parse_ulong(optarg, 65535, &n)) {
                log_error("Invalid UDP port: %s", optarg);
                return -1;
            }
            s->udpport = (long)n;
            break;
        case 's':
            s->unix_socket = optarg;
            break;
        case 'a':
            errno = 0;
            s->unix_mask = strtol(optarg, NULL, 8);
            if (errno != 0 || s->unix_mask < 0 || s->unix_mask > 0777) {
                log_error("Invalid unix mask: %s", optarg);
                return -1;
            }
            break;
        case 'A':
            s->enable_shutdown = true;
            break;
        case 'l':
            /* as memcached: each -l adds its addresses (-l A -l notls:B) */
            if (s->listen_given && strstr(s->listen, optarg) == NULL) {
                size_t n = strlen(s->listen) + strlen(optarg) + 2;
                char *both = malloc(n);

                if (both == NULL) {
                    return -1;
                }
                snprintf(both, n, "%s,%s", s->listen, optarg);
                s->listen = settings_own(s, both);
                if (s->listen == NULL) {
                    log_error("too many -l");
                    return -1;
                }
            } else if (!s->listen_given) {
                s->listen = optarg;
            }
            s->listen_given = true;
            break;
        case 'd':
            s->daemonize = true;
            break;
        case 'r':
            s->coredumps = true;
            break;
        case 'u':
            s->user = optarg;
            break;
        case 'm':
            if (!parse_ulong(optarg, 1UL << 30, &n) || n == 0) {
                log_error("Invalid value for -m: %s", optarg);
                return -1;
            }
            s->mem_limit = (size_t)n << 20;
            break;
        case 'M':
            s->evict = false;
            break;
        case 'c':
            if (!parse_ulong(optarg, 1UL << 24, &n) || n == 0) {
                log_error("Maximum connections must be greater than 0");
                return -1;
            }
            s->maxconns = (long)n;
            break;
        case 'k':
            s->lock_memory = true;
            break;
        case 'v':
            s->verbose++;
            break;
        case 'h':
            fputs(settings_help, stdout);
            return 1;
        case 'i':
            fputs(settings_license, stdout);
            return 1;
        case 'V':
            printf("stashd %s (memcached %s protocol)\n", STASHD_VERSION,
                   STASHD_PROTOCOL_VERSION);
            return 1;
        case 'P':
            s->pidfile = optarg;
            break;
        case 'f': {
            char *end;
            s->factor = strtod(optarg, &end);
            if (*end != '\0' || !(s->factor > 1.0)) {
                log_error("Factor must be greater than 1");
                return -1;
            }
            s->factor_given = true;
            break;
        }
        case 'n':
            if (!parse_ulong(optarg, 1UL << 20, &n) || n == 0) {
                log_error("Chunk size must be greater than 0");
                return -1;
            }
            s->chunk_size = (long)n;
            break;
        case 'L':
            log_error("stashd does not implement -L (large pages): remove "
                      "it");
            return -1;
        case 'D':
            /* as memcached: a delimiter turns per-prefix stats on */
            s->prefix_delimiter = optarg[0];
            s->detail_enabled = true;
            break;
        case 't':
            if (!parse_ulong(optarg, 1024, &n) || n == 0) {
                log_error("Number of threads must be greater than 0");
                return -1;
            }
            s->threads = (long)n;
            break;
        case 'R':
            if (!parse_ulong(optarg, 1UL << 20, &n) || n == 0) {
                log_error("Number of requests per event must be greater "
                          "than 0");
                return -1;
            }
            s->reqs_per_event = (long)n;
            break;
        case 'C':
            s->use_cas = false;
            break;
        case 'b':
            if (!parse_ulong(optarg, 1UL << 20, &n) || n == 0) {
                log_error("Invalid listen backlog: %s", optarg);
                return -1;
            }
            s->backlog = (long)n;
            break;
        case 'B':
            if (strcmp(optarg, "auto") == 0) {
                s->protocol = "auto-negotiate";
            } else if (strcmp(optarg, "ascii") == 0) {
                s->protocol = "ascii";
            } else if (strcmp(optarg, "binary") == 0) {
                s->protocol = "binary";
            } else {
                log_error("Invalid value for binding protocol: %s\n"
                          " -- should be one of auto, binary, or ascii",
                          optarg);
                return -1;
            }
            s->protocol_given = true;
            break;
        case 'I':
            if (!parse_size(optarg, &sz)) {
                log_error("Invalid value for -I: %s", optarg);
                return -1;
            }
            s->item_size_max = sz;
            break;
        case 'F':
            s->flush_enabled = false;
            break;
        case 'X':
            s->dump_enabled = false;
            break;
        case 'W':
            s->watch_disabled = true;
            break;
        case 'N':
            log_error("stashd does not implement -N (NAPI ids): remove it");
            return -1;
        case 'S':
            s->sasl = true;
            break;
        case 'Y':
            s->auth_file = optarg;
            break;
        case 'e':
            log_error("stashd is memory only: -e (memory file) is not "
                      "supported");
            return -1;
        case 'Z':
#ifdef STASHD_TLS
            s->ssl_enabled = true;
            break;
#else
            log_error("TLS is unavailable: stashd was built without OpenSSL "
                      "(-Z)");
            return -1;
#endif
        case 'o':
            if (settings_extended(s, optarg) != 0) {
                return -1;
            }
            break;
        default:
            log_error("Illegal argument \"%c\"", optopt ? optopt : '?');
            return -1;
        }
    }
    if (optind < argc) {
        log_error("Unexpected argument: %s", argv[optind]);
        return -1;
    }
    return settings_check(s);
}

char *
settings_own(struct settings *s, char *p)
{
    if (p != NULL && s->nowned == SETTINGS_OWNED_MAX) {
        free(p);
        return NULL;
    }
    if (p != NULL) {
        s->owned[s->nowned++] = p;
    }
    return p;
}

void
settings_teardown(struct settings *s)
{
    for (int i = 0; i < s->nowned; i++) {
        free(s->owned[i]);
    }
    s->nowned = 0;
}

/* Where each setting lives, for printing them in one loop. */
struct setting_desc {
    const char *name;
    enum setting_kind kind;
    size_t off;
};

static const struct setting_desc settings_desc[] = {
#define SETTINGS_DESC(name, kind, type, field, def)                          \
    {#name, kind, offsetof(struct settings, field)},
    SETTINGS_TABLE(SETTINGS_DESC)
#undef SETTINGS_DESC
};

void
settings_emit(const struct settings *s,
              void (*emit)(void *ctx, const char *name, const char *value),
              void *ctx)
{
    const char *base = (const char *)s;
    char buf[64];

    for (size_t i = 0; i < sizeof(settings_desc) / sizeof(settings_desc[0]);
         i++) {
        const struct setting_desc *d = &settings_desc[i];
        const void *p = base + d->off;
        const char *str;

        switch (d->kind) {
        case SK_INT:
            snprintf(buf, sizeof(buf), "%ld", *(const long *)p);
            break;
        case SK_SIZE:
            snprintf(buf, sizeof(buf), "%zu", *(const size_t *)p);
            break;
        case SK_OCTAL:
            snprintf(buf, sizeof(buf), "%lo", *(const unsigned long *)p);
            break;
        case SK_DOUBLE:
            snprintf(buf, sizeof(buf), "%.2f", *(const double *)p);
            break;
        case SK_BOOL:
            snprintf(buf, sizeof(buf), "%s", *(const bool *)p ? "yes" : "no");
            break;
        case SK_ONOFF:
            snprintf(buf, sizeof(buf), "%s", *(const bool *)p ? "on" : "off");
            break;
        case SK_STR:
        case SK_CSTR:
        case SK_STRNO:
            /* emitted whole: a file path may not fit buf */
            str = *(const char *const *)p;
            if (str == NULL) {
                str = d->kind == SK_STR    ? "NULL"
                      : d->kind == SK_CSTR ? "(null)"
                                           : "no";
            }
            emit(ctx, d->name, str);
            continue;
        }
        emit(ctx, d->name, buf);
    }
}
