// A timeout counted in ticks, after the original's vsr.Timeout: started, ticked, fired, then
// reset or backed off (exponentially, with jitter drawn from the owner's generator).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "pool/assertion.h"
#include "sim/core/prng.h"

namespace sim {

// A process's timeouts, for the trace of one that fired (a = its trace code). A replica's come
// first, so that their values index its array of timeouts.
enum class TimeoutKind : uint8_t {
  ping,                 // Replica: heartbeat to every other member.
  prepare,              // Replica (primary): resend the oldest unacknowledged prepare.
  normal_heartbeat,     // Replica (backup): nothing heard from the primary; leave the view.
  view_change_status,   // Replica: the view change takes too long; the next view.
  commit_message,       // Replica (primary): send a commit.
  repair,               // Replica: fetch what the log misses.
  view_change_message,  // Replica: resend exit_view and join_view.
  request_view,         // Replica: at most one get_view per period.
  client_request,       // Client: resend the request in flight.
  client_ping,          // Client: ping the replicas.
};
inline constexpr size_t replica_timeout_count = static_cast<size_t>(TimeoutKind::request_view) + 1;
const char* timeout_kind_name(TimeoutKind kind);
// The code a fired timeout records (the trace's `a`). The codes are those of the first trace
// format, kept so that every recorded seed keeps its trace hash: a replica's ping, prepare,
// normal_heartbeat and view_change_status are 0..3, a client's request timeout is 2 (codes are
// per role). Only these four and client_request are traced.
uint64_t timeout_trace_code(TimeoutKind kind);
// The timeout a trace code names for a process of this role, if any.
std::optional<TimeoutKind> timeout_from_trace_code(uint64_t code, bool client);

struct Timeout {
  uint64_t after_ticks_base;
  uint64_t after_ticks = after_ticks_base;
  uint64_t ticks = 0;
  uint32_t attempts = 0;
  bool ticking = false;

  void start() {
    POOL_ASSERT_GT(after_ticks_base, 0u);
    ticks = 0;
    attempts = 0;
    after_ticks = after_ticks_base;
    ticking = true;
    POOL_ASSERT(!fired());
  }
  void stop() { ticking = false; }
  void reset() { start(); }
  void tick() {
    if (ticking) ticks += 1;
  }
  bool fired() const { return ticking && ticks >= after_ticks; }
  // The next attempt waits longer: base + a jitter in [1, 1 + min(999, 2^attempts)].
  void backoff(Prng& prng) {
    POOL_ASSERT(ticking, "only a running timeout backs off");
    attempts += 1;
    ticks = 0;
    const uint64_t spread =
        std::min<uint64_t>(999, uint64_t{1} << std::min<uint32_t>(attempts, 20));
    after_ticks = after_ticks_base + prng.range_inclusive(1, 1 + spread);
    POOL_ASSERT_GT(after_ticks, after_ticks_base);
  }
};

}  // namespace sim
