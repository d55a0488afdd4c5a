#include "sim/core/scheduler.h"

#include <gtest/gtest.h>

#include <vector>

namespace sim {
namespace {

TEST(Scheduler, RunsByTickThenByInsertion) {
  Scheduler scheduler;
  std::vector<int> order;
  scheduler.schedule(5, [&] { order.push_back(1); });
  scheduler.schedule(3, [&] { order.push_back(2); });
  scheduler.schedule(5, [&] { order.push_back(3); });
  scheduler.schedule(3, [&] { order.push_back(4); });
  while (scheduler.due(10)) scheduler.run_next();
  EXPECT_EQ(order, (std::vector<int>{2, 4, 1, 3}));
  EXPECT_EQ(scheduler.now_tick(), 5u);
  EXPECT_EQ(scheduler.events_run(), 4u);
}

TEST(Scheduler, AnEventScheduledForNowRunsAfterThoseAlreadyDue) {
  Scheduler scheduler;
  std::vector<int> order;
  scheduler.schedule(1, [&] {
    order.push_back(1);
    scheduler.schedule_after(0, [&] { order.push_back(3); });
  });
  scheduler.schedule(1, [&] { order.push_back(2); });
  while (scheduler.due(1)) scheduler.run_next();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Scheduler, DueOnlyUpToTheTick) {
  Scheduler scheduler;
  scheduler.schedule(4, [] {});
  EXPECT_FALSE(scheduler.due(3));
  EXPECT_TRUE(scheduler.due(4));
  scheduler.advance_to(2);
  EXPECT_EQ(scheduler.now_tick(), 2u);
}

TEST(SchedulerDeathTest, ThePastCannotBeScheduled) {
  Scheduler scheduler;
  scheduler.advance_to(10);
  EXPECT_DEATH(scheduler.schedule(9, [] {}), "tick >= now_tick_");
}

TEST(SchedulerDeathTest, TimeCannotSkipADueEvent) {
  Scheduler scheduler;
  scheduler.schedule(3, [] {});
  EXPECT_DEATH(scheduler.advance_to(5), "due before");
}

}  // namespace
}  // namespace sim
