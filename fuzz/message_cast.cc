#include "fuzz/message_cast.h"

#include <algorithm>
#include <cstring>

#include "fuzz/byte_reader.h"
#include "pool/message_pool.h"

namespace fuzz {

namespace {

// Every property of an accepted message.
void check_accepted(pool::MessagePool& pool, pool::Message* message,
                    std::span<const uint8_t> body) {
  const pool::Header& header = *message->header;
  const pool::Config& config = pool.config();
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
  POOL_ASSERT(!pool::message_invalid(*copy->header, body, config).has_value());
  pool.unref(copy);
}

// A rejection has a reason, and a reason that is true.
void check_rejected(pool::MessagePool& pool, pool::Message* message, std::span<const uint8_t> body,
                    std::string_view reason) {
  POOL_ASSERT(!reason.empty());
  const pool::Header& header = *message->header;
  if (reason == "checksum mismatch") {
    POOL_ASSERT(header.frame.checksum != pool::header_checksum_calculate(header));
    return;
  }
  if (reason == "size > bytes received") {
    POOL_ASSERT_GT(header.frame.size - pool::header_size, body.size());
    return;
  }
  if (reason == "checksum_body mismatch") {
    POOL_ASSERT(!pool::header_invalid(header, pool.config()).has_value());
    return;
  }
  // A field rule: the header's own validation names the same reason.
  const auto fields = pool::header_invalid(header, pool.config());
  POOL_ASSERT(fields.has_value() && *fields == reason, "reason '%.*s'",
              static_cast<int>(reason.size()), reason.data());
}

}  // namespace

std::vector<uint8_t> message_cast_encode(const pool::Header& header,
                                         std::span<const uint8_t> body) {
  ByteWriter writer;
  writer.bytes({reinterpret_cast<const uint8_t*>(&header), pool::header_size});
  writer.bytes(body);
  return writer.data();
}

void message_cast_run(std::span<const uint8_t> data) {
  static const pool::Config config = pool::config_test_min();
  // One pool for every input (a mapping per input would cost more than the checks).
  static pool::MessagePool pool(config, 2, "fuzz");
  ByteReader reader(data);
  pool::Message* message = pool.get_message();
  std::memset(message->buffer.data(), 0, pool::header_size);
  const std::span<const uint8_t> header_bytes = reader.bytes(pool::header_size);
  std::memcpy(message->buffer.data(), header_bytes.data(), header_bytes.size());
  const std::span<const uint8_t> body = reader.bytes(config.message_size_max - pool::header_size);
  std::memcpy(message->buffer.data() + pool::header_size, body.data(), body.size());
  const std::span<const uint8_t> received(message->buffer.data() + pool::header_size, body.size());

  const auto reason = pool::message_invalid(*message->header, received, config);
  if (reason) {
    check_rejected(pool, message, received, *reason);
  } else {
    check_accepted(pool, message, received);
  }
  pool.unref(message);
}

}  // namespace fuzz
