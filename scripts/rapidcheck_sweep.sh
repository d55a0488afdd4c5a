#!/usr/bin/env bash
# Runs the RapidCheck properties under many seeds (ctest pins one), to look further than CI does.
# A failure prints the seed and RapidCheck's shrunk sequence; replay it with
#   RC_PARAMS="seed=N" build/release/pool/message_pool_model_test
# Usage: scripts/rapidcheck_sweep.sh [--seeds=FIRST..LAST] [--max-success=N]
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=1..20
max_success=1000
for argument in "$@"; do
  case "$argument" in
    --seeds=*) seeds=${argument#--seeds=} ;;
    --max-success=*) max_success=${argument#--max-success=} ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rapidcheck_sweep.sh: unknown argument '$argument' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ! $seeds =~ ^([0-9]+)\.\.([0-9]+)$ ]] || ((BASH_REMATCH[1] > BASH_REMATCH[2])); then
  echo "rapidcheck_sweep.sh: --seeds=$seeds is not accepted: FIRST..LAST, FIRST <= LAST" >&2
  exit 2
fi
first=${BASH_REMATCH[1]}
last=${BASH_REMATCH[2]}
if [[ ! $max_success =~ ^[1-9][0-9]{0,6}$ ]]; then
  echo "rapidcheck_sweep.sh: --max-success=$max_success is not accepted: 1..9999999" >&2
  exit 2
fi

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target message_pool_model_test >/dev/null

failed=0
for ((seed = first; seed <= last; seed++)); do
  if output=$(RC_PARAMS="seed=$seed max_success=$max_success" \
      build/release/pool/message_pool_model_test 2>&1); then
    printf '\rseed %d passed (%d/%d)' "$seed" $((seed - first + 1)) $((last - first + 1))
  else
    printf '\nseed %d FAILED:\n%s\nreplay: RC_PARAMS="seed=%d" %s\n' "$seed" "$output" "$seed" \
      build/release/pool/message_pool_model_test
    failed=$((failed + 1))
  fi
done
printf '\n%d of %d seeds failed\n' "$failed" $((last - first + 1))
((failed == 0))
