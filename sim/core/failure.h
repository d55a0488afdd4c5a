// A simulation's verdict: the first failure of a run, by kind, with the process and term it
// concerns. Checkers record failures; the run stops after the event that caused the first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pool/message_pool.h"

namespace sim {

enum class FailureKind : uint8_t {
  term_bound,  // A holder exceeded its formula term's bound.
  exhaustion,  // A pool had no message to give.
  leak,        // A pool was not full again at a crash or at teardown.
  safety,      // Replicas committed different prepares for one op.
  reply,       // A client's reply did not match its request.
  liveness,    // Faults stopped, yet a request stayed unanswered or a replica behind.
};
const char* failure_kind_name(FailureKind kind);

struct Failure {
  FailureKind kind;
  std::string process;  // "replica 1", "client 0", "network".
  std::optional<pool::Term> term;
  std::string detail;
};

class Failures {
 public:
  // Records `failure` if it is the run's first.
  void fail(Failure failure) {
    if (!first_) first_ = std::move(failure);
  }
  bool failed() const { return first_.has_value(); }
  const std::optional<Failure>& first() const { return first_; }

 private:
  std::optional<Failure> first_;
};

}  // namespace sim
