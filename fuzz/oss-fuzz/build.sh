#!/bin/bash -eu
# OSS-Fuzz build script for poolsim (projects/poolsim/build.sh in google/oss-fuzz). Builds
# Abseil from source with the fuzzing flags (static archives only: nothing but $OUT ships to
# the fuzzing machines), then the targets through the repository's own build_fuzzers.sh.
deps=$WORK/deps
cmake -S "$SRC/abseil-cpp" -B "$WORK/abseil-build" -G Ninja \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DCMAKE_CXX_STANDARD=20 -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF \
  -DABSL_PROPAGATE_CXX_STD=ON -DCMAKE_INSTALL_PREFIX="$deps"
cmake --build "$WORK/abseil-build" --target install
export POOLSIM_CMAKE_ARGS="-DCMAKE_PREFIX_PATH=$deps -DPOOLSIM_XXHASH_INCLUDE_DIR=$SRC/xxhash"
"$SRC/poolsim/scripts/build_fuzzers.sh"
