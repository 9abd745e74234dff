#!/usr/bin/env bash
# Checks the driver's bad-input contract: usage: cli_rejects.sh BINARY EXPECTED_TEXT ARGS...
# Passes when the run exits with status 2 (not a signal), prints exactly one line on stderr,
# that line contains EXPECTED_TEXT, and nothing was benchmarked.
bin=$1 expected=$2
shift 2
err=$(mktemp) out=$(mktemp)
trap 'rm -f "$err" "$out"' EXIT
"$bin" "$@" >"$out" 2>"$err"
rc=$?
lines=$(wc -l <"$err")
if [[ $rc -ne 2 ]]; then echo "expected exit 2, got $rc"; cat "$err"; exit 1; fi
if [[ $lines -ne 1 ]]; then echo "expected one line on stderr, got $lines:"; cat "$err"; exit 1; fi
if ! grep -qF -- "$expected" "$err"; then echo "stderr lacks '$expected':"; cat "$err"; exit 1; fi
if [[ -s $out ]]; then echo "unexpected output on stdout:"; cat "$out"; exit 1; fi
echo "ok: $(cat "$err")"
