// A replica's client-replies zone in flight: each reply write holds a reference to the reply
// (client_replies_iops_write_max slots; a queued write to a slot being written waits, and a
// newer one replaces it), each read a message of its own (client_replies_iops_read_max), as the
// original's ClientReplies does.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "pool/message_pool.h"
#include "sim/core/census.h"
#include "sim/world/storage.h"

namespace sim {

class ClientReplies {
 public:
  using ReadDone = std::function<void(pool::Message* reply)>;  // Null if the slot was stale.

  ClientReplies(Storage& storage, pool::MessagePool& pool, Census& census,
                const pool::Config& config);

  // A write slot is free: the commit path waits for this before building a reply.
  bool ready() const;
  // Writes `reply` to `slot` (a reference is held until the write completes). Requires ready().
  void write_reply(uint32_t slot, pool::Message* reply);
  // The reply being written to `slot`, if its checksum is `checksum` (no disk read needed).
  pool::Message* read_reply_sync(uint32_t slot, const pool::U128& checksum) const;
  // Reads `slot`, or returns false when every read slot is busy (the request is ignored).
  bool read_reply(uint32_t slot, const pool::U128& checksum, ReadDone done);
  // Runs once after the next write completes (the commit path's wait for ready()).
  void on_ready(std::function<void()> callback) { ready_callback_ = std::move(callback); }
  // Runs `done` once no write is in flight, at once if none is: a checkpoint's sessions name
  // replies that must be on disk before the superblock names the checkpoint
  // (client_replies.zig:479-510, awaited by commit_checkpoint_data, replica.zig:5041).
  void checkpoint(std::function<void()> done);

  void crash();

 private:
  struct Write {
    pool::Message* message = nullptr;
    uint32_t slot = 0;
    bool started = false;
  };
  void write_start(size_t index);
  bool writes_idle() const;

  Storage& storage_;
  pool::MessagePool& pool_;
  Census& census_;
  const pool::Config config_;
  std::vector<Write> writes_;
  std::vector<pool::Message*> reads_;
  std::function<void()> ready_callback_;
  std::function<void()> checkpoint_callback_;
};

}  // namespace sim
