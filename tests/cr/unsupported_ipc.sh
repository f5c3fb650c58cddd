#!/bin/sh
# SPDX-License-Identifier: MIT
# IPC Cocoon cannot save yet fails the checkpoint, with one line naming it,
# instead of writing an image that would come back without it: POSIX message
# queues.  The program runs on unharmed.  (System V IPC is saved:
# tests/cr/sysv_shm.c, sysv_sem_msg.c.)
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/unsupported_ipc
mkdir -p "$T"
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null' EXIT
need python3

# try KIND MESSAGE: the program makes one KIND object, the checkpoint must
# fail with MESSAGE, then the program must still end well.
try() {
	rm -f "$T/ready" "$T/done"
	"$COCOON" launch --ckpt-dir "$T/ckpt-$1" -- python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
kind, d = sys.argv[1], sys.argv[2]
if kind == "mq":
    rt = ctypes.CDLL("librt.so.1")
    name = ("/cocoon-test-%d" % os.getpid()).encode()
    q = rt.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, None)
    assert q >= 0
    rt.mq_unlink(name)
open(d + "/ready", "w").close()
while not os.path.exists(d + "/done"):
    time.sleep(0.01)
print("PASS")
' "$1" "$T" >"$T/prog.out" 2>"$T/prog.err" </dev/null &
	pid=$!
	wait_for "[ -e '$T/ready' ]" 20 || fail "$1: program never ready: $(cat "$T/prog.err")"
	"$COCOON" checkpoint >"$T/ckpt.out" 2>"$T/ckpt.err"
	rc=$?
	[ $rc -ne 0 ] || fail "$1: the checkpoint succeeded"
	[ $rc -lt 128 ] || fail "$1: checkpoint died of signal $((rc - 128))"
	[ "$(wc -l <"$T/ckpt.err")" -eq 1 ] && grep -q "$2" "$T/ckpt.err" ||
		fail "$1: want one line about '$2', got: $(cat "$T/ckpt.err")"
	echo "ok $1: $(cat "$T/ckpt.err")"
	touch "$T/done"
	wait $pid
	rc=$?
	pid=
	[ $rc -eq 0 ] && grep -qx PASS "$T/prog.out" || fail "$1: program: rc $rc, $(cat "$T/prog.err")"
}

try mq "POSIX message queue"
echo PASS
