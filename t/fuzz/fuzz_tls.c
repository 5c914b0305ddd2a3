/*
 * fuzz_tls.c -- libFuzzer target: the server side of the TLS record path
 * (daemon/tls.c), the bytes a client sends before anything is decrypted.
 *
 * A real struct tls built by tls_create() from a throwaway self-signed
 * certificate (made in memory at start-up, written to temp files because
 * tls_create reads -o ssl_* file names), and per input one connection:
 * a socketpair whose server end goes to tls_sock_create() exactly as an
 * accepted fd does.  The input is
 *
 *   control:4  client-bytes...
 *
 * control seeds where the client bytes are cut (1 byte to 4 KiB); each
 * piece is written to the client end and the server end is driven as
 * conn.c drives it: tls_sock_read() until it says 0 (would block) or -1
 * (close), the server's own records (ServerHello, alerts) drained from the
 * client end and dropped.  Whatever decrypts (nothing, unless the fuzzer
 * forges a whole handshake) must fit the buffer it was read into; once -1
 * is returned the connection is done, as conn.c would destroy it.
 *
 * Decrypted bytes go into the connection's read buffer through the same
 * conn_sock_read() as plaintext, so everything after decryption is
 * fuzz_conn's ground: no second copy of that path here.
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/tls.h"
#include "t/fuzz/fuzz_util.h"

#define FUZZ_PIECE_MAX 4096

static struct settings fuzz_settings;
static struct tls *fuzz_tls;

/* main.c defines this; the archive's other objects reference it. */
void
server_stop(struct server *srv)
{
    (void)srv;
}

/* A P-256 key and a self-signed certificate for it, as PEM files. */
static void
fuzz_make_cert(char *crt_path, char *key_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f;
    int fd;

    FUZZ_CHECK(key != NULL && x != NULL);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"fuzz", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    FUZZ_CHECK(X509_sign(x, key, EVP_sha256()) > 0);
    fd = mkstemp(crt_path);
    FUZZ_CHECK(fd >= 0 && (f = fdopen(fd, "w")) != NULL);
    FUZZ_CHECK(PEM_write_X509(f, x) == 1);
    fclose(f);
    fd = mkstemp(key_path);
    FUZZ_CHECK(fd >= 0 && (f = fdopen(fd, "w")) != NULL);
    FUZZ_CHECK(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void
fuzz_setup(void)
{
    static char crt[] = "/tmp/fuzz_tls_crt.XXXXXX";
    static char key[] = "/tmp/fuzz_tls_key.XXXXXX";

    fuzz_make_cert(crt, key);
    settings_default(&fuzz_settings);
    fuzz_settings.ssl_enabled = true;
    fuzz_settings.ssl_chain_cert = crt;
    fuzz_settings.ssl_key = key;
    fuzz_tls = tls_create(&fuzz_settings);
    FUZZ_CHECK(fuzz_tls != NULL);
    /* the context holds what it needs: the files can go */
    unlink(crt);
    unlink(key);
}

/* Drop what the server sent to the client. */
static void
fuzz_drop(int fd)
{
    char buf[16384];

    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

/* Read as conn.c does until the server would block; false once closed. */
static bool
fuzz_pump(struct tls_sock *s)
{
    static char rbuf[3000];
    struct iovec iov[2];

    for (;;) {
        ssize_t n;

        /* two slices, as a streamed value's readv may have */
        iov[0].iov_base = rbuf;
        iov[0].iov_len = 1000;
        iov[1].iov_base = rbuf + 1000;
        iov[1].iov_len = sizeof(rbuf) - 1000;
        n = tls_sock_read(s, iov, 2);
        FUZZ_CHECK(n <= (ssize_t)sizeof(rbuf));
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            return true;
        }
        /* touch the bytes: ASan sees a bad copy here */
        for (ssize_t i = 0; i < n; i++) {
            volatile char sink = rbuf[i];

            (void)sink;
        }
        if (n == 4 && memcmp(rbuf, "ping", 4) == 0) {
            /* a forged session can exercise the write side too */
            struct iovec w = {.iov_base = "pong\r\n", .iov_len = 6};

            if (tls_sock_write(s, &w, 1) < 0) {
                return false;
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_rng rng;
    struct tls_sock *s;
    int sv[2];
    size_t off;

    if (fuzz_tls == NULL) {
        fuzz_setup();
    }
    if (size < 4) {
        return 0;
    }
    fuzz_rng_seed(&rng, data, 4);
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    s = tls_sock_create(fuzz_tls, sv[1]);
    FUZZ_CHECK(s != NULL);
    for (off = 4; off < size;) {
        size_t k = 1 + fuzz_rng_next(&rng) % FUZZ_PIECE_MAX;

        if (k > size - off) {
            k = size - off;
        }
        FUZZ_CHECK(write(sv[0], data + off, k) == (ssize_t)k);
        off += k;
        if (!fuzz_pump(s)) {
            break;
        }
        fuzz_drop(sv[0]);
    }
    tls_sock_destroy(s);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
