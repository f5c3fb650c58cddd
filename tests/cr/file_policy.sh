#!/bin/sh
# SPDX-License-Identifier: MIT
# Per-file policy: save.txt (--file-policy PATTERN=save) and api.txt
# (cocoon_file_policy from the program) come back with the contents they had
# at the checkpoint although they were changed since; reopen.txt (the
# default) shows the change; leave.txt (--file-policy ...=leave) is not
# restored (/dev/null).  Offsets are kept.  Twice, the second time from a
# checkpoint taken after the restart.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/file_policy
mkdir -p "$T/d"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
APP=$(cd "$(dirname "$COCOON")/.." && pwd)/tests/apps/files
[ -x "$APP" ] || fail "no $APP"

# report N PID: what the program sees now, without the "report" line
report() {
	kill -USR1 "$2"
	wait_for "grep -q '^report $1$' '$T/out'" 20 || fail "no report $1: $(cat "$T/out" "$T/err")"
	sed -n "/^report $(($1 - 1))\$/,/^report $1\$/p" "$T/out" | grep -v '^report'
}

expect() { # N PID WANT
	got=$(report "$1" "$2")
	[ "$got" = "$3" ] || fail "report $1: want
$3
got
$got"
}

change_files() {
	for f in save reopen leave api; do
		printf "changed %s" $f >"$T/d/$f.txt"
	done
}

: >"$T/out"
echo "report 0" >"$T/out"
CRTEST_READY=$T/ready "$COCOON" launch --ckpt-dir "$T/ckpt" --file-policy "$T/d/save.txt=save" \
	--file-policy "*/leave.txt=leave" -- "$APP" "$T/d" >>"$T/out" 2>"$T/err" </dev/null &
P=$!
pids=$P
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/err")"
original="save.txt 17 original save.txt
reopen.txt 19 original reopen.txt
leave.txt 18 original leave.txt
api.txt 16 original api.txt"
expect 1 $P "$original"
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint: $(cat "$T/ckpt.out")"
change_files
kill_all
wait $P 2>/dev/null

restored="save.txt 17 original save.txt
reopen.txt 19 changed reopen
leave.txt 0 
api.txt 16 original api.txt"
for round in 2 3; do
	"$COCOON" restart --ckpt-dir "$T/ckpt" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
	rpid=$!
	pids="$pids $rpid"
	wait_for "\"$COCOON\" status | grep -q 'running'" 20 || fail "no restart: $(cat "$T/restart.err")"
	real=$(first_pid)
	expect $round "$real" "$restored"
	[ $round = 3 ] && break
	# again from a checkpoint of the restarted program; the files change again
	"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint after restart: $(cat "$T/ckpt.out")"
	change_files
	kill_all
	wait $rpid 2>/dev/null
done
kill -TERM "$real"
wait $rpid
rc=$?
[ $rc -eq 0 ] && tail -1 "$T/out" | grep -qx PASS || fail "program after restart: rc $rc, $(tail -3 "$T/out")"
echo PASS
