// Crashes planted on purpose, for tests of the sweep's crash handling (sim --planted-crash).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

namespace sim {

// For tests of the sweep itself (--planted-crash): "assert:SEED" makes that seed's run fail an
// assertion as it starts, "kill:SEED" kills its process without one, as a sanitizer's report does.
// "worker-assert:SEED" and "worker-kill:SEED" do so in a sweep's worker only, so that the seed
// passes alone: a crash the seed's own run does not explain (state shared between threads).
struct PlantedCrash {
  bool kill = false;
  bool worker_only = false;
  uint64_t seed = 0;
};
absl::StatusOr<PlantedCrash> planted_crash_parse(std::string_view text);
// Crashes as planted if `seed` is the planted one; called where a run starts, single or swept.
void planted_crash(const std::optional<PlantedCrash>& plant, uint64_t seed, bool in_worker);

}  // namespace sim
