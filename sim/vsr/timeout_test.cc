// Timeouts: start, fire and back off; and the trace codes of the ones that fire.
#include "sim/vsr/timeout.h"

#include <gtest/gtest.h>

namespace sim {
namespace {

TEST(Timeout, FiresAfterItsTicksAndBacksOffWithJitter) {
  Timeout timeout{10};
  timeout.start();
  for (int tick = 0; tick < 9; tick++) timeout.tick();
  EXPECT_FALSE(timeout.fired());
  timeout.tick();
  EXPECT_TRUE(timeout.fired());
  Prng prng(7);
  timeout.backoff(prng);
  EXPECT_FALSE(timeout.fired());
  EXPECT_GT(timeout.after_ticks, 10u);
  EXPECT_LE(timeout.after_ticks, 10u + 1 + 2);  // Base + [1, 1 + 2^1].
  timeout.stop();
  for (int tick = 0; tick < 100; tick++) timeout.tick();
  EXPECT_FALSE(timeout.fired());  // A stopped timeout never fires.
}

TEST(TimeoutKind, TraceCodesDecodeByRole) {
  for (TimeoutKind kind : {TimeoutKind::ping, TimeoutKind::prepare, TimeoutKind::normal_heartbeat,
                           TimeoutKind::view_change_status}) {
    EXPECT_EQ(timeout_from_trace_code(timeout_trace_code(kind), false), kind)
        << timeout_kind_name(kind);
  }
  // The client's request timeout shares a replica's code: the role tells them apart.
  EXPECT_EQ(timeout_from_trace_code(timeout_trace_code(TimeoutKind::client_request), true),
            TimeoutKind::client_request);
  EXPECT_EQ(timeout_from_trace_code(timeout_trace_code(TimeoutKind::client_request), false),
            TimeoutKind::normal_heartbeat);
  EXPECT_EQ(timeout_from_trace_code(9, false), std::nullopt);
  EXPECT_EQ(timeout_from_trace_code(0, true), std::nullopt);
}

TEST(TimeoutKindDeathTest, AnUntracedTimeoutHasNoCode) {
  EXPECT_DEATH(static_cast<void>(timeout_trace_code(TimeoutKind::repair)), "is not traced");
}

}  // namespace
}  // namespace sim
