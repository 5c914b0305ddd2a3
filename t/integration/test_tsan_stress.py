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

Bounded by time: STASHD_STRESS_SECONDS (default 15) of load."""

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


def main():
    tap = st.Tap()
    server = st.Server(["-m", "2", "-t", "4"]).start()

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
