#!/bin/sh
# SPDX-License-Identifier: MIT
# Helpers shared by the scripts in tests/cr (and scenario.sh), which source it:
#   . "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
# Plain POSIX sh; defines functions only.

# fail MESSAGE...: print "FAIL: MESSAGE" and end the script with status 1.
fail() {
	echo "FAIL: $*"
	exit 1
}

# need COMMAND [WHAT]: end the script as skipped (77) when COMMAND is not
# installed; WHAT names it in the message (default: COMMAND).
need() {
	command -v "$1" >/dev/null || {
		echo "SKIP: ${2:-$1} is not installed"
		exit 77
	}
}

# wait_for COND SECS: evaluate COND every 0.1 s until it holds (true), or
# false once SECS seconds have passed.
wait_for() {
	n=0
	while ! eval "$1"; do
		n=$((n + 1))
		[ $n -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}

# one_error CASE FILE: FILE holds exactly one line and it starts with "cocoon:".
one_error() {
	[ "$(wc -l <"$2")" -eq 1 ] && [ "$(head -c 7 "$2")" = "cocoon:" ] ||
		fail "$1: want one 'cocoon:' line on stderr, got: $(head -c 600 "$2")"
}

# coord_pids: the real pids of the processes the coordinator lists.
coord_pids() {
	"$COCOON" status --json | tr -d ' \n' | grep -o '"pid":[0-9]*' | cut -d: -f2
}

# first_pid: the real pid of the first process the coordinator lists.
first_pid() {
	coord_pids | head -1
}

# kill_all: kill -9 every process of the computation ($COCOON status) at
# once (stopped first, so none reacts to another's death), and wait until
# none runs any more (zombies are fine: their parents are gone too) and the
# coordinator has seen them go (so that a restart is not taken for them).
kill_all() {
	victims=$(coord_pids)
	[ -n "$victims" ] || fail "no processes to kill"
	kill -STOP $victims
	kill -9 $victims
	wait_for all_gone 10 || fail "still alive after kill -9: $victims"
	wait_for '[ -z "$(coord_pids)" ]' 10 || fail "the coordinator still lists $(coord_pids)"
}

all_gone() {
	for p in $victims; do
		st=$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null) && [ "$st" != Z ] && return 1
	done
	return 0
}

# For scripts driving tests/scenario/dirty.c, whose output is in $T/out:
# launch_dirty [LAUNCH_FLAG...]: cocoon launch it in the background with
# images in $D and wait until it is ready; its pid is added to $pids.
launch_dirty() {
	app=$(cd "$(dirname "$COCOON")/.." && pwd)/tests/apps/dirty
	[ -x "$app" ] || fail "no $app"
	rm -f "$T/ready"
	CRTEST_READY=$T/ready "$COCOON" launch --ckpt-dir "$D" "$@" -- "$app" \
		>>"$T/out" 2>"$T/err" </dev/null &
	pids="${pids:-} $!"
	wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/err")"
}


# restart_dirty [RESTART_ARG...]: cocoon restart from $D in the background
# ($rpid, added to $pids) and wait until the coordinator lists it running.
restart_dirty() {
	"$COCOON" restart --ckpt-dir "$D" "$@" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
	rpid=$!
	pids="${pids:-} $rpid"
	wait_for "\"$COCOON\" status | grep -q running" 20 || fail "no restart: $(cat "$T/restart.err")"
}

# dirty_passes: SIGTERM ends the restarted dirty.c ($rpid), which must
# print PASS and exit 0.
dirty_passes() {
	kill -TERM "$(first_pid)"
	wait $rpid
	rc=$?
	[ $rc -eq 0 ] && tail -1 "$T/out" | grep -qx PASS || fail "program: rc $rc, $(tail -2 "$T/out")"
}

# signal SIG PATTERN COUNT: send SIG to the computation's first process and
# wait until COUNT lines of $T/out match PATTERN.
signal() {
	kill -"$1" "$(first_pid)"
	wait_for "[ \$(grep -c '$2' '$T/out') -ge $3 ]" 20 || fail "no '$2' #$3: $(tail -3 "$T/out")"
}

# verified N: SIGUSR2 makes dirty.c checksum its memory; its N-th "verify"
# line must say ok.
verified() {
	signal USR2 "^verify" "$1"
	tail -1 "$T/out" | grep -qx "verify ok" || fail "memory, verify $1: $(tail -2 "$T/out")"
}
