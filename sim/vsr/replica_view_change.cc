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
  ping_timeout_.start();
  repair_timeout_.start();
  view_change_status_timeout_.stop();
  view_change_message_timeout_.stop();
  if (primary()) {
    commit_message_timeout_.start();
    normal_heartbeat_timeout_.stop();
    if (!prepare_queue_.empty()) prepare_timeout_.start();
  } else {
    commit_message_timeout_.stop();
    prepare_timeout_.stop();
    normal_heartbeat_timeout_.start();
    normal_heartbeat_timeout_.after_ticks += prng_.below(normal_heartbeat_timeout_.after_ticks);
  }
}

void Replica::superblock_view_update() {
  Superblock superblock = superblock_decode(storage_.superblock_read());
  superblock.view = view_;
  superblock.log_view = log_view_;
  storage_.superblock_write(superblock_encode(superblock));
}

// --- Leaving a view.

void Replica::transition_to_view_change(uint32_t view) {
  POOL_ASSERT(view > view_, "r%u: view change to %u from view %u", index_, view, view_);
  enter_view_change(view);
}

void Replica::enter_view_change(uint32_t view) {
  POOL_ASSERT(!standby());
  if (status_ == Status::normal && primary()) primary_pipeline_to_cache();
  context_.record(TraceKind::view_change, index_, view, view_);
  view_ = view;
  status_ = Status::view_change;
  superblock_view_update();  // Durable before any vote for the view.
  release_join_views();
  exit_view_from_ = bit(index_);
  join_view_sent_ = false;
  log_chosen_ = false;
  normal_heartbeat_timeout_.stop();
  commit_message_timeout_.stop();
  prepare_timeout_.stop();
  view_change_status_timeout_.start();
  view_change_status_timeout_.after_ticks += prng_.below(view_change_status_timeout_.after_ticks);
  view_change_message_timeout_.start();
  send_exit_view();
  maybe_send_join_view();
}

// The prepares stay as a cache, as the original's pipeline does; queued requests go.
void Replica::primary_pipeline_to_cache() {
  for (PipelineEntry& entry : prepare_queue_) {
    const uint64_t op = entry.prepare->build<Command::prepare>()->header->op;
    pool::Message*& slot = cache_[op % cache_.size()];
    if (slot != nullptr) release(Term::pipeline, slot);
    slot = entry.prepare;  // The pipeline's reference carries over.
  }
  prepare_queue_.clear();
  for (pool::Message* request : request_queue_) release(Term::pipeline, request);
  request_queue_.clear();
  if (loopback_queue_ != nullptr) release(Term::loopback_queue, loopback_queue_);
  loopback_queue_ = nullptr;
}

void Replica::release_join_views() {
  for (pool::Message*& message : join_view_from_all_replicas_) {
    if (message != nullptr) release(Term::join_view_quorum, message);
    message = nullptr;
  }
}

void Replica::send_exit_view() {
  pool::Message* message = acquire(Term::burst);
  header_start<Command::exit_view>(message, static_cast<uint8_t>(index_), view_, 0);
  message_seal(message);
  for (uint32_t replica = 0; replica < context_.shape.replica_count; replica++) {
    if (replica != index_) send(replica, message);
  }
  release(Term::burst, message);
}

// An exit_view or join_view from another replica for `view`: false if it is to be ignored (a
// standby or a syncing replica does not vote; an older view is over). A later view is joined.
bool Replica::view_change_message_accepted(uint32_t from, uint32_t view) {
  if (from >= context_.shape.replica_count || from == index_ || standby() || syncing_) return false;
  if (view < view_) return false;
  if (view > view_) transition_to_view_change(view);
  return true;
}

void Replica::on_exit_view(uint32_t from, pool::Message* message) {
  if (!view_change_message_accepted(from, message->header->frame.view)) return;
  if (status_ != Status::view_change) return;  // The view has started.
  exit_view_from_ |= bit(from);
  maybe_send_join_view();
}

pool::Message* Replica::build_join_view(Term term) {
  // The head: the highest op whose header the replica has (an op it never had the header of,
  // it never acknowledged).
  uint64_t op_head = op_;
  while (op_head > commit_min_ && journal_.header(op_head) == nullptr) op_head--;
  // The head's header always (the new primary takes the head from it), then the chain below
  // as far as it holds after the commit: the new primary installs these.
  std::vector<const pool::PrepareHeader*> headers;
  if (const pool::PrepareHeader* head = journal_.header(op_head)) headers.push_back(head);
  for (uint64_t op = op_head - 1; !headers.empty() && op > commit_min_ &&
                                  headers.size() < headers_per_message(context_.config);
       op--) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (header == nullptr || headers.back()->parent != header->frame.checksum) break;
    headers.push_back(header);
  }
  pool::Message* message = acquire(term);
  auto* header =
      header_start<Command::join_view>(message, static_cast<uint8_t>(index_), view_,
                                       static_cast<uint32_t>(headers.size() * pool::header_size));
  header->op = op_head;
  // Not commit_min as the replica executed it but what it knows committed within its log
  // (commit_max, capped by the head): the new primary's commit; the bitsets start after it.
  header->commit_min = std::max(commit_min_, std::min(commit_max_, op_head));
  header->checkpoint_op = op_checkpoint_;
  header->log_view = log_view_;
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
  if (status_ != Status::view_change || join_view_sent_) return;
  if (static_cast<uint32_t>(std::popcount(exit_view_from_)) < quorum_view_change()) return;
  join_view_sent_ = true;
  if (primary()) {
    // The new primary keeps its own join_view with the others'.
    pool::Message*& own = join_view_from_all_replicas_[index_];
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
  if (status_ == Status::normal) {
    send_view(from);  // The view began without it.
    return;
  }
  pool::Message*& slot = join_view_from_all_replicas_[from];
  if (slot != nullptr) release(Term::join_view_quorum, slot);
  slot = census_.hold(Term::join_view_quorum, message);
  if (log_chosen_) primary_truncate_nacked();
  primary_join_view_quorum_check();
}

void Replica::primary_join_view_quorum_check() {
  if (log_chosen_ || status_ != Status::view_change || !primary()) return;
  if (join_view_from_all_replicas_[index_] == nullptr) return;
  const auto count = static_cast<uint32_t>(
      std::count_if(join_view_from_all_replicas_.begin(), join_view_from_all_replicas_.end(),
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
  uint64_t commit = commit_max_;
  for (const pool::Message* message : join_view_from_all_replicas_) {
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
  POOL_ASSERT_GE(best->op, commit_min_);
  truncate_after(best->op);
  for (const pool::Message* message : join_view_from_all_replicas_) {
    if (message == nullptr) continue;
    const auto* header = reinterpret_cast<const pool::JoinViewHeader*>(message->header);
    if (header->log_view == best->log_view) install_headers(message->body_used(), best->op);
  }
  op_ = best->op;
  head_take(best_message->body_used());
  commit_max_ = std::max(commit_max_, std::min(commit, op_));
  verify_chain_from_head();
  primary_truncate_nacked();
  log_chosen_ = true;
  context_.record(TraceKind::view_log_chosen, index_, op_, commit_max_);
  POOL_ASSERT(op_ - commit_max_ <= pipeline_prepare_queue_max_,
              "r%u view %u: %llu uncommitted ops exceed the pipeline", index_, view_,
              static_cast<unsigned long long>(op_ - commit_max_));
}

// An op that a nack quorum never wrote was never committed: it goes, with all after it. Checked
// again as late join_views arrive.
void Replica::primary_truncate_nacked() {
  for (uint64_t op = commit_max_ + 1; op <= op_; op++) {
    if (nacks(op) >= context_.shape.replica_count - quorum_replication() + 1) {
      context_.record(TraceKind::view_truncate, index_, op, op_);
      truncate_after(op - 1);
      op_ = op - 1;
      return;
    }
  }
}

uint32_t Replica::nacks(uint64_t op) const {
  const pool::PrepareHeader* ours = journal_.header(op);
  uint32_t count = 0;
  for (const pool::Message* message : join_view_from_all_replicas_) {
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
  if (status_ != Status::view_change || !primary() || !log_chosen_ || syncing_) return;
  // Every op after the commit on disk, and linked to the head by the hash chain.
  for (uint64_t op = commit_min_ + 1; op <= op_; op++) {
    const pool::PrepareHeader* above = journal_.header(op + 1);
    const bool linked = op == op_ || (above != nullptr && journal_.header(op) != nullptr &&
                                      above->parent == journal_.header(op)->frame.checksum);
    if (!journal_.prepared(op) || !linked) {
      repair();
      return;
    }
  }
  if (commit_min_ < commit_max_) {
    commit_journal();
    return;
  }
  if (committing_ || commit_reading_ || commit_prepare_ != nullptr) return;
  primary_start_view();
}

void Replica::primary_start_view() {
  // The pipeline: every op after the commit, from the cache or read back from the journal.
  for (pool::Message*& prepare : cache_) {
    if (prepare == nullptr) continue;
    const auto* header = prepare->build<Command::prepare>()->header;
    const pool::PrepareHeader* known = journal_.header(header->op);
    if (header->op <= commit_max_ || header->op > op_ || known == nullptr ||
        known->frame.checksum != header->frame.checksum) {
      release(Term::pipeline, prepare);
      prepare = nullptr;
    }
  }
  bool complete = true;
  for (uint64_t op = commit_max_ + 1; op <= op_; op++) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (cached(op, header->frame.checksum) != nullptr) continue;
    complete = false;
    if (pipeline_reads_in_flight_ > 0) continue;  // One read at a time, as the original.
    const uint64_t incarnation = incarnation_;
    const uint32_t view = view_;
    const bool started = journal_.read_prepare(
        op, header->frame.checksum, Journal::ReadPurpose::commit,
        [this, incarnation, view, op](pool::Message* read) {
          if (!alive(incarnation)) return;
          pipeline_reads_in_flight_ -= 1;
          context_.record(TraceKind::journal_read, index_, op, read == nullptr);
          if (view != view_ || status_ != Status::view_change) return;
          if (read == nullptr) {
            journal_.mark_faulty(op);
            return;
          }
          cache_prepare(read);
        });
    if (started) pipeline_reads_in_flight_ += 1;
  }
  if (!complete) return;

  for (uint64_t op = commit_max_ + 1; op <= op_; op++) {
    pool::Message*& slot = cache_[op % cache_.size()];
    prepare_queue_.push_back(PipelineEntry{slot, bit(index_), false});  // Our write is done.
    slot = nullptr;
  }
  status_ = Status::normal;
  log_view_ = view_;
  superblock_view_update();
  release_join_views();
  exit_view_from_ = 0;
  log_chosen_ = false;
  context_.record(TraceKind::view_start, index_, view_, op_);
  start_normal_timeouts();
  for (uint32_t member = 0; member < context_.shape.member_count; member++) {
    if (member != index_) send_view(member);
  }
  if (quorum_replication() == 1) {
    for (PipelineEntry& entry : prepare_queue_) entry.ok_quorum_received = true;
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
  for (uint64_t op = op_; op > 0 && headers.size() < chain_max; op--) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (header == nullptr) break;  // Contiguous from the head: the receiver chains them.
    if (!headers.empty() && headers.back()->parent != header->frame.checksum) break;
    headers.push_back(header);
    if (op <= op_checkpoint_) break;
  }
  const pool::PrepareHeader* checkpoint = journal_.header(op_checkpoint_);
  if (op_checkpoint_ > 0 && checkpoint != nullptr &&
      (headers.empty() || headers.back()->op > op_checkpoint_)) {
    headers.push_back(checkpoint);
  }
  pool::Message* message = acquire(Term::burst);
  auto* header =
      header_start<Command::view>(message, static_cast<uint8_t>(index_), view_,
                                  static_cast<uint32_t>(headers.size() * pool::header_size));
  header->nonce = pool::U128{context_.now_tick() + 1, 0};
  header->op = op_;
  header->commit_max = commit_max_;
  header->checkpoint_op = op_checkpoint_;
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
  if (status_ == Status::normal && primary() && !syncing_) send_view(from);
}

void Replica::request_view(uint32_t view) {
  if (request_view_timeout_.ticking && view <= view_requested_) return;
  const uint32_t to = primary_of(view);
  if (to == index_) return;
  view_requested_ = view;
  request_view_timeout_.start();
  pool::Message* message = acquire(Term::burst);
  auto* header = header_start<Command::get_view>(message, static_cast<uint8_t>(index_), view, 0);
  header->nonce = pool::U128{context_.now_tick() + 1, index_};
  message_seal(message);
  send(to, message);
  release(Term::burst, message);
}

void Replica::on_view_ahead(uint32_t view) {
  if (status_ == Status::down || status_ == Status::recovering) return;
  request_view(view);
}

void Replica::on_view(pool::Message* message) {
  const auto* view_header = message->build<Command::view>()->header;
  const uint32_t view = view_header->frame.view;
  const uint32_t from = view_header->frame.replica;
  if (from != primary_of(view) || from == index_ || view < view_) return;
  if (status_ == Status::normal && view == view_ && primary()) return;
  if (sync_needed(view_header->op)) {
    sync_maybe(message);
    return;
  }
  if (syncing_) return;
  if (status_ == Status::normal && view == view_) {
    // Our own view: what the primary's log adds (nothing to truncate within one view).
    advance_commit_max(view_header->commit_max);
    install_headers(message->body_used(), view_header->op);
    op_ = std::max(op_, view_header->op);
    repair();
    commit_journal();
    return;
  }
  install_view(message);
}

void Replica::install_view(const pool::Message* message) {
  const auto* view_header = reinterpret_cast<const pool::ViewHeader*>(message->header);
  const uint32_t view = view_header->frame.view;
  POOL_ASSERT_GE(view, view_);
  POOL_ASSERT_GE(view_header->op, commit_min_);
  if (status_ == Status::normal && primary()) primary_pipeline_to_cache();
  view_ = view;
  if (view > log_view_) {
    // A new view's log: what ours has beyond it was never committed.
    truncate_after(view_header->op);
    install_headers(message->body_used(), view_header->op);
    op_ = view_header->op;
    head_take(message->body_used());
    verify_chain_from_head();
  } else {
    // Our own view (after a sync): the ops we acknowledged since stay.
    install_headers(message->body_used(), view_header->op);
    if (view_header->op >= op_) {
      op_ = view_header->op;
      head_take(message->body_used());
    }
  }
  commit_max_ = std::max(commit_max_, view_header->commit_max);
  log_view_ = view;
  status_ = Status::normal;
  superblock_view_update();
  release_join_views();
  exit_view_from_ = 0;
  join_view_sent_ = log_chosen_ = false;
  context_.record(TraceKind::view_start, index_, view_, op_);
  start_normal_timeouts();
  // The primary commits the ops after the commit once a quorum acknowledges them again.
  for (uint64_t op = commit_max_ + 1; op <= op_; op++) send_prepare_ok(op);
  repair();
  commit_journal();
}

// The head of a new log is the header the view or join_view message carries for op_. If the
// message carries none (its sender's head was its commit), what we have there is not vouched
// for and goes. The anchor (the old log's) is replaced by the head.
void Replica::head_take(std::span<const uint8_t> body) {
  anchor_op_ = 0;
  for (const pool::PrepareHeader& header : prepare_headers_in(body)) {
    if (header.op == op_) {
      anchor_op_ = op_;
      anchor_checksum_ = header.frame.checksum;
    }
  }
  if (anchor_op_ == 0 && op_ > commit_min_) journal_.remove_header(op_);
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
  for (uint64_t op = op_; op > commit_min_ + 1; op--) {
    const pool::PrepareHeader* below = journal_.header(op - 1);
    const pool::PrepareHeader* above = journal_.header(op);
    if (below != nullptr && above != nullptr && above->parent != below->frame.checksum) {
      journal_.remove_header(op - 1);
    }
  }
}

bool Replica::chained_to_head(uint64_t op) const {
  for (uint64_t below = op; below < op_; below++) {
    const pool::PrepareHeader* header = journal_.header(below);
    if (below == anchor_op_ && header->frame.checksum == anchor_checksum_) return true;
    const pool::PrepareHeader* above = journal_.header(below + 1);
    if (above == nullptr || above->parent != header->frame.checksum) return false;
  }
  return true;
}

void Replica::truncate_after(uint64_t op) {
  for (uint64_t removed = op_; removed > op; removed--) journal_.remove_header(removed);
  if (anchor_op_ > op) {
    // The anchor named a header that is gone: the new head (if known) takes its place.
    const pool::PrepareHeader* head = journal_.header(op);
    anchor_op_ = head != nullptr ? op : 0;
    if (head != nullptr) anchor_checksum_ = head->frame.checksum;
  }
}

// --- Recovery.

void Replica::restart() {
  POOL_ASSERT(status_ == Status::down);
  context_.record(TraceKind::restart, index_, 0, 0);
  bus_.open();
  status_ = Status::recovering;
  const Superblock superblock = superblock_decode(storage_.superblock_read());
  view_ = superblock.view;
  log_view_ = superblock.log_view;
  op_checkpoint_ = superblock.checkpoint_op;
  checkpoint_checksum_ = superblock.checkpoint_checksum;
  commit_min_ = commit_max_ = op_checkpoint_;
  commit_checksum_ = checkpoint_checksum_;
  clients_ = superblock.clients;
  clients_.resize(context_.shape.client_count);
  grid_.set_current(Checkpoint{op_checkpoint_, checkpoint_checksum_});
  journal_.recover_headers();
  if (op_checkpoint_ > 0 && journal_.header(op_checkpoint_) == nullptr) {
    journal_.set_header(superblock.checkpoint_header);  // After a sync, the ring may lack it.
  }
  op_ = std::max(op_checkpoint_, journal_.op_max());
  recovery_slot_next_ = 0;
  recovery_read_next();
}

void Replica::recovery_read_next() {
  // Reads every written slot, up to journal_iops_read_max at once, in slot order: which
  // prepares are on disk.
  const uint32_t slots = storage_.wal_slots_written();
  while (recovery_slot_next_ < slots) {
    const uint32_t slot = recovery_slot_next_;
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
    recovery_slot_next_ += 1;
  }
  if (journal_.reads_in_flight() > 0 || status_ != Status::recovering) return;
  recovery_done();
}

void Replica::recovery_done() {
  for (uint64_t op = commit_min_ + 1; op <= op_; op++) {
    if (const pool::PrepareHeader* header = journal_.header(op)) {
      commit_max_ = std::max(commit_max_, header->commit);
    }
  }
  commit_max_ = std::min(commit_max_, op_);
  // Alone, a replica committed every op up to the first it never wrote: its own write was the
  // quorum. The ops after that gap were never committed, and no one else has them.
  if (context_.shape.replica_count == 1 && !standby()) {
    uint64_t op_contiguous = commit_min_;
    while (op_contiguous < op_ && journal_.prepared(op_contiguous + 1)) op_contiguous++;
    truncate_after(op_contiguous);
    op_ = commit_max_ = op_contiguous;
    // A new view: within one view an op is never prepared twice, and the ops just truncated
    // will be, so followers must see a view change (they take the new view's log).
    view_ += 1;
    log_view_ = view_;
    superblock_view_update();
  }
  if (const pool::PrepareHeader* head = journal_.header(op_)) {
    anchor_op_ = op_;
    anchor_checksum_ = head->frame.checksum;
  }
  context_.record(TraceKind::recovered, index_, op_, commit_min_);
  ping_timeout_.start();
  repair_timeout_.start();
  if (op_checkpoint_ > 0) {
    grid_.scrub(Checkpoint{op_checkpoint_, checkpoint_checksum_}, [] {});
  }
  if (standby() || log_view_ == view_) {
    status_ = Status::normal;
    // A primary that restarts has lost its pipeline: the next view takes over.
    if (primary() && context_.shape.replica_count > 1) {
      transition_to_view_change(view_ + 1);
      return;
    }
    start_normal_timeouts();
    return;
  }
  enter_view_change(view_);  // It crashed during a view change: the change goes on.
}

}  // namespace sim
