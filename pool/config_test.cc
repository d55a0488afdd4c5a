#include "pool/config.h"

#include <gtest/gtest.h>

namespace pool {
namespace {

TEST(Config, ProfilesAreValid) {
  EXPECT_FALSE(config_production().validate().has_value());
  EXPECT_FALSE(config_test_min().validate().has_value());
}

TEST(Config, ProductionDerivedConstantsMatchTheOriginal) {
  const Config config = config_production();
  EXPECT_EQ(config.members_max(), 12u);
  EXPECT_EQ(config.pipeline_request_queue_max(), 57u);
  EXPECT_EQ(config.connection_send_queue_max_replica(), 4u);
  EXPECT_EQ(config.message_size_max, 1u << 20);
}

TEST(Config, TestMinDerivedConstantsMatchTheOriginal) {
  const Config config = config_test_min();
  EXPECT_EQ(config.members_max(), 12u);
  EXPECT_EQ(config.pipeline_request_queue_max(), 4u);
  EXPECT_EQ(config.connection_send_queue_max_replica(), 4u);
  EXPECT_EQ(config.message_size_max, 4096u);
}

TEST(Config, RequestQueueMaxIsFlooredAtZero) {
  Config config = config_test_min();
  config.clients_max = 3;
  config.pipeline_prepare_queue_max = 4;
  EXPECT_EQ(config.pipeline_request_queue_max(), 0u);
}

TEST(Config, ReplicaSendQueueIsClampedToTwoThroughFour) {
  Config config = config_test_min();
  config.clients_max = 1;
  EXPECT_EQ(config.connection_send_queue_max_replica(), 2u);
  config.clients_max = 3;
  EXPECT_EQ(config.connection_send_queue_max_replica(), 3u);
}

TEST(Config, ByNameFindsBothProfiles) {
  EXPECT_EQ(config_by_name("production")->name, "production");
  EXPECT_EQ(config_by_name("test_min")->name, "test_min");
  EXPECT_FALSE(config_by_name("huge").has_value());
}

std::string invalid_field(const Config& config) {
  auto error = config.validate();
  return error.has_value() ? error->field : "(valid)";
}

TEST(ConfigValidate, MessageSizeMustBeAMultipleOfSectorSize) {
  Config config = config_test_min();
  config.message_size_max = 4096 + 512;
  auto error = config.validate();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message(),
            "message_size_max: must be a multiple of sector_size (4096), got 4608");
}

TEST(ConfigValidate, NamesEachBadField) {
  Config config = config_test_min();
  config.sector_size = 1000;
  EXPECT_EQ(invalid_field(config), "sector_size");

  config = config_test_min();
  config.sector_size = 512;
  config.message_size_max = 1024;
  EXPECT_EQ(invalid_field(config), "message_size_max") << "smaller than a header and 4 headers";

  config = config_test_min();
  config.cache_line_size = 48;
  EXPECT_EQ(invalid_field(config), "cache_line_size");

  config = config_test_min();
  config.replicas_max = 0;
  EXPECT_EQ(invalid_field(config), "replicas_max");

  config = config_test_min();
  config.standbys_max = 200;
  EXPECT_EQ(invalid_field(config), "replicas_max + standbys_max");

  config = config_test_min();
  config.clients_max = 0;
  EXPECT_EQ(invalid_field(config), "clients_max");

  config = config_test_min();
  config.pipeline_prepare_queue_max = 9;
  EXPECT_EQ(invalid_field(config), "pipeline_prepare_queue_max") << "more than clients_max + 1";

  config = config_test_min();
  config.journal_iops_read_max = 0;
  EXPECT_EQ(invalid_field(config), "journal_iops_read_max");

  config = config_test_min();
  config.journal_iops_write_max = 0;
  EXPECT_EQ(invalid_field(config), "journal_iops_write_max");

  config = config_test_min();
  config.client_replies_iops_write_max = 8;
  EXPECT_EQ(invalid_field(config), "client_replies_iops_write_max") << "more than clients_max";

  config = config_test_min();
  config.grid_repair_reads_max = 0;
  EXPECT_EQ(invalid_field(config), "grid_repair_reads_max");

  config = config_test_min();
  config.connection_send_queue_max_client = 0;
  EXPECT_EQ(invalid_field(config), "connection_send_queue_max_client");
}

}  // namespace
}  // namespace pool
