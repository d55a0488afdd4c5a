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
  // The handler: the message is its own for the call (the census's handled_message), as the
  // original's on_message holds what consume_message returned; it may keep references.
  using OnMessage = std::function<void(uint32_t from, pool::Message* message)>;
  // Asked before a message is consumed, as the original's suspend_message: true keeps it in the
  // receive buffer (a prepare with no free journal write) until resume() finds it welcome.
  using Suspend = std::function<bool(uint32_t from, const pool::Header& header)>;

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
  void set_suspend(Suspend suspend) { suspend_ = std::move(suspend); }

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
  // Consumes the buffer's message unless the process suspends it; false if suspended.
  bool receive(uint32_t from, pool::Message*& buffer);
  // The holder of the receive buffers: a replica's testing bus buffer is paid by no term.
  Holder buffer_holder() const;
  void resume_now(uint64_t incarnation);

  const Shape shape_;
  pool::MessagePool& pool_;
  Census& census_;
  Network& network_;
  Scheduler& scheduler_;
  OnMessage on_message_;
  Suspend suspend_;
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
