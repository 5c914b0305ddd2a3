#!/usr/bin/python3
"""Eviction and -M: with a 2 MiB cache, write far more than fits.

Without -M the server evicts from the LRU tail: every set succeeds, the
server stays up, the newest items are all present, the oldest are gone and
`evictions` counts them.  With -M it refuses with memcached's out-of-memory
error instead and keeps what it has.  Also a mixed-size run so several slab
classes fill.  Bounded by item count and a time limit."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

N = 12000           # 12 MB of 1000-byte values into a 2 MiB cache
LIMIT = 120.0       # seconds for the whole test


def fill(tap, conn, n, size, prefix, deadline):
    """Pipelined sets in batches; returns {reply line: count}."""
    value = b"v" * size
    replies = {}
    batch = 100
    for start in range(0, n, batch):
        if time.monotonic() > deadline:
            tap.ok(False, "filling finished within the time limit")
            break
        req = b"".join(b"set %s%d 0 0 %d\r\n%s\r\n"
                       % (prefix, i, size, value)
                       for i in range(start, min(n, start + batch)))
        conn.send(req)
        for _ in range(start, min(n, start + batch)):
            line = conn.readline()
            replies[line] = replies.get(line, 0) + 1
    return replies


def present(conn, keys):
    """How many of keys are hits (one multi-get per 100 keys)."""
    hits = 0
    for i in range(0, len(keys), 100):
        conn.send(b"get " + b" ".join(keys[i:i + 100]) + b"\r\n")
        while True:
            line = conn.readline()
            if line == b"END":
                break
            n = int(line.split()[3])
            conn.readexact(n + 2)
            hits += 1
    return hits


def main():
    tap = st.Tap()
    deadline = time.monotonic() + LIMIT

    # evicting
    server = st.Server(["-m", "2"]).start()
    c = st.Conn(server)
    replies = fill(tap, c, N, 1000, b"k", deadline)
    tap.eq(replies, {b"STORED": N}, "every set of %d x 1000 B stored" % N)
    stats = c.stats()
    tap.ok(int(stats["evictions"]) > 0, "evictions > 0 (%s)"
           % stats["evictions"])
    tap.ok(int(stats["curr_items"]) < N, "curr_items %s < %d"
           % (stats["curr_items"], N))
    tap.ok(int(stats["evictions"]) + int(stats["curr_items"]) == N,
           "evictions + curr_items == items written")
    tap.ok(int(stats["bytes"]) <= 2 * 1024 * 1024,
           "bytes %s within -m 2" % stats["bytes"])
    newest = [b"k%d" % i for i in range(N - 500, N)]
    tap.eq(present(c, newest), 500, "the newest 500 items are present")
    tap.eq(present(c, [b"k%d" % i for i in range(500)]), 0,
           "the oldest 500 items were evicted")
    # a second wave of new keys pushes out the first
    fill(tap, c, 1000, 1000, b"w", deadline)
    tap.ok(present(c, [b"w%d" % i for i in range(900, 1000)]) == 100,
           "the newest items of a second wave are present")
    # mixed sizes fill several slab classes; still all stored
    mixed = {}
    for size in (100, 3000, 20000, 200000):
        for k, v in fill(tap, c, 300, size, b"s%d_" % size,
                         deadline).items():
            mixed[k] = mixed.get(k, 0) + v
    tap.eq(mixed, {b"STORED": 1200}, "mixed sizes all stored")
    tap.eq(c.cmd("version")[:8], "VERSION ", "server still answers")
    c.close()
    tap.ok(server.check(), "server stopped cleanly")

    # -M: out of memory instead of evicting
    server = st.Server(["-m", "2", "-M"]).start()
    c = st.Conn(server)
    replies = fill(tap, c, N, 1000, b"k", deadline)
    stored = replies.get(b"STORED", 0)
    oom = replies.get(b"SERVER_ERROR out of memory storing object", 0)
    tap.ok(stored > 0 and oom > 0 and stored + oom == N,
           "-M: some stored, the rest refused with SERVER_ERROR out of "
           "memory storing object", replies)
    stats = c.stats()
    tap.eq(stats["evictions"], "0", "-M: no evictions")
    tap.eq(present(c, [b"k%d" % i for i in range(100)]), 100,
           "-M: the first items are kept")
    # An append whose joined value finds no memory is refused as memcached
    # refuses it, NOT_STORED, and the old value stays whole: 10 bytes fit
    # a small class (its first page), 1,010 need the full class of k1.
    tap.eq(c.cmd("append k1 0 0 10\r\n" + "a" * 10), "NOT_STORED",
           "-M: append with no memory for the joined value: NOT_STORED")
    c.send("get k1\r\n")
    head = c.readline()
    value = c.readexact(1002) if head.startswith(b"VALUE") else b""
    tap.ok(head == b"VALUE k1 0 1000" and value == b"v" * 1000 + b"\r\n"
           and c.readline() == b"END",
           "-M: the refused append left the old value whole", head)
    tap.eq(c.cmd("delete k0"), "DELETED", "-M: delete still works")
    tap.eq(c.cmd("version")[:8], "VERSION ", "-M: server still answers")
    c.close()
    tap.ok(server.check(), "-M: server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
