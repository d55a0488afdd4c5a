#include "pool/config.h"

#include <algorithm>
#include <bit>

#include "pool/assertion.h"

namespace pool {
namespace {

// A header plus four headers: the smallest body that carries a view change's headers.
constexpr uint32_t message_size_min = header_size * 5;
// Quorums are u128 bitsets in the original, and a replica index is one byte on the wire.
constexpr uint32_t members_limit = 128;
// Far above any real queue or IOPS limit, and low enough that no formula term can overflow.
constexpr uint32_t count_limit = 1 << 16;
constexpr uint32_t message_size_limit = 1 << 30;

std::optional<FieldError> error(std::string_view field, std::string reason) {
  return FieldError{std::string(field), std::move(reason)};
}

std::optional<FieldError> validate_count(std::string_view field, uint32_t value) {
  if (value == 0 || value > count_limit) {
    return error(field,
                 "must be in 1.." + std::to_string(count_limit) + ", got " + std::to_string(value));
  }
  return std::nullopt;
}

}  // namespace

std::string FieldError::message() const { return field + ": " + reason; }

uint32_t Config::pipeline_request_queue_max() const {
  POOL_ASSERT_LE(clients_max, count_limit);
  const uint32_t queue_total_useful = clients_max + 1;
  if (pipeline_prepare_queue_max >= queue_total_useful) return 0;
  return queue_total_useful - pipeline_prepare_queue_max;
}

uint32_t Config::connection_send_queue_max_replica() const {
  return std::max(std::min(clients_max, 4u), 2u);
}

std::optional<FieldError> Config::validate() const {
  if (!std::has_single_bit(sector_size) || sector_size < 512) {
    return error("sector_size",
                 "must be a power of two of at least 512, got " + std::to_string(sector_size));
  }
  if (message_size_max > message_size_limit) {
    return error("message_size_max", "must be at most " + std::to_string(message_size_limit) +
                                         ", got " + std::to_string(message_size_max));
  }
  if (message_size_max % sector_size != 0) {
    return error("message_size_max", "must be a multiple of sector_size (" +
                                         std::to_string(sector_size) + "), got " +
                                         std::to_string(message_size_max));
  }
  if (message_size_max < message_size_min) {
    return error("message_size_max", "must hold a header and four headers (" +
                                         std::to_string(message_size_min) + " bytes), got " +
                                         std::to_string(message_size_max));
  }
  if (!std::has_single_bit(cache_line_size) || header_size % cache_line_size != 0) {
    return error("cache_line_size", "must be a power of two that divides the header size (" +
                                        std::to_string(header_size) + "), got " +
                                        std::to_string(cache_line_size));
  }
  if (auto bad = validate_count("replicas_max", replicas_max)) return bad;
  const uint64_t members_total = uint64_t{replicas_max} + standbys_max;
  if (members_total > members_limit) {
    return error("replicas_max + standbys_max", "must be at most " + std::to_string(members_limit) +
                                                    ", got " + std::to_string(members_total));
  }
  if (auto bad = validate_count("clients_max", clients_max)) return bad;
  if (auto bad = validate_count("pipeline_prepare_queue_max", pipeline_prepare_queue_max)) {
    return bad;
  }
  if (pipeline_prepare_queue_max > clients_max + 1) {
    return error("pipeline_prepare_queue_max", "must be at most clients_max + 1 (" +
                                                   std::to_string(clients_max + 1) + "), got " +
                                                   std::to_string(pipeline_prepare_queue_max));
  }
  if (auto bad = validate_count("journal_iops_read_max", journal_iops_read_max)) return bad;
  if (auto bad = validate_count("journal_iops_write_max", journal_iops_write_max)) return bad;
  if (auto bad = validate_count("client_replies_iops_read_max", client_replies_iops_read_max)) {
    return bad;
  }
  if (auto bad = validate_count("client_replies_iops_write_max", client_replies_iops_write_max)) {
    return bad;
  }
  if (client_replies_iops_write_max > clients_max) {
    return error("client_replies_iops_write_max",
                 "must be at most clients_max (" + std::to_string(clients_max) + "), got " +
                     std::to_string(client_replies_iops_write_max));
  }
  if (auto bad = validate_count("grid_repair_reads_max", grid_repair_reads_max)) return bad;
  if (auto bad =
          validate_count("connection_send_queue_max_client", connection_send_queue_max_client)) {
    return bad;
  }
  return std::nullopt;
}

Config config_production() {
  const Config config{
      .name = config_names[0],
      .sector_size = 4096,
      .message_size_max = 1024 * 1024,
      .cache_line_size = 64,
      .replicas_max = 6,
      .standbys_max = 6,
      .clients_max = 64,
      .pipeline_prepare_queue_max = 8,
      .journal_iops_read_max = 8,
      .journal_iops_write_max = 32,
      .client_replies_iops_read_max = 1,
      .client_replies_iops_write_max = 2,
      .grid_repair_reads_max = 4,
      .connection_send_queue_max_client = 2,
  };
  POOL_ASSERT(!config.validate().has_value());
  return config;
}

Config config_test_min() {
  const Config config{
      .name = config_names[1],
      .sector_size = 4096,
      .message_size_max = 4096,
      .cache_line_size = 64,
      .replicas_max = 6,
      .standbys_max = 6,
      .clients_max = 7,
      .pipeline_prepare_queue_max = 4,
      .journal_iops_read_max = 3,
      .journal_iops_write_max = 2,
      .client_replies_iops_read_max = 1,
      .client_replies_iops_write_max = 2,
      .grid_repair_reads_max = 4,
      .connection_send_queue_max_client = 2,
  };
  POOL_ASSERT(!config.validate().has_value());
  return config;
}

std::optional<Config> config_by_name(std::string_view name) {
  if (name == config_names[0]) return config_production();
  if (name == config_names[1]) return config_test_min();
  return std::nullopt;
}

}  // namespace pool
