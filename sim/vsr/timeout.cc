#include "sim/vsr/timeout.h"

#include "pool/assertion.h"

namespace sim {

const char* timeout_kind_name(TimeoutKind kind) {
  POOL_ASSERT_LE(static_cast<uint8_t>(kind), static_cast<uint8_t>(TimeoutKind::client_ping));
  switch (kind) {
    case TimeoutKind::ping:
      return "ping";
    case TimeoutKind::prepare:
      return "prepare";
    case TimeoutKind::normal_heartbeat:
      return "normal_heartbeat";
    case TimeoutKind::view_change_status:
      return "view_change_status";
    case TimeoutKind::commit_message:
      return "commit_message";
    case TimeoutKind::repair:
      return "repair";
    case TimeoutKind::view_change_message:
      return "view_change_message";
    case TimeoutKind::request_view:
      return "request_view";
    case TimeoutKind::client_request:
      return "client_request";
    case TimeoutKind::client_ping:
      return "client_ping";
  }
  return "unknown";
}

uint64_t timeout_trace_code(TimeoutKind kind) {
  POOL_ASSERT_LE(static_cast<uint8_t>(kind), static_cast<uint8_t>(TimeoutKind::client_ping));
  switch (kind) {
    case TimeoutKind::ping:
    case TimeoutKind::prepare:
    case TimeoutKind::normal_heartbeat:
    case TimeoutKind::view_change_status:
      return static_cast<uint64_t>(kind);
    case TimeoutKind::client_request:
      return 2;
    default:
      POOL_ASSERT(false, "timeout %s is not traced", timeout_kind_name(kind));
  }
}

std::optional<TimeoutKind> timeout_from_trace_code(uint64_t code, bool client) {
  std::optional<TimeoutKind> kind;
  if (client) {
    if (code == timeout_trace_code(TimeoutKind::client_request)) kind = TimeoutKind::client_request;
  } else if (code <= timeout_trace_code(TimeoutKind::view_change_status)) {
    kind = static_cast<TimeoutKind>(code);
  }
  POOL_ASSERT(!kind || timeout_trace_code(*kind) == code,
              "trace codes decode to what encodes them");
  return kind;
}

}  // namespace sim
