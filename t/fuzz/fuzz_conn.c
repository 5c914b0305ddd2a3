/*
 * fuzz_conn.c -- libFuzzer target: a whole connection, in process, no
 * sockets.
 *
 * A real store (2 MiB, so items are evicted), a real worker (its event base
 * is never run) and a detached connection (conn_create_detached).  The
 * input is
 *
 *   control:4  stream...
 *
 * control seeds the split points (chunks of 1 byte to 16 KiB, cut where the
 * rng says) and the drain policy: drain after every chunk, or let replies
 * pile up and drain only every few chunks (a slow reader).  Each chunk goes
 * through conn_feed(): the read buffer, the parser, the executor against
 * the store and the writer, exactly as on a socket.  Every drained byte is
 * read (ASan sees a reply that references freed item memory), a binary
 * connection's output must frame into response packets, and the
 * connection is destroyed at the end with everything it pinned.
 *
 * Built by scripts/fuzz with REQ_STREAM_MIN at 512, so storage values of
 * a few KiB split by the chunking above take the streamed path: header
 * parsed (PARSE_VALUE), value copied into the staged item piece by piece,
 * trailer checked, item linked, or freed when the input ends mid-value
 * (the connection is destroyed with the item staged).
 *
 * Between inputs the store is flushed and the memory limit and log level
 * set back, so one input's effects do not leak into the next more than a
 * long-lived server's would.
 *
 * One input in 16 (control's top byte has low nibble 0xa) runs as under
 * -Y / -S: the connection starts unauthenticated against a password table
 * holding fuzz:pw and alice:secret, and the binary parser takes SASL:
 * text goes through the ascii auth request first, binary through the
 * SASL gate.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/auth.h"
#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/process.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/worker.h"
#include "proto/bin.h"
#include "proto/meta.h"
#include "proto/out.h"
#include "proto/proto.h"
#include "proto/text.h"
#include "slab/clock.h"
#include "slab/store.h"
#include "t/fuzz/fuzz_server.h"
#include "t/fuzz/fuzz_util.h"

#define FUZZ_CHUNK_MAX 16384

/* The password table of the -Y / -S inputs, made on first use. */
static struct auth *
fuzz_auth(void)
{
    static struct auth *a;

    if (a == NULL) {
        char path[] = "/tmp/fuzz_conn_auth.XXXXXX";
        int fd = mkstemp(path);
        static const char users[] = "fuzz:pw\nalice:secret\n";

        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(write(fd, users, sizeof(users) - 1) ==
                   (ssize_t)(sizeof(users) - 1));
        close(fd);
        a = auth_create(path);
        unlink(path);
        FUZZ_CHECK(a != NULL);
    }
    return a;
}

/* Response framing of a binary connection, carried across drains. */
struct fuzz_frame {
    uint8_t hdr[BIN_HEADER_LEN];
    size_t have;        /* header bytes collected */
    uint64_t body_left; /* body bytes still to skip */
};

static void
fuzz_frame_feed(struct fuzz_frame *f, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (f->body_left > 0) {
            size_t k = n < f->body_left ? n : (size_t)f->body_left;

            f->body_left -= k;
            p += k;
            n -= k;
            continue;
        }
        f->hdr[f->have++] = *p++;
        n--;
        if (f->have == BIN_HEADER_LEN) {
            FUZZ_CHECK(f->hdr[0] == BIN_RES_MAGIC);
            f->body_left = ((uint32_t)f->hdr[8] << 24) |
                           ((uint32_t)f->hdr[9] << 16) |
                           ((uint32_t)f->hdr[10] << 8) | f->hdr[11];
            FUZZ_CHECK((uint64_t)((f->hdr[2] << 8) | f->hdr[3]) + f->hdr[4] <=
                       f->body_left);
            f->have = 0;
        }
    }
}

/* Read every queued byte (a use-after-free of a value shows here), check
 * binary framing, then mark it all sent. */
static void
fuzz_drain(struct conn *c, struct fuzz_frame *f, struct fuzz_rng *rng)
{
    struct iovec iov[16];
    volatile uint8_t sink = 0;

    FUZZ_CHECK(!c->out.oom);
    while (!out_empty(&c->out)) {
        int k = out_iov(&c->out, iov, 16);
        size_t sent = 0;

        FUZZ_CHECK(k > 0);
        /* send part of it, as a short sendmsg would */
        for (int i = 0; i < k; i++) {
            const uint8_t *b = iov[i].iov_base;
            size_t len = iov[i].iov_len;

            if (i > 0 && fuzz_rng_below(rng, 4) == 0) {
                break;
            }
            for (size_t j = 0; j < len; j++) {
                sink ^= b[j];
            }
            if (c->ops == &bin_proto) {
                fuzz_frame_feed(f, b, len);
            }
            sent += len;
        }
        out_consume(&c->out, sent);
    }
    (void)sink;
    conn_drain(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_frame frame;
    struct fuzz_rng rng;
    struct conn *c;
    uint32_t control;
    size_t off = 4;
    unsigned drain_every;
    unsigned chunks = 0, stalls = 0;
    bool auth_mode;
    long rc = 0;

    if (!fuzz_ready) {
        fuzz_setup();
    }
    if (size < 4) {
        return 0;
    }
    control = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
              (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    rng.s = ((uint64_t)control << 1) | 1;
    drain_every = (control >> 28) < 12 ? 1 : 1 + ((control >> 28) & 3);

    store_flush(fuzz_srv.store, 0);
    memset(&frame, 0, sizeof(frame));
    auth_mode = ((control >> 24) & 0x0f) == 0x0a;
    /* as main() sets them up for -Y / -S: the connection then starts
     * unauthenticated */
    fuzz_srv.auth = auth_mode ? fuzz_auth() : NULL;
    bin_setup_sasl(auth_mode);
    c = conn_create_detached(fuzz_worker, "fuzz");
    FUZZ_CHECK(c != NULL);
    FUZZ_CHECK(c->px.authed == !auth_mode);
    while (off < size) {
        size_t left = size - off;
        size_t n;

        switch (fuzz_rng_below(&rng, 4)) {
        case 0:
            n = 1 + fuzz_rng_below(&rng, 8);
            break;
        case 1:
            n = 1 + fuzz_rng_below(&rng, 256);
            break;
        case 2:
            n = 1 + fuzz_rng_below(&rng, FUZZ_CHUNK_MAX);
            break;
        default:
            n = left;
            break;
        }
        if (n > left) {
            n = left;
        }
        rc = conn_feed(c, (const char *)data + off, n);
        FUZZ_CHECK(rc <= (long)n);
        FUZZ_CHECK(c->rpos <= c->rlen && c->rlen <= c->rsize);
        /* pins are bounded by the output bound: only values over
         * PROCESS_COPY_MAX are pinned, and execution stops once
         * CONN_OUT_HIGH bytes wait */
        FUZZ_CHECK(c->npins <= CONN_OUT_HIGH / PROCESS_COPY_MAX + 1);
        if (rc < (long)n || ++chunks % drain_every == 0) {
            /* closed, or stopped reading: output at its high-water mark
             * (drain it) or a parked mg w with a full buffer */
            fuzz_drain(c, &frame, &rng);
        }
        if (rc < 0) {
            break;
        }
        if (rc == 0 && c->ws.waiter != NULL && ++stalls > 2) {
            /* parked: no event loop here resumes it; the input ends.  A
             * multiget paused on its output took nothing either, but it
             * made progress and resumes after the drain above. */
            break;
        }
        off += (size_t)rc;
    }
    if (rc >= 0 && fuzz_rng_below(&rng, 2)) {
        /* destroy with replies still queued and items pinned */
        conn_destroy(c);
    } else {
        fuzz_drain(c, &frame, &rng);
        FUZZ_CHECK(c->npins == 0);
        conn_destroy(c);
    }
    store_set_mem_limit(fuzz_srv.store, FUZZ_MEM_LIMIT);
    log_set_level(0);
    bin_setup_sasl(false);
    fuzz_srv.auth = NULL;
    return 0;
}
