/*
 * fuzz_udp.c -- libFuzzer target: UDP datagrams answered in process
 * (udp_answer), no sockets.
 *
 * The input is a sequence of datagrams, each behind a 2-byte big-endian
 * length (cut to what is left), answered one after the other against one
 * store, so a set in one datagram is seen by a get in the next.  Each
 * datagram goes through the frame parser (proto/dgram.c) and, when
 * memcached would answer it, through a detached connection: read buffer,
 * parsers, executor, writer.  Every reply datagram is read (ASan sees a
 * value sent from freed item memory) and must be framed as memcached
 * frames it:
 *
 *   - nothing for a datagram of 8 bytes or fewer, or with total != 1;
 *   - otherwise the request id echoed, seq 0..n-1 in order, total n,
 *     reserved 0, every datagram within DGRAM_MAX and all but the last
 *     full; or, after "quit", one bare header with total 0;
 *   - the reassembled payload within UDP_REPLY_MAX (the amplification
 *     bound), and UDP_TOO_LARGE exactly when a reply would exceed it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/udp.h"
#include "proto/dgram.h"
#include "t/fuzz/fuzz_server.h"
#include "t/fuzz/fuzz_util.h"

/* What the datagrams of one answer looked like. */
struct fuzz_reply {
    uint16_t id;
    uint32_t n;             /* datagrams seen */
    uint32_t total;         /* the total the first one claimed */
    size_t payload;         /* payload bytes seen */
    bool short_seen;        /* a datagram shorter than DGRAM_MAX came */
    bool bare;              /* the bare header of "quit" */
    uint8_t head[64];       /* the first payload bytes */
    size_t nhead;
};

static void
fuzz_send(void *ctx, const struct iovec *iov, int n)
{
    struct fuzz_reply *r = ctx;
    uint8_t dg[DGRAM_MAX];
    size_t len = 0;
    struct dgram_header h;

    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(len + iov[i].iov_len <= sizeof(dg));
        memcpy(dg + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    FUZZ_CHECK(len >= DGRAM_HEADER_LEN);
    h.id = (uint16_t)(dg[0] << 8 | dg[1]);
    h.seq = (uint16_t)(dg[2] << 8 | dg[3]);
    h.total = (uint16_t)(dg[4] << 8 | dg[5]);
    h.reserved = (uint16_t)(dg[6] << 8 | dg[7]);
    FUZZ_CHECK(h.id == r->id);
    FUZZ_CHECK(h.reserved == 0);
    FUZZ_CHECK(!r->short_seen && !r->bare);
    if (len == DGRAM_HEADER_LEN) {
        /* only quit's bare header carries no payload */
        FUZZ_CHECK(r->n == 0 && h.seq == 0 && h.total == 0);
        r->bare = true;
        r->n++;
        return;
    }
    if (r->n == 0) {
        r->total = h.total;
    }
    FUZZ_CHECK(h.seq == r->n && h.total == r->total);
    FUZZ_CHECK(h.total > 0 && h.seq < h.total);
    r->short_seen = len < DGRAM_MAX;
    if (r->nhead < sizeof(r->head)) {
        size_t k = len - DGRAM_HEADER_LEN;

        if (k > sizeof(r->head) - r->nhead) {
            k = sizeof(r->head) - r->nhead;
        }
        memcpy(r->head + r->nhead, dg + DGRAM_HEADER_LEN, k);
        r->nhead += k;
    }
    r->payload += len - DGRAM_HEADER_LEN;
    r->n++;
}

static char fuzz_scratch[UDP_REPLY_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    if (!fuzz_ready) {
        fuzz_setup();
    }
    store_flush(fuzz_srv.store, 0);
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        const uint8_t *dg = data + off + 2;
        struct fuzz_reply r;
        int sent;

        off += 2;
        if (len > size - off) {
            len = size - off;
        }
        off += len;
        memset(&r, 0, sizeof(r));
        r.id = len >= 2 ? (uint16_t)(dg[0] << 8 | dg[1]) : 0;
        sent = udp_answer(fuzz_worker, "udp:fuzz", fuzz_scratch,
                          (const char *)dg, len, fuzz_send, &r);
        FUZZ_CHECK(sent >= 0 && (uint32_t)sent == r.n);
        if (len <= DGRAM_HEADER_LEN || dg[4] != 0 || dg[5] != 1) {
            FUZZ_CHECK(sent == 0);  /* memcached stays silent */
            continue;
        }
        if (sent > 0 && !r.bare) {
            FUZZ_CHECK(r.n == r.total);
            FUZZ_CHECK(r.payload <= UDP_REPLY_MAX);
            FUZZ_CHECK(r.total == dgram_count(r.payload));
        }
        if (r.payload == strlen(UDP_TOO_LARGE) &&
            memcmp(r.head, UDP_TOO_LARGE, r.payload) == 0) {
            FUZZ_CHECK(sent == 1);
        }
    }
    store_set_mem_limit(fuzz_srv.store, FUZZ_MEM_LIMIT);
    log_set_level(0);
    return 0;
}
