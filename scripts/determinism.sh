#!/usr/bin/env bash
# Checks that a seed gives the same trace under different compilers and sanitizers: runs each
# seed with the release build (gcc) and the asan build (clang, ASan + UBSan) and compares their
# trace hashes. A mismatch names the first event at which the two runs diverge (index, tick,
# and each side's description), not just two hashes. Builds both presets if needed.
# Usage: scripts/determinism.sh [--seeds=FIRST..LAST] [sim flags...]   (default seeds 1..12)
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=1..12 sim_flags=()
for argument in "$@"; do
  case "$argument" in
    --seeds=*) seeds=${argument#--seeds=} ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) sim_flags+=("$argument") ;;
  esac
done
bad() { echo "determinism.sh: $1" >&2; exit 2; }
[[ "$seeds" =~ ^([0-9]+)\.\.([0-9]+)$ ]] || bad "--seeds=$seeds is not FIRST..LAST"
first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
((first <= last)) || bad "--seeds=$seeds: FIRST must not exceed LAST"

scripts/setup.sh >&2
for preset in release asan; do
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" --target sim_cli >/dev/null
done

# Bad flags are bad input, not a divergence.
if check=$(build/release/sim/sim --seed="$first" --requests-max=1 --ticks-max-requests=1 \
  --log=quiet "${sim_flags[@]}" 2>&1); then :; else
  (($? == 2)) && { echo "$check" >&2; exit 2; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mismatches=0
for seed in $(seq "$first" "$last"); do
  declare -A code=()
  for preset in release asan; do
    : >"$work/$preset.txt"
    code[$preset]=0
    build/$preset/sim/sim --seed="$seed" --log=quiet --trace-events="$work/$preset.txt" \
      --overwrite "${sim_flags[@]}" >"$work/$preset.out" 2>&1 || code[$preset]=$?
  done
  gcc_hash=$(tail -n1 "$work/release.txt" | cut -d' ' -f3)
  clang_hash=$(tail -n1 "$work/asan.txt" | cut -d' ' -f3)
  if ((code[release] > 1 || code[asan] > 1)); then
    # A crash (an assertion, a sanitizer report) is not a verdict: show it.
    mismatches=$((mismatches + 1))
    echo "seed $seed: CRASHED (gcc release exit ${code[release]}, clang asan exit ${code[asan]})"
    for preset in release asan; do
      ((code[$preset] > 1)) && { echo "  $preset output (last lines):"; tail -n 15 "$work/$preset.out" | sed 's/^/    /'; }
    done
    echo "  replay: scripts/sim.sh --seed=$seed ${sim_flags[*]}"
    continue
  fi
  if [[ -n "$gcc_hash" && "$gcc_hash" == "$clang_hash" && ${code[release]} == "${code[asan]}" ]] &&
    cmp -s "$work/release.txt" "$work/asan.txt"; then
    echo "seed $seed: $gcc_hash (gcc release = clang asan, $(wc -l <"$work/release.txt") events)"
    continue
  fi
  mismatches=$((mismatches + 1))
  line=$(cmp "$work/release.txt" "$work/asan.txt" 2>&1 | grep -oE 'line [0-9]+' | cut -d' ' -f2 || true)
  echo "seed $seed: DIVERGED (gcc $gcc_hash, clang $clang_hash)"
  if [[ -n "$line" ]]; then
    echo "  first diverging event (index tick hash description):"
    echo "    gcc release: $(sed -n "${line}p" "$work/release.txt")"
    echo "    clang asan:  $(sed -n "${line}p" "$work/asan.txt")"
  else
    echo "  one run ended early: gcc $(wc -l <"$work/release.txt") events, clang $(wc -l <"$work/asan.txt")"
  fi
  echo "  replay: scripts/sim.sh --seed=$seed ${sim_flags[*]}"
done
if ((mismatches > 0)); then
  echo "determinism: $mismatches seed(s) diverged between gcc release and clang asan"
  exit 1
fi
echo "determinism: seeds $first..$last agree between gcc release and clang asan"
