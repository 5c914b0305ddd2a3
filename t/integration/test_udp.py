#!/usr/bin/python3
"""UDP (-U): memcached's 8-byte frame header, multi-datagram replies, the
requests memcached 1.6.18 answers over UDP, what it drops, -U -1, and the
amplification bound.

Runs against the target server; when that is stashd and memcached 1.6.18
is installed, every exchange is also run against memcached (started with
-U as well) and the replies compared: byte for byte where both send one
message, by reassembled payload (and stashd never sending more bytes)
where memcached cuts a reply into one message per key or per request.
"""

import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

DGRAM_MAX = 1400
HDR = 8
QUIET = 0.25            # no datagram for this long: the reply is over
REPLY_MAX = 64 * 1024   # stashd's cap on one UDP reply (daemon/udp.h)
TOO_LARGE = b"SERVER_ERROR reply too large for UDP\r\n"


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def start(kind, flags):
    """Start stashd or memcached (kind) with flags, via stashtest."""
    old = os.environ.get("STASHD_TARGET")
    if kind == "memcached":
        os.environ["STASHD_TARGET"] = "memcached"
    else:
        os.environ.pop("STASHD_TARGET", None)
    try:
        return st.Server(flags).start()
    finally:
        if old is None:
            os.environ.pop("STASHD_TARGET", None)
        else:
            os.environ["STASHD_TARGET"] = old


def udp_ports_of(pid):
    """The UDP ports process pid has bound (from /proc)."""
    inodes = set()
    fddir = "/proc/%d/fd" % pid
    for fd in os.listdir(fddir):
        try:
            link = os.readlink(os.path.join(fddir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            inodes.add(m.group(1))
    ports = []
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[9] in inodes:
                        ports.append(int(cols[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


class Udp:
    """A UDP client of one server."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        try:    # as root: room for a memcached reply of many megabytes
            self.sock.setsockopt(socket.SOL_SOCKET,
                                 getattr(socket, "SO_RCVBUFFORCE", 33),
                                 64 << 20)
        except OSError:
            pass
        self.sock.bind(("127.0.0.1", 0))

    def ask(self, body, rid=0x1234, seq=0, total=1, reserved=0, raw=None,
            wait=QUIET, limit=2000):
        """Send one datagram; every datagram received until `wait` s of
        silence (bounded: at most `limit` datagrams, 10 s)."""
        pkt = raw if raw is not None else (
            struct.pack(">HHHH", rid, seq, total, reserved) + body)
        self.sock.sendto(pkt, ("127.0.0.1", self.port))
        out = []
        deadline = time.monotonic() + 10
        self.sock.settimeout(wait)
        try:
            while len(out) < limit and time.monotonic() < deadline:
                out.append(self.sock.recv(70000))
        except socket.timeout:
            pass
        return out

    def close(self):
        self.sock.close()


def headers(dgrams):
    return [struct.unpack(">HHHH", d[:HDR]) for d in dgrams]


def payload(dgrams):
    return b"".join(d[HDR:] for d in dgrams)


def well_framed(dgrams, rid):
    """One message: ids echoed, seq 0..total-1 in order, reserved 0,
    every datagram within DGRAM_MAX and all but the last full."""
    hs = headers(dgrams)
    n = len(dgrams)
    return (n > 0 and all(h[0] == rid for h in hs) and
            [h[1] for h in hs] == list(range(n)) and
            all(h[2] == n for h in hs) and all(h[3] == 0 for h in hs) and
            all(len(d) <= DGRAM_MAX for d in dgrams) and
            all(len(d) == DGRAM_MAX for d in dgrams[:-1]))


def tcp_setup(server, big):
    c = st.Conn(server)
    for key, value in (("k", b"abc"), ("big", b"x" * 5000),
                       ("huge", b"y" * 100000), ("e", big),
                       ("e2", big + b"!")):
        c.send(b"set %s 5 0 %d\r\n%s\r\n" % (key.encode(), len(value), value))
        if c.readline() != b"STORED":
            raise RuntimeError("set %s failed" % key)
    return c


# The value whose "get e" reply is exactly stashd's UDP cap: the worst
# amplification stashd allows (the shortest request, the longest reply).
EDGE = b"e" * (REPLY_MAX - len(b"VALUE e 5 65512\r\n\r\nEND\r\n"))

# (description, request payload, what both servers must answer)
EXACT = [
    ("get hit", b"get k\r\n", b"VALUE k 5 3\r\nabc\r\nEND\r\n"),
    ("get miss", b"get nokey\r\n", b"END\r\n"),
    ("version", b"version\r\n", b"VERSION 1.6.18\r\n"),
    ("unknown command", b"bogus\r\n", b"ERROR\r\n"),
    ("meta no-op", b"mn\r\n", b"MN\r\n"),
    ("meta get miss", b"mg nokey v\r\n", b"EN\r\n"),
    ("touch miss", b"touch nokey 0\r\n", b"NOT_FOUND\r\n"),
    ("set then get", b"set j 0 0 1\r\na\r\nget j\r\n",
     b"STORED\r\nVALUE j 0 1\r\na\r\nEND\r\n"),
    ("a lone newline", b"\n", b"ERROR\r\n"),
    ("binary get miss",
     b"\x80\x00\x00\x01" + b"\x00" * 4 + b"\x00\x00\x00\x01" + b"\x00" * 12
     + b"q",
     b"\x81\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x09" + b"\x00" * 12
     + b"Not found"),
]


def run_exact(tap, name, u, cmp_u):
    for desc, req, want in EXACT:
        if desc == "set then get" and (name != "stashd" or cmp_u):
            continue    # memcached: two messages; compared in run_multi
        got = u.ask(req)
        tap.ok(well_framed(got, 0x1234) and payload(got) == want,
               "%s: %s" % (name, desc), "got %r" % got)
        if cmp_u is not None:
            theirs = cmp_u.ask(req)
            tap.eq(got, theirs, "%s: %s byte for byte as memcached"
                   % (name, desc))


def run_frame(tap, name, u, is_stashd):
    got = u.ask(b"gets k\r\n", rid=0xBEEF, seq=9, reserved=0x7777)
    tap.ok(len(got) == 1 and got[0][:HDR] == b"\xbe\xef\x00\x00\x00\x01"
           b"\x00\x00" and re.match(rb"VALUE k 5 3 \d+\r\nabc\r\nEND\r\n$",
                                    got[0][HDR:]) is not None,
           "%s: gets: id echoed, request seq and reserved ignored" % name,
           "got %r" % got)
    tap.eq(u.ask(b"get k\r\n", total=2), [],
           "%s: a request claiming 2 datagrams is dropped" % name)
    tap.eq(u.ask(b"get k\r\n", total=0), [],
           "%s: a request claiming 0 datagrams is dropped" % name)
    tap.eq(u.ask(None, raw=b"\x00\x01\x00\x00\x00\x01\x00\x00"), [],
           "%s: a bare 8-byte header is dropped" % name)
    tap.eq(u.ask(None, raw=b"\x00\x01\x00\x00\x00\x01\x00"), [],
           "%s: a 7-byte datagram is dropped" % name)
    tap.eq(u.ask(b"get k"), [],
           "%s: a request cut off at the datagram's end gets no answer"
           % name)
    tap.eq(u.ask(b"get k\r\n"), [b"\x12\x34\x00\x00\x00\x01\x00\x00"
                                 b"VALUE k 5 3\r\nabc\r\nEND\r\n"],
           "%s: the cut-off request left nothing behind" % name)
    tap.eq(u.ask(b"quit\r\n", rid=5), [b"\x00\x05\x00\x00\x00\x00\x00\x00"],
           "%s: quit answers a bare header, 0 datagrams" % name)
    big = u.ask(b"get big\r\n", rid=0x0102)
    want = b"VALUE big 5 5000\r\n" + b"x" * 5000 + b"\r\nEND\r\n"
    tap.ok(well_framed(big, 0x0102) and len(big) == 4 and
           payload(big) == want,
           "%s: a 5000-byte value comes in 4 numbered datagrams" % name,
           "headers %r sizes %r" % (headers(big), [len(d) for d in big]))
    edge = u.ask(b"get e\r\n", rid=3)
    tap.ok(well_framed(edge, 3) and len(edge) == 48 and
           payload(edge) == b"VALUE e 5 %d\r\n%s\r\nEND\r\n"
           % (len(EDGE), EDGE),
           "%s: a reply of exactly 64 KiB comes in 48 datagrams" % name,
           "%d datagrams, headers %r" % (len(edge), headers(edge)[:3]))
    over = u.ask(b"get e2\r\n", rid=3)
    if is_stashd:
        tap.eq(over, [b"\x00\x03\x00\x00\x00\x01\x00\x00" + TOO_LARGE],
               "%s: one byte more than 64 KiB is refused" % name)
    else:
        tap.ok(well_framed(over, 3) and len(over) == 48,
               "%s: memcached sends 64 KiB + 1 in 48 datagrams" % name)
    huge = u.ask(b"get huge\r\n", rid=4)
    if is_stashd:
        tap.eq(huge, [b"\x00\x04\x00\x00\x00\x01\x00\x00" + TOO_LARGE],
               "%s: a reply over 64 KiB is refused in one datagram" % name)
    else:
        tap.ok(well_framed(huge, 4) and len(huge) == 72,
               "%s: memcached sends a 100 KB value in 72 datagrams" % name,
               "%d datagrams" % len(huge))


def run_multi(tap, u, cmp_u):
    """Requests memcached answers as several messages: same reassembled
    bytes, stashd in one message and never more bytes."""
    # memcached answers the second request of "get k\r\nget big\r\n" only
    # some of the time (its UDP connection may read the next datagram over
    # the rest of this one): stashd always answers both, in one message
    got = u.ask(b"get k\r\nget big\r\n")
    tap.ok(well_framed(got, 0x1234) and payload(got) ==
           b"VALUE k 5 3\r\nabc\r\nEND\r\nVALUE big 5 5000\r\n" +
           b"x" * 5000 + b"\r\nEND\r\n",
           "stashd: two gets in one datagram answered in one message")
    for desc, req in (("get of two keys", b"get k big\r\n"),
                      ("set then get", b"set j 0 0 1\r\na\r\nget j\r\n"),
                      ("stats", b"stats settings\r\n")):
        ours = u.ask(req)
        theirs = cmp_u.ask(req)
        if desc == "stats":
            # different servers, different settings: compare the framing
            tap.ok(well_framed(ours, 0x1234) and
                   payload(ours).endswith(b"END\r\n"),
                   "stashd: %s in one well-framed message" % desc)
            continue
        tap.ok(well_framed(ours, 0x1234), "stashd: %s in one message" % desc,
               "headers %r" % headers(ours))
        tap.eq(payload(ours), payload(theirs),
               "%s: same reassembled reply as memcached" % desc)
        tap.ok(sum(map(len, ours)) <= sum(map(len, theirs)),
               "%s: stashd sends no more bytes than memcached (%d <= %d)"
               % (desc, sum(map(len, ours)), sum(map(len, theirs))))


def stats_written(c):
    """bytes_written now, and the length of the stats reply that said so
    (written after the number was taken, so counted by the next call)."""
    c.send(b"stats\r\n")
    raw = b""
    while not raw.endswith(b"END\r\n"):
        raw += c.readline() + b"\r\n"
    m = re.search(rb"STAT bytes_written (\d+)\r\n", raw)
    return int(m.group(1)), len(raw)


def amplification(tap, name, server, port, reqs, is_stashd):
    """Reply bytes / request bytes (whole UDP payloads, headers included)
    per request, from the server's own bytes_written: a reply of
    thousands of datagrams need not all arrive to be counted."""
    c = st.Conn(server)
    worst = (0.0, None)
    for req in reqs:
        u = Udp(port)   # a fresh socket: a cut-off reply cannot spill over
        before, stats_len = stats_written(c)
        got = u.ask(req, wait=0.5, limit=1 << 20)
        after, _ = stats_written(c)
        u.close()
        sent = after - before - stats_len
        ratio = sent / float(len(req) + HDR)
        tap.diag("%s: %d-byte request %r... -> %d bytes (%d received), "
                 "x%.1f" % (name, len(req) + HDR, req[:24], sent,
                            sum(map(len, got)), ratio))
        if ratio > worst[0]:
            worst = (ratio, req)
        if is_stashd:
            tap.ok(0 < sent <= REPLY_MAX + HDR * (REPLY_MAX // 1392 + 1),
                   "%s: a %d-byte request gets at most 64 KiB + headers"
                   % (name, len(req) + HDR), "sent %d" % sent)
    c.close()
    return worst


def concurrent(tap, name, port, threads=4, rounds=300):
    """threads clients, each storing and reading back its own keys over
    UDP, one request in flight each (bounded: rounds each, 60 s)."""
    import threading
    bad = []
    deadline = time.monotonic() + 60

    def client(t):
        u = Udp(port)
        try:
            for i in range(rounds):
                if time.monotonic() > deadline:
                    bad.append("time out")
                    return
                key = b"c%d_%d" % (t, i)
                val = b"%d" % (i * 7919 + t) * (1 + i % 300)
                rid = (t * rounds + i) & 0xFFFF
                want = (b"STORED\r\nVALUE %s 0 %d\r\n%s\r\nEND\r\n"
                        % (key, len(val), val))
                # ask() returns as soon as the last datagram is in
                got = u.ask(b"set %s 0 0 %d\r\n%s\r\nget %s\r\n"
                            % (key, len(val), val, key), rid=rid, wait=2.0,
                            limit=(len(want) + 1391) // 1392)
                if not well_framed(got, rid) or payload(got) != want:
                    bad.append((key, headers(got)[:2]))
                    return
        finally:
            u.close()

    ts = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(90)
    tap.ok(not bad, "%s: %d UDP clients x %d set+get round trips, every "
           "reply whole and framed" % (name, threads, rounds), repr(bad[:3]))


def main():
    tap = st.Tap()
    if st.target() == "external":
        st.skip("needs its own server flags (-U); STASHD_ADDR is set")
    kind = st.target()
    compare = (kind == "stashd" and os.access(st.MEMCACHED, os.X_OK))

    # off by default: stashtest starts servers with -U 0, and memcached
    # 1.6.18 has UDP off by default too
    plain = start(kind, [])
    tap.eq(udp_ports_of(plain.proc.pid), [], "%s: no UDP socket without -U"
           % kind)
    tap.ok(plain.check(), "%s without -U stopped cleanly" % kind)

    port = free_udp_port()
    server = start(kind, ["-U", str(port)])
    c = tcp_setup(server, EDGE)
    u = Udp(port)
    other = cmp_u = None
    if compare:
        oport = free_udp_port()
        other = start("memcached", ["-U", str(oport)])
        tcp_setup(other, EDGE).close()
        cmp_u = Udp(oport)

    run_exact(tap, kind, u, cmp_u)
    run_frame(tap, kind, u, kind == "stashd")
    if compare:
        run_frame(tap, "memcached", cmp_u, False)
        run_multi(tap, u, cmp_u)

    if kind == "stashd":
        # memcached splits the set+get reply into two messages
        concurrent(tap, kind, port)

    # TCP still answers alongside UDP, and sees what UDP stored
    tap.eq(payload(u.ask(b"set t 0 0 1\r\nb\r\n")), b"STORED\r\n",
           "%s: set over UDP" % kind)
    tap.eq(c.cmd("get t"), "VALUE t 0 1", "%s: TCP sees a UDP set" % kind)
    c.readexact(len(b"b\r\nEND\r\n"))
    ss = c.stats("settings")
    tap.eq((ss.get("udpport"), ss.get("num_threads_per_udp")),
           (str(port), ss.get("num_threads")),
           "%s: stats settings: udpport, num_threads_per_udp" % kind)
    c.close()

    # amplification: the worst requests we could build, both servers
    c = st.Conn(server)
    c.send(b"set m 0 0 1000000\r\n" + b"z" * 1000000 + b"\r\n")
    tap.eq(c.readline(), b"STORED", "%s: 1 MB value stored" % kind)
    c.close()
    reqs = [b"get k\r\n", b"stats\r\n", b"get e\r\n", b"get m\r\n",
            b"get " + b"m " * 30 + b"\r\n",
            b"get " + b"e " * 200 + b"\r\n"]
    worst = amplification(tap, kind, server, port, reqs, kind == "stashd")
    tap.diag("%s: worst amplification x%.1f for %r..."
             % (kind, worst[0], worst[1][:24]))
    if compare:
        c = st.Conn(other)
        c.send(b"set m 0 0 1000000\r\n" + b"z" * 1000000 + b"\r\n")
        c.readline()
        c.close()
        theirs = amplification(tap, "memcached", other, oport, reqs,
                               False)
        tap.diag("memcached: worst amplification x%.1f for %r..."
                 % (theirs[0], theirs[1][:24]))
        tap.ok(worst[0] <= theirs[0],
               "stashd's worst amplification (x%.1f) is below memcached's "
               "(x%.1f)" % (worst[0], theirs[0]))
        cmp_u.close()
        tap.ok(other.check(), "memcached stopped cleanly")
    u.close()
    tap.ok(server.check(), "%s with -U stopped cleanly" % kind)

    # -U -1: an ephemeral port, found in /proc
    eph = start(kind, ["-U", "-1"])
    ports = [p for p in udp_ports_of(eph.proc.pid) if p != 0]
    tap.ok(len(ports) == 1, "%s -U -1 binds one UDP port (%r)"
           % (kind, ports))
    if ports:
        ue = Udp(ports[0])
        tap.eq(ue.ask(b"version\r\n"),
               [b"\x12\x34\x00\x00\x00\x01\x00\x00VERSION 1.6.18\r\n"],
               "%s: -U -1 answers on its ephemeral port" % kind)
        ue.close()
    tap.ok(eph.check(), "%s with -U -1 stopped cleanly" % kind)
    tap.done()


if __name__ == "__main__":
    main()
