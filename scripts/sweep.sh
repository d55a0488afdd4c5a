#!/usr/bin/env bash
# Runs a range of seeds in one sim process on --jobs threads (sim --seeds), with a progress line
# (done/total, failures, ETA), prints each failing seed's replay command, and writes one aggregate
# JSON: pass/fail counts, each seed's trace hash and, per role and formula term, the peak over all
# seeds against its bound. A seed that crashes (an assertion, a sanitizer) loses no other seed's
# result: sim runs it again alone and reports it with its replay command. Past one machine, the
# same sweep runs as tasks of contiguous seed ranges whose aggregates merge into exactly the
# aggregate of one local sweep.
# Usage: scripts/sweep.sh --seeds=FIRST..LAST [--jobs=N] [--out=DIR] [--expect-terms=FILE]
#          [--expect-holders=FILE] [--plot] [--process-per-seed] [sim flags, e.g. --swarm=stress]
#   --process-per-seed: the sweep as it ran before sim --seeds, one sim process per seed under
#     GNU parallel (slower; CI checks that both write the same aggregate).
#   On Slurm: --slurm --seeds-per-task=M [--sbatch-args='--partition=X ...']: builds, submits a
#     job array (one task per M seeds, scripts/sweep.sbatch), waits with a progress line, merges.
#   One task: --shard=K/N (K from 0; the K-th of N near-equal ranges), or --seeds-per-task=M with
#     the task index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
#     A task needs --out=DIR (shared by all tasks), writes DIR/tasks/K, and neither installs nor
#     builds: build first (cmake --preset release && cmake --build --preset release).
#   --merge DIR: merges DIR/tasks/*/aggregate.json into DIR/aggregate.json and prints the report.
# Results go to DIR (default build/sweeps/<first>-<last>-<n>, a new directory each time):
# one summary JSON per seed, sim's output per seed in logs/, and aggregate.json. The report
# lists, per role, bus and formula term, the peak over the sweep against its bound, and the
# terms no seed drove to their bound. --expect-terms=FILE (e.g. scripts/terms_expected.txt):
# a term FILE says is reached and that no seed reached fails the sweep; --expect-holders=FILE
# (scripts/holders_expected.txt) the same for the census's holders (local sweeps and --merge).
# --plot also draws the headroom picture, DIR/headroom.png (scripts/plot.sh).
# Exit: 0 all passed, 1 some failed (or a coverage regression), 2 bad input.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
bad() { echo "sweep.sh: $1" >&2; exit 2; }

seeds="" jobs="" out="" expect_terms="" expect_holders="" merge="" shard="" seeds_per_task="" slurm=false plot=false
process_per_seed=false
sbatch_args="" sim_flags=()
while (($# > 0)); do
  argument=$1
  shift
  case "$argument" in
    --seeds=*) seeds=${argument#--seeds=} ;;
    --jobs=*) jobs=${argument#--jobs=} ;;
    --out=*) out=${argument#--out=} ;;
    --expect-terms=*) expect_terms=${argument#--expect-terms=} ;;
    --expect-holders=*) expect_holders=${argument#--expect-holders=} ;;
    --merge=*) merge=${argument#--merge=} ;;
    --merge) (($# > 0)) || bad "--merge needs a directory"; merge=$1; shift ;;
    --shard=*) shard=${argument#--shard=} ;;
    --seeds-per-task=*) seeds_per_task=${argument#--seeds-per-task=} ;;
    --slurm) slurm=true ;;
    --sbatch-args=*) sbatch_args=${argument#--sbatch-args=} ;;
    --plot) plot=true ;;
    --process-per-seed) process_per_seed=true ;;
    -h | --help) usage; exit 0 ;;
    --seed=*) bad "--seed is chosen per run; use --seeds=FIRST..LAST" ;;
    --summary-json=* | --trace-events=* | --trace-out=*) bad "$argument: the sweep writes its own files" ;;
    --minimize) bad "--minimize is for one failing seed: scripts/minimize.sh --seed=N ..." ;;
    *) sim_flags+=("$argument") ;;
  esac
done
[[ -z "$expect_terms" || -r "$expect_terms" ]] || bad "--expect-terms=$expect_terms cannot be read"
aggregate_tool=build/release/sim/sweep-aggregate
[[ -z "$expect_holders" || -r "$expect_holders" ]] \
  || bad "--expect-holders=$expect_holders cannot be read"
aggregate_flags=()
[[ -n "$expect_terms" ]] && aggregate_flags+=(--expected-terms="$expect_terms")
[[ -n "$expect_holders" ]] && aggregate_flags+=(--expected-holders="$expect_holders")

# The headroom picture of an aggregate, when --plot asked for it (never fails the sweep).
plot_headroom() {
  $plot || return 0
  scripts/plot.sh headroom "$1/aggregate.json" "$1/headroom.png" || echo "sweep: the plot failed"
}

# --merge DIR: nothing else to do.
if [[ -n "$merge" ]]; then
  [[ -z "$seeds$shard$seeds_per_task" ]] && ! $slurm && ! $process_per_seed \
    && ((${#sim_flags[@]} == 0)) \
    || bad "--merge takes only --expect-terms, --expect-holders and --plot"
  [[ -d "$merge" ]] || bad "--merge $merge is not a directory"
  [[ -e "$merge/aggregate.json" ]] && bad "$merge/aggregate.json exists; remove it to merge again"
  [[ -x "$aggregate_tool" ]] || { scripts/setup.sh >&2; cmake --preset release >/dev/null;
    cmake --build --preset release --target sweep-aggregate >/dev/null; }
  status=0
  "$aggregate_tool" --merge="$merge" --out="$merge/aggregate.json" "${aggregate_flags[@]}" || status=$?
  ((status == 2)) && exit 2
  echo "sweep: merged aggregate in $merge/aggregate.json"
  plot_headroom "$merge"
  exit "$status"
fi

[[ "$seeds" =~ ^([0-9]+)\.\.([0-9]+)$ ]] || bad "--seeds=$seeds is not FIRST..LAST (decimal)"
first=${BASH_REMATCH[1]} last=${BASH_REMATCH[2]}
((first <= last)) || bad "--seeds=$seeds: FIRST must not exceed LAST"
total=$((last - first + 1))
[[ -z "$jobs" || "$jobs" =~ ^[1-9][0-9]*$ ]] || bad "--jobs=$jobs is not a positive integer"
[[ -z "$seeds_per_task" || "$seeds_per_task" =~ ^[1-9][0-9]*$ ]] \
  || bad "--seeds-per-task=$seeds_per_task is not a positive integer"
[[ -n "$shard" && -n "$seeds_per_task" ]] && bad "give --shard=K/N or --seeds-per-task=M, not both"
$slurm && [[ -z "$seeds_per_task" ]] && bad "--slurm needs --seeds-per-task=M"
$slurm && [[ -n "$shard" ]] && bad "--slurm makes its own tasks; drop --shard"
[[ -n "$sbatch_args" ]] && ! $slurm && bad "--sbatch-args needs --slurm"
$slurm && $process_per_seed && bad "--process-per-seed is for local sweeps"

# One task of a sharded sweep: which seeds are ours.
task="" tasks=""
if [[ -n "$shard" ]]; then
  [[ "$shard" =~ ^([0-9]+)/([1-9][0-9]*)$ ]] || bad "--shard=$shard is not K/N (K from 0 to N-1)"
  task=${BASH_REMATCH[1]} tasks=${BASH_REMATCH[2]}
  ((task < tasks)) || bad "--shard=$shard: K must be below N (K counts from 0)"
  ((tasks <= total)) || bad "--shard=$shard: more shards than the $total seeds"
  task_first=$((first + task * total / tasks)) task_last=$((first + (task + 1) * total / tasks - 1))
elif [[ -n "$seeds_per_task" ]] && ! $slurm; then
  task=${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}
  [[ -n "$task" ]] || bad "--seeds-per-task without --slurm is one task of an array: set SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX (or use --shard=K/N)"
  [[ "$task" =~ ^[0-9]+$ ]] || bad "the task index '$task' is not a number"
  tasks=$(((total + seeds_per_task - 1) / seeds_per_task))
  ((task < tasks)) || bad "task $task is past the last ($tasks tasks of $seeds_per_task seeds in $seeds)"
  task_first=$((first + task * seeds_per_task))
  task_last=$((task_first + seeds_per_task - 1 < last ? task_first + seeds_per_task - 1 : last))
fi
if [[ -n "$task" ]]; then
  [[ -n "$out" ]] || bad "a task needs --out=DIR, the directory all the sweep's tasks share"
  for binary in build/release/sim/sim "$aggregate_tool"; do
    [[ -x "$binary" ]] || bad "$binary is missing: a task does not build; run cmake --preset release && cmake --build --preset release first"
  done
  ! $process_per_seed || command -v parallel >/dev/null \
    || bad "GNU parallel is not installed on $(hostname) (apt-get install parallel)"
  out=$out/tasks/$task
  echo "sweep: task $task of $tasks: seeds $task_first..$task_last"
  # Expected terms hold for the whole sweep, not a task's share: the merge checks them.
  [[ -n "$expect_terms" ]] && echo "sweep: --expect-terms applies at --merge, not to one task"
  aggregate_flags=(--sweep-seeds="$first..$last")
  # A task run before that left no aggregate (killed, requeued) is moved aside, not overwritten.
  if [[ -e "$out" && ! -e "$out/aggregate.json" ]]; then
    n=1
    while [[ -e "$out.failed-$n" ]]; do n=$((n + 1)); done
    mv "$out" "$out.failed-$n"
    echo "sweep: an earlier unfinished run of this task moved to $out.failed-$n"
  fi
  first=$task_first last=$task_last total=$((last - first + 1))
  jobs=${jobs:-${SLURM_CPUS_PER_TASK:-$(nproc)}}
else
  scripts/setup.sh parallel jq >&2
  cmake --preset release >/dev/null
  cmake --build --preset release --target sim_cli sweep-aggregate >/dev/null
  jobs=${jobs:-$(nproc)}
fi
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

if $slurm; then
  [[ -z "$expect_holders" ]] || bad "--expect-holders applies to a local sweep or a --merge"
  exec scripts/sweep_slurm.sh "$out" "$first" "$last" "$seeds_per_task" "$sbatch_args" \
    "$expect_terms" "$plot" "${sim_flags[@]}"
fi

if ! $process_per_seed; then
  # Every seed in one process: its summary, log and the aggregate, exactly as below.
  status=0
  "$sim" --seeds="$first..$last" --jobs="$jobs" --out="$out" "${aggregate_flags[@]}" \
    "${sim_flags[@]}" || status=$?
  ((status == 2)) && exit 2
  [[ -z "$task" ]] && plot_headroom "$out"
  exit "$status"
fi

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

# A run that died before writing its summary (an assertion) is a failure too: it gets a stand-in
# summary naming its first assertion line and its replay command.
json_string() {
  local text=${1//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "$(printf '%s' "$text" | tr -d '\000-\037')"
}
for seed in $(seq "$first" "$last"); do
  [[ -s "$out/summaries/$seed.json" ]] && continue
  detail=$(grep -m1 -E 'assertion' "$out/logs/$seed.txt" || tail -n1 "$out/logs/$seed.txt" || true)
  printf '{"seed": %s, "crashed": true, "failure": {"kind": "crashed", "detail": %s}, "repro": %s}\n' \
    "$seed" "$(json_string "$detail")" "$(json_string "scripts/sim.sh --seed=$seed ${sim_flags[*]}")" \
    >"$out/summaries/$seed.json"
  echo "FAIL seed $seed (no summary): $detail"
done
status=0
"$aggregate_tool" --results="$out/summaries" --out="$out/aggregate.json" "${aggregate_flags[@]}" || status=$?
echo "sweep: aggregate in $out/aggregate.json"
[[ -z "$task" ]] && plot_headroom "$out"
exit "$status"
