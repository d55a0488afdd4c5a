#include "sim/core/scheduler.h"

#include <algorithm>

#include "pool/assertion.h"

namespace sim {

void Scheduler::schedule(uint64_t tick, Action action) {
  POOL_ASSERT_GE(tick, now_tick_);
  queue_.push_back(Event{tick, sequence_next_++, std::move(action)});
  std::push_heap(queue_.begin(), queue_.end(), later);
}

void Scheduler::run_next() {
  POOL_ASSERT(!queue_.empty());
  std::pop_heap(queue_.begin(), queue_.end(), later);
  Event event = std::move(queue_.back());
  queue_.pop_back();
  POOL_ASSERT_GE(event.tick, now_tick_);
  now_tick_ = event.tick;
  events_run_ += 1;
  event.action();
}

void Scheduler::advance_to(uint64_t tick) {
  POOL_ASSERT_GE(tick, now_tick_);
  POOL_ASSERT(queue_.empty() || queue_.front().tick >= tick, "an event is due before tick %llu",
              static_cast<unsigned long long>(tick));
  now_tick_ = tick;
}

}  // namespace sim
