// A replica's own options (the harness composes them into sim::Options).
#pragma once

#include <cstdint>

namespace sim {

struct ReplicaOptions {
  // Requests the primary queues behind its prepare queue (the pool's formula pays for them).
  uint64_t pipeline_requests_limit = 0;
  // A checkpoint every checkpoint_interval_ops commits (the WAL holds two intervals), each of
  // checkpoint_block_count grid blocks (the first holds the client sessions).
  uint64_t checkpoint_interval_ops = 64;
  uint64_t checkpoint_block_count = 2;
};

}  // namespace sim
