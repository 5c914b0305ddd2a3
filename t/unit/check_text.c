/*
 * check_text.c -- unit tests for proto/text_parse.c and text_write.c: round trips (compose a
 * request, parse it, check every field), every error with memcached
 * 1.6.18's exact reply and the bytes it consumes or swallows, incomplete
 * input at every split point, pipelining, and the writer byte for byte.
 *
 * The expected replies were taken from a real memcached 1.6.18 on
 * loopback (see the report of the commit that added this file).  Links
 * t/unit/fake_meta.c in place of the meta parser.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/out.h"
#include "proto/proto.h"
#include "proto/text.h"

extern const char *fake_meta_buf;
extern size_t fake_meta_len;
extern int fake_meta_calls;

#define E_ERROR "ERROR"
#define E_FORMAT "CLIENT_ERROR bad command line format"
#define E_CHUNK "CLIENT_ERROR bad data chunk"
#define E_EXPTIME "CLIENT_ERROR invalid exptime argument"
#define E_DELTA "CLIENT_ERROR invalid numeric delta argument"
#define E_USAGE                                                              \
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"
#define E_LARGE "SERVER_ERROR object too large for cache"
#define E_SMALL "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m"
#define E_BYTES "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes"

static struct request req;
static char *cur;           /* exact-size copy: ASan sees any over-read */

static int
parse_n(const char *s, size_t n)
{
    free(cur);
    cur = malloc(n != 0 ? n : 1);
    ck_assert_ptr_nonnull(cur);
    memcpy(cur, s, n);
    return text_parse(&req, cur, n);
}

static int
parse(const char *s)
{
    return parse_n(s, strlen(s));
}

static void
teardown(void)
{
    free(cur);
    cur = NULL;
    text_teardown();
}

/* "<prefix><n x 'a'><suffix>" in a static buffer */
static const char *
longkey(const char *prefix, size_t n, const char *suffix)
{
    static char buf[4][8192];
    static int which;
    char *b = buf[which++ % 4];
    size_t pl = strlen(prefix);

    memcpy(b, prefix, pl);
    memset(b + pl, 'a', n);
    strcpy(b + pl + n, suffix);
    return b;
}

static bool
eq(const char *p, uint32_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

#define ck_assert_tok(p, n, s)                                               \
    ck_assert_msg(eq(p, n, s), "got '%.*s'", (int)(n), (p))

/* The keys of a get, joined with '|'. */
static const char *
keys_of(const struct request *r)
{
    static char buf[8192];
    const char *k;
    uint32_t nk, pos = 0;
    size_t len = 0;

    buf[0] = '\0';
    while (req_next_key(r, &pos, &k, &nk)) {
        if (len != 0) {
            buf[len++] = '|';
        }
        memcpy(buf + len, k, nk);
        len += nk;
        buf[len] = '\0';
    }
    return buf;
}

/*
 * Parse line[0..n) as conn.c reads a long get line: step bytes at a time,
 * each time without newline running the head (text_parse_get_head) and
 * keeping "get <tail>", then text_parse once the newline is in.  Returns
 * the keys run, joined with '|', and the final parse's status in *rc.
 */
static const char *
keys_in_heads(const char *line, size_t n, size_t step, int *rc)
{
    static char all[8192];
    char buf[4096];
    size_t blen = 0, pos = 0, alen = 0;

    all[0] = '\0';
    while (pos < n && memchr(buf, '\n', blen) == NULL) {
        size_t k = n - pos < step ? n - pos : step, start;

        memcpy(buf + blen, line + pos, k);
        blen += k;
        pos += k;
        if (memchr(buf, '\n', blen) != NULL) {
            break;
        }
        if (text_parse_get_head(&req, buf, blen) == PARSE_AGAIN) {
            /* (the command itself is not all in yet) */
            ck_assert_uint_lt(blen, 7);
            continue;
        }
        ck_assert(req.more);
        ck_assert_uint_le(req.consumed + req.keep + req.nkeep_trail, blen);
        alen += (size_t)snprintf(all + alen, sizeof(all) - alen, "%s%s",
                                 alen != 0 && *keys_of(&req) ? "|" : "",
                                 keys_of(&req));
        start = text_get_continue(buf, &req);
        blen = req.consumed + req.keep + req.nkeep_trail - start;
        memmove(buf, buf + start, blen);
    }
    memcpy(buf + blen, line + pos, n - pos);
    blen += n - pos;
    *rc = parse_n(buf, blen);
    if (*rc == PARSE_OK) {
        ck_assert(!req.more);
        alen += (size_t)snprintf(all + alen, sizeof(all) - alen, "%s%s",
                                 alen != 0 && *keys_of(&req) ? "|" : "",
                                 keys_of(&req));
    }
    return all;
}

/* ------------------------------------------------------------ retrieval */

START_TEST(test_get_single)
{
    ck_assert_int_eq(parse("get foo\r\n"), PARSE_OK);
    ck_assert_int_eq(req.proto, PROTO_TEXT);
    ck_assert_int_eq(req.op, REQ_GET);
    ck_assert(!req.want_cas);
    ck_assert(!req.touch);
    ck_assert(!req.noreply);
    ck_assert_tok(req.key, req.nkey, "foo");
    ck_assert_tok(req.keys, req.keys_len, "foo");
    ck_assert_uint_eq(req.consumed, 9);
    ck_assert_ptr_null(req.err);
    ck_assert_ptr_null(req.value);
}
END_TEST

START_TEST(test_get_multi_and_spacing)
{
    ck_assert_int_eq(parse("  get  a bb   ccc  \n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_GET);
    ck_assert_tok(req.key, req.nkey, "a");
    ck_assert_tok(req.keys, req.keys_len, "a bb   ccc");
    ck_assert_str_eq(keys_of(&req), "a|bb|ccc");
    ck_assert_uint_eq(req.consumed, 20);

    ck_assert_int_eq(parse("gets x y\r\n"), PARSE_OK);
    ck_assert(req.want_cas);
    ck_assert(!req.touch);
    ck_assert_str_eq(keys_of(&req), "x|y");

    ck_assert_int_eq(parse("bget k5\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_GET);
    ck_assert(!req.want_cas);
    ck_assert_str_eq(keys_of(&req), "k5");

    /* "noreply" is just a key for get */
    ck_assert_int_eq(parse("get k noreply\r\n"), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_str_eq(keys_of(&req), "k|noreply");
}
END_TEST

START_TEST(test_get_many_keys)
{
    char line[2048];
    char want[2048];
    size_t n = 0, w = 0;
    int i;

    /* more than memcached's 24 tokens: all keys still count */
    n += (size_t)sprintf(line, "get");
    for (i = 0; i < 100; i++) {
        n += (size_t)sprintf(line + n, " key%d", i);
        w += (size_t)sprintf(want + w, "%skey%d", i ? "|" : "", i);
    }
    strcpy(line + n, "\r\n");
    ck_assert_int_eq(parse(line), PARSE_OK);
    ck_assert_str_eq(keys_of(&req), want);
    ck_assert_uint_eq(req.consumed, n + 2);
}
END_TEST

/* A long get line run head by head answers the same keys as the whole
 * line, wherever the reads cut it. */
START_TEST(test_get_heads_same_keys)
{
    static const struct {
        const char *line;
        const char *keys;
        bool cas;
        size_t n;       /* 0: strlen */
    } cases[] = {
        {"get a bb ccc dddd e\r\n", "a|bb|ccc|dddd|e", false, 0},
        {"  gets  x   y z  \r\n", "x|y|z", true, 0},
        {"get a b\0c d\r\n", "a|b", false, 13},  /* a NUL ends the line */
        {"get k\r\n", "k", false, 0},
        {"get k1 k\tx k2\n", "k1|k\tx|k2", false, 0},
        {"get a   \0b c\r\n", "a", false, 14},   /* blanks, then NUL */
        {"get a b \0\r\n", "a|b", false, 11},
        {"get a \r \r\n", "a|\r", false, 0},    /* a lone CR is a key */
        {"get a \r\r\n", "a|\r", false, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = cases[i].n != 0 ? cases[i].n : strlen(cases[i].line);
        int rc;

        for (size_t step = 1; step <= n; step++) {
            const char *got = keys_in_heads(cases[i].line, n, step, &rc);

            ck_assert_msg(rc == PARSE_OK, "case %zu step %zu: %d", i, step,
                          rc);
            ck_assert_msg(strcmp(got, cases[i].keys) == 0,
                          "case %zu step %zu: got '%s'", i, step, got);
            ck_assert(req.want_cas == cases[i].cas);
        }
        /* and the whole line says the same */
        ck_assert_int_eq(parse_n(cases[i].line, n), PARSE_OK);
        ck_assert_str_eq(keys_of(&req), cases[i].keys);
    }
}
END_TEST

START_TEST(test_get_heads_edges)
{
    int rc;
    char line[600];

    /* blanks only: the head keeps "get ", and the line ends in ERROR as
     * the whole line would */
    ck_assert_int_eq(keys_in_heads("get        \r\n", 13, 5, &rc)[0], '\0');
    ck_assert_int_eq(rc, PARSE_ERROR);
    ck_assert_str_eq(req.err, E_ERROR);
    ck_assert_int_eq(parse("get        \r\n"), PARSE_ERROR);
    /* and so do blanks then a NUL */
    for (size_t step = 1; step < 9; step++) {
        keys_in_heads("get  \0x\r\n", 9, step, &rc);
        ck_assert_int_eq(rc, PARSE_ERROR);
    }

    /* the last token stays: it may be partial, and the END needs a key */
    ck_assert_int_eq(text_parse_get_head(&req, "get a b", 7), PARSE_OK);
    ck_assert_str_eq(keys_of(&req), "a");
    ck_assert_uint_eq(req.consumed, 6);
    ck_assert_uint_eq(req.keep, 1);
    ck_assert_uint_eq(req.nkeep_trail, 0);
    /* blanks after it are dropped but one */
    ck_assert_int_eq(text_parse_get_head(&req, "get a b    ", 11), PARSE_OK);
    ck_assert_str_eq(keys_of(&req), "a");
    ck_assert_uint_eq(req.keep, 1);
    ck_assert_uint_eq(req.nkeep_trail, 1);
    ck_assert_int_eq(req.keep_trail[0], ' ');

    /* keys over 250 bytes, complete or not (a final "\r" is no part) */
    snprintf(line, sizeof(line), "get a %s b", longkey("", 251, ""));
    ck_assert_int_eq(text_parse_get_head(&req, line, strlen(line)),
                     PARSE_ERROR);
    ck_assert_str_eq(req.err, E_FORMAT);
    ck_assert(req.keys_then_error);     /* "a" is looked up, as memcached */
    ck_assert_str_eq(keys_of(&req), "a");
    snprintf(line, sizeof(line), "get %s b", longkey("", 251, ""));
    ck_assert_int_eq(text_parse_get_head(&req, line, strlen(line)),
                     PARSE_ERROR);
    ck_assert(!req.keys_then_error);
    snprintf(line, sizeof(line), "get a %s\r", longkey("", 250, ""));
    ck_assert_int_eq(text_parse_get_head(&req, line, strlen(line)), PARSE_OK);
    snprintf(line, sizeof(line), "get a %s", longkey("", 251, ""));
    ck_assert_int_eq(text_parse_get_head(&req, line, strlen(line)),
                     PARSE_ERROR);

    /* not a get/gets line without newline: nothing to do */
    ck_assert_int_eq(text_parse_get_head(&req, "gat 0 a b c", 11),
                     PARSE_AGAIN);
    ck_assert_int_eq(text_parse_get_head(&req, "set a 0 0 1", 11),
                     PARSE_AGAIN);
    ck_assert_int_eq(text_parse_get_head(&req, "get a b\n", 8), PARSE_AGAIN);
    ck_assert_int_eq(text_parse_get_head(&req, longkey("", 100, "get a b"),
                                         107),
                     PARSE_AGAIN);  /* 'a' x 100 is not a command */
    memset(line, ' ', 101);
    memcpy(line + 101, "get a b", 7);
    ck_assert_int_eq(text_parse_get_head(&req, line, 108), PARSE_AGAIN);
    ck_assert_int_eq(text_parse_get_head(&req, line + 1, 107), PARSE_OK);
}
END_TEST

START_TEST(test_gat)
{
    ck_assert_int_eq(parse("gat 10 a b\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_GET);
    ck_assert(req.touch);
    ck_assert(!req.want_cas);
    ck_assert_int_eq(req.exptime, 10);
    ck_assert_str_eq(keys_of(&req), "a|b");
    ck_assert_tok(req.key, req.nkey, "a");

    ck_assert_int_eq(parse("gats -1 k\r\n"), PARSE_OK);
    ck_assert(req.touch);
    ck_assert(req.want_cas);
    ck_assert_int_eq(req.exptime, -1);

    /* 32-bit truncation as memcached: 4294967296 -> 0 */
    ck_assert_int_eq(parse("gat 4294967296 k\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, 0);
    ck_assert_int_eq(parse("gat 2147483648 k\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, INT32_MIN);

    /* no key: memcached answers just END */
    ck_assert_int_eq(parse("gat 10\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_GET);
    ck_assert_ptr_nonnull(req.keys);
    ck_assert_uint_eq(req.keys_len, 0);
    ck_assert_str_eq(keys_of(&req), "");
}
END_TEST

START_TEST(test_get_key_limits)
{
    ck_assert_int_eq(parse(longkey("get n ", 250, "\r\n")), PARSE_OK);
    ck_assert_uint_eq(req.keys_len, 252);
    ck_assert_int_eq(parse(longkey("get n ", 251, " n\r\n")), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_FORMAT);
    ck_assert_uint_eq(req.consumed, 6 + 251 + 4);
    /* memcached has looked up the keys before the bad one: they stay */
    ck_assert_int_eq(req.op, REQ_GET);
    ck_assert(req.keys_then_error);
    ck_assert_str_eq(keys_of(&req), "n");
    /* a bad first key leaves nothing to look up */
    ck_assert_int_eq(parse(longkey("gat 10 ", 251, " n\r\n")), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_FORMAT);
    ck_assert_int_eq(req.op, REQ_NONE);
    ck_assert(!req.keys_then_error);
}
END_TEST

START_TEST(test_line_ends)
{
    /* "\r" is dropped only right before "\n" */
    ck_assert_int_eq(parse("get k\r\r\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "k\r");
    ck_assert_int_eq(parse("get a\rb\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "a\rb");
    /* a NUL ends the line, as memcached's strlen() does */
    ck_assert_int_eq(parse_n("get k\0foo\r\n", 11), PARSE_OK);
    ck_assert_str_eq(keys_of(&req), "k");
    ck_assert_uint_eq(req.consumed, 11);
    ck_assert_int_eq(parse_n("get \0\r\n", 7), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_ERROR);
    ck_assert_int_eq(parse_n("ge\0t k\r\n", 8), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_ERROR);
    ck_assert_int_eq(parse_n("\0\r\n", 3), PARSE_ERROR);
    ck_assert_int_eq(parse_n("gat 10 a\0b c\r\n", 14), PARSE_OK);
    ck_assert_str_eq(keys_of(&req), "a");
    ck_assert_int_eq(parse_n("gat 10\0 a\r\n", 11), PARSE_OK);
    ck_assert_str_eq(keys_of(&req), "");
    ck_assert_int_eq(parse_n("stats items\0 x\r\n", 16), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "items");
    ck_assert_uint_eq(req.keys_len, 0);
    ck_assert_int_eq(parse_n("stats detail on\0 x\r\n", 20), PARSE_OK);
    ck_assert_tok(req.keys, req.keys_len, "on");
    ck_assert_int_eq(parse_n("incr k 5\0 noreply\r\n", 19), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_uint_eq(req.delta, 5);
    /* a NUL on the line of a storage command cuts its arguments */
    ck_assert_int_eq(parse_n("set k 0 0 1\0 noreply\r\na\r\n", 25), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_uint_eq(req.vlen, 1);
    ck_assert_uint_eq(req.consumed, 25);
}
END_TEST

/* -------------------------------------------------------------- storage */

START_TEST(test_store_commands)
{
    static const struct {
        const char *cmd;
        int mode;
    } cmds[] = {
        {"set", REQ_SET},         {"add", REQ_ADD},
        {"replace", REQ_REPLACE}, {"append", REQ_APPEND},
        {"prepend", REQ_PREPEND},
    };
    char line[128];
    size_t i;

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        int n = sprintf(line, "%s key 123 456 5\r\nhello\r\n", cmds[i].cmd);

        ck_assert_int_eq(parse(line), PARSE_OK);
        ck_assert_int_eq(req.op, REQ_STORE);
        ck_assert_int_eq(req.mode, cmds[i].mode);
        ck_assert_tok(req.key, req.nkey, "key");
        ck_assert_uint_eq(req.flags, 123);
        ck_assert_int_eq(req.exptime, 456);
        ck_assert_tok(req.value, req.vlen, "hello");
        ck_assert_uint_eq(req.cas, 0);
        ck_assert(!req.noreply);
        ck_assert_uint_eq(req.consumed, (uint32_t)n);

        n = sprintf(line, "%s k 0 0 1 noreply\r\nx\r\n", cmds[i].cmd);
        ck_assert_int_eq(parse(line), PARSE_OK);
        ck_assert(req.noreply);
        ck_assert_int_eq(req.mode, cmds[i].mode);
        ck_assert_uint_eq(req.consumed, (uint32_t)n);
    }

    ck_assert_int_eq(parse("cas k 1 2 3 998877\r\nabc\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_STORE);
    ck_assert_int_eq(req.mode, REQ_CAS);
    ck_assert_uint_eq(req.cas, 998877);
    ck_assert_uint_eq(req.flags, 1);
    ck_assert_int_eq(req.exptime, 2);
    ck_assert_tok(req.value, req.vlen, "abc");
    ck_assert_int_eq(parse("cas k 0 0 1 18446744073709551615 noreply\r\n"
                           "a\r\n"),
                     PARSE_OK);
    ck_assert_uint_eq(req.cas, UINT64_MAX);
    ck_assert(req.noreply);
}
END_TEST

START_TEST(test_store_values)
{
    /* empty value, binary bytes, "\r\n" inside the block */
    ck_assert_int_eq(parse("set k 0 0 0\r\n\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 0);
    ck_assert_uint_eq(req.consumed, 15);
    ck_assert_int_eq(parse_n("set k 0 0 4\r\n\0\r\n\n\r\n", 19), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 4);
    ck_assert_mem_eq(req.value, "\0\r\n\n", 4);
    /* "\n" alone ends the line; the block still needs "\r\n" */
    ck_assert_int_eq(parse("set k 0 0 1\na\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.consumed, 15);
    /* a surplus last token that is not noreply is ignored */
    ck_assert_int_eq(parse("set k 0 0 1 xyz\r\na\r\n"), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("set k 0 0 1 NOREPLY\r\na\r\n"), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("set k 0 0 01\r\na\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 1);
    ck_assert_int_eq(parse("set k 0 0 1 \r\na\r\n"), PARSE_OK);
    ck_assert_int_eq(parse(longkey("set ", 250, " 0 0 1\r\na\r\n")), PARSE_OK);
    ck_assert_uint_eq(req.nkey, 250);
}
END_TEST

START_TEST(test_store_numbers_like_memcached)
{
    static const struct {
        const char *line;
        uint32_t flags;
        int64_t exptime;
    } ok[] = {
        {"set k 4294967296 0 1\r\na\r\n", 0, 0},
        {"set k 4294967295 0 1\r\na\r\n", 4294967295u, 0},
        {"set k 18446744073709551615 0 1\r\na\r\n", 4294967295u, 0},
        {"set k -18446744073709551615 0 1\r\na\r\n", 1, 0},
        {"set k 9223372036854775808 0 1\r\na\r\n", 0, 0},
        {"set k -0 0 1\r\na\r\n", 0, 0},
        {"set k +5 0 1\r\na\r\n", 5, 0},
        {"set k \t7 0 1\r\na\r\n", 7, 0},
        {"set k 0 4294967296 1\r\na\r\n", 0, 0},
        {"set k 0 -1 1\r\na\r\n", 0, -1},
        {"set k 0 2147483648 1\r\na\r\n", 0, INT32_MIN},
        {"set k 0 -2147483649 1\r\na\r\n", 0, INT32_MAX},
        {"set k 0 2592000 1\r\na\r\n", 0, 2592000},
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(parse(ok[i].line) == PARSE_OK, "%s", ok[i].line);
        ck_assert_uint_eq(req.flags, ok[i].flags);
        ck_assert_int_eq(req.exptime, ok[i].exptime);
        ck_assert_uint_eq(req.vlen, 1);
    }
    /* the length wraps at 32 bits too: -4294967295 is 1 */
    ck_assert_int_eq(parse("set k 0 0 -4294967295\r\na\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 1);
    ck_assert_int_eq(parse("set k 0 0 4294967297\r\na\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 1);
    /* white space inside a number token ends it */
    ck_assert_int_eq(parse("set k 0 0 1\t\r\na\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 1);
}
END_TEST

START_TEST(test_store_split_points)
{
    /* every proper prefix is "need more", consuming nothing */
    static const char *const reqs[] = {
        "set k 1 2 5\r\nhello\r\n",
        "cas key 0 0 3 77 noreply\r\nabc\r\n",
        "append k 0 0 0\r\n\r\n",
        "get a b c\r\n",
        "gat 5 a\n",
        "incr n 5\r\n",
        "delete k noreply\r\n",
        "stats items\r\n",
        "version\r\n",
    };
    size_t r;

    for (r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
        const char *s = reqs[r];
        size_t len = strlen(s);
        const char *nl = strchr(s, '\n');
        size_t line = (size_t)(nl - s) + 1;
        size_t i;

        for (i = 0; i < len; i++) {
            ck_assert_msg(parse_n(s, i) == PARSE_AGAIN, "%s at %zu", s, i);
            ck_assert_uint_eq(req.consumed, 0);
            ck_assert_ptr_null(req.err);
            if (i >= line) {
                ck_assert_uint_eq(req.need, len);
            } else {
                ck_assert_uint_eq(req.need, 0);
            }
        }
        ck_assert_int_eq(parse_n(s, len), PARSE_OK);
        ck_assert_uint_eq(req.consumed, len);
    }
}
END_TEST

START_TEST(test_bad_data_chunk)
{
    /* memcached reads <bytes> + 2 and rejects them whole; the rest is
     * parsed as the next command */
    ck_assert_int_eq(parse("set k 0 0 3\r\nabcde\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_CHUNK);
    ck_assert_uint_eq(req.consumed, 18);
    ck_assert_uint_eq(req.swallow, 0);
    /* the request stays described: the executor sizes the item first */
    ck_assert(req.bad_chunk);
    ck_assert_int_eq(req.op, REQ_STORE);
    ck_assert_uint_eq(req.vlen, 3);
    ck_assert_uint_eq(req.nkey, 1);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_ERROR);

    ck_assert_int_eq(parse("set k 0 0 3\r\nabcXY"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_CHUNK);
    ck_assert_uint_eq(req.consumed, 18);

    ck_assert_int_eq(parse("set k 0 0 3\r\nabc\n\r"), PARSE_ERROR);
    ck_assert_uint_eq(req.consumed, 18);
    ck_assert_int_eq(parse("set k 0 0 3\r\nabc\r"), PARSE_AGAIN);
    ck_assert_uint_eq(req.need, 18);

    /* under noreply memcached stays silent */
    ck_assert_int_eq(parse("set k 0 0 1 noreply\r\nab\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_CHUNK);
    ck_assert(req.noreply);
    ck_assert_uint_eq(req.consumed, 24);
}
END_TEST

START_TEST(test_too_large)
{
    char *big;
    size_t n;

    /* answered at once, nothing buffered, the block swallowed */
    ck_assert_int_eq(parse("set k 0 0 2000000\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_LARGE);
    ck_assert_uint_eq(req.consumed, 19);
    ck_assert_uint_eq(req.swallow, 2000002);
    /* the set's key is there so the executor can unlink it */
    ck_assert_int_eq(req.op, REQ_STORE);
    ck_assert_int_eq(req.mode, REQ_SET);
    ck_assert_tok(req.key, req.nkey, "k");

    ck_assert_int_eq(parse("set k 0 0 1000000000\r\n"), PARSE_ERROR);
    ck_assert_uint_eq(req.swallow, 1000000002);
    ck_assert_int_eq(parse("set k 0 0 2147483645\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_LARGE);
    ck_assert_uint_eq(req.swallow, 2147483647);

    /* part of the block already in the buffer: consumed, rest swallowed */
    ck_assert_int_eq(parse("add k 0 0 1048575 noreply\r\nxxxx"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_LARGE);
    ck_assert(req.noreply);
    ck_assert_int_eq(req.mode, REQ_ADD);
    ck_assert_uint_eq(req.consumed, 31);
    ck_assert_uint_eq(req.swallow, 1048577 - 4);

    /* the whole block in the buffer: consumed, nothing to swallow */
    n = 19 + 2000002 + 7;
    big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memcpy(big, "set k 0 0 2000000\r\n", 19);
    memset(big + 19, 'x', 2000002);
    memcpy(big + 19 + 2000002, "get k\r\n", 7);
    ck_assert_int_eq(parse_n(big, n), PARSE_ERROR);
    ck_assert_uint_eq(req.consumed, 19 + 2000002);
    ck_assert_uint_eq(req.swallow, 0);
    free(big);

    /* the largest block the default limit lets through: too big to
     * buffer, so the header alone comes back and the value streams */
    ck_assert_int_eq(parse("set k 0 0 1048574\r\n"), PARSE_VALUE);
    ck_assert_uint_eq(req.consumed, 19);
    ck_assert_uint_eq(req.vlen, 1048574);
}
END_TEST

/* A value of REQ_STREAM_MIN bytes or more not yet buffered: the header
 * comes back alone, every field filled, the value left to the caller. */
START_TEST(test_stream_value)
{
    char buf[128];
    int n;

    for (int mode = 0; mode < 2; mode++) {
        const char *cmd = mode == 0 ? "cas" : "append";

        if (mode == 0) {
            n = snprintf(buf, sizeof(buf), "%s kk 5 60 %d 77 noreply\r\nab",
                         cmd, REQ_STREAM_MIN);
        } else {
            n = snprintf(buf, sizeof(buf), "%s kk 5 60 %d\r\n", cmd,
                         REQ_STREAM_MIN);
        }
        ck_assert_int_eq(parse_n(buf, (size_t)n), PARSE_VALUE);
        ck_assert_uint_eq(req.op, REQ_STORE);
        ck_assert_uint_eq(req.mode, mode == 0 ? REQ_CAS : REQ_APPEND);
        ck_assert_uint_eq(req.nkey, 2);
        ck_assert_mem_eq(req.key, "kk", 2);
        ck_assert_uint_eq(req.flags, 5);
        ck_assert_int_eq(req.exptime, 60);
        ck_assert_uint_eq(req.cas, mode == 0 ? 77 : 0);
        ck_assert_int_eq(req.noreply, mode == 0);
        ck_assert_uint_eq(req.vlen, REQ_STREAM_MIN);
        ck_assert_uint_eq(req.vtrail, 2);
        ck_assert_ptr_null(req.value);
        /* the header only: the 2 value bytes are not consumed */
        ck_assert_uint_eq(req.consumed, (uint32_t)n - (mode == 0 ? 2 : 0));
    }
    /* one byte less: buffered as before */
    n = snprintf(buf, sizeof(buf), "set kk 0 0 %d\r\n", REQ_STREAM_MIN - 1);
    ck_assert_int_eq(parse_n(buf, (size_t)n), PARSE_AGAIN);
}
END_TEST

/* req_move keeps a header past its buffer: pointers follow the bytes. */
START_TEST(test_req_move)
{
    char a[64], b[64];
    struct request moved;
    int n = snprintf(a, sizeof(a), "set key 0 0 %d\r\n", REQ_STREAM_MIN);

    ck_assert_int_eq(parse_n(a, (size_t)n), PARSE_VALUE);
    memcpy(b, cur, (size_t)n);
    req_move(&moved, &req, cur, (size_t)n, b);
    memset(cur, 'x', (size_t)n);
    ck_assert_ptr_eq(moved.key, b + 4);
    ck_assert_mem_eq(moved.key, "key", 3);
    ck_assert_ptr_null(moved.value);
}
END_TEST

START_TEST(test_item_size_setting)
{
    text_setup(100);
    ck_assert_int_eq(parse("set k 0 0 99\r\n"), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_LARGE);
    ck_assert_uint_eq(req.swallow, 101);
    ck_assert_int_eq(parse("set k 0 0 98\r\n"), PARSE_AGAIN);
    ck_assert_uint_eq(req.need, 14 + 100);
    text_setup(0);  /* back to the default */
    ck_assert_int_eq(parse("set k 0 0 99\r\n"), PARSE_AGAIN);
    text_setup(8 * 1024 * 1024);
    ck_assert_int_eq(parse("set k 0 0 2000000\r\n"), PARSE_VALUE);
    ck_assert_uint_eq(req.consumed, 19);
    text_teardown();
    ck_assert_int_eq(parse("set k 0 0 2000000\r\n"), PARSE_ERROR);
}
END_TEST

/* ---------------------------------------------------- the other commands */

START_TEST(test_arith)
{
    ck_assert_int_eq(parse("incr n 5\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_ARITH);
    ck_assert_int_eq(req.mode, REQ_INCR);
    ck_assert_tok(req.key, req.nkey, "n");
    ck_assert_uint_eq(req.delta, 5);
    ck_assert(!req.noreply);
    ck_assert_uint_eq(req.consumed, 10);

    ck_assert_int_eq(parse("decr n 18446744073709551615 noreply\r\n"),
                     PARSE_OK);
    ck_assert_int_eq(req.mode, REQ_DECR);
    ck_assert_uint_eq(req.delta, UINT64_MAX);
    ck_assert(req.noreply);

    /* accepted the way strtoull() accepts them */
    ck_assert_int_eq(parse("incr n +3\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.delta, 3);
    ck_assert_int_eq(parse("incr n 1\tzzz\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.delta, 1);
    ck_assert_int_eq(parse("incr n \t1\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.delta, 1);
    ck_assert_int_eq(parse("incr n -0\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.delta, 0);
    /* a surplus token that is not noreply is ignored */
    ck_assert_int_eq(parse("incr n 1 2\r\n"), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_uint_eq(req.delta, 1);
}
END_TEST

START_TEST(test_delete)
{
    ck_assert_int_eq(parse("delete k\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_DELETE);
    ck_assert_tok(req.key, req.nkey, "k");
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("delete k 0\r\n"), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("delete k noreply\r\n"), PARSE_OK);
    ck_assert(req.noreply);
    ck_assert_int_eq(parse("delete k 0 noreply\r\n"), PARSE_OK);
    ck_assert(req.noreply);
    ck_assert_int_eq(req.op, REQ_DELETE);
}
END_TEST

START_TEST(test_touch_flush_misc)
{
    ck_assert_int_eq(parse("touch k 10\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_TOUCH);
    ck_assert_tok(req.key, req.nkey, "k");
    ck_assert_int_eq(req.exptime, 10);
    ck_assert_int_eq(parse("touch k -5 noreply\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, -5);
    ck_assert(req.noreply);
    ck_assert_int_eq(parse("touch n 1 2\r\n"), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("touch n 4294967296\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, 0);

    ck_assert_int_eq(parse("flush_all\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_FLUSH);
    ck_assert_int_eq(req.exptime, 0);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("flush_all 30\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, 30);
    ck_assert_int_eq(parse("flush_all -1\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, -1);
    ck_assert_int_eq(parse("flush_all noreply\r\n"), PARSE_OK);
    ck_assert(req.noreply);
    ck_assert_int_eq(req.exptime, 0);
    ck_assert_int_eq(parse("flush_all 5 noreply\r\n"), PARSE_OK);
    ck_assert(req.noreply);
    ck_assert_int_eq(req.exptime, 5);
    ck_assert_int_eq(parse("flush_all 1 2\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, 1);
    ck_assert(!req.noreply);

    ck_assert_int_eq(parse("version\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_VERSION);
    ck_assert_int_eq(parse("version foo bar\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_VERSION);
    ck_assert_int_eq(parse("quit\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_QUIT);
    ck_assert_int_eq(parse("quit foo\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_QUIT);

    ck_assert_int_eq(parse("verbosity 1\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_VERBOSITY);
    ck_assert_uint_eq(req.number, 1);
    ck_assert_int_eq(parse("verbosity 3 noreply\r\n"), PARSE_OK);
    ck_assert(req.noreply);
    ck_assert_uint_eq(req.number, 3);
    ck_assert_int_eq(parse("verbosity 1 2\r\n"), PARSE_OK);
    ck_assert(!req.noreply);

    ck_assert_int_eq(parse("cache_memlimit 64\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_MEMLIMIT);
    ck_assert_uint_eq(req.number, 64);
    ck_assert_int_eq(parse("cache_memlimit 1000000000 noreply\r\n"),
                     PARSE_OK);
    ck_assert_uint_eq(req.number, 1000000000);
    ck_assert(req.noreply);
    ck_assert_int_eq(parse("cache_memlimit 8\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.number, 8);
}
END_TEST

START_TEST(test_shutdown_stats_debugtime)
{
    ck_assert_int_eq(parse("shutdown\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_SHUTDOWN);
    ck_assert_uint_eq(req.number, TEXT_SHUTDOWN_NOW);
    ck_assert_int_eq(parse("shutdown graceful\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.number, TEXT_SHUTDOWN_GRACEFUL);
    ck_assert_int_eq(parse("shutdown foo\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.number, TEXT_SHUTDOWN_INVALID);
    ck_assert_int_eq(parse("shutdown graceful x\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.number, TEXT_SHUTDOWN_INVALID);

    ck_assert_int_eq(parse("stats\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_STATS);
    ck_assert_uint_eq(req.nkey, 0);
    ck_assert_uint_eq(req.keys_len, 0);
    ck_assert_int_eq(parse("stats  \r\n"), PARSE_OK);
    ck_assert_uint_eq(req.nkey, 0);
    ck_assert_int_eq(parse("stats items\r\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "items");
    ck_assert_uint_eq(req.keys_len, 0);
    ck_assert_int_eq(parse("stats  detail   on\r\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "detail");
    ck_assert_tok(req.keys, req.keys_len, "on");
    ck_assert_int_eq(parse("stats cachedump 1 10\r\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "cachedump");
    ck_assert_str_eq(keys_of(&req), "1|10");
    ck_assert_int_eq(parse("stats reset\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "reset");

    /* administrative commands: the word and its arguments, unparsed */
    ck_assert_int_eq(parse("slabs\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_ADMIN);
    ck_assert_tok(req.key, req.nkey, "slabs");
    ck_assert_uint_eq(req.keys_len, 0);
    ck_assert_int_eq(parse("slabs  reassign 1   2\r\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "slabs");
    ck_assert_str_eq(keys_of(&req), "reassign|1|2");
    ck_assert_int_eq(parse("lru_crawler metadump all\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_ADMIN);
    ck_assert_tok(req.key, req.nkey, "lru_crawler");
    ck_assert_str_eq(keys_of(&req), "metadump|all");
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("lru_crawler noreply\r\n"), PARSE_OK);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("lru tune 10 25 0.1 2 noreply\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_ADMIN);
    ck_assert_tok(req.key, req.nkey, "lru");
    ck_assert_str_eq(keys_of(&req), "tune|10|25|0.1|2|noreply");
    ck_assert(req.noreply);
    ck_assert_int_eq(parse("lru HTTP/1.1\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_ADMIN);
    ck_assert(!req.noreply);
    ck_assert_int_eq(parse("watch fetchers\r\n"), PARSE_OK);
    ck_assert_tok(req.key, req.nkey, "watch");

    ck_assert_int_eq(parse("debugtime 100\r\n"), PARSE_OK);
    ck_assert_int_eq(req.op, REQ_DEBUGTIME);
    ck_assert_uint_eq(req.number, TEXT_DEBUGTIME_ADD);
    ck_assert_int_eq(req.exptime, 100);
    ck_assert_int_eq(parse("debugtime -5\r\n"), PARSE_OK);
    ck_assert_int_eq(req.exptime, -5);
    ck_assert_int_eq(parse("debugtime p\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.number, TEXT_DEBUGTIME_PAUSE);
    ck_assert_int_eq(parse("debugtime r\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.number, TEXT_DEBUGTIME_RESUME);
}
END_TEST

/* ----------------------------------------------------------- the errors */

#define WHOLE UINT32_MAX

static const struct ecase {
    const char *in;
    int rc;
    const char *err;
    bool noreply;
    uint32_t consumed;      /* WHOLE: the whole input */
} ecases[] = {
    /* token counts */
    {"set k 0 0\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"set k 0 0 1 2 3\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"set k 0 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22"
     " 23 24 noreply\r\n",
     PARSE_ERROR, E_ERROR, false, WHOLE},
    {"cas k 0 0 1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"cas k 0 0 1 5 6 7\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"replace HTTP/1.1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"incr k\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"incr n 1 2 3\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"delete\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"delete k 0 0 0\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"touch k\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"touch n 1 2 3\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"get\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"get \r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"gets\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"gat\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"bget\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"flush_all 1 2 3\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"verbosity\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"verbosity 1 2 3\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"cache_memlimit\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"cache_memlimit 1 2 3\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"debugtime\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    /* unknown commands */
    {"\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"   \r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"g\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"getx k\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"get\tk\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"SET k 0 0 1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"set\tk 0 0 1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"mx\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"m\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"debugtime x\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"foo\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    /* HTTP: closed silently, except where memcached knows the command */
    {"GET / HTTP/1.1\r\n", PARSE_CLOSE, NULL, false, 0},
    {"xyz HTTP/1.1\r\n", PARSE_CLOSE, NULL, false, 0},
    {"HTTP/1.1\r\n", PARSE_CLOSE, NULL, false, 0},
    {"xx HTTP/\r\n", PARSE_CLOSE, NULL, false, 0},
    {"pxx HTTP/1.1\r\n", PARSE_CLOSE, NULL, false, 0},
    {"x HTTP/1.1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"gxx HTTP/1.1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"sxx HTTP/1.1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"mx HTTP/1.1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"extstore noreply\r\n", PARSE_ERROR, E_ERROR, true, WHOLE},
    {"misbehave noreply\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"foo noreply\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"xyz HTTP/1.1 foo\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"xyz http/1.1\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"verbosity HTTP/1.1\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"flush_all HTTP/1.1\r\n", PARSE_ERROR, E_EXPTIME, false, WHOLE},
    /* storage line errors: the data block is not consumed */
    {"set k -1 0 1\r\na\r\n", PARSE_ERROR, E_FORMAT, false, 14},
    {"set k 0 0 -1\r\nabc\r\n", PARSE_ERROR, E_FORMAT, false, 14},
    {"set k 0 0 abc\r\nabc\r\n", PARSE_ERROR, E_FORMAT, false, 15},
    {"set k 0 0 2147483646\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"set k 0 0 2147483647\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"set k 0 0 2147483648\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"set k 0 0 99999999999999999999\r\n", PARSE_ERROR, E_FORMAT, false,
     WHOLE},
    {"set k 0 99999999999999999999 1\r\n", PARSE_ERROR, E_FORMAT, false,
     WHOLE},
    {"set k 18446744073709551616 0 1\r\n", PARSE_ERROR, E_FORMAT, false,
     WHOLE},
    {"set k 0x10 0 1\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"set k + 0 1\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"set k \t 0 1\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"set k 0 0 1noreply\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"set k 0 0 noreply\r\nab\r\n", PARSE_ERROR, E_FORMAT, true, 19},
    {"append k 0 0 x noreply\r\n", PARSE_ERROR, E_FORMAT, true, WHOLE},
    {"cas k 0 0 1 abc\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"cas k 0 0 1 -1\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"cas k 0 0 1 18446744073709551616\r\n", PARSE_ERROR, E_FORMAT, false,
     WHOLE},
    /* arithmetic */
    {"incr k -1\r\n", PARSE_ERROR, E_DELTA, false, WHOLE},
    {"incr k abc\r\n", PARSE_ERROR, E_DELTA, false, WHOLE},
    {"incr k 1x\r\n", PARSE_ERROR, E_DELTA, false, WHOLE},
    {"incr k 18446744073709551616\r\n", PARSE_ERROR, E_DELTA, false, WHOLE},
    {"decr k noreply\r\n", PARSE_ERROR, E_DELTA, true, WHOLE},
    {"decr k x noreply\r\n", PARSE_ERROR, E_DELTA, true, WHOLE},
    /* delete */
    {"delete k 1\r\n", PARSE_ERROR, E_USAGE, false, WHOLE},
    {"delete k noreply 0\r\n", PARSE_ERROR, E_USAGE, false, WHOLE},
    {"delete k x y\r\n", PARSE_ERROR, E_USAGE, false, WHOLE},
    {"delete k 5 noreply\r\n", PARSE_ERROR, E_USAGE, true, WHOLE},
    {"delete k noreply noreply\r\n", PARSE_ERROR, E_USAGE, true, WHOLE},
    /* touch */
    {"touch k abc\r\n", PARSE_ERROR, E_EXPTIME, false, WHOLE},
    {"touch k 99999999999999999999\r\n", PARSE_ERROR, E_EXPTIME, false,
     WHOLE},
    {"touch n noreply\r\n", PARSE_ERROR, E_EXPTIME, true, WHOLE},
    /* retrieval */
    {"gat abc k\r\n", PARSE_ERROR, E_EXPTIME, false, WHOLE},
    {"gats 1.5 k\r\n", PARSE_ERROR, E_EXPTIME, false, WHOLE},
    /* flush_all */
    {"flush_all abc\r\n", PARSE_ERROR, E_EXPTIME, false, WHOLE},
    {"flush_all noreply 5\r\n", PARSE_ERROR, E_EXPTIME, false, WHOLE},
    {"flush_all x noreply\r\n", PARSE_ERROR, E_EXPTIME, true, WHOLE},
    /* verbosity, cache_memlimit */
    {"verbosity abc\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"verbosity -1\r\n", PARSE_ERROR, E_FORMAT, false, WHOLE},
    {"verbosity noreply\r\n", PARSE_ERROR, E_FORMAT, true, WHOLE},
    {"cache_memlimit abc\r\n", PARSE_ERROR, E_ERROR, false, WHOLE},
    {"cache_memlimit abc noreply\r\n", PARSE_ERROR, E_ERROR, true, WHOLE},
    {"cache_memlimit 7\r\n", PARSE_ERROR, E_SMALL, false, WHOLE},
    {"cache_memlimit 0\r\n", PARSE_ERROR, E_SMALL, false, WHOLE},
    {"cache_memlimit 4294967296\r\n", PARSE_ERROR, E_SMALL, false, WHOLE},
    {"cache_memlimit 7 noreply\r\n", PARSE_ERROR, E_SMALL, true, WHOLE},
    {"cache_memlimit 1000000001\r\n", PARSE_ERROR, E_BYTES, false, WHOLE},
};

START_TEST(test_errors)
{
    size_t i;

    for (i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++) {
        const struct ecase *c = &ecases[i];
        int rc = parse(c->in);
        uint32_t want = c->consumed == WHOLE ? (uint32_t)strlen(c->in)
                                             : c->consumed;

        ck_assert_msg(rc == c->rc, "'%s': rc %d", c->in, rc);
        if (c->err == NULL) {
            ck_assert_msg(req.err == NULL, "'%s': err '%s'", c->in, req.err);
        } else {
            ck_assert_msg(req.err != NULL && strcmp(req.err, c->err) == 0,
                          "'%s': err '%s'", c->in,
                          req.err ? req.err : "(null)");
        }
        ck_assert_msg(req.noreply == c->noreply, "'%s': noreply", c->in);
        if (rc == PARSE_ERROR) {
            ck_assert_msg(req.consumed == want, "'%s': consumed %u", c->in,
                          req.consumed);
            ck_assert_uint_eq(req.swallow, 0);
            ck_assert_int_eq(req.op, REQ_NONE);
        }
        ck_assert_int_eq(req.proto, PROTO_TEXT);
    }
}
END_TEST

START_TEST(test_key_too_long_errors)
{
    static const char *const fmts[][2] = {
        {"set ", " 0 0 1\r\n"},  {"cas ", " 0 0 1 1\r\n"},
        {"incr ", " 1\r\n"},     {"decr ", " 1\r\n"},
        {"delete ", "\r\n"},     {"touch ", " 1\r\n"},
        {"get ", "\r\n"},        {"gets k ", "\r\n"},
        {"gat 10 ", "\r\n"},     {"prepend ", " 0 0 1\r\n"},
    };
    size_t i;

    for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        const char *in = longkey(fmts[i][0], 251, fmts[i][1]);

        ck_assert_msg(parse(in) == PARSE_ERROR, "%s", fmts[i][0]);
        ck_assert_str_eq(req.err, E_FORMAT);
        ck_assert_uint_eq(req.consumed, strlen(in));
        ck_assert(!req.noreply);
    }
    /* ... and silenced by noreply where memcached reads it */
    ck_assert_int_eq(parse(longkey("delete ", 251, " noreply\r\n")),
                     PARSE_ERROR);
    ck_assert_str_eq(req.err, E_FORMAT);
    ck_assert(req.noreply);
    ck_assert_int_eq(parse(longkey("set ", 251, " 0 0 1 noreply\r\n")),
                     PARSE_ERROR);
    ck_assert(req.noreply);
    /* the usage error comes before the key check */
    ck_assert_int_eq(parse(longkey("delete ", 251, " 1\r\n")), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_USAGE);
}
END_TEST

START_TEST(test_line_limits)
{
    char *buf = malloc(8192);

    ck_assert_ptr_nonnull(buf);
    /* up to 2048 bytes without newline: wait */
    memset(buf, 'x', 2049);
    ck_assert_int_eq(parse_n(buf, 2048), PARSE_AGAIN);
    ck_assert_uint_eq(req.consumed, 0);
    /* past it: memcached hangs up without a word */
    ck_assert_int_eq(parse_n(buf, 2049), PARSE_CLOSE);
    ck_assert_ptr_null(req.err);

    memcpy(buf, "set k 0 0 1", 11);
    memset(buf + 11, ' ', 3000);
    ck_assert_int_eq(parse_n(buf, 3011), PARSE_CLOSE);
    memcpy(buf + 3011, "\r\na\r\n", 5);
    ck_assert_int_eq(parse_n(buf, 3016), PARSE_OK);
    ck_assert_uint_eq(req.vlen, 1);

    /* multigets may grow */
    memcpy(buf, "get ", 4);
    memset(buf + 4, 'x', 3000);
    ck_assert_int_eq(parse_n(buf, 3004), PARSE_AGAIN);
    memcpy(buf, "gets ", 5);
    ck_assert_int_eq(parse_n(buf, 3004), PARSE_AGAIN);
    memcpy(buf, "gat  ", 5);
    ck_assert_int_eq(parse_n(buf, 3004), PARSE_CLOSE);
    memcpy(buf, "mg   ", 5);
    ck_assert_int_eq(parse_n(buf, 3004), PARSE_CLOSE);

    /* ... after at most 100 leading spaces */
    memset(buf, ' ', 100);
    memcpy(buf + 100, "get ", 4);
    memset(buf + 104, 'x', 3000);
    ck_assert_int_eq(parse_n(buf, 3104), PARSE_AGAIN);
    memset(buf, ' ', 101);
    memcpy(buf + 101, "get ", 4);
    ck_assert_int_eq(parse_n(buf, 3104), PARSE_CLOSE);

    /* a long line that did arrive whole is parsed as usual */
    memset(buf, 'x', 5000);
    memcpy(buf + 5000, "\r\n", 2);
    ck_assert_int_eq(parse_n(buf, 5002), PARSE_ERROR);
    ck_assert_str_eq(req.err, E_ERROR);
    ck_assert_uint_eq(req.consumed, 5002);

    /* but not one longer than memcached's 16 KiB read buffer, which it
     * never holds whole: it closes unanswered (a get/gets excepted) */
    buf = realloc(buf, 16400);
    ck_assert_ptr_nonnull(buf);
    memset(buf, 'x', 16385);
    memcpy(buf + 16382, "\r\n", 2);
    ck_assert_int_eq(parse_n(buf, 16384), PARSE_ERROR);
    memcpy(buf + 16382, "x\r\n", 3);
    ck_assert_int_eq(parse_n(buf, 16385), PARSE_CLOSE);
    ck_assert_ptr_null(req.err);
    memset(buf, ' ', 16382);
    memcpy(buf, "get x", 5);
    ck_assert_int_eq(parse_n(buf, 16385), PARSE_OK);
    free(buf);
}
END_TEST

START_TEST(test_meta_handoff)
{
    int calls = fake_meta_calls;

    ck_assert_int_eq(parse("mg foo v\r\n"), PARSE_ERROR);
    ck_assert_int_eq(fake_meta_calls, calls + 1);
    ck_assert_ptr_eq(fake_meta_buf, cur);
    ck_assert_uint_eq(fake_meta_len, 10);
    ck_assert_int_eq(req.proto, PROTO_META);
    ck_assert_uint_eq(req.consumed, 10);

    /* leading spaces are ours to skip and to count */
    ck_assert_int_eq(parse("   ms k 2\r\nab\r\n"), PARSE_ERROR);
    ck_assert_ptr_eq(fake_meta_buf, cur + 3);
    ck_assert_uint_eq(fake_meta_len, 12);
    ck_assert_uint_eq(req.consumed, 11);

    ck_assert_int_eq(parse("mn\r\n"), PARSE_ERROR);
    ck_assert_int_eq(parse("md k\r\n"), PARSE_ERROR);
    ck_assert_int_eq(parse("ma k\r\n"), PARSE_ERROR);
    ck_assert_int_eq(parse("me k\r\n"), PARSE_ERROR);
    ck_assert_int_eq(fake_meta_calls, calls + 6);
    /* not meta: never handed over */
    ck_assert_int_eq(parse("mx k\r\n"), PARSE_ERROR);
    ck_assert_int_eq(parse("mget k\r\n"), PARSE_ERROR);
    ck_assert_int_eq(fake_meta_calls, calls + 6);
    ck_assert_int_eq(req.proto, PROTO_TEXT);
}
END_TEST

START_TEST(test_pipeline)
{
    static const char stream[] = "set a 0 0 1\r\n1\r\n"
                                 "get a b\r\n"
                                 "incr a 5\r\n"
                                 "delete a noreply\r\n"
                                 "bad\r\n"
                                 "set b 0 0 3\r\nxyzAB\r\n"
                                 "version\r\n"
                                 "gat 1 c\n"
                                 "get partial";
    static const struct {
        int rc;
        int op;
        const char *err;
        bool noreply;
        uint32_t consumed;
    } want[] = {
        {PARSE_OK, REQ_STORE, NULL, false, 16},
        {PARSE_OK, REQ_GET, NULL, false, 9},
        {PARSE_OK, REQ_ARITH, NULL, false, 10},
        {PARSE_OK, REQ_DELETE, NULL, true, 18},
        {PARSE_ERROR, REQ_NONE, E_ERROR, false, 5},
        {PARSE_ERROR, REQ_STORE, E_CHUNK, false, 18},
        {PARSE_ERROR, REQ_NONE, E_ERROR, false, 2},  /* the "\r\n" left */
        {PARSE_OK, REQ_VERSION, NULL, false, 9},
        {PARSE_OK, REQ_GET, NULL, false, 8},
        {PARSE_AGAIN, REQ_NONE, NULL, false, 0},
    };
    size_t off = 0, len = sizeof(stream) - 1;
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int rc = text_parse(&req, stream + off, len - off);

        ck_assert_msg(rc == want[i].rc, "step %zu: rc %d", i, rc);
        ck_assert_msg(req.consumed == want[i].consumed, "step %zu: %u", i,
                      req.consumed);
        if (rc == PARSE_AGAIN) {
            break;
        }
        ck_assert_msg(req.op == want[i].op, "step %zu: op %d", i, req.op);
        ck_assert(req.noreply == want[i].noreply);
        ck_assert_uint_eq(req.swallow, 0);
        if (want[i].err != NULL) {
            ck_assert_str_eq(req.err, want[i].err);
        } else {
            ck_assert_ptr_null(req.err);
        }
        if (i == 1) {
            ck_assert_str_eq(keys_of(&req), "a|b");
        }
        off += req.consumed;
    }
    ck_assert_uint_eq(i, sizeof(want) / sizeof(want[0]) - 1);
    ck_assert_str_eq(stream + off, "get partial");
}
END_TEST

START_TEST(test_request_reset)
{
    /* whatever the caller's request held, nothing survives a parse */
    memset(&req, 0xa5, sizeof(req));
    ck_assert_int_eq(parse("version\r\n"), PARSE_OK);
    ck_assert_int_eq(req.proto, PROTO_TEXT);
    ck_assert_int_eq(req.op, REQ_VERSION);
    ck_assert(!req.noreply && !req.want_cas && !req.touch);
    ck_assert(!req.return_key && !req.create && !req.key_binary);
    ck_assert_int_eq(req.mode, 0);
    ck_assert_ptr_null(req.key);
    ck_assert_ptr_null(req.keys);
    ck_assert_ptr_null(req.value);
    ck_assert_uint_eq(req.nkey + req.keys_len + req.vlen + req.flags, 0);
    ck_assert_int_eq(req.exptime, 0);
    ck_assert_uint_eq(req.cas + req.delta + req.initial + req.number, 0);
    ck_assert_uint_eq(req.bin_opcode + req.bin_opaque + req.bin_status, 0);
    ck_assert_uint_eq(req.mflags, 0);
    ck_assert_ptr_null(req.mtokens);
    ck_assert_uint_eq(req.mtokens_len, 0);
    ck_assert_ptr_null(req.opaque);
    ck_assert_uint_eq(req.opaque_len, 0);
    ck_assert_int_eq(req.mmode, 0);
    ck_assert_int_eq(req.vivify_ttl + req.recache_ttl + req.meta_ttl, 0);
    ck_assert_uint_eq(req.new_cas, 0);
    ck_assert_uint_eq(req.swallow + req.need, 0);
    ck_assert_uint_eq(req.consumed, 9);
    ck_assert_ptr_null(req.err);

    ck_assert_int_eq(parse("cas k 1 2 1 99 noreply\r\na\r\n"), PARSE_OK);
    ck_assert_int_eq(parse("get x\r\n"), PARSE_OK);
    ck_assert_ptr_null(req.value);
    ck_assert_uint_eq(req.vlen, 0);
    ck_assert_uint_eq(req.cas, 0);
    ck_assert_uint_eq(req.flags, 0);
    ck_assert(!req.noreply);
    ck_assert_int_eq(req.mode, 0);
    ck_assert_int_eq(parse("stats\r\n"), PARSE_OK);
    ck_assert_uint_eq(req.swallow, 0);
    ck_assert_ptr_null(req.err);
}
END_TEST

/* --------------------------------------------------------------- writer */

static struct out o;

static void
w_setup(void)
{
    out_init(&o);
}

static void
w_teardown(void)
{
    out_free(&o);
    teardown();
}

/* Take everything written so far as a string and empty the out. */
static char *
taken(size_t *lenp)
{
    static char *s;
    struct iovec iov[64];
    int n = out_iov(&o, iov, 64), i;
    size_t len = 0;

    free(s);
    s = malloc(o.pending + 1);
    ck_assert_ptr_nonnull(s);
    for (i = 0; i < n; i++) {
        memcpy(s + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    ck_assert_uint_eq(len, o.pending);
    s[len] = '\0';
    out_consume(&o, len);
    if (lenp != NULL) {
        *lenp = len;
    }
    return s;
}

static void
reply_code(const struct request *r, int code, const char *want)
{
    struct result res;

    memset(&res, 0, sizeof(res));
    res.code = (uint8_t)code;
    text_reply(&o, r, &res);
    ck_assert_str_eq(taken(NULL), want);
}

START_TEST(test_write_codes)
{
    struct request r;

    memset(&r, 0, sizeof(r));
    r.op = REQ_STORE;
    reply_code(&r, RES_STORED, "STORED\r\n");
    reply_code(&r, RES_NOT_STORED, "NOT_STORED\r\n");
    reply_code(&r, RES_EXISTS, "EXISTS\r\n");
    reply_code(&r, RES_NOT_FOUND, "NOT_FOUND\r\n");
    reply_code(&r, RES_DELETED, "DELETED\r\n");
    reply_code(&r, RES_TOUCHED, "TOUCHED\r\n");
    reply_code(&r, RES_OK, "OK\r\n");
    reply_code(&r, RES_MISS, "");
    reply_code(&r, RES_NOOP, "");
    reply_code(&r, RES_E_TOO_LARGE,
               "SERVER_ERROR object too large for cache\r\n");
    reply_code(&r, RES_E_NOMEM,
               "SERVER_ERROR out of memory storing object\r\n");
    reply_code(&r, RES_E_NON_NUMERIC, "CLIENT_ERROR cannot increment or "
                                      "decrement non-numeric value\r\n");
    reply_code(&r, RES_E_UNKNOWN, "ERROR\r\n");
    r.op = REQ_ARITH;
    reply_code(&r, RES_E_NOMEM, "SERVER_ERROR out of memory\r\n");
    /* quit is never answered */
    r.op = REQ_QUIT;
    reply_code(&r, RES_OK, "");
}
END_TEST

START_TEST(test_write_number_version_msg)
{
    struct request r;
    struct result res;

    memset(&r, 0, sizeof(r));
    memset(&res, 0, sizeof(res));
    r.op = REQ_ARITH;
    res.code = RES_NUMBER;
    res.number = 0;
    text_reply(&o, &r, &res);
    res.number = 15;
    text_reply(&o, &r, &res);
    res.number = UINT64_MAX;
    text_reply(&o, &r, &res);
    ck_assert_str_eq(taken(NULL), "0\r\n15\r\n18446744073709551615\r\n");

    r.op = REQ_VERSION;
    res.code = RES_VERSION;
    res.msg = "1.6.18";
    text_reply(&o, &r, &res);
    ck_assert_str_eq(taken(NULL), "VERSION 1.6.18\r\n");

    res.code = RES_E_MSG;
    res.msg = "CLIENT_ERROR flush_all not allowed";
    text_reply(&o, &r, &res);
    ck_assert_str_eq(taken(NULL), "CLIENT_ERROR flush_all not allowed\r\n");
}
END_TEST

START_TEST(test_write_noreply_silent)
{
    struct request r;
    static const int codes[] = {
        RES_OK,          RES_STORED,        RES_NOT_STORED, RES_EXISTS,
        RES_NOT_FOUND,   RES_DELETED,       RES_TOUCHED,    RES_NUMBER,
        RES_E_TOO_LARGE, RES_E_NOMEM,       RES_E_NON_NUMERIC,
        RES_E_UNKNOWN,
    };
    size_t i;

    memset(&r, 0, sizeof(r));
    r.noreply = true;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        reply_code(&r, codes[i], "");
    }
    ck_assert(out_empty(&o));
}
END_TEST

START_TEST(test_write_value)
{
    struct request r;
    struct result res;
    struct res_slice sl[2] = {{"hel", 3}, {"lo", 2}};

    memset(&r, 0, sizeof(r));
    memset(&res, 0, sizeof(res));
    r.op = REQ_GET;
    res.code = RES_VALUE;
    res.key = "foo";
    res.nkey = 3;
    res.flags = 4294967295u;
    res.cas = 12345;
    res.slices = sl;
    res.nslices = 2;
    res.vlen = 5;
    text_reply(&o, &r, &res);
    text_end(&o, &r);
    ck_assert_str_eq(taken(NULL),
                     "VALUE foo 4294967295 5\r\nhello\r\nEND\r\n");

    r.want_cas = true;
    res.flags = 0;
    text_reply(&o, &r, &res);
    ck_assert_str_eq(taken(NULL), "VALUE foo 0 5 12345\r\nhello\r\n");

    /* empty value */
    res.nslices = 0;
    res.slices = NULL;
    res.vlen = 0;
    res.cas = 0;
    text_reply(&o, &r, &res);
    ck_assert_str_eq(taken(NULL), "VALUE foo 0 0 0\r\n\r\n");
}
END_TEST

START_TEST(test_write_value_zero_copy)
{
    struct request r;
    struct result res;
    struct res_slice sl[2];
    char *v = malloc(3000);
    char *want = malloc(4000);
    char *got;
    size_t len;
    int n;

    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(want);
    memset(v, 'v', 3000);
    memset(&r, 0, sizeof(r));
    memset(&res, 0, sizeof(res));
    sl[0].ptr = v;
    sl[0].len = 1000;
    sl[1].ptr = v + 2000;   /* not adjacent: two references */
    sl[1].len = 1000;
    res.code = RES_VALUE;
    res.key = "big";
    res.nkey = 3;
    res.slices = sl;
    res.nslices = 2;
    res.vlen = 2000;
    text_reply(&o, &r, &res);
    /* header, two references to the caller's memory, trailer */
    ck_assert_uint_eq(o.nsegs, 4);
    ck_assert_ptr_eq(o.segs[1].ptr, v);
    ck_assert_ptr_eq(o.segs[2].ptr, v + 2000);
    n = sprintf(want, "VALUE big 0 2000\r\n");
    memset(want + n, 'v', 2000);
    memcpy(want + n + 2000, "\r\n", 3);
    got = taken(&len);
    ck_assert_uint_eq(len, (size_t)n + 2002);
    ck_assert_str_eq(got, want);

    /* small values are copied: one arena segment for the whole reply */
    sl[0].len = TEXT_COPY_MAX;
    res.nslices = 1;
    res.vlen = TEXT_COPY_MAX;
    text_reply(&o, &r, &res);
    ck_assert_uint_eq(o.nsegs, 1);
    ck_assert_ptr_null(o.segs[0].ptr);
    ck_assert_uint_eq(o.pending, 19 + TEXT_COPY_MAX);
    taken(NULL);
    free(v);
    free(want);
}
END_TEST

START_TEST(test_write_stat_end_error)
{
    struct request r;

    memset(&r, 0, sizeof(r));
    text_stat(&o, &r, "pid", "1234");
    text_stat(&o, &r, "version", "1.6.18");
    text_end(&o, &r);
    ck_assert_str_eq(taken(NULL),
                     "STAT pid 1234\r\nSTAT version 1.6.18\r\nEND\r\n");

    text_error(&o, &r, "CLIENT_ERROR bad data chunk");
    ck_assert_str_eq(taken(NULL), "CLIENT_ERROR bad data chunk\r\n");
    text_error(&o, &r, NULL);
    ck_assert(out_empty(&o));

    /* a text request with noreply: memcached says nothing */
    r.noreply = true;
    text_error(&o, &r, "CLIENT_ERROR bad data chunk");
    ck_assert(out_empty(&o));
    /* a meta request's errors are never silenced */
    r.proto = PROTO_META;
    text_error(&o, &r, "CLIENT_ERROR bad command line format");
    ck_assert_str_eq(taken(NULL), "CLIENT_ERROR bad command line format\r\n");
}
END_TEST

START_TEST(test_write_parse_error_round_trip)
{
    /* what the connection does with a PARSE_ERROR, end to end */
    ck_assert_int_eq(parse("set k 0 0 3\r\nabcde\r\n"), PARSE_ERROR);
    text_proto.error(&o, &req, req.err);
    ck_assert_str_eq(taken(NULL), "CLIENT_ERROR bad data chunk\r\n");
    ck_assert_int_eq(parse("delete k 5 noreply\r\n"), PARSE_ERROR);
    text_proto.error(&o, &req, req.err);
    ck_assert(out_empty(&o));
    ck_assert_ptr_eq(text_proto.parse, text_parse);
    ck_assert_ptr_eq(text_proto.reply, text_reply);
    ck_assert_ptr_eq(text_proto.stat, text_stat);
    ck_assert_ptr_eq(text_proto.end, text_end);
    ck_assert_ptr_eq(text_proto.error, text_error);
}
END_TEST

START_TEST(test_u64)
{
    static const uint64_t edge[] = {
        0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 4294967295u, 4294967296u,
        9999999999999999999u, 10000000000000000000u, UINT64_MAX,
    };
    char got[32], want[32];
    uint64_t x = 88172645463325252u;
    size_t i, n;

    for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        n = text_u64(got, edge[i]);
        got[n] = '\0';
        snprintf(want, sizeof(want), "%" PRIu64, edge[i]);
        ck_assert_str_eq(got, want);
    }
    for (i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = text_u64(got, x >> (i % 64));
        got[n] = '\0';
        snprintf(want, sizeof(want), "%" PRIu64, x >> (i % 64));
        ck_assert_str_eq(got, want);
    }
}
END_TEST

static Suite *
text_suite(void)
{
    Suite *s = suite_create("text");
    TCase *tp = tcase_create("parse");
    TCase *tw = tcase_create("write");

    tcase_add_checked_fixture(tp, NULL, teardown);
    tcase_add_test(tp, test_get_single);
    tcase_add_test(tp, test_get_multi_and_spacing);
    tcase_add_test(tp, test_get_many_keys);
    tcase_add_test(tp, test_get_heads_same_keys);
    tcase_add_test(tp, test_get_heads_edges);
    tcase_add_test(tp, test_gat);
    tcase_add_test(tp, test_get_key_limits);
    tcase_add_test(tp, test_line_ends);
    tcase_add_test(tp, test_store_commands);
    tcase_add_test(tp, test_store_values);
    tcase_add_test(tp, test_store_numbers_like_memcached);
    tcase_add_test(tp, test_store_split_points);
    tcase_add_test(tp, test_bad_data_chunk);
    tcase_add_test(tp, test_too_large);
    tcase_add_test(tp, test_item_size_setting);
    tcase_add_test(tp, test_stream_value);
    tcase_add_test(tp, test_req_move);
    tcase_add_test(tp, test_arith);
    tcase_add_test(tp, test_delete);
    tcase_add_test(tp, test_touch_flush_misc);
    tcase_add_test(tp, test_shutdown_stats_debugtime);
    tcase_add_test(tp, test_errors);
    tcase_add_test(tp, test_key_too_long_errors);
    tcase_add_test(tp, test_line_limits);
    tcase_add_test(tp, test_meta_handoff);
    tcase_add_test(tp, test_pipeline);
    tcase_add_test(tp, test_request_reset);
    suite_add_tcase(s, tp);

    tcase_add_checked_fixture(tw, w_setup, w_teardown);
    tcase_add_test(tw, test_write_codes);
    tcase_add_test(tw, test_write_number_version_msg);
    tcase_add_test(tw, test_write_noreply_silent);
    tcase_add_test(tw, test_write_value);
    tcase_add_test(tw, test_write_value_zero_copy);
    tcase_add_test(tw, test_write_stat_end_error);
    tcase_add_test(tw, test_write_parse_error_round_trip);
    tcase_add_test(tw, test_u64);
    suite_add_tcase(s, tw);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(text_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
