#!/usr/bin/env bash
# Makes sure the Debian 12 / Ubuntu packages attnbench builds with are installed: as root it
# installs what is missing, otherwise it prints the exact command and stops with status 1.
set -euo pipefail
packages=(g++ cmake make libgtest-dev libgmock-dev libbenchmark-dev libxsimd-dev libcli11-dev
          nlohmann-json3-dev libopenblas-dev libdnnl-dev python3-matplotlib python3-scipy valgrind clang-format
          clang-14 libclang-rt-14-dev libsimde-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "attnbench: missing packages; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "attnbench: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
