#!/bin/sh
# SPDX-License-Identifier: MIT
# cocoon restart --path-map OLD=NEW: the program's directory moved between
# checkpoint and restart; an open file (read on at its offset), the working
# directory, a mapped file and later opens of OLD/... all land under NEW.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/restart_path_map
rm -rf "$T"
mkdir -p "$T/old"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
need python3
printf 'line one\nline two\n' >"$T/old/data.txt"
printf 'mapped bytes' >"$T/old/mapped.bin"
printf 'opened later' >"$T/old/later.txt"

(cd "$T/old" && "$COCOON" launch --ckpt-dir "$T/ckpt" -- python3 -c '
import mmap, os, sys, time
d = sys.argv[1]
f = open("data.txt")
first = f.readline()
m = mmap.mmap(os.open("mapped.bin", os.O_RDONLY), 0, prot=mmap.PROT_READ)
open(d + "/ready", "w").close()
while not os.path.exists(d + "/go"):
    time.sleep(0.01)
out = [first.strip(), f.readline().strip(), os.getcwd(), m[:12].decode(),
       open(d + "/old/later.txt").read()]
open(d + "/result", "w").write("|".join(out))
' "$T" >"$T/prog.out" 2>"$T/prog.err" </dev/null) &
pid=$!
pids=$pid
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/prog.err")"
"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint: $(cat "$T/ckpt.out")"
kill -9 $pid
wait $pid 2>/dev/null
mv "$T/old" "$T/new"

"$COCOON" restart --ckpt-dir "$T/ckpt" --path-map "$T/old=$T/new" >/dev/null 2>"$T/restart.err" </dev/null &
rpid=$!
pids="$pids $rpid"
touch "$T/go"
wait_for "[ -e '$T/result' ]" 20 || fail "no result after restart: $(cat "$T/restart.err" "$T/prog.err")"
want="line one|line two|$T/new|mapped bytes|opened later"
[ "$(cat "$T/result")" = "$want" ] || fail "got '$(cat "$T/result")', want '$want'"
wait $rpid || fail "restarted program failed: $(cat "$T/restart.err")"
echo PASS
