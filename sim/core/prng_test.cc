#include "sim/core/prng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

namespace sim {
namespace {

TEST(Prng, Splitmix64MatchesTheReferenceOutputs) {
  // The first outputs of splitmix64 from state 0, as published with the reference code.
  uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(splitmix64(state), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(splitmix64(state), 0x06C45D188009454FULL);
  EXPECT_EQ(splitmix64(state), 0xF88BB8A8724C81ECULL);
}

TEST(Prng, SameSeedSameSequenceDifferentSeedDifferent) {
  Prng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; i++) {
    const uint64_t value = a.next();
    EXPECT_EQ(value, b.next());
    differs |= value != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Prng, DerivedStreamsAreIndependentOfEachOther) {
  Prng first = Prng::derive(7, 1);
  Prng second = Prng::derive(7, 2);
  EXPECT_NE(first.next(), second.next());
  // Deriving again gives the same stream: a component's draws depend only on seed and stream.
  EXPECT_EQ(Prng::derive(7, 1).next(), Prng::derive(7, 1).next());
}

TEST(Prng, BelowStaysInRangeAndReachesEveryValue) {
  Prng prng(1);
  std::array<int, 7> seen{};
  for (int i = 0; i < 10'000; i++) {
    const uint64_t value = prng.below(7);
    ASSERT_LT(value, 7u);
    seen[value] += 1;
  }
  // Uniform: each of 7 values near 10000/7 = 1428 (a fixed seed, so this cannot flake).
  for (int count : seen) EXPECT_NEAR(count, 1428, 150);
}

TEST(Prng, RangeInclusiveHitsBothEnds) {
  Prng prng(2);
  bool low = false, high = false;
  for (int i = 0; i < 1000; i++) {
    const uint64_t value = prng.range_inclusive(5, 8);
    ASSERT_GE(value, 5u);
    ASSERT_LE(value, 8u);
    low |= value == 5;
    high |= value == 8;
  }
  EXPECT_TRUE(low && high);
  EXPECT_EQ(prng.range_inclusive(9, 9), 9u);
}

TEST(Prng, ChanceHonoursItsRatio) {
  Prng prng(3);
  int hits = 0;
  for (int i = 0; i < 10'000; i++) hits += prng.chance(1, 4);
  EXPECT_NEAR(hits, 2500, 200);
  for (int i = 0; i < 100; i++) {
    EXPECT_FALSE(prng.chance(0, 10));
    EXPECT_TRUE(prng.chance(10, 10));
  }
}

TEST(Prng, IndexWeightedNeverPicksAZeroWeight) {
  Prng prng(4);
  const std::array<uint32_t, 4> weights = {0, 3, 0, 1};
  std::array<int, 4> seen{};
  for (int i = 0; i < 4000; i++) seen[prng.index_weighted(weights)] += 1;
  EXPECT_EQ(seen[0], 0);
  EXPECT_EQ(seen[2], 0);
  EXPECT_NEAR(seen[1], 3000, 200);
}

TEST(Prng, ShuffleIsAPermutation) {
  Prng prng(5);
  std::vector<int> items(50);
  std::iota(items.begin(), items.end(), 0);
  prng.shuffle(std::span<int>(items));
  std::vector<int> sorted = items;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; i++) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_FALSE(std::is_sorted(items.begin(), items.end()));
}

TEST(PrngDeathTest, BelowZeroIsABug) {
  Prng prng(6);
  EXPECT_DEATH(prng.below(0), "bound");
}

}  // namespace
}  // namespace sim
