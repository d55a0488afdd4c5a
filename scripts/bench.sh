#!/usr/bin/env bash
# Builds the release preset and runs the benchmarks, 5 repetitions each, printing medians and the
# pool's ratio to the bare free list (the accounting's rows: on, and compiled out); then the
# simulator's speed, a sweep's overhead over the same seeds simulated in process (target 1.25x),
# and a production run's peak memory.
# Usage: scripts/bench.sh [google benchmark flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh time
cmake --preset release >/dev/null
cmake --build --preset release --target message_pool_benchmark >/dev/null

csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
build/release/pool/message_pool_benchmark --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 \
  --benchmark_format=csv "$@" 2>/dev/null >"$csv"

# Columns: name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,...
awk -F, '
  $1 ~ /_median"$/ {
    name = $1; gsub(/"/, "", name); sub(/_median$/, "", name)
    label = $8; gsub(/"/, "", label)
    ns[name] = $3; labels[name] = label; order[++count] = name
    if (name == "BM_BareFreeListPopPush") bare = $3
  }
  END {
    printf "%-34s %12s  %-22s %s\n", "benchmark (median of 5)", "ns/op", "config", "vs bare list"
    for (i = 1; i <= count; i++) {
      name = order[i]
      ratio = (bare > 0 && name ~ /^BM_Pool/) ? sprintf("%.1fx", ns[name] / bare) : ""
      printf "%-34s %12.2f  %-22s %s\n", name, ns[name], labels[name], ratio
    }
  }' "$csv"

# The simulator: wall time per seed and simulated events per second (seeds 1..20 over and over).
cmake --build --preset release --target cluster_benchmark >/dev/null
build/release/sim/cluster_benchmark --benchmark_filter='^BM_SimulateSeed' --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null >"$csv"
echo
# Columns: name,iterations,real_time,cpu_time,time_unit,...,"events_per_second","events_per_seed"
awk -F, '
  $1 ~ /_median"$/ {
    name = $1; gsub(/"/, "", name); sub(/\/iterations:[0-9]+_median$/, "", name)
    printf "%-36s %8.2f ms/seed %12.0f events/s %8.0f events/seed (median of 5)\n", name, $3,
      $(NF - 1), $NF
  }' "$csv"

# The sweep's overhead: 2,000 default seeds on 2 jobs (sim --seeds, every file written) against
# the same seeds simulated one after another in one thread; wall x jobs / seeds over in-process
# ms per seed. Target: at most 1.25x.
cmake --build --preset release --target sim_cli >/dev/null
seeds=2000  # BM_SimulateSweepSeeds/2000: the same seeds.
build/release/sim/cluster_benchmark --benchmark_filter="^BM_SimulateSweepSeeds/$seeds/" \
  --benchmark_format=csv 2>/dev/null >"$csv"
in_process_ms=$(awk -F, -v seeds="$seeds" '$1 ~ /SweepSeeds/ { printf "%.3f", $3 / seeds }' "$csv")
sweep_dir=$(mktemp -d)
trap 'rm -f "$csv"; rm -rf "$sweep_dir"' EXIT
start_ns=$(date +%s%N)
build/release/sim/sim --seeds="1..$seeds" --jobs=2 --out="$sweep_dir/sweep" --formula=corrected \
  >/dev/null
end_ns=$(date +%s%N)
awk -v wall_ns=$((end_ns - start_ns)) -v seeds="$seeds" -v in_process="$in_process_ms" 'BEGIN {
  per_seed = wall_ns / 1e6 * 2 / seeds
  printf "sweep of %d default seeds, 2 jobs: %.1f s wall, %.2f ms/seed per job; in process %.2f ms/seed; overhead %.2fx (target 1.25x)\n",
    seeds, wall_ns / 1e9, per_seed, in_process, per_seed / in_process
}'

# Peak memory of a production run: 6 replicas, 2 standbys, 20 clients over tcp, 100 KiB bodies.
production=(--seed=1 --profile=production --replica-count=6 --standby-count=2 --client-count=20
  --bus=tcp --request-body-size-max=102400 --formula=corrected --log=quiet)
peak_kib=$( { /usr/bin/time -f "%M" build/release/sim/sim "${production[@]}" >/dev/null; } 2>&1 | tail -n1)
awk -v kib="$peak_kib" 'BEGIN { printf "production run (sim %s): peak RSS %.0f MiB\n", ARGV[1], kib / 1024 }' \
  "${production[*]}"
