#!/usr/bin/python3
"""Key listings: lru_crawler metadump/mgdump and stats cachedump.

- the line formats of each listing against items whose every field is
  known (flags, TTL, CAS from gets, fetched or not, URL-encoded keys);
  expired and flushed items are not listed;
- the real tools: memcached-tool HOST:PORT dump (metadump + get) and
  libmemcached's memcdump (stats cachedump) list every key of a 50-key
  server;
- -X refuses the listings and the tools find nothing;
- a 200k-item metadump read to the end lists each key once; clients that
  close mid-dump leave the server serving (ASan builds check the leak);
- dumps while other connections set, get and delete (bounded stress).

With STASHD_TARGET=memcached the same checks run against memcached 1.6.18,
except mgdump, which 1.6.18 does not have (it answers ERROR), and that
1.6.18's metadump all may miss the few items its crawler finds locked.
stats cachedump lists linked items whether expired or flushed, as
memcached's does; metadump and mgdump list live items only.  memcached's
cachedump shows only its COLD LRU, so its cachedump checks run with
-o no_lru_maintainer (everything in COLD); stashd's cachedump covers every
segment and runs with default flags."""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

LIMIT = 240.0
MEMCACHED_TOOL = "/usr/share/memcached/scripts/memcached-tool"
META_RE = re.compile(rb"key=(\S+) exp=(-?\d+) la=(\d+) cas=(\d+) "
                     rb"fetch=(yes|no) cls=(\d+) size=(\d+)")
CACHE_RE = re.compile(rb"ITEM (\S+) \[(\d+) b; (\d+) s\]")
IS_MEMCACHED = st.target() == "memcached"


class BusyError(Exception):
    """memcached runs one crawler job at a time and answers BUSY."""


def read_listing(conn, end, deadline):
    """Lines of a listing up to (without) its end line; metadump lines end
    in a bare newline, the others in \\r\\n."""
    data = conn.buf
    conn.buf = b""
    term = b"\n" + end + b"\r\n"
    while not data.endswith(term) and data != end + b"\r\n":
        if time.monotonic() > deadline:
            raise TimeoutError("listing did not end")
        if data.startswith(b"BUSY") and data.endswith(b"\r\n"):
            raise BusyError(data)
        conn._fill()
        data += conn.buf
        conn.buf = b""
    body = data[:-len(end) - 2]
    return [ln.rstrip(b"\r") for ln in body.split(b"\n") if ln]


def metadump(conn, arg, deadline):
    conn.send(b"lru_crawler metadump %s\r\n" % arg)
    return read_listing(conn, b"END", deadline)


def load(conn, n, prefix=b"key", size=10, ttl=0):
    """Pipelined sets of n keys, in batches."""
    value = b"v" * size
    for start in range(0, n, 500):
        end = min(n, start + 500)
        conn.send(b"".join(b"set %s%d 0 %d %d noreply\r\n%s\r\n"
                           % (prefix, i, ttl, size, value)
                           for i in range(start, end)))
    conn.cmd("version")


def check_formats(tap, deadline):
    server = st.Server(["-o", "no_lru_maintainer"] if IS_MEMCACHED
                       else []).start()
    c = st.Conn(server)
    now = int(c.stats()["time"])
    keys = {b"plain": (5, 0), b"a%20b": (0, 100), b"k~-._!*\xc3\xa9": (9, 0)}
    cas = {}
    for k, (flags, ttl) in keys.items():
        c.send(b"set %s %d %d 3\r\nabc\r\n" % (k, flags, ttl))
        tap.eq(c.readline(), b"STORED", "stored %r" % k)
    c.send(b"gets plain\r\n")
    cas[b"plain"] = int(c.readline().split()[4])
    c.readline()
    c.readline()
    c.send(b"set gone 0 1 1\r\nx\r\n")
    c.readline()
    time.sleep(2.1)
    lines = metadump(c, b"all", deadline)
    got = {}
    for ln in lines:
        m = META_RE.fullmatch(ln)
        tap.ok(m is not None, "metadump line format: %r" % ln)
        if m:
            got[urllib.parse.unquote_to_bytes(m.group(1))] = m
    tap.eq(sorted(got), sorted(keys), "metadump lists the live keys, "
           "not the expired one")
    m = got.get(b"a%20b")
    tap.ok(m is not None and m.group(1) == b"a%2520b",
           "metadump URL-encodes '%' as %25")
    tap.ok(m is not None and abs(int(m.group(2)) - (now + 100)) <= 2,
           "exp is the absolute expiry time")
    m = got.get(b"plain")
    tap.ok(m is not None and m.group(2) == b"-1", "exp=-1 never expires")
    tap.ok(m is not None and int(m.group(4)) == cas[b"plain"],
           "cas is the item's CAS")
    tap.ok(m is not None and m.group(5) == b"yes", "fetch=yes after gets")
    tap.ok(got.get(b"a%20b") is not None and
           got[b"a%20b"].group(5) == b"no", "fetch=no when never read")
    tap.ok(m is not None and abs(int(m.group(3)) - now) <= 3,
           "la is the last access time")
    raw = [ln for ln in lines if ln.startswith(b"key=k~-._")]
    tap.ok(len(raw) == 1 and raw[0].startswith(b"key=k~-._%21%2A%C3%A9 "),
           "unreserved characters kept, the rest %XX", raw)
    hashed = metadump(c, b"hash", deadline)
    tap.eq(sorted(hashed), sorted(lines), "metadump hash lists the same")
    # mgdump
    c.send(b"lru_crawler mgdump all\r\n")
    if IS_MEMCACHED:
        tap.eq(c.readline(), b"ERROR", "memcached 1.6.18 has no mgdump")
    else:
        mg = read_listing(c, b"EN", deadline)
        tap.eq(sorted(mg), sorted(b"mg " + k for k in keys),
               "mgdump: one 'mg <key>' line per live key, then EN")
        c.send(b"ms AAECAwQ= 1 b\r\nz\r\n")
        c.readline()
        c.send(b"lru_crawler mgdump hash\r\n")
        mg = read_listing(c, b"EN", deadline)
        tap.ok(b"mg AAECAwQ= b" in mg, "mgdump: a binary key in base64 "
               "with the b flag", mg)
        c.send(b"mg AAECAwQ= b v\r\n")
        tap.eq(c.readline(), b"VA 1", "and that line fetches it")
        c.readline()
        c.send(b"md AAECAwQ= b q\r\nmn\r\n")
        c.readline()
    # cachedump
    c.send(b"stats cachedump 1 0\r\n")
    cd = read_listing(c, b"END", deadline)
    items = {}
    for ln in cd:
        m = CACHE_RE.fullmatch(ln)
        tap.ok(m is not None, "cachedump line format: %r" % ln)
        if m:
            items[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    tap.eq(sorted(k for k in items if k != b"gone"), sorted(keys),
           "cachedump 1 0 lists class 1 (and the expired key only if no "
           "crawl has reclaimed it yet, as memcached)")
    tap.eq(items.get(b"plain"), (3, 0), "ITEM key [3 b; 0 s] when it "
           "never expires")
    exp = items.get(b"a%20b", (0, 0))[1]
    tap.ok(abs(exp - (now + 100)) <= 2, "expiry column: absolute time")
    c.send(b"stats cachedump 1 2\r\n")
    tap.eq(len(read_listing(c, b"END", deadline)), 2, "the limit holds")
    c.send(b"flush_all\r\n")
    c.readline()
    tap.eq(metadump(c, b"all", deadline), [], "flushed items not listed")
    c.send(b"stats cachedump 1 0\r\n")
    tap.ok(len(read_listing(c, b"END", deadline)) <= 4,
           "cachedump after flush_all: at most the items still linked")
    c.close()
    tap.ok(server.check(), "formats: server stopped cleanly")


def check_tools(tap, deadline, flags, want):
    """memcached-tool dump and memcdump on a 50-key server."""
    server = st.Server(flags).start()
    c = st.Conn(server)
    for i in range(50):
        c.send(b"set tool%d %d 0 6\r\nval%03d\r\n" % (i, i, i))
        c.readline()
    addr = server.addr()
    what = " ".join(flags) or "default flags"
    if os.access(MEMCACHED_TOOL, os.R_OK) and shutil.which("perl"):
        try:
            out = subprocess.run(["perl", MEMCACHED_TOOL, addr, "dump"],
                                 capture_output=True,
                                 timeout=60 if want else 3).stdout
        except subprocess.TimeoutExpired as e:
            # on an ERROR reply the tool waits for END forever (with
            # memcached too): whatever it printed by then is the answer
            out = e.stdout or b""
        adds = re.findall(rb"add (tool\d+) (\d+) 0 6\r\n(val\d+)\r\n", out)
        if want:
            tap.eq(sorted(a[0] for a in adds),
                   sorted(b"tool%d" % i for i in range(50)),
                   "memcached-tool dump lists every key (%s)" % what)
            tap.ok(all(int(a[1]) == int(a[2][3:]) for a in adds),
                   "memcached-tool dump: flags and values right")
        else:
            tap.eq(adds, [], "memcached-tool dump lists nothing (%s)" % what)
    else:
        tap.diag("memcached-tool not installed: skipped")
    if shutil.which("memcdump"):
        res = subprocess.run(["memcdump", "--servers=" + addr],
                             capture_output=True, timeout=60)
        got = sorted(res.stdout.split())
        if want:
            tap.eq(got, sorted(b"tool%d" % i for i in range(50)),
                   "memcdump lists every key (%s)" % what)
        else:
            tap.eq(got, [], "memcdump lists nothing (%s)" % what)
    else:
        tap.diag("memcdump not installed: skipped")
    tap.eq(c.cmd("version")[:8], "VERSION ", "server answers after tools")
    c.close()
    tap.ok(server.check(), "tools: server stopped cleanly")


def check_big(tap, deadline):
    """200k items: a full dump lists each once; clients leaving midway."""
    n = 200000
    server = st.Server(["-m", "256"]).start()
    c = st.Conn(server)
    load(c, n)
    tap.eq(c.stats()["curr_items"], str(n), "loaded %d items" % n)
    for arg in (b"all", b"hash"):
        lines = metadump(c, arg, deadline)
        keys = [ln.split(b" ", 1)[0] for ln in lines]
        if IS_MEMCACHED:
            # 1.6.18's crawler skips items it cannot lock at once
            tap.ok(len(keys) == len(set(keys)) and len(keys) >= n - 100,
                   "metadump %s of %d items: each key at most once, "
                   "(almost) all listed (%d)" % (arg.decode(), n, len(keys)))
            continue
        tap.eq((len(keys), len(set(keys))), (n, n),
               "metadump %s of %d items: each key once" % (arg.decode(), n))
    # leave mid-dump, several ways, several times
    before = c.stats()["curr_connections"]
    for i in range(12):
        d = st.Conn(server)
        d.send([b"lru_crawler metadump all\r\n",
                b"lru_crawler metadump hash\r\n",
                b"stats cachedump 1 0\r\n",
                b"lru_crawler mgdump all\r\n"][i % 4])
        got = 0
        try:
            while got < 1000 * (i + 1) and not d.buf.startswith(b"BUSY"):
                d._fill()
                got += len(d.buf)
        except (EOFError, OSError):
            pass
        d.close()
    # one that never reads at all
    idle = st.Conn(server)
    idle.send(b"lru_crawler metadump all\r\n")
    time.sleep(0.5)
    tap.eq(c.cmd("version")[:8], "VERSION ", "server answers while a dump "
           "waits on a client that does not read")
    c.send(b"get key77\r\n")
    tap.eq(c.readline(), b"VALUE key77 0 10", "gets answered meanwhile")
    c.readexact(12 + 5)
    idle.close()
    time.sleep(0.3)
    stats = c.stats()
    tap.eq(stats["curr_connections"], before,
           "the abandoned dumps' connections are gone")
    lines = None
    while lines is None and time.monotonic() < deadline:
        try:
            lines = metadump(c, b"all", deadline)
        except BusyError:
            time.sleep(0.5)
    tap.ok(len(lines or []) >= (n - 100 if IS_MEMCACHED else n),
           "a full dump after the abandoned ones lists all %d (%d)"
           % (n, len(lines or [])))
    c.close()
    tap.ok(server.check(), "200k: server stopped cleanly (no sanitizer "
           "report)")


def check_stress(tap, deadline):
    """Dumps while three connections set, get and delete (bounded)."""
    server = st.Server(["-m", "64"]).start()
    c = st.Conn(server)
    nkeys = 20000
    load(c, nkeys, prefix=b"s")
    errors = []
    stop = threading.Event()

    def worker(seed):
        import random
        rnd = random.Random(seed)
        w = st.Conn(server)
        try:
            for _ in range(3000):
                if stop.is_set():
                    break
                batch = []
                for _ in range(10):
                    k = b"s%d" % rnd.randrange(nkeys)
                    op = rnd.randrange(3)
                    if op == 0:
                        batch.append(b"set %s 0 0 %d noreply\r\n%s\r\n"
                                     % (k, 5 + op, b"x" * (5 + op)))
                    elif op == 1:
                        batch.append(b"delete %s noreply\r\n" % k)
                    else:
                        batch.append(b"get %s\r\n" % k)
                batch.append(b"version\r\n")
                w.send(b"".join(batch))
                while not w.readline().startswith(b"VERSION"):
                    pass
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            w.close()

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    dumps = 0
    bad = []
    try:
        for i in range(6):
            if time.monotonic() > deadline:
                break
            arg = [b"all", b"hash", b"1,2,3"][i % 3]
            for ln in metadump(c, arg, deadline):
                if META_RE.fullmatch(ln) is None:
                    bad.append(ln)
            c.send(b"stats cachedump 1 0\r\n")
            for ln in read_listing(c, b"END", deadline):
                if CACHE_RE.fullmatch(ln) is None:
                    bad.append(ln)
            dumps += 2
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    tap.eq(bad, [], "%d dumps during set/get/delete: every line well "
           "formed" % dumps)
    tap.eq(errors, [], "the load connections saw no error")
    tap.eq(c.cmd("version")[:8], "VERSION ", "server answers after stress")
    c.close()
    tap.ok(server.check(), "stress: server stopped cleanly")


def main():
    tap = st.Tap()
    if st.target() == "external":
        st.skip("starts servers with its own flags")
    deadline = time.monotonic() + LIMIT
    check_formats(tap, deadline)
    check_tools(tap, deadline,
                ["-o", "no_lru_maintainer"] if IS_MEMCACHED else [], True)
    check_tools(tap, deadline, ["-X"], False)
    check_big(tap, deadline)
    check_stress(tap, deadline)
    tap.done()


if __name__ == "__main__":
    main()
