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

// Past the calendar's ring (1024 ticks) events wait in a heap; they keep (tick, sequence) order
// with events scheduled for the same tick once it is near.
TEST(Scheduler, FarEventsKeepTheirOrderWithNearOnes) {
  Scheduler scheduler;
  std::vector<int> order;
  scheduler.schedule(5000, [&] { order.push_back(1); });
  scheduler.schedule(3000, [&] {
    order.push_back(0);
    scheduler.schedule(5000, [&] { order.push_back(3); });
    scheduler.schedule_after(4000, [&] { order.push_back(4); });
  });
  scheduler.schedule(5000, [&] { order.push_back(2); });
  for (uint64_t tick = 0; tick <= 8000; tick++) {
    scheduler.advance_to(tick);
    while (scheduler.due(tick)) scheduler.run_next();
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(scheduler.events_run(), 5u);
  // The same order when time jumps from event to event.
  Scheduler jumping;
  std::vector<uint64_t> ticks;
  for (uint64_t tick : {70000u, 3u, 2048u, 70000u, 1023u, 1024u}) {
    jumping.schedule(tick, [&ticks, &jumping] { ticks.push_back(jumping.now_tick()); });
  }
  while (jumping.due(UINT64_MAX)) jumping.run_next();
  EXPECT_EQ(ticks, (std::vector<uint64_t>{3, 1023, 1024, 2048, 70000, 70000}));
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
  Scheduler far;
  far.schedule(3000, [] {});
  EXPECT_DEATH(far.advance_to(3001), "due before");
}

}  // namespace
}  // namespace sim
