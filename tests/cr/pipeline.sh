#!/bin/sh
# SPDX-License-Identifier: MIT
# A shell pipeline restarts whole, with the data inside its pipes:
#   bash -c 'producer | filter | consumer'
# producer (awk) writes 2000 numbered 198-byte lines at once, filter
# (grep --line-buffered) drops the numbers ending in 3 or 7, consumer (a bash
# subshell) takes one line every ~2 ms, checks the order and the padding,
# counts and sums, and writes the result at the end; bash then records the
# pipeline's exit statuses.  Both pipes are full (64 KiB each) and awk and
# grep are blocked writing when the checkpoint comes.  Checkpoint at line 400,
# kill -9 all 4 processes, restart; again at line 1000 from the restarted
# computation; the result must be the one computed here by construction.
# NATIVE=1 runs the same pipeline without cocoon (validates the test).
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD, SCENARIO_SRC.
set -u
T=${TMPDIR:-/tmp}/pipeline
rm -rf "$T" && mkdir -p "$T" || {
	echo "FAIL: cannot create $T"
	exit 1
}
N=2000
NPROC=4 # bash, awk, grep, the consumer subshell
P1=400  # checkpoint when the consumer has reached this line,
P2=1000 # and after the first restart, this one

PIPELINE='
out=$1 n=$2
consume() {
	exec 9<> <(:) # a pipe only this process holds: read -t on it sleeps without a child
	local count=0 sum=0 bytes=0 bad=0 prev=0 want i line
	local pad=$(printf "%0190d" 0)
	while IFS= read -r line; do
		i=$((10#${line%% *}))
		want=$((prev + 1))
		case $want in *[37]) want=$((want + 1)) ;; esac
		[ "$i" -eq "$want" ] && [ "${line#* }" = "$pad" ] || bad=$((bad + 1))
		prev=$i
		count=$((count + 1)) sum=$((sum + i)) bytes=$((bytes + ${#line} + 1))
		echo "$i" >>"$out/progress"
		read -t 0.002 -u 9
	done
	echo "count=$count sum=$sum bytes=$bytes bad=$bad last=$prev" >"$out/result"
}
awk -v n="$n" '\''BEGIN { pad = sprintf("%0190d", 0); for (i = 1; i <= n; i++) printf "%06d %s\n", i, pad }'\'' |
	grep --line-buffered -v "^[0-9]*[37] " | consume
echo "status=${PIPESTATUS[*]}" >>"$out/result"
'

progress() { awk 'END { print $1 + 0 }' "$T/progress" 2>/dev/null || echo 0; }

start_computation() {
	command -v bash >/dev/null || {
		echo "SKIP: bash is not installed"
		exit 77
	}
	start bash -c "$PIPELINE" pipeline "$T" "$N"
}

check_result() {
	want=$(awk -v n=$N 'BEGIN {
		for (i = 1; i <= n; i++) if (i % 10 != 3 && i % 10 != 7) { c++; s += i; last = i }
		printf "count=%d sum=%d bytes=%d bad=0 last=%d\nstatus=0 0 0\n", c, s, c * 198, last
	}')
	got=$(cat "$T/result" 2>/dev/null)
	[ "$got" = "$want" ] || fail "$1: result '$(echo $got)', want '$(echo $want)'"
	log "$1: $(echo $got)"
}

# The rest (launch, checkpoints, kill -9, restarts, checks) is common.
# shellcheck source=SCRIPTDIR/../scenario/scenario.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/scenario.sh"
run_scenario
