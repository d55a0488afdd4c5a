#!/usr/bin/env bash
# Replays a failure with everything on. A crash file: rebuilds the fuzzers if needed and runs the
# target on that one input under ASan + UBSan with symbolized stacks. A seed: replays the
# simulation with full logging (each event printed). Both print what they ran.
# Usage: scripts/reproduce.sh --target=NAME CRASH_FILE
#        scripts/reproduce.sh --seed=N [sim flags...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

targets_all=(pool_lifecycle message_cast sim)
bad() { echo "reproduce.sh: $1" >&2; exit 2; }
(($# > 0)) || bad "give --target=NAME CRASH_FILE or --seed=N (see --help)"
# --seed N and --target NAME mean --seed=N and --target=NAME.
if [[ "$1" == "--seed" || "$1" == "--target" ]]; then
  (($# >= 2)) || bad "$1 needs a value"
  first="$1=$2"
  shift 2
  set -- "$first" "$@"
fi
case "$1" in
  -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --seed=*)
    seed=${1#--seed=}
    [[ "$seed" =~ ^([0-9]+|0[xX][0-9a-fA-F]+)$ ]] || bad "--seed=$seed is not a decimal or 0x-hex integer"
    echo "reproduce: scripts/sim.sh $* --log=full"
    exec scripts/sim.sh "$@" --log=full ;;
  --target=*)
    target=${1#--target=}
    [[ " ${targets_all[*]} " == *" $target "* ]] || bad "--target=$target is not one of ${targets_all[*]}"
    (($# == 2)) || bad "give exactly one crash file after --target=$target"
    file=$2
    [[ -f "$file" ]] || bad "$file: no such file" ;;
  *) bad "unknown argument $1 (see --help)" ;;
esac

# The local ASan + UBSan build, whatever OSS-Fuzz variables the environment holds.
env -u OUT -u WORK -u SRC -u CC -u CXX -u CFLAGS -u CXXFLAGS -u LIB_FUZZING_ENGINE \
  scripts/build_fuzzers.sh >/dev/null
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
export ASAN_OPTIONS="symbolize=1:abort_on_error=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
fuzzer=$root/build/fuzz/out/${target}_fuzzer
echo "reproduce: ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS $fuzzer $file"
exec "$fuzzer" "$file"
