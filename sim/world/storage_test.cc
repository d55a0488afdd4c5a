// The simulated disk: what is written reads back, a faulty disk loses writes, a crash forgets
// pending IO, and faults off is state (the options stay as given).
#include "sim/world/storage.h"

#include <gtest/gtest.h>

#include "sim/world/testing_packets.h"

namespace sim {
namespace {

struct Harness {
  StorageOptions options;
  Scheduler scheduler;
  pool::MessagePool pool{pool::config_test_min(), 4, "replica 1"};

  void run() {
    while (scheduler.due(scheduler.now_tick() + 1000)) scheduler.run_next();
  }
};

TEST(Storage, AWriteReadsBack) {
  Harness harness;
  harness.options.write_latency_ticks_max = 5;
  Storage storage(harness.options, 1, harness.scheduler, 1, false, 4, 1, 2);
  pool::Message* written = testing::ping_sealed(harness.pool, 1);
  bool lost = true;
  storage.write(Zone::wal_prepares, 2, *written, [&lost](bool was_lost) { lost = was_lost; });
  harness.run();
  EXPECT_FALSE(lost);
  EXPECT_EQ(storage.wal_slots_written(), 3u);
  pool::Message* read = harness.pool.get_message();
  bool corrupt = true;
  storage.read(Zone::wal_prepares, 2, *read,
               [&corrupt](bool was_corrupt) { corrupt = was_corrupt; });
  harness.run();
  EXPECT_FALSE(corrupt);
  EXPECT_EQ(read->header->frame.checksum, written->header->frame.checksum);
  harness.pool.unref(read);
  harness.pool.unref(written);
}

// Two disks that write the same message keep one copy of it; another write to one disk's slot
// leaves the other's bytes as they were.
TEST(Storage, DisksShareTheBytesOfOneMessageAndNothingElse) {
  Harness harness;
  DiskBytesStore store;
  Storage first(harness.options, 1, harness.scheduler, 1, false, 4, 1, 2, &store);
  Storage second(harness.options, 1, harness.scheduler, 2, false, 4, 1, 2, &store);
  pool::Message* written = testing::ping_sealed(harness.pool, 1);
  first.write(Zone::wal_prepares, 0, *written, [](bool) {});
  second.write(Zone::wal_prepares, 0, *written, [](bool) {});
  harness.run();
  EXPECT_EQ(store.copies_count(), 1u);
  pool::Message* other = testing::ping_sealed(harness.pool, 2);
  ASSERT_NE(other->header->frame.checksum, written->header->frame.checksum);
  first.write(Zone::wal_prepares, 0, *other, [](bool) {});
  harness.run();
  EXPECT_EQ(store.copies_count(), 2u);
  pool::Message* read = harness.pool.get_message();
  second.read(Zone::wal_prepares, 0, *read, [](bool) {});
  harness.run();
  EXPECT_EQ(read->header->frame.checksum, written->header->frame.checksum);
  first.read(Zone::wal_prepares, 0, *read, [](bool) {});
  harness.run();
  EXPECT_EQ(read->header->frame.checksum, other->header->frame.checksum);
  harness.pool.unref(read);
  harness.pool.unref(other);
  harness.pool.unref(written);
}

TEST(Storage, AFaultyDiskLosesWritesUntilFaultsStop) {
  Harness harness;
  harness.options.write_fault_ppm = 1'000'000;
  Storage storage(harness.options, 1, harness.scheduler, 1, true, 4, 1, 2);
  uint32_t lost = 0;
  storage.write_bytes(Zone::grid, 0, {1, 2, 3}, [&lost](bool was_lost) { lost += was_lost; });
  harness.run();
  EXPECT_EQ(lost, 1u);
  storage.faults_off();
  EXPECT_FALSE(storage.faults_on());
  storage.write_bytes(Zone::grid, 0, {1, 2, 3}, [&lost](bool was_lost) { lost += was_lost; });
  harness.run();
  EXPECT_EQ(lost, 1u);  // The second write lands.
  std::vector<uint8_t> bytes;
  storage.read_bytes(Zone::grid, 0, [&bytes](std::vector<uint8_t> read, bool) { bytes = read; });
  harness.run();
  EXPECT_EQ(bytes, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(Storage, ACrashForgetsPendingIo) {
  Harness harness;
  Storage storage(harness.options, 1, harness.scheduler, 1, false, 4, 1, 2);
  bool done = false;
  storage.write_bytes(Zone::grid, 1, {9}, [&done](bool) { done = true; });
  storage.crash();
  harness.run();
  EXPECT_FALSE(done);
  std::vector<uint8_t> bytes = {0};
  storage.read_bytes(Zone::grid, 1, [&bytes](std::vector<uint8_t> read, bool) { bytes = read; });
  harness.run();
  EXPECT_TRUE(bytes.empty());  // Never written.
}

TEST(Storage, TheSuperblockZoneKeepsItsBytes) {
  Harness harness;
  Storage storage(harness.options, 1, harness.scheduler, 1, false, 4, 1, 2);
  EXPECT_TRUE(storage.superblock_read().empty());
  storage.superblock_write({4, 5, 6});
  storage.crash();  // Durable at once.
  EXPECT_EQ(storage.superblock_read(), (std::vector<uint8_t>{4, 5, 6}));
}

}  // namespace
}  // namespace sim
