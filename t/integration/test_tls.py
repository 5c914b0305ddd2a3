#!/usr/bin/python3
"""TLS (-Z): handshake, text/meta/binary data and a large streamed value
over TLS, pymemcache with tls_context, openssl s_client, per-listener
notls:, ssl_* stats and stats settings, refresh_certs (new connections see
the new certificate, a broken file is refused and the old one kept),
plaintext on a TLS port, client certificates (ssl_verify_mode), and a
client that stalls mid-handshake: the worker (-t 1) keeps serving others
and stashd closes the staller after -o ssl_handshake_timeout.

A throwaway CA and certificates are made with the openssl CLI in a temp
directory.  STASHD_TARGET=memcached runs the same checks against
memcached 1.6.18 (built with TLS on Debian), except the handshake timeout,
which is stashd's own option."""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

OPENSSL = shutil.which("openssl")
GET_K = b"VALUE k 5 3\r\nabc\r\nEND\r\n"


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


def make_pki(d):
    """CA, two server certificates (CN srv1, srv2) and a client one."""
    sh(OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
       "2", "-subj", "/CN=stashd test CA", "-keyout", d + "/ca.key",
       "-out", d + "/ca.crt")
    ext = d + "/ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("srv1", "srv2", "client"):
        sh(OPENSSL, "req", "-newkey", "rsa:2048", "-nodes", "-subj",
           "/CN=" + name, "-keyout", "%s/%s.key" % (d, name), "-out",
           "%s/%s.csr" % (d, name))
        sh(OPENSSL, "x509", "-req", "-days", "2", "-in",
           "%s/%s.csr" % (d, name), "-CA", d + "/ca.crt", "-CAkey",
           d + "/ca.key", "-CAcreateserial", "-extfile", ext, "-out",
           "%s/%s.crt" % (d, name))


def client_ctx(d, cert=None):
    ctx = ssl.create_default_context(cafile=d + "/ca.crt")
    if cert:
        ctx.load_cert_chain(d + "/%s.crt" % cert, d + "/%s.key" % cert)
    return ctx


def tls_connect(server, ctx, timeout=st.IO_TIMEOUT):
    raw = socket.create_connection((server.host, server.port),
                                   timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def peer_cn(sock):
    for rdn in sock.getpeercert()["subject"]:
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


def bin_packet(opcode, key=b"", value=b"", extras=b"", opaque=0):
    body = extras + key + value
    return struct.pack(">BBHBBHIIQ", 0x80, opcode, len(key), len(extras),
                       0, 0, len(body), opaque, 0) + body


def bin_read(c):
    hdr = c.readexact(24)
    magic, op, klen, elen, _, status, blen, opaque, cas = struct.unpack(
        ">BBHBBHIIQ", hdr)
    body = c.readexact(blen)
    return magic, op, status, body[elen + klen:]


def partial_client_hello(ctx):
    """The first bytes of a real ClientHello, to stall mid-handshake."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    return hello[:len(hello) // 2]


def check_data(tap, server, d):
    ctx = client_ctx(d)
    s = tls_connect(server, ctx)
    tap.ok(s.version() in ("TLSv1.2", "TLSv1.3"),
           "handshake: %s, cipher %s" % (s.version(), s.cipher()[0]))
    tap.eq(peer_cn(s), "srv1", "the server presents ssl_chain_cert")
    c = st.Conn(sock=s)
    tap.eq(c.cmd("set k 5 0 3\r\nabc"), "STORED", "text set over TLS")
    c.send("get k\r\n")
    tap.eq(c.readexact(len(GET_K)), GET_K, "text get")
    tap.eq(c.cmd("ms mk 2 T0\r\nhi"), "HD", "meta set over TLS")
    c.send("mg mk v f\r\n")
    tap.eq(c.readline(), b"VA 2 f0", "meta get header")
    tap.eq(c.readline(), b"hi", "meta get value")
    # binary: a set, a get (same connection: protocol is per connection,
    # so a fresh TLS connection)
    b = st.Conn(sock=tls_connect(server, ctx))
    b.send(bin_packet(0x01, b"bk", b"binval", struct.pack(">II", 7, 0)))
    _, op, status, _ = bin_read(b)
    tap.ok(op == 0x01 and status == 0, "binary set over TLS")
    b.send(bin_packet(0x00, b"bk"))
    _, op, status, val = bin_read(b)
    tap.ok(op == 0x00 and status == 0 and val == b"binval",
           "binary get over TLS", (op, status, val))
    b.close()
    # a value large enough to be streamed into its item, and many keys
    big = bytes((i * 7 + 3) & 0xff for i in range(900 * 1024))
    c.send(b"set big 0 0 %d\r\n" % len(big) + big + b"\r\n")
    tap.eq(c.readline(), b"STORED", "900 KiB set over TLS")
    c.send("get big\r\n")
    tap.eq(c.readline(), b"VALUE big 0 %d" % len(big), "900 KiB get header")
    got = c.readexact(len(big) + 7)
    tap.ok(got == big + b"\r\nEND\r\n", "900 KiB value intact over TLS")
    # a request pipelined behind a value of 16 KiB or more, in one send:
    # after the value its bytes are already decrypted inside OpenSSL and
    # the socket never becomes readable for them again
    v = b"w" * 20000
    c.send(b"set pipe 0 0 %d\r\n" % len(v) + v + b"\r\nget pipe\r\n")
    if st.target() == "stashd":
        tap.eq(c.readline(), b"STORED", "20 KB set with a get behind it")
        tap.eq(c.readline(), b"VALUE pipe 0 %d" % len(v),
               "the get pipelined behind it is answered")
        tap.ok(c.readexact(len(v) + 7) == v + b"\r\nEND\r\n",
               "... with the value")
    else:
        # memcached 1.6.18 stalls here (seen: STORED, then nothing); the
        # connection is useless after it
        got = c.pending(2.0)
        tap.diag("memcached: set 20000 B + get in one send answered %d of "
                 "%d bytes" % (len(got), 8 + 23 + len(v) + 7))
        c.close()
        c = st.Conn(sock=tls_connect(server, ctx))
    c.send(b"".join(b"set p%d 0 0 2\r\nv%d\r\n" % (i, i % 10)
                    for i in range(300)))
    tap.ok(all(c.readline() == b"STORED" for _ in range(300)),
           "300 pipelined sets over TLS")
    c.send("get " + " ".join("p%d" % i for i in range(300)) + "\r\n")
    n = 0
    while c.readline() != b"END":
        n += 1
    tap.eq(n, 600, "a 300-key multiget over TLS (header + value lines)")
    c.close()
    try:
        from pymemcache.client.base import Client
        pc = Client((server.host, server.port), tls_context=ctx,
                    timeout=5, connect_timeout=5)
        pc.set("pm", b"pymemcache")
        tap.eq(pc.get("pm"), b"pymemcache", "pymemcache with tls_context")
        tap.eq(pc.get_many(["pm", "k"]), {"pm": b"pymemcache", "k": b"abc"},
               "pymemcache get_many over TLS")
        pc.close()
    except ImportError:
        tap.diag("pymemcache missing: skipped")
    if OPENSSL:
        p = subprocess.run([OPENSSL, "s_client", "-connect",
                            "127.0.0.1:%d" % server.port, "-CAfile",
                            d + "/ca.crt", "-verify_return_error", "-quiet"],
                           input=b"get k\r\nquit\r\n", capture_output=True,
                           timeout=20)
        tap.ok(b"VALUE k 5 3\r\nabc\r\nEND" in p.stdout,
               "openssl s_client: get", p.stdout[-200:] + p.stderr[-300:])


def check_resume(tap, server, d):
    """A second connection resumes the first one's session (tickets),
    TLS 1.2 and 1.3, as memcached does without ssl_session_cache."""
    for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_ctx(d)
        ctx.maximum_version = ver
        s = tls_connect(server, ctx)
        c = st.Conn(sock=s)
        c.cmd("version")    # TLS 1.3 tickets arrive after the handshake
        sess = s.session
        c.close()
        raw = socket.create_connection((server.host, server.port),
                                       timeout=st.IO_TIMEOUT)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=sess)
        c = st.Conn(sock=s)
        tap.eq(c.cmd("version").split(" ")[0], "VERSION",
               "%s: served after resuming" % ver.name)
        tap.ok(s.session_reused, "%s: the session was resumed" % ver.name)
        c.close()


def check_plaintext(tap, server, plain_port):
    stats0 = stats_on(server, plain_port)
    c = st.Conn(sock=socket.create_connection((server.host, server.port),
                                              timeout=st.IO_TIMEOUT))
    c.send("version\r\n")
    try:
        got = c.pending(1.0)
    except OSError:
        got = b""
    tap.ok(b"VERSION" not in got and c.eof,
           "plaintext on a TLS port: refused, connection closed", got)
    c.close()
    time.sleep(0.1)
    stats1 = stats_on(server, plain_port)
    errs = (int(stats1["ssl_handshake_errors"]) -
            int(stats0["ssl_handshake_errors"]))
    if st.target() == "stashd":
        tap.eq(errs, 1, "plaintext on a TLS port counts in "
               "ssl_handshake_errors")
    else:
        # memcached 1.6.18 counts only what fails in its first, immediate
        # SSL_accept: 0 or 1 here, depending on when the bytes arrive
        tap.diag("memcached: ssl_handshake_errors +%d" % errs)


def stats_on(server, port, sub=""):
    c = st.Conn(sock=socket.create_connection((server.host, port),
                                              timeout=st.IO_TIMEOUT))
    out = c.stats(sub)
    c.close()
    return out


def check_notls(tap, server, plain_port, d):
    c = st.Conn(sock=socket.create_connection((server.host, plain_port),
                                              timeout=st.IO_TIMEOUT))
    c.send("get k\r\n")
    tap.eq(c.readexact(len(GET_K)), GET_K,
           "-l notls: listener speaks plaintext, same cache")
    s = c.stats()
    tap.ok("ssl_handshake_errors" in s and
           "time_since_server_cert_refresh" in s,
           "stats has ssl_handshake_errors, time_since_server_cert_refresh")
    ss = c.stats("settings")
    tap.eq(ss.get("ssl_enabled"), "yes", "stats settings ssl_enabled")
    tap.eq(ss.get("ssl_chain_cert"), d + "/srv1.crt",
           "stats settings ssl_chain_cert")
    tap.eq(ss.get("ssl_key"), d + "/srv1.key", "stats settings ssl_key")
    want = {"ssl_verify_mode": "0", "ssl_keyformat": "1",
            "ssl_ciphers": "NULL", "ssl_ca_cert": "NULL",
            "ssl_wbuf_size": "16384", "ssl_session_cache": "no",
            "ssl_kernel_tls": "no", "ssl_min_version": "tlsv1.2"}
    tap.eq({k: ss.get(k) for k in want}, want,
           "stats settings ssl_* defaults as memcached")
    c.close()


def check_refresh(tap, server, plain_port, d):
    ctx = client_ctx(d)
    old = tls_connect(server, ctx)
    shutil.copy(d + "/srv2.crt", d + "/srv1.crt")
    shutil.copy(d + "/srv2.key", d + "/srv1.key")
    time.sleep(1.1)     # time_since_server_cert_refresh counts seconds
    c = st.Conn(sock=socket.create_connection((server.host, plain_port),
                                              timeout=st.IO_TIMEOUT))
    before = int(c.stats()["time_since_server_cert_refresh"])
    tap.eq(c.cmd("refresh_certs"), "OK", "refresh_certs: OK")
    after = int(c.stats()["time_since_server_cert_refresh"])
    tap.ok(after < before, "refresh resets time_since_server_cert_refresh "
           "(%d -> %d)" % (before, after))
    s = tls_connect(server, ctx)
    tap.eq(peer_cn(s), "srv2", "a new connection gets the new certificate")
    s.close()
    oc = st.Conn(sock=old)
    tap.eq(oc.cmd("version").split(" ")[0], "VERSION",
           "a connection made before the refresh keeps working")
    oc.close()
    with open(d + "/srv1.crt", "w") as f:
        f.write("not a certificate\n")
    reply = c.cmd("refresh_certs")
    tap.ok(reply.startswith("Error loading the certificate chain: " + d +
                            "/srv1.crt"),
           "refresh_certs with a broken file: memcached's error", reply)
    s = tls_connect(server, ctx)
    tap.eq(peer_cn(s), "srv2", "after a failed refresh the last good "
           "certificate is served")
    s.close()
    c.close()


def check_stall(tap, server, d, timeout):
    ctx = client_ctx(d)
    stalled = []
    for _ in range(3):
        raw = socket.create_connection((server.host, server.port),
                                       timeout=st.IO_TIMEOUT)
        raw.sendall(partial_client_hello(ctx))
        stalled.append(raw)
    silent = socket.create_connection((server.host, server.port),
                                      timeout=st.IO_TIMEOUT)
    t0 = time.monotonic()
    c = st.Conn(sock=tls_connect(server, ctx))
    tap.eq(c.cmd("set after 0 0 1\r\nz"), "STORED",
           "three half-handshakes and a silent client do not hold the "
           "only worker")
    tap.ok(time.monotonic() - t0 < 2.0, "served in %.2fs"
           % (time.monotonic() - t0))
    c.close()
    if timeout is None:
        for s in stalled + [silent]:
            s.close()
        return
    deadline = timeout + 2.5
    closed = 0
    for s in stalled + [silent]:
        sc = st.Conn(sock=s)
        if sc.closed(wait=max(0.1, deadline - (time.monotonic() - t0))):
            closed += 1
        s.close()
    tap.eq(closed, 4, "stalled handshakes closed after "
           "ssl_handshake_timeout=%d (within %.1fs)" % (timeout, deadline))


def check_client_certs(tap, d):
    flags = ["-Z", "-t", "1", "-o",
             "ssl_chain_cert=%s/srv2.crt,ssl_key=%s/srv2.key,"
             "ssl_ca_cert=%s/ca.crt,ssl_verify_mode=2" % (d, d, d)]
    server = st.Server(flags).start()
    try:
        s = tls_connect(server, client_ctx(d, cert="client"))
        c = st.Conn(sock=s)
        tap.eq(c.cmd("version").split(" ")[0], "VERSION",
               "ssl_verify_mode=2: a client with a certificate is served")
        c.close()
        refused = False
        try:
            s = tls_connect(server, client_ctx(d))
            c = st.Conn(sock=s)
            c.cmd("version")
        except (ssl.SSLError, OSError, EOFError):
            refused = True
        tap.ok(refused, "ssl_verify_mode=2: a client without one is refused")
    finally:
        tap.ok(server.check(), "verify-mode server stopped cleanly")


def check_bad_start(tap, d):
    exe = st.binary()
    for flags, why in ((["-Z"], "no certificate"),
                       (["-Z", "-o", "ssl_chain_cert=%s/none.crt,"
                         "ssl_key=%s/srv2.key" % (d, d)], "missing file")):
        p = subprocess.run([exe, "-u", "root", "-U", "0", "-p",
                            str(st.free_port()), "-l", "127.0.0.1"] + flags,
                           capture_output=True, timeout=20)
        tap.ok(p.returncode != 0, "-Z with %s: refuses to start (%d)"
               % (why, p.returncode), p.stderr[-300:])


def check_without_z(tap):
    p = subprocess.run([st.binary(), "-u", "root", "-U", "0", "-p",
                        str(st.free_port()), "-l",
                        "notls:127.0.0.1:%d" % st.free_port()],
                       capture_output=True, timeout=20)
    tap.ok(p.returncode != 0 and b"'notls' option is valid only when SSL "
           b"is enabled" in p.stderr, "-l notls: without -Z refuses to start",
           p.stderr[-300:])
    server = st.Server([]).start()
    c = st.Conn(server)
    tap.eq(c.cmd("refresh_certs"), "Error TLS not enabled",
           "refresh_certs without -Z")
    tap.ok("ssl_handshake_errors" not in c.stats(),
           "no ssl_* lines in stats without -Z")
    tap.eq(c.stats("settings").get("ssl_enabled"), "no",
           "stats settings ssl_enabled no without -Z")
    c.close()
    tap.ok(server.check(), "plain server stopped cleanly")


def main():
    if st.target() == "external":
        st.skip("needs its own server flags")
    if not OPENSSL:
        st.skip("no openssl CLI to make certificates")
    if st.target() == "stashd":
        p = subprocess.run([st.binary(), "-u", "root", "-Z", "-p", "0"],
                           capture_output=True, timeout=20)
        if b"built without OpenSSL" in p.stdout + p.stderr:
            st.skip("stashd built without OpenSSL")
    tap = st.Tap()
    d = tempfile.mkdtemp(prefix="stashtls.")
    try:
        make_pki(d)
        plain_port = st.free_port()
        stashd = st.target() == "stashd"
        timeout = 1 if stashd else None
        opts = "ssl_chain_cert=%s/srv1.crt,ssl_key=%s/srv1.key" % (d, d)
        if stashd:
            opts += ",ssl_handshake_timeout=%d" % timeout
        server = st.Server(["-Z", "-t", "1", "-o", opts, "-l",
                            "notls:127.0.0.1:%d" % plain_port]).start()
        try:
            check_data(tap, server, d)
            check_notls(tap, server, plain_port, d)
            check_resume(tap, server, d)
            check_plaintext(tap, server, plain_port)
            check_stall(tap, server, d, timeout)
            check_refresh(tap, server, plain_port, d)
        finally:
            tap.ok(server.check(), "server stopped cleanly")
        check_client_certs(tap, d)
        check_bad_start(tap, d)
        check_without_z(tap)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
