// Checkpoints, state sync and grid repair (see replica.h).
#include <algorithm>
#include <cstring>

#include "sim/vsr/replica.h"
#include "sim/vsr/wire.h"

namespace sim {

using pool::Command;
using pool::Term;

// Every checkpoint_interval_ops commits, the state (here: the client sessions, and blocks that
// stand for the rest) goes to the grid, then the superblock names it: the WAL may reuse the
// slots of the ops before it.
bool Replica::checkpoint_maybe() {
  POOL_ASSERT(state_.commit_stage == CommitStage::checkpoint);
  if (state_.commit_min % checkpoint_interval_ops_ != 0 ||
      state_.commit_min <= state_.op_checkpoint)
    return false;
  POOL_ASSERT(state_.checkpoint_stage == CheckpointStage::idle,
              "r%u: checkpoint %llu while the previous is being written", index_,
              static_cast<unsigned long long>(state_.commit_min));
  // The next checkpoint after ours: commits go one op at a time, and no sync runs meanwhile.
  POOL_ASSERT_EQ(state_.commit_min, state_.op_checkpoint + checkpoint_interval_ops_);
  POOL_ASSERT(!syncing_blocks());
  state_.checkpoint_stage = CheckpointStage::writing;
  const Checkpoint checkpoint{state_.commit_min, state_.commit_checksum};
  context_.record(TraceKind::checkpoint, index_, checkpoint.op, 0);
  const uint64_t incarnation = incarnation_;
  const pool::PrepareHeader* executed = journal_.header(checkpoint.op);
  POOL_ASSERT(executed != nullptr && executed->frame.checksum == checkpoint.checksum);
  const pool::PrepareHeader header = *executed;
  // The commit waits for the checkpoint's data and superblock, holding its prepare
  // (commit_checkpoint_data and _superblock, replica.zig:4500-4517).
  grid_.checkpoint_write(
      checkpoint, header, state_.clients,
      [this, incarnation, checkpoint, header, sessions = state_.clients,
       resume = commit_resumer()] {
        if (!alive(incarnation)) return;
        // The sessions' replies durable first: a restart from this checkpoint reads them back.
        client_replies_.checkpoint([this, incarnation, checkpoint, header, sessions, resume] {
          if (!alive(incarnation)) return;
          POOL_ASSERT_EQ(census_.held(Term::client_replies_writes), 0u);     // All on disk.
          POOL_ASSERT(state_.checkpoint_stage == CheckpointStage::writing);  // One at a time.
          state_.checkpoint_stage = CheckpointStage::idle;
          // No sync starts while a commit is under way (sync_begin waits for it).
          POOL_ASSERT_GT(checkpoint.op, state_.op_checkpoint);
          checkpoint_adopt(header, sessions);
          grid_.scrub(checkpoint, [] {});  // A lost block write shows here: grid repair fetches.
          context_.record(TraceKind::checkpoint, index_, checkpoint.op, 1);
          resume();
          primary_drain_request_queue();  // The WAL has room again.
        });
      });
  return true;
}

// The checkpoint at header.op is the replica's: the superblock names it (with the sessions it
// holds), and the grid keeps its blocks and the previous checkpoint's.
void Replica::checkpoint_adopt(const pool::PrepareHeader& header,
                               const std::vector<ClientSession>& sessions) {
  POOL_ASSERT_EQ(header.frame.command, Command::prepare);
  // A checkpoint moves forward, over executed ops only.
  POOL_ASSERT_GT(header.op, state_.op_checkpoint);
  POOL_ASSERT_LE(header.op, state_.commit_min);
  POOL_ASSERT_EQ(sessions.size(), size_t{context_.shape.client_count});
  const Checkpoint checkpoint{header.op, header.frame.checksum};
  state_.op_checkpoint = checkpoint.op;
  state_.checkpoint_checksum = checkpoint.checksum;
  Superblock superblock = superblock_decode(storage_.superblock_read());
  superblock.checkpoint_op = checkpoint.op;
  superblock.checkpoint_checksum = checkpoint.checksum;
  superblock.checkpoint_header = header;
  superblock.clients = sessions;
  storage_.superblock_write(superblock_encode(superblock));
  // Read back as restart reads it: the superblock names this checkpoint.
  POOL_ASSERT_EQ(superblock_decode(storage_.superblock_read()).checkpoint_op, checkpoint.op);
  grid_.set_current(checkpoint);
}

// A view message whose checkpoint is beyond what repair can reach: the replica keeps it (the
// original's sync_view) until it has the checkpoint's blocks, then joins that view.
void Replica::sync_maybe(pool::Message* view_message) {
  const auto* header = view_message->build<Command::view>()->header;
  POOL_ASSERT(sync_needed(header->op));  // on_view's decision.
  POOL_ASSERT_EQ(state_.sync_view != nullptr, state_.sync_stage != SyncStage::idle);
  if (state_.sync_view != nullptr) {
    const auto* kept = state_.sync_view->build<Command::view>()->header;
    // ignore_view dropped every view message no newer than the one kept.
    POOL_ASSERT(
        kept->checkpoint_op < header->checkpoint_op ||
        (kept->checkpoint_op == header->checkpoint_op && kept->frame.view < header->frame.view));
    release(Holder::sync_view, state_.sync_view);
  }
  state_.sync_view = census_.hold(Holder::sync_view, view_message);
  if (state_.sync_stage == SyncStage::idle) state_.sync_stage = SyncStage::view_held;
  sync_begin();
}

void Replica::sync_begin() {
  if (state_.sync_view == nullptr) return;
  const uint64_t checkpoint_op = state_.sync_view->build<Command::view>()->header->checkpoint_op;
  // A view's checkpoint is its primary's: a multiple of the interval (send_view).
  POOL_ASSERT_EQ(checkpoint_op % checkpoint_interval_ops_, 0u);
  if (syncing_blocks() && state_.sync_target.op == checkpoint_op) return;
  if (!syncing_blocks() && !sync_needed(state_.sync_view->build<Command::view>()->header->op)) {
    // Commits caught up while the sync waited: repair reaches the rest, and the view comes
    // again from its primary.
    const uint32_t view = state_.sync_view->header->frame.view;
    release(Holder::sync_view, state_.sync_view);
    state_.sync_view = nullptr;
    state_.sync_stage = SyncStage::idle;
    if (view > state_.view || (view == state_.view && state_.status != Status::normal))
      request_view(view);
    return;
  }
  // The commit stage finishes what it has started first, as the original's sync waits for it.
  if (state_.commit_stage != CommitStage::idle || state_.commit_prepare != nullptr ||
      state_.checkpoint_stage != CheckpointStage::idle) {
    return;
  }
  POOL_ASSERT(checkpoint_op > state_.commit_min, "r%u: a sync to checkpoint %llu from commit %llu",
              index_, static_cast<unsigned long long>(checkpoint_op),
              static_cast<unsigned long long>(state_.commit_min));
  // A sync under way moves to a later checkpoint only (sync_maybe keeps newer view messages).
  POOL_ASSERT(!syncing_blocks() || checkpoint_op > state_.sync_target.op);
  context_.record(TraceKind::sync_start, index_, checkpoint_op, state_.commit_min);
  if (state_.status == Status::normal && primary()) {
    // A primary of a view the cluster has left: it steps down to sync.
    primary_pipeline_to_cache();
    timeout(TimeoutKind::commit_message).stop();
    timeout(TimeoutKind::prepare).stop();
  }
  state_.sync_stage = SyncStage::fetching_blocks;
  // The view message carries the checkpoint's prepare header when its primary has it: the
  // blocks must then name its checksum. Otherwise the first block names it.
  state_.sync_target = Checkpoint{checkpoint_op, pool::U128{0, 0}};
  for (const pool::PrepareHeader& header : prepare_headers_in(state_.sync_view->body_used())) {
    if (header.op == checkpoint_op) state_.sync_target.checksum = header.frame.checksum;
  }
  // The checkpoint replaces the log up to it; the headers after it stay (the replica may have
  // acknowledged those ops).
  for (pool::Message*& prepare : state_.pipeline.cache()) {
    if (prepare != nullptr) release(Holder::pipeline, prepare);
    prepare = nullptr;
  }
  state_.repairs.clear();
  state_.get_headers_sent = false;
  grid_.sync_to(state_.sync_target);
  POOL_ASSERT(grid_.missing_any());  // Every block of the target, until a peer sends it.
  grid_repair();
}

void Replica::sync_done() {
  POOL_ASSERT(syncing_blocks() && state_.sync_view != nullptr);
  const Checkpoint checkpoint = grid_.synced_checkpoint();
  POOL_ASSERT_EQ(checkpoint.op, state_.sync_target.op);
  // The blocks name the prepare the view message named, if it named one (Grid::block_valid).
  POOL_ASSERT(state_.sync_target.checksum == (pool::U128{0, 0}) ||
              checkpoint.checksum == state_.sync_target.checksum);
  POOL_ASSERT_GT(checkpoint.op, state_.commit_min);  // Nothing commits while blocks come in.
  static_cast<void>(context_.report(
      ProcessEvent{ProcessEventKind::synced, index_, checkpoint.op, checkpoint.checksum}));
  state_.clients = grid_.synced_sessions();
  state_.commit_min = checkpoint.op;
  state_.op = std::max(state_.op, checkpoint.op);
  state_.commit_max = std::max(state_.commit_max, checkpoint.op);
  state_.commit_checksum = checkpoint.checksum;
  state_.anchor_op = 0;
  const pool::PrepareHeader& header = grid_.synced_header();
  POOL_ASSERT(header.op == checkpoint.op && header.frame.checksum == checkpoint.checksum,
              "r%u: checkpoint %llu's block names another prepare", index_,
              static_cast<unsigned long long>(checkpoint.op));
  journal_.set_header(header);  // The log after the sync starts from the checkpoint's prepare.
  checkpoint_adopt(header, state_.clients);
  context_.record(TraceKind::sync_done, index_, checkpoint.op, 0);

  pool::Message* view_message = state_.sync_view;
  state_.sync_view = nullptr;
  state_.sync_stage = SyncStage::idle;
  // The view may have moved on while the sync waited to begin: then a later view message
  // brings this replica in.
  if (view_message->header->frame.view >= state_.view) {
    install_view(view_message);
  } else {
    request_view(state_.view);
  }
  release(Holder::sync_view, view_message);
}

// --- Grid repair: blocks a peer's grid reads serve.

void Replica::grid_repair() {
  std::vector<pool::BlockRequest> requests = grid_.missing();
  if (requests.empty() || context_.shape.member_count < 2) return;
  const size_t requests_max =
      (context_.config.message_size_max - pool::header_size) / sizeof(pool::BlockRequest);
  POOL_ASSERT_GT(requests_max, 0u);  // A message holds a request at least.
  if (requests.size() > requests_max) requests.resize(requests_max);
  // Each names a grid address (the first is 1), as the peer's bus validates a block's.
  for (const pool::BlockRequest& request : requests) POOL_ASSERT_GT(request.block_address, 0u);
  pool::Message* message = acquire(Holder::repair_request);
  header_start<Command::get_blocks>(
      message, static_cast<uint8_t>(index_), 0,
      static_cast<uint32_t>(requests.size() * sizeof(pool::BlockRequest)));
  std::memcpy(message->body_used().data(), requests.data(),
              requests.size() * sizeof(pool::BlockRequest));
  message_seal(message);
  send(choose_other_member(), message);
  release(Holder::repair_request, message);
}

bool Replica::ignore_get_blocks(uint32_t from, const pool::Message* message) const {
  POOL_ASSERT_EQ(message->header->frame.command, Command::get_blocks);
  POOL_ASSERT_EQ(message->header->frame.view, 0u);  // grid_repair's (validated on receipt).
  return from >= context_.shape.member_count || from == index_;
}

void Replica::on_get_blocks(uint32_t from, pool::Message* message) {
  if (ignore_get_blocks(from, message)) return;
  POOL_ASSERT_LT(from, context_.shape.member_count);
  POOL_ASSERT_EQ(message->header->frame.replica, from);  // A member asks under its own name.
  const auto body = message->body_used();
  // One request or more, each whole, as grid_repair built them (validated on receipt).
  POOL_ASSERT_GT(body.size(), 0u);
  POOL_ASSERT_EQ(body.size() % sizeof(pool::BlockRequest), 0u);
  const uint64_t incarnation = incarnation_;
  for (size_t offset = 0; offset + sizeof(pool::BlockRequest) <= body.size();
       offset += sizeof(pool::BlockRequest)) {
    pool::BlockRequest request;
    std::memcpy(&request, body.data() + offset, sizeof(request));
    // Every grid read busy: the rest of the request is dropped and the peer asks again.
    if (!grid_.serve(request, [this, incarnation, from](pool::Message* block) {
          if (alive(incarnation)) send(from, block);
        })) {
      POOL_ASSERT_LE(grid_.reads_in_flight(), context_.config.grid_repair_reads_max);
      if (grid_.reads_in_flight() >= context_.config.grid_repair_reads_max) break;
    }
  }
}

bool Replica::ignore_block(const pool::Message* message) const {
  const auto* header = message->build<pool::Command::block>()->header;
  POOL_ASSERT_EQ(header->frame.command, Command::block);
  POOL_ASSERT_GT(header->address, 0u);  // Validated on receipt.
  return !grid_.wants(header->address);
}

void Replica::on_block(pool::Message* message) {
  if (ignore_block(message)) return;
  POOL_ASSERT(grid_.missing_any());
  const uint64_t address = message->build<Command::block>()->header->address;
  const uint64_t incarnation = incarnation_;
  const bool taken = grid_.on_block(*message, [this, incarnation] {
    if (!alive(incarnation)) return;
    bus_.resume();  // A repair write is free: a suspended block may go on.
    context_.record(TraceKind::block_repaired, index_, grid_.missing().size(), syncing_blocks());
    if (syncing_blocks() && grid_.synced()) sync_done();
  });
  pool::maybe(taken);  // A block a peer read may fail verification (stale or corrupt).
  // A block taken is being written: the grid asks for it no more.
  const std::vector<pool::BlockRequest> missing = grid_.missing();
  POOL_ASSERT(!taken || std::none_of(missing.begin(), missing.end(),
                                     [address](const pool::BlockRequest& request) {
                                       return request.block_address == address;
                                     }));
}

}  // namespace sim
