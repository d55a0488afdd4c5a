// A replica's simulated disk: a WAL zone of prepare slots (a ring), a client-replies zone of one
// slot per client, a grid zone of checkpoint blocks (two checkpoints' worth, a ring) and the
// superblock. Reads and writes complete after a latency drawn from a range; on a faulty storage
// a write may be lost (the slot keeps its old bytes) and a read may return corrupt bytes, both of
// which the replica's checksums detect. The disk holds bytes, never messages: each IO's message
// reference belongs to the caller's IOPS slot until the completion runs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "pool/message_pool.h"
#include "sim/options.h"
#include "sim/prng.h"
#include "sim/scheduler.h"
#include "sim/superblock.h"

namespace sim {

enum class Zone : uint8_t { wal_prepares, client_replies, grid };

class Storage {
 public:
  // `faulty`: this disk may lose writes and corrupt reads (a minority of replicas are faulty).
  Storage(const Options& options, Scheduler& scheduler, uint32_t replica, bool faulty,
          uint32_t wal_slot_count, uint32_t client_count, uint32_t grid_slot_count);

  // Copies `message` into the slot when the write completes, then calls done(lost).
  void write(Zone zone, uint32_t slot, const pool::Message& message,
             std::function<void(bool lost)> done);
  // The same for bytes that are not in a message (the grid's own block buffers).
  void write_bytes(Zone zone, uint32_t slot, std::vector<uint8_t> bytes,
                   std::function<void(bool lost)> done);
  // Copies the slot into `into` when the read completes, then calls done(corrupted). An
  // unwritten slot reads as zeros (whose checksum never verifies).
  void read(Zone zone, uint32_t slot, pool::Message& into,
            std::function<void(bool corrupted)> done);
  // Reads the slot's bytes (empty if never written) into a buffer of the caller's.
  void read_bytes(Zone zone, uint32_t slot,
                  std::function<void(std::vector<uint8_t> bytes, bool corrupted)> done);

  // A crash: pending IOs never complete (their writes are lost).
  void crash() { incarnation_ += 1; }
  // The convergence phase: fast and faultless.
  void faults_off();

  // Slots written at least once, for recovery (the real thing reads every slot).
  uint32_t wal_slots_written() const { return wal_slots_written_; }
  uint32_t wal_slot_count() const { return static_cast<uint32_t>(wal_.size()); }
  uint32_t grid_slot_count() const { return static_cast<uint32_t>(grid_.size()); }
  // This disk may have lost writes (even after faults stopped): recovery cannot trust its head.
  bool may_have_lost_writes() const { return faulty_from_start_; }

  // Durable at once, and never faulty (see superblock.h).
  Superblock superblock;
  // The WAL's redundant headers, one per slot (the original writes them beside the prepares):
  // the journal's headers as they were at a crash. Durable at once and never faulty here; the
  // prepares themselves are written with latency and may be lost or corrupt.
  std::vector<std::optional<pool::PrepareHeader>> wal_headers;

 private:
  std::vector<uint8_t>& slot_bytes(Zone zone, uint32_t slot);
  void write_after_latency(Zone zone, uint32_t slot,
                           std::function<void(std::vector<uint8_t>&)> copy,
                           std::function<void(bool lost)> done);

  Options options_;
  Scheduler& scheduler_;
  Prng prng_;
  bool faulty_;
  const bool faulty_from_start_;
  uint64_t incarnation_ = 0;
  std::vector<std::vector<uint8_t>> wal_;
  std::vector<std::vector<uint8_t>> client_replies_;
  std::vector<std::vector<uint8_t>> grid_;
  uint32_t wal_slots_written_ = 0;
};

}  // namespace sim
