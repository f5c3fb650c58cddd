#!/bin/sh
# SPDX-License-Identifier: MIT
# A thread that keeps Cocoon's suspend signal blocked (as glibc's helper
# thread for SIGEV_THREAD timers does) cannot be stopped: the checkpoint
# fails within seconds with one line naming the thread, instead of hanging
# the computation; the program runs on, and once the thread lets the signal
# through, a checkpoint works again.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/stuck_thread
mkdir -p "$T"
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null' EXIT
need python3

# The thread blocks every signal with the raw system call (the libc calls
# would not let it block Cocoon's), until the file "release" appears.
"$COCOON" launch --ckpt-dir "$T/ckpt" -- python3 -c '
import ctypes, os, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1]
def stubborn():
    mask = ctypes.c_uint64(~0 & 0xffffffffffffffff)
    assert libc.syscall(14, 0, ctypes.byref(mask), None, 8) == 0  # rt_sigprocmask(SIG_BLOCK)
    open(d + "/blocked", "w").close()
    while not os.path.exists(d + "/release"):
        time.sleep(0.01)
    mask = ctypes.c_uint64(~0 & 0xffffffffffffffff)
    libc.syscall(14, 1, ctypes.byref(mask), None, 8)  # SIG_UNBLOCK
    open(d + "/unblocked", "w").close()
    while not os.path.exists(d + "/done"):
        time.sleep(0.01)
t = threading.Thread(target=stubborn)
t.start()
t.join()
print("PASS")
' "$T" >"$T/prog.out" 2>"$T/prog.err" </dev/null &
pid=$!
wait_for "[ -e '$T/blocked' ]" 20 || fail "program never ready: $(cat "$T/prog.err")"

start=$(date +%s)
timeout 30 "$COCOON" checkpoint >"$T/ckpt.out" 2>"$T/ckpt.err"
rc=$?
[ $rc -ne 124 ] || fail "checkpoint hung on the blocked thread"
[ $rc -ne 0 ] || fail "checkpoint succeeded with a thread that cannot stop"
[ $(($(date +%s) - start)) -le 10 ] || fail "checkpoint took more than 10 s to give up"
[ "$(wc -l <"$T/ckpt.err")" -eq 1 ] && grep -q "thread [0-9]* blocks the checkpoint signal" "$T/ckpt.err" ||
	fail "want one line naming the thread, got: $(cat "$T/ckpt.err")"
echo "ok: $(cat "$T/ckpt.err")"
[ ! -e "$T/ckpt/latest" ] || fail "a failed checkpoint moved latest"
kill -0 $pid 2>/dev/null || fail "the program died with the failed checkpoint"

touch "$T/release"
wait_for "[ -e '$T/unblocked' ]" 10 || fail "the thread never unblocked"
"$COCOON" checkpoint >"$T/ckpt2.out" 2>"$T/ckpt2.err" || fail "checkpoint after unblocking: $(cat "$T/ckpt2.err")"
touch "$T/done"
wait $pid
rc=$?
pid=
[ $rc -eq 0 ] && grep -qx PASS "$T/prog.out" || fail "program: rc $rc, $(cat "$T/prog.out" "$T/prog.err")"
echo PASS
