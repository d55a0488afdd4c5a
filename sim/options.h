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

namespace sim {

enum class PartitionMode : uint8_t { none, isolate_single, uniform_size, uniform_partition };
enum class PartitionSymmetry : uint8_t { symmetric, asymmetric };

// Probabilities are parts per million (`_ppm`); durations are ticks.
struct Options {
  uint64_t seed = 0;
  std::string profile = "test_min";  // A pool::config_names entry.
  pool::MessageBus bus = pool::MessageBus::testing;

  uint64_t replica_count = 3;
  uint64_t standby_count = 0;
  uint64_t client_count = 1;
  uint64_t pipeline_requests_limit = 0;

  // Workload: requests over all clients, each with a body of 0..request_body_size_max bytes.
  uint64_t requests_max = 1;
  uint64_t request_body_size_max = 0;
  // The requests phase (faults on) lasts ticks_max_requests at most; then faults stop and the
  // cluster must answer every request and catch every replica up, never going
  // ticks_max_convergence ticks without progress (liveness).
  uint64_t ticks_max_requests = 1;
  uint64_t ticks_max_convergence = 1;

  // Network.
  uint64_t path_capacity = 1;  // Packets in flight per directed path.
  uint64_t delay_ticks_min = 1;
  uint64_t delay_ticks_mean = 1;
  uint64_t packet_loss_ppm = 0;
  uint64_t packet_replay_ppm = 0;
  uint64_t packet_reorder_ppm = 0;  // A packet delayed by up to 4 × the mean.
  uint64_t packet_corrupt_ppm = 0;  // One byte flipped; the receiver's checksums catch it.
  PartitionMode partition_mode = PartitionMode::none;
  PartitionSymmetry partition_symmetry = PartitionSymmetry::symmetric;
  uint64_t partition_ppm = 0;    // Per tick, while the network is whole.
  uint64_t unpartition_ppm = 0;  // Per tick, while it is partitioned.
  uint64_t path_clog_ppm = 0;    // Per tick: one random path between replicas clogs.
  uint64_t clog_duration_ticks_mean = 1;

  // Storage: faults strike only the first storage_faulty_count backups (at most a minority),
  // so that every prepare survives on a quorum.
  uint64_t read_latency_ticks_min = 1;
  uint64_t read_latency_ticks_max = 1;
  uint64_t write_latency_ticks_min = 1;
  uint64_t write_latency_ticks_max = 1;
  uint64_t read_fault_ppm = 0;   // The read returns corrupt bytes.
  uint64_t write_fault_ppm = 0;  // The write is lost.
  uint64_t storage_faulty_count = 0;

  // Crashes: per tick, per replica or standby that is up (the primary too); a replica in a
  // view change crashes with crash_view_change_ppm instead.
  uint64_t crash_ppm = 0;
  uint64_t crash_view_change_ppm = 0;
  uint64_t restart_delay_ticks_max = 1;

  // Checkpoints: every checkpoint_interval_ops commits (the WAL holds two intervals), each of
  // checkpoint_block_count grid blocks (the first holds the client sessions).
  uint64_t checkpoint_interval_ops = 64;
  uint64_t checkpoint_block_count = 2;

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
// The names of every option flag (underscores), in order.
std::vector<std::string> options_flag_names();
// The first invalid option or combination, naming the flag and the accepted range.
absl::Status options_validate(const Options& options);

const char* partition_mode_name(PartitionMode mode);
const char* partition_symmetry_name(PartitionSymmetry symmetry);
// Decimal or 0x-hex, the whole string, no sign.
std::optional<uint64_t> parse_u64(std::string_view text);

}  // namespace sim
