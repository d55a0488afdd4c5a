// The client's reply checks, with replies forged by hand.
#include "sim/client.h"

#include <gtest/gtest.h>

#include <cstring>

#include "sim/wire.h"

namespace sim {
namespace {

using pool::Command;

struct Harness {
  Options options = [] {
    Options o = options_from_seed(1, "test_min");
    o.replica_count = 1;
    o.standby_count = 0;
    o.client_count = 1;
    o.bus = pool::MessageBus::testing;
    o.request_body_size_max = 64;
    return o;
  }();
  pool::Config config = options.config();
  Scheduler scheduler;
  Trace trace;
  Failures failures;
  CommitLedger ledger;
  Network network{options, config, scheduler, trace, 1, 1};
  World world{options, config, scheduler, trace, network, failures, ledger, 1, 1, 1};
  pool::MessagePool pool{config, pool::ClientOptions{}, "client 0"};
  Census census{pool::messages_max_terms(config, pool::ClientOptions{}), std::nullopt};
  pool::MessagePool replica_pool{config, 8, "forger"};
  Client client{world, 0, 2, pool, census};
  // The request the client sent, as the replica saw it.
  pool::RequestHeader sent{};

  Harness() {
    network.set_deliver([this](uint32_t, uint32_t, const pool::Message& packet) {
      if (packet.header->frame.command == Command::request) {
        std::memcpy(&sent, packet.header, sizeof(sent));
      }
      return Network::Delivery::consumed;
    });
    client.open();
    client.tick();  // Sends the registration.
    while (scheduler.due(scheduler.now_tick() + 100)) scheduler.run_next();
  }
  ~Harness() {
    client.close();
    network.release_all();
  }

  // A reply to `sent` that `tamper` may change before it is sealed.
  template <typename Tamper>
  void reply(Tamper tamper) {
    pool::Message* message = replica_pool.get_message();
    auto* header = header_start<Command::reply>(message, 0, 0, 0);
    header->frame.release = 1;
    header->request_checksum = sent.frame.checksum;
    header->client = sent.client;
    header->op = header->commit = 1;
    header->timestamp = 1;
    header->request = sent.request;
    header->operation = sent.operation;
    tamper(*header);
    message_seal(message);
    client.deliver(0, *message);
    replica_pool.unref(message);
  }
};

TEST(Client, AcceptsTheReplyToItsRequest) {
  Harness harness;
  ASSERT_EQ(harness.sent.operation, operation_register);
  harness.reply([](pool::ReplyHeader&) {});
  EXPECT_FALSE(harness.failures.failed());
  EXPECT_EQ(harness.census.held(pool::Term::request_inflight), 0u);
}

TEST(Client, AReplyToAnotherRequestBodyIsAFailure) {
  Harness harness;
  harness.reply([](pool::ReplyHeader& header) { header.request_checksum.low ^= 1; });
  ASSERT_TRUE(harness.failures.failed());
  EXPECT_EQ(harness.failures.first()->kind, FailureKind::reply);
  EXPECT_NE(harness.failures.first()->detail.find("request_checksum"), std::string::npos);
}

TEST(Client, AReplyWhoseOpDoesNotAdvanceIsAFailure) {
  Harness harness;
  harness.reply([](pool::ReplyHeader&) {});  // The registration, op 1.
  harness.client.tick();                     // Sends request 1 once its think time is over.
  for (int i = 0; i < 20 && harness.sent.request != 1; i++) {
    harness.scheduler.advance_to(harness.scheduler.now_tick() + 1);
    harness.client.tick();
    while (harness.scheduler.due(harness.scheduler.now_tick() + 100)) harness.scheduler.run_next();
  }
  ASSERT_EQ(harness.sent.request, 1u);
  harness.reply([](pool::ReplyHeader&) {});  // Op 1 again.
  ASSERT_TRUE(harness.failures.failed());
  EXPECT_NE(harness.failures.first()->detail.find("op did not increase"), std::string::npos);
}

TEST(Client, ADuplicateOfAnAnsweredReplyIsIgnored) {
  Harness harness;
  harness.reply([](pool::ReplyHeader&) {});
  harness.reply([](pool::ReplyHeader&) {});  // Hedged: the backup's copy arrives too.
  EXPECT_FALSE(harness.failures.failed());
}

}  // namespace
}  // namespace sim
