#include "sim/cli/sweep_worker.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "pool/assertion.h"
#include "sim/cli/run_text.h"
#include "sim/cli/summary_json.h"
#include "sim/cluster.h"

namespace sim {
namespace {

// The worker's report lines, whole lines to stdout (a pipe to the sweep), one thread at a time.
class Reporter {
 public:
  void line(const char* what, uint64_t seed) {
    const std::string text = std::string(what) + " " + std::to_string(seed) + "\n";
    const std::lock_guard<std::mutex> lock(mutex_);
    size_t written = 0;
    while (written < text.size()) {
      const ssize_t count = ::write(STDOUT_FILENO, text.data() + written, text.size() - written);
      if (count <= 0) std::_Exit(4);  // The sweep is gone: nobody is left to report to.
      written += static_cast<size_t>(count);
    }
  }

 private:
  std::mutex mutex_;
};

// One thread's run, for its assertion hook: the seed, its replay command, where to report.
struct RunContext {
  uint64_t seed;
  std::string replay;
  Reporter* reporter;
};

void run_crashed(void* context) {
  const auto* run = static_cast<const RunContext*>(context);
  std::fprintf(stderr, "seed %llu; replay: %s\n", static_cast<unsigned long long>(run->seed),
               run->replay.c_str());
  run->reporter->line("crash", run->seed);
}

// The seed's log and summary, as a single run writes them; false if either write failed.
bool seed_files_write(const SeedJob& job, const std::string& header, const Summary& summary) {
  const uint64_t seed = summary.options.seed;
  std::ofstream log(seed_log_path(job.out, seed));
  log << header << run_summary_text(summary, job.log);
  log.close();
  std::ofstream json(seed_summary_path(job.out, seed));
  json << summary_json(summary).dump(2) << "\n";
  json.close();
  if (log && json) return true;
  std::fprintf(stderr, "sim: could not write the files of seed %llu in %s\n",
               static_cast<unsigned long long>(seed), job.out.c_str());
  return false;
}

void seed_run(const SeedJob& job, uint64_t seed, Reporter& reporter) {
  reporter.line("begin", seed);
  const absl::StatusOr<Options> options = job.options_for_seed(seed);
  if (!options.ok()) {
    reporter.line("alone", seed);  // A single run says why, in the seed's log, as before.
    return;
  }
  const std::string header = run_header_text(*options, job.log);
  RunContext context{seed, options_replay_command(*options), &reporter};
  pool::set_failure_context_hook(run_crashed, &context);  // This thread's hook.
  planted_crash(job.planted_crash, seed);
  Cluster cluster(*options);
  cluster.set_fatal_handler([&](const Summary& summary) {
    seed_files_write(job, header, summary);
    reporter.line("fatal", seed);
    std::_Exit(3);
  });
  const Summary summary = cluster.run();
  pool::set_failure_context_hook(nullptr, nullptr);
  if (!seed_files_write(job, header, summary)) {
    reporter.line("alone", seed);
    return;
  }
  reporter.line(summary.passed ? "pass" : "fail", seed);
}

}  // namespace

std::string seed_summary_path(const std::string& out, uint64_t seed) {
  return out + "/summaries/" + std::to_string(seed) + ".json";
}

std::string seed_log_path(const std::string& out, uint64_t seed) {
  return out + "/logs/" + std::to_string(seed) + ".txt";
}

absl::StatusOr<PlantedCrash> planted_crash_parse(std::string_view text) {
  const size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::optional<uint64_t> seed =
      colon == std::string_view::npos ? std::nullopt : parse_u64(text.substr(colon + 1));
  if ((kind != "assert" && kind != "kill") || !seed) {
    return absl::InvalidArgumentError("--planted-crash=" + std::string(text) +
                                      " is not assert:SEED or kill:SEED");
  }
  return PlantedCrash{kind == "kill", *seed};
}

void planted_crash(const std::optional<PlantedCrash>& plant, uint64_t seed) {
  if (!plant || plant->seed != seed) return;
  if (plant->kill) ::kill(::getpid(), SIGKILL);
  POOL_ASSERT(plant->seed != seed, "the crash --planted-crash asked for");
}

int sweep_worker_run(const SeedJob& job, const std::vector<uint64_t>& seeds, uint32_t jobs) {
  POOL_ASSERT_GT(jobs, 0u);
  Reporter reporter;
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (uint32_t thread = 0; thread < jobs && thread < seeds.size(); thread++) {
    threads.emplace_back([&] {
      for (size_t index = next++; index < seeds.size(); index = next++) {
        seed_run(job, seeds[index], reporter);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return 0;
}

}  // namespace sim
