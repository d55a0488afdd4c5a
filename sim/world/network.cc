#include "sim/world/network.h"

#include <algorithm>
#include <cstring>

#include "sim/world/message_bus.h"

namespace sim {

namespace {
constexpr uint64_t ppm = 1'000'000;
// A partition holds (and a healed network stays whole) at least this long.
constexpr uint64_t partition_stability_ticks = 100;
// TCP_USER_TIMEOUT: (tcp_keepidle + tcp_keepintvl × tcp_keepcnt) s = (5 + 4 × 3) s
// (constants.zig:477, config.zig:111-113), at tick_ms = 10 (config.zig:120).
constexpr uint64_t tcp_user_timeout_ticks = (5 + 4 * 3) * 1000 / 10;
}  // namespace

uint32_t network_path_count(uint32_t member_count, uint32_t client_count) {
  return member_count * (member_count - 1) + 2 * member_count * client_count;
}

const char* partition_mode_name(PartitionMode mode) {
  switch (mode) {
    case PartitionMode::none:
      return "none";
    case PartitionMode::isolate_single:
      return "isolate_single";
    case PartitionMode::uniform_size:
      return "uniform_size";
    case PartitionMode::uniform_partition:
      return "uniform_partition";
  }
  return "unknown";
}

const char* partition_symmetry_name(PartitionSymmetry symmetry) {
  return symmetry == PartitionSymmetry::symmetric ? "symmetric" : "asymmetric";
}

Network::Network(const NetworkOptions& options, uint64_t seed, const pool::Config& config,
                 Scheduler& scheduler, Trace& trace, uint32_t member_count, uint32_t client_count)
    : options_(options),
      config_(config),
      scheduler_(scheduler),
      trace_(trace),
      prng_(prng_for(seed, PrngStream::network)),
      member_count_(member_count),
      process_count_(member_count + client_count),
      paths_(size_t{process_count_} * process_count_),
      buses_(process_count_, nullptr),
      side_(member_count, 0) {
  const uint32_t capacity =
      network_path_count(member_count, client_count) * static_cast<uint32_t>(options.path_capacity);
  pool_ = std::make_unique<pool::MessagePool>(config, capacity, "network");
}

Network::~Network() { release_all(); }

void Network::link(uint32_t process, MessageBus& bus) {
  POOL_ASSERT_LT(process, process_count_);
  POOL_ASSERT(buses_[process] == nullptr, "process %u is linked already", process);
  buses_[process] = &bus;
}

Network::Delivery Network::deliver(uint32_t from, uint32_t to, uint64_t link,
                                   const pool::Message& packet) {
  if (buses_[to] != nullptr) return buses_[to]->deliver(from, link, packet);
  POOL_ASSERT(unlinked_delivery_ != nullptr, "process %u has no bus linked", to);
  return unlinked_delivery_(from, to, packet);
}

void Network::record_drop(uint32_t from, uint32_t to, uint8_t command, DropReason reason) {
  trace_.record({scheduler_.now_tick(), TraceKind::drop, static_cast<uint8_t>(from),
                 static_cast<uint8_t>(to), command, static_cast<uint64_t>(reason), 0});
}

uint64_t Network::delay_ticks() {
  // Uniform on [min, 2·mean − min]: the mean is `delay_ticks_mean`, integers only.
  const uint64_t min = options_.delay_ticks_min;
  const uint64_t max = 2 * options_.delay_ticks_mean - min;
  uint64_t delay = prng_.range_inclusive(min, max);
  if (prng_.chance(fault_ppm(options_.packet_reorder_ppm), ppm)) {
    delay += prng_.range_inclusive(1, 4 * options_.delay_ticks_mean);
  }
  return delay;
}

void Network::submit(uint32_t from, uint32_t to, const pool::Message& message, uint64_t link) {
  POOL_ASSERT_LT(from, process_count_);
  POOL_ASSERT_LT(to, process_count_);
  POOL_ASSERT_NE(from, to);
  POOL_ASSERT(!(is_client(from) && is_client(to)));
  const uint32_t size = message.header->frame.size;
  POOL_ASSERT_LE(size, config_.message_size_max);
  trace_.record({scheduler_.now_tick(), TraceKind::send, static_cast<uint8_t>(from),
                 static_cast<uint8_t>(to), static_cast<uint8_t>(message.header->frame.command),
                 message.header->frame.checksum.low, size});

  Path& path = paths_[path_index(from, to)];
  if (path.packets.size() == options_.path_capacity) {
    // As in the original: a full path drops a random packet already queued.
    const size_t victim = prng_.below(path.packets.size());
    record_drop(from, to, static_cast<uint8_t>(path.packets[victim].message->header->frame.command),
                DropReason::path_full);
    remove_packet(path, victim);
  }
  pool::Message* packet = pool_->get_message();
  std::memcpy(packet->buffer.data(), message.buffer.data(), size);
  if (prng_.chance(fault_ppm(options_.packet_corrupt_ppm), ppm)) {
    const size_t byte = prng_.below(size);
    packet->buffer[byte] = static_cast<uint8_t>(packet->buffer[byte] ^ (1u + prng_.below(255)));
  }
  enqueue(from, to, link, packet);
}

void Network::enqueue(uint32_t from, uint32_t to, uint64_t link, pool::Message* packet) {
  const uint64_t id = packet_id_next_++;
  POOL_ASSERT_LT(paths_[path_index(from, to)].packets.size(), options_.path_capacity);
  pool_peak_ = std::max(pool_peak_, pool_->used_count());
  Path& path = paths_[path_index(from, to)];
  path.packets.push_back(Packet{id, link, packet});
  if (use_observer_) use_observer_(pool_->used_count());
  const uint64_t due_tick = link_due_tick(path, link);
  scheduler_.schedule(due_tick, [this, from, to, id] { deliver_event(from, to, id); });
}

uint64_t Network::link_due_tick(Path& path, uint64_t link) {
  uint64_t due_tick = scheduler_.now_tick() + delay_ticks();
  // A tcp connection delivers in order (and its close after its data): never before what was
  // sent on the path before it.
  if (link != 0) {
    due_tick = std::max(due_tick, path.link_due_tick_last);
    path.link_due_tick_last = due_tick;
  }
  return due_tick;
}

void Network::remove_packet(Path& path, size_t index) {
  POOL_ASSERT_LT(index, path.packets.size());
  POOL_ASSERT_GT(pool_->used_count(), 0u);
  pool_->unref(path.packets[index].message);
  path.packets.erase(path.packets.begin() + static_cast<std::ptrdiff_t>(index));
  if (use_observer_) use_observer_(pool_->used_count());
}

bool Network::clogged(uint32_t from, uint32_t to) const {
  return paths_[path_index(from, to)].clogged_until_tick > scheduler_.now_tick();
}

uint64_t Network::clogged_until_tick(uint32_t from, uint32_t to) const {
  return paths_[path_index(from, to)].clogged_until_tick;
}

bool Network::partitioned(uint32_t from, uint32_t to) const {
  if (!partition_active_ || is_client(from) || is_client(to)) return false;
  if (side_[from] == side_[to]) return false;
  // Asymmetric: only packets leaving side 1 are cut.
  return options_.partition_symmetry == PartitionSymmetry::symmetric || side_[from] == 1;
}

void Network::deliver_event(uint32_t from, uint32_t to, uint64_t id) {
  Path& path = paths_[path_index(from, to)];
  const auto found = std::find_if(path.packets.begin(), path.packets.end(),
                                  [id](const Packet& packet) { return packet.id == id; });
  if (found == path.packets.end()) return;  // Dropped when the path overflowed.
  const size_t index = static_cast<size_t>(found - path.packets.begin());
  pool::Message* packet = found->message;
  const uint64_t link = found->link;
  const auto command = static_cast<uint8_t>(packet->header->frame.command);

  if (path.clogged_until_tick > scheduler_.now_tick()) {
    scheduler_.schedule(path.clogged_until_tick,
                        [this, from, to, id] { deliver_event(from, to, id); });
    return;
  }
  if (prng_.chance(fault_ppm(options_.packet_loss_ppm), ppm)) {
    record_drop(from, to, command, DropReason::loss);
    remove_packet(path, index);
    return;
  }
  if (partitioned(from, to)) {
    record_drop(from, to, command, DropReason::partition);
    remove_packet(path, index);
    return;
  }
  // TCP never duplicates within a connection: replays are the testing bus's.
  if (link == 0 && prng_.chance(fault_ppm(options_.packet_replay_ppm), ppm) &&
      path.packets.size() < options_.path_capacity) {
    // The duplicate is a copy of its own, delivered later.
    pool::Message* copy = pool_->get_message();
    // The size may be corrupt: copy at most a buffer.
    const size_t size = std::min<size_t>(packet->header->frame.size, config_.message_size_max);
    std::memcpy(copy->buffer.data(), packet->buffer.data(), size);
    enqueue(from, to, link, copy);
  }
  if (deliver(from, to, link, *packet) == Delivery::busy) {
    POOL_ASSERT(link != 0, "only a tcp connection holds a packet back");
    parked_.push_back(Parked{from, to, link, id});  // Until the receiver wakes the link.
    return;
  }
  // The receiver may have sent packets on this path: find ours again.
  const auto again = std::find_if(path.packets.begin(), path.packets.end(),
                                  [id](const Packet& p) { return p.id == id; });
  POOL_ASSERT(again != path.packets.end());
  remove_packet(path, static_cast<size_t>(again - path.packets.begin()));
}

void Network::connect(uint32_t from, uint32_t to, uint64_t link) {
  POOL_ASSERT_NE(from, to);
  POOL_ASSERT(buses_[from] != nullptr, "process %u connects without a bus", from);
  if (partitioned(from, to) || partitioned(to, from)) {
    // SYNs (or their answers) lost until TCP_USER_TIMEOUT ends the connect (message_bus.zig
    // init_tcp sets it; constants.zig:477): the connector's slot stays connecting meanwhile.
    scheduler_.schedule_after(tcp_user_timeout_ticks, [this, from, to, link] {
      buses_[from]->connect_done(to, link, false);
    });
    return;
  }
  scheduler_.schedule_after(delay_ticks(),
                            [this, from, to, link] { connect_arrive(from, to, link); });
}

void Network::connect_arrive(uint32_t from, uint32_t to, uint64_t link) {
  // A process with no bus (a test watching the wire) takes every connection.
  const bool accepted =
      buses_[to] == nullptr ? unlinked_delivery_ != nullptr : buses_[to]->incoming(from, link);
  scheduler_.schedule_after(delay_ticks(), [this, from, to, link, accepted] {
    buses_[from]->connect_done(to, link, accepted);
  });
}

void Network::wake(uint64_t link) {
  POOL_ASSERT_NE(link, 0u);
  // In the order they were held back; a packet the path dropped meanwhile is not found again.
  for (size_t i = 0; i < parked_.size();) {
    if (parked_[i].link != link) {
      i++;
      continue;
    }
    const Parked parked = parked_[i];
    parked_.erase(parked_.begin() + static_cast<std::ptrdiff_t>(i));
    scheduler_.schedule_after(0,
                              [this, parked] { deliver_event(parked.from, parked.to, parked.id); });
  }
}

void Network::link_close(uint32_t from, uint32_t to, uint64_t link) {
  POOL_ASSERT_NE(from, to);
  POOL_ASSERT_NE(link, 0u);
  const uint64_t due_tick = link_due_tick(paths_[path_index(from, to)], link);
  scheduler_.schedule(due_tick, [this, from, to, link] { link_close_arrive(from, to, link); });
}

void Network::link_close_arrive(uint32_t from, uint32_t to, uint64_t link) {
  const Path& path = paths_[path_index(from, to)];
  if (path.clogged_until_tick > scheduler_.now_tick()) {
    // Behind the data the clog holds, as a FIN is.
    scheduler_.schedule(path.clogged_until_tick,
                        [this, from, to, link] { link_close_arrive(from, to, link); });
    return;
  }
  if (buses_[to] != nullptr) buses_[to]->link_closed(from, link);
}

void Network::partition_form() {
  std::vector<uint8_t> side(member_count_, 0);
  switch (options_.partition_mode) {
    case PartitionMode::none:
      return;
    case PartitionMode::isolate_single:
      side[prng_.below(member_count_)] = 1;
      break;
    case PartitionMode::uniform_size: {
      std::vector<uint32_t> order(member_count_);
      for (uint32_t i = 0; i < member_count_; i++) order[i] = i;
      prng_.shuffle(std::span<uint32_t>(order));
      const uint64_t size = prng_.range_inclusive(1, member_count_ - 1);
      for (uint64_t i = 0; i < size; i++) side[order[i]] = 1;
      break;
    }
    case PartitionMode::uniform_partition:
      for (auto& s : side) s = prng_.chance(1, 2) ? 1 : 0;
      break;
  }
  POOL_ASSERT(!partition_active_);
  const auto ones = std::count(side.begin(), side.end(), uint8_t{1});
  if (ones == 0 || ones == static_cast<std::ptrdiff_t>(member_count_)) return;
  side_ = side;
  partition_active_ = true;
  partition_changed_tick_ = scheduler_.now_tick();
  uint64_t bitset = 0;
  for (uint32_t i = 0; i < member_count_; i++) bitset |= uint64_t{side_[i]} << i;
  trace_.record({scheduler_.now_tick(), TraceKind::partition, network_process_id, 0, 0,
                 static_cast<uint64_t>(options_.partition_mode), bitset});
}

void Network::tick() {
  const uint64_t now = scheduler_.now_tick();
  if (member_count_ > 1 && now >= partition_changed_tick_ + partition_stability_ticks) {
    if (!partition_active_ && prng_.chance(fault_ppm(options_.partition_ppm), ppm)) {
      partition_form();
    } else if (partition_active_ && prng_.chance(options_.unpartition_ppm, ppm)) {
      partition_active_ = false;
      partition_changed_tick_ = now;
      trace_.record({now, TraceKind::heal, network_process_id, 0, 0, 0, 0});
    }
  }
  if (member_count_ > 1 && prng_.chance(fault_ppm(options_.path_clog_ppm), ppm)) {
    const auto from = static_cast<uint32_t>(prng_.below(member_count_));
    auto to = static_cast<uint32_t>(prng_.below(member_count_ - 1));
    if (to >= from) to += 1;
    const uint64_t duration = prng_.range_inclusive(1, 2 * options_.clog_duration_ticks_mean);
    paths_[path_index(from, to)].clogged_until_tick = now + duration;
    trace_.record({now, TraceKind::clog, static_cast<uint8_t>(from), static_cast<uint8_t>(to), 0,
                   duration, 0});
  }
}

void Network::faults_off() {
  POOL_ASSERT(faults_on_, "faults stop once");
  faults_on_ = false;
  if (partition_active_) {
    partition_active_ = false;
    trace_.record({scheduler_.now_tick(), TraceKind::heal, network_process_id, 0, 0, 0, 0});
  }
  for (Path& path : paths_) path.clogged_until_tick = 0;
}

void Network::release_all() {
  parked_.clear();
  for (Path& path : paths_) {
    for (Packet& packet : path.packets) pool_->unref(packet.message);
    path.packets.clear();
  }
  POOL_ASSERT_EQ(pool_->used_count(), 0u);
}

}  // namespace sim
