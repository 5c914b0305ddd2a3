#!/usr/bin/python3
"""Real concurrency: the stress client (t/integration/stress.c, built by
make check) runs N threads x M operations of set/get/multi-get/delete/incr
on a small shared key set against a multi-threaded server; every value
carries a checksum that is verified on every read, and the counters' final
sum must equal the increments that succeeded.  Then many simultaneous
connections, and clients that vanish mid-request.  Bounded in count and
time."""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402


def stress_binary():
    path = os.environ.get("STASHD_STRESS")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "stress")
    if not os.access(path, os.X_OK):
        print("FAIL: stress client %s not built (make check builds it)"
              % path)
        sys.exit(st.HARD_ERROR)
    return path


def run_stress(tap, server, args, desc, limit=180):
    cmd = [stress_binary(), "-h", server.host, "-p", str(server.port)] + args
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=limit)
        out = (p.stdout + p.stderr).strip()
        tap.ok(p.returncode == 0, "%s: %s" % (desc, out.splitlines()[-1]
                                              if out else "no output"), out)
    except subprocess.TimeoutExpired:
        tap.ok(False, "%s: stress client still running after %ds"
               % (desc, limit))


def main():
    tap = st.Tap()
    server = st.Server().start()    # default -t 4

    run_stress(tap, server, ["-t", "8", "-n", "20000", "-k", "64",
                             "-T", "120"], "8 threads x 20000 ops, 64 keys")
    run_stress(tap, server, ["-t", "16", "-n", "3000", "-k", "4",
                             "-v", "200000", "-T", "120"],
               "16 threads x 3000 ops, 4 hot keys, values to 200 kB")

    # many connections at once, all answered
    conns = []
    try:
        for i in range(400):
            conns.append(st.Conn(server))
        for i, c in enumerate(conns):
            c.send("set c%d 0 0 %d\r\n%d\r\n" % (i, len(str(i)), i))
        ok = all(c.readline() == b"STORED" for c in conns)
        tap.ok(ok, "400 simultaneous connections each stored a key")
        stats = conns[0].stats()
        tap.ok(int(stats["curr_connections"]) >= 400,
               "curr_connections %s >= 400" % stats["curr_connections"])
    finally:
        for c in conns:
            c.close()

    # clients that disconnect in the middle of a request or a big reply
    big = b"z" * 500000
    c = st.Conn(server)
    c.send(b"set big 0 0 %d\r\n%s\r\n" % (len(big), big))
    tap.eq(c.readline(), b"STORED", "stored a 500 kB value")
    c.close()
    for i in range(200):
        s = server.connect()
        if i % 3 == 0:
            s.sendall(b"set half 0 0 100\r\nabc")
        elif i % 3 == 1:
            s.sendall(b"get big big big big\r\n")
        else:
            s.sendall(b"get big")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    time.sleep(0.5)
    c = st.Conn(server)
    tap.eq(c.cmd("get half"), "END", "half-sent value was not stored")
    c.send(b"get big\r\n")
    tap.eq(c.readline(), b"VALUE big 0 500000", "server still serves "
           "after 200 abrupt disconnects")
    tap.eq(c.readexact(500002), big + b"\r\n", "big value intact")
    tap.eq(c.readline(), b"END", "END")
    stats = c.stats()
    deadline = time.monotonic() + 5
    while int(stats["curr_connections"]) > 20 and \
            time.monotonic() < deadline:
        time.sleep(0.2)
        stats = c.stats()
    tap.ok(int(stats["curr_connections"]) <= 20,
           "closed connections are released (curr_connections %s)"
           % stats["curr_connections"])
    c.close()
    tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
