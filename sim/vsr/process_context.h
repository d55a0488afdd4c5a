// What every process of a cluster is given (the harness builds it): the run's seed, the
// constants, the cluster's shape, the clock, the trace, the network its bus links to, and the
// callback through which it reports what checkers check (the original's on_replica_event in
// src/testing/cluster.zig). A process never calls a checker.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "pool/config.h"
#include "pool/header.h"
#include "pool/message_pool.h"
#include "sim/core/scheduler.h"
#include "sim/core/trace.h"
#include "sim/world/network.h"

namespace sim {

// Processes 0..member_count-1 are the replicas (0..replica_count-1) and the standbys; then the
// clients.
struct ClusterShape {
  uint32_t replica_count;
  uint32_t member_count;
  uint32_t client_count;

  uint32_t client_process(uint32_t client_index) const { return member_count + client_index; }
};

enum class ProcessEventKind : uint8_t {
  committed,       // A replica executed the prepare at op.
  synced,          // A replica adopted the checkpoint at op through state sync.
  reply_accepted,  // A client took the reply to its request in flight.
};

// One event; the pointers and spans live only during the callback.
struct ProcessEvent {
  ProcessEventKind kind;
  uint32_t process;  // committed, synced: the replica's index; reply_accepted: the client's.
  uint64_t op = 0;
  pool::U128 checksum{0, 0};     // committed, synced: the prepare's (at op).
  bool carries_request = false;  // committed: the op carries a client's request (not a register).
  const pool::RequestHeader* request_header = nullptr;  // reply_accepted: the request...
  std::span<const uint8_t> request_body{};              // ...its body...
  const pool::ReplyHeader* reply_header = nullptr;      // ...and the reply...
  std::span<const uint8_t> reply_body{};                // ...with its body.
};

struct ProcessContext {
  uint64_t seed;  // Each process derives its generator from it (prng.h's streams).
  pool::MessageBusKind bus;
  pool::Config config;
  ClusterShape shape;
  Scheduler& scheduler;
  Trace& trace;
  Network& network;
  // Returns false when a checker found the event wrong: the run fails after the current event,
  // and the process goes no further with what the event was about (as if an assertion of the
  // original's had stopped it).
  std::function<bool(const ProcessEvent&)> on_event;

  uint64_t now_tick() const { return scheduler.now_tick(); }
  void record(TraceKind kind, uint32_t process, uint64_t a, uint64_t b) const {
    POOL_ASSERT_LT(process, shape.member_count + shape.client_count);
    trace.record({scheduler.now_tick(), kind, static_cast<uint8_t>(process), 0, 0, a, b});
  }
  [[nodiscard]] bool report(const ProcessEvent& event) const {
    POOL_ASSERT(on_event != nullptr, "no event callback installed");
    return on_event(event);
  }
};

}  // namespace sim
