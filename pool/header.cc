#include "pool/header.h"

// xxHash compiled into this file (header-only), so that the pool links no library of its own:
// a fuzz target built for OSS-Fuzz ships as one static binary.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "pool/assertion.h"
#include "pool/checksum_wide.h"

namespace pool {
namespace {

static_assert(commands_all([](auto command) {
                return header_layout_identical<HeaderOf<decltype(command)::value>>();
              }),
              "every typed header must be layout-identical to Header");

template <size_t size>
bool zeroed(const std::array<uint8_t, size>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t byte) { return byte == 0; });
}

constexpr U128 u128_zero{0, 0};

// For the commands that carry no body.
std::optional<std::string_view> invalid_body_empty(const HeaderFrame& frame) {
  if (frame.size != header_size) return "size != header_size (this command has no body)";
  if (frame.checksum_body != checksum_body_empty()) return "checksum_body != checksum of empty";
  return std::nullopt;
}

// Each returns the first broken rule of its command, or nullopt. The frame is already valid.
std::optional<std::string_view> invalid_fields(const ReservedHeader&) {
  return "reserved is invalid";
}

std::optional<std::string_view> invalid_fields(const PingHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release == 0) return "ping: release == 0";
  if (header.ping_timestamp_monotonic == 0) return "ping: ping_timestamp_monotonic == 0";
  if (header.release_count == 0) return "ping: release_count == 0";
  if (!zeroed(header.reserved)) return "ping: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const PongHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release == 0) return "pong: release == 0";
  if (header.ping_timestamp_monotonic == 0) return "pong: ping_timestamp_monotonic == 0";
  if (header.pong_timestamp_wall == 0) return "pong: pong_timestamp_wall == 0";
  if (!zeroed(header.reserved)) return "pong: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const PingClientHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release == 0) return "ping_client: release == 0";
  if (header.frame.replica != 0) return "ping_client: replica != 0";
  if (header.frame.view != 0) return "ping_client: view != 0";
  if (header.client == u128_zero) return "ping_client: client == 0";
  if (!zeroed(header.reserved)) return "ping_client: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const PongClientHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release == 0) return "pong_client: release == 0";
  if (!zeroed(header.reserved)) return "pong_client: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const RequestHeader& header) {
  if (header.frame.release == 0) return "request: release == 0";
  if (header.frame.replica != 0) return "request: replica != 0";
  if (header.parent_padding != u128_zero) return "request: parent_padding != 0";
  if (header.client == u128_zero) return "request: client == 0";
  if (header.operation == 0) return "request: operation == reserved";
  if (!zeroed(header.previous_request_latency_padding)) {
    return "request: previous_request_latency_padding != 0";
  }
  if (!zeroed(header.reserved)) return "request: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const PrepareHeader& header) {
  if (header.parent_padding != u128_zero) return "prepare: parent_padding != 0";
  if (header.request_checksum_padding != u128_zero) {
    return "prepare: request_checksum_padding != 0";
  }
  if (header.operation == 0) return "prepare: operation == reserved";
  // Only the root prepare (op 0) has no predecessor; every other op commits after its parent.
  if (header.op > 0 && header.commit >= header.op) return "prepare: commit >= op";
  if (!zeroed(header.reserved)) return "prepare: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const PrepareOkHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release != 0) return "prepare_ok: release != 0";
  if (header.parent_padding != u128_zero) return "prepare_ok: parent_padding != 0";
  if (header.prepare_checksum_padding != u128_zero) {
    return "prepare_ok: prepare_checksum_padding != 0";
  }
  if (header.operation == 0) return "prepare_ok: operation == reserved";
  if (!zeroed(header.reserved)) return "prepare_ok: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const ReplyHeader& header) {
  if (header.frame.release == 0) return "reply: release == 0";
  if (header.request_checksum_padding != u128_zero) {
    return "reply: request_checksum_padding != 0";
  }
  if (header.context_padding != u128_zero) return "reply: context_padding != 0";
  if (header.client == u128_zero) return "reply: client == 0";
  if (header.op != header.commit) return "reply: op != commit";
  if (header.commit == 0) return "reply: commit == 0";
  if (header.timestamp == 0) return "reply: timestamp == 0";
  if (!zeroed(header.reserved)) return "reply: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const CommitHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release != 0) return "commit: release != 0";
  if (header.commit_checksum_padding != u128_zero) return "commit: commit_checksum_padding != 0";
  if (header.commit < header.checkpoint_op) return "commit: commit < checkpoint_op";
  if (header.timestamp_monotonic == 0) return "commit: timestamp_monotonic == 0";
  if (!zeroed(header.reserved)) return "commit: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const ExitViewHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release != 0) return "exit_view: release != 0";
  if (!zeroed(header.reserved)) return "exit_view: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const JoinViewHeader& header) {
  if ((header.frame.size - header_size) % header_size != 0) {
    return "join_view: body not a whole number of headers";
  }
  if (header.frame.release != 0) return "join_view: release != 0";
  if (header.op < header.commit_min) return "join_view: op < commit_min";
  if (header.commit_min < header.checkpoint_op) return "join_view: commit_min < checkpoint_op";
  if (header.log_view > header.frame.view) return "join_view: log_view > view";
  if (!zeroed(header.reserved)) return "join_view: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const GetViewHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release != 0) return "get_view: release != 0";
  if (header.nonce == u128_zero) return "get_view: nonce == 0";
  if (!zeroed(header.reserved)) return "get_view: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const GetHeadersHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release != 0) return "get_headers: release != 0";
  if (header.frame.view != 0) return "get_headers: view != 0";
  if (header.op_min > header.op_max) return "get_headers: op_min > op_max";
  if (!zeroed(header.reserved)) return "get_headers: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const GetPrepareHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release != 0) return "get_prepare: release != 0";
  if (header.prepare_checksum_padding != u128_zero) {
    return "get_prepare: prepare_checksum_padding != 0";
  }
  if (!zeroed(header.reserved)) return "get_prepare: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const GetReplyHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release != 0) return "get_reply: release != 0";
  if (header.frame.view != 0) return "get_reply: view != 0";
  if (header.reply_checksum_padding != u128_zero) return "get_reply: reply_checksum_padding != 0";
  if (header.reply_client == u128_zero) return "get_reply: reply_client == 0";
  if (!zeroed(header.reserved)) return "get_reply: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const HeadersHeader& header) {
  if ((header.frame.size - header_size) % header_size != 0) {
    return "headers: body not a whole number of headers";
  }
  if (header.frame.release != 0) return "headers: release != 0";
  if (!zeroed(header.reserved)) return "headers: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const EvictionHeader& header) {
  if (auto reason = invalid_body_empty(header.frame)) return reason;
  if (header.frame.release == 0) return "eviction: release == 0";
  if (header.client == u128_zero) return "eviction: client == 0";
  if (header.reason == 0) return "eviction: reason == reserved";
  if (!zeroed(header.reserved)) return "eviction: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const GetBlocksHeader& header) {
  if (header.frame.size == header_size) return "get_blocks: body empty";
  if ((header.frame.size - header_size) % sizeof(BlockRequest) != 0) {
    return "get_blocks: body not a whole number of block requests";
  }
  if (header.frame.release != 0) return "get_blocks: release != 0";
  if (header.frame.view != 0) return "get_blocks: view != 0";
  if (!zeroed(header.reserved)) return "get_blocks: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const BlockHeader& header) {
  if (header.frame.release == 0) return "block: release == 0";
  if (header.frame.view != 0) return "block: view != 0";
  if (header.frame.replica != 0) return "block: replica != 0";
  if (header.address == 0) return "block: address == 0";
  if (!zeroed(header.reserved_block)) return "block: reserved_block != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_fields(const ViewHeader& header) {
  if ((header.frame.size - header_size) % header_size != 0) {
    return "view: body not a whole number of headers";
  }
  if (header.frame.release != 0) return "view: release != 0";
  if (header.op < header.commit_max) return "view: op < commit_max";
  if (header.commit_max < header.checkpoint_op) return "view: commit_max < checkpoint_op";
  if (!zeroed(header.reserved)) return "view: reserved != 0";
  return std::nullopt;
}

std::optional<std::string_view> invalid_command_fields(const Header& header) {
  std::optional<std::string_view> result;
  const bool known = command_visit(header.frame.command, [&](auto command) {
    result = invalid_fields(*reinterpret_cast<const HeaderOf<decltype(command)::value>*>(&header));
  });
  POOL_ASSERT(known, "command %u", static_cast<unsigned>(header.frame.command));
  return result;
}

}  // namespace

bool command_known(uint8_t wire_value) {
  // A table by wire value: every received header asks.
  static constexpr std::array<bool, 256> known = [] {
    std::array<bool, 256> table{};
    for (Command command : commands_known) table[static_cast<uint8_t>(command)] = true;
    return table;
  }();
  return known[wire_value];
}

std::string_view command_name(uint8_t wire_value) {
  constexpr std::array<std::string_view, 25> names = {
      "reserved",    "ping",       "pong",       "ping_client", "pong_client",
      "request",     "prepare",    "prepare_ok", "reply",       "commit",
      "exit_view",   "join_view",  "retired_12", "get_view",    "get_headers",
      "get_prepare", "get_reply",  "headers",    "eviction",    "get_blocks",
      "block",       "retired_21", "retired_22", "retired_23",  "view",
  };
  if (wire_value < names.size()) return names[wire_value];
  return "unknown";
}

U128 checksum(std::span<const uint8_t> bytes) {
  POOL_ASSERT(bytes.data() != nullptr || bytes.empty(), "checksum of %zu bytes at null",
              bytes.size());
  // Past 240 bytes (a body) the AVX2 loop, where the CPU has it: the same hash, twice as wide.
  // The CPU is asked here, in a file compiled for every x86-64 CPU, not in the AVX2 one.
  static const bool wide_supported = [] {
#if defined(__x86_64__)
    return internal::checksum_wide_compiled && __builtin_cpu_supports("avx2") != 0;
#else
    return false;
#endif
  }();
  if (bytes.size() > internal::checksum_wide_bytes_min && wide_supported) {
    U128 wide;
    internal::checksum_wide(bytes.data(), bytes.size(), &wide.low, &wide.high);
    return wide;
  }
  const XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  return U128{hash.low64, hash.high64};
}

U128 checksum_body_empty() {
  static const U128 empty = checksum({});
  return empty;
}

U128 header_checksum_calculate(const Header& header) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&header);
  constexpr size_t checksum_size = sizeof(header.frame.checksum);
  return checksum({bytes + checksum_size, header_size - checksum_size});
}

void header_set_checksums(Header& header, std::span<const uint8_t> body) {
  POOL_ASSERT_GE(header.frame.size, header_size);
  POOL_ASSERT_EQ(body.size(), size_t{header.frame.size - header_size});
  header.frame.checksum_body = checksum(body);
  header.frame.checksum = header_checksum_calculate(header);
}

std::optional<std::string_view> header_invalid(const Header& header, const Config& config) {
  const HeaderFrame& frame = header.frame;
  if (frame.checksum_padding != u128_zero) return "checksum_padding != 0";
  if (frame.checksum_body_padding != u128_zero) return "checksum_body_padding != 0";
  if (frame.nonce_reserved != u128_zero) return "nonce_reserved != 0";
  if (frame.size < header_size) return "size < header_size";
  if (frame.size > config.message_size_max) return "size > message_size_max";
  if (frame.epoch != 0) return "epoch != 0";
  if (!zeroed(frame.reserved_frame)) return "reserved_frame != 0";
  if (!command_known(static_cast<uint8_t>(frame.command))) {
    const bool retired = command_name(frame.command).starts_with("retired_");
    return retired ? "command retired" : "command unknown";
  }
  if (frame.command == Command::block) {
    if (frame.protocol > protocol_version) return "block: protocol > protocol_version";
  } else if (frame.protocol != protocol_version) {
    return "protocol != protocol_version";
  }
  return invalid_command_fields(header);
}

std::optional<std::string_view> message_invalid(const Header& header, std::span<const uint8_t> body,
                                                const Config& config) {
  if (header.frame.checksum != header_checksum_calculate(header)) return "checksum mismatch";
  if (auto reason = header_invalid(header, config)) return reason;
  const size_t body_size = header.frame.size - header_size;
  if (body.size() < body_size) return "size > bytes received";
  if (header.frame.checksum_body != checksum(body.first(body_size))) {
    return "checksum_body mismatch";
  }
  return std::nullopt;
}

}  // namespace pool
