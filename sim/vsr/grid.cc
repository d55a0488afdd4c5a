#include "sim/vsr/grid.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "sim/vsr/wire.h"

namespace sim {

using pool::Term;

namespace {
constexpr uint8_t block_type_sessions = 1;
constexpr uint8_t block_type_state = 2;
constexpr size_t state_body_size = 64;
}  // namespace

std::vector<ClientSession> sessions_decode(std::span<const uint8_t> body, uint32_t client_count) {
  body =
      body.subspan(std::min<size_t>(body.size(), pool::header_size));  // The checkpoint's header.
  POOL_ASSERT_EQ(body.size() % pool::header_size, 0u);
  std::vector<ClientSession> sessions(client_count);
  for (uint32_t c = 0; c < client_count && (c + 1) * pool::header_size <= body.size(); c++) {
    std::memcpy(&sessions[c].reply, body.data() + c * pool::header_size, pool::header_size);
    sessions[c].registered = sessions[c].reply.frame.command == pool::Command::reply;
    POOL_ASSERT(!sessions[c].registered || sessions[c].reply.client == client_id(c),
                "the session of client %u names another client", c);
  }
  return sessions;
}

Grid::Grid(Storage& storage, pool::MessagePool& pool, Census& census, const pool::Config& config,
           uint64_t checkpoint_interval_ops, uint32_t blocks_per_checkpoint, uint32_t client_count)
    : storage_(storage),
      pool_(pool),
      census_(census),
      config_(config),
      checkpoint_interval_ops_(checkpoint_interval_ops),
      blocks_per_checkpoint_(blocks_per_checkpoint),
      client_count_(client_count),
      reads_(config.grid_repair_reads_max),
      repair_writes_max_(config.grid_repair_reads_max) {
  POOL_ASSERT_GT(blocks_per_checkpoint_, 0u);
  POOL_ASSERT_EQ(storage.grid_slot_count(), 2 * blocks_per_checkpoint_);
}

uint64_t Grid::block_address(uint64_t checkpoint_op, uint32_t index) const {
  POOL_ASSERT_LT(index, blocks_per_checkpoint_);
  POOL_ASSERT_EQ(checkpoint_op % checkpoint_interval_ops_, 0u);
  return (checkpoint_op / checkpoint_interval_ops_) * blocks_per_checkpoint_ + index + 1;
}

std::vector<uint8_t> Grid::block_bytes(const Checkpoint& checkpoint, uint32_t index,
                                       const pool::PrepareHeader& prepare,
                                       const std::vector<ClientSession>& sessions) const {
  POOL_ASSERT_EQ(prepare.op, checkpoint.op);
  POOL_ASSERT(checkpoint.op == 0 || prepare.frame.checksum == checkpoint.checksum);
  const size_t body_size =
      index == 0 ? size_t{client_count_ + 1} * pool::header_size : state_body_size;
  POOL_ASSERT_LE(pool::header_size + body_size, config_.message_size_max);
  std::vector<uint8_t> bytes(pool::header_size + body_size, 0);
  pool::BlockHeader header{};
  header.frame.cluster = cluster_id;
  header.frame.size = static_cast<uint32_t>(bytes.size());
  header.frame.release = 1;
  header.frame.protocol = pool::protocol_version;
  header.frame.command = pool::Command::block;
  std::memcpy(header.metadata_bytes.data(), &checkpoint.checksum, sizeof(checkpoint.checksum));
  header.address = block_address(checkpoint.op, index);
  header.snapshot = checkpoint.op;
  header.block_type = index == 0 ? block_type_sessions : block_type_state;
  uint8_t* body = bytes.data() + pool::header_size;
  if (index == 0) {
    std::memcpy(body, &prepare, pool::header_size);
    for (uint32_t c = 0; c < client_count_ && c < sessions.size(); c++) {
      if (sessions[c].registered) {
        std::memcpy(body + (c + 1) * pool::header_size, &sessions[c].reply, pool::header_size);
      }
    }
  } else {
    // The rest of the state: bytes that only this checkpoint's block has.
    const std::array<uint64_t, 3> seed = {checkpoint.checksum.low, checkpoint.checksum.high,
                                          header.address};
    const pool::U128 digest =
        pool::checksum(std::span(reinterpret_cast<const uint8_t*>(seed.data()), sizeof(seed)));
    for (size_t offset = 0; offset < state_body_size; offset += sizeof(digest)) {
      std::memcpy(body + offset, &digest, sizeof(digest));
    }
  }
  std::memcpy(bytes.data(), &header, pool::header_size);
  pool::header_set_checksums(*reinterpret_cast<pool::Header*>(bytes.data()),
                             std::span(bytes).subspan(pool::header_size));
  POOL_ASSERT(block_valid(bytes, header.address, &checkpoint), "a block built must verify");
  return bytes;
}

bool Grid::block_valid(std::span<const uint8_t> bytes, uint64_t address,
                       const Checkpoint* checkpoint) const {
  POOL_ASSERT_GT(address, 0u);
  // Never written, or short: not a block.
  if (bytes.size() < pool::header_size) return false;
  pool::BlockHeader header;
  std::memcpy(&header, bytes.data(), pool::header_size);
  const auto& as_header = *reinterpret_cast<const pool::Header*>(&header);
  if (pool::message_invalid(as_header, bytes.subspan(pool::header_size), config_)) return false;
  if (header.frame.command != pool::Command::block || header.address != address) return false;
  if (checkpoint == nullptr) return true;
  pool::U128 checksum;
  std::memcpy(&checksum, header.metadata_bytes.data(), sizeof(checksum));
  const bool any_checksum = checkpoint->checksum == pool::U128{0, 0};
  return header.snapshot == checkpoint->op && (any_checksum || checksum == checkpoint->checksum);
}

void Grid::checkpoint_write(const Checkpoint& checkpoint, const pool::PrepareHeader& header,
                            const std::vector<ClientSession>& sessions,
                            std::function<void()> done) {
  POOL_ASSERT_GT(checkpoint.op, 0u);
  POOL_ASSERT_EQ(header.op, checkpoint.op);
  auto remaining = std::make_shared<uint32_t>(blocks_per_checkpoint_);
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (uint32_t index = 0; index < blocks_per_checkpoint_; index++) {
    const uint64_t address = block_address(checkpoint.op, index);
    storage_.write_bytes(Zone::grid, slot(address),
                         block_bytes(checkpoint, index, header, sessions),
                         [remaining, shared_done](bool) {
                           POOL_ASSERT_GT(*remaining, 0u);
                           if (--*remaining == 0) (*shared_done)();
                         });
  }
}

void Grid::scrub(const Checkpoint& checkpoint, std::function<void()> done) {
  POOL_ASSERT_GT(checkpoint.op, 0u);
  POOL_ASSERT(done != nullptr);
  auto remaining = std::make_shared<uint32_t>(blocks_per_checkpoint_);
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  const uint64_t incarnation = incarnation_;
  for (uint32_t index = 0; index < blocks_per_checkpoint_; index++) {
    const uint64_t address = block_address(checkpoint.op, index);
    storage_.read_bytes(
        Zone::grid, slot(address),
        [this, address, checkpoint, remaining, shared_done, incarnation](std::vector<uint8_t> bytes,
                                                                         bool) {
          if (incarnation != incarnation_) return;
          // The grid moved past this checkpoint meanwhile, or syncs past it.
          const bool current =
              checkpoint.op + checkpoint_interval_ops_ >= current_.op && synced_.op <= current_.op;
          const bool known =
              !current || std::any_of(missing_.begin(), missing_.end(),
                                      [address](const Missing& m) { return m.address == address; });
          if (!known && !block_valid(bytes, address, &checkpoint)) {
            missing_.push_back(Missing{address, checkpoint, false});
          }
          POOL_ASSERT_GT(*remaining, 0u);
          if (--*remaining == 0) (*shared_done)();
        });
  }
}

void Grid::sync_to(const Checkpoint& checkpoint) {
  POOL_ASSERT(checkpoint.op > current_.op, "a sync moves the grid forward");
  missing_.clear();
  synced_sessions_.clear();
  synced_header_ = pool::PrepareHeader{};
  synced_ = checkpoint;
  for (uint32_t index = 0; index < blocks_per_checkpoint_; index++) {
    missing_.push_back(Missing{block_address(checkpoint.op, index), checkpoint, false});
  }
  POOL_ASSERT(!synced());
}

bool Grid::synced() const {
  POOL_ASSERT(synced_.op == 0 || synced_.op % checkpoint_interval_ops_ == 0);
  return std::none_of(missing_.begin(), missing_.end(),
                      [this](const Missing& m) { return m.checkpoint.op == synced_.op; });
}

std::vector<pool::BlockRequest> Grid::missing() const {
  std::vector<pool::BlockRequest> requests;
  for (const Missing& m : missing_) {
    POOL_ASSERT_GT(m.address, 0u);
    if (!m.writing) requests.push_back(pool::BlockRequest{pool::U128{0, 0}, m.address, {}});
  }
  POOL_ASSERT_LE(requests.size(), missing_.size());
  return requests;
}

bool Grid::wants(uint64_t address) const {
  POOL_ASSERT_GT(address, 0u);  // Validated on receipt: addresses start at 1.
  return std::any_of(missing_.begin(), missing_.end(),
                     [address](const Missing& m) { return m.address == address && !m.writing; });
}

bool Grid::on_block(const pool::Message& block, std::function<void()> done) {
  POOL_ASSERT_EQ(block.header->frame.command, pool::Command::block);
  POOL_ASSERT(done != nullptr);
  const auto* header = block.build<pool::Command::block>()->header;
  if (!wants(header->address)) return false;
  const auto wanted = std::find_if(missing_.begin(), missing_.end(), [&](const Missing& m) {
    return m.address == header->address && !m.writing;
  });
  POOL_ASSERT(wanted != missing_.end());
  const std::span<const uint8_t> bytes = block.buffer.first(header->frame.size);
  if (!block_valid(bytes, wanted->address, &wanted->checkpoint)) return false;
  if (wanted->checkpoint.checksum == pool::U128{0, 0}) {
    pool::U128 checksum;
    std::memcpy(&checksum, header->metadata_bytes.data(), sizeof(checksum));
    for (Missing& m : missing_) {
      if (m.checkpoint.op == wanted->checkpoint.op) m.checkpoint.checksum = checksum;
    }
    if (synced_.op == wanted->checkpoint.op) synced_.checksum = checksum;
  }
  if (header->block_type == block_type_sessions) {
    const std::span<const uint8_t> body = bytes.subspan(pool::header_size);
    if (body.size() >= pool::header_size) {
      std::memcpy(&synced_header_, body.data(), pool::header_size);
    }
    synced_sessions_ = sessions_decode(body, client_count_);
  }
  POOL_ASSERT(!repair_writes_full(), "the replica suspends blocks while the writes are full");
  wanted->writing = true;
  repair_writes_in_flight_ += 1;
  const uint64_t address = wanted->address;
  const uint64_t incarnation = incarnation_;
  storage_.write_bytes(
      Zone::grid, slot(address), std::vector<uint8_t>(bytes.begin(), bytes.end()),
      [this, address, incarnation, done = std::move(done)](bool) {
        if (incarnation != incarnation_) return;
        POOL_ASSERT_GT(repair_writes_in_flight_, 0u);
        repair_writes_in_flight_ -= 1;
        const size_t erased =
            std::erase_if(missing_, [address](const Missing& m) { return m.address == address; });
        pool::maybe(erased == 0);  // A newer checkpoint may have dropped the block meanwhile.
        done();
      });
  return true;
}

bool Grid::ours(uint64_t address) const {
  POOL_ASSERT_EQ(current_.op % checkpoint_interval_ops_, 0u);
  if (current_.op == 0) return false;
  const uint64_t first = block_address(current_.op, 0);
  const uint64_t previous_first =
      current_.op >= checkpoint_interval_ops_ ? first - blocks_per_checkpoint_ : first;
  POOL_ASSERT_LE(previous_first, first);
  if (address < previous_first || address >= first + blocks_per_checkpoint_) return false;
  return std::none_of(missing_.begin(), missing_.end(),
                      [address](const Missing& m) { return m.address == address; });
}

bool Grid::serve(const pool::BlockRequest& request,
                 std::function<void(pool::Message* block)> send) {
  if (!ours(request.block_address)) return false;
  const auto read = std::find_if(reads_.begin(), reads_.end(),
                                 [](const Read& r) { return r.message == nullptr; });
  if (read == reads_.end()) return false;
  read->message = census_.acquire(pool_, Holder::grid_repair_read);
  reads_in_flight_ += 1;
  POOL_ASSERT_LE(reads_in_flight_, reads_.size());
  const auto index = static_cast<size_t>(read - reads_.begin());
  const uint64_t address = request.block_address;
  storage_.read(Zone::grid, slot(address), *read->message,
                [this, index, address, send = std::move(send)](bool) {
                  pool::Message* message = reads_[index].message;
                  POOL_ASSERT(message != nullptr);
                  POOL_ASSERT_GT(reads_in_flight_, 0u);
                  reads_[index].message = nullptr;
                  reads_in_flight_ -= 1;
                  const uint32_t size = message->header->frame.size;
                  const bool valid = size >= pool::header_size && size <= message->buffer.size() &&
                                     block_valid(message->buffer.first(size), address, nullptr);
                  // As the journal's reads: the slot is free for the callback, the unref after.
                  census_.release_later(Holder::grid_repair_read, message);
                  if (valid) send(message);
                  census_.unref_later(pool_, message);
                });
  return true;
}

void Grid::set_current(const Checkpoint& checkpoint) {
  POOL_ASSERT(checkpoint.op == 0 || checkpoint.op % checkpoint_interval_ops_ == 0);
  pool::maybe(checkpoint.op < current_.op);  // Recovery from an older superblock after a crash.
  current_ = checkpoint;
  const uint64_t keep_from = checkpoint.op >= checkpoint_interval_ops_
                                 ? block_address(checkpoint.op - checkpoint_interval_ops_, 0)
                                 : 1;
  std::erase_if(missing_, [keep_from](const Missing& m) { return m.address < keep_from; });
}

void Grid::crash() {
  for (Read& read : reads_) {
    if (read.message != nullptr) census_.release(pool_, Holder::grid_repair_read, read.message);
    read.message = nullptr;
  }
  reads_in_flight_ = 0;
  repair_writes_in_flight_ = 0;
  missing_.clear();
  synced_sessions_.clear();
  synced_header_ = pool::PrepareHeader{};
  synced_ = Checkpoint{};
  current_ = Checkpoint{};
  incarnation_ += 1;
  POOL_ASSERT_EQ(census_.held(Term::grid_repair_reads), 0u);
  POOL_ASSERT(missing_.empty() && synced_.op == 0);
}

}  // namespace sim
