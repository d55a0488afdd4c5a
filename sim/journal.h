// A replica's journal: the in-memory headers of its log (by op) and the WAL's IO slots. Each
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
#include "sim/census.h"
#include "sim/storage.h"

namespace sim {

class Journal {
 public:
  // Why a read is issued: repairs for peers may not take the reads the commit path needs.
  enum class ReadPurpose : uint8_t { commit, repair, recovery };
  // The read prepare (verified: checksum, command, op), or null if the slot held something else.
  using ReadDone = std::function<void(pool::Message* prepare)>;
  using WriteDone = std::function<void(uint64_t op)>;

  struct Entry {
    std::optional<pool::PrepareHeader> header;  // Known header of op (from a prepare or peers).
    bool prepared = false;                      // On disk (as far as the replica knows).
    bool writing = false;
  };

  Journal(Storage& storage, pool::MessagePool& pool, Census& census, const pool::Config& config);

  uint32_t slot_count() const { return static_cast<uint32_t>(entries_.size()); }
  Entry& entry(uint64_t op);
  const Entry& entry(uint64_t op) const;
  // The header of op if known.
  const pool::PrepareHeader* header(uint64_t op) const;
  void set_header(const pool::PrepareHeader& header);
  bool has_prepare(uint64_t op, const pool::U128& checksum) const;

  uint32_t writes_available() const;
  uint32_t reads_available(ReadPurpose purpose) const;

  // Writes `prepare` (a reference is held until done). Requires writes_available() > 0.
  void write_prepare(pool::Message* prepare, WriteDone done);
  // Reads op's slot into a new message, or returns false if no read slot is free for `purpose`.
  bool read_prepare(uint64_t op, const pool::U128& checksum, ReadPurpose purpose, ReadDone done);
  // Reads slot `slot` whatever it holds (recovery); done gets the prepare or null.
  bool read_slot(uint32_t slot, ReadDone done);

  // A crash: every IO slot lets go of its message (the disk forgets pending IOs), and the
  // in-memory headers are gone.
  void crash();
  uint32_t reads_in_flight() const { return reads_in_flight_; }

 private:
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
