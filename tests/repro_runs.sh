#!/usr/bin/env bash
# Runs repro lines exactly as the kernel tests print them: usage: repro_runs.sh ATTNBENCH ATTN_TESTS
# Asks the tests to print the lines of a few cases (square and rectangular, causal and cosine,
# batch, threads, a given scale, a tile edge), runs each printed line as a shell command with the
# built attnbench first on PATH, in a scratch folder, and checks that it saved one result whose
# benchmark row carries the kernel and shape the line names.
set -uo pipefail
bin=$1 tests=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin" && ln -s "$(readlink -f "$bin")" "$work/bin/attnbench"
filter='*attention_flash_best__q1_kv300_causal_decode:*attention_naive_scalar__n12_d10_plain_scale1'
filter+=':*scores_simd_best__q64_kv129_causal_cosine:*softmax_omp_best__n257_d32_causal_b2_t2'
filter+=':*multihead_blocked_scalar__b3_h3_n20_d12:*attention_flash_best__*kv_block512_above*_nkv513_h4_kv2_causal'
filter+=':*attention_flash_best__decode_q4_h4_kv2_*'
ATTN_PRINT_REPRO=1 "$tests" --gtest_filter="$filter" \
  | sed -n 's/^repro: //p' >"$work/lines"
count=$(wc -l <"$work/lines")
if [[ $count -lt 7 ]]; then echo "expected at least 7 repro lines, got $count"; cat "$work/lines"; exit 1; fi
n=0
while read -r line; do
  n=$((n + 1))
  mkdir "$work/run$n"
  if ! (cd "$work/run$n" && PATH="$work/bin:$PATH" eval "$line" >out.txt 2>err.txt); then
    echo "failed: $line"; cat "$work/run$n/err.txt"; exit 1
  fi
  if ! /usr/bin/python3 - "$line" "$work/run$n" <<'PY'
import glob, json, sys
line, folder = sys.argv[1], sys.argv[2]
words = line.split()
want = {w.lstrip("-"): words[i + 1] for i, w in enumerate(words) if w in ("--stage", "--variant", "--isa", "--shape")}
files = glob.glob(f"{folder}/results/*/*.json")
assert len(files) == 1, f"expected one result, found {files}"
rows = [r for r in json.load(open(files[0]))["benchmarks"] if r.get("attnbench", {}).get("stage") != "peak"]
assert rows, "no kernel row"
f = rows[0]["attnbench"]
got = {"stage": f["stage"], "variant": f["variant"], "isa": f["isa"], "shape": f["shape"]}
assert got == want, f"{got} != {want}"
PY
  then echo "the result of '$line' does not match it"; exit 1; fi
  echo "ok: $line"
done <"$work/lines"
