#include "sim/vsr/superblock.h"

#include <cstring>
#include <type_traits>

#include "pool/assertion.h"

namespace sim {

namespace {

template <typename T>
void put(std::vector<uint8_t>& bytes, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const size_t offset = bytes.size();
  bytes.resize(offset + sizeof(T));
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

template <typename T>
T take(std::span<const uint8_t> bytes, size_t& offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  POOL_ASSERT(offset + sizeof(T) <= bytes.size(), "superblock truncated");
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  offset += sizeof(T);
  return value;
}

// The size of an encoded superblock with `client_count` sessions.
size_t encoded_size(size_t client_count) {
  return sizeof(uint32_t) * 3 + sizeof(uint64_t) + sizeof(pool::U128) +
         sizeof(pool::PrepareHeader) + client_count * (sizeof(uint8_t) + sizeof(pool::ReplyHeader));
}

}  // namespace

std::vector<uint8_t> superblock_encode(const Superblock& superblock) {
  POOL_ASSERT_LE(superblock.log_view, superblock.view);  // As decode checks it.
  std::vector<uint8_t> bytes;
  bytes.reserve(encoded_size(superblock.clients.size()));
  put(bytes, superblock.view);
  put(bytes, superblock.log_view);
  put(bytes, superblock.checkpoint_op);
  put(bytes, superblock.checkpoint_checksum);
  put(bytes, superblock.checkpoint_header);
  put(bytes, static_cast<uint32_t>(superblock.clients.size()));
  for (const ClientSession& session : superblock.clients) {
    put(bytes, static_cast<uint8_t>(session.registered));
    put(bytes, session.reply);
  }
  POOL_ASSERT_EQ(bytes.size(), encoded_size(superblock.clients.size()));
  return bytes;
}

Superblock superblock_decode(std::span<const uint8_t> bytes) {
  Superblock superblock;
  size_t offset = 0;
  superblock.view = take<uint32_t>(bytes, offset);
  superblock.log_view = take<uint32_t>(bytes, offset);
  POOL_ASSERT_LE(superblock.log_view, superblock.view);
  superblock.checkpoint_op = take<uint64_t>(bytes, offset);
  superblock.checkpoint_checksum = take<pool::U128>(bytes, offset);
  superblock.checkpoint_header = take<pool::PrepareHeader>(bytes, offset);
  const auto client_count = take<uint32_t>(bytes, offset);
  POOL_ASSERT(bytes.size() == encoded_size(client_count),
              "superblock truncated or with trailing bytes");
  superblock.clients.resize(client_count);
  for (ClientSession& session : superblock.clients) {
    const auto registered = take<uint8_t>(bytes, offset);
    POOL_ASSERT_LE(registered, 1u);
    session.registered = registered == 1;
    session.reply = take<pool::ReplyHeader>(bytes, offset);
  }
  POOL_ASSERT(offset == bytes.size(), "superblock has trailing bytes");
  return superblock;
}

}  // namespace sim
