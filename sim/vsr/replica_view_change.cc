// View changes, the view message, and recovery at restart (see replica.h).
#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#include "sim/vsr/replica.h"
#include "sim/vsr/wire.h"

namespace sim {

using pool::Command;
using pool::Term;

namespace {
uint64_t bit(uint32_t replica) { return uint64_t{1} << replica; }

}  // namespace

// --- Timeouts and the superblock.

void Replica::start_normal_timeouts() {
  // A replica becomes normal in its view (its log is that view's), never while it fetches a
  // sync's blocks: sync_done installs the view once they are in.
  POOL_ASSERT_EQ(state_.status, Status::normal);
  POOL_ASSERT_EQ(state_.log_view, state_.view);
  POOL_ASSERT(!syncing_blocks());
  timeout(TimeoutKind::ping).start();
  timeout(TimeoutKind::repair).start();
  timeout(TimeoutKind::view_change_status).stop();
  timeout(TimeoutKind::view_change_message).stop();
  if (primary()) {
    timeout(TimeoutKind::commit_message).start();
    timeout(TimeoutKind::normal_heartbeat).stop();
    if (!state_.pipeline.prepares().empty()) timeout(TimeoutKind::prepare).start();
  } else {
    timeout(TimeoutKind::commit_message).stop();
    timeout(TimeoutKind::prepare).stop();
    timeout(TimeoutKind::normal_heartbeat).start();
    timeout(TimeoutKind::normal_heartbeat).after_ticks +=
        prng_.below(timeout(TimeoutKind::normal_heartbeat).after_ticks);
  }
}

void Replica::superblock_view_update() {
  POOL_ASSERT_LE(state_.log_view, state_.view);
  Superblock superblock = superblock_decode(storage_.superblock_read());
  // Views only move forward, each durable as it is taken; the checkpoint is ours
  // (checkpoint_adopt writes the two together).
  POOL_ASSERT_LE(superblock.view, state_.view);
  POOL_ASSERT_LE(superblock.log_view, state_.log_view);
  POOL_ASSERT_EQ(superblock.checkpoint_op, state_.op_checkpoint);
  superblock.view = state_.view;
  superblock.log_view = state_.log_view;
  storage_.superblock_write(superblock_encode(superblock));
  state_.log_view_durable = state_.log_view;
}

// --- Leaving a view.

void Replica::transition_to_view_change(uint32_t view) {
  POOL_ASSERT(view > state_.view, "r%u: view change to %u from view %u", index_, view, state_.view);
  // A recovering replica resumes the view change it crashed in (enter_view_change) instead.
  POOL_ASSERT(state_.status == Status::normal || state_.status == Status::view_change);
  enter_view_change(view);
  POOL_ASSERT_LT(state_.log_view, state_.view);  // Not normal in the new view before it starts.
}

void Replica::enter_view_change(uint32_t view) {
  POOL_ASSERT(!standby());
  POOL_ASSERT(!syncing_blocks());  // A replica fetching a sync's blocks does not vote.
  // The same view only when a restart resumes the view change it crashed in.
  POOL_ASSERT(view > state_.view || (view == state_.view && state_.status == Status::recovering));
  if (state_.status == Status::normal && primary()) primary_pipeline_to_cache();
  context_.record(TraceKind::view_change, index_, view, state_.view);
  state_.view = view;
  state_.status = Status::view_change;
  superblock_view_update();  // Durable before any vote for the view.
  release_join_views();
  state_.exit_view_from = 0;  // Our own exit_view comes through the loopback (send_exit_view).
  state_.join_view_sent = false;
  state_.log_chosen = false;
  timeout(TimeoutKind::normal_heartbeat).stop();
  timeout(TimeoutKind::commit_message).stop();
  timeout(TimeoutKind::prepare).stop();
  timeout(TimeoutKind::view_change_status).start();
  timeout(TimeoutKind::view_change_status).after_ticks +=
      prng_.below(timeout(TimeoutKind::view_change_status).after_ticks);
  timeout(TimeoutKind::view_change_message).start();
  send_exit_view();
  maybe_send_join_view();
  // Our own exit_view is no quorum (a replica alone never changes views): the peers' come next.
  POOL_ASSERT_EQ(state_.status, Status::view_change);
}

// The prepares stay as a cache, as the original's pipeline does; queued requests go.
void Replica::primary_pipeline_to_cache() {
  POOL_ASSERT(state_.status == Status::normal && primary());
  for (PipelineEntry& entry : state_.pipeline.prepares()) {
    const uint64_t op = entry.prepare->build<Command::prepare>()->header->op;
    // The queue holds the uncommitted ops of the primary's log.
    POOL_ASSERT_GT(op, state_.commit_min);
    POOL_ASSERT_LE(op, state_.op);
    pool::Message*& slot = state_.pipeline.cache_slot(op);
    if (slot != nullptr) release(Holder::pipeline, slot);
    slot = entry.prepare;  // The pipeline's reference carries over.
  }
  state_.pipeline.prepares_clear();
  for (pool::Message* request : state_.pipeline.requests()) release(Holder::pipeline, request);
  state_.pipeline.requests_clear();
  if (state_.loopback_queue != nullptr) release(Holder::loopback_queue, state_.loopback_queue);
  state_.loopback_queue = nullptr;
}

void Replica::release_join_views() {
  POOL_ASSERT_EQ(state_.join_view_from_all_replicas.size(), size_t{context_.shape.replica_count});
  for (pool::Message*& message : state_.join_view_from_all_replicas) {
    if (message != nullptr) {
      // Each of a view change this replica took part in (enter_view_change moved past it first).
      POOL_ASSERT_EQ(message->header->frame.command, Command::join_view);
      POOL_ASSERT_LE(message->header->frame.view, state_.view);
      release(Holder::join_view_quorum, message);
    }
    message = nullptr;
  }
}

void Replica::send_exit_view() {
  POOL_ASSERT_EQ(state_.status, Status::view_change);
  POOL_ASSERT(!standby() && !syncing_blocks());  // Only a replica that votes sends a vote.
  // The vote's view is durable (enter_view_change): after a restart it votes for no earlier one.
  POOL_ASSERT_EQ(superblock_decode(storage_.superblock_read()).view, state_.view);
  pool::Message* message = acquire(Holder::exit_view_sent);
  header_start<Command::exit_view>(message, static_cast<uint8_t>(index_), state_.view, 0);
  message_seal(message);
  for (uint32_t replica = 0; replica < context_.shape.replica_count; replica++) {
    if (replica != index_) send(replica, message);
  }
  // replica.zig:8775-8780: to the others, then to itself through the loopback queue.
  if ((state_.exit_view_from & bit(index_)) == 0) send_to_self(message);
  POOL_ASSERT((state_.exit_view_from & bit(index_)) != 0);  // on_exit_view counted it.
  release(Holder::exit_view_sent, message);
}

bool Replica::ignore_view_change_message(uint32_t from, const pool::Message* message) const {
  const Command command = message->header->frame.command;
  POOL_ASSERT(command == Command::exit_view || command == Command::join_view);
  if (from >= context_.shape.replica_count) return true;
  pool::maybe(from == index_);  // Its own, through the loopback queue.
  // A replica votes under its own name (send_exit_view, maybe_send_join_view).
  POOL_ASSERT_EQ(message->header->frame.replica, from);
  if (standby() || syncing_blocks()) return true;    // Neither votes.
  return message->header->frame.view < state_.view;  // That view change is over.
}

// A later view's exit_view is taken: its view change makes this replica's status view_change.
bool Replica::ignore_exit_view(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::exit_view);
  POOL_ASSERT_EQ(message->header->frame.size, pool::header_size);  // No body (validated).
  if (ignore_view_change_message(from, message)) return true;
  return message->header->frame.view == state_.view &&
         state_.status != Status::view_change;  // The view has started.
}

void Replica::on_exit_view(uint32_t from, pool::Message* message) {
  if (ignore_exit_view(from, message)) return;
  const uint32_t view = message->header->frame.view;
  if (view > state_.view) transition_to_view_change(view);
  POOL_ASSERT_EQ(state_.status, Status::view_change);
  POOL_ASSERT_EQ(view, state_.view);
  POOL_ASSERT_LT(from, context_.shape.replica_count);  // A bit of exit_view_from.
  state_.exit_view_from |= bit(from);
  maybe_send_join_view();
}

pool::Message* Replica::build_join_view(Holder holder) {
  POOL_ASSERT_EQ(state_.status, Status::view_change);
  // It votes for a view after the last one it was normal in (the receiver checks log_view).
  POOL_ASSERT_LT(state_.log_view, state_.view);
  // The head: the highest op whose header the replica has (an op it never had the header of,
  // it never acknowledged).
  uint64_t op_head = state_.op;
  while (op_head > state_.commit_min && journal_.header(op_head) == nullptr) op_head--;
  // The head's header always (the new primary takes the head from it), then the chain below
  // as far as it holds after the commit: the new primary installs these.
  std::vector<const pool::PrepareHeader*> headers;
  if (const pool::PrepareHeader* head = journal_.header(op_head)) headers.push_back(head);
  for (uint64_t op = op_head - 1; !headers.empty() && op > state_.commit_min &&
                                  headers.size() < headers_per_message(context_.config);
       op--) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (header == nullptr || headers.back()->parent != header->frame.checksum) break;
    headers.push_back(header);
  }
  pool::Message* message = acquire(holder);
  auto* header =
      header_start<Command::join_view>(message, static_cast<uint8_t>(index_), state_.view,
                                       static_cast<uint32_t>(headers.size() * pool::header_size));
  header->op = op_head;
  // Not commit_min as the replica executed it but what it knows committed within its log
  // (commit_max, capped by the head): the new primary's commit; the bitsets start after it.
  header->commit_min = std::max(state_.commit_min, std::min(state_.commit_max, op_head));
  header->checkpoint_op = state_.op_checkpoint;
  header->log_view = state_.log_view;
  // As the receiver validates it (header_invalid): the head, then the commit, then the
  // checkpoint, each at or after the next.
  POOL_ASSERT_GE(header->op, header->commit_min);
  POOL_ASSERT_GE(header->commit_min, header->checkpoint_op);
  // For each op after commit_min: present (its prepare is on disk) or nack. A nack of an op
  // whose header the body carries says the slot does not hold that prepare; of any other op,
  // that the slot holds no prepare of the op at all (so the replica never acknowledged one). A
  // disk that may have lost writes nacks nothing.
  const uint64_t carried_min = op_head + 1 - headers.size();
  for (uint32_t i = 0; i < 128; i++) {
    const uint64_t op = header->commit_min + 1 + i;
    uint64_t& present = i < 64 ? header->present_bitset.low : header->present_bitset.high;
    uint64_t& nack = i < 64 ? header->nack_bitset.low : header->nack_bitset.high;
    const bool carried = op >= carried_min && op <= op_head;
    if (journal_.prepared(op)) {
      present |= uint64_t{1} << (i % 64);
    } else if (!storage_.may_have_lost_writes() && !journal_.writing(op) &&
               (carried || !journal_.slot_holds(op))) {
      nack |= uint64_t{1} << (i % 64);
    }
  }
  for (size_t i = 0; i < headers.size(); i++) {
    std::memcpy(message->body_used().data() + i * pool::header_size, headers[i], pool::header_size);
  }
  message_seal(message);
  return message;
}

void Replica::maybe_send_join_view() {
  if (state_.status != Status::view_change || state_.join_view_sent) return;
  if (static_cast<uint32_t>(std::popcount(state_.exit_view_from)) < quorum_view_change()) return;
  POOL_ASSERT(!standby() && !syncing_blocks());
  POOL_ASSERT((state_.exit_view_from & bit(index_)) != 0);  // Our own exit_view counts.
  state_.join_view_sent = true;
  // replica.zig:8909-8918: to every other replica (a backup ignores it, or jumps to its view),
  // then the new primary's own through the loopback queue, which on_join_view keeps.
  pool::Message* message = build_join_view(Holder::join_view_sent);
  POOL_ASSERT_EQ(message->header->frame.view, state_.view);  // The vote is for this view.
  for (uint32_t replica = 0; replica < context_.shape.replica_count; replica++) {
    if (replica != index_) send(replica, message);
  }
  if (primary() && state_.join_view_from_all_replicas[index_] == nullptr) send_to_self(message);
  release(Holder::join_view_sent, message);
}

bool Replica::ignore_join_view(uint32_t from, const pool::Message* message) const {
  const auto* header = message->build<pool::Command::join_view>()->header;
  POOL_ASSERT_EQ(header->frame.command, Command::join_view);
  POOL_ASSERT_EQ(message->body_used().size() % pool::header_size, 0u);  // Headers (validated).
  if (ignore_view_change_message(from, message)) return true;
  return primary_of(header->frame.view) != index_;  // Misdirected.
}

// The ignore check is split in two: a later view's join_view takes this replica into that view
// change even when it is not the view's primary, the one the message is for.
void Replica::on_join_view(uint32_t from, pool::Message* message) {
  if (ignore_view_change_message(from, message)) return;
  const uint32_t view = message->header->frame.view;
  if (view > state_.view) transition_to_view_change(view);
  if (ignore_join_view(from, message)) return;
  const auto* header = message->build<Command::join_view>()->header;
  POOL_ASSERT(primary());
  POOL_ASSERT_EQ(view, state_.view);
  POOL_ASSERT_LT(from, context_.shape.replica_count);  // A slot of join_view_from_all_replicas.
  // Its sender was last normal before this view (build_join_view), and its head is at or after
  // its commit, which is at or after its checkpoint (validated on receipt).
  POOL_ASSERT_LT(header->log_view, view);
  POOL_ASSERT_GE(header->op, header->commit_min);
  POOL_ASSERT_GE(header->commit_min, header->checkpoint_op);
  if (state_.status == Status::normal) {
    send_view(from);  // The view began without it.
    return;
  }
  POOL_ASSERT_EQ(state_.status, Status::view_change);
  pool::Message*& slot = state_.join_view_from_all_replicas[from];
  if (slot != nullptr) release(Holder::join_view_quorum, slot);
  slot = census_.hold(Holder::join_view_quorum, message);
  if (state_.log_chosen) primary_truncate_nacked();
  primary_join_view_quorum_check();
}

void Replica::primary_join_view_quorum_check() {
  if (state_.log_chosen || state_.status != Status::view_change || !primary()) return;
  if (state_.join_view_from_all_replicas[index_] == nullptr) return;
  POOL_ASSERT(state_.join_view_sent);  // Our own join_view is kept once built.
  POOL_ASSERT(!syncing_blocks());
  const auto count = static_cast<uint32_t>(std::count_if(
      state_.join_view_from_all_replicas.begin(), state_.join_view_from_all_replicas.end(),
      [](const pool::Message* m) { return m != nullptr; }));
  if (count < quorum_view_change()) return;
  primary_choose_log();
  primary_view_change_progress();
}

// The log of the latest view any member of the quorum was normal in, up to the highest op any
// of those members has: it holds every committed op.
void Replica::primary_choose_log() {
  POOL_ASSERT(state_.join_view_from_all_replicas[index_] != nullptr);  // Ours is in the quorum.
  const pool::JoinViewHeader* best = nullptr;
  const pool::Message* best_message = nullptr;
  uint64_t commit = state_.commit_max;
  for (const pool::Message* message : state_.join_view_from_all_replicas) {
    if (message == nullptr) continue;
    const auto* header = message->build<pool::Command::join_view>()->header;
    // All of this view change: enter_view_change let go of the earlier ones.
    POOL_ASSERT_EQ(header->frame.view, state_.view);
    commit = std::max(commit, header->commit_min);
    if (best == nullptr || header->log_view > best->log_view ||
        (header->log_view == best->log_view && header->op > best->op)) {
      best = header;
      best_message = message;
    }
  }
  POOL_ASSERT(best != nullptr);
  POOL_ASSERT_LT(best->log_view, state_.view);
  POOL_ASSERT_GE(best->op, state_.commit_min);
  truncate_after(best->op);
  for (const pool::Message* message : state_.join_view_from_all_replicas) {
    if (message == nullptr) continue;
    const auto* header = message->build<pool::Command::join_view>()->header;
    if (header->log_view == best->log_view) install_headers(message->body_used(), best->op);
  }
  state_.op = best->op;
  head_take(best_message->body_used());
  state_.commit_max = std::max(state_.commit_max, std::min(commit, state_.op));
  verify_chain_from_head();
  primary_truncate_nacked();
  state_.log_chosen = true;
  context_.record(TraceKind::view_log_chosen, index_, state_.op, state_.commit_max);
  // The chosen log holds every committed op (the commit is within it), and what it has after
  // the commit fits the new pipeline.
  POOL_ASSERT_LE(state_.commit_max, state_.op);
  POOL_ASSERT(state_.op - state_.commit_max <= pipeline_prepare_queue_max_,
              "r%u view %u: %llu uncommitted ops exceed the pipeline", index_, state_.view,
              static_cast<unsigned long long>(state_.op - state_.commit_max));
}

// An op that a nack quorum never wrote was never committed: it goes, with all after it. Checked
// again as late join_views arrive.
void Replica::primary_truncate_nacked() {
  POOL_ASSERT(state_.status == Status::view_change && primary());
  POOL_ASSERT_LE(state_.commit_max, state_.op);
  // A nack quorum and a replication quorum meet: a committed op never has one.
  POOL_ASSERT_LE(quorum_replication(), context_.shape.replica_count);
  for (uint64_t op = state_.commit_max + 1; op <= state_.op; op++) {
    if (nacks(op) >= context_.shape.replica_count - quorum_replication() + 1) {
      context_.record(TraceKind::view_truncate, index_, op, state_.op);
      truncate_after(op - 1);
      state_.op = op - 1;
      return;
    }
  }
}

uint32_t Replica::nacks(uint64_t op) const {
  // Only an op after the commit can go.
  POOL_ASSERT_GT(op, state_.commit_max);
  POOL_ASSERT_LE(op, state_.op);
  const pool::PrepareHeader* ours = journal_.header(op);
  uint32_t count = 0;
  for (const pool::Message* message : state_.join_view_from_all_replicas) {
    if (message == nullptr) continue;
    const auto* header = message->build<pool::Command::join_view>()->header;
    // An op is present or nacked, never both (build_join_view).
    POOL_ASSERT_EQ(header->present_bitset.low & header->nack_bitset.low, 0u);
    POOL_ASSERT_EQ(header->present_bitset.high & header->nack_bitset.high, 0u);
    // Beyond what its WAL could take since its checkpoint: it never wrote op.
    if (op > header->checkpoint_op + checkpoint_interval_ops_ + pipeline_prepare_queue_max_) {
      count += 1;
      continue;
    }
    if (op <= header->commit_min || op - header->commit_min - 1 >= 128) continue;
    const uint64_t i = op - header->commit_min - 1;
    const uint64_t mask = uint64_t{1} << (i % 64);
    const bool nack = ((i < 64 ? header->nack_bitset.low : header->nack_bitset.high) & mask) != 0;
    const bool present =
        ((i < 64 ? header->present_bitset.low : header->present_bitset.high) & mask) != 0;
    // Their header for op, if their join_view carries it: a nack speaks of that prepare.
    std::optional<pool::U128> theirs;
    for (const pool::PrepareHeader& header_theirs : prepare_headers_in(message->body_used())) {
      if (header_theirs.op == op) theirs = header_theirs.frame.checksum;
    }
    const bool same = !theirs || (ours != nullptr && *theirs == ours->frame.checksum);
    // Another prepare of op on disk: it never wrote ours.
    const bool other = present && ours != nullptr && theirs && *theirs != ours->frame.checksum;
    count += (nack && same) || other;
  }
  return count;
}

void Replica::primary_view_change_progress() {
  if (state_.status != Status::view_change || !primary() || !state_.log_chosen || syncing_blocks())
    return;
  POOL_ASSERT(state_.join_view_from_all_replicas[index_] != nullptr);  // The log chosen is kept.
  POOL_ASSERT_LE(state_.commit_max, state_.op);
  // Every op after the commit on disk, and linked to the head by the hash chain.
  for (uint64_t op = state_.commit_min + 1; op <= state_.op; op++) {
    const pool::PrepareHeader* above = journal_.header(op + 1);
    const bool linked = op == state_.op || (above != nullptr && journal_.header(op) != nullptr &&
                                            above->parent == journal_.header(op)->frame.checksum);
    if (!journal_.prepared(op) || !linked) {
      repair();
      return;
    }
  }
  if (state_.commit_min < state_.commit_max) {
    commit_journal();
    return;
  }
  // The new primary has executed every op the old views committed before it starts its own.
  POOL_ASSERT_EQ(state_.commit_min, state_.commit_max);
  if (state_.commit_stage != CommitStage::idle || state_.commit_prepare != nullptr) return;
  primary_start_view();
}

void Replica::primary_start_view() {
  POOL_ASSERT(state_.status == Status::view_change && primary() && state_.log_chosen);
  POOL_ASSERT(state_.pipeline.queues_empty());  // A view change keeps prepares in the cache only.
  // The pipeline: every op after the commit, from the cache or read back from the journal.
  for (pool::Message*& prepare : state_.pipeline.cache()) {
    if (prepare == nullptr) continue;
    const auto* header = prepare->build<Command::prepare>()->header;
    const pool::PrepareHeader* known = journal_.header(header->op);
    if (header->op <= state_.commit_max || header->op > state_.op || known == nullptr ||
        known->frame.checksum != header->frame.checksum) {
      release(Holder::pipeline, prepare);
      prepare = nullptr;
    }
  }
  bool complete = true;
  for (uint64_t op = state_.commit_max + 1; op <= state_.op; op++) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (state_.pipeline.cached(op, header->frame.checksum) != nullptr) continue;
    complete = false;
    if (state_.pipeline_reads_in_flight > 0) continue;  // One read at a time, as the original.
    const uint64_t incarnation = incarnation_;
    const uint32_t view = state_.view;
    const bool started = journal_.read_prepare(
        op, header->frame.checksum, Journal::ReadPurpose::commit,
        [this, incarnation, view, op](pool::Message* read) {
          if (!alive(incarnation)) return;
          POOL_ASSERT_GT(state_.pipeline_reads_in_flight, 0u);
          state_.pipeline_reads_in_flight -= 1;
          context_.record(TraceKind::journal_read, index_, op, read == nullptr);
          if (view != state_.view || state_.status != Status::view_change) return;
          if (read == nullptr) {
            journal_.mark_faulty(op);
            return;
          }
          POOL_ASSERT_EQ(read->build<Command::prepare>()->header->op, op);  // Journal-verified.
          cache_prepare(read);
        });
    if (started) state_.pipeline_reads_in_flight += 1;
  }
  if (!complete) return;

  for (uint64_t op = state_.commit_max + 1; op <= state_.op; op++) {
    pool::Message*& slot = state_.pipeline.cache_slot(op);
    state_.pipeline.prepare_push(PipelineEntry{slot, bit(index_), false});  // Our write is done.
    slot = nullptr;
  }
  // The queue holds every op after the commit, in order (prepare_push checks each follows).
  POOL_ASSERT_EQ(state_.pipeline.prepares().size(), state_.op - state_.commit_max);
  state_.status = Status::normal;
  state_.log_view = state_.view;
  superblock_view_update();
  release_join_views();
  state_.exit_view_from = 0;
  state_.log_chosen = false;
  context_.record(TraceKind::view_start, index_, state_.view, state_.op);
  start_normal_timeouts();
  for (uint32_t member = 0; member < context_.shape.member_count; member++) {
    if (member != index_) send_view(member);
  }
  if (quorum_replication() == 1) {
    for (PipelineEntry& entry : state_.pipeline.prepares()) entry.ok_quorum_received = true;
    commit_pipeline();
  }
}

// --- The view message.

void Replica::send_view(uint32_t to) {
  // Only the primary of a view it is normal in tells it, and not while it fetches sync blocks.
  POOL_ASSERT(state_.status == Status::normal && primary() && !syncing_blocks());
  POOL_ASSERT_LT(to, context_.shape.member_count);
  POOL_ASSERT_NE(to, index_);
  // The head's header always, the chain below it, and the checkpoint's prepare header (a
  // replica that syncs checks the checkpoint's blocks against it). The last body slot is kept
  // for the checkpoint's header.
  const size_t chain_max = headers_per_message(context_.config) - 1;
  std::vector<const pool::PrepareHeader*> headers;
  for (uint64_t op = state_.op; op > 0 && headers.size() < chain_max; op--) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (header == nullptr) break;  // Contiguous from the head: the receiver chains them.
    if (!headers.empty() && headers.back()->parent != header->frame.checksum) break;
    headers.push_back(header);
    if (op <= state_.op_checkpoint) break;
  }
  const pool::PrepareHeader* checkpoint = journal_.header(state_.op_checkpoint);
  if (state_.op_checkpoint > 0 && checkpoint != nullptr &&
      (headers.empty() || headers.back()->op > state_.op_checkpoint)) {
    headers.push_back(checkpoint);
  }
  pool::Message* message = acquire(Holder::view_response);
  auto* header =
      header_start<Command::view>(message, static_cast<uint8_t>(index_), state_.view,
                                  static_cast<uint32_t>(headers.size() * pool::header_size));
  header->nonce = pool::U128{context_.now_tick() + 1, 0};
  header->op = state_.op;
  header->commit_max = state_.commit_max;
  header->checkpoint_op = state_.op_checkpoint;
  // As the receiver validates it (header_invalid): the head, then the commit, then the
  // checkpoint, each at or after the next.
  POOL_ASSERT_GE(header->op, header->commit_max);
  POOL_ASSERT_GE(header->commit_max, header->checkpoint_op);
  for (size_t i = 0; i < headers.size(); i++) {
    std::memcpy(message->body_used().data() + i * pool::header_size, headers[i], pool::header_size);
  }
  message_seal(message);
  send(to, message);
  release(Holder::view_response, message);
}

bool Replica::ignore_get_view(uint32_t from, const pool::Message* message) const {
  const auto* header = message->build<pool::Command::get_view>()->header;
  POOL_ASSERT_EQ(header->frame.command, Command::get_view);
  POOL_ASSERT(header->nonce != (pool::U128{0, 0}));  // request_view's (validated on receipt).
  if (from >= context_.shape.member_count || from == index_) return true;
  // Only the primary of a view it is normal in answers, and not while it fetches sync blocks.
  return state_.status != Status::normal || !primary() || syncing_blocks();
}

void Replica::on_get_view(uint32_t from, pool::Message* message) {
  if (ignore_get_view(from, message)) return;
  POOL_ASSERT_LT(from, context_.shape.member_count);
  POOL_ASSERT_EQ(message->header->frame.replica, from);  // A member asks under its own name.
  send_view(from);
}

void Replica::request_view(uint32_t view) {
  // Of our view or a later one, while the replica takes part (not down, not recovering).
  POOL_ASSERT_GE(view, state_.view);
  POOL_ASSERT(state_.status == Status::normal || state_.status == Status::view_change);
  if (timeout(TimeoutKind::request_view).ticking && view <= state_.view_requested) return;
  const uint32_t to = primary_of(view);
  if (to == index_) return;
  state_.view_requested = view;
  timeout(TimeoutKind::request_view).start();
  pool::Message* message = acquire(Holder::repair_request);
  auto* header = header_start<Command::get_view>(message, static_cast<uint8_t>(index_), view, 0);
  header->nonce = pool::U128{context_.now_tick() + 1, index_};
  message_seal(message);
  send(to, message);
  release(Holder::repair_request, message);
}

// Not a message's handler: on_message calls it for what a message says of later views.
void Replica::on_view_ahead(uint32_t view) {
  POOL_ASSERT_GE(view, state_.view);  // A later view, or a checkpoint far ahead in ours.
  if (state_.status == Status::down || state_.status == Status::recovering) return;
  request_view(view);
  // Asked now or within the request_view period, unless that view's primary is us.
  POOL_ASSERT(timeout(TimeoutKind::request_view).ticking || primary_of(view) == index_);
}

// Its author is the view's primary and not us: so no view message of our own view reaches us
// while we are its primary (normal or not), and that case needs no test of its own.
bool Replica::ignore_view(const pool::Message* message) const {
  const auto* header = message->build<pool::Command::view>()->header;
  POOL_ASSERT_EQ(header->frame.command, Command::view);
  POOL_ASSERT_EQ(message->body_used().size() % pool::header_size, 0u);  // Headers (validated).
  const uint32_t view = header->frame.view;
  const uint32_t from = header->frame.replica;
  if (from != primary_of(view) || from == index_ || view < state_.view) return true;
  if (!sync_needed(header->op)) return syncing_blocks();  // The sync's blocks come first.
  // Beyond repair's reach: kept for a sync, unless the one kept is as new (a later checkpoint,
  // or the same one in a view as late).
  if (state_.sync_view == nullptr) return false;
  const auto* kept = state_.sync_view->build<pool::Command::view>()->header;
  return kept->checkpoint_op > header->checkpoint_op ||
         (kept->checkpoint_op == header->checkpoint_op && kept->frame.view >= view);
}

void Replica::on_view(pool::Message* message) {
  if (ignore_view(message)) return;
  const auto* view_header = message->build<Command::view>()->header;
  const uint32_t view = view_header->frame.view;
  POOL_ASSERT_GE(view, state_.view);
  POOL_ASSERT_NE(primary_of(view), index_);  // Its author is that view's primary, not us.
  // As its primary built it (send_view) and the bus validated it.
  POOL_ASSERT_GE(view_header->op, view_header->commit_max);
  POOL_ASSERT_GE(view_header->commit_max, view_header->checkpoint_op);
  if (sync_needed(view_header->op)) {
    sync_maybe(message);
    return;
  }
  POOL_ASSERT(!syncing_blocks());
  if (state_.status == Status::normal && view == state_.view) {
    POOL_ASSERT_EQ(state_.log_view, view);  // Normal in a view: its log is that view's.
    // Our own view: what the primary's log adds (nothing to truncate within one view).
    advance_commit_max(view_header->commit_max);
    install_headers(message->body_used(), view_header->op);
    state_.op = std::max(state_.op, view_header->op);
    repair();
    commit_journal();
    return;
  }
  install_view(message);
}

void Replica::install_view(const pool::Message* message) {
  const auto* view_header = message->build<pool::Command::view>()->header;
  const uint32_t view = view_header->frame.view;
  POOL_ASSERT_EQ(view_header->frame.command, Command::view);
  POOL_ASSERT_GE(view, state_.view);
  POOL_ASSERT_GE(view_header->op, state_.commit_min);
  POOL_ASSERT(!syncing_blocks());  // A sync installs its view once its blocks are in.
  if (state_.status == Status::normal && primary()) primary_pipeline_to_cache();
  // Only a normal primary has queues; the others keep prepares in the cache.
  POOL_ASSERT(state_.pipeline.queues_empty());
  state_.view = view;
  if (view > state_.log_view) {
    // A new view's log: what ours has beyond it was never committed.
    truncate_after(view_header->op);
    install_headers(message->body_used(), view_header->op);
    state_.op = view_header->op;
    head_take(message->body_used());
    verify_chain_from_head();
  } else {
    // Our own view (after a sync): the ops we acknowledged since stay.
    POOL_ASSERT_EQ(view, state_.log_view);
    install_headers(message->body_used(), view_header->op);
    if (view_header->op >= state_.op) {
      state_.op = view_header->op;
      head_take(message->body_used());
    }
  }
  state_.commit_max = std::max(state_.commit_max, view_header->commit_max);
  state_.log_view = view;
  state_.status = Status::normal;
  superblock_view_update();
  release_join_views();
  state_.exit_view_from = 0;
  state_.join_view_sent = state_.log_chosen = false;
  context_.record(TraceKind::view_start, index_, state_.view, state_.op);
  start_normal_timeouts();
  // The primary commits the ops after the commit once a quorum acknowledges them again.
  for (uint64_t op = state_.commit_max + 1; op <= state_.op; op++) send_prepare_ok(op);
  repair();
  commit_journal();
}

// The head of a new log is the header the view or join_view message carries for state_.op. If the
// message carries none (its sender's head was its commit), what we have there is not vouched
// for and goes. The anchor (the old log's) is replaced by the head.
void Replica::head_take(std::span<const uint8_t> body) {
  POOL_ASSERT_EQ(body.size() % pool::header_size, 0u);  // A body of headers.
  POOL_ASSERT_GE(state_.op, state_.commit_min);
  state_.anchor_op = 0;
  for (const pool::PrepareHeader& header : prepare_headers_in(body)) {
    if (header.op == state_.op) {
      state_.anchor_op = state_.op;
      state_.anchor_checksum = header.frame.checksum;
    }
  }
  if (state_.anchor_op == 0 && state_.op > state_.commit_min) journal_.remove_header(state_.op);
  // The head above the commit is the message's, or unknown until repair finds it.
  POOL_ASSERT(state_.anchor_op == state_.op || state_.op == state_.commit_min ||
              journal_.header(state_.op) == nullptr);
}

void Replica::install_headers(std::span<const uint8_t> body, uint64_t op_max) {
  // A body of headers, as many as a message holds (validated, or built by us).
  POOL_ASSERT_EQ(body.size() % pool::header_size, 0u);
  POOL_ASSERT_LE(body.size() / pool::header_size, size_t{headers_per_message(context_.config)});
  for (const pool::PrepareHeader& header : prepare_headers_in(body)) {
    if (header.op <= op_max && header_fits(header.op)) journal_.set_header(header);
  }
}

// A header whose successor names another parent is stale (another view's). A header below a
// gap stays: it may be an op the replica acknowledged; it is committed only once the chain from
// the head reaches it (chained_to_head).
void Replica::verify_chain_from_head() {
  POOL_ASSERT_GE(state_.op, state_.commit_min);
  for (uint64_t op = state_.op; op > state_.commit_min + 1; op--) {
    const pool::PrepareHeader* below = journal_.header(op - 1);
    const pool::PrepareHeader* above = journal_.header(op);
    if (below != nullptr && above != nullptr && above->parent != below->frame.checksum) {
      journal_.remove_header(op - 1);
    }
  }
  // What stays after the commit chains wherever two neighbours are both known.
  for (uint64_t op = state_.op; op > state_.commit_min + 1; op--) {
    const pool::PrepareHeader* below = journal_.header(op - 1);
    const pool::PrepareHeader* above = journal_.header(op);
    POOL_ASSERT(below == nullptr || above == nullptr || above->parent == below->frame.checksum);
  }
}

bool Replica::chained_to_head(uint64_t op) const {
  POOL_ASSERT_GT(op, state_.commit_min);  // An op to commit: the next one (commit_journal).
  for (uint64_t below = op; below < state_.op; below++) {
    const pool::PrepareHeader* header = journal_.header(below);
    POOL_ASSERT(header != nullptr);  // Op's (the caller has it), then each `above` checked.
    if (below == state_.anchor_op && header->frame.checksum == state_.anchor_checksum) return true;
    const pool::PrepareHeader* above = journal_.header(below + 1);
    if (above == nullptr || above->parent != header->frame.checksum) return false;
  }
  return true;
}

void Replica::truncate_after(uint64_t op) {
  POOL_ASSERT_GE(op, state_.commit_min);  // Never an executed op.
  for (uint64_t removed = state_.op; removed > op; removed--) journal_.remove_header(removed);
  if (state_.anchor_op > op) {
    // The anchor named a header that is gone: the new head (if known) takes its place.
    const pool::PrepareHeader* head = journal_.header(op);
    state_.anchor_op = head != nullptr ? op : 0;
    if (head != nullptr) state_.anchor_checksum = head->frame.checksum;
  }
  POOL_ASSERT_LE(state_.anchor_op, op);  // The anchor is within what is left.
}

// --- Recovery.

void Replica::restart() {
  POOL_ASSERT(state_.status == Status::down);
  context_.record(TraceKind::restart, index_, 0, 0);
  bus_.open();
  state_.status = Status::recovering;
  const Superblock superblock = superblock_decode(storage_.superblock_read());
  // As superblock_view_update and checkpoint_adopt wrote it: the checkpoint's own prepare.
  POOL_ASSERT_LE(superblock.log_view, superblock.view);
  POOL_ASSERT_EQ(superblock.checkpoint_header.op, superblock.checkpoint_op);
  POOL_ASSERT(superblock.checkpoint_op == 0 ||
              superblock.checkpoint_header.frame.checksum == superblock.checkpoint_checksum);
  state_.view = superblock.view;
  state_.log_view = superblock.log_view;
  state_.log_view_durable = superblock.log_view;
  state_.op_checkpoint = superblock.checkpoint_op;
  state_.checkpoint_checksum = superblock.checkpoint_checksum;
  state_.commit_min = state_.commit_max = state_.op_checkpoint;
  state_.commit_checksum = state_.checkpoint_checksum;
  state_.clients = superblock.clients;
  state_.clients.resize(context_.shape.client_count);
  grid_.set_current(Checkpoint{state_.op_checkpoint, state_.checkpoint_checksum});
  journal_.recover_headers();
  if (state_.op_checkpoint > 0 && journal_.header(state_.op_checkpoint) == nullptr) {
    journal_.set_header(superblock.checkpoint_header);  // After a sync, the ring may lack it.
  }
  // The log starts from the checkpoint's prepare: a committed op's header never changes.
  POOL_ASSERT(state_.op_checkpoint == 0 ||
              journal_.header(state_.op_checkpoint)->frame.checksum == state_.checkpoint_checksum);
  state_.op = std::max(state_.op_checkpoint, journal_.op_max());
  state_.recovery_slot_next = 0;
  recovery_read_next();
}

void Replica::recovery_read_next() {
  // Also after recovery_done, from a read's callback: then the loop has nothing left to do.
  POOL_ASSERT_NE(state_.status, Status::down);
  // Reads every written slot, up to journal_iops_read_max at once, in slot order: which
  // prepares are on disk.
  const uint32_t slots = storage_.wal_slots_written();
  POOL_ASSERT_LE(slots, journal_.slot_count());
  POOL_ASSERT_LE(state_.recovery_slot_next, slots);
  while (state_.recovery_slot_next < slots) {
    const uint32_t slot = state_.recovery_slot_next;
    const uint64_t incarnation = incarnation_;
    const bool started = journal_.read_slot(slot, [this, incarnation, slot](pool::Message* read) {
      if (!alive(incarnation)) return;
      if (read != nullptr) {
        const pool::PrepareHeader& prepare = *read->build<Command::prepare>()->header;
        // A prepare is written to its op's slot only (the journal checked what, not where).
        POOL_ASSERT_EQ(prepare.op % journal_.slot_count(), slot);
        journal_.slot_observed(prepare);
      }
      // The next read waits for the next event, when this one's message is back in the pool,
      // as the original's recovery frees a read before it issues the next.
      context_.scheduler.schedule_after(0, [this, incarnation] {
        if (alive(incarnation)) recovery_read_next();
      });
    });
    if (!started) return;
    state_.recovery_slot_next += 1;
  }
  if (journal_.reads_in_flight() > 0 || state_.status != Status::recovering) return;
  recovery_done();
}

void Replica::recovery_done() {
  POOL_ASSERT_EQ(state_.status, Status::recovering);
  POOL_ASSERT_EQ(journal_.reads_in_flight(), 0u);  // Every slot read, and each read back.
  // Recovery executes nothing: the commit is still the checkpoint's.
  POOL_ASSERT_EQ(state_.commit_min, state_.op_checkpoint);
  for (uint64_t op = state_.commit_min + 1; op <= state_.op; op++) {
    if (const pool::PrepareHeader* header = journal_.header(op)) {
      state_.commit_max = std::max(state_.commit_max, header->commit);
    }
  }
  state_.commit_max = std::min(state_.commit_max, state_.op);
  // Alone, a replica committed every op up to the first it never wrote: its own write was the
  // quorum. The ops after that gap were never committed, and no one else has them.
  if (context_.shape.replica_count == 1 && !standby()) {
    uint64_t op_contiguous = state_.commit_min;
    while (op_contiguous < state_.op && journal_.prepared(op_contiguous + 1)) op_contiguous++;
    truncate_after(op_contiguous);
    state_.op = state_.commit_max = op_contiguous;
    // A new view: within one view an op is never prepared twice, and the ops just truncated
    // will be, so followers must see a view change (they take the new view's log).
    state_.view += 1;
    state_.log_view = state_.view;
    superblock_view_update();
  }
  if (const pool::PrepareHeader* head = journal_.header(state_.op)) {
    state_.anchor_op = state_.op;
    state_.anchor_checksum = head->frame.checksum;
  }
  context_.record(TraceKind::recovered, index_, state_.op, state_.commit_min);
  timeout(TimeoutKind::ping).start();
  timeout(TimeoutKind::repair).start();
  if (state_.op_checkpoint > 0) {
    grid_.scrub(Checkpoint{state_.op_checkpoint, state_.checkpoint_checksum}, [] {});
  }
  if (standby() || state_.log_view == state_.view) {
    state_.status = Status::normal;
    // A primary that restarts has lost its pipeline: the next view takes over.
    if (primary() && context_.shape.replica_count > 1) {
      transition_to_view_change(state_.view + 1);
      return;
    }
    start_normal_timeouts();
    return;
  }
  enter_view_change(state_.view);  // It crashed during a view change: the change goes on.
}

}  // namespace sim
