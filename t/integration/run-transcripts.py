#!/usr/bin/python3
"""run-transcripts -- replay t/integration/transcripts/*.t against a server.

    run-transcripts.py [-j N] [-v] [file.t ...]

Each transcript gets a fresh server (its `# flags:` added to the command
line) unless STASHD_ADDR names a running one.  The format is described in
t/integration/transcripts/README.  Output is TAP, one test per transcript;
the exit status is 0 only if every transcript passed (skips allowed).
"""

import concurrent.futures
import os
import re
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402


class Failure(Exception):
    pass


class Skipped(Exception):
    pass


_ESC = re.compile(rb"\\(x[0-9a-fA-F]{2}|[rnt0\\$])")


def unescape(text, names=None):
    """Bytes of a transcript payload: \\r \\n \\t \\0 \\\\ \\$ \\xHH escapes,
    ${now}, ${now+N}, ${now-N} (current unix time), ${N*s} (s repeated
    N times) and ${name} (a group captured by an earlier <<~ (?P<name>..))."""

    def now(m):
        return str(int(time.time()) + int(m.group(1) or 0)).encode()

    raw = re.sub(rb"(?<!\\)\$\{now([+-]\d+)?\}", now, text.encode("latin-1"))
    raw = re.sub(rb"(?<!\\)\$\{(\d+)\*([^}]*)\}",
                 lambda m: m.group(2) * int(m.group(1)), raw)

    def name(m):
        key = m.group(1).decode()
        if names is None or key not in names:
            raise KeyError("${%s} was not captured before" % key)
        return names[key]

    raw = re.sub(rb"(?<!\\)\$\{([A-Za-z_]\w*)\}", name, raw)

    def esc(m):
        c = m.group(1)
        if c[:1] == b"x":
            return bytes([int(c[1:], 16)])
        return {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"0": b"\0",
                b"\\": b"\\", b"$": b"$"}[c]

    return _ESC.sub(esc, raw)


class Transcript:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        self.flags = []
        self.requires = set()
        self.only = None
        self.steps = []     # (lineno, op, arg)
        with open(path, encoding="latin-1") as f:
            for no, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                if line.startswith("#"):
                    m = re.match(r"#\s*(flags|requires|only):\s*(.*)$", line)
                    if m and m.group(1) == "flags":
                        self.flags += shlex.split(m.group(2))
                    elif m and m.group(1) == "requires":
                        self.requires |= set(m.group(2).split())
                    elif m:
                        self.only = m.group(2).strip()
                    continue
                op = line[:3]
                if op in (">>>", ">>-", "<<<", "<<~", "<<@", "<<*"):
                    if len(line) > 3 and line[3] != " ":
                        raise SyntaxError("%s:%d: need a space after %s"
                                          % (path, no, op))
                    self.steps.append((no, op, line[4:]))
                elif line.startswith("!"):
                    parts = line[1:].split()
                    self.steps.append((no, "!", parts))
                else:
                    raise SyntaxError("%s:%d: unknown line %r"
                                      % (path, no, line))


class Runner:
    def __init__(self, t, server):
        self.t = t
        self.server = server
        self.conn = st.Conn(server)
        self.side = None        # second connection for stats, opened lazily
        self.snapshot = None
        self.out = b""          # buffered sends
        self.required = []      # pending <<@ regexes
        self.names = {}         # (?P<name>...) captures of <<~ lines

    def flush(self):
        if self.out:
            self.conn.send(self.out)
            self.out = b""

    def fail(self, no, msg):
        raise Failure("%s:%d: %s" % (self.t.name, no, msg))

    def side_stats(self):
        if self.side is None:
            self.side = st.Conn(self.server)
        return self.side.stats()

    def readline(self, no):
        try:
            return self.conn.readline()
        except EOFError:
            self.fail(no, "connection closed, reply expected")
        except OSError as e:
            self.fail(no, "no reply line (%s); buffer %r"
                      % (e, self.conn.buf[:300]))

    def run(self):
        if "debugtime" in self.t.requires:
            self.conn.send(b"debugtime 0\r\n")
            reply = self.conn.readline()
            if reply.startswith(b"ERROR"):
                raise Skipped("server has no debugtime command")
        if st.target() == "external":
            # a shared server: start from an empty cache
            self.conn.send(b"flush_all\r\n")
            self.conn.readline()
        closed = False
        for no, op, arg in self.t.steps:
            if op == ">>>":
                self.out += unescape(arg, self.names) + b"\r\n"
            elif op == ">>-":
                self.out += unescape(arg, self.names)
            elif op == "<<<":
                self.flush()
                want = unescape(arg, self.names) + b"\r\n"
                try:
                    got = self.conn.readexact(len(want))
                except (EOFError, OSError) as e:
                    got = self.conn.buf
                    self.fail(no, "expected %r, got %r then %s"
                              % (want, got, e))
                if got != want:
                    more = self.conn.pending(0.2)
                    self.fail(no, "expected %r\n  got      %r\n  then     %r"
                              % (want, got, more[:300]))
            elif op == "<<~":
                self.flush()
                line = self.readline(no)
                m = re.fullmatch(unescape(arg, self.names), line, re.S)
                if not m:
                    self.fail(no, "line %r does not match /%s/" % (line, arg))
                self.names.update(
                    {k: v for k, v in m.groupdict().items() if v is not None})
            elif op == "<<@":
                self.required.append((no, re.compile(unescape(arg, self.names), re.S)))
            elif op == "<<*":
                self.flush()
                rx = re.compile(unescape(arg, self.names), re.S)
                seen = 0
                while True:
                    try:
                        line = self.conn.peekline()
                    except (EOFError, OSError):
                        break
                    if not rx.fullmatch(line):
                        break
                    self.conn.readline()
                    seen += 1
                    self.required = [(n, r) for n, r in self.required
                                     if not r.fullmatch(line)]
                if self.required:
                    self.fail(self.required[0][0],
                              "no line matched /%s/ among the %d lines "
                              "before %r"
                              % (self.required[0][1].pattern.decode(), seen,
                                 self.conn.buf[:80]))
            else:
                closed = self.directive(no, arg) or closed
        self.flush()
        if not closed:
            extra = self.conn.pending(0.2)
            if extra:
                self.fail(no, "unexpected bytes after the transcript: %r"
                          % extra[:300])

    def directive(self, no, parts):
        """Run one `!` line; True if the connection is gone afterwards."""
        self.flush()
        what = parts[0] if parts else ""
        if what == "sleep":
            time.sleep(float(parts[1]))
        elif what == "reconnect":
            self.conn.close()
            self.conn = st.Conn(self.server)
        elif what == "closed":
            if not self.conn.closed():
                self.fail(no, "server did not close the connection")
            return True
        elif what == "silent":
            wait = float(parts[1]) if len(parts) > 1 else 0.3
            extra = self.conn.pending(wait)
            if extra:
                self.fail(no, "expected no reply, got %r" % extra[:300])
        elif what == "snapshot":
            self.snapshot = self.side_stats()
        elif what == "delta":
            name, want = parts[1], int(parts[2])
            now = self.side_stats()
            if name not in now or name not in self.snapshot:
                self.fail(no, "stat %s missing" % name)
            got = int(now[name]) - int(self.snapshot[name])
            if got != want:
                self.fail(no, "stat %s changed by %d, expected %d"
                          % (name, got, want))
        elif what == "stat":
            name, rx = parts[1], " ".join(parts[2:])
            now = self.side_stats()
            if name not in now:
                self.fail(no, "stat %s missing" % name)
            if not re.fullmatch(rx, now[name]):
                self.fail(no, "stat %s = %r does not match /%s/"
                          % (name, now[name], rx))
        elif what == "exited":
            # the server must exit by itself (shutdown) within the timeout
            p = self.server.proc
            if p is not None:
                try:
                    p.wait(st.STOP_TIMEOUT)
                except Exception:
                    self.fail(no, "server still running")
                self.server.expect_exit_rc = lambda rc: rc == 0
        else:
            self.fail(no, "unknown directive !%s" % " ".join(parts))
        return False

    def close(self):
        self.conn.close()
        if self.side:
            self.side.close()


def run_one(path):
    """Run one transcript; returns (status, name, details)."""
    t = Transcript(path)
    if t.only and t.only != st.target() and st.target() != "external":
        return ("skip", t.name, "only for %s" % t.only)
    if st.target() == "external" and t.flags:
        return ("skip", t.name, "needs flags %s" % " ".join(t.flags))
    if st.target() == "external" and "fresh" in t.requires:
        return ("skip", t.name, "needs a freshly started server")
    server = st.Server(t.flags)
    server.start()
    status, detail = "pass", ""
    runner = None
    try:
        runner = Runner(t, server)
        runner.run()
    except Skipped as e:
        status, detail = "skip", str(e)
    except Failure as e:
        status, detail = "fail", str(e)
    except Exception as e:
        status, detail = "fail", "%s: %s: %r" % (t.name, type(e).__name__, e)
    finally:
        if runner:
            runner.close()
    problems = server.stop()
    if problems:
        status = "fail"
        detail = (detail + "\n" if detail else "") + "\n".join(problems)
    return (status, t.name, detail)


def main(argv):
    jobs = 4
    files = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "-j":
            jobs = int(args.pop(0))
        else:
            files.append(a)
    if not files:
        srcdir = os.environ.get("srcdir")
        base = (os.path.join(srcdir, "t", "integration", "transcripts")
                if srcdir and os.path.isdir(os.path.join(srcdir, "t"))
                else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  "transcripts"))
        files = sorted(os.path.join(base, f) for f in os.listdir(base)
                       if f.endswith(".t"))
    if st.target() == "external":
        jobs = 1    # one shared server: transcripts must not interleave
    tap = st.Tap()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for status, name, detail in pool.map(run_one, files):
            if status == "skip":
                tap.n += 1
                print("ok %d - %s # SKIP %s" % (tap.n, name, detail))
            else:
                tap.ok(status == "pass", name, detail)
    tap.done()


if __name__ == "__main__":
    main(sys.argv[1:])
