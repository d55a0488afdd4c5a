#!/usr/bin/env bash
# The Slurm half of `scripts/sweep.sh --slurm` (which checks the arguments and builds, then runs
# this): submits the sweep as a job array of scripts/sweep.sbatch, one task per contiguous range
# of seeds; waits with a progress line (tasks done/total, running, pending, seeds failed so far),
# printing each failing seed's replay command as its task ends; then merges the tasks' aggregates.
# Interrupted, it cancels the job. Exit: 0 all passed, 1 some failed, 2 bad input.
# Usage (internal): sweep_slurm.sh OUT FIRST LAST SEEDS_PER_TASK SBATCH_ARGS EXPECT_TERMS PLOT
#                   [sim flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

bad() { echo "sweep.sh: $1" >&2; exit 2; }
(($# >= 7)) || bad "sweep_slurm.sh is run by sweep.sh --slurm"
out=$1 first=$2 last=$3 seeds_per_task=$4 sbatch_args=$5 expect_terms=$6 plot=$7
shift 7
sim_flags=("$@")
for command in sbatch squeue scancel; do
  command -v "$command" >/dev/null \
    || bad "$command not found: run on a Slurm login node (scripts/slurm_cluster.sh start runs a one-node cluster here)"
done

total=$((last - first + 1))
tasks=$(((total + seeds_per_task - 1) / seeds_per_task))
mkdir -p "$out/tasks"
read -r -a extra <<<"$sbatch_args"
# The job id is the last line of stdout ("ID" or "ID;cluster"); warnings go to stderr.
submitted=$(sbatch --parsable --array="0-$((tasks - 1))" --chdir="$PWD" --job-name=poolsim-sweep \
  --output="$out/tasks/%a.log" "${extra[@]}" scripts/sweep.sbatch --seeds="$first..$last" \
  --seeds-per-task="$seeds_per_task" --out="$out" "${sim_flags[@]}" 2>"$out/sbatch.err") \
  || bad "sbatch refused the job: $(cat "$out/sbatch.err")"
job=$(tail -n 1 <<<"$submitted")
job=${job%%;*}
[[ "$job" =~ ^[0-9]+$ ]] || bad "sbatch printed no job id: $submitted $(cat "$out/sbatch.err")"
echo "sweep: Slurm job $job: $tasks tasks of up to $seeds_per_task seeds ($first..$last), results in $out"
trap 'echo; echo "sweep: interrupted; cancelling job $job"; scancel "$job"; exit 130' INT TERM

task_range() {  # The seeds of task $1.
  local task_first=$((first + $1 * seeds_per_task))
  local task_last=$((task_first + seeds_per_task - 1))
  ((task_last > last)) && task_last=$last
  echo "$task_first..$task_last"
}

merge_command="scripts/sweep.sh --merge $out"
[[ -n "$expect_terms" ]] && merge_command+=" --expect-terms=$expect_terms"
start=$SECONDS last_printed=0 failed=0 squeue_errors=0 poll_seconds=1
[[ -t 1 ]] || poll_seconds=5  # Lighter on a shared controller when nobody watches.
declare -A reported=()
while :; do
  if ! states=$(squeue -h -r -j "$job" -o '%t %r' 2>&1); then
    # A job that left the queue's memory (MinJobAge) is finished, not an error.
    if [[ "$states" == *"Invalid job id"* ]]; then
      states=""
    else
      squeue_errors=$((squeue_errors + 1))
      if ((squeue_errors >= 30)); then
        echo "sweep: squeue failed 30 times in a row ($states); job $job runs on: once it ends, $merge_command"
        exit 1
      fi
      sleep 2
      continue
    fi
  fi
  squeue_errors=0
  # Tasks that have written their aggregate: report each once, with its failures.
  for task in $(seq 0 $((tasks - 1))); do
    [[ -n "${reported[$task]:-}" || ! -s "$out/tasks/$task/aggregate.json" ]] && continue
    reported[$task]=1
    task_failed=$(jq '.failed' "$out/tasks/$task/aggregate.json")
    failed=$((failed + task_failed))
    if ((task_failed > 0)); then
      [[ -t 1 ]] && echo
      echo "sweep: task $task (seeds $(task_range "$task")) has $task_failed failing seeds:"
      jq -r '.failures[] | "  FAIL seed \(.seed) (\(.failure.kind)): \(.repro)"' \
        "$out/tasks/$task/aggregate.json"
    fi
  done
  running=$(grep -c -E '^(R|CG) ' <<<"$states" || true)
  pending=$(grep -c -E '^PD ' <<<"$states" || true)
  # Why tasks wait (Resources, Priority, or a limit that will never clear): the first reason.
  reason=$(awk '$1 == "PD" { print $2; exit }' <<<"$states")
  elapsed=$((SECONDS - start))
  line=$(printf 'sweep: job %s: %d/%d tasks done, %d running, %d pending%s, %d seeds failed, %ds elapsed' \
    "$job" "${#reported[@]}" "$tasks" "$running" "$pending" "${reason:+ ($reason)}" "$failed" "$elapsed")
  finished=false
  [[ -z "$states" ]] && finished=true
  if [[ -t 1 ]]; then
    printf '\r%s   ' "$line"
    $finished && echo
  elif $finished || ((elapsed - last_printed >= 10)); then
    echo "$line"
    last_printed=$elapsed
  fi
  $finished && break
  sleep "$poll_seconds"
done
trap - INT TERM

# On a network file system a finished task's results may show up a little late.
for _ in $(seq 30); do
  missing=0
  for task in $(seq 0 $((tasks - 1))); do
    [[ -n "${reported[$task]:-}" || -s "$out/tasks/$task/aggregate.json" ]] || missing=1
  done
  ((missing == 0)) && break
  sleep 2
done
for task in $(seq 0 $((tasks - 1))); do
  [[ -z "${reported[$task]:-}" && -s "$out/tasks/$task/aggregate.json" ]] && reported[$task]=1
done

lost=0
for task in $(seq 0 $((tasks - 1))); do
  [[ -n "${reported[$task]:-}" ]] && continue
  lost=$((lost + 1))
  echo "sweep: task $task (seeds $(task_range "$task")) ended without results; its log, $out/tasks/$task.log, ends:"
  tail -n 5 "$out/tasks/$task.log" 2>/dev/null | sed 's/^/  /' || echo "  (no log)"
  echo "  rerun it: SLURM_ARRAY_TASK_ID=$task scripts/sweep.sh --seeds=$first..$last --seeds-per-task=$seeds_per_task --out=$out ${sim_flags[*]}"
done
((lost == 0)) || { echo "sweep: $lost of $tasks tasks left no results; not merging (rerun them, then: $merge_command)"; exit 1; }

merge_flags=(--merge "$out")
[[ -n "$expect_terms" ]] && merge_flags+=(--expect-terms="$expect_terms")
[[ "$plot" == true ]] && merge_flags+=(--plot)
exec scripts/sweep.sh "${merge_flags[@]}"
