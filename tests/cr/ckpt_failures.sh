#!/bin/sh
# SPDX-License-Identifier: MIT
# A failing checkpoint never costs the last good one -- in both modes:
# normal, and --forked (a copy of the process writes the image while the
# program runs on; killing the program kills its writer too).
#  1. COCOON_FAULT=enospc:2: generation 2's image write fails as on a full disk;
#     the checkpoint command says so, the program keeps running, latest stays
#     gen-000001 with its files unchanged, a later checkpoint works.
#  2. COCOON_FAULT=stall:3: the program is killed -9 while writing generation 3;
#     the checkpoint command fails with a message, latest stays gen-000002, and
#     restarting from it works.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD, COCOON_COORD2.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/ckpt_failures
mkdir -p "$T"
pids=
trap 'kill -9 $pids 2>/dev/null' EXIT
PROG=$TESTPROG_DIR/heap_brk

# checkpoint_ok WANT_GEN
checkpoint_ok() {
	"$COCOON" checkpoint $FORKED >"$T/ckpt.out" 2>"$T/ckpt.err" ||
		fail "checkpoint $1 failed: $(cat "$T/ckpt.err")"
	[ "$(head -n 1 "$T/ckpt.out")" = "generation $1" ] ||
		fail "checkpoint printed '$(head -n 1 "$T/ckpt.out")', want 'generation $1'"
}

latest_is() {
	[ "$(cat "$D/latest" 2>/dev/null)" = "$1" ] ||
		fail "$2: latest is '$(cat "$D/latest" 2>/dev/null)', want $1"
}

sums() { cksum "$D"/gen-*/* | sort; }

# launch_prog FAULT: start the program in the background; sets pid.
launch_prog() {
	rm -f "$T/ready"
	CRTEST_READY=$T/ready CRTEST_DIR=$T COCOON_FAULT=$1 \
		"$COCOON" launch --ckpt-dir "$D" -- "$PROG" >"$T/launch.out" 2>"$T/launch.err" </dev/null &
	pid=$!
	pids="$pids $pid"
	wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/launch.err")"
}

# round: both cases; $FORKED is "" or "--forked"
round() {
	# --- 1. disk full while writing generation 2
	D=$T/ckpt-enospc$FORKED
	launch_prog enospc:2
	checkpoint_ok 1
	sums >"$T/sums1"
	"$COCOON" checkpoint $FORKED >"$T/fail.out" 2>"$T/fail.err"
	rc=$?
	[ $rc -ne 0 ] || fail "enospc: checkpoint 2 succeeded"
	[ $rc -lt 128 ] || fail "enospc: checkpoint died of signal $((rc - 128))"
	one_error enospc "$T/fail.err"
	echo "ok enospc: $(cat "$T/fail.err")"
	kill -0 $pid 2>/dev/null || fail "enospc: the program died with the checkpoint"
	latest_is gen-000001 "enospc"
	sums | cmp -s - "$T/sums1" || fail "enospc: generation 1 changed: $(sums)"
	ls "$D"/gen-000001/*.tmp >/dev/null 2>&1 && fail "enospc: temporary files left in gen-000001"
	wait_for "[ ! -e '$D/gen-000002' ]" 5 || fail "enospc: failed gen-000002 left behind"
	# A later checkpoint works again (its number is the coordinator's business).
	"$COCOON" checkpoint $FORKED >"$T/ckpt.out" 2>"$T/ckpt.err" ||
		fail "enospc: checkpoint after the failed one: $(cat "$T/ckpt.err")"
	kill -TERM $pid
	wait $pid
	rc=$?
	[ $rc -eq 0 ] && grep -qx PASS "$T/launch.out" ||
		fail "enospc: program exited $rc after a failed checkpoint: $(cat "$T/launch.out")"

	# --- 2. killed while writing generation 3
	COCOON_COORD=$COCOON_COORD2
	D=$T/ckpt-stall$FORKED
	launch_prog stall:3
	checkpoint_ok 1
	checkpoint_ok 2
	sums >"$T/sums2"
	"$COCOON" checkpoint $FORKED >"$T/stall.out" 2>"$T/stall.err" </dev/null &
	cpid=$!
	pids="$pids $cpid"
	wait_for "ls '$D'/gen-000003/*.tmp >/dev/null 2>&1" 20 ||
		fail "stall: no gen-000003/*.tmp appeared"
	# forked: the program runs on while its copy stalls; the copy is its child
	writer=$(ps -o pid= --ppid $pid | tr -d ' ')
	[ -z "$FORKED" ] || [ -n "$writer" ] || fail "stall: no forked writer"
	kill -9 $pid
	wait $pid
	victims=$writer # (all_gone: zombies count as gone)
	wait_for all_gone 10 || fail "stall: the writer outlived the program"
	wait_for "! kill -0 $cpid 2>/dev/null" 20 || fail "stall: checkpoint command hangs after kill -9"
	wait $cpid
	rc=$?
	[ $rc -ne 0 ] || fail "stall: checkpoint 3 succeeded"
	[ $rc -lt 128 ] || fail "stall: checkpoint died of signal $((rc - 128))"
	one_error stall "$T/stall.err"
	echo "ok stall: $(cat "$T/stall.err")"
	latest_is gen-000002 "stall"
	wait_for "[ ! -e '$D/gen-000003' ]" 5 || fail "stall: failed gen-000003 left behind"
	sums | cmp -s - "$T/sums2" || fail "stall: generations 1-2 changed: $(sums)"

	"$COCOON" restart --ckpt-dir "$D" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
	rpid=$!
	pids="$pids $rpid"
	running() {
		"$COCOON" status --json 2>/dev/null | tr -d ' \n\t' >"$T/status.json"
		grep -q "\"pid\":${rpid}[,}]" "$T/status.json" && grep -q '"state":"running"' "$T/status.json"
	}
	wait_for running 20 || fail "stall: restarted program never running: $(cat "$T/restart.err")"
	kill -TERM $rpid
	wait $rpid
	rc=$?
	# The program's stdout was the regular file launch.out: the restored program
	# reopens it at its offset, so PASS lands there, not in restart.out.
	[ $rc -eq 0 ] && grep -qx PASS "$T/launch.out" ||
		fail "stall: restarted program exited $rc: $(cat "$T/launch.out" "$T/restart.err")"
}

coord1=$COCOON_COORD
for FORKED in "" --forked; do
	COCOON_COORD=$coord1
	export COCOON_COORD
	round
	# the next round starts with fresh coordinators on the same ports
	for c in "$coord1" "$COCOON_COORD2"; do
		wait_for "! \"$COCOON\" status --coord $c >/dev/null 2>&1" 10 || fail "coordinator $c did not exit"
	done
done
echo PASS
