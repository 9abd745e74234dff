#!/usr/bin/env bash
# Checks that bench/targets.sh runs every benchmark bench/targets.toml reads, without running them:
# usage: targets_listed.sh ATTNBENCH SOURCE_DIR (the sitting's runs list their benchmarks with
# Google Benchmark's --benchmark_list_tests, and check_targets.py --listed looks each one up).
set -euo pipefail
bin=$(readlink -f "$1") src=$2
listed=$(mktemp)
trap 'rm -f "$listed"' EXIT
ATTNBENCH=$bin bash "$src/bench/targets.sh" --list >"$listed"
/usr/bin/python3 "$src/bench/check_targets.py" --listed "$listed"
