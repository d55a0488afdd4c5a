// The constants that size a message pool, as one struct with the original's two named profiles
// (`production` and `test_min`). A custom config is checked by `validate()`, which names the
// first bad field and why, so that a command line can report it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pool {

// What is wrong with a user-supplied value: the field (or flag) and the reason.
struct FieldError {
  std::string field;
  std::string reason;

  // "<field>: <reason>", one line.
  std::string message() const;
};

// Every header is this many bytes; the body follows it in the same buffer.
inline constexpr uint32_t header_size = 256;

struct Config {
  std::string_view name;
  uint32_t sector_size;       // Buffer alignment, for Direct I/O.
  uint32_t message_size_max;  // One message buffer, header included.
  uint32_t cache_line_size;   // Body alignment.
  uint32_t replicas_max;      // Active replicas.
  uint32_t standbys_max;
  uint32_t clients_max;  // Client sessions.
  uint32_t pipeline_prepare_queue_max;
  uint32_t journal_iops_read_max;
  uint32_t journal_iops_write_max;
  uint32_t client_replies_iops_read_max;
  uint32_t client_replies_iops_write_max;
  uint32_t grid_repair_reads_max;
  uint32_t connection_send_queue_max_client;

  // Derived as the original derives them, so that they cannot disagree with their inputs.
  uint32_t members_max() const { return replicas_max + standbys_max; }
  // (clients_max + 1) − pipeline_prepare_queue_max, floored at 0: a larger queue is wasted.
  uint32_t pipeline_request_queue_max() const;
  // max(min(clients_max, 4), 2).
  uint32_t connection_send_queue_max_replica() const;

  // The first invalid field, or nullopt. Every count is bounded (1..65536; replicas and
  // standbys 128 together), so that no formula over a valid config can overflow.
  std::optional<FieldError> validate() const;
};

// TigerBeetle's production constants: 1 MiB messages, 64 clients.
Config config_production();
// TigerBeetle's smallest test configuration: 4 KiB messages, 7 clients, short queues.
Config config_test_min();

// The profiles' names, for flags and help.
inline constexpr std::array<std::string_view, 2> config_names = {"production", "test_min"};

// The profile called `name` (one of config_names), or nullopt.
std::optional<Config> config_by_name(std::string_view name);

}  // namespace pool
