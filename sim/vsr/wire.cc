#include "sim/vsr/wire.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace sim {

void message_seal(pool::Message* message) {
  POOL_ASSERT_GE(message->header->frame.size, pool::header_size);
  POOL_ASSERT_LE(message->header->frame.size, message->buffer.size());
  pool::header_set_checksums(*message->header, message->body_used());
}

std::vector<pool::PrepareHeader> prepare_headers_in(std::span<const uint8_t> body) {
  std::vector<pool::PrepareHeader> headers;
  headers.reserve(body.size() / pool::header_size);
  for (size_t offset = 0; offset + pool::header_size <= body.size(); offset += pool::header_size) {
    pool::PrepareHeader header;
    std::memcpy(&header, body.data() + offset, pool::header_size);
    if (header.frame.command != pool::Command::prepare || header.op == 0 ||
        header.frame.checksum !=
            pool::header_checksum_calculate(*reinterpret_cast<const pool::Header*>(&header))) {
      continue;
    }
    headers.push_back(header);
  }
  POOL_ASSERT_LE(headers.size(), body.size() / pool::header_size);
  return headers;
}

pool::U128 echo_digest(const pool::U128& client, uint32_t request, std::span<const uint8_t> body) {
  POOL_ASSERT(client.low != 0 || client.high != 0, "client ids are never zero");
  std::vector<uint8_t> bytes(sizeof(client) + sizeof(request) + body.size());
  std::memcpy(bytes.data(), &client, sizeof(client));
  std::memcpy(bytes.data() + sizeof(client), &request, sizeof(request));
  if (!body.empty()) {
    std::memcpy(bytes.data() + sizeof(client) + sizeof(request), body.data(), body.size());
  }
  return pool::checksum(bytes);
}

uint32_t reply_body_size(uint8_t operation, size_t request_body_size) {
  if (operation == operation_register) return register_result_size;
  POOL_ASSERT_EQ(operation, operation_echo);
  return request_body_size == 0 ? 0 : sizeof(pool::U128);
}

void register_result_write(std::span<uint8_t> body, const pool::Config& config) {
  POOL_ASSERT_EQ(body.size(), size_t{register_result_size});
  std::fill(body.begin(), body.end(), uint8_t{0});
  const uint32_t batch_size_limit = config.message_size_max - pool::header_size;
  std::memcpy(body.data(), &batch_size_limit, sizeof(batch_size_limit));
}

}  // namespace sim
