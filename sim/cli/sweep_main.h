// sim's sweep modes: `sim --seeds=FIRST..LAST [--jobs=N] --out=DIR [option flags]` (the user's,
// sweep_supervisor.h) and the worker it starts (--sweep-worker, sweep_worker.h). The sweep's own
// flags are defined here; every other flag passes through to each seed's run.
#pragma once

#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "pool/cli/flags.h"
#include "sim/cli/sweep_worker.h"
#include "sim/options.h"

namespace sim {

// True if the command line asks for a sweep (--seeds, or a worker of one).
bool sweep_asked();

// Runs the sweep or the worker; the exit code. Bad input exits 2 with one line.
int sweep_main(int argc, const char* const* argv, const pool::cli::ParsedCommandLine& parsed,
               const std::function<absl::StatusOr<Options>(uint64_t seed)>& options_for_seed,
               const std::optional<PlantedCrash>& planted);

}  // namespace sim
