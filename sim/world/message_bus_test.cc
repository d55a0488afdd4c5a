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
  MessageBus::Receive answer = MessageBus::Receive::done;
  uint32_t received = 0;
  uint32_t on_the_wire = 0;  // Packets the network delivered to the peers.

  Harness() {
    network.set_unlinked_delivery([this](uint32_t, uint32_t, const pool::Message&) {
      on_the_wire += 1;
      return Network::Delivery::consumed;
    });
    bus.set_on_message([this](uint32_t, pool::Message*) {
      received += 1;
      return answer;
    });
    bus.open();
  }
  ~Harness() {
    bus.close();
    network.release_all();
  }

  // A message of the replica's own pool (what a replica sends), outside the census.
  pool::Message* ping(uint8_t replica) { return testing::ping_sealed(pool, replica); }
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
  harness.pool.unref(message);
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
  harness.pool.unref(message);
}

TEST(MessageBusTcp, ASuspendedConnectionKeepsItsMessageUntilResumed) {
  Harness harness;
  pool::Message* message = harness.ping(1);
  harness.answer = MessageBus::Receive::suspend;
  EXPECT_EQ(harness.bus.deliver(1, *message), Network::Delivery::consumed);
  EXPECT_EQ(harness.bus.deliver(1, *message), Network::Delivery::busy);  // Waits on its path.
  harness.answer = MessageBus::Receive::done;
  harness.bus.resume();
  while (harness.scheduler.due(0)) harness.scheduler.run_next();
  EXPECT_EQ(harness.received, 2u);  // The suspended one again, now handled.
  EXPECT_EQ(harness.bus.deliver(1, *message), Network::Delivery::consumed);
  EXPECT_EQ(harness.received, 3u);
  harness.pool.unref(message);
}

TEST(MessageBusTcp, ClosingReleasesEveryMessage) {
  Harness harness;
  pool::Message* message = harness.ping(0);
  harness.bus.deliver(2, *message);
  harness.bus.send(1, message);
  harness.bus.close();
  EXPECT_EQ(harness.pool.used_count(), 1u);  // Only ours.
  EXPECT_EQ(message->references, 1u);
  harness.pool.unref(message);
  harness.bus.open();  // For the destructor's close.
}

}  // namespace
}  // namespace sim
