// pool-capacity: prints messages_max() term by term for a process, with the bytes it allocates,
// as text or JSON: what an operator sizing memory wants to see.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "nlohmann/json.hpp"
#include "pool/cli/flags.h"
#include "pool/config.h"
#include "pool/message_pool.h"

ABSL_FLAG(std::string, config, "production",
          "Constants profile: production (1 MiB messages, 64 clients) or test_min (4 KiB "
          "messages, 7 clients).");
ABSL_FLAG(std::string, process, "replica", "Whose pool: replica or client.");
ABSL_FLAG(uint32_t, members, 3,
          "Replica only: members_count, the replicas plus standbys of the cluster (1..12).");
ABSL_FLAG(uint32_t, pipeline_requests_limit, 0,
          "Replica only: requests queued behind the prepare queue (0..pipeline_request_queue_max: "
          "57 in production, 4 in test_min).");
ABSL_FLAG(std::string, bus, "tcp",
          "Replica only: message bus, tcp (adds the connection terms) or testing.");
ABSL_FLAG(std::string, formula, "original",
          "original (TigerBeetle's at 52ad553f9) or corrected (adds a term per finding of the "
          "simulator: reply_copy).");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a table.");

namespace {

constexpr std::string_view program = "pool-capacity";
constexpr std::string_view usage =
    "usage: pool-capacity [--config=production|test_min] [--process=replica|client]\n"
    "                     [--members=N] [--pipeline-requests-limit=N] [--bus=tcp|testing]\n"
    "                     [--formula=original|corrected] [--json]\n\n"
    "Prints how many messages a TigerBeetle-style message pool allocates (messages_max), term by\n"
    "term, each term named after the place that keeps those messages, and the bytes allocated\n"
    "(messages_max x message_size_max).";

struct Request {
  pool::Config config;
  pool::Options options;
  pool::Formula formula;
};

// "118,489,088": byte counts are read by people.
std::string with_thousands(uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string text;
  for (size_t index = 0; index < digits.size(); index += 1) {
    if (index > 0 && (digits.size() - index) % 3 == 0) text += ',';
    text += digits[index];
  }
  return text;
}

// The flag that sets each field of pool::ReplicaOptions, for errors in the user's terms.
std::string flag_of_field(std::string_view field) {
  if (field == "members_count") return "members";
  if (field == "message_bus") return "bus";
  return pool::cli::flag_name_dashed(field);
}

absl::StatusOr<Request> request_from_flags(const pool::cli::ParsedCommandLine& parsed) {
  if (!parsed.positional.empty()) {
    return absl::InvalidArgumentError("unexpected argument '" + parsed.positional.front() +
                                      "' (flags only; see --help)");
  }
  const std::string config_name = absl::GetFlag(FLAGS_config);
  const std::optional<pool::Config> config = pool::config_by_name(config_name);
  if (!config.has_value()) {
    return pool::cli::flag_one_of("config", config_name,
                                  {pool::config_names.begin(), pool::config_names.end()});
  }

  const std::string formula_name = absl::GetFlag(FLAGS_formula);
  const std::optional<pool::Formula> formula = pool::formula_by_name(formula_name);
  if (!formula) return pool::cli::flag_one_of("formula", formula_name, {"original", "corrected"});

  const std::string process = absl::GetFlag(FLAGS_process);
  if (auto status = pool::cli::flag_one_of("process", process, {"replica", "client"});
      !status.ok()) {
    return status;
  }
  if (process == "client") {
    for (const char* replica_flag : {"members", "pipeline_requests_limit", "bus"}) {
      if (parsed.flags_set.count(replica_flag) > 0) {
        return absl::InvalidArgumentError("--" + pool::cli::flag_name_dashed(replica_flag) +
                                          " applies to --process=replica only");
      }
    }
    return Request{*config, pool::ClientOptions{}, *formula};
  }

  const std::string bus_name = absl::GetFlag(FLAGS_bus);
  const std::optional<pool::MessageBusKind> bus = pool::message_bus_by_name(bus_name);
  if (!bus.has_value()) return pool::cli::flag_one_of("bus", bus_name, {"tcp", "testing"});
  const pool::ReplicaOptions replica{
      .members_count = absl::GetFlag(FLAGS_members),
      .pipeline_requests_limit = absl::GetFlag(FLAGS_pipeline_requests_limit),
      .message_bus = *bus,
  };
  if (auto invalid = pool::options_validate(*config, replica)) {
    return absl::InvalidArgumentError("--" + flag_of_field(invalid->field) + ": " +
                                      invalid->reason);
  }
  return Request{*config, replica, *formula};
}

std::string options_text(const pool::Options& options) {
  if (std::holds_alternative<pool::ClientOptions>(options)) return "client";
  const auto& replica = std::get<pool::ReplicaOptions>(options);
  return "replica (members " + std::to_string(replica.members_count) +
         ", pipeline_requests_limit " + std::to_string(replica.pipeline_requests_limit) + ", bus " +
         (replica.message_bus == pool::MessageBusKind::tcp ? "tcp" : "testing") + ")";
}

void print_json(const Request& request, const pool::MessagesMaxTerms& terms, uint64_t bytes) {
  nlohmann::ordered_json json;
  json["config"] = std::string(request.config.name);
  const bool client = std::holds_alternative<pool::ClientOptions>(request.options);
  json["process"] = client ? "client" : "replica";
  if (!client) {
    const auto& replica = std::get<pool::ReplicaOptions>(request.options);
    json["members"] = replica.members_count;
    json["pipeline_requests_limit"] = replica.pipeline_requests_limit;
    json["bus"] = std::string(pool::message_bus_name(replica.message_bus));
  }
  json["formula"] = std::string(pool::formula_name(request.formula));
  json["messages_max"] = terms.total();
  json["message_size_max"] = request.config.message_size_max;
  json["bytes"] = bytes;
  nlohmann::ordered_json terms_json = nlohmann::ordered_json::object();
  for (const auto& entry : terms.entries()) {
    terms_json[std::string(pool::term_name(entry.term))] = entry.messages;
  }
  json["terms"] = terms_json;
  std::printf("%s\n", json.dump().c_str());
}

void print_table(const Request& request, const pool::MessagesMaxTerms& terms, uint64_t bytes) {
  std::printf("config %.*s (message_size_max %s bytes), process %s, formula %s\n\n",
              static_cast<int>(request.config.name.size()), request.config.name.data(),
              with_thousands(request.config.message_size_max).c_str(),
              options_text(request.options).c_str(),
              std::string(pool::formula_name(request.formula)).c_str());
  std::printf("  %-25s %11s  %s\n", "term", "messages", "held by");
  for (const auto& entry : terms.entries()) {
    const std::string_view name = pool::term_name(entry.term);
    const std::string_view holder = pool::term_holder(entry.term);
    std::printf("  %-25.*s %11u  %.*s\n", static_cast<int>(name.size()), name.data(),
                entry.messages, static_cast<int>(holder.size()), holder.data());
  }
  std::printf("  %-25s %11u\n", "messages_max", terms.total());
  const uint64_t mebibyte = 1024 * 1024;
  std::printf("  %-25s %11s  (%u x %s; %llu.%01llu MiB)\n", "bytes", with_thousands(bytes).c_str(),
              terms.total(), with_thousands(request.config.message_size_max).c_str(),
              static_cast<unsigned long long>(bytes / mebibyte),
              static_cast<unsigned long long>(bytes % mebibyte * 10 / mebibyte));
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = pool::cli::parse_command_line(argc, argv);
  if (!parsed.ok()) pool::cli::exit_bad_input(program, parsed.status());
  if (parsed->help) {
    std::printf("%s", pool::cli::help_text(usage, {"capacity_main"}).c_str());
    return 0;
  }
  if (parsed->version) {
    std::printf("%s\n", pool::cli::version_text(program).c_str());
    return 0;
  }
  auto request = request_from_flags(*parsed);
  if (!request.ok()) pool::cli::exit_bad_input(program, request.status());

  const pool::MessagesMaxTerms terms =
      pool::messages_max_terms(request->config, request->options, request->formula);
  const uint64_t bytes = uint64_t{terms.total()} * request->config.message_size_max;
  if (absl::GetFlag(FLAGS_json)) {
    print_json(*request, terms, bytes);
  } else {
    print_table(*request, terms, bytes);
  }
  return 0;
}
