#!/usr/bin/env bash
# The Debian 13 lane of tests/run.sh: builds attnbench and runs its test suite in a Debian 13
# ("trixie") root made with debootstrap under build/debian13/root, with trixie's own compiler and
# libraries (g++ 14, xsimd 13, oneDNN 3, Google Benchmark 1.9, GoogleTest 1.16, OpenBLAS 0.3.29).
#   bash tests/debian13_lane.sh
# The root is kept between runs: a second run on the same machine installs only what the package
# list gained and rebuilds only what changed. Needs root (debootstrap, mount, chroot). The source is
# mounted read-only at /attnbench inside; the build and its logs stay in the root (/build/release).
# Skips the clang-format check, whose layout is clang-format 14's, not trixie's 19. Ends with
# ctest's summary line and the tiers the shards ran (build/debian13/root/build/release/tier-counts).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
root=$src/build/debian13/root
mirror=${ATTN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[[ $(id -u) -eq 0 ]] || { echo "debian13 lane: needs root (debootstrap, mount, chroot)"; exit 1; }
command -v debootstrap >/dev/null || { echo "debian13 lane: debootstrap is not installed (bash tools/deps.sh)"; exit 1; }

# The packages of Debian 13 that the suite builds and tests with, less the host-only tools and
# the aarch64 lane's.
packages=()
for p in $(bash "$src/tools/deps.sh" --print debian13); do
  case $p in debootstrap | clang | libclang-rt-dev | clang-format | *:arm64 | g++-aarch64-linux-gnu | qemu-user-static) ;; *) packages+=("$p") ;; esac
done

if [[ ! -x $root/usr/bin/apt-get ]]; then
  echo "debian13 lane: debootstrap trixie into $root"
  rm -rf "$root"
  mkdir -p "$root"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$src/build/debian13/debootstrap.log" 2>&1 ||
    { echo "debian13 lane: debootstrap failed (see build/debian13/debootstrap.log)"; exit 1; }
fi

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}"; done
}
trap cleanup EXIT
mount_into() {  # mount_into SOURCE TARGET [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2" && mounted+=("$2")
  [[ ${3:-} == ro ]] && mount -o remount,bind,ro "$2"
  return 0
}
mount_into /proc "$root/proc"
mount_into /dev "$root/dev"
mount_into "$src" "$root/attnbench" ro
cp /etc/resolv.conf "$root/etc/resolv.conf"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

if [[ $(cat "$root/etc/attnbench-packages" 2>/dev/null) != "${packages[*]}" ]]; then
  echo "debian13 lane: installing ${packages[*]}"
  in_root /bin/bash -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends ${packages[*]} >/dev/null" ||
    { echo "debian13 lane: apt-get install failed"; exit 1; }
  echo "${packages[*]}" >"$root/etc/attnbench-packages"
  rm -rf "$root/build/release"  # CMake caches what it found missing: configure afresh
fi
echo "debian13 lane: $(in_root g++ --version | head -1); xsimd $(in_root dpkg-query -W -f='${Version}' libxsimd-dev)," \
     "oneDNN $(in_root dpkg-query -W -f='${Version}' libdnnl-dev), Google Benchmark" \
     "$(in_root dpkg-query -W -f='${Version}' libbenchmark-dev)"

in_root cmake -S /attnbench -B /build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
in_root cmake --build /build/release -j"$(nproc)" 2>&1 | { grep -E "error|warning" || true; }
[[ -x $root/build/release/attn_tests ]] || { echo "debian13 lane: the build failed"; exit 1; }
rm -f "$root/build/release/tier-counts"/shard*.txt
in_root /bin/bash -c "cd /build/release && ctest -j$(nproc) --output-on-failure -E '^format\\.'" |
  tee "$src/build/debian13/ctest.log"
