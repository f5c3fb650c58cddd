#!/bin/sh
# SPDX-License-Identifier: MIT
# A tree of 20 processes restarts in one command: tree (tests/scenario/tree.c,
# compiled here) forks a ternary tree of 20 processes (depth 3), each with a
# pipe to its parent holding heartbeat bytes nobody reads until the end, each
# counting 1200 + 10 * node steps (~2 ms each).  At the end each node checks
# its children's heartbeats, reaps them, checks its getpid()/getppid(), and
# reports its subtree's count upward; the root writes the total.  Checkpoint
# when every process has counted 300 steps, kill -9 all 20, restart; again at
# 700 from the restarted computation; the total must be the one computed here
# by construction.  NATIVE=1 runs it without cocoon (validates the test).
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD, SCENARIO_SRC.
set -u
T=${TMPDIR:-/tmp}/tree20
rm -rf "$T" && mkdir -p "$T" || {
	echo "FAIL: cannot create $T"
	exit 1
}
SRC=${SCENARIO_SRC:-$(dirname "$0")/../scenario}/tree.c
NPROC=20
STEPS=1200
P1=300 # checkpoint when every process has counted this many steps,
P2=700 # and after the first restart, this many

# The fewest steps counted by a process (0 until all have started).
progress() {
	[ "$(ls "$T"/p.* 2>/dev/null | wc -l)" -eq $NPROC ] || {
		echo 0
		return
	}
	cat "$T"/p.* 2>/dev/null | sort -n | head -n 1 | tr -d ' '
}

start_computation() {
	command -v cc >/dev/null || {
		echo "SKIP: no C compiler"
		exit 77
	}
	[ -r "$SRC" ] || fail "no $SRC"
	cc -O2 -Wall -Wextra -Werror -o "$T/tree" "$SRC" 2>"$T/cc.err" ||
		fail "cannot compile $SRC: $(head -c 500 "$T/cc.err")"
	start "$T/tree" "$T" $NPROC $STEPS
}

check_result() {
	want="total=$((NPROC * STEPS + 10 * NPROC * (NPROC - 1) / 2)) procs=$NPROC errors=0"
	got=$(cat "$T/result" 2>/dev/null)
	[ "$got" = "$want" ] || fail "$1: result '$got', want '$want';$(diag)"
	log "$1: $got"
}

# The rest (launch, checkpoints, kill -9, restarts, checks) is common.
# shellcheck source=SCRIPTDIR/../scenario/scenario.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/scenario.sh"
run_scenario
