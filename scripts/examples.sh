#!/usr/bin/env bash
# The pool as others take it: builds the pool alone (-DPOOLSIM_POOL_ONLY=ON: a compiler, CMake and
# xxHash's header, nothing else looked for), makes the Debian package with CPack, installs it with
# apt, and builds and runs pool/examples/ four ways: find_package against the installed package,
# add_subdirectory and FetchContent of this tree, and a plain compile through pkg-config. Each
# example must report its planted breach. A package this script installed is removed at exit.
# Usage: scripts/examples.sh [--keep-package]
set -euo pipefail
cd "$(dirname "$0")/.."

keep_package=false
for argument in "$@"; do
  case "$argument" in
    --keep-package) keep_package=true ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "examples.sh: unknown argument $argument (see --help)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
werror=OFF
[[ "${CI:-}" == true ]] && werror=ON
sudo_command=()
((EUID == 0)) || sudo_command=(sudo)
out=build/examples
rm -rf "$out"

echo "examples: the pool alone (POOLSIM_POOL_ONLY=ON), packaged with cpack -G DEB"
cmake -S . -B "$out/package" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOOLSIM_POOL_ONLY=ON \
  -DPOOLSIM_WERROR="$werror" >/dev/null
if grep -qiE '^(absl|GTest|rapidcheck|benchmark|nlohmann)[A-Za-z_]*_DIR' "$out/package/CMakeCache.txt"; then
  echo "examples: the pool-only build looked for a dependency beyond xxHash" >&2; exit 1
fi
cmake --build "$out/package" -j2
(cd "$out/package" && cpack -G DEB >/dev/null)
deb=$(ls "$out"/package/libpoolsim-dev_*.deb)
dpkg-deb -f "$deb" Depends | grep -q libxxhash-dev ||
  { echo "examples: $deb does not depend on libxxhash-dev" >&2; exit 1; }

installed_before=false
dpkg-query -W -f='${Status}' libpoolsim-dev 2>/dev/null | grep -q "install ok installed" &&
  installed_before=true
remove_package() {
  if ! $installed_before && ! $keep_package; then
    "${sudo_command[@]}" apt-get remove -y -qq libpoolsim-dev >/dev/null
  fi
}
trap remove_package EXIT
echo "examples: apt install ./$deb"
DEBIAN_FRONTEND=noninteractive "${sudo_command[@]}" apt-get install -y -qq "./$deb" >/dev/null

run_example() {  # run_example <name> <binary> [expected line]
  local output expected=${3:-"planted breach reported: journal_writes"}
  output=$("$2") || { echo "$output"; echo "examples: $1 failed" >&2; exit 1; }
  grep -q "$expected" <<<"$output" ||
    { echo "$output"; echo "examples: $1 did not print: $expected" >&2; exit 1; }
  echo "examples: $1: $(grep "$expected" <<<"$output")"
}

cmake -S pool/examples/find_package -B "$out/find_package" -G Ninja >/dev/null
cmake --build "$out/find_package" -j2 >/dev/null
run_example find_package "$out/find_package/holders_example"

for way in add_subdirectory fetch_content; do
  cmake -S "pool/examples/$way" -B "$out/$way" -G Ninja >/dev/null
  if grep -qiE '^(absl|GTest|rapidcheck|benchmark|nlohmann)[A-Za-z_]*_DIR' "$out/$way/CMakeCache.txt"; then
    echo "examples: $way built more than the pool (a dependency beyond xxHash was looked for)" >&2
    exit 1
  fi
  cmake --build "$out/$way" -j2 >/dev/null
  run_example "$way" "$out/$way/holders_example"
done

mkdir -p "$out/pkg_config"
# shellcheck disable=SC2046  # pkg-config's output is words.
g++ -std=c++20 -O2 pool/examples/holders_example.cc $(pkg-config --cflags --libs poolsim) \
  -o "$out/pkg_config/holders_example"
run_example pkg_config "$out/pkg_config/holders_example"
# Compiled out, the same code builds against the same API and runs on the pool alone.
g++ -std=c++20 -O2 -Wall -Wextra -Werror pool/examples/holders_example.cc \
  $(pkg-config --cflags --libs poolsim) -UPOOLSIM_ACCOUNTING_ENABLED -DPOOLSIM_ACCOUNTING_ENABLED=0 \
  -o "$out/pkg_config/holders_example_compiled_out"
run_example "pkg_config, accounting compiled out" "$out/pkg_config/holders_example_compiled_out" \
  "accounting compiled out"
echo "examples: version $(pkg-config --modversion poolsim), every way in builds and reports"
