#!/bin/sh
# SPDX-License-Identifier: MIT
# Checkpoint directories are 0700 and images 0600, whatever the umask; after
# 4 checkpoints exactly the last 2 complete generations remain.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/image_perms
mkdir -p "$T"
pids=
trap 'kill -9 $pids 2>/dev/null' EXIT

mode_is() {
	m=$(stat -c %a "$1") || fail "stat $1"
	[ "$m" = "$2" ] || fail "$1 has mode $m, want $2"
}

umask 000
D=$T/ckpt
CRTEST_READY=$T/ready CRTEST_DIR=$T "$COCOON" launch --ckpt-dir "$D" -- \
	"$TESTPROG_DIR/heap_brk" >"$T/launch.out" 2>&1 </dev/null &
pid=$!
pids="$pids $pid"
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/launch.out")"
for g in 1 2 3 4; do
	"$COCOON" checkpoint >"$T/ckpt.out" 2>"$T/ckpt.err" ||
		fail "checkpoint: $(cat "$T/ckpt.err")"
done
mode_is "$D" 700
n=0
for g in "$D"/gen-*; do
	mode_is "$g" 700
	for img in "$g"/*.img; do
		mode_is "$img" 600
		n=$((n + 1))
	done
done
[ $n -eq 2 ] || fail "found $n images after 4 checkpoints, want the last 2 generations kept"
[ "$(ls "$D" | grep gen- | tr '\n' ' ')" = "gen-000003 gen-000004 " ] ||
	fail "kept $(ls "$D"), want gen-000003 and gen-000004"
[ "$(cat "$D/latest")" = gen-000004 ] || fail "latest is $(cat "$D/latest")"
kill -TERM $pid
wait $pid
echo PASS
