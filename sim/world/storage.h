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
#include "sim/core/prng.h"
#include "sim/core/scheduler.h"
#include "sim/world/disk_bytes.h"

namespace sim {

enum class Zone : uint8_t { wal_prepares, client_replies, grid };

// A disk's latencies and faults. Probabilities are parts per million, latencies ticks.
struct StorageOptions {
  uint64_t read_latency_ticks_min = 1;
  uint64_t read_latency_ticks_max = 1;
  uint64_t write_latency_ticks_min = 1;
  uint64_t write_latency_ticks_max = 1;
  uint64_t read_fault_ppm = 0;   // The read returns corrupt bytes (on a faulty disk).
  uint64_t write_fault_ppm = 0;  // The write is lost (on a faulty disk).
};

class Storage {
 public:
  // `faulty`: this disk may lose writes and corrupt reads (a minority of replicas are faulty).
  // `seed` is the run's: each disk draws from a stream of its own. `store` keeps the bytes of
  // messages written, shared with the cluster's other disks (a store of its own if null).
  Storage(const StorageOptions& options, uint64_t seed, Scheduler& scheduler, uint32_t replica,
          bool faulty, uint32_t wal_slot_count, uint32_t client_count, uint32_t grid_slot_count,
          DiskBytesStore* store = nullptr);

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

  // IO of the grid that touches no block this model keeps (the state machine's prefetch, the
  // forest's compaction): done runs after a read's latency, never after a crash.
  void grid_io(std::function<void()> done);

  // A crash: pending IOs never complete (their writes are lost).
  void crash() { incarnation_ += 1; }
  // The convergence phase: fast (one tick) and faultless. The options stay as given.
  void faults_off();
  bool faults_on() const { return faults_on_; }

  // Slots written at least once, for recovery (the real thing reads every slot).
  uint32_t wal_slots_written() const { return wal_slots_written_; }
  uint32_t wal_slot_count() const { return static_cast<uint32_t>(wal_.size()); }
  uint32_t grid_slot_count() const { return static_cast<uint32_t>(grid_.size()); }
  // This disk may have lost writes (even after faults stopped): recovery cannot trust its head.
  bool may_have_lost_writes() const { return faulty_; }

  // The superblock zone: the replica's durable state apart from its zones above, as bytes
  // (vsr/superblock.h encodes it). Written whole, durable at once, and never faulty.
  void superblock_write(std::vector<uint8_t> bytes) { superblock_ = std::move(bytes); }
  const std::vector<uint8_t>& superblock_read() const { return superblock_; }
  // The WAL's redundant headers, one per slot (the original writes them beside the prepares):
  // the journal's headers as they were at a crash. Durable at once and never faulty here; the
  // prepares themselves are written with latency and may be lost or corrupt.
  std::vector<std::optional<pool::PrepareHeader>> wal_headers;

 private:
  DiskBytes& slot_bytes(Zone zone, uint32_t slot);
  void write_after_latency(Zone zone, uint32_t slot, std::function<DiskBytes()> bytes,
                           std::function<void(bool lost)> done);

  // A latency option as it applies now: one tick once faults stop.
  uint64_t latency_ticks(uint64_t option_ticks) const { return faults_on_ ? option_ticks : 1; }
  // A read or write on this disk may be struck (a faulty disk while faults are on).
  bool faults_strike() const { return faulty_ && faults_on_; }

  const StorageOptions options_;
  bool faults_on_ = true;
  Scheduler& scheduler_;
  Prng prng_;
  const bool faulty_;
  uint64_t incarnation_ = 0;
  std::unique_ptr<DiskBytesStore> own_store_;  // When the disk shares with no other.
  DiskBytesStore& store_;
  // Null while unwritten.
  std::vector<DiskBytes> wal_;
  std::vector<DiskBytes> client_replies_;
  std::vector<DiskBytes> grid_;
  uint32_t wal_slots_written_ = 0;
  std::vector<uint8_t> superblock_;
};

}  // namespace sim
