#!/usr/bin/python3
"""memcached's binary protocol against the server under test: every opcode,
quiet pipelines, CAS, malformed packets (which ones close the connection),
with raw packets (stdlib socket + struct), then pylibmc in binary mode.
Every expectation was checked against memcached 1.6.18
(STASHD_TARGET=memcached).  TAP output; exit 0 only if all pass."""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

HDR = struct.Struct(">BBHBBHIIQ")
OPAQUE = 0xdeadbeef

GET, SET, ADD, REPLACE, DELETE, INCR, DECR, QUIT, FLUSH, GETQ, NOOP, \
    VERSION, GETK, GETKQ, APPEND, PREPEND, STAT, SETQ, ADDQ, REPLACEQ, \
    DELETEQ, INCRQ, DECRQ, QUITQ, FLUSHQ, APPENDQ, PREPENDQ, VERBOSITY, \
    TOUCH, GAT, GATQ = range(0x1f)
SASL_LIST, SASL_AUTH, SASL_STEP, GATK, GATKQ = 0x20, 0x21, 0x22, 0x23, 0x24

OK, ENOENT, EEXISTS, E2BIG, EINVAL, NOT_STORED, BADVAL = range(7)
UNKNOWN, ENOMEM = 0x81, 0x82
TEXT = {ENOENT: b"Not found", EEXISTS: b"Data exists for key.",
        E2BIG: b"Too large.", EINVAL: b"Invalid arguments",
        NOT_STORED: b"Not stored.",
        BADVAL: b"Non-numeric server-side value for incr or decr",
        UNKNOWN: b"Unknown command", ENOMEM: b"Out of memory"}
NOCREATE = 0xffffffff


def pkt(op, key=b"", extras=b"", value=b"", cas=0, opaque=OPAQUE,
        magic=0x80, bodylen=None, datatype=0, vbucket=0):
    if isinstance(key, str):
        key = key.encode()
    if isinstance(value, str):
        value = value.encode()
    body = len(extras) + len(key) + len(value) if bodylen is None else bodylen
    return HDR.pack(magic, op, len(key), len(extras), datatype, vbucket,
                    body, opaque, cas) + extras + key + value


def store(op, key, value, flags=0, exptime=0, cas=0, opaque=OPAQUE):
    return pkt(op, key, struct.pack(">II", flags, exptime), value, cas,
               opaque)


def arith(op, key, delta, initial=0, exptime=0, cas=0):
    return pkt(op, key, struct.pack(">QQI", delta, initial, exptime), cas=cas)


def touch(op, key, exptime=100):
    return pkt(op, key, struct.pack(">I", exptime))


class Res:
    def __init__(self, hdr, body):
        (self.magic, self.op, nkey, next_, self.datatype, self.status,
         blen, self.opaque, self.cas) = hdr
        self.extras = body[:next_]
        self.key = body[next_:next_ + nkey]
        self.value = body[next_ + nkey:]

    def __repr__(self):
        return ("<op %#x status %#x cas %d opaque %#x ext %r key %r val %r>"
                % (self.op, self.status, self.cas, self.opaque, self.extras,
                   self.key, self.value[:60]))


class BinConn(st.Conn):
    def read(self):
        h = HDR.unpack(self.readexact(24))
        return Res(h, self.readexact(h[6]))

    def call(self, packet):
        self.send(packet)
        return self.read()

    def quiet_then_noop(self, packets):
        """Send packets + a Noop; the responses before the Noop's."""
        self.send(b"".join(packets) + pkt(NOOP, opaque=0x4e4f4f50))
        out = []
        while True:
            r = self.read()
            if r.op == NOOP and r.opaque == 0x4e4f4f50:
                return out
            out.append(r)


def main():
    tap = st.Tap()
    server = st.Server().start()

    def conn():
        return BinConn(server)

    def is_ok(r, op, desc):
        return tap.ok(r.magic == 0x81 and r.op == op and r.status == OK and
                      r.opaque == OPAQUE and r.datatype == 0, desc, r)

    def is_err(r, op, status, desc):
        return tap.ok(r.magic == 0x81 and r.op == op and r.status == status
                      and r.value == TEXT[status] and r.key == b"" and
                      r.extras == b"" and r.cas == 0 and r.opaque == OPAQUE,
                      desc, r)

    c = conn()
    c.call(pkt(FLUSH))

    # -- simple commands ---------------------------------------------------
    r = c.call(pkt(VERSION))
    tap.ok(r.op == VERSION and r.status == OK and r.value[:1].isdigit() and
           r.extras == b"" and r.key == b"", "Version: a version string", r)
    r = c.call(pkt(NOOP, datatype=5, vbucket=7))
    tap.ok(r.op == NOOP and r.status == OK and r.value == b"" and r.cas == 0,
           "Noop (datatype and vbucket ignored)", r)

    # -- set / get family --------------------------------------------------
    r = c.call(store(SET, "k1", "hello", flags=0xabcd))
    is_ok(r, SET, "Set")
    tap.ok(r.cas != 0 and r.value == b"", "Set returns a CAS", r)
    cas1 = r.cas
    for op, with_key in ((GET, False), (GETK, True), (GETQ, False),
                         (GETKQ, True)):
        r = c.call(pkt(op, "k1", cas=12345))
        tap.ok(r.op == op and r.status == OK and r.cas == cas1 and
               r.extras == struct.pack(">I", 0xabcd) and r.value == b"hello"
               and r.key == (b"k1" if with_key else b""),
               "get opcode %#x hit: flags, key iff K, value, CAS" % op, r)
    is_err(c.call(pkt(GET, "nope", cas=77)), GET, ENOENT,
           "Get miss: Not found, CAS 0")
    r = c.call(pkt(GETK, "nope"))
    tap.ok(r.op == GETK and r.status == ENOENT and r.key == b"nope" and
           r.value == b"" and r.cas == 0, "GetK miss: the key, no text", r)
    tap.eq(c.quiet_then_noop([pkt(GETQ, "nope"), pkt(GETKQ, "nope")]), [],
           "GetQ/GetKQ miss: nothing")

    # -- add / replace / append / prepend ----------------------------------
    is_err(c.call(store(ADD, "k1", "x")), ADD, EEXISTS,
           "Add existing: Data exists")
    r = c.call(store(ADD, "a1", "x"))
    is_ok(r, ADD, "Add new")
    is_err(c.call(store(REPLACE, "nope", "x")), REPLACE, ENOENT,
           "Replace missing: Not found")
    r = c.call(store(REPLACE, "a1", "r", flags=3))
    tap.ok(r.status == OK and r.cas > cas1, "Replace existing: new CAS", r)
    is_err(c.call(pkt(APPEND, "nope", value="z")), APPEND, NOT_STORED,
           "Append missing: Not stored")
    is_err(c.call(pkt(PREPEND, "nope", value="z")), PREPEND, NOT_STORED,
           "Prepend missing: Not stored")
    is_ok(c.call(pkt(APPEND, "a1", value="-e")), APPEND, "Append")
    is_ok(c.call(pkt(PREPEND, "a1", value="s-")), PREPEND, "Prepend")
    r = c.call(pkt(GET, "a1"))
    tap.ok(r.value == b"s-r-e" and r.extras == struct.pack(">I", 3),
           "Append/Prepend result, flags kept", r)
    is_err(c.call(pkt(APPEND, "a1", value="w", cas=r.cas + 1000)), APPEND,
           EEXISTS, "Append with a stale CAS: Data exists")

    # -- quiet mutations -------------------------------------------------
    got = c.quiet_then_noop([
        store(SETQ, "q", "1"), store(SETQ, "qs", "abc"),
        store(ADDQ, "q", "2"),
        store(REPLACEQ, "nq", "2"), store(REPLACEQ, "q", "3"),
        pkt(APPENDQ, "nx", value="z"), pkt(APPENDQ, "q", value="4"),
        pkt(PREPENDQ, "q", value="0"), pkt(DELETEQ, "nx"),
        arith(INCRQ, "qn", 1, 5), arith(DECRQ, "qn", 1),
        arith(INCRQ, "qs", 1), arith(INCRQ, "zz", 1, 0, NOCREATE)])
    tap.eq([(r.op, r.status, r.value) for r in got],
           [(ADDQ, EEXISTS, TEXT[EEXISTS]), (REPLACEQ, ENOENT, TEXT[ENOENT]),
            (APPENDQ, NOT_STORED, TEXT[NOT_STORED]),
            (DELETEQ, ENOENT, TEXT[ENOENT]), (INCRQ, BADVAL, TEXT[BADVAL]),
            (INCRQ, ENOENT, TEXT[ENOENT])],
           "quiet mutations: silent on success, errors sent")
    tap.eq(c.call(pkt(GET, "q")).value, b"034",
           "quiet mutations took effect")
    tap.eq(c.call(pkt(GET, "qn")).value, b"4", "IncrementQ/DecrementQ")

    # -- CAS -----------------------------------------------------------------
    r = c.call(pkt(GET, "k1"))
    cur = r.cas
    is_err(c.call(store(SET, "k1", "x", cas=cur + 1000)), SET, EEXISTS,
           "Set with a stale CAS: Data exists")
    is_err(c.call(store(SET, "nx", "x", cas=cur)), SET, ENOENT,
           "Set with a CAS on a missing key: Not found")
    is_err(c.call(store(ADD, "k1", "x", cas=cur + 1000)), ADD, EEXISTS,
           "Add with a stale CAS: Data exists")
    is_err(c.call(store(ADD, "nx2", "x", cas=cur)), ADD, ENOENT,
           "Add with a CAS on a missing key: Not found (acts as cas)")
    r = c.call(store(SET, "k1", "new", cas=cur))
    tap.ok(r.status == OK and r.cas not in (0, cur),
           "Set with the current CAS: stored, new CAS", r)
    r2 = c.call(pkt(GET, "k1"))
    tap.ok(r2.value == b"new" and r2.cas == r.cas, "CAS store took effect",
           r2)
    r = c.call(store(REPLACE, "k1", "rep", cas=r.cas))
    is_ok(r, REPLACE, "Replace with the current CAS")
    is_err(c.call(pkt(DELETE, "k1", cas=r.cas + 1000)), DELETE, EEXISTS,
           "Delete with a stale CAS: Data exists")
    r = c.call(pkt(DELETE, "k1", cas=r.cas))
    tap.ok(r.status == OK and r.cas == 0, "Delete with the current CAS", r)

    # -- incr / decr -------------------------------------------------------
    r = c.call(arith(INCR, "n", 5, 100))
    tap.ok(r.status == OK and r.value == struct.pack(">Q", 100) and
           r.extras == b"" and r.cas != 0,
           "Increment miss creates with initial (8-byte body, CAS)", r)
    r = c.call(arith(INCR, "n", 5, 100))
    tap.eq(r.value, struct.pack(">Q", 105), "Increment")
    r = c.call(arith(DECR, "n", 200))
    tap.eq(r.value, struct.pack(">Q", 0), "Decrement stops at 0")
    is_err(c.call(arith(INCR, "m", 1, 1, NOCREATE)), INCR, ENOENT,
           "Increment miss with exptime 0xffffffff: Not found")
    is_err(c.call(arith(DECR, "m", 1, 1, NOCREATE)), DECR, ENOENT,
           "Decrement miss with exptime 0xffffffff: Not found")
    c.call(store(SET, "s", "abc"))
    is_err(c.call(arith(INCR, "s", 1)), INCR, BADVAL,
           "Increment non-numeric")
    r = c.call(arith(INCR, "n", 0))
    is_err(c.call(arith(INCR, "n", 1, cas=r.cas + 1000)), INCR, EEXISTS,
           "Increment with a stale CAS: Data exists")
    c.call(store(SET, "w", "18446744073709551615"))
    tap.eq(c.call(arith(INCR, "w", 1)).value, struct.pack(">Q", 0),
           "Increment wraps at 2^64")
    r = c.call(arith(INCR, "big", 2 ** 64 - 1, 2 ** 64 - 2))
    tap.eq(r.value, struct.pack(">Q", 2 ** 64 - 2), "64-bit initial value")

    # The counters as memcached keeps them: a counter created from its
    # initial value is neither a hit nor a miss.
    names = ("incr_hits", "incr_misses", "decr_hits", "decr_misses",
             "cmd_set", "store_no_memory")
    t = st.Conn(server)
    s0 = t.stats()
    c.call(arith(INCR, "ctr", 1, 7))
    c.call(arith(INCR, "ctr", 1, 7))
    c.call(arith(DECR, "ctr", 1, 7))
    c.call(arith(DECR, "ctr2", 1, 7))
    c.call(arith(DECR, "ctr3", 1, 7, NOCREATE))
    s1 = t.stats()
    t.close()
    tap.eq({n: int(s1[n]) - int(s0[n]) for n in names},
           {"incr_hits": 1, "incr_misses": 0, "decr_hits": 1,
            "decr_misses": 1, "cmd_set": 0, "store_no_memory": 0},
           "incr/decr stats: a create counts neither hit nor miss")

    # -- delete / touch / gat ------------------------------------------------
    is_err(c.call(pkt(DELETE, "n2")), DELETE, ENOENT, "Delete miss")
    tap.eq(c.quiet_then_noop([pkt(DELETEQ, "n")]), [], "DeleteQ hit: nothing")
    is_err(c.call(pkt(GET, "n")), GET, ENOENT, "DeleteQ took effect")
    r = c.call(store(SET, "t", "val", flags=7))
    tcas = r.cas
    r = c.call(touch(TOUCH, "t"))
    tap.ok(r.status == OK and r.extras == struct.pack(">I", 7) and
           r.value == b"" and r.key == b"" and r.cas == tcas,
           "Touch hit: flags extras, item CAS, no value", r)
    is_err(c.call(touch(TOUCH, "nx")), TOUCH, ENOENT, "Touch miss")
    for op, with_key in ((GAT, False), (GATQ, False), (GATK, True),
                         (GATKQ, True)):
        r = c.call(touch(op, "t"))
        tap.ok(r.op == op and r.status == OK and r.value == b"val" and
               r.extras == struct.pack(">I", 7) and r.cas == tcas and
               r.key == (b"t" if with_key else b""),
               "GAT opcode %#x hit" % op, r)
    is_err(c.call(touch(GAT, "nx")), GAT, ENOENT, "GAT miss")
    r = c.call(touch(GATK, "nx"))
    tap.ok(r.status == ENOENT and r.key == b"nx" and r.value == b"",
           "GATK miss: the key, no text", r)
    tap.eq(c.quiet_then_noop([touch(GATQ, "nx"), touch(GATKQ, "nx")]), [],
           "GATQ/GATKQ miss: nothing")
    c.call(store(SET, "ttl", "v"))
    c.call(touch(TOUCH, "ttl", 0xffffffff - 10))  # far future absolute time
    tap.eq(c.call(pkt(GET, "ttl")).value, b"v",
           "exptime is unsigned (0xfffffff5 is the far future)")

    # -- pipelines -----------------------------------------------------------
    for i in range(0, 100, 2):
        c.send(store(SETQ, "p%d" % i, "v%d" % i, flags=i))
    got = c.quiet_then_noop([pkt(GETKQ, "p%d" % i, opaque=i)
                             for i in range(100)])
    tap.eq([(r.op, r.opaque, r.key, r.value, r.extras) for r in got],
           [(GETKQ, i, b"p%d" % i, b"v%d" % i, struct.pack(">I", i))
            for i in range(0, 100, 2)],
           "GetKQ x100 + Noop: exactly the 50 hits, in order, opaque echoed")
    got = c.quiet_then_noop([pkt(GETQ, "p%d" % i, opaque=i)
                             for i in range(10)])
    tap.eq([r.opaque for r in got], [0, 2, 4, 6, 8], "GetQ pipeline")

    # -- stats / flush ---------------------------------------------------
    c.send(pkt(STAT))
    stats = {}
    while True:
        r = c.read()
        if r.key == b"" and r.value == b"":
            break
        stats[r.key] = r.value
    tap.ok(r.op == STAT and r.status == OK and b"pid" in stats and
           b"curr_items" in stats and b"version" in stats,
           "Stat: one packet per stat, empty terminator", sorted(stats)[:5])
    is_err(c.call(pkt(STAT, "bogus")), STAT, ENOENT,
           "Stat with an unknown sub-command: Not found")
    r = c.call(pkt(STAT, "reset"))
    tap.ok(r.op == STAT and r.key == b"" and r.value == b"",
           "Stat reset: just the terminator", r)
    is_ok(c.call(pkt(FLUSH)), FLUSH, "Flush")
    is_err(c.call(pkt(GET, "p0")), GET, ENOENT, "Flush took effect")
    c.call(store(SET, "f", "v"))
    tap.eq(c.quiet_then_noop([pkt(FLUSHQ)]), [], "FlushQ: nothing")
    is_err(c.call(pkt(GET, "f")), GET, ENOENT, "FlushQ took effect")
    c.call(store(SET, "f", "v"))
    is_ok(c.call(pkt(FLUSH, extras=struct.pack(">I", 0))), FLUSH,
          "Flush with a delay extra of 0")

    # -- unknown opcodes: answered, connection kept --------------------------
    is_err(c.call(pkt(VERBOSITY)), VERBOSITY, UNKNOWN,
           "Verbosity: memcached answers Unknown command")
    is_err(c.call(pkt(0x55, value="abcde")), 0x55, UNKNOWN,
           "unknown opcode with a body: Unknown command")
    is_err(c.call(pkt(SASL_LIST)), SASL_LIST, UNKNOWN,
           "SASL list mechs without -S: Unknown command")
    is_err(c.call(pkt(SASL_AUTH, "PLAIN", value="\0a\0b")), SASL_AUTH,
           UNKNOWN, "SASL auth without -S: Unknown command")
    is_ok(c.call(pkt(NOOP)), NOOP, "connection kept after unknown opcodes")

    # -- too large: answered, value swallowed, connection kept -------------
    big = b"x" * (2 * 1024 * 1024)
    is_err(c.call(store(SET, "big", big)), SET, E2BIG, "Set 2 MiB: Too large")
    is_err(c.call(store(SETQ, "big", big)), SETQ, E2BIG,
           "SetQ 2 MiB: Too large (errors are never quiet)")
    is_err(c.call(pkt(APPEND, "t", value=big)), APPEND, E2BIG,
           "Append 2 MiB: Too large")
    is_ok(c.call(pkt(NOOP)), NOOP, "connection kept after Too large")
    near = b"y" * (1024 * 1024 - 1000)
    is_ok(c.call(store(SET, "near", near)), SET, "Set 1 MiB - 1000 fits")
    tap.ok(c.call(pkt(GET, "near")).value == near, "and reads back intact")
    c.close()

    # -- quit ------------------------------------------------------------
    c = conn()
    r = c.call(pkt(QUIT))
    tap.ok(r.op == QUIT and r.status == OK and r.value == b"", "Quit: reply",
           r)
    tap.ok(c.closed(), "Quit: closed")
    c.close()
    c = conn()
    c.send(pkt(QUITQ) + pkt(NOOP))
    tap.eq(c.pending(0.5), b"", "QuitQ: no reply, nothing after it")
    tap.ok(c.eof or c.closed(), "QuitQ: closed")
    c.close()

    # -- malformed packets -----------------------------------------------
    def closes(packets, want, desc):
        c = conn()
        c.send(pkt(NOOP, opaque=1))  # binary mode from the first byte
        r = c.read()
        assert r.op == NOOP
        try:
            c.send(b"".join(packets) + pkt(NOOP, opaque=2))
        except OSError:
            pass
        got = b""
        try:
            got = c.pending(0.5)
        except OSError:
            pass
        tap.ok(got == want and (c.eof or c.closed()), desc,
               "got %r want %r eof %r" % (got, want, c.eof))
        c.close()

    def err_bytes(op, status):
        return HDR.pack(0x81, op, 0, 0, 0, status, len(TEXT[status]), OPAQUE,
                        0) + TEXT[status]

    closes([b"\x00" * 24], b"", "bad magic 0x00: closed, nothing sent")
    closes([pkt(GET, "k", magic=0x81)], b"",
           "response magic in a request: closed, nothing sent")
    closes([pkt(GET, "ab", bodylen=1)], err_bytes(GET, UNKNOWN),
           "keylen > bodylen: Unknown command, closed")
    closes([pkt(SET, "ab", b"\0" * 8, bodylen=9)], err_bytes(SET, UNKNOWN),
           "extlen + keylen > bodylen: Unknown command, closed")
    closes([pkt(GET, "k" * 251)], err_bytes(GET, EINVAL),
           "key of 251 bytes: Invalid arguments, closed")
    closes([pkt(0x55, "k" * 251)], err_bytes(0x55, EINVAL),
           "unknown opcode with a 251-byte key: Invalid arguments, closed")
    for desc, p, op in (
            ("Get with extras", pkt(GET, "ab", b"1234"), GET),
            ("Get without key", pkt(GET), GET),
            ("Get with a value", pkt(GET, "ab", value="zz"), GET),
            ("Set without extras", pkt(SET, "ab", value="zz"), SET),
            ("Set without key", pkt(SET, extras=b"\0" * 8, value="zz"), SET),
            ("Delete with extras", pkt(DELETE, "ab", b"1234"), DELETE),
            ("Increment with 8-byte extras", pkt(INCR, "ab", b"\0" * 8),
             INCR),
            ("Append with extras", pkt(APPEND, "ab", b"\0" * 8, "x"), APPEND),
            ("Touch without extras", pkt(TOUCH, "ab"), TOUCH),
            ("GAT without key", pkt(GAT, extras=b"1234"), GAT),
            ("Flush with 8-byte extras", pkt(FLUSH, extras=b"\0" * 8), FLUSH),
            ("Noop with a body", pkt(NOOP, value="a"), NOOP),
            ("Version with a key", pkt(VERSION, "a"), VERSION),
            ("Quit with a body", pkt(QUIT, value="a"), QUIT),
            ("Stat with extras", pkt(STAT, extras=b"1234"), STAT),
            ("SASL list with a body", pkt(SASL_LIST, value="a"), SASL_LIST)):
        closes([p], err_bytes(op, EINVAL),
               "%s: Invalid arguments, closed" % desc)

    server_ok = server.check()
    tap.ok(server_ok, "server stopped cleanly")
    server = None

    # -- pylibmc in binary mode ------------------------------------------
    try:
        import pylibmc
    except ImportError:
        tap.diag("python3-pylibmc missing: client part skipped")
        tap.done()
    server = st.Server().start()
    m = pylibmc.Client([server.addr()], binary=True,
                       behaviors={"cas": True, "tcp_nodelay": True,
                                  "connect_timeout": 5000,
                                  "receive_timeout": 5000000,
                                  "send_timeout": 5000000})
    def outcome(f, *args):
        """f's result, or the name of the pylibmc error it raised"""
        try:
            return f(*args)
        except pylibmc.Error as e:
            return type(e).__name__

    tap.ok(m.set("k1", "v1"), "pylibmc set")
    tap.eq(m.get("k1"), "v1", "pylibmc get")
    tap.eq(m.get("nope"), None, "pylibmc get miss")
    tap.ok(m.set("num", 42), "pylibmc set int")
    tap.eq(m.get("num"), 42, "pylibmc int round trip (flags)")
    tap.eq(m.add("k1", "x"), False, "pylibmc add existing")
    tap.eq(m.add("a1", "x"), True, "pylibmc add new")
    tap.eq(outcome(m.replace, "nope", "x"), "NotFound",
           "pylibmc replace missing")
    tap.eq(m.replace("a1", "r"), True, "pylibmc replace")
    tap.ok(m.append("a1", "-e"), "pylibmc append")
    tap.ok(m.prepend("a1", "s-"), "pylibmc prepend")
    tap.eq(m.get("a1"), "s-r-e", "pylibmc append/prepend result")
    val, cas = m.gets("a1")
    tap.eq(val, "s-r-e", "pylibmc gets")
    tap.eq(m.cas("a1", "c1", cas), True, "pylibmc cas current")
    tap.eq(m.cas("a1", "c2", cas), False, "pylibmc cas stale")
    tap.eq(m.get("a1"), "c1", "pylibmc cas stored once")
    m.set("n", "10")
    tap.eq(m.incr("n", 5), 15, "pylibmc incr")
    tap.eq(m.decr("n", 20), 0, "pylibmc decr floors at 0")
    try:
        m.incr("nope", 1)
        tap.ok(False, "pylibmc incr miss raises NotFound")
    except pylibmc.NotFound:
        tap.ok(True, "pylibmc incr miss raises NotFound")
    tap.ok(m.delete("n"), "pylibmc delete")
    tap.eq(m.delete("n"), False, "pylibmc delete miss")
    tap.ok(m.touch("k1", 100), "pylibmc touch")
    tap.eq(m.touch("nope", 100), False, "pylibmc touch miss")
    tap.eq(m.set_multi({"m1": "a", "m2": "b", "m3": "c"}), [],
           "pylibmc set_multi")
    tap.eq(m.get_multi(["m1", "m2", "m3", "nope"]),
           {"m1": "a", "m2": "b", "m3": "c"}, "pylibmc get_multi")
    many = {"many%d" % i: "v%d" % i for i in range(200)}
    tap.eq(m.set_multi(many), [], "pylibmc set_multi x200")
    tap.eq(m.get_multi(list(many)), many, "pylibmc get_multi x200")
    big = os.urandom(900 * 1000)
    tap.ok(m.set("big", big), "pylibmc set 900 kB")
    tap.eq(m.get("big"), big, "pylibmc 900 kB intact")
    tap.ok(m.flush_all(), "pylibmc flush_all")
    tap.eq(m.get("k1"), None, "pylibmc flush_all took effect")
    m.disconnect_all()
    tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    try:
        main()
    except (OSError, EOFError, AssertionError) as e:
        # a reply that never came or a dropped connection: a failure, not
        # a hang (reads time out after stashtest.IO_TIMEOUT)
        print("not ok - aborted: %s: %s" % (type(e).__name__, e))
        print("FAIL: aborted (target %s)" % st.target())
        sys.exit(1)
