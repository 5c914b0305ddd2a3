#!/usr/bin/python3
"""seeds.py OUTDIR -- write the seed corpora of the fuzz targets.

  OUTDIR/text/  every transcript (t/integration/transcripts/*.t) as the
                bytes its >>> and >>- lines send, whole and per request
                group, plus hand-written malformed lines
  OUTDIR/meta/  meta command streams (mg ms md ma mn me, flags, base64
                keys, errors)
  OUTDIR/bin/   binary request packets: every opcode, quiet pipelines,
                malformed headers
  OUTDIR/conn/  all of the above, each behind the 4 control bytes the
                connection target reads first (several split patterns)
  OUTDIR/udp/   the same requests as UDP datagrams (memcached's 8-byte
                frame header, 2-byte length before each datagram), plus
                frames memcached drops (short, total != 1)
  OUTDIR/tls/   what a TLS port receives first (ClientHellos, cut short,
                with an alert, plaintext), behind the same control bytes

The transcript escapes (\\r \\n \\t \\0 \\\\ \\xHH, ${N*s}) are expanded the
way run-transcripts.py expands them; ${now...} becomes a fixed number.
Seed files are named by a hash of their bytes, so rerunning is idempotent.
"""

import glob
import hashlib
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))


def expand(s):
    s = re.sub(r"\$\{now([+-]\d+)?\}",
               lambda m: str(1800000000 + int(m.group(1) or 0)), s)
    s = re.sub(r"\$\{(\d+)\*(.)\}", lambda m: m.group(2) * int(m.group(1)),
               s)
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "r":
                out += b"\r"
            elif n == "n":
                out += b"\n"
            elif n == "t":
                out += b"\t"
            elif n == "0":
                out += b"\0"
            elif n == "x" and i + 3 < len(s):
                out.append(int(s[i + 2:i + 4], 16))
                i += 2
            else:
                out += n.encode("latin-1")
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def transcript_streams():
    """(whole stream, [request groups]) per transcript."""
    for path in sorted(glob.glob(os.path.join(
            TOP, "t", "integration", "transcripts", "*.t"))):
        groups, cur = [], bytearray()
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith(">>> "):
                    cur += expand(line[4:]) + b"\r\n"
                elif line.startswith(">>-"):
                    cur += expand(line[4:])
                elif line.startswith("<<") or line.startswith("!"):
                    if cur:
                        groups.append(bytes(cur))
                        cur = bytearray()
        if cur:
            groups.append(bytes(cur))
        if groups:
            yield b"".join(groups), groups


TEXT_EXTRA = [
    b"get " + b"k" * 251 + b"\r\n",
    b"set k 0 0 5\r\nhello\r\nget k\r\n",
    b"set k 0 0 5\r\nhelloXY\r\n",
    b"set k 0 0 1073741824\r\n",
    b"set k abc 0 1\r\nx\r\n",
    b"set k -1 0 1\r\nx\r\n",
    b"set k 4294967296 0 1\r\nx\r\n",
    b"set k 0 99999999999999999999 1\r\nx\r\n",
    b"set k 0 0 -1\r\n",
    b"cas k 0 0 1 -5\r\nx\r\n",
    b"incr k 18446744073709551616\r\n",
    b"decr k -1\r\n",
    b"touch k abc\r\n",
    b"gat abc k\r\n",
    b"delete k 5\r\n",
    b"delete k 0 noreply\r\n",
    b"flush_all -1\r\n",
    b"flush_all noreply\r\n",
    b"verbosity\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"k" * 2100,
    b"get " + b"a " * 1100,
    b"set k\x01 0 0 1\r\nx\r\n",
    b"set k 0 0 1 noreply\r\nx\r\nget k\r\n",
    b"\0\r\n",
    b"   get k\n",
    b"stats detail on\r\nstats cachedump 1 1\r\nstats settings\r\n",
    b"cache_memlimit 7\r\ncache_memlimit 100\r\n",
    b"debugtime 100\r\ndebugtime p\r\ndebugtime r\r\n",
    b"shutdown bogus\r\n",
    b"quit\r\n",
    # requests that multiply: one key named many times (small: copied;
    # over 1 KiB: pinned, and the get pauses at its output bound)
    b"set k 0 0 1\r\nx\r\nget" + b" k" * 3000 + b"\r\n",
    b"set b 0 0 1100\r\n" + b"b" * 1100 + b"\r\ngets" + b" b" * 1200 +
    b"\r\nget b\r\n",
    b"set b 0 0 1100\r\n" + b"b" * 1100 + b"\r\ngat 100" +
    b" b nope" * 600 + b"\r\ngats 0 b\r\n",
    b"set a 0 0 1024\r\n" + b"a" * 1024 + b"\r\nset c 0 0 1025\r\n" +
    b"c" * 1025 + b"\r\nget a c a c\r\n",
    # difftest's findings (issue 12): a bad chunk on an item memcached
    # cannot hold, a get's k-th key over 250 bytes, lines past 16 KiB
    b"set k 0 0 1048517\r\n" + b"d" * 1048517 + b"xy",
    b"set k 0 0 1\r\nx\r\ngat 10 k k " + b"y" * 251 + b" k\r\nget k\r\n",
    b"mn\r\n" + b"x" * 16383 + b"\r\nmn\r\n",
    b"mn\r\n" + b"x" * 16382 + b"\r\nmn\r\n",
    b"get k" + b" " * 16400 + b"\r\n",
]

META_SEEDS = [
    b"mn\r\n",
    b"ms foo 3 T0 F5\r\nbar\r\nmg foo v f t c s k O123 h l\r\n",
    b"ms Zm9v 3 b\r\nbar\r\nmg Zm9v b v k\r\n",
    b"mg !!!! b v\r\n",
    b"mg foo N30 v\r\nmg foo v\r\nms foo 1 C1\r\nx\r\n",
    b"mg foo O" + b"x" * 40 + b" v\r\n",
    b"ms foo 2 MA\r\nxy\r\nms foo 2 MP q\r\nzz\r\nms foo 2 ME I\r\nab\r\n",
    b"ms foo 2 MX\r\nxy\r\n",
    b"ms foo 99999999999\r\n",
    b"ms foo abc\r\nxy\r\n",
    b"ms foo 2\r\nxyz\r\n",
    b"md foo q\r\nmd foo C5\r\nmd foo I T30\r\nmd foo x\r\n",
    b"ma cnt N0 J10 v\r\nma cnt D5 MD v\r\nma cnt MI q\r\nma cnt M+\r\n",
    b"ma cnt D-1\r\nma cnt Jx\r\nma cnt Mz\r\n",
    b"me foo\r\nme Zm9v b\r\n",
    b"mg foo v v\r\n",
    b"mg foo \x80\r\n",
    b"mg foo 1\r\n",
    b"mg " + b"k" * 251 + b" v\r\n",
    b"mg foo " + b"v " * 30 + b"\r\n",
    b"mg\r\nms\r\nms foo\r\nmd\r\nma\r\nmz foo\r\n",
    b"ms foo 5 T-1\r\nhello\r\nmg foo v t\r\n",
    b"mg foo E99 R30 T60 v c\r\n",
    # deep pipelines of a value over and under the copy limit
    b"ms big 1100\r\n" + b"B" * 1100 + b"\r\n" + b"mg big v k\r\n" * 1000,
    b"ms sm 1024 T0\r\n" + b"s" * 1024 + b"\r\n" + b"mg sm v t q\r\n" * 600
    + b"mn\r\n",
    b"mg lk N30 v c\r\nmg lk v w100\r\nmg lk v\r\n",
    # an over-long opaque after, before and around the TTL flags
    b"mg op N30 T5 O" + b"o" * 40 + b" R9 t\r\nmg op v t h c\r\n",
    b"mg op O" + b"o" * 40 + b" N30 q\r\nmg op N30 v\r\n",
    b"ma ct O" + b"o" * 40 + b" N-1 J1\r\nma ct T9 O" + b"o" * 40 +
    b"\r\nmg ct v t\r\nms ct 1 MP I C0\r\nx\r\n",
    b"ms big 1048517 MA\r\n" + b"d" * 1048517 + b"xy",
]


def bin_req(op, key=b"", extras=b"", value=b"", opaque=0, cas=0,
            magic=0x80, bodylen=None, keylen=None, extlen=None):
    body = extras + key + value
    return struct.pack(">BBHBBHIIQ", magic, op,
                       len(key) if keylen is None else keylen,
                       len(extras) if extlen is None else extlen, 0, 0,
                       len(body) if bodylen is None else bodylen,
                       opaque, cas) + body


def bin_seeds():
    fl = struct.pack(">II", 5, 0)
    ar = struct.pack(">QQI", 1, 10, 0)
    ar_nc = struct.pack(">QQI", 1, 10, 0xffffffff)
    tt = struct.pack(">I", 100)
    seeds = [
        bin_req(0x01, b"foo", fl, b"bar", 1) + bin_req(0x00, b"foo", opaque=2),
        bin_req(0x11, b"a", fl, b"1") + bin_req(0x11, b"b", fl, b"2") +
        bin_req(0x0d, b"a") + bin_req(0x0d, b"zz") + bin_req(0x0a),
        bin_req(0x02, b"foo", fl, b"x") + bin_req(0x03, b"nope", fl, b"x"),
        bin_req(0x01, b"foo", fl, b"x", cas=12345),
        bin_req(0x0e, b"foo", value=b"app") + bin_req(0x0f, b"foo",
                                                      value=b"pre"),
        bin_req(0x05, b"cnt", ar) + bin_req(0x06, b"cnt", ar) +
        bin_req(0x15, b"cnt", ar_nc),
        bin_req(0x04, b"foo") + bin_req(0x14, b"foo"),
        bin_req(0x1c, b"foo", tt) + bin_req(0x1d, b"foo", tt) +
        bin_req(0x23, b"foo", tt) + bin_req(0x24, b"foo", tt),
        bin_req(0x08) + bin_req(0x08, extras=struct.pack(">I", 10)) +
        bin_req(0x18),
        bin_req(0x0b) + bin_req(0x10) + bin_req(0x10, b"settings") +
        bin_req(0x10, b"reset") + bin_req(0x10, b"bogus"),
        bin_req(0x07),
        bin_req(0x17),
        bin_req(0x20) + bin_req(0x21, b"PLAIN", value=b"\0u\0p"),
        bin_req(0x1b, extras=struct.pack(">I", 1)),
        bin_req(0x55, b"k", value=b"junk") + bin_req(0x0a),
        bin_req(0x00, b"k", magic=0x81),
        bin_req(0x00, b"k", bodylen=0),
        bin_req(0x00, b"k" * 251),
        bin_req(0x01, b"foo", fl, b"x", bodylen=2000000),
        bin_req(0x01, b"foo", b"", b"x"),
        bin_req(0x00, b"foo", extras=b"1234"),
        bin_req(0x1c, b"foo", tt, b"val"),
        bin_req(0x00, b"foo")[:10],
        bin_req(0x01, b"foo", fl, b"x" * 100)[:60],
        # deep getkq/gatkq pipelines of values over the copy limit
        bin_req(0x01, b"big", fl, b"x" * 1100) +
        bin_req(0x0d, b"big") * 1000 + bin_req(0x0a),
        bin_req(0x01, b"sm", fl, b"y" * 1024) +
        bin_req(0x24, b"sm", tt) * 500 + bin_req(0x0c, b"sm") * 500 +
        bin_req(0x0a),
        # a Set with a CAS whose item is over -I drops the old value
        bin_req(0x01, b"k1", fl, b"5") +
        bin_req(0x01, b"k1", fl, b"v" * (1024 * 1024 - 16), cas=1 << 60) +
        bin_req(0x00, b"k1"),
    ]
    return seeds


def stream_seeds():
    """Storage commands with values over the fuzz build's REQ_STREAM_MIN
    (512): read into the item (PARSE_VALUE) when split before the end."""
    fl = struct.pack(">II", 3, 0)
    v = bytes((i * 7 + 13) % 251 for i in range(3000))
    return [
        b"set big 1 0 3000\r\n" + v + b"\r\nget big\r\n",
        b"set big 0 0 3000 noreply\r\n" + v + b"\r\nappend big 0 0 700"
        b"\r\n" + v[:700] + b"\r\nprepend big 0 0 600\r\n" + v[:600] +
        b"\r\ngets big\r\n",
        b"add big 0 0 2000\r\n" + v[:2000] + b"\r\nreplace big 0 0 900\r\n"
        + v[:900] + b"\r\ncas big 0 0 800 1\r\n" + v[:800] + b"\r\n",
        b"set big 0 0 2000\r\n" + v[:2000] + b"XYget big\r\n",
        b"ms big 2500 T60 F7 c k O1\r\n" + v[:2500] + b"\r\nmg big v c\r\n",
        b"ms big 1000 MA\r\n" + v[:1000] + b"\r\nms big 1000 I E77 C9\r\n" +
        v[:1000] + b"\r\nms big 2000 q\r\n" + v[:2000] + b"\r\r",
        b"set big 0 0 3000\r\n" + v[:1500],
        b"set big 0 0 2000000\r\n" + v + b"\r\nget big\r\n",
        bin_req(0x01, b"big", fl, v, 1) + bin_req(0x00, b"big", opaque=2),
        bin_req(0x12, b"big", fl, v[:1200]) + bin_req(0x0e, b"big",
                                                      value=v[:900]) +
        bin_req(0x01, b"big", fl, v[:700], cas=5),
        bin_req(0x01, b"big", fl, v)[:1500],
    ]


def long_get_seeds():
    """Get lines longer than the fuzz build's CONN_GET_CUT (4096) or the
    resting buffer's half (32 KiB, under max_len 40000): read head by head
    (text_parse_get_head) when they arrive without newline."""
    keys = b" ".join(b"m%05d" % i for i in range(5000))     # ~35 kB
    return [
        b"set h 0 0 1\r\nh\r\nget h " + keys + b" h\r\nget h\r\n",
        b"set h 0 0 1\r\nh\r\ngets " + keys[:9000] + b" h   \0" +
        keys[:3000] + b"\r\n",
        b"get h " + keys[:6000] + b" " + b"x" * 300 + b" h\r\nget h\r\n",
        b"get" + b" " * 9000 + b"\r\nget h" + b" " * 9000 + b"h\r\n",
        b"get h " + keys[:8000] + b" \r\n",
        b"gat 0 h " + keys[:8000] + b"\r\n",
    ]


def udp_datagrams(*dgrams):
    """The UDP target's input: each datagram behind its 2-byte length."""
    return b"".join(struct.pack(">H", len(d)) + d for d in dgrams)


def udp_seeds(streams):
    frame = struct.pack(">HHHH", 0x1234, 0, 1, 0)
    for s in streams:
        if len(s) <= 65000:
            yield udp_datagrams(frame + s)
    yield udp_datagrams(frame + b"set k 0 0 3\r\nabc\r\n",
                        frame + b"get k k\r\n", frame + b"quit\r\n")
    yield udp_datagrams(frame + b"set big 0 0 5000\r\n" + b"x" * 5000 +
                        b"\r\n", frame + b"get big big\r\n")
    yield udp_datagrams(b"\x00\x01\x00\x00\x00\x01\x00",
                        struct.pack(">HHHH", 1, 0, 2, 0) + b"get k\r\n",
                        struct.pack(">HHHH", 1, 5, 1, 9) + b"get k")


def tls_seeds():
    """What a TLS port receives first: real ClientHellos (TLS 1.3 and 1.2
    only, from Python's ssl over memory BIOs), one cut short, one followed
    by an alert, and plaintext sent to a TLS port."""
    import ssl
    out = []
    for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = maxv
        inc, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, outb, server_hostname="localhost")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = outb.read()
        out.append(hello)
        out.append(hello[:len(hello) // 2])
        # a fatal alert record after the hello (handshake_failure)
        out.append(hello + b"\x15\x03\x03\x00\x02\x02\x28")
    out.append(b"get foo\r\n")
    out.append(b"\x80\x00" + b"\x00" * 22)     # a binary header
    return out


# Connections that must authenticate first: the -Y ascii auth set (right,
# wrong, malformed, oversized, pipelined) and binary SASL PLAIN.
AUTH_CONTROLS = [b"\0\0\0\x0a", b"\x01\x02\x03\x1a", b"\xff\xff\xff\xfa"]
AUTH_SEEDS = [
    b"set auth 0 0 7\r\nfuzz pw\r\nset k 0 0 1\r\nv\r\nget k\r\n"
    b"mg k v\r\n",
    b"get k\r\nmn\r\nset a 0 0 8\r\nfuzz pwX\r\nset a 0 0 4\r\nfuzz\r\n"
    b"set a 0 0 7\r\nfuzz pwXY\r\nset a 1 2 12 noreply\r\nalice secret"
    b"\r\nget k\r\n",
    b"set a 0 0 3000\r\n" + b"u" * 3000 + b"\r\nset a 0 0 7\r\nfuzz pw"
    b"\r\n",
    b"set a 0 0 4294967303\r\nfuzz pw\r\nversion\r\n",
    bin_req(0x0b) + bin_req(0x20) + bin_req(0x21, b"PLAIN",
                                            value=b"\0fuzz\0pw") +
    bin_req(0x01, b"k", struct.pack(">II", 0, 0), b"v") + bin_req(0x00, b"k"),
    bin_req(0x21, b"PLAIN", value=b"\0fuzz\0no") +
    bin_req(0x21, b"PLAIN") + bin_req(0x22, b"PLAIN", value=b"fuzz\0fuzz\0pw")
    + bin_req(0x21, b"PLAIN", value=b"\0fuzz\0pw") + bin_req(0x0a),
    bin_req(0x21, b"M" * 40, value=b"x") + bin_req(0x21, b"PLAIN",
                                                   value=b"y" * 2000) +
    bin_req(0x00, b"k"),
]


def write(outdir, sub, data):
    d = os.path.join(outdir, sub)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    outdir = sys.argv[1]
    text, meta, binary = [], list(META_SEEDS), bin_seeds()
    for whole, groups in transcript_streams():
        text.append(whole)
        text.extend(groups)
        for g in groups:
            if re.match(rb"\s*m[gsdane]\b", g):
                meta.append(g)
    text.extend(TEXT_EXTRA)
    for s in text:
        write(outdir, "text", s)
    for s in meta:
        write(outdir, "meta", s)
    for s in binary:
        write(outdir, "bin", s)
    controls = [b"\0\0\0\0", b"\x01\x02\x03\x04", b"\xff\xff\xff\xf0",
                b"\x10\x20\x30\xe0"]
    for s in stream_seeds():
        write(outdir, "bin" if s[0] == 0x80 else "text", s)
    for s in long_get_seeds():
        write(outdir, "text", s)
    for i, s in enumerate(text + meta + binary + stream_seeds() +
                          long_get_seeds()):
        write(outdir, "conn", controls[i % len(controls)] + s)
    write(outdir, "conn", controls[1] + b"".join(META_SEEDS))
    for s in udp_seeds(text + meta + binary):
        write(outdir, "udp", s)
    for i, s in enumerate(tls_seeds()):
        write(outdir, "tls", controls[i % len(controls)] + s)
    # -Y / -S mode (control's top byte 0x?a, see fuzz_conn.c)
    for i, s in enumerate(AUTH_SEEDS):
        write(outdir, "conn", AUTH_CONTROLS[i % len(AUTH_CONTROLS)] + s)
    for s in AUTH_SEEDS:
        if s[:1] != b"\x80":
            write(outdir, "text", s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
