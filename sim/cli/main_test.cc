// The sim CLI as a user runs it: exit codes, the summary, JSON, replay, and determinism across
// processes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "nlohmann/json.hpp"
#include "pool/cli/subprocess.h"

namespace {

using pool::cli::ProcessResult;

ProcessResult sim(const std::string& arguments) {
  return pool::cli::run_command(std::string(SIM_BINARY) + " " + arguments);
}

std::string temporary_path(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("poolsim_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove(path);
  return path.string();
}

std::string trace_hash_of(const std::string& output) {
  std::smatch match;
  if (!std::regex_search(output, match, std::regex("trace hash ([0-9a-f]{32})"))) return "";
  return match[1];
}

TEST(SimCli, BadInputIsOneLineAndExitTwo) {
  for (const char* arguments :
       {"--no-such-flag=1", "--seed=banana", "--replica-count=9", "--bus=udp", "--log=loud",
        "--profile=huge", "stray", "--storage-faulty-count=1 --replica-count=2",
        "--shrink-term=nope", "--seed=", "--seed", "--packet-loss-ppm=600000"}) {
    const ProcessResult run = sim(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << ": " << run.output;
    EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
    EXPECT_EQ(run.output.rfind("sim: ", 0), 0u) << run.output;
  }
}

TEST(SimCli, OptionFlagsTakeSpacedValuesAndTheLastOfARepeatWins) {
  const ProcessResult run =
      sim("--seed=1 --log=short --replica-count 9 --replica-count=2 --bus tcp --requests-max=3");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("--bus=tcp --formula=original --replica-count=2 "), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("--requests-max=3 "), std::string::npos) << run.output;
}

TEST(SimCli, AnExistingOutputFileIsNeverOverwrittenUnasked) {
  const std::string path = temporary_path("existing.json");
  std::ofstream(path) << "mine\n";
  const ProcessResult run = sim("--seed=1 --summary-json=" + path);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--overwrite"), std::string::npos);
  std::ifstream file(path);
  std::string content;
  std::getline(file, content);
  EXPECT_EQ(content, "mine");
  EXPECT_EQ(sim("--seed=1 --log=quiet --overwrite --summary-json=" + path).exit_code, 0);
  std::filesystem::remove(path);
}

TEST(SimCli, APassingRunPrintsSeedOptionsSummaryAndJson) {
  const std::string path = temporary_path("summary.json");
  const ProcessResult run = sim("--seed=0x2A --summary-json=" + path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.rfind("seed 42\noptions --seed=42 --profile=test_min", 0), 0u) << run.output;
  EXPECT_NE(run.output.find("PASS seed=42"), std::string::npos);
  std::ifstream file(path);
  const auto json = nlohmann::json::parse(file);
  EXPECT_EQ(json["seed"], 42);
  EXPECT_EQ(json["passed"], true);
  EXPECT_TRUE(json["failure"].is_null());
  EXPECT_EQ(json["trace_hash"], trace_hash_of(run.output));
  for (const char* key : {"ticks", "events", "requests_committed", "options", "commit", "repro"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  ASSERT_FALSE(json["pools"].empty());
  const auto& replica = json["pools"][0];
  EXPECT_EQ(replica["owner"], "replica 0");
  EXPECT_GT(replica["messages_max"].get<int>(), replica["peak"].get<int>());
  const int requests_limit =
      std::stoi(json["options"]["pipeline-requests-limit"].get<std::string>());
  EXPECT_EQ(replica["terms"]["pipeline"]["bound"], 4 + requests_limit);
  EXPECT_LE(replica["terms"]["pipeline"]["peak"].get<int>(), 4 + requests_limit);
  std::filesystem::remove(path);
}

TEST(SimCli, WithoutASeedOneIsDrawnPrintedFirstAndReplays) {
  const ProcessResult first = sim("--log=quiet --requests-max=5");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(first.output, match, std::regex("^seed ([0-9]+)\n")));
  const ProcessResult again = sim("--seed=" + std::string(match[1]) + " --requests-max=5");
  EXPECT_EQ(again.exit_code, 0);
}

TEST(SimCli, AFailurePrintsItsKindAndAReplayCommandThatReplaysIt) {
  const ProcessResult run = sim("--seed=7 --messages-max-delta=-30");
  ASSERT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("FAIL exhaustion"), std::string::npos) << run.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(run.output, match, std::regex("replay: scripts/sim.sh (.*)\n")));
  const std::string flags = match[1];
  EXPECT_NE(flags.find("--seed=7 "), std::string::npos);
  EXPECT_NE(flags.find("--messages-max-delta=-30"), std::string::npos);
  const ProcessResult replay = sim(flags);
  EXPECT_EQ(replay.exit_code, 1);
  EXPECT_EQ(trace_hash_of(replay.output), trace_hash_of(run.output));
}

TEST(SimCli, TheSameSeedGivesTheSameTraceInTwoProcesses) {
  const std::string first = temporary_path("events_1.txt");
  const std::string second = temporary_path("events_2.txt");
  const ProcessResult a = sim("--seed=12345 --log=quiet --trace-events=" + first);
  const ProcessResult b = sim("--seed=12345 --log=quiet --trace-events=" + second);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  std::ifstream file_a(first), file_b(second);
  std::string line_a, line_b;
  size_t lines = 0;
  while (std::getline(file_a, line_a)) {
    ASSERT_TRUE(std::getline(file_b, line_b)) << "second run ended at event " << lines;
    ASSERT_EQ(line_a, line_b) << "first divergence at event " << lines;
    lines += 1;
  }
  EXPECT_FALSE(std::getline(file_b, line_b));
  EXPECT_GT(lines, 100u);
  std::filesystem::remove(first);
  std::filesystem::remove(second);
}

TEST(SimCli, TeethThroughTheCommandLine) {
  const ProcessResult run = sim("--seed=7 --log=quiet --shrink-term=commit_prepare");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("FAIL term_bound: replica 0: commit_prepare held 1 > bound 0"),
            std::string::npos)
      << run.output;
}

// The user's path: minimise a planted failure, then replay the printed command.
TEST(SimCli, MinimizeEndsWithAReplayThatFailsTheSameWay) {
  const ProcessResult run =
      sim("--seed=4 --replica-count=4 --standby-count=1 --client-count=4 --shrink-term=pipeline "
          "--minimize");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("minimize: the run fails with term_bound pipeline"), std::string::npos)
      << run.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(run.output, match, std::regex("\nreplay: scripts/sim.sh (.*)\n")))
      << run.output;
  const std::string minimal_flags = match[1];
  EXPECT_EQ(minimal_flags.find("--replica-count=4 --standby-count=1 --client-count=4"),
            std::string::npos);
  const ProcessResult replay = sim(minimal_flags + " --log=quiet");
  EXPECT_EQ(replay.exit_code, 1) << replay.output;
  EXPECT_NE(replay.output.find("FAIL term_bound"), std::string::npos) << replay.output;
  EXPECT_NE(replay.output.find("pipeline held"), std::string::npos) << replay.output;
}

TEST(SimCli, MinimizingAPassingRunIsBadInput) {
  const ProcessResult run = sim("--seed=1 --minimize");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("nothing to minimise"), std::string::npos) << run.output;
  EXPECT_EQ(sim("--seed=1 --minimize --summary-json=/tmp/x.json").exit_code, 2);
}

}  // namespace
