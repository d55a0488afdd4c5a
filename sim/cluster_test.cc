// Whole simulations in process: determinism, and the checkers on known situations.
#include "sim/cluster.h"

#include <gtest/gtest.h>

namespace sim {
namespace {

Summary run_keeping_chain(const Options& options, std::vector<pool::U128>& chain,
                          std::vector<TraceRecord>* records = nullptr) {
  Cluster cluster(options);
  cluster.trace().keep_chain(true);
  Summary summary = cluster.run();
  chain = cluster.trace().chain();
  if (records != nullptr) *records = cluster.trace().records();
  return summary;
}

// "event 812: tick 301 r1 deliver ... / tick 301 r2 ...": where two runs part.
std::string divergence_report(size_t index, const std::vector<TraceRecord>& a,
                              const std::vector<TraceRecord>& b, uint32_t members) {
  auto describe = [&](const std::vector<TraceRecord>& records) {
    return index < records.size() ? trace_record_describe(records[index], members)
                                  : std::string("(run ended)");
  };
  return "event " + std::to_string(index) + ": first run " + describe(a) + "; second run " +
         describe(b);
}

TEST(Cluster, TheSameSeedGivesTheSameTraceInOneProcess) {
  for (uint64_t seed : {1u, 2u, 3u, 40u}) {
    Options options = options_from_seed(seed, "test_min");
    options.formula = pool::Formula::corrected;  // Tcp seeds reach finding 2 under the original.
    std::vector<pool::U128> first, second;
    std::vector<TraceRecord> first_records, second_records;
    const Summary a = run_keeping_chain(options, first, &first_records);
    const Summary b = run_keeping_chain(options, second, &second_records);
    const std::optional<size_t> diverged = first_divergence(first, second);
    EXPECT_FALSE(diverged.has_value())
        << "seed " << seed << " diverged at "
        << divergence_report(*diverged, first_records, second_records,
                             static_cast<uint32_t>(options.member_count()));
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_TRUE(a.passed) << a.failure->detail;
    EXPECT_GT(a.events, 100u);
  }
}

TEST(Cluster, DifferentSeedsGiveDifferentTracesAndTheReportNamesWhere) {
  std::vector<pool::U128> first, second;
  std::vector<TraceRecord> first_records, second_records;
  Options options = options_from_seed(5, "test_min");
  run_keeping_chain(options, first, &first_records);
  options.seed = 6;  // The same shape, another schedule.
  run_keeping_chain(options, second, &second_records);
  const std::optional<size_t> diverged = first_divergence(first, second);
  ASSERT_TRUE(diverged.has_value());
  const std::string report = divergence_report(*diverged, first_records, second_records,
                                               static_cast<uint32_t>(options.member_count()));
  EXPECT_NE(report.find("first run tick "), std::string::npos) << report;
  EXPECT_NE(report.find("second run tick "), std::string::npos) << report;
}

TEST(Cluster, FirstDivergenceNamesTheEarliestDifferentEvent) {
  const std::vector<pool::U128> a = {{1, 0}, {2, 0}, {3, 0}};
  const std::vector<pool::U128> b = {{1, 0}, {2, 0}, {4, 0}};
  EXPECT_EQ(first_divergence(a, b), 2u);
  EXPECT_EQ(first_divergence(a, {{1, 0}}), 1u);
  EXPECT_FALSE(first_divergence(a, a).has_value());
}

// A calm three-replica cluster: every request answered, every replica caught up.
Options calm(pool::MessageBusKind bus) {
  Options options = options_from_seed(11, "test_min");
  options.replica_count = 3;
  options.standby_count = 1;
  options.client_count = 4;
  options.bus = bus;
  options.requests_max = 60;
  options.network.packet_loss_ppm = options.network.packet_replay_ppm =
      options.network.packet_corrupt_ppm = 0;
  options.network.partition_ppm = options.network.path_clog_ppm = options.crash_ppm = 0;
  options.storage.read_fault_ppm = options.storage.write_fault_ppm = 0;
  return options;
}

TEST(Cluster, ACalmClusterAnswersEveryRequestOnBothBuses) {
  for (pool::MessageBusKind bus : {pool::MessageBusKind::testing, pool::MessageBusKind::tcp}) {
    const Summary summary = Cluster(calm(bus)).run();
    ASSERT_TRUE(summary.passed) << summary.failure->detail;
    EXPECT_EQ(summary.requests_answered, 60u);
    EXPECT_EQ(summary.requests_committed, 60u);
    // Registrations commit too: one op per client more than the requests.
    EXPECT_EQ(summary.ops_committed, 64u);
  }
}

TEST(Cluster, HoldersReachTheirTermsInNormalOperation) {
  const Summary summary = Cluster(calm(pool::MessageBusKind::tcp)).run();
  ASSERT_TRUE(summary.passed);
  const PoolSummary& primary = summary.pools[0];
  auto peak = [&](const PoolSummary& pool_summary, pool::Term term) {
    for (const TermPeak& entry : pool_summary.terms) {
      if (entry.term == term) return entry.peak;
    }
    return 0u;
  };
  EXPECT_GT(peak(primary, pool::Term::pipeline), 0u);
  EXPECT_EQ(peak(primary, pool::Term::loopback_queue), 1u);
  EXPECT_EQ(peak(primary, pool::Term::commit_prepare), 1u);
  EXPECT_EQ(peak(primary, pool::Term::commit_reply), 1u);
  EXPECT_GT(peak(primary, pool::Term::journal_writes), 0u);
  EXPECT_GT(peak(primary, pool::Term::client_replies_writes), 0u);
  EXPECT_GT(peak(primary, pool::Term::connection_recv_buffers), 0u);
  const PoolSummary& backup = summary.pools[1];
  EXPECT_GT(peak(backup, pool::Term::pipeline), 0u);  // The cache of prepares.
  EXPECT_EQ(peak(backup, pool::Term::loopback_queue), 0u);
  const PoolSummary& client = summary.pools[4];
  EXPECT_EQ(client.owner, "client 0");
  EXPECT_EQ(peak(client, pool::Term::request_inflight), 1u);
}

TEST(Cluster, CrashedBackupsRecoverTheirWalAndCatchUp) {
  Options options = calm(pool::MessageBusKind::testing);
  options.crash_ppm = 2'000;
  options.restart_delay_ticks_max = 200;
  options.requests_max = 120;
  const Summary summary = Cluster(options).run();
  ASSERT_TRUE(summary.passed) << summary.failure->detail;
  EXPECT_GT(summary.crashes, 0u);
  // Recovery reads the WAL with every read slot busy.
  uint32_t reads_peak = 0;
  for (const PoolSummary& pool_summary : summary.pools) {
    for (const TermPeak& entry : pool_summary.terms) {
      if (entry.term == pool::Term::journal_reads) reads_peak = std::max(reads_peak, entry.peak);
    }
  }
  EXPECT_EQ(reads_peak, pool::config_test_min().journal_iops_read_max);
}

TEST(Cluster, APrimaryThatCrashesIsReplacedByAViewChange) {
  Options options = calm(pool::MessageBusKind::testing);
  options.requests_max = 150;
  options.crash_ppm = 1'500;  // The primary too.
  options.restart_delay_ticks_max = 300;
  const Summary summary = Cluster(options).run();
  ASSERT_TRUE(summary.passed) << summary.failure->detail;
  EXPECT_GT(summary.view_changes, 0u);
  EXPECT_GT(summary.views_started, 0u);
  // The new primary kept a join_view per replica of its quorum.
  uint32_t quorum_peak = 0;
  for (const PoolSummary& pool_summary : summary.pools) {
    for (const TermPeak& entry : pool_summary.terms) {
      if (entry.term == pool::Term::join_view_quorum) {
        quorum_peak = std::max(quorum_peak, entry.peak);
      }
    }
  }
  EXPECT_GE(quorum_peak, 2u);
}

TEST(Cluster, AReplicaFarBehindSyncsFromACheckpointAndRepairsTheGrid) {
  Options options = calm(pool::MessageBusKind::testing);
  options.requests_max = 300;
  options.replica.checkpoint_interval_ops = 8;  // The WAL wraps every 16 ops.
  options.replica.checkpoint_block_count = 6;
  options.crash_ppm = 800;
  options.restart_delay_ticks_max = 1'000;  // Long enough to fall a checkpoint behind.
  const Summary summary = Cluster(options).run();
  ASSERT_TRUE(summary.passed) << summary.failure->detail;
  EXPECT_GT(summary.checkpoints, 0u);
  EXPECT_GT(summary.syncs, 0u);
  EXPECT_GE(summary.blocks_repaired, summary.syncs * options.replica.checkpoint_block_count);
}

TEST(Cluster, CrashesInTheMiddleOfViewChangesAreSurvived) {
  Options options = calm(pool::MessageBusKind::tcp);
  options.requests_max = 150;
  options.crash_ppm = 1'000;
  options.crash_view_change_ppm = 10'000;  // Most view changes lose a replica on the way.
  options.restart_delay_ticks_max = 300;
  const Summary summary = Cluster(options).run();
  ASSERT_TRUE(summary.passed) << summary.failure->detail;
  EXPECT_GT(summary.view_changes, summary.views_started);
}

TEST(Cluster, AShrunkTermIsReportedAsABreachOfThatTerm) {
  Options options = calm(pool::MessageBusKind::testing);
  options.shrink_term = pool::Term::commit_prepare;
  const Summary summary = Cluster(options).run();
  ASSERT_FALSE(summary.passed);
  EXPECT_EQ(summary.failure->kind, FailureKind::term_bound);
  EXPECT_EQ(summary.failure->term, pool::Term::commit_prepare);
}

TEST(Cluster, AFaultyNetworkIsToleratedAndHealsForLiveness) {
  Options options = calm(pool::MessageBusKind::tcp);
  options.network.packet_loss_ppm = 100'000;
  options.network.packet_corrupt_ppm = 20'000;
  options.network.packet_replay_ppm = 50'000;
  options.network.partition_mode = PartitionMode::isolate_single;
  options.network.partition_ppm = 2'000;
  options.network.path_clog_ppm = 2'000;
  const Summary summary = Cluster(options).run();
  ASSERT_TRUE(summary.passed) << summary.failure->detail;
  EXPECT_EQ(summary.requests_answered, options.requests_max);
}

}  // namespace
}  // namespace sim

namespace sim {
namespace {

// The stress swarm (slow disks, crashes also during view changes, lossy, clogged and
// partitioned paths, full pipelines, short checkpoint intervals) drives these terms to their
// bounds (checked below, so that the teeth test cannot pass vacuously): seed 7 on the tcp bus
// every term but the transients; seed 80 (testing bus) fills the transients' shared allowance
// with three distinct messages (finding 1's rebuilt reply, its copy and the handled request),
// which few seeds do.
constexpr uint64_t stress_seed_tcp = 7;
constexpr uint64_t stress_seed_transients = 80;

Options stress(uint64_t seed) {
  Options options = options_from_seed(seed, "test_min", Swarm::stress);
  options.formula = pool::Formula::corrected;  // As CI's sweeps: the findings' terms paid.
  return options;
}

struct TermReached {
  pool::Term term;
  uint64_t seed;
};

constexpr TermReached terms_reached[] = {
    {pool::Term::journal_reads, stress_seed_tcp},
    {pool::Term::journal_writes, stress_seed_tcp},
    {pool::Term::client_replies_reads, stress_seed_tcp},
    {pool::Term::client_replies_writes, stress_seed_tcp},
    {pool::Term::grid_repair_reads, stress_seed_tcp},
    {pool::Term::loopback_queue, stress_seed_tcp},
    {pool::Term::pipeline, stress_seed_tcp},
    {pool::Term::commit_prepare, stress_seed_tcp},
    {pool::Term::sync_view, stress_seed_tcp},
    {pool::Term::join_view_quorum, stress_seed_tcp},
    {pool::Term::connection_recv_buffers, stress_seed_tcp},
    {pool::Term::request_inflight, stress_seed_tcp},
    {pool::Term::burst, stress_seed_transients},
    {pool::Term::commit_reply, stress_seed_transients},
};

bool term_reached(const Summary& summary, pool::Term term) {
  for (const PoolSummary& pool_summary : summary.pools) {
    for (const TermPeak& entry : pool_summary.terms) {
      if (entry.term != term || entry.bound == 0) continue;
      // A transient reaches its bound when the shared allowance is full with it among them.
      const bool reached = Census::transient(term)
                               ? entry.peak >= entry.bound &&
                                     pool_summary.transients_peak == pool_summary.transients_bound
                               : entry.peak == entry.bound;
      if (reached) return true;
    }
  }
  return false;
}

TEST(ClusterTeeth, TheStressRunDrivesTheseTermsToTheirBounds) {
  const Summary tcp = Cluster(stress(stress_seed_tcp)).run();
  ASSERT_TRUE(tcp.passed) << tcp.failure->detail;
  EXPECT_EQ(stress(stress_seed_tcp).bus, pool::MessageBusKind::tcp);
  EXPECT_GT(tcp.view_changes, 0u);
  EXPECT_GT(tcp.syncs, 0u);
  const Summary transients = Cluster(stress(stress_seed_transients)).run();
  ASSERT_TRUE(transients.passed) << transients.failure->detail;
  for (const TermReached& entry : terms_reached) {
    const Summary& summary = entry.seed == stress_seed_tcp ? tcp : transients;
    EXPECT_TRUE(term_reached(summary, entry.term)) << pool::term_name(entry.term);
  }
}

TEST(ClusterTeeth, ShrinkingAReachedTermFailsNamingIt) {
  for (const TermReached& entry : terms_reached) {
    Options options = stress(entry.seed);
    options.shrink_term = entry.term;
    const Summary summary = Cluster(options).run();
    const std::string name(pool::term_name(entry.term));
    ASSERT_FALSE(summary.passed) << name;
    EXPECT_EQ(summary.failure->kind, FailureKind::term_bound) << name;
    // A shrunk transient breaches the shared allowance, on whichever transient's hold.
    if (Census::transient(entry.term)) {
      EXPECT_TRUE(Census::transient(*summary.failure->term)) << summary.failure->detail;
    } else {
      EXPECT_EQ(summary.failure->term, entry.term) << summary.failure->detail;
    }
  }
}

}  // namespace
}  // namespace sim

namespace sim {
namespace {

TEST(ClusterCheckers, ALivenessFailureNamesTheWaiters) {
  Options options = options_from_seed(11, "test_min");
  options.replica_count = 3;
  options.client_count = 2;
  options.crash_ppm = 0;
  options.ticks_max_requests = 1;     // Faults stop at once...
  options.ticks_max_convergence = 1;  // ...and one tick without progress is too many.
  const Summary summary = Cluster(options).run();
  ASSERT_FALSE(summary.passed);
  EXPECT_EQ(summary.failure->kind, FailureKind::liveness);
  EXPECT_NE(summary.failure->detail.find("c0 request 0 in flight since tick"), std::string::npos)
      << summary.failure->detail;
  EXPECT_NE(summary.failure->detail.find("r0 normal primary view=0 log_view=0"), std::string::npos)
      << summary.failure->detail;
}

}  // namespace
}  // namespace sim
