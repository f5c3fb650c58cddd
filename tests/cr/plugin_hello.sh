#!/bin/sh
# SPDX-License-Identifier: MIT
# A third-party plugin, loaded with `cocoon launch --plugin`, gets its
# events and its own image section: examples/plugins/hello counts the
# checkpoints, and after a restart tells what its section held, then runs.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/plugin_hello
mkdir -p "$T"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
PLUGIN=$(cd "$(dirname "$COCOON")/.." && pwd)/examples/plugins/libhello.so
[ -r "$PLUGIN" ] || fail "no $PLUGIN"

CRTEST_READY=$T/ready CRTEST_DIR=$T "$COCOON" launch --ckpt-dir "$T/ckpt" --plugin "$PLUGIN" -- \
	"$TESTPROG_DIR/heap_brk" >"$T/launch.out" 2>"$T/launch.err" </dev/null &
pid=$!
pids=$pid
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/launch.err")"
for g in 1 2; do
	"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint $g: $(cat "$T/ckpt.out")"
done
grep -q "hello" "$T/launch.err" && fail "the plugin spoke before any restart: $(cat "$T/launch.err")"
kill -9 $pid
wait $pid 2>/dev/null

# The program's stderr is the file launch.err: the restored process writes
# there again (regular files are reopened at their offset).
"$COCOON" restart --ckpt-dir "$T/ckpt" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
rpid=$!
pids="$pids $rpid"
wait_for "grep -q 'hello: running again' '$T/launch.err'" 20 ||
	fail "the plugin never said it runs again: $(cat "$T/launch.err" "$T/restart.err")"
grep -qx "hello: restarted after 2 checkpoint(s): hello from before" "$T/launch.err" ||
	fail "the plugin's section did not come back: $(cat "$T/launch.err")"
grep -qx "hello: running again (generation 2, restart 1)" "$T/launch.err" ||
	fail "generation/restart count wrong: $(cat "$T/launch.err")"
kill -TERM $rpid
wait $rpid
rc=$?
[ $rc -eq 0 ] && grep -qx PASS "$T/launch.out" || fail "program after restart: rc $rc, $(cat "$T/launch.out")"
echo PASS
