#!/bin/sh
# SPDX-License-Identifier: MIT
# Pages of a library that were never loaded are not saved: they come from the
# file again.  When the file changed after the checkpoint (rebuilt, upgraded),
# restart must refuse with one line naming it, not run a mix of old and new.
# Uses a private copy of the cocoon tree so that touching its runtime library
# does not disturb other tests.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/changed_library
mkdir -p "$T/tree"
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null' EXIT

top=$(cd "$(dirname "$COCOON")/.." && pwd)
cp -r "$top/bin" "$top/lib" "$T/tree/"
C=$T/tree/bin/cocoon

CRTEST_READY=$T/ready CRTEST_DIR=$T "$C" launch --ckpt-dir "$T/ckpt" -- \
	"$TESTPROG_DIR/threads_running" >"$T/launch.out" 2>&1 </dev/null &
pid=$!
wait_for "[ -e '$T/ready' ]" 20 || fail "program never ready: $(cat "$T/launch.out")"
"$C" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint: $(cat "$T/ckpt.out")"
"$C" inspect "$T"/ckpt/gen-000001/*.img | grep -q "libcocoon.so.*need-file" ||
	{ echo "SKIP: the runtime library was fully resident, nothing to refuse"; exit 77; }
kill -9 $pid
wait $pid 2>/dev/null
pid=

touch "$T/tree/lib/cocoon/libcocoon.so"
"$C" restart --ckpt-dir "$T/ckpt" >"$T/restart.out" 2>"$T/restart.err" </dev/null
rc=$?
[ $rc -ne 0 ] || fail "restart with a changed library succeeded"
[ $rc -lt 128 ] || fail "restart died of signal $((rc - 128))"
[ "$(wc -l <"$T/restart.err")" -eq 1 ] && grep -q "libcocoon.so changed since the checkpoint" "$T/restart.err" ||
	fail "want one line naming the library, got: $(cat "$T/restart.err")"
echo "ok: $(cat "$T/restart.err")"
echo PASS
