// The message_cast target: the bytes are a mode byte (bit 0: seal the header's checksums over the
// body first, so that mutated headers reach the field rules), a header (256 bytes, zero-padded)
// and a body. Checks that validation rejects every frame a raw-byte oracle finds malformed, that
// each rejection's reason is true, that an accepted message casts only to its own command, and
// that it round-trips.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pool/header.h"

namespace fuzz {

std::vector<uint8_t> message_cast_encode(const pool::Header& header, std::span<const uint8_t> body,
                                         bool seal);
// Aborts (through a POOL_ASSERT) on any broken property.
void message_cast_run(std::span<const uint8_t> data);

}  // namespace fuzz
