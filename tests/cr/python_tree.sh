#!/bin/sh
# SPDX-License-Identifier: MIT
# A Python program with threads and a subprocess.Popen child restarts whole.
# The parent (stdlib only) runs 3 threads: a writer sending 1500 numbers to
# the child's stdin (one every ~2 ms), a reader checking every reply of the
# child on its stdout ("n n*n%1000003", in order) and summing them, a ticker
# counting 1000 ticks under a lock; the child is `python3 -c` answering line
# by line.  At the end the parent runs `sort -n` on all replies (a new child
# after the restarts) and writes its result.  Checkpoint at reply 300, kill -9
# both processes, restart; again at reply 800 from the restarted computation;
# the result must be the one computed here by construction (awk, sort).
# NATIVE=1 runs the same program without cocoon (validates the test).
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD, SCENARIO_SRC.
set -u
T=${TMPDIR:-/tmp}/python_tree
rm -rf "$T" && mkdir -p "$T" || {
	echo "FAIL: cannot create $T"
	exit 1
}
N=1500
NPROC=2 # the parent and its Popen child
P1=300  # checkpoint when the reader has this many replies,
P2=800  # and after the first restart, this many

cat >"$T/tree.py" <<'PY'
import subprocess
import sys
import threading
import time

out, n = sys.argv[1], int(sys.argv[2])
CHILD = r"""
import sys
for line in iter(sys.stdin.readline, ""):
    k = int(line)
    sys.stdout.write("%d %d\n" % (k, k * k % 1000003))
    sys.stdout.flush()
"""
child = subprocess.Popen([sys.executable, "-c", CHILD],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
lock = threading.Lock()
counts = {"written": 0, "read": 0, "bad": 0, "sum": 0, "ticks": 0}
values = []


def writer():
    for i in range(1, n + 1):
        child.stdin.write(b"%d\n" % i)
        child.stdin.flush()
        counts["written"] += 1
        time.sleep(0.002)
    child.stdin.close()


def reader():
    with open(out + "/progress", "w") as prog:
        want = 1
        for line in child.stdout:
            k, v = (int(x) for x in line.split())
            if k != want or v != k * k % 1000003:
                counts["bad"] += 1
            want = k + 1
            values.append(v)
            counts["read"] += 1
            counts["sum"] += v
            if counts["read"] % 10 == 0:
                prog.write("%d\n" % counts["read"])
                prog.flush()


def ticker():
    for _ in range(1000):
        with lock:
            counts["ticks"] += 1
        time.sleep(0.003)


threads = [threading.Thread(target=f) for f in (writer, reader, ticker)]
for t in threads:
    t.start()
for t in threads:
    t.join()
rc = child.wait()
with open(out + "/sorted", "w") as f:
    srt = subprocess.run(["sort", "-n"], input="".join("%d\n" % v for v in values).encode(),
                         stdout=f)
with open(out + "/result", "w") as f:
    f.write("written=%(written)d read=%(read)d sum=%(sum)d bad=%(bad)d ticks=%(ticks)d" % counts
            + " child=%d sort=%d\n" % (rc, srt.returncode))
PY

progress() { awk 'END { print $1 + 0 }' "$T/progress" 2>/dev/null || echo 0; }

start_computation() {
	command -v python3 >/dev/null || {
		echo "SKIP: python3 is not installed"
		exit 77
	}
	start python3 "$T/tree.py" "$T" "$N"
}

check_result() {
	awk -v n=$N 'BEGIN { for (i = 1; i <= n; i++) print i * i % 1000003 }' | sort -n >"$T/sorted.want"
	want=$(awk -v n=$N 'BEGIN {
		for (i = 1; i <= n; i++) s += i * i % 1000003
		printf "written=%d read=%d sum=%d bad=0 ticks=1000 child=0 sort=0\n", n, n, s
	}')
	got=$(cat "$T/result" 2>/dev/null)
	[ "$got" = "$want" ] || fail "$1: result '$got', want '$want'"
	cmp -s "$T/sorted" "$T/sorted.want" || fail "$1: the sorted replies differ from the expected ones"
	log "$1: $got"
}

# The rest (launch, checkpoints, kill -9, restarts, checks) is common.
# shellcheck source=SCRIPTDIR/../scenario/scenario.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/scenario.sh"
run_scenario
