// Failing-seed minimisation: from a failing run, the smallest configuration that still fails the
// same way (the same failure kind; for a bound breach, an exhaustion or a crash, the same term or
// assertion). Greedy passes over three groups until a whole pass changes nothing: fewer replicas,
// standbys and clients; each fault class off in turn; fewer requests, ticks and bytes (never fewer
// convergence ticks for a liveness failure, which too few would fake). Every
// candidate keeps the seed and runs whole, so the result replays with one command.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/cluster.h"
#include "sim/options.h"

namespace sim {

struct Verdict {
  bool passed = true;
  // failure_kind_name; "crash" for a run that died of an assertion; "error" for a run that ended
  // without a verdict (never the same failure as anything).
  std::string kind;
  std::string term;  // A breach's or exhaustion's term; a crash's assertion ("cond at file:line").

  bool same_failure(const Verdict& other) const;
  std::string describe() const;  // "PASS", "term_bound pipeline", "liveness".
};
Verdict verdict_of(const Summary& summary);

// "6 replicas + 2 standbys, 7 clients, 373 requests, 12224 + 14374 ticks; faults: crashes, ...".
std::string options_shape(const Options& options);

struct MinimizeResult {
  Options options;
  Verdict verdict;
  uint64_t runs = 0;     // Candidates run.
  uint64_t changes = 0;  // Candidates kept.
  bool stopped = false;  // runs_max reached before a pass changed nothing.
};

// `run` runs one candidate to its verdict; `report` gets a line per candidate as it goes.
MinimizeResult minimize(const Options& failing, const Verdict& failure,
                        const std::function<Verdict(const Options&)>& run,
                        const std::function<void(const std::string&)>& report,
                        uint64_t runs_max = 400);

}  // namespace sim
