#include "sim/core/failure.h"

namespace sim {

const char* failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::term_bound:
      return "term_bound";
    case FailureKind::exhaustion:
      return "exhaustion";
    case FailureKind::leak:
      return "leak";
    case FailureKind::safety:
      return "safety";
    case FailureKind::reply:
      return "reply";
    case FailureKind::liveness:
      return "liveness";
  }
  return "unknown";
}

}  // namespace sim
