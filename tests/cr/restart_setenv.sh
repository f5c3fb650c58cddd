#!/bin/sh
# SPDX-License-Identifier: MIT
# cocoon restart --setenv/--unsetenv: the restored program's environment (as
# getenv() sees it) has the new values; a restart without them gives the
# values of the checkpoint.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/restart_setenv
mkdir -p "$T"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
need python3

EMU_HOST=emulator-a DROPME=x "$COCOON" launch --ckpt-dir "$T/ckpt" -- python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p
def show():
    vals = [libc.getenv(n) for n in (b"EMU_HOST", b"ADDED", b"DROPME")]
    return " ".join((v or b"-").decode() for v in vals)
d = sys.argv[1]
open(d + "/ready", "w").write(show())
while True:
    for go in ("go1", "go2"):
        if os.path.exists(d + "/" + go):
            open(d + "/" + go + ".out", "w").write(show())
            os.unlink(d + "/" + go)
    time.sleep(0.01)
' "$T" >"$T/prog.out" 2>"$T/prog.err" </dev/null &
pid=$!
pids=$pid
wait_for "[ -s '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/prog.err")"
[ "$(cat "$T/ready")" = "emulator-a - x" ] || fail "before: $(cat "$T/ready")"
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint: $(cat "$T/ckpt.out")"
kill -9 $pid

# ask: restart with ARGS, then have the program report into FILE
ask() {
	out=$1
	shift
	"$COCOON" restart --ckpt-dir "$T/ckpt" "$@" >/dev/null 2>"$T/restart.err" </dev/null &
	rpid=$!
	pids="$pids $rpid"
	touch "$T/$out"
	wait_for "[ -s '$T/$out.out' ]" 20 || fail "no answer after restart: $(cat "$T/restart.err")"
	kill -9 $rpid
	wait $rpid 2>/dev/null
}
ask go1 --setenv EMU_HOST=emulator-b --setenv ADDED=1 --unsetenv DROPME
[ "$(cat "$T/go1.out")" = "emulator-b 1 -" ] || fail "after --setenv/--unsetenv: $(cat "$T/go1.out")"
ask go2
[ "$(cat "$T/go2.out")" = "emulator-a - x" ] || fail "plain restart: $(cat "$T/go2.out")"
"$COCOON" restart --ckpt-dir "$T/ckpt" --setenv NOEQUALS >/dev/null 2>"$T/bad.err" &&
	fail "--setenv without = was accepted"
one_error "bad --setenv" "$T/bad.err"
echo PASS
