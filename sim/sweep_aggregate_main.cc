// sweep-aggregate: folds the summary JSON files of a seed sweep into one aggregate: pass/fail
// counts, every failure with its replay command, and per process role (replica, client) and
// formula term the peak reached over all seeds against its bound: the formula's headroom, and
// the terms that no seed drove to their bound.
// With --expected-terms=FILE, a term that FILE says the sweep reaches and that no seed drove to
// its bound is a failure (a regression of the sweep's coverage); FILE names each term that
// cannot be reached with a sentence of why, and the report prints it.
// Usage: sweep-aggregate --results=DIR --out=PATH [--crashed=N] [--expected-terms=FILE].
// Exit 0 all passed, 1 failures, 2 bad input.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "pool/cli/flags.h"

ABSL_FLAG(std::string, results, "", "Directory of the sweep's per-seed summary JSON files.");
ABSL_FLAG(std::string, out, "", "Write the aggregate JSON here (must not exist).");
ABSL_FLAG(uint64_t, crashed, 0, "Runs that crashed before writing a summary (counted as failed).");
ABSL_FLAG(std::string, expected_terms, "",
          "Lines 'ROLE BUS TERM reached' or 'ROLE BUS TERM unreachable: WHY' ('#' comments).");

namespace {

constexpr std::string_view program = "sweep-aggregate";

struct TermStats {
  uint64_t peak_max = 0;
  uint64_t bound_at_peak_max = 0;
  uint64_t seed_at_peak_max = 0;
  uint64_t seeds_at_bound = 0;  // Seeds in which some pool of the role held the term at its bound.
  uint64_t bound_min = UINT64_MAX;
  uint64_t bound_max = 0;
};

// "replica tcp", "client testing", "network": the formula's role and the bus it was sized for.
std::string role_of(const std::string& owner, const std::string& bus) {
  if (owner == "network") return "network";
  // Replicas and standbys share the replica formula.
  return std::string(owner.rfind("client", 0) == 0 ? "client" : "replica") + " " + bus;
}

// What held the replica pools at their peaks, per activity at the peak ("backup normal",
// "primary view_change", ...): the fidelity comparison with the original's measured peaks.
struct Holders {
  uint64_t pools = 0;
  std::vector<uint64_t> peaks;
  std::map<std::string, std::pair<uint64_t, uint64_t>> held;  // term → (sum, max).
};

// Folds one census_at_peak ("journal_reads 1/3, pipeline 6/6, ... [backup normal]") in.
void holders_add(std::map<std::string, Holders>& by_activity, const std::string& census,
                 uint64_t peak) {
  const size_t open = census.rfind(" [");
  if (open == std::string::npos || census.back() != ']') return;
  Holders& holders = by_activity[census.substr(open + 2, census.size() - open - 3)];
  holders.pools += 1;
  holders.peaks.push_back(peak);
  std::istringstream entries(census.substr(0, open));
  std::string entry;
  while (std::getline(entries, entry, ',')) {
    const size_t start = entry.find_first_not_of(' ');
    const size_t space = entry.rfind(' ');
    if (start == std::string::npos || space == std::string::npos || space < start) continue;
    const std::string term = entry.substr(start, space - start);
    const uint64_t held = std::strtoull(entry.c_str() + space + 1, nullptr, 10);
    auto& [sum, max] = holders.held[term];
    sum += held;
    max = std::max(max, held);
  }
}

// One line of the expected-terms file.
struct Expectation {
  bool reached;
  std::string why;  // For an unreachable term.
};
using Expectations = std::map<std::string, Expectation>;  // "replica tcp journal_reads" → ...

absl::StatusOr<Expectations> expectations_read(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::InvalidArgumentError("--expected-terms=" + path + " cannot be read");
  Expectations expectations;
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

// The sweep so far: counts, failures, and per role and term the peak over all seeds.
struct Sweep {
  uint64_t seeds = 0;
  uint64_t passed = 0;
  // Seeds in which each path ran at least once.
  std::map<std::string, uint64_t> seeds_with;
  nlohmann::json failures = nlohmann::json::array();
  nlohmann::json trace_hashes = nlohmann::json::object();
  std::map<std::string, std::map<std::string, TermStats>> terms;  // role → term → stats.
  std::map<std::string, std::vector<double>> peak_ratios;         // role → peak / messages_max.
  std::map<std::string, Holders> holders;                         // activity → holders.

  // Folds in one seed's summary; throws nlohmann::json::exception if it is not one.
  void add(const nlohmann::json& summary) {
    const uint64_t seed = summary.at("seed").get<uint64_t>();
    const std::string bus = summary.at("options").at("bus").get<std::string>();
    for (const char* path :
         {"crashes", "view_changes", "view_truncations", "syncs", "blocks_repaired"}) {
      seeds_with[path] += summary.value(path, uint64_t{0}) > 0;
    }
    trace_hashes[std::to_string(seed)] = summary.at("trace_hash");
    if (summary.at("passed").get<bool>()) {
      passed += 1;
    } else {
      failures.push_back(
          {{"seed", seed}, {"failure", summary.at("failure")}, {"repro", summary.at("repro")}});
    }
    std::map<std::string, std::map<std::string, bool>> at_bound;  // This seed's hits.
    for (const auto& pool_summary : summary.at("pools")) {
      const std::string role = role_of(pool_summary.at("owner").get<std::string>(), bus);
      peak_ratios[role].push_back(pool_summary.at("peak").get<double>() /
                                  pool_summary.at("messages_max").get<double>());
      if (role.rfind("replica", 0) == 0) {
        holders_add(holders, pool_summary.at("census_at_peak").get<std::string>(),
                    pool_summary.at("peak").get<uint64_t>());
      }
      for (const auto& [term, figures] : pool_summary.at("terms").items()) {
        TermStats& stats = terms[role][term];
        const uint64_t peak = figures.at("peak").get<uint64_t>();
        const uint64_t bound = figures.at("bound").get<uint64_t>();
        stats.bound_min = std::min(stats.bound_min, bound);
        stats.bound_max = std::max(stats.bound_max, bound);
        if (peak > stats.peak_max || (peak == stats.peak_max && stats.bound_at_peak_max == 0)) {
          stats.peak_max = peak;
          stats.bound_at_peak_max = bound;
          stats.seed_at_peak_max = seed;
        }
        if (bound > 0 && peak == bound) at_bound[role][term] = true;
      }
    }
    for (const auto& [role, hits] : at_bound) {
      for (const auto& [term, hit] : hits) terms[role][term].seeds_at_bound += hit;
    }
    seeds += 1;
  }

  uint64_t crashed = 0;
  std::vector<std::string> regressions;  // Expected to be reached, and not reached.

  // Compares the terms reached with the expectations; each miss is a regression.
  void expect(const Expectations& expectations) {
    for (const auto& [key, expectation] : expectations) {
      if (!expectation.reached) continue;
      const size_t split = key.rfind(' ');
      const auto role = terms.find(key.substr(0, split));
      const bool reached = role != terms.end() && role->second.count(key.substr(split + 1)) > 0 &&
                           role->second.at(key.substr(split + 1)).seeds_at_bound > 0;
      if (!reached) regressions.push_back(key);
    }
  }

  nlohmann::json to_json() {
    nlohmann::json aggregate;
    aggregate["seeds"] = seeds + crashed;
    aggregate["passed"] = passed;
    aggregate["failed"] = seeds + crashed - passed;
    aggregate["crashed"] = crashed;
    aggregate["seeds_with"] = seeds_with;
    aggregate["coverage_regressions"] = regressions;
    aggregate["failures"] = failures;
    aggregate["trace_hashes"] = trace_hashes;
    nlohmann::json never = nlohmann::json::array();
    for (const auto& [role, role_terms] : terms) {
      for (const auto& [term, stats] : role_terms) {
        aggregate["terms"][role][term] = {{"peak_max", stats.peak_max},
                                          {"bound_at_peak_max", stats.bound_at_peak_max},
                                          {"seed_at_peak_max", stats.seed_at_peak_max},
                                          {"seeds_at_bound", stats.seeds_at_bound},
                                          {"bound_min", stats.bound_min},
                                          {"bound_max", stats.bound_max}};
        if (stats.seeds_at_bound == 0) never.push_back(role + " " + term);
      }
    }
    aggregate["terms_never_at_bound"] = never;
    for (auto& [activity, at_peak] : holders) {
      std::sort(at_peak.peaks.begin(), at_peak.peaks.end());
      nlohmann::json terms_held = nlohmann::json::object();
      for (const auto& [term, figures] : at_peak.held) {
        if (figures.second == 0) continue;
        terms_held[term] = {
            {"mean", static_cast<double>(figures.first) / static_cast<double>(at_peak.pools)},
            {"max", figures.second}};
      }
      aggregate["holders_at_peak"][activity] = {
          {"pools", at_peak.pools},
          {"peak",
           {{"min", at_peak.peaks.front()},
            {"median", at_peak.peaks[at_peak.peaks.size() / 2]},
            {"max", at_peak.peaks.back()}}},
          {"held", terms_held}};
    }
    for (auto& [role, ratios] : peak_ratios) {
      std::sort(ratios.begin(), ratios.end());
      aggregate["pool_peak_ratio"][role] = {
          {"min", ratios.front()}, {"median", ratios[ratios.size() / 2]}, {"max", ratios.back()}};
    }
    return aggregate;
  }

  void print(const Expectations& expectations) const {
    std::printf("%llu seeds: %llu passed, %llu failed (%llu crashed before their summary)\n",
                static_cast<unsigned long long>(seeds + crashed),
                static_cast<unsigned long long>(passed),
                static_cast<unsigned long long>(seeds + crashed - passed),
                static_cast<unsigned long long>(crashed));
    std::string paths;
    for (const auto& [path, count] : seeds_with) {
      paths += " " + path + " " + std::to_string(count);
    }
    std::printf("seeds with:%s\n", paths.c_str());
    std::printf("%-15s %-24s %9s %8s %15s\n", "role", "term", "peak_max", "bound",
                "seeds_at_bound");
    for (const auto& [role, role_terms] : terms) {
      for (const auto& [term, stats] : role_terms) {
        std::printf("%-15s %-24s %9llu %8llu %15llu\n", role.c_str(), term.c_str(),
                    static_cast<unsigned long long>(stats.peak_max),
                    static_cast<unsigned long long>(stats.bound_at_peak_max),
                    static_cast<unsigned long long>(stats.seeds_at_bound));
      }
    }
    for (const auto& [role, role_terms] : terms) {
      for (const auto& [term, stats] : role_terms) {
        if (stats.seeds_at_bound > 0) continue;
        const auto expectation = expectations.find(role + " " + term);
        std::printf("never at bound: %s %s (%llu of %llu)%s%s\n", role.c_str(), term.c_str(),
                    static_cast<unsigned long long>(stats.peak_max),
                    static_cast<unsigned long long>(stats.bound_at_peak_max),
                    expectation != expectations.end() ? ": " : "",
                    expectation != expectations.end() ? expectation->second.why.c_str() : "");
      }
    }
    for (const auto& [role, role_terms] : terms) {
      for (const auto& [term, stats] : role_terms) {
        if (stats.seeds_at_bound > 0 && !expectations.empty() &&
            expectations.count(role + " " + term) == 0) {
          std::printf("newly at bound (add it to the expected terms): %s %s\n", role.c_str(),
                      term.c_str());
        }
      }
    }
    for (const std::string& key : regressions) {
      std::printf("COVERAGE REGRESSION: %s reached its bound in earlier sweeps and in none now\n",
                  key.c_str());
    }
    for (const auto& [role, ratios] : peak_ratios) {
      std::printf("%s pools: peak / messages_max min %.2f median %.2f max %.2f\n", role.c_str(),
                  ratios.front(), ratios[ratios.size() / 2], ratios.back());
    }
    for (const auto& [activity, at_peak] : holders) {
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
    for (const auto& failure : failures) {
      std::printf("FAIL seed %llu (%s): %s\n",
                  static_cast<unsigned long long>(failure["seed"].get<uint64_t>()),
                  failure["failure"]["kind"].get<std::string>().c_str(),
                  failure["repro"].get<std::string>().c_str());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  auto parsed = pool::cli::parse_command_line(argc, argv);
  if (!parsed.ok()) pool::cli::exit_bad_input(program, parsed.status());
  if (parsed->help) {
    std::printf("%s", pool::cli::help_text("usage: sweep-aggregate --results=DIR --out=PATH",
                                           {"sweep_aggregate_main.cc"})
                          .c_str());
    return 0;
  }
  const std::string results = absl::GetFlag(FLAGS_results);
  const std::string out = absl::GetFlag(FLAGS_out);
  std::error_code error;
  if (results.empty() || !std::filesystem::is_directory(results, error)) {
    pool::cli::exit_bad_input(
        program, absl::InvalidArgumentError("--results=" + results + " is not a directory"));
  }
  if (out.empty() || std::filesystem::exists(out, error)) {
    pool::cli::exit_bad_input(
        program, absl::InvalidArgumentError("--out=" + out + " is empty or exists already"));
  }

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(results)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    pool::cli::exit_bad_input(
        program, absl::InvalidArgumentError("--results=" + results + " holds no summary JSON"));
  }

  Expectations expectations;
  if (const std::string path = absl::GetFlag(FLAGS_expected_terms); !path.empty()) {
    auto read = expectations_read(path);
    if (!read.ok()) pool::cli::exit_bad_input(program, read.status());
    expectations = *std::move(read);
  }

  Sweep sweep;
  sweep.crashed = absl::GetFlag(FLAGS_crashed);
  for (const auto& path : files) {
    try {
      std::ifstream file(path);
      sweep.add(nlohmann::json::parse(file));
    } catch (const nlohmann::json::exception& exception) {
      pool::cli::exit_bad_input(
          program,
          absl::InvalidArgumentError(path.string() + ": not a sim summary: " + exception.what()));
    }
  }
  sweep.expect(expectations);
  std::ofstream file(out);
  file << sweep.to_json().dump(2) << "\n";
  if (!file) {
    std::fprintf(stderr, "sweep-aggregate: could not write --out=%s\n", out.c_str());
    return 2;
  }
  sweep.print(expectations);
  return sweep.failures.empty() && sweep.crashed == 0 && sweep.regressions.empty() ? 0 : 1;
}
