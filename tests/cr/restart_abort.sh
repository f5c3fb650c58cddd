#!/bin/sh
# SPDX-License-Identifier: MIT
# A restart that fails after `cocoon restart` has told the coordinator
# (here the restorer cannot map the program's memory: ulimit -v) ends the
# coordinator's restart session at once -- it does not wait 60 s for a
# process that is not coming, deferring checkpoints meanwhile: `cocoon
# status` is idle again within seconds, and the next restart and a
# checkpoint after it work right away.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD, COCOON_COORD2.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
T=$TMPDIR/restart_abort
D=$T/ckpt
mkdir -p "$T"

launch_dirty
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint: $(cat "$T/ckpt.out")"
kill_all

# 64 MiB of program memory cannot fit in 48 MiB of address space.
(ulimit -v 49152 && exec "$COCOON" restart --ckpt-dir "$D") >"$T/bad.out" 2>"$T/bad.err" </dev/null
rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] || fail "restart under ulimit -v: rc $rc, $(cat "$T/bad.err")"
grep -q "^cocoon: restore" "$T/bad.err" || fail "not the restorer that failed: $(cat "$T/bad.err")"
wait_for '"$COCOON" status | grep -q "^state  *idle"' 5 ||
	fail "the coordinator still waits for the failed restart: $("$COCOON" status)"

restart_dirty
verified 1
timeout 20 "$COCOON" checkpoint >"$T/ckpt2.out" 2>&1 || fail "checkpoint after: $(cat "$T/ckpt2.out")"
[ "$(head -1 "$T/ckpt2.out")" = "generation 2" ] || fail "checkpoint after: $(cat "$T/ckpt2.out")"
dirty_passes
echo PASS
