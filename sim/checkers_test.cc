// The checkers on events forged by hand: each failure kind they exist to catch, and the events
// they must let pass.
#include "sim/checkers.h"

#include <gtest/gtest.h>

#include <cstring>

#include "sim/vsr/wire.h"

namespace sim {
namespace {

ProcessEvent committed(uint32_t replica, uint64_t op, uint64_t checksum) {
  ProcessEvent event{ProcessEventKind::committed, replica, op, pool::U128{checksum, 0}};
  event.carries_request = true;
  return event;
}

TEST(CommitChecker, TheSamePrepareCommittedTwicePasses) {
  Failures failures;
  CommitChecker checker(failures);
  EXPECT_TRUE(checker.on_event(committed(0, 1, 11)));
  EXPECT_TRUE(checker.on_event(committed(1, 1, 11)));
  EXPECT_TRUE(checker.on_event(committed(1, 2, 12)));
  EXPECT_FALSE(failures.failed());
  EXPECT_EQ(checker.committed_max(), 2u);
  EXPECT_EQ(checker.requests_committed(), 2u);
}

TEST(CommitChecker, AnotherPrepareAtACommittedOpIsASafetyFailure) {
  Failures failures;
  CommitChecker checker(failures);
  EXPECT_TRUE(checker.on_event(committed(0, 1, 11)));
  EXPECT_FALSE(checker.on_event(committed(2, 1, 99)));
  ASSERT_TRUE(failures.failed());
  EXPECT_EQ(failures.first()->kind, FailureKind::safety);
  EXPECT_EQ(failures.first()->process, "replica 2");
}

TEST(CommitChecker, ASyncToAnotherPrepareIsASafetyFailure) {
  Failures failures;
  CommitChecker checker(failures);
  EXPECT_TRUE(checker.on_event(committed(0, 1, 11)));
  EXPECT_TRUE(checker.on_event(ProcessEvent{ProcessEventKind::synced, 1, 1, pool::U128{11, 0}}));
  EXPECT_FALSE(failures.failed());
  EXPECT_FALSE(checker.on_event(ProcessEvent{ProcessEventKind::synced, 1, 1, pool::U128{12, 0}}));
  ASSERT_TRUE(failures.failed());
  EXPECT_NE(failures.first()->detail.find("synced to checkpoint 1"), std::string::npos);
}

// A request and the reply that answers it; tests tamper with one or the other.
struct Exchange {
  pool::RequestHeader request{};
  std::vector<uint8_t> request_body = {1, 2, 3};
  pool::ReplyHeader reply{};
  pool::U128 digest{0, 0};

  Exchange() {
    request.frame.checksum = pool::U128{77, 0};
    request.client = client_id(0);
    request.request = 1;
    request.operation = operation_echo;
    reply.request_checksum = request.frame.checksum;
    reply.operation = request.operation;
    reply.op = 5;
    digest = echo_digest(request.client, request.request, request_body);
  }
  ProcessEvent event() const {
    ProcessEvent accepted{ProcessEventKind::reply_accepted, 0, reply.op};
    accepted.request_header = &request;
    accepted.request_body = request_body;
    accepted.reply_header = &reply;
    accepted.reply_body =
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&digest), sizeof(digest));
    return accepted;
  }
};

std::string reply_failure(const Exchange& exchange) {
  Failures failures;
  ReplyChecker checker(failures, 1);
  checker.on_event(exchange.event());
  if (!failures.failed()) return "";
  EXPECT_EQ(failures.first()->kind, FailureKind::reply);
  return failures.first()->detail;
}

TEST(ReplyChecker, TheReplyToTheRequestPasses) { EXPECT_EQ(reply_failure(Exchange{}), ""); }

TEST(ReplyChecker, AReplyToAnotherRequestIsAFailure) {
  Exchange exchange;
  exchange.reply.request_checksum.low ^= 1;
  EXPECT_NE(reply_failure(exchange).find("request_checksum differs"), std::string::npos);
}

TEST(ReplyChecker, AWrongResultIsAFailure) {
  Exchange exchange;
  exchange.digest.high ^= 1;
  EXPECT_NE(reply_failure(exchange).find("body is not the request's result"), std::string::npos);
}

TEST(ReplyChecker, AReplyWhoseOpDoesNotAdvanceIsAFailure) {
  Failures failures;
  ReplyChecker checker(failures, 1);
  const Exchange exchange;
  checker.on_event(exchange.event());
  EXPECT_FALSE(failures.failed());
  checker.on_event(exchange.event());  // The next reply at the same op.
  ASSERT_TRUE(failures.failed());
  EXPECT_NE(failures.first()->detail.find("op did not increase"), std::string::npos);
}

TEST(LivenessChecker, FailsOnlyAfterItsBudgetWithoutProgress) {
  LivenessChecker checker(10);
  checker.start(100);
  EXPECT_TRUE(checker.observe(105, 0));
  EXPECT_TRUE(checker.observe(109, 0));
  EXPECT_FALSE(checker.observe(110, 0));
  EXPECT_TRUE(checker.observe(111, 1));  // Progress restarts the budget.
  EXPECT_TRUE(checker.observe(120, 1));
  EXPECT_FALSE(checker.observe(121, 1));
}

TEST(LeakCheck, APoolWithAMessageOutIsALeak) {
  Failures failures;
  pool::MessagePool pool(pool::config_test_min(), 2, "replica 0");
  Census census(pool, {}, std::nullopt);
  EXPECT_TRUE(check_no_leak(failures, "replica 0", pool, census, "at teardown"));
  pool::Message* message = census.acquire(pool, Holder::testing_bus_buffer);
  EXPECT_FALSE(check_no_leak(failures, "replica 0", pool, census, "at teardown"));
  ASSERT_TRUE(failures.failed());
  EXPECT_EQ(failures.first()->kind, FailureKind::leak);
  EXPECT_NE(failures.first()->detail.find("1 messages at teardown"), std::string::npos);
  EXPECT_NE(failures.first()->detail.find("testing_bus_buffer 1"), std::string::npos);
  census.release(pool, Holder::testing_bus_buffer, message);
}

}  // namespace
}  // namespace sim
