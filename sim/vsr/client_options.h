// A client's own options (the harness composes them into sim::Options).
#pragma once

#include <cstdint>

namespace sim {

struct ClientOptions {
  uint64_t request_body_size_max = 0;  // Each request carries 0..this many body bytes.
};

}  // namespace sim
