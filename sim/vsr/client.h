// A simulated client: registers, then sends its share of the requests one at a time, holding
// the request in flight (request_inflight) until its reply arrives, retrying with backoff and
// hedging to the primary and one other replica, as the original's client does. Every reply is
// checked against the request it answers.
#pragma once

#include <cstdint>
#include <string>

#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/core/prng.h"
#include "sim/vsr/client_options.h"
#include "sim/vsr/process_context.h"
#include "sim/vsr/timeout.h"
#include "sim/world/message_bus.h"

namespace sim {

class Client {
 public:
  Client(const ProcessContext& context, const ClientOptions& options, uint32_t index,
         uint64_t requests_quota, pool::MessagePool& pool, Census& census);
  ~Client();

  void open();
  void close();
  void tick();

  // The bus the network delivers to (the cluster links it, as the original's network.link).
  MessageBus& bus() { return bus_; }

  // All its requests answered.
  bool done() const { return requests_done_ == requests_quota_ && inflight_ == nullptr; }
  uint64_t requests_done() const { return requests_done_; }
  // "c0 request 5 in flight since tick 1200 (attempt 4)".
  std::string describe() const;

 private:
  void on_message(uint32_t from, pool::Message* message);
  // What on_reply ignores, decided in one place.
  bool ignore_reply(const pool::Message* message) const;
  void on_reply(pool::Message* message);
  void request_next();
  void request_send();
  void send_ping();

  const ProcessContext& context_;
  const ClientOptions options_;
  const uint32_t index_;
  const uint32_t process_;
  const uint64_t requests_quota_;
  pool::MessagePool& pool_;
  Census& census_;
  Prng prng_;
  MessageBus bus_;

  pool::Message* inflight_ = nullptr;
  uint32_t request_number_ = 0;  // The request in flight (0: register).
  uint32_t view_ = 0;            // The latest view a replica's message named.
  bool registered_ = false;
  uint64_t session_ = 0;
  pool::U128 parent_{0, 0};  // The latest reply's context.
  uint64_t requests_done_ = 0;
  uint64_t inflight_since_tick_ = 0;
  uint64_t think_until_tick_ = 0;
  Timeout request_timeout_{60};
  Timeout ping_timeout_{500};
};

}  // namespace sim
