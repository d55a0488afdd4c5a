// How a process reaches the network, in the two ways the formula knows. `testing`: one receive
// buffer, and each send copied straight into the network (the process keeps nothing). `tcp`: a
// connection per peer (and, on a replica, per client up to the pipeline's limit), each with a
// recv_buffer message and a send queue bounded by connection_send_queue_max_*; a full queue drops
// the message, as the original does. Every reference goes through the process's census.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/core/scheduler.h"
#include "sim/core/trace.h"
#include "sim/world/network.h"

namespace sim {

class MessageBus {
 public:
  // What the process did with a received message: handled it (it may have kept references), or
  // cannot take it yet (a prepare with no free journal write): the bus keeps it until resume().
  enum class Receive : uint8_t { done, suspend };
  using OnMessage = std::function<Receive(uint32_t from, pool::Message* message)>;

  struct Shape {
    pool::MessageBusKind kind;
    uint32_t self;                    // This process's network index.
    bool client;                      // A client (connects to every replica) or a replica.
    uint32_t member_count;            // Processes 0..member_count-1 are replicas and standbys.
    uint32_t replica_count;           // Active replicas: the ones clients connect to.
    uint32_t client_connections_max;  // A replica's connections for clients (pipeline limit).
    uint32_t send_queue_max;          // Per connection.
  };

  MessageBus(const Shape& shape, pool::MessagePool& pool, Census& census, Network& network,
             Scheduler& scheduler);
  ~MessageBus();

  void set_on_message(OnMessage on_message) { on_message_ = std::move(on_message); }

  // Takes the receive buffers (at start and at restart).
  void open();
  // Releases every message the bus holds (a crash, or teardown).
  void close();
  bool is_open() const { return open_; }

  // Sends `message`; the caller keeps its own reference.
  void send(uint32_t to, pool::Message* message);
  // A packet from the network.
  Network::Delivery deliver(uint32_t from, const pool::Message& packet);
  // Retries the suspended receives (on the next event, as the original's next_tick).
  void resume();

  // Connections in use (tcp), for tests.
  uint32_t connections_used() const;

 private:
  struct Connection {
    uint32_t peer = free_peer;
    uint64_t generation = 0;
    pool::Message* recv_buffer = nullptr;
    std::deque<pool::Message*> send_queue;
    bool sending = false;
    bool suspended = false;
    uint64_t last_used_tick = 0;
  };
  static constexpr uint32_t free_peer = UINT32_MAX;

  Connection* connection_to(uint32_t peer);
  Connection* connection_accept(uint32_t peer);
  void connection_open(Connection& connection, uint32_t peer);
  void connection_close(Connection& connection);
  void send_next(size_t index, uint64_t generation);
  Receive receive(uint32_t from, pool::Message*& buffer, bool buffer_paid);
  void buffer_renew(pool::Message*& buffer, bool paid);
  void resume_now(uint64_t incarnation);

  const Shape shape_;
  pool::MessagePool& pool_;
  Census& census_;
  Network& network_;
  Scheduler& scheduler_;
  OnMessage on_message_;
  bool open_ = false;
  uint64_t incarnation_ = 0;
  bool resume_scheduled_ = false;
  // testing
  pool::Message* buffer_ = nullptr;
  bool buffer_suspended_ = false;
  uint32_t buffer_suspended_from_ = 0;
  // tcp
  std::vector<Connection> connections_;
};

}  // namespace sim
