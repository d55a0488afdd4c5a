#!/usr/bin/env bash
# Sets everything up and runs every test: installs missing Debian packages, configures and builds
# a preset (default: release), runs ctest. Exits non-zero on any failure.
# Usage: scripts/test.sh [--preset=release|debug|asan|clang-release] [ctest arguments...]
# With CI=true (or --preset=ci), warnings in our code are errors.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
ctest_arguments=()
for argument in "$@"; do
  case "$argument" in
    --preset=*) preset=${argument#--preset=} ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ctest_arguments+=("$argument") ;;
  esac
done
case "$preset" in
  release | debug | asan | clang-release | ci) ;;
  *) echo "test.sh: --preset=$preset is not accepted: one of release|debug|asan|clang-release|ci" >&2
     exit 2 ;;
esac

scripts/setup.sh
werror=OFF
[[ "${CI:-}" == "true" || "$preset" == "ci" ]] && werror=ON

echo "test.sh: preset $preset (warnings as errors: $werror)"
cmake --preset "$preset" -DPOOLSIM_WERROR="$werror" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" "${ctest_arguments[@]}"
