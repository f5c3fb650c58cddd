#!/bin/sh
# SPDX-License-Identifier: MIT
# A statically linked program cannot load the runtime: `cocoon launch` of
# one warns, naming it, and so does a process of the computation that execs
# one (it leaves the computation); neither is lost silently.
# Env from tests/run.py: COCOON, TMPDIR, COCOON_COORD.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/static_exec
mkdir -p "$T"
need cc

printf 'int main(void) { return 0; }\n' >"$T/tiny.c"
cc -static -o "$T/tiny" "$T/tiny.c" 2>"$T/cc.err" ||
	{ echo "SKIP: no static libc to link with: $(head -c 200 "$T/cc.err")"; exit 77; }

"$COCOON" launch --ckpt-dir "$T/ckpt" -- "$T/tiny" >"$T/a.out" 2>"$T/a.err" </dev/null ||
	fail "launch of a static program failed: $(cat "$T/a.err")"
grep -q "cocoon: warning: .*tiny is statically linked" "$T/a.err" ||
	fail "launch did not warn: $(cat "$T/a.err")"
echo "ok launch: $(cat "$T/a.err")"

"$COCOON" launch --ckpt-dir "$T/ckpt" -- sh -c "'$T/tiny'; echo done" >"$T/b.out" 2>"$T/b.err" </dev/null ||
	fail "sh running a static program failed: $(cat "$T/b.err")"
grep -q "cocoon: .*tiny is statically linked: it leaves the computation" "$T/b.err" ||
	fail "exec of a static program did not warn: $(cat "$T/b.err")"
grep -qx done "$T/b.out" || fail "the shell did not carry on: $(cat "$T/b.out")"
echo "ok exec: $(cat "$T/b.err")"
echo PASS
