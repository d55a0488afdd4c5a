// What the cluster's disks hold, kept once: every replica writes the same prepare to its WAL,
// so a slot holds a shared, immutable copy of the bytes, found by the message's checksum and
// size and compared byte for byte before it is shared. A production run's disks would otherwise
// hold each 100 KiB prepare once per replica. A slot sees only its own bytes: nothing a disk does
// (a lost write keeps the old bytes, a corrupt read flips the reader's copy) changes another's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <tuple>
#include <vector>

#include "pool/header.h"

namespace sim {

using DiskBytes = std::shared_ptr<const std::vector<uint8_t>>;

class DiskBytesStore {
 public:
  // The bytes as one shared copy: an existing one if some disk holds the same bytes under the
  // same checksum, else a new one.
  DiskBytes keep(const pool::U128& checksum, std::span<const uint8_t> bytes);
  size_t copies_count() const { return copies_.size(); }

 private:
  using Key = std::tuple<uint64_t, uint64_t, size_t>;  // Checksum (high, low) and size.
  // Ordered, never iterated for behaviour: only the pruning of expired copies walks it.
  std::map<Key, std::weak_ptr<const std::vector<uint8_t>>> copies_;
  // Expired copies are pruned when the map reaches this many entries (twice the live ones).
  static constexpr size_t prune_at_count_min = 64;
  size_t prune_at_count_ = prune_at_count_min;
};

}  // namespace sim
