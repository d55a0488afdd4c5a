// The commit, as the original's commit_dispatch (replica.zig:4374-4540): one prepare at a time
// through its stages, each either done at once or waiting for a callback that resumes the
// dispatch. commit_prepare is taken at the start (replica.zig:4603, 4643, 4704) and kept through
// every stage until commit_finish drops it (:5283), so the pipeline refills and a backup's cache
// may evict that prepare while it still compacts.
//
// Stages: start (the prepare: the pipeline's head, the cache, or a journal read), prefetch (grid
// IO for an echo; at once for a register, a vsr-reserved operation, replica.zig:4715-4766),
// reply_setup (a client-replies write slot), execute, compact (grid IO, always asynchronous,
// :4943-4948), checkpoint (the checkpoint's writes, when the op is a checkpoint's), finish.
#include <bit>
#include <cstring>

#include "sim/vsr/replica.h"
#include "sim/vsr/wire.h"

namespace sim {

using pool::Command;
using pool::Term;

void Replica::commit_pipeline() {
  POOL_ASSERT(state_.status == Status::normal && primary());
  if (state_.commit_stage != CommitStage::idle) return;  // Committing already (:4296-4303).
  commit_dispatch();
}

void Replica::commit_journal() {
  POOL_ASSERT(state_.status == Status::normal || state_.status == Status::view_change);
  if (state_.commit_stage != CommitStage::idle || !commit_from_journal()) return;
  if (state_.commit_min >= state_.commit_max) return;  // Committed this far (:4319).
  commit_dispatch();
}

void Replica::commit_resume(uint64_t incarnation, CommitStage stage) {
  if (!alive(incarnation)) return;
  POOL_ASSERT(!state_.commit_dispatching, "r%u: a commit stage completes in an event", index_);
  POOL_ASSERT(state_.commit_stage == stage, "r%u: a commit resumes at stage %u, not %u", index_,
              static_cast<unsigned>(stage), static_cast<unsigned>(state_.commit_stage));
  commit_dispatch();
}

std::function<void()> Replica::commit_resumer() {
  return [this, incarnation = incarnation_, stage = state_.commit_stage] {
    commit_resume(incarnation, stage);
  };
}

void Replica::commit_dispatch() {
  POOL_ASSERT(!state_.commit_dispatching, "r%u: the commit dispatch is entered once", index_);
  state_.commit_dispatching = true;
  // The loop supports synchronous commits, but compaction is always asynchronous: one execute at
  // most per call.
  for (;;) {
    if (state_.commit_stage == CommitStage::idle) {
      POOL_ASSERT(state_.commit_prepare == nullptr);
      state_.commit_stage = CommitStage::start;
      if (!commit_start()) break;
    }
    if (state_.commit_stage == CommitStage::start) {
      if (state_.commit_prepare == nullptr) {
        state_.commit_stage = CommitStage::idle;  // Nothing to commit.
        break;
      }
      state_.commit_stage = CommitStage::prefetch;
      if (!commit_prefetch()) break;
    }
    if (state_.commit_stage == CommitStage::prefetch) {
      state_.commit_stage = CommitStage::reply_setup;
      if (!client_replies_.ready()) {
        client_replies_.on_ready(commit_resumer());
        break;
      }
    }
    if (state_.commit_stage == CommitStage::reply_setup) {
      state_.commit_stage = CommitStage::execute;
      commit_execute();
      state_.commit_stage = CommitStage::compact;
      storage_.grid_io(commit_resumer());
      break;
    }
    if (state_.commit_stage == CommitStage::compact) {
      state_.commit_stage = CommitStage::checkpoint;
      if (checkpoint_maybe()) break;
    }
    POOL_ASSERT(state_.commit_stage == CommitStage::checkpoint);
    commit_finish();
    state_.commit_stage = CommitStage::idle;
  }
  // Waiting at a stage past the start, the commit holds its prepare; idle, it holds none.
  POOL_ASSERT_EQ(state_.commit_prepare != nullptr, state_.commit_stage != CommitStage::idle &&
                                                       state_.commit_stage != CommitStage::start);
  state_.commit_dispatching = false;
}

bool Replica::commit_start() {
  POOL_ASSERT(state_.commit_stage == CommitStage::start && state_.commit_prepare == nullptr);
  if (state_.status == Status::normal && primary() && !commit_from_journal()) {
    // commit_start_pipeline (:4578-4604): the head of the prepare queue, once a quorum has it.
    if (state_.pipeline.prepares().empty()) return true;
    const PipelineEntry& head = state_.pipeline.prepares().front();
    if (!head.ok_quorum_received) return true;
    const auto* prepare = head.prepare->build<Command::prepare>()->header;
    if (prepare->op != state_.commit_min + 1) return true;
    // The head's header is the journal's (commit_start_pipeline asserts has_header).
    POOL_ASSERT(journal_.header(prepare->op) != nullptr &&
                journal_.header(prepare->op)->frame.checksum == prepare->frame.checksum);
    POOL_ASSERT_GE(static_cast<uint32_t>(std::popcount(head.ok_from)), quorum_replication());
    state_.commit_prepare = census_.hold(Holder::commit_prepare, head.prepare);
    return true;
  }
  if (!commit_from_journal() || state_.commit_min >= state_.commit_max) return true;
  // commit_start_journal (:4606-4658): the next op, its chain checked before each read.
  const uint64_t op = state_.commit_min + 1;
  const pool::PrepareHeader* header = journal_.header(op);
  if (header == nullptr) return true;  // Repair fetches it.
  if (header->parent != state_.commit_checksum) {
    journal_.remove_header(op);  // Stale: the chain from the commit does not hold.
    return true;
  }
  if (!chained_to_head(op)) return true;  // Repair links it to the head (or replaces it).
  if (pool::Message* prepare = state_.pipeline.cached(op, header->frame.checksum)) {
    POOL_ASSERT_EQ(prepare->build<Command::prepare>()->header->op, op);
    state_.commit_prepare = census_.hold(Holder::commit_prepare, prepare);
    return true;
  }
  if (!journal_.prepared(op)) return true;
  const uint64_t incarnation = incarnation_;
  const bool reading =
      journal_.read_prepare(op, header->frame.checksum, Journal::ReadPurpose::commit,
                            [this, incarnation, op](pool::Message* read) {
                              if (alive(incarnation)) commit_journal_read_done(read, op);
                            });
  return !reading;  // Reading: the callback resumes; no read slot: nothing this time.
}

void Replica::commit_journal_read_done(pool::Message* prepare, uint64_t op) {
  context_.record(TraceKind::journal_read, index_, op, prepare == nullptr);
  POOL_ASSERT(state_.commit_stage == CommitStage::start && state_.commit_prepare == nullptr);
  POOL_ASSERT(!state_.commit_dispatching, "r%u: a journal read completes in an event", index_);
  // The journal checks the slot against the op and checksum asked for (what was written).
  POOL_ASSERT(prepare == nullptr || prepare->build<Command::prepare>()->header->op == op);
  if (prepare == nullptr) {
    journal_.mark_faulty(op);  // Corrupt or stale: repair it from a peer.
  } else if (commit_from_journal() && op == state_.commit_min + 1) {
    // As commit_start_journal_callback (:4660-4705): taken inside the read's callback, and the
    // dispatch resumes there, while the read still holds its own reference.
    state_.commit_prepare = census_.hold(Holder::commit_prepare, prepare);
  }
  commit_dispatch();
}

bool Replica::commit_prefetch() {
  const auto* header = state_.commit_prepare->build<Command::prepare>()->header;
  POOL_ASSERT_EQ(header->op, state_.commit_min + 1);
  POOL_ASSERT(header->operation == operation_register || header->operation == operation_echo);
  if (header->operation == operation_register) return true;  // vsr-reserved: no prefetch.
  storage_.grid_io(commit_resumer());
  return false;
}

void Replica::commit_execute() {
  execute(state_.commit_prepare);
  POOL_ASSERT_EQ(state_.commit_prepare->build<Command::prepare>()->header->op, state_.commit_min);
  POOL_ASSERT_LE(state_.commit_min, state_.commit_max);
  // commit_execute (:4893-4941): the primary prepares the next queued request at once, while
  // this prepare still compacts.
  if (state_.status == Status::normal && primary()) primary_drain_request_queue();
}

void Replica::commit_finish() {
  POOL_ASSERT(state_.commit_stage == CommitStage::checkpoint && state_.commit_dispatching);
  POOL_ASSERT(state_.commit_prepare != nullptr);
  POOL_ASSERT_EQ(state_.commit_prepare->build<Command::prepare>()->header->op, state_.commit_min);
  release(Holder::commit_prepare, state_.commit_prepare);
  state_.commit_prepare = nullptr;
  if (state_.status != Status::normal || !primary()) return;
  // Progress resets the backoff, as the original does when a quorum arrives.
  if (state_.pipeline.prepares().empty()) {
    timeout(TimeoutKind::prepare).stop();
  } else {
    timeout(TimeoutKind::prepare).reset();
  }
}

void Replica::execute(pool::Message* message) {
  POOL_ASSERT(message == state_.commit_prepare && client_replies_.ready());
  const pool::PrepareHeader prepare = *message->build<Command::prepare>()->header;
  POOL_ASSERT_EQ(prepare.op, state_.commit_min + 1);
  // The hash chain: the op executed after the commit is its child.
  POOL_ASSERT(prepare.parent == state_.commit_checksum, "r%u: op %llu does not chain", index_,
              static_cast<unsigned long long>(prepare.op));
  ProcessEvent committed{ProcessEventKind::committed, index_, prepare.op, prepare.frame.checksum};
  committed.carries_request = prepare.operation == operation_echo;
  static_cast<void>(context_.report(committed));  // A safety failure ends the run after this event.

  const uint32_t client = client_index(prepare.client);
  POOL_ASSERT(client != UINT32_MAX);
  const bool echo = prepare.operation == operation_echo;
  // As execute_op (replica.zig:5391-5392): the reply is taken here and dropped when execute ends.
  pool::Message* reply = acquire(Holder::execute_reply);
  POOL_ASSERT_EQ(census_.held(Holder::execute_reply), 1u);  // One commit at a time.
  const uint32_t body_size = reply_body_size(prepare.operation, message->body_used().size());
  // Of the prepare's view (replica.zig:5473), which may be older than the durable log view.
  auto* header = header_start<Command::reply>(reply, static_cast<uint8_t>(index_),
                                              prepare.frame.view, body_size);
  header->frame.release = 1;
  header->request_checksum = prepare.request_checksum;
  header->context = prepare.frame.checksum;
  header->client = prepare.client;
  header->op = prepare.op;
  header->commit = prepare.op;
  header->timestamp = prepare.timestamp;
  header->request = prepare.request;
  header->operation = prepare.operation;
  if (echo && body_size > 0) {
    const pool::U128 digest = echo_digest(prepare.client, prepare.request, message->body_used());
    std::memcpy(reply->body_used().data(), &digest, sizeof(digest));
  } else if (!echo) {
    register_result_write(reply->body_used(), context_.config);
  }
  message_seal(reply);
  POOL_ASSERT(header_valid(reply, context_.config));  // The client's bus; repeat_reply's too.

  if (!state_.pipeline.prepares().empty() &&
      state_.pipeline.prepares().front().prepare == message) {
    release(Holder::pipeline, message);
    state_.pipeline.prepare_pop();
  }
  state_.commit_min = prepare.op;
  state_.commit_max = std::max(state_.commit_max, state_.commit_min);
  state_.commit_checksum = prepare.frame.checksum;
  context_.record(TraceKind::commit, index_, prepare.op, prepare.frame.checksum.low);

  state_.clients[client].registered = true;
  state_.clients[client].reply = *header;
  // A reply with a body is written to the client-replies zone, a register's too
  // (client_table_entry_create and _update, replica.zig:5692-5790).
  if (body_size > 0) client_replies_.write_reply(client, reply);
  // The primary answers, and so does one backup chosen by the op (hedging, as the original).
  const uint32_t backup =
      context_.shape.replica_count > 1
          ? static_cast<uint32_t>(
                (primary_index() + 1 + prepare.op % (context_.shape.replica_count - 1)) %
                context_.shape.replica_count)
          : UINT32_MAX;
  if (state_.status == Status::normal && (primary() || index_ == backup)) {
    send_reply_to_client(context_.shape.client_process(client), reply);
  }
  release(Holder::execute_reply, reply);
}

}  // namespace sim
