// The checksum of long inputs (message bodies) with xxHash's AVX2 loop, compiled apart with
// -mavx2 and used only where the CPU has AVX2. XXH3 gives the same hash on every vector path,
// so the choice never changes a checksum. Internal to pool/header.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "pool/header.h"

namespace pool::internal {

// Below this the hash has no vector loop (xxHash's short paths), so the wide one gains nothing.
inline constexpr size_t checksum_wide_bytes_min = 240;

// True on an x86-64 CPU with AVX2, in a build that compiled the wide checksum.
bool checksum_wide_supported();
// XXH3-128 of `bytes` (more than checksum_wide_bytes_min), on the AVX2 loop.
U128 checksum_wide(std::span<const uint8_t> bytes);

}  // namespace pool::internal
