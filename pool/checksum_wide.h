// The checksum of long inputs (message bodies) with xxHash's AVX2 loop, compiled apart with
// -mavx2 and used only where the CPU has AVX2. XXH3 gives the same hash on every vector path,
// so the choice never changes a checksum. Internal to pool/header.cc.
//
// The AVX2 file includes nothing of the pool's or the C++ library's: an inline function it
// instantiated would be compiled for AVX2, and the linker could keep that copy for the whole
// program, which would then fault on a CPU without AVX2. Hence raw pointers, not a span or U128.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pool::internal {

// Below this the hash has no vector loop (xxHash's short paths), so the wide one gains nothing.
inline constexpr size_t checksum_wide_bytes_min = 240;

// True if this build compiled the AVX2 loop (an x86-64 compiler that takes -mavx2).
extern const bool checksum_wide_compiled;
// XXH3-128 of data[0, size), on the AVX2 loop: call only where the CPU has AVX2.
void checksum_wide(const uint8_t* data, size_t size, uint64_t* low64, uint64_t* high64);

}  // namespace pool::internal
