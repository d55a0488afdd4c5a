#include "sim/cli/seed_list.h"

#include <algorithm>

#include "pool/assertion.h"
#include "sim/options.h"

namespace sim {

absl::StatusOr<std::vector<uint64_t>> seed_list_parse(std::string_view text) {
  std::vector<uint64_t> seeds;
  for (size_t start = 0; start <= text.size();) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view part = text.substr(start, comma - start);
    start = comma + 1;
    const size_t dots = part.find("..");
    const std::optional<uint64_t> first = parse_u64(part.substr(0, dots));
    const std::optional<uint64_t> last =
        dots == std::string_view::npos ? first : parse_u64(part.substr(dots + 2));
    if (!first || !last) {
      return absl::InvalidArgumentError("'" + std::string(part) +
                                        "' is not FIRST..LAST (64-bit unsigned integers)");
    }
    if (*first > *last) {
      return absl::InvalidArgumentError("'" + std::string(part) + "': FIRST must not exceed LAST");
    }
    if (!seeds.empty() && *first <= seeds.back()) {
      return absl::InvalidArgumentError("'" + std::string(part) +
                                        "' does not come after the seeds before it");
    }
    if (*last - *first >= sweep_seeds_max - seeds.size()) {
      return absl::InvalidArgumentError(
          "more than " + std::to_string(sweep_seeds_max) +
          " seeds in one sweep: split it into shards (scripts/sweep.sh --shard=K/N)");
    }
    for (uint64_t seed = *first;; seed++) {
      seeds.push_back(seed);
      if (seed == *last) break;
    }
  }
  return seeds;
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> seed_range_parse(std::string_view text) {
  const size_t dots = text.find("..");
  const std::optional<uint64_t> first =
      dots == std::string_view::npos ? std::nullopt : parse_u64(text.substr(0, dots));
  const std::optional<uint64_t> last =
      dots == std::string_view::npos ? std::nullopt : parse_u64(text.substr(dots + 2));
  if (!first || !last)
    return absl::InvalidArgumentError("'" + std::string(text) + "' is not FIRST..LAST");
  if (*first > *last) {
    return absl::InvalidArgumentError("'" + std::string(text) + "': FIRST must not exceed LAST");
  }
  return std::pair{*first, *last};
}

std::string seed_list_text(const std::vector<uint64_t>& seeds) {
  std::string text;
  for (size_t start = 0; start < seeds.size();) {
    size_t end = start;
    while (end + 1 < seeds.size() && seeds[end + 1] == seeds[end] + 1) end++;
    POOL_ASSERT(end + 1 >= seeds.size() || seeds[end + 1] > seeds[end]);
    if (!text.empty()) text += ",";
    text += std::to_string(seeds[start]);
    if (end > start) text += ".." + std::to_string(seeds[end]);
    start = end + 1;
  }
  return text;
}

}  // namespace sim
