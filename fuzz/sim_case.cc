#include "fuzz/sim_case.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "fuzz/byte_reader.h"
#include "pool/assertion.h"
#include "sim/cluster.h"

namespace fuzz {

namespace {

SimCase decode(ByteReader& reader) {
  SimCase sim_case{};
  sim_case.seed = reader.u64();
  sim_case.replica_count = reader.u8();
  sim_case.standby_count = reader.u8();
  sim_case.client_count = reader.u8();
  sim_case.bus = reader.u8();
  sim_case.requests = reader.u8();
  sim_case.faults = reader.u8();
  return sim_case;
}

}  // namespace

std::vector<uint8_t> sim_case_encode(const SimCase& sim_case) {
  ByteWriter writer;
  writer.u64(sim_case.seed);
  writer.u8(sim_case.replica_count);
  writer.u8(sim_case.standby_count);
  writer.u8(sim_case.client_count);
  writer.u8(sim_case.bus);
  writer.u8(sim_case.requests);
  writer.u8(sim_case.faults);
  return writer.data();
}

SimCase sim_case_decode(std::span<const uint8_t> data) {
  ByteReader reader(data);
  return decode(reader);
}

sim::Options sim_case_options(const SimCase& sim_case) {
  sim::Options options = sim::options_from_seed(sim_case.seed, "test_min");
  options.replica_count = 1 + sim_case.replica_count % 6;
  options.standby_count = sim_case.standby_count % 3;
  options.client_count = 1 + sim_case.client_count % 4;
  options.bus = sim_case.bus % 2 == 0 ? pool::MessageBusKind::testing : pool::MessageBusKind::tcp;
  // The recorded findings' terms paid (README, "Findings"): the fuzzer looks for new ones.
  options.formula = pool::Formula::corrected;
  options.requests_max = 1 + sim_case.requests % 24;
  // The network's pool is paths × path capacity messages, mapped and (under ASan) poisoned for
  // every input: a small capacity keeps an execution cheap.
  options.network.path_capacity = std::min<uint64_t>(options.network.path_capacity, 4);
  options.storage_faulty_count =
      std::min(options.storage_faulty_count, (options.replica_count - 1) / 2);
  // Short runs: a bounded requests phase, then the convergence phase.
  options.ticks_max_requests = std::min<uint64_t>(options.ticks_max_requests, 2'000);
  options.ticks_max_convergence = 5'000;
  if (sim_case.faults != 0) {
    // A level from 1 to 255 scales the fault rates up to heavy.
    const uint64_t level = sim_case.faults;
    options.network.packet_loss_ppm = level * 1'000;
    options.network.packet_replay_ppm = level * 500;
    options.network.packet_corrupt_ppm = level * 200;
    options.network.path_clog_ppm = level * 20;
    options.crash_ppm = level * 4;
    options.storage.read_fault_ppm = options.storage.write_fault_ppm = level * 200;
  }
  return options;
}

void sim_case_run(std::span<const uint8_t> data) {
  const sim::Options options = sim_case_options(sim_case_decode(data));
  const absl::Status valid = sim::options_validate(options);
  POOL_ASSERT(valid.ok(), "the decoder made invalid options: %s", valid.ToString().c_str());
  // An assertion inside the simulation prints the command that replays it, as `sim` does.
  static std::string replay;
  replay = "replay: " + sim::options_replay_command(options);
  pool::set_failure_context_hook([](void*) { std::fprintf(stderr, "%s\n", replay.c_str()); },
                                 nullptr);
  sim::Cluster cluster(options);
  auto report = [&](const sim::Summary& summary) {
    std::fprintf(stderr, "sim fuzz: FAIL %s: %s: %s\nreplay: %s\n",
                 sim::failure_kind_name(summary.failure->kind), summary.failure->process.c_str(),
                 summary.failure->detail.c_str(), sim::options_replay_command(options).c_str());
  };
  cluster.set_fatal_handler(report);  // Exhaustion: the pool aborts after the report.
  const sim::Summary summary = cluster.run();
  if (!summary.passed) {
    report(summary);
    std::abort();
  }
}

}  // namespace fuzz
