// The run's trace: every event that changes the simulation is recorded as a small fixed record
// and folded into a running 128-bit hash chain (the determinism fingerprint). Keeping the chain
// per event lets a mismatch name the first event at which two runs diverge.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "pool/header.h"

namespace sim {

enum class TraceKind : uint8_t {
  send,             // process → peer, command, a = checksum (low 64 bits).
  deliver,          // peer → process, command, a = checksum.
  drop,             // The network or a bus dropped a packet: a = DropReason.
  invalid,          // A receiver rejected a message (bad checksum): command byte as received.
  journal_write,    // a = op, b = 1 if the write was lost.
  journal_read,     // a = op, b = 1 if the read came back corrupt.
  reply_write,      // a = client index, b = request.
  reply_read,       // a = client index, b = request.
  timeout,          // a = the timeout's code (vsr/timeout.h), b = view or request.
  prepare,          // The primary prepared op a for client b.
  commit,           // a = op, b = checksum (low 64 bits).
  request,          // Client `process` sent request a (b = attempt).
  reply,            // Client `process` received the reply to request a, op b.
  crash,            // Replica `process` crashed.
  restart,          // Replica `process` restarted.
  recovered,        // Replica `process` finished recovery: a = op, b = commit_min.
  partition,        // a = PartitionMode, b = bitset of one side.
  heal,             // The partition healed.
  clog,             // Path process → peer clogged for a ticks.
  faults_off,       // Liveness phase: faults stopped.
  view_change,      // Replica `process` left its view for view a (from view b).
  view_log_chosen,  // The new primary chose the log: a = op, b = commit_max.
  view_truncate,    // The new primary truncated its log from op a (a nack quorum; op was b).
  view_start,       // Replica `process` is normal in view a, op b.
  checkpoint,       // Checkpoint at op a: b = 0 when started, 1 when durable.
  sync_start,       // Replica `process` syncs to the checkpoint at op a (from commit b).
  sync_done,        // Replica `process` synced to the checkpoint at op a.
  block_repaired,   // A missing grid block arrived: a = blocks still missing, b = 1 if syncing.
  connection,  // A tcp connection of `process` to peer: a = its state (ConnectionState), b = slot.
};
inline constexpr size_t trace_kind_count = static_cast<size_t>(TraceKind::connection) + 1;
const char* trace_kind_name(TraceKind kind);

// The process id of the network in trace records (replicas and clients are 0..member+client-1).
inline constexpr uint8_t network_process_id = 255;

struct TraceRecord {
  uint64_t tick;
  TraceKind kind;
  uint8_t
      process;  // Process index: replicas first, then clients; network_process_id for the network.
  uint8_t peer;
  uint8_t command;
  uint64_t a;
  uint64_t b;
};

class Trace {
 public:
  // Every record is passed to `sink` as well (a line per event for --log=full or a trace file).
  using Sink = void (*)(void* context, uint64_t index, const TraceRecord& record,
                        const pool::U128& hash);

  void record(const TraceRecord& record);
  void set_sink(Sink sink, void* context) {
    sink_ = sink;
    sink_context_ = context;
  }
  // Keeps every event's record and chained hash, for an in-process comparison of two runs.
  void keep_chain(bool keep) { keep_chain_ = keep; }

  uint64_t events_count() const { return events_count_; }
  uint64_t count(TraceKind kind) const { return counts_[static_cast<size_t>(kind)]; }
  const pool::U128& hash() const { return hash_; }
  const std::vector<pool::U128>& chain() const { return chain_; }
  const std::vector<TraceRecord>& records() const { return records_; }

 private:
  pool::U128 hash_{0, 0};
  uint64_t events_count_ = 0;
  std::array<uint64_t, trace_kind_count> counts_{};
  bool keep_chain_ = false;
  std::vector<pool::U128> chain_;
  std::vector<TraceRecord> records_;
  Sink sink_ = nullptr;
  void* sink_context_ = nullptr;
};

// The index of the first event at which two chains differ (a prefix counts as differing at its
// end), or nullopt if they are equal.
std::optional<size_t> first_divergence(const std::vector<pool::U128>& a,
                                       const std::vector<pool::U128>& b);

// "tick 120 r1 deliver from r0 prepare a=... b=...", for logs and divergence reports.
// `member_count`: the replicas and standbys (the processes before the clients).
std::string trace_record_describe(const TraceRecord& record, uint32_t member_count);
// 32 hex digits.
std::string hash_hex(const pool::U128& hash);

}  // namespace sim
