#!/bin/sh
# SPDX-License-Identifier: MIT
# cocoon launch --direct: page data goes to the image with O_DIRECT, so the
# image is (almost) not in the page cache after the checkpoint (fincore);
# the restart gives back exactly the memory (tests/scenario/dirty.c checks
# itself), and the (forked) checkpoint after the restart is direct too; so
# are incremental ones.  Images on
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

# ckpt N [ARGS]: checkpoint ARGS, want generation N; the image in $img,
# its size in $isize
ckpt() {
	want=$1
	shift
	"$COCOON" checkpoint "$@" >"$T/ckpt.out" 2>&1 || fail "checkpoint $want: $(cat "$T/ckpt.out")"
	[ "$(head -1 "$T/ckpt.out")" = "generation $want" ] || fail "checkpoint: $(cat "$T/ckpt.out")"
	img=$(sed -n 2p "$T/ckpt.out")
	isize=$(wc -c <"$img")
}

full() { # the image holds all 64 MiB
	[ "$isize" -gt $((64 << 20)) ] || fail "image of $isize bytes for 64 MiB of memory"
}

# not_cached: at most a quarter of the image is in the page cache
not_cached() {
	res=$(fincore --bytes --noheadings --output RES "$img") || fail "fincore $img"
	[ "$res" -lt $((isize / 4)) ] ||
		fail "$res of $isize bytes of $img are in the page cache: not written with O_DIRECT"
}

# story DIR CHECK: launch --direct with images in DIR, checkpoint (CHECK the
# image), lose a change with the kill, restart, verify; once more, with a
# forked checkpoint (its copy writes with O_DIRECT too).
story() {
	T=$1/t
	D=$1/ckpt
	mkdir -p "$T"
	launch_dirty --direct
	ckpt 1
	full
	$2
	signal USR1 "^round 1 " 1 # lost with the kill
	kill_all
	restart_dirty
	verified 1
	ckpt 2 --forked
	full
	$2
	signal USR1 "^round 1 " 2 # the restart took the program back to round 0
	kill_all
	wait $rpid 2>/dev/null
	restart_dirty
	verified 2
	dirty_passes
}

story "$TMPDIR/direct" not_cached

# Incremental: the pages written since the full image, with O_DIRECT too.
T=$TMPDIR/direct-incr/t
D=$TMPDIR/direct-incr/ckpt
mkdir -p "$T"
wait_for '! "$COCOON" status >/dev/null 2>&1' 20 || fail "the first coordinator did not end"
launch_dirty --direct --incremental
ckpt 1
full
signal USR1 "^round 1 " 1
ckpt 2
[ "$isize" -lt $((8 << 20)) ] || fail "incremental image of $isize bytes after 1% changed"
kill_all
restart_dirty
verified 1
dirty_passes

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	SHM=$(mktemp -d /dev/shm/cocoon-direct.XXXXXX)
	COCOON_COORD=$COCOON_COORD2
	export COCOON_COORD
	story "$SHM" true
fi
echo PASS
