#!/usr/bin/env bash
# End to end: `attnbench run` on a toy shape file saves one complete JSON result under
# results/<fingerprint>/ and reports it (summary on stdout, REPORT.md, PNG plots), a layer run
# with repetitions too; `report A B`
# writes a comparison; an interrupted run leaves no file behind.
# usage: run_report_e2e.sh BINARY SOURCE_DIR
set -uo pipefail
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3; [[ -x $py ]] || py=python3

"$bin" run --preset "$src/tests/data/tiny_shapes.txt" --stage peak,softmax,attention --variant naive,simd,flash \
  --isa scalar,sse2,best --threads 1,2 --results "$tmp/results" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "run exited $?"; }
results=("$tmp"/results/*/*.json)
[[ ${#results[@]} -eq 1 && -f ${results[0]} ]] || fail "expected one result file, found: ${results[*]}"
json=${results[0]}
dir=$(dirname "$json")
ls -A "$dir" | grep -q partial && fail "a temporary file was left in $dir"
"$py" - "$json" <<'PY' || fail "the result lacks its context"
import json, sys
r = json.load(open(sys.argv[1]))
a = r["context"]["attnbench"]
m = a["machine"]
assert a["fingerprint"] and m["cpu_model"] is not None and m["isa_dispatched"] and m["compiler"], a
assert m["xsimd"] and m["google_benchmark"] and m["commit"] and m["date"] and m["caches"] is not None, m
assert set(a["fma_peak_gflops"]) == {"1", "2"} and all(v > 0 for v in a["fma_peak_gflops"].values()), a
assert a["sweep"]["models"]["n:24/h:1/d:16/causal"].startswith("toy"), a["sweep"]
assert a["sweep"]["min_warmup_time"] == 0.05, a["sweep"]  # every benchmark warms up untimed first
names = {b["name"] for b in r["benchmarks"]}
for n in ("softmax/naive/scalar/n:16/h:2/d:8/t:1", "attention/flash/best/n:40/h:2/d:8/t:2/real_time",
          "attention/simd/sse2/n:24/h:1/d:16/t:1/causal"):
    assert n in names, (n, sorted(names))
PY
grep -q "attnbench summary" "$tmp/out" || fail "no summary table on stdout"
grep -qE "^attention +n=40 h=2 d=8 \(toy\) +[a-z]+/[a-z0-9]+ t:[12] +[0-9.]+ +[0-9]+% +[0-9.]+×" "$tmp/out" || { cat "$tmp/out"; fail "summary lacks the attention row"; }
grep -q "^\[1/" "$tmp/err" || fail "no progress line on stderr"
# The progress total counts what --benchmark_filter leaves (2 of 4 here, a negative filter too).
for f in '^softmax/naive/' '-simd'; do
  "$bin" run --stage softmax --variant naive,simd --isa scalar,sse2 --seq 8,16 --heads 1 --dim 4 --threads 1 \
    --no-save --benchmark_min_time=0.001 "--benchmark_filter=$f" >/dev/null 2>"$tmp/ferr" || fail "filtered run exited $?"
  [[ $(grep -c '^\[[12]/2 ' "$tmp/ferr") -eq 2 ]] || { cat "$tmp/ferr"; fail "progress of --benchmark_filter=$f is not [1/2], [2/2]"; }
done
grep -q "## Summary" "$dir/REPORT.md" || fail "REPORT.md lacks the summary"
grep -qE "^\| flash/best t:2 \| [0-9.]+ \([0-9]+%, [0-9.]+×\) \|" "$dir/REPORT.md" || fail "REPORT.md lacks the flash row"
for p in attention.png softmax.png threads.png; do
  [[ $(head -c 4 "$dir/plots/$p" | tail -c 3) == PNG ]] || fail "plot $p missing or not a PNG"
done

# A layer run with repetitions (each step's share counter aggregated; a step that never runs gives
# no counter, whose spread would be written as a bare nan) and the steps timed alone, one shape
# from token ids: saved in full and reported with its section and plot.
"$bin" run --stage layer --variant naive,flash --shape n:24/h:2/d:8/vocab:50,n:16/h:2/kv:1/d:8/causal/ff:24/swiglu/rope/rms \
  --threads 1,2 --steps-alone 2 --benchmark_repetitions=2 --benchmark_min_time=0.01 --results "$tmp/layer" \
  >"$tmp/lout" 2>"$tmp/lerr" || { cat "$tmp/lerr"; fail "layer run exited $?"; }
ldir=$(dirname "$tmp"/layer/*/*.json)
grep -q "^## Where the layer's time goes" "$ldir/REPORT.md" || fail "REPORT.md lacks the layer section"
grep -qE "^\| n=16 h=2 kv=1 d=8 causal ff=24 swiglu rope rms \| flash/best t:[12] \| [0-9.]+ \|.* [0-9.]+× \|$" \
  "$ldir/REPORT.md" || { cat "$ldir/REPORT.md"; fail "the layer section lacks the flash row with its steps alone"; }
grep -qE "^\| n=24 h=2 d=8 vocab=50 \| (naive|flash)/" "$ldir/REPORT.md" && grep -qE "^\| shape .*\| embedding \|" \
  "$ldir/REPORT.md" || { cat "$ldir/REPORT.md"; fail "the layer section lacks the token lookup's row or step"; }
[[ $(head -c 4 "$ldir/plots/layer_steps.png" | tail -c 3) == PNG ]] || fail "layer_steps.png missing or not a PNG"

"$bin" report "$json" "$json" --out "$tmp/cmp" >"$tmp/cmp.out" 2>&1 || { cat "$tmp/cmp.out"; fail "report A B failed"; }
grep -q "| attention | .* | 1.00 |" "$tmp/cmp/COMPARE.md" || fail "COMPARE.md lacks B/A = 1.00 rows"
[[ -s $tmp/cmp/plots/compare-kernels.png ]] || fail "no comparison plot"

# Interrupted: SIGINT in the middle of a run leaves neither a result nor a temporary file.
"$bin" run --preset "$src/tests/data/tiny_shapes.txt" --results "$tmp/interrupted" --benchmark_min_time=5 >/dev/null 2>&1 &
pid=$!
sleep 2
kill -INT $pid
wait $pid
[[ -z $(find "$tmp/interrupted" -type f 2>/dev/null) ]] || fail "an interrupted run left: $(find "$tmp/interrupted" -type f)"
echo "ok: $json"
