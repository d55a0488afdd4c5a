#!/usr/bin/env bash
# Installs the Debian packages poolsim needs that are missing (nothing else), then returns.
# The scripts that build (test.sh, bench.sh, rapidcheck_sweep.sh) call it first.
# Usage: scripts/setup.sh [extra packages...]
set -euo pipefail

packages=(
  cmake ninja-build g++ clang clang-format libclang-rt-14-dev pkg-config git
  libgtest-dev libgmock-dev librapidcheck-dev libabsl-dev libbenchmark-dev libxxhash-dev
  nlohmann-json3-dev
  "$@"
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
((${#missing[@]} == 0)) && exit 0

echo "setup: installing ${missing[*]}"
sudo_command=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 2; }
  sudo_command=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_command[@]}" apt-get update -qq
"${sudo_command[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
