#!/usr/bin/env bash
# Runs a range of seeds in parallel (GNU parallel), with a progress line (done/total, failures,
# ETA), prints each failing seed's replay command, and writes one aggregate JSON: pass/fail
# counts and, per role and formula term, the peak over all seeds against its bound.
# Usage: scripts/sweep.sh --seeds=FIRST..LAST [--jobs=N] [--out=DIR] [--expect-terms=FILE]
#        [sim flags, e.g. --swarm=stress --bus=tcp...]
# Results go to DIR (default build/sweeps/<first>-<last>-<n>, a new directory each time):
# one summary JSON per seed, sim's output per seed in logs/, and aggregate.json. The report
# lists, per role, bus and formula term, the peak over the sweep against its bound, and the
# terms no seed drove to their bound. --expect-terms=FILE (e.g. scripts/terms_expected.txt):
# a term FILE says is reached and that no seed reached fails the sweep.
# Exit: 0 all passed, 1 some failed (or a coverage regression), 2 bad input.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
bad() { echo "sweep.sh: $1" >&2; exit 2; }

seeds="" jobs=$(nproc) out="" expect_terms="" sim_flags=()
for argument in "$@"; do
  case "$argument" in
    --seeds=*) seeds=${argument#--seeds=} ;;
    --jobs=*) jobs=${argument#--jobs=} ;;
    --out=*) out=${argument#--out=} ;;
    --expect-terms=*) expect_terms=${argument#--expect-terms=} ;;
    -h | --help) usage; exit 0 ;;
    --seed=*) bad "--seed is chosen per run; use --seeds=FIRST..LAST" ;;
    --summary-json=* | --trace-events=*) bad "$argument: the sweep writes its own files" ;;
    *) sim_flags+=("$argument") ;;
  esac
done
[[ "$seeds" =~ ^([0-9]+)\.\.([0-9]+)$ ]] || bad "--seeds=$seeds is not FIRST..LAST (decimal)"
first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
((first <= last)) || bad "--seeds=$seeds: FIRST must not exceed LAST"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || bad "--jobs=$jobs is not a positive integer"
total=$((last - first + 1))
[[ -z "$expect_terms" || -r "$expect_terms" ]] || bad "--expect-terms=$expect_terms cannot be read"

scripts/setup.sh parallel >&2
cmake --preset release >/dev/null
cmake --build --preset release --target sim_cli sweep-aggregate >/dev/null
sim=build/release/sim/sim

# The flags must be valid before fanning out: one run of the first seed's options, checked only.
check=$("$sim" --seed="$first" --requests-max=1 --ticks-max-requests=1 --log=quiet "${sim_flags[@]}" 2>&1) \
  || { [[ $? == 2 ]] && { echo "$check" >&2; exit 2; }; true; }

if [[ -z "$out" ]]; then
  n=1
  while [[ -e build/sweeps/$first-$last-$n ]]; do n=$((n + 1)); done
  out=build/sweeps/$first-$last-$n
fi
[[ -e "$out" ]] && bad "--out=$out exists; choose a new directory"
mkdir -p "$out/summaries" "$out/logs"
joblog="$out/joblog"

echo "sweep: seeds $first..$last ($total), $jobs jobs, results in $out"
start=$SECONDS
# -q passes every argument through untouched (paths and flag values with spaces included).
parallel -q --jobs "$jobs" --joblog "$joblog" --halt never \
  bash -c 'exec "$0" --seed="$1" --log=quiet --summary-json="$2/summaries/$1.json" "${@:3}" >"$2/logs/$1.txt" 2>&1' \
  "$sim" {} "$out" "${sim_flags[@]}" ::: $(seq "$first" "$last") &
parallel_pid=$!
progress() {
  local done=0 failed=0
  if [[ -s "$joblog" ]]; then
    done=$(($(wc -l <"$joblog") - 1))
    failed=$(awk 'NR > 1 && $7 != 0' "$joblog" | wc -l)
  fi
  local elapsed=$((SECONDS - start)) eta="?"
  ((done > 0)) && eta=$(((total - done) * elapsed / done))s
  local line
  line=$(printf 'sweep: %d/%d done, %d failed, %ds elapsed, ETA %s' "$done" "$total" "$failed" "$elapsed" "$eta")
  # A terminal gets one line redrawn each second; a log gets a line every 10 seconds.
  if [[ -t 1 ]]; then
    printf '\r%s   ' "$line"
  elif [[ "${1:-}" == final ]] || ((elapsed - last_printed >= 10)); then
    echo "$line"
    last_printed=$elapsed
  fi
}
last_printed=0
while kill -0 "$parallel_pid" 2>/dev/null; do
  progress
  sleep 1
done
wait "$parallel_pid" || true
progress final
[[ -t 1 ]] && echo

# A run that crashed before writing its summary (an assertion) is a failure too.
crashed=0
for seed in $(seq "$first" "$last"); do
  if [[ ! -s "$out/summaries/$seed.json" ]]; then
    crashed=$((crashed + 1))
    echo "FAIL seed $seed (no summary): $(grep -m1 -E 'assertion' "$out/logs/$seed.txt" || tail -n1 "$out/logs/$seed.txt")"
    echo "  replay: scripts/sim.sh --seed=$seed ${sim_flags[*]}"
  fi
done
status=0
aggregate_flags=(--results="$out/summaries" --out="$out/aggregate.json" --crashed="$crashed")
[[ -n "$expect_terms" ]] && aggregate_flags+=(--expected-terms="$expect_terms")
build/release/sim/sweep-aggregate "${aggregate_flags[@]}" || status=$?
((crashed > 0)) && ((status == 0)) && status=1
echo "sweep: aggregate in $out/aggregate.json"
exit "$status"
