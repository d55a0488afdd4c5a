// A timeout counted in ticks, after the original's vsr.Timeout: started, ticked, fired, then
// reset or backed off (exponentially, with jitter drawn from the owner's generator).
#pragma once

#include <algorithm>
#include <cstdint>

#include "pool/assertion.h"
#include "sim/core/prng.h"

namespace sim {

struct Timeout {
  uint64_t after_ticks_base;
  uint64_t after_ticks = after_ticks_base;
  uint64_t ticks = 0;
  uint32_t attempts = 0;
  bool ticking = false;

  void start() {
    POOL_ASSERT_GT(after_ticks_base, 0u);
    ticks = 0;
    attempts = 0;
    after_ticks = after_ticks_base;
    ticking = true;
    POOL_ASSERT(!fired());
  }
  void stop() { ticking = false; }
  void reset() { start(); }
  void tick() {
    if (ticking) ticks += 1;
  }
  bool fired() const { return ticking && ticks >= after_ticks; }
  // The next attempt waits longer: base + a jitter in [1, 1 + min(999, 2^attempts)].
  void backoff(Prng& prng) {
    POOL_ASSERT(ticking, "only a running timeout backs off");
    attempts += 1;
    ticks = 0;
    const uint64_t spread =
        std::min<uint64_t>(999, uint64_t{1} << std::min<uint32_t>(attempts, 20));
    after_ticks = after_ticks_base + prng.range_inclusive(1, 1 + spread);
    POOL_ASSERT_GT(after_ticks, after_ticks_base);
  }
};

}  // namespace sim
