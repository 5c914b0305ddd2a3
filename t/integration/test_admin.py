#!/usr/bin/python3
"""The operator surface that one transcript connection cannot show:
stats detail over the binary protocol and its prefix cap, stats conns
states of several connections at once, idle_kicks, -p -1 / -U -1 with
MEMCACHED_PORT_FILENAME, memcached_exporter-style parsing of the stats
replies, and Debian's memcached-tool against the server.

Runs against stashd, or memcached 1.6.18 with STASHD_TARGET=memcached
(the prefix cap, a stashd limit, is then skipped)."""

import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

HDR = struct.Struct(">BBHBBHIIQ")
BIN_GET, BIN_SET, BIN_DELETE = 0x00, 0x01, 0x04
DETAIL_PREFIX_MAX = 4096    # daemon/detail.h
MEMCACHED_TOOL = "/usr/share/memcached/scripts/memcached-tool"


def bin_pkt(op, key, extras=b"", value=b""):
    key = key.encode()
    return HDR.pack(0x80, op, len(key), len(extras), 0, 0,
                    len(extras) + len(key) + len(value), 0, 0) + \
        extras + key + value


def bin_call(c, packet):
    """Send one binary request, return its status."""
    c.send(packet)
    hdr = HDR.unpack(c.readexact(24))
    c.readexact(hdr[6])
    return hdr[5]


def bin_stat(c, key):
    """A binary Stat request: [(status, key, value)] up to the empty
    terminator (or the first error)."""
    k = key.encode()
    c.send(HDR.pack(0x80, 0x10, len(k), 0, 0, 0, len(k), 0, 0) + k)
    out = []
    while True:
        hdr = HDR.unpack(c.readexact(24))
        body = c.readexact(hdr[6])
        nkey, next_ = hdr[2], hdr[3]
        out.append((hdr[5], body[next_:next_ + nkey],
                    body[next_ + nkey:]))
        if nkey == 0 or hdr[5] != 0:
            return out


def bin_get_status(c, key):
    return bin_call(c, bin_pkt(BIN_GET, key))


def dump(c):
    c.send(b"stats detail dump\r\n")
    out = {}
    while True:
        line = c.readline().decode()
        if line == "END":
            return out
        m = re.fullmatch(r"PREFIX (\S+) get (\d+) hit (\d+) set (\d+) "
                         r"del (\d+)", line)
        if m is None:
            raise AssertionError("bad dump line %r" % line)
        out[m.group(1)] = tuple(int(g) for g in m.groups()[1:])


def test_detail_binary(tap):
    with st.Server() as server:
        c = st.Conn(server)
        tap.eq(c.cmd("stats detail on"), "OK", "stats detail on")
        b = st.Conn(server)
        tap.eq(bin_call(b, bin_pkt(BIN_SET, "bin:1",
                                   struct.pack(">II", 0, 0), b"v")), 0,
               "binary set")
        tap.eq(bin_call(b, bin_pkt(BIN_GET, "bin:1")), 0, "binary get hit")
        tap.eq(bin_call(b, bin_pkt(BIN_GET, "bin:2")), 1,
               "binary get miss")
        tap.eq(bin_call(b, bin_pkt(BIN_DELETE, "bin:1")), 0,
               "binary delete")
        if st.target() != "memcached":
            # a binary key may hold a line end before the delimiter
            tap.eq(bin_call(b, bin_pkt(BIN_GET, "x\r\nEND\r\n:1")), 1,
                   "binary get of a key with a line end")
        tap.eq(dump(c), {"bin": (2, 1, 1, 1)},
               "binary get/set/delete counted per prefix")
        # the binary Stat "detail ..." keys, as memcached answers them
        tap.eq(bin_stat(b, "detail dump"),
               [(0, b"detailed", b"PREFIX bin get 2 hit 1 set 1 del 1\r\n"
                                 b"END\r\n"), (0, b"", b"")],
               "binary stat detail dump: one 'detailed' stat")
        tap.eq(bin_stat(b, "detail off"), [(0, b"", b"")],
               "binary stat detail off")
        tap.eq(bin_get_status(b, "bin:3"), 1, "a get while off")
        tap.eq(bin_stat(b, "detail on"), [(0, b"", b"")],
               "binary stat detail on")
        tap.eq(bin_stat(b, "detail bogus"), [(1, b"", b"Not found")],
               "binary stat detail bogus: Not found")
        tap.eq(dump(c), {"bin": (2, 1, 1, 1)}, "off stopped counting")
        c.close()
        b.close()
        server.check()


def test_detail_cap(tap):
    if st.target() == "memcached":
        tap.diag("memcached has no prefix cap: skipped")
        return
    with st.Server() as server:
        c = st.Conn(server)
        tap.eq(c.cmd("stats detail on"), "OK", "stats detail on")
        extra = 50
        total = DETAIL_PREFIX_MAX + extra
        # pipelined in batches, every reply read: bounded in count
        for start in range(0, total, 500):
            n = min(500, total - start)
            c.send("".join("get p%d:k\r\n" % i
                           for i in range(start, start + n)).encode())
            for _ in range(n):
                tap_line = c.readline()
                if tap_line != b"END":
                    raise AssertionError("get answered %r" % tap_line)
        # a prefix already in the table keeps counting when it is full
        c.send(b"get p0:k\r\n")
        c.readline()
        d = dump(c)
        tap.eq(len(d), DETAIL_PREFIX_MAX,
               "the table holds at most %d prefixes" % DETAIL_PREFIX_MAX)
        tap.eq(d.get("p0"), (2, 0, 0, 0), "a known prefix still counts")
        tap.ok("p%d" % (total - 1) not in d, "a prefix past the cap is not")
        c.close()
        server.check()


def conns_by_port(c):
    """stats conns as {peer port or 'listen': state}, plus listeners' secs."""
    raw = c.stats("conns")
    addr = {}
    state = {}
    secs = {}
    for k, v in raw.items():
        fd, _, field = k.partition(":")
        if field == "addr":
            addr[fd] = v
        elif field == "state":
            state[fd] = v
        elif field == "secs_since_last_cmd":
            secs[fd] = v
    out = {}
    for fd, a in addr.items():
        out[int(a.rsplit(":", 1)[1]) if state[fd] != "conn_listening"
            else "listen"] = (state[fd], secs.get(fd))
    return out


def test_conn_states(tap):
    with st.Server() as server:
        fresh = server.connect()
        idle = st.Conn(server)
        tap.eq(idle.cmd("version").split(" ")[0], "VERSION", "version")
        partial = server.connect()
        partial.sendall(b"get abc")
        nread = server.connect()
        nread.sendall(b"set k 0 0 10\r\n12345")
        swallow = server.connect()
        swallow.sendall(b"set big 0 0 2000000\r\n" + b"x" * 100)
        blocked = st.Conn(server)
        blocked.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        blocked.send(b"set big 0 0 500000 noreply\r\n" + b"x" * 500000 +
                     b"\r\n")
        blocked.send(b"get" + b" big" * 16 + b"\r\n")
        q = st.Conn(server)
        want = {
            fresh.getsockname()[1]: "conn_new_cmd",
            idle.sock.getsockname()[1]: "conn_read",
            partial.getsockname()[1]: "conn_read",
            nread.getsockname()[1]: "conn_nread",
            swallow.getsockname()[1]: "conn_swallow",
            blocked.sock.getsockname()[1]: "conn_mwrite",
            q.sock.getsockname()[1]: "conn_parse_cmd",
        }
        # states settle as the server gets to each socket: on a loaded
        # machine (ASan, CI) that can take seconds
        deadline = time.monotonic() + 20
        while True:
            got = conns_by_port(q)
            seen = {p: got.get(p, (None,))[0] for p in want}
            if seen == want or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for p, w in want.items():
            tap.eq(seen[p], w, "stats conns state %s" % w)
        listen = got.get("listen")
        tap.ok(listen is not None and listen[0] == "conn_listening" and
               listen[1] is not None and listen[1].isdigit(),
               "listener: conn_listening with secs_since_last_cmd",
               repr(listen))
        tap.ok(all(v[1] is not None and v[1].isdigit()
                   for v in got.values()),
               "every connection has secs_since_last_cmd")
        for s in (fresh, partial, nread, swallow):
            s.close()
        for s in (idle, blocked, q):
            s.close()
        server.check()


def test_idle_kicks(tap):
    with st.Server() as server:
        c = st.Conn(server)
        tap.ok("idle_kicks" not in c.stats(),
               "no idle_kicks without -o idle_timeout")
        c.close()
        server.check()
    with st.Server(["-o", "idle_timeout=1"]) as server:
        idle = st.Conn(server)
        idle.send(b"version\r\n")
        idle.readline()
        tap.ok(idle.closed(wait=5), "an idle connection is closed")
        c = st.Conn(server)
        tap.eq(c.stats().get("idle_kicks"), "1", "idle_kicks counts it")
        c.close()
        server.check()


def test_port_file(tap):
    if st.target() == "external":
        tap.diag("STASHD_ADDR set: port file test skipped")
        return
    tmp = tempfile.mkdtemp(prefix="stashtest.ports.")
    path = os.path.join(tmp, "ports")
    env = dict(os.environ, MEMCACHED_PORT_FILENAME=path)
    err = open(os.path.join(tmp, "stderr"), "wb")
    proc = subprocess.Popen([st.binary(), "-u", "root", "-p", "-1", "-U",
                             "-1", "-l", "127.0.0.1"], env=env,
                            stdin=subprocess.DEVNULL, stdout=err,
                            stderr=err)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        tap.ok(os.path.exists(path), "-p -1 writes MEMCACHED_PORT_FILENAME")
        text = open(path).read() if os.path.exists(path) else ""
        tap.ok(re.fullmatch(r"(TCP INET6?: \d+\n)+(UDP INET6?: \d+\n)+",
                            text) is not None,
               "port file in memcached's format, TCP then UDP", repr(text))
        tap.ok(not os.path.exists(path + ".lck"), "no .lck left behind")
        m = re.match(r"TCP INET: (\d+)", text)
        port = int(m.group(1)) if m else 0
        tap.ok(port > 0, "an ephemeral port was bound")
        if port > 0:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"stats settings\r\n")
            got = b""
            while not got.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            s.close()
            tap.ok(b"STAT tcpport -1\r\n" in got,
                   "stats settings keeps tcpport -1, as memcached")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, 15)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.wait()
        err.close()


def tool(server, mode):
    out = subprocess.run(["perl", MEMCACHED_TOOL,
                          "%s:%d" % (server.host, server.port), mode],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    return out.returncode, out.stdout.decode(), out.stderr.decode()


def test_memcached_tool(tap):
    if not os.path.exists(MEMCACHED_TOOL):
        tap.diag("%s missing: skipped" % MEMCACHED_TOOL)
        return
    with st.Server(["-o", "track_sizes"]) as server:
        c = st.Conn(server)
        for i in range(20):
            c.send(b"set k%d 0 0 %d noreply\r\n%s\r\n"
                   % (i, 10 * i + 1, b"x" * (10 * i + 1)))
        tap.eq(c.cmd("get k0").split(" ")[0], "VALUE", "items stored")
        c.readline()
        c.readline()
        rc, out, err = tool(server, "display")
        rows = [l for l in out.splitlines()[1:] if l.strip()]
        tap.ok(rc == 0 and "Item_Size" in out.splitlines()[0] and
               rows and all(re.match(r"\s*\d+\s+\S+\s+\d+s\s+\d+\s+\d+\s+"
                                     r"(yes|no)\s+\d+\s+\d+\s+\d+", r)
                            for r in rows) and
               sum(int(r.split()[4]) for r in rows) == 20,
               "memcached-tool display: one row per class, counts add up",
               out + err)
        rc, out, err = tool(server, "stats")
        vals = dict(l.split() for l in out.splitlines()[1:] if l.strip())
        tap.ok(rc == 0 and vals.get("curr_items") == "20" and
               vals.get("cmd_get") == "1" and "uptime" in vals,
               "memcached-tool stats parses", out + err)
        rc, out, err = tool(server, "settings")
        vals = dict(l.split(None, 1) for l in out.splitlines()[1:]
                    if l.strip())
        tap.ok(rc == 0 and vals.get("maxbytes", "").strip() == "67108864" and
               vals.get("track_sizes", "").strip() == "yes",
               "memcached-tool settings parses", out + err)
        rc, out, err = tool(server, "sizes")
        vals = dict(l.split() for l in out.splitlines()[1:] if l.strip())
        tap.ok(rc == 0 and vals and
               all(k.isdigit() and int(k) % 32 == 0 for k in vals) and
               sum(int(v) for v in vals.values()) == 20,
               "memcached-tool sizes: 32-byte buckets holding 20 items",
               out + err)
        c.close()
        server.check()


def test_exporter_parsing(tap):
    """memcached_exporter's way of reading stats: every line "STAT name
    value", items as items:<class>:<field> and slabs as <class>:<field>
    with integer values, conns as <fd>:<field>."""
    with st.Server() as server:
        c = st.Conn(server)
        for i in range(10):
            c.send(b"set e%d 0 0 %d noreply\r\n%s\r\n"
                   % (i, 100 * i + 1, b"x" * (100 * i + 1)))
        tap.eq(c.cmd("mn"), "MN", "items stored")
        general = c.stats()
        tap.ok(all(re.fullmatch(r"-?\d+(\.\d+)?", general[k])
                   for k in ("uptime", "curr_connections", "cmd_get",
                             "get_hits", "bytes", "curr_items",
                             "limit_maxbytes", "accepting_conns",
                             "listen_disabled_num", "rusage_user",
                             "evictions", "threads")),
               "stats: the exporter's numeric fields parse")
        items = c.stats("items")
        tap.ok(items and all(re.fullmatch(r"items:\d+:\w+", k) and
                             re.fullmatch(r"\d+", v)
                             for k, v in items.items()),
               "stats items: items:<class>:<field> <integer>")
        slabs = c.stats("slabs")
        tap.ok(slabs and all((re.fullmatch(r"\d+:\w+", k) or
                              k in ("active_slabs", "total_malloced")) and
                             re.fullmatch(r"\d+", v)
                             for k, v in slabs.items()),
               "stats slabs: <class>:<field> <integer> and totals")
        settings = c.stats("settings")
        tap.ok(settings and all(re.fullmatch(r"\w+", k) and v != ""
                                for k, v in settings.items()),
               "stats settings: <name> <value>")
        conns = c.stats("conns")
        tap.ok(conns and all(re.fullmatch(r"\d+:(addr|listen_addr|state|"
                                          r"secs_since_last_cmd)", k)
                             for k in conns),
               "stats conns: <fd>:<field>")
        c.close()
        server.check()


def main():
    tap = st.Tap()
    test_exporter_parsing(tap)
    test_detail_binary(tap)
    test_detail_cap(tap)
    test_conn_states(tap)
    test_idle_kicks(tap)
    test_port_file(tap)
    test_memcached_tool(tap)
    tap.done()


if __name__ == "__main__":
    main()
