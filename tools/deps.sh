#!/usr/bin/env bash
# Makes sure the packages attnbench builds and tests with are installed, on the systems it knows:
# Debian 12 and 13 (both tested by tests/run.sh) and Ubuntu 24.04 (its package names, not tested
# here). As root it installs what is missing; otherwise it prints the exact command and stops with
# status 1. On another system it says in one line what it would need and leaves that to you.
#   bash tools/deps.sh                  (the packages of this system)
#   bash tools/deps.sh --print SYSTEM   (print the package list of debian12, debian13, ubuntu24.04)
set -euo pipefail

# What every system needs, under the same names on all three: the compiler and build, the test and
# benchmark libraries, xsimd, CLI11, nlohmann-json, the OpenBLAS and oneDNN baselines, the Python
# of the reports, the gate and the targets, valgrind (the gate's instruction-count lane), SIMDe
# (the avx512-emu test build), debootstrap (the Debian 13 test lane) and PyYAML (the workflows test).
common=(g++ cmake make pkgconf libgtest-dev libgmock-dev libbenchmark-dev libxsimd-dev libcli11-dev
        nlohmann-json3-dev libopenblas-dev libdnnl-dev python3-matplotlib python3-scipy valgrind
        libsimde-dev debootstrap python3-yaml)

# The aarch64 test lane of an x86-64 Debian machine: the cross compiler, qemu to run what it
# builds, and the arm64 builds of the libraries through multiarch (Debian's mirrors carry arm64;
# Ubuntu's x86-64 mirrors do not, so there the lane is left out; so is it with
# ATTN_AARCH64_LANE=skip). Not oneDNN: its arm64 headers cannot be installed beside the x86-64
# ones (their dnnl_config.h differs).
aarch64_lane=(g++-aarch64-linux-gnu qemu-user-static libgtest-dev:arm64 libbenchmark-dev:arm64
              libxsimd-dev:arm64 libopenblas-dev:arm64 libgomp1:arm64 libstdc++6:arm64)

# clang with libFuzzer for the fuzzers, and clang-format 14, whose layout .clang-format describes.
packages_of() {
  local lane=""
  [[ $(uname -m) == x86_64 && $1 == debian* && ${ATTN_AARCH64_LANE:-run} != skip ]] &&
    lane=" ${aarch64_lane[*]}"
  case $1 in
    debian12) echo "${common[*]} clang-14 libclang-rt-14-dev clang-format-14$lane" ;;
    debian13) echo "${common[*]} clang libclang-rt-dev clang-format$lane" ;;
    ubuntu24.04) echo "${common[*]} clang-18 libclang-rt-18-dev clang-format-14" ;;
    *) return 1 ;;
  esac
}

if [[ ${1:-} == --print ]]; then
  packages_of "${2:-}" || { echo "tools/deps.sh: no package list for '${2:-}' (debian12, debian13, ubuntu24.04)" >&2; exit 2; }
  exit 0
fi

system=unknown
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091
  system=$(. /etc/os-release && echo "${ID:-}${VERSION_ID:-}")
fi
if ! list=$(packages_of "$system"); then
  echo "attnbench: tools/deps.sh knows Debian 12 and 13 and Ubuntu 24.04, not '$system': install a C++20" \
       "g++, CMake 3.25+, GoogleTest, Google Benchmark, xsimd, CLI11 and nlohmann-json (and for every" \
       "test OpenBLAS, oneDNN, matplotlib, scipy, valgrind, SIMDe, clang, clang-format 14) yourself" >&2
  exit 0
fi
read -r -a packages <<<"$list"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "attnbench: missing packages; install them with:" >&2
  add_arch=""
  [[ " ${missing[*]}" == *:arm64* ]] && add_arch="sudo dpkg --add-architecture arm64 && "
  echo "  ${add_arch}sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "attnbench: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [[ " ${missing[*]}" == *:arm64* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
