// The fuzz targets' own promises: the corpus means what its names say, encoders and decoders
// agree, and every decoded simulation is a valid one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/byte_reader.h"
#include "fuzz/message_cast.h"
#include "fuzz/pool_lifecycle.h"
#include "fuzz/sim_case.h"
#include "pool/message_pool.h"
#include "sim/core/prng.h"

namespace fuzz {
namespace {

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

TEST(Corpus, MessageCastInputsNamedValidAreAcceptedAndTheOthersRejected) {
  const pool::Config config = pool::config_test_min();
  size_t valid = 0, invalid = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CORPUS_DIR "/message_cast")) {
    if (!entry.is_regular_file()) continue;
    const std::vector<uint8_t> bytes = read_file(entry.path());
    ASSERT_GE(bytes.size(), 1 + pool::header_size) << entry.path();
    pool::Header header;
    std::memcpy(&header, bytes.data() + 1, pool::header_size);
    const auto body = std::span(bytes).subspan(1 + pool::header_size);
    if ((bytes[0] & 1) != 0) pool::header_set_checksums(header, body);  // Sealed.
    const auto reason = pool::message_invalid(header, body, config);
    const bool named_valid = entry.path().filename().string().rfind("valid_", 0) == 0;
    EXPECT_EQ(!reason.has_value(), named_valid) << entry.path() << ": " << reason.value_or("");
    (named_valid ? valid : invalid) += 1;
  }
  EXPECT_GE(valid, 5u);
  EXPECT_GE(invalid, 5u);
}

TEST(ByteReader, NeverFailsAndMatchesTheWriter) {
  ByteWriter writer;
  writer.u8(7);
  writer.u16(0xBEEF);
  writer.u64(0x0123456789ABCDEFULL);
  writer.below(1000, 999);
  ByteReader reader(writer.data());
  EXPECT_EQ(reader.u8(), 7);
  EXPECT_EQ(reader.u16(), 0xBEEF);
  EXPECT_EQ(reader.u64(), 0x0123456789ABCDEFULL);
  EXPECT_EQ(reader.below(1000), 999u);
  EXPECT_TRUE(reader.empty());
  EXPECT_EQ(reader.u32(), 0u);  // Past the end: zeros, never a failure.
  EXPECT_TRUE(reader.bytes(10).empty());
}

TEST(SimCase, EveryByteStringDecodesToValidShortOptions) {
  sim::Prng prng(1);
  for (int i = 0; i < 2000; i++) {
    std::vector<uint8_t> bytes(prng.below(20));
    for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(prng.next());
    const SimCase sim_case = sim_case_decode(bytes);
    // Encoding what was decoded gives the input back, padded with zeros to 14 bytes.
    std::vector<uint8_t> padded = bytes;
    padded.resize(14, 0);
    EXPECT_EQ(sim_case_encode(sim_case), std::vector<uint8_t>(padded.begin(), padded.begin() + 14));
    const sim::Options options = sim_case_options(sim_case);
    ASSERT_TRUE(sim::options_validate(options).ok()) << sim::options_validate(options).message();
    EXPECT_LE(options.requests_max, 24u);
    EXPECT_LE(options.ticks_max_requests, 2000u);
  }
}

TEST(PoolLifecycle, TheEncoderWritesSixBytesAStep) {
  const LifecycleStep steps[] = {{LifecycleOp::get, 0, 0, 0, 0}, {LifecycleOp::unref, 0, 0, 0, 0}};
  const std::vector<uint8_t> bytes = pool_lifecycle_encode(steps);
  EXPECT_EQ(bytes.size(), 12u);
  pool_lifecycle_run(bytes);  // Runs clean.
}

TEST(PoolLifecycleDeathTest, AModelDisagreementAborts) {
  // Handing the pool a message from outside it is a bug the pool itself catches.
  EXPECT_DEATH(
      {
        pool::MessagePool pool(pool::config_test_min(), 1, "fuzz");
        pool::MessagePool other(pool::config_test_min(), 1, "other");
        pool.unref(other.get_message());
      },
      "another pool");
}

}  // namespace
}  // namespace fuzz
