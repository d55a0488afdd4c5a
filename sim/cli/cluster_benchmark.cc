// Simulation speed: whole seeded runs, reported as wall time per seed and simulated events per
// second (scripts/bench.sh prints the medians). The default shape the issue targets is three
// replicas on test_min; the swarm's own choices are measured too, and a whole default sweep's
// seeds once each (the yardstick of the sweep's overhead in scripts/bench.sh).
#include <benchmark/benchmark.h>

#include "sim/cluster.h"

namespace {

void run_seeds(benchmark::State& state, bool three_replicas) {
  uint64_t seed = 1;
  uint64_t events = 0;
  for (auto _ : state) {
    sim::Options options = sim::options_from_seed(seed, "test_min");
    if (three_replicas) options.replica_count = 3;
    options.formula = pool::Formula::corrected;  // Tcp seeds breach the original (finding 2).
    if (options.storage_faulty_count > (options.replica_count - 1) / 2) {
      options.storage_faulty_count = (options.replica_count - 1) / 2;
    }
    const sim::Summary summary = sim::Cluster(options).run();
    if (!summary.passed) state.SkipWithError("a seed failed: run scripts/sweep.sh");
    events += summary.events;
    seed = seed % 20 + 1;  // Seeds 1..20, over and over.
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events_per_seed"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kAvgIterations);
}

// The seeds of a default sweep (sim --seeds=1..N --formula=corrected), each once, one after
// another in this thread: what scripts/bench.sh sets that sweep's wall time against.
void BM_SimulateSweepSeeds(benchmark::State& state) {
  const auto seeds = static_cast<uint64_t>(state.range(0));
  uint64_t events = 0;
  for (auto _ : state) {
    for (uint64_t seed = 1; seed <= seeds; seed++) {
      sim::Options options = sim::options_from_seed(seed, "test_min");
      options.formula = pool::Formula::corrected;
      const sim::Summary summary = sim::Cluster(options).run();
      if (!summary.passed) state.SkipWithError("a seed failed: run scripts/sweep.sh");
      events += summary.events;
    }
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events_per_seed"] = benchmark::Counter(
      static_cast<double>(events) / static_cast<double>(seeds), benchmark::Counter::kAvgIterations);
}

void BM_SimulateSeedThreeReplicasTestMin(benchmark::State& state) { run_seeds(state, true); }
void BM_SimulateSeedSwarm(benchmark::State& state) { run_seeds(state, false); }

BENCHMARK(BM_SimulateSeedThreeReplicasTestMin)->Unit(benchmark::kMillisecond)->Iterations(40);
BENCHMARK(BM_SimulateSeedSwarm)->Unit(benchmark::kMillisecond)->Iterations(40);
BENCHMARK(BM_SimulateSweepSeeds)->Arg(2000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
