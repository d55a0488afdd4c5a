#!/usr/bin/env bash
# House rules, checked (a ctest named "tidy"): the bans of style.md, the include layering of
# architecture.md, and clang-format. Prints every violation as file:line: why; exits 1 on any.
set -euo pipefail
cd "$(dirname "$0")/.."

violations=0
report() {  # report <why> <grep -n output lines>
  local why=$1 lines=$2
  [[ -z "$lines" ]] && return 0
  while IFS= read -r line; do
    echo "${line%%:*}:$(cut -d: -f2 <<<"$line"): $why"
    violations=$((violations + 1))
  done <<<"$lines"
}

sources() {  # sources <dir>...: our C++ files under the given directories
  local dir
  for dir in "$@"; do
    [[ -d $dir ]] && find "$dir" -type f \( -name '*.h' -o -name '*.cc' \)
  done | sort
}

# grep_sources <regex> <files...>: matching lines as file:line:text, comments not skipped.
grep_sources() {
  local regex=$1
  shift
  (($# == 0)) && return 0
  grep -nE "$regex" "$@" /dev/null || true
}

mapfile -t checked < <(sources pool sim fuzz)
mapfile -t library < <(sources pool sim | grep -vE '_(test|benchmark)\.cc$' | grep -v '^pool/cli/' || true)

report "plain assert(: use POOL_ASSERT (always on, prints the seed)" \
  "$(grep_sources '(^|[^_[:alnum:]])assert\(' "${checked[@]}")"
report "<random>: use sim's PRNG (distributions differ between standard libraries)" \
  "$(grep_sources '#include <random>|std::(mt19937|random_device|uniform_int_distribution)|(^|[^_[:alnum:]])s?rand\(' "${checked[@]}")"
report "clock: simulated time only (ticks)" \
  "$(grep_sources 'system_clock|steady_clock|high_resolution_clock|gettimeofday|clock_gettime|time\((nullptr|NULL)\)|#include <chrono>' "${library[@]}")"
report "hash container: iteration order varies by process; use vectors or absl::btree_map" \
  "$(grep_sources 'unordered_(map|set)|(flat|node)_hash_(map|set)' "${library[@]}")"
report "thread: a simulation is single-threaded" \
  "$(grep_sources '#include <thread>|std::(thread|async|jthread)|pthread_create' "${library[@]}")"

# Layering: pool depends on nothing of ours but itself, and its library on no Abseil or JSON
# (anyone can drop it into a build); pool/cli is the command-line layer; sim never sees fuzz.
mapfile -t pool_all < <(sources pool)
mapfile -t pool_library < <(sources pool | grep -v '^pool/cli/' || true)
mapfile -t sim_all < <(sources sim)
report "layering: pool/ must not include sim/ or fuzz/" \
  "$(grep_sources '#include "(sim|fuzz)/' "${pool_all[@]}")"
report "layering: the pool library must not include Abseil or JSON (pool/cli may)" \
  "$(grep_sources '#include ["<](absl|nlohmann)/' "${pool_library[@]}")"
# The tools' JSON (summary, sweep aggregate, Perfetto trace) is the sim_json library, apart.
sim_json='^sim/(summary_json|sweep_aggregate|perfetto_trace)\.(h|cc)$'
mapfile -t sim_library < <(sources sim | grep -vE "(_test|_benchmark|main)\.cc$|$sim_json" || true)
report "layering: the sim library must not include JSON (its CLIs and sim_json may)" \
  "$(grep_sources '#include ["<]nlohmann/|#include "sim/(summary_json|sweep_aggregate|perfetto_trace)\.h"' "${sim_library[@]}")"
report "layering: sim/ must not include fuzz/" \
  "$(grep_sources '#include "fuzz/' "${sim_all[@]}")"

# Formatting: .clang-format (Google base, 100 columns) applied everywhere.
if command -v clang-format >/dev/null; then
  for file in "${checked[@]}"; do
    if ! clang-format --dry-run --Werror "$file" >/dev/null 2>&1; then
      echo "$file:1: not clang-formatted (run: clang-format -i $file)"
      violations=$((violations + 1))
    fi
  done
else
  echo "tidy: clang-format is not installed (scripts/test.sh installs it)" >&2
  exit 1
fi

if ((violations > 0)); then
  echo "tidy: $violations violation(s)"
  exit 1
fi
echo "tidy: ${#checked[@]} files clean"
