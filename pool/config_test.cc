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

TEST(ConfigValidate, MessageSizeMustBeAMultipleOfSectorSize) {
  Config config = config_test_min();
  config.message_size_max = 4096 + 512;
  auto error = config.validate();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->message(),
            "message_size_max: must be a multiple of sector_size (4096), got 4608");
}

TEST(ConfigValidate, NamesEachBadField) {
  const struct {
    const char* field;
    void (*spoil)(Config&);
  } cases[] = {
      {"sector_size", [](Config& c) { c.sector_size = 1000; }},
      {"message_size_max",
       [](Config& c) {  // Smaller than a header and four headers.
         c.sector_size = 512;
         c.message_size_max = 1024;
       }},
      {"cache_line_size", [](Config& c) { c.cache_line_size = 48; }},
      {"replicas_max", [](Config& c) { c.replicas_max = 0; }},
      {"replicas_max + standbys_max", [](Config& c) { c.standbys_max = 200; }},
      {"replicas_max",
       [](Config& c) {  // The sum would wrap to 0 in 32 bits.
         c.replicas_max = 0xFFFF'FFFF;
         c.standbys_max = 1;
       }},
      {"replicas_max + standbys_max", [](Config& c) { c.standbys_max = 0xFFFF'FFFF; }},
      {"message_size_max", [](Config& c) { c.message_size_max = 0x8000'0000; }},
      {"clients_max", [](Config& c) { c.clients_max = 0xFFFF'FFFF; }},
      {"journal_iops_write_max", [](Config& c) { c.journal_iops_write_max = 100'000; }},
      {"clients_max", [](Config& c) { c.clients_max = 0; }},
      {"pipeline_prepare_queue_max", [](Config& c) { c.pipeline_prepare_queue_max = 9; }},
      {"journal_iops_read_max", [](Config& c) { c.journal_iops_read_max = 0; }},
      {"journal_iops_write_max", [](Config& c) { c.journal_iops_write_max = 0; }},
      {"client_replies_iops_read_max", [](Config& c) { c.client_replies_iops_read_max = 0; }},
      {"client_replies_iops_write_max", [](Config& c) { c.client_replies_iops_write_max = 8; }},
      {"grid_repair_reads_max", [](Config& c) { c.grid_repair_reads_max = 0; }},
      {"connection_send_queue_max_client",
       [](Config& c) { c.connection_send_queue_max_client = 0; }},
  };
  for (const auto& bad : cases) {
    Config config = config_test_min();
    bad.spoil(config);
    const auto error = config.validate();
    ASSERT_TRUE(error.has_value()) << bad.field;
    EXPECT_EQ(error->field, bad.field);
  }
}

}  // namespace
}  // namespace pool
