#!/usr/bin/python3
"""-Y ascii authentication and -S SASL PLAIN, over text, meta and binary,
with pylibmc's username=/password=, plus the start-up refusals.

Each scenario runs against the server under test and then against
Debian's memcached 1.6.18 started with the same flags (-S needs a Cyrus
sasldb for it: made with saslpasswd2 from sasl2-bin, else that half is
skipped with a note).  Where the two differ on purpose the check runs on
stashd only and says why.  stashd reads the -S password file from
MEMCACHED_SASL_PWDB; memcached reads SASL_CONF_PATH/memcached.conf.
TAP output; exit 0 only if all pass."""

import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

HDR = struct.Struct(">BBHBBHIIQ")
OPAQUE = 0x01020304     # no 0x0a: -Y reads packets as text lines
GET, SET, NOOP, VERSION, STAT = 0x00, 0x01, 0x0a, 0x0b, 0x10
LIST, AUTH, STEP = 0x20, 0x21, 0x22
AUTH_ERROR, AUTH_CONTINUE = 0x20, 0x21

UNAUTH = "CLIENT_ERROR unauthenticated"
FAILURE = "CLIENT_ERROR authentication failure"

# (a password cannot hold a space: the auth data is split on spaces)
USERS = [("alice", "s3cret"), ("bob", "pa:ss!")]


def pkt(op, key=b"", extras=b"", value=b""):
    body = len(extras) + len(key) + len(value)
    return HDR.pack(0x80, op, len(key), len(extras), 0, 0, body, OPAQUE,
                    0) + extras + key + value


class BinConn(st.Conn):
    def read(self):
        h = HDR.unpack(self.readexact(24))
        body = self.readexact(h[6])
        return h[1], h[5], body[h[3] + h[2]:]     # op, status, value

    def call(self, packet):
        self.send(packet)
        return self.read()


class Target:
    """A server binary to start: stashd (the one under test) or memcached."""

    def __init__(self, name, exe):
        self.name = name
        self.exe = exe

    def server(self, flags):
        # stashtest starts binary(): point it at this target for the call
        saved = dict(os.environ)
        if self.name == "memcached":
            os.environ["STASHD_TARGET"] = "memcached"
        else:
            os.environ.pop("STASHD_TARGET", None)
            os.environ["STASHD"] = self.exe
        try:
            return st.Server(flags).start()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def refuses(self, flags, env=None):
        """Run exe with flags: (exit status, stderr) once it exits, or
        (None, stderr) if it is still running after 5 s (then killed)."""
        argv = [self.exe, "-p", str(st.free_port()), "-l", "127.0.0.1",
                "-U", "0", "-u", "root"] + flags
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)
        try:
            _, err = p.communicate(timeout=5)
            return p.returncode, err.decode("latin-1")
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            return None, err.decode("latin-1")


def write_users(path, users):
    with open(path, "w") as f:
        for u, p in users:
            f.write("%s:%s\n" % (u, p))


def auth_set(user, password, key="auth"):
    data = ("%s %s" % (user, password)).encode()
    return b"set %s 0 0 %d\r\n%s\r\n" % (key.encode(), len(data), data)


def wait_for(pred, secs=3.0):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


# -- -Y ---------------------------------------------------------------------

def ascii_auth(tap, t, tmp):
    pwfile = os.path.join(tmp, "auth-%s" % t.name)
    write_users(pwfile, USERS)
    srv = t.server(["-Y", pwfile])
    is_stashd = t.name == "stashd"
    tag = "[%s -Y] " % t.name

    c = st.Conn(srv)
    for line in ("get foo", "version", "stats", "mn", "mg foo v",
                 "flush_all", "quit"):
        tap.eq(c.cmd(line), UNAUTH, tag + "before auth: %r refused" % line)
    tap.ok(not c.closed(0.2), tag + "refusals keep the connection open")

    # a binary packet is bytes of a text line to a -Y server: the Noop
    # opcode is a newline, and the rest of the header starts a line
    c.send(pkt(NOOP))
    tap.eq(c.readline().decode("latin-1"), UNAUTH,
           tag + "binary Noop: read as text, refused")
    c.send(b"\r\n")
    tap.eq(c.readline().decode("latin-1"), UNAUTH,
           tag + "... and the rest of its header too")

    c.send(auth_set("alice", "wrong"))
    tap.eq(c.readline().decode(), FAILURE, tag + "wrong password")
    tap.eq(c.cmd("get foo"), UNAUTH, tag + "still refused after a failure")
    c.send(auth_set("mallory", USERS[0][1]))
    tap.eq(c.readline().decode(), FAILURE, tag + "unknown user")
    c.send(auth_set("alice", USERS[0][1][:-1]))
    tap.eq(c.readline().decode(), FAILURE, tag + "password prefix")
    c.send(b"set x 0 0 5\r\nalice\r\n")
    tap.eq(c.readline().decode(),
           "CLIENT_ERROR bad authentication token format",
           tag + "one token: bad format")
    c.send(b"set x 0 0 3\r\na bXY")
    tap.eq(c.readline().decode(), "CLIENT_ERROR bad command line termination",
           tag + "data not ended by \\r\\n")
    c.send(b"add x 0 0 12\r\n")
    tap.eq(c.readline().decode(), UNAUTH, tag + "add is not the auth set")
    c.send(b"set x 0 0 12 noreply\r\n")
    c.send(b"%s %s\r\n" % tuple(x.encode() for x in USERS[0]))
    tap.eq(c.readline().decode(), "STORED",
           tag + "right credentials (noreply ignored): STORED")
    c.send(b"set k 5 0 2\r\nhi\r\n")
    tap.eq(c.readline().decode(), "STORED", tag + "set after auth")
    c.send(b"get k\r\n")
    tap.eq([c.readline(), c.readline(), c.readline()],
           [b"VALUE k 5 2", b"hi", b"END"], tag + "get after auth")
    tap.eq(c.cmd("mg k v f"), "VA 2 f5", tag + "meta mg after auth")
    c.readline()
    tap.eq(c.cmd("mn"), "MN", tag + "meta mn after auth")
    # the auth set stored nothing
    c.send(b"get x auth\r\n")
    tap.eq(c.readline(), b"END", tag + "the auth set stored no item")

    c2 = st.Conn(srv)
    c2.send(auth_set(*USERS[1]))
    tap.eq(c2.readline().decode(), "STORED",
           tag + "second user (':' in the password)")
    c2.close()

    # a real client: pymemcache sends the auth set like any other (it must
    # wait for the reply, which comes even under noreply)
    try:
        from pymemcache.client.base import Client
    except ImportError:
        Client = None
    if Client is None:
        tap.diag("pymemcache missing: its -Y check skipped")
    else:
        pm = Client((srv.host, srv.port), timeout=5)
        tap.eq(pm.set("auth", "%s %s" % USERS[0], noreply=False), True,
               tag + "pymemcache: the auth set")
        pm.set("pmk", "pmv", noreply=False)
        tap.eq(pm.get("pmk"), b"pmv", tag + "pymemcache: set/get after auth")
        pm.close()

    # counters: 3 failures, 3 successes above (the malformed ones are not
    # attempts, as in memcached)
    st_ = c.stats()
    ok_attempts = 3 if Client is not None else 2
    tap.eq((st_.get("auth_cmds"), st_.get("auth_errors")),
           (str(3 + ok_attempts), "3"),
           tag + "stats auth_cmds / auth_errors")
    ss = c.stats("settings")
    tap.eq((ss.get("auth_enabled_ascii"), ss.get("auth_enabled_sasl"),
            ss.get("binding_protocol")), (pwfile, "no", "ascii"),
           tag + "stats settings: the auth file, ascii only")

    # SIGHUP rereads the file (memcached at its next clock tick)
    write_users(pwfile, [("carol", "new-pass")])
    os.kill(srv.proc.pid, signal.SIGHUP)

    def reloaded():
        k = st.Conn(srv)
        k.send(auth_set("carol", "new-pass"))
        ok = k.readline().decode() == "STORED"
        k.close()
        return ok
    tap.ok(wait_for(reloaded), tag + "SIGHUP: a new user works")
    k = st.Conn(srv)
    k.send(auth_set(*USERS[0]))
    tap.eq(k.readline().decode(), FAILURE, tag + "SIGHUP: a removed user fails")
    k.close()
    tap.ok(srv.alive(), tag + "still running after SIGHUP")

    if is_stashd:
        # memcached 1.6.18 loses all but the last reply of requests
        # pipelined before auth; stashd answers each
        k = st.Conn(srv)
        k.send(b"get a\r\nset x 0 0 11\r\nalice wrong\r\n" +
               auth_set("carol", "new-pass") + b"get a\r\n")
        tap.eq([k.readline() for _ in range(4)],
               [UNAUTH.encode(), FAILURE.encode(), b"STORED", b"END"],
               tag + "pipelined before auth: every request answered")
        k.close()
        # data too long to be credentials: a failure, swallowed unread
        # (memcached would buffer all of it first)
        k = st.Conn(srv)
        k.send(b"set x 0 0 3000\r\n" + b"u" * 3000 + b"\r\nget a\r\n")
        tap.eq([k.readline(), k.readline()], [FAILURE.encode(),
                                              UNAUTH.encode()],
               tag + "3000-byte data block: failure, then the next request")
        k.close()
        # a file that no longer parses keeps the old entries
        with open(pwfile, "w") as f:
            f.write("no colon here\n")
        os.kill(srv.proc.pid, signal.SIGHUP)
        time.sleep(0.3)
        tap.ok(reloaded(), tag + "SIGHUP with a broken file: old entries kept")
    c.close()
    tap.ok(srv.check(), tag + "server stopped cleanly")


# -- -Y inside TLS ----------------------------------------------------------

def make_cert(tmp):
    """A self-signed certificate and key for -Z; None without openssl."""
    tool = shutil.which("openssl")
    if tool is None:
        return None
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run([tool, "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=localhost"],
                       capture_output=True, timeout=60)
    return (cert, key) if r.returncode == 0 else None


def ascii_auth_tls(tap, t, tmp, certkey):
    """-Y with -Z: the auth set travels inside TLS, same replies."""
    import socket
    import ssl
    tag = "[%s -Y -Z] " % t.name
    pwfile = os.path.join(tmp, "auth-tls-%s" % t.name)
    write_users(pwfile, USERS)
    srv = t.server(["-Y", pwfile, "-Z", "-o",
                    "ssl_chain_cert=%s,ssl_key=%s" % certkey])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sock = ctx.wrap_socket(socket.create_connection((srv.host, srv.port),
                                                    timeout=5),
                           server_hostname="localhost")
    c = st.Conn(sock=sock)
    tap.eq(c.cmd("get k"), UNAUTH, tag + "before auth: refused")
    c.send(auth_set("alice", "wrong"))
    tap.eq(c.readline().decode(), FAILURE, tag + "wrong password")
    c.send(auth_set(*USERS[0]))
    tap.eq(c.readline().decode(), "STORED", tag + "right password")
    c.send(b"set k 0 0 2\r\nhi\r\nget k\r\n")
    tap.eq([c.readline() for _ in range(4)],
           [b"STORED", b"VALUE k 0 2", b"hi", b"END"],
           tag + "set/get after auth")
    c.close()
    tap.ok(srv.check(), tag + "server stopped cleanly")


# -- -S ---------------------------------------------------------------------

def plain(user, password, authzid=""):
    return ("%s\0%s\0%s" % (authzid, user, password)).encode()


def sasl(tap, t, tmp, env_ready):
    tag = "[%s -S] " % t.name
    srv = t.server(["-S"])
    is_stashd = t.name == "stashd"

    def failed_and_closed(c, op, what):
        r = c.call(pkt(op, b"k" if op == GET else b""))
        tap.eq(r, (op, AUTH_ERROR, b"Auth failure."), tag + what)
        tap.ok(c.closed(2), tag + what + ": connection closed")

    c = BinConn(srv)
    op, status, val = c.call(pkt(VERSION))
    tap.ok(op == VERSION and status == 0 and val[:1].isdigit(),
           tag + "Version before auth is answered", (op, status, val))
    failed_and_closed(c, NOOP, "Noop before auth")
    failed_and_closed(BinConn(srv), GET, "Get before auth")
    failed_and_closed(BinConn(srv), STAT, "Stat before auth")

    c = BinConn(srv)
    tap.eq(c.call(pkt(LIST)), (LIST, 0, b"PLAIN"), tag + "list mechs: PLAIN")
    tap.eq(c.call(pkt(AUTH, b"PLAIN", value=plain("alice", "nope"))),
           (AUTH, AUTH_ERROR, b"Auth failure."), tag + "wrong password")
    tap.eq(c.call(pkt(AUTH, b"PLAIN", value=plain("bob", USERS[0][1],
                                                   "alice"))),
           (AUTH, AUTH_ERROR, b"Auth failure."),
           tag + "authzid other than the user: refused")
    tap.eq(c.call(pkt(AUTH, b"PLAIN", value=plain(*USERS[0]))),
           (AUTH, 0, b"Authenticated"), tag + "right password")
    tap.eq(c.call(pkt(SET, b"k", struct.pack(">II", 7, 0), b"v1"))[:2],
           (SET, 0), tag + "Set after auth")
    r = c.call(pkt(GET, b"k"))
    tap.eq((r[0], r[1], r[2]), (GET, 0, b"v1"), tag + "Get after auth")

    c = BinConn(srv)
    tap.eq(c.call(pkt(AUTH, b"PLAIN")), (AUTH, AUTH_CONTINUE, b""),
           tag + "AUTH PLAIN without data: continue")
    tap.eq(c.call(pkt(STEP, b"PLAIN", value=plain(*USERS[1])))[:3],
           (STEP, 0, b"Authenticated"), tag + "STEP with the credentials")
    tap.eq(c.call(pkt(GET, b"k"))[:3], (GET, 0, b"v1"),
           tag + "Get after STEP")

    c = BinConn(srv)
    tap.eq(c.call(pkt(STEP, b"PLAIN", value=plain(*USERS[0]))),
           (STEP, AUTH_ERROR, b"Auth failure."),
           tag + "STEP with nothing started")
    tap.eq(c.call(pkt(AUTH, b"CRAM-MD5", value=b"x")),
           (AUTH, AUTH_ERROR, b"Auth failure."), tag + "unknown mechanism")
    tap.eq(c.call(pkt(AUTH, b"plain", value=plain(*USERS[0]))),
           (AUTH, 0, b"Authenticated"),
           tag + "mechanism name in lower case")
    tap.eq(c.call(pkt(AUTH, b"PLAIN", value=plain(*USERS[0]))),
           (AUTH, AUTH_ERROR, b"Auth failure."),
           tag + "a second AUTH once authenticated fails")
    failed_and_closed(c, GET, "... and de-authenticates")

    # text on a -S server: binary only, closed without a word
    k = st.Conn(srv)
    k.send(b"get k\r\n" * 4)     # a header's worth of bytes
    tap.ok(k.pending(1) == b"" and k.eof,
           tag + "text commands: closed, no reply")

    # pylibmc
    try:
        import pylibmc
    except ImportError:
        pylibmc = None
    if pylibmc is None:
        tap.diag("pylibmc missing: its SASL checks skipped")
    else:
        mc = pylibmc.Client([srv.addr()], binary=True,
                            username=USERS[0][0], password=USERS[0][1])
        mc.set("plk", "value-1")
        tap.eq(mc.get("plk"), "value-1", tag + "pylibmc username/password")
        bad = pylibmc.Client([srv.addr()], binary=True,
                             username=USERS[0][0], password="wrong")
        try:
            bad.set("plk", "x")
            got = "no error"
        except pylibmc.Error as e:
            got = "AUTHENTICATION FAILURE" in str(e)
        tap.eq(got, True, tag + "pylibmc wrong password: an auth error")
        tap.eq(mc.get("plk"), "value-1", tag + "refused client wrote nothing")
    # the counters, over an authenticated binary connection
    c = BinConn(srv)
    c.call(pkt(AUTH, b"PLAIN", value=plain(*USERS[0])))
    c.send(pkt(STAT))
    stats = {}
    while True:
        h = HDR.unpack(c.readexact(24))
        body = c.readexact(h[6])
        if h[2] == 0:
            break
        stats[body[:h[2]].decode()] = body[h[2]:].decode()
    # failures above: wrong password, foreign authzid, STEP unstarted,
    # unknown mechanism, second AUTH (+1 from pylibmc)
    errors = 5 + (pylibmc is not None)
    tap.eq(int(stats.get("auth_errors", -1)), errors,
           tag + "stats auth_errors counts the failures")
    tap.ok(int(stats.get("auth_cmds", -1)) >= errors + 4,
           tag + "stats auth_cmds counts the attempts",
           stats.get("auth_cmds"))
    c.close()
    if is_stashd:
        pw = os.environ["MEMCACHED_SASL_PWDB"]
        write_users(pw, [("dave", "d4ve")])
        os.kill(srv.proc.pid, signal.SIGHUP)

        def reloaded():
            k = BinConn(srv)
            r = k.call(pkt(AUTH, b"PLAIN", value=plain("dave", "d4ve")))
            k.close()
            return r[1] == 0
        tap.ok(wait_for(reloaded), tag + "SIGHUP rereads the password file")
        write_users(pw, USERS)
    tap.ok(srv.check(), tag + "server stopped cleanly")


def make_sasldb(tmp):
    """A Cyrus sasldb and memcached.conf for memcached -S; the dir, or
    None without saslpasswd2."""
    tool = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"
    if not os.access(tool, os.X_OK):
        return None
    d = os.path.join(tmp, "sasl")
    os.mkdir(d)
    db = os.path.join(d, "sasldb2")
    with open(os.path.join(d, "memcached.conf"), "w") as f:
        f.write("mech_list: plain\nsasldb_path: %s\n" % db)
    for u, p in USERS:
        r = subprocess.run([tool, "-p", "-a", "memcached", "-c", "-f", db,
                            u], input=p.encode(), timeout=10)
        if r.returncode != 0:
            return None
    return d


# -- start-up ---------------------------------------------------------------

def startup(tap, t, tmp):
    tag = "[%s start-up] " % t.name
    pwfile = os.path.join(tmp, "auth-startup")
    write_users(pwfile, USERS)
    rc, err = t.refuses(["-Y", pwfile, "-B", "binary"])
    tap.ok(rc not in (None, 0) and "You cannot allow the BINARY protocol "
           "while using ascii authentication tokens." in err,
           tag + "-Y with -B binary refused", (rc, err))
    # the refuses() helper passes -U 0 first; a later -U wins
    rc, err = t.refuses(["-Y", pwfile, "-U", str(st.free_port())])
    tap.ok(rc not in (None, 0) and "Cannot use UDP with ascii authentication "
           "enabled" in err, tag + "-Y with UDP refused", (rc, err))
    rc, err = t.refuses(["-Y", os.path.join(tmp, "missing")])
    tap.ok(rc not in (None, 0) and "Could not open authfile" in err,
           tag + "-Y with a missing file refused", (rc, err))
    bad = os.path.join(tmp, "auth-bad")
    with open(bad, "w") as f:
        f.write("alice\n")
    rc, err = t.refuses(["-Y", bad])
    tap.ok(rc not in (None, 0) and "malformed entry" in err,
           tag + "-Y with a malformed file refused", (rc, err))
    if t.name != "stashd":
        return
    env = dict(os.environ)
    env["MEMCACHED_SASL_PWDB"] = pwfile
    rc, err = t.refuses(["-S", "-B", "ascii"], env)
    tap.ok(rc not in (None, 0) and "You cannot allow the ASCII protocol "
           "while using SASL." in err, tag + "-S with -B ascii refused",
           (rc, err))
    env.pop("MEMCACHED_SASL_PWDB")
    rc, err = t.refuses(["-S"], env)
    tap.ok(rc not in (None, 0) and "MEMCACHED_SASL_PWDB" in err,
           tag + "-S without MEMCACHED_SASL_PWDB refused", (rc, err))
    # flags stashd does not implement stop it (memcached runs with them)
    for flags in (["-L"], ["-N", "1"],
                  ["-o", "hash_algorithm=murmur3"],
                  ["-o", "tail_repair_time=10"]):
        rc, err = t.refuses(flags)
        tap.ok(rc not in (None, 0) and "not implement" in err,
               tag + "%s refused with a message" % " ".join(flags),
               (rc, err))


def main():
    tap = st.Tap()
    if st.target() == "external":
        st.skip("starts its own servers with -Y and -S")
    tmp = tempfile.mkdtemp(prefix="stashtest-auth.")
    try:
        targets = [Target(st.target(), st.binary())]
        if st.target() == "stashd" and os.access(st.MEMCACHED, os.X_OK):
            targets.append(Target("memcached", st.MEMCACHED))
        saslconf = make_sasldb(tmp)
        pwdb = os.path.join(tmp, "sasl-pwdb")
        write_users(pwdb, USERS)
        os.environ["MEMCACHED_SASL_PWDB"] = pwdb
        if saslconf:
            os.environ["SASL_CONF_PATH"] = saslconf
        certkey = make_cert(tmp)
        for t in targets:
            startup(tap, t, tmp)
            ascii_auth(tap, t, tmp)
            tls_built = t.name == "memcached" or "--enable-ssl" in \
                subprocess.run([t.exe, "-h"], capture_output=True,
                               text=True).stdout
            if certkey and tls_built:
                ascii_auth_tls(tap, t, tmp, certkey)
            else:
                tap.diag("%s: no TLS build or no openssl: -Y -Z skipped"
                         % t.name)
            if t.name == "memcached" and not saslconf:
                tap.diag("no saslpasswd2 (sasl2-bin): memcached -S skipped")
                continue
            sasl(tap, t, tmp, saslconf)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
