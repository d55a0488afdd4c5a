#!/usr/bin/env bash
# Builds the fuzz targets the way OSS-Fuzz's build.sh contract says: with $CC, $CXX, $CFLAGS and
# $CXXFLAGS, linked with $LIB_FUZZING_ENGINE, and writes each target with its
# <name>_seed_corpus.zip, .dict and .options into $OUT. Unset variables take local defaults
# (clang, ASan + UBSan, -fsanitize=fuzzer, OUT=build/fuzz/out, WORK=build/fuzz/work).
# Usage: scripts/build_fuzzers.sh   (configure through the environment only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ "${1:-}" == "-h" || "${1:-}" == "--help" ]] && { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
(($# == 0)) || { echo "build_fuzzers.sh: no arguments (configure through CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, OUT, WORK)" >&2; exit 2; }

# Under OSS-Fuzz the image has what it needs; locally the Debian packages (and zip) come first.
[[ -z "${SRC:-}" ]] && scripts/setup.sh zip >&2
local_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
: "${CC:=clang}" "${CXX:=clang++}"
: "${CFLAGS:=$local_flags}" "${CXXFLAGS:=$local_flags}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$root/build/fuzz/out}" "${WORK:=$root/build/fuzz/work}"
mkdir -p "$OUT" "$WORK"
targets=(pool_lifecycle message_cast sim)

echo "build_fuzzers: CC=$CC CXX=$CXX"
echo "build_fuzzers: CXXFLAGS=$CXXFLAGS"
echo "build_fuzzers: LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE OUT=$OUT"
# The flags are the environment's alone: no build type adds its own, no sanitizer option.
cmake -S "$root" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DPOOLSIM_FUZZ=ON -DPOOLSIM_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" -DPOOLSIM_SANITIZE= \
  -DPOOLSIM_BUILD_TESTS=OFF -DPOOLSIM_BUILD_TOOLS=OFF ${POOLSIM_CMAKE_ARGS:-} >/dev/null
cmake --build "$WORK/build" --parallel "$(nproc)" --target "${targets[@]/%/_fuzzer}"

for target in "${targets[@]}"; do
  cp "$WORK/build/fuzz/${target}_fuzzer" "$OUT/"
  for extra in dict options; do
    [[ -f "fuzz/${target}_fuzzer.$extra" ]] && cp "fuzz/${target}_fuzzer.$extra" "$OUT/"
  done
  rm -f "$OUT/${target}_fuzzer_seed_corpus.zip"
  (cd "corpus/$target" && zip -q -r "$OUT/${target}_fuzzer_seed_corpus.zip" . -x '.*' '*/.*')
  echo "build_fuzzers: $OUT/${target}_fuzzer (+ seed corpus of $(find "corpus/$target" -type f ! -name '.*' | wc -l) inputs)"
done
