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

// True if the command line has any of the sweep's flags (--seeds, --jobs, --out, ...): it asks
// for a sweep, or for one with a flag missing, which sweep_main refuses.
bool sweep_asked(const pool::cli::ParsedCommandLine& parsed);

// Runs the sweep or the worker; the exit code. Bad input exits 2 with one line.
int sweep_main(int argc, const char* const* argv, const pool::cli::ParsedCommandLine& parsed,
               const std::function<absl::StatusOr<Options>(uint64_t seed)>& options_for_seed,
               const std::optional<PlantedCrash>& planted);

}  // namespace sim
