#!/bin/sh
# SPDX-License-Identifier: MIT
# A TCP connection to a server outside the computation comes back
# disconnected, and the program can connect again.  A tiny python3 echo
# server runs here, not under cocoon.  The program (python3 under cocoon
# launch) connects to it and checks an echo, then is ready; checkpoint,
# kill -9, restart.  After SIGTERM the old connection must give end of file
# or ECONNRESET on recv and EPIPE or ECONNRESET on send, at once (not hang,
# not another error), and a new connection to the server must echo.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/sock_external
D=$T/ckpt
rm -rf "$T" && mkdir -p "$T" || fail "cannot create $T"
server= prog=
cleanup() {
	[ -n "$prog" ] && kill -9 $prog 2>/dev/null
	[ -n "$server" ] && kill -9 $server 2>/dev/null
	timeout 5 "$COCOON" kill >/dev/null 2>&1
	return 0
}
trap cleanup EXIT

need python3

# The server: echoes every connection, one thread each; its port in $T/port.
python3 -c '
import socket, sys, threading
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0))
l.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % l.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def echo(c):
    while True:
        try:
            d = c.recv(4096)
        except OSError:
            break
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
' "$T/port" >"$T/server.out" 2>"$T/server.err" </dev/null &
server=$!
wait_for '[ -s "$T/port" ]' 10 || fail "the server did not start: $(cat "$T/server.err")"
PORT=$(cat "$T/port")

cat >"$T/prog.py" <<'PY'
import errno, signal, socket, sys
port, ready = int(sys.argv[1]), sys.argv[2]
done = []
signal.signal(signal.SIGTERM, lambda *x: done.append(1))
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"before")
assert s.recv(6) == b"before"
open(ready, "w").close()
while not done:
    signal.pause()
s.settimeout(3)
try:
    d = s.recv(10)
    if d != b"":
        print("FAIL: old connection: recv gave %r, want end of file or ECONNRESET" % d)
        sys.exit(1)
    how = "end of file"
except socket.timeout:
    print("FAIL: old connection: recv hangs (no data, no end of file, no error in 3 s)")
    sys.exit(1)
except OSError as e:
    if e.errno != errno.ECONNRESET:
        print("FAIL: old connection: recv: %s, want end of file or ECONNRESET" % e)
        sys.exit(1)
    how = "ECONNRESET"
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
try:
    for i in range(3):  # a reset may only come back on the second send
        s.send(b"after")
    print("FAIL: old connection: send works after the restart")
    sys.exit(1)
except OSError as e:
    if e.errno not in (errno.EPIPE, errno.ECONNRESET):
        print("FAIL: old connection: send: %s, want EPIPE or ECONNRESET" % e)
        sys.exit(1)
    how += ", send " + errno.errorcode[e.errno]
s.close()
n = socket.create_connection(("127.0.0.1", port), timeout=3)
n.sendall(b"again")
if n.recv(5) != b"again":
    print("FAIL: new connection does not echo")
    sys.exit(1)
print("ok: old connection: recv %s" % how)
print("PASS")
PY

"$COCOON" launch --ckpt-dir "$D" -- python3 "$T/prog.py" "$PORT" "$T/ready" \
	>"$T/launch.out" 2>"$T/launch.err" </dev/null &
prog=$!
wait_for '[ -e "$T/ready" ]' 10 || fail "program never ready: $(cat "$T/launch.out" "$T/launch.err")"
timeout 15 "$COCOON" checkpoint >"$T/ckpt.out" 2>"$T/ckpt.err" ||
	fail "checkpoint failed: $(cat "$T/ckpt.err")"
kill -9 $prog
wait $prog 2>/dev/null
kill -0 $server 2>/dev/null || fail "the outside server died"

"$COCOON" restart --ckpt-dir "$D" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
prog=$!
# Running again: cocoon status lists the restarted process as running.
running() {
	kill -0 $prog 2>/dev/null || fail "restart ended early: $(cat "$T/restart.out" "$T/restart.err")"
	timeout 5 "$COCOON" status --json 2>/dev/null | tr -d ' \n' | grep -q "\"pid\":$prog,[^}]*\"state\":\"running\""
}
wait_for running 10 || fail "restart not running: $(timeout 5 "$COCOON" status --json 2>&1)"
kill -TERM $prog
wait_for '! kill -0 $prog 2>/dev/null' 10 || fail "the restarted program did not end after SIGTERM"
wait $prog
rc=$?
prog=
# The program's stdout is a regular file: it comes back to launch.out.
out=$(cat "$T/launch.out" "$T/restart.out")
echo "$out" | grep '^ok:'
[ $rc -eq 0 ] && echo "$out" | grep -qx PASS ||
	fail "restarted program exited $rc: $(echo "$out" | tail -c 500) $(tail -c 500 "$T/restart.err")"
kill -0 $server 2>/dev/null || fail "the outside server died"
echo PASS
