#include "sim/vsr/journal.h"

#include <algorithm>

namespace sim {

using pool::Term;

Journal::Journal(Storage& storage, pool::MessagePool& pool, Census& census,
                 const pool::Config& config)
    : storage_(storage),
      pool_(pool),
      census_(census),
      config_(config),
      entries_(storage.wal_slot_count()),
      writes_(config.journal_iops_write_max),
      reads_(config.journal_iops_read_max) {
  POOL_ASSERT_GT(entries_.size(), 0u);
  POOL_ASSERT_EQ(storage.wal_headers.size(), entries_.size());
  POOL_ASSERT(!writes_.empty() && !reads_.empty(), "the journal needs IOPS to read and write");
}

void Journal::set_header(const pool::PrepareHeader& header) {
  POOL_ASSERT_EQ(header.frame.command, pool::Command::prepare);
  POOL_ASSERT_GT(header.op, 0u);
  Entry& slot = entry(header.op);
  if (slot.header && slot.header->frame.checksum == header.frame.checksum) return;
  slot.header = header;
  slot.prepared = slot.slot_checksum == header.frame.checksum;
  POOL_ASSERT(!slot.prepared || slot.slot_op == header.op);
  header_durable(header.op);
  POOL_ASSERT(this->header(header.op) != nullptr, "op %llu's header is not there after set",
              static_cast<unsigned long long>(header.op));
}

void Journal::header_durable(uint64_t op) {
  storage_.wal_headers[op % entries_.size()] = entry(op).header;
}

void Journal::remove_header(uint64_t op) {
  if (header(op) == nullptr) return;
  Entry& slot = entry(op);
  slot.header.reset();
  slot.prepared = false;
  header_durable(op);
  POOL_ASSERT(header(op) == nullptr && !prepared(op));
  POOL_ASSERT(!storage_.wal_headers[op % entries_.size()].has_value());
}

void Journal::mark_faulty(uint64_t op) {
  if (header(op) == nullptr) return;
  Entry& slot = entry(op);
  slot.prepared = false;
  slot.slot_checksum = pool::U128{0, 0};
  slot.slot_op = 0;
  POOL_ASSERT(header(op) != nullptr, "a faulty slot keeps its header: repair needs it");
  POOL_ASSERT(!prepared(op) && !slot_holds(op));
}

void Journal::recover_headers() {
  POOL_ASSERT_EQ(reads_in_flight_, 0u);
  for (size_t i = 0; i < entries_.size(); i++) {
    POOL_ASSERT(!entries_[i].prepared && !entries_[i].writing, "recovery after a crash only");
    entries_[i].header = storage_.wal_headers[i];
  }
}

void Journal::slot_observed(const pool::PrepareHeader& prepare) {
  POOL_ASSERT_EQ(prepare.frame.command, pool::Command::prepare);
  POOL_ASSERT_GT(prepare.op, 0u);
  Entry& slot = entry(prepare.op);
  slot.slot_checksum = prepare.frame.checksum;
  slot.slot_op = prepare.op;
  slot.prepared = slot.header && slot.header->op == prepare.op &&
                  slot.header->frame.checksum == prepare.frame.checksum;
  POOL_ASSERT(!slot.writing, "a slot is observed only by recovery, when nothing writes");
}

uint64_t Journal::op_max() const {
  uint64_t op = 0;
  for (size_t index = 0; index < entries_.size(); index++) {
    const Entry& slot = entries_[index];
    if (!slot.header) continue;
    POOL_ASSERT_EQ(slot.header->op % entries_.size(), index);
    op = std::max(op, slot.header->op);
  }
  pool::maybe(op == 0);  // A fresh WAL, or one whose every header went stale.
  return op;
}

bool Journal::has_prepare(uint64_t op, const pool::U128& checksum) const {
  const pool::PrepareHeader* known = header(op);
  return known != nullptr && known->frame.checksum == checksum && entry(op).prepared;
}

uint32_t Journal::writes_available() const {
  const auto available = static_cast<uint32_t>(std::count_if(
      writes_.begin(), writes_.end(), [](const WriteIo& io) { return io.message == nullptr; }));
  POOL_ASSERT_LE(available, writes_.size());
  POOL_ASSERT_EQ(writes_.size() - available, census_.held(Term::journal_writes));
  return available;
}

uint32_t Journal::reads_available(ReadPurpose purpose) const {
  const auto total = static_cast<uint32_t>(reads_.size());
  POOL_ASSERT_LE(reads_in_flight_, total);
  POOL_ASSERT_LE(reads_repair_in_flight_, reads_in_flight_);
  if (purpose == ReadPurpose::repair) {
    const uint32_t repair_max = total > 2 ? total - 2 : 1;
    const uint32_t free = total - reads_in_flight_;
    return std::min(free, repair_max - std::min(repair_max, reads_repair_in_flight_));
  }
  return total - reads_in_flight_;
}

void Journal::write_prepare(pool::Message* prepare, WriteDone done) {
  const auto io = std::find_if(writes_.begin(), writes_.end(),
                               [](const WriteIo& w) { return w.message == nullptr; });
  POOL_ASSERT(io != writes_.end(), "write_prepare without a free write slot");
  const uint64_t op = prepare->build<pool::Command::prepare>()->header->op;
  POOL_ASSERT_GT(op, 0u);
  Entry& slot = entry(op);
  POOL_ASSERT(!slot.writing);
  slot.writing = true;
  io->message = census_.hold(Holder::journal_write, prepare);
  const auto index = static_cast<size_t>(io - writes_.begin());
  const pool::U128 checksum = prepare->header->frame.checksum;
  storage_.write(Zone::wal_prepares, static_cast<uint32_t>(op % entries_.size()), *prepare,
                 [this, index, op, checksum, done = std::move(done)](bool) {
                   pool::Message* message = writes_[index].message;
                   POOL_ASSERT(message != nullptr && message->header->frame.checksum == checksum,
                               "a write completes with the prepare it started with");
                   writes_[index].message = nullptr;
                   Entry& written = entry(op);
                   written.writing = false;
                   // A lost write goes unnoticed until a read finds the slot stale.
                   written.slot_checksum = checksum;
                   written.slot_op = op;
                   written.prepared = written.header && written.header->op == op &&
                                      written.header->frame.checksum == checksum;
                   // As the original: the slot is free for the callback, the unref after it.
                   census_.release_later(Holder::journal_write, message);
                   done(op);
                   census_.unref_later(pool_, message);
                 });
}

bool Journal::read_prepare(uint64_t op, const pool::U128& checksum, ReadPurpose purpose,
                           ReadDone done) {
  POOL_ASSERT_GT(op, 0u);
  POOL_ASSERT(purpose != ReadPurpose::recovery, "recovery reads slots (read_slot)");
  return read_start(static_cast<uint32_t>(op % entries_.size()), op, &checksum, purpose,
                    std::move(done));
}

bool Journal::read_slot(uint32_t slot, ReadDone done) {
  return read_start(slot, std::nullopt, nullptr, ReadPurpose::recovery, std::move(done));
}

bool Journal::read_start(uint32_t slot, std::optional<uint64_t> op, const pool::U128* checksum,
                         ReadPurpose purpose, ReadDone done) {
  POOL_ASSERT_LT(slot, entries_.size());
  POOL_ASSERT_EQ(op.has_value(), checksum != nullptr);
  // A repair read takes its message before it checks the repair budget, and drops it if the
  // budget is spent (read_prepare_with_op_and_checksum, journal.zig:772-773, 797-801); the
  // commit path's callers check for a free read first (journal.zig:731).
  pool::Message* taken = nullptr;
  if (purpose == ReadPurpose::repair) {
    taken = census_.acquire(pool_, Holder::journal_read_before_budget);
    if (reads_available(purpose) == 0) {
      census_.release(pool_, Holder::journal_read_before_budget, taken);
      return false;
    }
    census_.transfer(Holder::journal_read_before_budget, Holder::journal_read, taken);
  } else {
    if (reads_available(purpose) == 0) return false;
    taken = census_.acquire(pool_, Holder::journal_read);
  }
  const auto io = std::find_if(reads_.begin(), reads_.end(),
                               [](const ReadIo& r) { return r.message == nullptr; });
  POOL_ASSERT(io != reads_.end());
  io->message = taken;
  reads_in_flight_ += 1;
  if (purpose == ReadPurpose::repair) reads_repair_in_flight_ += 1;
  const auto index = static_cast<size_t>(io - reads_.begin());
  const pool::U128 expected = checksum != nullptr ? *checksum : pool::U128{0, 0};
  storage_.read(Zone::wal_prepares, slot, *io->message,
                [this, index, op, expected, purpose, done = std::move(done)](bool) {
                  pool::Message* message = reads_[index].message;
                  POOL_ASSERT(message != nullptr);
                  POOL_ASSERT_GT(reads_in_flight_, 0u);
                  reads_[index].message = nullptr;
                  reads_in_flight_ -= 1;
                  if (purpose == ReadPurpose::repair) reads_repair_in_flight_ -= 1;
                  const pool::Header& header = *message->header;
                  bool valid = !pool::message_invalid(
                                    header, message->buffer.subspan(pool::header_size), config_)
                                    .has_value() &&
                               header.frame.command == pool::Command::prepare;
                  if (valid && op) {
                    const auto* prepare = message->build<pool::Command::prepare>();
                    valid = prepare->header->op == *op && header.frame.checksum == expected;
                  }
                  census_.release_later(Holder::journal_read, message);
                  done(valid ? message : nullptr);
                  census_.unref_later(pool_, message);
                });
  return true;
}

void Journal::crash() {
  for (WriteIo& io : writes_) {
    if (io.message != nullptr) census_.release(pool_, Holder::journal_write, io.message);
    io.message = nullptr;
  }
  for (ReadIo& io : reads_) {
    if (io.message != nullptr) census_.release(pool_, Holder::journal_read, io.message);
    io.message = nullptr;
  }
  reads_in_flight_ = 0;
  reads_repair_in_flight_ = 0;
  entries_.assign(entries_.size(), Entry{});
  POOL_ASSERT_EQ(census_.held(Term::journal_writes), 0u);
  POOL_ASSERT_EQ(census_.held(Term::journal_reads), 0u);
}

}  // namespace sim
