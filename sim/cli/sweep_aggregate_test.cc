#include "sim/cli/sweep_aggregate.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "sim/cli/summary_json.h"
#include "sim/cluster.h"
#include "sim/options.h"

namespace sim {
namespace {

constexpr uint64_t seed_first = 1;
constexpr uint64_t seed_count = 16;

// Real summaries of short runs: every third seed's commit_prepare bound shrunk (so some fail), and
// one stand-in for a run that died before its summary.
const std::vector<nlohmann::json>& summaries() {
  static const std::vector<nlohmann::json> all = [] {
    std::vector<nlohmann::json> made;
    for (uint64_t seed = seed_first; seed < seed_first + seed_count; seed++) {
      if (seed == 7) {
        made.push_back({{"seed", seed},
                        {"crashed", true},
                        {"failure", {{"kind", "crashed"}, {"detail", "assertion failed"}}},
                        {"repro", "scripts/sim.sh --seed=7"}});
        continue;
      }
      Options options = options_from_seed(seed, "test_min");
      options.requests_max = std::min<uint64_t>(options.requests_max, 40);
      if (seed % 3 == 0) options.shrink_term = pool::Term::commit_prepare;
      made.push_back(summary_json(Cluster(options).run()));
    }
    return made;
  }();
  return all;
}

// A task's aggregate knows the whole sweep's seeds; a whole sweep's are its own.
nlohmann::json aggregate_of(const std::vector<nlohmann::json>& seed_summaries,
                            bool task_of_all = false) {
  SweepAggregate sweep;
  if (task_of_all) {
    EXPECT_TRUE(sweep.set_sweep_seeds(seed_first, seed_first + seed_count - 1).ok());
  }
  for (const auto& summary : seed_summaries) EXPECT_TRUE(sweep.add_summary(summary).ok());
  if (!task_of_all) {
    EXPECT_TRUE(sweep.check_complete().ok());
  }
  return sweep.to_json();
}

TEST(SweepAggregate, CountsPassesFailuresAndCrashes) {
  const nlohmann::json aggregate = aggregate_of(summaries());
  EXPECT_EQ(aggregate["seeds"], seed_count);
  EXPECT_EQ(aggregate["first_seed"], seed_first);
  EXPECT_EQ(aggregate["last_seed"], seed_first + seed_count - 1);
  EXPECT_EQ(aggregate["crashed"], 1);
  EXPECT_GE(aggregate["failed"].get<uint64_t>(), 2u);  // The crash and a shrunk bound at least.
  EXPECT_EQ(aggregate["passed"].get<uint64_t>() + aggregate["failed"].get<uint64_t>(), seed_count);
  EXPECT_EQ(aggregate["failures"].size(), aggregate["failed"].get<uint64_t>());
  EXPECT_EQ(aggregate["trace_hashes"].size(), seed_count - 1);
  EXPECT_GT(aggregate["terms"]["replica testing"].size() + aggregate["terms"]["replica tcp"].size(),
            0u);
}

TEST(SweepAggregate, TheOrderOfSummariesDoesNotMatter) {
  std::vector<nlohmann::json> reversed = summaries();
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(aggregate_of(reversed).dump(2), aggregate_of(summaries()).dump(2));
}

// The Slurm and sharded sweeps' contract: tasks' aggregates merge into exactly the aggregate of
// one sweep of the same seeds, for any split into contiguous ranges, in any order.
RC_GTEST_PROP(SweepAggregate, MergedTasksEqualOneSweep, ()) {
  const std::string whole = aggregate_of(summaries()).dump(2);
  auto cuts = *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(1, seed_count));
  cuts.push_back(0);
  cuts.push_back(seed_count);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<nlohmann::json> tasks;
  for (size_t i = 0; i + 1 < cuts.size(); i++) {
    tasks.push_back(aggregate_of({summaries().begin() + static_cast<std::ptrdiff_t>(cuts[i]),
                                  summaries().begin() + static_cast<std::ptrdiff_t>(cuts[i + 1])},
                                 /*task_of_all=*/true));
  }
  const auto order = *rc::gen::arbitrary<uint64_t>();
  std::rotate(tasks.begin(), tasks.begin() + static_cast<std::ptrdiff_t>(order % tasks.size()),
              tasks.end());
  SweepAggregate merged;
  for (const auto& task : tasks) RC_ASSERT(merged.add_aggregate(task).ok());
  RC_ASSERT(merged.check_complete().ok());
  RC_ASSERT(merged.to_json().dump(2) == whole);
}

TEST(SweepAggregate, AMissingOrRepeatedTaskIsAnError) {
  const std::vector<nlohmann::json>& all = summaries();
  const nlohmann::json low = aggregate_of({all.begin(), all.begin() + 5}, true);
  const nlohmann::json high = aggregate_of({all.begin() + 8, all.end()}, true);
  SweepAggregate gap;
  ASSERT_TRUE(gap.add_aggregate(low).ok());
  ASSERT_TRUE(gap.add_aggregate(high).ok());
  const absl::Status missing = gap.check_complete();
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("seeds 6..8 have no result"), std::string_view::npos)
      << missing.message();

  SweepAggregate no_last;
  ASSERT_TRUE(no_last.add_aggregate(aggregate_of({all.begin(), all.end() - 1}, true)).ok());
  const absl::Status last_missing = no_last.check_complete();
  EXPECT_NE(last_missing.message().find("seeds 16..16 have no result"), std::string_view::npos)
      << last_missing.message();

  SweepAggregate mixed;  // Tasks of another sweep.
  ASSERT_TRUE(mixed.add_aggregate(low).ok());
  EXPECT_FALSE(mixed.add_aggregate(aggregate_of({all.begin() + 5, all.end()})).ok());

  SweepAggregate twice;
  ASSERT_TRUE(twice.add_aggregate(low).ok());
  ASSERT_TRUE(twice.add_aggregate(low).ok());
  EXPECT_FALSE(twice.check_complete().ok());
}

// A task's failure of the sweep itself (a worker's death no seed repeats) survives the merge and
// fails it; an aggregate without one has no key for it.
TEST(SweepAggregate, ASweepFailureFailsTheMergedSweep) {
  // The seeds that pass, each its own one-seed task, so that only the sweep failure can fail it.
  std::vector<nlohmann::json> tasks;
  for (const auto& summary : summaries()) {
    if (!summary.value("passed", false)) continue;
    SweepAggregate task;
    EXPECT_TRUE(task.set_sweep_seeds(seed_first, seed_first + seed_count - 1).ok());
    EXPECT_TRUE(task.add_summary(summary).ok());
    tasks.push_back(task.to_json());
  }
  ASSERT_GE(tasks.size(), 2u);
  const std::string death = "a worker died (signal 9) while it ran [2]; none of them crashes alone";
  for (const bool with_failure : {false, true}) {
    SweepAggregate merged;
    for (size_t index = 0; index < tasks.size(); index++) {
      nlohmann::json task = tasks[index];
      if (with_failure && index == 1) {
        SweepAggregate failing;
        ASSERT_TRUE(failing.add_aggregate(task).ok());
        failing.add_sweep_failure(death);
        EXPECT_FALSE(failing.passed());
        task = failing.to_json();
      }
      ASSERT_TRUE(merged.add_aggregate(task).ok());
    }
    EXPECT_EQ(merged.passed(), !with_failure);
    const nlohmann::json json = merged.to_json();
    EXPECT_EQ(json.contains("sweep_failures"), with_failure);
    if (with_failure) {
      EXPECT_EQ(json["sweep_failures"], nlohmann::json::array({death}));
    }
  }
}

TEST(SweepAggregate, NotAnAggregateIsAnErrorNotACrash) {
  SweepAggregate sweep;
  EXPECT_FALSE(sweep.add_aggregate(nlohmann::json::object()).ok());
  EXPECT_FALSE(sweep.add_aggregate(nlohmann::json{{"first_seed", "x"}}).ok());
  EXPECT_FALSE(sweep.add_summary(nlohmann::json::array()).ok());
  EXPECT_FALSE(sweep.check_complete().ok());  // Nothing was folded in.
}

}  // namespace
}  // namespace sim
