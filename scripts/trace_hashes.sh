#!/usr/bin/env bash
# Prints "KIND SEED HASH VERDICT" for a set of seeds, with a given sim binary: the fingerprint a
# refactoring must keep (compare two runs' outputs with diff). KIND is default, stress or
# production; the hash is the run's trace hash, the verdict PASS or the failure kind.
# Usage: scripts/trace_hashes.sh [--sim=PATH] [--jobs=N] [KIND=FIRST..LAST ...]
#        (default: build/release/sim/sim, 2 jobs, default=1..300 stress=1..100 production=1..30)
set -euo pipefail
cd "$(dirname "$0")/.."

sim=build/release/sim/sim jobs=2 sets=()
for argument in "$@"; do
  case "$argument" in
    --sim=*) sim=${argument#--sim=} ;;
    --jobs=*) jobs=${argument#--jobs=} ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) sets+=("$argument") ;;
  esac
done
bad() { echo "trace_hashes.sh: $1" >&2; exit 2; }
((${#sets[@]} > 0)) || sets=(default=1..300 stress=1..100 production=1..30)
[[ -x "$sim" ]] || bad "--sim=$sim is not an executable (build it: cmake --build --preset release)"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || bad "--jobs=$jobs is not a positive integer"

one() {  # one <sim> <kind> <seed>
  local flags=()
  case "$2" in
    stress) flags=(--swarm=stress) ;;
    production) flags=(--profile=production) ;;
  esac
  local output verdict hash
  output=$("$1" --seed="$3" --log=short "${flags[@]}" 2>&1) || true
  hash=$(grep -m1 -oE '^trace hash [0-9a-f]+' <<<"$output" | cut -d' ' -f3)
  verdict=$(grep -m1 -oE '^(PASS|FAIL [a-z_]+)' <<<"$output" | tr ' ' '_')
  echo "$2 $3 ${hash:-none} ${verdict:-crashed}"
}
export -f one

for set in "${sets[@]}"; do
  [[ "$set" =~ ^(default|stress|production)=([0-9]+)\.\.([0-9]+)$ ]] ||
    bad "$set is not KIND=FIRST..LAST (KIND: default, stress or production)"
  kind=${BASH_REMATCH[1]}
  seq "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" | xargs -P "$jobs" -I{} bash -c "one '$sim' $kind {}"
done | sort -k1,1 -k2,2n
