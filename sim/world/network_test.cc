// The packet simulator's faults, one at a time, on a two-replica network.
#include "sim/world/network.h"

#include <gtest/gtest.h>

#include <vector>

#include "sim/world/testing_packets.h"

namespace sim {
namespace {

using pool::Command;

struct Harness {
  static constexpr uint64_t seed = 9;
  NetworkOptions options;
  pool::Config config = pool::config_test_min();
  Scheduler scheduler;
  Trace trace;
  std::unique_ptr<Network> network;
  pool::MessagePool sender{config, 4, "sender"};
  std::vector<std::pair<uint32_t, uint32_t>> delivered;  // (from, to)
  uint32_t invalid = 0;

  explicit Harness(const NetworkOptions& given) : options(given) {
    network = std::make_unique<Network>(options, seed, config, scheduler, trace, 2, 0);
    network->set_unlinked_delivery([this](uint32_t from, uint32_t to, const pool::Message& packet) {
      const auto body = packet.buffer.subspan(pool::header_size);
      if (pool::message_invalid(*packet.header, body, config)) {
        invalid += 1;
      } else {
        delivered.emplace_back(from, to);
      }
      return Network::Delivery::consumed;
    });
  }
  ~Harness() { network->release_all(); }

  void send(uint32_t from, uint32_t to) {
    pool::Message* ping = testing::ping_sealed(sender, static_cast<uint8_t>(from));
    network->submit(from, to, *ping);
    sender.unref(ping);  // The sender's reference goes at once: the network has its copy.
  }
  void run_ticks(uint64_t ticks) {
    const uint64_t end = scheduler.now_tick() + ticks;
    for (uint64_t tick = scheduler.now_tick(); tick <= end; tick++) {
      scheduler.advance_to(tick);
      network->tick();
      while (scheduler.due(tick)) scheduler.run_next();
    }
  }
};

NetworkOptions calm() {
  NetworkOptions options;
  options.path_capacity = 8;
  options.delay_ticks_min = 1;
  options.delay_ticks_mean = 3;
  return options;
}

TEST(Network, PacketsAreCopiesInItsOwnPool) {
  Harness harness(calm());
  harness.send(0, 1);
  EXPECT_EQ(harness.sender.used_count(), 0u);
  EXPECT_EQ(harness.network->pool().used_count(), 1u);
  harness.run_ticks(20);
  EXPECT_EQ(harness.delivered.size(), 1u);
  EXPECT_EQ(harness.network->pool().used_count(), 0u);
  EXPECT_EQ(harness.network->pool_peak(), 1u);
}

TEST(Network, AFullPathDropsAQueuedPacket) {
  NetworkOptions options = calm();
  options.path_capacity = 2;
  Harness harness(options);
  for (int i = 0; i < 5; i++) harness.send(0, 1);
  EXPECT_EQ(harness.network->pool().used_count(), 2u);
  harness.run_ticks(20);
  EXPECT_EQ(harness.delivered.size(), 2u);
}

TEST(Network, LossDropsAtDelivery) {
  NetworkOptions options = calm();
  options.packet_loss_ppm = 1'000'000;
  Harness harness(options);
  for (int i = 0; i < 4; i++) harness.send(0, 1);
  harness.run_ticks(20);
  EXPECT_TRUE(harness.delivered.empty());
  EXPECT_EQ(harness.network->pool().used_count(), 0u);
}

TEST(Network, CorruptionIsCaughtByTheReceiversChecksums) {
  NetworkOptions options = calm();
  options.packet_corrupt_ppm = 1'000'000;
  Harness harness(options);
  for (int i = 0; i < 6; i++) harness.send(0, 1);
  harness.run_ticks(20);
  EXPECT_TRUE(harness.delivered.empty());
  EXPECT_EQ(harness.invalid, 6u);
}

TEST(Network, ReplayDeliversDuplicates) {
  NetworkOptions options = calm();
  options.packet_replay_ppm = 500'000;
  Harness harness(options);
  for (int i = 0; i < 4; i++) harness.send(0, 1);
  harness.run_ticks(200);
  EXPECT_GT(harness.delivered.size(), 4u);
}

TEST(Network, ASymmetricPartitionCutsBothWaysAnAsymmetricOneWay) {
  for (PartitionSymmetry symmetry : {PartitionSymmetry::symmetric, PartitionSymmetry::asymmetric}) {
    NetworkOptions options = calm();
    options.partition_mode = PartitionMode::isolate_single;
    options.partition_symmetry = symmetry;
    options.partition_ppm = 1'000'000;
    Harness harness(options);
    harness.run_ticks(150);  // A partition forms once the network has been whole long enough.
    harness.send(0, 1);
    harness.send(1, 0);
    harness.run_ticks(20);
    EXPECT_EQ(harness.delivered.size(), symmetry == PartitionSymmetry::symmetric ? 0u : 1u);
    harness.network->faults_off();  // Heals.
    harness.send(0, 1);
    harness.send(1, 0);
    harness.run_ticks(20);
    EXPECT_EQ(harness.delivered.size(), symmetry == PartitionSymmetry::symmetric ? 2u : 3u);
  }
}

TEST(Network, AClogHoldsPacketsUntilItClears) {
  NetworkOptions options = calm();
  options.path_clog_ppm = 1'000'000;
  options.clog_duration_ticks_mean = 5'000;
  Harness harness(options);
  harness.run_ticks(3);  // Both paths clog (one a tick).
  ASSERT_TRUE(harness.network->clogged(0, 1) || harness.network->clogged(1, 0));
  const uint32_t from = harness.network->clogged(0, 1) ? 0 : 1;
  harness.send(from, 1 - from);
  harness.run_ticks(50);
  EXPECT_TRUE(harness.delivered.empty());
  harness.network->faults_off();
  harness.run_ticks(5'000 * 2);
  EXPECT_EQ(harness.delivered.size(), 1u);
}

}  // namespace
}  // namespace sim
