#!/bin/sh
# SPDX-License-Identifier: MIT
# The part shared by the scenario scripts tests/cr/pipeline.sh, bg_job.sh,
# python_tree.sh, tcp_server.sh and tree20.sh: start a computation, checkpoint
# it, kill -9 all its processes, restart it; again from the restarted
# computation; then check it finishes with the right result.
#
# A script sets T (its scratch directory, already created), NPROC (how many
# processes the computation has), P1 and P2 (the progress at which to take the
# first and the second checkpoint), and defines
#   progress           prints how far the computation has gone (a number),
#   start_computation  starts it with `start ARGV...` (or skips: exit 77),
#   check_result WHAT  fails unless the computation wrote the right result;
# then sources this file and calls run_scenario, which prints PASS or fails.
# NATIVE=1 runs the computation without cocoon (validates the test).
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
# shellcheck source=SCRIPTDIR/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
NATIVE=${NATIVE:-0}
D=$T/ckpt
pids=   # the roots started here (launch, restarts); cleanup kills their trees
passed=0
START=$(date +%s)
LIMIT=40 # seconds for the whole script: no wait goes past it

log() { echo "$(($(date +%s) - START))s $*"; }
coc() { timeout 15 "$COCOON" "$@"; }

# wait_for COND SECS: poll COND every 0.05 s; false after SECS or past LIMIT
# (this replaces common.sh's wait_for: no wait may run past LIMIT here).
wait_for() {
	n=0
	while ! eval "$1"; do
		n=$((n + 1))
		[ $n -gt $(($2 * 20)) ] && return 1
		[ $(($(date +%s) - START)) -ge $LIMIT ] && return 1
		sleep 0.05
	done
	return 0
}

# alive PID...: those that still run (not gone, not zombies).
alive() {
	for p; do
		s=$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null) &&
			[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ] && echo "$p"
	done
	return 0
}

# proc_tree PID...: these processes and all their descendants, live ones only.
proc_tree() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" '
		{ pid = $1; s = $0; sub(/.*\) /, "", s); split(s, f, " "); st[pid] = f[1]; pp[pid] = f[2] }
		END {
			n = split(roots, r, " ")
			for (i = 1; i <= n; i++) want[r[i]] = 1
			do {
				more = 0
				for (p in pp)
					if (!(p in want) && (pp[p] in want)) { want[p] = 1; more = 1 }
			} while (more)
			for (p in want)
				if ((p in st) && st[p] != "Z" && st[p] != "X") print p
		}'
}

# procs: "vpid pid state restarted" of each process `cocoon status --json` lists.
procs() {
	coc status --json 2>/dev/null | tr -d ' \n\t' | sed 's/.*"processes":\[//' | tr '}' '\n' |
		awk -F, '{
			v = p = s = r = ""
			for (i = 1; i <= NF; i++) {
				k = $i; sub(/:.*/, "", k); gsub(/[{"]/, "", k)
				x = $i; sub(/^[^:]*:/, "", x); gsub(/"/, "", x)
				if (k == "vpid") v = x; else if (k == "pid") p = x; else if (k == "state") s = x
				else if (k == "restarted") r = x
			}
			if (v != "" && p != "") print v, p, s, r
		}'
}

# start ARGV...: run the computation in the background, natively or under
# cocoon launch (which execs it: $! is the root's pid).
start() {
	log "start: $1 ($# args)"
	if [ "$NATIVE" = 1 ]; then
		"$@" >"$T/root.out" 2>"$T/root.err" </dev/null &
	else
		"$COCOON" launch --ckpt-dir "$D" -- "$@" >"$T/root.out" 2>"$T/root.err" </dev/null &
	fi
	root=$!
	pids="$pids $root"
	n_restart=0
}

# diag: the end of the restart's and of the computation's stderr.
diag() {
	for f in "$T/restart$n_restart.err" "$T/root.err"; do
		[ -s "$f" ] && printf ' [%s: %s]' "${f##*/}" "$(tail -c 300 "$f" | tr '\n' ' ')"
	done
	return 0
}

# ended WHAT: fail because the root (launch or restart) has ended.
ended() {
	wait $root
	fail "$1 (exit status $?);$(diag)"
}

# state_ok MIN: the computation has NPROC live processes (under cocoon: all
# listed as running), and its progress has reached MIN.
state_ok() {
	[ -n "$(alive $root)" ] || ended "$what: the computation ended early"
	[ "$(progress)" -ge "$1" ] 2>/dev/null || return 1
	[ "$(proc_tree $root | wc -l)" -eq $NPROC ] || return 1
	[ "$NATIVE" = 1 ] && return 0
	[ "$(procs | grep -c ' running ')" -eq $NPROC ]
}

wait_state() { # MIN WHAT
	what=$2
	wait_for "state_ok $1" 25 ||
		fail "$what: want progress $1 with $NPROC processes, have progress $(progress)," \
			"$(proc_tree $root | wc -l) processes, status: $(procs | tr '\n' ';')"
	log "$what: progress $(progress), $NPROC processes"
}

# check_joined WHAT: every live process of the root's tree is known to cocoon.
check_joined() {
	known=" $(procs | awk '{print $2}' | tr '\n' ' ') "
	for p in $(proc_tree $root); do
		case $known in
		*" $p "*) ;;
		*) fail "$1: process $p ($(cat /proc/$p/comm 2>/dev/null)) is not in cocoon status: $known" ;;
		esac
	done
}

checkpoint() { # GEN
	pre=$(progress)
	log "checkpoint $1 at progress $pre"
	coc checkpoint >"$T/ckpt$1.out" 2>"$T/ckpt$1.err" ||
		fail "checkpoint $1 failed (exit status $?, 124: no answer in 15 s): $(head -c 500 "$T/ckpt$1.err")"
	[ "$(head -n 1 "$T/ckpt$1.out")" = "generation $1" ] ||
		fail "checkpoint $1 printed '$(head -n 1 "$T/ckpt$1.out")', want 'generation $1'"
	want=$(procs | awk '{print $1}')
	[ "$(echo $want | wc -w)" -eq $NPROC ] ||
		fail "checkpoint $1: status lists $(echo $want | wc -w) processes, want $NPROC"
}

# kill_all: kill -9 every process of the computation at once (all that
# cocoon status lists, the root, their descendants); wait until all are gone.
kill_all() {
	victims=$(proc_tree $root $(procs | awk '{print $2}'))
	log "kill -9 $(echo $victims)"
	# Stop them all first: one that runs on while its peers die would see
	# resets and broken pipes that have nothing to do with checkpointing.
	kill -STOP $victims 2>/dev/null
	kill -9 $victims 2>/dev/null
	wait_for '[ -z "$(alive $victims)" ]' 10 || fail "still alive after kill -9: $(alive $victims)"
	wait $root 2>/dev/null
}

all_running() {
	[ -n "$(alive $root)" ] || ended "restart $n_restart ended before all its processes were running"
	s=$(procs)
	for v in $want; do
		echo "$s" | grep -q "^$v [0-9]* running true\$" || return 1
	done
}

restart() { # N: cocoon restart in the background, wait until every process runs
	n_restart=$1
	log "restart $1"
	"$COCOON" restart --ckpt-dir "$D" >"$T/restart$1.out" 2>"$T/restart$1.err" </dev/null &
	root=$!
	pids="$pids $root"
	wait_for all_running 20 ||
		fail "restart $1: want vpids $(echo $want) running and restarted," \
			"status: $(procs | tr '\n' ';');$(diag)"
	# Resumed, not started over: the progress files are rewritten from 0 by a new run.
	[ "$(progress)" -ge "$pre" ] ||
		fail "restart $1: progress $(progress), less than $pre before the checkpoint"
	log "restart $1: all $NPROC processes running, progress $(progress)"
}

finish() { # WHAT: the root ends with status 0
	wait_for '[ -z "$(alive $root)" ]' 30 || fail "$1: the computation did not finish: progress $(progress)"
	wait $root
	rc=$?
	[ $rc -eq 0 ] || fail "$1: the computation exited $rc;$(diag)"
	log "$1: finished"
}

# check_stderr WHAT: the computation wrote nothing on stderr (but cocoon's own lines).
check_stderr() {
	grep -v '^cocoon:' "$T/root.err" >"$T/root.err.own"
	[ ! -s "$T/root.err.own" ] || fail "$1: the computation wrote on stderr: $(head -c 300 "$T/root.err.own")"
}

cleanup() {
	victims=$(proc_tree $pids)
	[ "$NATIVE" = 1 ] || [ $passed = 1 ] || timeout 5 "$COCOON" kill >/dev/null 2>&1
	[ -n "$victims" ] && kill -9 $victims 2>/dev/null
	return 0
}

# run_scenario: launch, checkpoint, kill, restart, twice; PASS or fail.
run_scenario() {
	trap cleanup EXIT
	start_computation
	if [ "$NATIVE" = 1 ]; then
		wait_state $P1 "native run"
		finish "native run"
		check_result "native run"
		check_stderr "native run"
	else
		wait_state $P1 "launch"
		check_joined "launch"
		checkpoint 1
		kill_all
		restart 1
		wait_state $P2 "after restart 1"
		check_joined "after restart 1"
		checkpoint 2
		kill_all
		restart 2
		finish "after restart 2"
		check_result "after restart 2"
		check_stderr "after restart 2"
	fi
	passed=1
	echo PASS
}
