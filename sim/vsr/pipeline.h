// A replica's pipeline, after the original's PipelineQueue and PipelineCache
// (src/vsr/replica.zig): on a primary in normal status, the prepare queue (prepares in flight, in
// op order, each with the replicas whose prepare_ok arrived) and the request queue behind it; on
// a backup and during a view change, a cache of prepares by op, which a new primary loads its
// queue from. Every message here is one reference of the formula's `pipeline` term; the replica
// takes and drops those references, the pipeline keeps the pointers and checks its invariants.
#pragma once

#include <bit>
#include <cstdint>
#include <deque>
#include <vector>

#include "pool/assertion.h"
#include "pool/header.h"
#include "pool/message_pool.h"

namespace sim {

class Pipeline {
 public:
  struct Entry {
    pool::Message* prepare;
    uint64_t ok_from;  // Bitset of replicas whose prepare_ok arrived.
    bool ok_quorum_received;
  };

  Pipeline(uint32_t prepare_queue_max, uint32_t request_queue_max)
      : prepare_queue_max_(prepare_queue_max),
        request_queue_max_(request_queue_max),
        cache_(prepare_queue_max + request_queue_max, nullptr) {
    POOL_ASSERT_GT(prepare_queue_max, 0u);
    POOL_ASSERT_EQ(cache_.size(), size_t{prepare_queue_max} + request_queue_max);
  }

  // The queues (a primary's).
  std::deque<Entry>& prepares() { return prepares_; }
  const std::deque<Entry>& prepares() const { return prepares_; }
  const std::deque<pool::Message*>& requests() const { return requests_; }
  bool prepare_queue_full() const { return prepares_.size() == prepare_queue_max_; }
  bool request_queue_full() const { return requests_.size() == request_queue_max_; }
  bool queues_empty() const { return prepares_.empty() && requests_.empty(); }
  // Appends the prepare of the op after the queue's last.
  void prepare_push(const Entry& entry) {
    POOL_ASSERT(!prepare_queue_full());
    POOL_ASSERT_EQ(entry.prepare->header->frame.command, pool::Command::prepare);
    POOL_ASSERT(prepares_.empty() || op_of(entry.prepare) == op_of(prepares_.back().prepare) + 1,
                "the prepare queue's ops are consecutive");
    prepares_.push_back(entry);
  }
  // Takes the oldest prepare off the queue (it committed); the caller drops its reference.
  pool::Message* prepare_pop() {
    POOL_ASSERT(!prepares_.empty());
    pool::Message* prepare = prepares_.front().prepare;
    prepares_.pop_front();
    POOL_ASSERT_EQ(prepare->header->frame.command, pool::Command::prepare);
    return prepare;
  }
  void request_push(pool::Message* request) {
    POOL_ASSERT(!request_queue_full());
    POOL_ASSERT_EQ(request->header->frame.command, pool::Command::request);
    requests_.push_back(request);
  }
  // Empty the queues once the caller dropped their references.
  void prepares_clear() { prepares_.clear(); }
  void requests_clear() { requests_.clear(); }
  pool::Message* request_pop() {
    POOL_ASSERT(!requests_.empty());
    pool::Message* request = requests_.front();
    requests_.pop_front();
    POOL_ASSERT_EQ(request->header->frame.command, pool::Command::request);
    return request;
  }

  // The cache (a backup's, and a view change's): one slot per op modulo its size.
  uint32_t cache_size() const { return static_cast<uint32_t>(cache_.size()); }
  pool::Message*& cache_slot(uint64_t op) { return cache_[op % cache_.size()]; }
  std::vector<pool::Message*>& cache() { return cache_; }
  const std::vector<pool::Message*>& cache() const { return cache_; }
  // The cached prepare of op with this checksum, or null.
  pool::Message* cached(uint64_t op, const pool::U128& checksum) const {
    pool::Message* prepare = cache_[op % cache_.size()];
    if (prepare == nullptr) return nullptr;
    POOL_ASSERT_EQ(op_of(prepare) % cache_.size(), op % cache_.size());
    if (op_of(prepare) != op || prepare->header->frame.checksum != checksum) return nullptr;
    return prepare;
  }

  // Nothing held (after the replica released every reference at a crash).
  bool empty() const {
    if (!queues_empty()) return false;
    for (const pool::Message* prepare : cache_) {
      if (prepare != nullptr) return false;
    }
    return true;
  }

  // The invariants: bounded queues of the right commands, consecutive ops in the prepare queue,
  // acknowledgements only from replicas, and each cached prepare in its op's slot.
  void verify(uint32_t replica_count) const {
    POOL_ASSERT_LE(replica_count, 64u);  // ok_from is a 64-bit set of replicas.
    POOL_ASSERT_LE(prepares_.size(), prepare_queue_max_);
    POOL_ASSERT_LE(requests_.size(), request_queue_max_);
    for (size_t index = 0; index < prepares_.size(); index++) {
      const Entry& entry = prepares_[index];
      POOL_ASSERT_EQ(entry.prepare->header->frame.command, pool::Command::prepare);
      POOL_ASSERT(replica_count == 64 || entry.ok_from >> replica_count == 0,
                  "prepare_ok from a non-replica");
      POOL_ASSERT(!entry.ok_quorum_received || std::popcount(entry.ok_from) > 0);
      if (index > 0) POOL_ASSERT_EQ(op_of(entry.prepare), op_of(prepares_[index - 1].prepare) + 1);
    }
    for (const pool::Message* request : requests_) {
      POOL_ASSERT_EQ(request->header->frame.command, pool::Command::request);
    }
    for (size_t slot = 0; slot < cache_.size(); slot++) {
      if (cache_[slot] == nullptr) continue;
      POOL_ASSERT_EQ(cache_[slot]->header->frame.command, pool::Command::prepare);
      POOL_ASSERT_EQ(op_of(cache_[slot]) % cache_.size(), slot);
    }
  }

 private:
  static uint64_t op_of(const pool::Message* prepare) {
    return prepare->build<pool::Command::prepare>()->header->op;
  }

  uint32_t prepare_queue_max_;
  uint32_t request_queue_max_;
  std::deque<Entry> prepares_;
  std::deque<pool::Message*> requests_;
  std::vector<pool::Message*> cache_;
};

}  // namespace sim
