#include "sim/cli/minimize.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sim {
namespace {

// One change to try ("replica_count 5 -> 2", "crashes off") and the options it makes.
struct Try {
  std::string change;
  Options options;
};
// A dimension's tries, smallest first: the first that fails the same way is kept.
using Candidate = std::vector<Try>;

// Values below `current` down to `floor`, smallest first.
std::vector<uint64_t> smaller_values(uint64_t current, uint64_t floor) {
  std::vector<uint64_t> values = {floor,       current / 8,     current / 4,
                                  current / 2, current * 3 / 4, current - 1};
  std::vector<uint64_t> kept;
  for (uint64_t value : values) {
    if (current > 0 && value >= floor && value < current) kept.push_back(value);
  }
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  return kept;
}

// A fault class, and how to turn it off.
struct FaultClass {
  const char* name;
  bool (*on)(const Options&);
  void (*off)(Options&);
};

const FaultClass fault_classes[] = {
    {"crashes",
     [](const Options& options) { return options.crash_ppm + options.crash_view_change_ppm > 0; },
     [](Options& options) { options.crash_ppm = options.crash_view_change_ppm = 0; }},
    {"partitions",
     [](const Options& options) {
       return options.network.partition_mode != PartitionMode::none &&
              options.network.partition_ppm > 0;
     },
     [](Options& options) {
       options.network.partition_mode = PartitionMode::none;
       options.network.partition_ppm = 0;
     }},
    {"clogs", [](const Options& options) { return options.network.path_clog_ppm > 0; },
     [](Options& options) { options.network.path_clog_ppm = 0; }},
    {"packet loss", [](const Options& options) { return options.network.packet_loss_ppm > 0; },
     [](Options& options) { options.network.packet_loss_ppm = 0; }},
    {"packet replay", [](const Options& options) { return options.network.packet_replay_ppm > 0; },
     [](Options& options) { options.network.packet_replay_ppm = 0; }},
    {"packet reorder",
     [](const Options& options) { return options.network.packet_reorder_ppm > 0; },
     [](Options& options) { options.network.packet_reorder_ppm = 0; }},
    {"packet corruption",
     [](const Options& options) { return options.network.packet_corrupt_ppm > 0; },
     [](Options& options) { options.network.packet_corrupt_ppm = 0; }},
    {"read faults", [](const Options& options) { return options.storage.read_fault_ppm > 0; },
     [](Options& options) { options.storage.read_fault_ppm = 0; }},
    {"write faults", [](const Options& options) { return options.storage.write_fault_ppm > 0; },
     [](Options& options) { options.storage.write_fault_ppm = 0; }},
    {"faulty storages", [](const Options& options) { return options.storage_faulty_count > 0; },
     [](Options& options) { options.storage_faulty_count = 0; }},
};

// The sizes minimisation lowers, in the order it tries them.
// Each is a number option of the option table (options.h), named by its flag.
struct Size {
  const char* name;
  uint64_t floor;
};
const Size process_sizes[] = {{"replica_count", 1}, {"standby_count", 0}, {"client_count", 1}};
const Size load_sizes[] = {{"requests_max", 1},
                           {"ticks_max_requests", 1},
                           {"ticks_max_convergence", 1},
                           {"request_body_size_max", 0},
                           {"pipeline_requests_limit", 0}};

Candidate size_candidate(const Options& options, const Size& size) {
  const std::optional<uint64_t> current = options_number(options, size.name);
  POOL_ASSERT(current.has_value(), "%s is not a number option", size.name);
  Candidate candidate;
  for (uint64_t value : smaller_values(*current, size.floor)) {
    Options smaller = options;
    const absl::Status set = options_set(smaller, size.name, std::to_string(value));
    POOL_ASSERT(set.ok(), "%s", std::string(set.message()).c_str());
    if (!options_validate(smaller).ok()) continue;
    candidate.push_back(Try{
        std::string(size.name) + " " + std::to_string(*current) + " -> " + std::to_string(value),
        smaller});
  }
  return candidate;
}

Candidate fault_candidate(const Options& options, const FaultClass& fault) {
  if (!fault.on(options)) return {};
  Options off = options;
  fault.off(off);
  if (!options_validate(off).ok()) return {};
  return Candidate{Try{std::string(fault.name) + " off", off}};
}

// Each dimension makes its tries from the options as they are when its turn comes (none: skip).
using Dimension = std::function<Candidate(const Options&)>;
std::vector<Dimension> dimensions(bool liveness) {
  std::vector<Dimension> all;
  for (const Size& size : process_sizes) {
    all.push_back([&size](const Options& options) { return size_candidate(options, size); });
  }
  for (const FaultClass& fault : fault_classes) {
    all.push_back([&fault](const Options& options) { return fault_candidate(options, fault); });
  }
  for (const Size& size : load_sizes) {
    all.push_back([&size, liveness](const Options& options) -> Candidate {
      // Too few convergence ticks fail liveness in any run: that proves nothing.
      if (liveness && std::string_view(size.name) == "ticks_max_convergence") return {};
      return size_candidate(options, size);
    });
  }
  return all;
}

}  // namespace

bool Verdict::same_failure(const Verdict& other) const {
  if (passed || other.passed || kind != other.kind || kind == "error") return false;
  if (kind == "term_bound" || kind == "exhaustion" || kind == "crash") {
    return !term.empty() && term == other.term;
  }
  return true;
}

std::string Verdict::describe() const {
  if (passed) return "PASS";
  return term.empty() ? kind : kind + " " + term;
}

Verdict verdict_of(const Summary& summary) {
  Verdict verdict;
  verdict.passed = summary.passed;
  if (summary.failure) {
    verdict.kind = failure_kind_name(summary.failure->kind);
    if (summary.failure->term) verdict.term = std::string(pool::term_name(*summary.failure->term));
  }
  return verdict;
}

std::string options_shape(const Options& options) {
  std::string faults;
  for (const FaultClass& fault : fault_classes) {
    if (fault.on(options)) faults += std::string(faults.empty() ? "" : ", ") + fault.name;
  }
  return std::to_string(options.replica_count) + " replicas + " +
         std::to_string(options.standby_count) + " standbys, " +
         std::to_string(options.client_count) + " clients, " +
         std::to_string(options.requests_max) + " requests, " +
         std::to_string(options.ticks_max_requests) + " + " +
         std::to_string(options.ticks_max_convergence) +
         " ticks; faults: " + (faults.empty() ? "none" : faults);
}

MinimizeResult minimize(const Options& failing, const Verdict& failure,
                        const std::function<Verdict(const Options&)>& run,
                        const std::function<void(const std::string&)>& report, uint64_t runs_max) {
  MinimizeResult result{failing, failure};
  const std::vector<Dimension> all = dimensions(failure.kind == "liveness");
  for (bool changed = true; changed && !result.stopped;) {
    changed = false;
    for (const Dimension& dimension : all) {
      for (const Try& tried : dimension(result.options)) {
        if (result.runs == runs_max) {
          result.stopped = true;
          break;
        }
        const Verdict verdict = run(tried.options);
        result.runs += 1;
        const bool same = verdict.same_failure(failure);
        report(tried.change + ": " + verdict.describe() + (same ? " (kept)" : ""));
        if (!same) continue;
        result.options = tried.options;
        result.verdict = verdict;
        result.changes += 1;
        changed = true;
        break;
      }
      if (result.stopped) break;
    }
  }
  return result;
}

}  // namespace sim
