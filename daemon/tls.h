/*
 * tls.h -- TLS (-Z) with OpenSSL, behind a small socket-io interface.
 *
 * One struct tls per process holds the server's SSL_CTX, built from the
 * -o ssl_* settings and swapped whole by refresh_certs.  One struct
 * tls_sock per TLS connection wraps its SSL object; conn.c calls
 * tls_sock_read()/tls_sock_write() where it would call readv()/sendmsg(),
 * with the same contract (bytes moved, 0 = would block, -1 = close), so
 * the connection's state machine is the same for TLS and plaintext.  The
 * handshake runs inside the first reads, on the worker's event loop:
 * nothing here blocks.
 *
 * Built without OpenSSL, tls_create() fails saying TLS is unavailable and
 * nothing else is reached.
 */
#ifndef STASHD_DAEMON_TLS_H
#define STASHD_DAEMON_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "daemon/stats.h"

struct settings;
struct tls;
struct tls_sock;

/* Build the server's TLS context from st (certificate chain, key, CA,
 * verify mode, ciphers, minimum version, session cache).  NULL, with the
 * reason logged, when a file or value is refused or TLS is unavailable. */
struct tls *tls_create(const struct settings *st);

/* Free t.  Connections still open keep their own reference. */
void tls_destroy(struct tls *t);

/* refresh_certs: load the files named at start-up again into a new
 * context that new connections use; open ones keep the old.  0, or -1 with
 * the old context kept and why in err (the client's reply).  Any thread. */
int tls_refresh(struct tls *t, char *err, size_t errlen);

/* "stats" lines of a TLS server (ssl_handshake_errors,
 * time_since_server_cert_refresh). */
void tls_stats(struct tls *t, stats_emit_fn emit, void *ctx);

/* Seconds a client has to complete its handshake before the worker's
 * tick closes it (-o ssl_handshake_timeout, default 10). */
long tls_handshake_timeout(const struct tls *t);

/* Start server-side TLS on a connected non-blocking fd (the handshake
 * happens in the first tls_sock_read calls).  NULL on failure. */
struct tls_sock *tls_sock_create(struct tls *t, int fd);

/* Free s (the fd stays open: the caller closes it).  No close_notify is
 * sent: it could block, and memcached clients do not wait for one. */
void tls_sock_destroy(struct tls_sock *s);

/* Decrypt into iov[0..n): bytes (> 0), 0 when nothing can be read now
 * (see tls_sock_want_write), -1 to close (EOF, error, failed handshake). */
ssize_t tls_sock_read(struct tls_sock *s, const struct iovec *iov, int n);

/* Encrypt and send from iov[0..n): bytes taken (> 0), 0 when the socket is
 * full (wait for writability and call again with the same bytes first),
 * -1 to close. */
ssize_t tls_sock_write(struct tls_sock *s, const struct iovec *iov, int n);

/* The last tls_sock_read returned 0 because OpenSSL must write first (a
 * handshake message into a full socket): wait for writability, not
 * readability. */
bool tls_sock_want_write(const struct tls_sock *s);

/* Decrypted bytes wait inside OpenSSL: read again even though the socket
 * may never become readable for them. */
bool tls_sock_pending(const struct tls_sock *s);

/* The handshake has completed. */
bool tls_sock_established(const struct tls_sock *s);

#endif
