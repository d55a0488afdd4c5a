// The tcp bus: send queues that drop when full, client connections that make room, and
// suspended receives; every message counted in the census.
#include "sim/world/message_bus.h"

#include <gtest/gtest.h>

#include "sim/world/testing_packets.h"

namespace sim {
namespace {

using pool::Command;
using pool::Term;

// Replica 0 of a two-replica cluster with two clients (processes 2 and 3), tcp bus, one
// connection for clients.
struct Harness {
  NetworkOptions options = [] {
    NetworkOptions o;
    o.path_capacity = 8;
    o.clog_duration_ticks_mean = 1'000;
    return o;
  }();
  pool::Config config = pool::config_test_min();
  Scheduler scheduler;
  Trace trace;
  Network network{options, 3, config, scheduler, trace, 2, 2};
  pool::Options replica_options{pool::ReplicaOptions{2, 0, pool::MessageBusKind::tcp}};
  pool::MessagePool pool{config, replica_options, "replica 0"};
  Census census{pool::messages_max_terms(config, replica_options), std::nullopt};
  MessageBus bus{MessageBus::Shape{pool::MessageBusKind::tcp, 0, false, 2, 2, 1, 4}, pool, census,
                 network, scheduler};
  bool suspend = false;
  uint32_t received = 0;
  // During the last handler: the handled message's references and holders, the buffers' count.
  uint32_t handled_references = 0;
  uint32_t handled_held = 0;
  uint32_t buffers_held = 0;
  uint32_t on_the_wire = 0;  // Packets the network delivered to the peers.

  Harness() {
    network.set_unlinked_delivery([this](uint32_t, uint32_t, const pool::Message&) {
      on_the_wire += 1;
      return Network::Delivery::consumed;
    });
    bus.set_on_message([this](uint32_t, pool::Message* message) {
      received += 1;
      handled_references = message->references;
      handled_held = census.held(Holder::handled_message);
      buffers_held = census.held(Term::connection_recv_buffers);
    });
    bus.set_suspend([this](uint32_t, const pool::Header&) { return suspend; });
    bus.open();
  }
  ~Harness() {
    bus.close();
    network.release_all();
  }

  // A message of the replica's own pool (what a replica sends), held as its ping.
  pool::Message* ping(uint8_t replica) {
    return testing::ping_fill(census.acquire(pool, Holder::ping), replica);
  }
  void unref(pool::Message* message) { census.release(pool, Holder::ping, message); }
};

TEST(MessageBusTcp, AFullSendQueueDropsTheMessage) {
  Harness harness;
  pool::Message* message = harness.ping(0);
  for (int i = 0; i < 6; i++) harness.bus.send(1, message);  // Nothing drains before a tick.
  EXPECT_EQ(harness.census.held(Term::connection_send_queues), 4u);
  EXPECT_EQ(message->references, 5u);  // Ours and the queue's four.
  while (harness.scheduler.due(100)) harness.scheduler.run_next();
  EXPECT_EQ(harness.census.held(Term::connection_send_queues), 0u);
  EXPECT_EQ(harness.on_the_wire, 4u);
  harness.unref(message);
}

TEST(MessageBusTcp, ANewClientTakesTheConnectionIdleTheLongest) {
  Harness harness;
  pool::Message* message = harness.ping(0);
  EXPECT_EQ(harness.bus.connections_used(), 1u);  // The peer replica.
  harness.bus.deliver(2, *message);
  EXPECT_EQ(harness.bus.connections_used(), 2u);
  EXPECT_EQ(harness.census.held(Term::connection_recv_buffers), 2u);
  harness.bus.deliver(3, *message);  // No free slot: client 2's connection is closed.
  EXPECT_EQ(harness.bus.connections_used(), 2u);
  EXPECT_EQ(harness.census.held(Term::connection_recv_buffers), 2u);
  EXPECT_EQ(harness.received, 2u);
  harness.bus.send(2, message);  // Client 2 has no connection now: dropped.
  EXPECT_EQ(harness.census.held(Term::connection_send_queues), 0u);
  harness.unref(message);
}

TEST(MessageBusTcp, TheHandlerOwnsTheMessageBesideAFreshBuffer) {
  Harness harness;
  pool::Message* message = harness.ping(1);
  const uint32_t used_before = harness.pool.used_count();
  harness.bus.deliver(1, *message);
  EXPECT_EQ(harness.received, 1u);
  // consume_message's zero-copy path: the handler's message is the old buffer, one reference,
  // and the connection already has its next buffer.
  EXPECT_EQ(harness.handled_references, 1u);
  EXPECT_EQ(harness.handled_held, 1u);
  EXPECT_EQ(harness.buffers_held, 1u);
  EXPECT_EQ(harness.census.peak(Holder::handled_message), 1u);
  EXPECT_EQ(harness.pool.used_count(), used_before);  // The handled message went back.
  EXPECT_EQ(harness.census.held(Holder::handled_message), 0u);
  harness.unref(message);
}

TEST(MessageBusTcp, ASuspendedMessageStaysUnconsumedUntilResumed) {
  Harness harness;
  pool::Message* message = harness.ping(1);
  harness.suspend = true;
  EXPECT_EQ(harness.bus.deliver(1, *message), Network::Delivery::consumed);
  EXPECT_EQ(harness.received, 0u);  // Asked before it is consumed: no handler ran.
  EXPECT_EQ(harness.census.peak(Holder::handled_message), 0u);
  EXPECT_EQ(harness.bus.deliver(1, *message), Network::Delivery::busy);  // Waits on its path.
  harness.bus.resume();
  while (harness.scheduler.due(0)) harness.scheduler.run_next();
  EXPECT_EQ(harness.received, 0u);  // Still unwelcome.
  harness.suspend = false;
  harness.bus.resume();
  while (harness.scheduler.due(0)) harness.scheduler.run_next();
  EXPECT_EQ(harness.received, 1u);  // The suspended one, now handled.
  EXPECT_EQ(harness.bus.deliver(1, *message), Network::Delivery::consumed);
  EXPECT_EQ(harness.received, 2u);
  harness.unref(message);
}

TEST(MessageBusTcp, ClosingReleasesEveryMessage) {
  Harness harness;
  pool::Message* message = harness.ping(0);
  harness.bus.deliver(2, *message);
  harness.bus.send(1, message);
  harness.bus.close();
  EXPECT_EQ(harness.pool.used_count(), 1u);  // Only ours.
  EXPECT_EQ(message->references, 1u);
  harness.unref(message);
  harness.bus.open();  // For the destructor's close.
}

}  // namespace
}  // namespace sim
