/*
 * check_settings.c -- flag parsing: memcached's flags, defaults and rules.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon/settings.h"

static void collect(void *ctx, const char *name, const char *value);

/* Parse a NULL-terminated list of arguments into *s. */
static int
parse(struct settings *s, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    argv[argc++] = "stashd";
    va_start(ap, s);
    for (char *a = va_arg(ap, char *); a != NULL; a = va_arg(ap, char *)) {
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    settings_default(s);
    return settings_parse(s, argc, argv);
}

START_TEST(test_defaults)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, NULL), 0);
    ck_assert_uint_eq(s.mem_limit, (size_t)64 << 20);
    ck_assert_int_eq(s.port, 11211);
    ck_assert_int_eq(s.threads, 4);
    ck_assert_int_eq(s.maxconns, 1024);
    ck_assert_int_eq(s.reqs_per_event, 20);
    ck_assert_int_eq(s.chunk_size, 48);
    ck_assert(s.factor > 1.159 && s.factor < 1.161);
    ck_assert_uint_eq(s.item_size_max, 1024 * 1024);
    ck_assert(s.evict);
    ck_assert(s.use_cas);
    ck_assert(!s.enable_shutdown);
    ck_assert(s.flush_enabled);
    ck_assert_str_eq(s.listen, "127.0.0.1");
    ck_assert_str_eq(s.protocol, "auto-negotiate");
}
END_TEST

/* The finer default -f holds from -m 64 on; below, memcached's 1.25 (every
 * class may take a first page beyond -m); a given -f always wins. */
START_TEST(test_factor_default_by_memory)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-m", "128", NULL), 0);
    ck_assert(s.factor > 1.159 && s.factor < 1.161);
    ck_assert_int_eq(parse(&s, "-m", "64", NULL), 0);
    ck_assert(s.factor > 1.159 && s.factor < 1.161);
    ck_assert_int_eq(parse(&s, "-m", "63", NULL), 0);
    ck_assert(s.factor > 1.249 && s.factor < 1.251);
    ck_assert_int_eq(parse(&s, "-m", "2", "-f", "1.16", NULL), 0);
    ck_assert(s.factor > 1.159 && s.factor < 1.161);
    ck_assert_int_eq(parse(&s, "-f", "1.25", NULL), 0);
    ck_assert(s.factor > 1.249 && s.factor < 1.251);
}
END_TEST

START_TEST(test_short_flags)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-p", "12000", "-m", "128", "-t", "2", "-c",
                           "50", "-M", "-C", "-A", "-F", "-R", "5", "-f",
                           "1.5", "-n", "64", "-b", "77", "-l",
                           "127.0.0.2", "-vv", NULL),
                     0);
    ck_assert_int_eq(s.port, 12000);
    ck_assert_uint_eq(s.mem_limit, (size_t)128 << 20);
    ck_assert_int_eq(s.threads, 2);
    ck_assert_int_eq(s.maxconns, 50);
    ck_assert(!s.evict);
    ck_assert(!s.use_cas);
    ck_assert(s.enable_shutdown);
    ck_assert(!s.flush_enabled);
    ck_assert_int_eq(s.reqs_per_event, 5);
    ck_assert(s.factor > 1.49 && s.factor < 1.51);
    ck_assert_int_eq(s.chunk_size, 64);
    ck_assert_int_eq(s.backlog, 77);
    ck_assert_str_eq(s.listen, "127.0.0.2");
    ck_assert_int_eq(s.verbose, 2);
}
END_TEST

START_TEST(test_long_flags)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "--port=12001", "--memory-limit=32",
                           "--threads=3", "--max-item-size=2m",
                           "--unix-socket=/tmp/x.sock", "--unix-mask=755",
                           "--protocol=binary", "--disable-evictions", NULL),
                     0);
    ck_assert_int_eq(s.port, 12001);
    ck_assert_uint_eq(s.mem_limit, (size_t)32 << 20);
    ck_assert_int_eq(s.threads, 3);
    ck_assert_uint_eq(s.item_size_max, 2 * 1024 * 1024);
    ck_assert_str_eq(s.unix_socket, "/tmp/x.sock");
    ck_assert_int_eq(s.unix_mask, 0755);
    ck_assert_str_eq(s.protocol, "binary");
    ck_assert(!s.evict);
}
END_TEST

START_TEST(test_item_size_rules)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-I", "512k", NULL), 0);
    ck_assert_uint_eq(s.item_size_max, 512 * 1024);
    ck_assert_int_eq(parse(&s, "-I", "1000", NULL), -1);   /* < 1k */
    ck_assert_int_eq(parse(&s, "-I", "2g", NULL), -1);     /* > 1 GiB */
    /* memcached's rule: -I at most half of -m */
    ck_assert_int_eq(parse(&s, "-m", "2", "-I", "2m", NULL), -1);
    ck_assert_int_eq(parse(&s, "-m", "4", "-I", "2m", NULL), 0);
    ck_assert_int_eq(parse(&s, "-I", "12x", NULL), -1);
}
END_TEST

START_TEST(test_bad_values)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-t", "0", NULL), -1);
    ck_assert_int_eq(parse(&s, "-f", "1.0", NULL), -1);
    ck_assert_int_eq(parse(&s, "-n", "0", NULL), -1);
    ck_assert_int_eq(parse(&s, "-c", "0", NULL), -1);
    ck_assert_int_eq(parse(&s, "-p", "70000", NULL), -1);
    ck_assert_int_eq(parse(&s, "-m", "abc", NULL), -1);
    ck_assert_int_eq(parse(&s, "-B", "udp", NULL), -1);
    ck_assert_int_eq(parse(&s, "-Q", NULL), -1);
    ck_assert_int_eq(parse(&s, "stray", NULL), -1);
}
END_TEST

START_TEST(test_unsupported_features_refused)
{
    struct settings s;

    unsetenv("MEMCACHED_SASL_PWDB");
    /* -S checks PLAIN against $MEMCACHED_SASL_PWDB: without it, refused */
    ck_assert_int_eq(parse(&s, "-S", NULL), -1);
    ck_assert_int_eq(parse(&s, "-e", "/tmp/mem", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "ext_path=/tmp/x:1G", NULL), -1);
}
END_TEST

/* -Z and -o ssl_*: memcached's names, values and printing. */
START_TEST(test_tls_options)
{
    struct settings s;
    static char buf[8192];

#ifdef STASHD_TLS
    ck_assert_int_eq(parse(&s, "-Z", NULL), 0);
    ck_assert(s.ssl_enabled);
#else
    ck_assert_int_eq(parse(&s, "-Z", NULL), -1);
#endif
    ck_assert_int_eq(parse(&s, "-o",
                           "ssl_chain_cert=/c.pem,ssl_key=/k.der,"
                           "ssl_keyformat=2,ssl_verify_mode=3,"
                           "ssl_ca_cert=/ca.pem,ssl_ciphers=HIGH:!aNULL,"
                           "ssl_wbuf_size=8,ssl_min_version=tlsv1.3,"
                           "ssl_session_cache,ssl_handshake_timeout=3",
                           NULL),
                     0);
    ck_assert_str_eq(s.ssl_chain_cert, "/c.pem");
    ck_assert_str_eq(s.ssl_key, "/k.der");
    ck_assert_int_eq(s.ssl_keyformat, 2);
    ck_assert_int_eq(s.ssl_verify_mode, 3);
    ck_assert_str_eq(s.ssl_ca_cert, "/ca.pem");
    ck_assert_str_eq(s.ssl_ciphers, "HIGH:!aNULL");
    ck_assert_int_eq(s.ssl_wbuf_size, 8192);
    ck_assert_str_eq(s.ssl_min_version, "tlsv1.3");
    ck_assert(s.ssl_session_cache);
    ck_assert_int_eq(s.ssl_handshake_timeout, 3);
    settings_teardown(&s);
    ck_assert_int_eq(parse(&s, "-o", "ssl_verify_mode=4", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "ssl_keyformat=3", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "ssl_min_version=sslv3", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "ssl_wbuf_size=0", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "ssl_chain_cert", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "ssl_kernel_tls", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "ssl_bogus=1", NULL), -1);
    /* defaults print as memcached 1.6.18's stats settings */
    ck_assert_int_eq(parse(&s, NULL), 0);
    buf[0] = '\0';
    settings_emit(&s, collect, buf);
    ck_assert_ptr_nonnull(strstr(buf,
        "ssl_enabled=no\nssl_chain_cert=(null)\nssl_key=(null)\n"
        "ssl_verify_mode=0\nssl_keyformat=1\nssl_ciphers=NULL\n"
        "ssl_ca_cert=NULL\nssl_wbuf_size=16384\nssl_session_cache=no\n"
        "ssl_kernel_tls=no\nssl_min_version=tlsv1.2\n"));
}
END_TEST

/* -l given twice adds up, as memcached's (-l A -l notls:B). */
START_TEST(test_listen_accumulates)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-l", "127.0.0.1", "-l",
                           "notls:127.0.0.1:11212", "-l", "127.0.0.1", NULL),
                     0);
    ck_assert_str_eq(s.listen, "127.0.0.1,notls:127.0.0.1:11212");
    settings_teardown(&s);
}
END_TEST

/* Flags stashd does not implement stop it, instead of a warning. */
START_TEST(test_unimplemented_refused)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-L", NULL), -1);
    ck_assert_int_eq(parse(&s, "-N", "1", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "hash_algorithm=murmur3", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "tail_repair_time=10", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "no_maxconns_fast", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "no_modern", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "watcher_logbuf_size=64", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "slab_chunk_max=16", NULL), -1);
    /* what memcached 1.6.18 itself ignores stays accepted */
    ck_assert_int_eq(parse(&s, "-o", "modern,inline_ascii_resp", NULL), 0);
    ck_assert_int_eq(parse(&s, "-o", "slab_chunk_max=512", NULL), 0);
    /* a chunk limit clamped by a small -I comes to stashd's own */
    ck_assert_int_eq(parse(&s, "-I", "2k", "-o", "slab_chunk_max=1024",
                           NULL), 0);
    ck_assert_uint_eq(s.slab_chunk_max, 2048);
    ck_assert_int_eq(parse(&s, "-I", "2k", "-o", "slab_chunk_max=1",
                           NULL), -1);
    ck_assert_int_eq(parse(&s, "-I", "2m", "-o", "slab_chunk_max=1024",
                           NULL), -1);
    ck_assert_int_eq(parse(&s, "-W", NULL), 0);
}
END_TEST

/* -Y and -S pick their protocol; the other one is memcached's error. */
START_TEST(test_auth_flags)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-Y", "/etc/pw", NULL), 0);
    ck_assert_str_eq(s.auth_file, "/etc/pw");
    ck_assert_str_eq(s.protocol, "ascii");
    ck_assert_int_eq(parse(&s, "-Y", "/etc/pw", "-B", "ascii", NULL), 0);
    ck_assert_int_eq(parse(&s, "-Y", "/etc/pw", "-B", "binary", NULL), -1);
    ck_assert_int_eq(parse(&s, "-Y", "/etc/pw", "-B", "auto", NULL), -1);
    ck_assert_int_eq(parse(&s, "-Y", "/etc/pw", "-U", "11211", NULL), -1);
    ck_assert_int_eq(parse(&s, "-Y", "/etc/pw", "-U", "0", NULL), 0);
    ck_assert_int_eq(parse(&s, "--auth-file=/x", NULL), 0);
    ck_assert_str_eq(s.auth_file, "/x");

    setenv("MEMCACHED_SASL_PWDB", "/etc/sasl-pw", 1);
    ck_assert_int_eq(parse(&s, "-S", NULL), 0);
    ck_assert(s.sasl);
    ck_assert_str_eq(s.protocol, "binary");
    ck_assert_str_eq(s.sasl_pwdb, "/etc/sasl-pw");
    ck_assert_int_eq(parse(&s, "-S", "-B", "ascii", NULL), -1);
    ck_assert_int_eq(parse(&s, "-S", "-B", "auto", NULL), -1);
    ck_assert_int_eq(parse(&s, "-S", "-Y", "/etc/pw", NULL), -1);
    ck_assert_int_eq(parse(&s, "-S", "-U", "11211", NULL), -1);
    setenv("MEMCACHED_SASL_PWDB", "", 1);
    ck_assert_int_eq(parse(&s, "-S", NULL), -1);
    unsetenv("MEMCACHED_SASL_PWDB");
}
END_TEST

START_TEST(test_extended_options)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-o",
                           "hashpower=20,idle_timeout=30,no_lru_crawler,"
                           "read_buf_mem_limit=4,lru_crawler_sleep=10",
                           NULL),
                     0);
    ck_assert_int_eq(s.hashpower, 20);
    ck_assert_int_eq(s.idle_timeout, 30);
    ck_assert(!s.lru_crawler);
    ck_assert_uint_eq(s.read_buf_mem_limit, (size_t)4 << 20);
    ck_assert_int_eq(s.lru_crawler_sleep, 10);
    /* the crawler knobs as memcached reads them */
    ck_assert_int_eq(parse(&s, "-o",
                           "no_lru_crawler,lru_crawler,lru_crawler_tocrawl="
                           "4294967297",
                           NULL),
                     0);
    ck_assert(s.lru_crawler);
    ck_assert_int_eq(s.lru_crawler_tocrawl, 1);
    ck_assert_int_eq(s.lru_crawler_sleep, 100);
    ck_assert_int_eq(parse(&s, "-o", "lru_crawler_sleep=1000001", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "lru_crawler_sleep=-1", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "lru_crawler_sleep", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "lru_crawler_tocrawl=x", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "lru_crawler_tocrawl", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "no_such_option", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "hashpower=99", NULL), -1);
}
END_TEST

START_TEST(test_lru_options)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, NULL), 0);
    ck_assert(s.lru_maintainer && s.lru_segmented && !s.temp_lru);
    ck_assert_int_eq(s.hot_lru_pct, 20);
    ck_assert_int_eq(s.warm_lru_pct, 40);
    ck_assert(s.hot_max_factor > 0.199 && s.hot_max_factor < 0.201);
    ck_assert(s.warm_max_factor > 1.999 && s.warm_max_factor < 2.001);
    ck_assert_int_eq(s.temporary_ttl, 61);
    ck_assert_int_eq(parse(&s, "-o",
                           "hot_lru_pct=30,warm_lru_pct=50,hot_max_factor=0.5,"
                           "warm_max_factor=3,temporary_ttl=10",
                           NULL),
                     0);
    ck_assert_int_eq(s.hot_lru_pct, 30);
    ck_assert_int_eq(s.warm_lru_pct, 50);
    ck_assert(s.hot_max_factor > 0.499 && s.hot_max_factor < 0.501);
    ck_assert(s.warm_max_factor > 2.999 && s.warm_max_factor < 3.001);
    ck_assert(s.temp_lru);              /* temporary_ttl turns it on */
    ck_assert_int_eq(s.temporary_ttl, 10);
    ck_assert_int_eq(parse(&s, "-o", "no_lru_segmented", NULL), 0);
    ck_assert(!s.lru_segmented);
    ck_assert_int_eq(parse(&s, "-o", "temp_lru", NULL), 0);
    ck_assert(s.temp_lru);
    /* without the thread the LRU is flat, and TEMP is refused */
    ck_assert_int_eq(parse(&s, "-o", "no_lru_maintainer", NULL), 0);
    ck_assert(!s.lru_maintainer && !s.lru_segmented);
    ck_assert_int_eq(parse(&s, "-o", "no_lru_maintainer,temporary_ttl=5",
                           NULL),
                     -1);
    /* memcached's bounds */
    ck_assert_int_eq(parse(&s, "-o", "hot_lru_pct=1", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "hot_lru_pct=80", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "warm_lru_pct=abc", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "warm_lru_pct=70", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "hot_max_factor=0", NULL), -1);
    ck_assert_int_eq(parse(&s, "-o", "warm_max_factor=x", NULL), -1);
}
END_TEST

START_TEST(test_udp_port)
{
    struct settings s;

    ck_assert_int_eq(parse(&s, "-U", "0", NULL), 0);
    ck_assert_int_eq(s.udpport, 0);
    ck_assert_int_eq(parse(&s, "-U", "11211", NULL), 0);
    ck_assert_int_eq(s.udpport, 11211);
    ck_assert_int_eq(parse(&s, "-U", "-1", NULL), 0);
    ck_assert_int_eq(s.udpport, -1);
    ck_assert_int_eq(parse(&s, "-U", "-2", NULL), -1);
    ck_assert_int_eq(parse(&s, "-U", "65536", NULL), -1);
}
END_TEST

/* Collects "stats settings" output into one string. */
static void
collect(void *ctx, const char *name, const char *value)
{
    char *buf = ctx;

    strcat(buf, name);
    strcat(buf, "=");
    strcat(buf, value);
    strcat(buf, "\n");
}

START_TEST(test_emit_names)
{
    struct settings s;
    static char buf[8192];

    ck_assert_int_eq(parse(&s, "-m", "16", "-M", NULL), 0);
    buf[0] = '\0';
    settings_emit(&s, collect, buf);
    ck_assert_ptr_nonnull(strstr(buf, "maxbytes=16777216\n"));
    ck_assert_ptr_nonnull(strstr(buf, "evictions=off\n"));
    ck_assert_ptr_nonnull(strstr(buf, "growth_factor=1.25\n"));
    ck_assert_ptr_nonnull(strstr(buf, "umask=700\n"));
    ck_assert_ptr_nonnull(strstr(buf, "cas_enabled=yes\n"));
    ck_assert_ptr_nonnull(strstr(buf, "domain_socket=NULL\n"));
    ck_assert_ptr_nonnull(strstr(buf, "item_size_max=1048576\n"));
    ck_assert_ptr_nonnull(strstr(buf, "binding_protocol=auto-negotiate\n"));
    /* memcached's lines and order: the -S and -Y state follows */
    ck_assert_ptr_nonnull(strstr(buf, "binding_protocol=auto-negotiate\n"
                                      "auth_enabled_sasl=no\n"
                                      "auth_enabled_ascii=no\n"));
    ck_assert_int_eq(parse(&s, "-Y", "/etc/stashd-auth", NULL), 0);
    buf[0] = '\0';
    settings_emit(&s, collect, buf);
    ck_assert_ptr_nonnull(
        strstr(buf, "auth_enabled_ascii=/etc/stashd-auth\n"));
}
END_TEST

static Suite *
settings_suite(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_factor_default_by_memory);
    tcase_add_test(tc, test_short_flags);
    tcase_add_test(tc, test_long_flags);
    tcase_add_test(tc, test_item_size_rules);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_unsupported_features_refused);
    tcase_add_test(tc, test_extended_options);
    tcase_add_test(tc, test_unimplemented_refused);
    tcase_add_test(tc, test_auth_flags);
    tcase_add_test(tc, test_lru_options);
    tcase_add_test(tc, test_udp_port);
    tcase_add_test(tc, test_emit_names);
    tcase_add_test(tc, test_tls_options);
    tcase_add_test(tc, test_listen_accumulates);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(settings_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
