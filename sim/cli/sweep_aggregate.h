// A seed sweep's aggregate: pass/fail counts, every failure with its replay command, the trace
// hash of each seed, and per process role (replica, client; per bus) and formula term the peak
// over all seeds against its bound. It folds in per-seed summaries (one machine's sweep) or other
// aggregates (the tasks of a sharded sweep) alike, and keeps only figures that combine exactly,
// so a merged aggregate equals, byte for byte, one sweep of the same seeds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace sim {

// One line of an expected-terms file: "ROLE BUS TERM reached" or "ROLE BUS TERM unreachable: WHY".
struct TermExpectation {
  bool reached = false;
  std::string why;  // For an unreachable term.
};
using TermExpectations = std::map<std::string, TermExpectation>;  // "replica tcp pipeline" → ...

absl::StatusOr<TermExpectations> term_expectations_read(const std::string& path);

class SweepAggregate {
 public:
  // Folds in one seed's summary JSON, or the stand-in the sweep writes for a run that died
  // before its summary ({"seed", "crashed": true, "failure", "repro"}).
  absl::Status add_summary(const nlohmann::json& summary);
  // Folds in another sweep's aggregate (to_json's output) of seeds disjoint from these.
  absl::Status add_aggregate(const nlohmann::json& aggregate);
  // The whole sweep's seeds, when these are one task's share of it (default: the seeds folded in).
  // An aggregate records it, and a merge of tasks' aggregates checks that they cover all of it.
  absl::Status set_sweep_seeds(uint64_t first, uint64_t last);
  // Fails unless the seeds folded in are one contiguous range, each seed once, and (for
  // `whole_sweep`, when the sweep's seeds are known) all of the sweep's seeds.
  absl::Status check_complete(bool whole_sweep = true) const;
  // Notes each term the expectations say is reached and no seed drove to its bound, and each
  // holder (the same file format, "ROLE BUS HOLDER reached | unreached: WHY") said to be reached
  // that held no message in any seed.
  void expect(const TermExpectations& terms, const TermExpectations& holders = {});

  // A failure of the sweep itself, not of one seed (a worker's death no seed repeats alone).
  // The aggregate lists them under "sweep_failures", a key only an aggregate with one has.
  void add_sweep_failure(const std::string& what) { sweep_failures_.insert(what); }

  nlohmann::json to_json() const;
  void print(const TermExpectations& expectations) const;  // The human report, to stdout.
  bool passed() const {
    return failures_.empty() && regressions_.empty() && sweep_failures_.empty();
  }

 private:
  struct TermStats {
    bool seen = false;
    uint64_t peak_max = 0;
    uint64_t bound_at_peak_max = 0;
    uint64_t seed_at_peak_max = 0;  // The smallest seed at peak_max: the same in any fold order.
    uint64_t seeds_at_bound = 0;    // Seeds in which some pool of the role held it at its bound.
    uint64_t bound_min = UINT64_MAX;
    uint64_t bound_max = 0;
    double peak_ratio_max = 0;       // The highest peak / bound of any pool (bounds vary by seed).
    uint64_t distinct_peak_max = 0;  // Distinct messages whose primary holder is of the term.
  };
  // A census holder's figures over the sweep, per role.
  struct HolderStats {
    uint64_t peak_max = 0;  // References.
    uint64_t distinct_peak_max = 0;
    uint64_t seed_at_peak_max = 0;  // The smallest seed at peak_max.
    uint64_t seeds_reached = 0;     // Seeds in which some pool of the role had it hold a message.
  };
  // What held the replica pools at their peaks, per activity ("backup normal", ...).
  struct Holders {
    uint64_t pools = 0;
    std::map<uint64_t, uint64_t> peak_counts;                   // peak → pools.
    std::map<std::string, std::pair<uint64_t, uint64_t>> held;  // term → (sum, max).
  };
  using PeakCounts = std::map<std::pair<uint64_t, uint64_t>, uint64_t>;  // (peak, max) → pools.

  void term_add(const std::string& role, const std::string& term, const TermStats& other);
  void holder_add(const std::string& role, const std::string& holder, const HolderStats& other);
  nlohmann::json holder_peaks_json() const;
  void print_term_peaks() const;
  void print_holder_peaks() const;
  void holders_add(const std::string& census, uint64_t pool_peak);
  static void seed_term_add(TermStats& stats, uint64_t peak, uint64_t bound, uint64_t seed);
  absl::Status seeds_add(uint64_t first, uint64_t last);
  absl::Status peaks_add(const nlohmann::json& aggregate);
  nlohmann::json holders_json() const;
  nlohmann::json pool_peak_ratio_json() const;

  std::vector<std::pair<uint64_t, uint64_t>> seed_ranges_;  // Folded in, [first, last].
  std::optional<std::pair<uint64_t, uint64_t>> sweep_seeds_;
  uint64_t passed_ = 0;
  uint64_t crashed_ = 0;
  std::map<std::string, uint64_t> seeds_with_;   // Seeds in which each path ran at least once.
  std::map<std::string, uint64_t> role_seeds_;   // Seeds with a pool of each role ("replica tcp").
  std::map<uint64_t, nlohmann::json> failures_;  // seed → {seed, failure, repro}.
  std::map<uint64_t, std::string> trace_hashes_;
  std::map<std::string, std::map<std::string, TermStats>> terms_;  // role → term → stats.
  std::map<std::string, PeakCounts> pool_peaks_;                   // role → peak counts.
  std::map<std::string, Holders> holders_;                         // activity → holders.
  std::map<std::string, std::map<std::string, HolderStats>> holder_peaks_;  // role → holder.
  std::vector<std::string> regressions_;  // Expected to be reached, and not reached.
  std::set<std::string> sweep_failures_;
};

// Writes `sweep`'s JSON to `path` whole: to PATH.partial, then renamed, so that a submitter
// polling for it never reads half a file.
absl::Status sweep_aggregate_write(const SweepAggregate& sweep, const std::string& path);

}  // namespace sim
