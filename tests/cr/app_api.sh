#!/bin/sh
# SPDX-License-Identifier: MIT
# The application calls: outside Cocoon, a program linked against
# libcocoon-api.so runs and every call is a no-op.  Under Cocoon, a
# checkpoint requested while the program holds checkpoints off
# (cocoon_disable) waits until it lets go (cocoon_enable);
# cocoon_checkpoint() returns 0 when the program goes on after it, and 1
# when the program was restarted from it; the restarted program survives
# another checkpoint.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD, SCENARIO_SRC.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/app_api
mkdir -p "$T"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
APP=$(dirname "$COCOON")/../tests/apps/app
[ -x "$APP" ] || fail "$APP not built"

out=$("$APP" --bare 2>&1) || fail "without Cocoon: $out"
[ "$out" = "no-ops ok" ] || fail "without Cocoon: $out"
echo "ok: without Cocoon every call is a no-op"

"$COCOON" launch --ckpt-dir "$T/ckpt" -- "$APP" "$T" >"$T/app.out" 2>"$T/app.err" </dev/null &
pid=$!
pids=$pid
wait_for "[ -e '$T/holding' ]" 20 || fail "program not ready: $(cat "$T/app.err")"

"$COCOON" checkpoint >"$T/ckpt1.out" 2>"$T/ckpt1.err" &
cpid=$!
pids="$pids $cpid"
# While the program holds them off, the checkpoint must not happen.
sleep 0.5
kill -0 $cpid 2>/dev/null || fail "the checkpoint did not wait for cocoon_enable: $(cat "$T/ckpt1.out" "$T/ckpt1.err")"
[ ! -e "$T/ckpt/latest" ] || fail "a checkpoint was written inside the critical section"
touch "$T/release"
wait $cpid || fail "the waiting checkpoint failed: $(cat "$T/ckpt1.err")"
touch "$T/go"
wait_for "[ -e '$T/result' ]" 20 || fail "cocoon_checkpoint() did not return: $(cat "$T/app.err")"
[ "$(cat "$T/result")" = 0 ] || fail "cocoon_checkpoint() returned $(cat "$T/result"), want 0"
[ "$(cat "$T/ckpt/latest")" = gen-000002 ] || fail "latest is $(cat "$T/ckpt/latest"), want gen-000002"
echo "ok: waited, then cocoon_checkpoint() gave 0"

kill -9 $pid
wait $pid 2>/dev/null
"$COCOON" restart --ckpt-dir "$T/ckpt" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
rpid=$!
pids="$pids $rpid"
wait_for "[ -e '$T/result.restarted' ]" 20 || fail "after restart cocoon_checkpoint() did not return 1: $(cat "$T/restart.err")"
[ "$(cat "$T/result.restarted")" = 1 ] || fail "after restart it returned $(cat "$T/result.restarted")"
[ "$(cat "$T/restarts")" = 1 ] || fail "cocoon_restart_count() is $(cat "$T/restarts") after one restart"
"$COCOON" checkpoint >"$T/ckpt3.out" 2>"$T/ckpt3.err" || fail "second checkpoint after restart: $(cat "$T/ckpt3.err")"
[ "$(cat "$T/ckpt/latest")" = gen-000003 ] || fail "latest is $(cat "$T/ckpt/latest"), want gen-000003"
touch "$T/finish"
wait $rpid || fail "restarted program failed"
echo PASS
