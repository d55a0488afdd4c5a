// The client takes the reply to its request once, with replies forged by hand; what it accepts
// it reports (the reply checker, sim/checkers.h, checks it).
#include "sim/vsr/client.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "sim/vsr/wire.h"

namespace sim {
namespace {

using pool::Command;

struct Harness {
  pool::Config config = pool::config_test_min();
  Scheduler scheduler;
  Trace trace;
  Network network{NetworkOptions{}, 1, config, scheduler, trace, 1, 1};
  std::vector<ProcessEvent> events;  // What the client reported (spans not kept).
  ProcessContext context{1,
                         pool::MessageBusKind::testing,
                         config,
                         ClusterShape{1, 1, 1},
                         scheduler,
                         trace,
                         network,
                         [this](const ProcessEvent& event) {
                           events.push_back(event);
                           return true;
                         }};
  pool::MessagePool pool{config, pool::ClientOptions{}, "client 0"};
  Census census{pool, pool::messages_max_terms(config, pool::ClientOptions{}), std::nullopt};
  pool::MessagePool replica_pool{config, 8, "forger"};
  Client client{context, ClientOptions{64}, 0, 2, pool, census};
  // The request the client sent, as the replica saw it.
  pool::RequestHeader sent{};

  Harness() {
    network.set_unlinked_delivery([this](uint32_t, uint32_t, const pool::Message& packet) {
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
    client.bus().deliver(0, 0, *message);
    replica_pool.unref(message);
  }
};

TEST(Client, AcceptsTheReplyToItsRequestAndReportsIt) {
  Harness harness;
  ASSERT_EQ(harness.sent.operation, operation_register);
  harness.reply([](pool::ReplyHeader&) {});
  ASSERT_EQ(harness.events.size(), 1u);
  EXPECT_EQ(harness.events[0].kind, ProcessEventKind::reply_accepted);
  EXPECT_EQ(harness.events[0].process, 0u);
  EXPECT_EQ(harness.events[0].op, 1u);
  EXPECT_EQ(harness.census.held(pool::Term::request_inflight), 0u);
}

TEST(Client, ADuplicateOfAnAnsweredReplyIsIgnored) {
  Harness harness;
  harness.reply([](pool::ReplyHeader&) {});
  harness.reply([](pool::ReplyHeader&) {});  // Hedged: the backup's copy arrives too.
  EXPECT_EQ(harness.events.size(), 1u);
}

TEST(Client, AReplyToAnotherRequestNumberIsIgnored) {
  Harness harness;
  harness.reply([](pool::ReplyHeader& header) { header.request += 1; });
  EXPECT_TRUE(harness.events.empty());
  EXPECT_EQ(harness.census.held(pool::Term::request_inflight), 1u);
}

}  // namespace
}  // namespace sim
