#!/usr/bin/python3
"""Packaging: scripts/stashd-wrapper turns a Debian-style conf file (one
flag per line, # comments) into the right argv and execs stashd with it;
the shipped scripts/stashd.conf holds only flags stashd accepts; the man
page scripts/stashd.1 documents every flag `stashd -h` lists."""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("srcdir") or os.path.normpath(
    os.path.join(HERE, "..", ".."))
WRAPPER = os.path.join(TOP, "scripts", "stashd-wrapper")
CONF = os.path.join(TOP, "scripts", "stashd.conf")
MANPAGE = os.path.join(TOP, "scripts", "stashd.1")
ROOT = os.geteuid() == 0


def dry_run(text, env=None):
    """The wrapper's argv for a conf holding text: (rc, words, stderr)."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf",
                                     delete=False) as f:
        f.write(text)
        path = f.name
    try:
        p = subprocess.run(["/bin/sh", WRAPPER, "-n", path],
                           capture_output=True, text=True, timeout=30,
                           env=env)
    finally:
        os.unlink(path)
    return p.returncode, p.stdout.split("\n")[:-1], p.stderr


def user_tail(words):
    """What the wrapper appends when the conf names no user."""
    return words + (["-u", "nobody"] if ROOT else [])


def test_argv(tap):
    rc, words, err = dry_run(
        "# stashd flags\n"
        "-d\n"
        "-m 64   # trailing comment\n"
        "\n"
        "   -l 127.0.0.1,::1   \n"
        "logfile /var/log/stashd.log\n"
        "-o slab_automove=2, hot_lru_pct=30\n"
        "-vv\n"
        "--memory-limit=128\n"
        "-P /run/a\\#b.pid\n"
        "-o *\n"
        "this is not a flag\n"
        "-h\n"
        "\t-c\t2048")
    tap.eq(rc, 0, "wrapper -n exits 0")
    tap.eq(words, user_tail(["-m", "64", "-l", "127.0.0.1,::1", "-o",
                             "slab_automove=2, hot_lru_pct=30", "-vv",
                             "--memory-limit=128", "-P", "/run/a#b.pid",
                             "-o", "*", "-c", "2048"]),
           "conf lines become argv: comments, blanks, -d, -h and logfile "
           "dropped; one argument per flag, kept whole; \\# literal; "
           "no globbing")
    tap.ok("this is not a flag" in err,
           "a line that is not a flag is reported", err)
    rc, words, _ = dry_run("-u memcache\n-p 11311\n")
    tap.eq(words, ["-u", "memcache", "-p", "11311"],
           "a -u line is kept and no other user is added")
    rc, words, _ = dry_run("--user=memcache\n")
    tap.eq(words, ["--user=memcache"], "--user=NAME counts as a user")
    rc, words, _ = dry_run("")
    tap.eq((rc, words), (0, user_tail([])), "an empty conf")
    p = subprocess.run(["/bin/sh", WRAPPER, "-n", "/nonexistent/conf"],
                       capture_output=True, text=True, timeout=30)
    tap.ok(p.returncode != 0 and "cannot read" in p.stderr,
           "an unreadable conf is an error", p.stderr)


def test_shipped_conf(tap):
    with open(CONF) as f:
        text = f.read()
    rc, words, err = dry_run(text)
    tap.eq((rc, words, err), (0, ["-m", "64", "-p", "11211", "-l",
                                  "127.0.0.1", "-u", "nobody"], ""),
           "shipped stashd.conf: its active lines")
    # every commented-out example flag must be one stashd accepts
    examples = re.sub(r"(?m)^# (-\S.*)$", r"\1", text)
    rc, words, _ = dry_run(examples)
    tap.ok(len(words) > 8, "shipped stashd.conf has example flags: %s"
           % " ".join(words))
    exe = st.binary()
    if st.target() != "stashd":
        return
    # -h last: stashd checks every flag before it, then prints help
    p = subprocess.run([exe] + words + ["-h"], capture_output=True,
                       text=True, timeout=30)
    tap.ok(p.returncode == 0 and "stashd" in p.stdout,
           "stashd accepts every flag in stashd.conf", p.stderr)


def test_exec(tap):
    """The wrapper execs stashd itself: same pid, serving the conf's port."""
    if st.target() != "stashd":
        return
    port = st.free_port()
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write("# test\n-p %d\n-l 127.0.0.1\n-U 0\n-d\n-m 8\n" % port)
    if ROOT:
        conf.write("-u root\n")
    conf.close()
    env = dict(os.environ, STASHD_BIN=st.binary())
    proc = subprocess.Popen(["/bin/sh", WRAPPER, conf.name], env=env,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        server = st.Server()
        server.port = port
        answer = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                c = st.Conn(server)
                answer = c.cmd("stats settings")
                settings = {}
                while answer != "END":
                    parts = answer.split(" ", 2)
                    settings[parts[1]] = parts[2]
                    answer = c.readline().decode()
                c.close()
                break
            except OSError:
                time.sleep(0.05)
        tap.ok(answer == "END", "stashd started by the wrapper answers on "
               "the conf's port")
        tap.eq(os.path.realpath("/proc/%d/exe" % proc.pid),
               os.path.realpath(st.binary()),
               "the wrapper execs stashd in its own process (no shell left)")
        tap.eq(settings.get("maxbytes"), str(8 << 20),
               "the conf's -m reached stashd")
        tap.ok(proc.poll() is None, "-d in the conf did not daemonize")
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(15)
        os.unlink(conf.name)
    tap.ok(proc.returncode in (0, -15), "stashd stopped on SIGTERM (%r)"
           % proc.returncode)


def test_manpage(tap):
    with open(MANPAGE) as f:
        man = f.read().replace("\\-", "-")
    if st.target() != "stashd":
        return
    p = subprocess.run([st.binary(), "-h"], capture_output=True, text=True,
                       timeout=30)
    flags = sorted(set(re.findall(r"(?m)^(-[A-Za-z])\b", p.stdout)) |
                   set(re.findall(r"(--[a-z][a-z_-]+)", p.stdout)))
    missing = [f for f in flags if not re.search(
        r"(?<![\w-])%s(?![\w-])" % re.escape(f), man)]
    tap.ok(len(flags) > 30 and not missing,
           "the man page names every flag of stashd -h (%d)" % len(flags),
           "missing: %r" % missing)
    opts = re.findall(r"(?m)^   - ([a-z_]+)", p.stdout)
    missing = [o for o in opts if o not in man]
    tap.ok(len(opts) > 15 and not missing,
           "the man page names every -o option of stashd -h (%d)"
           % len(opts), "missing: %r" % missing)
    lint = subprocess.run(["groff", "-man", "-ww", "-z", MANPAGE],
                          capture_output=True, text=True, timeout=30)
    tap.eq(lint.stderr, "", "groff reads the man page without warnings")


def main():
    tap = st.Tap()
    test_argv(tap)
    test_shipped_conf(tap)
    test_exec(tap)
    test_manpage(tap)
    tap.done()


if __name__ == "__main__":
    main()
