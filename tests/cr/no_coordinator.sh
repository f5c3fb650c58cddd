#!/bin/sh
# SPDX-License-Identifier: MIT
# With nothing listening at COCOON_COORD, checkpoint/status/kill fail quickly
# with one "cocoon:" line, and none of them starts a coordinator.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD (a free port).
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/no_coordinator
mkdir -p "$T"

n=0
for args in "checkpoint" "status" "status --json" "kill" "checkpoint"; do
	n=$((n + 1))
	mark="no_coordinator.$$.$n"
	# shellcheck disable=SC2086
	env CRTEST_MARK="$mark" timeout 20 "$COCOON" $args >"$T/$n.out" 2>"$T/$n.err" </dev/null
	rc=$?
	[ $rc -ne 124 ] || fail "cocoon $args hung"
	[ $rc -ne 0 ] || fail "cocoon $args succeeded with no coordinator"
	[ $rc -lt 128 ] || fail "cocoon $args died of signal $((rc - 128))"
	one_error "cocoon $args" "$T/$n.err"
	sleep 0.2
	if grep -qs "CRTEST_MARK=$mark" /proc/[0-9]*/environ; then
		fail "cocoon $args left a process running (a coordinator?)"
	fi
	echo "ok cocoon $args: $(cat "$T/$n.err")"
done
echo PASS
