#!/bin/sh
# SPDX-License-Identifier: MIT
# Life-cycle events reach a plugin (tests/plugins/events.c) in the thread
# or process that causes them, before and after a restart: a thread's
# start and exit, fork (prepare, parent with the child's pid, child), exec
# with its path, and the exec'd program's init and exit.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/plugin_events
mkdir -p "$T"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
BUILD=$(cd "$(dirname "$COCOON")/.." && pwd)
PLUGIN=$BUILD/tests/plugins/libevents.so
APP=$BUILD/tests/apps/lifecycle
[ -r "$PLUGIN" ] && [ -x "$APP" ] || fail "no $PLUGIN or $APP"
[ -x /bin/true ] || fail "no /bin/true"

# round N PID: signal the program (real pid PID, virtual pid P) and check
# the events of that round, process by process, in order.
round() {
	before=$(wc -l <"$T/err")
	kill -USR1 "$2"
	wait_for "grep -q '^round $1 done' '$T/out'" 20 || fail "round $1 never done: $(cat "$T/out" "$T/err")"
	tail -n +$((before + 1)) "$T/err" >"$T/round$1"
	got=$(grep "^events $P " "$T/round$1" | cut -d' ' -f3- | tr '\n' ',')
	child=$(grep "^events $P fork-parent" "$T/round$1" | cut -d' ' -f4)
	[ "$got" = "thread-start,thread-exit,fork-prepare,fork-parent $child," ] ||
		fail "round $1: parent's events: $got"
	got=$(grep "^events $child " "$T/round$1" | cut -d' ' -f3- | tr '\n' ',')
	[ "$got" = "fork-child,exec /bin/true,init,exit," ] || fail "round $1: child's events: $got"
}

CRTEST_READY=$T/ready "$COCOON" launch --ckpt-dir "$T/ckpt" --plugin "$PLUGIN" -- "$APP" \
	>"$T/out" 2>>"$T/err" </dev/null &
P=$!
pids=$P
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/err")"
grep -q "^events $P init$" "$T/err" || fail "no init event: $(cat "$T/err")"
round 1 $P
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint: $(cat "$T/ckpt.out")"
kill_all
wait $P 2>/dev/null

# stdout and stderr come back at their offsets (stderr appends)
"$COCOON" restart --ckpt-dir "$T/ckpt" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
rpid=$!
pids="$pids $rpid"
wait_for "grep -q '^events $P restart$' '$T/err'" 20 || fail "no restart event: $(cat "$T/err" "$T/restart.err")"
real=$(first_pid)
round 2 "$real"
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint after restart: $(cat "$T/ckpt.out")"
kill_all
wait $rpid 2>/dev/null
"$COCOON" restart --ckpt-dir "$T/ckpt" >"$T/restart2.out" 2>"$T/restart2.err" </dev/null &
rpid=$!
pids="$pids $rpid"
wait_for "[ \$(grep -c '^events $P restart$' '$T/err') -eq 2 ]" 20 || fail "no second restart: $(cat "$T/restart2.err")"
real=$(first_pid)
round 3 "$real"
kill -TERM "$real"
wait $rpid
rc=$?
[ $rc -eq 0 ] && grep -qx PASS "$T/out" || fail "program after restart: rc $rc, $(cat "$T/out")"
echo PASS
