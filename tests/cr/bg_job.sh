#!/bin/sh
# SPDX-License-Identifier: MIT
# A bash script with a background job restarts with its job table intact:
# it starts `long_task &` (a subshell: 300 steps of a hash, then exit 5),
# does 250 steps of its own work in the foreground, then `wait $!` and writes
# "bg=<job's status> fg=<its hash> bghash=<job's hash> total=<expr ...>" (expr:
# a fork and exec after the restarts).  Both hold one pipe (read -t on it is
# their sleep).  Checkpoint while both run (job at step 60, foreground at
# step 50), kill -9 both, restart; again at steps 150/125 from the restarted
# computation; the result must be the one computed here by construction.
# NATIVE=1 runs the same script without cocoon (validates the test).
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD, SCENARIO_SRC.
set -u
T=${TMPDIR:-/tmp}/bg_job
rm -rf "$T" && mkdir -p "$T" || {
	echo "FAIL: cannot create $T"
	exit 1
}
NPROC=2 # bash and its background job
P1=50   # checkpoint when both have gone this far (in foreground steps),
P2=125  # and after the first restart, this far

SCRIPT='
out=$1
exec 9<> <(:) # a pipe this script holds: read -t on it sleeps without a child
long_task() {
	local i h=7
	for ((i = 1; i <= 300; i++)); do
		h=$(((h * 31 + i) % 1000003))
		echo "$i" >>"$out/bg.progress"
		read -t 0.01 -u 9
	done
	echo "$h" >"$out/bg.hash"
	exit 5
}
long_task &
job=$!
f=0
for ((i = 1; i <= 250; i++)); do
	f=$(((f * 17 + i * i) % 999983))
	echo "$i" >>"$out/fg.progress"
	read -t 0.012 -u 9
done
wait "$job"
bg=$?
read -r bh <"$out/bg.hash"
echo "bg=$bg fg=$f bghash=$bh total=$(expr "$bg" + "$f")" >"$out/result"
'

# Progress in foreground steps: the smaller of the two (the job's 300 steps
# scaled to the foreground's 250), so both have gone at least that far.
progress() {
	b=$(awk 'END { print $1 + 0 }' "$T/bg.progress" 2>/dev/null)
	f=$(awk 'END { print $1 + 0 }' "$T/fg.progress" 2>/dev/null)
	b=$((${b:-0} * 250 / 300))
	f=${f:-0}
	[ "$b" -lt "$f" ] && echo "$b" || echo "$f"
}

start_computation() {
	command -v bash >/dev/null || {
		echo "SKIP: bash is not installed"
		exit 77
	}
	start bash -c "$SCRIPT" bg_job "$T"
}

check_result() {
	want=$(awk 'BEGIN {
		h = 7; for (i = 1; i <= 300; i++) h = (h * 31 + i) % 1000003
		f = 0; for (i = 1; i <= 250; i++) f = (f * 17 + i * i) % 999983
		printf "bg=5 fg=%d bghash=%d total=%d\n", f, h, f + 5
	}')
	got=$(cat "$T/result" 2>/dev/null)
	[ "$got" = "$want" ] || fail "$1: result '$got', want '$want'"
	log "$1: $got"
}

# The rest (launch, checkpoints, kill -9, restarts, checks) is common.
# shellcheck source=SCRIPTDIR/../scenario/scenario.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/scenario.sh"
run_scenario
