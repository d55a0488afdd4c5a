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
  Superblock superblock = superblock_decode(storage_.superblock_read());
  superblock.view = state_.view;
  superblock.log_view = state_.log_view;
  storage_.superblock_write(superblock_encode(superblock));
}

// --- Leaving a view.

void Replica::transition_to_view_change(uint32_t view) {
  POOL_ASSERT(view > state_.view, "r%u: view change to %u from view %u", index_, view, state_.view);
  enter_view_change(view);
}

void Replica::enter_view_change(uint32_t view) {
  POOL_ASSERT(!standby());
  if (state_.status == Status::normal && primary()) primary_pipeline_to_cache();
  context_.record(TraceKind::view_change, index_, view, state_.view);
  state_.view = view;
  state_.status = Status::view_change;
  superblock_view_update();  // Durable before any vote for the view.
  release_join_views();
  state_.exit_view_from = bit(index_);
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
}

// The prepares stay as a cache, as the original's pipeline does; queued requests go.
void Replica::primary_pipeline_to_cache() {
  for (PipelineEntry& entry : state_.pipeline.prepares()) {
    const uint64_t op = entry.prepare->build<Command::prepare>()->header->op;
    pool::Message*& slot = state_.pipeline.cache_slot(op);
    if (slot != nullptr) release(Term::pipeline, slot);
    slot = entry.prepare;  // The pipeline's reference carries over.
  }
  state_.pipeline.prepares_clear();
  for (pool::Message* request : state_.pipeline.requests()) release(Term::pipeline, request);
  state_.pipeline.requests_clear();
  if (state_.loopback_queue != nullptr) release(Term::loopback_queue, state_.loopback_queue);
  state_.loopback_queue = nullptr;
}

void Replica::release_join_views() {
  for (pool::Message*& message : state_.join_view_from_all_replicas) {
    if (message != nullptr) release(Term::join_view_quorum, message);
    message = nullptr;
  }
}

void Replica::send_exit_view() {
  pool::Message* message = acquire(Term::burst);
  header_start<Command::exit_view>(message, static_cast<uint8_t>(index_), state_.view, 0);
  message_seal(message);
  for (uint32_t replica = 0; replica < context_.shape.replica_count; replica++) {
    if (replica != index_) send(replica, message);
  }
  release(Term::burst, message);
}

// An exit_view or join_view from another replica for `view`: false if it is to be ignored (a
// standby or a syncing replica does not vote; an older view is over). A later view is joined.
bool Replica::view_change_message_accepted(uint32_t from, uint32_t view) {
  if (from >= context_.shape.replica_count || from == index_ || standby() || syncing_blocks())
    return false;
  if (view < state_.view) return false;
  if (view > state_.view) transition_to_view_change(view);
  return true;
}

void Replica::on_exit_view(uint32_t from, pool::Message* message) {
  if (!view_change_message_accepted(from, message->header->frame.view)) return;
  if (state_.status != Status::view_change) return;  // The view has started.
  state_.exit_view_from |= bit(from);
  maybe_send_join_view();
}

pool::Message* Replica::build_join_view(Term term) {
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
  pool::Message* message = acquire(term);
  auto* header =
      header_start<Command::join_view>(message, static_cast<uint8_t>(index_), state_.view,
                                       static_cast<uint32_t>(headers.size() * pool::header_size));
  header->op = op_head;
  // Not commit_min as the replica executed it but what it knows committed within its log
  // (commit_max, capped by the head): the new primary's commit; the bitsets start after it.
  header->commit_min = std::max(state_.commit_min, std::min(state_.commit_max, op_head));
  header->checkpoint_op = state_.op_checkpoint;
  header->log_view = state_.log_view;
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
  state_.join_view_sent = true;
  if (primary()) {
    // The new primary keeps its own join_view with the others'.
    pool::Message*& own = state_.join_view_from_all_replicas[index_];
    if (own != nullptr) release(Term::join_view_quorum, own);
    own = build_join_view(Term::join_view_quorum);
    primary_join_view_quorum_check();
    return;
  }
  pool::Message* message = build_join_view(Term::burst);
  send(primary_index(), message);
  release(Term::burst, message);
}

void Replica::on_join_view(uint32_t from, pool::Message* message) {
  if (!view_change_message_accepted(from, message->header->frame.view)) return;
  if (!primary()) return;
  if (state_.status == Status::normal) {
    send_view(from);  // The view began without it.
    return;
  }
  pool::Message*& slot = state_.join_view_from_all_replicas[from];
  if (slot != nullptr) release(Term::join_view_quorum, slot);
  slot = census_.hold(Term::join_view_quorum, message);
  if (state_.log_chosen) primary_truncate_nacked();
  primary_join_view_quorum_check();
}

void Replica::primary_join_view_quorum_check() {
  if (state_.log_chosen || state_.status != Status::view_change || !primary()) return;
  if (state_.join_view_from_all_replicas[index_] == nullptr) return;
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
  const pool::JoinViewHeader* best = nullptr;
  const pool::Message* best_message = nullptr;
  uint64_t commit = state_.commit_max;
  for (const pool::Message* message : state_.join_view_from_all_replicas) {
    if (message == nullptr) continue;
    const auto* header = reinterpret_cast<const pool::JoinViewHeader*>(message->header);
    commit = std::max(commit, header->commit_min);
    if (best == nullptr || header->log_view > best->log_view ||
        (header->log_view == best->log_view && header->op > best->op)) {
      best = header;
      best_message = message;
    }
  }
  POOL_ASSERT(best != nullptr);
  POOL_ASSERT_GE(best->op, state_.commit_min);
  truncate_after(best->op);
  for (const pool::Message* message : state_.join_view_from_all_replicas) {
    if (message == nullptr) continue;
    const auto* header = reinterpret_cast<const pool::JoinViewHeader*>(message->header);
    if (header->log_view == best->log_view) install_headers(message->body_used(), best->op);
  }
  state_.op = best->op;
  head_take(best_message->body_used());
  state_.commit_max = std::max(state_.commit_max, std::min(commit, state_.op));
  verify_chain_from_head();
  primary_truncate_nacked();
  state_.log_chosen = true;
  context_.record(TraceKind::view_log_chosen, index_, state_.op, state_.commit_max);
  POOL_ASSERT(state_.op - state_.commit_max <= pipeline_prepare_queue_max_,
              "r%u view %u: %llu uncommitted ops exceed the pipeline", index_, state_.view,
              static_cast<unsigned long long>(state_.op - state_.commit_max));
}

// An op that a nack quorum never wrote was never committed: it goes, with all after it. Checked
// again as late join_views arrive.
void Replica::primary_truncate_nacked() {
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
  const pool::PrepareHeader* ours = journal_.header(op);
  uint32_t count = 0;
  for (const pool::Message* message : state_.join_view_from_all_replicas) {
    if (message == nullptr) continue;
    const auto* header = reinterpret_cast<const pool::JoinViewHeader*>(message->header);
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
  if (state_.commit_stage != CommitStage::idle || state_.commit_prepare != nullptr) return;
  primary_start_view();
}

void Replica::primary_start_view() {
  // The pipeline: every op after the commit, from the cache or read back from the journal.
  for (pool::Message*& prepare : state_.pipeline.cache()) {
    if (prepare == nullptr) continue;
    const auto* header = prepare->build<Command::prepare>()->header;
    const pool::PrepareHeader* known = journal_.header(header->op);
    if (header->op <= state_.commit_max || header->op > state_.op || known == nullptr ||
        known->frame.checksum != header->frame.checksum) {
      release(Term::pipeline, prepare);
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
          state_.pipeline_reads_in_flight -= 1;
          context_.record(TraceKind::journal_read, index_, op, read == nullptr);
          if (view != state_.view || state_.status != Status::view_change) return;
          if (read == nullptr) {
            journal_.mark_faulty(op);
            return;
          }
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
  pool::Message* message = acquire(Term::burst);
  auto* header =
      header_start<Command::view>(message, static_cast<uint8_t>(index_), state_.view,
                                  static_cast<uint32_t>(headers.size() * pool::header_size));
  header->nonce = pool::U128{context_.now_tick() + 1, 0};
  header->op = state_.op;
  header->commit_max = state_.commit_max;
  header->checkpoint_op = state_.op_checkpoint;
  for (size_t i = 0; i < headers.size(); i++) {
    std::memcpy(message->body_used().data() + i * pool::header_size, headers[i], pool::header_size);
  }
  message_seal(message);
  send(to, message);
  release(Term::burst, message);
}

void Replica::on_get_view(uint32_t from, pool::Message* message) {
  (void)message;
  if (from >= context_.shape.member_count || from == index_) return;
  if (state_.status == Status::normal && primary() && !syncing_blocks()) send_view(from);
}

void Replica::request_view(uint32_t view) {
  if (timeout(TimeoutKind::request_view).ticking && view <= state_.view_requested) return;
  const uint32_t to = primary_of(view);
  if (to == index_) return;
  state_.view_requested = view;
  timeout(TimeoutKind::request_view).start();
  pool::Message* message = acquire(Term::burst);
  auto* header = header_start<Command::get_view>(message, static_cast<uint8_t>(index_), view, 0);
  header->nonce = pool::U128{context_.now_tick() + 1, index_};
  message_seal(message);
  send(to, message);
  release(Term::burst, message);
}

void Replica::on_view_ahead(uint32_t view) {
  if (state_.status == Status::down || state_.status == Status::recovering) return;
  request_view(view);
}

void Replica::on_view(pool::Message* message) {
  const auto* view_header = message->build<Command::view>()->header;
  const uint32_t view = view_header->frame.view;
  const uint32_t from = view_header->frame.replica;
  if (from != primary_of(view) || from == index_ || view < state_.view) return;
  if (state_.status == Status::normal && view == state_.view && primary()) return;
  if (sync_needed(view_header->op)) {
    sync_maybe(message);
    return;
  }
  if (syncing_blocks()) return;
  if (state_.status == Status::normal && view == state_.view) {
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
  const auto* view_header = reinterpret_cast<const pool::ViewHeader*>(message->header);
  const uint32_t view = view_header->frame.view;
  POOL_ASSERT_GE(view, state_.view);
  POOL_ASSERT_GE(view_header->op, state_.commit_min);
  if (state_.status == Status::normal && primary()) primary_pipeline_to_cache();
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
  state_.anchor_op = 0;
  for (const pool::PrepareHeader& header : prepare_headers_in(body)) {
    if (header.op == state_.op) {
      state_.anchor_op = state_.op;
      state_.anchor_checksum = header.frame.checksum;
    }
  }
  if (state_.anchor_op == 0 && state_.op > state_.commit_min) journal_.remove_header(state_.op);
}

void Replica::install_headers(std::span<const uint8_t> body, uint64_t op_max) {
  for (const pool::PrepareHeader& header : prepare_headers_in(body)) {
    if (header.op <= op_max && header_fits(header.op)) journal_.set_header(header);
  }
}

// A header whose successor names another parent is stale (another view's). A header below a
// gap stays: it may be an op the replica acknowledged; it is committed only once the chain from
// the head reaches it (chained_to_head).
void Replica::verify_chain_from_head() {
  for (uint64_t op = state_.op; op > state_.commit_min + 1; op--) {
    const pool::PrepareHeader* below = journal_.header(op - 1);
    const pool::PrepareHeader* above = journal_.header(op);
    if (below != nullptr && above != nullptr && above->parent != below->frame.checksum) {
      journal_.remove_header(op - 1);
    }
  }
}

bool Replica::chained_to_head(uint64_t op) const {
  for (uint64_t below = op; below < state_.op; below++) {
    const pool::PrepareHeader* header = journal_.header(below);
    if (below == state_.anchor_op && header->frame.checksum == state_.anchor_checksum) return true;
    const pool::PrepareHeader* above = journal_.header(below + 1);
    if (above == nullptr || above->parent != header->frame.checksum) return false;
  }
  return true;
}

void Replica::truncate_after(uint64_t op) {
  for (uint64_t removed = state_.op; removed > op; removed--) journal_.remove_header(removed);
  if (state_.anchor_op > op) {
    // The anchor named a header that is gone: the new head (if known) takes its place.
    const pool::PrepareHeader* head = journal_.header(op);
    state_.anchor_op = head != nullptr ? op : 0;
    if (head != nullptr) state_.anchor_checksum = head->frame.checksum;
  }
}

// --- Recovery.

void Replica::restart() {
  POOL_ASSERT(state_.status == Status::down);
  context_.record(TraceKind::restart, index_, 0, 0);
  bus_.open();
  state_.status = Status::recovering;
  const Superblock superblock = superblock_decode(storage_.superblock_read());
  state_.view = superblock.view;
  state_.log_view = superblock.log_view;
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
  state_.op = std::max(state_.op_checkpoint, journal_.op_max());
  state_.recovery_slot_next = 0;
  recovery_read_next();
}

void Replica::recovery_read_next() {
  // Reads every written slot, up to journal_iops_read_max at once, in slot order: which
  // prepares are on disk.
  const uint32_t slots = storage_.wal_slots_written();
  while (state_.recovery_slot_next < slots) {
    const uint32_t slot = state_.recovery_slot_next;
    const uint64_t incarnation = incarnation_;
    const bool started = journal_.read_slot(slot, [this, incarnation](pool::Message* read) {
      if (!alive(incarnation)) return;
      if (read != nullptr) journal_.slot_observed(*read->build<Command::prepare>()->header);
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
