// What every simulated process shares: the options, the clock, the trace, the network, the
// failure record, and the canonical log that every replica's commits are checked against.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pool/config.h"
#include "pool/header.h"
#include "sim/failure.h"
#include "sim/network.h"
#include "sim/options.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sim {

// The committed log as the first replica to commit each op saw it. Every later commit of that
// op, by any replica, must carry the same prepare (safety).
class CommitLedger {
 public:
  // `request`: the op carries a client's request (not its registration).
  void on_commit(Failures& failures, uint32_t replica, uint64_t op, const pool::U128& checksum,
                 bool request) {
    if (op >= checksums_.size()) checksums_.resize(op + 1, pool::U128{0, 0});
    if (op > committed_max_) {
      checksums_[op] = checksum;
      committed_max_ = op;
      requests_committed_ += request;
      return;
    }
    if (checksums_[op] != checksum) {
      failures.fail({FailureKind::safety, "replica " + std::to_string(replica), std::nullopt,
                     "committed op " + std::to_string(op) +
                         " with a prepare whose checksum differs from the one committed first"});
    }
  }
  // A replica synced to the checkpoint at op: its prepare must be the one committed.
  void on_sync(Failures& failures, uint32_t replica, uint64_t op, const pool::U128& checksum) {
    if (op <= committed_max_ && checksums_[op] != checksum) {
      failures.fail({FailureKind::safety, "replica " + std::to_string(replica), std::nullopt,
                     "synced to checkpoint " + std::to_string(op) +
                         " whose prepare differs from the one committed"});
    }
  }
  uint64_t committed_max() const { return committed_max_; }
  uint64_t requests_committed() const { return requests_committed_; }

 private:
  uint64_t requests_committed_ = 0;
  std::vector<pool::U128> checksums_;
  uint64_t committed_max_ = 0;
};

struct World {
  const Options& options;
  const pool::Config config;
  Scheduler& scheduler;
  Trace& trace;
  Network& network;
  Failures& failures;
  CommitLedger& ledger;
  const uint32_t replica_count;
  const uint32_t member_count;
  const uint32_t client_count;

  uint64_t now_tick() const { return scheduler.now_tick(); }
  void record(TraceKind kind, uint32_t process, uint64_t a, uint64_t b) const {
    trace.record({scheduler.now_tick(), kind, static_cast<uint8_t>(process), 0, 0, a, b});
  }
  uint32_t client_process(uint32_t client_index) const { return member_count + client_index; }
};

}  // namespace sim
