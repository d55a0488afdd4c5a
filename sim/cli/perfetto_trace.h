// A run as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing open
// (sim --trace-out). One process track per replica, standby and client, and one for the network,
// on simulated time (one tick shows as one millisecond):
// - slices: a replica down, recovering, in a view change, syncing; a client's request until its
//   reply; a network partition until it heals;
// - instants: prepares, commits, checkpoints, crashes, a new view's log and truncation, resends;
// - counters: each pool's messages in use and each formula term's holders, the network's packets
//   in flight. Several changes within one tick show as the tick's maximum at the tick and the
//   value it ends with half a tick later, so every counter's maximum is the summary's peak.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "sim/core/census.h"
#include "sim/core/trace.h"

namespace sim {

class PerfettoTrace {
 public:
  // Opens `path` (the caller has checked it may be written); `owners` as Cluster::pool_owners(),
  // whose messages_max each process's labels show.
  using Owners = std::vector<std::pair<std::string, uint32_t>>;  // (owner, messages_max).
  static absl::StatusOr<std::unique_ptr<PerfettoTrace>> open(const std::string& path,
                                                             const Owners& owners, uint64_t seed);
  ~PerfettoTrace();

  void record(const TraceRecord& record);
  // The occupancy of process `process`'s pool (census null for the network).
  void occupancy(uint64_t tick, uint8_t process, uint32_t used, const Census* census);
  // Ends open slices at `tick` and completes the file. False if a write failed (or finished).
  bool finish(uint64_t tick);
  // Completes the file at the last tick seen: for a run that dies of an assertion.
  void abandon();

 private:
  bool record_replica(const TraceRecord& record);
  void record_workload(const TraceRecord& record);
  struct Counter {
    int pid;
    std::string name;
    int64_t last_written = -1;
    uint32_t value = 0;
    uint32_t tick_max = 0;
    bool dirty = false;
  };
  struct Slice {
    uint64_t start_tick;
    std::string name;
    nlohmann::json args;
  };

  PerfettoTrace(std::FILE* file, const Owners& owners);
  int pid_of(uint8_t process) const;
  void write(const nlohmann::json& event);
  void instant(int pid, int tid, uint64_t tick, const std::string& name, nlohmann::json args);
  void slice_begin(int pid, int tid, uint64_t tick, const std::string& name, nlohmann::json args);
  void slice_end(int pid, int tid, uint64_t tick);
  size_t counter_add(int pid, std::string name);  // Its index; written as zero at time zero.
  // The term's counters (references, distinct messages) of pid, as the census has them now.
  void term_counters_set(int pid, const Census& census, pool::Term term);
  void counter_set(size_t counter, uint32_t value);  // Nothing to do if it holds value already.
  void counters_flush();

  std::FILE* file_;
  size_t member_count_ = 0;  // Replicas and standbys: process indices below are members.
  size_t pool_count_ = 0;    // Members and clients.
  bool first_event_ = true;
  uint64_t tick_ = 0;       // Of the counters' pending changes.
  uint64_t tick_last_ = 0;  // The latest tick seen.
  std::vector<Counter> counters_;
  // (pid, term) → its counters: references, and distinct messages.
  std::map<std::pair<int, pool::Term>, std::pair<size_t, size_t>> term_counters_;
  std::map<int, uint32_t> pool_peaks_;                // pid → the pool peak last marked.
  std::map<std::pair<int, int>, Slice> open_slices_;  // (pid, tid) → slice.
  std::vector<size_t> dirty_;
};

}  // namespace sim
