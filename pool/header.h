// The 256-byte message header of the original's wire format: a 128-byte frame common to every
// command, then 128 bytes whose meaning depends on the command. One struct per command, each
// layout-checked at compile time, so that a message's header can be viewed as the type its
// command names. Checksums are XXH3-128 over the header (after its checksum) and the body.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pool/config.h"

namespace pool {

// Every Viewstamped Replication command, at its wire value. 12, 21, 22 and 23 are retired: the
// original keeps them only to reject them.
enum class Command : uint8_t {
  reserved = 0,
  ping = 1,
  pong = 2,
  ping_client = 3,
  pong_client = 4,
  request = 5,
  prepare = 6,
  prepare_ok = 7,
  reply = 8,
  commit = 9,
  exit_view = 10,
  join_view = 11,
  get_view = 13,
  get_headers = 14,
  get_prepare = 15,
  get_reply = 16,
  headers = 17,
  eviction = 18,
  get_blocks = 19,
  block = 20,
  view = 24,
};

// The commands a header may carry, in wire order; their index is `AnyMessage`'s alternative.
inline constexpr std::array<Command, 21> commands_known = {
    Command::reserved,    Command::ping,        Command::pong,        Command::ping_client,
    Command::pong_client, Command::request,     Command::prepare,     Command::prepare_ok,
    Command::reply,       Command::commit,      Command::exit_view,   Command::join_view,
    Command::get_view,    Command::get_headers, Command::get_prepare, Command::get_reply,
    Command::headers,     Command::eviction,    Command::get_blocks,  Command::block,
    Command::view,
};

// True for the values of `Command` (retired and unknown bytes are false).
bool command_known(uint8_t wire_value);
// The command's name ("prepare_ok"), "retired_12" for a retired one, or "unknown".
std::string_view command_name(uint8_t wire_value);
inline std::string_view command_name(Command command) {
  return command_name(static_cast<uint8_t>(command));
}

// The protocol version that every header but `block` carries exactly.
inline constexpr uint16_t protocol_version = 1;

// A 128-bit value as two 64-bit halves (ISO C++ has no 128-bit integer).
struct U128 {
  uint64_t low;
  uint64_t high;
  friend bool operator==(const U128&, const U128&) = default;
};

// The first 128 bytes of every header.
struct HeaderFrame {
  U128 checksum;  // Of the header's bytes after this field (covers checksum_body too).
  U128 checksum_padding;
  U128 checksum_body;  // Of the body: bytes [header_size, size) of the buffer.
  U128 checksum_body_padding;
  U128 nonce_reserved;
  U128 cluster;
  uint32_t size;  // Header and body, in bytes.
  uint32_t epoch;
  uint32_t view;
  uint32_t release;
  uint16_t protocol;
  Command command;
  uint8_t replica;  // The author.
  std::array<uint8_t, 12> reserved_frame;
};
static_assert(sizeof(HeaderFrame) == 128);
static_assert(offsetof(HeaderFrame, size) == 96);
static_assert(offsetof(HeaderFrame, command) == 114);
static_assert(std::has_unique_object_representations_v<HeaderFrame>, "no padding");

// A header whose command is not yet known: the frame plus the command's 128 bytes, unread.
// [[gnu::may_alias]]: a buffer's first 256 bytes are viewed as this and as the typed headers.
struct [[gnu::may_alias]] Header {
  HeaderFrame frame;
  std::array<uint8_t, 128> reserved_command;
};

// The typed headers. Field names follow the original; `reserved` tails must be zero.
struct [[gnu::may_alias]] ReservedHeader {
  HeaderFrame frame;
  std::array<uint8_t, 128> reserved;
};
struct [[gnu::may_alias]] PingHeader {
  HeaderFrame frame;
  U128 checkpoint_id;
  uint64_t checkpoint_op;
  uint64_t ping_timestamp_monotonic;
  uint16_t release_count;
  std::array<uint8_t, 94> reserved;
};
struct [[gnu::may_alias]] PongHeader {
  HeaderFrame frame;
  uint64_t ping_timestamp_monotonic;
  uint64_t pong_timestamp_wall;
  std::array<uint8_t, 112> reserved;
};
struct [[gnu::may_alias]] PingClientHeader {
  HeaderFrame frame;
  U128 client;
  uint64_t ping_timestamp_monotonic;
  uint64_t session;
  std::array<uint8_t, 96> reserved;
};
struct [[gnu::may_alias]] PongClientHeader {
  HeaderFrame frame;
  uint64_t ping_timestamp_monotonic;
  std::array<uint8_t, 120> reserved;
};
struct [[gnu::may_alias]] RequestHeader {
  HeaderFrame frame;
  U128 parent;  // The checksum of the previous reply in this session.
  U128 parent_padding;
  U128 client;
  uint64_t session;
  uint64_t timestamp;
  uint32_t request;  // Per-client request number.
  uint8_t operation;
  std::array<uint8_t, 3> previous_request_latency_padding;
  uint32_t previous_request_latency;
  std::array<uint8_t, 52> reserved;
};
struct [[gnu::may_alias]] PrepareHeader {
  HeaderFrame frame;
  U128 parent;  // The checksum of the prepare at op − 1: the hash chain.
  U128 parent_padding;
  U128 request_checksum;
  U128 request_checksum_padding;
  U128 checkpoint_id;
  U128 client;
  uint64_t op;
  uint64_t commit;  // The primary's commit number when it prepared this op.
  uint64_t timestamp;
  uint32_t request;
  uint8_t operation;
  std::array<uint8_t, 3> reserved;
};
struct [[gnu::may_alias]] PrepareOkHeader {
  HeaderFrame frame;
  U128 parent;
  U128 parent_padding;
  U128 prepare_checksum;
  U128 prepare_checksum_padding;
  U128 checkpoint_id;
  U128 client;
  uint64_t op;
  uint64_t commit_min;
  uint64_t timestamp;
  uint32_t request;
  uint8_t operation;
  std::array<uint8_t, 3> reserved;
};
struct [[gnu::may_alias]] ReplyHeader {
  HeaderFrame frame;
  U128 request_checksum;
  U128 request_checksum_padding;
  U128 context;
  U128 context_padding;
  U128 client;
  uint64_t op;
  uint64_t commit;
  uint64_t timestamp;
  uint32_t request;
  uint8_t operation;
  std::array<uint8_t, 19> reserved;
};
struct [[gnu::may_alias]] CommitHeader {
  HeaderFrame frame;
  U128 commit_checksum;
  U128 commit_checksum_padding;
  U128 checkpoint_id;
  uint64_t checkpoint_op;
  uint64_t commit;
  uint64_t timestamp_monotonic;
  std::array<uint8_t, 56> reserved;
};
struct [[gnu::may_alias]] ExitViewHeader {
  HeaderFrame frame;
  std::array<uint8_t, 128> reserved;
};
struct [[gnu::may_alias]] JoinViewHeader {  // The body holds headers (the log suffix).
  HeaderFrame frame;
  U128 present_bitset;
  U128 nack_bitset;
  uint64_t op;
  uint64_t commit_min;
  uint64_t checkpoint_op;
  uint32_t log_view;
  std::array<uint8_t, 68> reserved;
};
struct [[gnu::may_alias]] GetViewHeader {
  HeaderFrame frame;
  U128 nonce;
  std::array<uint8_t, 112> reserved;
};
struct [[gnu::may_alias]] GetHeadersHeader {
  HeaderFrame frame;
  uint64_t op_min;
  uint64_t op_max;
  std::array<uint8_t, 112> reserved;
};
struct [[gnu::may_alias]] GetPrepareHeader {
  HeaderFrame frame;
  U128 prepare_checksum;
  U128 prepare_checksum_padding;
  uint64_t prepare_op;
  std::array<uint8_t, 88> reserved;
};
struct [[gnu::may_alias]] GetReplyHeader {
  HeaderFrame frame;
  U128 reply_checksum;
  U128 reply_checksum_padding;
  U128 reply_client;
  uint64_t reply_op;
  std::array<uint8_t, 72> reserved;
};
struct [[gnu::may_alias]] HeadersHeader {  // The body holds headers.
  HeaderFrame frame;
  std::array<uint8_t, 128> reserved;
};
struct [[gnu::may_alias]] EvictionHeader {
  HeaderFrame frame;
  U128 client;
  std::array<uint8_t, 111> reserved;
  uint8_t reason;  // Never 0.
};
struct [[gnu::may_alias]] GetBlocksHeader {  // The body holds BlockRequests.
  HeaderFrame frame;
  std::array<uint8_t, 128> reserved;
};
struct [[gnu::may_alias]] BlockHeader {
  HeaderFrame frame;
  std::array<uint8_t, 96> metadata_bytes;
  uint64_t address;
  uint64_t snapshot;
  uint8_t block_type;
  std::array<uint8_t, 15> reserved_block;
};
struct [[gnu::may_alias]] ViewHeader {  // The body holds headers (the view's log suffix).
  HeaderFrame frame;
  U128 nonce;
  uint64_t op;
  uint64_t commit_max;
  uint64_t checkpoint_op;
  std::array<uint8_t, 88> reserved;
};

// One entry of a get_blocks body: the block a replica asks a peer to read for it.
struct BlockRequest {
  U128 block_checksum;
  uint64_t block_address;
  std::array<uint8_t, 8> reserved;
};
static_assert(sizeof(BlockRequest) == 32);

// HeaderOf<Command::prepare> is PrepareHeader, and so on.
template <Command command>
struct HeaderType;
template <Command command>
using HeaderOf = typename HeaderType<command>::type;

// clang-format off
template <> struct HeaderType<Command::reserved> { using type = ReservedHeader; };
template <> struct HeaderType<Command::ping> { using type = PingHeader; };
template <> struct HeaderType<Command::pong> { using type = PongHeader; };
template <> struct HeaderType<Command::ping_client> { using type = PingClientHeader; };
template <> struct HeaderType<Command::pong_client> { using type = PongClientHeader; };
template <> struct HeaderType<Command::request> { using type = RequestHeader; };
template <> struct HeaderType<Command::prepare> { using type = PrepareHeader; };
template <> struct HeaderType<Command::prepare_ok> { using type = PrepareOkHeader; };
template <> struct HeaderType<Command::reply> { using type = ReplyHeader; };
template <> struct HeaderType<Command::commit> { using type = CommitHeader; };
template <> struct HeaderType<Command::exit_view> { using type = ExitViewHeader; };
template <> struct HeaderType<Command::join_view> { using type = JoinViewHeader; };
template <> struct HeaderType<Command::get_view> { using type = GetViewHeader; };
template <> struct HeaderType<Command::get_headers> { using type = GetHeadersHeader; };
template <> struct HeaderType<Command::get_prepare> { using type = GetPrepareHeader; };
template <> struct HeaderType<Command::get_reply> { using type = GetReplyHeader; };
template <> struct HeaderType<Command::headers> { using type = HeadersHeader; };
template <> struct HeaderType<Command::eviction> { using type = EvictionHeader; };
template <> struct HeaderType<Command::get_blocks> { using type = GetBlocksHeader; };
template <> struct HeaderType<Command::block> { using type = BlockHeader; };
template <> struct HeaderType<Command::view> { using type = ViewHeader; };
// clang-format on

// Calls `visit(std::integral_constant<Command, C>{})` for the known command C equal to `command`,
// so that a runtime command reaches code typed by it. Returns false, calling nothing, for a
// retired or unknown command byte.
template <typename Visit>
bool command_visit(Command command, Visit&& visit) {
  return [&]<size_t... index>(std::index_sequence<index...>) {
    return ((command == commands_known[index]
                 ? (visit(std::integral_constant<Command, commands_known[index]>{}), true)
                 : false) ||
            ...);
  }
  (std::make_index_sequence<commands_known.size()>());
}

// True when `predicate(std::integral_constant<Command, C>{})` holds for every known command C;
// usable in static_assert, to check a promise about every command's type.
template <typename Predicate>
constexpr bool commands_all(Predicate predicate) {
  return [&]<size_t... index>(std::index_sequence<index...>) {
    return (predicate(std::integral_constant<Command, commands_known[index]>{}) && ...);
  }
  (std::make_index_sequence<commands_known.size()>());
}

// Every typed header is a Header: 256 bytes, the frame at offset 0, no padding anywhere.
template <typename T>
constexpr bool header_layout_identical() {
  return sizeof(T) == sizeof(Header) && alignof(T) == alignof(Header) && offsetof(T, frame) == 0 &&
         std::is_standard_layout_v<T> && std::is_trivially_copyable_v<T> &&
         std::has_unique_object_representations_v<T>;
}
static_assert(sizeof(Header) == header_size);
static_assert(header_layout_identical<Header>());

// Checksums (XXH3-128).
U128 checksum(std::span<const uint8_t> bytes);
// The checksum of an empty body, which every body-less header carries in checksum_body.
U128 checksum_body_empty();
// Of the header's bytes after `checksum`.
U128 header_checksum_calculate(const Header& header);
// Sets checksum_body from `body` (which must be size − header_size bytes), then checksum.
void header_set_checksums(Header& header, std::span<const uint8_t> body);

// Why a header is invalid (a short reason like "size > message_size_max"), or nullopt.
// `header_invalid` checks the fields only, like the original's `Header.invalid()`: the frame
// (paddings zero, size within [header_size, message_size_max], epoch, protocol, a known
// command) and then the command's own rules. It does not verify the checksums against the
// bytes (a body-less command's checksum_body must equal the empty body's checksum, as in the
// original, which is a field rule).
std::optional<std::string_view> header_invalid(const Header& header, const Config& config);

// Everything a receiver checks before trusting a message, in the order that keeps each check
// safe: header checksum, fields (so that size is known to be in range), then the body checksum.
// `body` is the bytes received after the header.
std::optional<std::string_view> message_invalid(const Header& header, std::span<const uint8_t> body,
                                                const Config& config);

}  // namespace pool
