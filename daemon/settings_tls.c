/*
 * settings_tls.c -- the -o ssl_* options, with memcached 1.6's names and
 * values.  Only fills struct settings: the files are opened, and the values
 * checked against what OpenSSL accepts, by tls_create() at start-up, so a
 * bad certificate stops the daemon before it listens.
 *
 * A build without OpenSSL still parses them (memcached accepts them
 * without -Z too); -Z is what refuses to start (settings.c).
 */
#include "daemon/settings.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

/* Versions -o ssl_min_version takes, as memcached spells them. */
static const char *const settings_tls_versions[] = {
    "tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3", NULL,
};

/* A decimal in [min, max], the whole string. */
static bool
settings_tls_long(const char *val, long min, long max, long *out)
{
    char *end;
    long n;

    if (val == NULL || *val == '\0') {
        return false;
    }
    n = strtol(val, &end, 10);
    if (*end != '\0' || n < min || n > max) {
        return false;
    }
    *out = n;
    return true;
}

/* An option that names a file or a list: it needs a value. */
static bool
settings_tls_str(struct settings *s, const char *opt, const char *val,
                 const char **field, int *rc)
{
    if (val == NULL || *val == '\0') {
        log_error("Missing %s argument", opt);
        *rc = -1;
        return true;
    }
    /* the -o copy val points into is freed after parsing */
    *field = settings_own(s, strdup(val));
    *rc = *field != NULL ? 0 : -1;
    return true;
}

bool
settings_tls_option(struct settings *s, const char *opt, const char *val,
                    int *rc)
{
    long n;

    *rc = 0;
    if (strcmp(opt, "ssl_chain_cert") == 0) {
        return settings_tls_str(s, opt, val, &s->ssl_chain_cert, rc);
    }
    if (strcmp(opt, "ssl_key") == 0) {
        return settings_tls_str(s, opt, val, &s->ssl_key, rc);
    }
    if (strcmp(opt, "ssl_ca_cert") == 0) {
        return settings_tls_str(s, opt, val, &s->ssl_ca_cert, rc);
    }
    if (strcmp(opt, "ssl_ciphers") == 0) {
        return settings_tls_str(s, opt, val, &s->ssl_ciphers, rc);
    }
    if (strcmp(opt, "ssl_verify_mode") == 0) {
        if (!settings_tls_long(val, 0, 3, &s->ssl_verify_mode)) {
            log_error("Invalid ssl_verify_mode (0..3): %s", val ? val : "");
            *rc = -1;
        }
        return true;
    }
    if (strcmp(opt, "ssl_keyformat") == 0) {
        /* OpenSSL's SSL_FILETYPE_PEM (1) and SSL_FILETYPE_ASN1 (2) */
        if (!settings_tls_long(val, 1, 2, &s->ssl_keyformat)) {
            log_error("Invalid ssl_keyformat (1 PEM, 2 DER): %s",
                      val ? val : "");
            *rc = -1;
        }
        return true;
    }
    if (strcmp(opt, "ssl_wbuf_size") == 0) {
        /* kilobytes, as memcached; printed in bytes */
        if (!settings_tls_long(val, 1, 1024, &n)) {
            log_error("Invalid ssl_wbuf_size (1..1024 KiB): %s",
                      val ? val : "");
            *rc = -1;
            return true;
        }
        s->ssl_wbuf_size = n * 1024;
        return true;
    }
    if (strcmp(opt, "ssl_session_cache") == 0) {
        s->ssl_session_cache = true;
        return true;
    }
    if (strcmp(opt, "ssl_min_version") == 0) {
        for (int i = 0; val != NULL && settings_tls_versions[i] != NULL;
             i++) {
            if (strcmp(val, settings_tls_versions[i]) == 0) {
                s->ssl_min_version = settings_tls_versions[i];
                return true;
            }
        }
        log_error("Invalid ssl_min_version (tlsv1.0 .. tlsv1.3): %s",
                  val ? val : "");
        *rc = -1;
        return true;
    }
    if (strcmp(opt, "ssl_handshake_timeout") == 0) {
        if (!settings_tls_long(val, 1, INT_MAX, &s->ssl_handshake_timeout)) {
            log_error("Invalid ssl_handshake_timeout (seconds): %s",
                      val ? val : "");
            *rc = -1;
        }
        return true;
    }
    if (strcmp(opt, "ssl_kernel_tls") == 0) {
        /* refused rather than ignored: the operator asked for an offload
         * that would silently not happen */
        log_error("stashd does not support ssl_kernel_tls");
        *rc = -1;
        return true;
    }
    if (strncmp(opt, "ssl_", 4) == 0) {
        log_error("Illegal suboption \"%s\"", opt);
        *rc = -1;
        return true;
    }
    return false;
}
