#!/usr/bin/python3
"""pymemcache (Debian's python3-pymemcache) against the server under test:
every text-protocol operation the client offers, with and without noreply,
over TCP.  TAP output; exit 0 only if all pass."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

try:
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheClientError
except ImportError:
    st.skip("python3-pymemcache is not installed")


def main():
    tap = st.Tap()
    server = st.Server().start()
    c = Client((server.host, server.port), connect_timeout=5, timeout=5,
               default_noreply=False)

    # set / get / get_many
    tap.eq(c.set("k1", b"v1"), True, "set")
    tap.eq(c.get("k1"), b"v1", "get hit")
    tap.eq(c.get("nope"), None, "get miss")
    tap.eq(c.get("nope", default=b"d"), b"d", "get miss default")
    tap.eq(c.set("k2", b"v2", expire=0, noreply=True), True, "set noreply")
    tap.eq(c.get_many(["k1", "k2", "nope"]), {"k1": b"v1", "k2": b"v2"},
           "get_many")
    tap.eq(c.get_many([]), {}, "get_many empty")
    tap.eq(c.set_many({"m1": b"a", "m2": b"b", "m3": b"c"}), [],
           "set_many: nothing failed")
    tap.eq(c.get_many(["m1", "m2", "m3"]),
           {"m1": b"a", "m2": b"b", "m3": b"c"}, "get_many after set_many")
    tap.eq(c.set("f", b"x", flags=123456), True, "set with flags")
    raw = st.Conn(server)
    raw.send(b"get f\r\n")
    tap.eq(raw.readexact(26), b"VALUE f 123456 1\r\nx\r\nEND\r\n",
           "flags round trip (raw get)")
    raw.close()

    # binary-safe values, sizes up to the limit
    blob = bytes(range(256)) * 64
    tap.eq(c.set("bin", blob), True, "set 16 KiB binary value")
    tap.eq(c.get("bin"), blob, "get binary value back intact")
    big = os.urandom(1000 * 1000)
    tap.eq(c.set("big", big), True, "set 1,000,000-byte value")
    tap.eq(c.get("big"), big, "get 1,000,000-byte value back intact")
    try:
        c.set("toobig", b"x" * (2 * 1024 * 1024))
        tap.ok(False, "2 MiB value refused")
    except Exception as e:
        tap.ok("too large" in str(e), "2 MiB value refused: %s" % e)
    tap.eq(c.get("toobig"), None, "refused value not stored")

    # add / replace
    tap.eq(c.add("k1", b"x"), False, "add existing -> not stored")
    tap.eq(c.add("a1", b"x"), True, "add new")
    tap.eq(c.add("a2", b"y", noreply=True), True, "add noreply")
    tap.eq(c.get("a2"), b"y", "add noreply took effect")
    tap.eq(c.replace("nope", b"x"), False, "replace missing -> not stored")
    tap.eq(c.replace("k1", b"r1"), True, "replace existing")
    tap.eq(c.get("k1"), b"r1", "replace took effect")
    c.replace("k1", b"r2", noreply=True)
    tap.eq(c.get("k1"), b"r2", "replace noreply took effect")

    # append / prepend
    tap.eq(c.append("k1", b"-end"), True, "append")
    tap.eq(c.prepend("k1", b"start-"), True, "prepend")
    tap.eq(c.get("k1"), b"start-r2-end", "append+prepend result")
    tap.eq(c.append("nope", b"x"), False, "append missing")
    tap.eq(c.prepend("nope", b"x"), False, "prepend missing")
    c.append("k1", b"!", noreply=True)
    c.prepend("k1", b"!", noreply=True)
    tap.eq(c.get("k1"), b"!start-r2-end!", "append/prepend noreply")

    # gets / cas
    val, cas = c.gets("k1")
    tap.eq(val, b"!start-r2-end!", "gets value")
    tap.ok(cas is not None and int(cas) > 0, "gets returns a cas unique")
    tap.eq(c.cas("k1", b"c1", cas), True, "cas with current unique")
    tap.eq(c.cas("k1", b"c2", cas), False, "cas with stale unique")
    tap.eq(c.cas("nope", b"c", cas), None, "cas on missing key")
    tap.eq(c.get("k1"), b"c1", "cas stored once")
    got = c.gets_many(["k1", "k2", "nope"])
    tap.ok(set(got) == {"k1", "k2"} and got["k1"][0] == b"c1",
           "gets_many", got)
    v2, cas2 = c.gets("k1")
    tap.ok(cas2 != cas, "cas unique changed after cas store")
    c.cas("k1", b"c3", cas2, noreply=True)
    tap.eq(c.get("k1"), b"c3", "cas noreply took effect")

    # incr / decr
    c.set("n", b"10")
    tap.eq(c.incr("n", 5), 15, "incr")
    tap.eq(c.decr("n", 20), 0, "decr floors at 0")
    tap.eq(c.incr("nope", 1), None, "incr missing")
    tap.eq(c.decr("nope", 1), None, "decr missing")
    c.set("n", b"18446744073709551615")
    tap.eq(c.incr("n", 1), 0, "incr wraps at 2^64")
    tap.eq(c.incr("n", 7, noreply=True), None, "incr noreply")
    tap.eq(int(c.get("n")), 7, "incr noreply took effect")
    c.decr("n", 2, noreply=True)
    tap.eq(int(c.get("n")), 5, "decr noreply took effect")
    try:
        c.incr("k1", 1)
        tap.ok(False, "incr of non-numeric value raises")
    except MemcacheClientError as e:
        tap.ok("non-numeric" in str(e), "incr of non-numeric value raises")

    # touch
    tap.eq(c.touch("k1", 100), True, "touch hit")
    tap.eq(c.touch("nope", 100), False, "touch miss")
    c.set("t", b"x", expire=100)
    tap.eq(c.touch("t", 1), True, "touch to 1s")
    time.sleep(2.2)
    tap.eq(c.get("t"), None, "touched item expired")
    c.set("t2", b"y", expire=1)
    c.touch("t2", 0, noreply=True)
    time.sleep(2.2)
    tap.eq(c.get("t2"), b"y", "touch noreply removed the expiry")

    # delete
    tap.eq(c.delete("k2", noreply=False), True, "delete hit")
    tap.eq(c.delete("k2", noreply=False), False, "delete miss")
    c.delete("a1", noreply=True)
    tap.eq(c.get("a1"), None, "delete noreply took effect")
    c.set_many({"d1": b"1", "d2": b"2"})
    tap.eq(c.delete_many(["d1", "d2", "d3"], noreply=False), True,
           "delete_many")
    tap.eq(c.get_many(["d1", "d2"]), {}, "delete_many took effect")

    # stats / version
    stats = c.stats()
    for name in (b"pid", b"uptime", b"curr_items", b"cmd_get", b"get_hits",
                 b"curr_connections", b"bytes", b"limit_maxbytes"):
        tap.ok(name in stats, "stats has %s" % name.decode())
    tap.ok(stats.get(b"cmd_get", 0) > 0, "stats cmd_get counted gets")
    settings = c.stats("settings")
    tap.ok(b"maxbytes" in settings, "stats settings has maxbytes")
    tap.ok(len(c.version()) > 0, "version: %r" % c.version())

    # flush_all
    tap.eq(c.flush_all(noreply=False), True, "flush_all")
    tap.eq(c.get_many(["k1", "n", "big"]), {}, "flush_all emptied the cache")
    c.set("after", b"1")
    c.flush_all(noreply=True)
    tap.eq(c.get("after"), None, "flush_all noreply took effect")
    c.close()

    tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
