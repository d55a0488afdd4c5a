#include "pool/config.h"

#include <algorithm>
#include <bit>

#include "pool/assertion.h"

namespace pool {
namespace {

// A header plus four headers: the smallest body that carries a view change's headers.
constexpr uint32_t message_size_min = header_size * 5;
// Replica indexes are one byte on the wire, and quorums are u128 bitsets in the original.
constexpr uint32_t members_limit = 128;

std::optional<FieldError> error(std::string_view field, std::string reason) {
  return FieldError{std::string(field), std::move(reason)};
}

std::optional<FieldError> validate_positive(std::string_view field, uint32_t value) {
  if (value == 0) return error(field, "must be at least 1");
  return std::nullopt;
}

}  // namespace

std::string FieldError::message() const { return field + ": " + reason; }

uint32_t Config::pipeline_request_queue_max() const {
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
  if (auto bad = validate_positive("replicas_max", replicas_max)) return bad;
  if (members_max() > members_limit) {
    return error("replicas_max + standbys_max", "must be at most " + std::to_string(members_limit) +
                                                    ", got " + std::to_string(members_max()));
  }
  if (auto bad = validate_positive("clients_max", clients_max)) return bad;
  if (auto bad = validate_positive("pipeline_prepare_queue_max", pipeline_prepare_queue_max)) {
    return bad;
  }
  if (pipeline_prepare_queue_max > clients_max + 1) {
    return error("pipeline_prepare_queue_max", "must be at most clients_max + 1 (" +
                                                   std::to_string(clients_max + 1) + "), got " +
                                                   std::to_string(pipeline_prepare_queue_max));
  }
  if (auto bad = validate_positive("journal_iops_read_max", journal_iops_read_max)) return bad;
  if (auto bad = validate_positive("journal_iops_write_max", journal_iops_write_max)) return bad;
  if (auto bad = validate_positive("client_replies_iops_read_max", client_replies_iops_read_max)) {
    return bad;
  }
  if (auto bad =
          validate_positive("client_replies_iops_write_max", client_replies_iops_write_max)) {
    return bad;
  }
  if (client_replies_iops_write_max > clients_max) {
    return error("client_replies_iops_write_max",
                 "must be at most clients_max (" + std::to_string(clients_max) + "), got " +
                     std::to_string(client_replies_iops_write_max));
  }
  if (auto bad = validate_positive("grid_repair_reads_max", grid_repair_reads_max)) return bad;
  if (auto bad =
          validate_positive("connection_send_queue_max_client", connection_send_queue_max_client)) {
    return bad;
  }
  return std::nullopt;
}

Config config_production() {
  const Config config{
      .name = "production",
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
      .name = "test_min",
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
  if (name == "production") return config_production();
  if (name == "test_min") return config_test_min();
  return std::nullopt;
}

}  // namespace pool
