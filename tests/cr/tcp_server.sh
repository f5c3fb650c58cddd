#!/bin/sh
# SPDX-License-Identifier: MIT
# A TCP server and its clients restart together, with the data in flight:
# tcp_echo (tests/scenario/tcp_echo.c, compiled here) listens on 127.0.0.1,
# forks an echo server and 4 clients; each client sends 2000 numbered 64-byte
# messages (one every ~1.5 ms, 16 unanswered at any time, so their echoes sit
# in its receive queue) and checks every echo: no loss, no duplication, same
# order.  The parent waits for all and writes the verdict.  Checkpoint when
# every client has 400 echoes, kill -9 all 6 processes, restart; again at
# 1000 from the restarted computation; the verdict must be the success line.
# Loopback only.  NATIVE=1 runs it without cocoon (validates the test).
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD, SCENARIO_SRC.
set -u
T=${TMPDIR:-/tmp}/tcp_server
rm -rf "$T" && mkdir -p "$T" || {
	echo "FAIL: cannot create $T"
	exit 1
}
SRC=${SCENARIO_SRC:-$(dirname "$0")/../scenario}/tcp_echo.c
CLIENTS=4
N=2000
NPROC=6 # the parent, the server, 4 clients
P1=400  # checkpoint when every client has checked this many echoes,
P2=1000 # and after the first restart, this many

# The fewest echoes checked by a client (0 until all have started).
progress() {
	[ "$(ls "$T"/progress.* 2>/dev/null | wc -l)" -eq $CLIENTS ] || {
		echo 0
		return
	}
	cat "$T"/progress.* 2>/dev/null | sort -n | head -n 1 | tr -d ' '
}

start_computation() {
	command -v cc >/dev/null || {
		echo "SKIP: no C compiler"
		exit 77
	}
	[ -r "$SRC" ] || fail "no $SRC"
	cc -O2 -Wall -Wextra -Werror -o "$T/tcp_echo" "$SRC" 2>"$T/cc.err" ||
		fail "cannot compile $SRC: $(head -c 500 "$T/cc.err")"
	start "$T/tcp_echo" "$T" $CLIENTS $N
}

check_result() {
	want="clients=$CLIENTS messages=$N bytes=$((CLIENTS * N * 64)) errors=0"
	got=$(cat "$T/result" 2>/dev/null)
	[ "$got" = "$want" ] || fail "$1: verdict '$got', want '$want';$(diag)"
	log "$1: $got"
}

# The rest (launch, checkpoints, kill -9, restarts, checks) is common.
# shellcheck source=SCRIPTDIR/../scenario/scenario.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/scenario.sh"
run_scenario
