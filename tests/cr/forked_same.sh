#!/bin/sh
# SPDX-License-Identifier: MIT
# A forked checkpoint (cocoon checkpoint --forked) stores the same memory as
# a normal one: the program (tests/scenario/dirty.c, idle in sigwait) is
# checkpointed normally, then forked, and its data regions -- 64 MiB and
# 1 MiB of random data -- have the same pages and checksums in both images
# (cocoon inspect: "sum=").  As a control, after the program rewrites 1% of
# its memory the next image's data differs.  Then a
# restart from the forked image gives back that memory (dirty.c checks).
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD, COCOON_COORD2.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
T=$TMPDIR/forked_same
D=$T/ckpt
mkdir -p "$T"

# data N [ARGS]: checkpoint ARGS, want generation N; print its data regions
# (anonymous, 256 pages stored or more: the program's random data, however
# its mappings lie) without the address: size, pages, stored, sum
data() {
	want=$1
	shift
	"$COCOON" checkpoint "$@" >"$T/ckpt.out" 2>&1 || fail "checkpoint $want: $(cat "$T/ckpt.out")"
	[ "$(head -1 "$T/ckpt.out")" = "generation $want" ] || fail "checkpoint: $(cat "$T/ckpt.out")"
	"$COCOON" inspect "$(sed -n 2p "$T/ckpt.out")" >"$T/inspect.out" 2>&1 || fail "inspect"
	awk '$1 ~ /^0x/ && $6 == "anon" && $4 >= 256 { print $2, $3, $4, $5, $7 }' "$T/inspect.out"
}

launch_dirty
data 1 >"$T/normal"
data 2 --forked >"$T/forked"
pages=$(awk '{ n += $3 } END { print n + 0 }' "$T/normal")
[ "$pages" -ge $((65 << 8)) ] || fail "$pages pages of data in the image, want 65 MiB: $(cat "$T/normal")"
cmp -s "$T/normal" "$T/forked" ||
	fail "forked image differs: normal $(cat "$T/normal") / forked $(cat "$T/forked")"
signal USR1 "^round 1 " 1
data 3 --forked >"$T/changed"
cmp -s "$T/normal" "$T/changed" &&
	fail "the data did not change after the program rewrote it: $(cat "$T/changed")"
kill_all
restart_dirty
verified 1
dirty_passes
echo PASS
