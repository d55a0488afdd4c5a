#include "sim/vsr/replica.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "sim/vsr/wire.h"

namespace sim {

using pool::Command;
using pool::Term;

namespace {
// Repair requests to one peer in flight at once, and how long one may go unanswered.
constexpr uint32_t repairs_per_replica_max = 2;
constexpr uint64_t repair_expiry_ticks = 50;
}  // namespace

const char* replica_status_name(Replica::Status status) {
  POOL_ASSERT_LE(static_cast<uint8_t>(status), static_cast<uint8_t>(Replica::Status::view_change));
  switch (status) {
    case Replica::Status::down:
      return "down";
    case Replica::Status::recovering:
      return "recovering";
    case Replica::Status::normal:
      return "normal";
    case Replica::Status::view_change:
      return "view_change";
  }
  return "unknown";
}

std::array<Timeout, replica_timeout_count> Replica::timeouts_initial() {
  std::array<Timeout, replica_timeout_count> timeouts{};
  const auto set = [&timeouts](TimeoutKind kind, uint64_t after_ticks) {
    POOL_ASSERT_LT(static_cast<size_t>(kind), replica_timeout_count);
    timeouts[static_cast<size_t>(kind)] = Timeout{after_ticks};
  };
  set(TimeoutKind::ping, 100);
  set(TimeoutKind::prepare, 25);
  set(TimeoutKind::normal_heartbeat, 300);    // Backups: no word from the primary.
  set(TimeoutKind::view_change_status, 400);  // The view change takes too long: the next view.
  set(TimeoutKind::commit_message, 50);
  set(TimeoutKind::repair, 10);
  set(TimeoutKind::view_change_message, 50);  // Resend exit_view and join_view.
  set(TimeoutKind::request_view, 50);         // At most one get_view per period.
  for (const Timeout& timeout : timeouts) {
    POOL_ASSERT_GT(timeout.after_ticks_base, 0u);  // Every kind has its base.
  }
  return timeouts;
}

Replica::Replica(const ProcessContext& context, const ReplicaOptions& options, uint32_t index,
                 pool::MessagePool& pool, Census& census, Storage& storage)
    : context_(context),
      index_(index),
      pool_(pool),
      census_(census),
      storage_(storage),
      prng_(prng_for(context.seed, PrngStream::replica_base, index)),
      bus_(MessageBus::Shape{context.bus, index, false, context_.shape.member_count,
                             context_.shape.replica_count,
                             context.config.pipeline_prepare_queue_max +
                                 static_cast<uint32_t>(options.pipeline_requests_limit),
                             context.config.connection_send_queue_max_replica(), context.seed},
           pool, census, context.network, context.scheduler),
      journal_(storage, pool, census, context.config),
      client_replies_(storage, pool, census, context.config),
      pipeline_prepare_queue_max_(context.config.pipeline_prepare_queue_max),
      pipeline_requests_limit_(static_cast<uint32_t>(options.pipeline_requests_limit)),
      checkpoint_interval_ops_(options.checkpoint_interval_ops),
      grid_(storage, pool, census, context.config, options.checkpoint_interval_ops,
            static_cast<uint32_t>(options.checkpoint_block_count), context_.shape.client_count),
      state_(volatile_state()) {
  POOL_ASSERT_LT(index, context_.shape.member_count);
  // Replicas first, then standbys; the bitsets of replicas (ok_from, exit_view_from) are 64-bit.
  POOL_ASSERT(context_.shape.replica_count > 0 &&
              context_.shape.replica_count <= context_.shape.member_count);
  POOL_ASSERT_LE(context_.shape.replica_count, context_.config.replicas_max);
  POOL_ASSERT_LE(context_.shape.member_count, context_.config.members_max());
  POOL_ASSERT_GE(checkpoint_interval_ops_, 2u * pipeline_prepare_queue_max_);
  // op_prepare_max: a prepare overwrites only a slot whose op the checkpoint covers.
  POOL_ASSERT_GE(uint64_t{journal_.slot_count()},
                 checkpoint_interval_ops_ + pipeline_prepare_queue_max_);
  bus_.set_on_message([this](uint32_t from, pool::Message* message) { on_message(from, message); });
  bus_.set_suspend(
      [this](uint32_t, const pool::Header& header) { return suspend_message(header); });
}

Replica::~Replica() {
  if (state_.status != Status::down) crash();
}

uint32_t Replica::quorum_replication() const {
  const uint32_t count = context_.shape.replica_count;
  const uint32_t quorum = count == 2 ? 2 : std::min<uint32_t>(3, (count + 1) / 2);
  POOL_ASSERT(quorum >= 1 && quorum <= count, "quorum %u of %u replicas", quorum, count);
  return quorum;
}

// Every view-change quorum meets every replication quorum, and is a majority.
uint32_t Replica::quorum_view_change() const {
  const uint32_t count = context_.shape.replica_count;
  const uint32_t replication = quorum_replication();
  const uint32_t quorum = std::max(count - replication + 1, count / 2 + 1);
  POOL_ASSERT_LE(quorum, count);  // Reachable with every replica up.
  POOL_ASSERT_GT(quorum + replication, count);
  return quorum;
}

// The WAL is two checkpoint intervals: an op may be prepared up to a pipeline past the next
// checkpoint's trigger, so a slot is overwritten only once its op is checkpointed, and every
// replica keeps the ops from a pipeline past its previous checkpoint on.
uint64_t Replica::op_prepare_max() const {
  return state_.op_checkpoint + checkpoint_interval_ops_ + pipeline_prepare_queue_max_;
}

// Op's header may take its slot in the ring: the op there before it is committed, and is not
// commit_min itself (whose header heads a log that has nothing after the commit).
bool Replica::header_fits(uint64_t op) const {
  return op > state_.commit_min && op < state_.commit_min + journal_.slot_count();
}

// A peer's checkpoint so far ahead that the WALs may no longer hold the ops after our commit:
// time to ask the primary for its view message, which tells (sync_needed).
bool Replica::behind_checkpoint(uint64_t checkpoint_op) const {
  POOL_ASSERT_EQ(checkpoint_op % checkpoint_interval_ops_, 0u);  // Every replica's interval.
  const bool behind = state_.commit_min + checkpoint_interval_ops_ <
                      checkpoint_op + pipeline_prepare_queue_max_ + 1;
  // An interval is at least two pipelines: a checkpoint we are behind is past our commit.
  POOL_ASSERT(!behind || checkpoint_op > state_.commit_min);
  return behind;
}

// The primary's WAL holds the ops (op − slot_count, op]: if the op after our commit is older,
// no peer can be relied on to repair it, and only a sync catches up. (Its checkpoint is then
// past our commit: the primary prepares at most an interval and a pipeline past it.)
bool Replica::sync_needed(uint64_t view_op) const {
  return state_.commit_min + journal_.slot_count() <= view_op;  // Its head must fit our ring too.
}

bool Replica::commit_from_journal() const {
  POOL_ASSERT(state_.status == Status::normal || state_.status == Status::view_change,
              "r%u: a commit while %s", index_, replica_status_name(state_.status));
  if (syncing_blocks()) return false;
  if (state_.status == Status::view_change) return true;
  return state_.status == Status::normal && state_.pipeline.prepares().empty() &&
         state_.pipeline.requests().empty();
}

void Replica::open() {
  POOL_ASSERT(state_.status == Status::down);
  // The first start, on an empty disk; every later one is a restart, which reads the disk.
  POOL_ASSERT_EQ(incarnation_, 0u);
  POOL_ASSERT_EQ(storage_.wal_slots_written(), 0u);
  bus_.open();
  Superblock empty;
  empty.clients.assign(context_.shape.client_count, ClientSession{});
  storage_.superblock_write(superblock_encode(empty));
  state_.status = Status::normal;
  start_normal_timeouts();
}

void Replica::release_memory() {
  POOL_ASSERT(!bus_.is_open(), "r%u: the bus closes first: no message arrives mid-release", index_);
  for (PipelineEntry& entry : state_.pipeline.prepares()) release(Holder::pipeline, entry.prepare);
  state_.pipeline.prepares_clear();
  for (pool::Message* request : state_.pipeline.requests()) release(Holder::pipeline, request);
  state_.pipeline.requests_clear();
  for (pool::Message*& prepare : state_.pipeline.cache()) {
    if (prepare != nullptr) release(Holder::pipeline, prepare);
    prepare = nullptr;
  }
  if (state_.commit_prepare != nullptr) release(Holder::commit_prepare, state_.commit_prepare);
  state_.commit_prepare = nullptr;
  if (state_.loopback_queue != nullptr) release(Holder::loopback_queue, state_.loopback_queue);
  state_.loopback_queue = nullptr;
  release_join_views();
  if (state_.sync_view != nullptr) release(Holder::sync_view, state_.sync_view);
  state_.sync_view = nullptr;
  // The census agrees: the volatile state held nothing else of its terms.
  for (const Term term : {Term::pipeline, Term::commit_prepare, Term::loopback_queue,
                          Term::join_view_quorum, Term::sync_view}) {
    POOL_ASSERT_EQ(census_.held(term), 0u);
  }
}

void Replica::crash() {
  POOL_ASSERT(state_.status != Status::down);
  context_.record(TraceKind::crash, index_, state_.op, state_.commit_min);
  incarnation_ += 1;
  storage_.crash();
  bus_.close();
  journal_.crash();
  client_replies_.crash();
  grid_.crash();
  release_memory();
  POOL_ASSERT(state_.pipeline.empty() && state_.commit_prepare == nullptr &&
                  state_.loopback_queue == nullptr && state_.sync_view == nullptr,
              "r%u: a message outlives the crash", index_);
  state_ = volatile_state();
  POOL_ASSERT(state_.status == Status::down);
  verify();  // The state a restart starts from.
}

void Replica::verify() const {
  POOL_ASSERT_LE(state_.log_view, state_.view);
  POOL_ASSERT_LE(state_.commit_min, state_.commit_max);
  POOL_ASSERT_EQ(state_.sync_view != nullptr, state_.sync_stage != SyncStage::idle);
  POOL_ASSERT(state_.sync_stage != SyncStage::fetching_blocks || state_.status != Status::down);
  // Checkpoints are commits, at multiples of the interval; the log reaches the commit.
  POOL_ASSERT_LE(state_.op_checkpoint, state_.commit_min);
  POOL_ASSERT_EQ(state_.op_checkpoint % checkpoint_interval_ops_, 0u);
  POOL_ASSERT_LE(state_.commit_min, state_.op);
  if (state_.status == Status::down) {
    POOL_ASSERT(state_.pipeline.empty() && state_.commit_prepare == nullptr);
    return;
  }
  POOL_ASSERT_EQ(state_.clients.size(), size_t{context_.shape.client_count});
  // The committed prepare's header stays: nothing replaces a header at or below the commit.
  if (state_.commit_min > 0) {
    const pool::PrepareHeader* committed = journal_.header(state_.commit_min);
    POOL_ASSERT(committed != nullptr && committed->frame.checksum == state_.commit_checksum,
                "r%u: the header of commit %llu is gone or another", index_,
                static_cast<unsigned long long>(state_.commit_min));
  }
  POOL_ASSERT(state_.commit_prepare == nullptr ||
              state_.commit_prepare->header->frame.command == Command::prepare);
  // Between events the commit waits at a stage (replica_commit.cc): past its start with its
  // prepare, idle without one, never mid-dispatch.
  POOL_ASSERT(!state_.commit_dispatching);
  POOL_ASSERT(state_.commit_stage != CommitStage::execute);
  POOL_ASSERT_EQ(state_.commit_prepare != nullptr, state_.commit_stage != CommitStage::idle &&
                                                       state_.commit_stage != CommitStage::start);
  // Only a prepare_ok waits in the queue (for its flush after the write); the others are
  // flushed as they are sent (send_to_self).
  POOL_ASSERT(state_.loopback_queue == nullptr ||
              state_.loopback_queue->header->frame.command == Command::prepare_ok);
  state_.pipeline.verify(context_.shape.replica_count);
  // A primary's log holds every op it knows committed (the view's log, then its own prepares).
  if (state_.status == Status::normal && primary()) POOL_ASSERT_LE(state_.commit_max, state_.op);
  // The queues are a normal primary's: the uncommitted ops up to the head, in op order.
  POOL_ASSERT(state_.pipeline.queues_empty() || (state_.status == Status::normal && primary()),
              "r%u: queues while %s", index_, activity().c_str());
  if (!state_.pipeline.prepares().empty()) {
    POOL_ASSERT_GT(
        state_.pipeline.prepares().front().prepare->build<Command::prepare>()->header->op,
        state_.commit_min);
    POOL_ASSERT_EQ(state_.pipeline.prepares().back().prepare->build<Command::prepare>()->header->op,
                   state_.op);
  }
  verify_census();
}

// Each reference the volatile state keeps is one of its term's in the census, and no other
// holder has those terms.
void Replica::verify_census() const {
  // The queues' messages and the cache's: one reference each (a prepare both queued and cached
  // is two).
  const size_t queued = state_.pipeline.prepares().size() + state_.pipeline.requests().size();
  const auto cached = static_cast<size_t>(
      std::count_if(state_.pipeline.cache().begin(), state_.pipeline.cache().end(),
                    [](const pool::Message* prepare) { return prepare != nullptr; }));
  POOL_ASSERT_EQ(size_t{census_.held(Term::pipeline)}, queued + cached);
  POOL_ASSERT_EQ(census_.held(Term::commit_prepare), state_.commit_prepare != nullptr ? 1u : 0u);
  POOL_ASSERT_EQ(census_.held(Term::loopback_queue), state_.loopback_queue != nullptr ? 1u : 0u);
  POOL_ASSERT_EQ(census_.held(Term::sync_view), state_.sync_view != nullptr ? 1u : 0u);
  const auto join_views = std::count_if(
      state_.join_view_from_all_replicas.begin(), state_.join_view_from_all_replicas.end(),
      [](const pool::Message* message) { return message != nullptr; });
  POOL_ASSERT_EQ(size_t{census_.held(Term::join_view_quorum)}, static_cast<size_t>(join_views));
}

bool Replica::log_complete() const {
  for (uint64_t op = std::max(state_.op_checkpoint, state_.commit_min) + 1; op <= state_.op; op++) {
    if (!journal_.prepared(op)) return false;
  }
  return true;
}

std::string Replica::activity() const {
  POOL_ASSERT(!standby() || !primary(), "a standby is never a view's primary");
  return std::string(standby()   ? "standby "
                     : primary() ? "primary "
                                 : "backup ") +
         replica_status_name(state_.status) + (syncing_blocks() ? " syncing" : "");
}

std::string Replica::describe() const {
  std::string text =
      "r" + std::to_string(index_) + (standby() ? " (standby) " : " ") +
      replica_status_name(state_.status) + (primary() ? " primary" : "") +
      " view=" + std::to_string(state_.view) + " log_view=" + std::to_string(state_.log_view) +
      (syncing_blocks() ? " syncing" : "") + (grid_.missing_any() ? " grid_missing" : "") +
      " checkpoint=" + std::to_string(state_.op_checkpoint) + " op=" + std::to_string(state_.op) +
      " commit_min=" + std::to_string(state_.commit_min) +
      " commit_max=" + std::to_string(state_.commit_max) +
      " pipeline=" + std::to_string(state_.pipeline.prepares().size()) + "+" +
      std::to_string(state_.pipeline.requests().size());
  std::string missing;
  uint32_t missing_count = 0;
  for (uint64_t op = state_.commit_min + 1; op <= state_.op && state_.status != Status::down;
       op++) {
    if (journal_.prepared(op)) continue;
    if (missing_count++ < 8) missing += (missing.empty() ? "" : ",") + std::to_string(op);
  }
  if (missing_count > 0) text += " missing=[" + missing + (missing_count > 8 ? ",...]" : "]");
  return text;
}

void Replica::send_to_other_members(pool::Message* message) {
  // Sealed (ping, commit, prepare): the checksums and the fields every receiver's bus checks.
  POOL_ASSERT(message->header->frame.checksum == pool::header_checksum_calculate(*message->header));
  POOL_ASSERT(header_valid(message, context_.config));
  for (uint32_t member = 0; member < context_.shape.member_count; member++) {
    if (member != index_) send(member, message);
  }
}

uint32_t Replica::choose_other_member() {
  POOL_ASSERT_GT(context_.shape.member_count, 1u);
  auto member = static_cast<uint32_t>(prng_.below(context_.shape.member_count - 1));
  if (member >= index_) member += 1;
  POOL_ASSERT(member != index_ && member < context_.shape.member_count);
  return member;
}

uint32_t Replica::client_index(const pool::U128& client) const {
  if (client.high != 0 || client.low == 0 || client.low > context_.shape.client_count)
    return UINT32_MAX;
  const auto index = static_cast<uint32_t>(client.low - 1);
  POOL_ASSERT_LT(index, state_.clients.size());
  POOL_ASSERT(client_id(index) == client);  // The inverse of the id a client is given.
  return index;
}

// --- Ticks and timeouts.

void Replica::tick() {
  if (state_.status == Status::down) return;
  POOL_ASSERT(bus_.is_open());
  bus_.tick();  // replica.zig:1556: an open replica's bus ticks while it recovers too.
  if (state_.status == Status::recovering) return;
  // As the previous ticks' events left it: every verify_period_ticks (staggered by replica), so
  // that checking costs a few percent of a run, not a fifth.
  if ((context_.now_tick() + index_) % verify_period_ticks == 0) verify();
  for (Timeout& timeout : state_.timeouts) timeout.tick();
  if (timeout(TimeoutKind::ping).fired()) {
    context_.record(TraceKind::timeout, index_, timeout_trace_code(TimeoutKind::ping), 0);
    timeout(TimeoutKind::ping).reset();
    send_ping();
  }
  if (timeout(TimeoutKind::request_view).fired()) timeout(TimeoutKind::request_view).stop();
  if (state_.status == Status::normal && primary() && timeout(TimeoutKind::prepare).fired()) {
    context_.record(TraceKind::timeout, index_, timeout_trace_code(TimeoutKind::prepare), 0);
    on_prepare_timeout();
  }
  if (state_.status == Status::normal && primary() &&
      timeout(TimeoutKind::commit_message).fired()) {
    timeout(TimeoutKind::commit_message).reset();
    send_commit();
  }
  if (timeout(TimeoutKind::repair).fired()) {
    timeout(TimeoutKind::repair).reset();
    timeout(TimeoutKind::repair).after_ticks = prng_.range_inclusive(5, 15);
    if (syncing_blocks() || grid_.missing_any()) grid_repair();
    if (state_.sync_view != nullptr && !syncing_blocks()) sync_begin();
    repair();
  }
  if (!syncing_blocks()) {
    if (timeout(TimeoutKind::normal_heartbeat).fired()) {
      // start_normal_timeouts starts it on a backup only; leaving the view stops it.
      POOL_ASSERT(state_.status == Status::normal && !primary(), "r%u: %s", index_,
                  activity().c_str());
      // No prepare or commit from the primary: its view is over (standbys only listen).
      context_.record(TraceKind::timeout, index_, timeout_trace_code(TimeoutKind::normal_heartbeat),
                      state_.view);
      timeout(TimeoutKind::normal_heartbeat).stop();
      if (state_.status == Status::normal && !primary() && !standby()) {
        transition_to_view_change(state_.view + 1);
      }
    }
    if (timeout(TimeoutKind::view_change_status).fired()) {
      // The view change's timeouts run from enter_view_change to start_normal_timeouts.
      POOL_ASSERT_EQ(state_.status, Status::view_change);
      context_.record(TraceKind::timeout, index_,
                      timeout_trace_code(TimeoutKind::view_change_status), state_.view);
      if (state_.status == Status::view_change) transition_to_view_change(state_.view + 1);
    }
    if (timeout(TimeoutKind::view_change_message).fired()) {
      POOL_ASSERT_EQ(state_.status, Status::view_change);
      timeout(TimeoutKind::view_change_message).reset();
      if (state_.status == Status::view_change) {
        send_exit_view();
        if (state_.join_view_sent) {
          state_.join_view_sent = false;
          maybe_send_join_view();
        }
      }
    }
  }
  if (commit_from_journal()) commit_journal();
  primary_view_change_progress();
}

void Replica::send_ping() {
  pool::Message* ping = acquire(Holder::ping);
  auto* header = header_start<Command::ping>(ping, static_cast<uint8_t>(index_), state_.view, 0);
  header->frame.release = 1;
  header->checkpoint_id = state_.checkpoint_checksum;
  header->checkpoint_op = state_.op_checkpoint;
  header->ping_timestamp_monotonic = context_.now_tick() + 1;
  header->release_count = 1;
  message_seal(ping);
  send_to_other_members(ping);
  release(Holder::ping, ping);
}

void Replica::on_prepare_timeout() {
  POOL_ASSERT(state_.status == Status::normal && primary());
  if (state_.pipeline.prepares().empty()) {
    timeout(TimeoutKind::prepare).stop();
    return;
  }
  // The oldest prepare goes again to the replicas that have not acknowledged it.
  PipelineEntry& head = state_.pipeline.prepares().front();
  // Not yet acknowledged by a quorum, or committing (waiting for a client-reply write slot).
  pool::maybe(head.ok_quorum_received);
  for (uint32_t replica = 0; replica < context_.shape.replica_count; replica++) {
    if (replica != index_ && (head.ok_from & (uint64_t{1} << replica)) == 0) {
      send(replica, head.prepare);
    }
  }
  repair();  // Our own write, if it never started.
  timeout(TimeoutKind::prepare).backoff(prng_);
}

void Replica::send_commit() {
  POOL_ASSERT(state_.status == Status::normal && primary());
  // The receiver's bus requires commit >= checkpoint_op: a checkpoint is a commit.
  POOL_ASSERT_GE(state_.commit_min, state_.op_checkpoint);
  pool::Message* commit = acquire(Holder::commit_heartbeat);
  auto* header =
      header_start<Command::commit>(commit, static_cast<uint8_t>(index_), state_.view, 0);
  header->commit = state_.commit_min;
  header->commit_checksum = state_.commit_checksum;
  header->checkpoint_id = state_.checkpoint_checksum;
  header->checkpoint_op = state_.op_checkpoint;
  header->timestamp_monotonic = context_.now_tick() + 1;
  message_seal(commit);
  send_to_other_members(commit);
  release(Holder::commit_heartbeat, commit);
}

// --- Receiving.

bool Replica::suspend_message(const pool::Header& header) const {
  POOL_ASSERT(bus_.is_open(), "r%u: a closed bus delivers nothing", index_);
  if (state_.status == Status::down || state_.status == Status::recovering) return false;
  // As the original's (replica.zig:1698-1726): a prepare while every journal write is busy, a
  // block while every grid repair write is; both wait in the bus's buffer, unconsumed.
  if (header.frame.command == Command::prepare) return journal_.writes_available() == 0;
  if (header.frame.command == Command::block) return grid_.repair_writes_full();
  return false;
}

void Replica::on_message(uint32_t from, pool::Message* message) {
  if (state_.status == Status::down || state_.status == Status::recovering) return;
  // The network never delivers to the sender; the bus, only what passes message_invalid.
  POOL_ASSERT_NE(from, index_);
  POOL_ASSERT_LT(from, context_.shape.client_process(context_.shape.client_count));
  const uint32_t view = message->header->frame.view;
  const bool from_replica = from < context_.shape.member_count;
  switch (message->header->frame.command) {
    case Command::ping:
      if (from_replica && view > state_.view) on_view_ahead(view);
      if (from_replica && behind_checkpoint(message->build<Command::ping>()->header->checkpoint_op))
        on_view_ahead(state_.view);
      on_ping(from, message);
      break;
    case Command::ping_client:
      on_ping_client(from);
      break;
    case Command::request:
      on_request(from, message);
      break;
    case Command::prepare:
      if (view > state_.view && message->header->frame.replica == primary_of(view))
        on_view_ahead(view);  // That view's primary prepares: the view started without us.
      on_prepare(from, message);
      break;
    case Command::prepare_ok:
      on_prepare_ok(from, message);
      break;
    case Command::commit:
      if (view > state_.view) on_view_ahead(view);
      on_commit(message);
      break;
    case Command::get_headers:
      on_get_headers(from, message);
      break;
    case Command::headers:
      on_headers(message);
      break;
    case Command::get_prepare:
      on_get_prepare(from, message);
      break;
    case Command::exit_view:
      on_exit_view(from, message);
      break;
    case Command::join_view:
      on_join_view(from, message);
      break;
    case Command::get_view:
      on_get_view(from, message);
      break;
    case Command::view:
      on_view(message);
      break;
    case Command::get_blocks:
      on_get_blocks(from, message);
      break;
    case Command::get_reply:
      on_get_reply(from, message);
      break;
    case Command::reply:
      on_reply_repair(from, message);
      break;
    case Command::block:
      on_block(message);
      break;
    default:
      break;  // pong: nothing to learn without clocks.
  }
}

bool Replica::ignore_ping(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::ping);
  return from >= context_.shape.member_count;  // A client pings with ping_client.
}

void Replica::on_ping(uint32_t from, pool::Message* message) {
  if (ignore_ping(from, message)) return;
  const auto* ping = message->build<Command::ping>()->header;
  POOL_ASSERT_NE(from, index_);  // The network never delivers a process's own packet.
  POOL_ASSERT_EQ(uint32_t{ping->frame.replica}, from);  // send_ping's, not a relay.
  // The pong echoes it: the receiver's bus requires it nonzero in both (send_ping adds 1).
  POOL_ASSERT_GT(ping->ping_timestamp_monotonic, 0u);
  // The ping/pong transient: the ping is held by the bus while the pong is built.
  pool::Message* pong = acquire(Holder::pong);
  auto* header = header_start<Command::pong>(pong, static_cast<uint8_t>(index_), state_.view, 0);
  header->frame.release = 1;
  header->ping_timestamp_monotonic = ping->ping_timestamp_monotonic;
  header->pong_timestamp_wall = context_.now_tick() + 1;
  message_seal(pong);
  POOL_ASSERT(header_valid(pong, context_.config));
  send(from, pong);
  release(Holder::pong, pong);
}

bool Replica::ignore_ping_client(uint32_t from) const {
  POOL_ASSERT_LT(from, context_.shape.client_process(context_.shape.client_count));
  return from < context_.shape.member_count;  // A replica pings with ping.
}

void Replica::on_ping_client(uint32_t from) {
  if (ignore_ping_client(from)) return;
  POOL_ASSERT(state_.status != Status::down, "a crashed replica's bus is closed");
  pool::Message* pong = acquire(Holder::pong_client);
  auto* header =
      header_start<Command::pong_client>(pong, static_cast<uint8_t>(index_), state_.view, 0);
  header->frame.release = 1;
  header->ping_timestamp_monotonic = context_.now_tick() + 1;
  message_seal(pong);
  POOL_ASSERT(header_valid(pong, context_.config));
  send(from, pong);
  release(Holder::pong_client, pong);
}

bool Replica::ignore_request(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::request);
  if (state_.status != Status::normal || syncing_blocks()) return true;
  const auto* request = message->build<Command::request>()->header;
  const uint32_t client = client_index(request->client);
  if (client == UINT32_MAX) return true;
  // From the client itself, or forwarded by a backup (to the primary only).
  const bool forwarded = from != context_.shape.client_process(client);
  if (forwarded && (from >= context_.shape.member_count || !primary())) return true;
  const ClientSession& entry = state_.clients[client];
  if (entry.registered && request->request < entry.reply.request) return true;  // Old.
  // The latest is answered again (repeat_reply); a backup forwards a newer one to the primary.
  if (entry.registered && request->request == entry.reply.request) return false;
  if (!primary()) return false;
  // The primary: a request it is preparing already, or queued ...
  const auto same_request = [&](const pool::Message* queued) {
    const auto* header = queued->build<pool::Command::prepare>()->header;
    return header->client == request->client && header->request == request->request;
  };
  for (const PipelineEntry& entry_queued : state_.pipeline.prepares()) {
    if (same_request(entry_queued.prepare)) return true;
  }
  for (const pool::Message* queued : state_.pipeline.requests()) {
    const auto* header = queued->build<pool::Command::request>()->header;
    if (header->client == request->client && header->request == request->request) return true;
  }
  // ... a session's first request that does not register it ...
  if (!entry.registered && request->operation != operation_register) return true;
  // ... or one while ops before the pipeline still commit from the journal (a restarted lone
  // replica).
  return state_.pipeline.prepares().empty() && state_.commit_min < state_.op;
}

void Replica::on_request(uint32_t from, pool::Message* message) {
  if (ignore_request(from, message)) return;
  POOL_ASSERT(state_.status == Status::normal && !syncing_blocks());
  const auto* request = message->build<Command::request>()->header;
  const uint32_t client = client_index(request->client);
  POOL_ASSERT_LT(client, context_.shape.client_count);
  const uint32_t reply_to = context_.shape.client_process(client);
  const ClientSession& entry = state_.clients[client];
  POOL_ASSERT(!entry.registered || request->request >= entry.reply.request);
  if (entry.registered && request->request == entry.reply.request) {
    repeat_reply(client, reply_to);
    return;
  }
  if (!primary()) {
    POOL_ASSERT_EQ(from, reply_to);  // A backup takes requests from their clients only.
    // A backup forwards a newer request to the primary, as the original's
    // ignore_request_message_backup does.
    send(primary_index(), message);
    return;
  }
  pool::maybe(from != reply_to);  // Forwarded by a backup.
  POOL_ASSERT(entry.registered || request->operation == operation_register);
  // The ops before the pipeline are committed: a prepare chains from the commit.
  POOL_ASSERT(!state_.pipeline.prepares().empty() || state_.commit_min == state_.op);
  // The WAL cannot take ops beyond the next checkpoint: the request waits in the queue.
  if (!state_.pipeline.prepare_queue_full() && state_.pipeline.requests().empty() &&
      state_.op + 1 <= op_prepare_max()) {
    primary_pipeline_prepare(message, false);
  } else if (!state_.pipeline.request_queue_full()) {
    state_.pipeline.request_push(census_.hold(Holder::pipeline, message));
  }
  // Otherwise the pipeline is full: the client retries.
}

void Replica::send_reply_to_client(uint32_t to, pool::Message* reply) {
  POOL_ASSERT_EQ(reply->header->frame.command, Command::reply);
  POOL_ASSERT_LE(reply->header->frame.view, state_.view);
  // A peer's repair takes the reply as it is; a client, as send_reply_message_to_client
  // (replica.zig:8946-8986) gives it: a reply of a view before the durable log view goes out as
  // a copy that names that view, so the client learns it.
  if (to < context_.shape.member_count || reply->header->frame.view >= state_.log_view_durable) {
    send(to, reply);
    return;
  }
  POOL_ASSERT_LE(state_.log_view_durable, state_.view);
  pool::Message* copy = acquire(Holder::reply_copy);
  std::memcpy(copy->buffer.data(), reply->buffer.data(), reply->header->frame.size);
  copy->header->frame.view = state_.log_view_durable;
  copy->header->frame.checksum = pool::header_checksum_calculate(*copy->header);
  POOL_ASSERT(header_valid(copy, context_.config));
  send(to, copy);
  release(Holder::reply_copy, copy);
}

void Replica::repeat_reply(uint32_t client, uint32_t to) {
  POOL_ASSERT(client < context_.shape.client_count && state_.clients[client].registered);
  const pool::ReplyHeader& reply = state_.clients[client].reply;
  // The session's latest reply, to its own client (execute's, or a checkpoint's).
  POOL_ASSERT(reply.frame.command == Command::reply && reply.client == client_id(client));
  if (reply.frame.size == pool::header_size) {
    // A body-less reply is rebuilt from the client table's header (replica.zig:6646-6651).
    pool::Message* rebuilt = acquire(Holder::rebuilt_reply);
    std::memcpy(rebuilt->header, &reply, pool::header_size);
    POOL_ASSERT(header_valid(rebuilt, context_.config));  // Sealed when it was executed.
    send_reply_to_client(to, rebuilt);
    release(Holder::rebuilt_reply, rebuilt);
    return;
  }
  if (pool::Message* writing = client_replies_.read_reply_sync(client, reply.frame.checksum)) {
    send_reply_to_client(to, writing);
    return;
  }
  const uint64_t incarnation = incarnation_;
  const pool::U128 checksum = reply.frame.checksum;
  const bool started = client_replies_.read_reply(
      client, checksum, [this, incarnation, to, client, checksum](pool::Message* read) {
        context_.record(TraceKind::reply_read, index_, client, read != nullptr);
        if (!alive(incarnation)) return;
        // The zone's read checks what it returns against the checksum asked for.
        POOL_ASSERT(read == nullptr || read->header->frame.checksum == checksum);
        if (read != nullptr) {
          send_reply_to_client(to, read);
        } else if (to >= context_.shape.member_count) {
          send_get_reply(client);  // Lost, corrupt, or never written here (a sync).
        }
      });
  (void)started;  // Busy: the request is ignored and the client retries.
}

// Client-reply repair, as the original's request_reply: a peer reads its copy for us.
void Replica::send_get_reply(uint32_t client) {
  if (context_.shape.member_count < 2) return;
  // A session stays registered (a crash ends the read that asks: alive(incarnation)).
  POOL_ASSERT(state_.clients[client].registered);
  const pool::ReplyHeader& reply = state_.clients[client].reply;
  pool::Message* message = acquire(Holder::repair_request);
  auto* header = header_start<Command::get_reply>(message, static_cast<uint8_t>(index_), 0, 0);
  header->reply_checksum = reply.frame.checksum;
  header->reply_client = reply.client;
  header->reply_op = reply.op;
  message_seal(message);
  POOL_ASSERT(header_valid(message, context_.config));  // The peer's bus checks reply_client != 0.
  send(choose_other_member(), message);
  release(Holder::repair_request, message);
}

bool Replica::ignore_get_reply(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::get_reply);
  if (from >= context_.shape.member_count) return true;
  // Only the session's latest reply is kept.
  const auto* request = message->build<Command::get_reply>()->header;
  const uint32_t client = client_index(request->reply_client);
  return client == UINT32_MAX || !state_.clients[client].registered ||
         state_.clients[client].reply.frame.checksum != request->reply_checksum;
}

void Replica::on_get_reply(uint32_t from, pool::Message* message) {
  if (ignore_get_reply(from, message)) return;
  const auto* request = message->build<Command::get_reply>()->header;
  const uint32_t client = client_index(request->reply_client);
  POOL_ASSERT_NE(from, index_);  // The network never delivers a process's own packet.
  // The same reply as the peer's (send_get_reply names its op with its checksum).
  POOL_ASSERT_EQ(state_.clients[client].reply.op, request->reply_op);
  pool::maybe(state_.status == Status::normal);  // Any member serves, in any view.
  repeat_reply(client, from);
}

bool Replica::ignore_reply_repair(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::reply);
  if (from >= context_.shape.member_count)
    return true;  // A peer's repair; a client never sends one.
  // Only the session's latest reply, and only while a write slot is free.
  const auto* reply = message->build<Command::reply>()->header;
  const uint32_t client = client_index(reply->client);
  return client == UINT32_MAX || !state_.clients[client].registered ||
         state_.clients[client].reply.frame.checksum != reply->frame.checksum ||
         !client_replies_.ready();
}

// A reply from a peer: the copy our client-replies zone lacks.
void Replica::on_reply_repair(uint32_t from, pool::Message* message) {
  if (ignore_reply_repair(from, message)) return;
  const auto* reply = message->build<Command::reply>()->header;
  const uint32_t client = client_index(reply->client);
  POOL_ASSERT(client < context_.shape.client_count && client_replies_.ready());
  // The very reply the session names: the same op (the bus checked op == commit).
  POOL_ASSERT_EQ(reply->op, state_.clients[client].reply.op);
  pool::maybe(reply->frame.size == pool::header_size);  // Rebuilt by the peer's repeat_reply.
  client_replies_.write_reply(client, message);
}

// --- The primary's pipeline.

void Replica::primary_pipeline_prepare(pool::Message* message, bool from_request_queue) {
  POOL_ASSERT(primary() && state_.status == Status::normal);
  POOL_ASSERT_LT(state_.pipeline.prepares().size(), pipeline_prepare_queue_max_);
  POOL_ASSERT_LE(state_.op + 1, op_prepare_max());
  POOL_ASSERT_EQ(message->header->frame.command, Command::request);
  // The request's buffer becomes the prepare: the pipeline's reference carries over.
  const pool::RequestHeader request = *message->build<Command::request>()->header;
  if (!from_request_queue) census_.hold(Holder::pipeline, message);
  const uint32_t body_size = request.frame.size - pool::header_size;
  const pool::PrepareHeader* parent = journal_.header(state_.op);
  auto* header =
      header_start<Command::prepare>(message, static_cast<uint8_t>(index_), state_.view, body_size);
  header->frame.release = 1;
  header->parent = parent != nullptr ? parent->frame.checksum : pool::U128{0, 0};
  header->request_checksum = request.frame.checksum;
  header->client = request.client;
  header->op = state_.op + 1;
  header->commit = state_.commit_max;
  header->timestamp = context_.now_tick() + 1;
  header->request = request.request;
  header->operation = request.operation;
  message_seal(message);
  // The backups' buses require commit < op: the primary's log holds what it knows committed.
  POOL_ASSERT_LT(header->commit, header->op);

  if (state_.pipeline.prepares().empty()) timeout(TimeoutKind::prepare).start();
  state_.pipeline.prepare_push(PipelineEntry{message, 0, false});
  context_.record(TraceKind::prepare, index_, header->op, client_index(request.client));

  state_.op = header->op;
  journal_.set_header(*header);
  send_to_other_members(message);
  write_prepare(message);
}

void Replica::write_prepare(pool::Message* prepare) {
  POOL_ASSERT_EQ(prepare->header->frame.command, Command::prepare);
  const auto* header = prepare->build<Command::prepare>()->header;
  // The WAL never takes an op the checkpoint covers again (recovery replays from it).
  POOL_ASSERT_GT(header->op, state_.op_checkpoint);
  if (journal_.writing(header->op) || journal_.prepared(header->op)) return;
  if (journal_.header(header->op) == nullptr ||
      journal_.header(header->op)->frame.checksum != header->frame.checksum) {
    return;
  }
  if (header->op > op_prepare_max()) return;     // Its slot still holds an op to checkpoint.
  if (journal_.writes_available() == 0) return;  // Stays dirty: repair writes it later.
  const uint64_t incarnation = incarnation_;
  const uint64_t written = header->op;
  journal_.write_prepare(prepare, [this, incarnation, written](uint64_t op) {
    POOL_ASSERT_EQ(op, written);  // The journal completes the write it was given.
    if (alive(incarnation)) write_prepare_done(op);
  });
}

void Replica::write_prepare_done(uint64_t op) {
  context_.record(TraceKind::journal_write, index_, op, journal_.prepared(op) ? 0 : 1);
  POOL_ASSERT(!journal_.writing(op));  // The slot is free for a write in the callback.
  // Writes start in normal status or on a view change's new primary (repair), never while
  // recovering, and a crash ends the incarnation.
  POOL_ASSERT(state_.status == Status::normal || state_.status == Status::view_change);
  bus_.resume();
  if (state_.status == Status::normal) {
    send_prepare_ok(op);
    flush_loopback_queue();
  }
  if (commit_from_journal()) commit_journal();
  primary_view_change_progress();
}

void Replica::send_prepare_ok(uint64_t op) {
  if (standby() || state_.status != Status::normal || syncing_blocks()) return;
  const pool::PrepareHeader* prepare = journal_.header(op);
  if (prepare == nullptr || !journal_.prepared(op)) return;
  // A header the journal has is of an op the log reaches.
  POOL_ASSERT_LE(op, state_.op);
  const bool to_self = primary();
  if (to_self && state_.loopback_queue != nullptr) return;  // One message to itself at a time.
  const Holder holder = to_self ? Holder::loopback_queue : Holder::prepare_ok;
  pool::Message* ok = acquire(holder);
  auto* header =
      header_start<Command::prepare_ok>(ok, static_cast<uint8_t>(index_), state_.view, 0);
  header->parent = prepare->parent;
  header->prepare_checksum = prepare->frame.checksum;
  header->client = prepare->client;
  header->op = op;
  header->commit_min = state_.commit_min;
  header->timestamp = prepare->timestamp;
  header->request = prepare->request;
  header->operation = prepare->operation;
  message_seal(ok);
  POOL_ASSERT(header_valid(ok, context_.config));  // on_prepare_ok's, and the primary's bus.
  if (to_self) {
    state_.loopback_queue = ok;
    return;
  }
  send(primary_index(), ok);
  release(Holder::prepare_ok, ok);
}

void Replica::send_to_self(pool::Message* message) {
  // send_message_to_replica (replica.zig:9363-9365): one message to itself at a time, handled
  // at once by the flush that follows every such send.
  POOL_ASSERT(state_.loopback_queue == nullptr);
  POOL_ASSERT_EQ(message->header->frame.replica, index_);
  state_.loopback_queue = census_.hold(Holder::loopback_queue, message);
  flush_loopback_queue();
}

void Replica::flush_loopback_queue() {
  if (state_.loopback_queue == nullptr) return;
  pool::Message* message = state_.loopback_queue;
  POOL_ASSERT_EQ(message->header->frame.view, state_.view);
  // replica.zig:5973-6001: the queue is empty before the handler runs (it may send to itself
  // again), and the loopback's reference lasts until it returns.
  state_.loopback_queue = nullptr;
  switch (message->header->frame.command) {
    case Command::prepare_ok:
      // Leaving the view (or the primary's role) releases it first (primary_pipeline_to_cache).
      POOL_ASSERT(state_.status == Status::normal && primary());
      on_prepare_ok(index_, message);
      break;
    case Command::exit_view:
      on_exit_view(index_, message);
      break;
    case Command::join_view:
      POOL_ASSERT(primary_of(state_.view) == index_);
      on_join_view(index_, message);
      break;
    default:
      POOL_ASSERT(false, "r%u: loopback of command %u", index_,
                  static_cast<unsigned>(message->header->frame.command));
  }
  release(Holder::loopback_queue, message);
}

bool Replica::ignore_prepare_ok(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::prepare_ok);
  // Only this view's primary counts acknowledgements, and only of this view, from replicas.
  return state_.status != Status::normal || message->header->frame.view != state_.view ||
         !primary() || from >= context_.shape.replica_count;
}

void Replica::on_prepare_ok(uint32_t from, pool::Message* message) {
  if (ignore_prepare_ok(from, message)) return;
  const auto* ok = message->build<Command::prepare_ok>()->header;
  POOL_ASSERT(state_.status == Status::normal && primary());
  POOL_ASSERT_EQ(ok->frame.view, state_.view);
  // send_prepare_ok's, from its author (our own through the loopback queue).
  POOL_ASSERT(from < context_.shape.replica_count && ok->frame.replica == from);
  pool::maybe(from == index_);
  for (PipelineEntry& entry : state_.pipeline.prepares()) {
    if (entry.prepare->header->frame.checksum != ok->prepare_checksum) continue;
    POOL_ASSERT_EQ(entry.prepare->build<Command::prepare>()->header->op,
                   ok->op);  // The same prepare.
    entry.ok_from |= uint64_t{1} << from;
    // A quorum that includes the primary's own write: the primary's log stays complete.
    const bool own_write = (entry.ok_from & (uint64_t{1} << index_)) != 0;
    if (!entry.ok_quorum_received && own_write &&
        static_cast<uint32_t>(std::popcount(entry.ok_from)) >= quorum_replication()) {
      entry.ok_quorum_received = true;
      commit_pipeline();
    }
    return;
  }
}

void Replica::primary_drain_request_queue() {
  while (state_.status == Status::normal && primary() && !state_.pipeline.requests().empty() &&
         !state_.pipeline.prepare_queue_full() && state_.op + 1 <= op_prepare_max()) {
    pool::Message* request = state_.pipeline.request_pop();
    primary_pipeline_prepare(request, true);
  }
}

// --- Backups.

bool Replica::prepare_off_normal_path(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::prepare);
  const auto* prepare = message->build<Command::prepare>()->header;
  // From its author, or from a peer that repairs it (on_get_prepare).
  pool::maybe(from == prepare->frame.replica);
  // The normal path: a prepare of this view from this view's primary, on a backup.
  return state_.status != Status::normal || syncing_blocks() || primary() ||
         prepare->frame.view != state_.view || prepare->frame.replica != primary_index();
}

void Replica::on_prepare(uint32_t from, pool::Message* message) {
  // Any other prepare can only repair an op whose header the replica already knows.
  if (prepare_off_normal_path(from, message)) {
    on_prepare_repair(from, message);
    return;
  }
  const auto* prepare = message->build<Command::prepare>()->header;
  POOL_ASSERT(state_.status == Status::normal && !syncing_blocks() && !primary());
  POOL_ASSERT_EQ(prepare->frame.view, state_.view);
  POOL_ASSERT_EQ(uint32_t{prepare->frame.replica}, primary_index());
  // A primary prepares past the root and past its own commit.
  POOL_ASSERT(prepare->op > 0 && prepare->commit < prepare->op);
  timeout(TimeoutKind::normal_heartbeat).ticks = 0;  // Heard from the primary (the jitter stays).
  advance_commit_max(prepare->commit);
  const uint64_t op = prepare->op;
  if (op <= state_.commit_min || op > op_prepare_max()) return;
  // Within a pipeline past the checkpoint's trigger, the op's slot is the ring's.
  POOL_ASSERT(header_fits(op));
  const pool::U128 checksum = prepare->frame.checksum;
  if (journal_.has_prepare(op, checksum)) {
    send_prepare_ok(op);
    commit_journal();
    return;
  }
  if (journal_.writing(op)) return;
  // suspend_message kept it in the bus while no write slot was free.
  POOL_ASSERT_GT(journal_.writes_available(), 0u);
  // This view's primary is the log: what the journal had for op (or its parent) was stale.
  if (const pool::PrepareHeader* below = journal_.header(op - 1);
      below != nullptr && below->frame.checksum != prepare->parent) {
    journal_.remove_header(op - 1);
  }
  state_.op = std::max(state_.op, op);
  journal_.set_header(*prepare);
  if (op > state_.commit_min && op <= state_.commit_min + state_.pipeline.cache_size())
    cache_prepare(message);
  write_prepare(message);
  commit_journal();
}

bool Replica::ignore_prepare_repair(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::prepare);
  pool::maybe(from == primary_index());  // A primary's retry of a prepare it has.
  if (syncing_blocks()) return true;
  // Only a prepare whose header the log has, after the checkpoint, and not being written.
  const auto* prepare = message->build<Command::prepare>()->header;
  const pool::PrepareHeader* known = journal_.header(prepare->op);
  if (known == nullptr || known->frame.checksum != prepare->frame.checksum) return true;
  return prepare->op <= state_.op_checkpoint || journal_.writing(prepare->op);
}

void Replica::on_prepare_repair(uint32_t from, pool::Message* message) {
  if (ignore_prepare_repair(from, message)) return;
  const auto* prepare = message->build<Command::prepare>()->header;
  const uint64_t op = prepare->op;
  POOL_ASSERT(!syncing_blocks() && op > state_.op_checkpoint && !journal_.writing(op));
  POOL_ASSERT_LE(op, state_.op);  // A header the journal has is of an op the log reaches.
  if (journal_.prepared(op)) {
    // A primary's retry of a prepare from an earlier view: it is in our log, so acknowledge it.
    if (from == primary_index()) send_prepare_ok(op);
    return;
  }
  if (op > state_.commit_min && op <= state_.commit_min + state_.pipeline.cache_size())
    cache_prepare(message);
  write_prepare(message);
}

void Replica::cache_prepare(pool::Message* prepare) {
  const uint64_t op = prepare->build<Command::prepare>()->header->op;
  POOL_ASSERT_GT(op, state_.commit_min);  // A cache of what is still to commit.
  pool::Message*& slot = state_.pipeline.cache_slot(op);
  if (slot == prepare) return;
  if (slot != nullptr) release(Holder::pipeline, slot);
  slot = census_.hold(Holder::pipeline, prepare);
  POOL_ASSERT(state_.pipeline.cached(op, prepare->header->frame.checksum) == prepare);
}

bool Replica::ignore_commit(const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::commit);
  // A backup in normal status takes this view's primary's.
  return message->header->frame.view != state_.view || state_.status != Status::normal ||
         primary() || message->header->frame.replica != primary_index();
}

void Replica::on_commit(pool::Message* message) {
  if (ignore_commit(message)) return;
  const auto* commit = message->build<Command::commit>()->header;
  POOL_ASSERT(state_.status == Status::normal && !primary());
  POOL_ASSERT_EQ(commit->frame.view, state_.view);
  POOL_ASSERT_EQ(uint32_t{commit->frame.replica}, primary_index());
  POOL_ASSERT_GE(commit->commit, commit->checkpoint_op);  // send_commit's, as the bus checked.
  timeout(TimeoutKind::normal_heartbeat).ticks = 0;  // Heard from the primary (the jitter stays).
  if (behind_checkpoint(commit->checkpoint_op)) on_view_ahead(state_.view);
  advance_commit_max(commit->commit);
  // The primary vouches for the prepare at `commit`: a stale header there goes.
  if (commit->commit > state_.commit_min) {
    if (const pool::PrepareHeader* known = journal_.header(commit->commit);
        known != nullptr && known->frame.checksum != commit->commit_checksum) {
      journal_.remove_header(commit->commit);
    }
    if (commit->commit >= state_.anchor_op) {
      state_.anchor_op = commit->commit;
      state_.anchor_checksum = commit->commit_checksum;
    }
  }
  commit_journal();
}

void Replica::advance_commit_max(uint64_t commit) {
  state_.commit_max = std::max(state_.commit_max, commit);
}

// --- Repair.

bool Replica::ignore_get_headers(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::get_headers);
  return from >= context_.shape.member_count;  // Members repair one another.
}

void Replica::on_get_headers(uint32_t from, pool::Message* message) {
  if (ignore_get_headers(from, message)) return;
  const auto* request = message->build<Command::get_headers>()->header;
  POOL_ASSERT_NE(from, index_);  // The network never delivers a process's own packet.
  POOL_ASSERT_LE(request->op_min, request->op_max);  // repair()'s range, as the bus checked.
  // From the top of the range down: the asker chains them from a header it trusts above.
  std::vector<const pool::PrepareHeader*> found;
  for (uint64_t op = std::min(request->op_max, state_.op);
       op >= request->op_min && op > 0 && found.size() < headers_per_message(context_.config);
       op--) {
    if (const pool::PrepareHeader* header = journal_.header(op)) found.push_back(header);
  }
  if (found.empty()) return;
  POOL_ASSERT_LE(found.size(), size_t{headers_per_message(context_.config)});
  pool::Message* headers = acquire(Holder::headers_response);
  header_start<Command::headers>(headers, static_cast<uint8_t>(index_), state_.view,
                                 static_cast<uint32_t>(found.size() * pool::header_size));
  for (size_t i = 0; i < found.size(); i++) {
    std::memcpy(headers->body_used().data() + i * pool::header_size, found[i], pool::header_size);
  }
  message_seal(headers);
  POOL_ASSERT(header_valid(headers, context_.config));  // A body of whole headers.
  send(from, headers);
  release(Holder::headers_response, headers);
}

bool Replica::ignore_headers(const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::headers);
  return syncing_blocks();  // The checkpoint replaces the log up to it.
}

void Replica::on_headers(pool::Message* message) {
  if (ignore_headers(message)) return;
  POOL_ASSERT(!syncing_blocks());
  // on_get_headers's body, whole headers (the bus checked); prepare_headers_in keeps the intact.
  POOL_ASSERT_EQ((message->header->frame.size - pool::header_size) % pool::header_size, 0u);
  const uint64_t op_known_max = std::max(state_.op, state_.commit_max);
  std::vector<pool::PrepareHeader> received = prepare_headers_in(message->body_used());
  std::erase_if(received, [this](const pool::PrepareHeader& header) {
    return !header_fits(header.op) || header.op > std::max(state_.op, state_.commit_max);
  });
  // A peer's header is taken only where the hash chain from a header we trust reaches it:
  // a peer may still hold another view's uncommitted op.
  std::stable_sort(received.begin(), received.end(),
                   [](const auto& a, const auto& b) { return a.op > b.op; });
  for (const pool::PrepareHeader& header : received) {
    const pool::PrepareHeader* known = journal_.header(header.op);
    if (known != nullptr && known->frame.checksum == header.frame.checksum) continue;
    const pool::PrepareHeader* above = journal_.header(header.op + 1);
    const bool chained =
        (above != nullptr && above->parent == header.frame.checksum) ||
        (header.op == state_.anchor_op && header.frame.checksum == state_.anchor_checksum);
    if (!chained) continue;
    journal_.set_header(header);
    state_.op = std::max(state_.op, header.op);
    if (const pool::PrepareHeader* below = journal_.header(header.op - 1);
        below != nullptr && below->frame.checksum != header.parent) {
      journal_.remove_header(header.op - 1);  // Stale: the chain names another parent.
    }
  }
  // A peer's headers fill the log up to what the replica knows of, never beyond.
  POOL_ASSERT_LE(state_.op, op_known_max);
  state_.get_headers_sent = false;
  repair();
}

bool Replica::ignore_get_prepare(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::get_prepare);
  return from >= context_.shape.member_count;  // Members repair one another.
}

void Replica::on_get_prepare(uint32_t from, pool::Message* message) {
  if (ignore_get_prepare(from, message)) return;
  const auto* request = message->build<Command::get_prepare>()->header;
  POOL_ASSERT_NE(from, index_);  // The network never delivers a process's own packet.
  for (const PipelineEntry& entry : state_.pipeline.prepares()) {
    if (entry.prepare->header->frame.checksum == request->prepare_checksum) {
      // The same prepare: repair_prepares names its op with its checksum.
      POOL_ASSERT_EQ(entry.prepare->build<Command::prepare>()->header->op, request->prepare_op);
      send(from, entry.prepare);
      return;
    }
  }
  if (pool::Message* prepare =
          state_.pipeline.cached(request->prepare_op, request->prepare_checksum)) {
    send(from, prepare);
    return;
  }
  if (!journal_.has_prepare(request->prepare_op, request->prepare_checksum)) return;
  const uint64_t incarnation = incarnation_;
  const uint64_t op = request->prepare_op;
  const pool::U128 checksum = request->prepare_checksum;
  // No read slot for repairs: the request is dropped and the peer asks again.
  journal_.read_prepare(
      op, checksum, Journal::ReadPurpose::repair,
      [this, incarnation, from, op, checksum](pool::Message* read) {
        if (!alive(incarnation)) return;
        context_.record(TraceKind::journal_read, index_, op, read == nullptr);
        // As asked: the journal checks the op and checksum it read.
        POOL_ASSERT(read == nullptr || (read->build<Command::prepare>()->header->op == op &&
                                        read->header->frame.checksum == checksum));
        if (read == nullptr) {
          journal_.mark_faulty(op);
        } else {
          send(from, read);
        }
      });
}

void Replica::repair() {
  if (syncing_blocks()) return;
  const bool primary_elect = state_.status == Status::view_change && primary() && state_.log_chosen;
  if (state_.status != Status::normal && !primary_elect) return;
  uint64_t op_repair_max = state_.op;
  if (state_.status == Status::normal && primary()) {
    for (const PipelineEntry& entry : state_.pipeline.prepares()) write_prepare(entry.prepare);
    // Ops before the pipeline (committed, or a restarted lone replica's) repair like a backup's.
    op_repair_max = state_.op - state_.pipeline.prepares().size();
    POOL_ASSERT_GE(op_repair_max, state_.commit_min);  // The pipeline holds no committed op.
  }
  // Headers missing after the commit: ask another member for the range. Up to commit_max
  // too: a restarted replica may know of commits beyond its own log.
  uint64_t missing_min = 0;
  uint64_t missing_max = 0;
  const uint64_t op_known_max = std::min<uint64_t>(std::max(op_repair_max, state_.commit_max),
                                                   state_.commit_min + journal_.slot_count() - 1);
  for (uint64_t op = state_.commit_min + 1; op <= op_known_max; op++) {
    if (journal_.header(op) != nullptr) continue;
    if (missing_min == 0) missing_min = op;
    missing_max = op;
  }
  const uint64_t now = context_.now_tick();
  if (missing_min > 0 &&
      (!state_.get_headers_sent || now >= state_.get_headers_sent_tick + repair_expiry_ticks)) {
    pool::Message* request = acquire(Holder::repair_request);
    auto* header = header_start<Command::get_headers>(request, static_cast<uint8_t>(index_), 0, 0);
    POOL_ASSERT(state_.commit_min < missing_min && missing_min <= missing_max);
    header->op_min = missing_min;
    header->op_max = missing_max;
    message_seal(request);
    POOL_ASSERT(header_valid(request, context_.config));  // The peer's bus: op_min <= op_max.
    const bool ask_primary = state_.status == Status::normal && !primary() && prng_.chance(1, 2);
    send(ask_primary ? primary_index() : choose_other_member(), request);
    release(Holder::repair_request, request);
    state_.get_headers_sent = true;
    state_.get_headers_sent_tick = now;
  }
  repair_prepares(op_repair_max);
}

void Replica::repair_prepares(uint64_t op_max) {
  POOL_ASSERT_LE(op_max, state_.op);
  const uint64_t now = context_.now_tick();
  std::erase_if(state_.repairs, [&](const RepairRequest& r) {
    return now >= r.sent_tick + repair_expiry_ticks || journal_.prepared(r.op);
  });
  // From the checkpoint on: recovery replays the committed ops after it too.
  // Counted once, and again after each write or send (a write takes a write IOP).
  uint32_t writes_available = journal_.writes_available();
  for (uint64_t op = state_.op_checkpoint + 1; op <= op_max && writes_available > 0; op++) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (header == nullptr || journal_.prepared(op) || journal_.writing(op)) continue;
    if (op > op_prepare_max()) break;
    if (pool::Message* prepare = state_.pipeline.cached(op, header->frame.checksum)) {
      write_prepare(prepare);
      writes_available = journal_.writes_available();
      continue;
    }
    if (std::any_of(state_.repairs.begin(), state_.repairs.end(),
                    [op](const RepairRequest& r) { return r.op == op; })) {
      continue;
    }
    // Any other member may serve it; each has at most repairs_per_replica_max requests.
    const uint32_t to = choose_other_member();
    const auto in_flight = std::count_if(state_.repairs.begin(), state_.repairs.end(),
                                         [to](const RepairRequest& r) { return r.replica == to; });
    if (in_flight >= repairs_per_replica_max) continue;
    pool::Message* request = acquire(Holder::repair_request);
    auto* get =
        header_start<Command::get_prepare>(request, static_cast<uint8_t>(index_), state_.view, 0);
    get->prepare_checksum = header->frame.checksum;
    get->prepare_op = op;
    message_seal(request);
    POOL_ASSERT(header_valid(request, context_.config));
    send(to, request);
    release(Holder::repair_request, request);
    state_.repairs.push_back(RepairRequest{op, to, now});
    writes_available = journal_.writes_available();  // Sending never writes; counted anyway.
    // Bounded: at most repairs_per_replica_max in flight to each other member.
    POOL_ASSERT_LE(state_.repairs.size(),
                   size_t{repairs_per_replica_max} * (context_.shape.member_count - 1));
  }
}

}  // namespace sim
