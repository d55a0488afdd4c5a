#include "sim/cli/perfetto_trace.h"

#include <algorithm>

#include "pool/assertion.h"
#include "sim/options.h"

namespace sim {
namespace {

constexpr uint64_t tick_us = 1000;  // One tick shows as one millisecond.
// Tracks within a process.
constexpr int tid_log = 1;     // Prepares, commits, checkpoints; a client's requests.
constexpr int tid_status = 2;  // Down, recovering; the network's clogs.
constexpr int tid_view = 3;    // View changes.
constexpr int tid_sync = 4;    // State sync and grid repair.

}  // namespace

absl::StatusOr<std::unique_ptr<PerfettoTrace>> PerfettoTrace::open(const std::string& path,
                                                                   const Owners& owners,
                                                                   uint64_t seed) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return absl::InvalidArgumentError("--trace-out=" + path + ": cannot open");
  std::fprintf(file,
               "{\"displayTimeUnit\": \"ms\", \"otherData\": {\"seed\": \"%llu\", "
               "\"time\": \"1 ms = 1 tick\"},\n\"traceEvents\": [\n",
               static_cast<unsigned long long>(seed));
  return std::unique_ptr<PerfettoTrace>(new PerfettoTrace(file, owners));
}

PerfettoTrace::PerfettoTrace(std::FILE* file, const Owners& owners) : file_(file) {
  POOL_ASSERT(!owners.empty() && owners.back().first == "network", "owners end with the network");
  pool_count_ = owners.size() - 1;
  for (const auto& owner : owners) member_count_ += owner.first.rfind("client", 0) != 0;
  member_count_ -= 1;  // The network.
  for (size_t process = 0; process < owners.size(); process++) {
    const int pid = static_cast<int>(process) + 1;
    write({{"ph", "M"},
           {"name", "process_name"},
           {"pid", pid},
           {"args", {{"name", owners[process].first}}}});
    write({{"ph", "M"},
           {"name", "process_labels"},
           {"pid", pid},
           {"args", {{"labels", "messages_max " + std::to_string(owners[process].second)}}}});
    write({{"ph", "M"},
           {"name", "process_sort_index"},
           {"pid", pid},
           {"args", {{"sort_index", pid}}}});
    const bool network = process == pool_count_;
    const bool client = !network && process >= member_count_;
    const std::vector<std::pair<int, const char*>> threads =
        network  ? std::vector<std::pair<int, const char*>>{{tid_log, "partitions"},
                                                            {tid_status, "clogs"}}
        : client ? std::vector<std::pair<int, const char*>>{{tid_log, "requests"}}
                 : std::vector<std::pair<int, const char*>>{{tid_log, "log"},
                                                            {tid_status, "status"},
                                                            {tid_view, "view changes"},
                                                            {tid_sync, "sync and repair"}};
    for (const auto& [tid, name] : threads) {
      write({{"ph", "M"},
             {"name", "thread_name"},
             {"pid", pid},
             {"tid", tid},
             {"args", {{"name", name}}}});
    }
    counter_add(pid, network ? "packets in flight" : "pool messages in use");
  }
}

size_t PerfettoTrace::counter_add(int pid, std::string name) {
  counters_.push_back(Counter{pid, std::move(name)});
  // Every counter starts at zero at time zero, so its track spans the whole run.
  write({{"ph", "C"},
         {"name", counters_.back().name},
         {"pid", pid},
         {"ts", 0},
         {"args", {{"value", 0}}}});
  counters_.back().last_written = 0;
  return counters_.size() - 1;
}

PerfettoTrace::~PerfettoTrace() {
  if (file_ != nullptr) std::fclose(file_);
}

int PerfettoTrace::pid_of(uint8_t process) const {
  return process == network_process_id ? static_cast<int>(pool_count_) + 1
                                       : static_cast<int>(process) + 1;
}

void PerfettoTrace::abandon() {
  if (file_ != nullptr) finish(tick_last_);
}

void PerfettoTrace::write(const nlohmann::json& event) {
  std::fprintf(file_, "%s%s", first_event_ ? "" : ",\n", event.dump().c_str());
  first_event_ = false;
}

void PerfettoTrace::instant(int pid, int tid, uint64_t tick, const std::string& name,
                            nlohmann::json args) {
  write({{"ph", "i"},
         {"s", "t"},
         {"name", name},
         {"pid", pid},
         {"tid", tid},
         {"ts", tick * tick_us},
         {"args", std::move(args)}});
}

void PerfettoTrace::slice_begin(int pid, int tid, uint64_t tick, const std::string& name,
                                nlohmann::json args) {
  slice_end(pid, tid, tick);
  open_slices_[{pid, tid}] = Slice{tick, name, std::move(args)};
}

void PerfettoTrace::slice_end(int pid, int tid, uint64_t tick) {
  const auto open = open_slices_.find({pid, tid});
  if (open == open_slices_.end()) return;
  const Slice& slice = open->second;
  // A slice within one tick still shows: a tenth of a tick.
  const uint64_t duration_us =
      std::max<uint64_t>((tick - slice.start_tick) * tick_us, tick_us / 10);
  write({{"ph", "X"},
         {"name", slice.name},
         {"pid", pid},
         {"tid", tid},
         {"ts", slice.start_tick * tick_us},
         {"dur", duration_us},
         {"args", slice.args}});
  open_slices_.erase(open);
}

void PerfettoTrace::record(const TraceRecord& record) {
  tick_last_ = std::max(tick_last_, record.tick);
  if (!record_replica(record)) record_workload(record);
}

// A replica's log, status, view change and sync events; false for any other kind.
bool PerfettoTrace::record_replica(const TraceRecord& record) {
  const int pid = pid_of(record.process);
  const uint64_t tick = record.tick;
  switch (record.kind) {
    case TraceKind::prepare:
      instant(pid, tid_log, tick, "prepare", {{"op", record.a}, {"client", record.b}});
      break;
    case TraceKind::commit:
      instant(pid, tid_log, tick, "commit", {{"op", record.a}});
      break;
    case TraceKind::checkpoint:
      instant(pid, tid_log, tick, record.b == 0 ? "checkpoint" : "checkpoint durable",
              {{"op", record.a}});
      break;
    case TraceKind::crash:
      for (int tid : {tid_view, tid_sync}) slice_end(pid, tid, tick);
      instant(pid, tid_status, tick, "crash", nlohmann::json::object());
      slice_begin(pid, tid_status, tick, "down", nlohmann::json::object());
      break;
    case TraceKind::restart:
      slice_begin(pid, tid_status, tick, "recovering", nlohmann::json::object());
      break;
    case TraceKind::recovered:
      slice_end(pid, tid_status, tick);
      instant(pid, tid_status, tick, "recovered", {{"op", record.a}, {"commit_min", record.b}});
      break;
    case TraceKind::view_change: {
      const auto open = open_slices_.find({pid, tid_view});
      if (open == open_slices_.end()) {
        slice_begin(pid, tid_view, tick, "view change",
                    {{"from_view", record.b}, {"to_view", record.a}});
      } else {
        open->second.args["to_view"] = record.a;  // A stalled change moved on to the next view.
      }
      break;
    }
    case TraceKind::view_log_chosen:
      instant(pid, tid_view, tick, "log chosen", {{"op", record.a}, {"commit_max", record.b}});
      break;
    case TraceKind::view_truncate:
      instant(pid, tid_view, tick, "truncate", {{"from_op", record.a}, {"op", record.b}});
      break;
    case TraceKind::view_start:
      slice_end(pid, tid_view, tick);
      instant(pid, tid_view, tick, "normal", {{"view", record.a}, {"op", record.b}});
      break;
    case TraceKind::sync_start:
      slice_begin(pid, tid_sync, tick, "sync",
                  {{"checkpoint_op", record.a}, {"from_commit", record.b}});
      break;
    case TraceKind::sync_done:
      slice_end(pid, tid_sync, tick);
      break;
    case TraceKind::block_repaired:
      instant(pid, tid_sync, tick, "block repaired", {{"blocks_missing", record.a}});
      break;
    default:
      return false;
  }
  return true;
}

// The clients' requests and the network's partitions, clogs and end of faults. Packets and IO
// are left to the counters.
void PerfettoTrace::record_workload(const TraceRecord& record) {
  const int pid = pid_of(record.process);
  const uint64_t tick = record.tick;
  switch (record.kind) {
    case TraceKind::request: {
      const auto open = open_slices_.find({pid, tid_log});
      if (record.b == 0 || open == open_slices_.end()) {
        slice_begin(pid, tid_log, tick, "request", {{"request", record.a}});
      } else {
        instant(pid, tid_log, tick, "resend", {{"request", record.a}, {"attempt", record.b}});
      }
      break;
    }
    case TraceKind::reply: {
      const auto open = open_slices_.find({pid, tid_log});
      if (open != open_slices_.end()) open->second.args["op"] = record.b;
      slice_end(pid, tid_log, tick);
      break;
    }
    case TraceKind::partition:
      slice_begin(pid, tid_log, tick, "partition",
                  {{"mode", partition_mode_name(static_cast<PartitionMode>(record.a))},
                   {"one_side", record.b}});
      break;
    case TraceKind::heal:
      slice_end(pid, tid_log, tick);
      break;
    case TraceKind::clog:  // On the network's track: the path is the network's.
      instant(pid_of(network_process_id), tid_status, tick, "clog",
              {{"from", record.process}, {"to", record.peer}, {"ticks", record.a}});
      break;
    case TraceKind::faults_off:
      instant(pid, tid_log, tick, "faults off", nlohmann::json::object());
      break;
    default:
      break;
  }
}

void PerfettoTrace::counter_set(size_t counter, uint32_t value) {
  Counter& state = counters_[counter];
  if (!state.dirty && state.value == value) return;
  if (!state.dirty) {
    state.dirty = true;
    state.tick_max = value;
    dirty_.push_back(counter);
  }
  state.value = value;
  state.tick_max = std::max(state.tick_max, value);
}

void PerfettoTrace::counters_flush() {
  std::sort(dirty_.begin(), dirty_.end());  // The same file for the same run.
  for (size_t counter : dirty_) {
    Counter& state = counters_[counter];
    if (state.tick_max != state.last_written) {
      write({{"ph", "C"},
             {"name", state.name},
             {"pid", state.pid},
             {"ts", tick_ * tick_us},
             {"args", {{"value", state.tick_max}}}});
    }
    if (state.value != state.tick_max) {
      write({{"ph", "C"},
             {"name", state.name},
             {"pid", state.pid},
             {"ts", tick_ * tick_us + tick_us / 2},
             {"args", {{"value", state.value}}}});
    }
    state.last_written = state.value;
    state.dirty = false;
  }
  dirty_.clear();
}

void PerfettoTrace::occupancy(uint64_t tick, uint8_t process, uint32_t used, const Census* census) {
  if (tick != tick_) {
    counters_flush();
    tick_ = tick;
  }
  tick_last_ = std::max(tick_last_, tick);
  const int pid = pid_of(process);
  counter_set(static_cast<size_t>(pid - 1), used);
  if (census == nullptr) return;
  for (size_t i = 0; i < pool::term_count; i++) {
    const auto term = static_cast<pool::Term>(i);
    if (census->bound(term)) term_counters_set(pid, *census, term);
  }
  // Each new pool peak, with the holders alive at it (distinct messages, by primary holder).
  if (uint32_t& marked = pool_peaks_[pid]; census->pool_peak() > marked) {
    marked = census->pool_peak();
    instant(pid, tid_status, tick, "pool peak",
            {{"messages", marked}, {"holders", census->census_at_peak()}});
  }
}

void PerfettoTrace::term_counters_set(int pid, const Census& census, pool::Term term) {
  auto [entry, added] = term_counters_.try_emplace({pid, term}, 0, 0);
  if (added) {
    const std::string name = "term " + std::string(pool::term_name(term));
    entry->second = {counter_add(pid, name), counter_add(pid, name + " distinct")};
  }
  counter_set(entry->second.first, census.held(term));
  counter_set(entry->second.second, census.distinct(term));
}

bool PerfettoTrace::finish(uint64_t tick) {
  if (file_ == nullptr) return false;
  counters_flush();
  while (!open_slices_.empty()) {
    const auto [pid, tid] = open_slices_.begin()->first;
    slice_end(pid, tid, tick);
  }
  std::fprintf(file_, "\n]}\n");
  const bool written = std::ferror(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  return written && closed;
}

}  // namespace sim
