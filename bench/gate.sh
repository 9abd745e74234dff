#!/usr/bin/env bash
# Builds two git revisions of this repository into their own Release trees and gates head against
# base with `attnbench gate` (this checkout's bench/gate.py and presets).
#   bash bench/gate.sh BASE_REV [HEAD_REV] [-- gate options, e.g. --markdown gate.md --json gate.json]
# HEAD_REV defaults to HEAD. Each revision is checked out with `git worktree` under
# build/gate/<commit> and built once; later gates of the same commit reuse the build.
# Exit status: the gate's (0 no regression, 1 regression, 2 bad input, 3 inconclusive).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
usage() { echo "usage: bash bench/gate.sh BASE_REV [HEAD_REV] [-- gate options]" >&2; exit 2; }
[[ $# -ge 1 && $1 != -- ]] || usage
base_rev=$1; shift
head_rev=HEAD
if [[ $# -ge 1 && $1 != -- ]]; then head_rev=$1; shift; fi
[[ $# -eq 0 || $1 == -- ]] || usage
[[ $# -ge 1 ]] && shift
bash tools/deps.sh

# Prints the path of the attnbench built from revision $1 (progress goes to stderr).
build_rev() {
  local commit tree
  commit=$(git rev-parse --verify --quiet "$1^{commit}") || { echo "attnbench: gate.sh: unknown revision '$1'" >&2; exit 2; }
  tree="$root/build/gate/$commit"
  if [[ ! -x "$tree/build/attnbench" ]]; then
    echo "attnbench: gate.sh: building $1 ($commit) in $tree" >&2
    [[ -d "$tree/src" ]] || git worktree add --detach --force "$tree/src" "$commit" >&2
    cmake -S "$tree/src" -B "$tree/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$tree/build" --target attnbench -j"$(nproc)" >&2 ||
      { echo "attnbench: gate.sh: the build of $1 failed" >&2; exit 2; }
  fi
  echo "$tree/build/attnbench"
}

base_bin=$(build_rev "$base_rev")
head_bin=$(build_rev "$head_rev")
python=/usr/bin/python3
[[ -x $python ]] || python=python3
exec "$python" "$root/bench/gate.py" gate --base "$base_bin" --head "$head_bin" "$@"
