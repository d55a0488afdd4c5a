// The packet simulator: every directed path between two processes is a queue of packets in
// flight, bounded by the path capacity. A sent message is copied into the network's own pool at
// once (the sender keeps or drops its own reference, as in the original). Faults: delay, loss,
// replay (duplicates), reordering, corruption (caught by the receiver's checksums), partitions
// that form and heal, and clogged paths that hold their packets.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "pool/message_pool.h"
#include "sim/core/prng.h"
#include "sim/core/scheduler.h"
#include "sim/core/trace.h"

namespace sim {

class MessageBus;

enum class PartitionMode : uint8_t { none, isolate_single, uniform_size, uniform_partition };
enum class PartitionSymmetry : uint8_t { symmetric, asymmetric };
const char* partition_mode_name(PartitionMode mode);
const char* partition_symmetry_name(PartitionSymmetry symmetry);

// The packet simulator's options (the original's PacketSimulatorOptions). Probabilities are parts
// per million (`_ppm`), durations ticks.
struct NetworkOptions {
  uint64_t path_capacity = 1;  // Packets in flight per directed path.
  uint64_t delay_ticks_min = 1;
  uint64_t delay_ticks_mean = 1;
  uint64_t packet_loss_ppm = 0;
  uint64_t packet_replay_ppm = 0;
  uint64_t packet_reorder_ppm = 0;  // A packet delayed by up to 4 × the mean.
  uint64_t packet_corrupt_ppm = 0;  // One byte flipped; the receiver's checksums catch it.
  PartitionMode partition_mode = PartitionMode::none;
  PartitionSymmetry partition_symmetry = PartitionSymmetry::symmetric;
  uint64_t partition_ppm = 0;    // Per tick, while the network is whole.
  uint64_t unpartition_ppm = 0;  // Per tick, while it is partitioned.
  uint64_t path_clog_ppm = 0;    // Per tick: one random path between replicas clogs.
  uint64_t clog_duration_ticks_mean = 1;
};

// Why the network dropped a packet (the trace's `a`).
enum class DropReason : uint8_t {
  loss,
  partition,
  path_full,
  receiver_down,
  receiver_busy,
  no_connection,
  send_queue_full,
  connection_closed  // The packet's tcp connection closed at the receiver before it arrived.
};

class Network {
 public:
  // What a receiver did with a packet: consumed it (kept a copy or dropped it), or is busy (a
  // tcp connection suspended or not yet accepted), in which case the packet waits on its path
  // until the receiver wakes its link, as a socket's kernel buffer holds what was not read.
  enum class Delivery : uint8_t { consumed, busy };
  using Deliver = std::function<Delivery(uint32_t from, uint32_t to, const pool::Message& packet)>;

  // Processes 0..member_count-1 are replicas and standbys, then the clients. `seed` is the run's:
  // the network draws from a stream of its own.
  Network(const NetworkOptions& options, uint64_t seed, const pool::Config& config,
          Scheduler& scheduler, Trace& trace, uint32_t member_count, uint32_t client_count);
  ~Network();

  // Packets to `process` go to its bus (the original's network.link(process, message_bus)).
  void link(uint32_t process, MessageBus& bus);
  // Packets to a process with no bus linked go here (tests that watch the wire).
  void set_unlinked_delivery(Deliver deliver) { unlinked_delivery_ = std::move(deliver); }
  // Called with the packets in flight after each change (a run's trace draws them).
  void set_use_observer(std::function<void(uint32_t used)> observer) {
    use_observer_ = std::move(observer);
  }

  // Copies `message` into a packet on path from → to; `link` names the tcp connection it was
  // written to (0 on the testing bus), and the receiver's bus gets it with the packet.
  void submit(uint32_t from, uint32_t to, const pool::Message& message, uint64_t link = 0);

  // TCP's handshake and teardown, for the tcp bus. A link is one connection between two buses.
  uint64_t link_new() { return link_next_++; }
  // The SYN from → to: the listening bus `to` takes the link into its backlog (`incoming`) after a
  // delay, and `from` learns the answer (`connect_done`) after the way back. A partition cuts the
  // SYN: no answer comes, and the connect fails after TCP's user timeout.
  void connect(uint32_t from, uint32_t to, uint64_t link);
  // The FIN (or a crashed process's reset) from → to: `to` learns after a delay (`link_closed`).
  // The receiver reads `link` again: the packets it held back are delivered anew, in order.
  void wake(uint64_t link);
  void link_close(uint32_t from, uint32_t to, uint64_t link);
  // True while the path holds its packets (a sender over tcp waits for it).
  bool clogged(uint32_t from, uint32_t to) const;
  uint64_t clogged_until_tick(uint32_t from, uint32_t to) const;

  // Per tick: partitions form and heal, paths clog.
  void tick();
  // Faults stop (the convergence phase): no loss, replay, reordering, corruption, partition or
  // clog. The options stay as given; faults_on() says whether they apply.
  void faults_off();
  bool faults_on() const { return faults_on_; }
  // Drops every packet in flight (teardown), so that the pool is full again.
  void release_all();

  pool::MessagePool& pool() { return *pool_; }
  Trace& trace() { return trace_; }
  // The most packets in flight at once.
  uint32_t pool_peak() const { return pool_peak_; }
  uint32_t process_count() const { return process_count_; }
  void record_drop(uint32_t from, uint32_t to, uint8_t command, DropReason reason);

 private:
  struct Packet {
    uint64_t id;
    uint64_t link;
    pool::Message* message;
  };
  struct Parked {
    uint32_t from;
    uint32_t to;
    uint64_t link;
    uint64_t id;
  };
  struct Path {
    std::vector<Packet> packets;
    uint64_t clogged_until_tick = 0;
    uint64_t link_due_tick_last = 0;  // The latest delivery of a tcp packet or close on it.
  };

  bool is_client(uint32_t process) const { return process >= member_count_; }
  size_t path_index(uint32_t from, uint32_t to) const { return size_t{from} * process_count_ + to; }
  uint64_t delay_ticks();
  void enqueue(uint32_t from, uint32_t to, uint64_t link, pool::Message* packet);
  void connect_arrive(uint32_t from, uint32_t to, uint64_t link);
  void link_close_arrive(uint32_t from, uint32_t to, uint64_t link);
  uint64_t link_due_tick(Path& path, uint64_t link);
  void deliver_event(uint32_t from, uint32_t to, uint64_t id);
  void remove_packet(Path& path, size_t index);
  bool partitioned(uint32_t from, uint32_t to) const;
  void partition_form();

  // The probability that applies now: the option while faults are on, else 0.
  uint64_t fault_ppm(uint64_t option_ppm) const { return faults_on_ ? option_ppm : 0; }

  const NetworkOptions options_;
  bool faults_on_ = true;
  const pool::Config config_;
  Scheduler& scheduler_;
  Trace& trace_;
  Prng prng_;
  const uint32_t member_count_;
  const uint32_t process_count_;
  std::unique_ptr<pool::MessagePool> pool_;
  std::function<void(uint32_t used)> use_observer_;
  std::vector<Path> paths_;
  uint64_t packet_id_next_ = 1;
  uint64_t link_next_ = 1;
  std::vector<Parked> parked_;  // Packets held back by their receiver, by when.
  uint32_t pool_peak_ = 0;
  Delivery deliver(uint32_t from, uint32_t to, uint64_t link, const pool::Message& packet);

  std::vector<MessageBus*> buses_;  // By process; null until linked.
  Deliver unlinked_delivery_;
  // Partition: side_[r] for each member; a path between sides is cut (one way if asymmetric).
  bool partition_active_ = false;
  std::vector<uint8_t> side_;
  uint64_t partition_changed_tick_ = 0;
};

// Paths between members, and both ways between each member and each client.
uint32_t network_path_count(uint32_t member_count, uint32_t client_count);

}  // namespace sim
