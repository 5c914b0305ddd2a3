#!/usr/bin/python3
"""stats hotkeys [N] and stats bigkeys [N] (stashd only: memcached has
neither, so with STASHD_TARGET=memcached this test is skipped).

- hotkeys: a Zipf(1.1) workload over 2000 keys (90 % get, 10 % set) on
  four connections (so several workers' sketches are merged); the top 10
  listed must hold at least 9 of the 10 truly most requested keys, the
  reads/s and writes/s must add up to about the request rate, and the
  default N is 20;
- -o no_hotkeys: nothing is listed;
- bigkeys: 300 items of random sizes; the report must name exactly the
  largest live ones in order with their sizes, classes (checked against
  lru_crawler metadump) and TTLs; a deleted or expired big key disappears,
  an overwritten one shows its new size;
- a bad N answers CLIENT_ERROR bad command line format.
"""

import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

HOT_RE = re.compile(r"key=(\S+) reads/s=([\d.]+) writes/s=([\d.]+)$")
BIG_RE = re.compile(r"key=(\S+) size=(\d+) class=(\d+) ttl=(-?\d+)$")
META_RE = re.compile(r"key=(\S+) exp=(-?\d+) la=\d+ cas=\d+ "
                     r"fetch=\w+ cls=(\d+) size=(\d+)")


def zipf_keys(nkeys, s, n, rng):
    weights = [1.0 / (i + 1) ** s for i in range(nkeys)]
    return rng.choices(range(nkeys), weights=weights, k=n)


def drive(conns, ops, vlen=10):
    """Pipeline ops ((is_set, key) pairs) round-robin over conns, in
    bounded batches, reading every reply."""
    batch = 200
    for start in range(0, len(ops), batch * len(conns)):
        expect = []
        for ci, c in enumerate(conns):
            chunk = ops[start + ci * batch:start + (ci + 1) * batch]
            out = []
            for is_set, key in chunk:
                if is_set:
                    out.append(b"set %s 0 0 %d noreply\r\n%s\r\n"
                               % (key, vlen, b"v" * vlen))
                else:
                    out.append(b"get %s\r\n" % key)
            c.send(b"".join(out))
            expect.append(sum(1 for s, _ in chunk if not s))
        for c, ngets in zip(conns, expect):
            got = 0
            while got < ngets:
                line = c.readline()
                if line == b"END":
                    got += 1


def check_hotkeys(tap):
    rng = random.Random(7)
    n = 100000
    ranks = zipf_keys(2000, 1.1, n, rng)
    ops = [(rng.random() < 0.1, b"zk%d" % r) for r in ranks]
    true = {}
    for _, key in ops:
        true[key] = true.get(key, 0) + 1
    truth = [k for k, _ in sorted(true.items(), key=lambda kv: -kv[1])]

    with st.Server(["-t", "4"]) as server:
        conns = [st.Conn(server) for _ in range(4)]
        t0 = time.monotonic()
        drive(conns, ops)
        elapsed = time.monotonic() - t0
        c = conns[0]
        top10 = c.stats("hotkeys 10")
        listed = []
        rate = 0.0
        for name in sorted(top10, key=lambda s: int(s.split(":")[1])):
            m = HOT_RE.match(top10[name])
            tap.ok(m is not None, "hotkeys line format: %s %s"
                   % (name, top10[name]))
            if m:
                listed.append(m.group(1).encode())
                rate += float(m.group(2)) + float(m.group(3))
        tap.eq(len(listed), 10, "stats hotkeys 10 lists 10 keys")
        hits = len(set(listed) & set(truth[:10]))
        tap.ok(hits >= 9, "precision of the top 10: %d/10 >= 0.9" % hits,
               "listed %r\ntrue   %r" % (listed, truth[:10]))
        # the top 10 hold this share of the requests; the listed rates
        # should be within a factor of 2 of it over the time elapsed
        share = sum(true[k] for k in truth[:10])
        want = share / max(elapsed, 1.0)
        tap.ok(want / 3 <= rate <= want * 3,
               "top-10 rate %.0f/s vs true %.0f/s (elapsed %.1fs)"
               % (rate, want, elapsed))
        m = HOT_RE.match(top10.get("hotkey:1", ""))
        tap.ok(m is not None and float(m.group(3)) > 0,
               "the hottest key shows its writes too")
        tap.eq(len(c.stats("hotkeys")), 20, "default N is 20")
        tap.eq(c.cmd("stats hotkeys x1"),
               "CLIENT_ERROR bad command line format", "bad N refused")
        for x in conns:
            x.close()
        tap.ok(server.check(), "server stopped cleanly")

    with st.Server(["-o", "no_hotkeys"]) as server:
        c = st.Conn(server)
        drive([c], ops[:5000])
        tap.eq(c.stats("hotkeys"), {}, "-o no_hotkeys: nothing listed")
        c.close()
        tap.ok(server.check(), "server stopped cleanly")


def metadump(c):
    """key -> (class, size); metadump's lines end in a bare \\n."""
    c.send(b"lru_crawler metadump all\r\n")
    data = b""
    while not data.endswith(b"END\r\n"):
        data += c.readexact(1)
    out = {}
    for line in data.decode().split("\n"):
        m = META_RE.match(line)
        if m:
            out[m.group(1)] = (int(m.group(3)), int(m.group(4)))
    return out


def bigkeys(c, sub="bigkeys"):
    rows = []
    got = c.stats(sub)
    for name in sorted(got, key=lambda s: int(s.split(":")[1])):
        m = BIG_RE.match(got[name])
        rows.append((m.group(1), int(m.group(2)), int(m.group(3)),
                     int(m.group(4))) if m else ("?", got[name], 0, 0))
    return rows


def check_bigkeys(tap):
    rng = random.Random(11)
    with st.Server(["-m", "256", "-I", "4m"]) as server:
        c = st.Conn(server)
        size = {}
        stored = 0
        for i in range(300):
            key = "bk%d" % i
            n = rng.choice([rng.randint(1, 2000), rng.randint(1, 300000)])
            c.send(b"set %s 0 %d %d\r\n%s\r\n"
                   % (key.encode(), 1000 if i % 2 else 0, n, b"x" * n))
            stored += c.readline() == b"STORED"
            size[key] = n
        tap.eq(stored, 300, "300 items of random sizes stored")
        rows = bigkeys(c, "bigkeys 10")
        want = sorted(size, key=lambda k: (-size[k], k))[:10]
        tap.eq([r[0] for r in rows], want, "bigkeys 10: the 10 largest")
        tap.eq([r[1] for r in rows], [size[k] for k in want],
               "bigkeys 10: their sizes")
        meta = metadump(c)
        tap.eq([r[2] for r in rows], [meta[k][0] for k in want],
               "classes as metadump shows them")
        ttls_ok = all((r[3] == -1) == (int(r[0][2:]) % 2 == 0) and
                      (r[3] == -1 or 990 <= r[3] <= 1000) for r in rows)
        tap.ok(ttls_ok, "ttl: -1 without expiry, ~1000 s left otherwise",
               rows)

        # delete the largest, shrink the second, grow a small one
        tap.eq(c.cmd("delete %s" % want[0]), "DELETED", "delete the largest")
        del size[want[0]]
        c.send(b"set %s 0 0 5\r\nsmall\r\n" % want[1].encode())
        c.readline()
        size[want[1]] = 5
        c.send(b"set bkgrow 0 0 3000000\r\n%s\r\n" % (b"y" * 3000000))
        tap.eq(c.readline(), b"STORED", "store a 3 MB item")
        size["bkgrow"] = 3000000
        c.send(b"set bkshort 0 1 2500000\r\n%s\r\n" % (b"z" * 2500000))
        c.readline()
        rows = bigkeys(c, "bigkeys 5")
        tap.eq(rows[0][:2], ("bkgrow", 3000000), "the new largest first")
        time.sleep(2.1)
        rows = bigkeys(c, "bigkeys 5")
        want = sorted(size, key=lambda k: (-size[k], k))[:5]
        tap.eq([r[0] for r in rows], want,
               "deleted, shrunk and expired keys are gone")
        tap.eq(len(bigkeys(c)), 20, "default N is 20")
        tap.eq(c.cmd("stats bigkeys -3"),
               "CLIENT_ERROR bad command line format", "bad N refused")
        c.close()
        tap.ok(server.check(), "server stopped cleanly")


def main():
    if st.target() == "memcached":
        st.skip("stats hotkeys/bigkeys are stashd's own")
    tap = st.Tap()
    check_hotkeys(tap)
    check_bigkeys(tap)
    tap.done()


if __name__ == "__main__":
    main()
