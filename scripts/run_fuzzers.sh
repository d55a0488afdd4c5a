#!/usr/bin/env bash
# Runs the fuzz targets (all, or one) for N seconds each on a working copy of their corpus
# (build/fuzz/corpus/<name>), crashes into build/fuzz/artifacts/, and prints exec/s and coverage
# per target. On a crash it prints the one-line reproduce command and exits 1. --merge folds the
# new inputs back into corpus/<name>/merged/, minimised; it only adds, never deletes (the
# generator's files stay apart from what the fuzzer found).
# Usage: scripts/run_fuzzers.sh [--target=NAME] [--seconds=N] [--jobs=N] [--merge]
# Uses the fuzzers in $OUT when they are there (e.g. built for OSS-Fuzz's environment);
# otherwise builds them with scripts/build_fuzzers.sh's local defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

targets_all=(pool_lifecycle message_cast sim)
bad() { echo "run_fuzzers.sh: $1" >&2; exit 2; }
targets=("${targets_all[@]}") seconds=60 jobs=1 merge=false
for argument in "$@"; do
  case "$argument" in
    --target=*)
      name=${argument#--target=}
      [[ " ${targets_all[*]} " == *" $name "* ]] || bad "--target=$name is not one of ${targets_all[*]}"
      targets=("$name") ;;
    --seconds=*) seconds=${argument#--seconds=} ;;
    --jobs=*) jobs=${argument#--jobs=} ;;
    --merge) merge=true ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) bad "unknown argument $argument (see --help)" ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || bad "--seconds=$seconds is not a positive integer"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || bad "--jobs=$jobs is not a positive integer"

out=${OUT:-$root/build/fuzz/out}
if [[ ! -x "$out/${targets[0]}_fuzzer" || -z "${OUT:-}" ]]; then
  OUT=$out scripts/build_fuzzers.sh >/dev/null
fi
artifacts=$root/build/fuzz/artifacts
mkdir -p "$artifacts"

crashed=0
for target in "${targets[@]}"; do
  fuzzer=$out/${target}_fuzzer
  work=$root/build/fuzz/corpus/$target
  mkdir -p "$work"
  # The working copy: the corpus and every regression (what a run finds stays here).
  find "corpus/$target" -type f ! -name '.*' -exec cp -n {} "$work/" \;
  options=()
  if [[ -f "$out/${target}_fuzzer.options" ]]; then
    max_len=$(sed -n 's/^max_len *= *//p' "$out/${target}_fuzzer.options")
    [[ -n "$max_len" ]] && options+=("-max_len=$max_len")
  fi
  [[ -f "$out/${target}_fuzzer.dict" ]] && options+=("-dict=$out/${target}_fuzzer.dict")
  ((jobs > 1)) && options+=("-fork=$jobs")
  log=$root/build/fuzz/$target.log
  echo "run_fuzzers: $target for ${seconds}s ($jobs worker(s)), corpus $work"
  status=0
  "$fuzzer" "${options[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" "$work" >"$log" 2>&1 || status=$?
  exec_per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  # Fork mode (--jobs) prints no final stats: take the last progress line's exec/s.
  [[ -z "$exec_per_second" ]] &&
    exec_per_second=$( (grep -oE 'exec/s: [0-9]+' "$log" || true) | tail -n1 | cut -d' ' -f2)
  coverage=$( (grep -oE 'cov: [0-9]+' "$log" || true) | tail -n1 | cut -d' ' -f2)
  echo "run_fuzzers: $target: ${exec_per_second:-?} exec/s, coverage ${coverage:-?} edges, corpus $(find "$work" -type f | wc -l) inputs"
  if ((status != 0)); then
    crashed=$((crashed + 1))
    artifact=$( (grep -oE "Test unit written to [^ ]+" "$log" || true) | tail -n1 | cut -d' ' -f5)
    grep -m3 -E "ERROR|assertion failed|SUMMARY" "$log" | sed 's/^/  /' || true
    echo "  log: $log"
    echo "  reproduce: scripts/reproduce.sh --target=$target ${artifact:-<artifact in $artifacts>}"
    continue
  fi
  if $merge; then
    # -merge=1 adds to its first directory only the inputs that bring new coverage.
    # Against everything already kept (corpus, merged, regressions), so that only inputs with
    # new coverage are added; libFuzzer's merge adds to its first directory, never removes.
    merged=corpus/$target/merged
    kept=$(mktemp -d)
    find "corpus/$target" -type f ! -name '.*' -exec cp {} "$kept/" \;
    ls "$kept" >"$kept.before"
    "$fuzzer" "${options[@]}" -merge=1 "$kept" "$work" >>"$log" 2>&1
    added=0
    for file in "$kept"/*; do
      grep -qxF "$(basename "$file")" "$kept.before" && continue
      cp -n "$file" "$merged/"
      added=$((added + 1))
    done
    rm -rf "$kept" "$kept.before"
    echo "run_fuzzers: $target: merged $added new inputs into $merged"
  fi
done
((crashed == 0)) || { echo "run_fuzzers: $crashed target(s) crashed"; exit 1; }
