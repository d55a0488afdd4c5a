#include "sim/cli/sweep_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "nlohmann/json.hpp"
#include "pool/assertion.h"
#include "pool/cli/subprocess.h"
#include "sim/cli/seed_list.h"
#include "sim/cli/sweep_worker.h"

extern char** environ;

namespace sim {
namespace {

enum class Outcome : uint8_t { passed, failed, crashed };

// "sweep: 120/2000 done, 1 failed, 3s elapsed, ETA 47s": redrawn each second on a terminal,
// printed every 10 seconds to a log, and once at the end.
class Progress {
 public:
  explicit Progress(size_t total) : total_(total), terminal_(::isatty(STDOUT_FILENO) == 1) {}

  void show(size_t done, size_t failed, bool final = false) {
    const uint64_t elapsed_seconds = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start_).count());
    if (!final && !terminal_ && elapsed_seconds < printed_seconds_ + 10) return;
    const std::string eta =
        done == 0 ? "?" : std::to_string((total_ - done) * elapsed_seconds / done) + "s";
    std::printf("%ssweep: %zu/%zu done, %zu failed, %llus elapsed, ETA %s%s", terminal_ ? "\r" : "",
                done, total_, failed, static_cast<unsigned long long>(elapsed_seconds), eta.c_str(),
                terminal_ ? (final ? "   \n" : "   ") : "\n");
    std::fflush(stdout);
    printed_seconds_ = elapsed_seconds;
  }

 private:
  using Clock = std::chrono::steady_clock;
  const size_t total_;
  const bool terminal_;
  const Clock::time_point start_ = Clock::now();
  uint64_t printed_seconds_ = 0;
};

// A worker process: its pid and the read end of its report pipe.
struct Worker {
  pid_t pid = -1;
  int report_fd = -1;
};

// Starts `arguments` (the binary first) with stdout to a pipe and stderr appended to `log_path`.
std::optional<Worker> worker_spawn(const std::vector<std::string>& arguments,
                                   const std::string& log_path) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> argv;
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  Worker worker;
  const int spawned = posix_spawn(&worker.pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    return std::nullopt;
  }
  worker.report_fd = pipe_fds[0];
  return worker;
}

// What one worker reported before it ended, and how it ended.
struct WorkerReport {
  std::set<uint64_t> begun;
  std::map<uint64_t, Outcome> ended;
  std::set<uint64_t> crashed;  // Named by their assertion hook.
  std::set<uint64_t> alone;    // To run as single runs.
  size_t failed_count = 0;     // Of `ended`.
  int exit_code = -1;          // -1: killed by a signal; worker_exit_pool_ran_dry: on purpose.
  int signal = 0;              // The signal that killed it, if one did.
};

void report_line(const std::string& line, WorkerReport& report) {
  std::istringstream words(line);
  std::string what;
  uint64_t seed = 0;
  words >> what >> seed;
  POOL_ASSERT(!words.fail(), "a worker's report line '%s' is not 'WORD SEED'", line.c_str());
  if (what == "begin") {
    report.begun.insert(seed);
  } else if (what == "pass") {
    report.ended[seed] = Outcome::passed;
  } else if (what == "fail" || what == "fatal") {
    report.ended[seed] = Outcome::failed;
    report.failed_count += 1;
  } else if (what == "crash") {
    report.crashed.insert(seed);
  } else {
    POOL_ASSERT(what == "alone", "a worker's report line '%s' is unknown", line.c_str());
    report.alone.insert(seed);
  }
}

// 'text' for /bin/sh, whatever it holds.
std::string quoted(const std::string& text) { return pool::cli::shell_quoted(text); }

// The first line of `log` that names an assertion, else its last line (the stand-in's detail,
// as the shell sweep took it: grep -m1 assertion || tail -n1), without control characters.
std::string crash_detail(const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream stream(log);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  std::string detail = lines.empty() ? "" : lines.back();
  for (const std::string& line : lines) {
    if (line.find("assertion") != std::string::npos) {
      detail = line;
      break;
    }
  }
  std::string printable;
  for (char c : detail) {
    if (static_cast<unsigned char>(c) >= 0x20) printable += c;
  }
  return printable;
}

class Supervisor {
 public:
  explicit Supervisor(const SweepPlan& plan)
      : plan_(plan), pending_(plan.seeds), progress_(plan.seeds.size()) {}

  int run() {
    std::printf("sweep: seeds %s (%zu), %u jobs, results in %s\n", plan_.seeds_text.c_str(),
                plan_.seeds.size(), plan_.jobs, plan_.out.c_str());
    std::fflush(stdout);
    while (!pending_.empty()) {
      if (!worker_round()) return 2;
    }
    progress_.show(outcomes_.size(), failed_, /*final=*/true);
    if (!stand_ins_write()) return 2;
    return aggregate();
  }

 private:
  void outcome_set(uint64_t seed, Outcome outcome) {
    POOL_ASSERT(outcomes_.count(seed) == 0, "seed %llu ended twice",
                static_cast<unsigned long long>(seed));
    outcomes_[seed] = outcome;
    if (outcome != Outcome::passed) failed_ += 1;
  }

  std::vector<std::string> worker_arguments() const {
    std::vector<std::string> arguments = {plan_.self,
                                          "--sweep-worker",
                                          "--seeds=" + seed_list_text(pending_),
                                          "--jobs=" + std::to_string(plan_.jobs),
                                          "--out=" + plan_.out,
                                          "--log=quiet"};
    arguments.insert(arguments.end(), plan_.passed_args.begin(), plan_.passed_args.end());
    return arguments;
  }

  // Reads a worker's report until it ends, showing progress as seeds end.
  void report_read(const Worker& worker, WorkerReport& report) {
    std::string buffer;
    for (;;) {
      pollfd poll_fd{worker.report_fd, POLLIN, 0};
      if (::poll(&poll_fd, 1, 1000) > 0) {
        char chunk[4096];
        const ssize_t count = ::read(worker.report_fd, chunk, sizeof(chunk));
        if (count <= 0) break;
        buffer.append(chunk, static_cast<size_t>(count));
        for (size_t end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n')) {
          report_line(buffer.substr(0, end), report);
          buffer.erase(0, end + 1);
        }
      }
      progress_.show(outcomes_.size() + report.ended.size(), failed_ + report.failed_count);
    }
    ::close(worker.report_fd);
    int status = 0;
    while (::waitpid(worker.pid, &status, 0) < 0 && errno == EINTR) {
    }
    report.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    report.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

  // One worker over the pending seeds; the seeds it lost run alone or wait for the next worker.
  bool worker_round() {
    const std::optional<Worker> worker =
        worker_spawn(worker_arguments(), plan_.out + "/worker.log");
    if (!worker) {
      std::fprintf(stderr, "sim: could not start a sweep worker (%s)\n", plan_.self.c_str());
      return false;
    }
    WorkerReport report;
    report_read(*worker, report);
    if (report.exit_code == 2) {
      std::fprintf(stderr, "sim: a sweep worker refused its flags; see %s/worker.log\n",
                   plan_.out.c_str());
      return false;
    }
    for (const auto& [seed, outcome] : report.ended) outcome_set(seed, outcome);
    // The seeds that killed the worker run alone; an unnamed death (a signal, a sanitizer's
    // report) makes every seed it was running a suspect. A pool run dry names its seed.
    std::set<uint64_t> alone = report.alone;
    alone.insert(report.crashed.begin(), report.crashed.end());
    const bool died_unnamed = report.exit_code != 0 && report.crashed.empty() &&
                              report.exit_code != worker_exit_pool_ran_dry;
    std::set<uint64_t> suspects;
    if (died_unnamed) {
      for (uint64_t seed : report.begun) {
        if (report.ended.count(seed) == 0 && report.alone.count(seed) == 0) suspects.insert(seed);
      }
      alone.insert(suspects.begin(), suspects.end());
    }
    for (uint64_t seed : alone) {
      if (outcomes_.count(seed) == 0) outcome_set(seed, single_run(seed));
    }
    deaths_check(report, died_unnamed, suspects);
    const size_t pending_before = pending_.size();
    std::erase_if(pending_, [&](uint64_t seed) { return outcomes_.count(seed) != 0; });
    POOL_ASSERT(report.exit_code != 0 || pending_.empty(), "a worker ended with seeds not run");
    // A worker that died before ending any seed (it could not start): run one alone, so that
    // every round makes progress.
    if (pending_.size() == pending_before) {
      outcome_set(pending_.front(), single_run(pending_.front()));
      pending_.erase(pending_.begin());
    }
    return true;
  }

  // A worker's death must be one of its seeds' own failure, found again when the seed runs alone:
  // one that is not (a seed whose assertion does not repeat alone, a death no seed explains) is
  // state shared between the threads or a run that is not deterministic, and fails the sweep.
  void deaths_check(const WorkerReport& report, bool died_unnamed,
                    const std::set<uint64_t>& suspects) {
    // Only a crash alone repeats a death: a seed that passes or fails a check alone ran to its end.
    for (uint64_t seed : report.crashed) {
      if (outcomes_.at(seed) == Outcome::crashed) continue;
      unexplained_.insert("seed " + std::to_string(seed) +
                          " failed an assertion in the sweep's worker but runs to its end alone");
    }
    if (!died_unnamed) return;
    for (uint64_t seed : suspects) {
      if (outcomes_.at(seed) == Outcome::crashed) return;
    }
    const std::string how = report.signal != 0 ? "signal " + std::to_string(report.signal)
                                               : "exit code " + std::to_string(report.exit_code);
    if (suspects.empty()) {
      unexplained_.insert("a worker died (" + how + ") between seeds");
      return;
    }
    std::string running;
    for (uint64_t seed : suspects) running += (running.empty() ? "" : ", ") + std::to_string(seed);
    unexplained_.insert("a worker died (" + how + ") while it ran [" + running +
                        "]; none of them crashes alone");
  }

  // The seed as one run of its own, in a process of its own, exactly as the shell sweep ran it.
  Outcome single_run(uint64_t seed) {
    const std::string summary_path = seed_summary_path(plan_.out, seed);
    std::error_code error;
    std::filesystem::remove(summary_path, error);  // A dead worker's half-written file.
    std::string command = "exec " + quoted(plan_.self) + " --seed=" + std::to_string(seed) +
                          " --log=quiet --overwrite --summary-json=" + quoted(summary_path);
    for (const std::string& argument : plan_.passed_args) command += " " + quoted(argument);
    const pool::cli::ProcessResult result = pool::cli::run_command(command);
    std::ofstream(seed_log_path(plan_.out, seed)) << result.output;
    const bool summary = std::filesystem::file_size(summary_path, error) > 0 && !error;
    if (result.exit_code == 0 && summary) return Outcome::passed;
    if (result.exit_code == 1 && summary) return Outcome::failed;
    std::filesystem::remove(summary_path, error);
    return Outcome::crashed;
  }

  // A run that died before writing its summary gets a stand-in naming its first assertion line
  // and its replay command.
  bool stand_ins_write() {
    std::string flags;
    for (const std::string& argument : plan_.passed_args) flags += " " + argument;
    for (const auto& [seed, outcome] : outcomes_) {
      if (outcome != Outcome::crashed) continue;
      std::ifstream log_file(seed_log_path(plan_.out, seed));
      std::stringstream log;
      log << log_file.rdbuf();
      const std::string detail = crash_detail(log.str());
      const nlohmann::json stand_in = {
          {"seed", seed},
          {"crashed", true},
          {"failure", {{"kind", "crashed"}, {"detail", detail}}},
          // The shell sweep's spelling: the flags joined by spaces after a space, none or many.
          {"repro", "scripts/sim.sh --seed=" + std::to_string(seed) + " " +
                        (flags.empty() ? "" : flags.substr(1))}};
      std::ofstream file(seed_summary_path(plan_.out, seed));
      file << stand_in.dump() << "\n";
      if (!file) {
        std::fprintf(stderr, "sim: could not write %s\n",
                     seed_summary_path(plan_.out, seed).c_str());
        return false;
      }
      std::printf("FAIL seed %llu (no summary): %s\n", static_cast<unsigned long long>(seed),
                  detail.c_str());
    }
    return true;
  }

  int aggregate();

  const SweepPlan& plan_;
  std::vector<uint64_t> pending_;
  std::map<uint64_t, Outcome> outcomes_;
  size_t failed_ = 0;
  std::set<std::string> unexplained_;  // Worker deaths no seed's own run explains, once each.
  Progress progress_;
};

// Every seed's summary (or stand-in) folded into the sweep's aggregate, written and reported.
int Supervisor::aggregate() {
  SweepAggregate sweep;
  if (plan_.sweep_seeds) {
    if (absl::Status status =
            sweep.set_sweep_seeds(plan_.sweep_seeds->first, plan_.sweep_seeds->second);
        !status.ok()) {
      std::fprintf(stderr, "sim: --sweep-seeds: %s\n", std::string(status.message()).c_str());
      return 2;
    }
  }
  for (uint64_t seed : plan_.seeds) {
    const std::string path = seed_summary_path(plan_.out, seed);
    std::ifstream file(path);
    const nlohmann::json json = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
    absl::Status status =
        json.is_discarded() ? absl::InvalidArgumentError("not JSON") : sweep.add_summary(json);
    if (!status.ok()) {
      std::fprintf(stderr, "sim: %s: %s\n", path.c_str(), std::string(status.message()).c_str());
      return 2;
    }
  }
  if (absl::Status status = sweep.check_complete(/*whole_sweep=*/!plan_.sweep_seeds);
      !status.ok()) {
    std::fprintf(stderr, "sim: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  sweep.expect(plan_.terms, plan_.holders);
  for (const std::string& death : unexplained_) {
    sweep.add_sweep_failure(death + "; see " + plan_.out + "/worker.log");
  }
  const std::string out = plan_.out + "/aggregate.json";
  if (absl::Status status = sweep_aggregate_write(sweep, out); !status.ok()) {
    std::fprintf(stderr, "sim: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  sweep.print(plan_.terms);
  std::printf("sweep: aggregate in %s\n", out.c_str());
  return sweep.passed() ? 0 : 1;
}

}  // namespace

int sweep_run(const SweepPlan& plan) {
  POOL_ASSERT(!plan.seeds.empty());
  POOL_ASSERT_GT(plan.jobs, 0u);
  return Supervisor(plan).run();
}

}  // namespace sim
