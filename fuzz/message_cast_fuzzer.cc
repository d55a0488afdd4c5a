// libFuzzer entry point of the message_cast target (see message_cast.h).
#include <cstddef>
#include <cstdint>

#include "fuzz/message_cast.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::message_cast_run({data, size});
  return 0;
}
