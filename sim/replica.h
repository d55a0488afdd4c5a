// A simulated replica: a simplified but real Viewstamped Replication in normal operation, whose
// every message lives in its own pool and is held where and when the original holds it: the
// pipeline (the primary's prepare and request queues; a backup's cache of prepares), the
// journal's and the client-replies zone's IO slots, the loopback queue, commit_prepare, the
// commit's reply, bursts, and the bus. Status and view are explicit so that view changes, state
// sync and grid repair can be added beside normal operation.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "pool/message_pool.h"
#include "sim/census.h"
#include "sim/client_replies.h"
#include "sim/journal.h"
#include "sim/message_bus.h"
#include "sim/prng.h"
#include "sim/storage.h"
#include "sim/timeout.h"
#include "sim/world.h"

namespace sim {

class Replica {
 public:
  enum class Status : uint8_t { down, recovering, normal };

  Replica(const World& world, uint32_t index, pool::MessagePool& pool, Census& census,
          Storage& storage);
  ~Replica();

  // Starts a fresh replica (empty disk).
  void open();
  // Loses everything in memory and lets go of every message; the disk keeps what was written.
  void crash();
  // Starts again from the disk: recovery reads the WAL, then the replica catches up.
  void restart();
  void tick();

  Network::Delivery deliver(uint32_t from, const pool::Message& packet) {
    return bus_.deliver(from, packet);
  }

  uint32_t index() const { return index_; }
  Status status() const { return status_; }
  bool standby() const { return index_ >= world_.replica_count; }
  bool primary() const { return index_ == primary_index(); }
  uint64_t op() const { return op_; }
  uint64_t commit_min() const { return commit_min_; }
  uint64_t commit_max() const { return commit_max_; }
  // Every op in 1..op is on disk (as far as the replica knows).
  bool log_complete() const;
  // "r1 normal op=12 commit_min=10 commit_max=12 pipeline=2 missing=[11]".
  std::string describe() const;

 private:
  struct PipelineEntry {
    pool::Message* prepare;
    uint64_t ok_from;  // Bitset of replicas whose prepare_ok arrived.
    bool ok_quorum_received;
  };
  struct ClientEntry {
    bool registered = false;
    pool::ReplyHeader reply{};  // The latest reply's header.
  };
  struct RepairRequest {
    uint64_t op;
    uint32_t replica;
    uint64_t sent_tick;
  };

  uint32_t primary_index() const { return view_ % world_.replica_count; }
  uint32_t quorum_replication() const;
  pool::Message* acquire(pool::Term term) { return census_.acquire(pool_, term); }
  void release(pool::Term term, pool::Message* message) { census_.release(pool_, term, message); }
  void send(uint32_t to, pool::Message* message) { bus_.send(to, message); }
  void send_to_other_members(pool::Message* message);
  bool alive(uint64_t incarnation) const { return incarnation == incarnation_; }
  void release_memory();

  MessageBus::Receive on_message(uint32_t from, pool::Message* message);
  void on_ping(uint32_t from, pool::Message* message);
  void on_ping_client(uint32_t from);
  void on_request(uint32_t from, pool::Message* message);
  MessageBus::Receive on_prepare(pool::Message* message);
  void on_prepare_ok(uint32_t from, pool::Message* message);
  void on_commit(pool::Message* message);
  void on_get_headers(uint32_t from, pool::Message* message);
  void on_headers(pool::Message* message);
  void on_get_prepare(uint32_t from, pool::Message* message);

  // Primary.
  void primary_pipeline_prepare(pool::Message* request, bool from_request_queue);
  void commit_pipeline();
  void on_prepare_timeout();
  void send_commit();
  // Every replica.
  void write_prepare(pool::Message* prepare);
  void write_prepare_done(uint64_t op);
  void send_prepare_ok(uint64_t op);
  void flush_loopback_queue();
  void execute(pool::Message* prepare);
  void repeat_reply(uint32_t client, uint32_t to);
  void send_ping();
  // Backups.
  void advance_commit_max(uint64_t commit);
  void commit_journal();
  void commit_journal_read_done(pool::Message* prepare, uint64_t op);
  // A client-reply write slot is free; if not, the commit resumes when one is.
  bool commit_reply_ready();
  void cache_prepare(pool::Message* prepare);
  pool::Message* cached(uint64_t op, const pool::U128& checksum) const;
  void repair();
  void repair_prepares();
  void recovery_read_next();
  uint32_t client_index(const pool::U128& client) const;
  uint32_t choose_other_member();

  const World& world_;
  const uint32_t index_;
  pool::MessagePool& pool_;
  Census& census_;
  Storage& storage_;
  Prng prng_;
  MessageBus bus_;
  Journal journal_;
  ClientReplies client_replies_;
  uint64_t incarnation_ = 0;

  Status status_ = Status::down;
  uint32_t view_ = 0;
  uint64_t op_ = 0;
  uint64_t commit_min_ = 0;
  uint64_t commit_max_ = 0;
  pool::U128 commit_checksum_{0, 0};  // Of the prepare at commit_min (0 for the root).

  // The pipeline: queues on the primary, a cache of prepares on a backup.
  const uint32_t pipeline_prepare_queue_max_;
  const uint32_t pipeline_requests_limit_;
  std::deque<PipelineEntry> prepare_queue_;
  std::deque<pool::Message*> request_queue_;
  std::vector<pool::Message*> cache_;

  pool::Message* commit_prepare_ = nullptr;
  bool committing_ = false;
  bool commit_reading_ = false;
  pool::Message* loopback_queue_ = nullptr;
  std::vector<ClientEntry> clients_;

  std::vector<RepairRequest> repairs_;
  uint64_t get_headers_sent_tick_ = 0;
  bool get_headers_sent_ = false;
  uint32_t recovery_slot_next_ = 0;

  Timeout ping_timeout_{100};
  Timeout prepare_timeout_{25};
  Timeout commit_message_timeout_{50};
  Timeout repair_timeout_{10};
};

const char* replica_status_name(Replica::Status status);

}  // namespace sim
