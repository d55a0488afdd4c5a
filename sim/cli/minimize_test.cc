#include "sim/cli/minimize.h"

#include <gtest/gtest.h>

namespace sim {
namespace {

Verdict run_in_process(const Options& options) { return verdict_of(Cluster(options).run()); }

uint64_t processes(const Options& options) {
  return options.replica_count + options.standby_count + options.client_count;
}

// The search alone, on a made-up failure: it keeps exactly what the failure needs.
TEST(Minimize, KeepsOnlyWhatTheFailureNeeds) {
  Options options = options_from_seed(1, "test_min");
  options.replica_count = 5;
  options.standby_count = 2;
  options.client_count = 6;
  options.crash_ppm = 300;
  options.network.packet_loss_ppm = 1000;
  options.requests_max = 400;
  ASSERT_TRUE(options_validate(options).ok());
  // Fails while there are at least 3 replicas, crashes and 50 requests; or differently with
  // fewer than 20 requests (a failure of another kind must not be kept).
  const auto run = [](const Options& candidate) {
    if (candidate.requests_max < 20) return Verdict{false, "liveness", ""};
    const bool fails =
        candidate.replica_count >= 3 && candidate.crash_ppm > 0 && candidate.requests_max >= 50;
    return fails ? Verdict{false, "term_bound", "pipeline"} : Verdict{true, "", ""};
  };
  std::vector<std::string> steps;
  const MinimizeResult result =
      minimize(options, run(options), run, [&](const std::string& step) { steps.push_back(step); });
  EXPECT_EQ(result.options.replica_count, 3u);
  EXPECT_EQ(result.options.standby_count, 0u);
  EXPECT_EQ(result.options.client_count, 1u);
  EXPECT_EQ(result.options.requests_max, 50u);
  EXPECT_GT(result.options.crash_ppm, 0u);
  EXPECT_EQ(result.options.network.packet_loss_ppm, 0u);
  EXPECT_EQ(result.verdict.describe(), "term_bound pipeline");
  EXPECT_EQ(steps.size(), result.runs);
  EXPECT_FALSE(result.stopped);
}

// The checker teeth plant a real failure; the minimal run is smaller and fails the same way.
TEST(Minimize, APlantedBreachShrinksAndStillFailsTheSameWay) {
  Options options = options_from_seed(4, "test_min");
  options.replica_count = 4;
  options.standby_count = 1;
  options.client_count = 4;
  options.shrink_term = pool::Term::pipeline;
  ASSERT_TRUE(options_validate(options).ok());
  const Verdict failure = run_in_process(options);
  ASSERT_EQ(failure.describe(), "term_bound pipeline");

  const MinimizeResult result =
      minimize(options, failure, run_in_process, [](const std::string&) {});
  EXPECT_TRUE(result.verdict.same_failure(failure));
  EXPECT_LT(processes(result.options), processes(options));
  EXPECT_LE(result.options.requests_max, options.requests_max);
  EXPECT_LE(result.options.ticks_max_requests, options.ticks_max_requests);
  EXPECT_LE(result.options.crash_ppm, options.crash_ppm);
  EXPECT_LE(result.options.network.packet_loss_ppm, options.network.packet_loss_ppm);
  EXPECT_EQ(result.options.shrink_term, pool::Term::pipeline);
  // The result replays: the same options fail the same way again.
  EXPECT_TRUE(run_in_process(result.options).same_failure(failure));
}

TEST(Minimize, OnlyTheSameKindAndTermCountAsTheSameFailure) {
  const Verdict breach{false, "term_bound", "pipeline"};
  EXPECT_TRUE(breach.same_failure(Verdict{false, "term_bound", "pipeline"}));
  EXPECT_FALSE(breach.same_failure(Verdict{false, "term_bound", "journal_writes"}));
  EXPECT_FALSE(breach.same_failure(Verdict{false, "exhaustion", "pipeline"}));
  EXPECT_FALSE(breach.same_failure(Verdict{true, "", ""}));
  EXPECT_TRUE(Verdict({false, "liveness", ""}).same_failure(Verdict{false, "liveness", ""}));
  // A run that ended without a verdict, or a crash with no assertion named, matches nothing.
  EXPECT_FALSE(Verdict({false, "error", ""}).same_failure(Verdict{false, "error", ""}));
  EXPECT_FALSE(Verdict({false, "crash", ""}).same_failure(Verdict{false, "crash", ""}));
}

}  // namespace
}  // namespace sim
