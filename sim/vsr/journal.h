// A replica's journal: the in-memory headers of its log and the WAL's IO slots. The WAL is a ring:
// op lives in slot op % slot_count, so an op is known only while its slot holds it. Each
// write in flight holds a reference to the prepare being written (journal_iops_write_max slots);
// each read in flight holds a message of its own (journal_iops_read_max slots, of which repairs
// for peers may use all but two, kept for the commit path, as in the original).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "pool/header.h"
#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/world/storage.h"

namespace sim {

class Journal {
 public:
  // Why a read is issued: repairs for peers may not take the reads the commit path needs.
  enum class ReadPurpose : uint8_t { commit, repair, recovery };
  // The read prepare (verified: checksum, command, op), or null if the slot held something else.
  using ReadDone = std::function<void(pool::Message* prepare)>;
  using WriteDone = std::function<void(uint64_t op)>;

  Journal(Storage& storage, pool::MessagePool& pool, Census& census, const pool::Config& config);

  uint32_t slot_count() const { return static_cast<uint32_t>(entries_.size()); }
  // The header of op if known (its slot's header is op's). Inline: the replica's log walks call
  // it for every op they pass.
  const pool::PrepareHeader* header(uint64_t op) const {
    const Entry& slot = entry(op);
    if (!slot.header || slot.header->op != op) return nullptr;
    return &*slot.header;
  }
  // Op's prepare is on disk (as far as the replica knows).
  bool prepared(uint64_t op) const { return header(op) != nullptr && entry(op).prepared; }
  // A write to op's slot is in flight.
  bool writing(uint64_t op) const { return entry(op).writing; }
  bool has_prepare(uint64_t op, const pool::U128& checksum) const;
  // Makes `header` op's header; it counts as prepared if the slot is known to hold it.
  void set_header(const pool::PrepareHeader& header);
  // Forgets op's header (stale: another view's, or it does not chain).
  void remove_header(uint64_t op);
  // A read found op's slot corrupt or stale: the prepare must be repaired.
  void mark_faulty(uint64_t op);
  // Recovery: the headers come back from the WAL's durable header ring ...
  void recover_headers();
  // ... and each slot read intact says which prepare the slot holds.
  void slot_observed(const pool::PrepareHeader& prepare);
  // The highest op with a header (0 if none).
  uint64_t op_max() const;
  // The slot of op holds a prepare of op (as far as the replica knows).
  bool slot_holds(uint64_t op) const { return entry(op).slot_op == op; }
  uint32_t writes_available() const;
  uint32_t reads_available(ReadPurpose purpose) const;

  // Writes `prepare` (a reference is held until done). Requires writes_available() > 0.
  void write_prepare(pool::Message* prepare, WriteDone done);
  // Reads op's slot into a new message, or returns false if no read slot is free for `purpose`.
  bool read_prepare(uint64_t op, const pool::U128& checksum, ReadPurpose purpose, ReadDone done);
  // Reads slot `slot` whatever it holds (recovery); done gets the prepare (verified) or null.
  bool read_slot(uint32_t slot, ReadDone done);

  // A crash: every IO slot lets go of its message (the disk forgets pending IOs), and the
  // in-memory headers are gone.
  void crash();
  uint32_t reads_in_flight() const { return reads_in_flight_; }

 private:
  struct Entry {
    std::optional<pool::PrepareHeader> header;  // Known header of the slot's op.
    pool::U128 slot_checksum{0, 0};             // What the slot holds (as far as we know).
    uint64_t slot_op = 0;                       // The op of what the slot holds (0: none).
    bool prepared = false;                      // The slot holds header.
    bool writing = false;
  };
  Entry& entry(uint64_t op) { return entries_[op % entries_.size()]; }
  const Entry& entry(uint64_t op) const { return entries_[op % entries_.size()]; }
  // Every header change is mirrored into the durable header ring.
  void header_durable(uint64_t op);

  struct WriteIo {
    pool::Message* message = nullptr;
  };
  struct ReadIo {
    pool::Message* message = nullptr;
  };
  bool read_start(uint32_t slot, std::optional<uint64_t> op, const pool::U128* checksum,
                  ReadPurpose purpose, ReadDone done);

  Storage& storage_;
  pool::MessagePool& pool_;
  Census& census_;
  const pool::Config config_;
  std::vector<Entry> entries_;
  std::vector<WriteIo> writes_;
  std::vector<ReadIo> reads_;
  uint32_t reads_in_flight_ = 0;
  uint32_t reads_repair_in_flight_ = 0;
};

}  // namespace sim
