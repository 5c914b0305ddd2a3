#!/usr/bin/python3
"""The bad-input catalogue: malformed requests in the text, meta and binary
protocols, each with memcached 1.6.18's exact reply.

Every case runs on a fresh connection to one server and asserts

  - the exact reply bytes (established against /usr/bin/memcached 1.6.18:
    the test passes with STASHD_TARGET=memcached);
  - what happens to the connection afterwards: still usable (a `version`
    or a binary no-op gets its answer), closed by the server, or still
    swallowing a refused data block (nothing answers, nothing closes);
  - that a canary item stored before the first case is intact afterwards,
    read on a fresh connection;

and at the end that the server is alive, its RSS did not balloon (1 GiB
declared lengths, 1 MiB lines) and it stops cleanly (no sanitizer report).

A case is (name, protocol, steps, after) where steps is a list of
(bytes sent, exact reply expected) and after is OPEN, CLOSED or SWALLOWING.
Where stashd deliberately differs from memcached the case carries the
stashd reply in STASHD_DIFFERS with the reason; none of those is a crash
or a lost item.

    python3 test_badinput.py            run (TAP)
    python3 test_badinput.py --record   print what the server under test
                                        answers for each case (to establish
                                        expectations; slow: waits for quiet)
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

OPEN, CLOSED, SWALLOWING = "open", "closed", "swallowing"

CANARY_KEY = b"canary:badinput"
CANARY_VAL = b"the canary must survive every malformed request"
CANARY_FLAGS = 4242

# ---- binary helpers -----------------------------------------------------

HDR = struct.Struct(">BBHBBHIIQ")
OPQ = 0x0badf00d

B_GET, B_SET, B_ADD, B_DELETE, B_INCR, B_QUIT, B_FLUSH = \
    0x00, 0x01, 0x02, 0x04, 0x05, 0x07, 0x08
B_NOOP, B_VERSION, B_APPEND, B_STAT, B_VERBOSITY, B_TOUCH, B_GAT = \
    0x0a, 0x0b, 0x0e, 0x10, 0x1b, 0x1c, 0x1d
B_SASL_LIST, B_SETQ = 0x20, 0x11

ST_ENOENT, ST_E2BIG, ST_EINVAL, ST_BADVAL, ST_UNKNOWN = 1, 3, 4, 6, 0x81
ST_TEXT = {ST_ENOENT: b"Not found", ST_E2BIG: b"Too large.",
           ST_EINVAL: b"Invalid arguments",
           ST_BADVAL: b"Non-numeric server-side value for incr or decr",
           ST_UNKNOWN: b"Unknown command"}


def breq(op, key=b"", extras=b"", value=b"", magic=0x80, bodylen=None,
         keylen=None, extlen=None, opaque=OPQ, cas=0):
    body = extras + key + value
    return HDR.pack(magic, op, len(key) if keylen is None else keylen,
                    len(extras) if extlen is None else extlen, 0, 0,
                    len(body) if bodylen is None else bodylen,
                    opaque, cas) + body


def bres(op, status=0, value=b"", key=b"", extras=b"", opaque=OPQ, cas=0):
    """An expected response packet; error statuses carry memcached's text
    when value is not given."""
    if status and not value:
        value = ST_TEXT[status]
    body = extras + key + value
    return HDR.pack(0x81, op, len(key), len(extras), 0, status, len(body),
                    opaque, cas) + body


def bset(key, value, flags=0, exptime=0, op=B_SET):
    return breq(op, key, struct.pack(">II", flags, exptime), value)


def bsetq(key, value):
    """A quiet set: no reply when it works (a reply would carry a CAS that
    depends on what ran before)."""
    return bset(key, value, op=B_SETQ)


BIN_PROBE = breq(B_NOOP, opaque=0x70be)
BIN_PROBE_REPLY = bres(B_NOOP, opaque=0x70be)
TEXT_PROBE = b"version\r\n"
TEXT_PROBE_REPLY = b"VERSION 1.6.18\r\n"

K251 = b"k" * 251
K250 = b"k" * 250
MB = 1 << 20
GB = 1 << 30
LONG_OPAQUE = b"O" + b"x" * 40

# ---- the catalogue ------------------------------------------------------

CASES = []


def case(name, proto, steps, after):
    CASES.append((name, proto, steps, after))


# Keys --------------------------------------------------------------------
case("get: key of 251 bytes", "text",
     [(b"get " + K251 + b"\r\n",
       b"CLIENT_ERROR bad command line format\r\n")], OPEN)
case("get: 250-byte key is fine", "text",
     [(b"get " + K250 + b"\r\n", b"END\r\n")], OPEN)
case("set: key of 251 bytes, data line then read as a command", "text",
     [(b"set " + K251 + b" 0 0 1\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: 250-byte key stored", "text",
     [(b"set " + K250 + b" 0 0 1\r\nx\r\n", b"STORED\r\n")], OPEN)
case("delete: key of 251 bytes", "text",
     [(b"delete " + K251 + b"\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("incr: key of 251 bytes", "text",
     [(b"incr " + K251 + b" 1\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("touch: key of 251 bytes", "text",
     [(b"touch " + K251 + b" 10\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("gat: key of 251 bytes", "text",
     [(b"gat 10 " + K251 + b"\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("get: second of three keys too long", "text",
     [(b"get a " + K251 + b" c\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("set/get: control characters in a key", "text",
     [(b"set k\x01\x02ey 0 0 1\r\nx\r\nget k\x01\x02ey\r\n", b'STORED\r\nVALUE k\x01\x02ey 0 1\r\nx\r\nEND\r\n')], OPEN)
case("set/get: tab and DEL inside a key", "text",
     [(b"set a\tb\x7f 0 0 2\r\nhi\r\nget a\tb\x7f\r\n", b'STORED\r\nVALUE a\tb\x7f 0 2\r\nhi\r\nEND\r\n')], OPEN)
case("get: a NUL byte ends the line", "text",
     [(b"get canary:badinput\x00junk\r\n", 
       b'VALUE canary:badinput 4242 47\r\nthe canary must survive every malformed request\r\nEND\r\n')], OPEN)

# Missing and extra tokens -------------------------------------------------
case("get: no key", "text", [(b"get\r\n", b"ERROR\r\n")], OPEN)
case("set: missing length", "text", [(b"set k 0 0\r\n", b'ERROR\r\n')], OPEN)
case("cas: missing cas unique", "text",
     [(b"cas k 0 0 1\r\nx\r\n", b'ERROR\r\nERROR\r\n')], OPEN)
case("incr: missing delta", "text", [(b"incr k\r\n", b'ERROR\r\n')], OPEN)
case("touch: missing exptime", "text", [(b"touch k\r\n", b'ERROR\r\n')], OPEN)
case("delete: no key", "text", [(b"delete\r\n", b'ERROR\r\n')], OPEN)
case("verbosity: no level", "text", [(b"verbosity\r\n", b'ERROR\r\n')], OPEN)
case("set: an extra token after noreply", "text",
     [(b"set k 0 0 1 noreply extra\r\nx\r\n", b'ERROR\r\nERROR\r\n')], OPEN)
case("incr: extra tokens", "text", [(b"incr k 1 2 3\r\n", b'ERROR\r\n')], OPEN)
case("delete: hold time other than 0", "text",
     [(b"delete k 5\r\n", 
       b'CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n')], OPEN)
case("delete: too many tokens", "text",
     [(b"delete k 0 noreply extra\r\n", b'ERROR\r\n')], OPEN)
case("touch: extra tokens", "text", [(b"touch k 1 2 3\r\n", b'ERROR\r\n')], OPEN)
case("set: 30 tokens", "text",
     [(b"set k 0 0 1" + b" x" * 26 + b"\r\nx\r\n", b'ERROR\r\nERROR\r\n')], OPEN)
case("unknown command", "text", [(b"bogus k\r\n", b"ERROR\r\n")], OPEN)
case("empty line", "text", [(b"\r\n", b'ERROR\r\n')], OPEN)
case("line of spaces", "text", [(b"      \r\n", b'ERROR\r\n')], OPEN)
case("bare LF line end", "text",
     [(b"set lf 0 0 1\nx\r\nget lf\n", b'STORED\r\nVALUE lf 0 1\r\nx\r\nEND\r\n')], OPEN)
case("upper-case command", "text", [(b"GET k\r\n", b'ERROR\r\n')], OPEN)
case("tab as a separator", "text", [(b"get\tk\r\n", b'ERROR\r\n')], OPEN)

# Numbers: flags ---------------------------------------------------------
case("set: non-numeric flags", "text",
     [(b"set k abc 0 1\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: negative flags", "text",
     [(b"set k -1 0 1\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: flags 2^32 wrap to 0", "text",
     [(b"set fl 4294967296 0 1\r\nx\r\nget fl\r\n", b'STORED\r\nVALUE fl 0 1\r\nx\r\nEND\r\n')], OPEN)
case("set: flags over 64 bits", "text",
     [(b"set k 99999999999999999999 0 1\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
# exptime
case("set: non-numeric exptime", "text",
     [(b"set k 0 abc 1\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: exptime over 64 bits", "text",
     [(b"set k 0 99999999999999999999 1\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: negative exptime stores an expired item", "text",
     [(b"set ex 0 -1 1\r\nx\r\nget ex\r\n", b'STORED\r\nEND\r\n')], OPEN)
case("touch: non-numeric exptime", "text",
     [(b"touch k abc\r\n", b'CLIENT_ERROR invalid exptime argument\r\n')], OPEN)
case("gat: non-numeric exptime", "text", [(b"gat abc k\r\n", b'CLIENT_ERROR invalid exptime argument\r\n')], OPEN)
case("flush_all: non-numeric delay", "text",
     [(b"flush_all abc\r\n", b'CLIENT_ERROR invalid exptime argument\r\n')], OPEN)
# length
case("set: non-numeric length", "text",
     [(b"set k 0 0 abc\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: negative length", "text",
     [(b"set k 0 0 -1\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: length INT_MAX", "text",
     [(b"set k 0 0 2147483647\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("set: length 2^32 wraps to 0", "text",
     [(b"set wl 0 0 4294967296\r\n\r\nget wl\r\n", b'STORED\r\nVALUE wl 0 0\r\n\r\nEND\r\n')], OPEN)
case("set: length with trailing garbage", "text",
     [(b"set k 0 0 1x\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("set: 1 GB declared length is refused and swallowed", "text",
     [(b"set big 0 0 %d\r\n" % GB, b'')], SWALLOWING)
case("set: 2 MB value refused, data swallowed, old value gone", "text",
     [(b"set tl 0 0 1\r\nx\r\nset tl 0 0 %d\r\n" % (2 * MB) +
       b"y" * (2 * MB) + b"\r\nget tl\r\n", 
       b'STORED\r\nSERVER_ERROR object too large for cache\r\nEND\r\n')], OPEN)
# CAS
case("cas: non-numeric unique", "text",
     [(b"cas k 0 0 1 abc\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("cas: negative unique", "text",
     [(b"cas k 0 0 1 -5\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
case("cas: unique over 64 bits", "text",
     [(b"cas k 0 0 1 18446744073709551616\r\nx\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')], OPEN)
# delta
case("incr: non-numeric delta", "text", [(b"incr k abc\r\n", b'CLIENT_ERROR invalid numeric delta argument\r\n')], OPEN)
case("decr: negative delta", "text", [(b"decr k -1\r\n", b'CLIENT_ERROR invalid numeric delta argument\r\n')], OPEN)
case("incr: delta over 64 bits", "text",
     [(b"incr k 18446744073709551616\r\n", b'CLIENT_ERROR invalid numeric delta argument\r\n')], OPEN)
case("incr: on a non-numeric value", "text",
     [(b"set nn 0 0 3\r\nabc\r\nincr nn 1\r\n", 
       b'STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n')], OPEN)
case("incr: wraps at 2^64", "text",
     [(b"set wr 0 0 20\r\n18446744073709551615\r\nincr wr 2\r\n", b'STORED\r\n1\r\n')],
     OPEN)
case("verbosity: non-numeric", "text", [(b"verbosity abc\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("cache_memlimit: non-numeric", "text",
     [(b"cache_memlimit abc\r\n", b'ERROR\r\n')], OPEN)
# noreply silences errors
case("set noreply: bad flags answered by silence", "text",
     [(b"set k abc 0 1 noreply\r\nx\r\n", b'ERROR\r\n')], OPEN)
case("incr noreply: bad delta answered by silence", "text",
     [(b"incr k abc noreply\r\n", b'')], OPEN)

# Data blocks --------------------------------------------------------------
case("set: data block longer than declared", "text",
     [(b"set k 0 0 3\r\nabcdef\r\n", b'CLIENT_ERROR bad data chunk\r\nERROR\r\n')], OPEN)
case("set: data block shorter than declared", "text",
     [(b"set k 0 0 10\r\nabc\r\nget k\r\n", b'STORED\r\n')], OPEN)
case("set: data block without CRLF", "text",
     [(b"set k 0 0 3\r\nabcXY", b'CLIENT_ERROR bad data chunk\r\n')], OPEN)
case("set: data block ending in LF only", "text",
     [(b"set k 0 0 3\r\nabc\nX", b'CLIENT_ERROR bad data chunk\r\n')], OPEN)

# Long lines ---------------------------------------------------------------
case("a 1 MB line without newline closes", "text",
     [(b"x" * MB, b"")], CLOSED)
case("a 1 MB 'set' line without newline closes", "text",
     [(b"set " + b"k" * MB, b"")], CLOSED)
case("get with 100000 keys (multigets are unbounded)", "text",
     [(b"get" + b" m" * 100000 + b"\r\n", b"END\r\n")], OPEN)

# HTTP ---------------------------------------------------------------------
case("HTTP/1.1 GET request line closes silently", "text",
     [(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", b"")], CLOSED)
case("HTTP/1.0 POST request line closes silently", "text",
     [(b"POST /index.html HTTP/1.0\r\n", b"")], CLOSED)
case("HTTP request line without a version is an unknown command", "text",
     [(b"GET /\r\n", b'ERROR\r\n')], OPEN)
case("HTTP/ as the last of many tokens", "text",
     [(b"HEAD / a b c d e f HTTP/1.1\r\n", b'')], CLOSED)
case("get with an HTTP/ key is a get", "text",
     [(b"get HTTP/1.1\r\n", b"END\r\n")], OPEN)

# Meta ---------------------------------------------------------------------
case("mg: key of 251 bytes", "text",
     [(b"mg " + K251 + b" v\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("mg: base64 garbage key", "text", [(b"mg !!!! b v\r\n", b'CLIENT_ERROR error decoding key\r\n')], OPEN)
case("mg: base64 key of bad length", "text",
     [(b"mg Zm9 b v\r\n", b'CLIENT_ERROR error decoding key\r\n')], OPEN)
case("ms: base64 garbage key swallows the data", "text",
     [(b"ms !!!! 2 b\r\nxy\r\n", b'CLIENT_ERROR error decoding key\r\n')], OPEN)
case("mg: opaque over 32 bytes", "text",
     [(b"mg canary:badinput " + LONG_OPAQUE + b" v\r\n", b'CLIENT_ERROR opaque token too long\r\n')], OPEN)
case("ms: opaque over 32 bytes", "text",
     [(b"ms k 2 " + LONG_OPAQUE + b"\r\nxy\r\n", b'CLIENT_ERROR opaque token too long\r\n')], OPEN)
case("md: opaque over 32 bytes", "text",
     [(b"md k " + LONG_OPAQUE + b"\r\n", b'CLIENT_ERROR opaque token too long\r\n')], OPEN)
case("mg: duplicate flag", "text", [(b"mg k v v\r\n", b'CLIENT_ERROR duplicate flag\r\n')], OPEN)
case("mg: invalid flag", "text", [(b"mg k 1\r\n", b'CLIENT_ERROR invalid flag\r\n')], OPEN)
case("mg: non-numeric T", "text", [(b"mg k Tabc v\r\n", b'CLIENT_ERROR bad token in command line format\r\n')], OPEN)
case("mg: too many flags", "text",
     [(b"mg k" + b" v" * 20 + b"\r\n", b'CLIENT_ERROR options flags are too long\r\n')], OPEN)
case("mg: no key", "text", [(b"mg\r\n", b'ERROR\r\n')], OPEN)
case("ms: missing length", "text", [(b"ms k\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("ms: non-numeric length", "text", [(b"ms k abc\r\nxy\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\n')],
     OPEN)
case("ms: negative length", "text", [(b"ms k -1\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("ms: data block longer than declared", "text",
     [(b"ms k 2\r\nabc\r\n", b'CLIENT_ERROR bad data chunk\r\nERROR\r\n')], OPEN)
case("ms: invalid mode", "text", [(b"ms k 2 MX\r\nxy\r\n", b'CLIENT_ERROR invalid mode for ms M token\r\n')], OPEN)
case("ms: non-numeric C", "text", [(b"ms k 2 Cabc\r\nxy\r\n", b'CLIENT_ERROR bad token in command line format\r\n')], OPEN)
case("ms: 1 GB declared length", "text",
     [(b"ms big %d\r\n" % GB, b'')], SWALLOWING)
case("ma: non-numeric delta", "text", [(b"ma k Dabc\r\n", b'CLIENT_ERROR invalid or duplicate flag\r\n')], OPEN)
case("ma: on a non-numeric value", "text",
     [(b"set mnn 0 0 3\r\nabc\r\nma mnn\r\n", 
       b'STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n')], OPEN)
case("md: invalid flag", "text", [(b"md k !\r\n", b'CLIENT_ERROR invalid or duplicate flag\r\n')], OPEN)
case("unknown meta command", "text", [(b"mz k\r\n", b'ERROR\r\n')], OPEN)
case("mn with arguments", "text", [(b"mn foo bar\r\n", b'MN\r\n')], OPEN)
case("mg: a binary key holding CR LF is echoed in base64", "text",
     [(b"ms DQo= 2 b\r\nhi\r\nmg DQo= b k v s\r\n", b'HD\r\nVA 2 kDQo= b s2\r\nhi\r\n')], OPEN)
case("mg q: a binary key is echoed in base64", "text",
     [(b"ms Zm9v 2 b\r\nhi\r\nmg Zm9v b q k\r\n", b'HD\r\nHD kZm9v b\r\n')], OPEN)
case("mg: a NUL byte ends the line", "text",
     [(b"mg canary:badinput\x00junk v\r\n", b'HD\r\n')], OPEN)
case("ms: a NUL byte inside the key ends the line", "text",
     [(b"ms q\x00z 2\r\nhi\r\nmg q v\r\n", b'CLIENT_ERROR bad command line format\r\nERROR\r\nEN\r\n')], OPEN)
case("me: no key", "text", [(b"me\r\n", b'CLIENT_ERROR bad command line format\r\n')], OPEN)
case("a 1 MB meta line without newline closes", "text",
     [(b"mg " + b"k" * MB, b"")], CLOSED)

# Binary -------------------------------------------------------------------
# (the first byte picks the protocol: 0x80 binary, anything else text, so
# a bad magic is only a binary error once the connection is binary)
case("bin: response magic 0x81 in a request closes silently", "bin",
     [(breq(B_NOOP) + breq(B_GET, b"k", magic=0x81), bres(B_NOOP))], CLOSED)
case("bin: magic 0x00 after a good packet closes silently", "bin",
     [(breq(B_NOOP) + breq(B_GET, b"k", magic=0x00), bres(B_NOOP))], CLOSED)
case("bin: first byte 0x81 makes a text connection", "text",
     [(breq(B_GET, b"k", magic=0x81) + b"\r\n", b"ERROR\r\n")], OPEN)
case("bin: unknown opcode, empty body", "bin",
     [(breq(0x55), 
       b'\x81U\x00\x00\x00\x00\x00\x81\x00\x00\x00\x0f\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Unknown command')], OPEN)
case("bin: unknown opcode with a 4-byte body", "bin",
     [(breq(0x55, value=b"junk"), 
       b'\x81U\x00\x00\x00\x00\x00\x81\x00\x00\x00\x0f\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Unknown command')], OPEN)
case("bin: verbosity is unknown", "bin",
     [(breq(B_VERBOSITY), bres(B_VERBOSITY, ST_UNKNOWN))], OPEN)
case("bin: unknown opcode with extras and a key", "bin",
     [(breq(B_VERBOSITY, b"key", struct.pack(">I", 1)) + b"\0" * 7,
       bres(B_VERBOSITY, ST_UNKNOWN))], OPEN)
case("bin: SASL list mechs without SASL", "bin",
     [(breq(B_SASL_LIST), 
       b'\x81 \x00\x00\x00\x00\x00\x81\x00\x00\x00\x0f\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Unknown command')], OPEN)
case("bin: key length beyond the body", "bin",
     [(breq(B_GET, b"k", bodylen=0), 
       b'\x81\x00\x00\x00\x00\x00\x00\x81\x00\x00\x00\x0f\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Unknown command')], CLOSED)
case("bin: key of 251 bytes", "bin", [(breq(B_GET, K251), 
       b'\x81\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: get with extras", "bin",
     [(breq(B_GET, b"k", extras=b"\0\0\0\0"), 
       b'\x81\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: get with a value", "bin",
     [(breq(B_GET, b"k", value=b"v"), 
       b'\x81\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: get without a key", "bin", [(breq(B_GET), 
       b'\x81\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: set without extras", "bin",
     [(breq(B_SET, b"k", value=b"v"), 
       b'\x81\x01\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: set with 4-byte extras", "bin",
     [(breq(B_SET, b"k", extras=b"\0" * 4, value=b"v"), 
       b'\x81\x01\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: incr with 4-byte extras", "bin",
     [(breq(B_INCR, b"k", extras=b"\0" * 4), 
       b'\x81\x05\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: incr on a non-numeric value", "bin",
     [(bsetq(b"bnn", b"abc") +
       breq(B_INCR, b"bnn", struct.pack(">QQI", 1, 0, 0)),
       bres(B_INCR, ST_BADVAL))], OPEN)
case("bin: flush with 2-byte extras", "bin",
     [(breq(B_FLUSH, extras=b"\0\0"), 
       b'\x81\x08\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: noop with a key", "bin", [(breq(B_NOOP, b"k"), 
       b'\x81\n\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: version with a body", "bin",
     [(breq(B_VERSION, value=b"x"), 
       b'\x81\x0b\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: append with extras", "bin",
     [(breq(B_APPEND, b"k", extras=b"\0" * 8, value=b"v"), 
       b'\x81\x0e\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: quit with a key", "bin", [(breq(B_QUIT, b"k"), 
       b'\x81\x07\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)
case("bin: value over the item size limit is refused and swallowed", "bin",
     [(bset(b"bbig", b"z" * (2 * MB)) + breq(B_GET, b"bbig"), 
       b'\x81\x01\x00\x00\x00\x00\x00\x03\x00\x00\x00\n\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Too large.\x81\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\t\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Not found')], OPEN)
case("bin: 1 GB body declared", "bin",
     [(bset(b"bbig", b"")[:8] + struct.pack(">I", GB + 8 + 4) +
       bset(b"bbig", b"")[12:], b'')], SWALLOWING)
case("bin: body shorter than declared waits, then completes", "bin",
     [(bsetq(b"part", b"hello")[:-3], b""),
      (bsetq(b"part", b"hello")[-3:] + breq(B_NOOP), bres(B_NOOP))], OPEN)
case("bin: stat of an unknown group", "bin",
     [(breq(B_STAT, b"bogus"), 
       b'\x81\x10\x00\x00\x00\x00\x00\x01\x00\x00\x00\t\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Not found')], OPEN)
case("bin: touch without extras", "bin",
     [(breq(B_TOUCH, b"k"), 
       b'\x81\x1c\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x0b\xad\xf0\r\x00\x00\x00\x00\x00\x00\x00\x00Invalid arguments')], CLOSED)

# Cases whose stashd reply differs from memcached's on purpose:
# name -> (stashd steps' replies, stashd after, reason).
STASHD_DIFFERS = {
    "set: 1 GB declared length is refused and swallowed": (
        [b"SERVER_ERROR object too large for cache\r\n"], SWALLOWING,
        "memcached queues the error and sends it only once the whole "
        "refused block has been swallowed (never, for a client that does "
        "not send 1 GB); stashd answers at once, then swallows"),
    "ms: 1 GB declared length": (
        [b"SERVER_ERROR object too large for cache\r\n"], SWALLOWING,
        "as for set: stashd answers before swallowing the block"),
    "bin: 1 GB body declared": (
        [bres(B_SET, ST_E2BIG)], SWALLOWING,
        "as for set: stashd answers before swallowing the body"),
    "bin: unknown opcode with extras and a key": (
        [bres(B_VERBOSITY, ST_UNKNOWN)], CLOSED,
        "memcached swallows <body length> bytes after the extras and key "
        "of an unknown command, eating the first bytes of the next packet "
        "(here the 7 filler bytes); stashd drops exactly the body, so the "
        "filler is read as the next header and its bad magic closes the "
        "connection (documented in proto/bin.c)"),
}


# ---- running --------------------------------------------------------------

def canary_ok(server):
    c = st.Conn(server)
    try:
        c.send(b"get " + CANARY_KEY + b"\r\n")
        want = b"VALUE %s %d %d\r\n%s\r\nEND\r\n" % (
            CANARY_KEY, CANARY_FLAGS, len(CANARY_VAL), CANARY_VAL)
        got = c.readexact(len(want))
        return got == want, got
    finally:
        c.close()


def read_reply(c, want):
    """Exactly len(want) bytes, or what came before EOF / time-out."""
    got = b""
    try:
        got = c.readexact(len(want))
    except (EOFError, OSError):
        got, c.buf = c.buf, b""
    return got


def expectations(name, steps, after):
    if st.target() != "memcached" and name in STASHD_DIFFERS:
        replies, after, _ = STASHD_DIFFERS[name]
        steps = [(s, r) for (s, _), r in zip(steps, replies)]
    return steps, after


def run_case(t, server, name, proto, steps, after):
    steps, after = expectations(name, steps, after)
    c = st.Conn(server)
    ok = True
    detail = []
    try:
        for i, (data, want) in enumerate(steps):
            try:
                c.send(data)
            except OSError:
                # the server closed while we were still sending (a 1 MB
                # line): only right where closing is expected
                if after != CLOSED or i + 1 < len(steps):
                    raise
            got = read_reply(c, want)
            if got != want:
                ok = False
                detail.append("step %d reply:\n  got:  %r\n  want: %r"
                              % (i, got[:300], want[:300]))
                break
            if i + 1 < len(steps):
                # the server must be waiting for the rest: nothing more
                extra = c.pending(0.2)
                if extra:
                    ok = False
                    detail.append("step %d: unexpected %r" % (i, extra[:200]))
                    break
        if ok:
            probe, reply = ((BIN_PROBE, BIN_PROBE_REPLY) if proto == "bin"
                            else (TEXT_PROBE, TEXT_PROBE_REPLY))
            if after == OPEN:
                c.send(probe)
                got = read_reply(c, reply)
                if got != reply:
                    ok = False
                    detail.append("connection not usable: probe answered "
                                  "%r" % got[:200])
            elif after == CLOSED:
                # the probe must not be answered either (it may also be
                # what completes the header that makes the server close)
                try:
                    c.send(probe)
                except OSError:
                    pass
                rest = b""
                try:
                    while True:
                        chunk = c.sock.recv(65536)
                        if not chunk:
                            break
                        rest += chunk
                except ConnectionResetError:
                    pass
                except OSError as e:
                    ok = False
                    detail.append("connection not closed (%s)" % e)
                if rest:
                    ok = False
                    detail.append("bytes before close: %r" % rest[:200])
            else:   # SWALLOWING: the probe is data being dropped
                try:
                    c.send(probe)
                except OSError:
                    pass
                extra = c.pending(0.3)
                if extra or c.eof:
                    ok = False
                    detail.append("expected a silent, open connection; got "
                                  "%r, eof=%s" % (extra[:200], c.eof))
    except (OSError, EOFError) as e:
        ok = False
        detail.append("i/o error: %r" % e)
    finally:
        c.close()
    good, got = canary_ok(server)
    if not good:
        ok = False
        detail.append("canary damaged: %r" % got[:200])
    t.ok(ok, "%s [%s]" % (name, proto), "\n".join(detail))
    return good


def rss_kb(server):
    if server.proc is None:
        return None
    try:
        with open("/proc/%d/status" % server.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def record(server):
    """Print what the server answers for each case (waits for quiet)."""
    for name, proto, steps, after in CASES:
        c = st.Conn(server)
        out = []
        for data, _ in steps:
            try:
                c.send(data)
            except OSError:
                c.eof = True
            out.append(c.pending(0.5))
        probe = BIN_PROBE if proto == "bin" else TEXT_PROBE
        state = "closed" if c.eof else None
        if state is None:
            try:
                c.send(probe)
                got = c.pending(0.5)
                state = ("open" if got.endswith(
                    BIN_PROBE_REPLY if proto == "bin" else TEXT_PROBE_REPLY)
                    else "silent %r" % got[:80])
                if c.eof and not got:
                    state = "closed"
            except OSError:
                state = "closed"
        c.close()
        print("%s\n    replies=%r\n    after=%s" % (
            name, [o[:400] for o in out], state))


def main():
    server = st.Server(["-m", "64"]).start()
    c = st.Conn(server)
    c.send(b"set %s %d 0 %d\r\n%s\r\n" % (CANARY_KEY, CANARY_FLAGS,
                                          len(CANARY_VAL), CANARY_VAL))
    if c.readline() != b"STORED":
        print("FAIL: could not store the canary")
        sys.exit(st.HARD_ERROR)
    c.close()
    if "--record" in sys.argv:
        record(server)
        server.stop()
        return
    t = st.Tap()
    t.diag("%d cases" % len(CASES))
    rss0 = rss_kb(server)
    for name, proto, steps, after in CASES:
        if not server.alive():
            t.ok(False, "%s [%s]: server died" % (name, proto))
            continue
        run_case(t, server, name, proto, steps, after)
    t.ok(server.alive(), "server alive after %d cases" % len(CASES))
    rss1 = rss_kb(server)
    if rss0 is not None and rss1 is not None:
        # 1 GB declared lengths and 1 MB lines must not be buffered
        t.ok(rss1 - rss0 < 256 * 1024, "RSS grew by %d KiB (< 256 MiB)"
             % (rss1 - rss0))
    t.ok(server.check(), "server stopped cleanly")
    t.done()


if __name__ == "__main__":
    main()
