#!/bin/sh
# memccapable.sh -- libmemcached's protocol conformance tool against the
# server under test: `memccapable -a` (text protocol) and `-b` (binary).
# Every case must print [pass]; failing cases are listed and fail the test.
# Started by automake as `/bin/sh memccapable.sh`; re-runs itself through
# stashtest.py so the server is started and stopped for it.
dir=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" != "--inner" ]; then
    command -v memccapable >/dev/null 2>&1 || {
        echo "SKIP: memccapable not installed (libmemcached-tools)"
        exit 77
    }
    exec /usr/bin/python3 "$dir/stashtest.py" exec -- /bin/sh "$dir/memccapable.sh" --inner
fi

status=0
for mode in -a -b; do
    out=$(timeout 120 memccapable $mode -t 5 -h "$STASHD_HOST" -p "$STASHD_PORT" 2>&1)
    rc=$?
    pass=$(printf '%s\n' "$out" | grep -c '\[pass\]')
    bad=$(printf '%s\n' "$out" | grep -E '\[(fail|skip)[^]]*\]')
    if [ "$rc" -ne 0 ] || [ -n "$bad" ] || [ "$pass" -eq 0 ] ||
       ! printf '%s\n' "$out" | grep -q '^All tests passed'; then
        echo "FAIL: memccapable $mode: $pass passed, exit $rc; failing cases:"
        if [ -n "$bad" ]; then
            printf '%s\n' "$bad"
        else
            printf '%s\n' "$out" | tail -20
        fi
        status=1
    else
        echo "PASS: memccapable $mode: $pass cases"
    fi
done
exit $status
