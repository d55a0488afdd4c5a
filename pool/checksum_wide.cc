// Compiled with -mavx2 (pool/CMakeLists.txt): see checksum_wide.h for what it may include.
#include "pool/checksum_wide.h"

#if defined(__x86_64__) && defined(__AVX2__)
#define POOLSIM_CHECKSUM_WIDE 1
// Its own copy of xxHash, with internal linkage (as header.cc's), compiled for AVX2.
#define XXH_INLINE_ALL
#include <xxhash.h>
#else
#define POOLSIM_CHECKSUM_WIDE 0
#endif

namespace pool::internal {

const bool checksum_wide_compiled = POOLSIM_CHECKSUM_WIDE == 1;

void checksum_wide([[maybe_unused]] const uint8_t* data, [[maybe_unused]] size_t size,
                   [[maybe_unused]] uint64_t* low64, [[maybe_unused]] uint64_t* high64) {
#if POOLSIM_CHECKSUM_WIDE
  const XXH128_hash_t hash = XXH3_128bits(data, size);
  *low64 = hash.low64;
  *high64 = hash.high64;
#else
  __builtin_trap();  // Never called: checksum_wide_compiled is false.
#endif
}

}  // namespace pool::internal
