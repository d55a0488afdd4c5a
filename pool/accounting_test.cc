#include "pool/accounting.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// An adopter's own holders, the first keeping messages longest (primary for distinct counts).
namespace adopter {
enum class Holder : uint8_t { pipeline, journal_write, journal_read, handled, reply };
}  // namespace adopter

template <>
struct pool::TagTraits<adopter::Holder> {
  static constexpr size_t count = 5;
  static std::string_view name(adopter::Holder holder) {
    constexpr std::array<std::string_view, count> names = {"pipeline", "journal_write",
                                                           "journal_read", "handled", "reply"};
    return names[static_cast<size_t>(holder)];
  }
};

namespace pool {
namespace {

using adopter::Holder;

std::optional<Term> term_of(Holder holder) {
  switch (holder) {
    case Holder::pipeline:
      return Term::pipeline;
    case Holder::journal_write:
      return Term::journal_writes;
    case Holder::journal_read:
      return Term::journal_reads;
    case Holder::handled:
      return Term::burst;
    case Holder::reply:
      return Term::commit_reply;
  }
  return std::nullopt;
}

const Options replica_testing{ReplicaOptions{3, 0, MessageBusKind::testing}};

// A replica's pool and its formula's limits, with the holders charged to terms.
struct ReplicaAccounting {
  MessagePool pool{config_test_min(), replica_testing, "replica 0"};
  Limits<Term> limits = limits_from_terms(messages_max_terms(config_test_min(), replica_testing));
  std::vector<Breach<Term>> breaches;
  Accounting<Holder, Term, true> accounting{pool, limits, &term_of};
  ReplicaAccounting() {
    accounting.set_breach_handler(
        [this](const Breach<Term>& breach) { breaches.push_back(breach); });
  }
};

TEST(Accounting, CountsReferencesAndPeaksPerTagAndPerLimit) {
  ReplicaAccounting replica;
  Accounting<Holder, Term, true>& accounting = replica.accounting;
  Message* prepare = accounting.acquire(Holder::pipeline);
  accounting.hold(Holder::journal_write, prepare);
  Message* read = accounting.acquire(Holder::journal_read);
  EXPECT_EQ(replica.pool.used_count(), 2u);
  EXPECT_EQ(accounting.held(Holder::pipeline), 1u);
  EXPECT_EQ(accounting.limit_held(Term::journal_writes), 1u);
  EXPECT_EQ(accounting.held_total(), 3u);
  accounting.release(Holder::journal_write, prepare);
  accounting.release(Holder::journal_read, read);
  EXPECT_EQ(accounting.held(Holder::journal_write), 0u);
  EXPECT_EQ(accounting.peak(Holder::journal_write), 1u);
  EXPECT_EQ(accounting.limit_peak(Term::journal_reads), 1u);
  EXPECT_EQ(replica.pool.used_count(), 1u);
  accounting.release(Holder::pipeline, prepare);
  EXPECT_EQ(replica.pool.used_count(), 0u);
  EXPECT_TRUE(replica.breaches.empty());
}

TEST(Accounting, ABreachIsReportedAtTheFirstHoldPastTheBound) {
  ReplicaAccounting replica;
  const uint32_t bound = *replica.limits.bound(Term::journal_writes);
  ASSERT_GT(bound, 0u);
  std::vector<Message*> writes;
  for (uint32_t i = 0; i < bound; i++)
    writes.push_back(replica.accounting.acquire(Holder::journal_write));
  EXPECT_TRUE(replica.breaches.empty()) << "at the bound is within it";
  writes.push_back(replica.accounting.acquire(Holder::journal_write));
  ASSERT_EQ(replica.breaches.size(), 1u);
  EXPECT_EQ(replica.breaches[0].limit, Term::journal_writes);
  EXPECT_EQ(replica.breaches[0].what, "journal_writes");
  EXPECT_EQ(replica.breaches[0].held, bound + 1);
  EXPECT_EQ(replica.breaches[0].bound, bound);
  for (Message* write : writes) replica.accounting.release(Holder::journal_write, write);
}

TEST(Accounting, AMessageCountsOnceForItsPrimaryTag) {
  ReplicaAccounting replica;
  Accounting<Holder, Term, true>& accounting = replica.accounting;
  Message* prepare = accounting.acquire(Holder::journal_write);
  EXPECT_EQ(accounting.distinct(Holder::journal_write), 1u);
  accounting.hold(Holder::pipeline, prepare);  // pipeline comes first: it becomes primary.
  EXPECT_EQ(accounting.distinct(Holder::pipeline), 1u);
  EXPECT_EQ(accounting.distinct(Holder::journal_write), 0u);
  EXPECT_EQ(accounting.limit_distinct(Term::pipeline), 1u);
  EXPECT_EQ(accounting.distinct_peak(Holder::journal_write), 1u);
  accounting.release(Holder::pipeline, prepare);
  EXPECT_EQ(accounting.distinct(Holder::journal_write), 1u);
  accounting.release(Holder::journal_write, prepare);
  EXPECT_EQ(accounting.limit_distinct_peak(Term::pipeline), 1u);
}

TEST(Accounting, ASharedAllowanceIsCheckedInDistinctMessagesUnderItsFirstMember) {
  MessagePool pool(config_test_min(), 16, "replica 0");
  Limits<Term> limits;
  limits.set(Term::pipeline, 4);
  limits.set(Term::burst, 2);
  limits.set(Term::commit_reply, 1);
  limits.share({Term::burst, Term::commit_reply, Term::reply_copy});  // reply_copy: no bound.
  std::vector<Breach<Term>> breaches;
  Accounting<Holder, Term, true> accounting(pool, limits, &term_of);
  accounting.set_breach_handler([&](const Breach<Term>& breach) { breaches.push_back(breach); });
  EXPECT_EQ(accounting.shared_name(), "burst+commit_reply");
  EXPECT_EQ(accounting.shared_bound(), 3u);
  // Three handled messages: beyond burst's own 2, within the allowance of 3.
  std::vector<Message*> handled;
  for (int i = 0; i < 3; i++) handled.push_back(accounting.acquire(Holder::handled));
  EXPECT_TRUE(breaches.empty());
  // A handled message the pipeline keeps costs the allowance nothing.
  Message* prepare = accounting.acquire(Holder::pipeline);
  accounting.hold(Holder::handled, prepare);
  EXPECT_TRUE(breaches.empty());
  Message* reply = accounting.acquire(Holder::reply);
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0].limit, Term::burst);
  EXPECT_EQ(breaches[0].what, "burst+commit_reply");
  EXPECT_EQ(breaches[0].held, 4u);
  EXPECT_EQ(accounting.shared_peak(), 4u);
  accounting.release(Holder::reply, reply);
  accounting.release(Holder::handled, prepare);
  accounting.release(Holder::pipeline, prepare);
  for (Message* message : handled) accounting.release(Holder::handled, message);
}

TEST(Accounting, TransferMovesAReferenceWithoutCountingItTwice) {
  ReplicaAccounting replica;
  const uint32_t bound = *replica.limits.bound(Term::journal_writes);
  std::vector<Message*> writes;
  for (uint32_t i = 0; i < bound; i++)
    writes.push_back(replica.accounting.acquire(Holder::journal_write));
  replica.accounting.transfer(Holder::journal_write, Holder::journal_write, writes[0]);
  EXPECT_TRUE(replica.breaches.empty());
  replica.accounting.transfer(Holder::journal_write, Holder::pipeline, writes[0]);
  EXPECT_EQ(replica.accounting.held(Holder::pipeline), 1u);
  EXPECT_EQ(replica.accounting.limit_held(Term::journal_writes), bound - 1);
  EXPECT_EQ(writes[0]->references, 1u);
  replica.accounting.release(Holder::pipeline, writes[0]);
  for (size_t i = 1; i < writes.size(); i++)
    replica.accounting.release(Holder::journal_write, writes[i]);
}

TEST(Accounting, ThePoolsPeakNamesWhatHeldItAndTheContext) {
  ReplicaAccounting replica;
  replica.accounting.set_context([] { return std::string("view_change"); });
  Message* prepare = replica.accounting.acquire(Holder::pipeline);
  Message* read = replica.accounting.acquire(Holder::journal_read);
  replica.accounting.release(Holder::journal_read, read);
  EXPECT_EQ(replica.accounting.pool_peak(), 2u);
  EXPECT_EQ(replica.accounting.at_peak(), "pipeline 1, journal_read 1 [view_change]");
  replica.accounting.release(Holder::pipeline, prepare);
}

TEST(Accounting, DescribeNamesEveryBoundedLimitThenEveryTagAlive) {
  MessagePool pool(config_test_min(), 4, "client 0");
  Limits<Term> limits;
  limits.set(Term::request_inflight, 1);
  limits.set(Term::burst, 2);
  Accounting<Term> accounting(pool, limits);  // Tags are the terms themselves.
  Message* request = accounting.acquire(Term::request_inflight);
  accounting.hold(Term::burst, request);
  EXPECT_EQ(accounting.describe(), "burst 1/2, request_inflight 1/1 | burst 1, request_inflight 1");
  accounting.release(Term::burst, request);
  accounting.release(Term::request_inflight, request);
}

TEST(Accounting, AnAdoptersTagsCanBeTheirOwnLimitsWithTheirOwnBounds) {
  MessagePool pool(config_test_min(), 8, "replica 0");
  Limits<Holder> limits;
  limits.set(Holder::pipeline, 2);
  limits.set(Holder::reply, 1);
  std::vector<Breach<Holder>> breaches;
  Accounting<Holder> accounting(pool, limits);
  accounting.set_breach_handler([&](const Breach<Holder>& breach) { breaches.push_back(breach); });
  Message* first = accounting.acquire(Holder::pipeline);
  Message* second = accounting.acquire(Holder::pipeline);
  Message* reply = accounting.acquire(Holder::reply);
  EXPECT_TRUE(breaches.empty());
  accounting.hold(Holder::reply, first);
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0].limit, Holder::reply);
  EXPECT_EQ(breaches[0].what, "reply");
  EXPECT_EQ(accounting.limit_held(Holder::reply), 2u);
  EXPECT_EQ(accounting.describe(), "pipeline 2/2, reply 2/1 | pipeline 2, reply 2");
  accounting.release(Holder::reply, first);
  accounting.release(Holder::reply, reply);
  accounting.release(Holder::pipeline, second);
  accounting.release(Holder::pipeline, first);
}

TEST(Accounting, TheChangeObserverSeesEveryOperation) {
  ReplicaAccounting replica;
  int changes = 0;
  replica.accounting.set_change_observer([&changes] { changes += 1; });
  Message* message = replica.accounting.acquire(Holder::pipeline);
  replica.accounting.hold(Holder::journal_write, message);
  replica.accounting.transfer(Holder::journal_write, Holder::journal_read, message);
  replica.accounting.release(Holder::journal_read, message);
  replica.accounting.release(Holder::pipeline, message);
  EXPECT_EQ(changes, 5);
}

TEST(Accounting, ItsCensusHookLivesAsLongAsItDoes) {
  MessagePool pool(config_test_min(), 2, "replica 0");
  {
    Accounting<Term> accounting(pool, Limits<Term>{});
    EXPECT_EQ(pool.census(), " | ");
  }
  EXPECT_EQ(pool.census(), "(no census hook installed)");
}

TEST(Accounting, CompiledOutItIsThePoolsOwnOperations) {
  MessagePool pool(config_test_min(), 2, "replica 0");
  Accounting<Holder, Term, false> accounting(pool, Limits<Term>{}, &term_of);
  Message* message = accounting.acquire(Holder::pipeline);
  accounting.hold(Holder::journal_write, message);
  EXPECT_EQ(message->references, 2u);
  EXPECT_EQ(accounting.held(Holder::pipeline), 0u);
  accounting.release(Holder::journal_write, message);
  accounting.release(Holder::pipeline, message);
  EXPECT_EQ(pool.used_count(), 0u);
}

TEST(AccountingDeathTest, TheDefaultBreachHandlerAbortsWithTheBreach) {
  EXPECT_DEATH(
      {
        MessagePool pool(config_test_min(), 4, "replica 2");
        Limits<Term> limits;
        limits.set(Term::journal_writes, 1);
        Accounting<Term> accounting(pool, limits);
        accounting.acquire(Term::journal_writes);
        accounting.acquire(Term::journal_writes);
      },
      "pool 'replica 2': journal_writes held 2 > bound 1 \\(journal_writes 2/1 \\| "
      "journal_writes 2\\)");
}

TEST(AccountingDeathTest, AnExhaustedPoolsReportNamesTheHoldersAndTheAcquire) {
  EXPECT_DEATH(
      {
        MessagePool pool(config_test_min(), 2, "replica 1");
        Limits<Term> limits;
        limits.set(Term::pipeline, 4);
        limits.set(Term::journal_reads, 4);
        Accounting<Term> accounting(pool, limits);
        accounting.acquire(Term::pipeline);
        accounting.acquire(Term::pipeline);
        accounting.acquire(Term::journal_reads);
      },
      "pool 'replica 1' exhausted: all 2 messages in use\nacquiring journal_reads; "
      "journal_reads 0/4, pipeline 2/4 \\| pipeline 2");
}

TEST(AccountingDeathTest, AHoldForALimitWithNoBoundIsABug) {
  EXPECT_DEATH(
      {
        MessagePool pool(config_test_min(), 2, "client 0");
        Accounting<Term> accounting(pool, Limits<Term>{});
        accounting.acquire(Term::pipeline);
      },
      "pipeline holds for pipeline, a limit with no bound");
}

TEST(AccountingDeathTest, ReleasingAReferenceNotHeldIsABug) {
  EXPECT_DEATH(
      {
        ReplicaAccounting replica;
        Message* message = replica.accounting.acquire(Holder::pipeline);
        replica.accounting.release(Holder::journal_write, message);
      },
      "journal_write drops a reference it does not hold");
}

TEST(AccountingDeathTest, AMessageTakenAroundTheAccountingIsCaught) {
  EXPECT_DEATH(
      {
        ReplicaAccounting replica;
        replica.pool.get_message();
        replica.accounting.describe();
      },
      "1 messages in use, 0 accounted for");
}

}  // namespace
}  // namespace pool
