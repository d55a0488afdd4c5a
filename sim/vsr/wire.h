// Building the messages the simulated replicas and clients send: a zeroed header with the frame
// filled in, a body, then the checksums, so that every message passes the receiver's validation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pool/assertion.h"
#include "pool/config.h"
#include "pool/header.h"
#include "pool/message_pool.h"

namespace sim {

inline constexpr pool::U128 cluster_id{0x6D69'736C'6F6F'70, 0};  // "poolsim".
// Our state machine's operations (0 is reserved).
inline constexpr uint8_t operation_register = 1;
inline constexpr uint8_t operation_echo = 2;

// Zeroes the header and fills the frame for `command` from `replica` with a body of body_size.
template <pool::Command command>
pool::HeaderOf<command>* header_start(pool::Message* message, uint8_t replica, uint32_t view,
                                      uint32_t body_size) {
  POOL_ASSERT_LE(pool::header_size + body_size, message->buffer.size());
  POOL_ASSERT_GT(message->references, 0u);  // A live message of its pool.
  auto* header = message->build<command>()->header;
  *header = {};
  header->frame.cluster = cluster_id;
  header->frame.size = pool::header_size + body_size;
  header->frame.view = view;
  header->frame.protocol = pool::protocol_version;
  header->frame.command = command;
  header->frame.replica = replica;
  return header;
}

// Headers a message's body carries at most (headers, join_view, view): as many as fit.
inline uint32_t headers_per_message(const pool::Config& config) {
  return (config.message_size_max - pool::header_size) / pool::header_size;
}

// Every intact prepare header (checksum, command, op > 0) in a body of headers.
std::vector<pool::PrepareHeader> prepare_headers_in(std::span<const uint8_t> body);

// What a receiver's bus checks of the fields (pool::header_invalid): a sealed message passes.
inline bool header_valid(const pool::Message* message, const pool::Config& config) {
  return !pool::header_invalid(*message->header, config).has_value();
}

// Sets checksum_body and checksum over the body already in the buffer.
void message_seal(pool::Message* message);

// The client's id: never zero.
inline pool::U128 client_id(uint32_t client_index) { return pool::U128{client_index + 1u, 0}; }

// The state machine: an echo request's reply body is this digest of the client, the request
// number and the request body, so that a client can check that a reply answers its request.
pool::U128 echo_digest(const pool::U128& client, uint32_t request, std::span<const uint8_t> body);

// A reply's body size: an echo of an empty body is empty (as a batch whose every event succeeds
// gets an empty reply in the original), any other echo the digest; a register reply carries the
// original's RegisterResult (vsr.zig:393, 64 bytes: the batch size limit, then zeros).
inline constexpr uint32_t register_result_size = 64;
uint32_t reply_body_size(uint8_t operation, size_t request_body_size);
// Fills a register reply's body: the largest request body the cluster takes.
void register_result_write(std::span<uint8_t> body, const pool::Config& config);

}  // namespace sim
