// sweep-aggregate: folds the summary JSON files of a seed sweep into one aggregate: pass/fail
// counts, every failure with its replay command, and per process role (replica, client) and
// formula term the peak reached over all seeds against its bound: the formula's headroom, and
// the terms that no seed drove to their bound.
// Usage: sweep-aggregate --results=DIR --out=PATH. Exit 0 all passed, 1 failures, 2 bad input.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "nlohmann/json.hpp"
#include "pool/cli/flags.h"

ABSL_FLAG(std::string, results, "", "Directory of the sweep's per-seed summary JSON files.");
ABSL_FLAG(std::string, out, "", "Write the aggregate JSON here (must not exist).");

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

std::string role_of(const std::string& owner) {
  if (owner.rfind("client", 0) == 0) return "client";
  if (owner == "network") return "network";
  return "replica";  // Replicas and standbys share the replica formula.
}

// The sweep so far: counts, failures, and per role and term the peak over all seeds.
struct Sweep {
  uint64_t seeds = 0;
  uint64_t passed = 0;
  nlohmann::json failures = nlohmann::json::array();
  nlohmann::json trace_hashes = nlohmann::json::object();
  std::map<std::string, std::map<std::string, TermStats>> terms;  // role → term → stats.
  std::map<std::string, std::vector<double>> peak_ratios;         // role → peak / messages_max.

  // Folds in one seed's summary; throws nlohmann::json::exception if it is not one.
  void add(const nlohmann::json& summary) {
    const uint64_t seed = summary.at("seed").get<uint64_t>();
    trace_hashes[std::to_string(seed)] = summary.at("trace_hash");
    if (summary.at("passed").get<bool>()) {
      passed += 1;
    } else {
      failures.push_back(
          {{"seed", seed}, {"failure", summary.at("failure")}, {"repro", summary.at("repro")}});
    }
    std::map<std::string, std::map<std::string, bool>> at_bound;  // This seed's hits.
    for (const auto& pool_summary : summary.at("pools")) {
      const std::string role = role_of(pool_summary.at("owner").get<std::string>());
      peak_ratios[role].push_back(pool_summary.at("peak").get<double>() /
                                  pool_summary.at("messages_max").get<double>());
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

  nlohmann::json to_json() {
    nlohmann::json aggregate;
    aggregate["seeds"] = seeds;
    aggregate["passed"] = passed;
    aggregate["failed"] = seeds - passed;
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
    for (auto& [role, ratios] : peak_ratios) {
      std::sort(ratios.begin(), ratios.end());
      aggregate["pool_peak_ratio"][role] = {
          {"min", ratios.front()}, {"median", ratios[ratios.size() / 2]}, {"max", ratios.back()}};
    }
    return aggregate;
  }

  void print() const {
    std::printf("%llu seeds: %llu passed, %llu failed\n", static_cast<unsigned long long>(seeds),
                static_cast<unsigned long long>(passed),
                static_cast<unsigned long long>(seeds - passed));
    std::printf("%-8s %-24s %9s %8s %15s\n", "role", "term", "peak_max", "bound", "seeds_at_bound");
    for (const auto& [role, role_terms] : terms) {
      for (const auto& [term, stats] : role_terms) {
        std::printf("%-8s %-24s %9llu %8llu %15llu\n", role.c_str(), term.c_str(),
                    static_cast<unsigned long long>(stats.peak_max),
                    static_cast<unsigned long long>(stats.bound_at_peak_max),
                    static_cast<unsigned long long>(stats.seeds_at_bound));
      }
    }
    for (const auto& [role, ratios] : peak_ratios) {
      std::printf("%s pools: peak / messages_max min %.2f median %.2f max %.2f\n", role.c_str(),
                  ratios.front(), ratios[ratios.size() / 2], ratios.back());
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

  Sweep sweep;
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
  std::ofstream file(out);
  file << sweep.to_json().dump(2) << "\n";
  if (!file) {
    std::fprintf(stderr, "sweep-aggregate: could not write --out=%s\n", out.c_str());
    return 2;
  }
  sweep.print();
  return sweep.failures.empty() ? 0 : 1;
}
