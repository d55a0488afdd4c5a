// sim --seeds as a user runs it: each seed's files are its single run's, the aggregate is the one
// sweep-aggregate folds from single runs, a crash loses no other seed, and bad input is one line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "pool/cli/subprocess.h"

namespace {

using pool::cli::ProcessResult;

ProcessResult run(const std::string& binary, const std::string& arguments) {
  return pool::cli::run_command(binary + " " + arguments);
}
ProcessResult sim(const std::string& arguments) { return run(SIM_BINARY, arguments); }

std::string temporary_directory(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("poolsim_sweep_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(path);
  return path.string();
}

std::string file_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Seeds FIRST..LAST one process each into DIR/summaries and DIR/logs, as the shell sweep ran them.
void single_runs(const std::string& dir, int first, int last, const std::string& flags) {
  std::filesystem::create_directories(dir + "/summaries");
  std::filesystem::create_directories(dir + "/logs");
  for (int seed = first; seed <= last; seed++) {
    const std::string name = std::to_string(seed);
    const ProcessResult single = sim("--seed=" + name + " --log=quiet --summary-json=" + dir +
                                     "/summaries/" + name + ".json " + flags);
    std::ofstream(dir + "/logs/" + name + ".txt") << single.output;
  }
}

void expect_same_files(const std::string& a, const std::string& b, int first, int last) {
  for (int seed = first; seed <= last; seed++) {
    const std::string name = std::to_string(seed);
    EXPECT_EQ(file_text(a + "/summaries/" + name + ".json"),
              file_text(b + "/summaries/" + name + ".json"))
        << "seed " << seed;
    EXPECT_EQ(file_text(a + "/logs/" + name + ".txt"), file_text(b + "/logs/" + name + ".txt"))
        << "seed " << seed;
  }
}

TEST(SimSweep, EachSeedIsItsSingleRunAndTheAggregateIsSweepAggregates) {
  const std::string swept = temporary_directory("swept");
  const std::string singles = temporary_directory("singles");
  const std::string flags = "--formula=corrected";
  const ProcessResult sweep = sim("--seeds=1..9 --jobs=3 --out=" + swept + " " + flags);
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  EXPECT_NE(sweep.output.find("9 seeds: 9 passed, 0 failed"), std::string::npos) << sweep.output;
  single_runs(singles, 1, 9, flags);
  expect_same_files(swept, singles, 1, 9);
  const ProcessResult aggregate =
      run(SWEEP_AGGREGATE_BINARY,
          "--results=" + singles + "/summaries --out=" + singles + "/aggregate.json");
  ASSERT_EQ(aggregate.exit_code, 0) << aggregate.output;
  EXPECT_EQ(file_text(swept + "/aggregate.json"), file_text(singles + "/aggregate.json"));
  std::filesystem::remove_all(swept);
  std::filesystem::remove_all(singles);
}

// An assertion, a kill without one, and pools run dry: every other seed's result is kept, the
// crashed seed's stand-in names its assertion and its replay command.
TEST(SimSweep, ACrashLosesNoOtherSeed) {
  for (const std::string& plant : {std::string("assert:4"), std::string("kill:4")}) {
    const std::string swept = temporary_directory("crash");
    const ProcessResult sweep = sim("--seeds=1..8 --jobs=2 --out=" + swept +
                                    " --formula=corrected --planted-crash=" + plant);
    EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
    EXPECT_NE(sweep.output.find("8 seeds: 7 passed, 1 failed (1 crashed before their summary)"),
              std::string::npos)
        << sweep.output;
    const auto stand_in = nlohmann::json::parse(file_text(swept + "/summaries/4.json"));
    EXPECT_EQ(stand_in["crashed"], true);
    EXPECT_EQ(stand_in["repro"],
              "scripts/sim.sh --seed=4 --formula=corrected --planted-crash=" + plant);
    if (plant == "assert:4") {
      EXPECT_EQ(stand_in["failure"]["detail"].get<std::string>().rfind("assertion failed: ", 0), 0u)
          << stand_in.dump();
    }
    for (int seed : {1, 2, 3, 5, 6, 7, 8}) {
      const auto summary =
          nlohmann::json::parse(file_text(swept + "/summaries/" + std::to_string(seed) + ".json"));
      EXPECT_EQ(summary["passed"], true) << seed;
    }
    std::filesystem::remove_all(swept);
  }
  const std::string dry = temporary_directory("dry");
  const std::string singles = temporary_directory("dry_singles");
  const ProcessResult sweep =
      sim("--seeds=1..5 --jobs=2 --out=" + dry + " --messages-max-delta=-20");
  EXPECT_EQ(sweep.exit_code, 1) << sweep.output;
  single_runs(singles, 1, 5, "--messages-max-delta=-20");
  expect_same_files(dry, singles, 1, 5);
  EXPECT_NE(file_text(dry + "/logs/1.txt").find("FAIL exhaustion"), std::string::npos);
  std::filesystem::remove_all(dry);
  std::filesystem::remove_all(singles);
}

// Under --log=full each seed's log holds its events too, as the single run prints them.
TEST(SimSweep, AFullLogIsTheSingleRunsOutput) {
  const std::string swept = temporary_directory("full");
  const std::string singles = temporary_directory("full_singles");
  const ProcessResult sweep =  // "DIR/" is DIR.
      sim("--seeds=3..4 --jobs=2 --log=full --out=" + swept + "/ --formula=corrected");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  single_runs(singles, 3, 4, "--log=full --formula=corrected");
  expect_same_files(swept, singles, 3, 4);
  const std::string log = file_text(swept + "/logs/3.txt");
  EXPECT_GT(std::count(log.begin(), log.end(), '\n'), 1000) << "the events are in the log";
  std::filesystem::remove_all(swept);
  std::filesystem::remove_all(singles);
}

// A worker's death that the seed's own run does not repeat (here planted in the worker only, as
// state shared between threads would do it) fails the sweep, though every seed passes alone.
TEST(SimSweep, AWorkerDeathNoSeedExplainsFailsTheSweep) {
  for (const std::string& plant : {std::string("worker-assert:3"), std::string("worker-kill:3")}) {
    const std::string swept = temporary_directory("unexplained");
    const ProcessResult sweep = sim("--seeds=1..6 --jobs=2 --out=" + swept +
                                    " --formula=corrected --planted-crash=" + plant);
    EXPECT_EQ(sweep.exit_code, 1) << plant << ": " << sweep.output;
    EXPECT_NE(sweep.output.find("6 seeds: 6 passed, 0 failed"), std::string::npos) << sweep.output;
    const std::string expected = plant == "worker-assert:3"
                                     ? "FAIL sweep: seed 3 failed an assertion in the sweep's "
                                       "worker but runs to its end alone"
                                     : "FAIL sweep: a worker died (signal 9) while it ran [";
    EXPECT_NE(sweep.output.find(expected), std::string::npos) << sweep.output;
    const auto aggregate = nlohmann::json::parse(file_text(swept + "/aggregate.json"));
    ASSERT_EQ(aggregate["sweep_failures"].size(), 1u) << aggregate.dump();
    EXPECT_EQ(
        ("FAIL sweep: " + aggregate["sweep_failures"][0].get<std::string>()).rfind(expected, 0),
        0u);
    std::filesystem::remove_all(swept);
  }
}

TEST(SimSweep, BadInputIsOneLineAndExitTwo) {
  const std::string existing = temporary_directory("existing");
  std::filesystem::create_directories(existing);
  const std::string fresh = temporary_directory("fresh");
  for (const std::string& arguments : std::vector<std::string>{
           "--seeds=5..1 --out=" + fresh, std::string("--seeds=1..3"),
           "--seeds=1..3 --out=" + existing, "--seeds=1..3 --seed=4 --out=" + fresh,
           "--seeds=1..3 --jobs=-1 --out=" + fresh, "--seeds=a..b --out=" + fresh,
           "--seeds=1..3 --replica-count=9 --out=" + fresh,
           "--seeds=1..3 --summary-json=x.json --out=" + fresh,
           "--seeds=0..99999999 --out=" + fresh,
           "--seeds=1..3 --planted-crash=boom:1 --out=" + fresh,
           "--seeds=1..3 --expected-terms=/nonexistent --out=" + fresh, std::string("--jobs=2"),
           "--out=" + fresh, std::string("--seeds="), "--seeds=1..3 --jobs=2000 --out=" + fresh}) {
    const ProcessResult result = sim(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments << ": " << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_EQ(result.output.rfind("sim: ", 0), 0u) << result.output;
    EXPECT_FALSE(std::filesystem::exists(fresh)) << arguments;
  }
  EXPECT_TRUE(std::filesystem::is_empty(existing));
  std::filesystem::remove_all(existing);
}

}  // namespace
