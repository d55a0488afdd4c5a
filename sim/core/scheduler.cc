#include "sim/core/scheduler.h"

#include <algorithm>

#include "pool/assertion.h"

namespace sim {

uint32_t Scheduler::slot_take(Action action) {
  POOL_ASSERT(static_cast<bool>(action));
  if (action_slots_free_.empty()) {
    actions_.push_back(std::move(action));
    return static_cast<uint32_t>(actions_.size() - 1);
  }
  const uint32_t slot = action_slots_free_.back();
  action_slots_free_.pop_back();
  POOL_ASSERT(!actions_[slot]);
  actions_[slot] = std::move(action);
  return slot;
}

void Scheduler::schedule(uint64_t tick, Action action) {
  POOL_ASSERT_GE(tick, now_tick_);
  const uint32_t slot = slot_take(std::move(action));
  const uint64_t sequence = sequence_next_++;
  if (tick - now_tick_ < ring_ticks) {
    bucket(tick).slots.push_back(slot);
    ring_count_ += 1;
  } else {
    far_.push_back(FarEvent{tick, sequence, slot});
    std::push_heap(far_.begin(), far_.end(), Later{});
  }
  POOL_ASSERT_EQ(ring_count_ + far_.size() + action_slots_free_.size(), actions_.size());
}

std::optional<uint64_t> Scheduler::earliest_tick() const {
  if (ring_count_ > 0) {
    for (uint64_t tick = now_tick_; tick < now_tick_ + ring_ticks; tick++) {
      if (bucket(tick).next < bucket(tick).slots.size()) return tick;
    }
    POOL_ASSERT(false, "%llu events in the ring, none found",
                static_cast<unsigned long long>(ring_count_));
  }
  if (!far_.empty()) return far_.front().tick;
  return std::nullopt;
}

void Scheduler::now_set(uint64_t tick) {
  POOL_ASSERT_GE(tick, now_tick_);
  now_tick_ = tick;
  while (!far_.empty() && far_.front().tick - now_tick_ < ring_ticks) {
    std::pop_heap(far_.begin(), far_.end(), Later{});
    const FarEvent event = far_.back();
    far_.pop_back();
    POOL_ASSERT_GE(event.tick, now_tick_);
    bucket(event.tick).slots.push_back(event.action_slot);
    ring_count_ += 1;
  }
}

void Scheduler::run_next() {
  const std::optional<uint64_t> tick = earliest_tick();
  POOL_ASSERT(tick.has_value(), "no event to run");
  if (*tick != now_tick_) now_set(*tick);
  Bucket& due = bucket(now_tick_);
  POOL_ASSERT_LT(due.next, due.slots.size());
  const uint32_t slot = due.slots[due.next++];
  if (due.next == due.slots.size()) {  // Emptied: what this tick's events add starts afresh.
    due.slots.clear();
    due.next = 0;
  }
  ring_count_ -= 1;
  // Out of its slot before it runs: the action may schedule others into the slot.
  Action action = std::move(actions_[slot]);
  action_slots_free_.push_back(slot);
  events_run_ += 1;
  action();
}

void Scheduler::advance_to(uint64_t tick) {
  POOL_ASSERT_GE(tick, now_tick_);
  // No event before `tick`: the buckets it skips are empty, and so is the far heap before it.
  for (uint64_t skipped = now_tick_; skipped < tick && skipped < now_tick_ + ring_ticks;
       skipped++) {
    POOL_ASSERT(bucket(skipped).next == bucket(skipped).slots.size(),
                "an event is due before tick %llu", static_cast<unsigned long long>(tick));
  }
  POOL_ASSERT(far_.empty() || far_.front().tick >= tick, "an event is due before tick %llu",
              static_cast<unsigned long long>(tick));
  now_set(tick);
}

}  // namespace sim
