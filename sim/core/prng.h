// The simulator's one source of randomness: xoshiro256** seeded through splitmix64, with our own
// integer range reduction, so that a seed draws the same numbers under every compiler and
// standard library (`<random>` distributions differ between libstdc++ and libc++).
#pragma once

#include <cstdint>
#include <span>
#include <utility>

#include "pool/assertion.h"

namespace sim {

// splitmix64's step: the seed expander, also used to derive one stream per component.
inline uint64_t splitmix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t state = seed;
    for (uint64_t& word : state_) word = splitmix64(state);
  }

  // A generator for one component, independent of the draws of the others: `stream` names the
  // component (a replica index, say), so adding a draw in one component shifts no other.
  static Prng derive(uint64_t seed, uint64_t stream) {
    uint64_t state = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    return Prng(splitmix64(state));
  }

  // xoshiro256**.
  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound), bound > 0, without modulo bias (rejection of the short last bucket).
  uint64_t below(uint64_t bound) {
    POOL_ASSERT_GT(bound, 0u);
    const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound.
    while (true) {
      const uint64_t value = next();
      if (value >= threshold) return value % bound;
    }
  }

  // Uniform in [min, max].
  uint64_t range_inclusive(uint64_t min, uint64_t max) {
    POOL_ASSERT_LE(min, max);
    if (min == 0 && max == UINT64_MAX) return next();
    return min + below(max - min + 1);
  }

  // True with probability numerator / denominator.
  bool chance(uint64_t numerator, uint64_t denominator) {
    POOL_ASSERT_GT(denominator, 0u);
    POOL_ASSERT_LE(numerator, denominator);
    if (numerator == 0) return false;
    return below(denominator) < numerator;
  }

  // An index into `weights` with probability proportional to its weight (some weight > 0).
  size_t index_weighted(std::span<const uint32_t> weights) {
    uint64_t total = 0;
    for (uint32_t weight : weights) total += weight;
    POOL_ASSERT_GT(total, 0u);
    uint64_t pick = below(total);
    for (size_t index = 0; index < weights.size(); index++) {
      if (pick < weights[index]) return index;
      pick -= weights[index];
    }
    POOL_ASSERT(false, "unreachable");
  }

  // Fisher-Yates.
  template <typename T>
  void shuffle(std::span<T> items) {
    for (size_t index = items.size(); index > 1; index--) {
      std::swap(items[index - 1], items[below(index)]);
    }
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

// Every PRNG stream of a simulation, named once: each component derives its generator from the
// run's seed and its stream id, so that a draw added to one component shifts no other. The values
// are fixed forever (changing one changes every seed's run and breaks old replay commands); the
// per-process streams add the process index to their base.
enum class PrngStream : uint64_t {
  // The default swarm's draw of the options. Meant to spell "SWARM", it spells "WWARM\0"; the
  // value stays, so that every recorded seed still replays.
  swarm_default = 0x5757'4152'4D00,
  swarm_stress = 0x5354'5245'5353,  // "STRESS": the stress swarm's changes to a default draw.
  cluster_faults = 0x434C'5553,     // "CLUS": crashes and restarts.
  network = 0x4E45'5457,            // "NETW": delays, loss, replays, partitions, clogs.
  replica_base = 0x5245'0000,       // "RE" + the replica's index: jitter, choices of peers.
  client_base = 0x434C'0000,        // "CL" + the client's index: request bodies, jitter.
  storage_base = 0x5354'0000,       // "ST" + the replica's index: latencies and faults.
  bus_base = 0x4255'0000,           // "BU" + the process's index: the tcp bus's connect jitter.
};

// The generator of `stream` (plus `index` for the per-process streams) of the run `seed`.
inline Prng prng_for(uint64_t seed, PrngStream stream, uint64_t index = 0) {
  POOL_ASSERT(index == 0 || stream == PrngStream::replica_base ||
                  stream == PrngStream::client_base || stream == PrngStream::storage_base ||
                  stream == PrngStream::bus_base,
              "stream %llx takes no index", static_cast<unsigned long long>(stream));
  POOL_ASSERT_LT(index, uint64_t{0x100});  // Streams stay apart: no base + index meets another.
  return Prng::derive(seed, static_cast<uint64_t>(stream) + index);
}

}  // namespace sim
