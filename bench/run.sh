#!/usr/bin/env bash
# The README's benchmark command: installs what is missing, builds the release configuration and
# runs `attnbench run` with any arguments given (default: the default sweep).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
exec build/release/attnbench run "$@"
