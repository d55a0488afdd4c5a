// A simulation's options: the cluster's shape, the workload and the faults. Swarm testing: the
// seed chooses every option (so a sweep explores shapes and fault mixes as well as schedules),
// and any option can be pinned by a flag. The resolved options, printed as flags, replay a run
// even after the swarm's derivation changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "pool/config.h"
#include "pool/message_pool.h"
#include "sim/vsr/client_options.h"
#include "sim/vsr/replica_options.h"
#include "sim/world/network.h"
#include "sim/world/storage.h"

namespace sim {

// Probabilities are parts per million (`_ppm`); durations are ticks. Each component's options
// are its own (network, storage, replica, client); the rest belongs to the harness.
struct Options {
  uint64_t seed = 0;
  std::string profile = "test_min";  // A pool::config_names entry.
  pool::MessageBusKind bus = pool::MessageBusKind::testing;
  // The formula that sizes every pool and bounds every term: original or corrected.
  pool::Formula formula = pool::Formula::original;

  uint64_t replica_count = 3;
  uint64_t standby_count = 0;
  uint64_t client_count = 1;

  // Workload: requests over all clients. The requests phase (faults on) lasts ticks_max_requests
  // at most; then faults stop and the cluster must answer every request and catch every replica
  // up, never going ticks_max_convergence ticks without progress (liveness).
  uint64_t requests_max = 1;
  uint64_t ticks_max_requests = 1;
  uint64_t ticks_max_convergence = 1;

  NetworkOptions network;
  StorageOptions storage;
  // Storage faults strike only the first storage_faulty_count backups (at most a minority), so
  // that every prepare survives on a quorum.
  uint64_t storage_faulty_count = 0;
  ReplicaOptions replica;
  ClientOptions client;

  // Crashes: per tick, per replica or standby that is up (the primary too); a replica in a
  // view change crashes with crash_view_change_ppm instead.
  uint64_t crash_ppm = 0;
  uint64_t crash_view_change_ppm = 0;
  uint64_t restart_delay_ticks_max = 1;

  // Checker teeth: shrink one term's bound by one, or every pool by messages_max_delta.
  std::optional<pool::Term> shrink_term;
  int64_t messages_max_delta = 0;

  uint64_t member_count() const { return replica_count + standby_count; }
  pool::Config config() const;
};

// How the swarm draws: `default` explores every shape and fault mix; `stress` drives the pool's
// holders to their bounds (full pipelines and many clients, slow disks, clogged and partitioned
// paths, many retries, crashes during view changes, short checkpoint intervals).
enum class Swarm : uint8_t { default_mix, stress };
std::optional<Swarm> swarm_by_name(std::string_view name);

// The swarm: every option drawn from `seed`, within the bounds of `profile`.
Options options_from_seed(uint64_t seed, std::string_view profile,
                          Swarm swarm = Swarm::default_mix);

// The options as an ordered list of (flag name with dashes, value): what the reproduction
// command and the summary JSON carry.
std::vector<std::pair<std::string, std::string>> options_as_flags(const Options& options);
// " --seed=1 --profile=test_min ...": every resolved option as command-line flags.
std::string options_flags_text(const Options& options);
// "scripts/sim.sh --seed=1 ...": the one-line command that replays a run with these options.
std::string options_replay_command(const Options& options);
// Sets the option that flag `name` (dashes or underscores) names, from text; an error names the
// flag and the accepted range. Unknown names are an error.
absl::Status options_set(Options& options, std::string_view name, std::string_view value);
// Every option flag, in the order of the replay command: its name (underscores) and help.
struct OptionFlag {
  std::string name;
  std::string help;
};
std::vector<OptionFlag> options_flags();
// Only their names (underscores), in the same order: what a parser needs, without the help.
std::vector<std::string> options_flag_names();
// The value of the number option that flag `name` (underscores) names; nullopt for a text
// option or an unknown name.
std::optional<uint64_t> options_number(const Options& options, std::string_view name);
// The first invalid option or combination, naming the flag and the accepted range.
absl::Status options_validate(const Options& options);

// Decimal or 0x-hex, the whole string, no sign.
std::optional<uint64_t> parse_u64(std::string_view text);

}  // namespace sim
