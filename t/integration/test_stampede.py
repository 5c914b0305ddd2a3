#!/usr/bin/python3
"""Stampede control with 200 concurrent clients on one key, as memcached's
meta protocol defines it:

  cold miss     every client sends `mg key N30 v c` at once: exactly one W
                (the lease, token = CAS), the rest Z on the empty
                placeholder; the winner fills after 50 ms with ms C<token>;
                losers poll (Z -> sleep, retry) until they read the value.
                One backend fill in total.
  md I          stale-while-revalidate: after md I one reader gets X W, the
                others X Z with the old value at once (no retry needed);
                the winner's fill makes the value fresh.
  R<secs>       early refresh: one W while the TTL left is under R, the
                others keep reading the value (Z).
  dead winner   the lease ends with the placeholder's TTL; then one new W.
  flush_all     a fill with a token from before the flush stores nothing.
  eviction      leases under memory pressure: never two W for one token,
                every client still ends with the value.
  wait (w)      stashd only: with `mg ... w<ms>` losers are parked in the
                server and answered with the value, with no retry.

Runs against memcached 1.6.18 too (STASHD_TARGET=memcached), except the w
case.  Bounded: every client gives up after 20 s."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

CLIENTS = 200
FILL_DELAY = 0.05
GIVE_UP = 20.0


class Meta:
    """A meta-protocol connection: one request, one parsed reply."""

    def __init__(self, server):
        self.c = st.Conn(server, timeout=GIVE_UP)

    def req(self, line, data=None):
        out = line.encode() + b"\r\n"
        if data is not None:
            out += data + b"\r\n"
        self.c.send(out)
        return self.reply()

    def reply(self):
        parts = self.c.readline().decode("latin-1").split()
        value = None
        if parts[0] == "VA":
            value = self.c.readexact(int(parts[1]) + 2)[:-2]
            flags = parts[2:]
        else:
            flags = parts[1:]
        return parts[0], flags, value

    def close(self):
        self.c.close()


def flag(flags, letter):
    """The argument of return flag `letter` ('' if bare), or None."""
    for f in flags:
        if f[0] == letter:
            return f[1:]
    return None


class Stampede:
    """Run `clients` threads released together by a barrier."""

    def __init__(self, server, clients=CLIENTS):
        self.server = server
        self.clients = clients
        self.lock = threading.Lock()
        self.wins = []          # (client, token)
        self.results = {}       # client -> value finally read
        self.trips = {}         # client -> round trips
        self.replies = []       # every reply seen: (client, status, flags)
        self.errors = []
        self.fills = 0
        self.firsts = 0         # clients that had their first reply
        self.all_asked = threading.Event()

    def run(self, body):
        conns = [Meta(self.server) for _ in range(self.clients)]
        barrier = threading.Barrier(self.clients)

        def worker(i):
            try:
                barrier.wait(GIVE_UP)
                body(self, i, conns[i])
            except Exception as e:  # noqa: BLE001 -- reported as a failure
                with self.lock:
                    self.errors.append("client %d: %r" % (i, e))

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(GIVE_UP + 10)
        for c in conns:
            c.close()
        return self

    def note(self, i, status, flags):
        with self.lock:
            self.replies.append((i, status, flags))

    def first(self):
        """A client got its first reply; when all have, the stampede has
        fully hit the server."""
        with self.lock:
            self.firsts += 1
            if self.firsts == self.clients:
                self.all_asked.set()

    def backend(self):
        """The winner's database: it answers 50 ms after the whole stampede
        arrived (on a loaded machine 200 threads take a while to start)."""
        self.all_asked.wait(GIVE_UP / 2)
        time.sleep(FILL_DELAY)

    def won(self, i, token):
        with self.lock:
            self.wins.append((i, token))

    def filled(self):
        with self.lock:
            self.fills += 1

    def done(self, i, value, trips):
        with self.lock:
            self.results[i] = value
            self.trips[i] = trips


def poll_until_value(s, i, m, key, value, get="mg %s N30 v c t", fill_ttl=60):
    """The memcached loser's loop: win -> fill after 50 ms; Z on an empty
    placeholder -> sleep and retry; a value without Z -> done."""
    trips = 0
    deadline = time.monotonic() + GIVE_UP
    while time.monotonic() < deadline:
        status, flags, v = m.req(get % key)
        trips += 1
        s.note(i, status, flags)
        if trips == 1:
            s.first()
        if flag(flags, "W") is not None:
            token = flag(flags, "c")
            s.won(i, token)
            s.backend()
            s.filled()
            status, _, _ = m.req("ms %s %d C%s T%d" % (key, len(value),
                                                       token, fill_ttl),
                                 value)
            trips += 1
            if status != "HD":
                raise AssertionError("winner's fill answered %s" % status)
            s.done(i, value, trips)
            return
        if flag(flags, "Z") is not None and not v:
            time.sleep(0.005)
            continue
        s.done(i, v, trips)
        return
    raise AssertionError("no value after %.0f s" % GIVE_UP)


def check_one_fill(tap, s, what, value):
    tap.eq(s.errors, [], "%s: no client errors" % what)
    tap.eq(len(s.wins), 1, "%s: exactly one W among %d clients"
           % (what, s.clients))
    tap.eq(s.fills, 1, "%s: one backend fill" % what)
    tap.ok(all(v == value for v in s.results.values())
           and len(s.results) == s.clients,
           "%s: every client ended with the filled value" % what,
           "%d results, %d wrong" % (len(s.results),
                                     sum(v != value
                                         for v in s.results.values())))


def cold_miss(tap, server):
    value = b"computed-once"
    s = Stampede(server).run(
        lambda s, i, m: poll_until_value(s, i, m, "cold", value))
    check_one_fill(tap, s, "cold miss", value)
    z = sum(1 for _, _, f in s.replies if flag(f, "Z") is not None)
    tap.ok(z >= s.clients - 1, "cold miss: losers saw Z (%d replies)" % z)
    # W and Z never together; the W reply carried the token of the one
    # placeholder every Z reply saw
    tap.ok(all(not (flag(f, "W") is not None and flag(f, "Z") is not None)
               for _, _, f in s.replies), "cold miss: no reply with W and Z")
    tokens = {flag(f, "c") for _, _, f in s.replies
              if flag(f, "Z") is not None}
    tap.eq(tokens, {s.wins[0][1]} if s.wins else set(),
           "cold miss: every Z saw the winner's token")
    retries = sum(s.trips.values()) - s.clients - 1
    tap.diag("cold miss: %d client round trips, %d retries"
             % (sum(s.trips.values()), retries))
    tap.ok(retries > 0, "cold miss: without w, losers had to poll")


def stale_while_revalidate(tap, server):
    m = Meta(server)
    m.req("ms swr 2 T100", b"v1")
    tap.eq(m.req("md swr I")[0], "HD", "md I: HD")
    m.close()
    seen = {}

    def body(s, i, m):
        status, flags, v = m.req("mg swr v c")
        s.note(i, status, flags)
        s.first()
        if flag(flags, "W") is not None:
            s.won(i, flag(flags, "c"))
            s.backend()
            s.filled()
            st_, _, _ = m.req("ms swr 2 C%s T100" % flag(flags, "c"), b"v2")
            if st_ != "HD":
                raise AssertionError("winner's fill answered %s" % st_)
        with s.lock:
            seen[i] = (v, flag(flags, "X") is not None,
                       flag(flags, "Z") is not None)
        s.done(i, v, 1)

    s = Stampede(server).run(body)
    tap.eq(s.errors, [], "md I: no client errors")
    tap.eq(len(s.wins), 1, "md I: exactly one X W among %d" % CLIENTS)
    tap.eq(s.fills, 1, "md I: one backend fill")
    losers = [seen[i] for i in seen if i not in dict(s.wins)]
    tap.ok(len(losers) == CLIENTS - 1
           and all(v == b"v1" and x and z for v, x, z in losers),
           "md I: every loser read the stale value at once (X Z)",
           repr(losers[:5]))
    m = Meta(server)
    status, flags, v = m.req("mg swr v")
    tap.ok(v == b"v2" and flags == [], "md I: the fill made it fresh",
           (status, flags, v))
    m.close()


def early_refresh(tap, server):
    m = Meta(server)
    m.req("ms er 2 T100", b"v1")
    m.close()

    def body(s, i, m):
        status, flags, v = m.req("mg er R200 v c")
        s.note(i, status, flags)
        s.first()
        if flag(flags, "W") is not None:
            s.won(i, flag(flags, "c"))
            s.backend()
            s.filled()
            # a TTL above R, or later readers would win again at once
            m.req("ms er 2 C%s T1000" % flag(flags, "c"), b"v2")
        s.done(i, v, 1)

    s = Stampede(server).run(body)
    tap.eq(s.errors, [], "R: no client errors")
    tap.eq(len(s.wins), 1, "R: exactly one early-refresh W")
    tap.eq(s.fills, 1, "R: one backend fill")
    tap.ok(len(s.results) == CLIENTS
           and all(v == b"v1" for v in s.results.values()),
           "R: every reader got the value at once (no miss, no wait)")
    tap.eq(sum(1 for _, _, f in s.replies if flag(f, "Z") is not None),
           CLIENTS - 1, "R: the others were told Z")
    m = Meta(server)
    status, flags, v = m.req("mg er R30 v")
    tap.ok(v == b"v2" and "W" not in flags and "Z" not in flags,
           "R: refreshed value, nothing to win under R30", (flags, v))
    m.close()


def dead_winner(tap, server):
    m = Meta(server)
    status, flags, _ = m.req("mg dead N3 v")
    tap.ok(flag(flags, "W") is not None, "dead winner: the first caller won")
    s = Stampede(server, 50).run(
        lambda s, i, mm: s.note(i, *mm.req("mg dead N3 v")[:2]))
    tap.ok(all(flag(f, "Z") is not None for _, _, f in s.replies),
           "dead winner: 50 callers see Z while the lease lives")
    time.sleep(4.5)
    s = Stampede(server, 50).run(
        lambda s, i, mm: s.note(i, *mm.req("mg dead N3 v")[:2]))
    wins = sum(1 for _, _, f in s.replies if flag(f, "W") is not None)
    tap.eq(wins, 1, "dead winner: after the TTL exactly one new W among 50")
    m.close()


def flush(tap, server):
    m = Meta(server)
    _, flags, _ = m.req("mg fl N30 c")
    token = flag(flags, "c")
    m.c.send(b"flush_all\r\n")
    tap.eq(m.c.readline(), b"OK", "flush: flush_all")
    tap.eq(m.req("ms fl 3 C%s" % token, b"old")[0], "NF",
           "flush: the pre-flush token fills nothing (NF)")
    tap.eq(m.req("mg fl v")[0], "EN", "flush: nothing resurrected")
    m.close()
    value = b"after-flush"
    s = Stampede(server).run(
        lambda s, i, mm: poll_until_value(s, i, mm, "fl", value))
    check_one_fill(tap, s, "after flush", value)


def eviction(tap):
    """A small cache flooded while 200 clients stampede: a placeholder may
    be evicted (then a new lease, a new token), but one token never has two
    winners and every client ends with a value."""
    server = st.Server(["-m", "2"]).start()
    stop = threading.Event()

    def flood():
        c = st.Conn(server)
        big = b"x" * 5000
        n = 0
        while not stop.is_set():
            c.send(b"".join(b"set flood%d 0 0 %d noreply\r\n%s\r\n"
                            % (n + j, len(big), big) for j in range(50)))
            n += 50
            time.sleep(0.001)
        c.send(b"mn\r\n")
        c.readline()
        c.close()

    ft = threading.Thread(target=flood)
    ft.start()
    value = b"v" * 100
    try:
        s = Stampede(server).run(
            lambda s, i, m: poll_until_value(s, i, m, "ev", value,
                                             fill_ttl=0))
    finally:
        stop.set()
        ft.join()
    tap.eq(s.errors, [], "eviction: no client errors")
    tokens = [t for _, t in s.wins]
    tap.ok(len(tokens) == len(set(tokens)) and len(tokens) >= 1,
           "eviction: one winner per lease token (%d leases)" % len(tokens))
    tap.ok(len(s.results) == CLIENTS
           and all(v == value for v in s.results.values()),
           "eviction: every client ended with the value")
    c = st.Conn(server)
    stats = c.stats()
    c.close()
    tap.diag("eviction: %s evictions, %d fills" % (stats.get("evictions"),
                                                   s.fills))
    tap.ok(int(stats.get("evictions", "0")) > 0, "eviction: it did evict")
    tap.ok(server.check(), "eviction: server clean")


def wait_flag(tap, server):
    """stashd's w: losers are parked and answered with the value."""
    value = b"computed-once"

    def body(s, i, m):
        with s.lock:
            s.firsts += 1
            if s.firsts == s.clients:
                s.all_asked.set()
        status, flags, v = m.req("mg wt N30 v c w5000")
        s.note(i, status, flags)
        trips = 1
        if flag(flags, "W") is not None:
            s.won(i, flag(flags, "c"))
            s.backend()
            s.filled()
            m.req("ms wt %d C%s T60" % (len(value), flag(flags, "c")), value)
            v = value
            trips += 1
        s.done(i, v, trips)

    t0 = time.monotonic()
    s = Stampede(server).run(body)
    took = time.monotonic() - t0
    check_one_fill(tap, s, "wait flag", value)
    tap.eq(sum(s.trips.values()), CLIENTS + 1,
           "wait flag: one round trip per client (+ the fill), no retries")
    tap.ok(all(flag(f, "Z") is None for _, _, f in s.replies),
           "wait flag: nobody was answered Z")
    tap.diag("wait flag: all %d clients served in %.0f ms"
             % (CLIENTS, took * 1000))


def main():
    tap = st.Tap()
    server = st.Server(["-c", "1024"]).start()
    cold_miss(tap, server)
    stale_while_revalidate(tap, server)
    early_refresh(tap, server)
    dead_winner(tap, server)
    flush(tap, server)
    m = Meta(server)
    has_wait = m.req("mg probe w1 v")[0] == "EN"
    m.close()
    if st.target() == "memcached":
        tap.diag("skipping the w case: memcached has no server-side wait")
    elif not has_wait:
        tap.diag("skipping the w case: this stashd has no w flag")
    else:
        wait_flag(tap, server)
    tap.ok(server.check(), "server clean")
    if st.target() != "external":
        eviction(tap)
    tap.done()


if __name__ == "__main__":
    socket.setdefaulttimeout(GIVE_UP)
    main()
