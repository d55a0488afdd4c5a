// sim: runs one seeded simulation of a cluster (our VOPR) and prints its verdict: the options the
// seed chose, the run's figures, each pool's peak against its formula term by term, the trace
// hash, and PASS, or the failure and a one-line command that replays it.
// Exit codes: 0 pass, 1 failure, 2 bad input.
#include <sys/random.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pool/assertion.h"
#include "pool/cli/flags.h"
#include "pool/cli/subprocess.h"
#include "sim/cli/minimize.h"
#include "sim/cli/perfetto_trace.h"
#include "sim/cli/run_text.h"
#include "sim/cli/summary_json.h"
#include "sim/cli/sweep_main.h"
#include "sim/cluster.h"
#include "sim/options.h"

ABSL_FLAG(std::string, log, "short",
          "quiet (the verdict only), short (options and summary) or full (and every event).");
ABSL_FLAG(std::string, summary_json, "", "Write the summary as one JSON object to this path.");
ABSL_FLAG(std::string, trace_events, "",
          "Write every event (index, tick, chained hash, description) to this path, one per line.");
ABSL_FLAG(std::string, trace_out, "",
          "Write the run as Chrome trace-event JSON for Perfetto (ui.perfetto.dev) to this path.");
ABSL_FLAG(bool, overwrite, false, "Replace existing output files.");
ABSL_FLAG(bool, minimize, false,
          "Search for the smallest configuration that fails as this run does (fewer processes, "
          "faults, requests and ticks), printing each step and the minimal replay command.");

ABSL_FLAG(std::string, planted_crash, "",
          "For tests of the sweep: assert:SEED fails an assertion as that seed's run starts, "
          "kill:SEED kills its process without one (as a sanitizer's report does); "
          "worker-assert:SEED and worker-kill:SEED do so in a sweep's worker only.");

// The swarm's options (replica count, faults, ...) are flags too, declared once in options.cc's
// table; --help lists them.
ABSL_FLAG(std::string, swarm, "default",
          "How the seed draws the options: default, or stress (drives holders to their bounds).");

namespace {

constexpr std::string_view program = "sim";
constexpr std::string_view usage =
    "usage: sim [--seed=N] [--log=quiet|short|full] [--summary-json=PATH] [--trace-out=PATH]\n"
    "           [option flags...]\n"
    "       sim --seeds=FIRST..LAST [--jobs=N] --out=DIR [--expected-terms=FILE] [option "
    "flags...]\n\n"
    "Runs one deterministic simulation of a replicated cluster whose every message comes from a\n"
    "pool sized by messages_max(), and checks that no pool runs dry, no holder exceeds its\n"
    "formula term, nothing leaks, the committed log agrees, replies match requests, and the\n"
    "cluster converges once faults stop. The seed chooses every option; flags pin them.\n"
    "With --seeds, runs each seed of the range as that single run would, on --jobs threads, and\n"
    "writes DIR/summaries/SEED.json, DIR/logs/SEED.txt and the sweep's DIR/aggregate.json; a seed\n"
    "that crashes is run again alone and reported with its replay command.\n"
    "Exit codes: 0 pass, 1 failure, 2 bad input.";

// The option table's flags: names for the parser, (name, help) for --help.
std::set<std::string> option_flag_name_set() {
  std::set<std::string> names;
  for (const std::string& name : sim::options_flag_names()) names.insert(name);
  return names;
}

std::vector<std::pair<std::string, std::string>> option_flags_help() {
  std::vector<std::pair<std::string, std::string>> flags;
  for (const sim::OptionFlag& flag : sim::options_flags()) flags.emplace_back(flag.name, flag.help);
  return flags;
}

// The value given for option `name`, if any (the last one given wins).
std::optional<std::string> option_given(const pool::cli::ParsedCommandLine& parsed,
                                        std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [given, text] : parsed.table_flags) {
    if (given == name) value = text;
  }
  return value;
}

struct Run {
  sim::Options options;
  std::optional<sim::PlantedCrash> planted_crash;
  std::string log;
  std::string summary_json;
  std::string trace_events;
  std::string trace_out;
};

absl::Status output_path_check(std::string_view flag, const std::string& path, bool overwrite) {
  if (path.empty()) return absl::OkStatus();
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), "=", path, " is a directory; name a file"));
  }
  if (std::filesystem::exists(path, error) && !overwrite) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(flag), "=", path,
                                                   " exists; pass --overwrite to replace it"));
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), "=", path, ": directory does not exist"));
  }
  return absl::OkStatus();
}

// The seed given, or a random one when --seed is absent. An empty --seed= is refused: it is
// what a script's unset variable gives, and a random run would hide it.
absl::StatusOr<uint64_t> seed_from_flags(const pool::cli::ParsedCommandLine& parsed) {
  const std::optional<std::string> seed_text = option_given(parsed, "seed");
  if (!seed_text) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
      return absl::InternalError("could not draw a random seed (getrandom failed)");
    }
    return seed;
  }
  const std::optional<uint64_t> seed = sim::parse_u64(*seed_text);
  if (!seed) {
    return absl::InvalidArgumentError("--seed=" + *seed_text +
                                      " is not a 64-bit unsigned integer (decimal or 0x-hex)");
  }
  return *seed;
}

// The seed's draw, then every option flag given overriding it, validated.
absl::StatusOr<sim::Options> options_from_flags(const pool::cli::ParsedCommandLine& parsed,
                                                uint64_t seed) {
  const std::string profile = option_given(parsed, "profile").value_or("test_min");
  if (!pool::config_by_name(profile)) {
    return pool::cli::flag_one_of("profile", profile, {"test_min", "production"});
  }
  const std::string swarm_text = absl::GetFlag(FLAGS_swarm);
  const std::optional<sim::Swarm> swarm = sim::swarm_by_name(swarm_text);
  if (!swarm) return pool::cli::flag_one_of("swarm", swarm_text, {"default", "stress"});
  sim::Options options = sim::options_from_seed(seed, profile, *swarm);
  // In the table's order, the last value given for each (as for any flag).
  for (const std::string& name : sim::options_flag_names()) {
    if (name == "seed" || name == "profile") continue;
    const std::optional<std::string> value = option_given(parsed, name);
    if (!value) continue;
    if (auto status = sim::options_set(options, name, *value); !status.ok()) return status;
  }
  if (auto status = sim::options_validate(options); !status.ok()) return status;
  return options;
}

// The output files: none a directory, none existing unless --overwrite, no two the same.
absl::Status outputs_check(const Run& run) {
  const bool overwrite = absl::GetFlag(FLAGS_overwrite);
  const std::vector<std::pair<std::string_view, std::string>> outputs = {
      {"summary-json", run.summary_json},
      {"trace-events", run.trace_events},
      {"trace-out", run.trace_out}};
  for (size_t i = 0; i < outputs.size(); i++) {
    if (auto status = output_path_check(outputs[i].first, outputs[i].second, overwrite);
        !status.ok()) {
      return status;
    }
    for (size_t j = i + 1; j < outputs.size(); j++) {
      if (!outputs[i].second.empty() && outputs[i].second == outputs[j].second) {
        return absl::InvalidArgumentError(
            "--summary-json, --trace-events and --trace-out must name different files");
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<sim::PlantedCrash>> planted_crash_from_flag() {
  const std::string text = absl::GetFlag(FLAGS_planted_crash);
  if (text.empty()) return std::optional<sim::PlantedCrash>();
  absl::StatusOr<sim::PlantedCrash> planted = sim::planted_crash_parse(text);
  if (!planted.ok()) return planted.status();
  return std::optional<sim::PlantedCrash>(*planted);
}

absl::StatusOr<Run> run_from_flags(const pool::cli::ParsedCommandLine& parsed) {
  if (!parsed.positional.empty()) {
    return absl::InvalidArgumentError("unexpected argument '" + parsed.positional.front() +
                                      "' (flags only; see --help)");
  }
  Run run;
  run.log = absl::GetFlag(FLAGS_log);
  if (auto status = pool::cli::flag_one_of("log", run.log, {"quiet", "short", "full"});
      !status.ok()) {
    return status;
  }
  absl::StatusOr<uint64_t> seed = seed_from_flags(parsed);
  if (!seed.ok()) return seed.status();
  absl::StatusOr<sim::Options> options = options_from_flags(parsed, *seed);
  if (!options.ok()) return options.status();
  run.options = *std::move(options);
  absl::StatusOr<std::optional<sim::PlantedCrash>> planted = planted_crash_from_flag();
  if (!planted.ok()) return planted.status();
  run.planted_crash = *planted;
  run.summary_json = absl::GetFlag(FLAGS_summary_json);
  run.trace_events = absl::GetFlag(FLAGS_trace_events);
  run.trace_out = absl::GetFlag(FLAGS_trace_out);
  if (auto status = outputs_check(run); !status.ok()) return status;
  return run;
}

void print_summary(const sim::Summary& summary, const std::string& log) {
  std::fputs(sim::run_summary_text(summary, log).c_str(), stdout);
  std::fflush(stdout);
}

bool write_json(const std::string& path, const sim::Summary& summary) {
  if (path.empty()) return true;
  std::ofstream file(path);
  file << sim::summary_json(summary).dump(2) << "\n";
  if (!file) {
    std::fprintf(stderr, "sim: could not write --summary-json=%s\n", path.c_str());
    return false;
  }
  return true;
}

struct EventSink {
  std::FILE* file = nullptr;
  bool print = false;
  uint32_t member_count = 0;
  sim::PerfettoTrace* perfetto = nullptr;
};

void event_sink(void* context, uint64_t index, const sim::TraceRecord& record,
                const pool::U128& hash) {
  auto* sink = static_cast<EventSink*>(context);
  if (sink->perfetto != nullptr) sink->perfetto->record(record);
  if (sink->file != nullptr) {
    std::fprintf(sink->file, "%llu %llu %s %s\n", static_cast<unsigned long long>(index),
                 static_cast<unsigned long long>(record.tick), sim::hash_hex(hash).c_str(),
                 sim::trace_record_describe(record, sink->member_count).c_str());
  }
  if (sink->print) std::fputs(sim::run_event_text(record, sink->member_count).c_str(), stdout);
}

// One candidate of --minimize, in a process of its own: an exhaustion or an assertion ends it.
// A run that ends any other way (bad flags, no binary, a signal without an assertion) is an
// "error", which is never the same failure as anything.
sim::Verdict run_candidate(const sim::Options& options, const std::string& self,
                           const std::string& summary_path, std::string& output) {
  std::error_code error;
  std::filesystem::remove(summary_path, error);
  const pool::cli::ProcessResult result = pool::cli::run_command(
      pool::cli::shell_quoted(self) + sim::options_flags_text(options) +
      " --log=quiet --summary-json=" + pool::cli::shell_quoted(summary_path));
  output = result.output;
  sim::Verdict verdict;
  verdict.passed = false;
  if (result.exit_code == 0 || result.exit_code == 1) {
    std::ifstream file(summary_path);
    const nlohmann::json summary = nlohmann::json::parse(file, nullptr, false);
    if (!summary.is_discarded() && summary.contains("passed")) {
      verdict.passed = summary["passed"].get<bool>();
      if (!verdict.passed) {
        verdict.kind = summary["failure"]["kind"].get<std::string>();
        if (summary["failure"]["term"].is_string()) {
          verdict.term = summary["failure"]["term"].get<std::string>();
        }
      }
      return verdict;
    }
  }
  // Died without its summary: an assertion ("condition at file:line"), named without its values.
  const size_t at = result.output.find("assertion failed: ");
  if (at == std::string::npos) {
    verdict.kind = "error";
    return verdict;
  }
  const std::string line = result.output.substr(at + 18, result.output.find('\n', at) - at - 18);
  verdict.kind = "crash";
  verdict.term = line.substr(0, line.find(": ", line.find(" at ")));
  return verdict;
}

// sim --minimize: exit 0 with the minimal failing configuration, 2 if the run does not fail.
int minimize_main(const sim::Options& options) {
  std::error_code error;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) pool::cli::exit_bad_input(program, absl::InternalError("cannot find sim's binary"));
  const std::string summary_path = (std::filesystem::temp_directory_path() /
                                    ("poolsim_minimize_" + std::to_string(::getpid()) + ".json"))
                                       .string();
  std::printf("minimize: seed %llu, %s\n", static_cast<unsigned long long>(options.seed),
              sim::options_shape(options).c_str());
  std::string output;
  const sim::Verdict failure = run_candidate(options, self, summary_path, output);
  std::filesystem::remove(summary_path, error);
  if (failure.passed) {
    pool::cli::exit_bad_input(
        program, absl::InvalidArgumentError("seed " + std::to_string(options.seed) +
                                            " passes with these options: nothing to minimise"));
  }
  if (failure.kind == "error") {
    std::fprintf(stderr, "%s", output.c_str());
    pool::cli::exit_bad_input(
        program, absl::InvalidArgumentError("the run ended without a verdict (above)"));
  }
  std::printf("minimize: the run fails with %s; searching for the smallest run that does\n",
              failure.describe().c_str());
  std::fflush(stdout);
  const sim::MinimizeResult result = sim::minimize(
      options, failure,
      [&](const sim::Options& candidate) {
        return run_candidate(candidate, self, summary_path, output);
      },
      [](const std::string& line) {
        std::printf("minimize: %s\n", line.c_str());
        std::fflush(stdout);
      });
  std::filesystem::remove(summary_path, error);
  std::printf("minimize: %llu runs, %llu changes kept%s\n",
              static_cast<unsigned long long>(result.runs),
              static_cast<unsigned long long>(result.changes),
              result.stopped ? " (stopped at the run limit; minimise the result again)" : "");
  std::printf("minimal: %s\nfails with %s\nreplay: %s\n",
              sim::options_shape(result.options).c_str(), result.verdict.describe().c_str(),
              sim::options_replay_command(result.options).c_str());
  return 0;
}

// For assertion failures: the seed and the command that replays the run.
std::string failure_context;
sim::PerfettoTrace* failing_trace = nullptr;  // Completed on an assertion, so it still opens.
void print_failure_context(void*) {
  std::fprintf(stderr, "%s\n", failure_context.c_str());
  if (failing_trace != nullptr) failing_trace->abandon();
}

// The run's outputs besides stdout: the event file and the Perfetto trace.
struct Outputs {
  EventSink sink;
  std::unique_ptr<sim::PerfettoTrace> perfetto;
  std::string trace_out;

  // The Perfetto trace ends with the run (before teardown releases every message), passed,
  // failed or exhausted.
  void finish_perfetto(uint64_t tick) {
    if (perfetto && !perfetto->finish(tick)) {
      std::fprintf(stderr, "sim: could not write --trace-out=%s\n", trace_out.c_str());
    }
    sink.perfetto = nullptr;
    failing_trace = nullptr;
    perfetto.reset();
  }
  void finish(const sim::Summary& summary) {
    if (sink.file != nullptr) std::fclose(sink.file);
    sink.file = nullptr;
    finish_perfetto(summary.ticks);
  }
};

// Opens the event file and the Perfetto trace the flags ask for, and connects them to the run.
void outputs_open(const Run& run, sim::Cluster& cluster, Outputs& outputs) {
  EventSink& sink = outputs.sink;
  sink.print = run.log == "full";
  sink.member_count = static_cast<uint32_t>(run.options.member_count());
  if (!run.trace_events.empty()) {
    sink.file = std::fopen(run.trace_events.c_str(), "w");
    if (sink.file == nullptr) {
      pool::cli::exit_bad_input(
          program,
          absl::InvalidArgumentError("--trace-events=" + run.trace_events + ": cannot open"));
    }
  }
  outputs.trace_out = run.trace_out;
  if (!run.trace_out.empty()) {
    auto opened = sim::PerfettoTrace::open(run.trace_out, cluster.pool_owners(), run.options.seed);
    if (!opened.ok()) pool::cli::exit_bad_input(program, opened.status());
    outputs.perfetto = *std::move(opened);
    sink.perfetto = outputs.perfetto.get();
    failing_trace = outputs.perfetto.get();
    cluster.set_occupancy_observer(
        [&outputs](uint64_t tick, uint8_t process, uint32_t used, const sim::Census* census) {
          if (outputs.perfetto) outputs.perfetto->occupancy(tick, process, used, census);
        });
  }
  if (sink.print || sink.file != nullptr || outputs.perfetto) {
    cluster.trace().set_sink(event_sink, &sink);
  }
  cluster.set_run_end_observer([&outputs](uint64_t tick) { outputs.finish_perfetto(tick); });
}

// Runs the simulation the flags describe: exit 0 pass, 1 failure, 2 a summary not written.
int simulate(const Run& run) {
  const sim::Options& options = run.options;
  std::fputs(sim::run_header_text(options, run.log).c_str(), stdout);
  std::fflush(stdout);
  failure_context =
      "seed " + std::to_string(options.seed) + "; replay: " + sim::options_replay_command(options);
  pool::set_failure_context_hook(print_failure_context, nullptr);
  sim::planted_crash(run.planted_crash, options.seed, /*in_worker=*/false);

  sim::Cluster cluster(options);
  Outputs outputs;
  outputs_open(run, cluster, outputs);
  cluster.set_fatal_handler([&](const sim::Summary& summary) {
    outputs.finish(summary);
    print_summary(summary, run.log);
    write_json(run.summary_json, summary);
    std::_Exit(1);
  });
  const sim::Summary summary = cluster.run();
  outputs.finish(summary);
  print_summary(summary, run.log);
  // A failed write is reported, but never hides the verdict: a failed run still exits 1.
  const bool written = write_json(run.summary_json, summary);
  if (!summary.passed) return 1;
  return written ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = pool::cli::parse_command_line(argc, argv, option_flag_name_set());
  if (!parsed.ok()) pool::cli::exit_bad_input(program, parsed.status());
  if (parsed->help) {
    std::printf("%s", pool::cli::help_text(usage, {"sim/cli/main.cc", "sim/cli/sweep_main.cc"},
                                           option_flags_help())
                          .c_str());
    return 0;
  }
  if (parsed->version) {
    std::printf("%s\n", pool::cli::version_text(program).c_str());
    return 0;
  }
  if (sim::sweep_asked(*parsed)) {
    const absl::StatusOr<std::optional<sim::PlantedCrash>> planted = planted_crash_from_flag();
    if (!planted.ok()) pool::cli::exit_bad_input(program, planted.status());
    const pool::cli::ParsedCommandLine& command_line = *parsed;
    return sim::sweep_main(
        argc, argv, command_line,
        [&command_line](uint64_t seed) { return options_from_flags(command_line, seed); },
        *planted);
  }
  auto run = run_from_flags(*parsed);
  if (!run.ok()) pool::cli::exit_bad_input(program, run.status());
  if (absl::GetFlag(FLAGS_minimize)) {
    if (!run->summary_json.empty() || !run->trace_events.empty() || !run->trace_out.empty()) {
      pool::cli::exit_bad_input(
          program, absl::InvalidArgumentError("--minimize writes no files; replay its result"));
    }
    return minimize_main(run->options);
  }
  return simulate(*run);
}
