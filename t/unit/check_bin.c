/*
 * check_bin.c -- check suite for proto/bin.c, memcached's binary protocol.
 *
 * Parser: every opcode is composed, parsed and checked field by field;
 * every packet is cut at every split point (PARSE_AGAIN, nothing consumed,
 * the right need); malformed packets get the status, consumed/swallow and
 * close-or-continue that memcached 1.6.18 showed on loopback.
 * Writer: the bytes for every result code and quiet variant are compared
 * with packets captured from memcached (opaque 0xdeadbeef) or composed
 * field by field here.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bin.h"
#include "proto/out.h"
#include "proto/proto.h"
#include "proto/request.h"

#define OPAQUE 0xdeadbeefu

/* ---- composing packets ---------------------------------------------- */

struct pkt {
    uint8_t b[2048];
    size_t len;
};

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void
put64(uint8_t *p, uint64_t v)
{
    put32(p, v >> 32);
    put32(p + 4, (uint32_t)v);
}

/* memcpy that accepts (NULL, 0) */
static void
copy(void *dst, const void *src, size_t n)
{
    if (n > 0) {
        memcpy(dst, src, n);
    }
}

/* A request; bodylen is computed unless body_override is nonzero. */
static void
mkpkt_raw(struct pkt *k, uint8_t magic, uint8_t op, const void *ext,
          size_t next, const char *key, size_t nkey, const char *val,
          size_t nval, uint64_t cas, uint32_t body_override)
{
    uint32_t body = body_override ? body_override : next + nkey + nval;

    ck_assert_uint_le(24 + next + nkey + nval, sizeof(k->b));
    memset(k->b, 0, 24);
    k->b[0] = magic;
    k->b[1] = op;
    k->b[2] = nkey >> 8;
    k->b[3] = nkey;
    k->b[4] = next;
    k->b[5] = 0x00;
    k->b[6] = 0x12; /* vbucket: ignored */
    k->b[7] = 0x34;
    put32(k->b + 8, body);
    put32(k->b + 12, OPAQUE);
    put64(k->b + 16, cas);
    copy(k->b + 24, ext, next);
    copy(k->b + 24 + next, key, nkey);
    copy(k->b + 24 + next + nkey, val, nval);
    k->len = 24 + next + nkey + nval;
}

static void
mkpkt(struct pkt *k, uint8_t op, const void *ext, size_t next,
      const char *key, const char *val, uint64_t cas)
{
    mkpkt_raw(k, 0x80, op, ext, next, key, key ? strlen(key) : 0, val,
              val ? strlen(val) : 0, cas, 0);
}

/* ---- round trips ---------------------------------------------------- */

struct rt_case {
    uint8_t opcode;
    uint8_t ext[20];
    uint8_t next;
    const char *key;
    const char *val;
    uint64_t cas;
    /* expected */
    uint8_t op;
    uint8_t mode;
    bool noreply, return_key, touch, want_cas, create;
    uint32_t flags;
    int64_t exptime;
    uint64_t delta, initial;
};

#define SX(f0, f1, f2, f3, e0, e1, e2, e3)                                   \
    { f0, f1, f2, f3, e0, e1, e2, e3 }
/* incr extras: delta 0x0102030405060708, initial 0x1112131415161718 */
#define AX(e0, e1, e2, e3)                                                   \
    { 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,       \
      0x18, e0, e1, e2, e3 }

static const struct rt_case rt_cases[] = {
    { BIN_OP_GET, {0}, 0, "foo", NULL, 0, REQ_GET, 0, false, false, false,
      true, false, 0, 0, 0, 0 },
    { BIN_OP_GETQ, {0}, 0, "foo", NULL, 0, REQ_GET, 0, true, false, false,
      true, false, 0, 0, 0, 0 },
    { BIN_OP_GETK, {0}, 0, "foo", NULL, 0, REQ_GET, 0, false, true, false,
      true, false, 0, 0, 0, 0 },
    { BIN_OP_GETKQ, {0}, 0, "foo", NULL, 0, REQ_GET, 0, true, true, false,
      true, false, 0, 0, 0, 0 },
    { BIN_OP_SET, SX(0, 0, 0xab, 0xcd, 0, 0, 0x0e, 0x10), 8, "k", "hello", 0,
      REQ_STORE, REQ_SET, false, false, false, false, false, 0xabcd, 3600, 0,
      0 },
    { BIN_OP_SETQ, SX(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 8, "k",
      "v", 0, REQ_STORE, REQ_SET, true, false, false, false, false,
      0xffffffffu, 0xffffffffll, 0, 0 },
    { BIN_OP_SET, SX(0, 0, 0, 1, 0, 0, 0, 0), 8, "k", "", 77, REQ_STORE,
      REQ_CAS, false, false, false, false, false, 1, 0, 0, 0 },
    { BIN_OP_ADD, SX(0, 0, 0, 2, 0, 0, 0, 5), 8, "k", "v", 0, REQ_STORE,
      REQ_ADD, false, false, false, false, false, 2, 5, 0, 0 },
    { BIN_OP_ADDQ, SX(0, 0, 0, 2, 0, 0, 0, 5), 8, "k", "v", 0, REQ_STORE,
      REQ_ADD, true, false, false, false, false, 2, 5, 0, 0 },
    { BIN_OP_ADD, SX(0, 0, 0, 2, 0, 0, 0, 5), 8, "k", "v", 9, REQ_STORE,
      REQ_CAS, false, false, false, false, false, 2, 5, 0, 0 },
    { BIN_OP_REPLACE, SX(0, 0, 0, 3, 0, 0, 0, 6), 8, "k", "v", 0, REQ_STORE,
      REQ_REPLACE, false, false, false, false, false, 3, 6, 0, 0 },
    { BIN_OP_REPLACEQ, SX(0, 0, 0, 3, 0, 0, 0, 6), 8, "k", "v", 0, REQ_STORE,
      REQ_REPLACE, true, false, false, false, false, 3, 6, 0, 0 },
    { BIN_OP_REPLACE, SX(0, 0, 0, 3, 0, 0, 0, 6), 8, "k", "v", 5, REQ_STORE,
      REQ_CAS, false, false, false, false, false, 3, 6, 0, 0 },
    { BIN_OP_APPEND, {0}, 0, "k", "tail", 0, REQ_STORE, REQ_APPEND, false,
      false, false, false, false, 0, 0, 0, 0 },
    { BIN_OP_APPENDQ, {0}, 0, "k", "tail", 4, REQ_STORE, REQ_APPEND, true,
      false, false, false, false, 0, 0, 0, 0 },
    { BIN_OP_PREPEND, {0}, 0, "k", "head", 0, REQ_STORE, REQ_PREPEND, false,
      false, false, false, false, 0, 0, 0, 0 },
    { BIN_OP_PREPENDQ, {0}, 0, "k", "", 0, REQ_STORE, REQ_PREPEND, true,
      false, false, false, false, 0, 0, 0, 0 },
    { BIN_OP_DELETE, {0}, 0, "gone", NULL, 0, REQ_DELETE, 0, false, false,
      false, false, false, 0, 0, 0, 0 },
    { BIN_OP_DELETEQ, {0}, 0, "gone", NULL, 42, REQ_DELETE, 0, true, false,
      false, false, false, 0, 0, 0, 0 },
    { BIN_OP_INCREMENT, AX(0, 0, 0, 60), 20, "n", NULL, 0, REQ_ARITH,
      REQ_INCR, false, false, false, false, true, 0, 60,
      0x0102030405060708ull, 0x1112131415161718ull },
    { BIN_OP_INCREMENTQ, AX(0xff, 0xff, 0xff, 0xff), 20, "n", NULL, 0,
      REQ_ARITH, REQ_INCR, true, false, false, false, false, 0, 0,
      0x0102030405060708ull, 0x1112131415161718ull },
    { BIN_OP_DECREMENT, AX(0xff, 0xff, 0xff, 0xfe), 20, "n", NULL, 3,
      REQ_ARITH, REQ_DECR, false, false, false, false, true, 0, 0xfffffffell,
      0x0102030405060708ull, 0x1112131415161718ull },
    { BIN_OP_DECREMENTQ, AX(0, 0, 0, 0), 20, "n", NULL, 0, REQ_ARITH,
      REQ_DECR, true, false, false, false, true, 0, 0,
      0x0102030405060708ull, 0x1112131415161718ull },
    { BIN_OP_QUIT, {0}, 0, NULL, NULL, 0, REQ_QUIT, 0, false, false, false,
      false, false, 0, 0, 0, 0 },
    { BIN_OP_QUITQ, {0}, 0, NULL, NULL, 0, REQ_QUIT, 0, true, false, false,
      false, false, 0, 0, 0, 0 },
    { BIN_OP_FLUSH, {0}, 0, NULL, NULL, 0, REQ_FLUSH, 0, false, false, false,
      false, false, 0, 0, 0, 0 },
    { BIN_OP_FLUSH, {0, 0, 0x03, 0xe8}, 4, NULL, NULL, 0, REQ_FLUSH, 0, false,
      false, false, false, false, 0, 1000, 0, 0 },
    { BIN_OP_FLUSHQ, {0, 0, 0, 9}, 4, NULL, NULL, 0, REQ_FLUSH, 0, true,
      false, false, false, false, 0, 9, 0, 0 },
    { BIN_OP_NOOP, {0}, 0, NULL, NULL, 0, REQ_NOOP, 0, false, false, false,
      false, false, 0, 0, 0, 0 },
    { BIN_OP_VERSION, {0}, 0, NULL, NULL, 0, REQ_VERSION, 0, false, false,
      false, false, false, 0, 0, 0, 0 },
    { BIN_OP_STAT, {0}, 0, NULL, NULL, 0, REQ_STATS, 0, false, false, false,
      false, false, 0, 0, 0, 0 },
    { BIN_OP_STAT, {0}, 0, "items", NULL, 0, REQ_STATS, 0, false, false,
      false, false, false, 0, 0, 0, 0 },
    { BIN_OP_TOUCH, {0, 0, 0, 100}, 4, "t", NULL, 0, REQ_TOUCH, 0, false,
      false, false, false, false, 0, 100, 0, 0 },
    { BIN_OP_GAT, {0, 0, 1, 0}, 4, "t", NULL, 0, REQ_GET, 0, false, false,
      true, true, false, 0, 256, 0, 0 },
    { BIN_OP_GATQ, {0, 0, 1, 0}, 4, "t", NULL, 0, REQ_GET, 0, true, false,
      true, true, false, 0, 256, 0, 0 },
    { BIN_OP_GATK, {0, 0, 1, 0}, 4, "t", NULL, 0, REQ_GET, 0, false, true,
      true, true, false, 0, 256, 0, 0 },
    { BIN_OP_GATKQ, {0, 0, 0, 0}, 4, "t", NULL, 0, REQ_GET, 0, true, true,
      true, true, false, 0, 0, 0, 0 },
};

#define N_RT (sizeof(rt_cases) / sizeof(rt_cases[0]))

static void
rt_compose(const struct rt_case *c, struct pkt *k)
{
    mkpkt(k, c->opcode, c->ext, c->next, c->key, c->val, c->cas);
}

START_TEST(test_round_trip)
{
    const struct rt_case *c = &rt_cases[_i];
    struct request req;
    struct pkt k;
    size_t nkey = c->key ? strlen(c->key) : 0;

    rt_compose(c, &k);
    /* a second packet right behind must not be touched */
    memset(k.b + k.len, 0x80, 30);
    memset(&req, 0x5a, sizeof(req)); /* garbage from a previous request */
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len + 30),
                     PARSE_OK);
    ck_assert_uint_eq(req.consumed, k.len);
    ck_assert_uint_eq(req.swallow, 0);
    ck_assert_ptr_null(req.err);
    ck_assert_uint_eq(req.proto, PROTO_BINARY);
    ck_assert_uint_eq(req.bin_opcode, c->opcode);
    ck_assert_uint_eq(req.bin_opaque, OPAQUE);
    ck_assert_uint_eq(req.bin_status, 0);
    ck_assert_uint_eq(req.op, c->op);
    ck_assert_uint_eq(req.mode, c->mode);
    ck_assert(req.noreply == c->noreply);
    ck_assert(req.return_key == c->return_key);
    ck_assert(req.touch == c->touch);
    ck_assert(req.want_cas == c->want_cas);
    ck_assert(req.create == c->create);
    ck_assert_uint_eq(req.nkey, nkey);
    ck_assert_ptr_nonnull(req.key);
    if (nkey > 0) {
        ck_assert_ptr_eq(req.key, (const char *)k.b + 24 + c->next);
        ck_assert_int_eq(memcmp(req.key, c->key, nkey), 0);
    }
    ck_assert_uint_eq(req.cas, c->cas);
    ck_assert_uint_eq(req.flags, c->flags);
    ck_assert_int_eq(req.exptime, c->exptime);
    ck_assert_uint_eq(req.delta, c->delta);
    ck_assert_uint_eq(req.initial, c->initial);
    ck_assert_uint_eq(req.number, 0);
    ck_assert_ptr_null(req.keys);
    if (c->op == REQ_STORE) {
        size_t nval = strlen(c->val);
        ck_assert_uint_eq(req.vlen, nval);
        ck_assert_ptr_eq(req.value, (const char *)k.b + 24 + c->next + nkey);
        ck_assert_int_eq(memcmp(req.value, c->val, nval), 0);
    } else {
        ck_assert_ptr_null(req.value);
        ck_assert_uint_eq(req.vlen, 0);
    }
}
END_TEST

/* Every proper prefix of every packet: PARSE_AGAIN, nothing consumed. */
START_TEST(test_split_points)
{
    const struct rt_case *c = &rt_cases[_i];
    struct request req;
    struct pkt k;

    rt_compose(c, &k);
    for (size_t n = 0; n < k.len; n++) {
        /* exact-size heap copy so ASan catches any read past n */
        char *buf = malloc(n ? n : 1);

        memcpy(buf, k.b, n);
        ck_assert_int_eq(bin_parse(&req, buf, n), PARSE_AGAIN);
        ck_assert_uint_eq(req.consumed, 0);
        ck_assert_uint_eq(req.swallow, 0);
        ck_assert_uint_eq(req.need, n < 24 ? 24 : k.len);
        free(buf);
    }
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len), PARSE_OK);
}
END_TEST

START_TEST(test_pipeline)
{
    /* GetKQ x3 + Noop in one buffer, parsed one after another */
    char buf[512];
    size_t len = 0, off = 0;
    const char *keys[] = { "a", "bb", "ccc" };
    struct request req;
    struct pkt k;

    for (int i = 0; i < 3; i++) {
        mkpkt(&k, BIN_OP_GETKQ, NULL, 0, keys[i], NULL, 0);
        memcpy(buf + len, k.b, k.len);
        len += k.len;
    }
    mkpkt(&k, BIN_OP_NOOP, NULL, 0, NULL, NULL, 0);
    memcpy(buf + len, k.b, k.len);
    len += k.len;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(bin_parse(&req, buf + off, len - off), PARSE_OK);
        ck_assert_uint_eq(req.nkey, strlen(keys[i]));
        ck_assert_int_eq(memcmp(req.key, keys[i], req.nkey), 0);
        ck_assert(req.noreply && req.return_key);
        off += req.consumed;
    }
    ck_assert_int_eq(bin_parse(&req, buf + off, len - off), PARSE_OK);
    ck_assert_uint_eq(req.op, REQ_NOOP);
    ck_assert_uint_eq(off + req.consumed, len);
}
END_TEST

/* ---- malformed packets ---------------------------------------------- */

struct bad_case {
    const char *what;
    uint8_t magic, opcode;
    uint8_t next;
    uint16_t nkey;
    uint32_t nval;
    uint32_t body; /* 0: computed */
    /* expected */
    int rc;
    uint16_t status;
    uint32_t consumed;
    uint64_t swallow;
};

static const struct bad_case bad_cases[] = {
    /* memcached closes silently */
    { "bad magic 0x00", 0x00, BIN_OP_NOOP, 0, 0, 0, 0, PARSE_CLOSE, 0, 0, 0 },
    { "response magic", 0x81, BIN_OP_GET, 0, 3, 0, 0, PARSE_CLOSE, 0, 0, 0 },
    /* keylen + extlen > bodylen: "Unknown command", close */
    { "get key>body", 0x80, BIN_OP_GET, 0, 2, 0, 1, PARSE_CLOSE,
      BIN_ST_UNKNOWN_COMMAND, 24, 0 },
    { "set ext+key>body", 0x80, BIN_OP_SET, 8, 2, 0, 9, PARSE_CLOSE,
      BIN_ST_UNKNOWN_COMMAND, 24, 0 },
    { "unknown key>body", 0x80, 0x55, 0, 2, 0, 1, PARSE_CLOSE,
      BIN_ST_UNKNOWN_COMMAND, 24, 0 },
    /* key too long: "Invalid arguments", close (even for unknown ops) */
    { "get key 251", 0x80, BIN_OP_GET, 0, 251, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "unknown key 251", 0x80, 0x55, 0, 251, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "set key 300", 0x80, BIN_OP_SET, 8, 300, 1, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    /* wrong shape for the opcode: "Invalid arguments", close */
    { "get with extras", 0x80, BIN_OP_GET, 4, 2, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "get no key", 0x80, BIN_OP_GET, 0, 0, 0, 0, PARSE_CLOSE, BIN_ST_EINVAL,
      24, 0 },
    { "getkq with value", 0x80, BIN_OP_GETKQ, 0, 2, 2, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "set no extras", 0x80, BIN_OP_SET, 0, 2, 2, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "setq extras 4", 0x80, BIN_OP_SETQ, 4, 2, 2, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "add no key", 0x80, BIN_OP_ADD, 8, 0, 2, 0, PARSE_CLOSE, BIN_ST_EINVAL,
      24, 0 },
    { "delete extras", 0x80, BIN_OP_DELETE, 4, 2, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "deleteq value", 0x80, BIN_OP_DELETEQ, 0, 2, 4, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "incr extras 8", 0x80, BIN_OP_INCREMENT, 8, 2, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "decr with value", 0x80, BIN_OP_DECREMENT, 20, 2, 1, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "incrq no key", 0x80, BIN_OP_INCREMENTQ, 20, 0, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "append extras", 0x80, BIN_OP_APPEND, 8, 2, 1, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "prepend no key", 0x80, BIN_OP_PREPEND, 0, 0, 1, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "touch no extras", 0x80, BIN_OP_TOUCH, 0, 2, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "touch with value", 0x80, BIN_OP_TOUCH, 4, 2, 1, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "gat no key", 0x80, BIN_OP_GAT, 4, 0, 0, 0, PARSE_CLOSE, BIN_ST_EINVAL,
      24, 0 },
    { "gatkq extras 8", 0x80, BIN_OP_GATKQ, 8, 2, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "flush extras 8", 0x80, BIN_OP_FLUSH, 8, 0, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "flush key", 0x80, BIN_OP_FLUSH, 0, 1, 0, 0, PARSE_CLOSE, BIN_ST_EINVAL,
      24, 0 },
    { "flushq value", 0x80, BIN_OP_FLUSHQ, 0, 0, 1, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "noop value", 0x80, BIN_OP_NOOP, 0, 0, 1, 0, PARSE_CLOSE, BIN_ST_EINVAL,
      24, 0 },
    { "version key", 0x80, BIN_OP_VERSION, 0, 1, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "quit value", 0x80, BIN_OP_QUIT, 0, 0, 1, 0, PARSE_CLOSE, BIN_ST_EINVAL,
      24, 0 },
    { "quitq extras", 0x80, BIN_OP_QUITQ, 4, 0, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "stat extras", 0x80, BIN_OP_STAT, 4, 0, 0, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "stat value", 0x80, BIN_OP_STAT, 0, 5, 3, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    { "sasl list with value", 0x80, BIN_OP_SASL_LIST_MECHS, 0, 0, 3, 0,
      PARSE_CLOSE, BIN_ST_EINVAL, 24, 0 },
    { "sasl auth no key", 0x80, BIN_OP_SASL_AUTH, 0, 0, 3, 0, PARSE_CLOSE,
      BIN_ST_EINVAL, 24, 0 },
    /* unknown: "Unknown command", exactly the body swallowed, go on */
    { "unknown opcode", 0x80, 0x55, 0, 0, 0, 0, PARSE_ERROR,
      BIN_ST_UNKNOWN_COMMAND, 24, 0 },
    { "unknown opcode with body", 0x80, 0x55, 3, 2, 5, 0, PARSE_ERROR,
      BIN_ST_UNKNOWN_COMMAND, 24, 10 },
    { "unknown opcode, 4 GiB body", 0x80, 0xfe, 0, 0, 0, 0xffffffffu,
      PARSE_ERROR, BIN_ST_UNKNOWN_COMMAND, 24, 0xffffffffu },
    { "verbosity", 0x80, BIN_OP_VERBOSITY, 4, 0, 0, 0, PARSE_ERROR,
      BIN_ST_UNKNOWN_COMMAND, 24, 4 },
    { "sasl list", 0x80, BIN_OP_SASL_LIST_MECHS, 0, 0, 0, 0, PARSE_ERROR,
      BIN_ST_UNKNOWN_COMMAND, 24, 0 },
    { "sasl auth", 0x80, BIN_OP_SASL_AUTH, 0, 5, 4, 0, PARSE_ERROR,
      BIN_ST_UNKNOWN_COMMAND, 24, 9 },
    { "sasl step", 0x80, BIN_OP_SASL_STEP, 0, 5, 4, 0, PARSE_ERROR,
      BIN_ST_UNKNOWN_COMMAND, 24, 9 },
    /* values that cannot fit (item max 1000 here): "Too large.", the
     * value swallowed, decided once extras and key are in (the key is
     * unlinked by a refused Set) */
    { "set too large", 0x80, BIN_OP_SET, 8, 3, 0, 8 + 3 + 1001, PARSE_ERROR,
      BIN_ST_E2BIG, 24 + 8 + 3, 1001 },
    { "setq 4 GiB", 0x80, BIN_OP_SETQ, 8, 3, 0, 0xffffffffu, PARSE_ERROR,
      BIN_ST_E2BIG, 24 + 8 + 3, 0xffffffffu - 8 - 3 },
    { "append too large", 0x80, BIN_OP_APPEND, 0, 3, 0, 3 + 1001,
      PARSE_ERROR, BIN_ST_E2BIG, 24 + 3, 1001 },
    { "prependq too large", 0x80, BIN_OP_PREPENDQ, 0, 3, 0, 3 + 5000,
      PARSE_ERROR, BIN_ST_E2BIG, 24 + 3, 5000 },
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static const char *
bad_expected_text(uint16_t status)
{
    switch (status) {
    case BIN_ST_UNKNOWN_COMMAND:
        return "Unknown command";
    case BIN_ST_EINVAL:
        return "Invalid arguments";
    case BIN_ST_E2BIG:
        return "Too large.";
    default:
        return NULL;
    }
}

START_TEST(test_malformed)
{
    const struct bad_case *c = &bad_cases[_i];
    static char keybuf[400], valbuf[400];
    uint8_t ext[20] = { 0 };
    struct request req;
    struct pkt k;

    memset(keybuf, 'k', sizeof(keybuf));
    memset(valbuf, 'v', sizeof(valbuf));
    bin_setup(1000);
    mkpkt_raw(&k, c->magic, c->opcode, ext, c->next, keybuf, c->nkey, valbuf,
              c->nval, 0, c->body);
    /* only the header may be needed to decide: give exactly 24 bytes
     * (a too-large value also needs extras and key) */
    {
        char *hdr = malloc(24);

        memcpy(hdr, k.b, 24);
        if (c->status == BIN_ST_E2BIG) {
            ck_assert_int_eq(bin_parse(&req, hdr, 24), PARSE_AGAIN);
            ck_assert_uint_eq(req.need, c->consumed);
        } else {
            ck_assert_msg(bin_parse(&req, hdr, 24) == c->rc, "%s", c->what);
        }
        free(hdr);
    }
    ck_assert_msg(bin_parse(&req, (const char *)k.b, k.len) == c->rc, "%s",
                  c->what);
    ck_assert_uint_eq(req.bin_status, c->status);
    ck_assert_uint_eq(req.consumed, c->consumed);
    ck_assert_uint_eq(req.swallow, c->swallow);
    if (c->status == BIN_ST_E2BIG) {
        ck_assert_uint_eq(req.op, REQ_STORE);
        ck_assert_uint_eq(req.nkey, c->nkey);
        ck_assert_mem_eq(req.key, keybuf, c->nkey);
    }
    if (c->status != 0) {
        ck_assert_str_eq(req.err, bad_expected_text(c->status));
        ck_assert_uint_eq(req.bin_opcode, c->opcode);
        ck_assert_uint_eq(req.bin_opaque, OPAQUE);
    } else {
        ck_assert_ptr_null(req.err);
    }
    bin_setup(1024 * 1024);
}
END_TEST

START_TEST(test_item_max_boundary)
{
    static char val[1001];
    uint8_t ext[8] = { 0 };
    struct request req;
    struct pkt k;

    bin_setup(1000);
    memset(val, 'x', sizeof(val));
    /* exactly the limit: waits for the body, then parses */
    mkpkt_raw(&k, 0x80, BIN_OP_SET, ext, 8, "key", 3, val, 1000, 0, 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, 24), PARSE_AGAIN);
    ck_assert_uint_eq(req.need, 24 + 8 + 3 + 1000);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 1000);
    /* one more byte: refused once extras and key are in */
    mkpkt_raw(&k, 0x80, BIN_OP_SET, ext, 8, "key", 3, val, 1001, 0, 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, 24), PARSE_AGAIN);
    ck_assert_uint_eq(req.need, 24 + 8 + 3);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, 24 + 8 + 3),
                     PARSE_ERROR);
    ck_assert_uint_eq(req.bin_status, BIN_ST_E2BIG);
    ck_assert_uint_eq(req.mode, REQ_SET);
    ck_assert_mem_eq(req.key, "key", 3);
    bin_setup(1024 * 1024);
}
END_TEST

/* -S: the SASL opcodes parse to REQ_SASL (the executor answers them);
 * memcached's limits on the mechanism name, stashd's on the data. */
START_TEST(test_sasl_on)
{
    static char val[BIN_SASL_DATA_MAX + 1];
    struct request req;
    struct pkt k;

    bin_setup_sasl(true);
    mkpkt(&k, BIN_OP_SASL_LIST_MECHS, NULL, 0, NULL, NULL, 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len), PARSE_OK);
    ck_assert_uint_eq(req.op, REQ_SASL);
    ck_assert_uint_eq(req.mode, REQ_SASL_LIST);
    ck_assert_uint_eq(req.consumed, 24);

    mkpkt_raw(&k, 0x80, BIN_OP_SASL_AUTH, NULL, 0, "PLAIN", 5, "\0u\0p", 4,
              0, 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len - 1),
                     PARSE_AGAIN);
    ck_assert_uint_eq(req.need, k.len);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len), PARSE_OK);
    ck_assert_uint_eq(req.op, REQ_SASL);
    ck_assert_uint_eq(req.mode, REQ_SASL_AUTH);
    ck_assert_uint_eq(req.nkey, 5);
    ck_assert_mem_eq(req.key, "PLAIN", 5);
    ck_assert_uint_eq(req.vlen, 4);
    ck_assert_mem_eq(req.value, "\0u\0p", 4);
    ck_assert_uint_eq(req.bin_opaque, OPAQUE);
    ck_assert_uint_eq(req.consumed, k.len);

    mkpkt(&k, BIN_OP_SASL_STEP, NULL, 0, "PLAIN", NULL, 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len), PARSE_OK);
    ck_assert_uint_eq(req.mode, REQ_SASL_STEP);
    ck_assert_uint_eq(req.vlen, 0);

    /* a mechanism name over 32 bytes: Invalid arguments, body dropped */
    mkpkt(&k, BIN_OP_SASL_AUTH, NULL, 0,
          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", "x", 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, 24), PARSE_ERROR);
    ck_assert_uint_eq(req.bin_status, BIN_ST_EINVAL);
    ck_assert_uint_eq(req.op, REQ_SASL);
    ck_assert_uint_eq(req.consumed, 24);
    ck_assert_uint_eq(req.swallow, 34);
    /* data over BIN_SASL_DATA_MAX: refused from the header alone */
    memset(val, 'x', sizeof(val));
    mkpkt_raw(&k, 0x80, BIN_OP_SASL_AUTH, NULL, 0, "PLAIN", 5, val,
              sizeof(val), 0, 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, 24), PARSE_ERROR);
    ck_assert_uint_eq(req.bin_status, BIN_ST_ENOMEM);
    ck_assert_uint_eq(req.swallow, 5 + sizeof(val));
    bin_setup_sasl(false);
    /* off again: memcached without -S */
    mkpkt(&k, BIN_OP_SASL_LIST_MECHS, NULL, 0, NULL, NULL, 0);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, k.len), PARSE_ERROR);
    ck_assert_uint_eq(req.bin_status, BIN_ST_UNKNOWN_COMMAND);
}
END_TEST

/* A value of REQ_STREAM_MIN bytes or more not all buffered: PARSE_VALUE
 * once extras and key are in; the value is left to the caller. */
START_TEST(test_stream_value)
{
    static char val[100];
    uint8_t ext[8] = { 0, 0, 0, 9, 0, 0, 0, 30 };
    struct request req;
    struct pkt k;

    /* the first 100 value bytes of a REQ_STREAM_MIN byte value */
    memset(val, 'x', sizeof(val));
    mkpkt_raw(&k, 0x80, BIN_OP_ADDQ, ext, 8, "key", 3, val, sizeof(val), 0,
              8 + 3 + REQ_STREAM_MIN);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, 24 + 8 + 2),
                     PARSE_AGAIN);
    ck_assert_uint_eq(req.need, 24 + 8 + 3);
    ck_assert_int_eq(bin_parse(&req, (const char *)k.b, 24 + 8 + 3 + 100),
                     PARSE_VALUE);
    ck_assert_uint_eq(req.consumed, 24 + 8 + 3);
    ck_assert_uint_eq(req.vlen, REQ_STREAM_MIN);
    ck_assert_uint_eq(req.vtrail, 0);
    ck_assert_ptr_null(req.value);
    ck_assert_uint_eq(req.op, REQ_STORE);
    ck_assert_uint_eq(req.mode, REQ_ADD);
    ck_assert_int_eq(req.noreply, 1);
    ck_assert_uint_eq(req.flags, 9);
    ck_assert_int_eq(req.exptime, 30);
    ck_assert_mem_eq(req.key, "key", 3);
}
END_TEST

/* ---- writer --------------------------------------------------------- */

/* Everything appended to o, flattened. */
static size_t
flatten(struct out *o, uint8_t *dst, size_t cap)
{
    struct iovec iov[64];
    int n = out_iov(o, iov, 64);
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        ck_assert_uint_le(len + iov[i].iov_len, cap);
        memcpy(dst + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    ck_assert_uint_eq(len, o->pending);
    ck_assert(!o->oom);
    return len;
}

/* A response composed field by field, independent of bin.c. */
static size_t
mkres(uint8_t *b, uint8_t opcode, uint16_t status, const void *ext,
      uint8_t next, const void *key, uint16_t nkey, const void *val,
      uint32_t nval, uint64_t cas)
{
    memset(b, 0, 24);
    b[0] = 0x81;
    b[1] = opcode;
    b[2] = nkey >> 8;
    b[3] = nkey;
    b[4] = next;
    b[6] = status >> 8;
    b[7] = status;
    put32(b + 8, next + nkey + nval);
    put32(b + 12, OPAQUE);
    put64(b + 16, cas);
    copy(b + 24, ext, next);
    copy(b + 24 + next, key, nkey);
    copy(b + 24 + next + nkey, val, nval);
    return 24 + next + nkey + nval;
}

/* Parse a request for opcode and key so the writer sees a real request. */
static void
req_for(struct request *req, uint8_t opcode)
{
    static struct pkt keep; /* req points into it */
    static const uint8_t ext[20] = { 0 };
    size_t next = 0;
    const char *key = "k1", *val = NULL;

    switch (opcode) {
    case BIN_OP_SET: case BIN_OP_SETQ: case BIN_OP_ADD: case BIN_OP_ADDQ:
    case BIN_OP_REPLACE: case BIN_OP_REPLACEQ:
        next = 8;
        val = "v";
        break;
    case BIN_OP_APPEND: case BIN_OP_APPENDQ: case BIN_OP_PREPEND:
    case BIN_OP_PREPENDQ:
        val = "v";
        break;
    case BIN_OP_INCREMENT: case BIN_OP_INCREMENTQ: case BIN_OP_DECREMENT:
    case BIN_OP_DECREMENTQ:
        next = 20;
        break;
    case BIN_OP_TOUCH: case BIN_OP_GAT: case BIN_OP_GATQ: case BIN_OP_GATK:
    case BIN_OP_GATKQ:
        next = 4;
        break;
    case BIN_OP_NOOP: case BIN_OP_VERSION: case BIN_OP_QUIT:
    case BIN_OP_QUITQ: case BIN_OP_FLUSH: case BIN_OP_FLUSHQ:
    case BIN_OP_STAT:
        key = NULL;
        break;
    default:
        break;
    }
    mkpkt(&keep, opcode, ext, next, key, val, 0);
    ck_assert_int_eq(bin_parse(req, (const char *)keep.b, keep.len),
                     PARSE_OK);
}

struct wr_case {
    uint8_t opcode;
    uint8_t code;       /* enum res_code */
    uint64_t cas;
    uint64_t number;
    const char *msg;
    /* expected: nothing at all, or one packet */
    bool silent;
    uint16_t status;
    const char *body;   /* error text / version, NULL for none */
    uint64_t rcas;
};

static const struct wr_case wr_cases[] = {
    /* success, loud and quiet */
    { BIN_OP_SET, RES_STORED, 21, 0, NULL, false, 0, NULL, 21 },
    { BIN_OP_SETQ, RES_STORED, 21, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_ADDQ, RES_STORED, 21, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_REPLACEQ, RES_STORED, 21, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_APPEND, RES_STORED, 24, 0, NULL, false, 0, NULL, 24 },
    { BIN_OP_APPENDQ, RES_STORED, 24, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_PREPENDQ, RES_STORED, 24, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_DELETE, RES_DELETED, 0, 0, NULL, false, 0, NULL, 0 },
    { BIN_OP_DELETEQ, RES_DELETED, 0, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_FLUSH, RES_OK, 0, 0, NULL, false, 0, NULL, 0 },
    { BIN_OP_FLUSHQ, RES_OK, 0, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_QUIT, RES_OK, 0, 0, NULL, false, 0, NULL, 0 },
    { BIN_OP_QUITQ, RES_OK, 0, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_NOOP, RES_NOOP, 0, 0, NULL, false, 0, NULL, 0 },
    { BIN_OP_VERSION, RES_VERSION, 0, 0, "1.6.18", false, 0, "1.6.18", 0 },
    { BIN_OP_INCREMENTQ, RES_NUMBER, 30, 105, NULL, true, 0, NULL, 0 },
    { BIN_OP_DECREMENTQ, RES_NUMBER, 30, 0, NULL, true, 0, NULL, 0 },
    /* misses */
    { BIN_OP_GET, RES_MISS, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_GETQ, RES_MISS, 0, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_GETKQ, RES_MISS, 0, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_GAT, RES_MISS, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_GATQ, RES_MISS, 0, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_GATKQ, RES_MISS, 0, 0, NULL, true, 0, NULL, 0 },
    { BIN_OP_TOUCH, RES_NOT_FOUND, 0, 0, NULL, false, 1, "Not found", 0 },
    /* errors: always sent, quiet or not, CAS 0 */
    { BIN_OP_ADD, RES_NOT_STORED, 5, 0, NULL, false, 2,
      "Data exists for key.", 0 },
    { BIN_OP_ADDQ, RES_NOT_STORED, 5, 0, NULL, false, 2,
      "Data exists for key.", 0 },
    { BIN_OP_REPLACE, RES_NOT_STORED, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_REPLACEQ, RES_NOT_STORED, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_APPEND, RES_NOT_STORED, 0, 0, NULL, false, 5, "Not stored.", 0 },
    { BIN_OP_PREPENDQ, RES_NOT_STORED, 0, 0, NULL, false, 5, "Not stored.",
      0 },
    { BIN_OP_SET, RES_NOT_STORED, 0, 0, NULL, false, 5, "Not stored.", 0 },
    { BIN_OP_SET, RES_EXISTS, 0, 0, NULL, false, 2, "Data exists for key.",
      0 },
    { BIN_OP_SETQ, RES_NOT_FOUND, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_DELETE, RES_NOT_FOUND, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_DELETEQ, RES_NOT_FOUND, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_DELETE, RES_EXISTS, 0, 0, NULL, false, 2, "Data exists for key.",
      0 },
    { BIN_OP_INCREMENT, RES_NOT_FOUND, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_INCREMENTQ, RES_NOT_FOUND, 0, 0, NULL, false, 1, "Not found",
      0 },
    { BIN_OP_INCREMENT, RES_E_NON_NUMERIC, 0, 0, NULL, false, 6,
      "Non-numeric server-side value for incr or decr", 0 },
    { BIN_OP_DECREMENTQ, RES_E_NON_NUMERIC, 0, 0, NULL, false, 6,
      "Non-numeric server-side value for incr or decr", 0 },
    { BIN_OP_DECREMENT, RES_EXISTS, 0, 0, NULL, false, 2,
      "Data exists for key.", 0 },
    { BIN_OP_SET, RES_E_TOO_LARGE, 0, 0, NULL, false, 3, "Too large.", 0 },
    { BIN_OP_SETQ, RES_E_TOO_LARGE, 0, 0, NULL, false, 3, "Too large.", 0 },
    { BIN_OP_SET, RES_E_NOMEM, 0, 0, NULL, false, 0x82, "Out of memory", 0 },
    { BIN_OP_INCREMENTQ, RES_E_NOMEM, 0, 0, NULL, false, 0x82,
      "Out of memory", 0 },
    { BIN_OP_NOOP, RES_E_UNKNOWN, 0, 0, NULL, false, 0x81, "Unknown command",
      0 },
    { BIN_OP_STAT, RES_E_UNKNOWN, 0, 0, NULL, false, 1, "Not found", 0 },
    { BIN_OP_STAT, RES_E_MSG, 0, 0, "ERROR", false, 1, "Not found", 0 },
    { BIN_OP_STAT, RES_E_MSG, 0, 0, "CLIENT_ERROR stats cachedump not allowed",
      false, 1, "Not found", 0 },
    /* "stats reset" answered RESET: just the (empty, status 0) terminator */
    { BIN_OP_STAT, RES_E_MSG, 0, 0, "RESET", false, 0, NULL, 0 },
    /* text error lines mapped to the closest status */
    { BIN_OP_SET, RES_E_MSG, 0, 0, "SERVER_ERROR out of memory storing object",
      false, 0x82, "Out of memory", 0 },
    { BIN_OP_SET, RES_E_MSG, 0, 0, "SERVER_ERROR object too large for cache",
      false, 3, "Too large.", 0 },
    { BIN_OP_INCREMENT, RES_E_MSG, 0, 0,
      "CLIENT_ERROR cannot increment or decrement non-numeric value", false,
      6, "Non-numeric server-side value for incr or decr", 0 },
    { BIN_OP_GET, RES_E_MSG, 0, 0, "ERROR", false, 0x81, "Unknown command",
      0 },
    { BIN_OP_SET, RES_E_MSG, 0, 0, "CLIENT_ERROR bad data chunk", false, 4,
      "Invalid arguments", 0 },
};

#define N_WR (sizeof(wr_cases) / sizeof(wr_cases[0]))

START_TEST(test_writer_codes)
{
    const struct wr_case *c = &wr_cases[_i];
    uint8_t got[512], want[512];
    size_t ngot, nwant = 0;
    struct request req;
    struct result res;
    struct out o;

    req_for(&req, c->opcode);
    memset(&res, 0, sizeof(res));
    res.code = c->code;
    res.cas = c->cas;
    res.number = c->number;
    res.msg = c->msg;
    out_init(&o);
    bin_proto.reply(&o, &req, &res);
    ngot = flatten(&o, got, sizeof(got));
    if (!c->silent) {
        nwant = mkres(want, c->opcode, c->status, NULL, 0, NULL, 0, c->body,
                      c->body ? strlen(c->body) : 0, c->rcas);
    }
    ck_assert_uint_eq(ngot, nwant);
    ck_assert_int_eq(memcmp(got, want, nwant), 0);
    out_free(&o);
}
END_TEST

/* Packets captured from memcached 1.6.18 (opaque 0xdeadbeef). */
static const uint8_t mc_get_hit[] = {
    0x81, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0xab, 0xcd, 'h', 'e', 'l', 'l', 'o',
};
static const uint8_t mc_getk_hit[] = {
    0x81, 0x0c, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0xab, 0xcd, 'k', '1', 'h', 'e', 'l', 'l', 'o',
};
static const uint8_t mc_getk_miss[] = {
    0x81, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    'k', '1',
};
static const uint8_t mc_incr[] = {
    0x81, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1d,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,
};
static const uint8_t mc_touch_hit[] = {
    0x81, 0x1c, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x25,
    0x00, 0x00, 0x00, 0x07,
};
static const uint8_t mc_add_exists[] = {
    0x81, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x14,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    'D', 'a', 't', 'a', ' ', 'e', 'x', 'i', 's', 't', 's', ' ', 'f', 'o',
    'r', ' ', 'k', 'e', 'y', '.',
};
static const uint8_t mc_stat_pid_and_end[] = {
    0x81, 0x10, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    'p', 'i', 'd', '6', '0', '3', '7',
    0x81, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void
check_bytes(struct out *o, const uint8_t *want, size_t nwant)
{
    uint8_t got[512];
    size_t ngot = flatten(o, got, sizeof(got));

    ck_assert_uint_eq(ngot, nwant);
    ck_assert_int_eq(memcmp(got, want, nwant), 0);
}

START_TEST(test_writer_hits)
{
    static const char hel[] = "hel", lo[] = "lo";
    struct res_slice sl[2] = { { hel, 3 }, { lo, 2 } };
    struct request req;
    struct result res;
    struct out o;
    struct iovec iov[16];
    int n;

    memset(&res, 0, sizeof(res));
    res.code = RES_VALUE;
    res.key = "k1";
    res.nkey = 2;
    res.flags = 0xabcd;
    res.cas = 1;
    res.slices = sl;
    res.nslices = 2;
    res.vlen = 5;

    /* Get: flags, no key, value referenced (zero copy) */
    req_for(&req, BIN_OP_GET);
    out_init(&o);
    bin_proto.reply(&o, &req, &res);
    check_bytes(&o, mc_get_hit, sizeof(mc_get_hit));
    n = out_iov(&o, iov, 16);
    ck_assert_int_eq(n, 3);
    ck_assert_ptr_eq(iov[1].iov_base, hel);
    ck_assert_ptr_eq(iov[2].iov_base, lo);
    bin_proto.end(&o, &req); /* nothing after a get */
    check_bytes(&o, mc_get_hit, sizeof(mc_get_hit));
    out_free(&o);

    /* GetK and GetKQ: with the key; GetQ: the hit is sent */
    req_for(&req, BIN_OP_GETK);
    out_init(&o);
    bin_proto.reply(&o, &req, &res);
    check_bytes(&o, mc_getk_hit, sizeof(mc_getk_hit));
    out_free(&o);
    {
        uint8_t want[64];
        size_t nw;

        req_for(&req, BIN_OP_GETKQ);
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        nw = mkres(want, BIN_OP_GETKQ, 0, "\0\0\xab\xcd", 4, "k1", 2, "hello",
                   5, 1);
        check_bytes(&o, want, nw);
        out_free(&o);

        req_for(&req, BIN_OP_GETQ);
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        nw = mkres(want, BIN_OP_GETQ, 0, "\0\0\xab\xcd", 4, NULL, 0, "hello",
                   5, 1);
        check_bytes(&o, want, nw);
        out_free(&o);

        /* GAT / GATQ / GATK / GATKQ */
        req_for(&req, BIN_OP_GATKQ);
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        nw = mkres(want, BIN_OP_GATKQ, 0, "\0\0\xab\xcd", 4, "k1", 2, "hello",
                   5, 1);
        check_bytes(&o, want, nw);
        out_free(&o);

        req_for(&req, BIN_OP_GAT);
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        nw = mkres(want, BIN_OP_GAT, 0, "\0\0\xab\xcd", 4, NULL, 0, "hello",
                   5, 1);
        check_bytes(&o, want, nw);
        out_free(&o);

        /* empty value: no value segment */
        res.nslices = 0;
        res.vlen = 0;
        req_for(&req, BIN_OP_GET);
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        nw = mkres(want, BIN_OP_GET, 0, "\0\0\xab\xcd", 4, NULL, 0, NULL, 0,
                   1);
        check_bytes(&o, want, nw);
        out_free(&o);
    }

    /* GetK miss: the key, no text */
    req_for(&req, BIN_OP_GETK);
    memset(&res, 0, sizeof(res));
    res.code = RES_MISS;
    out_init(&o);
    bin_proto.reply(&o, &req, &res);
    check_bytes(&o, mc_getk_miss, sizeof(mc_getk_miss));
    out_free(&o);
    {
        uint8_t want[64];
        size_t nw;

        req_for(&req, BIN_OP_GATK);
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        nw = mkres(want, BIN_OP_GATK, 1, NULL, 0, "k1", 2, NULL, 0, 0);
        check_bytes(&o, want, nw);
        out_free(&o);
    }
}
END_TEST

START_TEST(test_writer_misc)
{
    struct request req;
    struct result res;
    struct out o;

    /* incr: 8-byte big-endian value body, the new CAS */
    req_for(&req, BIN_OP_INCREMENT);
    memset(&res, 0, sizeof(res));
    res.code = RES_NUMBER;
    res.number = 100;
    res.cas = 0x1d;
    out_init(&o);
    bin_proto.reply(&o, &req, &res);
    check_bytes(&o, mc_incr, sizeof(mc_incr));
    out_free(&o);

    /* touch hit: flags extras, item CAS, no value */
    {
        static const char v[] = "val";
        struct res_slice sl = { v, 3 };

        req_for(&req, BIN_OP_TOUCH);
        memset(&res, 0, sizeof(res));
        res.code = RES_TOUCHED;
        res.flags = 7;
        res.cas = 0x25;
        res.slices = &sl;
        res.nslices = 1;
        res.vlen = 3;
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        check_bytes(&o, mc_touch_hit, sizeof(mc_touch_hit));
        out_free(&o);
        res.code = RES_VALUE; /* an executor answering touch with a hit */
        out_init(&o);
        bin_proto.reply(&o, &req, &res);
        check_bytes(&o, mc_touch_hit, sizeof(mc_touch_hit));
        out_free(&o);
    }

    /* add on an existing key */
    req_for(&req, BIN_OP_ADD);
    memset(&res, 0, sizeof(res));
    res.code = RES_NOT_STORED;
    out_init(&o);
    bin_proto.reply(&o, &req, &res);
    check_bytes(&o, mc_add_exists, sizeof(mc_add_exists));
    out_free(&o);

    /* stats: one packet per pair, empty terminator */
    req_for(&req, BIN_OP_STAT);
    out_init(&o);
    bin_proto.stat(&o, &req, "pid", "6037");
    bin_proto.end(&o, &req);
    check_bytes(&o, mc_stat_pid_and_end, sizeof(mc_stat_pid_and_end));
    out_free(&o);
}
END_TEST

/* error(): the parser's status and text, echoed opcode and opaque. */
START_TEST(test_writer_parse_errors)
{
    const struct bad_case *c = &bad_cases[_i];
    static char keybuf[400], valbuf[400];
    uint8_t ext[20] = { 0 };
    uint8_t want[128];
    size_t nwant = 0;
    struct request req;
    struct pkt k;
    struct out o;
    int rc;

    memset(keybuf, 'k', sizeof(keybuf));
    memset(valbuf, 'v', sizeof(valbuf));
    bin_setup(1000);
    mkpkt_raw(&k, c->magic, c->opcode, ext, c->next, keybuf, c->nkey, valbuf,
              c->nval, 0, c->body);
    rc = bin_parse(&req, (const char *)k.b, k.len);
    ck_assert_int_eq(rc, c->rc);
    out_init(&o);
    if (req.err != NULL) { /* as the executor does */
        bin_proto.error(&o, &req, req.err);
        nwant = mkres(want, c->opcode, c->status, NULL, 0, NULL, 0,
                      bad_expected_text(c->status),
                      strlen(bad_expected_text(c->status)), 0);
    }
    check_bytes(&o, want, nwant);
    out_free(&o);
    bin_setup(1024 * 1024);
}
END_TEST

START_TEST(test_status_text)
{
    ck_assert_str_eq(bin_status_text(BIN_ST_OK), "");
    ck_assert_str_eq(bin_status_text(BIN_ST_KEY_ENOENT), "Not found");
    ck_assert_str_eq(bin_status_text(BIN_ST_NOT_STORED), "Not stored.");
    ck_assert_str_eq(bin_status_text(BIN_ST_ENOMEM), "Out of memory");
    ck_assert_str_eq(bin_status_text(0x7777), "Unknown error");
}
END_TEST

static Suite *
bin_suite(void)
{
    Suite *s = suite_create("bin");
    TCase *tc = tcase_create("parse");

    tcase_add_loop_test(tc, test_round_trip, 0, N_RT);
    tcase_add_loop_test(tc, test_split_points, 0, N_RT);
    tcase_add_test(tc, test_pipeline);
    tcase_add_loop_test(tc, test_malformed, 0, N_BAD);
    tcase_add_test(tc, test_item_max_boundary);
    tcase_add_test(tc, test_stream_value);
    tcase_add_test(tc, test_sasl_on);
    suite_add_tcase(s, tc);

    tc = tcase_create("write");
    tcase_add_loop_test(tc, test_writer_codes, 0, N_WR);
    tcase_add_test(tc, test_writer_hits);
    tcase_add_test(tc, test_writer_misc);
    tcase_add_loop_test(tc, test_writer_parse_errors, 0, N_BAD);
    tcase_add_test(tc, test_status_text);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(bin_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
