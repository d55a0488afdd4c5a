#!/usr/bin/env bash
# Cuts a failing run down to the smallest configuration that fails the same way (the same
# failure kind; for a bound breach, an exhaustion or a crash, the same term or assertion): fewer
# replicas, standbys and clients, each fault class off in turn, fewer requests and ticks. Prints
# each step as it goes and ends with the minimal run's one-line replay command. Sets everything
# up first, as scripts/sim.sh does; each candidate runs in a process of its own.
# Usage: scripts/minimize.sh --seed=N [sim flags, e.g. the failing run's whole replay command]
# Exit: 0 minimised, 2 bad input (or a run that does not fail).
set -euo pipefail
cd "$(dirname "$0")/.."
for argument in "$@"; do
  case "$argument" in
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done
[[ " $* " == *" --seed="* ]] || { echo "minimize.sh: give the failing run's --seed=N (and its flags)" >&2; exit 2; }
exec scripts/sim.sh --minimize "$@"
