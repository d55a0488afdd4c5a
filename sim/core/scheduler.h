// Simulated time: ticks, and a queue of events ordered by (tick, insertion sequence), so that two
// events due at the same tick always run in the order they were scheduled.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/core/action.h"

namespace sim {

class Scheduler {
 public:
  using Action = sim::Action;

  uint64_t now_tick() const { return now_tick_; }

  // Runs `action` at `tick` (not earlier than now).
  void schedule(uint64_t tick, Action action);
  void schedule_after(uint64_t delay_ticks, Action action) {
    schedule(now_tick_ + delay_ticks, std::move(action));
  }

  // True when an event is due at or before `tick`.
  bool due(uint64_t tick) const {
    if (tick == now_tick_) return bucket(now_tick_).next < bucket(now_tick_).slots.size();
    const std::optional<uint64_t> earliest = earliest_tick();
    return earliest && *earliest <= tick;
  }
  // Runs the earliest event, advancing now to its tick. An event must be due.
  void run_next();
  // Moves time forward to `tick` (no event may be due before it).
  void advance_to(uint64_t tick);
  uint64_t events_run() const { return events_run_; }

 private:
  // A calendar of the next ring_ticks ticks, one bucket of action slots per tick in the order
  // they were scheduled (so a bucket is already in sequence order), and a heap for events further
  // out. A far event moves into its bucket as soon as its tick enters the ring, before anything
  // else can be scheduled there, so that the buckets stay in sequence order.
  static constexpr uint64_t ring_ticks = 1024;
  static_assert((ring_ticks & (ring_ticks - 1)) == 0);
  struct Bucket {
    std::vector<uint32_t> slots;
    size_t next = 0;  // Slots before it have run.
  };
  struct FarEvent {
    uint64_t tick;
    uint64_t sequence;
    uint32_t action_slot;
  };
  // Min-heap order: the earliest (tick, sequence) at the front.
  struct Later {
    bool operator()(const FarEvent& a, const FarEvent& b) const {
      return a.tick != b.tick ? a.tick > b.tick : a.sequence > b.sequence;
    }
  };

  Bucket& bucket(uint64_t tick) { return ring_[tick & (ring_ticks - 1)]; }
  const Bucket& bucket(uint64_t tick) const { return ring_[tick & (ring_ticks - 1)]; }
  std::optional<uint64_t> earliest_tick() const;
  // Now is `tick`: the far events whose ticks entered the ring move into their buckets.
  void now_set(uint64_t tick);
  uint32_t slot_take(Action action);

  std::array<Bucket, ring_ticks> ring_;
  uint64_t ring_count_ = 0;  // Events in the ring not yet run.
  std::vector<FarEvent> far_;
  std::vector<Action> actions_;  // By slot; empty while free.
  std::vector<uint32_t> action_slots_free_;
  uint64_t now_tick_ = 0;
  uint64_t sequence_next_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace sim
