#include "pool/header.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace pool {
namespace {

// A header (and body) that satisfies every rule of its command.
struct Wire {
  Header header;
  std::vector<uint8_t> body;
};

template <Command command>
HeaderOf<command>& as(Header& header) {
  return *reinterpret_cast<HeaderOf<command>*>(&header);
}

Wire wire_valid(Command command) {
  Wire wire;
  std::memset(&wire.header, 0, sizeof(wire.header));
  HeaderFrame& frame = wire.header.frame;
  frame.command = command;
  frame.protocol = protocol_version;
  frame.cluster = U128{7, 0};
  switch (command) {
    case Command::ping:
      frame.release = 1;
      as<Command::ping>(wire.header).ping_timestamp_monotonic = 1;
      as<Command::ping>(wire.header).release_count = 1;
      break;
    case Command::pong:
      frame.release = 1;
      as<Command::pong>(wire.header).ping_timestamp_monotonic = 1;
      as<Command::pong>(wire.header).pong_timestamp_wall = 1;
      break;
    case Command::ping_client:
      frame.release = 1;
      as<Command::ping_client>(wire.header).client = U128{9, 0};
      break;
    case Command::pong_client:
    case Command::block:
      frame.release = 1;
      if (command == Command::block) as<Command::block>(wire.header).address = 1;
      break;
    case Command::request:
      frame.release = 1;
      as<Command::request>(wire.header).client = U128{9, 0};
      as<Command::request>(wire.header).operation = 1;
      wire.body = {1, 2, 3};
      break;
    case Command::prepare:
      as<Command::prepare>(wire.header).operation = 1;
      as<Command::prepare>(wire.header).op = 1;
      wire.body = {4, 5};
      break;
    case Command::prepare_ok:
      as<Command::prepare_ok>(wire.header).operation = 1;
      break;
    case Command::reply:
      frame.release = 1;
      as<Command::reply>(wire.header).client = U128{9, 0};
      as<Command::reply>(wire.header).op = 1;
      as<Command::reply>(wire.header).commit = 1;
      as<Command::reply>(wire.header).timestamp = 1;
      break;
    case Command::commit:
      as<Command::commit>(wire.header).timestamp_monotonic = 1;
      break;
    case Command::get_view:
      as<Command::get_view>(wire.header).nonce = U128{1, 0};
      break;
    case Command::get_reply:
      as<Command::get_reply>(wire.header).reply_client = U128{9, 0};
      break;
    case Command::eviction:
      frame.release = 1;
      as<Command::eviction>(wire.header).client = U128{9, 0};
      as<Command::eviction>(wire.header).reason = 1;
      break;
    case Command::get_blocks:
      wire.body.resize(sizeof(BlockRequest));
      break;
    case Command::headers:
    case Command::view:
    case Command::join_view:
      wire.body.resize(header_size);
      break;
    case Command::reserved:
    case Command::exit_view:
    case Command::get_headers:
    case Command::get_prepare:
      break;
  }
  frame.size = header_size + static_cast<uint32_t>(wire.body.size());
  header_set_checksums(wire.header, wire.body);
  return wire;
}

std::optional<std::string_view> invalid(const Wire& wire) {
  return message_invalid(wire.header, wire.body, config_test_min());
}

// Changes the header, then fixes the checksums so that only the field rule can fail.
template <typename Change>
std::optional<std::string_view> invalid_after(Command command, Change change) {
  Wire wire = wire_valid(command);
  change(wire);
  wire.header.frame.size = header_size + static_cast<uint32_t>(wire.body.size());
  header_set_checksums(wire.header, wire.body);
  return invalid(wire);
}

TEST(Command, WireValuesMatchTheOriginal) {
  EXPECT_EQ(static_cast<int>(Command::reserved), 0);
  EXPECT_EQ(static_cast<int>(Command::ping), 1);
  EXPECT_EQ(static_cast<int>(Command::request), 5);
  EXPECT_EQ(static_cast<int>(Command::join_view), 11);
  EXPECT_EQ(static_cast<int>(Command::get_view), 13);
  EXPECT_EQ(static_cast<int>(Command::block), 20);
  EXPECT_EQ(static_cast<int>(Command::view), 24);
}

TEST(Command, RetiredAndUnknownValuesAreNotKnown) {
  for (int value : {12, 21, 22, 23, 25, 255}) {
    EXPECT_FALSE(command_known(static_cast<uint8_t>(value))) << value;
  }
  for (Command command : commands_known) EXPECT_TRUE(command_known(static_cast<uint8_t>(command)));
  EXPECT_EQ(command_name(Command::prepare_ok), "prepare_ok");
  EXPECT_EQ(command_name(uint8_t{21}), "retired_21");
  EXPECT_EQ(command_name(uint8_t{200}), "unknown");
}

TEST(Header, LayoutIsTheOriginalsWireLayout) {
  EXPECT_EQ(sizeof(Header), 256u);
  EXPECT_EQ(offsetof(HeaderFrame, checksum_body), 32u);
  EXPECT_EQ(offsetof(HeaderFrame, cluster), 80u);
  EXPECT_EQ(offsetof(HeaderFrame, view), 104u);
  EXPECT_EQ(offsetof(HeaderFrame, replica), 115u);
  EXPECT_EQ(offsetof(PrepareHeader, op), 224u);
  EXPECT_EQ(offsetof(EvictionHeader, reason), 255u);
}

TEST(Header, EveryKnownCommandButReservedHasAValidForm) {
  for (Command command : commands_known) {
    const Wire wire = wire_valid(command);
    if (command == Command::reserved) {
      EXPECT_EQ(invalid(wire), "reserved is invalid");
    } else {
      EXPECT_EQ(invalid(wire), std::nullopt) << command_name(command);
    }
  }
}

TEST(Header, ChecksumCoversTheHeader) {
  Wire wire = wire_valid(Command::prepare);
  wire.header.frame.view += 1;
  EXPECT_EQ(invalid(wire), "checksum mismatch");
}

TEST(Header, ChecksumBodyCoversTheBody) {
  Wire wire = wire_valid(Command::prepare);
  wire.body[1] ^= 1;
  EXPECT_EQ(invalid(wire), "checksum_body mismatch");
}

TEST(Header, ChecksumsAreXxh3Of128Bits) {
  // XXH3-128 of the empty input, as xxHash publishes it: 99aa06d3014798d8 6001c324468d497f.
  EXPECT_EQ(checksum_body_empty(), (U128{0x6001c324468d497f, 0x99aa06d3014798d8}));
  const uint8_t bytes[2] = {1, 2};
  EXPECT_EQ(checksum(bytes), checksum(bytes));
  EXPECT_NE(checksum(bytes), checksum(std::span<const uint8_t>(bytes, 1)));
}

TEST(Header, BodyShorterThanSizeIsInvalid) {
  Wire wire = wire_valid(Command::request);
  wire.body.pop_back();
  EXPECT_EQ(invalid(wire), "size > bytes received");
}

TEST(HeaderFrameRules, SizeMustHoldTheHeaderAndFitTheBuffer) {
  EXPECT_EQ(invalid_after(Command::prepare, [](Wire& wire) { wire.body.clear(); }), std::nullopt);
  Wire small = wire_valid(Command::ping);
  small.header.frame.size = 255;
  small.header.frame.checksum = header_checksum_calculate(small.header);
  EXPECT_EQ(invalid(small), "size < header_size");
  EXPECT_EQ(invalid_after(Command::prepare, [](Wire& wire) { wire.body.resize(4096); }),
            "size > message_size_max");
}

TEST(HeaderFrameRules, PaddingsAndReservedFieldsMustBeZero) {
  EXPECT_EQ(invalid_after(Command::ping, [](Wire& w) { w.header.frame.checksum_padding.low = 1; }),
            "checksum_padding != 0");
  EXPECT_EQ(
      invalid_after(Command::ping, [](Wire& w) { w.header.frame.checksum_body_padding.high = 1; }),
      "checksum_body_padding != 0");
  EXPECT_EQ(invalid_after(Command::ping, [](Wire& w) { w.header.frame.nonce_reserved.low = 1; }),
            "nonce_reserved != 0");
  EXPECT_EQ(invalid_after(Command::ping, [](Wire& w) { w.header.frame.epoch = 1; }), "epoch != 0");
  EXPECT_EQ(invalid_after(Command::ping, [](Wire& w) { w.header.frame.reserved_frame[11] = 1; }),
            "reserved_frame != 0");
}

TEST(HeaderFrameRules, RetiredAndUnknownCommandsAreRejected) {
  for (int value : {12, 21, 22, 23}) {
    EXPECT_EQ(invalid_after(Command::ping,
                            [&](Wire& w) { w.header.frame.command = static_cast<Command>(value); }),
              "command retired");
  }
  EXPECT_EQ(invalid_after(Command::ping,
                          [](Wire& w) { w.header.frame.command = static_cast<Command>(99); }),
            "command unknown");
}

TEST(HeaderFrameRules, ProtocolMustMatchExceptForBlocks) {
  EXPECT_EQ(invalid_after(Command::ping, [](Wire& w) { w.header.frame.protocol = 0; }),
            "protocol != protocol_version");
  EXPECT_EQ(invalid_after(Command::block, [](Wire& w) { w.header.frame.protocol = 0; }),
            std::nullopt)
      << "blocks written by an older release stay readable";
  EXPECT_EQ(invalid_after(Command::block, [](Wire& w) { w.header.frame.protocol = 2; }),
            "block: protocol > protocol_version");
}

TEST(HeaderCommandRules, BodylessCommandsRejectABody) {
  for (Command command : {Command::ping, Command::pong, Command::prepare_ok, Command::commit,
                          Command::get_headers, Command::eviction}) {
    EXPECT_EQ(invalid_after(command, [](Wire& w) { w.body = {1}; }),
              "size != header_size (this command has no body)")
        << command_name(command);
  }
  Wire wrong_body_checksum = wire_valid(Command::ping);
  wrong_body_checksum.header.frame.checksum_body = U128{1, 2};
  wrong_body_checksum.header.frame.checksum = header_checksum_calculate(wrong_body_checksum.header);
  EXPECT_EQ(invalid(wrong_body_checksum), "checksum_body != checksum of empty");
}

TEST(HeaderCommandRules, EachCommandNamesItsBrokenRule) {
  EXPECT_EQ(invalid_after(Command::ping, [](Wire& w) { w.header.frame.release = 0; }),
            "ping: release == 0");
  EXPECT_EQ(invalid_after(Command::pong,
                          [](Wire& w) { as<Command::pong>(w.header).pong_timestamp_wall = 0; }),
            "pong: pong_timestamp_wall == 0");
  EXPECT_EQ(invalid_after(Command::ping_client, [](Wire& w) { w.header.frame.replica = 1; }),
            "ping_client: replica != 0");
  EXPECT_EQ(invalid_after(Command::request,
                          [](Wire& w) {
                            as<Command::request>(w.header).client = U128{0, 0};
                          }),
            "request: client == 0");
  EXPECT_EQ(
      invalid_after(Command::prepare, [](Wire& w) { as<Command::prepare>(w.header).commit = 1; }),
      "prepare: commit >= op");
  EXPECT_EQ(invalid_after(Command::prepare_ok, [](Wire& w) { w.header.frame.release = 1; }),
            "prepare_ok: release != 0");
  EXPECT_EQ(invalid_after(Command::reply, [](Wire& w) { as<Command::reply>(w.header).op = 2; }),
            "reply: op != commit");
  EXPECT_EQ(invalid_after(Command::commit,
                          [](Wire& w) { as<Command::commit>(w.header).checkpoint_op = 1; }),
            "commit: commit < checkpoint_op");
  EXPECT_EQ(invalid_after(Command::join_view, [](Wire& w) { w.body.resize(300); }),
            "join_view: body not a whole number of headers");
  EXPECT_EQ(invalid_after(Command::join_view,
                          [](Wire& w) { as<Command::join_view>(w.header).log_view = 1; }),
            "join_view: log_view > view");
  EXPECT_EQ(invalid_after(Command::get_view,
                          [](Wire& w) {
                            as<Command::get_view>(w.header).nonce = U128{0, 0};
                          }),
            "get_view: nonce == 0");
  EXPECT_EQ(invalid_after(Command::get_headers,
                          [](Wire& w) { as<Command::get_headers>(w.header).op_min = 1; }),
            "get_headers: op_min > op_max");
  EXPECT_EQ(
      invalid_after(Command::eviction, [](Wire& w) { as<Command::eviction>(w.header).reason = 0; }),
      "eviction: reason == reserved");
  EXPECT_EQ(invalid_after(Command::get_blocks, [](Wire& w) { w.body.clear(); }),
            "get_blocks: body empty");
  EXPECT_EQ(invalid_after(Command::get_blocks, [](Wire& w) { w.body.resize(40); }),
            "get_blocks: body not a whole number of block requests");
  EXPECT_EQ(
      invalid_after(Command::block, [](Wire& w) { as<Command::block>(w.header).address = 0; }),
      "block: address == 0");
  EXPECT_EQ(
      invalid_after(Command::view, [](Wire& w) { as<Command::view>(w.header).commit_max = 1; }),
      "view: op < commit_max");
  EXPECT_EQ(invalid_after(Command::exit_view,
                          [](Wire& w) { as<Command::exit_view>(w.header).reserved[0] = 1; }),
            "exit_view: reserved != 0");
}

TEST(HeaderInvalid, DoesNotReadTheChecksums) {
  Wire wire = wire_valid(Command::commit);
  wire.header.frame.checksum = U128{1, 1};
  EXPECT_EQ(header_invalid(wire.header, config_test_min()), std::nullopt);
  EXPECT_EQ(invalid(wire), "checksum mismatch");
}

}  // namespace
}  // namespace pool
