#!/usr/bin/env bash
# Measures the performance targets of bench/targets.toml in one sitting and checks them:
#   bash bench/targets.sh [OUT_DIR]      (default: results/targets-<hostname>)
#   bash bench/targets.sh --list         (print the benchmarks the sitting runs, and run nothing)
# Every figure is a median of repetitions and every target a ratio of benchmarks of one run;
# repetitions are randomly interleaved, so that a noisy spell of a shared machine slows all of a
# run's benchmarks alike instead of one side of a ratio. Needs a release build (bash bench/run.sh
# builds one; ATTNBENCH=path chooses another binary). Prints the checker's verdicts and Markdown
# tables, also saved as OUT_DIR/targets.md. About 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ATTNBENCH:-build/release/attnbench}
[[ -x $bin ]] || { echo "attnbench: no release build; run 'bash bench/run.sh --stage peak' first" >&2; exit 1; }
list=0
if [[ ${1:-} == --list ]]; then list=1; else out=${1:-results/targets-$(hostname)}; mkdir -p "$out"; fi
reps=(--benchmark_min_time=0.3 --benchmark_repetitions=9 --benchmark_enable_random_interleaving=true
      --benchmark_report_aggregates_only=true --benchmark_out_format=json)
files=()
# run NAME ARGS...: one attnbench run saved as OUT_DIR/NAME.json (with --list: its benchmark names).
run() {
  local name=$1; shift
  if ((list)); then "$bin" run "$@" --no-save --benchmark_list_tests=true 2>/dev/null; return; fi
  echo "== $name: attnbench run $*"
  "$bin" run "${reps[@]}" "$@" --no-report --benchmark_out="$out/$name.json" >/dev/null
  files+=("$out/$name.json")
}
# The comparisons with the libraries come first: a ratio is taken in the last file that measured
# all of its benchmarks, so the targets on flash alone keep reading the runs below.
# Flash and oneDNN attention at every shape of bench/baseline_shapes.txt.
run baselines --preset bench/baseline_shapes.txt --stage attention --variant flash,onednn --isa best --threads 1,2
# omp, oneDNN and OpenBLAS projection at d_model 1024 and 4096.
run baselines_bf16 --preset bench/baseline_shapes.txt --dtype bf16 --stage attention --variant flash,onednn \
  --isa best --threads 1,2
run baselines_projection --stage projection --variant omp,onednn,openblas --isa best --threads 1,2 \
  --shape n:2048/h:8/d:128,n:2048/h:32/d:128
# The omp projection and the multi-head blocks against oneDNN's at every shape of the default preset
# (which holds the quick one's), none skipped; five repetitions: its Llama blocks take seconds a call.
run presets_onednn --preset default --stage projection,multihead --variant flash,omp,onednn --isa best \
  --threads 1,2 --max-call-time 0 --benchmark_repetitions=5
# Flash against the FMA peak, OpenBLAS and its causal self (the 8-head shapes of
# bench/targets_shapes.txt), with the probes of this run.
run attention --preset bench/targets_shapes.txt --heads 8 --stage peak,attention --variant flash,openblas \
  --isa best --threads 1,2
# Grouped-query prefill and decoding (the 32- and 71-head shapes), flash alone, with the FMA and
# bandwidth probes of this run, so that decoding's GB/s is divided by its own run's bandwidth.
run decode --preset bench/targets_shapes.txt --heads 32,71 --stage peak,attention --variant flash --isa best \
  --threads 1,2
# BERT-base's short sentence at 1 and 2 threads: flash attention, the omp projection and the flash
# block, with the probes of this run.
run bert --stage peak,attention,projection,multihead --variant flash,omp --isa best --threads 1,2 \
  --shape n:128/h:12/d:64 '--benchmark_filter=^(peak|attention/flash|projection/omp|multihead/flash)/'
run softmax --stage softmax --variant naive,simd --isa scalar,best --seq 2048 --dim 128
run projection --stage projection --variant omp,openblas --seq 1024 --dim 128 --threads 1,2
# The multi-head block at Llama-2-7B widths and its parts (the omp projection and flash attention
# it chains), each alone, in one run.
run multihead --stage projection,attention,multihead --variant omp,flash --isa best --threads 2 \
  --shape n:2048/h:32/d:128/causal '--benchmark_filter=^(projection/omp|attention/flash|multihead/flash)/'
# The layer presets' shapes: flash, omp and oneDNN's composition, each layer benchmark followed by
# its steps timed alone (two repeats each); five repetitions: the Llama layers take seconds a call.
for family in bert llama; do
  run "layer_$family" --preset "$family-layer" --stage layer --variant flash,omp,onednn --isa best \
    --threads 1,2 --max-call-time 0 --steps-alone 2 --benchmark_repetitions=5
done
((list)) && exit 0
/usr/bin/python3 bench/check_targets.py "${files[@]}" | tee "$out/targets.md"
