// The places in a process that keep a pool message, each with its own name and the formula term
// that pays for it (or none). The README's holder table maps each to the original's lines.
//
// The order is the precedence of a message's primary holder: a message that several holders
// keep counts, among distinct messages, for the first of them. Holders that keep a message
// longest come first (the bus's buffers, the pipeline, the IO slots), transients last, so that a
// transient's distinct count is the messages that exist only because of it: a prepare handled
// while the pipeline keeps it costs the pool nothing beyond the pipeline's message.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "pool/accounting.h"
#include "pool/message_pool.h"

namespace sim {

// X(name, term): term is a pool::Term or `none` (no formula term pays for it).
#define SIM_HOLDERS(X)                               \
  X(connection_recv_buffer, connection_recv_buffers) \
  X(testing_bus_buffer, none)                        \
  X(pipeline, pipeline)                              \
  X(sync_view, sync_view)                            \
  X(join_view_quorum, join_view_quorum)              \
  X(journal_write, journal_writes)                   \
  X(client_replies_write, client_replies_writes)     \
  X(commit_prepare, commit_prepare)                  \
  X(loopback_queue, loopback_queue)                  \
  X(connection_send_queue, connection_send_queues)   \
  X(journal_read, journal_reads)                     \
  X(journal_read_before_budget, journal_reads)       \
  X(client_replies_read, client_replies_reads)       \
  X(grid_repair_read, grid_repair_reads)             \
  X(request_inflight, request_inflight)              \
  X(io_awaiting_unref, none)                         \
  X(handled_message, burst)                          \
  X(execute_reply, commit_reply)                     \
  X(reply_copy, reply_copy)                          \
  X(rebuilt_reply, burst)                            \
  X(ping, burst)                                     \
  X(pong, burst)                                     \
  X(pong_client, burst)                              \
  X(commit_heartbeat, burst)                         \
  X(prepare_ok, burst)                               \
  X(headers_response, burst)                         \
  X(view_response, burst)                            \
  X(exit_view_sent, burst)                           \
  X(join_view_sent, burst)                           \
  X(repair_request, burst)                           \
  X(client_ping, burst)

enum class Holder : uint8_t {
#define SIM_HOLDER_ENUM(name, term) name,
  SIM_HOLDERS(SIM_HOLDER_ENUM)
#undef SIM_HOLDER_ENUM
};

inline constexpr size_t holder_count = 0
#define SIM_HOLDER_COUNT(name, term) +1
    SIM_HOLDERS(SIM_HOLDER_COUNT)
#undef SIM_HOLDER_COUNT
    ;
static_assert(holder_count <= 64, "a message's holders are a 64-bit set");

// "handled_message", as the census, the summary and the README name it.
std::string_view holder_name(Holder holder);
// The term that pays for the holder, or nullopt ("no term").
std::optional<pool::Term> holder_term(Holder holder);
// The holder called `name`, or nullopt.
std::optional<Holder> holder_by_name(std::string_view name);

}  // namespace sim

// The holders as the pool's accounting's tags (sim::Census).
template <>
struct pool::TagTraits<sim::Holder> {
  static constexpr size_t count = sim::holder_count;
  static std::string_view name(sim::Holder holder) { return sim::holder_name(holder); }
};
