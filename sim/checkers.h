// The run's checkers (the original's src/testing/cluster/state_checker.zig and the VOPR's
// liveness mode). The commit and reply checkers subscribe to what the processes report
// (ProcessEvent); the leak, convergence and liveness checks read the processes' public state.
// None reaches into a process's privates; each records what it finds in the run's Failures.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pool/header.h"
#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/core/failure.h"
#include "sim/vsr/client.h"
#include "sim/vsr/process_context.h"
#include "sim/vsr/replica.h"

namespace sim {

// Safety: the committed log as the first replica to commit each op saw it. Every later commit of
// that op, by any replica, and every checkpoint a replica syncs to, must carry the same prepare.
class CommitChecker {
 public:
  explicit CommitChecker(Failures& failures) : failures_(failures) {}
  // Takes committed and synced events (false: the prepare differs); ignores the others.
  bool on_event(const ProcessEvent& event);
  uint64_t committed_max() const { return committed_max_; }
  uint64_t requests_committed() const { return requests_committed_; }

 private:
  bool on_commit(const ProcessEvent& event);
  bool on_sync(const ProcessEvent& event);

  Failures& failures_;
  uint64_t requests_committed_ = 0;
  std::vector<pool::U128> checksums_;  // By op; the root's (op 0) is zero.
  uint64_t committed_max_ = 0;
};

// Every reply a client accepts answers its request: the request's checksum and operation, an op
// later than the client's previous reply's, and (for echo) the state machine's digest of it.
class ReplyChecker {
 public:
  ReplyChecker(Failures& failures, uint32_t client_count)
      : failures_(failures), reply_op_last_(client_count, 0) {}
  // Takes reply_accepted events (false: the reply does not answer the request); ignores the
  // others. A client's last op moves only with a reply that passes, as the client's own does.
  bool on_event(const ProcessEvent& event);

 private:
  // What is wrong with the reply, or empty.
  std::string mismatch(const ProcessEvent& event) const;

  Failures& failures_;
  std::vector<uint64_t> reply_op_last_;  // By client.
};

// The pool is full again (after a crash released everything, or at teardown): else a leak.
// `when` ends the detail: "after a crash released everything", "at teardown". Returns true if
// the pool was full.
bool check_no_leak(Failures& failures, const std::string& owner, const pool::MessagePool& pool,
                   const Census& census, const char* when);

// Convergence: every client done, every replica normal in the latest view with its primary's log
// and commit, nothing missing.
class ConvergenceChecker {
 public:
  ConvergenceChecker(const std::vector<std::unique_ptr<Replica>>& replicas,
                     const std::vector<std::unique_ptr<Client>>& clients, uint32_t replica_count)
      : replicas_(replicas), clients_(clients), replica_count_(replica_count) {}
  bool converged() const;
  // Grows with every commit, every new op and every reply a client accepts.
  uint64_t progress() const;
  // Who keeps the cluster from converging: the clients not done and the replicas behind.
  std::string waiters() const;

 private:
  const Replica* primary() const;
  static bool replica_converged(const Replica& replica, const Replica& primary);

  const std::vector<std::unique_ptr<Replica>>& replicas_;
  const std::vector<std::unique_ptr<Client>>& clients_;
  const uint32_t replica_count_;
};

// Liveness, as the original's: once faults stop, a budget of ticks without progress; a long
// workload may take long, a stuck one fails.
class LivenessChecker {
 public:
  explicit LivenessChecker(uint64_t ticks_max) : ticks_max_(ticks_max) {}
  // The budget starts (faults just stopped).
  void start(uint64_t tick) { progress_tick_ = tick; }
  // Returns false once `ticks_max` ticks passed without the progress figure changing.
  bool observe(uint64_t tick, uint64_t progress);
  uint64_t ticks_max() const { return ticks_max_; }

 private:
  const uint64_t ticks_max_;
  uint64_t progress_ = 0;
  uint64_t progress_tick_ = 0;
};

}  // namespace sim
