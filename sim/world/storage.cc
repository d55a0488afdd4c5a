#include "sim/world/storage.h"

#include <algorithm>
#include <cstring>

namespace sim {

namespace {
constexpr uint64_t ppm = 1'000'000;
}

Storage::Storage(const StorageOptions& options, uint64_t seed, Scheduler& scheduler,
                 uint32_t replica, bool faulty, uint32_t wal_slot_count, uint32_t client_count,
                 uint32_t grid_slot_count, DiskBytesStore* store)
    : wal_headers(wal_slot_count),
      options_(options),
      scheduler_(scheduler),
      prng_(prng_for(seed, PrngStream::storage_base, replica)),
      faulty_(faulty),
      own_store_(store == nullptr ? std::make_unique<DiskBytesStore>() : nullptr),
      store_(store == nullptr ? *own_store_ : *store),
      wal_(wal_slot_count),
      client_replies_(client_count),
      grid_(grid_slot_count) {
  POOL_ASSERT_GT(wal_slot_count, 0u);
  POOL_ASSERT(options.read_latency_ticks_min >= 1 &&
                  options.read_latency_ticks_min <= options.read_latency_ticks_max &&
                  options.write_latency_ticks_min >= 1 &&
                  options.write_latency_ticks_min <= options.write_latency_ticks_max,
              "latencies are ranges of at least one tick");
}

DiskBytes& Storage::slot_bytes(Zone zone, uint32_t slot) {
  std::vector<DiskBytes>& slots = zone == Zone::wal_prepares     ? wal_
                                  : zone == Zone::client_replies ? client_replies_
                                                                 : grid_;
  POOL_ASSERT_LT(slot, slots.size());
  return slots[slot];
}

void Storage::write(Zone zone, uint32_t slot, const pool::Message& message,
                    std::function<void(bool lost)> done) {
  // The caller's IOPS slot keeps the message alive until done runs.
  POOL_ASSERT_GT(message.references, 0u);
  POOL_ASSERT_LE(message.header->frame.size, message.buffer.size());
  const pool::Message* source = &message;
  write_after_latency(
      zone, slot,
      [this, source] {
        return store_.keep(source->header->frame.checksum,
                           source->buffer.first(source->header->frame.size));
      },
      std::move(done));
}

void Storage::write_bytes(Zone zone, uint32_t slot, std::vector<uint8_t> bytes,
                          std::function<void(bool lost)> done) {
  // Not a message: no checksum to find another disk's copy by.
  auto kept = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  write_after_latency(
      zone, slot, [kept = std::move(kept)] { return kept; }, std::move(done));
}

void Storage::write_after_latency(Zone zone, uint32_t slot, std::function<DiskBytes()> bytes,
                                  std::function<void(bool lost)> done) {
  POOL_ASSERT(bytes != nullptr && done != nullptr);
  const uint64_t latency = prng_.range_inclusive(latency_ticks(options_.write_latency_ticks_min),
                                                 latency_ticks(options_.write_latency_ticks_max));
  const bool lost = faults_strike() && prng_.chance(options_.write_fault_ppm, ppm);
  scheduler_.schedule_after(latency, [this, zone, slot, lost, bytes = std::move(bytes),
                                      done = std::move(done), incarnation = incarnation_] {
    if (incarnation != incarnation_) return;
    if (!lost) {
      slot_bytes(zone, slot) = bytes();
      if (zone == Zone::wal_prepares) wal_slots_written_ = std::max(wal_slots_written_, slot + 1);
    }
    done(lost);
  });
}

void Storage::read(Zone zone, uint32_t slot, pool::Message& into,
                   std::function<void(bool corrupted)> done) {
  const uint64_t latency = prng_.range_inclusive(latency_ticks(options_.read_latency_ticks_min),
                                                 latency_ticks(options_.read_latency_ticks_max));
  const bool corrupt = faults_strike() && prng_.chance(options_.read_fault_ppm, ppm);
  const uint64_t corrupt_at = prng_.next();
  pool::Message* target = &into;
  scheduler_.schedule_after(latency, [this, zone, slot, target, corrupt, corrupt_at,
                                      done = std::move(done), incarnation = incarnation_] {
    if (incarnation != incarnation_) return;
    const DiskBytes& kept = slot_bytes(zone, slot);
    const size_t kept_size = kept ? kept->size() : 0;
    // The header is always read whole; an unwritten slot reads as zeros.
    std::memset(target->buffer.data(), 0, pool::header_size);
    POOL_ASSERT_LE(kept_size, target->buffer.size());
    if (kept_size > 0) std::memcpy(target->buffer.data(), kept->data(), kept_size);
    const size_t size = std::max<size_t>(kept_size, pool::header_size);
    if (corrupt) target->buffer[corrupt_at % size] ^= 0x5A;
    done(corrupt);
  });
}

void Storage::grid_io(std::function<void()> done) {
  POOL_ASSERT(done != nullptr);
  const uint64_t latency = prng_.range_inclusive(latency_ticks(options_.read_latency_ticks_min),
                                                 latency_ticks(options_.read_latency_ticks_max));
  scheduler_.schedule_after(latency, [this, done = std::move(done), incarnation = incarnation_] {
    if (incarnation == incarnation_) done();
  });
}

void Storage::read_bytes(Zone zone, uint32_t slot,
                         std::function<void(std::vector<uint8_t> bytes, bool corrupted)> done) {
  const uint64_t latency = prng_.range_inclusive(latency_ticks(options_.read_latency_ticks_min),
                                                 latency_ticks(options_.read_latency_ticks_max));
  const bool corrupt = faults_strike() && prng_.chance(options_.read_fault_ppm, ppm);
  const uint64_t corrupt_at = prng_.next();
  scheduler_.schedule_after(latency, [this, zone, slot, corrupt, corrupt_at, done = std::move(done),
                                      incarnation = incarnation_] {
    if (incarnation != incarnation_) return;
    const DiskBytes& kept = slot_bytes(zone, slot);
    std::vector<uint8_t> bytes = kept ? *kept : std::vector<uint8_t>();
    if (corrupt && !bytes.empty()) bytes[corrupt_at % bytes.size()] ^= 0x5A;
    done(std::move(bytes), corrupt);
  });
}

void Storage::faults_off() {
  POOL_ASSERT(faults_on_, "faults stop once");
  faults_on_ = false;
}

}  // namespace sim
