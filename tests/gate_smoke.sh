#!/usr/bin/env bash
# The gate end to end on two copies of one build and a tiny shape file: the verdict table, the
# Markdown and JSON files and an exit status that noise cannot turn into a failure (0 or 3: two
# copies of one build must never be called a regression, and a short gate on a shared machine may
# be inconclusive). Then compare on synthetic results with known answers, and the bad inputs.
# Usage: gate_smoke.sh ATTNBENCH SOURCE_DIR [count]   (count: also the instruction-count lane)
set -uo pipefail
bin=$1 src=$2 lane=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "gate_smoke: $*" >&2; exit 1; }
cp "$bin" "$work/base" && cp "$bin" "$work/head" || fail "cannot copy $bin"
tiny="$src/tests/data/gate_tiny.txt"

"$bin" gate --base "$work/base" --head "$work/head" --preset "$tiny" --rounds 5 --confirm-rounds 5 \
  --markdown "$work/gate.md" --json "$work/gate.json" >"$work/out.txt" 2>"$work/err.txt"
rc=$?
cat "$work/out.txt"
[[ $rc == 0 || $rc == 3 ]] || { cat "$work/err.txt"; fail "A/A gate exited $rc (expected 0 or 3)"; }
grep -q "^attnbench gate: \(no regression\|inconclusive\) — 12 benchmarks, 5 rounds" "$work/out.txt" ||
  fail "no summary line for 12 benchmarks"
for k in scores/omp softmax/omp weighted_sum/omp attention/flash projection/omp multihead/flash; do
  [[ $(grep -c "^$k/best/n:64/h:2/d:32/t:[12] " "$work/out.txt") == 2 ]] || fail "$k missing from the table"
done
grep -q "| benchmark | base ms | head ms | head/base \[95% CI\] | p | noise | rounds | verdict |" "$work/gate.md" ||
  fail "no Markdown table"
/usr/bin/python3 - "$work/gate.json" "$rc" <<'EOF' || fail "the JSON does not hold every launch"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit_code"] == int(sys.argv[2]), d["exit_code"]
screen = [r for r in d["launches"] if r["phase"] == "screen"]
assert len(screen) == 5, len(screen)
for r in screen:
    assert sorted(l["build"] for l in r["launches"]) == ["base", "head"]
    for l in r["launches"]:
        assert len(l["repetitions_ms"]) == 12 and all(len(v) == 2 for v in l["repetitions_ms"].values())
assert len(d["benchmarks"]) == 12 and not any(b["verdict"] == "SLOWER" for b in d["benchmarks"].values())
EOF

# A head without one kernel (a wrapper that hides softmax from the benchmark list): gated on the
# 10 benchmarks both have, and the two it lacks are listed.
printf '#!/usr/bin/env bash\nout=$("%s" "$@"); rc=$?\nprintf "%%s\\n" "$out" | grep -v "^softmax/"\nexit $rc\n' \
  "$work/head" >"$work/head_without_softmax"
chmod +x "$work/head_without_softmax"
"$bin" gate --base "$work/base" --head "$work/head_without_softmax" --preset "$tiny" --rounds 5 --confirm-rounds 5 \
  >"$work/out2.txt" 2>/dev/null
rc=$?
[[ $rc == 0 || $rc == 3 ]] || fail "gate against a head without softmax exited $rc"
grep -q "— 10 benchmarks" "$work/out2.txt" && ! grep -q "^softmax/" "$work/out2.txt" ||
  { cat "$work/out2.txt"; fail "the gate did not keep to the 10 shared benchmarks"; }
grep -q "^only in base (not gated): softmax/omp/best/n:64/h:2/d:32/t:1, softmax/omp/best/n:64/h:2/d:32/t:2$" \
  "$work/out2.txt" || { cat "$work/out2.txt"; fail "the removed benchmarks are not listed"; }

# compare on synthetic results: 5 repetitions 20% slower is a regression, the same times are not,
# and files without repetitions fall back to the stated threshold.
/usr/bin/python3 - "$work" <<'EOF'
import json, sys
def result(path, times, name="attention/flash/best/n:64/h:2/d:32/t:1"):
    rows = [{"name": name, "run_name": name, "run_type": "iteration", "repetitions": len(times),
             "repetition_index": i, "real_time": t, "time_unit": "ms"} for i, t in enumerate(times)]
    json.dump({"context": {}, "benchmarks": rows}, open(path, "w"))
base = [1.00, 1.01, 0.99, 1.02, 0.98]
result(f"{sys.argv[1]}/a.json", base)
result(f"{sys.argv[1]}/slow.json", [t * 1.2 for t in base])
result(f"{sys.argv[1]}/one.json", [1.0])
result(f"{sys.argv[1]}/one_slow.json", [1.25])
EOF
"$bin" compare "$work/a.json" "$work/slow.json" >"$work/c1.txt"; rc=$?
[[ $rc == 1 ]] && grep -q "SLOWER" "$work/c1.txt" && grep -q "U test" "$work/c1.txt" || fail "compare missed 20% (exit $rc)"
"$bin" compare "$work/a.json" "$work/a.json" >"$work/c2.txt"; rc=$?
[[ $rc == 0 ]] || fail "compare of a file with itself exited $rc"
"$bin" compare "$work/one.json" "$work/one_slow.json" >"$work/c3.txt"; rc=$?
[[ $rc == 1 ]] && grep -q "threshold" "$work/c3.txt" || fail "compare without repetitions did not use the threshold"

# Bad input: one line on stderr, exit 2.
rejects() {
  local expected=$1; shift
  "$bin" "$@" >/dev/null 2>"$work/e.txt"; local rc=$?
  [[ $rc == 2 && $(wc -l <"$work/e.txt") == 1 ]] && grep -qF -- "$expected" "$work/e.txt" ||
    { cat "$work/e.txt"; fail "'$*' gave exit $rc, expected 2 and one line with '$expected'"; }
}
rejects "--base /nonexistent/attnbench: no such file" gate --base /nonexistent/attnbench --head "$work/head"
chmod -x "$work/head"
rejects "--head $work/head: not an executable file" gate --base "$work/base" --head "$work/head"
chmod +x "$work/head"
rejects "--rounds 0: the signed-rank test needs at least 5 rounds" gate --base "$work/base" --head "$work/head" --rounds 0
rejects "have no benchmark in common" gate --base "$work/base" --head /bin/true --preset "$tiny"
printf '{"benchmarks": [' >"$work/corrupt.json"
rejects "corrupt.json is not JSON" compare "$work/a.json" "$work/corrupt.json"
rejects "cannot read /nonexistent/b.json" compare "$work/a.json" /nonexistent/b.json

if [[ $lane == count ]] && command -v valgrind >/dev/null; then
  for i in 1 2; do
    "$bin" gate --count-instructions --base "$work/base" --head "$work/head" --preset "$tiny" --json "$work/count$i.json" \
      >"$work/count$i.txt" 2>/dev/null || { cat "$work/count$i.txt"; fail "count lane run $i exited $?"; }
  done
  /usr/bin/python3 - "$work/count1.json" "$work/count2.json" <<'EOF' || fail "instruction counts differ between two runs"
import json, sys
a, b = (json.load(open(p))["benchmarks"] for p in sys.argv[1:])
assert len(a) == 6 and a == b and all(r["base"] == r["head"] > 0 for r in a.values())
EOF
fi
echo "gate_smoke: passed"
