// libFuzzer entry point of the sim target (see sim_case.h).
#include <cstddef>
#include <cstdint>

#include "fuzz/sim_case.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::sim_case_run({data, size});
  return 0;
}
