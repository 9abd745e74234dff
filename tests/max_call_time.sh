#!/usr/bin/env bash
# --max-call-time skips a kernel's call predicted from its smaller measured shapes, also when the
# big shape is the first of its storage type (predicted from the same kernel in another type):
# usage: max_call_time.sh ATTNBENCH
set -uo pipefail
bin=$1
fail() { echo "FAILED: $*"; exit 1; }
big=attention/naive/scalar/n:1024/h:8/d:64/t:1
for dt in f32 bf16 f16; do
  out=$("$bin" run --no-save --stage attention --variant naive --threads 1 --max-call-time 0.001 \
    --shape "n:32/h:1/d:16,n:1024/h:8/d:64/dt:$dt" --benchmark_min_time=0.001 2>&1) ||
    { echo "$out"; fail "the run with a $dt big shape exited non-zero"; }
  suffix=$([[ $dt == f32 ]] && echo "" || echo "/dt:$dt")
  grep -qF "$big$suffix ERROR OCCURRED: 'skipped: a call would take about" <<<"$out" ||
    { echo "$out"; fail "$big$suffix was not skipped"; }
  echo "ok: $big$suffix skipped from the fp32 n:32 measurement"
done
