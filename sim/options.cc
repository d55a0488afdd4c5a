#include "sim/options.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "pool/assertion.h"
#include "sim/prng.h"

namespace sim {

namespace {

constexpr uint64_t ppm_max = 1'000'000;

// A numeric option: its flag, its field, and its accepted range given the other options.
struct NumericField {
  const char* name;
  uint64_t Options::*field;
  uint64_t (*min)(const Options&);
  uint64_t (*max)(const Options&);
};

uint64_t zero(const Options&) { return 0; }
uint64_t one(const Options&) { return 1; }
uint64_t ppm_all(const Options&) { return ppm_max; }
uint64_t ppm_half(const Options&) { return ppm_max / 2; }
uint64_t ticks_many(const Options&) { return 100'000'000; }
uint64_t delay_many(const Options&) { return 10'000; }

const std::array<NumericField, 32> numeric_fields = {{
    {"seed", &Options::seed, zero, [](const Options&) { return UINT64_MAX; }},
    {"replica_count", &Options::replica_count, one,
     [](const Options& o) { return uint64_t{o.config().replicas_max}; }},
    {"standby_count", &Options::standby_count, zero,
     [](const Options& o) { return uint64_t{o.config().standbys_max}; }},
    {"client_count", &Options::client_count, one,
     [](const Options& o) { return uint64_t{o.config().clients_max}; }},
    {"pipeline_requests_limit", &Options::pipeline_requests_limit, zero,
     [](const Options& o) { return uint64_t{o.config().pipeline_request_queue_max()}; }},
    {"requests_max", &Options::requests_max, one, [](const Options&) { return uint64_t{100'000}; }},
    {"request_body_size_max", &Options::request_body_size_max, zero,
     [](const Options& o) { return uint64_t{o.config().message_size_max - pool::header_size}; }},
    {"ticks_max_requests", &Options::ticks_max_requests, one, ticks_many},
    {"ticks_max_convergence", &Options::ticks_max_convergence, one, ticks_many},
    {"path_capacity", &Options::path_capacity, one, [](const Options&) { return uint64_t{64}; }},
    {"delay_ticks_min", &Options::delay_ticks_min, one, delay_many},
    {"delay_ticks_mean", &Options::delay_ticks_mean,
     [](const Options& o) { return o.delay_ticks_min; }, delay_many},
    {"packet_loss_ppm", &Options::packet_loss_ppm, zero, ppm_half},
    {"packet_replay_ppm", &Options::packet_replay_ppm, zero, ppm_half},
    {"packet_reorder_ppm", &Options::packet_reorder_ppm, zero, ppm_all},
    {"packet_corrupt_ppm", &Options::packet_corrupt_ppm, zero, ppm_half},
    {"partition_ppm", &Options::partition_ppm, zero, ppm_all},
    {"unpartition_ppm", &Options::unpartition_ppm, zero, ppm_all},
    {"path_clog_ppm", &Options::path_clog_ppm, zero, ppm_all},
    {"clog_duration_ticks_mean", &Options::clog_duration_ticks_mean, one, delay_many},
    {"read_latency_ticks_min", &Options::read_latency_ticks_min, one, delay_many},
    {"read_latency_ticks_max", &Options::read_latency_ticks_max,
     [](const Options& o) { return o.read_latency_ticks_min; }, delay_many},
    {"write_latency_ticks_min", &Options::write_latency_ticks_min, one, delay_many},
    {"write_latency_ticks_max", &Options::write_latency_ticks_max,
     [](const Options& o) { return o.write_latency_ticks_min; }, delay_many},
    {"read_fault_ppm", &Options::read_fault_ppm, zero, ppm_half},
    {"write_fault_ppm", &Options::write_fault_ppm, zero, ppm_half},
    {"storage_faulty_count", &Options::storage_faulty_count, zero,
     [](const Options& o) { return o.replica_count == 0 ? 0 : (o.replica_count - 1) / 2; }},
    {"crash_ppm", &Options::crash_ppm, zero, [](const Options&) { return ppm_max / 100; }},
    {"crash_view_change_ppm", &Options::crash_view_change_ppm, zero,
     [](const Options&) { return ppm_max / 100; }},
    {"restart_delay_ticks_max", &Options::restart_delay_ticks_max, one, delay_many},
    // At least two pipelines: the WAL keeps a pipeline past the previous checkpoint.
    {"checkpoint_interval_ops", &Options::checkpoint_interval_ops,
     [](const Options& o) { return uint64_t{2} * o.config().pipeline_prepare_queue_max; },
     [](const Options&) { return uint64_t{1} << 20; }},
    {"checkpoint_block_count", &Options::checkpoint_block_count, one,
     [](const Options&) { return uint64_t{64}; }},
}};

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

const NumericField* numeric_field(std::string_view name) {
  for (const NumericField& field : numeric_fields) {
    if (name == field.name) return &field;
  }
  return nullptr;
}

constexpr std::array<PartitionMode, 4> partition_modes = {
    PartitionMode::none, PartitionMode::isolate_single, PartitionMode::uniform_size,
    PartitionMode::uniform_partition};

}  // namespace

pool::Config Options::config() const {
  std::optional<pool::Config> config = pool::config_by_name(profile);
  POOL_ASSERT(config.has_value(), "profile '%s'", profile.c_str());
  return *config;
}

const char* partition_mode_name(PartitionMode mode) {
  switch (mode) {
    case PartitionMode::none:
      return "none";
    case PartitionMode::isolate_single:
      return "isolate_single";
    case PartitionMode::uniform_size:
      return "uniform_size";
    case PartitionMode::uniform_partition:
      return "uniform_partition";
  }
  return "unknown";
}

const char* partition_symmetry_name(PartitionSymmetry symmetry) {
  return symmetry == PartitionSymmetry::symmetric ? "symmetric" : "asymmetric";
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
  Prng prng = Prng::derive(options.seed, 0x5354'5245'5353);  // "STRESS".
  const pool::Config config = options.config();
  options.replica_count = prng.range_inclusive(3, config.replicas_max);
  options.client_count = config.clients_max;
  // The request queue full, or as many client connections as the pipeline pays for.
  options.pipeline_requests_limit =
      prng.chance(1, 2)
          ? config.pipeline_request_queue_max()
          : std::min<uint64_t>(config.pipeline_request_queue_max(),
                               config.clients_max - config.pipeline_prepare_queue_max);
  options.requests_max = prng.range_inclusive(300, 800);
  options.ticks_max_requests = prng.range_inclusive(10'000, 30'000);
  options.path_capacity = prng.range_inclusive(16, 64);
  options.delay_ticks_min = prng.range_inclusive(1, 5);
  options.delay_ticks_mean = options.delay_ticks_min + prng.range_inclusive(5, 20);
  options.packet_loss_ppm = prng.range_inclusive(10'000, 60'000);
  options.partition_ppm = prng.range_inclusive(500, 3'000);
  options.path_clog_ppm = prng.range_inclusive(2'000, 10'000);
  options.clog_duration_ticks_mean = prng.range_inclusive(100, 600);
  options.read_latency_ticks_min = prng.range_inclusive(5, 20);
  options.read_latency_ticks_max = options.read_latency_ticks_min + prng.range_inclusive(10, 60);
  options.write_latency_ticks_min = prng.range_inclusive(5, 20);
  options.write_latency_ticks_max = options.write_latency_ticks_min + prng.range_inclusive(10, 60);
  options.crash_ppm = prng.range_inclusive(200, 600);
  options.crash_view_change_ppm = prng.range_inclusive(2'000, 8'000);
  options.checkpoint_interval_ops = config.pipeline_prepare_queue_max * prng.range_inclusive(2, 3);
  options.checkpoint_block_count = prng.range_inclusive(4, 8);
  options.storage_faulty_count = (options.replica_count - 1) / 2;
}
}  // namespace

namespace {
// The default swarm: every option drawn from the seed.
Options draw_default(uint64_t seed, std::string_view profile) {
  Prng prng = Prng::derive(seed, 0x5757'4152'4D00);  // "SWARM": a stream of its own.
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
  options.bus = prng.chance(1, 2) ? pool::MessageBus::testing : pool::MessageBus::tcp;
  options.pipeline_requests_limit = prng.range_inclusive(0, config.pipeline_request_queue_max());
  options.requests_max = prng.range_inclusive(50, 600);
  options.request_body_size_max = prng.range_inclusive(
      0, std::min<uint64_t>(config.message_size_max - pool::header_size, 16 * 1024));
  options.ticks_max_requests = prng.range_inclusive(2'000, 30'000);
  options.ticks_max_convergence = prng.range_inclusive(5'000, 20'000);

  options.path_capacity = prng.range_inclusive(2, 16);
  options.delay_ticks_min = prng.range_inclusive(1, 3);
  options.delay_ticks_mean = options.delay_ticks_min + prng.range_inclusive(0, 8);
  options.packet_loss_ppm = prng.chance(1, 4) ? 0 : prng.range_inclusive(0, 50'000);
  options.packet_replay_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 50'000);
  options.packet_reorder_ppm = prng.range_inclusive(0, 100'000);
  options.packet_corrupt_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 10'000);
  options.partition_mode = partition_modes[prng.below(partition_modes.size())];
  options.partition_symmetry =
      prng.chance(1, 2) ? PartitionSymmetry::symmetric : PartitionSymmetry::asymmetric;
  options.partition_ppm = prng.range_inclusive(0, 2'000);
  options.unpartition_ppm = prng.range_inclusive(2'000, 20'000);
  options.path_clog_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 5'000);
  options.clog_duration_ticks_mean = prng.range_inclusive(10, 500);

  options.read_latency_ticks_min = prng.range_inclusive(1, 5);
  options.read_latency_ticks_max = options.read_latency_ticks_min + prng.range_inclusive(0, 30);
  options.write_latency_ticks_min = prng.range_inclusive(1, 5);
  options.write_latency_ticks_max = options.write_latency_ticks_min + prng.range_inclusive(0, 30);
  options.storage_faulty_count = prng.range_inclusive(0, (options.replica_count - 1) / 2);
  options.read_fault_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 20'000);
  options.write_fault_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 20'000);

  options.crash_ppm = prng.range_inclusive(100, 600);  // The primary too: view changes.
  options.crash_view_change_ppm = prng.chance(1, 2) ? 0 : prng.range_inclusive(0, 5'000);
  options.restart_delay_ticks_max = prng.range_inclusive(10, 1'000);
  // Short intervals wrap the WAL and make lagging replicas sync.
  options.checkpoint_interval_ops = config.pipeline_prepare_queue_max * prng.range_inclusive(2, 8);
  options.checkpoint_block_count = prng.range_inclusive(1, 8);
  return options;
}
}  // namespace

Options options_from_seed(uint64_t seed, std::string_view profile, Swarm swarm) {
  Options options = draw_default(seed, profile);
  if (swarm == Swarm::stress) stress(options);
  return options;
}

std::vector<std::pair<std::string, std::string>> options_as_flags(const Options& options) {
  std::vector<std::pair<std::string, std::string>> flags;
  flags.emplace_back("seed", std::to_string(options.seed));
  flags.emplace_back("profile", options.profile);
  flags.emplace_back("bus", std::string(pool::message_bus_name(options.bus)));
  for (const NumericField& field : numeric_fields) {
    if (std::string_view(field.name) == "seed") continue;
    flags.emplace_back(dashed(field.name), std::to_string(options.*field.field));
  }
  flags.emplace_back("partition-mode", partition_mode_name(options.partition_mode));
  flags.emplace_back("partition-symmetry", partition_symmetry_name(options.partition_symmetry));
  if (options.shrink_term) {
    flags.emplace_back("shrink-term", std::string(pool::term_name(*options.shrink_term)));
  }
  if (options.messages_max_delta != 0) {
    flags.emplace_back("messages-max-delta", std::to_string(options.messages_max_delta));
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

std::vector<std::string> options_flag_names() {
  std::vector<std::string> names = {"seed", "profile", "bus"};
  for (const NumericField& field : numeric_fields) {
    if (std::string_view(field.name) != "seed") names.emplace_back(field.name);
  }
  for (const char* name :
       {"partition_mode", "partition_symmetry", "shrink_term", "messages_max_delta"}) {
    names.emplace_back(name);
  }
  return names;
}

absl::Status options_set(Options& options, std::string_view name_given, std::string_view value) {
  const std::string name = underscored(name_given);
  const std::string flag = "--" + dashed(name);
  auto one_of = [&](std::initializer_list<std::string_view> accepted) {
    std::string list;
    for (std::string_view item : accepted) list += (list.empty() ? "" : "|") + std::string(item);
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", std::string(value), " is not accepted: one of ", list));
  };
  if (name == "profile") {
    if (!pool::config_by_name(value)) return one_of({"test_min", "production"});
    options.profile = std::string(value);
    return absl::OkStatus();
  }
  if (name == "bus") {
    const std::optional<pool::MessageBus> bus = pool::message_bus_by_name(value);
    if (!bus) return one_of({"testing", "tcp"});
    options.bus = *bus;
    return absl::OkStatus();
  }
  if (name == "partition_mode") {
    for (PartitionMode mode : partition_modes) {
      if (value == partition_mode_name(mode)) {
        options.partition_mode = mode;
        return absl::OkStatus();
      }
    }
    return one_of({"none", "isolate_single", "uniform_size", "uniform_partition"});
  }
  if (name == "partition_symmetry") {
    if (value == "symmetric" || value == "asymmetric") {
      options.partition_symmetry =
          value == "symmetric" ? PartitionSymmetry::symmetric : PartitionSymmetry::asymmetric;
      return absl::OkStatus();
    }
    return one_of({"symmetric", "asymmetric"});
  }
  if (name == "shrink_term") {
    for (size_t index = 0; index < pool::term_count; index++) {
      const auto term = static_cast<pool::Term>(index);
      if (value == pool::term_name(term)) {
        options.shrink_term = term;
        return absl::OkStatus();
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(
        flag, "=", std::string(value), " is not a formula term (see pool-capacity for names)"));
  }
  if (name == "messages_max_delta") {
    std::string_view digits = value;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (negative) digits.remove_prefix(1);
    const std::optional<uint64_t> magnitude = parse_u64(digits);
    if (!magnitude || *magnitude > 1000) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, "=", std::string(value), " is not an integer in [-1000, 1000]"));
    }
    options.messages_max_delta =
        negative ? -static_cast<int64_t>(*magnitude) : static_cast<int64_t>(*magnitude);
    return absl::OkStatus();
  }
  const NumericField* field = numeric_field(name);
  if (field == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown option ", flag));
  }
  const std::optional<uint64_t> number = parse_u64(value);
  if (!number) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, "=", std::string(value), " is not a non-negative integer (decimal or 0x-hex)"));
  }
  options.*field->field = *number;
  return absl::OkStatus();
}

absl::Status options_validate(const Options& options) {
  if (!pool::config_by_name(options.profile)) {
    return absl::InvalidArgumentError("--profile=" + options.profile +
                                      " is not accepted: one of test_min|production");
  }
  // In table order, so that each range may depend on the fields before it.
  for (const NumericField& field : numeric_fields) {
    const uint64_t value = options.*field.field;
    const uint64_t min = field.min(options);
    const uint64_t max = field.max(options);
    if (value < min || value > max) {
      return absl::InvalidArgumentError(absl::StrCat("--", dashed(field.name), "=", value,
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
