#!/bin/sh
# SPDX-License-Identifier: MIT
# The fault campaign of the hardware-emulator example: a test bench drives a
# slow emulator through a long initialisation, is checkpointed by Cocoon at
# the region of interest (ROI) and finishes as the golden run; then it is
# restarted N times (--seeds, default 8) from that checkpoint instead of
# being run N times from scratch: once on a second emulator instance (B)
# without a fault, which must give the golden result, and N-1 times on
# emulator A with FAULT_SEED=1..N-1 (libfault-plugin.so flips one bit of
# the design each).
#
#   sh examples/eda/campaign.sh [--seeds N] [--cocoon PATH] [--bin DIR]
#        [--init-cycles N] [--roi-cycles N] [--cycle-us U] [--work DIR] [--keep]
#
# Starts a license server (2 seats) and emulators A and B, and stops them at
# the end.  Exit 0 when the golden run and the emulator-B run pass and every
# restart gave a result (PASS = fault masked, FAIL = fault detected).
# `make demo-eda` runs it.  COCOON_COORD picks the coordinator's address.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
COCOON=$HERE/../../build/bin/cocoon
BIN=$HERE/../../build/examples/eda
SEEDS=8 INIT=125000 ROI=15000 CYCLE_US=20 WORK='' KEEP=0

usage() {
	sed -n '12,13p' "$0" | sed 's/^# *//'
	exit "$1"
}

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || case $1 in --keep | -h | --help) ;; *) usage 1 ;; esac
	case $1 in
	--seeds) SEEDS=$2 ;;
	--cocoon) COCOON=$2 ;;
	--bin) BIN=$2 ;;
	--init-cycles) INIT=$2 ;;
	--roi-cycles) ROI=$2 ;;
	--cycle-us) CYCLE_US=$2 ;;
	--work) WORK=$2 ;;
	--keep) KEEP=1 && shift && continue ;;
	-h | --help) usage 0 ;;
	*) usage 1 ;;
	esac
	shift 2
done
case $SEEDS in '' | *[!0-9]*) echo "campaign: --seeds wants a number" >&2 && exit 1 ;; esac
[ "$SEEDS" -ge 1 ] || { echo "campaign: --seeds must be at least 1" >&2 && exit 1; }
for f in "$COCOON" "$BIN/emulator" "$BIN/license-server" "$BIN/testbench"; do
	[ -x "$f" ] || { echo "campaign: no $f (make demo-eda builds it)" >&2 && exit 1; }
done
COCOON=$(cd "$(dirname "$COCOON")" && pwd)/$(basename "$COCOON")
BIN=$(cd "$BIN" && pwd)

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/cocoon-eda.XXXXXX") || exit 1
	[ "$KEEP" = 1 ] || REMOVE_WORK=1
fi
mkdir -p "$WORK" || exit 1
CKPT=$WORK/ckpt
rm -rf "$CKPT"
daemons=''
cleanup() {
	[ -n "$daemons" ] && kill $daemons 2>/dev/null
	[ -n "${REMOVE_WORK:-}" ] && rm -rf "$WORK"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "campaign: $*" >&2
	[ -n "${REMOVE_WORK:-}" ] && echo "campaign: logs kept in $WORK" >&2
	REMOVE_WORK=
	exit 1
}

now() { date +%s.%N; }
# elapsed FROM TO: seconds between two `now`s, 2 decimals
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# where BITS: the FLIP bit indices B1,B2,... as registers and memory words
# (design.h: registers first, then memory): r5.17,mem[0x1a2c].3
where() {
	echo "$1" | tr ',' '\n' | awk '$1 ~ /^[0-9]+$/ {
		b = $1 + 0
		if (b < 512)
			printf "%sr%d.%d", sep, int(b / 32), b % 32
		else
			printf "%smem[0x%04x].%d", sep, int((b - 512) / 32) * 4, b % 32
		sep = ","
	}'
}

# start NAME PROG ARGS...: run a daemon that prints "PORT <n>"; its
# address (127.0.0.1:<n>) in $addr.
start() {
	name=$1
	shift
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
	daemons="$daemons $!"
	n=0
	until grep -q '^PORT ' "$WORK/$name.out" 2>/dev/null; do
		kill -0 $! 2>/dev/null || die "$name did not start: $(cat "$WORK/$name.err")"
		n=$((n + 1))
		[ $n -le 200 ] || die "$name did not say its port in 10 s"
		sleep 0.05
	done
	addr=127.0.0.1:$(sed -n 's/^PORT //p' "$WORK/$name.out")
}

start license "$BIN/license-server" --port 0 --seats 2
LICENSE=$addr
start emulator-a "$BIN/emulator" --port 0 --cycle-us "$CYCLE_US"
EMU_A=$addr
start emulator-b "$BIN/emulator" --port 0 --cycle-us "$CYCLE_US"
EMU_B=$addr
echo "license server $LICENSE (2 seats), emulator A $EMU_A, emulator B $EMU_B"
echo "test bench: $INIT init cycles, then a ROI of $ROI cycles, at $CYCLE_US us per cycle"

# The golden run: stdout and stderr are a pipe (each line timestamped), so
# that every restart prints to its own output rather than into this log.
t0=$(now)
{
	EMU_ADDR=$EMU_A LICENSE_ADDR=$LICENSE "$COCOON" launch --ckpt-dir "$CKPT" \
		--plugin "$BIN/libemu-plugin.so" --plugin "$BIN/libfault-plugin.so" \
		--plugin "$BIN/liblicense-plugin.so" -- \
		"$BIN/testbench" --init-cycles "$INIT" --roi-cycles "$ROI" </dev/null 2>&1
	echo "exit=$?"
} | while IFS= read -r line; do echo "$(now) $line"; done >"$WORK/golden.log"
t_golden=$(elapsed "$t0" "$(tail -n 1 "$WORK/golden.log" | cut -d' ' -f1)")
t_roi=$(grep ' ROI reached at cycle ' "$WORK/golden.log" | cut -d' ' -f1)
[ -n "$t_roi" ] && t_roi=$(elapsed "$t0" "$t_roi")
golden=$(grep ' RESULT ' "$WORK/golden.log" | cut -d' ' -f2-)
case $golden in
"RESULT PASS "*) ;;
*) die "the golden run did not pass: $(cut -d' ' -f2- "$WORK/golden.log")" ;;
esac
[ -n "$t_roi" ] && [ -d "$CKPT/gen-000001" ] ||
	die "no checkpoint at the ROI: $(cut -d' ' -f2- "$WORK/golden.log")"
echo "golden run: $golden, $t_golden s (ROI reached after $t_roi s, checkpoint taken there)"
echo

# The experiments: restart 1 on emulator B without a fault, the others with
# FAULT_SEED=1..N-1 on emulator A.
printf '%-4s %-4s %-5s %-34s %-16s %s\n' run emu seed "faults (register/word.bit)" outcome seconds
t_restarts=0 detected=0 masked=0 status=0 on_b="did not give"
k=1
while [ $k -le "$SEEDS" ]; do
	if [ $k = 1 ]; then
		emu=B seed=- set="--setenv EMU_ADDR=$EMU_B"
	else
		emu=A seed=$((k - 1)) set="--setenv FAULT_SEED=$((k - 1))"
	fi
	t0=$(now)
	# shellcheck disable=SC2086 # $set is two words
	"$COCOON" restart --ckpt-dir "$CKPT" $set >"$WORK/run-$k.out" 2>"$WORK/run-$k.err" </dev/null
	rc=$?
	t=$(elapsed "$t0" "$(now)")
	t_restarts=$(awk -v a="$t_restarts" -v b="$t" 'BEGIN { printf "%.2f", a + b }')
	result=$(cat "$WORK/run-$k.out" "$WORK/run-$k.err" | grep '^RESULT ')
	bits=$(cat "$WORK/run-$k.out" "$WORK/run-$k.err" | sed -n 's/^fault: injected .* bits=//p')
	faults=$(where "$bits")
	if [ $k = 1 ]; then
		faults=none
		if [ $rc = 0 ] && [ "$result" = "$golden" ]; then
			outcome="PASS = golden" on_b=gave
		else
			outcome="not golden!" status=1
		fi
	else
		case $rc:$result in
		0:"RESULT PASS "*) outcome="PASS = masked" masked=$((masked + 1)) ;;
		3:"RESULT FAIL "*) outcome="FAIL = detected" detected=$((detected + 1)) ;;
		*) outcome="restart failed" status=1 ;;
		esac
	fi
	printf '%-4s %-4s %-5s %-34s %-16s %s\n' "$k" "$emu" "$seed" "${faults:-?}" "$outcome" "$t"
	if [ "$outcome" = "restart failed" ] || [ "$outcome" = "not golden!" ]; then
		echo "    exit $rc: $(cat "$WORK/run-$k.out" "$WORK/run-$k.err" | tail -n 3)"
	fi
	k=$((k + 1))
done

echo
awk -v n="$SEEDS" -v g="$t_golden" -v r="$t_restarts" -v roi="$t_roi" \
	-v det="$detected" -v msk="$masked" -v on_b="$on_b" 'BEGIN {
	printf "faults: %d detected, %d masked; emulator B %s the golden result\n", det, msk, on_b
	printf "%d experiments by restart from the ROI: %.2f s (%.2f s each)\n", n, r, r / n
	printf "the same %d experiments from scratch:    %.2f s (%d x %.2f s)\n", n, n * g, n, g
	printf "campaign with Cocoon (golden run + restarts): %.2f s, without: %.2f s\n",
	       g + r, (n + 1) * g
	printf "time saved: %.2f s (%.0f%%); the %.2f s to reach the ROI were spent once\n",
	       n * g - r, 100 * (n * g - r) / ((n + 1) * g), roi
}'
[ $status = 0 ] || die "some restarts failed or gave a wrong result (logs in $WORK)"
