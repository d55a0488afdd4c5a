// Seeds as text: "FIRST..LAST" (a user's sweep), or ranges and single seeds joined by commas
// ("4,9..12"), which is how a sweep hands a worker the seeds still to run after a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sim {

// At most this many seeds in one sweep: more is a job for shards (scripts/sweep.sh --shard).
inline constexpr uint64_t sweep_seeds_max = 10'000'000;

// The seeds `text` names, in order; each range ascending, ranges after one another, at most
// sweep_seeds_max in all. An error says what is wrong with the text.
absl::StatusOr<std::vector<uint64_t>> seed_list_parse(std::string_view text);
// `seeds` (ascending) as text seed_list_parse reads back: runs of consecutive seeds as ranges.
std::string seed_list_text(const std::vector<uint64_t>& seeds);
// "FIRST..LAST" as its two ends (FIRST <= LAST), without listing the seeds between.
absl::StatusOr<std::pair<uint64_t, uint64_t>> seed_range_parse(std::string_view text);

}  // namespace sim
