#!/usr/bin/python3
"""The segmented LRU from the outside, against memcached 1.6.18's answers.

1. A key read between every 20 writes, while cold keys of the same size
   class stream through a -m 4 server, is never evicted (before the
   segmented LRU it was, about once per 200 reads).
2. `stats items` names the segment fields in memcached's order
   (number_hot/warm/cold[/temp], age_hot/warm, evicted_active,
   moves_to_cold/warm, hits_to_*), and the counters move as items do.
3. The `lru` command: tune, mode, temp_ttl with memcached's replies and
   errors, noreply, and the new values in `stats settings`; without the
   maintainer thread mode and temp_ttl answer ERROR.
Run with STASHD_TARGET=memcached to check the expectations themselves.
Bounded by item count and a time limit."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

LIMIT = 120.0
READS = 2000            # reads of the hot key
GAP = 20                # cold writes between two reads
VALUE = 1000            # bytes: one slab class for hot and cold keys

# memcached 1.6.18's "stats items" per class, segmented, in order
# (tailrepairs, always 0 without tail_repair_time, stashd does not print).
ITEM_FIELDS = [
    "number", "number_hot", "number_warm", "number_cold", "age_hot",
    "age_warm", "age", "mem_requested", "evicted", "evicted_nonzero",
    "evicted_time", "outofmemory", "tailrepairs", "reclaimed",
    "expired_unfetched", "evicted_unfetched", "evicted_active",
    "crawler_reclaimed", "crawler_items_checked", "lrutail_reflocked",
    "moves_to_cold", "moves_to_warm", "moves_within_lru", "direct_reclaims",
    "hits_to_hot", "hits_to_warm", "hits_to_cold", "hits_to_temp",
]
# stashd's extra lines, after memcached's: evictions done inline by a SET.
ITEM_EXTRA = ["evicted_direct"]


def hot_key_under_churn(tap, deadline):
    server = st.Server(["-m", "4"]).start()
    c = st.Conn(server)
    value = b"c" * VALUE
    c.send(b"set hotkey 0 0 %d\r\n%s\r\n" % (VALUE, b"h" * VALUE))
    tap.eq(c.readline(), b"STORED", "hot key stored")
    misses = 0
    n = 0
    for r in range(READS):
        if time.monotonic() > deadline:
            tap.ok(False, "churn finished within the time limit")
            break
        req = b"".join(b"set cold%07d 0 0 %d noreply\r\n%s\r\n"
                       % (n + i, VALUE, value) for i in range(GAP))
        n += GAP
        c.send(req + b"get hotkey\r\n")
        line = c.readline()
        if line == b"END":
            misses += 1
            c.send(b"set hotkey 0 0 %d\r\n%s\r\n" % (VALUE, b"h" * VALUE))
            c.readline()
            continue
        c.readexact(VALUE + 2)
        c.readline()
    stats = c.stats()
    tap.ok(int(stats["evictions"]) > n // 2,
           "cold keys were evicted (%s of %d written)"
           % (stats["evictions"], n))
    tap.eq(misses, 0, "the hot key was never evicted in %d reads" % READS)
    c.close()
    tap.ok(server.check(), "server stopped cleanly")


def item_fields(c, cls):
    """Names of class cls's stats items lines, in order."""
    c.send("stats items\r\n")
    names = []
    while True:
        line = c.readline().decode()
        if line == "END":
            return names
        name = line.split()[1]
        prefix = "items:%d:" % cls
        if name.startswith(prefix):
            names.append(name[len(prefix):])


def stats_items(tap):
    server = st.Server(["-o", "temporary_ttl=30"]).start()
    c = st.Conn(server)
    tap.eq(c.cmd("set k 0 0 1\r\nx"), "STORED", "set")
    tap.eq(c.cmd("set t 0 10 1\r\nx"), "STORED", "set with a short TTL")
    c.cmd("get k")
    c.readline()
    c.readline()
    names = [f for f in item_fields(c, 1) if f != "tailrepairs"]
    want = [f for f in ITEM_FIELDS if f != "tailrepairs"] + ITEM_EXTRA
    want.insert(want.index("age_hot"), "number_temp")
    tap.eq(names, want, "stats items fields in memcached's order "
                        "(temp_lru on)")
    items = c.stats("items")
    tap.eq(items["items:1:evicted_direct"], "0", "no inline eviction")
    tap.eq(c.stats().get("evictions_direct"), "0",
           "stats: evictions_direct, of evictions those done inline")
    tap.eq(items["items:1:number"], "2", "two items")
    tap.eq(items.get("items:1:number_temp"), "1",
           "the short TTL one in TEMP")
    tap.eq(sum(int(items.get("items:1:number_" + s, 0))
               for s in ("hot", "warm", "cold")), 1,
           "the other in HOT..COLD")
    tap.eq(c.cmd("lru temp_ttl -1"), "OK", "temp_ttl -1: TEMP off")
    names = [f for f in item_fields(c, 1) if f != "tailrepairs"]
    tap.ok("number_temp" not in names and "number_hot" in names,
           "no number_temp without temp_lru")
    tap.eq(c.cmd("lru mode flat"), "OK", "mode flat")
    names = [f for f in item_fields(c, 1) if f != "tailrepairs"]
    tap.eq(names[:2], ["number", "number_hot"],
           "flat mode at run time: the segment lines stay (the thread runs)")
    c.close()
    tap.ok(server.check(), "server stopped cleanly")


LRU_REPLIES = [
    ("lru", "ERROR"),
    ("lru tune", "ERROR"),
    ("lru tune 10 20 0.1", "ERROR"),
    ("lru tune a b c d", "ERROR"),
    ("lru tune -1 20 0.1 2", "ERROR"),
    ("lru tune 60 40 0.1 2", "ERROR hot and warm pcts must not exceed 80"),
    ("lru tune 81 0 0.1 2", "ERROR hot and warm pcts must not exceed 80"),
    ("lru tune 0 0 0 0", "ERROR hot/warm age factors must be greater than 0"),
    ("lru tune 10 20 0 2", "ERROR hot/warm age factors must be greater than 0"),
    ("lru tune 10 20 0.1 2 extra", "OK"),
    ("lru tune 80 0 0.5 1", "OK"),
    ("lru mode", "ERROR"),
    ("lru mode foo", "ERROR"),
    ("lru mode segmented", "OK"),
    ("lru mode flat", "OK"),
    ("lru temp_ttl", "ERROR"),
    ("lru temp_ttl abc", "ERROR"),
    ("lru temp_ttl 100", "OK"),
    ("lru foo", "ERROR"),
]

SETTING_NAMES = ("lru_maintainer_thread", "lru_segmented", "hot_lru_pct",
                 "warm_lru_pct", "hot_max_factor", "warm_max_factor",
                 "temp_lru", "temporary_ttl")


def lru_settings(c):
    s = c.stats("settings")
    return {k: s.get(k) for k in SETTING_NAMES}


def lru_command(tap):
    server = st.Server().start()
    c = st.Conn(server)
    tap.eq(lru_settings(c), {
        "lru_maintainer_thread": "yes", "lru_segmented": "yes",
        "hot_lru_pct": "20", "warm_lru_pct": "40", "hot_max_factor": "0.20",
        "warm_max_factor": "2.00", "temp_lru": "no", "temporary_ttl": "61"},
        "stats settings: memcached's defaults")
    for line, want in LRU_REPLIES:
        tap.eq(c.cmd(line), want, repr(line))
    tap.eq(lru_settings(c), {
        "lru_maintainer_thread": "yes", "lru_segmented": "no",
        "hot_lru_pct": "80", "warm_lru_pct": "0", "hot_max_factor": "0.50",
        "warm_max_factor": "1.00", "temp_lru": "yes",
        "temporary_ttl": "100"}, "stats settings show the new values")
    # noreply: silent, but done
    c.send("lru tune 15 25 0.3 3 noreply\r\nlru mode segmented noreply\r\n"
           "lru temp_ttl -5 noreply\r\n")
    s = lru_settings(c)
    tap.eq((s["hot_lru_pct"], s["warm_max_factor"], s["lru_segmented"],
            s["temp_lru"], s["temporary_ttl"]),
           ("15", "3.00", "yes", "no", "100"),
           "noreply: no reply, settings changed (temp_ttl < 0 keeps the ttl)")
    c.close()
    tap.ok(server.check(), "server stopped cleanly")

    server = st.Server(["-o", "no_lru_maintainer"]).start()
    c = st.Conn(server)
    s = lru_settings(c)
    tap.eq((s["lru_maintainer_thread"], s["lru_segmented"]), ("no", "no"),
           "no_lru_maintainer: no thread, flat LRU")
    tap.eq(c.cmd("lru mode segmented"), "ERROR",
           "no maintainer: lru mode answers ERROR")
    tap.eq(c.cmd("lru temp_ttl 10"), "ERROR",
           "no maintainer: lru temp_ttl answers ERROR")
    tap.eq(c.cmd("lru tune 10 20 0.1 2"), "OK", "no maintainer: tune works")
    tap.eq(c.cmd("set k 0 0 1\r\nx"), "STORED", "set")
    names = [f for f in item_fields(c, 1) if f != "tailrepairs"]
    tap.eq(names[:3], ["number", "age", "mem_requested"],
           "no maintainer: no segment lines in stats items")
    c.close()
    tap.ok(server.check(), "server stopped cleanly")


def main():
    if st.target() == "external":
        st.skip("starts servers with their own flags")
    tap = st.Tap()
    deadline = time.monotonic() + LIMIT
    lru_command(tap)
    stats_items(tap)
    hot_key_under_churn(tap, deadline)
    tap.done()


if __name__ == "__main__":
    main()
