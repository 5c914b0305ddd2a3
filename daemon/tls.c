/*
 * tls.c -- TLS with OpenSSL: the server context and per-connection
 * encrypted reads and writes (daemon/tls.h).
 *
 * Calls nothing of conn.c: conn.c calls in.  All socket I/O goes through
 * OpenSSL's socket BIO on the connection's non-blocking fd; a read or write
 * that cannot proceed returns 0 and conn.c waits on the event loop as it
 * does for a plaintext socket, so a client that stalls mid-handshake costs
 * a connection slot, never a worker (and the worker's tick closes it after
 * -o ssl_handshake_timeout).
 *
 * Replies: conn.c hands over its queue of iovecs (headers, small values,
 * large values' chunks).  Encrypting each iovec on its own would cost one
 * TLS record (header, MAC, syscall) per "END\r\n"; small ones are copied
 * into a per-thread staging buffer of up to -o ssl_wbuf_size bytes so a
 * reply goes out in full-size records.  An iovec at least that large is
 * handed to OpenSSL as is.  A write that would block must be retried with
 * the same leading bytes: conn.c keeps them queued, and the staging is a
 * pure function of the queue, so the retry presents them again
 * (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets the address differ).
 *
 * refresh_certs builds a whole new SSL_CTX from the same files and swaps
 * it in under a mutex taken only to start a connection; open connections
 * keep a reference to the context they started with.
 */
#include "daemon/tls.h"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/log.h"
#include "daemon/settings.h"

#ifdef STASHD_TLS

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>

#define TLS_WBUF_MAX 16384      /* one full TLS record of plaintext */
#define TLS_HANDSHAKE_TIMEOUT 10

struct tls {
    const struct settings *st;
    pthread_mutex_t lock;       /* guards ctx */
    SSL_CTX *ctx;
    size_t wbuf_size;           /* staging size, <= TLS_WBUF_MAX */
    uint64_t handshake_errors;  /* atomics */
    uint64_t new_sessions;
    int64_t loaded;             /* time() of the last successful load */
};

struct tls_sock {
    struct tls *t;
    SSL *ssl;
    bool want_write;
    bool established;
};

/* Staging for small iovecs, one per worker thread. */
static __thread unsigned char tls_wbuf[TLS_WBUF_MAX];

/* Log OpenSSL's error queue under what, and empty it. */
static void
tls_log_errors(const char *what)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        log_error("%s: %s", what, buf);
    }
}

static int
tls_min_version(const char *v)
{
    if (strcmp(v, "tlsv1.0") == 0) {
        return TLS1_VERSION;
    }
    if (strcmp(v, "tlsv1.1") == 0) {
        return TLS1_1_VERSION;
    }
    if (strcmp(v, "tlsv1.3") == 0) {
        return TLS1_3_VERSION;
    }
    return TLS1_2_VERSION;
}

/* memcached's ssl_verify_mode numbers to OpenSSL's flags. */
static int
tls_verify_flags(long mode)
{
    switch (mode) {
    case 1:
        return SSL_VERIFY_PEER;
    case 2:
        return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    case 3:
        return SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    default:
        return SSL_VERIFY_NONE;
    }
}

/* A session went into the server cache (only with ssl_session_cache). */
static int
tls_on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

    (void)sess;
    __atomic_add_fetch(&t->new_sessions, 1, __ATOMIC_RELAXED);
    return 0;   /* we keep no reference */
}

/* The error OpenSSL queued last, as text; the queue is emptied. */
static const char *
tls_last_error(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();

    ERR_error_string_n(e, buf, n);
    ERR_clear_error();
    return buf;
}

/*
 * A context from the settings' files, or NULL with why in err (memcached's
 * wording: "Error loading the certificate chain: FILE : OPENSSL ERROR").
 */
static SSL_CTX *
tls_ctx_build(struct tls *t, char *err, size_t errlen)
{
    const struct settings *st = t->st;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *what = NULL, *file = NULL;
    char why[256];

    if (ctx == NULL) {
        snprintf(err, errlen, "SSL_CTX_new: %s",
                 tls_last_error(why, sizeof(why)));
        return NULL;
    }
    SSL_CTX_set_app_data(ctx, t);
    /* renegotiation would let a write need a read: none, as TLS 1.3 */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* idle connections hold no record buffers */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (!SSL_CTX_set_min_proto_version(ctx,
                                       tls_min_version(st->ssl_min_version))) {
        what = "Error setting the minimum TLS version";
        file = st->ssl_min_version;
    } else if (!SSL_CTX_use_certificate_chain_file(ctx, st->ssl_chain_cert)) {
        what = "Error loading the certificate chain";
        file = st->ssl_chain_cert;
    } else if (!SSL_CTX_use_PrivateKey_file(ctx, st->ssl_key,
                                            (int)st->ssl_keyformat)) {
        what = "Error loading the private key";
        file = st->ssl_key;
    } else if (!SSL_CTX_check_private_key(ctx)) {
        what = "Error validating the certificate";
        file = st->ssl_key;
    } else if (st->ssl_ciphers != NULL &&
               !SSL_CTX_set_cipher_list(ctx, st->ssl_ciphers)) {
        what = "Error setting the cipher list";
        file = st->ssl_ciphers;
    } else if (st->ssl_ca_cert != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(st->ssl_ca_cert);

        if (names == NULL ||
            !SSL_CTX_load_verify_locations(ctx, st->ssl_ca_cert, NULL)) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            what = "Error loading the CA certificate";
            file = st->ssl_ca_cert;
        } else {
            SSL_CTX_set_client_CA_list(ctx, names);
        }
    }
    if (what != NULL) {
        snprintf(err, errlen, "%s: %s : %s", what, file,
                 tls_last_error(why, sizeof(why)));
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, tls_verify_flags(st->ssl_verify_mode), NULL);
    if (st->ssl_session_cache) {
        static const unsigned char sid[] = "stashd";

        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
        SSL_CTX_sess_set_new_cb(ctx, tls_on_new_session);
    } else {
        /* no server-side cache; sessions still resume from tickets
         * (OpenSSL's default, as memcached 1.6.18 does) */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    return ctx;
}

struct tls *
tls_create(const struct settings *st)
{
    struct tls *t = calloc(1, sizeof(*t));
    char err[512];

    if (t == NULL) {
        return NULL;
    }
    t->st = st;
    t->wbuf_size = st->ssl_wbuf_size > 0 &&
                           (size_t)st->ssl_wbuf_size < TLS_WBUF_MAX
                       ? (size_t)st->ssl_wbuf_size
                       : TLS_WBUF_MAX;
    if (st->ssl_chain_cert == NULL || st->ssl_key == NULL) {
        log_error("-Z needs -o ssl_chain_cert=<file>,ssl_key=<file>");
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->ctx = tls_ctx_build(t, err, sizeof(err));
    if (t->ctx == NULL) {
        log_error("%s", err);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    t->loaded = (int64_t)time(NULL);
    return t;
}

void
tls_destroy(struct tls *t)
{
    if (t == NULL) {
        return;
    }
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int
tls_refresh(struct tls *t, char *err, size_t errlen)
{
    SSL_CTX *fresh = tls_ctx_build(t, err, errlen);
    SSL_CTX *old;

    if (fresh == NULL) {
        log_warn("refresh_certs: %s", err);
        return -1;
    }
    pthread_mutex_lock(&t->lock);
    old = t->ctx;
    t->ctx = fresh;
    pthread_mutex_unlock(&t->lock);
    SSL_CTX_free(old);  /* freed when its last connection goes */
    __atomic_store_n(&t->loaded, (int64_t)time(NULL), __ATOMIC_RELAXED);
    return 0;
}

void
tls_stats(struct tls *t, stats_emit_fn emit, void *ctx)
{
    int64_t since = (int64_t)time(NULL) -
                    __atomic_load_n(&t->loaded, __ATOMIC_RELAXED);

    /* memcached's order */
    if (t->st->ssl_session_cache) {
        stats_emit_u64(emit, ctx, "ssl_new_sessions",
                       __atomic_load_n(&t->new_sessions, __ATOMIC_RELAXED));
    }
    stats_emit_u64(emit, ctx, "ssl_handshake_errors",
                   __atomic_load_n(&t->handshake_errors, __ATOMIC_RELAXED));
    stats_emit_u64(emit, ctx, "time_since_server_cert_refresh",
                   since > 0 ? (uint64_t)since : 0);
}

struct tls_sock *
tls_sock_create(struct tls *t, int fd)
{
    struct tls_sock *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->t = t;
    pthread_mutex_lock(&t->lock);
    s->ssl = SSL_new(t->ctx);   /* takes its own reference on ctx */
    pthread_mutex_unlock(&t->lock);
    if (s->ssl == NULL || !SSL_set_fd(s->ssl, fd)) {
        tls_log_errors("SSL_new");
        SSL_free(s->ssl);
        free(s);
        return NULL;
    }
    SSL_set_accept_state(s->ssl);
    return s;
}

void
tls_sock_destroy(struct tls_sock *s)
{
    if (s == NULL) {
        return;
    }
    SSL_free(s->ssl);
    free(s);
}

/*
 * An SSL call returned r <= 0: 0 to wait (want_write says for what), -1 to
 * close.  A failure before the handshake completed counts in
 * ssl_handshake_errors (plaintext on a TLS port lands here).
 */
static int
tls_sock_failed(struct tls_sock *s, int r)
{
    int err = SSL_get_error(s->ssl, r);

    switch (err) {
    case SSL_ERROR_WANT_READ:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        s->want_write = true;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        break;  /* close_notify: the client is done */
    case SSL_ERROR_SSL:
        if (!s->established) {
            __atomic_add_fetch(&s->t->handshake_errors, 1, __ATOMIC_RELAXED);
        }
        if (log_get_level() >= LOG_INFO) {
            tls_log_errors(s->established ? "TLS error" : "TLS handshake");
        }
        break;
    default:    /* SSL_ERROR_SYSCALL: EOF or a socket error */
        break;
    }
    ERR_clear_error();
    return -1;
}

ssize_t
tls_sock_read(struct tls_sock *s, const struct iovec *iov, int n)
{
    size_t total = 0;

    s->want_write = false;
    /* SSL_get_error reads this thread's queue: it must start empty */
    ERR_clear_error();
    for (int i = 0; i < n; i++) {
        size_t off = 0;

        while (off < iov[i].iov_len) {
            size_t got = 0;
            int r = SSL_read_ex(s->ssl, (char *)iov[i].iov_base + off,
                                iov[i].iov_len - off, &got);

            if (r > 0) {
                s->established = true;
                off += got;
                total += got;
                continue;
            }
            if (tls_sock_failed(s, r) < 0) {
                /* what was decrypted before the close is still served */
                return total > 0 ? (ssize_t)total : -1;
            }
            if (!s->established && SSL_is_init_finished(s->ssl)) {
                s->established = true;
            }
            return (ssize_t)total;
        }
    }
    return (ssize_t)total;
}

ssize_t
tls_sock_write(struct tls_sock *s, const struct iovec *iov, int n)
{
    const void *p = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    size_t done = 0;
    int r;

    if (len < s->t->wbuf_size && n > 1) {
        /* coalesce small iovecs into one record */
        len = 0;
        for (int i = 0; i < n && len < s->t->wbuf_size; i++) {
            size_t k = iov[i].iov_len;

            if (k > s->t->wbuf_size - len) {
                k = s->t->wbuf_size - len;
            }
            memcpy(tls_wbuf + len, iov[i].iov_base, k);
            len += k;
        }
        p = tls_wbuf;
    }
    s->want_write = false;
    ERR_clear_error();
    r = SSL_write_ex(s->ssl, p, len, &done);
    if (r > 0) {
        return (ssize_t)done;
    }
    if (SSL_get_error(s->ssl, r) == SSL_ERROR_WANT_READ) {
        /* cannot happen without renegotiation; waiting for writability
         * would spin, so drop the client instead */
        ERR_clear_error();
        return -1;
    }
    return tls_sock_failed(s, r);
}

long
tls_handshake_timeout(const struct tls *t)
{
    long v = t->st->ssl_handshake_timeout;

    return v > 0 ? v : TLS_HANDSHAKE_TIMEOUT;
}

bool
tls_sock_want_write(const struct tls_sock *s)
{
    return s->want_write;
}

bool
tls_sock_pending(const struct tls_sock *s)
{
    return SSL_pending(s->ssl) > 0;
}

bool
tls_sock_established(const struct tls_sock *s)
{
    return s->established;
}

#else /* !STASHD_TLS: the daemon refuses -Z; these are never reached */

struct tls *
tls_create(const struct settings *st)
{
    (void)st;
    log_error("TLS is unavailable: stashd was built without OpenSSL");
    return NULL;
}

void
tls_destroy(struct tls *t)
{
    (void)t;
}

int
tls_refresh(struct tls *t, char *err, size_t errlen)
{
    (void)t;
    snprintf(err, errlen, "TLS is unavailable");
    return -1;
}

void
tls_stats(struct tls *t, stats_emit_fn emit, void *ctx)
{
    (void)t;
    (void)emit;
    (void)ctx;
}

struct tls_sock *
tls_sock_create(struct tls *t, int fd)
{
    (void)t;
    (void)fd;
    return NULL;
}

void
tls_sock_destroy(struct tls_sock *s)
{
    (void)s;
}

ssize_t
tls_sock_read(struct tls_sock *s, const struct iovec *iov, int n)
{
    (void)s;
    (void)iov;
    (void)n;
    return -1;
}

ssize_t
tls_sock_write(struct tls_sock *s, const struct iovec *iov, int n)
{
    (void)s;
    (void)iov;
    (void)n;
    return -1;
}

long
tls_handshake_timeout(const struct tls *t)
{
    (void)t;
    return 0;
}

bool
tls_sock_want_write(const struct tls_sock *s)
{
    (void)s;
    return false;
}

bool
tls_sock_pending(const struct tls_sock *s)
{
    (void)s;
    return false;
}

bool
tls_sock_established(const struct tls_sock *s)
{
    (void)s;
    return false;
}

#endif
