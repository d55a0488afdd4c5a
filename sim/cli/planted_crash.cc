#include "sim/cli/planted_crash.h"

#include <signal.h>
#include <unistd.h>

#include <string>

#include "pool/assertion.h"
#include "sim/options.h"

namespace sim {

absl::StatusOr<PlantedCrash> planted_crash_parse(std::string_view text) {
  const size_t colon = text.find(':');
  std::string_view kind = text.substr(0, colon);
  const bool worker_only = kind.starts_with("worker-");
  if (worker_only) kind.remove_prefix(std::string_view("worker-").size());
  const std::optional<uint64_t> seed =
      colon == std::string_view::npos ? std::nullopt : parse_u64(text.substr(colon + 1));
  if ((kind != "assert" && kind != "kill") || !seed) {
    return absl::InvalidArgumentError("--planted-crash=" + std::string(text) +
                                      " is not [worker-]assert:SEED or [worker-]kill:SEED");
  }
  return PlantedCrash{kind == "kill", worker_only, *seed};
}

void planted_crash(const std::optional<PlantedCrash>& plant, uint64_t seed, bool in_worker) {
  if (!plant || plant->seed != seed || (plant->worker_only && !in_worker)) return;
  if (plant->kill) ::kill(::getpid(), SIGKILL);
  POOL_ASSERT(plant->seed != seed, "the crash --planted-crash asked for");
}

}  // namespace sim
