#include "sim/core/census.h"

#include <gtest/gtest.h>

#include "pool/config.h"

namespace sim {
namespace {

using pool::Term;

const pool::Config config = pool::config_test_min();
const pool::Options replica{pool::ReplicaOptions{3, 0, pool::MessageBusKind::testing}};

TEST(Census, CountsReferencesPerTermAndHolderAndRemembersPeaks) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* prepare = census.acquire(pool, Holder::pipeline);
  census.hold(Holder::journal_write, prepare);
  EXPECT_EQ(census.held(Term::pipeline), 1u);
  EXPECT_EQ(census.held(Term::journal_writes), 1u);
  EXPECT_EQ(census.held(Holder::journal_write), 1u);
  EXPECT_EQ(prepare->references, 2u);
  census.release(pool, Holder::journal_write, prepare);
  census.release(pool, Holder::pipeline, prepare);
  EXPECT_EQ(census.held_total(), 0u);
  EXPECT_EQ(census.peak(Term::pipeline), 1u);
  EXPECT_EQ(census.peak(Holder::journal_write), 1u);
  EXPECT_EQ(pool.used_count(), 0u);
}

TEST(Census, CountsADistinctMessageOnceForItsPrimaryHolder) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  // A prepare handled while the pipeline and a journal write keep it: one message, the
  // pipeline's (it comes first in holder.h).
  pool::Message* prepare = census.acquire(pool, Holder::handled_message);
  EXPECT_EQ(census.distinct_peak(Term::burst), 1u);
  census.hold(Holder::pipeline, prepare);
  census.hold(Holder::journal_write, prepare);
  pool::Message* pong = census.acquire(pool, Holder::pong);
  EXPECT_EQ(census.census_at_peak(), "pipeline 1, journal_write 0, handled_message 0, pong 1");
  EXPECT_EQ(census.pool_peak(), 2u);
  EXPECT_EQ(census.distinct_peak(Term::pipeline), 1u);
  EXPECT_EQ(census.distinct_peak(Holder::journal_write), 0u);
  EXPECT_EQ(census.distinct_peak(Term::burst), 1u);  // The pong; the handled prepare moved on.
  EXPECT_EQ(census.peak(Term::burst), 2u);           // By reference: the prepare and the pong.
  census.release(pool, Holder::pong, pong);
  census.release(pool, Holder::handled_message, prepare);
  census.release(pool, Holder::pipeline, prepare);
  census.release(pool, Holder::journal_write, prepare);
  EXPECT_EQ(pool.used_count(), 0u);
}

TEST(Census, ReportsABreachOfATermsBound) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  std::optional<Census::Breach> breached;
  census.set_breach_handler([&](const Census::Breach& breach) { breached = breach; });
  pool::Message* first = census.acquire(pool, Holder::commit_prepare);
  EXPECT_FALSE(breached);
  census.hold(Holder::commit_prepare, first);
  ASSERT_TRUE(breached);
  EXPECT_EQ(breached->limit, Term::commit_prepare);
  EXPECT_EQ(breached->what, "commit_prepare");
  EXPECT_EQ(breached->held, 2u);
  EXPECT_EQ(breached->bound, 1u);
  census.release(pool, Holder::commit_prepare, first);
  census.release(pool, Holder::commit_prepare, first);
}

TEST(Census, TheTransientsShareBurstAndCommitReply) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  EXPECT_EQ(census.transients_name(), "burst+commit_reply");
  EXPECT_EQ(census.transients_bound(), 2u);
  std::optional<Census::Breach> breached;
  census.set_breach_handler([&](const Census::Breach& breach) { breached = breach; });
  pool::Message* handled = census.acquire(pool, Holder::handled_message);
  pool::Message* pong = census.acquire(pool, Holder::pong);  // Two bursts: within the share.
  EXPECT_FALSE(breached);
  pool::Message* reply = census.acquire(pool, Holder::execute_reply);
  ASSERT_TRUE(breached);
  EXPECT_EQ(breached->what, "burst+commit_reply");
  EXPECT_EQ(breached->held, 3u);
  EXPECT_EQ(census.transients_peak(), 3u);
  census.release(pool, Holder::execute_reply, reply);
  census.release(pool, Holder::pong, pong);
  census.release(pool, Holder::handled_message, handled);
}

TEST(Census, ATransferWithinATermNeverCountsTheMessageTwice) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* read = census.acquire(pool, Holder::journal_read_before_budget);
  census.transfer(Holder::journal_read_before_budget, Holder::journal_read, read);
  EXPECT_EQ(census.peak(Term::journal_reads), 1u);
  EXPECT_EQ(census.held(Holder::journal_read), 1u);
  EXPECT_EQ(census.held(Holder::journal_read_before_budget), 0u);
  census.release(pool, Holder::journal_read, read);
}

TEST(Census, ShrinkLowersOneBoundByOne) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), Term::journal_writes);
  EXPECT_EQ(census.bound(Term::journal_writes), config.journal_iops_write_max - 1);
  EXPECT_EQ(census.bound(Term::journal_reads), config.journal_iops_read_max);
  EXPECT_FALSE(census.bound(Term::request_inflight).has_value());
}

TEST(Census, ReleaseLaterEndsTheClaimButNotTheReference) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* read = census.acquire(pool, Holder::journal_read);
  census.release_later(Holder::journal_read, read);
  EXPECT_EQ(census.held(Term::journal_reads), 0u);
  EXPECT_EQ(census.held(Holder::io_awaiting_unref), 1u);
  EXPECT_EQ(pool.used_count(), 1u);
  EXPECT_NE(census.describe().find("io_awaiting_unref 1"), std::string::npos);
  census.unref_later(pool, read);
  EXPECT_EQ(pool.used_count(), 0u);
  EXPECT_EQ(census.describe().find("io_awaiting_unref"), std::string::npos);
}

TEST(Census, HoldersWithoutATermCountApartFromTheTerms) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* buffer = census.acquire(pool, Holder::testing_bus_buffer);
  EXPECT_EQ(census.held(Holder::testing_bus_buffer), 1u);
  EXPECT_EQ(census.held_total(), 1u);
  EXPECT_NE(census.describe().find("testing_bus_buffer 1"), std::string::npos);
  census.release(pool, Holder::testing_bus_buffer, buffer);
  EXPECT_EQ(census.peak(Holder::testing_bus_buffer), 1u);
}

TEST(Census, EveryHolderHasAUniqueName) {
  for (size_t i = 0; i < holder_count; i++) {
    const auto holder = static_cast<Holder>(i);
    EXPECT_EQ(holder_by_name(holder_name(holder)), holder);
  }
  EXPECT_FALSE(holder_by_name("nobody"));
  EXPECT_EQ(holder_term(Holder::reply_copy), Term::reply_copy);
  EXPECT_FALSE(holder_term(Holder::io_awaiting_unref));
}

TEST(CensusDeathTest, AHolderOfATermTheProcessLacksIsABug) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  EXPECT_DEATH(census.acquire(pool, Holder::request_inflight),
               "request_inflight holds for request_inflight, a limit with no bound");
}

TEST(CensusDeathTest, AClientHoldingExecutesReplyIsABugThoughTheTransientsAreShared) {
  const pool::Options client{pool::ClientOptions{}};
  pool::MessagePool pool(config, client, "client");
  Census census(pool, pool::messages_max_terms(config, client), std::nullopt);
  EXPECT_DEATH(census.acquire(pool, Holder::execute_reply),
               "execute_reply holds for commit_reply, a limit with no bound");
}

TEST(CensusDeathTest, DroppingAReferenceNotHeldIsABug) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool, pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* prepare = census.acquire(pool, Holder::pipeline);
  EXPECT_DEATH(census.release(pool, Holder::journal_write, prepare), "does not hold");
  census.release(pool, Holder::pipeline, prepare);
}

}  // namespace
}  // namespace sim
