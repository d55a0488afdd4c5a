#!/usr/bin/env bash
# Builds the release preset and runs the benchmarks, 5 repetitions each, printing medians and the
# pool's ratio to the bare free list (the accounting's rows: on, and compiled out).
# Usage: scripts/bench.sh [google benchmark flags...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
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
build/release/sim/cluster_benchmark --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null >"$csv"
echo
# Columns: name,iterations,real_time,cpu_time,time_unit,...,"events_per_second","events_per_seed"
awk -F, '
  $1 ~ /_median"$/ {
    name = $1; gsub(/"/, "", name); sub(/\/iterations:[0-9]+_median$/, "", name)
    printf "%-36s %8.2f ms/seed %12.0f events/s %8.0f events/seed (median of 5)\n", name, $3,
      $(NF - 1), $NF
  }' "$csv"
