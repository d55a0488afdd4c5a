#include "sim/vsr/client_replies.h"

#include <algorithm>

namespace sim {

using pool::Term;

ClientReplies::ClientReplies(Storage& storage, pool::MessagePool& pool, Census& census,
                             const pool::Config& config)
    : storage_(storage),
      pool_(pool),
      census_(census),
      config_(config),
      writes_(config.client_replies_iops_write_max),
      reads_(config.client_replies_iops_read_max, nullptr) {
  POOL_ASSERT(!writes_.empty() && !reads_.empty(), "client replies need IOPS to read and write");
  POOL_ASSERT_EQ(census_.held(Term::client_replies_writes), 0u);
}

bool ClientReplies::ready() const {
  const auto busy = static_cast<uint32_t>(std::count_if(
      writes_.begin(), writes_.end(), [](const Write& write) { return write.message != nullptr; }));
  POOL_ASSERT_EQ(busy, census_.held(Term::client_replies_writes));
  return busy < writes_.size();
}

void ClientReplies::write_reply(uint32_t slot, pool::Message* reply) {
  POOL_ASSERT_EQ(reply->header->frame.command, pool::Command::reply);
  POOL_ASSERT(reply->header->frame.checksum == pool::header_checksum_calculate(*reply->header),
              "a reply is sealed before it is kept");
  // A write to the same slot that has not started yet is replaced (coalesced).
  for (Write& write : writes_) {
    if (write.message != nullptr && write.slot == slot && !write.started) {
      census_.release(pool_, Holder::client_replies_write, write.message);
      write.message = census_.hold(Holder::client_replies_write, reply);
      return;
    }
  }
  const auto free = std::find_if(writes_.begin(), writes_.end(),
                                 [](const Write& write) { return write.message == nullptr; });
  POOL_ASSERT(free != writes_.end(), "write_reply without a free write slot");
  free->message = census_.hold(Holder::client_replies_write, reply);
  free->slot = slot;
  free->started = false;
  const bool slot_busy = std::any_of(writes_.begin(), writes_.end(), [&](const Write& write) {
    return write.message != nullptr && write.slot == slot && write.started;
  });
  if (!slot_busy) write_start(static_cast<size_t>(free - writes_.begin()));
}

void ClientReplies::write_start(size_t index) {
  Write& write = writes_[index];
  POOL_ASSERT(write.message != nullptr && !write.started);
  POOL_ASSERT(std::none_of(writes_.begin(), writes_.end(),
                           [&](const Write& other) {
                             return other.message != nullptr && other.slot == write.slot &&
                                    other.started;
                           }),
              "one write at a time per slot");
  write.started = true;
  storage_.write(Zone::client_replies, write.slot, *write.message, [this, index](bool) {
    Write& done = writes_[index];
    POOL_ASSERT(done.message != nullptr && done.started);
    pool::Message* message = done.message;
    const uint32_t slot = done.slot;
    done.message = nullptr;
    done.started = false;
    census_.release(pool_, Holder::client_replies_write, message);
    // The next write queued for this slot, if any.
    for (size_t next = 0; next < writes_.size(); next++) {
      if (writes_[next].message != nullptr && writes_[next].slot == slot &&
          !writes_[next].started) {
        write_start(next);
        break;
      }
    }
    if (ready_callback_) {
      auto callback = std::move(ready_callback_);
      ready_callback_ = nullptr;
      callback();
    }
    if (checkpoint_callback_ && writes_idle()) {
      auto callback = std::move(checkpoint_callback_);
      checkpoint_callback_ = nullptr;
      callback();
    }
  });
}

bool ClientReplies::writes_idle() const {
  const bool idle = std::none_of(writes_.begin(), writes_.end(),
                                 [](const Write& write) { return write.message != nullptr; });
  POOL_ASSERT_EQ(idle, census_.held(Term::client_replies_writes) == 0);
  return idle;
}

void ClientReplies::checkpoint(std::function<void()> done) {
  POOL_ASSERT(done != nullptr && checkpoint_callback_ == nullptr, "one checkpoint at a time");
  if (writes_idle()) {
    done();
    return;
  }
  checkpoint_callback_ = std::move(done);
}

pool::Message* ClientReplies::read_reply_sync(uint32_t slot, const pool::U128& checksum) const {
  for (const Write& write : writes_) {
    if (write.message != nullptr && write.slot == slot &&
        write.message->header->frame.checksum == checksum) {
      POOL_ASSERT_EQ(write.message->header->frame.command, pool::Command::reply);
      return write.message;
    }
  }
  pool::maybe(std::any_of(writes_.begin(), writes_.end(),
                          [slot](const Write& write) { return write.slot == slot; }));
  return nullptr;
}

bool ClientReplies::read_reply(uint32_t slot, const pool::U128& checksum, ReadDone done) {
  POOL_ASSERT(done != nullptr);
  const auto free = std::find(reads_.begin(), reads_.end(), nullptr);
  if (free == reads_.end()) return false;
  *free = census_.acquire(pool_, Holder::client_replies_read);
  POOL_ASSERT_LE(census_.held(Term::client_replies_reads), reads_.size());
  const auto index = static_cast<size_t>(free - reads_.begin());
  storage_.read(Zone::client_replies, slot, **free,
                [this, index, checksum, done = std::move(done)](bool) {
                  pool::Message* message = reads_[index];
                  POOL_ASSERT(message != nullptr);
                  reads_[index] = nullptr;
                  const bool valid =
                      !pool::message_invalid(*message->header,
                                             message->buffer.subspan(pool::header_size), config_)
                           .has_value() &&
                      message->header->frame.checksum == checksum;
                  census_.release_later(Holder::client_replies_read, message);
                  done(valid ? message : nullptr);
                  census_.unref_later(pool_, message);
                });
  return true;
}

void ClientReplies::crash() {
  for (Write& write : writes_) {
    if (write.message != nullptr)
      census_.release(pool_, Holder::client_replies_write, write.message);
    write = Write{};
  }
  for (pool::Message*& read : reads_) {
    if (read != nullptr) census_.release(pool_, Holder::client_replies_read, read);
    read = nullptr;
  }
  ready_callback_ = nullptr;
  checkpoint_callback_ = nullptr;
  POOL_ASSERT_EQ(census_.held(Term::client_replies_writes), 0u);
  POOL_ASSERT_EQ(census_.held(Term::client_replies_reads), 0u);
}

}  // namespace sim
