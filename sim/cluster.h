// The simulation: builds a cluster from Options (replicas, standbys, clients, one network, one
// storage per replica, one pool per process sized by the formula), runs it tick by tick through
// a requests phase with faults and a convergence phase without. The checkers (checkers.h) see
// every commit, sync and accepted reply as the processes report them (safety, replies); the
// census every hold (no holder beyond its term's bound) and the pools every exhaustion; a crash
// and the end, leaks; the convergence phase, liveness. The result is a Summary with per-pool and
// per-term peaks and the trace hash.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pool/message_pool.h"
#include "sim/checkers.h"
#include "sim/core/census.h"
#include "sim/core/failure.h"
#include "sim/core/prng.h"
#include "sim/core/scheduler.h"
#include "sim/core/trace.h"
#include "sim/options.h"
#include "sim/vsr/client.h"
#include "sim/vsr/process_context.h"
#include "sim/vsr/replica.h"
#include "sim/world/network.h"
#include "sim/world/storage.h"

namespace sim {

struct TermPeak {
  pool::Term term;
  uint32_t peak;  // References.
  uint32_t bound;
  uint32_t distinct_peak;  // Distinct messages whose primary holder is of this term.
};

struct HolderPeak {
  Holder holder;
  uint32_t peak;  // References.
  uint32_t distinct_peak;
};

struct PoolSummary {
  std::string owner;  // "replica 0", "standby 3", "client 1", "network".
  uint32_t messages_max;
  uint32_t peak;
  std::string census_at_peak;       // What held the pool at its peak.
  std::vector<TermPeak> terms;      // Empty for the network.
  std::vector<HolderPeak> holders;  // Every holder the run reached.
  // The transients' shared allowance ("burst+commit_reply"): its references' peak and bound.
  std::string transients_name;
  uint32_t transients_peak = 0;
  uint32_t transients_bound = 0;
};

struct Summary {
  Options options;
  bool passed = false;
  std::optional<Failure> failure;
  pool::U128 trace_hash{0, 0};
  uint64_t ticks = 0;
  uint64_t events = 0;
  uint64_t ops_committed = 0;       // Ops in the committed log (registrations included).
  uint64_t requests_committed = 0;  // Of those, the clients' requests.
  uint64_t requests_answered = 0;   // Replies the clients accepted (registrations excluded).
  uint64_t crashes = 0;
  uint64_t view_changes = 0;   // Replicas that left a view.
  uint64_t views_started = 0;  // Replicas that became normal in a new view (or its primary).
  uint64_t view_truncations = 0;
  uint64_t checkpoints = 0;  // Checkpoints started, over every replica.
  uint64_t syncs = 0;        // State syncs completed.
  uint64_t blocks_repaired = 0;
  std::vector<PoolSummary> pools;
};

class Cluster {
 public:
  // Runs when a pool is exhausted (the pool aborts after it returns): the CLI writes its
  // summary and exits 1 here.
  using FatalHandler = std::function<void(const Summary&)>;

  explicit Cluster(const Options& options);
  ~Cluster();

  void set_fatal_handler(FatalHandler handler) { fatal_handler_ = std::move(handler); }
  Trace& trace() { return trace_; }

  // Sees every change of a pool's use and of its terms' holders, at the tick it happens, for a
  // run's trace. `process` numbers as TraceRecord's (network_process_id for the network, whose
  // census is null). Set before run().
  using OccupancyObserver =
      std::function<void(uint64_t tick, uint8_t process, uint32_t used, const Census* census)>;
  void set_occupancy_observer(const OccupancyObserver& observer);
  // Called once when the run ends, before teardown releases every message (a run's trace ends
  // there, so that teardown's releases do not show as events of the run).
  void set_run_end_observer(std::function<void(uint64_t tick)> observer) {
    run_end_observer_ = std::move(observer);
  }
  // The pools by process: owner ("replica 0", "standby 3", "client 1") and messages_max; then
  // the network's.
  std::vector<std::pair<std::string, uint32_t>> pool_owners() const;

  // Runs to the end (pass or first failure) and tears down. Call once.
  Summary run();

 private:
  struct ProcessPool {
    std::string owner;
    std::unique_ptr<pool::MessagePool> pool;
    std::unique_ptr<Census> census;
  };

  void build_pool(ProcessPool& process, const std::string& owner, const pool::Options& options);
  void build_replicas();
  void build_clients();
  // What the processes report goes to the checkers that subscribe to it.
  bool on_event(const ProcessEvent& event);
  void tick_faults();
  void restart_due(uint64_t tick);
  // The requests phase ends (every request answered, or its ticks spent): faults stop.
  void faults_stop(uint64_t tick, bool requests_done);
  void teardown();
  Summary summarize() const;
  [[noreturn]] void exhausted(const ProcessPool& process);

  Options options_;
  pool::Config config_;
  Scheduler scheduler_;
  Trace trace_;
  Failures failures_;
  CommitChecker commits_;
  ReplyChecker replies_;
  LivenessChecker liveness_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<ProcessContext> context_;
  std::vector<ProcessPool> pools_;  // Replicas and standbys, then clients.
  DiskBytesStore disk_bytes_;       // Shared by the disks; outlives them.
  std::vector<std::unique_ptr<Storage>> storages_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<std::unique_ptr<Client>> clients_;
  ConvergenceChecker convergence_;
  std::vector<uint64_t> restart_tick_;
  Prng cluster_prng_;
  uint64_t crashes_ = 0;
  bool faults_on_ = true;
  bool torn_down_ = false;
  FatalHandler fatal_handler_;
  std::function<void(uint64_t tick)> run_end_observer_;
};

}  // namespace sim
