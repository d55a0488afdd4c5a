// libFuzzer entry point of the pool_lifecycle target (see pool_lifecycle.h).
#include <cstddef>
#include <cstdint>

#include "fuzz/pool_lifecycle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::pool_lifecycle_run({data, size});
  return 0;
}
