// The sim target: the bytes choose a seed and the shape of a short simulation (bounded requests
// and ticks), which runs with every checker on. A failure prints the verdict and the command
// that replays it, then aborts, so that libFuzzer keeps the input.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sim/options.h"

namespace fuzz {

struct SimCase {
  uint64_t seed;
  uint8_t replica_count;  // 1 + value % 6.
  uint8_t standby_count;  // value % 3.
  uint8_t client_count;   // 1 + value % 4.
  uint8_t bus;            // Even: testing, odd: tcp.
  uint8_t requests;       // 1 + value % 24.
  uint8_t faults;         // 0: the swarm's faults; otherwise a level that scales them.
};

std::vector<uint8_t> sim_case_encode(const SimCase& sim_case);
// Never fails: missing bytes read as zeros.
SimCase sim_case_decode(std::span<const uint8_t> data);
// The options a case runs with (valid by construction).
sim::Options sim_case_options(const SimCase& sim_case);
void sim_case_run(std::span<const uint8_t> data);

}  // namespace fuzz
