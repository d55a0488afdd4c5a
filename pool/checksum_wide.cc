#include "pool/checksum_wide.h"

#include "pool/assertion.h"

#if defined(__x86_64__) && defined(__AVX2__)
#define POOLSIM_CHECKSUM_WIDE 1
// Its own copy of xxHash, with internal linkage (as header.cc's), compiled for AVX2.
#define XXH_INLINE_ALL
#include <xxhash.h>
#else
#define POOLSIM_CHECKSUM_WIDE 0
#endif

namespace pool::internal {

bool checksum_wide_supported() {
#if POOLSIM_CHECKSUM_WIDE
  static const bool supported = __builtin_cpu_supports("avx2");
  return supported;
#else
  return false;
#endif
}

U128 checksum_wide(std::span<const uint8_t> bytes) {
  POOL_ASSERT_GT(bytes.size(), checksum_wide_bytes_min);
  POOL_ASSERT(checksum_wide_supported(), "checksum_wide without AVX2");
#if POOLSIM_CHECKSUM_WIDE
  const XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  return U128{hash.low64, hash.high64};
#else
  return U128{0, 0};
#endif
}

}  // namespace pool::internal
