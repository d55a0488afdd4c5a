#include "sim/world/message_bus.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace sim {

using pool::Term;

const char* connection_state_name(ConnectionState state) {
  switch (state) {
    case ConnectionState::free:
      return "free";
    case ConnectionState::accepting:
      return "accepting";
    case ConnectionState::connecting:
      return "connecting";
    case ConnectionState::connected:
      return "connected";
    case ConnectionState::terminating:
      return "terminating";
  }
  return "unknown";
}

uint64_t exponential_backoff_with_jitter(Prng& prng, uint64_t min, uint64_t max, uint64_t attempt) {
  POOL_ASSERT_GT(max, min);
  const uint64_t exponent = std::min<uint64_t>(attempt, 63);
  const uint64_t min_non_zero = std::max<uint64_t>(min, 1);
  const uint64_t range = max - min;
  // min(range, min × 2^exponent), without overflowing.
  const uint64_t backoff = min_non_zero > (range >> exponent) ? range : min_non_zero << exponent;
  const uint64_t result = min + prng.range_inclusive(0, backoff);
  POOL_ASSERT(result >= min && result <= max);
  return result;
}

MessageBus::MessageBus(const Shape& shape, pool::MessagePool& pool, Census& census,
                       Network& network, Scheduler& scheduler)
    : shape_(shape),
      pool_(pool),
      census_(census),
      network_(network),
      scheduler_(scheduler),
      prng_(prng_for(shape.seed, PrngStream::bus_base, shape.self)) {
  POOL_ASSERT_EQ(shape.client, shape.self >= shape.member_count);
  POOL_ASSERT(shape.replica_count >= 1 && shape.replica_count <= shape.member_count);
  POOL_ASSERT_EQ(shape.client, shape.clients_limit == 0);
  if (shape.kind == pool::MessageBusKind::tcp) {
    POOL_ASSERT_GT(shape.send_queue_max, 0u);
    // message_bus.zig:105-114: the other members, clients_limit clients, and one spare for an
    // explicit shutdown on overflow; a client, one per replica.
    const uint32_t count =
        shape.client ? shape.replica_count : shape.member_count - 1 + shape.clients_limit + 1;
    connections_.resize(count);
    replicas_.assign(shape.client ? shape.replica_count : shape.member_count, slot_none);
    replicas_connect_attempts_.assign(replicas_.size(), 0);
    clients_.assign(shape.client ? 0 : network.process_count() - shape.member_count, slot_none);
  }
}

MessageBus::~MessageBus() { POOL_ASSERT(!open_, "a bus must be closed before destruction"); }

void MessageBus::open() {
  POOL_ASSERT(!open_);
  open_ = true;
  incarnation_ += 1;
  if (shape_.kind == pool::MessageBusKind::testing) {
    buffer_ = census_.acquire(pool_, buffer_holder());
    return;
  }
  // Listening from now on; the connections come with the ticks (tick_connect, tick_accept).
  POOL_ASSERT_EQ(connections_used_, 0u);
  POOL_ASSERT(backlog_.empty() && suspended_.empty());
}

void MessageBus::close() {
  if (!open_) return;
  open_ = false;
  incarnation_ += 1;
  resume_scheduled_ = false;
  if (buffer_ != nullptr) {
    census_.release(pool_, buffer_holder(), buffer_);
    buffer_ = nullptr;
    buffer_suspended_ = false;
  }
  // The process is gone: its kernel resets every connection, accepted or not.
  for (Connection& connection : connections_) {
    if (connection.link != 0 && connection.state != ConnectionState::free) {
      network_.link_close(shape_.self, connection.remote, connection.link);
      network_.wake(connection.link);  // What it held back arrives at a process that is down.
    }
    connection_reset(connection);
  }
  for (const Incoming& incoming : backlog_) {
    network_.link_close(shape_.self, incoming.from, incoming.link);
    network_.wake(incoming.link);
  }
  backlog_.clear();
  suspended_.clear();
  std::fill(replicas_.begin(), replicas_.end(), slot_none);
  std::fill(replicas_connect_attempts_.begin(), replicas_connect_attempts_.end(), 0);
  std::fill(clients_.begin(), clients_.end(), slot_none);
  connections_used_ = 0;
  accept_connection_ = slot_none;
  accept_scheduled_ = false;
  // The bus is the only holder of its terms: closed, it holds nothing.
  POOL_ASSERT_EQ(census_.held(Term::connection_recv_buffers), 0u);
  POOL_ASSERT_EQ(census_.held(Term::connection_send_queues), 0u);
}

void MessageBus::connection_release(Connection& connection) {
  POOL_ASSERT_LE(connection.send_queue.size(), shape_.send_queue_max);
  for (pool::Message* message : connection.send_queue) {
    census_.release(pool_, Holder::connection_send_queue, message);
  }
  connection.send_queue.clear();
  if (connection.recv_buffer != nullptr) {
    census_.release(pool_, Holder::connection_recv_buffer, connection.recv_buffer);
    connection.recv_buffer = nullptr;
  }
}

void MessageBus::connection_reset(Connection& connection) {
  connection_release(connection);
  const uint64_t generation = connection.generation + 1;
  connection = Connection{};
  connection.generation = generation;
}

void MessageBus::tick() {
  if (!open_ || shape_.kind != pool::MessageBusKind::tcp) return;
  tick_connect();
  if (!shape_.client) tick_accept();
}

uint32_t MessageBus::connections_in(ConnectionState state) const {
  return static_cast<uint32_t>(
      std::count_if(connections_.begin(), connections_.end(),
                    [state](const Connection& connection) { return connection.state == state; }));
}

ConnectionState MessageBus::connection_state(uint32_t peer) const {
  const uint32_t slot = slot_of(peer);
  return slot == slot_none ? ConnectionState::free : connections_[slot].state;
}

uint32_t& MessageBus::slot_of(uint32_t peer) {
  return const_cast<uint32_t&>(std::as_const(*this).slot_of(peer));
}

const uint32_t& MessageBus::slot_of(uint32_t peer) const {
  if (peer < shape_.member_count) {
    POOL_ASSERT_LT(peer, replicas_.size());
    return replicas_[peer];
  }
  POOL_ASSERT(!shape_.client, "a client talks to replicas only");
  POOL_ASSERT_LT(peer - shape_.member_count, clients_.size());
  return clients_[peer - shape_.member_count];
}

std::deque<MessageBus::Incoming>::iterator MessageBus::backlog_find(uint64_t link) {
  return std::find_if(backlog_.begin(), backlog_.end(),
                      [link](const Incoming& incoming) { return incoming.link == link; });
}

uint32_t MessageBus::slot_of_link(uint64_t link) const {
  POOL_ASSERT_NE(link, 0u);
  for (uint32_t slot = 0; slot < connections_.size(); slot++) {
    if (connections_[slot].link == link) return slot;
  }
  return slot_none;
}

void MessageBus::record(const Connection& connection, uint32_t slot) const {
  POOL_ASSERT_LT(slot, connections_.size());
  const uint32_t peer = connection.remote != Connection::peer_unknown ? connection.remote : 0;
  network_.trace().record({scheduler_.now_tick(), TraceKind::connection,
                           static_cast<uint8_t>(shape_.self), static_cast<uint8_t>(peer), 0,
                           static_cast<uint64_t>(connection.state), slot});
}

// ---- Connecting ------------------------------------------------------------------------------

void MessageBus::tick_connect() {
  // A replica connects to the members after it, so that two never connect to each other at once;
  // a client to every replica (message_bus.zig:315-330).
  const uint32_t first = shape_.client ? 0 : shape_.self + 1;
  for (uint32_t replica = first; replica < replicas_.size(); replica++) {
    if (replicas_[replica] == slot_none) connect(replica);
  }
  POOL_ASSERT_GE(connections_used_, replicas_.size() - first);
}

void MessageBus::connect(uint32_t replica) {
  POOL_ASSERT_EQ(replicas_[replica], slot_none);
  for (uint32_t slot = 0; slot < connections_.size(); slot++) {
    if (connections_[slot].state == ConnectionState::free) {
      connect_connection(slot, replica);
      return;
    }
  }
  POOL_ASSERT(!shape_.client, "a client has a slot per replica");
  reclaim_connection();  // :432-451.
}

void MessageBus::connect_connection(uint32_t slot, uint32_t replica) {
  if (!shape_.client) POOL_ASSERT_GT(replica, shape_.self);
  Connection& connection = connections_[slot];
  POOL_ASSERT_EQ(connection.state, ConnectionState::free);
  connection.state = ConnectionState::connecting;
  connection.peer = replica;
  connection.remote = replica;
  connections_used_ += 1;
  replicas_[replica] = slot;
  uint64_t& attempts = replicas_connect_attempts_[replica];
  const uint64_t ms = exponential_backoff_with_jitter(prng_, connection_delay_ms_min,
                                                      connection_delay_ms_max, attempts);
  attempts += 1;
  record(connection, slot);
  connection.connect_pending = true;
  const uint64_t ticks = (ms + bus_tick_ms - 1) / bus_tick_ms;
  scheduler_.schedule_after(ticks, [this, slot, generation = connection.generation] {
    connect_timeout_done(slot, generation);
  });
}

void MessageBus::connect_timeout_done(uint32_t slot, uint64_t generation) {
  Connection& connection = connections_[slot];
  if (!open_ || connection.generation != generation) return;
  POOL_ASSERT(connection.connect_pending);
  connection.connect_pending = false;
  if (connection.state == ConnectionState::terminating) return terminate_join(slot);
  POOL_ASSERT_EQ(connection.state, ConnectionState::connecting);
  connection.connect_pending = true;
  connection.link = network_.link_new();
  network_.connect(shape_.self, connection.remote, connection.link);
}

void MessageBus::connect_done(uint32_t to, uint64_t link, bool accepted) {
  const uint32_t slot = open_ ? slot_of_link(link) : slot_none;
  if (slot == slot_none) {
    // Ours is gone (a crash came between): the kernel resets what the peer accepted.
    if (accepted) network_.link_close(shape_.self, to, link);
    return;
  }
  Connection& connection = connections_[slot];
  POOL_ASSERT(connection.connect_pending && connection.remote == to);
  connection.connect_pending = false;
  if (connection.state == ConnectionState::terminating) {
    if (accepted) network_.link_close(shape_.self, to, link);
    connection.link = 0;
    return terminate_join(slot);
  }
  POOL_ASSERT_EQ(connection.state, ConnectionState::connecting);
  connection.state = ConnectionState::connected;
  connection.connected_tick = scheduler_.now_tick();
  if (!accepted) {
    connection.link = 0;  // Refused, or timed out: nothing to close at the peer.
    return terminate(slot, How::no_shutdown);
  }
  record(connection, slot);
  connection.recv_buffer = census_.acquire(pool_, Holder::connection_recv_buffer);
  // The peer reset it before we knew it was up: the first recv returns 0.
  if (connection.peer_closed) return terminate(slot, How::no_shutdown);
  send_loop(slot);
}

// ---- Accepting and reclaiming ----------------------------------------------------------------

void MessageBus::tick_accept() {
  POOL_ASSERT(!shape_.client);
  POOL_ASSERT_LE(connections_used_, connections_.size());
  if (accept_connection_ != slot_none) return;
  for (uint32_t slot = 0; slot < connections_.size(); slot++) {
    if (connections_[slot].state == ConnectionState::free) {
      connections_[slot].state = ConnectionState::accepting;
      accept_connection_ = slot;
      accept_schedule();
      return;
    }
  }
  // No free slot: make room if a member before us, which connects to us, has no connection.
  for (uint32_t replica = 0; replica < shape_.self; replica++) {
    if (replicas_[replica] == slot_none) return reclaim_connection();
  }
}

bool MessageBus::incoming(uint32_t from, uint64_t link) {
  POOL_ASSERT(shape_.kind == pool::MessageBusKind::tcp && !shape_.client);
  if (!open_ || backlog_.size() == tcp_backlog) return false;  // Refused.
  backlog_.push_back(Incoming{from, link});
  accept_schedule();
  return true;
}

void MessageBus::accept_schedule() {
  if (accept_connection_ == slot_none || backlog_.empty() || accept_scheduled_) return;
  accept_scheduled_ = true;
  scheduler_.schedule_after(0, [this, incarnation = incarnation_] { accept_done(incarnation); });
}

bool MessageBus::replicas_intact() const {
  uint32_t connected = 0;
  for (const uint32_t slot : replicas_) {
    connected += slot != slot_none && connections_[slot].state == ConnectionState::connected;
  }
  return connected == replicas_.size() - 1;
}

void MessageBus::accept_done(uint64_t incarnation) {
  if (incarnation != incarnation_ || !open_) return;
  POOL_ASSERT(accept_scheduled_);
  accept_scheduled_ = false;
  if (accept_connection_ == slot_none || backlog_.empty()) return;  // A reset emptied it.
  const uint32_t slot = accept_connection_;
  accept_connection_ = slot_none;
  const Incoming incoming = backlog_.front();
  backlog_.pop_front();
  Connection& connection = connections_[slot];
  POOL_ASSERT_EQ(connection.state, ConnectionState::accepting);
  connection.state = ConnectionState::connected;
  connection.connected_tick = scheduler_.now_tick();
  connection.remote = incoming.from;
  connection.link = incoming.link;
  connections_used_ += 1;
  record(connection, slot);
  // message_bus.zig:400-418: the table full with every replica connection intact, this is a
  // client past the limit or a duplicate from a replica: closed at once, without a buffer.
  network_.wake(incoming.link);  // The recv starts: what the peer sent meanwhile comes in.
  if (connections_used_ == connections_.size() && replicas_intact()) {
    return terminate(slot, How::no_shutdown);
  }
  connection.recv_buffer = census_.acquire(pool_, Holder::connection_recv_buffer);
}

void MessageBus::reclaim_connection() {
  // message_bus.zig:453-508: an unknown peer past its time to live, else any client, else the
  // oldest unknown; nothing while another is terminating.
  POOL_ASSERT(!shape_.client);
  uint32_t unknown_oldest = slot_none;
  uint32_t client_any = slot_none;
  for (uint32_t slot = 0; slot < connections_.size(); slot++) {
    const Connection& connection = connections_[slot];
    POOL_ASSERT_NE(connection.state, ConnectionState::free);
    if (connection.state == ConnectionState::terminating) return;
    if (connection.state != ConnectionState::connected) continue;
    if (connection.peer == Connection::peer_unknown) {
      if (unknown_oldest == slot_none ||
          connection.connected_tick < connections_[unknown_oldest].connected_tick) {
        unknown_oldest = slot;
      }
    } else if (connection.peer >= shape_.member_count && client_any == slot_none) {
      client_any = slot;
    }
  }
  uint32_t reclaim = slot_none;
  if (unknown_oldest != slot_none &&
      scheduler_.now_tick() - connections_[unknown_oldest].connected_tick >=
          unknown_peer_ttl_ticks) {
    reclaim = unknown_oldest;
  } else if (client_any != slot_none) {
    reclaim = client_any;
  } else {
    reclaim = unknown_oldest;
  }
  if (reclaim != slot_none) terminate(reclaim, How::shutdown);
}

// ---- Receiving -------------------------------------------------------------------------------

Network::Delivery MessageBus::deliver(uint32_t from, uint64_t link, const pool::Message& packet) {
  POOL_ASSERT_NE(from, shape_.self);
  POOL_ASSERT(on_message_ != nullptr);
  const auto command = static_cast<uint8_t>(packet.header->frame.command);
  if (!open_) {
    network_.record_drop(from, shape_.self, command, DropReason::receiver_down);
    return Network::Delivery::consumed;
  }
  if (shape_.kind == pool::MessageBusKind::tcp) return deliver_tcp(from, link, packet);
  POOL_ASSERT_EQ(link, 0u);
  const auto body = packet.buffer.subspan(pool::header_size);
  if (pool::message_invalid(*packet.header, body, pool_.config())) {
    record_invalid(from, command);
    return Network::Delivery::consumed;
  }
  if (buffer_suspended_) {
    network_.record_drop(from, shape_.self, command, DropReason::receiver_busy);
    return Network::Delivery::consumed;
  }
  copy_in(buffer_, from, packet);
  if (!receive(from, buffer_)) {
    buffer_suspended_ = true;
    buffer_suspended_from_ = from;
  }
  return Network::Delivery::consumed;
}

Network::Delivery MessageBus::deliver_tcp(uint32_t from, uint64_t link,
                                          const pool::Message& packet) {
  const auto command = static_cast<uint8_t>(packet.header->frame.command);
  if (backlog_find(link) != backlog_.end()) return Network::Delivery::busy;  // Not accepted yet.
  const uint32_t slot = slot_of_link(link);
  if (slot == slot_none || connections_[slot].state != ConnectionState::connected) {
    // Closed here first: what was in flight on it is lost with the socket.
    network_.record_drop(from, shape_.self, command, DropReason::connection_closed);
    return Network::Delivery::consumed;
  }
  Connection& connection = connections_[slot];
  POOL_ASSERT_EQ(connection.remote, from);
  if (connection.suspended) return Network::Delivery::busy;  // The socket holds it.
  // Any bytes from a replica reset its backoff, before they are parsed (:700-713).
  if (connection.peer != Connection::peer_unknown && connection.peer < replicas_.size()) {
    replicas_connect_attempts_[connection.peer] = 0;
  }
  const auto body = packet.buffer.subspan(pool::header_size);
  if (pool::message_invalid(*packet.header, body, pool_.config())) {
    // message_buffer.zig invalidates the buffer, and recv_buffer_consume terminates (:886-893).
    record_invalid(from, command);
    terminate(slot, How::no_shutdown);
    return Network::Delivery::consumed;
  }
  if (connection.peer == Connection::peer_unknown) recv_update_peer(slot, from);
  copy_in(connection.recv_buffer, from, packet);
  // The handler may send on this connection, or close another; this slot stays where it is.
  if (!receive(from, connection.recv_buffer)) {
    connections_[slot].suspended = true;
    suspended_.push_back(slot);
  }
  return Network::Delivery::consumed;
}

void MessageBus::recv_update_peer(uint32_t slot, uint32_t peer) {
  // message_bus.zig:747-870 (the header's peer type is its sender here): a newer connection
  // from the same replica or client replaces the old one, which is shut down.
  POOL_ASSERT(!shape_.client);
  Connection& connection = connections_[slot];
  POOL_ASSERT_EQ(connection.state, ConnectionState::connected);
  uint32_t& mapped = slot_of(peer);
  if (mapped != slot_none && mapped != slot) {
    Connection& old = connections_[mapped];
    POOL_ASSERT(old.peer == peer && old.state != ConnectionState::free);
    if (old.state != ConnectionState::terminating) terminate(mapped, How::shutdown);
  }
  mapped = slot;
  connection.peer = peer;
}

void MessageBus::copy_in(pool::Message* buffer, uint32_t from, const pool::Message& packet) {
  POOL_ASSERT(buffer != nullptr);
  POOL_ASSERT_EQ(buffer->references, 1u);  // The bus's own: each handler took the one before.
  std::memcpy(buffer->buffer.data(), packet.buffer.data(), packet.header->frame.size);
  network_.trace().record({scheduler_.now_tick(), TraceKind::deliver,
                           static_cast<uint8_t>(shape_.self), static_cast<uint8_t>(from),
                           static_cast<uint8_t>(packet.header->frame.command),
                           packet.header->frame.checksum.low, 0});
}

void MessageBus::record_invalid(uint32_t from, uint8_t command) const {
  POOL_ASSERT_NE(from, shape_.self);
  network_.trace().record({scheduler_.now_tick(), TraceKind::invalid,
                           static_cast<uint8_t>(shape_.self), static_cast<uint8_t>(from), command,
                           0, 0});
}

Holder MessageBus::buffer_holder() const {
  // A client's formula pays for its receive buffers; a replica's testing formula adds nothing.
  const bool paid = shape_.kind == pool::MessageBusKind::tcp || shape_.client;
  return paid ? Holder::connection_recv_buffer : Holder::testing_bus_buffer;
}

bool MessageBus::receive(uint32_t from, pool::Message*& buffer) {
  POOL_ASSERT(open_ && on_message_ != nullptr);
  if (suspend_ && suspend_(from, *buffer->header)) return false;
  // As the original's consume_message (src/message_buffer.zig:266-306) when the buffer holds
  // exactly one message, as every packet here is: the handler takes the buffer's message and the
  // bus a fresh buffer from the pool before the handler runs (:286). The other path (a copy,
  // when the buffer holds more) costs the same two messages.
  pool::Message* message = buffer;
  census_.transfer(buffer_holder(), Holder::handled_message, message);
  buffer = census_.acquire(pool_, buffer_holder());
  POOL_ASSERT_EQ(buffer->references, 1u);
  // Deliveries are events: a process handles one network message at a time.
  POOL_ASSERT_EQ(census_.held(Holder::handled_message), 1u);
  // replica.zig on_messages (:1660-1661) keeps the consumed message for the whole handler.
  on_message_(from, message);
  census_.release(pool_, Holder::handled_message, message);
  return true;
}

void MessageBus::resume() {
  if (resume_scheduled_ || !open_) return;
  resume_scheduled_ = true;
  scheduler_.schedule_after(0, [this, incarnation = incarnation_] { resume_now(incarnation); });
}

void MessageBus::resume_now(uint64_t incarnation) {
  if (incarnation != incarnation_ || !open_) return;
  POOL_ASSERT(resume_scheduled_);
  resume_scheduled_ = false;
  if (shape_.kind == pool::MessageBusKind::testing) {
    if (buffer_suspended_ && receive(buffer_suspended_from_, buffer_)) buffer_suspended_ = false;
    return;
  }
  // ready_to_receive_callback (:1180-1197): the queue taken whole, so that a connection that
  // stays suspended waits for the next resume.
  std::deque<uint32_t> suspended;
  suspended.swap(suspended_);
  for (const uint32_t slot : suspended) {
    if (open_) resume_connection(slot);
  }
}

void MessageBus::resume_connection(uint32_t slot) {
  Connection& connection = connections_[slot];
  POOL_ASSERT(connection.suspended && connection.recv_buffer != nullptr);
  POOL_ASSERT(connection.state == ConnectionState::connected ||
              connection.state == ConnectionState::terminating);
  if (!receive(connection.remote, connection.recv_buffer)) {
    suspended_.push_back(slot);
    return;
  }
  Connection& after = connections_[slot];
  after.suspended = false;
  network_.wake(after.link);  // The recv is submitted again.
  // recv_buffer_consume (:894-897): a terminating connection closes once its message is taken.
  if (after.state == ConnectionState::terminating) return terminate_join(slot);
  if (!after.peer_closed) return;
  // The FIN came behind the data held back: the recv returns 0 once that is read.
  after.peer_closed = false;
  scheduler_.schedule_after(
      0, [this, slot, generation = after.generation] { peer_closed_read(slot, generation); });
}

void MessageBus::peer_closed_read(uint32_t slot, uint64_t generation) {
  Connection& connection = connections_[slot];
  if (!open_ || connection.generation != generation) return;
  if (connection.state != ConnectionState::connected) return;
  POOL_ASSERT(!connection.peer_closed);
  if (connection.suspended) {
    connection.peer_closed = true;  // A message held back suspended again: after it.
    return;
  }
  terminate(slot, How::no_shutdown);
}

void MessageBus::link_closed(uint32_t from, uint64_t link) {
  POOL_ASSERT_EQ(shape_.kind, pool::MessageBusKind::tcp);
  if (!open_) return;
  if (const auto incoming = backlog_find(link); incoming != backlog_.end()) {
    backlog_.erase(incoming);  // Reset before it was accepted.
    network_.wake(link);
    return;
  }
  const uint32_t slot = slot_of_link(link);
  if (slot == slot_none) return;
  Connection& connection = connections_[slot];
  POOL_ASSERT_EQ(connection.remote, from);
  if (connection.state == ConnectionState::connecting || connection.suspended) {
    connection.peer_closed = true;  // Seen by the connect's answer, or by the next recv.
  } else if (connection.state == ConnectionState::connected) {
    terminate(slot, How::no_shutdown);  // recv returned 0: an orderly shutdown (:691-695).
  }
}

// ---- Sending ---------------------------------------------------------------------------------

void MessageBus::send(uint32_t to, pool::Message* message) {
  POOL_ASSERT(open_);
  POOL_ASSERT_NE(to, shape_.self);
  // A whole message of ours (its sender sealed it; the receiver's bus validates it).
  POOL_ASSERT(message->header->frame.size >= pool::header_size &&
              message->header->frame.size <= pool_.config().message_size_max);
  if (shape_.kind == pool::MessageBusKind::testing) {
    network_.submit(shape_.self, to, *message);
    return;
  }
  send_tcp(to, message);
}

void MessageBus::send_tcp(uint32_t to, pool::Message* message) {
  const auto command = static_cast<uint8_t>(message->header->frame.command);
  const uint32_t slot = slot_of(to);
  // send_message_to_replica / _to_client (:900-928): no connection, no send.
  if (slot == slot_none || connections_[slot].state == ConnectionState::terminating) {
    network_.record_drop(shape_.self, to, command, DropReason::no_connection);
    return;
  }
  Connection& connection = connections_[slot];
  POOL_ASSERT_EQ(connection.peer, to);
  POOL_ASSERT(connection.state == ConnectionState::connected ||
              connection.state == ConnectionState::connecting);
  if (connection.send_queue.size() == shape_.send_queue_max) {
    network_.record_drop(shape_.self, to, command, DropReason::send_queue_full);
    return;
  }
  connection.send_queue.push_back(census_.hold(Holder::connection_send_queue, message));
  // Connecting, the queue waits for on_connect (:945-950).
  if (connection.state == ConnectionState::connected && !connection.send_pending) {
    send_loop(slot);
  }
}

void MessageBus::send_loop(uint32_t slot) {
  // send_now (:983-1007): the kernel takes each message at once while the socket has room; a
  // clogged path is a full socket, and the rest waits for an asynchronous send (:962-972).
  Connection& connection = connections_[slot];
  POOL_ASSERT(connection.state == ConnectionState::connected && !connection.send_pending);
  POOL_ASSERT_LE(connection.send_queue.size(), shape_.send_queue_max);
  while (!connection.send_queue.empty()) {
    if (network_.clogged(shape_.self, connection.remote)) {
      connection.send_pending = true;
      scheduler_.schedule(
          network_.clogged_until_tick(shape_.self, connection.remote),
          [this, slot, generation = connection.generation] { send_done(slot, generation); });
      return;
    }
    pool::Message* message = connection.send_queue.front();
    connection.send_queue.pop_front();
    network_.submit(shape_.self, connection.remote, *message, connection.link);
    census_.release(pool_, Holder::connection_send_queue, message);
  }
}

void MessageBus::send_done(uint32_t slot, uint64_t generation) {
  Connection& connection = connections_[slot];
  if (!open_ || connection.generation != generation || !connection.send_pending) return;
  connection.send_pending = false;
  if (connection.state == ConnectionState::terminating) return terminate_join(slot);
  send_loop(slot);
}

// ---- Terminating -----------------------------------------------------------------------------

void MessageBus::terminate(uint32_t slot, How how) {
  Connection& connection = connections_[slot];
  POOL_ASSERT(connection.state == ConnectionState::connected ||
              connection.state == ConnectionState::connecting);
  // shutdown() wakes the submitted recv (a connected, unsuspended connection has one) and send:
  // their callbacks come back promptly (:1083-1119).
  const bool wakes = how == How::shutdown && connection.state == ConnectionState::connected;
  if (wakes && !connection.suspended) connection.recv_pending = true;
  connection.state = ConnectionState::terminating;
  record(connection, slot);
  // The peer learns from its recv: the FIN now (shutdown), or the close's (terminate_close).
  if (how == How::shutdown && connection.link != 0) {
    network_.link_close(shape_.self, connection.remote, connection.link);
    connection.fin_sent = true;
  }
  if (wakes && (connection.recv_pending || connection.send_pending)) {
    scheduler_.schedule_after(
        0, [this, slot, generation = connection.generation] { terminate_woken(slot, generation); });
  }
  terminate_join(slot);
}

void MessageBus::terminate_woken(uint32_t slot, uint64_t generation) {
  Connection& connection = connections_[slot];
  if (!open_ || connection.generation != generation) return;
  POOL_ASSERT_EQ(connection.state, ConnectionState::terminating);
  connection.recv_pending = false;
  connection.send_pending = false;
  terminate_join(slot);
}

void MessageBus::terminate_join(uint32_t slot) {
  // :1121-1136: not while IO is submitted, nor while the buffer holds an unconsumed message.
  const Connection& connection = connections_[slot];
  POOL_ASSERT_EQ(connection.state, ConnectionState::terminating);
  if (connection.closing) return;
  if (connection.connect_pending || connection.recv_pending || connection.send_pending) return;
  if (connection.suspended) return;
  terminate_close(slot);
}

void MessageBus::terminate_close(uint32_t slot) {
  Connection& connection = connections_[slot];
  connection_release(connection);
  if (connection.link != 0) {
    network_.wake(connection.link);  // Held back, now lost.
    if (!connection.fin_sent) network_.link_close(shape_.self, connection.remote, connection.link);
  }
  connection.link = 0;
  // The close is asynchronous (:1161-1167): the slot is in use until its callback.
  connection.closing = true;
  scheduler_.schedule_after(0, [this, slot, generation = connection.generation] {
    terminate_close_done(slot, generation);
  });
}

void MessageBus::terminate_close_done(uint32_t slot, uint64_t generation) {
  Connection& connection = connections_[slot];
  if (!open_ || connection.generation != generation) return;
  POOL_ASSERT(connection.state == ConnectionState::terminating &&
              connection.recv_buffer == nullptr && connection.send_queue.empty());
  POOL_ASSERT(std::find(suspended_.begin(), suspended_.end(), slot) == suspended_.end());
  // A newer connection to the same peer may have replaced this one (:1186-1212).
  if (connection.peer != Connection::peer_unknown) {
    uint32_t& mapped = slot_of(connection.peer);
    if (mapped == slot) mapped = slot_none;
  }
  POOL_ASSERT_GT(connections_used_, 0u);
  connections_used_ -= 1;
  connection_reset(connection);
  record(connection, slot);
}

}  // namespace sim
