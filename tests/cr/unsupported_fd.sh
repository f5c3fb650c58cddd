#!/bin/sh
# SPDX-License-Identifier: MIT
# A process holding an fd Cocoon cannot save yet (a netlink socket) fails its
# checkpoint at checkpoint time, with one line naming the fd; nothing is
# written, and the program keeps running unharmed.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/unsupported_fd
D=$T/ckpt
mkdir -p "$T"
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null' EXIT

need python3

# The program: a netlink socket held open next to a socketpair, a ready
# file, then it waits for SIGTERM and proves the socketpair still works.
"$COCOON" launch --ckpt-dir "$D" -- python3 -c '
import os, signal, socket, sys
route = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
a, b = socket.socketpair()
done = []
signal.signal(signal.SIGTERM, lambda *x: done.append(1))
open(sys.argv[1], "w").close()
while not done:
    signal.pause()
a.sendall(b"ping")
print("PASS" if b.recv(4) == b"ping" else "FAIL: socket broken")
' "$T/ready" >"$T/prog.out" 2>"$T/prog.err" </dev/null &
pid=$!
wait_for "[ -e '$T/ready' ]" 20 || fail "program never ready: $(cat "$T/prog.err")"

"$COCOON" checkpoint >"$T/ckpt.out" 2>"$T/ckpt.err"
rc=$?
[ $rc -ne 0 ] || fail "checkpoint of a process holding a netlink socket succeeded"
[ $rc -lt 128 ] || fail "checkpoint died of signal $((rc - 128))"
[ "$(wc -l <"$T/ckpt.err")" -eq 1 ] || fail "want one line, got: $(cat "$T/ckpt.err")"
grep -q "fd [0-9]* (socket:.*not supported" "$T/ckpt.err" || fail "message does not name the fd: $(cat "$T/ckpt.err")"
echo "ok: $(cat "$T/ckpt.err")"
[ ! -e "$D/latest" ] || fail "a failed checkpoint moved latest"
ls "$D"/gen-* >/dev/null 2>&1 && fail "a failed checkpoint left files: $(ls "$D")"
kill -0 $pid 2>/dev/null || fail "the program died with the failed checkpoint"
kill -TERM $pid
wait $pid
rc=$?
pid=
[ $rc -eq 0 ] && grep -qx PASS "$T/prog.out" || fail "program after the failed checkpoint: rc $rc, $(cat "$T/prog.out" "$T/prog.err")"
echo PASS
