// `sim --seeds=FIRST..LAST --jobs=N --out=DIR`: a sweep in one process's threads, safe from its
// own crashes. A worker process (sweep_worker.h) runs the seeds on N threads; this supervisor
// reads its report, prints progress, and when the worker dies (an assertion, a sanitizer report,
// a pool run dry) runs the seed that killed it alone, exactly as a single run, and starts a new
// worker on the seeds not yet done. A seed that dies alone gets the stand-in summary the sweep
// has always written (its first assertion line and its replay command). Then the summaries fold
// into the sweep's aggregate (sweep_aggregate.h), the same bytes as sweep-aggregate writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/cli/sweep_aggregate.h"

namespace sim {

struct SweepPlan {
  std::vector<uint64_t> seeds;  // Ascending.
  std::string seeds_text;       // As given, for the header line.
  uint32_t jobs = 1;
  std::string out;                       // DIR: summaries/, logs/, worker.log, aggregate.json.
  std::string log = "quiet";             // Each seed's log level.
  std::string self;                      // sim's binary, for workers and single runs.
  std::vector<std::string> passed_args;  // The option flags as given: to every run, and replays.
  TermExpectations terms;
  TermExpectations holders;
  std::optional<std::pair<uint64_t, uint64_t>> sweep_seeds;  // When this is one task's share.
};

// Runs the sweep; exit 0 all passed, 1 some failed (or a coverage regression), 2 an output that
// could not be written.
int sweep_run(const SweepPlan& plan);

}  // namespace sim
