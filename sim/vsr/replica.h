// A simulated replica: a simplified but real Viewstamped Replication (normal operation, view
// changes, recovery, checkpoints, state sync and grid repair), whose every message lives in its
// own pool and is held where and when the original holds it: the pipeline (the primary's prepare
// and request queues; a cache of prepares on backups and during a view change), the journal's,
// the client-replies zone's and the grid's IO slots, the loopback queue, commit_prepare, the
// commit's reply, the join_view quorum, sync_view, bursts, and the bus.
//
// replica.cc: normal operation; replica_view_change.cc: view changes, the view message and
// recovery; replica_sync.cc: checkpoints, state sync and grid repair.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/core/prng.h"
#include "sim/vsr/client_replies.h"
#include "sim/vsr/grid.h"
#include "sim/vsr/journal.h"
#include "sim/vsr/pipeline.h"
#include "sim/vsr/process_context.h"
#include "sim/vsr/replica_options.h"
#include "sim/vsr/superblock.h"
#include "sim/vsr/timeout.h"
#include "sim/world/message_bus.h"
#include "sim/world/storage.h"

namespace sim {

class Replica {
 public:
  enum class Status : uint8_t { down, recovering, normal, view_change };

  Replica(const ProcessContext& context, const ReplicaOptions& options, uint32_t index,
          pool::MessagePool& pool, Census& census, Storage& storage);
  ~Replica();

  // Starts a fresh replica (empty disk).
  void open();
  // Loses everything in memory and lets go of every message; the disk keeps what was written.
  void crash();
  // Starts again from the disk: recovery reads the WAL, then the replica catches up.
  void restart();
  void tick();

  // The bus the network delivers to (the cluster links it, as the original's network.link).
  MessageBus& bus() { return bus_; }

  uint32_t index() const { return index_; }
  Status status() const { return state_.status; }
  bool standby() const { return index_ >= context_.shape.replica_count; }
  bool primary() const { return index_ == primary_index(); }
  uint64_t op() const { return state_.op; }
  uint32_t view() const { return state_.view; }
  // A sync is under way or waits to start (it holds a view message).
  bool syncing() const { return state_.sync_stage != SyncStage::idle; }
  bool grid_missing() const { return grid_.missing_any(); }
  uint64_t commit_min() const { return state_.commit_min; }
  uint64_t commit_max() const { return state_.commit_max; }
  // Every op after the checkpoint up to op is on disk (as far as the replica knows).
  bool log_complete() const;
  // "primary normal", "backup view_change", "standby recovering", "backup normal syncing".
  std::string activity() const;
  // "r1 normal op=12 commit_min=10 commit_max=12 pipeline=2 missing=[11]".
  std::string describe() const;

 private:
  using PipelineEntry = Pipeline::Entry;
  // The commit's stage (replica_commit.cc): the one under way or waited for.
  enum class CommitStage : uint8_t {
    idle,
    start,
    prefetch,
    reply_setup,
    execute,
    compact,
    checkpoint
  };
  enum class CheckpointStage : uint8_t { idle, writing };
  // State sync: a view message kept for a checkpoint beyond repair's reach, then its blocks
  // being fetched.
  enum class SyncStage : uint8_t { idle, view_held, fetching_blocks };
  struct RepairRequest {
    uint64_t op;
    uint32_t replica;
    uint64_t sent_tick;
  };

  uint32_t primary_index() const { return primary_of(state_.view); }
  uint32_t primary_of(uint32_t view) const { return view % context_.shape.replica_count; }
  uint32_t quorum_replication() const;
  uint32_t quorum_view_change() const;
  pool::Message* acquire(Holder holder) { return census_.acquire(pool_, holder); }
  void release(Holder holder, pool::Message* message) { census_.release(pool_, holder, message); }
  void send(uint32_t to, pool::Message* message) { bus_.send(to, message); }
  void send_to_other_members(pool::Message* message);
  bool alive(uint64_t incarnation) const { return incarnation == incarnation_; }
  // The volatile state's invariants: every verify_period_ticks ticks, as the events before left
  // them, and after a crash.
  static constexpr uint64_t verify_period_ticks = 16;
  void verify() const;
  void release_memory();

  // The bus asks before it consumes a message: true keeps it in the receive buffer.
  bool suspend_message(const pool::Header& header) const;
  void on_message(uint32_t from, pool::Message* message);
  // Normal operation (replica.cc): what each handler ignores, decided in one place.
  // Each is true if on_X drops the message untouched; none has a side effect. on_message's
  // pre-dispatch effects (on_view_ahead) come before them.
  bool ignore_ping(uint32_t from, const pool::Message* message) const;
  bool ignore_ping_client(uint32_t from) const;
  bool ignore_request(uint32_t from, const pool::Message* message) const;
  // True for any prepare but the normal path's (this view's, from its primary, on a backup
  // in normal status): on_prepare hands those to on_prepare_repair.
  bool prepare_off_normal_path(uint32_t from, const pool::Message* message) const;
  bool ignore_prepare_repair(uint32_t from, const pool::Message* message) const;
  bool ignore_prepare_ok(uint32_t from, const pool::Message* message) const;
  bool ignore_commit(const pool::Message* message) const;
  bool ignore_get_headers(uint32_t from, const pool::Message* message) const;
  bool ignore_headers(const pool::Message* message) const;
  bool ignore_get_prepare(uint32_t from, const pool::Message* message) const;
  bool ignore_get_reply(uint32_t from, const pool::Message* message) const;
  bool ignore_reply_repair(uint32_t from, const pool::Message* message) const;
  // verify()'s half on references: the census counts each message the volatile state keeps.
  void verify_census() const;

  // View changes and sync (replica_view_change.cc, replica_sync.cc): what each handler ignores.
  // Each is true if on_X drops the message; none has a side effect.
  // An exit_view or join_view that no view change of ours takes: from a non-replica or
  // ourselves, to a standby or a replica fetching sync blocks (neither votes), or of a view
  // that is over. Any other of a later view first takes this replica into that view change.
  bool ignore_view_change_message(uint32_t from, const pool::Message* message) const;
  bool ignore_exit_view(uint32_t from, const pool::Message* message) const;
  // Also true for a join_view to a replica that is not its view's primary (misdirected); that
  // one still took this replica into its view first, so on_join_view asks after the transition.
  bool ignore_join_view(uint32_t from, const pool::Message* message) const;
  bool ignore_get_view(uint32_t from, const pool::Message* message) const;
  // A view message names its author in its header (on_view is not told who sent it).
  bool ignore_view(const pool::Message* message) const;
  bool ignore_get_blocks(uint32_t from, const pool::Message* message) const;
  // A block the grid does not miss, or whose write is already in flight.
  bool ignore_block(const pool::Message* message) const;

  void on_ping(uint32_t from, pool::Message* message);
  void on_ping_client(uint32_t from);
  void on_request(uint32_t from, pool::Message* message);
  void on_prepare(uint32_t from, pool::Message* message);
  void on_prepare_ok(uint32_t from, pool::Message* message);
  void on_commit(pool::Message* message);
  void on_get_headers(uint32_t from, pool::Message* message);
  void on_headers(pool::Message* message);
  void on_get_prepare(uint32_t from, pool::Message* message);
  void on_exit_view(uint32_t from, pool::Message* message);
  void on_join_view(uint32_t from, pool::Message* message);
  void on_get_view(uint32_t from, pool::Message* message);
  void on_view(pool::Message* message);
  void on_get_blocks(uint32_t from, pool::Message* message);
  void on_block(pool::Message* message);
  // A message from a view after ours: ask that view's primary for its view message.
  void on_view_ahead(uint32_t view);

  // The commit (replica_commit.cc). commit_pipeline and commit_journal start one if none runs.
  void commit_pipeline();
  void commit_journal();
  // Runs the stages until one waits (its callback resumes) or nothing is left to commit.
  void commit_dispatch();
  // A callback that resumes the dispatch at the current stage (if the replica lives on).
  std::function<void()> commit_resumer();
  void commit_resume(uint64_t incarnation, CommitStage stage);
  // Each is false when its stage waits for a callback.
  bool commit_start();
  void commit_journal_read_done(pool::Message* prepare, uint64_t op);
  bool commit_prefetch();
  void commit_execute();
  void execute(pool::Message* prepare);
  void commit_finish();

  // Primary.
  void primary_pipeline_prepare(pool::Message* request, bool from_request_queue);
  // Prepares queued requests while the prepare queue and the WAL have room.
  void primary_drain_request_queue();
  void on_prepare_timeout();
  void send_commit();
  // Every replica.
  void write_prepare(pool::Message* prepare);
  void write_prepare_done(uint64_t op);
  void send_prepare_ok(uint64_t op);
  void flush_loopback_queue();
  void send_to_self(pool::Message* message);
  // A reply to a client (a copy of it, if its view is older than the durable log view), or to a
  // peer that repairs it.
  void send_reply_to_client(uint32_t to, pool::Message* reply);
  void repeat_reply(uint32_t client, uint32_t to);
  void send_get_reply(uint32_t client);
  void on_get_reply(uint32_t from, pool::Message* message);
  void on_reply_repair(uint32_t from, pool::Message* message);
  void send_ping();
  // Backups.
  void on_prepare_repair(uint32_t from, pool::Message* message);
  void advance_commit_max(uint64_t commit);
  void cache_prepare(pool::Message* prepare);
  void repair();
  void repair_prepares(uint64_t op_max);
  void recovery_read_next();
  uint32_t client_index(const pool::U128& client) const;
  uint32_t choose_other_member();
  bool commit_from_journal() const;
  // The highest op the WAL can take before the next checkpoint is durable.
  uint64_t op_prepare_max() const;
  bool behind_checkpoint(uint64_t checkpoint_op) const;
  bool sync_needed(uint64_t view_op) const;
  bool header_fits(uint64_t op) const;

  // View changes (replica_view_change.cc).
  // Leaves the current view for a later one; enter_view_change also takes the same view (a
  // replica that restarts in the middle of a view change resumes it).
  void transition_to_view_change(uint32_t view);
  void send_exit_view();
  void maybe_send_join_view();
  pool::Message* build_join_view(Holder holder);
  void primary_join_view_quorum_check();
  void primary_choose_log();
  void primary_truncate_nacked();
  // The join_views that say their replica never wrote the prepare of op we have.
  uint32_t nacks(uint64_t op) const;
  void primary_view_change_progress();
  void primary_start_view();
  void primary_pipeline_to_cache();
  void release_join_views();
  void send_view(uint32_t to);
  void install_view(const pool::Message* view_message);
  void start_normal_timeouts();
  void head_take(std::span<const uint8_t> body);
  // Installs headers of one view's log: each replaces what the journal had for its op.
  void install_headers(std::span<const uint8_t> body, uint64_t op_max);
  // Drops every header whose successor names another parent (stale); keeps those below a gap.
  void verify_chain_from_head();
  // Op's header is linked by the hash chain to the head (or to an anchor): canonical.
  bool chained_to_head(uint64_t op) const;
  void truncate_after(uint64_t op);
  void superblock_view_update();
  void enter_view_change(uint32_t view);
  void request_view(uint32_t view);
  void recovery_done();

  // Checkpoints, state sync, grid repair (replica_sync.cc).
  // At a checkpoint's op, starts its writes (the commit waits for them): true if it did.
  bool checkpoint_maybe();
  void checkpoint_adopt(const pool::PrepareHeader& header,
                        const std::vector<ClientSession>& sessions);
  void sync_maybe(pool::Message* view_message);
  void sync_begin();
  void sync_done();
  void grid_repair();

  const ProcessContext& context_;
  const uint32_t index_;
  pool::MessagePool& pool_;
  Census& census_;
  Storage& storage_;
  Prng prng_;
  MessageBus bus_;
  Journal journal_;
  ClientReplies client_replies_;
  uint64_t incarnation_ = 0;

  // The pipeline's sizes and the checkpoint interval, fixed at start-up.
  const uint32_t pipeline_prepare_queue_max_;
  const uint32_t pipeline_requests_limit_;
  const uint64_t checkpoint_interval_ops_;
  Grid grid_;

  // What a crash loses: everything in memory (the disk keeps the rest). crash() releases the
  // messages it holds, then replaces it whole.
  struct VolatileState {
    VolatileState(uint32_t client_count, uint32_t replica_count, uint32_t prepare_queue_max,
                  uint32_t requests_limit)
        : pipeline(prepare_queue_max, requests_limit),
          clients(client_count),
          join_view_from_all_replicas(replica_count, nullptr) {}

    Status status = Status::down;
    uint32_t view = 0;
    uint32_t log_view = 0;          // The latest view in which the replica was normal.
    uint32_t log_view_durable = 0;  // The superblock's log_view.
    uint64_t op = 0;
    uint64_t commit_min = 0;
    uint64_t commit_max = 0;
    pool::U128 commit_checksum{0, 0};  // Of the prepare at commit_min (0 for the root).

    Pipeline pipeline;
    pool::Message* commit_prepare = nullptr;
    CommitStage commit_stage = CommitStage::idle;
    bool commit_dispatching = false;
    pool::Message* loopback_queue = nullptr;
    std::vector<ClientSession> clients;

    // View change: exit_view votes (a bitset) and, on the new primary, one join_view per
    // replica.
    uint64_t exit_view_from = 0;
    bool join_view_sent = false;
    std::vector<pool::Message*> join_view_from_all_replicas;
    bool log_chosen = false;
    uint32_t pipeline_reads_in_flight = 0;
    uint32_t view_requested = 0;
    // The canonical head as the superblock and commit messages vouch for it.
    uint64_t anchor_op = 0;
    pool::U128 anchor_checksum{0, 0};

    // Checkpoints and state sync.
    uint64_t op_checkpoint = 0;
    pool::U128 checkpoint_checksum{0, 0};
    CheckpointStage checkpoint_stage = CheckpointStage::idle;
    SyncStage sync_stage = SyncStage::idle;
    pool::Message* sync_view = nullptr;  // The view message kept while the replica syncs.
    Checkpoint sync_target;

    std::vector<RepairRequest> repairs;
    uint64_t get_headers_sent_tick = 0;
    bool get_headers_sent = false;
    uint32_t recovery_slot_next = 0;

    // By TimeoutKind (a replica's come first).
    std::array<Timeout, replica_timeout_count> timeouts = timeouts_initial();
  };
  // Each replica timeout at its base, set by kind.
  static std::array<Timeout, replica_timeout_count> timeouts_initial();
  VolatileState volatile_state() const {
    return VolatileState(context_.shape.client_count, context_.shape.replica_count,
                         pipeline_prepare_queue_max_, pipeline_requests_limit_);
  }
  Timeout& timeout(TimeoutKind kind) {
    POOL_ASSERT_LT(static_cast<size_t>(kind), replica_timeout_count);
    return state_.timeouts[static_cast<size_t>(kind)];
  }
  bool syncing_blocks() const { return state_.sync_stage == SyncStage::fetching_blocks; }

  VolatileState state_;
};

const char* replica_status_name(Replica::Status status);

}  // namespace sim
