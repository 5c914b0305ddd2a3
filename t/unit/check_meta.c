/*
 * check_meta.c -- the meta protocol parser and writer.
 *
 * Parser: round trips (compose a line, parse, check every field) for each
 * command and flag, memcached's number quirks, every error string with its
 * consumed/swallow bytes, and "need more" at every split point.  Writer:
 * byte-exact replies for each command and outcome, flag echo order, quiet
 * mode and errors.  The expected bytes were taken from memcached 1.6.18.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/meta.h"

static struct request R;

static int
parse_n(const char *s, size_t n)
{
    return meta_parse(&R, s, n);
}

static int
parse(const char *s)
{
    return parse_n(s, strlen(s));
}

static void
expect_ok(const char *s)
{
    int rc = parse(s);

    ck_assert_msg(rc == PARSE_OK, "'%s': rc %d err %s", s, rc,
                  R.err ? R.err : "-");
    ck_assert_uint_eq(R.consumed, strlen(s));
    ck_assert_int_eq(R.proto, PROTO_META);
}

/* A rejected line: the reply, bytes consumed and data bytes to discard. */
static void
expect_err(const char *s, const char *err, size_t consumed, uint64_t swallow)
{
    int rc = parse(s);

    ck_assert_msg(rc == PARSE_ERROR, "'%s': rc %d", s, rc);
    ck_assert_msg(R.err != NULL && strcmp(R.err, err) == 0,
                  "'%s': got '%s' want '%s'", s, R.err ? R.err : "(null)",
                  err);
    ck_assert_msg(R.consumed == consumed, "'%s': consumed %u want %zu", s,
                  R.consumed, consumed);
    ck_assert_msg(R.swallow == swallow, "'%s': swallow %llu want %llu", s,
                  (unsigned long long)R.swallow,
                  (unsigned long long)swallow);
}

/* A rejected ms whose data block (the last `swallow` bytes of s) is to be
 * discarded. */
static void
expect_swallow(const char *s, const char *err, uint64_t swallow)
{
    expect_err(s, err, strlen(s) - swallow, swallow);
}

/* A rejected request line with no data block. */
static void
expect_line_err(const char *s, const char *err)
{
    expect_err(s, err, strlen(s), 0);
}

static void
expect_key(const char *key)
{
    ck_assert_uint_eq(R.nkey, strlen(key));
    ck_assert_int_eq(memcmp(R.key, key, R.nkey), 0);
}

static void
expect_tokens(const char *toks)
{
    ck_assert_uint_eq(R.mtokens_len, strlen(toks));
    ck_assert_int_eq(memcmp(R.mtokens, toks, R.mtokens_len), 0);
}

static uint64_t
bits(const char *letters)
{
    uint64_t b = 0;

    for (; *letters; letters++) {
        b |= META_BIT(*letters);
    }
    return b;
}

static char *
repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- parser: round trips ------------------------------------------- */

START_TEST(test_mg_all_flags)
{
    expect_ok("mg foo s v t c f l h k O123 q u N30 R10 T60 Px/y Lhint E77 "
              "\r\n");
    ck_assert_int_eq(R.op, REQ_GET);
    expect_key("foo");
    ck_assert(!R.key_binary);
    ck_assert_uint_eq(R.mflags, bits("svtcflhkOquNRTPLE"));
    ck_assert(R.noreply);
    ck_assert_int_eq(R.vivify_ttl, 30);
    ck_assert_int_eq(R.recache_ttl, 10);
    ck_assert_int_eq(R.meta_ttl, 60);
    ck_assert(R.touch);
    ck_assert_int_eq(R.exptime, 60);
    ck_assert_uint_eq(R.new_cas, 77);
    ck_assert_uint_eq(R.opaque_len, 4);
    ck_assert_int_eq(memcmp(R.opaque, "O123", 4), 0);
    expect_tokens("s v t c f l h k O123 q u N30 R10 T60 Px/y Lhint E77 ");
    ck_assert_uint_eq(R.swallow, 0);
    ck_assert_ptr_null(R.err);
}
END_TEST

START_TEST(test_mg_plain)
{
    expect_ok("mg foo\r\n");
    ck_assert_int_eq(R.op, REQ_GET);
    expect_key("foo");
    ck_assert_uint_eq(R.mflags, 0);
    ck_assert_uint_eq(R.mtokens_len, 0);
    ck_assert(!R.touch && !R.noreply);
    ck_assert_int_eq(R.exptime, 0);

    /* extra spaces, bare \n */
    expect_ok("mg  foo   v  \r\n");
    expect_key("foo");
    ck_assert_uint_eq(R.mflags, bits("v"));
    expect_ok("mg foo v\n");
    expect_key("foo");
    expect_tokens("v");
    /* any byte but a space belongs to the key */
    expect_ok("mg a\tb\x01 v\r\n");
    expect_key("a\tb\x01");
}
END_TEST

START_TEST(test_mg_base64_key)
{
    expect_ok("mg Zm9vYg== b k v\r\n");
    ck_assert(R.key_binary);
    ck_assert_ptr_eq(R.key, R.keybuf);
    expect_key("foob");
    ck_assert_uint_eq(R.mflags, bits("bkv"));

    /* decoded bytes may be anything, spaces and NULs included */
    expect_ok("mg AGEgYg0K b\r\n");
    ck_assert_uint_eq(R.nkey, 6);
    ck_assert_int_eq(memcmp(R.key, "\0a b\r\n", 6), 0);

    /* the longest key token decodes into keybuf */
    {
        char line[300];
        char *k = repeat('A', 248);

        snprintf(line, sizeof(line), "mg %s b\r\n", k);
        expect_ok(line);
        ck_assert_uint_eq(R.nkey, 186);
        free(k);
    }
}
END_TEST

START_TEST(test_ms_round_trip)
{
    const char *s = "ms foo 5 T30 F7 I k c O1 q b\r\nhello\r\n";

    /* b on a non-base64 key fails; use a plain key first */
    expect_ok("ms foo 5 T30 F7 I k c O1 q\r\nhello\r\n");
    ck_assert_int_eq(R.op, REQ_STORE);
    ck_assert_int_eq(R.mode, REQ_SET);
    expect_key("foo");
    ck_assert_uint_eq(R.vlen, 5);
    ck_assert_int_eq(memcmp(R.value, "hello", 5), 0);
    ck_assert_int_eq(R.exptime, 30);
    ck_assert_int_eq(R.meta_ttl, 30);
    ck_assert_uint_eq(R.flags, 7);
    ck_assert_uint_eq(R.cas, 0);
    ck_assert(R.noreply);
    ck_assert_uint_eq(R.mflags, bits("TFIkcOq"));
    expect_tokens("T30 F7 I k c O1 q");

    ck_assert_int_eq(parse(s), PARSE_ERROR);
    ck_assert_str_eq(R.err, "CLIENT_ERROR error decoding key");

    expect_ok("ms Zm9v 0 b\r\n\r\n");
    expect_key("foo");
    ck_assert(R.key_binary);
    ck_assert_uint_eq(R.vlen, 0);
    ck_assert_int_eq(R.exptime, 0);
    ck_assert_uint_eq(R.flags, 0);

    /* data may hold any byte, line ends included */
    expect_ok("ms k 4\r\n\r\n\r\n\r\n");
    ck_assert_uint_eq(R.vlen, 4);
    ck_assert_int_eq(memcmp(R.value, "\r\n\r\n", 4), 0);
}
END_TEST

START_TEST(test_ms_modes)
{
    static const struct {
        const char *line;
        int mode;
        uint64_t cas;
    } cases[] = {
        {"ms k 1\r\nx\r\n", REQ_SET, 0},
        {"ms k 1 MS\r\nx\r\n", REQ_SET, 0},
        {"ms k 1 ME\r\nx\r\n", REQ_ADD, 0},
        {"ms k 1 MA\r\nx\r\n", REQ_APPEND, 0},
        {"ms k 1 MP\r\nx\r\n", REQ_PREPEND, 0},
        {"ms k 1 MR\r\nx\r\n", REQ_REPLACE, 0},
        {"ms k 1 C9\r\nx\r\n", REQ_CAS, 9},
        {"ms k 1 MS C9\r\nx\r\n", REQ_CAS, 9},
        {"ms k 1 C9 MR\r\nx\r\n", REQ_CAS, 9},
        {"ms k 1 ME C9\r\nx\r\n", REQ_ADD, 0},
        {"ms k 1 MA C9\r\nx\r\n", REQ_APPEND, 9},
        {"ms k 1 MP C9\r\nx\r\n", REQ_PREPEND, 9},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_ok(cases[i].line);
        ck_assert_msg(R.mode == cases[i].mode, "%s: mode %d",
                      cases[i].line, R.mode);
        ck_assert_uint_eq(R.cas, cases[i].cas);
    }
    expect_ok("ms k 1 MA\r\nx\r\n");
    ck_assert_int_eq(R.mmode, 'A');
}
END_TEST

START_TEST(test_md_round_trip)
{
    expect_ok("md foo I T30 C5 x q k O9\r\n");
    ck_assert_int_eq(R.op, REQ_DELETE);
    expect_key("foo");
    ck_assert_uint_eq(R.cas, 5);
    ck_assert_int_eq(R.exptime, 30);
    ck_assert_uint_eq(R.mflags, bits("ITCxqkO"));
    ck_assert(R.noreply);
    expect_tokens("I T30 C5 x q k O9");

    expect_ok("md foo\r\n");
    ck_assert_uint_eq(R.cas, 0);
    ck_assert_uint_eq(R.mflags, 0);

    /* md accepts (and ignores) every flag memcached knows */
    expect_ok("md nokey v s t c f h l u N5 R5 T5 F1 J1 D1 MZ k O1\r\n");
}
END_TEST

START_TEST(test_ma_round_trip)
{
    expect_ok("ma foo\r\n");
    ck_assert_int_eq(R.op, REQ_ARITH);
    ck_assert_int_eq(R.mode, REQ_INCR);
    ck_assert_uint_eq(R.delta, 1);
    ck_assert_uint_eq(R.initial, 0);
    ck_assert(!R.create);
    ck_assert_int_eq(R.exptime, 0);

    expect_ok("ma foo MD D5 J10 N60 T30 C3 E4 v t c q\r\n");
    ck_assert_int_eq(R.mode, REQ_DECR);
    ck_assert_uint_eq(R.delta, 5);
    ck_assert_uint_eq(R.initial, 10);
    ck_assert(R.create);
    ck_assert_int_eq(R.exptime, 60);
    ck_assert_int_eq(R.vivify_ttl, 60);
    ck_assert_int_eq(R.meta_ttl, 30);
    ck_assert_uint_eq(R.cas, 3);
    ck_assert_uint_eq(R.new_cas, 4);
    ck_assert(R.noreply);
    ck_assert_uint_eq(R.mflags, bits("MDJNTCEvtcq"));

    expect_ok("ma foo MI\r\n");
    ck_assert_int_eq(R.mode, REQ_INCR);
    expect_ok("ma foo M+\r\n");
    ck_assert_int_eq(R.mode, REQ_INCR);
    expect_ok("ma foo M-\r\n");
    ck_assert_int_eq(R.mode, REQ_DECR);
    expect_ok("ma foo D0\r\n");
    ck_assert_uint_eq(R.delta, 0);
    expect_ok("ma foo D18446744073709551615\r\n");
    ck_assert_uint_eq(R.delta, UINT64_MAX);
}
END_TEST

START_TEST(test_mn_me)
{
    expect_ok("mn\r\n");
    ck_assert_int_eq(R.op, REQ_NOOP);
    expect_ok("mn foo bar\r\n");
    ck_assert_int_eq(R.op, REQ_NOOP);

    expect_ok("me foo\r\n");
    ck_assert_int_eq(R.op, REQ_META_DEBUG);
    expect_key("foo");
    ck_assert(!R.key_binary);
    expect_ok("me Zm9v b\r\n");
    expect_key("foo");
    ck_assert(R.key_binary);
    /* only a lone "b" third token decodes; anything else is ignored */
    expect_ok("me Zm9v bx\r\n");
    expect_key("Zm9v");
    expect_ok("me Zm9v v b\r\n");
    expect_key("Zm9v");
}
END_TEST

START_TEST(test_request_reset)
{
    /* whatever was in the request before, every field is reset */
    memset(&R, 0xa5, sizeof(R));
    expect_ok("mn\r\n");
    ck_assert_int_eq(R.op, REQ_NOOP);
    ck_assert(!R.noreply && !R.want_cas && !R.touch && !R.return_key);
    ck_assert_int_eq(R.mode, 0);
    ck_assert_ptr_null(R.key);
    ck_assert_ptr_null(R.keys);
    ck_assert_ptr_null(R.value);
    ck_assert_uint_eq(R.nkey + R.keys_len + R.vlen + R.flags, 0);
    ck_assert_int_eq(R.exptime, 0);
    ck_assert_uint_eq(R.cas | R.delta | R.initial | R.number, 0);
    ck_assert(!R.create && !R.key_binary);
    ck_assert_uint_eq(R.bin_opcode + R.bin_opaque + R.bin_status, 0);
    ck_assert_uint_eq(R.mflags | R.new_cas, 0);
    ck_assert_ptr_null(R.mtokens);
    ck_assert_ptr_null(R.opaque);
    ck_assert_uint_eq(R.mtokens_len + R.opaque_len, 0);
    ck_assert_int_eq(R.mmode, 0);
    ck_assert_int_eq(R.vivify_ttl | R.recache_ttl | R.meta_ttl, 0);
    ck_assert_uint_eq(R.swallow + R.need, 0);
    ck_assert_ptr_null(R.err);

    expect_ok("ma foo MD D5 J10 N60 T30 C3 E4 v t c q O1\r\n");
    expect_ok("mg bar\r\n");
    ck_assert_uint_eq(R.delta, 0);
    ck_assert_uint_eq(R.cas, 0);
    ck_assert_uint_eq(R.new_cas, 0);
    ck_assert_int_eq(R.exptime, 0);
    ck_assert(!R.noreply && !R.create);
    ck_assert_uint_eq(R.opaque_len, 0);
    ck_assert_int_eq(R.mmode, 0);
}
END_TEST

/* ---- parser: numbers read as memcached reads them -------------------- */

START_TEST(test_numbers)
{
    expect_ok("ms k 1 F4294967295\r\nx\r\n");
    ck_assert_uint_eq(R.flags, 4294967295u);
    expect_ok("ms k 1 F4294967296\r\nx\r\n");   /* truncated */
    ck_assert_uint_eq(R.flags, 0);
    expect_ok("ms k 1 F+7\r\nx\r\n");
    ck_assert_uint_eq(R.flags, 7);
    expect_ok("ms k 1 T4294967297\r\nx\r\n");   /* truncated */
    ck_assert_int_eq(R.exptime, 1);
    expect_ok("ms k 1 T2147483648\r\nx\r\n");   /* wraps negative */
    ck_assert_int_eq(R.exptime, -2147483648LL);
    expect_ok("ms k 1 T-1\r\nx\r\n");
    ck_assert_int_eq(R.exptime, -1);
    expect_ok("ms k 1 T5\tzz\r\nx\r\n");        /* white space ends it */
    ck_assert_int_eq(R.exptime, 5);
    expect_ok("ms k 1 C18446744073709551615\r\nx\r\n");
    ck_assert_uint_eq(R.cas, UINT64_MAX);
    expect_ok("ms k 1 C-0\r\nx\r\n");
    ck_assert_uint_eq(R.cas, 0);
    expect_ok("ms k 01\r\nx\r\n");
    ck_assert_uint_eq(R.vlen, 1);
    expect_ok("ms k +1\r\nx\r\n");
    ck_assert_uint_eq(R.vlen, 1);
    expect_ok("ms k 4294967297\r\nx\r\n");      /* truncated to 1 */
    ck_assert_uint_eq(R.vlen, 1);
    expect_ok("mg k N-5 R0\r\n");
    ck_assert_int_eq(R.vivify_ttl, -5);
    ck_assert_int_eq(R.recache_ttl, 0);

    expect_swallow("ms k 1 C18446744073709551616\r\nx\r\n",
                   "CLIENT_ERROR bad token in command line format", 3);
    expect_swallow("ms k 1 C-1\r\nx\r\n",
                   "CLIENT_ERROR bad token in command line format", 3);
    expect_swallow("ms k 1 F-1\r\nx\r\n",
                   "CLIENT_ERROR bad command line format", 3);
    expect_swallow("ms k 1 F1x\r\nx\r\n",
                   "CLIENT_ERROR bad command line format", 3);
    expect_swallow("ms k 1 T\r\nx\r\n",
                   "CLIENT_ERROR bad token in command line format", 3);
    expect_swallow("ms k 1 Tabc\r\nx\r\n",
                   "CLIENT_ERROR bad token in command line format", 3);
    expect_swallow("ms k 1 T99999999999999999999\r\nx\r\n",
                   "CLIENT_ERROR bad token in command line format", 3);
    expect_line_err("ma k Dx\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("ma k J-1\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("mg k Jx\r\n",
                    "CLIENT_ERROR invalid numeric initial value");
    expect_line_err("mg k Dx\r\n", "CLIENT_ERROR invalid numeric delta value");
    expect_line_err("mg k Ex\r\n",
                    "CLIENT_ERROR bad token in command line format");
}
END_TEST

/* ---- parser: errors ---------------------------------------------------- */

START_TEST(test_errors_commands)
{
    expect_line_err("mg\r\n", "ERROR");
    expect_line_err("ms\r\n", "ERROR");
    expect_line_err("md\r\n", "ERROR");
    expect_line_err("ma\r\n", "ERROR");
    expect_line_err("mgx foo\r\n", "ERROR");
    expect_line_err("mz foo\r\n", "ERROR");
    expect_line_err("\r\n", "ERROR");
    expect_line_err("me\r\n", "CLIENT_ERROR bad command line format");
    expect_line_err("me foo b\r\n", "CLIENT_ERROR bad command line format");
}
END_TEST

START_TEST(test_errors_key_length)
{
    char line[400];
    char *k250 = repeat('a', 250), *k251 = repeat('a', 251);
    const char *cmds[] = {"mg", "md", "ma", "me"};

    for (size_t i = 0; i < 4; i++) {
        snprintf(line, sizeof(line), "%s %s\r\n", cmds[i], k250);
        expect_ok(line);
        ck_assert_uint_eq(R.nkey, 250);
        snprintf(line, sizeof(line), "%s %s\r\n", cmds[i], k251);
        expect_line_err(line, "CLIENT_ERROR bad command line format");
    }
    /* ms: the data block is not swallowed, as in memcached */
    snprintf(line, sizeof(line), "ms %s 1\r\nx\r\n", k251);
    expect_err(line, "CLIENT_ERROR bad command line format", 3 + 251 + 4, 0);
    /* the limit applies to the base64 token, not the decoded key */
    snprintf(line, sizeof(line), "mg %sAAA= b\r\n", k250);
    expect_line_err(line, "CLIENT_ERROR bad command line format");
    free(k250);
    free(k251);
}
END_TEST

START_TEST(test_errors_flags)
{
    expect_line_err("mg foo v v\r\n", "CLIENT_ERROR duplicate flag");
    expect_line_err("mg foo O1 O2\r\n", "CLIENT_ERROR duplicate flag");
    expect_line_err("mg foo y\r\n", "CLIENT_ERROR invalid flag");
    expect_line_err("mg foo S5\r\n", "CLIENT_ERROR invalid flag");
    expect_line_err("mg foo 1\r\n", "CLIENT_ERROR invalid flag");
    expect_line_err("mg foo +\r\n", "CLIENT_ERROR invalid flag");
    expect_line_err("mg foo \xc3\r\n", "CLIENT_ERROR duplicate flag");
    /* a bad argument does not stop the walk; the last message wins */
    expect_line_err("mg foo Tx Fx\r\n",
                    "CLIENT_ERROR bad token in command line format");
    expect_line_err("mg foo Fx Tx\r\n",
                    "CLIENT_ERROR bad token in command line format");
    expect_line_err("mg foo Fx\r\n", "CLIENT_ERROR bad command line format");
    expect_line_err("mg foo Jx Dx Tx\r\n",
                    "CLIENT_ERROR bad token in command line format");
    expect_line_err("mg foo Nx bx\r\n", "CLIENT_ERROR error decoding key");
    expect_line_err("mg foo Tx y\r\n", "CLIENT_ERROR invalid flag");
    expect_line_err("mg foo Tx v v\r\n", "CLIENT_ERROR duplicate flag");
    expect_line_err("mg foo MEE\r\n",
                    "CLIENT_ERROR incorrect length for M token");
    expect_line_err("mg foo M\r\n",
                    "CLIENT_ERROR incorrect length for M token");
    /* md and ma have one message for every flag problem */
    expect_line_err("md foo q q\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("md foo y\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("md foo Tx\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("ma foo y\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("ma foo v v\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("ma foo MX\r\n",
                    "CLIENT_ERROR invalid mode for ma M token");
    /* mg ignores M's mode letter */
    expect_ok("mg foo MX\r\n");
}
END_TEST

START_TEST(test_errors_base64)
{
    expect_line_err("mg Zm9vYg b v\r\n", "CLIENT_ERROR error decoding key");
    expect_line_err("mg Zm9vYg= b v\r\n", "CLIENT_ERROR error decoding key");
    expect_line_err("mg ==== b\r\n", "CLIENT_ERROR error decoding key");
    expect_line_err("mg A=== b\r\n", "CLIENT_ERROR error decoding key");
    expect_line_err("md !!!! b\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_line_err("ma !!!! b\r\n", "CLIENT_ERROR invalid or duplicate flag");
    expect_err("ms !!!! 1 b\r\nx\r\n", "CLIENT_ERROR error decoding key", 13,
               3);
    /* memcached's leniency */
    expect_ok("mg Zm9v! b\r\n");
    expect_key("foo");
}
END_TEST

START_TEST(test_errors_opaque)
{
    char line[200];
    char *o32 = repeat('x', 31), *o33 = repeat('x', 32);

    snprintf(line, sizeof(line), "mg foo O%s\r\n", o32);
    expect_ok(line);
    ck_assert_uint_eq(R.opaque_len, 32);
    /* mg and ma run; the writer reports the long opaque */
    snprintf(line, sizeof(line), "mg foo O%s\r\n", o33);
    expect_ok(line);
    ck_assert_uint_eq(R.opaque_len, 33);
    snprintf(line, sizeof(line), "ma foo O%s\r\n", o33);
    expect_ok(line);
    snprintf(line, sizeof(line), "md foo O%s\r\n", o33);
    expect_line_err(line, "CLIENT_ERROR opaque token too long");
    snprintf(line, sizeof(line), "ms foo 1 O%s\r\nx\r\n", o33);
    expect_err(line, "CLIENT_ERROR opaque token too long", strlen(line) - 3,
               3);
    /* a bad mode outranks a long opaque */
    snprintf(line, sizeof(line), "ms foo 1 O%s MX\r\nx\r\n", o33);
    expect_err(line, "CLIENT_ERROR invalid mode for ms M token",
               strlen(line) - 3, 3);
    /* opaques longer than a byte can count stay too long */
    {
        char *o300 = repeat('x', 300);
        char big[400];

        snprintf(big, sizeof(big), "mg foo O%s\r\n", o300);
        expect_ok(big);
        ck_assert_uint_gt(R.opaque_len, REQ_OPAQUE_MAX);
        free(o300);
    }
    free(o32);
    free(o33);
}
END_TEST

START_TEST(test_errors_too_many_tokens)
{
    char line[200];

    /* 2 + 17 tokens are fine (the repeat is then the error) */
    snprintf(line, sizeof(line), "mg foo%s\r\n", " v v v v v v v v v v v v v"
                                                 " v v v v");
    expect_line_err(line, "CLIENT_ERROR duplicate flag");
    snprintf(line, sizeof(line), "mg foo%s\r\n", " v v v v v v v v v v v v v"
                                                 " v v v v v");
    expect_line_err(line, "CLIENT_ERROR options flags are too long");
    snprintf(line, sizeof(line), "md foo%s\r\n", " v v v v v v v v v v v v v"
                                                 " v v v v v");
    expect_line_err(line, "CLIENT_ERROR options flags too long");
    snprintf(line, sizeof(line), "ma foo%s\r\n", " v v v v v v v v v v v v v"
                                                 " v v v v v v v v v v v v");
    expect_line_err(line, "CLIENT_ERROR options flags too long");
    /* ms counts its data length: 16 flags is the most; no swallow */
    snprintf(line, sizeof(line), "ms foo 1%s\r\nx\r\n",
             " v v v v v v v v v v v v v v v v");
    expect_err(line, "CLIENT_ERROR duplicate flag", strlen(line) - 3, 3);
    snprintf(line, sizeof(line), "ms foo 1%s\r\nx\r\n",
             " v v v v v v v v v v v v v v v v v");
    expect_err(line, "CLIENT_ERROR options flags too long", strlen(line) - 3,
               0);
}
END_TEST

START_TEST(test_errors_ms)
{
    expect_line_err("ms foo\r\n", "CLIENT_ERROR bad command line format");
    /* bad or negative lengths: nothing to swallow is known */
    expect_err("ms foo bar\r\nhi\r\n", "CLIENT_ERROR bad command line format",
               12, 0);
    expect_err("ms foo -1\r\nhi\r\n", "CLIENT_ERROR bad command line format",
               11, 0);
    expect_err("ms foo 2147483647\r\nhi\r\n",
               "CLIENT_ERROR bad command line format", 19, 0);
    /* flag problems swallow the data block and its line end */
    expect_err("ms foo 2 y\r\nhi\r\n", "CLIENT_ERROR invalid flag", 12, 4);
    expect_err("ms foo 2 v v\r\nhi\r\n", "CLIENT_ERROR duplicate flag", 14, 4);
    expect_err("ms foo 2 S2\r\nhi\r\n", "CLIENT_ERROR invalid flag", 13, 4);
    expect_err("ms foo 2 MX\r\nhi\r\n",
               "CLIENT_ERROR invalid mode for ms M token", 13, 4);
    expect_err("ms foo 2 MEE\r\nhi\r\n",
               "CLIENT_ERROR incorrect length for M token", 14, 4);
    expect_err("ms foo 2 M\r\nhi\r\n",
               "CLIENT_ERROR incorrect length for M token", 12, 4);
    /* a bad data chunk is consumed whole */
    expect_err("ms foo 2\r\nhiX\r\n", "CLIENT_ERROR bad data chunk", 14, 0);
    expect_err("ms foo 2 q\r\nhiX\r\n", "CLIENT_ERROR bad data chunk", 16, 0);
    expect_err("ms foo 0\r\nXY", "CLIENT_ERROR bad data chunk", 12, 0);
}
END_TEST

/* Regression (bad-input catalogue): a NUL byte ends the line, as in
 * memcached, instead of becoming part of a key. */
START_TEST(test_nul_ends_line)
{
    static const char get[] = "mg foo\0bar v\r\n";
    static const char set[] = "ms q\0z 2\r\nhi\r\n";

    ck_assert_int_eq(parse_n(get, sizeof(get) - 1), PARSE_OK);
    ck_assert_uint_eq(R.consumed, sizeof(get) - 1);
    ck_assert_uint_eq(R.nkey, 3);
    ck_assert_int_eq(memcmp(R.key, "foo", 3), 0);
    ck_assert(R.mflags == 0);
    ck_assert_int_eq(parse_n(set, sizeof(set) - 1), PARSE_ERROR);
    ck_assert_str_eq(R.err, "CLIENT_ERROR bad command line format");
    ck_assert_uint_eq(R.consumed, 10);
    ck_assert_uint_eq(R.swallow, 0);
}
END_TEST

/* Regression (found by the bad-input catalogue): an ms over the item size
 * limit was buffered whole (up to 2 GiB) before the store refused it.  It
 * is refused from its line, its block swallowed, and op/mode/key are kept
 * so the executor drops the old value, as memcached does in every mode. */
START_TEST(test_errors_ms_too_large)
{
    meta_setup(100);
    expect_err("ms foo 99\r\n", "SERVER_ERROR object too large for cache",
               11, 101);
    ck_assert_int_eq(R.op, REQ_STORE);
    ck_assert_int_eq(R.mode, REQ_SET);
    ck_assert_uint_eq(R.nkey, 3);
    expect_err("ms foo 1073741824 MA\r\n",
               "SERVER_ERROR object too large for cache", 22,
               UINT64_C(1073741826));
    ck_assert_int_eq(R.mode, REQ_APPEND);
    /* flag errors still come first, as in memcached */
    expect_err("ms foo 200 MX\r\n",
               "CLIENT_ERROR invalid mode for ms M token", 15, 202);
    /* at the limit: waits for the block */
    ck_assert_int_eq(parse("ms foo 98\r\n"), PARSE_AGAIN);
    meta_setup(0);
    ck_assert_int_eq(parse("ms foo 1048574\r\n"), PARSE_VALUE);
    ck_assert_uint_eq(R.consumed, 16);
    ck_assert_uint_eq(R.vlen, 1048574);
    ck_assert_uint_eq(R.vtrail, 2);
    expect_err("ms foo 1048575\r\n", "SERVER_ERROR object too large for cache",
               16, 1048577);
}
END_TEST

/* ---- parser: incomplete input ------------------------------------------ */

static void
expect_again_at_every_split(const char *s, size_t line_len)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++) {
        int rc = parse_n(s, i);

        ck_assert_msg(rc == PARSE_AGAIN, "'%s' cut at %zu: rc %d", s, i, rc);
        ck_assert_uint_eq(R.consumed, 0);
        if (i >= line_len) {
            ck_assert_uint_eq(R.need, n);
        } else {
            ck_assert_uint_eq(R.need, 0);
        }
    }
    expect_ok(s);
}

START_TEST(test_again_split_points)
{
    const char *ms = "ms foo 5 T1 c\r\nhello\r\n";

    expect_again_at_every_split("mg foo v k O1\r\n", 15);
    expect_again_at_every_split("md foo q\r\n", 10);
    expect_again_at_every_split("ma foo D2\r\n", 11);
    expect_again_at_every_split("mn\r\n", 4);
    expect_again_at_every_split("me foo\r\n", 8);
    expect_again_at_every_split(ms, 15);
    expect_again_at_every_split("ms foo 0\r\n\r\n", 10);

    /* pipelined: the first request only */
    {
        const char *two = "ms a 1\r\nx\r\nmg a v\r\n";

        ck_assert_int_eq(parse(two), PARSE_OK);
        ck_assert_uint_eq(R.consumed, 11);
        ck_assert_int_eq(parse(two + 11), PARSE_OK);
        ck_assert_int_eq(R.op, REQ_GET);
    }
}
END_TEST

START_TEST(test_line_too_long)
{
    char *junk = repeat('v', META_LINE_MAX + 1);

    memcpy(junk, "mg foo ", 7);
    ck_assert_int_eq(parse_n(junk, META_LINE_MAX), PARSE_AGAIN);
    ck_assert_int_eq(parse(junk), PARSE_CLOSE);
    ck_assert_ptr_null(R.err);
    free(junk);
}
END_TEST

START_TEST(test_is_command)
{
    ck_assert(meta_is_command("mg foo", 6));
    ck_assert(meta_is_command("ms foo 1", 8));
    ck_assert(meta_is_command("md foo", 6));
    ck_assert(meta_is_command("ma foo", 6));
    ck_assert(meta_is_command("mn\r\n", 4));
    ck_assert(meta_is_command("mn\n", 3));
    ck_assert(meta_is_command("me foo", 6));
    ck_assert(!meta_is_command("mx foo", 6));
    ck_assert(!meta_is_command("mgx foo", 7));
    ck_assert(!meta_is_command("get foo", 7));
    ck_assert(!meta_is_command("mg", 2));
}
END_TEST

/* ---- writer ------------------------------------------------------------ */

static char wbuf[8192];

/* Run the writer and return the bytes it queued, NUL-terminated. */
static const char *
reply(const struct result *res)
{
    struct out o;
    struct iovec iov[64];
    size_t n = 0;
    int k;

    out_init(&o);
    meta_proto.reply(&o, &R, res);
    ck_assert(!o.oom);
    k = out_iov(&o, iov, 64);
    for (int i = 0; i < k; i++) {
        memcpy(wbuf + n, iov[i].iov_base, iov[i].iov_len);
        n += iov[i].iov_len;
    }
    wbuf[n] = '\0';
    ck_assert_uint_eq(n, o.pending);
    out_free(&o);
    return wbuf;
}

static struct res_slice slice_abc = {"abc", 3};

/* A hit on "foo" = "abc", flags 5, CAS 1, no expiry. */
static struct result
hit_foo(void)
{
    struct result r = {0};

    r.code = RES_VALUE;
    r.key = "foo";
    r.nkey = 3;
    r.flags = 5;
    r.cas = 1;
    r.slices = &slice_abc;
    r.nslices = 1;
    r.vlen = 3;
    r.ttl_left = -1;
    r.last_access = 1;
    return r;
}

static struct result
code(uint8_t c)
{
    struct result r = {0};

    r.code = c;
    return r;
}

START_TEST(test_write_mg_hit)
{
    struct result r = hit_foo();

    expect_ok("mg foo s v t f c h l k O1\r\n");
    ck_assert_str_eq(reply(&r), "VA 3 s3 t-1 f5 c1 h0 l1 kfoo O1\r\nabc\r\n");
    expect_ok("mg foo O1 k l h c f t v s\r\n");
    ck_assert_str_eq(reply(&r), "VA 3 O1 kfoo l1 h0 c1 f5 t-1 s3\r\nabc\r\n");
    expect_ok("mg foo\r\n");
    ck_assert_str_eq(reply(&r), "HD\r\n");
    /* q does not hide a hit */
    expect_ok("mg foo q\r\n");
    ck_assert_str_eq(reply(&r), "HD\r\n");
    expect_ok("mg foo v q\r\n");
    ck_assert_str_eq(reply(&r), "VA 3\r\nabc\r\n");
    /* flags that return nothing are not echoed */
    r.fetched = true;
    r.ttl_left = 29;
    r.last_access = 1234567;
    expect_ok("mg foo u P1 L2 N5 R5 T5 E5 q h t l\r\n");
    ck_assert_str_eq(reply(&r), "HD h1 t29 l1234567\r\n");
    /* large numbers */
    r.cas = UINT64_MAX;
    r.flags = UINT32_MAX;
    expect_ok("mg foo c f\r\n");
    ck_assert_str_eq(reply(&r), "HD c18446744073709551615 f4294967295\r\n");
}
END_TEST

START_TEST(test_write_mg_value_slices)
{
    struct res_slice sl[3] = {{"he", 2}, {"ll", 2}, {"o", 1}};
    struct result r = hit_foo();

    r.slices = sl;
    r.nslices = 3;
    r.vlen = 5;
    expect_ok("mg foo v s\r\n");
    ck_assert_str_eq(reply(&r), "VA 5 s5\r\nhello\r\n");

    /* a vivified placeholder: empty value, won */
    r = hit_foo();
    r.slices = NULL;
    r.nslices = 0;
    r.vlen = 0;
    r.cas = 36;
    r.ttl_left = 30;
    r.win = true;
    r.key = "L1";
    r.nkey = 2;
    expect_ok("mg L1 N30 v c t s k O1\r\n");
    ck_assert_str_eq(reply(&r), "VA 0 c36 t30 s0 kL1 O1 W\r\n\r\n");
}
END_TEST

START_TEST(test_write_mg_lease_flags)
{
    struct result r = hit_foo();

    r.cas = 36;
    r.lease_lost = true;
    expect_ok("mg foo v c t O2\r\n");
    r.ttl_left = 30;
    r.slices = NULL;
    r.nslices = 0;
    r.vlen = 0;
    ck_assert_str_eq(reply(&r), "VA 0 c36 t30 O2 Z\r\n\r\n");

    r = hit_foo();
    r.cas = 38;
    r.stale = true;
    r.win = true;
    expect_ok("mg foo v c\r\n");
    ck_assert_str_eq(reply(&r), "VA 3 c38 X W\r\nabc\r\n");
    r.win = false;
    r.lease_lost = true;
    ck_assert_str_eq(reply(&r), "VA 3 c38 Z X\r\nabc\r\n");

    /* stale, already won, quiet, key echoed */
    r = hit_foo();
    r.cas = 41;
    r.stale = true;
    r.win = true;
    r.key = "L2";
    r.nkey = 2;
    expect_ok("mg L2 c q k\r\n");
    ck_assert_str_eq(reply(&r), "HD c41 kL2 X W\r\n");
}
END_TEST

START_TEST(test_write_mg_miss)
{
    struct result r = code(RES_MISS);

    expect_ok("mg foo v\r\n");
    ck_assert_str_eq(reply(&r), "EN\r\n");
    expect_ok("mg foo O123 k\r\n");
    ck_assert_str_eq(reply(&r), "EN O123 kfoo\r\n");
    expect_ok("mg foo k O123 s t c v\r\n");
    ck_assert_str_eq(reply(&r), "EN kfoo O123\r\n");
    expect_ok("mg foo v k O123 q\r\n");
    ck_assert_str_eq(reply(&r), "");
    expect_ok("mg bm9wZQ== b k O1\r\n");
    ck_assert_str_eq(reply(&r), "EN kbm9wZQ== b O1\r\n");
    /* the echo re-encodes the decoded key */
    expect_ok("mg AB== b k\r\n");
    ck_assert_str_eq(reply(&r), "EN kAA== b\r\n");
}
END_TEST

START_TEST(test_write_mg_binary_key)
{
    struct result r = hit_foo();

    r.key = "foob";
    r.nkey = 4;
    r.key_binary = true;
    r.vlen = 3;
    expect_ok("mg Zm9vYg== b k v\r\n");
    ck_assert_str_eq(reply(&r), "VA 3 kZm9vYg== b\r\nabc\r\n");
    /* a binary item looked up by its raw key is still echoed in base64 */
    expect_ok("mg foob k v\r\n");
    ck_assert_str_eq(reply(&r), "VA 3 kZm9vYg== b\r\nabc\r\n");
    /* a plain item looked up through b is echoed plain */
    r = hit_foo();
    expect_ok("mg Zm9v b k v\r\n");
    ck_assert_str_eq(reply(&r), "VA 3 kfoo\r\nabc\r\n");
}
END_TEST

START_TEST(test_write_opaque_too_long)
{
    char line[100];
    char *o33 = repeat('x', 32);
    struct result hit = hit_foo(), miss = code(RES_MISS);
    struct result num = code(RES_NUMBER);
    struct result nn = code(RES_E_NON_NUMERIC);

    snprintf(line, sizeof(line), "mg foo v q O%s\r\n", o33);
    expect_ok(line);
    ck_assert_str_eq(reply(&hit), "CLIENT_ERROR opaque token too long\r\n");
    ck_assert_str_eq(reply(&miss), "CLIENT_ERROR opaque token too long\r\n");
    snprintf(line, sizeof(line), "ma foo O%s\r\n", o33);
    expect_ok(line);
    ck_assert_str_eq(reply(&num), "CLIENT_ERROR opaque token too long\r\n");
    /* an execution error comes first */
    ck_assert_str_eq(reply(&nn), "CLIENT_ERROR cannot increment or "
                                 "decrement non-numeric value\r\n");
    free(o33);
}
END_TEST

START_TEST(test_write_ms)
{
    struct result r = code(RES_STORED);

    r.cas = 1;
    expect_ok("ms foo 3 T0 F5 c k O9\r\nabc\r\n");
    ck_assert_str_eq(reply(&r), "HD c1 kfoo O9\r\n");
    expect_ok("ms foo 3\r\nabc\r\n");
    ck_assert_str_eq(reply(&r), "HD\r\n");
    expect_ok("ms foo 3 q c\r\nabc\r\n");
    ck_assert_str_eq(reply(&r), "");
    expect_ok("ms Zm9vYg== 2 b k c\r\nhi\r\n");
    r.cas = 5;
    ck_assert_str_eq(reply(&r), "HD kZm9vYg== b c5\r\n");

    /* failures report c0 and are never hidden */
    r = code(RES_NOT_STORED);
    r.cas = 77;
    expect_ok("ms newkey11 1 MA C5 c k O1\r\nx\r\n");
    ck_assert_str_eq(reply(&r), "NS c0 knewkey11 O1\r\n");
    expect_ok("ms k 1 MR q\r\nx\r\n");
    ck_assert_str_eq(reply(&r), "NS\r\n");
    r = code(RES_EXISTS);
    expect_ok("ms e1 1 C1 c q\r\ny\r\n");
    ck_assert_str_eq(reply(&r), "EX c0\r\n");
    r = code(RES_NOT_FOUND);
    expect_ok("ms e1 1 C1\r\ny\r\n");
    ck_assert_str_eq(reply(&r), "NF\r\n");
}
END_TEST

START_TEST(test_write_md)
{
    struct result del = code(RES_DELETED), nf = code(RES_NOT_FOUND);
    struct result ex = code(RES_EXISTS);

    expect_ok("md foo\r\n");
    ck_assert_str_eq(reply(&del), "HD\r\n");
    expect_ok("md foo k O1 c t\r\n");
    ck_assert_str_eq(reply(&del), "HD kfoo O1\r\n");
    ck_assert_str_eq(reply(&nf), "NF kfoo O1\r\n");
    ck_assert_str_eq(reply(&ex), "EX kfoo O1\r\n");
    expect_ok("md nokey q k O5\r\n");
    ck_assert_str_eq(reply(&del), "");
    ck_assert_str_eq(reply(&nf), "NF knokey O5\r\n");
    ck_assert_str_eq(reply(&ex), "EX knokey O5\r\n");
    expect_ok("md foo I T30 q\r\n");
    {
        struct result ok = code(RES_OK);

        ck_assert_str_eq(reply(&ok), "");
    }
}
END_TEST

START_TEST(test_write_ma)
{
    struct result r = code(RES_NUMBER);

    r.number = 10;
    r.cas = 20;
    r.ttl_left = -1;
    expect_ok("ma c1 N0 J10 v\r\n");
    ck_assert_str_eq(reply(&r), "VA 2\r\n10\r\n");
    r.number = 8;
    expect_ok("ma c1 MD D3 v t c\r\n");
    ck_assert_str_eq(reply(&r), "VA 1 t-1 c20\r\n8\r\n");
    r.number = 111;
    r.cas = 27;
    expect_ok("ma c1 s f h l u R5 F1 I k O1 v c t\r\n");
    ck_assert_str_eq(reply(&r), "VA 3 kc1 O1 c27 t-1\r\n111\r\n");
    expect_ok("ma c1\r\n");
    ck_assert_str_eq(reply(&r), "HD\r\n");
    expect_ok("ma c1 c k\r\n");
    ck_assert_str_eq(reply(&r), "HD c27 kc1\r\n");
    r.number = UINT64_MAX;
    expect_ok("ma c1 v\r\n");
    ck_assert_str_eq(reply(&r), "VA 20\r\n18446744073709551615\r\n");
    r.number = 0;
    ck_assert_str_eq(reply(&r), "VA 1\r\n0\r\n");

    /* q hides the number, unless the key was just created */
    expect_ok("ma c1 q v\r\n");
    ck_assert_str_eq(reply(&r), "");
    r.created = true;
    ck_assert_str_eq(reply(&r), "VA 1\r\n0\r\n");
    expect_ok("ma newk1 N0 q\r\n");
    ck_assert_str_eq(reply(&r), "HD\r\n");

    {
        struct result nf = code(RES_NOT_FOUND), ex = code(RES_EXISTS);
        struct result ns = code(RES_NOT_STORED);

        expect_ok("ma nokey q k O2 v c t\r\n");
        ck_assert_str_eq(reply(&nf), "NF knokey O2\r\n");
        ck_assert_str_eq(reply(&ex), "EX knokey O2\r\n");
        ck_assert_str_eq(reply(&ns), "NS knokey O2\r\n");
    }
}
END_TEST

START_TEST(test_write_mn_me)
{
    struct result r = code(RES_NOOP);

    expect_ok("mn\r\n");
    ck_assert_str_eq(reply(&r), "MN\r\n");

    r = hit_foo();
    r.cas = 45;
    r.ttl_left = -1;
    r.last_access = 0;
    r.fetched = false;
    r.slab_class = 1;
    r.item_size = 65;
    expect_ok("me foo\r\n");
    ck_assert_str_eq(reply(&r),
                     "ME foo exp=-1 la=0 cas=45 fetch=no cls=1 size=65\r\n");
    r.ttl_left = 100;
    r.fetched = true;
    r.last_access = 39;
    ck_assert_str_eq(reply(&r),
                     "ME foo exp=-100 la=39 cas=45 fetch=yes cls=1 "
                     "size=65\r\n");
    r.key = "foob";
    r.nkey = 4;
    r.key_binary = true;
    r.ttl_left = -1;
    expect_ok("me Zm9vYg== b\r\n");
    ck_assert_str_eq(reply(&r), "ME Zm9vYg== exp=-1 la=39 cas=45 fetch=yes "
                                "cls=1 size=65\r\n");
    r = code(RES_MISS);
    ck_assert_str_eq(reply(&r), "EN\r\n");

    /* Regression (fuzz_meta): a hit without the stored key echoes the
     * request's key, base64 when it came so, never the raw bytes. */
    r = hit_foo();
    r.key = NULL;
    r.nkey = 0;
    r.ttl_left = -1;
    r.slab_class = 1;
    r.item_size = 65;
    expect_ok("me Cg0KDQ== b\r\n");
    ck_assert_str_eq(reply(&r), "ME Cg0KDQ== exp=-1 la=1 cas=1 fetch=no "
                                "cls=1 size=65\r\n");
}
END_TEST

START_TEST(test_write_errors)
{
    struct result r;

    expect_ok("ms foo 1 q\r\nx\r\n");
    r = code(RES_E_TOO_LARGE);
    ck_assert_str_eq(reply(&r), "SERVER_ERROR object too large for cache\r\n");
    r = code(RES_E_NOMEM);
    ck_assert_str_eq(reply(&r),
                     "SERVER_ERROR out of memory storing object\r\n");
    expect_ok("ma foo q\r\n");
    ck_assert_str_eq(reply(&r), "SERVER_ERROR out of memory\r\n");
    r = code(RES_E_NON_NUMERIC);
    ck_assert_str_eq(reply(&r), "CLIENT_ERROR cannot increment or decrement "
                                "non-numeric value\r\n");
    r = code(RES_E_UNKNOWN);
    ck_assert_str_eq(reply(&r), "ERROR\r\n");
    r = code(RES_E_MSG);
    r.msg = "SERVER_ERROR refcount overflow during fetch";
    expect_ok("mg foo q\r\n");
    ck_assert_str_eq(reply(&r),
                     "SERVER_ERROR refcount overflow during fetch\r\n");
}
END_TEST

START_TEST(test_write_error_op_and_end)
{
    struct out o;
    struct iovec iov[4];
    char got[64];
    size_t n = 0;
    int k;

    expect_err("mg foo v v\r\n", "CLIENT_ERROR duplicate flag", 12, 0);
    out_init(&o);
    meta_proto.error(&o, &R, R.err);
    meta_proto.end(&o, &R);
    meta_proto.error(&o, &R, NULL);
    k = out_iov(&o, iov, 4);
    for (int i = 0; i < k; i++) {
        memcpy(got + n, iov[i].iov_base, iov[i].iov_len);
        n += iov[i].iov_len;
    }
    got[n] = '\0';
    out_free(&o);
    ck_assert_str_eq(got, "CLIENT_ERROR duplicate flag\r\n");
    ck_assert_ptr_eq(meta_proto.parse, meta_parse);
}
END_TEST

/* Parse then write: what a client sees for a whole exchange. */
START_TEST(test_round_trip_pipeline)
{
    const char *in = "ms a 3 c k\r\nabc\r\nmg a v k c q\r\nmg b v q k\r\n"
                     "mn\r\n";
    const char *p = in;
    char all[512] = "";
    struct result res[4];

    res[0] = code(RES_STORED);
    res[0].cas = 7;
    res[1] = hit_foo();
    res[1].key = "a";
    res[1].nkey = 1;
    res[1].cas = 7;
    res[2] = code(RES_MISS);
    res[3] = code(RES_NOOP);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(parse(p), PARSE_OK);
        p += R.consumed;
        strcat(all, reply(&res[i]));
    }
    ck_assert_ptr_eq(p, in + strlen(in));
    ck_assert_str_eq(all, "HD c7 ka\r\nVA 3 ka c7\r\nabc\r\nMN\r\n");
}
END_TEST

static Suite *
meta_suite(void)
{
    Suite *s = suite_create("meta");
    TCase *p = tcase_create("parse");
    TCase *e = tcase_create("errors");
    TCase *w = tcase_create("write");

    tcase_add_test(p, test_mg_all_flags);
    tcase_add_test(p, test_mg_plain);
    tcase_add_test(p, test_mg_base64_key);
    tcase_add_test(p, test_ms_round_trip);
    tcase_add_test(p, test_ms_modes);
    tcase_add_test(p, test_md_round_trip);
    tcase_add_test(p, test_ma_round_trip);
    tcase_add_test(p, test_mn_me);
    tcase_add_test(p, test_request_reset);
    tcase_add_test(p, test_numbers);
    tcase_add_test(p, test_again_split_points);
    tcase_add_test(p, test_line_too_long);
    tcase_add_test(p, test_is_command);
    suite_add_tcase(s, p);

    tcase_add_test(e, test_errors_commands);
    tcase_add_test(e, test_errors_key_length);
    tcase_add_test(e, test_errors_flags);
    tcase_add_test(e, test_errors_base64);
    tcase_add_test(e, test_errors_opaque);
    tcase_add_test(e, test_errors_too_many_tokens);
    tcase_add_test(e, test_errors_ms);
    tcase_add_test(e, test_errors_ms_too_large);
    tcase_add_test(e, test_nul_ends_line);
    suite_add_tcase(s, e);

    tcase_add_test(w, test_write_mg_hit);
    tcase_add_test(w, test_write_mg_value_slices);
    tcase_add_test(w, test_write_mg_lease_flags);
    tcase_add_test(w, test_write_mg_miss);
    tcase_add_test(w, test_write_mg_binary_key);
    tcase_add_test(w, test_write_opaque_too_long);
    tcase_add_test(w, test_write_ms);
    tcase_add_test(w, test_write_md);
    tcase_add_test(w, test_write_ma);
    tcase_add_test(w, test_write_mn_me);
    tcase_add_test(w, test_write_errors);
    tcase_add_test(w, test_write_error_op_and_end);
    tcase_add_test(w, test_round_trip_pipeline);
    suite_add_tcase(s, w);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(meta_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
