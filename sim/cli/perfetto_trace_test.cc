// sim --trace-out as a user opens it in Perfetto: the file's structure, its tracks, and counters
// whose maxima are exactly the summary's peaks (pools, terms, packets in flight).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "nlohmann/json.hpp"
#include "pool/cli/subprocess.h"

namespace {

struct TracedRun {
  nlohmann::json summary;
  nlohmann::json trace;
};

TracedRun run_traced(const std::string& arguments) {
  const auto directory = std::filesystem::temp_directory_path();
  const std::string stem = "poolsim_" + std::to_string(::getpid()) + "_trace";
  const std::string summary_path = (directory / (stem + "_summary.json")).string();
  const std::string trace_path = (directory / (stem + ".json")).string();
  const auto result = pool::cli::run_command(
      std::string(SIM_BINARY) + " --log=quiet --overwrite --summary-json=" + summary_path +
      " --trace-out=" + trace_path + " " + arguments);
  EXPECT_NE(result.exit_code, 2) << result.output;
  TracedRun run;
  run.summary = nlohmann::json::parse(std::ifstream(summary_path));
  run.trace = nlohmann::json::parse(std::ifstream(trace_path));
  std::filesystem::remove(summary_path);
  std::filesystem::remove(trace_path);
  return run;
}

void check_trace(const TracedRun& run) {
  const nlohmann::json& events = run.trace.at("traceEvents");
  ASSERT_TRUE(events.is_array());
  std::map<int, std::string> process_names;
  std::map<std::pair<int, std::string>, uint64_t> counter_max;  // (pid, counter) → max.
  std::map<std::string, uint64_t> slices;
  std::map<std::string, uint64_t> instants;
  std::map<int, std::pair<uint64_t, std::string>> last_pool_peak;  // pid → (messages, holders).
  for (const auto& event : events) {
    const std::string phase = event.at("ph");
    const int pid = event.at("pid");
    ASSERT_TRUE(phase == "M" || phase == "C" || phase == "X" || phase == "i") << event;
    if (phase == "M") {
      if (event.at("name") == "process_name") process_names[pid] = event["args"]["name"];
      continue;
    }
    ASSERT_TRUE(event.at("ts").is_number_unsigned()) << event;
    ASSERT_LE(event.at("ts").get<uint64_t>(), run.summary["ticks"].get<uint64_t>() * 1000 + 999);
    const std::string name = event.at("name");
    if (phase == "C") {
      uint64_t& max = counter_max[{pid, name}];
      max = std::max(max, event.at("args").at("value").get<uint64_t>());
    } else if (phase == "X") {
      ASSERT_TRUE(event.at("dur").is_number_unsigned()) << event;
      ASSERT_TRUE(event.contains("tid")) << event;
      slices[name] += 1;
    } else {
      ASSERT_EQ(event.at("s"), "t") << event;
      instants[name] += 1;
      if (name == "pool peak") {
        last_pool_peak[pid] = {event.at("args").at("messages").get<uint64_t>(),
                               event.at("args").at("holders").get<std::string>()};
      }
    }
  }
  // A track per pool owner, each counter's maximum the summary's peak.
  const nlohmann::json& pools = run.summary.at("pools");
  ASSERT_EQ(process_names.size(), pools.size());
  for (const auto& pool_summary : pools) {
    const std::string owner = pool_summary.at("owner");
    int pid = 0;
    for (const auto& [candidate, name] : process_names) {
      if (name == owner) pid = candidate;
    }
    ASSERT_NE(pid, 0) << owner << " has no track";
    const std::string used = owner == "network" ? "packets in flight" : "pool messages in use";
    const uint64_t used_max = counter_max[std::make_pair(pid, used)];
    EXPECT_EQ(used_max, pool_summary.at("peak").get<uint64_t>()) << owner;
    for (const auto& [term, figures] : pool_summary.at("terms").items()) {
      const auto found = counter_max.find({pid, "term " + term});
      const uint64_t max = found == counter_max.end() ? 0 : found->second;
      EXPECT_EQ(max, figures.at("peak").get<uint64_t>()) << owner << " " << term;
      const auto distinct = counter_max.find({pid, "term " + term + " distinct"});
      EXPECT_EQ(distinct == counter_max.end() ? 0 : distinct->second,
                figures.at("distinct_peak").get<uint64_t>())
          << owner << " " << term;
    }
    if (owner != "network") {
      // The last pool peak marked is the summary's, with the holders alive at it.
      EXPECT_EQ(last_pool_peak[pid].first, pool_summary.at("peak").get<uint64_t>()) << owner;
      EXPECT_EQ(last_pool_peak[pid].second, pool_summary.at("census_at_peak")) << owner;
    }
  }
  // Slices and instants for what the run did.
  EXPECT_EQ(instants["crash"], run.summary.at("crashes").get<uint64_t>());
  EXPECT_EQ(slices["down"], run.summary.at("crashes").get<uint64_t>());
  EXPECT_GE(slices["request"], run.summary.at("requests_answered").get<uint64_t>());
  if (run.summary.at("passed") == true) {
    EXPECT_GT(instants["commit"], 0u);
  }
  EXPECT_GE(slices["sync"], run.summary.at("syncs").get<uint64_t>());  // A crash may cut one.
  if (run.summary.at("view_changes").get<uint64_t>() > 0) {
    EXPECT_GT(slices["view change"], 0u);
  }
}

TEST(PerfettoTrace, DefaultSeedsTracksAndCountersMatchTheSummary) {
  for (const char* seed : {"--seed=1 --formula=corrected", "--seed=42 --formula=corrected"}) {
    SCOPED_TRACE(seed);
    const TracedRun run = run_traced(seed);
    ASSERT_EQ(run.summary.at("passed"), true);
    EXPECT_GT(
        run.summary.at("crashes").get<uint64_t>() + run.summary.at("view_changes").get<uint64_t>(),
        0u);
    check_trace(run);
  }
}

TEST(PerfettoTrace, StressSeedWithSyncsMatchesTheSummary) {
  const TracedRun run = run_traced("--seed=13 --swarm=stress");
  check_trace(run);
}

// A failed run (a shrunk bound) still leaves a complete file whose counters show the breach.
TEST(PerfettoTrace, AFailedRunLeavesACompleteTrace) {
  const TracedRun run = run_traced("--seed=1 --shrink-term=pipeline");
  ASSERT_EQ(run.summary.at("passed"), false);
  check_trace(run);
}

}  // namespace
