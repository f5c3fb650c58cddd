#!/bin/sh
# SPDX-License-Identifier: MIT
# `cocoon restart` refuses damaged or foreign images: each case must exit
# non-zero (not by a signal), print exactly one line starting "cocoon:" on
# stderr, and leave no process behind.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD, COCOON_COORD2.
set -u
# shellcheck source=SCRIPTDIR/../scenario/common.sh
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
T=$TMPDIR/bad_images
mkdir -p "$T"
pids=
trap 'kill -9 $pids 2>/dev/null' EXIT

# flip FILE OFFSET: invert one byte in place.
flip() {
	v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %o $((v ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# try CASE PATTERN ARGS...: restart must fail cleanly; PATTERN (may be empty)
# must appear in the message.
try() {
	name=$1 pattern=$2
	shift 2
	mark="bad_images.$$.$name"
	env CRTEST_MARK="$mark" "$COCOON" restart "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	rc=$?
	[ $rc -ne 0 ] || fail "$name: restart succeeded"
	[ $rc -lt 128 ] || fail "$name: restart died of signal $((rc - 128))"
	one_error "$name" "$T/$name.err"
	[ -z "$pattern" ] || grep -qi "$pattern" "$T/$name.err" ||
		fail "$name: message lacks '$pattern': $(cat "$T/$name.err")"
	wait_for "! grep -qs 'CRTEST_MARK=$mark' /proc/[0-9]*/environ" 3 ||
		fail "$name: processes left running: $(grep -ls "CRTEST_MARK=$mark" /proc/[0-9]*/environ)"
	echo "ok $name: $(cat "$T/$name.err")"
}

# A real image to damage.
D=$T/ckpt
CRTEST_READY=$T/ready CRTEST_DIR=$T "$COCOON" launch --ckpt-dir "$D" -- \
	"$TESTPROG_DIR/heap_brk" >"$T/launch.out" 2>&1 </dev/null &
pid=$!
pids="$pids $pid"
wait_for "[ -e '$T/ready' ]" 20 || fail "program not ready: $(cat "$T/launch.out")"
"$COCOON" checkpoint >"$T/ckpt.out" 2>"$T/ckpt.err" || fail "checkpoint: $(cat "$T/ckpt.err")"
img=$(sed -n 2p "$T/ckpt.out")
[ -f "$img" ] || fail "no image path in checkpoint output: $(cat "$T/ckpt.out")"
kill -9 $pid
wait $pid
size=$(wc -c <"$img")

head -c 65536 /dev/urandom >"$T/random.img"
try random "" "$T/random.img"

head -c $((size / 2)) "$img" >"$T/truncated.img"
try truncated "" "$T/truncated.img"
try truncated-fast "" --fast "$T/truncated.img"

cp "$img" "$T/middle.img"
chmod 600 "$T/middle.img"
flip "$T/middle.img" $((size / 2))
try flipped-middle "" "$T/middle.img"

cp "$img" "$T/header.img"
chmod 600 "$T/header.img"
flip "$T/header.img" 33
try flipped-header "" "$T/header.img"

# version (u32 at offset 8) = 99: checked before the header checksum.
cp "$img" "$T/version.img"
chmod 600 "$T/version.img"
printf '\143\000\000\000' | dd of="$T/version.img" bs=1 seek=8 conv=notrunc 2>/dev/null
try newer-version newer "$T/version.img"

# The same program, compressed images (cocoon launch --compress zstd), in a
# checkpoint directory of their own, so with a coordinator of their own.
COCOON_COORD=$COCOON_COORD2
export COCOON_COORD
ZD=$T/ckpt-zstd
CRTEST_READY=$T/zready CRTEST_DIR=$T "$COCOON" launch --ckpt-dir "$ZD" --compress zstd -- \
	"$TESTPROG_DIR/heap_brk" >"$T/zlaunch.out" 2>&1 </dev/null &
pid=$!
pids="$pids $pid"
wait_for "[ -e '$T/zready' ]" 20 || fail "compressed: program not ready: $(cat "$T/zlaunch.out")"
"$COCOON" checkpoint >"$T/zckpt.out" 2>"$T/zckpt.err" || fail "compressed checkpoint: $(cat "$T/zckpt.err")"
zimg=$(sed -n 2p "$T/zckpt.out")
kill -9 $pid
wait $pid
zsize=$(wc -c <"$zimg")
[ "$zsize" -lt "$size" ] || fail "compressed image ($zsize bytes) not smaller than plain ($size)"
"$COCOON" inspect --verify "$zimg" >"$T/zinspect.out" 2>&1 || fail "inspect --verify of a compressed image: $(cat "$T/zinspect.out")"
head -c $((zsize / 2)) "$zimg" >"$T/ztruncated.img"
try compressed-truncated "truncated" "$T/ztruncated.img"
cp "$zimg" "$T/zmiddle.img"
chmod 600 "$T/zmiddle.img"
flip "$T/zmiddle.img" $((zsize / 2))
try compressed-flipped "damaged" "$T/zmiddle.img"

try missing-dir "" --ckpt-dir "$T/no/such/dir"
mkdir -p "$T/empty"
try empty-dir "" --ckpt-dir "$T/empty"
echo PASS
