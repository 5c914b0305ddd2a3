"""stashtest -- start, reach and stop the server under test (stdlib only).

Which server is under test comes from the environment:

  STASHD=/path/to/stashd      the binary to start (make check sets it)
  STASHD_TARGET=memcached     start /usr/bin/memcached instead, same flags
  STASHD_ADDR=host:port       start nothing: use a server already running
                              (e.g. under gdb); tests that need their own
                              flags are skipped

A started server runs as `BIN -p PORT -l 127.0.0.1 -U 0 -u root FLAGS...`
(or `-s PATH` instead of -p/-l for unix sockets) on a free loopback port,
with its stderr in a temp file.  It is stopped by PID: SIGTERM, then SIGKILL
after a grace period.  Every server started is stopped at exit, on SIGTERM
and on SIGINT, so no process outlives a test.  stop() reports a crash, a
non-zero exit, a server that ignored SIGTERM, or sanitizer output on its
stderr, and Server.check() turns that into a test failure.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77           # automake: test skipped
HARD_ERROR = 99     # automake: the test itself broke

MEMCACHED = "/usr/bin/memcached"
START_TIMEOUT = 15.0    # sanitizer builds start slowly
STOP_TIMEOUT = 10.0     # ASan's leak check at exit takes a moment
IO_TIMEOUT = 5.0

_live = []


def target():
    """'memcached', 'external' or 'stashd'."""
    if os.environ.get("STASHD_ADDR"):
        return "external"
    if os.environ.get("STASHD_TARGET") == "memcached":
        return "memcached"
    return "stashd"


def binary():
    """Path of the server binary to start (None for an external server)."""
    t = target()
    if t == "external":
        return None
    if t == "memcached":
        return MEMCACHED
    path = os.environ.get("STASHD")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "stashd")
    return path


def external_addr():
    host, _, port = os.environ["STASHD_ADDR"].rpartition(":")
    return (host or "127.0.0.1", int(port))


def skip(why):
    print("SKIP: %s" % why)
    sys.stdout.flush()
    sys.exit(SKIP)


def free_port():
    """A loopback TCP port nobody listens on right now (bind-0 trick)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


_SANITIZER = re.compile(
    rb"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|"
    rb"WARNING: ThreadSanitizer|SUMMARY: \w+Sanitizer")


class Server:
    """One server under test.  Use as a context manager or start()/stop().

    flags: extra command line flags (list of str).
    tcp:   listen on a free loopback TCP port (self.port).
    unix:  listen on a unix socket in a temp dir (self.path); memcached's
           -s turns TCP off, so tcp is forced False when unix is True.
    """

    def __init__(self, flags=(), unix=False):
        self.flags = list(flags)
        self.unix = unix
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"
        self.path = None
        self.tmp = None
        self.errfile = None
        self.problems = []
        self.stopped = False
        self.preexec = None     # preexec_fn for Popen (e.g. rlimits)

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        if target() == "external":
            if self.flags or self.unix:
                skip("needs its own server flags %r; STASHD_ADDR is set"
                     % (self.flags + (["-s"] if self.unix else [])))
            self.host, self.port = external_addr()
            self._wait_ready(None)
            return self
        exe = binary()
        if not os.access(exe, os.X_OK):
            print("FAIL: server binary %s not found or not executable" % exe)
            sys.exit(HARD_ERROR)
        self.tmp = tempfile.mkdtemp(prefix="stashtest.")
        last = ""
        for attempt in range(5):
            argv = [exe, "-U", "0", "-u", "root"]
            if self.unix:
                self.path = os.path.join(self.tmp, "sock")
                argv += ["-s", self.path]
            else:
                self.port = free_port()
                argv += ["-p", str(self.port), "-l", self.host]
            argv += self.flags
            self.argv = argv
            self.errfile = os.path.join(self.tmp, "stderr.%d" % attempt)
            with open(self.errfile, "wb") as err:
                self.proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                    preexec_fn=self.preexec)
            _live.append(self)
            if self._wait_ready(self.proc):
                return self
            last = self.stderr()
            self._kill()
            # Lost the race for the port: try another one.
            if "Address already in use" not in last and "bind" not in last:
                break
        print("FAIL: server did not start: %s\n%s" % (" ".join(argv), last))
        sys.exit(HARD_ERROR)

    def _wait_ready(self, proc):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                return False
            try:
                s = self.connect(timeout=1.0)
                s.close()
                return True
            except OSError:
                time.sleep(0.02)
        if proc is None:
            print("FAIL: nothing accepts on STASHD_ADDR=%s"
                  % os.environ["STASHD_ADDR"])
            sys.exit(HARD_ERROR)
        return False

    def _kill(self):
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.kill()
        p.wait()

    def stop(self):
        """Stop the server by PID; return the list of problems seen."""
        if self.stopped:
            return self.problems
        self.stopped = True
        if self in _live:
            _live.remove(self)
        p = self.proc
        if p is None:
            return self.problems
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.problems.append(
                    "server ignored SIGTERM for %.0fs; killed" % STOP_TIMEOUT)
                p.kill()
                p.wait()
        rc = p.returncode
        if rc not in (0, -signal.SIGTERM) and not self.expect_exit_rc(rc):
            self.problems.append("server exited with status %d" % rc)
        err = self.stderr()
        if _SANITIZER.search(err.encode()):
            self.problems.append("sanitizer report on server stderr")
        if self.problems:
            self.problems.append("server command: " + " ".join(self.argv))
            self.problems.append("server stderr:\n" + err[-20000:])
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.problems

    def expect_exit_rc(self, rc):
        """Subclass hook: True if exit status rc is fine (e.g. shutdown)."""
        return False

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.errfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def check(self):
        """Stop the server; print its problems; True if there were none."""
        problems = self.stop()
        for line in problems:
            print("# " + line.replace("\n", "\n# "))
        return not problems

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- talking to it -------------------------------------------------------

    def connect(self, timeout=IO_TIMEOUT):
        if self.path:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = self.path
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            addr = (self.host, self.port)
        s.settimeout(timeout)
        try:
            s.connect(addr)
        except OSError:
            s.close()
            raise
        if not self.path:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def addr(self):
        """'host:port' or the socket path, as client libraries want it."""
        return self.path or "%s:%d" % (self.host, self.port)


class Conn:
    """A text-protocol connection with line reads and exact reads."""

    def __init__(self, server=None, sock=None, timeout=IO_TIMEOUT):
        self.sock = sock or server.connect(timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            raise EOFError("connection closed by server")
        self.buf += chunk

    def readline(self, limit=1 << 20):
        """One line without its \\r\\n."""
        while b"\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("line longer than %d bytes" % limit)
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def peekline(self):
        while b"\r\n" not in self.buf:
            self._fill()
        return self.buf.partition(b"\r\n")[0]

    def readexact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def pending(self, wait=0.2):
        """Whatever arrives within `wait` seconds (plus the buffer)."""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.eof = True
                    break
                self.buf += chunk
        except (socket.timeout, BlockingIOError):
            pass
        except OSError:
            self.eof = True
        finally:
            self.sock.settimeout(IO_TIMEOUT)
        out, self.buf = self.buf, b""
        return out

    def closed(self, wait=IO_TIMEOUT):
        """True if the server closes the connection within `wait` seconds
        (bytes that arrive first are discarded)."""
        deadline = time.monotonic() + wait
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        return False

    def cmd(self, line):
        """Send one command line and return the first reply line (str)."""
        self.send(line + "\r\n")
        return self.readline().decode("latin-1")

    def stats(self, sub=""):
        self.send(("stats %s" % sub).strip() + "\r\n")
        out = {}
        while True:
            line = self.readline().decode("latin-1")
            if line == "END":
                return out
            parts = line.split(" ", 2)
            if parts[0] != "STAT" or len(parts) < 3:
                raise ValueError("bad stats line %r" % line)
            out[parts[1]] = parts[2]

    def close(self):
        self.sock.close()


class Tap:
    """Minimal TAP producer: ok()/done(); done() exits 0 or 1."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc))
        if not cond and detail:
            for line in str(detail).splitlines():
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, desc):
        return self.ok(got == want, desc,
                       "got:  %r\nwant: %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        if self.failed:
            print("FAIL: %d of %d failed (target %s)"
                  % (self.failed, self.n, target()))
        else:
            print("PASS: %d tests (target %s)" % (self.n, target()))
        sys.stdout.flush()
        sys.exit(1 if self.failed or self.n == 0 else 0)


def _cleanup():
    for s in list(_live):
        try:
            s.stop()
        except Exception:
            pass


def _on_signal(signum, frame):
    _cleanup()
    sys.exit(128 + signum)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def _exec_main(argv):
    """stashtest.py exec [SERVER FLAGS...] -- COMMAND...

    Start a server, run COMMAND with STASHD_HOST/STASHD_PORT (or
    STASHD_SOCKET for -s) in its environment, stop the server.  Exit with
    COMMAND's status, or 1 if the server had problems.  For shell tests."""
    if "--" not in argv:
        print("usage: stashtest.py exec [flags...] -- command...")
        return HARD_ERROR
    i = argv.index("--")
    flags, cmd = argv[:i], argv[i + 1:]
    server = Server(flags).start()
    env = dict(os.environ, STASHD_HOST=server.host,
               STASHD_PORT=str(server.port))
    try:
        rc = subprocess.call(cmd, env=env)
    finally:
        ok = server.check()
    if rc == 0 and not ok:
        rc = 1
    return rc


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "exec":
        sys.exit(_exec_main(sys.argv[2:]))
    print(__doc__)
    sys.exit(HARD_ERROR)
