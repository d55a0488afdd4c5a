#include "sim/core/scheduler.h"

#include <algorithm>

#include "pool/assertion.h"

namespace sim {

void Scheduler::schedule(uint64_t tick, Action action) {
  POOL_ASSERT_GE(tick, now_tick_);
  POOL_ASSERT(static_cast<bool>(action));
  uint32_t slot = 0;
  if (action_slots_free_.empty()) {
    slot = static_cast<uint32_t>(actions_.size());
    actions_.push_back(std::move(action));
  } else {
    slot = action_slots_free_.back();
    action_slots_free_.pop_back();
    POOL_ASSERT(!actions_[slot]);
    actions_[slot] = std::move(action);
  }
  queue_.push_back(Event{tick, sequence_next_++, slot});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
  POOL_ASSERT_EQ(queue_.size() + action_slots_free_.size(), actions_.size());
}

void Scheduler::run_next() {
  POOL_ASSERT(!queue_.empty());
  std::pop_heap(queue_.begin(), queue_.end(), Later{});
  const Event event = queue_.back();
  queue_.pop_back();
  POOL_ASSERT_GE(event.tick, now_tick_);
  // Out of its slot before it runs: the action may schedule others into the slot.
  Action action = std::move(actions_[event.action_slot]);
  action_slots_free_.push_back(event.action_slot);
  now_tick_ = event.tick;
  events_run_ += 1;
  action();
}

void Scheduler::advance_to(uint64_t tick) {
  POOL_ASSERT_GE(tick, now_tick_);
  POOL_ASSERT(queue_.empty() || queue_.front().tick >= tick, "an event is due before tick %llu",
              static_cast<unsigned long long>(tick));
  now_tick_ = tick;
}

}  // namespace sim
