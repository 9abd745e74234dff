#!/usr/bin/env bash
# Runs that survive each other and their environment: usage: run_survives.sh ATTNBENCH
#  1. two runs saving into one folder at the same time keep both results;
#  2. a run killed by SIGKILL leaves only its hidden partial file, which report and compare refuse
#     in one line;
#  3. a run past a file-size limit (as on a full disk) fails in one line naming the cause, leaves
#     no partial file and leaves the earlier results byte for byte.
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tiny=(run --stage softmax --variant naive --seq 8 --heads 1 --dim 4 --threads 1 --no-report --benchmark_min_time=0.001)
fail() { echo "FAILED: $*"; exit 1; }

# 1. Two at once, into one folder.
"$bin" "${tiny[@]}" --results "$work/r" >/dev/null 2>&1 & a=$!
"$bin" "${tiny[@]}" --results "$work/r" >/dev/null 2>&1 & b=$!
wait $a || fail "first concurrent run"
wait $b || fail "second concurrent run"
count=$(find "$work/r" -name '*.json' | wc -l)
[[ $count -eq 2 ]] || fail "two concurrent runs left $count results"
for f in "$work"/r/*/*.json; do
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['context']['attnbench']" "$f" ||
    fail "$f is not a complete result"
done
echo "ok: two concurrent runs kept both results"

# 2. SIGKILL in the middle of a run.
"$bin" run --stage softmax --variant naive --seq 2048 --threads 1 --no-report --benchmark_min_time=5 \
  --results "$work/k" >/dev/null 2>&1 & pid=$!
for _ in $(seq 50); do [[ -n $(find "$work/k" -name '.*partial*' 2>/dev/null) ]] && break; sleep 0.1; done
sleep 0.5
kill -9 $pid; wait $pid 2>/dev/null
partial=$(find "$work/k" -name '.*partial*' | head -1)
[[ -n $partial ]] || fail "the killed run left no partial file to check"
[[ -z $(find "$work/k" -name '*.json' ! -name '.*') ]] || fail "the killed run left a visible result"
for cmd in "report $partial" "compare $partial $partial"; do
  # shellcheck disable=SC2086
  "$bin" $cmd >"$work/out" 2>"$work/err"; rc=$?
  [[ $rc -eq 2 && $(wc -l <"$work/err") -eq 1 ]] || { cat "$work/err"; fail "$cmd: exit $rc"; }
  grep -q "did not finish" "$work/err" || { cat "$work/err"; fail "$cmd: no reason given"; }
done
echo "ok: a killed run's partial file is refused by report and compare"

# 3. A file-size limit while saving, after an earlier result: 1 KiB stops Google Benchmark's own
# output, 3 KiB the completed result.
"$bin" "${tiny[@]}" --results "$work/f" >/dev/null 2>&1 || fail "the earlier run"
before=$(find "$work/f" -type f -exec md5sum {} + | sort)
for kib in 1 3; do
  (ulimit -f $kib; "$bin" "${tiny[@]}" --results "$work/f" >/dev/null 2>"$work/err"); rc=$?
  [[ $rc -eq 2 ]] || { cat "$work/err"; fail "the run limited to $kib KiB exited $rc, not 2"; }
  tail -1 "$work/err" | grep -q "nothing saved, earlier results are untouched" ||
    { cat "$work/err"; fail "the run limited to $kib KiB gave no reason"; }
  after=$(find "$work/f" -type f -exec md5sum {} + | sort)
  [[ $before == "$after" ]] || fail "the earlier result changed, or a file was left: $after"
  echo "ok: a $kib KiB file-size limit fails in one line ($(tail -1 "$work/err" | cut -c1-60)...) and leaves the earlier result intact"
done
