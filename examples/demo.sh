#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: a program is checkpointed, killed with SIGKILL, and restarted;
# it carries on where it was and finishes with the right answer.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cocoon=$top/build/bin/cocoon
work=$(mktemp -d "${TMPDIR:-/tmp}/cocoon-demo.XXXXXX")
export COCOON_COORD="127.0.0.1:$((20000 + $$ % 10000))"
export COCOON_CKPT_DIR="$work/ckpt"
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "cocoon launch: run a program under Cocoon"
"$cocoon" launch "$top/build/examples/primes" 400000 &
pid=$!
sleep 1.5
say "cocoon checkpoint: save it to $COCOON_CKPT_DIR"
"$cocoon" checkpoint
say "kill -9 $pid: the program is gone"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sleep 0.3
say "cocoon inspect: what the image holds"
"$cocoon" inspect "$COCOON_CKPT_DIR"/gen-000001/*.img | sed -n '1,8p'
say "cocoon restart: it carries on from the checkpoint"
if "$cocoon" restart; then
	say "demo: the restarted program finished with the right answer"
else
	say "demo: FAILED (exit status $?)"
	exit 1
fi
