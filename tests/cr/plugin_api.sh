#!/bin/sh
# SPDX-License-Identifier: MIT
# The plugin API between processes (tests/plugins/probe.c): a parent and
# its child share one connection to a server outside the computation.  The
# plugin marks it external; at each checkpoint one elected process tells the
# server SAVE, the others learn who through a barrier and the key-value
# store; at restart every process reconnects over Cocoon's /dev/null
# placeholder, one elected process says RESTORED, the others wait for its
# key.  Each process's threads stay stopped until the server's greeting on
# its new connection has come (cocoon_delay_resume); a server that never
# greets fails the restart with the plugin's reason, and the checkpoint
# stays usable.  getpid() through the plugin's wrapper shows the virtual pid.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
need python3
T=$TMPDIR/plugin_api
mkdir -p "$T"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
BUILD=$(cd "$(dirname "$COCOON")/.." && pwd)
PLUGIN=$BUILD/tests/plugins/libprobe.so
APP=$BUILD/tests/apps/shared_conn
[ -r "$PLUGIN" ] && [ -x "$APP" ] || fail "no $PLUGIN or $APP"

# The server: logs every line it receives, greets each connection (bytes
# the program never reads: Cocoon must not try to save or replay them).
python3 -c '
import socket, sys, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
def serve(c):
    if not os.path.exists(sys.argv[1] + ".silent"):
        c.sendall(b"hello\n")
    for line in c.makefile():
        log.write(line)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$T/port" "$T/server.log" &
pids=$!
wait_for "[ -s '$T/port' ]" 10 || fail "server did not start"
PROBE_PORT=$(cat "$T/port")
export PROBE_PORT
: >"$T/server.log"

count() { grep -c "^$1 " "$T/server.log"; }

PROBE_PORT=$PROBE_PORT CRTEST_READY=$T/ready "$COCOON" launch --ckpt-dir "$T/ckpt" \
	--plugin "$PLUGIN" -- "$APP" >"$T/launch.out" 2>>"$T/launch.err" </dev/null &
pid=$!
pids="$pids $pid"
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/launch.err")"
for g in 1 2; do
	"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint $g: $(cat "$T/ckpt.out")"
	wait_for "[ \$(count SAVE) -eq $g ]" 5 ||
		fail "want $g SAVE from one elected process: $(cat "$T/server.log")"
done
leaders=$(grep -c "checkpoint leader" "$T/launch.err")
[ "$leaders" -eq 4 ] || fail "both processes learn the leader at both checkpoints: $(cat "$T/launch.err")"
[ "$(grep "checkpoint leader" "$T/launch.err" | awk '{print $NF}' | sort -u | wc -l)" -le 2 ] ||
	fail "processes disagree on the leader: $(cat "$T/launch.err")"
vpids=$(grep "checkpoint leader" "$T/launch.err" | awk '{print $2}' | tr -d : | sort -u | tr '\n' ' ')
kill_all
wait $pid 2>/dev/null

# stderr is opened O_APPEND: what the restored processes write adds up
restart() { # $1: round, $2: RESTORED lines the server has seen by then, $3: "restart leader" lines
	"$COCOON" restart --ckpt-dir "$T/ckpt" >"$T/restart$1.out" 2>"$T/restart$1.err" </dev/null &
	rpid=$!
	pids="$pids $rpid"
	wait_for "[ \$(grep -c 'restart leader' '$T/launch.err') -eq $3 ]" 20 ||
		fail "round $1: both processes report the restart: $(cat "$T/launch.err" "$T/restart$1.err")"
	# the server logs from its own threads: wait for the line, then check
	# that no second one comes with it
	wait_for "[ \$(count RESTORED) -ge $2 ]" 5 &&
		[ "$(grep -c "restart leader" "$T/launch.err")" -eq $3 ] &&
		[ "$(count RESTORED)" -eq "$2" ] ||
		fail "round $1: want one RESTORED per restart: $(cat "$T/server.log")"
	# the elected one's vpid, the same in both; getpid through the plugin
	# is the virtual pid from before the checkpoint
	who=$(grep "RESTORED" "$T/server.log" | tail -1 | awk '{print $2}')
	for v in $vpids; do
		grep "restart leader" "$T/launch.err" | tail -2 |
			grep -q "^probe $v: restart leader $who, getpid $v, real [0-9]*, dir set$" ||
			fail "round $1: process $v: $(cat "$T/launch.err")"
		wait_for "[ \$(grep -c '^probe $v: settled: hello' '$T/launch.err') -eq $1 ]" 10 ||
			fail "round $1: process $v ran before its connection settled: $(cat "$T/launch.err")"
	done
}
restart 1 1 2
# again after the restart: a checkpoint, a kill, a restart
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint after restart: $(cat "$T/ckpt.out")"
wait_for "[ \$(count SAVE) -eq 3 ]" 5 || fail "want a third SAVE: $(cat "$T/server.log")"
kill_all
wait $rpid 2>/dev/null

# a server that does not greet: the restart fails with the plugin's reason
touch "$T/port.silent"
"$COCOON" restart --ckpt-dir "$T/ckpt" >"$T/silent.out" 2>"$T/silent.err" </dev/null
rc=$?
[ $rc -ne 0 ] || fail "restart succeeded without the greeting"
grep -q "probe: the server sent no greeting" "$T/silent.err" ||
	fail "restart without greeting: $(cat "$T/silent.err")"
wait_for '[ -z "$(coord_pids)" ]' 10 ||
	fail "processes left after the failed restart"
rm "$T/port.silent"
# its elected process said RESTORED before giving up
wait_for "[ \$(count RESTORED) -eq 2 ]" 5 || fail "failed restart: $(cat "$T/server.log")"
restart 2 3 6 # the failed one's processes met at the barrier too
kill -TERM $rpid
wait $rpid
rc=$?
[ $rc -eq 0 ] && grep -qx PASS "$T/launch.out" || fail "program after restart: rc $rc, $(cat "$T/launch.out")"
echo PASS
