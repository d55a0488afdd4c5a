// A sweep's worker process: runs its seeds on worker threads, each simulation single-threaded with
// its own state, writes each seed's summary JSON and log exactly as a single run of that seed
// writes them, and reports each step to the sweep on stdout, one line each:
//   begin SEED       the seed's run started
//   pass|fail SEED   it ended and its files are written
//   fatal SEED       a pool ran dry: its files are written, and the worker exits
//                    worker_exit_pool_ran_dry (the pool cannot go on), losing the other threads'
//                    runs
//   crash SEED       an assertion failed in its run: the worker dies with it
//   alone SEED       the seed's flags are refused: the sweep runs it alone, as a single run
// A worker that dies reports what it got through; the sweep (sweep_supervisor.h) runs the seeds
// it lost again.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/cli/planted_crash.h"
#include "sim/options.h"

namespace sim {

// What a sweep runs for each seed and where its files go.
struct SeedJob {
  // The seed's draw with the command line's option flags over it, validated.
  std::function<absl::StatusOr<Options>(uint64_t seed)> options_for_seed;
  std::string log = "quiet";  // The log level of each seed's log, as --log.
  std::string out;            // DIR: DIR/summaries/SEED.json and DIR/logs/SEED.txt.
  std::optional<PlantedCrash> planted_crash;
};

std::string seed_summary_path(const std::string& out, uint64_t seed);
std::string seed_log_path(const std::string& out, uint64_t seed);

inline constexpr int worker_exit_pool_ran_dry = 3;  // After its "fatal" (or "alone") line.
inline constexpr int worker_exit_orphaned = 4;      // Its report pipe closed: the sweep is gone.

// Runs `seeds` on `jobs` threads; exit code 0 when every seed ran (passed or failed).
int sweep_worker_run(const SeedJob& job, const std::vector<uint64_t>& seeds, uint32_t jobs);

}  // namespace sim
