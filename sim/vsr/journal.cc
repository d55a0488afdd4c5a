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
      reads_(config.journal_iops_read_max) {}

const pool::PrepareHeader* Journal::header(uint64_t op) const {
  const Entry& slot = entry(op);
  if (!slot.header || slot.header->op != op) return nullptr;
  return &*slot.header;
}

void Journal::set_header(const pool::PrepareHeader& header) {
  Entry& slot = entry(header.op);
  if (slot.header && slot.header->frame.checksum == header.frame.checksum) return;
  slot.header = header;
  slot.prepared = slot.slot_checksum == header.frame.checksum;
  header_durable(header.op);
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
}

void Journal::mark_faulty(uint64_t op) {
  if (header(op) == nullptr) return;
  Entry& slot = entry(op);
  slot.prepared = false;
  slot.slot_checksum = pool::U128{0, 0};
  slot.slot_op = 0;
}

void Journal::recover_headers() {
  for (size_t i = 0; i < entries_.size(); i++) entries_[i].header = storage_.wal_headers[i];
}

void Journal::slot_observed(const pool::PrepareHeader& prepare) {
  Entry& slot = entry(prepare.op);
  slot.slot_checksum = prepare.frame.checksum;
  slot.slot_op = prepare.op;
  slot.prepared = slot.header && slot.header->op == prepare.op &&
                  slot.header->frame.checksum == prepare.frame.checksum;
}

uint64_t Journal::op_max() const {
  uint64_t op = 0;
  for (const Entry& slot : entries_) {
    if (slot.header) op = std::max(op, slot.header->op);
  }
  return op;
}

bool Journal::has_prepare(uint64_t op, const pool::U128& checksum) const {
  const pool::PrepareHeader* known = header(op);
  return known != nullptr && known->frame.checksum == checksum && entry(op).prepared;
}

uint32_t Journal::writes_available() const {
  return static_cast<uint32_t>(std::count_if(
      writes_.begin(), writes_.end(), [](const WriteIo& io) { return io.message == nullptr; }));
}

uint32_t Journal::reads_available(ReadPurpose purpose) const {
  const auto total = static_cast<uint32_t>(reads_.size());
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
  Entry& slot = entry(op);
  POOL_ASSERT(!slot.writing);
  slot.writing = true;
  io->message = census_.hold(Term::journal_writes, prepare);
  const auto index = static_cast<size_t>(io - writes_.begin());
  const pool::U128 checksum = prepare->header->frame.checksum;
  storage_.write(Zone::wal_prepares, static_cast<uint32_t>(op % entries_.size()), *prepare,
                 [this, index, op, checksum, done = std::move(done)](bool) {
                   pool::Message* message = writes_[index].message;
                   writes_[index].message = nullptr;
                   Entry& written = entry(op);
                   written.writing = false;
                   // A lost write goes unnoticed until a read finds the slot stale.
                   written.slot_checksum = checksum;
                   written.slot_op = op;
                   written.prepared = written.header && written.header->op == op &&
                                      written.header->frame.checksum == checksum;
                   // As the original: the slot is free for the callback, the unref after it.
                   census_.release_later(Term::journal_writes);
                   done(op);
                   census_.unref_later(pool_, message);
                 });
}

bool Journal::read_prepare(uint64_t op, const pool::U128& checksum, ReadPurpose purpose,
                           ReadDone done) {
  return read_start(static_cast<uint32_t>(op % entries_.size()), op, &checksum, purpose,
                    std::move(done));
}

bool Journal::read_slot(uint32_t slot, ReadDone done) {
  return read_start(slot, std::nullopt, nullptr, ReadPurpose::recovery, std::move(done));
}

bool Journal::read_start(uint32_t slot, std::optional<uint64_t> op, const pool::U128* checksum,
                         ReadPurpose purpose, ReadDone done) {
  if (reads_available(purpose) == 0) return false;
  const auto io = std::find_if(reads_.begin(), reads_.end(),
                               [](const ReadIo& r) { return r.message == nullptr; });
  POOL_ASSERT(io != reads_.end());
  io->message = census_.acquire(pool_, Term::journal_reads);
  reads_in_flight_ += 1;
  if (purpose == ReadPurpose::repair) reads_repair_in_flight_ += 1;
  const auto index = static_cast<size_t>(io - reads_.begin());
  const pool::U128 expected = checksum != nullptr ? *checksum : pool::U128{0, 0};
  storage_.read(Zone::wal_prepares, slot, *io->message,
                [this, index, op, expected, purpose, done = std::move(done)](bool) {
                  pool::Message* message = reads_[index].message;
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
                  census_.release_later(Term::journal_reads);
                  done(valid ? message : nullptr);
                  census_.unref_later(pool_, message);
                });
  return true;
}

void Journal::crash() {
  for (WriteIo& io : writes_) {
    if (io.message != nullptr) census_.release(pool_, Term::journal_writes, io.message);
    io.message = nullptr;
  }
  for (ReadIo& io : reads_) {
    if (io.message != nullptr) census_.release(pool_, Term::journal_reads, io.message);
    io.message = nullptr;
  }
  reads_in_flight_ = 0;
  reads_repair_in_flight_ = 0;
  entries_.assign(entries_.size(), Entry{});
}

}  // namespace sim
