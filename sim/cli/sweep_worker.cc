#include "sim/cli/sweep_worker.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
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
      if (count <= 0) std::_Exit(worker_exit_orphaned);  // Nobody is left to report to.
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

// A seed's log, written as a single run of the seed prints: the header, under --log=full every
// event as it happens, then the summary.
class SeedLog {
 public:
  SeedLog(const SeedJob& job, const Options& options)
      : file_(seed_log_path(job.out, options.seed)),
        level_(job.log),
        member_count_(static_cast<uint32_t>(options.member_count())) {
    file_ << run_header_text(options, level_);
  }

  // Under --log=full, the cluster's events into the log.
  void attach(Cluster& cluster) {
    if (level_ == "full") cluster.trace().set_sink(event_line, this);
  }

  bool finish(const Summary& summary) {
    file_ << run_summary_text(summary, level_);
    file_.close();
    return static_cast<bool>(file_);
  }

 private:
  static void event_line(void* context, uint64_t /*index*/, const TraceRecord& record,
                         const pool::U128& /*hash*/) {
    auto* log = static_cast<SeedLog*>(context);
    log->file_ << run_event_text(record, log->member_count_);
  }

  std::ofstream file_;
  const std::string level_;
  const uint32_t member_count_;
};

// The seed's log and summary, as a single run writes them; false if either write failed.
bool seed_files_write(const SeedJob& job, SeedLog& log, const Summary& summary) {
  const uint64_t seed = summary.options.seed;
  const bool log_written = log.finish(summary);
  std::ofstream json(seed_summary_path(job.out, seed));
  json << summary_json(summary).dump(2) << "\n";
  json.close();
  if (log_written && json) return true;
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
  SeedLog log(job, *options);
  RunContext context{seed, options_replay_command(*options), &reporter};
  pool::set_failure_context_hook(run_crashed, &context);  // This thread's hook.
  planted_crash(job.planted_crash, seed, /*in_worker=*/true);
  std::optional<Summary> summary;
  {
    Cluster cluster(*options);
    log.attach(cluster);
    cluster.set_fatal_handler([&](const Summary& fatal) {
      // The pool cannot go on; without its files the sweep runs the seed alone instead.
      reporter.line(seed_files_write(job, log, fatal) ? "fatal" : "alone", seed);
      std::_Exit(worker_exit_pool_ran_dry);
    });
    summary = cluster.run();
  }  // The cluster's teardown asserts too: the hook names the seed until the cluster is gone.
  pool::set_failure_context_hook(nullptr, nullptr);
  if (!seed_files_write(job, log, *summary)) {
    reporter.line("alone", seed);
    return;
  }
  reporter.line(summary->passed ? "pass" : "fail", seed);
}

}  // namespace

std::string seed_summary_path(const std::string& out, uint64_t seed) {
  return out + "/summaries/" + std::to_string(seed) + ".json";
}

std::string seed_log_path(const std::string& out, uint64_t seed) {
  return out + "/logs/" + std::to_string(seed) + ".txt";
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
