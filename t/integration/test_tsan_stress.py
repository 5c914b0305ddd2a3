#!/usr/bin/python3
"""Thread safety under the whole storage API, with evictions.

The stress client (t/integration/stress.c) runs 8 threads x set, get,
multi-get, gets+cas, append, prepend, touch, gat, add, delete, incr, stats
and flush_all on a small hot key set plus cold keys that overflow a tiny
-m 2, so the LRU evicts all the time, and one more thread that only
connects, gets and disconnects; threads also reconnect every 500 ops.
Every value read is checksummed, a per-thread private key must always hold
exactly what its thread stored, a private counter must count by one.
Then the server is shut down while clients hammer "stats"/"stats conns"
(which read every worker and the listener).  The server must stop cleanly:
under a sanitizer build (ASan/UBSan or --enable-tsan, see scripts/test
--tsan) any report on its stderr fails the test.

Before that, the lock-free read path (a get takes no item lock, only a
reference on an item it found, slab/store.c store_read) is forced into
its races: 8 threads read and write the same 4 keys plus 3000 cold keys
of 1..120 bytes under -m 6 (filled first), so items are evicted, freed and their chunks
reused all the time, while another thread moves pages between classes
(slabs reassign, slabs automove 2) and lowers and raises cache_memlimit,
so pages are wiped, given back to the allocator and re-carved for other
classes.  Every value read must be whole records checksummed over the
key they were written for (t/integration/stress.c): never torn, never
another key's.

Bounded by time: STASHD_STRESS_SECONDS (default 15) of load per phase."""

import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402
from test_concurrency import stress_binary  # noqa: E402

SECONDS = float(os.environ.get("STASHD_STRESS_SECONDS", "15"))


def stat_int(server, name):
    c = st.Conn(server)
    try:
        return int(c.stats()[name])
    finally:
        c.close()


def hammer_stats(server, stop, counts):
    """Send stats requests until stop is set or the server goes away."""
    subs = ["stats\r\n", "stats conns\r\n", "stats items\r\n",
            "stats slabs\r\n", "stats settings\r\n"]
    i = 0
    while not stop.is_set():
        try:
            c = st.Conn(server, timeout=2)
        except OSError:
            return
        try:
            while not stop.is_set():
                c.send(subs[i % len(subs)])
                i += 1
                while c.readline() != b"END":
                    pass
                counts.append(1)
        except (OSError, EOFError, ValueError):
            pass
        finally:
            c.close()


def move_pages(server, stop, counts):
    """Move pages and shrink/grow the memory limit until stop is set."""
    c = st.Conn(server, timeout=10)
    i = 0
    try:
        c.cmd("slabs automove 2")
        while not stop.is_set():
            src, dst = 1 + i % 4, 1 + (i + 1 + i // 4) % 4
            c.cmd("slabs reassign %d %d" % (src, dst))
            if i % 10 == 0:
                c.cmd("cache_memlimit %d" % (4 if i % 20 == 0 else 6))
            counts.append(1)
            i += 1
            time.sleep(0.01)
        c.cmd("cache_memlimit 6")
    except (OSError, EOFError, ValueError):
        pass
    finally:
        c.close()


def fill(server, n):
    """Store n keys the stress client never reads, 40..120 bytes, so that
    two or three classes hold several pages each (pages to move) and the
    stress load evicts from the start."""
    c = st.Conn(server, timeout=30)
    try:
        for b in range(0, n, 500):
            req = "".join("set fill:%d 0 0 %d noreply\r\n%s\r\n"
                          % (i, 40 + i % 81, "f" * (40 + i % 81))
                          for i in range(b, min(n, b + 500)))
            c.send(req)
        c.cmd("version")
    finally:
        c.close()


def lockfree_phase(tap):
    server = st.Server(["-m", "6", "-t", "4", "-o",
                        "slab_reassign,slab_automove=2"]).start()
    fill(server, 60000)
    stop = threading.Event()
    counts = []
    mover = threading.Thread(target=move_pages, args=(server, stop, counts))
    mover.start()
    cmd = [stress_binary(), "-h", server.host, "-p", str(server.port),
           "-a", "-t", "8", "-n", "0", "-T", str(SECONDS),
           "-k", "4", "-K", "3000", "-v", "120", "-f", "0"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=SECONDS + 60)
        out = (p.stdout + p.stderr).strip()
        rc = p.returncode
    except subprocess.TimeoutExpired:
        out, rc = "stress client still running 60s after its limit", 1
    stop.set()
    mover.join(30)
    last = out.splitlines()[-1] if out else "no output"
    tap.ok(rc == 0, "lock-free reads, same keys, moving pages: %s" % last,
           out)
    m = re.search(r"ops=(\d+) errors=(\d+) corrupt=(\d+)", last)
    tap.ok(m is not None and int(m.group(3)) == 0,
           "no torn value and no value of another key")
    stats = st.Conn(server).stats()
    tap.ok(int(stats["evictions"]) > 0,
           "items evicted and freed (evictions %s)" % stats["evictions"])
    tap.ok(int(stats.get("slabs_moved", 0)) > 0,
           "pages moved during the reads (slabs_moved %s, %d requests)"
           % (stats.get("slabs_moved"), len(counts)))
    tap.ok(int(stats["get_hits"]) > 0, "gets hit (%s)" % stats["get_hits"])
    tap.diag("mover: %s items rescued, %s busy (held by a reader); "
             "%s item-lock acquisitions for %s gets"
             % (stats.get("slab_reassign_rescues"),
                stats.get("slab_reassign_busy_items"),
                st.Conn(server).stats("locks").get("item_acquired"),
                stats["cmd_get"]))
    tap.ok(server.check(), "server stopped cleanly, no sanitizer report")


def main():
    tap = st.Tap()
    lockfree_phase(tap)
    server = st.Server(["-m", "2", "-t", "4"]).start()
    # more than 2 MB of cold keys first, so the load evicts from the start
    # (a slow sanitizer build may not fill 2 MB between its flushes)
    fill(server, 40000)

    cmd = [stress_binary(), "-h", server.host, "-p", str(server.port),
           "-a", "-t", "8", "-C", "1", "-n", "0", "-T", str(SECONDS),
           "-k", "32", "-K", "3000", "-v", "6000", "-r", "500",
           "-f", "2000"]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=SECONDS + 60)
    except subprocess.TimeoutExpired:
        tap.ok(False, "stress client still running %ds after its limit"
               % 60)
        server.check()
        tap.done()
    out = (p.stdout + p.stderr).strip()
    last = out.splitlines()[-1] if out else "no output"
    tap.ok(p.returncode == 0, "stress -a: %s" % last, out)
    m = re.search(r"ops=(\d+) errors=(\d+) corrupt=(\d+) oom=(\d+)", last)
    tap.ok(m is not None, "stress printed its counts")
    if m:
        ops, errors, corrupt, oom = (int(x) for x in m.groups())
        tap.ok(ops >= 2000, "%d operations in %.0fs (at least 2000)"
               % (ops, time.monotonic() - t0))
        tap.eq(errors, 0, "no protocol errors")
        tap.eq(corrupt, 0, "no corrupted or lost values")
        tap.diag("%d sets refused for out of memory (a tiny -m)" % oom)
    flushes = re.search(r"(\d+) flush_all", last)
    tap.ok(flushes is not None and int(flushes.group(1)) > 0,
           "flush_all ran during the load")

    stats = st.Conn(server).stats()
    tap.ok(int(stats["evictions"]) > 0,
           "-m 2 evicted under load (evictions %s)" % stats["evictions"])
    for name in ("cas_hits", "cas_badval", "touch_hits", "cmd_flush",
                 "incr_hits"):
        tap.ok(int(stats.get(name, 0)) > 0, "%s %s > 0: the op was exercised"
               % (name, stats.get(name)))
    deadline = time.monotonic() + 5
    while stat_int(server, "curr_connections") > 10 and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    tap.ok(stat_int(server, "curr_connections") <= 10,
           "connections of the churn were released")

    # shut down while other threads read every worker and the listener
    stop = threading.Event()
    counts = []
    threads = [threading.Thread(target=hammer_stats,
                                args=(server, stop, counts))
               for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    tap.ok(len(counts) > 0, "stats hammered (%d replies) before shutdown"
           % len(counts))
    ok = server.check()
    stop.set()
    for t in threads:
        t.join(10)
    tap.ok(ok, "server stopped cleanly under stats load, no sanitizer report")
    tap.done()


if __name__ == "__main__":
    main()
