// The message_cast target: the bytes are a header (256 bytes, zero-padded) and a body. Checks
// that validation accepts exactly the well-formed ones and names why it rejects the rest, that
// an accepted message casts only to its own command, and that it round-trips.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pool/header.h"

namespace fuzz {

std::vector<uint8_t> message_cast_encode(const pool::Header& header, std::span<const uint8_t> body);
// Aborts (through a POOL_ASSERT) on any broken property.
void message_cast_run(std::span<const uint8_t> data);

}  // namespace fuzz
