#!/usr/bin/python3
"""scripts/stashd-top --count N: it refreshes N times and exits 0, showing
the ops/s of the traffic it watched (a bounded get loop on one hot key),
the hit ratio, evictions, the slab classes in use and the hot key."""

import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "scripts", "stashd-top")


def main():
    if st.target() == "memcached":
        st.skip("stashd-top reads stats hotkeys, stashd's own")
    tap = st.Tap()
    with st.Server() as server:
        c = st.Conn(server)
        c.send(b"set hotone 0 0 5\r\nhello\r\n")
        tap.eq(c.readline(), b"STORED", "set the hot key")
        stop = threading.Event()

        def load():
            # bounded: 20 s at most, 100 gets per round trip
            t0 = time.monotonic()
            while not stop.is_set() and time.monotonic() - t0 < 20:
                c.send(b"get hotone\r\nget missing\r\n" * 50)
                got = 0
                while got < 100:
                    if c.readline() == b"END":
                        got += 1

        th = threading.Thread(target=load)
        th.start()
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, TOP, "%s:%d" % (server.host,
                                                            server.port),
                            "--count", "3", "--interval", "0.5"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30)
        took = time.monotonic() - t0
        stop.set()
        th.join()
        out = p.stdout.decode()
        tap.eq(p.returncode, 0, "exits 0 after --count 3 (%.1fs)" % took)
        tap.eq(out.count("--- refresh"), 3, "three refreshes")
        rates = re.findall(r"ops/s\s+get (\d+)", out)
        tap.ok(len(rates) == 3 and int(rates[-1]) > 100,
               "get ops/s measured between refreshes: %r" % rates, out)
        ratio = re.findall(r"hit ratio ([\d.]+)%", out)
        tap.ok(ratio and 30 <= float(ratio[-1]) <= 70,
               "hit ratio about 50%%: %r" % ratio)
        tap.ok("evictions/s" in out, "evictions shown")
        tap.ok(re.search(r"^\s+1\s+\d+\s+1\s", out, re.M) is not None,
               "memory by class: class 1 with one page", out)
        tap.ok(re.search(r"^\s+hotone\s+[\d.]+\s+[\d.]+$", out, re.M)
               is not None, "the hot key is listed", out)
        c.close()
        tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
