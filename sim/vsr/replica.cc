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

Replica::Replica(const ProcessContext& context, const ReplicaOptions& options, uint32_t index,
                 pool::MessagePool& pool, Census& census, Storage& storage)
    : context_(context),
      options_(options),
      index_(index),
      pool_(pool),
      census_(census),
      storage_(storage),
      prng_(prng_for(context.seed, PrngStream::replica_base, index)),
      bus_(MessageBus::Shape{context.bus, index, false, context_.shape.member_count,
                             context_.shape.replica_count,
                             context.config.pipeline_prepare_queue_max +
                                 static_cast<uint32_t>(options.pipeline_requests_limit),
                             context.config.connection_send_queue_max_replica()},
           pool, census, context.network, context.scheduler),
      journal_(storage, pool, census, context.config),
      client_replies_(storage, pool, census, context.config),
      pipeline_prepare_queue_max_(context.config.pipeline_prepare_queue_max),
      pipeline_requests_limit_(static_cast<uint32_t>(options.pipeline_requests_limit)),
      cache_(pipeline_prepare_queue_max_ + pipeline_requests_limit_, nullptr),
      clients_(context_.shape.client_count),
      join_view_from_all_replicas_(context_.shape.replica_count, nullptr),
      checkpoint_interval_ops_(options.checkpoint_interval_ops),
      grid_(storage, pool, census, context.config, options.checkpoint_interval_ops,
            static_cast<uint32_t>(options.checkpoint_block_count), context_.shape.client_count) {
  bus_.set_on_message(
      [this](uint32_t from, pool::Message* message) { return on_message(from, message); });
}

Replica::~Replica() {
  if (status_ != Status::down) crash();
}

uint32_t Replica::quorum_replication() const {
  const uint32_t count = context_.shape.replica_count;
  if (count == 2) return 2;
  return std::min<uint32_t>(3, (count + 1) / 2);
}

// Every view-change quorum meets every replication quorum, and is a majority.
uint32_t Replica::quorum_view_change() const {
  const uint32_t count = context_.shape.replica_count;
  return std::max(count - quorum_replication() + 1, count / 2 + 1);
}

// The WAL is two checkpoint intervals: an op may be prepared up to a pipeline past the next
// checkpoint's trigger, so a slot is overwritten only once its op is checkpointed, and every
// replica keeps the ops from a pipeline past its previous checkpoint on.
uint64_t Replica::op_prepare_max() const {
  return op_checkpoint_ + checkpoint_interval_ops_ + pipeline_prepare_queue_max_;
}

// Op's header may take its slot in the ring: the op there before it is committed, and is not
// commit_min itself (whose header heads a log that has nothing after the commit).
bool Replica::header_fits(uint64_t op) const {
  return op > commit_min_ && op < commit_min_ + journal_.slot_count();
}

// A peer's checkpoint so far ahead that the WALs may no longer hold the ops after our commit:
// time to ask the primary for its view message, which tells (sync_needed).
bool Replica::behind_checkpoint(uint64_t checkpoint_op) const {
  return commit_min_ + checkpoint_interval_ops_ < checkpoint_op + pipeline_prepare_queue_max_ + 1;
}

// The primary's WAL holds the ops (op − slot_count, op]: if the op after our commit is older,
// no peer can be relied on to repair it, and only a sync catches up. (Its checkpoint is then
// past our commit: the primary prepares at most an interval and a pipeline past it.)
bool Replica::sync_needed(uint64_t view_op) const {
  return commit_min_ + journal_.slot_count() <= view_op;  // Its head must fit our ring too.
}

bool Replica::commit_from_journal() const {
  if (syncing_) return false;
  if (status_ == Status::view_change) return true;
  return status_ == Status::normal && prepare_queue_.empty() && request_queue_.empty();
}

void Replica::open() {
  POOL_ASSERT(status_ == Status::down);
  bus_.open();
  Superblock empty;
  empty.clients.assign(context_.shape.client_count, ClientSession{});
  storage_.superblock_write(superblock_encode(empty));
  status_ = Status::normal;
  start_normal_timeouts();
}

void Replica::release_memory() {
  for (PipelineEntry& entry : prepare_queue_) release(Term::pipeline, entry.prepare);
  prepare_queue_.clear();
  for (pool::Message* request : request_queue_) release(Term::pipeline, request);
  request_queue_.clear();
  for (pool::Message*& prepare : cache_) {
    if (prepare != nullptr) release(Term::pipeline, prepare);
    prepare = nullptr;
  }
  if (commit_prepare_ != nullptr) release(Term::commit_prepare, commit_prepare_);
  commit_prepare_ = nullptr;
  if (loopback_queue_ != nullptr) release(Term::loopback_queue, loopback_queue_);
  loopback_queue_ = nullptr;
  release_join_views();
  if (sync_view_ != nullptr) release(Term::sync_view, sync_view_);
  sync_view_ = nullptr;
}

void Replica::crash() {
  POOL_ASSERT(status_ != Status::down);
  context_.record(TraceKind::crash, index_, op_, commit_min_);
  status_ = Status::down;
  incarnation_ += 1;
  storage_.crash();
  bus_.close();
  journal_.crash();
  client_replies_.crash();
  grid_.crash();
  release_memory();
  view_ = log_view_ = 0;
  op_ = commit_min_ = commit_max_ = 0;
  commit_checksum_ = {0, 0};
  committing_ = commit_reading_ = false;
  clients_.assign(clients_.size(), ClientSession{});
  repairs_.clear();
  get_headers_sent_ = false;
  exit_view_from_ = 0;
  join_view_sent_ = log_chosen_ = false;
  pipeline_reads_in_flight_ = 0;
  view_requested_ = 0;
  anchor_op_ = 0;
  anchor_checksum_ = {0, 0};
  op_checkpoint_ = 0;
  checkpoint_checksum_ = {0, 0};
  checkpointing_ = syncing_ = false;
  for (Timeout* timeout :
       {&ping_timeout_, &prepare_timeout_, &commit_message_timeout_, &repair_timeout_,
        &normal_heartbeat_timeout_, &view_change_status_timeout_, &view_change_message_timeout_,
        &request_view_timeout_}) {
    timeout->stop();
  }
}

bool Replica::log_complete() const {
  for (uint64_t op = std::max(op_checkpoint_, commit_min_) + 1; op <= op_; op++) {
    if (!journal_.prepared(op)) return false;
  }
  return true;
}

std::string Replica::activity() const {
  return std::string(standby()   ? "standby "
                     : primary() ? "primary "
                                 : "backup ") +
         replica_status_name(status_) + (syncing_ ? " syncing" : "");
}

std::string Replica::describe() const {
  std::string text = "r" + std::to_string(index_) + (standby() ? " (standby) " : " ") +
                     replica_status_name(status_) + (primary() ? " primary" : "") +
                     " view=" + std::to_string(view_) + " log_view=" + std::to_string(log_view_) +
                     (syncing_ ? " syncing" : "") + (grid_.missing_any() ? " grid_missing" : "") +
                     " checkpoint=" + std::to_string(op_checkpoint_) +
                     " op=" + std::to_string(op_) + " commit_min=" + std::to_string(commit_min_) +
                     " commit_max=" + std::to_string(commit_max_) +
                     " pipeline=" + std::to_string(prepare_queue_.size()) + "+" +
                     std::to_string(request_queue_.size());
  std::string missing;
  uint32_t missing_count = 0;
  for (uint64_t op = commit_min_ + 1; op <= op_ && status_ != Status::down; op++) {
    if (journal_.prepared(op)) continue;
    if (missing_count++ < 8) missing += (missing.empty() ? "" : ",") + std::to_string(op);
  }
  if (missing_count > 0) text += " missing=[" + missing + (missing_count > 8 ? ",...]" : "]");
  return text;
}

void Replica::send_to_other_members(pool::Message* message) {
  for (uint32_t member = 0; member < context_.shape.member_count; member++) {
    if (member != index_) send(member, message);
  }
}

uint32_t Replica::choose_other_member() {
  POOL_ASSERT_GT(context_.shape.member_count, 1u);
  auto member = static_cast<uint32_t>(prng_.below(context_.shape.member_count - 1));
  if (member >= index_) member += 1;
  return member;
}

uint32_t Replica::client_index(const pool::U128& client) const {
  if (client.high != 0 || client.low == 0 || client.low > context_.shape.client_count)
    return UINT32_MAX;
  return static_cast<uint32_t>(client.low - 1);
}

// --- Ticks and timeouts.

void Replica::tick() {
  if (status_ == Status::down || status_ == Status::recovering) return;
  for (Timeout* timeout :
       {&ping_timeout_, &prepare_timeout_, &commit_message_timeout_, &repair_timeout_,
        &normal_heartbeat_timeout_, &view_change_status_timeout_, &view_change_message_timeout_,
        &request_view_timeout_}) {
    timeout->tick();
  }
  if (ping_timeout_.fired()) {
    context_.record(TraceKind::timeout, index_, 0, 0);
    ping_timeout_.reset();
    send_ping();
  }
  if (request_view_timeout_.fired()) request_view_timeout_.stop();
  if (status_ == Status::normal && primary() && prepare_timeout_.fired()) {
    context_.record(TraceKind::timeout, index_, 1, 0);
    on_prepare_timeout();
  }
  if (status_ == Status::normal && primary() && commit_message_timeout_.fired()) {
    commit_message_timeout_.reset();
    send_commit();
  }
  if (repair_timeout_.fired()) {
    repair_timeout_.reset();
    repair_timeout_.after_ticks = prng_.range_inclusive(5, 15);
    if (syncing_ || grid_.missing_any()) grid_repair();
    if (sync_view_ != nullptr && !syncing_) sync_begin();
    repair();
  }
  if (!syncing_) {
    if (normal_heartbeat_timeout_.fired()) {
      // No prepare or commit from the primary: its view is over (standbys only listen).
      context_.record(TraceKind::timeout, index_, 2, view_);
      normal_heartbeat_timeout_.stop();
      if (status_ == Status::normal && !primary() && !standby()) {
        transition_to_view_change(view_ + 1);
      }
    }
    if (view_change_status_timeout_.fired()) {
      context_.record(TraceKind::timeout, index_, 3, view_);
      if (status_ == Status::view_change) transition_to_view_change(view_ + 1);
    }
    if (view_change_message_timeout_.fired()) {
      view_change_message_timeout_.reset();
      if (status_ == Status::view_change) {
        send_exit_view();
        if (join_view_sent_) {
          join_view_sent_ = false;
          maybe_send_join_view();
        }
      }
    }
  }
  if (commit_from_journal()) commit_journal();
  primary_view_change_progress();
}

void Replica::send_ping() {
  pool::Message* ping = acquire(Term::burst);
  auto* header = header_start<Command::ping>(ping, static_cast<uint8_t>(index_), view_, 0);
  header->frame.release = 1;
  header->checkpoint_id = checkpoint_checksum_;
  header->checkpoint_op = op_checkpoint_;
  header->ping_timestamp_monotonic = context_.now_tick() + 1;
  header->release_count = 1;
  message_seal(ping);
  send_to_other_members(ping);
  release(Term::burst, ping);
}

void Replica::on_prepare_timeout() {
  if (prepare_queue_.empty()) {
    prepare_timeout_.stop();
    return;
  }
  // The oldest prepare goes again to the replicas that have not acknowledged it.
  PipelineEntry& head = prepare_queue_.front();
  for (uint32_t replica = 0; replica < context_.shape.replica_count; replica++) {
    if (replica != index_ && (head.ok_from & (uint64_t{1} << replica)) == 0) {
      send(replica, head.prepare);
    }
  }
  repair();  // Our own write, if it never started.
  prepare_timeout_.backoff(prng_);
}

void Replica::send_commit() {
  pool::Message* commit = acquire(Term::burst);
  auto* header = header_start<Command::commit>(commit, static_cast<uint8_t>(index_), view_, 0);
  header->commit = commit_min_;
  header->commit_checksum = commit_checksum_;
  header->checkpoint_id = checkpoint_checksum_;
  header->checkpoint_op = op_checkpoint_;
  header->timestamp_monotonic = context_.now_tick() + 1;
  message_seal(commit);
  send_to_other_members(commit);
  release(Term::burst, commit);
}

// --- Receiving.

MessageBus::Receive Replica::on_message(uint32_t from, pool::Message* message) {
  if (status_ == Status::down || status_ == Status::recovering) return MessageBus::Receive::done;
  const uint32_t view = message->header->frame.view;
  const bool from_replica = from < context_.shape.member_count;
  switch (message->header->frame.command) {
    case Command::ping:
      if (from_replica && view > view_) on_view_ahead(view);
      if (from_replica) {
        const auto* ping = message->build<Command::ping>()->header;
        if (behind_checkpoint(ping->checkpoint_op)) on_view_ahead(view_);
      }
      on_ping(from, message);
      break;
    case Command::ping_client:
      on_ping_client(from);
      break;
    case Command::request:
      if (status_ == Status::normal && !syncing_) on_request(from, message);
      break;
    case Command::prepare:
      return on_prepare(from, message);
    case Command::prepare_ok:
      if (status_ == Status::normal && view == view_) on_prepare_ok(from, message);
      break;
    case Command::commit:
      if (view > view_) on_view_ahead(view);
      if (view == view_) on_commit(message);
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
      if (from_replica) on_reply_repair(message);
      break;
    case Command::block:
      on_block(message);
      break;
    default:
      break;  // pong: nothing to learn without clocks.
  }
  return MessageBus::Receive::done;
}

void Replica::on_ping(uint32_t from, pool::Message* message) {
  if (from >= context_.shape.member_count) return;
  // The ping/pong transient: the ping is held by the bus while the pong is built.
  pool::Message* pong = acquire(Term::burst);
  auto* header = header_start<Command::pong>(pong, static_cast<uint8_t>(index_), view_, 0);
  header->frame.release = 1;
  header->ping_timestamp_monotonic =
      message->build<Command::ping>()->header->ping_timestamp_monotonic;
  header->pong_timestamp_wall = context_.now_tick() + 1;
  message_seal(pong);
  send(from, pong);
  release(Term::burst, pong);
}

void Replica::on_ping_client(uint32_t from) {
  if (from < context_.shape.member_count) return;
  pool::Message* pong = acquire(Term::burst);
  auto* header = header_start<Command::pong_client>(pong, static_cast<uint8_t>(index_), view_, 0);
  header->frame.release = 1;
  header->ping_timestamp_monotonic = context_.now_tick() + 1;
  message_seal(pong);
  send(from, pong);
  release(Term::burst, pong);
}

void Replica::on_request(uint32_t from, pool::Message* message) {
  const auto* request = message->build<Command::request>()->header;
  const uint32_t client = client_index(request->client);
  if (client == UINT32_MAX) return;
  // From the client itself, or forwarded by a backup.
  const bool forwarded = from != context_.shape.client_process(client);
  if (forwarded && (from >= context_.shape.member_count || !primary())) return;
  const uint32_t reply_to = context_.shape.client_process(client);
  const ClientSession& entry = clients_[client];
  if (entry.registered && request->request < entry.reply.request) return;  // Old.
  if (entry.registered && request->request == entry.reply.request) {
    repeat_reply(client, reply_to);
    return;
  }
  if (!primary()) {
    // A backup forwards a newer request to the primary, as the original's
    // ignore_request_message_backup does.
    send(primary_index(), message);
    return;
  }
  const auto same_request = [&](const pool::Message* queued) {
    const auto* header = reinterpret_cast<const pool::PrepareHeader*>(queued->header);
    return header->client == request->client && header->request == request->request;
  };
  for (const PipelineEntry& entry_queued : prepare_queue_) {
    if (same_request(entry_queued.prepare)) return;
  }
  for (const pool::Message* queued : request_queue_) {
    const auto* header = reinterpret_cast<const pool::RequestHeader*>(queued->header);
    if (header->client == request->client && header->request == request->request) return;
  }
  if (!entry.registered && request->operation != operation_register) return;
  // Ops before the pipeline still to commit from the journal (a restarted lone replica).
  if (prepare_queue_.empty() && commit_min_ < op_) return;
  // The WAL cannot take ops beyond the next checkpoint: the request waits in the queue.
  if (prepare_queue_.size() < pipeline_prepare_queue_max_ && request_queue_.empty() &&
      op_ + 1 <= op_prepare_max()) {
    primary_pipeline_prepare(message, false);
  } else if (request_queue_.size() < pipeline_requests_limit_) {
    request_queue_.push_back(census_.hold(Term::pipeline, message));
  }
  // Otherwise the pipeline is full: the client retries.
}

void Replica::repeat_reply(uint32_t client, uint32_t to) {
  const pool::ReplyHeader& reply = clients_[client].reply;
  if (reply.frame.size == pool::header_size) {
    // A body-less reply is rebuilt from the client table's header.
    pool::Message* rebuilt = acquire(Term::burst);
    std::memcpy(rebuilt->header, &reply, pool::header_size);
    send(to, rebuilt);
    release(Term::burst, rebuilt);
    return;
  }
  if (pool::Message* writing = client_replies_.read_reply_sync(client, reply.frame.checksum)) {
    send(to, writing);
    return;
  }
  const uint64_t incarnation = incarnation_;
  const bool started = client_replies_.read_reply(
      client, reply.frame.checksum, [this, incarnation, to, client](pool::Message* read) {
        context_.record(TraceKind::reply_read, index_, client, read != nullptr);
        if (!alive(incarnation)) return;
        if (read != nullptr) {
          send(to, read);
        } else if (to >= context_.shape.member_count) {
          send_get_reply(client);  // Lost, corrupt, or never written here (a sync).
        }
      });
  (void)started;  // Busy: the request is ignored and the client retries.
}

// Client-reply repair, as the original's request_reply: a peer reads its copy for us.
void Replica::send_get_reply(uint32_t client) {
  if (context_.shape.member_count < 2) return;
  const pool::ReplyHeader& reply = clients_[client].reply;
  pool::Message* message = acquire(Term::burst);
  auto* header = header_start<Command::get_reply>(message, static_cast<uint8_t>(index_), 0, 0);
  header->reply_checksum = reply.frame.checksum;
  header->reply_client = reply.client;
  header->reply_op = reply.op;
  message_seal(message);
  send(choose_other_member(), message);
  release(Term::burst, message);
}

void Replica::on_get_reply(uint32_t from, pool::Message* message) {
  if (from >= context_.shape.member_count) return;
  const auto* request = message->build<Command::get_reply>()->header;
  const uint32_t client = client_index(request->reply_client);
  if (client == UINT32_MAX || !clients_[client].registered ||
      clients_[client].reply.frame.checksum != request->reply_checksum) {
    return;
  }
  repeat_reply(client, from);
}

// A reply from a peer: the copy our client-replies zone lacks.
void Replica::on_reply_repair(pool::Message* message) {
  const auto* reply = message->build<Command::reply>()->header;
  const uint32_t client = client_index(reply->client);
  if (client == UINT32_MAX || !clients_[client].registered ||
      clients_[client].reply.frame.checksum != reply->frame.checksum || !client_replies_.ready()) {
    return;
  }
  client_replies_.write_reply(client, message);
}

// --- The primary's pipeline.

void Replica::primary_pipeline_prepare(pool::Message* message, bool from_request_queue) {
  POOL_ASSERT(primary() && status_ == Status::normal);
  POOL_ASSERT_LT(prepare_queue_.size(), pipeline_prepare_queue_max_);
  POOL_ASSERT_LE(op_ + 1, op_prepare_max());
  // The request's buffer becomes the prepare: the pipeline's reference carries over.
  const pool::RequestHeader request = *message->build<Command::request>()->header;
  if (!from_request_queue) census_.hold(Term::pipeline, message);
  const uint32_t body_size = request.frame.size - pool::header_size;
  const pool::PrepareHeader* parent = journal_.header(op_);
  auto* header =
      header_start<Command::prepare>(message, static_cast<uint8_t>(index_), view_, body_size);
  header->frame.release = 1;
  header->parent = parent != nullptr ? parent->frame.checksum : pool::U128{0, 0};
  header->request_checksum = request.frame.checksum;
  header->client = request.client;
  header->op = op_ + 1;
  header->commit = commit_max_;
  header->timestamp = context_.now_tick() + 1;
  header->request = request.request;
  header->operation = request.operation;
  message_seal(message);

  if (prepare_queue_.empty()) prepare_timeout_.start();
  prepare_queue_.push_back(PipelineEntry{message, 0, false});
  context_.record(TraceKind::prepare, index_, header->op, client_index(request.client));

  op_ = header->op;
  journal_.set_header(*header);
  send_to_other_members(message);
  write_prepare(message);
}

void Replica::write_prepare(pool::Message* prepare) {
  const auto* header = prepare->build<Command::prepare>()->header;
  if (journal_.writing(header->op) || journal_.prepared(header->op)) return;
  if (journal_.header(header->op) == nullptr ||
      journal_.header(header->op)->frame.checksum != header->frame.checksum) {
    return;
  }
  if (header->op > op_prepare_max()) return;     // Its slot still holds an op to checkpoint.
  if (journal_.writes_available() == 0) return;  // Stays dirty: repair writes it later.
  const uint64_t incarnation = incarnation_;
  journal_.write_prepare(prepare, [this, incarnation](uint64_t op) {
    if (alive(incarnation)) write_prepare_done(op);
  });
}

void Replica::write_prepare_done(uint64_t op) {
  context_.record(TraceKind::journal_write, index_, op, journal_.prepared(op) ? 0 : 1);
  bus_.resume();
  if (status_ == Status::normal) {
    send_prepare_ok(op);
    flush_loopback_queue();
  }
  if (commit_from_journal()) commit_journal();
  primary_view_change_progress();
}

void Replica::send_prepare_ok(uint64_t op) {
  if (standby() || status_ != Status::normal || syncing_) return;
  const pool::PrepareHeader* prepare = journal_.header(op);
  if (prepare == nullptr || !journal_.prepared(op)) return;
  const bool to_self = primary();
  if (to_self && loopback_queue_ != nullptr) return;  // One message to itself at a time.
  const Term term = to_self ? Term::loopback_queue : Term::burst;
  pool::Message* ok = acquire(term);
  auto* header = header_start<Command::prepare_ok>(ok, static_cast<uint8_t>(index_), view_, 0);
  header->parent = prepare->parent;
  header->prepare_checksum = prepare->frame.checksum;
  header->client = prepare->client;
  header->op = op;
  header->commit_min = commit_min_;
  header->timestamp = prepare->timestamp;
  header->request = prepare->request;
  header->operation = prepare->operation;
  message_seal(ok);
  if (to_self) {
    loopback_queue_ = ok;
    return;
  }
  send(primary_index(), ok);
  release(Term::burst, ok);
}

void Replica::flush_loopback_queue() {
  if (loopback_queue_ == nullptr) return;
  pool::Message* message = loopback_queue_;
  loopback_queue_ = nullptr;
  on_prepare_ok(index_, message);
  release(Term::loopback_queue, message);
}

void Replica::on_prepare_ok(uint32_t from, pool::Message* message) {
  if (!primary() || from >= context_.shape.replica_count) return;
  const auto* ok = message->build<Command::prepare_ok>()->header;
  for (PipelineEntry& entry : prepare_queue_) {
    if (entry.prepare->header->frame.checksum != ok->prepare_checksum) continue;
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

void Replica::commit_pipeline() {
  if (committing_) return;
  committing_ = true;
  bool committed = false;
  while (status_ == Status::normal) {
    // As the original's commit_start_pipeline: commit_prepare is taken first and kept while the
    // commit waits for a client-reply write slot (commit_reply_setup).
    if (commit_prepare_ == nullptr) {
      if (prepare_queue_.empty() || !prepare_queue_.front().ok_quorum_received) break;
      if (prepare_queue_.front().prepare->build<Command::prepare>()->header->op !=
          commit_min_ + 1) {
        break;  // The ops before the pipeline commit from the journal first.
      }
      commit_prepare_ = census_.hold(Term::commit_prepare, prepare_queue_.front().prepare);
    }
    if (!commit_reply_ready()) break;
    execute(commit_prepare_);
    committed = true;
    release(Term::commit_prepare, commit_prepare_);
    commit_prepare_ = nullptr;
    primary_drain_request_queue();
  }
  // Progress resets the backoff, as the original does when a quorum arrives.
  if (prepare_queue_.empty()) {
    prepare_timeout_.stop();
  } else if (committed) {
    prepare_timeout_.reset();
  }
  committing_ = false;
}

void Replica::primary_drain_request_queue() {
  while (status_ == Status::normal && primary() && !request_queue_.empty() &&
         prepare_queue_.size() < pipeline_prepare_queue_max_ && op_ + 1 <= op_prepare_max()) {
    pool::Message* request = request_queue_.front();
    request_queue_.pop_front();
    primary_pipeline_prepare(request, true);
  }
}

bool Replica::commit_reply_ready() {
  if (client_replies_.ready()) return true;
  const uint64_t incarnation = incarnation_;
  client_replies_.on_ready([this, incarnation] {
    if (!alive(incarnation)) return;
    if (status_ == Status::normal && primary() && !prepare_queue_.empty()) {
      commit_pipeline();
    } else {
      commit_journal();
    }
  });
  return false;
}

void Replica::execute(pool::Message* message) {
  const pool::PrepareHeader prepare = *message->build<Command::prepare>()->header;
  POOL_ASSERT_EQ(prepare.op, commit_min_ + 1);
  ProcessEvent committed{ProcessEventKind::committed, index_, prepare.op, prepare.frame.checksum};
  committed.request = prepare.operation == operation_echo;
  context_.report(committed);

  const uint32_t client = client_index(prepare.client);
  POOL_ASSERT(client != UINT32_MAX);
  const bool echo = prepare.operation == operation_echo;
  pool::Message* reply = acquire(Term::commit_reply);
  auto* header = header_start<Command::reply>(reply, static_cast<uint8_t>(index_), view_,
                                              echo ? sizeof(pool::U128) : 0);
  header->frame.release = 1;
  header->request_checksum = prepare.request_checksum;
  header->context = prepare.frame.checksum;
  header->client = prepare.client;
  header->op = prepare.op;
  header->commit = prepare.op;
  header->timestamp = prepare.timestamp;
  header->request = prepare.request;
  header->operation = prepare.operation;
  if (echo) {
    const pool::U128 digest = echo_digest(prepare.client, prepare.request, message->body_used());
    std::memcpy(reply->body_used().data(), &digest, sizeof(digest));
  }
  message_seal(reply);

  if (!prepare_queue_.empty() && prepare_queue_.front().prepare == message) {
    release(Term::pipeline, message);
    prepare_queue_.pop_front();
  }
  commit_min_ = prepare.op;
  commit_max_ = std::max(commit_max_, commit_min_);
  commit_checksum_ = prepare.frame.checksum;
  context_.record(TraceKind::commit, index_, prepare.op, prepare.frame.checksum.low);

  clients_[client].registered = true;
  clients_[client].reply = *header;
  if (echo) client_replies_.write_reply(client, reply);
  // The primary answers, and so does one backup chosen by the op (hedging, as the original).
  const uint32_t backup =
      context_.shape.replica_count > 1
          ? static_cast<uint32_t>(
                (primary_index() + 1 + prepare.op % (context_.shape.replica_count - 1)) %
                context_.shape.replica_count)
          : UINT32_MAX;
  if (status_ == Status::normal && (primary() || index_ == backup)) {
    send(context_.shape.client_process(client), reply);
  }
  release(Term::commit_reply, reply);
  checkpoint_maybe();
}

// --- Backups.

MessageBus::Receive Replica::on_prepare(uint32_t from, pool::Message* message) {
  const auto* prepare = message->build<Command::prepare>()->header;
  // The normal path: a prepare of this view from this view's primary. Any other prepare can
  // only repair an op whose header the replica already knows.
  if (status_ != Status::normal || syncing_ || primary() || prepare->frame.view != view_ ||
      prepare->frame.replica != primary_index()) {
    if (prepare->frame.view > view_ && prepare->frame.replica == primary_of(prepare->frame.view)) {
      on_view_ahead(prepare->frame.view);
    }
    return on_prepare_repair(from, message);
  }
  normal_heartbeat_timeout_.ticks = 0;  // Heard from the primary (the jitter stays).
  advance_commit_max(prepare->commit);
  const uint64_t op = prepare->op;
  if (op <= commit_min_ || op > op_prepare_max()) return MessageBus::Receive::done;
  const pool::U128 checksum = prepare->frame.checksum;
  if (journal_.has_prepare(op, checksum)) {
    send_prepare_ok(op);
    commit_journal();
    return MessageBus::Receive::done;
  }
  if (journal_.writing(op)) return MessageBus::Receive::done;
  // No write slot: the bus keeps the prepare until a write completes (the original suspends).
  if (journal_.writes_available() == 0) return MessageBus::Receive::suspend;
  // This view's primary is the log: what the journal had for op (or its parent) was stale.
  if (const pool::PrepareHeader* below = journal_.header(op - 1);
      below != nullptr && below->frame.checksum != prepare->parent) {
    journal_.remove_header(op - 1);
  }
  op_ = std::max(op_, op);
  journal_.set_header(*prepare);
  if (op > commit_min_ && op <= commit_min_ + cache_.size()) cache_prepare(message);
  write_prepare(message);
  commit_journal();
  return MessageBus::Receive::done;
}

MessageBus::Receive Replica::on_prepare_repair(uint32_t from, pool::Message* message) {
  if (syncing_) return MessageBus::Receive::done;
  const auto* prepare = message->build<Command::prepare>()->header;
  const uint64_t op = prepare->op;
  const pool::PrepareHeader* known = journal_.header(op);
  if (known == nullptr || known->frame.checksum != prepare->frame.checksum) {
    return MessageBus::Receive::done;
  }
  if (op <= op_checkpoint_ || journal_.writing(op)) return MessageBus::Receive::done;
  if (journal_.prepared(op)) {
    // A primary's retry of a prepare from an earlier view: it is in our log, so acknowledge it.
    if (from == primary_index()) send_prepare_ok(op);
    return MessageBus::Receive::done;
  }
  if (op > commit_min_ && op <= commit_min_ + cache_.size()) cache_prepare(message);
  write_prepare(message);
  return MessageBus::Receive::done;
}

void Replica::cache_prepare(pool::Message* prepare) {
  const uint64_t op = prepare->build<Command::prepare>()->header->op;
  pool::Message*& slot = cache_[op % cache_.size()];
  if (slot == prepare) return;
  if (slot != nullptr) release(Term::pipeline, slot);
  slot = census_.hold(Term::pipeline, prepare);
}

pool::Message* Replica::cached(uint64_t op, const pool::U128& checksum) const {
  pool::Message* prepare = cache_[op % cache_.size()];
  if (prepare == nullptr) return nullptr;
  const auto* header = prepare->build<Command::prepare>()->header;
  return header->op == op && header->frame.checksum == checksum ? prepare : nullptr;
}

void Replica::on_commit(pool::Message* message) {
  if (status_ != Status::normal || primary()) return;
  const auto* commit = message->build<Command::commit>()->header;
  if (commit->frame.replica != primary_index()) return;
  normal_heartbeat_timeout_.ticks = 0;  // Heard from the primary (the jitter stays).
  if (behind_checkpoint(commit->checkpoint_op)) on_view_ahead(view_);
  advance_commit_max(commit->commit);
  // The primary vouches for the prepare at `commit`: a stale header there goes.
  if (commit->commit > commit_min_) {
    if (const pool::PrepareHeader* known = journal_.header(commit->commit);
        known != nullptr && known->frame.checksum != commit->commit_checksum) {
      journal_.remove_header(commit->commit);
    }
    if (commit->commit >= anchor_op_) {
      anchor_op_ = commit->commit;
      anchor_checksum_ = commit->commit_checksum;
    }
  }
  commit_journal();
}

void Replica::advance_commit_max(uint64_t commit) { commit_max_ = std::max(commit_max_, commit); }

void Replica::commit_journal() {
  if (committing_ || commit_reading_ || !commit_from_journal()) return;
  committing_ = true;
  while (commit_from_journal()) {
    if (commit_prepare_ == nullptr) {
      if (commit_min_ >= commit_max_) break;
      const uint64_t op = commit_min_ + 1;
      const pool::PrepareHeader* header = journal_.header(op);
      if (header == nullptr) break;  // Repair fetches it.
      if (header->parent != commit_checksum_) {
        journal_.remove_header(op);  // Stale: the chain from the commit does not hold.
        break;
      }
      if (!chained_to_head(op)) break;  // Repair links it to the head (or replaces it).
      if (pool::Message* prepare = cached(op, header->frame.checksum)) {
        commit_prepare_ = census_.hold(Term::commit_prepare, prepare);
      } else {
        if (!journal_.prepared(op)) break;
        const uint64_t incarnation = incarnation_;
        commit_reading_ =
            journal_.read_prepare(op, header->frame.checksum, Journal::ReadPurpose::commit,
                                  [this, incarnation, op](pool::Message* read) {
                                    if (alive(incarnation)) commit_journal_read_done(read, op);
                                  });
        break;
      }
    }
    if (!commit_reply_ready()) break;
    execute(commit_prepare_);
    release(Term::commit_prepare, commit_prepare_);
    commit_prepare_ = nullptr;
  }
  committing_ = false;
}

void Replica::commit_journal_read_done(pool::Message* prepare, uint64_t op) {
  context_.record(TraceKind::journal_read, index_, op, prepare == nullptr);
  commit_reading_ = false;
  if (!commit_from_journal() || op != commit_min_ + 1 || commit_prepare_ != nullptr) return;
  if (prepare == nullptr) {
    journal_.mark_faulty(op);  // Corrupt or stale: repair it from a peer.
    return;
  }
  commit_prepare_ = census_.hold(Term::commit_prepare, prepare);
  // The commit goes on in the next event, once the read has dropped its own message, as the
  // original's commit stages do.
  const uint64_t incarnation = incarnation_;
  context_.scheduler.schedule_after(0, [this, incarnation] {
    if (alive(incarnation)) commit_journal();
  });
}

// --- Repair.

void Replica::on_get_headers(uint32_t from, pool::Message* message) {
  if (from >= context_.shape.member_count) return;
  const auto* request = message->build<Command::get_headers>()->header;
  // From the top of the range down: the asker chains them from a header it trusts above.
  std::vector<const pool::PrepareHeader*> found;
  for (uint64_t op = std::min(request->op_max, op_);
       op >= request->op_min && op > 0 && found.size() < headers_per_message(context_.config);
       op--) {
    if (const pool::PrepareHeader* header = journal_.header(op)) found.push_back(header);
  }
  if (found.empty()) return;
  pool::Message* headers = acquire(Term::burst);
  header_start<Command::headers>(headers, static_cast<uint8_t>(index_), view_,
                                 static_cast<uint32_t>(found.size() * pool::header_size));
  for (size_t i = 0; i < found.size(); i++) {
    std::memcpy(headers->body_used().data() + i * pool::header_size, found[i], pool::header_size);
  }
  message_seal(headers);
  send(from, headers);
  release(Term::burst, headers);
}

void Replica::on_headers(pool::Message* message) {
  if (syncing_) return;
  std::vector<pool::PrepareHeader> received = prepare_headers_in(message->body_used());
  std::erase_if(received, [this](const pool::PrepareHeader& header) {
    return !header_fits(header.op) || header.op > std::max(op_, commit_max_);
  });
  // A peer's header is taken only where the hash chain from a header we trust reaches it:
  // a peer may still hold another view's uncommitted op.
  std::stable_sort(received.begin(), received.end(),
                   [](const auto& a, const auto& b) { return a.op > b.op; });
  for (const pool::PrepareHeader& header : received) {
    const pool::PrepareHeader* known = journal_.header(header.op);
    if (known != nullptr && known->frame.checksum == header.frame.checksum) continue;
    const pool::PrepareHeader* above = journal_.header(header.op + 1);
    const bool chained = (above != nullptr && above->parent == header.frame.checksum) ||
                         (header.op == anchor_op_ && header.frame.checksum == anchor_checksum_);
    if (!chained) continue;
    journal_.set_header(header);
    op_ = std::max(op_, header.op);
    if (const pool::PrepareHeader* below = journal_.header(header.op - 1);
        below != nullptr && below->frame.checksum != header.parent) {
      journal_.remove_header(header.op - 1);  // Stale: the chain names another parent.
    }
  }
  get_headers_sent_ = false;
  repair();
}

void Replica::on_get_prepare(uint32_t from, pool::Message* message) {
  if (from >= context_.shape.member_count) return;
  const auto* request = message->build<Command::get_prepare>()->header;
  for (const PipelineEntry& entry : prepare_queue_) {
    if (entry.prepare->header->frame.checksum == request->prepare_checksum) {
      send(from, entry.prepare);
      return;
    }
  }
  if (pool::Message* prepare = cached(request->prepare_op, request->prepare_checksum)) {
    send(from, prepare);
    return;
  }
  if (!journal_.has_prepare(request->prepare_op, request->prepare_checksum)) return;
  const uint64_t incarnation = incarnation_;
  const uint64_t op = request->prepare_op;
  // No read slot for repairs: the request is dropped and the peer asks again.
  journal_.read_prepare(op, request->prepare_checksum, Journal::ReadPurpose::repair,
                        [this, incarnation, from, op](pool::Message* read) {
                          if (!alive(incarnation)) return;
                          context_.record(TraceKind::journal_read, index_, op, read == nullptr);
                          if (read == nullptr) {
                            journal_.mark_faulty(op);
                          } else {
                            send(from, read);
                          }
                        });
}

void Replica::repair() {
  if (syncing_) return;
  const bool primary_elect = status_ == Status::view_change && primary() && log_chosen_;
  if (status_ != Status::normal && !primary_elect) return;
  uint64_t op_repair_max = op_;
  if (status_ == Status::normal && primary()) {
    for (const PipelineEntry& entry : prepare_queue_) write_prepare(entry.prepare);
    // Ops before the pipeline (committed, or a restarted lone replica's) repair like a backup's.
    op_repair_max = op_ - prepare_queue_.size();
  }
  // Headers missing after the commit: ask another member for the range. Up to commit_max
  // too: a restarted replica may know of commits beyond its own log.
  uint64_t missing_min = 0;
  uint64_t missing_max = 0;
  const uint64_t op_known_max = std::min<uint64_t>(std::max(op_repair_max, commit_max_),
                                                   commit_min_ + journal_.slot_count() - 1);
  for (uint64_t op = commit_min_ + 1; op <= op_known_max; op++) {
    if (journal_.header(op) != nullptr) continue;
    if (missing_min == 0) missing_min = op;
    missing_max = op;
  }
  const uint64_t now = context_.now_tick();
  if (missing_min > 0 &&
      (!get_headers_sent_ || now >= get_headers_sent_tick_ + repair_expiry_ticks)) {
    pool::Message* request = acquire(Term::burst);
    auto* header = header_start<Command::get_headers>(request, static_cast<uint8_t>(index_), 0, 0);
    header->op_min = missing_min;
    header->op_max = missing_max;
    message_seal(request);
    const bool ask_primary = status_ == Status::normal && !primary() && prng_.chance(1, 2);
    send(ask_primary ? primary_index() : choose_other_member(), request);
    release(Term::burst, request);
    get_headers_sent_ = true;
    get_headers_sent_tick_ = now;
  }
  repair_prepares(op_repair_max);
}

void Replica::repair_prepares(uint64_t op_max) {
  const uint64_t now = context_.now_tick();
  std::erase_if(repairs_, [&](const RepairRequest& r) {
    return now >= r.sent_tick + repair_expiry_ticks || journal_.prepared(r.op);
  });
  // From the checkpoint on: recovery replays the committed ops after it too.
  for (uint64_t op = op_checkpoint_ + 1; op <= op_max && journal_.writes_available() > 0; op++) {
    const pool::PrepareHeader* header = journal_.header(op);
    if (header == nullptr || journal_.prepared(op) || journal_.writing(op)) continue;
    if (op > op_prepare_max()) break;
    if (pool::Message* prepare = cached(op, header->frame.checksum)) {
      write_prepare(prepare);
      continue;
    }
    if (std::any_of(repairs_.begin(), repairs_.end(),
                    [op](const RepairRequest& r) { return r.op == op; })) {
      continue;
    }
    // Any other member may serve it; each has at most repairs_per_replica_max requests.
    const uint32_t to = choose_other_member();
    const auto in_flight = std::count_if(repairs_.begin(), repairs_.end(),
                                         [to](const RepairRequest& r) { return r.replica == to; });
    if (in_flight >= repairs_per_replica_max) continue;
    pool::Message* request = acquire(Term::burst);
    auto* get = header_start<Command::get_prepare>(request, static_cast<uint8_t>(index_), view_, 0);
    get->prepare_checksum = header->frame.checksum;
    get->prepare_op = op;
    message_seal(request);
    send(to, request);
    release(Term::burst, request);
    repairs_.push_back(RepairRequest{op, to, now});
  }
}

}  // namespace sim
