#include "sim/wire.h"

#include <cstring>
#include <vector>

namespace sim {

void message_seal(pool::Message* message) {
  pool::header_set_checksums(*message->header, message->body_used());
}

pool::U128 echo_digest(const pool::U128& client, uint32_t request, std::span<const uint8_t> body) {
  std::vector<uint8_t> bytes(sizeof(client) + sizeof(request) + body.size());
  std::memcpy(bytes.data(), &client, sizeof(client));
  std::memcpy(bytes.data() + sizeof(client), &request, sizeof(request));
  if (!body.empty()) {
    std::memcpy(bytes.data() + sizeof(client) + sizeof(request), body.data(), body.size());
  }
  return pool::checksum(bytes);
}

}  // namespace sim
