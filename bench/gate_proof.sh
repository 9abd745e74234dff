#!/usr/bin/env bash
# The measurements behind README's "Regression check in CI" figures: real builds, real launches.
#   bash bench/gate_proof.sh OUT_DIR [AA_RUNS] [DETECT_RUNS]
# Builds this checkout five times in separate Release trees under build/proof/: twice unchanged
# (a, a2), and with attention/flash/best doing 10%, 20% and 30% extra work on every call
# (ATTN_INJECT_SLOWDOWN, a proof-build-only option), plus 2% for the instruction-count lane. Then
#   - AA_RUNS (20) gates of a against a2, the last third while a CPU burner loads one core half of
#     the time (3 s on, 3 s off);
#   - DETECT_RUNS (10) gates of a against each slowed build, interleaved with the A/A ones;
#   - the instruction-count lane twice on a against a2 and once on a against the 2% build.
# Every gate's JSON (with every launch's raw times) goes to OUT_DIR; bench/gate_proof.py turns them
# into the figures. Run nothing else on the machine meanwhile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: bash bench/gate_proof.sh OUT_DIR [AA_RUNS] [DETECT_RUNS]}
aa_runs=${2:-20}
detect_runs=${3:-10}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bash "$root/tools/deps.sh"

declare -A inject=([a]="" [a2]="" [s10]="attention/flash/best:0.10" [s20]="attention/flash/best:0.20"
                   [s30]="attention/flash/best:0.30" [s02]="attention/flash/best:0.02")
for b in a a2 s10 s20 s30 s02; do
  tree="$root/build/proof/$b"
  cmake -S "$root" -B "$tree" -DCMAKE_BUILD_TYPE=Release -DATTN_INJECT_SLOWDOWN="${inject[$b]}" >/dev/null 2>&1
  cmake --build "$tree" --target attnbench -j"$(nproc)" >/dev/null
done
bin() { echo "$root/build/proof/$1/attnbench"; }
gate() { /usr/bin/python3 "$root/bench/gate.py" gate "$@" || true; }

burner=""
start_load() {  # one core busy half of the time
  (while :; do timeout 3 sh -c 'while :; do :; done' || true; sleep 3; done) &
  burner=$!
}
stop_load() { [[ -n $burner ]] && kill "$burner" 2>/dev/null; pkill -f "while :; do :; done" 2>/dev/null || true; burner=""; }
trap stop_load EXIT

loaded_from=$((aa_runs - aa_runs / 3 + 1))
for ((i = 1; i <= aa_runs; i++)); do
  if ((i >= loaded_from)); then start_load; aa_name="aa-loaded-$i"; else aa_name="aa-$i"; fi
  echo "[proof $(date +%H:%M:%S)] $aa_name" >&2
  gate --base "$(bin a)" --head "$(bin a2)" --json "$out/$aa_name.json" --seed "$i" >"$out/$aa_name.txt"
  stop_load
  if ((i <= detect_runs)); then
    for s in 10 20 30; do
      echo "[proof $(date +%H:%M:%S)] slow$s-$i" >&2
      gate --base "$(bin a)" --head "$(bin "s$s")" --json "$out/slow$s-$i.json" --seed "$i" >"$out/slow$s-$i.txt"
    done
  fi
done

for run in 1 2; do
  echo "[proof $(date +%H:%M:%S)] count-aa-$run" >&2
  gate --count-instructions --base "$(bin a)" --head "$(bin a2)" --json "$out/count-aa-$run.json" >"$out/count-aa-$run.txt"
done
echo "[proof $(date +%H:%M:%S)] count-slow2" >&2
gate --count-instructions --base "$(bin a)" --head "$(bin s02)" --json "$out/count-slow2.json" >"$out/count-slow2.txt"
echo "[proof $(date +%H:%M:%S)] done" >&2
