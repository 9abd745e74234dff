#!/usr/bin/env bash
# Every kernel that runs here against the reference on many shapes drawn at random
# (tests/test_random_shapes.cpp), larger than the suite's few dozen:
#   bash tests/random_shapes.sh [SHAPES] [SEED] [WORK]
# SHAPES drawn (default 300), SEED of the draw (default: a random one, printed first), WORK the
# most multiply-adds of a shape's attention products (default 2e8: seconds a shape). Needs a
# release build (bash tests/run.sh or cmake --build --preset release). A failure names the seed,
# the shape and the attnbench line that measures the kernel on it.
set -euo pipefail
cd "$(dirname "$0")/.."
shapes=${1:-300}
seed=${2:-$((RANDOM * 32768 + RANDOM))}
work=${3:-200000000}
for v in "$shapes" "$seed" "$work"; do
  [[ $v =~ ^[0-9]+$ && $v -gt 0 ]] || { echo "random_shapes.sh: '$v' is not a positive whole number (usage: SHAPES SEED WORK)" >&2; exit 2; }
done
bin=build/release/attn_tests
[[ -x $bin ]] || { echo "random_shapes.sh: no $bin; build it first (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }
echo "random shapes: $shapes drawn with seed $seed, at most $work multiply-adds each"
ATTN_RANDOM_SHAPES=$shapes ATTN_RANDOM_SEED=$seed ATTN_RANDOM_WORK=$work \
  exec "$bin" --gtest_filter='RandomShapes.*' --gtest_brief=1
