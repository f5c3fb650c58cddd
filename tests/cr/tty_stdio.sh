#!/bin/sh
# SPDX-License-Identifier: MIT
# A program whose stdio is a terminal is re-attached to the terminal of the
# restart command: fd_stdio runs under `script` (a pseudo-terminal), is
# checkpointed and killed, and restarted under another `script`; its PASS
# (which checks fds 0-2 are terminals again) must come out of the second one.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/tty_stdio
D=$T/ckpt
mkdir -p "$T"
pids=
trap 'kill -9 $pids 2>/dev/null' EXIT

need script "script(1)"

# The pid of the process the coordinator knows as running.
running_pid() {
	"$COCOON" status --json 2>/dev/null | tr -d ' \n\t' |
		sed -n 's/.*"pid":\([0-9]*\),[^}]*"state":"running".*/\1/p'
}

export CRTEST_READY="$T/ready" CRTEST_DIR="$T"
script -qec "'$COCOON' launch --ckpt-dir '$D' -- '$TESTPROG_DIR/fd_stdio'" /dev/null \
	>"$T/launch.out" 2>&1 </dev/null &
pids="$pids $!"
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/launch.out")"
prog=$(running_pid)
[ -n "$prog" ] || fail "no running process in cocoon status"
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint: $(cat "$T/ckpt.out")"
kill -9 "$prog"

script -qec "'$COCOON' restart --ckpt-dir '$D'" /dev/null >"$T/restart.out" 2>&1 </dev/null &
spid=$!
pids="$pids $spid"
wait_for '[ -n "$(running_pid)" ] && [ "$(running_pid)" != "$prog" ]' 20 ||
	fail "restarted program never running: $(cat "$T/restart.out")"
kill -TERM "$(running_pid)"
wait_for "! kill -0 $spid 2>/dev/null" 20 || fail "restarted program did not finish"
tr -d '\r' <"$T/restart.out" | grep -qx PASS ||
	fail "no PASS on the restart terminal: $(cat "$T/restart.out")"
echo PASS
