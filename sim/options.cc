#include "sim/options.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "pool/assertion.h"
#include "sim/core/prng.h"

namespace sim {

namespace {

constexpr uint64_t ppm_max = 1'000'000;

// One option: its flag (underscores), its help, and either a number with its field and accepted
// range (given the options before it in the table), or text with its reader and parser. The
// table's order is the replay command's, and validation's (a range may depend on the options
// before it).
struct OptionSpec {
  const char* name;
  const char* help;
  uint64_t& (*number)(Options&) = nullptr;
  uint64_t (*min)(const Options&) = nullptr;
  uint64_t (*max)(const Options&) = nullptr;
  std::string (*text)(const Options&) = nullptr;  // Empty text: left out of the replay command.
  bool (*parse)(Options&, std::string_view) = nullptr;
  const char* rejected = nullptr;  // Why a text is refused: "is not accepted: one of a|b".
};

uint64_t zero(const Options&) { return 0; }
uint64_t one(const Options&) { return 1; }
uint64_t ppm_all(const Options&) { return ppm_max; }
uint64_t ppm_half(const Options&) { return ppm_max / 2; }
uint64_t ppm_hundredth(const Options&) { return ppm_max / 100; }
uint64_t ticks_many(const Options&) { return 100'000'000; }
uint64_t delay_many(const Options&) { return 10'000; }

constexpr std::array<PartitionMode, 4> partition_modes = {
    PartitionMode::none, PartitionMode::isolate_single, PartitionMode::uniform_size,
    PartitionMode::uniform_partition};

bool parse_profile(Options& options, std::string_view value) {
  if (!pool::config_by_name(value)) return false;
  options.profile = std::string(value);
  return true;
}

bool parse_formula(Options& options, std::string_view value) {
  const std::optional<pool::Formula> formula = pool::formula_by_name(value);
  if (formula) options.formula = *formula;
  return formula.has_value();
}

bool parse_bus(Options& options, std::string_view value) {
  const std::optional<pool::MessageBusKind> bus = pool::message_bus_by_name(value);
  if (bus) options.bus = *bus;
  return bus.has_value();
}

bool parse_partition_mode(Options& options, std::string_view value) {
  for (PartitionMode mode : partition_modes) {
    if (value == partition_mode_name(mode)) {
      options.network.partition_mode = mode;
      return true;
    }
  }
  return false;
}

bool parse_partition_symmetry(Options& options, std::string_view value) {
  for (PartitionSymmetry symmetry : {PartitionSymmetry::symmetric, PartitionSymmetry::asymmetric}) {
    if (value == partition_symmetry_name(symmetry)) {
      options.network.partition_symmetry = symmetry;
      return true;
    }
  }
  return false;
}

bool parse_shrink_term(Options& options, std::string_view value) {
  for (size_t index = 0; index < pool::term_count; index++) {
    const auto term = static_cast<pool::Term>(index);
    if (value == pool::term_name(term)) {
      options.shrink_term = term;
      return true;
    }
  }
  return false;
}

bool parse_messages_max_delta(Options& options, std::string_view value) {
  const bool negative = !value.empty() && value.front() == '-';
  if (negative) value.remove_prefix(1);
  const std::optional<uint64_t> magnitude = parse_u64(value);
  if (!magnitude || *magnitude > 1000) return false;
  options.messages_max_delta =
      negative ? -static_cast<int64_t>(*magnitude) : static_cast<int64_t>(*magnitude);
  return true;
}

// A number option's entry.
constexpr OptionSpec number(const char* name, const char* help, uint64_t& (*field)(Options&),
                            uint64_t (*min)(const Options&), uint64_t (*max)(const Options&)) {
  return OptionSpec{name, help, field, min, max};
}

// A text option's entry.
constexpr OptionSpec text(const char* name, const char* help, std::string (*read)(const Options&),
                          bool (*parse)(Options&, std::string_view), const char* rejected) {
  return OptionSpec{name, help, nullptr, nullptr, nullptr, read, parse, rejected};
}

const std::array<OptionSpec, 39> option_specs = {{
    number(
        "seed", "The run's seed, decimal or 0x-hex (default: a random one, printed).",
        [](Options& options) -> uint64_t& { return options.seed; }, zero,
        [](const Options&) { return uint64_t{UINT64_MAX}; }),
    text(
        "profile", "Constants: test_min (4 KiB messages) or production (1 MiB).",
        [](const Options& options) { return options.profile; }, parse_profile,
        "is not accepted: one of test_min|production"),
    text(
        "bus", "Message bus: testing or tcp.",
        [](const Options& options) { return std::string(pool::message_bus_name(options.bus)); },
        parse_bus, "is not accepted: one of testing|tcp"),
    text(
        "formula",
        "Pool formula: original (TigerBeetle's) or corrected (a term per finding, README).",
        [](const Options& options) { return std::string(pool::formula_name(options.formula)); },
        parse_formula, "is not accepted: one of original|corrected"),
    number(
        "replica_count", "Active replicas.",
        [](Options& options) -> uint64_t& { return options.replica_count; }, one,
        [](const Options& options) { return uint64_t{options.config().replicas_max}; }),
    number(
        "standby_count", "Standbys (replicas + standbys <= members_max).",
        [](Options& options) -> uint64_t& { return options.standby_count; }, zero,
        [](const Options& options) { return uint64_t{options.config().standbys_max}; }),
    number(
        "client_count", "Clients.",
        [](Options& options) -> uint64_t& { return options.client_count; }, one,
        [](const Options& options) { return uint64_t{options.config().clients_max}; }),
    number(
        "pipeline_requests_limit", "Requests queued behind the prepare queue.",
        [](Options& options) -> uint64_t& { return options.replica.pipeline_requests_limit; }, zero,
        [](const Options& options) {
          return uint64_t{options.config().pipeline_request_queue_max()};
        }),
    number(
        "requests_max", "Requests over all clients.",
        [](Options& options) -> uint64_t& { return options.requests_max; }, one,
        [](const Options&) { return uint64_t{100'000}; }),
    number(
        "request_body_size_max", "Request body bytes.",
        [](Options& options) -> uint64_t& { return options.client.request_body_size_max; }, zero,
        [](const Options& options) {
          return uint64_t{options.config().message_size_max - pool::header_size};
        }),
    number(
        "ticks_max_requests", "Ticks of the requests phase (faults on).",
        [](Options& options) -> uint64_t& { return options.ticks_max_requests; }, one, ticks_many),
    number(
        "ticks_max_convergence", "Ticks allowed to converge once faults stop.",
        [](Options& options) -> uint64_t& { return options.ticks_max_convergence; }, one,
        ticks_many),
    number(
        "path_capacity", "Packets in flight per network path.",
        [](Options& options) -> uint64_t& { return options.network.path_capacity; }, one,
        [](const Options&) { return uint64_t{64}; }),
    number(
        "delay_ticks_min", "Network delay minimum, ticks.",
        [](Options& options) -> uint64_t& { return options.network.delay_ticks_min; }, one,
        delay_many),
    number(
        "delay_ticks_mean", "Network delay mean, ticks (at least the minimum).",
        [](Options& options) -> uint64_t& { return options.network.delay_ticks_mean; },
        [](const Options& options) { return options.network.delay_ticks_min; }, delay_many),
    number(
        "packet_loss_ppm", "Packet loss, parts per million.",
        [](Options& options) -> uint64_t& { return options.network.packet_loss_ppm; }, zero,
        ppm_half),
    number(
        "packet_replay_ppm", "Packet duplication, ppm.",
        [](Options& options) -> uint64_t& { return options.network.packet_replay_ppm; }, zero,
        ppm_half),
    number(
        "packet_reorder_ppm", "Packets delayed past later ones, ppm.",
        [](Options& options) -> uint64_t& { return options.network.packet_reorder_ppm; }, zero,
        ppm_all),
    number(
        "packet_corrupt_ppm", "Packets with a flipped byte, ppm.",
        [](Options& options) -> uint64_t& { return options.network.packet_corrupt_ppm; }, zero,
        ppm_half),
    number(
        "partition_ppm", "Chance per tick that a partition forms, ppm.",
        [](Options& options) -> uint64_t& { return options.network.partition_ppm; }, zero, ppm_all),
    number(
        "unpartition_ppm", "Chance per tick that it heals, ppm.",
        [](Options& options) -> uint64_t& { return options.network.unpartition_ppm; }, zero,
        ppm_all),
    number(
        "path_clog_ppm", "Chance per tick that a path between replicas clogs, ppm.",
        [](Options& options) -> uint64_t& { return options.network.path_clog_ppm; }, zero, ppm_all),
    number(
        "clog_duration_ticks_mean", "Mean clog duration, ticks.",
        [](Options& options) -> uint64_t& { return options.network.clog_duration_ticks_mean; }, one,
        delay_many),
    number(
        "read_latency_ticks_min", "Disk read latency minimum, ticks.",
        [](Options& options) -> uint64_t& { return options.storage.read_latency_ticks_min; }, one,
        delay_many),
    number(
        "read_latency_ticks_max", "Disk read latency maximum, ticks.",
        [](Options& options) -> uint64_t& { return options.storage.read_latency_ticks_max; },
        [](const Options& options) { return options.storage.read_latency_ticks_min; }, delay_many),
    number(
        "write_latency_ticks_min", "Disk write latency minimum, ticks.",
        [](Options& options) -> uint64_t& { return options.storage.write_latency_ticks_min; }, one,
        delay_many),
    number(
        "write_latency_ticks_max", "Disk write latency maximum, ticks.",
        [](Options& options) -> uint64_t& { return options.storage.write_latency_ticks_max; },
        [](const Options& options) { return options.storage.write_latency_ticks_min; }, delay_many),
    number(
        "read_fault_ppm", "Corrupt reads on faulty disks, ppm.",
        [](Options& options) -> uint64_t& { return options.storage.read_fault_ppm; }, zero,
        ppm_half),
    number(
        "write_fault_ppm", "Lost writes on faulty disks, ppm.",
        [](Options& options) -> uint64_t& { return options.storage.write_fault_ppm; }, zero,
        ppm_half),
    number(
        "storage_faulty_count", "Backups with faulty disks (a minority of the replicas).",
        [](Options& options) -> uint64_t& { return options.storage_faulty_count; }, zero,
        [](const Options& options) {
          return options.replica_count == 0 ? 0 : (options.replica_count - 1) / 2;
        }),
    number(
        "crash_ppm", "Chance per tick that a replica crashes, ppm.",
        [](Options& options) -> uint64_t& { return options.crash_ppm; }, zero, ppm_hundredth),
    number(
        "crash_view_change_ppm", "Chance per tick that a replica in a view change crashes, ppm.",
        [](Options& options) -> uint64_t& { return options.crash_view_change_ppm; }, zero,
        ppm_hundredth),
    number(
        "restart_delay_ticks_max", "A crashed backup restarts within this many ticks.",
        [](Options& options) -> uint64_t& { return options.restart_delay_ticks_max; }, one,
        delay_many),
    // At least two pipelines: the WAL keeps a pipeline past the previous checkpoint.
    number(
        "checkpoint_interval_ops",
        "Ops between checkpoints (at least two pipelines); the WAL holds two intervals.",
        [](Options& options) -> uint64_t& { return options.replica.checkpoint_interval_ops; },
        [](const Options& options) {
          return uint64_t{2} * options.config().pipeline_prepare_queue_max;
        },
        [](const Options&) { return uint64_t{1} << 20; }),
    number(
        "checkpoint_block_count", "Grid blocks per checkpoint.",
        [](Options& options) -> uint64_t& { return options.replica.checkpoint_block_count; }, one,
        [](const Options&) { return uint64_t{64}; }),
    text(
        "partition_mode", "none, isolate_single, uniform_size or uniform_partition.",
        [](const Options& options) {
          return std::string(partition_mode_name(options.network.partition_mode));
        },
        parse_partition_mode,
        "is not accepted: one of none|isolate_single|uniform_size|uniform_partition"),
    text(
        "partition_symmetry", "symmetric or asymmetric.",
        [](const Options& options) {
          return std::string(partition_symmetry_name(options.network.partition_symmetry));
        },
        parse_partition_symmetry, "is not accepted: one of symmetric|asymmetric"),
    text(
        "shrink_term", "Checker teeth: lower this formula term's bound by one.",
        [](const Options& options) {
          return options.shrink_term ? std::string(pool::term_name(*options.shrink_term))
                                     : std::string();
        },
        parse_shrink_term, "is not a formula term (see pool-capacity for names)"),
    text(
        "messages_max_delta", "Checker teeth: add this (negative) to every pool.",
        [](const Options& options) {
          return options.messages_max_delta == 0 ? std::string()
                                                 : std::to_string(options.messages_max_delta);
        },
        parse_messages_max_delta, "is not an integer in [-1000, 1000]"),
}};

// A number option's value (the table's accessors take a mutable Options; reading never writes).
uint64_t number_of(const OptionSpec& spec, const Options& options) {
  POOL_ASSERT(spec.number != nullptr, "%s is not a number", spec.name);
  return spec.number(const_cast<Options&>(options));
}

std::string underscored(std::string_view name) {
  std::string text(name);
  std::replace(text.begin(), text.end(), '-', '_');
  return text;
}

std::string dashed(std::string_view name) {
  std::string text(name);
  std::replace(text.begin(), text.end(), '_', '-');
  return text;
}

const OptionSpec* option_spec(std::string_view name) {
  for (const OptionSpec& spec : option_specs) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

}  // namespace

pool::Config Options::config() const {
  std::optional<pool::Config> config = pool::config_by_name(profile);
  POOL_ASSERT(config.has_value(), "profile '%s'", profile.c_str());
  return *config;
}

std::optional<uint64_t> parse_u64(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<Swarm> swarm_by_name(std::string_view name) {
  if (name == "default") return Swarm::default_mix;
  if (name == "stress") return Swarm::stress;
  return std::nullopt;
}

namespace {
// The stress swarm's changes to a default draw, from a stream of its own.
void stress(Options& options) {
  Prng prng = prng_for(options.seed, PrngStream::swarm_stress);
  const pool::Config config = options.config();
  options.replica_count = prng.range_inclusive(3, config.replicas_max);
  options.client_count = config.clients_max;
  // The request queue full, or as many client connections as the pipeline pays for.
  options.replica.pipeline_requests_limit =
      prng.chance(1, 2)
          ? config.pipeline_request_queue_max()
          : std::min<uint64_t>(config.pipeline_request_queue_max(),
                               config.clients_max - config.pipeline_prepare_queue_max);
  options.requests_max = prng.range_inclusive(300, 800);
  options.ticks_max_requests = prng.range_inclusive(10'000, 30'000);
  options.network.path_capacity = prng.range_inclusive(16, 64);
  options.network.delay_ticks_min = prng.range_inclusive(1, 5);
  options.network.delay_ticks_mean = options.network.delay_ticks_min + prng.range_inclusive(5, 20);
  options.network.packet_loss_ppm = prng.range_inclusive(10'000, 60'000);
  options.network.partition_ppm = prng.range_inclusive(500, 3'000);
  options.network.path_clog_ppm = prng.range_inclusive(2'000, 10'000);
  options.network.clog_duration_ticks_mean = prng.range_inclusive(100, 600);
  options.storage.read_latency_ticks_min = prng.range_inclusive(5, 20);
  options.storage.read_latency_ticks_max =
      options.storage.read_latency_ticks_min + prng.range_inclusive(10, 60);
  options.storage.write_latency_ticks_min = prng.range_inclusive(5, 20);
  options.storage.write_latency_ticks_max =
      options.storage.write_latency_ticks_min + prng.range_inclusive(10, 60);
  options.crash_ppm = prng.range_inclusive(200, 600);
  options.crash_view_change_ppm = prng.range_inclusive(2'000, 8'000);
  options.replica.checkpoint_interval_ops =
      config.pipeline_prepare_queue_max * prng.range_inclusive(2, 3);
  options.replica.checkpoint_block_count = prng.range_inclusive(4, 8);
  options.storage_faulty_count = (options.replica_count - 1) / 2;
}
}  // namespace

namespace {
// The default swarm: every option drawn from the seed.
Options draw_default(uint64_t seed, std::string_view profile) {
  Prng prng = prng_for(seed, PrngStream::swarm_default);
  Options options;
  options.seed = seed;
  options.profile = std::string(profile);
  const pool::Config config = options.config();

  options.replica_count = prng.range_inclusive(1, config.replicas_max);
  options.standby_count =
      prng.chance(1, 2)
          ? 0
          : prng.range_inclusive(
                1, std::min<uint64_t>(4, config.members_max() - options.replica_count));
  options.client_count = prng.range_inclusive(1, config.clients_max);
  options.bus = prng.chance(1, 2) ? pool::MessageBusKind::testing : pool::MessageBusKind::tcp;
  options.replica.pipeline_requests_limit =
      prng.range_inclusive(0, config.pipeline_request_queue_max());
  options.requests_max = prng.range_inclusive(50, 600);
  options.client.request_body_size_max = prng.range_inclusive(
      0, std::min<uint64_t>(config.message_size_max - pool::header_size, 16 * 1024));
  options.ticks_max_requests = prng.range_inclusive(2'000, 30'000);
  options.ticks_max_convergence = prng.range_inclusive(5'000, 20'000);

  options.network.path_capacity = prng.range_inclusive(2, 16);
  options.network.delay_ticks_min = prng.range_inclusive(1, 3);
  options.network.delay_ticks_mean = options.network.delay_ticks_min + prng.range_inclusive(0, 8);
  options.network.packet_loss_ppm = prng.chance(1, 4) ? 0 : prng.range_inclusive(0, 50'000);
  options.network.packet_replay_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 50'000);
  options.network.packet_reorder_ppm = prng.range_inclusive(0, 100'000);
  options.network.packet_corrupt_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 10'000);
  options.network.partition_mode = partition_modes[prng.below(partition_modes.size())];
  options.network.partition_symmetry =
      prng.chance(1, 2) ? PartitionSymmetry::symmetric : PartitionSymmetry::asymmetric;
  options.network.partition_ppm = prng.range_inclusive(0, 2'000);
  options.network.unpartition_ppm = prng.range_inclusive(2'000, 20'000);
  options.network.path_clog_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 5'000);
  options.network.clog_duration_ticks_mean = prng.range_inclusive(10, 500);

  options.storage.read_latency_ticks_min = prng.range_inclusive(1, 5);
  options.storage.read_latency_ticks_max =
      options.storage.read_latency_ticks_min + prng.range_inclusive(0, 30);
  options.storage.write_latency_ticks_min = prng.range_inclusive(1, 5);
  options.storage.write_latency_ticks_max =
      options.storage.write_latency_ticks_min + prng.range_inclusive(0, 30);
  options.storage_faulty_count = prng.range_inclusive(0, (options.replica_count - 1) / 2);
  options.storage.read_fault_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 20'000);
  options.storage.write_fault_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 20'000);

  options.crash_ppm = prng.range_inclusive(100, 600);  // The primary too: view changes.
  options.crash_view_change_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 5'000);
  options.restart_delay_ticks_max = prng.range_inclusive(10, 1'000);
  // Short intervals wrap the WAL and make lagging replicas sync.
  options.replica.checkpoint_interval_ops =
      config.pipeline_prepare_queue_max * prng.range_inclusive(2, 8);
  options.replica.checkpoint_block_count = prng.range_inclusive(1, 8);
  return options;
}
}  // namespace

Options options_from_seed(uint64_t seed, std::string_view profile, Swarm swarm) {
  Options options = draw_default(seed, profile);
  if (swarm == Swarm::stress) stress(options);
  // The draw stays inside the ranges the option table accepts.
  const absl::Status valid = options_validate(options);
  POOL_ASSERT(valid.ok(), "seed %llu draws invalid options: %s",
              static_cast<unsigned long long>(seed), std::string(valid.message()).c_str());
  return options;
}

std::vector<std::pair<std::string, std::string>> options_as_flags(const Options& options) {
  std::vector<std::pair<std::string, std::string>> flags;
  for (const OptionSpec& spec : option_specs) {
    const std::string value =
        spec.number != nullptr ? std::to_string(number_of(spec, options)) : spec.text(options);
    if (!value.empty()) flags.emplace_back(dashed(spec.name), value);
  }
  return flags;
}

std::string options_flags_text(const Options& options) {
  std::string text;
  for (const auto& [name, value] : options_as_flags(options)) text += " --" + name + "=" + value;
  return text;
}

std::string options_replay_command(const Options& options) {
  return "scripts/sim.sh" + options_flags_text(options);
}

namespace {

// " Accepted: 1..6.": a number option's range from the table, under each profile's defaults when
// they differ (a range may depend on the options before it).
std::string accepted_text(const OptionSpec& spec) {
  POOL_ASSERT(spec.number != nullptr);
  std::string text;
  for (const char* profile : {"test_min", "production"}) {
    Options defaults;
    defaults.profile = profile;
    const std::string range =
        absl::StrCat(spec.min(defaults), "..", spec.max(defaults), " (", profile, ")");
    if (text.empty()) {
      text = range;
    } else if (text.substr(0, text.find(' ')) == range.substr(0, range.find(' '))) {
      text = text.substr(0, text.find(' '));  // The same under both profiles.
    } else {
      text += ", " + range;
    }
  }
  return " Accepted: " + text + ".";
}

}  // namespace

std::vector<std::string> options_flag_names() {
  std::vector<std::string> names;
  for (const OptionSpec& spec : option_specs) names.emplace_back(spec.name);
  return names;
}

std::vector<OptionFlag> options_flags() {
  std::vector<OptionFlag> flags;
  for (const OptionSpec& spec : option_specs) {
    flags.push_back({spec.name, spec.number == nullptr || std::string_view(spec.name) == "seed"
                                    ? std::string(spec.help)
                                    : spec.help + accepted_text(spec)});
  }
  return flags;
}

std::optional<uint64_t> options_number(const Options& options, std::string_view name) {
  const OptionSpec* spec = option_spec(name);
  if (spec == nullptr || spec->number == nullptr) return std::nullopt;
  return number_of(*spec, options);
}

absl::Status options_set(Options& options, std::string_view name_given, std::string_view value) {
  const std::string name = underscored(name_given);
  const OptionSpec* spec = option_spec(name);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown option --", dashed(name)));
  }
  if (spec->number == nullptr) {
    if (spec->parse(options, value)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("--", dashed(name), "=", std::string(value), " ", spec->rejected));
  }
  const std::optional<uint64_t> number = parse_u64(value);
  if (!number) {
    return absl::InvalidArgumentError(absl::StrCat("--", dashed(name), "=", std::string(value),
                                                   " is not a non-negative integer (decimal or "
                                                   "0x-hex)"));
  }
  spec->number(options) = *number;
  return absl::OkStatus();
}

absl::Status options_validate(const Options& options) {
  if (!pool::config_by_name(options.profile)) {
    return absl::InvalidArgumentError("--profile=" + options.profile +
                                      " is not accepted: one of test_min|production");
  }
  // In table order, so that each range may depend on the options before it.
  for (const OptionSpec& spec : option_specs) {
    if (spec.number == nullptr) continue;
    const uint64_t value = number_of(spec, options);
    const uint64_t min = spec.min(options);
    const uint64_t max = spec.max(options);
    if (value < min || value > max) {
      return absl::InvalidArgumentError(absl::StrCat("--", dashed(spec.name), "=", value,
                                                     " is out of range: accepted ", min, "..", max,
                                                     " with the other options given"));
    }
  }
  const pool::Config config = options.config();
  if (options.member_count() > config.members_max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--replica-count + --standby-count = ", options.member_count(),
                     " is out of range: accepted at most members_max = ", config.members_max()));
  }
  return absl::OkStatus();
}

}  // namespace sim
