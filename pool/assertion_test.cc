#include "pool/assertion.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace pool {
namespace {

TEST(AssertionDeathTest, PrintsConditionAndLocation) {
  EXPECT_DEATH(POOL_ASSERT(1 + 1 == 3), "assertion failed: 1 \\+ 1 == 3 at .*assertion_test.cc:");
}

TEST(AssertionDeathTest, PrintsTheFormattedMessage) {
  const int replica = 2;
  EXPECT_DEATH(POOL_ASSERT(replica < 2, "replica %d of %s", replica, "cluster"),
               "replica < 2 at .*: replica 2 of cluster");
}

TEST(AssertionDeathTest, CompareAssertionsPrintBothOperands) {
  const uint32_t held = 5;
  const uint32_t bound = 4;
  EXPECT_DEATH(POOL_ASSERT_LE(held, bound), "held <= bound at .*: 5 vs 4");
  const int64_t negative = -3;
  EXPECT_DEATH(POOL_ASSERT_GT(negative, int64_t{0}), "-3 vs 0");
}

TEST(AssertionDeathTest, RunsTheFailureContextHook) {
  EXPECT_DEATH(
      {
        static const char* seed = "seed=42";
        set_failure_context_hook(
            [](void* context) {
              std::fprintf(stderr, "context: %s\n", static_cast<const char*>(context));
            },
            const_cast<char*>(seed));
        POOL_ASSERT(false);
      },
      "assertion failed: false(.|\n)*context: seed=42");
}

TEST(Assertion, PassingAssertionsDoNothing) {
  int evaluations = 0;
  POOL_ASSERT(++evaluations == 1, "evaluated once");
  POOL_ASSERT_EQ(evaluations, 1);
  POOL_ASSERT_NE(&evaluations, nullptr);
  EXPECT_EQ(evaluations, 1);
}

}  // namespace
}  // namespace pool
