#!/usr/bin/python3
"""metadump/mgdump formatted on the crawler thread (daemon/admin_crawler.c).

- backpressure: a client that does not read stops the producer: the
  server uses no CPU and its resident memory does not grow by the size of
  the dump while the client waits; gets on the same worker (-t 1) are
  served meanwhile; read afterwards, the dump lists every key once;
- one dump at a time: a second metadump or mgdump, and lru_crawler
  crawl, answer BUSY while one runs (memcached runs one crawler job; its
  1.6.18 leaves the second requester without an answer instead); dumps
  back to back are never BUSY;
- a client that leaves mid-dump frees the crawler at once (the next dump
  starts) and leaks nothing (ASan builds);
- lru_crawler disable mid-dump closes the dumping connection without an
  END (which would claim a full listing); enable and dump again work.

stashd only: memcached's behaviour differs where noted."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

LIMIT = 150.0            # per phase
N = 200000
BUSY = b"BUSY currently processing crawler request"


def load(conn, n, size=10):
    """Pipelined sets of n keys key0..key{n-1}, in batches."""
    value = b"v" * size
    for start in range(0, n, 500):
        conn.send(b"".join(b"set key%d 0 0 %d noreply\r\n%s\r\n"
                           % (i, size, value)
                           for i in range(start, min(n, start + 500))))
    conn.cmd("version")


def proc_cpu(pid):
    """utime + stime of pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_to_end(conn, end, deadline):
    """Everything up to and including the end line; the lines before it."""
    term = b"\n" + end
    while not conn.buf.endswith(term) and conn.buf != end:
        if time.monotonic() > deadline:
            raise TimeoutError("listing did not end")
        conn._fill()
    body = conn.buf[:-len(end)]
    conn.buf = b""
    return [ln for ln in body.split(b"\n") if ln]


def small_rcvbuf_conn(server):
    """A connection whose kernel receive buffer is small, so that a dump
    it does not read stalls soon (set before connect)."""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(st.IO_TIMEOUT)
    s.connect((server.host, server.port))
    return st.Conn(sock=s)


def check_backpressure(tap, server, c, deadline):
    pid = server.proc.pid
    rss0 = proc_rss_kib(pid)
    d = small_rcvbuf_conn(server)
    d.send(b"lru_crawler metadump all\r\n")
    time.sleep(1.0)
    cpu0 = proc_cpu(pid)
    rss1 = proc_rss_kib(pid)
    time.sleep(1.0)
    cpu1 = proc_cpu(pid)
    tick = os.sysconf("SC_CLK_TCK")
    tap.ok((cpu1 - cpu0) * 1000 // tick <= 100,
           "a dump nobody reads stops its producer: %d ms of server CPU "
           "in 1 s" % ((cpu1 - cpu0) * 1000 // tick))
    # the whole dump is ~15 MB; buffered: 64 KiB + one pass of output
    # (daemon/admin_crawler.c) plus the kernel's socket buffer
    # ASan's redzones and its quarantine of freed blocks add to the RSS
    # of the same buffers (scripts/test --sanitize sets ASAN_OPTIONS)
    bound = 8192 if "ASAN_OPTIONS" in os.environ else 4096
    tap.ok(rss1 - rss0 < bound,
           "memory stays bounded while the client does not read: RSS "
           "+%d KiB for a %d-item dump" % (rss1 - rss0, N))
    c.send(b"get key77\r\n")
    tap.eq(c.readline(), b"VALUE key77 0 10", "a get on the same worker "
           "(-t 1) is answered while the dump waits")
    c.readexact(12 + 5)
    tap.eq(c.cmd("lru_crawler metadump all").encode(), BUSY,
           "a second metadump answers BUSY while one runs")
    tap.eq(c.cmd("lru_crawler mgdump hash").encode(), BUSY,
           "mgdump answers BUSY while a metadump runs")
    tap.eq(c.cmd("lru_crawler crawl all").encode(), BUSY,
           "lru_crawler crawl answers BUSY while a dump runs")
    lines = read_to_end(d, b"END\r\n", deadline)
    keys = [ln.split(b" ", 1)[0] for ln in lines]
    tap.eq((len(keys), len(set(keys))), (N, N),
           "the stalled dump, read at last, lists every key once")
    d.close()


def start_dump(c, cmd, end, deadline):
    """Send a dump command; its lines, or None if it answered BUSY.
    (metadump lines end in a bare newline: no readline.)"""
    c.send(cmd + b"\r\n")
    while len(c.buf) < len(BUSY) + 2 and not c.buf.endswith(end):
        c._fill()
    if c.buf.startswith(BUSY + b"\r\n"):
        c.buf = c.buf[len(BUSY) + 2:]
        return None
    return read_to_end(c, end, deadline)


def check_back_to_back(tap, c, deadline):
    busy = 0
    for i in range(10):
        if i % 2 == 0:
            lines = start_dump(c, b"lru_crawler metadump 1", b"END\r\n",
                               deadline)
        else:
            lines = start_dump(c, b"lru_crawler mgdump 1", b"EN\r\n",
                               deadline)
        if lines is None:
            busy += 1
        elif len(lines) != N:
            tap.diag("dump %d: %d lines" % (i, len(lines)))
    tap.eq(busy, 0, "10 dumps back to back on one connection: never BUSY")


def check_leave(tap, server, c, deadline):
    for i in range(5):
        d = small_rcvbuf_conn(server)
        d.send(b"lru_crawler metadump all\r\n")
        d._fill()
        d.close()
    # the producer notices at its next step: the next dump may find it
    # busy for a moment, not for good
    lines = None
    t0 = time.monotonic()
    while lines is None and time.monotonic() - t0 < 3.0:
        lines = start_dump(c, b"lru_crawler metadump all", b"END\r\n",
                           deadline)
        if lines is None:
            time.sleep(0.05)
    tap.ok(lines is not None and len(lines) == N,
           "after clients left mid-dump the next dump starts within 3 s "
           "(%.2f s) and lists every item" % (time.monotonic() - t0))


def check_disable(tap, server, c, deadline):
    d = small_rcvbuf_conn(server)
    d.send(b"lru_crawler metadump all\r\n")
    d._fill()
    tap.eq(c.cmd("lru_crawler disable"), "OK", "lru_crawler disable "
           "mid-dump")
    try:
        while time.monotonic() < deadline:
            d._fill()
    except EOFError:
        pass
    except OSError as e:
        tap.diag("read: %r" % e)
    tap.ok(d.eof and not d.buf.endswith(b"\nEND\r\n"),
           "the dumping connection is closed without END (%r)"
           % d.buf[-16:])
    d.close()
    tap.eq(c.cmd("lru_crawler enable"), "OK", "lru_crawler enable")
    c.send(b"lru_crawler metadump all\r\n")
    tap.eq(len(read_to_end(c, b"END\r\n", deadline)), N,
           "a dump after re-enabling lists every item")


def main():
    tap = st.Tap()
    if st.target() != "stashd":
        st.skip("stashd's dump producer")
    server = st.Server(["-t", "1", "-m", "256"]).start()
    c = st.Conn(server)
    load(c, N)
    tap.eq(c.stats()["curr_items"], str(N), "loaded %d items" % N)
    # each phase its own time: the thirteen 15 MB listings together take
    # minutes on a loaded 2-core machine under ASan
    check_backpressure(tap, server, c, time.monotonic() + LIMIT)
    check_back_to_back(tap, c, time.monotonic() + LIMIT)
    check_leave(tap, server, c, time.monotonic() + LIMIT)
    check_disable(tap, server, c, time.monotonic() + LIMIT)
    tap.eq(c.cmd("version")[:8], "VERSION ", "server answers at the end")
    c.close()
    tap.ok(server.check(), "server stopped cleanly (no sanitizer report)")
    tap.done()


if __name__ == "__main__":
    main()
