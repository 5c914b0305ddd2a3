#!/usr/bin/python3
"""Unix domain sockets: -s PATH serves the text protocol, -a sets the
socket's permission bits, clients (pymemcache, stress) work over it."""

import os
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402


def main():
    tap = st.Tap()
    for mode in ("0700", "0666"):
        server = st.Server(["-a", mode], unix=True).start()
        got = stat.S_IMODE(os.stat(server.path).st_mode)
        tap.eq(oct(got), oct(int(mode, 8)), "-a %s sets socket mode" % mode)
        tap.ok(stat.S_ISSOCK(os.stat(server.path).st_mode),
               "-s path is a socket")
        c = st.Conn(server)
        tap.eq(c.cmd("set u 0 0 1\r\nx"), "STORED", "set over unix socket")
        c.send(b"get u\r\n")
        tap.eq(c.readexact(21), b"VALUE u 0 1\r\nx\r\nEND\r\n",
               "get over unix socket")
        stats = c.stats()
        tap.ok("pid" in stats, "stats over unix socket")
        c.close()
        if mode == "0666":
            try:
                from pymemcache.client.base import Client
                pc = Client(server.path, timeout=5, connect_timeout=5)
                pc.set("pm", b"v")
                tap.eq(pc.get("pm"), b"v", "pymemcache over unix socket")
                pc.close()
            except ImportError:
                tap.diag("pymemcache missing: skipped")
            path = os.environ.get("STASHD_STRESS") or os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "stress")
            if os.access(path, os.X_OK):
                p = subprocess.run([path, "-s", server.path, "-t", "4",
                                    "-n", "5000", "-T", "60"],
                                   capture_output=True, text=True,
                                   timeout=90)
                out = (p.stdout + p.stderr).strip()
                tap.ok(p.returncode == 0, "stress over unix socket: %s"
                       % (out.splitlines()[-1] if out else ""), out)
            else:
                tap.diag("stress client not built: skipped")
        tap.ok(server.check(), "server stopped cleanly")
    tap.done()


if __name__ == "__main__":
    main()
