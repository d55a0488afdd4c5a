// A timeout counted in ticks, after the original's vsr.Timeout: started, ticked, fired, then
// reset or backed off (exponentially, with jitter drawn from the owner's generator).
#pragma once

#include <algorithm>
#include <cstdint>

#include "sim/core/prng.h"

namespace sim {

struct Timeout {
  uint64_t after_ticks_base;
  uint64_t after_ticks = after_ticks_base;
  uint64_t ticks = 0;
  uint32_t attempts = 0;
  bool ticking = false;

  void start() {
    ticks = 0;
    attempts = 0;
    after_ticks = after_ticks_base;
    ticking = true;
  }
  void stop() { ticking = false; }
  void reset() { start(); }
  void tick() {
    if (ticking) ticks += 1;
  }
  bool fired() const { return ticking && ticks >= after_ticks; }
  // The next attempt waits longer: base + a jitter in [1, 1 + min(999, 2^attempts)].
  void backoff(Prng& prng) {
    attempts += 1;
    ticks = 0;
    const uint64_t spread =
        std::min<uint64_t>(999, uint64_t{1} << std::min<uint32_t>(attempts, 20));
    after_ticks = after_ticks_base + prng.range_inclusive(1, 1 + spread);
  }
};

}  // namespace sim
