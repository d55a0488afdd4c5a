#!/usr/bin/env bash
# Sets everything up and runs one seeded simulation: installs missing Debian packages, builds
# the release preset, runs `sim` with the arguments passed through (a random seed when none).
# Usage: scripts/sim.sh [--seed=N] [sim flags...]   (scripts/sim.sh --help lists them)
# Exit codes are sim's: 0 pass, 1 failure, 2 bad input.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh >&2
if ! { cmake --preset release >/dev/null && cmake --build --preset release --target sim_cli >/dev/null; }; then
  echo "sim.sh: the build failed (run: cmake --build --preset release)" >&2
  exit 2
fi
exec build/release/sim/sim "$@"
