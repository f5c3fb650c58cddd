#!/bin/sh
# SPDX-License-Identifier: MIT
# Incremental checkpoints (cocoon launch --incremental): the program
# (tests/scenario/dirty.c) rewrites 1% of 64 MiB, gives 1% back to the
# kernel and replaces a mapping between checkpoints; later images hold only
# what changed and refer to earlier ones; pruning keeps the generations they
# need; restarts from them give back exactly the memory the program had
# (it checks itself); after a restart, a full checkpoint starts a new chain;
# a missing earlier image makes the restart fail with one line.  Three
# times: with the kernel tracking writes, with COCOON_TRACK=hash (the
# fallback that compares page hashes), and with compressed images
# (--compress zstd: the restart decompresses every image of the chain).
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD, COCOON_COORD2.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T0=$TMPDIR/incremental
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT

# ckpt N: checkpoint, want generation N; its image's size in $isize
ckpt() {
	"$COCOON" checkpoint >"$T/ckpt.out" 2>&1 || fail "checkpoint $1: $(cat "$T/ckpt.out")"
	[ "$(head -1 "$T/ckpt.out")" = "generation $1" ] || fail "checkpoint: $(cat "$T/ckpt.out")"
	isize=$(wc -c <"$(sed -n 2p "$T/ckpt.out")")
}

# round MODE [LAUNCH_FLAG...]: the whole story, with COCOON_TRACK=MODE
# ("" or hash); LAUNCH_FLAGs for cocoon launch
round() {
	T=$T0/${1:-kernel}$(echo "${2:-}" | tr -d ' -')
	COCOON_TRACK=$1
	shift
	D=$T/ckpt
	mkdir -p "$T"
	export COCOON_TRACK
	launch_dirty --incremental "$@"
	ckpt 1
	full=$isize
	for round in 1 2; do
		signal USR1 "^round $round " 1
		ckpt $((round + 1))
		[ "$isize" -lt $((full / 10)) ] ||
			fail "generation $((round + 1)) is $isize bytes, the full one $full: not incremental"
	done
	signal USR1 "^round 3 " 1 # lost with the kill: the restart is from generation 3
	for g in 1 2 3; do
		[ -e "$D/gen-00000$g/MANIFEST" ] || fail "generation $g was pruned, generation 3 needs it"
	done
	grep -q "^needs 1$" "$D/gen-000003/MANIFEST" || fail "MANIFEST: $(cat "$D/gen-000003/MANIFEST")"
	"$COCOON" inspect --verify "$D"/gen-000003/*.img >"$T/inspect.out" 2>&1 ||
		fail "inspect --verify: $(tail -2 "$T/inspect.out")"
	grep -q "^  gen-000001/" "$T/inspect.out" || fail "inspect shows no reference: $(cat "$T/inspect.out")"
	kill_all
	restart_dirty
	signal USR2 "^verify" 1
	tail -1 "$T/out" | grep -qx "verify ok" || fail "memory after the restart: $(tail -2 "$T/out")"

	# After the restart: a full checkpoint, then one on top of it.
	ckpt 4
	[ "$isize" -gt $((full / 2)) ] || fail "the first checkpoint after a restart must be full ($isize)"
	signal USR1 "^round 3 " 2
	ckpt 5
	[ "$isize" -lt $((full / 10)) ] || fail "generation 5 is $isize bytes: not incremental"
	kill_all
	wait $rpid 2>/dev/null

	# Without the image generation 5 builds on: one line, nothing started.
	img4=$(ls "$D"/gen-000004/*.img)
	mv "$img4" "$T/aside.img"
	"$COCOON" restart --ckpt-dir "$D" >"$T/missing.out" 2>"$T/missing.err" </dev/null
	rc=$?
	[ $rc -ne 0 ] && [ $rc -lt 128 ] || fail "restart without gen-000004: rc $rc"
	one_error missing-dep "$T/missing.err"
	grep -q "needs the earlier image gen-000004/" "$T/missing.err" || fail "$(cat "$T/missing.err")"
	mv "$T/aside.img" "$img4"
	restart_dirty --fast # regions with references are read, the others mapped
	signal USR2 "^verify" 2
	tail -1 "$T/out" | grep -qx "verify ok" || fail "memory after the second restart: $(tail -2 "$T/out")"
	# a forked checkpoint is a full one (its copy cannot see the tracking)
	signal USR1 "^round 4 " 1
	"$COCOON" checkpoint --forked >"$T/ckpt.out" 2>&1 || fail "forked checkpoint: $(cat "$T/ckpt.out")"
	[ "$(wc -c <"$(sed -n 2p "$T/ckpt.out")")" -gt $((full / 2)) ] || fail "a forked checkpoint must be full"
	kill_all
	wait $rpid 2>/dev/null
	restart_dirty --fast # from a full image: all big regions mapped from it
	signal USR2 "^verify" 3
	tail -1 "$T/out" | grep -qx "verify ok" || fail "memory after the forked checkpoint: $(tail -2 "$T/out")"
	# Memory mapped from an image is not tracked (saved whole), the rest is.
	signal USR1 "^round 5 " 1
	ckpt 7
	signal USR1 "^round 6 " 1
	ckpt 8
	kill_all
	wait $rpid 2>/dev/null
	restart_dirty
	signal USR2 "^verify" 4
	tail -1 "$T/out" | grep -qx "verify ok" || fail "memory after a chain on a fast restart: $(tail -2 "$T/out")"
	dirty_passes
	COCOON_TRACK=
}

round ""
COCOON_COORD=$COCOON_COORD2
export COCOON_COORD
round hash
# the same coordinator address for a new computation once the last one's
# coordinator (started by launch) has ended with it
wait_for '! "$COCOON" status >/dev/null 2>&1' 20 || fail "the coordinator did not end"
round "" --compress zstd
echo PASS
