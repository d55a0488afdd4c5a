// What a replica keeps durably apart from its WAL, its client replies and its grid: the view it
// is in, the view in which it was last normal, and its latest checkpoint with the client
// sessions it holds. The original keeps these in its superblock; here an update is
// durable at once (the original writes it before it sends what depends on it). The storage keeps
// it as bytes in its superblock zone: superblock_encode and superblock_decode are the format.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pool/header.h"

namespace sim {

// A client's session as the state machine keeps it: registered, and the latest reply's header.
struct ClientSession {
  bool registered = false;
  pool::ReplyHeader reply{};
};

struct Superblock {
  uint32_t view = 0;
  uint32_t log_view = 0;
  uint64_t checkpoint_op = 0;
  pool::U128 checkpoint_checksum{0, 0};     // Of the prepare at checkpoint_op (0 for the root).
  pool::PrepareHeader checkpoint_header{};  // The prepare at checkpoint_op (op 0: the root).
  std::vector<ClientSession> clients;       // As of checkpoint_op.
};

std::vector<uint8_t> superblock_encode(const Superblock& superblock);
// The inverse of superblock_encode; the bytes must be an encoded superblock (asserted).
Superblock superblock_decode(std::span<const uint8_t> bytes);

}  // namespace sim
