#!/usr/bin/python3
"""Pages move while clients read and write.

The stress client (t/integration/stress.c, -a: the whole storage API,
checksummed values, private keys that must hold exactly what their thread
stored) runs against a -m 48 server with cold keys of many sizes,
while one more connection moves pages in a loop: `slabs reassign -1 DST`
over every class, with automove set to aggressive (2) as well, and another
runs the LRU crawler over every class in turn with `lru_crawler crawl all`
and `lru_crawler metadump all`, whose lines must stay well formed.  No value
may be torn or lost beyond what eviction explains (the client checks), the
moves must really happen (slabs_moved), and the server must stop cleanly:
under an ASan/UBSan or TSan build (scripts/test --sanitize / --tsan) any
report on its stderr fails the test.

Bounded by time: STASHD_STRESS_SECONDS (default 10) of load."""

import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402
from test_concurrency import stress_binary  # noqa: E402
from test_crawler import BusyError, read_listing  # noqa: E402

META = re.compile(rb"key=\S+ exp=-?\d+ la=\d+ cas=\d+ fetch=(yes|no) "
                  rb"cls=\d+ size=\d+$")
SECONDS = float(os.environ.get("STASHD_STRESS_SECONDS", "10"))


def mover_loop(server, stop, counts):
    """Issue reassigns until stop is set; count replies by first word."""
    c = st.Conn(server)
    c.cmd("slabs automove 2")
    i = 0
    while not stop.is_set():
        classes = sorted(int(k.split(":")[0])
                         for k in c.stats("slabs") if ":" in k)
        if not classes:
            time.sleep(0.01)
            continue
        dst = classes[i % len(classes)]
        i += 1
        word = c.cmd("slabs reassign -1 %d" % dst).split()[0]
        counts[word] = counts.get(word, 0) + 1
        time.sleep(0.005)
    c.close()


def crawler_loop(server, stop, counts):
    """Crawl and metadump until stop is set; count what was seen."""
    c = st.Conn(server, timeout=30)
    try:
        while not stop.is_set():
            word = c.cmd("lru_crawler crawl all").split()[0]
            counts["crawl " + word] = counts.get("crawl " + word, 0) + 1
            c.send(b"lru_crawler metadump all\r\n")
            try:
                lines = read_listing(c, b"END", time.monotonic() + 30)
            except BusyError:
                counts["metadump BUSY"] = counts.get("metadump BUSY", 0) + 1
                lines = []
            for ln in lines:
                key = "lines" if META.match(ln) else "bad lines"
                counts[key] = counts.get(key, 0) + 1
            time.sleep(0.05)
    except (OSError, EOFError, ValueError) as e:
        counts["error"] = repr(e)
    finally:
        c.close()


def main():
    tap = st.Tap()
    server = st.Server(["-m", "48", "-t", "4"]).start()
    cmd = [stress_binary(), "-h", server.host, "-p", str(server.port),
           "-a", "-t", "6", "-n", "0", "-T", str(SECONDS),
           "-k", "64", "-K", "60000", "-v", "6000", "-r", "2000",
           "-f", "0"]
    stop = threading.Event()
    counts = {}
    mover = threading.Thread(target=mover_loop,
                             args=(server, stop, counts))
    crawled = {}
    crawler = threading.Thread(target=crawler_loop,
                               args=(server, stop, crawled))
    mover.start()
    crawler.start()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=SECONDS + 60)
    except subprocess.TimeoutExpired:
        stop.set()
        mover.join(10)
        crawler.join(30)
        tap.ok(False, "stress client still running 60s after its limit")
        server.check()
        tap.done()
    stop.set()
    mover.join(10)
    crawler.join(30)
    out = (p.stdout + p.stderr).strip()
    last = out.splitlines()[-1] if out else "no output"
    tap.ok(p.returncode == 0, "stress -a while pages move: %s" % last, out)
    m = re.search(r"ops=(\d+) errors=(\d+) corrupt=(\d+)", last)
    tap.ok(m is not None, "stress printed its counts")
    if m:
        ops, errors, corrupt = (int(x) for x in m.groups())
        tap.ok(ops >= 2000, "%d operations (at least 2000)" % ops)
        tap.eq(errors, 0, "no protocol errors")
        tap.eq(corrupt, 0, "no corrupted or lost values")
    tap.diag("reassign replies: %r" % counts)
    tap.ok(counts.get("OK", 0) > 0, "some reassigns were accepted")
    tap.ok(set(counts) <= {"OK", "BUSY", "NOSPARE", "BADCLASS", "SAME"},
           "only memcached's reassign replies")
    tap.diag("crawler: %r" % crawled)
    tap.ok(crawled.get("lines", 0) > 0 and "bad lines" not in crawled and
           "error" not in crawled,
           "metadumps ran during the moves, every line well formed "
           "(%d lines)" % crawled.get("lines", 0), crawled)
    s = st.Conn(server).stats()
    moved = int(s["slabs_moved"])
    tap.ok(moved >= 5, "pages moved under load (slabs_moved %d, rescues "
           "%s, evictions_nomem %s, busy %s)"
           % (moved, s["slab_reassign_rescues"],
              s["slab_reassign_evictions_nomem"],
              s["slab_reassign_busy_items"]))
    tap.ok(server.check(), "server stopped cleanly, no sanitizer report")
    tap.done()


if __name__ == "__main__":
    main()
