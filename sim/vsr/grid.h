// A replica's grid: the blocks of its checkpoints in the storage's grid zone (a ring of two
// checkpoints' worth), the blocks it misses (lost or corrupt writes, or every block of a
// checkpoint it syncs to), and the reads that serve peers' repairs. A checkpoint's first block
// holds the client sessions; the others stand for the rest of the state (the original's LSM
// blocks). Only the reads that serve a peer take messages from the pool (grid_repair_reads, at
// most grid_repair_reads_max at once, as the original's Replica.grid_reads); the grid's own
// writes and scrubs use buffers of its own, as the original's grid cache does.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "pool/header.h"
#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/vsr/superblock.h"
#include "sim/world/storage.h"

namespace sim {

struct Checkpoint {
  uint64_t op = 0;
  pool::U128 checksum{0, 0};  // Of the prepare at op.
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

class Grid {
 public:
  Grid(Storage& storage, pool::MessagePool& pool, Census& census, const pool::Config& config,
       uint64_t checkpoint_interval_ops, uint32_t blocks_per_checkpoint, uint32_t client_count);

  uint32_t blocks_per_checkpoint() const { return blocks_per_checkpoint_; }
  uint64_t block_address(uint64_t checkpoint_op, uint32_t index) const;

  // Writes the checkpoint's blocks; done runs once every write has completed (a lost write
  // shows at the scrub that follows).
  // `header`: the prepare at the checkpoint's op, which the first block carries too.
  void checkpoint_write(const Checkpoint& checkpoint, const pool::PrepareHeader& header,
                        const std::vector<ClientSession>& sessions, std::function<void()> done);
  // Reads the checkpoint's blocks back; each that is corrupt or stale becomes missing.
  void scrub(const Checkpoint& checkpoint, std::function<void()> done);
  // Every block of `checkpoint` is missing (state sync); the sessions come with its first block.
  // A zero checksum: any checksum, the first block received names it for the others.
  void sync_to(const Checkpoint& checkpoint);
  // Blocks still missing, for a get_blocks request.
  std::vector<pool::BlockRequest> missing() const;
  bool missing_any() const { return !missing_.empty(); }
  // Every block of the checkpoint being synced to has arrived and is written.
  bool synced() const;
  // A block at `address` is missing and not being written: on_block would take it.
  bool wants(uint64_t address) const;
  // A block from a peer: if it is one the grid misses, it is verified and written; done runs
  // when the write completes. Returns false if the block was not wanted.
  bool on_block(const pool::Message& block, std::function<void()> done);
  // Repair writes in flight are at their limit: a block waits in the bus (the original's
  // grid_repair_writes, constants.grid_repair_writes_max; our config has the reads' figure).
  bool repair_writes_full() const { return repair_writes_in_flight_ >= repair_writes_max_; }
  // The checkpoint being synced to, with the checksum its blocks name.
  Checkpoint synced_checkpoint() const { return synced_; }
  // The prepare header the last synced checkpoint's first block carried.
  const pool::PrepareHeader& synced_header() const { return synced_header_; }
  // The sessions the last synced checkpoint's first block carried.
  const std::vector<ClientSession>& synced_sessions() const { return synced_sessions_; }

  // Serves a peer's request: reads the block into a message of the pool (grid_repair_reads)
  // and calls send with it when the read verifies. False if every read slot is busy or the
  // block is not one of the grid's.
  bool serve(const pool::BlockRequest& request, std::function<void(pool::Message* block)> send);
  uint32_t reads_in_flight() const { return reads_in_flight_; }

  // The current checkpoint moved: blocks of checkpoints before the previous one are gone.
  void set_current(const Checkpoint& checkpoint);
  // A crash: the serving reads let go of their messages; what the grid misses is forgotten
  // (recovery scrubs again).
  void crash();

 private:
  struct Missing {
    uint64_t address;
    Checkpoint checkpoint;
    bool writing;  // Received: its write is in flight.
  };
  struct Read {
    pool::Message* message = nullptr;
  };
  uint32_t slot(uint64_t address) const {
    return static_cast<uint32_t>((address - 1) % (2 * blocks_per_checkpoint_));
  }
  // The block's bytes: a block header and a body (the sessions, or filler).
  std::vector<uint8_t> block_bytes(const Checkpoint& checkpoint, uint32_t index,
                                   const pool::PrepareHeader& header,
                                   const std::vector<ClientSession>& sessions) const;
  // The block verifies and is `address` of `checkpoint`.
  bool block_valid(std::span<const uint8_t> bytes, uint64_t address,
                   const Checkpoint* checkpoint) const;
  bool ours(uint64_t address) const;

  Storage& storage_;
  pool::MessagePool& pool_;
  Census& census_;
  const pool::Config config_;
  const uint64_t checkpoint_interval_ops_;
  const uint32_t blocks_per_checkpoint_;
  const uint32_t client_count_;
  Checkpoint current_;
  std::vector<Missing> missing_;
  std::vector<ClientSession> synced_sessions_;
  pool::PrepareHeader synced_header_{};
  Checkpoint synced_;
  std::vector<Read> reads_;
  uint32_t reads_in_flight_ = 0;
  uint32_t repair_writes_in_flight_ = 0;
  uint32_t repair_writes_max_;
  uint64_t incarnation_ = 0;
};

// A checkpoint's first block's body: the checkpoint's prepare header, then the sessions.
std::vector<ClientSession> sessions_decode(std::span<const uint8_t> body, uint32_t client_count);

}  // namespace sim
