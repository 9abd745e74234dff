#!/usr/bin/env bash
# Measures the performance targets of the fast kernels in one sitting and checks them:
#   bash bench/targets.sh [OUT_DIR]      (default: results/targets-<hostname>)
# Every figure is a median of repetitions and every target a ratio of two benchmarks of the same
# run; repetitions of the benchmarks are randomly interleaved, so that a noisy spell of a shared
# machine slows all of them alike instead of one side of a ratio. Needs a release build (bash bench/run.sh builds
# one). Prints the checker's verdicts and a Markdown table, also saved as OUT_DIR/targets.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/targets-$(hostname)}
mkdir -p "$out"
bin=build/release/attnbench
[[ -x $bin ]] || { echo "attnbench: no release build; run 'bash bench/run.sh --stage peak' first" >&2; exit 1; }
reps=(--benchmark_min_time=0.3 --benchmark_repetitions=9 --benchmark_enable_random_interleaving=true
      --benchmark_report_aggregates_only=true --benchmark_out_format=json)
run() { local name=$1; shift; echo "== $name: attnbench run $*"; "$bin" run "$@" "${reps[@]}" --no-report --benchmark_out="$out/$name.json" >/dev/null; }
# Causal and non-causal flash share one run (the 8-head shapes of bench/targets_shapes.txt), so
# target 4 is a ratio of one sitting like the others.
run attention --preset bench/targets_shapes.txt --heads 8 --stage peak,attention --variant flash,openblas --isa best --threads 1,2
# Grouped-query prefill and decoding (the 32- and 71-head shapes), flash alone: OpenBLAS at 32
# heads of n:2048 would take most of the sitting and no target reads it. Stage peak measures the
# FMA peak and the memory bandwidth probe (peak/stream) again, so that decoding's GB/s is divided
# by the bandwidth of its own run.
run decode --preset bench/targets_shapes.txt --heads 32,71 --stage peak,attention --variant flash --isa best --threads 1,2
run softmax --stage softmax --variant naive,simd --isa scalar,avx512 --seq 2048 --dim 128
run projection --stage projection --variant omp,openblas --seq 1024 --dim 128 --threads 1,2
# The oneDNN comparisons, each pair in one run: flash / onednn attention (bench/baseline_shapes.txt,
# target 15) and omp / onednn / openblas projection at d_model 1024 and 4096 (8 and 32 heads of 128,
# 2048 rows; target 13 at 4096).
run baselines --preset bench/baseline_shapes.txt --stage attention --variant flash,onednn --isa best --threads 1,2
run baselines_projection --stage projection --variant omp,onednn,openblas --isa best --threads 1,2 \
  --shape n:2048/h:8/d:128,n:2048/h:32/d:128
# Target 12: the multi-head block at Llama-2-7B widths and its parts (the omp projection and flash
# attention it chains), each alone, in one run; the filter leaves out the other variants' kernels.
run multihead --stage projection,attention,multihead --variant omp,flash --isa best --threads 2 \
  --shape n:2048/h:32/d:128/causal '--benchmark_filter=^(projection/omp|attention/flash|multihead/flash)/'
# The comparison runs come first: a ratio is taken in the last file that measured both of its
# benchmarks, so the targets keep reading their own runs' flash rows (targets 4, 7, 10, 14, 16).
/usr/bin/python3 bench/check_targets.py "$out"/baselines.json "$out"/baselines_projection.json \
  "$out"/multihead.json "$out"/attention.json "$out"/decode.json "$out"/softmax.json "$out"/projection.json \
  | tee "$out/targets.md"
