// The pipeline's queue and cache keep their invariants, and say so when broken.
#include "sim/vsr/pipeline.h"

#include <gtest/gtest.h>

#include "sim/vsr/wire.h"

namespace sim {
namespace {

using pool::Command;

struct Harness {
  pool::MessagePool pool{pool::config_test_min(), 8, "replica 0"};
  Pipeline pipeline{2, 1};

  pool::Message* prepare(uint64_t op) {
    pool::Message* message = pool.get_message();
    header_start<Command::prepare>(message, 0, 0, 0)->op = op;
    message_seal(message);
    return message;
  }
  pool::Message* request() {
    pool::Message* message = pool.get_message();
    header_start<Command::request>(message, 0, 0, 0);
    message_seal(message);
    return message;
  }
};

TEST(Pipeline, TheQueueTakesConsecutiveOpsUpToItsBound) {
  Harness harness;
  pool::Message* first = harness.prepare(5);
  pool::Message* second = harness.prepare(6);
  harness.pipeline.prepare_push({first, 0, false});
  harness.pipeline.prepare_push({second, 1, false});
  EXPECT_TRUE(harness.pipeline.prepare_queue_full());
  harness.pipeline.verify(3);
  EXPECT_EQ(harness.pipeline.prepare_pop(), first);
  EXPECT_EQ(harness.pipeline.prepare_pop(), second);
  EXPECT_TRUE(harness.pipeline.queues_empty());
  harness.pool.unref(first);
  harness.pool.unref(second);
}

TEST(Pipeline, TheCacheFindsAPrepareByOpAndChecksum) {
  Harness harness;
  pool::Message* prepare = harness.prepare(7);
  harness.pipeline.cache_slot(7) = prepare;
  EXPECT_EQ(harness.pipeline.cached(7, prepare->header->frame.checksum), prepare);
  EXPECT_EQ(harness.pipeline.cached(7, pool::U128{1, 2}), nullptr);
  EXPECT_EQ(
      harness.pipeline.cached(7 + harness.pipeline.cache_size(), prepare->header->frame.checksum),
      nullptr);  // Another op in the same slot.
  EXPECT_FALSE(harness.pipeline.empty());
  harness.pipeline.verify(3);
  harness.pipeline.cache_slot(7) = nullptr;
  EXPECT_TRUE(harness.pipeline.empty());
  harness.pool.unref(prepare);
}

TEST(PipelineDeathTest, AGapInTheQueueIsABug) {
  Harness harness;
  harness.pipeline.prepare_push({harness.prepare(5), 0, false});
  EXPECT_DEATH(harness.pipeline.prepare_push({harness.prepare(7), 0, false}), "consecutive");
  harness.pool.unref(harness.pipeline.prepare_pop());
}

TEST(PipelineDeathTest, AFullRequestQueueIsABug) {
  Harness harness;
  harness.pipeline.request_push(harness.request());
  EXPECT_DEATH(harness.pipeline.request_push(harness.request()), "request_queue_full");
  harness.pool.unref(harness.pipeline.request_pop());
}

TEST(PipelineDeathTest, VerifyCatchesAPrepareInAnotherOpsSlot) {
  Harness harness;
  harness.pipeline.cache_slot(4) = harness.prepare(5);
  EXPECT_DEATH(harness.pipeline.verify(3), "cache_");
  harness.pool.unref(harness.pipeline.cache_slot(4));
  harness.pipeline.cache_slot(4) = nullptr;
}

}  // namespace
}  // namespace sim
