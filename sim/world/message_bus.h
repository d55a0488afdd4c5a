// How a process reaches the network, in the two ways the formula knows. `testing`: one receive
// buffer, and each send copied straight into the network (the process keeps nothing). `tcp`: the
// original's message bus (src/message_bus.zig at 52ad553f9): a table of connections, each free,
// accepting, connecting, connected or terminating (connection.h), with a receive buffer and a
// send queue bounded by connection_send_queue_max_*. A replica connects to the members after it,
// a client to every replica, each attempt after an exponential backoff; a replica accepts the
// others into a table of members − 1 + clients_limit + 1 slots, the last one spare (commit
// 9720e47bc). Every reference goes through the process's census.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/core/prng.h"
#include "sim/core/scheduler.h"
#include "sim/core/trace.h"
#include "sim/world/connection.h"
#include "sim/world/network.h"

namespace sim {

// The bus's times in ticks, from the original's constants at tick_ms = 10 (config.zig:120).
inline constexpr uint64_t bus_tick_ms = 10;
inline constexpr uint64_t connection_delay_ms_min = 50;    // config.zig:106.
inline constexpr uint64_t connection_delay_ms_max = 1000;  // config.zig:107.
// message_bus_unknown_time_to_live, 45 s (constants.zig:740): reclaim prefers an older unknown.
inline constexpr uint64_t unknown_peer_ttl_ticks = 45'000 / bus_tick_ms;
inline constexpr uint32_t tcp_backlog = 64;  // constants.zig tcp_backlog: connects not accepted.

// vsr.zig:847-878: min + a uniform jitter within min(max − min, min × 2^attempt), in ms.
uint64_t exponential_backoff_with_jitter(Prng& prng, uint64_t min, uint64_t max, uint64_t attempt);

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
    uint32_t self;           // This process's network index.
    bool client;             // A client (connects to every replica) or a replica.
    uint32_t member_count;   // Processes 0..member_count-1 are replicas and standbys.
    uint32_t replica_count;  // Active replicas: the ones clients connect to.
    // A replica's clients_limit: pipeline_prepare_queue_max + pipeline_requests_limit
    // (src/tigerbeetle/main.zig:349); 0 for a client.
    uint32_t clients_limit;
    uint32_t send_queue_max;  // Per connection.
    uint64_t seed;            // The run's: the bus draws its connect jitter from its own stream.
  };

  MessageBus(const Shape& shape, pool::MessagePool& pool, Census& census, Network& network,
             Scheduler& scheduler);
  ~MessageBus();

  void set_on_message(OnMessage on_message) { on_message_ = std::move(on_message); }
  void set_suspend(Suspend suspend) { suspend_ = std::move(suspend); }

  // Starts (at start and at restart): the testing bus takes its buffer, the tcp bus listens.
  void open();
  // The process stops (a crash, or teardown): every connection resets, every message goes back.
  void close();
  bool is_open() const { return open_; }
  // Per tick while open: connects to the peers without a connection, and (a replica) accepts.
  void tick();

  // Sends `message`; the caller keeps its own reference.
  void send(uint32_t to, pool::Message* message);
  // Retries the suspended receives (on the next event, as the original's next_tick).
  void resume();

  // From the network: a packet on `link` (0 on the testing bus), a connect arriving (false:
  // refused), the answer to ours, and the peer's close.
  Network::Delivery deliver(uint32_t from, uint64_t link, const pool::Message& packet);
  bool incoming(uint32_t from, uint64_t link);
  void connect_done(uint32_t to, uint64_t link, bool accepted);
  void link_closed(uint32_t from, uint64_t link);

  // For tests and checks (tcp).
  uint32_t connections_max() const { return static_cast<uint32_t>(connections_.size()); }
  uint32_t connections_used() const { return connections_used_; }
  uint32_t connections_in(ConnectionState state) const;
  // The state of the connection the bus maps to `peer` (free if none).
  ConnectionState connection_state(uint32_t peer) const;
  uint64_t connect_attempts(uint32_t replica) const { return replicas_connect_attempts_[replica]; }

 private:
  static constexpr uint32_t slot_none = UINT32_MAX;
  enum class How : uint8_t { shutdown, no_shutdown };
  struct Incoming {
    uint32_t from;
    uint64_t link;
  };

  // Connecting (message_bus.zig:315-330, 432-651).
  void tick_connect();
  void connect(uint32_t replica);
  void connect_connection(uint32_t slot, uint32_t replica);
  void connect_timeout_done(uint32_t slot, uint64_t generation);
  // Accepting (:332-430) and reclaiming (:453-508).
  void tick_accept();
  void accept_schedule();
  void accept_done(uint64_t incarnation);
  bool replicas_intact() const;
  void reclaim_connection();
  // Receiving (:672-898).
  Network::Delivery deliver_tcp(uint32_t from, uint64_t link, const pool::Message& packet);
  void recv_update_peer(uint32_t slot, uint32_t peer);
  void copy_in(pool::Message* buffer, uint32_t from, const pool::Message& packet);
  bool receive(uint32_t from, pool::Message*& buffer);
  void resume_now(uint64_t incarnation);
  void resume_connection(uint32_t slot);
  void peer_closed_read(uint32_t slot, uint64_t generation);
  // Sending (:900-1070).
  void send_tcp(uint32_t to, pool::Message* message);
  void send_loop(uint32_t slot);
  void send_done(uint32_t slot, uint64_t generation);
  // Terminating (:1072-1230).
  void terminate(uint32_t slot, How how);
  void terminate_woken(uint32_t slot, uint64_t generation);
  void terminate_join(uint32_t slot);
  void terminate_close(uint32_t slot);
  void terminate_close_done(uint32_t slot, uint64_t generation);
  void connection_release(Connection& connection);  // Its buffer and queue, to the pool.
  void connection_reset(Connection& connection);

  // The slot the bus maps `peer` to (bus.replicas, bus.clients), or slot_none.
  uint32_t& slot_of(uint32_t peer);
  const uint32_t& slot_of(uint32_t peer) const;
  std::deque<Incoming>::iterator backlog_find(uint64_t link);
  uint32_t slot_of_link(uint64_t link) const;
  void record(const Connection& connection, uint32_t slot) const;
  void record_invalid(uint32_t from, uint8_t command) const;
  // The holder of the receive buffers: a replica's testing bus buffer is paid by no term.
  Holder buffer_holder() const;

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
  // tcp: the table, and the original's maps (bus.replicas, bus.clients) as slot indexes.
  std::vector<Connection> connections_;
  uint32_t connections_used_ = 0;  // Connecting, connected or terminating.
  std::vector<uint32_t> replicas_;
  std::vector<uint64_t> replicas_connect_attempts_;
  std::vector<uint32_t> clients_;  // By client (process − member_count).
  uint32_t accept_connection_ = slot_none;
  bool accept_scheduled_ = false;
  std::deque<Incoming> backlog_;    // Connections the kernel completed, awaiting accept.
  std::deque<uint32_t> suspended_;  // connections_suspended, in order.
  Prng prng_;
};

}  // namespace sim
