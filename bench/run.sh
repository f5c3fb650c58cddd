#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench`: build the bench programs, then run bench/bench.py.
# See bench/README.md.
set -e
cd "$(dirname "$0")/.."
mkdir -p build/bench
CC=${CC:-cc}
$CC -O2 -Wall -Wextra -o build/bench/memprog bench/memprog.c -ldl
$CC -O2 -Wall -Wextra -pthread -o build/bench/overhead bench/overhead.c
$CC -O2 -Wall -Wextra -o build/bench/treeprog bench/treeprog.c -ldl
exec python3 bench/bench.py
