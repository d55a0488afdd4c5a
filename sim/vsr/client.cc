#include "sim/vsr/client.h"

#include <cstring>

#include "sim/vsr/wire.h"

namespace sim {

using pool::Command;
using pool::Term;

Client::Client(const ProcessContext& context, const ClientOptions& options, uint32_t index,
               uint64_t requests_quota, pool::MessagePool& pool, Census& census)
    : context_(context),
      options_(options),
      index_(index),
      process_(context_.shape.client_process(index)),
      requests_quota_(requests_quota),
      pool_(pool),
      census_(census),
      prng_(prng_for(context.seed, PrngStream::client_base, index)),
      bus_(MessageBus::Shape{context.bus, context_.shape.client_process(index), true,
                             context_.shape.member_count, context_.shape.replica_count, 0,
                             context.config.connection_send_queue_max_client, context.seed},
           pool, census, context.network, context.scheduler) {
  POOL_ASSERT_LT(index, context_.shape.client_count);
  POOL_ASSERT_GE(context_.shape.replica_count, 1u);
  POOL_ASSERT_LE(options_.request_body_size_max,
                 context_.config.message_size_max - pool::header_size);
  bus_.set_on_message([this](uint32_t from, pool::Message* message) { on_message(from, message); });
}

Client::~Client() { close(); }

void Client::open() {
  POOL_ASSERT(!bus_.is_open(), "c%u opened twice", index_);
  POOL_ASSERT(inflight_ == nullptr);
  bus_.open();
  ping_timeout_.start();
}

void Client::close() {
  if (inflight_ != nullptr) census_.release(pool_, Holder::request_inflight, inflight_);
  inflight_ = nullptr;
  bus_.close();
  POOL_ASSERT_EQ(census_.held(Term::request_inflight), 0u);
  POOL_ASSERT(!bus_.is_open());
}

std::string Client::describe() const {
  POOL_ASSERT_LE(requests_done_, requests_quota_);
  if (inflight_ == nullptr) {
    const std::string next =
        requests_done_ < requests_quota_
            ? " about to send its next request at tick " + std::to_string(think_until_tick_)
            : " done";
    return "c" + std::to_string(index_) + next + ", " + std::to_string(requests_done_) + "/" +
           std::to_string(requests_quota_) + " requests answered";
  }
  POOL_ASSERT(request_timeout_.ticking, "a request in flight is always timed");
  return "c" + std::to_string(index_) + " request " + std::to_string(request_number_) +
         " in flight since tick " + std::to_string(inflight_since_tick_) + " (attempt " +
         std::to_string(request_timeout_.attempts + 1) + "), " + std::to_string(requests_done_) +
         "/" + std::to_string(requests_quota_) + " answered";
}

void Client::tick() {
  if (!bus_.is_open()) return;  // Left (below).
  if (context_.bus == pool::MessageBusKind::tcp && done()) {
    // Its work done, the application goes, and its connections with it: a replica's table,
    // which has room for clients_limit clients only (message_bus.zig:105-112), takes the next
    // client past the limit in its place.
    close();
    return;
  }
  bus_.tick();  // client.zig:262, before the timeouts.
  POOL_ASSERT_EQ(inflight_ != nullptr, request_timeout_.ticking);
  request_timeout_.tick();
  ping_timeout_.tick();
  if (ping_timeout_.fired()) {
    ping_timeout_.reset();
    send_ping();
  }
  if (inflight_ != nullptr && request_timeout_.fired()) {
    context_.record(TraceKind::timeout, process_, timeout_trace_code(TimeoutKind::client_request),
                    request_number_);
    request_timeout_.backoff(prng_);
    request_send();
  }
  if (inflight_ == nullptr && requests_done_ < requests_quota_ &&
      context_.now_tick() >= think_until_tick_) {
    request_next();
  }
  POOL_ASSERT_LE(requests_done_, requests_quota_);
}

void Client::send_ping() {
  // The client's burst: a ping built while its send queues may be full.
  pool::Message* ping = census_.acquire(pool_, Holder::client_ping);
  auto* header = header_start<Command::ping_client>(ping, 0, 0, 0);
  header->frame.release = 1;
  header->client = client_id(index_);
  header->ping_timestamp_monotonic = context_.now_tick() + 1;
  header->session = session_;
  message_seal(ping);
  POOL_ASSERT_EQ(ping->header->frame.size, pool::header_size);
  for (uint32_t replica = 0; replica < context_.shape.replica_count; replica++)
    bus_.send(replica, ping);
  census_.release(pool_, Holder::client_ping, ping);
  POOL_ASSERT_EQ(census_.held(Term::burst), 0u);
}

void Client::request_next() {
  POOL_ASSERT(inflight_ == nullptr);
  POOL_ASSERT_LT(requests_done_, requests_quota_);
  const bool register_first = !registered_;
  const uint32_t body_size =
      register_first
          ? 0
          : static_cast<uint32_t>(prng_.range_inclusive(0, options_.request_body_size_max));
  request_number_ = register_first ? 0 : request_number_ + 1;
  inflight_ = census_.acquire(pool_, Holder::request_inflight);
  auto* header = header_start<Command::request>(inflight_, 0, 0, body_size);
  header->frame.release = 1;
  header->parent = parent_;
  header->client = client_id(index_);
  header->session = session_;
  header->timestamp = 0;
  header->request = request_number_;
  header->operation = register_first ? operation_register : operation_echo;
  auto body = inflight_->body_used();
  for (size_t i = 0; i < body.size(); i += 8) {
    const uint64_t word = prng_.next();
    std::memcpy(body.data() + i, &word, std::min<size_t>(8, body.size() - i));
  }
  message_seal(inflight_);
  POOL_ASSERT_EQ(inflight_->header->frame.size, pool::header_size + body_size);
  POOL_ASSERT(register_first || registered_);
  inflight_since_tick_ = context_.now_tick();
  request_timeout_.start();
  context_.record(TraceKind::request, process_, request_number_, 0);
  request_send();
}

void Client::request_send() {
  // Hedging: the primary of the latest view the client has heard of, and one other replica
  // (which forwards the request to its primary).
  POOL_ASSERT(inflight_ != nullptr);
  POOL_ASSERT_EQ(inflight_->header->frame.command, Command::request);
  const uint32_t primary = view_ % context_.shape.replica_count;
  bus_.send(primary, inflight_);
  if (context_.shape.replica_count > 1) {
    const auto other = static_cast<uint32_t>(prng_.below(context_.shape.replica_count - 1));
    bus_.send(other >= primary ? other + 1 : other, inflight_);
  }
}

void Client::on_message(uint32_t from, pool::Message* message) {
  // The bus delivers what its replicas send; a client hears from nobody else.
  POOL_ASSERT_LT(from, context_.shape.member_count);
  POOL_ASSERT(
      message->header->frame.command == Command::reply ||
          message->header->frame.command == Command::pong_client,
      "c%u: %s from %u", index_,
      std::string(pool::command_name(static_cast<uint8_t>(message->header->frame.command))).c_str(),
      from);
  // Replies and pongs name their sender's view.
  if (from < context_.shape.replica_count) view_ = std::max(view_, message->header->frame.view);
  if (message->header->frame.command == Command::reply) on_reply(message);
  // pong_client: nothing to learn without clocks.
}

// A duplicate or an old reply, or one for another client (a replica's table may be stale).
bool Client::ignore_reply(const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::reply);
  const auto* reply = message->build<pool::Command::reply>()->header;
  if (inflight_ == nullptr) return true;
  POOL_ASSERT_EQ(inflight_->header->frame.command, Command::request);
  return reply->client != client_id(index_) || reply->request != request_number_;
}

void Client::on_reply(pool::Message* message) {
  if (ignore_reply(message)) return;
  const auto* reply = message->build<Command::reply>()->header;
  POOL_ASSERT(inflight_ != nullptr && reply->request == request_number_);
  POOL_ASSERT_EQ(census_.held(Term::request_inflight), 1u);
  const auto* request = inflight_->build<Command::request>()->header;
  // The reply checker sees the request and its reply (checkers.h).
  ProcessEvent event{ProcessEventKind::reply_accepted, index_};
  event.op = reply->op;
  event.request_header = request;
  event.request_body = inflight_->body_used();
  event.reply_header = reply;
  event.reply_body = message->body_used();
  if (!context_.report(event)) return;  // Not the request's reply: the run fails here.
  parent_ = reply->context;
  if (!registered_) {
    registered_ = true;
    session_ = reply->commit;
  } else {
    requests_done_ += 1;
  }
  context_.record(TraceKind::reply, process_, request_number_, reply->op);
  census_.release(pool_, Holder::request_inflight, inflight_);
  inflight_ = nullptr;
  request_timeout_.stop();
  think_until_tick_ = context_.now_tick() + prng_.range_inclusive(0, 10);
  POOL_ASSERT(registered_);
  POOL_ASSERT_LE(requests_done_, requests_quota_);
  // The original releases request_inflight before the user's callback (client.zig:606), which
  // may submit the next request at once, while the reply is still the handled message.
  if (think_until_tick_ == context_.now_tick() && requests_done_ < requests_quota_) {
    request_next();
    POOL_ASSERT_EQ(census_.held(Holder::handled_message), 1u);
  }
}

}  // namespace sim
