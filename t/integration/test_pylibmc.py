#!/usr/bin/python3
"""pylibmc (Debian's python3-pylibmc, libmemcached underneath) against the
server under test, in text mode: the same operations as test_pymemcache.py
plus the multi-key calls and libmemcached behaviors (noreply, buffered
requests, cas).  TAP output; exit 0 only if all pass."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

try:
    import pylibmc
except ImportError:
    st.skip("python3-pylibmc is not installed")


def client(server, **behaviors):
    b = {"tcp_nodelay": True, "connect_timeout": 5000,
         "receive_timeout": 5000000, "send_timeout": 5000000}
    b.update(behaviors)
    return pylibmc.Client([server.addr()], binary=False, behaviors=b)


def main():
    tap = st.Tap()
    server = st.Server().start()
    c = client(server, cas=True)

    tap.ok(c.set("k1", "v1"), "set")
    tap.eq(c.get("k1"), "v1", "get hit")
    tap.eq(c.get("nope"), None, "get miss")
    tap.ok(c.set("raw", b"\x00\r\n\xff"), "set binary bytes")
    tap.eq(c.get("raw"), b"\x00\r\n\xff", "binary bytes round trip")
    tap.ok(c.set("num", 42), "set int (client flags mark the type)")
    tap.eq(c.get("num"), 42, "int comes back as int (flags kept)")
    tap.ok(c.set("obj", {"a": [1, 2]}), "set pickled object")
    tap.eq(c.get("obj"), {"a": [1, 2]}, "pickled object round trip")
    big = os.urandom(900 * 1000)
    tap.ok(c.set("big", big), "set 900 kB value")
    tap.eq(c.get("big"), big, "900 kB value intact")

    # multi
    tap.eq(c.set_multi({"m1": "a", "m2": "b", "m3": "c"}), [],
           "set_multi: nothing failed")
    tap.eq(c.get_multi(["m1", "m2", "m3", "nope"]),
           {"m1": "a", "m2": "b", "m3": "c"}, "get_multi")
    tap.eq(c.get_multi(["m1", "m2"], key_prefix="x"), {},
           "get_multi with a prefix that matches nothing")
    tap.eq(c.set_multi({"1": "p", "2": "q"}, key_prefix="pre_"), [],
           "set_multi with key_prefix")
    tap.eq(c.get_multi(["1", "2"], key_prefix="pre_"), {"1": "p", "2": "q"},
           "get_multi with key_prefix")
    tap.eq(c.add_multi({"m1": "z", "m4": "d"}), ["m1"],
           "add_multi: existing key reported")
    tap.ok(c.delete_multi(["m1", "m2"]), "delete_multi")
    tap.eq(c.get_multi(["m1", "m2", "m3", "m4"]), {"m3": "c", "m4": "d"},
           "delete_multi took effect")

    # add / replace / append / prepend
    tap.eq(c.add("k1", "x"), False, "add existing")
    tap.eq(c.add("a1", "x"), True, "add new")
    tap.eq(c.replace("nope", "x"), False, "replace missing")
    tap.eq(c.replace("k1", "r"), True, "replace existing")
    tap.ok(c.append("k1", "-e"), "append")
    tap.ok(c.prepend("k1", "s-"), "prepend")
    tap.eq(c.get("k1"), "s-r-e", "append/prepend result")
    tap.eq(c.append("nope", "x"), False, "append missing")

    # gets / cas
    val, cas = c.gets("k1")
    tap.eq(val, "s-r-e", "gets value")
    tap.ok(isinstance(cas, int) and cas > 0, "gets cas unique %r" % cas)
    tap.eq(c.cas("k1", "c1", cas), True, "cas with current unique")
    tap.eq(c.cas("k1", "c2", cas), False, "cas with stale unique")
    tap.eq(c.get("k1"), "c1", "cas stored once")
    tap.eq(c.gets("nope"), (None, None), "gets miss")

    # incr / decr
    c.set("n", "10")
    tap.eq(c.incr("n", 5), 15, "incr")
    tap.eq(c.decr("n", 100), 0, "decr floors at 0")
    try:
        c.incr("nope")
        tap.ok(False, "incr missing raises NotFound")
    except pylibmc.NotFound:
        tap.ok(True, "incr missing raises NotFound")
    c.set("n", "18446744073709551615")
    tap.eq(c.incr("n", 1), 0, "incr wraps at 2^64")
    try:
        c.incr("k1", 1)
        tap.ok(False, "incr of non-numeric value fails")
    except pylibmc.Error:
        tap.ok(True, "incr of non-numeric value fails")
    c.set_multi({"i1": "1", "i2": "2"})
    c.incr_multi(["i1", "i2"], delta=10)
    tap.eq(c.get_multi(["i1", "i2"]), {"i1": "11", "i2": "12"}, "incr_multi")

    # touch / delete
    tap.eq(c.touch("k1", 100), True, "touch hit")
    tap.eq(c.touch("nope", 100), False, "touch miss")
    c.set("t", "x", time=100)
    c.touch("t", 1)
    time.sleep(2.2)
    tap.eq(c.get("t"), None, "touched item expired")
    tap.eq(c.delete("k1"), True, "delete hit")
    tap.eq(c.delete("k1"), False, "delete miss")

    # stats / version (through get_stats)
    stats = c.get_stats()
    tap.eq(len(stats), 1, "get_stats: one server")
    d = stats[0][1]
    for name in ("pid", "uptime", "version", "curr_items", "cmd_get",
                 "get_hits", "total_items"):
        tap.ok(name in d, "stats has %s" % name)
    tap.ok(int(d.get("cmd_get", 0)) > 0, "cmd_get counted")

    # behaviors: noreply (libmemcached sends "noreply" and never reads),
    # then read back with a normal client
    nr = client(server, _noreply=True)
    for i in range(50):
        nr.set("nr%d" % i, str(i))
    nr.delete("nr0")
    nr.set_multi({"nm%d" % i: "v" for i in range(20)})
    deadline = time.monotonic() + 5
    got = {}
    keys = ["nr%d" % i for i in range(50)] + ["nm%d" % i for i in range(20)]
    while time.monotonic() < deadline:
        got = c.get_multi(keys)
        if len(got) == 69:
            break
        time.sleep(0.1)
    tap.eq(len(got), 69, "noreply sets all arrived")
    tap.ok("nr0" not in got, "noreply delete took effect")
    tap.eq(got.get("nr49"), "49", "noreply set value")
    tap.eq(got.get("nm19"), "v", "noreply set_multi value")
    tap.eq(nr.get("nr1"), "1", "get still answers on a noreply client")
    tap.eq(c.behaviors["cas"], 1, "cas behavior on")

    # flush_all
    tap.ok(c.flush_all(), "flush_all")
    tap.eq(c.get_multi(["n", "big", "i1"]), {}, "cache empty after flush")

    c.disconnect_all()
    nr.disconnect_all()
    tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
