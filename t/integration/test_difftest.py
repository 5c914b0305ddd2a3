#!/usr/bin/python3
"""A short differential run: scripts/difftest 15 --seed 20261203 sends the
same random command stream (text, meta, binary; valid and invalid) to the
server under test and to /usr/bin/memcached 1.6.18 and must find no
divergence.  The seed is fixed so `make check` is repeatable; CI's
`scripts/difftest 60` takes a new seed every run.

With STASHD_TARGET=memcached it compares memcached with itself, which
checks the script (its normalisations must leave nothing to report).
Skipped without memcached or when STASHD_ADDR names a running server
(the script starts its own servers).
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stashtest as st  # noqa: E402

SECONDS = "15"
SEED = "20261203"


def main():
    if st.target() == "external":
        st.skip("scripts/difftest starts its own servers; STASHD_ADDR is set")
    if not os.access(st.MEMCACHED, os.X_OK):
        st.skip("%s not installed" % st.MEMCACHED)
    top = os.environ.get("srcdir") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    script = os.path.join(top, "scripts", "difftest")
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                       "difftest-check-%d.txt" % os.getpid())
    tap = st.Tap()
    proc = subprocess.run(
        [sys.executable, script, SECONDS, "--seed", SEED,
         "--stashd", st.binary(), "--max-divergences", "3",
         "--shrink-seconds", "20", "--out", out],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    text = proc.stdout.decode("utf-8", "replace")
    for line in text.splitlines()[-60 if proc.returncode else -3:]:
        tap.diag(line[:2000])
    tap.ok(proc.returncode == 0,
           "difftest %s s, seed %s: no divergence from memcached"
           % (SECONDS, SEED))
    tap.ok("commands in" in text and " 0 divergences" in text,
           "difftest compared commands and reported 0 divergences")
    for f in (out, out + ".raw"):
        if proc.returncode == 0 and os.path.exists(f):
            os.unlink(f)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
