#!/bin/sh
# SPDX-License-Identifier: MIT
# The hardware-emulator scenario (examples/eda): a test bench under Cocoon
# with the emu, fault and license plugins drives an emulator and holds a
# license seat, both daemons outside the computation, and checkpoints itself
# at its region of interest (ROI).  Checked here:
# - the golden run passes and leaves the emulator's state beside the image;
# - a restart without FAULT_SEED gives the same RESULT line;
# - a restart with FAULT_SEED=2 FAULT_COUNT=4 (detected, by the design's
#   model) reports its 4 flips and FAILs;
# - a restart with --setenv EMU_ADDR=<emulator B> gives the same result;
# - a checkpoint of a restarted test bench in the middle of its ROI, kill
#   -9, a restart from that generation: same result;
# - every seat taken: the restart fails with one "license: no seat free"
#   line, and works once a seat is free again;
# - the emulator down: the restart fails with one "emu: cannot reach the
#   emulator" line.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/eda_scenario
D=$T/ckpt
rm -rf "$T" && mkdir -p "$T" || fail "cannot create $T"
EDA=$(cd "$(dirname "$COCOON")/.." && pwd)/examples/eda
for f in emulator license-server lic-hold testbench libemu-plugin.so libfault-plugin.so \
	liblicense-plugin.so; do
	[ -e "$EDA/$f" ] || fail "no $EDA/$f (make tests builds examples/eda)"
done
# 0.5 s to the ROI, 1 s of ROI at 20 us per cycle.
TB_ARGS="--init-cycles 25000 --roi-cycles 50000"

daemons='' prog=''
cleanup() {
	[ -n "$prog" ] && kill -9 $prog 2>/dev/null
	[ -n "$daemons" ] && kill -9 $daemons 2>/dev/null
	timeout 5 "$COCOON" kill >/dev/null 2>&1
	return 0
}
trap cleanup EXIT

# start NAME PROG ARGS...: a daemon that prints "PORT <n>"; its address in
# $addr, its pid in $dpid.
start() {
	name=$1
	shift
	"$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	dpid=$!
	daemons="$daemons $dpid"
	wait_for "grep -q '^PORT ' '$T/$name.out' 2>/dev/null" 10 ||
		fail "$name did not start: $(cat "$T/$name.err")"
	addr=127.0.0.1:$(sed -n 's/^PORT //p' "$T/$name.out")
}

# restart NAME [ARGS...]: `cocoon restart` from $D until it ends; its exit
# status in $rc, what it and the test bench printed in $out.  The test
# bench's stdout and stderr were one pipe at the checkpoint: they come back
# as the restart command's stdout.
restart() {
	name=$1
	shift
	("$COCOON" restart --ckpt-dir "$D" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	 echo $? >"$T/$name.rc") &
	wait_for "[ -s '$T/$name.rc' ]" 30 ||
		fail "$name: the restart did not end in 30 s: $(cat "$T/$name.out" "$T/$name.err")"
	wait $!
	rc=$(cat "$T/$name.rc")
	out=$(cat "$T/$name.out" "$T/$name.err")
}

# same_result NAME: the restart passed with the golden RESULT line.
same_result() {
	[ "$rc" = 0 ] && [ "$(echo "$out" | grep '^RESULT ')" = "$golden" ] ||
		fail "$1: exit $rc, want the golden '$golden': $out"
}

start license "$EDA/license-server" --port 0 --seats 2
LIC=$addr
start emulator-a "$EDA/emulator" --port 0
EMU_A=$addr
start emulator-b "$EDA/emulator" --port 0
EMU_B=$addr EMU_B_PID=$dpid

# The golden run.  Its stdout and stderr are a pipe, so that restarts print
# to their own stdout and not into this log.
( { EMU_ADDR=$EMU_A LICENSE_ADDR=$LIC "$COCOON" launch --ckpt-dir "$D" \
	--plugin "$EDA/libemu-plugin.so" --plugin "$EDA/libfault-plugin.so" \
	--plugin "$EDA/liblicense-plugin.so" -- "$EDA/testbench" $TB_ARGS 2>&1
	echo "exit=$?"; } | cat >"$T/golden.log" ) </dev/null &
wait_for "grep -q '^exit=' '$T/golden.log' 2>/dev/null" 30 ||
	fail "the golden run did not end: $(cat "$T/golden.log")"
wait $!
golden=$(grep '^RESULT ' "$T/golden.log")
grep -qx "ROI reached at cycle 25000" "$T/golden.log" && grep -qx "exit=0" "$T/golden.log" &&
	case $golden in "RESULT PASS cycle=75000 sum="*) true ;; *) false ;; esac ||
	fail "golden run: $(cat "$T/golden.log")"
[ -s "$D/gen-000001/emulator.state" ] || fail "no emulator state beside the image: $(ls -R "$D")"

restart plain
same_result "restart without a fault"
echo "$out" | grep -q '^fault:' && fail "a fault without FAULT_SEED: $out"

restart fault --setenv FAULT_SEED=2 --setenv FAULT_COUNT=4
[ "$rc" = 3 ] && echo "$out" | grep -q '^RESULT FAIL cycle=75000 expected=' ||
	fail "FAULT_SEED=2: exit $rc, want RESULT FAIL and exit 3: $out"
echo "$out" | grep -Eqx 'fault: injected 4 bit flip\(s\) seed=2 bits=[0-9]+,[0-9]+,[0-9]+,[0-9]+' ||
	fail "FAULT_SEED=2: no fault line for 4 flips: $out"

restart on-b --setenv EMU_ADDR="$EMU_B"
same_result "restart on emulator B"

# The emulator down.
kill -TERM $EMU_B_PID
wait $EMU_B_PID
restart emu-down --setenv EMU_ADDR="$EMU_B"
[ "$rc" != 0 ] || fail "restart with the emulator down succeeded: $out"
one_error "emulator down" "$T/emu-down.err"
grep -q "emu: cannot reach the emulator at $EMU_B: " "$T/emu-down.err" ||
	fail "emulator down: $(cat "$T/emu-down.err")"

# Every seat taken, then one free again.
start license-1 "$EDA/license-server" --port 0 --seats 1
LIC1=$addr
"$EDA/lic-hold" "$LIC1" another-user >"$T/hold.out" 2>"$T/hold.err" </dev/null &
holder=$!
daemons="$daemons $holder"
wait_for "grep -qx HELD '$T/hold.out' 2>/dev/null" 10 || fail "lic-hold: $(cat "$T/hold.err")"
restart no-seat --setenv LICENSE_ADDR="$LIC1"
[ "$rc" != 0 ] || fail "restart without a free seat succeeded: $out"
one_error "no seat" "$T/no-seat.err"
grep -q "license: no seat free for emu-run at $LIC1 (1/1 in use)" "$T/no-seat.err" ||
	fail "no seat: $(cat "$T/no-seat.err")"
kill -TERM $holder
wait $holder || fail "lic-hold did not give its seat back: $(cat "$T/hold.err")"
restart seat-free --setenv LICENSE_ADDR="$LIC1"
same_result "restart once a seat is free"

# A checkpoint in the middle of a restarted ROI, kill -9, restart from it.
# The test bench's stdout is a regular file then: the last restart writes
# its result there.
"$COCOON" restart --ckpt-dir "$D" >"$T/roi.out" 2>"$T/roi.err" </dev/null &
prog=$!
wait_for "grep -q 'restarted at the ROI' '$T/roi.out' '$T/roi.err'" 20 ||
	fail "restart for the second checkpoint: $(cat "$T/roi.out" "$T/roi.err")"
"$COCOON" checkpoint >"$T/ckpt2.out" 2>&1 || fail "checkpoint during the ROI: $(cat "$T/ckpt2.out")"
grep -q "generation 2" "$T/ckpt2.out" || fail "checkpoint during the ROI: $(cat "$T/ckpt2.out")"
grep -q '^RESULT' "$T/roi.out" && fail "the ROI ended before the checkpoint: make it longer"
[ -s "$D/gen-000002/emulator.state" ] || fail "no emulator state in generation 2: $(ls -R "$D")"
kill -9 $prog
wait $prog 2>/dev/null
prog=
restart gen2
out=$(cat "$T/roi.out" "$T/gen2.out" "$T/gen2.err")
[ "$(echo "$out" | grep -c '^RESULT ')" = 1 ] || fail "restart from generation 2: $out"
same_result "restart from a checkpoint in the ROI"
echo PASS
