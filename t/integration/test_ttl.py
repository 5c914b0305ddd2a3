#!/usr/bin/python3
"""Expiry at scale: many keys with short relative and absolute TTLs expire
together while the rest stay; expired items count as misses;
touch and gat extend lives.  If the server has `debugtime`
(stashd debug builds) long TTLs up to the 30-day boundary are checked too,
without sleeping.  Sleeps are short and the whole test is bounded."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

N = 200


def setmany(c, prefix, n, exptime):
    c.send(b"".join(b"set %s%d 0 %d 1\r\nx\r\n" % (prefix, i, exptime)
                    for i in range(n)))
    return all(c.readline() == b"STORED" for _ in range(n))


def hits(c, prefix, n):
    c.send(b"get " + b" ".join(b"%s%d" % (prefix, i) for i in range(n))
           + b"\r\n")
    h = 0
    while True:
        line = c.readline()
        if line == b"END":
            return h
        c.readexact(int(line.split()[3]) + 2)
        h += 1


def main():
    tap = st.Tap()
    server = st.Server().start()
    c = st.Conn(server)
    now = int(time.time())

    tap.ok(setmany(c, b"rel", N, 2), "set %d keys with ttl 2" % N)
    tap.ok(setmany(c, b"abs", N, now + 2), "set %d keys with ttl now+2" % N)
    tap.ok(setmany(c, b"keep", N, 0), "set %d keys with no ttl" % N)
    tap.ok(setmany(c, b"long", N, 3600), "set %d keys with ttl 3600" % N)
    tap.ok(setmany(c, b"tch", N, 2), "set %d keys with ttl 2 (to touch)"
           % N)
    c.send(b"".join(b"touch tch%d 3600\r\n" % i for i in range(N // 2)))
    tap.ok(all(c.readline() == b"TOUCHED" for _ in range(N // 2)),
           "touched half of them to 3600")
    c.send(b"gat 3600 " + b" ".join(b"tch%d" % i
                                     for i in range(N // 2, N // 2 + 10))
           + b"\r\n")
    tap.eq(sum(1 for _ in iter(c.readline, b"END")), 20,
           "gat extended 10 more (20 lines before END)")
    tap.eq(hits(c, b"rel", N), N, "ttl-2 keys present at once")
    tap.eq(hits(c, b"abs", N), N, "now+2 keys present at once")
    before = c.stats()
    time.sleep(3.2)
    tap.eq(hits(c, b"rel", N), 0, "ttl-2 keys gone after 3 s")
    tap.eq(hits(c, b"abs", N), 0, "now+2 keys gone after 3 s")
    tap.eq(hits(c, b"keep", N), N, "no-ttl keys kept")
    tap.eq(hits(c, b"long", N), N, "ttl-3600 keys kept")
    tap.eq(hits(c, b"tch", N), N // 2 + 10, "touched/gat keys kept, "
           "the others gone")
    after = c.stats()
    tap.ok(int(after["get_misses"]) - int(before["get_misses"]) >= 2 * N,
           "expired gets count as misses")
    if st.target() != "external":    # a shared server holds other items
        tap.ok(int(after["curr_items"]) <= 4 * N, "curr_items %s: expired "
               "items not counted once seen" % after["curr_items"])

    # debugtime: stashd debug builds only
    c.send(b"debugtime 0\r\n")
    if c.readline() != b"OK":
        tap.diag("no debugtime command: long-TTL checks skipped")
    else:
        tap.ok(setmany(c, b"d30", N, 2592000), "set ttl 2592000 (30 days)")
        tap.ok(setmany(c, b"d29", N, 2592000 - 86400), "set ttl 29 days")
        tap.ok(setmany(c, b"abs", N, int(time.time()) + 86400 * 40),
               "set absolute ttl 40 days ahead")
        tap.eq(c.cmd("debugtime %d" % (2592000 - 86400 + 1)), "OK",
               "debugtime 29 days + 1 s")
        tap.eq(hits(c, b"d29", N), 0, "29-day keys expired")
        tap.eq(hits(c, b"d30", N), N, "30-day keys still there")
        tap.eq(c.cmd("debugtime 86400"), "OK", "debugtime 1 more day")
        tap.eq(hits(c, b"d30", N), 0, "30-day keys expired")
        tap.eq(hits(c, b"abs", N), N, "40-day absolute keys still there")
        tap.eq(hits(c, b"keep", N), N, "no-ttl keys still there")
        tap.eq(c.cmd("debugtime %d" % (86400 * 11)), "OK",
               "debugtime 11 more days")
        tap.eq(hits(c, b"abs", N), 0, "40-day absolute keys expired")
    c.close()
    tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
