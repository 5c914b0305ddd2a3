#!/usr/bin/python3
"""Checks of scripts/difftest's own rules, without servers: the generator
never sends what the header lists as not generated because the answer
depends on timing or on a documented difference, the "incr size"
normalisation masks only sizes a padding explains, a truncated binary
response normalises to a prefix, and the value probe after an
incr/decr batch tells padding from other differences.

- no meta flag may set a TTL or recache window between 1 and 3599 s
  (N1, T1, R1 from the random-letter path expired mid-run at different
  moments on the two servers: an item present on one server only);
- no ma with T (memcached 1.6.18 sets it on the replaced item when the
  number does not fit in place: the new value keeps its old TTL);
- no garbage line over 16 KiB after a 50-90 kB get line in one batch;
- b only with a key from the base64 key set (a text key such as key:2
  read as base64 is an item mg N created, whose k memcached prints as raw
  bytes: a documented difference);
- no bad data terminator after a bad ms header;
- "chunk leak" masks only memcached's head chunk header, at the length
  of an append in the batch;
- the value probe reads a key small on either server (a fake server).
"""

import base64
import importlib.machinery
import importlib.util
import os
import random
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402


def load_difftest():
    top = os.environ.get("srcdir") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    path = os.path.join(top, "scripts", "difftest")
    loader = importlib.machinery.SourceFileLoader("difftest", path)
    spec = importlib.util.spec_from_loader("difftest", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class FakeMeta:
    """A loopback server that answers the value probe's mg s u / mg v u
    lines (and mn) from a dict, enough for small_values()."""

    def __init__(self, values):
        self.values = values
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            buf = b""
            while not buf.endswith(b"mn\r\n"):
                d = c.recv(65536)
                if not d:
                    break
                buf += d
            out = []
            for line in buf.split(b"\r\n")[:-2]:
                t = line.split(b" ")
                v = self.values.get(t[1])
                if v is None:
                    out.append(b"EN\r\n")
                elif t[2] == b"s":
                    out.append(b"HD s%d\r\n" % len(v))
                else:
                    out.append(b"VA %d\r\n%s\r\n" % (len(v), v))
            c.sendall(b"".join(out) + b"MN\r\n")
            c.close()

    def close(self):
        self.sock.close()


def meta_lines(dt, n):
    """The request lines of n generated meta commands (several seeds)."""
    lines = []
    tab = dt.CasTable()
    for seed in range(4):
        gen = dt.Gen(random.Random(seed), 1024 * 1024)
        for _ in range(n // 4):
            raw = gen.meta().render(tab)
            lines.append(raw.split(b"\r\n", 1)[0])
    return lines


def main():
    tap = st.Tap()
    dt = load_difftest()
    b64_keys = set(base64.b64encode(k) for k in dt.B64_KEYS)
    short_ttl, stray_b, ma_ttl = [], [], []
    for line in meta_lines(dt, 40000):
        toks = line.split(b" ")
        if toks[0] not in (b"mg", b"ms", b"md", b"ma"):
            continue
        for t in toks[2:]:
            if t[:1] in (b"N", b"T", b"R") and t[1:].isdigit() and \
                    1 <= int(t[1:]) < 3600 and \
                    not (t[:1] == b"R" and toks[0] == b"mg"):
                short_ttl.append(line)
        if toks[0] == b"ma" and any(t[:1] == b"T" and t[1:2].isdigit() or
                                   t[:2] == b"T-" for t in toks[2:]):
            ma_ttl.append(line)
        if b"b" in toks[2:] and toks[1] not in b64_keys:
            stray_b.append(line)
    tap.ok(not short_ttl, "no meta TTL of 1..3599 s (first: %r)"
           % (short_ttl[:1],))
    tap.ok(not ma_ttl, "no ma with a T flag (first: %r)" % (ma_ttl[:1],))
    tap.ok(not stray_b, "b only with a base64 key (first: %r)"
           % (stray_b[:1],))

    # no line over 16 KiB after a long get line in the same text batch
    # (memcached's grown read buffer may still hold it: timing-dependent)
    tab = dt.CasTable()
    gen = dt.Gen(random.Random(5), 1024 * 1024)
    gen.text_batch()    # resets the batch's state
    longest = [0, 0]
    for after in (0, 1):
        gen.long_get = bool(after)
        for _ in range(3000):
            line = gen.t_garbage().render(tab)
            longest[after] = max(longest[after], len(line))
    tap.ok(longest[0] > 16384 and longest[1] <= 16384,
           "garbage lines over 16 KiB (longest %d), none after a long get "
           "line (longest %d)" % tuple(longest))
    lg = 0
    for _ in range(3000):
        gen.long_get = False
        c = gen.t_retrieve()
        lg += gen.long_get and len(c.render(tab)) > 16384
    tap.ok(lg > 0, "a long get line sets long_get (%d)" % lg)

    a = b"ME k exp=-1 la=0 cas=#3 fetch=yes cls=1 size=70\r\nHD h1\r\n"
    b = b"ME k exp=-1 la=0 cas=#3 fetch=no cls=1 size=71\r\nHD h0\r\n"
    tap.ok(dt.mask_fetched(a) != dt.mask_fetched(b) and
           dt.padded_sizes(a, b),
           "incr size masks ME size= (and fetched flags)")
    c = b"ME k exp=-1 la=0 cas=#4 fetch=yes cls=1 size=70\r\n"
    tap.ok(not dt.padded_sizes(a, c), "incr size leaves the CAS compared")
    tap.ok(dt.padded_sizes(b"HD s1\r\nEN\r\n", b"HD s3\r\nEN\r\n"),
           "incr size: meta s flag of a padded number")
    tap.ok(not dt.padded_sizes(b"HD s3\r\n", b"HD s1\r\n") and
           dt.padded_sizes(b"HD s1\r\n", b"HD s30\r\n") and
           not dt.padded_sizes(b"HD s1 t5\r\n", b"HD s3 t6\r\n") and
           not dt.padded_sizes(b"VALUE k 0 1\r\n", b"VALUE k 0 3\r\n"),
           "incr size: only stashd larger (a decr on \"12 abc...\" pads "
           "to its length), meta and me only")

    # a binary response cut short by a reset keeps its CAS translated, so
    # that "close drop" can see it as a prefix of the other server's
    full = dt.BIN_HDR.pack(0x81, 0x1d, 0, 4, 0, 0, 10, 7, 0x66) + b"\0" * 10
    tab_m, tab_s = dt.CasTable(), dt.CasTable()
    norm_m = dt.norm_bin(full[:30], tab_m, [], [])
    norm_s = dt.norm_bin(full, tab_s, [], [])
    tap.ok(norm_s.startswith(norm_m) and len(norm_m) == 30,
           "a truncated binary response is a prefix after normalisation")

    # memcached refused an incr/decr whose value a later command replaced:
    # stashd's answer must show a value of 2^63 or more
    nn = dt.NON_NUMERIC + b"\r\n"
    m, s47 = b"STORED\r\n" + nn + b"END\r\n", b"STORED\r\n47\r\nEND\r\n"
    i = dt.first_diff(m, s47)
    tap.ok(dt.arith_wrapped("text", [m, s47], i, b"incr key:2 48\r\n") and
           not dt.arith_wrapped("text", [m, s47], i, b"incr key:2 5\r\n"),
           "incr past end from stashd's answer: only 2^64-1 + 48 = 47")
    req = dt.BIN_HDR.pack(0x80, 0x05, 1, 20, 0, 0, 21, 77, 0) + \
        struct.pack(">QQI", 48, 0, 0) + b"a"
    bm = dt.BIN_HDR.pack(0x81, 0x05, 0, 0, 0, 6, 4, 77, 0) + b"Nonn"
    for got, want in ((47, True), (147, False)):
        bs = dt.BIN_HDR.pack(0x81, 0x05, 0, 0, 0, 0, 8, 77, 5) + \
            struct.pack(">Q", got)
        tap.ok(dt.arith_wrapped("bin", [bm, bs], dt.first_diff(bm, bs),
                                req) == want,
               "binary INCR by 48 answered %d: %s" % (got, want))
    m0, s0 = b"END\r\n" + nn, b"END\r\n0\r\n"
    i = dt.first_diff(m0, s0)
    tap.ok(dt.arith_wrapped("text", [m0, s0], i,
                            b"decr key:2 18446744073709551615\r\n") and
           not dt.arith_wrapped("text", [m0, s0], i, b"decr key:2 49\r\n"),
           "decr answered 0: explained only with a delta of 2^63 or more")
    pk = dt.BIN_HDR.pack(0x81, 5, 0, 0, 0, 0, 8, 1, 0) + b"12345678"
    tap.ok(dt.progress("bin", pk + pk[:30]) == 1 and
           dt.progress("text", b"a\r\nb\r\nc") == 2,
           "reply progress counts whole replies")

    # no bad data terminator after a bad storage header
    gen = dt.Gen(random.Random(9), 1024 * 1024)
    glued = 0
    for _ in range(20000):
        c = gen.t_store()
        raw = c.render(tab)
        line, _, rest = raw.partition(b"\r\n")
        toks = line.split(b" ")
        n = toks[4] if len(toks) > 4 else b""
        if n.isdigit() and int(n) == len(rest) - 2 and rest.endswith(b"xy"):
            # a good header: its data block is read as data
            continue
        glued += rest.endswith(b"xy")
    tap.ok(glued == 0, "no bad data terminator after a bad header (%d)"
           % glued)

    # nor after a bad ms header (seed 1205's divergence 1: the data read
    # as a line swallowed the next command's, whose 4 KiB data block then
    # was a line: both servers close on it or not by what they read at once)
    gen = dt.Gen(random.Random(10), 1024 * 1024)
    glued = seen = 0
    while seen < 400:
        c = gen.meta()
        if c.desc != "ms":
            continue
        raw = c.render(tab)
        line, _, rest = raw.partition(b"\r\n")
        toks = line.split(b" ")
        good = len(toks) > 2 and toks[2].isdigit() and \
            int(toks[2]) == len(rest) - 2 and 0 < len(toks[1]) <= 250
        if good:
            continue
        seen += 1
        glued += not rest.endswith(b"\r\n")
    tap.ok(glued == 0, "no bad data terminator after a bad ms header (%d "
           "of %d)" % (glued, seen))

    # chunk leak: only memcached's head chunk header, only at the length
    # of an append/prepend of the batch, only where stashd has a value
    n = 524227
    hdr = struct.pack("<QQQQ", 0x7f56f430c010, 0, 0x7f56f4910f88, 0)
    leak = hdr + b"9a47k57uw" + b"\0" * (n - 41)
    good = bytes((i * 131 + 7) & 0xff for i in range(n))
    m = b"STORED\r\nVALUE k1 0 %d\r\n%s\r\nEND\r\n" % (n, leak)
    s_ = b"STORED\r\nVALUE k1 0 %d\r\n%s\r\nEND\r\n" % (n, good)
    app = b"append k1 0 0 %d\r\n%s\r\nget k1\r\n" % (n, good)
    a, b, k = dt.mask_chunk_leak("text", m, s_, app)
    tap.ok(k == 1 and a == b, "chunk leak masks memcached's head chunk")
    tap.ok(dt.mask_chunk_leak("text", m, s_, app.replace(b"append",
                                                         b"set"))[2] == 0,
           "chunk leak: not without an append of that length")
    tap.ok(dt.mask_chunk_leak("text", s_, m, app)[2] == 0,
           "chunk leak: not on stashd's side")
    prev = leak[:8] + b"\x01" * 8 + leak[16:]      # prev not NULL
    used = leak[:28] + b"\x05" + leak[29:]          # used not 0
    high = leak[:7] + b"\x80" + leak[8:]            # not a user pointer
    tap.ok(all(dt.mask_chunk_leak("text", m.replace(leak, x), s_,
                                  app)[2] == 0 for x in (prev, used, high)),
           "chunk leak: not for other bytes")
    sm = n - 1000
    tap.ok(dt.mask_chunk_leak("text", m.replace(b"%d" % n, b"%d" % sm)
                              .replace(leak, leak[:sm]),
                              s_.replace(b"%d" % n, b"%d" % sm)
                              .replace(good, good[:sm]),
                              app.replace(b"%d" % n, b"%d" % sm))[2] == 0,
           "chunk leak: not below memcached's chunked size")
    body = struct.pack(">I", 0) + b"k1"
    pm = dt.BIN_HDR.pack(0x81, 0x0c, 2, 4, 0, 0, 6 + n, 9, 7) + body + leak
    ps = dt.BIN_HDR.pack(0x81, 0x0c, 2, 4, 0, 0, 6 + n, 9, 7) + body + good
    req = dt.BIN_HDR.pack(0x80, 0x0e, 2, 0, 0, 0, 2 + n, 3, 0) + b"k1" + good
    a, b, k = dt.mask_chunk_leak("bin", pm, ps, req)
    tap.ok(k == 1 and a == b, "chunk leak in a binary GETK body")

    # padding carried inside a value in a reply of the same batch
    m = b"VALUE k 0 8 #1\r\n534xezz0\r\nEND\r\n"
    p = b"VALUE k 0 26 #1\r\n53" + b" " * 18 + b"4xezz0\r\nEND\r\n"
    far = b"VALUE k 0 37 #1\r\n53" + b" " * 29 + b"4xezz0\r\nEND\r\n"
    nodigit = b"VALUE k 0 10 #1\r\n53x  4xezz0\r\nEND\r\n"
    norm = [dt.norm_text(x, dt.CasTable(), [], [])
            for x in (m, p, far, nodigit)]
    tap.ok(norm[0] == norm[1] == norm[2] and norm[0] != norm[3],
           "incr padding inside a reply's value: spaces after a digit only")
    # seed 1301: a decr on "12 choihq..." (30 bytes) padded to 30 bytes,
    # then a prepend in the same batch; binary GET of the value
    val = b"up0"
    pm = dt.BIN_HDR.pack(0x81, 0, 0, 4, 0, 0, 7, 1, 0) + b"\0" * 4 + val
    ps = dt.BIN_HDR.pack(0x81, 0, 0, 4, 0, 0, 36, 1, 0) + b"\0" * 4 + val + \
        b" " * 29
    tap.ok(dt.norm_bin(pm, dt.CasTable(), [], []) ==
           dt.norm_bin(ps, dt.CasTable(), [], []),
           "incr padding of 29 spaces in a binary GET body")

    # the probe reads every key whose value is small on either server:
    # seed 1205's divergence 3 was memcached's new 1-byte "3" against
    # stashd's "3" padded in place to 32 bytes, read on memcached only
    m_vals = {b"\xc3\xa9t\xc3\xa9": b"3", b"k1": b"x" * 40}
    s_vals = {b"\xc3\xa9t\xc3\xa9": b"3" + b" " * 31, b"k1": b"x" * 40}
    fakes = [FakeMeta(v) for v in (m_vals, s_vals)]
    got = dt.small_values(fakes)
    tap.ok(got == [{b"\xc3\xa9t\xc3\xa9": b"3"},
                   {b"\xc3\xa9t\xc3\xa9": b"3" + b" " * 31}],
           "value probe: a key small on one server is read on both (%r)"
           % (got,))
    tap.ok(dt.compare_values(fakes) == "incr padding",
           "value probe: a new short item against one padded in place is "
           "incr padding")
    for f in fakes:
        f.close()

    # the value probe after an incr/decr batch: padding on one server only
    # restarts both ("incr padding"), any other difference is reported
    dt.small_values = lambda values: values
    tap.ok(dt.compare_values([{b"k1": b"0  "}, {b"k1": b"0"}]) ==
           "incr padding", "values differing in padding: incr padding")
    tap.ok(dt.compare_values([{b"k1": b"0r8q"}, {b"k1": b"0  r8q"}]) ==
           "incr padding", "padding an append carried inside: incr padding")
    tap.ok(dt.compare_values([{b"k1": b"ar8q"}, {b"k1": b"a  r8q"}]) not in
           (None, "incr padding", "incr past end") and
           dt.compare_values([{b"k1": b"0r8q"}, {b"k1": b"0 r 8q"}]) not in
           (None, "incr padding", "incr past end"),
           "spaces not after a digit, or two runs: reported")
    tap.ok(dt.compare_values([{b"k1": b"07"}, {b"k1": b"07"}]) is None,
           "equal values: nothing to explain")
    # memcached refused an incr/decr that stashd answered, on equal values
    big = b"18446744073709551615"
    tap.ok(dt.compare_values([{b"a": big}, {b"a": big}], refused=True) ==
           "incr past end", "refused on a number >= 2^63: incr past end")
    tap.ok(dt.compare_values([{b"a": b"17"}, {b"a": b"17"}],
                             refused=True) is None,
           "refused with no number >= 2^63 held: not explained")
    other = dt.compare_values([{b"k1": b"0"}, {b"k1": b"1"}])
    tap.ok(other not in (None, "incr padding", "incr past end"),
           "other differences are reported: %r" % (other,))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
