// sweep-aggregate: folds the summary JSON files of a seed sweep (--results=DIR), or the aggregates
// of a sweep's tasks (--merge=DIR: every aggregate.json under DIR), into one aggregate: pass/fail
// counts, every failure with its replay command, each seed's trace hash, and per process role
// (replica, client) and formula term the peak reached over all seeds against its bound: the
// formula's headroom, and the terms that no seed drove to their bound. The seeds must be one
// contiguous range, each seed once: a missing task or seed is an error, not a smaller sweep.
// With --expected-terms=FILE, a term that FILE says the sweep reaches and that no seed drove to
// its bound is a failure (a regression of the sweep's coverage); FILE names each term that
// cannot be reached with a sentence of why, and the report prints it.
// With --expected-holders=FILE (the same format, holders for terms), a holder that FILE says the
// sweep reaches and that held no message in any seed is a coverage regression too.
// Usage: sweep-aggregate (--results=DIR [--sweep-seeds=FIRST..LAST] | --merge=DIR) --out=PATH
//        [--expected-terms=FILE] [--expected-holders=FILE].
// Exit 0 all passed, 1 failures, 2 bad input.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "nlohmann/json.hpp"
#include "pool/cli/flags.h"
#include "sim/cli/seed_list.h"
#include "sim/cli/sweep_aggregate.h"
#include "sim/options.h"

ABSL_FLAG(std::string, results, "", "Directory of the sweep's per-seed summary JSON files.");
ABSL_FLAG(std::string, merge, "", "Merge every aggregate.json under this directory (its tasks).");
ABSL_FLAG(std::string, sweep_seeds, "",
          "FIRST..LAST: the whole sweep, when --results holds one task's share of it.");
ABSL_FLAG(std::string, out, "", "Write the aggregate JSON here (must not exist).");
ABSL_FLAG(std::string, expected_terms, "",
          "Lines 'ROLE BUS TERM reached' or 'ROLE BUS TERM unreachable: WHY' ('#' comments).");
ABSL_FLAG(std::string, expected_holders, "",
          "A file of the census holders the sweep must reach (scripts/holders_expected.txt).");

namespace {

constexpr std::string_view program = "sweep-aggregate";

[[noreturn]] void bad(const std::string& message) {
  pool::cli::exit_bad_input(program, absl::InvalidArgumentError(message));
}

// The files to fold in: *.json directly in --results, or aggregate.json anywhere under --merge.
std::vector<std::filesystem::path> inputs(const std::string& directory, bool merge,
                                          const std::filesystem::path& out) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) bad(directory + " is not a directory");
  std::vector<std::filesystem::path> files;
  try {
    if (merge) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
        if (entry.path().filename() != "aggregate.json") continue;
        if (std::filesystem::equivalent(entry.path(), out, error)) continue;
        files.push_back(entry.path());
      }
    } else {
      for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
      }
    }
  } catch (const std::filesystem::filesystem_error& exception) {
    bad(directory + ": " + exception.what());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    bad(directory + (merge ? " holds no aggregate.json" : " holds no summary JSON"));
  }
  return files;
}

// The expectations in `path` (none if empty); an unreadable or malformed file ends the run.
sim::TermExpectations expectations_from(const std::string& flag, const std::string& path) {
  if (path.empty()) return sim::TermExpectations{};
  auto read = sim::term_expectations_read(path);
  if (!read.ok()) {
    pool::cli::exit_bad_input(program,
                              absl::InvalidArgumentError("--" + flag + "=" + path + ": " +
                                                         std::string(read.status().message())));
  }
  return *std::move(read);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = pool::cli::parse_command_line(argc, argv);
  if (!parsed.ok()) pool::cli::exit_bad_input(program, parsed.status());
  if (parsed->help) {
    std::printf("%s", pool::cli::help_text("usage: sweep-aggregate (--results=DIR | --merge=DIR) "
                                           "--out=PATH [--expected-terms=FILE]",
                                           {"sweep_aggregate_main.cc"})
                          .c_str());
    return 0;
  }
  const std::string results = absl::GetFlag(FLAGS_results);
  const std::string merge = absl::GetFlag(FLAGS_merge);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (results.empty() == merge.empty()) bad("give one of --results=DIR and --merge=DIR");
  std::error_code error;
  if (out.empty() || std::filesystem::exists(out, error)) {
    bad("--out=" + out + " is empty or exists already");
  }

  const sim::TermExpectations expectations =
      expectations_from("expected-terms", absl::GetFlag(FLAGS_expected_terms));
  const sim::TermExpectations holder_expectations =
      expectations_from("expected-holders", absl::GetFlag(FLAGS_expected_holders));

  sim::SweepAggregate sweep;
  if (const std::string range = absl::GetFlag(FLAGS_sweep_seeds); !range.empty()) {
    const absl::StatusOr<std::pair<uint64_t, uint64_t>> seeds = sim::seed_range_parse(range);
    if (!seeds.ok()) bad("--sweep-seeds=" + range + ": " + std::string(seeds.status().message()));
    if (absl::Status status = sweep.set_sweep_seeds(seeds->first, seeds->second); !status.ok()) {
      bad("--sweep-seeds=" + range + ": " + std::string(status.message()));
    }
  }
  const bool merging = !merge.empty();
  for (const auto& path : inputs(merging ? merge : results, merging, out)) {
    std::ifstream file(path);
    const nlohmann::json json = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) bad(path.string() + ": not JSON");
    const absl::Status status = merging ? sweep.add_aggregate(json) : sweep.add_summary(json);
    if (!status.ok()) bad(path.string() + ": " + std::string(status.message()));
  }
  // A task's results are its share of the sweep; a merge must cover all of it.
  const bool whole_sweep = merging || absl::GetFlag(FLAGS_sweep_seeds).empty();
  if (absl::Status status = sweep.check_complete(whole_sweep); !status.ok()) {
    bad(std::string(status.message()));
  }
  sweep.expect(expectations, holder_expectations);
  if (absl::Status status = sim::sweep_aggregate_write(sweep, out); !status.ok()) {
    std::fprintf(stderr, "sweep-aggregate: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  sweep.print(expectations);
  return sweep.passed() ? 0 : 1;
}
