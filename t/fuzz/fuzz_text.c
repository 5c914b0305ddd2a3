/*
 * fuzz_text.c -- libFuzzer target: the text protocol parser and writer.
 *
 * The input is a byte stream as a client would send it.  It is parsed
 * request by request with text_parse() exactly as a connection does (on OK
 * or ERROR advance by consumed, then drop swallow bytes; stop on AGAIN or
 * CLOSE).  For every parse:
 *   - the request invariants of fuzz_util.h hold (progress, bounds,
 *     pointers into the consumed bytes);
 *   - prefixes of the request parse to AGAIN or to the same result;
 *   - the writer, fed plausible results for the request, produces exactly
 *     the bytes memcached would (VALUE lines, status words, silence under
 *     noreply), and the out it fills drains consistently.
 * Meta lines reached through text_parse are checked for invariants here;
 * fuzz_meta.c checks their writer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/meta.h"
#include "proto/out.h"
#include "proto/proto.h"
#include "proto/request.h"
#include "proto/text.h"
#include "t/fuzz/fuzz_util.h"

/* The expected VALUE line for one hit. */
static size_t
expect_value(char *dst, size_t cap, const struct request *req,
             const char *key, uint32_t nkey, uint32_t flags, uint32_t vlen,
             uint64_t cas)
{
    int n;

    if (req->want_cas) {
        n = snprintf(dst, cap, "VALUE %.*s %u %u %llu\r\n", (int)nkey, key,
                     flags, vlen, (unsigned long long)cas);
    } else {
        n = snprintf(dst, cap, "VALUE %.*s %u %u\r\n", (int)nkey, key, flags,
                     vlen);
    }
    FUZZ_CHECK(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* Write hits/misses for every key of a get and compare the bytes. */
static void
check_get_reply(const struct request *req, const char *value, uint32_t vlen,
                struct fuzz_rng *rng)
{
    struct out o;
    const char *key;
    uint32_t nkey, pos = 0;
    char *want;
    size_t wcap, wn = 0, got_n;
    char *got;
    unsigned nkeys = 0;

    out_init(&o);
    /* at most 17 keys are answered, each under 100 + key + value bytes */
    wcap = 64 + 17 * (100 + REQ_KEY_MAX + (size_t)vlen);
    want = malloc(wcap);
    FUZZ_CHECK(want != NULL);
    while (req_next_key(req, &pos, &key, &nkey)) {
        struct res_slice sl[3];
        struct result res;

        FUZZ_CHECK(nkey > 0 && nkey <= REQ_KEY_MAX);
        FUZZ_CHECK(memchr(key, ' ', nkey) == NULL);
        FUZZ_CHECK(pos <= req->keys_len);
        nkeys++;
        memset(&res, 0, sizeof(res));
        if (fuzz_rng_below(rng, 4) == 0) {
            res.code = RES_MISS;
            text_proto.reply(&o, req, &res);
            continue;
        }
        res.code = RES_VALUE;
        res.key = key;
        res.nkey = nkey;
        res.flags = (uint32_t)fuzz_rng_next(rng);
        res.cas = fuzz_rng_next(rng);
        res.nslices = fuzz_slices(sl, value, vlen, rng);
        res.slices = sl;
        res.vlen = vlen;
        text_proto.reply(&o, req, &res);
        if (!req->noreply) {
            FUZZ_CHECK(wn + 80 + nkey + vlen < wcap);
            wn += expect_value(want + wn, wcap - wn, req, key, nkey,
                               res.flags, vlen, res.cas);
            memcpy(want + wn, value, vlen);
            wn += vlen;
            memcpy(want + wn, "\r\n", 2);
            wn += 2;
        }
        if (nkeys > 16) {
            break;
        }
    }
    text_proto.end(&o, req);
    memcpy(want + wn, "END\r\n", 5);
    wn += 5;
    got = fuzz_out_flatten(&o, &got_n);
    FUZZ_CHECK(got_n == wn && memcmp(got, want, wn) == 0);
    free(got);
    free(want);
    fuzz_out_consume(&o, rng);
    out_free(&o);
}

/* One reply for a non-get request and the exact bytes expected. */
static void
check_simple_reply(const struct request *req, struct fuzz_rng *rng)
{
    static const struct {
        uint8_t code;
        const char *text;
    } fixed[] = {
        {RES_OK, "OK\r\n"},
        {RES_STORED, "STORED\r\n"},
        {RES_NOT_STORED, "NOT_STORED\r\n"},
        {RES_EXISTS, "EXISTS\r\n"},
        {RES_NOT_FOUND, "NOT_FOUND\r\n"},
        {RES_DELETED, "DELETED\r\n"},
        {RES_TOUCHED, "TOUCHED\r\n"},
        {RES_E_TOO_LARGE, "SERVER_ERROR object too large for cache\r\n"},
        {RES_E_NON_NUMERIC, "CLIENT_ERROR cannot increment or decrement "
                            "non-numeric value\r\n"},
        {RES_E_UNKNOWN, "ERROR\r\n"},
    };
    struct result res;
    struct out o;
    char want[128];
    size_t wn = 0, got_n;
    char *got;
    size_t which = fuzz_rng_below(rng, sizeof(fixed) / sizeof(fixed[0]) + 2);

    out_init(&o);
    memset(&res, 0, sizeof(res));
    if (which < sizeof(fixed) / sizeof(fixed[0])) {
        res.code = fixed[which].code;
        wn = strlen(fixed[which].text);
        memcpy(want, fixed[which].text, wn);
    } else if (which == sizeof(fixed) / sizeof(fixed[0])) {
        res.code = RES_NUMBER;
        res.number = req->delta;
        wn = (size_t)snprintf(want, sizeof(want), "%llu\r\n",
                              (unsigned long long)req->delta);
    } else {
        res.code = RES_VERSION;
        res.msg = "1.6.18";
        wn = (size_t)snprintf(want, sizeof(want), "VERSION 1.6.18\r\n");
    }
    text_proto.reply(&o, req, &res);
    if (req->noreply || req->op == REQ_QUIT) {
        wn = 0;
    }
    got = fuzz_out_flatten(&o, &got_n);
    FUZZ_CHECK(got_n == wn && memcmp(got, want, wn) == 0);
    free(got);
    fuzz_out_consume(&o, rng);
    out_free(&o);
}

/* The error line of a refused request: "<err>\r\n", or silence under a
 * text noreply. */
static void
check_error_reply(const struct request *req, struct fuzz_rng *rng)
{
    const struct proto_ops *ops = proto_for(req);
    size_t n = strlen(req->err), got_n;
    bool silent = req->proto == PROTO_TEXT && req->noreply;
    struct out o;
    char *got;

    out_init(&o);
    ops->error(&o, req, req->err);
    got = fuzz_out_flatten(&o, &got_n);
    if (silent) {
        FUZZ_CHECK(got_n == 0);
    } else {
        FUZZ_CHECK(got_n == n + 2 && memcmp(got, req->err, n) == 0 &&
                   memcmp(got + n, "\r\n", 2) == 0);
    }
    free(got);
    fuzz_out_consume(&o, rng);
    out_free(&o);
}

/* What conn.c does with a long get line that has no newline yet: its
 * head's keys lie in the line before the kept tail, the continued line
 * fits where the line was and is itself a get line with nothing left to
 * run before its tail. */
static void
check_get_head(const char *buf, size_t len)
{
    struct request req, again;
    size_t start, n;
    char *copy;
    int rc = text_parse_get_head(&req, buf, len);

    if (rc != PARSE_OK) {
        FUZZ_CHECK(rc == PARSE_AGAIN || (rc == PARSE_ERROR && req.err));
        return;
    }
    FUZZ_CHECK(req.op == REQ_GET && req.more);
    n = (size_t)req.consumed + req.keep + req.nkeep_trail;
    FUZZ_CHECK(n <= len);
    FUZZ_CHECK(req.keys_len == 0 ||
               (req.keys >= buf &&
                req.keys + req.keys_len <= buf + req.consumed));
    copy = malloc(len);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, buf, len);
    start = text_get_continue(copy, &req);
    FUZZ_CHECK(start <= req.consumed);
    rc = text_parse_get_head(&again, copy + start, n - start);
    FUZZ_CHECK(rc == PARSE_OK && again.keys_len == 0 &&
               again.want_cas == req.want_cas);
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct fuzz_rng rng;
    size_t off = 0;
    unsigned rounds = 0;

    fuzz_rng_seed(&rng, data, size);
    while (off < size && rounds++ < 256) {
        struct request req;
        int rc = text_parse(&req, buf + off, size - off);

        fuzz_check_request(&req, rc, buf + off, size - off);
        FUZZ_CHECK(req.proto == PROTO_TEXT || req.proto == PROTO_META);
        fuzz_prefixes(text_parse, &req, rc, buf + off, size - off, &rng,
                      true);
        if (rc == PARSE_AGAIN || rc == PARSE_CLOSE) {
            check_get_head(buf + off, size - off);
        }
        if (rc == PARSE_AGAIN || rc == PARSE_CLOSE || rc == PARSE_VALUE) {
            break;
        }
        if (rc == PARSE_ERROR) {
            check_error_reply(&req, &rng);
        } else if (req.proto == PROTO_TEXT) {
            if (req.op == REQ_GET) {
                check_get_reply(&req, req.value != NULL ? req.value : buf,
                                req.value != NULL ? req.vlen
                                                  : (uint32_t)(size % 97),
                                &rng);
            } else {
                check_simple_reply(&req, &rng);
            }
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
