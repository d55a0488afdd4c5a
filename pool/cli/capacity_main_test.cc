// pool-capacity as a user runs it: output, JSON and exit codes.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "nlohmann/json.hpp"
#include "pool/cli/subprocess.h"
#include "pool/version.h"

namespace {

using pool::cli::ProcessResult;

ProcessResult run_capacity(const std::string& arguments) {
  return pool::cli::run_command(std::string(POOL_CAPACITY_BINARY) + " " + arguments);
}

TEST(PoolCapacity, VersionGivesTheProjectsVersionAndTheBuildsCommit) {
  const ProcessResult run = run_capacity("--version");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(
      std::regex_match(run.output, std::regex("pool-capacity " POOLSIM_VERSION
                                              " \\(commit ([0-9a-f]{12}(-dirty)?|unknown)\\)\n")))
      << run.output;
}

TEST(PoolCapacity, PrintsEveryTermAndTheTotals) {
  const ProcessResult run =
      run_capacity("--config=production --process=replica --members=3 --bus=tcp");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* term : {"journal_reads", "journal_writes", "client_replies_reads",
                           "client_replies_writes", "grid_repair_reads", "loopback_queue",
                           "pipeline", "commit_prepare", "sync_view", "join_view_quorum", "burst",
                           "commit_reply", "connection_recv_buffers", "connection_send_queues"}) {
    EXPECT_NE(run.output.find(term), std::string::npos) << term;
  }
  EXPECT_NE(run.output.find("messages_max                      113"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("118,489,088"), std::string::npos) << run.output;
}

TEST(PoolCapacity, JsonIsOneObjectWithTermsThatSumToTheTotal) {
  const ProcessResult run = run_capacity(
      "--config=test_min --process=replica --members=5 --pipeline-requests-limit=2 --bus=tcp "
      "--json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto json = nlohmann::json::parse(run.output);
  EXPECT_EQ(json["config"], "test_min");
  EXPECT_EQ(json["process"], "replica");
  // test_min tcp: 21 + r + min(m, 6) + 5·(m + 3 + r) = 21 + 2 + 5 + 50.
  EXPECT_EQ(json["messages_max"], 78);
  EXPECT_EQ(json["bytes"], 78 * 4096);
  int sum = 0;
  for (const auto& [name, messages] : json["terms"].items()) sum += messages.template get<int>();
  EXPECT_EQ(sum, 78);
  EXPECT_EQ(json["terms"]["pipeline"], 6);
}

TEST(PoolCapacity, TheCorrectedFormulaAddsItsFindingsTerms) {
  const ProcessResult original = run_capacity("--config=test_min --members=3 --bus=tcp --json");
  const ProcessResult corrected =
      run_capacity("--config=test_min --members=3 --bus=tcp --formula=corrected --json");
  ASSERT_EQ(original.exit_code, 0) << original.output;
  ASSERT_EQ(corrected.exit_code, 0) << corrected.output;
  const auto before = nlohmann::json::parse(original.output);
  const auto after = nlohmann::json::parse(corrected.output);
  EXPECT_EQ(before["formula"], "original");
  EXPECT_EQ(after["formula"], "corrected");
  EXPECT_FALSE(before["terms"].contains("reply_copy"));
  EXPECT_EQ(after["terms"]["reply_copy"], 1);
  // And the spare connection: its receive buffer and its send queue (4 in test_min).
  EXPECT_EQ(after["terms"]["connection_recv_buffers"].get<int>(),
            before["terms"]["connection_recv_buffers"].get<int>() + 1);
  EXPECT_EQ(after["messages_max"].get<int>(), before["messages_max"].get<int>() + 1 + 1 + 4);
  // A client has no finding: the same terms either way.
  const auto client = nlohmann::json::parse(run_capacity("--process=client --json").output);
  const auto client_corrected =
      nlohmann::json::parse(run_capacity("--process=client --formula=corrected --json").output);
  EXPECT_EQ(client["terms"], client_corrected["terms"]);
}

TEST(PoolCapacity, ClientPoolIsTwenty) {
  const ProcessResult run = run_capacity("--process=client --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto json = nlohmann::json::parse(run.output);
  EXPECT_EQ(json["messages_max"], 20);
  EXPECT_EQ(json["terms"].size(), 4u);
}

TEST(PoolCapacity, BadInputIsOneLineAndExitTwo) {
  const struct {
    const char* arguments;
    const char* message;
  } cases[] = {
      {"--members=13", "pool-capacity: --members: must be in 1..12, got 13\n"},
      {"--members=0", "pool-capacity: --members: must be in 1..12, got 0\n"},
      {"--config=test_min --pipeline-requests-limit=5",
       "pool-capacity: --pipeline-requests-limit: must be in 0..4, got 5\n"},
      {"--bus=udp", "pool-capacity: --bus=udp is not accepted: one of tcp|testing\n"},
      {"--formula=fixed",
       "pool-capacity: --formula=fixed is not accepted: one of original|corrected\n"},
      {"--config=big", "pool-capacity: --config=big is not accepted: one of production|test_min\n"},
      {"--process=client --members=3",
       "pool-capacity: --members applies to --process=replica only\n"},
      {"--frobnicate", "pool-capacity: unknown flag --frobnicate (see --help)\n"},
      {"stray", "pool-capacity: unexpected argument 'stray' (flags only; see --help)\n"},
  };
  for (const auto& bad : cases) {
    const ProcessResult run = run_capacity(bad.arguments);
    EXPECT_EQ(run.exit_code, 2) << bad.arguments;
    EXPECT_EQ(run.output, bad.message) << bad.arguments;
  }
  for (const char* malformed_arguments :
       {"--members=three", "--members=-1", "--pipeline_requests_limit=99999999999"}) {
    const ProcessResult malformed = run_capacity(malformed_arguments);
    EXPECT_EQ(malformed.exit_code, 2) << malformed_arguments;
    EXPECT_EQ(malformed.output.find('\n'), malformed.output.size() - 1) << "one line";
    EXPECT_EQ(malformed.output.rfind("pool-capacity: --", 0), 0u) << malformed.output;
  }
}

TEST(PoolCapacity, HelpExplainsEveryFlagAndExitsZero) {
  const ProcessResult run = run_capacity("--help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* flag :
       {"--config", "--process", "--members", "--pipeline-requests-limit", "--bus", "--json"}) {
    EXPECT_NE(run.output.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
