// One tcp connection of the bus, in the original's states (src/message_bus.zig:1251-1303 at
// 52ad553f9) and with its buffers: the receive buffer while connected or terminating, and the
// send queue from the first send until the close.
#pragma once

#include <cstdint>
#include <deque>

#include "pool/message_pool.h"

namespace sim {

enum class ConnectionState : uint8_t {
  free,         // Not in use.
  accepting,    // Reserved for the accept in progress (tick_accept).
  connecting,   // To a replica: the backoff timeout, then the connect (connect_connection).
  connected,    // Either end; the peer may still be unknown on an accepted one.
  terminating,  // Closing: buffers kept until its IO is back and its message consumed.
};
const char* connection_state_name(ConnectionState state);

struct Connection {
  static constexpr uint32_t peer_unknown = UINT32_MAX;

  ConnectionState state = ConnectionState::free;
  // Who the bus knows is at the other end: the replica it connects to, or (accepted) what the
  // first message says (recv_update_peer, message_bus.zig:747-870); peer_unknown until then.
  uint32_t peer = peer_unknown;
  uint32_t remote = peer_unknown;  // Who is at the other end, as the network knows.
  uint64_t link = 0;               // The network's link, from the connect or the accept.
  uint64_t generation = 0;         // Each use's callbacks check it: a reused slot ignores them.
  uint64_t connected_tick = 0;     // state.connected's Instant: an unknown peer's age.
  pool::Message* recv_buffer = nullptr;
  std::deque<pool::Message*> send_queue;
  // The operations submitted, as recv_submitted/send_submitted: terminate_join waits for them.
  bool connect_pending = false;  // The backoff timeout or the connect (both on recv_completion).
  bool recv_pending = false;     // A recv that shutdown() woke: its callback is on its way.
  bool send_pending = false;     // An asynchronous send, waiting for the socket to take it.
  bool suspended = false;        // The buffer holds a message the process has not taken yet.
  bool peer_closed = false;      // The peer's FIN came while the buffer was suspended.
  bool closing = false;          // Buffers released; the close's callback frees the slot.
  bool fin_sent = false;         // shutdown() told the peer already.
};

}  // namespace sim
