// For the world's tests: a ping sealed with pool/'s checksums, so that a receiver's validation
// passes without the processes' wire helpers (vsr/ is a layer above).
#pragma once

#include <cstdint>

#include "pool/header.h"
#include "pool/message_pool.h"

namespace sim::testing {

// A message of `pool` holding a valid ping from `replica`; the caller owns its reference.
inline pool::Message* ping_fill(pool::Message* message, uint8_t replica) {
  auto* header = message->build<pool::Command::ping>()->header;
  *header = {};
  header->frame.size = pool::header_size;
  header->frame.protocol = pool::protocol_version;
  header->frame.command = pool::Command::ping;
  header->frame.replica = replica;
  header->frame.release = 1;
  header->ping_timestamp_monotonic = 1;
  header->release_count = 1;
  pool::header_set_checksums(*message->header, message->body_used());
  return message;
}

inline pool::Message* ping_sealed(pool::MessagePool& pool, uint8_t replica) {
  return ping_fill(pool.get_message(), replica);
}

}  // namespace sim::testing
