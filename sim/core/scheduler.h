// Simulated time: ticks, and a queue of events ordered by (tick, insertion sequence), so that two
// events due at the same tick always run in the order they were scheduled.
#pragma once

#include <cstdint>
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
  bool due(uint64_t tick) const { return !queue_.empty() && queue_.front().tick <= tick; }
  // Runs the earliest event, advancing now to its tick. An event must be due.
  void run_next();
  // Moves time forward to `tick` (no event may be due before it).
  void advance_to(uint64_t tick);
  uint64_t events_run() const { return events_run_; }

 private:
  // The heap holds small records; the actions stay put in slots of their own (a heap of
  // actions would move them at every sift).
  struct Event {
    uint64_t tick;
    uint64_t sequence;
    uint32_t action_slot;
  };
  // Min-heap order: the earliest (tick, sequence) at the front. A function object, so that the
  // heap's sifts inline it.
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.tick != b.tick ? a.tick > b.tick : a.sequence > b.sequence;
    }
  };

  std::vector<Event> queue_;
  std::vector<Action> actions_;  // By slot; empty while free.
  std::vector<uint32_t> action_slots_free_;
  uint64_t now_tick_ = 0;
  uint64_t sequence_next_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace sim
