#include "sim/world/disk_bytes.h"

#include <algorithm>
#include <cstring>

#include "pool/assertion.h"

namespace sim {

DiskBytes DiskBytesStore::keep(const pool::U128& checksum, std::span<const uint8_t> bytes) {
  const Key key{checksum.high, checksum.low, bytes.size()};
  auto& copy = copies_[key];
  if (DiskBytes kept = copy.lock()) {
    POOL_ASSERT_EQ(kept->size(), bytes.size());
    if (std::memcmp(kept->data(), bytes.data(), bytes.size()) == 0) return kept;
  }
  // New, or the same checksum over other bytes (a header corrupted in memory): a copy of its own.
  auto fresh = std::make_shared<const std::vector<uint8_t>>(bytes.begin(), bytes.end());
  copy = fresh;
  if (copies_.size() >= prune_at_count_) {
    std::erase_if(copies_, [](const auto& entry) { return entry.second.expired(); });
    prune_at_count_ = std::max<size_t>(prune_at_count_min, 2 * copies_.size());
  }
  return fresh;
}

}  // namespace sim
