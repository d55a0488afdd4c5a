#!/usr/bin/env bash
# Proves the Slurm sweep on a real cluster: starts a one-node cluster on 127.0.0.1
# (scripts/slurm_cluster.sh), runs the seeds as a job array (scripts/sweep.sh --slurm), and checks
# that the merged aggregate equals a local sweep of the same seeds: the same pass/fail counts,
# the same per-term peaks, the same trace hash per seed, and byte for byte the same file. Stops
# every daemon it started, by pid, whatever happens.
# Usage: scripts/slurm_check.sh [--seeds=1..200] [--seeds-per-task=50] [--local=DIR]
#          [sim flags]
#   --local=DIR: a local sweep of the same seeds and flags that already ran (its aggregate.json
#   is compared); without it, this script runs one.
# Exit: 0 equal, 1 different (or a sweep failed), 2 bad input.
set -euo pipefail
cd "$(dirname "$0")/.."

bad() { echo "slurm_check.sh: $1" >&2; exit 2; }
seeds=1..200 seeds_per_task=50 local_dir="" sim_flags=()
for argument in "$@"; do
  case "$argument" in
    --seeds=*) seeds=${argument#--seeds=} ;;
    --seeds-per-task=*) seeds_per_task=${argument#--seeds-per-task=} ;;
    --local=*) local_dir=${argument#--local=} ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) sim_flags+=("$argument") ;;
  esac
done
[[ -z "$local_dir" || -r "$local_dir/aggregate.json" ]] || bad "--local=$local_dir has no aggregate.json"
scripts/setup.sh jq >&2

out=$(mktemp -d /tmp/poolsim-slurm-check.XXXXXX)
# A cluster that already ran is left running; one this script started stops, by pid, on every
# way out. The results stay only on failure, for a look.
was_running=false
scripts/slurm_cluster.sh status >/dev/null 2>&1 && was_running=true
finish() {
  local status=$?
  $was_running || scripts/slurm_cluster.sh stop || status=1
  if ((status == 0)); then rm -rf "$out"; else echo "slurm_check: results kept in $out"; fi
  exit "$status"
}
trap finish EXIT
scripts/slurm_cluster.sh start

if [[ -z "$local_dir" ]]; then
  local_dir=$out/local
  echo "slurm_check: local sweep of $seeds"
  scripts/sweep.sh --seeds="$seeds" --out="$local_dir" "${sim_flags[@]}" >"$out/local.txt" \
    || { tail -n 20 "$out/local.txt"; echo "slurm_check: the local sweep failed"; exit 1; }
fi

echo "slurm_check: the same seeds as a Slurm job array of $seeds_per_task seeds per task"
start=$SECONDS
scripts/sweep.sh --slurm --seeds="$seeds" --seeds-per-task="$seeds_per_task" --out="$out/slurm" \
  "${sim_flags[@]}" | tee "$out/slurm.txt" | grep -E '^sweep: (Slurm job|job .* done|task|merged)' \
  || { tail -n 20 "$out/slurm.txt"; echo "slurm_check: the Slurm sweep failed"; exit 1; }
echo "slurm_check: Slurm sweep took $((SECONDS - start)) s"

local_json=$local_dir/aggregate.json slurm_json=$out/slurm/aggregate.json
status=0
same() {  # A named part of both aggregates, compared.
  if [[ "$(jq -cS "$2" "$local_json")" == "$(jq -cS "$2" "$slurm_json")" ]]; then
    echo "slurm_check: same $1"
  else
    echo "slurm_check: DIFFERENT $1: local $(jq -cS "$2" "$local_json" | head -c 300), Slurm $(jq -cS "$2" "$slurm_json" | head -c 300)"
    status=1
  fi
}
tasks=$(find "$out/slurm/tasks" -name aggregate.json | wc -l)
((tasks >= 4)) || { echo "slurm_check: only $tasks tasks ran (at least 4 wanted)"; status=1; }
same "pass/fail counts ($(jq -r '"\(.seeds) seeds, \(.passed) passed, \(.failed) failed"' "$local_json"))" \
  '{seeds, passed, failed, crashed}'
same "per-term peaks ($(jq '[.terms[] | length] | add' "$local_json") terms)" \
  '.terms | map_values(map_values({peak_max, bound_at_peak_max, seed_at_peak_max, seeds_at_bound}))'
same "trace hashes ($(jq '.trace_hashes | length' "$local_json") seeds)" '.trace_hashes'
if cmp -s "$local_json" "$slurm_json"; then
  echo "slurm_check: the merged aggregate of $tasks tasks is byte for byte the local sweep's"
else
  echo "slurm_check: DIFFERENT aggregate files:"
  diff <(jq -S . "$local_json") <(jq -S . "$slurm_json") | head -n 20
  status=1
fi
exit "$status"
