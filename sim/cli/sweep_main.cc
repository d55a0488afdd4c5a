#include "sim/cli/sweep_main.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "sim/cli/seed_list.h"
#include "sim/cli/sweep_supervisor.h"

ABSL_FLAG(std::string, seeds, "",
          "FIRST..LAST: sweep these seeds in one process (--jobs threads, --out=DIR), each run "
          "exactly as a single run of its seed, and write the sweep's aggregate.");
ABSL_FLAG(int32_t, jobs, 0, "With --seeds: worker threads (default: one per CPU).");
ABSL_FLAG(std::string, out, "",
          "With --seeds: a new directory for the summaries, logs and aggregate.json.");
ABSL_FLAG(std::string, expected_terms, "",
          "With --seeds: the terms the sweep must drive to their bounds "
          "(scripts/terms_expected.txt).");
ABSL_FLAG(std::string, expected_holders, "",
          "With --seeds: the holders the sweep must reach (scripts/holders_expected.txt).");
ABSL_FLAG(std::string, sweep_seeds, "",
          "With --seeds: FIRST..LAST of the whole sweep when --seeds is one task's share.");
ABSL_FLAG(bool, sweep_worker, false, "Internal: a worker process of a sweep.");
ABSL_DECLARE_FLAG(std::string, log);  // main.cc's.

namespace sim {
namespace {

constexpr std::string_view program = "sim";

[[noreturn]] void bad(const std::string& message) {
  pool::cli::exit_bad_input(program, absl::InvalidArgumentError(message));
}

// The sweep's own flags, which do not pass through to each seed's run.
const std::set<std::string>& sweep_flag_names() {
  static const std::set<std::string> names = {
      "seeds", "jobs", "out", "expected_terms", "expected_holders", "sweep_seeds", "sweep_worker"};
  return names;
}

// argv without the sweep's own flags, in order: what every run of a seed gets, and what the
// stand-in of a crashed seed shows in its replay command.
std::vector<std::string> passed_arguments(int argc, const char* const* argv) {
  std::vector<std::string> passed;
  for (int index = 1; index < argc; index++) {
    const std::string argument = argv[index];
    const size_t dashes = argument.rfind("--", 0) == 0 ? 2 : argument.rfind('-', 0) == 0 ? 1 : 0;
    std::string name = argument.substr(dashes, argument.find('=') - dashes);
    std::replace(name.begin(), name.end(), '-', '_');
    if (dashes == 0 || sweep_flag_names().count(name) == 0) {
      passed.push_back(argument);
      continue;
    }
    // "--jobs 2": the value is the next argument (a bool flag takes none).
    if (argument.find('=') == std::string::npos && name != "sweep_worker") index++;
  }
  return passed;
}

TermExpectations expectations_from(const std::string& flag, const std::string& path) {
  if (path.empty()) return TermExpectations{};
  absl::StatusOr<TermExpectations> read = term_expectations_read(path);
  if (!read.ok()) bad("--" + flag + "=" + path + ": " + std::string(read.status().message()));
  return *std::move(read);
}

constexpr int32_t jobs_max = 1024;

uint32_t jobs_from_flag() {
  const int32_t jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 0 || jobs > jobs_max) {
    bad("--jobs=" + std::to_string(jobs) + " is not 1.." + std::to_string(jobs_max) +
        " (or 0, one per CPU)");
  }
  if (jobs > 0) return static_cast<uint32_t>(jobs);
  return std::max(1u, std::thread::hardware_concurrency());
}

// The log level of each seed's log: quiet unless --log says otherwise.
std::string seed_log_level(const pool::cli::ParsedCommandLine& parsed) {
  if (parsed.flags_set.count("log") == 0) return "quiet";
  return absl::GetFlag(FLAGS_log);
}

// --out, with "DIR/" as DIR, so that every path under it (and the worker's --out) is DIR/NAME.
std::string out_from_flag() {
  std::string out = absl::GetFlag(FLAGS_out);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// The worker: the seeds its sweep handed it, into the sweep's directory.
int worker_main(const SeedJob& job) {
  const absl::StatusOr<std::vector<uint64_t>> seeds = seed_list_parse(absl::GetFlag(FLAGS_seeds));
  if (!seeds.ok()) bad("--seeds: " + std::string(seeds.status().message()));
  std::error_code error;
  if (!std::filesystem::is_directory(job.out + "/summaries", error)) {
    bad("--sweep-worker: " + job.out + " is not a sweep's directory");
  }
  return sweep_worker_run(job, *seeds, jobs_from_flag());
}

// The user's sweep, its flags checked before any seed runs.
SweepPlan plan_from_flags(
    int argc, const char* const* argv, const pool::cli::ParsedCommandLine& parsed,
    const std::function<absl::StatusOr<Options>(uint64_t seed)>& options_for_seed) {
  SweepPlan plan;
  plan.seeds_text = absl::GetFlag(FLAGS_seeds);
  const absl::StatusOr<std::pair<uint64_t, uint64_t>> range = seed_range_parse(plan.seeds_text);
  if (!range.ok()) bad("--seeds=" + plan.seeds_text + ": " + std::string(range.status().message()));
  absl::StatusOr<std::vector<uint64_t>> seeds = seed_list_parse(plan.seeds_text);
  if (!seeds.ok()) bad("--seeds=" + plan.seeds_text + ": " + std::string(seeds.status().message()));
  plan.seeds = *std::move(seeds);
  plan.jobs = jobs_from_flag();
  plan.out = out_from_flag();
  plan.log = seed_log_level(parsed);
  if (auto status = pool::cli::flag_one_of("log", plan.log, {"quiet", "short", "full"});
      !status.ok()) {
    pool::cli::exit_bad_input(program, status);
  }
  plan.terms = expectations_from("expected-terms", absl::GetFlag(FLAGS_expected_terms));
  plan.holders = expectations_from("expected-holders", absl::GetFlag(FLAGS_expected_holders));
  if (const std::string whole = absl::GetFlag(FLAGS_sweep_seeds); !whole.empty()) {
    const absl::StatusOr<std::pair<uint64_t, uint64_t>> sweep_seeds = seed_range_parse(whole);
    if (!sweep_seeds.ok())
      bad("--sweep-seeds=" + whole + ": " + std::string(sweep_seeds.status().message()));
    if (sweep_seeds->first > range->first || sweep_seeds->second < range->second) {
      bad("--sweep-seeds=" + whole + " does not hold --seeds=" + plan.seeds_text);
    }
    plan.sweep_seeds = *sweep_seeds;
  }
  // The first seed's options stand for the flags: a bad flag stops the sweep before it starts.
  if (absl::StatusOr<Options> options = options_for_seed(plan.seeds.front()); !options.ok()) {
    pool::cli::exit_bad_input(program, options.status());
  }
  std::error_code error;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) bad("cannot find sim's own binary (/proc/self/exe)");
  plan.self = self;
  plan.passed_args = passed_arguments(argc, argv);
  return plan;
}

// Makes DIR with its summaries/ and logs/, refusing one that exists: nothing is overwritten.
void out_make(const std::string& out) {
  if (out.empty()) bad("--seeds needs --out=DIR, a new directory for the sweep's results");
  std::error_code error;
  const std::filesystem::path parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  // Made here or refused: a directory another sweep made a moment ago is not shared.
  if (!error && !std::filesystem::create_directory(out, error) && !error) {
    bad("--out=" + out + " exists; choose a new directory");
  }
  if (!error) std::filesystem::create_directory(out + "/summaries", error);
  if (!error) std::filesystem::create_directory(out + "/logs", error);
  if (error) bad("--out=" + out + ": " + error.message());
}

}  // namespace

bool sweep_asked(const pool::cli::ParsedCommandLine& parsed) {
  return std::any_of(sweep_flag_names().begin(), sweep_flag_names().end(),
                     [&](const std::string& name) { return parsed.flags_set.count(name) != 0; });
}

int sweep_main(int argc, const char* const* argv, const pool::cli::ParsedCommandLine& parsed,
               const std::function<absl::StatusOr<Options>(uint64_t seed)>& options_for_seed,
               const std::optional<PlantedCrash>& planted) {
  if (absl::GetFlag(FLAGS_seeds).empty()) {
    // A sweep's flag without a sweep: say so rather than run one seed and ignore it.
    for (const std::string& name : sweep_flag_names()) {
      if (name != "seeds" && parsed.flags_set.count(name) != 0) {
        bad("--" + pool::cli::flag_name_dashed(name) + " needs --seeds=FIRST..LAST");
      }
    }
    bad("--seeds is empty: give FIRST..LAST");
  }
  if (parsed.flags_set.count("seed") != 0) bad("--seed and --seeds: give one");
  for (const char* flag : {"summary_json", "trace_events", "trace_out", "minimize"}) {
    if (parsed.flags_set.count(flag) != 0) {
      bad("--" + pool::cli::flag_name_dashed(flag) + ": a sweep writes its own files (--out)");
    }
  }
  if (!parsed.positional.empty()) {
    bad("unexpected argument '" + parsed.positional.front() + "' (flags only; see --help)");
  }
  SeedJob job;
  job.options_for_seed = options_for_seed;
  job.out = out_from_flag();
  job.log = seed_log_level(parsed);
  job.planted_crash = planted;
  if (absl::GetFlag(FLAGS_sweep_worker)) return worker_main(job);
  const SweepPlan plan = plan_from_flags(argc, argv, parsed, options_for_seed);
  out_make(plan.out);
  return sweep_run(plan);
}

}  // namespace sim
