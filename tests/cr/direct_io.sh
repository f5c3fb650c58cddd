#!/bin/sh
# SPDX-License-Identifier: MIT
# cocoon launch --direct: page data goes to the image with O_DIRECT, so the
# image is (almost) not in the page cache after the checkpoint (fincore);
# the restart gives back exactly the memory (tests/scenario/dirty.c checks
# itself), and the checkpoint after the restart is direct too.  Images on
# tmpfs (no O_DIRECT there) are written through the page cache instead and
# still restart.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD, COCOON_COORD2.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
need fincore "fincore (util-linux)"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null; rm -rf "${SHM:-}"' EXIT
if [ "$(stat -f -c %T "$TMPDIR")" = tmpfs ]; then
	echo "SKIP: $TMPDIR is on tmpfs, which has no O_DIRECT"
	exit 77
fi

# ckpt N: checkpoint, want generation N; the image in $img, its size in $isize
ckpt() {
	"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint $1: $(cat "$T/ckpt.out")"
	[ "$(head -1 "$T/ckpt.out")" = "generation $1" ] || fail "checkpoint: $(cat "$T/ckpt.out")"
	img=$(sed -n 2p "$T/ckpt.out")
	isize=$(wc -c <"$img")
	[ "$isize" -gt $((64 << 20)) ] || fail "image of $isize bytes for 64 MiB of memory"
}

# not_cached: at most a quarter of the image is in the page cache
not_cached() {
	res=$(fincore --bytes --noheadings --output RES "$img") || fail "fincore $img"
	[ "$res" -lt $((isize / 4)) ] ||
		fail "$res of $isize bytes of $img are in the page cache: not written with O_DIRECT"
}

restart() {
	"$COCOON" restart --ckpt-dir "$D" >"$T/restart.out" 2>"$T/restart.err" </dev/null &
	rpid=$!
	pids="$pids $rpid"
	wait_for "\"$COCOON\" status | grep -q running" 20 || fail "no restart: $(cat "$T/restart.err")"
}

# story DIR CHECK: launch --direct with images in DIR, checkpoint (CHECK the
# image), lose a change with the kill, restart, verify; once more.
story() {
	T=$1/t
	D=$1/ckpt
	mkdir -p "$T"
	launch_dirty --direct
	ckpt 1
	$2
	signal USR1 "^round 1 " 1 # lost with the kill
	kill_all
	restart
	verified 1
	ckpt 2
	$2
	signal USR1 "^round 1 " 2 # the restart took the program back to round 0
	kill_all
	wait $rpid 2>/dev/null
	restart
	verified 2
	kill -TERM "$(first_pid)"
	wait $rpid
	rc=$?
	[ $rc -eq 0 ] && tail -1 "$T/out" | grep -qx PASS || fail "program: rc $rc, $(tail -2 "$T/out")"
}

story "$TMPDIR/direct" not_cached
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	SHM=$(mktemp -d /dev/shm/cocoon-direct.XXXXXX)
	COCOON_COORD=$COCOON_COORD2
	export COCOON_COORD
	story "$SHM" true
fi
echo PASS
