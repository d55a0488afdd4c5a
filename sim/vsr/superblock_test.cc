// The superblock's byte format: what a replica writes is what it reads back at recovery.
#include "sim/vsr/superblock.h"

#include <gtest/gtest.h>

namespace sim {
namespace {

Superblock sample() {
  Superblock superblock;
  superblock.view = 7;
  superblock.log_view = 5;
  superblock.checkpoint_op = 64;
  superblock.checkpoint_checksum = pool::U128{0x1234, 0x5678};
  superblock.checkpoint_header.op = 64;
  superblock.checkpoint_header.frame.command = pool::Command::prepare;
  superblock.clients.resize(3);
  superblock.clients[1].registered = true;
  superblock.clients[1].reply.request = 9;
  superblock.clients[1].reply.op = 60;
  return superblock;
}

TEST(Superblock, DecodesWhatWasEncoded) {
  const Superblock written = sample();
  const Superblock read = superblock_decode(superblock_encode(written));
  EXPECT_EQ(read.view, 7u);
  EXPECT_EQ(read.log_view, 5u);
  EXPECT_EQ(read.checkpoint_op, 64u);
  EXPECT_EQ(read.checkpoint_checksum, written.checkpoint_checksum);
  EXPECT_EQ(read.checkpoint_header.op, 64u);
  ASSERT_EQ(read.clients.size(), 3u);
  EXPECT_FALSE(read.clients[0].registered);
  EXPECT_TRUE(read.clients[1].registered);
  EXPECT_EQ(read.clients[1].reply.request, 9u);
  EXPECT_EQ(read.clients[1].reply.op, 60u);
  EXPECT_EQ(superblock_encode(read), superblock_encode(written));
}

TEST(SuperblockDeathTest, TruncatedOrTrailingBytesAreABug) {
  std::vector<uint8_t> bytes = superblock_encode(sample());
  bytes.pop_back();
  EXPECT_DEATH(superblock_decode(bytes), "superblock truncated");
  bytes = superblock_encode(sample());
  bytes.push_back(0);
  EXPECT_DEATH(superblock_decode(bytes), "trailing bytes");
}

}  // namespace
}  // namespace sim
