#include "sim/checkers.h"

#include <algorithm>
#include <cstring>

#include "pool/assertion.h"
#include "sim/vsr/wire.h"

namespace sim {

bool CommitChecker::on_event(const ProcessEvent& event) {
  switch (event.kind) {
    case ProcessEventKind::committed:
      return on_commit(event);
    case ProcessEventKind::synced:
      return on_sync(event);
    case ProcessEventKind::reply_accepted:
      return true;
  }
  return true;
}

bool CommitChecker::on_commit(const ProcessEvent& event) {
  POOL_ASSERT(event.op > 0, "the root is never committed");
  if (event.op >= checksums_.size()) checksums_.resize(event.op + 1, pool::U128{0, 0});
  if (event.op > committed_max_) {
    checksums_[event.op] = event.checksum;
    committed_max_ = event.op;
    requests_committed_ += event.carries_request;
    return true;
  }
  if (checksums_[event.op] == event.checksum) return true;
  failures_.fail({FailureKind::safety, "replica " + std::to_string(event.process), std::nullopt,
                  "committed op " + std::to_string(event.op) +
                      " with a prepare whose checksum differs from the one committed first"});
  return false;
}

bool CommitChecker::on_sync(const ProcessEvent& event) {
  POOL_ASSERT(event.op > 0, "a sync targets a checkpoint after the root");
  if (event.op > committed_max_ || checksums_[event.op] == event.checksum) return true;
  failures_.fail({FailureKind::safety, "replica " + std::to_string(event.process), std::nullopt,
                  "synced to checkpoint " + std::to_string(event.op) +
                      " whose prepare differs from the one committed"});
  return false;
}

bool ReplyChecker::on_event(const ProcessEvent& event) {
  if (event.kind != ProcessEventKind::reply_accepted) return true;
  POOL_ASSERT(event.request_header != nullptr && event.reply_header != nullptr);
  POOL_ASSERT_LT(event.process, reply_op_last_.size());
  const std::string what = mismatch(event);
  if (what.empty()) {
    reply_op_last_[event.process] = event.reply_header->op;
    return true;
  }
  failures_.fail(
      {FailureKind::reply, "client " + std::to_string(event.process), std::nullopt,
       "reply to request " + std::to_string(event.request_header->request) + ": " + what});
  return false;
}

std::string ReplyChecker::mismatch(const ProcessEvent& event) const {
  const pool::RequestHeader& request = *event.request_header;
  const pool::ReplyHeader& reply = *event.reply_header;
  if (reply.request_checksum != request.frame.checksum) return "request_checksum differs";
  if (reply.operation != request.operation) return "operation differs";
  if (reply.op <= reply_op_last_[event.process]) return "op did not increase";
  if (event.reply_body.size() != reply_body_size(request.operation, event.request_body.size())) {
    return "body size differs";
  }
  if (request.operation != operation_echo || event.reply_body.empty()) return "";
  const pool::U128 expected = echo_digest(request.client, request.request, event.request_body);
  pool::U128 got{0, 0};
  if (event.reply_body.size() != sizeof(got)) return "body size differs";
  std::memcpy(&got, event.reply_body.data(), sizeof(got));
  if (got != expected) return "body is not the request's result";
  return "";
}

bool check_no_leak(Failures& failures, const std::string& owner, const pool::MessagePool& pool,
                   const Census& census, const char* when) {
  if (pool.used_count() == 0) return true;
  failures.fail(
      {FailureKind::leak, owner, std::nullopt,
       std::to_string(pool.used_count()) + " messages " + when + " (" + census.describe() + ")"});
  return false;
}

bool ConvergenceChecker::converged() const {
  for (const auto& client : clients_) {
    if (!client->done()) return false;
  }
  const Replica* leader = primary();
  if (leader == nullptr || leader->op() != leader->commit_min()) return false;
  return std::all_of(replicas_.begin(), replicas_.end(), [leader](const auto& replica) {
    return replica_converged(*replica, *leader);
  });
}

const Replica* ConvergenceChecker::primary() const {
  POOL_ASSERT(!replicas_.empty());
  uint32_t view = 0;
  for (const auto& replica : replicas_) view = std::max(view, replica->view());
  const Replica& leader = *replicas_[view % replica_count_];
  if (leader.status() != Replica::Status::normal || leader.view() != view) return nullptr;
  return &leader;
}

bool ConvergenceChecker::replica_converged(const Replica& replica, const Replica& primary) {
  return replica.status() == Replica::Status::normal && replica.view() == primary.view() &&
         replica.commit_min() == primary.commit_min() && replica.op() == primary.op() &&
         replica.log_complete() && !replica.syncing() && !replica.grid_missing();
}

uint64_t ConvergenceChecker::progress() const {
  uint64_t progress = 0;
  for (const auto& replica : replicas_) progress += replica->commit_min() + replica->op();
  for (const auto& client : clients_) progress += client->requests_done();
  return progress;
}

std::string ConvergenceChecker::waiters() const {
  std::string text;
  for (const auto& client : clients_) {
    if (!client->done()) text += client->describe() + "; ";
  }
  const Replica* leader = primary();
  if (leader == nullptr) text += "no primary is normal in the latest view; ";
  for (const auto& replica : replicas_) {
    if (leader == nullptr || !replica_converged(*replica, *leader) || replica.get() == leader) {
      text += replica->describe() + "; ";
    }
  }
  return text;
}

bool LivenessChecker::observe(uint64_t tick, uint64_t progress) {
  POOL_ASSERT_GE(tick, progress_tick_);
  if (progress != progress_) {
    progress_ = progress;
    progress_tick_ = tick;
    return true;
  }
  return tick < progress_tick_ + ticks_max_;
}

}  // namespace sim
