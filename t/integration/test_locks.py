#!/usr/bin/python3
"""stats locks (stashd only: memcached has no such command).

- the reply lists <family>_acquired and <family>_contended for every lock
  family, in a fixed order, as unsigned integers, contended <= acquired;
- counts only grow, and requests show up in the families they take: sets
  in item and lru, and in slabs only once per batch of chunks (the
  thread's slab cache); gets (hits and misses) take one item lock while
  the lock-free get is switched off;
- a set of a new key and a replacing set take two locks (item, lru) plus
  a refill of the slab cache now and then: at most 2.1 per set;
- two connections on different workers (-t 2) hammering the same few keys
  at once keep every counter consistent (contention itself depends on
  scheduling, so it is reported, not required).
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

FAMILIES = ["item", "lru", "slabs", "pool", "mover", "crawler", "maint",
            "wait", "stats", "worker"]


def locks(c):
    """The stats locks reply as an ordered list of (name, int)."""
    c.send("stats locks\r\n")
    out = []
    while True:
        line = c.readline().decode("latin-1")
        if line == "END":
            return out
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "STAT" or not parts[2].isdigit():
            raise ValueError("bad stats locks line %r" % line)
        out.append((parts[1], int(parts[2])))


def hammer(server, keys, deadline, errors):
    c = st.Conn(server)
    try:
        i = 0
        while time.monotonic() < deadline and i < 20000:
            k = keys[i % len(keys)]
            if c.cmd("set %s 0 0 3\r\nabc" % k) != "STORED":
                errors.append("set %s" % k)
            c.send("get %s\r\n" % k)
            while c.readline() != b"END":
                pass
            i += 1
    finally:
        c.close()


def main():
    tap = st.Tap()
    if st.target() == "memcached":
        st.skip("stats locks is stashd's own")
    server = st.Server(["-t", "2"]).start()
    c = st.Conn(server)

    first = locks(c)
    names = [n for n, _ in first]
    want = []
    for f in FAMILIES:
        want += [f + "_acquired", f + "_contended"]
    tap.eq(names, want, "every family, acquired then contended, in order")
    v0 = dict(first)
    tap.ok(all(v0[f + "_contended"] <= v0[f + "_acquired"]
               for f in FAMILIES), "contended <= acquired")

    n = 200
    for i in range(n):
        c.cmd("set lk%d 0 0 1\r\nx" % i)
    for i in range(n):
        c.send("get lk%d\r\n" % i)
        while c.readline() != b"END":
            pass
    v1 = dict(locks(c))
    tap.ok(all(v1[k] >= v0[k] for k in v0), "counters only grow")
    tap.ok(v1["item_acquired"] - v0["item_acquired"] >= n,
           "%d sets took the item lock (%d acquisitions)"
           % (n, v1["item_acquired"] - v0["item_acquired"]))
    tap.ok(v1["lru_acquired"] - v0["lru_acquired"] >= n,
           "%d new items were linked under an LRU lock" % n)
    tap.ok(v1["slabs_acquired"] - v0["slabs_acquired"] >= 1,
           "allocation took a slab class lock")

    # hits and misses take no item lock (the lock-free read path): on a
    # server without the background threads that trylock items, none
    quiet = st.Server(["-t", "2", "-o",
                       "no_lru_maintainer,no_lru_crawler"]).start()
    q = st.Conn(quiet)
    for i in range(n):
        q.cmd("set lk%d 0 0 1\r\nx" % i)
    q0 = dict(locks(q))
    for i in range(n):
        q.send("get lk%d nolk%d\r\n" % (i, i))
        while q.readline() != b"END":
            pass
    q1 = dict(locks(q))
    tap.eq(q1["item_acquired"] - q0["item_acquired"], 0,
           "%d gets, each a hit and a miss, took no item lock" % n)

    # sets, new keys then the same keys again, with no background thread
    # taking locks meanwhile: item + lru each, the slab class lock once per
    # batch of 16 chunks
    for what in ("new", "replacing"):
        q0 = dict(locks(q))
        for i in range(n):
            q.cmd("set sk%d 0 0 10\r\n0123456789" % i)
        q1 = dict(locks(q))
        d = {f: q1[f + "_acquired"] - q0[f + "_acquired"] for f in FAMILIES}
        total = sum(d.values())
        tap.ok(d["slabs"] <= n // 8,
               "%d %s sets took the slab lock %d times (batched)"
               % (n, what, d["slabs"]))
        tap.ok(total <= 2.1 * n,
               "%d %s sets took %d locks (%.2f per set: %s)"
               % (n, what, total, total / n,
                  ", ".join("%s %d" % (f, d[f]) for f in FAMILIES if d[f])))
    q.close()
    tap.ok(quiet.check(), "quiet server stopped cleanly")

    # two workers on the same keys at once
    errors = []
    deadline = time.monotonic() + 3
    keys = ["same%d" % i for i in range(4)]
    threads = [threading.Thread(target=hammer,
                                args=(server, keys, deadline, errors))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    v2 = dict(locks(c))
    tap.eq(errors, [], "concurrent sets stored")
    tap.ok(all(v2[k] >= v1[k] for k in v1), "counters still only grow")
    tap.ok(all(v2[f + "_contended"] <= v2[f + "_acquired"]
               for f in FAMILIES), "contended <= acquired under load")
    tap.diag("under 4 connections on 4 keys: item %d/%d, lru %d/%d "
             "contended/acquired"
             % (v2["item_contended"] - v1["item_contended"],
                v2["item_acquired"] - v1["item_acquired"],
                v2["lru_contended"] - v1["lru_contended"],
                v2["lru_acquired"] - v1["lru_acquired"]))
    c.close()
    tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
