// The tcp bus as the original's (src/message_bus.zig at 52ad553f9): connecting with queued sends
// and backoff, accepting into a table with a spare slot, reclaiming, terminating with a suspended
// message, reconnecting to a crashed peer; every message counted in the census. Two members
// (replicas 0 and 1) and six clients, real buses on a calm network.
#include "sim/world/message_bus.h"

#include <gtest/gtest.h>

#include <memory>

#include "sim/world/testing_packets.h"

namespace sim {
namespace {

using pool::Term;

constexpr uint32_t member_count = 2;
constexpr uint32_t client_count = 6;
constexpr uint32_t requests_limit = 0;  // clients_limit = pipeline_prepare_queue_max (4) + 0.

// The pool options of process `process`: a client's, or a replica's of this cluster.
pool::Options pool_options(uint32_t process) {
  if (process >= member_count) return pool::ClientOptions{};
  return pool::ReplicaOptions{member_count, requests_limit, pool::MessageBusKind::tcp};
}

struct Node {
  Node(const pool::Config& config, uint32_t process, Network& network, Scheduler& scheduler)
      : client(process >= member_count),
        pool(config, pool_options(process), "node"),
        census(pool, pool::messages_max_terms(config, pool_options(process)), std::nullopt),
        bus(MessageBus::Shape{pool::MessageBusKind::tcp, process, client, member_count,
                              member_count,
                              client ? 0 : config.pipeline_prepare_queue_max + requests_limit,
                              client ? config.connection_send_queue_max_client
                                     : config.connection_send_queue_max_replica(),
                              7},
            pool, census, network, scheduler) {
    census.set_breach_handler([this](const Census::Breach& breach) { breaches.push_back(breach); });
    bus.set_on_message([this](uint32_t, pool::Message*) { received += 1; });
    bus.set_suspend([this](uint32_t, const pool::Header&) { return suspend; });
    network.link(process, bus);
  }
  ~Node() { bus.close(); }

  // A ping of this node's pool, sent and let go.
  void send_ping(uint32_t to) {
    pool::Message* message = testing::ping_fill(census.acquire(pool, Holder::ping), 0);
    bus.send(to, message);
    census.release(pool, Holder::ping, message);
  }
  uint32_t buffers() const { return census.held(Term::connection_recv_buffers); }
  uint32_t queued() const { return census.held(Term::connection_send_queues); }

  const bool client;
  pool::MessagePool pool;
  Census census;
  MessageBus bus;
  uint32_t received = 0;
  bool suspend = false;
  std::vector<Census::Breach> breaches;
};

struct World {
  pool::Config config = pool::config_test_min();
  Scheduler scheduler;
  Trace trace;
  Network network{[] {
                    NetworkOptions o;
                    o.path_capacity = 8;
                    return o;
                  }(),
                  3,
                  config,
                  scheduler,
                  trace,
                  member_count,
                  client_count};
  std::vector<std::unique_ptr<Node>> nodes;

  World() {
    for (uint32_t process = 0; process < member_count + client_count; process++) {
      nodes.push_back(std::make_unique<Node>(config, process, network, scheduler));
    }
  }
  ~World() {
    nodes.clear();
    network.release_all();
  }
  Node& replica(uint32_t index) { return *nodes[index]; }
  Node& client(uint32_t index) { return *nodes[member_count + index]; }
  void open(uint32_t process) { nodes[process]->bus.open(); }
  // Each tick: the events due, then every open bus's tick (as the processes' ticks).
  void run(uint64_t ticks) {
    for (uint64_t i = 0; i < ticks; i++) {
      const uint64_t tick = scheduler.now_tick() + 1;
      while (scheduler.due(tick)) scheduler.run_next();
      scheduler.advance_to(tick);
      for (auto& node : nodes) node->bus.tick();
    }
  }
};

TEST(MessageBusTcp, BackoffStaysWithinItsBoundsAndGrows) {
  Prng prng(1);
  uint64_t widest = 0;
  for (uint64_t attempt = 0; attempt < 70; attempt++) {
    const uint64_t ms = exponential_backoff_with_jitter(prng, 50, 1000, attempt);
    EXPECT_GE(ms, 50u);
    EXPECT_LE(ms, 1000u);
    widest = std::max(widest, ms);
  }
  EXPECT_GT(widest, 500u);  // Later attempts draw from the whole range.
  for (int i = 0; i < 20; i++) EXPECT_LE(exponential_backoff_with_jitter(prng, 50, 1000, 0), 100u);
}

TEST(MessageBusTcp, AReplicaConnectsToTheMembersAfterIt) {
  World world;
  world.open(0);
  world.open(1);
  world.run(1);
  EXPECT_EQ(world.replica(0).bus.connection_state(1), ConnectionState::connecting);
  EXPECT_EQ(world.replica(1).bus.connection_state(0),
            ConnectionState::free);  // Never the other way.
  world.run(30);
  EXPECT_EQ(world.replica(0).bus.connection_state(1), ConnectionState::connected);
  // Accepted, but who it is, replica 1 learns from the first message.
  EXPECT_EQ(world.replica(1).bus.connections_in(ConnectionState::connected), 1u);
  EXPECT_EQ(world.replica(1).bus.connection_state(0), ConnectionState::free);
  EXPECT_EQ(world.replica(1).buffers(), 1u);
  world.replica(0).send_ping(1);
  world.run(5);
  EXPECT_EQ(world.replica(1).received, 1u);
  EXPECT_EQ(world.replica(1).bus.connection_state(0), ConnectionState::connected);
}

TEST(MessageBusTcp, ARefusedConnectBacksOffAndSendsQueueMeanwhile) {
  World world;
  world.open(0);  // Replica 1 is down: every connect is refused.
  world.run(400);
  EXPECT_GE(world.replica(0).bus.connect_attempts(1), 4u);
  EXPECT_LE(world.replica(0).bus.connect_attempts(1), 20u);  // 50 ms, then up to a second apart.
  // Connecting: the sends wait in the queue, up to its bound; the rest are dropped.
  while (world.replica(0).bus.connection_state(1) != ConnectionState::connecting) world.run(1);
  for (int i = 0; i < 6; i++) world.replica(0).send_ping(1);
  EXPECT_EQ(world.replica(0).queued(), world.config.connection_send_queue_max_replica());
  world.open(1);
  world.run(200);
  // Connected at last: the queue went out at once, and the first message reset the backoff.
  EXPECT_EQ(world.replica(0).bus.connection_state(1), ConnectionState::connected);
  EXPECT_EQ(world.replica(0).queued(), 0u);
  EXPECT_GE(world.replica(1).received, 1u);
  world.replica(1).send_ping(0);
  world.run(5);
  EXPECT_EQ(world.replica(0).bus.connect_attempts(1), 0u);
}

TEST(MessageBusTcp, SendNowWritesAtOnceUnlessTheSocketIsFull) {
  World world;
  world.open(0);
  world.open(1);
  world.run(40);
  ASSERT_EQ(world.replica(0).bus.connection_state(1), ConnectionState::connected);
  world.replica(0).send_ping(1);
  EXPECT_EQ(world.replica(0).queued(), 0u);  // In the kernel already: nothing held.
}

// Replica 1 accepts from replica 0 and the clients: 1 + clients_limit (4) + 1 spare slots.
void connect_clients(World& world, uint32_t count) {
  for (uint32_t c = 0; c < count; c++) {
    world.open(member_count + c);
    world.run(30);
    world.client(c).send_ping(1);  // The replica learns who it is.
    world.run(5);
  }
}

TEST(MessageBusTcp, TheSpareSlotClosesAClientPastTheLimitWhileReplicasAreIntact) {
  World world;
  world.open(0);
  world.open(1);
  world.run(40);
  world.replica(0).send_ping(1);
  world.run(5);
  ASSERT_EQ(world.replica(1).bus.connections_max(), 6u);
  connect_clients(world, 5);
  // The fifth client fills the table with both replicas connected: closed without a buffer.
  EXPECT_EQ(world.replica(1).buffers(), 5u);  // connections_max of the formula: 2 + 4 − 1.
  EXPECT_TRUE(world.replica(1).breaches.empty());
  EXPECT_EQ(world.replica(1).bus.connection_state(member_count + 4), ConnectionState::free);
}

TEST(MessageBusTcp, TheSpareSlotTakesABufferWhileAReplicaIsMissing) {
  World world;
  world.open(1);  // Replica 0, which connects to replica 1, is down.
  connect_clients(world, 6);
  // message_bus.zig:400-418 closes the new connection only if every replica connection is
  // intact: the sixth client keeps the spare slot, one buffer past the formula's term.
  EXPECT_EQ(world.replica(1).buffers(), 6u);
  ASSERT_FALSE(world.replica(1).breaches.empty());
  EXPECT_EQ(world.replica(1).breaches.front().limit, Term::connection_recv_buffers);
  EXPECT_EQ(world.replica(1).breaches.front().bound, 5u);
}

TEST(MessageBusTcp, ReclaimClosesAClientForAMissingReplica) {
  World world;
  world.open(1);
  connect_clients(world, 6);
  world.run(1);  // Full, and replica 0 has no connection: tick_accept reclaims a client.
  EXPECT_EQ(world.replica(1).bus.connections_in(ConnectionState::terminating) +
                world.replica(1).bus.connections_in(ConnectionState::free) +
                world.replica(1).bus.connections_in(ConnectionState::accepting),
            1u);
  world.open(0);
  world.run(200);
  world.replica(0).send_ping(1);
  world.run(5);
  // Replica 0 got in; the clients keep reconnecting into what is left, each closed in turn.
  EXPECT_EQ(world.replica(1).bus.connection_state(0), ConnectionState::connected);
}

TEST(MessageBusTcp, ReclaimPrefersAnUnknownPeerPastItsTimeToLive) {
  World world;
  world.open(1);  // Replica 0 stays down: the full table is reclaimed from, tick after tick.
  connect_clients(world, 5);
  world.open(member_count + 5);  // Connects, but never says who it is.
  // The five others say who they are on every connection (a ping a tick): until the silent
  // one's time to live ends, reclaim takes a client each time, and it keeps its one connection.
  const auto run_pinging = [&world](uint64_t ticks) {
    for (uint64_t i = 0; i < ticks; i++) {
      for (uint32_t c = 0; c < 5; c++) world.client(c).send_ping(1);
      world.run(1);
    }
  };
  run_pinging(unknown_peer_ttl_ticks - 100);
  EXPECT_EQ(world.client(5).bus.connect_attempts(1), 1u);
  EXPECT_EQ(world.client(5).bus.connection_state(1), ConnectionState::connected);
  run_pinging(200);  // Past it, the unknown goes first.
  EXPECT_GE(world.client(5).bus.connect_attempts(1), 2u);
}

TEST(MessageBusTcp, ATerminatingConnectionKeepsItsBuffersUntilItsMessageIsConsumed) {
  World world;
  world.open(1);
  connect_clients(world, 1);
  Node& replica = world.replica(1);
  replica.suspend = true;
  world.client(0).send_ping(1);
  world.run(5);
  const uint32_t received = replica.received;
  world.client(0).bus.close();  // The client goes: its FIN arrives while the buffer is full.
  world.run(20);
  EXPECT_EQ(replica.bus.connection_state(member_count), ConnectionState::connected);
  EXPECT_EQ(replica.buffers(), 1u);
  replica.suspend = false;
  replica.bus.resume();
  world.run(3);
  EXPECT_EQ(replica.received, received + 1);  // Consumed first, then closed.
  EXPECT_EQ(replica.bus.connection_state(member_count), ConnectionState::free);
  EXPECT_EQ(replica.buffers(), 0u);
  world.client(0).bus.open();  // For the destructor's close.
}

TEST(MessageBusTcp, ACrashedPeerIsTornDownAndReconnected) {
  World world;
  world.open(0);
  world.open(1);
  world.run(40);
  ASSERT_EQ(world.replica(0).bus.connection_state(1), ConnectionState::connected);
  world.replica(1).bus.close();
  world.run(10);
  EXPECT_NE(world.replica(0).bus.connection_state(1), ConnectionState::connected);
  EXPECT_EQ(world.replica(0).buffers(), 0u);
  world.replica(1).bus.open();
  world.run(300);
  EXPECT_EQ(world.replica(0).bus.connection_state(1), ConnectionState::connected);
}

TEST(MessageBusTcp, TheHandlerOwnsTheMessageBesideAFreshBuffer) {
  World world;
  world.open(0);
  world.open(1);
  world.run(40);
  Node& replica = world.replica(1);
  uint32_t handled_references = 0;
  uint32_t buffers_during = 0;
  replica.bus.set_on_message([&](uint32_t, pool::Message* message) {
    handled_references = message->references;
    buffers_during = replica.buffers();
    EXPECT_EQ(replica.census.held(Holder::handled_message), 1u);
  });
  const uint32_t used_before = replica.pool.used_count();
  world.replica(0).send_ping(1);
  world.run(5);
  // consume_message's zero-copy path: the handler's message is the old buffer, one reference,
  // and the connection already has its next buffer.
  EXPECT_EQ(handled_references, 1u);
  EXPECT_EQ(buffers_during, 1u);
  EXPECT_EQ(replica.pool.used_count(), used_before);
  EXPECT_EQ(replica.census.held(Holder::handled_message), 0u);
}

TEST(MessageBusTcp, ClosingReleasesEveryMessage) {
  World world;
  world.open(1);
  connect_clients(world, 2);
  world.replica(1).bus.close();
  EXPECT_EQ(world.replica(1).pool.used_count(), 0u);
  world.replica(1).bus.open();  // For the destructor's close.
}

}  // namespace
}  // namespace sim
