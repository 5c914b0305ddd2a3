/*
 * fuzz_meta.c -- libFuzzer target: the meta protocol (mg ms md ma mn me)
 * parser, reached through text_parse() as on a live connection, and the
 * meta writer.
 *
 * Per request: the invariants of fuzz_util.h; prefixes parse to AGAIN or
 * the same result; a line that starts with its command gives the same
 * result from meta_parse() directly; and the writer, fed each plausible
 * result for the command, writes one well-formed reply: a single status
 * line with a known code, echoing O (when <= 32 bytes) and k as asked, the
 * value block of exactly the announced length after VA, nothing for the
 * outcomes q hides, and the error line verbatim.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "proto/meta.h"
#include "proto/out.h"
#include "proto/proto.h"
#include "proto/request.h"
#include "proto/text.h"
#include "t/fuzz/fuzz_util.h"

/* A token of the line equal to tok[0..n). */
static bool
line_has_token(const char *line, size_t len, const char *tok, size_t n)
{
    size_t i = 0;

    while (i < len) {
        size_t s;

        while (i < len && line[i] == ' ') {
            i++;
        }
        s = i;
        while (i < len && line[i] != ' ') {
            i++;
        }
        if (i - s == n && memcmp(line + s, tok, n) == 0) {
            return true;
        }
    }
    return false;
}

/* The reply in got[0..n) for res: shape and echoed tokens. */
static void
check_reply_bytes(const struct request *req, const struct result *res,
                  const char *got, size_t n)
{
    const char *eol;
    size_t line;

    if (n == 0) {
        /* only q hides a reply, and only the nominal outcomes */
        FUZZ_CHECK(req->noreply);
        FUZZ_CHECK(res->code < RES_E_TOO_LARGE);
        FUZZ_CHECK(req->op != REQ_NOOP && req->op != REQ_META_DEBUG);
        return;
    }
    eol = memchr(got, '\n', n);
    FUZZ_CHECK(eol != NULL && eol > got && eol[-1] == '\r');
    line = (size_t)(eol - got) - 1;
    /* a key may hold a '\r' (memcached splits on spaces only), never a
     * '\n': a binary key echoed raw would break the framing checked
     * below, so it must be base64 */
    if (res->code >= RES_E_TOO_LARGE ||
        (line >= 12 && memcmp(got, "CLIENT_ERROR", 12) == 0)) {
        FUZZ_CHECK((size_t)(eol - got) + 1 == n);
        return;
    }
    FUZZ_CHECK(line >= 2);
    if (memcmp(got, "VA ", 3) == 0) {
        unsigned long long vlen = strtoull(got + 3, NULL, 10);

        FUZZ_CHECK((size_t)(eol - got) + 1 + vlen + 2 == n);
        FUZZ_CHECK(memcmp(got + n - 2, "\r\n", 2) == 0);
        if (req->op == REQ_GET) {
            FUZZ_CHECK(vlen == res->vlen);
        }
    } else {
        FUZZ_CHECK((size_t)(eol - got) + 1 == n);
        FUZZ_CHECK(memcmp(got, "HD", 2) == 0 || memcmp(got, "EN", 2) == 0 ||
                   memcmp(got, "NF", 2) == 0 || memcmp(got, "NS", 2) == 0 ||
                   memcmp(got, "EX", 2) == 0 || memcmp(got, "MN", 2) == 0 ||
                   memcmp(got, "ME", 2) == 0);
    }
    if (req->op == REQ_NOOP || req->op == REQ_META_DEBUG ||
        memcmp(got, "MN", 2) == 0) {
        return;
    }
    if (req->opaque_len > 0 && req->opaque_len <= REQ_OPAQUE_MAX) {
        FUZZ_CHECK(line_has_token(got, line, req->opaque, req->opaque_len));
    }
    if ((req->mflags & META_BIT('k')) && req->nkey > 0 && !req->key_binary &&
        (res->code != RES_VALUE || res->key == NULL)) {
        char tok[REQ_KEY_MAX + 1];

        tok[0] = 'k';
        memcpy(tok + 1, req->key, req->nkey);
        FUZZ_CHECK(line_has_token(got, line, tok, req->nkey + 1));
    }
}

static void
check_one(const struct request *req, struct result *res,
          struct fuzz_rng *rng)
{
    struct out o;
    size_t n;
    char *got;

    out_init(&o);
    meta_proto.reply(&o, req, res);
    got = fuzz_out_flatten(&o, &n);
    check_reply_bytes(req, res, got, n);
    free(got);
    fuzz_out_consume(&o, rng);
    out_free(&o);
}

/* Every outcome the executor may give this command. */
static void
check_writer(const struct request *req, struct fuzz_rng *rng)
{
    static const uint8_t codes[] = {
        RES_OK,          RES_VALUE,        RES_MISS,          RES_STORED,
        RES_NOT_STORED,  RES_EXISTS,       RES_NOT_FOUND,     RES_DELETED,
        RES_NUMBER,      RES_NOOP,         RES_E_TOO_LARGE,   RES_E_NOMEM,
        RES_E_NON_NUMERIC, RES_E_UNKNOWN,  RES_E_MSG,
    };
    static const char value[] = "0123456789abcdefghijklmnopqrstuvwxyz";

    for (size_t i = 0; i < sizeof(codes); i++) {
        struct res_slice sl[3];
        struct result res;
        uint32_t vlen = (uint32_t)fuzz_rng_below(rng, sizeof(value));

        memset(&res, 0, sizeof(res));
        res.code = codes[i];
        res.flags = (uint32_t)fuzz_rng_next(rng);
        res.cas = fuzz_rng_next(rng);
        res.number = fuzz_rng_next(rng) >> fuzz_rng_below(rng, 64);
        res.ttl_left = (int64_t)fuzz_rng_below(rng, 100000) - 1;
        res.last_access = (uint32_t)fuzz_rng_below(rng, 100000);
        res.fetched = fuzz_rng_below(rng, 2);
        res.win = fuzz_rng_below(rng, 2);
        res.stale = fuzz_rng_below(rng, 2);
        res.lease_lost = fuzz_rng_below(rng, 2);
        res.created = fuzz_rng_below(rng, 2);
        res.slab_class = (uint32_t)fuzz_rng_below(rng, 64);
        res.item_size = (uint32_t)fuzz_rng_next(rng);
        if (res.code == RES_E_MSG) {
            res.msg = "CLIENT_ERROR bad data chunk";
        }
        if (res.code == RES_VALUE) {
            res.nslices = fuzz_slices(sl, value, vlen, rng);
            res.slices = sl;
            res.vlen = vlen;
            if (fuzz_rng_below(rng, 2)) {
                /* the stored key, as the executor gives it for hits */
                res.key = req->key;
                res.nkey = req->nkey;
                res.key_binary = req->key_binary;
            }
        }
        check_one(req, &res, rng);
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
        int rc = text_parse(&req, buf + off, size - off);

        fuzz_check_request(&req, rc, buf + off, size - off);
        fuzz_prefixes(text_parse, &req, rc, buf + off, size - off, &rng,
                      true);
        if (req.proto == PROTO_META && size - off >= 3 &&
            meta_is_command(buf + off, size - off)) {
            /* no leading spaces: meta_parse itself must agree */
            struct request direct;
            int drc = meta_parse(&direct, buf + off, size - off);

            fuzz_check_request(&direct, drc, buf + off, size - off);
            fuzz_check_prefix(&req, rc, buf + off, &direct, drc, buf + off,
                              size - off, false);
            FUZZ_CHECK(drc == rc);
        }
        if (rc == PARSE_AGAIN || rc == PARSE_CLOSE || rc == PARSE_VALUE) {
            break;
        }
        if (rc == PARSE_ERROR) {
            struct out o;
            size_t n;
            char *got;

            out_init(&o);
            proto_for(&req)->error(&o, &req, req.err);
            got = fuzz_out_flatten(&o, &n);
            if (req.proto == PROTO_META) {
                /* meta errors are never silenced */
                FUZZ_CHECK(n == strlen(req.err) + 2);
            }
            free(got);
            out_free(&o);
        } else if (req.proto == PROTO_META) {
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
