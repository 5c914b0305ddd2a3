/*
 * fuzz_bin.c -- libFuzzer target: the binary protocol parser and writer.
 *
 * The input is a stream of request packets, parsed with bin_parse() as a
 * connection does (advance by consumed, drop swallow bytes; stop on AGAIN
 * or CLOSE).  Per packet: the invariants of fuzz_util.h; prefixes parse to
 * AGAIN or the same result; the header fields the writer echoes come out
 * of the header (opcode, opaque, CAS); and the writer, fed each plausible
 * outcome, produces a sequence of well-formed response packets (magic
 * 0x81, the request's opcode and opaque, body length = extras + key +
 * value, flags extras on hits, the key for GetK) and nothing for the quiet
 * successes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bin.h"
#include "proto/out.h"
#include "proto/proto.h"
#include "proto/request.h"
#include "t/fuzz/fuzz_util.h"

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Walk got[0..n) as response packets; returns how many. */
static unsigned
check_packets(const struct request *req, const struct result *res,
              const uint8_t *got, size_t n)
{
    unsigned count = 0;
    size_t off = 0;

    while (off < n) {
        const uint8_t *h = got + off;
        uint32_t body;
        uint16_t nkey;
        uint8_t ext;

        FUZZ_CHECK(n - off >= BIN_HEADER_LEN);
        FUZZ_CHECK(h[0] == BIN_RES_MAGIC);
        FUZZ_CHECK(h[1] == req->bin_opcode);
        FUZZ_CHECK(get32(h + 12) == req->bin_opaque);
        nkey = (uint16_t)((h[2] << 8) | h[3]);
        ext = h[4];
        body = get32(h + 8);
        FUZZ_CHECK((uint32_t)nkey + ext <= body);
        FUZZ_CHECK(n - off - BIN_HEADER_LEN >= body);
        if (res != NULL && res->code == RES_VALUE && h[7] == 0 &&
            req->op == REQ_GET) {
            /* a hit: flags extras, key for GetK, the value */
            FUZZ_CHECK(ext == 4);
            FUZZ_CHECK(get32(h + BIN_HEADER_LEN) == res->flags);
            FUZZ_CHECK(body == 4u + nkey + res->vlen);
            if (req->return_key) {
                FUZZ_CHECK(nkey == req->nkey);
                FUZZ_CHECK(memcmp(h + BIN_HEADER_LEN + 4, req->key, nkey) ==
                           0);
            } else {
                FUZZ_CHECK(nkey == 0);
            }
        }
        off += BIN_HEADER_LEN + body;
        count++;
    }
    FUZZ_CHECK(off == n);
    return count;
}

static void
check_writer(const struct request *req, struct fuzz_rng *rng)
{
    static const uint8_t codes[] = {
        RES_OK,          RES_VALUE,        RES_MISS,          RES_STORED,
        RES_NOT_STORED,  RES_EXISTS,       RES_NOT_FOUND,     RES_DELETED,
        RES_TOUCHED,     RES_NUMBER,       RES_VERSION,       RES_NOOP,
        RES_E_TOO_LARGE, RES_E_NOMEM,      RES_E_NON_NUMERIC, RES_E_UNKNOWN,
        RES_E_MSG,
    };
    static const char value[] = "0123456789abcdefghijklmnopqrstuvwxyz";

    for (size_t i = 0; i < sizeof(codes); i++) {
        struct res_slice sl[3];
        struct result res;
        struct out o;
        uint32_t vlen = (uint32_t)fuzz_rng_below(rng, sizeof(value));
        unsigned packets;
        size_t n;
        char *got;

        memset(&res, 0, sizeof(res));
        res.code = codes[i];
        res.flags = (uint32_t)fuzz_rng_next(rng);
        res.cas = fuzz_rng_next(rng);
        res.number = fuzz_rng_next(rng);
        if (res.code == RES_VERSION) {
            res.msg = "1.6.18";
        } else if (res.code == RES_E_MSG) {
            res.msg = fuzz_rng_below(rng, 2) ? "RESET"
                                             : "SERVER_ERROR out of memory";
        }
        if (res.code == RES_VALUE) {
            res.key = req->key;
            res.nkey = req->nkey;
            res.nslices = fuzz_slices(sl, value, vlen, rng);
            res.slices = sl;
            res.vlen = vlen;
        }
        out_init(&o);
        bin_proto.reply(&o, req, &res);
        if (req->op == REQ_STATS && fuzz_rng_below(rng, 2)) {
            bin_proto.stat(&o, req, "pid", "1");
            bin_proto.end(&o, req);
        }
        got = fuzz_out_flatten(&o, &n);
        packets = check_packets(req, &res, (const uint8_t *)got, n);
        if (!req->noreply &&
            (res.code == RES_STORED || res.code == RES_DELETED ||
             res.code == RES_NUMBER || res.code == RES_OK)) {
            FUZZ_CHECK(packets >= 1);
        }
        if (res.code >= RES_E_TOO_LARGE || res.code == RES_NOT_FOUND ||
            res.code == RES_EXISTS || res.code == RES_NOT_STORED) {
            /* errors reach the client even from quiet commands */
            FUZZ_CHECK(packets >= 1);
        }
        free(got);
        fuzz_out_consume(&o, rng);
        out_free(&o);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct fuzz_rng rng;
    size_t off = 0;
    unsigned rounds = 0;

    fuzz_rng_seed(&rng, data, size);
    while (off < size && rounds++ < 128) {
        struct request req;
        int rc = bin_parse(&req, buf + off, size - off);

        fuzz_check_request(&req, rc, buf + off, size - off);
        FUZZ_CHECK(req.proto == PROTO_BINARY);
        fuzz_prefixes(bin_parse, &req, rc, buf + off, size - off, &rng,
                      false);
        if (size - off >= BIN_HEADER_LEN && rc != PARSE_CLOSE) {
            const uint8_t *h = data + off;

            FUZZ_CHECK(req.bin_opcode == h[1]);
            FUZZ_CHECK(req.bin_opaque == get32(h + 12));
        }
        if (rc == PARSE_AGAIN || rc == PARSE_VALUE) {
            /* PARSE_VALUE: the rest of the input is the value */
            break;
        }
        if (rc == PARSE_ERROR || (rc == PARSE_CLOSE && req.err != NULL)) {
            struct out o;
            size_t n;
            char *got;

            out_init(&o);
            bin_proto.error(&o, &req, req.err);
            got = fuzz_out_flatten(&o, &n);
            FUZZ_CHECK(check_packets(&req, NULL, (const uint8_t *)got, n) ==
                       1);
            FUZZ_CHECK(got[7] != 0 || got[6] != 0); /* a non-zero status */
            free(got);
            out_free(&o);
        }
        if (rc == PARSE_CLOSE) {
            break;
        }
        if (rc == PARSE_OK) {
            check_writer(&req, &rng);
        }
        off += req.consumed;
        if (req.swallow > 0) {
            if (req.swallow >= size - off) {
                break;
            }
            off += (size_t)req.swallow;
        }
    }
    return 0;
}
