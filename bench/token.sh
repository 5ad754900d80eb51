#!/bin/sh
# token.sh - what `exorelay token` costs with a warm cache (the token comes
# from the state file: config, credential, state file, print), beside the
# baselines measured in the same run:
#
#   true                     the cost of starting any process
#   exorelay --version       starting exorelay (dynamic libraries), no config
#   exorelay check           starting + loading and checking the config
#   exorelay token (warm)    the above + credential, locked state file read
#   exorelay token (cold)    with a request to the Entra stand-in (fresh
#                            state directory each run): for scale only
#
# For each: median and 90th percentile wall time, and peak RSS (GNU time's
# %M), over N runs (default 200; cold: N/10).
#
# usage: sh bench/token.sh [N]      (BUILD=build by default)
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILD:=$TOP/build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export TOP BUILD
TESTS_TMP=$(mktemp -d /tmp/exorelay-bench.XXXXXX)
export TESTS_TMP
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/standin.sh"
cleanup_add "rm -rf '$TESTS_TMP'"
N=${1:-200}
EXO="$BUILD/bin/exorelay"
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
[ -x "$EXO" ] || { echo "build first: make all ($EXO missing)" >&2; exit 1; }

standin_start --record none >/dev/null || exit 1
CONF="$TESTS_TMP/exorelay.conf"
standin_write_conf "$CONF" --log-level warning
"$EXO" -c "$CONF" token >/dev/null || { echo "exorelay token failed" >&2; exit 1; }

# measure LABEL N CMD... - run CMD N times (stdout discarded); one line.
# Each run goes through /usr/bin/time -f %M for the peak RSS of the program
# itself (a fork from Python would count Python's pages); the wall time
# includes that small wrapper for every row alike.
measure() {
    "$PYTHON" - "$@" <<'EOF'
import os, statistics, subprocess, sys, time
label, n, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
walls, rss = [], []
rssfile = os.environ["TESTS_TMP"] + "/rss"
for i in range(n):
    argv = cmd
    if cmd[0] == "COLD":                    # a fresh state directory each run
        d = os.environ["TESTS_TMP"] + "/cold%d" % i
        os.mkdir(d, 0o700)
        conf = open(cmd[1]).read().replace(os.environ["TESTS_TMP"] + "/state", d)
        open(d + ".conf", "w").write(conf)
        argv = [cmd[2], "-c", d + ".conf"] + cmd[3:]
    t0 = time.perf_counter()
    status = subprocess.call(["/usr/bin/time", "-f", "%M", "-o", rssfile] + argv,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    walls.append((time.perf_counter() - t0) * 1000)
    if status != 0:
        sys.exit("%s: run %d failed (status %d)" % (label, i, status))
    rss.append(int(open(rssfile).read().split()[-1]))
walls.sort()
print("%-24s median %7.2f ms   p90 %7.2f ms   peak RSS %6d KB   (%d runs)" % (
    label, statistics.median(walls), walls[int(len(walls) * 0.9) - 1], max(rss), n))
EOF
}

echo "exorelay token, warm cache, against baselines ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
measure "true" "$N" /bin/true || exit 1
measure "exorelay --version" "$N" "$EXO" --version || exit 1
measure "exorelay check" "$N" "$EXO" -c "$CONF" check || exit 1
measure "exorelay token (warm)" "$N" "$EXO" -c "$CONF" token || exit 1
COLD=$((N / 10)); [ "$COLD" -ge 5 ] || COLD=5
measure "exorelay token (cold)" "$COLD" COLD "$CONF" "$EXO" token || exit 1
