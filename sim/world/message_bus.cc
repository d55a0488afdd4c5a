#include "sim/world/message_bus.h"

#include <cstring>

namespace sim {

using pool::Term;

MessageBus::MessageBus(const Shape& shape, pool::MessagePool& pool, Census& census,
                       Network& network, Scheduler& scheduler)
    : shape_(shape), pool_(pool), census_(census), network_(network), scheduler_(scheduler) {
  POOL_ASSERT_EQ(shape.client, shape.self >= shape.member_count);
  POOL_ASSERT(shape.replica_count >= 1 && shape.replica_count <= shape.member_count);
  if (shape.kind == pool::MessageBusKind::tcp) {
    POOL_ASSERT_GT(shape.send_queue_max, 0u);
    const uint32_t count =
        shape.client ? shape.replica_count : shape.member_count - 1 + shape.client_connections_max;
    connections_.resize(count);
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
  // Connections to every peer up front; a replica's client connections open when clients send.
  size_t index = 0;
  if (shape_.client) {
    for (uint32_t replica = 0; replica < shape_.replica_count; replica++) {
      connection_open(connections_[index++], replica);
    }
  } else {
    for (uint32_t member = 0; member < shape_.member_count; member++) {
      if (member != shape_.self) connection_open(connections_[index++], member);
    }
  }
  POOL_ASSERT_EQ(index, connections_used());
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
  for (Connection& connection : connections_) {
    if (connection.peer != free_peer) connection_close(connection);
  }
  // The bus is the only holder of its terms: closed, it holds nothing.
  POOL_ASSERT_EQ(census_.held(Term::connection_recv_buffers), 0u);
  POOL_ASSERT_EQ(census_.held(Term::connection_send_queues), 0u);
}

void MessageBus::connection_open(Connection& connection, uint32_t peer) {
  POOL_ASSERT_EQ(connection.peer, free_peer);
  POOL_ASSERT(connection.recv_buffer == nullptr && connection.send_queue.empty());
  POOL_ASSERT_NE(peer, shape_.self);
  connection.peer = peer;
  connection.generation += 1;
  connection.recv_buffer = census_.acquire(pool_, Holder::connection_recv_buffer);
  connection.last_used_tick = scheduler_.now_tick();
}

void MessageBus::connection_close(Connection& connection) {
  POOL_ASSERT_NE(connection.peer, free_peer);
  POOL_ASSERT(connection.recv_buffer != nullptr);
  census_.release(pool_, Holder::connection_recv_buffer, connection.recv_buffer);
  connection.recv_buffer = nullptr;
  for (pool::Message* message : connection.send_queue) {
    census_.release(pool_, Holder::connection_send_queue, message);
  }
  connection.send_queue.clear();
  connection.peer = free_peer;
  connection.generation += 1;
  connection.sending = false;
  connection.suspended = false;
}

uint32_t MessageBus::connections_used() const {
  uint32_t count = 0;
  for (const Connection& connection : connections_) count += connection.peer != free_peer;
  return count;
}

MessageBus::Connection* MessageBus::connection_to(uint32_t peer) {
  for (Connection& connection : connections_) {
    if (connection.peer == peer) return &connection;
  }
  return nullptr;
}

MessageBus::Connection* MessageBus::connection_accept(uint32_t peer) {
  if (Connection* existing = connection_to(peer)) return existing;
  POOL_ASSERT(!shape_.client && peer >= shape_.member_count, "only clients connect on demand");
  Connection* chosen = nullptr;
  for (Connection& connection : connections_) {
    if (connection.peer == free_peer) {
      chosen = &connection;
      break;
    }
  }
  if (chosen == nullptr) {
    // Every slot is taken: close the client connection idle the longest (never a suspended one).
    for (Connection& connection : connections_) {
      if (connection.peer < shape_.member_count || connection.suspended) continue;
      if (chosen == nullptr || connection.last_used_tick < chosen->last_used_tick) {
        chosen = &connection;
      }
    }
    if (chosen == nullptr) return nullptr;
    connection_close(*chosen);
  }
  connection_open(*chosen, peer);
  return chosen;
}

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
  const auto command = static_cast<uint8_t>(message->header->frame.command);
  Connection* connection = connection_to(to);
  if (connection == nullptr) {
    network_.record_drop(shape_.self, to, command, DropReason::no_connection);
    return;
  }
  if (connection->send_queue.size() == shape_.send_queue_max) {
    network_.record_drop(shape_.self, to, command, DropReason::send_queue_full);
    return;
  }
  connection->send_queue.push_back(census_.hold(Holder::connection_send_queue, message));
  connection->last_used_tick = scheduler_.now_tick();
  if (!connection->sending) {
    connection->sending = true;
    const auto index = static_cast<size_t>(connection - connections_.data());
    const uint64_t generation = connection->generation;
    scheduler_.schedule_after(1, [this, index, generation] { send_next(index, generation); });
  }
}

void MessageBus::send_next(size_t index, uint64_t generation) {
  Connection& connection = connections_[index];
  if (connection.generation != generation || !open_) return;
  POOL_ASSERT(connection.sending && !connection.send_queue.empty());
  // A clogged path fills the socket: the queue waits for it.
  if (network_.clogged(shape_.self, connection.peer)) {
    scheduler_.schedule(network_.clogged_until_tick(shape_.self, connection.peer),
                        [this, index, generation] { send_next(index, generation); });
    return;
  }
  pool::Message* message = connection.send_queue.front();
  POOL_ASSERT_LE(connection.send_queue.size(), shape_.send_queue_max);
  connection.send_queue.pop_front();
  network_.submit(shape_.self, connection.peer, *message);
  census_.release(pool_, Holder::connection_send_queue, message);
  if (connection.send_queue.empty()) {
    connection.sending = false;
  } else {
    scheduler_.schedule_after(1, [this, index, generation] { send_next(index, generation); });
  }
}

Network::Delivery MessageBus::deliver(uint32_t from, const pool::Message& packet) {
  POOL_ASSERT_NE(from, shape_.self);
  POOL_ASSERT(on_message_ != nullptr);
  const auto command = static_cast<uint8_t>(packet.header->frame.command);
  if (!open_) {
    network_.record_drop(from, shape_.self, command, DropReason::receiver_down);
    return Network::Delivery::consumed;
  }
  const auto body = packet.buffer.subspan(pool::header_size);
  if (auto reason = pool::message_invalid(*packet.header, body, pool_.config())) {
    network_.trace().record({scheduler_.now_tick(), TraceKind::invalid,
                             static_cast<uint8_t>(shape_.self), static_cast<uint8_t>(from), command,
                             0, 0});
    return Network::Delivery::consumed;
  }
  pool::Message** buffer = nullptr;
  if (shape_.kind == pool::MessageBusKind::testing) {
    if (buffer_suspended_) {
      network_.record_drop(from, shape_.self, command, DropReason::receiver_busy);
      return Network::Delivery::consumed;
    }
    buffer = &buffer_;
  } else {
    Connection* connection = connection_accept(from);
    if (connection == nullptr) {
      network_.record_drop(from, shape_.self, command, DropReason::no_connection);
      return Network::Delivery::consumed;
    }
    if (connection->suspended) return Network::Delivery::busy;
    connection->last_used_tick = scheduler_.now_tick();
    buffer = &connection->recv_buffer;
  }
  POOL_ASSERT(*buffer != nullptr);
  POOL_ASSERT_EQ((*buffer)->references, 1u);  // The bus's own: each handler took the one before.
  std::memcpy((*buffer)->buffer.data(), packet.buffer.data(), packet.header->frame.size);
  network_.trace().record({scheduler_.now_tick(), TraceKind::deliver,
                           static_cast<uint8_t>(shape_.self), static_cast<uint8_t>(from), command,
                           packet.header->frame.checksum.low, 0});
  if (!receive(from, *buffer)) {
    if (shape_.kind == pool::MessageBusKind::testing) {
      buffer_suspended_ = true;
      buffer_suspended_from_ = from;
    } else {
      connection_to(from)->suspended = true;
    }
  }
  return Network::Delivery::consumed;
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
  for (Connection& connection : connections_) {
    if (!connection.suspended || !open_) continue;
    if (receive(connection.peer, connection.recv_buffer)) connection.suspended = false;
  }
}

}  // namespace sim
