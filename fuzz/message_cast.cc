#include "fuzz/message_cast.h"

#include <algorithm>
#include <cstring>

#include "fuzz/byte_reader.h"
#include "pool/message_pool.h"

namespace fuzz {

namespace {

uint32_t load_u32(const uint8_t* bytes) {
  uint32_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

bool zero(const uint8_t* bytes, size_t size) {
  return std::all_of(bytes, bytes + size, [](uint8_t byte) { return byte == 0; });
}

// The frame's rules, read from the raw bytes at their wire offsets (independently of the
// structs and of header_invalid): a message that breaks one must be rejected.
bool frame_well_formed(const uint8_t* bytes, const pool::Config& config) {
  const uint32_t size = load_u32(bytes + 96);
  const uint8_t command = bytes[114];
  const uint16_t protocol = static_cast<uint16_t>(bytes[112] | (bytes[113] << 8));
  const bool known =
      std::any_of(pool::commands_known.begin(), pool::commands_known.end(),
                  [&](pool::Command c) { return static_cast<uint8_t>(c) == command; });
  const bool block = command == static_cast<uint8_t>(pool::Command::block);
  return zero(bytes + 16, 16) && zero(bytes + 48, 32) && size >= pool::header_size &&
         size <= config.message_size_max && zero(bytes + 100, 4) && zero(bytes + 116, 12) &&
         known && (block ? protocol <= pool::protocol_version : protocol == pool::protocol_version);
}

// Every property of an accepted message.
void check_accepted(pool::MessagePool& pool, pool::Message* message) {
  const pool::Header& header = *message->header;
  const pool::Config& config = pool.config();
  const uint8_t* bytes = message->buffer.data();
  POOL_ASSERT(frame_well_formed(bytes, config), "accepted a malformed frame");
  POOL_ASSERT(header.frame.checksum == pool::checksum({bytes + 16, pool::header_size - 16}));
  POOL_ASSERT(header.frame.checksum == pool::header_checksum_calculate(header));
  POOL_ASSERT(!pool::header_invalid(header, config).has_value());
  POOL_ASSERT_GE(header.frame.size, pool::header_size);
  POOL_ASSERT_LE(header.frame.size, config.message_size_max);

  // into<C> only for the header's command; into_any the matching alternative.
  size_t matches = 0;
  for (pool::Command command : pool::commands_known) {
    pool::command_visit(command, [&](auto typed) {
      const bool cast = message->into<decltype(typed)::value>() != nullptr;
      POOL_ASSERT_EQ(cast, header.frame.command == command);
      matches += cast;
    });
  }
  POOL_ASSERT_EQ(matches, size_t{1});
  const auto position =
      std::find(pool::commands_known.begin(), pool::commands_known.end(), header.frame.command) -
      pool::commands_known.begin();
  POOL_ASSERT_EQ(message->into_any().index(), static_cast<size_t>(position));

  const std::span<uint8_t> used = message->body_used();
  POOL_ASSERT_EQ(used.size(), size_t{header.frame.size - pool::header_size});
  POOL_ASSERT(used.data() == message->buffer.data() + pool::header_size);
  POOL_ASSERT(used.data() + used.size() <= message->buffer.data() + message->buffer.size());
  POOL_ASSERT(pool::checksum(used) == header.frame.checksum_body);

  // Round trip: the same fields and body, checksummed afresh, give the same checksums.
  pool::Message* copy = pool.get_message();
  std::memcpy(copy->buffer.data(), message->buffer.data(), header.frame.size);
  copy->header->frame.checksum = {0, 0};
  copy->header->frame.checksum_body = {0, 0};
  pool::header_set_checksums(*copy->header, copy->body_used());
  POOL_ASSERT(copy->header->frame.checksum == header.frame.checksum);
  POOL_ASSERT(copy->header->frame.checksum_body == header.frame.checksum_body);
  POOL_ASSERT(!pool::message_invalid(*copy->header, copy->body_used(), config).has_value());
  pool.unref(copy);
}

// A rejection has a reason, and a reason that is true.
void check_rejected(pool::MessagePool& pool, pool::Message* message, std::span<const uint8_t> body,
                    std::string_view reason) {
  POOL_ASSERT(!reason.empty());
  const pool::Header& header = *message->header;
  const uint8_t* bytes = message->buffer.data();
  const bool checksum_right =
      header.frame.checksum == pool::checksum({bytes + 16, pool::header_size - 16});
  if (reason == "checksum mismatch") {
    POOL_ASSERT(!checksum_right);
    return;
  }
  POOL_ASSERT(checksum_right, "rejected for '%.*s' before its checksum",
              static_cast<int>(reason.size()), reason.data());
  const auto fields = pool::header_invalid(header, pool.config());
  if (reason == "size > bytes received" || reason == "checksum_body mismatch") {
    POOL_ASSERT(!fields.has_value());
    POOL_ASSERT(frame_well_formed(bytes, pool.config()));
    const size_t body_size = header.frame.size - pool::header_size;
    if (reason == "size > bytes received") {
      POOL_ASSERT_GT(body_size, body.size());
    } else {
      POOL_ASSERT_LE(body_size, body.size());
      POOL_ASSERT(pool::checksum(body.first(body_size)) != header.frame.checksum_body);
    }
    return;
  }
  // A field rule. The frame's rules come first: the reason is one of them exactly when the
  // raw-byte oracle finds the frame malformed.
  POOL_ASSERT(fields.has_value() && *fields == reason);
  static constexpr std::string_view frame_reasons[] = {"checksum_padding != 0",
                                                       "checksum_body_padding != 0",
                                                       "nonce_reserved != 0",
                                                       "size < header_size",
                                                       "size > message_size_max",
                                                       "epoch != 0",
                                                       "reserved_frame != 0",
                                                       "command retired",
                                                       "command unknown",
                                                       "protocol != protocol_version",
                                                       "block: protocol > protocol_version"};
  const bool frame_reason = std::find(std::begin(frame_reasons), std::end(frame_reasons), reason) !=
                            std::end(frame_reasons);
  POOL_ASSERT_EQ(frame_reason, !frame_well_formed(bytes, pool.config()));
}

}  // namespace

std::vector<uint8_t> message_cast_encode(const pool::Header& header, std::span<const uint8_t> body,
                                         bool seal) {
  ByteWriter writer;
  writer.u8(seal ? 1 : 0);
  writer.bytes({reinterpret_cast<const uint8_t*>(&header), pool::header_size});
  writer.bytes(body);
  return writer.data();
}

void message_cast_run(std::span<const uint8_t> data) {
  static const pool::Config config = pool::config_test_min();
  // One pool for every input (a mapping per input would cost more than the checks).
  static pool::MessagePool pool(config, 2, "fuzz");
  ByteReader reader(data);
  const bool seal = (reader.u8() & 1) != 0;
  pool::Message* message = pool.get_message();
  std::memset(message->buffer.data(), 0, pool::header_size);
  const std::span<const uint8_t> header_bytes = reader.bytes(pool::header_size);
  if (!header_bytes.empty()) {
    std::memcpy(message->buffer.data(), header_bytes.data(), header_bytes.size());
  }
  const std::span<const uint8_t> body = reader.bytes(config.message_size_max - pool::header_size);
  if (!body.empty())
    std::memcpy(message->buffer.data() + pool::header_size, body.data(), body.size());
  const std::span<const uint8_t> received(message->buffer.data() + pool::header_size, body.size());
  // Sealing gives the fuzzer headers whose checksums hold, so that it reaches the field rules.
  const uint32_t size = message->header->frame.size;
  if (seal && size >= pool::header_size && size <= config.message_size_max &&
      size - pool::header_size <= received.size()) {
    pool::header_set_checksums(*message->header, received.first(size - pool::header_size));
  }

  const auto reason = pool::message_invalid(*message->header, received, config);
  if (reason) {
    check_rejected(pool, message, received, *reason);
  } else {
    check_accepted(pool, message);
  }
  pool.unref(message);
}

}  // namespace fuzz
