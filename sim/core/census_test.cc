#include "sim/core/census.h"

#include <gtest/gtest.h>

#include "pool/config.h"

namespace sim {
namespace {

using pool::Term;

const pool::Config config = pool::config_test_min();
const pool::Options replica{pool::ReplicaOptions{3, 0, pool::MessageBusKind::testing}};

TEST(Census, CountsReferencesPerTermAndRemembersPeaks) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* prepare = census.acquire(pool, Term::pipeline);
  census.hold(Term::journal_writes, prepare);
  EXPECT_EQ(census.held(Term::pipeline), 1u);
  EXPECT_EQ(census.held(Term::journal_writes), 1u);
  EXPECT_EQ(prepare->references, 2u);
  census.release(pool, Term::journal_writes, prepare);
  census.release(pool, Term::pipeline, prepare);
  EXPECT_EQ(census.held_total(), 0u);
  EXPECT_EQ(census.peak(Term::pipeline), 1u);
  EXPECT_EQ(pool.used_count(), 0u);
}

TEST(Census, ReportsABreachOfATermsBound) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool::messages_max_terms(config, replica), std::nullopt);
  std::optional<Term> breached;
  census.set_breach_handler([&](Term term, uint32_t held, uint32_t bound) {
    breached = term;
    EXPECT_EQ(held, 2u);
    EXPECT_EQ(bound, 1u);
  });
  pool::Message* first = census.acquire(pool, Term::commit_prepare);
  EXPECT_FALSE(breached);
  census.hold(Term::commit_prepare, first);
  EXPECT_EQ(breached, Term::commit_prepare);
  census.release(pool, Term::commit_prepare, first);
  census.release(pool, Term::commit_prepare, first);
}

TEST(Census, ShrinkLowersOneBoundByOne) {
  Census census(pool::messages_max_terms(config, replica), Term::journal_writes);
  EXPECT_EQ(census.bound(Term::journal_writes), config.journal_iops_write_max - 1);
  EXPECT_EQ(census.bound(Term::journal_reads), config.journal_iops_read_max);
  EXPECT_FALSE(census.bound(Term::request_inflight).has_value());
}

TEST(Census, ReleaseLaterEndsTheClaimButNotTheReference) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* read = census.acquire(pool, Term::journal_reads);
  census.release_later(Term::journal_reads);
  EXPECT_EQ(census.held(Term::journal_reads), 0u);
  EXPECT_EQ(pool.used_count(), 1u);
  EXPECT_NE(census.describe().find("awaiting unref (no term) 1"), std::string::npos);
  census.unref_later(pool, read);
  EXPECT_EQ(pool.used_count(), 0u);
  EXPECT_EQ(census.describe().find("awaiting unref"), std::string::npos);
}

TEST(Census, UnpaidHoldersCountApartFromTheTerms) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool::messages_max_terms(config, replica), std::nullopt);
  pool::Message* buffer = census.acquire_unpaid(pool);
  EXPECT_EQ(census.unpaid_held(), 1u);
  EXPECT_NE(census.describe().find("testing_bus_buffer"), std::string::npos);
  census.release_unpaid(pool, buffer);
  EXPECT_EQ(census.unpaid_peak(), 1u);
}

TEST(CensusDeathTest, AHolderOfATermTheProcessLacksIsABug) {
  pool::MessagePool pool(config, replica, "replica");
  Census census(pool::messages_max_terms(config, replica), std::nullopt);
  EXPECT_DEATH(census.acquire(pool, Term::request_inflight), "without it");
}

}  // namespace
}  // namespace sim
