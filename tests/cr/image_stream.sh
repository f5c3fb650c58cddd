#!/bin/sh
# SPDX-License-Identifier: MIT
# cocoon launch --image-stream CMD: images go to a command's stdin (here a
# "remote" directory that only the command knows), the checkpoint
# directory keeps only the MANIFEST; cocoon restart --image-stream reads
# them back from a command.  tests/scenario/dirty.c checks its own memory
# after each restart.  Also: a second checkpoint after the restart, a
# compressed forked one, `cocoon inspect --verify` of a stored stream, and
# the failures: a command that fails or never reads (the program must
# survive its SIGPIPE) fails the checkpoint with one line and keeps the last
# good generation; a restart command that fails, or gives a truncated
# stream, is one line.
# Env from tests/run.py: COCOON, TESTPROG_DIR, TMPDIR, COCOON_COORD, COCOON_COORD2.
set -u
. "${SCENARIO_SRC:-$(dirname "$0")/../scenario}/common.sh"
pids=
trap '[ -n "$pids" ] && kill -9 $pids 2>/dev/null' EXIT
T=$TMPDIR/image_stream
D=$T/ckpt
R=$T/remote
mkdir -p "$T" "$R"
# The command the writer runs is a script the test rewrites between steps.
cat >"$T/store.sh" <<EOF
mkdir -p "$R/\${COCOON_IMAGE%/*}" && cat >"$R/\$COCOON_IMAGE"
EOF
cp "$T/store.sh" "$T/cmd.sh"
FETCH="cat '$R'/\$COCOON_IMAGE"

ckpt() { # N [ARGS]: checkpoint, want generation N
	want=$1
	shift
	"$COCOON" checkpoint "$@" >"$T/ckpt.out" 2>&1 || fail "checkpoint $want: $(cat "$T/ckpt.out")"
	[ "$(head -1 "$T/ckpt.out")" = "generation $want" ] || fail "checkpoint: $(cat "$T/ckpt.out")"
	img=$(sed -n 2p "$T/ckpt.out")
	name=${img#"$D"/}
	[ ! -e "$img" ] || fail "$img was written locally"
	[ -s "$R/$name" ] || fail "the command did not store $name"
}

failed_ckpt() { # CASE WORDS: the checkpoint fails with one line holding WORDS
	"$COCOON" checkpoint >"$T/fail.out" 2>"$T/fail.err"
	rc=$?
	[ $rc -ne 0 ] && [ $rc -lt 128 ] || fail "$1: checkpoint rc $rc"
	one_error "$1" "$T/fail.err"
	grep -q "$2" "$T/fail.err" || fail "$1: $(cat "$T/fail.err")"
	[ "$(cat "$D/latest")" = gen-000001 ] || fail "$1: latest is $(cat "$D/latest")"
}

"$COCOON" launch --incremental --image-stream cat -- true 2>"$T/err"
[ $? -eq 2 ] && one_error "with --incremental" "$T/err"

launch_dirty --image-stream "sh '$T/cmd.sh'"
ckpt 1
# the command runs with umask 077: what it stores is private
[ "$(stat -c %a "$R/$name")" = 600 ] || fail "stored image mode $(stat -c %a "$R/$name")"
"$COCOON" inspect --verify "$R/$name" >"$T/inspect.out" 2>&1 ||
	fail "inspect --verify of a stored stream: $(tail -2 "$T/inspect.out")"

# A command that fails after reading it all; one that reads nothing.
echo 'cat >/dev/null; exit 5' >"$T/cmd.sh"
failed_ckpt "command fails" "image stream command exited 5"
echo 'exit 6' >"$T/cmd.sh"
failed_ckpt "command reads nothing" "image stream command exited 6"
kill -0 "$(first_pid)" 2>/dev/null || fail "the program died with the stream"
verified 1 # and its memory is intact
cp "$T/store.sh" "$T/cmd.sh"

signal USR1 "^round 1 " 1 # lost with the kill
kill_all
restart_dirty --image-stream "$FETCH"
verified 2
ckpt 4 # numbers of failed generations are not used again
signal USR1 "^round 1 " 2
kill_all
wait $rpid 2>/dev/null
restart_dirty --image-stream "$FETCH"
verified 3

# The restart side's failures: one line, nothing started.
FETCH="exit 4"
"$COCOON" restart --ckpt-dir "$D" --image-stream "$FETCH" >/dev/null 2>"$T/rfail.err" </dev/null
[ $? -ne 0 ] || fail "restart from a failing command succeeded"
one_error "restart command fails" "$T/rfail.err"
grep -q "stream command exited 4" "$T/rfail.err" || fail "$(cat "$T/rfail.err")"
FETCH="head -c 200000 '$R'/\$COCOON_IMAGE"
"$COCOON" restart --ckpt-dir "$D" --image-stream "$FETCH" >/dev/null 2>"$T/rfail.err" </dev/null
[ $? -ne 0 ] || fail "restart from a truncated stream succeeded"
one_error "truncated stream" "$T/rfail.err"
dirty_passes

# Compressed, and forked: the copy writes into the pipe, the program
# waits for the command.
D=$T/ckpt-z
rm -rf "${R:?}"/*
FETCH="cat '$R'/\$COCOON_IMAGE"
COCOON_COORD=$COCOON_COORD2
export COCOON_COORD
launch_dirty --compress zstd --image-stream "sh '$T/cmd.sh'"
ckpt 1 --forked
signal USR1 "^round 1 " 3
kill_all
restart_dirty --image-stream "$FETCH"
verified 4
dirty_passes
echo PASS
