#include "sim/cli/sweep_aggregate.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sim {
namespace {

// "replica tcp", "client testing", "network": the formula's role and the bus it was sized for.
std::string role_of(const std::string& owner, const std::string& bus) {
  if (owner == "network") return "network";
  // Replicas and standbys share the replica formula.
  return std::string(owner.rfind("client", 0) == 0 ? "client" : "replica") + " " + bus;
}

// The value at the middle of counted values (the upper median, as a sorted list's [n / 2]).
template <typename Value>
Value median_of(const std::vector<std::pair<Value, uint64_t>>& sorted_counts, uint64_t total) {
  uint64_t seen = 0;
  for (const auto& [value, count] : sorted_counts) {
    seen += count;
    if (seen > total / 2) return value;
  }
  return sorted_counts.back().first;
}

std::string peak_key(const std::pair<uint64_t, uint64_t>& peak_of_max) {
  return std::to_string(peak_of_max.first) + "/" + std::to_string(peak_of_max.second);
}

double ratio_of(const std::pair<uint64_t, uint64_t>& peak_of_max) {
  return static_cast<double>(peak_of_max.first) / static_cast<double>(peak_of_max.second);
}

}  // namespace

absl::StatusOr<TermExpectations> term_expectations_read(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::InvalidArgumentError("cannot be read");
  TermExpectations expectations;
  std::string line;
  for (int number = 1; std::getline(file, line); number++) {
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    std::istringstream words(line);
    std::string role, bus, term, verdict;
    words >> role >> bus >> term >> verdict;
    const std::string key = role + " " + bus + " " + term;
    if (verdict == "reached") {
      expectations[key] = {true, ""};
    } else if (verdict == "unreachable:") {
      std::string why;
      std::getline(words, why);
      if (why.find_first_not_of(' ') == std::string::npos) {
        return absl::InvalidArgumentError(where + "an unreachable term needs a sentence of why");
      }
      expectations[key] = {false, why.substr(why.find_first_not_of(' '))};
    } else {
      return absl::InvalidArgumentError(
          where + "expected 'ROLE BUS TERM reached' or 'ROLE BUS TERM unreachable: WHY'");
    }
  }
  return expectations;
}

absl::Status SweepAggregate::set_sweep_seeds(uint64_t first, uint64_t last) {
  if (first > last) return absl::InvalidArgumentError("the sweep's first seed exceeds its last");
  if (sweep_seeds_ && *sweep_seeds_ != std::make_pair(first, last)) {
    return absl::InvalidArgumentError("results of different sweeps: seeds " +
                                      std::to_string(first) + ".." + std::to_string(last) +
                                      " and " + std::to_string(sweep_seeds_->first) + ".." +
                                      std::to_string(sweep_seeds_->second));
  }
  sweep_seeds_ = {first, last};
  return absl::OkStatus();
}

absl::Status SweepAggregate::seeds_add(uint64_t first, uint64_t last) {
  if (first > last) return absl::InvalidArgumentError("first_seed exceeds last_seed");
  seed_ranges_.emplace_back(first, last);
  return absl::OkStatus();
}

void SweepAggregate::term_add(const std::string& role, const std::string& term,
                              const TermStats& other) {
  TermStats& stats = terms_[role][term];
  if (!stats.seen || other.peak_max > stats.peak_max ||
      (other.peak_max == stats.peak_max && other.seed_at_peak_max < stats.seed_at_peak_max)) {
    stats.peak_max = other.peak_max;
    stats.bound_at_peak_max = other.bound_at_peak_max;
    stats.seed_at_peak_max = other.seed_at_peak_max;
  }
  stats.seen = true;
  stats.seeds_at_bound += other.seeds_at_bound;
  stats.bound_min = std::min(stats.bound_min, other.bound_min);
  stats.bound_max = std::max(stats.bound_max, other.bound_max);
  stats.peak_ratio_max = std::max(stats.peak_ratio_max, other.peak_ratio_max);
  stats.distinct_peak_max = std::max(stats.distinct_peak_max, other.distinct_peak_max);
}

void SweepAggregate::holder_add(const std::string& role, const std::string& holder,
                                const HolderStats& other) {
  HolderStats& stats = holder_peaks_[role][holder];
  if (stats.seeds_reached == 0 || other.peak_max > stats.peak_max ||
      (other.peak_max == stats.peak_max && other.seed_at_peak_max < stats.seed_at_peak_max)) {
    stats.peak_max = other.peak_max;
    stats.seed_at_peak_max = other.seed_at_peak_max;
  }
  stats.distinct_peak_max = std::max(stats.distinct_peak_max, other.distinct_peak_max);
  stats.seeds_reached += other.seeds_reached;
}

// census_at_peak: "journal_reads 1/3, pipeline 6/6, ... [backup normal]".
void SweepAggregate::holders_add(const std::string& census, uint64_t pool_peak) {
  const size_t open = census.rfind(" [");
  if (open == std::string::npos || census.back() != ']') return;
  Holders& holders = holders_[census.substr(open + 2, census.size() - open - 3)];
  holders.pools += 1;
  holders.peak_counts[pool_peak] += 1;
  std::istringstream entries(census.substr(0, open));
  std::string entry;
  while (std::getline(entries, entry, ',')) {
    const size_t start = entry.find_first_not_of(' ');
    const size_t space = entry.rfind(' ');
    if (start == std::string::npos || space == std::string::npos || space < start) continue;
    const uint64_t held = std::strtoull(entry.c_str() + space + 1, nullptr, 10);
    auto& [sum, max] = holders.held[entry.substr(start, space - start)];
    sum += held;
    max = std::max(max, held);
  }
}

// One pool's figures for a term, into this seed's stats for the term's role.
void SweepAggregate::seed_term_add(TermStats& stats, uint64_t peak, uint64_t bound, uint64_t seed) {
  if (!stats.seen || peak > stats.peak_max) {
    stats.peak_max = peak;
    stats.bound_at_peak_max = bound;
    stats.seed_at_peak_max = seed;
  }
  stats.seen = true;
  // A transient may pass its own bound within the shared allowance (a breach fails the run).
  stats.seeds_at_bound = stats.seeds_at_bound > 0 || (bound > 0 && peak >= bound) ? 1 : 0;
  stats.bound_min = std::min(stats.bound_min, bound);
  stats.bound_max = std::max(stats.bound_max, bound);
  if (bound > 0) {
    stats.peak_ratio_max =
        std::max(stats.peak_ratio_max, static_cast<double>(peak) / static_cast<double>(bound));
  }
}

absl::Status SweepAggregate::add_summary(const nlohmann::json& summary) try {
  const uint64_t seed = summary.at("seed").get<uint64_t>();
  if (summary.value("crashed", false)) {
    if (!summary.at("failure").at("kind").is_string() || !summary.at("repro").is_string()) {
      return absl::InvalidArgumentError("a crashed run without its failure's kind or replay");
    }
    crashed_ += 1;
    failures_[seed] = {
        {"seed", seed}, {"failure", summary.at("failure")}, {"repro", summary.at("repro")}};
    return seeds_add(seed, seed);
  }
  const std::string bus = summary.at("options").at("bus").get<std::string>();
  for (const char* path :
       {"crashes", "view_changes", "view_truncations", "syncs", "blocks_repaired"}) {
    seeds_with_[path] += summary.value(path, uint64_t{0}) > 0;
  }
  trace_hashes_[seed] = summary.at("trace_hash").get<std::string>();
  if (summary.at("passed").get<bool>()) {
    passed_ += 1;
  } else {
    if (!summary.at("failure").at("kind").is_string()) {
      return absl::InvalidArgumentError("a failed run without its failure's kind");
    }
    failures_[seed] = {
        {"seed", seed}, {"failure", summary.at("failure")}, {"repro", summary.at("repro")}};
  }
  std::map<std::string, std::map<std::string, TermStats>> seed_terms;  // This seed's, per role.
  std::map<std::string, std::map<std::string, HolderStats>> seed_holders;
  for (const auto& pool_summary : summary.at("pools")) {
    const std::string role = role_of(pool_summary.at("owner").get<std::string>(), bus);
    const uint64_t pool_peak = pool_summary.at("peak").get<uint64_t>();
    const uint64_t messages_max = pool_summary.at("messages_max").get<uint64_t>();
    if (messages_max == 0) return absl::InvalidArgumentError("a pool has messages_max 0");
    pool_peaks_[role][{pool_peak, messages_max}] += 1;
    if (role.rfind("replica", 0) == 0) {
      holders_add(pool_summary.at("census_at_peak").get<std::string>(), pool_peak);
    }
    for (const auto& [term, figures] : pool_summary.at("terms").items()) {
      TermStats& stats = seed_terms[role][term];
      seed_term_add(stats, figures.at("peak").get<uint64_t>(), figures.at("bound").get<uint64_t>(),
                    seed);
      stats.distinct_peak_max =
          std::max(stats.distinct_peak_max, figures.at("distinct_peak").get<uint64_t>());
    }
    for (const auto& [holder, figures] : pool_summary.at("holders").items()) {
      if (figures.at("peak").get<uint64_t>() == 0) continue;  // Summaries list reached ones.
      HolderStats& stats = seed_holders[role][holder];
      stats.peak_max = std::max(stats.peak_max, figures.at("peak").get<uint64_t>());
      stats.distinct_peak_max =
          std::max(stats.distinct_peak_max, figures.at("distinct_peak").get<uint64_t>());
      stats.seed_at_peak_max = seed;
      stats.seeds_reached = 1;
    }
  }
  for (const auto& [role, role_terms] : seed_terms) {
    role_seeds_[role] += 1;
    for (const auto& [term, stats] : role_terms) term_add(role, term, stats);
  }
  for (const auto& [role, role_holders] : seed_holders) {
    for (const auto& [holder, stats] : role_holders) holder_add(role, holder, stats);
  }
  return seeds_add(seed, seed);
} catch (const nlohmann::json::exception& exception) {
  return absl::InvalidArgumentError(std::string("not a sim summary: ") + exception.what());
}

// An aggregate's pool peaks and its holders at each role's peak, folded in.
absl::Status SweepAggregate::peaks_add(const nlohmann::json& aggregate) {
  for (const auto& [role, ratio] : aggregate.at("pool_peak_ratio").items()) {
    if (ratio.at("pools").empty()) return absl::InvalidArgumentError("a peak ratio of no pools");
    for (const auto& [key, count] : ratio.at("pools").items()) {
      const size_t slash = key.find('/');
      if (slash == std::string::npos) return absl::InvalidArgumentError("bad pools key " + key);
      const uint64_t peak = std::strtoull(key.c_str(), nullptr, 10);
      const uint64_t messages_max = std::strtoull(key.c_str() + slash + 1, nullptr, 10);
      if (messages_max == 0) return absl::InvalidArgumentError("bad pools key " + key);
      pool_peaks_[role][{peak, messages_max}] += count.get<uint64_t>();
    }
  }
  for (const auto& [activity, at_peak] : aggregate.at("holders_at_peak").items()) {
    if (at_peak.at("pools").get<uint64_t>() == 0 || at_peak.at("peaks").empty()) {
      return absl::InvalidArgumentError("holders at peak of no pools");
    }
    Holders& holders = holders_[activity];
    holders.pools += at_peak.at("pools").get<uint64_t>();
    for (const auto& [peak, count] : at_peak.at("peaks").items()) {
      holders.peak_counts[std::strtoull(peak.c_str(), nullptr, 10)] += count.get<uint64_t>();
    }
    for (const auto& [term, figures] : at_peak.at("held").items()) {
      auto& [sum, max] = holders.held[term];
      sum += figures.at("sum").get<uint64_t>();
      max = std::max(max, figures.at("max").get<uint64_t>());
    }
  }
  return absl::OkStatus();
}

absl::Status SweepAggregate::add_aggregate(const nlohmann::json& aggregate) try {
  const uint64_t first = aggregate.at("first_seed").get<uint64_t>();
  const uint64_t last = aggregate.at("last_seed").get<uint64_t>();
  if (aggregate.at("seeds").get<uint64_t>() != last - first + 1) {
    return absl::InvalidArgumentError("its seed count does not match first_seed..last_seed");
  }
  const nlohmann::json& sweep = aggregate.at("sweep");
  if (absl::Status status = set_sweep_seeds(sweep.at("first_seed").get<uint64_t>(),
                                            sweep.at("last_seed").get<uint64_t>());
      !status.ok()) {
    return status;
  }
  passed_ += aggregate.at("passed").get<uint64_t>();
  crashed_ += aggregate.at("crashed").get<uint64_t>();
  for (const auto& [path, count] : aggregate.at("seeds_with").items()) {
    seeds_with_[path] += count.get<uint64_t>();
  }
  for (const auto& [role, count] : aggregate.at("role_seeds").items()) {
    role_seeds_[role] += count.get<uint64_t>();
  }
  for (const auto& failure : aggregate.at("failures")) {
    if (!failure.at("failure").at("kind").is_string() || !failure.at("repro").is_string()) {
      return absl::InvalidArgumentError("a failure without its kind or replay command");
    }
    failures_[failure.at("seed").get<uint64_t>()] = failure;
  }
  if (aggregate.contains("sweep_failures")) {
    for (const auto& what : aggregate.at("sweep_failures"))
      add_sweep_failure(what.get<std::string>());
  }
  for (const auto& [seed, hash] : aggregate.at("trace_hashes").items()) {
    trace_hashes_[std::strtoull(seed.c_str(), nullptr, 10)] = hash.get<std::string>();
  }
  for (const auto& [role, role_terms] : aggregate.at("terms").items()) {
    for (const auto& [term, figures] : role_terms.items()) {
      TermStats stats;
      stats.seen = true;
      stats.peak_max = figures.at("peak_max").get<uint64_t>();
      stats.bound_at_peak_max = figures.at("bound_at_peak_max").get<uint64_t>();
      stats.seed_at_peak_max = figures.at("seed_at_peak_max").get<uint64_t>();
      stats.seeds_at_bound = figures.at("seeds_at_bound").get<uint64_t>();
      stats.bound_min = figures.at("bound_min").get<uint64_t>();
      stats.bound_max = figures.at("bound_max").get<uint64_t>();
      stats.peak_ratio_max = figures.at("peak_ratio_max").get<double>();
      stats.distinct_peak_max = figures.at("distinct_peak_max").get<uint64_t>();
      term_add(role, term, stats);
    }
  }
  for (const auto& [role, role_holders] : aggregate.at("holder_peaks").items()) {
    for (const auto& [holder, figures] : role_holders.items()) {
      holder_add(role, holder,
                 HolderStats{figures.at("peak_max").get<uint64_t>(),
                             figures.at("distinct_peak_max").get<uint64_t>(),
                             figures.at("seed_at_peak_max").get<uint64_t>(),
                             figures.at("seeds_reached").get<uint64_t>()});
    }
  }
  if (absl::Status status = peaks_add(aggregate); !status.ok()) return status;
  return seeds_add(first, last);
} catch (const nlohmann::json::exception& exception) {
  return absl::InvalidArgumentError(std::string("not a sweep aggregate: ") + exception.what());
}

absl::Status SweepAggregate::check_complete(bool whole_sweep) const {
  if (seed_ranges_.empty()) return absl::InvalidArgumentError("no seeds");
  std::vector<std::pair<uint64_t, uint64_t>> ranges = seed_ranges_;
  std::sort(ranges.begin(), ranges.end());
  if (sweep_seeds_ && whole_sweep) {
    const auto [first, last] = *sweep_seeds_;
    if (ranges.front().first < first || ranges.back().second > last) {
      return absl::InvalidArgumentError("results hold seeds outside the sweep's " +
                                        std::to_string(first) + ".." + std::to_string(last));
    }
    if (ranges.front().first != first) {
      return absl::InvalidArgumentError("seeds " + std::to_string(first) + ".." +
                                        std::to_string(ranges.front().first - 1) +
                                        " have no result (a task that did not finish?)");
    }
    if (ranges.back().second != last) {
      return absl::InvalidArgumentError("seeds " + std::to_string(ranges.back().second + 1) + ".." +
                                        std::to_string(last) +
                                        " have no result (a task that did not finish?)");
    }
  }
  for (size_t i = 1; i < ranges.size(); i++) {
    const uint64_t previous_last = ranges[i - 1].second;
    if (ranges[i].first <= previous_last) {
      return absl::InvalidArgumentError("seed " + std::to_string(ranges[i].first) +
                                        " is in more than one result");
    }
    if (ranges[i].first != previous_last + 1) {
      return absl::InvalidArgumentError("seeds " + std::to_string(previous_last + 1) + ".." +
                                        std::to_string(ranges[i].first - 1) +
                                        " have no result (a task that did not finish?)");
    }
  }
  return absl::OkStatus();
}

void SweepAggregate::expect(const TermExpectations& expectations, const TermExpectations& holders) {
  regressions_.clear();
  for (const auto& [key, expectation] : holders) {
    if (!expectation.reached) continue;
    const size_t split = key.rfind(' ');
    const auto role = holder_peaks_.find(key.substr(0, split));
    const bool reached = role != holder_peaks_.end() &&
                         role->second.count(key.substr(split + 1)) > 0 &&
                         role->second.at(key.substr(split + 1)).seeds_reached > 0;
    if (!reached) regressions_.push_back("holder " + key);
  }
  for (const auto& [key, expectation] : expectations) {
    if (!expectation.reached) continue;
    const size_t split = key.rfind(' ');
    const auto role = terms_.find(key.substr(0, split));
    bool reached = false;
    if (role != terms_.end()) {
      const auto term = role->second.find(key.substr(split + 1));
      reached = term != role->second.end() && term->second.seeds_at_bound > 0;
    }
    if (!reached) regressions_.push_back(key);
  }
}

nlohmann::json SweepAggregate::holders_json() const {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [activity, at_peak] : holders_) {
    std::vector<std::pair<uint64_t, uint64_t>> peaks(at_peak.peak_counts.begin(),
                                                     at_peak.peak_counts.end());
    nlohmann::json peak_counts = nlohmann::json::object();
    for (const auto& [peak, count] : peaks) peak_counts[std::to_string(peak)] = count;
    nlohmann::json terms_held = nlohmann::json::object();
    for (const auto& [term, figures] : at_peak.held) {
      if (figures.second == 0) continue;
      terms_held[term] = {
          {"mean", static_cast<double>(figures.first) / static_cast<double>(at_peak.pools)},
          {"max", figures.second},
          {"sum", figures.first}};
    }
    json[activity] = {{"pools", at_peak.pools},
                      {"peak",
                       {{"min", peaks.front().first},
                        {"median", median_of(peaks, at_peak.pools)},
                        {"max", peaks.back().first}}},
                      {"peaks", peak_counts},
                      {"held", terms_held}};
  }
  return json;
}

nlohmann::json SweepAggregate::holder_peaks_json() const {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [role, role_holders] : holder_peaks_) {
    for (const auto& [holder, stats] : role_holders) {
      json[role][holder] = {{"peak_max", stats.peak_max},
                            {"distinct_peak_max", stats.distinct_peak_max},
                            {"seed_at_peak_max", stats.seed_at_peak_max},
                            {"seeds_reached", stats.seeds_reached}};
    }
  }
  return json;
}

nlohmann::json SweepAggregate::pool_peak_ratio_json() const {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [role, counts] : pool_peaks_) {
    std::vector<std::pair<double, uint64_t>> ratios;
    nlohmann::json pools = nlohmann::json::object();
    uint64_t total = 0;
    for (const auto& [peak_of_max, count] : counts) {
      ratios.emplace_back(ratio_of(peak_of_max), count);
      pools[peak_key(peak_of_max)] = count;
      total += count;
    }
    std::stable_sort(ratios.begin(), ratios.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    json[role] = {{"min", ratios.front().first},
                  {"median", median_of(ratios, total)},
                  {"max", ratios.back().first},
                  {"pools", pools}};
  }
  return json;
}

nlohmann::json SweepAggregate::to_json() const {
  uint64_t seeds = 0;
  uint64_t first = UINT64_MAX;
  uint64_t last = 0;
  for (const auto& [range_first, range_last] : seed_ranges_) {
    seeds += range_last - range_first + 1;
    first = std::min(first, range_first);
    last = std::max(last, range_last);
  }
  nlohmann::json aggregate;
  aggregate["seeds"] = seeds;
  aggregate["first_seed"] = first;
  aggregate["last_seed"] = last;
  const std::pair<uint64_t, uint64_t> sweep_seeds =
      sweep_seeds_.value_or(std::make_pair(first, last));
  aggregate["sweep"] = {{"first_seed", sweep_seeds.first}, {"last_seed", sweep_seeds.second}};
  aggregate["passed"] = passed_;
  aggregate["failed"] = seeds - passed_;
  aggregate["crashed"] = crashed_;
  aggregate["seeds_with"] = seeds_with_;
  aggregate["role_seeds"] = nlohmann::json::object();
  for (const auto& [role, count] : role_seeds_) aggregate["role_seeds"][role] = count;
  aggregate["coverage_regressions"] = regressions_;
  aggregate["failures"] = nlohmann::json::array();
  for (const auto& [seed, failure] : failures_) aggregate["failures"].push_back(failure);
  // Only when there is one: every other aggregate stays the bytes the per-process sweep writes.
  if (!sweep_failures_.empty()) aggregate["sweep_failures"] = sweep_failures_;
  aggregate["trace_hashes"] = nlohmann::json::object();
  aggregate["terms"] = nlohmann::json::object();
  for (const auto& [seed, hash] : trace_hashes_)
    aggregate["trace_hashes"][std::to_string(seed)] = hash;
  nlohmann::json never = nlohmann::json::array();
  for (const auto& [role, role_terms] : terms_) {
    for (const auto& [term, stats] : role_terms) {
      aggregate["terms"][role][term] = {{"peak_max", stats.peak_max},
                                        {"bound_at_peak_max", stats.bound_at_peak_max},
                                        {"seed_at_peak_max", stats.seed_at_peak_max},
                                        {"seeds_at_bound", stats.seeds_at_bound},
                                        {"bound_min", stats.bound_min},
                                        {"bound_max", stats.bound_max},
                                        {"peak_ratio_max", stats.peak_ratio_max},
                                        {"distinct_peak_max", stats.distinct_peak_max}};
      if (stats.seeds_at_bound == 0) never.push_back(role + " " + term);
    }
  }
  aggregate["terms_never_at_bound"] = never;
  aggregate["holders_at_peak"] = holders_json();
  aggregate["holder_peaks"] = holder_peaks_json();
  aggregate["pool_peak_ratio"] = pool_peak_ratio_json();
  return aggregate;
}

// Per role and term: the peak by reference and in distinct messages, the bound at the peak.
void SweepAggregate::print_term_peaks() const {
  std::printf("%-15s %-24s %9s %8s %8s %15s\n", "role", "term", "peak_max", "distinct", "bound",
              "seeds_at_bound");
  for (const auto& [role, role_terms] : terms_) {
    for (const auto& [term, stats] : role_terms) {
      std::printf("%-15s %-24s %9llu %8llu %8llu %15llu\n", role.c_str(), term.c_str(),
                  static_cast<unsigned long long>(stats.peak_max),
                  static_cast<unsigned long long>(stats.distinct_peak_max),
                  static_cast<unsigned long long>(stats.bound_at_peak_max),
                  static_cast<unsigned long long>(stats.seeds_at_bound));
    }
  }
}

void SweepAggregate::print_holder_peaks() const {
  for (const auto& [role, role_holders] : holder_peaks_) {
    std::string held;
    for (const auto& [holder, stats] : role_holders) {
      held += " " + holder + " " + std::to_string(stats.peak_max) + "/" +
              std::to_string(stats.distinct_peak_max);
    }
    std::printf("holders of %s pools (peak references/distinct):%s\n", role.c_str(), held.c_str());
  }
}

void SweepAggregate::print(const TermExpectations& expectations) const {
  const nlohmann::json aggregate = to_json();
  std::printf("%llu seeds: %llu passed, %llu failed (%llu crashed before their summary)\n",
              static_cast<unsigned long long>(aggregate["seeds"].get<uint64_t>()),
              static_cast<unsigned long long>(passed_),
              static_cast<unsigned long long>(aggregate["failed"].get<uint64_t>()),
              static_cast<unsigned long long>(crashed_));
  std::string paths;
  for (const auto& [path, count] : seeds_with_) paths += " " + path + " " + std::to_string(count);
  std::printf("seeds with:%s\n", paths.c_str());
  print_term_peaks();
  for (const auto& [role, role_terms] : terms_) {
    for (const auto& [term, stats] : role_terms) {
      const auto expectation = expectations.find(role + " " + term);
      const bool expected = expectation != expectations.end();
      if (stats.seeds_at_bound == 0) {
        std::printf("never at bound: %s %s (%llu of %llu)%s%s\n", role.c_str(), term.c_str(),
                    static_cast<unsigned long long>(stats.peak_max),
                    static_cast<unsigned long long>(stats.bound_at_peak_max), expected ? ": " : "",
                    expected ? expectation->second.why.c_str() : "");
      } else if (!expectations.empty() && !expected) {
        std::printf("newly at bound (add it to the expected terms): %s %s\n", role.c_str(),
                    term.c_str());
      }
    }
  }
  print_holder_peaks();
  for (const std::string& key : regressions_) {
    std::printf("COVERAGE REGRESSION: %s %s in earlier sweeps and in none now\n", key.c_str(),
                key.rfind("holder ", 0) == 0 ? "held a message" : "reached its bound");
  }
  for (const auto& [role, ratio] : aggregate.at("pool_peak_ratio").items()) {
    std::printf("%s pools: peak / messages_max min %.2f median %.2f max %.2f\n", role.c_str(),
                ratio["min"].get<double>(), ratio["median"].get<double>(),
                ratio["max"].get<double>());
  }
  for (const auto& [activity, at_peak] : holders_) {
    std::string held;
    for (const auto& [term, figures] : at_peak.held) {
      if (figures.second == 0) continue;
      char text[96];
      std::snprintf(text, sizeof(text), " %s %.1f/%llu", term.c_str(),
                    static_cast<double>(figures.first) / static_cast<double>(at_peak.pools),
                    static_cast<unsigned long long>(figures.second));
      held += text;
    }
    std::printf("holders at replica peaks, %s (%llu pools; mean/max):%s\n", activity.c_str(),
                static_cast<unsigned long long>(at_peak.pools), held.c_str());
  }
  for (const auto& [seed, failure] : failures_) {
    std::printf("FAIL seed %llu (%s): %s\n", static_cast<unsigned long long>(seed),
                failure["failure"].value("kind", std::string("?")).c_str(),
                failure["repro"].get<std::string>().c_str());
  }
  for (const std::string& what : sweep_failures_) std::printf("FAIL sweep: %s\n", what.c_str());
  if (!failures_.empty()) {
    // The first failure's replay, cut down to its smallest configuration by scripts/minimize.sh.
    std::string repro = failures_.begin()->second["repro"].get<std::string>();
    const std::string sim_script = "scripts/sim.sh";
    if (repro.rfind(sim_script, 0) == 0)
      repro = "scripts/minimize.sh" + repro.substr(sim_script.size());
    std::printf("minimise the first: %s\n", repro.c_str());
  }
}

absl::Status sweep_aggregate_write(const SweepAggregate& sweep, const std::string& path) {
  const std::string partial = path + ".partial";
  std::ofstream file(partial);
  file << sweep.to_json().dump(2) << "\n";
  file.close();
  std::error_code error;
  if (file) std::filesystem::rename(partial, path, error);
  if (!file || error) return absl::InternalError("could not write " + path);
  return absl::OkStatus();
}

}  // namespace sim
